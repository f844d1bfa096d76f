"""Tests of physics settling against analytic resting poses (no GL, no asset files).

The library is a small fake: assets are point sets in the normalised frame (bounding box centred
on the origin, longest edge 1), so an object of ``scale`` s is s metres across.
"""

from __future__ import annotations

import dataclasses
import types

import numpy as np
import pybullet
import pytest
import trimesh

from synthscene.assets.collision import CollisionPrimitive
from synthscene.core.state import Camera, Ground, Material, SceneObject, SceneState
from synthscene.errors import AssetError
from synthscene.physics.settings import PhysicsSettings
from synthscene.physics.simulator import PhysicsSimulator
from tolerances import tol

POS_TOL = 2e-3  # m: resting heights (the collision margin is 1 mm)
ANGLE_TOL = np.deg2rad(2.0)  # rad: "face down"

_CORNERS = np.array([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)], float)
CUBE = 0.5 * _CORNERS
# Square pyramid: base z = -0.5, apex z = +0.5; centre of mass at z = -0.25 (not the origin).
PYRAMID = np.array([[x, y, -0.5] for x in (-0.5, 0.5) for y in (-0.5, 0.5)] + [[0.0, 0.0, 0.5]])
SPHERE = trimesh.creation.icosphere(subdivisions=3, radius=0.5).vertices
# Two half-cubes side by side: a 1 x 0.5 x 0.5 brick made of two hulls (a compound).
HALF = 0.25 * _CORNERS
PAIR = (HALF + [-0.25, 0.0, 0.0], HALF + [0.25, 0.0, 0.0])
# Three half-cubes in an L (a compound whose centre of mass is off its frame's origin).
L_SHAPE = (HALF + [-0.25, -0.25, 0.0], HALF + [0.25, -0.25, 0.0], HALF + [-0.25, 0.25, 0.0])
# A capsule of length 1 along z (radius 0.2, hemisphere centres 0.6 apart), and a 1 x 0.5 x 0.2
# slab whose box is rotated a quarter turn about z and lifted 0.3 in the object frame (as a URDF
# <origin> does): both collide as exact solids, their hulls give the mass properties.
ROD = trimesh.creation.capsule(height=0.6, radius=0.2, count=(16, 16)).vertices
_QUARTER_Z = np.array([[0.0, -1, 0, 0], [1, 0, 0, 0], [0, 0, 1, 0.3], [0, 0, 0, 1]])
SLAB = (0.5 * _CORNERS * [1.0, 0.5, 0.2]) @ _QUARTER_Z[:3, :3].T + _QUARTER_Z[:3, 3]
# Four coplanar points: a degenerate, flat hull.
FLAT = np.array([[-0.5, -0.5, 0.0], [0.5, -0.5, 0.0], [0.5, 0.5, 0.0], [-0.5, 0.5, 0.0]])

RED = Material(base_color=(0.8, 0.1, 0.1, 1.0))
BLUE = Material(base_color=(0.1, 0.1, 0.8, 1.0), metallic=0.5, roughness=0.2)


class FakeLibrary:
    """Stands in for ``AssetLibrary``: ``get(key)`` gives an object with ``collision_hulls``."""

    HULLS = {
        "cube": (CUBE,),
        "pyramid": (PYRAMID,),
        "sphere": (SPHERE,),
        "pair": PAIR,
        "ell": L_SHAPE,
        "flat": (FLAT,),
        "empty": (),
        "ball": (SPHERE,),
        "rod": (ROD,),
        "slab": (SLAB,),
    }
    SOLIDS = {
        "ball": CollisionPrimitive("sphere", np.eye(4), radius=0.5),
        "rod": CollisionPrimitive("capsule", np.eye(4), radius=0.2, length=0.6),
        "slab": CollisionPrimitive("box", _QUARTER_Z, half_extents=(0.5, 0.25, 0.1)),
    }

    def __init__(self) -> None:
        self.calls = 0

    def get(self, key: str) -> types.SimpleNamespace:
        self.calls += 1
        return types.SimpleNamespace(
            collision_hulls=self.HULLS[key], collision_primitive=self.SOLIDS.get(key)
        )


def rotation(axis, angle: float) -> np.ndarray:
    """(3, 3) rotation of ``angle`` radians about ``axis`` (Rodrigues)."""
    k = np.asarray(axis, float) / np.linalg.norm(axis)
    K = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return np.eye(3) + np.sin(angle) * K + (1 - np.cos(angle)) * K @ K


