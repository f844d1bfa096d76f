"""End to end: scenario -> settled scene -> render -> COCO dataset, checked with pycocotools
against the rendered pixels."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO

import synthscene
from synthscene.config.loading import scenario_from_dict

pytestmark = pytest.mark.gl

SMALL = {
    "name": "small",
    "image": {"width": 320, "height": 240},
    "assets": [
        {"source": "primitive:box"},
        {"source": "primitive:sphere"},
        {"source": "primitive:torus"},
        {"source": "pybullet_data:duck_vhacd.urdf"},
        {"source": "pybullet_data:objects/mug.urdf"},
    ],
    "objects": {"count": {"randint": [6, 12]}, "size_m": {"uniform": [0.08, 0.15]},
                "drop_region": {"x_m": [-0.2, 0.2], "y_m": [-0.2, 0.2], "z_m": [0.05, 0.25]}},
    "camera": {"distance_m": {"uniform": [0.7, 1.0]}},
    "physics": {"max_steps": 600},
}


def small(**overrides) -> synthscene.Scenario:
    data = json.loads(json.dumps(SMALL))
    for key, value in overrides.items():
        data[key] = {**data.get(key, {}), **value} if isinstance(value, dict) else value
    return scenario_from_dict(data, source="<test>")


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> tuple[Path, list]:
    out = tmp_path_factory.mktemp("ds")
    scenario = small()
    summary = synthscene.generate(scenario, out, frames=4, seed=7)
    assert summary.frames == 4 and summary.annotations == out / "annotations.json"
    samples = list(synthscene.iter_samples(scenario, frames=4, seed=7))
    return out, samples


def test_coco_labels_match_rendered_pixels(dataset):
    out, samples = dataset
    coco = COCO(str(out / "annotations.json"))
    assert len(coco.getImgIds()) == 4
    total = 0
    for sample in samples:
        image_id = sample.frame_index + 1
        img = coco.loadImgs(image_id)[0]
        ids = sample.render.instance_ids
        assert (img["width"], img["height"]) == (320, 240) == (ids.shape[1], ids.shape[0])
        assert (out / "images" / img["file_name"]).is_file()
        anns = coco.loadAnns(coco.getAnnIds(imgIds=image_id))
        labelled = {o.instance_id: o for o in sample.state.objects}
        visible = set(np.unique(ids).tolist()) - {0}
        assert visible <= set(labelled)  # ids in the image are a subset of the scene's ids
        assert {a["scene_instance_id"] for a in anns} == visible
        assert np.all(sample.render.depth[ids > 0] > 0)
        union = np.zeros(ids.shape, dtype=np.int32)
        for ann in anns:
            m = coco.annToMask(ann)
            np.testing.assert_array_equal(m, ids == ann["scene_instance_id"])
            rle = ann["segmentation"]
            assert rle["size"] == [240, 320] and isinstance(rle["counts"], str)
            assert ann["bbox"] == mask_utils.toBbox(rle).tolist()
            assert ann["area"] == int(m.sum()) == int(mask_utils.area(rle)) > 0
            assert ann["iscrowd"] == 0
            cat = coco.loadCats(ann["category_id"])[0]["name"]
            assert cat == labelled[ann["scene_instance_id"]].category
            union += m
            total += 1
        assert union.max() <= 1  # visible masks never overlap
    assert total > 0


def test_ids_start_at_one_and_are_unique(dataset):
    out, _ = dataset
    data = json.loads((out / "annotations.json").read_text())
    for key in ("images", "annotations", "categories"):
        ids = [x["id"] for x in data[key]]
        assert min(ids) == 1 and len(set(ids)) == len(ids)
    assert [c["name"] for c in data["categories"]] == sorted(c["name"] for c in data["categories"])
    image = data["images"][0]
    assert np.asarray(image["K"]).shape == (3, 3)
    assert np.asarray(image["world_from_camera"]).shape == (4, 4)
    assert image["seed"] == [7, 0]


def test_same_seed_same_bytes_other_seed_differs(dataset, tmp_path):
    out, _ = dataset
    again, other = tmp_path / "again", tmp_path / "other"
    synthscene.generate(small(), again, frames=4, seed=7)
    synthscene.generate(small(), other, frames=4, seed=8)
    for name in ["annotations.json"] + [f"images/{i:06d}.png" for i in range(1, 5)]:
        assert (out / name).read_bytes() == (again / name).read_bytes(), name
    assert (out / "annotations.json").read_bytes() != (other / "annotations.json").read_bytes()
    assert (out / "images/000001.png").read_bytes() != (other / "images/000001.png").read_bytes()


def test_two_objects_of_one_asset_and_empty_frame(tmp_path):
    one_asset = small(assets=[{"source": "primitive:box"}], objects={"count": 2},
                      camera={"look_at": {"x_m": [0, 0], "y_m": [0, 0], "z_m": [0, 0]},
                              "elevation_deg": 89, "distance_m": 1.2})
    # Two boxes dropped side by side.
    frames = list(synthscene.iter_samples(one_asset, frames=3, seed=1))
    assert any(len(f.labels) == 2 and {lab.category for lab in f.labels} == {"box"}
               for f in frames)
    empty = small(objects={"count": 0})
    summary = synthscene.generate(empty, tmp_path / "empty", frames=2, seed=0)
    data = json.loads(summary.annotations.read_text())
    assert [i["id"] for i in data["images"]] == [1, 2] and data["annotations"] == []


def test_existing_dataset_is_refused_without_overwrite(tmp_path):
    synthscene.generate(small(objects={"count": 1}), tmp_path, frames=1, seed=0)
    with pytest.raises(synthscene.OutputError, match="holds a dataset already"):
        synthscene.generate(small(objects={"count": 1}), tmp_path, frames=1, seed=0)
    synthscene.generate(small(objects={"count": 1}), tmp_path, frames=2, seed=0, overwrite=True)
    assert len(json.loads((tmp_path / "annotations.json").read_text())["images"]) == 2


@pytest.mark.slow
def test_default_scene_100_frames(tmp_path):
    """README's main job: 100 frames of the bundled default scene load in pycocotools."""
    from synthscene.resources import default_scene_path

    summary = synthscene.generate(synthscene.load_scenario(default_scene_path()), tmp_path,
                                  frames=100, seed=0)
    coco = COCO(str(summary.annotations))
    assert len(coco.getImgIds()) == 100
    cats = {c["name"] for c in coco.loadCats(coco.getCatIds())}
    assert len(cats) >= 8
    for ann in coco.loadAnns(coco.getAnnIds()):
        m = coco.annToMask(ann)
        assert ann["area"] == int(m.sum()) > 0
        assert ann["bbox"] == mask_utils.toBbox(ann["segmentation"]).tolist()
