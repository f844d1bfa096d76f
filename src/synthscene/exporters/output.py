"""The output folder of an export: what it may write, what it wrote, and what ``--overwrite``
removes.

An export of format ``F`` to ``OUT`` writes only inside its *folders*: the top-level names of
``OUT`` it writes (``images``, ``labels``, ``data.yaml``, a split folder, a shard) and those an
earlier export of ``F`` there wrote. It records every file and folder it creates:

- while it runs, in the journal ``OUT/.synthscene-export-F.partial`` (one JSON line per path,
  appended before the file is written), so that an export killed half-way is known, with every
  file it may have left;
- when it is complete, in the manifest ``OUT/.synthscene-export-F.json`` (``{"format": F,
  "files": [...], "dirs": [...]}``, paths relative to ``OUT`` with ``/``), written atomically
  after every other file; then the journal is removed.

Before it writes anything, :func:`open_export` looks at everything in the export's folders (no
symbolic link followed). A file that no manifest or journal of ``F`` lists (or the temporary file
of a listed one) is a *foreign* file, and so is any symbolic link, device or pipe there: the
export is refused, naming the first one, with or without ``overwrite``; nothing is changed.
Without ``overwrite`` a folder holding an export of ``F`` (complete or not) is refused. With it,
exactly the listed files are removed (each checked to be a regular file that is not read-only,
reached through real folders, inside ``OUT``), then the listed folders that are left empty.
Files beside the export's folders (``OUT/notes.txt``) are never looked at.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
from collections.abc import Iterable
from pathlib import Path, PurePosixPath
from typing import IO

from synthscene.errors import DatasetError, OutputError
from synthscene.io.fileio import (
    FileProblem,
    is_inside,
    probe_writable,
    read_regular_file,
    temporary_target,
    write_atomic,
)
from synthscene.io.reader import CocoDataset

__all__ = ["MANIFEST_PREFIX", "ExportFolder", "journal_name", "manifest_name", "open_export"]

MANIFEST_PREFIX = ".synthscene-export-"
"""Start of the names of an export's manifest and journal in its output folder."""

MAX_MANIFEST_BYTES = 1 << 30
"""Largest manifest or journal read (about 10^7 paths)."""


def manifest_name(fmt: str) -> str:
    """``".synthscene-export-<fmt>.json"``: the record of a complete export of ``fmt``."""
    return f"{MANIFEST_PREFIX}{fmt}.json"


def journal_name(fmt: str) -> str:
    """``".synthscene-export-<fmt>.partial"``: the record of an export of ``fmt`` under way."""
    return f"{MANIFEST_PREFIX}{fmt}.partial"


def relative_name(path: str | PurePosixPath) -> str:
    """``path`` as a normalised relative name (``"a/b.png"``).

    Raises
    ------
    ValueError
        If it is absolute, empty, climbs out with ``..``, or holds a NUL character.
    """
    text = str(path)
    pure = PurePosixPath(text)
    if "\0" in text or pure.is_absolute() or not pure.parts or ".." in pure.parts \
            or pure.parts == (".",):
        raise ValueError(f"{text!r} is not a relative path inside the output folder")
    return pure.as_posix()


class _Record:
    """The files and folders of an earlier export of one format in one folder."""

    def __init__(self, files: set[str], dirs: set[str], complete: bool, partial: bool) -> None:
        self.files, self.dirs = files, dirs
        self.complete, self.partial = complete, partial

    @property
    def exists(self) -> bool:
        return self.complete or self.partial