def make_object(instance_id, key, scale, xyz, rot=None, material=RED, category=None, labelled=True):
    T = np.eye(4)
    T[:3, :3] = np.eye(3) if rot is None else rot
    T[:3, 3] = xyz
    return SceneObject(
        instance_id=instance_id,
        asset_key=key,
        category=category or key,
        scale=scale,
        world_from_object=T,
        material=material,
        labelled=labelled,
    )


def make_state(objects, ground=True, drop_region=((-1.0, -1.0), (1.0, 1.0))) -> SceneState:
    K = np.array([[500.0, 0, 320], [0, 500.0, 240], [0, 0, 1]])
    camera = Camera(K=K, width=640, height=480, world_from_camera=np.eye(4))
    return SceneState(
        objects=tuple(objects),
        lights=(),
        camera=camera,
        ground=Ground(size=2.0, material=RED) if ground else None,
        drop_region=drop_region,
    )


def settle(state, **settings):
    with PhysicsSimulator(FakeLibrary(), PhysicsSettings(**settings)) as sim:
        return sim.settle(state)


def assert_face_down(R: np.ndarray, angle: float = ANGLE_TOL) -> None:
    """R is a rotation taking one of the object's axes to within ``angle`` of the world's z axis
    (for a box: a face is down; any yaw)."""
    assert np.allclose(R.T @ R, np.eye(3), atol=tol.float64) and np.linalg.det(R) > 0
    assert np.abs(R[2]).max() >= np.cos(angle), R


def world_points(obj: SceneObject) -> np.ndarray:
    """(n, 3) collision points of a settled object in the world, metres."""
    pts = np.vstack(FakeLibrary.HULLS[obj.asset_key]) * obj.scale
    T = obj.world_from_object
    return pts @ T[:3, :3].T + T[:3, 3]


# -- analytic resting poses -----------------------------------------------------------------------


def test_dropped_cube_rests_face_down_at_half_its_edge():
    tilt = rotation([1.0, 2.0, 0.5], 0.7)
    out = settle(make_state([make_object(1, "cube", 0.1, [0.05, -0.02, 0.3], tilt)]))
    (cube,) = out.objects
    T = cube.world_from_object
    assert T.shape == (4, 4) and T.dtype == np.float64
    assert np.array_equal(T[3], [0.0, 0.0, 0.0, 1.0])
    assert abs(T[2, 3] - 0.05) < POS_TOL
    assert_face_down(T[:3, :3])
    assert 0 < out.physics_steps <= PhysicsSettings().max_steps


@pytest.mark.parametrize("cone_friction", [False, True])
def test_both_friction_models_rest_a_tilted_cube_face_down_where_it_fell(cone_friction):
    tilt = rotation([1.0, 2.0, 0.5], 0.7)
    out = settle(make_state([make_object(1, "cube", 0.1, [0.05, -0.02, 0.3], tilt)]),
                 cone_friction=cone_friction)
    T = out.objects[0].world_from_object
    assert abs(T[2, 3] - 0.05) < POS_TOL
    assert_face_down(T[:3, :3])
    assert np.hypot(T[0, 3] - 0.05, T[1, 3] + 0.02) < 0.15  # tumbled, did not slide away


def test_dropped_sphere_rests_at_its_radius():
    out = settle(make_state([make_object(1, "sphere", 0.12, [0.0, 0.0, 0.25])]))
    assert abs(out.objects[0].world_from_object[2, 3] - 0.06) < POS_TOL


def test_sphere_solid_rests_at_its_radius():
    out = settle(make_state([make_object(1, "ball", 0.12, [0.0, 0.0, 0.25])]))
    assert abs(out.objects[0].world_from_object[2, 3] - 0.06) < 1e-3  # Bullet's contact slop


def test_capsule_solid_comes_to_rest_lying_on_its_side():
    tilt = rotation([1.0, 0.2, 0.0], 0.4)  # dropped nearly upright: it topples
    out = settle(make_state([make_object(1, "rod", 0.2, [0.0, 0.0, 0.2], tilt)]))
    (rod,) = out.objects
    assert out.physics_steps < PhysicsSettings().max_steps
    axis = rod.world_from_object[:3, 2]
    assert abs(axis[2]) < np.sin(ANGLE_TOL)  # its axis lies flat
    assert abs(rod.world_from_object[2, 3] - 0.2 * 0.2) < 1e-3  # the radius, 0.04 m


