"""Exporters: convert a synthscene (or any COCO instances) dataset on disk to other formats.

Each is a function ``export_X(dataset_dir, out_dir, ...)`` returning an
:class:`ExportSummary`; :func:`export_dataset` picks one by name (what ``synthscene export
DATASET --to FORMAT`` calls). They read the dataset with
:func:`synthscene.io.reader.load_dataset` and never import a rendering or physics backend.

========================= ===============================================================
``--to``                  what
========================= ===============================================================
``coco``                  COCO-2017 folders: ``annotations/instances_<split>.json``, images
``coco-polygons``         COCO instances with polygon masks (RLE kept for masks with holes)
``panoptic``              COCO panoptic PNGs + JSON, things and stuff
``yolo``                  Ultralytics detection or segmentation labels + ``data.yaml``
``bop``                   BOP scene_gt / scene_gt_info / scene_camera, masks, models_info
``mot``                   MOTChallenge gt.txt + seqinfo.ini per sequence (datasets of sequences)
``youtube-vis``           YouTube-VIS / OVIS video instance JSON (datasets of sequences)
``hf``                    Hugging Face ``datasets`` Parquet shards (``load_dataset`` opens them)
``webdataset``            WebDataset tar shards: image + JSON labels per sample
========================= ===============================================================

Every exporter takes ``split={"train": 0.8, ...}`` and ``split_seed`` for a deterministic
train/val/test split by image (:mod:`synthscene.exporters.split`; a split name is a plain
folder name, checked by :func:`~synthscene.exporters.split.check_split` for every entry point),
and ``overwrite``. Each writes only in its own folders of the output folder and records what it
wrote in ``OUT/.synthscene-export-<format>.json``; ``overwrite`` removes exactly those files, and
a file it did not write where it writes is refused (:mod:`synthscene.exporters.output`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from synthscene.errors import OptionError
from synthscene.exporters._common import ExportSummary
from synthscene.exporters.bop import export_bop
from synthscene.exporters.coco import export_coco
from synthscene.exporters.coco_polygons import export_coco_polygons
from synthscene.exporters.hf import export_hf
from synthscene.exporters.panoptic import export_panoptic
from synthscene.exporters.split import assign_splits, check_split, parse_split
from synthscene.exporters.tracking import export_mot, export_youtube_vis
from synthscene.exporters.webdataset import export_webdataset
from synthscene.exporters.yolo import export_yolo

__all__ = [
    "FORMATS", "ExportSummary", "assign_splits", "check_split", "export_bop", "export_coco",
    "export_coco_polygons", "export_dataset", "export_hf", "export_mot", "export_panoptic",
    "export_webdataset", "export_yolo", "export_youtube_vis", "parse_split",
]

FORMATS = ("yolo", "bop", "coco", "coco-polygons", "panoptic", "mot", "youtube-vis", "hf",
           "webdataset")
"""Names accepted by :func:`export_dataset` (``synthscene export --to``)."""


def export_dataset(dataset_dir: str | Path, out_dir: str | Path, *, to: str,
                   split: Mapping[str, float] | None = None, split_seed: int = 0,
                   task: str = "detect", overwrite: bool = False,
                   image_dir: str | Path | None = None, shard_size: int | None = None,
                   num_shards: int | None = None, copy: bool = False) -> ExportSummary:
    """Export a dataset to the format named ``to``.

    Parameters
    ----------
    dataset_dir : str or pathlib.Path
        Source dataset folder (``annotations.json`` + ``images/``) or COCO JSON file.
    out_dir : str or pathlib.Path
        Output folder.
    to : str
        One of :data:`FORMATS`.
    split : mapping of str to float, optional
        Split fractions by name (:func:`parse_split` makes one from text); None for no split.
        Names are letters, digits, ``_`` and ``-`` (:func:`check_split`).
    split_seed : int
        Seed of the split's shuffle, >= 0.
    task : {"detect", "segment"}
        YOLO label kind; only ``"detect"`` is accepted for the other formats.
    overwrite : bool
        Replace an earlier export of this format in ``out_dir``: remove exactly the files its
        manifest lists (:mod:`synthscene.exporters.output`). Files it did not write, where the
        export writes, are refused with or without it.
    image_dir : str or pathlib.Path, optional
        Source image folder, if not ``images/`` next to the annotation file.
    shard_size, num_shards : int, optional
        Most images per shard, or shards per split, of the ``hf`` and ``webdataset`` exports
        (:mod:`synthscene.exporters.sharding`); one at most.
    copy : bool
        ``coco``: copy the images instead of hard-linking them.

    Returns
    -------
    ExportSummary

    Raises
    ------
    synthscene.errors.OptionError
        If ``to`` or ``task`` is unknown, ``split`` is malformed (a name that is not a plain
        folder name, such as ``".."`` or ``"/abs"``), ``split_seed`` is negative, or an option
        is given to a format it does not apply to.
    synthscene.errors.DatasetError
        If the exporter refuses the dataset (see each ``export_*``).
    synthscene.errors.AssetError, synthscene.errors.OutputError
        From the exporter.
    """
    if to not in FORMATS:
        raise OptionError("--to", "", f"must be one of {', '.join(FORMATS)}, got {to!r}")
    if task != "detect" and to != "yolo":
        raise OptionError("--task", "", f"applies to the yolo export only, not {to}")
    if (shard_size is not None or num_shards is not None) and to not in ("hf", "webdataset"):
        flag = "--shard-size" if shard_size is not None else "--num-shards"
        raise OptionError(flag, "", f"applies to the hf and webdataset exports only, not {to}")
    if copy and to != "coco":
        raise OptionError("--copy", "", f"applies to the coco export only, not {to}")
    if split_seed < 0:
        raise OptionError("--split-seed", "", f"must be >= 0, got {split_seed}")
    if split is not None:
        split = check_split(split)
    common = {"split": split, "split_seed": split_seed, "overwrite": overwrite,
              "image_dir": image_dir}
    if to == "yolo":
        return export_yolo(dataset_dir, out_dir, task=task, **common)
    if to == "bop":
        return export_bop(dataset_dir, out_dir, **common)
    if to == "coco":
        return export_coco(dataset_dir, out_dir, copy=copy, **common)
    if to == "coco-polygons":
        return export_coco_polygons(dataset_dir, out_dir, **common)
    if to == "mot":
        return export_mot(dataset_dir, out_dir, **common)
    if to == "youtube-vis":
        return export_youtube_vis(dataset_dir, out_dir, **common)
    if to == "hf":
        return export_hf(dataset_dir, out_dir, shard_size=shard_size, num_shards=num_shards,
                         **common)
    if to == "webdataset":
        return export_webdataset(dataset_dir, out_dir, shard_size=shard_size,
                                 num_shards=num_shards, **common)
    return export_panoptic(dataset_dir, out_dir, **common)
