"""COCO instances with polygon segmentations instead of RLE.

Some tools read only polygons. Each RLE mask becomes one polygon per connected part, traced
along the pixel edges (:func:`synthscene.exporters.polygons.mask_loops`), so every part has at
least 4 points (8 numbers) and pycocotools rasterizes the polygons back to the same pixels. A
mask stays RLE (``iscrowd`` stays 0) when

- it has a hole: COCO polygons of one object are merged as a union, so they cannot leave a hole;
- its polygons' IoU with the RLE (``pycocotools.mask.iou``) is below ``min_iou`` (a safety net;
  edge-traced polygons give IoU 1).

Crowd annotations (``iscrowd`` 1) stay RLE, as COCO requires. ``bbox``, ``area`` and every other
field are kept, so the export passes ``synthscene validate`` like its source.

Layout::

    OUT/images/<file_name> ...      copies of the source images
    OUT/depth/... OUT/semantic/...  copies of the extra per-image files, if the source has them
    OUT/annotations.json            written last
    # with --split train=..,val=..:  OUT/train/images/..., OUT/train/annotations.json, OUT/val/...
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pycocotools import mask as mask_utils

from synthscene.exporters._common import (
    ExportSummary,
    copy_image_files,
    image_file_tops,
    plan_splits,
    write_json,
)
from synthscene.exporters.output import open_export
from synthscene.exporters.polygons import mask_loops
from synthscene.io.layout import ANNOTATIONS_NAME, IMAGES_DIR
from synthscene.io.reader import CocoDataset, load_dataset

__all__ = ["MIN_POLYGON_IOU", "export_coco_polygons", "rle_to_polygons"]

logger = logging.getLogger(__name__)

MIN_POLYGON_IOU = 0.9
"""Polygons whose IoU with the RLE is below this are not used (the RLE is kept)."""


def rle_to_polygons(rle: dict[str, Any], *, min_iou: float = MIN_POLYGON_IOU
                    ) -> tuple[list[list[float]] | None, str]:
    """Convert one compressed RLE mask to COCO polygons.

    Parameters
    ----------
    rle : dict
        Compressed COCO RLE (``{"size": [H, W], "counts": bytes or str}``).
    min_iou : float
        Smallest accepted IoU between the polygons and the RLE.

    Returns
    -------
    polygons : list of list of float, or None
        ``[[x1, y1, x2, y2, ...], ...]`` in pixels (pixel ``(row, col)`` spans ``[col, col+1] x
        [row, row+1]``), one per connected part, each with >= 8 numbers; None if the mask must
        stay RLE.
    reason : str
        ``"ok"``, ``"hole"``, ``"empty"`` or ``"iou"`` (why the RLE is kept).
    """
    height, width = (int(v) for v in rle["size"])
    if isinstance(rle["counts"], str):
        rle = {"size": [height, width], "counts": rle["counts"].encode("ascii")}
    mask = mask_utils.decode(rle)
    loops = mask_loops(mask)
    if not loops:
        return None, "empty"
    if any(loop.is_hole for loop in loops):
        return None, "hole"
    polygons = [loop.flat() for loop in loops]
    rasterized = mask_utils.merge(mask_utils.frPyObjects(polygons, height, width))
    iou = float(mask_utils.iou([rasterized], [rle], [0])[0, 0])
    if iou < min_iou:
        return None, "iou"
    return polygons, "ok"


def export_coco_polygons(dataset_dir: str | Path, out_dir: str | Path, *,
                         split: Mapping[str, float] | None = None, split_seed: int = 0,
                         min_iou: float = MIN_POLYGON_IOU, overwrite: bool = False,
                         image_dir: str | Path | None = None) -> ExportSummary:
    """Write a copy of a COCO dataset whose masks are polygons (see the module docstring).

    Parameters
    ----------
    dataset_dir : str or pathlib.Path
        Source dataset folder (or COCO JSON file, see
        :func:`synthscene.io.reader.locate_dataset`).
    out_dir : str or pathlib.Path
        Output folder.
    split : mapping of str to float, optional
        ``{"train": 0.8, "val": 0.2}``: one sub-folder per split (see
        :mod:`synthscene.exporters.split`); None writes one dataset in ``out_dir``.
    split_seed : int
        Seed of the split's shuffle.
    min_iou : float
        See :func:`rle_to_polygons`.
    overwrite : bool
        Replace an earlier coco-polygons export in ``out_dir``: remove exactly the files it
        wrote (:mod:`synthscene.exporters.output`).
    image_dir : str or pathlib.Path, optional
        Source image folder, if not the default.

    Returns
    -------
    ExportSummary
        Its notes count the masks kept as RLE, by reason.

    Raises
    ------
    synthscene.errors.DatasetError
        If the source dataset is malformed.
    synthscene.errors.AssetError
        If a source image is missing.
    synthscene.errors.OutputError
        If ``out_dir`` holds a coco-polygons export (and not ``overwrite``), a file that export
        did not write where it writes, or cannot be written.
    """
    dataset = load_dataset(dataset_dir, image_dir=image_dir)
    plan = plan_splits(dataset, split, split_seed, default=None)
    tops = ({name for name, _ in plan if name}
            or image_file_tops(dataset, dataset.images, IMAGES_DIR) | {ANNOTATIONS_NAME})
    kept: dict[str, int] = {"hole": 0, "iou": 0, "empty": 0, "crowd": 0}
    written = 0
    counts = {}
    with open_export(out_dir, dataset, "coco-polygons", tops, overwrite=overwrite) as out:
        for name, images in plan:
            prefix = f"{name}/" if name else ""
            annotations = []
            for image in images:
                copy_image_files(dataset, image, out, prefix, IMAGES_DIR)
                for ann in dataset.annotations_of(image):
                    annotations.append(_convert(dataset, ann, image, min_iou, kept))
            write_json(out.file(f"{prefix}{ANNOTATIONS_NAME}"),
                       _coco(dataset, images, annotations), durable=True)
            counts[name or ""] = len(images)
            written += len(annotations)
        out.finish()
    notes = tuple(f"{n} mask{'s' if n != 1 else ''} kept as RLE: {why}" for why, n in (
        ("hole", kept["hole"]), (f"polygon IoU < {min_iou:g}", kept["iou"]),
        ("empty mask", kept["empty"]), ("iscrowd 1", kept["crowd"])) if n)
    logger.info("coco-polygons export to %s: %d annotations; %s", out.path, written,
                "; ".join(notes) or "all polygons")
    return ExportSummary("coco-polygons", out.path, counts, written, notes)


def _convert(dataset: CocoDataset, ann: dict, image: dict, min_iou: float,
             kept: dict[str, int]) -> dict:
    """The annotation with a polygon segmentation where possible."""
    segmentation = ann["segmentation"]
    if isinstance(segmentation, list):
        return ann  # polygons already
    if ann["iscrowd"]:
        kept["crowd"] += 1
        return ann
    polygons, reason = rle_to_polygons(dataset.rle(ann, image), min_iou=min_iou)
    if polygons is None:
        kept[reason] += 1
        return ann
    return {**ann, "segmentation": polygons}


def _coco(dataset: CocoDataset, images: list[dict], annotations: list[dict]) -> dict:
    """The source JSON with these images and annotations (other top-level keys kept)."""
    data = {key: value for key, value in dataset.data.items()
            if key not in ("images", "annotations")}
    return {"info": data.pop("info", {}), "licenses": data.pop("licenses", []),
            "images": images, "annotations": annotations, **data}
