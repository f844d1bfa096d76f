"""The depth sensor's reading against its models: noise statistics at several distances,
disparity quantisation, holes at edges and grazing angles, the file beside the exact depth."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from synthscene.core.state import Camera
from synthscene.randomize.depth_sensor import depth_reading


def _spec(**fields):
    from synthscene.config.loading import scenario_from_dict

    return scenario_from_dict({"assets": [{"source": "primitive:box"}],
                               "outputs": {"depth_sensor": fields}}).spec.outputs.depth_sensor


def _camera(width: int = 96, height: int = 72, f: float = 120.0) -> Camera:
    K = np.array([[f, 0.0, (width - 1) / 2], [0.0, f, (height - 1) / 2], [0.0, 0.0, 1.0]])
    return Camera(K=K, width=width, height=height, world_from_camera=np.eye(4))


def _rng(n: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(n))


@pytest.mark.parametrize("z", [0.5, 1.0, 2.0, 3.5])
def test_structured_light_noise_has_the_papers_sigma_at_each_distance(z):
    camera = _camera()
    spec = _spec(model="structured_light", lateral_px=0.0)
    plane = np.full((camera.height, camera.width), z, np.float32)
    readings = np.stack([depth_reading(plane, camera, spec, rng=_rng(i)) for i in range(30)])
    inner = readings[:, 2:-2, 2:-2].astype(np.float64)  # the plane's own border is an edge
    assert (inner > 0).all()
    sigma = 0.0012 + 0.0019 * (z - 0.4) ** 2  # Nguyen, Izadi & Lovell 2012
    n = inner.size
    assert abs(inner.mean() - z) < 4 * sigma / np.sqrt(n)
    assert inner.std() == pytest.approx(sigma, rel=0.02)


@pytest.mark.parametrize("z", [0.6, 1.5, 3.0])
def test_stereo_reading_is_fb_over_the_quantised_disparity(z):
    camera = _camera()
    f, b, levels = camera.K[0, 0], 0.05, 4
    spec = _spec(model="stereo", baseline_m=b, disparity_sigma_px=0.0, subpixel_levels=levels)
    plane = np.full((camera.height, camera.width), z, np.float32)
    reading = depth_reading(plane, camera, spec, rng=_rng(0))[2:-2, 2:-2]
    disparity = np.round(f * b / z * levels) / levels
    np.testing.assert_allclose(reading, f * b / disparity, rtol=1e-6)
    # the quantisation error in depth is at most half a level of disparity
    assert np.abs(reading - z).max() <= z * z / (f * b) * 0.5 / levels + 1e-6


def test_stereo_depth_sigma_grows_as_z_squared():
    camera = _camera()
    f, b, sigma_d = camera.K[0, 0], 0.1, 0.2
    spec = _spec(model="stereo", baseline_m=b, disparity_sigma_px=sigma_d, subpixel_levels=256)
    for z in (0.8, 1.6):
        plane = np.full((camera.height, camera.width), z, np.float32)
        inner = np.stack([depth_reading(plane, camera, spec, rng=_rng(i))[2:-2, 2:-2]
                          for i in range(10)]).astype(np.float64)
        assert inner.std() == pytest.approx(z * z / (f * b) * sigma_d, rel=0.05)


def test_no_reading_at_discontinuities_grazing_angles_and_range_limits():
    camera = _camera()
    spec = _spec(model="structured_light", lateral_px=0.0, axial_a_m=0.0, axial_b_m=0.0,
                 edge_threshold=0.05, max_incidence_deg=70, max_depth_m=4.0)
    depth = np.full((camera.height, camera.width), 1.0, np.float32)
    depth[:, 40:] = 1.5  # a step of 0.5 m at column 40
    depth[:10] = 0.0  # nothing hit in the top rows
    depth[60:, :20] = 5.0  # beyond max_depth_m
    out = depth_reading(depth, camera, spec, rng=_rng(0))
    assert (out[:, 39:41] == 0).all() and (out[:10] == 0).all() and (out[10] == 0).all()
    assert (out[61:, :19] == 0).all()
    np.testing.assert_array_equal(out[20:50, 5:35], 1.0)  # noise-free inside
    # A plane tilted 80 degrees away from the view ray gives no reading; at 40 it does.
    v, u = np.mgrid[0:camera.height, 0:camera.width].astype(np.float64)
    x = (u - camera.K[0, 2]) / camera.K[0, 0]
    for angle, seen in ((80, False), (40, True)):
        # plane z = 1 + tan(angle) * X through (0, 0, 1): z = 1 / (1 - tan(angle) * x)
        tilted = (1.0 / (1.0 - np.tan(np.radians(angle)) * x)).astype(np.float32)
        tilted[tilted <= 0] = 0
        centre = depth_reading(tilted, camera, spec, rng=_rng(0))[30:42, 40:56]
        assert (centre > 0).all() if seen else (centre == 0).all()


def _tiny(outputs: dict) -> dict:
    return {"image": {"width": 96, "height": 72},
            "assets": [{"source": "primitive:box"}, {"source": "primitive:sphere"}],
            "objects": {"count": 3, "size_m": 0.1},
            "effects": [{"name": "gaussian_noise", "sigma": {"uniform": [1, 3]}}],
            "outputs": {"depth_png": True, **outputs}}


def _digests(folder) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and ".synthscene" not in p.parts}


@pytest.mark.gl
def test_the_reading_is_a_file_beside_the_exact_depth_and_shifts_no_other_byte(tmp_path):
    import cv2

    from synthscene.config.loading import scenario_from_dict
    from synthscene.run.pipeline import generate

    plain = tmp_path / "plain"
    noisy = tmp_path / "noisy"
    generate(scenario_from_dict(_tiny({})), plain, frames=2, seed=5, workers=1)
    generate(scenario_from_dict(_tiny({"depth_sensor": {"model": "structured_light"}})),
             noisy, frames=2, seed=5, workers=1)
    before, after = _digests(plain), _digests(noisy)
    extra = {name for name in after if name.startswith("depth_sensor/")}
    assert extra == {"depth_sensor/000001.png", "depth_sensor/000002.png"}
    for name, digest in before.items():
        if name != "annotations.json":
            assert after[name] == digest, name
    images = json.loads((noisy / "annotations.json").read_text())["images"]
    assert [i["depth_sensor_file"] for i in images] == sorted(extra)
    exact = cv2.imread(str(noisy / "depth/000001.png"), cv2.IMREAD_UNCHANGED)
    reading = cv2.imread(str(noisy / "depth_sensor/000001.png"), cv2.IMREAD_UNCHANGED)
    assert reading.dtype == np.uint16 and reading.shape == exact.shape
    both = (reading > 0) & (exact > 0)
    assert both.mean() > 0.5 and (reading[exact == 0] == 0).all()
    diff = reading[both].astype(float) - exact[both]
    assert np.abs(diff).mean() > 0.5 and np.abs(np.median(diff)) < 5  # mm: noisy, unbiased
    # The annotations differ only by the image entries' new field.
    plain_data = json.loads((plain / "annotations.json").read_text())
    noisy_data = json.loads((noisy / "annotations.json").read_text())
    for image in noisy_data["images"]:
        del image["depth_sensor_file"]
    assert plain_data == noisy_data
