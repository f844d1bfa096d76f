"""The asset library: the assets of a set of sources, their categories, loaded on first use.

An :class:`AssetLibrary` is built from :class:`AssetSource` strings (from a scenario file or
Python): ``primitive:NAME``, ``pybullet_data:RELPATH``, ``dir:PATH``, ``file:PATH``,
``assets:RELPATH`` (see :mod:`synthscene.assets.sources`).

Construction indexes keys and categories eagerly (files must exist, globs must match, primitives
must be known) but loads meshes lazily: :meth:`AssetLibrary.get` loads an asset on first use and
keeps it (at most ``limits.max_loaded_mib`` of a scenario's assets by their bytes and at most
``limits.max_loaded_assets`` of them, least recently used first out:
:mod:`synthscene.assets.loaded`), through the on-disk asset cache when it has one
(:mod:`synthscene.assets.cache`). Every loaded :class:`Asset` is *normalised*: its mesh's
axis-aligned bounding box is centred on the origin and its longest edge is exactly 1, so
``SceneObject.scale`` is the object's longest bounding-box edge in metres. Collision hulls are
point sets in the same frame, and so is an asset's :class:`CollisionPrimitive` (the exact box,
sphere, cylinder or capsule of a built-in primitive or of a URDF whose one collision element is
such a solid).

This module is the face of the package: the names of the modules it is built from
(:mod:`~synthscene.assets.sources`, :mod:`~synthscene.assets.loading`,
:mod:`~synthscene.assets.primitives`, :mod:`~synthscene.assets.collision`) that users need are
imported here too.

Every problem a user can cause raises :class:`~synthscene.errors.AssetError` with a one-line
message naming the file and the config location (``AssetSource.where``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import trimesh

from synthscene.assets.appearance import VisualPart
from synthscene.assets.cache import AssetCache
from synthscene.assets.cache_records import (
    geometry_from_record,
    look_from_record,
    rebuilt_geometry,
    rebuilt_look,
)
from synthscene.assets.collision import MAX_HULL_POINTS, CollisionPrimitive
from synthscene.assets.footprint import asset_bytes, look_bytes
from synthscene.assets.loaded import LoadedAssets
from synthscene.assets.loading import load_geometry, load_look
from synthscene.assets.primitives import PRIMITIVE_NAMES
from synthscene.assets.sources import (
    ASSET_EXTENSIONS,
    SOURCE_PREFIXES,
    AssetEntry,
    AssetSource,
    asset_error,
    bundled_assets_dir,
    index_source,
)
from synthscene.config.fields import MAX_MESH_TRIANGLES

if TYPE_CHECKING:
    from synthscene.assets.screening import AssetCheck
logger = logging.getLogger(__name__)

__all__ = [
    "ASSET_EXTENSIONS",
    "PRELOAD_LIMIT",
    "MAX_HULL_POINTS",
    "PRIMITIVE_NAMES",
    "SOURCE_PREFIXES",
    "SceneLibraries",
    "Asset",
    "AssetLibrary",
    "AssetSource",
    "CollisionPrimitive",
    "bundled_assets_dir",
]


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
    unit_m : float
        Metres per unit of the file's coordinates (``assets[i].unit``; 0.001 for a BOP model).
    cache : AssetCache or None
        The on-disk cache the asset was loaded through (where its stable poses are kept too).
    cache_key : str or None
        Its key in ``cache`` (None without a cache).
    """

    key: str
    category: str
    mesh: trimesh.Trimesh
    collision_hulls: tuple[np.ndarray, ...]
    source_path: Path | None
    collision_primitive: CollisionPrimitive | None = None
    normalised_from_file: np.ndarray = field(default_factory=lambda: np.eye(4))
    unit_m: float = 1.0

    @property
    def native_size_m(self) -> float:
        """The asset's own size: the longest edge of its file's bounding box, in metres (the
        file's units times ``unit_m``); what ``objects.size_m: native`` gives each object."""
        scale = float(np.linalg.norm(self.normalised_from_file[:3, 0]))
        return self.unit_m / scale

    @property
    def file_origin(self) -> np.ndarray:
        """``(3,) float64``: the origin of the file's frame in the normalised frame (unitless;
        times the object's size for metres in the object frame). At native size, an object's
        pose labels are relative to this point (its file is its model)."""
        return np.array(self.normalised_from_file[:3, 3], dtype=np.float64)
    cache: AssetCache | None = None
    cache_key: str | None = None


