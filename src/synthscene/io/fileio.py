"""Atomic file writing: a reader (or a resumed run) never sees half a file.

Every file synthscene writes goes to a temporary file in the same folder first and is then renamed
over its final name with :func:`os.replace`, which POSIX makes atomic within one file system
(``rename(2)``): after a crash or ``kill -9`` the final name holds either the old content or the
whole new content, never a prefix. Temporary files are named ``.<name>.synthscene-<12 hex>.tmp``
(:func:`is_temporary_name`), a pattern of synthscene's own: a run that dies leaves at most some of
them behind, and :func:`remove_stale_temporaries` deletes them and nothing else (a user's
``.notes.tmp`` is never touched).

Reading is bounded too: :func:`read_regular_file` reads a file only if it is a regular file
(never a FIFO, which would block forever, nor a device such as ``/dev/zero``, which never ends)
and only up to a size limit; :func:`regular_file_problem` says what is wrong with a path that
another library will open.

Durability against power loss (not just process death) needs ``fsync``: :func:`write_atomic`
takes ``durable=True`` for files that mark a dataset complete (``annotations.json``, the run
manifest); per-frame files skip it, since a lost frame file only means the frame is made again.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from synthscene.errors import OutputError

__all__ = ["FileProblem", "is_inside", "is_temporary_name", "probe_writable", "read_regular_file",
           "regular_file_problem", "remove_stale_temporaries", "temporary_target",
           "write_atomic", "write_atomic_stream"]

TMP_SUFFIX = ".tmp"
TMP_MARK = ".synthscene-"
"""What sets synthscene's temporary files apart: ``.<name>.synthscene-<12 hex digits>.tmp``."""
_TEMPORARY = re.compile(r"\.(.+)" + re.escape(TMP_MARK) + "[0-9a-f]{12}" + re.escape(TMP_SUFFIX))
"""Temporary names of :func:`write_atomic`: ``.<name>.synthscene-<12 hex digits>.tmp``."""


class FileProblem(ValueError):
    """A file cannot be read as asked: missing, not a regular file, or too large.

    The message is a short phrase (``"not found"``, ``"a FIFO (named pipe), not a regular
    file"``, ...) that the caller prefixes with the file and the field that named it.
    """


def _kind(mode: int) -> str:
    """What a non-regular file is, in words."""
    for test, name in ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a plain file"  # pragma: no cover - doors, ports and the like


def _open_problem(exc: OSError) -> FileProblem:
    if exc.errno == errno.ENOENT:
        return FileProblem("not found")
    if exc.errno == errno.ELOOP:
        return FileProblem("a symbolic link loop (too many levels of symbolic links)")
    return FileProblem(f"cannot be read ({exc.strerror or exc})")


def regular_file_problem(path: str | Path) -> str | None:
    """Why ``path`` is not a readable regular file, or None if it is one.

    For paths handed to a library that opens them itself (trimesh); symbolic links are followed.

    Returns
    -------
    str or None
        ``"not found"``, ``"a symbolic link loop (...)"``, ``"a FIFO (named pipe), not a
        regular file"``, ``"a character device, not a regular file"``, ...
    """
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        return str(_open_problem(exc))
    if not stat.S_ISREG(mode):
        return f"{_kind(mode)}, not a regular file"
    return None


