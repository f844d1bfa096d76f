"""Screening asset libraries: every asset loaded and checked once, before the first frame.

:func:`check_entry` loads one indexed asset as a run would (its geometry, collision and look) and
returns an :class:`AssetCheck`: usable or refused with a one-line reason, and the facts
``synthscene assets`` tabulates. :func:`screen_entries` checks many, over worker processes;
:func:`screen_scene` checks a scenario's libraries (given hull budgets, also merging each
asset's collision hulls as the simulator will, through the asset cache, so that a hull that
cannot be made solid is found here and the workers read the merged hulls instead of computing
them) and applies each source's ``on_error``:

* ``skip`` (default for a folder or a glob): the asset is left out of its library's index before
  any frame is drawn, so every worker draws from the same library and the dataset is the one a
  library without that file would give, whatever the number of workers and after ``--resume``;
* ``fail`` (default for a source naming one file): the run stops before its first frame with
  :class:`~synthscene.errors.AssetError` naming the file and the reason.

A category whose assets are all skipped is an error naming the category. The outcome depends only
on the files, never on scheduling: results come back in key order.
"""

from __future__ import annotations

import logging
import multiprocessing
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, replace
from functools import partial

import numpy as np
import trimesh

from synthscene.assets.appearance import VisualPart
from synthscene.assets.cache_records import collision_parts
from synthscene.assets.library import PRELOAD_LIMIT, AssetLibrary, SceneLibraries
from synthscene.assets.loading import load_geometry, load_look
from synthscene.assets.sources import AssetEntry
from synthscene.config.fields import MAX_MESH_TRIANGLES
from synthscene.errors import AssetError

__all__ = ["AssetCheck", "check_entry", "process_count", "screen_entries", "screen_library",
           "screen_scene"]

logger = logging.getLogger(__name__)

MIN_PARALLEL = 16
"""Fewer assets than this are checked in this process (starting processes costs more)."""
_PACKAGE = "synthscene.assets"
"""The loggers whose warnings an :class:`AssetCheck` collects as its ``notes``."""
MAX_REASON_CHARS = 300
"""Longest reason kept (one line); a longer one is cut with an ellipsis."""


@dataclass(frozen=True)
class AssetCheck:
    """What loading one asset showed.

    Attributes
    ----------
    key : str
    category : str
    file : str
        The asset's file (a URDF for URDF assets); empty for a primitive.
    ok : bool
        Whether a run can use it.
    reason : str
        Why not, on one line; a file the asset's refers to (a URDF's mesh) is named relative to
        the asset's folder; empty when ``ok``.
    on_error : {"skip", "fail"}
        What a run does when it is not ``ok`` (its source's ``on_error``).
    triangles : int
        Triangles of its visual mesh.
    extent_m : (3,) tuple of float
        Size of its bounding box along x, y, z in the file's own units read as metres (for a
        URDF: in its link frame, mesh ``scale`` applied), *before* normalisation; a run scales
        each object to its drawn ``size_m`` (the longest edge) all the same.
    watertight : bool
        Whether the visual mesh, with coincident vertices merged, is closed (every edge shared
        by exactly two triangles): a mesh with holes still renders and collides (by its hulls).
    materials : int
        Distinct materials its files declare (0: drawn in neutral grey).
    textures : int
        Visual parts with a texture image that was found and read.
    hulls : int
        Convex parts it collides with (1 for an exact box, sphere, cylinder or capsule).
    collision : str
        ``"hulls"``, or the exact solid that collides (``"box"``, ``"sphere"``, ...).
    notes : tuple of str
        Warnings while reading it (a missing MTL or texture file, ...), one line each, files
        named as in ``reason``.
    """

    key: str
    category: str
    file: str
    ok: bool
    reason: str = ""
    on_error: str = "fail"
    triangles: int = 0
    extent_m: tuple[float, float, float] = (0.0, 0.0, 0.0)
    watertight: bool = False
    materials: int = 0
    textures: int = 0
    hulls: int = 0
    collision: str = ""
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        """The check as JSON-able data (lists for tuples)."""
        data = asdict(self)
        data["extent_m"] = list(self.extent_m)
        data["notes"] = list(self.notes)
        return data


