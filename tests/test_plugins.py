"""Plug-ins: registries shared with the built-ins, loading by the person running the
command only, identical bytes across workers and resume, one-line failures."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from pycocotools.coco import COCO

import synthscene
from synthscene import plugins
from synthscene.config.loading import scenario_from_dict
from synthscene.registry import effect_registry, scene_registries, texture_registry
from synthscene.seeding import frame_rng
from tolerances import tol

ROOT = Path(__file__).resolve().parents[1]
PLUGIN = str(ROOT / "tests" / "sample_plugins.py")
FRAMES = 8
SEED = 3
SCENE = {
    "name": "plugins",
    "image": {"width": 128, "height": 96},
    "assets": [{"source": "primitive:box"}, {"source": "primitive:cylinder"}],
    "objects": {"count": {"randint": [3, 6]}, "size_m": {"uniform": [0.06, 0.1]},
                "placement": {"name": "grid", "columns": 3, "spacing_m": 0.12}},
    "camera": {"distance_m": {"uniform": [0.7, 0.9]}, "look_at": {
        "x_m": [-0.05, 0.05], "y_m": [0.05, 0.15], "z_m": [0, 0.02]}},
    "hooks": [{"name": "dim_lights", "stage": "after_physics"}],
    "effects": [{"name": "speckle", "count": {"randint": [10, 30]}}],
    "physics": {"max_steps": 200},
}


@pytest.fixture(scope="module", autouse=True)
def _unload_after_module():
    """Registries are per process: leave them as the other test modules expect."""
    yield
    plugins.unload_plugin(PLUGIN)
    assert "speckle" not in plugins.EFFECTS and "jpeg" in plugins.EFFECTS


def folder_bytes(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file()}


def test_builtins_are_registered_through_the_public_api():
    assert plugins.EFFECTS is effect_registry.EFFECTS
    assert plugins.TEXTURES is texture_registry.TEXTURES
    assert plugins.PLACEMENTS is scene_registries.PLACEMENTS
    assert plugins.register_effect is effect_registry.register_effect
    assert {"gaussian_noise", "jpeg"} <= set(plugins.EFFECTS)
    assert {"perlin", "image"} <= set(plugins.TEXTURES)
    assert list(plugins.PLACEMENTS)[:1] == ["drop"]
    assert {"shell", "top_down", "fixed"} <= set(plugins.CAMERA_SAMPLERS)
    for reg in plugins.REGISTRIES.values():
        assert all(entry.builtin for entry in reg.values() if entry.module.startswith(
            "synthscene."))
    # A built-in name cannot be taken over.
    with pytest.raises(ValueError, match="registered already"):
        plugins.register_effect("jpeg", lambda rgb, *, rng: rgb)
    # The default placement is the registry's drop, and a scenario's is looked up there.
    spec = scenario_from_dict({"assets": [{"source": "primitive:box"}]}).spec
    assert spec.objects.placement.randomizer == plugins.PLACEMENTS["drop"]
    assert spec.camera.sampler.randomizer == plugins.CAMERA_SAMPLERS["shell"]


def test_unknown_name_lists_loaded_plugins_and_how_to_load_one():
    with pytest.raises(synthscene.ConfigError) as err:
        scenario_from_dict({"assets": [{"source": "primitive:box"}],
                            "effects": [{"name": "rain_nowhere"}]}, source="s.yaml")
    message = str(err.value)
    assert message.startswith("s.yaml: effects[0].name: unknown effect 'rain_nowhere'")
    assert "plug-ins loaded:" in message and "--plugin" in message and "\n" not in message
    with pytest.raises(synthscene.ConfigError, match=r"objects\.placement\.name: unknown "
                                                     r"placement 'shelf_nowhere'.*plug-ins loaded"):
        scenario_from_dict({"assets": [{"source": "primitive:box"}],
                            "objects": {"placement": {"name": "shelf_nowhere", "levels": 3}}})


def test_a_yaml_file_cannot_cause_an_import(tmp_path, monkeypatch):
    marker = tmp_path / "imported"
    (tmp_path / "evil_plugin_mod.py").write_text(
        f"open({str(marker)!r}, 'w').write('x')\n"
        "def fx(rgb, *, rng):\n    return rgb\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    for where, value in [("effects", [{"name": "evil_plugin_mod.fx"}]),
                         ("hooks", [{"name": "evil_plugin_mod:fx"}]),
                         ("objects", {"placement": {"name": "evil_plugin_mod.fx"}}),
                         ("camera", {"sampler": "evil_plugin_mod.fx"})]:
        (tmp_path / "s.yaml").write_text(json.dumps(
            {"assets": [{"source": "primitive:box"}], where: value}))
        with pytest.raises(synthscene.ConfigError, match="unknown"):
            synthscene.load_scenario(tmp_path / "s.yaml")
    assert not marker.exists() and "evil_plugin_mod" not in sys.modules


def test_plugin_parameters_are_validated_like_builtins():
    plugins.load_plugins([PLUGIN])
    bad = json.loads(json.dumps(SCENE))
    bad["effects"] = [{"name": "speckle", "count": -1}]
    with pytest.raises(synthscene.ConfigError,
                       match=r"effects\[0\]\.count: must be integer in \[0, 10000\] for every"):
        scenario_from_dict(bad, source="s.yaml")
    bad["effects"] = [{"name": "speckle", "drops": 3}]
    with pytest.raises(synthscene.ConfigError, match=r"unknown parameter 'drops' for effect "
                                                     r"'speckle'; valid parameters: count"):
        scenario_from_dict(bad, source="s.yaml")
    bad = json.loads(json.dumps(SCENE))
    bad["hooks"] = [{"name": "dim_lights", "stage": "later"}]
    with pytest.raises(synthscene.ConfigError, match=r"hooks\[0\]\.stage: must be one of"):
        scenario_from_dict(bad, source="s.yaml")


def test_plugin_randomizers_change_the_frame_as_declared():
    plugins.load_plugins([PLUGIN])
    scenario = scenario_from_dict(json.loads(json.dumps(SCENE)))
    plain = json.loads(json.dumps(SCENE))
    del plain["hooks"], plain["effects"]
    from synthscene.randomize.scene import sample_scene
    from synthscene.run.scene_libraries import build_libraries

    library = build_libraries(scenario)
    state = sample_scene(scenario, library, rng=frame_rng(SEED, 0), seed=(SEED, 0))
    labelled = [o for o in state.objects if o.labelled]
    assert [o.instance_id for o in labelled] == list(range(1, len(labelled) + 1))
    xy = np.array([o.world_from_object[:2, 3] for o in labelled])
    cols = np.round(xy[:, 0] / 0.12 + 1).astype(int)
    rows = np.round(xy[:, 1] / 0.12).astype(int)
    assert np.allclose(xy, np.c_[(cols - 1) * 0.12, rows * 0.12])  # the grid's cells
    assert [r * 3 + c for r, c in zip(rows, cols)] == list(range(len(labelled)))


@pytest.mark.gl
def test_after_physics_hooks_change_every_frame_of_a_sequence_alike():
    # dim_lights scales every light by one factor drawn from U(0.5, 0.9): in a sequence every
    # frame is dimmed, by the same factor, and its rendered pixels are darker than the same
    # sequence's without the hook.
    plugins.load_plugins([PLUGIN])
    seq = {"name": "dimmed", "image": {"width": 96, "height": 72},
           "assets": [{"source": "primitive:box"}],
           "objects": {"count": 3, "size_m": 0.1},
           "lights": {"count": 2, "kind": "directional"},
           "camera": {"distance_m": 0.8},
           "sequence": {"length": 4, "fps": 12, "trajectory": {"kind": "orbit"}},
           "physics": {"max_steps": 100}}
    hooked = {**seq, "hooks": [{"name": "dim_lights", "stage": "after_physics"}]}
    plain = list(synthscene.iter_samples(scenario_from_dict(seq), frames=4, seed=SEED))
    dimmed = list(synthscene.iter_samples(scenario_from_dict(hooked), frames=4, seed=SEED))
    factors = set()
    for a, b in zip(plain, dimmed):
        ratio = [lb.intensity / la.intensity for la, lb in zip(a.state.lights, b.state.lights)]
        assert len(ratio) == 2 and 0.5 <= ratio[0] <= 0.9
        factors.update(round(r, 12) for r in ratio)
        assert b.render.rgb.mean() < a.render.rgb.mean() - 1.0
        np.testing.assert_array_equal(b.render.instance_ids, a.render.instance_ids)
    assert len(factors) == 1  # one draw for the whole sequence


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> dict[str, bytes]:
    plugins.load_plugins([PLUGIN])
    out = tmp_path_factory.mktemp("plugin_reference")
    summary = synthscene.generate(scenario_from_dict(json.loads(json.dumps(SCENE))), out,
                                  frames=FRAMES, seed=SEED, workers=1, plugins=[PLUGIN])
    assert summary.instances > FRAMES
    COCO(str(out / "annotations.json"))
    manifest = json.loads((out / ".synthscene" / "manifest.json").read_text())
    (entry,) = manifest["plugins"]
    assert entry["module"] == "synthscene_plugin_sample_plugins"
    assert len(entry["sha256"]) == 64
    return folder_bytes(out)


@pytest.mark.gl
def test_two_workers_give_the_same_bytes(reference, tmp_path):
    synthscene.generate(scenario_from_dict(json.loads(json.dumps(SCENE))), tmp_path,
                        frames=FRAMES, seed=SEED, workers=2, plugins=[PLUGIN])
    assert folder_bytes(tmp_path) == reference


@pytest.mark.slow
@pytest.mark.gl
def test_ray_workers_load_the_plugin_and_give_the_same_bytes(reference, tmp_path):
    pytest.importorskip("ray")  # in the test extras; a local Ray instance with 2 CPUs
    synthscene.generate(scenario_from_dict(json.loads(json.dumps(SCENE))), tmp_path,
                        frames=FRAMES, seed=SEED, workers=2, executor="ray", plugins=[PLUGIN])
    assert folder_bytes(tmp_path) == reference


def _cli(*args: str, cwd: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "synthscene.cli", "generate", *args],
                            cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


@pytest.mark.gl
def test_killed_run_resumes_to_the_same_bytes_and_other_plugin_code_is_refused(reference,
                                                                                tmp_path):
    (tmp_path / "scene.yaml").write_text(json.dumps(SCENE))
    args = ["scene.yaml", "--out", "out", "--frames", str(FRAMES), "--seed", str(SEED),
            "--workers", "2", "--quiet", "--plugin", PLUGIN]
    cli = _cli(*args, cwd=tmp_path)
    records = tmp_path / "out" / ".synthscene" / "frames"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and cli.poll() is None:
        if records.is_dir() and len(list(records.glob("*.json"))) >= 2:
            break
        time.sleep(0.002)
    cli.send_signal(signal.SIGKILL)
    cli.wait()
    cli.stderr.close()
    assert not (tmp_path / "out" / "annotations.json").exists()
    resumed = subprocess.run([sys.executable, "-m", "synthscene.cli", "generate", *args,
                              "--resume"], cwd=tmp_path, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr
    assert folder_bytes(tmp_path / "out") == reference

    # The same scenario with other plug-in code: refused, naming the plug-in.
    changed = tmp_path / "sample_plugins.py"
    changed.write_text(Path(PLUGIN).read_text() + "\n# changed\n")
    other = [a if a != PLUGIN else str(changed) for a in args]
    refused = subprocess.run([sys.executable, "-m", "synthscene.cli", "generate", *other,
                              "--resume"], cwd=tmp_path, capture_output=True, text=True)
    assert refused.returncode == 2
    line = refused.stderr.strip()
    assert "\n" not in line and "cannot resume" in line
    assert "plug-in 'synthscene_plugin_sample_plugins' at version None, source sha256" in line


@pytest.mark.gl
@pytest.mark.parametrize("workers", [1, 2])
def test_a_failing_plugin_is_one_line_naming_it_and_the_frame(tmp_path, workers):
    plugins.load_plugins([PLUGIN])
    scene = json.loads(json.dumps(SCENE))
    scene["effects"] = [{"name": "explode"}]
    with pytest.raises(synthscene.PluginError) as err:
        synthscene.generate(scenario_from_dict(scene), tmp_path, frames=2, seed=0,
                            workers=workers, plugins=[PLUGIN])
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith("frame ") and "plug-in 'explode'" in message
    assert message.endswith("failed: ValueError: boom")
    assert not (tmp_path / "annotations.json").exists()


def test_cli_reports_a_missing_plugin_in_one_line(tmp_path):
    result = subprocess.run([sys.executable, "-m", "synthscene.cli", "generate", "--out",
                             str(tmp_path / "o"), "--frames", "1", "--plugin",
                             "no_such_plugin_module_xyz"], capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.startswith("synthscene: error: cannot load plug-in "
                                    "'no_such_plugin_module_xyz'")
    assert result.stderr.count("\n") == 1


@pytest.mark.gl
def test_render_scene_labels_a_hand_built_state_as_the_projection_says():
    from synthscene.core.state import Camera, Ground, Light, Material, SceneObject, SceneState
    from synthscene.randomize.camera import top_down_pose
    from synthscene.randomize.geometry import intrinsics_from_fov

    pose = np.eye(4)
    pose[:3, 3] = (0.0, 0.0, 0.02)  # primitive:box is 1 x 0.6 x 0.4: scaled by 0.1, on the ground
    cube = SceneObject(instance_id=1, asset_key="primitive:box", category="box", scale=0.1,
                       world_from_object=pose, material=Material(base_color=(0.8, 0.2, 0.2, 1)))
    K = intrinsics_from_fov(np.radians(50.0), 320, 240)
    camera = Camera(K=K, width=320, height=240,
                    world_from_camera=top_down_pose(np.zeros(3), 1.0, 0.0))
    sun = Light("directional", world_from_light=np.eye(4), color=(1.0, 1.0, 1.0), intensity=2.0)
    state = SceneState(objects=(cube,), lights=(sun,), camera=camera,
                       ground=Ground(size=2.0, material=Material(base_color=(0.5, 0.5, 0.5, 1))))
    sample = synthscene.render_scene(state, ["primitive:box"])
    (label,) = sample.labels
    # Seen from straight above, the silhouette is the 0.1 x 0.06 m top face, 0.96 m away
    # (image x is world x for a top-down camera with no yaw).
    x, y, w, h = label.bbox
    assert abs(w - K[0, 0] * 0.1 / 0.96) <= 1.0 and abs(h - K[1, 1] * 0.06 / 0.96) <= 1.0
    assert abs(x + w / 2 - (K[0, 2] + 0.5)) <= 0.5 and abs(y + h / 2 - (K[1, 2] + 0.5)) <= 0.5
    assert label.area == np.count_nonzero(sample.render.instance_ids == 1)
    np.testing.assert_allclose(sample.render.depth[120, 160], 0.96, atol=tol.depth_m)


def test_camera_sampler_and_texture_plugins():
    plugins.load_plugins([PLUGIN])
    from synthscene.randomize.camera import sample_camera
    from synthscene.registry.texture_registry import parse_texture_spec

    spec = scenario_from_dict({"assets": [{"source": "primitive:box"}], "camera": {
        "sampler": {"name": "circle", "radius_m": 2.0, "height_m": 1.0, "step_deg": 30},
        "fov_deg": 50}}).spec
    dumped = spec.model_dump(mode="json")["camera"]["sampler"]
    assert dumped["name"] == "circle" and dumped["radius_m"] == {"value": 2.0}
    for frame in (0, 1, 4):
        camera = sample_camera(spec.camera, 64, 48, rng=frame_rng(0, frame), frame=frame)
        eye = camera.world_from_camera[:3, 3]
        angle = np.radians(30 * frame)
        np.testing.assert_allclose(eye, [2 * np.cos(angle), 2 * np.sin(angle), 1.0], atol=tol.exact)
        # The optical axis (camera z) points at the origin.
        np.testing.assert_allclose(camera.world_from_camera[:3, 2], -eye / np.linalg.norm(eye),
                                   atol=tol.exact)
    texture = parse_texture_spec({"kinds": ["bands"], "bands": {"bands": 3}}, source="s",
                                 field="t").sample(rng=frame_rng(0, 0), size=(30, 20))
    assert texture.shape == (30, 20, 3) and texture.dtype == np.uint8
    assert len(np.unique(texture[:, 0, 0])) <= 3 and np.all(texture == texture[:, :1])
    bad = parse_texture_spec({"kinds": ["flat_texture"]}, source="s", field="t")
    with pytest.raises(synthscene.PluginError, match=r"plug-in 'flat_texture' .*returned a "
                                                     r"uint8 array of shape \(4, 4\)"):
        bad.sample(rng=frame_rng(0, 0), size=8)
