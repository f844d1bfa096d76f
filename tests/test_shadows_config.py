"""``render.shadows``: the YAML forms, the per-frame draw from its own stream, and datasets whose
labels are the same bytes with shadows on and off."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import yaml

import synthscene
from synthscene.config.loading import scenario_from_dict
from synthscene.randomize.scene import sample_scene
from synthscene.resources import bundled_dir
from synthscene.run.frames import build_library, render_settings
from synthscene.seeding import frame_rng

BASE = {"assets": [{"source": "primitive:box"}], "image": {"width": 64, "height": 48},
        "objects": {"count": 2}}


def _scenario(shadows):
    return scenario_from_dict({**BASE, "render": {"shadows": shadows}})


@pytest.mark.parametrize(("given", "probability"), [(True, 1.0), (False, 0.0),
                                                    ({"probability": 0.3}, 0.3)])
def test_the_yaml_forms(given, probability):
    assert _scenario(given).spec.render.shadows.probability == probability


def test_shadows_are_on_by_default_and_in_every_bundled_scenario():
    assert scenario_from_dict(BASE).spec.render.shadows.probability == 1.0
    assert render_settings(_scenario({"max_lights": 3})).shadow_lights == 3
    for path in bundled_dir("scenes").glob("*.yaml"):
        data = yaml.safe_load(path.read_text())
        shadows = data.get("render", {}).get("shadows", True)
        assert shadows is True or shadows.get("probability", 1.0) == 1.0, path.name


@pytest.mark.parametrize("bad", [0, "no", {"probability": 1.5}, {"softness_m": -0.01},
                                 {"softness": 0.01}, {"max_lights": -1},
                                 {"max_lights": 10**9}])
def test_bad_values_are_refused(bad):
    with pytest.raises(synthscene.errors.ConfigError, match="shadows"):
        _scenario(bad)


def _states(shadows, frames=40):
    scenario = _scenario(shadows)
    library = build_library(scenario)
    return [sample_scene(scenario, library, rng=frame_rng(3, i), seed=(3, i))
            for i in range(frames)]


def test_the_draw_is_per_frame_and_shifts_no_other_draw():
    half = _states({"probability": 0.5, "softness_m": {"uniform": [0.001, 0.02]}})
    never, always = _states(False), _states(True)
    drawn = [s.shadow_softness_m for s in half]
    assert 10 < sum(d is not None for d in drawn) < 30  # some frames with, some without
    assert all(d is None for d in (s.shadow_softness_m for s in never))
    assert all(0.002 <= s.shadow_softness_m <= 0.008 for s in always)  # the default range
    assert len({d for d in drawn if d is not None}) > 5  # softness drawn per frame
    for a, b, c in zip(half, never, always):  # everything else: the same draws
        for other in (b, c):
            assert [o.world_from_object.tobytes() for o in a.objects] == [
                o.world_from_object.tobytes() for o in other.objects]
            assert [light.world_from_light.tobytes() for light in a.lights] == [
                light.world_from_light.tobytes() for light in other.lights]
            assert a.camera.world_from_camera.tobytes() == other.camera.world_from_camera.tobytes()
            assert [o.material.base_color for o in a.objects] == [
                o.material.base_color for o in other.objects]
            assert (a.ambient_light, a.background_color, a.ground.material.base_color) == (
                other.ambient_light, other.background_color, other.ground.material.base_color)


def _digests(folder: Path) -> tuple[dict[str, str], dict[str, str]]:
    """SHA-256 of every file of a dataset but the run record: (labels, images)."""
    labels, images = {}, {}
    for path in sorted(folder.rglob("*")):
        name = str(path.relative_to(folder))
        if path.is_file() and not name.startswith(".synthscene"):
            target = images if name.startswith("images/") else labels
            target[name] = hashlib.sha256(path.read_bytes()).hexdigest()
    return labels, images


@pytest.mark.gl
@pytest.mark.slow
@pytest.mark.parametrize("name", ["tabletop.yaml", "bin_picking.yaml"])
def test_labels_are_the_same_bytes_with_shadows_on_and_off(tmp_path: Path, name: str):
    path = bundled_dir("scenes") / name
    data = yaml.safe_load(path.read_text())
    data["image"] = {"width": 160, "height": 120}
    data["outputs"] = {**data.get("outputs", {}), "depth_png": True, "instance_mask": True,
                       "semantic_mask": True}
    digests = {}
    for shadows in (True, False):
        data["render"] = {**data.get("render", {}), "shadows": shadows}
        scenario = scenario_from_dict(data, source=str(path), base_dir=path.parent)
        out = tmp_path / str(shadows)
        synthscene.generate(scenario, out, frames=2, seed=5)
        digests[shadows] = _digests(out)
    assert len(digests[True][0]) >= 7  # annotations.json and three maps per frame
    assert digests[True][0] == digests[False][0]
    assert len(digests[True][1]) == 2
    assert digests[True][1] != digests[False][1]  # the shadows are in the images
