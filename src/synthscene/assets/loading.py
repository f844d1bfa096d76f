"""Loading indexed assets: mesh files, URDFs and primitives into normalised meshes and hulls.

:func:`load_geometry` reads an :class:`~synthscene.assets.sources.AssetEntry`'s file (or makes
its primitive) and returns its visual mesh, collision point sets and exact collision solid,
*normalised*: the mesh's axis-aligned bounding box centred on the origin and its longest edge
exactly 1 (see :class:`~synthscene.assets.library.Asset`). :func:`load_look` reads the same
asset's surface with the materials its files declare (:mod:`synthscene.assets.appearance`).

Every problem with a file raises :class:`~synthscene.errors.AssetError` with a one-line message
naming the file and the config location.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import trimesh

from synthscene.assets.appearance import VisualPart, visual_parts, with_urdf_material
from synthscene.assets.collision import CollisionPrimitive, hull_points
from synthscene.assets.mesh_files import mesh_file_problem, triangle_budget_problem
from synthscene.assets.primitives import primitive_mesh, primitive_shape
from synthscene.assets.sources import MESH_EXTENSIONS, AssetEntry, asset_error
from synthscene.assets.urdf import UrdfGeometry, parse_urdf
from synthscene.config.fields import MAX_MESH_TRIANGLES
from synthscene.io.fileio import regular_file_problem

__all__ = ["load_geometry", "load_look"]

logger = logging.getLogger(__name__)

_TEXT_FORMATS = (".obj", ".gltf", ".urdf", ".off")


def load_geometry(
    entry: AssetEntry, max_triangles: int = MAX_MESH_TRIANGLES
) -> tuple[trimesh.Trimesh, tuple[np.ndarray, ...], CollisionPrimitive | None, np.ndarray]:
    """Read an indexed asset and normalise it.

    Parameters
    ----------
    entry : AssetEntry
    max_triangles : int
        Triangle budget of the asset's mesh.

    Returns
    -------
    mesh : trimesh.Trimesh
        Visual mesh, normalised (bounding box centred on the origin, longest edge 1); the file's
        texture kept, else a URDF ``<color rgba>`` as its face colour.
    hulls : tuple of (n, 3) float64
        Read-only collision point sets in the same frame, 4 <= n <= ``MAX_HULL_POINTS`` (fewer
        only for degenerate parts): one per OBJ object of a VHACD file, per URDF
        ``<collision>``, per torus sector; else one of the whole mesh.
    solid : CollisionPrimitive or None
        The exact solid of a ``primitive:`` box, sphere, cylinder or capsule, or of a URDF whose
        one ``<collision>`` is such a shape, in the same frame.
    normalised_from_file : (4, 4) float64
        The similarity transform applied to the file's (or URDF link's) coordinates.

    Raises
    ------
    AssetError
        If the file cannot be read or used (not a regular file, unreadable, empty, zero-size,
        zero-area, non-finite vertices, over the triangle budget, a URDF with several links).
    """
    logger.debug("loading asset %s", entry.key)
    solid = None
    if entry.kind == "primitive":
        mesh, raw_hulls, solid = primitive_shape(entry.primitive)
    elif entry.kind == "urdf":
        assert entry.path is not None
        mesh, raw_hulls, solid = _load_urdf(entry.path, entry.where, max_triangles)
    else:
        assert entry.path is not None
        mesh = _load_mesh(entry.path, entry.where, max_triangles)
        if entry.path.suffix.lower() == ".obj" and "vhacd" in entry.path.name.lower():
            raw_hulls = _load_parts(entry.path, entry.where, max_triangles)
        else:
            raw_hulls = [mesh.vertices]
    subject = entry.path if entry.path is not None else entry.key
    mesh, transform, hulls, solid = _normalise(mesh, raw_hulls, solid, entry.where, subject)
    return mesh, hulls, solid, transform


def load_look(entry: AssetEntry, max_triangles: int = MAX_MESH_TRIANGLES
              ) -> tuple[VisualPart, ...]:
    """The visual parts of an indexed asset, in its file's (or URDF link's) frame.

    Parameters
    ----------
    entry : AssetEntry
    max_triangles : int
        Triangle budget of each mesh file read.

    Returns
    -------
    tuple of VisualPart
        Its surface, with the materials its files declare (not normalised: apply
        ``normalised_from_file`` of :func:`load_geometry`).

    Raises
    ------
    AssetError
        If a mesh file cannot be read (as :func:`load_geometry`). A missing material or texture
        file is a logged warning, not an error.
    """
    if entry.kind == "primitive":
        return visual_parts([primitive_mesh(entry.primitive)], None)
    assert entry.path is not None
    if entry.kind == "mesh":
        return visual_parts(_scene_meshes(_read_scene(entry.path, entry.where, max_triangles)),
                            entry.path,
                            entry.where)
    link = parse_urdf(entry.path, entry.where)
    where = f"{entry.where}: {entry.path}" if entry.where else str(entry.path)
    looks: list[VisualPart] = []
    for geometry in link.visuals or link.collisions:  # as _load_urdf
        if geometry.kind == "mesh":
            assert geometry.mesh_path is not None
            meshes = _scene_meshes(_read_scene(geometry.mesh_path, where, max_triangles))
            own = visual_parts(meshes, geometry.mesh_path, where)
            link_from_file = geometry.link_from_geometry @ np.diag([*geometry.mesh_scale, 1.0])
        else:
            own = visual_parts([_primitive_geometry(geometry)], None)
            link_from_file = geometry.link_from_geometry
        looks += with_urdf_material(tuple(p.transformed(link_from_file) for p in own),
                                    geometry.rgba, geometry.texture_path, where)
    return tuple(looks)


def _normalise(
    mesh: trimesh.Trimesh,
    raw_hulls: Sequence[np.ndarray],
    solid: CollisionPrimitive | None,
    where: str,
    subject: object,
) -> tuple[trimesh.Trimesh, np.ndarray, tuple[np.ndarray, ...], CollisionPrimitive | None]:
    """Centre the mesh's bounding box on the origin and scale its longest edge to 1 (the hulls
    and the collision primitive with it); the (4, 4) transform applied is returned too."""
    vertices = np.asarray(mesh.vertices, dtype=np.float64)
    if len(mesh.faces) == 0 or len(vertices) == 0:
        raise asset_error(where, subject, "mesh is empty (no triangles)")
    if not np.all(np.isfinite(vertices)):
        raise asset_error(where, subject,
                          "mesh has non-finite (NaN or infinite) vertex coordinates")
    lo, hi = vertices.min(axis=0), vertices.max(axis=0)
    longest = float((hi - lo).max())
    if not longest > 1e-12 * max(1.0, float(np.abs(vertices).max())):
        raise asset_error(where, subject,
                          "mesh has a zero-size bounding box (all vertices coincide)")
    centre = (lo + hi) / 2.0
    transform = np.diag([1.0 / longest] * 3 + [1.0])
    transform[:3, 3] = -centre / longest
    mesh = mesh.copy()
    mesh.apply_transform(transform)
    if not float(mesh.area) > 1e-9:  # normalised units: longest edge 1
        raise asset_error(where, subject,
                          "mesh has zero surface area (every triangle is degenerate), "
                          "so it could never be seen or labelled")
    hulls = []
    for points in raw_hulls:
        reduced = hull_points(np.asarray(points, dtype=np.float64))
        if len(reduced):
            hulls.append(np.ascontiguousarray((reduced - centre) / longest))
    if not hulls:  # every collision part was degenerate: fall back to the visual mesh
        hulls.append(hull_points(np.asarray(mesh.vertices, dtype=np.float64)))
    for hull in hulls:
        hull.flags.writeable = False
    if solid is not None:
        solid = solid.normalised(centre, longest)
    return mesh, transform, tuple(hulls), solid


def _summary(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 160 else text[:157] + "..."


def _read_scene(path: Path, where: str, max_triangles: int, **kwargs) -> trimesh.Scene:
    """Read a mesh file into a trimesh Scene, turning every failure into AssetError."""
    problem = regular_file_problem(path)
    if problem is not None:
        raise asset_error(where, path, "mesh file not found" if problem == "not found"
                          else f"mesh file is {problem}")
    suffix = path.suffix.lower()
    if suffix not in MESH_EXTENSIONS:
        raise asset_error(
            where, path, f"unsupported mesh file type; expected one of {' '.join(MESH_EXTENSIONS)}"
        )
    try:
        with open(path, "rb") as handle:
            head = handle.read(4096)
    except OSError as exc:
        raise asset_error(where, path, f"cannot read file ({_summary(exc)})") from None
    if suffix in _TEXT_FORMATS and b"\x00" in head:
        raise asset_error(where, path, f"cannot read mesh: not a text {suffix} file (binary data)")
    try:
        problem = mesh_file_problem(path, max_triangles=max_triangles)
    except OSError as exc:
        raise asset_error(where, path, f"cannot read file ({_summary(exc)})") from None
    if problem is not None:
        raise asset_error(where, path, problem)
    if suffix == ".ply":  # its TextureFile is read by the look code, bounded, one warning
        kwargs.setdefault("skip_materials", True)
    try:
        scene = trimesh.load_scene(path, **kwargs)
    except Exception as exc:  # trimesh raises many types on malformed input
        raise asset_error(
            where, path, f"cannot read mesh as {suffix} ({type(exc).__name__}: {_summary(exc)})"
        ) from None
    return scene


def _scene_meshes(scene: trimesh.Scene) -> list[trimesh.Trimesh]:
    """Every triangle mesh of a scene, with its scene-graph transform applied, in graph order."""
    meshes = []
    for node in scene.graph.nodes_geometry:
        transform, name = scene.graph[node]
        geometry = scene.geometry.get(name)
        if isinstance(geometry, trimesh.Trimesh) and len(geometry.faces):
            mesh = geometry.copy()
            if not np.allclose(transform, np.eye(4)):
                mesh.apply_transform(transform)
            meshes.append(mesh)
    return meshes


def _load_mesh(path: Path, where: str,
               max_triangles: int = MAX_MESH_TRIANGLES) -> trimesh.Trimesh:
    """The visual mesh of a file: all its triangle geometry, concatenated, texture kept."""
    meshes = _scene_meshes(_read_scene(path, where, max_triangles))
    if not meshes:
        raise asset_error(where, path, "mesh file contains no triangles")
    over = triangle_budget_problem(sum(len(m.faces) for m in meshes), max_triangles)
    if over is not None:
        raise asset_error(where, path, over)
    try:
        mesh = meshes[0] if len(meshes) == 1 else trimesh.util.concatenate(meshes)
    except Exception as exc:
        raise asset_error(where, path,
                          f"cannot combine the file's meshes ({_summary(exc)})") from None
    return mesh


def _load_parts(path: Path, where: str,
                max_triangles: int = MAX_MESH_TRIANGLES) -> list[np.ndarray]:
    """Vertices of each ``o`` object of an OBJ file (one array per part), else of the mesh."""
    if path.suffix.lower() != ".obj":
        return [_load_mesh(path, where, max_triangles).vertices]
    scene = _read_scene(path, where, max_triangles, split_objects=True, group_material=False,
                        process=False)
    parts = [np.asarray(m.vertices[np.unique(m.faces)]) for m in _scene_meshes(scene)]
    if not parts:
        raise asset_error(where, path, "mesh file contains no triangles")
    return parts


def _has_texture(mesh: trimesh.Trimesh) -> bool:
    visual = mesh.visual
    if not isinstance(visual, trimesh.visual.TextureVisuals) or visual.uv is None:
        return False
    material = visual.material
    return (
        getattr(material, "image", None) is not None
        or getattr(material, "baseColorTexture", None) is not None
    )


def _primitive_geometry(geometry: UrdfGeometry) -> trimesh.Trimesh:
    """A URDF box/sphere/cylinder/capsule as a mesh in its own frame."""
    if geometry.kind == "box":
        return trimesh.creation.box(extents=geometry.size)
    if geometry.kind == "sphere":
        return trimesh.creation.icosphere(subdivisions=2, radius=geometry.radius)
    if geometry.kind == "cylinder":
        return trimesh.creation.cylinder(
            radius=geometry.radius, height=geometry.length, sections=24
        )
    return trimesh.creation.capsule(height=geometry.length, radius=geometry.radius, count=(16, 16))


def _collision_solid(geometry: UrdfGeometry) -> CollisionPrimitive | None:
    """The exact solid of a URDF ``<box>``, ``<sphere>``, ``<cylinder>`` or ``<capsule>``."""
    if geometry.kind == "mesh":
        return None
    return CollisionPrimitive(
        kind=geometry.kind,
        object_from_primitive=np.asarray(geometry.link_from_geometry, dtype=np.float64),
        half_extents=tuple(float(s) / 2.0 for s in geometry.size),
        radius=float(geometry.radius),
        length=float(geometry.length),
    )


def _load_urdf(
    path: Path, where: str, max_triangles: int = MAX_MESH_TRIANGLES
) -> tuple[trimesh.Trimesh, list[np.ndarray], CollisionPrimitive | None]:
    """Visual mesh, collision point sets and (when its one collision element is a box,
    sphere, cylinder or capsule) collision solid of a single-link URDF, in the link frame."""
    link = parse_urdf(path, where)
    visual_geometries = link.visuals or link.collisions  # pybullet draws collisions if no visual
    if not visual_geometries:
        raise asset_error(where, path, "URDF link has no <visual> and no <collision> geometry")
    file_meshes: dict[Path, trimesh.Trimesh] = {}

    def file_mesh(mesh_path: Path) -> trimesh.Trimesh:
        if mesh_path not in file_meshes:
            file_meshes[mesh_path] = _load_mesh(
                mesh_path, f"{where}: {path}" if where else str(path), max_triangles
            )
        return file_meshes[mesh_path].copy()

    visuals = []
    for geometry in visual_geometries:
        if geometry.kind == "mesh":
            assert geometry.mesh_path is not None
            mesh = file_mesh(geometry.mesh_path)
            mesh.apply_transform(np.diag([*geometry.mesh_scale, 1.0]))
        else:
            mesh = _primitive_geometry(geometry)
        mesh.apply_transform(geometry.link_from_geometry)
        if geometry.rgba is not None and not _has_texture(mesh):
            rgba = np.round(np.asarray(geometry.rgba) * 255).astype(np.uint8)
            mesh.visual = trimesh.visual.ColorVisuals(
                mesh, face_colors=np.tile(rgba, (len(mesh.faces), 1))
            )
        visuals.append(mesh)
    try:
        visual = visuals[0] if len(visuals) == 1 else trimesh.util.concatenate(visuals)
    except Exception as exc:
        raise asset_error(
            where, path, f"cannot combine the URDF's visual meshes ({_summary(exc)})"
        ) from None

    hulls: list[np.ndarray] = []
    for geometry in link.collisions:
        if geometry.kind == "box":
            half = np.asarray(geometry.size) / 2.0
            parts = [
                np.array([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)]) * half
            ]
        elif geometry.kind == "mesh":
            assert geometry.mesh_path is not None
            sub_where = f"{where}: {path}" if where else str(path)
            parts = [
                p * np.asarray(geometry.mesh_scale)
                for p in _load_parts(geometry.mesh_path, sub_where, max_triangles)
            ]
        else:
            parts = [np.asarray(_primitive_geometry(geometry).vertices)]
        rotation, translation = (
            geometry.link_from_geometry[:3, :3],
            geometry.link_from_geometry[:3, 3],
        )
        hulls += [part @ rotation.T + translation for part in parts]
    if not hulls:
        logger.debug("%s has no <collision>: using the visual mesh's convex hull", path)
        hulls = [np.asarray(visual.vertices)]
    solid = _collision_solid(link.collisions[0]) if len(link.collisions) == 1 else None
    return visual, hulls, solid
