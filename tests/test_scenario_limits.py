"""A scenario cannot lift its own safety limits or hang a run: a file may only lower a limit,
raising one is for whoever runs it (``--limit NAME=VALUE``, ``limits=`` from Python); the physics
steps between the frames of a sequence are bounded; fields that would silently give something
else than asked (point tracks, a scalar velocity) are refused; the Python entry points refuse a
wrong argument at the call, naming it."""

from __future__ import annotations

import math
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from synthscene.cli import app
from synthscene.config import schema
from synthscene.config.limits import LIMIT_DEFAULTS
from synthscene.config.loading import load_scenario, scenario_from_dict
from synthscene.errors import ConfigError, OptionError
from synthscene.run.pipeline import generate, iter_samples

BOX = {"assets": [{"source": "primitive:box", "category": "box"}],
       "image": {"width": 64, "height": 48}}
SEQUENCE = {**BOX, "objects": {"count": 2}, "sequence": {"length": 2, "fps": 12.0}}


def _refused(data: dict, field: str, **kwargs) -> str:
    with pytest.raises(ConfigError) as caught:
        scenario_from_dict(data, source="scene.yaml", **kwargs)
    assert caught.value.field == field, str(caught.value)
    return caught.value.message


def _cli(tmp_path: Path, data: dict, *args: str, command: str = "generate"):
    scene = tmp_path / "scene.yaml"
    scene.write_text(yaml.safe_dump(data))
    out = ["--out", str(tmp_path / "out"), "--frames", "0", "-q"] if command == "generate" \
        else ["--out", str(tmp_path / "sheet.png")]
    return CliRunner().invoke(app, [command, str(scene), *out, *args])


def _one_line(result) -> str:
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code == 2 and len(lines) == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return lines[0]


# ------------------------------------------------------------------ a file may only lower a limit


@pytest.mark.parametrize(("data", "limit"), [
    ({**BOX, "limits": {"max_objects": 10_000_000}, "objects": {"count": 1_000_000}},
     "max_objects"),
    ({**BOX, "limits": {"max_objects": 10_000_000}, "distractors": {"count": 1_000_000}},
     "max_objects"),
    ({**BOX, "limits": {"max_lights": 1_000_000}, "lights": {"count": 1_000_000}},
     "max_lights"),
    ({**BOX, "limits": {"max_mesh_triangles": 10**9}}, "max_mesh_triangles"),
    ({**SEQUENCE, "limits": {"max_steps_between_frames": 10**12}}, "max_steps_between_frames"),
])
def test_a_scenario_file_cannot_raise_its_limits(data, limit):
    message = _refused(data, f"limits.{limit}")
    assert f"more than {LIMIT_DEFAULTS[limit]} (its default)" in message
    assert f"--limit {limit}=" in message


def test_whoever_runs_the_scenario_raises_a_limit(tmp_path):
    data = {**BOX, "limits": {"max_objects": 2000}, "objects": {"count": 1500}}
    spec = scenario_from_dict(data, limits={"max_objects": 5000}).spec
    assert spec.limits.max_objects == 2000  # the file's own, lower value holds
    spec = scenario_from_dict({**BOX, "objects": {"count": 1500}},
                              limits={"max_objects": 5000}).spec
    assert spec.limits.max_objects == 5000 and spec.limits.max_lights == schema.MAX_LIGHTS
    message = _refused({**BOX, "limits": {"max_objects": 5}, "objects": {"count": 10}},
                       "objects.count", limits={"max_objects": 5000})  # a file may lower one
    assert "limits.max_objects (5)" in message
    # ... but a file still cannot go above what the runner allowed
    _refused({**data, "limits": {"max_objects": 6000}}, "limits.max_objects",
             limits={"max_objects": 5000})
    path = tmp_path / "many.yaml"
    path.write_text(yaml.safe_dump({**BOX, "objects": {"count": 1500}}))
    assert load_scenario(path, limits={"max_objects": 1500}).spec.limits.max_objects == 1500
    with pytest.raises(ConfigError, match="objects.count"):
        load_scenario(path)
    # and on the command line (no frame is made: --frames 0)
    result = _cli(tmp_path, {**BOX, "objects": {"count": 1500}}, "--limit", "max_objects=1500")
    assert result.exit_code == 0, result.output
    line = _one_line(_cli(tmp_path, {**BOX, "objects": {"count": 1500}}))
    assert "objects.count" in line and "--limit max_objects=N" in line


