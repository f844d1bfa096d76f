"""COCO-2017 folder layout: one instances file per split under ``annotations/``.

Layout (what datumaro's ``coco_instances`` importer finds by itself, and what detectron2's
``register_coco_instances(name, {}, json_file, image_root)`` and MMDetection's ``CocoDataset``
take as ``ann_file`` and ``data_prefix``)::

    OUT/images/<split>/<file_name> ...        the split's images: hard links to the source
                                              files where the file system allows, else copies
                                              (always copies with ``copy=True``)
    OUT/annotations/instances_<split>.json    the split's images and annotations; written last

Without a split every image is in ``train``. Each JSON is the source file with only that
split's ``images`` (id order) and their ``annotations`` (id order); ``info``, ``licenses``,
``categories`` and every other top-level key and field are kept, ids are unchanged. The
synthscene fields that name extra per-image files (``depth_file``, ``semantic_file``, ...;
:data:`synthscene.io.coco_schema.EXTRA_FILE_FIELDS`) are left out, as those files are not part
of this layout (the ``coco-polygons`` export keeps them).

A hard link shares the source file's bytes: editing an exported image in place edits the
source image too. Pass ``copy=True`` (``--copy``) for independent files.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from synthscene.exporters._common import (
    DEFAULT_SPLIT,
    ExportSummary,
    copy_file,
    inside,
    plan_splits,
    write_json,
)
from synthscene.exporters.output import open_export
from synthscene.io.coco_schema import EXTRA_FILE_FIELDS
from synthscene.io.reader import CocoDataset, load_dataset

__all__ = ["ANNOTATIONS_DIR", "IMAGES_DIR", "export_coco", "instances_name"]

logger = logging.getLogger(__name__)

ANNOTATIONS_DIR = "annotations"
IMAGES_DIR = "images"


def instances_name(split: str) -> str:
    """The instances file of a split: ``instances_<split>.json``."""
    return f"instances_{split}.json"


def export_coco(dataset_dir: str | Path, out_dir: str | Path, *,
                split: Mapping[str, float] | None = None, split_seed: int = 0,
                overwrite: bool = False, image_dir: str | Path | None = None,
                copy: bool = False) -> ExportSummary:
    """Write the COCO-2017 folder layout (see the module docstring).

    Parameters
    ----------
    dataset_dir : str or pathlib.Path
        Source dataset folder or COCO JSON file.
    out_dir : str or pathlib.Path
        Output folder (its ``images/`` and ``annotations/`` are written).
    split : mapping of str to float, optional
        Split fractions by name (``{"train": 0.9, "val": 0.1}``); None puts every image in
        ``train``.
    split_seed : int
        Seed of the split's shuffle.
    overwrite : bool
        Replace an earlier coco export in ``out_dir``: remove exactly the files it wrote
        (:mod:`synthscene.exporters.output`).
    image_dir : str or pathlib.Path, optional
        Source image folder, if not the default.
    copy : bool
        Copy the images; by default they are hard-linked where possible (copied where not).

    Returns
    -------
    ExportSummary

    Raises
    ------
    synthscene.errors.DatasetError
        If the source is malformed (nothing is written then).
    synthscene.errors.AssetError
        If a source image is missing or unreadable.
    synthscene.errors.OutputError
        If ``out_dir`` holds a coco export (and not ``overwrite``), a file that export did not
        write in ``images/`` or ``annotations/``, or cannot be written.
    """
    dataset = load_dataset(dataset_dir, image_dir=image_dir)
    plan = plan_splits(dataset, split, split_seed, default=DEFAULT_SPLIT)
    copied = linked = 0
    counts: dict[str, int] = {}
    written = 0
    with open_export(out_dir, dataset, "coco", [IMAGES_DIR, ANNOTATIONS_DIR],
                     overwrite=overwrite) as out:
        files: list[tuple[Path, dict]] = []
        for name, images in plan:
            annotations = []
            for image in images:
                relative = inside(dataset, image, "file_name")
                target = out.file(f"{IMAGES_DIR}/{name}/{relative}")
                if not copy and _link(dataset.image_path(image), target):
                    linked += 1
                else:
                    copy_file(dataset.image_path(image), target)
                    copied += 1
                annotations.extend(dataset.annotations_of(image))
            files.append((out.file(f"{ANNOTATIONS_DIR}/{instances_name(str(name))}"),
                          _instances(dataset, images, annotations)))
            counts[str(name)] = len(images)
            written += len(annotations)
        for path, data in files:  # after every image, so that no JSON names a missing image
            write_json(path, data, durable=True)
        out.finish()
    dropped = sorted({key for image in dataset.images for key in EXTRA_FILE_FIELDS
                      if key in image})
    notes = (f"{linked} images hard-linked to the source files, {copied} copied (editing a "
             "linked image edits the source: --copy for copies)",) if linked else ()
    if dropped:
        notes += (f"left out the image fields naming extra files ({', '.join(dropped)}); "
                  "the coco-polygons export keeps them",)
    logger.info("coco export to %s: %d images, %d annotations", out.path,
                sum(counts.values()), written)
    return ExportSummary("coco", out.path, counts, written, notes)


def _link(source: Path, target: Path) -> bool:
    """Hard-link ``target`` to ``source``; False where the file system refuses (another
    device, no hard links, no permission), so that the caller copies instead."""
    if not source.is_file():
        return False  # copy_file names the missing file
    try:
        os.link(source, target)
    except OSError:
        return False
    return True


def _instances(dataset: CocoDataset, images: list[dict], annotations: list[dict]) -> dict:
    """The source JSON with these images (less their extra-file fields) and annotations."""
    rest = {key: value for key, value in dataset.data.items()
            if key not in ("images", "annotations")}
    kept: list[dict[str, Any]] = [{k: v for k, v in image.items() if k not in EXTRA_FILE_FIELDS}
                                  for image in images]
    return {"info": rest.pop("info", {}), "licenses": rest.pop("licenses", []),
            "images": kept, "annotations": annotations, **rest}
