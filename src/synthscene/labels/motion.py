"""Exact optical flow of rigid scenes, from depth and poses (pure numpy: no GL, no pybullet).

A pixel ``(u, v)`` of frame ``a`` with depth ``d`` (metres along the optical axis) sees the
camera-frame point ``d K_a^-1 [u, v, 1]`` (OpenCV pinhole: pixel centres at integer
coordinates). Moved rigidly with the object it lies on (``world_from_object_b @
inv(world_from_object_a)``; the ground, walls and static objects do not move) and projected
with frame ``b``'s camera, it lands at ``(u', v')``: the flow is ``(u' - u, v' - v)`` pixels.
The flow is valid where the pixel hit a surface, the point is in front of camera ``b`` and
inside its image, and frame ``b`` sees that same surface there (its instance id at the nearest
pixel is the point's, and its depth agrees within ``DEPTH_TOLERANCE``): elsewhere the point is
occluded or out of view.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from synthscene.core.state import Camera

__all__ = ["DEPTH_TOLERANCE", "point_tracks", "rigid_flow"]

DEPTH_TOLERANCE = (0.002, 0.01)
"""(metres, fraction of the depth): a projected point is visible in the other frame where the
rendered depth there differs from its own by at most ``0.002 + 0.01 * depth``."""


def rigid_flow(depth: np.ndarray, instance_ids: np.ndarray, camera: Camera,
               world_from_object: Mapping[int, np.ndarray], *, other_camera: Camera,
               other_world_from_object: Mapping[int, np.ndarray], other_depth: np.ndarray,
               other_instance_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Optical flow from one frame of a rigid scene to another.

    Parameters
    ----------
    depth : (H, W) float32
        Metres along the optical axis, 0 where nothing was hit.
    instance_ids : (H, W) int32
        0 for the ground and everything static, else the object's instance id.
    camera : Camera
        The frame's camera (``K``, ``world_from_camera``; OpenCV axes).
    world_from_object : mapping of int to (4, 4) float64
        Pose of each object that may move, by instance id, in this frame. Ids not in it are
        static.
    other_camera : Camera
        The other frame's camera (same image size).
    other_world_from_object : mapping of int to (4, 4) float64
        The same objects' poses in the other frame.
    other_depth : (H, W) float32
        The other frame's depth (occlusion test).
    other_instance_ids : (H, W) int32
        The other frame's instance ids (occlusion test).

    Returns
    -------
    flow : (H, W, 2) float32
        ``(dx, dy)`` in pixels; 0 where not valid.
    valid : (H, W) bool

    Raises
    ------
    ValueError
        If the shapes disagree.
    """
    height, width = depth.shape
    if instance_ids.shape != depth.shape or other_depth.shape != depth.shape \
            or other_instance_ids.shape != depth.shape:
        raise ValueError("depth and instance id images must all have the same (H, W) shape")
    # Per instance, pixel (u, v) at depth d lands at d * A [u, v, 1] + b (homogeneous), with
    # A = K_b R K_a^-1 and b = K_b t for the instance's camera_b_from_camera_a = (R, t). Every
    # pixel is first projected with the static scene's (A, b) (the ground, walls, fixtures and
    # whatever is not in both pose maps), then the pixels of each moving object again with its
    # own: the same float32 operations, per pixel, as one (A, b) gathered for every pixel.
    ids = instance_ids.ravel()
    d = depth.ravel().astype(np.float32)
    u = np.tile(np.arange(width, dtype=np.float32), height)
    v = np.repeat(np.arange(height, dtype=np.float32), width)
    camera_b_from_world = np.linalg.inv(np.asarray(other_camera.world_from_camera, np.float64))
    world_from_camera_a = np.asarray(camera.world_from_camera, np.float64)
    k_a_inv = np.linalg.inv(np.asarray(camera.K, np.float64))
    k_b = np.asarray(other_camera.K, np.float64)

    def coefficients(world_from_world: np.ndarray) -> np.ndarray:
        """(12,) float32: A row-major, then b."""
        b_from_a = camera_b_from_world @ world_from_world @ world_from_camera_a
        return np.concatenate([(k_b @ b_from_a[:3, :3] @ k_a_inv).ravel(),
                               k_b @ b_from_a[:3, 3]]).astype(np.float32)

    def project(c: np.ndarray, d: np.ndarray, u: np.ndarray, v: np.ndarray) -> list[np.ndarray]:
        return [d * (c[3 * i] * u + c[3 * i + 1] * v + c[3 * i + 2]) + c[9 + i]
                for i in range(3)]

    projected = project(coefficients(np.eye(4)), d, u, v)
    present = np.flatnonzero(np.bincount(ids.clip(0))).tolist()  # ids are >= 0
    moving = [k for k in present if k in world_from_object and k in other_world_from_object]
    if moving:
        is_moving = np.zeros(present[-1] + 1, dtype=bool)
        is_moving[moving] = True
        pixels = np.flatnonzero(is_moving[ids])
        keys = ids[pixels]  # sorted by id; 16-bit keys sort by radix sort, in linear time
        pixels = pixels[np.argsort(keys.astype(np.uint16) if moving[-1] < 1 << 16 else keys,
                                   kind="stable")]
        bounds = np.searchsorted(ids[pixels], moving + [moving[-1] + 1])
        for k, instance in enumerate(moving):
            at = pixels[bounds[k]:bounds[k + 1]]
            world_from_world = (np.asarray(other_world_from_object[instance], np.float64)
                                @ np.linalg.inv(np.asarray(world_from_object[instance],
                                                           np.float64)))
            for full, part in zip(projected, project(coefficients(world_from_world), d[at],
                                                     u[at], v[at])):
                full[at] = part
    z = projected[2]  # K's last row is (0, 0, 1): the depth in camera b
    front = (d > 0) & (z > 1e-9)
    safe = np.where(front, z, 1.0)
    x, y = projected[0] / safe, projected[1] / safe
    valid = _seen(x, y, z, front, ids, other_depth, other_instance_ids)
    zero = np.float32(0.0)
    flow = np.stack([np.where(valid, x - u, zero), np.where(valid, y - v, zero)], axis=-1)
    return flow.reshape(height, width, 2), valid.reshape(height, width)


