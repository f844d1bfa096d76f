"""Stereo pairs (``camera.stereo``): the right camera, rendered correspondences and disparity
against analytic geometry and OpenCV, a generated pair dataset (labels per eye, validation,
exports, the same bytes for any worker count and after a resume)."""

from __future__ import annotations

import hashlib
import json
import types

import cv2
import numpy as np
import pytest

from conftest import GREY, UnitSphereLibrary, pose, scene
from synthscene.core.state import Camera, SceneObject
from synthscene.core.stereo import disparity_from_depth, right_camera
from synthscene.errors import ConfigError, OptionError

WIDTH, HEIGHT, F = 320, 240, 280.0
BASELINE = 0.12


def _K() -> np.ndarray:
    return np.array([[F, 0.0, (WIDTH - 1) / 2 + 2.5], [0.0, F, (HEIGHT - 1) / 2 - 1.5],
                     [0.0, 0.0, 1.0]])


def _look_at(eye, target) -> np.ndarray:
    """world_from_camera of an OpenCV camera at ``eye`` looking at ``target`` (x right, y down,
    z forward; world z up)."""
    eye, target = np.asarray(eye, float), np.asarray(target, float)
    z = target - eye
    z /= np.linalg.norm(z)
    x = np.cross(z, [0.0, 0.0, 1.0])
    x /= np.linalg.norm(x)
    y = np.cross(z, x)
    T = np.eye(4)
    T[:3, :3] = np.stack([x, y, z], 1)
    T[:3, 3] = eye
    return T


def _left_camera() -> Camera:
    return Camera(K=_K(), width=WIDTH, height=HEIGHT,
                  world_from_camera=_look_at([0.1, -0.9, 0.8], [0.0, 0.0, 0.0]))


def _render(camera: Camera, objects, ground: bool):
    from synthscene.render.renderer import Renderer

    with Renderer(UnitSphereLibrary("marker"), camera.width, camera.height) as renderer:
        return renderer.render(scene(objects, camera, ground=ground))


def _cv_project(points_world: np.ndarray, camera: Camera) -> np.ndarray:
    """OpenCV's projection of world points into ``camera``: (n, 2) pixels."""
    camera_from_world = np.linalg.inv(camera.world_from_camera)
    rvec, _ = cv2.Rodrigues(camera_from_world[:3, :3])
    uv, _ = cv2.projectPoints(points_world.reshape(-1, 1, 3), rvec, camera_from_world[:3, 3],
                              camera.K, None)
    return uv.reshape(-1, 2)


def test_the_right_camera_is_the_left_moved_along_its_x_axis():
    left = _left_camera()
    right = right_camera(left, BASELINE)
    np.testing.assert_array_equal(right.K, left.K)
    np.testing.assert_allclose(right.world_from_camera[:3, :3], left.world_from_camera[:3, :3])
    offset = right.world_from_camera[:3, 3] - left.world_from_camera[:3, 3]
    np.testing.assert_allclose(offset, BASELINE * left.world_from_camera[:3, 0], atol=1e-12)
    with pytest.raises(ValueError, match="baseline_m"):
        right_camera(left, 0.0)


@pytest.mark.gl
def test_disparity_of_a_plane_is_f_b_over_z():
    left = _left_camera()
    out = _render(left, [], ground=True)
    # The ground plane z = 0 seen through each pixel: the ray K^-1 (u, v, 1) in the world meets
    # the plane at camera depth z = -c_z / (R ray)_z.
    u, v = np.meshgrid(np.arange(WIDTH, dtype=float), np.arange(HEIGHT, dtype=float))
    rays = np.stack([u, v, np.ones_like(u)], -1) @ np.linalg.inv(left.K).T
    down = rays @ left.world_from_camera[:3, :3].T
    z = -left.world_from_camera[2, 3] / down[..., 2]
    hit = left.world_from_camera[:3, 3] + down * z[..., None]  # on the 2 m square ground
    on_ground = (out.depth > 0) & (z > 0) & (np.abs(hit[..., :2]) < 0.95).all(-1)
    assert on_ground.mean() > 0.5
    disparity = disparity_from_depth(out.depth, F, BASELINE)
    np.testing.assert_allclose(disparity[on_ground], F * BASELINE / z[on_ground], rtol=2e-4)
    assert (disparity[out.depth == 0] == 0).all()