def test_box_solid_placed_in_its_object_frame():
    # The slab's box sits 0.3 * scale above the object frame: resting flat (its 0.2 edge
    # vertical), the frame is 0.03 + 0.02 below the box's centre, i.e. 0.02 - 0.03 = -0.01 m.
    yaw = rotation([0, 0, 1], 0.3)
    out = settle(make_state([make_object(1, "slab", 0.1, [0.0, 0.0, -0.02 + 0.001], yaw)]))
    (slab,) = out.objects
    T = slab.world_from_object
    assert abs(T[2, 3] - (0.01 - 0.03)) < 1e-3
    assert np.allclose(T[:3, :3], yaw, atol=np.sin(np.deg2rad(0.5)))
    assert abs(world_points(slab)[:, 2].min()) < 1e-3


def test_pose_is_the_object_frame_not_the_centre_of_mass():
    # The pyramid's centre of mass is 0.25 * scale below its frame; resting on its base, the
    # frame (bounding-box centre) is at scale / 2, and a yaw is kept.
    yaw = rotation([0, 0, 1], 0.4)
    obj = make_object(1, "pyramid", 0.2, [0.1, 0.2, 0.1 + 0.001], yaw)
    out = settle(make_state([obj]))
    T = out.objects[0].world_from_object
    assert np.allclose(T[:3, 3], [0.1, 0.2, 0.1], atol=POS_TOL)
    assert np.allclose(T[:3, :3], yaw, atol=np.sin(ANGLE_TOL))
    assert abs(world_points(out.objects[0])[:, 2].min()) < POS_TOL


def test_compound_of_two_hulls_rests_on_its_long_side():
    tilt = rotation([0.3, 1.0, 0.2], 0.5)
    out = settle(make_state([make_object(1, "pair", 0.2, [0.0, 0.0, 0.3], tilt)]))
    (brick,) = out.objects
    R = brick.world_from_object[:3, :3]
    assert_face_down(R)
    assert abs(R[2, 0]) < np.sin(ANGLE_TOL)  # the long (x) axis lies flat
    assert abs(brick.world_from_object[2, 3] - 0.05) < POS_TOL  # half of 0.5 * 0.2
    assert abs(world_points(brick)[:, 2].min()) < POS_TOL


def test_compound_pose_is_the_object_frame():
    # The L's centre of mass is (-1/12, -1/12) * scale off its frame; lying flat it stays put.
    yaw = rotation([0, 0, 1], -0.7)
    obj = make_object(1, "ell", 0.2, [-0.1, 0.3, 0.05], yaw)
    out = settle(make_state([obj]))
    T = out.objects[0].world_from_object
    assert np.allclose(T[:3, 3], [-0.1, 0.3, 0.05], atol=1e-3)
    assert np.allclose(T[:3, :3], yaw, atol=np.sin(np.deg2rad(0.5)))
    assert out.physics_steps <= 50


def test_object_already_at_rest_takes_few_steps_and_stays_put():
    s = PhysicsSettings()
    yaw = rotation([0, 0, 1], 1.0)
    obj = make_object(1, "cube", 0.1, [0.2, 0.1, 0.05], yaw)
    out = settle(make_state([obj]))
    assert 0 < out.physics_steps <= 2 * s.rest_checks * s.check_every
    T = out.objects[0].world_from_object
    assert np.allclose(T[:3, 3], obj.world_from_object[:3, 3], atol=1e-3)
    assert np.allclose(T[:3, :3], yaw, atol=np.sin(np.deg2rad(0.5)))


def test_step_limit_is_respected():
    obj = make_object(1, "cube", 0.1, [0.0, 0.0, 0.5], rotation([1, 1, 0], 0.3))
    out = settle(make_state([obj]), max_steps=12)
    assert out.physics_steps == 12


