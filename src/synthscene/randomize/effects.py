"""Sensor effects applied to a frame's RGB after labelling; none of them moves a pixel.

Every function takes ``rgb : (H, W, 3) uint8`` (sRGB) and parameters already drawn, and returns
a new ``(H, W, 3) uint8`` array; the input is never modified. Blur kernels are centred and
point-symmetric, so an image's features stay where the labels say they are. Pure numpy and
OpenCV; the parameter models and the names used in scenario YAML live in
:mod:`synthscene.registry.randomizers`.
"""

from __future__ import annotations

import cv2
import numpy as np


def _check(rgb: np.ndarray) -> None:
    if not (isinstance(rgb, np.ndarray) and rgb.dtype == np.uint8 and rgb.ndim == 3
            and rgb.shape[2] == 3):
        shape = getattr(rgb, "shape", None)
        dtype = getattr(rgb, "dtype", type(rgb).__name__)
        raise ValueError(f"rgb must be an (H, W, 3) uint8 array, got shape {shape} dtype {dtype}")


def _lut(rgb: np.ndarray, table: np.ndarray) -> np.ndarray:
    lut = np.clip(np.rint(table), 0, 255).astype(np.uint8)
    return cv2.LUT(rgb, lut)


def gaussian_noise(rgb: np.ndarray, *, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """Add independent zero-mean Gaussian noise to every pixel and channel.

    Parameters
    ----------
    rgb : (H, W, 3) uint8
    sigma : float
        Standard deviation in 8-bit levels (>= 0).
    rng : numpy.random.Generator
        Draws ``H * W * 3`` standard normals (float32).

    Returns
    -------
    (H, W, 3) uint8
        ``clip(round(rgb + sigma * N(0, 1)), 0, 255)``.
    """
    _check(rgb)
    noise = rng.standard_normal(rgb.shape, dtype=np.float32)
    noise *= np.float32(sigma)
    noise += rgb
    np.clip(noise, 0.0, 255.0, out=noise)
    return cv2.convertScaleAbs(noise)  # rounds to nearest; values are already in [0, 255]


def gaussian_blur(rgb: np.ndarray, *, sigma_px: float) -> np.ndarray:
    """Blur with an isotropic Gaussian (OpenCV ``GaussianBlur``, kernel from sigma).

    Parameters
    ----------
    rgb : (H, W, 3) uint8
    sigma_px : float
        Standard deviation in pixels (>= 0; 0 returns a copy).

    Returns
    -------
    (H, W, 3) uint8
    """
    _check(rgb)
    if sigma_px <= 0:
        return rgb.copy()
    return cv2.GaussianBlur(rgb, (0, 0), sigmaX=float(sigma_px), sigmaY=float(sigma_px),
                            borderType=cv2.BORDER_REFLECT_101)


def motion_kernel(length_px: float, angle_rad: float) -> np.ndarray:
    """A normalised, centred line kernel: the blur of straight camera or object motion.

    The segment of length ``length_px`` through the kernel's centre is sampled at points
    symmetric about the centre and splatted bilinearly, so the kernel is point-symmetric.

    Parameters
    ----------
    length_px : float
        Length of the motion in pixels (>= 1 to have an effect).
    angle_rad : float
        Direction of the motion, radians from the image x axis, counter-clockwise on screen
        (image y points down; 0 is horizontal, pi/2 vertical).

    Returns
    -------
    (k, k) float32
        ``k`` odd; the weights sum to 1.
    """
    length = max(float(length_px), 1.0)
    half = int(np.ceil((length - 1) / 2)) + 1
    k = 2 * half + 1
    t = np.linspace(-(length - 1) / 2, (length - 1) / 2, max(int(np.ceil(4 * length)), 1))
    x = half + t * np.cos(angle_rad)
    y = half - t * np.sin(angle_rad)
    x0, y0 = np.floor(x).astype(int), np.floor(y).astype(int)
    fx, fy = x - x0, y - y0
    kernel = np.zeros((k + 1, k + 1))
    np.add.at(kernel, (y0, x0), (1 - fx) * (1 - fy))
    np.add.at(kernel, (y0, x0 + 1), fx * (1 - fy))
    np.add.at(kernel, (y0 + 1, x0), (1 - fx) * fy)
    np.add.at(kernel, (y0 + 1, x0 + 1), fx * fy)
    kernel = kernel[:k, :k]
    return (kernel / kernel.sum()).astype(np.float32)


def motion_blur(rgb: np.ndarray, *, length_px: float, angle_rad: float) -> np.ndarray:
    """Blur along a straight line (see :func:`motion_kernel`).

    Parameters
    ----------
    rgb : (H, W, 3) uint8
    length_px : float
        Length of the motion in pixels (<= 1 returns a copy).
    angle_rad : float
        Direction, radians from the image x axis, counter-clockwise on screen.

    Returns
    -------
    (H, W, 3) uint8
    """
    _check(rgb)
    if length_px <= 1:
        return rgb.copy()
    return cv2.filter2D(rgb, -1, motion_kernel(length_px, angle_rad),
                        borderType=cv2.BORDER_REFLECT_101)


def disc_kernel(radius_px: float) -> np.ndarray:
    """A normalised, anti-aliased disc: the point-spread function of an out-of-focus lens.

    Parameters
    ----------
    radius_px : float
        Radius in pixels (> 0).

    Returns
    -------
    (k, k) float32
        ``k = 2 * ceil(radius_px) + 1``; weight ``clip(radius_px + 0.5 - r, 0, 1)`` at distance
        ``r`` from the centre, normalised to sum to 1.
    """
    half = int(np.ceil(radius_px))
    y, x = np.mgrid[-half:half + 1, -half:half + 1]
    weight = np.clip(radius_px + 0.5 - np.hypot(x, y), 0.0, 1.0)
    return (weight / weight.sum()).astype(np.float32)


def defocus_blur(rgb: np.ndarray, *, radius_px: float) -> np.ndarray:
    """Blur with a disc (see :func:`disc_kernel`), like a lens out of focus.

    Parameters
    ----------
    rgb : (H, W, 3) uint8
    radius_px : float
        Radius of the disc in pixels (<= 0 returns a copy).

    Returns
    -------
    (H, W, 3) uint8
    """
    _check(rgb)
    if radius_px <= 0:
        return rgb.copy()
    return cv2.filter2D(rgb, -1, disc_kernel(radius_px), borderType=cv2.BORDER_REFLECT_101)


def jpeg(rgb: np.ndarray, *, quality: int) -> np.ndarray:
    """JPEG compression artefacts: encode at ``quality`` with OpenCV (libjpeg), then decode.

    Parameters
    ----------
    rgb : (H, W, 3) uint8
    quality : int
        libjpeg quality in [0, 100] (100 is best).

    Returns
    -------
    (H, W, 3) uint8
    """
    _check(rgb)
    bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    ok, data = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:  # pragma: no cover - OpenCV always encodes a valid uint8 image
        raise RuntimeError("OpenCV could not encode the image as JPEG")
    return cv2.cvtColor(cv2.imdecode(data, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def brightness(rgb: np.ndarray, *, factor: float) -> np.ndarray:
    """Scale every value by ``factor`` (torchvision's ``adjust_brightness``).

    Parameters
    ----------
    rgb : (H, W, 3) uint8
    factor : float
        >= 0; 1 leaves the image unchanged, 0 makes it black.

    Returns
    -------
    (H, W, 3) uint8
        ``clip(round(factor * rgb), 0, 255)``.
    """
    _check(rgb)
    return _lut(rgb, np.arange(256) * float(factor))


def contrast(rgb: np.ndarray, *, factor: float) -> np.ndarray:
    """Scale values about the image's mean grey level (torchvision's ``adjust_contrast``).

    Parameters
    ----------
    rgb : (H, W, 3) uint8
    factor : float
        >= 0; 1 leaves the image unchanged, 0 makes it a uniform grey.

    Returns
    -------
    (H, W, 3) uint8
        ``clip(round(mean + factor * (rgb - mean)), 0, 255)``, ``mean`` the average of the
        image's luma (ITU-R BT.601 weights, OpenCV ``COLOR_RGB2GRAY``).
    """
    _check(rgb)
    mean = float(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).mean())
    return _lut(rgb, mean + float(factor) * (np.arange(256) - mean))


def gamma(rgb: np.ndarray, *, gamma: float) -> np.ndarray:
    """Apply a power curve to the normalised values.

    Parameters
    ----------
    rgb : (H, W, 3) uint8
    gamma : float
        Exponent (> 0); < 1 brightens the mid-tones, > 1 darkens them.

    Returns
    -------
    (H, W, 3) uint8
        ``round(255 * (rgb / 255) ** gamma)``.
    """
    _check(rgb)
    return _lut(rgb, 255.0 * (np.arange(256) / 255.0) ** float(gamma))


def _hsv(rgb: np.ndarray) -> np.ndarray:
    """Float HSV: H in degrees [0, 360), S and V in [0, 1] (OpenCV's float convention)."""
    return cv2.cvtColor(rgb.astype(np.float32) * np.float32(1 / 255), cv2.COLOR_RGB2HSV)


def _rgb(hsv: np.ndarray) -> np.ndarray:
    # HSV -> RGB gives values in [0, 1]; convertScaleAbs scales, rounds and saturates to uint8.
    return cv2.convertScaleAbs(cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB), alpha=255.0)


def hue(rgb: np.ndarray, *, shift_rad: float) -> np.ndarray:
    """Rotate every pixel's hue (OpenCV HSV, float precision).

    Parameters
    ----------
    rgb : (H, W, 3) uint8
    shift_rad : float
        Hue rotation in radians (2 pi is a full turn).

    Returns
    -------
    (H, W, 3) uint8
        Greys are unchanged.
    """
    _check(rgb)
    hsv = _hsv(rgb)
    # OpenCV's float HSV -> RGB wraps hue >= 360 (not < 0), so add a shift in [0, 360).
    hue_channel = hsv[..., 0]
    hue_channel += np.float32(np.degrees(shift_rad) % 360.0)
    return _rgb(hsv)


def saturation(rgb: np.ndarray, *, factor: float) -> np.ndarray:
    """Scale every pixel's HSV saturation by ``factor`` (clipped to 1).

    Parameters
    ----------
    rgb : (H, W, 3) uint8
    factor : float
        >= 0; 0 gives greys (each pixel keeps its HSV value, i.e. its largest channel), 1 leaves
        the image unchanged.

    Returns
    -------
    (H, W, 3) uint8
    """
    _check(rgb)
    hsv = _hsv(rgb)
    hsv[..., 1] = np.minimum(hsv[..., 1] * np.float32(factor), np.float32(1.0))
    return _rgb(hsv)


def vignetting(rgb: np.ndarray, *, strength: float) -> np.ndarray:
    """Darken towards the corners with a radial quadratic falloff.

    The gain is ``1 - strength * (r / r_corner) ** 2``, ``r`` the distance from the image centre
    and ``r_corner`` the half-diagonal: the leading term of the natural cos^4 vignetting law
    (``cos^4 t ~ 1 - 2 t^2`` for a field angle ``t``), with its depth set by ``strength``.

    Parameters
    ----------
    rgb : (H, W, 3) uint8
    strength : float
        Fraction of brightness lost in the corners, in [0, 1].

    Returns
    -------
    (H, W, 3) uint8
    """
    _check(rgb)
    h, w = rgb.shape[:2]
    x = (np.arange(w, dtype=np.float32) - np.float32((w - 1) / 2)) ** 2
    y = (np.arange(h, dtype=np.float32) - np.float32((h - 1) / 2)) ** 2
    r2 = (y[:, None] + x[None, :]) / np.float32(max(x.max() + y.max(), 1e-6))
    gain = np.float32(1.0) - np.float32(strength) * r2
    # round(rgb * gain), saturated to uint8, per channel.
    return cv2.multiply(rgb, cv2.merge([gain, gain, gain]), dtype=cv2.CV_8U)
