"""One worker's share of a run: make frames and write them (PNG + record) into the run folder.

A worker is any process that holds a :class:`FrameWorker`: the main process itself (``workers=1``),
a local process started by :mod:`synthscene.run.executors.local`, or a Ray actor
(:mod:`synthscene.run.executors.ray`). It gets a picklable :class:`FrameJob`, builds its own
:class:`~synthscene.run.frames.FrameMaker` (its own pybullet client and GL context, assets loaded
once), and reports each finished frame as a small :class:`FrameDone` to whoever drives the run.
Frames are written with :meth:`synthscene.run.run_folder.RunFolder.save_frame`, so a frame is
finished exactly when its record is on disk, whichever process wrote it.
"""

from __future__ import annotations

import logging
import os
import pickle
import sys
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from synthscene.config.loading import Scenario
from synthscene.core.state import Sample
from synthscene.errors import PluginError, SynthsceneError
from synthscene.io.coco import category_ids, encode_image, frame_record
from synthscene.io.maps import encode_frame_maps
from synthscene.run.frames import FrameMaker
from synthscene.run.run_folder import RunFolder

if TYPE_CHECKING:
    from synthscene.assets.library import SceneLibraries

__all__ = ["ErrorReport", "FrameDone", "FrameJob", "FrameWorker", "error_from_report",
           "error_report", "rss_bytes"]

logger = logging.getLogger(__name__)

MAX_PENDING_WRITES = 4
"""Frames that may wait for the writer thread before :meth:`FrameWorker.submit` blocks."""


@dataclass(frozen=True)
class FrameJob:
    """Everything a worker needs to make and write frames of a run (picklable).

    Attributes
    ----------
    scenario : Scenario
    library : SceneLibraries
        Pickles as its index only; each worker loads the meshes once.
    seed : int
    out_dir : pathlib.Path
        The run folder, absolute (workers on other machines see it at the same path).
    log_level : int
        ``logging`` level for worker processes.
    plugins : tuple of str
        Plug-ins (module names, ``.py`` paths) a worker loads before anything else: a pickled
        job loads them first when it is unpickled (:func:`_unpickle_job`), so the scenario's
        plug-in randomizers resolve in a fresh process.
    """

    scenario: Scenario
    library: SceneLibraries
    seed: int
    out_dir: Path
    log_level: int = logging.WARNING
    plugins: tuple[str, ...] = ()

    def __reduce__(self) -> tuple:
        """Pickle the plug-ins' names apart from the rest, so a worker loads them first.

        Raises
        ------
        synthscene.errors.PluginError
            If the scenario holds a function pickle cannot send to a worker process (a plug-in
            registered a lambda or a nested function).
        """
        fields = {name: getattr(self, name) for name in self.__dataclass_fields__}
        try:
            payload = pickle.dumps(fields)
        except (pickle.PicklingError, AttributeError, TypeError) as exc:
            raise PluginError(
                "a plug-in's randomizer cannot be sent to worker processes "
                f"({' '.join(str(exc).split())[:200]}): "
                "register a function defined at the top level of its module, not a lambda or "
                "a nested function, or run with --workers 1") from None
        return _unpickle_job, (self.plugins, payload)

    @property
    def category_ids(self) -> dict[str, int]:
        """COCO category id of each category: position in the sorted list, from 1."""
        return category_ids(self.library.categories)


def _unpickle_job(plugins: tuple[str, ...], payload: bytes) -> FrameJob:
    """Load ``plugins`` in this process, then rebuild the pickled :class:`FrameJob`."""
    from synthscene.registry.plugin_loader import load_plugins

    load_plugins(plugins)
    return FrameJob(**pickle.loads(payload))


@dataclass(frozen=True)
class FrameDone:
    """A finished frame, as reported by a worker (small and picklable).

    Attributes
    ----------
    frame_index : int
    instances : int
        Annotations of the frame (visible, labelled objects).
    timings : dict of str to float
        Seconds per stage: ``sample``, ``physics``, ``render``, ``labels``, ``write`` (encoding
        and writing the PNG and the record, on the worker's writer thread).
    worker : int
        Index of the worker that made it.
    rss_bytes : int
        The worker process's resident memory after the frame, in bytes (0 where unknown).
    cpu_seconds : float
        CPU time the worker process has used so far, every thread, user and system
        (``time.process_time()``), in seconds: the difference between two frames of a worker
        is what making the frames between them cost, rendering threads included.
    """

    frame_index: int
    instances: int
    timings: dict[str, float] = field(default_factory=dict)
    worker: int = 0
    rss_bytes: int = 0
    cpu_seconds: float = 0.0


