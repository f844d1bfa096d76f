"""The safety limits of a scenario: who may raise them, and the checks they make.

The limits (:class:`~synthscene.config.schema.LimitsSpec`: ``max_objects``, ``max_lights``,
``max_mesh_triangles``, ``max_steps_between_frames``, ``max_loaded_assets``,
``max_loaded_mib``) keep a scenario from exhausting the machine or running for days. Their
defaults are the ceiling for a scenario file, which may come from someone else: its ``limits:``
section may only *lower* a limit. A limit above its default comes from whoever runs the
scenario:

- the command line: ``synthscene generate scene.yaml --limit max_objects=5000`` (repeatable, on
  ``generate`` and ``preview``), parsed by :func:`parse_limit_options`;
- Python: ``load_scenario(path, limits={"max_objects": 5000})`` (or ``scenario_from_dict``),
  checked by :func:`limit_ceiling`.

:func:`apply_limits` puts the limits that hold into the validated scenario (its
``spec.limits``), so every stage reads them there; :func:`check_limits` checks the counts of a
frame and the physics steps between the frames of a sequence against them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from synthscene.config.fields import DEFAULT_TIMESTEP_S
from synthscene.config.lighting import SKY_SOURCE
from synthscene.config.schema import LimitsSpec, ScenarioSpec
from synthscene.errors import ConfigError, OptionError
from synthscene.registry.distributions import Distribution

__all__ = ["LIMIT_DEFAULTS", "apply_limits", "check_limits", "limit_ceiling",
           "parse_limit_options"]

LIMIT_DEFAULTS: Mapping[str, int] = {
    name: int(field.default) for name, field in LimitsSpec.model_fields.items()}
"""Each limit's default, by name: the most a scenario file may set."""

_ALLOWED = ", ".join(LIMIT_DEFAULTS)


def how_to_raise(name: str, value: int | str = "N") -> str:
    """The phrase that tells how to raise limit ``name`` (for error messages)."""
    return (f"raise it with --limit {name}={value} on the command line "
            f"(limits={{'{name}': {value}}} of load_scenario from Python)")


