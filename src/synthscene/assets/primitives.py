"""Built-in primitive shapes (``primitive:NAME`` asset sources): meshes, collision parts, solids.

Each primitive is a mesh in its own frame, of distinct proportions (an
:class:`~synthscene.assets.library.AssetLibrary` then normalises it to a longest edge of 1). The
box, sphere, cylinder and capsule also have an exact
:class:`~synthscene.assets.collision.CollisionPrimitive`, from which their meshes are made; the
torus collides as a ring of convex sectors, so that its hole stays open.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import trimesh

from synthscene.assets.collision import CollisionPrimitive

__all__ = ["PRIMITIVE_NAMES", "primitive_mesh", "primitive_shape"]

#: The exact solid of each primitive that has one, in the primitive mesh's own frame; the
#: primitive's mesh is made from it (one place for its size).
_SOLIDS: dict[str, CollisionPrimitive] = {
    "box": CollisionPrimitive("box", np.eye(4), half_extents=(0.5, 0.3, 0.2)),
    "sphere": CollisionPrimitive("sphere", np.eye(4), radius=0.5),
    "cylinder": CollisionPrimitive("cylinder", np.eye(4), radius=0.3, length=1.0),
    # ``length`` is the distance between the two hemisphere centres: total length 1.0.
    "capsule": CollisionPrimitive("capsule", np.eye(4), radius=0.25, length=0.5),
}


def _box() -> trimesh.Trimesh:
    return trimesh.creation.box(extents=2 * np.asarray(_SOLIDS["box"].half_extents))


def _sphere() -> trimesh.Trimesh:
    return trimesh.creation.icosphere(subdivisions=3, radius=_SOLIDS["sphere"].radius)


def _cylinder() -> trimesh.Trimesh:
    solid = _SOLIDS["cylinder"]
    return trimesh.creation.cylinder(radius=solid.radius, height=solid.length, sections=32)


def _capsule() -> trimesh.Trimesh:
    solid = _SOLIDS["capsule"]
    return trimesh.creation.capsule(height=solid.length, radius=solid.radius, count=(32, 32))


def _cone() -> trimesh.Trimesh:
    return trimesh.creation.cone(radius=0.35, height=0.9, sections=32)


def _torus() -> trimesh.Trimesh:
    return trimesh.creation.torus(
        major_radius=0.35, minor_radius=0.12, major_sections=48, minor_sections=16
    )


def _torus_hulls(sectors: int = 12, tube_points: int = 12) -> list[np.ndarray]:
    """Convex pieces of the ``_torus`` ring: one per angular sector, so the hole stays open."""
    major, minor = 0.35, 0.12
    phi = np.linspace(0.0, 2 * np.pi, tube_points, endpoint=False)
    # Each piece is the hull of the tube's cross-sections at the sector's two ends (its outer
    # rim cuts a chord, at most major * (1 - cos(pi / sectors)) inside the mesh).
    hulls = []
    for i in range(sectors):
        thetas = np.array([i, i + 1]) * 2 * np.pi / sectors
        ring = np.stack(
            [
                np.outer(np.cos(thetas), major + minor * np.cos(phi)),
                np.outer(np.sin(thetas), major + minor * np.cos(phi)),
                np.broadcast_to(minor * np.sin(phi), (2, tube_points)),
            ],
            axis=-1,
        )
        hulls.append(ring.reshape(-1, 3))
    return hulls


_PRIMITIVES: dict[str, Callable[[], trimesh.Trimesh]] = {
    "box": _box,
    "sphere": _sphere,
    "cylinder": _cylinder,
    "capsule": _capsule,
    "cone": _cone,
    "torus": _torus,
}
_MESHES: dict[str, Callable[[], trimesh.Trimesh]] = {
    "box": _box,
    "sphere": _sphere,
    "cylinder": _cylinder,
    "capsule": _capsule,
    "cone": _cone,
    "torus": _torus,
}
#: Names accepted by ``primitive:NAME``.
PRIMITIVE_NAMES: tuple[str, ...] = tuple(_MESHES)


def primitive_mesh(name: str) -> trimesh.Trimesh:
    """A new mesh of the primitive ``name``, in its own frame.

    Parameters
    ----------
    name : str
        One of ``PRIMITIVE_NAMES``.

    Returns
    -------
    trimesh.Trimesh

    Raises
    ------
    KeyError
        If ``name`` is not a primitive.
    """
    return _MESHES[name]()


def primitive_shape(
    name: str,
) -> tuple[trimesh.Trimesh, list[np.ndarray], CollisionPrimitive | None]:
    """Mesh, collision point sets and exact solid of the primitive ``name``, in its own frame.

    Parameters
    ----------
    name : str
        One of ``PRIMITIVE_NAMES``.

    Returns
    -------
    mesh : trimesh.Trimesh
        A new mesh (as :func:`primitive_mesh`).
    hulls : list of (n, 3) float64
        Point sets whose convex hulls are the collision parts: the mesh's vertices, or the
        torus's sectors.
    solid : CollisionPrimitive or None
        The exact box, sphere, cylinder or capsule; None for the cone and the torus.

    Raises
    ------
    KeyError
        If ``name`` is not a primitive.
    """
    mesh = primitive_mesh(name)
    hulls = _torus_hulls() if name == "torus" else [mesh.vertices]
    return mesh, hulls, _SOLIDS.get(name)
