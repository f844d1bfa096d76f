"""Rigid-body physics: drop the sampled objects and let them come to rest (pybullet).

This is the only module that imports pybullet. :class:`PhysicsSimulator` is a context manager
that owns one pybullet ``DIRECT`` client; every pybullet call passes its ``physicsClientId``.
:meth:`PhysicsSimulator.settle` takes a :class:`~synthscene.core.state.SceneState`, simulates it
until
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

Speed and quality, measured on one core of a 2-core AMD EPYC with 20 objects of 5-20 cm dropped
from up to 0.3 m (median per frame): 23 ms for the default tabletop scenario (pybullet_data
meshes and primitives, at most ``max_hulls`` = 6 hulls each; about the same with pybullet's
implicit friction cone instead of the pyramid), of which about 5 ms go to creating the bodies
and 14 ms to stepping. Settled objects interpenetrate by about 0.5 mm (rarely up to 4 mm) and
sink into the ground by under 1.5 mm. ``settle_after=0.5, settle_rolling_friction=0.05`` is
about 15% faster, but then about 1% of boxes in crowded scenes end balanced on an edge.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import trimesh
from scipy.spatial import ConvexHull, QhullError

from synthscene.errors import AssetError, SynthsceneError
from synthscene.physics.settings import PhysicsSettings

if TYPE_CHECKING:
    from synthscene.assets.library import CollisionPrimitive
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

_LOG = logging.getLogger(__name__)

#: Objects whose settled centre is below this height (metres) fell off the ground: removed.
FALLEN_Z = -0.05
#: Minimum mass of an object in kilograms.
MIN_MASS = 1e-3
#: Bullet's collision margin of convex hulls (metres); hulls are shrunk by it beforehand.
_MARGIN = 1e-3
#: A body at rest at this many consecutive checks is put to sleep until something touches it.
_SLEEP_AFTER_CHECKS = 2
#: Thickness (normalised units) given to a flat or degenerate hull along its thin axes.
_MIN_HULL_EXTENT = 1e-3
#: Name of pybullet's statically linked TinyRenderer plugin (unloaded: see ``__enter__``).
_TINY_RENDERER_PLUGIN = "tinyRendererPlugin"
#: Hulls are shrunk for scales on a geometric grid of this ratio, so that their files are
#: reused; the shrink is then within 12% of the margin (0.1 mm).
_SCALE_BUCKET_RATIO = 1.25


class _HasHulls(Protocol):
    collision_hulls: tuple[np.ndarray, ...]
    collision_primitive: CollisionPrimitive | None


class _Library(Protocol):
    def get(self, key: str) -> _HasHulls: ...


@dataclass(frozen=True, eq=False)
class _Hull:
    """One convex hull in the asset's normalised frame.

    Attributes
    ----------
    vertices : (n, 3) float64
        The hull's extreme points.
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
        """(n, 3) float64 vertices moved inward by ``shrink`` (normalised units), bounded."""
        return self.vertices + np.minimum(shrink, self.max_shrink)[:, None] * self.inward


@dataclass(frozen=True, eq=False)
class _Body:
    """Collision and mass properties of one asset in its normalised frame (unit density).

    Attributes
    ----------
    key : str
        The asset key.
    index : int
        Small integer naming the asset's files.
    hulls : tuple of _Hull
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
    hulls: tuple[_Hull, ...]
    volume: float
    center: np.ndarray
    quat_xyzw: np.ndarray
    inertia: np.ndarray
    primitive: CollisionPrimitive | None = None


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


def _pose(position: Sequence[float], quat_xyzw: Sequence[float]) -> np.ndarray:
    """(4, 4) float64 pose from a position (3,) and a quaternion ``(x, y, z, w)``."""
    pose = np.eye(4)
    pose[:3, :3] = _matrix_from_quat_xyzw(quat_xyzw)
    pose[:3, 3] = position
    return pose


def _principal_axes(tensor: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Principal moments (3,) and axes (3, 3), a proper rotation, of an inertia tensor."""
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
    extent = np.maximum(hi - lo, _MIN_HULL_EXTENT)
    middle = (lo + hi) / 2
    signs = np.array([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)], float)
    return trimesh.convex.convex_hull(center + (middle + signs * extent / 2) @ axes.T)


def _hull_volume(points: np.ndarray) -> float:
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
    volumes = [_hull_volume(p) for p in pieces]
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


