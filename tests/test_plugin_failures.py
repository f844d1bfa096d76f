"""A misbehaving plug-in ends in one line naming it: one that calls ``sys.exit`` (at import or in
a randomizer), one interrupted while it loads, a texture too large for any GL implementation, a
camera pose that is not rigid; and an installed plug-in that is broken stops only the runs that
need an installed plug-in."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from synthscene import plugins
from synthscene.cli import app
from synthscene.config.loading import scenario_from_dict
from synthscene.errors import PluginError
from synthscene.registry import entry_points as registry_entry_points
from synthscene.seeding import frame_rng

BOX = {"assets": [{"source": "primitive:box"}], "image": {"width": 64, "height": 48},
       "objects": {"count": 1}}


@pytest.fixture
def plugin_file(tmp_path):
    """Write a plug-in file (its module name from its file name); unload it afterwards."""
    written: list[str] = []

    def write(name: str, code: str) -> str:
        path = tmp_path / f"{name}.py"
        path.write_text(code)
        written.append(str(path))
        return str(path)

    yield write
    for source in written:
        plugins.unload_plugin(source)


def _generate(tmp_path: Path, *args: str, scene: dict = BOX):
    (tmp_path / "scene.yaml").write_text(yaml.safe_dump(scene))
    return CliRunner().invoke(app, ["generate", str(tmp_path / "scene.yaml"), "--out",
                                    str(tmp_path / "out"), "--frames", "0", "-q", *args])


def test_sys_exit_at_import_is_one_line(tmp_path, plugin_file):
    path = plugin_file("exits_at_import", "import sys\nsys.exit(7)\n")
    result = _generate(tmp_path, "--plugin", path)
    assert result.exit_code == 2, result.output
    (line,) = result.output.splitlines()
    assert line.startswith(f"synthscene: error: cannot load plug-in '{path}': ")
    assert "sys.exit(7)" in line
    with pytest.raises(PluginError, match=r"sys\.exit\(7\)"):
        plugins.load_plugins([path])


def test_sys_exit_in_a_randomizer_is_a_plugin_error(plugin_file):
    path = plugin_file("exits_in_effect", (
        "import sys\nfrom synthscene.plugins import register_effect, register_texture\n"
        "def quit_now(rgb, *, rng):\n    sys.exit(3)\n"
        "register_effect('quit_now', quit_now)\n"
        "def tex(*, rng, size, resource=None):\n    raise SystemExit('bye')\n"
        "def prep(params, base_dir):\n    raise SystemExit('bye')\n"
        "register_texture('quit_tex', tex, prepare=prep)\n"))
    plugins.load_plugins([path])
    rgb = np.zeros((4, 4, 3), np.uint8)
    with pytest.raises(PluginError, match=r"plug-in 'quit_now' .*failed: it called "
                                          r"sys\.exit\(3\)"):
        plugins.EFFECTS["quit_now"].call(rgb, rng=frame_rng(0, 0))
    # the texture's prepare (run when the scenario is read) is guarded as well
    with pytest.raises(PluginError, match=r"plug-in 'quit_tex' .*sys\.exit\('bye'\)"):
        scenario_from_dict({**BOX, "objects": {"material": {"texture": {
            "kinds": ["quit_tex"]}}}})


def test_an_interrupt_while_a_plugin_loads_says_nothing_started(tmp_path, plugin_file):
    path = plugin_file("interrupted_at_import", "raise KeyboardInterrupt\n")
    result = _generate(tmp_path, "--plugin", path)
    assert result.exit_code == 130
    assert "interrupted before the run started" in result.output
    assert "--resume" not in result.output and "Finished frames" not in result.output


def test_a_plugin_texture_too_large_is_refused(plugin_file):
    from synthscene.registry.texture_registry import MAX_TEXTURE_PX, parse_texture_spec

    path = plugin_file("tall_texture", (
        "import numpy as np\nfrom synthscene.plugins import register_texture\n"
        f"def tall(*, rng, size):\n    return np.zeros(({MAX_TEXTURE_PX + 1}, 2, 3), np.uint8)\n"
        "register_texture('tall', tall)\n"))
    plugins.load_plugins([path])
    spec = parse_texture_spec({"kinds": ["tall"]}, source="s", field="t")
    with pytest.raises(PluginError) as caught:
        spec.sample(rng=frame_rng(0, 0), size=64)
    assert "plug-in 'tall'" in str(caught.value)
    assert f"{MAX_TEXTURE_PX + 1} x 2 texture" in str(caught.value)
    assert f"at most {MAX_TEXTURE_PX} pixels a side" in str(caught.value)


@pytest.mark.parametrize(("name", "matrix", "fragment"), [
    ("scaled", "np.diag([2.0, 2.0, 2.0, 1.0])", "not orthonormal"),
    ("mirrored", "np.diag([1.0, 1.0, -1.0, 1.0])", "mirror"),
    ("sheared", "np.array([[1, 0.5, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1.0]])",
     "not orthonormal"),
    ("projective", "np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 1, 1.0]])",
     "last row"),
])
def test_a_camera_pose_that_is_not_rigid_is_refused(plugin_file, name, matrix, fragment):
    from synthscene.randomize.camera import sample_camera

    path = plugin_file(name, (
        "import numpy as np\nfrom synthscene.plugins import register_camera_sampler\n"
        f"def pose(camera, *, rng, frame):\n    return {matrix}\n"
        f"register_camera_sampler('{name}', pose)\n"))
    plugins.load_plugins([path])
    spec = scenario_from_dict({**BOX, "camera": {"sampler": name}}).spec
    with pytest.raises(PluginError) as caught:
        sample_camera(spec.camera, 64, 48, rng=frame_rng(0, 0))
    assert f"plug-in '{name}'" in str(caught.value) and "not a rigid transform" in str(caught.value)
    assert fragment in str(caught.value)


@pytest.fixture
def broken_installed_plugin(monkeypatch):
    """An installed package's plug-in (entry point) whose module cannot be imported."""
    broken = importlib.metadata.EntryPoint(name="broken", value="synthscene_no_such_module_xyz",
                                           group=plugins.ENTRY_POINT_GROUP)

    def entry_points(**kwargs):
        return [broken] if kwargs.get("group") == plugins.ENTRY_POINT_GROUP else []

    monkeypatch.setattr(importlib.metadata, "entry_points", entry_points)
    monkeypatch.setattr(registry_entry_points._LOADED, "entry_points_done", False)


