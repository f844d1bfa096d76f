"""Asset sources: the ``PREFIX:REST`` strings of a scenario, indexed into asset entries.

One indexer per source prefix (a registry, ``SOURCE_PREFIXES`` in order)::

    primitive:box                        a built-in shape (box, sphere, cylinder, cone, ...)
    primitive:shelf-5                    a shelf of 5 boards (``primitive:shelf``: 4 boards)
    pybullet_data:duck_vhacd.urdf        a file (or a glob) inside pybullet_data.getDataPath()
    pybullet_data:random_urdfs/*/*.urdf
    dir:my_meshes                        a user folder: every sub-folder is a category
    file:meshes/part.stl                 one file (a bare path ending in a mesh extension works too)
    assets:meshes                        like ``dir:``, inside the project's bundled ``assets/``
    bop:datasets/ycbv/models             a BOP models folder (models_info.json, obj_NNNNNN.ply)

Indexing checks that files exist, globs match and primitives are known, and gives each asset its
key and category; it reads no mesh (see :mod:`synthscene.assets.loading`). In a folder, the mesh
files a URDF refers to are parts of the URDF's asset, not assets of their own
(:func:`synthscene.assets.urdf.urdf_mesh_files`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal, get_args

from synthscene.assets.bop_models import BOP_UNIT, bop_models
from synthscene.assets.primitives import PRIMITIVE_NAMES, shelf_boards
from synthscene.assets.urdf import urdf_mesh_files
from synthscene.config.fields import LENGTH_UNITS, OnError
from synthscene.errors import AssetError
from synthscene.io.fileio import regular_file_problem
from synthscene.resources import bundled_dir

__all__ = [
    "ASSET_EXTENSIONS",
    "MESH_EXTENSIONS",
    "ON_ERROR",
    "SOURCE_PREFIXES",
    "AssetEntry",
    "AssetSource",
    "asset_error",
    "bundled_assets_dir",
    "index_source",
]

logger = logging.getLogger(__name__)

#: Mesh file extensions loaded with trimesh (lower case).
MESH_EXTENSIONS: tuple[str, ...] = (".obj", ".glb", ".gltf", ".stl", ".ply", ".off")
#: Every file extension an asset may have.
ASSET_EXTENSIONS: tuple[str, ...] = (*MESH_EXTENSIONS, ".urdf")
#: The values of ``on_error`` (:data:`synthscene.config.fields.OnError`).
ON_ERROR: tuple[str, ...] = get_args(OnError)

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
        ``"file:PATH"`` (or a bare path ending in a mesh or URDF extension),
        ``"assets:RELPATH"`` (inside :func:`bundled_assets_dir`), or ``"bop:PATH"`` (a BOP
        models folder, :mod:`synthscene.assets.bop_models`).
    category : str or None
        Overrides the default category of every asset of this source.
    where : str
        Config location for error messages, e.g. ``"scenes/tabletop.yaml: assets[3].source"``.
    base_dir : Path or None
        Relative ``dir:``/``file:`` paths resolve against this folder (the scenario file's
        folder); None means the current working directory.
    unit : {"m", "cm", "mm"} or None
        Length unit of the files' coordinates; None: ``mm`` for ``bop:``, else ``m``.
    names : mapping of int to str or None
        ``bop:`` only: category names by BOP object id.
    on_error : {"skip", "fail"} or None
        What a run does with an asset of this source that cannot be loaded
        (:mod:`synthscene.assets.screening`); None: ``skip`` for a folder or a glob, ``fail``
        for a source that names one file or primitive.
    """

    source: str
    category: str | None = None
    where: str = ""
    base_dir: Path | None = None
    unit: str | None = None
    names: Mapping[int, str] | None = None
    on_error: OnError | None = None


@dataclass(frozen=True)
class AssetEntry:
    """An indexed, not yet loaded, asset.

    Attributes
    ----------
    key : str
        The asset's unique key (see :class:`~synthscene.assets.library.Asset`).
    category : str
    kind : {"primitive", "mesh", "urdf"}
    path : Path or None
        The resolved file (None for a primitive).
    where : str
        Config location of its source, for error messages.
    primitive : str
        The primitive's name (``kind == "primitive"`` only, else empty).
    unit_m : float
        Metres per unit of the file's coordinates (``assets[i].unit``; 0.001 for ``bop:``).
    bop_obj_id : int or None
        The BOP object id of a ``bop:`` model, else None.
    on_error : {"skip", "fail"}
        Its source's ``on_error``, the default resolved (:class:`AssetSource`).
    """

    key: str
    category: str
    kind: Literal["primitive", "mesh", "urdf"]
    path: Path | None
    where: str
    primitive: str = ""
    unit_m: float = 1.0
    bop_obj_id: int | None = None
    on_error: OnError = "fail"


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


