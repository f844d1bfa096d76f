#!/usr/bin/env python
"""Write a large, valid COCO dataset to measure the dataset tools' memory and time on.

``--images`` images (320 x 240 PNG, one colour) with ``--per-image`` annotations each (4 x 4 px
squares in a grid, compressed RLE, three categories, and the optional fields synthscene writes:
``amodal_bbox``, ``amodal_area``, ``visib_fract``, ``truncation``, ``cam_R_m2c``,
``cam_t_m2c``, ``scene_instance_id``). 2,000 x 100 = 2 x 10^5 annotations make an annotation
file of about 75 MB; ``--images 1 --per-image 500000`` one image holding 500,000 annotations
(squares overlap then: the file is for ``visualize`` and ``stats``, not a valid dataset).

    python scripts/make_large_coco.py /tmp/big --images 2000 --per-image 100
    /usr/bin/time -v python -m synthscene.cli stats /tmp/big --out /tmp/big-stats

Peak memory is the "Maximum resident set size" line of ``/usr/bin/time -v``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

# the image size and the square masks of scripts/benchmark_validate.py (run from scripts/)
from benchmark_validate import HEIGHT, SIDE, WIDTH
from benchmark_validate import write_dataset as write_squares

COLUMNS, ROWS = (WIDTH - 8) // 6, (HEIGHT - 8) // 6


def annotation_text(ann_id: int, image_id: int, k: int, x: int, y: int, counts: str) -> str:
    """One annotation as JSON text, with the optional fields synthscene writes."""
    return (f'{{"id": {ann_id}, "image_id": {image_id}, "category_id": {k % 3 + 1}, '
            f'"bbox": [{x}.0, {y}.0, {SIDE}.0, {SIDE}.0], "area": {SIDE * SIDE}, '
            f'"iscrowd": 0, "segmentation": {{"size": [{HEIGHT}, {WIDTH}], "counts": {counts}}}, '
            f'"amodal_bbox": [{x}.0, {y}.0, {SIDE}.0, {SIDE}.0], "amodal_area": {SIDE * SIDE}, '
            f'"visib_fract": 1.0, "truncation": 0.0, "scene_instance_id": {k + 1}, '
            f'"cam_R_m2c": [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0], '
            f'"cam_t_m2c": [{x}.5, {y}.25, 812.125]}}')


def write_dataset(root: Path, images: int, per_image: int) -> Path:
    """Write ``root/annotations.json`` and ``root/images/``; return the annotation file."""
    grid = [(4 + 6 * (k % COLUMNS), 4 + 6 * ((k // COLUMNS) % ROWS)) for k in range(
        min(per_image, COLUMNS * ROWS))]
    return write_squares(root, images, per_image, grid=grid, annotation=annotation_text,
                         description="make_large_coco")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out", type=Path, help="dataset folder to write")
    p.add_argument("--images", type=int, default=2000)
    p.add_argument("--per-image", type=int, default=100, help="annotations per image")
    args = p.parse_args()
    path = write_dataset(args.out, args.images, args.per_image)
    print(f"{args.images * args.per_image} annotations in {args.images} images: {path} "
          f"({path.stat().st_size / 2**20:.0f} MiB)")


if __name__ == "__main__":
    main()
