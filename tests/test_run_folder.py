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
        assert start.complete and start.finished_count == 3 and not start.pending


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
    stale = out / "images" / ".000002.png.synthscene-0123456789ab.tmp"
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


# ------------------------------------------------------------------------------ the run's files
@pytest.mark.parametrize("flow_format", ["npy", "flo"])
@pytest.mark.parametrize("image_format", ["png", "jpg"])
def test_the_manifest_names_exactly_the_files_a_frame_writes(flow_format, image_format):
    from synthscene.config.schema import OutputsSpec
    from synthscene.core.state import FrameMotion, PointTracks, RenderOutput
    from synthscene.io.layout import run_file_templates
    from synthscene.io.maps import encode_frame_maps

    outputs = OutputsSpec(depth_png=True, depth_npy=True, normals=True, semantic_mask=True,
                          instance_mask=True, flow=True, flow_format=flow_format,
                          point_tracks=4, depth_sensor={"model": "structured_light"})
    render = RenderOutput(rgb=np.zeros((H, W, 3), np.uint8), depth=np.ones((H, W), np.float32),
                          instance_ids=np.zeros((H, W), np.int32),
                          normals=np.zeros((H, W, 3), np.float32),
                          depth_sensor=np.ones((H, W), np.float32))
    flow, valid = np.zeros((H, W, 2), np.float32), np.ones((H, W), bool)
    tracks = PointTracks(sequence_id=1, target_points=np.zeros((1, 2, 2), np.float32),
                         occluded=np.zeros((1, 2), bool), query_points=np.zeros((1, 3)),
                         track_ids=np.zeros(1, np.int64))
    files, _ = encode_frame_maps(6, render, [], outputs, category_ids={"cube": 1},
                                 motion=FrameMotion(flow, valid, flow, valid),
                                 point_tracks=tracks)
    templates = run_file_templates(outputs, image_format)
    written = sorted([f"images/000007.{image_format}", *files])
    assert sorted(t.format(frame="000007", sequence="seq-000001") for t in templates) == written
    # The run (frames 0..7, sequences of 4) owns these names and nothing like them.
    run = RunManifest(SHA, 0, 8, files=templates, frames_per_scene=4).run_files()
    for name in written:
        folder, file_name = name.split("/")
        assert run.owns(folder, file_name)
        assert run.owns(folder, f".{file_name}.synthscene-0123456789ab.tmp")
    for folder, file_name in [("images", f"000009.{image_format}"), ("images", "000000.png"),
                              ("tracks", "seq-000002.npz"), ("depth", "0000007.png"),
                              ("depth", "000007.png.bak"), ("images", ".000007.png.tmp")]:
        assert not run.owns(folder, file_name), file_name


def test_an_older_manifest_is_refused_with_its_format_named(tmp_path):
    out = tmp_path / "out"
    with RunFolder(out) as folder:
        folder.prepare(manifest())
        save(folder, 0)
    old = json.loads((out / ".synthscene" / "manifest.json").read_bytes())
    old["format"] = 3
    del old["files"]
    (out / ".synthscene" / "manifest.json").write_text(json.dumps(old))
    for flags in ({"resume": True}, {"overwrite": True}):
        with pytest.raises(OutputError, match=r"format 3 .*reads format 4 only"):
            RunFolder(out).prepare(manifest(), **flags)
    assert (out / "images" / "000001.png").read_bytes() == png_bytes(0)


# ------------------------------------------------------------------------------ pending work
def test_pending_work_is_ranges_whatever_the_frame_count(tmp_path):
    from synthscene.run.ranges import FrameRanges, pending_frames
    from synthscene.run.run_folder import RunStart

    start = RunStart(frames=10**8, finished=frozenset({0, 5, 10**8 - 1}))
    assert start.pending.ranges == (range(1, 5), range(6, 10**8 - 1))
    assert len(start.pending) == 10**8 - 3 and start.finished_count == 3
    assert RunStart(frames=10**8, complete=True).pending == FrameRanges()
    assert list(pending_frames(6, {1, 2, 9})) == [0, 3, 4, 5]
    assert 3 in pending_frames(6, {1}) and 1 not in pending_frames(6, {1})
    with pytest.raises(ValueError, match="ascending"):
        FrameRanges([range(3, 5), range(4, 6)])


