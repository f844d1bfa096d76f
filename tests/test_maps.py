"""Tests of synthscene.io.maps: label-map encodings, decoded back from real PNG files."""

from __future__ import annotations

import numpy as np
import pytest

from synthscene.core.state import InstanceLabel
from synthscene.io.maps import (
    DEPTH_SCALE_MM,
    decode_depth_png,
    decode_normals_png,
    encode_depth_png,
    encode_normals_png,
    instance_mask,
    npy_bytes,
    png_bytes,
    read_png,
    semantic_mask,
    stuff_categories,
)


def _rng(seed: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([77, seed])))


def _label(instance_id: int, category: str) -> InstanceLabel:
    # Only instance_id and category matter to the maps.
    return InstanceLabel(instance_id=instance_id, category=category, bbox=(0.0, 0.0, 1.0, 1.0),
                         area=1, segmentation={"size": [1, 1], "counts": "01"})


def test_depth_png_round_trips_within_half_a_millimetre(tmp_path):
    rng = _rng(0)
    depth = rng.uniform(0.05, 60.0, size=(48, 64)).astype(np.float32)
    depth[:4] = 0.0  # nothing hit
    depth[4, :3] = [np.nan, -1.0, np.inf]  # garbage is "nothing hit", not a crash
    depth[5, :2] = [70.0, 65.5355]  # beyond 65.535 m: saturates
    path = tmp_path / "depth.png"
    path.write_bytes(png_bytes(encode_depth_png(depth)))

    stored = read_png(path)
    assert stored.dtype == np.uint16 and stored.shape == depth.shape
    back = decode_depth_png(stored, DEPTH_SCALE_MM)
    valid = np.isfinite(depth) & (depth > 0) & (depth < 65.5)
    np.testing.assert_allclose(back[valid], depth[valid], atol=0.0005 + 1e-6)
    assert np.all(stored[:4] == 0) and np.all(stored[4, :3] == 0)
    assert stored[5, 0] == stored[5, 1] == 65535
    assert stored[10, 10] == round(float(depth[10, 10]) * 1000)


def test_depth_scale_is_millimetres_per_unit():
    stored = np.array([[1000, 0]], dtype=np.uint16)
    np.testing.assert_allclose(decode_depth_png(stored, 0.1), [[0.1, 0.0]])
    with pytest.raises(ValueError, match="uint16"):
        decode_depth_png(stored.astype(np.int32))


def test_normals_png_encoding_is_documented_formula(tmp_path):
    rng = _rng(1)
    n = rng.normal(size=(32, 40, 3)).astype(np.float32)
    n /= np.linalg.norm(n, axis=2, keepdims=True)
    n[:3] = 0.0  # nothing hit
    n[3, 0] = [0.0, 0.0, -1.0]  # facing the camera head-on
    path = tmp_path / "normals.png"
    path.write_bytes(png_bytes(encode_normals_png(n)))

    stored = read_png(path)
    assert stored.dtype == np.uint8 and stored.shape == n.shape
    assert np.all(stored[:3] == 0)
    assert stored[3, 0].tolist() == [128, 128, 0]  # (n + 1) / 2 * 255 rounded, channel R = x
    expected = np.rint((n[3:] + 1.0) / 2.0 * 255.0)
    np.testing.assert_array_equal(stored[3:], expected.astype(np.uint8))
    back = decode_normals_png(stored)
    assert np.all(back[:3] == 0)
    # Each channel is quantised to 1/127.5; the angle error stays below a degree.
    cos = np.sum(back[3:] * n[3:], axis=2)
    assert cos.min() > np.cos(np.radians(1.0))


def test_stuff_ids_come_after_thing_ids():
    stuff = stuff_categories({"mug": 1, "bowl": 2, "duck": 3})
    assert stuff == [{"id": 4, "name": "ground", "isthing": 0},
                     {"id": 5, "name": "background", "isthing": 0}]


def test_semantic_and_instance_masks_hold_the_right_ids(tmp_path):
    ids = np.zeros((20, 30), np.int32)
    depth = np.zeros((20, 30), np.float32)
    depth[10:] = 1.0  # ground in the bottom half, nothing hit in the top half
    ids[2:6, 2:6] = 7  # annotated mug, over the background
    ids[12:16, 2:6] = 300  # annotated bowl, over the ground
    ids[12:16, 10:14] = 9  # distractor / filtered object: void
    depth[ids != 0] = 0.5
    labels = [_label(7, "mug"), _label(300, "bowl")]
    category_ids = {"bowl": 1, "mug": 2}

    sem = semantic_mask(ids, depth, labels, category_ids)
    inst = instance_mask(ids, labels)
    (tmp_path / "sem.png").write_bytes(png_bytes(sem))
    (tmp_path / "inst.png").write_bytes(png_bytes(inst))
    sem, inst = read_png(tmp_path / "sem.png"), read_png(tmp_path / "inst.png")

    assert sem.dtype == inst.dtype == np.uint16
    assert np.all(sem[ids == 7] == 2) and np.all(sem[ids == 300] == 1)
    assert np.all(sem[ids == 9] == 0)
    assert np.all(sem[(ids == 0) & (depth > 0)] == 3)  # ground
    assert np.all(sem[(ids == 0) & (depth == 0)] == 4)  # background
    expected = np.where(np.isin(ids, [7, 300]), ids, 0)
    np.testing.assert_array_equal(inst, expected)


