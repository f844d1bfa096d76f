"""Rigid bodies in pybullet's terms, computed from an asset's collision geometry (no pybullet).

:func:`body_model` gives an asset's collision hulls and mass properties
(:mod:`synthscene.assets.collision`) the inertial frame pybullet takes, as a quaternion;
:func:`write_hulls_obj` writes hulls as the mesh file pybullet builds a compound from. The
quaternion conversions here are the pybullet boundary: quaternions are ``(x, y, z, w)``
(pybullet's order) and appear nowhere else; everything else is a (3, 3) rotation or a (4, 4)
``a_from_b`` pose, float64.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from synthscene.assets.collision import CollisionHull, CollisionPrimitive, mass_properties

__all__ = [
    "BodyModel",
    "body_model",
    "matrix_from_quat_xyzw",
    "pose_from_quat_xyzw",
    "quat_xyzw_from_matrix",
    "write_hulls_obj",
]


@dataclass(frozen=True, eq=False)
class BodyModel:
    """Collision and mass properties of one asset in its normalised frame (unit density).

    Attributes
    ----------
    key : str
        The asset key.
    index : int
        Small integer naming the asset's files.
    hulls : tuple of CollisionHull
    volume : float
        Total volume of the hulls.
    center : (3,) float64
        Centre of mass of the hulls.
    quat_xyzw : (4,) float64
        Rotation ``object_from_principal`` of the principal axes of inertia.
    inertia : (3,) float64
        Principal moments of inertia about ``center`` for unit density.
    primitive : CollisionPrimitive or None
        The exact solid that collides in place of the hulls, if the asset has one.
    """

    key: str
    index: int
    hulls: tuple[CollisionHull, ...]
    volume: float
    center: np.ndarray
    quat_xyzw: np.ndarray
    inertia: np.ndarray
    primitive: CollisionPrimitive | None = None


def quat_xyzw_from_matrix(rotation: np.ndarray) -> np.ndarray:
    """Unit quaternion ``(x, y, z, w)`` (4,) of a (3, 3) rotation matrix (Shepperd's method)."""
    m = rotation
    trace = m[0, 0] + m[1, 1] + m[2, 2]
    if trace > 0.0:
        r = np.sqrt(1.0 + trace) * 2.0
        q = [(m[2, 1] - m[1, 2]) / r, (m[0, 2] - m[2, 0]) / r, (m[1, 0] - m[0, 1]) / r, r / 4]
    elif m[0, 0] > m[1, 1] and m[0, 0] > m[2, 2]:
        r = np.sqrt(1.0 + m[0, 0] - m[1, 1] - m[2, 2]) * 2.0
        q = [r / 4, (m[0, 1] + m[1, 0]) / r, (m[0, 2] + m[2, 0]) / r, (m[2, 1] - m[1, 2]) / r]
    elif m[1, 1] > m[2, 2]:
        r = np.sqrt(1.0 + m[1, 1] - m[0, 0] - m[2, 2]) * 2.0
        q = [(m[0, 1] + m[1, 0]) / r, r / 4, (m[1, 2] + m[2, 1]) / r, (m[0, 2] - m[2, 0]) / r]
    else:
        r = np.sqrt(1.0 + m[2, 2] - m[0, 0] - m[1, 1]) * 2.0
        q = [(m[0, 2] + m[2, 0]) / r, (m[1, 2] + m[2, 1]) / r, r / 4, (m[1, 0] - m[0, 1]) / r]
    quat = np.array(q, dtype=np.float64)
    return quat / np.linalg.norm(quat)


def matrix_from_quat_xyzw(quat_xyzw: Sequence[float]) -> np.ndarray:
    """(3, 3) float64 rotation matrix of a quaternion ``(x, y, z, w)``, normalised first."""
    q = np.asarray(quat_xyzw, dtype=np.float64)
    x, y, z, w = q / np.linalg.norm(q)
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ]
    )


def pose_from_quat_xyzw(position: Sequence[float], quat_xyzw: Sequence[float]) -> np.ndarray:
    """(4, 4) float64 pose from a position (3,) and a quaternion ``(x, y, z, w)`` (pybullet's
    ``getBasePositionAndOrientation``)."""
    pose = np.eye(4)
    pose[:3, :3] = matrix_from_quat_xyzw(quat_xyzw)
    pose[:3, 3] = position
    return pose


def body_model(key: str, index: int, hulls: tuple[CollisionHull, ...],
          primitive: CollisionPrimitive | None = None) -> BodyModel:
    """The collision and mass properties of an asset, its inertial frame as a quaternion.

    Parameters
    ----------
    key : str
        The asset key.
    index : int
        Small integer naming the asset's files.
    hulls : tuple of CollisionHull
        At least one, with positive total volume, in the asset's normalised frame.
    primitive : CollisionPrimitive or None
        The asset's exact solid, if it has one.

    Returns
    -------
    BodyModel
    """
    mass = mass_properties(hulls)
    return BodyModel(key, index, hulls, mass.volume, mass.center, quat_xyzw_from_matrix(mass.axes),
                 mass.moments, primitive)


def write_hulls_obj(path: Path, hulls: Sequence[np.ndarray]) -> None:
    """Write convex point sets ``[(n, 3) float64, ...]`` as one Wavefront OBJ file with one
    object per set, which pybullet turns into a convex hull (one set) or a compound of hulls.

    pybullet builds each hull from the corners of the object's triangles, so each point is
    listed once, in triangles that chain the points (the last one repeated to fill the last
    triangle): a closed mesh would list each point about six times, and pybullet would parse
    and sort six times as many points for the same hull. Written under a temporary name and
    renamed, so pybullet never reads a partial file.
    """
    lines: list[str] = []
    offset = 1
    for i, points in enumerate(hulls):
        lines.append(f"o hull{i}\n")
        # One %-format over every coordinate (the text of f"{x:.9g}", in a third less time).
        lines.append("v %.9g %.9g %.9g\n" * len(points) % tuple(np.ravel(points).tolist()))
        corners = list(range(offset, offset + len(points)))
        corners += corners[-1:] * (-len(corners) % 3)
        lines.append("f %d %d %d\n" * (len(corners) // 3) % tuple(corners))
        offset += len(points)
    partial = path.with_suffix(".part")
    partial.write_text("".join(lines), encoding="ascii")
    partial.replace(path)
