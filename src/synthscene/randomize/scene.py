"""Draw one frame's :class:`~synthscene.core.state.SceneState` from a scenario (pure: no
backend)."""

from __future__ import annotations

import dataclasses
import logging
from typing import TYPE_CHECKING, Any

import numpy as np

from synthscene.config.loading import Scenario
from synthscene.config.schema import (
    BackgroundSpec,
    Box3,
    InitialVelocitySpec,
    LightsSpec,
    MaterialSpec,
    ObjectsSpec,
    RoomSpec,
    ShadowsSpec,
)
from synthscene.core.state import (
    BackgroundImage,
    Ground,
    Light,
    SceneObject,
    SceneState,
    Wall,
)
from synthscene.randomize.camera import frame_the_objects, sample_camera
from synthscene.randomize.color import kelvin_to_rgb
from synthscene.randomize.environment import with_environment
from synthscene.randomize.geometry import aim_negative_z, random_rotation, spherical_offset
from synthscene.randomize.object_pool import (
    ObjectPool,
    checked_objects,
    object_size,
    sample_material,
)
from synthscene.randomize.occlusion import sample_ambient_occlusion
from synthscene.randomize.scene_hooks import run_hooks
from synthscene.randomize.stable import StableParams, arrange, place_all, places_at_rest
from synthscene.seeding import lighting_rng

if TYPE_CHECKING:  # annotations only: the asset modules load trimesh
    from synthscene.assets.library import AssetLibrary, SceneLibraries

logger = logging.getLogger(__name__)

HALF_DIAGONAL = np.sqrt(3.0) / 2.0
"""Bounding-sphere radius of a normalised asset (its bounding box has edges <= 1)."""

MAX_PLACEMENT_TRIES = 30

BACKDROP_TEXTURE_PX = 256
"""Side in pixels of the textures drawn for the ground and walls."""


def sample_objects(spec: ObjectsSpec, library: AssetLibrary, *, rng: np.random.Generator,
                   fixtures: tuple[SceneObject, ...] = (),
                   fixture_names: tuple[str | None, ...] = ()
                   ) -> tuple[tuple[SceneObject, ...], int | None]:
    """Draw the labelled objects and their poses before physics with ``spec.placement`` (the
    built-in :func:`drop` by default, ``stable``, or a plug-in's placement). Instance ids are
    1..N in the order the placement returns them. ``fixtures`` (posed) and their names are
    given to a placement that stands objects on them.

    Returns
    -------
    objects : tuple of SceneObject
    left_out : int or None
        How many objects the placement drew but found no place for (the sum of what it put in
        ``ObjectPool.left_out``), None if it counted none (``drop`` places every object).

    Raises
    ------
    PluginError
        If a plug-in placement fails or returns something else than objects.
    """
    placement = spec.placement
    pool = ObjectPool(spec, library, fixtures=fixtures, fixture_names=fixture_names)
    objects = placement(pool, rng=rng, region=spec.drop_region)
    left_out = int(sum(pool.left_out)) if pool.left_out else None
    if left_out:
        logger.debug("%d objects found no place on the support surfaces", left_out)
    if placement.randomizer.builtin:
        return tuple(objects), left_out
    return checked_objects(placement.randomizer, objects), left_out


def drop(objects: ObjectPool, *, rng: np.random.Generator,
         region: Box3) -> tuple[SceneObject, ...]:
    """Drop objects at random positions in the drop region, to be settled by physics.

    Draws the count, the assets, then per object its size, ``MAX_PLACEMENT_TRIES`` positions
    uniform in ``region`` (the first whose bounding sphere meets no earlier object's is taken;
    if none is clear, the object is stacked above the highest one, so objects never start
    interpenetrating), an orientation uniform on SO(3), and its material.
    """
    count = objects.sample_count(rng=rng)
    keys = objects.sample_assets(count, rng=rng)
    spec = objects.spec
    return _drop(keys, [objects.category_of(k) for k in keys], spec.size_m, spec.material,
                 region, first_id=1, labelled=True, rng=rng, library=objects.library)


