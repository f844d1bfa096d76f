"""``synthscene validate``: a good dataset passes; each defect put into it is caught."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
from pycocotools import mask as mask_utils
from typer.testing import CliRunner

from synthetic_coco import GRID_INSTANCES, H, W, build_dataset, read_json, rle, write_json
from synthscene.cli import app
from synthscene.errors import DatasetError
from synthscene.io.reader import load_dataset
from synthscene.io.rle import rle_counts, to_rle
from synthscene.tools.validate import CHECKS, validate_dataset

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")


@pytest.fixture(scope="module")
def good(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("good")
    build_dataset(root)
    return root


@pytest.fixture
def dataset(good, tmp_path) -> Path:
    """A fresh copy of the good dataset, to break."""
    root = tmp_path / "ds"
    shutil.copytree(good, root)
    return root


def test_good_dataset_passes_every_check(good):
    report = validate_dataset(good)
    assert report.ok, report.format()
    assert [c.name for c in report.checks] == list(CHECKS)
    assert report.counts == {"images": 3, "annotations": 7 + GRID_INSTANCES, "categories": 3}
    # every mask of every annotation was examined, the > 255-instance image included
    for name in ("rle", "bbox", "area", "nonempty", "overlap"):
        assert report.check(name).checked == 7 + GRID_INSTANCES
    assert report.check("extras").checked > 0


def test_plain_coco_without_extras_passes(tmp_path):
    build_dataset(tmp_path, extras=False)
    report = validate_dataset(tmp_path / "annotations.json")  # a JSON file works as well
    assert report.ok, report.format()
    assert report.check("extras").checked == 0


def _mutate(root: Path, change) -> None:
    data = read_json(root)
    change(data, root)
    write_json(root, data)


def _shift_bbox(data, root):
    data["annotations"][0]["bbox"][0] += 1.0
    del data["annotations"][0]["amodal_bbox"]  # which would no longer contain it


def _wrong_area(data, root):
    data["annotations"][1]["area"] -= 1


def _box_area(data, root):  # the classic bug: area = w x h of an L-shaped mask
    ann = data["annotations"][0]
    ann["area"] = ann["bbox"][2] * ann["bbox"][3]


def _missing_image(data, root):
    (root / "images" / "000002.png").unlink()


def _wrong_image_size(data, root):
    cv2.imwrite(str(root / "images" / "000001.png"), np.zeros((W, H, 3), np.uint8))  # swapped


def _category_zero(data, root):
    data["annotations"][2]["category_id"] = 0


def _category_entry_zero(data, root):
    data["categories"][0]["id"] = 0
    for ann in data["annotations"]:
        if ann["category_id"] == 1:
            ann["category_id"] = 0


def _overlap(data, root):
    # annotation 2 (instance 2) grows over instance 1's visible pixels; its bbox and area stay
    # consistent with its new mask, so only the overlap check may fail
    ann = data["annotations"][1]
    mask = mask_utils.decode(to_rle(ann["segmentation"], H, W)).astype(bool)
    mask[2:12, 10:15] = True
    encoded = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    ann.update(segmentation=rle(mask), bbox=[float(v) for v in mask_utils.toBbox(encoded)],
               area=int(mask_utils.area(encoded)))
    for key in ("amodal_bbox", "amodal_area", "amodal_segmentation", "visib_fract"):
        ann.pop(key)


def _duplicate_annotation_id(data, root):
    data["annotations"][5]["id"] = data["annotations"][4]["id"]


def _duplicate_image_id(data, root):
    data["images"][2]["id"] = 2


def _zero_area(data, root):
    ann = data["annotations"][5]  # the one-pixel object
    ann.update(segmentation=rle(np.zeros((H, W), bool)), bbox=[0.0, 0.0, 0.0, 0.0], area=0)
    for key in ("amodal_bbox", "amodal_area", "keypoints", "num_keypoints"):
        ann.pop(key)


def _corrupt_rle(data, root):
    # runs that add up to far more than H * W pixels: pycocotools would write past its buffer
    data["annotations"][0]["segmentation"]["counts"] = "o" * 5 + "1"


def _rle_size_swapped(data, root):
    data["annotations"][3]["segmentation"]["size"] = [W, H]


def _id_zero(data, root):
    data["annotations"][0]["id"] = 0


@pytest.mark.parametrize(("defect", "expected"), [
    (_shift_bbox, {"bbox"}),
    (_wrong_area, {"area"}),
    (_box_area, {"area"}),
    (_missing_image, {"files"}),
    (_wrong_image_size, {"image_size"}),
    (_category_zero, {"category", "ids"}),
    (_category_entry_zero, {"category"}),
    (_overlap, {"overlap"}),
    (_duplicate_annotation_id, {"ids"}),
    (_duplicate_image_id, {"ids"}),
    (_zero_area, {"nonempty"}),
    (_corrupt_rle, {"rle"}),
    (_rle_size_swapped, {"rle"}),
    (_id_zero, {"ids"}),
])
def test_each_defect_is_caught_by_its_check(dataset, defect, expected):
    _mutate(dataset, defect)
    report = validate_dataset(dataset)
    assert not report.ok
    assert set(report.failed()) == expected, report.format()
    for name in expected:
        problems = report.check(name).problems
        assert problems and all(p.check == name and p.message for p in problems)


def test_problems_name_the_entry_and_the_values(dataset):
    _mutate(dataset, _shift_bbox)
    (problem,) = validate_dataset(dataset).check("bbox").problems
    assert problem.where == "annotations[0] (id 1).bbox"
    assert "[4, 2, 16, 10]" in problem.message and "[3, 2, 16, 10]" in problem.message

    _mutate(dataset, lambda data, root: data["annotations"][0]["bbox"].__setitem__(0, 3.0))
    _mutate(dataset, _wrong_image_size)
    (problem,) = validate_dataset(dataset).check("image_size").problems
    assert "swapped" in problem.message


def test_schema_problems_are_reported_and_skip_the_entry(dataset):
    def change(data, root):
        del data["annotations"][0]["iscrowd"]
        data["annotations"][1]["bbox"] = [1, 2, 3]
        data["images"][0]["width"] = "64"
    _mutate(dataset, change)
    report = validate_dataset(dataset)
    wheres = [p.where for p in report.check("schema").problems]
    assert wheres == ["images[0] (id 1).width", "annotations[0] (id 1).iscrowd",
                      "annotations[1] (id 2).bbox"]
    assert report.failed() == ["schema"]  # the broken entries are not checked again


def test_broken_top_level_skips_the_other_checks(dataset):
    (dataset / "annotations.json").write_text(json.dumps({"images": [], "annotations": {}}))
    report = validate_dataset(dataset)
    assert not report.ok
    assert [p.where for p in report.check("schema").problems] == ["annotations", "categories"]
    assert all(report.check(name).skipped for name in CHECKS if name != "schema")


def test_unreadable_dataset_raises_config_error(tmp_path):
    with pytest.raises(DatasetError, match="no such dataset"):
        validate_dataset(tmp_path / "nothing")
    (tmp_path / "annotations.json").write_text('{"images": [,]}')
    with pytest.raises(DatasetError, match="line 1 column"):
        validate_dataset(tmp_path)
    (tmp_path / "annotations.json").write_text(json.dumps({"images": [], "categories": []}))
    with pytest.raises(DatasetError, match="annotations.json: annotations: missing"):
        load_dataset(tmp_path)


def test_rle_counts_matches_pycocotools():
    rng = np.random.Generator(np.random.PCG64(11))
    for trial in range(50):
        h, w = (int(v) for v in rng.integers(1, 40, size=2))
        mask = rng.random((h, w)) < rng.random()
        encoded = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
        runs = rle_counts(encoded["counts"].decode())
        assert runs.sum() == h * w
        # the runs, as uncompressed RLE, compress back to the same string
        again = mask_utils.frPyObjects({"size": [h, w], "counts": runs.tolist()}, h, w)
        assert again["counts"] == encoded["counts"]
    # run lengths above 2**31 - 1 would never fit an image: refused
    with pytest.raises(ValueError):
        rle_counts("o" * 13 + "1")


def test_cli_exit_status_and_report(good, dataset):
    runner = CliRunner()
    result = runner.invoke(app, ["validate", str(good)])
    assert result.exit_code == 0, result.output
    assert "result: valid" in result.output
    _mutate(dataset, _shift_bbox)
    result = runner.invoke(app, ["validate", str(dataset), "--max-problems", "1"])
    assert result.exit_code == 1
    assert "FAIL  bbox" in result.output and "annotations[0] (id 1).bbox" in result.output
    result = runner.invoke(app, ["validate", str(dataset / "missing")])
    assert result.exit_code == 2
    assert result.output.strip().startswith("synthscene: error:")
    assert len(result.output.strip().splitlines()) == 1


def test_null_optional_fields_count_as_absent(dataset):
    def change(data, root):
        data["annotations"][0]["amodal_bbox"] = None
        data["images"][0]["depth_file"] = None
    _mutate(dataset, change)
    assert validate_dataset(dataset).ok
    loaded = load_dataset(dataset)
    assert "amodal_bbox" not in loaded.annotations[0] and "depth_file" not in loaded.images[0]
