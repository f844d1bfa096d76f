"""Where each light's shadow map looks: light matrices fitted to the shadow casters and the view
(pure numpy; the maps are drawn by :mod:`synthscene.render.shadow_maps`).

Every matrix is ``clip_from_world`` in OpenGL's conventions (the light looks along its view's
-z); a point ``p`` lands at map coordinates ``(clip.xy / clip.w) * 0.5 + 0.5`` and depth
``(clip.z / clip.w) * 0.5 + 0.5``. With it goes ``uv_per_m``: how many map widths one metre
across the light's view spans at ``clip.w = 1`` (half the projection's first diagonal entry), so
that the shader turns a filter radius and a texel into metres on the receiver.

* **Directional**: an orthographic map, square, over the part of the casters' extent (seen
  along the light) that the camera can see: the casters' bounding-box corners and the camera's
  frustum, cut at the far side of the scene's bounds, both projected across the light, their
  rectangles intersected. Its depth range spans the casters; the depth pass clamps depth
  (``GL_DEPTH_CLAMP``), so a receiver beyond it compares as the far plane and is shadowed by
  any caster in between.
* **Spot**: a perspective map along the spot's axis with the spot's cone (at most
  :data:`MAX_SPOT_FOV_RAD`), its depth range spanning the casters.
* **Point**: six perspective maps, one per axis direction (+x, -x, +y, -y, +z, -z), each a
  little wider than 90 degrees (:data:`FACE_MARGIN`) so that filter taps near a face's edge stay
  in the face.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from synthscene.core.state import Light

__all__ = ["FACE_MARGIN", "MAX_SPOT_FOV_RAD", "LightView", "box_corners",
           "directional_view", "frustum_corners", "point_views", "spot_view", "strongest"]

MAX_SPOT_FOV_RAD = np.radians(150.0)
"""Widest field of view of a spot light's map; a wider cone is lit unshadowed outside it."""

FACE_MARGIN = 0.1
"""A point light's face spans ``tan(half angle) = 1 + FACE_MARGIN``."""

_MIN_NEAR_M = 0.01


class LightView:
    """One shadow map's view: ``clip_from_world`` (4, 4) float64 and ``uv_per_m`` (float)."""

    __slots__ = ("clip_from_world", "uv_per_m")

    def __init__(self, clip_from_world: np.ndarray, uv_per_m: float) -> None:
        self.clip_from_world = clip_from_world
        self.uv_per_m = float(uv_per_m)


def strongest(lights: Sequence[Light], count: int) -> list[int]:
    """Indices of the ``count`` lights that light the scene's centre most, strongest first.

    A light's weight is its irradiance at the world origin, which synthscene's lights aim at:
    ``intensity * max(color)``, divided by the squared distance for point and spot lights
    (pyrender's units: W/m^2 and candela). Ties keep the lights' order.
    """
    def weight(index: int) -> float:
        light = lights[index]
        power = float(light.intensity) * float(max(light.color))
        if light.kind == "directional":
            return power
        position = np.asarray(light.world_from_light, dtype=np.float64)[:3, 3]
        return power / max(float(position @ position), 1e-12)

    return sorted(range(len(lights)), key=lambda i: (-weight(i), i))[:max(0, int(count))]


