"""A distorted camera's frame from a pinhole render: the undistorted render that covers it, and
the warp through the lens (pure numpy and OpenCV, no GL).

A camera with a :class:`~synthscene.core.lens.Lens` is drawn in two steps:

1. :func:`pinhole_camera`: an ideal pinhole at the same pose whose image covers every pixel
   of the distorted frame, with :data:`MARGIN_PX` pixels to spare on each side. Its ``K`` is
   fitted per frame to the distorted frame's undistorted outline; its size is the frame's own
   (:func:`canvas_size`: the outline at the image's pixel pitch at the centre) or a fixed one
   (:func:`pinhole_size` of a given scale).
2. :func:`warp_output`: every distorted pixel centre is unprojected through the lens
   (:meth:`Lens.unproject`) and looked up in the pinhole render (:func:`lens_warp`: the maps
   of :mod:`synthscene.labels.lens_maps`; :class:`LensWarps` keeps the last few per
   ``(K, lens, size)``): colour
   bilinearly (``cv2.remap``, ``INTER_LINEAR``); instance ids, depth and normals by nearest
   lookup (the pinhole pixel whose centre is nearest, rounding halves up), so ids stay exact
   and every label recomputed from them (masks, boxes, areas, visibility) is pixel-exact.
   Amodal masks are looked up the same way on their own crops, outside the frame too.

Depth stays metres along the optical axis (camera z): the pinhole and the distorted camera
share their pose, so the z of the surface seen at a pixel does not change. Normals stay in the
same camera frame.
"""

from __future__ import annotations

import dataclasses
import math

import cv2
import numpy as np

from synthscene.core.kept import LeastRecentlyUsed
from synthscene.core.state import AmodalMask, Camera, RenderOutput
from synthscene.labels.lens_maps import frame_maps, pinhole_positions

__all__ = ["FOOTPRINT_MARGIN_PX", "FOOTPRINT_STEP", "MARGIN_PX", "MAX_PINHOLE_SIDE", "WARPS_KEPT",
           "LensWarp", "LensWarps", "auto_render_scale", "canvas_size", "footprint",
           "frame_extent", "lens_pinhole", "lens_warp", "pinhole_camera", "pinhole_positions",
           "pinhole_size", "warp_amodal", "warp_output"]

MAX_PINHOLE_SIDE = 4096
"""Largest side, pixels, of the undistorted render of a distorted camera."""

MARGIN_PX = 2
"""Pinhole pixels kept beyond the distorted frame's outline on every side (bilinear lookups at
the frame's border stay inside the render)."""

FOOTPRINT_STEP = 2
"""The footprint polygon (:func:`footprint`) takes every this many border pixels of the frame
(and its corners): two border pixels lie at most a few pinhole pixels apart (a fisheye's
corners), and the outline between them bulges a small fraction of a pixel beyond their chord."""

FOOTPRINT_MARGIN_PX = 4.0
"""Pinhole pixels by which each point of the footprint polygon is pushed out, once along the
ray from the principal point and once along the outline's outward normal there: a bilinear
lookup reaches 1 pixel beyond a border pixel's position, a nearest one half a pixel. Towards a
fisheye's corners the outline runs almost along the rays, so the radial push alone would leave
it next to the border pixels; the normal push keeps it clear there too."""

WARPS_KEPT = 4
"""Warps a :class:`LensWarps` keeps (a frame's lens and intrinsics drawn per frame make a new
one each frame; a fixed lens reuses one)."""


def pinhole_size(width: int, height: int, scale: float) -> tuple[int, int]:
    """``(W', H')``: the undistorted render's size for an image of ``width x height`` pixels
    and ``scale`` (``ceil(scale * side)``, at most :data:`MAX_PINHOLE_SIDE`)."""
    return (min(math.ceil(scale * width), MAX_PINHOLE_SIDE),
            min(math.ceil(scale * height), MAX_PINHOLE_SIDE))


def _outline(width: int, height: int) -> np.ndarray:
    """(n, 2) pixel positions around the frame, one pixel outside its outer pixel centres,
    every pixel (the outline's extremes between them lie within a micro-pixel of the nearest,
    far inside :data:`MARGIN_PX`)."""
    us = np.arange(-1.0, width + 0.5)
    vs = np.arange(-1.0, height + 0.5)
    top = np.stack([us, np.full_like(us, -1.0)], 1)
    bottom = np.stack([us, np.full_like(us, float(height))], 1)
    left = np.stack([np.full_like(vs, -1.0), vs], 1)
    right = np.stack([np.full_like(vs, float(width)), vs], 1)
    return np.concatenate([top, bottom, left, right])


