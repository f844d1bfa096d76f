"""Collision geometry of assets: convex hulls, their exact solids, and their mass properties.

Pure geometry (numpy, scipy, trimesh; no pybullet): what :mod:`synthscene.assets.loading` makes
of a mesh file's collision parts, and what :mod:`synthscene.physics.simulator` turns into
pybullet bodies.

- :class:`CollisionPrimitive`: an exact box, sphere, cylinder or capsule that collides in place
  of an asset's hulls.
- :func:`hull_points`: the (capped) vertices of the convex hull of a point set, which an
  :class:`~synthscene.assets.library.Asset` keeps as one collision part.
- :func:`merge_hulls`: fewer, larger convex parts (greedy, least added volume first).
- :func:`collision_hull` and :class:`CollisionHull`: one part's solid hull, its inward shrinking
  directions (for a collision margin) and its mass properties.
- :func:`mass_properties` and :class:`MassProperties`: volume, centre of mass and principal
  axes and moments of inertia of a union of parts.

Lengths are in the asset's normalised units (longest bounding-box edge 1) unless said otherwise;
inertia is for unit density.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import trimesh
from scipy.spatial import ConvexHull, QhullError

from synthscene.errors import AssetError

__all__ = [
    "MAX_HULL_POINTS",
    "MIN_HULL_EXTENT",
    "CollisionHull",
    "CollisionPrimitive",
    "MassProperties",
    "collision_hull",
    "hull_points",
    "hull_volume",
    "mass_properties",
    "merge_hulls",
    "principal_axes",
]

#: Most points kept per collision hull (physics stays fast with small hulls).
MAX_HULL_POINTS = 128
#: Thickness (normalised units) given to a flat or degenerate hull along its thin axes.
MIN_HULL_EXTENT = 1e-3


@dataclass(frozen=True, eq=False)
class CollisionPrimitive:
    """An exact convex solid that collides in place of an asset's hulls.

    pybullet collides its own box, sphere, cylinder and capsule shapes exactly, and faster than
    a hull of many points (a ball's hull has up to ``MAX_HULL_POINTS``); a ball or a cylinder on
    its side then rolls as a round body, not on facets.

    Attributes
    ----------
    kind : {"box", "sphere", "cylinder", "capsule"}
    object_from_primitive : (4, 4) float64
        Pose of the solid in the asset's frame; cylinders and capsules lie along its z axis.
    half_extents : (3,) tuple of float
        Half edge lengths of a box (zeros for the other kinds).
    radius : float
        Radius of a sphere, cylinder or capsule (0 for a box).
    length : float
        Height of a cylinder; for a capsule, the length of its cylindrical part, between the
        centres of its two hemispheres (URDF's and pybullet's convention); 0 otherwise.

    Lengths are in the asset's units: normalised units (longest bounding-box edge 1) once the
    asset is loaded, so metres after multiplying by ``SceneObject.scale``.
    """

    kind: Literal["box", "sphere", "cylinder", "capsule"]
    object_from_primitive: np.ndarray
    half_extents: tuple[float, float, float] = (0.0, 0.0, 0.0)
    radius: float = 0.0
    length: float = 0.0

    def normalised(self, centre: np.ndarray, longest: float) -> CollisionPrimitive:
        """The same solid in the frame where ``p`` becomes ``(p - centre) / longest``.

        Parameters
        ----------
        centre : (3,) float64
            Bounding-box centre of the asset's mesh, in the asset's units.
        longest : float
            Longest bounding-box edge, > 0.
        """
        pose = np.array(self.object_from_primitive, dtype=np.float64)
        pose[:3, 3] = (pose[:3, 3] - centre) / longest
        return CollisionPrimitive(
            kind=self.kind,
            object_from_primitive=pose,
            half_extents=tuple(float(h) / longest for h in self.half_extents),
            radius=self.radius / longest,
            length=self.length / longest,
        )


def hull_points(points: np.ndarray, max_points: int = MAX_HULL_POINTS) -> np.ndarray:
    """Vertices of the convex hull of ``points``, at most ``max_points`` of them.

    Parameters
    ----------
    points : (n, 3) float64

    Returns
    -------
    (m, 3) float64
        The hull's vertices; when there are more than ``max_points``, a deterministic
        farthest-point subset of them (which keeps the hull's extremes). Degenerate (flat or
        collinear) inputs return their unique points, also capped. The subset always keeps
        the points extreme along each axis, so its bounding box is the hull's.
    """
    points = points[np.all(np.isfinite(points), axis=1)]
    if len(points) == 0:
        return np.zeros((0, 3))
    points = np.unique(points, axis=0)
    if len(points) >= 4:
        try:
            points = points[np.sort(ConvexHull(points).vertices)]
        except (QhullError, ValueError):
            pass  # flat or collinear: keep the unique points
    if len(points) <= max_points:
        return points
    # Farthest-point sampling seeded with the points extreme along each axis, so the subset
    # keeps the hull's bounding box exactly.
    chosen = sorted({int(i) for i in (*points.argmin(axis=0), *points.argmax(axis=0))})
    distance = np.min(np.linalg.norm(points[:, None, :] - points[chosen][None], axis=2), axis=1)
    while len(chosen) < max_points:
        index = int(np.argmax(distance))
        chosen.append(index)
        distance = np.minimum(distance, np.linalg.norm(points - points[index], axis=1))
    return points[np.sort(chosen)]


def hull_volume(points: np.ndarray) -> float:
    """Volume of the convex hull of ``points``.

    Parameters
    ----------
    points : (n, 3) float64

    Returns
    -------
    float
        The hull's volume in the points' units cubed; 0 for flat, collinear or fewer than 4
        points.
    """
    try:
        return float(ConvexHull(points).volume)
    except (QhullError, ValueError):  # flat or too few points
        return 0.0


def merge_hulls(hulls: Sequence[np.ndarray], max_hulls: int) -> list[np.ndarray]:
    """Merge convex pieces until at most ``max_hulls`` remain.

    Greedy: each step merges the pair whose joint convex hull adds the least volume to the two
    hulls' volumes (so adjacent pieces of one limb merge before pieces across a gap). The
    result covers everything the input covered; it fills the concavities between merged pieces.

    Parameters
    ----------
    hulls : sequence of (n_i, 3) float64
        Convex pieces' points, in the asset's normalised frame.
    max_hulls : int
        >= 1.

    Returns
    -------
    list of (m_j, 3) float64
        The pieces' points (merged pieces hold the vertices of their joint hull); the input
        itself when it has at most ``max_hulls`` pieces.
    """
    pieces = [np.asarray(h, dtype=np.float64).reshape(-1, 3) for h in hulls]
    if len(pieces) <= max_hulls:
        return pieces
    volumes = [hull_volume(p) for p in pieces]
    # (i, j) -> (joint hull volume, joint hull vertices)
    joint: dict[tuple[int, int], tuple[float, np.ndarray]] = {}

    def pair(i: int, j: int) -> tuple[float, np.ndarray]:
        key = (i, j) if i < j else (j, i)
        if key not in joint:
            points = np.vstack([pieces[i], pieces[j]])
            try:
                hull = ConvexHull(points)
                points, volume = points[hull.vertices], float(hull.volume)
            except (QhullError, ValueError):
                volume = 0.0
            joint[key] = (volume, points)
        return joint[key]

    def added_volume(i: int, j: int) -> float:
        return pair(i, j)[0] - volumes[i] - volumes[j]

    alive = list(range(len(pieces)))
    while len(alive) > max_hulls:
        _, i, j = min(((added_volume(i, j), i, j)
                       for n, i in enumerate(alive) for j in alive[n + 1:]),
                      key=lambda item: item[0])
        volume, points = pair(i, j)
        pieces.append(points)
        volumes.append(volume)
        alive = [k for k in alive if k not in (i, j)] + [len(pieces) - 1]
    return [pieces[k] for k in alive]


@dataclass(frozen=True, eq=False)
class CollisionHull:
    """One convex collision part, solid, with its shrinking directions and mass properties.

    Attributes
    ----------
    vertices : (n, 3) float64
        The hull's extreme points, in the asset's normalised frame.
    inward : (n, 3) float64
        Per vertex, the displacement that moves every face through it inward by a unit
        distance: ``vertices + d * inward`` is the hull shrunk by ``d`` (exact where three faces
        meet, close elsewhere).
    max_shrink : (n,) float64
        Largest shrink ``d`` applied at each vertex (a share of its distance to the centroid and
        of the hull's smallest width, so thin hulls keep their shape).
    volume : float
        Volume in normalised units^3.
    center : (3,) float64
        Centre of mass.
    inertia : (3, 3) float64
        Inertia tensor about ``center`` for unit density, in the normalised frame.
    """

    vertices: np.ndarray
    inward: np.ndarray
    max_shrink: np.ndarray
    volume: float
    center: np.ndarray
    inertia: np.ndarray

    def shrunk(self, shrink: float) -> np.ndarray:
        """The hull's vertices moved inward by ``shrink`` (normalised units), bounded per vertex
        by ``max_shrink``.

        Returns
        -------
        (n, 3) float64
        """
        return self.vertices + np.minimum(shrink, self.max_shrink)[:, None] * self.inward


@dataclass(frozen=True, eq=False)
class MassProperties:
    """Mass properties of a union of convex parts, for unit density.

    Attributes
    ----------
    volume : float
        Total volume, normalised units^3 (the parts are assumed not to overlap).
    center : (3,) float64
        Centre of mass, in the asset's normalised frame.
    axes : (3, 3) float64
        ``object_from_principal``: a proper rotation whose columns are the principal axes of
        inertia.
    moments : (3,) float64
        Principal moments of inertia about ``center``, >= 0, in the order of ``axes``' columns.
    """

    volume: float
    center: np.ndarray
    axes: np.ndarray
    moments: np.ndarray


def collision_hull(points: np.ndarray) -> CollisionHull:
    """Convex hull, shrinking directions and mass properties of a point set.

    A flat or degenerate point set (coplanar, collinear, a single point) becomes the bounding box
    of its principal axes, given a thickness of ``MIN_HULL_EXTENT`` along its thin axes.

    Parameters
    ----------
    points : (n, 3) float64
        Points in the asset's normalised frame.

    Returns
    -------
    CollisionHull

    Raises
    ------
    AssetError
        If the point set is empty or not finite.
    """
    points = np.asarray(points, dtype=np.float64).reshape(-1, 3)
    if len(points) == 0 or not np.all(np.isfinite(points)):
        raise AssetError("a collision hull is empty or holds non-finite points")
    size = float(np.max(points.max(axis=0) - points.min(axis=0)))
    mesh = None
    if len(points) >= 4:
        try:
            with np.errstate(all="ignore"):
                mesh = trimesh.convex.convex_hull(points)
                volume = float(mesh.volume)
        except Exception:  # qhull fails on coplanar or collinear points
            mesh = None
    if mesh is None or not volume > MIN_HULL_EXTENT * max(size, 1e-9) ** 2:
        mesh = _box_mesh(points)  # flat or degenerate: give it some thickness
    vertices = np.asarray(mesh.vertices, dtype=np.float64)
    normals = np.asarray(mesh.face_normals, dtype=np.float64)
    inward = np.zeros_like(vertices)
    for v, incident in enumerate(mesh.vertex_faces):
        n = normals[incident[incident >= 0]]
        if len(n):
            # Least-squares d with n_f . d = -1 for every face f through the vertex.
            inward[v] = -np.linalg.pinv(n) @ np.ones(len(n))
    heights = vertices @ normals.T
    width = float(np.min(heights.max(axis=0) - heights.min(axis=0)))
    reach = np.linalg.norm(vertices - vertices.mean(axis=0), axis=1)
    length = np.maximum(np.linalg.norm(inward, axis=1), 1e-12)
    max_shrink = np.minimum(0.2 * width, 0.4 * reach / length)
    tensor = np.asarray(mesh.moment_inertia, dtype=np.float64) / float(mesh.density)
    return CollisionHull(
        vertices=vertices,
        inward=inward,
        max_shrink=max_shrink,
        volume=float(mesh.volume),
        center=np.asarray(mesh.center_mass, dtype=np.float64),
        inertia=tensor,
    )


def mass_properties(hulls: Sequence[CollisionHull]) -> MassProperties:
    """Mass properties of a union of hulls (the parallel axis theorem for the inertia).

    Parameters
    ----------
    hulls : sequence of CollisionHull
        At least one, with positive total volume.

    Returns
    -------
    MassProperties
    """
    volumes = np.array([h.volume for h in hulls])
    volume = float(volumes.sum())
    center = sum(v * h.center for v, h in zip(volumes, hulls)) / volume
    tensor = np.zeros((3, 3))
    for v, h in zip(volumes, hulls):
        d = h.center - center
        tensor += h.inertia + v * (float(d @ d) * np.eye(3) - np.outer(d, d))
    moments, axes = principal_axes(tensor)
    return MassProperties(volume=volume, center=center, axes=axes, moments=moments)


def principal_axes(tensor: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Principal moments and axes of an inertia tensor.

    Parameters
    ----------
    tensor : (3, 3) float64
        Inertia tensor (symmetrised before use).

    Returns
    -------
    moments : (3,) float64
        Principal moments, ascending, clipped at 0.
    axes : (3, 3) float64
        A proper rotation (determinant +1) whose columns are the principal axes.
    """
    moments, axes = np.linalg.eigh((tensor + tensor.T) / 2)
    if np.linalg.det(axes) < 0:
        axes[:, 2] = -axes[:, 2]
    return np.maximum(moments, 0.0), axes


def _box_mesh(points: np.ndarray) -> trimesh.Trimesh:
    """The principal-axes bounding box of a flat or degenerate point set, made solid."""
    center = points.mean(axis=0)
    axes = np.linalg.svd(points - center)[2].T if len(points) >= 2 else np.eye(3)
    local = (points - center) @ axes
    lo, hi = local.min(axis=0), local.max(axis=0)
    extent = np.maximum(hi - lo, MIN_HULL_EXTENT)
    middle = (lo + hi) / 2
    signs = np.array([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)], float)
    return trimesh.convex.convex_hull(center + (middle + signs * extent / 2) @ axes.T)
