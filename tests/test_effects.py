"""Sensor effects: they change the RGB as their formulas say, keep shape and dtype, leave the
input untouched, and move no pixel (so labels stay exact)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from synthscene.randomize import effects as fx
from synthscene.seeding import frame_rng


@pytest.fixture
def image() -> np.ndarray:
    """A colourful 48 x 64 test card: hue ramp across, value ramp down, a white square."""
    h, w = 48, 64
    x = np.linspace(0, 1, w)[None, :]
    y = np.linspace(0.3, 1, h)[:, None]
    rgb = np.stack([np.broadcast_to(x, (h, w)), np.broadcast_to(1 - x, (h, w)),
                    np.broadcast_to(y, (h, w))], axis=-1) * y[..., None]
    out = np.rint(255 * rgb).astype(np.uint8)
    out[20:28, 30:38] = 255
    return out


EFFECTS = [
    ("gaussian_noise", lambda im, rng: fx.gaussian_noise(im, sigma=5.0, rng=rng)),
    ("gaussian_blur", lambda im, rng: fx.gaussian_blur(im, sigma_px=1.5)),
    ("motion_blur", lambda im, rng: fx.motion_blur(im, length_px=7, angle_rad=0.6)),
    ("defocus_blur", lambda im, rng: fx.defocus_blur(im, radius_px=2.5)),
    ("jpeg", lambda im, rng: fx.jpeg(im, quality=30)),
    ("brightness", lambda im, rng: fx.brightness(im, factor=1.3)),
    ("contrast", lambda im, rng: fx.contrast(im, factor=0.6)),
    ("gamma", lambda im, rng: fx.gamma(im, gamma=1.5)),
    ("hue", lambda im, rng: fx.hue(im, shift_rad=math.radians(40))),
    ("saturation", lambda im, rng: fx.saturation(im, factor=0.5)),
    ("vignetting", lambda im, rng: fx.vignetting(im, strength=0.4)),
]


@pytest.mark.parametrize(("name", "apply"), EFFECTS, ids=[e[0] for e in EFFECTS])
def test_effect_changes_rgb_keeps_shape_and_leaves_input(name, apply, image):
    before = image.copy()
    out = apply(image, frame_rng(0, 0))
    np.testing.assert_array_equal(image, before)
    assert out.shape == image.shape and out.dtype == np.uint8
    assert out is not image and not np.shares_memory(out, image)
    assert np.abs(out.astype(int) - image).mean() > 0.5, name


def test_gaussian_noise_statistics_and_reproducibility():
    grey = np.full((200, 200, 3), 128, np.uint8)
    out = fx.gaussian_noise(grey, sigma=10.0, rng=frame_rng(1, 0))
    diff = out.astype(float) - 128
    assert abs(diff.mean()) < 0.2 and abs(diff.std() - 10.0) < 0.2
    np.testing.assert_array_equal(out, fx.gaussian_noise(grey, sigma=10.0, rng=frame_rng(1, 0)))
    assert not np.array_equal(out, fx.gaussian_noise(grey, sigma=10.0, rng=frame_rng(2, 0)))
    np.testing.assert_array_equal(fx.gaussian_noise(grey, sigma=0.0, rng=frame_rng(1, 0)), grey)


def test_tone_curves_match_their_formulas(image):
    v = image.astype(float)
    np.testing.assert_array_equal(fx.brightness(image, factor=1.0), image)
    np.testing.assert_array_equal(fx.brightness(image, factor=0.5),
                                  np.clip(np.rint(v * 0.5), 0, 255))
    np.testing.assert_array_equal(fx.gamma(image, gamma=2.2),
                                  np.rint(255 * (v / 255) ** 2.2))
    luma = (0.299 * v[..., 0] + 0.587 * v[..., 1] + 0.114 * v[..., 2]).mean()
    flat = fx.contrast(image, factor=0.0)
    assert np.ptp(flat) == 0 and abs(int(flat[0, 0, 0]) - luma) <= 1
    np.testing.assert_array_equal(fx.contrast(image, factor=1.0), image)


def test_hue_and_saturation_in_hsv():
    red = np.zeros((2, 2, 3), np.uint8)
    red[..., 0] = 255
    assert (fx.hue(red, shift_rad=2 * math.pi / 3) == [0, 255, 0]).all()      # red -> green
    assert (fx.hue(red, shift_rad=-2 * math.pi / 3) == [0, 0, 255]).all()     # red -> blue
    colours = frame_rng(0, 0).integers(0, 256, size=(16, 16, 3), dtype=np.uint8)
    assert np.abs(fx.hue(colours, shift_rad=0.0).astype(int) - colours).max() <= 1
    grey = fx.saturation(colours, factor=0.0)
    assert (grey[..., 0] == grey[..., 1]).all() and (grey[..., 1] == grey[..., 2]).all()
    np.testing.assert_array_equal(grey[..., 0], colours.max(axis=-1))         # HSV value kept


def test_vignetting_darkens_corners_by_strength():
    white = np.full((41, 61, 3), 200, np.uint8)
    out = fx.vignetting(white, strength=0.3)
    assert (out[20, 30] == 200).all()
    assert (out[0, 0] == round(200 * 0.7)).all() and (out[-1, -1] == round(200 * 0.7)).all()
    assert (out[20, :31, 0][1:] >= out[20, :31, 0][:-1]).all()              # brighter inwards
    colours = frame_rng(0, 0).integers(0, 256, size=(37, 53, 3), dtype=np.uint8)
    x = (np.arange(53) - 26.0) ** 2
    y = (np.arange(37) - 18.0) ** 2
    gain = 1 - 0.7 * (y[:, None] + x[None, :]) / (x.max() + y.max())
    expected = np.rint(colours * gain[..., None])
    assert np.abs(fx.vignetting(colours, strength=0.7) - expected).max() <= 1    # float32 ties


def _centroid(img: np.ndarray) -> np.ndarray:
    w = img[..., 0].astype(float)
    ys, xs = np.mgrid[:img.shape[0], :img.shape[1]]
    return np.array([(w * ys).sum(), (w * xs).sum()]) / w.sum()


@pytest.mark.parametrize("blur", [
    lambda im: fx.gaussian_blur(im, sigma_px=2.0),
    lambda im: fx.motion_blur(im, length_px=9, angle_rad=0.0),
    lambda im: fx.motion_blur(im, length_px=8, angle_rad=math.radians(30)),
    lambda im: fx.motion_blur(im, length_px=11, angle_rad=math.radians(100)),
    lambda im: fx.defocus_blur(im, radius_px=3.3),
], ids=["gaussian", "motion_0", "motion_30_even", "motion_100", "defocus"])
def test_blurs_move_no_pixel(blur):
    """A blurred dot keeps its centroid: the kernels are centred and point-symmetric."""
    dot = np.zeros((41, 41, 3), np.uint8)
    dot[17, 23] = 255
    out = blur(dot)
    assert out[..., 0].sum() > 255 * 0.9 and out[17, 23, 0] < 255            # spread, not lost
    np.testing.assert_allclose(_centroid(out), [17, 23], atol=0.05)


def test_kernels():
    k = fx.motion_kernel(9, 0.0)
    assert k.shape[0] % 2 == 1 and k.sum() == pytest.approx(1.0)
    c = k.shape[0] // 2
    assert k[c].sum() == pytest.approx(1.0) and np.count_nonzero(k[c]) == 9   # horizontal line
    for length, angle in [(7, 0.5), (12, 2.0)]:
        k = fx.motion_kernel(length, angle)
        np.testing.assert_allclose(k, k[::-1, ::-1], atol=1e-7)
        # The line points along (cos a, -sin a) in (x, y): counter-clockwise on screen.
        ys, xs = np.nonzero(k > 0.05)
        c = k.shape[0] // 2
        direction = np.array([np.cos(angle), -np.sin(angle)])
        off_line = np.abs((xs - c) * direction[1] - (ys - c) * direction[0])
        assert off_line.max() < 1.0
    d = fx.disc_kernel(3.0)
    assert d.shape == (7, 7) and d.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(d, d.T)
    np.testing.assert_allclose(d, d[::-1, ::-1])
    assert d[0, 0] == 0 and d[3, 3] == d.max()


def test_jpeg_quality_orders_the_error(image):
    err = [np.abs(fx.jpeg(image, quality=q).astype(int) - image).mean() for q in (10, 50, 95)]
    assert err[0] > err[1] > err[2] > 0


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match=r"\(H, W, 3\) uint8"):
        fx.brightness(np.zeros((4, 4, 3), np.float32), factor=1.0)
    with pytest.raises(ValueError, match=r"\(H, W, 3\) uint8"):
        fx.jpeg(np.zeros((4, 4), np.uint8), quality=50)
