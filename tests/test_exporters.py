"""Exporters, checked against pycocotools, the source masks and each format's own conventions."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml
from pycocotools import mask as mask_utils
from scipy import ndimage

from synthetic_coco import GRID_INSTANCES, H, W, build_dataset, read_json, write_json
from synthscene.errors import DatasetError, OptionError, OutputError
from synthscene.exporters import (
    assign_splits,
    export_bop,
    export_coco_polygons,
    export_dataset,
    export_panoptic,
    export_yolo,
    parse_split,
)
from synthscene.exporters.polygons import bridge_loops, mask_loops
from synthscene.exporters.split import split_rng
from synthscene.io.rle import to_rle
from synthscene.tools.validate import validate_dataset
from tolerances import tol

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("source")
    return root, build_dataset(root)


def _mask(segmentation, h=H, w=W) -> np.ndarray:
    return mask_utils.decode(to_rle(segmentation, h, w)).astype(bool)


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max((a | b).sum(), 1))


def _filled(mask: np.ndarray) -> np.ndarray:
    """The mask with its holes filled (background 8-connected, as the tracer treats it)."""
    return ndimage.binary_fill_holes(mask, structure=np.ones((3, 3), bool))


# ------------------------------------------------------------------ mask tracing
def test_rectangle_traces_to_its_pixel_edges():
    mask = np.zeros((10, 12), bool)
    mask[2:5, 3:9] = True
    (loop,) = mask_loops(mask)
    assert not loop.is_hole
    assert sorted(map(tuple, loop.points.tolist())) == [(3, 2), (3, 5), (9, 2), (9, 5)]
    single = np.zeros((4, 4), bool)
    single[1, 2] = True
    (loop,) = mask_loops(single)
    assert loop.flat() == [2.0, 1.0, 3.0, 1.0, 3.0, 2.0, 2.0, 2.0]


def test_tracing_random_masks_is_exact():
    """Outer loops rasterized by pycocotools give back the filled mask pixel for pixel."""
    rng = np.random.Generator(np.random.PCG64(2))
    for trial in range(40):
        blur = ndimage.gaussian_filter(rng.random((30, 40)), rng.uniform(0.6, 3.0))
        mask = blur > np.quantile(blur, rng.uniform(0.3, 0.8))
        loops = mask_loops(mask)
        assert all(len(loop.points) >= 4 for loop in loops)
        outer = [loop.flat() for loop in loops if not loop.is_hole]
        union = mask_utils.decode(mask_utils.merge(mask_utils.frPyObjects(outer, 30, 40)))
        np.testing.assert_array_equal(union.astype(bool), _filled(mask))
        assert any(loop.is_hole for loop in loops) == bool((_filled(mask) != mask).any())
        # one bridged polygon (YOLO segmentation) gives back the mask itself, holes included
        bridged = bridge_loops(loops).ravel().tolist()
        again = mask_utils.decode(mask_utils.frPyObjects([bridged], 30, 40)[0]).astype(bool)
        assert _iou(again, mask) >= 0.99


def test_pixels_touching_at_a_corner_are_separate_parts():
    mask = np.zeros((5, 5), bool)
    mask[1, 1] = mask[2, 2] = True
    loops = mask_loops(mask)
    assert len(loops) == 2 and not any(loop.is_hole for loop in loops)


# ------------------------------------------------------------------ coco-polygons
def test_coco_polygons(source, tmp_path):
    root, data = source
    summary = export_coco_polygons(root, tmp_path / "poly")
    out = json.loads((tmp_path / "poly" / "annotations.json").read_text())
    assert summary.annotations == len(out["annotations"]) == len(data["annotations"])
    by_id = {ann["id"]: ann for ann in data["annotations"]}
    kinds = {}
    for ann in out["annotations"]:
        original = _mask(by_id[ann["id"]]["segmentation"])
        assert ann["iscrowd"] == 0
        assert ann["bbox"] == by_id[ann["id"]]["bbox"] and ann["area"] == by_id[ann["id"]]["area"]
        if isinstance(ann["segmentation"], dict):  # RLE fallback: only the holed ring
            kinds[ann["image_id"], ann["scene_instance_id"]] = "rle"
            assert (_filled(original) != original).any()
            continue
        kinds[ann["image_id"], ann["scene_instance_id"]] = len(ann["segmentation"])
        assert all(len(polygon) >= 6 and len(polygon) % 2 == 0
                   for polygon in ann["segmentation"])
        polygon_rle = mask_utils.merge(mask_utils.frPyObjects(ann["segmentation"], H, W))
        original_rle = to_rle(by_id[ann["id"]]["segmentation"], H, W)
        assert mask_utils.iou([polygon_rle], [original_rle], [0])[0, 0] >= 0.9
    image_one = {instance: v for (image, instance), v in kinds.items() if image == 1}
    assert image_one[3] == "rle"          # the ring keeps its hole as RLE
    assert image_one[4] == 2              # the two blobs are two polygons
    assert image_one[7] == 8              # the diagonal chain: 8 one-pixel parts
    assert image_one[6] == 1              # one pixel is one 4-point polygon
    assert "1 mask kept as RLE: hole" in summary.notes
    # the export is a valid dataset on its own (exact polygons keep bbox and area tight)
    assert validate_dataset(tmp_path / "poly").ok
    assert (tmp_path / "poly" / "images" / "000002.png").is_file()


def test_export_is_deterministic_and_refuses_to_overwrite(source, tmp_path):
    root, _ = source
    export_coco_polygons(root, tmp_path / "a")
    export_coco_polygons(root, tmp_path / "b")
    assert (tmp_path / "a" / "annotations.json").read_bytes() == \
        (tmp_path / "b" / "annotations.json").read_bytes()
    with pytest.raises(OutputError, match="--overwrite"):
        export_coco_polygons(root, tmp_path / "a")
    (tmp_path / "a" / "keep.txt").write_text("mine")
    export_coco_polygons(root, tmp_path / "a", overwrite=True)
    assert (tmp_path / "a" / "keep.txt").read_text() == "mine"  # only its own files replaced
    with pytest.raises(OutputError, match="source dataset"):
        export_coco_polygons(root, root, overwrite=True)


# ------------------------------------------------------------------ yolo
def _label_path(image_path: Path) -> Path:
    """Ultralytics' img2label_paths: the last /images/ becomes /labels/, suffix .txt."""
    text = str(image_path)
    head, _, tail = text.rpartition("/images/")
    return Path(f"{head}/labels/{tail}").with_suffix(".txt")


