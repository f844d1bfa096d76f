"""Environment light, prepared once per environment map (pure numpy; the GL side is in
:mod:`synthscene.render.environment_gl`).

An environment map (equirectangular linear radiance, the layout of
:mod:`synthscene.assets.environment_files`) lights a surface in two terms, the split of the lit
shader (``render/shaders/environment.glsl``):

* **Diffuse**: the irradiance ``E(n)`` from 9 spherical-harmonic coefficients of the radiance
  (Ramamoorthi and Hanrahan 2001, "An Efficient Representation for Irradiance Environment
  Maps": the coefficients ``L_lm`` by eq. 10 with the real basis of their eq. 3, the irradiance
  by eq. 13 with the constants ``c1..c5`` of eq. 12), times ``c_diff / pi`` and the diffuse
  Fresnel weight of pyrender's BRDF (below).
* **Specular**: the split-sum approximation of Karis 2013 ("Real Shading in Unreal Engine 4"):
  a prefiltered radiance (a mip chain of the map, level ``k`` of :data:`SPECULAR_LEVELS`
  convolved with the GGX lobe of perceptual roughness ``k / (levels - 1)`` under Karis's
  ``n = v = r`` assumption, weights ``D(n.h) (n.l)``, by brute force over the texels of the
  level below) times ``f0 * A + B``, where ``A`` and ``B`` integrate the shader's own BRDF
  (pyrender's: GGX ``D`` with ``alpha = roughness^2``, Schlick's Fresnel, Smith-Schlick ``G``
  with ``k = (roughness + 1)^2 / 8``) over the hemisphere by GGX importance sampling (1024
  Hammersley points) for a 32 x 32 grid of (n.v, roughness) in :func:`brdf_lut`, computed once.

The BRDF of the punctual lights weights the diffuse term by ``(1 - F)``; with Schlick's
``F = f0 + (1 - f0) (1 - v.h)^5`` its hemispherical mean is ``(1 - f0) (1 - C(n.v))``, and
:func:`brdf_lut`'s third channel holds ``C``. So a uniform environment of radiance ``L`` gives
a surface exactly what very many directional lights spread evenly over the sky would give it:
``L`` times the directional albedo of pyrender's BRDF (the units in ``docs/light.md``).

:func:`prepare_maps` prepares a map; an :class:`EnvironmentMapCache` (one per renderer) keeps the
last :data:`CACHE_SIZE` prepared, keyed by the file's content (or the sky's parameters), so each
is prepared once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

from synthscene.assets.environment_files import equirect_directions
from synthscene.core.kept import LeastRecentlyUsed
from synthscene.render.octahedral import equirect_to_octahedral

__all__ = ["CACHE_SIZE", "LUT_SIZE", "OCTAHEDRAL_SIZE", "SPECULAR_LEVELS", "EnvironmentMapCache",
           "EnvironmentMaps", "brdf_lut", "irradiance_sh9", "prefilter", "prepare_maps",
           "project_sh9"]

SPECULAR_LEVELS = 5
"""Levels of the prefiltered chain: 128 x 64 (roughness 0: the map itself) down to 8 x 4, then
resampled to octahedral squares of :data:`OCTAHEDRAL_SIZE` down to 8 x 8 texels."""
OCTAHEDRAL_SIZE = 128
"""Side of level 0 of the chain as the lit shader reads it (:mod:`~synthscene.render.octahedral`:
no arc tangent or arc cosine per pixel); level ``k`` is ``OCTAHEDRAL_SIZE >> k``."""
BASE_SIZE = (128, 64)
"""(width, height) of the chain's level 0; larger maps are reduced by area averaging."""
BACKGROUND_MAX_WIDTH = 2048
"""Widest copy of a map kept for showing it behind the scene (``background.environment``)."""
LUT_SIZE = 32
"""The BRDF table has LUT_SIZE x LUT_SIZE entries over (n.v, roughness)."""
CACHE_SIZE = 16
"""Prepared environments kept per process."""
_MIN_ROUGHNESS = 0.04  # the lit shader's clamp (pyrender's min_roughness)

# Ramamoorthi & Hanrahan 2001, eq. 12.
_C1, _C2, _C3, _C4, _C5 = 0.429043, 0.511664, 0.743125, 0.886227, 0.247708


