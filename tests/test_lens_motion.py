"""Optical flow, point tracks and motion blur of a distorted camera, against OpenCV's lens models
(``cv2.undistortPointsIter`` / ``cv2.fisheye.undistortPoints`` to unproject a pixel,
``cv2.projectPoints`` / ``cv2.fisheye.projectPoints`` to project the moved point)."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from synthscene.core.lens import Lens
from synthscene.core.state import Camera
from synthscene.labels.motion import FlowBuffers, FlowSource, point_tracks

LENSES = [Lens("brown_conrady", (-0.22, 0.05, 0.0008, -0.0005, 0.0)),
          Lens("kannala_brandt", (0.02, -0.01, 0.0, 0.0))]

WIDTH, HEIGHT = 96, 72


def _K(f: float = 70.0) -> np.ndarray:
    return np.array([[f, 0.0, (WIDTH - 1) / 2], [0.0, f * 1.02, (HEIGHT - 1) / 2],
                     [0.0, 0.0, 1.0]])


def _pose(x: float = 0.0, y: float = 0.0, yaw: float = 0.0) -> np.ndarray:
    pose = np.eye(4)
    c, s = np.cos(yaw), np.sin(yaw)
    pose[:3, :3] = [[c, 0, s], [0, 1, 0], [-s, 0, c]]
    pose[:3, 3] = (x, y, 0.0)
    return pose


def _cv_rays(lens: Lens, K: np.ndarray, uv: np.ndarray) -> np.ndarray:
    """(N, 2) undistorted normalised coordinates of pixels ``uv`` by OpenCV."""
    D = np.array(lens.coeffs, np.float64)
    pts = uv.reshape(-1, 1, 2).astype(np.float64)
    if lens.model == "brown_conrady":
        crit = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 100, 1e-14)
        ab = cv2.undistortPointsIter(pts, K, D, None, None, crit)
    else:
        crit = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 100, 1e-14)
        ab = cv2.fisheye.undistortPoints(pts, K, D, criteria=crit)
    return ab.reshape(-1, 2)


def _cv_project(lens: Lens, K: np.ndarray, points: np.ndarray) -> np.ndarray:
    """(N, 2) pixels of camera-frame points (N, 3) by OpenCV."""
    D = np.array(lens.coeffs, np.float64)
    p = points.reshape(-1, 1, 3).astype(np.float64)
    if lens.model == "brown_conrady":
        uv, _ = cv2.projectPoints(p, np.zeros(3), np.zeros(3), K, D)
    else:
        uv, _ = cv2.fisheye.projectPoints(p, np.zeros(3), np.zeros(3), K, D)
    return uv.reshape(-1, 2)


def _frame(lens: Lens, camera_x: float, object_pose: np.ndarray):
    """A wall at z = 2 m (static, id 0) and a square patch of object 1 at z = 1.5 m in the
    middle of the image: the depth and ids of a distorted camera at ``camera_x``."""
    camera = Camera(K=_K(), width=WIDTH, height=HEIGHT, world_from_camera=_pose(camera_x),
                    lens=lens)
    depth = np.full((HEIGHT, WIDTH), 2.0, np.float32)
    ids = np.zeros((HEIGHT, WIDTH), np.int32)
    depth[28:44, 40:56] = 1.5
    ids[28:44, 40:56] = 1
    return camera, depth, ids, {1: object_pose}


def _opencv_flow(lens, camera_a, depth_a, ids_a, poses_a, camera_b, poses_b) -> np.ndarray:
    """(H*W, 2): each pixel of frame a unprojected by OpenCV, moved with object 1 (or the
    static scene) and projected by OpenCV into frame b, minus the pixel."""
    v, u = np.mgrid[0:HEIGHT, 0:WIDTH]
    uv = np.stack([u.ravel(), v.ravel()], 1).astype(np.float64)
    ab = _cv_rays(lens, camera_a.K, uv)
    d = depth_a.ravel().astype(np.float64)
    points_a = np.stack([ab[:, 0] * d, ab[:, 1] * d, d], 1)
    world = points_a @ camera_a.world_from_camera[:3, :3].T + camera_a.world_from_camera[:3, 3]
    on_object = ids_a.ravel() == 1
    motion = poses_b[1] @ np.linalg.inv(poses_a[1])
    world[on_object] = world[on_object] @ motion[:3, :3].T + motion[:3, 3]
    b_from_world = np.linalg.inv(camera_b.world_from_camera)
    points_b = world @ b_from_world[:3, :3].T + b_from_world[:3, 3]
    return _cv_project(lens, camera_b.K, points_b) - uv


@pytest.mark.parametrize("lens", LENSES, ids=lambda lens: lens.model)
def test_flow_of_a_distorted_camera_is_opencvs_projection_of_the_moved_points(lens):
    camera_a, depth_a, ids_a, poses_a = _frame(lens, 0.0, _pose())
    moved = _pose(0.03, -0.02, 0.05)
    camera_b, depth_b, ids_b, poses_b = _frame(lens, 0.04, moved)
    # Frame b sees everything (a permissive occlusion test: the same depth and ids), so the
    # flow is valid wherever the moved point stays in the image.
    depth_b = depth_a.copy()
    ids_b = ids_a.copy()
    flow, valid = FlowSource(depth_a, ids_a, camera_a, poses_a).flow_to(
        camera_b, poses_b, depth_b, ids_b)

    expected = _opencv_flow(lens, camera_a, depth_a, ids_a, poses_a, camera_b, poses_b)
    on_object = ids_a.ravel() == 1
    assert valid.mean() > 0.5 and valid.ravel()[on_object].any()
    got = flow.reshape(-1, 2)[valid.ravel()]
    np.testing.assert_allclose(got, expected[valid.ravel()], atol=1e-3)
    # The pinhole K alone would be wrong by pixels near the border: the lens matters here.
    pinhole = Camera(K=_K(), width=WIDTH, height=HEIGHT, world_from_camera=_pose(0.0))
    pinhole_b = Camera(K=_K(), width=WIDTH, height=HEIGHT, world_from_camera=_pose(0.04))
    flat, flat_valid = FlowSource(depth_a, ids_a, pinhole, poses_a).flow_to(
        pinhole_b, poses_b, depth_b, ids_b)
    both = valid & flat_valid
    assert np.abs(flat[both] - flow[both]).max() > 0.05


@pytest.mark.parametrize("coeffs", [(-0.2101, 0.05, 0.0008, -0.0005, 0.0),
                                    (0.0201, -0.01, 0.0, 0.0)], ids=["brown_conrady",
                                                                    "kannala_brandt"])
def test_the_frames_of_a_sequence_unproject_their_pixels_once(coeffs, monkeypatch):
    lens = Lens("brown_conrady" if len(coeffs) == 5 else "kannala_brandt", coeffs)
    sizes = []
    unproject = Lens.unproject

    def counting(self, uv, *args, **kwargs):
        sizes.append(np.asarray(uv).size // 2)
        return unproject(self, uv, *args, **kwargs)

    monkeypatch.setattr(Lens, "unproject", counting)
    frames = [_frame(lens, 0.02 * t, _pose(0.01 * t)) for t in range(4)]
    flows = []
    buffers = FlowBuffers()  # one for the run's frames, as the frame maker keeps
    for (camera, depth, ids, poses), (camera_b, depth_b, ids_b, poses_b) in zip(frames,
                                                                                frames[1:]):
        flows.append(FlowSource(depth, ids, camera, poses, buffers=buffers).flow_to(
            camera_b, poses_b, depth_b, ids_b))
    assert sizes.count(WIDTH * HEIGHT) == 1  # three frames' flows, one unprojection
    for (flow, valid), (camera, depth, ids, poses), (camera_b, _, _, poses_b) in zip(
            flows, frames, frames[1:]):
        expected = _opencv_flow(lens, camera, depth, ids, poses, camera_b, poses_b)
        assert valid.mean() > 0.5
        np.testing.assert_allclose(flow[valid], expected.reshape(HEIGHT, WIDTH, 2)[valid],
                                   atol=1e-3)


@pytest.mark.parametrize("lens", LENSES, ids=lambda lens: lens.model)
def test_point_tracks_of_a_distorted_camera_follow_opencvs_projection(lens):
    camera_a, depth, ids, poses_a = _frame(lens, 0.0, _pose())
    frames = [(camera_a, poses_a, depth, ids)]
    for t in range(1, 4):
        camera_t, _, _, poses_t = _frame(lens, 0.01 * t, _pose(0.01 * t, 0.0, 0.03 * t))
        frames.append((camera_t, poses_t, depth, ids))
    target, occluded, instance = point_tracks(depth, ids, camera_a, poses_a, {1}, 20, frames,
                                              rng=np.random.Generator(np.random.PCG64(0)))
    assert target.shape == (20, 4, 2) and (instance == 1).all()
    # The first frame: the chosen pixel centres themselves.
    first = target[:, 0].astype(np.float64)
    np.testing.assert_allclose(first, np.round(first), atol=1e-6)
    ab = _cv_rays(lens, camera_a.K, first)
    d = depth[first[:, 1].astype(int), first[:, 0].astype(int)].astype(np.float64)
    world = np.stack([ab[:, 0] * d, ab[:, 1] * d, d], 1)  # camera a is the world at t = 0
    for t, (camera_t, poses_t, _, _) in enumerate(frames):
        moved = world @ poses_t[1][:3, :3].T + poses_t[1][:3, 3]
        b_from_world = np.linalg.inv(camera_t.world_from_camera)
        seen = moved @ b_from_world[:3, :3].T + b_from_world[:3, 3]
        np.testing.assert_allclose(target[:, t], _cv_project(lens, camera_t.K, seen),
                                   atol=1e-3)
    assert not occluded[:, 0].any()


@pytest.mark.gl
def test_a_distorted_sequence_with_flow_tracks_and_blur_is_made_and_valid(tmp_path):
    from synthscene.config.loading import scenario_from_dict
    from synthscene.run.pipeline import generate
    from synthscene.tools.validate import validate_dataset

    scenario = scenario_from_dict({
        "image": {"width": 128, "height": 96},
        "assets": [{"source": "primitive:box"}, {"source": "primitive:sphere"}],
        "objects": {"count": 3, "size_m": 0.12,
                    "drop_region": {"x_m": [-0.1, 0.1], "y_m": [-0.1, 0.1],
                                    "z_m": [0.05, 0.2]}},
        "camera": {"distance_m": 0.8, "fov_deg": 55,
                   "distortion": {"model": "brown_conrady", "k1": -0.2, "k2": 0.04}},
        "sequence": {"length": 3, "fps": 10, "trajectory": {"kind": "orbit"}},
        "render": {"motion_blur": {"samples": 2, "shutter_s": 0.02}},
        "outputs": {"flow": True, "point_tracks": 16, "instance_mask": True}})
    out = tmp_path / "ds"
    generate(scenario, out, frames=3, seed=2, workers=1)
    report = validate_dataset(out)
    assert report.ok, [str(p) for p in report.problems]
    data = json.loads((out / "annotations.json").read_text())
    first, second = data["images"][0], data["images"][1]
    assert first["distortion_model"] == "brown_conrady"
    # The forward flow carries frame 0's object pixels onto frame 1's pixels of the same
    # object (ids read from the written instance masks).
    ids0 = cv2.imread(str(out / first["instance_mask_file"]), cv2.IMREAD_UNCHANGED)
    ids1 = cv2.imread(str(out / second["instance_mask_file"]), cv2.IMREAD_UNCHANGED)
    flow = np.load(out / first["flow_file"])
    valid = cv2.imread(str(out / first["flow_valid_file"]), cv2.IMREAD_UNCHANGED) & 1
    rows, cols = np.nonzero(valid.astype(bool) & (ids0 > 0))
    assert rows.size > 50
    to_x = np.clip(np.rint(cols + flow[rows, cols, 0]), 0, ids1.shape[1] - 1).astype(int)
    to_y = np.clip(np.rint(rows + flow[rows, cols, 1]), 0, ids1.shape[0] - 1).astype(int)
    assert (ids1[to_y, to_x] == ids0[rows, cols]).mean() > 0.98
    tracks = np.load(out / first["point_tracks_file"])
    assert tracks["target_points"].shape[1] == 3
