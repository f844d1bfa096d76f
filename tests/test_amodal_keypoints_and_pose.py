"""Amodal masks, visibility, truncation, 6D pose, keypoints, label filters and per-image maps,
checked against rendered pixels, solo renders, pycocotools and analytic projections."""

from __future__ import annotations

import numpy as np
import pytest
from pycocotools import mask as mask_utils
from scipy.spatial.transform import Rotation

from conftest import GREY, cube, scene, top_down_camera
from synthscene.config.loading import scenario_from_dict
from synthscene.core.state import AmodalMask, Camera, Ground, RenderOutput, SceneState
from synthscene.errors import ConfigError
from synthscene.io.maps import (
    decode_depth_png,
    encode_depth_png,
    encode_normals_png,
    instance_mask,
    png_bytes,
    read_png,
    semantic_mask,
)
from synthscene.labels.annotate import (
    KEYPOINT_NAMES,
    KEYPOINT_SKELETON,
    LabelFilter,
    annotate,
    box_keypoints_object,
)
from tolerances import tol

# pycocotools' decode trips a NumPy 2 deprecation inside its own Cython code.
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

CUBE_BOUNDS = {"cube": np.array([[-0.5, -0.5, -0.5], [0.5, 0.5, 0.5]])}
ALL = {"pose": True, "keypoints": True, "model_bounds": CUBE_BOUNDS}


def _decode(rle: dict) -> np.ndarray:
    return mask_utils.decode({"size": rle["size"], "counts": rle["counts"].encode()}).astype(bool)


def _project(camera: Camera, points_world: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """COCO pixel coordinates (u + 0.5, v + 0.5) and camera z of world points."""
    camera_from_world = np.linalg.inv(camera.world_from_camera)
    p = points_world @ camera_from_world[:3, :3].T + camera_from_world[:3, 3]
    uv = (p @ camera.K.T)[:, :2] / p[:, 2:3]
    return uv + 0.5, p[:, 2]


def _corners_world(obj) -> np.ndarray:
    signs = np.array([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)], float)
    local = np.vstack([signs * obj.scale / 2, np.zeros(3)])
    return local @ obj.world_from_object[:3, :3].T + obj.world_from_object[:3, 3]


