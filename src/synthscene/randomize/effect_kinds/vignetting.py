"""Sensor effect ``vignetting``: its parameters, its function (from
:mod:`synthscene.randomize.effects`) and its row of the built-in table
(:data:`synthscene.randomize.builtins.BUILTINS`)."""

# No ``from __future__ import annotations`` here: field annotations call dist_field().

from pydantic import Field

from synthscene.randomize import effects as fx
from synthscene.randomize.builtin_row import builtin
from synthscene.randomize.effect_kinds.runner import EffectRunner
from synthscene.registry.effect_registry import register_effect
from synthscene.registry.params import EffectParams, dist_field

__all__ = ["ROW", "VignettingParams"]


class VignettingParams(EffectParams):
    """Parameters of the ``vignetting`` effect."""

    strength: dist_field(low=0, high=1) = Field(
        {"uniform": [0.1, 0.5]}, description="fraction of brightness lost in the corners")


ROW = builtin(
    register_effect, "vignetting", EffectRunner(fx.vignetting), params=VignettingParams,
    summary="darker corners (radial quadratic falloff)",
    example={"name": "vignetting", "strength": {"uniform": [0.1, 0.4]},
    "probability": 0.5})
"""Its row of :data:`synthscene.randomize.builtins.BUILTINS`."""
