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


# ---------------------------------------------------------------- datasets of sequences
def _as_sequences(data: dict, frames: list[int]) -> None:
    """Make the 3 images one sequence with these frame indices; every annotation a track."""
    for image, frame in zip(sorted(data["images"], key=lambda im: im["id"]), frames):
        image.update(sequence_id=0, frame_index=frame, fps=10.0)
    for ann in data["annotations"]:
        ann["track_id"] = ann["id"]


@pytest.mark.parametrize("name, change, check, words", [
    ("valid", lambda d: _as_sequences(d, [0, 1, 2]), None, ""),
    ("subset", lambda d: _as_sequences(d, [0, 5, 40]), None, ""),
    ("frame twice", lambda d: _as_sequences(d, [0, 1, 1]), "sequences", "frame_index 1 twice"),
    ("absurd gap", lambda d: _as_sequences(d, [0, 1, 10_000_000]), "sequences",
     "frame_index 10000000"),
    ("no sequence_id", lambda d: (_as_sequences(d, [0, 1, 2]),
                                  d["images"][2].pop("sequence_id")), "sequences",
     "images[2] (id 3).sequence_id: missing, but 2 of 3 images have it"),
    ("no frame_index", lambda d: (_as_sequences(d, [0, 1, 2]),
                                  d["images"][0].pop("frame_index")), "sequences",
     "images[0] (id 1).frame_index: missing"),
    ("no track_id", lambda d: (_as_sequences(d, [0, 1, 2]),
                               d["annotations"][4].pop("track_id")), "tracks",
     "annotations[4] (id 5).track_id: missing"),
    ("view twice", lambda d: [im.update(scene_id=7, view_id=min(k, 1))
                              for k, im in enumerate(d["images"])], "ids",
     "scene 7 has view_id 1 twice"),
])
def test_sequence_and_view_fields_are_checked(dataset, name, change, check, words):
    _mutate(dataset, lambda data, root: change(data))
    report = validate_dataset(dataset)
    if check is None:
        assert report.ok, report.format()
        return
    assert report.failed() == [check], report.format()
    assert any(words in str(p) for p in report.check(check).problems), report.format()
    result = CliRunner().invoke(app, ["validate", str(dataset)])
    assert result.exit_code == 1 and "INVALID" in result.output


class _Trap:
    """Unpickling it creates a file: proof that a pickle was run."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def _npz(path: Path, **arrays) -> None:
    np.savez(path, **arrays)


def _tracks(n: int = 4, t: int = 3) -> dict:
    return {"target_points": np.zeros((n, t, 2), np.float32), "occluded": np.zeros((n, t), bool),
            "query_points": np.zeros((n, 3), np.float32), "track_ids": np.arange(n)}


def _flo(width: int, height: int, tag: float = 202021.25) -> bytes:
    return (np.array([tag], "<f4").tobytes() + np.array([width, height], "<i4").tobytes()
            + np.zeros((height, width, 2), "<f4").tobytes())


@pytest.mark.parametrize("name, field, suffix, write, words", [
    ("flow", "flow_file", ".npy", lambda p, m: np.save(p, np.zeros((H, W, 2), np.float32)),
     None),
    ("flo", "flow_file", ".flo", lambda p, m: p.write_bytes(_flo(W, H)), None),
    ("tracks", "point_tracks_file", ".npz", lambda p, m: _npz(p, **_tracks()), None),
    ("pickled flow", "flow_file", ".npy",
     lambda p, m: np.save(p, np.array([_Trap(m)], dtype=object), allow_pickle=True),
     "Python objects"),
    ("flow shape", "flow_file", ".npy", lambda p, m: np.save(p, np.zeros((W, H, 2), np.float32)),
     f"not ({H}, {W}, 2)"),
    ("flow dtype", "flow_backward_file", ".npy",
     lambda p, m: np.save(p, np.zeros((H, W, 2), np.float64)), "not float32"),
    ("truncated flow", "flow_file", ".npy",
     lambda p, m: p.write_bytes(_npy_bytes(np.zeros((H, W, 2), np.float32))[:-8]), "bytes"),
    ("garbage flow", "flow_file", ".npy", lambda p, m: p.write_bytes(b"\x00garbage" * 9),
     "cannot be read"),
    ("depth shape", "depth_npy_file", ".npy", lambda p, m: np.save(p, np.zeros((H, W, 1),
                                                                              np.float32)),
     "shaped"),
    ("flo size", "flow_file", ".flo", lambda p, m: p.write_bytes(_flo(W + 1, H)), "is 65x48"),
    ("flo tag", "flow_file", ".flo", lambda p, m: p.write_bytes(_flo(W, H, 1.0)), "tag"),
    ("pickled tracks", "point_tracks_file", ".npz",
     lambda p, m: np.savez(p, **{**_tracks(), "track_ids": np.array([_Trap(m)] * 4,
                                                                     dtype=object)}),
     "Python objects"),
    ("tracks shape", "point_tracks_file", ".npz",
     lambda p, m: _npz(p, **{**_tracks(), "occluded": np.zeros((4, 2), bool)}), "'occluded'"),
    ("tracks too short", "point_tracks_file", ".npz", lambda p, m: _npz(p, **_tracks(t=2)),
     "frame_index 2"),
    ("tracks missing array", "point_tracks_file", ".npz",
     lambda p, m: _npz(p, target_points=np.zeros((4, 3, 2), np.float32)), "no array"),
    ("tracks not a zip", "point_tracks_file", ".npz", lambda p, m: p.write_bytes(b"PK junk"),
     "cannot be read"),
])
def test_flow_and_track_files_are_checked_without_unpickling(dataset, tmp_path, name, field,
                                                             suffix, write, words):
    marker = tmp_path / "unpickled"
    folder = dataset / "maps"
    folder.mkdir()
    write(folder / f"x{suffix}", marker)

    def change(data, root):
        _as_sequences(data, [0, 1, 2])
        for image in data["images"]:
            image[field] = f"maps/x{suffix}"
    _mutate(dataset, change)
    report = validate_dataset(dataset)
    assert not marker.exists()
    if words is None:
        assert report.ok, report.format()
        return
    assert report.failed() == ["extras"], report.format()
    problems = [str(p) for p in report.check("extras").problems]
    assert any(f".{field}: x{suffix}" in p and words in p for p in problems), problems


def _npy_bytes(array: np.ndarray) -> bytes:
    import io

    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


@pytest.mark.parametrize("value, ok", [(0, True), (3, True), (-1, False), ("2", False),
                                       (1.5, False)])
def test_objects_left_out_is_checked(dataset, value, ok):
    _mutate(dataset, lambda data, root: data["images"][1].update(objects_left_out=value))
    report = validate_dataset(dataset)
    assert report.ok is ok, report.format()
    if not ok:
        (problem,) = report.check("schema").problems
        assert problem.where == "images[1] (id 2).objects_left_out"
        assert "an integer >= 0" in problem.message
