"""Shadow maps against analytic shadows: a cube on the ground under a directional, a spot and a
point light, seen from straight above (needs GL)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from conftest import UnitCubeLibrary, cube, pose, scene, top_down_camera
from synthscene.core.state import Light

pytestmark = pytest.mark.gl

W, H, F, CAMERA_Z = 160, 120, 110.0, 1.5
EDGE, YAW = 0.2, 0.4


def _aimed(position, target) -> np.ndarray:
    """(4, 4) pose at ``position`` whose -z axis points at ``target``."""
    forward = np.asarray(target, float) - np.asarray(position, float)
    forward /= np.linalg.norm(forward)
    right = np.cross(forward, [0.0, 1.0, 0.0])
    right /= np.linalg.norm(right)
    up = np.cross(right, forward)
    return pose(position, np.column_stack([right, up, -forward]))


SUN = Light("directional", pose([0, 0, 1], Rotation.from_euler("xy", [0.55, 0.35]).as_matrix()),
            (1.0, 1.0, 1.0), 3.0)
SPOT = Light("spot", _aimed([0.35, 0.25, 0.9], [0.0, 0.0, 0.0]), (1.0, 1.0, 1.0), 6.0,
             inner_cone_angle=0.5, outer_cone_angle=0.8)
POINT = Light("point", pose([-0.35, 0.3, 0.7]), (1.0, 1.0, 1.0), 3.0)


def _state(light: Light, softness_m: float | None):
    box = cube(1, [0.0, 0.0, EDGE / 2], EDGE, Rotation.from_euler("z", YAW).as_matrix())
    state = scene([box], top_down_camera(W, H, f=F, z=CAMERA_Z))
    return dataclasses.replace(state, lights=(light,), ambient_light=(0.05, 0.05, 0.05),
                               shadow_softness_m=softness_m)


def _ground_points() -> np.ndarray:
    """(H, W, 3) float64: the ground point (z = 0) at each pixel centre of the camera."""
    v, u = np.mgrid[0:H, 0:W].astype(np.float64)
    x = (u - (W - 1) / 2) / F * CAMERA_Z
    y = -(v - (H - 1) / 2) / F * CAMERA_Z
    return np.stack([x, y, np.zeros_like(x)], axis=-1)


def _analytic_shadow(light: Light) -> np.ndarray:
    """(H, W) bool: ground pixels whose segment towards the light crosses the cube (slab test
    in the cube's frame)."""
    points = _ground_points().reshape(-1, 3)
    light_pose = np.asarray(light.world_from_light)
    if light.kind == "directional":
        towards = np.broadcast_to(light_pose[:3, 2] * 100.0, points.shape)  # far along -dir
    else:
        towards = light_pose[:3, 3] - points
    rotation = Rotation.from_euler("z", YAW).as_matrix()
    origin = (points - [0.0, 0.0, EDGE / 2]) @ rotation  # the cube's frame
    direction = towards @ rotation
    with np.errstate(divide="ignore", invalid="ignore"):
        t1 = (-EDGE / 2 - origin) / direction
        t2 = (EDGE / 2 - origin) / direction
    t_near = np.nanmax(np.minimum(t1, t2), axis=1)
    t_far = np.nanmin(np.maximum(t1, t2), axis=1)
    hit = (t_near <= t_far) & (t_far > 0) & (t_near < 1)
    return hit.reshape(H, W)


def _render(state, settings=None):
    from synthscene.render.renderer import Renderer
    from synthscene.render.settings import RenderSettings

    with Renderer(UnitCubeLibrary(), W, H, settings or RenderSettings()) as renderer:
        return renderer.render(state)


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max(1, (a | b).sum()))


@pytest.mark.parametrize("light", [SUN, SPOT, POINT], ids=["directional", "spot", "point"])
def test_the_shadow_on_the_ground_is_the_cubes_projection_from_the_light(light):
    plain, shadowed = _render(_state(light, None)), _render(_state(light, 0.002))
    ground = plain.instance_ids == 0
    loss = plain.rgb.astype(int).sum(-1) - shadowed.rgb.astype(int).sum(-1)
    dark = ground & (loss > 0.5 * loss[ground].max())  # darker than halfway to the umbra
    expected = ground & _analytic_shadow(light)
    assert expected.sum() > 100  # a shadow of some size is in view
    assert _iou(dark, expected) >= 0.8


