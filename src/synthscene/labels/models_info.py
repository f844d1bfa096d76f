"""Object model descriptions for the dataset's top-level ``models`` list (BOP's models_info).

BOP describes every object by one fixed model: its diameter and its bounding box, in
millimetres. A synthscene object is its asset's normalised mesh times a size drawn per instance,
so a category has one fixed model only when it holds one asset and ``objects.size_m`` is a
constant (the model: the normalised mesh times it, centred on its bounding box) or ``native``
(the model: the asset's file in metres, its own origin, as the pose labels then are); only those
categories are described (the BOP exporter notes the others). A category whose assets are one
object of a ``bop:`` models folder also carries that object's BOP id (``obj_id``), described or
not, so that ``export --to bop`` writes it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.spatial import ConvexHull, QhullError

from synthscene.config.fields import NativeSize
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
        "size_y", "size_z"}``, lengths in millimetres in the model frame (BOP's
        ``models_info.json`` fields), for each category with exactly one asset when
        ``objects.size_m`` is a constant or ``native``; plus ``"obj_id"`` (and then
        ``category_id`` and ``asset`` at least) for a category whose assets are one BOP
        object; ``"model_frame": "file"`` when the geometry is the asset's file about its own
        origin (``size_m: native``). Empty when no category qualifies.
    """
    size = scenario.spec.objects.size_m
    native = isinstance(size, NativeSize)
    fixed = native or isinstance(size, Constant)
    objects = getattr(library, "objects", library)  # SceneLibraries: its objects' library
    by_category: dict[str, list[str]] = {}
    for key in library.keys:
        by_category.setdefault(library.category_of(key), []).append(key)
    entries = []
    for name, category_id in category_ids(library.categories).items():
        keys = by_category.get(name, [])
        bop_ids = {objects.bop_obj_id(key) for key in keys}
        entry: dict[str, Any] = {}
        if len(keys) == 1 and fixed:
            entry = _geometry(library.get(keys[0]), native, size)
        if len(bop_ids) == 1 and None not in bop_ids:
            entry["obj_id"] = bop_ids.pop()
        if entry:
            entries.append({"category_id": category_id, "asset": keys[0], **entry})
    return entries


def _geometry(asset: Any, native: bool, size: Any) -> dict[str, Any]:
    """``diameter_mm`` and the ``min_*``/``size_*`` fields (mm) of an asset's model."""
    vertices = np.asarray(asset.mesh.vertices, dtype=np.float64)
    if native:  # the file, in metres, about its own origin
        vertices = (vertices - asset.file_origin) * (asset.native_size_m * 1000.0)
    else:
        vertices = vertices * (float(size.value) * 1000.0)
    lo, hi = vertices.min(axis=0), vertices.max(axis=0)
    return {
        "diameter_mm": round(_diameter(vertices), 4),
        "min_x": float(lo[0]), "min_y": float(lo[1]), "min_z": float(lo[2]),
        "size_x": float(hi[0] - lo[0]), "size_y": float(hi[1] - lo[1]),
        "size_z": float(hi[2] - lo[2]),
        **({"model_frame": "file"} if native else {}),
    }