def frames_per_scene(scenario: Scenario) -> int:
    """Frames made from one sampled scene: ``sequence.length`` for a run of sequences, else
    ``camera.views_per_scene`` (1 by default); twice that with ``camera.stereo`` (both eyes of
    a pair, or of every step of a sequence, are made by one worker)."""
    spec = scenario.spec
    eyes = 2 if spec.camera.stereo is not None else 1
    if spec.sequence is not None:
        return spec.sequence.length * eyes
    return spec.camera.views_per_scene * eyes


def scene_groups(frames: Iterable[int], views_per_scene: int) -> Iterator[list[int]]:
    """``frames`` cut into the runs of consecutive frames of one scene: the unit of work.

    A worker that makes a whole group settles the scene once (frame ``i`` is view
    ``i % views_per_scene`` of scene ``i // views_per_scene``); with one view per scene every
    frame is its own group. Lazy: ``frames`` is read as the groups are taken, so a run of
    10^8 frames (:class:`~synthscene.run.ranges.FrameRanges`) never lists them.

    Parameters
    ----------
    frames : iterable of int
        Frame indices, in the order they are to be made.
    views_per_scene : int
        >= 1.

    Yields
    ------
    list of int
        The frames in their order, split where the scene changes.
    """
    group: list[int] = []
    for index in frames:
        index = int(index)
        if group and group[-1] // views_per_scene != index // views_per_scene:
            yield group
            group = []
        group.append(index)
    if group:
        yield group


def rss_bytes() -> int:
    """Resident set size of this process in bytes.

    Read from ``/proc/self/statm`` (second field, in pages; proc(5)) on Linux; elsewhere the peak
    RSS from ``getrusage`` (``ru_maxrss``: kilobytes on Linux, bytes on macOS).
    """
    try:
        with open("/proc/self/statm", "rb") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        import resource  # POSIX

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return int(peak if sys.platform == "darwin" else peak * 1024)


class FrameWorker:
    """Context manager that makes frames of a :class:`FrameJob` and writes them to its folder.

    PNG encoding and file writing run on one background thread (OpenCV and file I/O release the
    GIL), overlapping with the next frame's physics and rendering; at most
    :data:`MAX_PENDING_WRITES` frames wait in memory.

    Parameters
    ----------
    job : FrameJob
    worker : int
        This worker's index (reported in :class:`FrameDone`).
    on_done : callable
        Called with a :class:`FrameDone` once a frame's record is on disk, from the writer
        thread.

    Raises
    ------
    AssetError
        On entry, for an asset that cannot be loaded.
    synthscene.errors.RenderError
        On entry, if no GL context can be made.
    """

    def __init__(self, job: FrameJob, worker: int = 0, *,
                 on_done: Callable[[FrameDone], None]) -> None:
        self.job = job
        self.worker = int(worker)
        self._on_done = on_done
        self._folder = RunFolder(job.out_dir)
        self._category_ids = job.category_ids
        self._compression = int(job.scenario.spec.render.png_compression)
        self._maker: FrameMaker | None = None
        self._writer: ThreadPoolExecutor | None = None
        self._pending: deque[Future] = deque()

    def __enter__(self) -> FrameWorker:
        self.job.library.preload()  # loads small libraries now (a pickled one is empty)
        self._maker = FrameMaker(self.job.scenario, self.job.library, seed=self.job.seed)
        self._maker.__enter__()
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="synthscene-write")
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        try:
            self._drain(raise_errors=exc_type is None)
        finally:
            if self._writer is not None:
                self._writer.shutdown(wait=True)
                self._writer = None
            if self._maker is not None:
                self._maker.close()
                self._maker = None

    def run(self, indices: Iterable[int]) -> None:
        """Make the frames ``indices`` (read lazily, e.g. from a queue) and queue their writing.

        Returns when the last frame is handed to the writer thread; :meth:`flush` (or leaving
        the ``with`` block) waits for it to be written.

        Raises
        ------
        SynthsceneError
            For a failure making a frame, or writing an earlier one (writes are checked as they
            complete).
        """
        if self._maker is None or self._writer is None:
            raise RuntimeError("FrameWorker.run() needs an open worker: use it in a with block")
        for sample in self._maker.frames(indices):
            while len(self._pending) >= MAX_PENDING_WRITES:
                self._pending.popleft().result()
            self._pending.append(self._writer.submit(self._write, sample))

    def flush(self) -> None:
        """Wait until every submitted frame is written and reported.

        Raises
        ------
        synthscene.errors.OutputError
            If a frame could not be written.
        """
        self._drain(raise_errors=True)

    def _drain(self, *, raise_errors: bool) -> None:
        first_error = None
        while self._pending:
            try:
                self._pending.popleft().result()
            except Exception as exc:  # noqa: BLE001 - re-raised below
                first_error = first_error or exc
        if first_error is not None and raise_errors:
            raise first_error

    def _write(self, sample: Sample) -> None:
        t0 = time.perf_counter()
        render = self.job.scenario.spec.render
        record = frame_record(sample, self._category_ids, image_format=render.image_format)
        maps, fields = encode_frame_maps(sample.frame_index, sample.render, sample.labels,
                                         self.job.scenario.spec.outputs,
                                         category_ids=self._category_ids,
                                         compression=self._compression, motion=sample.motion,
                                         point_tracks=sample.point_tracks)
        record["image"].update(fields)
        image = encode_image(sample.render.rgb, render.image_format,
                             png_compression=self._compression,
                             jpeg_quality=render.jpeg_quality)
        self._folder.save_frame(sample.frame_index, image, record, extra_files=maps)
        timings = {**sample.timings, "write": time.perf_counter() - t0}
        self._on_done(FrameDone(frame_index=sample.frame_index,
                                instances=len(record["annotations"]), timings=timings,
                                worker=self.worker, rss_bytes=rss_bytes(),
                                cpu_seconds=time.process_time()))


