"""Stereo sequences (``camera.stereo`` with ``sequence:``): two eyes per step of one simulation.

Independent truths, read back from the written files: each eye's optical flow carries an
object's pixels onto the same object's pixels of that eye's next frame (the instance-mask PNGs),
the right camera is the left one moved by the baseline along its x axis at every step, a point
tracked in both eyes sits on one image row with the written disparity between its columns, the
dataset passes ``validate``, pycocotools and motmetrics read it and its exports, and the bytes are
the same for two workers and after a resume.
"""

from __future__ import annotations

import configparser
import hashlib
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from pycocotools.coco import COCO

import synthscene
from synthscene.config.loading import scenario_from_dict

pytestmark = pytest.mark.gl

LENGTH, SEQUENCES = 3, 2
FRAMES = 2 * LENGTH * SEQUENCES
STEREO_SEQUENCE = {
    "name": "stereo toss",
    "image": {"width": 128, "height": 96},
    "assets": [{"source": "primitive:box"}, {"source": "primitive:sphere"}],
    "objects": {"count": {"randint": [3, 4]}, "size_m": {"uniform": [0.1, 0.16]},
                "drop_region": {"x_m": [-0.15, 0.15], "y_m": [-0.15, 0.15], "z_m": [0.1, 0.3]},
                "initial_velocity": {"linear_m_s": {"uniform": [[-0.3, -0.3, 0], [0.3, 0.3, 1]]},
                                     "angular_deg_s": {"uniform": [[-90, -90, -90],
                                                                   [90, 90, 90]]}}},
    "camera": {"distance_m": {"uniform": [0.7, 0.9]},
               "stereo": {"baseline_m": {"uniform": [0.05, 0.15]}}},
    "sequence": {"length": LENGTH, "fps": 12, "trajectory": {"kind": "orbit"}},
    "outputs": {"flow": True, "point_tracks": 48, "instance_mask": True, "depth_png": True},
    "render": {"motion_blur": {"shutter_s": 0.03, "samples": 2}},
}


def _scenario():
    return scenario_from_dict(json.loads(json.dumps(STEREO_SEQUENCE)), source="<stereo seq>")


def _files(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and ".synthscene" not in p.parts}


def _png(folder: Path, name: str) -> np.ndarray:
    return cv2.imread(str(folder / name), cv2.IMREAD_UNCHANGED)


