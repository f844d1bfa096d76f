"""``synthscene assets``: look at an asset library before using it.

Indexes every asset of a scenario (its objects, distractors and fixtures, as a run would) or of
one source string (``pybullet_data:random_urdfs/*/*.urdf``, ``dir:PATH``, ``file:PATH``, ...),
checks each one as a run does before its first frame (:mod:`synthscene.assets.screening`, over
worker processes), and reports a table (key, category, triangles, extent, watertight,
materials/textures, collision hulls, status) and a summary (how many are usable, and why each
refused one is). :mod:`synthscene.tools.asset_sheet` draws the contact sheet.
"""

from __future__ import annotations

import json
import os
import posixpath
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from synthscene.assets.library import AssetLibrary, AssetSource, SceneLibraries
from synthscene.assets.screening import AssetCheck, process_count, screen_entries
from synthscene.assets.sources import AssetEntry
from synthscene.config.fields import MAX_MESH_TRIANGLES
from synthscene.errors import OutputError
from synthscene.io.fileio import write_atomic

__all__ = ["AssetReport", "check_assets", "index_target", "label", "write_report_json"]

SCENARIO_SUFFIXES = (".yaml", ".yml")
"""A target ending so is read as a scenario file; anything else is an asset source."""
ROLES = ("objects", "distractors", "fixtures")


@dataclass
class AssetReport:
    """The checked assets of a scenario or a source.

    Attributes
    ----------
    target : str
        What was indexed (the scenario file or the source string).
    checks : list of AssetCheck
        One per asset, in index order (objects, then distractors, then fixtures; each key once).
    roles : dict of str to str
        ``objects``, ``distractors`` or ``fixtures`` for each key (its first library).
    seconds : float
        Wall-clock time of the checks.
    workers : int
        Processes that checked them.
    libraries : SceneLibraries or None
        The indexed libraries (what serves the meshes of a contact sheet).
    """

    target: str
    checks: list[AssetCheck]
    roles: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    workers: int = 1
    libraries: SceneLibraries | None = field(default=None, repr=False)

    @property
    def refused(self) -> list[AssetCheck]:
        """The checks of the assets a run cannot use."""
        return [c for c in self.checks if not c.ok]

    def to_dict(self) -> dict:
        """The report as JSON-able data: counts, then one object per asset (with its role)."""
        return {"target": self.target, "assets": len(self.checks),
                "ok": len(self.checks) - len(self.refused), "refused": len(self.refused),
                "seconds": round(self.seconds, 3), "workers": self.workers,
                "checks": [{**c.to_dict(), "role": self.roles.get(c.key, "objects")}
                           for c in self.checks]}

    def short_name(self, key: str) -> str:
        """``key`` as the table shows it: :func:`label` relative to the folder all the
        checked files share."""
        return label(key, _common_folder([c.file for c in self.checks]))

    def sheet_names(self, keys: Sequence[str]) -> list[str]:
        """Names for the cells of a contact sheet of ``keys``: :meth:`short_name`, less the
        source prefix (``pybullet_data:``, ...) and the folder every key shares, where every
        key has the same prefix (``random_urdfs/*/*.urdf`` gives ``160/160.urdf``)."""
        names = [self.short_name(k) for k in keys]
        prefixes = {n.partition(":")[0] for n in names if ":" in n}
        if len(prefixes) == 1 and all(":" in n for n in names):
            names = [n.partition(":")[2] for n in names]
            folder = posixpath.commonpath([posixpath.dirname(n) for n in names]) \
                if len(names) > 1 else ""
            if folder:
                names = [n[len(folder) + 1:] for n in names]
        return names

    def table(self) -> str:
        """The table, one row an asset, columns aligned (keys as :meth:`short_name`)."""
        root = _common_folder([c.file for c in self.checks])
        header = ("key", "category", "triangles", "extent m (file)", "watertight",
                  "mat/tex", "hulls", "status")
        rows = [header]
        for c in self.checks:
            extent = "x".join(f"{x:.3g}" for x in c.extent_m) if c.ok else "-"
            hulls = (str(c.hulls) if c.collision == "hulls" else c.collision) if c.ok else "-"
            status = "ok" if c.ok else f"refused ({c.on_error})"
            if c.ok and c.notes:
                status = f"ok, {len(c.notes)} warning{'s' if len(c.notes) > 1 else ''}"
            rows.append((label(c.key, root), c.category, str(c.triangles) if c.ok else "-",
                         extent, ("yes" if c.watertight else "no") if c.ok else "-",
                         f"{c.materials}/{c.textures}" if c.ok else "-", hulls, status))
        widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
        right = {2, 5, 6}
        return "\n".join("  ".join(cell.rjust(w) if i in right else cell.ljust(w)
                                   for i, (cell, w) in enumerate(zip(row, widths))).rstrip()
                         for row in rows)

    def summary(self) -> str:
        """How many are usable; each refused asset with its reason; each warning."""
        refused = self.refused
        lines = [f"{len(self.checks)} assets checked in {self.seconds:.1f} s with "
                 f"{self.workers} process{'es' if self.workers > 1 else ''}: "
                 f"{len(self.checks) - len(refused)} ok, {len(refused)} refused"]
        lines += [f"refused: {c.file or c.key}: {c.reason}" for c in refused]
        lines += [f"warning: {c.file or c.key}: {note}" for c in self.checks if c.ok
                  for note in c.notes]
        return "\n".join(lines)


