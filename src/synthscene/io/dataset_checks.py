"""The label checks of one image, shared by ``synthscene validate`` and every exporter.

:func:`check_image_file` checks an image file against its entry; :func:`check_mask` checks one
annotation's segmentation, ``bbox`` and ``area``; :func:`overlaps` finds overlapping visible
masks. Each returns :class:`~synthscene.io.coco_schema.Problem` objects, so that validate lists
them and an exporter refuses the dataset with the first one.

Two conventions for ``bbox`` and ``area`` are accepted, and :class:`MaskCheck` says which one an
annotation follows:

- **mask**: ``bbox`` is the tight box of the decoded mask (``pycocotools.mask.toBbox``, whole
  pixels) and ``area`` its pixel count (``pycocotools.mask.area``): what synthscene writes, and
  COCO's convention for RLE masks.
- **polygon**: for polygon segmentations, ``bbox`` is the extent of the vertices (floats, within
  :data:`POLYGON_BBOX_TOLERANCE_PX`) and ``area`` the polygons' own area (shoelace formula,
  within :data:`POLYGON_AREA_TOLERANCE`): the convention of COCO 2017's polygon annotations.
  A polygon annotation may also follow the mask convention.
"""

from __future__ import annotations

import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
from PIL import Image
from pycocotools import mask as mask_utils

from synthscene.io.coco_schema import Problem
from synthscene.io.rle import to_rle

__all__ = [
    "BBOX_TOLERANCE_PX", "POLYGON_AREA_TOLERANCE", "POLYGON_BBOX_TOLERANCE_PX", "MaskCheck",
    "check_image_file", "check_map_file", "check_mask", "mask_areas", "overlaps",
]

BBOX_TOLERANCE_PX = 1e-6
"""Largest difference, in pixels, between ``bbox`` and ``pycocotools.mask.toBbox`` of the mask."""

POLYGON_BBOX_TOLERANCE_PX = 0.01
"""Largest difference, in pixels, between a polygon annotation's ``bbox`` and its vertex extent
(COCO 2017 rounds both to two decimals)."""

POLYGON_AREA_TOLERANCE = (1.0, 0.01)
"""A polygon annotation's ``area`` may differ from the polygons' area by 1 px² + 1 %."""


def _fmt(values: Any) -> str:
    return "[" + ", ".join(f"{float(v):g}" for v in values) + "]"


def check_image_file(path: Path, image: dict, where: str) -> list[Problem]:
    """Check that an image file exists, decodes completely, and is ``width x height``.

    Parameters
    ----------
    path : pathlib.Path
        The file (already resolved inside the image folder).
    image : dict
        Its COCO image entry (``width``, ``height`` checked by the schema).
    where : str
        How problems name the entry (``"images[0] (id 1)"``).

    Returns
    -------
    list of Problem
        Check ``"files"`` (missing, unreadable, truncated, empty) or ``"image_size"``.
    """
    if not path.is_file():
        return [Problem("files", f"{where}.file_name", f"{path} is missing")]
    try:
        with Image.open(path) as handle:
            width, height = handle.size
            expected = (image["width"], image["height"])
            if (width, height) != expected:
                swapped = " (width and height swapped)" if (height, width) == expected else ""
                return [Problem("image_size", where, f"{path.name} is {width}x{height} (width x "
                                f"height) but the entry says {expected[0]}x{expected[1]}"
                                f"{swapped}")]
            handle.load()  # decodes every pixel: a truncated file fails here
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        return [Problem("files", f"{where}.file_name",
                        f"{path} cannot be read as an image ({exc})")]
    return []


@dataclass(frozen=True)
class MaskCheck:
    """The outcome of :func:`check_mask` for one annotation.

    Attributes
    ----------
    problems : list of Problem
        Checks ``"rle"``, ``"bbox"``, ``"area"``, ``"nonempty"``.
    rle : dict or None
        The compressed RLE of the mask, None if the segmentation does not decode.
    pixels : int
        The mask's pixel count (0 if it does not decode).
    bbox_convention, area_convention : str or None
        ``"mask"`` or ``"polygon"``: the convention that ``bbox`` / ``area`` follow, None if
        neither.
    """

    problems: list[Problem]
    rle: dict | None = None
    pixels: int = 0
    bbox_convention: str | None = None
    area_convention: str | None = None


