"""Built-in primitive shapes (``primitive:NAME`` asset sources): meshes, collision parts, solids.

Each primitive is a mesh in its own frame, of distinct proportions (an
:class:`~synthscene.assets.library.AssetLibrary` then normalises it to a longest edge of 1). The
box, sphere, cylinder and capsule also have an exact
:class:`~synthscene.assets.collision.CollisionPrimitive`, from which their meshes are made; the
torus collides as a ring of convex sectors, so that its hole stays open.

``belt`` (a long flat box, 1 x 0.2 x 0.025) and ``shelf`` are meant as fixtures. ``shelf``:
two side panels, a back panel and 4 horizontal boards, each its own
convex collision part (so the gaps between the boards stay open); ``shelf-N`` has N boards
(:data:`SHELF_BOARDS`), evenly spaced from the floor to the top.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import trimesh

from synthscene.assets.collision import CollisionPrimitive
from synthscene.config.fields import SHELF_BOARDS

__all__ = ["PRIMITIVE_NAMES", "SHELF_BOARDS", "SHELF_SIZE", "SHELF_THICKNESS", "primitive_mesh",
           "primitive_shape", "shelf_boards", "shelf_parts"]

#: The exact solid of each primitive that has one, in the primitive mesh's own frame; the
#: primitive's mesh is made from it (one place for its size).
_SOLIDS: dict[str, CollisionPrimitive] = {
    "box": CollisionPrimitive("box", np.eye(4), half_extents=(0.5, 0.3, 0.2)),
    "sphere": CollisionPrimitive("sphere", np.eye(4), radius=0.5),
    "cylinder": CollisionPrimitive("cylinder", np.eye(4), radius=0.3, length=1.0),
    # ``length`` is the distance between the two hemisphere centres: total length 1.0.
    "capsule": CollisionPrimitive("capsule", np.eye(4), radius=0.25, length=0.5),
    # A conveyor belt or a slab: a long flat box (a fixture to stand objects on).
    "belt": CollisionPrimitive("box", np.eye(4), half_extents=(0.5, 0.1, 0.0125)),
}


def _box() -> trimesh.Trimesh:
    return trimesh.creation.box(extents=2 * np.asarray(_SOLIDS["box"].half_extents))


def _belt() -> trimesh.Trimesh:
    return trimesh.creation.box(extents=2 * np.asarray(_SOLIDS["belt"].half_extents))


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


SHELF_SIZE = (0.8, 0.3, 0.92)
"""Outer width (x), depth (y) and height (z) of the ``shelf`` primitive in its own frame (the
height is its longest edge, so a fixture's ``size_m`` is the shelf's height). The open front
faces -y; the back panel is at +y."""
SHELF_THICKNESS = 0.02
"""Thickness of the shelf's boards and panels, in the units of :data:`SHELF_SIZE`."""
_DEFAULT_SHELF_BOARDS = 4


def shelf_boards(name: str) -> int | None:
    """The board count of primitive ``name`` (``"shelf"``: 4, ``"shelf-N"``: N), or None if it is
    not a shelf or N is outside :data:`SHELF_BOARDS`."""
    if name == "shelf":
        return _DEFAULT_SHELF_BOARDS
    head, _, count = name.partition("-")
    if head != "shelf" or not count.isdigit() or count != str(int(count)):
        return None
    boards = int(count)
    return boards if SHELF_BOARDS[0] <= boards <= SHELF_BOARDS[1] else None


def _box_between(lo: tuple[float, float, float], hi: tuple[float, float, float]
                 ) -> trimesh.Trimesh:
    extents = np.subtract(hi, lo)
    centre = (np.asarray(lo) + np.asarray(hi)) / 2.0
    return trimesh.creation.box(extents=extents,
                                transform=trimesh.transformations.translation_matrix(centre))


def shelf_parts(boards: int) -> list[trimesh.Trimesh]:
    """The boxes a shelf of ``boards`` boards is made of, in its own frame (z up, standing on
    z = 0, centred on the z axis): two side panels, a back panel, then the boards from the
    bottom one (lying on z = 0) to the top one (flush with the sides' tops), evenly spaced.

    Parameters
    ----------
    boards : int
        Within :data:`SHELF_BOARDS`.

    Returns
    -------
    list of trimesh.Trimesh
        ``3 + boards`` axis-aligned boxes, in the units of :data:`SHELF_SIZE`.
    """
    w, d, h = SHELF_SIZE[0] / 2, SHELF_SIZE[1] / 2, SHELF_SIZE[2]
    t = SHELF_THICKNESS
    parts = [_box_between((-w, -d, 0.0), (-w + t, d, h)),
             _box_between((w - t, -d, 0.0), (w, d, h)),
             _box_between((-w + t, d - t, 0.0), (w - t, d, h))]
    for top in np.linspace(t, h, boards):
        parts.append(_box_between((-w + t, -d, top - t), (w - t, d - t, top)))
    return parts


def _shelf(name: str) -> trimesh.Trimesh:
    boards = shelf_boards(name)
    if boards is None:
        raise KeyError(name)
    return trimesh.util.concatenate(shelf_parts(boards))


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
    "belt": _belt,
    "shelf": lambda: _shelf("shelf"),
}
#: Names accepted by ``primitive:NAME`` (and ``shelf-N``, see :func:`shelf_boards`).
PRIMITIVE_NAMES: tuple[str, ...] = tuple(_MESHES)


def primitive_mesh(name: str) -> trimesh.Trimesh:
    """A new mesh of the primitive ``name``, in its own frame.

    Parameters
    ----------
    name : str
        One of ``PRIMITIVE_NAMES``, or ``shelf-N``.

    Returns
    -------
    trimesh.Trimesh

    Raises
    ------
    KeyError
        If ``name`` is not a primitive.
    """
    if shelf_boards(name) is not None:
        return _shelf(name)
    return _MESHES[name]()


def primitive_shape(
    name: str,
) -> tuple[trimesh.Trimesh, list[np.ndarray], CollisionPrimitive | None]:
    """Mesh, collision point sets and exact solid of the primitive ``name``, in its own frame.

    Parameters
    ----------
    name : str
        One of ``PRIMITIVE_NAMES``, or ``shelf-N``.

    Returns
    -------
    mesh : trimesh.Trimesh
        A new mesh (as :func:`primitive_mesh`).
    hulls : list of (n, 3) float64
        Point sets whose convex hulls are the collision parts: the mesh's vertices, the
        torus's sectors, or the shelf's boxes.
    solid : CollisionPrimitive or None
        The exact box, sphere, cylinder or capsule (the belt is a box); None for the cone, the
        torus and the shelf.

    Raises
    ------
    KeyError
        If ``name`` is not a primitive.
    """
    mesh = primitive_mesh(name)
    boards = shelf_boards(name)
    if boards is not None:
        return mesh, [np.asarray(p.vertices) for p in shelf_parts(boards)], None
    hulls = _torus_hulls() if name == "torus" else [mesh.vertices]
    return mesh, hulls, _SOLIDS.get(name)
