"""Lens distortion against OpenCV: the models, the warp of a pinhole render, rendered markers and
edges, a generated distorted dataset."""

from __future__ import annotations

import json
import types

import cv2
import numpy as np
import pytest
import trimesh

from conftest import GREY, pose, scene
from synthscene.core.lens import Lens
from synthscene.core.state import AmodalMask, Camera, RenderOutput, SceneObject
from synthscene.errors import ConfigError
from synthscene.labels.lens_warp import (
    WARPS_KEPT,
    LensWarps,
    lens_pinhole,
    lens_warp,
    pinhole_camera,
    pinhole_size,
    warp_output,
)

BROWN = Lens("brown_conrady", (-0.28, 0.09, 0.0012, -0.0009, -0.012))
FISHEYE = Lens("kannala_brandt", (0.03, -0.012, 0.004, -0.0008))
NEWTON = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 200, 1e-15)


def _K(f: float, width: int, height: int) -> np.ndarray:
    return np.array([[f, 0.0, (width - 1) / 2 + 3.3], [0.0, f * 1.01, (height - 1) / 2 - 2.1],
                     [0.0, 0.0, 1.0]])


def _cv_project(lens: Lens, points: np.ndarray, K: np.ndarray) -> np.ndarray:
    """OpenCV's projection of camera-frame points: (n, 2) pixels."""
    points = np.ascontiguousarray(points, dtype=np.float64).reshape(-1, 1, 3)
    if lens.model == "brown_conrady":
        uv, _ = cv2.projectPoints(points, np.zeros(3), np.zeros(3), K, np.array(lens.coeffs))
    else:
        uv, _ = cv2.fisheye.projectPoints(points, np.zeros(3), np.zeros(3), K,
                                          np.array(lens.coeffs))
    return uv.reshape(-1, 2)


def _cv_unproject(lens: Lens, uv: np.ndarray, K: np.ndarray, P: np.ndarray) -> np.ndarray:
    """OpenCV's undistortion of pixels ``uv`` into the pinhole ``P``'s pixels (many steps)."""
    pts = np.ascontiguousarray(uv, dtype=np.float64).reshape(-1, 1, 2)
    if lens.model == "brown_conrady":
        out = cv2.undistortPointsIter(pts, K, np.array(lens.coeffs), np.eye(3), P, NEWTON)
    else:
        out = cv2.fisheye.undistortPoints(pts, K, np.array(lens.coeffs), R=np.eye(3), P=P,
                                          criteria=NEWTON)
    return out.reshape(-1, 2)


@pytest.mark.parametrize("lens", [BROWN, FISHEYE], ids=lambda lens: lens.model)
def test_projection_is_opencvs_and_unprojection_inverts_it(lens):
    rng = np.random.Generator(np.random.PCG64(3))
    K = _K(250.0, 320, 240)
    points = rng.uniform([-0.6, -0.5, 0.8], [0.6, 0.5, 2.0], (500, 3))
    uv, seen = lens.project(points, K)
    assert seen.all()
    np.testing.assert_allclose(uv, _cv_project(lens, points, K), atol=1e-9)
    ab, valid = lens.unproject(_cv_project(lens, points, K), K)
    assert valid.all()
    np.testing.assert_allclose(ab, points[:, :2] / points[:, 2:], atol=1e-9)


def test_points_beyond_the_fold_or_behind_are_not_seen():
    # k1 < 0 alone: r (1 + k1 r^2) stops growing at r = 1 / sqrt(-3 k1)
    lens = Lens("brown_conrady", (-0.3, 0.0, 0.0, 0.0, 0.0))
    fold = 1 / np.sqrt(0.9)
    assert lens.max_undistorted_radius() == pytest.approx(fold)
    _, seen = lens.distort(np.array([[0.99 * fold, 0, 1], [1.01 * fold, 0, 1], [0, 0, -1]]))
    assert seen.tolist() == [True, False, False]
    # a fisheye sees up to 80 degrees off the axis
    angles = np.radians([79.0, 81.0])
    _, seen = FISHEYE.distort(np.stack([np.sin(angles), 0 * angles, np.cos(angles)], 1))
    assert seen.tolist() == [True, False]


