"""A synthscene frame rendered by a path tracer (Mitsuba 3, ``scalar_rgb``), and the measures
that compare it with ours: the reference of ``tests/test_light_reference.py`` and of
``scripts/reference_render.py`` (test and script helper, never imported by the package).

Mitsuba is an optional extra (``pip install 'synthscene[reference]'``); this module imports it
only when a reference is rendered.

What is carried over from a :class:`~synthscene.core.state.SceneState` (``docs/light.md``,
"Checked against a path tracer"):

* **Meshes**: every object's asset mesh, scaled and posed (``world_from_object`` times its
  scale), the ground square and the walls, written as PLY files in world coordinates, drawn with
  face normals (our renderer shades every mesh flat).
* **Camera**: a ``perspective`` sensor at ``world_from_camera`` (OpenCV axes: it looks along +z
  with -y up), vertical field of view ``2 atan(H / 2 fy)``, principal point offset
  ``((cx + 0.5) / W - 0.5, (cy + 0.5) / H - 0.5)`` of the film (fx = fy is required), a box
  pixel filter.
* **Lights**, in the units of our shader (pyrender's), which are radiometric: a directional
  light's ``intensity * color`` is the irradiance (W/m^2) on a surface facing it (the shader's
  ``radiance`` times ``n.l``, with a Lambertian BRDF ``c / pi``) -> Mitsuba ``directional`` with
  that ``irradiance``; a point light's ``intensity * color`` divided by the squared distance is
  that irradiance: a radiant intensity (W/sr) -> ``point`` with that ``intensity``; a spot light
  likewise, with ``cutoff_angle`` the outer and ``beam_width`` the inner cone angle -> ``spot``.
  Our ambient term adds ``base_color * ambient``: what a Lambertian surface facing a uniform
  sky of radiance ``ambient`` reflects (irradiance ``pi * ambient`` times ``c / pi``) ->
  ``constant`` with that radiance (hidden from the camera, as our background is black).
* **Environment** (an equirectangular radiance image, linear RGB, z up): ``envmap`` with it,
  turned from Mitsuba's y-up frame to our z-up one.
* **Materials**: ``principled`` with the base colour, metallic and roughness (glTF's
  conventions, as ours; specular 0.5 is F0 = 0.04, our dielectric ``f0``); a texture is
  replaced by its mean linear colour.
"""

from __future__ import annotations

import dataclasses
import math
import tempfile
import types
from pathlib import Path

import numpy as np
import trimesh

from synthscene.core.state import (
    AmbientOcclusion,
    Camera,
    Ground,
    Light,
    Material,
    SceneObject,
    SceneState,
)
from synthscene.randomize.geometry import look_at_opencv

__all__ = ["with_shadows", "FixedLibrary", "bundled_frame", "contact_scene", "environment_radiance",
           "contact_ratio", "ground_regions", "hue_deg", "look_at_camera", "shadow_mask",
           "shadow_measures", "sphere_top", "world_points",
           "linear_from_ours", "luminance", "ours", "reference", "scene_dict", "sky_scene",
           "srgb_display", "sun_scene"]

def _srgb_decode(encoded: np.ndarray) -> np.ndarray:
    """sRGB-encoded values in [0, 1] -> linear (IEC 61966-2-1)."""
    return np.where(encoded <= 0.04045, encoded / 12.92, ((encoded + 0.055) / 1.055) ** 2.4)


