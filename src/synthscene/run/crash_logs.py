"""The Python stack of a worker process that dies of a fatal signal, kept in the run folder.

A worker that crashes in native code (a segmentation fault in the GL driver or the physics
engine) leaves its parent nothing but the signal's number. Each worker process writes, with
:mod:`faulthandler` (Python's standard library), the stack of each of its threads to
``OUT/.synthscene/worker-N-crash.txt`` if it dies of ``SIGSEGV``, ``SIGFPE``, ``SIGABRT``,
``SIGBUS`` or ``SIGILL``; the run's one-line message then names that file. ``SIGKILL`` (the
out-of-memory killer, ``kill -9``) cannot be caught and leaves no stack.

The files are synthscene's own (in the run folder's state folder, :func:`is_crash_log`):
``--resume`` and ``--overwrite`` remove an earlier run's, and the main process removes the empty
ones (workers that did not crash) once its workers have stopped.
"""

from __future__ import annotations

import contextlib
import faulthandler
import re
from collections.abc import Iterator
from pathlib import Path

from synthscene.io.layout import STATE_DIR

__all__ = ["crash_log_path", "crash_logs", "crash_note", "fault_log", "is_crash_log",
           "remove_crash_logs"]

_PATTERN = "worker-*-crash.txt"
_NAME = re.compile(r"worker-[0-9]+-crash\.txt")


def crash_log_path(out_dir: Path, worker: int) -> Path:
    """``out_dir/.synthscene/worker-{worker}-crash.txt``."""
    return Path(out_dir) / STATE_DIR / f"worker-{int(worker)}-crash.txt"


def is_crash_log(name: str) -> bool:
    """Whether a file name in the state folder is a worker's crash file."""
    return _NAME.fullmatch(name) is not None


@contextlib.contextmanager
def fault_log(path: Path) -> Iterator[None]:
    """While the block runs, a fatal signal writes the stack of every thread of this process to
    ``path`` (:func:`faulthandler.enable`) before the process dies; on leaving the block the
    handler is removed and the (empty) file deleted. A file that cannot be opened leaves the
    block to run without it."""
    try:
        handle = open(path, "w", encoding="utf-8")  # noqa: SIM115 - held for the block
    except OSError:
        yield
        return
    faulthandler.enable(file=handle, all_threads=True)
    try:
        yield
    finally:
        faulthandler.disable()
        handle.close()
        path.unlink(missing_ok=True)


def crash_logs(out_dir: Path) -> list[Path]:
    """The crash files in ``out_dir``'s state folder, sorted by name."""
    return sorted(path for path in (Path(out_dir) / STATE_DIR).glob(_PATTERN)
                  if is_crash_log(path.name))


def remove_crash_logs(out_dir: Path, *, empty_only: bool = False) -> None:
    """Delete the crash files in ``out_dir``'s state folder (only the empty ones if
    ``empty_only``); files that cannot be deleted are left."""
    for path in crash_logs(out_dir):
        with contextlib.suppress(OSError):
            if not empty_only or path.stat().st_size == 0:
                path.unlink()


def crash_note(path: Path) -> str:
    """``"; the stack of its threads is in PATH"`` if ``path`` holds a stack, else ``""``."""
    try:
        written = path.stat().st_size > 0
    except OSError:
        return ""
    return f"; the stack of its threads is in {path}" if written else ""
