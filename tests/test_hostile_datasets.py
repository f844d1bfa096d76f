"""Hostile COCO datasets given to ``validate``, ``visualize``, ``stats`` and ``export``.

Every bad dataset here is made by the test itself. A dataset that cannot be read (not JSON,
nested 200,000 deep, a top level that is not COCO, a ``file_name`` leaving the image folder)
must give one line naming the file and the field, exit status 2, no traceback, in bounded time;
a readable dataset with a defect must fail ``validate`` (exit 1) in the check that finds it, and
``export`` must refuse it (exit 2) rather than write wrong labels. Masks and areas are made with
pycocotools (:mod:`synthetic_coco`), the independent reference.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from pycocotools import mask as mask_utils
from typer.testing import CliRunner

from synthetic_coco import H, W, build_mixed_dataset, read_json, rle, uncompressed_rle, write_json
from synthscene.cli import app
from synthscene.errors import DatasetError
from synthscene.io.reader import load_dataset
from synthscene.tools.validate import CHECKS, validate_dataset

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

TIME_LIMIT_S = 20.0
"""Each hostile case must be answered within this (in-process; they take well under 1 s)."""

TOOLS = ("validate", "visualize", "stats", "export")


@pytest.fixture(scope="module")
def mixed(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("mixed")
    build_mixed_dataset(root)
    return root


@pytest.fixture
def dataset(mixed, tmp_path) -> Path:
    """A fresh copy of the valid mixed dataset, to break."""
    root = tmp_path / "ds"
    shutil.copytree(mixed, root)
    return root


def _mutate(root: Path, change) -> None:
    data = read_json(root)
    change(data, root)
    write_json(root, data)


def _run(tool: str, root: Path, tmp_path: Path) -> tuple[int, str, float]:
    """Run a dataset command in-process; return its exit status, output and seconds."""
    args = {"validate": ["validate", str(root)],
            "visualize": ["visualize", str(root), "--out", str(tmp_path / "vis"), "-n", "5"],
            "stats": ["stats", str(root), "--out", str(tmp_path / "stats")],
            "export": ["export", str(root), "--to", "yolo", "--out", str(tmp_path / "yolo"),
                       "--overwrite"]}[tool]
    start = time.perf_counter()
    result = CliRunner().invoke(app, args)
    took = time.perf_counter() - start
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        f"{tool}: {result.exception!r}"
    return result.exit_code, result.output, took


def _one_line_error(output: str, *names: str) -> str:
    lines = output.strip().splitlines()
    assert len(lines) == 1, output
    assert lines[0].startswith("synthscene: error: "), output
    assert "Traceback" not in output
    for name in names:
        assert name in lines[0], (name, lines[0])
    return lines[0]


# ---------------------------------------------------------------- the valid set, then each defect
def test_mixed_set_is_valid_and_reports_its_conventions(mixed):
    report = validate_dataset(mixed)
    assert report.ok, report.format()
    # RLE boxes are the mask's tight box; COCO 2017 polygon boxes are the vertex extent
    assert report.conventions["bbox"] == {"mask": 5, "polygon": 2}
    assert report.conventions["area"] == {"mask": 7}
    text = report.format()
    assert "the polygons' vertex extent (COCO 2017) (2 annotations)" in text
    data = read_json(mixed)
    polygon = data["annotations"][3]
    assert polygon["bbox"] == pytest.approx([5.2, 25.3, 23.6, 15.3])
    box = mask_utils.toBbox(mask_utils.merge(mask_utils.frPyObjects(polygon["segmentation"],
                                                                     H, W)))
    assert list(box) != polygon["bbox"]  # the mask's box differs from COCO's vertex extent


def test_coco_2017_polygon_area_is_accepted(dataset):
    """COCO 2017 gives a polygon's geometric area (floats), not its pixel count."""
    def change(data, root):
        ann = data["annotations"][2]  # the square with a hole: 15 x 15 - 5 x 5
        ann["area"] = 200.0 + 0.37  # as measured on the polygon, rounded
    _mutate(dataset, change)
    report = validate_dataset(dataset)
    assert report.ok, report.format()
    assert report.conventions["area"] == {"mask": 6, "polygon": 1}


