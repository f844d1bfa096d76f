"""A sensor-effect plug-in: rain streaks over the image.

Registers the effect ``rain``. With ``rain_effect.yaml``::

    synthscene generate examples/plugins/rain_effect.yaml \\
        --plugin examples/plugins/rain_effect.py --out out/rain --frames 20

Each drop is a short, slanted, semi-transparent bright streak, blended over the rendered image
after labelling (pixels only: the labels are those of the scene without rain, as for every
effect). Every draw comes from the ``rng`` given.
"""

from __future__ import annotations

import numpy as np

from synthscene.plugins import EffectParams, Field, dist_field, register_effect


class RainParams(EffectParams):
    """Parameters of ``rain``."""

    drops: dist_field(low=0, high=100000, integer=True) = Field(
        {"randint": [100, 400]}, description="streaks per image")
    length_px: dist_field(low=1, high=200) = Field(
        {"uniform": [10, 30]}, description="length of a streak, px")
    angle_deg: dist_field(low=-60, high=60) = Field(
        {"uniform": [-15, 15]}, description="slant from the vertical, degrees")
    opacity: dist_field(low=0, high=1) = Field(
        {"uniform": [0.2, 0.45]}, description="blend weight of a streak's white")


def rain(rgb: np.ndarray, *, rng: np.random.Generator, drops: int, length_px: float,
         angle_rad: float, opacity: float) -> np.ndarray:
    """Rain streaks: slanted bright lines blended over ``rgb`` ((H, W, 3) uint8)."""
    h, w = rgb.shape[:2]
    starts = rng.uniform((0.0, 0.0), (w, h), size=(drops, 2))
    lengths = rng.uniform(0.5, 1.0, size=drops) * length_px
    direction = np.array([np.sin(angle_rad), np.cos(angle_rad)])
    steps = np.linspace(0.0, 1.0, max(int(np.ceil(length_px)), 2))
    points = starts[:, None, :] + (lengths[:, None, None] * steps[None, :, None]) * direction
    x = np.round(points[..., 0]).astype(np.int64).ravel()
    y = np.round(points[..., 1]).astype(np.int64).ravel()
    inside = (x >= 0) & (x < w) & (y >= 0) & (y < h)
    alpha = np.zeros((h, w), np.float32)
    alpha[y[inside], x[inside]] = opacity
    out = rgb.astype(np.float32) * (1.0 - alpha[..., None]) + 255.0 * alpha[..., None]
    return np.clip(np.round(out), 0, 255).astype(np.uint8)


register_effect("rain", rain, params=RainParams, example={"name": "rain", "drops": 200})
