#!/usr/bin/env python
"""Figure of a real-camera frame: the distorted image with its labels (masks, boxes, keypoints),
the exact depth and the depth sensor's reading beside it (same colour scale; black = no
reading).

    synthscene generate scenes/robot_camera.yaml --out out/robot --frames 4 --seed 2
    python scripts/make_camera_figure.py out/robot --image 1 --out docs/images/distorted.png
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from synthscene.io.maps import decode_depth_png
from synthscene.io.reader import load_dataset
from synthscene.tools.visualize import draw_annotations


def depth_colours(depth_m: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """(H, W) metres to (H, W, 3) uint8 BGR (OpenCV's turbo map), black where 0."""
    scaled = np.clip((depth_m - lo) / (hi - lo), 0, 1)
    out = cv2.applyColorMap(np.rint(scaled * 255).astype(np.uint8), cv2.COLORMAP_TURBO)
    out[depth_m <= 0] = 0
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--image", type=int, default=1, help="image id")
    parser.add_argument("--out", type=Path, default=Path("docs/images/distorted.png"))
    parser.add_argument("--width", type=int, default=400, help="width of each cell in pixels")
    args = parser.parse_args()
    dataset = load_dataset(args.dataset)
    image = next(im for im in dataset.images if im["id"] == args.image)
    overlay = cv2.cvtColor(draw_annotations(dataset, image), cv2.COLOR_RGB2BGR)
    exact = decode_depth_png(cv2.imread(str(args.dataset / image["depth_file"]),
                                        cv2.IMREAD_UNCHANGED))
    reading = decode_depth_png(cv2.imread(str(args.dataset / image["depth_sensor_file"]),
                                          cv2.IMREAD_UNCHANGED))
    lo, hi = np.percentile(exact[exact > 0], [1, 99])
    cells = [overlay, depth_colours(exact, lo, hi), depth_colours(reading, lo, hi)]
    height = round(overlay.shape[0] * args.width / overlay.shape[1])
    # Labels: nearest (keeps the mask edges sharp); depth maps: nearest too (keeps the holes).
    row = np.concatenate([cv2.resize(c, (args.width, height), interpolation=cv2.INTER_AREA
                                     if i == 0 else cv2.INTER_NEAREST)
                          for i, c in enumerate(cells)], axis=1)
    for i, text in enumerate(["fisheye frame, labels", "exact depth", "depth sensor"]):
        cv2.putText(row, text, (i * args.width + 8, 22), cv2.FONT_HERSHEY_SIMPLEX, 0.6,
                    (255, 255, 255), 2, cv2.LINE_AA)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(args.out), row, [cv2.IMWRITE_PNG_COMPRESSION, 9])
    print(f"{args.out}: {args.out.stat().st_size // 1024} KB")


if __name__ == "__main__":
    main()