@pytest.mark.gl
def test_a_point_seen_by_both_eyes_moves_left_by_the_disparity():
    left = _left_camera()
    right = right_camera(left, BASELINE)
    rng = np.random.Generator(np.random.PCG64(4))
    centres = np.column_stack([rng.uniform(-0.15, 0.15, 12), rng.uniform(-0.15, 0.25, 12),
                               rng.uniform(0.02, 0.2, 12)])
    spheres = [SceneObject(instance_id=i + 1, asset_key="sphere", category="marker",
                           scale=0.02, world_from_object=pose(c), material=GREY)
               for i, c in enumerate(centres)]
    found = {}
    for name, camera in (("left", left), ("right", right)):
        ids = _render(camera, spheres, ground=False).instance_ids
        expected = _cv_project(centres, camera)
        for i, (u, w) in enumerate(expected):
            rows, cols = np.nonzero(ids == i + 1)
            assert rows.size > 10, (name, i)
            assert abs(cols.mean() - u) <= 0.5 and abs(rows.mean() - w) <= 0.5, (name, i)
        found[name] = expected
    # Rectified: the same row, the column smaller by f b / z in the right image.
    z = (np.column_stack([centres, np.ones(12)]) @ np.linalg.inv(left.world_from_camera).T)[:, 2]
    np.testing.assert_allclose(found["left"][:, 1], found["right"][:, 1], atol=1e-9)
    np.testing.assert_allclose(found["left"][:, 0] - found["right"][:, 0], F * BASELINE / z,
                               rtol=1e-9)


def test_both_eyes_get_the_same_effect_parameters_and_their_own_noise():
    from synthscene.registry.effect_registry import apply_effects, parse_effects

    effects = parse_effects([{"name": "gaussian_noise", "sigma": {"uniform": [2, 30]}}],
                            source="<test>", field="effects")
    grey = np.full((200, 200, 3), 128, np.uint8)
    rng = np.random.Generator(np.random.PCG64(9))
    eyes = [apply_effects(effects, grey, rng=np.random.Generator(np.random.PCG64(9)),
                          pixel_rng=np.random.Generator(np.random.PCG64(100 + k)))
            for k in range(2)]
    sigma = rng.uniform(2, 30)  # the one parameter drawn, the same for both eyes
    for image in eyes:
        assert np.std(image.astype(float) - 128) == pytest.approx(sigma, rel=0.03)
    assert not np.array_equal(eyes[0], eyes[1])  # independent noise


def _scenario(**camera):
    from synthscene.config.loading import scenario_from_dict

    return scenario_from_dict({
        "image": {"width": 160, "height": 120},
        "assets": [{"source": "primitive:box"}, {"source": "primitive:sphere"}],
        "objects": {"count": {"randint": [3, 5]}, "size_m": 0.1,
                    "drop_region": {"x_m": [-0.15, 0.15], "y_m": [-0.15, 0.15],
                                    "z_m": [0.05, 0.2]}},
        "camera": {"distance_m": {"uniform": [0.7, 0.9]}, **camera},
        "effects": [{"name": "gaussian_noise", "sigma": {"uniform": [1, 4]}}],
        "outputs": {"depth_png": True, "keypoints": True},
        "physics": {"max_steps": 300}}, source="<stereo>")


