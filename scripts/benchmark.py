#!/usr/bin/env python
"""Benchmark synthscene end to end: labelled frames written to disk per second, and per stage.

Standard workload: the bundled default scenario, 640x480, exactly 20 objects, default
lit shading, PNG images + COCO annotations written to a temporary folder.

    python scripts/benchmark.py                    # standard workload, 1 process, 3 runs of 60
    python scripts/benchmark.py --frames 200 --runs 5 --objects 30 --shading flat
    python scripts/benchmark.py --workers 2        # synthscene.generate with 2 worker processes
    python scripts/benchmark.py --workers 2 --soak 5000   # memory of each worker over 5000 frames
    python scripts/benchmark.py --workers 2 --views 4 --shading flat --jpeg --soak 5000
    python scripts/benchmark.py --workers 2 --lens brown_conrady --depth-sensor structured_light
    python scripts/benchmark.py --lens brown_conrady --against-pinhole   # alternated, 2 workers
    python scripts/benchmark.py --workers 2 --stereo 0.06
    python scripts/benchmark.py --render-only --shadows off   # the render stage without shadows
    python scripts/benchmark.py --light full       # shadows, environment and AO against none
    python scripts/benchmark.py --light ambient_occlusion --render-only   # one switch, rendering

Prints the machine, every run's frames/s, the median, and the median milliseconds per frame of
each stage (sample, physics, render, labels, write). Start-up (asset loading, GL context) is timed
separately and excluded from frames/s; the first ``--warmup`` frames of each run are excluded too.

Each run is a real ``synthscene.generate(..., workers=N)`` (``--workers``, default 1: in this
process; N > 1: N spawned processes) into a fresh folder, so what is timed is what ``generate``
does: the clock starts when ``warmup * N`` frames
are on disk and stops when ``annotations.json`` is written, so process start-up is excluded and
the final merge included. Stage times are then per frame, summed over workers; the CPU line gives
the workers' CPU time per frame, every thread (llvmpipe's rasteriser and the PNG writer too), and
how many cores that keeps busy: a scaling efficiency below 100 % from 1 to N workers is either
work one worker already spreads over more than one core, or contention (CPU per frame grows).

``--render-only`` times rendering alone (the shading modes' own cost): each run's frames are
sampled and settled first, untimed, then rendered one after another, each read back (RGB,
instance ids, depth, and the amodal masks) before the next is drawn.

``--suite`` (the report of ``docs/performance.md``) measures, in one sitting, ``generate``
frames/s with 1 and 2 workers of: the standard workload (one view per scene),
``camera.views_per_scene: 4``, and ``views_per_scene: 4`` with flat shading and JPEG images, each
with the workers' CPU ms per frame; and, as the reference every figure is divided by, pyrender's
stock ``OffscreenRenderer`` rendering the same settled scenes (colour + depth, default lit
shading, one mesh per asset uploaded once, a new ``pyrender.Scene`` per frame, as a pyrender user
writes it).

``--sequence`` measures labelled frames/s of 24-frame sequences with optical flow
(``scenes/tossed_objects.yaml`` unless a scene is given; point tracks off), through ``generate``
with ``--workers`` (default 2) over ``--frames`` frames (default 96: four sequences); the clock
starts once ``warmup`` frames per worker are written.

``--placement stable`` compares the standard workload with ``objects.placement: stable``
(objects at rest in their stable poses on the ground, no settling) against ``drop`` in one
sitting: ``--runs`` runs of each, alternated, with ``--workers`` (default 2); it prints each
placement's median frames/s and median ms per frame of each stage, the ratio of the
medians, each alternated pair's ratio, and how much less CPU a frame takes (the workers' CPU,
every thread: the ceiling of the frames/s gain on a machine whose cores are all busy). Each run
prints the load average: other work on the machine skews single runs.

``--light full`` compares the standard workload with shadows, the environment light and ambient
occlusion against none of them, in one sitting (``--runs`` runs of each, alternated, with
``--workers``, default 2), and prints each one's median frames/s and ms per frame of each stage
and the ratio; ``--light shadows``, ``--light environment`` or ``--light ambient_occlusion``
compares that one alone against none. A switch the scenario sets keeps its values; one it lacks
is switched on with its defaults (``environment``: the procedural sky). With ``--render-only`` the
comparison renders settled frames in this process instead (the render stage alone, and its CPU
time per frame, every thread: steadier than frames/s on a shared machine).

``--lens NAME --against-pinhole`` compares the workload through a lens with the same workload
without it (the pinhole), ``--runs`` runs of each alternated with ``--workers`` (default 2), as
``--light`` does: the medians, the ratio and the CPU per frame of each.

``--soak FRAMES`` makes one run of FRAMES frames and prints each worker's resident memory (RSS,
from ``/proc/self/statm``) once it has made 10 % of its share of the frames (at least
``--warmup``; by then every asset and cache has been used), once it has made half of it and at
its last frame, and the growth from the first and over the second half.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import trimesh
import yaml

import synthscene
from synthscene.config.loading import scenario_from_dict
from synthscene.errors import SynthsceneError
from synthscene.resources import default_scene_path
from synthscene.run.crash_logs import crash_logs
from synthscene.run.pipeline import STAGES, FrameDone, build_library, generate, iter_samples

LENSES = {
    "brown_conrady": {"model": "brown_conrady", "k1": {"uniform": [-0.25, -0.15]}, "k2": 0.05,
                      "p1": {"uniform": [-0.001, 0.001]}, "p2": {"uniform": [-0.001, 0.001]}},
    "kannala_brandt": {"model": "kannala_brandt", "k1": {"uniform": [-0.02, 0.03]},
                       "k2": {"uniform": [-0.01, 0.01]}},
    # A calibrated camera: fixed coefficients (use with --fov-deg, so that K is fixed too and
    # the warp maps are made once per worker).
    "brown_conrady_calibrated": {"model": "brown_conrady", "k1": -0.2, "k2": 0.05,
                                 "p1": 0.0005, "p2": -0.0005},
}
"""The lenses of ``--lens``."""


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("scene", nargs="?", type=Path, default=None,
                   help="scenario YAML (default: the bundled tabletop)")
    p.add_argument("--frames", type=int, default=60, help="timed frames per run")
    p.add_argument("--warmup", type=int, default=5, help="untimed frames at the start of a run")
    p.add_argument("--runs", type=int, default=3, help="runs; the median is reported")
    p.add_argument("--objects", type=int, default=20, help="objects per frame (fixed count)")
    p.add_argument("--width", type=int, default=640)
    p.add_argument("--height", type=int, default=480)
    p.add_argument("--shading", choices=["lit", "flat"], default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--textures", action="store_true",
                   help="the randomized workload: a random procedural texture on every object "
                        "and on the ground")
    p.add_argument("--views", type=int, default=None, metavar="K",
                   help="camera.views_per_scene: K views of each settled scene")
    p.add_argument("--lens", choices=sorted(LENSES), default=None,
                   help="camera.distortion: a lens (docs/cameras.md)")
    p.add_argument("--against-pinhole", action="store_true",
                   help="with --lens: runs of the lens and of the same workload without it, "
                        "alternated (2 workers unless --workers)")
    p.add_argument("--fov-deg", type=float, default=None,
                   help="camera.fov_deg fixed to this value (the scene draws it otherwise)")
    p.add_argument("--depth-sensor", choices=["structured_light", "stereo"], default=None,
                   help="outputs.depth_sensor: a depth sensor's noisy reading")
    p.add_argument("--stereo", type=float, default=None, metavar="BASELINE_M",
                   help="camera.stereo: stereo pairs (each frame is one eye; frames rounded "
                        "up to even)")
    p.add_argument("--jpeg", action="store_true", help="render.image_format: jpg")
    p.add_argument("--shadows", choices=["on", "off"], default=None,
                   help="render.shadows: true or false (default: as the scene says)")
    p.add_argument("--all-outputs", action="store_true",
                   help="every optional output on (depth, normals, semantic and instance masks); "
                        "measured through synthscene.generate, which writes their files")
    p.add_argument("--workers", type=int, default=None,
                   help="synthscene.generate with N worker processes (default 1: in this process)")
    p.add_argument("--render-only", action="store_true",
                   help="time rendering alone, on frames sampled and settled beforehand")
    p.add_argument("--suite", action="store_true",
                   help="the performance report: standard, 4 views, 4 views + flat + JPEG, with 1 "
                        "and 2 workers, and pyrender's stock renderer as the reference")
    p.add_argument("--sequence", action="store_true",
                   help="the sequence workload: 24-frame sequences with optical flow")
    p.add_argument("--placement", choices=["stable"], default=None,
                   help="compare objects.placement: stable with drop (alternated runs, "
                        "2 workers unless --workers)")
    p.add_argument("--light", choices=["full", *LIGHT_SWITCHES], default=None,
                   help="compare the scene with shadows, environment light and ambient "
                        "occlusion (full) or one of them against none of them (alternated "
                        "runs, 2 workers unless --workers)")
    p.add_argument("--soak", type=int, default=None, metavar="FRAMES",
                   help="one long run of FRAMES frames; print each worker's RSS growth")
    args = p.parse_args()
    if args.workers is not None and args.workers < 1:
        p.error("--workers must be >= 1")
    if args.soak is not None and args.soak <= args.warmup:
        p.error("--soak needs more frames than --warmup")
    if args.against_pinhole and not args.lens:
        p.error("--against-pinhole needs --lens")
    if args.render_only and (args.workers is not None or args.soak is not None
                             or args.all_outputs):
        p.error("--render-only runs in this process, without --workers, --soak, --all-outputs")
    return args


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


def gl_renderer() -> str:
    from synthscene.render.platform import gl_strings

    return gl_strings()[1]


def render_only_run(scenario, library, args, run: int) -> tuple[float, dict[str, list[float]]]:
    """Frames/s of rendering alone: the run's frames are made first by ``iter_samples``
    (untimed), then their settled scenes are rendered again, each read back before the next."""
    from synthscene.render.renderer import Renderer
    from synthscene.run.frames import render_settings

    total = args.warmup + args.frames
    states = [sample.state for sample in iter_samples(scenario, frames=total, seed=args.seed,
                                                      start=run * total, library=library)]
    spec = scenario.spec
    per_frame: list[float] = []
    with Renderer(library, spec.image.width, spec.image.height,
                  render_settings(scenario)) as renderer:
        for n, state in enumerate(states):
            if n == args.warmup:
                t_start, cpu_start = time.perf_counter(), time.process_time()
            t0 = time.perf_counter()
            renderer.submit(state).result()
            if n >= args.warmup:
                per_frame.append((time.perf_counter() - t0) * 1000)
        elapsed = time.perf_counter() - t_start
        cpu = (time.process_time() - cpu_start) / args.frames * 1000
    return args.frames / elapsed, {"render": per_frame, "cpu": [cpu]}


@contextlib.contextmanager
def temporary_run_folder() -> Iterator[Path]:
    """A dataset folder for one run, deleted afterwards; if the run fails, the stacks that
    crashed workers left in it (``.synthscene/worker-N-crash.txt``, named by the error) are
    printed to stderr first, since the folder goes with them."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        try:
            yield out
        except SynthsceneError:
            for log in crash_logs(out):
                print(f"--- {log.name} (the folder is deleted next):\n{log.read_text()}",
                      file=sys.stderr, flush=True)
            raise


