"""Texture kind ``checkerboard``: a checkerboard with a random phase; its parameters, its function
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

__all__ = ["ROW", "CheckerboardParams"]


class CheckerboardParams(TwoColors):
    """A checkerboard with a random phase (texture kind ``checkerboard``)."""

    cell_px: dist_field(low=0, low_exclusive=True) = Field(
        {"uniform": [8, 64]}, description="cell edge, texture px")
    angle_rad: dist_field(unit="deg") = Field(
        0.0, alias="angle_deg",
        description="rotation of the grid, degrees counter-clockwise")


def _run_checkerboard(*, rng: np.random.Generator, size, **d) -> np.ndarray:
    return tx.checkerboard_texture(size, rng=rng, **d)


ROW = builtin(
    register_texture, "checkerboard", _run_checkerboard, params=CheckerboardParams,
    summary="checkerboard of two colours, random phase",
    example={"cell_px": {"choice": [8, 16, 32]}, "angle_deg": {"uniform": [0, 90]}})
"""Its row of :data:`synthscene.randomize.builtins.BUILTINS`."""
