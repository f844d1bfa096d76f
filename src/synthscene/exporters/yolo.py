"""YOLO (Ultralytics) detection and segmentation labels.

Layout (docs.ultralytics.com/datasets/detect/ and /datasets/segment/)::

    OUT/data.yaml                       train/val/test folders, names; written last
    OUT/images/<split>/<file_name> ...  copies of the source images
    OUT/labels/<split>/<stem>.txt ...   one line per object, one file per image (empty: none)

``data.yaml`` has no ``path`` key, and its folders are relative, so the export can be copied or
moved: without ``path``, Ultralytics' ``check_det_dataset`` takes the YAML file's folder as the
dataset root (``Path(data.get("path") or Path(yaml_file).parent)``) and resolves ``train`` and
``val`` against it. (``path: .`` would not do: a relative ``path`` is taken from the current
folder, or else from Ultralytics' ``datasets_dir`` setting.)

Ultralytics finds an image's labels by replacing ``/images/`` with ``/labels/`` in its path and
the extension with ``.txt``. Without ``--split`` every image is in ``train`` and ``data.yaml``'s
``val`` points to the same folder (Ultralytics requires a ``val`` entry).

Label lines, all coordinates divided by the image width (x) or height (y), 6 decimals:

- ``task="detect"``: ``class cx cy w h``, the COCO ``bbox`` ``[x, y, w, h]`` as centre and size:
  ``cx = (x + w / 2) / W``, ``cy = (y + h / 2) / H``, ``w / W``, ``h / H``.
- ``task="segment"``: ``class x1 y1 x2 y2 ...``, one polygon per object through the centres of
  its boundary pixels (:func:`synthscene.exporters.polygons.centre_points`), the convention in
  which Ultralytics rasterizes a polygon (``ultralytics.data.utils.polygon2mask``: integer
  vertices filled by ``cv2.fillPoly``, boundary included), so that its masks are ours again; a
  polygon along the pixel edges would come back one pixel larger on the right and at the bottom.
  The parts of a disconnected mask and its holes are joined into that one polygon by zero-width
  bridges, as Ultralytics' own COCO converter does (a bridge between two parts is drawn as a
  line of pixels). Ultralytics derives its boxes from these polygons, so they span the boundary
  pixels' centres: half a pixel inside the COCO ``bbox`` on each side.

``class`` is the category's position (0 .. N-1) in the categories sorted by id; ``data.yaml``'s
``names`` maps it back. Crowd annotations (``iscrowd`` 1) are left out, as in Ultralytics'
converter.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import yaml

from synthscene.errors import OptionError
from synthscene.exporters._common import (
    DEFAULT_SPLIT,
    ExportSummary,
    copy_file,
    inside,
    plan_splits,
)
from synthscene.exporters.output import open_export
from synthscene.exporters.polygons import bridge_loops, mask_loops
from synthscene.exporters.split import check_split
from synthscene.io.fileio import write_atomic
from synthscene.io.reader import load_dataset

__all__ = ["TASKS", "export_yolo", "yolo_box"]

logger = logging.getLogger(__name__)

TASKS = ("detect", "segment")


def yolo_box(bbox: list[float], width: int, height: int) -> tuple[float, float, float, float]:
    """COCO ``[x, y, w, h]`` in pixels to YOLO's normalised ``(cx, cy, w, h)``.

    Parameters
    ----------
    bbox : list of 4 float
        COCO box: top-left corner and size, in pixels.
    width, height : int
        Image size in pixels.

    Returns
    -------
    tuple of 4 float
        Centre and size divided by the image width (x, w) and height (y, h).
    """
    x, y, w, h = (float(v) for v in bbox)
    return (x + w / 2) / width, (y + h / 2) / height, w / width, h / height


def export_yolo(dataset_dir: str | Path, out_dir: str | Path, *, task: str = "detect",
                split: Mapping[str, float] | None = None, split_seed: int = 0,
                overwrite: bool = False, image_dir: str | Path | None = None) -> ExportSummary:
    """Write a YOLO dataset that Ultralytics trains on (see the module docstring).

    Parameters
    ----------
    dataset_dir : str or pathlib.Path
        Source dataset folder or COCO JSON file.
    out_dir : str or pathlib.Path
        Output folder.
    task : {"detect", "segment"}
        Box labels or polygon labels.
    split : mapping of str to float, optional
        ``{"train": 0.8, "val": 0.1, "test": 0.1}``; must include ``train``. None puts every
        image in ``train``.
    split_seed : int
        Seed of the split's shuffle.
    overwrite : bool
        Replace an earlier yolo export in ``out_dir``: remove exactly the files it wrote
        (:mod:`synthscene.exporters.output`).
    image_dir : str or pathlib.Path, optional
        Source image folder, if not the default.

    Returns
    -------
    ExportSummary

    Raises
    ------
    synthscene.errors.OptionError
        If ``task`` is unknown or ``split`` has no ``train``.
    synthscene.errors.DatasetError
        If the source is malformed.
    synthscene.errors.AssetError
        If a source image is missing.
    synthscene.errors.OutputError
        If ``out_dir`` holds a yolo export (and not ``overwrite``), a file that export did not
        write in ``images/``, ``labels/`` or at ``data.yaml``, or cannot be written.
    """
    if task not in TASKS:
        raise OptionError("--task", "", f"must be one of {', '.join(TASKS)}, got {task!r}")
    split = check_split(split) if split is not None else None
    if split is not None and DEFAULT_SPLIT not in split:
        raise OptionError("--split", "", f"the yolo export needs a {DEFAULT_SPLIT!r} split, got "
                          f"{', '.join(split)}")
    dataset = load_dataset(dataset_dir, image_dir=image_dir)
    classes = {cat["id"]: index for index, cat in enumerate(dataset.categories)}
    plan = plan_splits(dataset, split, split_seed, default=DEFAULT_SPLIT)
    with open_export(out_dir, dataset, "yolo", ["images", "labels", "data.yaml"],
                     overwrite=overwrite) as out:
        written = crowd = 0
        counts: dict[str, int] = {}
        for name, images in plan:
            for image in images:
                relative = inside(dataset, image, "file_name")
                copy_file(dataset.image_path(image), out.file(f"images/{name}/{relative}"))
                lines = []
                for ann in dataset.annotations_of(image):
                    if ann["iscrowd"]:
                        crowd += 1
                        continue
                    lines.append(_label_line(dataset, ann, image, classes[ann["category_id"]],
                                             task))
                label_path = out.file(f"labels/{name}/{relative.with_suffix('.txt')}")
                write_atomic(label_path, "".join(line + "\n" for line in lines).encode("ascii"))
                written += len(lines)
            counts[name] = len(images)

        names = list(counts)
        data = {"train": f"images/{DEFAULT_SPLIT}",
                "val": f"images/{'val' if 'val' in counts else DEFAULT_SPLIT}"}
        for name in names:
            if name not in (DEFAULT_SPLIT, "val"):
                data[name] = f"images/{name}"
        data["names"] = {index: cat["name"] for index, cat in enumerate(dataset.categories)}
        text = ("# YOLO dataset written by synthscene export from "
                f"{dataset.annotations_path.name}\n"
                "# no 'path:': Ultralytics resolves the folders below against this file's folder\n"
                + yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
        write_atomic(out.file("data.yaml"), text.encode("utf-8"), durable=True)
        out.finish()
    notes = (f"{crowd} crowd annotations (iscrowd 1) left out",) if crowd else ()
    if "val" not in counts:
        notes += (f"no 'val' split: data.yaml's val is images/{DEFAULT_SPLIT}",)
    logger.info("yolo %s export to %s: %d labels", task, out.path, written)
    return ExportSummary("yolo", out.path, counts, written, notes)


def _label_line(dataset, ann: dict, image: dict, cls: int, task: str) -> str:
    width, height = image["width"], image["height"]
    if task == "detect":
        return f"{cls} " + " ".join(f"{v:.6f}" for v in yolo_box(ann["bbox"], width, height))
    loops = mask_loops(dataset.mask(ann, image))
    if not loops:
        raise dataset.error(ann, "segmentation", "the mask is empty (run synthscene validate)")
    polygon = bridge_loops(loops, centres=True) / np.array([width, height], dtype=np.float64)
    return f"{cls} " + " ".join(f"{v:.6f}" for v in polygon.ravel())