def _vertex_extent(polygons: list[list[float]]) -> np.ndarray:
    points = np.concatenate([np.asarray(p, dtype=np.float64).reshape(-1, 2) for p in polygons])
    low, high = points.min(axis=0), points.max(axis=0)
    return np.array([low[0], low[1], high[0] - low[0], high[1] - low[1]])


def _polygon_area(polygons: list[list[float]]) -> float:
    """Sum of the polygons' areas (shoelace formula)."""
    total = 0.0
    for polygon in polygons:
        xy = np.asarray(polygon, dtype=np.float64).reshape(-1, 2)
        x, y = xy[:, 0], xy[:, 1]
        total += 0.5 * abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))
    return total


def check_mask(ann: dict, image: dict, where: str) -> MaskCheck:
    """Check one annotation's segmentation against its ``bbox`` and ``area``.

    Parameters
    ----------
    ann : dict
        A schema-checked COCO annotation.
    image : dict
        Its image entry.
    where : str
        How problems name the annotation.

    Returns
    -------
    MaskCheck
    """
    height, width = image["height"], image["width"]
    segmentation = ann["segmentation"]
    try:
        rle = to_rle(segmentation, height, width)
    except ValueError as exc:
        return MaskCheck([Problem("rle", f"{where}.segmentation", str(exc))])
    problems = []
    pixels = int(mask_utils.area(rle))
    box = np.asarray(mask_utils.toBbox(rle), dtype=np.float64).reshape(4)
    bbox = np.asarray(ann["bbox"], dtype=np.float64)
    area = float(ann["area"])
    if pixels == 0 or area == 0:
        problems.append(Problem("nonempty", where, "the mask is empty" if pixels == 0
                                else "area is 0"))
    bbox_convention = area_convention = None
    tol = POLYGON_BBOX_TOLERANCE_PX
    if bbox[0] < -tol or bbox[1] < -tol or bbox[0] + bbox[2] > width + tol \
            or bbox[1] + bbox[3] > height + tol:
        problems.append(Problem("bbox", f"{where}.bbox", f"{_fmt(bbox)} reaches outside the "
                                f"{width}x{height} image"))
    elif pixels > 0:
        polygons = segmentation if isinstance(segmentation, list) else None
        if np.abs(bbox - box).max() <= BBOX_TOLERANCE_PX:
            bbox_convention = "mask"
        elif polygons is not None and np.abs(bbox - _vertex_extent(polygons)).max() <= tol:
            bbox_convention = "polygon"
        else:
            expected = f"the mask's tight box is {_fmt(box)}"
            if polygons is not None:
                expected += f" and the polygons' vertex extent is {_fmt(_vertex_extent(polygons))}"
            problems.append(Problem("bbox", f"{where}.bbox", f"{_fmt(bbox)} but {expected}"))
    if abs(area - pixels) <= 1e-6:
        area_convention = "mask"
    elif isinstance(segmentation, list) and abs(area - _polygon_area(segmentation)) <= (
            POLYGON_AREA_TOLERANCE[0] + POLYGON_AREA_TOLERANCE[1] * _polygon_area(segmentation)):
        area_convention = "polygon"
    else:
        hint = " (= width x height of the box?)" if abs(area - float(box[2] * box[3])) < 1e-6 \
            and pixels > 0 else ""
        polygon = (f" and the polygons' area is {_polygon_area(segmentation):.2f}"
                   if isinstance(segmentation, list) else "")
        problems.append(Problem("area", f"{where}.area", f"{ann['area']} but the mask has "
                                f"{pixels} pixels{polygon}{hint}"))
    return MaskCheck(problems, rle, pixels, bbox_convention, area_convention)


