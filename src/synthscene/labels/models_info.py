"""Object model descriptions for the dataset's top-level ``models`` list (BOP's models_info).

BOP describes every object by one fixed model: its diameter and its bounding box, in
millimetres. A synthscene object is its asset's normalised mesh times a size drawn per instance,
so a category has one fixed model only when it holds one asset and ``objects.size_m`` is a
constant; only those categories are described (the BOP exporter notes the others).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.spatial import ConvexHull, QhullError

from synthscene.config.loading import Scenario
from synthscene.io.coco import category_ids
from synthscene.registry.distributions import Constant

__all__ = ["model_entries"]


def _diameter(points: np.ndarray) -> float:
    """Largest distance between two of ``points`` (n, 3), over their convex hull's vertices."""
    try:
        points = points[ConvexHull(points).vertices]
    except QhullError:  # degenerate (flat) meshes: use every point
        pass
    best = 0.0
    for start in range(0, len(points), 512):
        block = points[start:start + 512]
        d = np.sqrt(((block[:, None, :] - points[None, :, :]) ** 2).sum(axis=2))
        best = max(best, float(d.max()))
    return best


def model_entries(scenario: Scenario, library) -> list[dict[str, Any]]:
    """The ``models`` entries of the categories that have one fixed model.

    Parameters
    ----------
    scenario : Scenario
    library : SceneLibraries or AssetLibrary
        ``categories`` sorted (category id = position + 1), ``keys``, ``category_of`` and
        ``get(key).mesh`` (normalised mesh).

    Returns
    -------
    list of dict
        ``{"category_id", "asset", "diameter_mm", "min_x", "min_y", "min_z", "size_x",
        "size_y", "size_z"}``, lengths in millimetres in the object frame (BOP's
        ``models_info.json`` fields), for each category with exactly one asset when
        ``objects.size_m`` is a constant; empty otherwise.
    """
    size = scenario.spec.objects.size_m
    if not isinstance(size, Constant):
        return []
    scale_mm = float(size.value) * 1000.0
    by_category: dict[str, list[str]] = {}
    for key in library.keys:
        by_category.setdefault(library.category_of(key), []).append(key)
    entries = []
    for name, category_id in category_ids(library.categories).items():
        keys = by_category.get(name, [])
        if len(keys) != 1:
            continue
        vertices = np.asarray(library.get(keys[0]).mesh.vertices, dtype=np.float64) * scale_mm
        lo, hi = vertices.min(axis=0), vertices.max(axis=0)
        entries.append({
            "category_id": category_id, "asset": keys[0],
            "diameter_mm": round(_diameter(vertices), 4),
            "min_x": float(lo[0]), "min_y": float(lo[1]), "min_z": float(lo[2]),
            "size_x": float(hi[0] - lo[0]), "size_y": float(hi[1] - lo[1]),
            "size_z": float(hi[2] - lo[2]),
        })
    return entries
