#!/usr/bin/env python
"""Benchmark a large asset library: start-up with a cold and a warm asset cache, steady
frames/s against a small library, loading every asset, and worker memory over a run.

Workload: the 1,000 random objects of pybullet_data (``random_urdfs/*/*.urdf``, one category),
``--objects`` (10) a frame, ``--width`` x ``--height`` (320 x 240), through
``synthscene.generate`` with ``--workers`` (2) worker processes. ``random_urdfs/168/168.obj`` has
non-finite vertices and is left out by the globs (``--exclude 168``).

    python scripts/benchmark_library.py                   # modest sizes
    python scripts/benchmark_library.py --frames 5000 --parts memory   # the long memory check

Prints, each a median over ``--runs`` runs:

- **start-up**: seconds from ``generate`` being called to its first frame on disk, with an empty
  cache folder (cold) and with the folder that run filled (warm);
- **load all**: seconds to load every asset of the library in this process
  (``AssetLibrary.preload``), cold cache, warm cache and no cache;
- **steady**: frames/s and the workers' CPU ms a frame after ``--steady-warmup`` frames per
  worker (each worker has met the library: every asset loaded, its collision shapes built), the
  large library against one of its first 10 assets (warm cache for both), and the ratios; and
  frames/s while the workers meet the library (from ``--warmup`` to ``--steady-warmup``);
- **memory**: each worker's resident memory after 10 % of its frames, after half of them and
  at its last frame of one run of ``--frames`` frames, and the growth in % from the first and
  over the second half (growth that has not stopped shows there); and the bytes of the arrays
  each loaded asset holds (library, GL uploads), to size ``limits.max_loaded_assets``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchmark import WorkerMemory, machine, temporary_run_folder  # noqa: E402
from synthscene.assets.cache import AssetCache  # noqa: E402
from synthscene.assets.library import AssetLibrary, AssetSource  # noqa: E402
from synthscene.config.loading import scenario_from_dict  # noqa: E402
from synthscene.run.pipeline import FrameDone, generate  # noqa: E402


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--parts", nargs="+", default=["startup", "load", "steady", "memory"],
                   choices=["startup", "load", "steady", "memory"])
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--frames", type=int, default=200,
                   help="frames of the memory run (5000 for the real check)")
    p.add_argument("--steady-frames", type=int, default=300, help="timed frames per steady run")
    p.add_argument("--warmup", type=int, default=5, help="untimed frames per worker")
    p.add_argument("--steady-warmup", type=int, default=600,
                   help="frames per worker before the steady part's clock starts (by then "
                        "each worker has drawn each of the 999 assets six times on average)")
    p.add_argument("--objects", type=int, default=10)
    p.add_argument("--width", type=int, default=320)
    p.add_argument("--height", type=int, default=240)
    p.add_argument("--exclude", default="168",
                   help="the broken random_urdfs folder left out by the globs; none: left "
                        "to the run's check")
    p.add_argument("--cache-dir", default=None,
                   help="the cache folder of the steady and memory parts, filled by an "
                        "earlier run (default: a new temporary one, which the steady part "
                        "fills first)")
    p.add_argument("--max-loaded-assets", type=int, default=None,
                   help="limits.max_loaded_assets of the runs (default: synthscene's)")
    return p.parse_args()


def library_sources(exclude: str) -> list[str]:
    """Globs over ``random_urdfs/NNN/NNN.urdf`` that leave out folder ``exclude`` (3 digits;
    ``none``: every folder, the broken one skipped by the run's check)."""
    if exclude == "none":
        return ["pybullet_data:random_urdfs/*/*.urdf"]
    a, b, c = exclude
    globs = [f"[!{a}]??", f"{a}[!{b}]?", f"{a}{b}[!{c}]"]
    return [f"pybullet_data:random_urdfs/{g}/*.urdf" for g in globs]


def scenario(args, sources: list[str], max_loaded_assets: int | None = None):
    data = {
        "name": "random_urdfs",
        "image": {"width": args.width, "height": args.height},
        "assets": [{"source": s, "category": "object"} for s in sources],
        "objects": {"count": args.objects, "asset_sampling": "asset"},
    }
    limit = max_loaded_assets or args.max_loaded_assets
    limits = {"max_loaded_assets": limit} if limit is not None else None
    return scenario_from_dict(data, limits=limits)


def run(spec, args, *, frames: int, cache: str | Path, on_frame=None) -> float:
    """One generate run into a temporary folder; return seconds to its first frame."""
    first = None
    start = time.perf_counter()

    def on_done(done: FrameDone) -> None:
        nonlocal first
        if first is None:
            first = time.perf_counter() - start
        if on_frame is not None:
            on_frame(done)

    with temporary_run_folder() as out:
        generate(spec, out, frames=frames, seed=0, workers=args.workers,
                 on_frame=on_done, cache_dir=cache)
    return first


def startup(spec, spec_small, args) -> None:
    cold, warm, small = [], [], []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as cache:
            frames = args.workers
            cold.append(run(spec, args, frames=frames, cache=cache))
            warm.append(run(spec, args, frames=frames, cache=cache))
            small.append(run(spec_small, args, frames=frames, cache=cache))
    print(f"start-up to the first frame: cold cache {statistics.median(cold):.2f} s, warm "
          f"cache {statistics.median(warm):.2f} s; 10-asset library, warm, "
          f"{statistics.median(small):.2f} s (runs: cold {' '.join(f'{t:.2f}' for t in cold)}; "
          f"warm {' '.join(f'{t:.2f}' for t in warm)}; small "
          f"{' '.join(f'{t:.2f}' for t in small)})")


def load_all(sources: list[str], args) -> None:
    def timed(cache: AssetCache | None) -> tuple[float, float]:
        library = AssetLibrary([AssetSource(source=s, category="object") for s in sources],
                               cache=cache)
        t0, c0 = time.perf_counter(), time.process_time()
        library.preload()
        return time.perf_counter() - t0, time.process_time() - c0

    cold, warm, none = [], [], []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as folder:
            cold.append(timed(AssetCache(Path(folder))))
            warm.append(timed(AssetCache(Path(folder))))
        none.append(timed(None))
    n = len(AssetLibrary([AssetSource(source=s) for s in sources]))
    for what, index in (("wall", 0), ("CPU", 1)):
        c, w, o = (statistics.median(t[index] for t in runs) for runs in (cold, warm, none))
        print(f"loading all {n} assets in one process, {what} time: cold cache {c:.1f} s, "
              f"warm cache {w:.1f} s, no cache {o:.1f} s ({o / w:.1f}x faster warm than "
              f"without a cache)")


def steady(spec_large, spec_small, args) -> None:
    def timed(spec, cache) -> tuple[float, float, float]:
        """frames/s and the workers' CPU ms per frame after ``--steady-warmup`` frames per
        worker, and frames/s over the warm-up frames after the first ``--warmup``."""
        skip = args.steady_warmup * args.workers
        times: list[float] = []
        cpu: dict[int, float] = {}  # each worker's CPU seconds at its latest frame
        at_start: dict[int, float] = {}  # ... when the clock started

        def on_frame(done: FrameDone) -> None:
            times.append(time.perf_counter())
            cpu[done.worker] = done.cpu_seconds
            if len(times) == skip:
                at_start.update(cpu)

        run(spec, args, frames=skip + args.steady_frames, cache=cache, on_frame=on_frame)
        first = args.warmup * args.workers
        meeting = (skip - first) / (times[skip - 1] - times[first - 1])
        spent = sum(cpu[w] - at_start.get(w, 0.0) for w in cpu)
        return (len(times) - skip) / (times[-1] - times[skip - 1]), \
            1000 * spent / (len(times) - skip), meeting

    large, small = [], []
    with tempfile.TemporaryDirectory() as folder:
        cache = args.cache_dir or folder
        if args.cache_dir is None:
            fill(cache, args)
        for _ in range(args.runs):  # alternated, so that both see the same machine load
            large.append(timed(spec_large, cache))
            small.append(timed(spec_small, cache))
    (ml, cl, wl), (ms, cs, ws) = ([statistics.median(r[i] for r in runs) for i in range(3)]
                                  for runs in (large, small))
    print(f"steady, after {args.steady_warmup} frames per worker ({args.workers} workers): "
          f"1,000-asset library {ml:.2f} frames/s, {cl:.0f} CPU ms a frame; 10-asset library "
          f"{ms:.2f} frames/s, {cs:.0f} CPU ms a frame: frames/s ratio {ml / ms:.3f}, CPU ratio "
          f"{cs / cl:.3f} (runs, frames/s: large {' '.join(f'{r[0]:.2f}' for r in large)}; "
          f"small {' '.join(f'{r[0]:.2f}' for r in small)})")
    print(f"while each worker meets the library (frames {args.warmup} to "
          f"{args.steady_warmup} of each worker): 1,000-asset library {wl:.2f} frames/s, "
          f"10-asset library {ws:.2f}: ratio {wl / ws:.3f}")


def _fill_one(task: tuple[str, str, list[str]]) -> None:
    from synthscene.assets.cache_records import collision_parts
    from synthscene.assets.margins import DEFAULT_MAX_HULLS

    cache, key, sources = task
    library = AssetLibrary([AssetSource(source=s, category="object") for s in sources],
                           cache=AssetCache(Path(cache)))
    collision_parts(library.get(key), DEFAULT_MAX_HULLS)


def fill(cache: str, args) -> None:
    """Put every asset of the library (geometry and merged hulls) in the cache, with
    ``--workers`` processes; print how long that took (the library's cold cost)."""
    import multiprocessing

    sources = library_sources(args.exclude)
    keys = AssetLibrary([AssetSource(source=s) for s in sources]).keys
    t0 = time.perf_counter()
    with multiprocessing.get_context("spawn").Pool(args.workers) as pool:
        pool.map(_fill_one, [(str(cache), key, sources) for key in keys], chunksize=8)
    print(f"filling the cache with all {len(keys)} assets (geometry and merged hulls), "
          f"{args.workers} processes: {time.perf_counter() - t0:.0f} s")


def memory(spec, args) -> None:
    per_worker = max(1, args.frames // args.workers)
    tracker = WorkerMemory(max(args.warmup, per_worker // 10), per_worker // 2)
    with tempfile.TemporaryDirectory() as folder:
        run(spec, args, frames=args.frames, cache=args.cache_dir or folder, on_frame=tracker)
    limit = spec.spec.limits.max_loaded_assets
    print(f"memory over {args.frames} frames ({args.workers} workers, max_loaded_assets "
          f"{limit}):")
    tracker.report(indent="  ")


def memory_per_asset(sources: list[str], args) -> None:
    """The bytes of the arrays a loaded asset holds (library: mesh, face normals, hulls, look),
    per asset and per triangle, over the assets of 60 frames; and the float32 vertex data of one
    GL upload (three un-merged vertices a triangle: position, normal, texture coordinates),
    which the GL driver (Mesa: in the process) holds, and the positions the renderer keeps.
    Counted, not read from RSS, which freed memory reused by the allocator hides."""
    from synthscene.run.pipeline import build_library, iter_samples

    spec = scenario(args, sources, max_loaded_assets=100_000)
    cache = args.cache_dir or tempfile.mkdtemp()
    library = build_library(spec, cache_dir=cache)
    keys = _loaded_keys(library, [s.state for s in iter_samples(spec, frames=60, seed=1,
                                                                   library=library)])
    held = triangles = 0
    for key in keys:
        asset = library.get(key)
        mesh = asset.mesh
        held += (mesh.vertices.nbytes + mesh.faces.nbytes + mesh.face_normals.nbytes
                 + sum(h.nbytes for h in asset.collision_hulls))
        for part in library.look(key):
            held += part.vertices.nbytes + part.faces.nbytes
            held += 0 if part.uv is None else part.uv.nbytes
        triangles += len(mesh.faces)
    upload, kept = 3 * 8 * 4, 3 * 3 * 4  # bytes per triangle: the driver's, the renderer's
    print(f"arrays held per loaded asset: {held / len(keys) / 2**10:.0f} KiB over {len(keys)} "
          f"assets of {triangles / len(keys):.0f} triangles on average ({held / triangles:.0f} "
          f"bytes per triangle); one GL upload: {upload} bytes per triangle in the driver and "
          f"{kept} of positions the renderer keeps, once for a randomized material and once for "
          f"the own look")


def _loaded_keys(library, states) -> set[str]:
    return {obj.asset_key for state in states for obj in state.objects}


def main() -> None:
    args = parse_args()
    sources = library_sources(args.exclude)
    large = scenario(args, sources)
    small = scenario(args, ["pybullet_data:random_urdfs/00[0-9]/*.urdf"])
    print(f"machine: {machine()}")
    if "startup" in args.parts:
        startup(large, small, args)
    if "load" in args.parts:
        load_all(sources, args)
    if "steady" in args.parts:
        steady(large, small, args)
    if "memory" in args.parts:
        memory(large, args)
        memory_per_asset(sources, args)


if __name__ == "__main__":
    main()
