"""The frame loop: sample -> settle -> render -> annotate -> write.

:func:`iter_samples` yields labelled frames without writing anything (for notebooks and training
loops); :func:`generate` writes a COCO dataset. Frame ``i`` of a run with seed ``s`` draws from
``Generator(PCG64(SeedSequence([s, i])))`` (:func:`synthscene.seeding.frame_rng`), so a frame's
content does not depend on which frames were made before it.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from synthscene.assets import AssetLibrary, AssetSource
from synthscene.config import Scenario
from synthscene.errors import OutputError
from synthscene.labels import annotate
from synthscene.physics import PhysicsSettings, PhysicsSimulator
from synthscene.randomize.scene import sample_scene
from synthscene.render import Renderer, RenderSettings
from synthscene.seeding import frame_rng
from synthscene.state import Sample
from synthscene.writers.coco import CocoWriter

logger = logging.getLogger(__name__)

PRELOAD_LIMIT = 200
"""Libraries with at most this many assets are loaded up front, so a broken asset fails before
any frame is made; larger ones (globs over thousands of files) load each asset on first use."""

STAGES = ("sample", "physics", "render", "labels", "write")


def build_library(scenario: Scenario) -> AssetLibrary:
    """Index (and, for small libraries, load) the scenario's assets.

    Raises
    ------
    AssetError
        Naming the scenario file and the ``assets[i].source`` field of a bad source.
    """
    sources = [
        AssetSource(source=e.source, category=e.category, base_dir=scenario.base_dir,
                    where=f"{scenario.source}: assets[{i}].source")
        for i, e in enumerate(scenario.spec.assets)
    ]
    library = AssetLibrary(sources)
    if len(library) <= PRELOAD_LIMIT:
        library.preload()
    return library


def physics_settings(scenario: Scenario) -> PhysicsSettings:
    """The :class:`PhysicsSettings` a scenario asks for (its defaults where the scenario is
    silent)."""
    p = scenario.spec.physics
    given = {"timestep": p.timestep_s, "max_steps": p.max_steps,
             "lateral_friction": p.lateral_friction, "restitution": p.restitution}
    return PhysicsSettings(enabled=p.enabled,
                           **{name: value for name, value in given.items() if value is not None})


def render_settings(scenario: Scenario) -> RenderSettings:
    """The :class:`RenderSettings` a scenario asks for."""
    r = scenario.spec.render
    return RenderSettings(shading=r.shading, shadows=r.shadows, msaa_samples=r.msaa_samples)


def iter_samples(scenario: Scenario, *, frames: int, seed: int = 0, start: int = 0,
                 library: AssetLibrary | None = None) -> Iterator[Sample]:
    """Yield labelled frames of ``scenario`` without writing anything.

    Parameters
    ----------
    scenario : Scenario
    frames : int
        Number of frames, >= 0.
    seed : int
        Run seed, >= 0.
    start : int
        Index of the first frame (frames ``start .. start + frames - 1`` are made).
    library : AssetLibrary, optional
        Reuse an already built library.

    Yields
    ------
    Sample
        ``render.rgb`` (H, W, 3) uint8, ``render.depth`` (H, W) float32 metres,
        ``render.instance_ids`` (H, W) int32, ``labels`` (COCO-ready per-instance labels),
        ``state`` (the settled scene) and per-stage ``timings`` in seconds.

    Raises
    ------
    SynthsceneError
        For bad assets, a GL context that cannot be created, and similar.
    """
    if frames < 0 or seed < 0 or start < 0:
        raise ValueError("frames, seed and start must be >= 0")
    library = library or build_library(scenario)
    spec = scenario.spec
    with PhysicsSimulator(library, physics_settings(scenario)) as physics, \
            Renderer(library, spec.image.width, spec.image.height,
                     render_settings(scenario)) as renderer:
        # Software pipeline: frame i's GL work is submitted, then frame i + 1 is sampled and
        # settled (physics, on this thread) while the GL driver rasterises frame i in its own
        # threads; then frame i's pixels are collected and labelled.
        pending = None
        for index in range(start, start + frames + 1):
            state = None
            if index < start + frames:
                t0 = time.perf_counter()
                state = sample_scene(scenario, library, rng=frame_rng(seed, index),
                                     seed=(seed, index))
                t1 = time.perf_counter()
                state = physics.settle(state)
                t2 = time.perf_counter()
                timings = {"sample": t1 - t0, "physics": t2 - t1}
            if pending is not None:
                done_index, done_state, done_timings, frame = pending
                t3 = time.perf_counter()
                output = frame.result()
                t4 = time.perf_counter()
                labels = annotate(done_state, output)
                done_timings["render"] += t4 - t3
                done_timings["labels"] = time.perf_counter() - t4
                pending = None
                yield Sample(frame_index=done_index, state=done_state, render=output,
                             labels=labels, timings=done_timings)
            if state is not None:
                t5 = time.perf_counter()
                frame = renderer.submit(state)
                timings["render"] = time.perf_counter() - t5
                pending = (index, state, timings, frame)


@dataclass
class GenerateSummary:
    """What :func:`generate` made.

    Attributes
    ----------
    frames : int
    instances : int
        Annotations written (visible, labelled instances).
    seconds : float
        Wall-clock time of the whole run, including start-up.
    out_dir : Path
    annotations : Path
        The COCO instances file.
    stage_seconds : dict of str to float
        Total seconds per stage (``sample``, ``physics``, ``render``, ``labels``, ``write``).
    """

    frames: int
    instances: int
    seconds: float
    out_dir: Path
    annotations: Path
    stage_seconds: dict[str, float] = field(default_factory=dict)

    @property
    def frames_per_second(self) -> float:
        """Frames per second over the whole run."""
        return self.frames / self.seconds if self.seconds > 0 else float("inf")


def _prepare_out_dir(out_dir: Path, overwrite: bool) -> None:
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputError(f"{out_dir}: exists and is not a folder")
    existing = [p for p in (out_dir / "annotations.json", out_dir / "images") if p.exists()]
    if existing and not overwrite:
        raise OutputError(f"{out_dir}: holds a dataset already ({existing[0].name}); choose "
                          "another folder or pass --overwrite")
    try:
        for p in existing:
            shutil.rmtree(p) if p.is_dir() else p.unlink()
    except OSError as exc:
        raise OutputError(f"{out_dir}: cannot remove the old dataset ({exc.strerror})") from None


def generate(scenario: Scenario, out_dir: str | Path, *, frames: int, seed: int = 0,
             overwrite: bool = False,
             on_frame: Callable[[Sample], None] | None = None) -> GenerateSummary:
    """Make ``frames`` labelled frames of ``scenario`` and write them as a COCO dataset.

    Writes ``out_dir/images/000001.png ...`` and, once every frame is done,
    ``out_dir/annotations.json`` (atomically: an interrupted run leaves no annotation file).

    Parameters
    ----------
    scenario : Scenario
    out_dir : str or Path
    frames : int
        >= 0.
    seed : int
        >= 0; the same seed gives byte-identical files.
    overwrite : bool
        Replace a dataset already in ``out_dir`` (only its ``images/`` and
        ``annotations.json`` are removed).
    on_frame : callable, optional
        Called with each :class:`Sample` after it is written (progress bars).

    Returns
    -------
    GenerateSummary

    Raises
    ------
    OutputError
        If ``out_dir`` cannot be written, or holds a dataset and ``overwrite`` is False.
    SynthsceneError
        For bad assets and rendering failures.
    """
    start_time = time.perf_counter()
    out_dir = Path(out_dir)
    library = build_library(scenario)
    _prepare_out_dir(out_dir, overwrite)
    totals = dict.fromkeys(STAGES, 0.0)
    instances = 0
    writer = CocoWriter(out_dir, library.categories,
                        description=f"synthscene: {scenario.spec.name}",
                        png_compression=scenario.spec.render.png_compression)
    with writer:
        for sample in iter_samples(scenario, frames=frames, seed=seed, library=library):
            t0 = time.perf_counter()
            writer.write(sample)
            sample.timings["write"] = time.perf_counter() - t0
            for stage, seconds in sample.timings.items():
                totals[stage] = totals.get(stage, 0.0) + seconds
            instances += len(sample.labels)
            if on_frame is not None:
                on_frame(sample)
    annotations = out_dir / "annotations.json"
    return GenerateSummary(frames=frames, instances=instances,
                           seconds=time.perf_counter() - start_time, out_dir=out_dir,
                           annotations=annotations, stage_seconds=totals)
