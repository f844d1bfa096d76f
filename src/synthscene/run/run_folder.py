"""The output folder of a run: what is finished, what is not, and how a run is resumed.

Layout while a run is going (and after a crash)::

    OUT/images/000001.png ...            PNGs, each written atomically
    OUT/.synthscene/manifest.json        what the run makes (scenario hash, seed, frames, version)
    OUT/.synthscene/frames/000001.json   one record per finished frame (see below)
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
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import logging
import os
import re
import shutil
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel

from synthscene.config.loading import Scenario
from synthscene.errors import OutputError
from synthscene.io.coco import (
    EncodedFrame,
    encode_frame,
    write_dataset,
    write_png,
)
from synthscene.io.fileio import (
    is_temporary_name,
    probe_writable,
    remove_stale_temporaries,
    write_atomic,
    write_atomic_stream,
)
from synthscene.io.layout import ANNOTATIONS_NAME, IMAGES_DIR, MAP_FOLDERS, STATE_DIR, frame_stem
from synthscene.io.maps import NpyFile
from synthscene.version import __version__

try:  # POSIX only; elsewhere two runs into one folder are not detected
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]

__all__ = ["MANIFEST_FORMAT", "RunFolder", "RunManifest", "RunStart", "scenario_sha256"]

logger = logging.getLogger(__name__)

MANIFEST_NAME = "manifest.json"
FRAMES_DIR = "frames"
MANIFEST_FORMAT = 3  # 3: annotations say scene_instance_id (was instance_id)
_FRAME_FILE = re.compile(r"\d{6,}\.(?:png|jpg|npy|flo)|seq-\d{6,}\.npz")
"""Names of the per-frame files a run writes in ``images/`` and the map folders (and of the
per-sequence point-track files in ``tracks/``)."""
_ANNOTATIONS_HEAD = b'{"info":{"description":"synthscene'
"""How every ``annotations.json`` synthscene writes begins."""


def scenario_sha256(scenario: Scenario, asset_keys: Sequence[str],
                    categories: Sequence[str]) -> str:
    """A hash of what a scenario makes: its validated fields and its resolved asset index.

    Parameters
    ----------
    scenario : Scenario
    asset_keys, categories : sequence of str
        The asset library's keys and sorted categories.

    Returns
    -------
    str
        Hex SHA-256 of the canonical JSON (sorted keys) of ``scenario.spec`` (after validation,
        so comments, key order and formatting of the YAML file do not count) and of the assets.
        ``limits`` is left out: it refuses scenarios but never changes what a run makes.
    """
    spec = _canonical(scenario.spec)
    spec.pop("limits", None)  # limits only refuse scenarios; they never change what is made
    payload = {"spec": spec, "assets": list(asset_keys),
               "categories": list(categories)}
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _canonical(value: Any) -> Any:
    """A JSON-able form of a validated scenario value that names every type, so that e.g.
    ``{uniform: [1, 2]}`` and ``{loguniform: [1, 2]}`` differ; functions and classes (inside
    configured randomizers) become their qualified names, other objects their ``repr``."""
    if isinstance(value, BaseModel):
        return {"__type__": type(value).__name__,
                **{field.alias or name: _canonical(getattr(value, name))
                   for name, field in type(value).model_fields.items()}}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {"__type__": type(value).__name__,
                **{f.name: _canonical(getattr(value, f.name)) for f in dataclasses.fields(value)}}
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, type) or callable(value):
        return f"{getattr(value, '__module__', '')}.{getattr(value, '__qualname__', '?')}"
    return repr(value)


@dataclass(frozen=True)
class RunManifest:
    """What a run makes; two runs with equal manifests make byte-identical datasets.

    Attributes
    ----------
    scenario_sha256 : str
        :func:`scenario_sha256` of the scenario.
    seed : int
    frames : int
    synthscene_version : str
    format : int
        Version of this folder layout (:data:`MANIFEST_FORMAT`).
    plugins : tuple of dict
        The plug-ins the run depends on (:func:`synthscene.plugins.plugins_of`), each
        ``{"module", "version", "sha256"}`` (version and hash of its source file, or None),
        sorted by module; empty for a run without plug-ins (and for manifests older than
        plug-ins).
    """

    scenario_sha256: str
    seed: int
    frames: int
    synthscene_version: str = __version__
    format: int = MANIFEST_FORMAT
    plugins: tuple[dict[str, Any], ...] = ()

    def to_bytes(self) -> bytes:
        """The manifest as JSON (keys sorted, one line)."""
        return (json.dumps(asdict(self), sort_keys=True) + "\n").encode("utf-8")

    @classmethod
    def from_file(cls, path: Path) -> RunManifest:
        """Read a manifest.

        Raises
        ------
        synthscene.errors.OutputError
            If the file cannot be read or is not a manifest.
        """
        try:
            data = json.loads(path.read_bytes())
            data["plugins"] = tuple(dict(p) for p in data.get("plugins", ()))
            return cls(**{name: data[name] for name in cls.__dataclass_fields__})
        except OSError as exc:
            raise OutputError(f"cannot read {path}: {exc.strerror or exc}") from None
        except (ValueError, TypeError, KeyError) as exc:
            raise OutputError(f"{path}: not a synthscene run manifest ({exc!r}); "
                              "pass --overwrite to start again") from None

    def difference(self, other: RunManifest) -> str | None:
        """Describe the first field in which ``other`` differs, or None if they are equal."""
        names = {"scenario_sha256": "scenario (hash of its fields and assets)",
                 "synthscene_version": "synthscene version"}
        for name in ("format", "synthscene_version", "plugins", "scenario_sha256", "seed",
                     "frames"):
            if name == "plugins":  # other plug-in code usually changes the hash too: name it
                difference = _plugin_difference(self.plugins, other.plugins)
                if difference:
                    return difference
                continue
            mine, theirs = getattr(self, name), getattr(other, name)
            if mine != theirs:
                return f"{names.get(name, name)} {theirs!r}, not {mine!r}"
        return None


def _plugin_difference(mine: Sequence[Mapping[str, Any]],
                       theirs: Sequence[Mapping[str, Any]]) -> str | None:
    """Describe the first plug-in whose code differs between two manifests, or None."""
    ours = {p["module"]: p for p in mine}
    other = {p["module"]: p for p in theirs}

    def code(plugin: Mapping[str, Any] | None) -> str:
        if plugin is None:
            return "no such plug-in"
        digest = plugin.get("sha256")
        return (f"version {plugin.get('version')}, source sha256 "
                f"{digest[:12] if digest else None}")

    for module in sorted(set(ours) | set(other)):
        a, b = ours.get(module), other.get(module)
        if a is None or b is None or (a.get("version"), a.get("sha256")) != (
                b.get("version"), b.get("sha256")):
            return f"plug-in '{module}' at {code(b)}, not {code(a)}"
    return None


@dataclass(frozen=True)
class RunStart:
    """Where a prepared run starts.

    Attributes
    ----------
    finished : frozenset of int
        Indices of frames already made (by an earlier, interrupted run).
    complete : bool
        The folder holds the complete dataset of this run already (``--resume`` of a finished
        run): nothing is left to do.
    """

    finished: frozenset[int]
    complete: bool = False


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

        Parameters
        ----------
        manifest : RunManifest
        overwrite : bool
            Delete a dataset (complete or not) already in the folder: its ``images/``,
            ``annotations.json``, map folders and ``.synthscene/``; nothing else is touched. A
            file in those places that synthscene did not write (``images/holiday.jpg``) is
            never deleted: the run is refused, naming it.
        resume : bool
            Keep the finished frames of an interrupted run of the same manifest. A missing or
            empty folder just starts a new run.

        Returns
        -------
        RunStart

        Raises
        ------
        ValueError
            If both ``overwrite`` and ``resume`` are set.
        synthscene.errors.OutputError
            If the folder cannot be created or written; if ``images/``, a map folder or
            ``annotations.json`` holds a file synthscene did not write (whatever the flags); if
            it holds a dataset and neither
            ``overwrite`` nor ``resume`` is set; if ``resume`` is set and the folder holds another
            run (the message names the differing field) or a dataset with no manifest; if another
            run holds the folder's lock.
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
        foreign = self._foreign_file()
        if foreign is not None:
            name = foreign.relative_to(self.out_dir).as_posix()
            if overwrite:
                raise OutputError(f"{self.out_dir}: --overwrite removes only files synthscene "
                                  f"wrote, and {name} is not one of them; move it away or "
                                  "choose another folder")
            raise OutputError(f"{self.out_dir}: {name} was not written by synthscene, so this "
                              "folder is not a synthscene dataset; choose another folder or "
                              "move the file away")
        held = self._holds_dataset()
        previous = None
        if overwrite:
            self._remove([p for p in (self.annotations_path, self.state_dir,
                                      *self._dataset_folders()) if p.exists()])
        elif held and resume:
            if not self.manifest_path.exists():
                raise OutputError(
                    f"{self.out_dir}: cannot resume: it holds a dataset with no run manifest "
                    f"({STATE_DIR}/{MANIFEST_NAME}); choose another folder or pass --overwrite")
            previous = RunManifest.from_file(self.manifest_path)
            difference = manifest.difference(previous)
            if difference:
                raise OutputError(
                    f"{self.out_dir}: cannot resume: the run in this folder has {difference} "
                    "as asked now; resume with the same scenario, seed and frames, or pass "
                    "--overwrite to start again")
        elif held:
            if self.annotations_path.exists():
                what = f"holds a dataset already ({ANNOTATIONS_NAME})"
                hint = "choose another folder or pass --overwrite"
            else:
                what = "holds an unfinished dataset"
                hint = "pass --resume to complete it, --overwrite to start again, " \
                       "or choose another folder"
            raise OutputError(f"{self.out_dir}: {what}; {hint}")

        try:
            for folder in (self.images_dir, self.frames_dir):
                folder.mkdir(parents=True, exist_ok=True)
            for folder in (self.out_dir, self.images_dir, self.state_dir, self.frames_dir):
                probe_writable(folder)
        except OSError as exc:
            raise OutputError(f"cannot create or write the output folder {self.out_dir}: "
                              f"{exc.strerror or exc}") from None
        for folder in self._written_folders():
            removed = remove_stale_temporaries(folder)
            if removed:
                logger.info("removed %d temporary files left in %s by a killed run",
                            removed, folder)
        if previous is None:
            write_atomic(self.manifest_path, manifest.to_bytes(), durable=True)
            return RunStart(finished=frozenset())
        if self.annotations_path.exists():
            self._remove_records()
            return RunStart(finished=frozenset(range(manifest.frames)), complete=True)
        finished = self._finished_frames(manifest.frames)
        logger.info("resuming %s: %d of %d frames are finished", self.out_dir, len(finished),
                    manifest.frames)
        return RunStart(finished=finished)

    def _dataset_folders(self) -> list[Path]:
        """The folders a run writes its per-frame files to."""
        return [self.images_dir, *(self.out_dir / name for name in sorted(set(
            MAP_FOLDERS.values())))]

    def _foreign_file(self) -> Path | None:
        """The first file in the dataset's places that synthscene did not write, or None.

        synthscene's own are: ``.synthscene/``; in ``images/`` and the map folders, files named
        like a frame (``000001.png``, ``.jpg``, ``.npy``, ``.flo``) or a sequence
        (``seq-000000.npz``) and temporary files of a killed run;
        ``annotations.json`` when the folder has a run manifest or the file begins as every
        ``annotations.json`` synthscene writes does. A sub-folder of ``images/`` is not ours.

        Raises
        ------
        synthscene.errors.OutputError
            If a folder or ``annotations.json`` cannot be read.
        """
        try:
            if self.annotations_path.exists() and not self.manifest_path.exists():
                with open(self.annotations_path, "rb") as handle:
                    if handle.read(len(_ANNOTATIONS_HEAD)) != _ANNOTATIONS_HEAD:
                        return self.annotations_path
            for folder in self._dataset_folders():
                try:
                    with os.scandir(folder) as scan:
                        entries = sorted(scan, key=lambda e: e.name)
                except (FileNotFoundError, NotADirectoryError):
                    continue
                for entry in entries:
                    ours = (_FRAME_FILE.fullmatch(entry.name) or is_temporary_name(entry.name)) \
                        and not entry.is_dir(follow_symlinks=False)
                    if not ours:
                        return Path(entry.path)
        except OSError as exc:
            raise OutputError(f"cannot read {self.out_dir}: {exc.strerror or exc}") from None
        return None

    def _holds_dataset(self) -> bool:
        """True if the folder holds a dataset, finished or not (empty folders do not count)."""
        if self.annotations_path.exists() or self.manifest_path.exists():
            return True
        try:
            with os.scandir(self.images_dir) as entries:
                return any(True for _ in entries)
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise OutputError(f"cannot read {self.images_dir}: {exc.strerror or exc}") from None

    def _remove(self, paths: list[Path]) -> None:
        try:
            for p in paths:
                shutil.rmtree(p) if p.is_dir() else p.unlink()
        except OSError as exc:
            raise OutputError(f"{self.out_dir}: cannot remove the old dataset "
                              f"({exc.strerror or exc})") from None

    def _finished_frames(self, frames: int) -> frozenset[int]:
        """Frames with a record whose PNG exists with the recorded size; drop bad records."""
        images = {entry.name: entry.stat().st_size for entry in os.scandir(self.images_dir)
                  if entry.is_file()}
        finished = set()
        for entry in os.scandir(self.frames_dir):
            stem, dot, ext = entry.name.partition(".")
            if ext != "json" or not stem.isdigit():
                continue
            index = int(stem) - 1
            if not 0 <= index < frames:
                continue
            reason = None
            try:
                frame, png_size = _read_record(Path(entry.path))
                if frame.image["id"] != index + 1:
                    reason = "it is the record of another frame"
                elif images.get(frame.image["file_name"]) != png_size:
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
        self._remove_records()
        return count

    def _remove_records(self) -> None:
        try:
            shutil.rmtree(self.frames_dir)
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
        """Best effort: delete temporary files of stopped workers (no worker may be running)."""
        for folder in self._written_folders():
            with contextlib.suppress(OutputError, OSError):
                remove_stale_temporaries(folder)

    def _written_folders(self) -> list[Path]:
        """Every folder a run writes files into through temporaries: the dataset folder, the
        images, the map folders (depth, flow, tracks, ...) and the run's own state."""
        maps = sorted({self.out_dir / folder for folder in MAP_FOLDERS.values()})
        return [self.out_dir, self.images_dir, *maps, self.state_dir, self.frames_dir]
