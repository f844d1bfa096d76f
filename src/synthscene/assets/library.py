"""The asset library: where meshes come from, their categories, and their collision hulls.

An :class:`AssetLibrary` is built from :class:`AssetSource` strings (from a scenario file or
Python)::

    primitive:box                        a built-in shape (box, sphere, cylinder, cone, ...)
    pybullet_data:duck_vhacd.urdf        a file (or a glob) inside pybullet_data.getDataPath()
    pybullet_data:random_urdfs/*/*.urdf
    dir:my_meshes                        a user folder: every sub-folder is a category
    file:meshes/part.stl                 one file (a bare path ending in a mesh extension works too)
    assets:meshes                        like ``dir:``, inside the project's bundled ``assets/``

Construction indexes keys and categories eagerly (files must exist, globs must match, primitives
must be known) but loads meshes lazily: :meth:`AssetLibrary.get` loads an asset on first use and
caches it. Every loaded :class:`Asset` is *normalised*: its mesh's axis-aligned bounding box is
centred on the origin and its longest edge is exactly 1, so ``SceneObject.scale`` is the object's
longest bounding-box edge in metres. Collision hulls are point sets in the same frame, and so is
an asset's :class:`CollisionPrimitive` (the exact box, sphere, cylinder or capsule of a built-in
primitive or of a URDF whose one collision element is such a solid).

Every problem a user can cause raises :class:`~synthscene.errors.AssetError` with a one-line
message naming the file and the config location (``AssetSource.where``).
"""

from __future__ import annotations

import logging
import threading
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import trimesh
from scipy.spatial import ConvexHull, QhullError

from synthscene.assets.appearance import VisualPart, visual_parts, with_urdf_material
from synthscene.assets.mesh_files import (
    MAX_MESH_TRIANGLES,
    mesh_file_problem,
    triangle_budget_problem,
)
from synthscene.assets.urdf import UrdfGeometry, parse_urdf
from synthscene.errors import AssetError
from synthscene.io.fileio import regular_file_problem
from synthscene.resources import bundled_dir

__all__ = [
    "ASSET_EXTENSIONS",
    "MAX_HULL_POINTS",
    "PRIMITIVE_NAMES",
    "SOURCE_PREFIXES",
    "Asset",
    "AssetLibrary",
    "AssetSource",
    "CollisionPrimitive",
    "bundled_assets_dir",
]

log = logging.getLogger(__name__)

#: Mesh file extensions loaded with trimesh (lower case).
MESH_EXTENSIONS: tuple[str, ...] = (".obj", ".glb", ".gltf", ".stl", ".ply", ".off")
#: Every file extension an asset may have.
ASSET_EXTENSIONS: tuple[str, ...] = (*MESH_EXTENSIONS, ".urdf")
#: Source prefixes, as in ``"primitive:box"``.
SOURCE_PREFIXES: tuple[str, ...] = ("primitive", "pybullet_data", "dir", "file", "assets")
#: Most points kept per collision hull (physics stays fast with small hulls).
MAX_HULL_POINTS = 128

_TEXT_FORMATS = (".obj", ".gltf", ".urdf", ".off")

# pybullet_data files whose category is not their (cleaned) file stem.
_PYBULLET_CATEGORIES: dict[str, str] = {
    "duck_vhacd.urdf": "duck",
    "duck.obj": "duck",
    "duck_vhacd.obj": "duck",
    "teddy_vhacd.urdf": "teddy",
    "teddy_large.urdf": "teddy",
    "teddy2_VHACD_CHs.obj": "teddy",
    "objects/mug.urdf": "mug",
    "objects/mug.obj": "mug",
    "objects/mug_col.obj": "mug",
    "soccerball.urdf": "soccer_ball",
    "soccerball.obj": "soccer_ball",
    "lego/lego.urdf": "lego",
    "lego/lego.obj": "lego",
    "lego/lego_vhacd.obj": "lego",
    "bunny.obj": "bunny",
    "tray/traybox.urdf": "tray",
    "tray/tray_textured.obj": "tray",
    "table/table.urdf": "table",
    "jenga/jenga.urdf": "jenga",
    "domino/domino.urdf": "domino",
    "sphere2.urdf": "sphere",
    "sphere2red.urdf": "sphere",
    "sphere_small.urdf": "sphere",
    "sphere_1cm.urdf": "sphere",
    "cube.urdf": "cube",
    "cube_small.urdf": "cube",
    "cube.obj": "cube",
}
_STEM_SUFFIXES = ("_vhacd_chs", "_vhacd", "_col", "_collision", "_textured", "_small", "_large")