def test_bad_stereo_settings_are_refused_naming_the_field(tmp_path):
    from synthscene.run.pipeline import generate

    with pytest.raises(ConfigError, match=r"camera\.stereo\.baseline_m"):
        _scenario(stereo={"baseline_m": 0.0})
    with pytest.raises(ConfigError, match=r"camera\.stereo\.focal"):
        _scenario(stereo={"focal": 1})
    with pytest.raises(OptionError, match="frames.*even"):
        generate(_scenario(stereo={"baseline_m": 0.1}), tmp_path / "ds", frames=3)
    assert not (tmp_path / "ds").exists()


def test_the_manifest_names_the_disparity_files():
    from synthscene.config.schema import OutputsSpec
    from synthscene.core.state import RenderOutput
    from synthscene.io.layout import run_file_templates
    from synthscene.io.maps import encode_frame_maps

    render = RenderOutput(rgb=np.zeros((4, 5, 3), np.uint8), depth=np.ones((4, 5), np.float32),
                          instance_ids=np.zeros((4, 5), np.int32),
                          disparity=np.full((4, 5), 3.5, np.float32))
    outputs = OutputsSpec(depth_png=True)
    files, fields = encode_frame_maps(2, render, [], outputs, category_ids={"cube": 1})
    templates = run_file_templates(outputs, stereo=True)
    assert sorted(t.format(frame="000003") for t in templates) == sorted(
        ["images/000003.png", *files])
    assert fields["disparity_file"] == "disparity/000003.png"
    assert "disparity/{frame}.png" not in run_file_templates(outputs)


def test_the_disparity_png_is_kittis_fixed_point():
    from synthscene.core.state import RenderOutput
    from synthscene.io.maps import encode_frame_maps

    disparity = np.array([[0.0, 1.0, 37.2968], [255.99, 256.5, np.nan]], np.float32)

    render = RenderOutput(rgb=np.zeros((2, 3, 3), np.uint8), depth=np.ones((2, 3), np.float32),
                          instance_ids=np.zeros((2, 3), np.int32), disparity=disparity)
    outputs = types.SimpleNamespace(depth_png=False, depth_npy=False, normals=False,
                                    semantic_mask=False, instance_mask=False)
    files, _ = encode_frame_maps(0, render, [], outputs, category_ids={})
    png = cv2.imdecode(np.frombuffer(files["disparity/000001.png"], np.uint8),
                       cv2.IMREAD_UNCHANGED)
    assert png.dtype == np.uint16
    # value = round(d * 256); 0 = none, also where d * 256 does not fit 16 bits
    assert png.tolist() == [[0, 256, 9548], [65533, 0, 0]]


def _files(folder) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and ".synthscene" not in p.parts}


@pytest.fixture(scope="module")
def pair_dataset(tmp_path_factory):
    from synthscene.run.pipeline import generate

    out = tmp_path_factory.mktemp("stereo") / "ds"
    generate(_scenario(stereo={"baseline_m": {"uniform": [0.05, 0.15]}}), out, frames=4,
             seed=11, workers=1)
    return out


