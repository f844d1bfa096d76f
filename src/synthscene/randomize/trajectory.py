"""Camera trajectories of a sequence (``sequence.trajectory``): one camera per frame time.

Poses are ``world_from_camera`` (4, 4) float64 in OpenCV's camera axes (x right, y down, z
forward), like every camera of synthscene; intrinsics stay those of the first camera drawn.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import numpy as np
from scipy.spatial.transform import Rotation, Slerp

from synthscene.config import CameraSpec, TrajectorySpec
from synthscene.randomize.camera import sample_camera
from synthscene.state import Camera

__all__ = ["orbit_pivot", "sample_trajectory"]


def orbit_pivot(world_from_camera: np.ndarray) -> np.ndarray:
    """Where the camera's optical axis meets the ground plane z = 0 (metres, (3,) float64);
    the point of the axis closest to the world origin if the axis does not meet it ahead."""
    position = world_from_camera[:3, 3]
    axis = world_from_camera[:3, 2]
    if axis[2] < -1e-6:
        return position + axis * (-position[2] / axis[2])
    return position + axis * max(0.0, float(-position @ axis))


def _with_pose(camera: Camera, pose: np.ndarray) -> Camera:
    return dataclasses.replace(camera, world_from_camera=pose)


def _interpolate(start: np.ndarray, end: np.ndarray, fraction: float) -> np.ndarray:
    """Position linearly, orientation by spherical linear interpolation."""
    rotations = Rotation.from_matrix(np.stack([start[:3, :3], end[:3, :3]]))
    pose = np.eye(4)
    pose[:3, :3] = Slerp([0.0, 1.0], rotations)([fraction]).as_matrix()[0]
    pose[:3, 3] = (1.0 - fraction) * start[:3, 3] + fraction * end[:3, 3]
    return pose


def sample_trajectory(trajectory: TrajectorySpec, camera: CameraSpec, width: int, height: int,
                      times_s: Sequence[float], *, rng: np.random.Generator) -> list[Camera]:
    """Draw a camera path and return the camera at each time.

    Draw order: the first camera (``camera`` sampler); for ``linear`` (and a ``linear``
    handheld base) the end camera; for ``orbit`` the angular speed; for ``handheld`` the
    translation amplitude, rotation amplitude and frequency, then six phases (x, y, z
    translation, then rotation about the camera's x, y, z axes), uniform in [0, 2 pi).

    Parameters
    ----------
    trajectory : TrajectorySpec
    camera : CameraSpec
        The camera sampler and intrinsics.
    width, height : int
        Image size in pixels.
    times_s : sequence of float
        Frame times in seconds from the sequence's start; the path runs from the first to the
        last.
    rng : numpy.random.Generator

    Returns
    -------
    list of Camera
        One per time.
    """
    times = np.asarray(times_s, dtype=np.float64)
    span = float(times[-1] - times[0]) if len(times) > 1 else 1.0
    fractions = (times - times[0]) / span if span > 0 else np.zeros_like(times)
    first = sample_camera(camera, width, height, rng=rng)
    start = np.asarray(first.world_from_camera, dtype=np.float64)
    base = trajectory.handheld_base if trajectory.kind == "handheld" else trajectory.kind
    if base == "linear":
        end = np.asarray(sample_camera(camera, width, height, rng=rng).world_from_camera)
        poses = [_interpolate(start, end, float(f)) for f in fractions]
    elif base == "orbit":
        speed = float(trajectory.orbit_speed_deg_s.sample(rng))
        pivot = orbit_pivot(start)
        poses = []
        for t in times - times[0]:
            turn = np.eye(4)
            turn[:3, :3] = Rotation.from_rotvec([0.0, 0.0, speed * float(t)]).as_matrix()
            turn[:3, 3] = pivot - turn[:3, :3] @ pivot
            poses.append(turn @ start)
    else:
        poses = [start.copy() for _ in times]
    if trajectory.kind == "handheld":
        amplitude_m = float(trajectory.handheld_amplitude_m.sample(rng))
        amplitude_rad = float(trajectory.handheld_amplitude_deg.sample(rng))
        frequency = float(trajectory.handheld_frequency_hz.sample(rng))
        phases = rng.uniform(0.0, 2.0 * math.pi, size=6)
        shaken = []
        for pose, t in zip(poses, times - times[0]):
            wave = np.sin(2.0 * math.pi * frequency * float(t) + phases)
            offset = np.eye(4)  # in the camera's own frame
            offset[:3, :3] = Rotation.from_rotvec(amplitude_rad * wave[3:]).as_matrix()
            offset[:3, 3] = amplitude_m * wave[:3]
            shaken.append(pose @ offset)
        poses = shaken
    return [_with_pose(first, pose) for pose in poses]
