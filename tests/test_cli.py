"""The command line: bad input gives one clear line and exit status 2, never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

GOOD = """
image: {width: 160, height: 120}
assets: [{source: "primitive:box"}]
objects: {count: 3}
"""


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "synthscene.cli", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def assert_clean_error(result: subprocess.CompletedProcess, *fragments: str) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    lines = [line for line in result.stderr.splitlines() if line.startswith("synthscene: error")]
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.mark.parametrize(
    ("yaml_text", "fragments"),
    [
        (GOOD + "colour: red\n", ["scene.yaml: colour: unknown field"]),
        (GOOD.replace("objects: {count: 3}", "objects: {count: 3, size_m: -0.1}"),
         ["scene.yaml: objects.size_m: must be > 0"]),
        (GOOD.replace('"primitive:box"', '"file:missing/cup.obj"'),
         ["scene.yaml: assets[0].source", "cup.obj"]),
        (GOOD.replace('"primitive:box"', '"file:broken.obj"'),
         ["scene.yaml: assets[0].source", "broken.obj"]),
        (GOOD.replace("objects: {count: 3}", "objects: {count: 3, placement: {name: stable}}")
         + "ground: {enabled: false}\n",
         ["scene.yaml", "objects.placement.surfaces", "'ground' needs ground.enabled"]),
        (GOOD.replace("objects: {count: 3}", "objects: {count: 3, placement: {name: stable, "
                                             "surfaces: [ground, 'fixture:shelf']}}"),
         ["scene.yaml", "objects.placement.surfaces", "'fixture:shelf' names no fixture"]),
    ],
)
def test_bad_scenario(tmp_path, yaml_text, fragments):
    (tmp_path / "scene.yaml").write_text(yaml_text)
    (tmp_path / "broken.obj").write_bytes(b"\x00\x01 this is not a mesh \xff" * 10)
    result = run("generate", "scene.yaml", "--out", "out", "--frames", "1", "--quiet",
                 cwd=tmp_path)
    assert_clean_error(result, *fragments)
    assert not (tmp_path / "out" / "annotations.json").exists()


@pytest.mark.gl
def test_unwritable_output_and_success(tmp_path):
    (tmp_path / "scene.yaml").write_text(GOOD)
    (tmp_path / "a_file").write_text("")
    result = run("generate", "scene.yaml", "--out", "a_file/out", "--frames", "1", "--quiet",
                 cwd=tmp_path)
    assert_clean_error(result, "a_file")
    args = ("generate", "scene.yaml", "--out", "out", "--frames", "3", "--quiet")
    result = run(*args, "--workers", "2", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    annotations = (tmp_path / "out" / "annotations.json").read_bytes()
    instances = len(json.loads(annotations)["annotations"])
    assert f"3 frames, {instances} instances" in result.stdout
    assert "frames/s with 2 workers" in result.stdout
    assert "time per stage, summed over workers: sample" in result.stdout
    # --resume of a finished run: nothing to make, nothing rewritten
    result = run(*args, "--resume", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "nothing to make" in result.stdout
    assert (tmp_path / "out" / "annotations.json").read_bytes() == annotations


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--resume", "--overwrite"], "--resume and --overwrite exclude each other"),
        (["--address", "auto"], "--address needs --executor ray"),
    ],
)
def test_conflicting_options(tmp_path, args, fragment):
    (tmp_path / "scene.yaml").write_text(GOOD)
    result = run("generate", "scene.yaml", "--out", "out", "--frames", "1", "--quiet", *args,
                 cwd=tmp_path)
    assert_clean_error(result, fragment)
    assert not (tmp_path / "out").exists()
