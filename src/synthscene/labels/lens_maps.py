"""The lookup maps of a distorted camera's frame in its pinhole render: where every distorted
pixel centre lies in the render (for the colour, interpolated) and which render pixel is
nearest to it (for ids, depth and normals, exact). Pure numpy and OpenCV.

Unprojecting every pixel through the lens by Newton's method costs tens of milliseconds a frame
at 640 x 480, and a lens drawn per frame needs new maps every frame, so
:func:`frame_maps` unprojects exactly only where it matters:

1. The knots of a coarse grid (every :data:`COARSE_PX` pixels) are unprojected: every fourth
   knot (in u and v) by Newton's method to convergence, the others by two Newton steps from
   those interpolated (their error, squared twice, is far below a micro-pixel).
2. Their pinhole positions, interpolated bilinearly (``cv2.remap`` with exact weights), are the
   colour maps.
3. Linear interpolation over a step ``h`` errs by ``s (1 - s) / 2`` times the second difference
   of the interpolated function at the fraction ``s`` of the step (plus terms of third order).
   Each pixel's bound, per axis of the render, is twice that, from the largest second
   differences of the knots around its cell and its 8 neighbours, plus
   :data:`FLOAT32_SLACK_PX`.
4. A pixel whose interpolated position lies within its bound of a rounding boundary (``k +
   0.5``) is unprojected exactly (Newton's method to convergence, started from the
   interpolated position); every other pixel rounds as its exact position does.
"""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np

from synthscene.core.state import Camera

__all__ = ["COARSE_PX", "FLOAT32_SLACK_PX", "frame_maps", "pinhole_positions"]

COARSE_PX = 4
"""Spacing, pixels, of the coarse grid whose knots are unprojected exactly; a power of 2, so
that ``cv2.remap``'s bilinear weights (multiples of 1/32) are exact."""

_START_STRIDE = 4
"""Every this many knots (in u and in v) are unprojected from scratch first; their results,
interpolated, start Newton's method at the other knots."""

_KNOT_STEPS = 2
"""Newton steps at the knots from the interpolated start (whose error, a few hundredths of a
pixel, two steps square twice: far below a micro-pixel); a knot whose residual is still above
1e-9 (:meth:`Lens.undistort`'s ``valid``) is solved to convergence."""

FLOAT32_SLACK_PX = 1e-3
"""Pixels added to the interpolation's error bound for the float32 arithmetic of the
interpolated positions (pinhole positions below 4096 px carry an error of a few 2^-12 px at
most)."""

_CACHE_SIZE = 4


