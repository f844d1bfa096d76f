"""Hugging Face ``datasets`` folder: Parquet shards and a dataset card, as on the Hub.

Layout (the Hub's convention for data files, recognised without a loading script)::

    OUT/README.md                                  dataset card (YAML header + prose), last
    OUT/data/<split>-00000-of-00008.parquet ...    shards, images in id order
                                                   (:mod:`synthscene.exporters.sharding`)

``datasets.load_dataset("OUT")`` gives one split per name (``train`` when no split is asked).
Each row is one image, its objects laid out as on the Hub's detection datasets and in the
``transformers`` object-detection guide: ``objects`` is a dict of lists (a ``Sequence`` of a
dict feature), so ``row["objects"]["bbox"]`` is the list of the image's boxes:

- ``image``: the image file's bytes (``datasets.Image``: a PIL image when read), ``path`` its
  ``file_name``;
- ``image_id`` int64, ``file_name`` string, ``width``, ``height`` int64 (pixels);
- ``objects``: one list entry per annotation, in annotation-id order, of ``id`` int64,
  ``bbox`` 4 float32 (COCO ``[x, y, w, h]``, pixels), ``category`` (``datasets.ClassLabel``:
  the category's position 0 .. N-1 in the categories sorted by id, its ``names`` the category
  names), ``category_id`` int64 (the COCO id), ``area`` float64, ``iscrowd`` int64,
  ``segmentation`` compressed COCO RLE ``{size: [H, W], counts: str}`` (polygons are converted;
  ``pycocotools.mask.decode`` reads it).

The column types are written as Arrow types plus the ``huggingface`` schema metadata that
``datasets`` reads its ``Features`` from, both made from :func:`hf_features` (in the
``Sequence`` form that every ``datasets`` version reads). ``README.md`` repeats them as the
card's ``dataset_info`` (the YAML form ``datasets`` and the Hub read), with a ``configs`` entry
naming each split's files, the category names, a ``license`` of ``unknown`` (synthscene cannot
know the licences of the assets and textures rendered: set it before publishing) and how the
dataset was made (synthscene version, source annotation file). Shards are written one at a
time, a row group of :data:`ROWS_PER_GROUP` images at a time, each file atomically: memory
holds one row group of images, whatever the dataset's size.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from synthscene.errors import OptionError
from synthscene.exporters._common import (
    ExportSummary,
    read_image_bytes,
    sharded_plan,
    write_shards,
)
from synthscene.exporters.output import open_export
from synthscene.exporters.sharding import shard_counts, shard_notes
from synthscene.io.fileio import write_atomic
from synthscene.io.reader import CocoDataset, load_dataset
from synthscene.version import __version__

__all__ = ["CARD_NAME", "ROWS_PER_GROUP", "dataset_card", "export_hf", "hf_features"]

logger = logging.getLogger(__name__)

ROWS_PER_GROUP = 64
"""Images per Parquet row group (what is held in memory while writing)."""

DATA_DIR = "data"
CARD_NAME = "README.md"
"""The dataset card's file name (the Hub's)."""


def _value(dtype: str) -> dict[str, str]:
    return {"dtype": dtype, "_type": "Value"}


def _sequence(feature: dict, length: int = -1) -> dict[str, Any]:
    return {"feature": feature, "length": length, "_type": "Sequence"}


def hf_features(category_names: list[str]) -> dict[str, Any]:
    """The ``datasets.Features`` of the rows, in the JSON form of ``Features.to_dict``.

    Parameters
    ----------
    category_names : list of str
        Category names in category-id order (the ``ClassLabel`` names).

    Returns
    -------
    dict
        JSON-ready features; ``objects`` is a ``Sequence`` of a dict feature, which
        ``datasets`` stores and returns as a dict of lists.
    """
    return {
        "image": {"_type": "Image"},
        "image_id": _value("int64"),
        "file_name": _value("string"),
        "width": _value("int64"),
        "height": _value("int64"),
        "objects": _sequence({
            "id": _value("int64"),
            "bbox": _sequence(_value("float32"), 4),
            "category": {"names": list(category_names), "_type": "ClassLabel"},
            "category_id": _value("int64"),
            "area": _value("float64"),
            "iscrowd": _value("int64"),
            "segmentation": {"size": _sequence(_value("int64")), "counts": _value("string")},
        }),
    }


def _arrow_type(pa, feature: Any):
    """The Arrow storage type of a feature (as ``datasets`` stores it)."""
    kind = feature.get("_type") if isinstance(feature, dict) else None
    if kind is None:  # a dict of features
        return pa.struct([(key, _arrow_type(pa, value)) for key, value in feature.items()])
    if kind == "Value":
        return {"int64": pa.int64(), "float32": pa.float32(), "float64": pa.float64(),
                "string": pa.string()}[feature["dtype"]]
    if kind == "ClassLabel":
        return pa.int64()
    if kind == "Image":
        return pa.struct([("bytes", pa.binary()), ("path", pa.string())])
    inner = feature["feature"]
    if isinstance(inner, dict) and "_type" not in inner:  # Sequence of a dict: dict of lists
        return pa.struct([(key, pa.list_(_arrow_type(pa, value)))
                          for key, value in inner.items()])
    return pa.list_(_arrow_type(pa, inner), feature.get("length", -1))


def _arrow_schema(pa, features: dict[str, Any]):
    metadata = {"huggingface": json.dumps({"info": {"features": features}})}
    return pa.schema([(name, _arrow_type(pa, feature)) for name, feature in features.items()],
                     metadata=metadata)


def _yaml_features(features: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Features in the card's YAML form (``datasets``' ``Features._to_yaml_list``, the
    ``sequence`` spelling that every ``datasets`` version reads)."""
    def entry(name: str, feature: Any) -> dict[str, Any]:
        return {"name": name, **body(feature)}

    def body(feature: Any) -> dict[str, Any]:
        kind = feature.get("_type") if isinstance(feature, dict) else None
        if kind is None:
            return {"struct": [entry(k, v) for k, v in feature.items()]}
        if kind == "Value":
            return {"dtype": feature["dtype"]}
        if kind == "Image":
            return {"dtype": "image"}
        if kind == "ClassLabel":
            names = {str(k): name for k, name in enumerate(feature["names"])}
            return {"dtype": {"class_label": {"names": names}}}
        inner = feature["feature"]
        if isinstance(inner, dict) and "_type" not in inner:
            out: dict[str, Any] = {"sequence": [entry(k, v) for k, v in inner.items()]}
        else:
            inner_body = body(inner)
            out = {"sequence": inner_body.get("dtype", inner_body)}
        if feature.get("length", -1) != -1:
            out["length"] = feature["length"]
        return out

    return [entry(name, feature) for name, feature in features.items()]