def asset_error(where: str, subject: object, message: str) -> AssetError:
    """One-line AssetError ``"WHERE: SUBJECT: MESSAGE"`` (empty parts left out, whitespace of
    ``message`` collapsed)."""
    parts = [p for p in (where, str(subject) if subject is not None else "") if p]
    return AssetError(": ".join([*parts, " ".join(message.split())]))


def index_source(source: AssetSource) -> list[AssetEntry]:
    """Index one asset source: the key, category and file of each of its assets.

    Parameters
    ----------
    source : AssetSource

    Returns
    -------
    list of AssetEntry
        At least one; in a stable order (sorted paths for globs and folders); each with the
        source's ``on_error`` (default ``skip`` for a folder or a glob, else ``fail``).

    Raises
    ------
    AssetError
        If the source is empty or malformed (unknown prefix or primitive, empty category),
        names a missing file or folder, or matches no asset file. The message names the source
        and ``source.where``.
    """
    text = source.source.strip() if isinstance(source.source, str) else ""
    if not text:
        raise asset_error(source.where, None, f"empty asset source {source.source!r}")
    if source.category is not None and not str(source.category).strip():
        raise asset_error(source.where, text, "category must be a non-empty string")
    if source.unit is not None and source.unit not in LENGTH_UNITS:
        raise asset_error(source.where, text, f"unknown unit {source.unit!r}; expected one of "
                          f"{', '.join(LENGTH_UNITS)}")
    prefix, sep, rest = text.partition(":")
    rest = rest.strip()
    if source.names is not None and prefix != "bop":
        raise asset_error(source.where, text, "names is for a 'bop:' source only")
    if source.on_error is not None and source.on_error not in ON_ERROR:
        raise asset_error(source.where, text, f"on_error must be one of {', '.join(ON_ERROR)}, "
                          f"not {source.on_error!r}")
    if sep and prefix in _INDEXERS:
        if not rest:
            raise asset_error(source.where, text, f"nothing after '{prefix}:'")
        return _with_on_error(_with_unit(_INDEXERS[prefix](rest, source), source), source,
                              prefix, rest)
    is_drive = sep and len(prefix) == 1  # "C:/meshes/part.obj"
    if (not sep or is_drive) and Path(text).suffix.lower() in ASSET_EXTENSIONS:
        return _with_on_error(_with_unit(_index_user_file(text, source), source), source,
                              "file", text)
    if sep and not is_drive:
        raise asset_error(
            source.where,
            text,
            f"unknown asset source prefix {prefix!r}; expected one of "
            + ", ".join(f"'{p}:'" for p in SOURCE_PREFIXES)
            + " or a path ending in "
            + " ".join(ASSET_EXTENSIONS),
        )
    raise asset_error(
        source.where,
        text,
        "not an asset source: expected 'primitive:NAME', 'pybullet_data:PATH', 'dir:PATH', "
        f"'file:PATH', 'assets:PATH', 'bop:PATH' or a path ending in {' '.join(ASSET_EXTENSIONS)}",
    )


def _with_unit(entries: list[AssetEntry], source: AssetSource) -> list[AssetEntry]:
    """The entries with the source's unit (``unit``, else the indexer's default)."""
    if source.unit is None:
        return entries
    unit_m = LENGTH_UNITS[source.unit]
    return [replace(e, unit_m=unit_m) for e in entries]


def _index_bop(rest: str, source: AssetSource) -> list[AssetEntry]:
    """``bop:PATH``: a BOP models folder (:mod:`synthscene.assets.bop_models`)."""
    models = bop_models(_user_path(rest, source), where=source.where,
                        category=source.category, names=source.names)
    return [AssetEntry(key=f"bop:{m.path.as_posix()}", category=m.category, kind="mesh",
                       path=m.path, where=source.where, unit_m=LENGTH_UNITS[BOP_UNIT],
                       bop_obj_id=m.obj_id)
            for m in models]


def _with_on_error(entries: list[AssetEntry], source: AssetSource, prefix: str,
                   rest: str) -> list[AssetEntry]:
    """``entries`` with the source's ``on_error``; by default ``skip`` where the source is a
    glob or a folder (it may match files nobody looked at), ``fail`` where it names one file."""
    policy = source.on_error
    if policy is None:
        folder = prefix == "dir" or (prefix == "assets" and (bundled_assets_dir() / rest).is_dir())
        several = folder or len(entries) > 1 or any(c in rest for c in "*?[")
        policy = "skip" if several else "fail"
    return [replace(e, on_error=policy) for e in entries]


def _index_dir(rest: str, source: AssetSource) -> list[AssetEntry]:
    """``dir:PATH``: a user folder of category folders."""
    return _index_folder(_user_path(rest, source), source, key_root=None)


def _index_user_file(rest: str, source: AssetSource) -> list[AssetEntry]:
    """``file:PATH`` (or a bare path): one user file."""
    return [_index_file(_user_path(rest, source), source, None, None)]