@pytest.mark.parametrize("lens", [BROWN, FISHEYE], ids=lambda lens: lens.model)
@pytest.mark.parametrize("width, height, scale", [(160, 120, 2.0), (161, 121, None)])
def test_warped_ids_equal_a_direct_nearest_lookup(lens, width, height, scale):
    # (161, 121): the last knot of the coarse grid on the last pixel, the lens's own canvas
    camera = Camera(K=_K(120.0, width, height), width=width, height=height,
                    world_from_camera=np.eye(4), lens=lens)
    warp = lens_warp(camera, None if scale is None else pinhole_size(width, height, scale))
    size = (warp.pinhole.width, warp.pinhole.height)
    rng = np.random.Generator(np.random.PCG64(0))
    ids = rng.integers(0, 100_000, (size[1], size[0]), dtype=np.int32)
    depth = rng.uniform(0.5, 3.0, (size[1], size[0])).astype(np.float32)
    render = RenderOutput(rgb=np.zeros((size[1], size[0], 3), np.uint8), depth=depth,
                          instance_ids=ids)
    out = warp_output(render, camera, warp)
    v, u = np.mgrid[0:height, 0:width]
    pos = _cv_unproject(lens, np.stack([u, v], -1).reshape(-1, 2).astype(np.float64),
                        camera.K, warp.pinhole.K)
    col = np.floor(pos[:, 0] + 0.5).astype(int).reshape(height, width)
    row = np.floor(pos[:, 1] + 0.5).astype(int).reshape(height, width)
    assert (col >= 0).all() and (col < size[0]).all() and (row >= 0).all()
    assert (row < size[1]).all()  # the pinhole covers the whole distorted frame
    np.testing.assert_array_equal(out.instance_ids, ids[row, col])
    np.testing.assert_array_equal(out.depth, depth[row, col])  # z is looked up, not blended
    assert out.instance_ids.dtype == np.int32 and out.depth.dtype == np.float32


def test_lens_warps_make_each_cameras_maps_once_and_keep_the_last_few(monkeypatch):
    """A camera drawn again (same K, lens and sizes; any pose) reuses its warp; past
    WARPS_KEPT the least recently used is made again; two caches share nothing."""
    import synthscene.labels.lens_warp as module

    made: list[float] = []
    real = module.frame_maps

    def counted(camera, pinhole):
        made.append(float(camera.lens.coeffs[0]))
        return real(camera, pinhole)

    monkeypatch.setattr(module, "frame_maps", counted)

    def camera(k1: float, world_from_camera=np.eye(4)) -> Camera:
        return Camera(K=_K(60.0, 64, 48), width=64, height=48,
                      world_from_camera=world_from_camera, lens=Lens("brown_conrady",
                                                                     (k1, 0, 0, 0, 0)))

    warps = LensWarps()
    first = warps.get(camera(-0.1))
    moved = np.eye(4)
    moved[:3, 3] = (0.3, -0.2, 1.0)
    assert warps.get(camera(-0.1, moved)) is first and made == [-0.1]
    np.testing.assert_array_equal(first.nearest, lens_warp(camera(-0.1)).nearest)
    for i in range(WARPS_KEPT):
        warps.get(camera(-0.11 - 0.01 * i))
    assert made[-1] == pytest.approx(-0.1 - 0.01 * WARPS_KEPT)
    count = len(made)
    warps.get(camera(-0.1))  # the oldest went: made again
    assert len(made) == count + 1
    assert LensWarps().get(camera(-0.1)) is not first


def _pattern(ab: np.ndarray) -> np.ndarray:
    """A smooth colour image as a function of undistorted normalised coordinates."""
    a, b = ab[..., 0], ab[..., 1]
    channels = [np.sin(9 * a) * np.cos(7 * b), np.cos(11 * a + 3 * b), np.sin(5 * (a + b))]
    return np.clip(np.rint(127.5 + 100 * np.stack(channels, -1)), 0, 255).astype(np.uint8)