def frame_extent(camera: Camera) -> tuple[float, float, float, float]:
    """The undistorted normalised extent ``(xmin, xmax, ymin, ymax)`` of a distorted frame
    (its pixel centres and one pixel beyond).

    Raises
    ------
    ValueError
        If a pixel of the frame is not seen by the lens: beyond the fold of its radial
        function, or (fisheye) more than ``MAX_FISHEYE_ANGLE_RAD`` from the optical axis.
    """
    lens = camera.lens
    if lens is None:
        raise ValueError("the camera has no lens")
    ab, valid = lens.unproject(_outline(camera.width, camera.height), camera.K)
    if not valid.all():
        raise ValueError(
            f"{lens.model} coefficients {list(lens.coeffs)} with K diagonal "
            f"{[float(v) for v in np.diag(camera.K)[:2]]} do not see the whole "
            f"{camera.width}x{camera.height} frame (beyond the lens's fold, or a fisheye "
            "beyond 80 degrees from the axis): lower the field of view or the coefficients")
    return (float(ab[:, 0].min()), float(ab[:, 0].max()), float(ab[:, 1].min()),
            float(ab[:, 1].max()))


def pinhole_camera(camera: Camera, size: tuple[int, int],
                   extent: tuple[float, float, float, float] | None = None) -> Camera:
    """The ideal pinhole that is rendered for a distorted ``camera``.

    Parameters
    ----------
    camera : Camera
        With a ``lens``.
    size : (int, int)
        ``(W', H')`` of the render (:func:`pinhole_size`, :func:`canvas_size`).
    extent : (float, float, float, float), optional
        The frame's :func:`frame_extent`, if known.

    Returns
    -------
    Camera
        Same pose and clipping, no lens, ``W' x H'``, ``K'`` mapping the frame's undistorted
        extent (:func:`frame_extent`) onto pixels ``MARGIN_PX .. W' - 1 - MARGIN_PX`` (and the
        same in y).

    Raises
    ------
    ValueError
        As :func:`frame_extent`.
    """
    xmin, xmax, ymin, ymax = frame_extent(camera) if extent is None else extent
    width, height = int(size[0]), int(size[1])
    fx = (width - 1 - 2 * MARGIN_PX) / (xmax - xmin)
    fy = (height - 1 - 2 * MARGIN_PX) / (ymax - ymin)
    K = np.array([[fx, 0.0, MARGIN_PX - fx * xmin], [0.0, fy, MARGIN_PX - fy * ymin],
                  [0.0, 0.0, 1.0]])
    return Camera(K=K, width=width, height=height, world_from_camera=camera.world_from_camera,
                  znear=camera.znear, zfar=camera.zfar)


def _needed_scale(camera: Camera, extent: tuple[float, float, float, float]) -> float:
    """The smallest render scale whose pinhole over ``extent`` (:func:`frame_extent`) has
    ``fx' >= fx`` and ``fy' >= fy``, rounded up to 1/16; at least 1."""
    xmin, xmax, ymin, ymax = extent
    need_w = camera.K[0, 0] * (xmax - xmin) + 1 + 2 * MARGIN_PX
    need_h = camera.K[1, 1] * (ymax - ymin) + 1 + 2 * MARGIN_PX
    return math.ceil(max(1.0, need_w / camera.width, need_h / camera.height) * 16) / 16


def auto_render_scale(cameras: list[Camera]) -> float:
    """The smallest render scale whose pinhole, for every camera of ``cameras``, has a pixel
    pitch at the image centre no larger than the distorted image's (``fx' >= fx``,
    ``fy' >= fy``), rounded up to 1/16; at least 1.

    Raises
    ------
    ValueError
        As :func:`frame_extent`.
    """
    return max([1.0] + [_needed_scale(camera, frame_extent(camera)) for camera in cameras])


def canvas_size(camera: Camera, max_scale: float = math.inf,
                extent: tuple[float, float, float, float] | None = None) -> tuple[int, int]:
    """``(W', H')``: the render size of ``camera`` (with a lens) alone,
    ``pinhole_size(width, height, min(auto_render_scale([camera]), max_scale))``: the frame's
    own undistorted extent at the image's pixel pitch at the centre, no more (``extent``: its
    :func:`frame_extent`, if known).

    Raises
    ------
    ValueError
        As :func:`frame_extent`.
    """
    if extent is None:
        extent = frame_extent(camera)
    return pinhole_size(camera.width, camera.height, min(_needed_scale(camera, extent), max_scale))