class AssetLibrary:
    """Keys, categories and lazily loaded meshes of a set of asset sources.

    Parameters
    ----------
    sources : sequence of AssetSource
        Indexed in order. The same key from two sources is kept once; giving it two different
        categories raises.
    max_triangles : int
        Triangle budget of one asset's mesh; a larger one is refused when it is loaded.
    cache : AssetCache, optional
        The on-disk cache to load through (:func:`synthscene.assets.cache.open_cache`); None:
        every asset is read from its files.
    loaded : LoadedAssets, optional
        Where loaded assets are held (shared by the libraries of a scenario, so that its limit
        holds for them together); None: a store of this library's own, without a limit.

    Raises
    ------
    AssetError
        If a source is malformed (unknown prefix or primitive), names a missing file or folder,
        or matches no asset file. Meshes are not read here: see :meth:`get` and :meth:`preload`.

    Notes
    -----
    ``get`` and ``look`` are thread-safe. Pickling a library (to send it to worker processes)
    keeps its index, its cache folder and its store's limit and drops the loaded assets, so a
    process loads an asset once while it holds it.
    """

    def __init__(self, sources: Sequence[AssetSource], *,
                 max_triangles: int = MAX_MESH_TRIANGLES, cache: AssetCache | None = None,
                 loaded: LoadedAssets | None = None) -> None:
        self.max_triangles = int(max_triangles)
        self.cache = cache
        self.loaded = loaded if loaded is not None else LoadedAssets()
        entries: dict[str, AssetEntry] = {}
        for source in sources:
            for entry in index_source(source):
                previous = entries.get(entry.key)
                if previous is None:
                    entries[entry.key] = entry
                elif previous.category != entry.category:
                    raise asset_error(
                        entry.where,
                        entry.key,
                        f"asset is listed twice with different categories "
                        f"({previous.category!r} at {previous.where or '?'}, {entry.category!r})",
                    )
        self._entries = entries
        self.keys: tuple[str, ...] = tuple(entries)
        self.categories: tuple[str, ...] = tuple(sorted({e.category for e in entries.values()}))
        self._token = object()  # this library's assets in ``loaded``
        self._cache_keys: dict[str, str | None] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        """Whether the library indexes asset ``key`` (a dict lookup, not a scan of ``keys``)."""
        return key in self._entries

    def __repr__(self) -> str:
        return f"AssetLibrary({len(self)} assets, categories={list(self.categories)})"

    def __getstate__(self) -> dict:
        return {"entries": self._entries, "max_triangles": self.max_triangles,
                "cache": self.cache, "loaded": self.loaded}

    def __setstate__(self, state: dict) -> None:
        self._entries = state["entries"]
        self.max_triangles = state.get("max_triangles", MAX_MESH_TRIANGLES)
        self.cache = state.get("cache")
        loaded = state.get("loaded")
        self.loaded = loaded if loaded is not None else LoadedAssets()
        self.keys = tuple(self._entries)
        self.categories = tuple(sorted({e.category for e in self._entries.values()}))
        self._token = object()
        self._cache_keys = {}

    @property
    def entries(self) -> tuple[AssetEntry, ...]:
        """The indexed assets (key, category, file, ``on_error``), in key order."""
        return tuple(self._entries.values())

    def without(self, keys: Sequence[str]) -> AssetLibrary:
        """A library of the same index less ``keys`` (assets left out, e.g. broken ones:
        :mod:`synthscene.assets.screening`): its keys and categories are those of a library
        whose sources never held ``keys``. It loads through the same on-disk cache into the
        same store of loaded assets, and keeps what this library has loaded.
        """
        dropped = set(keys)
        library = AssetLibrary.__new__(AssetLibrary)
        library.__setstate__({"entries": {k: e for k, e in self._entries.items()
                                          if k not in dropped},
                              "max_triangles": self.max_triangles, "cache": self.cache,
                              "loaded": self.loaded})
        library._token = self._token  # the same assets: those already loaded are kept
        library._cache_keys = self._cache_keys
        return library

    def _entry(self, key: str) -> AssetEntry:
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

    def bop_obj_id(self, key: str) -> int | None:
        """The BOP object id of asset ``key`` (a ``bop:`` model), else None; without loading it.

        Raises
        ------
        KeyError
            If the library has no such key.
        """
        return self._entry(key).bop_obj_id

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
        with self.loaded.lock:
            asset = self.loaded.get(self._token, key, "asset")
            if asset is None:
                cache_key = self._cache_key(entry)
                geometry = self._cached(cache_key, "geometry", geometry_from_record)
                if geometry is None:
                    geometry, record = rebuilt_geometry(load_geometry(entry, self.max_triangles),
                                                        summary=cache_key is not None)
                    self._store(cache_key, "geometry", record)
                mesh, hulls, solid, normalised_from_file = geometry
                asset = Asset(
                    key=entry.key,
                    category=entry.category,
                    mesh=mesh,
                    collision_hulls=hulls,
                    source_path=entry.path,
                    collision_primitive=solid,
                    normalised_from_file=normalised_from_file,
                    unit_m=entry.unit_m,
                    cache=self.cache if cache_key is not None else None,
                    cache_key=cache_key,
                )
                self.loaded.put(self._token, key, "asset", asset, asset_bytes(asset))
        return asset

    def holds(self, key: str) -> bool:
        """Whether asset ``key`` is loaded now (held by :attr:`loaded`), without loading it or
        making it recently used."""
        return self.loaded.holds(self._token, key)

    @property
    def evictions(self) -> int:
        """How many assets the store of loaded assets has dropped so far (it may be shared)."""
        return self.loaded.evicted

    def _cache_key(self, entry: AssetEntry) -> str | None:
        """The asset's key in the on-disk cache (its files hashed once per process)."""
        if self.cache is None:
            return None
        if entry.key not in self._cache_keys:
            self._cache_keys[entry.key] = self.cache.key(
                entry, options={"max_triangles": self.max_triangles})
        return self._cache_keys[entry.key]

    def _cached(self, cache_key: str | None, kind: str, rebuild):
        """What the cache holds for ``cache_key`` and ``kind``, rebuilt; None for a miss."""
        if cache_key is None or self.cache is None:
            return None
        found = self.cache.read(cache_key, kind)
        if found is None:
            return None
        try:
            return rebuild(*found)
        except Exception:  # noqa: BLE001 - not a record this code reads: load and rewrite it
            logger.info("asset cache entry %s of %s does not read back: loading it again",
                        kind, cache_key)
            return None

    def _store(self, cache_key: str | None, kind: str, record) -> None:
        if cache_key is not None and self.cache is not None:
            meta, arrays = record
            textured = any(name.startswith("texture_") for name in arrays)
            self.cache.write(cache_key, kind, meta, arrays, compress=textured)

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
        entry = self._entry(key)
        with self.loaded.lock:
            parts = self.loaded.get(self._token, key, "look")
            if parts is None:
                asset = self.get(key)
                parts = self._cached(asset.cache_key, "look", look_from_record)
                if parts is None:
                    parts, record = rebuilt_look(tuple(
                        p.transformed(asset.normalised_from_file)
                        for p in load_look(entry, self.max_triangles)))
                    self._store(asset.cache_key, "look", record)
                self.loaded.put(self._token, key, "look", parts, look_bytes(parts))
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


