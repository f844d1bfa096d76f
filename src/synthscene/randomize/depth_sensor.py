"""Depth-sensor noise: what a structured-light or stereo depth camera reads, from the exact depth.

Pure numpy. Every draw comes from the generator passed in (the frame's depth-sensor stream,
:func:`synthscene.seeding.sensor_rng`), in a fixed order: the model's parameters (in
:class:`~synthscene.config.schema.DepthSensorSpec`'s field order), then per pixel the lateral
offsets (``structured_light``), the axial or disparity noise, and the dropout.

Models (``docs/cameras.md`` has the figures):

- ``structured_light``: the reading at a pixel is taken from a pixel shifted by a rounded
  Gaussian offset of ``lateral_px`` pixels per axis (lateral noise), then Gaussian axial noise
  of standard deviation ``sigma_z(z) = axial_a_m + axial_b_m * (z - axial_z0_m)^2`` is added
  (Nguyen, Izadi & Lovell, "Modeling Kinect Sensor Noise for Improved 3D Reconstruction and
  Tracking", 3DIMPVT 2012: 0.0012 + 0.0019 (z - 0.4)^2 m).
- ``stereo``: disparity ``d = fx * baseline / z`` pixels, plus Gaussian noise of
  ``disparity_sigma_px``, rounded to ``1 / subpixel_levels`` pixel; the reading is
  ``fx * baseline / d`` (no reading where ``d <= 0``). Its depth error grows as ``z^2``.

Both read nothing (0) outside ``[min_depth_m, max_depth_m]``, at depth discontinuities (a
4-neighbour more than ``edge_threshold`` times the pixel's depth nearer or farther, or nothing
hit), at grazing angles (the view ray more than ``max_incidence_deg`` from the surface normal,
the normal estimated from the depth's neighbours) and, at random, at a ``dropout`` fraction of
the rest.
"""

from __future__ import annotations

import numpy as np

from synthscene.config.sensors import DepthSensorSpec
from synthscene.core.state import Camera

__all__ = ["axial_sigma_m", "depth_reading", "pixel_rays"]


def axial_sigma_m(z: np.ndarray, a: float = 0.0012, b: float = 0.0019,
                  z0: float = 0.4) -> np.ndarray:
    """Axial standard deviation ``a + b (z - z0)^2`` (metres) of a structured-light reading at
    depth ``z`` (metres); the defaults are Nguyen, Izadi & Lovell's (2012) Kinect figures."""
    z = np.asarray(z, dtype=np.float64)
    return a + b * (z - z0) ** 2


def pixel_rays(camera: Camera) -> np.ndarray:
    """``(H, W, 2)`` float64: the undistorted normalised coordinates ``(X / Z, Y / Z)`` seen by
    each pixel centre (through ``camera.lens`` when it has one)."""
    v, u = np.mgrid[0:camera.height, 0:camera.width].astype(np.float64)
    if camera.lens is not None:
        return camera.lens.unproject(np.stack([u, v], -1), camera.K)[0]
    K = np.asarray(camera.K, dtype=np.float64)
    return np.stack([(u - K[0, 2]) / K[0, 0], (v - K[1, 2]) / K[1, 1]], -1)


def _edges(depth: np.ndarray, threshold: float) -> np.ndarray:
    """(H, W) bool: a 4-neighbour has no depth or differs by more than ``threshold * z``."""
    z = depth
    out = np.zeros(z.shape, bool)
    for axis in (0, 1):
        a = np.take(z, np.arange(0, z.shape[axis] - 1), axis=axis)
        b = np.take(z, np.arange(1, z.shape[axis]), axis=axis)
        jump = (a <= 0) | (b <= 0) | (np.abs(a - b) > threshold * np.minimum(a, b))
        lo = [slice(None)] * 2
        hi = [slice(None)] * 2
        lo[axis], hi[axis] = slice(0, -1), slice(1, None)
        out[tuple(lo)] |= jump
        out[tuple(hi)] |= jump
    return out


