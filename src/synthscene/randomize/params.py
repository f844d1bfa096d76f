"""Parameter models of the built-in texture kinds and sensor effects (registered in
:mod:`synthscene.randomize.builtins`); their base classes and :func:`dist_field` are in
:mod:`synthscene.registry.params`.
"""

# No ``from __future__ import annotations`` here: field annotations call dist_field().

from pydantic import Field

from synthscene.randomize.textures import GRADIENT_MODES
from synthscene.registry.params import EffectParams, RandomizerParams, dist_field

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
    angle_rad: dist_field(unit="deg") = Field(
        0.0, alias="angle_deg",
        description="rotation of the grid, degrees counter-clockwise")


class StripesParams(_TwoColors):
    """Parallel stripes with a random phase (texture kind ``stripes``)."""

    period_px: dist_field(low=0, low_exclusive=True) = Field(
        {"uniform": [8, 64]}, description="stripe period, texture px")
    duty: dist_field(low=0, high=1) = Field(
        {"uniform": [0.3, 0.7]}, description="fraction of each period in color_a")
    angle_rad: dist_field(unit="deg") = Field(
        {"uniform": [0, 180]}, alias="angle_deg",
        description="direction across the stripes, degrees counter-clockwise from the x axis "
                    "(0: vertical stripes)")


class GradientParams(_TwoColors):
    """A linear or radial gradient (texture kind ``gradient``)."""

    mode: dist_field(options=GRADIENT_MODES) = Field(
        {"choice": list(GRADIENT_MODES)}, description="linear or radial")
    angle_rad: dist_field(unit="deg") = Field(
        {"uniform": [0, 360]}, alias="angle_deg",
        description="direction of a linear gradient, degrees counter-clockwise from the x "
                    "axis")
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
    angle_rad: dist_field(unit="deg") = Field(
        {"uniform": [0, 180]}, alias="angle_deg",
        description="direction of the motion, degrees counter-clockwise from the image x axis")


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

    shift_rad: dist_field(low=-180, high=180, unit="deg") = Field(
        {"uniform": [-10, 10]}, alias="shift_deg",
        description="hue rotation, degrees")


class SaturationParams(EffectParams):
    """Parameters of the ``saturation`` effect."""

    factor: dist_field(low=0) = Field(
        {"uniform": [0.7, 1.3]}, description="multiplies HSV saturation (1: unchanged)")


class VignettingParams(EffectParams):
    """Parameters of the ``vignetting`` effect."""

    strength: dist_field(low=0, high=1) = Field(
        {"uniform": [0.1, 0.5]}, description="fraction of brightness lost in the corners")
