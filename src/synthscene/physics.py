"""Rigid-body physics: drop the sampled objects and let them come to rest (pybullet).

This is the only module that imports pybullet. :class:`PhysicsSimulator` is a context manager
that owns one pybullet ``DIRECT`` client; every pybullet call passes its ``physicsClientId``.
:meth:`PhysicsSimulator.settle` takes a :class:`~synthscene.state.SceneState`, simulates it until
every object is at rest (or a step limit is hit) and returns a new state with the settled poses.

Each frame starts from ``resetSimulation``, so memory stays flat over thousands of frames and the
result depends on the frame's state only: the same state always gives bit-identical poses, in
one simulator or in another.

Conventions (see DESIGN.md): SI units (metres, seconds, kilograms); poses are 4x4 float64
``a_from_b`` matrices; quaternions appear only here, at the pybullet boundary, as ``quat_xyzw``.
The world is z-up with the ground at z = 0.

Model
-----
* **Ground**: a static plane at z = 0 when ``state.ground`` is not None. Objects whose settled
  centre lies beyond the ground's square (``|x|`` or ``|y|`` > ``size / 2``) are removed, as if
  they had fallen off its edge.
* **Objects**: an object's collision geometry is its asset's ``collision_hulls`` (convex point
  sets in the asset's normalised frame) times ``SceneObject.scale``. One hull gives a single
  rigid body; several hulls give a multibody whose base carries the first hull and whose fixed
  links carry the others, every link frame at the object frame. Mass is ``density * volume``
  per hull; each link's inertial frame is its hull's exact centre of mass and principal axes
  (pybullet would otherwise use a bounding-box estimate). pybullet reports the base's inertial
  frame, which is converted back to the object frame.
* **Rest**: every ``check_every`` steps the speeds of all bodies are read. A body below both rest
  speeds at two consecutive checks is put to sleep (Bullet skips it until an awake body touches
  it and wakes it), which makes resting bodies nearly free. The frame is settled when all bodies
  are below the rest speeds at ``rest_checks`` consecutive checks, or after ``max_steps``.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import pybullet as pb
import trimesh

from synthscene.errors import AssetError

if TYPE_CHECKING:
    from synthscene.state import SceneObject, SceneState

__all__ = ["PhysicsSettings", "PhysicsSimulator", "FALLEN_Z", "MIN_MASS"]

_LOG = logging.getLogger(__name__)

#: Objects whose settled centre is below this height (metres) fell off the ground: removed.
FALLEN_Z = -0.05
#: Minimum mass of an object in kilograms.
MIN_MASS = 1e-3
#: A body at rest at this many consecutive checks is put to sleep until something touches it.
_SLEEP_AFTER_CHECKS = 2
#: Thickness (normalised units) given to a flat or degenerate hull along its thin axes.
_MIN_HULL_EXTENT = 1e-3


@dataclass(frozen=True)
class PhysicsSettings:
    """Parameters of the physics simulation.

    The defaults are tuned for 5-20 cm objects dropped from up to 0.3 m: about 20 ms per frame
    of 20 objects on one CPU core, with interpenetrations of a millimetre or two.

    Attributes
    ----------
    timestep : float
        Simulation step in seconds. 1/120 s is twice as fast as pybullet's usual 1/240 s, for
        slightly deeper transient contacts; 1/60 s is too coarse for small objects.
    max_steps : int
        Hard limit on the number of steps simulated per frame.
    gravity : float
        Gravitational acceleration in m/s^2, along -z.
    linear_rest_speed : float
        m/s: an object is at rest while its linear speed is below this ...
    angular_rest_speed : float
        rad/s: ... and its angular speed below this ...
    rest_checks : int
        ... for this many consecutive rest checks (all objects at once).
    check_every : int
        Steps between two rest checks.
    lateral_friction : float
        Coulomb friction coefficient of objects and ground (pybullet multiplies the two).
    restitution : float
        Coefficient of restitution of objects and ground, in [0, 1].
    density : float
        kg/m^3; an object's mass is ``density * volume of its hulls``, at least 1 g (and see
        ``max_mass_ratio``).
    enabled : bool
        False: :meth:`PhysicsSimulator.settle` leaves the poses as sampled ("flying objects").
    solver_iterations : int
        Iterations of pybullet's constraint solver per step (pybullet's default is 50; the cost
        of a step grows with it).
    rolling_friction : float
        Dimensionless rolling resistance: an object's pybullet ``rollingFriction`` (a length) is
        this times its ``scale``, so objects of every size roll to rest alike. Without it, round
        objects roll for seconds. A ball can rest on a slope of up to about
        ``atan(2 * rolling_friction * lateral_friction)`` (7 degrees by default).
    spinning_friction : float
        Dimensionless spinning friction (about the contact normal); pybullet's
        ``spinningFriction`` is this times the ``scale``. Without it, objects spin for seconds.
    linear_damping, angular_damping : float
        pybullet's velocity damping, per second, in [0, 1].
    max_mass_ratio : float
        Objects lighter than the frame's heaviest object divided by this are made that heavy
        (their density raised). An iterative contact solver cannot hold a heavy object on one a
        hundred times lighter: the light one is pressed into the ground. Resting poses hardly
        depend on the masses.
    collision_margin : float
        Collision margin of the objects' convex hulls, metres. Bullet inflates a hull by its
        margin, so objects rest this far above the ground and apart: keep it small.
    """

    timestep: float = 1 / 120
    max_steps: int = 1500
    gravity: float = 9.81
    linear_rest_speed: float = 0.01
    angular_rest_speed: float = 0.1
    rest_checks: int = 5
    check_every: int = 5
    lateral_friction: float = 0.6
    restitution: float = 0.0
    density: float = 500.0
    enabled: bool = True
    solver_iterations: int = 10
    rolling_friction: float = 0.1
    spinning_friction: float = 0.1
    linear_damping: float = 0.04
    angular_damping: float = 0.04
    max_mass_ratio: float = 2.0
    collision_margin: float = 1e-3

    def __post_init__(self) -> None:
        positive = {
            "timestep": self.timestep,
            "max_steps": self.max_steps,
            "rest_checks": self.rest_checks,
            "check_every": self.check_every,
            "density": self.density,
            "solver_iterations": self.solver_iterations,
        }
        for name, value in positive.items():
            if not value > 0:
                raise ValueError(f"PhysicsSettings.{name} must be > 0, got {value!r}")
        non_negative = {
            "gravity": self.gravity,
            "linear_rest_speed": self.linear_rest_speed,
            "angular_rest_speed": self.angular_rest_speed,
            "lateral_friction": self.lateral_friction,
            "restitution": self.restitution,
            "rolling_friction": self.rolling_friction,
            "spinning_friction": self.spinning_friction,
            "linear_damping": self.linear_damping,
            "angular_damping": self.angular_damping,
            "collision_margin": self.collision_margin,
        }
        for name, value in non_negative.items():
            if not value >= 0:
                raise ValueError(f"PhysicsSettings.{name} must be >= 0, got {value!r}")
        if not self.max_mass_ratio >= 1:
            raise ValueError(
                f"PhysicsSettings.max_mass_ratio must be >= 1, got {self.max_mass_ratio!r}"
            )


class _HasHulls(Protocol):
    collision_hulls: tuple[np.ndarray, ...]


class _Library(Protocol):
    def get(self, key: str) -> _HasHulls: ...


@dataclass(frozen=True)
class _Hull:
    """One convex hull in the asset's normalised frame (scale 1, density 1).

    Attributes
    ----------
    vertices : list of [float, float, float]
        The hull's extreme points, as the lists pybullet parses fastest.
    volume : float
        Volume in normalised units^3.
    center : (3,) float64
        Centre of mass.
    quat_xyzw : (4,) float64
        Rotation ``object_from_principal`` of the principal axes of inertia.
    inertia : (3,) float64
        Principal moments of inertia about ``center`` for unit density.
    """

    vertices: list[list[float]]
    volume: float
    center: np.ndarray
    quat_xyzw: np.ndarray
    inertia: np.ndarray


def _quat_xyzw_from_matrix(rotation: np.ndarray) -> np.ndarray:
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


def _matrix_from_quat_xyzw(quat_xyzw: Sequence[float]) -> np.ndarray:
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


def _box_hull(points: np.ndarray) -> _Hull:
    """Mass properties of the principal-axes bounding box of a flat or degenerate point set."""
    center = points.mean(axis=0)
    if len(points) >= 2:
        axes = np.linalg.svd(points - center, full_matrices=True)[2].T
    else:
        axes = np.eye(3)
    if np.linalg.det(axes) < 0:
        axes[:, 2] = -axes[:, 2]
    local = (points - center) @ axes
    lo, hi = local.min(axis=0), local.max(axis=0)
    extent = np.maximum(hi - lo, _MIN_HULL_EXTENT)
    center = center + axes @ ((lo + hi) / 2)
    volume = float(np.prod(extent))
    a2 = extent**2
    inertia = volume / 12.0 * np.array([a2[1] + a2[2], a2[0] + a2[2], a2[0] + a2[1]])
    signs = np.array([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)], float)
    corners = center + (signs * extent / 2) @ axes.T
    return _Hull(corners.tolist(), volume, center, _quat_xyzw_from_matrix(axes), inertia)


def _hull_properties(points: np.ndarray) -> _Hull:
    """Convex hull, volume, centre of mass and principal inertia of a point set.

    Parameters
    ----------
    points : (n, 3) float64
        Points in the asset's normalised frame.

    Raises
    ------
    AssetError
        If the point set is empty or not finite.
    """
    points = np.asarray(points, dtype=np.float64).reshape(-1, 3)
    if len(points) == 0 or not np.all(np.isfinite(points)):
        raise AssetError("a collision hull is empty or holds non-finite points")
    if len(points) < 4:
        return _box_hull(points)
    try:
        mesh = trimesh.convex.convex_hull(points)
        volume = float(mesh.volume)
    except Exception:  # qhull fails on coplanar or collinear points
        return _box_hull(points)
    size = float(np.max(points.max(axis=0) - points.min(axis=0)))
    if not volume > _MIN_HULL_EXTENT * size**2:  # (nearly) flat
        return _box_hull(points)
    tensor = np.asarray(mesh.moment_inertia, dtype=np.float64) / float(mesh.density)
    moments, axes = np.linalg.eigh((tensor + tensor.T) / 2)
    if np.linalg.det(axes) < 0:
        axes[:, 2] = -axes[:, 2]
    return _Hull(
        vertices=np.asarray(mesh.vertices, dtype=np.float64).tolist(),
        volume=volume,
        center=np.asarray(mesh.center_mass, dtype=np.float64),
        quat_xyzw=_quat_xyzw_from_matrix(axes),
        inertia=np.maximum(moments, 0.0),
    )


def _pose(position: Sequence[float], quat_xyzw: Sequence[float]) -> np.ndarray:
    """(4, 4) float64 pose from a position (3,) and a quaternion ``(x, y, z, w)``."""
    pose = np.eye(4)
    pose[:3, :3] = _matrix_from_quat_xyzw(quat_xyzw)
    pose[:3, 3] = position
    return pose


class PhysicsSimulator:
    """Context manager owning ONE pybullet DIRECT client; settles scenes frame by frame.

    Parameters
    ----------
    library : AssetLibrary
        Anything whose ``get(key)`` returns an object with ``collision_hulls``: a tuple of
        (n, 3) float64 convex point sets in the asset's normalised frame. The hulls' mass
        properties are computed once per asset key and kept for the simulator's lifetime.
    settings : PhysicsSettings

    Examples
    --------
    >>> with PhysicsSimulator(library, PhysicsSettings()) as sim:  # doctest: +SKIP
    ...     settled = sim.settle(state)
    """

    def __init__(self, library: Any, settings: PhysicsSettings) -> None:
        self._library: _Library = library
        self._settings = settings
        self._client: int | None = None
        self._hulls: dict[str, tuple[_Hull, ...]] = {}

    # -- lifetime ---------------------------------------------------------------------------------

    def __enter__(self) -> PhysicsSimulator:
        if self._client is not None:
            raise RuntimeError("PhysicsSimulator is already open")
        client = pb.connect(pb.DIRECT)
        if client < 0:
            raise RuntimeError("pybullet could not open a DIRECT client")
        self._client = client
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Disconnect the pybullet client; calling it again does nothing."""
        client, self._client = self._client, None
        if client is not None and pb.isConnected(physicsClientId=client):
            pb.disconnect(physicsClientId=client)

    @property
    def settings(self) -> PhysicsSettings:
        """The simulation settings."""
        return self._settings

    @property
    def client_id(self) -> int | None:
        """The pybullet ``physicsClientId`` while open, else None."""
        return self._client

    # -- settling ---------------------------------------------------------------------------------

    def settle(self, state: SceneState) -> SceneState:
        """Drop the objects of ``state`` and return the state with their poses at rest.

        Parameters
        ----------
        state : SceneState
            The sampled frame. Each object starts at rest at its ``world_from_object``.

        Returns
        -------
        SceneState
            ``state`` with ``objects`` replaced by the settled objects (same ``instance_id``,
            order and every other field; new ``world_from_object``, (4, 4) float64 with an
            orthonormal rotation) and ``physics_steps`` set to the number of steps simulated.
            Objects whose settled centre lies outside ``state.drop_region`` (in x, y), beyond
            the ground's square, or below z = -0.05 m are removed. With ``settings.enabled``
            False, ``state`` itself is returned (``physics_steps`` 0).

        Raises
        ------
        RuntimeError
            If called outside the ``with`` block.
        AssetError
            If an asset has no collision hull or a hull holds no finite point.
        ValueError
            If an object's ``scale`` is not positive or its pose is not a finite (4, 4) array.
        """
        settings = self._settings
        if not settings.enabled:
            if state.physics_steps == 0:
                return state
            return dataclasses.replace(state, physics_steps=0)
        if self._client is None:
            raise RuntimeError("PhysicsSimulator.settle must be called inside its `with` block")
        cid = self._client

        self._reset_world(state)
        volumes = [self._volume(obj) for obj in state.objects]
        masses = [max(settings.density * v, MIN_MASS) for v in volumes]
        min_mass = max(masses, default=0.0) / settings.max_mass_ratio
        bodies = [
            self._add_object(obj, max(mass, min_mass) / volume)
            for obj, mass, volume in zip(state.objects, masses, volumes)
        ]
        steps = self._step_until_rest([body for body, _ in bodies])

        new_objects: list[SceneObject] = []
        for obj, (body, inertial_from_object) in zip(state.objects, bodies):
            position, quat_xyzw = pb.getBasePositionAndOrientation(body, physicsClientId=cid)
            world_from_object = _pose(position, quat_xyzw) @ inertial_from_object
            world_from_object[3] = (0.0, 0.0, 0.0, 1.0)
            if self._kept(world_from_object[:3, 3], state):
                new_objects.append(dataclasses.replace(obj, world_from_object=world_from_object))
        return dataclasses.replace(state, objects=tuple(new_objects), physics_steps=steps)

    @staticmethod
    def _kept(center: np.ndarray, state: SceneState) -> bool:
        """Whether a settled object centre (3,) in metres stays in the frame."""
        if not np.all(np.isfinite(center)) or center[2] < FALLEN_Z:
            return False
        x, y = float(center[0]), float(center[1])
        if state.ground is not None and max(abs(x), abs(y)) > state.ground.size / 2:
            return False
        if state.drop_region is None:
            return True
        (x_min, y_min), (x_max, y_max) = state.drop_region
        return x_min <= x <= x_max and y_min <= y <= y_max

    def _reset_world(self, state: SceneState) -> None:
        """Empty the world, set the engine's parameters and add the ground plane at z = 0."""
        cid = self._client
        s = self._settings
        pb.resetSimulation(physicsClientId=cid)
        pb.setPhysicsEngineParameter(
            fixedTimeStep=s.timestep,
            numSubSteps=0,
            numSolverIterations=s.solver_iterations,
            deterministicOverlappingPairs=1,
            physicsClientId=cid,
        )
        pb.setGravity(0.0, 0.0, -s.gravity, physicsClientId=cid)
        if state.ground is None:
            return
        shape = pb.createCollisionShape(pb.GEOM_PLANE, physicsClientId=cid)
        ground = pb.createMultiBody(
            baseMass=0.0, baseCollisionShapeIndex=shape, physicsClientId=cid
        )
        pb.changeDynamics(
            ground,
            -1,
            lateralFriction=s.lateral_friction,
            restitution=s.restitution,
            physicsClientId=cid,
        )

    def _asset_hulls(self, key: str) -> tuple[_Hull, ...]:
        """Mass properties of an asset's hulls, computed once per asset."""
        hulls = self._hulls.get(key)
        if hulls is None:
            raw = self._library.get(key).collision_hulls
            if len(raw) == 0:
                raise AssetError(f"asset {key!r} has no collision hull")
            try:
                hulls = tuple(_hull_properties(points) for points in raw)
            except AssetError as error:
                raise AssetError(f"asset {key!r}: {error}") from error
            self._hulls[key] = hulls
        return hulls

    def _volume(self, obj: SceneObject) -> float:
        """Volume of an object's collision hulls in m^3."""
        scale = float(obj.scale)
        if not (np.isfinite(scale) and scale > 0):
            raise ValueError(f"object {obj.instance_id}: scale must be > 0, got {scale!r}")
        return sum(h.volume for h in self._asset_hulls(obj.asset_key)) * scale**3

    def _add_object(self, obj: SceneObject, density: float) -> tuple[int, np.ndarray]:
        """Create the dynamic body of ``obj`` at its pose.

        Parameters
        ----------
        obj : SceneObject
        density : float
            Density of the object in kg/m^3.

        Returns
        -------
        body : int
            pybullet body unique id.
        inertial_from_object : (4, 4) float64
            Pose of the object frame in the base's inertial frame, whose pose pybullet reports.
        """
        cid = self._client
        s = self._settings
        hulls = self._asset_hulls(obj.asset_key)
        scale = float(obj.scale)
        pose = np.asarray(obj.world_from_object, dtype=np.float64)
        if pose.shape != (4, 4) or not np.all(np.isfinite(pose)):
            raise ValueError(
                f"object {obj.instance_id}: world_from_object must be a finite (4, 4) array"
            )
        # pybullet parses Python lists about twice as fast as numpy arrays.
        mesh_scale = [scale, scale, scale]
        shapes = [
            pb.createCollisionShape(
                pb.GEOM_MESH, vertices=h.vertices, meshScale=mesh_scale, physicsClientId=cid
            )
            for h in hulls
        ]
        masses = [density * scale**3 * h.volume for h in hulls]
        base, links = hulls[0], hulls[1:]
        link_args: dict[str, Any] = {}
        if links:
            n = len(links)
            link_args = dict(
                linkMasses=masses[1:],
                linkCollisionShapeIndices=shapes[1:],
                linkVisualShapeIndices=[-1] * n,
                linkPositions=[[0.0, 0.0, 0.0]] * n,
                linkOrientations=[[0.0, 0.0, 0.0, 1.0]] * n,
                linkInertialFramePositions=[(h.center * scale).tolist() for h in links],
                linkInertialFrameOrientations=[h.quat_xyzw.tolist() for h in links],
                linkParentIndices=[0] * n,
                linkJointTypes=[pb.JOINT_FIXED] * n,
                linkJointAxis=[[0.0, 0.0, 1.0]] * n,
            )
        body = pb.createMultiBody(
            baseMass=masses[0],
            baseCollisionShapeIndex=shapes[0],
            basePosition=pose[:3, 3].tolist(),
            baseOrientation=_quat_xyzw_from_matrix(pose[:3, :3]).tolist(),
            baseInertialFramePosition=(base.center * scale).tolist(),
            baseInertialFrameOrientation=base.quat_xyzw.tolist(),
            # One hull: a plain rigid body (faster); several: a multibody with fixed links.
            useMaximalCoordinates=not links,
            physicsClientId=cid,
            **link_args,
        )
        for link, (hull, mass) in enumerate(zip(hulls, masses), start=-1):
            # pybullet zeroes the mass of a rigid (maximal coordinates) body whose inertia is
            # changed without its mass: always pass both.
            pb.changeDynamics(
                body,
                link,
                mass=mass,
                localInertiaDiagonal=(hull.inertia * (density * scale**5)).tolist(),
                lateralFriction=s.lateral_friction,
                restitution=s.restitution,
                rollingFriction=s.rolling_friction * scale,
                spinningFriction=s.spinning_friction * scale,
                linearDamping=s.linear_damping,
                angularDamping=s.angular_damping,
                collisionMargin=s.collision_margin,
                activationState=pb.ACTIVATION_STATE_ENABLE_SLEEPING,
                physicsClientId=cid,
            )
        object_from_inertial = _pose(base.center * scale, base.quat_xyzw)
        inertial_from_object = np.eye(4)
        inertial_from_object[:3, :3] = object_from_inertial[:3, :3].T
        inertial_from_object[:3, 3] = -object_from_inertial[:3, :3].T @ object_from_inertial[:3, 3]
        return body, inertial_from_object

    def _step_until_rest(self, bodies: list[int]) -> int:
        """Step until every body is at rest (or fell off) or ``max_steps``; return the steps."""
        cid = self._client
        s = self._settings
        lin2 = s.linear_rest_speed**2
        ang2 = s.angular_rest_speed**2
        calm_checks = dict.fromkeys(bodies, 0)
        steps = 0
        calm_in_a_row = 0
        while steps < s.max_steps:
            for _ in range(min(s.check_every, s.max_steps - steps)):
                pb.stepSimulation(physicsClientId=cid)
                steps += 1
            all_calm = True
            for body in bodies:
                (vx, vy, vz), (wx, wy, wz) = pb.getBaseVelocity(body, physicsClientId=cid)
                if vx * vx + vy * vy + vz * vz < lin2 and wx * wx + wy * wy + wz * wz < ang2:
                    calm_checks[body] += 1
                    if calm_checks[body] >= _SLEEP_AFTER_CHECKS:
                        # Bullet wakes it again if an awake body touches it.
                        pb.changeDynamics(
                            body,
                            -1,
                            activationState=pb.ACTIVATION_STATE_SLEEP,
                            physicsClientId=cid,
                        )
                    continue
                calm_checks[body] = 0
                z = pb.getBasePositionAndOrientation(body, physicsClientId=cid)[0][2]
                if z >= FALLEN_Z:  # below: it fell off the ground and will be removed
                    all_calm = False
            calm_in_a_row = calm_in_a_row + 1 if all_calm else 0
            if calm_in_a_row >= s.rest_checks:
                return steps
        _LOG.debug("physics did not come to rest within %d steps", s.max_steps)
        return steps
