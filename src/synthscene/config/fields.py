"""The field types of a scenario's sections and their base model.

Every distribution-valued field declares the range of its draws with a
:class:`~synthscene.registry.params.DistRange` (the one range checker, shared with the
randomizers' parameters); lengths are metres within :data:`LENGTH_LIMIT_M`; an angle field's YAML
key ends in ``_deg`` (degrees), its name in ``_rad`` (radians, see :func:`yaml_name`).
:mod:`synthscene.config.schema` and :mod:`synthscene.config.sensors` build the sections from
these.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainValidator, ValidationInfo

from synthscene.registry.distributions import Constant, Distribution
from synthscene.registry.params import DistRange, dist_field

LIGHT_KINDS = ("directional", "point", "spot")
ASSET_APPEARANCES = ("randomize", "keep", "jitter")


LENGTH_LIMIT_M = 1000.0
"""Largest length or coordinate a scenario may give, metres (sizes, distances, positions)."""
MAX_PHYSICS_STEPS = 100_000
"""Most pybullet steps a frame may settle for (``physics.max_steps``)."""
MAX_OBJECTS = 1000
"""Default of ``limits.max_objects``: most labelled objects plus distractors a frame may have."""
MAX_LIGHTS = 16
"""Default of ``limits.max_lights``: most lights a frame may have."""
OnError = Literal["skip", "fail"]
"""What a run does with an asset that cannot be loaded (``assets[i].on_error``): leave it out of
the library, or stop before the first frame."""
MAX_MESH_TRIANGLES = 1_000_000
"""Default of ``limits.max_mesh_triangles``: the triangle budget of one asset's mesh."""
MAX_LOADED_ASSETS = 100_000
"""Default of ``limits.max_loaded_assets``: most assets a worker holds loaded, with their GL
uploads; so high that ``limits.max_loaded_mib`` binds first (docs/assets.md, "Memory")."""
MAX_LOADED_MIB = 1024
"""Default of ``limits.max_loaded_mib``: most memory (MiB) a worker's loaded assets take, with
their GL uploads, by their bytes (:mod:`synthscene.assets.footprint`)."""
SHELF_BOARDS = (2, 12)
"""Fewest and most boards of a ``primitive:shelf-N`` fixture (``boards``); ``shelf`` has 4."""
DEFAULT_TIMESTEP_S = 1 / 120
"""pybullet's step, seconds, when ``physics.timestep_s`` is left out (the default of
:class:`synthscene.physics.settings.PhysicsSettings`)."""
MAX_STEPS_BETWEEN_FRAMES = 10_000
"""Default of ``limits.max_steps_between_frames``: most pybullet steps from one frame of a
sequence to the next (``1 / (sequence.fps * physics.timestep_s)``)."""

# Every distribution-valued field declares the range of its draws with a DistRange (the one
# range checker, shared with the randomizers' parameters); an angle field's YAML key ends in _deg
# (degrees), its name in _rad (radians, see yaml_name).
Dist = dist_field()
AngleDist = dist_field(unit="deg")
AngularSpeedDist = dist_field(unit="deg/s")
ElevationDist = dist_field(low=-90, high=90, unit="deg")
PositiveDist = dist_field(low=0, low_exclusive=True)
FactorDist = dist_field(low=0, high=100, low_exclusive=True)
IntensityDist = dist_field(low=0, high=1e5)
UnitDist = dist_field(low=0, high=1)
ColorDist = dist_field(low=0, high=1, length=3)
KelvinDist = dist_field(low=1667, high=25000)
LightKindDist = dist_field(options=LIGHT_KINDS)
AppearanceDist = dist_field(options=ASSET_APPEARANCES)
TRAJECTORIES = ("static", "linear", "orbit", "handheld")
TrajectoryKindDist = dist_field(options=TRAJECTORIES)
NonNegativeDist = dist_field(low=0)
Vector3Dist = dist_field(length=3, broadcast=False)
AngularVelocityDist = dist_field(length=3, broadcast=False, unit="deg/s")
_COUNT_RANGE = DistRange(low=0, integer=True)