@pytest.fixture(scope="module")
def stereo_sequences(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("stereo_sequences") / "ds"
    synthscene.generate(_scenario(), out, frames=FRAMES, seed=5, workers=1)
    return out


def _images(folder: Path) -> list[dict]:
    return sorted(json.loads((folder / "annotations.json").read_text())["images"],
                  key=lambda im: im["id"])


def test_frames_are_the_eyes_of_each_step_with_one_rig_per_sequence(stereo_sequences):
    from synthscene.tools.validate import validate_dataset

    report = validate_dataset(stereo_sequences)
    assert report.ok, report.format()
    assert report.check("sequences").checked == FRAMES
    images = _images(stereo_sequences)
    # frame i: eye i % 2 of step (i // 2) % T of sequence i // 2T; the pair is the step
    assert [(im["sequence_id"], im["frame_index"], im["stereo_pair_id"], im["eye"])
            for im in images] == [(i // (2 * LENGTH), (i // 2) % LENGTH, i // 2,
                                   ("left", "right")[i % 2]) for i in range(FRAMES)]
    for s in range(SEQUENCES):
        members = [im for im in images if im["sequence_id"] == s]
        baselines = {im["baseline_m"] for im in members}
        assert len(baselines) == 1 and 0.05 <= next(iter(baselines)) <= 0.15  # one rig
        b = next(iter(baselines))
        lefts = [im for im in members if im["eye"] == "left"]
        rights = [im for im in members if im["eye"] == "right"]
        for left, right in zip(lefts, rights):
            assert left["K"] == right["K"] and left["frame_index"] == right["frame_index"]
            moved = np.linalg.inv(left["world_from_camera"]) @ np.array(
                right["world_from_camera"])
            expected = np.eye(4)
            expected[0, 3] = b
            np.testing.assert_allclose(moved, expected, atol=1e-9)
        # the rig moves along the camera path: both eyes' cameras change over time
        assert not np.allclose(lefts[0]["world_from_camera"], lefts[-1]["world_from_camera"])


def _flow_lands_on_the_same_objects(folder: Path) -> dict[str, int]:
    """Check that each eye's forward and backward flow carries every annotated object pixel onto
    the same object's pixel of that eye's neighbouring frame (and not onto the other eye's);
    return the pixels checked per eye."""
    by_key = {(im["sequence_id"], im["eye"], im["frame_index"]): im for im in _images(folder)}
    checked = {"left": 0, "right": 0}
    for (s, eye, t), image in by_key.items():
        mask = _png(folder, image["instance_mask_file"]).astype(int)
        valid = _png(folder, image["flow_valid_file"])
        for step, bit, key in ((1, 1, "flow_file"), (-1, 2, "flow_backward_file")):
            other = by_key.get((s, eye, t + step))
            if other is None:
                assert not (valid & bit).any()  # no frame there: no flow
                continue
            flow = np.load(folder / image[key])
            other_mask = _png(folder, other["instance_mask_file"]).astype(int)
            v, u = np.nonzero(((valid & bit) > 0) & (mask > 0))
            x = np.rint(u + flow[v, u, 0]).astype(int)
            y = np.rint(v + flow[v, u, 1]).astype(int)
            inside = (x >= 0) & (x < mask.shape[1]) & (y >= 0) & (y < mask.shape[0])
            assert inside.all()
            there = other_mask[y, x]
            annotated = np.isin(mask[v, u], np.unique(other_mask[other_mask > 0]))
            np.testing.assert_array_equal(there[annotated], mask[v, u][annotated])
            checked[eye] += int(annotated.sum())
            # the other eye's next frame is another view: the flow does not carry onto it
            if step == 1:
                across = by_key[(s, "right" if eye == "left" else "left", t + 1)]
                across_mask = _png(folder, across["instance_mask_file"]).astype(int)
                assert (across_mask[y, x][annotated] != mask[v, u][annotated]).any()
    return checked


def test_each_eyes_flow_carries_objects_onto_themselves_in_its_next_frame(stereo_sequences):
    checked = _flow_lands_on_the_same_objects(stereo_sequences)
    assert checked["left"] > 500 and checked["right"] > 500, checked


def test_a_distorted_stereo_sequence_shares_one_lens_and_keeps_its_flow_exact(tmp_path):
    from synthscene.tools.validate import validate_dataset

    raw = json.loads(json.dumps(STEREO_SEQUENCE))
    raw["camera"]["distortion"] = {"model": "brown_conrady", "k1": {"uniform": [-0.1, -0.05]}}
    raw["outputs"] = {"flow": True, "instance_mask": True, "depth_png": True}
    del raw["render"]
    out = tmp_path / "ds"
    synthscene.generate(scenario_from_dict(raw, source="<distorted stereo seq>"), out,
                        frames=2 * LENGTH, seed=2, workers=1)
    report = validate_dataset(out)
    assert report.ok, report.format()
    images = _images(out)
    # one lens for both eyes and every step of the sequence
    assert len({json.dumps([im["K"], im["dist_coeffs"]]) for im in images}) == 1
    assert images[0]["distortion_model"] == "brown_conrady"
    checked = _flow_lands_on_the_same_objects(out)
    assert checked["left"] > 200 and checked["right"] > 200, checked


def test_point_tracks_follow_the_same_points_in_both_eyes(stereo_sequences):
    images = _images(stereo_sequences)
    for s in range(SEQUENCES):
        eyes = {eye: [im for im in images if im["sequence_id"] == s and im["eye"] == eye]
                for eye in ("left", "right")}
        files = {eye: members[0]["point_tracks_file"] for eye, members in eyes.items()}
        assert files == {eye: f"tracks/seq-{s:06d}-{eye}.npz" for eye in eyes}
        assert all(im["point_tracks_file"] == files[eye]
                   for eye, members in eyes.items() for im in members)
        tracks = {eye: np.load(stereo_sequences / name) for eye, name in files.items()}
        left, right = tracks["left"], tracks["right"]
        np.testing.assert_array_equal(left["track_ids"], right["track_ids"])
        assert left["target_points"].shape == right["target_points"].shape == (48, LENGTH, 2)
        assert not left["occluded"][:, 0].any()  # drawn on the left eye's first frame
        np.testing.assert_array_equal(left["query_points"][:, 0], 0)
        # the right eye's query: where it first sees the point
        for n in np.flatnonzero((~right["occluded"]).any(axis=1)):
            t = int(right["query_points"][n, 0])
            assert not right["occluded"][n, t] and right["occluded"][n, :t].all()
            np.testing.assert_array_equal(right["query_points"][n, 1:],
                                          right["target_points"][n, t, ::-1])
        both = 0
        for t in range(LENGTH):
            left_image = eyes["left"][t]
            disparity = _png(stereo_sequences, left_image["disparity_file"]) / 256.0
            for eye, data in tracks.items():
                mask = _png(stereo_sequences, eyes[eye][t]["instance_mask_file"]).astype(int)
                seen = ~data["occluded"][:, t]
                x, y = np.rint(data["target_points"][seen, t].T).astype(int)
                # a seen point lies on its own object (the instance of its track)
                np.testing.assert_array_equal(mask[y, x], data["track_ids"][seen] % 100_000)
            seen = ~left["occluded"][:, t] & ~right["occluded"][:, t]
            a, b = left["target_points"][seen, t], right["target_points"][seen, t]
            # rectified pinhole pair: the same row, columns apart by the disparity
            np.testing.assert_allclose(a[:, 1], b[:, 1], atol=1e-3)
            x, y = np.rint(a.T).astype(int)
            np.testing.assert_allclose(a[:, 0] - b[:, 0], disparity[y, x], atol=0.3)
            both += int(seen.sum())
        assert both > 20


def test_stereo_sequence_bytes_are_the_same_for_two_workers_and_after_a_resume(
        stereo_sequences, tmp_path):
    synthscene.generate(_scenario(), tmp_path / "two", frames=FRAMES, seed=5, workers=2)
    assert _files(tmp_path / "two") == _files(stereo_sequences)

    class Stop(Exception):
        pass

    def stop(done) -> None:
        if done.frame_index == 7:  # the second sequence's right eye of its first step
            raise Stop

    out = tmp_path / "resumed"
    with pytest.raises(Stop):
        synthscene.generate(_scenario(), out, frames=FRAMES, seed=5, workers=1, on_frame=stop)
    # the first sequence's last right eye is made again alone (its flow and point tracks
    # need the other frames of both eyes), the second sequence's unfinished frames with it
    (out / ".synthscene" / "frames" / "000006.json").unlink()
    made = []
    synthscene.generate(_scenario(), out, frames=FRAMES, seed=5, workers=1, resume=True,
                        on_frame=made.append)
    assert 5 in [d.frame_index for d in made] and 4 not in [d.frame_index for d in made]
    assert _files(out) == _files(stereo_sequences)


def test_tracking_exports_have_a_video_per_eye(stereo_sequences, tmp_path):
    import motmetrics
    from pycocotools import mask as mask_utils

    from synthscene.exporters import export_dataset

    coco = COCO(str(stereo_sequences / "annotations.json"))
    summary = export_dataset(stereo_sequences, tmp_path / "mot", to="mot")
    assert summary.annotations == len(coco.anns)
    folders = sorted((tmp_path / "mot" / "train").iterdir())
    assert [f.name for f in folders] == [f"seq-{s:06d}-{eye}" for s in range(SEQUENCES)
                                         for eye in ("left", "right")]
    for folder in folders:
        _, number, eye = folder.name.split("-")
        info = configparser.ConfigParser()
        info.read(folder / "seqinfo.ini")
        assert info["Sequence"]["name"] == folder.name
        assert info["Sequence"].getint("seqLength") == LENGTH
        frames = {im["frame_index"]: im for im in coco.imgs.values()
                  if im["sequence_id"] == int(number) and im["eye"] == eye}
        for t, image in frames.items():  # each eye's own images, in frame order
            copied = cv2.imread(str(folder / "img1" / f"{t + 1:06d}.png"))
            np.testing.assert_array_equal(
                copied, cv2.imread(str(stereo_sequences / "images" / image["file_name"])))
        gt = motmetrics.io.loadtxt(str(folder / "gt" / "gt.txt"), fmt="mot15-2D")
        expected = [a for im in frames.values() for a in coco.imgToAnns[im["id"]]]
        assert len(gt) == len(expected) > 0
        for ann in expected:
            row = gt.loc[(coco.imgs[ann["image_id"]]["frame_index"] + 1, ann["track_id"])]
            np.testing.assert_allclose([row.X, row.Y, row.Width, row.Height], ann["bbox"],
                                       atol=0.006)

    export_dataset(stereo_sequences, tmp_path / "vis", to="youtube-vis",
                   split={"train": 0.5, "val": 0.5})
    seen = 0
    for split in ("train", "val"):
        data = json.loads((tmp_path / "vis" / split / "instances.json").read_text())
        # whole sequences go to one split: both eyes of one sequence
        assert sorted(v["eye"] for v in data["videos"]) == ["left", "right"]
        assert len({v["sequence_id"] for v in data["videos"]}) == 1
        videos = {v["id"]: v for v in data["videos"]}
        for track in data["annotations"]:
            video = videos[track["video_id"]]
            for t, segmentation in enumerate(track["segmentations"]):
                image = next(im for im in coco.imgs.values()
                             if (im["sequence_id"], im["eye"], im["frame_index"])
                             == (video["sequence_id"], video["eye"], t))
                same = [a for a in coco.imgToAnns[image["id"]]
                        if a["track_id"] == track["track_id"]]
                if segmentation is None:
                    assert not same
                    continue
                np.testing.assert_array_equal(mask_utils.decode(segmentation),
                                              coco.annToMask(same[0]))
                seen += 1
    assert seen == len(coco.anns)


def test_validate_finds_a_frame_twice_in_one_eye(stereo_sequences, tmp_path):
    from synthscene.tools.validate import validate_dataset

    data = json.loads((stereo_sequences / "annotations.json").read_text())
    images = sorted(data["images"], key=lambda im: im["id"])
    images[2]["frame_index"] = 0  # the left eye of step 1 claims step 0
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    for folder in ("images", "depth", "disparity", "flow", "flow_backward", "flow_valid",
                   "instance_masks", "tracks"):
        (tmp_path / folder).symlink_to(stereo_sequences / folder)
    report = validate_dataset(bad)
    assert not report.ok and "sequences" in report.failed()
    assert [str(p) for p in report.check("sequences").problems] == [
        "images[2].frame_index: sequence 0 has frame_index 0 twice (also images[0])"]


def test_the_manifest_names_each_eyes_point_tracks():
    from synthscene.config.schema import OutputsSpec
    from synthscene.core.state import PointTracks, RenderOutput
    from synthscene.core.stereo import EYES
    from synthscene.io.layout import run_file_templates
    from synthscene.io.maps import encode_frame_maps

    render = RenderOutput(rgb=np.zeros((4, 5, 3), np.uint8), depth=np.ones((4, 5), np.float32),
                          instance_ids=np.zeros((4, 5), np.int32))
    outputs = OutputsSpec(point_tracks=2)
    templates = run_file_templates(outputs, stereo=True)
    written = set()
    for eye in EYES:
        tracks = PointTracks(sequence_id=3, target_points=np.zeros((0, 2, 2), np.float32),
                             occluded=np.zeros((0, 2), bool),
                             query_points=np.zeros((0, 3), np.float32),
                             track_ids=np.zeros(0, np.int64), eye=eye)
        files, fields = encode_frame_maps(0, render, [], outputs, category_ids={},
                                          point_tracks=tracks)
        assert fields["point_tracks_file"] == f"tracks/seq-000003-{eye}.npz"
        written |= set(files)
    assert written == {t.format(sequence="seq-000003") for t in templates if "{sequence}" in t}
    assert "tracks/{sequence}.npz" in run_file_templates(outputs)