def test_scene_groups_read_the_frames_lazily():
    from synthscene.run.worker import scene_groups

    def frames():  # a run too long to list: reading past what is needed fails the test
        yield from (0, 1, 2, 3, 4)
        raise AssertionError("read every frame before the first group")

    groups = scene_groups(frames(), 2)
    assert next(groups) == [0, 1] and next(groups) == [2, 3]


def test_the_task_queue_holds_a_bounded_number_of_groups():
    import queue as queue_module
    import threading

    from synthscene.run.executors.local import _feed
    from synthscene.run.ranges import FrameRanges
    from synthscene.run.worker import scene_groups

    tasks: queue_module.Queue = queue_module.Queue(maxsize=4)
    stop = threading.Event()
    feeder = threading.Thread(target=_feed, args=(
        tasks, scene_groups(FrameRanges([range(10**9)]), 1), 2, stop))
    feeder.start()
    try:
        taken = [tasks.get(timeout=30) for _ in range(6)]  # a worker takes six
        assert taken == [[0], [1], [2], [3], [4], [5]]
    finally:
        stop.set()
        feeder.join(timeout=30)
    assert not feeder.is_alive() and tasks.qsize() <= 4


# ------------------------------------------------------------------------------ memory
def tiny_scenario(**changes):
    from synthscene.config.loading import scenario_from_dict

    return scenario_from_dict({"image": {"width": 640, "height": 480},
                               "assets": [{"source": "primitive:box"}], **changes},
                              source="scene.yaml")


def test_frame_memory_follows_the_documented_formula():
    from synthscene.run.memory import frame_memory_bytes

    assert frame_memory_bytes(tiny_scenario()) == 640 * 480 * (24 + 11)
    big = tiny_scenario(image={"width": 16384, "height": 16384})
    assert 8.0 * 2**30 < frame_memory_bytes(big) < 9.5 * 2**30  # 8.4 GiB measured
    msaa = tiny_scenario(render={"msaa_samples": 4}, outputs={"normals": True})
    assert frame_memory_bytes(msaa) == 640 * 480 * (8 * 4 + 16 + 16 + 11 + 12)
    occlusion = tiny_scenario(render={"ambient_occlusion": {}})
    assert frame_memory_bytes(occlusion) == 640 * 480 * (24 + 6 + 11)


def test_memory_check_refuses_lowers_or_passes():
    from synthscene.errors import ConfigError
    from synthscene.run.memory import available_memory_bytes, fit_workers, frame_memory_bytes

    big = tiny_scenario(image={"width": 16384, "height": 16384})
    need = frame_memory_bytes(big)
    with pytest.raises(ConfigError, match=r"scene.yaml: image: a frame of 16384 x 16384 pixels "
                                          r"needs about 8\.\d GiB .* 4\.0 GiB available"):
        fit_workers(big, 1, available=4 * 2**30)
    assert fit_workers(big, 8, available=3 * need + 1) == 3
    # An ordinary scenario passes on a small machine (512 MiB free) with every core.
    assert fit_workers(tiny_scenario(), 16, available=512 * 2**20) == 16
    available = available_memory_bytes()
    assert available is None or available > 0


def test_a_frame_too_large_for_this_machine_is_refused_before_the_folder_is_made(
        tmp_path, monkeypatch):
    from synthscene.errors import ConfigError
    from synthscene.run import memory

    monkeypatch.setattr(memory, "available_memory_bytes", lambda: 2**30)
    big = tiny_scenario(image={"width": 16384, "height": 16384})
    with pytest.raises(ConfigError, match="scene.yaml: image: .*1.0 GiB available"):
        synthscene.generate(big, tmp_path / "out", frames=10**8)
    assert not (tmp_path / "out").exists()
