"""Stable poses of assets: how a rigid object rests on a horizontal plane (no pybullet).

A rigid object resting on a horizontal plane lies in one of its *stable poses*: a face of its
convex hull whose centre of mass projects inside it. :func:`stable_poses` computes them once per
asset with ``trimesh.poses.compute_stable_poses`` (on the convex hull of the asset's collision
parts, with their centre of mass) and keeps them for the process; :data:`POSE_STORE` keeps them
on disk too, in the asset cache the asset was loaded through (:class:`AssetCachePoseStore`).
:func:`resting_poses` corrects them to the shape the simulation collides (hulls shrunk by the
collision margin, :mod:`synthscene.assets.margins`), per scale bucket, kept the same two ways.

trimesh, scipy and :mod:`synthscene.assets.collision` (which imports both) are imported where
they are used: importing synthscene registers the ``stable`` placement and loads no mesh
library.

Units: an asset's poses are in its normalised units (longest bounding-box edge 1).
"""

from __future__ import annotations

import functools
import math
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from synthscene.assets.margins import COLLISION_MARGIN_M, margin_shrink

if TYPE_CHECKING:
    from synthscene.assets.library import Asset

__all__ = ["MAX_LEAN_RAD", "POSE_STORE", "AssetCachePoseStore", "PoseStore", "StablePoses",
           "edge_normals", "hull_2d", "inner_radius", "resting_poses", "solid_extent",
           "stable_poses"]

_CONTACT_TOL = 1e-5
"""Points within this (normalised units) of an object's lowest point touch the surface."""


# --------------------------------------------------------------------------------------------
# Stable poses of an asset
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class StablePoses:
    """The poses an asset rests in on a horizontal plane, in its normalised frame.

    Attributes
    ----------
    rotations : (n, 3, 3) float64
        ``rested_from_object``: the object turned so that it rests on the plane z = const.
    probabilities : (n,) float64
        Chance of each pose for an object dropped in a random orientation (trimesh's estimate),
        summing to 1.
    lowest, highest : (n,) float64
        Lowest and highest z of the turned object (normalised units; its exact solid's, when it
        has one).
    footprints : tuple of (k, 2) float64
        The turned object's outline seen from above: the 2D convex hull of its collision points,
        counter-clockwise.
    any_rotation : bool
        True for an exact sphere, which rests in every orientation.
    margin_m : float
        Metres the collided shape reaches below ``lowest * scale`` (the collision margin of a
        hull-colliding asset's :func:`resting_poses`; 0 otherwise).
    """

    rotations: np.ndarray
    probabilities: np.ndarray
    lowest: np.ndarray
    highest: np.ndarray
    footprints: tuple[np.ndarray, ...]
    any_rotation: bool = False
    margin_m: float = 0.0

    @functools.cached_property
    def normals(self) -> tuple[np.ndarray, ...]:
        """Per pose, (e, 2) float64: the unit outward edge normals of its footprint."""
        return tuple(edge_normals(polygon) for polygon in self.footprints)

    @functools.cached_property
    def cumulative(self) -> list[float]:
        """The running sum of ``probabilities``, n floats."""
        return np.cumsum(self.probabilities).tolist()

    @functools.cached_property
    def reaches(self) -> np.ndarray:
        """(n,) float64: per pose, the footprint's farthest point from the object's origin."""
        return np.array([float(np.sqrt((f**2).sum(axis=1).max())) for f in self.footprints])

    @functools.cached_property
    def inners(self) -> np.ndarray:
        """(n,) float64: per pose, the radius of the largest disc about the object's origin
        inside its footprint (:func:`inner_radius`)."""
        return np.array([inner_radius(f, np.zeros(2)) for f in self.footprints])


class PoseStore(Protocol):
    """Where computed stable poses are kept between processes (an on-disk asset cache), by
    kind: ``("stable", min_tip_rad)`` for :func:`stable_poses`, ``("resting", bucket,
    min_tip_rad)`` for :func:`resting_poses`."""

    def load(self, asset: Asset, kind: tuple) -> StablePoses | None:
        """The poses of ``kind`` stored for ``asset``, or None."""

    def save(self, asset: Asset, kind: tuple, poses: StablePoses) -> None:
        """Keep ``poses`` of ``kind`` for ``asset``."""