@pytest.mark.parametrize("light", [SUN, SPOT, POINT], ids=["directional", "spot", "point"])
def test_no_acne_where_nothing_occludes(light):
    """Every pixel out of the analytic shadow (and a few pixels from its edge and the cube's)
    is as with shadows off, within 2 levels: the lit ground and the lit faces of the cube."""
    from scipy.ndimage import binary_dilation

    plain, shadowed = _render(_state(light, None)), _render(_state(light, 0.004))
    near = binary_dilation(_analytic_shadow(light), iterations=4)
    # The cube's faces that the light leaves in its own shadow, and their edges, are left out.
    facing = plain.rgb.astype(int).sum(-1) > 3 * 255 * 0.1
    edges = binary_dilation(plain.instance_ids != binary_dilation(plain.instance_ids > 0),
                            iterations=1)
    checked = ~near & ~edges & ((plain.instance_ids == 0) | facing)
    assert checked.sum() > 0.7 * W * H
    difference = np.abs(plain.rgb.astype(int) - shadowed.rgb.astype(int)).max(axis=-1)
    assert difference[checked].max() <= 2


def test_labels_do_not_change_with_shadows():
    plain, shadowed = _render(_state(SUN, None)), _render(_state(SUN, 0.004))
    assert not np.array_equal(plain.rgb, shadowed.rgb)
    np.testing.assert_array_equal(plain.instance_ids, shadowed.instance_ids)
    np.testing.assert_array_equal(plain.depth, shadowed.depth)


def test_softness_widens_the_penumbra():
    plain = _render(_state(SUN, None))
    ground = plain.instance_ids == 0

    def penumbra(softness_m: float) -> int:
        loss = (plain.rgb.astype(int).sum(-1)
                - _render(_state(SUN, softness_m)).rgb.astype(int).sum(-1))
        top = loss[ground].max()
        return int((ground & (loss > 0.1 * top) & (loss < 0.9 * top)).sum())

    assert penumbra(0.03) > 2 * penumbra(0.002)


def test_no_frame_calls_pyrenders_renderer(monkeypatch):
    """Shadows, six lights (five directional), 4x MSAA and normals: all in our own pass."""
    import pyrender

    from synthscene.render.settings import RenderSettings

    def refuse(*args, **kwargs):
        raise AssertionError("pyrender's Renderer.render was called")

    monkeypatch.setattr(pyrender.Renderer, "render", refuse)
    monkeypatch.setattr(pyrender.OffscreenRenderer, "render", refuse)
    suns = tuple(dataclasses.replace(SUN, intensity=0.3) for _ in range(5))
    state = dataclasses.replace(_state(SUN, 0.003),
                                lights=suns + (dataclasses.replace(POINT, intensity=0.5),))
    settings = RenderSettings(msaa_samples=4, normals=True, shadow_lights=6)
    out = _render(state, settings)
    ground = out.instance_ids == 0
    plain = _render(dataclasses.replace(state, shadow_softness_m=None), settings)
    darker = plain.rgb.astype(int).sum(-1) - out.rgb.astype(int).sum(-1) > 20
    expected = ground & _analytic_shadow(SUN)
    assert (darker & expected).sum() > 0.8 * expected.sum()
    assert out.normals is not None


def test_only_the_strongest_lights_cast_shadows():
    """``shadow_lights`` 1: of a sun and a weaker point light, only the sun casts a shadow;
    2: both do."""
    from synthscene.render.settings import RenderSettings

    weak = dataclasses.replace(POINT, intensity=0.5)  # 0.5 cd at 0.87 m: 0.66 W/m^2 < 3
    state = dataclasses.replace(_state(SUN, 0.002), lights=(weak, SUN))
    plain = _render(dataclasses.replace(state, shadow_softness_m=None))
    ground = plain.instance_ids == 0
    sun_only, point_only = _analytic_shadow(SUN), _analytic_shadow(POINT)
    sun_only, point_only = sun_only & ~point_only & ground, point_only & ~sun_only & ground
    for count, point_casts in ((1, False), (2, True)):
        out = _render(state, RenderSettings(shadow_lights=count))
        loss = plain.rgb.astype(int).sum(-1) - out.rgb.astype(int).sum(-1)
        assert (loss[sun_only] > 30).mean() > 0.8
        assert ((loss[point_only] > 10).mean() > 0.8) == point_casts


@pytest.mark.parametrize("shading", ["lit", "flat"])
def test_a_frame_with_nothing_to_cast_or_flat_shading_renders_as_without_shadows(shading):
    from synthscene.render.settings import RenderSettings

    settings = RenderSettings(shading=shading)
    empty = dataclasses.replace(_state(SUN, 0.004), objects=())
    for state in (empty, _state(POINT, 0.004)) if shading == "flat" else (empty,):
        with_shadows = _render(state, settings)
        without = _render(dataclasses.replace(state, shadow_softness_m=None), settings)
        np.testing.assert_array_equal(with_shadows.rgb, without.rgb)