def test_stacked_objects_do_not_interpenetrate():
    base = make_object(1, "cube", 0.12, [0.0, 0.0, 0.061])
    top = make_object(2, "cube", 0.06, [0.01, -0.01, 0.25], rotation([1, 0, 1], 0.3))
    ball = make_object(3, "sphere", 0.08, [0.3, 0.0, 0.061])
    on_ball = make_object(4, "cube", 0.05, [0.31, 0.0, 0.3])  # falls off the ball
    out = settle(make_state([base, top, ball, on_ball]))
    by_id = {o.instance_id: o for o in out.objects}
    assert len(by_id) == 4
    p = {i: o.world_from_object[:3, 3] for i, o in by_id.items()}
    # The small cube rests on the big one, face down, centres 0.06 + 0.03 apart vertically.
    assert abs(p[1][2] - 0.06) < POS_TOL
    assert abs(p[2][2] - (0.12 + 0.03)) < POS_TOL
    assert_face_down(by_id[2].world_from_object[:3, :3])
    # The cube dropped on the ball ends beside it, not inside it (a sphere of radius 0.04 and
    # a cube of half edge 0.025: centres at least 0.04 + 0.025 apart).
    assert np.linalg.norm(p[4] - p[3]) >= 0.04 + 0.025 - POS_TOL
    assert abs(p[4][2] - 0.025) < POS_TOL
    for o in out.objects:
        assert world_points(o)[:, 2].min() > -POS_TOL


def test_twenty_random_objects_rest_plausibly():
    rng = np.random.Generator(np.random.PCG64(7))
    objects, placed = [], []
    for i in range(20):
        key = ("cube", "sphere", "pyramid", "pair")[i % 4]
        scale = float(rng.uniform(0.05, 0.2))
        radius = scale * np.linalg.norm(np.vstack(FakeLibrary.HULLS[key]), axis=1).max()
        while True:
            c = np.array([*rng.uniform(-0.4, 0.4, 2), rng.uniform(0.0, 0.3) + radius + 0.01])
            if all(np.linalg.norm(c - c2) > radius + r2 for c2, r2 in placed):
                break
        placed.append((c, radius))
        objects.append(make_object(i + 1, key, scale, c, random_rotation(rng)))
    settings = PhysicsSettings()
    with PhysicsSimulator(FakeLibrary(), settings) as sim:
        out = sim.settle(make_state(objects))
        cid = sim.client_id
        assert out.physics_steps < settings.max_steps  # came to rest
        assert len(out.objects) == 20
        for o in out.objects:
            # Bodies were created in order after the ground plane (body 0).
            body = o.instance_id
            assert world_points(o)[:, 2].min() > -POS_TOL  # not in the ground
            v, w = pybullet.getBaseVelocity(body, physicsClientId=cid)
            assert np.linalg.norm(v) < settings.linear_rest_speed
            assert np.linalg.norm(w) < settings.angular_rest_speed
            # Not hovering: touching the ground or another object.
            nearest = min(
                c[8]
                for other in range(21)
                if other != body
                for c in pybullet.getClosestPoints(body, other, 0.05, physicsClientId=cid)
            )
            assert nearest < 0.003
            # Not interpenetrating by more than a few millimetres.
            assert nearest > -0.006


# -- bookkeeping ----------------------------------------------------------------------------------


def test_objects_outside_the_drop_region_are_removed_others_keep_their_fields():
    inside_a = make_object(3, "cube", 0.1, [0.0, 0.0, 0.2], category="box", material=BLUE)
    outside = make_object(5, "sphere", 0.1, [0.8, 0.0, 0.2])
    inside_b = make_object(9, "sphere", 0.08, [-0.3, 0.2, 0.2], labelled=False)
    state = make_state([inside_a, outside, inside_b], drop_region=((-0.5, -0.5), (0.5, 0.5)))
    out = settle(state)
    assert [o.instance_id for o in out.objects] == [3, 9]
    for before, after in zip((inside_a, inside_b), out.objects):
        for field in ("instance_id", "asset_key", "category", "scale", "material", "labelled"):
            assert getattr(after, field) == getattr(before, field)
    assert out.objects[0].category == "box" and out.objects[0].material == BLUE
    assert out.objects[1].labelled is False
    # Everything else about the frame is kept.
    assert out.camera is state.camera and out.lights is state.lights
    assert out.ground == state.ground and out.drop_region == state.drop_region
    # The input state is not modified.
    assert state.objects[0].world_from_object[2, 3] == 0.2


def test_objects_beyond_the_ground_or_without_ground_are_removed():
    beyond = make_object(1, "cube", 0.1, [1.5, 0.0, 0.1])  # the ground is 2 m square
    on = make_object(2, "cube", 0.1, [0.5, 0.0, 0.1])
    out = settle(make_state([beyond, on], drop_region=None))
    assert [o.instance_id for o in out.objects] == [2]
    out = settle(make_state([on], ground=False))
    assert out.objects == () and 0 < out.physics_steps < PhysicsSettings().max_steps


