"""Per-instance labels (COCO RLE masks, boxes, areas) from an instance-id image.

``annotate`` is pure numpy + pycocotools: no GL, no pybullet, so it is tested on synthetic arrays.

How it stays fast (about 1 ms for a 640x480 frame with 30 instances on one CPU core): instead
of comparing the whole image against each id and encoding one full-size mask per instance, it
flattens the id image once in column-major (Fortran) order, which is the pixel order of COCO RLE,
and finds every run of equal ids in one vectorised pass. The runs of each labelled id, with the
gaps between them, *are* that instance's uncompressed RLE; pycocotools then compresses all of
them in one call (``frPyObjects``), so the ``counts`` strings are byte-identical to
``pycocotools.mask.encode`` of the masks. Boxes and areas come from the same runs.
"""

from __future__ import annotations

import numpy as np
from pycocotools import mask as mask_utils

from synthscene.state import InstanceLabel, RenderOutput, SceneState

__all__ = ["annotate"]


def annotate(state: SceneState, render: RenderOutput) -> tuple[InstanceLabel, ...]:
    """Label every visible, labelled object of a rendered frame.

    Parameters
    ----------
    state : SceneState
        The settled scene that was rendered. Objects with ``labelled=False`` (distractors) get
        no label, and their pixels are in no mask.
    render : RenderOutput
        Its ``instance_ids : (H, W) int32, 0 = background`` is read; ids may be any int32 value
        (> 255 included). Pixels whose id is not the ``instance_id`` of a labelled object
        (background, distractors, unknown ids) belong to no mask.

    Returns
    -------
    tuple of InstanceLabel
        One per labelled object with at least one pixel in ``instance_ids``, in increasing
        ``instance_id`` order. Each has a compressed COCO RLE ``segmentation``
        (``{"size": [H, W], "counts": str}``, equal to ``pycocotools.mask.encode`` of the
        visible mask ``instance_ids == instance_id``), ``bbox`` the tight COCO
        ``(x, y, width, height)`` of that mask in pixels as floats (equal to
        ``pycocotools.mask.toBbox``), and ``area`` its pixel count (equal to
        ``pycocotools.mask.area``). Objects with no pixel get no label.

    Raises
    ------
    ValueError
        If ``instance_ids`` is not a 2-D integer array of the camera's ``(height, width)``, if an
        object's ``instance_id`` is < 1, or if two objects share an ``instance_id``.
    """
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

    categories = _labelled_categories(state)
    if not categories or ids.size == 0:
        return ()
    labelled = np.fromiter(sorted(categories), dtype=np.int64, count=len(categories))

    starts, ends, which = _labelled_runs(ids, labelled)
    if starts.size == 0:
        return ()

    # Group the runs by object, keeping column-major order inside each group.
    order = np.argsort(which, kind="stable")
    starts, ends, which = starts[order], ends[order], which[order]
    present, first = np.unique(which, return_index=True)
    bounds = np.append(first, which.size)

    # Box of every run: a run that crosses a column boundary covers the bottom of one column and
    # the top of the next, so it spans rows 0 .. H-1 as far as a box is concerned.
    last = ends - 1
    x_start, y_start = np.divmod(starts, height)
    x_end, y_end = np.divmod(last, height)
    crosses = x_end > x_start
    y_lo = np.where(crosses, 0, y_start)
    y_hi = np.where(crosses, height - 1, y_end)
    y0 = np.minimum.reduceat(y_lo, first)
    y1 = np.maximum.reduceat(y_hi, first)
    areas = np.add.reduceat(ends - starts, first)

    n_pixels = height * width
    size = [height, width]
    uncompressed = []
    for k in range(present.size):
        lo, hi = bounds[k], bounds[k + 1]
        edges = np.empty(2 * (hi - lo) + 2, dtype=np.int64)
        edges[0] = 0
        edges[1:-1:2] = starts[lo:hi]
        edges[2:-1:2] = ends[lo:hi]
        edges[-1] = n_pixels
        counts = np.diff(edges)
        if counts[-1] == 0:  # the mask reaches the last pixel: no trailing run of zeros
            counts = counts[:-1]
        uncompressed.append({"size": size, "counts": counts.astype(np.uint32)})
    compressed = mask_utils.frPyObjects(uncompressed, height, width)

    labels = []
    for k, obj_index in enumerate(present):
        lo, hi = bounds[k], bounds[k + 1]
        instance_id = int(labelled[obj_index])
        x0 = int(x_start[lo])  # runs are in column-major order: first run has the leftmost x
        x1 = int(x_end[hi - 1])
        rle = compressed[k]
        labels.append(
            InstanceLabel(
                instance_id=instance_id,
                category=categories[instance_id],
                bbox=(float(x0), float(y0[k]), float(x1 - x0 + 1), float(y1[k] - y0[k] + 1)),
                area=int(areas[k]),
                segmentation={"size": [height, width], "counts": rle["counts"].decode("ascii")},
            )
        )
    return tuple(labels)


def _labelled_categories(state: SceneState) -> dict[int, str]:
    """Map the ``instance_id`` of each labelled object to its category, checking ids."""
    seen: set[int] = set()
    categories: dict[int, str] = {}
    for obj in state.objects:
        instance_id = int(obj.instance_id)
        if instance_id < 1:
            raise ValueError(f"instance_id must be >= 1, got {instance_id} ({obj.asset_key!r})")
        if instance_id in seen:
            raise ValueError(f"two objects share instance_id {instance_id}")
        seen.add(instance_id)
        if obj.labelled:
            categories[instance_id] = obj.category
    return categories


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
