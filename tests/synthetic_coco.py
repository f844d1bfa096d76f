"""Small COCO datasets written from hand-made numpy masks (no rendering), for the tool tests.

Labels are made here with pycocotools directly (``encode``, ``toBbox``, ``area``), not with
synthscene code, so the tools are checked against an independent reference.

Image 1 (64 x 48, W x H: not square, so swapped sizes show) holds the hard cases:

- 1 ``box``: a rectangle partly hidden by 2 (its amodal mask is the whole rectangle);
- 2 ``mug``: a rectangle;
- 3 ``torus``: a ring (a mask with a hole);
- 4 ``mug``: two disconnected blobs;
- 5 ``box``: at the bottom-right corner, truncated (amodal pixels outside the image);
- 6 ``box``: one pixel;
- 7 ``torus``: a diagonal chain of pixels touching only at corners.

Image 2 holds 300 instances (ids > 255) in a grid of 2 x 2 squares. Image 3 has no object.
With ``extras=True`` every optional synthscene field is filled (amodal masks, 6D pose,
keypoints, depth / semantic / instance PNGs, stuff categories, models).
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
from pycocotools import mask as mask_utils

W, H = 64, 48
CATEGORIES = ["box", "mug", "torus"]
STUFF = [{"id": 4, "name": "ground", "isthing": 0}, {"id": 5, "name": "background", "isthing": 0}]
KEYPOINT_NAMES = [f"corner_{i}" for i in range(8)] + ["centre"]
SKELETON = [[1, 2], [2, 4], [4, 3], [3, 1], [5, 6], [6, 8], [8, 7], [7, 5],
            [1, 5], [2, 6], [3, 7], [4, 8]]
GRID_INSTANCES = 300


def rle(mask: np.ndarray) -> dict:
    encoded = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    return {"size": [int(v) for v in encoded["size"]], "counts": encoded["counts"].decode()}


def frame_one() -> tuple[np.ndarray, dict[int, str], dict[int, np.ndarray], dict[int, int]]:
    """Instance ids, categories, amodal masks (in the image) and pixels outside the image."""
    ids = np.zeros((H, W), np.int32)
    amodal = {}
    box1 = np.zeros((H, W), bool)
    box1[2:12, 3:19] = True
    amodal[1] = box1
    ids[box1] = 1
    ids[5:15, 15:25] = 2  # hides the right part of 1
    amodal[2] = ids == 2
    ring = np.zeros((H, W), bool)
    ring[20:36, 5:21] = True
    ring[25:31, 10:16] = False
    ids[ring] = 3
    ids[20:25, 30:37] = 4
    ids[30:37, 40:48] = 4
    ids[40:48, 55:64] = 5
    ids[2, 40] = 6
    for r in range(10, 18):
        ids[r, 35 + r] = 7
    for k in (3, 4, 5, 6, 7):
        amodal[k] = ids == k
    categories = {1: "box", 2: "mug", 3: "torus", 4: "mug", 5: "box", 6: "box", 7: "torus"}
    outside = {5: 15 * 12 - 8 * 9}  # the amodal box [55, 40, 15, 12] is 180 px, 72 inside
    return ids, categories, amodal, outside


def frame_grid() -> tuple[np.ndarray, dict[int, str]]:
    ids = np.zeros((H, W), np.int32)
    categories = {}
    for k in range(GRID_INSTANCES):
        row, col = divmod(k, 20)
        ids[3 * row:3 * row + 2, 3 * col:3 * col + 2] = k + 1
        categories[k + 1] = CATEGORIES[k % 3]
    return ids, categories


def build_dataset(root: Path, *, extras: bool = True, seed: int = 5) -> dict:
    """Write ``root/images/*.png`` and ``root/annotations.json``; return the JSON as a dict.

    The returned dict also has ``"_ids"``: {image id: (H, W) instance-id array}.
    """
    rng = np.random.Generator(np.random.PCG64(seed))
    (root / "images").mkdir(parents=True, exist_ok=True)
    if extras:
        for sub in ("depth", "semantic", "instances"):
            (root / sub).mkdir(exist_ok=True)
    ids1, cats1, amodal1, outside1 = frame_one()
    ids2, cats2 = frame_grid()
    frames = [(ids1, cats1, amodal1, outside1), (ids2, cats2, None, {}),
              (np.zeros((H, W), np.int32), {}, None, {})]
    category_id = {name: i + 1 for i, name in enumerate(CATEGORIES)}
    images, annotations = [], []
    for index, (ids, cats, amodal, outside) in enumerate(frames):
        image_id = index + 1
        name = f"{image_id:06d}.png"
        rgb = rng.integers(0, 256, size=(H, W, 3), dtype=np.uint8)
        cv2.imwrite(str(root / "images" / name), rgb[:, :, ::-1])
        entry = {"id": image_id, "file_name": name, "width": W, "height": H}
        if extras:
            pose = np.eye(4)
            pose[:3, :3] = [[0.0, -1.0, 0.0], [-1.0, 0.0, 0.0], [0.0, 0.0, -1.0]]
            pose[:3, 3] = [0.1, 0.2, 1.5]
            entry["K"] = [[80.0, 0.0, (W - 1) / 2], [0.0, 80.0, (H - 1) / 2], [0.0, 0.0, 1.0]]
            entry["world_from_camera"] = pose.tolist()
            depth = np.zeros((H, W), np.uint16)
            depth[H // 2:] = 1500
            depth[ids > 0] = 1000
            semantic = np.where(np.arange(H)[:, None] >= H // 2, 4, 5).astype(np.uint16)
            semantic = np.broadcast_to(semantic, (H, W)).copy()
            for instance_id, category in cats.items():
                semantic[ids == instance_id] = category_id[category]
            cv2.imwrite(str(root / "depth" / name), depth)
            cv2.imwrite(str(root / "semantic" / name), semantic)
            cv2.imwrite(str(root / "instances" / name), ids.astype(np.uint16))
            entry.update(depth_file=f"depth/{name}", semantic_file=f"semantic/{name}",
                         instance_mask_file=f"instances/{name}")
        images.append(entry)
        for instance_id in sorted(cats):
            mask = ids == instance_id
            encoded = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
            ann = {
                "id": len(annotations) + 1, "image_id": image_id,
                "category_id": category_id[cats[instance_id]],
                "bbox": [float(v) for v in mask_utils.toBbox(encoded)],
                "area": int(mask_utils.area(encoded)), "iscrowd": 0,
                "segmentation": rle(mask), "scene_instance_id": instance_id,
            }
            if extras:
                full = amodal[instance_id] if amodal is not None else mask
                full_rle = mask_utils.encode(np.asfortranarray(full.astype(np.uint8)))
                amodal_area = int(mask_utils.area(full_rle)) + outside.get(instance_id, 0)
                amodal_bbox = [float(v) for v in mask_utils.toBbox(full_rle)]
                if instance_id in outside:
                    amodal_bbox = [55.0, 40.0, 15.0, 12.0]
                x, y, w, h = ann["bbox"]
                corners = [[x, y], [x + w, y], [x, y + h], [x + w, y + h]] * 2 + [
                    [x + w / 2, y + h / 2]]
                keypoints = []
                for k, (px, py) in enumerate(corners):
                    keypoints += [px, py, 2 if k % 3 else 1]
                ann.update(
                    amodal_bbox=amodal_bbox, amodal_area=amodal_area,
                    visib_fract=ann["area"] / amodal_area,
                    truncation=outside.get(instance_id, 0) / amodal_area,
                    amodal_segmentation=rle(full),
                    cam_R_m2c=[1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0],
                    cam_t_m2c=[10.0 * instance_id, -5.0, 1000.0],
                    world_from_object=np.eye(4).tolist(),
                    keypoints=keypoints, num_keypoints=sum(1 for v in keypoints[2::3] if v),
                )
            annotations.append(ann)
    categories = [{"id": category_id[name], "name": name, "supercategory": "object"}
                  for name in CATEGORIES]
    if extras:
        for cat in categories:
            cat.update(keypoints=KEYPOINT_NAMES, skeleton=SKELETON)
    data = {"info": {"description": "synthetic test dataset"}, "licenses": [],
            "images": images, "annotations": annotations, "categories": categories}
    if extras:
        data["stuff_categories"] = STUFF
        data["models"] = [{"category_id": category_id[name], "asset": name,
                           "diameter_mm": 173.2, "min_x": -50.0, "min_y": -50.0,
                           "min_z": -50.0, "size_x": 100.0, "size_y": 100.0, "size_z": 100.0}
                          for name in CATEGORIES]
    write_json(root, data)
    return {**data, "_ids": {1: ids1, 2: ids2, 3: frames[2][0]}}


def write_json(root: Path, data: dict) -> None:
    clean = {k: v for k, v in data.items() if not k.startswith("_")}
    (root / "annotations.json").write_text(json.dumps(clean))


def read_json(root: Path) -> dict:
    return json.loads((root / "annotations.json").read_text())


# ---------------------------------------------------------------------------- every mask format
def uncompressed_rle(mask: np.ndarray) -> dict:
    """COCO uncompressed RLE (``counts`` a list of run lengths, column-major, 0s first)."""
    flat = mask.astype(np.uint8).ravel(order="F")
    edges = np.flatnonzero(np.diff(flat)) + 1
    bounds = np.concatenate([[0], edges, [flat.size]])
    runs = np.diff(bounds).tolist()
    if flat[0]:
        runs = [0] + runs
    return {"size": [int(v) for v in mask.shape], "counts": [int(v) for v in runs]}


HOLED_POLYGON = [30.5, 2.5, 45.5, 2.5, 45.5, 17.5, 30.5, 17.5, 30.5, 7.5, 35.5, 7.5,
                 35.5, 12.5, 40.5, 12.5, 40.5, 7.5, 30.5, 7.5]
"""A square with a square hole, one polygon joined by a zero-width bridge along y = 7.5."""

TWO_PART_POLYGON = [[5.2, 25.3, 15.7, 25.3, 15.7, 33.9, 5.2, 33.9],
                    [20.1, 30.4, 28.8, 30.4, 24.5, 40.6]]
"""Two parts: a rectangle and a triangle, vertices off the pixel grid."""


def build_mixed_dataset(root: Path) -> dict:
    """A valid COCO set with every segmentation format, written to ``root``.

    Image 1 (64 x 48): a compressed RLE rectangle, an uncompressed RLE L-shape, a polygon with
    a hole, a polygon in two parts, and a crowd region (uncompressed RLE) that overlaps the
    L-shape (allowed: crowd regions are not visible instances). Image 2: two RLE masks.
    Image 3: no annotation. RLE labels are pycocotools' ``toBbox`` and ``area``; polygon labels
    follow COCO 2017: ``bbox`` the vertex extent (floats), ``area`` pycocotools' pixel count of
    the rasterized polygons.
    """
    (root / "images").mkdir(parents=True, exist_ok=True)
    rng = np.random.Generator(np.random.PCG64(8))
    rect = np.zeros((H, W), bool)
    rect[2:10, 3:15] = True
    ell = np.zeros((H, W), bool)
    ell[2:12, 20:24] = True
    ell[8:12, 24:28] = True
    crowd = np.zeros((H, W), bool)
    crowd[10:20, 18:30] = True
    second = [np.zeros((H, W), bool), np.zeros((H, W), bool)]
    second[0][5:20, 5:9] = True
    second[1][30:33, 40:60] = True
    annotations = []

    def add(image_id: int, category: int, segmentation, *, iscrowd: int = 0,
            polygon: bool = False) -> None:
        if polygon:
            encoded = mask_utils.merge(mask_utils.frPyObjects(segmentation, H, W))
            points = np.concatenate([np.reshape(p, (-1, 2)) for p in segmentation])
            low, high = points.min(axis=0), points.max(axis=0)
            bbox = [float(low[0]), float(low[1]), float(high[0] - low[0]),
                    float(high[1] - low[1])]
        else:
            encoded = mask_utils.frPyObjects(segmentation, H, W) \
                if isinstance(segmentation["counts"], list) else \
                {"size": segmentation["size"], "counts": segmentation["counts"].encode()}
            bbox = [float(v) for v in mask_utils.toBbox(encoded)]
        annotations.append({"id": len(annotations) + 1, "image_id": image_id,
                            "category_id": category, "bbox": bbox,
                            "area": int(mask_utils.area(encoded)), "iscrowd": iscrowd,
                            "segmentation": segmentation})

    add(1, 1, rle(rect))
    add(1, 2, uncompressed_rle(ell))
    add(1, 3, [HOLED_POLYGON], polygon=True)
    add(1, 1, TWO_PART_POLYGON, polygon=True)
    add(1, 2, uncompressed_rle(crowd), iscrowd=1)
    add(2, 1, rle(second[0]))
    add(2, 3, rle(second[1]))
    images = []
    for image_id in (1, 2, 3):
        name = f"{image_id:06d}.png"
        cv2.imwrite(str(root / "images" / name), rng.integers(0, 256, (H, W, 3), np.uint8))
        images.append({"id": image_id, "file_name": name, "width": W, "height": H})
    data = {"info": {"description": "every mask format"}, "images": images,
            "annotations": annotations,
            "categories": [{"id": k + 1, "name": n} for k, n in enumerate(CATEGORIES)]}
    write_json(root, data)
    return data