def _hull(points: np.ndarray) -> _Hull:
    """Convex hull, shrinking directions and mass properties of a point set.

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
    size = float(np.max(points.max(axis=0) - points.min(axis=0)))
    mesh = None
    if len(points) >= 4:
        try:
            with np.errstate(all="ignore"):
                mesh = trimesh.convex.convex_hull(points)
                volume = float(mesh.volume)
        except Exception:  # qhull fails on coplanar or collinear points
            mesh = None
    if mesh is None or not volume > _MIN_HULL_EXTENT * max(size, 1e-9) ** 2:
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
    return _Hull(
        vertices=vertices,
        inward=inward,
        max_shrink=max_shrink,
        volume=float(mesh.volume),
        center=np.asarray(mesh.center_mass, dtype=np.float64),
        inertia=tensor,
    )


def _body(
    key: str, index: int, hulls: tuple[_Hull, ...], primitive: CollisionPrimitive | None = None
) -> _Body:
    """Mass properties of a union of hulls (the parallel axis theorem for the inertia)."""
    volumes = np.array([h.volume for h in hulls])
    volume = float(volumes.sum())
    center = sum(v * h.center for v, h in zip(volumes, hulls)) / volume
    tensor = np.zeros((3, 3))
    for v, h in zip(volumes, hulls):
        d = h.center - center
        tensor += h.inertia + v * (float(d @ d) * np.eye(3) - np.outer(d, d))
    moments, axes = _principal_axes(tensor)
    return _Body(
        key, index, hulls, volume, center, _quat_xyzw_from_matrix(axes), moments, primitive
    )


def _write_hulls_obj(path: Path, hulls: Sequence[np.ndarray]) -> None:
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
        lines += [f"v {x:.9g} {y:.9g} {z:.9g}\n" for x, y, z in points.tolist()]
        corners = list(range(offset, offset + len(points)))
        corners += corners[-1:] * (-len(corners) % 3)
        lines += [f"f {a} {b} {c}\n" for a, b, c in zip(*[iter(corners)] * 3)]
        offset += len(points)
    partial = path.with_suffix(".part")
    partial.write_text("".join(lines), encoding="ascii")
    partial.replace(path)


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
        self._bodies: dict[str, _Body] = {}
        self._files: dict[tuple[int, int], str] = {}

    # -- lifetime ---------------------------------------------------------------------------------

    def __enter__(self) -> PhysicsSimulator:
        if self._client is not None:
            raise RuntimeError("PhysicsSimulator is already open")
        client = pb.connect(pb.DIRECT)
        if client < 0:
            raise RuntimeError("pybullet could not open a DIRECT client")
        self._client = client
        # pybullet's built-in TinyRenderer plugin builds a render mesh (the convex hull of the
        # collision shape) of every new body, for getCameraImage, which is never called here:
        # about half of createMultiBody's time. Loading a statically linked plugin by name
        # returns its id; once it is unloaded, no body gets a render mesh.
        renderer = pb.loadPlugin(_TINY_RENDERER_PLUGIN, physicsClientId=client)
        if renderer >= 0:
            pb.unloadPlugin(renderer, physicsClientId=client)
        self._folder = Path(tempfile.mkdtemp(prefix="synthscene-physics-"))
        return self

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
        simulated, bodies, scales = self._build(state)
        moving = [
            (body, scale) for (body, _), obj, scale in zip(bodies, simulated, scales)
            if obj.physics == "dynamic"
        ]
        steps = self._step_until_rest([b for b, _ in moving], [s for _, s in moving])

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
        models = [self._body(obj.asset_key) for obj in simulated]
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
            world_from_object = _pose(position, quat_xyzw) @ inertial_from_object
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

    def _body(self, key: str) -> _Body:
        """Collision and mass properties of an asset, computed once."""
        model = self._bodies.get(key)
        if model is None:
            asset = self._library.get(key)
            raw = asset.collision_hulls
            if len(raw) == 0:
                raise AssetError(f"asset {key!r} has no collision hull")
            try:
                raw = merge_hulls(raw, self._settings.max_hulls)
                hulls = tuple(_hull(points) for points in raw)
            except AssetError as error:
                raise AssetError(f"asset {key!r}: {error}") from error
            model = _body(key, len(self._bodies), hulls, asset.collision_primitive)
            self._bodies[key] = model
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

    def _shape_file(self, model: _Body, scale: float) -> str:
        """Mesh file of an asset's hulls in normalised units, shrunk by the collision margin for
        about this scale (on a grid of scales, so that files are reused).

        An OBJ file with one object per hull (:func:`_write_hulls_obj`): pybullet makes a convex
        hull of one, a compound of convex hulls of several.
        """
        bucket = int(round(np.log(scale) / np.log(_SCALE_BUCKET_RATIO)))
        path = self._files.get((model.index, bucket))
        if path is None:
            if self._folder is None:
                raise RuntimeError("PhysicsSimulator is not open")
            shrink = _MARGIN / _SCALE_BUCKET_RATIO**bucket
            file = self._folder / f"asset{model.index}_scale{bucket}.obj"
            try:
                _write_hulls_obj(file, [hull.shrunk(shrink) for hull in model.hulls])
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
            "collisionFrameOrientation": _quat_xyzw_from_matrix(pose[:3, :3]).tolist(),
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
        self, obj: SceneObject, model: _Body, scale: float, mass: float
    ) -> tuple[int, np.ndarray]:
        """Create the dynamic body of ``obj`` at its pose.

        Parameters
        ----------
        obj : SceneObject
        model : _Body
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
            baseOrientation=_quat_xyzw_from_matrix(pose[:3, :3]).tolist(),
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
        object_from_inertial = _pose(model.center * scale, model.quat_xyzw)
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
        _LOG.debug("physics did not come to rest within %d steps", s.max_steps)
        return steps
