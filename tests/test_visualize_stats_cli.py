"""``synthscene visualize`` and ``synthscene stats``, and the export command line."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from synthetic_coco import GRID_INSTANCES, H, W, build_dataset, read_json, write_json
from synthscene.cli import app
from synthscene.tools.stats import HEATMAP_BINS, write_stats
from synthscene.tools.visualize import MASK_ALPHA, visualize_dataset

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("tools")
    return root, build_dataset(root)


def _read(path: Path) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    assert image is not None, path
    return image[:, :, ::-1]


def test_visualize_draws_masks_and_boxes(tmp_path):
    root = tmp_path / "plain"  # no keypoints, which would be drawn over the ring's hole
    data = build_dataset(root, extras=False)
    written = visualize_dataset(root, tmp_path / "vis", limit=2)
    assert [p.name for p in written] == ["000001.png", "000002.png"]
    overlay = _read(written[0]).astype(np.int64)
    original = _read(root / "images" / "000001.png").astype(np.int64)
    assert overlay.shape == (H, W, 3)
    ids = data["_ids"][1]
    # inside the ring (instance 3), away from its outline and box: blended with the mask colour
    inner = np.zeros_like(ids, bool)
    inner[22:24, 7:19] = True
    assert np.abs(overlay[inner] - original[inner]).mean() > 10
    # the hole of the ring is not covered
    np.testing.assert_array_equal(overlay[27:29, 12:14], original[27:29, 12:14])
    # the blend is alpha * colour + (1 - alpha) * image: one colour inside the mask interior
    colour = (overlay[inner] - (1 - MASK_ALPHA) * original[inner]) / MASK_ALPHA
    assert np.ptp(colour, axis=0).max() <= 3
    # the box outline of the one-pixel object (instance 6 at x=40, y=2) is drawn
    assert (overlay[2, 40] != original[2, 40]).any()


def test_visualize_all_images_and_keypoints(source, tmp_path):
    root, _ = source
    written = visualize_dataset(root, tmp_path / "vis", limit=10)
    assert len(written) == 3  # fewer images than the limit
    plain = tmp_path / "plain"
    build_dataset(plain, extras=False)
    with_kp = _read(written[0]).astype(np.int64)
    without_kp = _read(visualize_dataset(plain, tmp_path / "vis2", limit=1)[0]).astype(np.int64)
    assert (with_kp != without_kp).any()  # keypoints and skeleton add pixels


def test_stats_files_and_counts(source, tmp_path):
    root, data = source
    stats = write_stats(root, tmp_path / "stats")
    out = tmp_path / "stats"
    saved = json.loads((out / "stats.json").read_text())
    assert saved == json.loads(json.dumps(stats))
    assert (saved["images"], saved["annotations"], saved["categories"]) == (3, 7 + GRID_INSTANCES,
                                                                          3)
    per_class = {name: sum(1 for a in data["annotations"] if a["category_id"] == i + 1)
                 for i, name in enumerate(["box", "mug", "torus"])}
    assert saved["objects_per_class"] == per_class
    assert saved["objects_per_image"]["max"] == GRID_INSTANCES
    assert saved["objects_per_image"]["images_without_objects"] == 1
    assert saved["box_size_px"]["min"] == 1.0  # the one-pixel object
    assert np.asarray(saved["box_centres"]).shape == (HEATMAP_BINS, HEATMAP_BINS)
    assert np.asarray(saved["box_centres"]).sum() == len(data["annotations"])
    assert saved["visib_fract"]["min"] == pytest.approx(0.4)  # the truncated box
    assert saved["visib_fract"]["annotations_with_field"] == len(data["annotations"])
    assert set(saved["plots"]) == {"objects_per_class.png", "objects_per_image.png",
                                   "box_size.png", "box_aspect.png", "visibility.png",
                                   "box_centres.png"}
    for name in saved["plots"]:
        image = _read(out / name)
        assert image.shape[0] > 100 and image.shape[1] > 100
        assert image.std() > 0  # not blank
    markdown = (out / "stats.md").read_text()
    assert "| torus |" in markdown and "![box_centres.png](box_centres.png)" in markdown


def test_stats_command_without_visibility_notes_it(tmp_path):
    build_dataset(tmp_path / "plain", extras=False)
    result = CliRunner().invoke(app, ["stats", str(tmp_path / "plain"), "--out",
                                      str(tmp_path / "stats")])
    assert result.exit_code == 0, result.output
    assert "note: no annotation carries visib_fract" in result.output
    stats = json.loads((tmp_path / "stats" / "stats.json").read_text())
    assert stats["visib_fract"] is None
    assert "visibility.png" not in stats["plots"]
    assert not (tmp_path / "stats" / "visibility.png").exists()
    assert any("visib_fract" in note for note in stats["notes"])


def test_cli_tools(source, tmp_path):
    root, _ = source
    runner = CliRunner()
    result = runner.invoke(app, ["visualize", str(root), "--out", str(tmp_path / "v"), "-n", "1"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "v").iterdir()) == ["000001.png"]

    result = runner.invoke(app, ["export", str(root), "--to", "yolo", "--out", str(tmp_path / "y"),
                                 "--split", "train=0.67,val=0.33", "--split-seed", "4"])
    assert result.exit_code == 0, result.output
    assert "yolo: 3 images (train 2, val 1)" in result.output
    assert yaml.safe_load((tmp_path / "y" / "data.yaml").read_text())["val"] == "images/val"

    for args, fragment in [
        (["export", str(root), "--to", "voc", "--out", str(tmp_path / "z")], "--to"),
        (["export", str(root), "--to", "yolo", "--out", str(tmp_path / "y")], "--overwrite"),
        (["export", str(root), "--to", "yolo", "--out", str(tmp_path / "z"), "--split",
          "train=2"], "--split"),
        (["stats", str(tmp_path / "missing"), "--out", str(tmp_path / "s2")], "missing"),
    ]:
        result = runner.invoke(app, args)
        assert result.exit_code == 2, result.output
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("synthscene: error:"), result.output
        assert fragment in lines[0]


def test_cli_export_bop_missing_field(tmp_path):
    build_dataset(tmp_path / "plain", extras=False)
    data = read_json(tmp_path / "plain")
    for image in data["images"]:
        image["K"] = [[80.0, 0.0, 31.5], [0.0, 80.0, 23.5], [0.0, 0.0, 1.0]]
    write_json(tmp_path / "plain", data)
    result = CliRunner().invoke(app, ["export", str(tmp_path / "plain"), "--to", "bop",
                                      "--out", str(tmp_path / "bop")])
    assert result.exit_code == 2
    assert "annotations[0] (id 1).cam_R_m2c: missing" in result.output


@pytest.mark.gl
@pytest.mark.slow
def test_rendered_dataset_validates_and_exports(tmp_path):
    """End to end: a rendered dataset passes validate, and every export of it works."""
    import synthscene
    from synthscene.config.loading import scenario_from_dict
    from synthscene.exporters import FORMATS, export_dataset
    from synthscene.tools.validate import validate_dataset

    scenario = scenario_from_dict({
        "name": "tools", "image": {"width": 160, "height": 120},
        "assets": [{"source": "primitive:box"}, {"source": "primitive:torus"}],
        "objects": {"count": 8, "size_m": {"uniform": [0.08, 0.15]}},
        "camera": {"distance_m": {"uniform": [0.7, 0.9]}},
    }, source="<test>")
    synthscene.generate(scenario, tmp_path / "ds", frames=3, seed=2)
    report = validate_dataset(tmp_path / "ds")
    assert report.ok, report.format()
    data = read_json(tmp_path / "ds")
    for to in FORMATS:
        if to == "bop" and "cam_R_m2c" not in data["annotations"][0]:
            continue  # the source has no 6D poses (outputs not switched on)
        if to in ("mot", "youtube-vis") and "sequence_id" not in data["images"][0]:
            continue  # tracking formats need sequences (tested in test_sequences.py)
        summary = export_dataset(tmp_path / "ds", tmp_path / to, to=to)
        assert summary.annotations == len(data["annotations"])
    assert validate_dataset(tmp_path / "coco-polygons").ok


def test_visualize_draws_at_most_its_cap_of_annotations(tmp_path, caplog):
    """An image with more annotations than MAX_DRAWN_ANNOTATIONS: the first (by id) are drawn,
    the rest not, with a warning naming the image."""
    from pycocotools import mask as mask_utils

    from synthscene.tools.visualize import MAX_DRAWN_ANNOTATIONS

    width, height = 400, 300
    extra = 150
    # the first ones fill the top-left corner one pixel each, the rest the bottom-right one
    pixels = [(k % 50, k // 50) for k in range(MAX_DRAWN_ANNOTATIONS)]
    pixels += [(330 + k % 50, 270 + k // 50) for k in range(extra)]
    annotations = []
    for k, (x, y) in enumerate(pixels):
        mask = np.zeros((height, width), np.uint8)
        mask[y, x] = 1
        encoded = mask_utils.encode(np.asfortranarray(mask))
        annotations.append({"id": k + 1, "image_id": 1, "category_id": 1, "bbox": [x, y, 1, 1],
                            "area": 1, "iscrowd": 0, "segmentation": {
                                "size": [height, width], "counts": encoded["counts"].decode()}})
    root = tmp_path / "crowded"
    (root / "images").mkdir(parents=True)
    original = np.full((height, width, 3), 90, np.uint8)
    cv2.imwrite(str(root / "images" / "1.png"), original)
    write_json(root, {"images": [{"id": 1, "file_name": "1.png", "width": width,
                                  "height": height}],
                      "annotations": annotations, "categories": [{"id": 1, "name": "a"}]})
    with caplog.at_level("WARNING"):
        written = visualize_dataset(root, tmp_path / "vis", limit=5)
    overlay = _read(written[0])
    assert (overlay[:20, :50] != original[:20, :50]).any()
    np.testing.assert_array_equal(overlay[250:, 320:], original[250:, 320:])
    assert f"{MAX_DRAWN_ANNOTATIONS + extra} annotations" in caplog.text
