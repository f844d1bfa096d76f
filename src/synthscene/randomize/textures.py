"""Procedural and image textures: ``(H, W, 3) uint8`` sRGB images drawn with a ``Generator``.

Every generator returns a new C-contiguous ``(H, W, 3) uint8`` array whose values are sRGB
(the encoding of glTF 2.0's ``baseColorTexture``). Colours are given as sRGB triples in [0, 1];
sizes are ``(height, width)`` in texture pixels, or one int for a square texture; angles are in
radians. Pure numpy and OpenCV: no GL, no random state of its own.

The noise is Perlin's gradient noise (K. Perlin, "Improving Noise", SIGGRAPH 2002: random unit
gradients on an integer lattice, quintic fade ``6t^5 - 15t^4 + 10t^3``), summed over octaves as
fractal Brownian motion (Musgrave, in Ebert et al., "Texturing and Modeling", 3rd ed., ch. 16).
Because pixel centres form a regular grid, each octave factorises into four small matrix products
(see :func:`perlin_noise`), which makes a 256 x 256 multi-octave texture cost about a millisecond.
The lattice wraps around the image, so noise textures tile seamlessly (useful with ``REPEAT``
texture wrapping).

The parameter models and names of these generators (``perlin``, ``checkerboard``, ``stripes``,
``gradient``, ``blobs``, ``uniform``, ``image``) live in :mod:`synthscene.registry.randomizers`.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from synthscene.assets.image_files import check_image_file, read_image_rgb
from synthscene.core.kept import LeastRecentlyUsed
from synthscene.errors import AssetError

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg")
"""File name endings (case-insensitive) that :class:`ImageTextureFolder` indexes."""

GRADIENT_MODES = ("linear", "radial")
"""The kinds of colour gradient :func:`gradient_texture` draws."""


def texture_shape(size: int | tuple[int, int]) -> tuple[int, int]:
    """Return ``(height, width)`` for a size given as one int or as ``(height, width)``.

    Raises
    ------
    ValueError
        If a side is not a positive integer.
    """
    h, w = (size, size) if np.ndim(size) == 0 else tuple(size)
    if int(h) != h or int(w) != w or h < 1 or w < 1:
        raise ValueError(f"a texture size is a positive int or (height, width), got {size!r}")
    return int(h), int(w)


def colorize(t: np.ndarray, color_a, color_b) -> np.ndarray:
    """Map a scalar field to colours: ``color_a`` where ``t = 0``, ``color_b`` where ``t = 1``.

    Parameters
    ----------
    t : (H, W) float
        Values in [0, 1] (clipped).
    color_a, color_b : (3,) float
        sRGB colours in [0, 1]; the blend is linear in sRGB values.

    Returns
    -------
    (H, W, 3) uint8
        ``round(255 * (color_a + t * (color_b - color_a)))``, through a 256-entry lookup table.
    """
    a = np.asarray(color_a, dtype=np.float64).reshape(3)
    b = np.asarray(color_b, dtype=np.float64).reshape(3)
    ramp = np.linspace(0.0, 1.0, 256)[:, None]
    lut = np.clip(np.rint(255.0 * (a + ramp * (b - a))), 0, 255).astype(np.uint8)
    idx = np.rint(np.clip(t, 0.0, 1.0) * 255.0).astype(np.uint8)
    return lut[idx]


def _fade(t: np.ndarray) -> np.ndarray:
    return t * t * t * (t * (t * 6.0 - 15.0) + 10.0)


def _axis_weights(length: int, cells: int) -> tuple[np.ndarray, np.ndarray]:
    """Interpolation matrices of one axis: pixel centres against a periodic lattice.

    Returns ``(w, wf)``, each ``(length, cells)`` float32: ``w[i, k]`` is the fade weight of
    lattice point ``k`` at pixel ``i``, and ``wf[i, k]`` that weight times the pixel's offset from
    the lattice point (in cells), the factor the gradient's component along this axis takes.
    """
    p = (np.arange(length, dtype=np.float32) + np.float32(0.5)) * np.float32(cells / length)
    i0 = np.floor(p)
    f = p - i0
    i0 = i0.astype(np.int64) % cells
    i1 = (i0 + 1) % cells
    s = _fade(f)
    rows = np.arange(length)
    w = np.zeros((length, cells), dtype=np.float32)
    wf = np.zeros((length, cells), dtype=np.float32)
    # Rows are distinct, so each fancy-indexed update touches every element at most once; the
    # second update adds to the first where both corners are the same point (cells == 1).
    w[rows, i0] = 1.0 - s
    w[rows, i1] += s
    wf[rows, i0] = (1.0 - s) * f
    wf[rows, i1] += s * (f - 1.0)
    return w, wf


def perlin_noise(shape: tuple[int, int], cells: tuple[int, int], *,
                 rng: np.random.Generator) -> np.ndarray:
    """One octave of periodic 2D Perlin gradient noise sampled at pixel centres.

    With fade weights ``w`` and lattice offsets ``f`` per axis, Perlin's sum over the four
    lattice corners ``sum_ab w_b(y) w_a(x) (gx[b, a] (fx - a) + gy[b, a] (fy - b))`` is bilinear in
    the per-axis factors, so the whole image is ``Wy @ Gx @ WFx.T + WFy @ Gy @ Wx.T``.

    Parameters
    ----------
    shape : (int, int)
        ``(height, width)`` in pixels.
    cells : (int, int)
        Lattice cells along y and x (>= 1); the noise repeats with that period over the image.
    rng : numpy.random.Generator
        Draws ``cells[0] * cells[1]`` gradient angles, uniform on [0, 2 pi).

    Returns
    -------
    (H, W) float32
        Noise values, within about [-0.71, 0.71], 0 at lattice points.
    """
    h, w = shape
    ny, nx = max(1, int(cells[0])), max(1, int(cells[1]))
    angles = rng.uniform(0.0, 2.0 * np.pi, size=(ny, nx))
    gx = np.cos(angles).astype(np.float32)
    gy = np.sin(angles).astype(np.float32)
    wy, wfy = _axis_weights(h, ny)
    wx, wfx = _axis_weights(w, nx)
    return (wy @ gx) @ wfx.T + (wfy @ gy) @ wx.T


def fractal_noise(size: int | tuple[int, int], *, rng: np.random.Generator,
                  scale_px: float | tuple[float, float], octaves: int = 4,
                  persistence: float = 0.5, lacunarity: float = 2.0) -> np.ndarray:
    """Fractal (fBm) Perlin noise, normalised to [0, 1], tiling with the image's period.

    Parameters
    ----------
    size : int or (int, int)
        ``(height, width)`` in pixels.
    rng : numpy.random.Generator
        Draws the lattice gradients of every octave.
    scale_px : float or (float, float)
        Feature size of the first octave, in pixels (one lattice cell); a pair gives
        ``(along y, along x)`` for stretched noise (brushed metal, wood grain). Rounded so that a
        whole number of cells fits the image.
    octaves : int
        Number of octaves summed (>= 1); octaves whose cells would be under 2 px are dropped.
    persistence : float
        Amplitude ratio of successive octaves (> 0).
    lacunarity : float
        Frequency ratio of successive octaves (> 1 for finer detail).

    Returns
    -------
    (H, W) float32
        Noise rescaled so its minimum is 0 and its maximum 1 (0.5 everywhere if constant).

    Raises
    ------
    ValueError
        If ``scale_px`` is not positive or ``octaves`` < 1.
    """
    h, w = texture_shape(size)
    sy, sx = (scale_px, scale_px) if np.ndim(scale_px) == 0 else scale_px
    if not (sy > 0 and sx > 0) or octaves < 1:
        raise ValueError(f"scale_px must be > 0 and octaves >= 1, got {scale_px!r}, {octaves!r}")
    total = np.zeros((h, w), dtype=np.float32)
    amplitude = 1.0
    for k in range(int(octaves)):
        freq = lacunarity ** k
        ny = max(1, round(h * freq / sy))
        nx = max(1, round(w * freq / sx))
        if k > 0 and (ny > h / 2 or nx > w / 2):
            break
        total += np.float32(amplitude) * perlin_noise((h, w), (ny, nx), rng=rng)
        amplitude *= persistence
    lo, hi = float(total.min()), float(total.max())
    if hi - lo < 1e-12:
        return np.full((h, w), 0.5, dtype=np.float32)
    return (total - lo) * np.float32(1.0 / (hi - lo))


def perlin_texture(size: int | tuple[int, int], *, rng: np.random.Generator, scale_px: float,
                   octaves: int, persistence: float, lacunarity: float, color_a,
                   color_b) -> np.ndarray:
    """Fractal Perlin noise blended between two colours.

    Parameters are those of :func:`fractal_noise` and :func:`colorize`.

    Returns
    -------
    (H, W, 3) uint8
    """
    t = fractal_noise(size, rng=rng, scale_px=scale_px, octaves=octaves,
                      persistence=persistence, lacunarity=lacunarity)
    return colorize(t, color_a, color_b)


def _rotated_coordinate(shape: tuple[int, int], angle_rad: float) -> np.ndarray:
    """``x cos(a) - y sin(a)`` at pixel centres, (H, W) float32, in pixels: the coordinate along
    the direction at angle ``a`` counter-clockwise on screen from the x axis (y points down)."""
    h, w = shape
    c, s = np.float32(np.cos(angle_rad)), np.float32(np.sin(angle_rad))
    x = np.arange(w, dtype=np.float32) + np.float32(0.5)
    y = np.arange(h, dtype=np.float32) + np.float32(0.5)
    return x[None, :] * c - y[:, None] * s


def checkerboard_texture(size: int | tuple[int, int], *, rng: np.random.Generator,
                         cell_px: float, angle_rad: float, color_a, color_b) -> np.ndarray:
    """A checkerboard of square cells, rotated by ``angle_rad``, with a random phase.

    Parameters
    ----------
    size : int or (int, int)
        ``(height, width)`` in pixels.
    rng : numpy.random.Generator
        Draws the grid's offset, uniform over one period along each axis.
    cell_px : float
        Edge of one cell, in pixels (> 0).
    angle_rad : float
        Rotation of the grid, radians, counter-clockwise on screen.
    color_a, color_b : (3,) float
        sRGB colours in [0, 1] of the two cell sets.

    Returns
    -------
    (H, W, 3) uint8
    """
    shape = texture_shape(size)
    offset = rng.uniform(0.0, 2.0 * cell_px, size=2).astype(np.float32)
    u = _rotated_coordinate(shape, angle_rad) + offset[0]
    v = _rotated_coordinate(shape, angle_rad + np.pi / 2) + offset[1]
    parity = (np.floor(u / np.float32(cell_px)) + np.floor(v / np.float32(cell_px))) % 2
    return colorize(parity, color_a, color_b)


def stripes_texture(size: int | tuple[int, int], *, rng: np.random.Generator,
                    period_px: float, duty: float, angle_rad: float, color_a,
                    color_b) -> np.ndarray:
    """Parallel stripes across the direction ``angle_rad``, with a random phase.

    Parameters
    ----------
    size : int or (int, int)
        ``(height, width)`` in pixels.
    rng : numpy.random.Generator
        Draws the phase, uniform over one period.
    period_px : float
        Distance between the starts of successive ``color_a`` stripes, in pixels (> 0).
    duty : float
        Fraction of each period painted ``color_a``, in [0, 1].
    angle_rad : float
        Direction across the stripes, radians from the image x axis, counter-clockwise on
        screen (0 gives vertical stripes).
    color_a, color_b : (3,) float
        sRGB colours in [0, 1].

    Returns
    -------
    (H, W, 3) uint8
    """
    shape = texture_shape(size)
    phase = np.float32(rng.uniform(0.0, 1.0))
    u = _rotated_coordinate(shape, angle_rad) / np.float32(period_px) + phase
    t = (u - np.floor(u)) >= np.float32(duty)
    return colorize(t.astype(np.float32), color_a, color_b)


def gradient_texture(size: int | tuple[int, int], *, mode: str, angle_rad: float, center,
                     color_a, color_b) -> np.ndarray:
    """A linear or radial colour gradient from ``color_a`` to ``color_b``.

    Parameters
    ----------
    size : int or (int, int)
        ``(height, width)`` in pixels.
    mode : {"linear", "radial"}
        ``linear``: ``color_a`` to ``color_b`` along the direction ``angle_rad`` across the whole
        image. ``radial``: ``color_a`` at ``center``, ``color_b`` at the farthest corner.
    angle_rad : float
        Direction of a linear gradient, radians from the image x axis, counter-clockwise on screen.
    center : (2,) float
        Centre of a radial gradient as fractions ``(x, y)`` of the width and height, in [0, 1].
    color_a, color_b : (3,) float
        sRGB colours in [0, 1].

    Returns
    -------
    (H, W, 3) uint8

    Raises
    ------
    ValueError
        If ``mode`` is not one of :data:`GRADIENT_MODES`.
    """
    h, w = texture_shape(size)
    if mode == "linear":
        u = _rotated_coordinate((h, w), angle_rad)
        lo, hi = float(u.min()), float(u.max())
        t = (u - lo) / max(hi - lo, 1e-6)
    elif mode == "radial":
        cx, cy = float(center[0]) * w, float(center[1]) * h
        x = (np.arange(w, dtype=np.float32) + 0.5 - cx) ** 2
        y = (np.arange(h, dtype=np.float32) + 0.5 - cy) ** 2
        r = np.sqrt(y[:, None] + x[None, :])
        t = r / max(float(r.max()), 1e-6)
    else:
        raise ValueError(f"gradient mode must be one of {', '.join(GRADIENT_MODES)}, got {mode!r}")
    return colorize(t, color_a, color_b)


def blobs_texture(size: int | tuple[int, int], *, rng: np.random.Generator, scale_px: float,
                  coverage: float, softness: float, color_a, color_b) -> np.ndarray:
    """Random blobs of ``color_b`` on ``color_a``: two-octave Perlin noise, thresholded.

    Parameters
    ----------
    size : int or (int, int)
        ``(height, width)`` in pixels.
    rng : numpy.random.Generator
        Draws the noise.
    scale_px : float
        Typical blob size, in pixels (> 0).
    coverage : float
        Fraction of the pixels inside blobs, in [0, 1] (exact up to the soft edge).
    softness : float
        Width of the blobs' soft edge, as a fraction of the noise range (0 = hard edges).
    color_a, color_b : (3,) float
        sRGB colours in [0, 1] of the background and the blobs.

    Returns
    -------
    (H, W, 3) uint8
    """
    n = fractal_noise(size, rng=rng, scale_px=scale_px, octaves=2, persistence=0.35)
    threshold = float(np.quantile(n, 1.0 - coverage)) if 0 < coverage < 1 else 1.0 - coverage
    if softness <= 0:
        t = (n > threshold).astype(np.float32) if coverage < 1 else np.ones_like(n)
    else:
        x = np.clip((n - threshold) / np.float32(softness) + np.float32(0.5), 0.0, 1.0)
        t = _fade(x)
    return colorize(t, color_a, color_b)


def uniform_texture(size: int | tuple[int, int], *, color) -> np.ndarray:
    """One colour everywhere.

    Parameters
    ----------
    size : int or (int, int)
        ``(height, width)`` in pixels.
    color : (3,) float
        sRGB colour in [0, 1].

    Returns
    -------
    (H, W, 3) uint8
    """
    h, w = texture_shape(size)
    rgb = np.clip(np.rint(255.0 * np.asarray(color, dtype=np.float64).reshape(3)), 0, 255)
    return np.broadcast_to(rgb.astype(np.uint8), (h, w, 3)).copy()


class ImageTextureFolder:
    """The PNG and JPEG images under a folder, to be drawn as textures with random crops.

    Files ending in :data:`IMAGE_EXTENSIONS` (any case) are indexed recursively and sorted by
    their path relative to the folder, so the index, and every draw, is the same on every machine.
    Images are decoded with OpenCV when first used (grey and alpha images become RGB, 16-bit ones
    8-bit) and the most recently used ``cache_size`` of them are kept in memory.

    Parameters
    ----------
    path : str or Path
        The folder.
    cache_size : int
        How many decoded images to keep (>= 0).
    where : str
        ``"FILE: FIELD"`` of the scenario field that names the folder; it prefixes the errors
        of :meth:`load` and :meth:`sample` (empty: none).

    Raises
    ------
    AssetError
        If ``path`` is not a folder, holds no image file, or holds one that fails
        :func:`synthscene.assets.image_files.check_image_file` (too large, not a regular file).
    """

    def __init__(self, path: str | Path, *, cache_size: int = 16, where: str = "") -> None:
        self.folder = Path(path)
        self.where = where
        if not self.folder.is_dir():
            raise AssetError(f"texture folder not found: {self.folder}")
        found = [p for p in self.folder.rglob("*")
                 if p.suffix.lower() in IMAGE_EXTENSIONS and not p.is_dir()]
        self.paths: tuple[Path, ...] = tuple(
            sorted(found, key=lambda p: p.relative_to(self.folder).as_posix()))
        if not self.paths:
            raise AssetError(f"texture folder {self.folder} holds no image "
                             f"({', '.join(IMAGE_EXTENSIONS)}) file")
        for image in self.paths:
            check_image_file(image, what="texture image")
        self._cache: LeastRecentlyUsed[int, np.ndarray] = LeastRecentlyUsed(max(0, cache_size))

    def __len__(self) -> int:
        return len(self.paths)

    def __getstate__(self) -> dict:
        # Sent to worker processes without the decoded images; each process decodes its own.
        return {**self.__dict__, "_cache": LeastRecentlyUsed(self._cache.capacity)}

    def __repr__(self) -> str:
        return f"ImageTextureFolder({str(self.folder)!r}, {len(self)} images)"

    def load(self, index: int) -> np.ndarray:
        """Return image ``index`` as ``(h, w, 3) uint8`` RGB (read-only; do not modify).

        Raises
        ------
        AssetError
            Naming the file if it cannot be read or decoded.
        """
        return self._cache.get(index, lambda: self._read(index))

    def _read(self, index: int) -> np.ndarray:
        try:
            image = read_image_rgb(self.paths[index], what="texture image")
        except AssetError as exc:
            raise AssetError(f"{self.where}: {exc}" if self.where else str(exc)) from None
        image.flags.writeable = False
        return image

    def sample(self, *, rng: np.random.Generator, size: int | tuple[int, int],
               crop_fraction: float = 1.0) -> np.ndarray:
        """Draw an image, a random crop of it with the texture's aspect ratio, resized.

        Parameters
        ----------
        rng : numpy.random.Generator
            Draws the image (uniform over the index) and the crop's position (uniform).
        size : int or (int, int)
            ``(height, width)`` of the texture in pixels.
        crop_fraction : float
            Side of the crop as a fraction of the largest crop of the texture's aspect ratio that
            fits in the image, in (0, 1].

        Returns
        -------
        (H, W, 3) uint8
            A new array; resized with area averaging when shrinking, bilinearly when enlarging.

        Raises
        ------
        AssetError
            Naming the file if the drawn image cannot be read or decoded.
        """
        th, tw = texture_shape(size)
        image = self.load(int(rng.integers(len(self.paths))))
        h, w = image.shape[:2]
        frac = float(np.clip(crop_fraction, 1e-6, 1.0))
        full_h = min(float(h), w * th / tw)
        ch = int(np.clip(round(full_h * frac), 1, h))
        cw = int(np.clip(round(full_h * tw / th * frac), 1, w))
        y0 = int(rng.integers(0, h - ch + 1))
        x0 = int(rng.integers(0, w - cw + 1))
        crop = image[y0:y0 + ch, x0:x0 + cw]
        if (ch, cw) == (th, tw):
            return np.ascontiguousarray(crop).copy()
        shrink = ch * cw > th * tw
        return cv2.resize(crop, (tw, th),
                          interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