def box_corners(lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """(8, 3) float64: the corners of the axis-aligned box from ``lower`` (3,) to ``upper``."""
    return np.array([[x, y, z] for x in (lower[0], upper[0]) for y in (lower[1], upper[1])
                     for z in (lower[2], upper[2])], dtype=np.float64)


def frustum_corners(world_from_camera_gl: np.ndarray, projection: np.ndarray,
                    far_m: float) -> np.ndarray:
    """(8, 3) float64: the corners of a camera's view frustum, from its near plane to ``far_m``
    metres along its axis (OpenGL camera: looking along -z).

    Parameters
    ----------
    world_from_camera_gl : (4, 4) float64
    projection : (4, 4) float64
        An OpenGL perspective projection.
    far_m : float
        Distance of the far rectangle, metres (> the near plane's).
    """
    inverse = np.linalg.inv(projection)
    corners = []
    for ndc_z in (-1.0, 1.0):
        for x in (-1.0, 1.0):
            for y in (-1.0, 1.0):
                p = inverse @ np.array([x, y, ndc_z, 1.0])
                corners.append(p[:3] / p[3])
    corners = np.array(corners)
    far = corners[4:]
    corners[4:] = far * (far_m / max(-far[0, 2], 1e-9))  # rays through the far corners
    return corners @ world_from_camera_gl[:3, :3].T + world_from_camera_gl[:3, 3]


def _look_along(eye: np.ndarray, forward: np.ndarray) -> np.ndarray:
    """(4, 4) float64 view matrix (camera_from_world) of a camera at ``eye`` looking along
    ``forward`` (its -z), its up axis as close to world +z (or +y) as allows."""
    f = forward / np.linalg.norm(forward)
    hint = np.array([0.0, 0.0, 1.0]) if abs(f[2]) < 0.9 else np.array([0.0, 1.0, 0.0])
    right = np.cross(f, hint)
    right /= np.linalg.norm(right)
    up = np.cross(right, f)
    view = np.eye(4)
    view[0, :3], view[1, :3], view[2, :3] = right, up, -f
    view[:3, 3] = -view[:3, :3] @ eye
    return view


def _depth_range(view: np.ndarray, points: np.ndarray) -> tuple[float, float]:
    """Nearest and farthest distance along the view's axis of ``points`` (n, 3), metres."""
    depth = -(points @ view[2, :3] + view[2, 3])
    return float(depth.min()), float(depth.max())


def _perspective(tan_half: float, near: float, far: float) -> np.ndarray:
    p = np.zeros((4, 4))
    p[0, 0] = p[1, 1] = 1.0 / tan_half
    p[2, 2] = (far + near) / (near - far)
    p[2, 3] = 2.0 * far * near / (near - far)
    p[3, 2] = -1.0
    return p


def directional_view(direction: np.ndarray, casters: np.ndarray, visible: np.ndarray,
                     pad_m: float) -> LightView | None:
    """The orthographic map of a directional light.

    Parameters
    ----------
    direction : (3,) float64
        Direction the light travels (unit or not).
    casters : (n, 3) float64
        Corners of the shadow casters' bounding boxes, metres.
    visible : (m, 3) float64
        Points whose convex hull holds every receiver the camera sees (the clipped frustum's
        corners), metres.
    pad_m : float
        Margin around the fitted square (filter taps), metres.

    Returns
    -------
    LightView or None
        None if no caster can shadow anything the camera sees.
    """
    centre = casters.mean(axis=0)
    view = _look_along(centre, np.asarray(direction, dtype=np.float64))
    seen_by_light = casters @ view[:2, :3].T + view[:2, 3]
    seen_by_camera = visible @ view[:2, :3].T + view[:2, 3]
    lower = np.maximum(seen_by_light.min(axis=0), seen_by_camera.min(axis=0)) - pad_m
    upper = np.minimum(seen_by_light.max(axis=0), seen_by_camera.max(axis=0)) + pad_m
    if np.any(upper <= lower):
        return None
    middle, half = (lower + upper) / 2, float((upper - lower).max()) / 2
    near, far = _depth_range(view, casters)
    near, far = near - pad_m, far + pad_m
    ortho = np.eye(4)
    ortho[0, 0] = ortho[1, 1] = 1.0 / half
    ortho[0, 3], ortho[1, 3] = -middle[0] / half, -middle[1] / half
    ortho[2, 2] = -2.0 / (far - near)
    ortho[2, 3] = -(far + near) / (far - near)
    return LightView(ortho @ view, 0.5 / half)


def spot_view(position: np.ndarray, direction: np.ndarray, outer_cone_rad: float,
              casters: np.ndarray) -> LightView | None:
    """The perspective map of a spot light at ``position`` (3,) shining along ``direction``
    (3,) with cone half-angle ``outer_cone_rad``; ``casters`` as in :func:`directional_view`.
    None if every caster is behind the light."""
    view = _look_along(np.asarray(position, dtype=np.float64),
                       np.asarray(direction, dtype=np.float64))
    near, far = _depth_range(view, casters)
    if far <= _MIN_NEAR_M:
        return None
    tan_half = float(np.tan(min(2.0 * outer_cone_rad * 1.05, MAX_SPOT_FOV_RAD) / 2))
    near = max(near * 0.5, _MIN_NEAR_M)
    projection = _perspective(tan_half, near, far * 1.05)
    return LightView(projection @ view, 0.5 / tan_half)


_FACE_AXES = np.array([[1.0, 0, 0], [-1.0, 0, 0], [0, 1.0, 0], [0, -1.0, 0], [0, 0, 1.0],
                       [0, 0, -1.0]])


def point_views(position: np.ndarray, casters: np.ndarray) -> list[LightView]:
    """The six perspective maps of a point light at ``position`` (3,), faces +x, -x, +y, -y,
    +z, -z; ``casters`` as in :func:`directional_view`."""
    position = np.asarray(position, dtype=np.float64)
    far = float(np.linalg.norm(casters - position, axis=1).max()) * 1.05 + _MIN_NEAR_M
    tan_half = 1.0 + FACE_MARGIN
    projection = _perspective(tan_half, _MIN_NEAR_M, max(far, 2 * _MIN_NEAR_M))
    return [LightView(projection @ _look_along(position, axis), 0.5 / tan_half)
            for axis in _FACE_AXES]