def cpu_per_frame(events: list[FrameDone], skip: int) -> tuple[float, float]:
    """CPU seconds the workers spent per frame after the first ``skip`` frames, and the frames
    that covers: per worker, its ``cpu_seconds`` at its last frame minus at its last frame
    among the first ``skip`` (or its first frame after them, which then is not counted)."""
    cpu = counted = 0.0
    for worker in {done.worker for done in events}:
        mine = [(n, done) for n, done in enumerate(events) if done.worker == worker]
        before = [done for n, done in mine if n < skip]
        after = [done for n, done in mine if n >= skip]
        if before:
            base = before[-1]
        elif len(after) > 1:
            base, after = after[0], after[1:]
        else:
            continue
        if after:
            cpu += after[-1].cpu_seconds - base.cpu_seconds
            counted += len(after)
    return (cpu / counted if counted else 0.0), counted


def generate_run(scenario, args, workers: int, frames: int,
                 on_frame=None) -> tuple[float, dict[str, list[float]], list[FrameDone]]:
    """One ``generate`` run of ``frames`` frames into a temporary folder.

    Returns frames/s after the first ``warmup * workers`` frames (merge included), the
    per-frame milliseconds of each stage after warm-up, and every FrameDone in arrival order.
    The stage ``cpu`` holds the workers' CPU milliseconds per frame (every thread), once.
    """
    skip = args.warmup * workers
    events: list[FrameDone] = []
    t_start = None

    def on_done(done: FrameDone) -> None:
        nonlocal t_start
        events.append(done)
        if len(events) == skip:
            t_start = time.perf_counter()
        if on_frame is not None:
            on_frame(done)

    with temporary_run_folder() as out:
        generate(scenario, out, frames=frames, seed=args.seed, workers=workers,
                 on_frame=on_done)
        elapsed = time.perf_counter() - t_start
    per_stage = {s: [d.timings.get(s, 0.0) * 1000 for d in events[skip:]] for s in STAGES}
    per_stage["cpu"] = [cpu_per_frame(events, skip)[0] * 1000]
    return (frames - skip) / elapsed, per_stage, events