PRELOAD_LIMIT = 200
"""Libraries with at most this many assets are loaded up front and kept; larger ones (globs over
thousands of files) load each asset on first use. Either way a run checks every asset before its
first frame (:mod:`synthscene.assets.screening`)."""


@dataclass
class SceneLibraries:
    """Every mesh a scenario uses.

    Attributes
    ----------
    objects : AssetLibrary
        Labelled objects; its categories are the dataset's.
    distractors : AssetLibrary or None
    fixture_keys : tuple of str
        The asset key of each entry of ``scenario.fixtures``, in order (a shelf with
        ``boards`` drawn per frame: ``primitive:shelf``, and ``primitive:shelf-N`` for each N it
        may draw are in ``fixtures`` too).
    fixtures : AssetLibrary or None
    backgrounds : tuple of str
        The image files of ``background.images`` (see :func:`background_images`).
    skipped : tuple of AssetCheck
        The assets left out of these libraries because they cannot be loaded (``on_error:
        skip``), in key order (:func:`synthscene.assets.screening.screen_scene`).
    environments : tuple of str
        The environment map files of ``lights.environment.images`` (empty for the procedural
        sky or none).
    """

    objects: AssetLibrary
    distractors: AssetLibrary | None = None
    fixtures: AssetLibrary | None = None
    fixture_keys: tuple[str, ...] = ()
    backgrounds: tuple[str, ...] = ()
    skipped: tuple[AssetCheck, ...] = ()
    environments: tuple[str, ...] = ()

    @property
    def keys(self) -> tuple[str, ...]:
        """Keys of the labelled objects' assets."""
        return self.objects.keys

    @property
    def categories(self) -> tuple[str, ...]:
        """Sorted category names of the labelled objects (COCO ids are positions + 1)."""
        return self.objects.categories

    def category_of(self, key: str) -> str:
        """Category of an object asset."""
        return self.objects.category_of(key)

    def __len__(self) -> int:
        return len(self.objects)

    def get(self, key: str) -> Asset:
        """The loaded asset ``key`` from whichever library holds it.

        Raises
        ------
        KeyError
            If no library holds ``key``.
        AssetError
            If the asset cannot be loaded.
        """
        return self._holder(key).get(key)

    def look(self, key: str) -> tuple[VisualPart, ...]:
        """The asset's own look (:meth:`AssetLibrary.look`) from whichever library holds it.

        Raises
        ------
        KeyError
            If no library holds ``key``.
        AssetError
            If the asset cannot be loaded.
        """
        return self._holder(key).look(key)

    def holds(self, key: str) -> bool:
        """Whether asset ``key`` is loaded now in whichever library indexes it (False for a key
        none indexes)."""
        try:
            return self._holder(key).holds(key)
        except KeyError:
            return False

    @property
    def evictions(self) -> int:
        """How many assets the libraries' stores of loaded assets have dropped so far."""
        stores = {id(library.loaded): library.loaded for library in self._libraries()}
        return sum(store.evicted for store in stores.values())

    def _libraries(self) -> tuple[AssetLibrary, ...]:
        return tuple(library for library in (self.objects, self.distractors, self.fixtures)
                     if library is not None)

    def _holder(self, key: str) -> AssetLibrary:
        for library in self._libraries():
            if key in library:
                return library
        raise KeyError(key)

    def preload(self) -> None:
        """Load every asset of the small libraries now (see ``PRELOAD_LIMIT``)."""
        for library in self._libraries():
            if len(library) <= PRELOAD_LIMIT:
                library.preload()
