"""Screen-space ambient occlusion (``render.ambient_occlusion``): contacts darken, open surfaces
do not, and no label changes (rendered pixels against the same frame without it)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

import synthscene
from conftest import cube, scene, top_down_camera
from mitsuba_reference import look_at_camera
from synthscene.config.loading import scenario_from_dict
from synthscene.core.state import AmbientOcclusion, Camera
from synthscene.errors import ConfigError
from synthscene.seeding import frame_rng

W, H = 160, 120
EDGE = 0.2  # the cube's edge, metres


def _ambient_only(state):
    """Lit by the ambient term alone, so every change of colour is the occlusion's."""
    return dataclasses.replace(state, lights=(), ambient_light=(0.8, 0.8, 0.8))


def _luminance(rgb: np.ndarray) -> np.ndarray:
    return rgb.astype(np.float64).mean(axis=2)


def _oblique_camera() -> Camera:
    """From (0, -0.9, 0.6) m towards (0, 0, 0.05): the cube's near face (y = -0.1) in view."""
    return look_at_camera((0.0, -0.9, 0.6), (0.0, 0.0, 0.05), W, H, 150.0)


def _world_points(camera: Camera, depth: np.ndarray) -> np.ndarray:
    """(H, W, 3) world points of every pixel from its camera-z depth."""
    v, u = np.mgrid[0:H, 0:W]
    rays = np.stack([(u - camera.K[0, 2]) / camera.K[0, 0], (v - camera.K[1, 2]) / camera.K[1, 1],
                     np.ones((H, W))], axis=-1) * depth[..., None]
    return rays @ camera.world_from_camera[:3, :3].T + camera.world_from_camera[:3, 3]


@pytest.mark.gl
def test_the_ground_darkens_at_a_contact_and_nowhere_else(cube_library):
    from synthscene.render.renderer import Renderer

    camera = _oblique_camera()
    plain = _ambient_only(scene([cube(1, (0.0, 0.0, EDGE / 2), EDGE)], camera))
    occluded = dataclasses.replace(plain, ambient_occlusion=AmbientOcclusion(1.0, 0.15))
    with Renderer(cube_library, W, H) as renderer:
        without = renderer.render(plain)
        with_ao = renderer.render(occluded)
    np.testing.assert_array_equal(with_ao.instance_ids, without.instance_ids)
    np.testing.assert_array_equal(with_ao.depth, without.depth)
    lum_without, lum_with = _luminance(without.rgb), _luminance(with_ao.rgb)
    world = _world_points(camera, without.depth)
    ground = without.instance_ids == 0
    # Ground within 2 cm in front of the near face's middle, where the face meets the ground.
    front = (ground & (np.abs(world[..., 0]) < 0.06) & (world[..., 1] > -EDGE / 2 - 0.02)
             & (world[..., 1] < -EDGE / 2))
    beside = np.maximum(np.abs(world[..., :2]) - EDGE / 2, 0.0)
    far = ground & (np.hypot(beside[..., 0], beside[..., 1]) > 0.17)  # beyond the radius
    top = (without.instance_ids == 1) & (world[..., 2] > EDGE - 0.005)  # the open top face
    assert front.sum() > 20 and far.sum() > 1000 and top.sum() > 200
    darkening = 1.0 - lum_with[front].mean() / lum_without[front].mean()
    assert darkening > 0.15, darkening
    assert np.abs(lum_with[far] - lum_without[far]).max() <= 1
    assert np.abs(lum_with[top] - lum_without[top]).max() <= 1


@pytest.mark.gl
def test_strength_zero_and_an_open_plane_change_nothing(cube_library):
    from synthscene.render.renderer import Renderer

    camera = top_down_camera(W, H, f=150.0, z=1.0)
    empty = _ambient_only(scene([], camera))
    with_cube = _ambient_only(scene([cube(1, (0.0, 0.0, EDGE / 2), EDGE)], camera))
    with Renderer(cube_library, W, H) as renderer:
        plane = renderer.render(empty).rgb
        plane_ao = renderer.render(dataclasses.replace(
            empty, ambient_occlusion=AmbientOcclusion(1.0, 0.1))).rgb
        weak = renderer.render(dataclasses.replace(
            with_cube, ambient_occlusion=AmbientOcclusion(0.0, 0.1))).rgb
        plain = renderer.render(with_cube).rgb
    assert np.abs(plane.astype(int) - plane_ao).max() <= 1
    assert np.abs(plain.astype(int) - weak).max() <= 1