@pytest.mark.parametrize("lens", [BROWN, FISHEYE], ids=lambda lens: lens.model)
def test_opencv_undistort_of_the_warped_colour_gives_back_the_pinhole_view(lens):
    width, height = 240, 180
    K = _K(170.0, width, height)
    camera = Camera(K=K, width=width, height=height, world_from_camera=np.eye(4), lens=lens)
    size = pinhole_size(width, height, 2.0)
    warp = lens_warp(camera, size)
    Kp = warp.pinhole.K
    v, u = np.mgrid[0:size[1], 0:size[0]].astype(np.float64)
    pinhole_rgb = _pattern(np.stack([(u - Kp[0, 2]) / Kp[0, 0], (v - Kp[1, 2]) / Kp[1, 1]], -1))
    render = RenderOutput(rgb=pinhole_rgb, depth=np.ones(pinhole_rgb.shape[:2], np.float32),
                          instance_ids=np.zeros(pinhole_rgb.shape[:2], np.int32))
    distorted = warp_output(render, camera, warp).rgb
    # OpenCV undistorts to an ideal pinhole with the same K; compare with the pattern there.
    if lens.model == "brown_conrady":
        undistorted = cv2.undistort(distorted, K, np.array(lens.coeffs), newCameraMatrix=K)
    else:
        undistorted = cv2.fisheye.undistortImage(distorted, K, np.array(lens.coeffs), Knew=K)
    v, u = np.mgrid[0:height, 0:width].astype(np.float64)
    ab = np.stack([(u - K[0, 2]) / K[0, 0], (v - K[1, 2]) / K[1, 1]], -1)
    truth = _pattern(ab)
    # Away from the border: pixels whose undistorted ray lands 4 px inside the distorted frame.
    inside_uv, seen = lens.project(np.concatenate([ab, np.ones(ab.shape[:2] + (1,))], -1), K)
    keep = seen & (inside_uv[..., 0] > 4) & (inside_uv[..., 0] < width - 5) & (
        inside_uv[..., 1] > 4) & (inside_uv[..., 1] < height - 5)
    assert keep.mean() > 0.5
    diff = np.abs(undistorted.astype(int) - truth.astype(int))[keep]
    # Two bilinear resamplings of a smooth pattern (slope < 8 levels a pixel): mean error
    # below 1.5 levels, none above 8.
    assert diff.mean() < 1.5 and diff.max() <= 8


def test_amodal_crops_follow_the_lens_and_hold_the_visible_mask():
    width, height = 160, 120
    camera = Camera(K=_K(110.0, width, height), width=width, height=height,
                    world_from_camera=np.eye(4), lens=FISHEYE)
    size = pinhole_size(width, height, 2.0)
    warp = lens_warp(camera, size)
    ids = np.zeros((size[1], size[0]), np.int32)
    ids[40:90, 30:120] = 7
    crop = AmodalMask(x0=-20, y0=30, mask=np.zeros((70, 150), bool))
    crop.mask[10:60, 50:140] = True  # pinhole rows 40..89, columns 30..119, like the ids
    render = RenderOutput(rgb=np.zeros((size[1], size[0], 3), np.uint8),
                          depth=np.ones((size[1], size[0]), np.float32), instance_ids=ids,
                          amodal={7: crop})
    out = warp_output(render, camera, warp)
    amodal = out.amodal[7]
    full = np.zeros((3 * height, 3 * width), bool)
    h, w = amodal.mask.shape
    full[height + amodal.y0:height + amodal.y0 + h,
         width + amodal.x0:width + amodal.x0 + w] = amodal.mask
    visible = out.instance_ids == 7
    assert visible.any()
    np.testing.assert_array_equal(full[height:2 * height, width:2 * width], visible)


def _scenario(distortion: dict, fov_deg: float = 60.0, **extra):
    from synthscene.config.loading import scenario_from_dict

    return scenario_from_dict({
        "image": {"width": 160, "height": 120},
        "assets": [{"source": "primitive:box"}, {"source": "primitive:sphere"}],
        "objects": {"count": 4, "size_m": 0.1,
                    "drop_region": {"x_m": [-0.1, 0.1], "y_m": [-0.1, 0.1],
                                    "z_m": [0.05, 0.2]}},
        "camera": {"distance_m": 0.6, "fov_deg": fov_deg, "distortion": distortion},
        "outputs": {"keypoints": True}, **extra})


def test_a_fisheye_wider_than_supported_is_refused_naming_the_field():
    from synthscene.run.sensors import Sensors

    scenario = _scenario({"model": "kannala_brandt"}, fov_deg=170.0)
    with pytest.raises(ConfigError, match=r"camera\.distortion.*80 degrees"):
        Sensors(scenario, seed=0)


