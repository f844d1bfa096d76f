"""``synthscene validate``: check that a COCO dataset on disk is what it claims to be.

Like Gymnasium's ``check_env`` for environments, this is a conformance checker that any user can
run on any COCO instances dataset (synthscene's or another generator's). It checks the COCO
format (cocodataset.org/#format-data) and synthscene's label conventions (``DESIGN.md`` §7):

========== ================================================================================
check      what
========== ================================================================================
schema     required COCO keys and their types; optional synthscene fields when present
ids        image, annotation and category ids are >= 1 and unique; every annotation's
           ``image_id`` and ``category_id`` exist
category   category ids are >= 1 (COCO reserves 0 for "no object"), in ``categories`` and in
           every annotation
files      every image file exists and can be read
image_size every image file is ``width x height`` as its entry says
rle        every segmentation decodes (pycocotools) to a mask of size ``[height, width]``
bbox       ``bbox`` equals ``pycocotools.mask.toBbox`` of the mask (within 1e-6 px): tight
area       ``area`` equals the mask's pixel count (``pycocotools.mask.area``)
nonempty   no annotation has an empty mask or ``area`` 0
overlap    the visible masks (``iscrowd`` 0) of an image do not overlap
extras     optional synthscene fields are consistent: ``amodal_bbox`` contains ``bbox``,
           ``num_keypoints`` counts the keypoints with v > 0, v in {0, 1, 2}, the keypoint
           count matches the category's ``keypoints``, extra image files exist
========== ================================================================================

:func:`validate_dataset` returns a :class:`ValidationReport`; the CLI prints
:meth:`ValidationReport.format` and exits with status 1 if a check failed.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from pycocotools import mask as mask_utils

from synthscene.tools.dataset import (
    Problem,
    entry_name,
    locate_dataset,
    read_annotation_file,
    schema_problems,
    to_rle,
)

__all__ = [
    "BBOX_TOLERANCE_PX", "CHECKS", "CheckResult", "ValidationReport", "mask_areas",
    "validate_dataset",
]

logger = logging.getLogger(__name__)

BBOX_TOLERANCE_PX = 1e-6
"""Largest difference, in pixels, between ``bbox`` and ``pycocotools.mask.toBbox`` of the mask."""

CHECKS: dict[str, str] = {
    "schema": "required COCO keys and types",
    "ids": "ids >= 1 and unique; annotations point to existing images and categories",
    "category": "category ids >= 1",
    "files": "image files exist and can be read",
    "image_size": "image files are width x height as their entries say",
    "rle": "segmentations decode to a mask of size [height, width]",
    "bbox": "bbox tight to the mask (pycocotools.mask.toBbox, within 1e-6 px)",
    "area": "area = the mask's pixel count",
    "nonempty": "no empty mask, no area 0",
    "overlap": "visible masks of an image do not overlap",
    "extras": "optional synthscene fields consistent (amodal_bbox, keypoints, extra files)",
}
"""Every check, in the order they run and are reported, with a one-line description."""


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check.

    Attributes
    ----------
    name : str
        A key of :data:`CHECKS`.
    checked : int
        How many entries (images, annotations, ...) the check examined.
    problems : tuple of Problem
        Every defect found, in file order.
    skipped : str or None
        Why the check could not run (e.g. the top level of the file is broken), else None.
    """

    name: str
    checked: int
    problems: tuple[Problem, ...] = ()
    skipped: str | None = None

    @property
    def ok(self) -> bool:
        """True if the check ran and found nothing (a skipped check is not ok)."""
        return self.skipped is None and not self.problems


