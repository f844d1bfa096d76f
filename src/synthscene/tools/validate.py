"""``synthscene validate``: check that a COCO dataset on disk is what it claims to be.

Like Gymnasium's ``check_env`` for environments, this is a conformance checker that any user can run
on any COCO instances dataset (synthscene's or another generator's). It checks the COCO format
(cocodataset.org/#format-data) and synthscene's label conventions (``docs/architecture.md``,
conventions: labels):

========== ================================================================================
check      what
========== ================================================================================
schema     required COCO keys and their types; optional synthscene fields when present;
           ``file_name`` (and extra file paths) relative, without ``..``
ids        image, annotation and category ids are >= 1 and unique; every annotation's
           ``image_id`` and ``category_id`` exist; no two images share a (``scene_id``,
           ``view_id``) pair
category   category ids are >= 1 (COCO reserves 0 for "no object"), in ``categories`` and in
           every annotation
files      every image file lies inside the image folder, exists and decodes completely
image_size every image file is ``width x height`` as its entry says
rle        every segmentation decodes (pycocotools) to a mask of size ``[height, width]``
bbox       ``bbox`` lies inside the image and equals ``pycocotools.mask.toBbox`` of the mask
           (within 1e-6 px) or, for polygons, their vertex extent (within 0.01 px)
area       ``area`` equals the mask's pixel count (``pycocotools.mask.area``) or, for
           polygons, their area (within 1 px² + 1 %)
nonempty   no annotation has an empty mask or ``area`` 0
overlap    the visible masks (``iscrowd`` 0) of an image do not overlap
extras     optional synthscene fields are consistent: ``amodal_bbox`` contains ``bbox``,
           ``num_keypoints`` counts the keypoints with v > 0, v in {0, 1, 2}, the keypoint
           count matches the category's ``keypoints``, extra image files exist, and flow,
           float depth and point-track files have their documented dtype and shape
           (:func:`~synthscene.io.dataset_checks.check_map_file`; never unpickled)
tracks     (datasets of sequences) every annotation has a ``track_id`` if one has; a
           ``track_id`` never belongs to two categories, and no two annotations of one image
           share a ``track_id``
sequences  (datasets of sequences) every image has ``sequence_id`` and ``frame_index`` if
           one has; no ``frame_index`` twice in a sequence (an eye of a stereo one); it
           misses at most :data:`MAX_MISSING_FRAMES` of the frames ``0 .. max(frame_index)``
========== ================================================================================

:func:`validate_dataset` returns a :class:`ValidationReport`; the CLI prints
:meth:`ValidationReport.format` and exits with status 1 if a check failed. The report says which
``bbox`` and ``area`` convention the annotations follow (:mod:`synthscene.io.dataset_checks`): the
mask's (synthscene's, COCO's for RLE) or the polygons' (COCO 2017's polygon annotations).
The file is read entry by entry, so memory does not grow with the number of annotations.
"""

from __future__ import annotations

import logging
from array import array
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from pycocotools import mask as mask_utils

from synthscene.core.stereo import EYES as STEREO_EYES
from synthscene.io import json_stream
from synthscene.io.coco_schema import (
    EXTRA_FILE_FIELDS,
    Problem,
    drop_null_optional,
    entry_name,
    entry_problems,
    resolve_inside,
    top_level_problems,
)
from synthscene.io.dataset_checks import (
    BBOX_TOLERANCE_PX,
    check_image_file,
    check_map_file,
    check_mask,
    mask_areas,
    overlaps,
)
from synthscene.io.reader import locate_dataset

__all__ = [
    "BBOX_TOLERANCE_PX", "CHECKS", "MAX_KEPT_PROBLEMS", "MAX_MISSING_FRAMES", "CheckResult",
    "ValidationReport",
    "mask_areas", "validate_dataset",
]

logger = logging.getLogger(__name__)

MAX_KEPT_PROBLEMS = 1000
"""Problems kept per check by :func:`validate_dataset`; the rest are only counted."""

MAX_MISSING_FRAMES = 10_000
"""Frames a sequence may miss: a sequence of ``n`` images must have every ``frame_index``
below ``n + MAX_MISSING_FRAMES``. A sequence that synthscene writes misses none; a subset of
one (every 10th frame of a long video) misses some; a ``frame_index`` of 10^7 in a sequence of
three images is a broken or hostile file, which would make tools that lay a sequence out by
``frame_index`` (MOT, YouTube-VIS) allocate for 10^7 frames."""

