#!/usr/bin/env python
"""Strips of the ``stable`` placement for ``docs/randomizers.md``: three frames of
``scenes/shelf.yaml`` and three of ``scenes/tabletop.yaml`` with ``placement: stable`` (8 to 14
objects, the camera 1.1 to 1.3 m away), each with its labels drawn as ``synthscene visualize``
draws them.

    python scripts/make_stable_images.py --out docs/images

writes ``stable_shelf.png`` and ``stable_tabletop.png`` (three 320x240 frames side by side).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import cv2
import numpy as np
import yaml

from synthscene.config.loading import scenario_from_dict
from synthscene.io.reader import load_dataset
from synthscene.resources import bundled_dir
from synthscene.run.pipeline import generate
from synthscene.tools.visualize import draw_annotations


def scenarios() -> dict[str, dict]:
    """The two scenarios, as YAML data, at 320x240."""
    scenes = bundled_dir("scenes")
    shelf = yaml.safe_load((scenes / "shelf.yaml").read_text())
    tabletop = yaml.safe_load((scenes / "tabletop.yaml").read_text())
    tabletop["objects"].update(count={"randint": [8, 14]}, placement={"name": "stable"})
    tabletop["camera"].update(distance_m={"uniform": [1.1, 1.3]})
    for data in (shelf, tabletop):
        data["image"] = {"width": 320, "height": 240}
    return {"stable_shelf": shelf, "stable_tabletop": tabletop}


def strip(data: dict, frames: int, seed: int) -> np.ndarray:
    """(240, 320 * frames, 3) uint8 RGB: the frames of ``data`` with their labels drawn."""
    scenario = scenario_from_dict(data, source="strip.yaml", base_dir=bundled_dir("scenes"))
    with tempfile.TemporaryDirectory() as tmp:
        generate(scenario, Path(tmp) / "dataset", frames=frames, seed=seed, workers=1)
        dataset = load_dataset(Path(tmp) / "dataset")
        return np.hstack([draw_annotations(dataset, image) for image in dataset.images])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/images"))
    parser.add_argument("--frames", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for name, data in scenarios().items():
        sheet = strip(data, args.frames, args.seed)
        path = args.out / f"{name}.png"
        cv2.imwrite(str(path), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR),
                    [cv2.IMWRITE_PNG_COMPRESSION, 9])
        print(f"wrote {path} ({sheet.shape[1]}x{sheet.shape[0]})")


if __name__ == "__main__":
    main()
