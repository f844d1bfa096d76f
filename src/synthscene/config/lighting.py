"""The environment-light section of a scenario: ``lights.environment`` (image-based lighting
from an equirectangular map, or the procedural sky). Units in ``docs/light.md``."""

from __future__ import annotations

import math

from pydantic import Field, model_validator

from synthscene.config.fields import AngleDist, IntensityDist
from synthscene.config.fields import ScenarioSection as _Spec
from synthscene.registry.distributions import Constant, Uniform
from synthscene.registry.params import dist_field

SKY_SOURCE = "procedural_sky"
"""``images:`` value of the procedural sky."""

SunElevationDist = dist_field(low=0, high=90, unit="deg")
TurbidityDist = dist_field(low=1.7, high=10.0)


class SkySpec(_Spec):
    """The procedural sky (Preetham et al. 1999), drawn per frame: the sun's elevation above
    the horizon and azimuth (degrees in YAML, counter-clockwise from +x seen from above), the
    turbidity (2: clear, 10: hazy), and the sun: a directional light of ``sun_intensity``
    (W/m², as ``lights.directional_intensity``; 0: no sun light) from the sun's direction."""

    sun_elevation_rad: SunElevationDist = Uniform(15.0, 75.0).scaled(math.pi / 180)
    sun_azimuth_rad: AngleDist = Uniform(0.0, 360.0).scaled(math.pi / 180)
    turbidity: TurbidityDist = Uniform(2.0, 6.0)
    sun_intensity: IntensityDist = Uniform(1.5, 3.0)


class EnvironmentSpec(_Spec):
    """Light from every direction: an equirectangular map or the procedural sky, on with
    ``probability`` per frame.

    ``images``: a ``.hdr``/``.exr`` (linear radiance) or ``.png``/``.jpg`` (sRGB) file, a folder
    of them (one drawn per frame), relative to the scenario file or ``assets:NAME`` among the
    bundled ``assets/`` (``assets:environments``), or ``procedural_sky`` (parameters in
    ``sky``). ``intensity`` multiplies the map's radiance; ``rotation_deg`` turns it about the
    vertical (for the sky: added to the sun's azimuth).
    """

    images: str = Field(min_length=1)
    intensity: IntensityDist = Constant(1.0)
    rotation_rad: AngleDist = Uniform(0.0, 360.0).scaled(math.pi / 180)
    probability: float = Field(1.0, ge=0, le=1)
    sky: SkySpec = Field(default_factory=SkySpec)

    @model_validator(mode="after")
    def _sky_only_for_the_sky(self) -> EnvironmentSpec:
        if "sky" in self.model_fields_set and self.images != SKY_SOURCE:
            raise ValueError(f"sky is for images: {SKY_SOURCE}")
        return self
