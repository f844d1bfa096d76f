"""Ray executor: a run's frames made by Ray actors on a cluster, or on a local Ray instance.

Each Ray actor is one worker (one CPU): it holds a :class:`~synthscene.run.worker.FrameWorker` (its
own GL context and pybullet client, assets loaded once) for the whole run, and is given small
chunks of frame indices as Ray tasks (actor method calls). The driver keeps two chunks in flight
per actor and hands the next chunk to whichever actor finishes, so actors finish together.
Actors write PNGs and frame records straight into the run folder, which must therefore be on a
file system every node sees at the same path (NFS, Lustre, a mounted bucket, ...); the driver
merges the records into ``annotations.json`` exactly as for local workers, so the dataset is
byte-identical to a local run.

An actor killed by a fatal signal leaves the stack of its threads in the run folder
(:mod:`synthscene.run.crash_logs`), and the run's message names the file.

Scheduling, nodes and restarts are Ray's (``ray up``, KubeRay, ``ray start`` inside a SLURM
allocation); synthscene only asks for ``num_cpus=1`` per actor. Ray is optional:
``pip install 'synthscene[ray]'``.
"""

from __future__ import annotations

import contextlib
import logging
import os
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

__all__ = ["require_ray", "run_ray"]

logger = logging.getLogger(__name__)

IN_FLIGHT_PER_ACTOR = 2
"""Chunks queued per actor, so an actor never waits for the driver between chunks."""
MAX_CHUNK = 8
"""Most frames per Ray task (fewer when there are few frames per actor)."""


def require_ray() -> Any:
    """Import and return the ``ray`` module.

    Raises
    ------
    SynthsceneError
        If Ray is not installed, telling the user how to install it.
    """
    try:
        import ray
    except ImportError:
        raise SynthsceneError("the Ray executor needs Ray, which is not installed: "
                              "pip install 'synthscene[ray]'") from None
    return ray


class _FrameActor:
    """Body of a Ray actor: one :class:`FrameWorker` kept open across calls, and the fault
    log of its process (:func:`~synthscene.run.crash_logs.fault_log`) until it is closed."""

    def __init__(self, job: FrameJob, worker: int) -> None:
        self._job = job
        self._worker_index = worker
        self._worker: FrameWorker | None = None
        self._done: list[FrameDone] = []
        self._fault_log = contextlib.ExitStack()
        self._fault_log.enter_context(fault_log(crash_log_path(job.out_dir, worker)))

    def make(self, frames: list[int]) -> tuple[str, Any]:
        """Make and write ``frames``; return ``("ok", [FrameDone])`` or ``("error", report)``."""
        try:
            if self._worker is None:
                worker = FrameWorker(self._job, self._worker_index, on_done=self._done.append)
                worker.__enter__()
                self._worker = worker
            self._worker.run(frames)
            self._worker.flush()
        except BaseException as exc:  # noqa: BLE001 - every failure must reach the driver
            return "error", error_report(self._worker_index, exc)
        done = list(self._done)  # the writer thread is idle after flush()
        self._done.clear()
        return "ok", done

    def close(self) -> None:
        """Release the GL context and the pybullet client; remove the fault log."""
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.__exit__(None, None, None)
        self._fault_log.close()


def _chunks(frames: Iterable[int], size: int, views_per_scene: int) -> Iterator[list[int]]:
    """Tasks of about ``size`` frames, each made of whole scenes (:func:`scene_groups`); lazy,
    so only the chunks in flight are ever held."""
    chunk: list[int] = []
    for group in scene_groups(frames, views_per_scene):
        if chunk and len(chunk) + len(group) > size:
            yield chunk
            chunk = []
        chunk.extend(group)
    if chunk:
        yield chunk


def run_ray(job: FrameJob, frames: Collection[int], *, workers: int | None,
            address: str | None, on_done: Callable[[FrameDone], None]) -> int:
    """Make and write ``frames`` of ``job`` with Ray actors.

    Parameters
    ----------
    job : FrameJob
        Its ``out_dir`` must be absolute and on a file system shared by every node.
    frames : collection of int
        A list, or :class:`~synthscene.run.ranges.FrameRanges` (read lazily).
    workers : int or None
        Actors (one CPU each). None: every CPU of the cluster (``ray.cluster_resources()``), or
        of this machine when Ray is started here.
    address : str or None
        Address of a running cluster (``"auto"``, ``"10.0.0.1:6379"``, ``"ray://head:10001"``),
        passed to ``ray.init``. None: connect to the Ray instance this process started already,
        or start a local one with ``workers`` CPUs (shut down at the end).
    on_done : callable
        Called in this process with each :class:`~synthscene.run.worker.FrameDone`.

    Returns
    -------
    int
        The number of actors used.

    Raises
    ------
    SynthsceneError
        If Ray is not installed or cannot connect; the first error of any actor (with its
        message); an actor that died.
    RuntimeError
        A bug in an actor, with its traceback.
    """
    ray = require_ray()
    from ray.exceptions import RayActorError, RayError

    started_here = False
    if not ray.is_initialized():
        try:
            if address:
                ray.init(address=address, logging_level=logging.WARNING)
            else:
                ray.init(num_cpus=workers or os.cpu_count() or 1, include_dashboard=False,
                         logging_level=logging.WARNING)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise SynthsceneError(f"cannot start or reach Ray at {address or 'this machine'}: "
                                  f"{exc}") from None
        started_here = True
    actors: list[Any] = []
    try:
        count = workers or int(ray.cluster_resources().get("CPU", 1))
        count = max(1, min(count, len(frames)))
        size = max(1, min(MAX_CHUNK, len(frames) // (4 * count)))
        chunks = _chunks(frames, size, frames_per_scene(job.scenario))
        actor_class = ray.remote(num_cpus=1, max_restarts=0)(_FrameActor)
        actors = [actor_class.remote(job, worker) for worker in range(count)]
        logger.info("Ray: %d actors, %d frames in chunks of %d", count, len(frames), size)
        in_flight: dict[Any, Any] = {}

        def feed(actor: Any) -> None:
            chunk = next(chunks, None)
            if chunk is not None:
                in_flight[actor.make.remote(chunk)] = actor

        for actor in actors:
            for _ in range(IN_FLIGHT_PER_ACTOR):
                feed(actor)
        while in_flight:
            ready, _ = ray.wait(list(in_flight), num_returns=1)
            actor = in_flight.pop(ready[0])
            try:
                status, payload = ray.get(ready[0])
            except RayActorError as exc:
                index = actors.index(actor)
                note = crash_note(crash_log_path(job.out_dir, index))
                first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
                raise SynthsceneError(  # one line: Ray's own report runs over many
                    f"Ray worker {index} died before its frames were written"
                    f"{note or ' (out of memory, or its node was lost?)'}: {first}") from None
            except RayError as exc:
                raise RuntimeError(f"a Ray worker failed: {exc}") from None
            if status == "error":
                raise error_from_report(payload)
            for done in payload:
                on_done(done)
            feed(actor)
        ray.get([actor.close.remote() for actor in actors])
        return count
    finally:
        for actor in actors:
            try:
                ray.kill(actor)
            except Exception:  # noqa: BLE001 - best effort while stopping
                pass
        if started_here:
            ray.shutdown()
        remove_crash_logs(job.out_dir, empty_only=True)  # actors stopped, not crashed
