"""Rigid-body physics: drop the sampled objects and let them come to rest (pybullet).

This package is the only one that runs pybullet. :class:`PhysicsSimulator` is a context manager
that owns one pybullet ``DIRECT`` client; every pybullet call passes its ``physicsClientId``.
:meth:`PhysicsSimulator.settle` takes a :class:`~synthscene.core.state.SceneState`, simulates it
until every object is at rest (or a step limit is hit) and returns a new state with the settled
poses. An asset's collision hulls and mass properties come from
:mod:`synthscene.assets.collision`; :mod:`synthscene.physics.bodies` puts them in pybullet's terms.

Each frame starts from ``resetSimulation``, so memory stays flat over thousands of frames and the
result depends on the frame's state only: the same state always gives bit-identical poses, in
one simulator or in another.

Conventions (``docs/architecture.md``): SI units (metres, seconds, kilograms); poses are 4x4 float64
``a_from_b`` matrices; quaternions appear only at the pybullet boundary (here and in
:mod:`~synthscene.physics.bodies`), as ``quat_xyzw``.
The world is z-up with the ground at z = 0.

Model
-----
* **Ground**: a static plane at z = 0 when ``state.ground`` is not None. Objects whose settled
  centre lies beyond the ground's square (``|x|`` or ``|y|`` > ``size / 2``) are removed, as if
  they had fallen off its edge.
* **Objects**: one rigid body per object, whose collision shape is its asset's
  ``collision_hulls`` (convex point sets in the normalised frame) times ``SceneObject.scale``:
  a convex hull for one hull, a compound of convex hulls for several. Shapes are loaded from
  small OBJ files (one object per hull) that the simulator writes once per asset and size
  range into a temporary folder it owns: pybullet builds compounds from files only, and never
  frees the memory of shapes made from vertex lists. An asset with a ``collision_primitive``
  (a built-in box, sphere, cylinder or capsule, or a URDF whose one collision element is one)
  collides as pybullet's own exact solid instead, which is cheaper than a hull of many points,
  and a ball rolls as a ball; its hulls still give its mass properties. The body's link frame
  is the object frame; its inertial frame is the exact centre of mass and principal axes of
  the hulls (pybullet would otherwise use a bounding-box estimate). pybullet reports the
  inertial frame's pose, which is converted back.
* **Ground**: a static rigid body, as the objects are (a multibody ground would send every
  contact with it through Bullet's slower multibody solver).
* **Mass**: ``density * volume``, but no object lighter than half the frame's heaviest
  (``max_mass_ratio``): an iterative contact solver cannot hold a heavy object on a very light
  one. Resting poses hardly depend on masses.
* **Friction**: Coulomb friction along two directions per contact (Bullet's pyramid
  approximation of the friction cone; ``cone_friction`` turns pybullet's implicit cone on).
* **Collision margin**: Bullet inflates every hull by its collision margin (1 mm); hulls are
  shrunk by the margin beforehand (to within 0.1 mm), so objects touch the ground and each
  other without a gap.
* **Rest**: every ``check_every`` steps the speed of every body is measured as its net motion
  since the previous check (which ignores contact jitter). A body below both rest speeds at two
  consecutive checks is put to sleep (Bullet skips it until an awake body touches it and wakes
  it), which makes resting bodies nearly free. The frame is settled when all bodies are below
  the rest speeds at ``rest_checks`` consecutive checks, or after ``max_steps``.
* **Late damping**: after ``settle_after`` seconds, bodies still moving are mostly rolling or
  wobbling (balls, cylinders on their rim), which real objects keep up for seconds; damping and
  rolling friction are then raised so that they stop soon. Rolling friction is not used from
  the start because it lets boxes come to rest balanced on an edge.

Its speed and the quality of the settled poses (interpenetration, sinking into the ground) are
measured in ``docs/performance.md``.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from synthscene.assets.cache_records import collision_parts
from synthscene.assets.collision import CollisionPrimitive
from synthscene.assets.margins import margin_shrink
from synthscene.errors import AssetError, SynthsceneError
from synthscene.physics.bodies import (
    BodyModel,
    body_model,
    pose_from_quat_xyzw,
    quat_xyzw_from_matrix,
    write_hulls_obj,
)
from synthscene.physics.settings import PhysicsSettings

if TYPE_CHECKING:
    from synthscene.core.state import SceneObject, SceneState


def _import_pybullet_quietly():
    """Import pybullet without the "pybullet build time: ..." line its C module prints to stderr.

    The line is written by C stdio at import, so ``sys.stderr`` redirection cannot catch it; file
    descriptor 2 is pointed at ``os.devnull`` for the duration of the import (an import error
    still propagates as a Python exception).
    """
    import ctypes
    import os
    import sys

    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 2)
            import pybullet
            ctypes.CDLL(None).fflush(None)  # empty C stdio's buffers into devnull
    finally:
        os.dup2(saved, 2)
        os.close(saved)
    return pybullet


pb = _import_pybullet_quietly()

__all__ = ["FALLEN_Z", "MIN_MASS", "PhysicsSimulator"]

logger = logging.getLogger(__name__)

#: Objects whose settled centre is below this height (metres) fell off the ground: removed.
FALLEN_Z = -0.05
#: Minimum mass of an object in kilograms.
MIN_MASS = 1e-3
#: A body at rest at this many consecutive checks is put to sleep until something touches it.
_SLEEP_AFTER_CHECKS = 2
#: Name of pybullet's statically linked TinyRenderer plugin (unloaded: see ``__enter__``).
_TINY_RENDERER_PLUGIN = "tinyRendererPlugin"


class _HasHulls(Protocol):
    collision_hulls: tuple[np.ndarray, ...]
    collision_primitive: CollisionPrimitive | None


class _Library(Protocol):
    def get(self, key: str) -> _HasHulls: ...


class PhysicsSimulator:
    """Context manager owning ONE pybullet DIRECT client; settles scenes frame by frame.

    Parameters
    ----------
    library : AssetLibrary
        Anything whose ``get(key)`` returns an object with ``collision_hulls``: a tuple of
        (n, 3) float64 convex point sets in the asset's normalised frame. An asset's hulls are
        read once, on first use, and their mass properties kept for the simulator's lifetime.
    settings : PhysicsSettings

    Notes
    -----
    While open, the simulator owns a temporary folder holding the mesh files of the collision
    hulls (a few kilobytes per asset and size range); it is deleted on exit.

    Examples
    --------
    >>> with PhysicsSimulator(library, PhysicsSettings()) as sim:  # doctest: +SKIP
    ...     settled = sim.settle(state)
    """

    def __init__(self, library: Any, settings: PhysicsSettings) -> None:
        self._library: _Library = library
        self._settings = settings
        self._client: int | None = None
        self._folder: Path | None = None
        self._bodies: dict[str, BodyModel] = {}
        self._files: dict[tuple[int, int], str] = {}

    # -- lifetime ---------------------------------------------------------------------------------

    def __enter__(self) -> PhysicsSimulator:
        if self._client is not None:
            raise RuntimeError("PhysicsSimulator is already open")
        self._open()
        return self

    def _open(self) -> None:
        """Connect a DIRECT client (without the TinyRenderer plugin, without pybullet's cache of
        parsed mesh files) and make the shape-file folder."""
        client = pb.connect(pb.DIRECT)
        if client < 0:
            raise RuntimeError("pybullet could not open a DIRECT client")
        self._client = client
        # pybullet keeps every OBJ file it parses in one cache of the whole process, keyed by
        # file name, until caching is switched off (which empties it): with thousands of shape
        # files (asset x size range) it grew the worker's memory for the whole run. Parsing a
        # shape file again costs little next to building its hulls.
        pb.setPhysicsEngineParameter(enableFileCaching=0, physicsClientId=client)
        # pybullet's built-in TinyRenderer plugin builds a render mesh (the convex hull of the
        # collision shape) of every new body, for getCameraImage, which is never called here:
        # about half of createMultiBody's time. Loading a statically linked plugin by name
        # returns its id; once it is unloaded, no body gets a render mesh.
        renderer = pb.loadPlugin(_TINY_RENDERER_PLUGIN, physicsClientId=client)
        if renderer >= 0:
            pb.unloadPlugin(renderer, physicsClientId=client)
        self._folder = Path(tempfile.mkdtemp(prefix="synthscene-physics-"))

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Disconnect the pybullet client and delete the temporary files; idempotent."""
        client, self._client = self._client, None
        folder, self._folder = self._folder, None
        self._files.clear()
        if client is not None and pb.isConnected(physicsClientId=client):
            pb.disconnect(physicsClientId=client)
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)

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
            the ground's square, or below z = -0.05 m are removed. Objects with
            ``physics="static"`` collide but never move; ``physics="none"`` ones are left out
            of the simulation; both are returned as they were. With ``settings.enabled``
            False, or ``settings.settle`` False and no ``steps_after_placement``, ``state``
            itself is returned (``physics_steps`` 0); with ``settle`` False and
            ``steps_after_placement`` N, the poses after N steps.

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
        if not settings.settle and settings.steps_after_placement == 0:
            return state if state.physics_steps == 0 else dataclasses.replace(state,
                                                                              physics_steps=0)
        if self._client is None:
            raise RuntimeError("PhysicsSimulator.settle must be called inside its `with` block")
        simulated, bodies, scales = self._build(state)
        moving = [
            (body, scale) for (body, _), obj, scale in zip(bodies, simulated, scales)
            if obj.physics == "dynamic"
        ]
        if settings.settle:
            steps = self._step_until_rest([b for b, _ in moving], [s for _, s in moving])
        else:  # placed at rest: a short settle of a fixed number of steps
            steps = settings.steps_after_placement
            for _ in range(steps):
                pb.stepSimulation(physicsClientId=self._client)

        settled: dict[int, SceneObject | None] = {}
        for obj, world_from_object in self._poses(simulated, bodies).items():
            settled[id(obj)] = (
                dataclasses.replace(obj, world_from_object=world_from_object)
                if self._kept(world_from_object[:3, 3], state) else None
            )
        new_objects = [settled.get(id(obj), obj) for obj in state.objects]
        return dataclasses.replace(
            state, objects=tuple(o for o in new_objects if o is not None), physics_steps=steps
        )

    def simulate(self, state: SceneState, times_s: Sequence[float]) -> list[SceneState]:
        """Simulate ``state`` continuously and return it at each of ``times_s``.

        Every object starts at its ``world_from_object`` with its ``linear_velocity`` (of its
        centre of mass) and ``angular_velocity``; pybullet steps at ``settings.timestep`` and
        a time's poses are those after ``round(time / timestep)`` steps. Unlike :meth:`settle`,
        no object is removed (a track stays a track when it leaves the ground) and no late
        damping is added.

        Parameters
        ----------
        state : SceneState
        times_s : sequence of float
            Non-decreasing times in seconds from the start, each >= 0.

        Returns
        -------
        list of SceneState
            ``state`` at each time: new ``world_from_object`` of the dynamic objects (static and
            ``"none"`` ones as they were), ``physics_steps`` the steps taken so far. With
            ``settings.enabled`` False, ``state`` itself at every time.

        Raises
        ------
        RuntimeError
            If called outside the ``with`` block.
        ValueError
            If ``times_s`` decreases or is negative, or as :meth:`settle`.
        """
        times = [float(t) for t in times_s]
        if any(t < 0 or not math.isfinite(t) for t in times) or times != sorted(times):
            raise ValueError(f"times_s must be finite, >= 0 and non-decreasing, got {times_s!r}")
        if not self._settings.enabled:
            return [state for _ in times]
        if self._client is None:
            raise RuntimeError("PhysicsSimulator.simulate must be called inside its `with` block")
        cid = self._client
        simulated, bodies, _ = self._build(state)
        for obj, (body, _) in zip(simulated, bodies):
            if obj.physics == "dynamic":
                pb.resetBaseVelocity(body, linearVelocity=list(obj.linear_velocity),
                                     angularVelocity=list(obj.angular_velocity),
                                     physicsClientId=cid)
                pb.changeDynamics(body, -1, activationState=pb.ACTIVATION_STATE_DISABLE_SLEEPING,
                                  physicsClientId=cid)
        out, steps = [], 0
        for time_s in times:
            target = int(round(time_s / self._settings.timestep))
            while steps < target:
                pb.stepSimulation(physicsClientId=cid)
                steps += 1
            poses = self._poses(simulated, bodies)
            objects = tuple(
                dataclasses.replace(obj, world_from_object=poses[obj]) if obj in poses else obj
                for obj in state.objects)
            out.append(dataclasses.replace(state, objects=objects, physics_steps=steps))
        return out

    def _build(self, state: SceneState) -> tuple[list[SceneObject], list[tuple[int, np.ndarray]],
                                                 list[float]]:
        """Empty the world and add the ground and every simulated object of ``state``; return
        the simulated objects, their (body, inertial_from_object) and their scales."""
        settings = self._settings
        simulated = [obj for obj in state.objects if obj.physics != "none"]
        models = [self._body(obj.asset_key, static=obj.physics == "static") for obj in simulated]
        scales = [self._scale(obj) for obj in simulated]
        masses = [
            max(settings.density * m.volume * s**3, MIN_MASS) if obj.physics == "dynamic" else 0.0
            for obj, m, s in zip(simulated, models, scales)
        ]
        min_mass = max(masses, default=0.0) / settings.max_mass_ratio
        self._reset_world(state)
        bodies = [
            self._add_object(obj, model, scale, max(mass, min_mass) if mass > 0 else 0.0)
            for obj, model, scale, mass in zip(simulated, models, scales, masses)
        ]
        return simulated, bodies, scales

    def _poses(self, simulated: list[SceneObject], bodies: list[tuple[int, np.ndarray]]
               ) -> dict[SceneObject, np.ndarray]:
        """world_from_object (4, 4) of each dynamic object now, keyed by the object."""
        poses = {}
        for obj, (body, inertial_from_object) in zip(simulated, bodies):
            if obj.physics != "dynamic":
                continue
            position, quat_xyzw = pb.getBasePositionAndOrientation(body,
                                                                   physicsClientId=self._client)
            world_from_object = pose_from_quat_xyzw(position, quat_xyzw) @ inertial_from_object
            world_from_object[3] = (0.0, 0.0, 0.0, 1.0)
            poses[obj] = world_from_object
        return poses

    @staticmethod
    def _scale(obj: SceneObject) -> float:
        scale = float(obj.scale)
        if not (np.isfinite(scale) and scale > 0):
            raise ValueError(f"object {obj.instance_id}: scale must be > 0, got {scale!r}")
        return scale

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

    def _body(self, key: str, static: bool = False) -> BodyModel:
        """Collision and mass properties of an asset, computed once (as a static body, its
        hulls are merged down to ``max_fixture_hulls`` instead of ``max_hulls``)."""
        max_hulls = self._settings.hull_budget(static)
        model = self._bodies.get(key if not static else f"{key}\0static")
        if model is None:
            asset = self._library.get(key)
            raw = asset.collision_hulls
            if len(raw) == 0:
                raise AssetError(f"asset {key!r} has no collision hull")
            try:
                hulls = collision_parts(asset, max_hulls)
            except AssetError as error:
                raise AssetError(f"asset {key!r}: {error}") from error
            model = body_model(key, len(self._bodies), hulls, asset.collision_primitive)
            self._bodies[key if not static else f"{key}\0static"] = model
        return model

    def _reset_world(self, state: SceneState) -> None:
        """Empty the world, set the engine's parameters and add the ground plane at z = 0."""
        cid = self._client
        s = self._settings
        pb.resetSimulation(physicsClientId=cid)
        pb.setPhysicsEngineParameter(
            fixedTimeStep=s.timestep,
            numSubSteps=0,
            numSolverIterations=s.solver_iterations,
            enableConeFriction=int(s.cone_friction),
            deterministicOverlappingPairs=1,
            physicsClientId=cid,
        )
        pb.setGravity(0.0, 0.0, -s.gravity, physicsClientId=cid)
        if state.ground is None:
            return
        shape = pb.createCollisionShape(pb.GEOM_PLANE, physicsClientId=cid)
        # A plain rigid body, like the objects: a multibody ground would send every contact
        # with it through Bullet's multibody solver (about a fifth of the settling time).
        ground = pb.createMultiBody(
            baseMass=0.0,
            baseCollisionShapeIndex=shape,
            useMaximalCoordinates=True,
            physicsClientId=cid,
        )
        pb.changeDynamics(
            ground,
            -1,
            lateralFriction=s.lateral_friction,
            restitution=s.restitution,
            physicsClientId=cid,
        )

    def _shape_file(self, model: BodyModel, scale: float) -> str:
        """Mesh file of an asset's hulls in normalised units, shrunk by the collision margin for
        about this scale (on a grid of scales, so that files are reused).

        An OBJ file with one object per hull (:func:`write_hulls_obj`): pybullet makes a convex
        hull of one, a compound of convex hulls of several.
        """
        bucket, shrink = margin_shrink(scale)
        path = self._files.get((model.index, bucket))
        if path is None:
            if self._folder is None:
                raise RuntimeError("PhysicsSimulator is not open")
            file = self._folder / f"asset{model.index}_scale{bucket}.obj"
            try:
                write_hulls_obj(file, [hull.shrunk(shrink) for hull in model.hulls])
            except OSError as exc:
                raise SynthsceneError(f"cannot write the collision shape file {file}: "
                                      f"{exc.strerror or exc}") from None
            path = str(file)
            self._files[(model.index, bucket)] = path
        return path

    def _primitive_shape(self, primitive: CollisionPrimitive, scale: float) -> int:
        """pybullet's own shape for an exact solid, ``scale`` metres per normalised unit, placed
        in the object (link) frame. Its size is exact: Bullet keeps the collision margin
        inside these shapes."""
        pose = primitive.object_from_primitive
        frame = {
            "collisionFramePosition": (pose[:3, 3] * scale).tolist(),
            "collisionFrameOrientation": quat_xyzw_from_matrix(pose[:3, :3]).tolist(),
            "physicsClientId": self._client,
        }
        if primitive.kind == "box":
            half_extents = [h * scale for h in primitive.half_extents]
            return pb.createCollisionShape(pb.GEOM_BOX, halfExtents=half_extents, **frame)
        if primitive.kind == "sphere":
            return pb.createCollisionShape(pb.GEOM_SPHERE, radius=primitive.radius * scale, **frame)
        kind = pb.GEOM_CYLINDER if primitive.kind == "cylinder" else pb.GEOM_CAPSULE
        return pb.createCollisionShape(
            kind, radius=primitive.radius * scale, height=primitive.length * scale, **frame
        )

    def _add_object(
        self, obj: SceneObject, model: BodyModel, scale: float, mass: float
    ) -> tuple[int, np.ndarray]:
        """Create the dynamic body of ``obj`` at its pose.

        Parameters
        ----------
        obj : SceneObject
        model : BodyModel
            The asset's collision and mass properties.
        scale : float
            ``obj.scale``, metres per normalised unit.
        mass : float
            Mass of the object in kg.

        Returns
        -------
        body : int
            pybullet body unique id.
        inertial_from_object : (4, 4) float64
            Pose of the object frame in the body's inertial frame, whose pose pybullet reports.
        """
        cid = self._client
        s = self._settings
        pose = np.asarray(obj.world_from_object, dtype=np.float64)
        if pose.shape != (4, 4) or not np.all(np.isfinite(pose)):
            raise ValueError(
                f"object {obj.instance_id}: world_from_object must be a finite (4, 4) array"
            )
        if model.primitive is not None:
            shape = self._primitive_shape(model.primitive, scale)
        else:
            # Hulls come from files: pybullet never frees the vertices of shapes made with
            # ``vertices=`` (about 30 kB per shape, even across resetSimulation), and
            # createCollisionShapeArray leaks a little per call too.
            shape = pb.createCollisionShape(
                pb.GEOM_MESH,
                fileName=self._shape_file(model, scale),
                meshScale=[scale, scale, scale],
                physicsClientId=cid,
            )
        body = pb.createMultiBody(
            baseMass=mass,
            baseCollisionShapeIndex=shape,
            basePosition=pose[:3, 3].tolist(),
            baseOrientation=quat_xyzw_from_matrix(pose[:3, :3]).tolist(),
            baseInertialFramePosition=(model.center * scale).tolist(),
            baseInertialFrameOrientation=model.quat_xyzw.tolist(),
            useMaximalCoordinates=True,
            physicsClientId=cid,
        )
        # pybullet zeroes the mass of a rigid body whose inertia is set without its mass.
        pb.changeDynamics(
            body,
            -1,
            mass=mass,
            localInertiaDiagonal=(model.inertia * (mass / model.volume * scale**2)).tolist(),
            lateralFriction=s.lateral_friction,
            restitution=s.restitution,
            rollingFriction=0.0,
            spinningFriction=s.spinning_friction * scale,
            linearDamping=s.linear_damping,
            angularDamping=s.angular_damping,
            activationState=pb.ACTIVATION_STATE_ENABLE_SLEEPING,
            physicsClientId=cid,
        )
        object_from_inertial = pose_from_quat_xyzw(model.center * scale, model.quat_xyzw)
        rotation = object_from_inertial[:3, :3]
        inertial_from_object = np.eye(4)
        inertial_from_object[:3, :3] = rotation.T
        inertial_from_object[:3, 3] = -rotation.T @ object_from_inertial[:3, 3]
        return body, inertial_from_object

    def _step_until_rest(self, bodies: list[int], scales: list[float]) -> int:
        """Step until every body is at rest (or fell off) or ``max_steps``; return the steps.

        A body's speeds at a check are its net motion since the previous check divided by the
        time between checks (of its centre of mass, and its rotation angle), which ignores the
        contact solver's jitter but not slow creeping. ``scales[i]`` is the scale of
        ``bodies[i]`` in metres (for its late rolling friction).
        """
        cid = self._client
        s = self._settings
        interval = s.check_every * s.timestep
        late_step = int(np.ceil(s.settle_after / s.timestep))
        calm_checks = dict.fromkeys(bodies, 0)
        last = {
            body: pb.getBasePositionAndOrientation(body, physicsClientId=cid) for body in bodies
        }
        steps = 0
        calm_in_a_row = 0
        while steps < s.max_steps:
            n = min(s.check_every, s.max_steps - steps)
            for _ in range(n):
                if steps == late_step:
                    for body, scale in zip(bodies, scales):
                        pb.changeDynamics(
                            body,
                            -1,
                            linearDamping=s.settle_linear_damping,
                            angularDamping=s.settle_angular_damping,
                            rollingFriction=s.settle_rolling_friction * scale,
                            physicsClientId=cid,
                        )
                pb.stepSimulation(physicsClientId=cid)
                steps += 1
            max_move = s.linear_rest_speed * interval * n / s.check_every
            max_turn = s.angular_rest_speed * interval * n / s.check_every
            all_calm = True
            for body in bodies:
                (x, y, z), (qx, qy, qz, qw) = now = pb.getBasePositionAndOrientation(
                    body, physicsClientId=cid
                )
                (x0, y0, z0), (px, py, pz, pw) = last[body]
                last[body] = now
                cos_half = min(1.0, abs(qx * px + qy * py + qz * pz + qw * pw))
                turn = 2.0 * math.asin(math.sqrt(1.0 - cos_half * cos_half))
                move2 = (x - x0) ** 2 + (y - y0) ** 2 + (z - z0) ** 2
                if move2 < max_move * max_move and turn < max_turn:
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
                if z >= FALLEN_Z:  # below: it fell off the ground and will be removed
                    all_calm = False
            calm_in_a_row = calm_in_a_row + 1 if all_calm else 0
            if calm_in_a_row >= s.rest_checks:
                return steps
        logger.debug("physics did not come to rest within %d steps", s.max_steps)
        return steps