@dataclass(frozen=True)
class AssetSource:
    """Where some assets come from.

    Attributes
    ----------
    source : str
        ``"primitive:NAME"``, ``"pybullet_data:RELPATH"`` (glob allowed), ``"dir:PATH"``,
        ``"file:PATH"`` (or a bare path ending in a mesh or URDF extension), or
        ``"assets:RELPATH"`` (inside :func:`bundled_assets_dir`).
    category : str or None
        Overrides the default category of every asset of this source.
    where : str
        Config location for error messages, e.g. ``"scenes/tabletop.yaml: assets[3].source"``.
    base_dir : Path or None
        Relative ``dir:``/``file:`` paths resolve against this folder (the scenario file's
        folder); None means the current working directory.
    """

    source: str
    category: str | None = None
    where: str = ""
    base_dir: Path | None = None


@dataclass(frozen=True, eq=False)
class CollisionPrimitive:
    """An exact convex solid that collides in place of an asset's hulls.

    pybullet collides its own box, sphere, cylinder and capsule shapes exactly, and faster than
    a hull of many points (a ball's hull has up to ``MAX_HULL_POINTS``); a ball or a cylinder on
    its side then rolls as a round body, not on facets.

    Attributes
    ----------
    kind : {"box", "sphere", "cylinder", "capsule"}
    object_from_primitive : (4, 4) float64
        Pose of the solid in the asset's frame; cylinders and capsules lie along its z axis.
    half_extents : (3,) tuple of float
        Half edge lengths of a box (zeros for the other kinds).
    radius : float
        Radius of a sphere, cylinder or capsule (0 for a box).
    length : float
        Height of a cylinder; for a capsule, the length of its cylindrical part, between the
        centres of its two hemispheres (URDF's and pybullet's convention); 0 otherwise.

    Lengths are in the asset's units: normalised units (longest bounding-box edge 1) once the
    asset is loaded, so metres after multiplying by ``SceneObject.scale``.
    """

    kind: Literal["box", "sphere", "cylinder", "capsule"]
    object_from_primitive: np.ndarray
    half_extents: tuple[float, float, float] = (0.0, 0.0, 0.0)
    radius: float = 0.0
    length: float = 0.0

    def normalised(self, centre: np.ndarray, longest: float) -> CollisionPrimitive:
        """The same solid in the frame where ``p`` becomes ``(p - centre) / longest``.

        Parameters
        ----------
        centre : (3,) float64
            Bounding-box centre of the asset's mesh, in the asset's units.
        longest : float
            Longest bounding-box edge, > 0.
        """
        pose = np.array(self.object_from_primitive, dtype=np.float64)
        pose[:3, 3] = (pose[:3, 3] - centre) / longest
        return CollisionPrimitive(
            kind=self.kind,
            object_from_primitive=pose,
            half_extents=tuple(float(h) / longest for h in self.half_extents),
            radius=self.radius / longest,
            length=self.length / longest,
        )