def _check_amodal(label, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Invariants of one label's visible and amodal fields; returns both decoded masks."""
    visible = _decode(label.segmentation)
    amodal = _decode(label.amodal_segmentation)
    np.testing.assert_array_equal(visible, ids == label.instance_id)
    assert type(label.area) is int and label.area == int(visible.sum()) > 0
    assert not (visible & ~amodal).any()  # visible is a subset of amodal
    assert label.amodal_area >= int(amodal.sum()) >= label.area
    ax, ay, aw, ah = label.amodal_bbox
    x, y, w, h = label.bbox
    assert ax <= x and ay <= y and ax + aw >= x + w and ay + ah >= y + h
    assert label.visib_fract == pytest.approx(label.area / label.amodal_area)
    in_image = int(amodal.sum())
    assert label.truncation == pytest.approx(1 - in_image / label.amodal_area)
    if label.truncation == 0:  # the clipped amodal mask is the whole amodal mask
        assert in_image == label.amodal_area
        assert list(label.amodal_bbox) == mask_utils.toBbox(
            mask_utils.encode(np.asfortranarray(amodal.astype(np.uint8)))).tolist()
    return visible, amodal


# -- pure: synthetic id images and amodal crops ------------------------------------------------
def _frame(ids, objects, amodal=None, depth=None, camera=None):
    height, width = ids.shape
    camera = camera or Camera(K=np.array([[300.0, 0, (width - 1) / 2], [0, 300.0, (height - 1) / 2],
                                          [0, 0, 1]]),
                              width=width, height=height, world_from_camera=np.eye(4))
    state = SceneState(objects=tuple(objects), lights=(), camera=camera, ground=None)
    render = RenderOutput(rgb=np.zeros((height, width, 3), np.uint8),
                          depth=np.zeros((height, width), np.float32) if depth is None else depth,
                          instance_ids=ids.astype(np.int32), amodal=amodal)
    return state, render


def test_synthetic_amodal_crops_give_exact_figures():
    H, W = 40, 60
    ids = np.zeros((H, W), np.int32)
    # Object 1: a 10x10 square, its left 4 columns hidden by object 2 (a distractor).
    ids[5:15, 5:15] = 1
    ids[5:15, 5:9] = 2
    # Object 3: amodal 20 x 10 at x in [50, 70): half outside the right edge; its visible part
    # has one extra pixel the solo crop missed (rasterisation disagreement): OR-ed in.
    ids[20:30, 50:60] = 3
    ids[30, 55] = 3
    # Object 4: full-height columns (runs touching across columns) with a hole.
    ids[:, 20:23] = 4
    ids[10, 21] = 0
    crop3 = np.ones((10, 20), bool)
    amodal = {
        1: AmodalMask(5, 5, np.ones((10, 10), bool)),
        3: AmodalMask(50, 20, crop3),
        4: AmodalMask(20, -5, np.ones((H + 10, 3), bool)),  # also outside top and bottom
    }
    objects = [cube(1, (0, 0, 1), 0.1), cube(2, (0, 0, 1), 0.1, labelled=False),
               cube(3, (0, 0, 1), 0.1), cube(4, (0, 0, 1), 0.1)]
    labels = {lab.instance_id: lab for lab in annotate(*_frame(ids, objects, amodal))}

    assert sorted(labels) == [1, 3, 4]
    one, three, four = labels[1], labels[3], labels[4]
    assert (one.area, one.amodal_area, one.visib_fract, one.truncation) == (60, 100, 0.6, 0.0)
    assert one.amodal_bbox == (5.0, 5.0, 10.0, 10.0) and one.bbox == (9.0, 5.0, 6.0, 10.0)
    assert three.amodal_area == 201 and three.area == 101
    assert three.truncation == pytest.approx(100 / 201)
    assert three.amodal_bbox == (50.0, 20.0, 20.0, 11.0)
    assert four.amodal_area == 3 * (H + 10) and four.area == 3 * H - 1
    assert four.truncation == pytest.approx(30 / 150) and four.amodal_bbox == (20.0, -5.0, 3.0,
                                                                               50.0)
    for label in labels.values():
        visible, clipped = _check_amodal(label, ids)
        # The clipped amodal RLE is byte-identical to pycocotools' own encoding.
        reference = mask_utils.encode(np.asfortranarray(clipped.astype(np.uint8)))
        assert label.amodal_segmentation["counts"] == reference["counts"].decode()
    expected = np.zeros((H, W), bool)
    expected[:, 20:23] = True  # the hole is hidden, not missing: amodal has it
    np.testing.assert_array_equal(_decode(four.amodal_segmentation), expected)


def test_filters_drop_exactly_the_objects_they_should():
    H, W = 40, 60
    ids = np.zeros((H, W), np.int32)
    ids[2:12, 2:12] = 1  # fully visible, 100 px
    ids[2:12, 20:30] = 2  # 100 px visible of 400 amodal: visib_fract 0.25
    ids[20:25, 56:60] = 3  # 20 px, truncated (amodal 40 px, half outside)
    ids[30:33, 30:33] = 4  # 9 px, fully visible
    amodal = {1: AmodalMask(2, 2, np.ones((10, 10), bool)),
              2: AmodalMask(20, 2, np.ones((20, 20), bool)),
              3: AmodalMask(56, 20, np.ones((5, 8), bool)),
              4: AmodalMask(30, 30, np.ones((3, 3), bool))}
    objects = [cube(i, (0, 0, 1), 0.1) for i in (1, 2, 3, 4)]
    frame = _frame(ids, objects, amodal)

    def kept(**kwargs):
        return [lab.instance_id for lab in annotate(*frame, filters=LabelFilter(**kwargs))]

    assert kept() == [1, 2, 3, 4]
    assert kept(min_visib_fract=0.3) == [1, 3, 4]  # 0.25 < 0.3; 3 has 0.5
    assert kept(min_visib_fract=0.5) == [1, 3, 4]  # the bound is inclusive
    assert kept(min_visib_fract=0.51) == [1, 4]
    assert kept(min_visible_px=20) == [1, 2, 3]
    assert kept(min_visible_px=21) == [1, 2]
    assert kept(label_truncated=False) == [1, 2, 4]
    assert kept(min_visib_fract=0.3, min_visible_px=10, label_truncated=False) == [1]
    with pytest.raises(ValueError, match="amodal"):
        annotate(*_frame(ids, objects), filters=LabelFilter(min_visib_fract=0.1))
    with pytest.raises(ValueError):
        LabelFilter(min_visib_fract=1.5)
    with pytest.raises(ValueError):
        LabelFilter(min_visible_px=0)


def test_keypoints_behind_the_camera_or_outside_are_zero():
    H, W = 60, 80
    ids = np.zeros((H, W), np.int32)
    ids[20:40, 30:50] = 1
    camera = Camera(K=np.array([[50.0, 0, 39.5], [0, 50.0, 29.5], [0, 0, 1]]), width=W, height=H,
                    world_from_camera=np.eye(4))  # at the origin, looking along +z
    obj = cube(1, (0.0, 0.0, 0.05), 0.2)  # corners at z = -0.05 (behind) and z = 0.15
    (label,) = annotate(*_frame(ids, [obj], camera=camera), **ALL)
    kp = np.array(label.keypoints, dtype=float).reshape(9, 3)
    front = np.array([s[2] > 0 for s in
                      [(x, y, z) for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)]] + [True])
    assert np.all(kp[~front] == 0)  # behind the camera: v = 0 and x = y = 0
    # In front: z = 0.15, |x| = |y| = 0.1 -> 33 px from the centre, inside 80 x 60? y is not.
    uv, _ = _project(camera, _corners_world(obj))
    inside = front & (uv[:, 0] >= 0) & (uv[:, 0] < W) & (uv[:, 1] >= 0) & (uv[:, 1] < H)
    assert np.all(kp[inside, 2] == 2) and np.all(kp[~inside] == 0)
    np.testing.assert_allclose(kp[inside, :2], uv[inside], atol=tol.float64)
    assert label.num_keypoints == int(inside.sum())
    assert all(type(v) is int for v in label.keypoints[2::3])


