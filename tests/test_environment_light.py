"""Environment light: spherical harmonics against closed forms, the lit shader against the
hemispherical integral of its BRDF, the sky's tint and sun, the environment behind the scene,
bad files, and labels that do not change."""

from __future__ import annotations

import colorsys
import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from conftest import UnitSphereLibrary, pose, top_down_camera
from synthscene.assets.environment_files import equirect_directions
from synthscene.assets.sky import sky_image
from synthscene.core.state import SKY, Camera, Environment, Material, SceneObject, SceneState
from synthscene.render.environment import (
    EnvironmentMapCache,
    brdf_lut,
    irradiance_sh9,
    prefilter,
    project_sh9,
)
from synthscene.render.octahedral import (
    equirect_to_octahedral,
    octahedral_directions,
    octahedral_uv,
)
from synthscene.seeding import frame_rng


def _srgb_levels(linear: float) -> float:
    """IEC 61966-2-1 encoding of a linear value, in 8-bit levels (unrounded)."""
    x = float(np.clip(linear, 0.0, 1.0))
    return 255.0 * (12.92 * x if x <= 0.0031308 else 1.055 * x ** (1 / 2.4) - 0.055)


# -- the octahedral layout of the prefiltered chain (no GL) -----------------------------------

def test_octahedral_layout_puts_the_axes_where_the_octahedron_unfolds_them():
    """Cigolle et al. 2014's octahedral map: +z at the centre, +-x and +-y at the middles of
    the edges, -z at the four corners; every texel centre maps back to itself."""
    axes = np.array([[0, 0, 1], [1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0]], float)
    np.testing.assert_allclose(octahedral_uv(axes),
                               [[0.5, 0.5], [1, 0.5], [0, 0.5], [0.5, 1], [0.5, 0]], atol=1e-12)
    corners = octahedral_uv(np.array([[1e-9, 1e-9, -1], [-1e-9, 1e-9, -1], [-1e-9, -1e-9, -1]]))
    np.testing.assert_allclose(corners, [[1, 1], [0, 1], [0, 0]], atol=1e-8)
    for size in (1, 2, 7, 64):
        d = octahedral_directions(size)
        np.testing.assert_allclose(np.linalg.norm(d, axis=-1), 1.0, atol=1e-12)
        centres = (np.arange(size) + 0.5) / size
        uv = octahedral_uv(d)
        np.testing.assert_allclose(uv[..., 0], np.broadcast_to(centres, (size, size)), atol=1e-12)
        np.testing.assert_allclose(uv[..., 1], np.broadcast_to(centres[:, None], (size, size)),
                                   atol=1e-12)


def test_octahedral_resampling_of_an_equirectangular_map_keeps_a_smooth_radiance():
    """A radiance linear in the direction, resampled from the equirectangular layout, is the
    same function of the octahedral texels' directions (bilinear error of a smooth map)."""
    directions, _ = equirect_directions(64, 128)
    weights = np.array([[1.0, 0.2, -0.3], [0.5, 1.0, 0.1], [-0.2, 0.4, 1.0]])
    image = (directions @ weights.T + 2.0).astype(np.float32)
    octahedral = equirect_to_octahedral(image, 64)
    expected = octahedral_directions(64) @ weights.T + 2.0
    assert octahedral.shape == (64, 64, 3) and octahedral.dtype == np.float32
    np.testing.assert_allclose(octahedral, expected, atol=5e-3)
    with pytest.raises(ValueError):
        octahedral_directions(0)


# -- spherical harmonics (no GL) -------------------------------------------------------------

def test_an_environment_map_cache_prepares_each_map_once_and_keeps_the_last_used():
    """Each key's radiance is read and prepared once while it is kept; past the capacity the
    least recently used goes and is prepared again when drawn again."""
    reads: list[str] = []

    def radiance(key: str):
        def read() -> np.ndarray:
            reads.append(key)
            return np.full((16, 32, 3), float(len(key)), np.float32)
        return read

    cache = EnvironmentMapCache(capacity=2)
    a = cache.get("a", radiance("a"))
    assert cache.get("a", radiance("a")) is a and reads == ["a"]
    np.testing.assert_allclose(a.sh9[0], np.full(3, 2 * np.sqrt(np.pi)), rtol=1e-5)  # L Y00 4pi
    cache.get("bb", radiance("bb"))
    cache.get("a", radiance("a"))  # a is now the most recent: bb goes first
    cache.get("ccc", radiance("ccc"))
    assert reads == ["a", "bb", "ccc"]
    cache.get("a", radiance("a"))
    cache.get("bb", radiance("bb"))
    assert reads == ["a", "bb", "ccc", "bb"]
    assert EnvironmentMapCache(capacity=2).get("a", radiance("a")) is not a  # none shared