def _drop(keys: list[str], categories: list[str], size_m, material: MaterialSpec,
          region: Box3, *, first_id: int, labelled: bool, rng: np.random.Generator,
          placed: tuple[SceneObject, ...] = (), library: Any = None
          ) -> tuple[SceneObject, ...]:
    """Place objects of the given assets in ``region``, clear of each other and of ``placed``
    (see :func:`drop`)."""
    count = len(keys)
    objects: list[SceneObject] = []
    n_old = len(placed)
    centres = np.empty((n_old + count, 3))
    radii = np.empty(n_old + count)
    for j, obj in enumerate(placed):
        centres[j] = obj.world_from_object[:3, 3]
        radii[j] = HALF_DIAGONAL * obj.scale
    lo = np.array([region.x_m[0], region.y_m[0], region.z_m[0]])
    hi = np.array([region.x_m[1], region.y_m[1], region.z_m[1]])
    for n, key in enumerate(keys):
        i = n_old + n
        scale = object_size(size_m, key, library, rng=rng)
        radius = HALF_DIAGONAL * scale
        # Every try drawn at once (the same draws whichever is taken); the first clear one wins.
        tries = rng.uniform(lo, hi, size=(MAX_PLACEMENT_TRIES, 3))
        gaps = np.sqrt(((tries[:, None, :] - centres[None, :i]) ** 2).sum(axis=2)) - radii[:i]
        clear = np.flatnonzero((gaps >= radius).all(axis=1))
        if clear.size:
            position = tries[clear[0]]
        else:
            top = float(np.max(centres[:i, 2] + radii[:i]))
            position = np.array([tries[-1, 0], tries[-1, 1], top + radius])
        pose = np.eye(4)
        pose[:3, :3] = random_rotation(rng=rng)
        pose[:3, 3] = position
        centres[i] = position
        radii[i] = radius
        objects.append(SceneObject(
            instance_id=first_id + n, asset_key=key, category=categories[n], scale=scale,
            world_from_object=pose, material=sample_material(material, rng=rng),
            labelled=labelled,
        ))
    return tuple(objects)


def _distractor_keys(library: SceneLibraries, count: int,
                     rng: np.random.Generator) -> list[str]:
    """``count`` distractor assets drawn uniformly (none without a distractor library)."""
    if library.distractors is None or count == 0:
        return []
    keys = library.distractors.keys
    return [keys[i] for i in rng.integers(0, len(keys), size=count)]


def sample_fixtures(scenario: Scenario, library: SceneLibraries, *, first_id: int,
                    rng: np.random.Generator) -> tuple[SceneObject, ...]:
    """Static, unlabelled scene elements standing on the ground (see ``FixtureSpec``).

    Draw order per fixture: size, yaw, board count (when ``boards`` is given), material.
    """
    out = []
    for i, (spec, key) in enumerate(zip(scenario.spec.fixtures, library.fixture_keys)):
        scale = float(spec.size_m.sample(rng))
        yaw = float(spec.yaw_rad.sample(rng))
        if spec.boards is not None:  # a shelf's board count, drawn per frame
            key = f"primitive:shelf-{int(spec.boards.sample(rng))}"
        lo, _ = np.asarray(library.get(key).mesh.bounds)
        pose = np.eye(4)
        c, s_ = np.cos(yaw), np.sin(yaw)
        pose[:2, :2] = [[c, -s_], [s_, c]]
        pose[:3, 3] = (spec.position_m[0], spec.position_m[1], -lo[2] * scale)
        out.append(SceneObject(
            instance_id=first_id + i, asset_key=key, category="fixture", scale=scale,
            world_from_object=pose, material=sample_material(spec.material, rng=rng),
            labelled=False, physics="static",
        ))
    return tuple(out)