@dataclass(frozen=True, eq=False)
class Asset:
    """One loaded, normalised asset. Shared through the library's cache: do not modify it.

    Attributes
    ----------
    key : str
        Unique key, e.g. ``"pybullet_data:duck_vhacd.obj"``, ``"primitive:box"``,
        ``"dir:/abs/path/mug/cup1.obj"``, ``"assets:meshes/gear/spur_gear_12.obj"``.
    category : str
    mesh : trimesh.Trimesh
        Normalised visual mesh: axis-aligned bounding box centred on the origin, longest edge
        1.0 (unitless; multiply by ``SceneObject.scale`` for metres). Keeps the file's texture
        and UVs when it has them; otherwise a URDF ``<color rgba>`` becomes its face colour.
    collision_hulls : tuple of (n, 3) float64
        Each array holds 4 <= n <= ``MAX_HULL_POINTS`` points (fewer only for degenerate
        parts) whose convex hull is one collision part, in the mesh's normalised frame.
    source_path : Path or None
        The file the asset was loaded from (None for primitives).
    collision_primitive : CollisionPrimitive or None
        The exact solid that collides in place of ``collision_hulls`` (which still give the
        mass properties): set for ``primitive:box``, ``sphere``, ``cylinder`` and ``capsule``
        and for a URDF whose only ``<collision>`` is a ``<box>``, ``<sphere>``, ``<cylinder>``
        or ``<capsule>``; None otherwise. In the normalised frame.
    normalised_from_file : (4, 4) float64
        The similarity transform from the file's (or URDF link's) frame to the normalised one.
    """

    key: str
    category: str
    mesh: trimesh.Trimesh
    collision_hulls: tuple[np.ndarray, ...]
    source_path: Path | None
    collision_primitive: CollisionPrimitive | None = None
    normalised_from_file: np.ndarray = field(default_factory=lambda: np.eye(4))


@dataclass(frozen=True)
class _Entry:
    """An indexed, not yet loaded, asset."""

    key: str
    category: str
    kind: Literal["primitive", "mesh", "urdf"]
    path: Path | None
    where: str
    primitive: str = ""


def bundled_assets_dir() -> Path:
    """Return the folder of the assets that ship with synthscene (see :mod:`synthscene.resources`).

    Returns
    -------
    Path
        An existing folder: ``synthscene/_bundled/assets`` in a wheel, ``assets/`` in a checkout.

    Raises
    ------
    AssetError
        If this installation lacks it.
    """
    try:
        return bundled_dir("assets")
    except FileNotFoundError as exc:
        raise AssetError(str(exc)) from None


