"""The frame loop and the dataset run: sample -> settle -> render -> annotate -> write.

:func:`iter_samples` yields labelled frames without writing anything (for notebooks and training
loops); :func:`generate` writes a COCO dataset, in this process or sharded over worker processes
(:mod:`synthscene.run.executors.local`) or Ray actors (:mod:`synthscene.run.executors.ray`), and can
resume an interrupted run (:mod:`synthscene.run.run_folder`). Frame ``i`` of a run with seed ``s``
draws from ``Generator(PCG64(SeedSequence([s, i])))`` (:func:`synthscene.seeding.frame_rng`), so a
frame's content does not depend on which frames were made before it, nor by which process: the
dataset is byte-identical whatever the number of workers, and after any number of resumes.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from synthscene.config.arguments import as_scenario, whole_number
from synthscene.config.loading import Scenario
from synthscene.core.state import Sample
from synthscene.errors import OptionError
from synthscene.io.layout import run_file_templates
from synthscene.io.maps import stuff_categories
from synthscene.registry.plugin_loader import load_plugins, plugins_of
from synthscene.run.executors.local import run_in_process, run_processes
from synthscene.run.executors.ray import require_ray, run_ray
from synthscene.run.frames import (
    STAGES,
    FrameMaker,
    build_library,
    physics_settings,
    render_settings,
)
from synthscene.run.memory import fit_workers
from synthscene.run.ranges import FrameRanges
from synthscene.run.run_folder import RunFolder, RunManifest, scenario_sha256
from synthscene.run.worker import FrameDone, FrameJob, frames_per_scene

if TYPE_CHECKING:  # the asset package (trimesh) loads when frames are made, not on import
    from synthscene.assets.library import AssetLibrary, SceneLibraries

__all__ = ["STAGES", "FrameDone", "GenerateSummary", "build_library",
           "generate", "iter_samples", "physics_settings", "render_settings"]

logger = logging.getLogger(__name__)

Executor = Literal["local", "ray"]


def iter_samples(scenario: Scenario, *, frames: int, seed: int = 0, start: int = 0,
                 library: SceneLibraries | AssetLibrary | None = None) -> Iterator[Sample]:
    """Yield labelled frames of ``scenario`` without writing anything.

    Parameters
    ----------
    scenario : Scenario or path
        A path is read with :func:`~synthscene.config.loading.load_scenario`.
    frames : int
        Number of frames, >= 0.
    seed : int
        Run seed, >= 0.
    start : int
        Index of the first frame (frames ``start .. start + frames - 1`` are made).
    library : SceneLibraries or AssetLibrary, optional
        Reuse already built libraries (:func:`build_library`), or a library of the scenario's
        ``assets`` (its other libraries are then built).

    Yields
    ------
    Sample
        ``render.rgb`` (H, W, 3) uint8, ``render.depth`` (H, W) float32 metres,
        ``render.instance_ids`` (H, W) int32, ``labels`` (COCO-ready per-instance labels),
        ``state`` (the settled scene) and per-stage ``timings`` in seconds.

    Raises
    ------
    OptionError
        At the call (not at the first frame) if ``frames``, ``seed`` or ``start`` is not an
        integer >= 0, or ``scenario`` is not a Scenario (a path is read).
    SynthsceneError
        For bad assets, a GL context that cannot be created, and similar.
    """
    scenario = as_scenario(scenario)
    frames, seed, start = (whole_number(name, value) for name, value in
                           (("frames", frames), ("seed", seed), ("start", start)))
    return _samples(scenario, library, seed, range(start, start + frames))


def _samples(scenario: Scenario, library: SceneLibraries | AssetLibrary | None, seed: int,
             indices: range) -> Iterator[Sample]:
    with FrameMaker(scenario, library, seed=seed) as maker:
        yield from maker.frames(indices)


@dataclass
class GenerateSummary:
    """What :func:`generate` made.

    Attributes
    ----------
    frames : int
        Frames in the dataset.
    instances : int
        Annotations in the dataset (visible, labelled instances).
    seconds : float
        Wall-clock time of this call, including start-up and the merge of ``annotations.json``.
    out_dir : Path
    annotations : Path
        The COCO instances file.
    stage_seconds : dict of str to float
        Seconds per stage (``sample``, ``physics``, ``render``, ``labels``, ``write``) summed
        over every worker, for the frames made by this call.
    made : int
        Frames made by this call; ``frames - made`` were finished by an earlier, interrupted run
        and kept (``resume=True``).
    workers : int
        Worker processes (or Ray actors) used; 1 means frames were made in this process.
    skipped_assets : tuple of str
        Keys of the broken assets left out of the libraries (``on_error: skip``), as listed
        with their reasons in the run manifest.
    """

    frames: int
    instances: int
    seconds: float
    out_dir: Path
    annotations: Path
    stage_seconds: dict[str, float] = field(default_factory=dict)
    made: int = -1
    workers: int = 1
    skipped_assets: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.made < 0:
            self.made = self.frames

    @property
    def frames_per_second(self) -> float:
        """Frames made by this call per second of its wall-clock time."""
        return self.made / self.seconds if self.seconds > 0 else float("inf")


def _default_workers() -> int:
    return os.cpu_count() or 1


def generate(scenario: Scenario, out_dir: str | Path, *, frames: int, seed: int = 0,
             overwrite: bool = False, resume: bool = False, workers: int | None = 1,
             executor: Executor = "local", address: str | None = None,
             plugins: Sequence[str] = (),
             on_start: Callable[[int, int], None] | None = None,
             on_frame: Callable[[FrameDone], None] | None = None) -> GenerateSummary:
    """Make ``frames`` labelled frames of ``scenario`` and write them as a COCO dataset.

    Writes ``out_dir/images/000001.png ...`` and, once every frame is done,
    ``out_dir/annotations.json`` (atomically: an interrupted run leaves no annotation file, but
    its finished frames, which ``resume=True`` keeps). The layout and the crash-safety rules are
    described in :mod:`synthscene.run.run_folder`.

    Parameters
    ----------
    scenario : Scenario or path
        A path is read with :func:`~synthscene.config.loading.load_scenario`.
    out_dir : str or Path
    frames : int
        >= 0.
    seed : int
        >= 0; the same seed gives byte-identical files, whatever ``workers`` and ``executor``.
    overwrite : bool
        Replace the dataset of an earlier run in ``out_dir``: exactly the files its run manifest
        (``.synthscene/manifest.json``) names are removed; a folder holding anything else
        where a run writes, or no manifest, is refused (see :mod:`synthscene.run.run_folder`).
    resume : bool
        Complete the interrupted run in ``out_dir`` (same scenario, seed and frames): finished
        frames are kept, the others made. Starts a new run if ``out_dir`` holds none; does
        nothing if the run is complete already.
    workers : int or None
        Worker processes (``executor="local"``) or Ray actors (``"ray"``), >= 1. With 1 and the
        local executor, frames are made in this process. None: every core of this machine
        (``os.cpu_count()``), or every CPU of the Ray cluster. A script that uses more than one
        local worker must guard its entry point with ``if __name__ == "__main__":`` (workers are
        spawned, see :mod:`synthscene.run.executors.local`). Local workers are lowered (with a
        logged warning) to as many as this machine's available memory holds
        (:func:`synthscene.run.memory.fit_workers`).
    executor : {"local", "ray"}
    address : str, optional
        Ray cluster address for ``executor="ray"`` (see
        :func:`synthscene.run.executors.ray.run_ray`).
    plugins : sequence of str
        Plug-ins to load (module names or ``.py`` paths, :func:`synthscene.plugins.load_plugins`)
        here and in every worker before its first frame. A scenario that names a plug-in's
        randomizers must be read after the plug-in is loaded (``load_plugins`` first). The
        manifest records these and every plug-in module the scenario uses, with its version and
        source hash; ``resume`` with different plug-in code is refused.
    on_start : callable, optional
        Called once before the first frame with ``(frames, finished)``: the dataset's frame count
        and how many of them an earlier run finished.
    on_frame : callable, optional
        Called in this process with a :class:`~synthscene.run.worker.FrameDone` as each frame is
        written (progress bars), from the calling thread.

    Returns
    -------
    GenerateSummary

    Raises
    ------
    OptionError
        If ``frames`` or ``seed`` is not an integer >= 0 (``frames`` not even with
        ``camera.stereo``), ``workers`` not one >= 1, or
        ``scenario`` not a Scenario (a path is read).
    ValueError
        If ``executor`` is unknown, or both ``overwrite`` and ``resume`` are set.
    ConfigError
        If one local worker's frame needs more memory than this machine has available
        (:func:`synthscene.run.memory.frame_memory_bytes`), before anything is written.
    OutputError
        If ``out_dir`` cannot be written (also when the disk fills up during the run: frames
        finished so far stay resumable), holds a dataset and neither ``overwrite`` nor ``resume``
        is set, or holds another run than the one to resume.
    AssetError
        Before anything is written, for a broken asset whose source says ``on_error: fail``
        (the default for a source naming one file) or a category whose assets are all broken.
        Every asset is checked before the first frame (over ``workers`` processes for a large
        library, :mod:`synthscene.assets.screening`); broken ones of a folder or glob are left
        out, logged as one warning and listed in the run manifest.
    SynthsceneError
        For rendering failures, raised in the worker that met them and re-raised here after
        every worker was stopped.
    PluginError
        If a plug-in cannot be loaded, or fails on a frame (naming the plug-in and the frame).
    """
    start_time = time.perf_counter()
    scenario = as_scenario(scenario)
    frames, seed = whole_number("frames", frames), whole_number("seed", seed)
    if scenario.spec.camera.stereo is not None and frames % 2:
        raise OptionError("frames", "", f"must be even with camera.stereo (a frame is one eye "
                                        f"of a pair), got {frames}")
    workers = _checked_workers(scenario, workers, executor=executor, overwrite=overwrite,
                               resume=resume)
    out_dir = Path(out_dir)
    loaded = load_plugins(plugins)
    library = build_library(scenario, workers=min(workers or _default_workers(),
                                                  _default_workers()))
    manifest = _run_manifest(scenario, library, seed=seed, frames=frames, plugins=plugins)
    skipped = tuple(c.key for c in library.skipped)
    progress = _Progress(on_frame)
    used = 1
    with RunFolder(out_dir) as folder:
        begun = folder.prepare(manifest, overwrite=overwrite, resume=resume)
        if skipped:
            logger.warning("%d asset%s skipped (broken); list in %s", len(skipped),
                           "s" if len(skipped) > 1 else "", folder.manifest_path)
        if on_start is not None:
            on_start(frames, begun.finished_count)
        if begun.complete:
            logger.info("%s holds the complete dataset of this run already", out_dir)
            return GenerateSummary(frames=frames, instances=folder.count_annotations(),
                                   seconds=time.perf_counter() - start_time, out_dir=out_dir,
                                   annotations=folder.annotations_path,
                                   stage_seconds=progress.totals, made=0, workers=0,
                                   skipped_assets=skipped)
        pending = begun.pending  # ranges: no list of 10^8 frame numbers
        job = FrameJob(scenario=scenario, library=library, seed=seed,
                       out_dir=out_dir.resolve(),
                       log_level=logging.getLogger("synthscene").getEffectiveLevel(),
                       plugins=tuple(p.source for p in loaded))
        if pending:
            try:
                used = _run(job, pending, workers=workers, executor=executor, address=address,
                            on_done=progress.on_done)
            finally:
                if executor == "local":
                    folder.remove_temporaries()
        instances = _finalize(folder, job, frames)
    return GenerateSummary(frames=frames, instances=instances,
                           seconds=time.perf_counter() - start_time, out_dir=out_dir,
                           annotations=folder.annotations_path, stage_seconds=progress.totals,
                           made=len(pending), workers=used if pending else 0,
                           skipped_assets=skipped)


def _checked_workers(scenario: Scenario, workers: int | None, *, executor: Executor,
                     overwrite: bool, resume: bool) -> int | None:
    """Check :func:`generate`'s run options; return the workers to use: for the local executor
    as many as this machine's memory holds (a frame too large for it is refused here, before
    the folder is touched).

    Raises
    ------
    OptionError, ValueError, ConfigError
        As :func:`generate`.
    """
    if workers is not None:
        workers = whole_number("workers", workers, low=1)
    if executor not in ("local", "ray"):
        raise ValueError(f"executor must be 'local' or 'ray', got {executor!r}")
    if overwrite and resume:
        raise ValueError("overwrite and resume exclude each other")
    if executor == "ray":
        require_ray()  # before touching the folder
        return workers
    return fit_workers(scenario, workers or _default_workers())


def _run_manifest(scenario: Scenario, library: SceneLibraries, *, seed: int, frames: int,
                  plugins: Sequence[str]) -> RunManifest:
    """What identifies this run: the scenario's hash, seed, frames, plug-ins and files."""
    return RunManifest(scenario_sha256=scenario_sha256(scenario, library.keys,
                                                       library.categories),
                       seed=seed, frames=frames,
                       plugins=tuple(p.record() for p in plugins_of(scenario.spec, plugins)),
                       files=run_file_templates(scenario.spec.outputs,
                                                scenario.spec.render.image_format,
                                                stereo=scenario.spec.camera.stereo is not None),
                       frames_per_scene=frames_per_scene(scenario),
                       skipped_assets=tuple({"asset": c.key, "file": c.file,
                                             "reason": c.reason} for c in library.skipped))


