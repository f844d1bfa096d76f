"""Draw one frame's :class:`~synthscene.state.SceneState` from a scenario (pure: no backend)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from synthscene.config import Box3, CameraSpec, LightsSpec, MaterialSpec, ObjectsSpec, Scenario
from synthscene.randomize.geometry import (
    aim_negative_z,
    intrinsics_from_fov,
    look_at_opencv,
    random_rotation,
    spherical_offset,
)
from synthscene.state import Camera, Ground, Light, Material, SceneObject, SceneState

if TYPE_CHECKING:
    from synthscene.assets import AssetLibrary

HALF_DIAGONAL = np.sqrt(3.0) / 2.0
"""Bounding-sphere radius of a normalised asset (its bounding box has edges <= 1)."""

MAX_PLACEMENT_TRIES = 30


def sample_material(spec: MaterialSpec, *, rng: np.random.Generator) -> Material:
    """Draw a material; ``base_color`` may be an RGB or RGBA draw (alpha defaults to 1)."""
    color = np.atleast_1d(np.asarray(spec.base_color.sample(rng), dtype=float))
    if color.size == 1:
        color = np.repeat(color, 3)
    rgba = tuple(float(c) for c in color[:3]) + (float(color[3]) if color.size > 3 else 1.0,)
    return Material(base_color=rgba, metallic=float(spec.metallic.sample(rng)),
                    roughness=float(spec.roughness.sample(rng)))


def _uniform_in(box: Box3, rng: np.random.Generator) -> np.ndarray:
    lo = np.array([box.x_m[0], box.y_m[0], box.z_m[0]])
    hi = np.array([box.x_m[1], box.y_m[1], box.z_m[1]])
    return rng.uniform(lo, hi)


def _choose_assets(spec: ObjectsSpec, library: AssetLibrary, count: int,
                   rng: np.random.Generator) -> list[str]:
    keys = list(library.keys)
    if spec.asset_sampling == "asset":
        return [keys[i] for i in rng.integers(0, len(keys), size=count)]
    by_category: dict[str, list[str]] = {}
    for key in keys:
        by_category.setdefault(library.category_of(key), []).append(key)
    cats = sorted(by_category)
    out = []
    for c in rng.integers(0, len(cats), size=count):
        members = by_category[cats[c]]
        out.append(members[int(rng.integers(0, len(members)))])
    return out


def sample_objects(spec: ObjectsSpec, library: AssetLibrary, *,
                   rng: np.random.Generator) -> tuple[SceneObject, ...]:
    """Draw the objects: count, assets, sizes, materials, drop positions and orientations.

    Drop positions are uniform in ``spec.drop_region``; a position whose bounding sphere meets an
    earlier object's is redrawn (up to ``MAX_PLACEMENT_TRIES`` times), after which the object is
    stacked above the highest one, so objects never start interpenetrating. Orientations are
    uniform on SO(3). Instance ids are 1..N in drawing order.
    """
    count = int(spec.count.sample(rng))
    keys = _choose_assets(spec, library, count, rng)
    objects: list[SceneObject] = []
    centres = np.empty((count, 3))
    radii = np.empty(count)
    region = spec.drop_region
    lo = np.array([region.x_m[0], region.y_m[0], region.z_m[0]])
    hi = np.array([region.x_m[1], region.y_m[1], region.z_m[1]])
    for i, key in enumerate(keys):
        scale = float(spec.size_m.sample(rng))
        radius = HALF_DIAGONAL * scale
        position = None
        for _ in range(MAX_PLACEMENT_TRIES):
            p = rng.uniform(lo, hi)
            gaps = np.sqrt(((centres[:i] - p) ** 2).sum(axis=1)) - radii[:i]
            if not np.any(gaps < radius):
                position = p
                break
        if position is None:
            top = float(np.max(centres[:i, 2] + radii[:i]))
            position = np.array([p[0], p[1], top + radius])
        pose = np.eye(4)
        pose[:3, :3] = random_rotation(rng=rng)
        pose[:3, 3] = position
        centres[i] = position
        radii[i] = radius
        objects.append(SceneObject(
            instance_id=i + 1, asset_key=key, category=library.category_of(key), scale=scale,
            world_from_object=pose, material=sample_material(spec.material, rng=rng),
        ))
    return tuple(objects)


def sample_lights(spec: LightsSpec, *, rng: np.random.Generator) -> tuple[Light, ...]:
    """Draw lights on a shell around the origin, each aimed at the origin."""
    lights = []
    for _ in range(int(spec.count.sample(rng))):
        kind = spec.kind.sample(rng)
        position = spherical_offset(spec.elevation_deg.sample(rng), spec.azimuth_deg.sample(rng),
                                    spec.distance_m.sample(rng))
        intensity = {"directional": spec.directional_intensity, "point": spec.point_intensity,
                     "spot": spec.spot_intensity}[kind].sample(rng)
        color = tuple(float(c) for c in np.broadcast_to(spec.color.sample(rng), (3,)))
        outer = float(spec.spot_outer_cone_deg.sample(rng))
        lights.append(Light(kind=kind, world_from_light=aim_negative_z(position, np.zeros(3)),
                            color=color, intensity=float(intensity),
                            inner_cone_angle=0.5 * outer, outer_cone_angle=outer))
    return tuple(lights)


def sample_camera(spec: CameraSpec, width: int, height: int, *,
                  rng: np.random.Generator) -> Camera:
    """Draw a camera on a spherical shell around a random look-at point, looking at it."""
    target = _uniform_in(spec.look_at, rng)
    eye = target + spherical_offset(spec.elevation_deg.sample(rng), spec.azimuth_deg.sample(rng),
                                    spec.distance_m.sample(rng))
    K = intrinsics_from_fov(float(spec.fov_deg.sample(rng)), width, height)
    return Camera(K=K, width=width, height=height, world_from_camera=look_at_opencv(eye, target),
                  znear=spec.znear_m, zfar=spec.zfar_m)


def sample_scene(scenario: Scenario, library: AssetLibrary, *, rng: np.random.Generator,
                 seed: tuple[int, int] = (0, 0)) -> SceneState:
    """Draw one frame of ``scenario``.

    Parameters
    ----------
    scenario : Scenario
    library : AssetLibrary
        Indexes the scenario's assets (only keys and categories are used here).
    rng : numpy.random.Generator
        The frame's generator; every draw of the frame comes from it, in a fixed order.
    seed : (2,) tuple of int
        ``(run_seed, frame_index)``, recorded in the state.

    Returns
    -------
    SceneState
        Objects at their drop poses (not settled), lights, camera, ground.
    """
    spec = scenario.spec
    objects = sample_objects(spec.objects, library, rng=rng)
    ground = None
    region = None
    if spec.ground.enabled:
        ground = Ground(size=spec.ground.size_m, material=sample_material(spec.ground.material,
                                                                          rng=rng))
        h = spec.ground.size_m / 2.0
        region = ((-h, -h), (h, h))
    lights = sample_lights(spec.lights, rng=rng)
    ambient = tuple(float(c) for c in np.broadcast_to(spec.lights.ambient.sample(rng), (3,)))
    camera = sample_camera(spec.camera, spec.image.width, spec.image.height, rng=rng)
    return SceneState(objects=objects, lights=lights, camera=camera, ground=ground,
                      ambient_light=ambient, seed=seed, drop_region=region)
