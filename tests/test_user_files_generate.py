"""``generate``, ``--resume`` and ``--overwrite`` never lose a file synthscene did not write.

Folders are built with user files beside, inside and under every place a run writes (``images/``,
the map folders, ``.synthscene/``, ``annotations.json``, the dataset folder itself): temporaries
that are not synthscene's (``.notes.tmp``, ``images/.thumbs.db.tmp``), ffmpeg-style frames,
JPEGs where the run writes PNGs, frame-named files in map folders, symbolic links and read-only
files. Every file is hashed before and after; every user file must be byte-identical afterwards,
and a refusal is one line (exit status 2 from the command line) that leaves the folder as it was.

Most cases call :meth:`RunFolder.prepare` directly (no rendering); a few run the command
(``python -m synthscene.cli``) and the Python API end to end on a tiny scenario.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

import synthscene
from synthscene.config.loading import scenario_from_dict
from synthscene.config.schema import OutputsSpec
from synthscene.errors import OutputError
from synthscene.io.layout import run_file_templates
from synthscene.run.run_folder import RunFolder, RunManifest

SHA = "ab" * 32
SRC = str(Path(synthscene.__file__).resolve().parents[1])


# ------------------------------------------------------------------------------ helpers
def snapshot(root: Path) -> dict[str, tuple]:
    """Every entry under ``root`` (links not followed): a file's mode bits and SHA-256, a link's
    target, a folder's mark."""
    entries: dict[str, tuple] = {}
    for folder, dirs, files in os.walk(root, followlinks=False):
        for name in dirs + files:
            path = Path(folder) / name
            info = path.lstat()
            rel = path.relative_to(root).as_posix()
            if stat.S_ISLNK(info.st_mode):
                entries[rel] = ("link", os.readlink(path))
            elif stat.S_ISDIR(info.st_mode):
                entries[rel] = ("folder",)
            else:
                entries[rel] = ("file", stat.S_IMODE(info.st_mode),
                                hashlib.sha256(path.read_bytes()).hexdigest())
    return entries


def put(out: Path, rel: str, data: bytes = b"the user's bytes", *, mode: int | None = None) -> str:
    path = out / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data + rel.encode())
    if mode is not None:
        path.chmod(mode)
    return rel


def assert_kept(before: dict[str, tuple], after: dict[str, tuple], user: list[str]) -> None:
    for rel in user:
        assert after.get(rel) == before[rel], rel


def manifest(frames: int = 2, *, image_format: str = "png", seed: int = 7,
             **outputs: object) -> RunManifest:
    """A run's manifest as generate makes one (the scenario hash stands for the scenario)."""
    return RunManifest(SHA, seed, frames,
                       files=run_file_templates(OutputsSpec(**outputs), image_format))


def record(index: int, image_format: str = "png") -> dict:
    image_id = index + 1
    return {"image": {"id": image_id, "file_name": f"{image_id:06d}.{image_format}", "width": 4,
                      "height": 3}, "annotations": []}


def earlier_run(out: Path, run: RunManifest, *, complete: bool = True, depth: bool = False,
                image_format: str = "png") -> list[str]:
    """Write a run of ``run`` (hand-made frames), finished or not; return its files."""
    with RunFolder(out) as folder:
        folder.prepare(run)
        for i in range(run.frames if complete else run.frames - 1):
            extra = {f"depth/{i + 1:06d}.png": b"depth %d" % i} if depth else None
            folder.save_frame(i, b"image %d" % i, record(i, image_format), extra_files=extra)
        if complete:
            folder.finalize(run.frames, categories=["cube"], description="synthscene test")
    return sorted(snapshot(out))


def refused(out: Path, run: RunManifest, named: str, **flags: bool) -> str:
    """Prepare ``run`` with ``flags``: assert it is refused naming ``named`` and that nothing in
    the folder changed; return the message."""
    before = snapshot(out)
    with pytest.raises(OutputError) as info:
        RunFolder(out).prepare(run, **flags)
    message = str(info.value)
    assert "\n" not in message and named in message, message
    assert snapshot(out) == before
    return message


FLAGS = [pytest.param({}, id="no-flag"), pytest.param({"resume": True}, id="resume"),
         pytest.param({"overwrite": True}, id="overwrite")]


# ------------------------------------------------------------------------------ temporaries
@pytest.mark.parametrize("flags", FLAGS)
def test_user_temporaries_beside_the_dataset_are_kept(tmp_path, flags):
    out = tmp_path / "out"
    user = [put(out, ".notes.tmp"), put(out, ".a.0123456789ab.tmp"),
            put(out, "notes/.draft.tmp")]
    before = snapshot(out)
    with RunFolder(out) as folder:
        folder.prepare(manifest(), **flags)
        folder.remove_temporaries()  # what generate does after its workers stopped
    assert_kept(before, snapshot(out), user)


