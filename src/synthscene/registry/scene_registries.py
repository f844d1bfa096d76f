"""Extension points for scene randomizers: placements, camera samplers and scene hooks.

Three registries (:class:`~synthscene.registry.randomizers.Registry`, as for textures and effects)
map the names a scenario uses to functions. Built-ins and plug-ins are registered alike, with
:func:`register_placement`, :func:`register_camera_sampler` and :func:`register_scene_hook`
(re-exported by :mod:`synthscene.plugins`); :mod:`synthscene.randomize.builtins` registers the
built-ins from one table:

- :data:`PLACEMENTS`: ``objects.placement: {name: NAME, PARAM: value, ...}`` chooses the labelled
  objects (count, assets, sizes, materials) and their poses before physics, drawing from a
  :class:`~synthscene.randomize.object_pool.ObjectPool`; the built-in ``drop``
  (:func:`synthscene.randomize.scene.drop`) is the default; ``stable``
  (:mod:`synthscene.randomize.stable`) stands objects at rest on support surfaces;
- :data:`CAMERA_SAMPLERS`: ``camera.sampler: NAME`` or ``{name: NAME, ...}`` draws the camera's
  pose; roll and intrinsics are then drawn as the camera section says; built-ins ``shell``,
  ``top_down``, ``fixed`` (:mod:`synthscene.randomize.camera`);
- :data:`SCENE_HOOKS`: ``hooks: [{name: NAME, stage: after_sampling | after_physics, ...}]``
  turn a frame's :class:`~synthscene.core.state.SceneState` into a new one
  (:func:`synthscene.randomize.scene_hooks.run_hooks` applies them).

Every function draws only from the ``rng`` it is given, so a frame stays a function of
``(seed, frame index)``. Names are resolved when a scenario is validated: the field adapters
(:data:`PlacementField`, :data:`CameraSamplerField`, :data:`HooksField`) and :func:`default` look
them up then, not when a module is imported.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

import numpy as np
from pydantic import PlainSerializer, PlainValidator

from synthscene.errors import ConfigError
from synthscene.registry.params import RandomizerParams
from synthscene.registry.randomizers import Randomizer, Registry
from synthscene.registry.validation_errors import FieldValueError, as_value_error

__all__ = ["CAMERA_SAMPLERS", "HOOK_STAGES", "PLACEMENTS", "SCENE_HOOKS", "CameraSamplerField",
           "Configured", "HooksField", "PlacementField", "configured", "default",
           "register_camera_sampler", "register_placement", "register_scene_hook"]

PLACEMENTS = Registry("placement")
"""Object placements by name."""
CAMERA_SAMPLERS = Registry("camera sampler")
"""Camera pose samplers by name."""
SCENE_HOOKS = Registry("scene hook")
"""Scene hooks by name."""

HOOK_STAGES = ("after_sampling", "after_physics")
"""When a hook runs: on the sampled scene before physics, or on the finished frame (after
physics, the camera redraws and the floating distractors) just before rendering."""


def register_placement(name: str, fn: Callable[..., Sequence[Any]], *,
                       params: type[RandomizerParams] | None = None, summary: str = "",
                       example: Mapping[str, Any] | None = None) -> Randomizer:
    """Register an object placement, usable as ``objects: {placement: {name: NAME, ...}}``.

    Parameters
    ----------
    name : str
    fn : callable
        ``fn(objects, *, rng, region, **params) -> sequence of SceneObject``: ``objects`` is an
        :class:`~synthscene.randomize.object_pool.ObjectPool` (the scenario's ``objects``
        section and asset library: it draws the count, assets, sizes and materials as the
        section says), ``region`` the section's ``drop_region`` (a box with ``x_m``, ``y_m``,
        ``z_m`` as ``(min, max)`` metres). It returns the labelled objects with their poses
        before physics (made with :meth:`~synthscene.randomize.object_pool.ObjectPool.make`);
        instance ids are set to 1..N in the order returned.
    params : type[RandomizerParams], optional
        Its parameter model; none if omitted.
    summary : str, optional
        One line for the documentation (default: the first line of ``fn``'s docstring).
    example : mapping, optional
        Example parameters for the documentation (without ``name``).

    Returns
    -------
    Randomizer

    Raises
    ------
    ValueError
        If the name is taken or not an identifier, or ``params`` is not a
        :class:`RandomizerParams`.
    """
    return PLACEMENTS.register(name, fn, params=params, summary=summary, example=example)


def register_camera_sampler(name: str, fn: Callable[..., np.ndarray], *,
                            params: type[RandomizerParams] | None = None, summary: str = "",
                            example: Mapping[str, Any] | None = None) -> Randomizer:
    """Register a camera pose sampler, usable as ``camera: {sampler: {name: NAME, ...}}``.

    Parameters
    ----------
    name : str
    fn : callable
        ``fn(camera, *, rng, frame, **params) -> (4, 4) float64 world_from_camera`` (OpenCV
        camera frame: x right, y down, z forward; metres): ``camera`` is the scenario's camera
        section (its ``look_at`` box and so on), ``frame`` the frame index (for a camera that
        follows a path). ``roll_deg`` and the intrinsics are drawn afterwards, as for the
        built-in samplers.
    params, summary, example
        As for :func:`register_placement`.

    Returns
    -------
    Randomizer

    Raises
    ------
    ValueError
        As :func:`register_placement`.
    """
    return CAMERA_SAMPLERS.register(name, fn, params=params, summary=summary, example=example)


def register_scene_hook(name: str, fn: Callable[..., Any], *,
                        params: type[RandomizerParams] | None = None, summary: str = "",
                        example: Mapping[str, Any] | None = None) -> Randomizer:
    """Register a scene hook, usable as ``hooks: [{name: NAME, stage: STAGE, ...}]``.

    Parameters
    ----------
    name : str
    fn : callable
        ``fn(state, *, rng, **params) -> SceneState``: gets the frame's frozen
        :class:`~synthscene.core.state.SceneState` and returns a new one (``dataclasses.replace``),
        at the hook's ``stage`` (:data:`HOOK_STAGES`; default ``after_sampling``). Objects
        should keep unique instance ids >= 1.
    params, summary, example
        As for :func:`register_placement`.

    Returns
    -------
    Randomizer

    Raises
    ------
    ValueError
        As :func:`register_placement`.
    """
    return SCENE_HOOKS.register(name, fn, params=params, summary=summary, example=example)


# --------------------------------------------------------------------------------------------
# Configured randomizers and the scenario fields that hold them
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Configured:
    """A placement, camera sampler or hook with validated parameters.

    Attributes
    ----------
    randomizer : Randomizer
    params : RandomizerParams
    stage : str or None
        A hook's stage (:data:`HOOK_STAGES`); None for the others.
    """

    randomizer: Randomizer
    params: RandomizerParams
    stage: str | None = None

    @property
    def name(self) -> str:
        """The registry name."""
        return self.randomizer.name

    def __call__(self, *args: Any, rng: np.random.Generator, **kwargs: Any) -> Any:
        """Draw the parameters (in field order), then call the function with them as
        keywords; a plug-in's exception becomes a :class:`PluginError` naming it."""
        drawn = self.params.draw(rng=rng)
        return self.randomizer.call(*args, rng=rng, **kwargs, **drawn)


def configured(registry: Registry, raw: Any, *, source: str, field: str,
               extra: Sequence[str] = ()) -> tuple[Configured, dict[str, Any]]:
    """Validate ``NAME`` or ``{name: NAME, PARAM: value, ...}`` against ``registry``.

    Parameters
    ----------
    registry : Registry
    raw : str or mapping
    source, field : str
        For messages.
    extra : sequence of str
        Keys taken out before the parameters are validated (a hook's ``stage``).

    Returns
    -------
    Configured, dict
        The configured randomizer (``stage`` unset) and the ``extra`` keys found.

    Raises
    ------
    ConfigError
        For an unknown name (listing the registered ones and the loaded plug-ins) or
        parameter, or a value out of range.
    """
    if isinstance(raw, str):
        raw = {"name": raw}
    if not isinstance(raw, Mapping) or "name" not in raw:
        raise ConfigError(source, field, f"a {registry.what} is NAME or {{name: NAME, ...}} with "
                                         f"NAME one of {', '.join(registry)}, got {raw!r}")
    name = raw["name"]
    entry = registry.lookup(name, source=source, field=f"{field}.name" if field else "name")
    found = {k: raw[k] for k in extra if k in raw}
    params = {k: v for k, v in raw.items() if k != "name" and k not in extra}
    return Configured(entry, registry.configure(name, params, source=source, field=field)), found


def _validator(registry: Registry) -> Callable[[Any], Configured]:
    def validate(value: Any) -> Configured:
        if isinstance(value, Configured):
            return value
        try:
            return configured(registry, value, source="", field="")[0]
        except ConfigError as exc:
            raise as_value_error(exc) from None

    return validate


def _json(value: Configured) -> dict[str, Any]:
    """JSON form (``model_dump(mode="json")``): the name, the stage, the parameters."""
    out: dict[str, Any] = {"name": value.name}
    if value.stage is not None:
        out["stage"] = value.stage
    return {**out, **value.params.model_dump(mode="json")}


def _hooks_validator(value: Any) -> list[Configured]:
    if isinstance(value, list) and all(isinstance(v, Configured) for v in value):
        return value
    if value is None:
        return []
    if not isinstance(value, (list, tuple)):
        raise ValueError(f"hooks must be a list of {{name: HOOK, stage: STAGE, ...}}, got "
                         f"{value!r}")
    out = []
    for i, item in enumerate(value):
        try:
            hook, found = configured(SCENE_HOOKS, item, source="", field=f"[{i}]",
                                     extra=("stage",))
        except ConfigError as exc:
            raise as_value_error(exc) from None
        stage = found.get("stage", HOOK_STAGES[0])
        if stage not in HOOK_STAGES:
            raise FieldValueError(f"[{i}].stage", f"must be one of {', '.join(HOOK_STAGES)}, "
                                                  f"got {stage!r}")
        out.append(dataclasses.replace(hook, stage=stage))
    return out


PlacementField = Annotated[Configured, PlainValidator(_validator(PLACEMENTS)),
                           PlainSerializer(_json)]
"""Annotation of ``objects.placement``."""
CameraSamplerField = Annotated[Configured, PlainValidator(_validator(CAMERA_SAMPLERS)),
                               PlainSerializer(_json)]
"""Annotation of ``camera.sampler``."""
HooksField = Annotated[list[Configured], PlainValidator(_hooks_validator),
                       PlainSerializer(lambda hooks: [_json(h) for h in hooks])]
"""Annotation of ``hooks``."""


def default(registry: Registry, name: str) -> Callable[[], Configured]:
    """A ``default_factory`` giving built-in ``name`` with its default parameters."""
    return lambda: configured(registry, name, source="", field="")[0]
