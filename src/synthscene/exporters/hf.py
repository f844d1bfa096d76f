"""Hugging Face ``datasets`` folder: Parquet shards that ``datasets.load_dataset`` opens as is.

Layout (the Hub's convention for data files, recognised without a loading script)::

    OUT/data/<split>-00000-of-00003.parquet ...   ``shard_size`` images each, in image-id order

``datasets.load_dataset("OUT")`` gives one split per name (``train`` when no split is asked).
Each row is one image:

- ``image``: the image file's bytes (``datasets.Image``: a PIL image when read), ``path`` its
  ``file_name``;
- ``image_id`` int64, ``file_name`` string, ``width``, ``height`` int64 (pixels);
- ``objects``: a list with one entry per annotation, in annotation-id order: ``id`` int64,
  ``bbox`` 4 float32 (COCO ``[x, y, w, h]``, pixels), ``category`` (``datasets.ClassLabel``:
  the category's position 0 .. N-1 in the categories sorted by id, its ``names`` the category
  names), ``category_id`` int64 (the COCO id), ``area`` float64, ``iscrowd`` int64,
  ``segmentation`` compressed COCO RLE ``{size: [H, W], counts: str}`` (polygons are converted;
  ``pycocotools.mask.decode`` reads it).

The column types are written as Arrow types plus the ``huggingface`` schema metadata that
``datasets`` reads its ``Features`` from (the format ``datasets.Features.to_dict`` writes, with
the list forms that every ``datasets`` version reads). Shards are written one at a time, a row
group of :data:`ROWS_PER_GROUP` images at a time, each file atomically: memory holds one row
group of images, whatever the dataset's size.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from synthscene.errors import OptionError
from synthscene.exporters._common import (
    ExportSummary,
    read_image_bytes,
    sharded_plan,
    write_shards,
)
from synthscene.exporters.output import open_export
from synthscene.io.reader import load_dataset

__all__ = ["DEFAULT_SHARD_SIZE", "ROWS_PER_GROUP", "export_hf", "hf_features"]

logger = logging.getLogger(__name__)

DEFAULT_SHARD_SIZE = 1000
"""Images per Parquet file."""

ROWS_PER_GROUP = 64
"""Images per Parquet row group (what is held in memory while writing)."""

DATA_DIR = "data"


def hf_features(category_names: list[str]) -> dict[str, Any]:
    """The ``datasets.Features`` of the rows, as ``Features.to_dict`` writes them.

    Parameters
    ----------
    category_names : list of str
        Category names in category-id order (the ``ClassLabel`` names).

    Returns
    -------
    dict
        JSON-ready features.
    """
    def value(dtype: str) -> dict[str, str]:
        return {"dtype": dtype, "_type": "Value"}

    def sequence(feature: dict, length: int = -1) -> dict[str, Any]:
        return {"feature": feature, "length": length, "_type": "Sequence"}

    return {
        "image": {"_type": "Image"},
        "image_id": value("int64"),
        "file_name": value("string"),
        "width": value("int64"),
        "height": value("int64"),
        "objects": [{
            "id": value("int64"),
            "bbox": sequence(value("float32"), 4),
            "category": {"names": list(category_names), "_type": "ClassLabel"},
            "category_id": value("int64"),
            "area": value("float64"),
            "iscrowd": value("int64"),
            "segmentation": {"size": sequence(value("int64")), "counts": value("string")},
        }],
    }


def _arrow_schema(pa, category_names: list[str]):
    segmentation = pa.struct([("size", pa.list_(pa.int64())), ("counts", pa.string())])
    obj = pa.struct([("id", pa.int64()), ("bbox", pa.list_(pa.float32(), 4)),
                     ("category", pa.int64()), ("category_id", pa.int64()),
                     ("area", pa.float64()), ("iscrowd", pa.int64()),
                     ("segmentation", segmentation)])
    metadata = {"huggingface": json.dumps({"info": {"features": hf_features(category_names)}})}
    return pa.schema([("image", pa.struct([("bytes", pa.binary()), ("path", pa.string())])),
                      ("image_id", pa.int64()), ("file_name", pa.string()),
                      ("width", pa.int64()), ("height", pa.int64()),
                      ("objects", pa.list_(obj))], metadata=metadata)


def export_hf(dataset_dir: str | Path, out_dir: str | Path, *,
              split: Mapping[str, float] | None = None, split_seed: int = 0,
              overwrite: bool = False, image_dir: str | Path | None = None,
              shard_size: int = DEFAULT_SHARD_SIZE) -> ExportSummary:
    """Write a Hugging Face ``datasets`` folder of Parquet shards (see the module docstring).

    Parameters
    ----------
    dataset_dir : str or pathlib.Path
        Source dataset folder or COCO JSON file.
    out_dir : str or pathlib.Path
        Output folder (its ``data/`` is written).
    split : mapping of str to float, optional
        Split fractions by name; None writes every image to ``train``.
    split_seed : int
        Seed of the split's shuffle.
    overwrite : bool
        Replace an earlier hf export in ``out_dir``: remove exactly the files it wrote
        (:mod:`synthscene.exporters.output`).
    image_dir : str or pathlib.Path, optional
        Source image folder, if not the default.
    shard_size : int
        Images per Parquet file, >= 1.

    Returns
    -------
    ExportSummary

    Raises
    ------
    synthscene.errors.OptionError
        If pyarrow is not installed (``pip install 'synthscene[hf]'``), ``shard_size`` < 1 or a
        split name is not a word.
    synthscene.errors.DatasetError
        If the source is malformed.
    synthscene.errors.AssetError
        If a source image is missing or unreadable.
    synthscene.errors.OutputError
        If ``out_dir`` holds an hf export (and not ``overwrite``), a file in ``data/`` that
        export did not write, or cannot be written.
    """
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise OptionError("--to", "", "hf needs pyarrow: pip install 'synthscene[hf]'") from None
    dataset = load_dataset(dataset_dir, image_dir=image_dir)
    plan = sharded_plan(dataset, split, split_seed, shard_size, "hf")
    names = [cat["name"] for cat in dataset.categories]
    position = {cat["id"]: k for k, cat in enumerate(dataset.categories)}
    schema = _arrow_schema(pa, names)

    def fill(handle, part: list[dict]) -> None:
        with pq.ParquetWriter(handle, schema) as writer:
            for g in range(0, len(part), ROWS_PER_GROUP):
                rows = [_row(dataset, image, position) for image in part[g:g + ROWS_PER_GROUP]]
                writer.write_table(pa.Table.from_pylist(rows, schema=schema))
            if not part:
                writer.write_table(schema.empty_table())

    with open_export(out_dir, dataset, "hf", [DATA_DIR], overwrite=overwrite) as out:
        counts, written = write_shards(
            dataset, plan, shard_size,
            lambda name, k, shards: out.file(f"{DATA_DIR}/{name}-{k:05d}-of-{shards:05d}.parquet"),
            fill)
        out.finish()
    logger.info("hf export to %s: %d images, %d objects", out.path, sum(counts.values()),
                written)
    return ExportSummary("hf", out.path, counts, written)


def _row(dataset, image: dict, position: Mapping[int, int]) -> dict[str, Any]:
    data = read_image_bytes(dataset, image)
    objects = []
    for ann in dataset.annotations_of(image):
        rle = dataset.rle(ann, image)
        counts = rle["counts"]
        objects.append({
            "id": int(ann["id"]),
            "bbox": [float(v) for v in ann["bbox"]],
            "category": position[ann["category_id"]],
            "category_id": int(ann["category_id"]),
            "area": float(ann.get("area", 0.0)),
            "iscrowd": int(ann.get("iscrowd", 0)),
            "segmentation": {"size": [int(v) for v in rle["size"]],
                             "counts": counts.decode("ascii") if isinstance(counts, bytes)
                             else counts},
        })
    return {"image": {"bytes": data, "path": str(image["file_name"])},
            "image_id": int(image["id"]), "file_name": str(image["file_name"]),
            "width": int(image["width"]), "height": int(image["height"]), "objects": objects}