def mask_areas(rles: list[dict]) -> np.ndarray:
    """Pixel counts of RLE masks, ``(n,) int64``: ``pycocotools.mask.area`` in chunks of 255.

    pycocotools 2.0.x fails (``OverflowError ... uint8``) when ``area`` is given more than 255
    masks at once, so an image with more than 255 instances is counted in chunks.
    """
    chunks = [np.asarray(mask_utils.area(rles[k:k + 255]), dtype=np.int64).reshape(-1)
              for k in range(0, len(rles), 255)]
    return np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int64)


def overlaps(visible: list[tuple[str, dict]]) -> list[Problem]:
    """Find overlapping masks among the visible (``iscrowd`` 0) masks of one image.

    Parameters
    ----------
    visible : list of (where, compressed RLE)

    Returns
    -------
    list of Problem
        Check ``"overlap"``, one per pair of masks sharing pixels.
    """
    if len(visible) < 2:
        return []
    rles = [rle for _, rle in visible]
    union = int(mask_utils.area(mask_utils.merge(rles, intersect=False)))
    if union == int(mask_areas(rles).sum()):
        return []
    problems = []
    boxes = mask_utils.toBbox(rles).reshape(-1, 4)
    for i in range(len(visible)):
        for j in range(i + 1, len(visible)):
            if not _boxes_meet(boxes[i], boxes[j]):
                continue
            shared = int(mask_utils.area(mask_utils.merge([rles[i], rles[j]], intersect=True)))
            if shared:
                problems.append(Problem("overlap", visible[j][0], f"its mask shares {shared} "
                                        f"pixels with {visible[i][0]}"))
    return problems


def _boxes_meet(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(a[0] < b[0] + b[2] and b[0] < a[0] + a[2]
                and a[1] < b[1] + b[3] and b[1] < a[1] + a[3])


# ---------------------------------------------------------------------------- map files
_FLO_TAG = 202021.25
_TRACK_ARRAYS = ("target_points", "occluded", "query_points", "track_ids")


def check_map_file(path: Path, field: str, image: dict, where: str) -> list[Problem]:
    """Check a flow, float depth or point-track file against its documented layout.

    The file is never unpickled, and its arrays are never read whole: only their ``.npy``
    headers (dtype, shape) and the file's size are checked, so a hostile file costs neither
    memory nor code execution. Layouts (:func:`synthscene.io.maps.encode_frame_maps`):

    - ``flow_file``, ``flow_backward_file``: ``.npy`` ``(H, W, 2)`` float32, or Middlebury
      ``.flo`` (tag 202021.25, width, height, then ``H x W x 2`` float32);
    - ``depth_npy_file``: ``.npy`` ``(H, W)`` float32;
    - ``point_tracks_file``: ``.npz`` with ``target_points`` ``(N, T, 2)`` float,
      ``occluded`` ``(N, T)`` bool, ``query_points`` ``(N, 3)`` float and ``track_ids``
      ``(N,)`` integer, ``T`` greater than the image's ``frame_index``.

    Parameters
    ----------
    path : pathlib.Path
        The file (already resolved inside the dataset folder; existing).
    field : str
        The image field naming it.
    image : dict
        The image entry (``width``, ``height``, optional ``frame_index``).
    where : str
        How problems name the entry.

    Returns
    -------
    list of Problem
        Check ``"extras"``; empty for other fields.
    """
    height, width = image["height"], image["width"]
    name = f"{where}.{field}"
    try:
        if field in ("flow_file", "flow_backward_file") and path.suffix.lower() == ".flo":
            why = _flo_problem(path, height, width)
        elif field in ("flow_file", "flow_backward_file", "depth_npy_file"):
            shape = (height, width, 2) if field != "depth_npy_file" else (height, width)
            with open(path, "rb") as handle:
                dtype, found, nbytes = _npy_header(handle)
                end = handle.tell() + nbytes
            why = _array_problem(dtype, found, shape, "f", "float32") or (
                None if path.stat().st_size == end else
                f"holds {path.stat().st_size} bytes, its header says {end}")
        elif field == "point_tracks_file":
            why = _tracks_problem(path, image.get("frame_index"))
        else:
            return []
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, struct.error) as exc:
        why = f"cannot be read ({exc})"
    return [] if why is None else [Problem("extras", name, f"{path.name}: {why}")]


