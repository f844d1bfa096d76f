"""Stereo pairs in OpenCV's rectified convention: the right camera and the disparity.

The left camera is the one a scenario draws. The right camera has the same intrinsics, lens
and orientation and sits ``b`` metres along the left camera's +x axis (to its right), so a point
at depth ``z`` (metres along the optical axis, the same for both eyes) seen at column ``u`` in
the left image is at column ``u - fx b / z`` in the right image, on the same row (for a
pinhole). ``fx b / z`` is the disparity, in pixels.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from synthscene.core.state import Camera

__all__ = ["EYES", "disparity_from_depth", "right_camera"]

EYES = ("left", "right")
"""The eyes of a pair, in frame order: frame ``2p + i`` is eye ``EYES[i]`` of pair ``p``."""


def right_camera(left: Camera, baseline_m: float) -> Camera:
    """The right camera of a stereo pair whose left camera is ``left``.

    Parameters
    ----------
    left : Camera
    baseline_m : float
        Metres, > 0.

    Returns
    -------
    Camera
        ``left`` with ``world_from_camera = left.world_from_camera @ T``, ``T`` the translation
        by ``(baseline_m, 0, 0)``: the same ``K``, lens, size and orientation.

    Raises
    ------
    ValueError
        If ``baseline_m`` is not a finite number > 0.
    """
    baseline_m = float(baseline_m)
    if not (np.isfinite(baseline_m) and baseline_m > 0):
        raise ValueError(f"baseline_m must be a finite number > 0, got {baseline_m}")
    shift = np.eye(4)
    shift[0, 3] = baseline_m
    return dataclasses.replace(left, world_from_camera=np.asarray(left.world_from_camera,
                                                                  dtype=np.float64) @ shift)


def disparity_from_depth(depth: np.ndarray, fx: float, baseline_m: float) -> np.ndarray:
    """The disparity of each pixel of a stereo pair's image: ``fx * baseline_m / depth``.

    Parameters
    ----------
    depth : (H, W) float32
        Metres along the optical axis, 0 where nothing was hit.
    fx : float
        Focal length in pixels, > 0.
    baseline_m : float
        Metres, > 0.

    Returns
    -------
    (H, W) float32
        Pixels, 0 where ``depth`` is 0 (or not finite). For the left image: the match of
        column ``u`` is at ``u - d`` in the right image; for the right image: at ``u + d`` in
        the left one.
    """
    depth = np.asarray(depth, dtype=np.float32)
    hit = np.isfinite(depth) & (depth > 0)
    out = np.zeros(depth.shape, dtype=np.float32)
    out[hit] = np.float32(float(fx) * float(baseline_m)) / depth[hit]
    return out