CHECKS: dict[str, str] = {
    "schema": "required COCO keys and types",
    "ids": "ids >= 1 and unique; annotations point to existing images and categories; "
           "(scene_id, view_id) and (stereo_pair_id, eye) unique",
    "category": "category ids >= 1",
    "files": "image files inside the image folder, exist and decode",
    "image_size": "image files are width x height as their entries say",
    "rle": "segmentations decode to a mask of size [height, width]",
    "bbox": "bbox inside the image, tight to the mask (or to the polygons' vertices)",
    "area": "area = the mask's pixel count (or the polygons' area)",
    "nonempty": "no empty mask, no area 0",
    "overlap": "visible masks of an image do not overlap",
    "extras": "optional synthscene fields consistent (amodal_bbox, keypoints, extra files "
              "exist and have their layout)",
    "tracks": "track_id on every annotation or none, one category per track, once per image",
    "sequences": "sequence_id and frame_index on every image or none, frame_index unique in "
                 "its sequence, no absurd gaps",
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
    count : int or None
        How many problems were found; ``problems`` keeps only the first ones
        (:data:`MAX_KEPT_PROBLEMS`). None: ``len(problems)``.
    """

    name: str
    checked: int
    problems: tuple[Problem, ...] = ()
    skipped: str | None = None
    count: int | None = None

    @property
    def problem_count(self) -> int:
        """Number of problems found (kept or not)."""
        return len(self.problems) if self.count is None else max(self.count, len(self.problems))

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
    conventions : dict
        ``{"bbox": {"mask": n, "polygon": m}, "area": {...}}``: how many annotations follow
        each convention (:mod:`synthscene.io.dataset_checks`).
    """

    annotations_path: Path
    image_dir: Path
    counts: dict[str, int]
    checks: tuple[CheckResult, ...] = field(default_factory=tuple)
    conventions: dict[str, dict[str, int]] = field(default_factory=dict)

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
            found = check.problem_count
            tail = (f"{check.checked} checked" if check.ok else
                    f"{found} problem{'s' if found != 1 else ''} in {check.checked} checked")
            lines.append(f"  {status}  {check.name:<{width}}  {CHECKS[check.name]} ({tail})")
            for problem in check.problems[:max_problems]:
                lines.append(f"          - {problem}")
            if found > min(max_problems, len(check.problems)):
                lines.append(f"          ... and {found - min(max_problems, len(check.problems))}"
                             " more")
        names = {"bbox": {"mask": "the mask's tight box", "polygon": "the polygons' vertex "
                          "extent (COCO 2017)"},
                 "area": {"mask": "the mask's pixel count", "polygon": "the polygons' area "
                          "(COCO 2017)"}}
        for kind in ("bbox", "area"):
            used = self.conventions.get(kind, {})
            if used:
                lines.append(f"  {kind} convention: " + ", ".join(
                    f"{names[kind][k]} ({n} annotations)" for k, n in sorted(used.items())))
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
            "conventions": {k: dict(v) for k, v in self.conventions.items()},
            "checks": [
                {"name": c.name, "description": CHECKS[c.name], "ok": c.ok, "checked": c.checked,
                 "skipped": c.skipped, "problem_count": c.problem_count,
                 "problems": [{"where": p.where, "message": p.message} for p in c.problems]}
                for c in self.checks
            ],
        }


class _Collector:
    """Problems and examined-entry counts per check, while validating; keeps the first
    ``keep`` problems of each check and counts the rest."""

    def __init__(self, keep: int) -> None:
        self.keep = keep
        self.problems: dict[str, list[Problem]] = defaultdict(list)
        self.counts: dict[str, int] = defaultdict(int)
        self.checked: dict[str, int] = defaultdict(int)
        self.skipped: dict[str, str] = {}
        self.conventions: dict[str, dict[str, int]] = {"bbox": defaultdict(int),
                                                       "area": defaultdict(int)}

    def add(self, check: str, where: str, message: str) -> None:
        self.extend([Problem(check, where, message)])

    def extend(self, problems: Iterable[Problem]) -> None:
        for problem in problems:
            self.counts[problem.check] += 1
            if len(self.problems[problem.check]) < self.keep:
                self.problems[problem.check].append(problem)

    def result(self) -> tuple[CheckResult, ...]:
        return tuple(CheckResult(name, self.checked[name], tuple(self.problems[name]),
                                 self.skipped.get(name), self.counts[name]) for name in CHECKS)


