"""Objects placed at rest without simulation: the ``stable`` placement (pure: no pybullet).

Each object takes one of its asset's stable poses (:mod:`synthscene.randomize.stable_poses`),
a random turn about the vertical and a position on a support surface where it is clear of
everything already there, by rejection sampling:

- **support surfaces** (:func:`support_surfaces`): the ground (positions in
  ``objects.drop_region``'s x, y at z = 0) and the upward faces of fixtures (``fixture:NAME``:
  a table's or a belt's top, each board of a ``primitive:shelf``), grouped by height;
- **footprints**: every object and every collision part of a fixture is bounded by a vertical
  prism (:class:`Prism`: the 2D convex hull of its points seen from above, between its lowest
  and highest point); a try is taken when the object's prism meets none of the others (with a
  gap of ``gap_m``) and, on a fixture, its footprint's corners lie on the surface's faces.

An object that finds no clear place in ``max_tries`` tries is left out; the number left out is
reported to the :class:`~synthscene.randomize.object_pool.ObjectPool` and logged.

Units: metres.
"""

from __future__ import annotations

import bisect
import dataclasses
import functools
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import Field, field_validator

from synthscene.config.fields import NativeSize
from synthscene.config.schema import Box3
from synthscene.core.state import Material, SceneObject
from synthscene.randomize.geometry import random_rotation
from synthscene.randomize.object_pool import ObjectPool
from synthscene.randomize.stable_poses import (
    edge_normals,
    hull_2d,
    resting_poses,
    solid_extent,
)
from synthscene.registry.params import RandomizerParams, dist_field

if TYPE_CHECKING:  # annotations only: the asset modules load trimesh
    from synthscene.assets.library import Asset

__all__ = ["Arrangement", "Prism", "StableParams", "Surface", "arrange", "place_all",
           "places_at_rest", "prism_of", "stable", "support_surfaces"]

logger = logging.getLogger(__name__)

UP_COS = math.cos(math.radians(1.0))
"""A fixture face is a support surface where its normal is within 1 degree of vertical."""
_HEIGHT_TOL_M = 1e-5
"""Upward faces of a fixture within this height (metres) form one surface."""
_Z_OVERLAP_M = 1e-6
"""Two prisms whose height ranges overlap by less than this (metres) touch, not overlap."""


# --------------------------------------------------------------------------------------------
# Footprints and support surfaces
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Prism:
    """A vertical prism bounding something: its outline from above between two heights.

    Attributes
    ----------
    polygon : (k, 2) float64
        Convex outline, counter-clockwise, metres (world x, y).
    z_min, z_max : float
        Metres.
    centre : (2,) float64, optional
        Centre of a circle holding the outline (default: its bounding box's centre).
    radius : float, optional
        Radius of that circle, metres (default: the smallest about ``centre``).
    """

    polygon: np.ndarray
    z_min: float
    z_max: float
    centre: np.ndarray | None = None
    radius: float | None = None

    def __post_init__(self) -> None:
        if self.centre is None or self.radius is None:
            centre = (self.polygon.min(axis=0) + self.polygon.max(axis=0)) / 2
            offsets = self.polygon - centre
            object.__setattr__(self, "centre", centre)
            object.__setattr__(self, "radius", float(np.sqrt((offsets**2).sum(axis=1).max())))

    @functools.cached_property
    def axes(self) -> np.ndarray:
        """(e, 2) float64: the outline's unit edge normals."""
        return edge_normals(self.polygon)

    def meets(self, other: Prism, gap_m: float) -> bool:
        """Whether the two prisms overlap, or come closer than ``gap_m`` sideways (a
        separating-axis test of the outlines, on the edge normals of both)."""
        if min(self.z_max, other.z_max) - max(self.z_min, other.z_min) <= _Z_OVERLAP_M:
            return False
        d = self.centre - other.centre
        if d @ d >= (self.radius + other.radius + gap_m) ** 2:
            return False
        return _overlap(self.polygon, other.polygon, np.concatenate([self.axes, other.axes]),
                        gap_m)