def read_regular_file(path: str | Path, *, max_bytes: int) -> bytes:
    """The bytes of ``path``, if it is a regular file of at most ``max_bytes`` bytes.

    The file is opened without blocking (a FIFO is refused at once, not waited on) and checked
    on the open descriptor, then at most ``max_bytes + 1`` bytes are read, so neither a device
    nor a file that grows while it is read can exhaust memory.

    Parameters
    ----------
    path : str or Path
    max_bytes : int
        Largest size accepted, bytes.

    Returns
    -------
    bytes

    Raises
    ------
    FileProblem
        If the file is missing, a symbolic link loop, not a regular file (folder, FIFO, device,
        socket), unreadable, or larger than ``max_bytes``.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise _open_problem(exc) from None
    try:
        mode = os.fstat(fd).st_mode
    except OSError as exc:
        os.close(fd)
        raise _open_problem(exc) from None
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise FileProblem(f"{_kind(mode)}, not a regular file")
    with os.fdopen(fd, "rb") as handle:
        try:
            data = handle.read(max_bytes + 1)
        except OSError as exc:
            raise _open_problem(exc) from None
    if len(data) > max_bytes:
        raise FileProblem(f"larger than the limit of {max_bytes} bytes")
    return data


def write_atomic(path: Path, data: bytes, *, durable: bool = False) -> None:
    """Write ``data`` to ``path`` through a temporary file and :func:`os.replace`.

    Parameters
    ----------
    path : pathlib.Path
        Final file name; its folder must exist.
    data : bytes
    durable : bool
        Also ``fsync`` the file and its folder, so that the rename survives a power loss.

    Raises
    ------
    synthscene.errors.OutputError
        Naming ``path`` and the system's reason (no space left, read-only file system, ...).
        No temporary file is left behind.
    """
    write_atomic_stream(path, lambda handle: handle.write(data), durable=durable)


def write_atomic_stream(path: Path, fill: Callable[[BinaryIO], object], *,
                        durable: bool = False) -> None:
    """Like :func:`write_atomic`, but ``fill(handle)`` writes the content to a binary handle.

    Use it for files too large to build in memory. An exception raised by ``fill`` propagates
    (an :class:`OSError` becomes an :class:`~synthscene.errors.OutputError`) and the final file is
    left untouched.
    """
    path = Path(path)
    with _temporary(path) as (handle, tmp_name):
        fill(handle)
        handle.flush()
        if durable:
            os.fsync(handle.fileno())
        handle.close()
        os.replace(tmp_name, path)
    if durable:
        _fsync_dir(path.parent)


@contextlib.contextmanager
def _temporary(path: Path) -> Iterator[tuple[BinaryIO, str]]:
    """Open ``.<name>.synthscene-<random>.tmp`` next to ``path``; remove it unless it was
    renamed."""
    tmp_name = None
    try:
        # Not tempfile.mkstemp: its files are mode 0600; os.open applies the umask to 0666,
        # so the dataset gets the permissions of any file the user creates.
        tmp_name = os.path.join(path.parent,
                                f".{path.name}{TMP_MARK}{os.urandom(6).hex()}{TMP_SUFFIX}")
        fd = os.open(tmp_name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with os.fdopen(fd, "wb") as handle:
            yield handle, tmp_name
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        if tmp_name is not None and os.path.lexists(tmp_name):
            with contextlib.suppress(OSError):
                os.unlink(tmp_name)


def _fsync_dir(folder: Path) -> None:
    """Best effort: make a rename in ``folder`` durable (not every platform allows it)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def probe_writable(folder: Path) -> None:
    """Create and delete a file in ``folder``.

    Raises
    ------
    OSError
        If that fails (the caller turns it into an :class:`~synthscene.errors.OutputError`
        naming its own context).
    """
    fd, probe = tempfile.mkstemp(prefix=".probe-", dir=folder)
    os.close(fd)
    os.unlink(probe)


def is_inside(path: Path, root: Path) -> bool:
    """Whether resolved ``path`` is ``root`` or lies below it (both already resolved: a caller
    resolves before it removes anything, so no symbolic link leads out)."""
    return path == root or root in path.parents


def temporary_target(name: str) -> str | None:
    """The final file name a temporary file of :func:`write_atomic` stands for, or None.

    ``temporary_target(".000001.png.synthscene-0123456789ab.tmp") == "000001.png"``; None for
    any name that is not one of synthscene's temporaries (``.notes.tmp``,
    ``.a.0123456789ab.tmp``).
    """
    match = _TEMPORARY.fullmatch(name)
    return match.group(1) if match else None


def is_temporary_name(name: str) -> bool:
    """Whether ``name`` is that of a temporary file of :func:`write_atomic`
    (``.<name>.synthscene-<12 hex digits>.tmp``, see :func:`temporary_target`; a user's
    ``.notes.tmp`` is not one)."""
    return temporary_target(name) is not None


def remove_stale_temporaries(folder: Path, *, owned: Callable[[str], bool] | None = None) -> int:
    """Delete the temporary files of :func:`write_atomic` a killed run left in ``folder``;
    return how many.

    Only files named by :func:`is_temporary_name` are removed; a symbolic link of that name is
    not followed and not removed (synthscene never makes one). Only call it while no other
    process writes to ``folder``.

    Parameters
    ----------
    folder : pathlib.Path
        A missing folder holds nothing to remove.
    owned : callable, optional
        ``owned(final_name)``: remove only the temporaries of the files it accepts
        (:func:`temporary_target`), e.g. those of a run's own files; None: every temporary.

    Raises
    ------
    synthscene.errors.OutputError
        If a stale file cannot be removed.
    """
    removed = 0
    if not folder.is_dir():
        return 0
    for entry in os.scandir(folder):
        target = temporary_target(entry.name)
        if target is None or not entry.is_file(follow_symlinks=False):
            continue
        if owned is not None and not owned(target):
            continue
        try:
            os.unlink(entry.path)
        except OSError as exc:
            raise OutputError(f"cannot remove the stale file {entry.path}: "
                              f"{exc.strerror or exc}") from None
        removed += 1
    return removed
