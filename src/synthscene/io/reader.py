"""Read a COCO instances dataset from disk: locate it, check its schema, decode its masks.

The tools (:mod:`~synthscene.tools.visualize`, :mod:`~synthscene.tools.stats`) and the
exporters (:mod:`synthscene.exporters`) read a dataset through :func:`load_dataset`;
:mod:`~synthscene.tools.validate` runs the same per-entry schema checks (:func:`entry_problems`)
while it streams. Both read the file entry by entry (:mod:`synthscene.io.json_stream`), with
its nesting bounded. Every ``file_name`` must be a relative path that stays inside the image
folder (:func:`path_problem`, :func:`resolve_inside`), for every tool. A dataset is given either
as

- a folder holding ``annotations.json`` and ``images/`` (what ``synthscene generate`` writes), or
- a COCO JSON file; its images are looked up in ``<its folder>/images/`` if that folder exists,
  else next to the file. ``image_dir`` overrides both (e.g. COCO's own ``val2017/``).

Segmentations may be compressed RLE (``counts`` a string, what synthscene writes), uncompressed
RLE (``counts`` a list of run lengths) or polygons (a list of ``[x1, y1, x2, y2, ...]``); all are
turned into compressed RLE with pycocotools. A compressed ``counts`` string is parsed and checked
here before pycocotools sees it, because pycocotools' C decoder trusts it: a corrupt string whose
runs add up to more than ``height * width`` pixels makes it write past its buffer.
"""

from __future__ import annotations

import heapq
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image
from pycocotools import mask as mask_utils

from synthscene.errors import AssetError, DatasetError
from synthscene.io import json_stream
from synthscene.io.layout import ANNOTATIONS_NAME, IMAGES_DIR

__all__ = [
    "CocoDataset", "Problem", "category_names",
    "entry_name", "entry_problems", "load_dataset", "locate_dataset", "path_problem",
    "resolve_inside", "rle_counts", "schema_problems", "to_rle",
    "top_level_problems",
]

TOP_LEVEL_LISTS = ("images", "annotations", "categories")
MAX_IMAGE_PIXELS = 1 << 27
"""Largest ``width * height`` accepted (134 million pixels, e.g. 11585 x 11585): the tools
decode an image (3 bytes a pixel) and a mask (1 byte a pixel) at a time, so their memory stays
bounded whatever an entry claims. It is below PIL's decompression-bomb limit, so such an image
still opens."""


@dataclass(frozen=True)
class Problem:
    """One defect found in a dataset.

    Attributes
    ----------
    check : str
        Name of the check that found it (``"schema"``, ``"bbox"``, ... see
        :data:`synthscene.tools.validate.CHECKS`).
    where : str
        The entry, as a path into the JSON file: ``"annotations[4] (id 5)"``, ``"images[0]"``.
    message : str
        What is wrong, with the values found and expected.
    """

    check: str
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


# ---------------------------------------------------------------------------- locating files
def locate_dataset(dataset: str | Path, image_dir: str | Path | None = None) -> tuple[Path, Path]:
    """Find a dataset's annotation file and image folder.

    Parameters
    ----------
    dataset : str or pathlib.Path
        A dataset folder holding ``annotations.json``, or a COCO JSON file.
    image_dir : str or pathlib.Path, optional
        Folder that COCO ``file_name`` entries are relative to. By default ``images/`` next to
        the annotation file if that folder exists, else the annotation file's folder.

    Returns
    -------
    annotations_path, image_dir : pathlib.Path

    Raises
    ------
    synthscene.errors.DatasetError
        If ``dataset`` does not exist, or is a folder without ``annotations.json``.
    """
    path = Path(dataset)
    if path.is_dir():
        annotations_path = path / ANNOTATIONS_NAME
        if annotations_path.exists() and not annotations_path.is_file():
            raise DatasetError(str(annotations_path), "", "is not a regular file")
        if not annotations_path.is_file():
            raise DatasetError(str(path), "", f"no {ANNOTATIONS_NAME} in this folder (a dataset "
                              f"folder holds {ANNOTATIONS_NAME} and {IMAGES_DIR}/; an unfinished "
                              "run has no annotation file)")
    elif path.is_file():
        annotations_path = path
    elif path.exists():
        raise DatasetError(str(path), "", "is not a regular file or folder (a device, FIFO or "
                           "socket cannot be a dataset)")
    else:
        raise DatasetError(str(path), "", "no such dataset folder or annotation file")
    if image_dir is None:
        default = annotations_path.parent / IMAGES_DIR
        images = default if default.is_dir() else annotations_path.parent
    else:
        images = Path(image_dir)
        if not images.is_dir():
            raise DatasetError(str(images), "", "the image folder does not exist")
    return annotations_path, images