def dataset_card(dataset: CocoDataset, features: Mapping[str, Any],
                 counts: Mapping[str, int], file_of: Mapping[str, str],
                 num_bytes: Mapping[str, int]) -> str:
    """The text of ``README.md``: YAML header (``license``, ``configs``, ``dataset_info``) and
    prose (features, categories, licence, how it was made).

    Parameters
    ----------
    dataset : CocoDataset
        The source.
    features : mapping
        :func:`hf_features`.
    counts : mapping of str to int
        Images per split.
    file_of : mapping of str to str
        Each split's data-file pattern, relative to the card (``data/train-*``).
    num_bytes : mapping of str to int
        Each split's size as Arrow tables in memory (about what ``datasets`` reports as
        ``num_bytes``).

    Returns
    -------
    str
    """
    info = dataset.data.get("info") if isinstance(dataset.data.get("info"), dict) else {}
    title = str(info.get("description") or "synthscene dataset")
    header = {
        "pretty_name": title,
        "license": "unknown",
        "task_categories": ["object-detection", "image-segmentation"],
        "tags": ["synthetic", "synthscene", "coco"],
        "configs": [{"config_name": "default",
                     "data_files": [{"split": name, "path": file_of[name]} for name in counts]}],
        "dataset_info": {
            "features": _yaml_features(features),
            "splits": [{"name": name, "num_bytes": int(num_bytes.get(name, 0)),
                        "num_examples": n} for name, n in counts.items()],
            "dataset_size": int(sum(num_bytes.values())),
        },
    }
    ours = info.get("contributor") == "synthscene"
    made_by = (f"Synthetic images with instance labels, rendered by synthscene "
               f"{info.get('version', '')}".rstrip() if ours else "Images with instance labels")
    how = ("Rendered by synthscene by domain randomization (random objects, poses, materials, "
           "lights,\ncamera and background per image); the labels come from the renderer, not "
           "from annotators.\n" if ours else "")
    categories = "\n".join(f"| {k} | {cat['id']} | {cat['name']} |"
                           for k, cat in enumerate(dataset.categories))
    splits = ", ".join(f"`{name}` {n}" for name, n in counts.items())
    licences = [entry for entry in dataset.data.get("licenses") or [] if isinstance(entry, dict)]
    listed = "".join(f"\n- {entry.get('name', '')} {entry.get('url', '')}".rstrip()
                     for entry in licences)
    licence_text = (
        "The `license` field says `unknown`: the licence of a synthetic dataset is that of the "
        "3D assets, textures and backgrounds it was rendered from, which the exporter cannot "
        "know. Set it (a Hub licence id) before publishing."
        + (f" The source annotation file lists these licences:{listed}" if listed else ""))
    body = f"""# {title}

{made_by}, exported by synthscene {__version__} (`synthscene export --to hf`) from
`{dataset.annotations_path.name}`: {sum(counts.values())} images ({splits}),
{len(dataset.annotations)} objects.

## Loading

```python
from datasets import load_dataset

ds = load_dataset("path/to/this/folder")   # or the Hub repository's name
example = ds["{next(iter(counts))}"][0]
example["image"]                 # PIL image
example["objects"]["bbox"]       # [[x, y, w, h], ...] in pixels (COCO boxes)
example["objects"]["category"]   # class indices; names in ds["{next(iter(counts))}"].features
```

## Features

| feature | type | meaning |
|---|---|---|
| `image` | Image | the image (PNG or JPEG bytes) |
| `image_id` | int64 | COCO image id |
| `file_name` | string | the image's file name in the source dataset |
| `width`, `height` | int64 | image size, pixels |
| `objects.id` | list of int64 | COCO annotation id, one per object |
| `objects.bbox` | list of 4 float32 | COCO box `[x, y, w, h]`, pixels, tight to the visible mask |
| `objects.category` | list of ClassLabel | category index (table below) |
| `objects.category_id` | list of int64 | COCO category id |
| `objects.area` | list of float64 | visible pixels |
| `objects.iscrowd` | list of int64 | COCO crowd flag |
| `objects.segmentation` | list of RLE | visible mask, COCO RLE `{{size, counts}}` |

## Categories

| index | COCO id | name |
|---|---|---|
{categories}

## Licence

{licence_text}

## How it was made

{how}Exported by synthscene {__version__}: one row per image of `{dataset.annotations_path.name}`,
its objects in annotation-id order.
"""
    text = yaml.safe_dump(header, sort_keys=False, allow_unicode=True)
    return f"---\n{text}---\n\n{body}"


