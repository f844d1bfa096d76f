"""Local executors: make a run's frames in this process, or in worker processes on this machine.

Worker processes are started with the ``spawn`` method of :mod:`multiprocessing` (a fresh Python
interpreter), never ``fork``: a forked copy of a process that holds a GL context or a pybullet
client shares driver state with its parent and may deadlock or corrupt it. As with any spawned
process, a script that calls :func:`synthscene.generate` with ``workers > 1`` must guard its entry
point with ``if __name__ == "__main__":`` (Python's multiprocessing guidelines).

Sharding is dynamic: the main process puts frame indices (a scene's at a time) on one task queue
and each worker takes the next group when it is free, so workers finish together even when frames
differ in cost. A thread of the main process fills the queue, which holds at most
:data:`QUEUED_PER_WORKER` groups per worker, so a run of 10^8 frames costs no more memory than a
run of ten.
Which worker makes which frame does not matter: frame ``i`` depends only on ``(seed, i)``.
Workers report each written frame on an event queue (one progress bar for all of them); the first
worker error stops every worker and is raised in the main process with the worker's message. A
worker whose parent dies (``kill -9``) exits by itself. A worker killed by a fatal signal leaves
the stack of its threads in the run folder (:mod:`synthscene.run.crash_logs`), and the message
names the file.
"""

from __future__ import annotations

import itertools
import logging
import multiprocessing
import os
import queue
import signal
import sys
import threading
import time
from collections.abc import Callable, Collection, Iterable, Iterator
from typing import Any

from synthscene.errors import SynthsceneError
from synthscene.run.crash_logs import (
    crash_log_path,
    crash_note,
    fault_log,
    remove_crash_logs,
)
from synthscene.run.worker import (
    FrameDone,
    FrameJob,
    FrameWorker,
    error_from_report,
    error_report,
    frames_per_scene,
    scene_groups,
)

__all__ = ["run_in_process", "run_processes"]

logger = logging.getLogger(__name__)

POLL_SECONDS = 0.5
"""How often the main process checks that its workers are alive while it waits for events."""
JOIN_SECONDS = 30.0
"""How long finished workers get to release their GL context and exit before being killed."""
QUEUED_PER_WORKER = 2
"""Scene groups waiting on the task queue per worker (so a worker never waits for the main
process between groups, and the queue stays small whatever the frame count)."""
EXIT_PARENT_GONE = 70
"""Exit status of a worker whose parent process died."""


def run_in_process(job: FrameJob, frames: Iterable[int],
                   on_done: Callable[[FrameDone], None]) -> None:
    """Make and write ``frames`` of ``job`` in this process.

    Parameters
    ----------
    job : FrameJob
    frames : iterable of int
        Frame indices, made in this order (read lazily).
    on_done : callable
        Called, from this thread, with a :class:`~synthscene.run.worker.FrameDone` for each frame
        written.

    Raises
    ------
    SynthsceneError
        The first failure making or writing a frame.
    """
    written: queue.SimpleQueue[FrameDone] = queue.SimpleQueue()

    def indices() -> Iterator[int]:
        for index in frames:
            _deliver(written, on_done)
            yield index

    with FrameWorker(job, 0, on_done=written.put) as worker:
        worker.run(indices())
    _deliver(written, on_done)


def _deliver(written: queue.SimpleQueue[FrameDone], on_done: Callable[[FrameDone], None]) -> None:
    """Pass the frames the writer thread reported to ``on_done``, in this thread."""
    while True:
        try:
            done = written.get_nowait()
        except queue.Empty:
            return
        on_done(done)


def run_processes(job: FrameJob, frames: Collection[int], workers: int,
                  on_done: Callable[[FrameDone], None]) -> None:
    """Make and write ``frames`` of ``job`` in ``workers`` spawned processes.

    Parameters
    ----------
    job : FrameJob
    frames : collection of int
        Frame indices (a list, or :class:`~synthscene.run.ranges.FrameRanges`), read lazily;
        each is made exactly once, by whichever worker is free.
    workers : int
        Number of processes, >= 1 (fewer are started if there are fewer frames).
    on_done : callable
        Called in this process, from this thread, with each worker's
        :class:`~synthscene.run.worker.FrameDone`.

    Raises
    ------
    ValueError
        If ``workers`` < 1.
    SynthsceneError
        The first error of any worker (the same class and message where it can be rebuilt, else a
        :class:`SynthsceneError` with the worker's message); or a worker process that died (the
        message gives its exit status or the signal that killed it). Every worker is stopped
        before it is raised.
    RuntimeError
        A bug in a worker (an exception that is not a :class:`SynthsceneError`), with the worker's
        traceback in its message.
    """
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    remaining = len(frames)  # each frame is reported exactly once
    if not remaining:
        return
    count = min(workers, remaining)
    context = multiprocessing.get_context("spawn")
    tasks = context.Queue(maxsize=QUEUED_PER_WORKER * count)
    events = context.Queue()
    stop = threading.Event()
    feeder = threading.Thread(target=_feed, name="synthscene-feed", daemon=True, args=(
        tasks, scene_groups(frames, frames_per_scene(job.scenario)), count, stop))
    feeder.start()
    processes: list[Any] = []
    crash_logs = [crash_log_path(job.out_dir, worker) for worker in range(count)]
    try:
        for worker in range(count):
            process = context.Process(target=_process_main, args=(job, worker, tasks, events),
                                      name=f"synthscene-worker-{worker}", daemon=True)
            process.start()
            processes.append(process)
        logger.info("started %d worker processes for %d frames", count, remaining)
        last_check = time.monotonic()
        while remaining:
            try:
                event = events.get(timeout=POLL_SECONDS)
            except queue.Empty:
                _check_alive(processes, remaining, idle=True, crash_logs=crash_logs)
                continue
            if time.monotonic() - last_check > POLL_SECONDS:  # a worker may die while others
                _check_alive(processes, remaining, idle=False,  # keep reporting
                             crash_logs=crash_logs)
                last_check = time.monotonic()
            kind = event[0]
            if kind == "frame":
                remaining -= 1
                on_done(event[1])
            elif kind == "error":
                raise error_from_report(event[1])
        for process in processes:
            process.join(JOIN_SECONDS)
    finally:
        stop.set()
        _stop(processes)
        remove_crash_logs(job.out_dir, empty_only=True)  # workers stopped, not crashed
        feeder.join()
        tasks.cancel_join_thread()
        tasks.close()
        events.close()


