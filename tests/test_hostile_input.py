"""Hostile scenarios: every bad input ends in one line naming the file and the field, exit status
2, no traceback, in bounded time, and leaves nothing that looks like a finished dataset.

The bad scenarios are made here by mutating one good scenario field by field (NaN, infinities,
1e308, negative numbers, wrong types, bools for numbers, strings, empty lists, vectors of the
wrong length, unknown keys at every level, huge counts), plus YAML-level attacks (duplicate keys,
deep nesting, NUL bytes, ``!!binary`` and ``!!python`` tags, recursive and exponential aliases),
files that are not regular files (``/dev/zero``, FIFOs, symbolic link loops), broken meshes and
huge images. Most run in-process through the CLI's app (typer's CliRunner); a handful through a
real ``python -m synthscene.cli`` process.
"""

from __future__ import annotations

import contextlib
import copy
import math
import os
import re
import signal
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from synthscene.cli import app
from synthscene.config.fields import MAX_MESH_TRIANGLES
from synthscene.config.loading import scenario_from_dict

SECONDS = 20.0
"""Most seconds a refused scenario may take in-process (it takes milliseconds; the margin is
for a loaded machine)."""
SCENE = "scene.yaml"
NAN, INF = float("nan"), float("inf")

GOOD = {
    "image": {"width": 64, "height": 48},
    "assets": [{"source": "primitive:box", "category": "box"}],
    "objects": {
        "count": 2,
        "size_m": {"uniform": [0.05, 0.1]},
        "drop_region": {"x_m": [-0.1, 0.1], "y_m": [-0.1, 0.1], "z_m": [0.05, 0.2]},
        "material": {"base_color": [0.5, 0.5, 0.5], "metallic": 0.1, "roughness": 0.5,
                     "texture": {"kinds": ["perlin"], "perlin": {"scale_px": 20}}},
    },
    "ground": {"size_m": 2.0, "material": {"roughness": 0.8}},
    "lights": {"count": 2, "distance_m": 2.0, "point_intensity": 4.0, "color": [1, 1, 1]},
    "camera": {"distance_m": 1.0, "roll_deg": 0, "fov_deg": 50,
               "look_at": {"x_m": [0, 0], "y_m": [0, 0], "z_m": [0, 0]},
               "poses": [{"position_m": [0, 0, 1], "look_at_m": [0, 0, 0]}]},
    "distractors": {"count": 1, "size_m": 0.05, "floating_probability": 0.5,
                    "assets": [{"source": "primitive:sphere"}]},
    "fixtures": [{"source": "primitive:box", "size_m": 0.3, "position_m": [0.5, 0.5],
                  "yaw_deg": 10}],
    "room": {"enabled": False, "height_m": 1.5},
    "background": {"color": 0.2, "image_probability": 1.0},
    "physics": {"timestep_s": 0.01, "max_steps": 100, "lateral_friction": 0.5,
                "restitution": 0.1},
    "render": {"shading": "lit", "msaa_samples": 1, "png_compression": 1},
    "effects": [{"name": "gaussian_noise", "sigma": 2}],
    "outputs": {"depth_png": False},
    "labels": {"min_visible_px": 1, "min_visib_fract": 0.0},
    "limits": {"max_objects": 100},
}

# ------------------------------------------------------------------ the mutations
# What each kind of field must refuse. Every value here is wrong for every field of its kind.
NUMBER = [NAN, INF, -INF, 1e308, -1e308, "abc", True, None, {"uniform": [0, NAN]},
          {"gauss": [1, 2]}]
