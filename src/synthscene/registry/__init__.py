"""The extension machinery, at the bottom of the layers: it imports nothing of ours but errors.

- :mod:`~synthscene.registry.distributions`: the distribution syntax of scenario YAML;
- :mod:`~synthscene.registry.params`: :class:`DistRange`, :func:`dist_field`, the parameter
  models' bases :class:`RandomizerParams` and :class:`EffectParams`;
- :mod:`~synthscene.registry.randomizers`: :class:`Randomizer` and :class:`Registry`;
- :mod:`~synthscene.registry.texture_registry`, :mod:`~synthscene.registry.effect_registry`,
  :mod:`~synthscene.registry.scene_registries`: the five registries (``TEXTURES``, ``EFFECTS``,
  ``PLACEMENTS``, ``CAMERA_SAMPLERS``, ``SCENE_HOOKS``), their ``register_*`` functions and the
  pydantic field adapters the scenario schema uses;
- :mod:`~synthscene.registry.entry_points` (the built-ins and installed plug-ins) and
  :mod:`~synthscene.registry.plugin_loader` (the plug-ins a user names).

Implementations register themselves (:mod:`synthscene.randomize.builtins`); the scenario schema
names them only through these registries. The plug-in API is :mod:`synthscene.plugins`.
"""
