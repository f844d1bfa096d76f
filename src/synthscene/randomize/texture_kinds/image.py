"""Texture kind ``image``: random crops of the images in a folder; its parameters, its function and
its row of the built-in table (:data:`synthscene.randomize.builtins.BUILTINS`).
"""

# No ``from __future__ import annotations`` here: field annotations call dist_field().

from pathlib import Path

import numpy as np
from pydantic import Field

from synthscene.randomize import textures as tx
from synthscene.randomize.builtin_row import builtin
from synthscene.registry.params import RandomizerParams, dist_field
from synthscene.registry.texture_registry import register_texture
from synthscene.resources import bundled_dir

__all__ = ["ROW", "ImageParams"]


class ImageParams(RandomizerParams):
    """Random crops of the images in a folder (texture kind ``image``)."""

    folder: str = Field("assets:textures", min_length=1,
                        description="folder of PNG/JPEG files (searched recursively); relative "
                                    "to the scenario file, or 'assets:NAME' for a bundled one")
    crop_fraction: dist_field(low=0, high=1, low_exclusive=True) = Field(
        {"uniform": [0.5, 1.0]}, description="crop side as a fraction of the largest crop that "
                                             "fits")


def _resolve_folder(folder: str, base_dir: Path) -> Path:
    if folder.startswith("assets:"):
        return bundled_dir("assets") / folder[len("assets:"):]
    path = Path(folder).expanduser()
    return path if path.is_absolute() else base_dir / path


def _prepare_image(params: ImageParams, base_dir: Path) -> tx.ImageTextureFolder:
    return tx.ImageTextureFolder(_resolve_folder(params.folder, base_dir))


def _run_image(*, rng: np.random.Generator, size, resource: tx.ImageTextureFolder,
               crop_fraction: float, folder: str) -> np.ndarray:
    return resource.sample(rng=rng, size=size, crop_fraction=crop_fraction)


ROW = builtin(
    register_texture, "image", _run_image, params=ImageParams,
    summary="random crop of a random image from a folder, resized",
    example={"folder": "assets:textures", "crop_fraction": 1.0},
    prepare=_prepare_image)
"""Its row of :data:`synthscene.randomize.builtins.BUILTINS`."""
