"""The output folder of a run: what is finished, what is not, and how a run is resumed.

Layout while a run is going (and after a crash)::

    OUT/images/000001.png ...            PNGs, each written atomically
    OUT/depth/000001.png ...             the map files the scenario asks for, likewise
    OUT/.synthscene/manifest.json        what the run makes (scenario hash, seed, frames, version,
                                         the name templates of its files, the broken assets
                                         it left out)
    OUT/.synthscene/frames/000001.json   one record per finished frame (see below)
    OUT/.synthscene/worker-0-crash.txt   the stack of a worker killed by a fatal signal
                                         (:mod:`synthscene.run.crash_logs`), if one was
    OUT/annotations.json                 only once every frame has a record

Rules that make a crash or ``kill -9`` at any moment harmless:

1. The manifest is written (atomically, fsynced) before any frame.
2. A frame is *finished* when its record exists. The record (the frame's COCO image entry, its
   annotations without ids, and the PNG's size in bytes) is written atomically *after* the PNG
   was written atomically, so a finished frame always has its whole PNG. A PNG without a record
   is made again. A record is JSON lines: ``{"image":{...},"png_size":N,"annotations":K}``, then
   the frame's K annotations, one compact JSON object per line, as they go into
   ``annotations.json`` (the merge only puts an id in front of each).
3. ``annotations.json`` is written atomically (and fsynced) only when every frame is finished;
   it is the only mark of a complete dataset. Only then are the per-frame records deleted (they
   duplicate ``annotations.json``); the manifest is kept, so ``--resume`` on a complete dataset
   can check that it is the same run and do nothing.

A resumed run checks that the manifest matches its own (else :class:`~synthscene.errors.OutputError`
says which field differs), removes temporary files a killed run left, checks every record against
its PNG's size, and makes only the frames without a valid record. Since frame ``i`` depends only on
``(seed, i)``, the result is byte-identical to an uninterrupted run.

While a run is going, it holds an exclusive ``flock`` on ``OUT`` (where the platform has one), so
a second run into the same folder fails at once instead of mixing frames.

A run never removes or replaces a file it did not write. The places a run writes are
``annotations.json``, ``.synthscene/``, ``images/`` and the map folders (``depth/``, ``flow/``,
... every folder of :data:`~synthscene.io.layout.MAP_FOLDERS`); a run's own files there are
exactly those its manifest names (:class:`~synthscene.run.run_files.RunFiles`: its frame-numbered
files, its frame records, its temporaries ``.<name>.synthscene-<hex>.tmp``):

* a new run (no flag) refuses a folder with any file in those places, naming it;
* ``resume`` refuses one with a file that the manifest does not name;
* ``overwrite`` removes exactly the files the manifest names (never a symbolic link, never
  through one, never outside ``OUT``) and refuses, naming it, a folder holding anything else in
  those places, or holding files there with no manifest (nothing then says which are synthscene's).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import stat
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from synthscene.errors import OutputError
from synthscene.io.coco import (
    EncodedFrame,
    encode_frame,
    write_dataset,
    write_png,
)
from synthscene.io.fileio import (
    is_inside,
    probe_writable,
    remove_stale_temporaries,
    temporary_target,
    write_atomic,
    write_atomic_stream,
)
from synthscene.io.layout import ANNOTATIONS_NAME, IMAGES_DIR, STATE_DIR, frame_stem
from synthscene.io.maps import NpyFile
from synthscene.run.crash_logs import is_crash_log, remove_crash_logs
from synthscene.run.manifest import (
    DATASET_FOLDERS,
    MANIFEST_FORMAT,
    RunManifest,
    scenario_sha256,
)
from synthscene.run.ranges import FrameRanges, pending_frames
from synthscene.run.run_files import RunFiles

try:  # POSIX only; elsewhere two runs into one folder are not detected
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]

__all__ = ["MANIFEST_FORMAT", "RunFolder", "RunManifest", "RunStart", "scenario_sha256"]

logger = logging.getLogger(__name__)

MANIFEST_NAME = "manifest.json"
FRAMES_DIR = "frames"
_ANNOTATIONS_HEAD = b'{"info":{"description":"synthscene'
"""How every ``annotations.json`` synthscene writes begins."""


@dataclass(frozen=True)
class RunStart:
    """Where a prepared run starts.

    Attributes
    ----------
    frames : int
        Frames of the run.
    finished : frozenset of int
        Indices of frames already made by an earlier, interrupted run (bounded by the records on
        disk); empty when ``complete``.
    complete : bool
        The folder holds the complete dataset of this run already (``--resume`` of a finished
        run): nothing is left to do.
    """

    frames: int
    finished: frozenset[int] = frozenset()
    complete: bool = False

    @property
    def finished_count(self) -> int:
        """Frames already made: every frame when ``complete``."""
        return self.frames if self.complete else len(self.finished)

    @property
    def pending(self) -> FrameRanges:
        """Frames left to make, as ranges (no list of frame numbers, whatever ``frames`` is)."""
        return FrameRanges() if self.complete else pending_frames(self.frames, self.finished)


def _read_record(path: Path) -> tuple[EncodedFrame, int]:
    """A frame record (rule 2) and the size of its PNG in bytes.

    Raises
    ------
    OSError, ValueError, KeyError, TypeError
        If it cannot be read, is not JSON lines, or holds another number of annotations than
        its first line says.
    """
    header, *annotations = path.read_bytes().splitlines()
    fields = json.loads(header)
    if len(annotations) != fields["annotations"]:
        raise ValueError(f"{len(annotations)} annotations where the record says "
                         f"{fields['annotations']}")
    return EncodedFrame(fields["image"], annotations), int(fields["png_size"])


class RunFolder:
    """The output folder of one run (layout and rules in the module docstring).

    Parameters
    ----------
    out_dir : pathlib.Path
        The dataset folder. Workers that only write frames use :meth:`save_frame`; the process
        that drives the run uses :meth:`prepare` (in a ``with`` block, which holds the folder's
        lock) and :meth:`finalize`.
    """

    def __init__(self, out_dir: str | Path) -> None:
        self.out_dir = Path(out_dir)
        self.images_dir = self.out_dir / IMAGES_DIR
        self.annotations_path = self.out_dir / ANNOTATIONS_NAME
        self.state_dir = self.out_dir / STATE_DIR
        self.manifest_path = self.state_dir / MANIFEST_NAME
        self.frames_dir = self.state_dir / FRAMES_DIR
        self._lock_fd: int | None = None
        self._files = RunManifest("", 0, 0).run_files()  # of the prepared run
        self._frames = 0

    # ------------------------------------------------------------------ lifetime
    def __enter__(self) -> RunFolder:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()

    def release(self) -> None:
        """Release the folder's lock; idempotent."""
        fd, self._lock_fd = self._lock_fd, None
        if fd is not None:
            os.close(fd)  # closing the descriptor releases the flock

    def _lock(self) -> None:
        if fcntl is None or self._lock_fd is not None:
            return
        fd = os.open(self.out_dir, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise OutputError(f"{self.out_dir}: another synthscene run is writing to this "
                              "folder") from None
        self._lock_fd = fd

    # ------------------------------------------------------------------ preparing
    def prepare(self, manifest: RunManifest, *, overwrite: bool = False,
                resume: bool = False) -> RunStart:
        """Lock the folder, check what it holds, and get it ready for ``manifest``'s run.

        Nothing a run did not write is ever removed or replaced (module docstring); a refused
        run changes nothing in the folder.

        Parameters
        ----------
        manifest : RunManifest
        overwrite : bool
            Delete the dataset (complete or not) of the run the folder's manifest describes:
            exactly the files the manifest names (frame-numbered files of its templates and
            frame count, its records, its temporaries, ``annotations.json``); nothing else.
        resume : bool
            Keep the finished frames of an interrupted run of the same manifest. A folder with
            nothing in a run's places just starts a new run.

        Returns
        -------
        RunStart

        Raises
        ------
        ValueError
            If both ``overwrite`` and ``resume`` are set.
        synthscene.errors.OutputError
            If the folder cannot be created or written; without a flag, if ``annotations.json``,
            ``.synthscene/``, ``images/`` or a map folder holds anything (naming it); with
            ``resume`` or ``overwrite``, if those places hold a file with no run manifest, or a
            file the manifest does not name (naming it), or the manifest is unreadable or of an
            older format; with ``resume``, if the folder holds another run (the message names
            the differing field); if another run holds the folder's lock.
        """
        if overwrite and resume:
            raise ValueError("overwrite and resume exclude each other")
        out = self.out_dir
        if out.exists() and not out.is_dir():
            raise OutputError(f"{out}: exists and is not a folder")
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"cannot create the output folder {out}: "
                              f"{exc.strerror or exc}") from None
        self._lock()
        try:
            return self._prepare_locked(manifest, overwrite=overwrite, resume=resume)
        except BaseException:
            self.release()
            raise

    def _prepare_locked(self, manifest: RunManifest, *, overwrite: bool,
                        resume: bool) -> RunStart:
        mine = manifest.run_files()
        previous = None
        if os.path.lexists(self.manifest_path) and (overwrite or resume):
            previous = RunManifest.from_file(self.manifest_path)
            difference = manifest.difference(previous) if resume else None
            if difference:
                raise OutputError(
                    f"{self.out_dir}: cannot resume: the run in this folder has {difference} "
                    "as asked now; resume with the same scenario, seed and frames, or pass "
                    "--overwrite to start again")
            foreign = self._foreign_file(previous.run_files(), previous.frames, mine)
            if foreign is not None:
                name = self._name(foreign)
                if overwrite:
                    raise OutputError(
                        f"{self.out_dir}: --overwrite removes only files synthscene wrote (those "
                        f"its run manifest names), and {name} is not one of them; move it away "
                        "or choose another folder")
                raise OutputError(f"{self.out_dir}: cannot resume: {name} was not written by "
                                  "the run in this folder; move it away or choose another "
                                  "folder")
            remove_crash_logs(self.out_dir)  # the stacks of the earlier run's crashed workers
            if overwrite:
                self._remove_run(previous.run_files(), previous.frames)
                previous = None
        elif os.path.lexists(self.manifest_path):
            try:
                held = RunManifest.from_file(self.manifest_path)
            except OutputError:
                held = None  # unreadable or older: refused below all the same
            if held is not None:
                foreign = self._foreign_file(held.run_files(), held.frames, mine)
                if foreign is not None:
                    raise OutputError(
                        f"{self.out_dir}: {self._name(foreign)} was not written by synthscene, "
                        "so this folder is not only a synthscene dataset; move it away or "
                        "choose another folder")
            if self.annotations_path.exists():
                what = f"holds a dataset already ({ANNOTATIONS_NAME})"
                hint = "choose another folder or pass --overwrite"
            else:
                what = "holds an unfinished dataset"
                hint = "pass --resume to complete it, --overwrite to start again, " \
                       "or choose another folder"
            raise OutputError(f"{self.out_dir}: {what}; {hint}")
        else:
            blocker = self._first_file(mine)
            if blocker is not None:
                name = self._name(blocker)
                where = f"{STATE_DIR}/{MANIFEST_NAME}"
                if overwrite:
                    raise OutputError(
                        f"{self.out_dir}: --overwrite removes only files synthscene wrote (those "
                        f"a run manifest, {where}, names), and there is none here, so {name} is "
                        "not one of them; move it away or choose another folder")
                if resume:
                    raise OutputError(
                        f"{self.out_dir}: cannot resume: {name} is here but no run manifest "
                        f"({where}), so this is not a synthscene run to complete; move it away "
                        "or choose another folder")
                raise OutputError(
                    f"{self.out_dir}: {name} is where this run would write, and synthscene did "
                    "not write it (no run manifest); move it away or choose another folder")

        try:
            for folder in (self.images_dir, self.frames_dir):
                folder.mkdir(parents=True, exist_ok=True)
            for folder in (self.out_dir, self.images_dir, self.state_dir, self.frames_dir):
                probe_writable(folder)
        except OSError as exc:
            raise OutputError(f"cannot create or write the output folder {self.out_dir}: "
                              f"{exc.strerror or exc}") from None
        self._files = mine
        self._frames = manifest.frames
        for folder, owned in self._temporary_places():
            removed = remove_stale_temporaries(folder, owned=owned)
            if removed:
                logger.info("removed %d temporary files left in %s by a killed run",
                            removed, folder)
        if previous is None:
            write_atomic(self.manifest_path, manifest.to_bytes(), durable=True)
            return RunStart(frames=manifest.frames)
        if self.annotations_path.exists():
            self._remove_records(manifest.frames)
            return RunStart(frames=manifest.frames, complete=True)
        finished = self._finished_frames(manifest.frames)
        logger.info("resuming %s: %d of %d frames are finished", self.out_dir, len(finished),
                    manifest.frames)
        return RunStart(frames=manifest.frames, finished=finished)

    def _name(self, path: Path) -> str:
        """``path`` relative to the dataset folder, as a user would type it."""
        return path.relative_to(self.out_dir).as_posix()

    def _places(self, *runs: RunFiles) -> list[Path]:
        """The folders a run may write per-frame files into: ``images/``, every map folder."""
        names = set(DATASET_FOLDERS).union(*(run.folders for run in runs))
        return [self.out_dir / name for name in sorted(names)]

    def _first_file(self, mine: RunFiles) -> Path | None:
        """The first entry (file, folder, link) where a run writes: ``annotations.json``,
        in ``.synthscene/``, ``images/`` or a map folder; or such a place that is not a folder.
        Empty folders (and empty folders in them) do not count.

        Raises
        ------
        synthscene.errors.OutputError
            If a folder cannot be read.
        """
        if os.path.lexists(self.annotations_path):
            return self.annotations_path
        for folder in (self.state_dir, *self._places(mine)):
            entries = self._entries(folder)
            if entries is None:
                return folder
            for entry in entries:
                if not (entry.is_dir(follow_symlinks=False) and self._entries(Path(entry.path))
                        == []):
                    return Path(entry.path)
        return None

    def _entries(self, folder: Path) -> list[os.DirEntry] | None:
        """The entries of ``folder`` sorted by name; ``[]`` if it does not exist; None if it is
        not a folder (a file, or a symbolic link, which is never followed).

        Raises
        ------
        synthscene.errors.OutputError
            If it cannot be read.
        """
        try:
            if not os.path.lexists(folder):
                return []
            if not stat.S_ISDIR(os.lstat(folder).st_mode):
                return None
            with os.scandir(folder) as scan:
                return sorted(scan, key=lambda e: e.name)
        except OSError as exc:
            raise OutputError(f"cannot read {folder}: {exc.strerror or exc}") from None

    def _foreign_file(self, previous: RunFiles, frames: int, mine: RunFiles) -> Path | None:
        """The first file in a run's places that the previous run (``previous``, of ``frames``
        frames) did not write, or None.

        The previous run's are: ``annotations.json`` if it begins as every one synthscene writes
        does; in ``.synthscene/``, ``manifest.json`` and ``frames/NNNNNN.json`` (frames of the
        run); in ``images/`` and the map folders, the files ``previous`` names; and the
        temporaries of any of these. Only regular files count as the run's: a symbolic link, a
        folder or a device in those places is foreign, and so is a place that is not a folder.

        Raises
        ------
        synthscene.errors.OutputError
            If a folder or ``annotations.json`` cannot be read.
        """
        if os.path.lexists(self.annotations_path) and not self._our_annotations():
            return self.annotations_path
        records = RunFiles([f"{FRAMES_DIR}/{{frame}}.json"], frames)
        checks = [(self.state_dir, lambda name: name == MANIFEST_NAME
                   or temporary_target(name) == MANIFEST_NAME or is_crash_log(name)),
                  (self.frames_dir, lambda name: records.owns(FRAMES_DIR, name))]
        checks += [(folder, lambda name, f=folder.name: previous.owns(f, name))
                   for folder in self._places(previous, mine)]
        for folder, owned in checks:
            entries = self._entries(folder)
            if entries is None:
                return folder
            for entry in entries:
                if folder == self.state_dir and entry.name == FRAMES_DIR and \
                        entry.is_dir(follow_symlinks=False):
                    continue  # checked as a folder of its own
                if not (owned(entry.name) and entry.is_file(follow_symlinks=False)):
                    return Path(entry.path)
        return None

    def _our_annotations(self) -> bool:
        """Whether ``annotations.json`` is a regular file that begins as synthscene's do."""
        try:
            if not stat.S_ISREG(os.lstat(self.annotations_path).st_mode):
                return False
            with open(self.annotations_path, "rb") as handle:
                return handle.read(len(_ANNOTATIONS_HEAD)) == _ANNOTATIONS_HEAD
        except OSError as exc:
            raise OutputError(f"cannot read {self.annotations_path}: "
                              f"{exc.strerror or exc}") from None

    def _remove_run(self, previous: RunFiles, frames: int) -> None:
        """Remove the files of the run ``previous`` (of ``frames`` frames) once
        :meth:`_foreign_file` found nothing else: ``annotations.json`` first (the folder no
        longer looks complete), then the records, then the per-frame files; folders left empty
        are removed. The manifest stays until the new run's replaces it.

        Raises
        ------
        synthscene.errors.OutputError
            If a folder cannot be written (checked before anything is removed), or a file
            cannot be removed.
        """
        folders = [self.out_dir / name for name in previous.folders]
        for folder in (self.out_dir, self.state_dir, self.frames_dir, *folders):
            if os.path.isdir(folder) and not os.access(folder, os.W_OK | os.X_OK):
                raise OutputError(f"{self.out_dir}: cannot remove the old dataset: "
                                  f"{self._name(folder) or '.'} is not writable")
        if os.path.lexists(self.annotations_path):
            self._unlink(self.annotations_path)
        self._remove_records(frames)
        for folder in folders:
            for entry in self._entries(folder) or ():
                if previous.owns(folder.name, entry.name) and \
                        entry.is_file(follow_symlinks=False):
                    self._unlink(Path(entry.path))
            with contextlib.suppress(OSError):
                folder.rmdir()  # only if empty: a user's sub-folder stays (and was refused)

    def _unlink(self, path: Path) -> None:
        """Remove the regular file ``path``, which must lie inside the dataset folder; a link
        is never followed (nor removed).

        Raises
        ------
        synthscene.errors.OutputError
            If it is outside the dataset folder, not a regular file, or cannot be removed.
        """
        root = self.out_dir.resolve()
        try:
            parent = path.parent.resolve(strict=True)
            if not is_inside(parent, root):
                raise OutputError(f"{self.out_dir}: refusing to remove {path}, which is outside "
                                  "the dataset folder")
            if not stat.S_ISREG(os.lstat(path).st_mode):
                raise OutputError(f"{self.out_dir}: refusing to remove {self._name(path)}, "
                                  "which is not a regular file")
            os.unlink(path)
        except OSError as exc:
            raise OutputError(f"{self.out_dir}: cannot remove the old dataset's "
                              f"{self._name(path)} ({exc.strerror or exc})") from None

    def _finished_frames(self, frames: int) -> frozenset[int]:
        """Frames with a record whose image exists with the recorded size; drop bad records.

        Memory in proportion to the records on disk: each record's image is looked up by name.
        """
        records = RunFiles([f"{FRAMES_DIR}/{{frame}}.json"], frames)
        finished = set()
        for entry in os.scandir(self.frames_dir):
            if temporary_target(entry.name) is not None or \
                    not records.owns(FRAMES_DIR, entry.name):
                continue
            index = int(entry.name.partition(".")[0]) - 1
            image_name = self._files.name(IMAGES_DIR, index)
            reason = None
            try:
                frame, png_size = _read_record(Path(entry.path))
                if frame.image["id"] != index + 1:
                    reason = "it is the record of another frame"
                elif frame.image["file_name"] != image_name:
                    reason = "it names another image"
                else:
                    image = os.lstat(self.images_dir / image_name)
                    if not stat.S_ISREG(image.st_mode) or image.st_size != png_size:
                        reason = "its image is missing or has another size"
            except FileNotFoundError:
                reason = "its image is missing or has another size"
            except (OSError, ValueError, KeyError, TypeError) as exc:
                reason = f"it cannot be read ({exc!r})"
            if reason is None:
                finished.add(index)
            else:
                logger.warning("frame %d will be made again: %s (%s)", index, reason, entry.path)
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)
        return frozenset(finished)

    # ------------------------------------------------------------------ frames
    def record_path(self, frame_index: int) -> Path:
        """``.synthscene/frames/000001.json`` for frame 0."""
        return self.frames_dir / f"{frame_stem(frame_index)}.json"

    def save_frame(self, frame_index: int, png: bytes, record: dict[str, Any],
                   extra_files: Mapping[str, bytes | NpyFile] | None = None) -> None:
        """Write a frame's PNG, then its record, each atomically (rule 2).

        Parameters
        ----------
        frame_index : int
        png : bytes
            The encoded image (PNG or JPEG), written as ``images/`` + the record's
            ``file_name``.
        record : dict
            :func:`synthscene.io.coco.frame_record` of the frame, written as JSON lines
            with the PNG's size (rule 2).
        extra_files : mapping of str to bytes or NpyFile, optional
            Map files by path relative to the dataset folder
            (:func:`synthscene.io.maps.encode_frame_maps`), each written atomically before the
            record.

        Raises
        ------
        synthscene.errors.OutputError
            If either file cannot be written (no space left, folder removed, ...).
        """
        write_png(self.images_dir / record["image"]["file_name"], png)
        for name, content in (extra_files or {}).items():  # depth, normals, masks
            path = self.out_dir / name
            if not path.parent.is_dir():
                path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, NpyFile):
                write_atomic_stream(path, content.write_to)
            else:
                write_atomic(path, content)
        frame = encode_frame(record)
        header = json.dumps({"image": frame.image, "png_size": len(png),
                             "annotations": len(frame.annotations)},
                            separators=(",", ":"), allow_nan=False).encode("utf-8")
        write_atomic(self.record_path(frame_index),
                     b"\n".join([header, *frame.annotations]) + b"\n")

    def _records(self, frames: int) -> Iterator[EncodedFrame]:
        for index in range(frames):
            path = self.record_path(index)
            try:
                yield _read_record(path)[0]
            except FileNotFoundError:
                raise OutputError(f"{self.out_dir}: frame {index} is not finished ({path} is "
                                  "missing); run again with --resume") from None
            except (OSError, ValueError, KeyError, TypeError) as exc:
                raise OutputError(f"cannot read {path}: {exc}; run again with --resume") from None

    # ------------------------------------------------------------------ finishing
    def finalize(self, frames: int, *, categories: Sequence[str], description: str,
                 keypoints: bool = False,
                 stuff_categories: Sequence[Mapping[str, Any]] | None = None,
                 models: Sequence[Mapping[str, Any]] | None = None) -> int:
        """Merge every frame's record into ``annotations.json`` (rule 3); return annotations.

        Raises
        ------
        synthscene.errors.OutputError
            If a record is missing or unreadable, or the file cannot be written; the folder is
            left unfinished and resumable.
        """
        count = write_dataset(self.annotations_path, self._records(frames),
                              categories=categories, description=description,
                              keypoints=keypoints, stuff_categories=stuff_categories,
                              models=models)
        self._remove_records(frames)
        return count

    def _remove_records(self, frames: int) -> None:
        """Best effort: delete the frame records (of ``frames`` frames) and their temporaries,
        then the records' folder if that leaves it empty."""
        records = RunFiles([f"{FRAMES_DIR}/{{frame}}.json"], frames)
        try:
            with os.scandir(self.frames_dir) as scan:
                names = [e.name for e in scan if records.owns(FRAMES_DIR, e.name)
                         and e.is_file(follow_symlinks=False)]
            for name in names:
                os.unlink(self.frames_dir / name)
            self.frames_dir.rmdir()
        except FileNotFoundError:
            pass
        except OSError as exc:
            logger.warning("could not remove the frame records in %s (%s); they are not "
                           "needed any more", self.frames_dir, exc.strerror or exc)

    def count_annotations(self) -> int:
        """Annotations in the finished ``annotations.json`` (reads the whole file).

        Raises
        ------
        synthscene.errors.OutputError
            If it cannot be read.
        """
        try:
            return len(json.loads(self.annotations_path.read_bytes())["annotations"])
        except (OSError, ValueError, KeyError) as exc:
            raise OutputError(f"cannot read {self.annotations_path}: {exc}") from None

    def remove_temporaries(self) -> None:
        """Best effort: delete temporary files of stopped workers (no worker may be running);
        only those of the prepared run's own files."""
        for folder, owned in self._temporary_places():
            with contextlib.suppress(OutputError, OSError):
                remove_stale_temporaries(folder, owned=owned)

    def _temporary_places(self) -> list[tuple[Path, Callable[[str], bool]]]:
        """Every folder the prepared run writes files into through temporaries, with which
        final names there are the run's: the dataset folder (``annotations.json``), the images,
        the map folders of the run, and the run's own state (manifest, frame records)."""
        files, records = self._files, RunFiles([f"{FRAMES_DIR}/{{frame}}.json"], self._frames)
        places: list[tuple[Path, Callable[[str], bool]]] = [
            (self.out_dir, lambda name: name == ANNOTATIONS_NAME),
            (self.state_dir, lambda name: name == MANIFEST_NAME),
            (self.frames_dir, lambda name: records.owns(FRAMES_DIR, name))]
        places += [(self.out_dir / folder, lambda name, f=folder: files.owns(f, name))
                   for folder in files.folders]
        return places
