"""The keypoints every category of a dataset has: the 8 corners of the object's 3D bounding box
and its centre (their names and the COCO ``skeleton``), shared by the labeller
(:mod:`synthscene.labels.annotate`) and the writer (:mod:`synthscene.io.coco`).
"""

from __future__ import annotations

from itertools import product

__all__ = ["CORNER_SIGNS", "KEYPOINT_NAMES", "KEYPOINT_SKELETON"]

CORNER_SIGNS = tuple(product((-1, 1), repeat=3))
"""(8,) (sx, sy, sz): corner ``i`` is at min (-1) or max (+1) of each axis; z varies fastest."""

KEYPOINT_NAMES: tuple[str, ...] = tuple(
    "corner_" + "".join(f"{'-' if s < 0 else '+'}{axis}" for s, axis in zip(signs, "xyz"))
    for signs in CORNER_SIGNS
) + ("center",)
"""Names of the 9 keypoints of every category, in COCO order: the 8 corners of the object's 3D
bounding box (``"corner_-x-y-z"`` is the corner at the minimum of x, y and z of the object frame,
``"corner_+x-y-z"`` at maximum x, ...; z varies fastest) and the box's centre."""

KEYPOINT_SKELETON: tuple[tuple[int, int], ...] = tuple(
    (i + 1, j + 1)
    for i in range(8) for j in range(i + 1, 8)
    if sum(a != b for a, b in zip(CORNER_SIGNS[i], CORNER_SIGNS[j])) == 1
)
"""The 12 edges of the 3D bounding box as pairs of 1-based keypoint indices (COCO ``skeleton``)."""