class WorkerMemory:
    """Each worker's RSS after its frame ``baseline``, after its frame ``midpoint`` (if given)
    and at its last frame, from the ``FrameDone`` events of a run (call it with each)."""

    def __init__(self, baseline: int, midpoint: int | None = None) -> None:
        self.baseline, self.midpoint = baseline, midpoint
        self.seen: dict[int, int] = {}
        self.first: dict[int, tuple[int, int]] = {}  # worker -> (frames made, RSS bytes)
        self.middle: dict[int, tuple[int, int]] = {}
        self.last: dict[int, tuple[int, int]] = {}

    def __call__(self, done: FrameDone) -> None:
        n = self.seen[done.worker] = self.seen.get(done.worker, 0) + 1
        if n == self.baseline:
            self.first[done.worker] = (n, done.rss_bytes)
        if n == self.midpoint:
            self.middle[done.worker] = (n, done.rss_bytes)
        self.last[done.worker] = (n, done.rss_bytes)

    def report(self, indent: str = "") -> None:
        """Print each worker's growth between the two (a worker that made fewer frames than
        ``baseline`` is named)."""
        for worker in sorted(self.last):
            if worker not in self.first:
                print(f"{indent}worker {worker}: made {self.last[worker][0]} frames, fewer "
                      "than the warm-up")
                continue
            (n0, rss0), (n1, rss1) = self.first[worker], self.last[worker]
            line = (f"{indent}worker {worker}: RSS {rss0 / 2**20:.1f} MiB after frame {n0}, "
                    f"{rss1 / 2**20:.1f} MiB after frame {n1}: "
                    f"{100 * (rss1 - rss0) / rss0:+.2f} %")
            if worker in self.middle:  # the second half alone: growth that has not stopped
                nm, rssm = self.middle[worker]
                line += (f"; {rssm / 2**20:.1f} MiB after frame {nm}, so "
                         f"{100 * (rss1 - rssm) / rssm:+.2f} % over the second half")
            print(line)