def test_keypoint_names_and_skeleton_are_the_box():
    assert len(KEYPOINT_NAMES) == 9 and KEYPOINT_NAMES[-1] == "center"
    assert len(KEYPOINT_SKELETON) == 12 and len(set(KEYPOINT_SKELETON)) == 12
    points = box_keypoints_object(CUBE_BOUNDS["cube"], 2.0)
    for i, j in KEYPOINT_SKELETON:  # every edge joins corners 2 m apart along one axis
        d = np.abs(points[i - 1] - points[j - 1])
        assert sorted(d.tolist()) == [0.0, 0.0, 2.0]
    degree = np.bincount(np.array(KEYPOINT_SKELETON).ravel(), minlength=10)
    assert degree[1:9].tolist() == [3] * 8 and degree[9] == 0


def test_keypoints_need_bounds():
    ids = np.zeros((10, 10), np.int32)
    ids[2:4, 2:4] = 1
    with pytest.raises(ValueError, match="model_bounds"):
        annotate(*_frame(ids, [cube(1, (0, 0, 1), 0.1)]), keypoints=True)


def test_outputs_and_labels_sections_are_validated():
    base = {"assets": [{"source": "primitive:box"}]}
    spec = scenario_from_dict(base).spec
    assert spec.outputs.amodal and spec.outputs.pose and spec.outputs.keypoints
    assert not (spec.outputs.depth_png or spec.outputs.normals or spec.outputs.instance_mask)
    assert spec.labels.min_visible_px == 1 and spec.labels.label_truncated
    with pytest.raises(ConfigError, match="outputs.depht_png.*allowed fields"):
        scenario_from_dict({**base, "outputs": {"depht_png": True}})
    with pytest.raises(ConfigError, match="labels.min_visib_fract"):
        scenario_from_dict({**base, "labels": {"min_visib_fract": 1.5}})
    with pytest.raises(ConfigError, match="needs the amodal"):
        scenario_from_dict({**base, "outputs": {"amodal": False},
                            "labels": {"label_truncated": False}})


# -- GL: rendered frames ------------------------------------------------------------------------
def _render(library, state, **settings):
    from synthscene.render.renderer import Renderer
    from synthscene.render.settings import RenderSettings

    cam = state.camera
    with Renderer(library, cam.width, cam.height, RenderSettings(**settings)) as renderer:
        return renderer.render(state)