def _common_folder(files: Sequence[str]) -> str:
    """The deepest folder holding every file (empty if none or only one file)."""
    paths = [f for f in files if f]
    if len(paths) < 2:
        return ""
    return os.path.commonpath([os.path.dirname(p) for p in paths])


def label(key: str, root: str = "") -> str:
    """A short name of an asset key: ``dir:`` and ``file:`` keys relative to ``root`` (the
    folder all the listed files share); other keys as they are."""
    prefix, _, rest = key.partition(":")
    if root and prefix in ("dir", "file") and rest.startswith(root.rstrip("/") + "/"):
        return rest[len(root.rstrip("/")) + 1:]
    return key


def index_target(target: str, *, base_dir: Path | None = None,
                 limits: Mapping[str, int] | None = None) -> SceneLibraries:
    """The asset libraries of a scenario file or of one source string (indexed, not loaded).

    Parameters
    ----------
    target : str
        A scenario file (ending ``.yaml`` or ``.yml``): its objects, distractors (when it draws
        any) and fixtures, as a run indexes them; or an asset source (see
        :class:`~synthscene.assets.library.AssetSource`), its assets taken as objects; an
        existing folder is read as ``dir:``.
    base_dir : Path, optional
        Relative paths of a source resolve against it (default: the working directory).
    limits : mapping of str to int, optional
        Limits above their defaults, as ``generate --limit`` (``max_mesh_triangles`` is the
        one that counts here).

    Returns
    -------
    SceneLibraries

    Raises
    ------
    ConfigError
        For a scenario file that is missing or invalid.
    AssetError
        For a source that is malformed, names no file, or matches none.
    """
    if target.lower().endswith(SCENARIO_SUFFIXES):
        from synthscene.config.loading import load_scenario
        from synthscene.run.scene_libraries import index_libraries

        return index_libraries(load_scenario(target, limits=limits))
    source = target
    path = Path(target).expanduser()
    if ":" not in target and (path if path.is_absolute() else (base_dir or Path.cwd()) / path
                              ).is_dir():
        source = f"dir:{target}"
    budget = (limits or {}).get("max_mesh_triangles", MAX_MESH_TRIANGLES)
    return SceneLibraries(objects=AssetLibrary([AssetSource(source=source, base_dir=base_dir)],
                                               max_triangles=budget))


def check_assets(target: str, *, workers: int = 1, base_dir: Path | None = None,
                 limits: Mapping[str, int] | None = None,
                 on_start: Callable[[int], None] | None = None,
                 on_check: Callable[[AssetCheck], None] | None = None) -> AssetReport:
    """Index ``target`` (:func:`index_target`) and check every asset over ``workers`` processes.

    ``on_start(n)`` is called once the ``n`` assets are indexed, ``on_check(check)`` as each is
    checked (a progress bar).

    Returns
    -------
    AssetReport
        Its ``libraries`` serve the usable assets' meshes (for the contact sheet).

    Raises
    ------
    ConfigError, AssetError
        As :func:`index_target`.
    """
    libraries = index_target(target, base_dir=base_dir, limits=limits)
    entries: list[AssetEntry] = []
    roles: dict[str, str] = {}
    for role in ROLES:
        library = getattr(libraries, role)
        for entry in library.entries if library is not None else ():
            if entry.key not in roles:
                roles[entry.key] = role
                entries.append(entry)
    if on_start is not None:
        on_start(len(entries))
    start = time.perf_counter()
    checks = screen_entries(entries, max_triangles=libraries.objects.max_triangles,
                            workers=workers, progress=on_check)
    return AssetReport(target=target, checks=checks, roles=roles,
                       seconds=time.perf_counter() - start,
                       workers=process_count(len(entries), workers), libraries=libraries)


def write_report_json(report: AssetReport, path: str | Path) -> Path:
    """Write :meth:`AssetReport.to_dict` as JSON, atomically.

    Raises
    ------
    OutputError
        If the file cannot be written (its folder missing or read-only, ...).
    """
    path = Path(path)
    if not path.parent.is_dir():
        raise OutputError(f"{path}: cannot write the report: no folder {path.parent}")
    data = json.dumps(report.to_dict(), indent=1, allow_nan=False) + "\n"
    write_atomic(path, data.encode("utf-8"))
    return path
