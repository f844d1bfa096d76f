"""Small pose helpers used by the randomizers (pure numpy)."""

from __future__ import annotations

import numpy as np

WORLD_UP = np.array([0.0, 0.0, 1.0])


def look_at_opencv(eye: np.ndarray, target: np.ndarray, up: np.ndarray = WORLD_UP) -> np.ndarray:
    """Pose of an OpenCV-convention camera at ``eye`` looking at ``target``.

    Parameters
    ----------
    eye, target : (3,) float64
        Camera centre and the point it looks at, metres, world frame.
    up : (3,) float64
        World direction that appears up in the image (image rows run against it).

    Returns
    -------
    world_from_camera : (4, 4) float64
        Columns: x right, y down, z forward (towards ``target``), then the position.

    Raises
    ------
    ValueError
        If ``eye`` equals ``target``.

    Notes
    -----
    When the view direction is parallel to ``up`` (a top-down view), world +y is used as the
    up direction instead, so image rows run along -y.
    """
    eye = np.asarray(eye, dtype=np.float64)
    z = np.asarray(target, dtype=np.float64) - eye
    n = np.linalg.norm(z)
    if n == 0:
        raise ValueError("camera position equals its look-at target")
    z /= n
    x = np.cross(z, up)
    if np.linalg.norm(x) < 1e-9:
        x = np.cross(z, np.array([0.0, 1.0, 0.0]))
    x /= np.linalg.norm(x)
    y = np.cross(z, x)
    pose = np.eye(4)
    pose[:3, 0], pose[:3, 1], pose[:3, 2], pose[:3, 3] = x, y, z, eye
    return pose


def aim_negative_z(position: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Pose at ``position`` whose local -z axis points at ``target`` (pyrender's light frame).

    Returns
    -------
    (4, 4) float64
    """
    cam = look_at_opencv(position, target)  # z forward
    pose = cam.copy()
    pose[:3, 1] *= -1.0  # y up
    pose[:3, 2] *= -1.0  # -z forward
    return pose


def spherical_offset(elevation: float, azimuth: float, distance: float) -> np.ndarray:
    """Offset from a centre to a point at ``elevation`` above the xy plane, radians and metres.

    Returns
    -------
    (3,) float64
        ``distance * (cos(el) cos(az), cos(el) sin(az), sin(el))``.
    """
    ce = np.cos(elevation)
    return distance * np.array([ce * np.cos(azimuth), ce * np.sin(azimuth), np.sin(elevation)])


def random_rotation(*, rng: np.random.Generator) -> np.ndarray:
    """A rotation drawn uniformly from SO(3) (Haar measure).

    A 4-vector of independent standard normals, normalised, is uniform on the unit 3-sphere, and
    unit quaternions uniform on S^3 give rotations uniform on SO(3) (Shoemake, "Uniform random
    rotations", Graphics Gems III, 1992).

    Returns
    -------
    (3, 3) float64
    """
    q = rng.normal(size=4)
    q /= np.linalg.norm(q)
    w, x, y, z = q
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
        [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
        [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
    ])


def intrinsics_from_fov(vertical_fov: float, width: int, height: int) -> np.ndarray:
    """Pinhole intrinsics with square pixels and the principal point at the image centre.

    Parameters
    ----------
    vertical_fov : float
        Full vertical field of view, radians, in (0, pi).
    width, height : int
        Pixels.

    Returns
    -------
    K : (3, 3) float64
        OpenCV convention: ``fy = (height / 2) / tan(fov / 2)``, ``fx = fy``,
        ``cx = (width - 1) / 2``, ``cy = (height - 1) / 2`` (pixel centres at integers).
    """
    f = (height / 2.0) / np.tan(vertical_fov / 2.0)
    return np.array([[f, 0.0, (width - 1) / 2.0], [0.0, f, (height - 1) / 2.0], [0.0, 0.0, 1.0]])
