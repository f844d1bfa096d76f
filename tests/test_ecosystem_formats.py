"""The ecosystem's habits, checked with each tool's own reader: the Hugging Face Hub's detection
layout and dataset card (``datasets``), shards for multi-worker loaders (``webdataset``, torch's
DataLoader), a YOLO export that still trains after a move (Ultralytics' path rule), the COCO-2017
folder layout (datumaro's ``coco_instances`` importer, pycocotools), COCOeval on our 9 box
keypoints, and ``synthscene --version``."""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from synthetic_coco import build_dataset
from synthscene.errors import OptionError
from synthscene.exporters import export_dataset
from synthscene.exporters.coco import export_coco
from synthscene.exporters.hf import export_hf
from synthscene.exporters.sharding import MIN_SHARDS, shard_counts
from synthscene.exporters.webdataset import export_webdataset
from synthscene.exporters.yolo import export_yolo
from synthscene.io.coco import EncodedFrame, encode_annotation, write_dataset

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

SPLIT = {"train": 0.67, "val": 0.33}


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("source")
    return root, build_dataset(root)


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "synthscene.cli", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


# ------------------------------------------------------------------ --version
def test_version_option_prints_the_installed_version(tmp_path):
    result = _cli("--version", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"synthscene {importlib.metadata.version('synthscene')}"


# ------------------------------------------------------------------ Hugging Face
def _front_matter(card: str) -> dict:
    assert card.startswith("---\n")
    header, _, _ = card[4:].partition("\n---\n")
    return yaml.safe_load(header)


def test_hf_objects_are_a_dict_of_lists_with_a_dataset_card(source, tmp_path, monkeypatch,
                                                             caplog):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    datasets = pytest.importorskip("datasets")
    root, data = source
    export_hf(root, tmp_path / "hf", split=SPLIT, split_seed=1)
    ds = datasets.load_dataset(str(tmp_path / "hf"), cache_dir=str(tmp_path / "cache"))
    assert not [r for r in caplog.records if "dataset card" in r.getMessage()]  # card accepted
    # the object-detection guide's access pattern
    first = ds["train"][0]
    anns = sorted((a for a in data["annotations"] if a["image_id"] == first["image_id"]),
                  key=lambda a: a["id"])
    np.testing.assert_allclose(first["objects"]["bbox"], [a["bbox"] for a in anns], rtol=1e-6)
    assert first["objects"]["category"] == [a["category_id"] - 1 for a in anns]
    names = [c["name"] for c in sorted(data["categories"], key=lambda c: c["id"])]
    assert ds["train"].features["objects"]["category"].feature.names == names

    card = (tmp_path / "hf" / "README.md").read_text(encoding="utf-8")
    meta = _front_matter(card)
    assert meta["license"] == "unknown"
    # the card's features are the ones datasets reads from the Parquet files
    from_card = datasets.Features._from_yaml_list(meta["dataset_info"]["features"])
    assert from_card == ds["train"].features
    assert {s["name"]: s["num_examples"] for s in meta["dataset_info"]["splits"]} == {
        name: len(rows) for name, rows in ds.items()}
    files = {f["split"]: f["path"] for f in meta["configs"][0]["data_files"]}
    assert files == {"train": "data/train-*", "val": "data/val-*"}
    for name, pattern in files.items():
        assert sorted(p.name for p in (tmp_path / "hf").glob(pattern)) == sorted(
            p.name for p in (tmp_path / "hf" / "data").glob(f"{name}-*.parquet"))
    from synthscene.version import __version__
    assert f"synthscene\n{__version__}" in card or f"synthscene {__version__}" in card
    assert "annotations.json" in card and all(f"| {name} |" in card for name in names)


def test_hf_and_webdataset_num_shards(source, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    datasets = pytest.importorskip("datasets")
    wds = pytest.importorskip("webdataset")
    root, data = source
    n = len(data["images"])
    summary = export_dataset(root, tmp_path / "hf", to="hf", num_shards=2)
    files = sorted(p.name for p in (tmp_path / "hf" / "data").iterdir())
    assert files == ["train-00000-of-00002.parquet", "train-00001-of-00002.parquet"]
    streamed = datasets.load_dataset(str(tmp_path / "hf"), streaming=True)["train"]
    assert streamed.num_shards == 2
    assert sorted(row["image_id"] for row in streamed) == sorted(i["id"] for i in data["images"])
    assert not summary.notes
    # more shards than images: one image each, and a note says so
    summary = export_dataset(root, tmp_path / "wds", to="webdataset", num_shards=n + 2)
    shards = sorted(str(p) for p in (tmp_path / "wds").glob("train-*.tar"))
    assert len(shards) == n and "not" in summary.notes[0]
    sizes = [sum(1 for _ in wds.WebDataset(s, shardshuffle=False)) for s in shards]
    assert sizes == [1] * n
    with pytest.raises(OptionError, match="hf and webdataset"):
        export_dataset(root, tmp_path / "y", to="yolo", num_shards=2)


@pytest.mark.filterwarnings("ignore:This DataLoader will create:UserWarning")
def test_default_shards_feed_every_loader_worker(source, tmp_path):
    """A small split is not one shard: each of several DataLoader workers gets a shard (with
    one shard, WebDataset raises "No samples found" in the idle workers)."""
    wds = pytest.importorskip("webdataset")
    torch_data = pytest.importorskip("torch.utils.data")
    root, data = source
    export_webdataset(root, tmp_path / "wds")
    shards = sorted(str(p) for p in (tmp_path / "wds").glob("train-*.tar"))
    assert len(shards) == min(len(data["images"]), MIN_SHARDS)
    loader = torch_data.DataLoader(wds.WebDataset(shards, shardshuffle=False), batch_size=None,
                                   num_workers=len(shards))
    keys = sorted(sample["__key__"] for sample in loader)
    assert keys == sorted(f"{image['id']:09d}" for image in data["images"])


def test_default_shard_counts():
    counts = shard_counts([("small", 3), ("mid", 20), ("big", 8500), ("empty", 0)])
    assert counts == {"small": 3, "mid": MIN_SHARDS, "big": 9, "empty": 1}
    assert shard_counts([("a", 10)], shard_size=4) == {"a": 3}
    assert shard_counts([("a", 10)], num_shards=6) == {"a": 6}


# ------------------------------------------------------------------ YOLO, moved
def _ultralytics_split_dirs(yaml_arg: str, cwd: Path) -> dict[str, Path]:
    """The folders Ultralytics trains on, by its rule (ultralytics/data/utils.py,
    ``check_det_dataset``): ``check_file`` returns an existing file's path as given;
    ``path = Path(data.get("path") or Path(yaml_file).parent)``, taken under ``DATASETS_DIR``
    only when it neither exists nor is absolute; each split is ``(path / data[k]).resolve()``.
    Relative paths are relative to the process's current folder (``cwd`` here)."""
    data = yaml.safe_load((cwd / yaml_arg).read_text())
    path = Path(data.get("path") or Path(yaml_arg).parent)
    if not (cwd / path).exists() and not path.is_absolute():
        path = Path("/nonexistent-DATASETS_DIR") / path
    return {k: (cwd / path / data[k]).resolve() for k in ("train", "val", "test") if data.get(k)}


def test_yolo_export_still_trains_after_a_copy_and_a_move(source, tmp_path):
    root, data = source
    export_yolo(root, tmp_path / "made" / "yolo", split=SPLIT, split_seed=1)
    moved = tmp_path / "elsewhere" / "copy"
    shutil.copytree(tmp_path / "made" / "yolo", moved)
    shutil.rmtree(tmp_path / "made")
    text = (moved / "data.yaml").read_text()
    assert str(tmp_path / "made") not in text
    for yaml_arg, cwd in (("copy/data.yaml", tmp_path / "elsewhere"),
                          (str(moved / "data.yaml"), tmp_path)):
        dirs = _ultralytics_split_dirs(yaml_arg, cwd)
        assert dirs == {"train": moved / "images" / "train", "val": moved / "images" / "val"}
        images = [p for d in dirs.values() for p in d.iterdir()]
        assert len(images) == len(data["images"])
        for image in images:  # Ultralytics' img2label_paths: /images/ -> /labels/, .txt
            head, _, tail = str(image).rpartition("/images/")
            assert Path(f"{head}/labels/{tail}").with_suffix(".txt").is_file()


# ------------------------------------------------------------------ COCO-2017 folders
def test_coco_layout_reads_with_datumaro_and_pycocotools(source, tmp_path):
    root, data = source
    summary = export_coco(root, tmp_path / "coco", split=SPLIT, split_seed=1)
    out = tmp_path / "coco"
    assert sorted(p.name for p in (out / "annotations").iterdir()) == [
        "instances_train.json", "instances_val.json"]
    by_id = {image["id"]: image for image in data["images"]}
    seen_images, seen_anns = set(), []
    for name in ("train", "val"):
        coco = COCO(str(out / "annotations" / f"instances_{name}.json"))
        for image_id, image in coco.imgs.items():
            path = out / "images" / name / image["file_name"]
            original = root / "images" / by_id[image_id]["file_name"]
            assert path.read_bytes() == original.read_bytes()
            # hard-linked where the file system allows (tmp_path: one file system)
            assert os.path.samefile(path, original)
            assert "depth_file" not in image
        for ann in coco.loadAnns(coco.getAnnIds()):
            source_ann = next(a for a in data["annotations"] if a["id"] == ann["id"])
            assert ann == source_ann
            seen_anns.append(ann["id"])
        seen_images |= set(coco.imgs)
        assert coco.dataset["categories"] == data["categories"]
    assert seen_images == set(by_id) and sorted(seen_anns) == [a["id"] for a in data["annotations"]]
    assert summary.images == {"train": len(seen_images) - summary.images["val"],
                              "val": summary.images["val"]}

    dm = pytest.importorskip("datumaro")
    imported = dm.Dataset.import_from(str(out), "coco_instances")
    assert sorted(imported.subsets()) == ["train", "val"]
    items = list(imported)
    assert len(items) == len(data["images"])
    source_anns = {a["id"]: a for a in data["annotations"]}
    kinds = {"bbox": [], "mask": []}
    for item in items:
        image = by_id[item.attributes["id"]]
        assert item.media.data.shape[:2] == (image["height"], image["width"])
        for ann in item.annotations:  # each COCO annotation: a box and its mask
            truth = source_anns[ann.id]
            kinds[ann.type.name].append(ann.id)
            if ann.type == dm.AnnotationType.bbox:
                assert [ann.x, ann.y, ann.w, ann.h] == pytest.approx(truth["bbox"])
            else:
                rle = truth["segmentation"]
                np.testing.assert_array_equal(ann.image.astype(bool), mask_utils.decode(
                    {"size": rle["size"], "counts": rle["counts"].encode()}).astype(bool))
    assert sorted(kinds["bbox"]) == sorted(kinds["mask"]) == sorted(source_anns)


def test_coco_export_copies_on_request_from_the_cli(source, tmp_path):
    root, data = source
    result = _cli("export", str(root), "--to", "coco", "--out", str(tmp_path / "c"), "--copy",
                  cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    coco = COCO(str(tmp_path / "c" / "annotations" / "instances_train.json"))
    assert len(coco.imgs) == len(data["images"])
    for image in coco.imgs.values():
        path = tmp_path / "c" / "images" / "train" / image["file_name"]
        assert not os.path.samefile(path, root / "images" / image["file_name"])
        assert path.read_bytes() == (root / "images" / image["file_name"]).read_bytes()
    result = _cli("export", str(root), "--to", "yolo", "--out", str(tmp_path / "d"), "--copy",
                  cwd=tmp_path)
    assert result.returncode == 2 and "--copy" in result.stderr


# ------------------------------------------------------------------ COCOeval keypoints
def _keypoint_dataset(path: Path) -> Path:
    """Two images of boxes with their 9 keypoints, written by the dataset writer."""
    frames = []
    rng = np.random.Generator(np.random.PCG64(3))
    for image_id in (1, 2):
        anns = []
        for k in range(3):
            mask = np.zeros((60, 80), np.uint8)
            x, y = 5 + 25 * k, 10 + 5 * image_id
            mask[y:y + 20, x:x + 18] = 1
            rle = mask_utils.encode(np.asfortranarray(mask))
            points = rng.uniform([x, y], [x + 18, y + 20], size=(9, 2))
            flags = [2, 2, 1, 2, 0, 2, 2, 1, 2]
            keypoints = [v for (px, py), f in zip(points, flags)
                         for v in (float(px), float(py), f)]
            anns.append(encode_annotation({
                "image_id": image_id, "category_id": k % 2 + 1,
                "bbox": [float(v) for v in mask_utils.toBbox(rle)],
                "area": int(mask_utils.area(rle)), "iscrowd": 0,
                "segmentation": {"size": [60, 80], "counts": rle["counts"].decode()},
                "keypoints": keypoints, "num_keypoints": sum(1 for f in flags if f)}))
        frames.append(EncodedFrame({"id": image_id, "file_name": f"{image_id:06d}.png",
                                    "width": 80, "height": 60}, anns))
    write_dataset(path, frames, categories=["box", "can"], keypoints=True)
    return path


def test_cocoeval_keypoints_with_the_written_sigmas(tmp_path):
    gt = COCO(str(_keypoint_dataset(tmp_path / "annotations.json")))
    cat = gt.loadCats(gt.getCatIds())[0]
    assert len(cat["keypoint_sigmas"]) == len(cat["keypoints"]) == 9
    detections = [{**ann, "score": 1.0} for ann in gt.loadAnns(gt.getAnnIds())]
    for ann in detections:
        del ann["id"], ann["segmentation"]
    dt = gt.loadRes(detections)
    evaluator = COCOeval(gt, dt, "keypoints")
    with pytest.raises(ValueError):  # COCOeval's default: the 17 sigmas of the body
        evaluator.evaluate()
    evaluator = COCOeval(gt, dt, "keypoints")
    evaluator.params.kpt_oks_sigmas = np.array(cat["keypoint_sigmas"])
    evaluator.evaluate()
    evaluator.accumulate()
    evaluator.summarize()
    assert evaluator.stats[0] == pytest.approx(1.0)
    # a keypoint off by much more than the sigma's scale lowers the AP
    for ann in detections:
        ann["keypoints"] = [v + 6.0 if i % 3 == 0 else v for i, v in enumerate(ann["keypoints"])]
    shifted = COCOeval(gt, gt.loadRes(detections), "keypoints")
    shifted.params.kpt_oks_sigmas = np.array(cat["keypoint_sigmas"])
    shifted.evaluate()
    shifted.accumulate()
    shifted.summarize()
    assert shifted.stats[0] < 0.9
    json.dumps(cat)  # plain JSON


@pytest.mark.parametrize("option", ["shard_size", "num_shards"])
@pytest.mark.parametrize("value", [2.5, True, float("nan"), "3", 0])
def test_shard_options_must_be_whole_numbers(option, value, tmp_path):
    """``shard_size=2.5`` made fractional shard bounds; every non-whole value is refused."""
    from synthscene.errors import OptionError
    from synthscene.exporters.sharding import shard_counts

    with pytest.raises(OptionError, match=option.replace("_", "-")):
        shard_counts([("train", 10)], **{option: value})
