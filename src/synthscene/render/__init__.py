"""Rendering: the one package that touches pyrender and OpenGL (through their public APIs).

- :mod:`~synthscene.render.platform`: the choice of the offscreen GL platform (EGL) and the GL
  context (:class:`~synthscene.render.platform.GLContext`, through ``pyrender.platforms``).
- :mod:`~synthscene.render.renderer`: :class:`~synthscene.render.renderer.Renderer`, a
  :class:`~synthscene.core.state.SceneState` to a :class:`~synthscene.core.state.RenderOutput`.
- :mod:`~synthscene.render.color_pass`: the colour pass (pyrender's shaders, our loop).
- :mod:`~synthscene.render.label_pass`: the separate instance-id / depth / normals pass.
- :mod:`~synthscene.render.shadow_maps`: the shadow maps' depth passes;
  :mod:`~synthscene.render.shadow_fit`: where each light's map looks (pure numpy).
- :mod:`~synthscene.render.amodal`: the amodal atlas pass.
- :mod:`~synthscene.render.looks`: pyrender's data classes for what a frame draws.
- :mod:`~synthscene.render.gl`: our GL objects (framebuffers, vertex arrays, textures, programs).
- ``render/shaders/*.glsl``: the shaders (pyrender's, with its MIT licence, and our own).

Importing this package imports no GL; its modules choose the platform before OpenGL is loaded.
"""
