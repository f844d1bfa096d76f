"""Camera trajectories of a sequence (``sequence.trajectory``): one camera per frame time.

Poses are ``world_from_camera`` (4, 4) float64 in OpenCV's camera axes (x right, y down, z
forward), like every camera of synthscene; intrinsics stay those of the first camera drawn.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from synthscene.config.schema import CameraSpec, TrajectorySpec
from synthscene.core.state import Camera
from synthscene.randomize.camera import sample_camera

__all__ = ["CameraPath", "orbit_pivot", "sample_trajectory"]


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
    # scipy loads with the first sequence, not with `import synthscene` (about 0.4 s)
    from scipy.spatial.transform import Rotation, Slerp

    rotations = Rotation.from_matrix(np.stack([start[:3, :3], end[:3, :3]]))
    pose = np.eye(4)
    pose[:3, :3] = Slerp([0.0, 1.0], rotations)([fraction]).as_matrix()[0]
    pose[:3, 3] = (1.0 - fraction) * start[:3, 3] + fraction * end[:3, 3]
    return pose


@dataclasses.dataclass(frozen=True, eq=False)
class CameraPath:
    """A sequence's camera path: :meth:`at` gives the camera at any time of the sequence.

    Attributes
    ----------
    first : Camera
        The camera at time 0 (its intrinsics are every frame's).
    start, end : (4, 4) float64
        ``world_from_camera`` at the start and the end of the base path (equal for static and
        orbit).
    duration_s : float
        The time the base path takes from ``start`` to ``end`` (the sequence's last frame time).
    orbit_speed_rad_s : float
        Turn about the vertical through :func:`orbit_pivot` of ``start`` (0: no orbit).
    shake : (3,) tuple of float
        Hand-held translation amplitude (metres), rotation amplitude (radians), frequency (Hz);
        zeros for no shake.
    phases : (6,) tuple of float
        Phases of the shake's six sines, radians.
    """

    first: Camera
    start: np.ndarray
    end: np.ndarray
    duration_s: float
    orbit_speed_rad_s: float = 0.0
    shake: tuple[float, float, float] = (0.0, 0.0, 0.0)
    phases: tuple[float, ...] = (0.0,) * 6

    def at(self, time_s: float) -> Camera:
        """The camera at ``time_s`` seconds (clamped to the path's span for the base path)."""
        from scipy.spatial.transform import Rotation

        fraction = min(max(time_s / self.duration_s, 0.0), 1.0) if self.duration_s > 0 else 0.0
        pose = _interpolate(self.start, self.end, fraction)
        if self.orbit_speed_rad_s:
            pivot = orbit_pivot(self.start)
            turn = np.eye(4)
            turn[:3, :3] = Rotation.from_rotvec(
                [0.0, 0.0, self.orbit_speed_rad_s * time_s]).as_matrix()
            turn[:3, 3] = pivot - turn[:3, :3] @ pivot
            pose = turn @ pose
        amplitude_m, amplitude_rad, frequency = self.shake
        if amplitude_m or amplitude_rad:
            wave = np.sin(2.0 * math.pi * frequency * time_s + np.asarray(self.phases))
            offset = np.eye(4)  # in the camera's own frame
            offset[:3, :3] = Rotation.from_rotvec(amplitude_rad * wave[3:]).as_matrix()
            offset[:3, 3] = amplitude_m * wave[:3]
            pose = pose @ offset
        return _with_pose(self.first, pose)


def sample_trajectory(trajectory: TrajectorySpec, camera: CameraSpec, width: int, height: int,
                      duration_s: float, *, rng: np.random.Generator) -> CameraPath:
    """Draw a sequence's camera path.

    Draw order: the kind (no draw for a constant), the first camera (``camera`` sampler); for
    ``linear`` (and a ``linear``
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
    duration_s : float
        Seconds from the first to the last frame (a linear path's end), >= 0.
    rng : numpy.random.Generator

    Returns
    -------
    CameraPath
    """
    kind = str(trajectory.kind.sample(rng))
    first = sample_camera(camera, width, height, rng=rng)
    start = np.asarray(first.world_from_camera, dtype=np.float64)
    end = start
    base = trajectory.handheld_base if kind == "handheld" else kind
    if base == "linear":
        end = np.asarray(sample_camera(camera, width, height, rng=rng).world_from_camera,
                         dtype=np.float64)
    speed = float(trajectory.orbit_speed_rad_s.sample(rng)) if base == "orbit" else 0.0
    shake, phases = (0.0, 0.0, 0.0), (0.0,) * 6
    if kind == "handheld":
        shake = (float(trajectory.handheld_amplitude_m.sample(rng)),
                 float(trajectory.handheld_amplitude_rad.sample(rng)),
                 float(trajectory.handheld_frequency_hz.sample(rng)))
        phases = tuple(float(p) for p in rng.uniform(0.0, 2.0 * math.pi, size=6))
    return CameraPath(first=first, start=start, end=end, duration_s=float(duration_s),
                      orbit_speed_rad_s=speed, shake=shake, phases=phases)
