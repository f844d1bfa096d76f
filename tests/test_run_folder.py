"""synthscene.run.run_folder.RunFolder: prepare, lock, resume and overwrite rules, on disk.

Frames are hand-made records (no rendering); the finished ``annotations.json`` is read back with
pycocotools, and paths are written out literally as the documented layout gives them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO

import synthscene
from synthscene.errors import OutputError
from synthscene.run.run_folder import RunFolder, RunManifest

SRC = str(Path(synthscene.__file__).resolve().parents[1])
SHA = "ab" * 32
W, H = 4, 3


def manifest(**changes) -> RunManifest:
    fields = {"scenario_sha256": SHA, "seed": 7, "frames": 3, **changes}
    return RunManifest(**fields)


def png_bytes(frame_index: int) -> bytes:
    return b"\x89PNG fake image of frame %d" % frame_index


def record(frame_index: int) -> dict:
    """A frame record as frame_record makes one: an image entry and one one-pixel annotation."""
    mask = np.zeros((H, W), dtype=np.uint8, order="F")
    mask[1, frame_index % W] = 1
    rle = mask_utils.encode(mask)
    rle["counts"] = rle["counts"].decode("ascii")
    image_id = frame_index + 1
    return {"image": {"id": image_id, "file_name": f"{image_id:06d}.png", "width": W,
                      "height": H},
            "annotations": [{"image_id": image_id, "category_id": 1,
                             "bbox": [float(frame_index % W), 1.0, 1.0, 1.0], "area": 1,
                             "iscrowd": 0, "segmentation": rle}]}


def save(folder: RunFolder, *frames: int) -> None:
    for i in frames:
        folder.save_frame(i, png_bytes(i), record(i))


def finish(folder: RunFolder, frames: int = 3) -> int:
    return folder.finalize(frames, categories=["cube"], description="synthscene test")


def listing(out: Path) -> list[str]:
    return sorted(p.relative_to(out).as_posix() for p in out.rglob("*"))


# ------------------------------------------------------------------------------ a new run
def test_a_new_run_writes_its_manifest_first_and_no_annotation_file(tmp_path):
    out = tmp_path / "out"
    with RunFolder(out) as folder:
        start = folder.prepare(manifest())
        assert start.finished == frozenset() and not start.complete
        written = json.loads((out / ".synthscene" / "manifest.json").read_bytes())
        assert (written["scenario_sha256"], written["seed"], written["frames"]) == (SHA, 7, 3)
        assert written["synthscene_version"] == synthscene.__version__
        assert (out / "images").is_dir()
        save(folder, 0, 1, 2)
        assert not (out / "annotations.json").exists()  # unfinished until finalize
        assert (out / "images" / "000002.png").read_bytes() == png_bytes(1)
        assert finish(folder) == 3
    coco = COCO(str(out / "annotations.json"))
    assert sorted(coco.getImgIds()) == [1, 2, 3]
    assert sorted(coco.getAnnIds()) == [1, 2, 3]
    for ann in coco.loadAnns(coco.getAnnIds()):
        assert coco.annToMask(ann).sum() == ann["area"] == 1
    # The records are deleted once merged; the manifest stays for a later --resume.
    assert not (out / ".synthscene" / "frames").exists()
    assert (out / ".synthscene" / "manifest.json").is_file()


def test_overwrite_and_resume_exclude_each_other(tmp_path):
    with pytest.raises(ValueError, match="exclude"):
        RunFolder(tmp_path).prepare(manifest(), overwrite=True, resume=True)


def test_a_file_where_the_folder_should_be_is_refused(tmp_path):
    (tmp_path / "out").write_bytes(b"x")
    with pytest.raises(OutputError, match="not a folder"):
        RunFolder(tmp_path / "out").prepare(manifest())
    assert (tmp_path / "out").read_bytes() == b"x"


# ------------------------------------------------------------------------------ the lock
def test_a_second_run_on_a_locked_folder_is_refused(tmp_path):
    out = tmp_path / "out"
    with RunFolder(out) as first:
        first.prepare(manifest())
        save(first, 0)
        for flags in ({}, {"resume": True}, {"overwrite": True}):
            with pytest.raises(OutputError, match="another synthscene run"):
                RunFolder(out).prepare(manifest(), **flags)
        # The refused runs touched nothing: the first one's frame is still there.
        assert (out / "images" / "000001.png").read_bytes() == png_bytes(0)
    # Released at the end of the with block: resuming now works.
    with RunFolder(out) as second:
        assert second.prepare(manifest(), resume=True).finished == {0}


def test_the_lock_holds_against_another_process(tmp_path):
    out = tmp_path / "out"
    child = textwrap.dedent(f"""
        from synthscene.errors import OutputError
        from synthscene.run.run_folder import RunFolder, RunManifest
        try:
            RunFolder({str(out)!r}).prepare(RunManifest({SHA!r}, 7, 3), resume=True)
        except OutputError as exc:
            print(exc)
            raise SystemExit(3)
    """)
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    with RunFolder(out) as folder:
        folder.prepare(manifest())
        done = subprocess.run([sys.executable, "-c", child], env=env, capture_output=True,
                              text=True, timeout=120)
    assert done.returncode == 3, done.stderr
    assert "another synthscene run" in done.stdout


# ------------------------------------------------------------------------------ resuming
def test_an_unfinished_folder_is_refused_without_resume_and_resumed_with_it(tmp_path):
    out = tmp_path / "out"
    with RunFolder(out) as folder:
        folder.prepare(manifest())
        save(folder, 0, 2)
    assert not (out / "annotations.json").exists()
    with pytest.raises(OutputError, match="unfinished"):
        RunFolder(out).prepare(manifest())
    with RunFolder(out) as folder:
        start = folder.prepare(manifest(), resume=True)
        assert start.finished == {0, 2} and not start.complete
        with pytest.raises(OutputError, match="frame 1 is not finished"):
            finish(folder)
        assert not (out / "annotations.json").exists()  # still unfinished and resumable
        save(folder, 1)
        finish(folder)
    assert len(COCO(str(out / "annotations.json")).getImgIds()) == 3
    with RunFolder(out) as folder:  # --resume of a complete run: nothing left to do
        start = folder.prepare(manifest(), resume=True)
        assert start.complete and start.finished == {0, 1, 2}


def test_a_frame_whose_image_was_cut_short_is_made_again(tmp_path):
    out = tmp_path / "out"
    with RunFolder(out) as folder:
        folder.prepare(manifest())
        save(folder, 0, 1)
    (out / "images" / "000002.png").write_bytes(png_bytes(1)[:5])  # not the recorded size
    (out / "images" / "000001.png").unlink()  # a record without its image
    with RunFolder(out) as folder:
        assert folder.prepare(manifest(), resume=True).finished == frozenset()
    assert not (out / ".synthscene" / "frames" / "000001.json").exists()
    assert not (out / ".synthscene" / "frames" / "000002.json").exists()


def test_resume_removes_the_temporaries_of_a_killed_run(tmp_path):
    out = tmp_path / "out"
    with RunFolder(out) as folder:
        folder.prepare(manifest())
        save(folder, 0)
    stale = out / "images" / ".000002.png.0123456789ab.tmp"
    stale.write_bytes(b"half a png")
    with RunFolder(out) as folder:
        assert folder.prepare(manifest(), resume=True).finished == {0}
    assert not stale.exists()


@pytest.mark.parametrize("change, named", [
    ({"seed": 8}, "seed"),
    ({"frames": 4}, "frames"),
    ({"scenario_sha256": "cd" * 32}, "scenario"),
    ({"synthscene_version": "0.0.0"}, "synthscene version"),
    ({"plugins": ({"module": "rain", "version": "1", "sha256": "ef" * 32},)}, "plug-in 'rain'"),
])
def test_resume_with_another_manifest_is_refused_naming_the_field(tmp_path, change, named):
    out = tmp_path / "out"
    with RunFolder(out) as folder:
        folder.prepare(manifest())
        save(folder, 0)
    before = listing(out)
    with pytest.raises(OutputError, match=f"cannot resume.*{named}"):
        RunFolder(out).prepare(manifest(**change), resume=True)
    assert listing(out) == before
    # The refused run released the lock: the right manifest resumes.
    with RunFolder(out) as folder:
        assert folder.prepare(manifest(), resume=True).finished == {0}


def test_resume_of_a_dataset_without_manifest_is_refused(tmp_path):
    out = tmp_path / "out"
    with RunFolder(out) as folder:
        folder.prepare(manifest())
        save(folder, 0)
    (out / ".synthscene" / "manifest.json").unlink()
    with pytest.raises(OutputError, match="no run manifest"):
        RunFolder(out).prepare(manifest(), resume=True)


def test_an_empty_or_missing_folder_just_starts_with_resume(tmp_path):
    (tmp_path / "empty").mkdir()
    for out in (tmp_path / "empty", tmp_path / "missing"):
        with RunFolder(out) as folder:
            assert folder.prepare(manifest(), resume=True).finished == frozenset()
        assert (out / ".synthscene" / "manifest.json").is_file()


# ------------------------------------------------------------------------------ overwriting
def complete_dataset(out: Path) -> None:
    with RunFolder(out) as folder:
        folder.prepare(manifest())
        save(folder, 0, 1, 2)
        finish(folder)


def test_a_complete_dataset_is_refused_without_overwrite(tmp_path):
    out = tmp_path / "out"
    complete_dataset(out)
    with pytest.raises(OutputError, match="holds a dataset already"):
        RunFolder(out).prepare(manifest(seed=8))


def test_overwrite_removes_only_the_dataset_and_keeps_the_users_files(tmp_path):
    out = tmp_path / "out"
    complete_dataset(out)
    (out / "README.txt").write_text("my notes")
    (out / "extra").mkdir()
    (out / "extra" / "plot.png").write_bytes(b"mine")
    with RunFolder(out) as folder:
        assert folder.prepare(manifest(seed=8, frames=1), overwrite=True).finished == set()
    assert listing(out) == [".synthscene", ".synthscene/frames", ".synthscene/manifest.json",
                            "README.txt", "extra", "extra/plot.png", "images"]
    assert json.loads((out / ".synthscene" / "manifest.json").read_bytes())["seed"] == 8


@pytest.mark.parametrize("overwrite", [False, True])
def test_a_file_synthscene_did_not_write_is_never_deleted(tmp_path, overwrite):
    out = tmp_path / "out"
    complete_dataset(out)
    (out / "images" / "holiday.jpg").write_bytes(b"a photo")
    with pytest.raises(OutputError, match="holiday.jpg"):
        RunFolder(out).prepare(manifest(seed=8), overwrite=overwrite)
    assert (out / "images" / "holiday.jpg").read_bytes() == b"a photo"
    assert (out / "annotations.json").is_file() and (out / "images" / "000001.png").is_file()


@pytest.mark.parametrize("overwrite", [False, True])
def test_an_annotation_file_of_someone_else_is_never_replaced(tmp_path, overwrite):
    out = tmp_path / "out"
    out.mkdir()
    theirs = b'{"images": [], "annotations": [], "categories": []}'
    (out / "annotations.json").write_bytes(theirs)
    with pytest.raises(OutputError, match="annotations.json"):
        RunFolder(out).prepare(manifest(), overwrite=overwrite)
    assert (out / "annotations.json").read_bytes() == theirs
    assert listing(out) == ["annotations.json"]
