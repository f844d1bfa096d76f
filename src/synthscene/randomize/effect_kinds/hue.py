"""Sensor effect ``hue``: its parameters, its function (from
:mod:`synthscene.randomize.effects`) and its row of the built-in table
(:data:`synthscene.randomize.builtins.BUILTINS`)."""

# No ``from __future__ import annotations`` here: field annotations call dist_field().

from pydantic import Field

from synthscene.randomize import effects as fx
from synthscene.randomize.builtin_row import builtin
from synthscene.randomize.effect_kinds.runner import EffectRunner
from synthscene.registry.effect_registry import register_effect
from synthscene.registry.params import EffectParams, dist_field

__all__ = ["ROW", "HueParams"]


class HueParams(EffectParams):
    """Parameters of the ``hue`` effect."""

    shift_rad: dist_field(low=-180, high=180, unit="deg") = Field(
        {"uniform": [-10, 10]}, alias="shift_deg",
        description="hue rotation, degrees")


ROW = builtin(
    register_effect, "hue", EffectRunner(fx.hue), params=HueParams,
    summary="hue rotation (HSV)",
    example={"name": "hue", "shift_deg": {"uniform": [-15, 15]}, "probability": 0.5})
"""Its row of :data:`synthscene.randomize.builtins.BUILTINS`."""