@pytest.mark.parametrize(("args", "fragment"), [
    (["--limit", "max_object=5"], "unknown limit 'max_object'; limits: " + ", ".join(
        LIMIT_DEFAULTS)),
    (["--limit", "max_objects"], "not NAME=VALUE"),
    (["--limit", "max_objects=0"], "max_objects must be an integer >= 1, got 0"),
    (["--limit", "max_objects=1.5"], "must be an integer >= 1"),
    (["--limit", "max_objects=5", "--limit", "max_objects=6"], "given twice"),
])
@pytest.mark.parametrize("command", ["generate", "preview"])
def test_bad_limit_options_are_refused(tmp_path, args, fragment, command):
    line = _one_line(_cli(tmp_path, BOX, *args, command=command))
    assert line.startswith("synthscene: error: --limit: ") and fragment in line, line
    assert not (tmp_path / "out").exists() and not (tmp_path / "sheet.png").exists()


@pytest.mark.parametrize("limits", [{"max_object": 5}, {"max_objects": 0},
                                    {"max_objects": True}, {"max_objects": 2.5}, [5]])
def test_bad_limits_argument_is_an_option_error(limits):
    with pytest.raises(OptionError) as caught:
        scenario_from_dict(BOX, limits=limits)
    assert caught.value.source == "limits"


# ------------------------------------------------------------------ sequences


@pytest.mark.parametrize("fps", [1.0e-9, 0.001])
def test_steps_between_frames_are_bounded(tmp_path, fps):
    data = {**SEQUENCE, "sequence": {"length": 2, "fps": fps}}
    message = _refused(data, "sequence.fps")
    assert "limits.max_steps_between_frames (10000)" in message
    assert "give fps from 0.012 to 120" in message  # 1 / (timestep * limit), 1 / timestep
    line = _one_line(_cli(tmp_path, data, "--frames", "2"))  # refused before a step is taken
    assert "sequence.fps" in line
    assert not (tmp_path / "out" / "annotations.json").exists()
    # whoever runs it may allow more steps (and a smaller timestep counts the same way)
    scenario_from_dict(data | {"sequence": {"length": 2, "fps": 0.001}},
                       limits={"max_steps_between_frames": 120_000})
    _refused({**SEQUENCE, "physics": {"timestep_s": 1e-9}}, "sequence.fps")


def test_more_frames_than_physics_steps_is_refused():
    message = _refused({**SEQUENCE, "sequence": {"length": 2, "fps": 500.0}}, "sequence.fps")
    assert "objects would not move" in message and "give fps from 0.012 to 120" in message
    scenario_from_dict({**SEQUENCE, "sequence": {"length": 2, "fps": 120.0}})  # one step each
    # without physics nothing steps, so fps is free
    scenario_from_dict({**SEQUENCE, "sequence": {"length": 2, "fps": 500.0},
                        "physics": {"enabled": False}})


def test_unknown_key_of_sequence_lists_its_fields():
    message = _refused({**SEQUENCE, "sequence": {"fsp": 12}}, "sequence.fsp")
    assert "allowed fields here: length, fps, trajectory" in message
    message = _refused({**SEQUENCE, "render": {"motion_blur": {"shutter_s": 0.1, "x": 1}}},
                       "render.motion_blur.x")
    assert "allowed fields here: shutter_s, samples" in message


def test_more_point_tracks_than_pixels_is_refused():
    message = _refused({**SEQUENCE, "outputs": {"point_tracks": 100_000}},
                       "outputs.point_tracks")
    assert "64 x 48 = 3072" in message
    scenario_from_dict({**SEQUENCE, "outputs": {"point_tracks": 3072}})


