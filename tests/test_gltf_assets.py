"""glTF/GLB assets as GSO and Objaverse ship them: several meshes and materials in one file, an
embedded texture, and node transforms.

The GLB is built here with trimesh's exporter: part A, a red box with a ``baseColorFactor`` and
metallic/roughness factors; part B, a smaller box with an embedded blue ``baseColorTexture``,
placed by its node's transform (turned 90 degrees about z and moved). The checks compare with
the geometry built here: each part's material, each part where its node puts it, and the
rendered pixels (B's colour where the transform puts it, nothing where B would be without the
turn).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import trimesh
from PIL import Image
from trimesh.visual import TextureVisuals
from trimesh.visual.material import PBRMaterial

from synthscene.assets.library import AssetLibrary, AssetSource

BLUE = (20, 40, 230)
A_EXTENTS = (0.06, 0.03, 0.02)
B_EXTENTS = (0.04, 0.02, 0.02)


def b_transform() -> np.ndarray:
    """Part B's node transform: 90 degrees about z, then moved to (0.06, 0.01, 0)."""
    transform = trimesh.transformations.rotation_matrix(np.pi / 2, [0, 0, 1])
    transform[:3, 3] = (0.06, 0.01, 0.0)
    return transform


def write_two_part_glb(path: Path) -> None:
    a = trimesh.creation.box(A_EXTENTS)
    a.visual = TextureVisuals(material=PBRMaterial(
        baseColorFactor=[0.9, 0.05, 0.05, 1.0], metallicFactor=0.0, roughnessFactor=0.7))
    b = trimesh.creation.box(B_EXTENTS)
    texture = Image.fromarray(np.tile(np.array(BLUE, np.uint8), (8, 8, 1)))
    b.visual = TextureVisuals(uv=np.full((len(b.vertices), 2), 0.5), material=PBRMaterial(
        baseColorTexture=texture, metallicFactor=0.3, roughnessFactor=0.4))
    scene = trimesh.Scene()
    scene.add_geometry(a, node_name="a", geom_name="a")
    scene.add_geometry(b, node_name="b", geom_name="b", transform=b_transform())
    path.write_bytes(scene.export(file_type="glb"))


def file_bounds() -> np.ndarray:
    """``(2, 3)``: the bounding box of both parts in the file's frame, from the geometry built
    here (B's corners through its node transform)."""
    a = trimesh.creation.box(A_EXTENTS).vertices
    b = trimesh.transform_points(trimesh.creation.box(B_EXTENTS).vertices, b_transform())
    points = np.vstack([a, b])
    return np.array([points.min(axis=0), points.max(axis=0)])


def test_each_primitive_keeps_its_material_texture_and_node_transform(tmp_path):
    write_two_part_glb(tmp_path / "two.glb")
    library = AssetLibrary([AssetSource("file:two.glb", base_dir=tmp_path)])
    key = library.keys[0]
    asset = library.get(key)
    lo, hi = file_bounds()
    assert asset.native_size_m == pytest.approx(float((hi - lo).max()), rel=1e-6)  # glTF: metres
    file_from_normalised = np.linalg.inv(asset.normalised_from_file)
    parts = {}
    for part in library.look(key):
        vertices = trimesh.transform_points(part.vertices, file_from_normalised)
        textured = part.material.base_color_texture is not None
        parts["b" if textured else "a"] = (part, vertices.min(axis=0), vertices.max(axis=0))
    a, a_lo, a_hi = parts["a"]
    assert a.material.base_color_factor[:3] == pytest.approx((0.9, 0.05, 0.05), abs=0.01)
    assert (a.material.metallic, a.material.roughness) == pytest.approx((0.0, 0.7), abs=0.01)
    assert a_hi - a_lo == pytest.approx(A_EXTENTS, abs=1e-6)
    b, b_lo, b_hi = parts["b"]
    assert tuple(b.material.base_color_texture[0, 0, :3]) == BLUE
    assert (b.material.metallic, b.material.roughness) == pytest.approx((0.3, 0.4), abs=0.01)
    # Turned 90 degrees: its 0.04 m edge now along y, centred where the node moved it.
    assert b_hi - b_lo == pytest.approx((0.02, 0.04, 0.02), abs=1e-6)
    assert (b_lo + b_hi) / 2 == pytest.approx((0.06, 0.01, 0.0), abs=1e-6)