@dataclass(frozen=True, eq=False)
class EnvironmentMaps:
    """An environment map prepared for the lit shader.

    Attributes
    ----------
    key : str
        What the maps were made from (file content hash, or the sky's parameters).
    sh9 : (9, 3) float32
        Radiance coefficients ``L_lm`` in the order L00, L1-1, L10, L11, L2-2, L2-1, L20, L21,
        L22 (Ramamoorthi and Hanrahan's real basis, z up), per linear RGB channel.
    specular : list of (s, s, 3) float32
        The prefiltered chain (:func:`prefilter`) in the octahedral layout of
        :mod:`~synthscene.render.octahedral`: level ``k`` for perceptual roughness
        ``k / (len - 1)``, ``s = OCTAHEDRAL_SIZE >> k`` texels a side.
    background : (h, w, 3) float32
        The map at up to :data:`BACKGROUND_MAX_WIDTH` pixels wide, for the background.
    """

    key: str
    sh9: np.ndarray
    specular: list
    background: np.ndarray


def _sh_basis(d: np.ndarray) -> np.ndarray:
    """(..., 9) real SH basis (Ramamoorthi and Hanrahan 2001, eq. 3) of unit directions (..., 3)."""
    x, y, z = d[..., 0], d[..., 1], d[..., 2]
    return np.stack([np.full_like(x, 0.282095), 0.488603 * y, 0.488603 * z, 0.488603 * x,
                     1.092548 * x * y, 1.092548 * y * z, 0.315392 * (3.0 * z * z - 1.0),
                     1.092548 * x * z, 0.546274 * (x * x - y * y)], axis=-1)


def project_sh9(radiance: np.ndarray) -> np.ndarray:
    """The 9 SH coefficients of an equirectangular radiance map.

    Parameters
    ----------
    radiance : (H, W, 3) float
        Linear radiance.

    Returns
    -------
    (9, 3) float64
        ``L_lm = sum over pixels of L Y_lm dOmega`` (Ramamoorthi and Hanrahan's eq. 10).
    """
    weighted = _sh_weights(*radiance.shape[:2])
    return np.einsum("hwk,hwc->kc", weighted, np.asarray(radiance, dtype=np.float64))


@lru_cache(maxsize=4)
def _sh_weights(height: int, width: int) -> np.ndarray:
    """(height, width, 9) float64: each pixel's basis values times its solid angle."""
    directions, solid = equirect_directions(height, width)
    return _sh_basis(directions) * solid[..., None]


def irradiance_sh9(sh9: np.ndarray, normals: np.ndarray) -> np.ndarray:
    """Irradiance from 9 SH coefficients (Ramamoorthi and Hanrahan's eq. 13).

    Parameters
    ----------
    sh9 : (9, 3) float
    normals : (..., 3) float
        Unit surface normals.

    Returns
    -------
    (..., 3) float64
        Irradiance ``E(n)``; a Lambertian surface of albedo ``rho`` shows ``rho E / pi``.
    """
    L = np.asarray(sh9, dtype=np.float64)
    n = np.asarray(normals, dtype=np.float64)
    x, y, z = (n[..., i:i + 1] for i in range(3))
    return (_C1 * L[8] * (x * x - y * y) + _C3 * L[6] * z * z + _C4 * L[0] - _C5 * L[6]
            + 2.0 * _C1 * (L[4] * x * y + L[7] * x * z + L[5] * y * z)
            + 2.0 * _C2 * (L[3] * x + L[1] * y + L[2] * z))


def _reduce(image: np.ndarray, width: int, height: int) -> np.ndarray:
    if image.shape[1] == width and image.shape[0] == height:
        return image.astype(np.float32)
    interpolation = cv2.INTER_AREA if image.shape[1] > width else cv2.INTER_LINEAR
    return cv2.resize(image.astype(np.float32), (width, height), interpolation=interpolation)


def prefilter(radiance: np.ndarray, levels: int = SPECULAR_LEVELS) -> list:
    """The prefiltered specular chain of an equirectangular map.

    Level 0 is the map reduced to :data:`BASE_SIZE`; level ``k`` (half the size of level
    ``k - 1``) is level 0 convolved with the GGX lobe of perceptual roughness
    ``r = k / (levels - 1)`` about each output texel's direction ``R``: weights
    ``D(R.h) max(R.l, 0) dOmega_l`` over every texel ``l`` of level 0, ``h`` halfway between
    ``R`` and ``l`` (Karis 2013's ``n = v = R``), normalised to sum to 1. The lobe depends only
    on the angle between ``R`` and ``l``, so along a row of the output the sum is a circular
    correlation over azimuth, done with FFTs: exact, and a few milliseconds a map.

    Parameters
    ----------
    radiance : (H, W, 3) float
    levels : int

    Returns
    -------
    list of (h, w, 3) float32
    """
    width, height = BASE_SIZE
    base = _reduce(radiance, width, height)
    chain = [base]
    # (W/2+1, H, 3): per frequency, the rows' spectra.
    spectrum = np.fft.rfft(base.astype(np.float64), axis=1).transpose(1, 0, 2)
    for kernel, step in _lobe_spectra(width, height, levels):
        # out[o, j] = sum_{r,c} w[o, r, c] S[r, (c + j step) mod W]: a correlation over c,
        # per frequency a (out_h, H) @ (H, 3) product.
        corr = np.fft.irfft(np.matmul(kernel, spectrum), n=width, axis=0)  # (W, out_h, 3)
        chain.append(np.clip(corr[::step].transpose(1, 0, 2), 0.0, None).astype(np.float32))
    return chain


