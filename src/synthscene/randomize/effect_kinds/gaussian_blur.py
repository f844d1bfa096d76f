"""Sensor effect ``gaussian_blur``: its parameters, its function (from
:mod:`synthscene.randomize.effects`) and its row of the built-in table
(:data:`synthscene.randomize.builtins.BUILTINS`)."""

# No ``from __future__ import annotations`` here: field annotations call dist_field().

from pydantic import Field

from synthscene.randomize import effects as fx
from synthscene.randomize.builtin_row import builtin
from synthscene.randomize.effect_kinds.runner import EffectRunner
from synthscene.registry.effect_registry import register_effect
from synthscene.registry.params import EffectParams, dist_field

__all__ = ["ROW", "GaussianBlurParams"]


class GaussianBlurParams(EffectParams):
    """Parameters of the ``gaussian_blur`` effect."""

    sigma_px: dist_field(low=0, high=128) = Field(
        {"uniform": [0.3, 1.5]}, description="standard deviation, px")


ROW = builtin(
    register_effect, "gaussian_blur", EffectRunner(fx.gaussian_blur), params=GaussianBlurParams,
    summary="isotropic Gaussian blur",
    example={"name": "gaussian_blur", "sigma_px": {"uniform": [0.5, 1.5]},
    "probability": 0.3})
"""Its row of :data:`synthscene.randomize.builtins.BUILTINS`."""