def test_empty_scene():
    out = settle(make_state([]))
    assert out.objects == () and out.physics_steps > 0


def test_disabled_physics_returns_the_state_unchanged():
    obj = make_object(1, "cube", 0.1, [0.0, 0.0, 0.5], rotation([1, 0, 0], 0.3))
    state = make_state([obj], drop_region=((-0.1, -0.1), (0.1, 0.1)))
    sim = PhysicsSimulator(FakeLibrary(), PhysicsSettings(enabled=False))
    out = sim.settle(state)  # needs no pybullet client
    assert out is state and out.physics_steps == 0
    assert np.array_equal(out.objects[0].world_from_object, obj.world_from_object)
    with sim:
        stepped = dataclasses.replace(state, physics_steps=7)
        out = sim.settle(stepped)
    assert out.physics_steps == 0 and out.objects == stepped.objects


# -- determinism, lifetime, memory ----------------------------------------------------------------


def random_rotation(rng: np.random.Generator) -> np.ndarray:
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    return q * np.sign(np.linalg.det(q))


def test_same_state_gives_identical_poses_in_one_and_in_two_simulators():
    rng = np.random.Generator(np.random.PCG64(3))
    objects = [
        make_object(i + 1, key, 0.1, [0.12 * i - 0.3, 0.02 * i, 0.1 + 0.05 * i], rot)
        for i, (key, rot) in enumerate(
            (key, random_rotation(rng)) for key in ("cube", "pair", "sphere") * 2
        )
    ]
    state = make_state(objects)
    library = FakeLibrary()
    with PhysicsSimulator(library, PhysicsSettings()) as sim:
        first = sim.settle(state)
        sim.settle(make_state([make_object(1, "sphere", 0.2, [0.0, 0.0, 0.3])]))  # in between
        second = sim.settle(state)
    with PhysicsSimulator(library, PhysicsSettings()) as other:
        third = other.settle(state)
    assert first.physics_steps == second.physics_steps == third.physics_steps
    for a, b, c in zip(first.objects, second.objects, third.objects):
        assert np.array_equal(a.world_from_object, b.world_from_object)
        assert np.array_equal(a.world_from_object, c.world_from_object)


def test_client_is_disconnected_after_the_with_block():
    sim = PhysicsSimulator(FakeLibrary(), PhysicsSettings())
    assert sim.client_id is None
    with sim as entered:
        assert entered is sim
        cid = sim.client_id
        assert pybullet.isConnected(physicsClientId=cid)
    assert not pybullet.isConnected(physicsClientId=cid)
    assert sim.client_id is None
    sim.__exit__(None, None, None)  # idempotent
    sim.close()
    with pytest.raises(RuntimeError):
        sim.settle(make_state([make_object(1, "cube", 0.1, [0, 0, 0.2])]))


def test_client_is_disconnected_when_the_block_raises():
    sim = PhysicsSimulator(FakeLibrary(), PhysicsSettings())
    with pytest.raises(AssetError, match="empty"):
        with sim:
            cid = sim.client_id
            sim.settle(make_state([make_object(1, "empty", 0.1, [0, 0, 0.2])]))
    assert not pybullet.isConnected(physicsClientId=cid)


def test_many_frames_leave_no_bodies_behind():
    library = FakeLibrary()
    with PhysicsSimulator(library, PhysicsSettings()) as sim:
        cid = sim.client_id
        for frame in range(200):
            n = frame % 4
            objects = [
                make_object(i + 1, ("cube", "pair")[i % 2], 0.1, [0.3 * i, 0.0, 0.051])
                for i in range(n)
            ]
            ground = frame % 5 != 0
            out = sim.settle(make_state(objects, ground=ground))
            assert pybullet.getNumBodies(physicsClientId=cid) == n + int(ground)
            assert len(out.objects) == (n if ground else 0)
    assert library.calls == 2  # hull mass properties are computed once per asset


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise OSError("no VmRSS")