def test_the_brdf_table_is_computed_once_per_size_and_sample_count_and_read_only():
    table = brdf_lut(8, 64)
    assert brdf_lut(8, 64) is table and not table.flags.writeable
    other = brdf_lut(8, 128)
    assert other is not table and other.shape == (8, 8, 3)
    assert not np.array_equal(other[..., :2], table[..., :2])  # its own samples


def test_sh9_of_a_constant_and_of_a_cosine_lobe_are_the_closed_forms():
    directions, _ = equirect_directions(128, 256)
    constant = project_sh9(np.full((128, 256, 3), 2.0))
    expected = np.zeros(9)
    expected[0] = 2.0 * 2.0 * np.sqrt(np.pi)  # L00 = c * Y00 * 4 pi
    np.testing.assert_allclose(constant[:, 0], expected, atol=2e-3)
    # f = max(cos theta, 0): L00 = Y00 pi, L10 = 0.488603 * 2 pi / 3,
    # L20 = 0.315392 * 2 pi * integral_0^1 (3u^3 - u) du = 0.315392 * pi / 2; others 0.
    lobe = np.repeat(np.clip(directions[..., 2], 0, None)[..., None], 3, axis=-1)
    coefficients = project_sh9(lobe)[:, 1]
    expected = np.zeros(9)
    expected[0] = 0.282095 * np.pi
    expected[2] = 0.488603 * 2 * np.pi / 3
    expected[6] = 0.315392 * np.pi / 2
    np.testing.assert_allclose(coefficients, expected, atol=2e-3)
    # A uniform sky of radiance 1 gives every surface the irradiance pi.
    np.testing.assert_allclose(irradiance_sh9(constant / 2.0, np.eye(3)), np.pi, rtol=1e-3)


def test_sh9_irradiance_of_a_band_two_sky_is_the_direct_integral():
    """Radiance made of bands 0-2 only: 9 coefficients hold its irradiance exactly
    (Ramamoorthi and Hanrahan), so eq. 13 matches the integral of L max(n.w, 0)."""
    d, solid = equirect_directions(128, 256)
    radiance = 1.0 + 0.5 * d[..., 2] + 0.3 * d[..., 0] + 0.4 * d[..., 0] * d[..., 1]
    sh = project_sh9(np.repeat(radiance[..., None], 3, axis=-1))
    rng = frame_rng(3, 0)
    normals = rng.normal(size=(6, 3))
    normals /= np.linalg.norm(normals, axis=1, keepdims=True)
    direct = [(radiance * np.clip(d @ n, 0, None) * solid).sum() for n in normals]
    np.testing.assert_allclose(irradiance_sh9(sh, normals)[:, 0], direct, rtol=5e-3)


def test_prefiltered_levels_keep_a_uniform_map_and_blur_a_bright_spot_about_its_direction():
    uniform = prefilter(np.full((64, 128, 3), 0.7, np.float32))
    assert [level.shape for level in uniform] == [(64, 128, 3), (32, 64, 3), (16, 32, 3),
                                                 (8, 16, 3), (4, 8, 3)]
    for level in uniform:
        np.testing.assert_allclose(level, 0.7, rtol=1e-5)
    spot = np.zeros((64, 128, 3), np.float32)
    spot[20, 40] = 100.0
    chain = prefilter(spot)
    spread = [np.count_nonzero(level[..., 0] > 0.05 * level[..., 0].max()) / level[..., 0].size
              for level in chain]
    assert spread == sorted(spread)  # rougher levels spread the spot wider
    for level in chain[1:3]:
        row, col = np.unravel_index(np.argmax(level[..., 0]), level.shape[:2])
        scale = 64 // level.shape[0]
        assert abs(row * scale - 20) <= scale and abs(col * scale - 40) <= scale