def drop_null_optional(kind: str, entry: Any) -> None:
    """Remove the optional fields of ``entry`` (of list ``kind``) whose value is ``null``."""
    if isinstance(entry, dict):
        for key in OPTIONAL_FIELDS.get(kind, ()):
            if key in entry and entry[key] is None:
                del entry[key]


# ---------------------------------------------------------------------------- schema
EXTRA_FILE_FIELDS = ("depth_file", "depth_npy_file", "normals_file", "instance_mask_file",
                     "semantic_file", "flow_file", "flow_backward_file", "flow_valid_file",
                     "point_tracks_file")
"""Image fields naming a file of the dataset beside the image (relative to the annotation
file's folder; :func:`synthscene.io.maps.encode_frame_maps` writes them)."""

OPTIONAL_FIELDS = {
    "images": ("K", "world_from_camera", *EXTRA_FILE_FIELDS, "depth_scale", "scene_id",
               "view_id", "sequence_id", "frame_index", "fps"),
    "annotations": ("amodal_bbox", "amodal_area", "visib_fract", "truncation", "cam_R_m2c",
                    "cam_t_m2c", "world_from_object", "keypoints", "num_keypoints",
                    "amodal_segmentation", "scene_instance_id", "object_scale_m",
                    "track_id"),
    "categories": ("keypoints", "skeleton"),
}
"""The optional synthscene fields of each entry kind (type-checked when present)."""


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value))


def _numbers(value: Any, length: int | None = None) -> bool:
    return (isinstance(value, list) and (length is None or len(value) == length)
            and all(_is_number(v) for v in value))


def _matrix(value: Any, rows: int, cols: int) -> bool:
    return isinstance(value, list) and len(value) == rows and all(_numbers(r, cols) for r in value)


def entry_name(kind: str, index: int, entry: Any) -> str:
    """``"annotations[4] (id 5)"``: how problems name the ``index``-th entry of list ``kind``."""
    if isinstance(entry, dict) and _is_int(entry.get("id")):
        return f"{kind}[{index}] (id {entry['id']})"
    return f"{kind}[{index}]"


def _segmentation_problem(seg: Any) -> str | None:
    """Why ``seg`` is not a COCO segmentation (RLE or polygons), or None if its shape is right."""
    if isinstance(seg, dict):
        size, counts = seg.get("size"), seg.get("counts")
        if not (isinstance(size, list) and len(size) == 2 and all(_is_int(v) and v >= 0
                                                                   for v in size)):
            return f"RLE 'size' must be [height, width] integers, got {size!r}"
        if not (isinstance(counts, str) or (isinstance(counts, list)
                                            and all(_is_int(v) for v in counts))):
            return "RLE 'counts' must be a string (compressed) or a list of integers"
        return None
    if isinstance(seg, list):
        if not seg:
            return "polygon list is empty"
        for k, polygon in enumerate(seg):
            if not _numbers(polygon) or len(polygon) < 6 or len(polygon) % 2:
                got = (f"{len(polygon)} values" if isinstance(polygon, list)
                       else type(polygon).__name__)
                return (f"polygon {k} must be an even-length list of at least 6 numbers "
                        f"(3 points), got {got}")
        return None
    return f"must be an RLE dict or a list of polygons, got {type(seg).__name__}"


_IMAGE_REQUIRED = {"id": "an integer", "file_name": "a non-empty string",
                   "width": "an integer > 0", "height": "an integer > 0"}