def test_yolo_detection_boxes_equal_coco_boxes(source, tmp_path):
    root, data = source
    summary = export_yolo(root, tmp_path / "yolo", split={"train": 0.5, "val": 0.5},
                          split_seed=3)
    out = tmp_path / "yolo"
    config = yaml.safe_load((out / "data.yaml").read_text())
    assert "path" not in config  # relocatable: Ultralytics uses the YAML file's folder
    assert config["train"] == "images/train" and config["val"] == "images/val"
    assert config["names"] == {0: "box", 1: "mug", 2: "torus"}
    assert sum(summary.images.values()) == 3
    anns = {}
    for ann in data["annotations"]:
        anns.setdefault(ann["image_id"], []).append(ann)
    seen = 0
    for image in data["images"]:
        split = "train" if (out / "images" / "train" / image["file_name"]).exists() else "val"
        image_path = out / "images" / split / image["file_name"]
        assert image_path.is_file()
        lines = _label_path(image_path).read_text().splitlines()
        expected = sorted(anns.get(image["id"], []), key=lambda a: a["id"])
        assert len(lines) == len(expected)
        for line, ann in zip(lines, expected):
            cls, cx, cy, w, h = line.split()
            assert int(cls) == ann["category_id"] - 1
            cx, cy, w, h = float(cx) * W, float(cy) * H, float(w) * W, float(h) * H
            back = [cx - w / 2, cy - h / 2, w, h]
            np.testing.assert_allclose(back, ann["bbox"], atol=tol.float32 * max(W, H) * 2)
            seen += 1
    assert seen == len(data["annotations"])


