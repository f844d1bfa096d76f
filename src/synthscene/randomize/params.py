"""Parameter models of randomizers: pydantic models whose fields are distributions.

A randomizer's parameters are written in scenario YAML with the project's distribution syntax
(:mod:`synthscene.randomize.distributions`): a constant, ``{uniform: [a, b]}``,
``{normal: [mu, sigma]}``, ``{randint: [a, b]}``, ``{choice: [...]}``, ... Each field declares the
range every draw must lie in with :func:`dist_field`, so a distribution that could leave it
(``{normal: ...}`` for a value that must be >= 0, say) is refused when the file is read, not when
a frame goes wrong. Fields ending in ``_deg`` are degrees in YAML and radians once parsed
(``docs/architecture.md``, conventions: units); :meth:`RandomizerParams.draw` names their values
``..._rad``.

Defaults are written as YAML values (``{"uniform": [0, 6]}``) and validated like user input,
so the documentation (:func:`synthscene.randomize.reference_docs.registry_markdown`) shows them
exactly as a user would write them.
"""

# No ``from __future__ import annotations`` here: field annotations call dist_field().

import math
from dataclasses import dataclass
from typing import Annotated, Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, PlainValidator, ValidationInfo

from synthscene.randomize.distributions import (
    Choice,
    Constant,
    Distribution,
    RandInt,
    parse_distribution,
)
from synthscene.randomize.textures import GRADIENT_MODES


def _fmt(x: float) -> str:
    return f"{x:g}"


_DEGREE_FIELDS = ("_deg", "_deg_s", "_rad", "_rad_s")
"""Endings of fields given in degrees (per second) in YAML and held in radians once parsed: a
randomizer parameter keeps its YAML name (``angle_deg``); a scenario field is named ``fov_rad``
with the YAML key ``fov_deg`` (:func:`synthscene.config.fields.yaml_name`)."""