class AssetLibrary:
    """Keys, categories and lazily loaded meshes of a set of asset sources.

    Parameters
    ----------
    sources : sequence of AssetSource
        Indexed in order. The same key from two sources is kept once; giving it two different
        categories raises.
    max_triangles : int
        Triangle budget of one asset's mesh; a larger one is refused when it is loaded.

    Raises
    ------
    AssetError
        If a source is malformed (unknown prefix or primitive), names a missing file or folder,
        or matches no asset file. Meshes are not read here: see :meth:`get` and :meth:`preload`.

    Notes
    -----
    ``get`` and ``look`` are thread-safe. Pickling a library (to send it to worker processes)
    keeps its index and drops its caches, so every process loads each asset at most once.
    """

    def __init__(self, sources: Sequence[AssetSource], *,
                 max_triangles: int = MAX_MESH_TRIANGLES) -> None:
        self.max_triangles = int(max_triangles)
        entries: dict[str, _Entry] = {}
        for source in sources:
            for entry in _index_source(source):
                previous = entries.get(entry.key)
                if previous is None:
                    entries[entry.key] = entry
                elif previous.category != entry.category:
                    raise _error(
                        entry.where,
                        entry.key,
                        f"asset is listed twice with different categories "
                        f"({previous.category!r} at {previous.where or '?'}, {entry.category!r})",
                    )
        self._entries = entries
        self.keys: tuple[str, ...] = tuple(entries)
        self.categories: tuple[str, ...] = tuple(sorted({e.category for e in entries.values()}))
        self._cache: dict[str, Asset] = {}
        self._looks: dict[str, tuple[VisualPart, ...]] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"AssetLibrary({len(self)} assets, categories={list(self.categories)})"

    def __getstate__(self) -> dict:
        return {"entries": self._entries, "max_triangles": self.max_triangles}

    def __setstate__(self, state: dict) -> None:
        self._entries = state["entries"]
        self.max_triangles = state.get("max_triangles", MAX_MESH_TRIANGLES)
        self.keys = tuple(self._entries)
        self.categories = tuple(sorted({e.category for e in self._entries.values()}))
        self._cache = {}
        self._looks = {}
        self._lock = threading.Lock()

    def _entry(self, key: str) -> _Entry:
        try:
            return self._entries[key]
        except KeyError:
            shown = ", ".join(self.keys[:5]) + (", ..." if len(self.keys) > 5 else "")
            raise KeyError(f"unknown asset key {key!r}; the library has {shown}") from None

    def category_of(self, key: str) -> str:
        """Category of the asset ``key``, without loading it.

        Raises
        ------
        KeyError
            If the library has no such key.
        """
        return self._entry(key).category

    def get(self, key: str) -> Asset:
        """The loaded, normalised asset ``key`` (loaded on first call, then cached).

        Raises
        ------
        KeyError
            If the library has no such key.
        AssetError
            If the asset's file cannot be read or used (not a regular file, unreadable, empty,
            zero-size, zero-area, non-finite vertices, over the triangle budget, a URDF with
            several links, ...).
        """
        entry = self._entry(key)
        with self._lock:
            asset = self._cache.get(key)
            if asset is None:
                asset = _load(entry, self.max_triangles)
                self._cache[key] = asset
        return asset

    def look(self, key: str) -> tuple[VisualPart, ...]:
        """The asset's own look: its surface as parts with the materials its files declare, in
        the normalised frame of :meth:`get`'s mesh (read on first call, then cached; see
        :mod:`synthscene.assets.appearance`). What ``asset_appearance: keep`` and ``jitter`` render.

        Raises
        ------
        KeyError
            If the library has no such key.
        AssetError
            If the asset's file cannot be read (as :meth:`get`). A missing material or texture
            file is a logged warning, not an error.
        """
        asset = self.get(key)
        entry = self._entry(key)
        with self._lock:
            parts = self._looks.get(key)
            if parts is None:
                parts = tuple(p.transformed(asset.normalised_from_file)
                              for p in _load_look(entry, self.max_triangles))
                self._looks[key] = parts
        return parts

    def preload(self) -> None:
        """Load every asset now, so that a broken one fails before any frame is made.

        Raises
        ------
        AssetError
            At the first asset that cannot be loaded.
        """
        for key in self.keys:
            self.get(key)


# --------------------------------------------------------------------------------------------
# Indexing


def _error(where: str, subject: object, message: str) -> AssetError:
    """One-line AssetError ``"WHERE: SUBJECT: MESSAGE"``."""
    parts = [p for p in (where, str(subject) if subject is not None else "") if p]
    return AssetError(": ".join([*parts, " ".join(message.split())]))


def _index_source(source: AssetSource) -> list[_Entry]:
    text = source.source.strip() if isinstance(source.source, str) else ""
    if not text:
        raise _error(source.where, None, f"empty asset source {source.source!r}")
    if source.category is not None and not str(source.category).strip():
        raise _error(source.where, text, "category must be a non-empty string")
    prefix, sep, rest = text.partition(":")
    rest = rest.strip()
    if sep and prefix in SOURCE_PREFIXES:
        if not rest:
            raise _error(source.where, text, f"nothing after '{prefix}:'")
        if prefix == "primitive":
            return [_index_primitive(rest, source)]
        if prefix == "pybullet_data":
            return _index_pybullet_data(rest, source)
        if prefix == "dir":
            return _index_folder(_user_path(rest, source), source, key_root=None)
        if prefix == "assets":
            root = bundled_assets_dir()
            path = root / rest
            if path.is_file():
                return [_index_file(path, source, f"assets:{_posix(path, root)}", path.parent.name)]
            return _index_folder(path, source, key_root=root)
        return [_index_file(_user_path(rest, source), source, None, None)]
    is_drive = sep and len(prefix) == 1  # "C:/meshes/part.obj"
    if (not sep or is_drive) and Path(text).suffix.lower() in ASSET_EXTENSIONS:
        return [_index_file(_user_path(text, source), source, None, None)]
    if sep and not is_drive:
        raise _error(
            source.where,
            text,
            f"unknown asset source prefix {prefix!r}; expected one of "
            + ", ".join(f"'{p}:'" for p in SOURCE_PREFIXES)
            + " or a path ending in "
            + " ".join(ASSET_EXTENSIONS),
        )
    raise _error(
        source.where,
        text,
        "not an asset source: expected 'primitive:NAME', 'pybullet_data:PATH', 'dir:PATH', "
        f"'file:PATH', 'assets:PATH' or a path ending in {' '.join(ASSET_EXTENSIONS)}",
    )


