"""Procedural and image textures, checked against their definitions and analytic values."""

from __future__ import annotations

import math
import pickle

import cv2
import numpy as np
import pytest

from synthscene.errors import AssetError
from synthscene.randomize import textures as tx
from synthscene.resources import bundled_dir
from synthscene.seeding import frame_rng
from tolerances import tol

RED, BLUE = (1.0, 0.0, 0.0), (0.0, 0.0, 1.0)


def fade(t):
    return 6 * t**5 - 15 * t**4 + 10 * t**3


def perlin_reference(shape, cells, angles):
    """Perlin's noise written out corner by corner, one pixel at a time (slow, obvious)."""
    h, w = shape
    ny, nx = cells
    gx, gy = np.cos(angles), np.sin(angles)
    out = np.zeros(shape)
    for y in range(h):
        for x in range(w):
            py, px = (y + 0.5) * ny / h, (x + 0.5) * nx / w
            iy, ix = int(py), int(px)
            fy, fx = py - iy, px - ix
            for b in (0, 1):
                for a in (0, 1):
                    j, i = (iy + b) % ny, (ix + a) % nx
                    weight = (fade(fy) if b else 1 - fade(fy)) * (fade(fx) if a else 1 - fade(fx))
                    out[y, x] += weight * (gx[j, i] * (fx - a) + gy[j, i] * (fy - b))
    return out


def test_perlin_noise_matches_the_corner_by_corner_definition():
    shape, cells = (12, 20), (3, 4)
    noise = tx.perlin_noise(shape, cells, rng=frame_rng(7, 0))
    angles = frame_rng(7, 0).uniform(0.0, 2.0 * np.pi, size=cells)
    assert noise.shape == shape and noise.dtype == np.float32
    np.testing.assert_allclose(noise, perlin_reference(shape, cells, angles), atol=tol.normal)


def test_fractal_noise_is_normalised_non_constant_and_tiles():
    n = tx.fractal_noise((64, 96), rng=frame_rng(1, 0), scale_px=16, octaves=4)
    assert n.shape == (64, 96) and n.dtype == np.float32
    assert n.min() == 0.0 and n.max() == pytest.approx(1.0)
    assert n.std() > 0.1
    # The lattice wraps around, so the step across the seam is like any step between neighbours.
    inner_x = np.abs(np.diff(n, axis=1)).mean()
    inner_y = np.abs(np.diff(n, axis=0)).mean()
    assert np.abs(n[:, 0] - n[:, -1]).mean() < 2 * inner_x
    assert np.abs(n[0] - n[-1]).mean() < 2 * inner_y


def test_colorize_endpoints_are_exact():
    t = np.array([[0.0, 1.0, 0.5]])
    out = tx.colorize(t, (0.0, 0.2, 1.0), (1.0, 0.6, 0.0))
    assert out.dtype == np.uint8
    assert out[0, 0].tolist() == [0, 51, 255]
    assert out[0, 1].tolist() == [255, 153, 0]
    # In between: the blend, quantised to one of 256 levels of t (so within one 8-bit level).
    assert np.abs(out[0, 2] - np.array([127.5, 102.0, 127.5])).max() <= 1.0


def test_checkerboard_cells_have_the_requested_size():
    img = tx.checkerboard_texture((64, 64), rng=frame_rng(0, 0), cell_px=8, angle_rad=0.0,
                                  color_a=RED, color_b=BLUE)
    colours = {tuple(c) for c in img.reshape(-1, 3).tolist()}
    assert colours == {(255, 0, 0), (0, 0, 255)}
    row = img[10, :, 0]
    edges = np.flatnonzero(np.diff(row.astype(int)))
    np.testing.assert_array_equal(np.diff(edges), 8)                 # runs of exactly 8 px
    assert abs((img[..., 0] == 255).mean() - 0.5) < 0.02


def test_stripes_duty_and_direction():
    img = tx.stripes_texture((64, 128), rng=frame_rng(0, 0), period_px=16, duty=0.25,
                             angle_rad=0.0, color_a=RED, color_b=BLUE)
    assert (img == img[:1]).all()                                    # angle 0: vertical stripes
    assert abs((img[..., 0] == 255).mean() - 0.25) < 0.02
    turned = tx.stripes_texture((64, 64), rng=frame_rng(0, 0), period_px=16, duty=0.5,
                                angle_rad=math.pi / 2, color_a=RED, color_b=BLUE)
    assert (turned == turned[:, :1]).all()                           # pi/2: horizontal stripes


def test_gradients_run_between_the_two_colours():
    lin = tx.gradient_texture((8, 64), mode="linear", angle_rad=0.0, center=(0.5, 0.5),
                              color_a=(0, 0, 0), color_b=(1, 1, 1))
    assert lin[:, 0].max() <= 2 and lin[:, -1].min() >= 253
    assert (np.diff(lin[0, :, 0].astype(int)) >= 0).all()
    rad = tx.gradient_texture((65, 65), mode="radial", angle_rad=0.0, center=(0.5, 0.5),
                              color_a=(0, 0, 0), color_b=(1, 1, 1))
    assert rad[32, 32, 0] <= 1 and rad[0, 0, 0] == 255 and rad[-1, -1, 0] == 255
    with pytest.raises(ValueError, match="linear, radial"):
        tx.gradient_texture(8, mode="spiral", angle_rad=0, center=(0, 0), color_a=RED,
                            color_b=BLUE)