def export_hf(dataset_dir: str | Path, out_dir: str | Path, *,
              split: Mapping[str, float] | None = None, split_seed: int = 0,
              overwrite: bool = False, image_dir: str | Path | None = None,
              shard_size: int | None = None, num_shards: int | None = None) -> ExportSummary:
    """Write a Hugging Face ``datasets`` folder of Parquet shards and its dataset card (see the
    module docstring).

    Parameters
    ----------
    dataset_dir : str or pathlib.Path
        Source dataset folder or COCO JSON file.
    out_dir : str or pathlib.Path
        Output folder (its ``data/`` and ``README.md`` are written).
    split : mapping of str to float, optional
        Split fractions by name; None writes every image to ``train``.
    split_seed : int
        Seed of the split's shuffle.
    overwrite : bool
        Replace an earlier hf export in ``out_dir``: remove exactly the files it wrote
        (``data/`` shards and ``README.md``; :mod:`synthscene.exporters.output`).
    image_dir : str or pathlib.Path, optional
        Source image folder, if not the default.
    shard_size : int, optional
        Most images per Parquet file, >= 1.
    num_shards : int, optional
        Parquet files per split, >= 1; excludes ``shard_size``. Neither: the default of
        :mod:`synthscene.exporters.sharding`.

    Returns
    -------
    ExportSummary

    Raises
    ------
    synthscene.errors.OptionError
        If pyarrow is not installed (``pip install 'synthscene[hf]'``), ``shard_size`` or
        ``num_shards`` is < 1, both are given, or a split name is not a word.
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
    shard_counts((), shard_size=shard_size, num_shards=num_shards)  # check the options first
    dataset = load_dataset(dataset_dir, image_dir=image_dir)
    plan = sharded_plan(dataset, split, split_seed, "hf")
    shards = shard_counts([(name, len(images)) for name, images in plan],
                          shard_size=shard_size, num_shards=num_shards)
    features = hf_features([cat["name"] for cat in dataset.categories])
    position = {cat["id"]: k for k, cat in enumerate(dataset.categories)}
    schema = _arrow_schema(pa, features)

    split_of = {image["id"]: name for name, images in plan for image in images}
    arrow_bytes = dict.fromkeys(split_of.values(), 0)

    def fill(handle, part: list[dict]) -> None:
        with pq.ParquetWriter(handle, schema) as writer:
            for g in range(0, len(part), ROWS_PER_GROUP):
                rows = [_row(dataset, image, position) for image in part[g:g + ROWS_PER_GROUP]]
                table = pa.Table.from_pylist(rows, schema=schema)
                arrow_bytes[split_of[part[0]["id"]]] += table.nbytes
                writer.write_table(table)
            if not part:
                writer.write_table(schema.empty_table())

    with open_export(out_dir, dataset, "hf", [DATA_DIR, CARD_NAME], overwrite=overwrite) as out:
        counts, written = write_shards(
            dataset, plan, shards,
            lambda name, k, count: out.file(f"{DATA_DIR}/{name}-{k:05d}-of-{count:05d}.parquet"),
            fill)
        files = {name: f"{DATA_DIR}/{name}-*" for name in counts}
        card = dataset_card(dataset, features, counts, files, arrow_bytes)
        write_atomic(out.file(CARD_NAME), card.encode("utf-8"), durable=True)
        out.finish()
    notes = shard_notes(counts, shards, num_shards)
    logger.info("hf export to %s: %d images, %d objects", out.path, sum(counts.values()),
                written)
    return ExportSummary("hf", out.path, counts, written, notes)


def _row(dataset, image: dict, position: Mapping[int, int]) -> dict[str, Any]:
    data = read_image_bytes(dataset, image)
    objects: dict[str, list] = {key: [] for key in ("id", "bbox", "category", "category_id",
                                                    "area", "iscrowd", "segmentation")}
    for ann in dataset.annotations_of(image):
        rle = dataset.rle(ann, image)
        counts = rle["counts"]
        objects["id"].append(int(ann["id"]))
        objects["bbox"].append([float(v) for v in ann["bbox"]])
        objects["category"].append(position[ann["category_id"]])
        objects["category_id"].append(int(ann["category_id"]))
        objects["area"].append(float(ann.get("area", 0.0)))
        objects["iscrowd"].append(int(ann.get("iscrowd", 0)))
        objects["segmentation"].append({
            "size": [int(v) for v in rle["size"]],
            "counts": counts.decode("ascii") if isinstance(counts, bytes) else counts})
    return {"image": {"bytes": data, "path": str(image["file_name"])},
            "image_id": int(image["id"]), "file_name": str(image["file_name"]),
            "width": int(image["width"]), "height": int(image["height"]), "objects": objects}