def _overlap(a: np.ndarray, b: np.ndarray, axes: np.ndarray, gap_m: float) -> bool:
    """Whether convex polygons ``a`` and ``b`` come closer than ``gap_m`` along every one of
    ``axes`` (their edge normals: the separating-axis test)."""
    pa, pb = a @ axes.T, b @ axes.T
    separated = ((pa.min(axis=0) >= pb.max(axis=0) + gap_m)
                 | (pb.min(axis=0) >= pa.max(axis=0) + gap_m))
    return not bool(separated.any())


def prism_of(points_world: np.ndarray) -> Prism:
    """The :class:`Prism` of points (n, 3) in metres."""
    return Prism(hull_2d(points_world[:, :2]), float(points_world[:, 2].min()),
                 float(points_world[:, 2].max()))


def _world(points: np.ndarray, obj: SceneObject) -> np.ndarray:
    pose = np.asarray(obj.world_from_object, dtype=np.float64)
    return (points * obj.scale) @ pose[:3, :3].T + pose[:3, 3]


def object_prisms(obj: SceneObject, asset: Asset, *, parts: bool) -> list[Prism]:
    """Prisms bounding a posed object: one per collision part (``parts``) or one in all."""
    hulls = [np.asarray(h, dtype=np.float64) for h in asset.collision_hulls]
    if not parts:
        hulls = [np.vstack(hulls)]
    return [prism_of(_world(h, obj)) for h in hulls]


@dataclass(frozen=True, eq=False)
class Surface:
    """A horizontal support surface.

    Attributes
    ----------
    z_m : float
        Its height, metres.
    triangles : (t, 3, 2) float64
        The faces it is made of (world x, y, metres); a footprint's corners must lie on them.
    area_m2 : float
    rectangle : bool
        True for the ground's region: only the object's centre must lie in it.
    """

    z_m: float
    triangles: np.ndarray
    area_m2: float
    rectangle: bool = False

    def supports(self, footprint: np.ndarray, centre: np.ndarray) -> bool:
        """Whether an object with this footprint (k, 2) and centre (2,) stands on it."""
        points = centre[None] if self.rectangle else footprint
        a, b, c = self.triangles[:, 0], self.triangles[:, 1], self.triangles[:, 2]
        v0, v1 = b - a, c - a
        det = v0[:, 0] * v1[:, 1] - v0[:, 1] * v1[:, 0]
        rel = points[:, None, :] - a[None]
        u = (rel[..., 0] * v1[:, 1] - rel[..., 1] * v1[:, 0]) / det
        v = (v0[:, 0] * rel[..., 1] - v0[:, 1] * rel[..., 0]) / det
        tol = 1e-9
        inside = (u >= -tol) & (v >= -tol) & (u + v <= 1 + tol)
        return bool(inside.any(axis=1).all())


def _triangle_areas(triangles: np.ndarray) -> np.ndarray:
    v0, v1 = triangles[:, 1] - triangles[:, 0], triangles[:, 2] - triangles[:, 0]
    return 0.5 * np.abs(v0[:, 0] * v1[:, 1] - v0[:, 1] * v1[:, 0])


def _rectangle(x_m: tuple[float, float], y_m: tuple[float, float]) -> np.ndarray:
    (x0, x1), (y0, y1) = x_m, y_m
    return np.array([[[x0, y0], [x1, y0], [x1, y1]], [[x0, y0], [x1, y1], [x0, y1]]], float)


def fixture_surfaces(obj: SceneObject, asset: Asset) -> list[Surface]:
    """The upward faces of a posed fixture, grouped by height (lowest first)."""
    mesh = asset.mesh
    up = np.asarray(mesh.face_normals)[:, 2]
    pose = np.asarray(obj.world_from_object, dtype=np.float64)
    if pose[2, 2] < UP_COS:
        return []  # a tilted fixture: its faces are not horizontal
    faces = np.asarray(mesh.faces)[up >= UP_COS]
    corners = _world(np.asarray(mesh.vertices)[faces.reshape(-1)], obj).reshape(-1, 3, 3)
    heights = corners[:, :, 2].mean(axis=1)
    order = np.argsort(heights, kind="stable")
    surfaces, start = [], 0
    for end in range(1, len(order) + 1):
        if end == len(order) or heights[order[end]] - heights[order[start]] > _HEIGHT_TOL_M:
            group = corners[order[start:end], :, :2]
            area = float(_triangle_areas(group).sum())
            if area > 0:
                surfaces.append(Surface(float(heights[order[start:end]].max()), group, area))
            start = end
    return surfaces