def test_user_temporaries_survive_resume_and_overwrite_of_a_real_run(tmp_path):
    out = tmp_path / "out"
    earlier_run(out, manifest(), complete=False)
    user = [put(out, ".notes.tmp"), put(out, ".annotations.json.tmp")]
    stale = out / "images" / ".000002.png.synthscene-0123456789ab.tmp"  # a killed worker's
    stale.write_bytes(b"half an image")
    before = snapshot(out)
    with RunFolder(out) as folder:
        assert folder.prepare(manifest(), resume=True).finished == {0}
    assert_kept(before, snapshot(out), user)
    assert not stale.exists()
    with RunFolder(out) as folder:
        folder.prepare(manifest(seed=8), overwrite=True)
    assert_kept(before, snapshot(out), user)


def test_a_temporary_that_is_not_synthscenes_in_images_is_never_removed(tmp_path):
    out = tmp_path / "out"
    earlier_run(out, manifest(), complete=False)
    put(out, "images/.thumbs.db.tmp")
    for flags in ({}, {"resume": True}, {"overwrite": True}):
        refused(out, manifest(), "images/.thumbs.db.tmp", **flags)


# ------------------------------------------------------------------------------ no flag
@pytest.mark.parametrize("rel", ["depth/000001.png", "depth/notes.txt", "images/000001.png",
                                 "images/holiday.jpg", "annotations.json",
                                 ".synthscene/mynotes.txt", "images/.thumbs.db.tmp"])
def test_a_new_run_refuses_a_file_where_it_would_write(tmp_path, rel):
    out = tmp_path / "out"
    put(out, rel)
    message = refused(out, manifest(depth_png=True), rel)
    assert "move it away" in message
    assert not (out / ".synthscene" / "manifest.json").exists()


def test_a_new_run_keeps_files_beside_and_in_folders_it_does_not_write(tmp_path):
    out = tmp_path / "out"
    user = [put(out, "README.txt"), put(out, "extra/000001.png"), put(out, ".notes.tmp"),
            put(out, "videos/clip/000001.png")]
    before = snapshot(out)
    with RunFolder(out) as folder:
        folder.prepare(manifest(depth_png=True))
        folder.save_frame(0, b"image", record(0), extra_files={"depth/000001.png": b"d"})
        folder.remove_temporaries()
    assert_kept(before, snapshot(out), user)


# ------------------------------------------------------------------------------ --overwrite
FFMPEG = ["images/000001.png", "images/000002.png", "images/000050.jpg", "depth/000001.png",
          "flow/000001.npy", "tracks/seq-000000.npz", "normals/000001.png",
          ".synthscene/mynotes.txt", "images/.thumbs.db.tmp", "annotations.json"]


@pytest.mark.parametrize("rel", FFMPEG)
def test_overwrite_without_a_manifest_refuses_and_keeps_every_file(tmp_path, rel):
    out = tmp_path / "out"
    put(out, rel)
    message = refused(out, manifest(), rel, overwrite=True)
    assert "--overwrite removes only files synthscene wrote" in message


def test_overwrite_of_an_ffmpeg_folder_keeps_every_frame(tmp_path):
    out = tmp_path / "out"
    for rel in FFMPEG[:-1]:  # no annotations.json: nothing but frames and notes
        put(out, rel)
    for flags in ({"overwrite": True}, {}, {"resume": True}):
        refused(out, manifest(depth_png=True), ".synthscene/mynotes.txt", **flags)
    (out / ".synthscene" / "mynotes.txt").unlink()
    for flags in ({"overwrite": True}, {}, {"resume": True}):
        refused(out, manifest(depth_png=True), "depth/000001.png", **flags)


@pytest.mark.parametrize("rel", [
    "images/000050.png",        # frame-named, beyond the run's frames
    "images/000001.jpg",        # the run wrote PNGs
    "images/0000001.png",       # a frame number the run would not spell so
    "depth/000001.png",         # a map the run did not write
    "flow/000001.npy", "tracks/seq-000000.npz", "normals/000001.png",
    "semantic/000001.png", "instance_masks/000001.png",
    ".synthscene/mynotes.txt", ".synthscene/frames/notes.json",
    ".synthscene/frames/000009.json",
    "images/.thumbs.db.tmp", "images/album/000001.png",
])
def test_overwrite_of_a_run_refuses_files_its_manifest_does_not_name(tmp_path, rel):
    out = tmp_path / "out"
    earlier_run(out, manifest())
    user = [put(out, rel)]
    before = snapshot(out)
    named = "images/album" if "album" in rel else rel
    message = refused(out, manifest(seed=8), named, overwrite=True)
    assert "not one of them" in message
    assert_kept(before, snapshot(out), user)
    refused(out, manifest(), named, resume=True)
    refused(out, manifest(), named)


