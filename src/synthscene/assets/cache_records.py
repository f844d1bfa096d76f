"""Loaded assets as asset-cache entries (:mod:`synthscene.assets.cache`) and back.

An entry is plain arrays plus JSON values, so that it reads back without unpickling anything:

- ``geometry`` (:func:`geometry_record`): the normalised mesh (vertices, faces, and what of its
  visual the renderer draws: texture coordinates, or face or vertex colours), the collision
  hulls, the exact collision solid, the transform from the file's frame, and a summary
  (triangles, extent in the file's units, watertight) for listings.
- ``look`` (:func:`look_record`): each visual part's arrays and material, its texture images
  stored decoded (zlib-compressed), once per distinct image.

Every load goes through these records, cached or not (:func:`rebuilt_geometry`,
:func:`rebuilt_look`), so that an asset is the very same arrays whether it came from its files
or from the cache.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import trimesh

from synthscene.assets.appearance import AssetMaterial, VisualPart
from synthscene.assets.collision import CollisionPrimitive

__all__ = ["geometry_from_record", "geometry_record", "look_from_record", "look_record",
           "rebuilt_geometry", "rebuilt_look"]

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
    for i, hull in enumerate(hulls):
        arrays[f"hull_{i}"] = np.asarray(hull, dtype=np.float64)
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
    for i in range(int(meta["hulls"])):
        hull = np.ascontiguousarray(arrays[f"hull_{i}"], dtype=np.float64)
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
