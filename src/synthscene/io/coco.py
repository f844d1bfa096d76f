"""COCO "instances" dataset writing: per-frame records, PNGs, and the merge into one JSON file.

Layout of a finished dataset folder ``OUT``::

    OUT/images/000001.png      RGB PNG of frame 0 (image id 1), 000002.png of frame 1, ...
    OUT/annotations.json       written last, atomically

COCO's ``file_name`` is relative to the image folder, so an image entry says
``"file_name": "000001.png"`` and a loader reads ``OUT/images/<file_name>``
(``pycocotools.coco.COCO("OUT/annotations.json")`` with ``image_dir = "OUT/images"``).

The writing is split in three steps, so that frames can be made by many processes and merged by
one (:mod:`synthscene.run.pipeline`):

1. :func:`frame_record` formats one frame: its COCO image entry and its annotations *without*
   annotation ids (ids depend on every earlier frame, so only the merge can give them), and
   :func:`encode_frame` encodes its annotations as JSON once, where the frame is made.
2. :func:`encode_png` and :func:`write_png` save its image (atomically).
3. :func:`write_dataset` merges the encoded frames, in frame order, into ``annotations.json``:
   image id = frame index + 1, annotation ids 1, 2, ... in (frame, ``instance_id``) order. It
   streams, so memory stays flat for a million frames, and puts each id in front of its
   annotation's JSON text without parsing or formatting any number again.

:mod:`synthscene.run.worker` does steps 1 and 2 in every worker and
:class:`synthscene.run.run_folder.RunFolder` step 3: the one write path of a dataset. A folder with
``annotations.json`` is complete; a folder without one is unfinished. The files hold no date or
time, so the same frames give byte-identical files whatever order or process made them.

This module only formats: masks, boxes and areas come from
:func:`synthscene.labels.annotate.annotate`.
It never imports a rendering or physics backend.
"""

from __future__ import annotations

import json
import logging
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import cv2
import numpy as np

from synthscene.core.state import Sample
from synthscene.errors import OutputError
from synthscene.io.fileio import write_atomic, write_atomic_stream
from synthscene.io.keypoints import KEYPOINT_NAMES, KEYPOINT_SKELETON
from synthscene.io.layout import IMAGE_FORMATS, image_file_name
from synthscene.io.maps import png_bytes
from synthscene.version import __version__

__all__ = [
    "KEYPOINT_SIGMA", "EncodedFrame", "encode_annotation", "encode_frame", "encode_image",
    "encode_png", "frame_record", "track_id", "write_dataset", "write_png",
]

logger = logging.getLogger(__name__)

KEYPOINT_SIGMA = 0.05
"""The COCO OKS sigma of each of the 9 box keypoints, written as the categories'
``keypoint_sigmas`` (a synthscene extension) for ``COCOeval``'s ``params.kpt_oks_sigmas``.

COCO's 17 body sigmas (0.025 for the eyes and nose to 0.107 for the hips) are the spread of
human clicks relative to the object's scale ``sqrt(area)``. Our keypoints are exact projections,
so the sigma sets only how strict the metric is: the corners of a 3D box are well-defined
points, yet about half of them are hidden and many lie off the object's surface, so they are
inferred, not seen, as a hip is and an eye is not. One value for all, as no corner is special:
0.05, between COCO's ears (0.035) and wrists (0.062). Then a keypoint ``d`` pixels off scores
``exp(-d**2 / (2 * area * (2 * 0.05)**2))``: 0.5 at ``d = 0.118 sqrt(area)`` and 0.95 at
``d = 0.032 sqrt(area)``."""

ANNOTATION_EXTRAS = (
    "amodal_bbox", "amodal_area", "amodal_segmentation", "visib_fract", "truncation",
    "cam_R_m2c", "cam_t_m2c", "world_from_object", "object_scale_m", "keypoints",
    "num_keypoints",
)
"""Optional :class:`~synthscene.core.state.InstanceLabel` fields copied into an annotation when
set."""

@dataclass(frozen=True)
class EncodedFrame:
    """A frame as :func:`write_dataset` merges it.

    Attributes
    ----------
    image : mapping
        The frame's COCO image entry (``frame_record(...)["image"]``).
    annotations : sequence of bytes
        Its annotations, each :func:`encode_annotation` of one ``frame_record`` annotation.
    """

    image: Mapping[str, Any]
    annotations: Sequence[bytes]


def encode_annotation(annotation: Mapping[str, Any]) -> bytes:
    """Compact JSON (UTF-8) of one annotation without its id, as it will appear in
    ``annotations.json`` after its ``"id"``: ``{"image_id":1,"category_id":3,...}``.

    Raises
    ------
    ValueError
        If it holds a NaN or infinite number (not JSON), or nothing (an annotation has
        ``image_id`` at least).
    """
    if not annotation:
        raise ValueError("an annotation needs at least an image_id")
    return _dumps(annotation)


