"""Every bundled scenario makes a valid dataset, and run hashes tell scenarios apart."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import synthscene
from synthscene.config import scenario_from_dict
from synthscene.resources import bundled_dir
from synthscene.runfolder import scenario_sha256
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
