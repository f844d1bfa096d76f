"""Sensor effect ``saturation``: its parameters, its function (from
:mod:`synthscene.randomize.effects`) and its row of the built-in table
(:data:`synthscene.randomize.builtins.BUILTINS`)."""

# No ``from __future__ import annotations`` here: field annotations call dist_field().

from pydantic import Field

from synthscene.randomize import effects as fx
from synthscene.randomize.builtin_row import builtin
from synthscene.randomize.effect_kinds.runner import EffectRunner
from synthscene.registry.effect_registry import register_effect
from synthscene.registry.params import EffectParams, dist_field

__all__ = ["ROW", "SaturationParams"]


class SaturationParams(EffectParams):
    """Parameters of the ``saturation`` effect."""

    factor: dist_field(low=0) = Field(
        {"uniform": [0.7, 1.3]}, description="multiplies HSV saturation (1: unchanged)")


ROW = builtin(
    register_effect, "saturation", EffectRunner(fx.saturation), params=SaturationParams,
    summary="saturation jitter (HSV)",
    example={"name": "saturation", "factor": {"uniform": [0.6, 1.4]}})
"""Its row of :data:`synthscene.randomize.builtins.BUILTINS`."""