DIST_NUMBER = [*NUMBER, [], {"uniform": [0, 1e308]}, {"choice": []}]
POSITIVE = [-1, 0, {"uniform": [-1, 1]}, {"normal": [1, 1]}]
FIELDS: dict[str, list] = {
    # distribution-valued numbers
    "objects.size_m": [*DIST_NUMBER, *POSITIVE, [0.1, 0.2]],
    "objects.material.metallic": [*DIST_NUMBER, 2, -0.5],
    "objects.material.roughness": [NAN, INF, 1.5, "rough", True],
    "objects.material.base_color": [NAN, [0.1, 0.2], [0.1, 0.2, 0.3, 0.4], [], [[0.1]],
                                    [0.5, NAN, 0.5], [0.5, True, 0.5], "red", 1.5],
    "objects.material.texture.perlin.scale_px": [NAN, INF, 1e308, 0, 1e-6, 0.5, "big", True],
    "objects.material.texture.probability": [NAN, 2, True, "often"],
    "lights.distance_m": [*DIST_NUMBER, *POSITIVE],
    "lights.point_intensity": [NAN, INF, 1e308, -1, "bright", True],
    "lights.color": [NAN, [1, 1], [1, 1, 1, 1], [], 2],
    "lights.elevation_deg": [NAN, INF, 1e308, 95, -120, True],
    "lights.spot_outer_cone_deg": [NAN, 0, 100, 1e308],
    "camera.distance_m": [*DIST_NUMBER, *POSITIVE],
    "camera.roll_deg": DIST_NUMBER,
    "camera.fov_deg": [NAN, INF, 0, 180, 200, -10, 1e308, True],
    "camera.azimuth_deg": [NAN, INF, 1e308, "north", True],
    "camera.focal_jitter": [NAN, 0, -1, 1e308, True],
    "camera.principal_point_jitter_px": [NAN, INF, 1e308, "x", True, [1, 2]],
    "distractors.size_m": [NAN, INF, 1e308, -1, 0, True],
    "fixtures[0].size_m": [NAN, INF, 1e308, -1, 0, "big", True],
    "fixtures[0].yaw_deg": [NAN, INF, 1e308, True, "left"],
    "background.color": [NAN, INF, [1, 1], 2, True],
    "effects[0].sigma": [NAN, INF, 1e308, -1, True, "loud"],
    "effects[0].probability": [NAN, 2, -1, True],
    # counts
    "objects.count": [2.5, -1, True, "3", NAN, INF, 1e9, 1e308, 1_000_000, [],
                      {"randint": [0, 1e9]}, {"randint": [0, 1_000_000]}, {"normal": [5, 1]},
                      {"uniform": [1, 5]}, {"choice": [1, 2.5]}],
    "distractors.count": [2.5, -1, True, NAN, 1e9, 1_000_000],
    "lights.count": [-1, True, 1.5, 10_000, 1e9],
    # plain numbers
    "ground.size_m": [*NUMBER, -1, 0, 1e6, [], [1, 2]],
    "room.height_m": [NAN, INF, 1e308, -1, 0, True, "tall"],
    "camera.znear_m": [NAN, INF, 1e308, -1, 0, True, 200.0],
    "camera.zfar_m": [NAN, INF, 1e308, -1, 0.001, True],
    "distractors.floating_probability": [NAN, INF, -0.1, 1.5, True, "half"],
    "background.image_probability": [NAN, INF, 1.5, True],
    "physics.timestep_s": [NAN, INF, 1e308, -1, 0, 1.0, True, "fast"],
    "physics.lateral_friction": [NAN, INF, 1e308, -1, True],
    "physics.restitution": [NAN, INF, 2, -1, True],
    "labels.min_visib_fract": [NAN, INF, 2, -1, True],
    # integers
    "image.width": [NAN, 1.5, 640.0, True, "640", None, -1, 0, 10**12, []],
    "image.height": [NAN, 2.5, True, "480", 0, 10**12],
    "camera.min_visible_objects": [-1, 1.5, True, 100, 10**30],
    "camera.max_tries": [0, -1, 1.5, True, 10**12],
    "physics.max_steps": [0, -1, 1.5, True, 10**12, 1e12, "many"],
    "render.png_compression": [-1, 10, 1.5, True, "max"],
    "render.msaa_samples": [3, 0, 16, "4x", True],
    "labels.min_visible_px": [0, -1, 1.5, True, "1"],
    "limits.max_objects": [0, -1, 1.5, True, "lots"],
    "limits.max_mesh_triangles": [0, -5, NAN, True],
    # vectors of coordinates
    "objects.drop_region.x_m": [[NAN, 0.1], [-0.1, INF], [1e308, 1e308], [0.1], [0, 0.1, 0.2],
                                [0.2, 0.1], "ab", [True, 0.1], [], None],
    "camera.look_at.z_m": [[NAN, 0], [0], [-INF, 0]],
    "fixtures[0].position_m": [[NAN, 0], [0, INF], [1e308, 0], [0], [0, 0, 0], "middle",
                               [True, 0], []],
    "camera.poses[0].position_m": [[0, 0, NAN], [0, 0], [0, 0, 1, 1], [0, 0, 0],
                                   [0, 0, 1e308]],
    "camera.poses[0].look_at_m": [[0, 0, 1], [INF, 0, 0], "origin"],
    # booleans, strings, choices
    "ground.enabled": [1, "yes", None, 1.0],
    "render.shadows": [0, "no"],
    "outputs.depth_png": [1, "true"],
    "physics.enabled": [None, 2],
    "objects.material.keep_asset_texture": [1, "on"],
    "name": [5, True, None, [], {"a": 1}],
    "description": [5, None, ["a"]],
    "assets[0].source": ["", 5, None, "primitive:blob", "nope:box", "file:missing.obj"],
    "assets[0].category": [5, True, [], ""],
    "background.images": ["", 5, "no_such_folder"],
    "render.shading": ["pbr", 1, None],
    "camera.sampler": ["orbit", 0],
    "objects.asset_sampling": ["random", True],
    "lights.kind": ["sun", {"choice": ["point", "sun"]}, 1],
    "effects[0].name": ["sharpen", 5],
    # empty or wrong containers
    "assets": [[], {}, "primitive:box", None, [None], ["primitive:box"]],
    "objects": [[], 5, "many", None],
    "camera.poses": [{}, [5], "here"],
    "fixtures": [{}, "tote", [None]],
    "effects": [{}, "noise", [5], [{"name": "gaussian_blur", "sigma_px": 1e6}],
                [{"name": "motion_blur", "length_px": 10_000}],
                [{"name": "defocus_blur", "radius_px": 1e5}]],
    "objects.material.texture": [{"kinds": ["blobs"], "blobs": {"scale_px": 1e-6}},
                                 {"kinds": ["sparkles"]}, {"kinds": []}, "perlin"],
}

