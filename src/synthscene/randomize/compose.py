"""Compositing a background image behind the rendered pixels (after labelling; labels unchanged).

Pure numpy/OpenCV: no GL.
"""

from __future__ import annotations

import cv2
import numpy as np

from synthscene.assets.image_files import read_image_rgb
from synthscene.core.kept import LeastRecentlyUsed
from synthscene.core.state import BackgroundImage

__all__ = ["BackgroundLoader", "composite_background", "crop_to_frame"]


def crop_to_frame(image: np.ndarray, width: int, height: int, zoom: float,
                  offset: tuple[float, float]) -> np.ndarray:
    """Cut the part of ``image`` that :class:`~synthscene.core.state.BackgroundImage` describes and
    resize it to the frame.

    Parameters
    ----------
    image : (h, w, 3) uint8
        RGB.
    width, height : int
        Frame size in pixels.
    zoom : float
        In (0, 1]: fraction (per side) of the largest region with the frame's aspect ratio.
    offset : (2,) float
        In [0, 1]: position of the part within that region (0 left/top, 1 right/bottom).

    Returns
    -------
    (height, width, 3) uint8
    """
    h, w = image.shape[:2]
    aspect = width / height
    region_w, region_h = (w, w / aspect) if w / h <= aspect else (h * aspect, h)
    crop_w = max(1.0, region_w * zoom)
    crop_h = max(1.0, region_h * zoom)
    x0 = (w - region_w) / 2 + (region_w - crop_w) * float(np.clip(offset[0], 0, 1))
    y0 = (h - region_h) / 2 + (region_h - crop_h) * float(np.clip(offset[1], 0, 1))
    x0i, y0i = int(round(x0)), int(round(y0))
    x1i = min(w, max(x0i + 1, int(round(x0 + crop_w))))
    y1i = min(h, max(y0i + 1, int(round(y0 + crop_h))))
    part = image[y0i:y1i, x0i:x1i]
    interpolation = cv2.INTER_AREA if part.shape[1] > width else cv2.INTER_LINEAR
    return cv2.resize(part, (width, height), interpolation=interpolation)


def composite_background(rgb: np.ndarray, depth: np.ndarray, background: np.ndarray) -> np.ndarray:
    """Put ``background`` wherever nothing was rendered (``depth == 0``).

    Parameters
    ----------
    rgb : (H, W, 3) uint8
    depth : (H, W) float32
        Metres, 0 where nothing was hit.
    background : (H, W, 3) uint8

    Returns
    -------
    (H, W, 3) uint8
        A new image; ``rgb`` is not modified. Rendered pixels are kept exactly, so every label
        stays valid.

    Raises
    ------
    ValueError
        If the shapes differ.
    """
    if rgb.shape != background.shape or rgb.shape[:2] != depth.shape:
        raise ValueError(f"shapes differ: rgb {rgb.shape}, depth {depth.shape}, "
                         f"background {background.shape}")
    return np.where((depth == 0)[..., None], background, rgb)


class BackgroundLoader:
    """Reads background images, keeping the last ``capacity`` decoded ones in memory.

    Parameters
    ----------
    capacity : int
        Decoded images kept (memory stays bounded over long runs).
    """

    def __init__(self, capacity: int = 16) -> None:
        self._cache: LeastRecentlyUsed[str, np.ndarray] = LeastRecentlyUsed(int(capacity))

    def load(self, path: str) -> np.ndarray:
        """Return the image at ``path`` as (h, w, 3) uint8 RGB.

        Raises
        ------
        AssetError
            If the file cannot be read as an image.
        """
        return self._cache.get(path, lambda: read_image_rgb(path, what="background image"))

    def frame(self, background: BackgroundImage, width: int, height: int) -> np.ndarray:
        """The background of one frame, (height, width, 3) uint8 RGB."""
        return crop_to_frame(self.load(background.path), width, height, background.zoom,
                             background.offset)