def test_yolo_segmentation_polygons_cover_the_masks(source, tmp_path):
    root, data = source
    export_yolo(root, tmp_path / "seg", task="segment")
    config = yaml.safe_load((tmp_path / "seg" / "data.yaml").read_text())
    assert config["val"] == "images/train"  # no split: Ultralytics still needs a val entry
    lines = (tmp_path / "seg" / "labels" / "train" / "000001.txt").read_text().splitlines()
    image_one = [ann for ann in data["annotations"] if ann["image_id"] == 1]
    assert len(lines) == len(image_one)
    for line, ann in zip(lines, image_one):
        values = [float(v) for v in line.split()[1:]]
        assert len(values) >= 6 and len(values) % 2 == 0
        assert all(0.0 <= v <= 1.0 for v in values)
        drawn = _ultralytics_polygon2mask(values, H, W)
        # ring included; the bridge between the two blobs is drawn (5 px of 91)
        assert _iou(drawn, _mask(ann["segmentation"])) >= 0.94


def _ultralytics_polygon2mask(values: list[float], height: int, width: int) -> np.ndarray:
    """A YOLO polygon's mask as Ultralytics makes it for training: the normalised coordinates
    as float32 times the image size (``ultralytics.engine.results``/``Instances.denormalize``),
    then ``ultralytics.data.utils.polygon2mask``: ``np.asarray(polygons, dtype=np.int32)`` and
    ``cv2.fillPoly(mask, polygons, color=1)`` (downsample ratio 1)."""
    points = np.asarray(values, dtype=np.float32).reshape(-1, 2) * np.array(
        [width, height], dtype=np.float32)
    mask = np.zeros((height, width), dtype=np.uint8)
    cv2.fillPoly(mask, np.asarray(points, dtype=np.int32).reshape(1, -1, 2), color=1)
    return mask.astype(bool)


def test_yolo_segment_polygons_rasterize_back_as_ultralytics_does(source, tmp_path):
    """Every exported polygon, filled the way Ultralytics fills it, is the COCO mask: exact
    for one-part masks (holes included), mean IoU >= 0.97 over all, no object lost."""
    root, data = source
    export_yolo(root, tmp_path / "seg", task="segment")
    images = {image["id"]: image for image in data["images"]}
    by_image: dict[int, list[dict]] = {}
    for ann in data["annotations"]:
        by_image.setdefault(ann["image_id"], []).append(ann)
    ious = []
    for image_id, anns in by_image.items():
        stem = Path(images[image_id]["file_name"]).stem
        lines = (tmp_path / "seg" / "labels" / "train" / f"{stem}.txt").read_text().splitlines()
        assert len(lines) == len(anns)
        for line, ann in zip(lines, anns):
            drawn = _ultralytics_polygon2mask([float(v) for v in line.split()[1:]], H, W)
            mask = _mask(ann["segmentation"])
            assert (drawn & mask).any()  # no object lost
            if ndimage.label(mask)[1] == 1:  # one 4-connected part: no bridge, exact
                np.testing.assert_array_equal(drawn, mask)
            ious.append(_iou(drawn, mask))
    assert len(ious) == len(data["annotations"])
    assert float(np.mean(ious)) >= 0.97


def test_yolo_split_needs_train(source, tmp_path):
    with pytest.raises(OptionError, match="train"):
        export_yolo(source[0], tmp_path / "y", split={"a": 0.5, "b": 0.5})


# ------------------------------------------------------------------ panoptic
def _rgb2id(rgb: np.ndarray) -> np.ndarray:
    rgb = rgb.astype(np.int64)
    return rgb[..., 0] + 256 * rgb[..., 1] + 256 * 256 * rgb[..., 2]


def _read_rgb(path: Path) -> np.ndarray:
    return cv2.imread(str(path), cv2.IMREAD_COLOR)[:, :, ::-1]