@pytest.mark.gl
def test_occluded_object_visib_fract_matches_its_solo_render(cube_library):
    cam = top_down_camera(320, 240, f=300.0, z=1.0)
    target = cube(1, (0.0, 0.0, 0.05), 0.1)
    occluder = cube(2, (0.03, 0.02, 0.2), 0.08, Rotation.from_euler("z", 0.5).as_matrix())
    out = _render(cube_library, scene([target, occluder], cam), amodal=True)
    alone = _render(cube_library, scene([target], cam))
    labels = {lab.instance_id: lab for lab in annotate(scene([target, occluder], cam), out, **ALL)}

    solo = alone.instance_ids == 1
    label = labels[1]
    visible, amodal = _check_amodal(label, out.instance_ids)
    assert label.area == int((out.instance_ids == 1).sum()) < int(solo.sum())
    assert label.amodal_area == int(solo.sum())
    np.testing.assert_array_equal(amodal, solo)  # the atlas cell samples the same pixels
    assert label.visib_fract == pytest.approx(label.area / solo.sum())
    assert label.visib_fract < 1 and label.truncation == 0.0
    assert labels[2].visib_fract == 1.0


@pytest.mark.gl
def test_half_outside_the_image_truncation_is_one_half(cube_library):
    width, height, f, d = 160, 120, 200.0, 1.0
    cam = top_down_camera(width, height, f=f, z=d)
    # Put the principal point on the image's right edge: the cube below the camera projects
    # symmetrically about it, so half its silhouette is outside the image.
    K = cam.K.copy()
    K[0, 2] = width - 0.5
    cam = Camera(K=K, width=width, height=height, world_from_camera=cam.world_from_camera)
    edge = 0.2
    state = scene([cube(1, (0.0, 0.0, edge / 2), edge)], cam)
    out = _render(cube_library, state, amodal=True)
    (label,) = annotate(state, out, **ALL)
    _check_amodal(label, out.instance_ids)
    side = f * edge / (d - edge)  # the top face hides the rest: a 50 x 50 px square
    assert label.amodal_area == pytest.approx(side * side, rel=0.05)
    assert label.truncation == pytest.approx(0.5, abs=0.01)
    assert label.amodal_bbox[0] + label.amodal_bbox[2] > width
    x, y, v = np.array(label.keypoints, dtype=float).reshape(9, 3).T
    uv, _ = _project(cam, _corners_world(state.objects[0]))
    inside = (uv[:, 0] < width) & (uv[:, 0] >= 0)  # the -x corners; the centre is on the edge
    assert inside.tolist() == [True] * 4 + [False] * 5
    assert v.tolist() == [1, 2, 1, 2, 0, 0, 0, 0, 0]  # top -x corners seen, bottom ones hidden
    assert np.all(x[~inside] == 0) and np.all(y[~inside] == 0)


@pytest.mark.gl
def test_cube_keypoints_pose_and_visibility_match_analytic_projection(cube_library):
    cam = top_down_camera(320, 240, f=280.0, z=1.2)
    edge = 0.16
    obj = cube(1, (0.0, 0.0, edge / 2), edge)
    state = scene([obj], cam)
    out = _render(cube_library, state, amodal=True)
    (label,) = annotate(state, out, **ALL)

    expected, z = _project(cam, _corners_world(obj))
    kp = np.array(label.keypoints, dtype=float).reshape(9, 3)
    np.testing.assert_allclose(kp[:, :2], expected, atol=0.5)
    # Seen from straight above: the top corners are on the visible surface, the bottom ones
    # and the centre are behind the top face.
    top = np.array([s > 0 for s in [z for _ in range(4) for z in (-1, 1)]] + [False])
    assert kp[top, 2].tolist() == [2] * 4 and kp[~top, 2].tolist() == [1] * 5
    assert label.num_keypoints == 9
    # The top corners are the corners of the rendered mask's box (COCO pixel edges).
    x0, y0, w, h = label.bbox
    np.testing.assert_allclose(np.sort(kp[top, 0]), [x0, x0, x0 + w, x0 + w], atol=tol.pixel)
    np.testing.assert_allclose(np.sort(kp[top, 1]), [y0, y0, y0 + h, y0 + h], atol=tol.pixel)


