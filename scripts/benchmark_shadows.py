#!/usr/bin/env python
"""What shadows cost the render stage: CPU milliseconds a frame with shadows off and on.

    python scripts/benchmark_shadows.py                     # standard workload, 8 frames
    python scripts/benchmark_shadows.py --max-lights 16     # every light casts
    python scripts/benchmark_shadows.py scenes/shelf.yaml --frames 12

The frames are made once (sampled and settled, untimed); then each is rendered with shadows off
and on (softness 5 mm), ``--repeats`` times in alternation after one untimed round that
compiles every shader variant, each read back before the next. The process's CPU time (every
thread: llvmpipe's rasteriser too) is what is timed, since wall time on a shared machine
follows the other jobs. Prints each mode's per-frame medians and their mean, and the ratio.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

import numpy as np
import yaml

from synthscene.config.loading import scenario_from_dict
from synthscene.resources import bundled_dir
from synthscene.run.frames import build_library, render_settings
from synthscene.run.pipeline import iter_samples


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("scene", nargs="?", type=Path, default=bundled_dir("scenes") / "tabletop.yaml")
    p.add_argument("--frames", type=int, default=8)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--objects", type=int, default=20)
    p.add_argument("--max-lights", type=int, default=None,
                   help="render.shadows.max_lights (default: as the scene says)")
    p.add_argument("--seed", type=int, default=3)
    args = p.parse_args()

    from synthscene.render.renderer import Renderer

    data = yaml.safe_load(args.scene.read_text())
    data.setdefault("objects", {})["count"] = args.objects
    scenario = scenario_from_dict(data, source=str(args.scene), base_dir=args.scene.parent)
    library = build_library(scenario)
    states = [s.state for s in iter_samples(scenario, frames=args.frames, seed=args.seed,
                                            library=library)]
    settings = render_settings(scenario)
    if args.max_lights is not None:
        settings = dataclasses.replace(settings, shadow_lights=args.max_lights)
    modes = {"off": None, "on": 0.005}
    times = {mode: [] for mode in modes}
    spec = scenario.spec
    with Renderer(library, spec.image.width, spec.image.height, settings) as renderer:
        for round_ in range(args.repeats + 1):
            for mode, softness in modes.items():
                row = []
                for state in states:
                    frame = dataclasses.replace(state, shadow_softness_m=softness)
                    t0 = time.process_time()
                    renderer.submit(frame).result()
                    row.append((time.process_time() - t0) * 1000)
                if round_:
                    times[mode].append(row)
    means = {}
    for mode, rows in times.items():
        per_frame = np.median(np.array(rows), axis=0)
        means[mode] = float(per_frame.mean())
        print(f"{mode:>3}: CPU ms per frame {means[mode]:.1f} "
              f"(per frame: {' '.join(f'{t:.0f}' for t in per_frame)})")
    print(f"on / off: {means['on'] / means['off']:.2f}")


if __name__ == "__main__":
    main()