def _shift_box(data, root):
    data["annotations"][0]["bbox"][0] += 3


def _shift_polygon_box(data, root):
    data["annotations"][3]["bbox"][1] += 3


def _wrong_area(data, root):
    data["annotations"][1]["area"] += 7


def _wrong_polygon_area(data, root):
    data["annotations"][2]["area"] = 400


def _missing_image(data, root):
    (root / "images" / "000002.png").unlink()


def _category_id_zero(data, root):
    data["categories"][0]["id"] = 0
    for ann in data["annotations"]:
        if ann["category_id"] == 1:
            ann["category_id"] = 0


def _annotation_id_zero(data, root):
    data["annotations"][4]["id"] = 0


def _overlap(data, root):
    mask = np.zeros((H, W), bool)
    mask[6:14, 10:22] = True  # over the rectangle (annotation 1) and the L (annotation 2)
    encoded = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    data["annotations"][5].update(image_id=1, segmentation=rle(mask),
                                  bbox=[float(v) for v in mask_utils.toBbox(encoded)],
                                  area=int(mask_utils.area(encoded)))


def _wrong_image_size(data, root):
    data["images"][2]["width"] = W + 1  # the empty image: only its file disagrees


def _swapped_image_size(data, root):
    data["images"][2].update(width=H, height=W)


def _four_number_polygon(data, root):
    data["annotations"][3]["segmentation"][1] = [1.0, 2.0, 3.0, 4.0]


def _bytes_repr_counts(data, root):
    seg = data["annotations"][0]["segmentation"]
    seg["counts"] = repr(seg["counts"].encode())


def _row_major_rle(data, root):
    mask = np.zeros((H, W), bool)
    mask[2:10, 3:15] = True
    flat = mask.astype(np.uint8).ravel(order="C")  # rows first: not COCO's column order
    bounds = np.concatenate([[0], np.flatnonzero(np.diff(flat)) + 1, [flat.size]])
    data["annotations"][1]["segmentation"] = {"size": [H, W],
                                              "counts": np.diff(bounds).tolist()}
    data["annotations"][1]["bbox"] = [3.0, 2.0, 12.0, 8.0]
    data["annotations"][1]["area"] = 96


def _short_counts(data, root):
    data["annotations"][1]["segmentation"]["counts"].pop()


def _swapped_rle_size(data, root):
    data["annotations"][6]["segmentation"]["size"] = [W, H]


def _duplicate_annotation_id(data, root):
    data["annotations"][6]["id"] = data["annotations"][2]["id"]


def _iscrowd_true(data, root):
    data["annotations"][0]["iscrowd"] = True


def _truncated_image(data, root):
    path = root / "images" / "000001.png"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _empty_mask(data, root):
    data["annotations"][5]["segmentation"] = rle(np.zeros((H, W), bool))


def _unknown_image_id(data, root):
    data["annotations"][5]["image_id"] = 99


def _box_outside(data, root):
    data["annotations"][6]["bbox"] = [50.0, 30.0, 20.0, 3.0]


def _crowd_box_outside(data, root):
    data["annotations"][4]["bbox"][1] = -4.0


def _negative_area(data, root):
    data["annotations"][0]["area"] = -5


def _parent_file_name(data, root):
    outside = root.parent / "outside"
    outside.mkdir(exist_ok=True)
    shutil.copy(root / "images" / "000001.png", outside / "victim.png")
    data["images"][0]["file_name"] = "../../../outside/victim.png"


def _absolute_file_name(data, root):
    data["images"][0]["file_name"] = str((root / "images" / "000001.png").resolve())


