"""Octahedral maps of the sphere of directions: the layout of the prefiltered environment chain.

A direction ``d`` (unit, z up) maps to the square ``[-1, 1]^2`` by projecting it onto the
octahedron ``|x| + |y| + |z| = 1`` and unfolding the lower half outwards (Engelhardt and
Dachsbacher 2008, "Octahedron Environment Maps"; Cigolle et al. 2014, "A Survey of Efficient
Representations for Independent Unit Vectors", JCGT 3(2), listings 1 and 2):

* ``p = d.xy / (|d.x| + |d.y| + |d.z|)``;
* if ``d.z < 0``: ``p = (1 - |p.y|, 1 - |p.x|) * sign(d.xy)`` (sign of 0 taken as +1).

Texture coordinates are ``p * 0.5 + 0.5``; texel ``(row i, column j)`` of a ``size`` x ``size``
level has its centre at ``s = (j + 0.5) / size``, ``t = (i + 0.5) / size`` (row 0 at t = 0, as
:func:`synthscene.render.environment_gl` uploads it). The lit shader finds a direction's texel
with a few additions and one division, where the equirectangular layout needs an arc tangent
and an arc cosine per pixel (``shaders/environment.glsl``, ``env_octahedral_uv``).
"""

from __future__ import annotations

import cv2
import numpy as np

__all__ = ["equirect_to_octahedral", "octahedral_directions", "octahedral_uv"]


def _sign(values: np.ndarray) -> np.ndarray:
    return np.where(values >= 0.0, 1.0, -1.0)


def octahedral_directions(size: int) -> np.ndarray:
    """Unit directions of the texel centres of a ``size`` x ``size`` octahedral map.

    Parameters
    ----------
    size : int
        Texels per side (>= 1).

    Returns
    -------
    (size, size, 3) float64
        ``[i, j]``: the direction of row ``i``, column ``j`` (layout in the module notes).

    Raises
    ------
    ValueError
        If ``size`` < 1.
    """
    if size < 1:
        raise ValueError(f"an octahedral map needs size >= 1, got {size}")
    centres = (np.arange(size) + 0.5) / size * 2.0 - 1.0
    y, x = np.meshgrid(centres, centres, indexing="ij")
    z = 1.0 - np.abs(x) - np.abs(y)
    lower = z < 0.0
    x, y = (np.where(lower, (1.0 - np.abs(y)) * _sign(x), x),
            np.where(lower, (1.0 - np.abs(x)) * _sign(y), y))
    d = np.stack([x, y, z], axis=-1)
    return d / np.linalg.norm(d, axis=-1, keepdims=True)


def octahedral_uv(directions: np.ndarray) -> np.ndarray:
    """Texture coordinates ``(s, t)`` in ``[0, 1]^2`` of directions (the inverse of
    :func:`octahedral_directions`, the encoding of the module notes).

    Parameters
    ----------
    directions : (..., 3) float
        Directions (need not be unit; not zero).

    Returns
    -------
    (..., 2) float64
    """
    d = np.asarray(directions, dtype=np.float64)
    p = d[..., :2] / np.abs(d).sum(axis=-1, keepdims=True)
    folded = (1.0 - np.abs(p[..., ::-1])) * _sign(d[..., :2])
    p = np.where((d[..., 2] < 0.0)[..., None], folded, p)
    return p * 0.5 + 0.5


def equirect_to_octahedral(image: np.ndarray, size: int) -> np.ndarray:
    """An equirectangular map resampled to a ``size`` x ``size`` octahedral map (bilinear, the
    map wrapped in azimuth and clamped at the poles).

    Parameters
    ----------
    image : (H, W, C) float
        Equirectangular map in the layout of :mod:`synthscene.assets.environment_files`
        (column centre ``u = (c + 0.5) / W`` at azimuth ``2 pi (u - 0.5)`` from +x towards +y,
        row centre ``(r + 0.5) / H`` at polar angle ``pi (r + 0.5) / H`` from +z).
    size : int
        Texels per side of the result (>= 1).

    Returns
    -------
    (size, size, C) float32

    Raises
    ------
    ValueError
        If ``size`` < 1 or ``image`` is not (H, W, C).
    """
    image = np.asarray(image, dtype=np.float32)
    if image.ndim != 3:
        raise ValueError(f"equirect_to_octahedral needs an (H, W, C) image, got {image.shape}")
    height, width = image.shape[:2]
    d = octahedral_directions(size)
    u = np.arctan2(d[..., 1], d[..., 0]) / (2.0 * np.pi) + 0.5
    v = np.arccos(np.clip(d[..., 2], -1.0, 1.0)) / np.pi
    # One wrapped column on each side and one repeated row above and below; cv2.remap's
    # pixel coordinates are of the padded image.
    padded = np.concatenate([image[:, -1:], image, image[:, :1]], axis=1)
    padded = np.concatenate([padded[:1], padded, padded[-1:]], axis=0)
    map_x = (u * width - 0.5 + 1.0).astype(np.float32)
    map_y = (v * height - 0.5 + 1.0).astype(np.float32)
    out = cv2.remap(padded, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return out.reshape(size, size, image.shape[2]).astype(np.float32)
