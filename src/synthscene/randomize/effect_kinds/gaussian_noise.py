"""Sensor effect ``gaussian_noise``: its parameters, its function (from
:mod:`synthscene.randomize.effects`) and its row of the built-in table
(:data:`synthscene.randomize.builtins.BUILTINS`)."""

# No ``from __future__ import annotations`` here: field annotations call dist_field().

from pydantic import Field

from synthscene.randomize import effects as fx
from synthscene.randomize.builtin_row import builtin
from synthscene.randomize.effect_kinds.runner import EffectRunner
from synthscene.registry.effect_registry import register_effect
from synthscene.registry.params import EffectParams, dist_field

__all__ = ["ROW", "GaussianNoiseParams"]


class GaussianNoiseParams(EffectParams):
    """Parameters of the ``gaussian_noise`` effect."""

    sigma: dist_field(low=0) = Field(
        {"uniform": [0, 8]}, description="standard deviation, 8-bit levels")


ROW = builtin(
    register_effect, "gaussian_noise", EffectRunner(fx.gaussian_noise, uses_rng=True),
    params=GaussianNoiseParams,
    summary="additive Gaussian noise per pixel and channel",
    example={"name": "gaussian_noise", "sigma": {"uniform": [0, 6]},
    "probability": 0.5})
"""Its row of :data:`synthscene.randomize.builtins.BUILTINS`."""
