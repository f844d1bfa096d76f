"""The coarse stand-ins drawn by the occlusion pre-pass and the shadow maps
(``synthscene.render.coarse_meshes``): fewer triangles, the same shape and the same winding."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh

from synthscene.render.coarse_meshes import cluster_vertices


def _coarse(mesh: trimesh.Trimesh, cells: int) -> trimesh.Trimesh:
    vertices, triangles = cluster_vertices(mesh.vertices, mesh.faces, cells)
    return trimesh.Trimesh(vertices, triangles, process=False)


def test_a_sphere_keeps_its_shape_and_its_outward_winding_with_fewer_triangles():
    sphere = trimesh.creation.icosphere(subdivisions=4, radius=0.05)  # 5120 triangles
    coarse = _coarse(sphere, 8)
    assert len(coarse.faces) < len(sphere.faces) / 4
    # Every vertex within a cell's diagonal of the surface (cells of 1 cm here; on a smooth
    # surface the mean of a cell's vertices lies much closer).
    radii = np.linalg.norm(coarse.vertices, axis=1)
    assert np.abs(radii - 0.05).max() < 0.002
    # Faces still wound counter-clockwise seen from outside: the signed volume is positive and
    # close to the sphere's.
    assert coarse.volume > 0
    assert coarse.volume == pytest.approx(sphere.volume, rel=0.1)
    # Each face normal points away from the centre.
    centres = coarse.triangles_center
    assert (np.einsum("ij,ij->i", coarse.face_normals, centres) > 0).all()


def test_cells_finer_than_the_mesh_change_nothing():
    box = trimesh.creation.box((0.1, 0.2, 0.3))
    vertices, triangles = cluster_vertices(box.vertices, box.faces, 64)
    assert len(triangles) == len(box.faces)
    np.testing.assert_allclose(vertices[triangles], box.vertices[box.faces], atol=1e-7)


def test_an_unindexed_mesh_is_welded():
    sphere = trimesh.creation.icosphere(subdivisions=3, radius=1.0)
    soup = sphere.vertices[sphere.faces].reshape(-1, 3)  # 3 vertices a triangle
    vertices, triangles = cluster_vertices(soup, np.arange(len(soup)).reshape(-1, 3), 12)
    assert len(vertices) < len(sphere.vertices)
    assert 0 < len(triangles) < len(sphere.faces)


@pytest.mark.parametrize("cells", [0, -3])
def test_bad_cells_are_refused(cells):
    box = trimesh.creation.box()
    with pytest.raises(ValueError, match="cells"):
        cluster_vertices(box.vertices, box.faces, cells)
