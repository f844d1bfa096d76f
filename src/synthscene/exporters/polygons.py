"""Masks to polygons that follow the pixel edges exactly.

``cv2.findContours`` returns the centres of the boundary pixels; a polygon through them leaves out
half a pixel all round, so a small mask loses most of its area (a 3x3 square becomes a 2x2 one,
a one-pixel-wide line becomes a polygon of area 0). Here the polygon runs along the pixel *edges*
instead: on the lattice of pixel corners, the boundary of a mask is the set of unit edges between
a mask pixel and a non-mask pixel. Each edge is directed so that the mask lies on its right
(image coordinates: x right, y down), and the edges are linked into closed loops; where two mask
pixels touch only at a corner, the loop turns right, so that they stay separate loops
(4-connected mask, 8-connected background, which makes every loop a simple polygon). Outer
boundaries then run clockwise on screen (positive shoelace area with y down) and holes
counter-clockwise. Collinear vertices are dropped, so a w x h rectangle of pixels is the
4-vertex polygon ``[x, y, x+w, y, x+w, y+h, x, y+h]``.

pycocotools rasterizes such a polygon back to exactly the original pixels (a pixel is in the
polygon if its centre is; tested in ``tests/test_exporters.py``), so for masks without holes the
polygons round-trip with IoU 1.

Ultralytics rasterizes a polygon differently: ``ultralytics.data.utils.polygon2mask`` truncates
the vertices to integers and fills them with ``cv2.fillPoly``, which sets every pixel whose index
``(col, row)`` lies inside *or on* the polygon. An edge-traced polygon then comes back one pixel
larger on the right and at the bottom. :func:`centre_points` gives the polygon for that
convention: the edge loop moved half a pixel towards the mask, so that it runs through the
centres ``(col + 0.5, row + 0.5)`` of the mask's boundary pixels; truncated, those are the
boundary pixels' indices, and ``cv2.fillPoly`` fills exactly the mask again (a part one pixel
wide becomes a polygon of zero width, which ``cv2.fillPoly`` still draws).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Loop", "bridge_loops", "centre_points", "mask_loops"]


@dataclass(frozen=True)
class Loop:
    """One closed boundary of a mask.

    Attributes
    ----------
    points : (n, 2) int64
        Vertices ``(x, y)`` on the pixel-corner lattice, in pixels: the pixel ``(row, col)``
        spans ``[col, col + 1] x [row, row + 1]``. The loop closes from the last vertex back to
        the first. ``n >= 4``.
    is_hole : bool
        True for the boundary of a hole (a region of 0s enclosed by the mask).
    """

    points: np.ndarray
    is_hole: bool

    def flat(self) -> list[float]:
        """``[x1, y1, x2, y2, ...]`` as floats: a COCO polygon."""
        return [float(v) for v in self.points.ravel()]


def mask_loops(mask: np.ndarray) -> list[Loop]:
    """Trace the outer boundaries and holes of a binary mask along pixel edges.

    Parameters
    ----------
    mask : (H, W) bool or integer
        Nonzero pixels are in the mask.

    Returns
    -------
    list of Loop
        Every boundary loop, outer ones and holes, in a deterministic order (by the position of
        their first edge in row-major order). Empty for an empty mask.

    Raises
    ------
    ValueError
        If ``mask`` is not 2-D.
    """
    mask = np.asarray(mask)
    if mask.ndim != 2:
        raise ValueError(f"mask must be 2-D (H, W), got shape {mask.shape}")
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return []
    cols = np.flatnonzero(mask.any(axis=0))
    top, left = int(rows[0]), int(cols[0])
    # Trace inside the mask's bounding box (a small object in a large image is cheap).
    loops = _trace(mask[top:rows[-1] + 1, left:cols[-1] + 1].astype(bool))
    offset = np.array([left, top], dtype=np.int64)
    return [Loop(points=loop.points + offset, is_hole=loop.is_hole) for loop in loops]


def _trace(mask: np.ndarray) -> list[Loop]:
    """:func:`mask_loops` of a ``(H, W) bool`` mask, in its own pixel coordinates."""
    height, width = mask.shape
    padded = np.pad(mask, 1)
    inside = padded[1:-1, 1:-1]
    stride = width + 1  # corner (x, y) has index y * stride + x

    starts, ends = [], []
    # top edges: walk +x with the pixel below (on the right when y points down)
    ys, xs = np.nonzero(inside & ~padded[:-2, 1:-1])
    starts.append(ys * stride + xs)
    ends.append(ys * stride + xs + 1)
    # right edges: walk +y
    ys, xs = np.nonzero(inside & ~padded[1:-1, 2:])
    starts.append(ys * stride + xs + 1)
    ends.append((ys + 1) * stride + xs + 1)
    # bottom edges: walk -x
    ys, xs = np.nonzero(inside & ~padded[2:, 1:-1])
    starts.append((ys + 1) * stride + xs + 1)
    ends.append((ys + 1) * stride + xs)
    # left edges: walk -y
    ys, xs = np.nonzero(inside & ~padded[1:-1, :-2])
    starts.append((ys + 1) * stride + xs)
    ends.append(ys * stride + xs)
    start = np.concatenate(starts).astype(np.int64)
    end = np.concatenate(ends).astype(np.int64)
    if start.size == 0:
        return []

    order = np.argsort(start, kind="stable")
    start, end = start[order], end[order]
    n = start.size
    # Successor of each edge: the edge leaving its end corner. A corner has one outgoing edge,
    # or two where mask pixels touch diagonally; then take the right turn.
    first = np.searchsorted(start, end, side="left")
    count = np.searchsorted(start, end, side="right") - first
    successor = first.copy()
    pinch = np.flatnonzero(count == 2)
    if pinch.size:
        dx_in, dy_in = _direction(end[pinch] - start[pinch])
        candidate = first[pinch]
        dx_out, dy_out = _direction(end[candidate] - start[candidate])
        right_turn = dx_in * dy_out - dy_in * dx_out > 0  # clockwise on screen (y down)
        successor[pinch] = np.where(right_turn, candidate, candidate + 1)

    loops: list[Loop] = []
    visited = np.zeros(n, dtype=bool)
    successor_list = successor.tolist()
    for seed in range(n):
        if visited[seed]:
            continue
        cycle = []
        edge = seed
        while not visited[edge]:
            visited[edge] = True
            cycle.append(edge)
            edge = successor_list[edge]
        corners = start[np.asarray(cycle)]
        ys_c, xs_c = np.divmod(corners, stride)
        points = np.stack([xs_c, ys_c], axis=1)
        before = points - np.roll(points, 1, axis=0)
        after = np.roll(points, -1, axis=0) - points
        turn = before[:, 0] * after[:, 1] - before[:, 1] * after[:, 0]
        points = points[turn != 0]
        x, y = points[:, 0].astype(np.float64), points[:, 1].astype(np.float64)
        signed_area = 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y))
        loops.append(Loop(points=points, is_hole=signed_area < 0))
    return loops


def _direction(step: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unit ``(dx, dy)`` of edges whose corner-index step is +-1 (along x) or +-stride (y)."""
    along_x = np.abs(step) == 1
    return np.where(along_x, step, 0), np.where(along_x, 0, np.sign(step))


