"""Sensor effect ``defocus_blur``: its parameters, its function (from
:mod:`synthscene.randomize.effects`) and its row of the built-in table
(:data:`synthscene.randomize.builtins.BUILTINS`)."""

# No ``from __future__ import annotations`` here: field annotations call dist_field().

from pydantic import Field

from synthscene.randomize import effects as fx
from synthscene.randomize.builtin_row import builtin
from synthscene.randomize.effect_kinds.runner import EffectRunner
from synthscene.registry.effect_registry import register_effect
from synthscene.registry.params import EffectParams, dist_field

__all__ = ["ROW", "DefocusBlurParams"]


class DefocusBlurParams(EffectParams):
    """Parameters of the ``defocus_blur`` effect."""

    radius_px: dist_field(low=0, high=128) = Field(
        {"uniform": [1, 3]}, description="radius of the blur disc, px")


ROW = builtin(
    register_effect, "defocus_blur", EffectRunner(fx.defocus_blur), params=DefocusBlurParams,
    summary="out-of-focus blur (disc kernel)",
    example={"name": "defocus_blur", "radius_px": {"uniform": [1, 2.5]},
    "probability": 0.2})
"""Its row of :data:`synthscene.randomize.builtins.BUILTINS`."""
