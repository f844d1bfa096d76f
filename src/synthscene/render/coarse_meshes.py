"""Coarse stand-ins of uploaded meshes, for the passes that need an object's shape but not its
every triangle: the ambient-occlusion pre-pass (normals and depth at a quarter of the image's
resolution) and the shadow-map passes (depth from the light).

On llvmpipe a triangle costs about 0.1 microseconds on the thread that submits it (vertex
processing, clipping, culling, binning) whether or not it covers a pixel, so a pass that draws
every object again pays for each of its triangles again; a household mesh of 2000 to 9000
triangles covers a few hundred pixels of a quarter-resolution image. :func:`cluster_vertices`
merges the vertices that fall in one cell of a grid over the mesh's bounding box (vertex
clustering, Rossignac and Borrel 1993, "Multi-resolution 3D approximations for rendering
complex scenes") into their mean and drops the triangles that collapse; the surviving triangles
keep their winding, so face culling sees the same sides. The stand-in lies within about a cell
of the mesh (on a smooth surface much closer: the mean of the points in a cell lies on the
surface to within the cell's sagitta). :class:`CoarseMeshes` makes each stand-in once per
uploaded mesh and keeps it as long as the mesh is uploaded.
"""

from __future__ import annotations

import numpy as np

from synthscene.render.platform import ensure_gl_platform

ensure_gl_platform()

import pyrender  # noqa: E402  (the GL platform must be chosen first)
from OpenGL import GL  # noqa: E402

from synthscene.render.gl import VertexArray  # noqa: E402

__all__ = ["CoarseMeshes", "cluster_vertices"]


def cluster_vertices(positions: np.ndarray, triangles: np.ndarray,
                     cells: int) -> tuple[np.ndarray, np.ndarray]:
    """A mesh with the vertices in each cell of a ``cells``-per-edge grid merged.

    Parameters
    ----------
    positions : (n, 3) float
        Vertex positions.
    triangles : (m, 3) int
        Vertex indices of each triangle, counter-clockwise seen from its front.
    cells : int
        Cells along the longest edge of the bounding box (the cells are cubes), >= 1.

    Returns
    -------
    vertices : (k, 3) float32
        The mean position of the vertices of each occupied cell.
    triangles : (l, 3) uint32
        The triangles whose three corners fall in three different cells, with their winding,
        each once (a triangle that repeats another's cells in the same cyclic order is dropped).

    Raises
    ------
    ValueError
        If ``cells`` < 1 or the arrays are not shaped as said.
    """
    positions = np.asarray(positions, dtype=np.float64)
    triangles = np.asarray(triangles, dtype=np.int64)
    if cells < 1 or positions.ndim != 2 or positions.shape[1] != 3 or (
            triangles.ndim != 2 or triangles.shape[1] != 3):
        raise ValueError("cluster_vertices needs (n, 3) positions, (m, 3) triangles and "
                         "cells >= 1")
    if len(positions) == 0 or len(triangles) == 0:
        return positions.astype(np.float32), np.zeros((0, 3), dtype=np.uint32)
    low = positions.min(axis=0)
    cell = max(float((positions.max(axis=0) - low).max()) / cells, 1e-12)
    grid = np.minimum(np.floor((positions - low) / cell).astype(np.int64), cells)
    key = (grid[:, 0] * (cells + 1) + grid[:, 1]) * (cells + 1) + grid[:, 2]
    _, cluster = np.unique(key, return_inverse=True)
    cluster = cluster.reshape(-1)
    count = np.bincount(cluster).astype(np.float64)
    vertices = np.stack([np.bincount(cluster, positions[:, axis]) for axis in range(3)],
                        axis=1) / count[:, None]
    corners = cluster[triangles]
    kept = corners[(corners[:, 0] != corners[:, 1]) & (corners[:, 1] != corners[:, 2])
                   & (corners[:, 2] != corners[:, 0])]
    # The same triangle twice (same cells, same cyclic order): keep the first.
    first = np.argmin(kept, axis=1)
    rows = np.arange(len(kept))
    canonical = np.stack([kept[rows, (first + k) % 3] for k in range(3)], axis=1)
    _, unique = np.unique(canonical, axis=0, return_index=True)
    return vertices.astype(np.float32), kept[np.sort(unique)].astype(np.uint32)


class CoarseMeshes:
    """The stand-in of each uploaded triangle mesh, made on first use (a current GL context is
    needed for the whole life of the object).

    Parameters
    ----------
    cells : int
        Grid cells along a mesh's longest edge (:func:`cluster_vertices`).
    min_triangles : int
        Meshes of fewer triangles are drawn as they are.
    """

    def __init__(self, cells: int, min_triangles: int) -> None:
        self.cells, self.min_triangles = int(cells), int(min_triangles)
        self._made: dict[int, tuple[VertexArray, VertexArray]] = {}

    def get(self, mesh: VertexArray) -> VertexArray:
        """The stand-in of ``mesh`` (``mesh`` itself if it is small or not a triangle list)."""
        entry = self._made.get(id(mesh))
        if entry is not None and entry[0] is mesh:
            return entry[1]
        coarse = self._make(mesh)
        self._made[id(mesh)] = (mesh, coarse)
        return coarse

    def _make(self, mesh: VertexArray) -> VertexArray:
        if mesh.mode != GL.GL_TRIANGLES or mesh.instances != 1:
            return mesh
        positions = mesh.positions
        triangles = (np.arange(len(positions)) if mesh.indices is None
                     else mesh.indices).reshape(-1, 3)
        if len(triangles) < self.min_triangles:
            return mesh
        vertices, kept = cluster_vertices(positions, triangles, self.cells)
        if len(kept) == 0 or len(kept) >= len(triangles):
            return mesh
        return VertexArray(pyrender.Primitive(positions=vertices, indices=kept,
                                              mode=GL.GL_TRIANGLES))

    def forget_deleted(self) -> None:
        """Free the stand-ins of meshes that were freed since (``VertexArray.delete``)."""
        for key in [k for k, (mesh, _) in self._made.items() if mesh.id is None]:
            mesh, coarse = self._made.pop(key)
            if coarse is not mesh:
                coarse.delete()

    def delete(self) -> None:
        """Free every stand-in (the context must be current). Idempotent."""
        for mesh, coarse in self._made.values():
            if coarse is not mesh:
                coarse.delete()
        self._made = {}