def test_prefiltered_levels_are_the_direct_sum_of_the_ggx_lobe_over_the_map():
    """Level k against the sum over every texel l of the map of L(l) D(R.h) max(R.l, 0)
    dOmega / (the same without L), with GGX D of perceptual roughness k / 4 (alpha = r^2)."""
    image = sky_image(np.radians(25.0), 4.0)
    chain = prefilter(image)
    d, solid = equirect_directions(64, 128)
    d = d.reshape(-1, 3)
    solid = np.broadcast_to(solid, (64, 128)).reshape(-1)
    for k in (1, 2, 4):
        out, _ = equirect_directions(64 >> k, 128 >> k)
        cos_rl = out.reshape(-1, 3) @ d.T
        cos_half2 = (1 + cos_rl) / 2
        alpha2 = (k / 4) ** 4
        ggx = alpha2 / (np.pi * (cos_half2 * (alpha2 - 1) + 1) ** 2)
        w = ggx * np.clip(cos_rl, 0, None) * solid
        direct = (w @ image.reshape(-1, 3)) / w.sum(axis=1, keepdims=True)
        np.testing.assert_allclose(chain[k].reshape(-1, 3), direct, rtol=1e-5, atol=1e-6)


def test_the_sky_is_brightest_near_its_sun_and_blue_overhead():
    image = sky_image(np.radians(30.0), 3.0)
    d, _ = equirect_directions(*image.shape[:2])
    luminance = image @ np.array([0.2126, 0.7152, 0.0722])
    upper = d[..., 2] > 0
    brightest = d[np.unravel_index(np.argmax(np.where(upper, luminance, -1)), luminance.shape)]
    sun = np.array([np.cos(np.radians(30)), 0.0, np.sin(np.radians(30))])
    assert np.degrees(np.arccos(brightest @ sun)) < 8.0
    hue = colorsys.rgb_to_hsv(*(image[0].mean(axis=0) / image[0].mean(axis=0).max()))[0]
    assert 180 <= hue * 360 <= 260


# -- the lit shader (GL) ---------------------------------------------------------------------

def _white_sphere_scene(environment: Environment | None, camera: Camera) -> SceneState:
    white = Material(base_color=(1.0, 1.0, 1.0, 1.0), metallic=0.0, roughness=1.0)
    sphere = SceneObject(instance_id=1, asset_key="sphere", category="sphere", scale=0.4,
                         world_from_object=pose([0, 0, 0]), material=white)
    return SceneState(objects=(sphere,), lights=(), camera=camera, ground=None,
                      ambient_light=(0.0, 0.0, 0.0), environment=environment)


def _pyrender_brdf_albedo(n_dot_v: float, roughness: float, base: float, steps: int = 600
                          ) -> float:
    """The directional albedo of pyrender's metallic-roughness BRDF (mesh.frag's compute_brdf,
    metallic 0): the integral of f(l, v) (n.l) over the hemisphere, by the midpoint rule."""
    theta = (np.arange(steps) + 0.5) * (np.pi / 2) / steps
    phi = (np.arange(2 * steps) + 0.5) * np.pi / steps
    st, ct = np.sin(theta)[:, None], np.cos(theta)[:, None]
    light = np.stack([st * np.cos(phi), st * np.sin(phi),
                      np.broadcast_to(ct, (steps, 2 * steps))], axis=-1)
    v = np.array([np.sqrt(1 - n_dot_v ** 2), 0.0, n_dot_v])
    h = light + v
    h /= np.linalg.norm(h, axis=-1, keepdims=True)
    nl = np.clip(light[..., 2], 0.001, 1.0)
    nh, vh = np.clip(h[..., 2], 0, 1), np.clip(h @ v, 0, 1)
    f0, c_diff = 0.04, base * (1 - 0.04)
    fresnel = f0 + (1 - f0) * (1 - vh) ** 5
    k = (roughness + 1) ** 2 / 8
    g = n_dot_v / (n_dot_v * (1 - k) + k) * nl / (nl * (1 - k) + k)
    a2 = roughness ** 4
    d = a2 / (np.pi * (nh * nh * (a2 - 1) + 1) ** 2)
    brdf = (1 - fresnel) * c_diff / np.pi + fresnel * g * d / (4 * nl * n_dot_v + 0.001)
    d_omega = st * (np.pi / 2 / steps) * (np.pi / steps)
    return float((brdf * nl * d_omega).sum())