def _index_bundled(rest: str, source: AssetSource) -> list[AssetEntry]:
    """``assets:RELPATH``: a file, or a folder of category folders, in the bundled assets."""
    root = bundled_assets_dir()
    path = root / rest
    if path.is_file():
        return [_index_file(path, source, f"assets:{_posix(path, root)}", path.parent.name)]
    return _index_folder(path, source, key_root=root)


def _user_path(text: str, source: AssetSource) -> Path:
    path = Path(text).expanduser()
    if not path.is_absolute():
        path = Path(source.base_dir or Path.cwd()) / path
    return path


def _posix(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()


def _kind_of(path: Path) -> Literal["mesh", "urdf"]:
    return "urdf" if path.suffix.lower() == ".urdf" else "mesh"


def _index_primitive(name: str, source: AssetSource) -> list[AssetEntry]:
    """``primitive:NAME``: a built-in shape."""
    if name not in PRIMITIVE_NAMES and shelf_boards(name) is None:
        raise asset_error(
            source.where,
            f"primitive:{name}",
            f"unknown primitive {name!r}; allowed: {', '.join(PRIMITIVE_NAMES)}, or shelf-N "
            "for a shelf of N boards (2 to 12)",
        )
    return [AssetEntry(
        key=f"primitive:{name}",
        category=source.category or ("shelf" if shelf_boards(name) else name),
        kind="primitive",
        path=None,
        where=source.where,
        primitive=name,
    )]


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


def _index_pybullet_data(relpath: str, source: AssetSource) -> list[AssetEntry]:
    """``pybullet_data:RELPATH``: a file, or a glob of files, in pybullet_data."""
    try:
        import pybullet_data
    except ImportError:
        raise asset_error(
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
            raise asset_error(
                source.where, f"pybullet_data:{relpath}", f"bad glob pattern ({exc})"
            ) from None
        if not matches:
            raise asset_error(
                source.where,
                f"pybullet_data:{relpath}",
                f"glob matches no mesh or URDF file ({' '.join(ASSET_EXTENSIONS)}) in {root}",
            )
    else:
        path = root / relpath
        if not path.is_file():
            raise asset_error(source.where, path, "file not found in pybullet_data")
        if path.suffix.lower() not in ASSET_EXTENSIONS:
            raise asset_error(
                source.where,
                path,
                f"unsupported file type; expected one of {' '.join(ASSET_EXTENSIONS)}",
            )
        matches = [path]
    entries = []
    for path in matches:
        rel = _posix(path, root)
        entries.append(
            AssetEntry(
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
) -> AssetEntry:
    if path.is_dir():
        raise asset_error(source.where, path, "is a folder, not a file (use 'dir:' for a folder)")
    problem = regular_file_problem(path)
    if problem is not None:
        raise asset_error(source.where, path, "file not found" if problem == "not found"
                          else f"file is {problem}")
    if path.suffix.lower() not in ASSET_EXTENSIONS:
        raise asset_error(
            source.where,
            path,
            f"unsupported file type; expected one of {' '.join(ASSET_EXTENSIONS)}",
        )
    path = path.resolve()
    return AssetEntry(
        key=key or f"file:{path.as_posix()}",
        category=source.category or default_category or path.stem,
        kind=_kind_of(path),
        path=path,
        where=source.where,
    )


def _index_folder(folder: Path, source: AssetSource, key_root: Path | None) -> list[AssetEntry]:
    """Index a category folder: ``folder/CATEGORY/**/*.{obj,glb,...,urdf}``.

    Mesh files that a URDF in the same category folder refers to are parts of that URDF's
    asset, not assets of their own.
    """
    if not folder.is_dir():
        if folder.exists():
            raise asset_error(source.where, folder,
                              "is a file, not a folder (use 'file:' for a file)")
        raise asset_error(source.where, folder, "folder not found")
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
        logger.warning(
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
            referenced |= urdf_mesh_files(urdf)
        for path in files:
            if path.resolve() in referenced:
                continue
            key = (
                f"assets:{_posix(path.resolve(), key_root)}"
                if key_root is not None
                else f"dir:{path.resolve().as_posix()}"
            )
            entries.append(
                AssetEntry(
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
        raise asset_error(source.where, folder, message)
    return entries


#: The indexer of each source prefix: ``INDEXER(REST, source)`` for ``"PREFIX:REST"``.
_INDEXERS: dict[str, Callable[[str, AssetSource], list[AssetEntry]]] = {
    "primitive": _index_primitive,
    "pybullet_data": _index_pybullet_data,
    "dir": _index_dir,
    "file": _index_user_file,
    "assets": _index_bundled,
    "bop": _index_bop,
}
#: Source prefixes, as in ``"primitive:box"``.
SOURCE_PREFIXES: tuple[str, ...] = tuple(_INDEXERS)