def test_installed_plugins_load_only_for_a_name_that_is_not_built_in(broken_installed_plugin,
                                                                     tmp_path):
    plugins.load_plugins([])  # what every command and worker does first
    scenario_from_dict({**BOX, "effects": [{"name": "gaussian_noise", "sigma": 2}]})
    result = _generate(tmp_path)  # a scenario of built-ins runs
    assert result.exit_code == 0, result.output
    with pytest.raises(PluginError, match="cannot load the installed plug-in 'broken'"):
        scenario_from_dict({**BOX, "effects": [{"name": "rain_from_a_package"}]})



def test_a_lambda_plugin_with_workers_is_one_line_not_a_pickling_traceback(tmp_path, plugin_file):
    """Worker processes receive the scenario pickled; a lambda cannot be, so the run is refused
    with a line saying what to do instead of pickle's traceback."""
    import pickle

    from synthscene.run.worker import FrameJob

    path = plugin_file("lambda_effect", (
        "from synthscene.plugins import register_effect\n"
        "register_effect('halve', lambda rgb, *, rng: rgb // 2)\n"))
    plugins.load_plugins([path])
    scenario = scenario_from_dict({**BOX, "effects": [{"name": "halve"}]})
    job = FrameJob(scenario=scenario, library=None, seed=0, out_dir=tmp_path, plugins=(path,))
    with pytest.raises(PluginError, match="top level of its module.*--workers 1"):
        pickle.dumps(job)
