"""Tests of the COCO file's write path (synthscene.io.coco: frame_record, encode_image, write_png,
write_dataset; the functions every worker and the run folder's merge use): pycocotools round
trip, ids and layout, determinism, compact JSON."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pycocotools.coco import COCO

from synthscene.core.state import Camera, Material, RenderOutput, Sample, SceneObject, SceneState
from synthscene.io.coco import (
    category_ids,
    encode_frame,
    encode_png,
    frame_record,
    write_dataset,
    write_png,
)
from synthscene.labels.annotate import annotate

# pycocotools' decode trips a NumPy 2 deprecation inside its own Cython code.
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

H, W = 240, 320
CATEGORIES = ["bowl", "can", "mug"]
RUN_SEED = 77


def _rng(seed: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([RUN_SEED, seed])))


def _object(instance_id: int, category: str, labelled: bool = True) -> SceneObject:
    return SceneObject(
        instance_id=instance_id,
        asset_key=f"{category}_asset",
        category=category,
        scale=0.1,
        world_from_object=np.eye(4),
        material=Material(base_color=(0.2, 0.4, 0.6, 1.0)),
        labelled=labelled,
    )


def _sample(frame_index: int, n_objects: int = 4) -> Sample:
    """A frame of random rectangles (ids 1.., 300 and 70000), one distractor, random RGB."""
    rng = _rng(frame_index)
    ids = np.zeros((H, W), np.int32)
    instance_ids = [1, 2, 300, 70000, 5, 6][:n_objects]
    objects = [_object(i, CATEGORIES[k % len(CATEGORIES)]) for k, i in enumerate(instance_ids)]
    objects.append(_object(9, "distractor", labelled=False))
    for instance_id in [*instance_ids, 9]:
        y0, x0 = int(rng.integers(0, H - 20)), int(rng.integers(0, W - 20))
        ids[y0 : y0 + int(rng.integers(5, 120)), x0 : x0 + int(rng.integers(5, 160))] = instance_id
    if n_objects:
        ids[H - 3 :, : W // 3] = instance_ids[0]  # touches the border
    K = np.array([[400.0, 0.0, W / 2], [0.0, 410.0, H / 2], [0.0, 0.0, 1.0]])
    world_from_camera = np.eye(4)
    world_from_camera[:3, 3] = [0.1 * frame_index, -0.5, 1.25]
    camera = Camera(K=K, width=W, height=H, world_from_camera=world_from_camera)
    state = SceneState(
        objects=tuple(objects),
        lights=(),
        camera=camera,
        ground=None,
        seed=(RUN_SEED, frame_index),
        physics_steps=100 + frame_index,
    )
    render = RenderOutput(
        rgb=rng.integers(0, 256, size=(H, W, 3), dtype=np.uint8),
        depth=np.ones((H, W), np.float32),
        instance_ids=ids,
    )
    return Sample(
        frame_index=frame_index, state=state, render=render, labels=annotate(state, render)
    )


def _samples() -> list[Sample]:
    return [_sample(0), _sample(1), _sample(2, n_objects=0), _sample(3, n_objects=6)]


def _write(out_dir: Path, samples: list[Sample]) -> Path:
    """Write ``samples`` in any order as ``generate`` does: each frame's record and PNG where it
    is made, then the merge in frame order."""
    ids = category_ids(CATEGORIES)
    (out_dir / "images").mkdir(parents=True)
    records = {}
    for sample in samples:
        record = frame_record(sample, ids)
        write_png(out_dir / "images" / record["image"]["file_name"],
                  encode_png(np.asarray(sample.render.rgb), 1))
        records[record["image"]["id"]] = record
    path = out_dir / "annotations.json"
    write_dataset(path, (encode_frame(records[i]) for i in sorted(records)),
                  categories=CATEGORIES)
    return path


def _folder_bytes(out_dir: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(out_dir)): p.read_bytes()
        for p in sorted(out_dir.rglob("*"))
        if p.is_file()
    }


def test_loads_with_pycocotools_and_masks_match_pixels(tmp_path):
    samples = _samples()
    path = _write(tmp_path / "ds", samples)
    assert path == tmp_path / "ds" / "annotations.json"

    coco = COCO(str(path))

    assert sorted(coco.getImgIds()) == [1, 2, 3, 4]
    for sample in samples:
        image_id = sample.frame_index + 1
        image = coco.loadImgs(image_id)[0]
        assert (image["width"], image["height"]) == (W, H)  # 320 x 240, not swapped
        assert image["file_name"] == f"{image_id:06d}.png"
        ids = sample.render.instance_ids
        annotations = coco.loadAnns(coco.getAnnIds(imgIds=image_id))
        expected_ids = sorted(
            o.instance_id
            for o in sample.state.objects
            if o.labelled and (ids == o.instance_id).any()
        )
        assert [a["scene_instance_id"] for a in annotations] == expected_ids
        for annotation in annotations:
            truth = ids == annotation["scene_instance_id"]
            np.testing.assert_array_equal(coco.annToMask(annotation).astype(bool), truth)
            assert annotation["area"] == int(truth.sum())
            ys, xs = np.nonzero(truth)
            assert annotation["bbox"] == [
                float(xs.min()),
                float(ys.min()),
                float(xs.max() - xs.min() + 1),
                float(ys.max() - ys.min() + 1),
            ]
            assert annotation["iscrowd"] == 0
            obj = next(
                o for o in sample.state.objects if o.instance_id == annotation["scene_instance_id"]
            )
            assert coco.loadCats(annotation["category_id"])[0]["name"] == obj.category
    # an image without objects still has its entry
    assert coco.getAnnIds(imgIds=3) == []


def test_ids_and_file_layout(tmp_path):
    samples = _samples()
    path = _write(tmp_path, samples)
    data = json.loads(path.read_text())

    assert list(data) == ["info", "licenses", "images", "annotations", "categories"]
    assert data["categories"] == [
        {"id": i + 1, "name": name, "supercategory": "object"} for i, name in enumerate(CATEGORIES)
    ]
    image_ids = [image["id"] for image in data["images"]]
    annotation_ids = [a["id"] for a in data["annotations"]]
    assert image_ids == [1, 2, 3, 4]
    assert annotation_ids == list(range(1, len(annotation_ids) + 1))
    assert len(annotation_ids) == sum(len(s.labels) for s in samples)
    keys = [(a["image_id"], a["scene_instance_id"]) for a in data["annotations"]]
    assert keys == sorted(keys)
    for a in data["annotations"]:
        assert isinstance(a["segmentation"]["counts"], str)
        assert a["segmentation"]["size"] == [H, W]
        assert all(isinstance(v, float) for v in a["bbox"])
        assert isinstance(a["area"], int)
    assert "date" not in json.dumps(data["info"])

    first = data["images"][1]
    assert first["seed"] == [RUN_SEED, 1]
    assert first["physics_steps"] == 101
    np.testing.assert_array_equal(first["K"], samples[1].state.camera.K)
    np.testing.assert_array_equal(
        first["world_from_camera"], samples[1].state.camera.world_from_camera
    )

    # PNGs are RGB (not BGR) and lossless
    for sample in samples:
        png = tmp_path / "images" / f"{sample.frame_index + 1:06d}.png"
        with Image.open(png) as image:
            assert image.mode == "RGB"
            np.testing.assert_array_equal(np.asarray(image), sample.render.rgb)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp/probe files


def test_same_samples_give_identical_bytes_in_any_order(tmp_path):
    samples = _samples()
    _write(tmp_path / "a", samples)
    _write(tmp_path / "b", samples)
    _write(tmp_path / "c", [samples[i] for i in (3, 1, 0, 2)])
    # rebuilt from scratch (fresh arrays and labels), as another run with the same seed would
    _write(tmp_path / "d", _samples())

    reference = _folder_bytes(tmp_path / "a")
    assert set(reference) == {"annotations.json", *(f"images/00000{i}.png" for i in (1, 2, 3, 4))}
    for other in ("b", "c", "d"):
        assert _folder_bytes(tmp_path / other) == reference


def test_streamed_file_is_plain_compact_json(tmp_path):
    """write_dataset streams the file; its bytes are json.dumps of the whole dataset."""
    path = _write(tmp_path, _samples())
    data = path.read_bytes()
    assert data == json.dumps(json.loads(data), separators=(",", ":")).encode()


def test_write_dataset_needs_increasing_image_ids(tmp_path):
    frames = [encode_frame(frame_record(_sample(i), {c: k + 1 for k, c in enumerate(CATEGORIES)}))
              for i in (1, 0)]
    with pytest.raises(ValueError, match="image ids must increase"):
        write_dataset(tmp_path / "annotations.json", frames, categories=CATEGORIES)
    assert list(tmp_path.iterdir()) == []  # no file, no temporary left