@pytest.mark.parametrize("with_semantic", [True, False])
def test_panoptic_segments_match_the_png(source, tmp_path, with_semantic):
    root, data = source
    if not with_semantic:  # plain COCO: one background stuff segment
        root = tmp_path / "plain"
        data = build_dataset(root, extras=False)
    export_panoptic(root, tmp_path / "pan")
    out = json.loads((tmp_path / "pan" / "panoptic.json").read_text())
    categories = {cat["id"]: cat for cat in out["categories"]}
    assert {c["id"]: c["isthing"] for c in out["categories"]} == (
        {1: 1, 2: 1, 3: 1, 4: 0, 5: 0} if with_semantic else {1: 1, 2: 1, 3: 1, 4: 0})
    by_ann = {ann["id"]: ann for ann in data["annotations"]}
    for entry in out["annotations"]:
        ids = _rgb2id(_read_rgb(tmp_path / "pan" / "panoptic" / entry["file_name"]))
        segments = {s["id"]: s for s in entry["segments_info"]}
        assert set(np.unique(ids)) - {0} == set(segments)
        for segment_id, segment in segments.items():
            pixels = ids == segment_id
            assert segment["area"] == int(pixels.sum())
            ys, xs = np.nonzero(pixels)
            assert segment["bbox"] == [xs.min(), ys.min(), xs.max() - xs.min() + 1,
                                       ys.max() - ys.min() + 1]
            if categories[segment["category_id"]]["isthing"]:
                ann = by_ann[segment_id]  # things keep their annotation id
                np.testing.assert_array_equal(pixels, _mask(ann["segmentation"]))
        instance_ids = data["_ids"][entry["image_id"]]
        if with_semantic:
            assert (ids[instance_ids == 0] != 0).all()  # ground and background everywhere else
            semantic = cv2.imread(str(root / "semantic" / f"{entry['image_id']:06d}.png"),
                                  cv2.IMREAD_UNCHANGED)
            for segment in entry["segments_info"]:
                if not categories[segment["category_id"]]["isthing"]:
                    assert (semantic[ids == segment["id"]] == segment["category_id"]).all()
        else:
            assert sum(s["area"] for s in entry["segments_info"]) == H * W
    # the image with 300 instances needs ids beyond one byte
    grid = next(e for e in out["annotations"] if e["image_id"] == 2)
    assert len(grid["segments_info"]) >= GRID_INSTANCES
    assert max(s["id"] for s in grid["segments_info"]) > 255


def test_panoptic_refuses_semantic_files_without_stuff_categories(source, tmp_path):
    root = tmp_path / "copy"
    build_dataset(root)
    data = read_json(root)
    del data["stuff_categories"]
    write_json(root, data)
    with pytest.raises(DatasetError, match="stuff_categories"):
        export_panoptic(root, tmp_path / "pan")


# ------------------------------------------------------------------ bop
def test_bop(source, tmp_path):
    root, data = source
    summary = export_bop(root, tmp_path / "bop")
    scene = tmp_path / "bop" / "train" / "000000"
    for name in ("scene_gt.json", "scene_gt_info.json", "scene_camera.json"):
        assert (scene / name).is_file()
    assert (tmp_path / "bop" / "models" / "models_info.json").is_file()
    gt = json.loads((scene / "scene_gt.json").read_text())
    info = json.loads((scene / "scene_gt_info.json").read_text())
    camera = json.loads((scene / "scene_camera.json").read_text())
    models = json.loads((tmp_path / "bop" / "models" / "models_info.json").read_text())
    assert summary.annotations == len(data["annotations"])
    assert models["1"]["diameter"] == 173.2 and models["3"]["size_z"] == 100.0
    by_image = {}
    for ann in sorted(data["annotations"], key=lambda a: a["id"]):
        by_image.setdefault(ann["image_id"], []).append(ann)
    for image in data["images"]:
        im_id = image["id"]
        assert (scene / "rgb" / f"{im_id:06d}.png").is_file()
        assert (scene / "depth" / f"{im_id:06d}.png").is_file()
        cam = camera[str(im_id)]
        assert cam["cam_K"] == [v for row in image["K"] for v in row]
        # cam_R_w2c, cam_t_w2c (mm) map a world point to the camera frame
        world_from_camera = np.asarray(image["world_from_camera"])
        point_camera = np.array([0.1, -0.2, 0.9])
        point_world = world_from_camera[:3, :3] @ point_camera + world_from_camera[:3, 3]
        mapped = np.reshape(cam["cam_R_w2c"], (3, 3)) @ point_world * 1000 + cam["cam_t_w2c"]
        np.testing.assert_allclose(mapped, point_camera * 1000, atol=tol.float64)
        anns = by_image.get(im_id, [])
        assert len(gt[str(im_id)]) == len(info[str(im_id)]) == len(anns)
        for gt_id, (pose, meta, ann) in enumerate(zip(gt[str(im_id)], info[str(im_id)], anns)):
            assert pose["obj_id"] == ann["category_id"]
            assert pose["cam_t_m2c"] == ann["cam_t_m2c"]
            assert meta["visib_fract"] == pytest.approx(
                meta["px_count_visib"] / meta["px_count_all"], abs=tol.exact)
            amodal_png = cv2.imread(str(scene / "mask" / f"{im_id:06d}_{gt_id:06d}.png"),
                                    cv2.IMREAD_UNCHANGED)
            visible_png = cv2.imread(str(scene / "mask_visib" / f"{im_id:06d}_{gt_id:06d}.png"),
                                     cv2.IMREAD_UNCHANGED)
            np.testing.assert_array_equal(visible_png > 0, _mask(ann["segmentation"]))
            np.testing.assert_array_equal(amodal_png > 0, _mask(ann["amodal_segmentation"]))
            assert meta["px_count_visib"] == int((visible_png > 0).sum()) == ann["area"]
            assert meta["px_count_all"] == ann["amodal_area"] >= int((amodal_png > 0).sum())
            assert meta["bbox_obj"] == [int(v) for v in ann["amodal_bbox"]]
            assert meta["bbox_visib"] == [int(v) for v in ann["bbox"]]
    # the occluded box: 132 of its 160 pixels visible; the truncated box: 72 of 180
    first = info["1"]
    assert (first[0]["px_count_visib"], first[0]["px_count_all"]) == (132, 160)
    assert (first[4]["px_count_all"], first[4]["px_count_valid"], first[4]["visib_fract"]) == \
        (180, 72, 0.4)
    assert first[4]["bbox_obj"] == [55, 40, 15, 12]  # reaches outside the 64 x 48 image


