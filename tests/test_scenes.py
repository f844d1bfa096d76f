"""Every bundled scenario makes a valid dataset, and run hashes tell scenarios apart."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

import synthscene
from synthscene.config.loading import scenario_from_dict
from synthscene.physics.simulator import PhysicsSimulator
from synthscene.randomize.scene import sample_scene
from synthscene.resources import bundled_dir
from synthscene.run.frames import build_library, physics_settings
from synthscene.run.run_folder import scenario_sha256
from synthscene.seeding import frame_rng
from synthscene.tools.validate import validate_dataset

SCENES = sorted(p.name for p in bundled_dir("scenes").glob("*.yaml"))


def _small(name: str):
    path = bundled_dir("scenes") / name
    data = yaml.safe_load(path.read_text())
    data["image"] = {"width": 160, "height": 120}
    return scenario_from_dict(data, source=str(path), base_dir=path.parent)


def test_the_four_scenarios_are_bundled():
    assert {"tabletop.yaml", "bin_picking.yaml", "table_clutter.yaml",
            "flying_objects.yaml"} <= set(SCENES)


@pytest.mark.gl
@pytest.mark.parametrize("name", SCENES)
def test_each_bundled_scenario_makes_a_valid_dataset(tmp_path: Path, name: str):
    summary = synthscene.generate(_small(name), tmp_path / "ds", frames=2, seed=1)
    assert summary.frames == 2 and summary.instances > 0
    report = validate_dataset(tmp_path / "ds")
    assert report.ok, report.format()


def _world_hulls(library, obj) -> list[np.ndarray]:
    """The object's collision hulls in the world, metres: (n, 3) each."""
    pose = obj.world_from_object
    return [hull * obj.scale @ pose[:3, :3].T + pose[:3, 3]
            for hull in library.get(obj.asset_key).collision_hulls]


def test_bin_picking_parts_rest_on_the_tote_floor_not_in_or_under_it():
    # Small parts hit the tote's 2 cm floor at up to 2.6 m/s: with too long a step they pass
    # half through it in one step and are pushed out underneath.
    scenario = _small("bin_picking.yaml")
    library = build_library(scenario)
    checked = 0
    with PhysicsSimulator(library, physics_settings(scenario)) as physics:
        for index in range(10):
            rng = frame_rng(0, index)
            state = physics.settle(sample_scene(scenario, library, rng=rng, seed=(0, index)))
            (tote,) = [o for o in state.objects if o.physics == "static"]
            hulls = _world_hulls(library, tote)
            floor = max(hulls, key=lambda h: np.ptp(h[:, 0]) * np.ptp(h[:, 1]))
            floor_top = floor[:, 2].max()
            (x0, y0), (x1, y1) = floor[:, :2].min(0), floor[:, :2].max(0)
            for obj in state.objects:
                x, y = obj.world_from_object[:2, 3]
                if obj.physics != "dynamic" or not (x0 < x < x1 and y0 < y < y1):
                    continue
                lowest = min(h[:, 2].min() for h in _world_hulls(library, obj))
                assert lowest > floor_top - 3e-3, (index, obj.asset_key, lowest, floor_top)
                checked += 1
    assert checked > 50


def test_run_hash_tells_distributions_and_effects_apart():
    base = {"assets": [{"source": "primitive:box"}]}
    uniform = scenario_from_dict({**base, "objects": {"size_m": {"uniform": [0.05, 0.1]}}})
    log = scenario_from_dict({**base, "objects": {"size_m": {"loguniform": [0.05, 0.1]}}})
    noise1 = scenario_from_dict({**base, "effects": [{"name": "gaussian_noise", "sigma": 1}]})
    noise2 = scenario_from_dict({**base, "effects": [{"name": "gaussian_noise", "sigma": 2}]})
    image_texture = {"material": {"texture": {"kinds": ["image"]}}}
    texture = scenario_from_dict({**base, "ground": image_texture})
    hashes = [scenario_sha256(s, ["primitive:box"], ["box"])
              for s in (uniform, log, noise1, noise2, texture)]
    assert len(set(hashes)) == len(hashes)
    again = scenario_from_dict({**base, "effects": [{"name": "gaussian_noise", "sigma": 1}]})
    assert scenario_sha256(again, ["primitive:box"], ["box"]) == hashes[2]


def test_run_hash_does_not_depend_on_where_a_builtin_randomizer_lives(monkeypatch):
    """Moving a built-in's function to another module, or rewording its summary, changes no
    byte a run makes, so it must not stop a --resume; its name and parameters still count."""
    import dataclasses

    from synthscene.registry.effect_registry import EFFECTS

    base = {"assets": [{"source": "primitive:box"}],
            "effects": [{"name": "gaussian_noise", "sigma": 1}]}
    before = scenario_sha256(scenario_from_dict(base), ["primitive:box"], ["box"])
    entry = EFFECTS["gaussian_noise"]
    moved = dataclasses.replace(entry, summary="reworded", module="synthscene.somewhere.else",
                                run=lambda rgb, *, rng: rgb)
    monkeypatch.setitem(EFFECTS._entries, "gaussian_noise", moved)
    after = scenario_sha256(scenario_from_dict(base), ["primitive:box"], ["box"])
    assert after == before
