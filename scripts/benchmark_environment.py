"""What the environment light costs the render stage: the same frames rendered with and
without it, interleaved in one run, one renderer.

Run from anywhere: ``python scripts/benchmark_environment.py`` (``--frames``, ``--runs``,
``--width``, ``--height``, ``--objects``). The frames are the bundled tabletop's (physics off:
the objects are drawn where they are dropped, which costs the renderer the same), drawn once
with each environment: the bundled maps (``assets:environments``) and the procedural sky.
Each frame is rendered with its environment and again with none (the labels and lights are the
same; the sky's sun light is kept in both), and the render stage's milliseconds per frame
(``submit`` to pixels read back) are reported as the median over runs of the median over
frames, in wall-clock time and in CPU time of the process (every thread: llvmpipe rasterises
in threads of its own), which a busy machine disturbs less. For the sky, the first use of
each sky's parameters prepares its maps on the CPU (the cache key is the drawn sun elevation
and turbidity); that cost is inside the figure.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import time

import yaml

from synthscene import iter_samples, scenario_from_dict
from synthscene.resources import bundled_dir
from synthscene.run.scene_libraries import build_libraries


def _scenario(environment: dict, args, visible: bool):
    """The bundled tabletop at the benchmark's size, physics off, with ``environment``."""
    path = bundled_dir("scenes") / "tabletop.yaml"
    data = yaml.safe_load(path.read_text())
    data["image"] = {"width": args.width, "height": args.height}
    data["objects"]["count"] = args.objects
    data["physics"] = {"enabled": False}
    data["lights"]["environment"] = environment
    if visible:
        data["background"] = {"environment": True}
    return scenario_from_dict(data, base_dir=path.parent)


def measure(environment: dict, args, visible: bool = False) -> tuple[float, ...]:
    """Median ms per frame with the environment and without it, wall-clock then CPU."""
    from synthscene.render.renderer import Renderer
    from synthscene.run.frames import render_settings

    scenario = _scenario(environment, args, visible)
    library = build_libraries(scenario)
    medians: list[list[float]] = [[], [], [], []]
    for run in range(args.runs):
        states = [s.state for s in iter_samples(scenario, frames=args.frames, seed=run,
                                                library=library)]
        times: list[list[float]] = [[], [], [], []]  # wall on, wall off, cpu on, cpu off
        with Renderer(library, args.width, args.height, render_settings(scenario)) as renderer:
            for state in states[:2]:  # warm-up: programs compiled, meshes uploaded
                renderer.render(state)
                renderer.render(dataclasses.replace(state, environment=None))
            for state in states:
                for k, frame in enumerate((state, dataclasses.replace(state, environment=None))):
                    t0, c0 = time.perf_counter(), time.process_time()
                    renderer.render(frame)
                    times[k].append((time.perf_counter() - t0) * 1000)
                    times[k + 2].append((time.process_time() - c0) * 1000)
        for median, values in zip(medians, times):
            median.append(statistics.median(values))
    return tuple(statistics.median(m) for m in medians)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=30)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=480)
    parser.add_argument("--objects", type=int, default=20)
    args = parser.parse_args(argv)
    print(f"{args.width}x{args.height}, {args.objects} objects, {args.frames} frames x "
          f"{args.runs} runs; render ms per frame (median)")
    print("| environment | wall: with | without | cost | CPU: with | without | cost |\n"
          "|---|---|---|---|---|---|---|")
    for name, environment, visible in (
            ("bundled maps", {"images": "assets:environments"}, False),
            ("bundled maps, shown as background", {"images": "assets:environments"}, True),
            ("procedural sky", {"images": "procedural_sky"}, False)):
        figures = measure(environment, args, visible)
        cells = [f"{on:.1f} | {off:.1f} | {on - off:+.1f} ({(on / off - 1) * 100:+.0f} %)"
                 for on, off in (figures[:2], figures[2:])]
        print(f"| {name} | {cells[0]} | {cells[1]} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
