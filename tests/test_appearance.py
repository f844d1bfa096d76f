"""Assets look like themselves: the colours and textures their files declare, rendered.

Truths used here, none of them synthscene's own code: the files themselves (URDF ``<color>``
read with ElementTree, texture images read with Pillow, the colours written into meshes made
here), pybullet's own renderer (``getCameraImage``, TinyRenderer), and OpenCV's HSV conversion.
Flat shading renders base colour x texture x vertex colour with no lighting, so the rendered
pixel is the declared colour itself.
"""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from pathlib import Path

import cv2
import numpy as np
import pybullet
import pybullet_data
import pytest
import trimesh
from PIL import Image

from conftest import pose, top_down_camera
from synthscene.core.state import HsvJitter, Light, Material, SceneObject, SceneState
from tolerances import tol

pytestmark = pytest.mark.gl

PYBULLET_DATA = Path(pybullet_data.getDataPath())
WIDTH, HEIGHT = 160, 120

# Every pybullet_data asset the bundled scenarios use, plus sphere2red and cube_small, with the
# texture file its OBJ's MTL names (map_Kd), None when it has none.
BUNDLED = [
    ("duck_vhacd.urdf", "duckCM.png"),
    ("teddy_vhacd.urdf", None),
    ("objects/mug.urdf", None),
    ("soccerball.urdf", "colors16.png"),
    ("lego/lego.urdf", None),
    ("bunny.obj", None),
    ("jenga/jenga.urdf", "jenga/jenga.png"),
    ("domino/domino.urdf", "domino/domino.jpg"),
    ("tray/traybox.urdf", "tray/tray.jpg"),
    ("sphere2red.urdf", None),
    ("cube_small.urdf", None),
]
NEUTRAL_GREY = 0.5  # documented: what an asset that declares nothing renders


def urdf_rgba(path: Path) -> np.ndarray | None:
    """The first ``<visual><material><color rgba>`` of a URDF, read with ElementTree."""
    root = ET.parse(path).getroot()
    for visual in root.iter("visual"):
        color = visual.find("material/color")
        if color is not None:
            return np.array([float(v) for v in color.get("rgba").split()])
    return None


def render_alone(library, key: str, material: Material, *, shading: str = "flat",
                 rotation: np.ndarray | None = None):
    from synthscene.render.renderer import Renderer
    from synthscene.render.settings import RenderSettings

    obj = SceneObject(instance_id=1, asset_key=key, category="x", scale=0.5,
                      world_from_object=pose((0.0, 0.0, 0.3), rotation), material=material)
    light = Light(kind="directional", world_from_light=np.eye(4), color=(1.0, 1.0, 1.0),
                  intensity=3.0)
    state = SceneState(objects=(obj,), lights=(light,), camera=top_down_camera(WIDTH, HEIGHT),
                       ground=None, ambient_light=(0.3, 0.3, 0.3))
    with Renderer(library, WIDTH, HEIGHT, RenderSettings(shading=shading)) as renderer:
        out = renderer.render(state)
    mask = out.instance_ids == 1
    assert mask.sum() > 200, f"{key}: only {mask.sum()} pixels"
    return out.rgb, mask


def library_of(source: str, base_dir: Path | None = None):
    from synthscene.assets.library import AssetLibrary, AssetSource

    library = AssetLibrary([AssetSource(source=source, base_dir=base_dir)])
    return library, library.keys[0]


KEEP = Material(base_color=(0.1, 0.9, 0.1, 1.0), metallic=None, roughness=None,
                appearance="keep")
TILT = cv2.Rodrigues(np.array([0.6, -0.4, 0.3]))[0]


