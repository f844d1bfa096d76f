"""Our light against a path tracer: fixed scenes rendered by us and by Mitsuba 3
(``tests/mitsuba_reference.py``: the same meshes, poses, camera, lights and environment), with
the tolerances of ``docs/light.md`` ("Checked against a path tracer"). Slow (seconds of path
tracing per image); run with ``pytest -m slow tests/test_light_reference.py``; skipped without
Mitsuba (``pip install 'synthscene[reference]'``)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

pytestmark = [pytest.mark.slow, pytest.mark.gl]

pytest.importorskip("mitsuba")

import mitsuba_reference as mr  # noqa: E402  (after the skip: it imports nothing of Mitsuba)
from synthscene.core.state import AmbientOcclusion  # noqa: E402
from synthscene.render.settings import RenderSettings  # noqa: E402

W, H = 160, 120
SPP = 128
OCCLUSION = AmbientOcclusion(strength=1.0, radius=0.2)  # the objects' size

LUMINANCE_TOLERANCE = 0.15   # mean image luminance, relative
SHADOW_IOU = 0.8             # shadow region on the ground
SHADOW_RATIO_TOLERANCE = 0.25  # shadow / lit luminance, relative
CONTACT_TOLERANCE = 0.1      # contact / open ground luminance, absolute
HUE_TOLERANCE_DEG = 20.0     # the sky's tint on the top of the white sphere


@pytest.fixture(scope="module")
def library():
    return mr.FixedLibrary()


def _world_points(state, depth: np.ndarray) -> np.ndarray:
    """(H, W, 3) world points of every pixel from its camera-z depth (metres)."""
    camera = state.camera
    K = camera.K
    v, u = np.mgrid[0:camera.height, 0:camera.width]
    rays = np.stack([(u - K[0, 2]) / K[0, 0], (v - K[1, 2]) / K[1, 1],
                     np.ones(depth.shape)], axis=-1) * depth[..., None]
    return rays @ camera.world_from_camera[:3, :3].T + camera.world_from_camera[:3, 3]


def _ground_regions(state, output) -> dict[str, np.ndarray]:
    """Masks of the ground: near each object's base and far from both (open)."""
    world = _world_points(state, output.depth)
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


def test_mean_luminance_within_15_percent_under_a_sun(library):
    state = mr.sun_scene(W, H, occlusion=OCCLUSION)
    ours = mr.luminance(mr.linear_from_ours(mr.ours(state, library).rgb)).mean()
    ref = mr.luminance(mr.reference(state, library, spp=SPP)).mean()
    assert abs(ours / ref - 1.0) <= LUMINANCE_TOLERANCE, (ours, ref)


def test_a_contact_darkens_as_in_the_path_tracer(library):
    state = mr.contact_scene(W, H, occlusion=OCCLUSION)
    ours = mr.ours(state, library)
    without = mr.ours(dataclasses.replace(state, ambient_occlusion=None), library)
    ref = mr.luminance(mr.reference(state, library, spp=SPP))
    regions = _ground_regions(state, ours)
    assert regions["sphere"].sum() > 100 and regions["cube"].sum() > 30

    def contact(luminance: np.ndarray, where: str) -> float:
        return float(luminance[regions[where]].mean() / luminance[regions["open"]].mean())

    ours_lum = mr.luminance(mr.linear_from_ours(ours.rgb))
    without_lum = mr.luminance(mr.linear_from_ours(without.rgb))
    for where in ("sphere", "cube"):
        expected = contact(ref, where)
        assert expected < 0.85  # the path tracer darkens there
        assert abs(contact(ours_lum, where) - expected) <= CONTACT_TOLERANCE, where
        assert abs(contact(without_lum, where) - expected) > CONTACT_TOLERANCE  # AO is needed


def _shadow(luminance: np.ndarray, regions: dict) -> np.ndarray:
    """Ground pixels darker than half the open ground's median luminance."""
    return regions["ground"] & (luminance < 0.5 * np.median(luminance[regions["open"]]))


def test_sun_shadows_match_in_place_and_depth(library):
    state = mr.sun_scene(W, H, occlusion=OCCLUSION)
    output = mr.ours(state, library, RenderSettings(shadows=True))
    regions = _ground_regions(state, output)
    ours = mr.luminance(mr.linear_from_ours(output.rgb))
    ref = mr.luminance(mr.reference(state, library, spp=SPP))
    ours_shadow, ref_shadow = _shadow(ours, regions), _shadow(ref, regions)
    assert ref_shadow.sum() > 200
    iou = (ours_shadow & ref_shadow).sum() / (ours_shadow | ref_shadow).sum()
    assert iou >= SHADOW_IOU, iou
    core = ours_shadow & ref_shadow

    def ratio(luminance: np.ndarray) -> float:
        return float(luminance[core].mean() / luminance[regions["open"]].mean())

    assert abs(ratio(ours) / ratio(ref) - 1.0) <= SHADOW_RATIO_TOLERANCE, (ratio(ours),
                                                                           ratio(ref))


def _sky_scene():
    try:
        return mr.sky_scene(W, H, occlusion=OCCLUSION)
    except ImportError:
        pytest.skip("needs the environment light (SceneState.environment)")


def test_the_sky_tints_the_top_of_a_white_sphere(library):
    state = _sky_scene()
    output = mr.ours(state, library)
    world = _world_points(state, output.depth)
    sphere = state.objects[0]
    normal_z = (world[..., 2] - sphere.world_from_object[2, 3]) / 0.1
    top = (output.instance_ids == sphere.instance_id) & (normal_z > 0.8)
    assert top.sum() > 30
    ours = mr.linear_from_ours(output.rgb)[top].mean(axis=0)
    ref = mr.reference(state, library, spp=SPP)[top].mean(axis=0)
    difference = abs((mr.hue_deg(ours) - mr.hue_deg(ref) + 180.0) % 360.0 - 180.0)
    assert difference <= HUE_TOLERANCE_DEG, (ours, ref)


def test_mean_luminance_within_15_percent_under_the_sky(library):
    state = _sky_scene()
    ours = mr.luminance(mr.linear_from_ours(mr.ours(state, library).rgb)).mean()
    ref = mr.luminance(mr.reference(state, library, spp=SPP)).mean()
    assert abs(ours / ref - 1.0) <= LUMINANCE_TOLERANCE, (ours, ref)


def test_mean_luminance_within_15_percent_on_a_bundled_frame():
    state, library, settings = mr.bundled_frame("tabletop", 0, width=W, height=H)
    ours = mr.luminance(mr.linear_from_ours(mr.ours(state, library, settings).rgb)).mean()
    ref = mr.luminance(mr.reference(state, library, spp=SPP)).mean()
    assert abs(ours / ref - 1.0) <= LUMINANCE_TOLERANCE, (ours, ref)