def encode_frame(record: Mapping[str, Any]) -> EncodedFrame:
    """:class:`EncodedFrame` of a :func:`frame_record` result (see :func:`encode_annotation`)."""
    return EncodedFrame(record["image"], [encode_annotation(a) for a in record["annotations"]])


def frame_record(sample: Sample, category_ids: Mapping[str, int], *,
                 image_format: str = "png") -> dict[str, Any]:
    """Format one frame as its COCO image entry and its annotations, without annotation ids.

    Parameters
    ----------
    sample : Sample
        ``render.rgb : (H, W, 3) uint8`` gives the size; ``labels`` (from
        :func:`synthscene.labels.annotate.annotate`) the annotations; ``state.camera`` the camera
        fields.
    category_ids : mapping of str to int
        COCO category id of each category name.
    image_format : {"png", "jpg"}
        The suffix of ``file_name``.

    Returns
    -------
    dict
        JSON-ready ``{"image": entry, "annotations": [...]}``. ``entry`` holds ``id`` (``frame_index
        + 1``), ``file_name``, ``width``, ``height``, ``K`` (3x3, pixels), ``world_from_camera``
        (4x4, metres, OpenCV camera frame), ``seed`` and ``physics_steps``; for a camera with a
        lens, ``distortion_model`` and ``dist_coeffs`` (OpenCV's order,
        :class:`synthscene.core.lens.Lens`; ``K`` is the distorted camera's); for a run of several
        views per scene, ``scene_id`` and ``view_id`` (``state.view``); for a run of sequences,
        ``sequence_id``, ``frame_index`` and ``fps`` (``state.sequence``), and each annotation's
        ``track_id`` (:func:`track_id`); for an eye of a stereo pair, ``stereo_pair_id``,
        ``eye`` (``"left"`` or ``"right"``) and ``baseline_m`` (``state.stereo``). Each
        annotation holds ``image_id``, ``category_id``,
        ``bbox`` ``[x, y, width, height]`` (pixels, floats), ``area`` (int), ``iscrowd`` 0,
        ``segmentation`` (compressed RLE, ``counts`` a str) and ``scene_instance_id`` (the label's
        ``instance_id``; not named ``instance_id``, a read-only property of FiftyOne's ``Detection``
        and ``Keypoint`` that its COCO importer cannot set); they are in increasing ``instance_id``
        order.

    Raises
    ------
    ValueError
        If the frame index is negative, the image is not ``(H, W, 3) uint8``, a label's category
        is not in ``category_ids``, or a label's mask size is not ``[H, W]``.
    """
    frame_index = int(sample.frame_index)
    if frame_index < 0:
        raise ValueError(f"frame_index must be >= 0, got {frame_index}")
    image_id = frame_index + 1
    rgb = sample.render.rgb
    _require_rgb(rgb, "render.rgb")
    height, width = int(rgb.shape[0]), int(rgb.shape[1])

    annotations = []
    for label in sorted(sample.labels, key=lambda lab: lab.instance_id):
        category_id = category_ids.get(label.category)
        if category_id is None:
            raise ValueError(
                f"frame {frame_index}: instance {label.instance_id} has category "
                f"{label.category!r}, which is not one of {sorted(category_ids)}"
            )
        size = [int(v) for v in label.segmentation["size"]]
        if size != [height, width]:
            raise ValueError(
                f"frame {frame_index}: instance {label.instance_id} has a mask of size "
                f"{size}, but the image is [H, W] = {[height, width]}"
            )
        counts = label.segmentation["counts"]
        if isinstance(counts, bytes):
            counts = counts.decode("ascii")
        annotations.append(
            {
                "image_id": image_id,
                "category_id": int(category_id),
                "bbox": [float(v) for v in label.bbox],
                "area": int(label.area),
                "iscrowd": 0,
                "segmentation": {"size": size, "counts": counts},
                "scene_instance_id": int(label.instance_id),
                **{name: _json_ready(getattr(label, name)) for name in ANNOTATION_EXTRAS
                   if getattr(label, name) is not None},
                **({} if sample.state.sequence is None else
                   {"track_id": track_id(sample.state.sequence.sequence_id,
                                         label.instance_id)}),
            }
        )

    state = sample.state
    camera = state.camera
    entry = {
        "id": image_id,
        "file_name": image_file_name(frame_index, image_format),
        "width": width,
        "height": height,
        "K": _nested_floats(camera.K, (3, 3), "camera.K"),
        "world_from_camera": _nested_floats(
            camera.world_from_camera, (4, 4), "camera.world_from_camera"
        ),
        "seed": [int(v) for v in state.seed],
        "physics_steps": int(state.physics_steps),
    }
    if camera.lens is not None:
        entry["distortion_model"] = camera.lens.model
        entry["dist_coeffs"] = [float(c) for c in camera.lens.coeffs]
    if state.view is not None:
        entry["scene_id"], entry["view_id"] = (int(v) for v in state.view)
    if state.sequence is not None:
        entry["sequence_id"] = int(state.sequence.sequence_id)
        entry["frame_index"] = int(state.sequence.frame_index)
        entry["fps"] = float(state.sequence.fps)
    if state.stereo is not None:
        entry["stereo_pair_id"] = int(state.stereo.pair_id)
        entry["eye"] = str(state.stereo.eye)
        entry["baseline_m"] = float(state.stereo.baseline_m)
    return {"image": entry, "annotations": annotations}


