"""Sensor effect ``motion_blur``: its parameters, its function (from
:mod:`synthscene.randomize.effects`) and its row of the built-in table
(:data:`synthscene.randomize.builtins.BUILTINS`)."""

# No ``from __future__ import annotations`` here: field annotations call dist_field().

from pydantic import Field

from synthscene.randomize import effects as fx
from synthscene.randomize.builtin_row import builtin
from synthscene.randomize.effect_kinds.runner import EffectRunner
from synthscene.registry.effect_registry import register_effect
from synthscene.registry.params import EffectParams, dist_field

__all__ = ["ROW", "MotionBlurParams"]


class MotionBlurParams(EffectParams):
    """Parameters of the ``motion_blur`` effect."""

    length_px: dist_field(low=1, high=256, integer=True) = Field(
        {"randint": [3, 9]}, description="length of the motion, px")
    angle_rad: dist_field(unit="deg") = Field(
        {"uniform": [0, 180]}, alias="angle_deg",
        description="direction of the motion, degrees counter-clockwise from the image x axis")


ROW = builtin(
    register_effect, "motion_blur", EffectRunner(fx.motion_blur), params=MotionBlurParams,
    summary="linear motion blur (centred line kernel)",
    example={"name": "motion_blur", "length_px": {"randint": [3, 9]},
    "angle_deg": {"uniform": [0, 180]}, "probability": 0.2})
"""Its row of :data:`synthscene.randomize.builtins.BUILTINS`."""