def _user_path(text: str, source: AssetSource) -> Path:
    path = Path(text).expanduser()
    if not path.is_absolute():
        path = Path(source.base_dir or Path.cwd()) / path
    return path


def _posix(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()


def _kind_of(path: Path) -> Literal["mesh", "urdf"]:
    return "urdf" if path.suffix.lower() == ".urdf" else "mesh"


def _index_primitive(name: str, source: AssetSource) -> _Entry:
    if name not in _PRIMITIVES:
        raise _error(
            source.where,
            f"primitive:{name}",
            f"unknown primitive {name!r}; allowed: {', '.join(PRIMITIVE_NAMES)}",
        )
    return _Entry(
        key=f"primitive:{name}",
        category=source.category or name,
        kind="primitive",
        path=None,
        where=source.where,
        primitive=name,
    )


def _pybullet_category(relpath: str) -> str:
    """Default category of a file in pybullet_data, from its path relative to the data root."""
    if relpath in _PYBULLET_CATEGORIES:
        return _PYBULLET_CATEGORIES[relpath]
    parts = relpath.split("/")
    if len(parts) == 3 and parts[0] == "random_urdfs" and parts[1].isdigit():
        return "random_object"
    return _clean_stem(Path(relpath).stem)


def _clean_stem(stem: str) -> str:
    """``"teddy2_VHACD_CHs"`` -> ``"teddy"``: drop collision/variant suffixes and digits."""
    name = stem.lower()
    changed = True
    while changed:
        changed = False
        for suffix in _STEM_SUFFIXES:
            if name.endswith(suffix) and len(name) > len(suffix):
                name = name[: -len(suffix)]
                changed = True
    stripped = name.rstrip("0123456789_-. ")
    return stripped or name or stem


def _index_pybullet_data(relpath: str, source: AssetSource) -> list[_Entry]:
    try:
        import pybullet_data
    except ImportError:
        raise _error(
            source.where,
            f"pybullet_data:{relpath}",
            "pybullet_data is not installed (pip install pybullet)",
        ) from None
    root = Path(pybullet_data.getDataPath()).resolve()
    if any(c in relpath for c in "*?["):
        try:
            matches = sorted(
                (
                    p
                    for p in root.glob(relpath)
                    if p.is_file() and p.suffix.lower() in ASSET_EXTENSIONS
                ),
                key=lambda p: _posix(p, root),
            )
        except (ValueError, NotImplementedError) as exc:
            raise _error(
                source.where, f"pybullet_data:{relpath}", f"bad glob pattern ({exc})"
            ) from None
        if not matches:
            raise _error(
                source.where,
                f"pybullet_data:{relpath}",
                f"glob matches no mesh or URDF file ({' '.join(ASSET_EXTENSIONS)}) in {root}",
            )
    else:
        path = root / relpath
        if not path.is_file():
            raise _error(source.where, path, "file not found in pybullet_data")
        if path.suffix.lower() not in ASSET_EXTENSIONS:
            raise _error(
                source.where,
                path,
                f"unsupported file type; expected one of {' '.join(ASSET_EXTENSIONS)}",
            )
        matches = [path]
    entries = []
    for path in matches:
        rel = _posix(path, root)
        entries.append(
            _Entry(
                key=f"pybullet_data:{rel}",
                category=source.category or _pybullet_category(rel),
                kind=_kind_of(path),
                path=path,
                where=source.where,
            )
        )
    return entries


def _index_file(
    path: Path, source: AssetSource, key: str | None, default_category: str | None
) -> _Entry:
    if path.is_dir():
        raise _error(source.where, path, "is a folder, not a file (use 'dir:' for a folder)")
    problem = regular_file_problem(path)
    if problem is not None:
        raise _error(source.where, path, "file not found" if problem == "not found"
                     else f"file is {problem}")
    if path.suffix.lower() not in ASSET_EXTENSIONS:
        raise _error(
            source.where,
            path,
            f"unsupported file type; expected one of {' '.join(ASSET_EXTENSIONS)}",
        )
    path = path.resolve()
    return _Entry(
        key=key or f"file:{path.as_posix()}",
        category=source.category or default_category or path.stem,
        kind=_kind_of(path),
        path=path,
        where=source.where,
    )


def _index_folder(folder: Path, source: AssetSource, key_root: Path | None) -> list[_Entry]:
    """Index a category folder: ``folder/CATEGORY/**/*.{obj,glb,...,urdf}``.

    Mesh files that a URDF in the same category folder refers to are parts of that URDF's
    asset, not assets of their own.
    """
    if not folder.is_dir():
        if folder.exists():
            raise _error(source.where, folder, "is a file, not a folder (use 'file:' for a file)")
        raise _error(source.where, folder, "folder not found")
    folder = folder.resolve()
    if key_root is not None:
        key_root = key_root.resolve()
    subfolders = sorted(
        (d for d in folder.iterdir() if d.is_dir() and not d.name.startswith(".")),
        key=lambda d: d.name,
    )
    loose = [
        p.name for p in folder.iterdir() if p.is_file() and p.suffix.lower() in ASSET_EXTENSIONS
    ]
    if loose:
        log.warning(
            "%s: %d asset file(s) directly in %s are ignored; put them in a category sub-folder",
            source.where or "assets",
            len(loose),
            folder,
        )
    entries = []
    for sub in subfolders:
        files = sorted(
            (
                p
                for p in sub.rglob("*")
                if p.is_file()
                and p.suffix.lower() in ASSET_EXTENSIONS
                and not any(part.startswith(".") for part in p.relative_to(sub).parts)
            ),
            key=lambda p: _posix(p, sub),
        )
        referenced: set[Path] = set()
        for urdf in (p for p in files if p.suffix.lower() == ".urdf"):
            referenced |= _urdf_mesh_files(urdf)
        for path in files:
            if path.resolve() in referenced:
                continue
            key = (
                f"assets:{_posix(path.resolve(), key_root)}"
                if key_root is not None
                else f"dir:{path.resolve().as_posix()}"
            )
            entries.append(
                _Entry(
                    key=key,
                    category=source.category or sub.name,
                    kind=_kind_of(path),
                    path=path.resolve(),
                    where=source.where,
                )
            )
    if not entries:
        if not subfolders:
            message = "folder has no category sub-folders (expected FOLDER/CATEGORY/*.obj ...)"
        else:
            message = (
                f"no asset files ({' '.join(ASSET_EXTENSIONS)}) in its category sub-folders "
                f"({', '.join(d.name for d in subfolders[:5])})"
            )
        raise _error(source.where, folder, message)
    return entries


def _urdf_mesh_files(urdf: Path) -> set[Path]:
    """Mesh files a URDF refers to (best effort: a broken URDF fails later, when loaded)."""
    try:
        root = ET.parse(urdf).getroot()
    except (ET.ParseError, OSError, UnicodeDecodeError):
        return set()
    found = set()
    for mesh in root.iter("mesh"):
        name = mesh.get("filename") or ""
        for prefix in ("package://", "file://"):
            if name.startswith(prefix):
                name = name[len(prefix) :]
        candidate = urdf.parent / name
        if name and candidate.is_file():
            found.add(candidate.resolve())
    return found


# --------------------------------------------------------------------------------------------
# Primitives


#: The exact solid of each primitive that has one, in the primitive mesh's own frame; the
#: primitive's mesh is made from it (one place for its size).
_PRIMITIVE_SOLIDS: dict[str, CollisionPrimitive] = {
    "box": CollisionPrimitive("box", np.eye(4), half_extents=(0.5, 0.3, 0.2)),
    "sphere": CollisionPrimitive("sphere", np.eye(4), radius=0.5),
    "cylinder": CollisionPrimitive("cylinder", np.eye(4), radius=0.3, length=1.0),
    # ``length`` is the distance between the two hemisphere centres: total length 1.0.
    "capsule": CollisionPrimitive("capsule", np.eye(4), radius=0.25, length=0.5),
}


def _box() -> trimesh.Trimesh:
    return trimesh.creation.box(extents=2 * np.asarray(_PRIMITIVE_SOLIDS["box"].half_extents))


def _sphere() -> trimesh.Trimesh:
    return trimesh.creation.icosphere(subdivisions=3, radius=_PRIMITIVE_SOLIDS["sphere"].radius)


def _cylinder() -> trimesh.Trimesh:
    solid = _PRIMITIVE_SOLIDS["cylinder"]
    return trimesh.creation.cylinder(radius=solid.radius, height=solid.length, sections=32)


def _capsule() -> trimesh.Trimesh:
    solid = _PRIMITIVE_SOLIDS["capsule"]
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
#: Names accepted by ``primitive:NAME``.
PRIMITIVE_NAMES: tuple[str, ...] = tuple(_PRIMITIVES)


# --------------------------------------------------------------------------------------------
# Loading


def _load(entry: _Entry, max_triangles: int = MAX_MESH_TRIANGLES) -> Asset:
    log.debug("loading asset %s", entry.key)
    solid = None
    if entry.kind == "primitive":
        mesh = _PRIMITIVES[entry.primitive]()
        raw_hulls = _torus_hulls() if entry.primitive == "torus" else [mesh.vertices]
        solid = _PRIMITIVE_SOLIDS.get(entry.primitive)
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
    return Asset(
        key=entry.key,
        category=entry.category,
        mesh=mesh,
        collision_hulls=hulls,
        source_path=entry.path,
        collision_primitive=solid,
        normalised_from_file=transform,
    )


def _load_look(entry: _Entry, max_triangles: int) -> tuple[VisualPart, ...]:
    """The visual parts of an indexed asset, in its file's (or URDF link's) frame."""
    if entry.kind == "primitive":
        return visual_parts([_PRIMITIVES[entry.primitive]()], None)
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
        raise _error(where, subject, "mesh is empty (no triangles)")
    if not np.all(np.isfinite(vertices)):
        raise _error(where, subject, "mesh has non-finite (NaN or infinite) vertex coordinates")
    lo, hi = vertices.min(axis=0), vertices.max(axis=0)
    longest = float((hi - lo).max())
    if not longest > 1e-12 * max(1.0, float(np.abs(vertices).max())):
        raise _error(where, subject, "mesh has a zero-size bounding box (all vertices coincide)")
    centre = (lo + hi) / 2.0
    transform = np.diag([1.0 / longest] * 3 + [1.0])
    transform[:3, 3] = -centre / longest
    mesh = mesh.copy()
    mesh.apply_transform(transform)
    if not float(mesh.area) > 1e-9:  # normalised units: longest edge 1
        raise _error(where, subject, "mesh has zero surface area (every triangle is degenerate), "
                                     "so it could never be seen or labelled")
    hulls = []
    for points in raw_hulls:
        reduced = _hull_points(np.asarray(points, dtype=np.float64))
        if len(reduced):
            hulls.append(np.ascontiguousarray((reduced - centre) / longest))
    if not hulls:  # every collision part was degenerate: fall back to the visual mesh
        hulls.append(_hull_points(np.asarray(mesh.vertices, dtype=np.float64)))
    for hull in hulls:
        hull.flags.writeable = False
    if solid is not None:
        solid = solid.normalised(centre, longest)
    return mesh, transform, tuple(hulls), solid


def _hull_points(points: np.ndarray, max_points: int = MAX_HULL_POINTS) -> np.ndarray:
    """Vertices of the convex hull of ``points``, at most ``max_points`` of them.

    Parameters
    ----------
    points : (n, 3) float64

    Returns
    -------
    (m, 3) float64
        The hull's vertices; when there are more than ``max_points``, a deterministic
        farthest-point subset of them (which keeps the hull's extremes). Degenerate (flat or
        collinear) inputs return their unique points, also capped. The subset always keeps
        the points extreme along each axis, so its bounding box is the hull's.
    """
    points = points[np.all(np.isfinite(points), axis=1)]
    if len(points) == 0:
        return np.zeros((0, 3))
    points = np.unique(points, axis=0)
    if len(points) >= 4:
        try:
            points = points[np.sort(ConvexHull(points).vertices)]
        except (QhullError, ValueError):
            pass  # flat or collinear: keep the unique points
    if len(points) <= max_points:
        return points
    # Farthest-point sampling seeded with the points extreme along each axis, so the subset
    # keeps the hull's bounding box exactly.
    chosen = sorted({int(i) for i in (*points.argmin(axis=0), *points.argmax(axis=0))})
    distance = np.min(np.linalg.norm(points[:, None, :] - points[chosen][None], axis=2), axis=1)
    while len(chosen) < max_points:
        index = int(np.argmax(distance))
        chosen.append(index)
        distance = np.minimum(distance, np.linalg.norm(points - points[index], axis=1))
    return points[np.sort(chosen)]


def _summary(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 160 else text[:157] + "..."


def _read_scene(path: Path, where: str, max_triangles: int, **kwargs) -> trimesh.Scene:
    """Read a mesh file into a trimesh Scene, turning every failure into AssetError."""
    problem = regular_file_problem(path)
    if problem is not None:
        raise _error(where, path, "mesh file not found" if problem == "not found"
                     else f"mesh file is {problem}")
    suffix = path.suffix.lower()
    if suffix not in MESH_EXTENSIONS:
        raise _error(
            where, path, f"unsupported mesh file type; expected one of {' '.join(MESH_EXTENSIONS)}"
        )
    try:
        with open(path, "rb") as handle:
            head = handle.read(4096)
    except OSError as exc:
        raise _error(where, path, f"cannot read file ({_summary(exc)})") from None
    if suffix in _TEXT_FORMATS and b"\x00" in head:
        raise _error(where, path, f"cannot read mesh: not a text {suffix} file (binary data)")
    try:
        problem = mesh_file_problem(path, max_triangles=max_triangles)
    except OSError as exc:
        raise _error(where, path, f"cannot read file ({_summary(exc)})") from None
    if problem is not None:
        raise _error(where, path, problem)
    try:
        scene = trimesh.load_scene(path, **kwargs)
    except Exception as exc:  # trimesh raises many types on malformed input
        raise _error(
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
        raise _error(where, path, "mesh file contains no triangles")
    over = triangle_budget_problem(sum(len(m.faces) for m in meshes), max_triangles)
    if over is not None:
        raise _error(where, path, over)
    try:
        mesh = meshes[0] if len(meshes) == 1 else trimesh.util.concatenate(meshes)
    except Exception as exc:
        raise _error(where, path, f"cannot combine the file's meshes ({_summary(exc)})") from None
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
        raise _error(where, path, "mesh file contains no triangles")
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
        raise _error(where, path, "URDF link has no <visual> and no <collision> geometry")
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
        raise _error(
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
        log.debug("%s has no <collision>: using the visual mesh's convex hull", path)
        hulls = [np.asarray(visual.vertices)]
    solid = _collision_solid(link.collisions[0]) if len(link.collisions) == 1 else None
    return visual, hulls, solid
