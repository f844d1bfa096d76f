"""Sensor effect ``gamma``: its parameters, its function (from
:mod:`synthscene.randomize.effects`) and its row of the built-in table
(:data:`synthscene.randomize.builtins.BUILTINS`)."""

# No ``from __future__ import annotations`` here: field annotations call dist_field().

from pydantic import Field

from synthscene.randomize import effects as fx
from synthscene.randomize.builtin_row import builtin
from synthscene.randomize.effect_kinds.runner import EffectRunner
from synthscene.registry.effect_registry import register_effect
from synthscene.registry.params import EffectParams, dist_field

__all__ = ["ROW", "GammaParams"]


class GammaParams(EffectParams):
    """Parameters of the ``gamma`` effect."""

    gamma: dist_field(low=0, low_exclusive=True) = Field(
        {"loguniform": [0.8, 1.25]}, description="exponent on values in [0, 1] (1: unchanged)")


ROW = builtin(
    register_effect, "gamma", EffectRunner(fx.gamma), params=GammaParams,
    summary="gamma curve",
    example={"name": "gamma", "gamma": {"loguniform": [0.7, 1.4]}})
"""Its row of :data:`synthscene.randomize.builtins.BUILTINS`."""
