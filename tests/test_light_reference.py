"""Our light against a path tracer: fixed scenes rendered by us and by Mitsuba 3
(``tests/mitsuba_reference.py``: the same meshes, poses, camera, lights and environment), with
the tolerances of ``docs/light.md`` ("Checked against a path tracer"). Slow (seconds of path
tracing per image); run with ``pytest -m slow tests/test_light_reference.py``; skipped without
Mitsuba (``pip install 'synthscene[reference]'``)."""

from __future__ import annotations

import dataclasses

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.gl]

pytest.importorskip("mitsuba")

import mitsuba_reference as mr  # noqa: E402  (after the skip: it imports nothing of Mitsuba)
from synthscene.core.state import AmbientOcclusion  # noqa: E402

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
    regions = mr.ground_regions(state, ours)
    assert regions["sphere"].sum() > 100 and regions["cube"].sum() > 30

    ours_lum = mr.luminance(mr.linear_from_ours(ours.rgb))
    without_lum = mr.luminance(mr.linear_from_ours(without.rgb))
    for where in ("sphere", "cube"):
        expected = mr.contact_ratio(ref, regions, where)
        assert expected < 0.85  # the path tracer darkens there
        assert abs(mr.contact_ratio(ours_lum, regions, where) - expected) <= CONTACT_TOLERANCE
        # and without the occlusion we do not
        assert abs(mr.contact_ratio(without_lum, regions, where) - expected) > CONTACT_TOLERANCE


def test_sun_shadows_match_in_place_and_depth(library):
    state, settings = mr.with_shadows(mr.sun_scene(W, H, occlusion=OCCLUSION))
    output = mr.ours(state, library, settings)
    regions = mr.ground_regions(state, output)
    ours = mr.luminance(mr.linear_from_ours(output.rgb))
    ref = mr.luminance(mr.reference(state, library, spp=SPP))
    assert mr.shadow_mask(ref, regions).sum() > 200
    iou, ours_ratio, ref_ratio = mr.shadow_measures(ours, ref, regions)
    assert iou >= SHADOW_IOU, iou
    assert abs(ours_ratio / ref_ratio - 1.0) <= SHADOW_RATIO_TOLERANCE, (ours_ratio, ref_ratio)


def _sky_scene():
    try:
        return mr.sky_scene(W, H, occlusion=OCCLUSION)
    except ImportError:
        pytest.skip("needs the environment light (SceneState.environment)")


def test_the_sky_tints_the_top_of_a_white_sphere(library):
    state = _sky_scene()
    output = mr.ours(state, library)
    top = mr.sphere_top(state, output)
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
