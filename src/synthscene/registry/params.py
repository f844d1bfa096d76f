"""The base of every randomizer's parameter model: pydantic models whose fields are distributions.

A randomizer's parameters are written in scenario YAML with the project's distribution syntax
(:mod:`synthscene.registry.distributions`): a constant, ``{uniform: [a, b]}``,
``{normal: [mu, sigma]}``, ``{randint: [a, b]}``, ``{choice: [...]}``, ... Each field declares the
range every draw must lie in with :func:`dist_field`, so a distribution that could leave it
(``{normal: ...}`` for a value that must be >= 0, say) is refused when the file is read, not when
a frame goes wrong. Fields ending in ``_deg`` are degrees in YAML and radians once parsed
(``docs/architecture.md``, conventions: units); :meth:`RandomizerParams.draw` names their values
``..._rad``.

Defaults are written as YAML values (``{"uniform": [0, 6]}``) and validated like user input,
so the documentation (``synthscene docs``) shows them
exactly as a user would write them.
"""

# No ``from __future__ import annotations`` here: field annotations call dist_field().

import math
from dataclasses import dataclass
from typing import Annotated, Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, PlainValidator, ValidationInfo

from synthscene.registry.distributions import (
    Choice,
    Constant,
    Distribution,
    RandInt,
    parse_distribution,
)


def _fmt(x: float) -> str:
    return f"{x:g}"


DEGREE_UNITS = ("deg", "deg/s")
"""The YAML units a field may declare (``dist_field(unit=...)``): degrees (per second), held in
radians (per second) once parsed, under a name that says so (``angle_rad``, with the YAML key
``angle_deg`` as its alias; a scenario field ``fov_rad`` has the key ``fov_deg``,
:func:`synthscene.config.fields.yaml_name`)."""

_LEGACY_DEGREE_NAMES = ("_deg", "_deg_s")
"""A plug-in's field named ``..._deg`` without a unit is degrees too, and is drawn as
``..._rad`` (the plug-in API before units were explicit)."""


@dataclass(frozen=True)
class DistRange:
    """The values every draw of a distribution-valued field must take.

    Attributes
    ----------
    low, high : float
        Bounds on every component, in the YAML unit (degrees for a field of ``unit="deg"``,
        degrees per second for ``unit="deg/s"``: both become radians once parsed).
    low_exclusive : bool
        If True the values must be > ``low`` rather than >= ``low``.
    integer : bool
        Values are integers: a constant, ``randint`` or a ``choice`` of integers.
    length : int or None
        Values are vectors of this length; None for scalars.
    options : tuple of str or None
        Values are one of these strings (a constant or a ``choice``); the other attributes are
        then ignored.
    broadcast : bool
        With ``length``: a scalar is taken for every component (a grey for a colour). False
        where a scalar is more likely a mistake (a velocity: which axis?).
    """

    low: float = -math.inf
    high: float = math.inf
    low_exclusive: bool = False
    integer: bool = False
    length: int | None = None
    options: tuple[str, ...] | None = None
    broadcast: bool = True
    unit: str | None = None

    def __post_init__(self) -> None:
        if self.unit is not None and self.unit not in DEGREE_UNITS:
            raise ValueError(f"unit must be one of {', '.join(DEGREE_UNITS)}, got {self.unit!r}")

    def in_degrees(self, field_name: str | None) -> bool:
        """True if the YAML values are degrees (per second), to be held in radians."""
        if self.unit is not None:
            return True
        return field_name is not None and field_name.endswith(_LEGACY_DEGREE_NAMES)

    def describe(self) -> str:
        """A short phrase for documentation and error messages, e.g. ``"integer in [1, 100]"``."""
        if self.options is not None:
            return "one of " + ", ".join(self.options)
        lo, hi = self.low, self.high
        if math.isinf(lo) and math.isinf(hi):
            bound = "any value"
        elif math.isinf(hi):
            bound = f"{'>' if self.low_exclusive else '>='} {_fmt(lo)}"
        elif math.isinf(lo):
            bound = f"<= {_fmt(hi)}"
        else:
            bound = f"in {'(' if self.low_exclusive else '['}{_fmt(lo)}, {_fmt(hi)}]"
        if self.length is not None:
            return f"{self.length} values, each {bound}"
        return f"integer {bound}" if self.integer else bound

    def __call__(self, value: Any, info: ValidationInfo) -> Distribution:
        """Parse ``value`` (YAML) into a distribution, checking every draw lies in range.

        Raises
        ------
        ValueError
            Saying what is allowed; pydantic reports it with the field's path.
        """
        if self.options is not None:
            dist = parse_distribution(value, numeric=False)
            values = dist.options if isinstance(dist, Choice) else (getattr(dist, "value", None),)
            if not isinstance(dist, (Choice, Constant)) or any(v not in self.options
                                                               for v in values):
                raise ValueError(f"must be one of {', '.join(self.options)} (or a "
                                 f"{{choice: [...]}} of them), got {value!r}")
            return dist
        dist = parse_distribution(value)
        self._check_shape(dist, value)
        lo, hi = dist.support()
        too_low = lo <= self.low if self.low_exclusive else lo < self.low
        if too_low or hi > self.high:
            hint = " (use uniform or truncnormal)" if math.isinf(lo) or math.isinf(hi) else ""
            raise ValueError(f"must be {self.describe()} for every draw, got {value!r}{hint}")
        if self.in_degrees(info.field_name):
            dist = dist.scaled(math.pi / 180.0)  # degrees (per second) to radians
        return dist

    def _check_shape(self, dist: Distribution, value: Any) -> None:
        if self.integer:
            values = dist.options if isinstance(dist, Choice) else (
                (dist.value,) if isinstance(dist, Constant) else None)
            if not isinstance(dist, RandInt) and (
                    values is None or any(np.ndim(v) or float(v) != int(v) for v in values)):
                raise ValueError(f"must be an integer, {{randint: [a, b]}} or a {{choice: [...]}} "
                                 f"of integers, got {value!r}")
            return
        sample_shape = _value_shape(dist)
        if self.length is None and sample_shape != ():
            raise ValueError(f"must be a single number (or a distribution of numbers), "
                             f"got {value!r}")
        if self.length is not None and not self.broadcast and sample_shape != (self.length,):
            raise ValueError(f"must be {self.length} numbers (one per axis, e.g. "
                             f"[{', '.join(['0.0'] * self.length)}]), or a distribution of "
                             f"them, got {value!r}")
        if self.length is not None and sample_shape not in ((), (self.length,)):
            raise ValueError(f"must be {self.length} numbers or one number (used for all "
                             f"{self.length}), got {value!r}")

    def convert(self, drawn: Any) -> Any:
        """Turn a drawn value into a plain ``int``, ``float``, ``str`` or tuple of floats."""
        if self.options is not None:
            return drawn
        if self.integer:
            return int(round(float(drawn)))
        if self.length is not None:
            return tuple(float(x) for x in np.broadcast_to(np.asarray(drawn, float),
                                                           (self.length,)))
        return float(drawn)