# Every mapping of the scenario, for unknown keys at every level.
SECTIONS = ["", "image", "assets[0]", "objects", "objects.drop_region", "objects.material",
            "objects.material.texture", "objects.material.texture.perlin", "ground",
            "ground.material", "lights", "camera", "camera.look_at", "camera.poses[0]",
            "distractors", "distractors.material", "fixtures[0]", "fixtures[0].material", "room",
            "background", "physics", "render", "outputs", "labels", "limits", "effects[0]"]

# Bad combinations of good values.
COMBINATIONS = [
    ({"camera.sampler": "fixed", "camera.poses": []}, "camera"),
    ({"camera.znear_m": 10.0, "camera.zfar_m": 5.0}, "camera"),
    ({"lights.color_temperature_k": 3000}, "lights"),
    ({"lights.color_temperature_k": 100}, "lights.color_temperature_k"),
    ({"outputs.amodal": False, "labels.min_visib_fract": 0.5}, ""),
    ({"objects.count": 80, "distractors.count": 40}, "distractors.count"),
    ({"camera.min_visible_objects": 3}, "camera.min_visible_objects"),
    ({"limits.max_lights": 1}, "lights.count"),
]


def _split(path: str) -> list:
    """``"fixtures[0].size_m"`` -> ``["fixtures", 0, "size_m"]``."""
    out: list = []
    for part in path.split("."):
        name, *indices = re.split(r"\[(\d+)\]", part)
        if name:
            out.append(name)
        out += [int(i) for i in indices if i != ""]
    return out


def mutated(changes: dict[str, object]) -> dict:
    """GOOD with each dotted path set to its value (mappings made on the way)."""
    data = copy.deepcopy(GOOD)
    for path, value in changes.items():
        parts = _split(path)
        node = data
        for part in parts[:-1]:
            if isinstance(part, str) and part not in node:
                node[part] = {}
            node = node[part]
        node[parts[-1]] = value
    return data


def _cases() -> list:
    cases = []
    for path, values in FIELDS.items():
        for i, value in enumerate(values):
            cases.append(pytest.param({path: value}, path, id=f"{path}={value!r}"[:80] + f"#{i}"))
    for section in SECTIONS:
        key = f"{section}.bogus_key" if section else "bogus_key"
        cases.append(pytest.param({key: 1}, key, id=f"unknown key in {section or 'root'}"))
    for changes, field in COMBINATIONS:
        cases.append(pytest.param(changes, field, id="+".join(changes)))
    return cases


MUTATIONS = _cases()

# ------------------------------------------------------------------ running and judging