def test_blobs_cover_the_requested_fraction():
    img = tx.blobs_texture((128, 128), rng=frame_rng(3, 0), scale_px=32, coverage=0.3,
                           softness=0.0, color_a=(0, 0, 0), color_b=(1, 1, 1))
    assert set(np.unique(img).tolist()) == {0, 255}
    assert abs((img[..., 0] == 255).mean() - 0.3) < 0.01


def test_uniform_texture_is_one_colour():
    img = tx.uniform_texture((5, 7), color=(0.2, 0.5, 1.0))
    assert img.shape == (5, 7, 3) and img.flags.writeable
    assert (img == np.array([51, 128, 255], np.uint8)).all()


def test_texture_size_errors():
    with pytest.raises(ValueError, match="positive int"):
        tx.uniform_texture((0, 4), color=RED)


def _write(path, rgb):
    assert cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))


def test_image_folder_indexes_sorted_and_loads_rgb(tmp_path):
    (tmp_path / "sub").mkdir()
    red = np.zeros((20, 30, 3), np.uint8)
    red[..., 0] = 255
    _write(tmp_path / "b.png", red)
    _write(tmp_path / "a.jpg", np.full((10, 10, 3), 128, np.uint8))
    _write(tmp_path / "sub" / "c.PNG", red)
    (tmp_path / "notes.txt").write_text("not an image")
    folder = tx.ImageTextureFolder(tmp_path)
    assert [p.relative_to(tmp_path).as_posix() for p in folder.paths] == \
        ["a.jpg", "b.png", "sub/c.PNG"]
    image = folder.load(1)
    assert image.shape == (20, 30, 3) and (image == [255, 0, 0]).all()   # RGB, not BGR


def test_image_folder_sample_crops_and_resizes_reproducibly(tmp_path):
    ramp = np.zeros((40, 80, 3), np.uint8)
    ramp[..., 1] = np.linspace(0, 255, 80).astype(np.uint8)[None, :]
    _write(tmp_path / "ramp.png", ramp)
    folder = tx.ImageTextureFolder(tmp_path)
    whole = folder.sample(rng=frame_rng(0, 0), size=(40, 80), crop_fraction=1.0)
    np.testing.assert_array_equal(whole, ramp)                       # same aspect and size
    a = folder.sample(rng=frame_rng(5, 1), size=16, crop_fraction=0.5)
    b = folder.sample(rng=frame_rng(5, 1), size=16, crop_fraction=0.5)
    assert a.shape == (16, 16, 3) and a.dtype == np.uint8
    np.testing.assert_array_equal(a, b)
    crops = {folder.sample(rng=frame_rng(5, i), size=16, crop_fraction=0.5)[0, 0, 1]
             for i in range(10)}
    assert len(crops) > 1                                            # the crop moves with the seed
    a[...] = 0                                                       # samples are not the cache
    np.testing.assert_array_equal(folder.load(0), ramp)


def test_broken_image_gives_asset_error_naming_the_file(tmp_path):
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    folder = tx.ImageTextureFolder(tmp_path)
    with pytest.raises(AssetError, match=r"broken\.png: cannot decode"):
        folder.sample(rng=frame_rng(0, 0), size=8)


def test_missing_or_empty_folder_gives_asset_error(tmp_path):
    with pytest.raises(AssetError, match="not found"):
        tx.ImageTextureFolder(tmp_path / "nope")
    with pytest.raises(AssetError, match="holds no image"):
        tx.ImageTextureFolder(tmp_path)


def test_bundled_textures_are_small_tiling_pngs():
    folder = tx.ImageTextureFolder(bundled_dir("assets") / "textures")
    assert len(folder) >= 12
    assert sum(p.stat().st_size for p in folder.paths) < 1.5e6
    for i, path in enumerate(folder.paths):
        image = folder.load(i).astype(int)
        assert path.suffix == ".png" and image.shape == (256, 256, 3)
        assert image.std() > 3, path.name                            # not a flat colour
        seam = np.abs(image[:, 0] - image[:, -1]).mean()
        inner = np.abs(np.diff(image, axis=1)).mean()
        assert seam < 3 * inner + 2, path.name                       # tiles horizontally


def test_image_folder_pickles_without_its_cache(tmp_path):
    _write(tmp_path / "a.png", np.full((64, 64, 3), 7, np.uint8))
    folder = tx.ImageTextureFolder(tmp_path)
    folder.load(0)
    data = pickle.dumps(folder)
    assert len(data) < 2000                                          # no decoded pixels inside
    again = pickle.loads(data)
    assert again.paths == folder.paths and (again.load(0) == 7).all()