@pytest.mark.parametrize(("relpath", "texture"), BUNDLED, ids=[r for r, _ in BUNDLED])
def test_keep_renders_the_declared_colour(relpath, texture):
    library, key = library_of(f"pybullet_data:{relpath}")
    rgb, mask = render_alone(library, key, KEEP, rotation=TILT)
    mean = rgb[mask].astype(float).mean(axis=0)
    path = PYBULLET_DATA / relpath
    rgba = urdf_rgba(path) if path.suffix == ".urdf" else None
    colour = np.array(rgba[:3]) if rgba is not None else np.full(3, NEUTRAL_GREY)
    if texture is None:
        # A plain colour: every pixel is the colour (flat shading), to rounding.
        np.testing.assert_allclose(mean, colour * 255, atol=1.5, err_msg=relpath)
        assert np.abs(rgb[mask].astype(float) - colour * 255).max() <= 1.0
    else:
        # Texture x URDF colour: the mean over the visible surface is near the texture's mean
        # times the colour (the view samples the texture unevenly, hence the tolerance).
        with Image.open(PYBULLET_DATA / texture) as image:
            texels = np.asarray(image.convert("RGB"), dtype=float)
        expected = texels.reshape(-1, 3).mean(axis=0) * colour
        np.testing.assert_allclose(mean, expected, atol=45, err_msg=relpath)
        # The texture is there: flat shading gives a plain surface exactly one colour.
        assert len(np.unique(rgb[mask], axis=0)) >= 3


def pybullet_view(path: Path) -> np.ndarray:
    """Mean RGB of the URDF's pixels in pybullet's own TinyRenderer image."""
    client = pybullet.connect(pybullet.DIRECT)
    try:
        body = pybullet.loadURDF(str(path), [0, 0, 0], physicsClientId=client)
        lo, hi = pybullet.getAABB(body, physicsClientId=client)
        centre, radius = (np.add(lo, hi) / 2), float(np.linalg.norm(np.subtract(hi, lo)))
        eye = centre + radius * np.array([0.6, 0.4, 1.2])
        view = pybullet.computeViewMatrix(eye.tolist(), centre.tolist(), [0, 0, 1])
        projection = pybullet.computeProjectionMatrixFOV(45, WIDTH / HEIGHT, 0.01, 100)
        _, _, rgba, _, seg = pybullet.getCameraImage(
            WIDTH, HEIGHT, view, projection, lightDirection=eye.tolist(),
            renderer=pybullet.ER_TINY_RENDERER, physicsClientId=client)
    finally:
        pybullet.disconnect(client)
    rgb = np.reshape(rgba, (HEIGHT, WIDTH, 4))[..., :3]
    mask = np.reshape(seg, (HEIGHT, WIDTH)) == body
    assert mask.sum() > 100
    return rgb[mask].astype(np.float32).mean(axis=0)


def hue_saturation(rgb) -> tuple[float, float]:
    hsv = cv2.cvtColor(np.float32(rgb).reshape(1, 1, 3) / 255.0, cv2.COLOR_RGB2HSV)[0, 0]
    return float(hsv[0]), float(hsv[1])


URDFS = [r for r, _ in BUNDLED if r.endswith(".urdf")]


@pytest.mark.parametrize("relpath", URDFS)
def test_lit_colour_agrees_in_hue_with_pybullets_renderer(relpath):
    library, key = library_of(f"pybullet_data:{relpath}")
    rgb, mask = render_alone(library, key, KEEP, shading="lit", rotation=TILT)
    ours = hue_saturation(rgb[mask].astype(float).mean(axis=0))
    theirs = hue_saturation(pybullet_view(PYBULLET_DATA / relpath))
    if theirs[1] < 0.15:  # white, grey, black-and-white: no hue to compare
        assert ours[1] < 0.2, (relpath, ours, theirs)
    else:
        gap = abs(ours[0] - theirs[0]) % 360
        assert min(gap, 360 - gap) < 20, (relpath, ours, theirs)
        assert ours[1] > 0.15, (relpath, ours, theirs)