@contextlib.contextmanager
def deadline(seconds: float = SECONDS):
    """Fail (instead of hanging the suite) if the block takes longer than ``seconds``."""
    def expire(*_):
        raise TimeoutError(f"took more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def generate(folder: Path, scene: str | Path = SCENE, *args: str):
    """Run ``synthscene generate`` in-process (CliRunner); return the result and seconds."""
    start = time.monotonic()
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        with deadline():
            result = CliRunner().invoke(app, ["generate", str(scene), "--out", "out",
                                              "--frames", "1", "--workers", "1", "--quiet",
                                              *args])
    finally:
        os.chdir(cwd)
    return result, time.monotonic() - start


def error_line(output: str, exit_code: int, exception: BaseException | None = None) -> str:
    """The one ``synthscene: error:`` line of a refused run (asserting that it is one)."""
    assert exit_code == 2, (exit_code, output, exception)
    assert "Traceback" not in output, output
    assert exception is None or isinstance(exception, SystemExit), repr(exception)
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1, output
    assert lines[0].startswith("synthscene: error: "), lines[0]
    return lines[0][len("synthscene: error: "):]


def assert_names(line: str, source: str, field: str) -> None:
    """``line`` is ``SOURCE: FIELD: reason`` where FIELD is the mutated field, a parent of it
    (a check across its section, which then names the leaf in its reason) or a part of it."""
    assert line.startswith(f"{source}: "), line
    rest = line[len(source) + 2:]
    named = rest.split(": ", 1)[0] if ": " in rest else ""
    if not field:
        return
    assert named == field or field.startswith(named) or named.startswith(field), (line, field)
    assert str(_split(field)[-1]) in line, line


def assert_no_dataset(folder: Path) -> None:
    assert not (folder / "out" / "annotations.json").exists()


def write_scene(folder: Path, data: dict | str) -> Path:
    path = folder / SCENE
    if isinstance(data, str):
        path.write_text(data)
    else:
        path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


# ------------------------------------------------------------------ the tests


def test_the_good_scenario_is_good():
    """The mutations start from a scenario that is accepted, so each refusal is the mutation's."""
    scenario = scenario_from_dict(mutated({}), source=SCENE)
    assert scenario.spec.objects.count.support() == (2, 2)
    assert len(MUTATIONS) >= 400


@pytest.mark.parametrize(("changes", "field"), MUTATIONS)
def test_mutated_field_is_refused(tmp_path, changes, field):
    write_scene(tmp_path, mutated(changes))
    result, seconds = generate(tmp_path)
    line = error_line(result.output, result.exit_code, result.exception)
    assert_names(line, SCENE, field)
    assert seconds < SECONDS
    assert_no_dataset(tmp_path)


GOOD_TEXT = yaml.safe_dump(GOOD, sort_keys=False)
BOX = "assets: [{source: 'primitive:box'}]\n"


def _billion_laughs() -> str:
    lines = ["a0: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]"]
    for i in range(1, 10):
        lines.append(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]")
    return BOX + "\n".join(lines) + "\n"


YAML_TEXTS = [
    pytest.param(GOOD_TEXT + "objects: {count: 3}\n", "objects", "given twice", id="dup-root"),
    pytest.param(BOX + "objects:\n  count: 3\n  count: 4\n", "objects.count", "given twice",
                 id="dup-nested"),
    pytest.param("assets: [{source: 'primitive:box', source: 'primitive:sphere'}]\n",
                 "assets[0].source", "given twice", id="dup-in-list"),
    pytest.param(BOX + "camera: {poses: [{position_m: [0, 0, 1], position_m: [0, 0, 2], "
                 "look_at_m: [0, 0, 0]}]}\n", "camera.poses[0].position_m", "given twice",
                 id="dup-deep"),
    pytest.param(BOX + "name: a\x00b\n", "", "NUL byte", id="nul-byte"),
    pytest.param(BOX + "description: !!binary aGVsbG8=\n", "description", "!!binary",
                 id="binary-tag"),
    pytest.param(BOX + "name: !!python/object/apply:os.system ['true']\n", "name",
                 "!!python/object/apply:os.system", id="python-tag"),
    pytest.param(BOX + "name: !!set {a, b}\n", "name", "!!set", id="set-tag"),
    pytest.param(BOX + "description: 2024-01-01\n", "description", "!!timestamp",
                 id="date"),
    pytest.param(BOX + "objects: &a {material: *a}\n", "objects.material", "recursive",
                 id="recursive-alias"),
    pytest.param(_billion_laughs(), "", "aliases are expanded", id="billion-laughs"),
    pytest.param(BOX + "a0: &a0 " + "[" * 60 + "]" * 60 + "\n" + "".join(
        f"a{i}: &a{i} " + "[" * 60 + f"*a{i - 1}" + "]" * 60 + "\n" for i in range(1, 40)),
        "", "nested more than 64 deep through aliases", id="deep-through-aliases"),
    pytest.param(BOX + "x: " + "[" * 20000 + "]" * 20000 + "\n", "", "nest",
                 id="deep-flow-lists"),
    pytest.param(BOX + "x: " + "{a: " * 5000 + "1" + "}" * 5000 + "\n", "", "nested more than",
                 id="deep-flow-maps"),
    pytest.param(BOX + "".join(f"{'  ' * i}k{i}:\n" for i in range(200)) + "  " * 200 + "1\n",
                 "", "nested more than", id="deep-block-maps"),
    pytest.param(BOX + "x:\n" + "- " * 100 + "1\n", "", "nested more than",
                 id="deep-block-list"),
    pytest.param(BOX + "objects: {count: 3\n", "", "not valid YAML: line", id="syntax"),
    pytest.param(BOX + "objects:\n\tcount: 3\n", "", "not valid YAML", id="tab-indent"),
    pytest.param("", "", "a scenario must be a mapping", id="empty-file"),
    pytest.param("- a\n- b\n", "", "a scenario must be a mapping", id="top-level-list"),
    pytest.param("just text\n", "", "a scenario must be a mapping", id="top-level-scalar"),
    pytest.param(BOX + "? [1, 2]\n: 3\n", "", "unhashable", id="list-as-key"),
    pytest.param(BOX + "objects: {count: .nan}\n", "objects.count", "", id="yaml-nan"),
    pytest.param(BOX + "objects: {count: .inf}\n", "objects.count", "", id="yaml-inf"),
    pytest.param(BOX + "objects: {size_m: 1e308}\n", "objects.size_m", "", id="yaml-1e308"),
    pytest.param(BOX + "objects: {size_m: 1e309}\n", "objects.size_m", "", id="yaml-overflow"),
    pytest.param(BOX + "objects: {count: 0x7fffffffffffffffff}\n", "objects.count", "",
                 id="yaml-huge-hex"),
    pytest.param('{"assets": [{"source": "primitive:box"}], "objects": {"count": NaN}}\n',
                 "objects.count", "", id="json-nan"),
    pytest.param('{"assets": [{"source": "primitive:box"}], "x": ' + "[" * 20000 + "]" * 20000
                 + "}\n", "", "nest", id="json-deep"),
]


@pytest.mark.parametrize(("text", "field", "fragment"), YAML_TEXTS)
def test_hostile_yaml_is_refused(tmp_path, text, field, fragment):
    write_scene(tmp_path, text)
    result, seconds = generate(tmp_path)
    line = error_line(result.output, result.exit_code, result.exception)
    assert_names(line, SCENE, field)
    assert fragment in line
    assert seconds < SECONDS
    assert_no_dataset(tmp_path)


def test_anchors_and_merge_keys_are_still_welcome():
    """The YAML checks refuse attacks, not YAML: anchors, aliases and merge keys still work."""
    from synthscene.config.loading import parse_scenario_text

    text = BOX + ("objects:\n  material: &shiny {metallic: 0.9, roughness: 0.2}\n"
                  "distractors:\n  material:\n    <<: *shiny\n    roughness: 0.5\n")
    data = parse_scenario_text(text, source=SCENE)
    assert data["distractors"]["material"] == {"metallic": 0.9, "roughness": 0.5}
    spec = scenario_from_dict(data, source=SCENE).spec
    assert spec.distractors.material.metallic.support() == (0.9, 0.9)


def test_not_utf8_and_too_large_files(tmp_path):
    (tmp_path / "latin1.yaml").write_bytes(BOX.encode() + b"name: caf\xe9\n")
    (tmp_path / "huge.yaml").write_text(BOX + "description: '" + "x" * (2 << 20) + "'\n")
    for name, fragment in (("latin1.yaml", "not UTF-8"), ("huge.yaml", "larger than the limit")):
        result, seconds = generate(tmp_path, name)
        line = error_line(result.output, result.exit_code, result.exception)
        assert line.startswith(f"{name}: cannot read the scenario file"), line
        assert fragment in line and seconds < SECONDS
    assert_no_dataset(tmp_path)


def _special_files(folder: Path) -> dict[str, tuple[Path, str]]:
    """Paths that are not regular files, and the words that must name what they are."""
    fifo = folder / "pipe.yaml"
    os.mkfifo(fifo)
    loop = folder / "loop.yaml"
    loop.symlink_to(loop.name)
    (folder / "a_folder.yaml").mkdir()
    return {
        "dev-zero": (Path("/dev/zero"), "character device"),
        "dev-urandom": (Path("/dev/urandom"), "character device"),
        "fifo": (fifo, "FIFO"),
        "symlink-loop": (loop, "symbolic link loop"),
        "folder": (folder / "a_folder.yaml", "a folder"),
        "missing": (folder / "missing.yaml", "scenario file not found"),
    }


@pytest.mark.parametrize("kind", ["dev-zero", "dev-urandom", "fifo", "symlink-loop", "folder",
                                  "missing"])
def test_scenario_that_is_not_a_regular_file(tmp_path, kind):
    path, fragment = _special_files(tmp_path)[kind]
    result, seconds = generate(tmp_path, path)
    line = error_line(result.output, result.exit_code, result.exception)
    assert line.startswith(f"{path}: "), line
    assert fragment in line and seconds < SECONDS
    assert_no_dataset(tmp_path)


# ------------------------------------------------------------------ meshes


def _binary_stl(triangles) -> bytes:
    data = b"\0" * 80 + struct.pack("<I", len(triangles))
    for tri in triangles:
        data += struct.pack("<12fH", 0, 0, 1, *[c for v in tri for c in v], 0)
    return data


MESHES = {
    "nan.obj": ("v 0 0 0\nv 1 0 0\nv 0 1 0\nv nan 0 1\nf 1 2 3\nf 1 2 4\n", "non-finite"),
    "all_nan.obj": ("v nan 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n", "non-finite"),
    "inf.obj": ("v 0 0 0\nv 1 0 0\nv 0 1 0\nv 0 0 -inf\nf 1 2 3\nf 1 2 4\n", "non-finite"),
    "nan_ascii.stl": ("solid s\nfacet normal 0 0 1\nouter loop\nvertex 0 0 0\nvertex 1 0 0\n"
                      "vertex NaN 1 0\nendloop\nendfacet\nendsolid s\n", "non-finite"),
    "nan_binary.stl": (_binary_stl([[(0, 0, 0), (1, 0, 0), (NAN, 1, 0)]]), "non-finite"),
    "inf.off": ("OFF\n3 1 0\n0 0 0\n1 0 0\ninf 1 0\n3 0 1 2\n", "non-finite"),
    "flat.obj": ("v 0 0 0\nv 1 0 0\nv 2 0 0\nf 1 2 3\n", "zero surface area"),
    "point.obj": ("v 1 1 1\nv 1 1 1\nv 1 1 1\nf 1 2 3\n", "zero"),
    "no_faces.obj": ("v 0 0 0\nv 1 0 0\nv 0 1 0\n", "no triangles"),
    "empty.stl": ("", "no triangles"),
    "garbage.obj": (b"\x00\x01 this is not a mesh \xff" * 10, "not a text .obj file"),
    "garbage.glb": (b"glTF" + b"\xff" * 40, "cannot read mesh"),
    "big_header.stl": (b"\0" * 80 + struct.pack("<I", 2_300_000), "no triangles"),
    "over_budget.stl": (_binary_stl([[(0, 0, 0), (1, 0, 0), (0, 1, 0)]] * 3 +
                                    [[(0, 0, 0), (0, 1, 0), (0, 0, 1)]] * 20),
                        "more than limits.max_mesh_triangles (16)"),
    "over_budget.obj": ("v 0 0 0\nv 1 0 0\nv 0 1 0\nv 0 0 1\n" + "f 1 2 3\nf 1 2 4\n" * 9,
                        "more than limits.max_mesh_triangles (16)"),
}


def _mesh_path(folder: Path, name: str) -> tuple[Path, str]:
    if name in MESHES:
        content, fragment = MESHES[name]
        path = folder / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        return path, fragment
    if name == "fifo.obj":
        os.mkfifo(folder / name)
        return folder / name, "FIFO"
    if name == "zero.stl":
        (folder / name).symlink_to("/dev/zero")
        return folder / name, "character device"
    if name == "loop.obj":
        (folder / name).symlink_to(name)
        return folder / name, "symbolic link loop"
    if name == "folder.obj":
        (folder / name).mkdir()
        return folder / name, "is a folder"
    return folder / name, "not found"


MESH_NAMES = [*MESHES, "fifo.obj", "zero.stl", "loop.obj", "folder.obj", "missing.obj"]
MESH_FIELDS = ["assets[0].source", "fixtures[0].source", "distractors.assets[0].source"]


@pytest.mark.parametrize("field", MESH_FIELDS)
@pytest.mark.parametrize("name", MESH_NAMES)
def test_bad_mesh_is_refused(tmp_path, name, field):
    path, fragment = _mesh_path(tmp_path, name)
    data = mutated({field: f"file:{path.name}", "limits.max_mesh_triangles": 16})
    write_scene(tmp_path, data)
    result, seconds = generate(tmp_path)
    line = error_line(result.output, result.exit_code, result.exception)
    assert line.startswith(f"{SCENE}: {field}: "), line
    assert path.name in line and fragment in line, line
    assert seconds < SECONDS
    assert_no_dataset(tmp_path)


# ------------------------------------------------------------------ images


def _png_header(width: int, height: int) -> bytes:
    """A PNG whose header says ``width`` x ``height`` (its pixel data is missing)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2,
                                                             0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b""))


def _jpeg_header(width: int, height: int) -> bytes:
    """The start of a baseline JPEG whose frame header says ``width`` x ``height``."""
    frame = struct.pack(">BHHB", 8, height, width, 3) + b"\x01\x22\x00\x02\x11\x01\x03\x11\x01"
    return (b"\xff\xd8" + b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01"
            b"\x00\x01\x00\x00" + b"\xff\xc0" + struct.pack(">H", 2 + len(frame)) + frame
            + b"\xff\xd9")


IMAGE_FIELDS = {
    "background.images": ("background.images", "background image"),
    "objects.material.texture": ("objects.material.texture.image.folder", "texture image"),
    "ground.material.texture": ("ground.material.texture.image.folder", "texture image"),
}


@pytest.mark.parametrize("where", list(IMAGE_FIELDS))
@pytest.mark.parametrize("kind", ["huge", "bomb", "fifo", "dev-zero", "empty-folder",
                                  "missing-folder"])
def test_bad_image_is_refused(tmp_path, where, kind):
    images = tmp_path / "images_in"
    fragment = {"huge": "60000 x 60000 pixels", "bomb": "too large", "fifo": "FIFO",
                "dev-zero": "character device", "empty-folder": "holds no image",
                "missing-folder": "not found"}[kind]
    if kind != "missing-folder":
        images.mkdir()
    if kind == "huge":
        (images / "holiday.png").write_bytes(_png_header(60000, 60000))
    elif kind == "bomb":
        (images / "holiday.jpg").write_bytes(_jpeg_header(65000, 65000))
    elif kind == "fifo":
        os.mkfifo(images / "holiday.png")
    elif kind == "dev-zero":
        (images / "holiday.jpg").symlink_to("/dev/zero")
    field, _ = IMAGE_FIELDS[where]
    if where == "background.images":
        changes = {where: images.name}
        if kind == "missing-folder":
            fragment = "no such folder"
    else:
        changes = {where: {"kinds": ["image"], "image": {"folder": images.name}}}
    write_scene(tmp_path, mutated(changes))
    result, seconds = generate(tmp_path)
    line = error_line(result.output, result.exit_code, result.exception)
    assert line.startswith(f"{SCENE}: {field}: "), line
    assert fragment in line and seconds < SECONDS
    assert_no_dataset(tmp_path)


@pytest.mark.gl
@pytest.mark.parametrize("where", list(IMAGE_FIELDS))
def test_image_that_fails_to_decode_names_its_field(tmp_path, where):
    """An image whose header is sound but whose pixels are missing fails while a frame is
    made, and the message still names the scenario field that brought it in."""
    images = tmp_path / "images_in"
    images.mkdir()
    (images / "broken.png").write_bytes(_png_header(8, 8))
    field, what = IMAGE_FIELDS[where]
    if where == "background.images":
        changes = {where: images.name}
    else:
        changes = {where: {"kinds": ["image"], "image": {"folder": images.name}}}
    write_scene(tmp_path, mutated(changes))
    result, seconds = generate(tmp_path)
    line = error_line(result.output, result.exit_code, result.exception)
    assert line.startswith(f"{SCENE}: {field}: "), line
    assert f"broken.png: cannot decode this {what}" in line and seconds < SECONDS
    assert_no_dataset(tmp_path)


# ------------------------------------------------------------------ the output folder


@pytest.mark.parametrize("flags", [(), ("--overwrite",), ("--resume",)])
@pytest.mark.parametrize("place", ["images/holiday.jpg", "images/album/holiday.jpg",
                                   "depth/notes.txt", "annotations.json"])
def test_files_synthscene_did_not_write_are_kept(tmp_path, flags, place):
    write_scene(tmp_path, BOX + "image: {width: 64, height: 48}\nobjects: {count: 1}\n")
    user_file = tmp_path / "out" / place
    user_file.parent.mkdir(parents=True)
    user_file.write_bytes(b'{"images": []}' if place.endswith(".json") else b"\xff\xd8 photo")
    result, seconds = generate(tmp_path, SCENE, *flags)
    line = error_line(result.output, result.exit_code, result.exception)
    assert (place if "album" not in place else "images/album") in line, line
    assert "unfinished dataset" not in line
    if flags == ("--overwrite",):
        assert "--overwrite removes only files synthscene wrote" in line
    assert user_file.exists() and seconds < SECONDS
    assert not (tmp_path / "out" / ".synthscene").exists()


# ------------------------------------------------------------------ real processes


def run_cli(folder: Path, *args: str, timeout: float = 120) -> tuple[subprocess.CompletedProcess,
                                                                     float]:
    start = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "synthscene.cli", "generate", *args,
                             "--out", "out", "--frames", "1", "--quiet"], cwd=folder,
                            capture_output=True, text=True, timeout=timeout)
    return result, time.monotonic() - start


PROCESS_CASES = [
    pytest.param("/dev/zero", None, "/dev/zero: cannot read the scenario file: a character "
                 "device", id="dev-zero"),
    pytest.param("pipe.yaml", "fifo", "pipe.yaml: cannot read the scenario file: a FIFO",
                 id="fifo"),
    pytest.param(SCENE, BOX + "objects: {count: 1e9}\n", f"{SCENE}: objects.count: ",
                 id="count-1e9"),
    pytest.param(SCENE, BOX + "objects: {count: {randint: [0, 1000000]}}\n",
                 f"{SCENE}: objects.count: up to 1000000 objects", id="count-randint-1e6"),
    pytest.param(SCENE, BOX + "x:\n" + "- " * 20000 + "1\n",
                 f"{SCENE}: lists and mappings nested more than 64 deep", id="deep-lists"),
    pytest.param(SCENE, BOX + "x: " + "[" * 20000 + "]" * 20000 + "\n",
                 f"{SCENE}: ", id="deep-flow-lists"),  # libyaml's own limit, or ours
    pytest.param(SCENE, BOX + "objects: {drop_region: {x_m: [.nan, 0], y_m: [0, 0], "
                 "z_m: [0, 0]}}\n", f"{SCENE}: objects.drop_region.x_m[0]: ", id="nan"),
]


@pytest.mark.parametrize(("scene", "content", "fragment"), PROCESS_CASES)
def test_cli_process_refuses_quickly(tmp_path, scene, content, fragment):
    if content == "fifo":
        os.mkfifo(tmp_path / scene)
    elif content is not None:
        (tmp_path / scene).write_text(content)
    result, seconds = run_cli(tmp_path, scene)
    line = error_line(result.stderr + result.stdout, result.returncode)
    assert line.startswith(fragment), line
    assert content is None or "[" * 20000 not in content or "nest" in line, line
    assert seconds < 60, seconds  # interpreter start-up and imports; the refusal is instant
    assert_no_dataset(tmp_path)


def test_cli_process_overwrite_keeps_the_users_file(tmp_path):
    (tmp_path / SCENE).write_text(BOX + "image: {width: 64, height: 48}\n")
    photo = tmp_path / "out" / "images" / "holiday.jpg"
    photo.parent.mkdir(parents=True)
    photo.write_bytes(b"\xff\xd8 a photo")
    result, _ = run_cli(tmp_path, SCENE, "--overwrite")
    line = error_line(result.stderr + result.stdout, result.returncode)
    assert "images/holiday.jpg" in line and "unfinished dataset" not in line
    assert photo.read_bytes() == b"\xff\xd8 a photo"


# ------------------------------------------------------------------ documentation and messages


def test_the_scenario_docs_give_the_limits_the_code_applies():
    from synthscene.assets import image_files
    from synthscene.config import loading, schema
    from synthscene.registry import distributions

    page = (Path(__file__).parents[1] / "docs" / "scenarios.md").read_text()
    section = page.split("## Bad input and limits", 1)[1].split("\n## ", 1)[0]
    for value in (loading.MAX_SCENARIO_BYTES // 2**20, loading.MAX_NESTING, loading.MAX_YAML_NODES,
                  schema.MAX_PHYSICS_STEPS, schema.MAX_OBJECTS, schema.MAX_LIGHTS,
                  MAX_MESH_TRIANGLES, image_files.MAX_IMAGE_PIXELS // 10**6,
                  image_files.MAX_IMAGE_BYTES // 2**20, int(schema.LENGTH_LIMIT_M)):
        assert f"{value:,}" in section, value
    assert f"1e{round(math.log10(distributions.MAX_MAGNITUDE))}" in section
    # The limits a run may raise (never the file), each with the option that raises it.
    from synthscene.config.limits import LIMIT_DEFAULTS
    from synthscene.registry.texture_registry import MAX_TEXTURE_PX

    assert f"{schema.MAX_STEPS_BETWEEN_FRAMES:,}" in section
    assert f"{MAX_TEXTURE_PX} pixels a side" in section
    assert "may only *lower* them" in section and "limits={NAME: VALUE}" in section
    for name in LIMIT_DEFAULTS:
        assert f"`--limit {name}=N`" in section, name


def _die_by_sigkill() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def test_worker_killed_by_a_signal_is_reported_as_such():
    """A dead worker's message says what is known (the signal), not a guess at its cause."""
    import multiprocessing

    from synthscene.errors import SynthsceneError
    from synthscene.run.executors.local import _check_alive

    process = multiprocessing.get_context("spawn").Process(target=_die_by_sigkill,
                                                          name="synthscene-worker-0")
    process.start()
    process.join(60)
    with pytest.raises(SynthsceneError) as info:
        _check_alive([process], 3, idle=False)
    message = str(info.value)
    assert "worker process synthscene-worker-0 was killed by signal 9 (SIGKILL)" in message
    assert "memory" not in message and "\n" not in message


@pytest.mark.parametrize("progressive", [0, 1])
def test_jpeg_size_is_read_from_the_frame_header_as_opencv_wrote_it(progressive):
    """The size check reads a JPEG's frame header itself (Pillow refuses a header-only file),
    so it must agree with every JPEG OpenCV writes, baseline and progressive."""
    import cv2
    import numpy as np

    from synthscene.assets.image_files import _jpeg_size

    image = np.zeros((37, 53, 3), np.uint8)
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_PROGRESSIVE, progressive])
    assert ok
    assert _jpeg_size(encoded.tobytes()) == (53, 37)
    assert _jpeg_size(b"\x89PNG\r\n\x1a\n") is None
