"""Per-instance labels from a rendered frame: COCO RLE masks, boxes and areas, amodal masks and
visibility figures, 6D poses (BOP terms) and COCO keypoints of the 3D bounding box.

``annotate`` is pure numpy + pycocotools: no GL, no pybullet, so it is tested on synthetic arrays.

How it stays fast (``docs/performance.md`` gives its cost): instead of comparing the whole image
against each id and encoding one full-size mask per instance, it flattens the id image once in
column-major (Fortran) order, which is the pixel order of COCO RLE, and finds every run of equal ids
in one vectorised pass. The runs of each labelled id, with the gaps between them, *are* that
instance's uncompressed RLE; pycocotools then compresses all of them in one call (``frPyObjects``),
so the ``counts`` strings are byte-identical to ``pycocotools.mask.encode`` of the masks. Boxes and
areas come from the same runs. Amodal masks arrive as small crops
(:class:`~synthscene.core.state.AmodalMask`) and are run-length encoded from the crop, never from a
full-size image.

Conventions
-----------
- Pixel coordinates of boxes and keypoints are COCO's: pixel ``(column u, row v)`` spans
  ``[u, u + 1) x [v, v + 1)``, so a point that ``K`` (OpenCV: pixel centres at integers) projects
  to ``(u, v)`` has COCO coordinates ``(u + 0.5, v + 0.5)``.
- ``visib_fract`` is BOP's: visible pixels / amodal pixels (Hodan et al., "BOP: Benchmark for
  6D Object Pose Estimation", ECCV 2018, and the BOP toolkit's ``scene_gt_info.json``).
  ``truncation`` is the fraction of the amodal pixels outside the image.
- Poses are BOP's: ``cam_R_m2c`` (3x3 row-major) and ``cam_t_m2c`` (mm) map model coordinates
  (the asset's normalised mesh times ``SceneObject.scale``, metres) to the OpenCV camera frame;
  for an object at its asset's native size (``model_origins``), the model is the asset's file
  (its own origin, in metres).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from pycocotools import mask as mask_utils

from synthscene.core.lens import Lens
from synthscene.core.state import AmodalMask, InstanceLabel, RenderOutput, SceneObject, SceneState
from synthscene.io.keypoints import CORNER_SIGNS, KEYPOINT_NAMES, KEYPOINT_SKELETON

__all__ = [
    "KEYPOINT_NAMES", "KEYPOINT_SKELETON", "KEYPOINT_TOLERANCE_M", "KEYPOINT_TOLERANCE_PX",
    "LabelFilter", "annotate", "box_keypoints_object",
]

KEYPOINT_TOLERANCE_M = 0.002
KEYPOINT_TOLERANCE_PX = 2.0
"""A keypoint at camera depth ``z`` (metres) counts as occluded (v = 1) when the rendered depth at
its pixel is smaller than ``z - (KEYPOINT_TOLERANCE_M + KEYPOINT_TOLERANCE_PX * z / f)``, ``f``
the mean focal length in pixels: a corner that lies on the object's own visible surface is
"visible" even though the pixel centre samples the surface up to a pixel away from it."""


@dataclass(frozen=True)
class LabelFilter:
    """Which visible, labelled objects get an annotation (the scenario's ``labels:`` section).

    Attributes
    ----------
    min_visible_px : int
        Minimum visible pixel count (``area``), >= 1.
    min_visib_fract : float
        Minimum ``visib_fract`` in [0, 1]; needs amodal masks when > 0.
    label_truncated : bool
        False drops objects with ``truncation > 0`` (any part outside the image); needs amodal
        masks.

    Raises
    ------
    ValueError
        If a value is out of range.
    """

    min_visible_px: int = 1
    min_visib_fract: float = 0.0
    label_truncated: bool = True

    def __post_init__(self) -> None:
        if int(self.min_visible_px) < 1:
            raise ValueError(f"min_visible_px must be >= 1, got {self.min_visible_px}")
        if not 0.0 <= float(self.min_visib_fract) <= 1.0:
            raise ValueError(f"min_visib_fract must be in [0, 1], got {self.min_visib_fract}")

    @property
    def needs_amodal(self) -> bool:
        """True if the filter reads ``visib_fract`` or ``truncation``."""
        return self.min_visib_fract > 0.0 or not self.label_truncated


def annotate(
    state: SceneState,
    render: RenderOutput,
    *,
    pose: bool = True,
    keypoints: bool = False,
    model_bounds: Mapping[str, ArrayLike] | None = None,
    filters: LabelFilter | None = None,
    model_origins: Mapping[str, ArrayLike] | None = None,
) -> tuple[InstanceLabel, ...]:
    """Label every visible, labelled object of a rendered frame.

    Parameters
    ----------
    state : SceneState
        The settled scene that was rendered. Objects with ``labelled=False`` (distractors) get
        no label, and their pixels are in no mask.
    render : RenderOutput
        Its ``instance_ids : (H, W) int32, 0 = background`` is read; ids may be any int32 value
        (> 255 included). Pixels whose id is not the ``instance_id`` of a labelled object
        (background, distractors, unknown ids) belong to no mask. ``depth`` is read for keypoint
        visibility; ``amodal``, when not None, gives the amodal fields.
    pose : bool
        Fill ``cam_R_m2c``, ``cam_t_m2c``, ``world_from_object`` and ``object_scale_m``.
    keypoints : bool
        Fill ``keypoints`` and ``num_keypoints`` (needs ``model_bounds``).
    model_bounds : mapping of str to (2, 3) array_like, optional
        For each ``asset_key``, the axis-aligned bounds ``[[xmin, ymin, zmin], [xmax, ymax,
        zmax]]`` of the asset's normalised mesh in its own frame (``trimesh.Trimesh.bounds``),
        before ``SceneObject.scale``.
    filters : LabelFilter, optional
        Objects that fail it get no label. Default: every object with a visible pixel.
    model_origins : mapping of str to (3,) array_like, optional
        For an ``asset_key`` whose pose model is not its normalised mesh but its file (objects
        at their native size): the origin of the file's frame in the normalised frame
        (``Asset.file_origin``, unitless, times ``SceneObject.scale`` for metres). The pose
        fields of such an object map the file's coordinates (in metres) to the camera.

    Returns
    -------
    tuple of InstanceLabel
        One per labelled object with at least one pixel in ``instance_ids`` that passes
        ``filters``, in increasing ``instance_id`` order. Each has a compressed COCO RLE
        ``segmentation`` (``{"size": [H, W], "counts": str}``, equal to
        ``pycocotools.mask.encode`` of the visible mask ``instance_ids == instance_id``),
        ``bbox`` the tight COCO ``(x, y, width, height)`` of that mask in pixels as floats
        (equal to ``pycocotools.mask.toBbox``), and ``area`` its pixel count (equal to
        ``pycocotools.mask.area``).

        With ``render.amodal``: ``amodal_bbox``, ``amodal_area``, ``amodal_segmentation``,
        ``visib_fract`` and ``truncation``. The amodal mask is the object's solo render OR its
        visible mask, so the visible mask is always a subset of it, even where the solo render
        and the full render rasterise an edge pixel differently.

        With ``pose``: BOP's ``cam_R_m2c`` (9 floats, row-major) and ``cam_t_m2c`` (mm), plus
        ``world_from_object`` (4x4, metres) and ``object_scale_m``.

        With ``keypoints``: the 8 corners and the centre of the object's 3D bounding box
        (``model_bounds`` times ``scale``, in :data:`KEYPOINT_NAMES` order) projected with
        ``camera.K`` (through ``camera.lens``, OpenCV's distortion models, when it has one; a point
        beyond the lens's fold counts as behind the camera), as COCO ``[x1, y1, v1, ...]`` with ``x
        = u + 0.5``, ``y = v + 0.5`` (COCO pixel edges at integers, matching ``bbox``). ``v`` = 0 if
        the point is behind the camera or outside ``[0, W) x [0, H)`` (then ``x = y = 0``, as COCO
        asks), 1 if something is rendered in front of it at its pixel (the object itself included;
        see :data:`KEYPOINT_TOLERANCE_M`), else 2. ``num_keypoints`` counts ``v > 0``.

    Raises
    ------
    ValueError
        If ``instance_ids`` is not a 2-D integer array of the camera's ``(height, width)``, if an
        object's ``instance_id`` is < 1, if two objects share an ``instance_id``, if
        ``keypoints`` is asked without bounds for an object's asset, or if ``filters`` needs
        amodal masks and ``render.amodal`` is None.
    """
    ids = _checked_ids(state, render)
    filters = filters or LabelFilter()
    if filters.needs_amodal and render.amodal is None:
        raise ValueError("the label filter reads visib_fract or truncation, which need amodal "
                         "masks: render with RenderSettings(amodal=True)")
    objects = _labelled_objects(state)
    if keypoints:
        missing = sorted({o.asset_key for o in objects.values()} - set(model_bounds or {}))
        if missing:
            raise ValueError(f"keypoints need model_bounds for every labelled asset; missing "
                             f"{missing}")
    if not objects or ids.size == 0:
        return ()
    labelled = np.fromiter(sorted(objects), dtype=np.int64, count=len(objects))
    runs = _ObjectRuns.of(ids, labelled)
    if runs is None:
        return ()
    kept = _passing(runs, labelled, ids, render, filters)
    if not kept:
        return ()
    compressed = _compressed_masks(runs, kept, ids.shape)
    return _instance_labels(state, render, objects, runs, kept, compressed, pose=pose,
                            keypoints=keypoints, model_bounds=model_bounds,
                            model_origins=model_origins or {})


def _checked_ids(state: SceneState, render: RenderOutput) -> np.ndarray:
    """``render.instance_ids`` as an array, checked against the camera (see :func:`annotate`)."""
    ids = np.asarray(render.instance_ids)
    if ids.ndim != 2 or not np.issubdtype(ids.dtype, np.integer):
        raise ValueError(
            f"instance_ids must be a 2-D integer array, got shape {ids.shape} dtype {ids.dtype}"
        )
    height, width = ids.shape
    cam = state.camera
    if (height, width) != (cam.height, cam.width):
        raise ValueError(
            f"instance_ids has shape (H, W) = {(height, width)} but the camera is "
            f"{cam.width}x{cam.height} (width x height)"
        )
    return ids


@dataclass(frozen=True)
class _ObjectRuns:
    """The column-major runs of the labelled objects' pixels, grouped by object.

    ``starts``, ``ends`` (flat column-major indices, end exclusive) and ``which`` (index into the
    labelled ids) are sorted by object, keeping column-major order inside each group; object
    ``k`` (``present[k]``) owns runs ``bounds[k]:bounds[k + 1]``, covers ``areas[k]`` pixels and
    rows ``y0[k]..y1[k]``; ``x_start``/``x_end`` are each run's first and last column.
    """

    starts: np.ndarray
    ends: np.ndarray
    present: np.ndarray
    bounds: np.ndarray
    x_start: np.ndarray
    x_end: np.ndarray
    y0: np.ndarray
    y1: np.ndarray
    areas: np.ndarray

    @classmethod
    def of(cls, ids: np.ndarray, labelled: np.ndarray) -> _ObjectRuns | None:
        """The runs of ``ids`` (H, W) whose id is in ``labelled``; None if there is none."""
        height = ids.shape[0]
        starts, ends, which = _labelled_runs(ids, labelled)
        if starts.size == 0:
            return None
        # Group the runs by object, keeping column-major order inside each group.
        order = np.argsort(which, kind="stable")
        starts, ends, which = starts[order], ends[order], which[order]
        present, first = np.unique(which, return_index=True)
        bounds = np.append(first, which.size)
        # Box of every run: a run that crosses a column boundary covers the bottom of one column
        # and the top of the next, so it spans rows 0 .. H-1 as far as a box is concerned.
        last = ends - 1
        x_start, y_start = np.divmod(starts, height)
        x_end, y_end = np.divmod(last, height)
        crosses = x_end > x_start
        y_lo = np.where(crosses, 0, y_start)
        y_hi = np.where(crosses, height - 1, y_end)
        return cls(starts, ends, present, bounds, x_start, x_end,
                   np.minimum.reduceat(y_lo, first), np.maximum.reduceat(y_hi, first),
                   np.add.reduceat(ends - starts, first))


_Kept = tuple[int, int, tuple[int, int, int, int], "dict | None"]
"""(k, instance_id, visible box (x0, y0, x1, y1) inclusive, amodal figures) of a kept object."""


def _passing(runs: _ObjectRuns, labelled: np.ndarray, ids: np.ndarray, render: RenderOutput,
             filters: LabelFilter) -> list[_Kept]:
    """The objects that pass ``filters``, with their visible box and amodal figures."""
    kept = []
    for k, obj_index in enumerate(runs.present):
        lo, hi = runs.bounds[k], runs.bounds[k + 1]
        instance_id = int(labelled[obj_index])
        if int(runs.areas[k]) < filters.min_visible_px:
            continue
        # Runs are in column-major order: the first run has the leftmost x, the last the rightmost.
        box = (int(runs.x_start[lo]), int(runs.y0[k]), int(runs.x_end[hi - 1]), int(runs.y1[k]))
        amodal = None
        if render.amodal is not None:
            amodal = _amodal_figures(render.amodal.get(instance_id), ids, instance_id, box,
                                     int(runs.areas[k]))
            if amodal["visib_fract"] < filters.min_visib_fract:
                continue
            if not filters.label_truncated and amodal["truncation"] > 0.0:
                continue
        kept.append((k, instance_id, box, amodal))
    return kept


def _compressed_masks(runs: _ObjectRuns, kept: list[_Kept], shape: tuple[int, int]) -> Iterator:
    """Every kept object's visible mask, then its amodal mask if any, compressed by one
    pycocotools call (the amodal figures' ``runs`` are taken out)."""
    height, width = shape
    size = [height, width]
    uncompressed = []
    for k, _, _, amodal in kept:
        lo, hi = runs.bounds[k], runs.bounds[k + 1]
        uncompressed.append({"size": size, "counts": _rle_counts(runs.starts[lo:hi],
                                                                 runs.ends[lo:hi],
                                                                 height * width)})
        if amodal is not None:
            uncompressed.append({"size": size, "counts": amodal.pop("runs")})
    return iter(mask_utils.frPyObjects(uncompressed, height, width))


def _instance_labels(state: SceneState, render: RenderOutput, objects: Mapping[int, SceneObject],
                     runs: _ObjectRuns, kept: list[_Kept], compressed: Iterator, *, pose: bool,
                     keypoints: bool, model_bounds: Mapping[str, ArrayLike] | None,
                     model_origins: Mapping[str, ArrayLike],
                     ) -> tuple[InstanceLabel, ...]:
    """The labels of the kept objects, in order (see :func:`annotate`)."""
    cam = state.camera
    size = [cam.height, cam.width]
    camera_from_world = _inverse_rigid(np.asarray(cam.world_from_camera, dtype=np.float64))
    kept_objects = [objects[instance_id] for _, instance_id, _, _ in kept]
    camera_from_objects = [camera_from_world @ np.asarray(obj.world_from_object, np.float64)
                           for obj in kept_objects]
    keypoint_fields = (_keypoint_fields(kept_objects, model_bounds, camera_from_objects, cam.K,
                                        np.asarray(render.depth), cam.lens)
                       if keypoints else None)
    labels = []
    for n, (k, instance_id, (bx0, by0, bx1, by1), amodal) in enumerate(kept):
        obj = kept_objects[n]
        fields: dict = {}
        segmentation = _rle_dict(next(compressed), size)
        if amodal is not None:
            fields.update(amodal, amodal_segmentation=_rle_dict(next(compressed), size))
        if pose:
            fields.update(_pose_fields(obj, camera_from_objects[n],
                                       model_origins.get(obj.asset_key)))
        if keypoint_fields is not None:
            fields.update(keypoint_fields[n])
        labels.append(
            InstanceLabel(
                instance_id=instance_id,
                category=obj.category,
                bbox=(float(bx0), float(by0), float(bx1 - bx0 + 1), float(by1 - by0 + 1)),
                area=int(runs.areas[k]),
                segmentation=segmentation,
                **fields,
            )
        )
    return tuple(labels)


def box_keypoints_object(bounds: ArrayLike, scale: float) -> np.ndarray:
    """The 9 keypoints of an object in its own frame: 8 bounding-box corners and the centre.

    Parameters
    ----------
    bounds : (2, 3) array_like
        Axis-aligned bounds of the asset's normalised mesh, ``[[xmin, ymin, zmin], [xmax, ymax,
        zmax]]`` (mesh units).
    scale : float
        ``SceneObject.scale``, metres per mesh unit.

    Returns
    -------
    (9, 3) float64
        Metres, in :data:`KEYPOINT_NAMES` order.

    Raises
    ------
    ValueError
        If ``bounds`` is not (2, 3) with min <= max.
    """
    b = np.asarray(bounds, dtype=np.float64)
    if b.shape != (2, 3) or np.any(b[0] > b[1]):
        raise ValueError(f"bounds must be (2, 3) [[min], [max]] with min <= max, got {b.tolist()}")
    signs = np.asarray(CORNER_SIGNS)
    corners = np.where(signs < 0, b[0], b[1])
    return np.vstack([corners, b.mean(axis=0)]) * float(scale)


# -- internals --------------------------------------------------------------------------------
def _labelled_objects(state: SceneState) -> dict[int, SceneObject]:
    """Map the ``instance_id`` of each labelled object to it, checking ids."""
    seen: set[int] = set()
    objects: dict[int, SceneObject] = {}
    for obj in state.objects:
        instance_id = int(obj.instance_id)
        if instance_id < 1:
            raise ValueError(f"instance_id must be >= 1, got {instance_id} ({obj.asset_key!r})")
        if instance_id in seen:
            raise ValueError(f"two objects share instance_id {instance_id}")
        seen.add(instance_id)
        if obj.labelled:
            objects[instance_id] = obj
    return objects


def _labelled_runs(
    ids: np.ndarray, labelled: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Find the runs of labelled ids in column-major pixel order.

    Parameters
    ----------
    ids : (H, W) integer
        Instance-id image.
    labelled : (n,) int64
        Sorted ids of the labelled objects.

    Returns
    -------
    starts, ends : (m,) int64
        Column-major pixel index (``x * H + y``) of each run's first pixel, and one past its
        last, in increasing order.
    which : (m,) int64
        Index into ``labelled`` of each run's id.
    """
    # ids.T is (W, H); its C-order ravel is the column-major order of the (H, W) image.
    flat = ids.T.ravel()
    change = np.flatnonzero(flat[1:] != flat[:-1])
    run_starts = np.empty(change.size + 1, dtype=np.int64)
    run_starts[0] = 0
    np.add(change, 1, out=run_starts[1:])
    run_ends = np.empty_like(run_starts)
    run_ends[:-1] = run_starts[1:]
    run_ends[-1] = flat.size
    values = flat[run_starts].astype(np.int64, copy=False)

    which = np.searchsorted(labelled, values)
    np.minimum(which, labelled.size - 1, out=which)
    keep = labelled[which] == values
    return run_starts[keep], run_ends[keep], which[keep]


def _rle_counts(starts: np.ndarray, ends: np.ndarray, n_pixels: int) -> np.ndarray:
    """Uncompressed COCO RLE counts of a mask given as sorted, disjoint, non-touching runs.

    Parameters
    ----------
    starts, ends : (m,) int64
        Column-major index of each run's first pixel and one past its last.
    n_pixels : int
        H * W.

    Returns
    -------
    (k,) uint32
        Alternating counts of 0s and 1s, starting with 0s (COCO's convention).
    """
    edges = np.empty(2 * starts.size + 2, dtype=np.int64)
    edges[0] = 0
    edges[1:-1:2] = starts
    edges[2:-1:2] = ends
    edges[-1] = n_pixels
    counts = np.diff(edges)
    if counts[-1] == 0:  # the mask reaches the last pixel: no trailing run of zeros
        counts = counts[:-1]
    return counts.astype(np.uint32)


def _crop_runs(crop: np.ndarray, x0: int, y0: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """Runs, in column-major image order, of a boolean crop placed at image ``(x0, y0)``.

    Parameters
    ----------
    crop : (h, w) bool
        Lies inside the image: ``0 <= x0``, ``x0 + w <= W``, ``0 <= y0``, ``y0 + h <= height``.
    x0, y0 : int
        Image column and row of ``crop[0, 0]``.
    height : int
        Image height H.

    Returns
    -------
    starts, ends : (m,) int64
        Column-major image index of each run's first pixel and one past its last; runs that
        touch (a column's last row and the next column's first) are merged.
    """
    h, w = crop.shape
    # One False before and after every crop column, so that no run crosses a column; then
    # every change between neighbours in a padded column is a run's first pixel or one past
    # its last, alternately (padded row r + 1 is crop row r).
    padded = np.zeros((w, h + 2), dtype=bool)
    padded[:, 1:-1] = crop.T
    change = np.flatnonzero(padded[:, 1:] != padded[:, :-1])  # index in (w, h + 1)
    col, row = np.divmod(change, h + 1)
    edges = (x0 + col) * height + (y0 + row)
    starts, ends = edges[0::2], edges[1::2]
    if starts.size > 1:
        touching = starts[1:] == ends[:-1]
        if touching.any():
            keep_start = np.concatenate([[True], ~touching])
            keep_end = np.concatenate([~touching, [True]])
            starts, ends = starts[keep_start], ends[keep_end]
    return starts.astype(np.int64), ends.astype(np.int64)


def _amodal_figures(amodal: AmodalMask | None, ids: np.ndarray, instance_id: int,
                    box: tuple[int, int, int, int], area: int) -> dict:
    """Amodal box, area, visibility, truncation and in-image runs of one visible object.

    The amodal mask is the solo render OR the visible mask (so visible is a subset of it); the
    returned dict's ``"runs"`` are the uncompressed RLE counts of its in-image part.

    Raises
    ------
    ValueError
        If a labelled visible object has no amodal mask.
    """
    if amodal is None:
        raise ValueError(f"render.amodal has no mask for the visible labelled instance "
                         f"{instance_id}")
    height, width = ids.shape
    bx0, by0, bx1, by1 = box
    mask = np.asarray(amodal.mask, dtype=bool)
    ax0, ay0 = int(amodal.x0), int(amodal.y0)
    # The union of the crop and the visible box (normally the crop itself).
    ux0, uy0 = min(ax0, bx0), min(ay0, by0)
    ux1, uy1 = max(ax0 + mask.shape[1], bx1 + 1), max(ay0 + mask.shape[0], by1 + 1)
    union = np.zeros((uy1 - uy0, ux1 - ux0), dtype=bool)
    union[ay0 - uy0:ay0 - uy0 + mask.shape[0], ax0 - ux0:ax0 - ux0 + mask.shape[1]] = mask
    union[by0 - uy0:by1 + 1 - uy0, bx0 - ux0:bx1 + 1 - ux0] |= (
        ids[by0:by1 + 1, bx0:bx1 + 1] == instance_id
    )
    amodal_area = int(np.count_nonzero(union))
    # In-image part.
    cx0, cy0 = max(ux0, 0), max(uy0, 0)
    cx1, cy1 = min(ux1, width), min(uy1, height)
    inside = union[cy0 - uy0:cy1 - uy0, cx0 - ux0:cx1 - ux0]
    outside = amodal_area - int(np.count_nonzero(inside))
    rows = np.flatnonzero(union.any(axis=1))
    cols = np.flatnonzero(union.any(axis=0))
    starts, ends = _crop_runs(inside, cx0, cy0, height)
    return {
        "amodal_bbox": (float(ux0 + cols[0]), float(uy0 + rows[0]),
                        float(cols[-1] - cols[0] + 1), float(rows[-1] - rows[0] + 1)),
        "amodal_area": amodal_area,
        "visib_fract": area / amodal_area,
        "truncation": outside / amodal_area,
        "runs": _rle_counts(starts, ends, height * width),
    }


def _rle_dict(rle: dict, size: list[int]) -> dict:
    return {"size": list(size), "counts": rle["counts"].decode("ascii")}


def _inverse_rigid(a_from_b: np.ndarray) -> np.ndarray:
    """Inverse of a 4x4 rigid transform (exact transpose of the rotation)."""
    out = np.eye(4)
    out[:3, :3] = a_from_b[:3, :3].T
    out[:3, 3] = -a_from_b[:3, :3].T @ a_from_b[:3, 3]
    return out


def _pose_fields(obj: SceneObject, camera_from_object: np.ndarray,
                 model_origin: ArrayLike | None) -> dict:
    world_from_object = np.asarray(obj.world_from_object, dtype=np.float64)
    camera_from_model = camera_from_object
    if model_origin is not None:  # the model is the asset's file: its origin, not the box's
        object_from_model = np.eye(4)
        object_from_model[:3, 3] = np.asarray(model_origin, dtype=np.float64) * float(obj.scale)
        camera_from_model = camera_from_object @ object_from_model
    return {
        "cam_R_m2c": tuple(camera_from_model[:3, :3].ravel().tolist()),
        "cam_t_m2c": tuple(v * 1000.0 for v in camera_from_model[:3, 3].tolist()),
        "world_from_object": tuple(tuple(row) for row in world_from_object.tolist()),
        "object_scale_m": float(obj.scale),
    }


def _keypoint_fields(objects: list[SceneObject], model_bounds: Mapping[str, ArrayLike],
                     camera_from_objects: list[np.ndarray], K: ArrayLike,
                     depth: np.ndarray, lens: Lens | None = None) -> list[dict]:
    """``keypoints`` and ``num_keypoints`` of each object (see :func:`annotate`): each
    object's points projected on its own, then every point's visibility at once; through
    ``lens`` (:meth:`Lens.project`) when there is one."""
    if not objects:
        return []
    height, width = depth.shape
    K = np.asarray(K, dtype=np.float64)
    unscaled: dict[str, np.ndarray] = {}  # the 9 points of an asset at scale 1
    projected = []
    for obj, camera_from_object in zip(objects, camera_from_objects):
        base = unscaled.get(obj.asset_key)
        if base is None:
            base = unscaled[obj.asset_key] = box_keypoints_object(model_bounds[obj.asset_key],
                                                                  1.0)
        points = base * float(obj.scale)
        p = points @ camera_from_object[:3, :3].T + camera_from_object[:3, 3]
        projected.append((p, p @ K.T))
    p = np.stack([pair[0] for pair in projected])  # (n, 9, 3) camera frame, metres
    uvw = np.stack([pair[1] for pair in projected])
    z = p[..., 2]
    if lens is None:
        in_front = z > 0
        safe_z = np.where(in_front, z, 1.0)
        x = uvw[..., 0] / safe_z + 0.5  # COCO coordinates: pixel edges at integers
        y = uvw[..., 1] / safe_z + 0.5
    else:  # a point the lens does not see (beyond its fold) counts as behind the camera
        uv, in_front = lens.project(p, K)
        x, y = uv[..., 0] + 0.5, uv[..., 1] + 0.5
    inside = in_front & (x >= 0) & (x < width) & (y >= 0) & (y < height)
    col = np.clip(np.floor(np.where(inside, x, 0)).astype(np.int64), 0, width - 1)
    row = np.clip(np.floor(np.where(inside, y, 0)).astype(np.int64), 0, height - 1)
    seen = depth[row, col].astype(np.float64)
    focal = 0.5 * (abs(K[0, 0]) + abs(K[1, 1]))
    tolerance = KEYPOINT_TOLERANCE_M + KEYPOINT_TOLERANCE_PX * z / focal
    occluded = (seen > 0) & (seen < z - tolerance)
    v = np.where(inside, np.where(occluded, 1, 2), 0)
    out = []
    for xs, ys, vs in zip(x.tolist(), y.tolist(), v.tolist()):
        flat: list[float | int] = []
        for xi, yi, vi in zip(xs, ys, vs):
            flat += [xi, yi, vi] if vi else [0.0, 0.0, 0]
        out.append({"keypoints": tuple(flat), "num_keypoints": sum(1 for vi in vs if vi)})
    return out