class _Notes(logging.Handler):
    """Collects the warnings the asset package logs while one asset is read."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(_one_line(record.getMessage()))


def _one_line(text: str) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= MAX_REASON_CHARS else text[:MAX_REASON_CHARS - 3] + "..."


def _reason(entry: AssetEntry, exc: BaseException) -> str:
    """The message of ``exc`` as :func:`_plain` gives it (the type of an unexpected one)."""
    if not isinstance(exc, AssetError):
        return _one_line(f"cannot use asset ({type(exc).__name__}: {exc})")
    return _plain(entry, str(exc))


def _plain(entry: AssetEntry, text: str) -> str:
    """``text`` on one line without the config location and the asset's own file, which
    :class:`AssetCheck` holds apart; a file beside the asset's is named relative to it."""
    text = " ".join(text.split())
    for prefix in (entry.where, str(entry.path) if entry.path is not None else ""):
        if prefix and text.startswith(prefix + ": "):
            text = text[len(prefix) + 2:]
    if entry.path is not None:
        text = text.replace(f"{entry.path.parent}/", "")
    return _one_line(text)


def _file(entry: AssetEntry) -> str:
    return str(entry.path) if entry.path is not None else ""


def _facts(entry: AssetEntry, mesh: trimesh.Trimesh, hulls: tuple[np.ndarray, ...],
           solid_kind: str | None, normalised_from_file: np.ndarray,
           parts: Sequence[VisualPart]) -> AssetCheck:
    longest = 1.0 / float(normalised_from_file[0, 0])  # normalised: longest edge 1
    extent = np.asarray(mesh.extents, dtype=np.float64) * longest
    closed = trimesh.Trimesh(vertices=np.asarray(mesh.vertices), faces=np.asarray(mesh.faces),
                             process=True, validate=False)
    declared = {(p.material.declared_by, tuple(p.material.base_color_factor),
                 id(p.material.base_color_texture)) for p in parts
                if p.material.declared_by != "default"}
    return AssetCheck(
        key=entry.key, category=entry.category, file=_file(entry), ok=True,
        on_error=entry.on_error, triangles=len(mesh.faces),
        extent_m=tuple(float(x) for x in extent),  # type: ignore[arg-type]
        watertight=bool(closed.is_watertight), materials=len(declared),
        textures=sum(p.material.base_color_texture is not None for p in parts),
        hulls=1 if solid_kind else len(hulls), collision=solid_kind or "hulls")


def _checked(entry: AssetEntry, load) -> AssetCheck:
    """Run ``load()`` (returning the facts), turning every failure into a refused check."""
    notes = _Notes()
    logging.getLogger(_PACKAGE).addHandler(notes)
    try:
        check = load()
    except AssetError as exc:
        check = AssetCheck(key=entry.key, category=entry.category, file=_file(entry), ok=False,
                           reason=_reason(entry, exc), on_error=entry.on_error)
    except (MemoryError, RecursionError):
        raise
    except Exception as exc:  # noqa: BLE001 - a broken file may raise anything in a reader
        check = AssetCheck(key=entry.key, category=entry.category, file=_file(entry), ok=False,
                           reason=_reason(entry, exc), on_error=entry.on_error)
    finally:
        logging.getLogger(_PACKAGE).removeHandler(notes)
    return replace(check, notes=tuple(_plain(entry, line) for line in notes.lines))


def check_entry(entry: AssetEntry, max_triangles: int = MAX_MESH_TRIANGLES) -> AssetCheck:
    """Load one indexed asset as a run would and describe it (nothing is kept).

    Parameters
    ----------
    entry : AssetEntry
    max_triangles : int
        Triangle budget of the asset's mesh.

    Returns
    -------
    AssetCheck
        Refused (``ok`` False, with the reason) where loading its geometry or its look raises,
        whatever the error; never raises for a bad file.
    """
    def load() -> AssetCheck:
        mesh, hulls, solid, transform = load_geometry(entry, max_triangles)
        parts = load_look(entry, max_triangles)
        return _facts(entry, mesh, hulls, solid.kind if solid is not None else None,
                      transform, parts)

    return _checked(entry, load)


