"""synthscene.io.fileio: atomic writes survive a crash, bounded reads refuse what never ends.

The expectations come from POSIX, not from the module: ``rename(2)`` replaces a name atomically,
a process killed with SIGKILL runs no clean-up, ``/dev/zero`` never ends, a FIFO without a
writer blocks a plain ``open`` forever.
"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

import synthscene
from synthscene.errors import OutputError
from synthscene.io.fileio import (
    FileProblem,
    is_temporary_name,
    read_regular_file,
    regular_file_problem,
    remove_stale_temporaries,
    temporary_target,
    write_atomic,
    write_atomic_stream,
)

SRC = str(Path(synthscene.__file__).resolve().parents[1])
OLD = b"old content\n"
NEW = b"N" * 100_000


def leftovers(folder: Path) -> list[str]:
    """Names in ``folder`` that start with a dot (where temporary files would be)."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def run_child(code: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env,
                          capture_output=True, timeout=60)


def call_with_deadline(fn, seconds: float = 10.0):
    """Run ``fn()`` in a thread; fail (instead of hanging the suite) if it blocks."""
    result: dict = {}

    def target() -> None:
        try:
            result["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            result["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"blocked for more than {seconds} s"
    if "error" in result:
        raise result["error"]
    return result["value"]


# ------------------------------------------------------------------------------ atomic writes
def test_write_atomic_replaces_the_content_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "a.bin"
    write_atomic(path, OLD)
    write_atomic(path, NEW, durable=True)
    assert path.read_bytes() == NEW
    assert leftovers(tmp_path) == []


def test_new_files_get_the_umask_permissions_like_any_file_the_user_creates(tmp_path):
    old_mask = os.umask(0o027)
    try:
        write_atomic(tmp_path / "a.bin", OLD)
    finally:
        os.umask(old_mask)
    assert stat.S_IMODE((tmp_path / "a.bin").stat().st_mode) == 0o640


def test_a_failing_writer_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "a.bin"
    path.write_bytes(OLD)

    def fill(handle):
        handle.write(NEW[:1000])
        raise ValueError("stopped half way")

    with pytest.raises(ValueError, match="stopped half way"):
        write_atomic_stream(path, fill)
    assert path.read_bytes() == OLD
    assert leftovers(tmp_path) == []


def test_a_failing_writer_on_a_new_name_leaves_no_file(tmp_path):
    def fill(handle):
        handle.write(NEW[:1000])
        raise OSError(28, "No space left on device")

    with pytest.raises(OutputError, match=r"a\.bin.*No space left on device"):
        write_atomic_stream(tmp_path / "a.bin", fill)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("existed", [True, False], ids=["old-file", "no-file"])
def test_a_process_killed_mid_write_leaves_the_old_file_or_none(tmp_path, existed):
    path = tmp_path / "annotations.json"
    if existed:
        path.write_bytes(OLD)
    done = run_child(f"""
        import os, signal
        from pathlib import Path
        from synthscene.io.fileio import write_atomic_stream

        def fill(handle):
            handle.write(b"N" * 50_000)
            handle.flush()
            os.kill(os.getpid(), signal.SIGKILL)  # no finally, no atexit: a real crash

        write_atomic_stream(Path({str(path)!r}), fill, durable=True)
    """)
    assert done.returncode == -signal.SIGKILL, done.stderr.decode()
    if existed:
        assert path.read_bytes() == OLD
    else:
        assert not path.exists()
    # The killed writer's half file is a temporary, recognised and removed on the next run.
    stale = leftovers(tmp_path)
    assert len(stale) == 1 and is_temporary_name(stale[0])
    assert (tmp_path / stale[0]).stat().st_size == 50_000
    assert remove_stale_temporaries(tmp_path) == 1
    assert leftovers(tmp_path) == []
    assert path.exists() == existed


def test_a_folder_at_the_target_is_refused_and_kept(tmp_path):
    target = tmp_path / "images"
    target.mkdir()
    (target / "keep.png").write_bytes(OLD)
    with pytest.raises(OutputError, match="images"):
        write_atomic(target, NEW)
    assert target.is_dir() and (target / "keep.png").read_bytes() == OLD
    assert leftovers(tmp_path) == []


def test_a_fifo_at_the_target_is_replaced_without_being_opened(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    call_with_deadline(lambda: write_atomic(fifo, NEW))  # opening the FIFO would block
    assert stat.S_ISREG(fifo.stat().st_mode) and fifo.read_bytes() == NEW


def test_a_missing_folder_is_an_output_error_naming_the_file(tmp_path):
    with pytest.raises(OutputError, match=r"missing.*a\.bin"):
        write_atomic(tmp_path / "missing" / "a.bin", OLD)


def test_temporaries_have_a_name_of_their_own(tmp_path):
    path = tmp_path / "000001.png"

    def fill(handle):
        names = [p.name for p in tmp_path.iterdir()]
        assert len(names) == 1 and names[0].startswith(".000001.png.synthscene-")
        assert temporary_target(names[0]) == "000001.png" and is_temporary_name(names[0])
        handle.write(NEW)

    write_atomic_stream(path, fill)
    for user_name in (".notes.tmp", ".thumbs.db.tmp", ".a.png.tmp", ".x.synthscene-1.tmp",
                      ".a.png.synthscene-0123456789AB.tmp", "a.png.synthscene-0123456789ab.tmp",
                      ".a.png.synthscene-0123456789ab.tmp.bak"):
        assert temporary_target(user_name) is None and not is_temporary_name(user_name)


def test_remove_stale_temporaries_removes_only_the_owned_ones(tmp_path):
    ours = tmp_path / ".000001.png.synthscene-0123456789ab.tmp"
    other = tmp_path / ".notes.txt.synthscene-0123456789ab.tmp"
    for path in (ours, other, tmp_path / ".notes.tmp", tmp_path / ".thumbs.db.tmp"):
        path.write_bytes(b"x")
    (tmp_path / ".link.png.synthscene-0123456789ab.tmp").symlink_to(tmp_path / ".notes.tmp")
    assert remove_stale_temporaries(tmp_path, owned=lambda name: name.endswith(".png")) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".link.png.synthscene-0123456789ab.tmp", ".notes.tmp",
        ".notes.txt.synthscene-0123456789ab.tmp", ".thumbs.db.tmp"]


def test_remove_stale_temporaries_removes_only_temporaries(tmp_path):
    (tmp_path / ".a.png.synthscene-0123456789ab.tmp").write_bytes(b"half")
    (tmp_path / ".hidden").write_bytes(b"user's")
    (tmp_path / "notes.tmp").write_bytes(b"user's")
    (tmp_path / ".dir.tmp").mkdir()  # a folder is never a temporary file
    assert remove_stale_temporaries(tmp_path) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == [".dir.tmp", ".hidden", "notes.tmp"]
    assert remove_stale_temporaries(tmp_path / "no-such-folder") == 0


# ------------------------------------------------------------------------------ bounded reads
def test_read_regular_file_reads_up_to_the_limit_exactly(tmp_path):
    path = tmp_path / "a.bin"
    path.write_bytes(b"x" * 1000)
    assert read_regular_file(path, max_bytes=1000) == b"x" * 1000
    with pytest.raises(FileProblem, match="larger than the limit of 999 bytes"):
        read_regular_file(path, max_bytes=999)
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    assert read_regular_file(empty, max_bytes=0) == b""


def test_read_regular_file_refuses_an_endless_device_at_once():
    if not os.path.exists("/dev/zero"):
        pytest.skip("no /dev/zero")
    with pytest.raises(FileProblem, match="character device, not a regular file"):
        call_with_deadline(lambda: read_regular_file("/dev/zero", max_bytes=1 << 40))


def test_read_regular_file_refuses_a_fifo_without_waiting_for_a_writer(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(FileProblem, match="FIFO"):
        call_with_deadline(lambda: read_regular_file(fifo, max_bytes=10))


def test_read_regular_file_refuses_a_folder_a_missing_file_and_a_link_loop(tmp_path):
    with pytest.raises(FileProblem, match="folder, not a regular file"):
        read_regular_file(tmp_path, max_bytes=10)
    with pytest.raises(FileProblem, match="not found"):
        read_regular_file(tmp_path / "missing", max_bytes=10)
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    with pytest.raises(FileProblem, match="symbolic link loop"):
        read_regular_file(tmp_path / "a", max_bytes=10)


def test_read_regular_file_follows_a_link_to_a_regular_file(tmp_path):
    (tmp_path / "real").write_bytes(OLD)
    (tmp_path / "link").symlink_to(tmp_path / "real")
    assert read_regular_file(tmp_path / "link", max_bytes=100) == OLD


def test_regular_file_problem_names_what_the_path_is(tmp_path):
    (tmp_path / "file").write_bytes(OLD)
    os.mkfifo(tmp_path / "pipe")
    assert regular_file_problem(tmp_path / "file") is None
    assert regular_file_problem(tmp_path / "missing") == "not found"
    assert regular_file_problem(tmp_path) == "a folder, not a regular file"
    assert regular_file_problem(tmp_path / "pipe") == "a FIFO (named pipe), not a regular file"
    if os.path.exists("/dev/null"):
        assert regular_file_problem("/dev/null") == "a character device, not a regular file"