@dataclass(frozen=True)
class DistRange:
    """The values every draw of a distribution-valued field must take.

    Attributes
    ----------
    low, high : float
        Bounds on every component, in the YAML unit (degrees for ``_deg`` fields, degrees per
        second for ``_deg_s`` fields: both become radians once parsed).
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
        if info.field_name is not None and info.field_name.endswith(_DEGREE_FIELDS):
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
               options: tuple[str, ...] | None = None, broadcast: bool = True) -> Any:
    """The annotation of a distribution-valued field whose draws lie in the given range.

    Parameters are those of :class:`DistRange`. Use as
    ``sigma: dist_field(low=0) = Field({"uniform": [0, 6]}, description="...")``.
    """
    spec = DistRange(low, high, low_exclusive, integer, length, options, broadcast)
    return Annotated[Distribution, PlainValidator(spec), spec]


def field_range(model: type[BaseModel], name: str) -> DistRange | None:
    """The :class:`DistRange` of field ``name`` of ``model``, or None if it is not a
    distribution-valued field."""
    for meta in model.model_fields[name].metadata:
        if isinstance(meta, DistRange):
            return meta
    return None


class RandomizerParams(BaseModel):
    """Base of every randomizer's parameter model: unknown keys are errors; defaults are YAML
    values validated like user input."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True,
                              validate_default=True, strict=True, allow_inf_nan=False)

    def draw(self, *, rng: np.random.Generator) -> dict[str, Any]:
        """Draw concrete values for every distribution-valued field, in declaration order.

        Parameters
        ----------
        rng : numpy.random.Generator

        Returns
        -------
        dict
            Field name to value (int, float, str or tuple of floats). Fields ending in ``_deg``
            appear as ``..._rad``, in radians. Fields that are not distributions (e.g. a folder)
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


# --------------------------------------------------------------------------------------------
# Parameter models of the texture kinds and sensor effects (registered in texture_registry.py
# and effect_registry.py)
# --------------------------------------------------------------------------------------------

_ANY_COLOR = {"uniform": [[0, 0, 0], [1, 1, 1]]}
_COLOR_DOC = "sRGB colour in [0, 1] (a single number gives a grey)"


class _TwoColors(RandomizerParams):
    """Two random colours, shared by the two-colour texture kinds."""

    color_a: dist_field(low=0, high=1, length=3) = Field(_ANY_COLOR, description=_COLOR_DOC)
    color_b: dist_field(low=0, high=1, length=3) = Field(_ANY_COLOR, description=_COLOR_DOC)


class PerlinParams(_TwoColors):
    """Fractal Perlin noise between two colours (texture kind ``perlin``)."""

    scale_px: dist_field(low=1) = Field(
        {"uniform": [16, 128]}, description="feature size of the coarsest octave, texture px")
    octaves: dist_field(low=1, high=12, integer=True) = Field(
        {"randint": [2, 6]}, description="number of octaves summed")
    persistence: dist_field(low=0, high=1, low_exclusive=True) = Field(
        {"uniform": [0.35, 0.65]}, description="amplitude ratio of successive octaves")
    lacunarity: dist_field(low=1, high=4) = Field(
        2.0, description="frequency ratio of successive octaves")


class CheckerboardParams(_TwoColors):
    """A checkerboard with a random phase (texture kind ``checkerboard``)."""

    cell_px: dist_field(low=0, low_exclusive=True) = Field(
        {"uniform": [8, 64]}, description="cell edge, texture px")
    angle_deg: dist_field() = Field(0.0, description="rotation of the grid, degrees "
                                                    "counter-clockwise")


class StripesParams(_TwoColors):
    """Parallel stripes with a random phase (texture kind ``stripes``)."""

    period_px: dist_field(low=0, low_exclusive=True) = Field(
        {"uniform": [8, 64]}, description="stripe period, texture px")
    duty: dist_field(low=0, high=1) = Field(
        {"uniform": [0.3, 0.7]}, description="fraction of each period in color_a")
    angle_deg: dist_field() = Field(
        {"uniform": [0, 180]}, description="direction across the stripes, degrees "
                                           "counter-clockwise from the x axis (0: vertical "
                                           "stripes)")


class GradientParams(_TwoColors):
    """A linear or radial gradient (texture kind ``gradient``)."""

    mode: dist_field(options=GRADIENT_MODES) = Field(
        {"choice": list(GRADIENT_MODES)}, description="linear or radial")
    angle_deg: dist_field() = Field(
        {"uniform": [0, 360]}, description="direction of a linear gradient, degrees "
                                           "counter-clockwise from the x axis")
    center: dist_field(low=0, high=1, length=2) = Field(
        {"uniform": [[0, 0], [1, 1]]}, description="centre of a radial gradient, (x, y) as "
                                                   "fractions of the texture")


class BlobsParams(_TwoColors):
    """Blobs of color_b on color_a (thresholded noise) (texture kind ``blobs``)."""

    scale_px: dist_field(low=1) = Field(
        {"uniform": [24, 96]}, description="typical blob size, texture px")
    coverage: dist_field(low=0, high=1) = Field(
        {"uniform": [0.3, 0.6]}, description="fraction of the texture inside blobs")
    softness: dist_field(low=0, high=1) = Field(
        {"uniform": [0, 0.1]}, description="width of the soft edge (0: hard edges)")


class UniformParams(RandomizerParams):
    """One colour (texture kind ``uniform``)."""

    color: dist_field(low=0, high=1, length=3) = Field(_ANY_COLOR, description=_COLOR_DOC)


class ImageParams(RandomizerParams):
    """Random crops of the images in a folder (texture kind ``image``)."""

    folder: str = Field("assets:textures", min_length=1,
                        description="folder of PNG/JPEG files (searched recursively); relative "
                                    "to the scenario file, or 'assets:NAME' for a bundled one")
    crop_fraction: dist_field(low=0, high=1, low_exclusive=True) = Field(
        {"uniform": [0.5, 1.0]}, description="crop side as a fraction of the largest crop that "
                                             "fits")


class GaussianNoiseParams(EffectParams):
    """Parameters of the ``gaussian_noise`` effect."""

    sigma: dist_field(low=0) = Field(
        {"uniform": [0, 8]}, description="standard deviation, 8-bit levels")


class GaussianBlurParams(EffectParams):
    """Parameters of the ``gaussian_blur`` effect."""

    sigma_px: dist_field(low=0, high=128) = Field(
        {"uniform": [0.3, 1.5]}, description="standard deviation, px")


class MotionBlurParams(EffectParams):
    """Parameters of the ``motion_blur`` effect."""

    length_px: dist_field(low=1, high=256, integer=True) = Field(
        {"randint": [3, 9]}, description="length of the motion, px")
    angle_deg: dist_field() = Field(
        {"uniform": [0, 180]}, description="direction of the motion, degrees counter-clockwise "
                                           "from the image x axis")


class DefocusBlurParams(EffectParams):
    """Parameters of the ``defocus_blur`` effect."""

    radius_px: dist_field(low=0, high=128) = Field(
        {"uniform": [1, 3]}, description="radius of the blur disc, px")


class JpegParams(EffectParams):
    """Parameters of the ``jpeg`` effect."""

    quality: dist_field(low=0, high=100, integer=True) = Field(
        {"randint": [40, 95]}, description="libjpeg quality (100 is best)")


class BrightnessParams(EffectParams):
    """Parameters of the ``brightness`` effect."""

    factor: dist_field(low=0) = Field(
        {"uniform": [0.75, 1.25]}, description="multiplies every value (1: unchanged)")


class ContrastParams(EffectParams):
    """Parameters of the ``contrast`` effect."""

    factor: dist_field(low=0) = Field(
        {"uniform": [0.75, 1.25]}, description="scales values about the mean grey (1: unchanged)")


class GammaParams(EffectParams):
    """Parameters of the ``gamma`` effect."""

    gamma: dist_field(low=0, low_exclusive=True) = Field(
        {"loguniform": [0.8, 1.25]}, description="exponent on values in [0, 1] (1: unchanged)")


class HueParams(EffectParams):
    """Parameters of the ``hue`` effect."""

    shift_deg: dist_field(low=-180, high=180) = Field(
        {"uniform": [-10, 10]}, description="hue rotation, degrees")


class SaturationParams(EffectParams):
    """Parameters of the ``saturation`` effect."""

    factor: dist_field(low=0) = Field(
        {"uniform": [0.7, 1.3]}, description="multiplies HSV saturation (1: unchanged)")


class VignettingParams(EffectParams):
    """Parameters of the ``vignetting`` effect."""

    strength: dist_field(low=0, high=1) = Field(
        {"uniform": [0.1, 0.5]}, description="fraction of brightness lost in the corners")