def _seen(x: np.ndarray, y: np.ndarray, z: np.ndarray, front: np.ndarray, ids: np.ndarray,
          depth: np.ndarray, instance_ids: np.ndarray) -> np.ndarray:
    """Which points (pixel coordinates ``x``, ``y`` and camera depth ``z``, (N,) each, of the
    objects ``ids``; ``front`` where they lie ahead of the camera) a frame sees: inside its image,
    with its instance id at the nearest pixel and its depth within :data:`DEPTH_TOLERANCE`."""
    height, width = depth.shape
    inside = front & (x >= -0.5) & (x < width - 0.5) & (y >= -0.5) & (y < height - 0.5)
    at = np.flatnonzero(inside)
    # Inside the image, x in [-0.5, width - 0.5) rounds to 0 .. width - 1 (and y likewise).
    nearest = np.round(y[at]).astype(np.int64) * width + np.round(x[at]).astype(np.int64)
    za = z[at]
    tolerance = DEPTH_TOLERANCE[0] + DEPTH_TOLERANCE[1] * np.abs(za)
    there = depth.ravel()[nearest].astype(np.float64)
    seen = np.zeros(inside.shape, dtype=bool)
    seen[at] = (instance_ids.ravel()[nearest] == ids[at]) & (np.abs(there - za) <= tolerance)
    return seen


def point_tracks(depth: np.ndarray, instance_ids: np.ndarray, camera: Camera,
                 world_from_object: Mapping[int, np.ndarray], labelled: set[int], count: int,
                 frames: list[tuple[Camera, Mapping[int, np.ndarray], np.ndarray, np.ndarray]],
                 *, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Track ``count`` points on the visible labelled surfaces of a first frame through frames.

    The points are the centres of ``count`` pixels drawn uniformly (without replacement; fewer
    if fewer are visible) among the first frame's pixels of labelled objects; each is fixed to
    its object and followed with the object's pose.

    Parameters
    ----------
    depth, instance_ids : (H, W) float32, (H, W) int32
        The first frame's depth (metres along the optical axis) and instance ids.
    camera : Camera
        The first frame's camera.
    world_from_object : mapping of int to (4, 4) float64
        The first frame's object poses, by instance id.
    labelled : set of int
        Instance ids whose pixels may be drawn.
    count : int
        Points wanted, >= 0.
    frames : list of (Camera, mapping of int to (4, 4), (H, W) float32, (H, W) int32)
        Each frame's camera, object poses, depth and instance ids (the first frame included).
    rng : numpy.random.Generator

    Returns
    -------
    target_points : (N, T, 2) float32
        ``(x, y)`` pixel position of each point in each frame (OpenCV pixel centres; may lie
        outside the image).
    occluded : (N, T) bool
        True where the point is hidden by another surface, behind the camera or out of view
        (the visibility test of :func:`rigid_flow`).
    instance : (N,) int32
        The object each point lies on.
    """
    candidates = np.flatnonzero(np.isin(instance_ids, sorted(labelled)) & (depth > 0))
    chosen = np.sort(rng.choice(candidates, size=min(count, candidates.size), replace=False)) \
        if candidates.size else np.zeros(0, dtype=np.int64)
    rows, cols = np.unravel_index(chosen, depth.shape)
    ids = instance_ids[rows, cols].astype(np.int32)
    pixels = np.stack([cols, rows, np.ones(len(rows))]).astype(np.float64)
    points = np.linalg.inv(np.asarray(camera.K, np.float64)) @ pixels * depth[rows, cols]
    world = np.asarray(camera.world_from_camera)[:3, :3] @ points \
        + np.asarray(camera.world_from_camera)[:3, 3:4]
    local = np.empty_like(world)
    for instance in np.unique(ids):
        rows_of = ids == instance
        object_from_world = np.linalg.inv(np.asarray(world_from_object[int(instance)]))
        local[:, rows_of] = object_from_world[:3, :3] @ world[:, rows_of] \
            + object_from_world[:3, 3:4]
    target = np.zeros((len(ids), len(frames), 2), dtype=np.float32)
    occluded = np.ones((len(ids), len(frames)), dtype=bool)
    for t, (frame_camera, poses, frame_depth, frame_ids) in enumerate(frames):
        here = np.empty_like(local)
        for instance in np.unique(ids):
            rows_of = ids == instance
            pose = np.asarray(poses[int(instance)])
            here[:, rows_of] = pose[:3, :3] @ local[:, rows_of] + pose[:3, 3:4]
        camera_from_world = np.linalg.inv(np.asarray(frame_camera.world_from_camera))
        seen = camera_from_world[:3, :3] @ here + camera_from_world[:3, 3:4]
        z = seen[2]
        projected = np.asarray(frame_camera.K, np.float64) @ seen
        safe = np.where(z > 1e-9, z, 1.0)
        x, y = projected[0] / safe, projected[1] / safe
        target[:, t, 0], target[:, t, 1] = x, y
        occluded[:, t] = ~_seen(x, y, z, z > 1e-9, ids, frame_depth, frame_ids)
    return target, occluded, ids
