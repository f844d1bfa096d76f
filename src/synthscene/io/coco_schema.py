"""The schema of a COCO instances file: the checks every reader of a dataset runs.

:func:`schema_problems` checks a parsed file; :func:`top_level_problems` and
:func:`entry_problems` check it piece by piece, as :mod:`~synthscene.tools.validate` does while it
streams the file and :func:`synthscene.io.reader.load_dataset` does while it reads. Each defect
is a :class:`Problem`. Every ``file_name`` must be a relative path that stays inside the image
folder (:func:`path_problem`, :func:`resolve_inside`), for every tool.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from synthscene.core.lens import LENS_MODELS
from synthscene.core.stereo import EYES as STEREO_EYES

__all__ = [
    "EXTRA_FILE_FIELDS", "MAX_IMAGE_PIXELS", "OPTIONAL_FIELDS", "TOP_LEVEL_LISTS", "Problem",
    "drop_null_optional", "entry_name", "entry_problems", "path_problem", "resolve_inside",
    "schema_problems", "segmentation_problem", "top_level_problems",
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



EXTRA_FILE_FIELDS = ("depth_file", "depth_npy_file", "normals_file", "instance_mask_file",
                     "semantic_file", "flow_file", "flow_backward_file", "flow_valid_file",
                     "point_tracks_file", "depth_sensor_file", "disparity_file")
"""Image fields naming a file of the dataset beside the image (relative to the annotation
file's folder; :func:`synthscene.io.maps.encode_frame_maps` writes them)."""

OPTIONAL_FIELDS = {
    "images": ("K", "world_from_camera", *EXTRA_FILE_FIELDS, "depth_scale", "scene_id",
               "view_id", "sequence_id", "frame_index", "fps", "distortion_model",
               "dist_coeffs", "stereo_pair_id", "eye", "baseline_m", "disparity_scale"),
    "annotations": ("amodal_bbox", "amodal_area", "visib_fract", "truncation", "cam_R_m2c",
                    "cam_t_m2c", "world_from_object", "keypoints", "num_keypoints",
                    "amodal_segmentation", "scene_instance_id", "object_scale_m",
                    "track_id"),
    "categories": ("keypoints", "skeleton"),
}
"""The optional synthscene fields of each entry kind (type-checked when present)."""


def drop_null_optional(kind: str, entry: Any) -> None:
    """Remove the optional fields of ``entry`` (of list ``kind``) whose value is ``null``."""
    if isinstance(entry, dict):
        for key in OPTIONAL_FIELDS.get(kind, ()):
            if key in entry and entry[key] is None:
                del entry[key]


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


def segmentation_problem(seg: Any) -> str | None:
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
           for key in ("scene_id", "view_id", "sequence_id", "frame_index", "stereo_pair_id")},
        "eye": (lambda v: v in STEREO_EYES, f"one of {list(STEREO_EYES)}"),
        "baseline_m": (lambda v: _is_number(v) and v > 0, "a number > 0 (metres)"),
        "disparity_scale": (lambda v: _is_number(v) and v > 0,
                            "a number > 0 (units per pixel)"),
        "fps": (lambda v: _is_number(v) and v > 0, "a number > 0 (frames per second)"),
        "distortion_model": (lambda v: v in LENS_MODELS, f"one of {list(LENS_MODELS)}"),
        "dist_coeffs": (lambda v: _numbers(v) and len(v) in (4, 5),
                        "4 or 5 numbers (OpenCV's order)"),
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
    "amodal_segmentation": (lambda v: segmentation_problem(v) is None,
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
        why = segmentation_problem(ann["segmentation"])
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