def test_bop_names_the_missing_field(tmp_path):
    build_dataset(tmp_path / "plain", extras=False)
    with pytest.raises(DatasetError, match=r"images\[0\] \(id 1\)\.K: missing"):
        export_bop(tmp_path / "plain", tmp_path / "bop")
    assert not (tmp_path / "bop").exists()  # refused before writing anything


# ------------------------------------------------------------------ splits
def test_split_is_deterministic_and_complete():
    ids = list(range(1, 101))
    fractions = parse_split("train=0.8,val=0.1,test=0.1")
    a = assign_splits(ids, fractions, rng=split_rng(7))
    b = assign_splits(ids[::-1], fractions, rng=split_rng(7))
    c = assign_splits(ids, fractions, rng=split_rng(8))
    assert a == b and a != c
    assert [len(a[k]) for k in ("train", "val", "test")] == [80, 10, 10]
    assert sorted(sum(a.values(), [])) == ids
    odd = assign_splits(list(range(7)), {"x": 0.5, "y": 0.5}, rng=split_rng(0))
    assert sorted(len(v) for v in odd.values()) == [3, 4]


@pytest.mark.parametrize("text", ["train=0.8,val=0.1", "train", "train=0.5,train=0.5",
                                  "tr/ain=1", "train=-1,val=2", "train=x"])
def test_bad_split_text(text):
    with pytest.raises(OptionError, match="--split"):
        parse_split(text)


def test_export_with_split_writes_one_dataset_per_split(source, tmp_path):
    root, _ = source
    summary = export_dataset(root, tmp_path / "out", to="coco-polygons",
                             split=parse_split("train=0.34,val=0.33,test=0.33"), split_seed=1)
    assert summary.images == {"train": 1, "val": 1, "test": 1}
    ids = set()
    for name in summary.images:
        part = json.loads((tmp_path / "out" / name / "annotations.json").read_text())
        assert len(part["images"]) == 1
        ids |= {image["id"] for image in part["images"]}
        assert {a["image_id"] for a in part["annotations"]} <= {i["id"] for i in part["images"]}
    assert ids == {1, 2, 3}
    with pytest.raises(OptionError, match="--to"):
        export_dataset(root, tmp_path / "x", to="voc")
    with pytest.raises(OptionError, match="--task"):
        export_dataset(root, tmp_path / "x", to="bop", task="segment")