def _feed(tasks: Any, groups: Iterator[list[int]], workers: int,
          stop: threading.Event) -> None:
    """Put every group on the (bounded) task queue, then one ``None`` per worker; give up when
    ``stop`` is set. Runs on a thread of the main process: the queue's bound, not the frame
    count, sets how many groups are held."""
    for item in itertools.chain(groups, itertools.repeat(None, workers)):
        while True:
            if stop.is_set():
                return
            try:
                tasks.put(item, timeout=POLL_SECONDS)
                break
            except queue.Full:
                continue


def _check_alive(processes: list[Any], remaining: int, *, idle: bool,
                 crash_logs: list[Any] | None = None) -> None:
    """Raise if a worker died (naming the file with its stack, from ``crash_logs``, one path
    per process, if it left one); if ``idle`` (no event came for a while), also if every
    worker exited (normally) with frames left."""
    for i, process in enumerate(processes):
        if process.exitcode not in (None, 0):
            code = process.exitcode
            how = f"was killed by signal {-code}{_signal_name(-code)}" if code < 0 \
                else f"exited with status {code}"
            note = crash_note(crash_logs[i]) if crash_logs is not None and code < 0 else ""
            raise SynthsceneError(f"worker process {process.name} {how} before its "
                                  f"frames were written{note}")
    if idle and all(process.exitcode is not None for process in processes):
        raise SynthsceneError(f"every worker process exited with {remaining} frames not made")


def _signal_name(number: int) -> str:
    """`` (SIGKILL)`` for 9: what is known about a worker's death, and no guess at its cause
    (a SIGKILL may come from the out-of-memory killer, a user or a job scheduler)."""
    try:
        return f" ({signal.Signals(number).name})"
    except ValueError:
        return ""


def _stop(processes: list[Any]) -> None:
    """Terminate the workers still running and reap every one (no zombie is left)."""
    for process in processes:
        if process.is_alive():
            process.terminate()
    for process in processes:
        process.join(5.0)
        if process.is_alive():  # pragma: no cover - SIGTERM was ignored
            process.kill()
            process.join()


def _process_main(job: FrameJob, worker: int, tasks: Any, events: Any) -> None:
    """Entry point of a worker process: take groups of frame indices (one scene's) until
    ``None``, report on events."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the main process decides what Ctrl-C stops
    _exit_with_parent()
    logging.basicConfig(level=job.log_level,
                        format=f"%(levelname)s %(name)s [worker {worker}]: %(message)s")
    try:
        with fault_log(crash_log_path(job.out_dir, worker)), \
                FrameWorker(job, worker, on_done=lambda done: events.put(("frame", done))) as w:
            w.run(index for group in iter(tasks.get, None) for index in group)
        events.put(("done", worker))
    except BaseException as exc:  # noqa: BLE001 - every failure must reach the main process
        events.put(("error", error_report(worker, exc)))
        return
    # Every file is written and closed and the GL context and pybullet client are released:
    # once the events are in the pipe, nothing is left to do. Tearing down the interpreter
    # (freeing every module and mesh) would take about 0.3 s that the main process waits for.
    events.close()
    events.join_thread()
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    os._exit(0)


def _exit_with_parent() -> None:
    """Exit this process as soon as its parent dies (a ``kill -9`` of the main process)."""
    parent = multiprocessing.parent_process()
    if parent is None:  # pragma: no cover - not a multiprocessing child
        return

    def watch() -> None:
        parent.join()  # returns when the parent's end of the spawn pipe closes
        os._exit(EXIT_PARENT_GONE)

    threading.Thread(target=watch, name="synthscene-parent-watch", daemon=True).start()
