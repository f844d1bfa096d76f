#!/usr/bin/env python
"""Time and peak memory of ``synthscene validate`` and ``visualize -n 5`` on a large COCO file.

Writes a valid dataset of ``--images`` images (320 x 240 PNG, one colour) with
``--per-image`` annotations each (4 x 4 px squares in a grid, compressed RLE, three
categories): 10,000 x 100 = 10^6 annotations, an annotation file of about 160 MB. Then runs
each command once under ``/usr/bin/time -v`` and prints its wall time and maximum resident set
size.

    python scripts/benchmark_validate.py                       # 10^6 annotations
    python scripts/benchmark_validate.py --images 100          # a quick look
    python scripts/benchmark_validate.py --keep /tmp/big       # keep the dataset there

The machine may be shared: the run is one process at a time and writes about 200 MB.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
from pycocotools import mask as mask_utils

WIDTH, HEIGHT, SIDE = 320, 240, 4


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--images", type=int, default=10_000)
    p.add_argument("--per-image", type=int, default=100, help="annotations per image (<= 150)")
    p.add_argument("--keep", type=Path, default=None, help="write the dataset here and keep it")
    return p.parse_args()


def square_rle(x: int, y: int) -> str:
    """Compressed RLE of a SIDE x SIDE square at (x, y), by pycocotools from its run lengths."""
    counts = [x * HEIGHT + y]
    for column in range(SIDE):
        counts += [SIDE, HEIGHT - SIDE] if column < SIDE - 1 else [SIDE]
    counts.append(WIDTH * HEIGHT - sum(counts))
    rle = mask_utils.frPyObjects({"size": [HEIGHT, WIDTH], "counts": counts}, HEIGHT, WIDTH)
    return rle["counts"].decode("ascii")


def annotation_text(ann_id: int, image_id: int, k: int, x: int, y: int, counts: str) -> str:
    """One annotation as JSON text: square ``k`` of an image, at ``(x, y)``."""
    return (f'{{"id": {ann_id}, "image_id": {image_id}, "category_id": {k % 3 + 1}, '
            f'"bbox": [{x}.0, {y}.0, {SIDE}.0, {SIDE}.0], "area": {SIDE * SIDE}, '
            f'"iscrowd": 0, "segmentation": {{"size": [{HEIGHT}, {WIDTH}], '
            f'"counts": {counts}}}}}')


def write_dataset(root: Path, images: int, per_image: int, *,
                  grid: list[tuple[int, int]] | None = None,
                  annotation: Callable[[int, int, int, int, int, str], str] = annotation_text,
                  description: str = "benchmark_validate") -> Path:
    """Write ``root/annotations.json`` (streamed) and ``root/images/``; return the file.

    Annotation ``k`` of each image is the square at ``grid[k % len(grid)]`` (default: a 15 px
    grid of ``per_image`` squares), written by ``annotation``."""
    (root / "images").mkdir(parents=True, exist_ok=True)
    grid = grid or [(15 * (k % 15) + 40, 15 * (k // 15) + 40) for k in range(per_image)]
    squares = [(x, y, json.dumps(square_rle(x, y))) for x, y in grid]
    ok, png = cv2.imencode(".png", np.full((HEIGHT, WIDTH, 3), 90, np.uint8))
    assert ok
    path = root / "annotations.json"
    with open(path, "w") as out:
        out.write(f'{{"info": {{"description": "{description}"}}, "images": [')
        for i in range(1, images + 1):
            name = f"{i:06d}.png"
            (root / "images" / name).write_bytes(png.tobytes())
            out.write(("," if i > 1 else "") + f'{{"id": {i}, "file_name": "{name}", '
                      f'"width": {WIDTH}, "height": {HEIGHT}}}')
        out.write('], "annotations": [')
        ann_id = 0
        for i in range(1, images + 1):
            for k in range(per_image):
                ann_id += 1
                x, y, counts = squares[k % len(squares)]
                out.write(("," if ann_id > 1 else "") + annotation(ann_id, i, k, x, y, counts))
        out.write('], "categories": [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}, '
                  '{"id": 3, "name": "c"}]}')
    return path


def measure(command: list[str]) -> tuple[int, float, float, str]:
    """Run under /usr/bin/time -v: exit status, wall seconds, peak RSS in MiB, last stdout line."""
    done = subprocess.run(["/usr/bin/time", "-v", *command], capture_output=True, text=True)
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", done.stderr)
    hours, minutes, seconds = (float(g) if g else 0.0 for g in wall.groups())
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    return (done.returncode, 3600 * hours + 60 * minutes + seconds, int(rss.group(1)) / 1024,
            lines[-1] if lines else done.stderr.strip().splitlines()[-1])


def main() -> None:
    args = parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="benchmark_validate_"))
    try:
        if not (root / "annotations.json").is_file():
            write_dataset(root, args.images, args.per_image)
        size = (root / "annotations.json").stat().st_size / 2**20
        print(f"{args.images} images x {args.per_image} annotations = "
              f"{args.images * args.per_image} annotations, annotations.json {size:.0f} MiB")
        cli = [sys.executable, "-m", "synthscene.cli"]
        for name, command in (
                ("validate", [*cli, "validate", str(root)]),
                ("visualize -n 5", [*cli, "visualize", str(root), "-n", "5", "--out",
                                    str(root / "overlays")])):
            status, wall, rss, last = measure(command)
            print(f"{name:<15} exit {status}  {wall:7.1f} s  peak RSS {rss:7.0f} MiB  ({last})")
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