def soak(scenario, args, workers: int) -> None:
    """Print each worker's RSS after warm-up and at the end of one long run."""
    baseline = max(args.warmup, args.soak // workers // 10)
    memory = WorkerMemory(baseline, args.soak // workers // 2)

    def on_frame(done: FrameDone) -> None:
        memory(done)
        total = sum(memory.seen.values())
        if total % 500 == 0:
            print(f"  {total} frames", flush=True)

    print(f"soak: {args.soak} frames, {workers} worker(s); RSS of each worker after its "
          f"frame {baseline} and at its last frame")
    fps, _, _ = generate_run(scenario, args, workers, args.soak, on_frame)
    memory.report()
    print(f"throughput: {fps:.1f} labelled frames/s written to disk")


def stock_pyrender_run(scenario, library, args, run: int) -> float:
    """Frames/s of pyrender's own ``OffscreenRenderer`` (colour + depth, lit) on the settled
    scenes of the run's frames (made first, untimed)."""
    import pyrender

    from synthscene.render.renderer import CV_FROM_GL

    total = args.warmup + args.frames
    states = [sample.state for sample in iter_samples(scenario, frames=total, seed=args.seed,
                                                      start=run * total, library=library)]
    spec = scenario.spec
    meshes: dict = {}
    renderer = pyrender.OffscreenRenderer(spec.image.width, spec.image.height)
    try:
        ground = pyrender.Mesh.from_trimesh(trimesh.creation.box((3.0, 3.0, 0.01)))
        for n, state in enumerate(states):
            if n == args.warmup:
                t_start = time.perf_counter()
            scene = pyrender.Scene(ambient_light=state.ambient_light)
            if state.ground is not None:
                scene.add(ground, pose=np.diag([1.0, 1.0, 1.0, 1.0]))
            for obj in state.objects:
                if obj.asset_key not in meshes:
                    meshes[obj.asset_key] = pyrender.Mesh.from_trimesh(
                        library.get(obj.asset_key).mesh, smooth=False)
                scene.add(meshes[obj.asset_key],
                          pose=obj.world_from_object @ np.diag([obj.scale] * 3 + [1.0]))
            for light in state.lights:
                kind = {"directional": pyrender.DirectionalLight, "point": pyrender.PointLight,
                        "spot": pyrender.SpotLight}[light.kind]
                scene.add(kind(color=light.color, intensity=light.intensity),
                          pose=light.world_from_light)
            K = state.camera.K
            camera = pyrender.IntrinsicsCamera(K[0, 0], K[1, 1], K[0, 2] + 0.5, K[1, 2] + 0.5,
                                               znear=0.01, zfar=100.0)
            scene.add(camera, pose=state.camera.world_from_camera @ CV_FROM_GL)
            renderer.render(scene)  # colour and depth, read back
        elapsed = time.perf_counter() - t_start
    finally:
        renderer.delete()
    return args.frames / elapsed


def suite(path: Path, data: dict, args) -> None:
    """The suite's table: each mode's median frames/s and CPU per frame, and its ratio to
    pyrender's stock renderer measured in the same sitting."""
    modes = {
        "standard (1 view per scene)": {},
        "views_per_scene: 4": {"camera": {"views_per_scene": 4}},
        "views_per_scene: 4, flat, JPEG": {"camera": {"views_per_scene": 4},
                                           "render": {"shading": "flat",
                                                      "image_format": "jpg"}},
    }

    def scenario_of(changes: dict):
        merged = json.loads(json.dumps(data))
        for section, fields in changes.items():
            merged.setdefault(section, {}).update(fields)
        return scenario_from_dict(merged, source=str(path), base_dir=path.parent)

    standard = scenario_of({})
    library = build_library(standard)
    stock = [stock_pyrender_run(standard, library, args, run) for run in range(args.runs)]
    reference = statistics.median(stock)
    print(f"reference: pyrender OffscreenRenderer, same settled scenes, colour + depth, lit: "
          f"{reference:.1f} frames/s (runs: {', '.join(f'{r:.1f}' for r in stock)})")
    print(f"{'mode':34s} {'workers':>7s} {'frames/s':>9s} {'x stock':>8s} {'CPU ms/frame':>13s}")
    for name, changes in modes.items():
        scenario = scenario_of(changes)
        for workers in (1, 2):
            rates, cpus = [], []
            for _ in range(args.runs):
                fps, per_stage, _ = generate_run(scenario, args, workers,
                                                 args.frames + args.warmup * workers)
                rates.append(fps)
                cpus += per_stage["cpu"]
            fps = statistics.median(rates)
            print(f"{name:34s} {workers:7d} {fps:9.1f} {fps / reference:8.2f} "
                  f"{statistics.median(cpus):13.1f}", flush=True)


def placement_comparison(path: Path, data: dict, args) -> None:
    """Frames/s and per-stage ms of ``drop`` and ``args.placement``, runs alternated."""
    variants = {}
    for name in ("drop", args.placement):
        merged = json.loads(json.dumps(data))
        merged["objects"]["placement"] = {"name": name}
        variants[name] = merged
    comparison(path, variants, args, "placements")


LIGHT_SWITCHES = {
    "shadows": ("render", "shadows", True),
    "environment": ("lights", "environment", {"images": "procedural_sky"}),
    "ambient_occlusion": ("render", "ambient_occlusion", {}),
}
"""What ``--light`` switches on: (section, field, value when on and the scene has none). Off,
the field is removed (``shadows``: false). ``full`` is every switch this synthscene's schema
has."""


def light_variants(data: dict, mode: str) -> dict[str, dict]:
    """The scenario without any of the light switches (``none``) and with those of ``mode``
    (one switch, or ``full``): a switch already in the scenario keeps its values."""
    from synthscene.config.schema import LightsSpec, RenderSpec

    models = {"render": RenderSpec, "lights": LightsSpec}
    known = [name for name, (section, field, _) in LIGHT_SWITCHES.items()
             if field in models[section].model_fields]
    if mode != "full" and mode not in known:
        raise SystemExit(f"--light {mode}: this synthscene's scenarios have no such field")
    wanted = known if mode == "full" else [mode]
    none = json.loads(json.dumps(data))
    for name in known:
        section, field, _ = LIGHT_SWITCHES[name]
        none.setdefault(section, {}).pop(field, None)
        if name == "shadows":
            none[section][field] = False
    on = json.loads(json.dumps(data))
    for name in known:
        section, field, value = LIGHT_SWITCHES[name]
        if name not in wanted:  # off as in ``none``; the section's other fields kept
            on.setdefault(section, {}).pop(field, None)
            if name == "shadows":
                on[section][field] = False
        elif on.setdefault(section, {}).get(field) in (None, False):
            on[section][field] = value
    return {"none": none, mode: on}


def comparison(path: Path, variants: dict[str, dict], args, title: str) -> None:
    """Frames/s and per-stage ms of each variant of the scenario (the first is the base),
    runs alternated in one sitting; prints the medians and each variant's ratio to the
    base."""
    workers = 1 if args.render_only else args.workers or 2
    scenarios = {name: scenario_from_dict(data, source=str(path), base_dir=path.parent)
                 for name, data in variants.items()}
    libraries = {name: build_library(scenario) for name, scenario in scenarios.items()}
    print(f"synthscene {synthscene.__version__} benchmark: {title}")
    print(f"machine : {machine()}; load average before: {os.getloadavg()[0]:.2f}")
    print(f"GL      : {gl_renderer()}")
    how = ("rendering only (frames settled beforehand; CPU of every thread)" if args.render_only
           else f"synthscene.generate with {workers} workers")
    print(f"workload: {path.name}, {args.width}x{args.height}, {args.objects} objects drawn, "
          f"{how}, {args.runs} runs x {args.frames} frames "
          f"(+{args.warmup} warm-up per worker) of each variant, alternated; medians")
    rates: dict[str, list[float]] = {name: [] for name in scenarios}
    stages: dict[str, dict[str, list[float]]] = {name: {} for name in scenarios}
    for run in range(args.runs):
        for name, scenario in scenarios.items():
            if args.render_only:
                fps, per_stage = render_only_run(scenario, libraries[name], args, run)
            else:
                fps, per_stage, _ = generate_run(scenario, args, workers,
                                                 args.frames + args.warmup * workers)
            rates[name].append(fps)
            for stage, values in per_stage.items():
                stages[name].setdefault(stage, []).append(
                    statistics.median(values) if values else 0.0)
            print(f"run {run + 1} {name:8s}: {fps:.1f} frames/s, {per_stage['cpu'][0]:.1f} ms "
                  f"of CPU a frame; load average {os.getloadavg()[0]:.2f}", flush=True)
    for name in scenarios:
        per = ", ".join(f"{s} {statistics.median(v):.1f}" for s, v in stages[name].items())
        print(f"{name:8s}: {statistics.median(rates[name]):.1f} frames/s; per frame, median "
              f"ms: {per}")
    base, *others = scenarios
    for name in others:
        ratio = statistics.median(rates[name]) / statistics.median(rates[base])
        pairs = sorted(b / a for a, b in zip(rates[base], rates[name]))
        cpu = statistics.median(stages[name]["cpu"]) / statistics.median(stages[base]["cpu"])
        print(f"ratio   : {name} / {base} = {ratio:.2f}x frames/s ({1 / ratio - 1:+.0%} time "
              f"per frame; run pairs {', '.join(f'{r:.2f}' for r in pairs)}), {cpu - 1:+.0%} "
              f"CPU per frame; load average after: {os.getloadavg()[0]:.2f}")


def main() -> None:
    args = parse_args()
    if args.sequence:
        args.scene = args.scene or default_scene_path().with_name("tossed_objects.yaml")
        args.workers = args.workers or 2
        if args.frames == 60:
            args.frames = 96
    path = args.scene or default_scene_path()
    data = yaml.safe_load(path.read_text())
    data.setdefault("objects", {})["count"] = args.objects
    data["image"] = {"width": args.width, "height": args.height}
    if args.shading:
        data.setdefault("render", {})["shading"] = args.shading
    if args.views:
        data.setdefault("camera", {})["views_per_scene"] = args.views
    if args.jpeg:
        data.setdefault("render", {})["image_format"] = "jpg"
    if args.fov_deg is not None:
        data.setdefault("camera", {})["fov_deg"] = args.fov_deg
        data["camera"].pop("focal_jitter", None)
    if args.shadows:
        data.setdefault("render", {})["shadows"] = args.shadows == "on"
    if args.lens:  # a phone-like lens (brown_conrady) or a robot's fisheye (kannala_brandt)
        data.setdefault("camera", {})["distortion"] = LENSES[args.lens]
    if args.depth_sensor:
        data.setdefault("outputs", {})["depth_sensor"] = {"model": args.depth_sensor}
    if args.stereo:  # a pair is two frames: every count made even
        data.setdefault("camera", {})["stereo"] = {"baseline_m": args.stereo}
        args.frames += args.frames % 2
        args.warmup += args.warmup % 2
    if args.textures:
        for section in ("objects", "ground"):
            material = data.setdefault(section, {}).setdefault("material", {})
            material["texture"] = {"probability": 1.0}
    if args.sequence:
        data.setdefault("outputs", {}).update({"flow": True, "point_tracks": 0})
        data.setdefault("sequence", {}).update({"length": 24})
    if args.all_outputs:
        from synthscene.config.schema import OutputsSpec

        data["outputs"] = dict.fromkeys((name for name in OutputsSpec.model_fields
                                         if name != "depth_sensor"), True)
    if args.placement:
        placement_comparison(path, data, args)
        return
    if args.against_pinhole:
        pinhole = json.loads(json.dumps(data))
        del pinhole["camera"]["distortion"]
        comparison(path, {"pinhole": pinhole, args.lens: data}, args, f"lens {args.lens}")
        return
    if args.light:
        comparison(path, light_variants(data, args.light), args, f"light {args.light}")
        return
    if args.suite:
        print(f"synthscene {synthscene.__version__} benchmark suite")
        print(f"machine : {machine()}")
        print(f"GL      : {gl_renderer()}")
        print(f"workload: {path.name}, {args.width}x{args.height}, {args.objects} objects, "
              f"labels and files written, {args.runs} runs x {args.frames} frames "
              f"(+{args.warmup} warm-up per worker), medians")
        suite(path, data, args)
        return
    scenario = scenario_from_dict(data, source=str(path), base_dir=path.parent)

    t0 = time.perf_counter()
    library = build_library(scenario)
    startup = time.perf_counter() - t0
    workers = args.workers or 1
    print(f"synthscene {synthscene.__version__} benchmark")
    print(f"machine : {machine()}")
    print(f"GL      : {gl_renderer()}")
    how = f"synthscene.generate with {workers} worker{'s' if workers > 1 else ''}"
    if args.render_only:
        how = "rendering only, 1 process (frames settled beforehand)"
    runs = (f"1 run x {args.soak} frames" if args.soak is not None else
            f"{args.runs} runs x {args.frames} frames (+{args.warmup} warm-up per worker)")
    print(f"workload: {path.name}, {args.width}x{args.height}, {args.objects} objects, "
          f"shading={scenario.spec.render.shading}, "
          f"shadows={scenario.spec.render.shadows.probability:g}, "
          f"views_per_scene={scenario.spec.camera.views_per_scene}, "
          f"images={scenario.spec.render.image_format}, "
          f"textures={'on' if args.textures else 'as the scene says'}, "
          f"all outputs={'on' if args.all_outputs else 'off'}, "
          f"{how}, {runs}")
    print(f"start-up (asset loading): {startup * 1000:.0f} ms")
    if args.soak is not None:
        soak(scenario, args, workers)
        return
    rates, stages, cpus = [], {s: [] for s in STAGES}, []
    for run in range(args.runs):
        if args.render_only:
            fps, per_stage = render_only_run(scenario, library, args, run)
        else:
            fps, per_stage, _ = generate_run(scenario, args, workers,
                                             args.frames + args.warmup * workers)
        rates.append(fps)
        cpus += per_stage.pop("cpu", [])
        for s, values in per_stage.items():
            stages[s].append(statistics.median(values) if values else 0.0)
        print(f"run {run + 1}: {fps:.1f} frames/s")
    what = "rendered frames/s (read back)" if args.render_only else (
        "labelled frames/s written to disk")
    print(f"median  : {statistics.median(rates):.1f} {what}")
    print("per frame, median ms: " + ", ".join(
        f"{s} {statistics.median(v):.1f}" for s, v in stages.items() if v))
    if cpus:
        cpu = statistics.median(cpus)
        busy = cpu / 1000 * statistics.median(rates)
        print(f"CPU     : {cpu:.1f} ms per frame, all worker threads (rendering included): "
              f"{busy:.2f} of {os.cpu_count()} cores busy")


if __name__ == "__main__":
    main()