@lru_cache(maxsize=2)
def _lobe_spectra(width: int, height: int, levels: int) -> tuple:
    """Per level 1.. of :func:`prefilter`: the conjugate FFT over azimuth of the normalised lobe
    weights of each output row's first texel, (W/2+1, out_h, H) complex, and the source columns
    per output column. They depend on the sizes only, so they are computed once."""
    src_dirs, src_solid = equirect_directions(height, width)
    spectra = []
    for k in range(1, levels):
        out_h, out_w = max(1, height >> k), max(1, width >> k)
        out_dirs = equirect_directions(out_h, out_w)[0][:, 0]  # (out_h, 3): column 0
        alpha2 = max(k / (levels - 1), _MIN_ROUGHNESS) ** 4
        cos_rl = np.einsum("hwc,oc->ohw", src_dirs, out_dirs)  # (out_h, H, W)
        nh2 = np.clip((1.0 + cos_rl) * 0.5, 0.0, 1.0)  # cos^2 of half the angle R..l
        denom = nh2 * (alpha2 - 1.0) + 1.0
        weights = alpha2 / (np.pi * denom * denom) * np.clip(cos_rl, 0.0, None) * src_solid
        weights /= weights.sum(axis=(1, 2), keepdims=True)
        spectra.append((np.conj(np.fft.rfft(weights, axis=2)).transpose(2, 0, 1).copy(),
                        width // out_w))
    return tuple(spectra)


def _hammersley(count: int) -> np.ndarray:
    """(count, 2) float64: the Hammersley point set (radical inverse in base 2)."""
    i = np.arange(count, dtype=np.uint32)
    bits = i.copy()
    bits = ((bits << 16) | (bits >> 16)) & 0xFFFFFFFF
    bits = ((bits & 0x55555555) << 1) | ((bits & 0xAAAAAAAA) >> 1)
    bits = ((bits & 0x33333333) << 2) | ((bits & 0xCCCCCCCC) >> 2)
    bits = ((bits & 0x0F0F0F0F) << 4) | ((bits & 0xF0F0F0F0) >> 4)
    bits = ((bits & 0x00FF00FF) << 8) | ((bits & 0xFF00FF00) >> 8)
    return np.stack([i / count, bits.astype(np.float64) / 2.0 ** 32], axis=-1)


@lru_cache(maxsize=2)
def brdf_lut(size: int = LUT_SIZE, samples: int = 1024) -> np.ndarray:
    """The split-sum table of the lit shader's BRDF (a pure function of its arguments, computed
    once per process for each; the array returned is read-only).

    Parameters
    ----------
    size : int
        Entries per axis; entry ``[j, i]`` is for ``n.v = (i + 0.5) / size`` and perceptual
        roughness ``(j + 0.5) / size`` (clamped to pyrender's 0.04 below).
    samples : int
        GGX importance samples of the half vector per entry (Hammersley points).

    Returns
    -------
    (size, size, 3) float32
        ``A``, ``B``: the specular reflectance is ``f0 A + B``; ``C``: the diffuse Fresnel loss,
        so the diffuse reflectance is ``c_diff (1 - f0) (1 - C)`` (module notes).
    """
    nv = (np.arange(size) + 0.5) / size
    rough = np.maximum((np.arange(size) + 0.5) / size, _MIN_ROUGHNESS)
    u = _hammersley(samples)
    out = np.zeros((size, size, 3))
    for j, r in enumerate(rough):
        alpha2 = r ** 4
        cos_h = np.sqrt((1.0 - u[:, 0]) / (1.0 + (alpha2 - 1.0) * u[:, 0]))  # GGX sampling
        sin_h = np.sqrt(1.0 - cos_h ** 2)
        phi = 2.0 * np.pi * u[:, 1]
        h = np.stack([sin_h * np.cos(phi), sin_h * np.sin(phi), cos_h], axis=-1)  # (S, 3)
        v = np.stack([np.sqrt(1.0 - nv ** 2), np.zeros_like(nv), nv], axis=-1)  # (N, 3)
        vh = v @ h.T  # (N, S)
        l_z = 2.0 * vh * h[None, :, 2] - v[:, 2:3]  # n.l of the reflected direction
        valid = (l_z > 0) & (vh > 0)
        k = (r + 1.0) ** 2 / 8.0
        nl = np.clip(l_z, 0.001, 1.0)
        g = (nv[:, None] / (nv[:, None] * (1 - k) + k)) * (nl / (nl * (1 - k) + k))
        # f / pdf * n.l with the shader's +0.001 in the denominator, pdf = D n.h / (4 v.h).
        weight = np.where(valid, g * 4.0 * vh * nl / (
            (4.0 * nl * nv[:, None] + 0.001) * h[None, :, 2]), 0.0)
        fresnel = (1.0 - np.clip(vh, 0.0, 1.0)) ** 5
        out[j, :, 0] = (weight * (1.0 - fresnel)).mean(axis=1)
        out[j, :, 1] = (weight * fresnel).mean(axis=1)
    out[..., 2] = _diffuse_fresnel(nv)[None, :]
    lut = out.astype(np.float32)
    lut.flags.writeable = False
    return lut


def _diffuse_fresnel(nv: np.ndarray, steps: int = 256) -> np.ndarray:
    """``C(n.v) = integral of (1 - v.h)^5 (n.l) / pi over the hemisphere`` (midpoint rule)."""
    theta = (np.arange(steps) + 0.5) * (np.pi / 2) / steps
    phi = (np.arange(2 * steps) + 0.5) * np.pi / steps
    st, ct = np.sin(theta)[:, None], np.cos(theta)[:, None]
    to_light = np.stack([st * np.cos(phi), st * np.sin(phi),
                         np.broadcast_to(ct, (steps, 2 * steps))], axis=-1)
    d_omega = st * (np.pi / 2 / steps) * (np.pi / steps)
    result = []
    for c in nv:
        v = np.array([np.sqrt(1.0 - c * c), 0.0, c])
        h = to_light + v
        h /= np.linalg.norm(h, axis=-1, keepdims=True)
        x = 1.0 - np.clip(h @ v, 0.0, 1.0)
        result.append(float((x ** 5 * to_light[..., 2] * d_omega).sum() / np.pi))
    return np.array(result)


def prepare_maps(key: str, image: np.ndarray) -> EnvironmentMaps:
    """The prepared maps of an environment: its 9 spherical-harmonic coefficients, its
    prefiltered chain in the octahedral layout and its background copy.

    Parameters
    ----------
    key : str
        What identifies the environment's radiance (a file's content hash, a sky's parameters).
    image : (H, W, 3) float32
        Equirectangular linear radiance (:mod:`synthscene.assets.environment_files`).

    Returns
    -------
    EnvironmentMaps
    """
    width = min(BACKGROUND_MAX_WIDTH, image.shape[1])
    return EnvironmentMaps(key=key, sh9=project_sh9(image).astype(np.float32),
                           specular=[equirect_to_octahedral(level, OCTAHEDRAL_SIZE >> k)
                                     for k, level in enumerate(prefilter(image))],
                           background=_reduce(image, width, max(1, width // 2)))


class EnvironmentMapCache:
    """Prepared maps by key: the last ``capacity`` used are kept (least recently used out), so
    an environment drawn again is not prepared again.

    Parameters
    ----------
    capacity : int
        Maps kept (default :data:`CACHE_SIZE`), >= 1.
    """

    def __init__(self, capacity: int = CACHE_SIZE) -> None:
        self._maps: LeastRecentlyUsed[str, EnvironmentMaps] = LeastRecentlyUsed(
            max(1, int(capacity)))

    def get(self, key: str, radiance: Callable[[], np.ndarray]) -> EnvironmentMaps:
        """The prepared maps of ``key`` (:func:`prepare_maps`), made on first use.

        Parameters
        ----------
        key : str
            What identifies the environment's radiance.
        radiance : callable
            Returns the (H, W, 3) float32 map; called only when ``key`` is not kept.

        Returns
        -------
        EnvironmentMaps
        """
        return self._maps.get(key, lambda: prepare_maps(key, radiance()))
