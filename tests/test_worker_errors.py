"""synthscene.run.worker's error path: a worker's exception reaches the main process.

A worker reports a failure with ``error_report`` (inside its ``except``) and the main process
raises ``error_from_report`` of it. Input errors (:class:`~synthscene.errors.SynthsceneError`)
must come back as one line the CLI can print, of their own class where they can be rebuilt;
anything else is a bug and comes back as a :class:`RuntimeError` carrying the worker's traceback.
The reports travel through a real ``spawn`` process and queue, as the local executor's do.
"""

from __future__ import annotations

import multiprocessing
import pickle
import threading

import pytest

from synthscene.errors import AssetError, ConfigError, PluginError, SynthsceneError
from synthscene.registry.params import RandomizerParams
from synthscene.registry.randomizers import Registry
from synthscene.run.worker import ErrorReport, error_from_report, error_report


class LockedError(SynthsceneError):
    """An input error that cannot be pickled (it holds a lock)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.lock = threading.Lock()


class LockedBug(Exception):
    """A bug's exception that cannot be pickled."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.lock = threading.Lock()


class PathError(SynthsceneError):
    """Pickles, but loads back with another message (its argument is not its message)."""

    def __init__(self, path: str) -> None:
        super().__init__(f"{path}: is broken")


def _divide_by_zero() -> float:
    return 1 / 0


def _rain(rgb, *, rng):
    raise ValueError("the drops\nwent everywhere")


def _raise(kind: str) -> None:
    """Raise the failure called ``kind`` (what a frame of a worker might raise)."""
    if kind == "plugin":
        raise PluginError("plug-in 'rain' (module mymod) failed: ValueError: no drops")
    if kind == "plugin_call":  # a plug-in's function failing, through its registry entry
        effects = Registry("effect", RandomizerParams)
        effects.register("rain", _rain)
        effects["rain"].call(None, rng=None)
    if kind == "asset":
        raise AssetError("/data/meshes/mug.obj: cannot read the mesh (no faces)")
    if kind == "config":
        raise ConfigError("scene.yaml", "camera.fov_deg", "must be > 0, got -3")
    if kind == "locked":
        raise LockedError("the lock could not be taken")
    if kind == "path":
        raise PathError("/data/x.png")
    if kind == "bug":
        _divide_by_zero()
    if kind == "locked_bug":
        raise LockedBug("a lock in a bug")
    raise AssertionError(f"unknown kind {kind}")


KINDS = ("plugin", "plugin_call", "asset", "config", "locked", "path", "bug", "locked_bug")


def _report(worker: int, kind: str) -> ErrorReport:
    try:
        _raise(kind)
    except BaseException as exc:  # noqa: BLE001 - as a worker's entry point catches
        return error_report(worker, exc)
    raise AssertionError("nothing was raised")


def _worker_main(worker: int, events) -> None:
    """A worker process: fail in every way, report each failure on ``events``."""
    for kind in KINDS:
        events.put((kind, _report(worker, kind)))
    events.put(None)


@pytest.fixture(scope="module")
def reports() -> dict[str, ErrorReport]:
    """Each kind's report as the main process receives it from a spawned worker 3."""
    context = multiprocessing.get_context("spawn")
    events = context.Queue()
    process = context.Process(target=_worker_main, args=(3, events))
    process.start()
    try:
        got = dict(iter(lambda: events.get(timeout=120), None))
    finally:
        process.join(30)
    assert process.exitcode == 0
    return got


def test_every_report_crosses_the_process_boundary(reports):
    assert set(reports) == set(KINDS)
    for report in reports.values():
        assert report.worker == 3
        pickle.loads(pickle.dumps(report))  # picklable whatever the exception was


@pytest.mark.parametrize("kind, cls, message", [
    ("plugin", PluginError, "plug-in 'rain' (module mymod) failed: ValueError: no drops"),
    ("asset", AssetError, "/data/meshes/mug.obj: cannot read the mesh (no faces)"),
])
def test_plugin_and_asset_errors_keep_their_class_and_message(reports, kind, cls, message):
    error = error_from_report(reports[kind])
    assert type(error) is cls
    assert str(error) == message
    assert reports[kind].is_input_error


def test_a_failing_plugin_function_comes_back_as_one_line_naming_the_plugin(reports):
    error = error_from_report(reports["plugin_call"])
    assert type(error) is PluginError
    assert "\n" not in str(error)
    assert "'rain'" in str(error) and __name__.rsplit(".", 1)[-1] in str(error)
    assert "ValueError: the drops went everywhere" in str(error)


def test_field_errors_keep_their_class_source_and_field(reports):
    error = error_from_report(reports["config"])
    assert type(error) is ConfigError
    assert (error.source, error.field) == ("scene.yaml", "camera.fov_deg")
    assert str(error) == "scene.yaml: camera.fov_deg: must be > 0, got -3"


@pytest.mark.parametrize("kind, message", [
    ("locked", "the lock could not be taken"),
    ("path", "/data/x.png: is broken"),
])
def test_an_input_error_that_cannot_be_rebuilt_keeps_its_message(reports, kind, message):
    report = reports[kind]
    assert report.is_input_error and report.pickled is None
    error = error_from_report(report)
    assert isinstance(error, SynthsceneError)
    assert str(error) == message


@pytest.mark.parametrize("kind, text", [
    ("bug", "ZeroDivisionError: division by zero"),
    ("locked_bug", "LockedBug: a lock in a bug"),
])
def test_a_bug_comes_back_as_a_runtime_error_with_the_worker_traceback(reports, kind, text):
    report = reports[kind]
    assert not report.is_input_error and report.pickled is None
    error = error_from_report(report)
    assert type(error) is RuntimeError
    first, _, rest = str(error).partition("\n")
    assert first == f"worker 3 failed: {text}"
    assert "worker traceback:" in rest and "Traceback (most recent call last)" in rest
    assert "_raise" in rest and text in rest
    if kind == "bug":
        assert "_divide_by_zero" in rest


def test_a_report_whose_pickle_is_corrupt_falls_back_to_the_message():
    report = _report(0, "asset")
    damaged = ErrorReport(report.worker, True, report.message, b"not a pickle", report.trace)
    error = error_from_report(damaged)
    assert type(error) is SynthsceneError
    assert str(error) == report.message


def test_a_report_made_in_the_same_process_round_trips_too():
    error = error_from_report(_report(1, "plugin"))
    assert type(error) is PluginError
    with pytest.raises(PluginError, match="no drops"):
        raise error
