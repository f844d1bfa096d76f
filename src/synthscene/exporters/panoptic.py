"""COCO panoptic segmentation: one PNG of segment ids per image, plus a JSON of segments.

Format (cocodataset.org/#format-data, "Panoptic Segmentation", and the ``panopticapi``
conventions): every pixel belongs to at most one segment; the PNG stores the segment id of each
pixel as RGB with ``id = R + 256 * G + 256**2 * B`` (0 = void, unlabelled); the JSON lists per
image the ``segments_info`` (``id``, ``category_id``, ``area``, ``bbox``, ``iscrowd``) and the
categories with ``isthing`` 1 (objects) or 0 (stuff).

- **Things** are the dataset's annotations: segment id = the annotation's ``id`` (so segments
  can be traced back to the instances file), pixels = its mask.
- **Stuff** comes from the image's ``semantic_file`` (a uint16 PNG of category ids) and the
  dataset's ``stuff_categories`` when both are there: the pixels of each stuff category that no
  thing covers form one segment. Pixels whose semantic id is a thing category but that no
  annotation covers (filtered or unlabelled objects) are void. Without semantic files, every
  pixel that no thing covers is one segment of the stuff category ``background`` (the one in
  ``stuff_categories`` if there is one, else a new one with the next free id).
- Stuff segment ids follow the image's largest thing id (any id unique within the image is
  valid; ids must be below 256**3).

``area`` (pixel count) and ``bbox`` (``[x, y, w, h]`` integers, tight) describe the segment's
pixels in the PNG.

Layout::

    OUT/images/<file_name> ...     copies of the source images (and of their depth, instance
                                   and semantic PNGs, at the paths the image entries give)
    OUT/panoptic/<stem>.png ...    segment-id PNGs (RGB)
    OUT/panoptic.json              written last
    # with --split: OUT/<split>/images/, OUT/<split>/panoptic/, OUT/<split>/panoptic.json
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from pycocotools import mask as mask_utils

from synthscene.errors import DatasetError
from synthscene.exporters._common import (
    ExportSummary,
    copy_image_files,
    image_file_tops,
    plan_splits,
    write_json,
    write_png,
)
from synthscene.exporters.output import open_export
from synthscene.io.layout import IMAGES_DIR
from synthscene.io.reader import CocoDataset, load_dataset

__all__ = ["PANOPTIC_DIR", "PANOPTIC_JSON", "export_panoptic", "id_to_rgb", "rgb_to_id"]

logger = logging.getLogger(__name__)

PANOPTIC_DIR = "panoptic"
PANOPTIC_JSON = "panoptic.json"
MAX_SEGMENT_ID = 256**3 - 1


def id_to_rgb(ids: np.ndarray) -> np.ndarray:
    """Encode segment ids as RGB (panopticapi ``id2rgb``).

    Parameters
    ----------
    ids : (H, W) integer
        Segment ids in ``0 .. 256**3 - 1``.

    Returns
    -------
    (H, W, 3) uint8
        ``R = id % 256``, ``G = id // 256 % 256``, ``B = id // 256**2``.
    """
    little_endian = np.ascontiguousarray(ids, dtype="<u4")  # bytes R, G, B, 0 of each pixel
    return np.ascontiguousarray(little_endian.view(np.uint8).reshape(*little_endian.shape, 4)
                                [..., :3])


def rgb_to_id(rgb: np.ndarray) -> np.ndarray:
    """Decode a panoptic PNG (panopticapi ``rgb2id``).

    Parameters
    ----------
    rgb : (H, W, 3) uint8

    Returns
    -------
    (H, W) int64
        ``R + 256 * G + 256**2 * B``.
    """
    rgb = np.asarray(rgb, dtype=np.int64)
    return rgb[..., 0] + 256 * rgb[..., 1] + 65536 * rgb[..., 2]


def export_panoptic(dataset_dir: str | Path, out_dir: str | Path, *,
                    split: Mapping[str, float] | None = None, split_seed: int = 0,
                    overwrite: bool = False, image_dir: str | Path | None = None
                    ) -> ExportSummary:
    """Write a COCO panoptic dataset (see the module docstring).

    Parameters
    ----------
    dataset_dir : str or pathlib.Path
        Source dataset folder or COCO JSON file.
    out_dir : str or pathlib.Path
        Output folder.
    split : mapping of str to float, optional
        One sub-folder per split; None writes one dataset in ``out_dir``.
    split_seed : int
        Seed of the split's shuffle.
    overwrite : bool
        Replace an earlier panoptic export in ``out_dir``: remove exactly the files it wrote
        (:mod:`synthscene.exporters.output`).
    image_dir : str or pathlib.Path, optional
        Source image folder, if not the default.

    Returns
    -------
    ExportSummary
        ``annotations`` counts thing segments.

    Raises
    ------
    synthscene.errors.DatasetError
        If the source is malformed; if some images have a ``semantic_file`` and others do not,
        or there are semantic files but no ``stuff_categories``; if a stuff category's id is
        a thing category's id; if two things overlap; if a segment id would not fit in 24 bits.
    synthscene.errors.AssetError
        If a source image or semantic PNG is missing or has the wrong size.
    synthscene.errors.OutputError
        If ``out_dir`` holds a panoptic export (and not ``overwrite``), a file that export did
        not write where it writes, or cannot be written.
    """
    dataset = load_dataset(dataset_dir, image_dir=image_dir)
    stuff = _stuff_categories(dataset)
    with_semantic = [image for image in dataset.images if "semantic_file" in image]
    use_semantic = bool(with_semantic)
    if use_semantic:
        dataset.require(dataset.images, ["semantic_file"], "the panoptic export (some images "
                        "have one)")
        if stuff is None:
            raise dataset.error(None, "stuff_categories", "missing: the images have a "
                                "semantic_file, but without stuff_categories its ids cannot "
                                "be read")
        stuff_ids = [cat["id"] for cat in stuff]
    else:
        stuff = stuff or []
        background = [cat for cat in stuff if cat["name"] == "background"]
        if not background:
            background_id = max((cat["id"] for cat in dataset.categories + stuff),
                                default=0) + 1
            background = [{"id": background_id, "name": "background",
                           "supercategory": "background", "isthing": 0}]
            stuff = stuff + background
        stuff_ids = [background[0]["id"]]
    categories = [{**{k: v for k, v in cat.items() if k not in ("keypoints", "skeleton")},
                   "supercategory": cat.get("supercategory", cat["name"]), "isthing": 1}
                  for cat in dataset.categories] + stuff

    thing_ids = {cat["id"] for cat in dataset.categories}
    plan = plan_splits(dataset, split, split_seed, default=None)
    tops = ({name for name, _ in plan if name}
            or image_file_tops(dataset, dataset.images, IMAGES_DIR) | {PANOPTIC_DIR,
                                                                     PANOPTIC_JSON})
    things = 0
    counts: dict[str, int] = {}
    with open_export(out_dir, dataset, "panoptic", tops, overwrite=overwrite) as out:
        for name, images in plan:
            prefix = f"{name}/" if name else ""
            entries = []
            for image in images:
                copy_image_files(dataset, image, out, prefix, IMAGES_DIR)
                png_name = _png_name(image["file_name"])
                ids, segments = _panoptic_image(dataset, image, stuff_ids, use_semantic)
                write_png(out.file(f"{prefix}{PANOPTIC_DIR}/{png_name}"), id_to_rgb(ids))
                entries.append({"image_id": image["id"], "file_name": png_name,
                                "segments_info": segments})
                things += sum(1 for s in segments if s["category_id"] in thing_ids)
            data = {"info": dataset.data.get("info", {}),
                    "licenses": dataset.data.get("licenses", []),
                    "images": images, "annotations": entries, "categories": categories}
            write_json(out.file(f"{prefix}{PANOPTIC_JSON}"), data, durable=True)
            counts[name or ""] = len(images)
        out.finish()
    notes = () if use_semantic else ("no semantic_file: one 'background' stuff segment per "
                                      "image covers every pixel that no object covers",)
    logger.info("panoptic export to %s: %d thing segments", out.path, things)
    return ExportSummary("panoptic", out.path, counts, things, notes)


def _stuff_categories(dataset: CocoDataset) -> list[dict[str, Any]] | None:
    """The dataset's ``stuff_categories`` with ``isthing`` 0, checked; None if absent."""
    entries = dataset.data.get("stuff_categories")
    if entries is None:
        return None
    thing_ids = {cat["id"] for cat in dataset.categories}
    out = []
    for index, cat in enumerate(entries):
        if cat["id"] in thing_ids or cat["id"] < 1:
            raise DatasetError(str(dataset.annotations_path), f"stuff_categories[{index}].id",
                               f"{cat['id']} must be >= 1 and not a thing category's id")
        out.append({**cat, "supercategory": cat.get("supercategory", cat["name"]),
                    "isthing": 0})
    return out


