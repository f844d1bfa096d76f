"""Regenerate the image textures that synthscene ships in ``assets/textures/`` (no downloads).

Run from anywhere: ``python scripts/make_textures.py`` (or ``--out DIR`` to write elsewhere).
Each texture is a 256 x 256 sRGB PNG built from synthscene's own procedural noise
(:mod:`synthscene.randomize.textures`) with a fixed seed, so the pixels are the same on every run;
every texture tiles seamlessly (the noise lattice and every periodic pattern wrap around the
image). They are palette-quantised (Pillow's median cut, no dithering) to stay small. The project
generates them and dedicates them to the public domain (CC0-1.0, see ``assets/LICENSE``).

The classic recipes (K. Perlin, "An Image Synthesizer", SIGGRAPH 1985: marble as
``sin(x + turbulence)``; wood as rings of a noise-displaced distance) are written out below.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

from synthscene.randomize.textures import fractal_noise
from synthscene.seeding import frame_rng

SIZE = 256
SEED = 20240
COLORS = 96
"""Palette size of every PNG."""


def ramp(t: np.ndarray, stops: list[tuple[float, tuple[int, int, int]]]) -> np.ndarray:
    """Map ``t`` in [0, 1] through a piecewise-linear colour ramp.

    Parameters
    ----------
    t : (H, W) float
    stops : list of (position, (r, g, b))
        Positions increasing in [0, 1], colours 8-bit sRGB.

    Returns
    -------
    (H, W, 3) uint8
    """
    pos = np.array([p for p, _ in stops])
    rgb = np.array([c for _, c in stops], dtype=float)
    t = np.clip(t, 0.0, 1.0)
    out = np.stack([np.interp(t, pos, rgb[:, k]) for k in range(3)], axis=-1)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def _grid() -> tuple[np.ndarray, np.ndarray]:
    """Pixel-centre coordinates in [0, 1), (H, W) each: x across, y down."""
    c = (np.arange(SIZE) + 0.5) / SIZE
    return np.meshgrid(c, c)


def wood(rng: np.random.Generator, light: tuple, dark: tuple, rings: int) -> np.ndarray:
    """Growth rings across y, displaced by low-frequency noise, plus fine grain along x."""
    x, y = _grid()
    warp = fractal_noise(SIZE, rng=rng, scale_px=(128, 256), octaves=3)
    grain = fractal_noise(SIZE, rng=rng, scale_px=(2, 64), octaves=2)
    phase = rings * y + 1.5 * warp
    t = 0.5 + 0.5 * np.sin(2 * np.pi * phase)
    t = t ** 3 * 0.8 + 0.2 * grain
    return ramp(t, [(0.0, light), (1.0, dark)])


def marble(rng: np.random.Generator, stops: list, bands: int) -> np.ndarray:
    """Perlin's marble: ``sin`` of a coordinate plus turbulence, sharpened into veins."""
    x, y = _grid()
    turb = fractal_noise(SIZE, rng=rng, scale_px=128, octaves=6, persistence=0.55)
    t = np.abs(np.sin(np.pi * (bands * (x + y) + 4.0 * turb)))
    return ramp(t ** 0.35, stops)


def fabric(rng: np.random.Generator, warp_color: tuple, weft_color: tuple,
           threads: int, twill: bool) -> np.ndarray:
    """A plain or twill weave: interlaced warp and weft threads with fibre noise."""
    x, y = _grid()
    u, v = threads * x, threads * y
    iu, iv = np.floor(u).astype(int), np.floor(v).astype(int)
    over = ((iu + iv) % 2 == 0) if not twill else ((iu - iv) % 4 < 2)
    across = np.where(over, u - iu, v - iv)          # position across the visible thread
    shade = 0.55 + 0.45 * np.sin(np.pi * across)
    fibre = fractal_noise(SIZE, rng=rng, scale_px=4, octaves=2)
    color = np.where(over[..., None], np.array(warp_color, float), np.array(weft_color, float))
    out = color * (shade * (0.85 + 0.3 * fibre))[..., None]
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def brushed_metal(rng: np.random.Generator, tint: tuple) -> np.ndarray:
    """Noise stretched along x: fine streaks, as left by brushing."""
    streaks = fractal_noise(SIZE, rng=rng, scale_px=(2, 256), octaves=3, persistence=0.6)
    broad = fractal_noise(SIZE, rng=rng, scale_px=128, octaves=2)
    t = 0.7 * streaks + 0.3 * broad
    base = np.array(tint, float)
    out = base * (0.75 + 0.35 * t)[..., None]
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def stone(rng: np.random.Generator, stops: list, speckle: float) -> np.ndarray:
    """Concrete or granite: smooth multi-octave noise plus sparse speckles."""
    body = fractal_noise(SIZE, rng=rng, scale_px=64, octaves=6, persistence=0.6)
    spots = fractal_noise(SIZE, rng=rng, scale_px=3, octaves=1)
    t = body.copy()
    t[spots > 1.0 - speckle] = 1.0
    t[spots < speckle] = 0.0
    return ramp(t, stops)