def test_overwrite_removes_exactly_the_runs_files(tmp_path):
    out = tmp_path / "out"
    run = manifest(depth_png=True)
    earlier_run(out, run, depth=True)
    user = [put(out, "README.txt"), put(out, ".notes.tmp"), put(out, "extra/000001.png"),
            put(out, "videos/000001.png"), put(out, "plots/.cache.tmp")]
    before = snapshot(out)
    with RunFolder(out) as folder:
        folder.prepare(manifest(frames=1, seed=8), overwrite=True)
    after = snapshot(out)
    assert_kept(before, after, user)
    # Of the earlier run only the new run's (empty) folders and manifest remain.
    assert sorted(set(after) - set(user)) == [
        ".synthscene", ".synthscene/frames", ".synthscene/manifest.json", "extra", "images",
        "plots", "videos"]


def test_overwrite_of_a_jpeg_run_removes_its_jpegs_only(tmp_path):
    out = tmp_path / "out"
    earlier_run(out, manifest(image_format="jpg"), image_format="jpg")
    assert (out / "images" / "000001.jpg").is_file()
    put(out, "images/000001.png")  # a PNG of the user's among the run's JPEGs
    refused(out, manifest(), "images/000001.png", overwrite=True)
    (out / "images" / "000001.png").unlink()
    with RunFolder(out) as folder:
        folder.prepare(manifest(), overwrite=True)
    assert sorted(p.name for p in (out / "images").iterdir()) == []


# ------------------------------------------------------------------------------ links, modes
def test_a_linked_images_folder_is_never_emptied(tmp_path):
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    earlier_run(out, manifest())
    user = [put(elsewhere, "000001.png"), put(elsewhere, "000002.png")]
    (out / "images").rename(tmp_path / "old-images")
    (out / "images").symlink_to(elsewhere, target_is_directory=True)
    before = snapshot(elsewhere)
    for flags in ({"overwrite": True}, {"resume": True}):
        refused(out, manifest(), "images", **flags)
    assert_kept(before, snapshot(elsewhere), user)


def test_a_link_named_like_a_frame_is_neither_followed_nor_removed(tmp_path):
    out, mine = tmp_path / "out", tmp_path / "mine.png"
    earlier_run(out, manifest(frames=3), complete=False)
    mine.write_bytes(b"my picture")
    (out / "images" / "000003.png").symlink_to(mine)
    refused(out, manifest(frames=3, seed=8), "images/000003.png", overwrite=True)
    refused(out, manifest(frames=3), "images/000003.png", resume=True)
    assert (out / "images" / "000003.png").is_symlink() and mine.read_bytes() == b"my picture"


def test_a_linked_state_folder_is_refused(tmp_path):
    out, elsewhere = tmp_path / "out", tmp_path / "elsewhere"
    user = [put(elsewhere, "frames/000001.json"), "manifest.json"]
    (elsewhere / "manifest.json").write_bytes(manifest().to_bytes())
    out.mkdir()
    (out / ".synthscene").symlink_to(elsewhere, target_is_directory=True)
    before = snapshot(elsewhere)
    for flags in ({}, {"overwrite": True}, {"resume": True}):
        with pytest.raises(OutputError):
            RunFolder(out).prepare(manifest(), **flags)
    assert_kept(before, snapshot(elsewhere), user)


@pytest.mark.parametrize("flags", FLAGS)
def test_read_only_user_files_are_kept(tmp_path, flags):
    out = tmp_path / "out"
    earlier_run(out, manifest())
    user = [put(out, "images/000009.png", mode=0o444), put(out, ".notes.tmp", mode=0o444)]
    before = snapshot(out)
    with pytest.raises(OutputError, match="images/000009.png"):
        RunFolder(out).prepare(manifest(), **flags)
    assert snapshot(out) == before
    assert_kept(before, snapshot(out), user)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_overwrite_with_a_read_only_folder_removes_nothing(tmp_path):
    out = tmp_path / "out"
    earlier_run(out, manifest(depth_png=True), depth=True)
    (out / "depth").chmod(0o555)
    try:
        refused(out, manifest(depth_png=True, seed=8), "depth", overwrite=True)
    finally:
        (out / "depth").chmod(0o755)


# ------------------------------------------------------------------------------ old manifests
def test_a_manifest_of_an_older_format_is_refused_clearly(tmp_path):
    out = tmp_path / "out"
    earlier_run(out, manifest(), complete=False)
    old = json.loads((out / ".synthscene" / "manifest.json").read_bytes())
    old["format"] = 3
    del old["files"], old["frames_per_scene"]
    (out / ".synthscene" / "manifest.json").write_text(json.dumps(old))
    for flags in ({"resume": True}, {"overwrite": True}):
        message = refused(out, manifest(), "format 3", **flags)
        assert "names the files a run wrote" in message