def centre_points(loop: Loop) -> np.ndarray:
    """A loop moved half a pixel towards the mask: through the centres of its boundary pixels.

    Each edge of a loop has the mask on its right (image coordinates, y down), so its inward
    normal is ``(-dy, dx)`` for the edge direction ``(dx, dy)``; every vertex, a right-angle
    corner, moves by half the sum of the inward normals of its two edges (the offset of a
    rectilinear polygon). A hole's loop moves into the hole's surround, the mask.

    Parameters
    ----------
    loop : Loop
        From :func:`mask_loops`.

    Returns
    -------
    (n, 2) float64
        Vertices ``(x, y)`` in pixels, each at a pixel centre ``(col + 0.5, row + 0.5)`` of a
        boundary pixel of the mask; consecutive vertices may coincide where the mask is one
        pixel wide. ``numpy.floor`` (or Ultralytics' ``astype(np.int32)``) of them are the pixel
        indices that ``cv2.fillPoly`` fills back to the mask.
    """
    points = loop.points.astype(np.float64)
    incoming = points - np.roll(points, 1, axis=0)
    outgoing = np.roll(points, -1, axis=0) - points
    incoming /= np.abs(incoming).sum(axis=1, keepdims=True)
    outgoing /= np.abs(outgoing).sum(axis=1, keepdims=True)
    normals = (np.stack([-incoming[:, 1], incoming[:, 0]], axis=1)
               + np.stack([-outgoing[:, 1], outgoing[:, 0]], axis=1))
    return points + 0.5 * normals


def bridge_loops(loops: list[Loop], *, centres: bool = False) -> np.ndarray:
    """Join several loops into one polygon by zero-width bridges.

    For formats with one polygon per object (YOLO segmentation), the parts of a disconnected
    mask and its holes are joined the way Ultralytics' ``merge_multi_segment`` does for COCO
    conversion: each further loop is spliced into the polygon at its pair of closest vertices,
    walking there and back along the same segment. Even-odd and non-zero filling of the result
    (``cv2.fillPoly``) give the union of the outer loops minus the holes, up to the bridges.

    Parameters
    ----------
    loops : list of Loop
        From :func:`mask_loops`; outer loops are joined first, then holes.
    centres : bool
        Join the loops' :func:`centre_points` (the polygon Ultralytics rasterizes back to the
        mask) instead of their pixel-edge vertices (the polygon pycocotools does).

    Returns
    -------
    (n, 2) float64
        Vertices ``(x, y)`` in pixels; the polygon closes from the last back to the first.

    Raises
    ------
    ValueError
        If ``loops`` is empty.
    """
    if not loops:
        raise ValueError("bridge_loops needs at least one loop")
    ordered = [loop for loop in loops if not loop.is_hole] + [loop for loop in loops
                                                               if loop.is_hole]
    parts = [centre_points(loop) if centres else loop.points.astype(np.float64)
             for loop in ordered]
    merged = parts[0]
    for part in parts[1:]:
        distance = ((merged[:, None, :] - part[None, :, :]) ** 2).sum(axis=2)
        i, j = np.unravel_index(int(np.argmin(distance)), distance.shape)
        rolled = np.roll(part, -j, axis=0)
        merged = np.concatenate([merged[: i + 1], rolled, rolled[:1], merged[i:]])
    return merged
