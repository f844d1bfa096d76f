"""Sequences: simulated video with exact optical flow and tracks.

Independent truths: the analytic image motion of a translating and of a rotating cube (pinhole
projection of known 3D points), the rendered pixels of the next frame (photometric warp), and
pycocotools for the written dataset.
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from pycocotools.coco import COCO
from scipy.spatial.transform import Rotation

import synthscene
from conftest import pose, top_down_camera
from synthscene.config.loading import scenario_from_dict
from synthscene.core.state import Light, Material, SceneObject, SceneState
from synthscene.seeding import frame_rng
from tolerances import tol

pytestmark = pytest.mark.gl

WIDTH, HEIGHT, F, CAMERA_Z = 200, 160, 220.0, 1.0


def smooth_texture(size: int = 64) -> np.ndarray:
    """Two sines across the texture: smooth, so that bilinear sampling of a moved image
    reproduces it, and without repeats, so that a wrong flow samples another colour."""
    y, x = np.indices((size, size)) / size
    return np.stack([128 + 100 * np.sin(2 * np.pi * x), 128 + 100 * np.cos(2 * np.pi * y),
                     np.full_like(x, 128)], axis=-1).round().astype(np.uint8)


TEXTURED = Material(base_color=(1.0, 1.0, 1.0, 1.0), texture=smooth_texture())


def cube_state(world_from_object: np.ndarray, edge: float) -> SceneState:
    obj = SceneObject(instance_id=1, asset_key="cube", category="cube", scale=edge,
                      world_from_object=world_from_object, material=TEXTURED)
    light = Light(kind="directional", world_from_light=np.eye(4), color=(1.0, 1.0, 1.0),
                  intensity=3.0)
    return SceneState(objects=(obj,), lights=(light,),
                      camera=top_down_camera(WIDTH, HEIGHT, f=F, z=CAMERA_Z), ground=None,
                      ambient_light=(0.4, 0.4, 0.4))


def render_pair(library, a: SceneState, b: SceneState):
    from synthscene.labels.motion import rigid_flow
    from synthscene.render.renderer import Renderer

    with Renderer(library, WIDTH, HEIGHT) as renderer:
        out_a, out_b = renderer.render(a), renderer.render(b)
    poses = [{1: a.objects[0].world_from_object}, {1: b.objects[0].world_from_object}]
    flow, valid = rigid_flow(out_a.depth, out_a.instance_ids, a.camera, poses[0],
                             other_camera=b.camera, other_world_from_object=poses[1],
                             other_depth=out_b.depth, other_instance_ids=out_b.instance_ids)
    return out_a, out_b, flow, valid


def project(camera, points: np.ndarray) -> np.ndarray:
    camera_from_world = np.linalg.inv(camera.world_from_camera)
    p = points @ camera_from_world[:3, :3].T + camera_from_world[:3, 3]
    uv = p @ np.asarray(camera.K).T
    return uv[:, :2] / uv[:, 2:3]


def test_translating_cube_moves_by_the_analytic_image_motion(cube_library):
    edge, centre = 0.2, np.array([0.02, -0.01, 0.1])
    shift = np.array([0.03, 0.02, 0.0])
    a = cube_state(pose(centre), edge)
    b = cube_state(pose(centre + shift), edge)
    out_a, _, flow, valid = render_pair(cube_library, a, b)
    top = (out_a.instance_ids == 1) & valid
    assert top.sum() > 500
    # Top face at z = 0.2 seen from z = 1.0 looking down: image x = world x, image y = -world y.
    distance = CAMERA_Z - (centre[2] + edge / 2)
    expected = np.array([F * shift[0] / distance, -F * shift[1] / distance])
    np.testing.assert_allclose(flow[top], np.broadcast_to(expected, flow[top].shape),
                               atol=tol.flow_px)
    # Pixels the cube leaves are not valid (the ground is absent: nothing to see there).
    assert not valid[out_a.instance_ids == 0].any()


def test_rotating_cube_corner_moves_as_projected(cube_library):
    edge, centre = 0.2, np.array([0.0, 0.0, 0.1])
    angle = np.radians(12.0)
    turn = Rotation.from_euler("z", angle).as_matrix()
    a = cube_state(pose(centre), edge)
    b = cube_state(pose(centre, turn), edge)
    out_a, _, flow, valid = render_pair(cube_library, a, b)
    # Points of the top face, 80 % of the way to each corner: where are they in each image?
    corners = np.array([[x, y, 0.5] for x in (-0.4, 0.4) for y in (-0.4, 0.4)]) * edge
    before = project(a.camera, corners + centre)
    after = project(b.camera, corners @ turn.T + centre)
    for (u, v), target in zip(before, after):
        pixel = int(round(v)), int(round(u))
        assert valid[pixel]
        # The flow at the nearest pixel centre: the motion of that exact point.
        point_uv = np.array([round(u), round(v)], dtype=float)
        offset = point_uv - np.array([u, v])
        expected = target - np.array([u, v])
        # A 12 degree turn moves a neighbour within a pixel by at most 0.21 px more.
        np.testing.assert_allclose(flow[pixel], expected, atol=0.25 + 0.21 * np.abs(offset).max())
    centre_uv = project(a.camera, (centre + [0, 0, edge / 2])[None])[0]
    np.testing.assert_allclose(flow[int(round(centre_uv[1])), int(round(centre_uv[0]))], 0.0,
                               atol=0.15)


def test_flow_warps_frame_t_onto_t_plus_1(cube_library):
    edge = 0.2
    a = cube_state(pose((0.0, 0.0, 0.1)), edge)
    b = cube_state(pose((0.025, -0.015, 0.1), Rotation.from_euler("z", 0.15).as_matrix()), edge)
    out_a, out_b, flow, valid = render_pair(cube_library, a, b)
    top = valid & (out_a.instance_ids == 1)
    v, u = np.nonzero(top)
    map_x = (u + flow[v, u, 0]).astype(np.float32)[None]
    map_y = (v + flow[v, u, 1]).astype(np.float32)[None]
    warped = cv2.remap(out_b.rgb, map_x, map_y, cv2.INTER_LINEAR)[0].astype(float)
    error = np.abs(warped - out_a.rgb[v, u]).max(axis=1)
    unwarped = np.abs(out_b.rgb[v, u].astype(float) - out_a.rgb[v, u]).max(axis=1)
    assert np.median(error) <= 2 and np.percentile(error, 95) <= 6, np.median(error)
    assert np.median(unwarped) > 5 * max(np.median(error), 1)


def test_flows_sharing_work_arrays_match_flows_made_alone(cube_library):
    # Forward and backward flows of one frame (one FlowSource) and flows of other frames, all
    # through one FlowBuffers, as a sequence makes them: each equals the flow made alone, and
    # each is the translation's analytic motion on the cube's top face.
    from synthscene.labels.motion import FlowBuffers, FlowSource, rigid_flow
    from synthscene.render.renderer import Renderer

    edge, centre = 0.2, np.array([0.0, 0.0, 0.1])
    steps = [np.array([0.02 * k, -0.01 * k, 0.0]) for k in range(4)]
    states = [cube_state(pose(centre + step), edge) for step in steps]
    with Renderer(cube_library, WIDTH, HEIGHT) as renderer:
        outs = [renderer.render(state) for state in states]
    poses = [{1: s.objects[0].world_from_object} for s in states]
    buffers = FlowBuffers()
    distance = CAMERA_Z - (centre[2] + edge / 2)
    for t in (1, 2):
        source = FlowSource(outs[t].depth, outs[t].instance_ids, states[t].camera, poses[t],
                            buffers=buffers)
        for n in (t + 1, t - 1):
            shared = source.flow_to(states[n].camera, poses[n], outs[n].depth,
                                    outs[n].instance_ids)
            alone = rigid_flow(outs[t].depth, outs[t].instance_ids, states[t].camera, poses[t],
                               other_camera=states[n].camera, other_world_from_object=poses[n],
                               other_depth=outs[n].depth, other_instance_ids=outs[n].instance_ids)
            np.testing.assert_array_equal(shared[0], alone[0])
            np.testing.assert_array_equal(shared[1], alone[1])
            top = (outs[t].instance_ids == 1) & shared[1]
            assert top.sum() > 500
            shift = steps[n] - steps[t]
            expected = np.array([F * shift[0] / distance, -F * shift[1] / distance])
            np.testing.assert_allclose(shared[0][top], np.broadcast_to(expected, (top.sum(), 2)),
                                       atol=tol.flow_px)


SEQUENCE = {
    "name": "toss",
    "image": {"width": 160, "height": 120},
    "assets": [{"source": "primitive:box"}, {"source": "primitive:sphere"}],
    "objects": {"count": {"randint": [3, 4]}, "size_m": {"uniform": [0.08, 0.14]},
                "drop_region": {"x_m": [-0.2, 0.2], "y_m": [-0.2, 0.2], "z_m": [0.1, 0.3]},
                "initial_velocity": {"linear_m_s": {"uniform": [[-0.3, -0.3, 0], [0.3, 0.3, 1]]},
                                     "angular_deg_s": {"uniform": [[-90, -90, -90],
                                                                   [90, 90, 90]]}}},
    "camera": {"distance_m": {"uniform": [0.8, 1.0]}},
    "sequence": {"length": 5, "fps": 12, "trajectory": {"kind": "orbit"}},
    "outputs": {"flow": True},
}
FRAMES = 10  # two sequences


def folder_bytes(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file()}


@pytest.fixture(scope="module")
def sequence_dataset(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sequences")
    synthscene.generate(scenario_from_dict(SEQUENCE), out, frames=FRAMES, seed=4)
    return out


def test_sequence_dataset_tracks_and_flow(sequence_dataset):
    coco = COCO(str(sequence_dataset / "annotations.json"))
    images = [coco.imgs[i] for i in sorted(coco.imgs)]
    assert [(im["sequence_id"], im["frame_index"]) for im in images] == [
        (i // 5, i % 5) for i in range(FRAMES)]
    category_of: dict[int, int] = {}
    for image in images:
        anns = coco.loadAnns(coco.getAnnIds(imgIds=image["id"]))
        tracks = [a["track_id"] for a in anns]
        assert len(tracks) == len(set(tracks))  # no two objects share a track in a frame
        for a in anns:
            assert category_of.setdefault(a["track_id"], a["category_id"]) == a["category_id"]
            assert a["track_id"] // 100_000 == image["sequence_id"]
        flow = np.load(sequence_dataset / image["flow_file"])
        backward = np.load(sequence_dataset / image["flow_backward_file"])
        valid = cv2.imread(str(sequence_dataset / image["flow_valid_file"]),
                           cv2.IMREAD_UNCHANGED)
        assert flow.shape == backward.shape == (120, 160, 2) and flow.dtype == np.float32
        assert (valid & 1).any() == (image["frame_index"] < 4)
        assert ((valid & 2) > 0).any() == (image["frame_index"] > 0)
        assert not flow[(valid & 1) == 0].any()


def test_sequences_are_the_same_bytes_with_two_workers(sequence_dataset, tmp_path):
    synthscene.generate(scenario_from_dict(SEQUENCE), tmp_path, frames=FRAMES, seed=4,
                        workers=2)
    assert folder_bytes(tmp_path) == folder_bytes(sequence_dataset)


class _Stop(Exception):
    pass


def test_interrupted_sequence_resumes_to_the_same_bytes(sequence_dataset, tmp_path,
                                                        monkeypatch):
    # The run dies while it writes frame 7: the second sequence is partly written (frames 5 and
    # 6), as a killed run leaves it (frames are written on a thread of their own, so stopping
    # from on_frame would not say how far the writing got).
    from synthscene.run.run_folder import RunFolder

    save_frame = RunFolder.save_frame

    def dies_at_frame_7(self, frame_index, *args, **kwargs):
        if frame_index == 7:
            raise _Stop
        return save_frame(self, frame_index, *args, **kwargs)

    monkeypatch.setattr(RunFolder, "save_frame", dies_at_frame_7)
    with pytest.raises(Exception):  # noqa: B017 (the worker's failure, whatever it wraps)
        synthscene.generate(scenario_from_dict(SEQUENCE), tmp_path, frames=FRAMES, seed=4)
    monkeypatch.setattr(RunFolder, "save_frame", save_frame)
    assert (tmp_path / "images" / "000006.png").exists()
    assert not (tmp_path / "images" / "000008.png").exists()
    # A writer killed in the middle of a flow file leaves its temporary behind.
    (tmp_path / "flow" / ".000008.npy.synthscene-0123456789ab.tmp").write_bytes(b"\x93NUMPY half")
    made = []
    synthscene.generate(scenario_from_dict(SEQUENCE), tmp_path, frames=FRAMES, seed=4,
                        resume=True, on_frame=made.append)
    assert made and len(made) < FRAMES
    assert folder_bytes(tmp_path) == folder_bytes(sequence_dataset)


def test_objects_move_continuously_through_a_sequence():
    scenario = scenario_from_dict({**SEQUENCE, "outputs": {}})
    samples = list(synthscene.iter_samples(scenario, frames=5, seed=2))
    steps = [s.state.physics_steps for s in samples]
    assert steps == sorted(steps) and steps[0] == 0 and steps[-1] > 0  # one simulation
    moved = [np.linalg.norm(b.state.objects[0].world_from_object[:3, 3]
                            - a.state.objects[0].world_from_object[:3, 3])
             for a, b in zip(samples, samples[1:])]
    assert all(m > 0 for m in moved)  # tossed: moving from the first frame
    cams = [s.state.camera.world_from_camera for s in samples]
    assert not np.allclose(cams[0], cams[-1])  # the orbit turns
    assert [(s.state.sequence.sequence_id, s.state.sequence.frame_index) for s in samples] == [
        (0, t) for t in range(5)]


def test_mot_export_is_read_back_by_motmetrics(sequence_dataset, tmp_path):
    import configparser

    import motmetrics

    from synthscene.exporters import export_dataset

    summary = export_dataset(sequence_dataset, tmp_path / "mot", to="mot")
    coco = COCO(str(sequence_dataset / "annotations.json"))
    assert summary.annotations == len(coco.anns)
    folders = sorted((tmp_path / "mot" / "train").iterdir())
    assert [f.name for f in folders] == ["seq-000000", "seq-000001"]
    for folder in folders:
        info = configparser.ConfigParser()
        info.read(folder / "seqinfo.ini")
        assert info["Sequence"].getint("seqLength") == 5
        assert info["Sequence"].getfloat("frameRate") == 12
        assert len(list((folder / "img1").iterdir())) == 5
        gt = motmetrics.io.loadtxt(str(folder / "gt" / "gt.txt"), fmt="mot15-2D")
        sequence_id = int(folder.name.split("-")[1])
        expected = [a for a in coco.anns.values()
                    if coco.imgs[a["image_id"]]["sequence_id"] == sequence_id]
        # motmetrics' reader: (FrameId, Id) rows with the box and visibility of each object.
        # (Its IoU matcher calls np.asfarray, gone in NumPy 2, so the rows are compared here.)
        assert len(gt) == len(expected)
        for ann in expected:
            image = coco.imgs[ann["image_id"]]
            row = gt.loc[(image["frame_index"] + 1, ann["track_id"])]
            np.testing.assert_allclose([row.X, row.Y, row.Width, row.Height], ann["bbox"],
                                       atol=0.006)
            assert row.ClassId == ann["category_id"] and row.Confidence == 1
            assert row.Visibility == pytest.approx(ann.get("visib_fract", 1.0), abs=tol.float32)


def test_youtube_vis_export_holds_every_mask_of_every_track(sequence_dataset, tmp_path):
    from pycocotools import mask as mask_utils

    from synthscene.exporters import export_dataset

    export_dataset(sequence_dataset, tmp_path / "vis", to="youtube-vis",
                   split={"train": 0.5, "val": 0.5})
    coco = COCO(str(sequence_dataset / "annotations.json"))
    seen = 0
    for split in ("train", "val"):
        data = json.loads((tmp_path / "vis" / split / "instances.json").read_text())
        assert len(data["videos"]) == 1  # whole sequences go to one split
        video = data["videos"][0]
        frames = {(im["sequence_id"], im["frame_index"]): im for im in coco.imgs.values()}
        for track in data["annotations"]:
            for t, segmentation in enumerate(track["segmentations"]):
                image = frames[(video["sequence_id"], t)]
                same = [a for a in coco.imgToAnns[image["id"]]
                        if a["track_id"] == track["track_id"]]
                if segmentation is None:
                    assert not same
                    continue
                assert (tmp_path / "vis" / split / "JPEGImages" / video["file_names"][t]).is_file()
                np.testing.assert_array_equal(mask_utils.decode(segmentation),
                                              coco.annToMask(same[0]))
                seen += 1
    assert seen == len(coco.anns)


def test_point_tracks_follow_a_translating_cube(cube_library):
    from synthscene.labels.motion import point_tracks
    from synthscene.render.renderer import Renderer

    edge, centre, step = 0.2, np.array([0.0, 0.0, 0.1]), np.array([0.05, 0.03, 0.0])
    # The cube moves right and up across three frames, then leaves the image.
    states = [cube_state(pose(centre + k * step), edge) for k in range(3)]
    states.append(cube_state(pose(centre + np.array([3.0, 0.0, 0.0])), edge))
    with Renderer(cube_library, WIDTH, HEIGHT) as renderer:
        outs = [renderer.render(s) for s in states]
    frames = [(s.camera, {1: s.objects[0].world_from_object}, o.depth, o.instance_ids)
              for s, o in zip(states, outs)]
    target, occluded, ids = point_tracks(
        outs[0].depth, outs[0].instance_ids, states[0].camera, frames[0][1], {1}, 50, frames,
        rng=frame_rng(0, 0))
    assert target.shape == (50, 4, 2) and occluded.shape == (50, 4) and set(ids) == {1}
    assert not occluded[:, 0].any()  # drawn on visible pixels
    assert occluded[:, 3].all()  # out of view
    on_top = np.isclose(outs[0].depth[np.round(target[:, 0, 1]).astype(int),
                                      np.round(target[:, 0, 0]).astype(int)],
                        CAMERA_Z - (centre[2] + edge / 2), atol=tol.depth_m)
    assert on_top.sum() > 10
    distance = CAMERA_Z - (centre[2] + edge / 2)
    per_frame = np.array([F * step[0] / distance, -F * step[1] / distance])
    for k in (1, 2):
        np.testing.assert_allclose(target[on_top, k] - target[on_top, 0],
                                   np.broadcast_to(k * per_frame, target[on_top, k].shape),
                                   atol=tol.flow_px)
        assert not occluded[on_top, k].any()


def test_point_tracks_and_motion_blur_in_a_dataset(sequence_dataset, tmp_path):
    data = json.loads(json.dumps(SEQUENCE))
    data["outputs"] = {"flow": True, "point_tracks": 64}
    data["render"] = {"motion_blur": {"shutter_s": 0.04, "samples": 3}}
    synthscene.generate(scenario_from_dict(data), tmp_path, frames=FRAMES, seed=4)
    sharp = json.loads((sequence_dataset / "annotations.json").read_text())
    blurred = json.loads((tmp_path / "annotations.json").read_text())
    # Blur changes pixels only: the labels are the central instant's.
    assert blurred["annotations"] == sharp["annotations"]
    differ = [np.abs(cv2.imread(str(tmp_path / "images" / im["file_name"])).astype(int)
                     - cv2.imread(str(sequence_dataset / "images" / im["file_name"]))).mean()
              for im in sharp["images"]]
    assert max(differ) > 0.2
    coco = COCO(str(tmp_path / "annotations.json"))
    for image in coco.imgs.values():
        tracks = np.load(tmp_path / image["point_tracks_file"])
        assert tracks["target_points"].shape == (64, 5, 2)
        assert tracks["occluded"].shape == (64, 5) and not tracks["occluded"][:, 0].any()
        assert set(tracks["track_ids"].tolist()) <= {
            a["track_id"] for a in coco.anns.values()
            if coco.imgs[a["image_id"]]["sequence_id"] == image["sequence_id"]}
        if image["frame_index"] == 0:  # the query frame: each point on its own object
            np.testing.assert_array_equal(tracks["query_points"][:, 0], 0)


def test_validate_checks_track_consistency(sequence_dataset, tmp_path):
    import shutil

    from synthscene.tools.validate import validate_dataset

    report = validate_dataset(sequence_dataset)
    assert report.ok, report.format()
    assert report.check("tracks").checked > 0
    data = json.loads((sequence_dataset / "annotations.json").read_text())
    categories = sorted(c["id"] for c in data["categories"])
    first = data["annotations"][0]
    later = next(a for a in data["annotations"][1:] if a["track_id"] == first["track_id"])
    same_image = next(a for a in data["annotations"][1:] if a["image_id"] == first["image_id"])
    for name, change in [
        ("category", lambda d: d["annotations"][d["annotations"].index(later)].update(
            category_id=next(c for c in categories if c != later["category_id"]))),
        ("twice", lambda d: d["annotations"][d["annotations"].index(same_image)].update(
            track_id=first["track_id"])),
    ]:
        broken = tmp_path / name
        shutil.copytree(sequence_dataset, broken)
        copy = json.loads(json.dumps(data))
        change(copy)
        (broken / "annotations.json").write_text(json.dumps(copy))
        report = validate_dataset(broken)
        assert not report.ok and "tracks" in report.failed(), report.format()
        message = str(report.check("tracks").problems[0])
        assert ("has category" if name == "category" else "appears twice") in message, message


def test_flo_files_read_by_opencv_match_the_npy_flow(sequence_dataset, tmp_path):
    data = json.loads(json.dumps(SEQUENCE))
    data["outputs"] = {"flow": True, "flow_format": "flo"}
    synthscene.generate(scenario_from_dict(data), tmp_path, frames=5, seed=4)
    npy = {im["id"]: im for im in json.loads(
        (sequence_dataset / "annotations.json").read_text())["images"]}
    for image in json.loads((tmp_path / "annotations.json").read_text())["images"]:
        for key, bit in (("flow_file", 1), ("flow_backward_file", 2)):
            assert image[key].endswith(".flo")
            flo = cv2.readOpticalFlow(str(tmp_path / image[key]))  # Middlebury's format
            reference = np.load(sequence_dataset / npy[image["id"]][key])
            valid = (cv2.imread(str(tmp_path / image["flow_valid_file"]),
                                cv2.IMREAD_UNCHANGED) & bit) > 0
            np.testing.assert_array_equal(flo[valid], reference[valid])
            assert (flo[~valid] > 1e9).all()