def support_surfaces(names: Sequence[str], *, region: Box3, pool: ObjectPool) -> list[Surface]:
    """The support surfaces ``names`` (``ground`` or ``fixture:NAME``) of a frame.

    ``ground`` is ``region``'s x, y range at z = 0; ``fixture:NAME`` every upward face of the
    fixture named NAME (``pool.fixtures``, with ``pool.fixture_names``), grouped by height.
    """
    out: list[Surface] = []
    for name in names:
        if name == "ground":
            tri = _rectangle(region.x_m, region.y_m)
            area = (region.x_m[1] - region.x_m[0]) * (region.y_m[1] - region.y_m[0])
            out.append(Surface(0.0, tri, float(area), rectangle=True))
            continue
        wanted = name.partition(":")[2]
        for fixture, fixture_name in zip(pool.fixtures, pool.fixture_names):
            if fixture_name == wanted:
                out += fixture_surfaces(fixture, pool.library.get(fixture.asset_key))
    return out


# --------------------------------------------------------------------------------------------
# Placing
# --------------------------------------------------------------------------------------------


class Arrangement:
    """The support surfaces of a frame and the prisms already standing on them.

    Parameters
    ----------
    surfaces : list of Surface
    obstacles : list of Prism
        What placed objects must stay clear of (fixture parts, objects placed before).
    gap_m : float
        Least sideways gap between two prisms, metres.
    max_tries : int
        Positions tried per object.
    """

    def __init__(self, surfaces: list[Surface], obstacles: list[Prism], *, gap_m: float,
                 max_tries: int) -> None:
        self.surfaces = [s for s in surfaces if s.area_m2 > 0]
        self.obstacles: list[Prism] = []
        self.gap_m = float(gap_m)
        self.max_tries = int(max_tries)
        # Every surface's triangles in one list: a point uniform over their total area.
        self._triangles = (np.concatenate([s.triangles for s in self.surfaces])
                           if self.surfaces else np.zeros((0, 3, 2)))
        self._owner = np.concatenate([np.full(len(s.triangles), i)
                                      for i, s in enumerate(self.surfaces)]).astype(int) \
            if self.surfaces else np.zeros(0, int)
        self._heights = np.array([self.surfaces[o].z_m for o in self._owner], dtype=float)
        areas = _triangle_areas(self._triangles)
        self._cumulative = np.cumsum(areas) / areas.sum() if areas.sum() > 0 else areas
        self._circles = np.zeros((0, 5))  # per obstacle: centre x, y, radius, z_min, z_max
        for prism in obstacles:
            self._add(prism)

    def _add(self, prism: Prism) -> None:
        self.obstacles.append(prism)
        row = [prism.centre[0], prism.centre[1], prism.radius, prism.z_min, prism.z_max]
        self._circles = np.vstack([self._circles, row])

    def place(self, asset: Asset, scale: float, *, rng: np.random.Generator,
              uniform_poses: bool, min_tip_rad: float) -> np.ndarray | None:
        """Draw a resting pose of ``asset`` at ``scale`` clear of the obstacles.

        Draw order: the stable pose (by probability, or uniformly), a rotation if the asset
        rests in any orientation (a sphere), then ``max_tries`` x 4 uniforms (a point uniform
        over the surfaces' total area, a turn about the vertical) at once, whichever try is
        taken; the first try that stands on its surface clear of every obstacle is taken.

        Returns
        -------
        (4, 4) float64 or None
            ``world_from_object`` (metres), its prism added to the obstacles; None when no try
            was clear.
        """
        poses = resting_poses(asset, scale, min_tip_rad=min_tip_rad)
        n = len(poses.probabilities)
        k = int(rng.integers(0, n)) if uniform_poses else min(
            bisect.bisect_right(poses.cumulative, rng.uniform()), n - 1)
        rotation = poses.rotations[k]
        low = poses.lowest[k] - poses.margin_m / scale
        high = poses.highest[k]
        if poses.any_rotation:  # an exact sphere
            rotation = random_rotation(rng=rng)
            low, high = solid_extent(asset.collision_primitive, rotation)
        tries = rng.uniform(size=(self.max_tries, 4))
        if not len(self._triangles):
            return None
        # Every try's point, height and turn at once; its footprint when it is looked at.
        index = np.minimum(np.searchsorted(self._cumulative, tries[:, 0], side="right"),
                           len(self._triangles) - 1)
        s, t = tries[:, 1:2], tries[:, 2:3]
        fold = s + t > 1
        s, t = np.where(fold, 1 - s, s), np.where(fold, 1 - t, t)
        a, b, c = self._triangles[index, 0], self._triangles[index, 1], self._triangles[index, 2]
        centres = a + s * (b - a) + t * (c - a)
        heights = self._heights[index]
        yaw = 2 * np.pi * tries[:, 3]
        cos, sin = np.cos(yaw), np.sin(yaw)
        outline = poses.footprints[k] * scale
        tall = (high - low) * scale
        reach = poses.reaches[k] * scale
        circles = self._circles
        gaps = np.sqrt(((centres[:, None, :] - circles[None, :, :2]) ** 2).sum(axis=2))
        near = ((gaps < reach + circles[None, :, 2] + self.gap_m)
                & (np.minimum(heights[:, None] + tall, circles[None, :, 4])
                   - np.maximum(heights[:, None], circles[None, :, 3]) > _Z_OVERLAP_M))
        for j in range(self.max_tries):
            surface = self.surfaces[self._owner[index[j]]]
            turn = np.array([[cos[j], sin[j]], [-sin[j], cos[j]]])  # x' = x @ turn (rows)
            footprint = None
            if not surface.rectangle:  # (a point drawn on a rectangle is on it)
                footprint = outline @ turn + centres[j]
                if not surface.supports(footprint, centres[j]):
                    continue
            candidates = np.flatnonzero(near[j])
            if len(candidates):
                footprint = outline @ turn + centres[j] if footprint is None else footprint
                axes = poses.normals[k] @ turn
                if any(_overlap(footprint, self.obstacles[o].polygon,
                                np.concatenate([axes, self.obstacles[o].axes]), self.gap_m)
                       for o in candidates):
                    continue
            footprint = outline @ turn + centres[j] if footprint is None else footprint
            self._add(Prism(footprint, float(heights[j]), float(heights[j] + tall),
                            centre=centres[j], radius=reach))
            pose = np.eye(4)
            pose[:3, :3] = np.array([[cos[j], -sin[j], 0.0], [sin[j], cos[j], 0.0],
                                     [0.0, 0.0, 1.0]]) @ rotation
            pose[:3, 3] = (centres[j, 0], centres[j, 1], heights[j] - low * scale)
            return pose
        return None