_ANNOTATION_REQUIRED = {"id": "an integer", "image_id": "an integer",
                        "category_id": "an integer",
                        "bbox": "[x, y, width, height] numbers, width and height >= 0",
                        "area": "a number >= 0", "iscrowd": "0 or 1 (an integer)",
                        "segmentation": "an RLE dict or a list of polygons"}
_CATEGORY_REQUIRED = {"id": "an integer", "name": "a non-empty string"}


def path_problem(value: str) -> str | None:
    """Why ``value`` is not a relative path that stays inside its folder, or None.

    Refused: an absolute path (``/x``, ``C:x``, ``\\\\server``), a ``..`` part (with ``/`` or
    ``\\`` as separator), a NUL character. Symbolic links are followed by
    :func:`resolve_inside`, which checks where the path really leads.
    """
    if "\0" in value:
        return "holds a NUL character"
    parts = value.replace("\\", "/").split("/")
    if value.startswith(("/", "\\")) or (len(value) > 1 and value[1] == ":"):
        return f"{_short(value)} is an absolute path; it must be relative to its folder"
    if ".." in parts:
        return f"{_short(value)} climbs out with '..'; it must stay inside its folder"
    if not any(part not in ("", ".") for part in parts):
        return f"{_short(value)} names no file"
    return None


def resolve_inside(folder: Path, relative: str) -> Path | None:
    """``folder / relative`` if it really lies inside ``folder`` (symbolic links followed),
    else None.

    Parameters
    ----------
    folder : pathlib.Path
        The image folder (or the dataset folder, for extra files).
    relative : str
        A path that passed :func:`path_problem`.
    """
    path = folder / relative
    try:
        inside = path.resolve().is_relative_to(folder.resolve())
    except (OSError, RuntimeError, ValueError):
        return None
    return path if inside else None


def _image_problems(image: dict) -> Iterable[tuple[str, str]]:
    file_name = image.get("file_name")
    checks = {
        "id": _is_int(image.get("id")),
        "file_name": isinstance(file_name, str) and bool(file_name),
        "width": _is_int(image.get("width")) and image.get("width") > 0,
        "height": _is_int(image.get("height")) and image.get("height") > 0,
    }
    if checks["width"] and checks["height"] and image["width"] * image["height"] > \
            MAX_IMAGE_PIXELS:
        yield "width", (f"{image['width']}x{image['height']} is more than "
                        f"{MAX_IMAGE_PIXELS} pixels (the largest image the tools accept)")
    for key, ok in checks.items():
        if not ok:
            yield key, _need(image, key, _IMAGE_REQUIRED[key])
    for key in ("file_name", *EXTRA_FILE_FIELDS):
        value = image.get(key)
        why = path_problem(value) if isinstance(value, str) and value else None
        if why:
            yield key, why
    optional = {
        "K": (lambda v: _matrix(v, 3, 3), "a 3x3 list of numbers"),
        "world_from_camera": (lambda v: _matrix(v, 4, 4), "a 4x4 list of numbers"),
        **{key: (lambda v: isinstance(v, str) and bool(v), "a non-empty string")
           for key in EXTRA_FILE_FIELDS},
        "depth_scale": (lambda v: _is_number(v) and v > 0, "a number > 0 (mm per unit)"),
        **{key: (lambda v: _is_int(v) and v >= 0, "an integer >= 0")
           for key in ("scene_id", "view_id", "sequence_id", "frame_index")},
        "fps": (lambda v: _is_number(v) and v > 0, "a number > 0 (frames per second)"),
    }
    for key, (ok, what) in optional.items():
        if key in image and not ok(image[key]):
            yield key, f"must be {what}, got {_short(image[key])}"