class AssetCachePoseStore:
    """Stable poses kept in the on-disk asset cache (:mod:`synthscene.assets.cache`) that an
    asset was loaded through (its ``cache`` and ``cache_key``), one entry per kind
    (:func:`~synthscene.assets.cache.pose_kind`, :func:`~synthscene.assets.cache.resting_kind`);
    nothing for an asset loaded without a cache."""

    @staticmethod
    def _entry_kind(kind: tuple) -> str:
        from synthscene.assets.cache import pose_kind, resting_kind

        return pose_kind(*kind[1:]) if kind[0] == "stable" else resting_kind(*kind[1:])

    def load(self, asset: Asset, kind: tuple) -> StablePoses | None:
        """The poses of ``kind`` stored for ``asset``, or None (also for an entry that does not
        read back)."""
        cache, key = getattr(asset, "cache", None), getattr(asset, "cache_key", None)
        if cache is None or key is None:
            return None
        found = cache.read(key, self._entry_kind(kind))
        if found is None:
            return None
        meta, arrays = found
        try:
            return StablePoses(
                rotations=arrays["rotations"], probabilities=arrays["probabilities"],
                lowest=arrays["lowest"], highest=arrays["highest"],
                footprints=tuple(arrays[f"footprint_{i}"] for i in range(int(meta["poses"]))),
                any_rotation=bool(meta["any_rotation"]), margin_m=float(meta["margin_m"]))
        except (KeyError, ValueError, TypeError):
            return None

    def save(self, asset: Asset, kind: tuple, poses: StablePoses) -> None:
        """Keep ``poses`` of ``kind`` for ``asset`` in its cache (nothing without one)."""
        cache, key = getattr(asset, "cache", None), getattr(asset, "cache_key", None)
        if cache is None or key is None:
            return
        arrays = {"rotations": poses.rotations, "probabilities": poses.probabilities,
                  "lowest": poses.lowest, "highest": poses.highest}
        arrays.update({f"footprint_{i}": f for i, f in enumerate(poses.footprints)})
        cache.write(key, self._entry_kind(kind),
                    {"poses": len(poses.footprints), "any_rotation": bool(poses.any_rotation),
                     "margin_m": float(poses.margin_m)}, arrays)


POSE_STORE: PoseStore | None = AssetCachePoseStore()
"""Where :func:`stable_poses` and :func:`resting_poses` look before computing an asset's poses,
and give what they computed: the asset cache the asset was loaded through. None: poses are kept
per process only."""

_CACHE: weakref.WeakKeyDictionary[Any, dict[float, StablePoses]] = weakref.WeakKeyDictionary()


def stable_poses(asset: Asset, *, min_tip_rad: float = 0.0) -> StablePoses:
    """The stable poses of ``asset``, computed once per process (then :data:`POSE_STORE`).

    Parameters
    ----------
    asset : Asset
        A loaded asset: its ``collision_hulls`` give the convex hull and the centre of mass; its
        ``collision_primitive``, if any, the exact lowest point (and a sphere rests in any
        orientation, a capsule only on its side).
    min_tip_rad : float
        Poses that tip over when tilted by less than this (radians: the angle between the
        vertical and the line from the centre of mass to the nearest edge of the contact
        polygon) are left out, unless none is left; not applied to round solids.

    Returns
    -------
    StablePoses
    """
    per_asset = _CACHE.setdefault(asset, {})
    poses = per_asset.get(min_tip_rad)
    if poses is None and POSE_STORE is not None:
        poses = POSE_STORE.load(asset, ("stable", min_tip_rad))
    if poses is None:
        poses = _compute(asset, min_tip_rad)
        if POSE_STORE is not None:
            POSE_STORE.save(asset, ("stable", min_tip_rad), poses)
    per_asset[min_tip_rad] = poses
    return poses


