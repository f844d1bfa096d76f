"""``export`` never loses a file it did not write.

For every ``--to`` format, folders are built with the user's files beside, inside and under
every folder the export writes (found by exporting once into an empty folder), symbolic links
(to files and folders outside) and read-only files; the export runs with and without
``--overwrite``, from the command line and from Python. The truth is the disk: every entry is
hashed before and after (content, link target, permission bits), and each user file must be
byte-identical afterwards; a refusal must exit 2 with one line naming the first foreign file and
change nothing. Also: split names that would lead out of the output folder, the record of an
interrupted export, and the tracking/WebDataset defects (a track twice in a frame, MOT's
``seqLength`` with missing frames, YouTube-VIS with a huge ``frame_index``, a 200-character
image extension, scenes split across splits).
"""

from __future__ import annotations

import configparser
import hashlib
import json
import os
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from synthetic_coco import build_dataset, read_json, write_json
from synthscene.cli import app
from synthscene.errors import DatasetError, OptionError, OutputError
from synthscene.exporters import FORMATS, export_dataset, export_mot
from synthscene.exporters import coco_polygons as coco_polygons_module

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

MANIFEST = ".synthscene-export-{}.json"


# ------------------------------------------------------------------------------------ helpers
def snapshot(root: Path) -> dict[str, tuple]:
    """Every entry under ``root`` (no link followed): file -> (sha256, mode bits), link ->
    its target, folder -> its mode bits."""
    entries: dict[str, tuple] = {}
    for folder, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(folder) / name
            key = path.relative_to(root).as_posix()
            info = os.lstat(path)
            if stat.S_ISLNK(info.st_mode):
                entries[key] = ("link", os.readlink(path))
            elif stat.S_ISDIR(info.st_mode):
                entries[key] = ("dir", stat.S_IMODE(info.st_mode))
            else:
                entries[key] = ("file", hashlib.sha256(path.read_bytes()).hexdigest(),
                                stat.S_IMODE(info.st_mode))
    return entries


def cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["export", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        repr(result.exception)
    return result.exit_code, result.output


def cli_export(source: Path, out: Path, fmt: str, *extra: str) -> tuple[int, str]:
    return cli(str(source), "--to", fmt, "--out", str(out), *extra)


def refused_line(status: int, output: str, *names: str) -> str:
    assert status == 2, output
    lines = output.strip().splitlines()
    assert len(lines) == 1, output
    assert "Traceback" not in output
    for name in names:
        assert name in lines[0], lines[0]
    return lines[0]


def add_sequences(data: dict, frame_index: dict[int, int] | None = None) -> dict:
    """Make the synthetic dataset one of sequences: images 1, 2 are frames 0, 1 of sequence 0,
    image 3 frame 0 of sequence 1; each annotation its own track."""
    frame_index = frame_index or {1: 0, 2: 1, 3: 0}
    for image in data["images"]:
        image.update(sequence_id=0 if image["id"] < 3 else 1,
                     frame_index=frame_index[image["id"]], fps=10.0)
    for ann in data["annotations"]:
        ann["track_id"] = ann["id"]
    return data


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    """A dataset every format exports (poses, amodal masks, depth/semantic files, stuff,
    two sequences of one frame)."""
    root = tmp_path_factory.mktemp("source")
    build_dataset(root)
    data = add_sequences(read_json(root))
    # without the image of 300 instances, so that the many exports here stay quick
    data["images"] = [image for image in data["images"] if image["id"] != 2]
    data["annotations"] = [ann for ann in data["annotations"] if ann["image_id"] != 2]
    write_json(root, data)
    return root


@pytest.fixture(scope="module")
def layouts(source, tmp_path_factory) -> dict[str, tuple[list[str], list[str]]]:
    """Per format, what an export into an empty folder writes: (folders, top-level files)."""
    found = {}
    for fmt in FORMATS:
        out = tmp_path_factory.mktemp(f"layout-{fmt}")
        export_dataset(source, out, to=fmt)
        entries = snapshot(out)
        found[fmt] = (sorted(k for k, v in entries.items() if v[0] == "dir"),
                      sorted(k for k, v in entries.items()
                             if v[0] == "file" and "/" not in k and not k.startswith(".")))
        assert (out / MANIFEST.format(fmt)).is_file()
    return found


def user_files_beside(out: Path, outside: Path) -> None:
    """Files the user keeps in the output folder, beside what any export writes."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "notes.txt").write_text("my notes\n")
    (out / "mine").mkdir()
    (out / "mine" / "photo.png").write_bytes(b"\x89PNG not really")
    (out / "readonly.txt").write_text("keep me\n")
    (out / "readonly.txt").chmod(0o444)
    outside.mkdir(parents=True, exist_ok=True)
    (outside / "target.txt").write_text("outside\n")
    (out / "link-to-file").symlink_to(outside / "target.txt")
    (out / "link-to-folder").symlink_to(outside)
    (out / ".hidden.tmp").write_text("not synthscene's temporary\n")


def assert_kept(before: dict[str, tuple], after: dict[str, tuple]) -> None:
    for key, value in before.items():
        assert after.get(key) == value, f"{key}: {value} became {after.get(key)}"


# --------------------------------------------------------------- beside: export, refuse, replace
@pytest.mark.parametrize("fmt", FORMATS)
def test_export_beside_user_files_keeps_them_and_overwrite_removes_only_its_own(
        fmt, source, layouts, tmp_path):
    out, outside = tmp_path / "P", tmp_path / "outside"
    user_files_beside(out, outside)
    user, user_outside = snapshot(out), snapshot(outside)

    status, output = cli_export(source, out, fmt)
    assert status == 0, output
    after = snapshot(out)
    assert_kept(user, after)
    manifest = json.loads((out / MANIFEST.format(fmt)).read_text())
    written = {k for k, v in after.items() if v[0] == "file"} - set(user) - {
        MANIFEST.format(fmt)}
    assert set(manifest["files"]) == written  # it recorded exactly what it wrote
    assert not (out / f".synthscene-export-{fmt}.partial").exists()

    # again without --overwrite: refused on one line, nothing changed
    refused_line(*cli_export(source, out, fmt), "--overwrite", fmt)
    assert snapshot(out) == after

    # with --overwrite: the same export again, the user's files untouched
    status, output = cli_export(source, out, fmt, "--overwrite")
    assert status == 0, output
    assert snapshot(out) == after  # the same export, the user's files as they were
    assert snapshot(outside) == user_outside


@pytest.mark.parametrize("fmt", FORMATS)
def test_python_api_overwrite_keeps_user_files_beside_and_inside(fmt, source, layouts,
                                                                 tmp_path):
    out = tmp_path / "P"
    user_files_beside(out, tmp_path / "outside")
    export_dataset(source, out, to=fmt, overwrite=True)
    first = snapshot(out)
    export_dataset(source, out, to=fmt, overwrite=True)
    assert snapshot(out) == first
    with pytest.raises(OutputError, match="--overwrite"):
        export_dataset(source, out, to=fmt)
    # a file of the user's in each folder of the export, or a shard of the exported split
    folders, _ = layouts[fmt]
    added = [out / top / "mine.txt" for top in folders if "/" not in top] or [
        out / "train-000005.tar"]
    for path in added:
        path.write_text("the user's\n")
    before = snapshot(out)
    with pytest.raises(OutputError, match="was not written by"):
        export_dataset(source, out, to=fmt, overwrite=True)
    assert snapshot(out) == before


def test_overwrite_with_another_split_removes_the_earlier_splits_files_only(source, tmp_path):
    for fmt in FORMATS:
        out = tmp_path / fmt / "P"
        user_files_beside(out, tmp_path / fmt / "outside")
        user = snapshot(out)
        export_dataset(source, out, to=fmt, split={"train": 0.5, "val": 0.5})
        export_dataset(source, out, to=fmt, overwrite=True)
        fresh = tmp_path / fmt / "fresh"
        export_dataset(source, fresh, to=fmt)
        after = snapshot(out)
        assert_kept(user, after)
        # what is left is the user's files and exactly what a fresh export writes
        assert {k for k in after if k not in user} == set(snapshot(fresh)), fmt


# ------------------------------------------------------------- inside and under: always refused
def _inside_cases(fmt: str, layouts) -> list[tuple[str, str]]:
    """(relative path of a user file, kind) inside and under every folder the export writes,
    and at every top-level file it writes (a collision)."""
    folders, files = layouts[fmt]
    cases = [(f"{folder}/mine.txt", "file") for folder in folders]
    cases += [(f"{folder}/u/deep.bin", "file") for folder in folders if "/" not in folder]
    cases += [(f"{folder}/link", "link") for folder in folders if "/" not in folder]
    cases += [(f"{folder}/.mine.txt.synthscene-0123456789ab.tmp", "file") for folder in folders[:1]]
    cases += [(name, "file") for name in files]
    if fmt == "webdataset":
        cases += [("train-000007.tar", "file")]
    return cases


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_user_file_where_the_export_writes_is_refused_and_kept(fmt, source, layouts,
                                                                 tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "target.txt").write_text("outside\n")
    cases = _inside_cases(fmt, layouts)
    assert cases
    for k, (relative, kind) in enumerate(cases):
        out = tmp_path / f"P{k}"
        path = out / relative
        path.parent.mkdir(parents=True)
        (out / "notes.txt").write_text("beside\n")
        if kind == "link":
            path.symlink_to(outside / "target.txt")
        else:
            path.write_bytes(b"user data " + relative.encode())
            if k % 2:
                path.chmod(0o444)
        before = snapshot(out)
        for extra in ((), ("--overwrite",)):
            line = refused_line(*cli_export(source, out, fmt, *extra), str(path))
            assert "holds" not in line  # not an export, and not said to be one
            assert snapshot(out) == before, (relative, extra)
        with pytest.raises(OutputError, match="was not written by"):
            export_dataset(source, out, to=fmt, overwrite=True)
        assert snapshot(out) == before
    assert (outside / "target.txt").read_text() == "outside\n"


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_symlinked_export_folder_is_never_followed(fmt, source, layouts, tmp_path):
    folders, files = layouts[fmt]
    tops = [f for f in folders if "/" not in f] + files
    assert tops
    for k, top in enumerate(tops):
        out, outside = tmp_path / f"P{k}", tmp_path / f"outside{k}"
        (outside / "sub").mkdir(parents=True)
        (outside / "mine.txt").write_text("mine\n")
        (outside / "sub" / "deep.txt").write_text("deep\n")
        out.mkdir()
        if top in files:  # a link where the export writes a file
            (out / top).symlink_to(outside / "mine.txt")
        else:
            (out / top).symlink_to(outside, target_is_directory=True)
        before, before_outside = snapshot(out), snapshot(outside)
        refused_line(*cli_export(source, out, fmt, "--overwrite"), str(out / top))
        assert snapshot(out) == before
        assert snapshot(outside) == before_outside


@pytest.mark.parametrize("fmt", FORMATS)
def test_user_files_added_inside_an_earlier_export_are_not_removed(fmt, source, layouts,
                                                                   tmp_path):
    folders, _ = layouts[fmt]
    # a file in each folder of the export; beside shards, another shard of the exported split
    added = [f"{folder}/added.txt" for folder in folders] or ["train-000005.tar"]
    for k, relative in enumerate(added):
        out = tmp_path / f"P{k}"
        export_dataset(source, out, to=fmt)
        (out / relative).write_text("the user's\n")
        before = snapshot(out)
        line = refused_line(*cli_export(source, out, fmt, "--overwrite"), str(out / relative))
        assert "was not written by" in line
        assert snapshot(out) == before


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_exported_file_replaced_by_a_link_or_made_read_only_is_kept(fmt, source, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "target.txt").write_text("outside\n")
    for k in range(2):
        out = tmp_path / f"P{k}"
        export_dataset(source, out, to=fmt)
        listed = json.loads((out / MANIFEST.format(fmt)).read_text())["files"]
        path = out / listed[-1]
        if k == 0:
            path.unlink()
            path.symlink_to(outside / "target.txt")
        else:
            path.chmod(0o444)
        before = snapshot(out)
        line = refused_line(*cli_export(source, out, fmt, "--overwrite"), str(path))
        assert k == 0 or "read-only" in line
        assert snapshot(out) == before
    assert (outside / "target.txt").read_text() == "outside\n"


def test_yolo_in_a_folder_of_images_and_labels_that_is_no_export(source, tmp_path):
    # the user's own YOLO-style files: not an export, so not "an export already", never removed
    out = tmp_path / "P"
    (out / "images").mkdir(parents=True)
    (out / "labels").mkdir()
    (out / "images" / "mine.png").write_bytes(b"mine")
    (out / "labels" / "mine.txt").write_text("0 0.5 0.5 0.1 0.1\n")
    before = snapshot(out)
    for extra in ((), ("--overwrite",)):
        line = refused_line(*cli_export(source, out, "yolo", *extra),
                            str(out / "images" / "mine.png"))
        assert "holds an export" not in line
    assert snapshot(out) == before


# ------------------------------------------------------------------------- an interrupted export
def test_an_interrupted_export_is_known_and_replaced_without_touching_user_files(
        source, tmp_path, monkeypatch):
    out = tmp_path / "P"
    user_files_beside(out, tmp_path / "outside")
    user = snapshot(out)
    real = coco_polygons_module.copy_image_files
    calls = []

    def dies_on_the_second_image(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(coco_polygons_module, "copy_image_files", dies_on_the_second_image)
    with pytest.raises(KeyboardInterrupt):
        export_dataset(source, out, to="coco-polygons")
    monkeypatch.undo()
    assert (out / ".synthscene-export-coco-polygons.partial").is_file()
    assert not (out / MANIFEST.format("coco-polygons")).exists()
    # the temporary file a write killed half-way leaves beside a file the export began
    (out / "images" / ".000001.png.synthscene-0123456789ab.tmp").write_bytes(b"half a png")
    line = refused_line(*cli_export(source, out, "coco-polygons"), "unfinished")
    assert "--overwrite" in line
    status, output = cli_export(source, out, "coco-polygons", "--overwrite")
    assert status == 0, output
    fresh = tmp_path / "fresh"
    export_dataset(source, fresh, to="coco-polygons")
    after = snapshot(out)
    assert_kept(user, after)
    assert {k: v for k, v in after.items() if k not in user} == snapshot(fresh)


def test_a_manifest_that_lists_paths_outside_the_folder_removes_nothing(source, tmp_path):
    parent = tmp_path / "parent"
    out = parent / "out"
    export_dataset(source, out, to="yolo")
    (parent / "precious.txt").write_text("precious\n")
    path = out / MANIFEST.format("yolo")
    manifest = json.loads(path.read_text())
    for bad in ("../precious.txt", str(parent / "precious.txt")):
        path.write_text(json.dumps({**manifest, "files": manifest["files"] + [bad]}))
        before = snapshot(parent)
        refused_line(*cli_export(source, out, "yolo", "--overwrite"), str(path))
        assert snapshot(parent) == before
    # a record that is a link to the user's file is never read as one, nor written through
    path.write_text(json.dumps(manifest))
    journal = out / ".synthscene-export-yolo.partial"
    for record in (path, journal):
        saved = record.read_bytes() if record.exists() else None
        record.unlink(missing_ok=True)
        record.symlink_to(parent / "precious.txt")
        before = snapshot(parent)
        refused_line(*cli_export(source, out, "yolo", "--overwrite"), str(record))
        assert snapshot(parent) == before
        record.unlink()
        if saved is not None:
            record.write_bytes(saved)


# ------------------------------------------------------------------ split names leading outside
ESCAPES = ({"..": 1.0}, {"../x": 1.0}, {"/abs/dir": 1.0}, {".": 1.0}, {"a/b": 1.0},
           {"": 1.0}, {"train": 0.5, "..": 0.5})


def test_split_names_cannot_lead_out_of_the_output_folder(source, tmp_path):
    parent = tmp_path / "parent"
    out = parent / "out"
    absolute = tmp_path / "abs"
    for folder in (out, absolute / "dir"):
        folder.mkdir(parents=True)
    (parent / "mine.txt").write_text("mine\n")
    (absolute / "dir" / "mine.txt").write_text("mine\n")
    before = snapshot(tmp_path)
    for fmt in FORMATS:
        for split in ESCAPES:
            split = {(str(absolute / "dir") if k == "/abs/dir" else k): v
                     for k, v in split.items()}
            for overwrite in (False, True):
                with pytest.raises(OptionError, match="split"):
                    export_dataset(source, out, to=fmt, split=split, overwrite=overwrite)
            assert snapshot(tmp_path) == before, (fmt, split)
        refused_line(*cli_export(source, out, fmt, "--split", "../x=1"), "--split")
        assert snapshot(tmp_path) == before, fmt


def test_every_exporter_function_checks_split_names(source, tmp_path):
    from synthscene import exporters

    (tmp_path / "mine.txt").write_text("mine\n")
    before = snapshot(tmp_path)
    for name in ("export_yolo", "export_bop", "export_coco", "export_coco_polygons",
                 "export_panoptic", "export_mot", "export_youtube_vis", "export_hf",
                 "export_webdataset"):
        with pytest.raises(OptionError, match="split"):
            getattr(exporters, name)(source, tmp_path / "out", split={"..": 1.0},
                                     overwrite=True)
    assert snapshot(tmp_path) == before


# ------------------------------------------------------------------------------- smaller defects
def _variant(root: Path, change) -> Path:
    """The source dataset, built in ``root`` and changed by ``change(data)``."""
    build_dataset(root)
    data = add_sequences(read_json(root))
    change(data)
    write_json(root, data)
    return root


def test_webdataset_refuses_a_200_character_extension_on_one_line(tmp_path):
    def long_extension(data):
        image = data["images"][0]
        new = f"{Path(image['file_name']).stem}.{'x' * 200}"
        (tmp_path / "ds" / "images" / image["file_name"]).rename(tmp_path / "ds" / "images" / new)
        image["file_name"] = new

    root = _variant(tmp_path / "ds", long_extension)
    out = tmp_path / "wds"
    line = refused_line(*cli_export(root, out, "webdataset"), "images[0] (id 1).file_name")
    assert "extension" in line
    assert not out.exists() or not any(out.glob("*.tar"))


def test_mot_refuses_a_track_twice_in_one_frame(tmp_path):
    def same_track(data):
        data["annotations"][1]["track_id"] = data["annotations"][0]["track_id"]

    root = _variant(tmp_path / "ds", same_track)
    for fmt in ("mot", "youtube-vis"):
        out = tmp_path / fmt
        with pytest.raises(DatasetError, match=r"annotations\[1\] \(id 2\)\.track_id"):
            export_dataset(root, out, to=fmt)
        assert not out.exists()
        refused_line(*cli_export(root, out, fmt), "track_id", "twice")


def test_mot_seq_length_is_the_number_of_frames_written(tmp_path):
    # frames 0 and 7 of sequence 0 (a subset): MOT's frames 1..seqLength must all be there
    root = _variant(tmp_path / "ds",
                        lambda data: add_sequences(data, {1: 0, 2: 7, 3: 0}))
    summary = export_mot(root, tmp_path / "mot")
    folder = tmp_path / "mot" / "train" / "seq-000000"
    info = configparser.ConfigParser()
    info.read(folder / "seqinfo.ini")
    assert info["Sequence"].getint("seqLength") == 2
    assert sorted(p.name for p in (folder / "img1").iterdir()) == ["000001.png", "000002.png"]
    frames = {int(line.split(",")[0])
              for line in (folder / "gt" / "gt.txt").read_text().splitlines()}
    assert frames <= {1, 2} and frames
    assert any("frame_index" in note for note in summary.notes)


def test_youtube_vis_lists_only_the_frames_present(tmp_path):
    # a frame_index of 10^5 must not give per-track lists of 10^5 entries
    root = _variant(tmp_path / "ds",
                        lambda data: add_sequences(data, {1: 0, 2: 100_000, 3: 0}))
    export_dataset(root, tmp_path / "vis", to="youtube-vis")
    data = json.loads((tmp_path / "vis" / "train" / "instances.json").read_text())
    video = next(v for v in data["videos"] if v["sequence_id"] == 0)
    assert video["length"] == len(video["file_names"]) == 2
    assert video["file_names"] == ["seq-000000/00000.png", "seq-000000/100000.png"]
    for name in video["file_names"]:
        assert (tmp_path / "vis" / "train" / "JPEGImages" / name).is_file()
    for track in data["annotations"]:
        if track["video_id"] == video["id"]:
            assert len(track["segmentations"]) == len(track["bboxes"]) == 2


def test_split_refuses_images_without_the_scene_id_others_have(tmp_path):
    def partial_scenes(data):
        for image in data["images"]:
            del image["sequence_id"], image["frame_index"]
        for image in data["images"][:2]:
            image["scene_id"], image["view_id"] = 0, image["id"]

    root = _variant(tmp_path / "ds", partial_scenes)
    for fmt in ("yolo", "coco-polygons"):
        out = tmp_path / fmt
        with pytest.raises(DatasetError, match=r"images\[2\] \(id 3\)\.scene_id"):
            export_dataset(root, out, to=fmt, split={"train": 0.5, "val": 0.5})
        assert not out.exists()
