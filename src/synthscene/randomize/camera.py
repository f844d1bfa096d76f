"""Camera randomizers: pose samplers, roll, intrinsics jitter and the "k objects in view" rule.

Pure numpy: no GL, no pybullet. Conventions: OpenCV camera frame (x right, y down, z forward),
``K`` with pixel centres at integer coordinates, metres and radians.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from synthscene.config.schema import Box3, CameraSpec
from synthscene.config.sensors import DistortionSpec
from synthscene.core.lens import Lens
from synthscene.core.state import Camera, SceneState
from synthscene.errors import PluginError
from synthscene.randomize.geometry import intrinsics_from_fov, look_at_opencv, spherical_offset


def _uniform_in(box: Box3, rng: np.random.Generator) -> np.ndarray:
    lo = np.array([box.x_m[0], box.y_m[0], box.z_m[0]])
    hi = np.array([box.x_m[1], box.y_m[1], box.z_m[1]])
    return rng.uniform(lo, hi)


def roll_about_optical_axis(world_from_camera: np.ndarray, roll: float) -> np.ndarray:
    """Turn a camera by ``roll`` radians about its own z (optical) axis.

    Parameters
    ----------
    world_from_camera : (4, 4) float64
    roll : float
        Radians; positive turns the image content clockwise as seen on screen (the camera's x
        axis towards its y axis).

    Returns
    -------
    (4, 4) float64
    """
    c, s = np.cos(roll), np.sin(roll)
    rz = np.eye(4)
    rz[:2, :2] = [[c, -s], [s, c]]
    return np.asarray(world_from_camera, dtype=np.float64) @ rz


def top_down_pose(target: np.ndarray, height: float, yaw: float) -> np.ndarray:
    """A camera ``height`` metres above ``target`` looking straight down (-z world).

    With ``yaw`` = 0 the image x axis is world +x and image y is world -y.

    Returns
    -------
    world_from_camera : (4, 4) float64
    """
    pose = np.eye(4)
    pose[:3, :3] = np.diag([1.0, -1.0, -1.0])
    pose[:3, 3] = np.asarray(target, dtype=np.float64) + [0.0, 0.0, height]
    return roll_about_optical_axis(pose, yaw)


def sample_intrinsics(spec: CameraSpec, width: int, height: int, *,
                      rng: np.random.Generator) -> np.ndarray:
    """Draw ``K`` (3, 3) float64 in pixels: a vertical field of view, then the focal factor for
    fx and fy and the principal-point shift (pixels) for cx and cy, each drawn separately."""
    K = intrinsics_from_fov(float(spec.fov_rad.sample(rng)), width, height)
    K[0, 0] *= float(spec.focal_jitter.sample(rng))
    K[1, 1] *= float(spec.focal_jitter.sample(rng))
    K[0, 2] += float(spec.principal_point_jitter_px.sample(rng))
    K[1, 2] += float(spec.principal_point_jitter_px.sample(rng))
    return K


def shell(spec: CameraSpec, *, rng: np.random.Generator, frame: int) -> np.ndarray:
    """On a spherical shell around a random look-at point, looking at it.

    Draws the look-at point (uniform in ``look_at``), then elevation, azimuth and distance.
    """
    target = _uniform_in(spec.look_at, rng)
    eye = target + spherical_offset(spec.elevation_rad.sample(rng), spec.azimuth_rad.sample(rng),
                                    spec.distance_m.sample(rng))
    return look_at_opencv(eye, target)


def top_down(spec: CameraSpec, *, rng: np.random.Generator, frame: int) -> np.ndarray:
    """``height_m`` above a random look-at point, looking straight down, turned by
    ``azimuth_deg``."""
    target = _uniform_in(spec.look_at, rng)
    return top_down_pose(target, float(spec.height_m.sample(rng)),
                         float(spec.azimuth_rad.sample(rng)))


def fixed(spec: CameraSpec, *, rng: np.random.Generator, frame: int) -> np.ndarray:
    """One of ``poses``, uniformly."""
    chosen = spec.poses[int(rng.integers(0, len(spec.poses)))]
    return look_at_opencv(np.array(chosen.position_m), np.array(chosen.look_at_m))


def sample_camera(spec: CameraSpec, width: int, height: int, *,
                  rng: np.random.Generator, frame: int = 0) -> Camera:
    """Draw a camera with ``spec``'s pose sampler, roll and intrinsics.

    Parameters
    ----------
    spec : CameraSpec
    width, height : int
        Image size in pixels.
    rng : numpy.random.Generator
    frame : int
        The frame index, passed to the pose sampler (a plug-in's camera may follow a path).

    Returns
    -------
    Camera

    Raises
    ------
    PluginError
        If a plug-in sampler fails or returns something else than a finite (4, 4) rigid pose
        (a rotation and a translation: no scale, shear or mirror).
    """
    sampler = spec.sampler
    pose = sampler(spec, rng=rng, frame=int(frame))
    if not sampler.randomizer.builtin:
        pose = np.asarray(pose, dtype=np.float64) if isinstance(pose, (np.ndarray, list,
                                                                       tuple)) else None
        if pose is None or pose.shape != (4, 4) or not np.all(np.isfinite(pose)):
            raise PluginError(f"{sampler.randomizer.describe()} did not return a finite (4, 4) "
                              "world_from_camera matrix")
        problem = _rigid_problem(pose)
        if problem:
            raise PluginError(f"{sampler.randomizer.describe()} returned a world_from_camera "
                              f"that is not a rigid transform: {problem}")
    pose = roll_about_optical_axis(pose, float(spec.roll_rad.sample(rng)))
    K = sample_intrinsics(spec, width, height, rng=rng)
    return Camera(K=K, width=width, height=height, world_from_camera=pose,
                  znear=spec.znear_m, zfar=spec.zfar_m)


RIGID_TOLERANCE = 1e-6
"""Largest deviation of a rigid pose's rotation from orthonormal (``|R^T R - I|``), and of its
last row from ``[0, 0, 0, 1]``."""


def _rigid_problem(pose: np.ndarray) -> str | None:
    """What keeps a finite (4, 4) matrix from being a rigid transform, or None."""
    rotation = pose[:3, :3]
    if np.abs(pose[3] - (0.0, 0.0, 0.0, 1.0)).max() > RIGID_TOLERANCE:
        return f"its last row is {pose[3].tolist()}, not [0, 0, 0, 1]"
    if np.abs(rotation.T @ rotation - np.eye(3)).max() > RIGID_TOLERANCE:
        return "its rotation part is not orthonormal (a scale or a shear)"
    if np.linalg.det(rotation) < 0:
        return "its rotation part is a mirror (determinant -1)"
    return None


def sample_lens(spec: DistortionSpec, *, rng: np.random.Generator) -> Lens:
    """Draw a lens: its coefficients in OpenCV's order (``k1, k2, p1, p2, k3`` for
    ``brown_conrady``, ``k1 .. k4`` for ``kannala_brandt``), each drawn in that order.

    Parameters
    ----------
    spec : DistortionSpec
    rng : numpy.random.Generator
        The frame's lens stream (:func:`synthscene.seeding.sensor_rng`).

    Returns
    -------
    Lens
    """
    names = (("k1", "k2", "p1", "p2", "k3") if spec.model == "brown_conrady"
             else ("k1", "k2", "k3", "k4"))
    return Lens(spec.model, tuple(float(getattr(spec, name).sample(rng)) for name in names))


def objects_in_view(state: SceneState, camera: Camera) -> int:
    """Number of labelled objects whose centre projects inside the image, in front of the
    camera (beyond ``znear``). Occlusion is not considered.

    Returns
    -------
    int
    """
    centres = [obj.world_from_object[:3, 3] for obj in state.objects if obj.labelled]
    if not centres:
        return 0
    camera_from_world = np.linalg.inv(camera.world_from_camera)
    p = np.asarray(centres) @ camera_from_world[:3, :3].T + camera_from_world[:3, 3]
    in_front = p[:, 2] > camera.znear
    uv = (p[:, :2] / np.where(in_front, p[:, 2], 1.0)[:, None]) * np.diag(camera.K)[:2] \
        + camera.K[:2, 2]
    inside = (uv[:, 0] >= -0.5) & (uv[:, 0] < camera.width - 0.5) \
        & (uv[:, 1] >= -0.5) & (uv[:, 1] < camera.height - 0.5)
    return int(np.count_nonzero(in_front & inside))


def frame_the_objects(spec: CameraSpec, state: SceneState, *,
                      rng: np.random.Generator) -> SceneState:
    """Redraw the camera of a settled frame until ``spec.min_visible_objects`` labelled objects
    are in view (see :func:`objects_in_view`), at most ``spec.max_tries`` draws in all.

    The first draw is ``state.camera`` itself. If no draw meets the rule, the draw with the
    most objects in view is kept (the frame is still made; a scene with fewer objects than
    asked cannot do better).

    Returns
    -------
    SceneState
        With the chosen camera.
    """
    need = spec.min_visible_objects
    if need <= 0:
        return state
    best, best_count = state.camera, objects_in_view(state, state.camera)
    tries = 1
    views = spec.views_per_scene
    frame = state.view[0] * views + state.view[1] if state.view is not None else state.seed[1]
    while best_count < need and tries < spec.max_tries:
        camera = sample_camera(spec, state.camera.width, state.camera.height, rng=rng,
                               frame=frame)
        count = objects_in_view(state, camera)
        tries += 1
        if count > best_count:
            best, best_count = camera, count
    return state if best is state.camera else dataclasses.replace(state, camera=best)