def _read_record(out: Path, fmt: str) -> _Record:
    """Read the manifest and the journal of ``fmt`` in ``out`` (either may be missing).

    Raises
    ------
    synthscene.errors.OutputError
        If one exists but is not a regular file, is too large, or does not hold what an export
        writes there, or lists a path outside ``out``.
    """
    files: set[str] = set()
    dirs: set[str] = set()
    found = {}
    for name in (manifest_name(fmt), journal_name(fmt)):
        path = out / name
        if not os.path.lexists(path):
            found[name] = False
            continue
        try:
            if os.path.islink(path):
                raise ValueError("a symbolic link")
            text = read_regular_file(path, max_bytes=MAX_MANIFEST_BYTES).decode("utf-8")
            if name.endswith(".json"):
                data = json.loads(text)
                if not isinstance(data, dict) or data.get("format") != fmt or not all(
                        isinstance(data.get(key, []), list) for key in ("files", "dirs")):
                    raise ValueError(f"not a manifest of a {fmt} export")
                entries = [("f", p) for p in data.get("files", [])] + \
                          [("d", p) for p in data.get("dirs", [])]
            else:
                entries = []
                for line in text.splitlines():
                    with contextlib.suppress(ValueError):  # a line cut by a kill
                        entries.append(tuple(json.loads(line)))
            for entry in entries:
                if not (isinstance(entry, tuple) and len(entry) == 2
                        and entry[0] in ("f", "d") and isinstance(entry[1], str)):
                    raise ValueError(f"holds {entry!r}, not a path")
                (files if entry[0] == "f" else dirs).add(relative_name(entry[1]))
        except (FileProblem, UnicodeDecodeError, ValueError, TypeError) as exc:
            raise OutputError(f"{path}: cannot be read as the record of a {fmt} export "
                              f"({exc}); nothing was changed (remove it, or choose another "
                              "folder)") from None
        found[name] = True
    return _Record(files, dirs, found[manifest_name(fmt)], found[journal_name(fmt)])


def _foreign(out: Path, tops: Iterable[str], record: _Record) -> Path | None:
    """The first entry (sorted) under ``out/<top>`` for ``top`` in ``tops`` that ``record``
    does not list: a file it does not list (a temporary of a listed file is its own), a symbolic
    link, or anything that is not a regular file or folder; None if there is none."""
    for top in sorted(set(tops)):
        path = out / top
        try:
            mode = os.lstat(path).st_mode
        except FileNotFoundError:
            continue
        except OSError:
            return path
        if stat.S_ISREG(mode):
            if top not in record.files:
                return path
            continue
        if not stat.S_ISDIR(mode):
            return path  # a symbolic link (never followed), a pipe, a device
        problem: list[Path] = []

        def failed(exc: OSError, problem: list[Path] = problem) -> None:
            problem.append(Path(exc.filename))

        for folder, dirnames, filenames in os.walk(path, onerror=failed):
            if problem:
                return problem[0]
            dirnames.sort()
            where = Path(folder)
            relative = where.relative_to(out).as_posix()
            for name in sorted(filenames + [d for d in dirnames
                                            if os.path.islink(os.path.join(folder, d))]):
                entry = where / name
                mode = os.lstat(entry).st_mode
                key = f"{relative}/{name}"
                if stat.S_ISREG(mode) and key in record.files:
                    continue
                owner = temporary_target(name)
                if stat.S_ISREG(mode) and owner and f"{relative}/{owner}" in record.files:
                    continue
                return entry
            dirnames[:] = [d for d in dirnames if not os.path.islink(os.path.join(folder, d))]
        if problem:
            return problem[0]
    return None


def _remove(out: Path, record: _Record, tops: Iterable[str]) -> None:
    """Remove the files ``record`` lists (and the temporaries of listed files, in the export's
    folders), then the folders it lists that are left empty, deepest first.

    Each file is checked first: reached from ``out`` through real folders (no symbolic link),
    inside ``out`` once resolved, a regular file, not read-only. Nothing is removed if one fails.

    Raises
    ------
    synthscene.errors.OutputError
    """
    root = out.resolve()
    doomed: list[Path] = []
    for relative in sorted(record.files):
        path = root / relative
        parent = root
        for part in PurePosixPath(relative).parts[:-1]:
            parent = parent / part
            if os.path.islink(parent):
                raise OutputError(f"{parent}: is a symbolic link where the earlier export wrote "
                                  "a folder; the export never follows one and removed nothing "
                                  "(remove it, or choose another folder)")
        try:
            info = os.lstat(path)
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise OutputError(f"{path}: cannot be checked ({exc.strerror or exc}); nothing "
                              "was removed") from None
        if not stat.S_ISREG(info.st_mode):
            raise OutputError(f"{path}: is not a file the earlier export wrote (a "
                              f"{'symbolic link' if stat.S_ISLNK(info.st_mode) else 'folder'}"
                              "); nothing was removed (remove it, or choose another folder)")
        if not info.st_mode & stat.S_IWUSR:
            raise OutputError(f"{path}: is read-only, so it is kept; nothing was removed "
                              "(make it writable to let --overwrite replace it, or choose "
                              "another folder)")
        if not is_inside(path.parent.resolve(), root):
            raise OutputError(f"{path}: lies outside {out}; nothing was removed")
        doomed.append(path)
    for top in sorted(set(tops)):
        folder = root / top
        if not folder.is_dir() or folder.is_symlink():
            continue
        for where, dirnames, filenames in os.walk(folder):
            dirnames[:] = [d for d in dirnames if not os.path.islink(os.path.join(where, d))]
            relative = Path(where).relative_to(root).as_posix()
            for name in filenames:
                owner = temporary_target(name)
                path = Path(where) / name
                if owner and f"{relative}/{owner}" in record.files and not path.is_symlink():
                    doomed.append(path)
    for name in sorted(os.listdir(root)):  # temporaries of listed top-level files
        owner = temporary_target(name)
        if owner and owner in record.files and (root / name).is_file() \
                and not (root / name).is_symlink():
            doomed.append(root / name)
    try:
        for path in doomed:
            path.unlink(missing_ok=True)
    except OSError as exc:
        raise OutputError(f"{exc.filename}: cannot be removed ({exc.strerror or exc})") from None
    for relative in sorted(record.dirs, key=lambda d: (-d.count("/"), d)):
        path = root / relative
        if path.is_symlink() or not is_inside(path.parent.resolve(), root):
            continue
        with contextlib.suppress(OSError):  # not empty (a user's file), or gone
            path.rmdir()


