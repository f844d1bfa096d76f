"""Scene randomizers: light colour, camera samplers, distractors, fixtures, room,
background. Ranges over many draws, reproducibility, and labels checked against pixels."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from conftest import cube, scene, top_down_camera
from synthscene.config.loading import scenario_from_dict
from synthscene.core.state import Material
from synthscene.errors import ConfigError
from synthscene.randomize.camera import objects_in_view, sample_camera
from synthscene.randomize.color import kelvin_to_rgb
from synthscene.randomize.scene import finish_scene, sample_scene
from synthscene.run.scene_libraries import build_libraries
from synthscene.seeding import frame_rng
from tolerances import tol

BOX = [{"source": "primitive:box"}]


def _scenario(**fields):
    return scenario_from_dict({"assets": BOX, **fields})


def test_kelvin_colours_go_from_red_to_blue_and_are_normalised():
    warm, white, cold = kelvin_to_rgb(2000), kelvin_to_rgb(6500), kelvin_to_rgb(15000)
    assert warm[0] == 1.0 and warm[2] < 0.1
    assert min(white) > 0.9
    assert cold[2] == 1.0 and cold[0] < 0.7
    for t in np.linspace(1667, 25000, 50):
        rgb = np.array(kelvin_to_rgb(t))
        assert rgb.max() == pytest.approx(1.0) and rgb.min() >= 0.0
    with pytest.raises(ValueError):
        kelvin_to_rgb(1000)


def test_light_colour_from_temperature_stays_in_range_and_excludes_rgb():
    sc = _scenario(lights={"count": 3, "color_temperature_k": {"uniform": [3000, 4000]}})
    lib = build_libraries(sc)
    lo, hi = np.array(kelvin_to_rgb(3000)), np.array(kelvin_to_rgb(4000))
    for i in range(30):
        for light in sample_scene(sc, lib, rng=frame_rng(0, i)).lights:
            c = np.array(light.color)
            assert np.all(c >= np.minimum(lo, hi) - 1e-9) and np.all(c <= np.maximum(lo, hi) + 1e-9)
    with pytest.raises(ConfigError, match="not both"):
        _scenario(lights={"color": [1, 1, 1], "color_temperature_k": 5000})


@pytest.mark.parametrize("sampler", ["shell", "top_down", "fixed"])
def test_camera_samplers_respect_their_ranges(sampler):
    spec = _scenario(camera={
        "sampler": sampler, "height_m": {"uniform": [0.5, 0.7]},
        "distance_m": {"uniform": [1.0, 1.2]}, "roll_deg": {"uniform": [-10, 10]},
        "poses": [{"position_m": [1, 0, 1], "look_at_m": [0, 0, 0]}],
        "focal_jitter": {"uniform": [0.95, 1.05]},
        "principal_point_jitter_px": {"uniform": [-3, 3]},
        "look_at": {"x_m": [0, 0], "y_m": [0, 0], "z_m": [0, 0]},
    }).spec.camera
    for i in range(50):
        cam = sample_camera(spec, 640, 480, rng=frame_rng(1, i))
        R = cam.world_from_camera[:3, :3]
        np.testing.assert_allclose(R.T @ R, np.eye(3), atol=tol.float64)
        assert np.linalg.det(R) == pytest.approx(1.0)
        position = cam.world_from_camera[:3, 3]
        if sampler == "top_down":
            assert 0.5 <= position[2] <= 0.7 and np.allclose(position[:2], 0)
            np.testing.assert_allclose(R[:, 2], [0, 0, -1], atol=tol.float64)  # looks straight down
        elif sampler == "shell":
            assert 1.0 <= np.linalg.norm(position) <= 1.2
        else:
            np.testing.assert_allclose(position, [1, 0, 1])
        # The optical axis still points at the look-at point whatever the roll.
        if sampler != "top_down":
            np.testing.assert_allclose(R[:, 2], -position / np.linalg.norm(position),
                                       atol=tol.float64)
        fx, fy, cx, cy = cam.K[0, 0], cam.K[1, 1], cam.K[0, 2], cam.K[1, 2]
        assert abs(cx - 319.5) <= 3 and abs(cy - 239.5) <= 3
        assert fx != fy  # drawn separately
    first = sample_camera(spec, 640, 480, rng=frame_rng(1, 7))
    again = sample_camera(spec, 640, 480, rng=frame_rng(1, 7))
    np.testing.assert_array_equal(again.world_from_camera, first.world_from_camera)
    np.testing.assert_array_equal(again.K, first.K)


def test_roll_turns_the_image_about_the_optical_axis():
    spec = _scenario(camera={"sampler": "top_down", "height_m": 1.0, "azimuth_deg": 0,
                             "roll_deg": 90, "look_at": {"x_m": [0, 0], "y_m": [0, 0],
                                                         "z_m": [0, 0]}}).spec.camera
    cam = sample_camera(spec, 64, 48, rng=frame_rng(0, 0))
    # Unrolled, image x is world +x; rolled by 90 degrees, image x is world -y.
    np.testing.assert_allclose(cam.world_from_camera[:3, 0], [0, -1, 0], atol=tol.float64)


def test_min_visible_objects_redraws_the_camera():
    def scenario(k):
        return _scenario(
            objects={"count": 5, "size_m": 0.03,
                     "drop_region": {"x_m": [-0.2, 0.2], "y_m": [-0.2, 0.2], "z_m": [0.05, 0.1]}},
            camera={"min_visible_objects": k, "max_tries": 100,
                    "look_at": {"x_m": [-1.5, 1.5], "y_m": [-1.5, 1.5], "z_m": [0, 0]},
                    "distance_m": {"uniform": [0.6, 0.8]}})

    counts = {}
    for k in (0, 5):
        sc = scenario(k)
        lib = build_libraries(sc)
        counts[k] = []
        for i in range(10):
            rng = frame_rng(0, i)
            state = finish_scene(sc, lib, sample_scene(sc, lib, rng=rng), rng=rng)
            counts[k].append(objects_in_view(state, state.camera))
    assert sum(c == 5 for c in counts[0]) <= 3  # the look-at point is rarely near the objects
    assert sum(c == 5 for c in counts[5]) >= 8


def test_distractors_are_unlabelled_and_floating_ones_are_in_view():
    sc = _scenario(distractors={"count": 8, "floating_probability": 0.5})
    lib = build_libraries(sc)
    for i in range(10):
        rng = frame_rng(3, i)
        state = sample_scene(sc, lib, rng=rng)
        state = finish_scene(sc, lib, state, rng=rng)
        distractors = [o for o in state.objects if not o.labelled]
        assert len(distractors) == 8
        ids = [o.instance_id for o in state.objects]
        assert len(set(ids)) == len(ids)
        floating = [o for o in distractors if o.physics == "none"]
        cam_from_world = np.linalg.inv(state.camera.world_from_camera)
        for o in floating:
            p = cam_from_world @ o.world_from_object[:, 3]
            u, v = (state.camera.K @ (p[:3] / p[2]))[:2]
            assert p[2] > 0 and -0.5 <= u <= 639.5 and -0.5 <= v <= 479.5


@pytest.mark.gl
def test_distractor_pixels_are_in_the_rgb_but_in_no_mask(cube_library):
    from pycocotools import mask as mask_utils

    from synthscene.labels.annotate import annotate
    from synthscene.render.renderer import Renderer

    cam = top_down_camera(160, 120)
    target = cube(1, (0.0, 0.0, 0.05), 0.2)
    distractor = dataclasses.replace(cube(2, (0.05, 0.0, 0.5), 0.1, labelled=False),
                                     material=Material(base_color=(0.9, 0.1, 0.1, 1.0)))
    with Renderer(cube_library, 160, 120) as renderer:
        alone = renderer.render(scene([target], cam))
        both = renderer.render(scene([target, distractor], cam))
    labels = annotate(scene([target, distractor], cam), both)
    assert [lab.instance_id for lab in labels] == [1]
    covered = both.instance_ids == 2
    assert covered.any()
    assert np.any(both.rgb[covered] != alone.rgb[covered])  # the distractor shows in the RGB
    mask = mask_utils.decode(labels[0].segmentation).astype(bool)
    assert not (mask & covered).any()
    assert labels[0].area < int((alone.instance_ids == 1).sum())  # it occludes the target


def test_fixtures_are_static_unlabelled_and_stand_on_the_ground():
    sc = _scenario(fixtures=[{"source": "pybullet_data:tray/traybox.urdf", "size_m": 0.6}])
    lib = build_libraries(sc)
    state = sample_scene(sc, lib, rng=frame_rng(0, 0))
    (tray,) = [o for o in state.objects if o.physics == "static"]
    assert not tray.labelled and tray.scale == 0.6
    lo, _ = np.asarray(lib.get(tray.asset_key).mesh.bounds)
    assert tray.world_from_object[2, 3] + lo[2] * tray.scale == pytest.approx(0.0)


@pytest.mark.gl
def test_room_walls_are_drawn_but_not_labelled():
    from synthscene.labels.annotate import annotate
    from synthscene.render.renderer import Renderer

    sc = _scenario(room={"enabled": True, "height_m": 1.0}, ground={"size_m": 2.0},
                   image={"width": 160, "height": 120},
                   camera={"elevation_deg": 10, "distance_m": 0.8})
    lib = build_libraries(sc)
    state = sample_scene(sc, lib, rng=frame_rng(0, 0))
    assert len(state.walls) == 4
    with Renderer(lib, 160, 120) as renderer:
        out = renderer.render(state)
    # At a low elevation the camera sees walls where it would otherwise see the empty sky.
    assert (out.depth > 0).mean() > 0.99
    labelled = {o.instance_id for o in state.objects if o.labelled}
    assert set(np.unique(out.instance_ids)) <= labelled | {0}
    assert {lab.instance_id for lab in annotate(state, out)} <= labelled


@pytest.mark.gl
def test_background_compositing_leaves_labels_identical(tmp_path):
    import cv2

    from synthscene.labels.annotate import annotate
    from synthscene.randomize.compose import BackgroundLoader, composite_background
    from synthscene.render.renderer import Renderer

    rng = frame_rng(0, 0)
    for k in range(3):
        cv2.imwrite(str(tmp_path / f"bg{k}.png"), rng.integers(0, 255, (90, 200, 3), np.uint8))
    sc = scenario_from_dict({"assets": BOX, "ground": {"enabled": False},
                             "image": {"width": 160, "height": 120},
                             "background": {"images": str(tmp_path)}}, base_dir=tmp_path)
    lib = build_libraries(sc)
    state = sample_scene(sc, lib, rng=frame_rng(0, 1))
    assert state.background_image is not None
    with Renderer(lib, 160, 120) as renderer:
        out = renderer.render(state)
    background = BackgroundLoader().frame(state.background_image, 160, 120)
    rgb = composite_background(out.rgb, out.depth, background)
    empty = out.depth == 0
    assert empty.any() and (~empty).any()
    np.testing.assert_array_equal(rgb[~empty], out.rgb[~empty])
    np.testing.assert_array_equal(rgb[empty], background[empty])
    assert annotate(state, out) == annotate(state, out)  # labels depend on ids only
    with_bg = type(out)(rgb=rgb, depth=out.depth, instance_ids=out.instance_ids)
    assert annotate(state, with_bg) == annotate(state, out)


def test_background_folder_errors_name_the_field(tmp_path):
    sc = scenario_from_dict({"assets": BOX, "background": {"images": "missing"}},
                            source="s.yaml", base_dir=tmp_path)
    with pytest.raises(ConfigError, match=r"s\.yaml: background\.images"):
        build_libraries(sc)  # the folder is indexed once, with the assets


@pytest.mark.gl
def test_a_texture_shows_on_a_mesh_without_texture_coordinates(cube_library):
    from synthscene.randomize.textures import checkerboard_texture
    from synthscene.render.renderer import Renderer

    assert getattr(cube_library.get("cube").mesh.visual, "uv", None) is None
    texture = checkerboard_texture(64, rng=frame_rng(0, 0), cell_px=8.0, angle_rad=0.0,
                                   color_a=(1.0, 0.0, 0.0), color_b=(0.0, 0.0, 1.0))
    cam = top_down_camera(160, 120)
    plain = cube(1, (0.0, 0.0, 0.1), 0.25)
    textured = dataclasses.replace(plain, material=Material(base_color=(0.5, 0.5, 0.5, 1.0),
                                                            texture=texture))
    with Renderer(cube_library, 160, 120) as renderer:
        out_plain = renderer.render(scene([plain], cam, ground=False))
        out_textured = renderer.render(scene([textured], cam, ground=False))
    on_cube = out_textured.instance_ids == 1
    np.testing.assert_array_equal(on_cube, out_plain.instance_ids == 1)  # labels unchanged
    colours = out_textured.rgb[on_cube]
    plain_colours = out_plain.rgb[out_plain.instance_ids == 1]
    assert len(np.unique(plain_colours, axis=0)) <= 3       # flat faces: one colour each
    red = (colours[:, 0] > 2 * colours[:, 2]).mean()
    blue = (colours[:, 2] > 2 * colours[:, 0]).mean()
    assert red > 0.3 and blue > 0.3                         # both checker colours show


@pytest.mark.gl
def test_sensor_effects_change_the_rgb_but_not_the_labels():
    import synthscene

    base = {"assets": BOX, "image": {"width": 160, "height": 120},
            "objects": {"count": 4}, "physics": {"enabled": False}}
    plain = scenario_from_dict(base)
    noisy = scenario_from_dict({**base, "effects": [
        {"name": "gaussian_noise", "sigma": 5}, {"name": "motion_blur", "length_px": 5},
        {"name": "jpeg", "quality": 50}, {"name": "vignetting", "strength": 0.3}]})
    a = list(synthscene.iter_samples(plain, frames=2, seed=3))
    b = list(synthscene.iter_samples(noisy, frames=2, seed=3))
    c = list(synthscene.iter_samples(noisy, frames=2, seed=3))
    for x, y, z in zip(a, b, c):
        assert x.labels == y.labels and len(x.labels) > 0
        np.testing.assert_array_equal(x.render.instance_ids, y.render.instance_ids)
        assert np.abs(x.render.rgb.astype(int) - y.render.rgb.astype(int)).mean() > 1.0
        np.testing.assert_array_equal(y.render.rgb, z.render.rgb)  # reproducible