def _symlink_out(data, root):
    outside = root.parent / "outside"
    outside.mkdir(exist_ok=True)
    shutil.copy(root / "images" / "000001.png", outside / "victim.png")
    (root / "images" / "000001.png").unlink()
    (root / "images" / "000001.png").symlink_to(outside / "victim.png")


def _empty_image_file(data, root):
    (root / "images" / "000002.png").write_bytes(b"")


def _garbage_image_file(data, root):
    (root / "images" / "000002.png").write_bytes(os.urandom(3000))


def _duplicate_image_id(data, root):
    data["images"][2]["id"] = 2


def _negative_run(data, root):
    data["annotations"][1]["segmentation"]["counts"][1] = -3


def _non_ascii_counts(data, root):
    data["annotations"][0]["segmentation"]["counts"] = "Ωmega"


def _polygon_far_outside(data, root):
    data["annotations"][3]["segmentation"][0][0] = 1e12


def _string_bbox(data, root):
    data["annotations"][0]["bbox"] = "3 2 12 8"


def _zero_width_image(data, root):
    data["images"][1]["width"] = 0


def _huge_image(data, root):
    data["images"][1].update(width=10**6, height=10**6)


def _missing_segmentation(data, root):
    del data["annotations"][2]["segmentation"]


def _annotation_not_object(data, root):
    data["annotations"][2] = [1, 2, 3]


DEFECTS = [
    # (change, the check that must fail, text in the first problem's "where")
    (_shift_box, "bbox", "annotations[0] (id 1).bbox"),
    (_shift_polygon_box, "bbox", "annotations[3] (id 4).bbox"),
    (_wrong_area, "area", "annotations[1] (id 2).area"),
    (_wrong_polygon_area, "area", "annotations[2] (id 3).area"),
    (_missing_image, "files", "images[1] (id 2).file_name"),
    (_category_id_zero, "category", "categories[0] (id 0)"),
    (_annotation_id_zero, "ids", "annotations[4] (id 0)"),
    (_overlap, "overlap", "annotations[5] (id 6)"),
    (_wrong_image_size, "image_size", "images[2] (id 3)"),
    (_swapped_image_size, "image_size", "images[2] (id 3)"),
    (_four_number_polygon, "schema", "annotations[3] (id 4).segmentation"),
    (_bytes_repr_counts, "rle", "annotations[0] (id 1).segmentation"),
    (_row_major_rle, "bbox", "annotations[1] (id 2).bbox"),
    (_short_counts, "rle", "annotations[1] (id 2).segmentation"),
    (_swapped_rle_size, "rle", "annotations[6] (id 7).segmentation"),
    (_duplicate_annotation_id, "ids", "annotations[6] (id 3)"),
    (_iscrowd_true, "schema", "annotations[0] (id 1).iscrowd"),
    (_truncated_image, "files", "images[0] (id 1).file_name"),
    (_empty_mask, "nonempty", "annotations[5] (id 6)"),
    (_unknown_image_id, "ids", "annotations[5] (id 6).image_id"),
    (_box_outside, "bbox", "annotations[6] (id 7).bbox"),
    (_crowd_box_outside, "bbox", "annotations[4] (id 5).bbox"),
    (_negative_area, "schema", "annotations[0] (id 1).area"),
    (_parent_file_name, "schema", "images[0] (id 1).file_name"),
    (_absolute_file_name, "schema", "images[0] (id 1).file_name"),
    (_symlink_out, "files", "images[0] (id 1).file_name"),
    (_empty_image_file, "files", "images[1] (id 2).file_name"),
    (_garbage_image_file, "files", "images[1] (id 2).file_name"),
    (_duplicate_image_id, "ids", "images[2] (id 2)"),
    (_negative_run, "rle", "annotations[1] (id 2).segmentation"),
    (_non_ascii_counts, "rle", "annotations[0] (id 1).segmentation"),
    (_polygon_far_outside, "rle", "annotations[3] (id 4).segmentation"),
    (_string_bbox, "schema", "annotations[0] (id 1).bbox"),
    (_zero_width_image, "schema", "images[1] (id 2).width"),
    (_huge_image, "schema", "images[1] (id 2).width"),
    (_missing_segmentation, "schema", "annotations[2] (id 3).segmentation"),
    (_annotation_not_object, "schema", "annotations[2]"),
]