def sample_walls(spec: RoomSpec, ground_size: float, *,
                 rng: np.random.Generator) -> tuple[Wall, ...]:
    """Four walls on the edges of the ground's square, facing its centre, one material."""
    if not spec.enabled:
        return ()
    material = sample_material(spec.material, rng=rng, texture_size=BACKDROP_TEXTURE_PX)
    h = ground_size / 2.0
    walls = []
    for angle in (0.0, 0.5 * np.pi, np.pi, 1.5 * np.pi):
        # Local +z (the wall's front) points at the centre; local y is world up.
        inward = np.array([-np.cos(angle), -np.sin(angle), 0.0])
        up = np.array([0.0, 0.0, 1.0])
        pose = np.eye(4)
        pose[:3, 0] = np.cross(up, inward)
        pose[:3, 1] = up
        pose[:3, 2] = inward
        pose[:3, 3] = -inward * h + up * (spec.height_m / 2.0)
        walls.append(Wall(world_from_wall=pose, width=ground_size, height=spec.height_m,
                          material=material))
    return tuple(walls)


def sample_background(spec: BackgroundSpec, images: tuple[str, ...], *,
                      rng: np.random.Generator) -> tuple[tuple, BackgroundImage | None]:
    """Draw the background colour (linear RGB) and, maybe, a background image and its crop."""
    color = tuple(float(c) for c in np.broadcast_to(spec.color.sample(rng), (3,)))
    image = None
    if images and rng.uniform() < spec.image_probability:
        path = images[int(rng.integers(0, len(images)))]
        zoom = float(rng.uniform(0.5, 1.0))
        offset = (float(rng.uniform()), float(rng.uniform()))
        image = BackgroundImage(path=path, zoom=zoom, offset=offset)
    return color, image


def sample_lights(spec: LightsSpec, *, rng: np.random.Generator) -> tuple[Light, ...]:
    """Draw lights on a shell around the origin, each aimed at the origin."""
    lights = []
    for _ in range(int(spec.count.sample(rng))):
        kind = spec.kind.sample(rng)
        position = spherical_offset(spec.elevation_rad.sample(rng), spec.azimuth_rad.sample(rng),
                                    spec.distance_m.sample(rng))
        intensity = {"directional": spec.directional_intensity, "point": spec.point_intensity,
                     "spot": spec.spot_intensity}[kind].sample(rng)
        if spec.color_temperature_k is not None:
            color = kelvin_to_rgb(float(spec.color_temperature_k.sample(rng)))
        else:
            color = tuple(float(c) for c in np.broadcast_to(spec.color.sample(rng), (3,)))
        outer = float(spec.spot_outer_cone_rad.sample(rng))
        lights.append(Light(kind=kind, world_from_light=aim_negative_z(position, np.zeros(3)),
                            color=color, intensity=float(intensity),
                            inner_cone_angle=0.5 * outer, outer_cone_angle=outer))
    return tuple(lights)


def sample_shadows(spec: ShadowsSpec, *, rng: np.random.Generator) -> float | None:
    """Draw whether a frame has shadows and their softness: the filter radius in metres, or
    None for no shadows. Draws a uniform number, then the softness (if shadows), from ``rng``
    (the frame's ``shadows`` lighting stream, :func:`synthscene.seeding.lighting_rng`)."""
    if not rng.uniform() < spec.probability:
        return None
    return float(spec.softness_m.sample(rng))