def _npy_header(handle: IO[bytes]) -> tuple[np.dtype, tuple[int, ...], int]:
    """dtype, shape and data size of the ``.npy`` array at the handle's position (the header
    only: an object dtype, which would need unpickling, raises ValueError)."""
    version = np.lib.format.read_magic(handle)
    if version == (1, 0):
        shape, _, dtype = np.lib.format.read_array_header_1_0(handle)
    elif version == (2, 0):
        shape, _, dtype = np.lib.format.read_array_header_2_0(handle)
    else:
        raise ValueError(f"unsupported .npy version {version}")
    if dtype.hasobject:
        raise ValueError("it holds Python objects (a pickle); allow_pickle is never set")
    return dtype, tuple(shape), int(np.prod(shape, dtype=np.float64)) * dtype.itemsize


def _array_problem(dtype: np.dtype, shape: tuple[int, ...], expected: tuple[int | None, ...],
                   kind: str, what: str) -> str | None:
    """Why an array of ``dtype`` and ``shape`` is not ``expected`` (None: any size there)."""
    if dtype.kind != kind or (what == "float32" and dtype != np.dtype("<f4")):
        return f"is {dtype}, not {what}"
    if len(shape) != len(expected) or any(e is not None and s != e
                                          for s, e in zip(shape, expected)):
        layout = ", ".join("n" if e is None else str(e) for e in expected)
        return f"is shaped {shape}, not ({layout})"
    return None


def _flo_problem(path: Path, height: int, width: int) -> str | None:
    with open(path, "rb") as handle:
        header = handle.read(12)
    if len(header) < 12:
        return "is shorter than a .flo header (12 bytes)"
    tag, = struct.unpack("<f", header[:4])
    w, h = struct.unpack("<ii", header[4:])
    if tag != _FLO_TAG:
        return f"does not start with the .flo tag {_FLO_TAG} (got {tag!r})"
    if (w, h) != (width, height):
        return f"is {w}x{h} (width x height), the image {width}x{height}"
    size = path.stat().st_size
    if size != 12 + 8 * width * height:
        return f"holds {size} bytes, a {width}x{height} .flo file {12 + 8 * width * height}"
    return None


def _tracks_problem(path: Path, frame_index: Any) -> str | None:
    with zipfile.ZipFile(path) as archive:
        members = {info.filename: info for info in archive.infolist()}
        shapes: dict[str, tuple[np.dtype, tuple[int, ...]]] = {}
        for key in _TRACK_ARRAYS:
            info = members.get(f"{key}.npy")
            if info is None:
                return f"has no array {key!r} (it needs {', '.join(_TRACK_ARRAYS)})"
            with archive.open(info) as handle:
                dtype, shape, nbytes = _npy_header(handle)
                if handle.tell() + nbytes != info.file_size:
                    return (f"array {key!r} holds {info.file_size - handle.tell()} bytes, "
                            f"its header says {nbytes}")
            shapes[key] = (dtype, shape)
    n = shapes["track_ids"][1][0] if len(shapes["track_ids"][1]) == 1 else None
    dtype, shape = shapes["target_points"]
    t = shape[1] if len(shape) == 3 else None
    for key, expected, kind, what in (
            ("track_ids", (n,), "iu", "an integer type"),
            ("target_points", (n, t, 2), "f", "a float type"),
            ("occluded", (n, t), "b", "bool"),
            ("query_points", (n, 3), "f", "a float type")):
        dtype, shape = shapes[key]
        why = _array_problem(dtype, shape, expected, dtype.kind if dtype.kind in kind else
                             kind[0], what)
        if why:
            return f"array {key!r} {why}"
    if t is not None and isinstance(frame_index, int) and frame_index >= t:
        return f"tracks {t} frames, but the image is frame_index {frame_index}"
    return None
