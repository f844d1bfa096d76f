"""Texture kind ``uniform``: one colour; its parameters, its function and its row of the built-in
table (:data:`synthscene.randomize.builtins.BUILTINS`).
"""

# No ``from __future__ import annotations`` here: field annotations call dist_field().

import numpy as np
from pydantic import Field

from synthscene.randomize import textures as tx
from synthscene.randomize.builtin_row import builtin
from synthscene.randomize.texture_kinds.two_colors import ANY_COLOR, COLOR_DOC
from synthscene.registry.params import RandomizerParams, dist_field
from synthscene.registry.texture_registry import register_texture

__all__ = ["ROW", "UniformParams"]


class UniformParams(RandomizerParams):
    """One colour (texture kind ``uniform``)."""

    color: dist_field(low=0, high=1, length=3) = Field(ANY_COLOR, description=COLOR_DOC)


def _run_uniform(*, rng: np.random.Generator, size, **d) -> np.ndarray:
    return tx.uniform_texture(size, **d)


ROW = builtin(
    register_texture, "uniform", _run_uniform, params=UniformParams,
    summary="one random colour",
    example={"color": {"uniform": [[0.2, 0.2, 0.2], [0.8, 0.8, 0.8]]}})
"""Its row of :data:`synthscene.randomize.builtins.BUILTINS`."""
