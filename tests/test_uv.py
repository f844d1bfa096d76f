"""Box-projected texture coordinates, checked against the documented convention."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh

from synthscene.assets.uv import box_uv
from tolerances import tol


def signed_area(tri_2d: np.ndarray) -> np.ndarray:
    """Signed area of (m, 3, 2) triangles, positive when counter-clockwise."""
    a, b, c = tri_2d[:, 0], tri_2d[:, 1], tri_2d[:, 2]
    return 0.5 * ((b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1])
                  - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0]))


def test_box_gets_non_degenerate_non_constant_uvs_on_every_face():
    box = trimesh.creation.box((0.4, 0.6, 0.8))
    out = box_uv(box.vertices, box.faces, scale=0.2)
    m = len(box.faces)
    assert out.vertices.shape == (3 * m, 3) and out.vertices.dtype == np.float64
    assert out.faces.shape == (m, 3) and out.faces.dtype == np.int64
    assert out.uv.shape == (3 * m, 2) and out.uv.dtype == np.float32
    assert out.normals.shape == (3 * m, 3) and out.normals.dtype == np.float32
    np.testing.assert_array_equal(out.vertices, box.vertices[box.faces].reshape(-1, 3))
    tri_uv = out.uv[out.faces]
    # Every triangle covers a real patch of texture: its UV area is its 3D area / scale^2.
    np.testing.assert_allclose(np.abs(signed_area(tri_uv)), box.area_faces / 0.2**2, rtol=1e-5)
    # Every side of the box spans more than one value of u and of v.
    for axis in range(3):
        for sign in (-1, 1):
            side = np.isclose(box.face_normals[:, axis], sign)
            uv = tri_uv[side].reshape(-1, 2)
            assert np.ptp(uv[:, 0]) > 0 and np.ptp(uv[:, 1]) > 0


def test_uvs_follow_the_documented_planes():
    box = trimesh.creation.box((1.0, 1.0, 1.0))
    out = box_uv(box.vertices, box.faces, scale=0.5)
    v, uv = out.vertices, out.uv
    normals = np.repeat(box.face_normals, 3, axis=0)
    x, y, z = v.T / 0.5
    expected = {  # (axis, sign): (u, v) with u = right / scale, v = -up / scale
        (0, 1): (y, -z), (0, -1): (-y, -z), (1, 1): (-x, -z), (1, -1): (x, -z),
        (2, 1): (x, -y), (2, -1): (x, y),
    }
    for (axis, sign), (eu, ev) in expected.items():
        sel = np.isclose(normals[:, axis], sign)
        assert sel.sum() == 6
        np.testing.assert_allclose(uv[sel, 0], eu[sel], atol=tol.float32)
        np.testing.assert_allclose(uv[sel, 1], ev[sel], atol=tol.float32)
    np.testing.assert_allclose(out.normals, normals, atol=tol.float32)


@pytest.mark.parametrize("mesh", [trimesh.creation.icosphere(subdivisions=2),
                                  trimesh.creation.cylinder(radius=0.3, height=1.0, sections=24),
                                  trimesh.creation.box((1.0, 2.0, 0.5))])
def test_textures_are_never_mirrored(mesh):
    """Seen from outside, a counter-clockwise triangle stays counter-clockwise in (u, -v)
    (glTF's v points down the image), so no face shows a mirror image."""
    out = box_uv(mesh.vertices, mesh.faces)
    tri = out.uv[out.faces].astype(np.float64) * np.array([1.0, -1.0])
    area = signed_area(tri)
    real = mesh.area_faces > 1e-12
    projected = np.abs(area) > 1e-9     # faces perpendicular to their plane project to a line
    assert (area[real & projected] > 0).all()
    assert (real & projected).mean() > 0.9


def test_degenerate_face_and_bad_input():
    vertices = np.array([[0, 0, 0], [1, 0, 0], [2, 0, 0], [0, 1, 0]], float)
    out = box_uv(vertices, np.array([[0, 1, 2], [0, 1, 3]]))
    assert np.isfinite(out.uv).all()
    np.testing.assert_array_equal(out.normals[:3], 0.0)
    np.testing.assert_allclose(out.normals[3:], [[0, 0, 1]] * 3)
    with pytest.raises(ValueError, match="scale"):
        box_uv(vertices, np.array([[0, 1, 3]]), scale=0)
    with pytest.raises(ValueError, match=r"\(n, 3\)"):
        box_uv(vertices[:, :2], np.array([[0, 1, 3]]))
    with pytest.raises(ValueError, match="face indices"):
        box_uv(vertices, np.array([[0, 1, 4]]))
