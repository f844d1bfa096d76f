#!/usr/bin/env python
"""Benchmark synthscene end to end: labelled frames written to disk per second, and per stage.

Standard workload (issue #2): the bundled default scenario, 640x480, exactly 20 objects, default
lit shading, one process, PNG images + COCO annotations written to a temporary folder.

    python scripts/benchmark.py                    # standard workload, 3 runs of 60 frames
    python scripts/benchmark.py --frames 200 --runs 5 --objects 30 --shading flat

Prints the machine, every run's frames/s, the median, and the median milliseconds per frame of
each stage (sample, physics, render, labels, write). Start-up (asset loading, GL context) is timed
separately and excluded from frames/s; the first ``--warmup`` frames of each run are excluded too.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import yaml

import synthscene
from synthscene.config import scenario_from_dict
from synthscene.pipeline import STAGES, build_library, iter_samples
from synthscene.resources import default_scene_path
from synthscene.writers.coco import CocoWriter


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
    return p.parse_args()


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
    from OpenGL import GL

    from synthscene.render import Renderer

    class _Empty:
        def get(self, key):  # pragma: no cover - never called
            raise KeyError(key)

    with Renderer(_Empty(), 8, 8):
        return GL.glGetString(GL.GL_RENDERER).decode()


def one_run(scenario, library, args, run: int) -> tuple[float, dict[str, list[float]]]:
    per_stage: dict[str, list[float]] = {s: [] for s in STAGES}
    with tempfile.TemporaryDirectory() as tmp:
        writer = CocoWriter(Path(tmp), library.categories,
                            png_compression=scenario.spec.render.png_compression)
        with writer:
            t_start = None
            total = args.warmup + args.frames
            start = run * total
            for n, sample in enumerate(iter_samples(scenario, frames=total, seed=args.seed,
                                                    start=start, library=library)):
                if n == args.warmup:
                    t_start = time.perf_counter()
                t0 = time.perf_counter()
                writer.write(sample)
                sample.timings["write"] = time.perf_counter() - t0
                if n >= args.warmup:
                    for stage, sec in sample.timings.items():
                        per_stage[stage].append(sec * 1000)
        # Leaving the with block wrote annotations.json: it counts in the run's time.
        elapsed = time.perf_counter() - t_start
    return args.frames / elapsed, per_stage


def main() -> None:
    args = parse_args()
    path = args.scene or default_scene_path()
    data = yaml.safe_load(path.read_text())
    data.setdefault("objects", {})["count"] = args.objects
    data["image"] = {"width": args.width, "height": args.height}
    if args.shading:
        data.setdefault("render", {})["shading"] = args.shading
    scenario = scenario_from_dict(data, source=str(path), base_dir=path.parent)

    t0 = time.perf_counter()
    library = build_library(scenario)
    startup = time.perf_counter() - t0
    print(f"synthscene {synthscene.__version__} benchmark")
    print(f"machine : {machine()}")
    print(f"GL      : {gl_renderer()}")
    print(f"workload: {path.name}, {args.width}x{args.height}, {args.objects} objects, "
          f"shading={scenario.spec.render.shading}, shadows={scenario.spec.render.shadows}, "
          f"1 process, {args.runs} runs x {args.frames} frames (+{args.warmup} warm-up)")
    print(f"start-up (asset loading): {startup * 1000:.0f} ms")
    rates, stages = [], {s: [] for s in STAGES}
    for run in range(args.runs):
        fps, per_stage = one_run(scenario, library, args, run)
        rates.append(fps)
        for s, values in per_stage.items():
            stages[s].append(statistics.median(values) if values else 0.0)
        print(f"run {run + 1}: {fps:.1f} frames/s")
    print(f"median  : {statistics.median(rates):.1f} labelled frames/s written to disk")
    print("per frame, median ms: " + ", ".join(
        f"{s} {statistics.median(v):.1f}" for s, v in stages.items()))


if __name__ == "__main__":
    main()
