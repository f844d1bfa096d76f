"""Texture kind ``perlin``: fractal Perlin noise between two colours; its parameters, its function
and its row of the built-in table (:data:`synthscene.randomize.builtins.BUILTINS`).
"""

# No ``from __future__ import annotations`` here: field annotations call dist_field().

import numpy as np
from pydantic import Field

from synthscene.randomize import textures as tx
from synthscene.randomize.builtin_row import builtin
from synthscene.randomize.texture_kinds.two_colors import TwoColors
from synthscene.registry.params import dist_field
from synthscene.registry.texture_registry import register_texture

__all__ = ["ROW", "PerlinParams"]


class PerlinParams(TwoColors):
    """Fractal Perlin noise between two colours (texture kind ``perlin``)."""

    scale_px: dist_field(low=1) = Field(
        {"uniform": [16, 128]}, description="feature size of the coarsest octave, texture px")
    octaves: dist_field(low=1, high=12, integer=True) = Field(
        {"randint": [2, 6]}, description="number of octaves summed")
    persistence: dist_field(low=0, high=1, low_exclusive=True) = Field(
        {"uniform": [0.35, 0.65]}, description="amplitude ratio of successive octaves")
    lacunarity: dist_field(low=1, high=4) = Field(
        2.0, description="frequency ratio of successive octaves")


def _run_perlin(*, rng: np.random.Generator, size, **d) -> np.ndarray:
    return tx.perlin_texture(size, rng=rng, **d)


ROW = builtin(
    register_texture, "perlin", _run_perlin, params=PerlinParams,
    summary="fractal Perlin (gradient) noise between two colours, tileable",
    example={"scale_px": {"uniform": [16, 64]}, "octaves": 4})
"""Its row of :data:`synthscene.randomize.builtins.BUILTINS`."""
