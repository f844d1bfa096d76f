"""The on-disk asset cache: what loading an asset file produced, kept for the next process.

Loading an asset (parsing its files, checking them, normalising the mesh, reducing its collision
hulls, reading its materials and textures) takes from milliseconds to seconds per asset, and
every worker process of every run did it again. :class:`AssetCache` keeps the result in a folder
shared by workers and runs:

- **key**: the SHA-256 of :data:`LOADER_VERSION`, the load options that change the result (the
  triangle budget), the asset's kind and file name, and the *content* of every file it is read
  from (:func:`asset_files`: the mesh or URDF file, the mesh files a URDF names, the MTL files an
  OBJ names, the textures they name, a glTF's buffers and images). A file edited in place gets
  a new key; a renamed or moved file keeps its entry. A built-in primitive's key is made of its
  name, trimesh's version and the source of :mod:`synthscene.assets.primitives` instead of files.
- **entries**: ``ROOT/assets/ab/<key>.<kind>.npz``, one per kind of result (``geometry``,
  ``look``, ``hulls-N``, ``poses-…``, ``resting-…``): an ``.npz`` of two members, ``data``
  (the bytes of every array, one after the other) and ``meta`` (JSON: the scalars, and each
  array's dtype, shape and place in ``data``), read with ``allow_pickle=False`` (no pickled
  objects). :mod:`synthscene.assets.cache_records` converts loaded assets to and from them.
- **atomic**: an entry is written to a temporary file (named as
  :func:`synthscene.io.fileio.write_atomic` names them) and moved into place with
  :func:`os.replace`: a killed process leaves no partial entry, and two processes writing the
  same entry at once each replace it whole (the last one wins; both wrote the same arrays).
- **checked**: an entry that cannot be read back whole (a truncated or damaged file fails the
  ZIP format's CRC-32 check of each member, or holds another key) is a miss: the asset is loaded
  from its files again and the entry rewritten. A cache problem is never an error for the user:
  a folder that cannot be written logs one warning and the run goes on without it.

:func:`default_cache_dir` is where it lives unless told otherwise (``SYNTHSCENE_CACHE_DIR``, else
the platform's user cache folder, from ``platformdirs``); :func:`open_cache` turns a run's
setting (a folder, None for the default, ``"none"`` for no cache) into an :class:`AssetCache` or
None; :func:`clear_cache` removes the entries (and only them).
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import re
import struct
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from synthscene.errors import OutputError
from synthscene.io.fileio import temporary_target, write_atomic_stream

if TYPE_CHECKING:
    from synthscene.assets.sources import AssetEntry

__all__ = ["CACHE_ENV", "LOADER_VERSION", "AssetCache", "asset_files", "clear_cache",
           "default_cache_dir", "open_cache", "pose_kind", "resting_kind"]

logger = logging.getLogger(__name__)

LOADER_VERSION = 1
"""Part of every key: raise it when a change of the loaders changes what they produce, so that
entries of older versions are no longer read."""

CACHE_ENV = "SYNTHSCENE_CACHE_DIR"
"""The environment variable that names the cache folder (``none``: no cache)."""

NO_CACHE = "none"
"""The setting (``--cache-dir none``, ``SYNTHSCENE_CACHE_DIR=none``) that turns the cache off."""

_ENTRIES = "assets"
_ENTRY = re.compile(r"[0-9a-f]{64}\.[a-z0-9-]+\.npz")
_META = "meta"
_DATA = "data"
_FORMAT = 1
"""Layout of an entry: members ``meta`` (JSON, with each array's place in ``data``) and ``data``
(every array's bytes, one after the other): two members to read, whatever the arrays."""
_CHUNK = 1 << 20


def default_cache_dir() -> Path:
    """The folder the asset cache uses unless a run names another.

    Returns
    -------
    Path
        ``SYNTHSCENE_CACHE_DIR`` when it is set to a folder; else the platform's user cache
        folder for synthscene (``platformdirs.user_cache_dir("synthscene")``, e.g.
        ``~/.cache/synthscene`` on Linux). ``SYNTHSCENE_CACHE_DIR=none`` turns caching off
        (:func:`open_cache`) but does not move the folder: it is still the one to clear.
    """
    value = os.environ.get(CACHE_ENV, "").strip()
    if value and value.lower() != NO_CACHE:
        return Path(value).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("synthscene"))


def open_cache(setting: str | Path | None = None) -> AssetCache | None:
    """The cache a run uses.

    Parameters
    ----------
    setting : str, Path or None
        A folder; None: ``SYNTHSCENE_CACHE_DIR`` or the platform's folder
        (:func:`default_cache_dir`); the string ``"none"`` (any case; also as the value of
        ``SYNTHSCENE_CACHE_DIR`` when ``setting`` is None): no cache.

    Returns
    -------
    AssetCache or None
        None when caching is off. The folder is made on the first write.
    """
    if setting is None:
        if os.environ.get(CACHE_ENV, "").strip().lower() == NO_CACHE:
            return None
        return AssetCache(default_cache_dir())
    if isinstance(setting, str) and setting.strip().lower() == NO_CACHE:
        return None
    return AssetCache(Path(setting).expanduser())


def clear_cache(root: Path) -> int:
    """Remove the asset cache's entries from ``root``; return how many were removed.

    Only files the cache writes are removed (``ROOT/assets/ab/<key>.<kind>.npz`` and the
    temporaries of such files), then the cache's folders left empty; any other file in the
    folder, and the folders that hold one, stay. Not to be run while a run uses the cache (an
    entry removed under a running worker is only loaded again).

    Parameters
    ----------
    root : Path
        The cache folder (:func:`default_cache_dir`); a missing folder holds nothing.

    Returns
    -------
    int
        Entries removed (temporaries not counted).

    Raises
    ------
    OutputError
        If an entry cannot be removed (permissions), naming it.
    """
    entries = Path(root) / _ENTRIES
    if not entries.is_dir() or entries.is_symlink():
        return 0
    removed = 0
    for bucket in sorted(entries.iterdir()):
        if not (re.fullmatch(r"[0-9a-f]{2}", bucket.name) and bucket.is_dir()
                and not bucket.is_symlink()):
            continue
        for item in os.scandir(bucket):
            name = item.name
            temporary = temporary_target(name)
            ours = _ENTRY.fullmatch(name) or (temporary is not None and _ENTRY.fullmatch(temporary))
            if not ours or not item.is_file(follow_symlinks=False):
                continue
            try:
                os.unlink(item.path)
            except FileNotFoundError:
                continue
            except OSError as exc:
                raise OutputError(f"cannot remove the cache entry {item.path}: "
                                  f"{exc.strerror or exc}") from None
            removed += temporary is None
        _remove_if_empty(bucket)
    _remove_if_empty(entries)
    return removed


def _remove_if_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:
        pass  # not empty (a file of someone else's), or gone


class AssetCache:
    """The entries of one cache folder (see the module's description).

    Parameters
    ----------
    root : Path
        The cache folder; made (with its ``assets`` sub-folder) on the first write.

    Notes
    -----
    Picklable (its folder only), so that it reaches worker processes and Ray actors with the
    library that uses it. Reads and writes never raise for a problem of the cache itself: a
    damaged entry reads as a miss; a folder that cannot be written logs one warning and the
    writes of this object stop.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._writable = True

    def __repr__(self) -> str:
        return f"AssetCache({str(self.root)!r})"

    def __getstate__(self) -> dict:
        return {"root": self.root}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["root"])

    def key(self, entry: AssetEntry, *, options: Mapping[str, Any]) -> str | None:
        """The cache key of an indexed asset (a built-in primitive's from its name and the code
        that makes it), or None when it is not cached (a file that cannot be read: loading it
        will say why).

        Parameters
        ----------
        entry : AssetEntry
        options : mapping of str to JSON value
            The load options that change the result (``{"max_triangles": 1000000}``).

        Returns
        -------
        str or None
            64 hexadecimal digits.
        """
        digest = hashlib.sha256()
        head = {"loader": LOADER_VERSION, "kind": entry.kind, "options": dict(options)}
        if entry.kind == "primitive":  # made by code: the code's version instead of files
            head.update(name=entry.primitive, made_by=_primitive_code())
            digest.update(json.dumps(head, sort_keys=True).encode())
            return digest.hexdigest()
        files = asset_files(entry)
        if files is None:
            return None
        head["name"] = files[0].name.lower()
        digest.update(json.dumps(head, sort_keys=True).encode())
        for path in files:
            try:
                file_digest = _file_sha256(path)
            except OSError:
                if path == files[0]:
                    return None
                file_digest = b"missing"  # a missing texture or MTL: a warning when loaded
            digest.update(path.suffix.lower().encode() + b"\0" + file_digest)
        return digest.hexdigest()

    def path(self, key: str, kind: str) -> Path:
        """The file of entry ``key`` of ``kind`` (``geometry``, ``look``, ``poses-…``)."""
        return self.root / _ENTRIES / key[:2] / f"{key}.{kind}.npz"

    def read(self, key: str, kind: str) -> tuple[dict, dict[str, np.ndarray]] | None:
        """An entry's JSON values and arrays, or None for a miss (absent, truncated, damaged,
        or another key's).

        Returns
        -------
        (dict, dict of str to ndarray) or None
        """
        path = self.path(key, kind)
        try:
            with np.load(path, allow_pickle=False) as data:
                members = {name: data[name] for name in data.files}
        except FileNotFoundError:
            return None
        except Exception as exc:  # noqa: BLE001 - a damaged entry is a miss, whatever it raises
            logger.info("asset cache entry %s cannot be read (%s): loading the asset again",
                        path, " ".join(str(exc).split()) or type(exc).__name__)
            return None
        try:
            meta = json.loads(members[_META].tobytes().decode())
            if not isinstance(meta, dict) or meta.get("format") != _FORMAT:
                raise ValueError("not an entry of this format")
            arrays = _unpacked(members[_DATA], meta.pop("layout"))
        except Exception as exc:  # noqa: BLE001 - a damaged entry is a miss, whatever it raises
            logger.info("asset cache entry %s does not read back (%s): loading the asset again",
                        path, " ".join(str(exc).split()) or type(exc).__name__)
            return None
        if meta.get("key") != key or meta.get("kind") != kind:
            logger.info("asset cache entry %s is another entry's: loading the asset again", path)
            return None
        return meta, arrays

    def write(self, key: str, kind: str, meta: Mapping[str, Any],
              arrays: Mapping[str, np.ndarray], *, compress: bool = False) -> bool:
        """Write an entry atomically (see the module's description).

        Parameters
        ----------
        key : str
        kind : str
        meta : mapping
            JSON values (floats round-trip exactly).
        arrays : mapping of str to ndarray
            Names must not be ``"meta"``; no object arrays.
        compress : bool
            zlib-compress the members (for textures).

        Returns
        -------
        bool
            Whether the entry was written (False once the folder proved unwritable).
        """
        if not self._writable:
            return False
        data, layout = _packed(arrays)
        text = json.dumps({**meta, "key": key, "kind": kind, "format": _FORMAT,
                           "layout": layout}, sort_keys=True)
        members = {_DATA: data, _META: np.frombuffer(text.encode(), dtype=np.uint8)}
        path = self.path(key, kind)
        save = np.savez_compressed if compress else np.savez
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic_stream(path, lambda handle: save(handle, **members))
        except (OSError, OutputError) as exc:
            self._writable = False
            logger.warning("the asset cache %s cannot be written (%s): assets are loaded "
                           "without it", self.root, " ".join(str(exc).split()))
            return False
        return True


@functools.lru_cache(maxsize=1)
def _primitive_code() -> str:
    """What a built-in primitive's cache key holds of the code that makes it: trimesh's version
    and the SHA-256 of :mod:`synthscene.assets.primitives`'s source (read once per process)."""
    import trimesh

    from synthscene.assets import primitives

    source = Path(primitives.__file__).read_bytes()
    return f"trimesh {trimesh.__version__} " + hashlib.sha256(source).hexdigest()


def _file_sha256(path: Path) -> bytes:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.digest()


def _packed(arrays: Mapping[str, np.ndarray]) -> tuple[np.ndarray, dict[str, list]]:
    """Every array's bytes in one uint8 array, and where each is: name -> [dtype, shape,
    offset]."""
    layout: dict[str, list] = {}
    chunks, offset = [], 0
    for name, array in arrays.items():
        array = np.ascontiguousarray(array)
        if array.dtype.hasobject:
            raise TypeError(f"{name}: object arrays are not stored")
        layout[name] = [array.dtype.str, list(array.shape), offset]
        chunks.append(array.reshape(-1).view(np.uint8))
        offset += array.nbytes
    data = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.uint8)
    return data, layout


def _unpacked(data: np.ndarray, layout: Mapping[str, list]) -> dict[str, np.ndarray]:
    """The arrays of :func:`_packed` (copies: aligned and writable)."""
    buffer = np.ascontiguousarray(data, dtype=np.uint8)
    out = {}
    for name, (dtype, shape, offset) in layout.items():
        dtype = np.dtype(dtype)
        if dtype.hasobject:
            raise TypeError("object arrays are not read")
        count = int(np.prod(shape, dtype=np.int64))
        out[name] = np.frombuffer(buffer, dtype=dtype, count=count,
                                  offset=int(offset)).reshape(shape).copy()
    return out


def pose_kind(min_tip_rad: float) -> str:
    """The entry kind of stable poses computed with ``min_tip_rad`` (its exact float64 bits)."""
    return "poses-" + struct.pack("<d", float(min_tip_rad)).hex()


def resting_kind(bucket: int, min_tip_rad: float) -> str:
    """The entry kind of the stable poses corrected to the collided shape of scale bucket
    ``bucket`` (:func:`synthscene.assets.margins.margin_shrink`) with ``min_tip_rad`` (the exact
    bits of both)."""
    return "resting-" + struct.pack("<qd", int(bucket), float(min_tip_rad)).hex()


# --------------------------------------------------------------------------------------------
# The files an asset is read from


def asset_files(entry: AssetEntry) -> list[Path] | None:
    """Every file loading ``entry`` may read, its own file first; None for a primitive.

    The file itself; for a URDF, each mesh file and texture it names (resolved as
    :func:`synthscene.assets.urdf.urdf_file_candidates` says); for each mesh file, the MTL files
    an OBJ names and the textures they name, the buffers and images a ``.gltf`` names, the
    texture a PLY header's ``comment TextureFile`` names. Best effort: a file that cannot be
    parsed adds no references (loading it fails, and a failure is never cached).

    Parameters
    ----------
    entry : AssetEntry

    Returns
    -------
    list of Path or None
    """
    if entry.kind == "primitive" or entry.path is None:
        return None
    files = [Path(entry.path)]
    meshes = [Path(entry.path)]
    if entry.kind == "urdf":
        urdf_meshes, textures = _urdf_references(Path(entry.path))
        meshes = urdf_meshes
        files += urdf_meshes + textures
    for mesh in meshes:
        files += _mesh_references(mesh)
    seen: set[Path] = set()
    unique = []
    for path in files:
        if path not in seen:
            seen.add(path)
            unique.append(path)
    return unique


def _urdf_references(path: Path) -> tuple[list[Path], list[Path]]:
    from synthscene.assets.urdf import resolve_urdf_file

    try:
        root = ET.parse(path).getroot()
    except (ET.ParseError, OSError, UnicodeDecodeError):
        return [], []
    found: dict[str, list[Path]] = {"mesh": [], "texture": []}
    for tag in found:
        for element in root.iter(tag):
            name = element.get("filename") or ""
            resolved = resolve_urdf_file(name, path) if name else None
            if resolved is not None and resolved not in found[tag]:
                found[tag].append(resolved)
    return found["mesh"], found["texture"]


def _mesh_references(path: Path) -> list[Path]:
    suffix = path.suffix.lower()
    try:
        if suffix == ".obj":
            return _obj_references(path)
        if suffix == ".gltf":
            data = json.loads(path.read_text(encoding="utf-8"))
            uris = [item.get("uri") for key in ("buffers", "images")
                    for item in data.get(key, []) if isinstance(item, dict)]
            return [path.parent / u for u in uris
                    if isinstance(u, str) and u and not u.startswith("data:")]
        if suffix == ".ply":
            with open(path, "rb") as handle:
                header = handle.read(1 << 16).split(b"end_header")[0]
            names = re.findall(rb"(?m)^comment[ \t]+TextureFile[ \t]+([^\r\n]+)", header)
            return [path.parent / n.decode("utf-8", "replace").strip() for n in names]
    except (OSError, ValueError, UnicodeDecodeError, AttributeError):
        return []
    return []


def _obj_references(path: Path) -> list[Path]:
    from synthscene.assets.appearance import _obj_mtl_files, _parse_mtl

    out: list[Path] = []
    for mtl in _obj_mtl_files(path):
        out.append(mtl)
        if not mtl.is_file():
            continue
        for entry in _parse_mtl(mtl).values():
            if entry.map_kd is not None:
                out.append(mtl.parent / entry.map_kd.replace("\\", "/"))
    return out
