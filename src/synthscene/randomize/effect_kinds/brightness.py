"""Sensor effect ``brightness``: its parameters, its function (from
:mod:`synthscene.randomize.effects`) and its row of the built-in table
(:data:`synthscene.randomize.builtins.BUILTINS`)."""

# No ``from __future__ import annotations`` here: field annotations call dist_field().

from pydantic import Field

from synthscene.randomize import effects as fx
from synthscene.randomize.builtin_row import builtin
from synthscene.randomize.effect_kinds.runner import EffectRunner
from synthscene.registry.effect_registry import register_effect
from synthscene.registry.params import EffectParams, dist_field

__all__ = ["ROW", "BrightnessParams"]


class BrightnessParams(EffectParams):
    """Parameters of the ``brightness`` effect."""

    factor: dist_field(low=0) = Field(
        {"uniform": [0.75, 1.25]}, description="multiplies every value (1: unchanged)")


ROW = builtin(
    register_effect, "brightness", EffectRunner(fx.brightness), params=BrightnessParams,
    summary="brightness jitter (multiplicative)",
    example={"name": "brightness", "factor": {"uniform": [0.8, 1.2]}})
"""Its row of :data:`synthscene.randomize.builtins.BUILTINS`."""
