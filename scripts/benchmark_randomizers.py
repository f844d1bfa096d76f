#!/usr/bin/env python
"""Cost of each randomizer: milliseconds per draw, median of several runs.

    python scripts/benchmark_randomizers.py [--repeats 50]

Times, on this machine: every texture kind (64 px for objects, 256 px for the ground and walls,
the sizes the scene sampler uses), every sensor effect on a 640x480 frame, background
compositing, and the whole scene sampler for each bundled scenario (before physics). The
end-to-end frames/s of a randomized scenario comes from ``scripts/benchmark.py SCENE``.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from synthscene.config.loading import load_scenario
from synthscene.randomize.compose import composite_background, crop_to_frame
from synthscene.randomize.object_pool import OBJECT_TEXTURE_PX
from synthscene.randomize.scene import BACKDROP_TEXTURE_PX, finish_scene, sample_scene
from synthscene.registry.effect_registry import EFFECTS, parse_effects
from synthscene.registry.texture_registry import TEXTURES, parse_texture_spec
from synthscene.resources import bundled_dir
from synthscene.run.scene_libraries import build_libraries
from synthscene.seeding import frame_rng


def median_ms(fn, repeats: int) -> float:
    fn(0)  # warm-up (imports, caches)
    times = []
    for i in range(repeats):
        t0 = time.perf_counter()
        fn(i + 1)
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=50)
    args = p.parse_args()
    n = args.repeats

    print(f"textures (ms per texture, median of {n})")
    for kind in TEXTURES:
        spec = parse_texture_spec({"kinds": [kind]}, source="bench", field="texture")
        costs = [median_ms(lambda i, s=size: spec.sample(rng=frame_rng(0, i), size=s), n)
                 for size in (OBJECT_TEXTURE_PX, BACKDROP_TEXTURE_PX)]
        print(f"  {kind:14s} {OBJECT_TEXTURE_PX:4d} px {costs[0]:6.2f}   "
              f"{BACKDROP_TEXTURE_PX:4d} px {costs[1]:6.2f}")

    rgb = frame_rng(0, 0).integers(0, 256, (480, 640, 3), dtype=np.uint8)
    depth = np.where(frame_rng(0, 1).uniform(size=(480, 640)) < 0.5, 1.0, 0.0).astype(np.float32)
    print(f"sensor effects on 640x480 (ms per frame, median of {n})")
    for name in EFFECTS:
        (effect,) = parse_effects([{"name": name, "probability": 1.0}], source="bench",
                                  field="effects")
        ms = median_ms(lambda i, e=effect: e.apply(rgb, rng=frame_rng(0, i)), n)
        print(f"  {name:14s} {ms:6.2f}")
    background = frame_rng(0, 2).integers(0, 256, (600, 900, 3), dtype=np.uint8)
    ms = median_ms(lambda i: composite_background(
        rgb, depth, crop_to_frame(background, 640, 480, 0.7, (0.3, 0.6))), n)
    print(f"  {'background':14s} {ms:6.2f}   (crop, resize and composite)")

    print("scene sampler, before physics (ms per frame, median)")
    for path in sorted(bundled_dir("scenes").glob("*.yaml")):
        scenario = load_scenario(path)
        library = build_libraries(scenario)

        def draw(i, scenario=scenario, library=library):
            rng = frame_rng(0, i)
            state = sample_scene(scenario, library, rng=rng, seed=(0, i))
            return finish_scene(scenario, library, state, rng=rng)

        print(f"  {path.name:22s} {median_ms(draw, min(n, 20)):6.2f}")


if __name__ == "__main__":
    main()