@pytest.mark.parametrize("files", [["../elsewhere/{frame}.png"], ["photos/{frame}.jpg"],
                                   ["images/{frame}.txt"], [], "images/{frame}.png"])
def test_a_manifest_naming_other_files_is_not_trusted(tmp_path, files):
    out = tmp_path / "out"
    earlier_run(out, manifest())
    put(tmp_path, "elsewhere/000001.png")
    put(out, "photos/000001.jpg")
    data = json.loads((out / ".synthscene" / "manifest.json").read_bytes())
    data["files"] = files
    (out / ".synthscene" / "manifest.json").write_text(json.dumps(data))
    refused(out, manifest(), "not a synthscene run manifest", overwrite=True)
    assert (tmp_path / "elsewhere" / "000001.png").is_file()


# ------------------------------------------------------------------------------ end to end
SCENE = """
name: tiny
image: {width: 32, height: 24}
assets: [{source: "primitive:box"}]
objects: {count: 1}
outputs: {depth_png: true}
physics: {max_steps: 50}
"""


def cli(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run([sys.executable, "-m", "synthscene.cli", "generate", "scene.yaml",
                           "--out", "out", "--frames", "2", "--quiet", *args], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=300)


def one_error_line(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("synthscene: error: "), result.stderr
    return lines[0]


@pytest.mark.gl
def test_command_line_keeps_every_user_file(tmp_path):
    (tmp_path / "scene.yaml").write_text(SCENE)
    out = tmp_path / "out"
    # A user's depth map where the scenario writes depth maps: refused, nothing written.
    user = [put(out, "depth/000001.png"), put(out, ".notes.tmp")]
    before = snapshot(out)
    line = one_error_line(cli(tmp_path))
    assert "depth/000001.png" in line
    assert snapshot(out) == before
    line = one_error_line(cli(tmp_path, "--overwrite"))
    assert "depth/000001.png" in line and snapshot(out) == before
    # Moved away, the run goes; files beside it are kept through --overwrite and --resume.
    (out / "depth" / "000001.png").unlink()
    user = [put(out, ".notes.tmp"), put(out, "notes/000001.png", mode=0o444)]
    assert cli(tmp_path).returncode == 0
    made = json.loads((out / "annotations.json").read_bytes())
    assert [i["depth_file"] for i in made["images"]] == ["depth/000001.png", "depth/000002.png"]
    before = snapshot(out)
    result = cli(tmp_path, "--overwrite", "--seed", "3")
    assert result.returncode == 0, result.stderr
    after = snapshot(out)
    assert_kept(before, after, user)
    assert after["annotations.json"] != before["annotations.json"]  # the run was replaced
    result = cli(tmp_path, "--resume", "--seed", "3")
    assert result.returncode == 0 and "nothing to make" in result.stdout, result.stderr
    assert snapshot(out) == after
    # A JPEG of the user's among the run's PNGs: --overwrite refuses, naming it.
    user.append(put(out, "images/000002.jpg"))
    before = snapshot(out)
    assert "images/000002.jpg" in one_error_line(cli(tmp_path, "--overwrite"))
    assert snapshot(out) == before


@pytest.mark.gl
def test_python_api_keeps_every_user_file(tmp_path):
    scenario = scenario_from_dict({"image": {"width": 32, "height": 24},
                                   "assets": [{"source": "primitive:box"}],
                                   "objects": {"count": 1}, "physics": {"max_steps": 50}})
    out = tmp_path / "out"
    for rel in FFMPEG:
        put(out, rel)
    before = snapshot(out)
    for flags in ({}, {"overwrite": True}, {"resume": True}):
        with pytest.raises(OutputError, match="annotations.json"):
            synthscene.generate(scenario, out, frames=1, **flags)
        assert snapshot(out) == before
    (out / "annotations.json").unlink()
    (out / ".synthscene" / "mynotes.txt").unlink()
    with pytest.raises(OutputError, match="--overwrite removes only files synthscene wrote"):
        synthscene.generate(scenario, out, frames=1, overwrite=True)
    # Beside a dataset (not in its places), user files survive a run and its --overwrite.
    other = tmp_path / "other"
    user = [put(other, ".notes.tmp"), put(other, "flow-of-mine/000001.npy")]
    before = snapshot(other)
    synthscene.generate(scenario, other, frames=1)
    synthscene.generate(scenario, other, frames=1, seed=1, overwrite=True)
    assert_kept(before, snapshot(other), user)