_ANNOTATION_OPTIONAL: dict[str, tuple[Any, str]] = {
    "amodal_bbox": (lambda v: _numbers(v, 4) and v[2] >= 0 and v[3] >= 0,
                    "[x, y, width, height] numbers"),
    "amodal_area": (lambda v: _is_number(v) and v >= 0, "a number >= 0"),
    "visib_fract": (lambda v: _is_number(v) and 0 <= v <= 1, "a number in [0, 1]"),
    "truncation": (lambda v: _is_number(v) and 0 <= v <= 1, "a number in [0, 1]"),
    "cam_R_m2c": (lambda v: _numbers(v, 9), "9 numbers (3x3 row-major)"),
    "cam_t_m2c": (lambda v: _numbers(v, 3), "3 numbers (mm)"),
    "world_from_object": (lambda v: _matrix(v, 4, 4), "a 4x4 list of numbers"),
    "keypoints": (lambda v: _numbers(v) and len(v) % 3 == 0, "[x1, y1, v1, ...] numbers"),
    "num_keypoints": (lambda v: _is_int(v) and v >= 0, "an integer >= 0"),
    "amodal_segmentation": (lambda v: _segmentation_problem(v) is None,
                            "an RLE dict or a list of polygons"),
    "scene_instance_id": (_is_int, "an integer"),
    "object_scale_m": (lambda v: _is_number(v) and v > 0, "a number > 0"),
    "track_id": (lambda v: _is_int(v) and v >= 0, "an integer >= 0"),
}


def _annotation_problems(ann: dict) -> Iterable[tuple[str, str]]:
    bbox = ann.get("bbox")
    checks = {
        "id": _is_int(ann.get("id")),
        "image_id": _is_int(ann.get("image_id")),
        "category_id": _is_int(ann.get("category_id")),
        "bbox": _numbers(bbox, 4) and bbox[2] >= 0 and bbox[3] >= 0,
        "area": _is_number(ann.get("area")) and ann.get("area") >= 0,
        "iscrowd": ann.get("iscrowd") in (0, 1) and not isinstance(ann.get("iscrowd"), bool),
    }
    for key, ok in checks.items():
        if not ok:
            yield key, _need(ann, key, _ANNOTATION_REQUIRED[key])
    if "segmentation" not in ann:
        yield "segmentation", "missing (must be an RLE dict or a list of polygons)"
    else:
        why = _segmentation_problem(ann["segmentation"])
        if why:
            yield "segmentation", why
    for key, (ok, what) in _ANNOTATION_OPTIONAL.items():
        if key in ann and not ok(ann[key]):
            yield key, f"must be {what}, got {_short(ann[key])}"


def _category_problems(cat: dict) -> Iterable[tuple[str, str]]:
    if not _is_int(cat.get("id")):
        yield "id", _need(cat, "id", _CATEGORY_REQUIRED["id"])
    if not (isinstance(cat.get("name"), str) and cat.get("name")):
        yield "name", _need(cat, "name", _CATEGORY_REQUIRED["name"])
    if "keypoints" in cat and not (isinstance(cat["keypoints"], list)
                                   and all(isinstance(k, str) for k in cat["keypoints"])):
        yield "keypoints", f"must be a list of names, got {_short(cat['keypoints'])}"
    if "skeleton" in cat and not (isinstance(cat["skeleton"], list) and all(
            isinstance(e, list) and len(e) == 2 and all(_is_int(v) for v in e)
            for e in cat["skeleton"])):
        yield "skeleton", "must be a list of [i, j] integer pairs (1-based)"


def _need(entry: dict, key: str, what: str) -> str:
    if key not in entry:
        return f"missing (must be {what})"
    return f"must be {what}, got {_short(entry[key])}"


