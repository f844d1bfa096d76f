"""``synthscene visualize``: draw a dataset's labels over its images, to look at them.

Each overlay shows, for every annotation of the image: its mask filled semi-transparently and
outlined in the annotation's colour, its ``bbox`` as a rectangle, its category name above the
box, and, if present, its ``keypoints`` (filled dot: visible, v = 2; ring: occluded, v = 1;
points outside the image, v = 0, are not drawn) joined by the category's ``skeleton``.
Colours are fixed per annotation position in the image (golden-ratio hues), so the same dataset
always gives the same files. At most :data:`MAX_DRAWN_ANNOTATIONS` annotations of an image are
drawn (the first by ``id``), with a warning naming the image, so that time and memory stay
bounded whatever an image holds.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import cv2
import numpy as np

from synthscene.errors import OutputError
from synthscene.io.reader import CocoDataset, load_dataset

__all__ = ["MASK_ALPHA", "MAX_DRAWN_ANNOTATIONS", "draw_annotations", "overlay_name",
           "visualize_dataset"]

logger = logging.getLogger(__name__)

MASK_ALPHA = 0.45
"""Opacity of the mask fill."""

MAX_DRAWN_ANNOTATIONS = 1000
"""Annotations drawn per image at most (the first by ``id``): beyond it an overlay shows
nothing more that can be seen, and each one costs a decoded mask of the image's size."""

_GOLDEN = 0.618033988749895


def _colour(index: int) -> tuple[int, int, int]:
    """A bright RGB colour for the ``index``-th annotation of an image."""
    hue = int(180 * ((index * _GOLDEN) % 1.0))
    hsv = np.array([[[hue, 200, 255]]], dtype=np.uint8)
    r, g, b = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)[0, 0]
    return int(r), int(g), int(b)


def overlay_name(file_name: str) -> str:
    """File name of an image's overlay: ``"a/b/000001.jpg"`` -> ``"a_b_000001.png"``."""
    return str(Path(file_name).with_suffix(".png")).replace("/", "_").replace("\\", "_")


def draw_annotations(dataset: CocoDataset, image: dict) -> np.ndarray:
    """Draw the labels of one image over it.

    Parameters
    ----------
    dataset : CocoDataset
    image : dict
        One of ``dataset.images``.

    Returns
    -------
    (H, W, 3) uint8
        RGB overlay of the first :data:`MAX_DRAWN_ANNOTATIONS` annotations by ``id`` (a warning
        is logged if the image has more).

    Raises
    ------
    synthscene.errors.AssetError
        If the image file is missing or has the wrong size.
    synthscene.errors.DatasetError
        If a segmentation cannot be decoded.
    """
    rgb = dataset.read_rgb(image)
    count = dataset.annotation_count(image)
    if count > MAX_DRAWN_ANNOTATIONS:
        logger.warning("%s: %s has %d annotations; drawing the first %d by id",
                       dataset.annotations_path, dataset.where(image), count,
                       MAX_DRAWN_ANNOTATIONS)

    def items() -> Iterator[OverlayItem]:  # one decoded mask at a time
        for ann in dataset.annotations_of(image, limit=MAX_DRAWN_ANNOTATIONS):
            category = dataset.category_by_id.get(ann["category_id"], {})
            yield OverlayItem(
                mask=dataset.mask(ann, image), bbox=tuple(float(v) for v in ann["bbox"]),
                name=str(category.get("name", ann["category_id"])),
                keypoints=ann.get("keypoints"), skeleton=category.get("skeleton", []),
            )

    return draw_overlay(rgb, items())


@dataclass(frozen=True, eq=False)
class OverlayItem:
    """One labelled instance to draw.

    Attributes
    ----------
    mask : (H, W) bool or None
        None once drawn.
    bbox : (4,) tuple of float
        COCO ``[x, y, width, height]`` in pixels.
    name : str
        Class name written at the box.
    keypoints : list of float or None
        COCO ``[x1, y1, v1, ...]``.
    skeleton : list of (int, int)
        1-based keypoint pairs to join.
    """

    mask: np.ndarray | None
    bbox: tuple[float, float, float, float]
    name: str
    keypoints: list[float] | None = None
    skeleton: list = field(default_factory=list)


