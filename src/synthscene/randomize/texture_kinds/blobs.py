"""Texture kind ``blobs``: blobs of color_b on color_a (thresholded noise); its parameters, its
function and its row of the built-in table (:data:`synthscene.randomize.builtins.BUILTINS`).
"""

# No ``from __future__ import annotations`` here: field annotations call dist_field().

import numpy as np
from pydantic import Field

from synthscene.randomize import textures as tx
from synthscene.randomize.builtin_row import builtin
from synthscene.randomize.texture_kinds.two_colors import TwoColors
from synthscene.registry.params import dist_field
from synthscene.registry.texture_registry import register_texture

__all__ = ["ROW", "BlobsParams"]


class BlobsParams(TwoColors):
    """Blobs of color_b on color_a (thresholded noise) (texture kind ``blobs``)."""

    scale_px: dist_field(low=1) = Field(
        {"uniform": [24, 96]}, description="typical blob size, texture px")
    coverage: dist_field(low=0, high=1) = Field(
        {"uniform": [0.3, 0.6]}, description="fraction of the texture inside blobs")
    softness: dist_field(low=0, high=1) = Field(
        {"uniform": [0, 0.1]}, description="width of the soft edge (0: hard edges)")


def _run_blobs(*, rng: np.random.Generator, size, **d) -> np.ndarray:
    return tx.blobs_texture(size, rng=rng, **d)


ROW = builtin(
    register_texture, "blobs", _run_blobs, params=BlobsParams,
    summary="random blobs of one colour on another (thresholded noise)",
    example={"coverage": {"uniform": [0.2, 0.5]}, "softness": 0})
"""Its row of :data:`synthscene.randomize.builtins.BUILTINS`."""