def pinhole_positions(camera: Camera, pinhole: Camera, uv: np.ndarray,
                      start: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Where distorted pixel positions ``uv`` ((..., 2), pixels) of ``camera`` lie in the
    ``pinhole`` image: ``(..., 2)`` float64 pinhole pixel positions and a ``(...,)`` bool,
    True where the lens sees the point. ``start``: a first guess of the undistorted
    normalised coordinates (:meth:`Lens.unproject`)."""
    ab, valid = camera.lens.unproject(uv, camera.K, start)
    K = pinhole.K
    out = np.empty_like(ab)
    out[..., 0] = K[0, 0] * ab[..., 0] + K[0, 2]
    out[..., 1] = K[1, 1] * ab[..., 1] + K[1, 2]
    return out, valid


def _knot_positions(n: int) -> np.ndarray:
    """(k,) float64: the knots over ``n`` pixels, every ``COARSE_PX`` from pixel 0 (the last
    may lie up to ``COARSE_PX - 1`` pixels beyond the image)."""
    return COARSE_PX * np.arange(-(-(n - 1) // COARSE_PX) + 1, dtype=np.float64)


def _linear(x: np.ndarray, nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Linear interpolation of positions ``x`` between sorted ``nodes``: the index of the node
    at or before each and the fraction of the way to the next."""
    i = np.clip(np.searchsorted(nodes, x, side="right") - 1, 0, len(nodes) - 2)
    return i, (x - nodes[i]) / (nodes[i + 1] - nodes[i])


def _coarse_knots(camera: Camera, width: int, height: int) -> np.ndarray:
    """``(nv, nu, 2)`` float64: the undistorted normalised coordinates of the knots of the
    coarse grid over a ``width x height`` image (module notes, step 1)."""
    us, vs = _knot_positions(width), _knot_positions(height)
    su = np.unique(np.append(us[::_START_STRIDE], us[-1]))
    sv = np.unique(np.append(vs[::_START_STRIDE], vs[-1]))
    sparse, _ = camera.lens.unproject(np.stack(np.meshgrid(su, sv), -1), camera.K)
    (iu, fu), (iv, fv) = _linear(us, su), _linear(vs, sv)
    fv, fu = fv[:, None, None], fu[None, :, None]
    rows = sparse[iv] * (1 - fv) + sparse[iv + 1] * fv
    start = rows[:, iu] * (1 - fu) + rows[:, iu + 1] * fu
    grid = np.stack(np.meshgrid(us, vs), -1)
    ab, converged = camera.lens.unproject(grid, camera.K, start, steps=_KNOT_STEPS)
    if not converged.all():  # far from the start (or not seen): Newton's method to the end
        ab[~converged], _ = camera.lens.unproject(grid[~converged], camera.K,
                                                  start[~converged])
    return ab


@lru_cache(maxsize=_CACHE_SIZE)
def _grid(width: int, height: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``cv2.remap``'s fixed-point maps (``CV_16SC2``) of the positions ``(u / COARSE_PX, v /
    COARSE_PX)`` of every pixel of a ``width x height`` image, and ``(COARSE_PX,)`` float32 the
    linear interpolation's error weight ``s (1 - s) / 2`` at each fraction ``s`` of a step;
    cached per size."""
    h = COARSE_PX
    map_x = np.broadcast_to(np.arange(width, dtype=np.float32) / h, (height, width))
    map_y = np.broadcast_to((np.arange(height, dtype=np.float32) / h)[:, None], (height, width))
    fixed, fraction = cv2.convertMaps(np.ascontiguousarray(map_x), np.ascontiguousarray(map_y),
                                      cv2.CV_16SC2)
    s = np.arange(h) / h
    return fixed, fraction, (s * (1 - s) / 2).astype(np.float32)


def _second_differences(knots: np.ndarray, axis: int) -> np.ndarray:
    """``|f[i+1] - 2 f[i] + f[i-1]|`` of ``knots`` ((nv, nu) float64) along ``axis``, at every
    knot (the outermost take their neighbour's)."""
    k = np.moveaxis(knots, axis, 0)
    d = np.abs(k[2:] - 2 * k[1:-1] + k[:-2])
    d = np.concatenate([d[:1], d, d[-1:]])
    return np.moveaxis(d, 0, axis)


def _bound(knots: np.ndarray, weight: np.ndarray, width: int, height: int) -> np.ndarray:
    """(height, width) float32: twice the linear interpolation's error bound of ``knots``
    ((nv, nu) float64, one render axis) at every pixel."""
    h = COARSE_PX

    def per_cell(d: np.ndarray) -> np.ndarray:  # the largest over each cell and its neighbours
        cell = np.maximum(np.maximum(d[:-1, :-1], d[1:, :-1]), np.maximum(d[:-1, 1:], d[1:, 1:]))
        return cv2.dilate(2 * cell.astype(np.float32), np.ones((3, 3), np.uint8),
                          borderType=cv2.BORDER_REPLICATE)

    along_u = per_cell(_second_differences(knots, 1))
    along_v = per_cell(_second_differences(knots, 0))
    nv, nu = along_u.shape
    bound = np.empty((nv, h, nu, h), np.float32)
    np.multiply(along_v[:, None, :, None], weight[None, :, None, None], out=bound)
    bound += along_u[:, None, :, None] * weight[None, None, None, :]
    bound = bound.reshape(nv * h, nu * h)
    if bound.shape[0] < height or bound.shape[1] < width:  # a last knot on the last pixel
        bound = np.pad(bound, ((0, max(0, height - bound.shape[0])),
                               (0, max(0, width - bound.shape[1]))), mode="edge")
    return bound[:height, :width]


def frame_maps(camera: Camera, pinhole: Camera) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The pinhole pixel positions of every distorted pixel centre, interpolated, and the index
    of the nearest pinhole pixel of each, exact (the module notes say how).

    Parameters
    ----------
    camera : Camera
        The distorted camera (with a lens).
    pinhole : Camera
        Its pinhole render's camera (:func:`synthscene.labels.lens_warp.pinhole_camera`).

    Returns
    -------
    map_x, map_y : (H, W) float32
        Pinhole pixel positions (``cv2.remap``'s maps).
    nearest : (H, W) intp
        ``round(y') * W' + round(x')`` of the exact positions (halves up), clipped to the
        pinhole image.
    """
    width, height = camera.width, camera.height
    K = pinhole.K
    scale = np.array([K[0, 0], K[1, 1]])
    offset = np.array([K[0, 2], K[1, 2]])
    ab = _coarse_knots(camera, width, height)
    fixed, fraction, weight = _grid(width, height)
    maps, risky = [], None
    for axis in range(2):
        knots = ab[..., axis] * scale[axis] + offset[axis]
        positions = cv2.remap(knots.astype(np.float32), fixed, fraction, cv2.INTER_LINEAR)
        rounded = np.floor(positions + np.float32(0.5))
        # positions - rounded lies in [-0.5, 0.5): within the bound of a boundary where its
        # size plus the bound reaches 0.5
        near = np.abs(positions - rounded)
        near += _bound(knots, weight, width, height)
        near = near >= np.float32(0.5 - FLOAT32_SLACK_PX)
        risky = near if risky is None else risky | near
        maps.append((positions, rounded))
    (map_x, cols), (map_y, rows) = maps
    r, c = np.nonzero(risky)
    if r.size:
        uv = np.stack([c, r], -1).astype(np.float64)
        start = (np.stack([map_x[r, c], map_y[r, c]], -1).astype(np.float64) - offset) / scale
        refined, _ = pinhole_positions(camera, pinhole, uv, start)
        cols[r, c] = np.floor(refined[:, 0] + 0.5)
        rows[r, c] = np.floor(refined[:, 1] + 0.5)
    np.clip(cols, 0, pinhole.width - 1, out=cols)
    np.clip(rows, 0, pinhole.height - 1, out=rows)
    # rows * W' + cols, exact in float arithmetic (below 2^24 in float32, 2^53 in float64)
    nearest = np.empty(rows.shape, np.intp)
    np.multiply(rows, np.float32(pinhole.width), out=nearest, casting="unsafe")
    np.add(nearest, cols, out=nearest, casting="unsafe")
    return map_x, map_y, nearest