@pytest.mark.parametrize("change, check, where", DEFECTS,
                         ids=[change.__name__.strip("_") for change, _, _ in DEFECTS])
def test_each_defect_alone_is_caught(dataset, tmp_path, change, check, where):
    _mutate(dataset, change)
    start = time.perf_counter()
    report = validate_dataset(dataset)
    assert time.perf_counter() - start < TIME_LIMIT_S
    assert check in report.failed(), report.format()
    assert any(where in p.where for p in report.check(check).problems), report.format()
    # the export reads the same fields: it refuses, on one line, and writes no data.yaml
    status, output, took = _run("export", dataset, tmp_path)
    if check in ("overlap", "ids", "category") and change is not _unknown_image_id:
        return  # labels an export converts faithfully (ids, overlap) are validate's concern
    assert status == 2, output
    _one_line_error(output, "annotations.json")
    assert took < TIME_LIMIT_S
    assert not (tmp_path / "yolo" / "data.yaml").exists()


def test_negative_area_message_says_why(dataset):
    _mutate(dataset, _negative_area)
    problem = validate_dataset(dataset).check("schema").problems[0]
    assert problem.message == "must be a number >= 0, got -5"


def test_bytes_repr_counts_gets_a_hint(dataset):
    _mutate(dataset, _bytes_repr_counts)
    assert "bytes repr" in validate_dataset(dataset).check("rle").problems[0].message


# ---------------------------------------------------------------- files that cannot be read
def _deep(depth: int, opening: str = "[", closing: str = "]") -> str:
    return opening * depth + closing * depth