def validate_dataset(dataset: str | Path, *, image_dir: str | Path | None = None,
                     progress: Callable[[str, int, int], None] | None = None,
                     keep_problems: int = MAX_KEPT_PROBLEMS) -> ValidationReport:
    """Run every check of :data:`CHECKS` on a dataset, reading its entries one at a time.

    The annotation file is streamed (:mod:`synthscene.io.json_stream`): memory holds the
    images and categories, one annotation at a time, the masks of one image at a time, and
    the first ``keep_problems`` problems of each check.

    Parameters
    ----------
    dataset : str or pathlib.Path
        A dataset folder holding ``annotations.json``, or a COCO JSON file.
    image_dir : str or pathlib.Path, optional
        Folder that image ``file_name`` entries are relative to (default: ``images/`` next to
        the annotation file, see :func:`synthscene.io.reader.locate_dataset`).
    progress : callable, optional
        ``progress(stage, bytes_read, total_bytes)`` as each pass reads the file; ``stage`` is
        ``"scan"``, ``"categories"``, ``"images"`` or ``"annotations"``.
    keep_problems : int
        Problems kept per check (the rest are counted in :attr:`CheckResult.count`).

    Returns
    -------
    ValidationReport
        Its ``ok`` is True only if every check passed. Entries that break the schema are left
        out of the later checks (so one bad entry is reported once).

    Raises
    ------
    synthscene.errors.DatasetError
        If the dataset cannot be found, or the annotation file cannot be read, is not valid
        JSON, or nests too deep (there is nothing to check then).
    """
    annotations_path, images_path = locate_dataset(dataset, image_dir)

    def stage(name: str) -> Callable[[int, int], None] | None:
        return None if progress is None else (lambda done, total: progress(name, done, total))

    layout = json_stream.scan_layout(annotations_path, stage("scan"))
    out = _Collector(keep_problems)
    problems, usable = top_level_problems(layout.top, layout.keys)
    for key in layout.duplicates:
        out.add("schema", key, "this top-level key appears more than once")
    out.extend(problems)
    counts = {"images": 0, "annotations": 0, "categories": 0}
    if not usable:
        json_stream.check_syntax(annotations_path, stage("syntax"))
        for name in CHECKS:
            if name != "schema":
                out.skipped[name] = "the file's top level is broken (see schema)"
        return ValidationReport(annotations_path, images_path, counts, out.result())
    if layout.keys.get("stuff_categories") == "array":
        stuff = json_stream.read_value(annotations_path, "stuff_categories")
        for index, entry in enumerate(stuff):
            out.extend(entry_problems("stuff_categories", index, entry))

    state = _State(out)
    for kind in ("categories", "images", "annotations"):
        logger.info("%s: reading the %s (%d MiB file)", annotations_path, kind,
                    layout.size >> 20)
        visit = {"categories": state.category, "images": state.image,
                 "annotations": state.annotation}[kind]
        for index, entry in enumerate(json_stream.iter_items(annotations_path, f"{kind}.item",
                                                             stage(kind))):
            counts[kind] += 1
            drop_null_optional(kind, entry)
            bad = entry_problems(kind, index, entry)
            out.extend(bad)
            out.checked["schema"] += 1
            visit(index, entry, not bad, images_path, annotations_path.parent)
        state.finish(kind)
    report = ValidationReport(annotations_path, images_path, counts, out.result(),
                              {key: dict(value) for key, value in out.conventions.items()})
    logger.info("validated %s: %s", annotations_path, "valid" if report.ok else
                f"failed {report.failed()}")
    return report


