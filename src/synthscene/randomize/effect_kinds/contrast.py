"""Sensor effect ``contrast``: its parameters, its function (from
:mod:`synthscene.randomize.effects`) and its row of the built-in table
(:data:`synthscene.randomize.builtins.BUILTINS`)."""

# No ``from __future__ import annotations`` here: field annotations call dist_field().

from pydantic import Field

from synthscene.randomize import effects as fx
from synthscene.randomize.builtin_row import builtin
from synthscene.randomize.effect_kinds.runner import EffectRunner
from synthscene.registry.effect_registry import register_effect
from synthscene.registry.params import EffectParams, dist_field

__all__ = ["ROW", "ContrastParams"]


class ContrastParams(EffectParams):
    """Parameters of the ``contrast`` effect."""

    factor: dist_field(low=0) = Field(
        {"uniform": [0.75, 1.25]}, description="scales values about the mean grey (1: unchanged)")


ROW = builtin(
    register_effect, "contrast", EffectRunner(fx.contrast), params=ContrastParams,
    summary="contrast jitter about the mean grey",
    example={"name": "contrast", "factor": {"uniform": [0.8, 1.2]}})
"""Its row of :data:`synthscene.randomize.builtins.BUILTINS`."""