def test_the_issue_scenario_renders_each_object_in_its_own_colour():
    """sphere2red, mug red; lego, duck yellow; cube white (the appearance scenario, lit)."""
    import synthscene

    sources = ["sphere2red.urdf", "cube_small.urdf", "lego/lego.urdf", "objects/mug.urdf",
               "duck_vhacd.urdf"]
    scenario = synthscene.scenario_from_dict({
        "image": {"width": 320, "height": 240},
        "assets": [{"source": f"pybullet_data:{s}"} for s in sources],
        "objects": {"count": 10, "asset_sampling": "asset",
                    "material": {"asset_appearance": "keep", "base_color": [0.1, 0.9, 0.1]}},
        "lights": {"count": 1, "kind": "directional", "color": [1, 1, 1],
                   "ambient": [0.35, 0.35, 0.35], "elevation_deg": 80},
    })
    seen = {}
    for sample in synthscene.iter_samples(scenario, frames=2, seed=0):
        for obj in sample.state.objects:
            mask = sample.render.instance_ids == obj.instance_id
            if mask.sum() > 150:
                seen.setdefault(obj.asset_key.split(":")[1], []).append(
                    sample.render.rgb[mask].astype(float).mean(axis=0))
    assert len(seen) >= 4, seen
    for source, means in seen.items():
        hue, saturation = hue_saturation(np.mean(means, axis=0))
        if source in ("sphere2red.urdf", "objects/mug.urdf"):
            assert saturation > 0.3 and min(hue, 360 - hue) < 15, (source, hue, saturation)
        elif source in ("lego/lego.urdf", "duck_vhacd.urdf"):
            assert saturation > 0.3 and 40 < hue < 70, (source, hue, saturation)
        else:
            assert saturation < 0.1 and np.mean(means) > 150, (source, hue, saturation)


# -- files made here ---------------------------------------------------------------------------


def write_obj(path: Path, mtl: str | None, with_uv: bool = True) -> None:
    box = trimesh.creation.box((1.0, 1.0, 1.0))
    lines = [f"mtllib {mtl}", "usemtl paint"] if mtl else []
    lines += [f"v {x} {y} {z}" for x, y, z in box.vertices]
    if with_uv:
        lines += [f"vt {u} {v}" for u, v in (box.vertices[:, :2] + 0.5)]
        lines += [f"f {a}/{a} {b}/{b} {c}/{c}" for a, b, c in box.faces + 1]
    else:
        lines += [f"f {a} {b} {c}" for a, b, c in box.faces + 1]
    path.write_text("\n".join(lines) + "\n")


def flat_colour(tmp_path: Path, name: str) -> np.ndarray:
    library, key = library_of(f"file:{name}", tmp_path)
    rgb, mask = render_alone(library, key, KEEP, rotation=TILT)
    return rgb[mask].astype(float)


def test_obj_with_a_missing_mtl_is_grey_with_a_warning(tmp_path, caplog):
    write_obj(tmp_path / "part.obj", "gone.mtl")
    with caplog.at_level(logging.WARNING, logger="synthscene"):
        pixels = flat_colour(tmp_path, "part.obj")
    np.testing.assert_allclose(pixels.mean(axis=0), NEUTRAL_GREY * 255, atol=tol.colour_level)
    assert any("gone.mtl" in r.getMessage() for r in caplog.records)


def test_mtl_kd_and_a_missing_texture_falls_back_to_kd(tmp_path, caplog):
    (tmp_path / "paint.mtl").write_text("newmtl paint\nKd 0.2 0.4 0.8\nmap_Kd lost.png\n")
    write_obj(tmp_path / "part.obj", "paint.mtl")
    with caplog.at_level(logging.WARNING, logger="synthscene"):
        pixels = flat_colour(tmp_path, "part.obj")
    np.testing.assert_allclose(pixels.mean(axis=0), np.array([0.2, 0.4, 0.8]) * 255,
                               atol=tol.colour_level)
    assert any("lost.png" in r.getMessage() for r in caplog.records)


def test_mtl_kd_without_texture_coordinates(tmp_path):
    (tmp_path / "paint.mtl").write_text("newmtl paint\nKd 0.9 0.5 0.1\n")
    write_obj(tmp_path / "part.obj", "paint.mtl", with_uv=False)
    np.testing.assert_allclose(flat_colour(tmp_path, "part.obj").mean(axis=0),
                               np.array([0.9, 0.5, 0.1]) * 255, atol=tol.colour_level)