class _Progress:
    """Sums the stage timings of the frames written and passes each on to ``on_frame``."""

    def __init__(self, on_frame: Callable[[FrameDone], None] | None) -> None:
        self.totals = dict.fromkeys(STAGES, 0.0)
        self.on_frame = on_frame

    def on_done(self, done: FrameDone) -> None:
        for stage, seconds in done.timings.items():
            self.totals[stage] = self.totals.get(stage, 0.0) + seconds
        if self.on_frame is not None:
            self.on_frame(done)


def _finalize(folder: RunFolder, job: FrameJob, frames: int) -> int:
    """Merge the finished frames into ``annotations.json``; return the instance count."""
    from synthscene.labels.models_info import model_entries  # scipy: only when a run ends

    scenario, library = job.scenario, job.library
    outputs = scenario.spec.outputs
    return folder.finalize(
        frames, categories=library.categories, description=f"synthscene: {scenario.spec.name}",
        keypoints=outputs.keypoints,
        stuff_categories=(stuff_categories(job.category_ids) if outputs.semantic_mask
                          else None),
        models=model_entries(scenario, library) if outputs.pose else None)


def _run(job: FrameJob, pending: FrameRanges, *, workers: int | None, executor: Executor,
         address: str | None, on_done: Callable[[FrameDone], None]) -> int:
    """Make ``pending`` with the chosen executor; return the number of workers used."""
    if executor == "ray":
        return run_ray(job, pending, workers=workers, address=address, on_done=on_done)
    count = min(workers or _default_workers(), len(pending))
    if count == 1:
        run_in_process(job, pending, on_done)
    else:
        run_processes(job, pending, count, on_done)
    return count