def _incidence_cos(depth: np.ndarray, rays: np.ndarray) -> np.ndarray:
    """(H, W): |cos| of the angle between each pixel's view ray and the surface normal
    estimated from the camera-frame points of its neighbours (central differences, one-sided
    at the borders: ``numpy.gradient``'s, taken per coordinate on (H, W) planes)."""
    z = np.asarray(depth, dtype=np.float64)
    points = (rays[..., 0] * z, rays[..., 1] * z, z)
    dy = [np.gradient(p, axis=0) for p in points]
    dx = [np.gradient(p, axis=1) for p in points]
    normal = (dx[1] * dy[2] - dx[2] * dy[1], dx[2] * dy[0] - dx[0] * dy[2],
              dx[0] * dy[1] - dx[1] * dy[0])
    length = (np.sqrt(normal[0] * normal[0] + normal[1] * normal[1] + normal[2] * normal[2])
              * np.sqrt(points[0] * points[0] + points[1] * points[1] + points[2] * points[2]))
    dot = np.abs(normal[0] * points[0] + normal[1] * points[1] + normal[2] * points[2])
    return np.divide(dot, length, out=np.zeros_like(dot), where=length > 0)


def depth_reading(depth: np.ndarray, camera: Camera, spec: DepthSensorSpec, *,
                  rng: np.random.Generator) -> np.ndarray:
    """A depth sensor's reading of an exact depth image.

    Parameters
    ----------
    depth : (H, W) float
        Exact depth, metres along the optical axis, 0 where nothing was hit.
    camera : Camera
        The frame's camera (``K``, and ``lens`` for the pixels' rays).
    spec : DepthSensorSpec
        The model and its parameters (distributions drawn once per call).
    rng : numpy.random.Generator

    Returns
    -------
    (H, W) float32
        Metres along the optical axis; 0 where the sensor gives no reading.
    """
    z = np.asarray(depth, dtype=np.float64)
    height, width = z.shape
    draw = {name: float(getattr(spec, name).sample(rng)) for name in (
        "axial_a_m", "axial_b_m", "axial_z0_m", "lateral_px", "baseline_m",
        "disparity_sigma_px", "min_depth_m", "max_depth_m", "edge_threshold",
        "max_incidence_rad", "dropout")}
    rays = pixel_rays(camera)
    valid = (z > 0) & (z >= draw["min_depth_m"]) & (z <= draw["max_depth_m"])
    if draw["edge_threshold"] > 0:
        valid &= ~_edges(z, draw["edge_threshold"])
    valid &= _incidence_cos(z, rays) >= np.cos(draw["max_incidence_rad"])

    if spec.model == "structured_light":
        rows, cols = np.mgrid[0:height, 0:width]
        if draw["lateral_px"] > 0:
            shift = np.rint(rng.normal(0.0, draw["lateral_px"], (2, height, width)))
            rows = np.clip(rows + shift[0].astype(np.intp), 0, height - 1)
            cols = np.clip(cols + shift[1].astype(np.intp), 0, width - 1)
        z, valid = z[rows, cols], valid[rows, cols]
        sigma = axial_sigma_m(z, draw["axial_a_m"], draw["axial_b_m"], draw["axial_z0_m"])
        reading = z + sigma * rng.standard_normal((height, width))
    else:
        fb = float(camera.K[0, 0]) * draw["baseline_m"]
        disparity = fb / np.where(valid, z, 1.0)
        disparity = disparity + draw["disparity_sigma_px"] * rng.standard_normal(
            (height, width))
        levels = float(spec.subpixel_levels)
        disparity = np.rint(disparity * levels) / levels
        valid &= disparity > 0
        reading = fb / np.where(valid, disparity, 1.0)
    if draw["dropout"] > 0:
        valid &= rng.random((height, width)) >= draw["dropout"]
    valid &= reading > 0
    return np.where(valid, reading, 0.0).astype(np.float32)