def _value_shape(dist: Distribution) -> tuple[int, ...] | None:
    """Shape of the values ``dist`` draws (None if its options differ in shape)."""
    if isinstance(dist, Constant):
        return np.shape(dist.value)
    if isinstance(dist, Choice):
        shapes = {np.shape(o) for o in dist.options}
        return shapes.pop() if len(shapes) == 1 else None
    return np.shape(getattr(dist, "low", 0.0))


def dist_field(*, low: float = -math.inf, high: float = math.inf, low_exclusive: bool = False,
               integer: bool = False, length: int | None = None,
               options: tuple[str, ...] | None = None, broadcast: bool = True,
               unit: str | None = None) -> Any:
    """The annotation of a distribution-valued field whose draws lie in the given range.

    Parameters are those of :class:`DistRange`. Use as
    ``sigma: dist_field(low=0) = Field({"uniform": [0, 6]}, description="...")``; an angle
    given in degrees and held in radians as
    ``angle_rad: dist_field(unit="deg") = Field(0.0, alias="angle_deg", description="...")``.

    Raises
    ------
    ValueError
        If ``unit`` is not one of :data:`DEGREE_UNITS`.
    """
    spec = DistRange(low, high, low_exclusive, integer, length, options, broadcast, unit)
    return Annotated[Distribution, PlainValidator(spec), spec]


def field_range(model: type[BaseModel], name: str) -> DistRange | None:
    """The :class:`DistRange` of field ``name`` of ``model``, or None if it is not a
    distribution-valued field."""
    for meta in model.model_fields[name].metadata:
        if isinstance(meta, DistRange):
            return meta
    return None


def yaml_key(model: type[BaseModel], name: str) -> str:
    """The YAML key of field ``name`` of ``model``: its alias (``angle_deg`` for ``angle_rad``),
    else its name."""
    return model.model_fields[name].alias or name


class RandomizerParams(BaseModel):
    """Base of every randomizer's parameter model: unknown keys are errors; defaults are YAML
    values validated like user input."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True,
                              validate_default=True, strict=True, allow_inf_nan=False,
                              serialize_by_alias=True)

    def draw(self, *, rng: np.random.Generator) -> dict[str, Any]:
        """Draw concrete values for every distribution-valued field, in declaration order.

        Parameters
        ----------
        rng : numpy.random.Generator

        Returns
        -------
        dict
            Field name to value (int, float, str or tuple of floats); angles in radians, under
            their field's name (``angle_rad``; a plug-in's field named ``..._deg`` without a
            unit appears as ``..._rad``). Fields that are not distributions (e.g. a folder)
            appear as they are; ``probability`` is left out.
        """
        out: dict[str, Any] = {}
        for name in type(self).model_fields:
            if name == "probability":
                continue
            value = getattr(self, name)
            spec = field_range(type(self), name)
            if spec is None:
                out[name] = value
                continue
            key = name[:-4] + "_rad" if name.endswith("_deg") else name
            out[key] = spec.convert(value.sample(rng))
        return out


class EffectParams(RandomizerParams):
    """Base of sensor effects' parameters: each effect is applied with some probability."""

    probability: float = Field(1.0, ge=0.0, le=1.0,
                               description="chance that the effect is applied to a frame")
