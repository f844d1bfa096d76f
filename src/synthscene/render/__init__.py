"""Rendering: the one package that touches pyrender and OpenGL.

- :mod:`~synthscene.render.platform`: the choice of the offscreen GL platform (EGL).
- :mod:`~synthscene.render.renderer`: :class:`~synthscene.render.renderer.Renderer`, a
  :class:`~synthscene.core.state.SceneState` to a :class:`~synthscene.core.state.RenderOutput`.
- :mod:`~synthscene.render.colour_pass`: the colour pass.

Importing this package imports no GL; its modules choose the platform before OpenGL is loaded.
"""
