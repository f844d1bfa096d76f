"""What every exporter shares: splits, file writing, the summary (the output folder is
:mod:`synthscene.exporters.output`)."""

from __future__ import annotations

import json
import logging
import re
import shutil
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

import cv2
import numpy as np

from synthscene.errors import AssetError, DatasetError, OptionError, OutputError
from synthscene.exporters.output import ExportFolder
from synthscene.exporters.sharding import shard_bounds
from synthscene.exporters.split import assign_splits, check_split, split_rng
from synthscene.io.coco_schema import Problem
from synthscene.io.dataset_checks import check_image_file, check_mask
from synthscene.io.fileio import write_atomic, write_atomic_stream
from synthscene.io.reader import CocoDataset

logger = logging.getLogger(__name__)

DEFAULT_SPLIT = "train"
"""Name of the one split of formats that always have split folders, when no split is asked."""

SHARD_SPLIT = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
"""A split name of a sharded export (``hf``, ``webdataset``): a word, the start of shard names."""


@dataclass(frozen=True)
class ExportSummary:
    """What an exporter wrote.

    Attributes
    ----------
    format : str
        ``"yolo"``, ``"bop"``, ``"coco-polygons"`` or ``"panoptic"``.
    out_dir : pathlib.Path
        The output folder.
    images : dict
        Images written per split name (``""`` when the format was written without splits).
    annotations : int
        Object instances written.
    notes : tuple of str
        Anything the user should know (fallbacks, skipped crowd annotations, missing models).
    """

    format: str
    out_dir: Path
    images: dict[str, int]
    annotations: int
    notes: tuple[str, ...] = field(default_factory=tuple)


def plan_splits(dataset: CocoDataset, split: Mapping[str, float] | None, split_seed: int,
                default: str | None) -> list[tuple[str | None, list[dict]]]:
    """Group the dataset's images by split.

    Parameters
    ----------
    dataset : CocoDataset
    split : mapping of str to float, optional
        From :func:`synthscene.exporters.split.parse_split`; None for no split.
    split_seed : int
        Seed of the shuffle (:func:`synthscene.exporters.split.split_rng`).
    default : str or None
        Split name used when ``split`` is None (None: the format writes no split folder).

    Returns
    -------
    list of (name, image entries sorted by id)
        When the images have a ``scene_id`` (views of one settled scene), a ``sequence_id``
        (frames of one sequence) or a ``stereo_pair_id`` (the eyes of a stereo pair), whole
        scenes (pairs) are assigned to splits, so that no scene is seen in two of them.

    Raises
    ------
    synthscene.errors.OptionError
        If ``split`` is malformed (:func:`synthscene.exporters.split.check_split`): a name
        that is not a plain folder name (``..``, ``/abs``, ``a/b``) never reaches the disk.
    synthscene.errors.DatasetError
        If the source fails a check of :func:`check_source`, or (with a split) some images
        have a ``scene_id`` or ``sequence_id`` and others do not (nothing is written then).
    """
    if split is not None:
        split = check_split(split)
    check_source(dataset)
    if split is None:
        return [(default, list(dataset.images))]
    scenes = scene_ids(dataset.images, dataset)
    if scenes is None:
        groups = assign_splits([image["id"] for image in dataset.images], split,
                               rng=split_rng(split_seed))
        return [(name, [dataset.image_by_id[i] for i in ids]) for name, ids in groups.items()]
    groups = assign_splits(sorted(set(scenes)), split, rng=split_rng(split_seed))
    return [(name, [image for image, scene in zip(dataset.images, scenes) if scene in chosen])
            for name, chosen in ((name, set(ids)) for name, ids in groups.items())]


def scene_ids(images: Sequence[dict], dataset: CocoDataset | None = None) -> list[int] | None:
    """Each image's ``sequence_id`` (a dataset made with ``sequence:``) if any image has one,
    else its ``scene_id`` (made with ``camera.views_per_scene`` > 1), else its
    ``stereo_pair_id`` (made with ``camera.stereo``: both eyes stay in one split); None if no
    image has any.

    Parameters
    ----------
    images : sequence of dict
    dataset : CocoDataset, optional
        Given: an image without the key that others have is an error naming it. Not given:
        None is returned then.

    Raises
    ------
    synthscene.errors.DatasetError
        If ``dataset`` is given and some images lack the key (or its value is not an integer).
    """
    key = next((k for k in ("sequence_id", "scene_id", "stereo_pair_id")
                if any(k in im for im in images)), None)
    if key is None:
        return None
    scenes = [image.get(key) for image in images]
    for image, scene in zip(images, scenes):
        if not isinstance(scene, int) or isinstance(scene, bool):
            if dataset is None:
                return None
            raise dataset.error(image, key, f"missing or not an integer ({scene!r:.40}) while "
                                f"other images have one: the images of one {key[:-3]} must "
                                "stay in one split, so every image needs it")
    return scenes  # type: ignore[return-value]


