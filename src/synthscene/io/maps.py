"""Per-image label maps and their file encodings: depth, surface normals, semantic and instance
masks. Pure numpy and OpenCV (no GL), so every encoding is tested on synthetic arrays.

Encodings (the ``outputs:`` section of a scenario says which are written):

=================  ==========================  ================================================
map                file                        encoding
=================  ==========================  ================================================
depth              16-bit PNG, 1 channel       millimetres along the optical axis (camera z),
                                               rounded; 0 = nothing hit; saturates at 65535
                                               (65.535 m). ``depth_mm = value * depth_scale``
                                               with ``depth_scale`` = :data:`DEPTH_SCALE_MM`
                                               = 1.0 (the BOP convention).
depth (float)      ``.npy``, (H, W) float32    metres along the optical axis; 0 = nothing hit.
normals            8-bit RGB PNG               camera-frame unit normal ``n`` (OpenCV axes: x
                                               right, y down, z forward) as
                                               ``round((n + 1) / 2 * 255)`` per channel (R = x,
                                               G = y, B = z); ``(0, 0, 0)`` = nothing hit.
                                               The normal is on the side facing the
                                               camera: ``dot(n, p) < 0`` for the
                                               camera-frame point ``p`` it belongs to.
semantic mask      16-bit PNG, 1 channel       COCO category id of each annotated object's
                                               visible pixels; stuff ids (after the thing ids,
                                               see :func:`stuff_categories`) for the ground and
                                               for the background; 0 (void) for pixels of
                                               objects that have no annotation (distractors,
                                               objects dropped by the label filters).
instance mask      16-bit PNG, 1 channel       the annotation's ``scene_instance_id`` on its
                                               visible pixels, 0 elsewhere (so it agrees with the
                                               annotations' RLE masks).
=================  ==========================  ================================================
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from synthscene.core.state import FrameMotion, InstanceLabel, PointTracks, RenderOutput
from synthscene.io.layout import MAP_FOLDERS, frame_stem, point_tracks_stem

__all__ = [
    "DEPTH_SCALE_MM", "DISPARITY_SCALE", "FLO_UNKNOWN", "STUFF_NAMES", "NpyFile",
    "decode_depth_png", "decode_disparity_png", "decode_normals_png", "encode_depth_png",
    "encode_disparity_png", "encode_frame_maps", "encode_normals_png",
    "flo_bytes", "instance_mask", "npy_bytes", "npz_bytes", "png_bytes", "read_png",
    "semantic_mask", "stuff_categories",
]

DEPTH_SCALE_MM = 1.0
"""Millimetres per unit of the depth PNG (BOP's ``depth_scale``)."""

DISPARITY_SCALE = 256.0
"""Units of the disparity PNG per pixel of disparity (KITTI's stereo PNG: ``d = value / 256``,
0 = no disparity)."""

STUFF_NAMES = ("ground", "background")
"""Stuff categories of the semantic mask: ``"ground"`` where the ground (or a wall) was hit,
``"background"`` where nothing was hit."""


_UINT16_MAX = np.iinfo(np.uint16).max


def encode_depth_png(depth_m: np.ndarray) -> np.ndarray:
    """Depth in metres to the 16-bit millimetre image of a depth PNG.

    Parameters
    ----------
    depth_m : (H, W) float
        Metres along the optical axis; 0 (or negative, or not finite) where nothing was hit.

    Returns
    -------
    (H, W) uint16
        ``round(depth_m * 1000)`` millimetres, saturated at 65535; 0 where nothing was hit.
        Divide by 1000 (times :data:`DEPTH_SCALE_MM`) to get metres back, within 0.5 mm.

    Raises
    ------
    ValueError
        If ``depth_m`` is not a 2-D array.
    """
    depth = np.asarray(depth_m)
    if depth.ndim != 2:
        raise ValueError(f"depth must be (H, W), got shape {depth.shape}")
    # float32 holds millimetres up to 65535 to within 0.004 mm: rounding is exact enough.
    mm = np.multiply(depth, np.float32(1000.0 / DEPTH_SCALE_MM), dtype=np.float32)
    mm[~((mm > 0) & (mm < np.inf))] = 0.0  # nothing hit: 0, negative, NaN or infinite
    np.minimum(mm, _UINT16_MAX, out=mm)
    np.rint(mm, out=mm)
    return mm.astype(np.uint16)


def _uint16_plane(image: np.ndarray, what: str) -> np.ndarray:
    """``image`` as an array, checked to be (H, W) uint16 (a 16-bit PNG's pixels).

    Raises
    ------
    ValueError
        Naming ``what``, if it is not.
    """
    image = np.asarray(image)
    if image.ndim != 2 or image.dtype != np.uint16:
        raise ValueError(f"{what} is (H, W) uint16, got shape {image.shape} dtype {image.dtype}")
    return image


def decode_depth_png(image: np.ndarray, depth_scale: float = DEPTH_SCALE_MM) -> np.ndarray:
    """The inverse of :func:`encode_depth_png`.

    Parameters
    ----------
    image : (H, W) uint16
        A depth PNG's pixels.
    depth_scale : float
        Millimetres per unit (the image entry's ``depth_scale``).

    Returns
    -------
    (H, W) float32
        Metres; 0 where nothing was hit.

    Raises
    ------
    ValueError
        If ``image`` is not a 2-D uint16 array.
    """
    image = _uint16_plane(image, "a depth PNG")
    return (image.astype(np.float64) * (float(depth_scale) / 1000.0)).astype(np.float32)


def encode_disparity_png(disparity_px: np.ndarray) -> np.ndarray:
    """Disparity in pixels to the 16-bit image of a disparity PNG (KITTI's fixed point).

    Parameters
    ----------
    disparity_px : (H, W) float
        Pixels; 0 (or negative, or not finite) where there is none.

    Returns
    -------
    (H, W) uint16
        ``round(disparity_px * 256)`` (:data:`DISPARITY_SCALE`); 0 where there is none and
        where the value does not fit (a disparity of 256 pixels or more, a point nearer than
        ``fx b / 256``): no reading rather than a wrong one. Divide by 256 to get pixels back,
        within 1/512 pixel.

    Raises
    ------
    ValueError
        If ``disparity_px`` is not a 2-D array.
    """
    disparity = np.asarray(disparity_px)
    if disparity.ndim != 2:
        raise ValueError(f"disparity must be (H, W), got shape {disparity.shape}")
    units = np.multiply(disparity, np.float32(DISPARITY_SCALE), dtype=np.float32)
    np.rint(units, out=units)
    units[~((units > 0) & (units <= _UINT16_MAX))] = 0.0  # none, NaN, or beyond 16 bits
    return units.astype(np.uint16)


def decode_disparity_png(image: np.ndarray) -> np.ndarray:
    """The inverse of :func:`encode_disparity_png`.

    Parameters
    ----------
    image : (H, W) uint16
        A disparity PNG's pixels.

    Returns
    -------
    (H, W) float32
        Pixels; 0 where there is none.

    Raises
    ------
    ValueError
        If ``image`` is not a 2-D uint16 array.
    """
    image = _uint16_plane(image, "a disparity PNG")
    return (image.astype(np.float32) / np.float32(DISPARITY_SCALE)).astype(np.float32)


def encode_normals_png(normals: np.ndarray) -> np.ndarray:
    """Camera-frame unit normals to the 8-bit RGB image of a normals PNG.

    Parameters
    ----------
    normals : (H, W, 3) float
        Unit normals in the OpenCV camera frame; ``(0, 0, 0)`` where nothing was hit.

    Returns
    -------
    (H, W, 3) uint8
        ``round((n + 1) / 2 * 255)`` per channel (R = x, G = y, B = z), ``(0, 0, 0)`` where
        nothing was hit. A channel's quantisation error is at most 1/255 in ``n``.

    Raises
    ------
    ValueError
        If ``normals`` is not (H, W, 3).
    """
    n = np.ascontiguousarray(normals, dtype=np.float32)
    if n.ndim != 3 or n.shape[2] != 3:
        raise ValueError(f"normals must be (H, W, 3), got shape {n.shape}")
    # OpenCV's saturating conversion rounds to nearest (ties to even, as numpy.rint does).
    encoded = cv2.convertScaleAbs(np.clip(n, -1.0, 1.0), alpha=127.5, beta=127.5)
    bits = n.view(np.uint32) & np.uint32(0x7FFFFFFF)  # +0.0 and -0.0 are both "no normal"
    encoded[(bits[..., 0] | bits[..., 1] | bits[..., 2]) == 0] = 0
    return encoded


def decode_normals_png(image: np.ndarray) -> np.ndarray:
    """The inverse of :func:`encode_normals_png`.

    Parameters
    ----------
    image : (H, W, 3) uint8
        RGB pixels of a normals PNG.

    Returns
    -------
    (H, W, 3) float32
        Unit normals (renormalised after dequantisation), ``(0, 0, 0)`` where nothing was hit.

    Raises
    ------
    ValueError
        If ``image`` is not (H, W, 3) uint8.
    """
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise ValueError(f"a normals PNG is (H, W, 3) uint8, got shape {image.shape} "
                         f"dtype {image.dtype}")
    n = image.astype(np.float32) / 127.5 - 1.0
    hit = np.any(image != 0, axis=2)
    length = np.linalg.norm(n, axis=2, keepdims=True)
    n = np.divide(n, length, out=np.zeros_like(n), where=length > 0)
    n[~hit] = 0.0
    return n


def stuff_categories(category_ids: Mapping[str, int]) -> list[dict]:
    """The stuff categories of the semantic mask, with ids after every thing category's.

    Parameters
    ----------
    category_ids : mapping of str to int
        COCO id (>= 1) of each thing category.

    Returns
    -------
    list of dict
        JSON-ready ``[{"id": N + 1, "name": "ground", "isthing": 0}, {"id": N + 2, "name":
        "background", "isthing": 0}]``, N the largest thing id (COCO panoptic's ``isthing``).
    """
    top = max((int(v) for v in category_ids.values()), default=0)
    return [{"id": top + 1 + i, "name": name, "isthing": 0} for i, name in enumerate(STUFF_NAMES)]


def semantic_mask(instance_ids: np.ndarray, depth: np.ndarray, labels: Iterable[InstanceLabel],
                  category_ids: Mapping[str, int]) -> np.ndarray:
    """Category id of every pixel.

    Parameters
    ----------
    instance_ids : (H, W) integer
        ``RenderOutput.instance_ids`` (0 = ground or nothing).
    depth : (H, W) float
        ``RenderOutput.depth`` in metres (0 = nothing hit): tells the ground from the
        background where ``instance_ids`` is 0.
    labels : iterable of InstanceLabel
        The frame's annotations: their visible pixels get their category's id.
    category_ids : mapping of str to int
        COCO id of each thing category.

    Returns
    -------
    (H, W) uint16
        Thing ids on annotated objects; ``"ground"`` and ``"background"`` stuff ids (see
        :func:`stuff_categories`) where the ground was hit or nothing was; 0 (void) on objects
        without an annotation.

    Raises
    ------
    ValueError
        If the arrays' shapes differ, a label's category has no id, or an id exceeds 65535.
    """
    ids = np.asarray(instance_ids)
    depth = np.asarray(depth)
    if ids.ndim != 2 or depth.shape != ids.shape:
        raise ValueError(f"instance_ids and depth must be (H, W) alike, got {ids.shape} and "
                         f"{depth.shape}")
    stuff = {s["name"]: s["id"] for s in stuff_categories(category_ids)}
    if stuff["background"] > _UINT16_MAX:
        raise ValueError("category ids above 65535 do not fit a 16-bit semantic mask")
    out = np.where(depth > 0, stuff["ground"], stuff["background"]).astype(np.uint16)
    out[ids != 0] = 0
    lookup = {}
    for label in labels:
        if label.category not in category_ids:
            raise ValueError(f"instance {label.instance_id} has category {label.category!r}, "
                             f"which is not one of {sorted(category_ids)}")
        lookup[int(label.instance_id)] = int(category_ids[label.category])
    _paint(out, ids, lookup)
    return out


def instance_mask(instance_ids: np.ndarray, labels: Iterable[InstanceLabel]) -> np.ndarray:
    """Instance id of every annotated object's visible pixels.

    Parameters
    ----------
    instance_ids : (H, W) integer
        ``RenderOutput.instance_ids``.
    labels : iterable of InstanceLabel
        The frame's annotations.

    Returns
    -------
    (H, W) uint16
        ``instance_id`` where an annotated object is visible, 0 elsewhere (ground, background,
        distractors, filtered objects). Holds up to 65535 instances, so more than 255.

    Raises
    ------
    ValueError
        If ``instance_ids`` is not 2-D, or an annotated ``instance_id`` exceeds 65535.
    """
    ids = np.asarray(instance_ids)
    if ids.ndim != 2:
        raise ValueError(f"instance_ids must be (H, W), got shape {ids.shape}")
    lookup = {int(label.instance_id): int(label.instance_id) for label in labels}
    too_big = [i for i in lookup if i > _UINT16_MAX]
    if too_big:
        raise ValueError(f"instance ids {too_big[:5]} exceed 65535 and do not fit a 16-bit "
                         "instance mask")
    out = np.zeros(ids.shape, dtype=np.uint16)
    _paint(out, ids, lookup)
    return out


def _paint(out: np.ndarray, ids: np.ndarray, lookup: dict[int, int]) -> None:
    """Set ``out`` to ``lookup[id]`` wherever ``ids`` holds a key of ``lookup``."""
    if not lookup:
        return
    keys = np.array(sorted(lookup), dtype=np.int64)
    values = np.array([lookup[k] for k in keys], dtype=out.dtype)
    where = np.flatnonzero(ids.ravel() != 0)
    found = ids.ravel()[where].astype(np.int64)
    index = np.minimum(np.searchsorted(keys, found), keys.size - 1)
    hit = keys[index] == found
    out.ravel()[where[hit]] = values[index[hit]]


def png_bytes(image: np.ndarray, compression: int = 1) -> bytes:
    """Encode a label map as PNG file content.

    Parameters
    ----------
    image : (H, W) uint8 or uint16, or (H, W, 3) uint8 RGB
    compression : int
        zlib level 0-9 (OpenCV's ``IMWRITE_PNG_COMPRESSION``). Every row gets PNG's ``Sub``
        filter (OpenCV's ``IMWRITE_PNG_FILTER``; libpng's default tries all five per row) and
        zlib its run-length strategy (``Z_RLE``): faster for files a little larger
        (``docs/performance.md``).

    Returns
    -------
    bytes

    Raises
    ------
    ValueError
        For another shape or dtype, or a compression outside 0-9.
    """
    image = np.asarray(image)
    if not 0 <= int(compression) <= 9:
        raise ValueError(f"compression must be in 0-9, got {compression}")
    if image.ndim == 2 and image.dtype in (np.uint8, np.uint16):
        pixels = image
    elif image.ndim == 3 and image.shape[2] == 3 and image.dtype == np.uint8:
        pixels = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    else:
        raise ValueError(f"png_bytes takes (H, W) uint8/uint16 or (H, W, 3) uint8, got shape "
                         f"{image.shape} dtype {image.dtype}")
    ok, buf = cv2.imencode(".png", np.ascontiguousarray(pixels),
                           [cv2.IMWRITE_PNG_COMPRESSION, int(compression),
                            cv2.IMWRITE_PNG_STRATEGY, cv2.IMWRITE_PNG_STRATEGY_RLE,
                            cv2.IMWRITE_PNG_FILTER, cv2.IMWRITE_PNG_FILTER_SUB])
    if not ok:  # pragma: no cover - OpenCV fails only on memory exhaustion
        raise ValueError("OpenCV could not encode the PNG")
    return buf.tobytes()


def read_png(path: str | Path) -> np.ndarray:
    """Read a PNG written by :func:`png_bytes` (any bit depth; 3 channels come back as RGB).

    Returns
    -------
    (H, W) uint8 or uint16, or (H, W, 3) uint8

    Raises
    ------
    FileNotFoundError
        If the file cannot be read or decoded.
    """
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise FileNotFoundError(f"{path}: cannot read the PNG")
    if image.ndim == 3:
        image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    return image


def npy_bytes(array: np.ndarray) -> bytes:
    """``numpy.save`` file content of ``array`` (for atomic writes of ``depth.npy`` files)."""
    buf = io.BytesIO()
    np.save(buf, np.asarray(array), allow_pickle=False)
    return buf.getvalue()


class NpyFile:
    """A ``.npy`` file's content still as its array: :meth:`write_to` saves it straight from
    the array's memory (``numpy.save`` to a file), ``bytes(npy_file)`` is :func:`npy_bytes`.
    For large arrays (flow, depth) that a frame writer would otherwise copy two or three
    times.

    Parameters
    ----------
    array : numpy.ndarray
    """

    def __init__(self, array: np.ndarray) -> None:
        self.array = np.asarray(array)

    def write_to(self, handle) -> None:
        """Write the file content to a binary file ``handle``."""
        np.save(handle, self.array, allow_pickle=False)

    def __bytes__(self) -> bytes:
        return npy_bytes(self.array)


FLO_UNKNOWN = 1e10
"""The value of a ``.flo`` file's unknown flow (Middlebury's readers treat above 1e9 as
unknown)."""


def flo_bytes(flow: np.ndarray, valid: np.ndarray) -> bytes:
    """Middlebury ``.flo`` file content (Baker et al. 2011; what ``cv2.readOpticalFlow``
    reads): the float32 tag 202021.25 (``PIEH``), int32 width and height, then (u, v) float32
    pairs row by row, little-endian; :data:`FLO_UNKNOWN` where ``valid`` is False.

    Parameters
    ----------
    flow : (H, W, 2) float
        Pixels.
    valid : (H, W) bool
    """
    flow = np.asarray(flow, dtype="<f4").copy()
    flow[~np.asarray(valid, dtype=bool)] = FLO_UNKNOWN
    height, width = flow.shape[:2]
    header = np.array([202021.25], "<f4").tobytes() + np.array([width, height], "<i4").tobytes()
    return header + flow.tobytes()


def npz_bytes(arrays: Mapping[str, np.ndarray]) -> bytes:
    """``numpy.savez`` file content of ``arrays`` with fixed zip timestamps (1980-01-01), so
    that the same arrays give the same bytes (``numpy.savez`` stamps the current time)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, array in arrays.items():
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            archive.writestr(info, npy_bytes(array))
    return buf.getvalue()


def encode_frame_maps(frame_index: int, render: RenderOutput, labels: Sequence[InstanceLabel],
                      outputs: Any, *, category_ids: Mapping[str, int],
                      compression: int = 1, motion: FrameMotion | None = None,
                      point_tracks: PointTracks | None = None
                      ) -> tuple[dict[str, bytes], dict[str, Any]]:
    """Encode a frame's per-image outputs and the image-entry fields that point at them.

    Parameters
    ----------
    frame_index : int
        >= 0; files are named like the RGB image, ``{frame_index + 1:06d}``.
    render : RenderOutput
        ``depth`` and ``instance_ids`` are read; ``normals`` when ``outputs.normals``.
    labels : sequence of InstanceLabel
        The frame's annotations (after the label filters).
    outputs : OutputsSpec
        The scenario's ``outputs:`` section (any object with the boolean attributes
        ``depth_png``, ``depth_npy``, ``normals``, ``semantic_mask``, ``instance_mask``; and
        ``depth_sensor``, None or not, when it has one).
    category_ids : mapping of str to int
        COCO id of each thing category (stuff ids follow them, see :func:`stuff_categories`).
    compression : int
        PNG zlib level 0-9.
    motion : FrameMotion, optional
        A sequence frame's optical flow (``outputs.flow``): written as ``flow/000001.npy``
        (forward, (H, W, 2) float32 pixels, 0 where not valid; ``.flo`` files, see
        :func:`flo_bytes`, with ``outputs.flow_format: flo``), ``flow_backward/000001.npy``
        and ``flow_valid/000001.png`` (8-bit: 1 where the forward flow is valid, + 2 where the
        backward flow is), with the fields ``flow_file``, ``flow_backward_file`` and
        ``flow_valid_file``.
    point_tracks : PointTracks, optional
        The frame's sequence's point tracks: ``tracks/seq-000000.npz`` (arrays
        ``target_points``, ``occluded``, ``query_points``, ``track_ids``; :func:`npz_bytes`),
        field ``point_tracks_file`` (every frame of the sequence names the same file; each eye
        of a stereo sequence its own, ``tracks/seq-000000-left.npz``).

    Returns
    -------
    files : dict of str to bytes or NpyFile
        File content by path relative to the dataset folder (folders: :data:`MAP_FOLDERS`):
        ``depth/000001.png``, ``depth_sensor/000001.png`` (a depth sensor's reading,
        ``render.depth_sensor``, encoded as the depth PNG: millimetres, 0 = no reading),
        ``depth/000001.npy``, ``normals/000001.png``,
        ``semantic/000001.png``, ``instance_masks/000001.png``; ``.npy`` files as
        :class:`NpyFile` (``bytes()`` of one is its content).
    image_fields : dict
        JSON-ready fields for the COCO image entry: ``depth_file`` and ``depth_scale``
        (:data:`DEPTH_SCALE_MM`), ``depth_sensor_file``, ``disparity_file`` and
        ``disparity_scale`` (:data:`DISPARITY_SCALE`), ``depth_npy_file``, ``normals_file``,
        ``semantic_file``, ``instance_mask_file``; only those of the outputs that are on.

    Raises
    ------
    ValueError
        If ``outputs.normals`` is on but ``render.normals`` is None, or as the encoders raise.
    """
    stem = frame_stem(frame_index)
    files: dict[str, bytes | NpyFile] = {}
    fields: dict[str, Any] = {}

    def add(output: str, field: str, suffix: str, data: bytes | NpyFile) -> None:
        name = f"{MAP_FOLDERS[output]}/{stem}{suffix}"
        files[name] = data
        fields[field] = name

    if outputs.depth_png:
        add("depth_png", "depth_file", ".png", png_bytes(encode_depth_png(render.depth),
                                                         compression))
        fields["depth_scale"] = DEPTH_SCALE_MM
    if getattr(outputs, "depth_sensor", None) is not None:
        if render.depth_sensor is None:
            raise ValueError("outputs.depth_sensor is on but the frame has no depth sensor "
                             "reading (RenderOutput.depth_sensor)")
        add("depth_sensor", "depth_sensor_file", ".png",
            png_bytes(encode_depth_png(render.depth_sensor), compression))
        fields["depth_scale"] = DEPTH_SCALE_MM
    if render.disparity is not None:
        add("disparity", "disparity_file", ".png",
            png_bytes(encode_disparity_png(render.disparity), compression))
        fields["disparity_scale"] = DISPARITY_SCALE
    if outputs.depth_npy:
        add("depth_npy", "depth_npy_file", ".npy",
            NpyFile(np.asarray(render.depth, dtype=np.float32)))
    if outputs.normals:
        if render.normals is None:
            raise ValueError("outputs.normals is on but the frame was rendered without normals "
                             "(RenderSettings(normals=True))")
        add("normals", "normals_file", ".png", png_bytes(encode_normals_png(render.normals),
                                                         compression))
    if outputs.semantic_mask:
        add("semantic_mask", "semantic_file", ".png", png_bytes(
            semantic_mask(render.instance_ids, render.depth, labels, category_ids), compression))
    if outputs.instance_mask:
        add("instance_mask", "instance_mask_file", ".png",
            png_bytes(instance_mask(render.instance_ids, labels), compression))
    if motion is not None and outputs.flow_format == "flo":
        add("flow", "flow_file", ".flo", flo_bytes(motion.forward, motion.forward_valid))
        add("flow_backward", "flow_backward_file", ".flo",
            flo_bytes(motion.backward, motion.backward_valid))
    elif motion is not None:
        add("flow", "flow_file", ".npy", NpyFile(motion.forward.astype(np.float32, copy=False)))
        add("flow_backward", "flow_backward_file", ".npy",
            NpyFile(motion.backward.astype(np.float32, copy=False)))
    if motion is not None:
        valid = motion.forward_valid.astype(np.uint8) | (motion.backward_valid.astype(np.uint8)
                                                         << 1)
        add("flow_valid", "flow_valid_file", ".png", png_bytes(valid, compression))
    if point_tracks is not None:
        stem = point_tracks_stem(point_tracks.sequence_id, point_tracks.eye)
        name = f"{MAP_FOLDERS['point_tracks']}/{stem}.npz"
        files[name] = npz_bytes({"target_points": point_tracks.target_points,
                                 "occluded": point_tracks.occluded,
                                 "query_points": point_tracks.query_points,
                                 "track_ids": point_tracks.track_ids})
        fields["point_tracks_file"] = name
    return files, fields