def linear_from_ours(rgb: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 of our renderer -> (H, W, 3) float64 linear RGB (the inverse of the lit
    shader's output encoding, exact sRGB)."""
    return _srgb_decode(rgb.astype(np.float64) / 255.0)


def srgb_display(linear: np.ndarray) -> np.ndarray:
    """(H, W, 3) linear RGB -> (H, W, 3) uint8, encoded as our lit shader encodes (exact sRGB,
    clamped to [0, 1])."""
    x = np.clip(linear, 0.0, 1.0)
    encoded = np.where(x <= 0.0031308, 12.92 * x, 1.055 * x ** (1.0 / 2.4) - 0.055)
    return np.round(encoded * 255.0).astype(np.uint8)


def luminance(linear: np.ndarray) -> np.ndarray:
    """(..., 3) linear RGB -> (...) relative luminance (Rec. 709 weights)."""
    return linear @ np.array([0.2126, 0.7152, 0.0722])


def hue_deg(rgb: np.ndarray) -> float:
    """The HSV hue of one colour (3,), degrees in [0, 360)."""
    r, g, b = (float(c) for c in rgb)
    hi, lo = max(r, g, b), min(r, g, b)
    if hi - lo <= 1e-12:
        return 0.0
    if hi == r:
        h = (g - b) / (hi - lo) % 6.0
    elif hi == g:
        h = (b - r) / (hi - lo) + 2.0
    else:
        h = (r - g) / (hi - lo) + 4.0
    return 60.0 * h


# -- fixed scenes --------------------------------------------------------------------------
class FixedLibrary:
    """Stands in for an AssetLibrary: ``sphere`` (an icosphere of 4 subdivisions) and ``cube``,
    each normalised to a longest edge of 1 (as the library normalises assets)."""

    def __init__(self) -> None:
        meshes = {"sphere": trimesh.creation.icosphere(subdivisions=4, radius=0.5),
                  "cube": trimesh.creation.box((1.0, 1.0, 1.0))}
        self._assets = {key: types.SimpleNamespace(key=key, category=key, mesh=mesh,
                                                   source_path=None)
                        for key, mesh in meshes.items()}
        self.keys = tuple(self._assets)
        self.categories = self.keys

    def get(self, key: str):
        return self._assets[key]

    def category_of(self, key: str) -> str:
        return key

    def __len__(self) -> int:
        return len(self._assets)


WHITE = Material(base_color=(0.8, 0.8, 0.8, 1.0), metallic=0.0, roughness=1.0)
RED = Material(base_color=(0.7, 0.05, 0.05, 1.0), metallic=0.0, roughness=1.0)
GREY = Material(base_color=(0.4, 0.4, 0.4, 1.0), metallic=0.0, roughness=1.0)


def look_at_camera(eye, target, width: int, height: int, f: float) -> Camera:
    """A pinhole camera (OpenCV axes) at ``eye`` looking at ``target`` with world z up."""
    K = np.array([[f, 0.0, (width - 1) / 2], [0.0, f, (height - 1) / 2], [0.0, 0.0, 1.0]])
    return Camera(K=K, width=width, height=height,
                  world_from_camera=look_at_opencv(np.asarray(eye, dtype=float),
                                                   np.asarray(target, dtype=float)))


def _pose(xyz, yaw_rad: float = 0.0) -> np.ndarray:
    pose = np.eye(4)
    c, s = math.cos(yaw_rad), math.sin(yaw_rad)
    pose[:3, :3] = [[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]]
    pose[:3, 3] = xyz
    return pose


def sun(elevation_deg: float, azimuth_deg: float, irradiance: float) -> Light:
    """A white directional light from the given elevation and azimuth (degrees; azimuth from
    +x towards +y), ``irradiance`` W/m^2."""
    el, az = math.radians(elevation_deg), math.radians(azimuth_deg)
    towards_light = np.array([math.cos(el) * math.cos(az), math.cos(el) * math.sin(az),
                              math.sin(el)])
    z = towards_light  # the light shines along its -z
    x = np.cross([0.0, 0.0, 1.0], z)
    x = x / np.linalg.norm(x) if np.linalg.norm(x) > 1e-9 else np.array([1.0, 0.0, 0.0])
    pose = np.eye(4)
    pose[:3, :3] = np.column_stack([x, np.cross(z, x), z])
    return Light(kind="directional", world_from_light=pose, color=(1.0, 1.0, 1.0),
                 intensity=float(irradiance))


def _objects() -> tuple[SceneObject, ...]:
    """A white sphere (0.2 m) and a red cube (0.16 m) resting on the ground."""
    return (SceneObject(instance_id=1, asset_key="sphere", category="sphere", scale=0.2,
                        world_from_object=_pose((-0.12, 0.02, 0.1)), material=WHITE),
            SceneObject(instance_id=2, asset_key="cube", category="cube", scale=0.16,
                        world_from_object=_pose((0.14, -0.04, 0.08), 0.5), material=RED))


def sun_scene(width: int = 160, height: int = 120, *, ambient: float = 0.08,
              occlusion: AmbientOcclusion | None = None) -> SceneState:
    """The white sphere and red cube on a grey ground under one sun (elevation 40 degrees,
    3 W/m^2) and a dim uniform sky (``ambient``)."""
    camera = look_at_camera((0.0, -1.1, 0.75), (0.0, 0.05, 0.05), width, height,
                            f=1.1 * width)
    return SceneState(objects=_objects(), lights=(sun(40.0, 150.0, 3.0),), camera=camera,
                      ground=Ground(3.0, GREY), ambient_light=(ambient,) * 3,
                      ambient_occlusion=occlusion)


def with_shadows(state: SceneState, softness_m: float = 0.004):
    """``(state, settings)`` that render ``state`` with shadows, whichever way this synthscene
    turns them on: a frame's ``SceneState.shadow_softness_m`` (drawn per frame) where it has
    one, else ``RenderSettings(shadows=True)`` (pyrender's own pass)."""
    from synthscene.render.settings import RenderSettings

    if "shadow_softness_m" in {f.name for f in dataclasses.fields(SceneState)}:
        return dataclasses.replace(state, shadow_softness_m=float(softness_m)), None
    return state, RenderSettings(shadows=True)


def contact_scene(width: int = 160, height: int = 120, *,
                  occlusion: AmbientOcclusion | None = None) -> SceneState:
    """The same objects under a uniform white sky alone (radiance 0.6): only contacts and
    creases darken."""
    return dataclasses.replace(sun_scene(width, height, occlusion=occlusion), lights=(),
                               ambient_light=(0.6, 0.6, 0.6))


def sky_scene(width: int = 160, height: int = 120, *,
              occlusion: AmbientOcclusion | None = None) -> SceneState:
    """The same objects under the procedural sky alone (no sun light, no ambient term): sun 35
    degrees high at azimuth 0, turbidity 3. Needs the environment light
    (``SceneState.environment``); raises ImportError without it."""
    from synthscene.core.state import SKY, Environment

    return dataclasses.replace(
        sun_scene(width, height, occlusion=occlusion), lights=(), ambient_light=(0.0,) * 3,
        environment=Environment(source=SKY, intensity=1.0, rotation_rad=0.0,
                                sun_elevation_rad=math.radians(35.0), turbidity=3.0))


def environment_radiance(state: SceneState) -> np.ndarray | None:
    """The equirectangular radiance image (linear RGB, z up, row 0 the zenith, column 0 at
    azimuth -pi, the layout of :mod:`synthscene.assets.environment_files`) of the frame's
    environment times its intensity, turned by its rotation; None without one."""
    environment = getattr(state, "environment", None)
    if environment is None:
        return None
    from synthscene.assets.environment_files import read_environment
    from synthscene.assets.sky import sky_image
    from synthscene.core.state import SKY

    if environment.source == SKY:
        image = sky_image(environment.sun_elevation_rad, environment.turbidity, width=512,
                          height=256)
    else:
        image = read_environment(environment.source).radiance
    image = np.asarray(image, dtype=np.float64) * float(environment.intensity)
    # What the map holds at azimuth phi arrives from phi + rotation: roll the columns.
    shift = environment.rotation_rad / (2.0 * math.pi) * image.shape[1]
    whole = int(math.floor(shift))
    fraction = shift - whole
    rolled = np.roll(image, whole, axis=1)
    return (1.0 - fraction) * rolled + fraction * np.roll(rolled, 1, axis=1)


def bundled_frame(name: str, index: int, *, width: int, height: int, seed: int = 0):
    """Frame ``index`` of bundled scenario ``scenes/<name>.yaml`` (seed ``seed``) at
    ``width`` x ``height``: its settled state, its library and its render settings."""
    import yaml

    from synthscene.config.loading import scenario_from_dict
    from synthscene.run.frames import FrameMaker, build_library, render_settings

    path = Path(__file__).resolve().parents[1] / "scenes" / f"{name}.yaml"
    data = yaml.safe_load(path.read_text())
    data["image"] = {"width": int(width), "height": int(height)}
    scenario = scenario_from_dict(data, source=str(path), base_dir=path.parent)
    library = build_library(scenario)
    with FrameMaker(scenario, library, seed=seed) as maker:
        state = maker.make(index).state
    return state, library, render_settings(scenario)


# -- ours ----------------------------------------------------------------------------------
def ours(state: SceneState, library, settings=None):
    """Our :class:`~synthscene.core.state.RenderOutput` of ``state``."""
    from synthscene.render.renderer import Renderer

    with Renderer(library, state.camera.width, state.camera.height, settings) as renderer:
        return renderer.render(state)


# -- measures ------------------------------------------------------------------------------
def world_points(state, depth: np.ndarray) -> np.ndarray:
    """(H, W, 3) world points of every pixel from its camera-z depth (metres)."""
    camera = state.camera
    K = camera.K
    v, u = np.mgrid[0:camera.height, 0:camera.width]
    rays = np.stack([(u - K[0, 2]) / K[0, 0], (v - K[1, 2]) / K[1, 1],
                     np.ones(depth.shape)], axis=-1) * depth[..., None]
    return rays @ camera.world_from_camera[:3, :3].T + camera.world_from_camera[:3, 3]


def ground_regions(state, output) -> dict[str, np.ndarray]:
    """Masks of the ground: near each object's base and far from both (open)."""
    world = world_points(state, output.depth)
    ground = (output.instance_ids == 0) & (output.depth > 0)
    sphere, cube = state.objects
    to_sphere = np.hypot(*(world[..., :2] - sphere.world_from_object[:2, 3]).T).T - 0.1
    local = (world - cube.world_from_object[:3, 3]) @ cube.world_from_object[:3, :3]
    half = cube.scale / 2
    to_cube = np.hypot(np.maximum(np.abs(local[..., 0]) - half, 0.0),
                       np.maximum(np.abs(local[..., 1]) - half, 0.0))
    near_origin = np.hypot(world[..., 0], world[..., 1]) < 0.8
    return {"sphere": ground & (to_sphere < 0.03),
            "cube": ground & (to_cube > 0) & (to_cube < 0.015),
            "open": ground & (to_sphere > 0.25) & (to_cube > 0.25) & near_origin,
            "ground": ground & near_origin}


def shadow_mask(luminance: np.ndarray, regions: dict) -> np.ndarray:
    """Ground pixels darker than half the open ground's median luminance."""
    return regions["ground"] & (luminance < 0.5 * np.median(luminance[regions["open"]]))


def contact_ratio(luminance: np.ndarray, regions: dict, where: str) -> float:
    """Mean luminance of the ground at an object's base (``"sphere"`` or ``"cube"``) over the
    open ground's."""
    return float(luminance[regions[where]].mean() / luminance[regions["open"]].mean())


def shadow_measures(ours: np.ndarray, ref: np.ndarray, regions: dict) -> tuple[float, float,
                                                                             float]:
    """The IoU of the two shadow masks on the ground, and each image's mean luminance in the
    shadow both see over its open ground's: (iou, ours ratio, reference ratio)."""
    ours_shadow, ref_shadow = shadow_mask(ours, regions), shadow_mask(ref, regions)
    union = (ours_shadow | ref_shadow).sum()
    core = ours_shadow & ref_shadow
    if not core.any():
        return 0.0, float("nan"), float("nan")

    def ratio(luminance: np.ndarray) -> float:
        return float(luminance[core].mean() / luminance[regions["open"]].mean())

    return float(core.sum() / union), ratio(ours), ratio(ref)


def sphere_top(state: SceneState, output) -> np.ndarray:
    """Mask of the white sphere's pixels whose surface normal is within 37 degrees of +z."""
    world = world_points(state, output.depth)
    sphere = state.objects[0]
    radius = sphere.scale / 2
    normal_z = (world[..., 2] - sphere.world_from_object[2, 3]) / radius
    return (output.instance_ids == sphere.instance_id) & (normal_z > 0.8)


# -- the path tracer -----------------------------------------------------------------------
def _world_mesh(obj: SceneObject, library) -> trimesh.Trimesh:
    source = library.get(obj.asset_key).mesh  # geometry only: no colours in the PLY
    mesh = trimesh.Trimesh(vertices=source.vertices, faces=source.faces, process=False)
    mesh.apply_transform(obj.world_from_object @ np.diag([obj.scale] * 3 + [1.0]))
    return mesh


def _rectangle(width: float, height: float, world_from_rect: np.ndarray) -> trimesh.Trimesh:
    w, h = width / 2.0, height / 2.0
    mesh = trimesh.Trimesh(vertices=[[-w, -h, 0.0], [w, -h, 0.0], [w, h, 0.0], [-w, h, 0.0]],
                           faces=[[0, 1, 2], [0, 2, 3]], process=False)
    mesh.apply_transform(world_from_rect)
    return mesh


def _bsdf(material: Material) -> dict:
    color = np.asarray(material.base_color[:3], dtype=float)
    if material.texture is not None:
        color = _srgb_decode(np.asarray(material.texture, dtype=float) / 255.0).reshape(
            -1, 3).mean(axis=0)
    metallic = 0.0 if material.metallic is None else float(material.metallic)
    roughness = 0.6 if material.roughness is None else float(material.roughness)
    return {"type": "principled",
            "base_color": {"type": "rgb", "value": [float(c) for c in color]},
            "metallic": metallic, "roughness": max(roughness, 0.04), "specular": 0.5}


def _to_world(world_from_frame: np.ndarray, mi) -> object:
    return mi.ScalarTransform4f(np.asarray(world_from_frame, dtype=np.float64).tolist())


def _sensor(camera: Camera, spp: int, seed: int, mi) -> dict:
    K = np.asarray(camera.K, dtype=float)
    if abs(K[0, 0] - K[1, 1]) > 1e-6 * K[0, 0]:
        raise ValueError("the reference camera needs fx == fy")
    pose = np.asarray(camera.world_from_camera, dtype=float)
    origin, forward, down = pose[:3, 3], pose[:3, 2], pose[:3, 1]
    return {
        "type": "perspective",
        "fov_axis": "y",
        "fov": math.degrees(2.0 * math.atan(camera.height / (2.0 * K[1, 1]))),
        "principal_point_offset_x": (K[0, 2] + 0.5) / camera.width - 0.5,
        "principal_point_offset_y": (K[1, 2] + 0.5) / camera.height - 0.5,
        "near_clip": float(camera.znear), "far_clip": float(camera.zfar),
        "to_world": mi.ScalarTransform4f().look_at(
            origin=origin.tolist(), target=(origin + forward).tolist(), up=(-down).tolist()),
        "film": {"type": "hdrfilm", "width": camera.width, "height": camera.height,
                 "rfilter": {"type": "box"}, "pixel_format": "rgb"},
        "sampler": {"type": "independent", "sample_count": int(spp), "seed": int(seed)},
    }


def _emitter(light: Light, mi) -> dict:
    pose = np.asarray(light.world_from_light, dtype=float)
    position, direction = pose[:3, 3], -pose[:3, 2]
    rgb = [float(c) * float(light.intensity) for c in light.color]
    if light.kind == "directional":
        return {"type": "directional", "direction": direction.tolist(),
                "irradiance": {"type": "rgb", "value": rgb}}
    if light.kind == "point":
        return {"type": "point", "position": position.tolist(),
                "intensity": {"type": "rgb", "value": rgb}}
    up = pose[:3, 1]
    return {"type": "spot", "intensity": {"type": "rgb", "value": rgb},
            "cutoff_angle": math.degrees(light.outer_cone_angle),
            "beam_width": math.degrees(max(light.inner_cone_angle, 1e-3)),
            "to_world": mi.ScalarTransform4f().look_at(
                origin=position.tolist(), target=(position + direction).tolist(),
                up=up.tolist())}


def scene_dict(state: SceneState, library, folder: Path, *, spp: int = 64, seed: int = 0,
               max_depth: int = 8, environment: np.ndarray | None = None) -> dict:
    """The Mitsuba scene (a ``mi.load_dict`` dict) of ``state``; its meshes are written to
    ``folder`` as PLY files.

    Parameters
    ----------
    environment : (h, w, 3) float or None
        An equirectangular radiance image (:func:`environment_radiance`'s layout), lighting the
        scene besides the ambient term.
    """
    import mitsuba as mi

    scene: dict = {"type": "scene",
                   "integrator": {"type": "path", "max_depth": int(max_depth),
                                  "hide_emitters": True},
                   "sensor": _sensor(state.camera, spp, seed, mi)}
    shapes = [(f"object{obj.instance_id}", _world_mesh(obj, library), obj.material)
              for obj in state.objects]
    if state.ground is not None:
        shapes.append(("ground", _rectangle(state.ground.size, state.ground.size, np.eye(4)),
                       state.ground.material))
    shapes += [(f"wall{i}", _rectangle(w.width, w.height, w.world_from_wall), w.material)
               for i, w in enumerate(state.walls)]
    for name, mesh, material in shapes:
        path = folder / f"{name}.ply"
        mesh.export(path)
        scene[name] = {"type": "ply", "filename": str(path), "face_normals": True,
                       "bsdf": _bsdf(material)}
    for i, light in enumerate(state.lights):
        scene[f"light{i}"] = _emitter(light, mi)
    ambient = np.asarray(state.ambient_light, dtype=np.float64)
    if environment is not None:  # one environment emitter: the ambient sky added to the map
        environment = np.asarray(environment, dtype=np.float64) + ambient
    elif ambient.max() > 0.0:
        scene["ambient"] = {"type": "constant",
                            "radiance": {"type": "rgb", "value": ambient.tolist()}}
    if environment is not None:
        # Mitsuba's envmap looks a local direction d up at u = atan2(d.x, -d.z) / 2 pi,
        # v = acos(d.y) / pi. With our columns mirrored (u' = 1 - u, azimuth phi at
        # u' = (pi - phi) / 2 pi), d = (w.y, w.z, w.x) of the world direction w does it: a
        # rotation, world = M d with M's columns +y, +z, +x.
        path = folder / "environment.exr"
        mirrored = np.ascontiguousarray(environment[:, ::-1], dtype=np.float32)
        mi.Bitmap(mirrored).write(str(path))
        to_world = mi.ScalarTransform4f([[0.0, 0.0, 1.0, 0.0], [1.0, 0.0, 0.0, 0.0],
                                         [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0]])
        scene["environment"] = {"type": "envmap", "filename": str(path),
                                "to_world": to_world}
    return scene


def reference(state: SceneState, library, *, spp: int = 64, seed: int = 0,
              max_depth: int = 8) -> np.ndarray:
    """Path-trace ``state`` (its environment with :func:`environment_radiance`) with
    Mitsuba 3 (``scalar_rgb``).

    Returns
    -------
    (H, W, 3) float64
        Linear RGB radiance of each pixel (black where a ray leaves the scene).
    """
    import mitsuba as mi

    mi.set_variant("scalar_rgb")
    with tempfile.TemporaryDirectory(prefix="synthscene-reference-") as folder:
        scene = mi.load_dict(scene_dict(state, library, Path(folder), spp=spp, seed=seed,
                                        max_depth=max_depth,
                                        environment=environment_radiance(state)))
        image = mi.render(scene)
        return np.array(image, dtype=np.float64)[:, :, :3]