@dataclass(frozen=True)
class ValidationReport:
    """What :func:`validate_dataset` found.

    Attributes
    ----------
    annotations_path : pathlib.Path
        The COCO JSON file checked.
    image_dir : pathlib.Path
        Where image files were looked up.
    counts : dict
        ``{"images": n, "annotations": n, "categories": n}`` as listed in the file.
    checks : tuple of CheckResult
        One per entry of :data:`CHECKS`, in that order.
    """

    annotations_path: Path
    image_dir: Path
    counts: dict[str, int]
    checks: tuple[CheckResult, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        """True if every check ran and passed."""
        return all(check.ok for check in self.checks)

    @property
    def problems(self) -> list[Problem]:
        """Every problem of every check."""
        return [problem for check in self.checks for problem in check.problems]

    def check(self, name: str) -> CheckResult:
        """The result of check ``name`` (a key of :data:`CHECKS`)."""
        for result in self.checks:
            if result.name == name:
                return result
        raise KeyError(name)

    def failed(self) -> list[str]:
        """Names of the checks that failed or were skipped."""
        return [check.name for check in self.checks if not check.ok]

    def format(self, max_problems: int = 10) -> str:
        """A readable report: counts, one line per check, the first problems of each.

        Parameters
        ----------
        max_problems : int
            How many problems to list per failed check; the rest are counted.
        """
        counts = self.counts
        lines = [
            f"dataset: {self.annotations_path} (images from {self.image_dir})",
            f"{counts.get('images', 0)} images, {counts.get('annotations', 0)} annotations, "
            f"{counts.get('categories', 0)} categories",
        ]
        width = max(len(name) for name in CHECKS)
        for check in self.checks:
            if check.skipped is not None:
                lines.append(f"  SKIP  {check.name:<{width}}  {CHECKS[check.name]}: "
                             f"{check.skipped}")
                continue
            status = "ok  " if check.ok else "FAIL"
            tail = (f"{check.checked} checked" if check.ok else
                    f"{len(check.problems)} problem{'s' if len(check.problems) != 1 else ''} "
                    f"in {check.checked} checked")
            lines.append(f"  {status}  {check.name:<{width}}  {CHECKS[check.name]} ({tail})")
            for problem in check.problems[:max_problems]:
                lines.append(f"          - {problem}")
            if len(check.problems) > max_problems:
                lines.append(f"          ... and {len(check.problems) - max_problems} more")
        failed = self.failed()
        lines.append("result: valid" if not failed else
                     f"result: INVALID ({len(failed)} of {len(self.checks)} checks failed or "
                     f"skipped: {', '.join(failed)})")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data (every problem included)."""
        return {
            "annotations": str(self.annotations_path),
            "image_dir": str(self.image_dir),
            "counts": dict(self.counts),
            "ok": self.ok,
            "checks": [
                {"name": c.name, "description": CHECKS[c.name], "ok": c.ok, "checked": c.checked,
                 "skipped": c.skipped,
                 "problems": [{"where": p.where, "message": p.message} for p in c.problems]}
                for c in self.checks
            ],
        }


class _Collector:
    """Problems and examined-entry counts per check, while validating."""

    def __init__(self) -> None:
        self.problems: dict[str, list[Problem]] = defaultdict(list)
        self.checked: dict[str, int] = defaultdict(int)
        self.skipped: dict[str, str] = {}

    def add(self, check: str, where: str, message: str) -> None:
        self.problems[check].append(Problem(check, where, message))

    def result(self) -> tuple[CheckResult, ...]:
        return tuple(CheckResult(name, self.checked[name], tuple(self.problems[name]),
                                 self.skipped.get(name)) for name in CHECKS)


def validate_dataset(dataset: str | Path, *, image_dir: str | Path | None = None
                     ) -> ValidationReport:
    """Run every check of :data:`CHECKS` on a dataset.

    Parameters
    ----------
    dataset : str or pathlib.Path
        A dataset folder holding ``annotations.json``, or a COCO JSON file.
    image_dir : str or pathlib.Path, optional
        Folder that image ``file_name`` entries are relative to (default: ``images/`` next to
        the annotation file, see :func:`synthscene.tools.dataset.locate_dataset`).

    Returns
    -------
    ValidationReport
        Its ``ok`` is True only if every check passed. Entries that break the schema are left
        out of the later checks (so one bad entry is reported once).

    Raises
    ------
    synthscene.errors.ConfigError
        If the dataset cannot be found, or the annotation file cannot be read or parsed as JSON
        (there is nothing to check then).
    """
    annotations_path, images_path = locate_dataset(dataset, image_dir)
    data = read_annotation_file(annotations_path)
    out = _Collector()
    problems, usable = schema_problems(data)
    counts = {key: len(data[key]) if isinstance(data, dict) and isinstance(data.get(key), list)
              else 0 for key in ("images", "annotations", "categories")}
    out.problems["schema"].extend(problems)
    out.checked["schema"] = sum(counts.values())
    if not usable:
        for name in CHECKS:
            if name != "schema":
                out.skipped[name] = "the file's top level is broken (see schema)"
        return ValidationReport(annotations_path, images_path, counts, out.result())

    bad = {f"{p.where.split('.')[0]}" for p in problems}
    images = _valid_entries(data["images"], "images", bad)
    annotations = _valid_entries(data["annotations"], "annotations", bad)
    categories = _valid_entries(data["categories"], "categories", bad)

    known_images = _check_ids(data, out)
    _check_category_ids(data, out)
    _check_files(images, images_path, out)
    _check_masks(images, annotations, known_images, out)
    _check_extras(images, annotations, categories, annotations_path.parent, out)
    report = ValidationReport(annotations_path, images_path, counts, out.result())
    logger.info("validated %s: %s", annotations_path, "valid" if report.ok else
                f"failed {report.failed()}")
    return report


def _valid_entries(entries: list, kind: str, bad: set[str]) -> list[tuple[str, dict]]:
    """``(name, entry)`` of the entries of ``kind`` that passed the schema check."""
    named = ((entry_name(kind, index, entry), entry) for index, entry in enumerate(entries))
    return [(name, entry) for name, entry in named if name not in bad]


def _ids(entries: Iterable[Any]) -> Iterable[tuple[int, int]]:
    for index, entry in enumerate(entries):
        if isinstance(entry, dict) and isinstance(entry.get("id"), int) \
                and not isinstance(entry.get("id"), bool):
            yield index, entry["id"]


def _check_ids(data: dict, out: _Collector) -> dict[int, dict]:
    """Ids >= 1 and unique, references resolve; return the images by id (first of a duplicate)."""
    by_kind: dict[str, dict[int, dict]] = {}
    for kind in ("images", "annotations", "categories"):
        seen: dict[int, int] = {}
        for index, value in _ids(data[kind]):
            out.checked["ids"] += 1
            where = entry_name(kind, index, data[kind][index])
            if value < 1 and kind != "categories":  # categories: reported by "category"
                out.add("ids", where, f"id {value} must be >= 1")
            if value in seen:
                out.add("ids", where, f"duplicate {kind[:-1]} id {value} (also {kind}"
                        f"[{seen[value]}])")
            else:
                seen[value] = index
        by_kind[kind] = {value: data[kind][index] for value, index in seen.items()}
    for index, ann in enumerate(data["annotations"]):
        if not isinstance(ann, dict):
            continue
        where = entry_name("annotations", index, ann)
        for key, kind in (("image_id", "images"), ("category_id", "categories")):
            value = ann.get(key)
            if isinstance(value, int) and value not in by_kind[kind]:
                out.add("ids", f"{where}.{key}", f"no {key[:-3]} has id {value}")
    return by_kind["images"]


def _check_category_ids(data: dict, out: _Collector) -> None:
    for index, value in _ids(data["categories"]):
        out.checked["category"] += 1
        if value < 1:
            out.add("category", entry_name("categories", index, data["categories"][index]),
                    f"category id {value} must be >= 1 (COCO reserves 0 for no object)")
    for index, ann in enumerate(data["annotations"]):
        value = ann.get("category_id") if isinstance(ann, dict) else None
        if isinstance(value, int) and not isinstance(value, bool):
            out.checked["category"] += 1
            if value < 1:
                out.add("category", f"{entry_name('annotations', index, ann)}.category_id",
                        f"category id {value} must be >= 1 (COCO reserves 0 for no object)")


def _check_files(images: list[tuple[str, dict]], image_dir: Path, out: _Collector) -> None:
    """Check that image files exist, can be read, and have the entry's size.

    PIL's ``Image.open`` reads only the file header, so this does not decode the pixels.
    """
    for where, image in images:
        out.checked["files"] += 1
        path = image_dir / image["file_name"]
        if not path.is_file():
            out.add("files", f"{where}.file_name", f"{path} is missing")
            continue
        try:
            with Image.open(path) as handle:
                width, height = handle.size
        except (OSError, ValueError, Image.DecompressionBombError) as exc:
            out.add("files", f"{where}.file_name", f"{path} cannot be read as an image ({exc})")
            continue
        out.checked["image_size"] += 1
        expected = (image["width"], image["height"])
        if (width, height) != expected:
            swapped = " (width and height swapped)" if (height, width) == expected else ""
            out.add("image_size", where, f"{path.name} is {width}x{height} (width x height) but "
                    f"the entry says {expected[0]}x{expected[1]}{swapped}")


def _check_masks(images: list[tuple[str, dict]], annotations: list[tuple[str, dict]],
                 known_images: dict[int, dict], out: _Collector) -> None:
    """rle, bbox, area, nonempty and overlap checks, on RLE (no mask is decoded to pixels).

    Masks are checked against the size their image entry gives, whether or not the image file
    is there (a missing file is reported by the files check).
    """
    valid_image_ids = {image["id"] for _, image in images}
    by_image: dict[int, list[tuple[str, dict, dict]]] = defaultdict(list)
    for where, ann in annotations:
        image = known_images.get(ann["image_id"])
        if image is None or image["id"] not in valid_image_ids:
            continue  # reported by ids or schema
        out.checked["rle"] += 1
        try:
            rle = to_rle(ann["segmentation"], image["height"], image["width"])
        except ValueError as exc:
            out.add("rle", f"{where}.segmentation", str(exc))
            continue
        by_image[image["id"]].append((where, ann, rle))

    for image_id in sorted(by_image):
        entries = by_image[image_id]
        rles = [rle for _, _, rle in entries]
        boxes = mask_utils.toBbox(rles).reshape(-1, 4)
        areas = mask_areas(rles)
        for (where, ann, _), box, pixels in zip(entries, boxes, areas):
            out.checked["bbox"] += 1
            out.checked["area"] += 1
            out.checked["nonempty"] += 1
            if pixels == 0 or ann["area"] == 0:
                out.add("nonempty", where, "the mask is empty" if pixels == 0 else "area is 0")
            bbox = np.asarray(ann["bbox"], dtype=np.float64)
            if pixels > 0 and np.abs(bbox - box).max() > BBOX_TOLERANCE_PX:
                out.add("bbox", f"{where}.bbox", f"{_fmt(bbox)} but the mask's tight box is "
                        f"{_fmt(box)}")
            if abs(float(ann["area"]) - float(pixels)) > 1e-6:
                hint = " (= width x height of the box?)" if abs(
                    float(ann["area"]) - float(box[2] * box[3])) < 1e-6 and pixels > 0 else ""
                out.add("area", f"{where}.area", f"{ann['area']} but the mask has {int(pixels)} "
                        f"pixels{hint}")
        _check_overlap(entries, out)


def mask_areas(rles: list[dict]) -> np.ndarray:
    """Pixel counts of RLE masks, ``(n,) int64``: ``pycocotools.mask.area`` in chunks of 255.

    pycocotools 2.0.x fails (``OverflowError ... uint8``) when ``area`` is given more than 255
    masks at once, so an image with more than 255 instances is counted in chunks.
    """
    chunks = [np.asarray(mask_utils.area(rles[k:k + 255]), dtype=np.int64).reshape(-1)
              for k in range(0, len(rles), 255)]
    return np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int64)


def _check_overlap(entries: list[tuple[str, dict, dict]], out: _Collector) -> None:
    """Visible masks of one image must not overlap: their union's area is the sum of areas."""
    visible = [(where, rle) for where, ann, rle in entries if ann["iscrowd"] == 0]
    out.checked["overlap"] += len(visible)
    if len(visible) < 2:
        return
    rles = [rle for _, rle in visible]
    union = int(mask_utils.area(mask_utils.merge(rles, intersect=False)))
    total = int(mask_areas(rles).sum())
    if union == total:
        return
    # Some masks overlap: find which pairs, among those whose boxes meet.
    boxes = mask_utils.toBbox(rles).reshape(-1, 4)
    for i in range(len(visible)):
        for j in range(i + 1, len(visible)):
            if not _boxes_meet(boxes[i], boxes[j]):
                continue
            shared = int(mask_utils.area(mask_utils.merge([rles[i], rles[j]], intersect=True)))
            if shared:
                out.add("overlap", visible[j][0], f"its mask shares {shared} pixels with "
                        f"{visible[i][0]}")


def _boxes_meet(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(a[0] < b[0] + b[2] and b[0] < a[0] + a[2]
                and a[1] < b[1] + b[3] and b[1] < a[1] + a[3])


def _check_extras(images: list[tuple[str, dict]], annotations: list[tuple[str, dict]],
                  categories: list[tuple[str, dict]], root: Path, out: _Collector) -> None:
    """Consistency of the optional synthscene fields, where present."""
    for where, image in images:
        for key in ("depth_file", "instance_mask_file", "semantic_file"):
            if key in image:
                out.checked["extras"] += 1
                if not (root / image[key]).is_file():
                    out.add("extras", f"{where}.{key}", f"{root / image[key]} is missing")
    keypoint_names = {cat["id"]: cat.get("keypoints") for _, cat in categories}
    for where, ann in annotations:
        if "amodal_bbox" in ann:
            out.checked["extras"] += 1
            ax, ay, aw, ah = ann["amodal_bbox"]
            x, y, w, h = ann["bbox"]
            tol = BBOX_TOLERANCE_PX
            if not (ax <= x + tol and ay <= y + tol and x + w <= ax + aw + tol
                    and y + h <= ay + ah + tol):
                out.add("extras", f"{where}.amodal_bbox", f"{_fmt(ann['amodal_bbox'])} does not "
                        f"contain bbox {_fmt(ann['bbox'])}")
        if "amodal_area" in ann:
            out.checked["extras"] += 1
            if ann["amodal_area"] < ann["area"]:
                out.add("extras", f"{where}.amodal_area", f"{ann['amodal_area']} is smaller than "
                        f"the visible area {ann['area']}")
        if "keypoints" in ann:
            out.checked["extras"] += 1
            flags = ann["keypoints"][2::3]
            names = keypoint_names.get(ann["category_id"])
            if any(v not in (0, 1, 2) for v in flags):
                out.add("extras", f"{where}.keypoints", "visibility flags must be 0, 1 or 2")
            if names is not None and len(flags) != len(names):
                out.add("extras", f"{where}.keypoints", f"{len(flags)} points, but the category "
                        f"lists {len(names)} keypoint names")
            if "num_keypoints" in ann and ann["num_keypoints"] != sum(1 for v in flags if v > 0):
                out.add("extras", f"{where}.num_keypoints", f"{ann['num_keypoints']}, but "
                        f"{sum(1 for v in flags if v > 0)} keypoints have v > 0")


def _fmt(values: Any) -> str:
    return "[" + ", ".join(f"{float(v):g}" for v in values) + "]"