def _short(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, float) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def schema_problems(data: Any) -> tuple[list[Problem], bool]:
    """Check the COCO structure and the types of every known field.

    Required: a top-level object with lists ``images``, ``annotations``, ``categories``; images
    with ``id``, ``file_name``, ``width``, ``height``; annotations with ``id``, ``image_id``,
    ``category_id``, ``bbox``, ``area``, ``iscrowd`` and ``segmentation``; categories with
    ``id`` and ``name`` (the COCO "instances" format, cocodataset.org/#format-data). The optional
    synthscene fields (``K``, ``amodal_bbox``, ``visib_fract``, ``keypoints``, ...) are checked
    when present. Values (ids >= 1, boxes against masks, ...) are not checked here.

    Parameters
    ----------
    data : object
        The parsed JSON.

    Returns
    -------
    problems : list of Problem
        With ``check == "schema"``; ``where`` names the entry and field, e.g.
        ``"annotations[3] (id 4).bbox"``.
    usable : bool
        False if the top level itself is broken (not an object, or a list missing), so that no
        other check can run.
    """
    if not isinstance(data, dict):
        return top_level_problems(type(data).__name__, {})
    problems, usable = top_level_problems(
        "object", {key: type(value).__name__ for key, value in data.items()})
    if not usable:
        return problems, False
    for kind in ("images", "annotations", "categories"):
        for index, entry in enumerate(data[kind]):
            problems.extend(entry_problems(kind, index, entry))
    stuff = data.get("stuff_categories")
    if stuff is not None:
        if not isinstance(stuff, list):
            problems.append(Problem("schema", "stuff_categories", "must be a list"))
        else:
            for index, entry in enumerate(stuff):
                problems.extend(entry_problems("stuff_categories", index, entry))
    return problems, True


_JSON_NAMES = {"dict": "object", "list": "array", "str": "string", "int": "number",
               "float": "number", "bool": "boolean", "NoneType": "null", "true": "boolean",
               "false": "boolean"}


def top_level_problems(top: str, keys: Mapping[str, str]) -> tuple[list[Problem], bool]:
    """Check the top level: an object with lists ``images``, ``annotations``, ``categories``.

    Parameters
    ----------
    top : str
        Type of the top-level value (a JSON type name, or a Python one).
    keys : mapping of str to str
        The top-level keys and the types of their values.

    Returns
    -------
    problems : list of Problem
    usable : bool
        False if no entry can be checked.
    """
    def name(kind: str | None) -> str:
        return _JSON_NAMES.get(kind, kind) if kind is not None else "missing"

    if name(top) != "object":
        return [Problem("schema", "", f"the file must hold a JSON object, got {name(top)}")
                ], False
    problems = [Problem("schema", key, "missing" if key not in keys else
                        f"must be a list, got {name(keys[key])}")
                for key in TOP_LEVEL_LISTS if name(keys.get(key)) != "array"]
    if "stuff_categories" in keys and name(keys["stuff_categories"]) not in ("array", "null"):
        problems.append(Problem("schema", "stuff_categories", "must be a list"))
    return problems, not problems


def entry_problems(kind: str, index: int, entry: Any) -> list[Problem]:
    """Schema problems of the ``index``-th entry of list ``kind`` (``"images"``,
    ``"annotations"``, ``"categories"`` or ``"stuff_categories"``); see
    :func:`schema_problems`."""
    name = entry_name(kind, index, entry)
    if not isinstance(entry, dict):
        return [Problem("schema", name, f"must be an object, got "
                        f"{_JSON_NAMES.get(type(entry).__name__, type(entry).__name__)}")]
    check = {"images": _image_problems, "annotations": _annotation_problems}.get(
        kind, _category_problems)
    return [Problem("schema", f"{name}.{key}", message) for key, message in check(entry)]


# ---------------------------------------------------------------------------- RLE
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
        why = _segmentation_problem(segmentation)
        if why:
            raise ValueError(why)
        polygons = [[float(v) for v in polygon] for polygon in segmentation]
        _check_polygons(polygons, height, width)
        return mask_utils.merge(mask_utils.frPyObjects(polygons, height, width))
    why = _segmentation_problem(segmentation)
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