def draw_overlay(rgb: np.ndarray, items: Iterable[OverlayItem]) -> np.ndarray:
    """Draw semi-transparent masks, their outlines, boxes, class names and keypoints.

    Parameters
    ----------
    rgb : (H, W, 3) uint8
    items : iterable of OverlayItem
        Read once; each mask is dropped once filled and outlined, so a generator keeps one
        mask in memory at a time.

    Returns
    -------
    (H, W, 3) uint8
        A new RGB image.
    """
    fill = rgb.copy()
    outlined = []
    for k, item in enumerate(items):
        colour = _colour(k)
        fill[item.mask] = colour
        contours, _ = cv2.findContours(item.mask.astype(np.uint8), cv2.RETR_CCOMP,
                                       cv2.CHAIN_APPROX_SIMPLE)
        outlined.append((replace(item, mask=None), colour, contours))  # drop the mask
    canvas = cv2.addWeighted(rgb, 1.0 - MASK_ALPHA, fill, MASK_ALPHA, 0.0)
    height, width = rgb.shape[:2]
    scale = max(0.35, min(width, height) / 900.0)
    thickness = 1 if scale < 0.7 else 2
    for item, colour, contours in outlined:
        cv2.drawContours(canvas, contours, -1, colour, 1, cv2.LINE_8)
        x, y, w, h = item.bbox
        top_left = (int(round(x)), int(round(y)))
        bottom_right = (int(round(x + w)) - 1, int(round(y + h)) - 1)
        cv2.rectangle(canvas, top_left, bottom_right, colour, thickness, cv2.LINE_8)
        _label(canvas, item.name, top_left, colour, scale)
        if item.keypoints is not None:
            _keypoints(canvas, item.keypoints, item.skeleton, colour)
    return canvas


def _label(canvas: np.ndarray, text: str, corner: tuple[int, int],
           colour: tuple[int, int, int], scale: float) -> None:
    """Write ``text`` on a filled box just above ``corner`` (below it at the top edge)."""
    font = cv2.FONT_HERSHEY_SIMPLEX
    (tw, th), base = cv2.getTextSize(text, font, scale, 1)
    x, y = corner
    y = y - th - base - 2 if y - th - base - 2 >= 0 else y + 1
    cv2.rectangle(canvas, (x, y), (x + tw + 2, y + th + base + 2), colour, cv2.FILLED)
    luminance = 0.299 * colour[0] + 0.587 * colour[1] + 0.114 * colour[2]
    ink = (0, 0, 0) if luminance > 140 else (255, 255, 255)
    cv2.putText(canvas, text, (x + 1, y + th + 1), font, scale, ink, 1, cv2.LINE_AA)


def _keypoints(canvas: np.ndarray, keypoints: list[float], skeleton: list[list[int]],
               colour: tuple[int, int, int]) -> None:
    """Draw COCO keypoints ``[x1, y1, v1, ...]`` and the 1-based ``skeleton`` edges."""
    points = np.asarray(keypoints, dtype=np.float64).reshape(-1, 3)
    for i, j in skeleton:
        if 1 <= i <= len(points) and 1 <= j <= len(points) \
                and points[i - 1, 2] > 0 and points[j - 1, 2] > 0:
            a = tuple(int(round(v)) for v in points[i - 1, :2])
            b = tuple(int(round(v)) for v in points[j - 1, :2])
            cv2.line(canvas, a, b, colour, 1, cv2.LINE_AA)
    for x, y, v in points:
        if v <= 0:
            continue
        centre = (int(round(x)), int(round(y)))
        cv2.circle(canvas, centre, 3, colour, cv2.FILLED if v >= 2 else 1, cv2.LINE_AA)
        cv2.circle(canvas, centre, 4, (0, 0, 0), 1, cv2.LINE_AA)


def visualize_dataset(dataset_dir: str | Path, out_dir: str | Path, *, limit: int = 16,
                      image_dir: str | Path | None = None) -> list[Path]:
    """Write overlays of the first ``limit`` images (by id) of a dataset.

    The annotation file is streamed: only those images and their annotations are kept in
    memory (:func:`~synthscene.io.reader.load_dataset` with ``limit``).

    Parameters
    ----------
    dataset_dir : str or pathlib.Path
        Dataset folder or COCO JSON file.
    out_dir : str or pathlib.Path
        Folder for the overlays (created); each is a PNG named by :func:`overlay_name`.
    limit : int
        How many images to draw (>= 0); all if the dataset has fewer.
    image_dir : str or pathlib.Path, optional
        Source image folder, if not the default.

    Returns
    -------
    list of pathlib.Path
        The files written, in image-id order.

    Raises
    ------
    ValueError
        If ``limit`` is negative.
    synthscene.errors.DatasetError, synthscene.errors.AssetError
        If the dataset is malformed, a ``file_name`` leads outside the image folder, or an
        image is missing.
    synthscene.errors.OutputError
        If ``out_dir`` cannot be written.
    """
    if limit < 0:
        raise ValueError(f"limit must be >= 0, got {limit}")
    dataset = load_dataset(dataset_dir, image_dir=image_dir, limit=limit)
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{out}: cannot create the folder ({exc.strerror or exc})") from None
    written = []
    for image in dataset.images[:limit]:
        canvas = draw_annotations(dataset, image)
        path = out / overlay_name(image["file_name"])
        ok, encoded = cv2.imencode(".png", np.ascontiguousarray(canvas[:, :, ::-1]))
        try:
            if not ok:
                raise OSError("PNG encoding failed")
            path.write_bytes(encoded.tobytes())
        except OSError as exc:
            raise OutputError(f"{path}: cannot be written ({exc.strerror or exc})") from None
        written.append(path)
    logger.info("wrote %d overlays to %s", len(written), out)
    return written
