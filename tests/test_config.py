"""Scenario validation: errors name the file, the field and what is allowed."""

from __future__ import annotations

import math

import pytest

from synthscene.config.loading import load_scenario, scenario_from_dict
from synthscene.errors import ConfigError
from synthscene.registry.distributions import Choice, RandInt, Uniform, parse_distribution
from synthscene.resources import default_scene_path

MINIMAL = {"assets": [{"source": "primitive:box"}]}


def test_default_scene_is_valid():
    scenario = load_scenario(default_scene_path())
    spec = scenario.spec
    assert spec.image.width == 640 and spec.image.height == 480
    assert spec.objects.count == RandInt(10, 30)
    assert len(spec.assets) >= 8
    # _deg fields become radians when parsed.
    assert spec.camera.fov_rad.support() == pytest.approx((math.radians(45), math.radians(60)))


@pytest.mark.parametrize(
    ("data", "field", "fragment"),
    [
        ({**MINIMAL, "objectz": {}}, "objectz", "allowed fields here: name, description"),
        ({"assets": [{"source": "primitive:box", "colour": 1}]}, "assets[0].colour",
         "allowed fields here: source, category"),
        ({**MINIMAL, "objects": {"size_m": 0}}, "objects.size_m", "must be > 0"),
        ({**MINIMAL, "objects": {"size_m": {"uniform": [-0.1, 0.2]}}}, "objects.size_m",
         "must be > 0"),
        ({**MINIMAL, "objects": {"count": {"gauss": [1, 2]}}}, "objects.count",
         "uniform: [...], normal: [...]"),
        ({**MINIMAL, "objects": {"count": 2.5}}, "objects.count", "must be an integer"),
        ({**MINIMAL, "render": {"shading": "pbr"}}, "render.shading", "'lit' or 'flat'"),
        ({**MINIMAL, "lights": {"kind": {"choice": ["sun"]}}}, "lights.kind",
         "directional, point, spot"),
        ({**MINIMAL, "camera": {"fov_deg": 200}}, "camera", "fov_deg must lie in (0, 180)"),
        ({**MINIMAL, "image": {"width": 0}}, "image.width", "greater than 0"),
        ({}, "assets", "required"),
    ],
)
def test_errors_name_file_field_and_allowed_values(data, field, fragment):
    with pytest.raises(ConfigError) as info:
        scenario_from_dict(data, source="scenes/x.yaml")
    message = str(info.value)
    assert message.startswith(f"scenes/x.yaml: {field}: "), message
    assert fragment in message
    assert "\n" not in message


def test_yaml_syntax_error_and_missing_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("assets: [\n  - {source: primitive:box\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml: not valid YAML: line \d+"):
        load_scenario(bad)
    with pytest.raises(ConfigError, match="nope.yaml: scenario file not found"):
        load_scenario(tmp_path / "nope.yaml")


def test_distributions_syntax():
    assert parse_distribution({"uniform": [[0, 0, 0], [1, 1, 1]]}) == Uniform((0, 0, 0), (1, 1, 1))
    assert parse_distribution({"choice": [1, 2], "weights": [1, 3]}) == Choice((1.0, 2.0),
                                                                             (1.0, 3.0))
    for bad in ({"uniform": [2, 1]}, {"randint": [1.5, 3]}, {"normal": [0, -1]},
                {"loguniform": [0, 1]}, {"choice": []}, {"uniform": [1, 2], "normal": [0, 1]}):
        with pytest.raises(ValueError):
            parse_distribution(bad)


def test_physics_defaults_come_from_physics_settings():
    from synthscene.physics.settings import PhysicsSettings
    from synthscene.run.pipeline import physics_settings

    assert physics_settings(scenario_from_dict(MINIMAL)) == PhysicsSettings()
    given = scenario_from_dict({**MINIMAL, "physics": {"timestep_s": 0.005, "max_steps": 10}})
    settings = physics_settings(given)
    assert (settings.timestep, settings.max_steps) == (0.005, 10)
    assert settings.lateral_friction == PhysicsSettings().lateral_friction
    with pytest.raises(ConfigError, match="physics.timestep_s"):
        scenario_from_dict({**MINIMAL, "physics": {"timestep_s": 0}})


def test_scenario_from_dict_takes_base_dir_as_a_string(tmp_path):
    """``base_dir`` is a folder; a str is as good as a Path (it raised AttributeError)."""
    from synthscene.config.loading import scenario_from_dict

    scenario = scenario_from_dict({"assets": [{"source": "primitive:box"}]},
                                  base_dir=str(tmp_path))
    assert scenario.base_dir == tmp_path.resolve()