SCENE = {
    "name": "occlusion",
    "image": {"width": 96, "height": 72},
    "assets": [{"source": "primitive:box"}, {"source": "primitive:sphere"}],
    "objects": {"count": {"randint": [3, 5]}, "size_m": {"uniform": [0.08, 0.15]},
                "drop_region": {"x_m": [-0.15, 0.15], "y_m": [-0.15, 0.15],
                                "z_m": [0.05, 0.2]}},
    "camera": {"distance_m": {"uniform": [0.6, 0.8]}},
    "physics": {"max_steps": 200},
    "outputs": {"depth_png": True, "instance_mask": True, "semantic_mask": True},
}


def _files(out: Path, folder: str) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((out / folder).iterdir())}


@pytest.mark.gl
def test_labels_are_byte_identical_with_and_without_ambient_occlusion(tmp_path):
    with_ao = json.loads(json.dumps(SCENE))
    with_ao["render"] = {"ambient_occlusion": {"strength": 1.0, "radius_m": 0.08}}
    outs = {}
    for name, spec in (("off", SCENE), ("on", with_ao)):
        outs[name] = tmp_path / name
        synthscene.generate(scenario_from_dict(json.loads(json.dumps(spec)), source=name),
                            outs[name], frames=3, seed=3, workers=1)
    off, on = outs["off"], outs["on"]
    assert (off / "annotations.json").read_bytes() == (on / "annotations.json").read_bytes()
    folders = sorted(p.name for p in off.iterdir() if p.is_dir() and p.name != "images"
                     and not p.name.startswith("."))
    assert len(folders) == 3  # depth, instance and semantic masks
    for folder in folders:
        assert _files(off, folder) == _files(on, folder), folder
    assert _files(off, "images") != _files(on, "images")  # the occlusion is drawn


@pytest.mark.gl
def test_two_workers_give_the_same_bytes_with_ambient_occlusion(tmp_path):
    spec = json.loads(json.dumps(SCENE))
    spec["render"] = {"ambient_occlusion": {"strength": {"uniform": [0.5, 1.0]},
                                            "radius_m": {"uniform": [0.05, 0.1]},
                                            "probability": 0.7}}
    files = []
    for workers in (1, 2):
        out = tmp_path / f"w{workers}"
        synthscene.generate(scenario_from_dict(json.loads(json.dumps(spec)), source="s"), out,
                            frames=4, seed=11, workers=workers)
        files.append({str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*"))
                      if p.is_file() and ".synthscene" not in p.parts})
    assert files[0] == files[1]


def test_drawn_per_frame_from_its_own_stream():
    from synthscene.randomize.occlusion import sample_ambient_occlusion

    spec = scenario_from_dict({**SCENE, "render": {"ambient_occlusion": {
        "strength": {"uniform": [0.5, 0.7]}, "radius_m": {"uniform": [0.02, 0.03]},
        "probability": 0.5}}}, source="s").spec.render.ambient_occlusion
    drawn = [sample_ambient_occlusion(spec, rng=frame_rng(0, i)) for i in range(200)]
    on = [d for d in drawn if d is not None]
    assert 60 < len(on) < 140
    assert all(0.5 <= d.strength <= 0.7 and 0.02 <= d.radius <= 0.03 for d in on)
    assert sample_ambient_occlusion(None, rng=frame_rng(0, 0)) is None


@pytest.mark.parametrize("bad", [{"strength": -1.0}, {"radius_m": 0.0}, {"probability": 2},
                                 {"radius": 0.1}])
def test_bad_fields_name_the_field(bad):
    with pytest.raises(ConfigError, match="ambient_occlusion"):
        scenario_from_dict({**SCENE, "render": {"ambient_occlusion": bad}}, source="s.yaml")


def test_every_bundled_scenario_has_ambient_occlusion():
    scenes = sorted((Path(__file__).parents[1] / "scenes").glob("*.yaml"))
    assert scenes
    for path in scenes:
        assert synthscene.load_scenario(path).spec.render.ambient_occlusion is not None, path
