"""Rendering against analytic geometry (needs GL: Mesa EGL here, NVIDIA EGL on a GPU)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from pycocotools import mask as mask_utils
from scipy.spatial.transform import Rotation

from conftest import cube, pose, scene, top_down_camera
from tolerances import tol

pytestmark = pytest.mark.gl


def test_numpy2_infty_shim():
    import pyrender
    import trimesh

    import synthscene.render.renderer  # noqa: F401  (chooses EGL and applies the shim: import it first)

    mesh = pyrender.Mesh.from_trimesh(trimesh.creation.box((1.0, 2.0, 3.0)))
    np.testing.assert_allclose(mesh.bounds, [[-0.5, -1.0, -1.5], [0.5, 1.0, 1.5]])
    s = pyrender.Scene()
    s.add(mesh)
    np.testing.assert_allclose(s.bounds, mesh.bounds)
    assert np.infty == np.inf


def _project(K, camera_from_world, points):
    p = (camera_from_world[:3, :3] @ points.T).T + camera_from_world[:3, 3]
    uv = (K @ (p / p[:, 2:3]).T).T[:, :2]
    return uv


def test_known_cube_projects_to_analytic_box(cube_library):
    from synthscene.render.renderer import Renderer

    width, height = 320, 240
    cam = top_down_camera(width, height, f=280.0, z=1.2)
    R = Rotation.from_euler("xyz", [0.3, -0.2, 0.7]).as_matrix()
    center, edge = np.array([0.05, -0.03, 0.12]), 0.15
    state = scene([cube(1, center, edge, R)], cam)
    with Renderer(cube_library, width, height) as renderer:
        out = renderer.render(state)
    mask = np.asfortranarray((out.instance_ids == 1).astype(np.uint8))
    bbox = mask_utils.toBbox(mask_utils.encode(mask))
    corners = np.array([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)]) * edge / 2
    world = (R @ corners.T).T + center
    uv = _project(cam.K, np.linalg.inv(cam.world_from_camera), world)
    # K puts pixel centres at integers; COCO boxes run along pixel edges, hence + 0.5.
    x0, y0 = uv.min(axis=0) + 0.5
    x1, y1 = uv.max(axis=0) + 0.5
    np.testing.assert_allclose(bbox, [x0, y0, x1 - x0, y1 - y0], atol=tol.pixel)
    assert out.instance_ids.dtype == np.int32 and out.depth.dtype == np.float32
    assert out.rgb.shape == (height, width, 3) and out.rgb.dtype == np.uint8


def test_depth_is_metric_and_positive_on_objects(cube_library):
    from synthscene.render.renderer import Renderer

    width, height = 160, 120
    cam = top_down_camera(width, height, f=150.0, z=1.0)
    state = scene([cube(7, (0.0, 0.0, 0.1), 0.2)], cam)
    with Renderer(cube_library, width, height) as renderer:
        out = renderer.render(state)
    ids, depth = out.instance_ids, out.depth
    assert set(np.unique(ids)) <= {0, 7}
    assert np.all(depth[ids > 0] > 0)
    # Top face at z = 0.2 seen from z = 1.0: 0.8 m along the optical axis.
    np.testing.assert_allclose(depth[ids == 7], 0.8, atol=tol.depth_m)
    # The ground (id 0) is at 1.0 m; with no ground nothing is hit: depth 0.
    np.testing.assert_allclose(depth[ids == 0], 1.0, atol=tol.depth_m)
    with Renderer(cube_library, width, height) as renderer:
        out = renderer.render(scene([cube(7, (0.0, 0.0, 0.1), 0.2)], cam, ground=False))
    assert np.all(out.depth[out.instance_ids == 0] == 0)
    assert np.all(out.depth[out.instance_ids == 7] > 0)


def test_more_than_255_instances_and_hidden_object(cube_library):
    from synthscene.render.renderer import Renderer

    width, height = 400, 400
    cam = top_down_camera(width, height, f=400.0, z=1.5)
    objects = []
    n = 18  # 18 x 18 = 324 cubes
    for i in range(n):
        for j in range(n):
            objects.append(cube(1000 + i * n + j, (-0.595 + 0.07 * i, -0.595 + 0.07 * j, 0.02),
                                0.04))
    # A small cube fully inside a big one: rendered, never visible.
    hidden = [cube(5000, (0.0, 0.0, 0.5), 0.2), cube(5001, (0.0, 0.0, 0.5), 0.05)]
    with Renderer(cube_library, width, height) as renderer:
        out = renderer.render(scene(objects, cam))
        out_hidden = renderer.render(scene(hidden, cam))
    ids = set(np.unique(out.instance_ids).tolist()) - {0}
    assert ids == {o.instance_id for o in objects}
    assert set(np.unique(out_hidden.instance_ids).tolist()) == {0, 5000}


def test_renderer_lifecycle(cube_library):
    from synthscene.render.renderer import Renderer, RenderError

    cam = top_down_camera(64, 48)
    renderer = Renderer(cube_library, 64, 48)
    with renderer:
        renderer.render(scene([cube(1, (0, 0, 0.05), 0.1)], cam))
    with pytest.raises(RenderError, match="not open"):
        renderer.render(scene([], cam))
    renderer.close()  # idempotent
    assert pose((1, 2, 3))[0, 3] == 1


@pytest.mark.parametrize("msaa", [1, 4])
def test_a_camera_of_another_size_is_drawn_at_its_size_as_a_fresh_renderer_draws_it(
        cube_library, msaa):
    from synthscene.core.state import AmbientOcclusion
    from synthscene.render.renderer import Renderer
    from synthscene.render.settings import RenderSettings

    objects = [cube(1, (0.05, 0.0, 0.05), 0.1), cube(2, (-0.08, 0.04, 0.05), 0.08)]
    small, large, wide = top_down_camera(48, 36), top_down_camera(80, 60), top_down_camera(96, 30)
    occlusion = AmbientOcclusion(strength=1.0, radius=0.1)
    settings = RenderSettings(amodal=True, msaa_samples=msaa, normals=True)

    def frame(cam, ao):
        state = scene(objects, cam)
        return dataclasses.replace(state, ambient_occlusion=occlusion) if ao else state

    def fresh(cam, ao):
        with Renderer(cube_library, cam.width, cam.height, settings) as renderer:
            return renderer.render(frame(cam, ao))

    sequence = [(small, False), (large, True), (small, True), (wide, False), (large, False),
                (small, False)]
    expected = {(cam.width, ao): fresh(cam, ao) for cam, ao in set(sequence)}
    with Renderer(cube_library, 64, 48, settings) as renderer:
        for cam, ao in sequence:
            out, want = renderer.render(frame(cam, ao)), expected[(cam.width, ao)]
            assert out.rgb.shape == (cam.height, cam.width, 3)
            np.testing.assert_array_equal(out.rgb, want.rgb)
            np.testing.assert_array_equal(out.instance_ids, want.instance_ids)
            np.testing.assert_array_equal(out.depth, want.depth)
            if msaa > 1:  # drawn by the label pass
                np.testing.assert_array_equal(out.normals, want.normals)
            assert out.amodal.keys() == want.amodal.keys()
            for key, mask in out.amodal.items():
                assert (mask.x0, mask.y0) == (want.amodal[key].x0, want.amodal[key].y0)
                np.testing.assert_array_equal(mask.mask, want.amodal[key].mask)


def test_submitted_frames_match_rendered_frames_and_survive_the_next_submit(cube_library):
    from synthscene.render.renderer import Renderer

    cam = top_down_camera(160, 120)
    a = scene([cube(1, (0.1, 0.0, 0.05), 0.1)], cam)
    b = scene([cube(2, (-0.1, 0.05, 0.05), 0.12)], cam)
    with Renderer(cube_library, 160, 120) as renderer:
        direct_a = renderer.render(a)
        pending_a = renderer.submit(a)
        pending_b = renderer.submit(b)  # finishes a first
        out_b = pending_b.result()
        out_a = pending_a.result()
    np.testing.assert_array_equal(out_a.rgb, direct_a.rgb)
    np.testing.assert_array_equal(out_a.instance_ids, direct_a.instance_ids)
    assert set(np.unique(out_a.instance_ids)) == {0, 1}
    assert set(np.unique(out_b.instance_ids)) == {0, 2}


def test_a_frame_not_collected_before_close_raises(cube_library):
    from synthscene.render.renderer import Renderer, RenderError

    cam = top_down_camera(64, 48)
    with Renderer(cube_library, 64, 48) as renderer:
        pending = renderer.submit(scene([cube(1, (0.0, 0.0, 0.05), 0.1)], cam))
    with pytest.raises(RenderError, match="closed"):
        pending.result()


@pytest.mark.parametrize("samples", [1, 4])
def test_msaa_changes_colour_edges_only_never_labels(cube_library, samples):
    from synthscene.render.renderer import Renderer
    from synthscene.render.settings import RenderSettings

    cam = top_down_camera(160, 120)
    R = Rotation.from_euler("z", 0.4).as_matrix()
    state = scene([cube(1, (0.0, 0.0, 0.05), 0.2, R)], cam, ground=False)
    with Renderer(cube_library, 160, 120) as renderer:
        reference = renderer.render(state)
    with Renderer(cube_library, 160, 120, RenderSettings(msaa_samples=samples)) as renderer:
        out = renderer.render(state)
    np.testing.assert_array_equal(out.instance_ids, reference.instance_ids)
    # Single-sampled, ids and depth come from the colour pass; with MSAA from the separate
    # label pass: the same surfaces, camera z rounded in another order (float32).
    np.testing.assert_allclose(out.depth, reference.depth, rtol=0, atol=tol.float32)
    differ = np.any(out.rgb != reference.rgb, axis=2)
    if samples == 1:
        assert not differ.any()
    else:
        # Anti-aliasing blends colours only along the cube's silhouette.
        ids = reference.instance_ids
        edge = np.zeros_like(differ)
        inner = ids[1:-1, 1:-1]
        edge[1:-1, 1:-1] = (inner != ids[:-2, 1:-1]) | (inner != ids[2:, 1:-1]) \
            | (inner != ids[1:-1, :-2]) | (inner != ids[1:-1, 2:])
        near_edge = np.zeros_like(edge)
        for dy in (-1, 0, 1):
            for dx in (-1, 0, 1):
                near_edge |= np.roll(np.roll(edge, dy, 0), dx, 1)
        assert differ.any() and not (differ & ~near_edge).any()


def test_msaa_samples_must_be_a_power_of_two_up_to_8():
    from synthscene.render.settings import RenderSettings

    with pytest.raises(ValueError, match="msaa_samples"):
        RenderSettings(msaa_samples=3)


def test_recent_frames_keep_what_consecutive_frames_use():
    from synthscene.render.recent import RecentFrames

    freed = []
    cache = RecentFrames(free=freed.append)
    made = iter(range(100))
    assert cache.get("a", lambda: next(made)) == 0
    assert cache.get("a", lambda: next(made)) == 0  # the same frame
    cache.next_frame()
    assert cache.get("a", lambda: next(made)) == 0  # kept by the next frame
    assert cache.get("b", lambda: next(made)) == 1
    cache.next_frame()
    assert cache.get("b", lambda: next(made)) == 1
    assert freed == []
    cache.next_frame()  # "a" was not used by the frame before: released now
    assert freed == [0]
    assert cache.get("a", lambda: next(made)) == 2  # made again
    cache.clear()
    assert sorted(freed) == [0, 1, 2]


def test_a_textured_material_drawn_again_gives_the_same_pixels(cube_library):
    # Frames that draw the same Material objects (a sequence, the views of a scene) reuse its
    # uploaded texture: the pixels are those of a renderer that draws it for the first time.
    import dataclasses

    from synthscene.core.state import Material
    from synthscene.render.renderer import Renderer
    from synthscene.seeding import frame_rng

    rng = frame_rng(0, 0)
    texture = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
    material = Material(base_color=(1.0, 1.0, 1.0, 1.0), texture=texture)
    cam = top_down_camera(96, 72)
    a = scene([dataclasses.replace(cube(1, (0.0, 0.0, 0.05), 0.12), material=material)], cam)
    a = dataclasses.replace(a, ground=dataclasses.replace(a.ground, material=material))
    moved = top_down_camera(96, 72, z=1.2)
    b = dataclasses.replace(a, camera=moved)
    with Renderer(cube_library, 96, 72) as renderer:
        frames = [renderer.render(state) for state in (a, b, a, b, b, a)]
    for state, out in zip((a, b, a, b, b, a), frames):
        with Renderer(cube_library, 96, 72) as fresh:
            first = fresh.render(state)
        np.testing.assert_array_equal(out.rgb, first.rgb)
        np.testing.assert_array_equal(out.instance_ids, first.instance_ids)
    assert len(np.unique(frames[0].rgb.reshape(-1, 3), axis=0)) > 50  # textured