@pytest.mark.gl
def test_bop_pose_reproduces_the_projected_corners(cube_library):
    cam = top_down_camera(320, 240, f=280.0, z=1.2)
    R = Rotation.from_euler("xyz", [0.3, -0.2, 0.7]).as_matrix()
    obj = cube(1, (0.05, -0.03, 0.12), 0.15, R)
    state = scene([obj], cam)
    out = _render(cube_library, state, amodal=True, normals=True)
    (label,) = annotate(state, out, **ALL)

    # area is the pixel count (a rotated cube does not fill its box), never width x height.
    assert label.area == int((out.instance_ids == 1).sum()) < label.bbox[2] * label.bbox[3]
    np.testing.assert_array_equal(np.array(label.world_from_object), obj.world_from_object)
    assert label.object_scale_m == 0.15
    R_m2c = np.array(label.cam_R_m2c).reshape(3, 3)
    t_m2c = np.array(label.cam_t_m2c) / 1000.0  # mm -> m
    np.testing.assert_allclose(R_m2c @ R_m2c.T, np.eye(3), atol=tol.exact)
    camera_from_object = np.linalg.inv(cam.world_from_camera) @ obj.world_from_object
    np.testing.assert_allclose(R_m2c, camera_from_object[:3, :3], atol=tol.exact)
    # Model points (mesh vertices times scale) through [R | t] and K land on the label's box.
    model = box_keypoints_object(CUBE_BOUNDS["cube"], label.object_scale_m)
    p = model @ R_m2c.T + t_m2c
    uv = (p @ cam.K.T)[:, :2] / p[:, 2:3] + 0.5
    x0, y0 = uv[:8].min(axis=0)
    x1, y1 = uv[:8].max(axis=0)
    np.testing.assert_allclose(label.bbox, [x0, y0, x1 - x0, y1 - y0], atol=tol.pixel)
    np.testing.assert_allclose(np.array(label.keypoints, float).reshape(9, 3)[:, :2], uv,
                               atol=tol.float32)

    # Normals agree with the pose and the depth: each cube pixel's normal is the camera-frame
    # normal of one face (+-columns of R_m2c), facing the camera, and the point the depth gives
    # lies on that face's plane, edge / 2 from the centre.
    rows, cols = np.nonzero(out.instance_ids == 1)
    z = out.depth[rows, cols].astype(float)
    points = np.stack([(cols - cam.K[0, 2]) / cam.K[0, 0] * z,
                       (rows - cam.K[1, 2]) / cam.K[1, 1] * z, z], axis=1)
    n = out.normals[rows, cols].astype(float)
    faces = np.hstack([R_m2c, -R_m2c]).T  # (6, 3) outward face normals, camera frame
    nearest = faces[np.argmax(n @ faces.T, axis=1)]
    np.testing.assert_allclose(n, nearest, atol=2e-3)
    assert np.all(np.sum(n * points, axis=1) < 0)
    np.testing.assert_allclose(np.sum(nearest * (points - t_m2c), axis=1), 0.075, atol=tol.flow_px)


