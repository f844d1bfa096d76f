"""Parse single-link URDF files into plain data (no meshes loaded, no pybullet).

:func:`parse_urdf` reads a URDF with :mod:`xml.etree.ElementTree` and returns a
:class:`UrdfLink`: the link's ``<visual>`` and ``<collision>`` geometries, each with its pose in
the link frame, its size in metres and, for meshes, the resolved mesh file and scale.
:mod:`synthscene.assets.loading` turns that into a normalised mesh and collision hulls.
:func:`urdf_file_candidates` is the one rule for the file names a URDF holds (``package://``,
``file://``, relative), used both to load a URDF and to index the folder it is in.

Only single-link URDFs are supported (every object in ``pybullet_data`` that is a rigid prop is
one); a URDF with joints and several links raises :class:`~synthscene.errors.AssetError`.
``<inertial>`` is not read: an asset's mass properties come from its collision geometry
(:mod:`synthscene.assets.collision`) and the scenario's density.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from synthscene.errors import AssetError

GeometryKind = Literal["mesh", "box", "sphere", "cylinder", "capsule"]

__all__ = [
    "GeometryKind",
    "UrdfGeometry",
    "UrdfLink",
    "parse_urdf",
    "resolve_urdf_file",
    "rpy_to_matrix",
    "urdf_file_candidates",
    "urdf_mesh_files",
]


@dataclass(frozen=True, eq=False)
class UrdfGeometry:
    """One ``<visual>`` or ``<collision>`` element of a link.

    Attributes
    ----------
    kind : {"mesh", "box", "sphere", "cylinder", "capsule"}
    link_from_geometry : (4, 4) float64
        Pose of the geometry in the link frame (the element's ``<origin xyz rpy>``), metres.
    size : (3,) tuple of float
        Box edge lengths in metres (``kind == "box"`` only, else zeros).
    radius : float
        Sphere, cylinder and capsule radius in metres (0 otherwise).
    length : float
        Cylinder and capsule length along the geometry's z axis in metres (0 otherwise); for a
        capsule, the length of its cylindrical part (pybullet's convention).
    mesh_path : Path or None
        Absolute path of the mesh file (``kind == "mesh"`` only); it exists.
    mesh_scale : (3,) tuple of float
        Per-axis scale applied to the mesh file's coordinates before ``link_from_geometry``.
    rgba : (4,) tuple of float or None
        ``<material><color rgba>`` in [0, 1] (visuals only), None when the URDF gives none.
    texture_path : Path or None
        ``<material><texture filename>`` resolved like a mesh file name (visuals only), None
        when the URDF gives none. It may not exist: a missing texture is a warning where the
        appearance is read (:mod:`synthscene.assets.appearance`), not an error.
    """

    kind: GeometryKind
    link_from_geometry: np.ndarray
    size: tuple[float, float, float] = (0.0, 0.0, 0.0)
    radius: float = 0.0
    length: float = 0.0
    mesh_path: Path | None = None
    mesh_scale: tuple[float, float, float] = (1.0, 1.0, 1.0)
    rgba: tuple[float, float, float, float] | None = None
    texture_path: Path | None = None


@dataclass(frozen=True, eq=False)
class UrdfLink:
    """The single link of a URDF file.

    Attributes
    ----------
    path : Path
        The URDF file.
    name : str
        The link's ``name`` attribute.
    visuals : tuple of UrdfGeometry
        Every ``<visual>`` element, in file order.
    collisions : tuple of UrdfGeometry
        Every ``<collision>`` element, in file order.
    """

    path: Path
    name: str
    visuals: tuple[UrdfGeometry, ...]
    collisions: tuple[UrdfGeometry, ...]


def rpy_to_matrix(rpy: tuple[float, float, float]) -> np.ndarray:
    """Rotation matrix of URDF fixed-axis roll, pitch, yaw.

    Parameters
    ----------
    rpy : (3,) float
        Roll, pitch, yaw in radians, about the fixed x, y and z axes.

    Returns
    -------
    (3, 3) float64
        ``Rz(yaw) @ Ry(pitch) @ Rx(roll)``.
    """
    roll, pitch, yaw = (float(a) for a in rpy)
    cr, sr = np.cos(roll), np.sin(roll)
    cp, sp = np.cos(pitch), np.sin(pitch)
    cy, sy = np.cos(yaw), np.sin(yaw)
    rx = np.array([[1.0, 0.0, 0.0], [0.0, cr, -sr], [0.0, sr, cr]])
    ry = np.array([[cp, 0.0, sp], [0.0, 1.0, 0.0], [-sp, 0.0, cp]])
    rz = np.array([[cy, -sy, 0.0], [sy, cy, 0.0], [0.0, 0.0, 1.0]])
    return rz @ ry @ rx


def parse_urdf(path: Path, where: str = "") -> UrdfLink:
    """Read a single-link URDF file.

    Parameters
    ----------
    path : Path
        The URDF file. Mesh and texture file names resolve as :func:`urdf_file_candidates`
        says: relative to its folder, ``package://NAME/`` in the package's folder.
    where : str
        Config location for error messages, e.g. ``"scenes/a.yaml: assets[0].source"``.

    Returns
    -------
    UrdfLink

    Raises
    ------
    AssetError
        If the file is missing or is not well-formed XML, has no ``<robot>`` root, has zero or
        several links, has a geometry that is missing, unknown or malformed, or refers to a
        mesh file that does not exist. The message names the file (and ``where``).
    """
    path = Path(path)

    def fail(message: str) -> AssetError:
        prefix = f"{where}: " if where else ""
        return AssetError(f"{prefix}{path}: {message}")

    if not path.is_file():
        raise fail("URDF file not found")
    try:
        root = ET.parse(path).getroot()
    except (ET.ParseError, OSError, UnicodeDecodeError) as exc:
        raise fail(f"cannot parse URDF XML ({exc})") from None
    if root.tag != "robot":
        raise fail(f"root element is <{root.tag}>, expected <robot>")
    links = root.findall("link")
    if len(links) != 1:
        names = ", ".join(repr(link.get("name", "?")) for link in links[:5])
        raise fail(
            f"has {len(links)} links ({names}); only single-link URDFs are supported"
            if links
            else "has no <link>"
        )
    link = links[0]

    # Robot-level named materials, which <visual><material name="..."/> may refer to.
    named: dict[str, ET.Element] = {
        material.get("name", ""): material
        for material in root.findall("material") if material.get("name")
    }

    visuals = []
    for i, element in enumerate(link.findall("visual")):
        geometry = _parse_geometry(element, f"<visual> #{i}", path, fail)
        material = element.find("material")
        rgba = texture = None
        if material is not None:
            declared = [material, named.get(material.get("name", ""))]
            rgba = next((c for c in (_material_rgba(m, fail) for m in declared if m is not None)
                         if c is not None), None)
            texture = next((t for t in (_material_texture(m, path) for m in declared
                                        if m is not None) if t is not None), None)
        visuals.append(_with_material(geometry, rgba, texture))
    collisions = tuple(
        _parse_geometry(element, f"<collision> #{i}", path, fail)
        for i, element in enumerate(link.findall("collision"))
    )
    return UrdfLink(path, link.get("name", ""), tuple(visuals), collisions)


def _with_material(
    geometry: UrdfGeometry, rgba: tuple[float, float, float, float] | None,
    texture_path: Path | None,
) -> UrdfGeometry:
    return UrdfGeometry(
        kind=geometry.kind,
        link_from_geometry=geometry.link_from_geometry,
        size=geometry.size,
        radius=geometry.radius,
        length=geometry.length,
        mesh_path=geometry.mesh_path,
        mesh_scale=geometry.mesh_scale,
        rgba=rgba,
        texture_path=texture_path,
    )


def _floats(text: str | None, count: int, what: str, fail) -> tuple[float, ...]:
    """Parse ``count`` whitespace-separated floats from an attribute value."""
    try:
        values = tuple(float(v) for v in (text or "").split())
    except ValueError:
        values = ()
    if len(values) != count or not all(np.isfinite(values)):
        raise fail(f"{what} must be {count} finite numbers, got {text!r}")
    return values


def _material_rgba(material: ET.Element, fail) -> tuple[float, float, float, float] | None:
    color = material.find("color")
    if color is None or color.get("rgba") is None:
        return None
    rgba = _floats(color.get("rgba"), 4, "<color rgba>", fail)
    return tuple(float(np.clip(v, 0.0, 1.0)) for v in rgba)  # type: ignore[return-value]


def _material_texture(material: ET.Element, urdf_path: Path) -> Path | None:
    texture = material.find("texture")
    filename = None if texture is None else texture.get("filename")
    if not filename:
        return None
    found = resolve_urdf_file(filename, urdf_path)
    return found if found is not None else urdf_file_candidates(filename, urdf_path)[0]


def _parse_geometry(element: ET.Element, what: str, urdf_path: Path, fail) -> UrdfGeometry:
    origin = element.find("origin")
    pose = np.eye(4)
    if origin is not None:
        if origin.get("xyz") is not None:
            pose[:3, 3] = _floats(origin.get("xyz"), 3, f"{what} <origin xyz>", fail)
        if origin.get("rpy") is not None:
            pose[:3, :3] = rpy_to_matrix(
                _floats(origin.get("rpy"), 3, f"{what} <origin rpy>", fail)
            )
    geometry = element.find("geometry")
    shapes = [] if geometry is None else list(geometry)
    if len(shapes) != 1:
        raise fail(f"{what} must have one <geometry> child shape, found {len(shapes)}")
    shape = shapes[0]

    def positive(name: str) -> float:
        (value,) = _floats(shape.get(name), 1, f"{what} <{shape.tag} {name}>", fail)
        if value <= 0:
            raise fail(f"{what} <{shape.tag} {name}> must be > 0, got {value}")
        return value

    if shape.tag == "box":
        size = _floats(shape.get("size"), 3, f"{what} <box size>", fail)
        if min(size) <= 0:
            raise fail(f"{what} <box size> must be > 0, got {shape.get('size')!r}")
        return UrdfGeometry("box", pose, size=size)  # type: ignore[arg-type]
    if shape.tag == "sphere":
        return UrdfGeometry("sphere", pose, radius=positive("radius"))
    if shape.tag in ("cylinder", "capsule"):
        return UrdfGeometry(shape.tag, pose, radius=positive("radius"), length=positive("length"))
    if shape.tag == "mesh":
        filename = shape.get("filename")
        if not filename:
            raise fail(f"{what} <mesh> has no filename")
        scale = (1.0, 1.0, 1.0)
        if shape.get("scale") is not None:
            text = shape.get("scale", "")
            scale = _floats(text, 1 if len(text.split()) == 1 else 3, f"{what} <mesh scale>", fail)
            if len(scale) == 1:
                scale = scale * 3
            if min(abs(s) for s in scale) == 0:
                raise fail(f"{what} <mesh scale> must be non-zero, got {text!r}")
        return UrdfGeometry(
            "mesh",
            pose,
            mesh_path=_resolve_mesh(filename, urdf_path, what, fail),
            mesh_scale=scale,  # type: ignore[arg-type]
        )
    raise fail(
        f"{what} has unsupported geometry <{shape.tag}>; "
        "supported: mesh, box, sphere, cylinder, capsule"
    )


def _resolve_mesh(filename: str, urdf_path: Path, what: str, fail) -> Path:
    """Find a ``<mesh filename>`` on disk (:func:`resolve_urdf_file`)."""
    found = resolve_urdf_file(filename, urdf_path)
    if found is None:
        looked = urdf_file_candidates(filename, urdf_path)[0]
        raise fail(f"{what} mesh file {filename!r} not found (looked for {looked})")
    return found


def urdf_file_candidates(filename: str, urdf_path: Path) -> list[Path]:
    """Where a file name of a URDF (``<mesh filename>``, ``<texture filename>``) may be.

    The one rule for file names in URDFs, used to load them (:func:`parse_urdf`) and to index a
    folder (:func:`urdf_mesh_files`):

    - ``package://NAME/REST``: ``ROOT/REST`` for every ancestor folder ``ROOT`` of the URDF that
      is the package ``NAME`` (named ``NAME``, or holding a ``package.xml`` whose ``<name>`` is
      ``NAME``), nearest first; then ``REST`` and ``NAME/REST`` inside the URDF's folder;
    - ``file://PATH``: ``PATH``;
    - anything else: relative to the URDF's folder (an absolute path stays as it is).

    Parameters
    ----------
    filename : str
        The attribute's value.
    urdf_path : Path
        The URDF file.

    Returns
    -------
    list of Path
        Candidates, most likely first (at least one); they need not exist.
    """
    folder = urdf_path.parent
    candidates: list[Path] = []
    if filename.startswith("package://"):
        rest = filename[len("package://") :]
        package, _, inside = rest.partition("/")
        for ancestor in (folder, *folder.parents):
            if ancestor.name == package or _package_name(ancestor) == package:
                candidates.append(ancestor / inside)
        candidates += [folder / inside, folder / rest]
    elif filename.startswith("file://"):
        candidates.append(Path(filename[len("file://") :]))
    else:
        candidates.append(folder / filename)
    return candidates


def resolve_urdf_file(filename: str, urdf_path: Path) -> Path | None:
    """The file a URDF's file name refers to (see :func:`urdf_file_candidates`).

    Parameters
    ----------
    filename : str
        A ``<mesh filename>`` or ``<texture filename>`` value.
    urdf_path : Path
        The URDF file.

    Returns
    -------
    Path or None
        The first candidate that is a file, resolved (absolute, no symbolic links); None when
        there is none.
    """
    return next((c.resolve() for c in urdf_file_candidates(filename, urdf_path) if c.is_file()),
                None)


def urdf_mesh_files(urdf_path: Path) -> set[Path]:
    """The mesh files a URDF refers to, without validating it (for indexing a folder).

    Parameters
    ----------
    urdf_path : Path
        The URDF file.

    Returns
    -------
    set of Path
        Every ``<mesh filename>`` of the file (in any link) that resolves to an existing file,
        resolved. Best effort: an unreadable or malformed URDF gives an empty set (it fails
        later, in :func:`parse_urdf`, when it is loaded).
    """
    try:
        root = ET.parse(urdf_path).getroot()
    except (ET.ParseError, OSError, UnicodeDecodeError):
        return set()
    found = set()
    for mesh in root.iter("mesh"):
        name = mesh.get("filename") or ""
        resolved = resolve_urdf_file(name, urdf_path) if name else None
        if resolved is not None:
            found.add(resolved)
    return found


def _package_name(folder: Path) -> str | None:
    """The ``<name>`` of the ROS ``package.xml`` in ``folder``, if it has a readable one."""
    manifest = folder / "package.xml"
    if not manifest.is_file():
        return None
    try:
        name = ET.parse(manifest).getroot().findtext("name")
    except (ET.ParseError, OSError, UnicodeDecodeError):
        return None
    return name.strip() if name else None