TRACK_STRIDE = 100_000
"""Track ids of sequence ``s`` are ``s * TRACK_STRIDE + instance_id`` (instance ids stay below
it): stable over a sequence and unique in the dataset."""


def track_id(sequence_id: int, instance_id: int) -> int:
    """The dataset-wide track id of an object of a sequence (see :data:`TRACK_STRIDE`)."""
    return int(sequence_id) * TRACK_STRIDE + int(instance_id)


def category_ids(categories: Sequence[str]) -> dict[str, int]:
    """COCO category id of each category name: its position in ``categories`` (a library's
    sorted, unique category list), counted from 1. Ids are therefore stable across runs and
    never 0 (COCO reserves 0 for the background in panoptic and semantic maps).

    Parameters
    ----------
    categories : sequence of str

    Returns
    -------
    dict of str to int
    """
    return {str(name): i for i, name in enumerate(categories, start=1)}


def encode_png(rgb: np.ndarray, compression: int) -> bytes:
    """Encode an RGB image as PNG bytes (lossless, 8-bit RGB).

    Parameters
    ----------
    rgb : (H, W, 3) uint8
    compression : int
        zlib level 0-9 (OpenCV's ``IMWRITE_PNG_COMPRESSION``); 1 is fast.

    Returns
    -------
    bytes

    Raises
    ------
    ValueError
        If ``rgb`` is not ``(H, W, 3) uint8`` or ``compression`` is not in 0-9.
    """
    _require_rgb(rgb)
    return png_bytes(rgb, compression)


def _require_rgb(rgb: np.ndarray, name: str = "rgb") -> None:
    """Raise ValueError unless ``rgb`` is (H, W, 3) uint8."""
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(
            f"{name} must be (H, W, 3) uint8, got shape {rgb.shape} dtype {rgb.dtype}"
        )


def encode_image(rgb: np.ndarray, image_format: str, *, png_compression: int = 1,
                 jpeg_quality: int = 95) -> bytes:
    """Encode an RGB image in ``image_format``.

    Parameters
    ----------
    rgb : (H, W, 3) uint8
    image_format : {"png", "jpg"}
        ``png``: :func:`encode_png` (lossless). ``jpg``: OpenCV's libjpeg(-turbo) baseline
        encoder at ``jpeg_quality`` (``IMWRITE_JPEG_QUALITY``), 4:2:0 chroma; the same pixels
        give the same bytes.
    png_compression : int
        zlib level 0-9, for ``png``.
    jpeg_quality : int
        1-100, for ``jpg``.

    Returns
    -------
    bytes

    Raises
    ------
    ValueError
        If ``rgb`` is not ``(H, W, 3) uint8``, the format is unknown, or a level is out of
        range.
    """
    if image_format == "png":
        return encode_png(rgb, png_compression)
    if image_format != "jpg":
        raise ValueError(f"image_format must be one of {IMAGE_FORMATS}, got {image_format!r}")
    _require_rgb(rgb)
    if not 1 <= int(jpeg_quality) <= 100:
        raise ValueError(f"jpeg_quality must be in 1-100, got {jpeg_quality}")
    ok, encoded = cv2.imencode(".jpg", np.ascontiguousarray(rgb[:, :, ::-1]),
                               [cv2.IMWRITE_JPEG_QUALITY, int(jpeg_quality)])
    if not ok:  # pragma: no cover - OpenCV fails only on impossible input
        raise ValueError("OpenCV could not encode the image as JPEG")
    return encoded.tobytes()


def write_png(path: Path, png: bytes) -> None:
    """Write an encoded image (PNG or JPEG bytes) to ``path`` atomically (temporary file +
    ``os.replace``).

    Raises
    ------
    synthscene.errors.OutputError
        If the file cannot be written (no space left, read-only folder, ...).
    """
    try:
        write_atomic(path, png)
    except OutputError as exc:
        raise OutputError(f"cannot write image {path}: {_reason(exc)}") from None