@dataclass(eq=False)
class _Collider:
    """An asset as the simulation collides it: its hulls merged as for a simulated object, their
    centre of mass and the vertices of their union's convex hull."""

    hulls: list
    com: np.ndarray
    points: np.ndarray


_COLLIDERS: weakref.WeakKeyDictionary[Any, _Collider] = weakref.WeakKeyDictionary()
_RESTING: weakref.WeakKeyDictionary[Any, dict[tuple[int, float], StablePoses]] = \
    weakref.WeakKeyDictionary()
"""Per asset, :func:`resting_poses` per ``(scale bucket, min_tip_rad)``, for the process."""


def _collider(asset: Asset) -> _Collider:
    import trimesh

    from synthscene.assets.cache_records import collision_parts
    from synthscene.assets.collision import mass_properties
    from synthscene.assets.margins import DEFAULT_MAX_HULLS

    collider = _COLLIDERS.get(asset)
    if collider is None:
        hulls = list(collision_parts(asset, DEFAULT_MAX_HULLS))
        points = np.vstack([np.asarray(h, dtype=np.float64) for h in asset.collision_hulls])
        collider = _Collider(hulls, mass_properties(hulls).center,
                             np.asarray(trimesh.convex.convex_hull(points).vertices))
        _COLLIDERS[asset] = collider
    return collider


def resting_poses(asset: Asset, scale: float, *, min_tip_rad: float) -> StablePoses:
    """The stable poses of ``asset`` at ``scale`` as the simulation will hold them.

    An asset with an exact solid collides as that solid: its :func:`stable_poses`. An asset
    that collides as hulls collides as each hull shrunk by the collision margin (per scale
    bucket, closely but not exactly) and inflated by it again, so the face it rests on may lean
    by a degree or two from its convex hull's: each pose is turned onto the face of the shrunk
    hulls' convex hull that a ray from the centre of mass along the pose's downward direction
    leaves through; poses turned by more than ``MAX_LEAN_RAD`` or then tipping over when tilted
    by less than ``min_tip_rad`` are not used (unless none is left). Computed once per asset,
    scale bucket and ``min_tip_rad`` (then kept for the process and in :data:`POSE_STORE`).

    Parameters
    ----------
    asset : Asset
    scale : float
        Metres per normalised unit.
    min_tip_rad : float
        As :func:`stable_poses`.

    Returns
    -------
    StablePoses
        For a hull-colliding asset, ``lowest`` is the shrunk hulls' (add the margin:
        ``margin_m`` is set).
    """
    if asset.collision_primitive is not None:
        return stable_poses(asset, min_tip_rad=min_tip_rad)
    bucket, shrink = margin_shrink(scale)
    key = (bucket, min_tip_rad)
    per_asset = _RESTING.get(asset)
    poses = per_asset.get(key) if per_asset is not None else None
    if poses is not None:  # (every frame's case once the worker has warmed up)
        return poses
    if POSE_STORE is not None:
        poses = POSE_STORE.load(asset, ("resting", *key))
    if poses is None:
        poses = _corrected(asset, shrink, min_tip_rad)
        if POSE_STORE is not None:
            POSE_STORE.save(asset, ("resting", *key), poses)
    _RESTING.setdefault(asset, {})[key] = poses
    return poses