def check_source(dataset: CocoDataset) -> None:
    """Run ``synthscene validate``'s checks of what an export reads, on every image.

    Each image file must lie inside the image folder, exist, decode completely and be
    ``width x height``; each annotation's segmentation must decode, and its ``bbox`` and
    ``area`` must agree with the mask (:func:`synthscene.io.dataset_checks.check_mask`: inside the
    image, tight, the right area, not empty). An export of labels that contradict their images
    would be silently wrong, so the export is refused.

    Raises
    ------
    synthscene.errors.DatasetError
        Naming the first problem, with how many there are in how many images.
    """
    first: Problem | None = None
    found = images_with = 0
    for image in dataset.images:
        where = dataset.where(image)
        problems = check_image_file(dataset.image_path(image), image, where)
        for ann in dataset.annotations_of(image):
            problems.extend(check_mask(ann, image, dataset.where(ann)).problems)
        if problems:
            first = first or problems[0]
            found += len(problems)
            images_with += 1
    if first is not None:
        more = (f" (and {found - 1} more problems in {images_with} images)" if found > 1
                else "")
        raise DatasetError(str(dataset.annotations_path), first.where,
                           f"{first.message}{more}; nothing exported (run synthscene validate)")


def write_json(path: Path, data: Any, *, durable: bool = False) -> None:
    """Write compact JSON (no NaN) atomically.

    Raises
    ------
    synthscene.errors.OutputError
    """
    text = json.dumps(data, separators=(",", ":"), allow_nan=False)
    write_atomic(path, text.encode("utf-8"), durable=durable)


def copy_file(source: Path, target: Path) -> None:
    """Copy an image (or another file) of the dataset.

    Raises
    ------
    synthscene.errors.AssetError
        If ``source`` is missing or unreadable.
    synthscene.errors.OutputError
        If ``target`` cannot be written.
    """
    if not source.is_file():
        raise AssetError(f"{source}: is missing")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    except OSError as exc:
        if exc.filename is not None and Path(exc.filename) == source:
            raise AssetError(f"{source}: cannot be read ({exc.strerror or exc})") from None
        raise OutputError(f"{target}: cannot be written ({exc.strerror or exc})") from None


EXTRA_IMAGE_FILES = ("depth_file", "instance_mask_file", "semantic_file")
"""Image fields naming extra per-image files, relative to the dataset folder."""


def image_file_tops(dataset: CocoDataset, images: Iterable[dict], image_subdir: str
                    ) -> set[str]:
    """The top-level names :func:`copy_image_files` writes into (``images`` and the first part
    of each extra file's path, ``depth``, ``semantic``, ...).

    Raises
    ------
    synthscene.errors.DatasetError
        As :func:`inside`.
    """
    tops = {image_subdir}
    for image in images:
        for key in EXTRA_IMAGE_FILES:
            if key in image:
                tops.add(inside(dataset, image, key).parts[0])
    return tops


def copy_image_files(dataset: CocoDataset, image: dict, out: ExportFolder, prefix: str,
                     image_subdir: str) -> None:
    """Copy an image to ``prefix/image_subdir/file_name`` in ``out`` and its extra files
    (depth, instance and semantic PNGs) to the same relative paths under ``prefix``, so that
    the image entry stays valid in the exported JSON.

    Parameters
    ----------
    prefix : str
        ``""`` or a split folder's name followed by ``/``.

    Raises
    ------
    synthscene.errors.AssetError, synthscene.errors.OutputError, synthscene.errors.DatasetError
    """
    copy_file(dataset.image_path(image),
              out.file(f"{prefix}{image_subdir}/{inside(dataset, image, 'file_name')}"))
    for key in EXTRA_IMAGE_FILES:
        if key in image:
            copy_file(dataset.extra_file(image, key),
                      out.file(f"{prefix}{inside(dataset, image, key)}"))