@pytest.mark.gl
def test_a_rendered_glb_shows_each_parts_colour_where_its_node_puts_it(tmp_path):
    import synthscene
    from conftest import scene, top_down_camera
    from synthscene.core.state import Material, SceneObject

    write_two_part_glb(tmp_path / "two.glb")
    library = AssetLibrary([AssetSource("file:two.glb", base_dir=tmp_path)])
    key = library.keys[0]
    lo, hi = file_bounds()
    centre = (lo + hi) / 2  # the object frame is the file's box centre
    height = 0.05
    pose = np.eye(4)
    pose[:3, 3] = (0.0, 0.0, height)
    obj = SceneObject(instance_id=1, asset_key=key, category="two", scale=float((hi - lo).max()),
                      world_from_object=pose, material=Material(base_color=(0.5, 0.5, 0.5, 1.0),
                                                                appearance="keep"))
    camera = top_down_camera(200, 160, f=600.0, z=0.4)
    sample = synthscene.render_scene(scene([obj], camera, ground=False), library,
                                     shading="flat", keypoints=False)
    top = height + hi[2] - centre[2]  # the parts' top faces, world z

    def pixel(x: float, y: float) -> tuple[int, int]:
        """(row, column) of the file point (x, y) on the top faces (image x = world x, image
        y = world -y, camera at z = 0.4)."""
        wx, wy = x - centre[0], y - centre[1]
        f_over_z = 600.0 / (0.4 - top)
        return (int(round((160 - 1) / 2 - f_over_z * wy)),
                int(round((200 - 1) / 2 + f_over_z * wx)))

    rgb, ids = sample.render.rgb.astype(float), sample.render.instance_ids
    red = rgb[pixel(0.0, 0.0)]
    assert red[0] > 1.5 * max(red[1], red[2])
    for point in ((0.06, 0.01), (0.06, 0.025)):  # only where the turned, moved B lies
        blue = rgb[pixel(*point)]
        assert ids[pixel(*point)] == 1 and blue[2] > 1.5 * max(blue[0], blue[1])
    # Unturned, B would reach x = 0.08 there; turned, it ends at x = 0.07.
    assert ids[pixel(0.076, 0.01)] == 0


def test_a_metallic_roughness_texture_counts_by_its_mean_not_as_bare_metal(tmp_path):
    # As Objaverse models often are: a packed texture (green: roughness, blue: metalness) and
    # no factors, whose glTF defaults are 1. Half the texels are rough plastic (G 255, B 0),
    # half mid-rough metal (G 128, B 255).
    packed = np.zeros((8, 8, 3), np.uint8)
    packed[:4] = (0, 255, 0)
    packed[4:] = (0, 128, 255)
    box = trimesh.creation.box((0.05, 0.05, 0.05))
    box.visual = TextureVisuals(uv=np.full((len(box.vertices), 2), 0.5), material=PBRMaterial(
        baseColorFactor=[0.5, 0.5, 0.5, 1.0], metallicRoughnessTexture=Image.fromarray(packed)))
    (tmp_path / "packed.glb").write_bytes(box.export(file_type="glb"))
    library = AssetLibrary([AssetSource("file:packed.glb", base_dir=tmp_path)])
    (part,) = library.look(library.keys[0])
    assert part.material.metallic == pytest.approx(0.5, abs=0.01)
    assert part.material.roughness == pytest.approx((1.0 + 128 / 255) / 2, abs=0.01)
