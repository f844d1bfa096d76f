"""Loaded assets as asset-cache entries (:mod:`synthscene.assets.cache`) and back.

An entry is plain arrays plus JSON values, so that it reads back without unpickling anything:

- ``geometry`` (:func:`geometry_record`): the normalised mesh (vertices, faces, and what of its
  visual the renderer draws: texture coordinates, or face or vertex colours), the collision
  hulls, the exact collision solid, the transform from the file's frame, and a summary
  (triangles, extent in the file's units, watertight) for listings.
- ``look`` (:func:`look_record`): each visual part's arrays and material, its texture images
  stored decoded (zlib-compressed), once per distinct image.
- ``hulls-N`` (:func:`collision_parts`): the collision hulls merged down to ``N`` with their
  shrinking directions and mass properties, what the simulation and the ``stable`` placement
  collide (the costliest part of an asset to make: a greedy merge of convex pieces).

Every load goes through these records, cached or not (:func:`rebuilt_geometry`,
:func:`rebuilt_look`), so that an asset is the very same arrays whether it came from its files
or from the cache.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import trimesh

from synthscene.assets.appearance import AssetMaterial, VisualPart
from synthscene.assets.collision import (
    CollisionHull,
    CollisionPrimitive,
    collision_hull,
    merge_hulls,
)

__all__ = ["collision_parts", "geometry_from_record", "geometry_record", "look_from_record",
           "look_record", "rebuilt_geometry", "rebuilt_look"]

Geometry = tuple[trimesh.Trimesh, tuple[np.ndarray, ...], CollisionPrimitive | None, np.ndarray]
"""What :func:`synthscene.assets.loading.load_geometry` returns."""

Record = tuple[dict[str, Any], dict[str, np.ndarray]]


def geometry_record(geometry: Geometry, *, summary: bool = True) -> Record:
    """The entry of a loaded geometry.

    Parameters
    ----------
    geometry : (mesh, hulls, solid, normalised_from_file)
        As :func:`synthscene.assets.loading.load_geometry` returns it.
    summary : bool
        Add the summary (``meta["summary"]``: ``triangles``, ``file_extent``, the bounding box's
        edges in the file's units, and ``watertight``), which costs a pass over the mesh's
        edges.

    Returns
    -------
    meta : dict
        JSON values.
    arrays : dict of str to ndarray
    """
    mesh, hulls, solid, transform = geometry
    arrays: dict[str, np.ndarray] = {
        "vertices": np.asarray(mesh.vertices, dtype=np.float64),
        "faces": np.asarray(mesh.faces, dtype=np.int64),
        "normalised_from_file": np.asarray(transform, dtype=np.float64),
    }
    visual = mesh.visual
    kind = "none"
    if isinstance(visual, trimesh.visual.TextureVisuals):
        if visual.uv is not None:
            kind, arrays["uv"] = "uv", np.asarray(visual.uv, dtype=np.float64)
    elif isinstance(visual, trimesh.visual.ColorVisuals) and visual.kind == "face":
        kind, arrays["colors"] = "face", np.asarray(visual.face_colors, dtype=np.uint8)
    elif isinstance(visual, trimesh.visual.ColorVisuals) and visual.kind == "vertex":
        kind, arrays["colors"] = "vertex", np.asarray(visual.vertex_colors, dtype=np.uint8)
    # One array of all the hulls' points (an .npz member costs a read of its own).
    arrays["hulls"] = np.concatenate([np.asarray(h, dtype=np.float64).reshape(-1, 3)
                                      for h in hulls]) if hulls else np.zeros((0, 3))
    arrays["hull_sizes"] = np.array([len(h) for h in hulls], dtype=np.int64)
    meta: dict[str, Any] = {"visual": kind, "hulls": len(hulls), "solid": None}
    if solid is not None:
        arrays["solid_pose"] = np.asarray(solid.object_from_primitive, dtype=np.float64)
        meta["solid"] = {"kind": solid.kind, "half_extents": list(solid.half_extents),
                         "radius": solid.radius, "length": solid.length}
    if summary:
        scale = float(transform[0, 0])
        bounds = arrays["vertices"].max(axis=0) - arrays["vertices"].min(axis=0)
        meta["summary"] = {"triangles": int(len(arrays["faces"])),
                           "file_extent": [float(b) / scale for b in bounds],
                           "watertight": bool(mesh.is_watertight)}
    return meta, arrays


def geometry_from_record(meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> Geometry:
    """The geometry of an entry (the inverse of :func:`geometry_record`).

    Raises
    ------
    KeyError, ValueError, TypeError
        If the entry is not a geometry record (the caller treats it as a miss).
    """
    mesh = trimesh.Trimesh(vertices=arrays["vertices"], faces=arrays["faces"], process=False)
    kind = meta["visual"]
    if kind == "uv":
        mesh.visual = trimesh.visual.TextureVisuals(uv=arrays["uv"])
    elif kind == "face":
        mesh.visual = trimesh.visual.ColorVisuals(mesh, face_colors=arrays["colors"])
    elif kind == "vertex":
        mesh.visual = trimesh.visual.ColorVisuals(mesh, vertex_colors=arrays["colors"])
    elif kind != "none":
        raise ValueError(f"unknown visual {kind!r}")
    hulls = []
    sizes = arrays["hull_sizes"]
    if len(sizes) != int(meta["hulls"]) or int(sizes.sum()) != len(arrays["hulls"]):
        raise ValueError("hull sizes do not match")
    for hull in _split(arrays["hulls"], sizes):
        hull = np.array(hull, dtype=np.float64)
        hull.flags.writeable = False
        hulls.append(hull)
    solid = None
    if meta["solid"] is not None:
        given = meta["solid"]
        solid = CollisionPrimitive(
            kind=given["kind"], object_from_primitive=np.array(arrays["solid_pose"]),
            half_extents=tuple(float(h) for h in given["half_extents"]),
            radius=float(given["radius"]), length=float(given["length"]))
    return mesh, tuple(hulls), solid, np.array(arrays["normalised_from_file"])


def look_record(parts: tuple[VisualPart, ...]) -> Record:
    """The entry of an asset's look (its visual parts, in the normalised frame).

    Returns
    -------
    meta : dict
    arrays : dict of str to ndarray
    """
    arrays: dict[str, np.ndarray] = {}
    textures: dict[int, int] = {}
    described = []
    for i, part in enumerate(parts):
        arrays[f"vertices_{i}"] = np.asarray(part.vertices, dtype=np.float64)
        arrays[f"faces_{i}"] = np.asarray(part.faces, dtype=np.int64)
        if part.uv is not None:
            arrays[f"uv_{i}"] = np.asarray(part.uv, dtype=np.float64)
        if part.vertex_colors is not None:
            arrays[f"colors_{i}"] = np.asarray(part.vertex_colors, dtype=np.uint8)
        material = part.material
        texture = None
        if material.base_color_texture is not None:
            texture = textures.setdefault(id(material.base_color_texture), len(textures))
            arrays[f"texture_{texture}"] = np.asarray(material.base_color_texture,
                                                      dtype=np.uint8)
        described.append({
            "uv": part.uv is not None, "colors": part.vertex_colors is not None,
            "factor": [float(v) for v in material.base_color_factor], "texture": texture,
            "metallic": float(material.metallic), "roughness": float(material.roughness),
            "alpha_mode": material.alpha_mode, "alpha_cutoff": float(material.alpha_cutoff),
            "declared_by": material.declared_by})
    return {"parts": described, "textures": len(textures)}, arrays


def look_from_record(meta: dict[str, Any], arrays: dict[str, np.ndarray]
                     ) -> tuple[VisualPart, ...]:
    """The visual parts of an entry (the inverse of :func:`look_record`).

    Raises
    ------
    KeyError, ValueError, TypeError
        If the entry is not a look record (the caller treats it as a miss).
    """
    textures = [np.ascontiguousarray(arrays[f"texture_{j}"], dtype=np.uint8)
                for j in range(int(meta["textures"]))]
    parts = []
    for i, given in enumerate(meta["parts"]):
        material = AssetMaterial(
            base_color_factor=tuple(float(v) for v in given["factor"]),  # type: ignore[arg-type]
            base_color_texture=None if given["texture"] is None else textures[given["texture"]],
            metallic=float(given["metallic"]), roughness=float(given["roughness"]),
            alpha_mode=given["alpha_mode"], alpha_cutoff=float(given["alpha_cutoff"]),
            declared_by=str(given["declared_by"]))
        parts.append(VisualPart(
            vertices=np.asarray(arrays[f"vertices_{i}"], dtype=np.float64),
            faces=np.asarray(arrays[f"faces_{i}"], dtype=np.int64),
            uv=np.asarray(arrays[f"uv_{i}"], dtype=np.float64) if given["uv"] else None,
            vertex_colors=(np.asarray(arrays[f"colors_{i}"], dtype=np.uint8)
                           if given["colors"] else None),
            material=material))
    return tuple(parts)


def rebuilt_geometry(geometry: Geometry, *, summary: bool = True
                     ) -> tuple[Geometry, Record]:
    """A freshly loaded geometry as a cached one reads back, and its record (with its summary
    if ``summary``)."""
    record = geometry_record(geometry, summary=summary)
    return geometry_from_record(*record), record


def rebuilt_look(parts: tuple[VisualPart, ...]) -> tuple[tuple[VisualPart, ...], Record]:
    """A freshly loaded look as a cached one reads back, and its record."""
    record = look_record(parts)
    return look_from_record(*record), record


def collision_parts(asset, max_hulls: int) -> tuple[CollisionHull, ...]:
    """An asset's collision hulls merged down to ``max_hulls``, each made solid
    (:func:`~synthscene.assets.collision.merge_hulls`, then
    :func:`~synthscene.assets.collision.collision_hull`), read from the asset cache it was
    loaded through when it holds them, else computed (and written there).

    Parameters
    ----------
    asset : Asset
        A loaded asset (its ``cache`` and ``cache_key`` say where its entries are; anything with
        ``collision_hulls`` is computed).
    max_hulls : int
        >= 1.

    Returns
    -------
    tuple of CollisionHull

    Raises
    ------
    AssetError
        If a hull is empty or not finite (:func:`~synthscene.assets.collision.collision_hull`).
    """
    cache, key = getattr(asset, "cache", None), getattr(asset, "cache_key", None)
    kind = f"hulls-{int(max_hulls)}"
    if cache is not None and key is not None:
        found = cache.read(key, kind)
        if found is not None:
            try:
                return _hulls_from_record(*found)
            except Exception:  # noqa: BLE001 - not a record this code reads: compute it again
                pass
    hulls = tuple(collision_hull(points) for points in merge_hulls(asset.collision_hulls,
                                                                     max_hulls))
    if cache is not None and key is not None:
        arrays = {name: np.concatenate([np.asarray(getattr(h, name), dtype=np.float64)
                                        for h in hulls])
                  for name in ("vertices", "inward", "max_shrink")}
        arrays["sizes"] = np.array([len(h.vertices) for h in hulls], dtype=np.int64)
        arrays["centers"] = np.array([h.center for h in hulls], dtype=np.float64)
        arrays["inertias"] = np.array([h.inertia for h in hulls], dtype=np.float64)
        cache.write(key, kind, {"volumes": [float(h.volume) for h in hulls]}, arrays)
    return hulls


def _hulls_from_record(meta: dict[str, Any], arrays: dict[str, np.ndarray]
                       ) -> tuple[CollisionHull, ...]:
    sizes = arrays["sizes"]
    if len(sizes) != len(meta["volumes"]) or not len(sizes):
        raise ValueError("hull sizes do not match")
    parts = {name: _split(arrays[name], sizes) for name in ("vertices", "inward", "max_shrink")}
    return tuple(
        CollisionHull(vertices=np.array(parts["vertices"][i]), inward=np.array(parts["inward"][i]),
                      max_shrink=np.array(parts["max_shrink"][i]), volume=float(volume),
                      center=np.array(arrays["centers"][i]),
                      inertia=np.array(arrays["inertias"][i]))
        for i, volume in enumerate(meta["volumes"]))


def _split(stacked: np.ndarray, sizes: np.ndarray) -> list[np.ndarray]:
    """``stacked`` cut into consecutive pieces of ``sizes`` rows."""
    return np.split(stacked, np.cumsum(sizes)[:-1]) if len(sizes) else []
