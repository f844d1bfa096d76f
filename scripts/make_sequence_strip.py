#!/usr/bin/env python
"""Contact strip of one sequence of a dataset: frames with their point tracks, and the forward
optical flow in the standard colour wheel (Baker et al. 2011, "A Database and Evaluation
Methodology for Optical Flow", the Middlebury colour coding: hue is the direction, saturation
the magnitude; black where the flow is not valid).

    synthscene generate scenes/tossed_objects.yaml --out out/toss --frames 24
    python scripts/make_sequence_strip.py out/toss --out docs/images/sequence.png
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np


def colour_wheel() -> np.ndarray:
    """(55, 3) float RGB in [0, 255]: the Middlebury wheel's segments RY 15, YG 6, GC 4,
    CB 11, BM 13, MR 6."""
    segments = [(15, (255, 0, 0), (255, 255, 0)), (6, (255, 255, 0), (0, 255, 0)),
                (4, (0, 255, 0), (0, 255, 255)), (11, (0, 255, 255), (0, 0, 255)),
                (13, (0, 0, 255), (255, 0, 255)), (6, (255, 0, 255), (255, 0, 0))]
    rows = []
    for count, start, end in segments:
        steps = np.arange(count)[:, None] / count
        rows.append(np.asarray(start) * (1 - steps) + np.asarray(end) * steps)
    return np.concatenate(rows)


def flow_to_colour(flow: np.ndarray, valid: np.ndarray, max_magnitude: float) -> np.ndarray:
    """(H, W, 2) flow in pixels to (H, W, 3) uint8 RGB of the Middlebury colour coding."""
    wheel = colour_wheel()
    u, v = flow[..., 0] / max_magnitude, flow[..., 1] / max_magnitude
    radius = np.sqrt(u**2 + v**2)
    angle = np.arctan2(-v, -u) / np.pi  # in [-1, 1]
    position = (angle + 1) / 2 * (len(wheel) - 1)
    k0 = np.floor(position).astype(int)
    k1 = (k0 + 1) % len(wheel)
    f = (position - k0)[..., None]
    colour = (1 - f) * wheel[k0] + f * wheel[k1]
    scale = np.clip(radius, 0, 1)[..., None]
    colour = 255 - scale * (255 - colour)  # white at rest, saturated at max_magnitude
    colour[radius > 1] *= 0.75
    colour[~valid] = 0
    return colour.astype(np.uint8)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--out", type=Path, default=Path("docs/images/sequence.png"))
    parser.add_argument("--sequence", type=int, default=0)
    parser.add_argument("--every", type=int, default=4, help="show every k-th frame")
    parser.add_argument("--width", type=int, default=240, help="width of each cell in pixels")
    args = parser.parse_args()
    data = json.loads((args.dataset / "annotations.json").read_text())
    frames = sorted((im for im in data["images"] if im.get("sequence_id") == args.sequence),
                    key=lambda im: im["frame_index"])[::args.every]
    flows = [np.load(args.dataset / im["flow_file"]) for im in frames]
    valids = [cv2.imread(str(args.dataset / im["flow_valid_file"]), cv2.IMREAD_UNCHANGED) & 1
              for im in frames]
    largest = max(float(np.percentile(np.linalg.norm(f[v > 0], axis=1), 99))
                  for f, v in zip(flows, valids) if v.any())
    tracks = np.load(args.dataset / frames[0]["point_tracks_file"]) \
        if "point_tracks_file" in frames[0] else None
    top, bottom = [], []
    for image, flow, valid in zip(frames, flows, valids):
        rgb = cv2.imread(str(args.dataset / "images" / image["file_name"]))
        if tracks is not None:
            t = image["frame_index"]
            for (x, y), hidden in zip(tracks["target_points"][:, t], tracks["occluded"][:, t]):
                if not hidden:
                    cv2.circle(rgb, (int(round(x)), int(round(y))), 3, (255, 255, 255), -1,
                               cv2.LINE_AA)
        height = round(rgb.shape[0] * args.width / rgb.shape[1])
        top.append(cv2.resize(rgb, (args.width, height), interpolation=cv2.INTER_AREA))
        colour = flow_to_colour(flow, valid > 0, largest)[..., ::-1]
        bottom.append(cv2.resize(colour, (args.width, height), interpolation=cv2.INTER_AREA))
    sheet = np.vstack([np.hstack(top), np.hstack(bottom)])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(args.out), sheet, [cv2.IMWRITE_PNG_COMPRESSION, 9])
    print(f"wrote {args.out} ({sheet.shape[1]}x{sheet.shape[0]}), flow scale {largest:.1f} px")


if __name__ == "__main__":
    main()