class _State:
    """What validation keeps between entries: ids, the valid images, the current image's
    masks. Its methods take ``(index, entry, schema_ok, image_dir, root)``."""

    def __init__(self, out: _Collector) -> None:
        self.out = out
        self.category_ids: dict[int, int] = {}
        self.keypoint_names: dict[int, list | None] = {}
        self.image_ids: dict[int, int] = {}
        self.images: dict[int, tuple[str, dict]] = {}  # schema-valid images (first of an id)
        self.annotation_ids = array("q")
        self.annotation_wheres: list[int] = []
        self.group: tuple[int | None, list[tuple[str, dict]]] = (None, [])
        self.unions: dict[int, dict] = {}
        # (track_id, image_id, category_id, annotation index) of every tracked annotation:
        # 32 bytes each, checked once all are read.
        self.tracks = {name: array("q") for name in ("track", "image", "category", "index")}
        # (sequence_id, eye, frame_index, image index), (scene_id, view_id, eye, image index)
        # of every image holding both fields (eye -1 for one camera), checked after the images
        self.frames = {name: array("q") for name in ("sequence", "eye", "frame", "index")}
        self.views = {name: array("q") for name in ("scene", "view", "eye", "index")}
        self.eyes = {name: array("q") for name in ("pair", "eye", "index")}  # stereo pairs
        # fields that every entry must hold if one does: how many hold it, the first entries
        # that lack it (up to the problems kept) and how many do
        self.fields = {key: _Presence() for key in ("sequence_id", "frame_index", "track_id")}
        self.map_checks: dict[tuple[str, int | None], list[Problem]] = {}

    # ---------------------------------------------------------------- per entry
    def category(self, index: int, cat: Any, ok: bool, image_dir: Path, root: Path) -> None:
        value = _int_id(cat)
        if value is None:
            return
        where = entry_name("categories", index, cat)
        self._unique("categories", self.category_ids, value, index, where)
        self.out.checked["category"] += 1
        if value < 1:
            self.out.add("category", where, f"category id {value} must be >= 1 (COCO reserves "
                         "0 for no object)")
        if ok:
            self.keypoint_names.setdefault(value, cat.get("keypoints"))

    def image(self, index: int, image: Any, ok: bool, image_dir: Path, root: Path) -> None:
        value = _int_id(image)
        if value is None:
            return
        where = entry_name("images", index, image)
        if value < 1:
            self.out.add("ids", where, f"id {value} must be >= 1")
        first = self._unique("images", self.image_ids, value, index, where)
        if not ok:
            return
        if first:
            self.images[value] = (where, image)
        self.out.checked["files"] += 1
        path = resolve_inside(image_dir, image["file_name"])
        if path is None:
            self.out.add("files", f"{where}.file_name", f"{image['file_name']!r} leads outside "
                         f"{image_dir} (through a symbolic link)")
        else:
            found = check_image_file(path, image, where)
            if not any(p.check == "files" for p in found):
                self.out.checked["image_size"] += 1
            self.out.extend(found)
        for key in EXTRA_FILE_FIELDS:
            if key in image:
                self.out.checked["extras"] += 1
                extra = resolve_inside(root, image[key])
                if extra is None or not extra.is_file():
                    self.out.add("extras", f"{where}.{key}", f"{root / image[key]} is missing"
                                 if extra is not None else f"{image[key]!r} leads outside {root}")
                else:
                    self._map_file(extra, key, image, where)
        for key in ("sequence_id", "frame_index"):
            self.fields[key].see(key in image, index, where, self.out.keep)
        eye = STEREO_EYES.index(image["eye"]) if image.get("eye") in STEREO_EYES else -1
        if "sequence_id" in image and "frame_index" in image:
            self.out.checked["sequences"] += 1
            for name, item in (("sequence", image["sequence_id"]), ("eye", eye),
                               ("frame", image["frame_index"]), ("index", index)):
                self.frames[name].append(item)
        if "scene_id" in image and "view_id" in image:  # the two eyes of a view share it
            for name, item in (("scene", image["scene_id"]), ("view", image["view_id"]),
                               ("eye", eye), ("index", index)):
                self.views[name].append(item)
        if _is_int(image.get("stereo_pair_id")) and eye >= 0:
            self.out.checked["ids"] += 1
            for name, item in (("pair", image["stereo_pair_id"]), ("eye", eye), ("index", index)):
                self.eyes[name].append(item)

    def annotation(self, index: int, ann: Any, ok: bool, image_dir: Path, root: Path) -> None:
        value = _int_id(ann)
        where = entry_name("annotations", index, ann)
        if value is not None:
            self.out.checked["ids"] += 1
            if value < 1:
                self.out.add("ids", where, f"id {value} must be >= 1")
            self.annotation_ids.append(value)
            self.annotation_wheres.append(index)
        if not isinstance(ann, dict):
            return
        for key, known in (("image_id", self.image_ids), ("category_id", self.category_ids)):
            ref = ann.get(key)
            if _is_int(ref) and ref not in known:
                self.out.add("ids", f"{where}.{key}", f"no {key[:-3]} has id {ref}")
        category_id = ann.get("category_id")
        self.fields["track_id"].see("track_id" in ann, index, where, self.out.keep)
        if "track_id" in ann:
            self.out.checked["tracks"] += 1
            if ok and _is_int(ann.get("image_id")) and _is_int(category_id):
                for name, item in (("track", ann["track_id"]), ("image", ann["image_id"]),
                                   ("category", category_id), ("index", index)):
                    self.tracks[name].append(item)
        if _is_int(category_id):
            self.out.checked["category"] += 1
            if category_id < 1:
                self.out.add("category", f"{where}.category_id", f"category id {category_id} "
                             "must be >= 1 (COCO reserves 0 for no object)")
        if not ok or ann["image_id"] not in self.images:
            return  # reported by schema or ids
        image = self.images[ann["image_id"]][1]
        for name in ("rle", "bbox", "area", "nonempty"):
            self.out.checked[name] += 1
        found = check_mask(ann, image, where)
        self.out.extend(found.problems)
        for kind, convention in (("bbox", found.bbox_convention),
                                 ("area", found.area_convention)):
            if convention is not None:
                self.out.conventions[kind][convention] += 1
        if found.rle is not None and ann["iscrowd"] == 0:
            self.out.checked["overlap"] += 1
            if self.group[0] != ann["image_id"]:
                self._flush()
                self.group = (ann["image_id"], [])
            self.group[1].append((where, found.rle))
        _check_extras(where, ann, self.keypoint_names, self.out)

    # ---------------------------------------------------------------- helpers
    def _unique(self, kind: str, seen: dict[int, int], value: int, index: int,
                where: str) -> bool:
        self.out.checked["ids"] += 1
        if value in seen:
            self.out.add("ids", where, f"duplicate {kind[:-1]} id {value} (also {kind}"
                         f"[{seen[value]}])")
            return False
        seen[value] = index
        return True

    def _flush(self) -> None:
        """Check the overlap of the current image's visible masks, and against masks of the
        same image listed earlier in the file (kept as their union)."""
        image_id, group = self.group
        if image_id is None or not group:
            return
        self.out.extend(overlaps(group))
        union = mask_utils.merge([rle for _, rle in group], intersect=False)
        earlier = self.unions.get(image_id)
        if earlier is not None:
            shared = int(mask_utils.area(mask_utils.merge([earlier, union], intersect=True)))
            if shared:
                self.out.add("overlap", group[0][0], f"the masks from here on share {shared} "
                             f"pixels with masks of image {image_id} listed earlier")
            union = mask_utils.merge([earlier, union], intersect=False)
        self.unions[image_id] = union
        self.group = (None, [])

    def _check_tracks(self) -> None:
        """A track has one category; an image holds a track once."""
        track, image, category, index = (
            np.frombuffer(self.tracks[name], dtype=np.int64) if self.tracks[name]
            else np.zeros(0, np.int64) for name in ("track", "image", "category", "index"))
        order = np.lexsort((index, track))
        for k in np.flatnonzero((track[order][1:] == track[order][:-1])
                                & (category[order][1:] != category[order][:-1])):
            a, b = order[k], order[k + 1]
            self.out.add("tracks", f"annotations[{index[b]}].track_id", f"track "
                         f"{track[b]} has category {category[b]} here and {category[a]} in "
                         f"annotations[{index[a]}]")
        order = np.lexsort((index, track, image))
        same = (image[order][1:] == image[order][:-1]) & (track[order][1:] == track[order][:-1])
        for k in np.flatnonzero(same):
            a, b = order[k], order[k + 1]
            self.out.add("tracks", f"annotations[{index[b]}].track_id", f"track {track[b]} "
                         f"appears twice in image {image[b]} (also annotations[{index[a]}])")

    def _map_file(self, path: Path, key: str, image: dict, where: str) -> None:
        """Check a flow, float depth or point-track file (a shared track file once per frame
        count it must cover)."""
        shared = key == "point_tracks_file"
        cache = (str(path), image.get("frame_index")) if shared else None
        if cache is not None and cache in self.map_checks:
            found = [Problem(p.check, f"{where}.{key}", p.message)
                     for p in self.map_checks[cache]]
        else:
            found = check_map_file(path, key, image, where)
            if cache is not None and len(self.map_checks) < 100_000:
                self.map_checks[cache] = found
        self.out.extend(found)

    def _check_sequences(self) -> None:
        """frame_index unique in its sequence (eye) and without absurd gaps; sequence fields on
        every image or none; (scene_id, view_id) and (stereo_pair_id, eye) unique."""
        for key in ("sequence_id", "frame_index"):
            self.fields[key].report(self.out, "sequences", key, "images")
        sequence, eyes, frame, index = (_int64(self.frames[name])
                                        for name in ("sequence", "eye", "frame", "index"))
        order = np.lexsort((index, frame, eyes, sequence))
        for a, b in _repeats(order, sequence, eyes, frame):
            self.out.add("sequences", f"images[{index[b]}].frame_index", f"sequence "
                         f"{sequence[b]} has frame_index {frame[b]} twice (also "
                         f"images[{index[a]}])")
        if sequence.size:
            _, start, count = np.unique(np.stack([sequence[order], eyes[order]], 1), axis=0,
                                        return_index=True, return_counts=True)
            last = order[start + count - 1]  # the largest frame_index of each sequence (eye)
            for k in np.flatnonzero(frame[last] >= count + MAX_MISSING_FRAMES):
                self.out.add("sequences", f"images[{index[last[k]]}].frame_index",
                             f"sequence {sequence[last[k]]} has {count[k]} images but frame_index "
                             f"{frame[last[k]]}: it would miss {frame[last[k]] + 1 - count[k]} "
                             f"frames, more than {MAX_MISSING_FRAMES} (MAX_MISSING_FRAMES)")
        scene, view, eye, index = (_int64(self.views[name])
                                   for name in ("scene", "view", "eye", "index"))
        for a, b in _repeats(np.lexsort((index, eye, view, scene)), scene, view, eye):
            self.out.add("ids", f"images[{index[b]}].view_id", f"scene {scene[b]} has "
                         f"view_id {view[b]} twice (also images[{index[a]}])")
        pair, eye, index = (_int64(self.eyes[name]) for name in ("pair", "eye", "index"))
        for a, b in _repeats(np.lexsort((index, eye, pair)), pair, eye):
            self.out.add("ids", f"images[{index[b]}].eye", f"stereo pair {pair[b]} has the "
                         f"{STEREO_EYES[eye[b]]} eye twice (also images[{index[a]}])")

    def finish(self, kind: str) -> None:
        if kind == "images":
            self._check_sequences()
        if kind != "annotations":
            return
        self.fields["track_id"].report(self.out, "tracks", "track_id", "annotations")
        self._flush()
        self._check_tracks()
        ids = np.frombuffer(self.annotation_ids, dtype=np.int64) if self.annotation_ids \
            else np.zeros(0, np.int64)
        order = np.argsort(ids, kind="stable")
        repeated = np.flatnonzero(ids[order][1:] == ids[order][:-1]) + 1
        first_of: dict[int, int] = {}
        for k in order[np.unique(np.concatenate([repeated - 1, repeated]))]:
            value = int(ids[k])
            index = self.annotation_wheres[k]
            if value in first_of:
                self.out.add("ids", f"annotations[{index}] (id {value})", f"duplicate "
                             f"annotation id {value} (also annotations[{first_of[value]}])")
            else:
                first_of[value] = index


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _repeats(order: np.ndarray, *keys: np.ndarray) -> Iterable[tuple[int, int]]:
    """Positions ``(a, b)`` of neighbours in ``order`` whose ``keys`` are all equal."""
    same = np.logical_and.reduce([key[order][1:] == key[order][:-1] for key in keys])
    return ((order[k], order[k + 1]) for k in np.flatnonzero(same))