def footprint(map_x: np.ndarray, map_y: np.ndarray, centre: np.ndarray) -> np.ndarray:
    """A polygon of pinhole pixel positions outside which the warp reads no pixel.

    The pinhole positions of the frame's border pixels (every :data:`FOOTPRINT_STEP`, and the
    four corners), in order around the frame, each pushed out by :data:`FOOTPRINT_MARGIN_PX`
    along the ray from ``centre`` (the pinhole's principal point, about which a radial lens's
    outline is star-shaped) and as much along the outline's outward normal.

    Parameters
    ----------
    map_x, map_y : (H, W) float32
        Pinhole pixel position of each distorted pixel centre (:class:`LensWarp`).
    centre : (2,) float
        The pinhole's principal point, pixels.

    Returns
    -------
    (n, 2) float64
    """
    height, width = map_x.shape
    # The border ring, clockwise from the top-left corner: top, right, bottom, left.
    rows = np.concatenate([np.zeros(width - 1, int), np.arange(height - 1),
                           np.full(width - 1, height - 1), np.arange(height - 1, 0, -1)])
    cols = np.concatenate([np.arange(width - 1), np.full(height - 1, width - 1),
                           np.arange(width - 1, 0, -1), np.zeros(height - 1, int)])
    corners = np.cumsum([0, width - 1, height - 1, width - 1])
    keep = np.union1d(np.arange(0, len(rows), FOOTPRINT_STEP), corners)
    points = np.stack([map_x[rows[keep], cols[keep]], map_y[rows[keep], cols[keep]]],
                      axis=1).astype(np.float64)
    away = points - np.asarray(centre, dtype=np.float64)
    radial = away / np.maximum(np.linalg.norm(away, axis=1, keepdims=True), 1e-9)
    tangent = np.roll(points, -1, axis=0) - np.roll(points, 1, axis=0)
    normal = np.stack([tangent[:, 1], -tangent[:, 0]], axis=1)
    normal /= np.maximum(np.linalg.norm(normal, axis=1, keepdims=True), 1e-9)
    normal *= np.where((normal * radial).sum(axis=1, keepdims=True) < 0.0, -1.0, 1.0)
    return points + (radial + normal) * FOOTPRINT_MARGIN_PX


@dataclasses.dataclass(frozen=True, eq=False)
class LensWarp:
    """The maps of one distorted camera from its pinhole render.

    Attributes
    ----------
    pinhole : Camera
        The undistorted render's camera (:func:`pinhole_camera`), with its
        :attr:`~synthscene.core.state.Camera.footprint` (:func:`footprint`).
    map_x, map_y : (H, W) float32
        Pinhole pixel position of each distorted pixel centre (``cv2.remap``'s maps).
    nearest : (H, W) intp
        Index, into the pinhole image's flattened ``(H', W')`` pixels, of the pinhole pixel
        nearest to each distorted pixel centre (``round(y') * W' + round(x')``, halves up).
    """

    pinhole: Camera
    map_x: np.ndarray
    map_y: np.ndarray
    nearest: np.ndarray


def lens_warp(camera: Camera, size: tuple[int, int] | None = None,
              max_scale: float = math.inf) -> LensWarp:
    """The :class:`LensWarp` of ``camera`` (with a lens) rendered at ``size`` (``(W', H')``;
    None: the camera's own :func:`canvas_size`, at most ``max_scale``); the pose does not
    enter (:class:`LensWarps` keeps the last few made).

    Raises
    ------
    ValueError
        As :func:`frame_extent`.
    """
    extent = frame_extent(camera)
    if size is None:
        size = canvas_size(camera, max_scale, extent)
    pinhole = pinhole_camera(camera, size, extent)
    map_x, map_y, nearest = frame_maps(camera, pinhole)
    outline = footprint(map_x, map_y, pinhole.K[:2, 2])
    return LensWarp(pinhole=dataclasses.replace(pinhole, world_from_camera=np.eye(4),
                                                footprint=outline),
                    map_x=map_x, map_y=map_y, nearest=nearest)