def _count(value: Any, info: ValidationInfo) -> Distribution:
    d = _COUNT_RANGE(value, info)
    if isinstance(d, Constant):
        return Constant(int(d.value))
    return d


CountDist = Annotated[Distribution, PlainValidator(_count), _COUNT_RANGE]

LENGTH_UNITS: dict[str, float] = {"m": 1.0, "cm": 0.01, "mm": 0.001}
"""Metres per unit of each length unit an asset file's coordinates may be in
(``assets[i].unit``)."""
LengthUnit = Literal["m", "cm", "mm"]
"""The names of :data:`LENGTH_UNITS`."""


@dataclass(frozen=True)
class NativeSize(Distribution):
    """``objects.size_m: native``: each object keeps its asset's own size (the longest edge of
    its file's bounding box, in metres after the asset's ``unit``); nothing is drawn.

    Code that sizes objects asks the asset (``Asset.native_size_m``); :meth:`sample` refuses,
    so that no code path can draw a size for it by mistake.
    """

    def sample(self, rng: Any) -> Any:
        """Refused: a native size is the asset's, not a draw.

        Raises
        ------
        TypeError
            Always.
        """
        raise TypeError("size_m: native has no draw; size each object by its asset's "
                        "native_size_m")

    def support(self) -> tuple[float, float]:
        """``(0, inf)``: any positive size, known only once the assets are loaded."""
        return 0.0, math.inf

    def scaled(self, factor: float) -> Distribution:
        """Refused (a native size has no unit to convert).

        Raises
        ------
        TypeError
            Always.
        """
        raise TypeError("size_m: native cannot be scaled")


_POSITIVE_RANGE = DistRange(low=0, low_exclusive=True)


def _size(value: Any, info: ValidationInfo) -> Distribution:
    if value == "native":
        return NativeSize()
    try:
        return _POSITIVE_RANGE(value, info)
    except ValueError as exc:
        raise ValueError(f"{exc} (or native: each asset's own size)") from None


SizeDist = Annotated[Distribution, PlainValidator(_size), _POSITIVE_RANGE]
"""An object size in metres (> 0 for every draw), or ``native`` (:class:`NativeSize`)."""
Length = Annotated[float, Field(ge=-LENGTH_LIMIT_M, le=LENGTH_LIMIT_M)]
"""A coordinate in metres."""


def _as_tuple(value: Any) -> Any:
    """YAML lists become tuples (strict validation takes only tuples for tuple fields)."""
    return tuple(value) if isinstance(value, list) else value


def not_bool(value: Any) -> Any:
    """Refuse ``true``/``false`` where a number is meant (a Literal[1, ...] takes True as 1)."""
    if isinstance(value, bool):
        raise ValueError(f"must be a number, not {str(value).lower()}")
    return value


Pair = Annotated[tuple[Length, Length], BeforeValidator(_as_tuple)]
Triple = Annotated[tuple[Length, Length, Length], BeforeValidator(_as_tuple)]


def yaml_name(name: str) -> str:
    """The YAML key of a scenario field: an angle, given in degrees in YAML (``fov_deg``, degrees
    per second in ``orbit_speed_deg_s``), is held in radians once parsed, under a name that says
    so (``fov_rad``, ``orbit_speed_rad_s``); every other field's key is its name (convention 1 of
    ``docs/architecture.md``)."""
    for rad, deg in (("_rad_s", "_deg_s"), ("_rad", "_deg")):
        if name.endswith(rad):
            return name[: -len(rad)] + deg
    return name


def field_named(model: type[BaseModel], key: str) -> str | None:
    """The attribute of ``model`` whose YAML key is ``key``, or None."""
    return next((name for name, field in model.model_fields.items()
                 if (field.alias or name) == key), None)


class ScenarioSection(BaseModel):
    """The base of every section of a scenario: unknown keys, NaN and loose types refused."""

    # strict: no bool for a number, no number or bytes for a string, no string for a number;
    # allow_inf_nan=False: every float field refuses NaN and infinities. Keys are yaml_name(field).
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True,
                              strict=True, allow_inf_nan=False, alias_generator=yaml_name)