def test_coefficients_of_the_other_model_are_refused():
    with pytest.raises(ConfigError, match=r"camera\.distortion.*no coefficient p1"):
        _scenario({"model": "kannala_brandt", "p1": 0.01})


# -- rendered ---------------------------------------------------------------------------------
class _MarkerLibrary:
    """Stands in for AssetLibrary: a unit-diameter sphere and a flat bar 1 x 0.01 x 0.001."""

    keys = ("sphere", "bar")
    categories = ("marker",)

    def __init__(self) -> None:
        meshes = {"sphere": trimesh.creation.icosphere(subdivisions=4, radius=0.5),
                  "bar": trimesh.creation.box((1.0, 0.01, 0.001))}
        self._assets = {key: types.SimpleNamespace(
            key=key, category="marker", mesh=mesh, collision_hulls=(mesh.vertices.copy(),),
            source_path=None) for key, mesh in meshes.items()}

    def get(self, key: str):
        return self._assets[key]

    def category_of(self, key: str) -> str:
        return "marker"

    def __len__(self) -> int:
        return len(self._assets)


def _render_distorted(camera: Camera, objects, scale: float = 2.0) -> RenderOutput:
    """Render ``objects`` seen by ``camera`` (with a lens): pinhole render, then the warp."""
    from synthscene.render.renderer import Renderer

    size = pinhole_size(camera.width, camera.height, scale)
    state = scene(objects, lens_pinhole(camera, size), ground=False)
    with Renderer(_MarkerLibrary(), *size) as renderer:
        out = renderer.render(state)
    return warp_output(out, camera, lens_warp(camera, size))


@pytest.mark.gl
@pytest.mark.parametrize("lens", [BROWN, FISHEYE], ids=lambda lens: lens.model)
def test_small_spheres_land_where_opencv_projects_their_centres(lens):
    width, height = 320, 240
    K = _K(200.0 if lens.model == "kannala_brandt" else 260.0, width, height)
    camera = Camera(K=K, width=width, height=height, world_from_camera=np.eye(4), lens=lens)
    # Markers at pixels across the frame, 1 m away along their rays; radius 1.5 cm.
    targets = np.array([(u, v) for u in np.linspace(25, width - 26, 6)
                        for v in np.linspace(25, height - 26, 5)])
    rays = _cv_unproject(lens, targets, K, np.eye(3))
    centres = np.concatenate([rays, np.ones((len(rays), 1))], 1)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    objects = [SceneObject(instance_id=i + 1, asset_key="sphere", category="marker", scale=0.03,
                           world_from_object=pose(c), material=GREY)
               for i, c in enumerate(centres)]
    out = _render_distorted(camera, objects)
    expected = _cv_project(lens, centres, K)
    for i, (u, v) in enumerate(expected):
        rows, cols = np.nonzero(out.instance_ids == i + 1)
        assert rows.size > 20
        assert abs(cols.mean() - u) <= 0.5 and abs(rows.mean() - v) <= 0.5, (i, u, v)


@pytest.mark.gl
def test_a_straight_bar_bends_as_opencv_predicts():
    width, height = 320, 240
    K = _K(230.0, width, height)
    camera = Camera(K=K, width=width, height=height, world_from_camera=np.eye(4), lens=BROWN)
    # A 1 m bar, 1 cm wide, flat towards the camera, 1 m away, crossing the upper image.
    bar = SceneObject(instance_id=1, asset_key="bar", category="marker", scale=1.0,
                      world_from_object=pose([0.0, -0.38, 1.0]), material=GREY)
    out = _render_distorted(camera, [bar])
    axis = np.stack([np.linspace(-0.5, 0.5, 4001), np.full(4001, -0.38), np.ones(4001)], 1)
    curve = _cv_project(BROWN, axis, K)  # (u, v) along the bar's centre line
    mask = out.instance_ids == 1
    cols = [c for c in range(20, width - 20) if mask[:, c].sum() >= 2]
    assert len(cols) > 200
    measured = np.array([np.nonzero(mask[:, c])[0].mean() for c in cols])
    predicted = np.interp(cols, curve[:, 0], curve[:, 1])
    errors = np.abs(measured - predicted)
    assert errors.mean() <= 0.3 and errors.max() <= 0.75
    assert predicted.max() - predicted.min() > 4  # it does bend: a sagitta of > 4 px


