"""export --to hf and --to webdataset, read back by the real libraries (datasets, webdataset)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pycocotools import mask as mask_utils

from synthetic_coco import build_dataset
from synthscene.errors import OptionError, OutputError
from synthscene.exporters import export_dataset
from synthscene.exporters.hf import export_hf
from synthscene.exporters.webdataset import export_webdataset
from synthscene.io.rle import to_rle

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

SPLIT = {"train": 0.67, "val": 0.33}


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("source")
    return root, build_dataset(root)


def _truth(root: Path, data: dict, image_id: int):
    image = next(img for img in data["images"] if img["id"] == image_id)
    anns = sorted((a for a in data["annotations"] if a["image_id"] == image_id),
                  key=lambda a: a["id"])
    rgb = np.asarray(Image.open(root / "images" / image["file_name"]).convert("RGB"))
    return image, anns, rgb


def _mask(segmentation, height: int, width: int) -> np.ndarray:
    return mask_utils.decode(to_rle(segmentation, height, width)).astype(bool)


def test_hf_export_opens_with_datasets_load_dataset(source, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    datasets = pytest.importorskip("datasets")
    root, data = source
    summary = export_dataset(root, tmp_path / "hf", to="hf", split=SPLIT, split_seed=1)
    assert sum(summary.images.values()) == len(data["images"])
    # small shards: several files per split, still one split each
    export_hf(root, tmp_path / "hf1", split=SPLIT, split_seed=1, shard_size=1)
    train_files = list((tmp_path / "hf1" / "data").glob("train-*.parquet"))
    assert len(train_files) == summary.images["train"]
    names = [c["name"] for c in sorted(data["categories"], key=lambda c: c["id"])]
    for folder in ("hf", "hf1"):
        loaded = datasets.load_dataset(str(tmp_path / folder),
                                       cache_dir=str(tmp_path / "cache"))
        assert {name: len(rows) for name, rows in loaded.items()} == summary.images
        # the Hub's detection layout: objects is a dict of lists
        category = loaded["train"].features["objects"]["category"]
        assert (category.feature if hasattr(category, "feature") else category[0]).names == names
        seen = 0
        for rows in loaded.values():
            for row in rows:
                image, anns, rgb = _truth(root, data, row["image_id"])
                assert (row["width"], row["height"]) == (image["width"], image["height"])
                np.testing.assert_array_equal(np.asarray(row["image"].convert("RGB")), rgb)
                objects = row["objects"]
                assert objects["id"] == [a["id"] for a in anns]
                np.testing.assert_allclose(np.reshape(objects["bbox"], (-1, 4)),
                                           np.reshape([a["bbox"] for a in anns], (-1, 4)),
                                           rtol=1e-6)
                assert objects["category_id"] == [a["category_id"] for a in anns]
                assert [names[k] for k in objects["category"]] == [
                    names[a["category_id"] - 1] for a in anns]
                assert objects["area"] == [a["area"] for a in anns]
                for rle, ann in zip(objects["segmentation"], anns):
                    np.testing.assert_array_equal(
                        mask_utils.decode(rle).astype(bool),
                        _mask(ann["segmentation"], image["height"], image["width"]))
                seen += 1
        assert seen == len(data["images"])


def test_webdataset_export_reads_with_webdataset(source, tmp_path):
    wds = pytest.importorskip("webdataset")
    root, data = source
    summary = export_webdataset(root, tmp_path / "wds", split=SPLIT, split_seed=1, shard_size=1)
    shards = sorted(str(p) for p in (tmp_path / "wds").glob("*.tar"))
    assert len(shards) == len(data["images"]) == sum(summary.images.values())
    categories = json.loads((tmp_path / "wds" / "categories.json").read_text())
    assert [c["id"] for c in categories] == sorted(c["id"] for c in data["categories"])
    seen = set()
    for sample in wds.WebDataset(shards, shardshuffle=False, empty_check=False).decode("rgb8"):
        labels = sample["json"]
        image, anns, rgb = _truth(root, data, labels["image"]["id"])
        assert sample["__key__"] == f"{image['id']:09d}"
        np.testing.assert_array_equal(sample["png"], rgb)
        assert labels["annotations"] == anns
        seen.add(image["id"])
    assert seen == {image["id"] for image in data["images"]}
    # same dataset, same bytes; refuses to overwrite, then replaces only its own shards
    export_webdataset(root, tmp_path / "again", split=SPLIT, split_seed=1, shard_size=1)
    for path in shards:
        assert Path(path).read_bytes() == (tmp_path / "again" / Path(path).name).read_bytes()
    with pytest.raises(OutputError, match="--overwrite"):
        export_webdataset(root, tmp_path / "wds")
    export_webdataset(root, tmp_path / "wds", overwrite=True, num_shards=1)
    assert sorted(p.name for p in (tmp_path / "wds").glob("*.tar")) == ["train-000000.tar"]


def test_shard_size_and_split_names_are_checked(source, tmp_path):
    root, _ = source
    for export in (export_hf, export_webdataset):
        with pytest.raises(OptionError, match="shard-size"):
            export(root, tmp_path / "x", shard_size=0)
        with pytest.raises(OptionError, match="num-shards"):
            export(root, tmp_path / "x", num_shards=0)
        with pytest.raises(OptionError, match="exclude each other"):
            export(root, tmp_path / "x", num_shards=2, shard_size=2)
        assert not (tmp_path / "x").exists()
        with pytest.raises(OptionError, match="words"):
            export(root, tmp_path / "y", split={"train": 0.5, "va-l": 0.5})
