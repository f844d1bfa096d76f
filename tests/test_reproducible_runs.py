"""Parallel, resumable, reproducible generation: every way of making a dataset gives the same
bytes as one uninterrupted run in one process."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pycocotools.coco import COCO

import synthscene
from synthscene.config.loading import scenario_from_dict

pytestmark = pytest.mark.gl

FRAMES = 12
SEED = 5
SCENE = {
    "name": "parallel",
    "image": {"width": 160, "height": 120},
    "assets": [{"source": "primitive:box"}, {"source": "primitive:sphere"},
               {"source": "primitive:cylinder"}],
    "objects": {"count": {"randint": [2, 5]}, "size_m": {"uniform": [0.08, 0.15]},
                "drop_region": {"x_m": [-0.2, 0.2], "y_m": [-0.2, 0.2], "z_m": [0.05, 0.2]}},
    "lights": {"count": {"randint": [2, 4]}},  # several: their order must not vary by process
    "camera": {"distance_m": {"uniform": [0.7, 1.0]}},
    "physics": {"max_steps": 300},
}


def scenario() -> synthscene.Scenario:
    return scenario_from_dict(json.loads(json.dumps(SCENE)), source="<parallel>")


def folder_bytes(out: Path) -> dict[str, bytes]:
    """Every file under ``out`` (hidden ones included), by relative path."""
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file()}


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> dict[str, bytes]:
    """The dataset made in this process, uninterrupted, checked against pycocotools."""
    out = tmp_path_factory.mktemp("reference")
    summary = synthscene.generate(scenario(), out, frames=FRAMES, seed=SEED, workers=1)
    assert (summary.frames, summary.made, summary.workers) == (FRAMES, FRAMES, 1)
    coco = COCO(str(out / "annotations.json"))
    assert sorted(coco.getImgIds()) == list(range(1, FRAMES + 1))
    assert sorted(coco.getAnnIds()) == list(range(1, summary.instances + 1))
    assert summary.instances > FRAMES  # the scene has 2-5 objects; most are visible
    files = folder_bytes(out)
    assert set(files) == {"annotations.json", ".synthscene/manifest.json",
                          *(f"images/{i:06d}.png" for i in range(1, FRAMES + 1))}
    return files


def test_two_workers_give_the_same_bytes(reference, tmp_path):
    made = []
    summary = synthscene.generate(scenario(), tmp_path, frames=FRAMES, seed=SEED, workers=2,
                                  on_frame=made.append)
    assert summary.workers == 2 and summary.made == FRAMES
    assert sorted(d.frame_index for d in made) == list(range(FRAMES))
    assert {d.worker for d in made} <= {0, 1}
    assert sum(d.instances for d in made) == summary.instances
    assert all(d.rss_bytes > 0 and d.timings["render"] > 0 for d in made)
    assert folder_bytes(tmp_path) == reference
    assert multiprocessing.active_children() == []


def _children(pid: int) -> list[int]:
    """Ids of the processes whose parent is ``pid`` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_killed_run_resumes_to_the_same_bytes(reference, tmp_path):
    (tmp_path / "scene.yaml").write_text(json.dumps(SCENE))
    out = tmp_path / "out"
    records = out / ".synthscene" / "frames"
    cli = subprocess.Popen([sys.executable, "-m", "synthscene.cli", "generate", "scene.yaml",
                            "--out", "out", "--frames", str(FRAMES), "--seed", str(SEED),
                            "--workers", "2", "--quiet"], cwd=tmp_path,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    workers: set[int] = set()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and cli.poll() is None:
        workers.update(_children(cli.pid))
        if records.is_dir() and len(list(records.glob("*.json"))) >= 3:
            break
        time.sleep(0.002)
    workers.update(_children(cli.pid))
    cli.send_signal(signal.SIGKILL)
    cli.wait()
    assert cli.returncode == -signal.SIGKILL, cli.stderr.read().decode()
    cli.stderr.close()
    # The workers notice that their parent is gone and exit by themselves.
    deadline = time.monotonic() + 20
    while any(_running(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert workers and not any(_running(pid) for pid in workers)

    assert not (out / "annotations.json").exists()
    finished = sorted(int(p.stem) - 1 for p in records.glob("*.json"))
    assert 3 <= len(finished) < FRAMES
    kept = {i: os.stat(out / "images" / f"{i + 1:06d}.png") for i in finished}
    with pytest.raises(synthscene.OutputError, match="unfinished dataset.*--resume"):
        synthscene.generate(scenario(), out, frames=FRAMES, seed=SEED)

    starts, made = [], []
    summary = synthscene.generate(scenario(), out, frames=FRAMES, seed=SEED, resume=True,
                                  on_start=lambda *a: starts.append(a), on_frame=made.append)
    assert starts == [(FRAMES, len(finished))]
    assert sorted(d.frame_index for d in made) == sorted(set(range(FRAMES)) - set(finished))
    assert summary.made == FRAMES - len(finished) and summary.frames == FRAMES
    for i, before in kept.items():  # finished frames were not written again
        after = os.stat(out / "images" / f"{i + 1:06d}.png")
        assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert folder_bytes(out) == reference

    # Resuming a complete run does nothing; resuming with another seed is refused.
    again = synthscene.generate(scenario(), out, frames=FRAMES, seed=SEED, resume=True)
    assert (again.made, again.instances) == (0, summary.instances)
    with pytest.raises(synthscene.OutputError, match="cannot resume.*seed"):
        synthscene.generate(scenario(), out, frames=FRAMES, seed=SEED + 1, resume=True)
    assert folder_bytes(out) == reference


class _Stop(Exception):
    pass


def test_damaged_record_is_made_again_on_resume(reference, tmp_path):
    """A record is JSON lines (a header that counts the annotations, then one per line); one
    that lost a line is not taken for a finished frame."""
    def stop_after_four(done) -> None:
        if done.frame_index == 3:
            raise _Stop

    with pytest.raises(_Stop):
        synthscene.generate(scenario(), tmp_path, frames=FRAMES, seed=SEED,
                            on_frame=stop_after_four)
    records = tmp_path / ".synthscene" / "frames"
    finished = {int(p.stem) - 1 for p in records.glob("*.json")}
    assert {0, 1, 2, 3} <= finished and len(finished) < FRAMES  # the writer may be ahead
    damaged = records / "000003.json"
    lines = damaged.read_bytes().splitlines()
    header = json.loads(lines[0])
    assert header["image"]["id"] == 3 and header["annotations"] == len(lines) - 1 > 0
    damaged.write_bytes(b"\n".join(lines[:-1]) + b"\n")  # one annotation lost
    made = []
    synthscene.generate(scenario(), tmp_path, frames=FRAMES, seed=SEED, resume=True,
                        on_frame=made.append)
    assert sorted(d.frame_index for d in made) == sorted(set(range(FRAMES)) - finished | {2})
    assert folder_bytes(tmp_path) == reference


def test_worker_error_stops_the_run_cleanly_and_resume_completes_it(reference, tmp_path):
    """A worker that cannot write its images (here ``images`` is swapped for a file once the run
    has started, as when a disk fails) stops the run with its own message; nothing is marked
    complete; no process is left behind."""
    images = tmp_path / "images"

    def break_images(frames: int, finished: int) -> None:
        images.rmdir()
        images.write_text("not a folder")

    with pytest.raises(synthscene.OutputError, match=r"cannot write image .*images.*\.png"):
        synthscene.generate(scenario(), tmp_path, frames=FRAMES, seed=SEED, workers=2,
                            on_start=break_images)
    assert multiprocessing.active_children() == []
    assert not (tmp_path / "annotations.json").exists()
    assert not list(tmp_path.rglob(".*.tmp"))  # no half-written file left
    images.unlink()
    summary = synthscene.generate(scenario(), tmp_path, frames=FRAMES, seed=SEED, resume=True)
    assert summary.made == FRAMES
    assert folder_bytes(tmp_path) == reference


def test_unwritable_folder_is_a_clean_error(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    with pytest.raises(synthscene.OutputError, match="a_file"):
        synthscene.generate(scenario(), blocker / "out", frames=2, workers=2)
    with pytest.raises(synthscene.OutputError, match="not a folder"):
        synthscene.generate(scenario(), blocker, frames=2, workers=2)
    assert blocker.read_text() == ""
    assert multiprocessing.active_children() == []


def test_local_ray_gives_the_same_bytes(reference, tmp_path):
    pytest.importorskip("ray")  # in the test extras; a local Ray instance with 2 CPUs
    made = []
    summary = synthscene.generate(scenario(), tmp_path, frames=FRAMES, seed=SEED,
                                  executor="ray", workers=2, on_frame=made.append)
    assert summary.workers == 2
    assert sorted(d.frame_index for d in made) == list(range(FRAMES))
    assert folder_bytes(tmp_path) == reference


def test_missing_ray_is_a_clean_error(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # makes `import ray` fail
    with pytest.raises(synthscene.SynthsceneError, match=r"pip install 'synthscene\[ray\]'"):
        synthscene.generate(scenario(), tmp_path / "out", frames=1, executor="ray")
    assert not (tmp_path / "out").exists()