@pytest.mark.gl
def test_a_distorted_dataset_is_valid_and_carries_the_lens(tmp_path):
    from synthscene.run.pipeline import generate
    from synthscene.tools.validate import validate_dataset

    scenario = _scenario({"model": "brown_conrady", "k1": {"uniform": [-0.3, -0.1]},
                          "k2": 0.05, "p1": 0.001})
    generate(scenario, tmp_path / "ds", frames=2, seed=3, workers=1)
    report = validate_dataset(tmp_path / "ds")
    assert report.ok, [str(p) for p in report.problems]
    data = json.loads((tmp_path / "ds" / "annotations.json").read_text())
    assert data["annotations"]
    for image in data["images"]:
        assert image["distortion_model"] == "brown_conrady"
        k1, k2, p1, p2, k3 = image["dist_coeffs"]
        assert -0.3 <= k1 <= -0.1 and (k2, p1, p2, k3) == (0.05, 0.001, 0.0, 0.0)
        assert len(image["K"]) == 3
    # The centre keypoint (of the centred box and sphere meshes: the object's origin) is
    # OpenCV's projection of the pose's translation through the written lens.
    checked = 0
    for ann in data["annotations"]:
        image = data["images"][ann["image_id"] - 1]
        t = np.array(ann["cam_t_m2c"]) / 1000.0
        x, y, v = ann["keypoints"][24:27]
        if v > 0:
            uv, _ = cv2.projectPoints(t.reshape(1, 1, 3), np.zeros(3), np.zeros(3),
                                      np.array(image["K"]), np.array(image["dist_coeffs"]))
            np.testing.assert_allclose([x - 0.5, y - 0.5], uv.ravel(), atol=1e-6)
            checked += 1
    assert checked > 0


def test_pinhole_covers_the_frame_with_the_centre_pitch_kept():
    from synthscene.labels.lens_warp import MARGIN_PX, auto_render_scale

    width, height = 320, 240
    camera = Camera(K=_K(200.0, width, height), width=width, height=height,
                    world_from_camera=np.eye(4), lens=FISHEYE)
    scale = auto_render_scale([camera])
    pinhole = pinhole_camera(camera, pinhole_size(width, height, scale))
    assert pinhole.K[0, 0] >= camera.K[0, 0] and pinhole.K[1, 1] >= camera.K[1, 1]
    corners = np.array([[0, 0], [width - 1, 0], [0, height - 1], [width - 1, height - 1]])
    pos = _cv_unproject(FISHEYE, corners.astype(float), camera.K, pinhole.K)
    assert (pos >= MARGIN_PX - 1e-6).all()
    assert (pos[:, 0] <= pinhole.width - 1 - MARGIN_PX + 1e-6).all()


@pytest.mark.parametrize("lens", [BROWN, FISHEYE], ids=lambda lens: lens.model)
def test_a_lens_renders_its_own_canvas_at_the_centre_pitch_and_no_larger(lens):
    from synthscene.labels.lens_warp import canvas_size

    width, height = 320, 240
    for f in (200.0, 260.0, 330.0):
        camera = Camera(K=_K(f, width, height), width=width, height=height,
                        world_from_camera=np.eye(4), lens=lens)
        size = canvas_size(camera)
        pinhole = lens_warp(camera).pinhole
        assert (pinhole.width, pinhole.height) == size
        K = pinhole.K
        assert K[0, 0] >= camera.K[0, 0] and K[1, 1] >= camera.K[1, 1]
        # one step (1/16 of the image) smaller would be coarser than the image at the centre
        scale = size[0] / width
        smaller = pinhole_camera(camera, pinhole_size(width, height, scale - 1 / 16))
        assert smaller.K[0, 0] < camera.K[0, 0] or smaller.K[1, 1] < camera.K[1, 1]


# -- the footprint: pinhole pixels outside the frame's outline are not shaded -----------------

WIDE_FISHEYE = Lens("kannala_brandt", (0.03, 0.0, 0.0, 0.0))
PINCUSHION = Lens("brown_conrady", (0.12, 0.0, 0.0, 0.0, 0.0))