def _quiet_worker() -> None:
    """Screening processes report through their results, not on the terminal."""
    logging.getLogger("synthscene").propagate = False
    logging.getLogger("synthscene").addHandler(logging.NullHandler())
    warnings.simplefilter("ignore")


def process_count(assets: int, workers: int) -> int:
    """Processes :func:`screen_entries` uses for ``assets`` assets and ``workers`` asked for:
    1 (this process) below :data:`MIN_PARALLEL` assets, else at most one per asset."""
    return 1 if assets < MIN_PARALLEL else max(1, min(int(workers), assets))


def screen_entries(entries: Sequence[AssetEntry], *, max_triangles: int = MAX_MESH_TRIANGLES,
                   workers: int = 1,
                   progress: Callable[[AssetCheck], None] | None = None,
                   libraries: AssetLibrary | SceneLibraries | None = None,
                   max_hulls: int | None = None) -> list[AssetCheck]:
    """Check every entry (:func:`check_entry`, or through ``libraries``), over ``workers``
    processes.

    Parameters
    ----------
    entries : sequence of AssetEntry
    max_triangles : int
    workers : int
        Processes (``spawn``ed) to check in; 1, or fewer than :data:`MIN_PARALLEL` entries,
        checks in this process.
    progress : callable, optional
        Called in this process with each check, in order, as it is done (a progress bar).
    libraries : AssetLibrary or SceneLibraries, optional
        Libraries holding every entry: the assets load through them, hence through their
        on-disk asset cache (:mod:`synthscene.assets.cache`), so that a second check of the
        same files reads the cache (each process keeps at most the libraries'
        ``max_loaded_mib`` and ``max_loaded_assets``).
    max_hulls : int, optional
        With ``libraries``: also merge each asset's collision hulls down to this many
        (:func:`~synthscene.assets.cache_records.collision_parts`, written to the cache); an
        asset whose hulls cannot be made solid is refused.

    Returns
    -------
    list of AssetCheck
        One per entry, in the order of ``entries``, whatever the scheduling.

    Raises
    ------
    AssetError
        If a screening process dies (a reader that crashes the interpreter).
    """
    start = time.perf_counter()
    workers = process_count(len(entries), workers)
    checks: list[AssetCheck] = []

    def done(check: AssetCheck) -> None:
        checks.append(check)
        if progress is not None:
            progress(check)

    check = (partial(check_entry, max_triangles=max_triangles) if libraries is None
             else partial(_check_in, libraries, max_hulls=max_hulls))
    if workers == 1:
        for entry in entries:
            done(check(entry))
    else:
        chunk = max(1, min(16, len(entries) // (workers * 4)))
        try:
            with ProcessPoolExecutor(max_workers=workers, initializer=_quiet_worker,
                                     mp_context=multiprocessing.get_context("spawn")) as pool:
                for check in pool.map(check, entries, chunksize=chunk):
                    done(check)
        except BrokenProcessPool as exc:
            raise AssetError(f"checking the assets stopped: a checking process died ({exc}); "
                             "check them with --workers 1 to find the file") from None
    logger.info("checked %d assets in %.1f s with %d process(es): %d refused", len(checks),
                time.perf_counter() - start, workers, sum(not c.ok for c in checks))
    return checks


def screen_library(library: AssetLibrary, *, workers: int = 1,
                   max_hulls: int | None = None) -> list[AssetCheck]:
    """Check every asset of ``library``, in key order.

    A library of at most :data:`~synthscene.assets.library.PRELOAD_LIMIT` assets is checked in
    this process through the library itself, which keeps what it loads (its preload); a larger
    one over ``workers`` processes (:func:`screen_entries`), keeping nothing. ``max_hulls``:
    also merge each asset's collision hulls (:func:`screen_entries`).

    Returns
    -------
    list of AssetCheck
    """
    if len(library) > PRELOAD_LIMIT:
        return screen_entries(library.entries, max_triangles=library.max_triangles,
                              workers=workers, libraries=library, max_hulls=max_hulls)
    return [_check_in(library, e, max_hulls=max_hulls) for e in library.entries]


def _check_in(libraries: AssetLibrary | SceneLibraries, entry: AssetEntry, *,
              max_hulls: int | None = None) -> AssetCheck:
    """Check ``entry`` by loading it through ``libraries`` (their cache and store), and merge
    its collision hulls down to ``max_hulls`` if given."""
    def load() -> AssetCheck:
        asset = libraries.get(entry.key)
        parts = libraries.look(entry.key)
        if max_hulls is not None:
            collision_parts(asset, max_hulls)
        solid = asset.collision_primitive
        return _facts(entry, asset.mesh, asset.collision_hulls,
                      solid.kind if solid is not None else None,
                      asset.normalised_from_file, parts)
    return _checked(entry, load)


def _kept(library: AssetLibrary, checks: Sequence[AssetCheck]) -> AssetLibrary:
    """``library`` less its refused ``skip`` assets (refused ``fail`` ones raise).

    Raises
    ------
    AssetError
        For the first refused asset whose source says ``on_error: fail``, naming its file and
        reason; for a category all of whose assets are refused.
    """
    where = {e.key: e.where for e in library.entries}
    refused = [c for c in checks if not c.ok]
    for check in refused:
        if check.on_error == "fail":
            named = [p for p in (where[check.key], check.file or check.key) if p]
            raise AssetError(f"{': '.join(named)}: {check.reason} (on_error: fail; "
                             "on_error: skip leaves such an asset out)")
    if not refused:
        return library
    left = library.without([c.key for c in refused])
    for category in library.categories:
        if category not in left.categories:
            first = next(c for c in refused if c.category == category)
            prefix = f"{where[first.key]}: " if where[first.key] else ""
            count = sum(c.category == category for c in refused)
            raise AssetError(f"{prefix}every asset of category {category!r} is broken "
                             f"({count} skipped; the first, {first.file or first.key}: "
                             f"{first.reason}); fix or remove them, or drop the category")
    return left


def screen_scene(libraries: SceneLibraries, *, workers: int = 1,
                 max_hulls: Mapping[str, int] | None = None) -> SceneLibraries:
    """Check every asset of a scenario's libraries and leave out the broken ``skip`` ones.

    Parameters
    ----------
    libraries : SceneLibraries
    workers : int
        Processes for a library over :data:`~synthscene.assets.library.PRELOAD_LIMIT` assets.
    max_hulls : mapping of str to int, optional
        Per library (``objects``, ``distractors``, ``fixtures``), the hull budget its assets'
        collision hulls are merged down to while they are checked (:func:`screen_library`).

    Returns
    -------
    SceneLibraries
        ``libraries`` with the refused ``on_error: skip`` assets out of every library's index
        and listed in ``skipped`` (key order, each key once).

    Raises
    ------
    AssetError
        For a refused ``on_error: fail`` asset (naming its file and reason), or a category of
        which every asset is refused (naming it).
    """
    kept: dict[str, AssetLibrary | None] = {}
    skipped: dict[str, AssetCheck] = {}
    for name in ("objects", "distractors", "fixtures"):
        library = getattr(libraries, name)
        if library is None:
            kept[name] = None
            continue
        checks = screen_library(library, workers=workers,
                                max_hulls=None if max_hulls is None else max_hulls.get(name))
        kept[name] = _kept(library, checks)
        skipped.update((c.key, c) for c in checks if not c.ok)
    if not skipped:
        return libraries
    objects = kept["objects"]
    assert objects is not None
    return replace(libraries, objects=objects, distractors=kept["distractors"],
                   fixtures=kept["fixtures"],
                   skipped=tuple(skipped[k] for k in sorted(skipped)))
