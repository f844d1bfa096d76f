"""Reading the image files a scenario brings in (background images, image textures), bounded.

An image is read only if it is a regular file of at most :data:`MAX_IMAGE_BYTES`; its width and
height are read from its header (Pillow reads headers without decoding) and an image of more than
:data:`MAX_IMAGE_PIXELS` is refused before it is decoded, so a 60000 x 60000 PNG (10.8 GB of
pixels) costs nothing. Decoding is OpenCV's (``cv2.imdecode``), as before.
"""

from __future__ import annotations

import io
import math
import os
import struct
import warnings
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from synthscene.errors import AssetError
from synthscene.io.fileio import FileProblem, read_regular_file, regular_file_problem

__all__ = ["MAX_IMAGE_BYTES", "MAX_IMAGE_PIXELS", "check_image_file", "read_image_rgb"]

MAX_IMAGE_PIXELS = 100_000_000
"""Most pixels (width x height) of a background or texture image: 100 megapixels, 300 MB
decoded. Crops are resized to the frame or texture anyway; scale larger images down first."""
MAX_IMAGE_BYTES = 1 << 29
"""Largest image file read, bytes (512 MiB)."""
_HEADER_BYTES = 1 << 18
"""Bytes read to find an image's size (a JPEG's size may follow 64 kB of EXIF data)."""


_JPEG_FRAME_MARKERS = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB,
                                  0xCD, 0xCE, 0xCF})
"""JPEG start-of-frame markers (SOF0-SOF15 less DHT C4, JPG C8 and DAC CC): ITU-T T.81, table
B.1. Their segment holds the frame's height and width (section B.2.2)."""


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    """``(width, height)`` from a JPEG's start-of-frame segment, or None if ``data`` is not a
    JPEG or holds no frame header.

    Walks the marker segments from the SOI marker (ITU-T T.81, annex B): every marker but the
    stand-alone ones (TEM, RST0-7, SOI, EOI) is followed by a 2-byte big-endian length that
    counts itself. Read by hand, not by Pillow, whose parser refuses a header-only file."""
    if data[:2] != b"\xff\xd8":
        return None
    i = 2
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte before a marker
            i += 1
            continue
        if marker == 0x01 or 0xD0 <= marker <= 0xD9:
            i += 2
            continue
        if marker == 0xDA:  # start of scan: no frame header before the entropy-coded data
            return None
        if marker in _JPEG_FRAME_MARKERS:
            if i + 9 > len(data):
                return None
            height, width = struct.unpack(">HH", data[i + 5:i + 9])
            return width, height
        i += 2 + struct.unpack(">H", data[i + 2:i + 4])[0]
    return None


def _pixels(data: bytes) -> tuple[float, str] | None:
    """Pixel count and ``"W x H"`` from the image's header, or None if Pillow does not know
    the format (OpenCV then decides). A PNG's size is read from its IHDR chunk (PNG
    specification, section 11.2.2) and a JPEG's from its frame header (:func:`_jpeg_size`),
    which also holds for sizes over Pillow's own limit."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR" and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return float(width) * float(height), f"{width} x {height} pixels"
    jpeg = _jpeg_size(data)
    if jpeg is not None:
        width, height = jpeg
        return float(width) * float(height), f"{width} x {height} pixels"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
        except Image.DecompressionBombError:  # over Pillow's own, larger, limit
            return math.inf, "more pixels than Pillow's decompression-bomb limit"
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
            return None
    return float(width) * float(height), f"{width} x {height} pixels"


def _check_pixels(header: bytes, path: str | Path, what: str) -> None:
    found = _pixels(header)
    if found is not None and found[0] > MAX_IMAGE_PIXELS:
        raise AssetError(f"{path}: this {what} is too large ({found[1]}; the limit is "
                         f"{MAX_IMAGE_PIXELS} pixels); scale it down")


def check_image_file(path: str | Path, *, what: str = "image") -> None:
    """Check, without decoding, that an image file can be read: a regular file of at most
    :data:`MAX_IMAGE_BYTES` whose header gives at most :data:`MAX_IMAGE_PIXELS`.

    Used when a scenario's image folders are indexed, so these problems are reported with the
    scenario field that named the folder, before any frame is made.

    Raises
    ------
    AssetError
        ``"PATH: ..."`` saying what is wrong.
    """
    problem = regular_file_problem(path)
    if problem is not None:
        raise AssetError(f"{path}: cannot read this {what}: {problem}")
    try:
        size = os.stat(path).st_size
        with open(path, "rb") as handle:
            header = handle.read(_HEADER_BYTES)
    except OSError as exc:
        raise AssetError(f"{path}: cannot read this {what}: {exc.strerror or exc}") from None
    if size > MAX_IMAGE_BYTES:
        raise AssetError(f"{path}: cannot read this {what}: larger than the limit of "
                         f"{MAX_IMAGE_BYTES} bytes")
    _check_pixels(header, path, what)


def read_image_rgb(path: str | Path, *, what: str = "image") -> np.ndarray:
    """Read and decode an image file as RGB.

    Parameters
    ----------
    path : str or Path
    what : str
        What the image is, for messages (``"background image"``, ``"texture image"``).

    Returns
    -------
    (H, W, 3) uint8
        RGB; grey and alpha images become RGB, 16-bit ones 8-bit.

    Raises
    ------
    AssetError
        ``"PATH: ..."``: the file is missing or not a regular file, larger than
        :data:`MAX_IMAGE_BYTES`, has more than :data:`MAX_IMAGE_PIXELS`, or cannot be decoded.
    """
    try:
        data = read_regular_file(path, max_bytes=MAX_IMAGE_BYTES)
    except FileProblem as exc:
        raise AssetError(f"{path}: cannot read this {what}: {exc}") from None
    _check_pixels(data, path, what)
    array = np.frombuffer(data, dtype=np.uint8)
    try:
        bgr = cv2.imdecode(array, cv2.IMREAD_COLOR) if array.size else None
    except cv2.error as exc:
        raise AssetError(f"{path}: cannot decode this {what} "
                         f"({' '.join(str(exc).split())[:160]})") from None
    if bgr is None or bgr.size == 0:
        raise AssetError(f"{path}: cannot decode this {what} (not a valid PNG or JPEG file)")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