def _png_name(file_name: str) -> str:
    """``"a/b/000001.jpg"`` -> ``"a_b_000001.png"`` (panoptic PNGs sit in one folder)."""
    return str(Path(file_name).with_suffix(".png")).replace("/", "_").replace("\\", "_")


def _panoptic_image(dataset: CocoDataset, image: dict, stuff_ids: list[int],
                    use_semantic: bool) -> tuple[np.ndarray, list[dict]]:
    """Segment-id image ``(H, W) int64`` and ``segments_info`` of one image."""
    height, width = image["height"], image["width"]
    ids = np.zeros((height, width), dtype=np.int64)
    segments = []
    for ann in dataset.annotations_of(image):
        if not 1 <= ann["id"] <= MAX_SEGMENT_ID:
            raise dataset.error(ann, "id", f"{ann['id']} does not fit a panoptic segment id "
                                f"(1 .. {MAX_SEGMENT_ID})")
        rle = dataset.rle(ann, image)
        x, y, w, h = (int(v) for v in mask_utils.toBbox(rle))
        mask = mask_utils.decode(rle)[y:y + h, x:x + w].astype(bool)
        if not mask.any():
            logger.warning("%s has an empty mask: no panoptic segment", dataset.where(ann))
            continue
        window = ids[y:y + h, x:x + w]  # a view: writing it writes ids
        taken = window[mask]
        if (taken != 0).any():
            raise dataset.error(ann, "segmentation", f"overlaps annotation id "
                                f"{int(taken[taken != 0][0])}; panoptic segments may not "
                                "overlap (run synthscene validate)")
        window[mask] = ann["id"]
        segments.append({"id": int(ann["id"]), "category_id": int(ann["category_id"]),
                         "area": int(mask.sum()), "bbox": [x, y, w, h],
                         "iscrowd": int(ann["iscrowd"])})
    free = ids == 0
    next_id = max((s["id"] for s in segments), default=0) + 1
    stuff = []
    if use_semantic:
        semantic = dataset.read_extra_png(image, "semantic_file")
        for category_id in stuff_ids:
            pixels = free & (semantic == category_id)
            if pixels.any():
                stuff.append((next_id, category_id, pixels))
                next_id += 1
    elif free.any():
        stuff.append((next_id, stuff_ids[0], free))
    if next_id > MAX_SEGMENT_ID + 1:
        raise dataset.error(image, "id", "segment ids do not fit 24 bits")
    for segment_id, category_id, pixels in stuff:
        ids[pixels] = segment_id
        segments.append(_segment(pixels, segment_id, category_id))
    return ids, segments


def _segment(pixels: np.ndarray, segment_id: int, category_id: int) -> dict:
    """``segments_info`` entry of a stuff segment, measured on its ``(H, W) bool`` pixels."""
    ys, xs = np.nonzero(pixels)
    bbox = [int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1),
            int(ys.max() - ys.min() + 1)]
    return {"id": int(segment_id), "category_id": int(category_id), "area": int(xs.size),
            "bbox": bbox, "iscrowd": 0}