@pytest.mark.gl
def test_a_uniform_environment_gives_a_white_sphere_the_albedo_times_the_radiance(tmp_path):
    """Top pixel of a white sphere (roughness 1, metallic 0) under a uniform environment of
    radiance L: L times the directional albedo of the shader's BRDF, sRGB-encoded, within 2
    levels; the background pixels show L itself."""
    from synthscene.render.renderer import Renderer

    radiance = 0.8
    path = tmp_path / "uniform.hdr"
    cv2.imwrite(str(path), np.full((32, 64, 3), radiance, np.float32))
    camera = top_down_camera(64, 48, f=100.0, z=1.0)
    environment = Environment(str(path), intensity=1.0, rotation_rad=0.7, visible=True)
    with Renderer(UnitSphereLibrary(), 64, 48) as renderer:
        out = renderer.render(_white_sphere_scene(environment, camera))
        dark = renderer.render(_white_sphere_scene(None, camera))
    expected = _srgb_levels(radiance * _pyrender_brdf_albedo(1.0, 1.0, 1.0))
    top = out.rgb[23:25, 31:33].astype(float)
    assert np.abs(top - expected).max() <= 2.0, (top, expected)
    assert np.abs(out.rgb[0, 0].astype(float) - _srgb_levels(radiance)).max() <= 2.0
    assert dark.rgb.max() == 0  # no light at all without it
    np.testing.assert_array_equal(out.instance_ids, dark.instance_ids)
    np.testing.assert_array_equal(out.depth, dark.depth)


@pytest.mark.gl
def test_a_sky_with_a_blue_zenith_tints_the_top_of_a_white_sphere_blue():
    from synthscene.render.renderer import Renderer

    camera = top_down_camera(64, 48, f=100.0, z=1.0)
    sky = Environment(SKY, intensity=0.25, sun_elevation_rad=np.radians(20.0), turbidity=2.5)
    with Renderer(UnitSphereLibrary(), 64, 48) as renderer:
        top = renderer.render(_white_sphere_scene(sky, camera)).rgb[23:25, 31:33]
    r, g, b = top.reshape(-1, 3).mean(axis=0) / 255.0
    hue, saturation, _ = colorsys.rgb_to_hsv(r, g, b)
    assert 180 <= hue * 360 <= 260 and saturation > 0.1, (r, g, b)


def _camera_looking_along(direction, width: int = 33, height: int = 33) -> Camera:
    """A camera at the origin looking horizontally along ``direction`` (OpenCV frame)."""
    z = np.asarray(direction, dtype=float)
    x = np.cross(z, [0.0, 0.0, 1.0])
    y = np.cross(z, x)
    world_from_camera = np.eye(4)
    world_from_camera[:3, :3] = np.stack([x, y, z], axis=1)
    K = np.array([[20.0, 0, (width - 1) / 2], [0, 20.0, (height - 1) / 2], [0, 0, 1]])
    return Camera(K=K, width=width, height=height, world_from_camera=world_from_camera)


@pytest.mark.gl
def test_the_background_shows_the_map_turned_by_its_rotation(tmp_path):
    """A map, dark red but for a green patch at azimuth 0 (+x) on the horizon: the camera
    looking along +x sees green in its centre; turned by 90 degrees, the patch is seen
    looking along +y."""
    from synthscene.render.renderer import Renderer

    image = np.zeros((64, 128, 3), np.float32)
    image[..., 2] = 0.2  # BGR: red
    image[26:38, 58:70] = (0.0, 0.6, 0.0)
    path = tmp_path / "patch.hdr"
    cv2.imwrite(str(path), image)
    with Renderer(UnitSphereLibrary(), 33, 33) as renderer:
        def centre(direction, rotation):
            environment = Environment(str(path), rotation_rad=rotation, visible=True)
            state = SceneState(objects=(), lights=(), camera=_camera_looking_along(direction),
                               ground=None, environment=environment)
            return renderer.render(state).rgb[16, 16]

        assert centre([1, 0, 0], 0.0)[1] > 150 and centre([0, 1, 0], 0.0)[1] == 0
        assert centre([0, 1, 0], np.pi / 2)[1] > 150 and centre([1, 0, 0], np.pi / 2)[1] == 0


# -- scenarios: draws, errors, labels --------------------------------------------------------