class ExportFolder:
    """An export's output folder, open for writing (from :func:`open_export`).

    Every file is written at a path from :meth:`file`, which records it before it is written;
    :meth:`finish` writes the manifest once every file is written. Use it as a context manager
    (``with open_export(...) as out:``): leaving it closes the journal, which stays on disk
    unless :meth:`finish` ran (an export that failed half-way is an unfinished one).

    Attributes
    ----------
    path : pathlib.Path
        The output folder, as given.
    """

    def __init__(self, path: Path, fmt: str, tops: set[str], dataset: CocoDataset,
                 journal: IO[str], dirs: set[str]) -> None:
        self.path = path
        self._format = fmt
        self._tops = tops
        self._dataset = dataset
        self._journal = journal
        self._files: set[str] = set()
        self._dirs = dirs
        self._known_dirs: set[str] = set()

    def __enter__(self) -> ExportFolder:
        return self

    def __exit__(self, kind: type[BaseException] | None, *exc_info: object) -> None:
        self._journal.close()
        if kind is not None and not self._files and not self._dirs:
            # failed before writing anything: there is no unfinished export to report
            with contextlib.suppress(OSError):
                (self.path / journal_name(self._format)).unlink()

    def _log(self, kind: str, relative: str) -> None:
        self._journal.write(json.dumps([kind, relative]) + "\n")
        self._journal.flush()

    def file(self, relative: str | PurePosixPath) -> Path:
        """The path of a file the export is about to write, its folders made and both recorded.

        Parameters
        ----------
        relative : str or pathlib.PurePosixPath
            Path inside the output folder, ``/``-separated; its first part must be one of the
            names given to :func:`open_export`.

        Returns
        -------
        pathlib.Path

        Raises
        ------
        synthscene.errors.DatasetError
            If two entries of the source would write the same file.
        synthscene.errors.OutputError
            If a folder cannot be made.
        """
        try:
            name = relative_name(relative)
        except ValueError as exc:
            raise DatasetError(str(self._dataset.annotations_path), "", str(exc)) from None
        parts = PurePosixPath(name).parts
        if parts[0] not in self._tops:
            raise RuntimeError(f"the {self._format} export writes {name}, outside the "
                               f"folders it declared ({', '.join(sorted(self._tops))})")
        if name in self._files:
            raise DatasetError(str(self._dataset.annotations_path), "",
                               f"two entries would write {self.path / name}; file names must "
                               "differ (nothing more was written)")
        folder = ""
        for part in parts[:-1]:
            folder = f"{folder}/{part}" if folder else part
            if folder in self._known_dirs:
                continue
            target = self.path / folder
            if not os.path.lexists(target):
                self._log("d", folder)
                self._dirs.add(folder)
                try:
                    target.mkdir()
                except OSError as exc:
                    raise OutputError(f"{target}: cannot create the folder "
                                      f"({exc.strerror or exc})") from None
            elif os.path.islink(target) or not target.is_dir():
                raise OutputError(f"{target}: is not a folder the export made; nothing more "
                                  "was written")
            self._known_dirs.add(folder)
        self._log("f", name)
        self._files.add(name)
        return self.path / name

    def finish(self) -> None:
        """Write the manifest (atomically, durably) and remove the journal.

        Raises
        ------
        synthscene.errors.OutputError
        """
        manifest = {"format": self._format, "files": sorted(self._files),
                    "dirs": sorted(d for d in self._dirs if (self.path / d).is_dir())}
        write_atomic(self.path / manifest_name(self._format),
                     json.dumps(manifest, indent=0).encode("utf-8"), durable=True)
        self._journal.close()
        with contextlib.suppress(OSError):
            (self.path / journal_name(self._format)).unlink()