def test_memory_stays_flat_over_many_frames():
    try:
        _rss_mb()
    except OSError:
        pytest.skip("needs /proc/self/status")
    rng = np.random.Generator(np.random.PCG64(11))
    library = FakeLibrary()

    def frame() -> SceneState:
        objects = [
            make_object(
                i + 1,
                ("sphere", "ell", "cube")[i % 3],
                float(rng.uniform(0.05, 0.2)),
                [0.25 * (i % 4) - 0.4, 0.25 * (i // 4) - 0.3, 0.12],
                random_rotation(rng),
            )
            for i in range(10)
        ]
        return make_state(objects)

    with PhysicsSimulator(library, PhysicsSettings(max_steps=30)) as sim:
        for _ in range(30):  # warm up: files for every asset and size range
            sim.settle(frame())
        before = _rss_mb()
        for _ in range(200):
            sim.settle(frame())
        growth = _rss_mb() - before
        folder = sim._folder
        assert folder is not None and folder.is_dir()
    # Shapes made from vertex lists would leak about 60 kB per sphere here: ~40 MB.
    assert growth < 8.0, f"resident memory grew by {growth:.1f} MB over 200 frames"
    assert not folder.exists()  # the simulator's files are deleted on exit


# -- inputs ---------------------------------------------------------------------------------------


def test_flat_hull_is_given_a_thickness():
    out = settle(make_state([make_object(1, "flat", 0.1, [0.0, 0.0, 0.2])]))
    assert 0.0 <= out.objects[0].world_from_object[2, 3] < 3e-3


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match="timestep"):
        PhysicsSettings(timestep=0.0)
    with pytest.raises(ValueError, match="max_mass_ratio"):
        PhysicsSettings(max_mass_ratio=0.5)
    with pytest.raises(ValueError, match="scale"):
        settle(make_state([make_object(1, "cube", 0.0, [0, 0, 0.2])]))
    with pytest.raises(AssetError, match="'empty'"):
        settle(make_state([make_object(1, "empty", 0.1, [0, 0, 0.2])]))
    with PhysicsSimulator(FakeLibrary(), PhysicsSettings()) as sim:
        with pytest.raises(RuntimeError):
            sim.__enter__()


def test_merge_hulls_caps_the_count_and_merges_neighbours_first():
    from scipy.spatial import Delaunay

    from synthscene.assets.collision import merge_hulls

    cube = np.array([[x, y, z] for x in (0, 1) for y in (0, 1) for z in (0, 1)], dtype=float)
    # Two clusters far apart, two unit cubes each, touching within a cluster.
    pieces = [cube, cube + [1, 0, 0], cube + [10, 0, 0], cube + [11, 0, 0]]
    merged = merge_hulls(pieces, 2)
    assert len(merged) == 2
    spans = sorted((p[:, 0].min(), p[:, 0].max()) for p in merged)
    assert spans == [(0.0, 2.0), (10.0, 12.0)]
    # Every input point stays inside the merged shape.
    for piece in pieces:
        inside = np.zeros(len(piece), dtype=bool)
        for m in merged:
            inside |= Delaunay(m).find_simplex(piece, tol=1e-9) >= 0
        assert inside.all()
    unchanged = merge_hulls(pieces, 4)
    assert len(unchanged) == 4
    assert all(np.array_equal(a, b) for a, b in zip(unchanged, pieces))


def test_an_asset_with_many_hulls_settles_with_at_most_max_hulls():
    from synthscene.physics.settings import PhysicsSettings

    assert PhysicsSettings().max_hulls == 6
    with pytest.raises(ValueError, match="max_hulls"):
        PhysicsSettings(max_hulls=0)


def test_the_simulator_keeps_no_parsed_shape_file_in_pybullets_cache(tmp_path):
    """pybullet caches every OBJ file it parses, for the whole process, by file name, while its
    file caching is on; a library of thousands of assets (a shape file per asset and size
    range) grew a worker's memory with it. With the simulator open, a file rewritten under the
    same name is parsed anew: nothing is kept."""
    from synthscene.physics.bodies import write_hulls_obj
    from synthscene.physics.simulator import pb

    path = tmp_path / "hull.obj"

    def extent(cid: int, half: float) -> float:
        write_hulls_obj(path, [CUBE * (2 * half)])
        shape = pb.createCollisionShape(pb.GEOM_MESH, fileName=str(path),
                                        physicsClientId=cid)
        body = pb.createMultiBody(0.0, shape, physicsClientId=cid)
        lo, hi = pb.getAABB(body, physicsClientId=cid)
        return hi[0] - lo[0]

    with PhysicsSimulator(FakeLibrary(), PhysicsSettings()) as sim:
        small = extent(sim.client_id, 0.5)
        large = extent(sim.client_id, 2.0)
    assert large > 3 * small