# ---------------------------------------------------------------------------- the dataset
class CocoDataset:
    """A COCO instances dataset read from disk, with its entries indexed.

    Build it with :func:`load_dataset`, which checks the schema first. The JSON is kept as
    parsed (``data``), so fields that synthscene does not know survive an export.

    Attributes
    ----------
    annotations_path : pathlib.Path
        The COCO JSON file.
    image_dir : pathlib.Path
        Folder that image ``file_name`` entries are relative to.
    root : pathlib.Path
        Folder of the annotation file; ``depth_file``, ``instance_mask_file`` and
        ``semantic_file`` are relative to it.
    data : dict
        The parsed JSON.
    images : list of dict
        Image entries sorted by ``id``.
    categories : list of dict
        Category entries sorted by ``id``.
    image_by_id, category_by_id : dict
        Entries by ``id``.

    Parameters
    ----------
    annotations_path, image_dir : pathlib.Path
    data : dict
        The parsed JSON, or the part of it that was kept (see :func:`load_dataset`'s
        ``limit``).
    positions : dict, optional
        ``{"images": [k, ...], "annotations": [k, ...]}``: the index in the file of each entry
        of ``data["images"]`` and ``data["annotations"]``, when ``data`` holds only some of
        them (default: their positions in ``data``).
    """

    def __init__(self, annotations_path: Path, image_dir: Path, data: dict,
                 positions: Mapping[str, Sequence[int]] | None = None) -> None:
        self.annotations_path = Path(annotations_path)
        self.image_dir = Path(image_dir)
        self.root = self.annotations_path.parent
        self.data = data
        self.images = sorted(data["images"], key=lambda image: image["id"])
        self.categories = sorted(data["categories"], key=lambda cat: cat["id"])
        self._by_image: dict[int, list[dict]] = {image["id"]: [] for image in self.images}
        positions = positions or {}
        self._index = {id(ann): k for ann, k in zip(
            data["annotations"], positions.get("annotations", range(len(data["annotations"]))))}
        self._image_index = {id(image): k for image, k in zip(
            data["images"], positions.get("images", range(len(data["images"]))))}
        for ann in sorted(data["annotations"], key=lambda a: a["id"]):
            self._by_image.setdefault(ann["image_id"], []).append(ann)
        self.category_by_id = {cat["id"]: cat for cat in self.categories}
        self.image_by_id = {image["id"]: image for image in self.images}

    @property
    def annotations(self) -> list[dict]:
        """All annotation entries, in file order."""
        return self.data["annotations"]

    def annotations_of(self, image: dict) -> list[dict]:
        """The annotations of ``image`` sorted by ``id`` (empty list if none)."""
        return self._by_image.get(image["id"], [])

    def where(self, entry: dict) -> str:
        """Name an image or annotation entry as problems do: ``"annotations[4] (id 5)"``."""
        if id(entry) in self._index:
            return entry_name("annotations", self._index[id(entry)], entry)
        return entry_name("images", self._image_index.get(id(entry), -1), entry)

    def error(self, entry: dict | None, field: str, message: str) -> DatasetError:
        """A :class:`~synthscene.errors.DatasetError` naming this file and ``entry.field``."""
        where = f"{self.where(entry)}.{field}" if entry is not None else field
        return DatasetError(str(self.annotations_path), where, message)

    def image_path(self, image: dict) -> Path:
        """Path of the image file of ``image`` (``image_dir / file_name``).

        Raises
        ------
        synthscene.errors.DatasetError
            If the path leads outside ``image_dir`` (through a symbolic link; ``..`` and
            absolute paths are refused by the schema already).
        """
        return self._inside(self.image_dir, image, "file_name")

    def _inside(self, folder: Path, image: dict, field: str) -> Path:
        why = path_problem(image[field])
        path = resolve_inside(folder, image[field]) if why is None else None
        if path is None:
            raise self.error(image, field, why or f"{image[field]!r} leads outside {folder} "
                             "(through a symbolic link)")
        return path

    def read_rgb(self, image: dict) -> np.ndarray:
        """Read the image of ``image``.

        Returns
        -------
        (H, W, 3) uint8
            RGB (grey images are expanded to 3 channels, alpha is dropped).

        Raises
        ------
        synthscene.errors.AssetError
            If the file is missing, unreadable, or not ``width x height``.
        """
        path = self.image_path(image)
        try:
            with Image.open(path) as handle:
                size = handle.size  # the header only: refuse a wrong size before decoding
        except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
            size = None
        if size is not None and size != (image["width"], image["height"]):
            raise AssetError(f"{path}: is {size[0]}x{size[1]} (width x height), but "
                             f"{self.where(image)} says {image['width']}x{image['height']}")
        bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if bgr is None:
            what = "is missing" if not path.exists() else "cannot be read as an image"
            raise AssetError(f"{path}: {what} ({self.where(image)}.file_name)")
        if bgr.shape[:2] != (image["height"], image["width"]):
            raise AssetError(f"{path}: is {bgr.shape[1]}x{bgr.shape[0]} (width x height), but "
                             f"{self.where(image)} says {image['width']}x{image['height']}")
        return np.ascontiguousarray(bgr[:, :, ::-1])

    def image_of(self, ann: dict) -> dict:
        """The image entry that ``ann`` belongs to."""
        image = self.image_by_id.get(ann["image_id"])
        if image is None:
            raise self.error(ann, "image_id", f"no image has id {ann['image_id']}")
        return image

    def rle(self, ann: dict, image: dict, field: str = "segmentation") -> dict[str, Any]:
        """Compressed RLE of the mask ``ann[field]`` (see :func:`to_rle`).

        Raises
        ------
        synthscene.errors.DatasetError
            If the field is missing or malformed, naming the annotation and field.
        """
        if field not in ann:
            raise self.error(ann, field, "missing")
        try:
            return to_rle(ann[field], image["height"], image["width"])
        except ValueError as exc:
            raise self.error(ann, field, str(exc)) from None

    def mask(self, ann: dict, image: dict, field: str = "segmentation") -> np.ndarray:
        """Decode ``ann[field]``.

        Returns
        -------
        (H, W) bool
            The mask of ``ann`` in its image.

        Raises
        ------
        synthscene.errors.DatasetError
            If the field is missing or malformed.
        """
        return mask_utils.decode(self.rle(ann, image, field)).astype(bool)

    def extra_file(self, image: dict, field: str) -> Path:
        """Path of an image's extra file (``depth_file``, ``semantic_file``, ...).

        Raises
        ------
        synthscene.errors.DatasetError
            If the entry has no such field.
        synthscene.errors.AssetError
            If the file does not exist.
        """
        if field not in image:
            raise self.error(image, field, "missing")
        path = self._inside(self.root, image, field)
        if not path.is_file():
            raise AssetError(f"{path}: is missing ({self.where(image)}.{field})")
        return path

    def read_extra_png(self, image: dict, field: str) -> np.ndarray:
        """Read an image's extra single-channel PNG (depth, instance or semantic) unchanged.

        Returns
        -------
        (H, W) uint16 or uint8
            The stored values (depth in mm, instance ids, category ids).

        Raises
        ------
        synthscene.errors.DatasetError, synthscene.errors.AssetError
            If the field is missing, or the file is missing, unreadable, not single-channel or
            not ``height x width``.
        """
        path = self.extra_file(image, field)
        array = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        if array is None or array.ndim != 2:
            raise AssetError(f"{path}: not a single-channel PNG ({self.where(image)}.{field})")
        if array.shape != (image["height"], image["width"]):
            raise AssetError(f"{path}: is {array.shape[1]}x{array.shape[0]} (width x height), "
                             f"but {self.where(image)} says {image['width']}x{image['height']}")
        return array

    def require(self, entries: Sequence[dict], fields: Sequence[str], purpose: str) -> None:
        """Check that every entry holds every field.

        Raises
        ------
        synthscene.errors.DatasetError
            Naming the first entry and field that is missing and what needs it.
        """
        for entry in entries:
            for field in fields:
                if field not in entry:
                    missing = sum(1 for e in entries if field not in e)
                    raise self.error(entry, field, f"missing ({purpose} needs it; {missing} of "
                                     f"{len(entries)} entries lack it)")


