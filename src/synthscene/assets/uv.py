"""Texture coordinates for meshes that have none: box (cube) projection.

Each triangle is projected onto the coordinate plane of its dominant normal axis, the projection
that triplanar mapping blends and that box / cube-projection UV unwrapping uses (e.g. Blender's
"Cube Projection", Unity ProBuilder's box projection). The triangles are un-merged (three
vertices of their own each), so neighbouring triangles projected on different planes do not share
a UV seam.

Convention
----------
For a triangle whose normal is dominated by axis ``+X``, ``-X``, ``+Y``, ``-Y``, ``+Z`` or ``-Z``
(largest absolute component; ties go to the lower axis), the projected coordinates
``(right, up)`` are, as seen from outside the mesh looking against the normal:

======  =========  ======
axis    right      up
======  =========  ======
``+X``  ``+y``     ``+z``
``-X``  ``-y``     ``+z``
``+Y``  ``-x``     ``+z``
``-Y``  ``+x``     ``+z``
``+Z``  ``+x``     ``+y``
``-Z``  ``+x``     ``-y``
======  =========  ======

so a texture is never mirrored, and on the four side faces its top points to +z. Then
``u = right / scale`` and ``v = -up / scale``: glTF 2.0 puts ``(u, v) = (0, 0)`` at the first
pixel of the image (top left) with ``v`` growing downwards, so the image appears upright. UVs
are not limited to [0, 1]: the texture repeats every ``scale`` mesh units, so the renderer's
sampler must wrap with ``REPEAT`` (glTF's and pyrender's default).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# (axis, sign) -> (index of "right", sign of right, index of "up", sign of up)
_PLANES = {
    (0, 1): (1, 1.0, 2, 1.0),
    (0, -1): (1, -1.0, 2, 1.0),
    (1, 1): (0, -1.0, 2, 1.0),
    (1, -1): (0, 1.0, 2, 1.0),
    (2, 1): (0, 1.0, 1, 1.0),
    (2, -1): (0, 1.0, 1, -1.0),
}


@dataclass(frozen=True, eq=False)
class BoxUV:
    """A mesh with per-corner texture coordinates, from :func:`box_uv`.

    Attributes
    ----------
    vertices : (3 * n_faces, 3) float64
        Triangle corners, three per face in the input's order, mesh units.
    faces : (n_faces, 3) int64
        ``arange(3 * n_faces).reshape(-1, 3)``: face ``i`` uses vertices ``3i, 3i+1, 3i+2``.
    uv : (3 * n_faces, 2) float32
        Texture coordinates (glTF convention, see the module notes), unbounded.
    normals : (3 * n_faces, 3) float32
        Each face's unit normal, repeated on its three vertices (flat shading; zero for
        degenerate faces).
    """

    vertices: np.ndarray
    faces: np.ndarray
    uv: np.ndarray
    normals: np.ndarray


def box_uv(vertices: np.ndarray, faces: np.ndarray, *, scale: float = 1.0) -> BoxUV:
    """Box-project texture coordinates onto every triangle of a mesh.

    Parameters
    ----------
    vertices : (n, 3) float
        Vertex positions, mesh units.
    faces : (m, 3) int
        Counter-clockwise triangles (outward normal by the right-hand rule).
    scale : float
        Mesh units per texture repeat (> 0): a texture spans ``scale`` along each direction.

    Returns
    -------
    BoxUV
        Un-merged vertices, faces, UVs and flat normals, following the module's convention.

    Raises
    ------
    ValueError
        If the arrays have the wrong shapes, a face index is out of range, or ``scale`` <= 0.
    """
    v = np.asarray(vertices, dtype=np.float64)
    f = np.asarray(faces)
    if v.ndim != 2 or v.shape[1] != 3 or f.ndim != 2 or f.shape[1] != 3:
        raise ValueError(f"vertices must be (n, 3) and faces (m, 3), got {v.shape} and {f.shape}")
    if not scale > 0:
        raise ValueError(f"scale must be > 0, got {scale!r}")
    if f.size and (f.min() < 0 or f.max() >= len(v)):
        raise ValueError(f"face indices must lie in [0, {len(v) - 1}]")
    corners = v[f.astype(np.int64)]                                   # (m, 3, 3)
    normal = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])
    length = np.linalg.norm(normal, axis=1, keepdims=True)
    unit = np.divide(normal, length, out=np.zeros_like(normal), where=length > 0)
    axis = np.argmax(np.abs(normal), axis=1)
    sign = np.where(normal[np.arange(len(f)), axis] < 0, -1, 1)
    uv = np.empty((len(f), 3, 2))
    for (ax, sg), (ri, rs, ui, us) in _PLANES.items():
        sel = (axis == ax) & (sign == sg)
        uv[sel, :, 0] = rs * corners[sel, :, ri] / scale
        uv[sel, :, 1] = -us * corners[sel, :, ui] / scale
    n_faces = len(f)
    return BoxUV(
        vertices=corners.reshape(-1, 3),
        faces=np.arange(3 * n_faces, dtype=np.int64).reshape(-1, 3),
        uv=uv.reshape(-1, 2).astype(np.float32),
        normals=np.repeat(unit, 3, axis=0).astype(np.float32),
    )