def patches(rng: np.random.Generator, stops: list, scale: float) -> np.ndarray:
    """Camouflage-like patches: noise quantised into the ramp's bands."""
    t = fractal_noise(SIZE, rng=rng, scale_px=scale, octaves=3, persistence=0.45)
    levels = len(stops)
    q = np.clip(np.floor(t * levels), 0, levels - 1) / max(levels - 1, 1)
    return ramp(q, stops)


TEXTURES: dict[str, Callable[[np.random.Generator], np.ndarray]] = {
    "wood_oak": lambda r: wood(r, (206, 160, 108), (140, 92, 52), rings=12),
    "wood_walnut": lambda r: wood(r, (120, 80, 52), (58, 36, 22), rings=18),
    "marble_white": lambda r: marble(r, [(0.0, (110, 110, 118)), (0.25, (200, 200, 204)),
                                         (1.0, (242, 241, 236))], bands=3),
    "marble_green": lambda r: marble(r, [(0.0, (230, 240, 230)), (0.2, (60, 110, 80)),
                                         (1.0, (20, 52, 36))], bands=2),
    "fabric_linen": lambda r: fabric(r, (214, 202, 176), (196, 182, 152), threads=64,
                                     twill=False),
    "fabric_denim": lambda r: fabric(r, (52, 78, 128), (180, 186, 200), threads=64, twill=True),
    "fabric_red_weave": lambda r: fabric(r, (170, 32, 38), (110, 20, 28), threads=32,
                                         twill=False),
    "metal_brushed": lambda r: brushed_metal(r, (190, 192, 196)),
    "concrete": lambda r: stone(r, [(0.0, (92, 92, 90)), (0.5, (150, 148, 144)),
                                    (1.0, (196, 194, 190))], speckle=0.02),
    "granite": lambda r: stone(r, [(0.0, (30, 28, 30)), (0.45, (120, 100, 96)),
                                   (0.7, (170, 150, 140)), (1.0, (235, 228, 222))],
                               speckle=0.08),
    "camouflage": lambda r: patches(r, [(0.0, (62, 72, 44)), (0.33, (110, 104, 70)),
                                        (0.66, (150, 130, 92)), (1.0, (40, 40, 32))], scale=96),
    "rust": lambda r: stone(r, [(0.0, (70, 36, 20)), (0.4, (140, 66, 30)),
                                (0.75, (184, 104, 52)), (1.0, (210, 150, 96))], speckle=0.04),
}


def make(name: str, index: int) -> Image.Image:
    """Texture ``name``, drawn from a generator seeded by ``(SEED, index)``, palette-quantised."""
    rgb = TEXTURES[name](frame_rng(SEED, index))
    assert rgb.shape == (SIZE, SIZE, 3) and rgb.dtype == np.uint8, name
    return Image.fromarray(rgb, "RGB").quantize(COLORS, method=Image.Quantize.MEDIANCUT,
                                                 dither=Image.Dither.NONE)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path,
                        default=Path(__file__).resolve().parents[1] / "assets" / "textures")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    total = 0
    for index, name in enumerate(TEXTURES):
        path = args.out / f"{name}.png"
        make(name, index).save(path, optimize=True)
        total += path.stat().st_size
        print(f"{path}  {path.stat().st_size / 1024:.0f} KiB")
    print(f"{len(TEXTURES)} textures, {total / 1024:.0f} KiB in total")


if __name__ == "__main__":
    main()