def _int64(column: array) -> np.ndarray:
    return np.frombuffer(column, dtype=np.int64) if column else np.zeros(0, np.int64)


class _Presence:
    """Which entries hold a field that every entry must hold if one does."""

    def __init__(self) -> None:
        self.holding = 0
        self.first_holding = ""
        self.lacking: list[str] = []
        self.lacking_count = 0

    def see(self, present: bool, index: int, where: str, keep: int) -> None:
        if present:
            self.holding += 1
            self.first_holding = self.first_holding or where
        else:
            self.lacking_count += 1
            if len(self.lacking) < keep:
                self.lacking.append(where)

    def report(self, out: _Collector, check: str, key: str, kind: str) -> None:
        if not self.holding or not self.lacking_count:
            return
        message = (f"missing, but {self.holding} of {self.holding + self.lacking_count} {kind} "
                   f"have it ({self.first_holding} does): a dataset of sequences needs it on "
                   "every entry")
        out.extend(Problem(check, f"{where}.{key}", message) for where in self.lacking)
        out.counts[check] += self.lacking_count - len(self.lacking)


def _int_id(entry: Any) -> int | None:
    return entry["id"] if isinstance(entry, dict) and _is_int(entry.get("id")) else None


def _check_extras(where: str, ann: dict, keypoint_names: dict[int, list | None],
                  out: _Collector) -> None:
    """Consistency of the optional synthscene fields of one annotation, where present."""
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