def test_instance_mask_holds_more_than_255_instances(tmp_path):
    ids = np.arange(1, 40 * 25 + 1, dtype=np.int32).reshape(40, 25)  # 1000 instances
    labels = [_label(int(i), "thing") for i in ids.ravel()]
    (tmp_path / "inst.png").write_bytes(png_bytes(instance_mask(ids, labels)))
    stored = read_png(tmp_path / "inst.png")
    np.testing.assert_array_equal(stored, ids)
    assert len(np.unique(stored)) == 1000


def test_masks_reject_ids_that_do_not_fit():
    ids = np.full((2, 2), 70000, np.int32)
    with pytest.raises(ValueError, match="65535"):
        instance_mask(ids, [_label(70000, "thing")])
    with pytest.raises(ValueError, match="not one of"):
        semantic_mask(ids, np.zeros((2, 2)), [_label(70000, "cat")], {"dog": 1})


def test_png_bytes_rgb_channel_order_and_bad_input(tmp_path):
    rgb = np.zeros((4, 5, 3), np.uint8)
    rgb[..., 0] = 200  # red
    (tmp_path / "rgb.png").write_bytes(png_bytes(rgb, compression=9))
    np.testing.assert_array_equal(read_png(tmp_path / "rgb.png"), rgb)
    with pytest.raises(ValueError):
        png_bytes(np.zeros((4, 5), np.float32))
    with pytest.raises(ValueError, match="0-9"):
        png_bytes(rgb, compression=10)


def test_npy_bytes_round_trip(tmp_path):
    depth = _rng(2).uniform(0, 3, size=(6, 7)).astype(np.float32)
    (tmp_path / "d.npy").write_bytes(npy_bytes(depth))
    back = np.load(tmp_path / "d.npy")
    assert back.dtype == np.float32
    np.testing.assert_array_equal(back, depth)


def test_npy_file_writes_what_numpy_save_writes(tmp_path):
    from synthscene.io.fileio import write_atomic_stream
    from synthscene.io.maps import NpyFile

    flow = _rng(3).normal(size=(5, 9, 2)).astype(np.float32)
    write_atomic_stream(tmp_path / "f.npy", NpyFile(flow).write_to)
    np.save(tmp_path / "reference.npy", flow)
    assert (tmp_path / "f.npy").read_bytes() == (tmp_path / "reference.npy").read_bytes()
    assert bytes(NpyFile(flow)) == (tmp_path / "reference.npy").read_bytes()
    np.testing.assert_array_equal(np.load(tmp_path / "f.npy"), flow)


def test_encode_frame_maps_names_files_and_image_fields(tmp_path):
    from types import SimpleNamespace

    from synthscene.core.state import RenderOutput
    from synthscene.io.maps import encode_frame_maps

    ids = np.zeros((6, 8), np.int32)
    ids[1:3, 1:3] = 5
    depth = np.full((6, 8), 1.25, np.float32)
    normals = np.zeros((6, 8, 3), np.float32)
    normals[..., 2] = -1.0
    render = RenderOutput(rgb=np.zeros((6, 8, 3), np.uint8), depth=depth, instance_ids=ids,
                          normals=normals)
    every = SimpleNamespace(depth_png=True, depth_npy=True, normals=True, semantic_mask=True,
                            instance_mask=True)
    files, fields = encode_frame_maps(41, render, [_label(5, "mug")], every,
                                      category_ids={"mug": 1})
    assert fields == {"depth_file": "depth/000042.png", "depth_scale": 1.0,
                      "depth_npy_file": "depth/000042.npy", "normals_file": "normals/000042.png",
                      "semantic_file": "semantic/000042.png",
                      "instance_mask_file": "instance_masks/000042.png"}
    assert sorted(files) == sorted(v for k, v in fields.items() if k.endswith("_file"))
    for name, data in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(bytes(data))
    assert np.all(read_png(tmp_path / fields["depth_file"]) == 1250)
    np.testing.assert_array_equal(np.load(tmp_path / fields["depth_npy_file"]), depth)
    assert read_png(tmp_path / fields["normals_file"])[0, 0].tolist() == [128, 128, 0]
    assert read_png(tmp_path / fields["semantic_file"])[1, 1] == 1
    assert read_png(tmp_path / fields["instance_mask_file"])[1, 1] == 5

    none = SimpleNamespace(depth_png=False, depth_npy=False, normals=False, semantic_mask=False,
                           instance_mask=False)
    assert encode_frame_maps(0, render, [], none, category_ids={"mug": 1}) == ({}, {})
    no_normals = RenderOutput(rgb=render.rgb, depth=depth, instance_ids=ids)
    with pytest.raises(ValueError, match="normals"):
        encode_frame_maps(0, no_normals, [], every, category_ids={"mug": 1})