def checker(size: int = 64, squares: int = 8) -> np.ndarray:
    ij = np.indices((size, size)) // (size // squares)
    on = ((ij[0] + ij[1]) % 2).astype(bool)
    return np.where(on[..., None], [230, 40, 40], [30, 60, 200]).astype(np.uint8)


def test_mtl_texture_is_rendered(tmp_path):
    Image.fromarray(checker()).save(tmp_path / "check.png")
    (tmp_path / "paint.mtl").write_text("newmtl paint\nKd 0.5 0.5 0.5\nmap_Kd check.png\n")
    write_obj(tmp_path / "part.obj", "paint.mtl")
    pixels = flat_colour(tmp_path, "part.obj")
    # Every rendered texel is one of the two squares' colours (nearest or blended between).
    red = np.all(np.abs(pixels - [230, 40, 40]) <= 3, axis=1)
    blue = np.all(np.abs(pixels - [30, 60, 200]) <= 3, axis=1)
    assert red.mean() > 0.25 and blue.mean() > 0.25


def gltf_box(path: Path, **material) -> None:
    box = trimesh.creation.box((1.0, 1.0, 1.0))
    uv = box.vertices[:, :2] + 0.5
    box.visual = trimesh.visual.TextureVisuals(
        uv=uv, material=trimesh.visual.material.PBRMaterial(**material))
    box.export(path)


def test_gltf_base_colour_factor(tmp_path):
    # glTF 2.0 (sec. 3.9.2): baseColorFactor is linear; the image shows its sRGB encoding
    # (IEC 61966-2-1: 1.055 v^(1/2.4) - 0.055 above 0.0031308).
    linear = np.array([0.8, 0.3, 0.6])
    gltf_box(tmp_path / "box.glb", baseColorFactor=[*linear, 1.0])
    np.testing.assert_allclose(flat_colour(tmp_path, "box.glb").mean(axis=0),
                               (1.055 * linear ** (1 / 2.4) - 0.055) * 255, atol=1.5)


def test_gltf_base_colour_texture(tmp_path):
    gltf_box(tmp_path / "box.glb", baseColorTexture=Image.fromarray(checker()))
    pixels = flat_colour(tmp_path, "box.glb")
    red = np.all(np.abs(pixels - [230, 40, 40]) <= 3, axis=1)
    blue = np.all(np.abs(pixels - [30, 60, 200]) <= 3, axis=1)
    assert red.mean() > 0.25 and blue.mean() > 0.25


def test_ply_vertex_colours(tmp_path):
    box = trimesh.creation.box((1.0, 1.0, 1.0))
    box.visual = trimesh.visual.ColorVisuals(
        box, vertex_colors=np.tile([40, 180, 90, 255], (len(box.vertices), 1)))
    box.export(tmp_path / "box.ply")
    np.testing.assert_allclose(flat_colour(tmp_path, "box.ply").mean(axis=0), [40, 180, 90],
                               atol=tol.colour_level)


def test_urdf_texture_replaces_the_meshes_and_colour_multiplies_it(tmp_path):
    Image.fromarray(checker()).save(tmp_path / "check.png")
    write_obj(tmp_path / "part.obj", None)
    (tmp_path / "part.urdf").write_text(
        '<robot name="r"><link name="l"><visual><geometry><mesh filename="part.obj"/>'
        '</geometry><material name="m"><color rgba="1 1 0.5 1"/><texture filename="check.png"/>'
        '</material></visual></link></robot>')
    pixels = flat_colour(tmp_path, "part.urdf")
    red = np.all(np.abs(pixels - [230, 40, 20]) <= 3, axis=1)
    blue = np.all(np.abs(pixels - [30, 60, 100]) <= 3, axis=1)
    assert red.mean() > 0.25 and blue.mean() > 0.25


# -- jitter --------------------------------------------------------------------------------------