def _limit_value(option: str, name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise OptionError(option, "", f"{name} must be an integer >= 1, got {value!r}")
    return value


def _known(option: str, name: Any) -> str:
    if name not in LIMIT_DEFAULTS:
        raise OptionError(option, "", f"unknown limit {name!r}; limits: {_ALLOWED}")
    return name


def limit_ceiling(limits: Mapping[str, int] | None = None, *,
                  option: str = "limits") -> dict[str, int]:
    """The most a scenario may ask for: :data:`LIMIT_DEFAULTS` with ``limits`` (given by whoever
    runs it) in place of the defaults it names.

    Parameters
    ----------
    limits : mapping of str to int, optional
        Limit name to value (>= 1); higher or lower than the default.
    option : str
        The argument's name, for error messages (``"--limit"`` from the command line).

    Returns
    -------
    dict of str to int
        Every limit's value.

    Raises
    ------
    OptionError
        If ``limits`` is not a mapping, names an unknown limit (the message lists the limits) or
        gives a value that is not an integer >= 1.
    """
    ceiling = dict(LIMIT_DEFAULTS)
    if limits is None:
        return ceiling
    if not isinstance(limits, Mapping):
        raise OptionError(option, "", f"must be a mapping of limit name to value (limits: "
                                      f"{_ALLOWED}), got {type(limits).__name__}")
    for name, value in limits.items():
        ceiling[_known(option, name)] = _limit_value(option, name, value)
    return ceiling


def parse_limit_options(values: Iterable[str], *, option: str = "--limit") -> dict[str, int]:
    """Parse command-line limits: each ``NAME=VALUE`` (``max_objects=5000``).

    Parameters
    ----------
    values : iterable of str
    option : str
        The option, for error messages.

    Returns
    -------
    dict of str to int
        For :func:`limit_ceiling`.

    Raises
    ------
    OptionError
        For a value that is not ``NAME=VALUE``, an unknown name (listing the limits), a value
        that is not an integer >= 1, or a name given twice.
    """
    out: dict[str, int] = {}
    for text in values:
        name, sep, raw = str(text).partition("=")
        name, raw = name.strip(), raw.strip()
        if not sep or not name:
            raise OptionError(option, "", f"{text!r} is not NAME=VALUE (e.g. max_objects=5000); "
                                          f"limits: {_ALLOWED}")
        _known(option, name)
        if name in out:
            raise OptionError(option, "", f"{name} is given twice")
        try:
            value = int(raw.replace("_", ""))
        except ValueError:
            raise OptionError(option, "", f"{name} must be an integer >= 1, got {raw!r}") from None
        out[name] = _limit_value(option, name, value)
    return out


def apply_limits(spec: ScenarioSpec, ceiling: Mapping[str, int], source: str) -> ScenarioSpec:
    """``spec`` with the limits that hold: each limit its ``limits:`` section gives (at most
    ``ceiling``'s), else ``ceiling``'s.

    Raises
    ------
    ConfigError
        Naming ``limits.NAME`` if the file gives a limit above ``ceiling``: a scenario file may
        only lower a limit.
    """
    given = spec.limits
    held = dict(ceiling)
    for name in given.model_fields_set:
        value = getattr(given, name)
        if value > ceiling[name]:
            default = " (its default)" if ceiling[name] == LIMIT_DEFAULTS[name] else ""
            raise ConfigError(source, f"limits.{name}",
                              f"{value} is more than {ceiling[name]}{default}: a scenario file "
                              f"may only lower a limit; {how_to_raise(name, value)}")
        held[name] = value
    return spec.model_copy(update={"limits": LimitsSpec.model_validate(held)})


def _most(dist: Distribution) -> int:
    """The largest value a count distribution draws."""
    return int(dist.support()[1])


def check_limits(spec: ScenarioSpec, source: str) -> None:
    """Check the counts of a frame and the steps between the frames of a sequence against
    ``spec.limits`` (the limits that hold, from :func:`apply_limits`).

    Raises
    ------
    ConfigError
        Naming the field and the limit (and how to raise it).
    """
    limits = spec.limits
    objects, distractors = _most(spec.objects.count), _most(spec.distractors.count)
    if objects + distractors > limits.max_objects:
        field = "objects.count" if objects > limits.max_objects or not distractors \
            else "distractors.count"
        raise ConfigError(source, field, f"up to {objects} objects and {distractors} "
                                         f"distractors per frame is more than "
                                         f"limits.max_objects ({limits.max_objects}); lower the "
                                         f"count or {how_to_raise('max_objects')}")
    lights = _most(spec.lights.count)
    environment = spec.lights.environment
    if (environment is not None and environment.images == SKY_SOURCE
            and environment.sky.sun_intensity.support()[1] > 0):
        lights += 1  # the procedural sky's sun
    if lights > limits.max_lights:
        raise ConfigError(source, "lights.count", f"up to {lights} lights per frame is more "
                                                  f"than limits.max_lights ({limits.max_lights}); "
                                                  f"lower the count or "
                                                  f"{how_to_raise('max_lights')}")
    _check_sequence_steps(spec, source)


def _check_sequence_steps(spec: ScenarioSpec, source: str) -> None:
    """A sequence's ``fps`` must leave at least one physics step, and at most
    ``limits.max_steps_between_frames``, from one frame to the next."""
    if spec.sequence is None or not spec.physics.enabled:
        return
    timestep = spec.physics.timestep_s or DEFAULT_TIMESTEP_S
    fps, most = spec.sequence.fps, spec.limits.max_steps_between_frames
    steps = 1.0 / (fps * timestep)
    fastest, slowest = 1.0 / timestep, 1.0 / (timestep * most)
    allowed = (f"give fps from {slowest:.6g} to {fastest:.6g} (with physics.timestep_s "
               f"{timestep:.6g} s)")
    if steps < 1.0 - 1e-9:
        raise ConfigError(source, "sequence.fps",
                          f"{fps:g} frames per second is more than one frame per physics step "
                          f"(1 / physics.timestep_s), so objects would not move between frames; "
                          f"{allowed}, or lower physics.timestep_s")
    if steps > most * (1.0 + 1e-9) or not math.isfinite(steps):
        raise ConfigError(source, "sequence.fps",
                          f"{fps:g} frames per second needs {steps:.3g} physics steps from one "
                          f"frame to the next, more than limits.max_steps_between_frames "
                          f"({most}); {allowed}, or {how_to_raise('max_steps_between_frames')}")