def load_dataset(dataset: str | Path, *, image_dir: str | Path | None = None,
                 limit: int | None = None, progress: json_stream.Progress | None = None
                 ) -> CocoDataset:
    """Read a dataset and check its schema and ids, streaming its entries.

    The file is read entry by entry (:mod:`synthscene.io.json_stream`); every entry is
    schema-checked, but with ``limit`` only the first ``limit`` images by id and their
    annotations are kept, so memory grows with what is kept, not with the file.

    Parameters
    ----------
    dataset : str or pathlib.Path
        A dataset folder holding ``annotations.json``, or a COCO JSON file.
    image_dir : str or pathlib.Path, optional
        See :func:`locate_dataset`.
    limit : int, optional
        Keep only this many images (the smallest ids) and their annotations.
    progress : callable, optional
        ``progress(bytes_read, total_bytes)`` while each pass reads the file.

    Returns
    -------
    CocoDataset

    Raises
    ------
    synthscene.errors.DatasetError
        If the dataset cannot be found or parsed, breaks the schema (see
        :func:`schema_problems`), or has duplicate image or category ids, or an annotation whose
        ``image_id`` or ``category_id`` is unknown. The message names the file and the first bad
        entry; ``synthscene validate`` lists them all.
    """
    annotations_path, images_path = locate_dataset(dataset, image_dir)
    source = str(annotations_path)
    layout = json_stream.scan_layout(annotations_path, progress)
    problems, _ = top_level_problems(layout.top, layout.keys)
    if layout.duplicates:
        problems.insert(0, Problem("schema", layout.duplicates[0], "this top-level key appears "
                                   "more than once"))
    if problems:
        json_stream.check_syntax(annotations_path, progress)
        raise DatasetError(source, problems[0].where, problems[0].message)

    def entries(kind: str) -> Iterable[tuple[int, dict]]:
        for index, entry in enumerate(json_stream.iter_items(annotations_path, f"{kind}.item",
                                                             progress)):
            drop_null_optional(kind, entry)
            bad = entry_problems(kind, index, entry)
            if bad:
                raise DatasetError(source, bad[0].where, bad[0].message)
            yield index, entry

    data: dict[str, Any] = {}
    for key in layout.keys:
        if key not in ("images", "annotations", "categories"):
            data[key] = json_stream.read_value(annotations_path, key)
    if isinstance(data.get("stuff_categories"), list):
        for index, entry in enumerate(data["stuff_categories"]):
            bad = entry_problems("stuff_categories", index, entry)
            if bad:
                raise DatasetError(source, bad[0].where, bad[0].message)
    data["categories"] = [entry for _, entry in entries("categories")]
    category_ids = _unique_ids(source, "categories", enumerate(data["categories"]))
    kept: list[tuple[int, int, dict]] = []  # (id, file index, entry)
    image_ids: set[int] = set()
    for index, image in entries("images"):
        if image["id"] in image_ids:
            raise DatasetError(source, entry_name("images", index, image),
                               f"duplicate image id {image['id']}")
        image_ids.add(image["id"])
        kept.append((image["id"], index, image))
        if limit is not None and len(kept) > 2 * limit + 64:
            kept = heapq.nsmallest(limit, kept, key=lambda item: item[0])
    kept = sorted(kept, key=lambda item: item[0])[:limit]
    keep_ids = {image_id for image_id, _, _ in kept}
    data["images"] = [image for _, _, image in kept]
    annotations: list[dict] = []
    annotation_positions: list[int] = []
    for index, ann in entries("annotations"):
        for key, known in (("image_id", image_ids), ("category_id", category_ids)):
            if ann[key] not in known:
                raise DatasetError(source, f"{entry_name('annotations', index, ann)}.{key}",
                                   f"no {key[:-3]} has id {ann[key]}")
        if limit is None or ann["image_id"] in keep_ids:
            annotations.append(ann)
            annotation_positions.append(index)
    data["annotations"] = annotations
    return CocoDataset(annotations_path, images_path, data, positions={
        "images": [index for _, index, _ in kept], "annotations": annotation_positions})


def _unique_ids(source: str, kind: str, entries: Iterable[tuple[int, dict]]) -> set[int]:
    seen: set[int] = set()
    for index, entry in entries:
        if entry["id"] in seen:
            raise DatasetError(source, entry_name(kind, index, entry),
                               f"duplicate {kind[:-1]} id {entry['id']}")
        seen.add(entry["id"])
    return seen


def category_names(categories: Iterable[Mapping[str, Any]]) -> dict[int, str]:
    """Map category id to name."""
    return {int(cat["id"]): str(cat["name"]) for cat in categories}