def test_the_skys_sun_light_comes_from_the_skys_brightest_direction():
    from synthscene.config.lighting import EnvironmentSpec
    from synthscene.randomize.environment import sample_environment

    spec = EnvironmentSpec.model_validate({"images": "procedural_sky"}, strict=False)
    for seed in range(4):
        environment, sun = sample_environment(spec, (), visible=False,
                                              rng=frame_rng(seed, 0))
        image = sky_image(environment.sun_elevation_rad, environment.turbidity)
        d, _ = equirect_directions(*image.shape[:2])
        luminance = np.where(d[..., 2] > 0, image @ np.array([0.2126, 0.7152, 0.0722]), -1)
        brightest = d[np.unravel_index(np.argmax(luminance), luminance.shape)]
        c, s = np.cos(environment.rotation_rad), np.sin(environment.rotation_rad)
        in_world = np.array([c * brightest[0] - s * brightest[1],
                             s * brightest[0] + c * brightest[1], brightest[2]])
        towards_sun = sun.world_from_light[:3, 2]  # the light shines along its -z
        assert np.degrees(np.arccos(np.clip(in_world @ towards_sun, -1, 1))) < 8.0


SCENE = """
name: env
image: {width: 64, height: 48}
assets: [{source: "primitive:box"}, {source: "primitive:sphere"}]
objects: {count: 3}
camera: {distance_m: 1.0}
outputs: {instance_mask: true, depth_png: true}
"""


def _generate(tmp_path: Path, name: str, extra: str) -> subprocess.CompletedProcess:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "scene.yaml").write_text(SCENE + extra)
    return subprocess.run([sys.executable, "-m", "synthscene.cli", "generate", "scene.yaml",
                           "--out", "out", "--frames", "2", "--seed", "3", "--quiet"],
                          cwd=folder, capture_output=True, text=True, timeout=300)


@pytest.mark.gl
def test_environment_on_or_off_gives_the_same_labels_byte_for_byte(tmp_path):
    off = _generate(tmp_path, "off", "")
    on = _generate(tmp_path, "on", "lights: {environment: {images: procedural_sky}}\n"
                                   "background: {environment: true}\n")
    assert off.returncode == 0 and on.returncode == 0, (off.stderr, on.stderr)
    a, b = tmp_path / "off" / "out", tmp_path / "on" / "out"
    assert (a / "annotations.json").read_bytes() == (b / "annotations.json").read_bytes()
    label_files = sorted(p.relative_to(a) for p in a.rglob("*.png")
                         if p.parent.name != "images")
    assert label_files
    for rel in label_files:
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel
    images = json.loads((a / "annotations.json").read_text())["images"]
    differ = [(a / "images" / i["file_name"]).read_bytes()
              != (b / "images" / i["file_name"]).read_bytes() for i in images]
    assert all(differ)  # the light did change the pixels


@pytest.mark.parametrize(("name", "content", "said"), [
    ("sky.hdr", None, "no such file"),
    ("sky.hdr", b"not an image at all", "cannot decode"),
    ("sky.exr", "nan", "NaN"),  # Radiance RGBE cannot hold a NaN; OpenEXR can
    ("sky.png", "square", "twice as wide"),
])
def test_a_bad_environment_file_is_one_line_naming_it_and_the_field(tmp_path, name, content,
                                                                     said):
    import os

    from synthscene.config.loading import load_scenario
    from synthscene.errors import ConfigError
    from synthscene.run.scene_libraries import environment_files

    path = tmp_path / name
    if content == "nan":
        os.environ.setdefault("OPENCV_IO_ENABLE_OPENEXR", "1")
        image = np.ones((8, 16, 3), np.float32)
        image[3, 4, 1] = np.nan
        assert cv2.imwrite(str(path), image)
    elif content == "square":
        cv2.imwrite(str(path), np.zeros((16, 16, 3), np.uint8))
    elif content is not None:
        path.write_bytes(content)
    scene = tmp_path / "scene.yaml"
    scene.write_text(SCENE + f"lights: {{environment: {{images: {name}}}}}\n")
    with pytest.raises(ConfigError) as error:
        environment_files(load_scenario(scene))
    text = str(error.value)
    assert "lights.environment.images" in text and name in text and said in text
    assert "\n" not in text


def test_the_command_line_refuses_a_missing_environment_with_status_2(tmp_path):
    result = _generate(tmp_path, "missing", "lights: {environment: {images: gone.exr}}\n")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "lights.environment.images" in lines[0] and "gone.exr" in lines[0]


