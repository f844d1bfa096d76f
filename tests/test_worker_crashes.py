"""A worker process that dies of a fatal signal leaves the stack of its threads in the run
folder (Python's faulthandler), and the run's one-line message names the file; workers that
did not crash leave nothing."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from synthscene.errors import SynthsceneError
from synthscene.io.layout import STATE_DIR
from synthscene.run.crash_logs import (
    crash_log_path,
    crash_logs,
    fault_log,
    is_crash_log,
    remove_crash_logs,
)
from synthscene.run.executors.local import _check_alive

SPAWN = multiprocessing.get_context("spawn")


def _native_crash_deep_inside() -> None:
    os.kill(os.getpid(), signal.SIGSEGV)  # what a segmentation fault in native code raises


def _crash_with_fault_log(path: str) -> None:
    with fault_log(Path(path)):
        _native_crash_deep_inside()


def _leave_fault_log(path: str) -> None:
    with fault_log(Path(path)):
        pass


def _run(target, path: Path, name: str = "synthscene-worker-0"):
    process = SPAWN.Process(target=target, args=(str(path),), name=name)
    process.start()
    process.join(60)
    return process


def test_a_crash_leaves_the_stack_and_the_message_names_its_file(tmp_path):
    path = crash_log_path(tmp_path, 0)
    path.parent.mkdir()
    process = _run(_crash_with_fault_log, path)
    assert process.exitcode == -signal.SIGSEGV
    stack = path.read_text()
    assert "Fatal Python error: Segmentation fault" in stack
    assert "_native_crash_deep_inside" in stack and "_crash_with_fault_log" in stack
    with pytest.raises(SynthsceneError) as info:
        _check_alive([process], 3, idle=False, crash_logs=[path])
    message = str(info.value)
    assert "worker process synthscene-worker-0 was killed by signal 11 (SIGSEGV)" in message
    assert message.endswith(f"the stack of its threads is in {path}")
    assert "\n" not in message


def _native_crash_without_fault_log(path: str) -> None:
    _native_crash_deep_inside()


def test_a_worker_that_leaves_normally_leaves_no_file_and_an_empty_one_is_not_named(tmp_path):
    path = crash_log_path(tmp_path, 1)
    path.parent.mkdir()
    assert _run(_leave_fault_log, path).exitcode == 0
    assert not path.exists()
    path.write_text("")  # what a worker stopped by SIGTERM (not caught) leaves
    process = _run(_native_crash_without_fault_log, path, "synthscene-worker-1")
    with pytest.raises(SynthsceneError) as info:
        _check_alive([process], 1, idle=False, crash_logs=[path])
    assert "signal 11 (SIGSEGV)" in str(info.value) and "stack" not in str(info.value)


def test_only_crash_files_are_removed_and_only_empty_ones_after_a_run(tmp_path):
    state = tmp_path / STATE_DIR
    state.mkdir()
    crashed, stopped = state / "worker-0-crash.txt", state / "worker-1-crash.txt"
    crashed.write_text("Fatal Python error: Segmentation fault\n")
    stopped.write_text("")
    kept = state / "manifest.json"
    kept.write_text("{}")
    other = state / "worker-1-crash.txt.bak"  # not a crash file's name: never touched
    other.write_text("")
    assert is_crash_log("worker-12-crash.txt") and not is_crash_log(other.name)
    assert not is_crash_log("worker-a-crash.txt") and not is_crash_log("manifest.json")
    assert crash_logs(tmp_path) == [crashed, stopped]
    remove_crash_logs(tmp_path, empty_only=True)
    assert crashed.exists() and not stopped.exists() and kept.exists()
    remove_crash_logs(tmp_path)
    assert not crashed.exists() and kept.exists() and other.exists()


PLUGIN = '''
import os
import signal

from synthscene.plugins import register_effect


def segfault(rgb, *, rng):
    """Kill this process as a segmentation fault in native code would (while CRASH_NOW=1)."""
    if os.environ.get("CRASH_NOW") == "1":
        os.kill(os.getpid(), signal.SIGSEGV)
    return rgb.copy()


register_effect("segfault", segfault)
'''


def test_a_run_whose_worker_crashes_names_the_signal_and_the_stack_file(tmp_path):
    (tmp_path / "crash_plugin.py").write_text(PLUGIN)
    scene = {"name": "crash", "image": {"width": 64, "height": 48},
             "assets": [{"source": "primitive:box"}],
             "objects": {"count": 2, "size_m": 0.1}, "physics": {"max_steps": 50},
             "effects": [{"name": "segfault"}]}
    (tmp_path / "scene.yaml").write_text(json.dumps(scene))
    args = [sys.executable, "-m", "synthscene.cli", "generate", "scene.yaml", "--out", "out",
            "--frames", "4", "--workers", "2", "--quiet", "--plugin", "crash_plugin.py",
            "--cache-dir", "none"]
    done = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "CRASH_NOW": "1"})
    assert done.returncode == 2
    line = done.stderr.strip()
    assert "\n" not in line and "Traceback" not in line
    assert "was killed by signal 11 (SIGSEGV)" in line
    logs = sorted((tmp_path / "out" / STATE_DIR).glob("worker-*-crash.txt"))
    named = [log for log in logs if str(log) in line]
    assert len(named) == 1  # the worker reported; the other may have crashed too
    stack = named[0].read_text()
    assert "Segmentation fault" in stack and "in segfault" in stack
    assert all(log.stat().st_size > 0 for log in logs)  # the empty ones were removed
    assert not (tmp_path / "out" / "annotations.json").exists()
    # The crash files are synthscene's: --resume takes the folder and removes them.
    env = {k: v for k, v in os.environ.items() if k != "CRASH_NOW"}
    resumed = subprocess.run([*args, "--resume"], cwd=tmp_path, capture_output=True,
                             text=True, timeout=300, env=env)
    assert resumed.returncode == 0, resumed.stderr
    assert (tmp_path / "out" / "annotations.json").exists()
    assert not list((tmp_path / "out" / STATE_DIR).glob("worker-*-crash.txt"))


@pytest.mark.slow
@pytest.mark.gl
def test_a_ray_actor_that_crashes_leaves_its_stack_and_the_message_names_it(tmp_path,
                                                                            monkeypatch):
    pytest.importorskip("ray")  # in the test extras; a local Ray instance with 2 CPUs
    import synthscene
    from synthscene import plugins
    from synthscene.config.loading import scenario_from_dict

    plugin = str(tmp_path / "crash_plugin.py")
    (tmp_path / "crash_plugin.py").write_text(PLUGIN)
    synthscene.load_plugins([plugin])
    scene = {"name": "crash", "image": {"width": 64, "height": 48},
             "assets": [{"source": "primitive:box"}],
             "objects": {"count": 2, "size_m": 0.1}, "physics": {"max_steps": 50},
             "effects": [{"name": "segfault"}]}
    monkeypatch.setenv("CRASH_NOW", "1")  # Ray's processes start with this environment
    try:
        with pytest.raises(SynthsceneError) as info:
            synthscene.generate(scenario_from_dict(scene), tmp_path / "out", frames=4,
                                workers=2, executor="ray", plugins=[plugin], cache_dir=None)
    finally:
        plugins.unload_plugin(plugin)
    message = str(info.value)
    logs = sorted((tmp_path / "out" / STATE_DIR).glob("worker-*-crash.txt"))
    named = [log for log in logs if f"the stack of its threads is in {log}" in message]
    assert len(named) == 1, message
    assert "in segfault" in named[0].read_text()
    assert all(log.stat().st_size > 0 for log in logs)
    assert message.startswith("Ray worker ") and "\n" not in message
