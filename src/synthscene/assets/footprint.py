"""The memory a loaded asset takes in a worker, in bytes: what ``limits.max_loaded_mib`` bounds.

A loaded asset holds its arrays in the library (the normalised mesh, its face normals, texture
coordinates and texture, its collision hulls; its look's parts and their textures), and, once
drawn, its GL uploads: the GL driver's copy of the vertex data (with Mesa, in the process; three
un-merged vertices a triangle: position, normal, texture coordinates as float32, and colours
when the part has them), the positions the renderer keeps of it
(:class:`~synthscene.render.gl.VertexArray`), plus a decoded texture's copy while it is drawn.
On top of the arrays every asset holds Python objects (trimesh's caches, the GL objects): about
:data:`ASSET_OVERHEAD_BYTES`, measured. The arrays are counted as they are held; the uploads are
estimated from the triangle counts (an asset drawn only with a randomized material never uploads
its look, and the other way round, so the estimate errs on the high side).

Measured on ``random_urdfs`` (464 triangles on average; ``scripts/benchmark_library.py``), when
the renderer still kept all of its vertex data (192 bytes a triangle counted): the estimate of
:func:`asset_bytes` was 185 KiB an asset, resident memory grew by 187 KiB an asset loaded and
uploaded. Keeping only the positions takes 60 bytes a triangle off each upload (about 27 KiB an
asset there; 159 KiB estimated).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

__all__ = ["ASSET_OVERHEAD_BYTES", "UPLOAD_BYTES_PER_TRIANGLE", "asset_bytes", "look_bytes"]

ASSET_OVERHEAD_BYTES = 64 * 2**10
"""Bytes of Python objects an asset holds besides its arrays (the mesh object and trimesh's
caches, the asset, its GL objects), counted once per asset and once more for its look."""

UPLOAD_BYTES_PER_TRIANGLE = 3 * (3 + 3 + 2) * 4 + 3 * 3 * 4
"""Bytes of one GL upload per triangle: the driver's copy of three vertices of float32 position,
normal and texture coordinates, and the float32 positions the renderer keeps."""

_COLOUR_BYTES_PER_TRIANGLE = 3 * 4 * 4
"""More bytes per triangle of an upload with vertex colours (the driver's float32 RGBA)."""


def _nbytes(values: Iterable[Any]) -> int:
    return sum(int(v.nbytes) for v in values if isinstance(v, np.ndarray))


def asset_bytes(asset: Any) -> int:
    """The bytes a loaded :class:`~synthscene.assets.library.Asset` takes, with the GL upload of
    its mesh.

    Parameters
    ----------
    asset : Asset
        Its ``mesh`` (a ``trimesh.Trimesh``: vertices, faces, texture coordinates or colours)
        and ``collision_hulls`` are read; face normals are counted as their (m, 3) float64 array
        whether trimesh has computed them yet or not.

    Returns
    -------
    int
        Bytes, > 0.
    """
    mesh = asset.mesh
    faces = len(mesh.faces)
    visual = getattr(mesh, "visual", None)
    colours = {"face": "face_colors", "vertex": "vertex_colors"}.get(getattr(visual, "kind", None))
    held = _nbytes((mesh.vertices, mesh.faces, getattr(visual, "uv", None),
                    None if colours is None else getattr(visual, colours)))
    held += faces * 3 * 8 + _nbytes(asset.collision_hulls)  # + the (m, 3) face normals
    return ASSET_OVERHEAD_BYTES + held + faces * UPLOAD_BYTES_PER_TRIANGLE


def look_bytes(parts: Iterable[Any]) -> int:
    """The bytes an asset's look takes (:meth:`~synthscene.assets.library.AssetLibrary.look`):
    its parts' arrays and decoded textures, the GL upload of each part and its texture's copy.

    Parameters
    ----------
    parts : iterable of VisualPart

    Returns
    -------
    int
        Bytes, > 0.
    """
    total = ASSET_OVERHEAD_BYTES
    for part in parts:
        texture = _nbytes((part.material.base_color_texture,))
        total += _nbytes((part.vertices, part.faces, part.uv, part.vertex_colors))
        total += 2 * texture + len(part.faces) * UPLOAD_BYTES_PER_TRIANGLE
        if part.vertex_colors is not None:
            total += len(part.faces) * _COLOUR_BYTES_PER_TRIANGLE
    return total