@pytest.mark.gl
def test_a_stereo_dataset_has_both_eyes_labelled_and_valid(pair_dataset):
    from pycocotools.coco import COCO

    from synthscene.tools.validate import validate_dataset

    report = validate_dataset(pair_dataset)
    assert report.ok, [str(p) for p in report.problems]
    data = json.loads((pair_dataset / "annotations.json").read_text())
    images = data["images"]
    assert [(im["stereo_pair_id"], im["eye"]) for im in images] == [
        (0, "left"), (0, "right"), (1, "left"), (1, "right")]
    coco = COCO(str(pair_dataset / "annotations.json"))
    checked = 0
    for left, right in (images[0:2], images[2:4]):
        b = left["baseline_m"]
        assert right["baseline_m"] == b and 0.05 <= b <= 0.15
        assert left["K"] == right["K"] and left["seed"] == right["seed"]
        moved = np.linalg.inv(left["world_from_camera"]) @ np.array(right["world_from_camera"])
        np.testing.assert_allclose(moved, pose([b, 0.0, 0.0]), atol=1e-9)
        fx = left["K"][0][0]
        for image in (left, right):
            depth = cv2.imread(str(pair_dataset / image["depth_file"]), cv2.IMREAD_UNCHANGED)
            disparity = cv2.imread(str(pair_dataset / image["disparity_file"]),
                                   cv2.IMREAD_UNCHANGED)
            assert disparity.dtype == np.uint16 and image["disparity_scale"] == 256
            hit = depth > 0
            assert ((disparity > 0) == hit).all()
            np.testing.assert_allclose(disparity[hit] / 256.0, fx * b / (depth[hit] / 1000.0),
                                       rtol=2e-3, atol=1 / 256)
        # poses relative to each eye: the right eye sees every object b further to its left
        anns = {side: {a["scene_instance_id"]: a for a in coco.loadAnns(
            coco.getAnnIds(imgIds=image["id"]))} for side, image in (("l", left), ("r", right))}
        assert anns["l"] and anns["r"]
        for instance in anns["l"].keys() & anns["r"].keys():
            t_left = np.array(anns["l"][instance]["cam_t_m2c"])
            t_right = np.array(anns["r"][instance]["cam_t_m2c"])
            np.testing.assert_allclose(t_right, t_left - [b * 1000.0, 0.0, 0.0], atol=1e-6)
            # the object's centre keypoint, OpenCV's projection in each eye
            for ann, image in ((anns["l"][instance], left), (anns["r"][instance], right)):
                x, y, v = ann["keypoints"][24:27]
                if v > 0:
                    t = np.array(ann["cam_t_m2c"]) / 1000.0
                    uv, _ = cv2.projectPoints(t.reshape(1, 1, 3), np.zeros(3), np.zeros(3),
                                              np.array(image["K"]), None)
                    np.testing.assert_allclose([x - 0.5, y - 0.5], uv.ravel(), atol=1e-6)
                    checked += 1
    assert checked > 0
    # the eyes' images differ (another viewpoint) but come from one scene
    left_rgb = cv2.imread(str(pair_dataset / "images" / images[0]["file_name"]))
    right_rgb = cv2.imread(str(pair_dataset / "images" / images[1]["file_name"]))
    assert not np.array_equal(left_rgb, right_rgb)


@pytest.mark.gl
def test_validate_finds_an_eye_twice(pair_dataset, tmp_path):
    from synthscene.tools.validate import validate_dataset

    data = json.loads((pair_dataset / "annotations.json").read_text())
    data["images"][1]["eye"] = "left"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    (tmp_path / "images").symlink_to(pair_dataset / "images")
    for name in ("depth", "disparity"):
        (tmp_path / name).symlink_to(pair_dataset / name)
    report = validate_dataset(bad)
    assert not report.ok
    assert any("stereo pair 0 has the left eye twice" in str(p) for p in report.problems)


@pytest.mark.gl
def test_exports_keep_both_eyes(pair_dataset, tmp_path):
    from synthscene.exporters import export_dataset

    export_dataset(pair_dataset, tmp_path / "yolo", to="yolo")
    assert len(list((tmp_path / "yolo").rglob("*.png"))) == 4
    export_dataset(pair_dataset, tmp_path / "coco", to="coco")
    coco = json.loads(next((tmp_path / "coco" / "annotations").glob("instances_*.json"))
                      .read_text())
    assert sorted(im["eye"] for im in coco["images"]) == ["left", "left", "right", "right"]
    export_dataset(pair_dataset, tmp_path / "bop", to="bop", split={"train": 0.5, "val": 0.5})
    cameras = {}
    for path in (tmp_path / "bop").rglob("scene_camera.json"):
        entries = json.loads(path.read_text())
        assert len(entries) == 2  # a pair stays in one split and scene
        cameras.update({(path.parent.name, k): v for k, v in entries.items()})
        (left, right) = (entries[k] for k in sorted(entries, key=int))
        # camera centres -R^T t differ by the baseline (mm) along the left camera's x axis
        centres = [-np.array(c["cam_R_w2c"]).reshape(3, 3).T @ np.array(c["cam_t_w2c"])
                   for c in (left, right)]
        x_axis = np.array(left["cam_R_w2c"]).reshape(3, 3)[0]
        assert np.dot(centres[1] - centres[0], x_axis) > 40  # >= 50 mm baselines
    assert len(cameras) == 4