def _corrected(asset: Asset, shrink: float, min_tip_rad: float) -> StablePoses:
    """:func:`resting_poses` computed: ``asset``'s stable poses turned onto the faces of its
    hulls shrunk by ``shrink`` (normalised units)."""
    from scipy.spatial import ConvexHull, QhullError

    base = stable_poses(asset, min_tip_rad=min_tip_rad)
    collider = _collider(asset)
    points = np.vstack([h.shrunk(shrink) for h in collider.hulls])
    try:
        hull = ConvexHull(points)
        points, planes = points[hull.vertices], hull.equations
    except (QhullError, ValueError):
        planes = np.zeros((0, 4))
    rows = []
    for rotation0, prob in zip(base.rotations, base.probabilities):
        rotation = _onto_exit_face(rotation0, planes, collider.com)
        lean = np.arccos(np.clip((np.trace(rotation @ rotation0.T) - 1) / 2, -1.0, 1.0))
        tip = _tip_angle(points @ rotation.T, rotation @ collider.com)
        turned = collider.points @ rotation.T
        rows.append((lean <= MAX_LEAN_RAD and tip >= min_tip_rad, rotation, prob,
                     float((points @ rotation[2]).min()), float(turned[:, 2].max()),
                     hull_2d(turned[:, :2])))
    kept = [r for r in rows if r[0]] or rows[:1]
    probs = np.array([r[2] for r in kept])
    return StablePoses(rotations=np.array([r[1] for r in kept]),
                       probabilities=probs / probs.sum(),
                       lowest=np.array([r[3] for r in kept]),
                       highest=np.array([r[4] for r in kept]),
                       footprints=tuple(r[5] for r in kept), margin_m=COLLISION_MARGIN_M)


MAX_LEAN_RAD = math.radians(2.0)
"""Largest correction of a pose to the simulated shape (see :func:`resting_poses`)."""


def _onto_exit_face(rotation: np.ndarray, planes: np.ndarray, com: np.ndarray) -> np.ndarray:
    """``rotation`` turned so that the hull face (``planes``: (f, 4) outward ``n . x + c = 0``)
    a ray from ``com`` along its downward direction leaves through faces down."""
    down = rotation.T @ np.array([0.0, 0.0, -1.0])
    along = planes[:, :3] @ down
    if not np.any(along > 1e-9):
        return rotation
    depth = -(planes[:, :3] @ com + planes[:, 3])
    exits = np.where(along > 1e-9, depth / np.where(along > 1e-9, along, 1.0), np.inf)
    normal = rotation @ planes[int(np.argmin(exits)), :3]
    return _turn_onto(normal, np.array([0.0, 0.0, -1.0])) @ rotation