def _deep_objects(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


def _coco_with(extra: str) -> str:
    return ('{"images": [], "categories": [], "annotations": [{"id": 1, "junk": '
            + extra + "}]}")


UNREADABLE = [
    # (file contents, field or text the message names, words the message holds)
    (_deep(200_000), "", "more than 64 deep"),
    (_deep_objects(200_000), "", "more than 64 deep"),
    (_coco_with(_deep(200_000)), "", "more than 64 deep"),
    ('{"images": [], "annotations": "[[[[[[' + "[" * 100 + '", "categories": []}', "", ""),
    ("", "", "not valid JSON"),
    ("{", "", "not valid JSON"),
    ('{"images": [,]}', "images", "not valid JSON"),
    ('{"images": [], "annotations": [{"id": 1, "area": NaN}], "categories": []}',
     "annotations[0].area", "NaN"),
    ('{"images": [], "annotations": [{"id": 1, "bbox": [1, Infinity, 2, 3]}], '
     '"categories": []}', "annotations[0].bbox", "not valid JSON"),
    ('{"images": [], "annotations": [], "categories": []} trailing', "", "not valid JSON"),
    ("{'images': []}", "", "not valid JSON"),
    ('{"images": [] /* comment */, "annotations": [], "categories": []}', "images",
     "not valid JSON"),
    ("\x00\x01\x02binary", "", "not valid JSON"),
    ('{"images": [{"id": 1, "file_name": "a\\', "images[0].file_name", "not valid JSON"),
    ('{"images": [{"id": 1, "file_name": "\xff\xfe.png"}]}', "images[0].file_name",
     "invalid bytes in UTF8 string"),
    ('{"images": [{"id": 99999999999999999999999}]}', "images[0].id", "beyond 64 bits"),
]


@pytest.mark.parametrize("text, field, words", UNREADABLE,
                         ids=[f"unreadable{k}" for k in range(len(UNREADABLE))])
def test_unreadable_file_is_one_line_exit_2_in_every_tool(tmp_path, text, field, words):
    root = tmp_path / "ds"
    (root / "images").mkdir(parents=True)
    (root / "annotations.json").write_text(text, encoding="latin-1")
    for tool in TOOLS:
        status, output, took = _run(tool, root, tmp_path)
        if status == 1 and tool == "validate":  # readable JSON, broken COCO: the report
            assert "FAIL  schema" in output and "result: INVALID" in output
            continue
        assert status == 2, (tool, output)
        line = _one_line_error(output, "annotations.json", field, words)
        assert took < TIME_LIMIT_S, (tool, took)
        assert "RecursionError" not in line


NOT_COCO = [
    ("[]", "the file must hold a JSON object, got array"),
    ("42", "got number"),
    ('"text"', "got string"),
    ("null", "got null"),
    ('{"images": [], "categories": []}', "annotations: missing"),
    ('{"images": {}, "annotations": [], "categories": []}', "images: must be a list, got object"),
    ('{"images": [], "annotations": [], "categories": [], "annotations": []}',
     "annotations: this top-level key appears more than once"),
    ('{"images": [7], "annotations": [], "categories": []}', "images[0]: must be an object"),
]


@pytest.mark.parametrize("text, words", NOT_COCO,
                         ids=[f"not_coco{k}" for k in range(len(NOT_COCO))])
def test_json_that_is_not_coco(tmp_path, text, words):
    root = tmp_path / "ds"
    (root / "images").mkdir(parents=True)
    (root / "annotations.json").write_text(text)
    status, output, _ = _run("validate", root, tmp_path)
    assert status == 1 and words in output, output
    for tool in ("visualize", "stats", "export"):
        status, output, _ = _run(tool, root, tmp_path)
        assert status == 2, (tool, output)
        _one_line_error(output, "annotations.json", words)


def test_missing_dataset_and_folder_without_annotations(tmp_path):
    for target in (tmp_path / "nothing", tmp_path):
        for tool in TOOLS:
            status, output, _ = _run(tool, target, tmp_path)
            assert status == 2
            _one_line_error(output, str(target))


def test_a_byte_order_mark_is_skipped(mixed, tmp_path):
    """RFC 8259 §8.1 lets a parser ignore a UTF-8 byte-order mark; json.load does."""
    root = tmp_path / "bom"
    shutil.copytree(mixed, root)
    path = root / "annotations.json"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert validate_dataset(root).ok
    assert len(load_dataset(root).annotations) == 7


def test_special_files_are_refused(tmp_path):
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    (tmp_path / "ds" / "annotations.json").mkdir(parents=True)
    for target, words in ((fifo, "not a regular file or folder"),
                          (Path("/dev/zero"), "not a regular file or folder"),
                          (tmp_path / "ds", "annotations.json: is not a regular file")):
        for tool in TOOLS:
            status, output, took = _run(tool, target, tmp_path)
            assert status == 2 and took < TIME_LIMIT_S
            _one_line_error(output, str(target), words)


def test_dataset_error_is_not_a_config_error(tmp_path):
    """A bad dataset and a bad scenario are told apart by their error classes; both are
    SynthsceneErrors, which the CLI prints on one line."""
    (tmp_path / "annotations.json").write_text(_deep(1000))
    with pytest.raises(DatasetError, match="more than 64 deep") as caught:
        load_dataset(tmp_path)
    from synthscene.errors import ConfigError, SynthsceneError
    assert not isinstance(caught.value, ConfigError)
    assert isinstance(caught.value, SynthsceneError)


# ---------------------------------------------------------------- paths that leave the dataset
@pytest.mark.parametrize("change", [_parent_file_name, _absolute_file_name, _symlink_out],
                         ids=["dotdot", "absolute", "symlink"])
def test_no_tool_reads_a_file_outside_the_image_folder(dataset, tmp_path, change):
    _mutate(dataset, change)
    status, output, _ = _run("validate", dataset, tmp_path)
    assert status == 1 and "result: INVALID" in output
    for tool in ("visualize", "export"):
        status, output, _ = _run(tool, dataset, tmp_path)
        assert status == 2, (tool, output)
        _one_line_error(output, "annotations.json", "images[0] (id 1).file_name")
    assert not list((tmp_path / "vis").glob("*.png")) if (tmp_path / "vis").exists() else True
    assert not (tmp_path / "yolo" / "images").exists()


def test_extra_file_outside_the_dataset_is_refused(dataset, tmp_path):
    def change(data, root):
        data["images"][0]["depth_file"] = "../../etc/passwd"
    _mutate(dataset, change)
    report = validate_dataset(dataset)
    assert any(p.where == "images[0] (id 1).depth_file" for p in report.check("schema").problems)
    with pytest.raises(DatasetError, match=r"images\[0\] \(id 1\)\.depth_file"):
        load_dataset(dataset)


# ---------------------------------------------------------------- export refuses wrong labels
def test_yolo_export_of_the_valid_set_stays_normalised(mixed, tmp_path):
    status, output, _ = _run("export", mixed, tmp_path)
    assert status == 0, output
    for label in (tmp_path / "yolo" / "labels" / "train").glob("*.txt"):
        for line in label.read_text().splitlines():
            values = [float(v) for v in line.split()[1:]]
            assert all(0.0 <= v <= 1.0 for v in values), line


def test_export_counts_every_problem(dataset, tmp_path):
    def change(data, root):
        _shift_box(data, root)
        _box_outside(data, root)
        _empty_image_file(data, root)
    _mutate(dataset, change)
    status, output, _ = _run("export", dataset, tmp_path)
    assert status == 2
    line = _one_line_error(output, "annotations[0] (id 1).bbox", "nothing exported")
    assert "2 more problems in 2 images" in line


# ---------------------------------------------------------------- streaming and bounded output
def test_visualize_keeps_only_what_it_draws(mixed):
    dataset = load_dataset(mixed, limit=1)
    assert [image["id"] for image in dataset.images] == [1]
    assert {ann["image_id"] for ann in dataset.annotations} == {1}
    assert dataset.where(dataset.annotations[2]) == "annotations[2] (id 3)"  # file positions
    dataset = load_dataset(mixed, limit=0)
    assert dataset.images == [] and dataset.annotations == []


def test_problems_kept_are_bounded_and_counted(tmp_path):
    images = [{"id": 1, "file_name": "a.png", "width": 4, "height": 4}]
    annotations = [{"id": 0, "image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1],
                    "area": 1, "iscrowd": 0, "segmentation": {"size": [4, 4], "counts": [16]}}
                   for _ in range(3000)]
    (tmp_path / "annotations.json").write_text(json.dumps(
        {"images": images, "annotations": annotations, "categories": [{"id": 1, "name": "a"}]}))
    report = validate_dataset(tmp_path, keep_problems=50)
    nonempty = report.check("nonempty")
    assert len(nonempty.problems) == 50 and nonempty.problem_count == 3000
    assert "3000 problems in 3000 checked" in report.format()
    assert report.to_dict()["checks"][list(CHECKS).index("nonempty")]["problem_count"] == 3000


def test_annotations_of_one_image_spread_over_the_file_are_checked_for_overlap(tmp_path):
    masks = [np.zeros((H, W), bool) for _ in range(3)]
    masks[0][0:10, 0:10] = True
    masks[1][20:30, 20:30] = True
    masks[2][5:8, 5:8] = True  # inside mask 0, listed after an annotation of image 2
    annotations = []
    for k, (image_id, mask) in enumerate(zip((1, 2, 1), masks)):
        encoded = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
        annotations.append({"id": k + 1, "image_id": image_id, "category_id": 1,
                            "bbox": [float(v) for v in mask_utils.toBbox(encoded)],
                            "area": int(mask_utils.area(encoded)), "iscrowd": 0,
                            "segmentation": uncompressed_rle(mask)})
    (tmp_path / "images").mkdir()
    for name in ("1.png", "2.png"):
        cv2.imwrite(str(tmp_path / "images" / name), np.zeros((H, W, 3), np.uint8))
    write_json(tmp_path, {"images": [{"id": i, "file_name": f"{i}.png", "width": W,
                                      "height": H} for i in (1, 2)],
                          "annotations": annotations, "categories": [{"id": 1, "name": "a"}]})
    report = validate_dataset(tmp_path)
    assert report.failed() == ["overlap"], report.format()
    assert "9 pixels" in report.check("overlap").problems[0].message


# ---------------------------------------------------------------- through python -m synthscene.cli
SUBPROCESS_CASES = [
    ("validate", lambda root: (root / "annotations.json").write_text(_deep(200_000)),
     "more than 64 deep"),
    ("stats", lambda root: (root / "annotations.json").write_text(
        '{"images": [], "annotations": [{"area": NaN}], "categories": []}'),
     "annotations[0].area"),
    ("visualize", lambda root: _mutate(root, _parent_file_name), "images[0] (id 1).file_name"),
    ("export", lambda root: _mutate(root, _box_outside), "annotations[6] (id 7).bbox"),
]


@pytest.mark.parametrize("tool, change, words", SUBPROCESS_CASES,
                         ids=[f"cli_{tool}" for tool, _, _ in SUBPROCESS_CASES])
def test_command_line_prints_one_line_and_exits_2(dataset, tmp_path, tool, change, words):
    change(dataset)
    args = {"validate": ["validate", str(dataset)],
            "stats": ["stats", str(dataset), "--out", str(tmp_path / "stats")],
            "visualize": ["visualize", str(dataset), "--out", str(tmp_path / "vis")],
            "export": ["export", str(dataset), "--to", "yolo", "--out", str(tmp_path / "y")]}
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(Path(__file__).parents[1] / "src"), os.environ.get("PYTHONPATH", "")])}
    # The child's own peak memory: VmHWM of its process after exec, written at its exit (the
    # rusage of a forked child also counts the pages of this test process before the exec).
    peak_file = tmp_path / "peak.txt"
    wrapper = ("import atexit, runpy, sys\n"
               "path = sys.argv[1]\n"
               "def peak():\n"
               "    with open('/proc/self/status') as status, open(path, 'w') as out:\n"
               "        out.write(next(line for line in status if line.startswith('VmHWM')))\n"
               "atexit.register(peak)\n"
               "sys.argv = ['synthscene'] + sys.argv[2:]\n"
               "runpy.run_module('synthscene.cli', run_name='__main__')\n")
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", wrapper, str(peak_file), *args[tool]],
                          capture_output=True, text=True, timeout=120, env=env)
    took = time.perf_counter() - start
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    _one_line_error(done.stderr, "annotations.json", words)
    assert took < 60
    if not Path("/proc/self/status").exists():
        return
    peak_mib = int(peak_file.read_text().split()[1]) / 1024  # "VmHWM:  123456 kB"
    assert peak_mib < 1500, peak_mib