@pytest.mark.gl
def test_depth_png_normals_and_masks_from_a_render(cube_library, tmp_path):
    width, height = 160, 120
    cam = top_down_camera(width, height, f=150.0, z=1.0)
    objects = [cube(7, (0.0, 0.0, 0.1), 0.2), cube(300, (0.3, 0.0, 0.05), 0.1),
               cube(9, (-0.3, -0.1, 0.05), 0.1, labelled=False)]
    # A 0.8 m ground: the image (1.07 m wide at the ground) also sees past it.
    state = SceneState(objects=tuple(objects), lights=scene([], cam).lights, camera=cam,
                       ground=Ground(0.8, GREY))
    out = _render(cube_library, state, normals=True, amodal=True)
    ids, depth = out.instance_ids, out.depth
    labels = annotate(state, out, **ALL)
    assert [lab.instance_id for lab in labels] == [7, 300]

    # Depth PNG: millimetres within 1 mm of the analytic depths.
    (tmp_path / "depth.png").write_bytes(png_bytes(encode_depth_png(depth)))
    metres = decode_depth_png(read_png(tmp_path / "depth.png"))
    np.testing.assert_allclose(metres[ids == 7], 0.8, atol=0.001)
    ground = (ids == 0) & (depth > 0)
    assert ground.any() and (depth == 0).any()
    np.testing.assert_allclose(metres[ground], 1.0, atol=0.001)
    assert np.all(metres[depth == 0] == 0)

    # Normals: the ground and the cube's top face face the camera head-on: (0, 0, -1).
    n = out.normals
    assert n.shape == (height, width, 3) and n.dtype == np.float32
    np.testing.assert_allclose(n[ground], np.tile([0, 0, -1.0], (int(ground.sum()), 1)),
                               atol=tol.normal)
    assert np.all(n[depth == 0] == 0)
    top = (ids == 7) & np.isclose(depth, 0.8, atol=tol.normal)
    assert top.sum() > 1000
    np.testing.assert_allclose(n[top], np.tile([0, 0, -1.0], (int(top.sum()), 1)), atol=tol.normal)
    # Cube 300 sits right of the optical axis: its -x side face is seen, normal (-1, 0, 0).
    side = (ids == 300) & (depth > 0.95 + 1e-3)
    assert side.any()
    np.testing.assert_allclose(n[side][:, 0], -1.0, atol=tol.depth_m)
    encoded = encode_normals_png(n)
    assert encoded[top][0].tolist() == [128, 128, 0] and np.all(encoded[depth == 0] == 0)

    # Semantic and instance PNGs.
    category_ids = {"cube": 1}
    (tmp_path / "sem.png").write_bytes(png_bytes(semantic_mask(ids, depth, labels,
                                                               category_ids)))
    (tmp_path / "inst.png").write_bytes(png_bytes(instance_mask(ids, labels)))
    sem, inst = read_png(tmp_path / "sem.png"), read_png(tmp_path / "inst.png")
    assert sem.dtype == inst.dtype == np.uint16
    assert set(np.unique(sem[np.isin(ids, [7, 300])])) == {1}
    assert set(np.unique(sem[ids == 9])) == {0}  # the distractor is void
    assert set(np.unique(sem[ground])) == {2} and set(np.unique(sem[depth == 0])) == {3}
    np.testing.assert_array_equal(inst, np.where(np.isin(ids, [7, 300]), ids, 0))


@pytest.mark.gl
def test_more_than_255_instances_in_the_instance_png(cube_library, tmp_path):
    cam = top_down_camera(400, 400, f=400.0, z=1.5)
    n = 18  # 324 cubes
    objects = [cube(1000 + i * n + j, (-0.595 + 0.07 * i, -0.595 + 0.07 * j, 0.02), 0.04)
               for i in range(n) for j in range(n)]
    state = scene(objects, cam)
    out = _render(cube_library, state, amodal=True)
    labels = annotate(state, out, **ALL)
    assert len(labels) == n * n
    for label in labels:
        assert label.area > 0 and label.visib_fract == 1.0 and label.truncation == 0.0
        assert label.amodal_area == label.area  # nothing hides anything
    (tmp_path / "inst.png").write_bytes(png_bytes(instance_mask(out.instance_ids, labels)))
    inst = read_png(tmp_path / "inst.png")
    assert set(np.unique(inst).tolist()) == {0} | {o.instance_id for o in objects}


@pytest.mark.gl
def test_tiny_atlas_pages_and_tiles_give_the_same_masks(cube_library, monkeypatch):
    import synthscene.render.amodal as render

    cam = top_down_camera(160, 120, f=150.0, z=1.0)
    objects = [cube(1, (-0.35, 0.0, 0.3), 0.5), cube(2, (0.3, 0.2, 0.05), 0.1),
               cube(3, (0.15, -0.2, 0.05), 0.12, Rotation.from_euler("z", 0.3).as_matrix())]
    state = scene(objects, cam)
    big = _render(cube_library, state, amodal=True)
    monkeypatch.setattr(render, "AMODAL_ATLAS_SIZE", (48, 32))  # tiles, several pages
    small = _render(cube_library, state, amodal=True)
    assert big.amodal.keys() == small.amodal.keys() == {1, 2, 3}
    for key, mask in big.amodal.items():
        assert (mask.x0, mask.y0) == (small.amodal[key].x0, small.amodal[key].y0)
        np.testing.assert_array_equal(mask.mask, small.amodal[key].mask)
    # Cube 1 (0.5 m wide, 0.45 m from the camera) is larger than the image: truncated.
    assert big.amodal[1].mask.shape[1] > 160
    labels = {lab.instance_id: lab for lab in annotate(state, big, **ALL)}
    assert labels[1].truncation > 0.3 and labels[2].truncation == labels[3].truncation == 0.0
