"""The scenario sections of a real camera: lens distortion (``camera.distortion``) and a depth
sensor's noise (``outputs.depth_sensor``); see ``docs/cameras.md``."""

from __future__ import annotations

import math
from typing import Literal

from pydantic import Field, model_validator

from synthscene.config.fields import (
    AngleDist,
    NonNegativeDist,
    PositiveDist,
    ScenarioSection,
    UnitDist,
)
from synthscene.registry.distributions import Constant
from synthscene.registry.params import dist_field

__all__ = ["MAX_BASELINE_M", "MAX_RENDER_SCALE", "DepthSensorSpec", "DistortionSpec",
           "StereoSpec"]

LensCoeffDist = dist_field(low=-100, high=100)

MAX_RENDER_SCALE = 4.0
"""Largest ``camera.distortion.render_scale``: the undistorted render is at most this many times
the image's width and height (and at most ``synthscene.labels.lens_warp.MAX_PINHOLE_SIDE``
pixels a side)."""


class DistortionSpec(ScenarioSection):
    """Lens distortion, drawn per frame (per sequence with ``sequence:``).

    ``brown_conrady``: OpenCV's radial-tangential model (``cv2.projectPoints``; coefficients
    ``k1, k2, k3, p1, p2``). ``kannala_brandt``: OpenCV's fisheye model (``cv2.fisheye``;
    ``k1 .. k4``), up to 80 degrees from the optical axis at any pixel. The camera's ``K``
    (``fov_deg``, jitters) is the distorted camera's; each frame is rendered as a pinhole
    covering the frame and warped through the lens (``docs/cameras.md``).
    """

    model: Literal["brown_conrady", "kannala_brandt"]
    k1: LensCoeffDist = Constant(0.0)
    k2: LensCoeffDist = Constant(0.0)
    k3: LensCoeffDist = Constant(0.0)
    k4: LensCoeffDist = Constant(0.0)
    """``kannala_brandt`` only."""
    p1: LensCoeffDist = Constant(0.0)
    """Tangential, ``brown_conrady`` only."""
    p2: LensCoeffDist = Constant(0.0)
    """Tangential, ``brown_conrady`` only."""
    render_scale: float | None = Field(None, ge=1.0, le=MAX_RENDER_SCALE)
    """Size of the undistorted render relative to the image (per side), fixed for the run;
    default: per frame, the smallest (in steps of 1/16) that keeps the render's pixel pitch at
    the image centre at or below the image's for the frame's coefficients and intrinsics."""

    @model_validator(mode="after")
    def _model_coefficients(self) -> DistortionSpec:
        other = {"brown_conrady": ("k4",), "kannala_brandt": ("p1", "p2")}[self.model]
        given = sorted(set(other) & self.model_fields_set)
        if given:
            raise ValueError(f"{self.model} has no coefficient {', '.join(given)}")
        return self


MAX_BASELINE_M = 10.0
"""Largest stereo baseline, metres."""

BaselineDist = dist_field(low=0.0, high=MAX_BASELINE_M, low_exclusive=True)


class StereoSpec(ScenarioSection):
    """A stereo pair: every frame is seen by a left and a right camera (``docs/cameras.md``).

    OpenCV's rectified stereo convention: the left camera is the camera the scenario draws; the
    right camera is the left one moved by ``baseline_m`` along the left camera's +x axis (to
    its right), with the same orientation, intrinsics and lens. A point at depth ``z`` seen at
    column ``u`` in the left image is at column ``u - f b / z`` in the right image (``f`` = fx,
    ``b`` the baseline). The baseline is drawn per pair; with a ``sequence:`` section, once per
    sequence (one rig moves along the camera path).
    """

    baseline_m: BaselineDist = Constant(0.06)
    """Distance between the two optical centres, metres (> 0)."""


class DepthSensorSpec(ScenarioSection):
    """A depth sensor's noisy reading: ``depth_sensor/000001.png`` (16-bit, millimetres, 0 = no
    reading), drawn per frame (``docs/cameras.md``).

    ``structured_light``: axial noise of standard deviation ``axial_a_m + axial_b_m (z -
    axial_z0_m)^2`` (Nguyen, Izadi & Lovell 2012, a Kinect: 0.0012 + 0.0019 (z - 0.4)^2 m) and
    lateral noise (the reading taken ``lateral_px`` pixels away, drawn per pixel). ``stereo``:
    disparity ``d = f b / z`` (``baseline_m``, ``f`` = fx) plus Gaussian noise of
    ``disparity_sigma_px`` pixels, quantised to ``1 / subpixel_levels`` of a pixel, read back as ``f
    b / d``. Both: no reading beyond ``min_depth_m .. max_depth_m``, at depth discontinuities (a
    neighbour more than ``edge_threshold`` times nearer or farther) and at grazing angles (view ray
    to surface more than ``max_incidence_deg`` from the normal), and ``dropout`` of the rest at
    random.
    """

    model: Literal["structured_light", "stereo"]
    axial_a_m: NonNegativeDist = Constant(0.0012)
    axial_b_m: NonNegativeDist = Constant(0.0019)
    axial_z0_m: NonNegativeDist = Constant(0.4)
    lateral_px: NonNegativeDist = Constant(0.5)
    """Standard deviation, pixels, of the lateral shift (``structured_light``)."""
    baseline_m: PositiveDist = Constant(0.05)
    """``stereo``: the baseline (not given, with ``camera.stereo``: the pair's)."""
    disparity_sigma_px: NonNegativeDist = Constant(0.1)
    """``stereo``: standard deviation of the disparity, pixels."""
    subpixel_levels: int = Field(8, ge=1, le=256)
    """``stereo``: disparities are quantised to 1/subpixel_levels pixel."""
    min_depth_m: NonNegativeDist = Constant(0.2)
    max_depth_m: PositiveDist = Constant(10.0)
    edge_threshold: NonNegativeDist = Constant(0.05)
    """A pixel whose 4-neighbour's depth differs by more than this fraction of its own has no
    reading (0 switches it off)."""
    max_incidence_rad: AngleDist = Constant(math.radians(75.0))
    dropout: UnitDist = Constant(0.0)
    """Probability that any other pixel has no reading."""

    @model_validator(mode="after")
    def _model_fields(self) -> DepthSensorSpec:
        other = {"structured_light": ("baseline_m", "disparity_sigma_px", "subpixel_levels"),
                 "stereo": ("axial_a_m", "axial_b_m", "axial_z0_m", "lateral_px")}[self.model]
        given = sorted(set(other) & self.model_fields_set)
        if given:
            raise ValueError(f"depth sensor model {self.model} has no field "
                             f"{', '.join(given)}")
        return self
