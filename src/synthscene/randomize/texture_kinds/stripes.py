"""Texture kind ``stripes``: parallel stripes with a random phase; its parameters, its function and
its row of the built-in table (:data:`synthscene.randomize.builtins.BUILTINS`).
"""

# No ``from __future__ import annotations`` here: field annotations call dist_field().

import numpy as np
from pydantic import Field

from synthscene.randomize import textures as tx
from synthscene.randomize.builtin_row import builtin
from synthscene.randomize.texture_kinds.two_colors import TwoColors
from synthscene.registry.params import dist_field
from synthscene.registry.texture_registry import register_texture

__all__ = ["ROW", "StripesParams"]


class StripesParams(TwoColors):
    """Parallel stripes with a random phase (texture kind ``stripes``)."""

    period_px: dist_field(low=0, low_exclusive=True) = Field(
        {"uniform": [8, 64]}, description="stripe period, texture px")
    duty: dist_field(low=0, high=1) = Field(
        {"uniform": [0.3, 0.7]}, description="fraction of each period in color_a")
    angle_rad: dist_field(unit="deg") = Field(
        {"uniform": [0, 180]}, alias="angle_deg",
        description="direction across the stripes, degrees counter-clockwise from the x axis "
                    "(0: vertical stripes)")


def _run_stripes(*, rng: np.random.Generator, size, **d) -> np.ndarray:
    return tx.stripes_texture(size, rng=rng, **d)


ROW = builtin(
    register_texture, "stripes", _run_stripes, params=StripesParams,
    summary="parallel stripes of two colours at a random angle and phase",
    example={"period_px": {"uniform": [10, 40]}, "duty": 0.5})
"""Its row of :data:`synthscene.randomize.builtins.BUILTINS`."""