def sample_scene(scenario: Scenario, library: SceneLibraries, *, rng: np.random.Generator,
                 seed: tuple[int, int] = (0, 0)) -> SceneState:
    """Draw one frame of ``scenario``.

    Parameters
    ----------
    scenario : Scenario
    library : SceneLibraries
        The scenario's assets (keys, categories, fixture bounds) and background images.
    rng : numpy.random.Generator
        The frame's generator; every draw of the frame comes from it, in a fixed order, but
        for the ambient occlusion, drawn from the frame's own stream
        (``lighting_rng(*seed, "ambient_occlusion")``).
    seed : (2,) tuple of int
        ``(run_seed, frame_index)``, recorded in the state.

    Returns
    -------
    SceneState
        Objects at their drop poses (not settled), lights, camera, ground; then the scenario's
        ``after_sampling`` hooks applied, in order, drawing from ``rng`` after everything else.
        Whether the frame has shadows is drawn from its own stream (``lighting_rng(*seed,
        "shadows")``), so it shifts no other draw.
    """
    spec = scenario.spec
    at_rest = places_at_rest(spec.objects.placement)
    fixtures: tuple[SceneObject, ...] = ()
    if at_rest:  # drawn first: the placement stands objects on them (renumbered below)
        fixtures = sample_fixtures(scenario, library, first_id=1, rng=rng)
    objects, left_out = sample_objects(spec.objects, library, rng=rng, fixtures=fixtures,
                                       fixture_names=tuple(f.name for f in spec.fixtures))
    ground = None
    region = None
    if spec.ground.enabled:
        ground = Ground(size=spec.ground.size_m, material=sample_material(
            spec.ground.material, rng=rng, texture_size=BACKDROP_TEXTURE_PX))
        h = spec.ground.size_m / 2.0
        region = ((-h, -h), (h, h))
    lights = sample_lights(spec.lights, rng=rng)
    ambient = tuple(float(c) for c in np.broadcast_to(spec.lights.ambient.sample(rng), (3,)))
    camera = sample_camera(spec.camera, spec.image.width, spec.image.height, rng=rng,
                           frame=seed[1])
    # Randomizers added after the core ones draw after them, so adding one to a scenario does
    # not change what the others draw.
    if at_rest:
        fixtures = tuple(dataclasses.replace(f, instance_id=len(objects) + 1 + i)
                         for i, f in enumerate(fixtures))
    else:
        fixtures = sample_fixtures(scenario, library, first_id=len(objects) + 1, rng=rng)
    keys = _distractor_keys(library, int(spec.distractors.count.sample(rng)), rng)
    floating = rng.uniform(size=len(keys)) < spec.distractors.floating_probability
    resting = [k for k, f in zip(keys, floating) if not f]
    if at_rest:
        dropped = _rest_distractors(scenario, library, resting, fixtures, objects,
                                    first_id=len(objects) + len(fixtures) + 1, rng=rng)
    else:
        dropped = _drop(resting, ["distractor"] * len(keys),
                        spec.distractors.size_m, spec.distractors.material,
                        spec.objects.drop_region, first_id=len(objects) + len(fixtures) + 1,
                        labelled=False, rng=rng, placed=objects)
    walls = sample_walls(spec.room, spec.ground.size_m, rng=rng) if spec.ground.enabled else ()
    color, image = sample_background(spec.background, library.backgrounds, rng=rng)
    if spec.sequence is not None:  # drawn last: a scenario without one draws as before
        objects = sample_velocities(spec.objects.initial_velocity, objects, rng=rng)
    state = SceneState(objects=objects + fixtures + dropped, lights=lights, camera=camera,
                       ground=ground, ambient_light=ambient, seed=seed, drop_region=region,
                       walls=walls, background_color=color, background_image=image,
                       pending_floating=int(np.count_nonzero(floating)),
                       shadow_softness_m=sample_shadows(
                           spec.render.shadows, rng=lighting_rng(*seed, "shadows")),
                       objects_left_out=left_out,
                       ambient_occlusion=sample_ambient_occlusion(
                           spec.render.ambient_occlusion,
                           rng=lighting_rng(*seed, "ambient_occlusion")))
    # Drawn after the rest: a scenario without an environment draws as before.
    state = with_environment(state, spec.lights.environment, library.environments,
                             visible=spec.background.environment, rng=rng)
    return run_hooks(spec.hooks, state, "after_sampling", rng=rng)