def inside(dataset: CocoDataset, image: dict, key: str) -> PurePosixPath:
    """``image[key]`` as a relative path, refusing one that leaves its folder.

    Raises
    ------
    synthscene.errors.DatasetError
        If ``image[key]`` is absolute or climbs out with ``..``.
    """
    relative = PurePosixPath(image[key])
    if relative.is_absolute() or ".." in relative.parts or not relative.parts:
        raise dataset.error(image, key, f"{image[key]!r} must be a relative path inside the "
                            "dataset (no '..')")
    return relative


def write_png(path: Path, array: np.ndarray) -> None:
    """Write a PNG atomically: ``(H, W)`` grey (uint8 or uint16) or ``(H, W, 3)`` RGB uint8.

    Raises
    ------
    synthscene.errors.OutputError
    """
    if array.ndim == 3:
        array = np.ascontiguousarray(array[:, :, ::-1])  # RGB -> OpenCV's BGR
    ok, encoded = cv2.imencode(".png", array)
    if not ok:
        raise OutputError(f"{path}: cannot encode the PNG")
    write_atomic(path, encoded.tobytes())


def sharded_plan(dataset: CocoDataset, split: Mapping[str, float] | None, split_seed: int,
                 what: str) -> list[tuple[str, list[dict]]]:
    """The split plan of a sharded export (``hf``, ``webdataset``): :func:`plan_splits` with
    :data:`DEFAULT_SPLIT`, the split names being words (they name the shard files).

    Raises
    ------
    synthscene.errors.OptionError
        If a split name is not a word; as :func:`plan_splits`.
    """
    plan = plan_splits(dataset, split, split_seed, default=DEFAULT_SPLIT)
    for name, _ in plan:
        if not SHARD_SPLIT.fullmatch(name):
            raise OptionError("--split", "", f"split names must be words for the {what} "
                                             f"export, got {name!r}")
    return plan  # type: ignore[return-value]


def write_shards(dataset: CocoDataset, plan: Sequence[tuple[str, list[dict]]],
                 shards: Mapping[str, int], path_of: Callable[[str, int, int], Path],
                 fill: Callable[[BinaryIO, list[dict]], None]) -> tuple[dict[str, int], int]:
    """Write each split's images spread evenly over its shards, each file atomically.

    Parameters
    ----------
    dataset : CocoDataset
    plan : sequence of (split name, image entries)
    shards : mapping of str to int
        Shards of each split, >= 1 (:func:`synthscene.exporters.sharding.shard_counts`);
        shard sizes differ by one at most (a split with no image gets one empty shard).
    path_of : callable
        ``path_of(split, index, count)``: the file of shard ``index`` of ``count`` (from
        :meth:`synthscene.exporters.output.ExportFolder.file`).
    fill : callable
        ``fill(handle, images)`` writes one shard's images to the open binary file.

    Returns
    -------
    counts : dict of str to int
        Images per split.
    annotations : int
        Annotations of the images written.

    Raises
    ------
    synthscene.errors.OutputError
        If a shard cannot be written.
    """
    counts: dict[str, int] = {}
    written = 0
    for name, images in plan:
        count = shards[name]
        for k, (start, stop) in enumerate(shard_bounds(len(images), count)):
            part = images[start:stop]
            path = path_of(name, k, count)
            try:
                write_atomic_stream(path, lambda handle, part=part: fill(handle, part))
            except OSError as exc:
                raise OutputError(f"{path}: cannot be written ({exc.strerror or exc})") from None
            written += sum(len(dataset.annotations_of(image)) for image in part)
        counts[name] = len(images)
    return counts, written


def read_image_bytes(dataset: CocoDataset, image: dict) -> bytes:
    """The encoded bytes of an image's file, as they are.

    Raises
    ------
    synthscene.errors.AssetError
        If the file cannot be read, naming the entry's ``file_name``.
    """
    path = dataset.image_path(image)
    try:
        return path.read_bytes()
    except OSError as exc:
        raise AssetError(f"{path}: cannot be read ({exc.strerror or exc}) "
                         f"({dataset.where(image)}.file_name)") from None