@pytest.mark.parametrize("lens, f", [(BROWN, 260.0), (FISHEYE, 200.0), (WIDE_FISHEYE, 150.0),
                                     (PINCUSHION, 300.0)],
                         ids=["brown", "fisheye", "wide_fisheye", "pincushion"])
def test_the_footprint_holds_every_pixel_the_warp_reads_and_winds_once_about_the_axis(lens, f):
    """Every pinhole pixel a bilinear or nearest lookup of the warp reads lies inside the
    footprint polygon (OpenCV's pointPolygonTest), at least half a pixel from its edge; the
    polygon goes once around the principal point without turning back (star-shaped: the
    wedges of its outside do not reach into it)."""
    width, height = 320, 240
    camera = Camera(K=_K(f, width, height), width=width, height=height,
                    world_from_camera=np.eye(4), lens=lens)
    warp = lens_warp(camera)
    polygon = warp.pinhole.footprint
    centre = warp.pinhole.K[:2, 2]
    x0, y0 = np.floor(warp.map_x), np.floor(warp.map_y)
    read = np.concatenate([np.stack([x0 + dx, y0 + dy], -1).reshape(-1, 2)
                           for dx in (0, 1) for dy in (0, 1)])
    nearest = np.stack(np.divmod(warp.nearest.ravel(), warp.pinhole.width)[::-1], -1)
    read = np.unique(np.concatenate([read, nearest]).astype(np.float64), axis=0)
    contour = polygon.astype(np.float32).reshape(-1, 1, 2)
    distance = np.array([cv2.pointPolygonTest(contour, (float(x), float(y)), True)
                         for x, y in read[::7]])
    assert distance.min() >= 0.5, distance.min()
    angles = np.unwrap(np.arctan2(polygon[:, 1] - centre[1], polygon[:, 0] - centre[0]))
    steps = np.diff(np.append(angles, angles[0] + 2 * np.pi * np.sign(angles[-1] - angles[0])))
    assert (steps > 0).all() or (steps < 0).all()
    assert abs(abs(angles[-1] - angles[0]) - 2 * np.pi) < 0.1


@pytest.mark.gl
@pytest.mark.parametrize("lens", [BROWN, FISHEYE], ids=lambda lens: lens.model)
def test_the_footprint_mask_changes_no_warped_pixel_and_leaves_the_outside_unshaded(lens):
    """The same frame rendered with the camera's footprint and without it: the warped images
    are the same bytes; the pinhole render outside the footprint keeps the clear values."""
    import dataclasses

    from synthscene.render.renderer import Renderer

    width, height = 320, 240
    camera = Camera(K=_K(230.0, width, height), width=width, height=height,
                    world_from_camera=np.eye(4), lens=lens)
    warp = lens_warp(camera)
    size = (warp.pinhole.width, warp.pinhole.height)
    # A wall of spheres filling the pinhole view, 1 m away.
    grid = [(x, y) for x in np.linspace(-1.6, 1.6, 17) for y in np.linspace(-1.2, 1.2, 13)]
    objects = [SceneObject(instance_id=i + 1, asset_key="sphere", category="marker", scale=0.3,
                           world_from_object=pose((x, y, 1.0)), material=GREY)
               for i, (x, y) in enumerate(grid)]
    masked = scene(objects, lens_pinhole(camera), ground=False)
    unmasked = dataclasses.replace(masked, camera=dataclasses.replace(masked.camera,
                                                                      footprint=None))
    with Renderer(_MarkerLibrary(), *size) as renderer:
        raw_masked = renderer.render(masked)
        raw_unmasked = renderer.render(unmasked)
    a, b = (warp_output(raw, camera, warp) for raw in (raw_masked, raw_unmasked))
    assert np.array_equal(a.rgb, b.rgb) and np.array_equal(a.instance_ids, b.instance_ids)
    assert np.array_equal(a.depth, b.depth)
    outside = np.ones(raw_masked.instance_ids.shape, np.uint8)
    cv2.fillPoly(outside, [np.round(masked.camera.footprint).astype(np.int32)], 0)
    outside = cv2.erode(outside, np.ones((3, 3), np.uint8)).astype(bool)
    assert outside.mean() > 0.03
    assert (raw_unmasked.instance_ids[outside] > 0).mean() > 0.5  # the wall is drawn there
    assert (raw_masked.instance_ids[outside] == 0).all()
    assert (raw_masked.depth[outside] == 0).all()