def _rest_distractors(scenario: Scenario, library: SceneLibraries, keys: list[str],
                      fixtures: tuple[SceneObject, ...], objects: tuple[SceneObject, ...], *,
                      first_id: int, rng: np.random.Generator) -> tuple[SceneObject, ...]:
    """The non-floating distractors at rest on the placement's surfaces, clear of the objects
    and fixtures (a placement with ``surfaces``; see :mod:`synthscene.randomize.stable`)."""
    if not keys:
        return ()
    spec = scenario.spec
    params = spec.objects.placement.params
    pool = ObjectPool(spec.objects, library, fixtures=fixtures,
                      fixture_names=tuple(f.name for f in spec.fixtures))
    defaults = StableParams()  # for a plug-in placement with surfaces but not these
    max_tries = int(getattr(params, "max_tries", defaults.max_tries).sample(rng))
    gap_m = float(getattr(params, "gap_m", defaults.gap_m).sample(rng))
    min_tip_rad = float(getattr(params, "min_tip_rad", defaults.min_tip_rad).sample(rng))
    arrangement = arrange(pool, params.surfaces, spec.objects.drop_region, placed=objects,
                          gap_m=gap_m, max_tries=max_tries)
    placed = place_all(arrangement, keys, library=library,
                       sizes=lambda r, key: spec.distractors.size_m.sample(r),
                       materials=lambda r: sample_material(spec.distractors.material, rng=r),
                       rng=rng, uniform_poses=False, min_tip_rad=min_tip_rad)
    return tuple(SceneObject(instance_id=first_id + i, asset_key=key, category="distractor",
                             scale=scale, world_from_object=pose, material=material,
                             labelled=False)
                 for i, (key, scale, pose, material) in enumerate(placed))


def sample_view(scenario: Scenario, library: SceneLibraries, settled: SceneState, *,
                rng: np.random.Generator, view: tuple[int, int]) -> SceneState:
    """One view of a settled scene (``camera.views_per_scene`` > 1).

    Draw order, all from ``rng`` (the view's generator): a camera from the camera sampler, then
    the lights and ambient light if ``camera.redraw_per_view`` lists ``lights``, then the
    background if it lists ``background``, then :func:`finish_scene` (the camera redraws for
    ``min_visible_objects`` and the floating distractors, placed in front of this camera).
    Objects, their poses and materials are the settled scene's.

    Parameters
    ----------
    scenario : Scenario
    library : SceneLibraries
    settled : SceneState
        The scene after physics, before :func:`finish_scene`.
    rng : numpy.random.Generator
        The view's generator (:func:`synthscene.seeding.scene_rng` with ``child=view_id``).
    view : (2,) tuple of int
        ``(scene_id, view_id)``, recorded in the state.

    Returns
    -------
    SceneState
    """
    spec = scenario.spec
    redraw = set(spec.camera.redraw_per_view)
    views = spec.camera.views_per_scene
    changes: dict = {"camera": sample_camera(spec.camera, spec.image.width, spec.image.height,
                                             rng=rng, frame=view[0] * views + view[1]),
                     "view": tuple(int(v) for v in view)}
    if "lights" in redraw:
        changes["lights"] = sample_lights(spec.lights, rng=rng)
        changes["ambient_light"] = tuple(
            float(c) for c in np.broadcast_to(spec.lights.ambient.sample(rng), (3,)))
    if "background" in redraw:
        changes["background_color"], changes["background_image"] = sample_background(
            spec.background, library.backgrounds, rng=rng)
        if settled.environment is not None and settled.environment.visible:
            changes["background_image"] = None
    view_state = dataclasses.replace(settled, **changes)
    if "lights" in redraw:  # the environment (and its sun) is lighting too: drawn last
        view_state = with_environment(view_state, spec.lights.environment,
                                      library.environments, visible=spec.background.environment,
                                      rng=rng)
    return finish_scene(scenario, library, view_state, rng=rng)


