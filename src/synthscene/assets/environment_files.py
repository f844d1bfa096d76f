"""Reading environment maps: equirectangular images of the light arriving from every direction.

An environment map is an equirectangular (latitude-longitude) image in synthscene's world
frame (z up): column ``u`` in [0, 1) across the image holds azimuth ``phi = 2 pi (u - 1/2)``,
counted from +x towards +y (the image's centre column looks along +x); row ``v`` in [0, 1]
down the image holds the polar angle ``theta = pi v`` from +z (the top row looks straight up).
:func:`equirect_directions` gives the direction of every pixel centre, the one place this
convention is written in numpy (``render/shaders/environment.glsl`` holds its GLSL twin).

``.hdr`` (Radiance RGBE) and ``.exr`` (OpenEXR) files hold linear radiance and are read as
they are; ``.png`` and ``.jpg`` files are sRGB-encoded and are decoded to linear values in
[0, 1] (IEC 61966-2-1). Files are decoded with OpenCV (``IMREAD_ANYDEPTH | IMREAD_COLOR``;
OpenEXR decoding is turned on through ``OPENCV_IO_ENABLE_OPENEXR``, which OpenCV reads when it
first decodes an EXR).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from synthscene.assets.appearance import srgb_to_linear
from synthscene.assets.image_files import MAX_IMAGE_BYTES, MAX_IMAGE_PIXELS
from synthscene.errors import AssetError
from synthscene.io.fileio import FileProblem, read_regular_file

__all__ = ["ENVIRONMENT_SUFFIXES", "EnvironmentImage", "equirect_directions",
           "read_environment"]

ENVIRONMENT_SUFFIXES = (".hdr", ".exr", ".png", ".jpg", ".jpeg")
"""File suffixes of environment maps (lower case): linear ``.hdr``/``.exr``, sRGB others."""
_LINEAR_SUFFIXES = (".hdr", ".exr")


@dataclass(frozen=True, eq=False)
class EnvironmentImage:
    """A decoded environment map.

    Attributes
    ----------
    radiance : (H, W, 3) float32
        Linear RGB radiance, finite and >= 0, in the equirectangular layout of this module.
    key : str
        ``sha256:HEX`` of the file's bytes: equal for files of equal content.
    """

    radiance: np.ndarray
    key: str


def equirect_directions(height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Unit directions of the pixel centres of an equirectangular image, and their solid angles.

    Parameters
    ----------
    height, width : int
        Image size in pixels.

    Returns
    -------
    directions : (height, width, 3) float64
        World directions (z up) of the pixel centres (layout in the module notes).
    solid_angles : (height, 1) float64
        Steradians each pixel of a row covers (exact for the row's band); they sum to 4 pi.
    """
    theta = (np.arange(height) + 0.5) * np.pi / height
    phi = 2.0 * np.pi * ((np.arange(width) + 0.5) / width - 0.5)
    st, ct = np.sin(theta)[:, None], np.cos(theta)[:, None]
    directions = np.stack([st * np.cos(phi)[None, :], st * np.sin(phi)[None, :],
                           np.broadcast_to(ct, (height, width))], axis=-1)
    edges = np.arange(height + 1) * np.pi / height
    solid = (np.cos(edges[:-1]) - np.cos(edges[1:]))[:, None] * (2.0 * np.pi / width)
    return directions, solid


def read_environment(path: str | Path) -> EnvironmentImage:
    """Read an environment map file.

    Parameters
    ----------
    path : str or Path
        A ``.hdr``, ``.exr`` (linear radiance), ``.png`` or ``.jpg`` (sRGB) equirectangular image.

    Returns
    -------
    EnvironmentImage

    Raises
    ------
    AssetError
        ``"PATH: ..."``: the file is missing or not a regular file, too large, cannot be decoded
        as an image, is not about twice as wide as high (1.5 to 2.5), or holds a NaN, an
        infinite or a negative value.
    """
    suffix = Path(path).suffix.lower()
    if suffix not in ENVIRONMENT_SUFFIXES:
        raise AssetError(f"{path}: an environment map must be one of "
                         f"{', '.join(ENVIRONMENT_SUFFIXES)}")
    try:
        data = read_regular_file(path, max_bytes=MAX_IMAGE_BYTES)
    except FileProblem as exc:
        raise AssetError(f"{path}: cannot read this environment map: {exc}") from None
    if suffix == ".exr":
        os.environ.setdefault("OPENCV_IO_ENABLE_OPENEXR", "1")
    array = np.frombuffer(data, dtype=np.uint8)
    try:
        bgr = (cv2.imdecode(array, cv2.IMREAD_ANYDEPTH | cv2.IMREAD_COLOR)
               if array.size else None)
    except cv2.error as exc:
        raise AssetError(f"{path}: cannot decode this environment map "
                         f"({' '.join(str(exc).split())[:160]})") from None
    if bgr is None or bgr.size == 0 or bgr.ndim != 3:
        raise AssetError(f"{path}: cannot decode this environment map (not a valid "
                         f"{suffix[1:].upper()} image)")
    height, width = bgr.shape[:2]
    if height * width > MAX_IMAGE_PIXELS:
        raise AssetError(f"{path}: this environment map is too large ({width} x {height} "
                         f"pixels; the limit is {MAX_IMAGE_PIXELS} pixels)")
    if not 1.5 <= width / height <= 2.5:
        raise AssetError(f"{path}: an environment map is equirectangular, about twice as wide "
                         f"as high; this one is {width} x {height} pixels")
    rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    if suffix in _LINEAR_SUFFIXES:
        radiance = rgb.astype(np.float32)
    else:
        scale = 65535.0 if rgb.dtype == np.uint16 else 255.0
        radiance = srgb_to_linear(rgb.astype(np.float32) / scale).astype(np.float32)
    if not np.isfinite(radiance).all():
        raise AssetError(f"{path}: this environment map holds NaN or infinite values")
    if (radiance < 0).any():
        raise AssetError(f"{path}: this environment map holds negative radiance")
    return EnvironmentImage(radiance=np.ascontiguousarray(radiance),
                            key="sha256:" + hashlib.sha256(data).hexdigest())