@pytest.mark.parametrize("value", [1.0, {"uniform": [0, 1]}, {"choice": [1.0, 2.0]}])
@pytest.mark.parametrize("key", ["linear_m_s", "angular_deg_s"])
def test_a_velocity_needs_three_numbers(key, value):
    message = _refused({**SEQUENCE, "objects": {"initial_velocity": {key: value}}},
                       f"objects.initial_velocity.{key}")
    assert "must be 3 numbers" in message
    scenario_from_dict({**SEQUENCE, "objects": {"initial_velocity": {key: [1.0, 0.0, 0.0]}}})


# ------------------------------------------------------------------ the terminal


@pytest.mark.gl
def test_control_characters_of_a_name_do_not_reach_the_terminal(tmp_path):
    data = {**BOX, "objects": {"count": 1}, "name": "evil\x1b[31mred\rX\nline"}
    scene = tmp_path / "scene.yaml"
    scene.write_text(yaml.safe_dump(data))
    result = CliRunner().invoke(app, ["generate", str(scene), "--out", str(tmp_path / "out"),
                                      "--frames", "1", "-j", "1"])
    assert result.exit_code == 0, result.output
    assert re.search(r"evil\\x1b\[31mred\\rX\\nline", result.output), result.output
    assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", result.output.replace("\r", ""))
    assert "\x1b" not in result.output and "X\nline" not in result.output


# ------------------------------------------------------------------ Python API arguments


@pytest.fixture(scope="module")
def scenario():
    return scenario_from_dict({**BOX, "objects": {"count": 1}})


@pytest.mark.parametrize(("name", "value"), [
    ("frames", math.inf), ("frames", True), ("frames", 2.5), ("frames", -1), ("frames", "3"),
    ("seed", math.nan), ("start", -1)])
def test_iter_samples_refuses_a_bad_argument_at_the_call(scenario, name, value):
    kwargs = {"frames": 1, name: value}
    with pytest.raises(OptionError) as caught:
        iter_samples(scenario, **kwargs)  # the call, not the first frame
    assert caught.value.source == name


@pytest.mark.parametrize(("name", "value"), [
    ("frames", math.inf), ("frames", True), ("frames", 1.5), ("seed", -1), ("workers", 0),
    ("workers", 2.5)])
def test_generate_refuses_a_bad_argument_before_touching_the_folder(scenario, tmp_path, name,
                                                                   value):
    kwargs = {"frames": 1, name: value}
    with pytest.raises(OptionError) as caught:
        generate(scenario, tmp_path / "out", **kwargs)
    assert caught.value.source == name
    assert not (tmp_path / "out").exists()


def test_a_scenario_argument_may_be_a_path_and_nothing_else(tmp_path):
    path = tmp_path / "scene.yaml"
    path.write_text(yaml.safe_dump({**BOX, "objects": {"count": 1}}))
    with pytest.raises(OptionError, match="scenario: must be a Scenario"):
        iter_samples({"assets": []}, frames=1)
    with pytest.raises(ConfigError, match="scenario file not found"):
        iter_samples(str(tmp_path / "missing.yaml"), frames=1)
    assert list(iter_samples(str(path), frames=0)) == []


def test_library_warnings_do_not_precede_a_clean_error(tmp_path):
    """A mesh with huge coordinates makes trimesh warn (RuntimeWarning) while it is read; when
    a later asset is refused, the one error line is all that is printed."""
    (tmp_path / "huge.obj").write_text(
        "v 0 0 0\nv 1e300 0 0\nv 0 1e300 0\nv 0 0 1e300\nf 1 2 3\nf 1 2 4\nf 1 3 4\nf 2 3 4\n")
    (tmp_path / "sliver.obj").write_text("v 0 0 0\nv 1 0 0\nv 1e-12 1e-12 0\nf 1 2 3\n")
    (tmp_path / "scene.yaml").write_text(yaml.safe_dump(
        {**BOX, "assets": [{"source": "file:huge.obj"}, {"source": "file:sliver.obj"}]}))
    result = subprocess.run(
        [sys.executable, "-m", "synthscene.cli", "generate", "scene.yaml", "--out", "out",
         "--frames", "1", "-j", "1", "-q"], cwd=tmp_path, capture_output=True, text=True,
        timeout=120)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("synthscene: error: scene.yaml: assets[1].source: ")