class LensWarps:
    """The :func:`lens_warp` of the last :data:`WARPS_KEPT` cameras, keyed by ``(K, lens, image
    size, render size)`` (least recently used out): a frame's camera is warped for its render
    and for its labels, and a fixed lens for every frame, with maps made once."""

    def __init__(self) -> None:
        self._warps: LeastRecentlyUsed[tuple, LensWarp] = LeastRecentlyUsed(WARPS_KEPT)

    def get(self, camera: Camera, size: tuple[int, int] | None = None,
            max_scale: float = math.inf) -> LensWarp:
        """:func:`lens_warp` of ``camera``, ``size`` and ``max_scale``, made once.

        Raises
        ------
        ValueError
            As :func:`frame_extent`.
        """
        key = (np.asarray(camera.K, np.float64).tobytes(), camera.lens, camera.width,
               camera.height, None if size is None else (int(size[0]), int(size[1])),
               None if size is not None else float(max_scale))
        return self._warps.get(key, lambda: lens_warp(camera, size, max_scale))


def warp_output(output: RenderOutput, camera: Camera, warp: LensWarp) -> RenderOutput:
    """The distorted camera's :class:`RenderOutput` from the pinhole render ``output``.

    Parameters
    ----------
    output : RenderOutput
        Rendered with ``warp.pinhole``'s intrinsics and size (``rgb`` (H', W', 3) uint8, ...).
    camera : Camera
        The distorted camera.
    warp : LensWarp
        ``lens_warp(camera, (W', H'))``.

    Returns
    -------
    RenderOutput
        ``(H, W)`` maps: ``rgb`` bilinear, ``depth``, ``instance_ids`` and ``normals`` by
        nearest lookup, ``amodal`` (:func:`warp_amodal`) crops of the distorted image grid.
    """
    rgb = cv2.remap(output.rgb, warp.map_x, warp.map_y, cv2.INTER_LINEAR,
                    borderMode=cv2.BORDER_REPLICATE)

    def nearest(a: np.ndarray) -> np.ndarray:
        flat = a.reshape(a.shape[0] * a.shape[1], *a.shape[2:])
        return np.take(flat, warp.nearest, axis=0)

    normals = None if output.normals is None else nearest(output.normals)
    amodal = None
    if output.amodal is not None:
        # Every crop's outline through the lens at once (one projection for the frame).
        outlines = {i: _outline_rays(m, warp.pinhole) for i, m in output.amodal.items()}
        drawn = [rays for rays in outlines.values() if rays is not None]
        projected = iter(())
        if drawn:
            uv, seen = camera.lens.project(np.concatenate(drawn), camera.K)
            bounds = np.cumsum([0] + [len(rays) for rays in drawn])
            projected = iter([(uv[a:b], seen[a:b]) for a, b in zip(bounds[:-1], bounds[1:])])
        amodal = {i: _warp_crop(m, camera, warp.pinhole, warp,
                                None if outlines[i] is None else next(projected))
                  for i, m in output.amodal.items()}
    return RenderOutput(rgb=rgb, depth=nearest(output.depth),
                        instance_ids=nearest(output.instance_ids), normals=normals,
                        amodal=amodal)


def warp_amodal(mask: AmodalMask, camera: Camera, pinhole: Camera,
                warp: LensWarp | None = None) -> AmodalMask:
    """A pinhole render's amodal crop seen through ``camera``'s lens.

    The crop's outline is distorted to find the distorted pixels it can cover (clamped, as the
    amodal pass clamps, to ``[-W, 2W) x [-H, 2H)``); each of those pixel centres is
    unprojected and looked up, nearest, in the crop (False outside it or where the lens does not
    see). In the frame this is the same lookup as :func:`warp_output`'s (given ``warp``, its
    nearest indices are used there; only pixels outside the frame are unprojected here).

    Returns
    -------
    AmodalMask
        In the distorted image's pixel grid (may extend beyond it).
    """
    rays = _outline_rays(mask, pinhole)
    return _warp_crop(mask, camera, pinhole, warp,
                      None if rays is None else camera.lens.project(rays, camera.K))


