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

With a lens (``Camera.lens``, OpenCV's distortion models) the pixel's ray is the lens's
undistortion of the pixel (:meth:`~synthscene.core.lens.Lens.unproject`) instead of ``K_a^-1``,
and the moved point is projected through frame ``b``'s lens (``cv2.projectPoints``' model): the
flow of a distorted camera is the motion of the distorted pixels, compared with the distorted
frame's own depth and ids (the images after the warp).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from synthscene.core.kept import LeastRecentlyUsed
from synthscene.core.state import Camera

__all__ = ["DEPTH_TOLERANCE", "FlowBuffers", "FlowSource", "camera_points", "point_tracks",
           "project_points", "rigid_flow"]

DEPTH_TOLERANCE = (0.002, 0.01)
"""(metres, fraction of the depth): a projected point is visible in the other frame where the
rendered depth there differs from its own by at most ``0.002 + 0.01 * depth``."""


def rigid_flow(depth: np.ndarray, instance_ids: np.ndarray, camera: Camera,
               world_from_object: Mapping[int, np.ndarray], *, other_camera: Camera,
               other_world_from_object: Mapping[int, np.ndarray], other_depth: np.ndarray,
               other_instance_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Optical flow from one frame of a rigid scene to another.

    ``FlowSource(depth, instance_ids, camera, world_from_object).flow_to(...)``: make one
    :class:`FlowSource` for the flows of one frame towards several others.

    Parameters
    ----------
    depth, instance_ids, camera, world_from_object
        The frame: (H, W) float32 metres along the optical axis (0 where nothing was hit), its
        (H, W) int32 instance ids (0 for everything static), its camera (``K``,
        ``world_from_camera``; OpenCV axes) and the (4, 4) float64 pose of each object that may
        move, by instance id (see :class:`FlowSource`).
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
    return FlowSource(depth, instance_ids, camera, world_from_object).flow_to(
        other_camera, other_world_from_object, other_depth, other_instance_ids)


_RAYS_KEPT = 2
"""Cameras (K, lens and size) whose pixel rays a :class:`FlowBuffers` keeps."""


class FlowBuffers:
    """Work arrays that flows reuse from frame to frame (one per run of frames of one size), so
    that a flow allocates little more than its result: fresh large arrays cost a page fault per
    4 KiB page when first written, about a third of a flow's time otherwise.

    They also keep the pixel rays of the last :data:`_RAYS_KEPT` cameras with a lens
    (:meth:`pixel_rays`): the frames of a sequence share their lens and ``K``, so Newton's method
    runs once a sequence, not once a frame.

    Not thread-safe: one flow at a time. ``FlowSource(..., buffers=None)`` uses throwaway ones.
    """

    def __init__(self) -> None:
        self._arrays: dict[tuple, np.ndarray] = {}
        self._rays: LeastRecentlyUsed[tuple, np.ndarray] = LeastRecentlyUsed(_RAYS_KEPT)

    def array(self, name: str, shape: tuple[int, ...], dtype: type) -> np.ndarray:
        """The work array ``name`` of this shape and dtype (contents undefined)."""
        key = (name, shape, np.dtype(dtype).str)
        out = self._arrays.get(key)
        if out is None:
            out = self._arrays[key] = np.empty(shape, dtype=dtype)
        return out

    def pixel_rays(self, camera: Camera, height: int, width: int) -> np.ndarray:
        """The undistorted normalised coordinates of every pixel centre of ``camera`` (which
        has a lens; :meth:`Lens.unproject`, row by row), kept per ``(K, lens, size)``.

        Returns
        -------
        (H*W, 2) float64
            Read-only.
        """
        key = (np.asarray(camera.K, np.float64).tobytes(), camera.lens, int(width), int(height))

        def unproject() -> np.ndarray:
            rows, cols = np.divmod(np.arange(height * width), width)
            uv = np.stack([cols.astype(np.float64), rows.astype(np.float64)], -1)
            ab, _ = camera.lens.unproject(uv, camera.K)
            ab.flags.writeable = False
            return ab

        return self._rays.get(key, unproject)


class FlowSource:
    """One frame's pixels, ready for :meth:`flow_to` other frames (see :func:`rigid_flow`).

    What every flow out of the frame shares is computed once: the pixel grid, the depth as
    float32, and the pixels of each object that may move, grouped by instance id.

    Parameters
    ----------
    depth : (H, W) float32
        Metres along the optical axis, 0 where nothing was hit.
    instance_ids : (H, W) int32
        0 for the ground and everything static, else the object's instance id.
    camera : Camera
        The frame's camera.
    world_from_object : mapping of int to (4, 4) float64
        Pose of each object that may move, by instance id. Ids not in it are static.
    buffers : FlowBuffers, optional
        Work arrays to reuse (e.g. one for every frame of a run).

    Raises
    ------
    ValueError
        If the shapes disagree.
    """

    def __init__(self, depth: np.ndarray, instance_ids: np.ndarray, camera: Camera,
                 world_from_object: Mapping[int, np.ndarray], *,
                 buffers: FlowBuffers | None = None) -> None:
        if instance_ids.shape != depth.shape:
            raise ValueError("depth and instance id images must all have the same (H, W) shape")
        self.shape = depth.shape
        height, width = depth.shape
        self._camera = camera
        self._world_from_object = world_from_object
        self._buffers = buffers or FlowBuffers()
        self._ids = instance_ids.ravel()
        self._d = depth.ravel().astype(np.float32, copy=False)
        self._points: np.ndarray | None = None  # (3, H*W) camera-frame points, with a lens
        self._u_row = np.arange(width, dtype=np.float32)  # (W,): each column's u
        self._v_col = np.arange(height, dtype=np.float32)[:, None]  # (H, 1): each row's v
        ids = self._ids if self._ids.min(initial=0) >= 0 else self._ids.clip(0)
        seen = np.zeros(int(ids.max(initial=0)) + 1, dtype=bool)
        seen[ids] = True
        present = np.flatnonzero(seen).tolist()
        # The pixels of each object that may move, sorted by id (16-bit keys sort by radix
        # sort, in linear time), each group in increasing pixel order.
        self._movable = [k for k in present if k in world_from_object]
        self._groups: dict[int, np.ndarray] = {}
        if self._movable:
            is_movable = np.zeros(present[-1] + 1, dtype=bool)
            is_movable[self._movable] = True
            pixels = np.flatnonzero(is_movable[self._ids])
            keys = self._ids[pixels]
            pixels = pixels[np.argsort(keys.astype(np.uint16) if self._movable[-1] < 1 << 16
                                       else keys, kind="stable")]
            bounds = np.searchsorted(self._ids[pixels],
                                     self._movable + [self._movable[-1] + 1])
            self._groups = {instance: pixels[bounds[k]:bounds[k + 1]]
                            for k, instance in enumerate(self._movable)}

    def flow_to(self, other_camera: Camera, other_world_from_object: Mapping[int, np.ndarray],
                other_depth: np.ndarray, other_instance_ids: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray]:
        """The flow towards another frame and where it is valid (:func:`rigid_flow`'s
        ``other_*`` parameters and result; both freshly allocated).

        Raises
        ------
        ValueError
            If the other frame's images are not this frame's (H, W).
        """
        if other_depth.shape != self.shape or other_instance_ids.shape != self.shape:
            raise ValueError("depth and instance id images must all have the same (H, W) shape")
        if self._camera.lens is not None or other_camera.lens is not None:
            return self._lens_flow_to(other_camera, other_world_from_object, other_depth,
                                      other_instance_ids)
        height, width = self.shape
        n = height * width
        work = self._buffers
        d, u_row, v_col = self._d, self._u_row, self._v_col
        # Per instance, pixel (u, v) at depth d lands at d * A [u, v, 1] + b (homogeneous), with
        # A = K_b R K_a^-1 and b = K_b t for the instance's camera_b_from_camera_a = (R, t).
        # Every pixel is first projected with the static scene's (A, b) (the ground, walls,
        # fixtures and whatever is not in both pose maps), then the pixels of each moving
        # object again with its own: per pixel, the float32 operations of
        # d * (A[i, 0] u + A[i, 1] v + A[i, 2]) + b[i], in that order.
        camera_b_from_world = np.linalg.inv(np.asarray(other_camera.world_from_camera,
                                                       np.float64))
        world_from_camera_a = np.asarray(self._camera.world_from_camera, np.float64)
        k_a_inv = np.linalg.inv(np.asarray(self._camera.K, np.float64))
        k_b = np.asarray(other_camera.K, np.float64)

        def coefficients(world_from_world: np.ndarray) -> np.ndarray:
            """(12,) float32: A row-major, then b."""
            b_from_a = camera_b_from_world @ world_from_world @ world_from_camera_a
            return np.concatenate([(k_b @ b_from_a[:3, :3] @ k_a_inv).ravel(),
                                   k_b @ b_from_a[:3, 3]]).astype(np.float32)

        # Every pixel, with the products of u and v taken once per column and row.
        static = coefficients(np.eye(4))
        d_image = d.reshape(height, width)
        projected = work.array("projected", (3, n), np.float32)
        for i in range(3):
            full = projected[i].reshape(height, width)
            np.add(static[3 * i] * u_row, static[3 * i + 1] * v_col, out=full)
            full += static[3 * i + 2]
            full *= d_image
            full += static[9 + i]
        for instance in self._movable:
            if instance not in other_world_from_object:
                continue
            at = self._groups[instance]
            c = coefficients(np.asarray(other_world_from_object[instance], np.float64)
                             @ np.linalg.inv(np.asarray(self._world_from_object[instance],
                                                        np.float64)))
            rows, cols = np.divmod(at, width)
            u_at, v_at, d_at = cols.astype(np.float32), rows.astype(np.float32), d[at]
            for i in range(3):
                projected[i, at] = d_at * (c[3 * i] * u_at + c[3 * i + 1] * v_at
                                           + c[3 * i + 2]) + c[9 + i]
        z = projected[2]  # K's last row is (0, 0, 1): the depth in camera b
        front = np.greater(d, 0, out=work.array("front", (n,), bool))
        front &= np.greater(z, 1e-9, out=work.array("mask", (n,), bool))
        safe = work.array("safe", (n,), np.float32)
        safe.fill(1.0)
        np.copyto(safe, z, where=front)
        x = np.divide(projected[0], safe, out=work.array("x", (n,), np.float32))
        y = np.divide(projected[1], safe, out=work.array("y", (n,), np.float32))
        valid = _seen(x, y, z, front, self._ids, other_depth, other_instance_ids, work)
        flow = np.zeros((height, width, 2), dtype=np.float32)  # 0 where not valid
        np.subtract(x.reshape(height, width), u_row, out=flow[..., 0],
                    where=valid.reshape(height, width))
        np.subtract(y.reshape(height, width), v_col, out=flow[..., 1],
                    where=valid.reshape(height, width))
        return flow, valid.reshape(height, width)

    def _lens_flow_to(self, other_camera: Camera,
                      other_world_from_object: Mapping[int, np.ndarray],
                      other_depth: np.ndarray, other_instance_ids: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`flow_to` where either camera has a lens: each pixel's ray comes from the
        lens's undistortion (:func:`camera_points`) and the moved points are projected through
        the other camera's lens (:func:`project_points`), in float64."""
        height, width = self.shape
        if self._points is None:
            if self._camera.lens is not None:  # the rays of a sequence's lens, once
                self._points = _points_from_rays(
                    self._buffers.pixel_rays(self._camera, height, width), self._d)
            else:
                rows, cols = np.divmod(np.arange(height * width), width)
                self._points = camera_points(self._camera, cols, rows, self._d)
        camera_b_from_world = np.linalg.inv(np.asarray(other_camera.world_from_camera,
                                                       np.float64))
        world_from_camera_a = np.asarray(self._camera.world_from_camera, np.float64)
        moved = camera_b_from_world @ world_from_camera_a
        seen = (moved[:3, :3] @ self._points) + moved[:3, 3:4]
        for instance in self._movable:
            if instance not in other_world_from_object:
                continue
            at = self._groups[instance]
            b_from_a = (camera_b_from_world
                        @ np.asarray(other_world_from_object[instance], np.float64)
                        @ np.linalg.inv(np.asarray(self._world_from_object[instance],
                                                   np.float64)) @ world_from_camera_a)
            seen[:, at] = b_from_a[:3, :3] @ self._points[:, at] + b_from_a[:3, 3:4]
        x, y, front = project_points(other_camera, seen)
        front &= self._d > 0
        valid = _seen(x, y, seen[2], front, self._ids, other_depth, other_instance_ids)
        u = np.tile(np.arange(width, dtype=np.float64), height)
        v = np.repeat(np.arange(height, dtype=np.float64), width)
        flow = np.zeros((height * width, 2), dtype=np.float32)  # 0 where not valid
        flow[valid, 0] = (x - u)[valid]
        flow[valid, 1] = (y - v)[valid]
        return flow.reshape(height, width, 2), valid.reshape(height, width)


def _points_from_rays(ab: np.ndarray, depth: np.ndarray) -> np.ndarray:
    """(3, N) float64 camera-frame points from (N, 2) undistorted normalised coordinates and
    (N,) depths along the optical axis (metres)."""
    d = np.asarray(depth, np.float64)
    return np.stack([ab[:, 0] * d, ab[:, 1] * d, d])


def camera_points(camera: Camera, cols: np.ndarray, rows: np.ndarray,
                  depth: np.ndarray) -> np.ndarray:
    """Camera-frame points seen at pixels ``(cols, rows)`` with ``depth`` (metres along the
    optical axis), through the camera's lens when it has one (:meth:`Lens.unproject`, the
    inverse of ``cv2.projectPoints``) or its pinhole ``K``.

    Parameters
    ----------
    camera : Camera
    cols, rows : (N,) int or float
        Pixel coordinates (OpenCV: pixel centres at integers).
    depth : (N,) float

    Returns
    -------
    (3, N) float64
        Points in the camera's OpenCV frame, metres.
    """
    uv = np.stack([np.asarray(cols, np.float64), np.asarray(rows, np.float64)], -1)
    if camera.lens is None:
        ab = np.linalg.solve(np.asarray(camera.K, np.float64),
                             np.concatenate([uv, np.ones((len(uv), 1))], 1).T)[:2].T
    else:
        ab, _ = camera.lens.unproject(uv, camera.K)
    return _points_from_rays(ab, depth)


def project_points(camera: Camera, points: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pixel positions of camera-frame points (``cv2.projectPoints`` with the camera's ``K``
    and lens, or its pinhole ``K``).

    Parameters
    ----------
    camera : Camera
    points : (3, N) float
        OpenCV camera frame, metres.

    Returns
    -------
    x, y : (N,) float64
        Pixel coordinates (0 where not ``front``).
    front : (N,) bool
        In front of the camera (and, with a lens, inside its fold: :meth:`Lens.distort`).
    """
    p = np.asarray(points, np.float64)
    if camera.lens is not None:
        uv, front = camera.lens.project(p.T, camera.K)
        return uv[:, 0], uv[:, 1], front
    front = p[2] > 1e-9
    safe = np.where(front, p[2], 1.0)
    K = np.asarray(camera.K, np.float64)
    projected = K @ p
    x = np.where(front, projected[0] / safe, 0.0)
    y = np.where(front, projected[1] / safe, 0.0)
    return x, y, front


def _seen(x: np.ndarray, y: np.ndarray, z: np.ndarray, front: np.ndarray, ids: np.ndarray,
          depth: np.ndarray, instance_ids: np.ndarray,
          work: FlowBuffers | None = None) -> np.ndarray:
    """Which points (pixel coordinates ``x``, ``y`` and camera depth ``z``, (N,) each, of the
    objects ``ids``; ``front`` where they lie ahead of the camera) a frame sees: inside its image,
    with its instance id at the nearest pixel and its depth within :data:`DEPTH_TOLERANCE`.
    Returns a new (N,) bool array; ``work`` holds the work arrays."""
    height, width = depth.shape
    work = work or FlowBuffers()
    shape = x.shape
    mask = work.array("mask", shape, bool)
    inside = np.greater_equal(x, -0.5, out=work.array("inside", shape, bool))
    inside &= front
    inside &= np.less(x, width - 0.5, out=mask)
    inside &= np.greater_equal(y, -0.5, out=mask)
    inside &= np.less(y, height - 0.5, out=mask)
    # Every point gets the nearest pixel of the image (a point inside: x in [-0.5, width -
    # 0.5) rounds, half to even, to 0 .. width - 1, and y likewise; one outside or NaN any
    # pixel, as only the points inside count).
    nearest = work.array("nearest", shape, np.intp)
    column = work.array("column", shape, np.intp)
    for coordinate, size, out in ((y, height, nearest), (x, width, column)):
        rounded = np.rint(coordinate, out=work.array("rounded", shape, coordinate.dtype))
        np.fmin(np.fmax(rounded, 0.0, out=rounded), size - 1, out=rounded)
        np.copyto(out, rounded, casting="unsafe")  # whole numbers: exact
    nearest *= width
    nearest += column
    tolerance = np.abs(z, out=work.array("tolerance", shape, z.dtype))
    tolerance *= DEPTH_TOLERANCE[1]
    tolerance += DEPTH_TOLERANCE[0]
    # |depth there - z| <= tolerance, in float64.
    there = work.array("there", shape, np.float64)
    np.copyto(there, np.take(depth.ravel(), nearest, mode="clip",
                             out=work.array("depth_there", shape, depth.dtype)))
    np.subtract(there, z, out=there)
    np.abs(there, out=there)
    seen = np.less_equal(there, tolerance)
    seen &= inside
    seen &= np.equal(np.take(instance_ids.ravel(), nearest, mode="clip",
                             out=work.array("id_there", shape, instance_ids.dtype)), ids,
                     out=mask)
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
    if camera.lens is None:
        pixels = np.stack([cols, rows, np.ones(len(rows))]).astype(np.float64)
        points = np.linalg.inv(np.asarray(camera.K, np.float64)) @ pixels * depth[rows, cols]
    else:
        points = camera_points(camera, cols, rows, depth[rows, cols])
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
        if frame_camera.lens is None:
            projected = np.asarray(frame_camera.K, np.float64) @ seen
            safe = np.where(z > 1e-9, z, 1.0)
            x, y = projected[0] / safe, projected[1] / safe
            front = z > 1e-9
        else:
            x, y, front = project_points(frame_camera, seen)
        target[:, t, 0], target[:, t, 1] = x, y
        occluded[:, t] = ~_seen(x, y, z, front, ids, frame_depth, frame_ids)
    return target, occluded, ids