# ---------------------------------------------------------------- the nesting pre-scan
def _nested(depth: int) -> object:
    """``depth - 1`` nested containers around a string."""
    value: object = "x"
    for k in range(depth - 1):
        value = [value] if k % 2 else {"k": value}
    return value


@pytest.mark.parametrize("chunk", [3, 7, 1 << 20])
def test_scan_layout_skips_brackets_in_strings_across_chunks(tmp_path, monkeypatch, chunk):
    from synthscene.io import json_stream

    monkeypatch.setattr(json_stream, "CHUNK_BYTES", chunk)
    tricky = ['[[[[{{{{' * 20, 'quote \\" then [[[[' * 10, "ends in a backslash \\",
              "\\\\\\\" [[[", '"' * 3]
    path = tmp_path / "a.json"
    for depth, refused in ((json_stream.MAX_DEPTH, False), (json_stream.MAX_DEPTH + 1, True)):
        # the top object, the annotations list, then depth - 2 containers
        data = {"info": tricky, "images": [], "annotations": [_nested(depth - 1)],
                "categories": [], "tricky \\\"key": 1}
        text = json.dumps(data)
        assert json.loads(text) == data  # the reference parser reads it
        path.write_text(text)
        if refused:
            with pytest.raises(DatasetError, match="more than 64 deep"):
                json_stream.scan_layout(path)
            continue
        layout = json_stream.scan_layout(path)
        assert layout.top == "object"
        assert layout.keys == {"info": "array", "images": "array", "annotations": "array",
                               "categories": "array", 'tricky \\"key': "number"}