def _turn_onto(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The smallest rotation (3, 3) taking unit vector ``a`` onto unit vector ``b``."""
    a, b = a / np.linalg.norm(a), b / np.linalg.norm(b)
    axis = np.cross(a, b)
    sin, cos = float(np.linalg.norm(axis)), float(a @ b)
    if sin < 1e-12:
        return np.eye(3)  # already there (a flip is never asked for: the faces lean a little)
    k = axis / sin
    skew = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return np.eye(3) + sin * skew + (1 - cos) * skew @ skew


def _compute(asset: Asset, min_tip_rad: float) -> StablePoses:
    import trimesh

    collider = _collider(asset)
    com = collider.com
    solid = asset.collision_primitive
    points = collider.points
    hull = trimesh.convex.convex_hull(points)
    if solid is not None and solid.kind == "sphere":
        rotations, probs = np.eye(3)[None], np.ones(1)
    else:
        transforms, probs = trimesh.poses.compute_stable_poses(hull, center_mass=com)
        rotations = np.asarray(transforms, dtype=np.float64)[:, :3, :3]
        probs = np.asarray(probs, dtype=np.float64)
    keep = []
    for i, rotation in enumerate(rotations):
        if solid is not None and solid.kind == "capsule":
            axis = rotation @ solid.object_from_primitive[:3, 2]
            keep.append(abs(axis[2]) < 1e-2)  # on a hemisphere it would roll over
        elif solid is None:
            keep.append(_tip_angle(points @ rotation.T, rotation @ com) >= min_tip_rad)
        else:
            keep.append(True)
    keep_mask = np.array(keep, dtype=bool)
    if keep_mask.any():
        rotations, probs = rotations[keep_mask], probs[keep_mask]
    else:  # none passes: the most probable
        rotations, probs = rotations[:1], probs[:1]
    lowest, highest, footprints = [], [], []
    for rotation in rotations:
        turned = points @ rotation.T
        low, high = float(turned[:, 2].min()), float(turned[:, 2].max())
        if solid is not None:
            low, high = solid_extent(solid, rotation)
        lowest.append(low)
        highest.append(high)
        footprints.append(hull_2d(turned[:, :2]))
    return StablePoses(rotations=rotations, probabilities=probs / probs.sum(),
                       lowest=np.array(lowest), highest=np.array(highest),
                       footprints=tuple(footprints),
                       any_rotation=solid is not None and solid.kind == "sphere")


def _tip_angle(turned: np.ndarray, com: np.ndarray) -> float:
    """Tilt (radians) that tips ``turned`` (n, 3) over, its centre of mass at ``com`` (3,)."""
    from scipy.spatial import ConvexHull, QhullError

    low = turned[:, 2].min()
    contact = turned[turned[:, 2] < low + _CONTACT_TOL, :2]
    try:
        polygon = contact[ConvexHull(contact).vertices]
    except (QhullError, ValueError):
        return 0.0  # a point or an edge: no area to rest on
    edges = np.roll(polygon, -1, axis=0) - polygon
    normals = np.stack([edges[:, 1], -edges[:, 0]], axis=1)  # outward for counter-clockwise
    normals /= np.linalg.norm(normals, axis=1, keepdims=True)
    margin = float(np.min(((polygon - com[:2]) * normals).sum(axis=1)))
    return math.atan2(margin, max(float(com[2] - low), 1e-12))


def solid_extent(solid: Any, rotation: np.ndarray) -> tuple[float, float]:
    """Lowest and highest z of an exact solid turned by ``rotation`` (3, 3)."""
    frame = rotation @ solid.object_from_primitive[:3, :3]
    centre = float((rotation @ solid.object_from_primitive[:3, 3])[2])
    axis_z = abs(float(frame[2, 2]))
    if solid.kind == "box":
        reach = float(np.abs(frame[2]) @ np.asarray(solid.half_extents))
    elif solid.kind == "sphere":
        reach = solid.radius
    elif solid.kind == "cylinder":
        reach = solid.length / 2 * axis_z + solid.radius * math.sqrt(max(0.0, 1 - axis_z**2))
    else:  # capsule
        reach = solid.length / 2 * axis_z + solid.radius
    return centre - reach, centre + reach


def edge_normals(polygon: np.ndarray) -> np.ndarray:
    """(e, 2) float64: unit outward normals of a counter-clockwise polygon's edges."""
    edges = np.empty_like(polygon)
    np.subtract(polygon[1:], polygon[:-1], out=edges[:-1])
    np.subtract(polygon[:1], polygon[-1:], out=edges[-1:])
    normals = edges[:, ::-1] * (1.0, -1.0)  # (dy, -dx)
    lengths = np.sqrt((normals**2).sum(axis=1))
    if lengths.min() > 1e-12:
        return normals / lengths[:, None]
    return normals[lengths > 1e-12] / lengths[lengths > 1e-12, None]


def inner_radius(polygon: np.ndarray, centre: np.ndarray) -> float:
    """The radius of the largest disc about ``centre`` (2,) inside a counter-clockwise convex
    ``polygon`` (k, 2): the distance to its nearest edge; ``-inf`` if ``centre`` is not inside.
    A disc inside each of two outlines that meet proves that the outlines overlap."""
    edges = np.roll(polygon, -1, axis=0) - polygon
    lengths = np.sqrt((edges**2).sum(axis=1))
    keep = lengths > 1e-12
    offsets = polygon[keep] - centre
    edges = edges[keep]
    distances = (edges[:, 1] * offsets[:, 0] - edges[:, 0] * offsets[:, 1]) / lengths[keep]
    nearest = float(distances.min()) if len(distances) else -math.inf
    return nearest if nearest > 0 else -math.inf


def hull_2d(points: np.ndarray) -> np.ndarray:
    """Counter-clockwise convex hull (k, 2) of 2D points (a tiny square for degenerate sets)."""
    from scipy.spatial import ConvexHull, QhullError

    try:
        return points[ConvexHull(points).vertices]
    except (QhullError, ValueError):
        centre = points.mean(axis=0)
        return centre + 1e-6 * np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], dtype=np.float64)