def hsv_mean(pixels: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(np.float32(pixels).reshape(-1, 1, 3) / 255.0,
                        cv2.COLOR_RGB2HSV).reshape(-1, 3).mean(axis=0)


def test_jitter_moves_hue_saturation_and_value_by_the_drawn_amounts(tmp_path):
    (tmp_path / "paint.mtl").write_text("newmtl paint\nKd 0.8 0.4 0.2\n")
    write_obj(tmp_path / "part.obj", "paint.mtl")
    library, key = library_of("file:part.obj", tmp_path)
    jitter = HsvJitter(hue_shift_rad=np.radians(40.0), saturation_scale=0.6, value_scale=0.8)
    kept, mask = render_alone(library, key, KEEP, rotation=TILT)
    moved, mask2 = render_alone(
        library, key, Material(base_color=(1, 1, 1, 1), metallic=None, roughness=None,
                               appearance="jitter", jitter=jitter), rotation=TILT)
    assert np.array_equal(mask, mask2)
    before, after = hsv_mean(kept[mask]), hsv_mean(moved[mask])
    assert abs((after[0] - before[0]) - 40.0) < 2.0
    assert abs(after[1] / before[1] - 0.6) < 0.03
    assert abs(after[2] / before[2] - 0.8) < 0.03


def test_jitter_keeps_the_textures_structure():
    library, key = library_of("pybullet_data:duck_vhacd.urdf")
    kept, mask = render_alone(library, key, KEEP, rotation=TILT)
    jitter = HsvJitter(hue_shift_rad=np.radians(-60.0), saturation_scale=1.0, value_scale=0.9)
    moved, _ = render_alone(
        library, key, Material(base_color=(1, 1, 1, 1), metallic=None, roughness=None,
                               appearance="jitter", jitter=jitter), rotation=TILT)
    # The same pattern: HSV value (which a hue shift leaves alone) correlates texel by texel.
    a = cv2.cvtColor(kept, cv2.COLOR_RGB2HSV)[..., 2][mask].astype(float)
    b = cv2.cvtColor(moved, cv2.COLOR_RGB2HSV)[..., 2][mask].astype(float)
    assert np.corrcoef(a, b)[0, 1] > 0.95
    assert np.abs(kept[mask].astype(float) - moved[mask]).mean() > 10  # but other colours
    shift = hsv_mean(moved[mask])[0] - hsv_mean(kept[mask])[0]
    assert abs(((shift + 180) % 360 - 180) + 60) < 8


def test_jitter_changes_vertex_colours_too(tmp_path):
    box = trimesh.creation.box((1.0, 1.0, 1.0))
    box.visual = trimesh.visual.ColorVisuals(
        box, vertex_colors=np.tile([200, 60, 60, 255], (len(box.vertices), 1)))
    box.export(tmp_path / "box.ply")
    library, key = library_of("file:box.ply", tmp_path)
    jitter = HsvJitter(hue_shift_rad=np.radians(120.0))
    moved, mask = render_alone(
        library, key, Material(base_color=(1, 1, 1, 1), metallic=None, roughness=None,
                               appearance="jitter", jitter=jitter), rotation=TILT)
    np.testing.assert_allclose(moved[mask].astype(float).mean(axis=0), [60, 200, 60], atol=2)


# -- the scenario fields -------------------------------------------------------------------------


def test_asset_appearance_is_drawn_per_object_and_keep_asset_texture_is_refused():
    import synthscene
    from synthscene.errors import ConfigError

    base = {"assets": [{"source": "primitive:box"}], "objects": {"count": 40}}
    scenario = synthscene.scenario_from_dict({**base, "objects": {
        "count": 40, "material": {"asset_appearance": {"choice": ["keep", "jitter", "randomize"],
                                                       "weights": [1, 1, 2]}}}})
    (sample,) = synthscene.iter_samples(scenario, frames=1, seed=3)  # run to the end: the
    modes = [o.material.appearance for o in sample.state.objects]     # GL context is closed
    assert {"keep", "jitter", "randomize"} == set(modes)
    for bad, fragment in [
        ({"objects": {"material": {"keep_asset_texture": True}}}, "asset_appearance: keep"),
        ({"objects": {"material": {"asset_appearance": "paint"}}}, "asset_appearance"),
        ({"ground": {"material": {"asset_appearance": "keep"}}}, "ground"),
    ]:
        with pytest.raises(ConfigError, match=fragment):
            synthscene.scenario_from_dict({**base, **bad})
