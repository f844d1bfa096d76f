"""Texture kind ``gradient``: a linear or radial gradient; its parameters, its function and its row
of the built-in table (:data:`synthscene.randomize.builtins.BUILTINS`).
"""

# No ``from __future__ import annotations`` here: field annotations call dist_field().

import numpy as np
from pydantic import Field

from synthscene.randomize import textures as tx
from synthscene.randomize.builtin_row import builtin
from synthscene.randomize.texture_kinds.two_colors import TwoColors
from synthscene.randomize.textures import GRADIENT_MODES
from synthscene.registry.params import dist_field
from synthscene.registry.texture_registry import register_texture

__all__ = ["ROW", "GradientParams"]


class GradientParams(TwoColors):
    """A linear or radial gradient (texture kind ``gradient``)."""

    mode: dist_field(options=GRADIENT_MODES) = Field(
        {"choice": list(GRADIENT_MODES)}, description="linear or radial")
    angle_rad: dist_field(unit="deg") = Field(
        {"uniform": [0, 360]}, alias="angle_deg",
        description="direction of a linear gradient, degrees counter-clockwise from the x "
                    "axis")
    center: dist_field(low=0, high=1, length=2) = Field(
        {"uniform": [[0, 0], [1, 1]]}, description="centre of a radial gradient, (x, y) as "
                                                   "fractions of the texture")


def _run_gradient(*, rng: np.random.Generator, size, **d) -> np.ndarray:
    return tx.gradient_texture(size, **d)


ROW = builtin(
    register_texture, "gradient", _run_gradient, params=GradientParams,
    summary="linear or radial gradient between two colours",
    example={"mode": "radial", "color_a": [1, 1, 1]})
"""Its row of :data:`synthscene.randomize.builtins.BUILTINS`."""