def write_dataset(
    path: Path,
    frames: Iterable[EncodedFrame],
    *,
    categories: Sequence[str],
    description: str = "synthscene dataset",
    keypoints: bool = False,
    stuff_categories: Sequence[Mapping[str, Any]] | None = None,
    models: Sequence[Mapping[str, Any]] | None = None,
) -> int:
    """Merge per-frame records into a COCO instances file, atomically and in flat memory.

    Parameters
    ----------
    path : pathlib.Path
        ``OUT/annotations.json``; written through a fsynced temporary file and renamed, so it
        appears complete or not at all.
    frames : iterable of EncodedFrame
        Every frame (:func:`encode_frame` of its :func:`frame_record`) in increasing image id
        order, read one at a time.
    categories : sequence of str
        Category names; ``categories[i]`` has id ``i + 1``.
    description : str
        ``info.description``.
    keypoints : bool
        Give every category COCO ``keypoints`` names, a ``skeleton`` and ``keypoint_sigmas``
        (:data:`KEYPOINT_SIGMA` for each keypoint: ``COCOeval``'s ``kpt_oks_sigmas``).
    stuff_categories : sequence of dict, optional
        Written as the top-level ``stuff_categories`` (the semantic masks' stuff ids).
    models : sequence of dict, optional
        Written as the top-level ``models`` (see :mod:`synthscene.labels.models_info`), when not
        empty.

    Returns
    -------
    int
        The number of annotations written.

    Raises
    ------
    ValueError
        If image ids are not strictly increasing.
    synthscene.errors.OutputError
        If the file cannot be written; no ``annotations.json`` is left then.

    Notes
    -----
    The bytes equal ``json.dumps(dataset, separators=(",", ":"))`` of the whole dataset dict
    (keys ``info``, ``licenses``, ``images``, ``annotations``, ``categories``; an annotation's
    ``id`` first); annotations are spooled to an unnamed temporary file while images are
    written, then appended.
    """
    info = {
        "description": str(description),
        "version": __version__,
        "contributor": "synthscene",
    }
    category_list = [
        {"id": category_id, "name": name, "supercategory": "object"}
        for name, category_id in category_ids(categories).items()
    ]
    if keypoints:
        for entry in category_list:
            entry["keypoints"] = list(KEYPOINT_NAMES)
            entry["skeleton"] = [list(edge) for edge in KEYPOINT_SKELETON]
            entry["keypoint_sigmas"] = [KEYPOINT_SIGMA] * len(KEYPOINT_NAMES)
    stuff = b""
    if stuff_categories is not None:
        stuff = b',"stuff_categories":' + _dumps([dict(s) for s in stuff_categories])
    if models:
        stuff += b',"models":' + _dumps([dict(m) for m in models])
    count = 0

    def fill(handle: BinaryIO) -> None:
        nonlocal count
        last_id = 0
        with tempfile.TemporaryFile(dir=path.parent) as spool:
            handle.write(b'{"info":' + _dumps(info) + b',"licenses":[],"images":[')
            for frame in frames:
                image = frame.image
                if image["id"] <= last_id:
                    raise ValueError(f"image ids must increase: {image['id']} after {last_id}")
                handle.write((b"," if last_id else b"") + _dumps(image))
                last_id = image["id"]
                for text in frame.annotations:  # b'{"image_id":...}' -> b'{"id":N,"image_id":...}'
                    count += 1
                    spool.write(b'%s{"id":%d,%s' % (b"," if count > 1 else b"", count, text[1:]))
            handle.write(b'],"annotations":[')
            spool.seek(0)
            while chunk := spool.read(1 << 20):
                handle.write(chunk)
            handle.write(b'],"categories":' + _dumps(category_list) + stuff + b"}")

    write_atomic_stream(path, fill, durable=True)
    logger.info("wrote %s (%d annotations)", path, count)
    return count


def _json_ready(value: Any) -> Any:
    """Tuples (nested) as lists, for json."""
    if isinstance(value, (tuple, list)):
        return [_json_ready(v) for v in value]
    return value


def _dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), allow_nan=False).encode("utf-8")


def _reason(exc: OutputError) -> str:
    """The system's reason at the end of an OutputError message from :mod:`synthscene.io.fileio`."""
    return str(exc).rsplit(": ", 1)[-1]


def _nested_floats(matrix: Any, shape: tuple[int, int], name: str) -> list[list[float]]:
    """Return ``matrix`` as nested lists of Python floats, checking its shape."""
    array = np.asarray(matrix, dtype=np.float64)
    if array.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {array.shape}")
    return array.tolist()
