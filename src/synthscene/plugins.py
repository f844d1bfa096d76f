"""Plug-ins: your own randomizers, named in a scenario exactly like the built-in ones.

One registry per extension point; synthscene's own randomizers are registered with these same
functions, from one table (``synthscene/randomize/builtins.py``):

- :func:`register_effect`: ``fn(rgb, *, rng, **params) -> rgb``, used as
  ``effects: [{name: rain, drops: 200}]``;
- :func:`register_texture`: ``fn(*, rng, size, **params) -> (h, w, 3) uint8``, used as
  ``texture: {kinds: [NAME], NAME: {...}}``;
- :func:`register_placement`: ``fn(objects, *, rng, region, **params) -> [SceneObject]``, used
  as ``objects: {placement: {name: shelf, levels: 3}}``;
- :func:`register_camera_sampler`: ``fn(camera, *, rng, frame, **params) -> (4, 4) pose``, used
  as ``camera: {sampler: {name: orbit}}``;
- :func:`register_scene_hook`: ``fn(state, *, rng, **params) -> SceneState``, used as
  ``hooks: [{name: belt, stage: after_sampling}]``.

``params`` is a pydantic model deriving from :class:`Params` (:class:`EffectParams` for effects)
whose fields use :func:`dist_field`, so every parameter takes the distribution syntax and is
checked when the scenario is read, with the same one-line errors as the built-ins'. Each frame,
the parameters are drawn and passed to ``fn`` as keywords; an angle declared
``angle_rad: dist_field(unit="deg") = Field(0.0, alias="angle_deg")`` arrives in radians (a field
named ``..._deg`` without a unit arrives as ``..._rad``).

A function must draw only from the ``rng`` it is given: frame ``i`` of seed ``s`` then stays a
function of ``(s, i)``, and a dataset is byte-identical whatever the number of workers and
after ``--resume``. An exception raised by a plug-in stops the run with one line naming the
plug-in, the frame and the error.

**Loading.** A scenario file never imports code. Plug-ins are modules (or ``.py`` files) named
by the person running the command: ``synthscene generate scene.yaml --plugin mypkg.randomizers``
(repeatable), :func:`load_plugins` (or ``synthscene.generate(..., plugins=[...])``), or
installed packages that declare the entry-point group ``synthscene.plugins``
(:data:`ENTRY_POINT_GROUP`), loaded the first time a scenario names something that is not
built in (not before: a broken installed plug-in stops only the runs that need one).
Every worker process (local or Ray) loads the same plug-ins before its first frame. A run's
manifest records each plug-in's module, version and source hash; ``--resume`` with different
plug-in code is refused, naming the plug-in.
"""


from __future__ import annotations

from pydantic import Field

from synthscene.core.state import Camera, Light, Material, SceneObject, SceneState
from synthscene.randomize.object_pool import ObjectPool
from synthscene.registry.effect_registry import EFFECTS, register_effect
from synthscene.registry.entry_points import (
    ENTRY_POINT_GROUP,
    PluginInfo,
    load_entry_points,
    loaded_hint,
    loaded_plugins,
)
from synthscene.registry.params import EffectParams, dist_field
from synthscene.registry.params import RandomizerParams as Params
from synthscene.registry.plugin_loader import (
    REGISTRIES,
    load_plugin,
    load_plugins,
    plugins_of,
    unload_plugin,
)
from synthscene.registry.scene_registries import (
    CAMERA_SAMPLERS,
    HOOK_STAGES,
    PLACEMENTS,
    SCENE_HOOKS,
    register_camera_sampler,
    register_placement,
    register_scene_hook,
)
from synthscene.registry.texture_registry import TEXTURES, register_texture

__all__ = ["CAMERA_SAMPLERS", "EFFECTS", "ENTRY_POINT_GROUP", "HOOK_STAGES", "PLACEMENTS",
           "REGISTRIES", "SCENE_HOOKS", "TEXTURES", "Camera", "EffectParams", "Field", "Light",
           "Material", "ObjectPool", "Params", "PluginInfo", "SceneObject", "SceneState",
           "dist_field", "load_entry_points", "load_plugin", "load_plugins", "loaded_hint",
           "loaded_plugins", "plugins_of", "register_camera_sampler", "register_effect",
           "register_placement", "register_scene_hook", "register_texture", "unload_plugin"]