def test_background_environment_needs_an_environment(tmp_path):
    from synthscene.config.loading import load_scenario
    from synthscene.errors import ConfigError

    scene = tmp_path / "scene.yaml"
    scene.write_text(SCENE + "background: {environment: true}\n")
    with pytest.raises(ConfigError, match="lights.environment"):
        load_scenario(scene)


def test_a_scenario_without_an_environment_draws_none_and_one_with_probability_0_neither():
    from synthscene.config.lighting import EnvironmentSpec
    from synthscene.randomize.environment import with_environment

    state = SceneState(objects=(), lights=(), camera=top_down_camera(8, 8), ground=None)
    assert with_environment(state, None, (), visible=True,
                            rng=frame_rng(0, 0)) is state
    never = EnvironmentSpec.model_validate({"images": "procedural_sky", "probability": 0.0},
                                           strict=False)
    drawn = with_environment(state, never, (), visible=True, rng=frame_rng(0, 0))
    assert drawn.environment is None and drawn.lights == ()
    always = never.model_copy(update={"probability": 1.0})
    drawn = with_environment(state, always, (), visible=True, rng=frame_rng(0, 0))
    assert drawn.environment.source == SKY and len(drawn.lights) == 1


def test_the_skys_sun_counts_against_the_light_limit():
    from synthscene.config.loading import scenario_from_dict
    from synthscene.errors import ConfigError

    base = {"assets": [{"source": "primitive:box"}],
            "lights": {"count": 16, "environment": {"images": "procedural_sky"}}}
    with pytest.raises(ConfigError, match="17 lights"):
        scenario_from_dict(base)
    base["lights"]["environment"]["sky"] = {"sun_intensity": 0.0}  # no sun light
    scenario_from_dict(base)


@pytest.mark.parametrize("redraw", [[], ["lights"]])
def test_views_share_the_scenes_environment_unless_they_redraw_the_lights(redraw):
    from synthscene.config.loading import scenario_from_dict
    from synthscene.randomize.scene import sample_scene, sample_view
    from synthscene.run.scene_libraries import build_libraries

    scenario = scenario_from_dict({
        "assets": [{"source": "primitive:box"}], "objects": {"count": 2},
        "lights": {"count": 1, "kind": "point",
                   "environment": {"images": "procedural_sky"}},
        "background": {"environment": True},
        "camera": {"views_per_scene": 2, "redraw_per_view": redraw}})
    library = build_libraries(scenario)
    scene = sample_scene(scenario, library, rng=frame_rng(0, 0))
    suns = [light for light in scene.lights if light.kind == "directional"]
    assert scene.environment.visible and scene.background_image is None and len(suns) == 1
    view = sample_view(scenario, library, scene, rng=frame_rng(0, 1), view=(0, 1))
    view_suns = [light for light in view.lights if light.kind == "directional"]
    assert len(view_suns) == 1
    same = view.environment is scene.environment
    assert same == (not redraw)
    if redraw:
        assert view.environment.rotation_rad != scene.environment.rotation_rad


def test_hdr_and_exr_maps_are_read_as_linear_radiance_and_png_maps_are_decoded_from_srgb(
        tmp_path):
    import os

    from synthscene.assets.environment_files import read_environment

    os.environ.setdefault("OPENCV_IO_ENABLE_OPENEXR", "1")
    radiance = np.zeros((8, 16, 3), np.float32)
    radiance[..., 0], radiance[..., 1], radiance[..., 2] = 0.25, 2.0, 7.5  # RGB
    for name in ("map.exr", "map.hdr"):
        assert cv2.imwrite(str(tmp_path / name), radiance[..., ::-1])  # OpenCV writes BGR
        read = read_environment(tmp_path / name)
        np.testing.assert_allclose(read.radiance, radiance, rtol=0.01)  # RGBE: 8-bit mantissa
    srgb = np.zeros((8, 16, 3), np.uint8)
    srgb[...] = (128, 255, 0)
    cv2.imwrite(str(tmp_path / "map.png"), srgb[..., ::-1])
    read = read_environment(tmp_path / "map.png")
    # IEC 61966-2-1: ((128/255 + 0.055) / 1.055) ** 2.4 = 0.21586
    np.testing.assert_allclose(read.radiance[0, 0], (0.21586, 1.0, 0.0), atol=1e-4)
    copy = tmp_path / "copy.png"
    copy.write_bytes((tmp_path / "map.png").read_bytes())
    assert read_environment(copy).key == read.key  # keyed by content, not by name