def open_export(out_dir: str | Path, dataset: CocoDataset, fmt: str, tops: Iterable[str], *,
                overwrite: bool) -> ExportFolder:
    """Check the output folder of an export and open it for writing (see the module docstring).

    Parameters
    ----------
    out_dir : str or pathlib.Path
    dataset : CocoDataset
        The source; ``out_dir`` may not be its folder or its image folder.
    fmt : str
        The export format (names the manifest).
    tops : iterable of str
        The top-level names in ``out_dir`` the export writes (files or folders).
    overwrite : bool
        Remove the files an earlier export of ``fmt`` wrote there first.

    Returns
    -------
    ExportFolder

    Raises
    ------
    synthscene.errors.OutputError
        If ``out_dir`` is a file or the source's folder; if it holds a foreign file in the
        export's folders (naming it); if it holds an export of ``fmt`` and ``overwrite`` is
        False; if a listed file cannot be removed; if it cannot be created or written.
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out}: exists and is not a folder")
    resolved = out.resolve()
    if resolved in (dataset.root.resolve(), dataset.image_dir.resolve()):
        raise OutputError(f"{out}: is the source dataset's folder; export to another folder")
    tops = {relative_name(top) for top in tops}
    if any("/" in top or top.startswith(MANIFEST_PREFIX) for top in tops):
        raise RuntimeError(f"not top-level export names: {sorted(tops)}")
    record = _read_record(out, fmt) if out.is_dir() else _Record(set(), set(), False, False)
    earlier = {PurePosixPath(p).parts[0] for p in record.files | record.dirs}
    foreign = _foreign(out, tops | earlier, record) if out.is_dir() else None
    if foreign is not None:
        top = foreign.relative_to(out).parts[0]
        where = f"{top}/" if (out / top).is_dir() and not (out / top).is_symlink() else top
        raise OutputError(f"{foreign}: was not written by a synthscene {fmt} export (no record "
                          f"here lists it), and the export writes {where}; nothing was changed "
                          "(move or remove it, or choose another folder)")
    if record.exists and not overwrite:
        state = f"a {fmt} export" if record.complete and not record.partial else \
            f"an unfinished {fmt} export (it was interrupted)"
        raise OutputError(f"{out}: holds {state} already "
                          f"({manifest_name(fmt) if record.complete else journal_name(fmt)}); "
                          "choose another folder or pass --overwrite")
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe_writable(out)
    except OSError as exc:
        raise OutputError(f"{out}: cannot create or write the folder "
                          f"({exc.strerror or exc})") from None
    if record.exists:
        _remove(out, record, tops | earlier)
    kept_dirs = {d for d in record.dirs if (out / d).is_dir() and not (out / d).is_symlink()}
    try:
        # never through a symbolic link (the record was checked not to be one; no race)
        fd = os.open(out / journal_name(fmt), os.O_WRONLY | os.O_CREAT | os.O_TRUNC
                     | getattr(os, "O_NOFOLLOW", 0), 0o666)
        journal = os.fdopen(fd, "w", encoding="utf-8")
        for folder in sorted(kept_dirs):
            journal.write(json.dumps(["d", folder]) + "\n")
        journal.flush()
        with contextlib.suppress(FileNotFoundError):
            (out / manifest_name(fmt)).unlink()
    except OSError as exc:
        raise OutputError(f"{out / journal_name(fmt)}: cannot be written "
                          f"({exc.strerror or exc})") from None
    return ExportFolder(out, fmt, tops, dataset, journal, kept_dirs)
