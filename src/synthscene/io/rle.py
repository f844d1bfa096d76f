"""COCO segmentations as compressed RLE: polygons, uncompressed and compressed RLE, checked.

Segmentations may be compressed RLE (``counts`` a string, what synthscene writes), uncompressed
RLE (``counts`` a list of run lengths) or polygons (a list of ``[x1, y1, x2, y2, ...]``);
:func:`to_rle` turns all of them into compressed RLE with pycocotools. A compressed ``counts``
string is parsed and checked here (:func:`rle_counts`) before pycocotools sees it, because
pycocotools' C decoder trusts it: a corrupt string whose runs add up to more than
``height * width`` pixels makes it write past its buffer.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pycocotools import mask as mask_utils

from synthscene.io.coco_schema import segmentation_problem

__all__ = ["MAX_POLYGON_PERIMETER_PX", "rle_counts", "to_rle"]


def rle_counts(counts: str) -> np.ndarray:
    """Decode a compressed COCO RLE ``counts`` string into run lengths.

    The format (pycocotools ``maskApi.c``, ``rleToString``/``rleFrString``): each run length is
    written as 5-bit groups, least significant first, in characters ``chr(48 + group)`` with
    bit 0x20 meaning "more groups follow" and bit 0x10 of the last group the sign; from the
    third run on, the value stored is the difference to the run two places earlier.

    Parameters
    ----------
    counts : str
        The compressed ``counts`` string.

    Returns
    -------
    (m,) int64
        Alternating run lengths of 0s and 1s, starting with 0s, in column-major pixel order.

    Raises
    ------
    ValueError
        If the string holds characters outside ``'0'``..``'o'``, ends inside a number, or
        decodes to a negative run length.
    """
    if len(counts) <= _SHORT_COUNTS:
        return _rle_counts_short(counts)
    try:
        raw = np.frombuffer(counts.encode("ascii"), dtype=np.uint8).astype(np.int64) - 48
    except UnicodeEncodeError:
        raise ValueError("RLE counts holds non-ASCII characters") from None
    if raw.size == 0:
        return np.zeros(0, dtype=np.int64)
    if ((raw < 0) | (raw > 63)).any():
        raise ValueError("RLE counts holds characters outside '0'..'o'")
    more = (raw & 0x20) != 0
    if more[-1]:
        raise ValueError("RLE counts ends in the middle of a number")
    ends = np.flatnonzero(~more)
    starts = np.empty_like(ends)
    starts[0] = 0
    starts[1:] = ends[:-1] + 1
    lengths = ends - starts + 1
    if lengths.max() > 12:
        raise ValueError("RLE counts holds a number too large for any image")
    position = np.arange(raw.size) - np.repeat(starts, lengths)
    values = np.add.reduceat((raw & 0x1F) << (5 * position), starts)
    negative = (raw[ends] & 0x10) != 0
    values = np.where(negative, values - (np.int64(1) << (5 * lengths)), values)
    runs = values.copy()
    runs[1::2] = np.cumsum(values[1::2])
    runs[2::2] = np.cumsum(values[2::2])
    if (runs < 0).any():
        raise ValueError("RLE counts decodes to a negative run length")
    return runs


_SHORT_COUNTS = 96
"""Compressed ``counts`` up to this length are decoded by a Python loop (faster than numpy's
set-up for a few runs); longer ones by the vectorised decoder. Both give the same runs."""


def _rle_counts_short(counts: str) -> np.ndarray:
    """:func:`rle_counts` as a loop (``maskApi.c``'s ``rleFrString``), for short strings."""
    try:
        raw = counts.encode("ascii")
    except UnicodeEncodeError:
        raise ValueError("RLE counts holds non-ASCII characters") from None
    runs: list[int] = []
    value = shift = 0
    for byte in raw:
        c = byte - 48
        if c < 0 or c > 63:
            raise ValueError("RLE counts holds characters outside '0'..'o'")
        value |= (c & 0x1F) << (5 * shift)
        shift += 1
        if c & 0x20:
            if shift >= 12:
                raise ValueError("RLE counts holds a number too large for any image")
            continue
        if c & 0x10:
            value -= 1 << (5 * shift)
        if len(runs) > 2:
            value += runs[-2]
        runs.append(value)
        value = shift = 0
    if shift:
        raise ValueError("RLE counts ends in the middle of a number")
    result = np.asarray(runs, dtype=np.int64)
    if (result < 0).any():
        raise ValueError("RLE counts decodes to a negative run length")
    return result


def to_rle(segmentation: Any, height: int, width: int) -> dict[str, Any]:
    """Turn a checked COCO segmentation into compressed RLE for an ``height x width`` image.

    Parameters
    ----------
    segmentation : dict or list
        Compressed RLE (``counts`` str), uncompressed RLE (``counts`` list of int) or polygons
        (list of ``[x1, y1, ...]``, pixel coordinates, pycocotools' rasterization).
    height, width : int
        The image's size in pixels.

    Returns
    -------
    dict
        ``{"size": [height, width], "counts": bytes}``, ready for ``pycocotools.mask``.

    Raises
    ------
    ValueError
        If the RLE's ``size`` is not ``[height, width]``, its runs do not add up to
        ``height * width`` pixels, or it is otherwise malformed.
    """
    if isinstance(segmentation, list):
        why = segmentation_problem(segmentation)
        if why:
            raise ValueError(why)
        polygons = [[float(v) for v in polygon] for polygon in segmentation]
        _check_polygons(polygons, height, width)
        return mask_utils.merge(mask_utils.frPyObjects(polygons, height, width))
    why = segmentation_problem(segmentation)
    if why:
        raise ValueError(why)
    size = [int(v) for v in segmentation["size"]]
    if size != [height, width]:
        raise ValueError(f"RLE size [h, w] = {size}, but the image is [h, w] = "
                         f"{[height, width]}" + (" (height and width swapped?)"
                                                 if size == [width, height] else ""))
    counts = segmentation["counts"]
    try:
        runs = (rle_counts(counts) if isinstance(counts, str)
                else np.asarray(counts, dtype=np.int64))
    except ValueError as exc:
        hint = (" (it looks like a Python bytes repr: write counts.decode('ascii'))"
                if isinstance(counts, str) and counts.startswith(("b'", 'b"')) else "")
        raise ValueError(f"{exc}{hint}") from None
    if (runs < 0).any():
        raise ValueError("RLE counts holds a negative run length")
    total = int(runs.sum())
    if total != height * width:
        raise ValueError(f"RLE runs cover {total} pixels, but the image has "
                         f"{height} x {width} = {height * width}")
    if isinstance(counts, str):
        return {"size": size, "counts": counts.encode("ascii")}
    return mask_utils.frPyObjects({"size": size, "counts": [int(v) for v in runs]},
                                  height, width)


MAX_POLYGON_PERIMETER_PX = 2_000_000
"""Longest total polygon outline accepted, in pixels: pycocotools rasterizes a polygon through
arrays as long as its outline (5 samples a pixel), so a hostile one could fill memory."""


def _check_polygons(polygons: list[list[float]], height: int, width: int) -> None:
    """Refuse polygons far outside the image or with an absurdly long outline."""
    perimeter = 0.0
    for k, polygon in enumerate(polygons):
        xy = np.asarray(polygon, dtype=np.float64).reshape(-1, 2)
        if (xy[:, 0] < -width).any() or (xy[:, 0] > 2 * width).any() \
                or (xy[:, 1] < -height).any() or (xy[:, 1] > 2 * height).any():
            raise ValueError(f"polygon {k} has a vertex far outside the {width}x{height} image "
                             "(more than the image's size beyond its edge)")
        step = np.abs(np.roll(xy, -1, axis=0) - xy).max(axis=1)
        perimeter += float(step.sum())
    if perimeter > MAX_POLYGON_PERIMETER_PX:
        raise ValueError(f"the polygons' outline is {perimeter:.0f} px long (at most "
                         f"{MAX_POLYGON_PERIMETER_PX} accepted)")