def sample_velocities(spec: InitialVelocitySpec, objects: tuple[SceneObject, ...], *,
                      rng: np.random.Generator) -> tuple[SceneObject, ...]:
    """Give each object its initial velocity: per object, ``linear_m_s`` then
    ``angular_deg_s`` (radians once parsed), each a (3,) draw (a scalar is used on every
    axis)."""
    out = []
    for obj in objects:
        linear = np.broadcast_to(np.asarray(spec.linear_m_s.sample(rng), dtype=float), (3,))
        angular = np.broadcast_to(np.asarray(spec.angular_rad_s.sample(rng), dtype=float), (3,))
        out.append(dataclasses.replace(obj, linear_velocity=tuple(float(c) for c in linear),
                                       angular_velocity=tuple(float(c) for c in angular)))
    return tuple(out)


def finish_scene(scenario: Scenario, library: SceneLibraries, state: SceneState, *,
                 rng: np.random.Generator, hooks: bool = True) -> SceneState:
    """The randomizers that need the settled scene: redraw the camera until enough objects are
    in view (``camera.min_visible_objects``), then place the floating distractors in front of
    it, then apply the scenario's ``after_physics`` hooks in order (unless ``hooks`` is False:
    a sequence applies them to each of its frames, see :mod:`synthscene.run.frames`).

    Parameters
    ----------
    scenario : Scenario
    library : SceneLibraries
    state : SceneState
        The settled frame from physics.
    rng : numpy.random.Generator
        The frame's generator, after :func:`sample_scene` and physics.

    Returns
    -------
    SceneState

    Raises
    ------
    PluginError
        If a plug-in camera sampler or hook fails.
    """
    spec = scenario.spec
    state = _place_floating(scenario, library, frame_the_objects(spec.camera, state, rng=rng),
                            rng=rng)
    return run_hooks(spec.hooks, state, "after_physics", rng=rng) if hooks else state


def _place_floating(scenario: Scenario, library: SceneLibraries, state: SceneState, *,
                    rng: np.random.Generator) -> SceneState:
    """Place the floating distractors in front of the camera (see :func:`finish_scene`)."""
    spec = scenario.spec
    n = state.pending_floating
    if n == 0:
        return state
    keys = _distractor_keys(library, n, rng)
    camera = state.camera
    first_id = max((o.instance_id for o in state.objects), default=0) + 1
    target_distance = _look_distance(state)
    floating = []
    K_inv = np.linalg.inv(camera.K)
    for i, key in enumerate(keys):
        scale = float(spec.distractors.size_m.sample(rng))
        u = rng.uniform(0.0, camera.width) - 0.5
        v = rng.uniform(0.0, camera.height) - 0.5
        depth = max(float(spec.distractors.floating_depth.sample(rng)) * target_distance,
                    camera.znear + scale)
        ray = K_inv @ np.array([u, v, 1.0])
        pose = np.eye(4)
        pose[:3, :3] = random_rotation(rng=rng)
        pose[:3, 3] = (camera.world_from_camera @ np.append(ray * depth, 1.0))[:3]
        floating.append(SceneObject(
            instance_id=first_id + i, asset_key=key, category="distractor", scale=scale,
            world_from_object=pose, material=sample_material(spec.distractors.material, rng=rng),
            labelled=False, physics="none",
        ))
    return dataclasses.replace(state, objects=state.objects + tuple(floating), pending_floating=0)


def _look_distance(state: SceneState) -> float:
    """Distance in metres from the camera to what it looks at: the median depth of the
    labelled objects' centres in front of it, else 1 m."""
    camera_from_world = np.linalg.inv(state.camera.world_from_camera)
    z = [float((camera_from_world @ np.append(o.world_from_object[:3, 3], 1.0))[2])
         for o in state.objects if o.labelled]
    z = [d for d in z if d > 0]
    return float(np.median(z)) if z else 1.0