def _outline_rays(mask: AmodalMask, pinhole: Camera) -> np.ndarray | None:
    """(n, 3) float64: rays (z = 1) through the outline of a crop's occupied part, half a pixel
    beyond its centres, every half pixel; None for an empty crop."""
    m = np.asarray(mask.mask, dtype=bool)
    if m.size == 0 or not m.any():
        return None
    rows = np.flatnonzero(m.any(axis=1))
    cols = np.flatnonzero(m.any(axis=0))
    x0, x1 = mask.x0 + int(cols[0]), mask.x0 + int(cols[-1])
    y0, y1 = mask.y0 + int(rows[0]), mask.y0 + int(rows[-1])
    us = np.linspace(x0 - 1.0, x1 + 1.0, max(2, 2 * (x1 - x0 + 3)))
    vs = np.linspace(y0 - 1.0, y1 + 1.0, max(2, 2 * (y1 - y0 + 3)))
    nu, nv = len(us), len(vs)
    rays = np.empty((2 * (nu + nv), 3))  # top, bottom, left, right: pixels, then rays
    rays[:2 * nu, 0] = np.tile(us, 2)
    rays[:nu, 1], rays[nu:2 * nu, 1] = y0 - 1.0, y1 + 1.0
    rays[2 * nu:2 * nu + nv, 0], rays[2 * nu + nv:, 0] = x0 - 1.0, x1 + 1.0
    rays[2 * nu:, 1] = np.tile(vs, 2)
    K = pinhole.K
    rays[:, 0] -= K[0, 2]
    rays[:, 0] /= K[0, 0]
    rays[:, 1] -= K[1, 2]
    rays[:, 1] /= K[1, 1]
    rays[:, 2] = 1.0
    return rays


def _warp_crop(mask: AmodalMask, camera: Camera, pinhole: Camera, warp: LensWarp | None,
               projected: tuple[np.ndarray, np.ndarray] | None) -> AmodalMask:
    """:func:`warp_amodal` given the crop's outline through the lens (``Lens.project`` of
    :func:`_outline_rays`; None for an empty crop)."""
    if projected is None:
        return AmodalMask(0, 0, np.zeros((0, 0), bool))
    m = np.asarray(mask.mask, dtype=bool)
    h, w = m.shape
    uv, seen = projected
    width, height = camera.width, camera.height
    if seen.all():
        lo = np.floor(uv.min(axis=0)).astype(int) - 1
        hi = np.ceil(uv.max(axis=0)).astype(int) + 2
    else:  # the crop reaches beyond what the lens sees: search the whole clamped region
        lo, hi = np.array([-width, -height]), np.array([2 * width, 2 * height])
    dx0, dy0 = max(int(lo[0]), -width), max(int(lo[1]), -height)
    dx1, dy1 = min(int(hi[0]), 2 * width), min(int(hi[1]), 2 * height)
    if dx1 <= dx0 or dy1 <= dy0:
        return AmodalMask(0, 0, np.zeros((0, 0), bool))
    out = np.zeros((dy1 - dy0, dx1 - dx0), bool)

    padded = np.zeros((h + 2, w + 2), bool)  # a False border: what lies outside the crop
    padded[1:-1, 1:-1] = m

    def look_up(r: np.ndarray, c: np.ndarray, valid: np.ndarray | None) -> np.ndarray:
        """The crop's value at pinhole pixels ``(r, c)`` (False outside it or not valid)."""
        r = np.clip(r - (mask.y0 - 1), 0, h + 1)
        c = np.clip(c - (mask.x0 - 1), 0, w + 1)
        if valid is not None:
            r[~valid] = 0
        return padded[r, c]

    # The part inside the frame: the warp's nearest indices, a rectangle.
    fx0, fy0 = max(dx0, 0), max(dy0, 0)
    fx1, fy1 = min(dx1, width), min(dy1, height)
    todo = np.ones(out.shape, bool)
    if warp is not None and fx1 > fx0 and fy1 > fy0:
        r, c = np.divmod(warp.nearest[fy0:fy1, fx0:fx1], pinhole.width)
        out[fy0 - dy0:fy1 - dy0, fx0 - dx0:fx1 - dx0] = look_up(r, c, None)
        todo[fy0 - dy0:fy1 - dy0, fx0 - dx0:fx1 - dx0] = False
    if todo.any():  # beyond the frame: unprojected here
        v, u = np.nonzero(todo)
        uv = np.stack([u + dx0, v + dy0], -1).astype(np.float64)
        pos, valid = pinhole_positions(camera, pinhole, uv)
        out[v, u] = look_up(np.floor(pos[:, 1] + 0.5).astype(np.int64),
                            np.floor(pos[:, 0] + 0.5).astype(np.int64), valid)
    return AmodalMask(dx0, dy0, out)


def lens_pinhole(camera: Camera, size: tuple[int, int] | None = None,
                 max_scale: float = math.inf, warp: LensWarp | None = None) -> Camera:
    """The pinhole camera to render for ``camera`` (with a lens): :func:`lens_warp`'s (or that
    of ``warp``, its warp already made), at the distorted camera's pose."""
    if warp is None:
        warp = lens_warp(camera, size, max_scale)
    return dataclasses.replace(warp.pinhole, world_from_camera=camera.world_from_camera)
