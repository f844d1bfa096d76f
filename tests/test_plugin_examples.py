"""The plug-in examples of examples/plugins/: each scenario loads with its
plug-in, draws what the plug-in promises, and (slow) makes a valid dataset."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import synthscene
from synthscene.randomize.scene import sample_scene
from synthscene.run.scene_libraries import build_libraries
from synthscene.seeding import frame_rng
from tolerances import tol

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "plugins"
NAMES = ("shelf_placement", "rain_effect", "conveyor_hook")


@pytest.fixture(scope="module", autouse=True)
def _unload_after_module():
    """Registries are per process: leave them as the other test modules expect."""
    yield
    for name in NAMES:
        synthscene.plugins.unload_plugin(str(EXAMPLES / f"{name}.py"))


def _scenario(name: str) -> synthscene.Scenario:
    synthscene.load_plugins([str(EXAMPLES / f"{name}.py")])
    return synthscene.load_scenario(EXAMPLES / f"{name}.yaml")


def test_shelf_objects_stand_on_the_levels_of_the_shelf_mesh():
    import trimesh

    scenario = _scenario("shelf_placement")
    library = build_libraries(scenario)
    # The boards' top surfaces, read from the fixture mesh itself: horizontal upward faces.
    shelf = trimesh.load(EXAMPLES / "shelf_vhacd.obj", force="mesh")
    up = shelf.face_normals[:, 2] > 0.99
    tops = np.unique(np.round(shelf.triangles_center[up, 2], 4))
    for index in range(3):
        state = sample_scene(scenario, library, rng=frame_rng(0, index), seed=(0, index))
        for obj in (o for o in state.objects if o.labelled):
            mesh = library.get(obj.asset_key).mesh
            world = trimesh.transform_points(mesh.vertices * obj.scale, obj.world_from_object)
            bottom = world[:, 2].min()
            assert np.min(np.abs(bottom - 0.002 - tops[:3])) < 1e-6  # 2 mm above a level
            assert np.all(np.abs(world[:, 0]) < 0.38) and np.all(np.abs(world[:, 1]) < 0.15)


def test_conveyor_parts_are_in_a_row_moving_with_the_frame():
    scenario = _scenario("conveyor_hook")
    library = build_libraries(scenario)
    xs = []
    for index in (0, 1):
        state = sample_scene(scenario, library, rng=frame_rng(0, index), seed=(0, index))
        x = np.sort([o.world_from_object[0, 3] for o in state.objects if o.labelled])
        steps = np.diff(x) / 0.2
        np.testing.assert_allclose(steps, np.round(steps), atol=tol.float64)  # one every pitch_m
        xs.append(x)
    shift = (xs[1][0] - xs[0][0]) / 0.2
    assert (shift - np.floor(shift)) * 0.2 == pytest.approx(0.03)  # the belt moved speed_m


def test_rain_brightens_streaks_and_leaves_the_rest():
    scenario = _scenario("rain_effect")
    rain = scenario.spec.effects[0]
    grey = np.full((240, 320, 3), 40, np.uint8)
    out = rain.apply(grey, rng=frame_rng(0, 0))
    changed = np.any(out != grey, axis=2)
    assert 0 < changed.mean() < 0.5
    assert np.all(out[changed] > 40) and np.all(out[~changed] == 40)


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_example_makes_a_valid_dataset(name, tmp_path):
    run = subprocess.run([sys.executable, "-m", "synthscene.cli", "generate",
                          str(EXAMPLES / f"{name}.yaml"), "--plugin", str(EXAMPLES / f"{name}.py"),
                          "--out", str(tmp_path), "--frames", "3", "--workers", "1", "--quiet"],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    from synthscene.tools.validate import validate_dataset

    assert validate_dataset(tmp_path).ok