class StableParams(RandomizerParams):
    """Parameters of the ``stable`` placement."""

    surfaces: list[str] = Field(["ground"], min_length=1, description=(
        "where objects stand: ground (drop_region's x, y at z = 0) and fixture:NAME (the "
        "upward faces of the fixture named NAME: a table's top, a shelf's boards), positions "
        "uniform over their total area"))
    pose_sampling: dist_field(options=("probability", "uniform")) = Field(
        "probability", description="how a stable pose is drawn: by the chance of landing in it "
                                   "(trimesh's estimate) or each equally")
    max_tries: dist_field(low=1, high=1000, integer=True) = Field(
        30, description="positions tried per object; one that fits nowhere is left out")
    gap_m: dist_field(low=0, high=1) = Field(
        0.002, description="least gap between the footprints of two objects, m")
    min_tip_rad: dist_field(low=0, high=45, unit="deg") = Field(
        3.0, alias="min_tip_deg",
        description="poses that tip over when tilted less than this are not used")

    @field_validator("surfaces")
    @classmethod
    def _surface_names(cls, value: list[str]) -> list[str]:
        for name in value:
            kind, sep, rest = name.partition(":")
            if not (name == "ground" or (kind == "fixture" and sep and rest)):
                raise ValueError(f"a surface is ground or fixture:NAME, got {name!r}")
        return value


def places_at_rest(placement: Any) -> bool:
    """Whether a configured placement stands objects on support surfaces (its parameters have
    ``surfaces``): the frame's fixtures are then drawn before it, and physics does not settle
    by default."""
    return "surfaces" in type(placement.params).model_fields