@pytest.mark.gl
def test_stereo_bytes_are_the_same_for_two_workers_and_after_a_resume(pair_dataset, tmp_path):
    from synthscene.run.pipeline import generate

    scenario = _scenario(stereo={"baseline_m": {"uniform": [0.05, 0.15]}})
    generate(scenario, tmp_path / "two", frames=4, seed=11, workers=2)
    assert _files(tmp_path / "two") == _files(pair_dataset)

    class Stop(Exception):
        pass

    def stop(done) -> None:
        if done.frame_index == 2:
            raise Stop

    out = tmp_path / "resumed"
    with pytest.raises(Stop):
        generate(scenario, out, frames=4, seed=11, workers=1, on_frame=stop)
    # the right eye of pair 1 is made alone, without its left eye made before it
    (out / ".synthscene" / "frames" / "000004.json").unlink(missing_ok=True)
    made = []
    generate(scenario, out, frames=4, seed=11, workers=1, resume=True, on_frame=made.append)
    assert 3 in [d.frame_index for d in made]
    assert _files(out) == _files(pair_dataset)


@pytest.mark.gl
def test_both_eyes_share_the_lens_and_a_stereo_depth_sensor_takes_the_pair_baseline(tmp_path):
    from synthscene.config.loading import scenario_from_dict
    from synthscene.run.pipeline import generate
    from synthscene.tools.validate import validate_dataset

    # a lens drawn per pair, and a noise-free stereo depth sensor of whole-pixel disparities
    raw = {
        "image": {"width": 160, "height": 120},
        "assets": [{"source": "primitive:box"}],
        "objects": {"count": 4, "size_m": 0.1,
                    "drop_region": {"x_m": [-0.15, 0.15], "y_m": [-0.15, 0.15],
                                    "z_m": [0.05, 0.2]}},
        "camera": {"distance_m": 0.8, "stereo": {"baseline_m": 0.1},
                   "distortion": {"model": "brown_conrady", "k1": {"uniform": [-0.1, -0.05]}}},
        "outputs": {"depth_png": True, "depth_npy": True,
                    "depth_sensor": {"model": "stereo", "disparity_sigma_px": 0.0,
                                     "subpixel_levels": 1, "edge_threshold": 0.0,
                                     "max_incidence_deg": 89.9}}}
    scenario = scenario_from_dict(raw, source="<stereo lens>")
    out = tmp_path / "ds"
    generate(scenario, out, frames=2, seed=3, workers=1)
    report = validate_dataset(out)
    assert report.ok, [str(p) for p in report.problems]
    left, right = json.loads((out / "annotations.json").read_text())["images"]
    assert left["dist_coeffs"] == right["dist_coeffs"]
    assert left["distortion_model"] == right["distortion_model"] == "brown_conrady"
    # the reading is fx b / round(fx b / z) with the pair's b = 0.1 m (not the sensor's 0.05)
    fb = left["K"][0][0] * 0.1
    z = np.load(out / left["depth_npy_file"]).astype(np.float64)
    reading = cv2.imread(str(out / left["depth_sensor_file"]), cv2.IMREAD_UNCHANGED) / 1000.0
    seen = (reading > 0) & (z > 0)
    assert seen.mean() > 0.5
    np.testing.assert_allclose(reading[seen], fb / np.rint(fb / z[seen]), atol=0.0006)