@dataclass(frozen=True)
class ErrorReport:
    """A worker's failure, sent to the main process (picklable whatever the exception was).

    Attributes
    ----------
    worker : int
    is_input_error : bool
        True for a :class:`~synthscene.errors.SynthsceneError` (bad input or environment),
        False for anything else (a bug).
    message : str
        ``str(exc)`` for input errors, ``"TypeName: str(exc)"`` for bugs.
    pickled : bytes or None
        The pickled exception, where it loads back with the same message.
    trace : str
        The worker's formatted traceback.
    """

    worker: int
    is_input_error: bool
    message: str
    pickled: bytes | None
    trace: str


def error_report(worker: int, exc: BaseException) -> ErrorReport:
    """Describe ``exc``, raised in worker ``worker``, for the main process (call in ``except``)."""
    trace = traceback.format_exc()
    if isinstance(exc, SynthsceneError):
        return ErrorReport(worker, True, str(exc), _pickled(exc), trace)
    return ErrorReport(worker, False, f"{type(exc).__name__}: {exc}", None, trace)


def error_from_report(report: ErrorReport) -> BaseException:
    """The exception the main process raises for a worker's :class:`ErrorReport`.

    Returns
    -------
    BaseException
        For an input error, the worker's exception itself (same class and message) where it
        unpickles, else a :class:`~synthscene.errors.SynthsceneError` with the worker's message:
        the CLI prints it as one line. For a bug, a :class:`RuntimeError` whose message holds the
        worker's traceback.
    """
    logger.debug("worker %d failed:\n%s", report.worker, report.trace)
    if not report.is_input_error:
        return RuntimeError(f"worker {report.worker} failed: {report.message}\n"
                            f"worker traceback:\n{report.trace}")
    if report.pickled is not None:
        try:
            error = pickle.loads(report.pickled)
        except Exception:  # noqa: BLE001 - fall back to the plain message
            error = None
        if isinstance(error, SynthsceneError) and str(error) == report.message:
            return error
    return SynthsceneError(report.message)


def _pickled(exc: BaseException) -> bytes | None:
    """``pickle.dumps(exc)`` if it loads back with the same message, else None."""
    try:
        data = pickle.dumps(exc)
        return data if str(pickle.loads(data)) == str(exc) else None
    except Exception:  # noqa: BLE001 - e.g. an exception whose __init__ takes other arguments
        return None
