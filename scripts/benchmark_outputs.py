#!/usr/bin/env python
"""Benchmark the cost of each optional output (the scenario's ``outputs:`` section).

Standard workload: the bundled tabletop scenario, 640x480, exactly 20 objects, one process.

    python scripts/benchmark_outputs.py                 # 30 timed frames (+3 warm-up)
    python scripts/benchmark_outputs.py --frames 60 --objects 30

Two measurements:

1. **Extra cost per output**, one frame at a time on the same settled scenes (median over frames
   of the best of ``--repeats`` timings, so that other load on the machine does not count): the
   GL passes (``normals``, ``amodal``) as a renderer with the pass on against one with it off;
   the CPU work (labelling with ``pose``, ``keypoints``, the amodal fields; encoding each image
   file) as the time it adds.
2. **Throughput**: labelled frames/s of the whole frame loop (sample, physics, render, labels,
   file encoding and writing on a background thread, as the COCO writer does) with no optional
   output and with every output on. Rendering overlaps the next frame's physics, as in
   :meth:`synthscene.run.frames.FrameMaker.frames`. Target: >= 5 frames/s with every output on.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import yaml

from synthscene.config.loading import scenario_from_dict
from synthscene.io.coco import encode_png
from synthscene.io.maps import encode_frame_maps
from synthscene.labels.annotate import LabelFilter, annotate
from synthscene.physics.simulator import PhysicsSimulator
from synthscene.randomize.scene import sample_scene
from synthscene.render.renderer import Renderer
from synthscene.render.settings import RenderSettings
from synthscene.resources import default_scene_path
from synthscene.run.frames import build_library, physics_settings
from synthscene.seeding import frame_rng

OUTPUTS = ("depth_png", "depth_npy", "normals", "semantic_mask", "instance_mask", "amodal",
           "pose", "keypoints")


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--frames", type=int, default=30, help="timed frames")
    p.add_argument("--warmup", type=int, default=3, help="untimed frames first")
    p.add_argument("--objects", type=int, default=20)
    p.add_argument("--width", type=int, default=640)
    p.add_argument("--height", type=int, default=480)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--repeats", type=int, default=3, help="timings per frame for the costs")
    return p.parse_args()


def render_settings(scenario, outputs: frozenset[str]) -> RenderSettings:
    r = scenario.spec.render
    return RenderSettings(shading=r.shading, msaa_samples=r.msaa_samples,
                          shadow_lights=r.shadows.max_lights,
                          normals="normals" in outputs, amodal="amodal" in outputs)


def label(state, output, outputs: frozenset[str], bounds):
    return annotate(state, output, pose="pose" in outputs, keypoints="keypoints" in outputs,
                    model_bounds=bounds, filters=LabelFilter())


def files(output, labels, outputs: frozenset[str], category_ids, compression: int) -> dict:
    """The frame's file contents: the RGB PNG and each per-image output's file."""
    flags = SimpleNamespace(**{name: name in outputs for name in OUTPUTS})
    maps, _ = encode_frame_maps(0, output, labels, flags, category_ids=category_ids,
                                compression=compression)
    return {"rgb.png": encode_png(output.rgb, compression), **maps}


def _best_ms(fn, repeats: int) -> np.ndarray:
    """The smallest of ``repeats`` timings of ``fn()``: (wall, CPU) ms. CPU time counts every
    thread of this process (the GL driver's rasteriser threads included), so it is hardly
    changed by other load on the machine."""
    best = np.full(2, np.inf)
    for _ in range(repeats):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        best = np.minimum(best, [time.perf_counter() - w0, time.process_time() - c0])
    return best * 1000


def extra_costs(scenario, library, states, bounds, category_ids, repeats: int) -> dict:
    """Median over frames of each output's extra ms per frame, one frame at a time.

    GL passes (``normals``, ``amodal``): a renderer with the pass on against one with it off;
    CPU work (the other outputs, and the amodal fields of the labels): the labelling or
    encoding each output adds, on the frame rendered with every output on. Each timing is the
    best of ``repeats``.
    """
    spec = scenario.spec
    compression = spec.render.png_compression
    # GL: the configurations take turns, round after round, so that a load that comes and goes
    # falls on all of them; each frame keeps its best time over the rounds.
    gl_configs = {"none": frozenset(), "normals": frozenset(["normals"]),
                  "amodal": frozenset(["amodal"])}
    gl = {name: [np.full(2, np.inf)] * len(states) for name in gl_configs}
    names = list(gl_configs)
    for round_ in range(repeats):
        for name in names[round_ % len(names):] + names[:round_ % len(names)]:
            with Renderer(library, spec.image.width, spec.image.height,
                          render_settings(scenario, gl_configs[name])) as renderer:
                renderer.render(states[0])  # uploads the meshes
                gl[name] = [np.minimum(best, _best_ms(lambda s=state: renderer.render(s), 2))
                            for best, state in zip(gl[name], states)]
    with Renderer(library, spec.image.width, spec.image.height,
                  render_settings(scenario, frozenset(OUTPUTS))) as renderer:
        rendered = [(state, renderer.render(state)) for state in states]

    def per_frame(fn) -> list[float]:
        return [_best_ms(lambda s=state, o=output: fn(s, o), repeats) for state, output in rendered]

    def plain_labels(state, output):
        return annotate(state, replace(output, amodal=None), pose=False)

    labels_only = per_frame(plain_labels)
    cost = {"render + labels + RGB PNG": [
        g + lab + _best_ms(lambda o=output: encode_png(o.rgb, compression), repeats)
        for g, lab, (_, output) in zip(gl["none"], labels_only, rendered)]}
    cost["normals"] = [b - a for a, b in zip(gl["none"], gl["normals"])]
    cost["amodal"] = [b - a for a, b in zip(gl["none"], gl["amodal"])]
    extra = {
        "amodal": lambda s, o: annotate(s, o, pose=False),
        "pose": lambda s, o: annotate(s, replace(o, amodal=None), pose=True),
        "keypoints": lambda s, o: annotate(s, replace(o, amodal=None), pose=False,
                                           keypoints=True, model_bounds=bounds),
    }
    for name, fn in extra.items():
        more = per_frame(fn)
        cost[name] = [c + m - lab for c, m, lab in
                      zip(cost.get(name, [np.zeros(2)] * len(more)), more, labels_only)]
    labels = [annotate(s, o) for s, o in rendered]
    for name in ("depth_png", "depth_npy", "normals", "semantic_mask", "instance_mask"):
        flags = SimpleNamespace(**{n: n == name for n in OUTPUTS})
        more = [_best_ms(lambda o=output, lab=lab: encode_frame_maps(
                    0, o, lab, flags, category_ids=category_ids, compression=compression),
                    repeats) for (_, output), lab in zip(rendered, labels)]
        cost[name] = [c + m for c, m in zip(cost.get(name, [np.zeros(2)] * len(more)), more)]
    return {name: np.median(np.array(values), axis=0) for name, values in cost.items()}


def pipelined(scenario, library, outputs: frozenset[str], bounds, category_ids, args,
              out_dir: Path) -> float:
    """Labelled frames/s of the frame loop, files written on a background thread."""
    spec = scenario.spec
    total = args.warmup + args.frames
    pending_writes: deque = deque()

    def write(index: int, contents: dict) -> None:
        for name, data in contents.items():
            (out_dir / f"{index:06d}_{name.replace('/', '_')}").write_bytes(data)

    with PhysicsSimulator(library, physics_settings(scenario)) as physics, \
            Renderer(library, spec.image.width, spec.image.height,
                     render_settings(scenario, outputs)) as renderer, \
            ThreadPoolExecutor(max_workers=1) as pool:
        pending = None
        t_start = None
        for index in range(total + 1):
            state = None
            if index < total:
                state = sample_scene(scenario, library, rng=frame_rng(args.seed, index),
                                     seed=(args.seed, index))
                state = physics.settle(state)
            if pending is not None:
                done_index, done_state, frame = pending
                output = frame.result()
                labels = label(done_state, output, outputs, bounds)
                contents = files(output, labels, outputs, category_ids,
                                 spec.render.png_compression)
                while len(pending_writes) >= 4:
                    pending_writes.popleft().result()
                pending_writes.append(pool.submit(write, done_index, contents))
                if done_index + 1 == args.warmup:
                    t_start = time.perf_counter()
            if state is not None:
                pending = (index, state, renderer.submit(state))
        while pending_writes:
            pending_writes.popleft().result()
    return args.frames / (time.perf_counter() - t_start)


def main() -> None:
    args = parse_args()
    path = default_scene_path()
    data = yaml.safe_load(path.read_text())
    data.setdefault("objects", {})["count"] = args.objects
    data["image"] = {"width": args.width, "height": args.height}
    scenario = scenario_from_dict(data, source=str(path), base_dir=path.parent)
    library = build_library(scenario)
    bounds = {key: np.asarray(library.get(key).mesh.bounds) for key in library.keys}
    category_ids = {name: i + 1 for i, name in enumerate(library.categories)}
    cpu = platform.processor() or platform.machine()
    print(f"machine : {cpu}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"workload: {path.name}, {args.width}x{args.height}, {args.objects} objects, "
          f"shading={scenario.spec.render.shading}, {args.frames} frames (+{args.warmup} "
          "warm-up), 1 process")

    total = args.warmup + args.frames
    states = []
    with PhysicsSimulator(library, physics_settings(scenario)) as physics:
        for index in range(total):
            state = sample_scene(scenario, library, rng=frame_rng(args.seed, index),
                                 seed=(args.seed, index))
            states.append(physics.settle(state))

    costs = extra_costs(scenario, library, states[args.warmup:], bounds, category_ids,
                        args.repeats)
    print("\nextra cost per output, one frame at a time (median over frames of the best of "
          f"{args.repeats} timings; CPU = all threads, the GL driver's included):")
    base = costs.pop("render + labels + RGB PNG")
    print(f"  {'':<28}{'wall ms':>9}{'CPU ms':>9}")
    print(f"  {'render + labels + RGB PNG':<28}{base[0]:9.1f}{base[1]:9.1f}")
    for name in OUTPUTS:
        print(f"  + {name:<26}{costs[name][0]:+9.1f}{costs[name][1]:+9.1f}")
    total = base + sum(costs.values())
    print(f"  = {'every output':<26}{total[0]:9.1f}{total[1]:9.1f}")

    print("\nthroughput of the frame loop (physics overlapped with rendering, files written):")
    with tempfile.TemporaryDirectory() as tmp:
        for name, outputs in (("no optional output", frozenset()),
                              ("every output", frozenset(OUTPUTS))):
            fps = pipelined(scenario, library, outputs, bounds, category_ids, args, Path(tmp))
            print(f"  {name:<22}{fps:6.2f} labelled frames/s")


if __name__ == "__main__":
    main()