# ---------------------------------------------------------------- memory with many annotations
def _many_annotations(root: Path, images: int, per_image: int, width: int = 64,
                      height: int = 48) -> int:
    """Write an annotation file (no image files) of ``images x per_image`` one-pixel
    annotations with synthscene's optional fields; return the annotation count."""
    root.mkdir(parents=True, exist_ok=True)
    pixel = {k: rle(np.pad(np.ones((1, 1), bool), ((k // width, height - 1 - k // width),
                                                    (k % width, width - 1 - k % width))))
             for k in range(min(per_image, width * height))}
    anns = []
    for i in range(1, images + 1):
        for k in range(per_image):
            x, y = k % width, (k // width) % height
            anns.append({"id": len(anns) + 1, "image_id": i, "category_id": k % 2 + 1,
                         "bbox": [x, y, 1, 1], "area": 1, "iscrowd": 0,
                         "segmentation": pixel[k % len(pixel)], "visib_fract": 1.0,
                         "amodal_bbox": [x, y, 1, 1], "amodal_area": 1, "truncation": 0.0,
                         "cam_R_m2c": [1.0, 0, 0, 0, 1.0, 0, 0, 0, 1.0],
                         "cam_t_m2c": [x + 0.5, y + 0.25, 800.125], "scene_instance_id": k + 1})
    write_json(root, {"images": [{"id": i, "file_name": f"{i:06d}.png", "width": width,
                                  "height": height} for i in range(1, images + 1)],
                      "annotations": anns,
                      "categories": [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}]})
    return len(anns)


def test_a_loaded_dataset_keeps_an_index_not_its_annotations(tmp_path):
    """load_dataset (what stats, export and CocoFolder read through) keeps a few dozen bytes an
    annotation, not the parsed entries (about 1.5 kB each as Python objects): measured with
    tracemalloc as the memory still held once it returns."""
    import tracemalloc

    root = tmp_path / "many"
    count = _many_annotations(root, images=200, per_image=100)
    size = (root / "annotations.json").stat().st_size
    tracemalloc.start()
    try:
        dataset = load_dataset(root)
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert held < 100 * count, (held, count, size)  # the parsed entries would take > 1 kB each
    # and it still reads as the file says
    data = read_json(root)
    assert len(dataset.annotations) == count
    assert dataset.annotations[count - 1] == data["annotations"][-1]
    image = dataset.images[7]
    got = dataset.annotations_of(image)
    assert got == [a for a in data["annotations"] if a["image_id"] == image["id"]]
    assert dataset.where(got[3]) == f"annotations[{got[3]['id'] - 1}] (id {got[3]['id']})"
    assert dataset.annotation_count(image) == 100
    assert dataset.annotations_of(image, limit=5) == got[:5]


def test_an_annotation_file_changed_after_loading_is_refused(tmp_path):
    root = tmp_path / "changed"
    _many_annotations(root, images=2, per_image=3)
    dataset = load_dataset(root)
    data = read_json(root)
    data["annotations"][0]["id"] = 99
    write_json(root, data)
    with pytest.raises(DatasetError, match="changed"):
        dataset.annotations_of(dataset.images[0])