def warm_up(spec: Any, library: Any) -> None:
    """Compute the resting poses of every object and distractor asset of a scenario whose
    placement has ``surfaces``, for every scale bucket its sizes reach (what the first frames
    would otherwise compute as they go; the frames do not change).

    Parameters
    ----------
    spec : ScenarioSpec
    library : SceneLibraries
    """
    from synthscene.assets.margins import SCALE_BUCKET_RATIO, margin_shrink

    params = spec.objects.placement.params
    tip = getattr(params, "min_tip_rad", StableParams().min_tip_rad)
    tips = getattr(tip, "options", None) or ((tip.value,) if hasattr(tip, "value") else ())
    groups = [(library.objects.keys, spec.objects.size_m)]
    if library.distractors is not None:
        groups.append((library.distractors.keys, spec.distractors.size_m))
    for keys, sizes in groups:
        low, high = sizes.support()
        native = isinstance(sizes, NativeSize)
        if not (native or (0 < low and high < math.inf)):
            continue
        for key in keys:
            asset = library.get(key)
            if native:  # one size per asset: its own
                low = high = asset.native_size_m
            for bucket in range(margin_shrink(low)[0], margin_shrink(high)[0] + 1):
                for tip_rad in tips:
                    resting_poses(asset, SCALE_BUCKET_RATIO**bucket,
                                  min_tip_rad=float(tip_rad))


def arrange(pool: ObjectPool, surfaces: Sequence[str], region: Box3, *,
            placed: Sequence[SceneObject] = (), gap_m: float, max_tries: int) -> Arrangement:
    """An :class:`Arrangement` of ``surfaces`` with the pool's fixtures (each collision part)
    and the ``placed`` objects (whole) as obstacles."""
    obstacles: list[Prism] = []
    for fixture in pool.fixtures:
        obstacles += object_prisms(fixture, pool.library.get(fixture.asset_key), parts=True)
    for obj in placed:
        obstacles += object_prisms(obj, pool.library.get(obj.asset_key), parts=False)
    return Arrangement(support_surfaces(surfaces, region=region, pool=pool), obstacles,
                       gap_m=gap_m, max_tries=max_tries)


def place_all(arrangement: Arrangement, keys: Sequence[str], *, library: Any,
              sizes: Any, materials: Any, rng: np.random.Generator, uniform_poses: bool,
              min_tip_rad: float) -> list[tuple[str, float, np.ndarray, Material]]:
    """Place the assets ``keys`` in turn: per object its size (``sizes(rng, key)``), its pose
    (:meth:`Arrangement.place`), then its material (``materials(rng)``). Returns the placed ones
    as ``(key, scale, world_from_object, material)``."""
    out = []
    for key in keys:
        scale = float(sizes(rng, key))
        pose = arrangement.place(library.get(key), scale, rng=rng, uniform_poses=uniform_poses,
                                 min_tip_rad=min_tip_rad)
        material = materials(rng)
        if pose is not None:
            out.append((key, scale, pose, material))
    if len(out) < len(keys):
        logger.debug("stable placement: %d of %d objects found no place", len(keys) - len(out),
                   len(keys))
    return out


def stable(objects: ObjectPool, *, rng: np.random.Generator, region: Box3,
           surfaces: list[str], pose_sampling: Literal["probability", "uniform"],
           max_tries: int, gap_m: float, min_tip_rad: float) -> list[SceneObject]:
    """Objects at rest in their assets' stable poses on support surfaces, clear of each other.

    Draws the count, the assets, then per object its size, stable pose, position tries and
    material (:func:`place_all`). Objects that fit nowhere are left out and counted
    (``objects.left_out``).
    """
    count = objects.sample_count(rng=rng)
    keys = objects.sample_assets(count, rng=rng)
    arrangement = arrange(objects, surfaces, region, gap_m=gap_m, max_tries=max_tries)
    placed = place_all(arrangement, keys, library=objects.library,
                       sizes=lambda r, key: objects.sample_size(key, rng=r),
                       materials=lambda r: objects.sample_material(rng=r), rng=rng,
                       uniform_poses=pose_sampling == "uniform", min_tip_rad=min_tip_rad)
    objects.left_out.append(len(keys) - len(placed))
    return [dataclasses.replace(objects.make(key, scale=scale, world_from_object=pose,
                                             material=material), instance_id=i + 1)
            for i, (key, scale, pose, material) in enumerate(placed)]

