"""What every exporter shares: the output folder, splits, file writing, the summary."""

from __future__ import annotations

import json
import logging
import re
import shutil
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import cv2
import numpy as np

from synthscene.errors import AssetError, DatasetError, OptionError, OutputError
from synthscene.exporters.sharding import shard_bounds
from synthscene.exporters.split import assign_splits, split_rng
from synthscene.io.coco_schema import Problem
from synthscene.io.fileio import probe_writable, write_atomic, write_atomic_stream
from synthscene.io.reader import CocoDataset
from synthscene.tools.checks import check_image_file, check_mask

logger = logging.getLogger(__name__)

DEFAULT_SPLIT = "train"
"""Name of the one split of formats that always have split folders, when no split is asked."""


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
        When every image has a ``scene_id`` (views of one settled scene), whole scenes are
        assigned to splits, so that no scene is seen in two of them.

    Raises
    ------
    synthscene.errors.DatasetError
        If the source fails a check of :func:`check_source` (nothing is written then).
    """
    check_source(dataset)
    if split is None:
        return [(default, list(dataset.images))]
    scenes = scene_ids(dataset.images)
    if scenes is None:
        groups = assign_splits([image["id"] for image in dataset.images], split,
                               rng=split_rng(split_seed))
        return [(name, [dataset.image_by_id[i] for i in ids]) for name, ids in groups.items()]
    groups = assign_splits(sorted(set(scenes)), split, rng=split_rng(split_seed))
    return [(name, [image for image, scene in zip(dataset.images, scenes) if scene in chosen])
            for name, chosen in ((name, set(ids)) for name, ids in groups.items())]


def scene_ids(images: Sequence[dict]) -> list[int] | None:
    """Each image's ``scene_id`` (a dataset made with ``camera.views_per_scene`` > 1) or
    ``sequence_id`` (made with ``sequence:``), or None unless every image has an integer
    one."""
    key = "sequence_id" if images and "sequence_id" in images[0] else "scene_id"
    scenes = [image.get(key) for image in images]
    if not scenes or not all(isinstance(s, int) and not isinstance(s, bool) for s in scenes):
        return None
    return scenes  # type: ignore[return-value]


def check_source(dataset: CocoDataset) -> None:
    """Run ``synthscene validate``'s checks of what an export reads, on every image.

    Each image file must lie inside the image folder, exist, decode completely and be
    ``width x height``; each annotation's segmentation must decode, and its ``bbox`` and
    ``area`` must agree with the mask (:func:`synthscene.tools.checks.check_mask`: inside the
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


def prepare_out_dir(out_dir: str | Path, dataset: CocoDataset, owned: Iterable[str], *,
                    overwrite: bool) -> Path:
    """Create the output folder; refuse to replace an export there unless ``overwrite``.

    Parameters
    ----------
    out_dir : str or pathlib.Path
    dataset : CocoDataset
        The source; ``out_dir`` may not be its folder or its image folder.
    owned : iterable of str
        Top-level names in ``out_dir`` that the export writes (``"images"``, ``"data.yaml"``).
        If any exists, the export is refused, or with ``overwrite`` those entries (only those)
        are removed first.
    overwrite : bool

    Returns
    -------
    pathlib.Path

    Raises
    ------
    synthscene.errors.OutputError
        If ``out_dir`` is a file, is the source dataset's folder, holds an export and
        ``overwrite`` is False, or cannot be created or written.
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out}: exists and is not a folder")
    resolved = out.resolve()
    if resolved in (dataset.root.resolve(), dataset.image_dir.resolve()):
        raise OutputError(f"{out}: is the source dataset's folder; export to another folder")
    existing = [out / name for name in sorted(set(owned)) if (out / name).exists()]
    if existing and not overwrite:
        raise OutputError(f"{out}: holds an export already ({existing[0].name}); choose another "
                          "folder or pass --overwrite")
    try:
        for path in existing:
            shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink()
        out.mkdir(parents=True, exist_ok=True)
        probe_writable(out)
    except OSError as exc:
        raise OutputError(f"{out}: cannot create or write the folder "
                          f"({exc.strerror or exc})") from None
    return out


def make_dirs(*folders: Path) -> None:
    """Create folders (with parents).

    Raises
    ------
    synthscene.errors.OutputError
    """
    for folder in folders:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"{folder}: cannot create the folder "
                              f"({exc.strerror or exc})") from None


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


def copy_image_files(dataset: CocoDataset, image: dict, folder: Path, image_subdir: str) -> None:
    """Copy an image to ``folder/image_subdir/file_name`` and its extra files (depth,
    instance and semantic PNGs) to the same relative paths under ``folder``, so that the
    image entry stays valid in the exported JSON.

    Raises
    ------
    synthscene.errors.AssetError, synthscene.errors.OutputError
    """
    copy_file(dataset.image_path(image), inside(dataset, image, "file_name", folder / image_subdir))
    for key in EXTRA_IMAGE_FILES:
        if key in image:
            copy_file(dataset.extra_file(image, key), inside(dataset, image, key, folder))


def inside(dataset: CocoDataset, image: dict, key: str, folder: Path) -> Path:
    """``folder / image[key]``, refusing a relative path that leaves ``folder``.

    Raises
    ------
    synthscene.errors.DatasetError
        If ``image[key]`` is absolute or climbs out with ``..``.
    """
    relative = Path(image[key])
    if relative.is_absolute() or ".." in relative.parts:
        raise dataset.error(image, key, f"{image[key]!r} must be a relative path inside the "
                            "dataset (no '..')")
    return folder / relative


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
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name):
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
        ``path_of(split, index, count)``: the file of shard ``index`` of ``count``.
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
