"""Light colour from a black-body colour temperature."""

from __future__ import annotations

import numpy as np

# CIE XYZ -> linear sRGB (IEC 61966-2-1, D65 white).
_RGB_FROM_XYZ = np.array([
    [3.2404542, -1.5371385, -0.4985314],
    [-0.9692660, 1.8760108, 0.0415560],
    [0.0556434, -0.2040259, 1.0572252],
])


def kelvin_to_rgb(temperature_k: float) -> tuple[float, float, float]:
    """Linear sRGB colour of a black body at ``temperature_k``, brightest channel 1.

    The CIE 1931 chromaticity (x, y) of the Planckian locus comes from the cubic-spline fit of
    Kang et al. (2002), "Design of advanced color temperature control system for HDTV
    applications", J. Korean Physical Society 41(6), valid for 1667 K to 25000 K; it is turned
    into XYZ with Y = 1, then into linear sRGB, clipped at 0 and scaled so that the largest
    channel is 1 (the light's ``intensity`` sets the brightness).

    Parameters
    ----------
    temperature_k : float
        Kelvin, in [1667, 25000].

    Returns
    -------
    (3,) tuple of float
        Linear RGB in [0, 1]: about (1, 0.42, 0.10) at 2700 K (incandescent), (1, 0.94, 0.99)
        at 6500 K (near the D65 white), (0.61, 0.70, 1) at 10000 K.

    Raises
    ------
    ValueError
        If ``temperature_k`` is outside [1667, 25000].
    """
    t = float(temperature_k)
    if not 1667.0 <= t <= 25000.0:
        raise ValueError(f"colour temperature must be in [1667, 25000] K, got {temperature_k!r}")
    if t <= 4000.0:
        x = -0.2661239e9 / t**3 - 0.2343589e6 / t**2 + 0.8776956e3 / t + 0.179910
    else:
        x = -3.0258469e9 / t**3 + 2.1070379e6 / t**2 + 0.2226347e3 / t + 0.240390
    if t <= 2222.0:
        y = -1.1063814 * x**3 - 1.34811020 * x**2 + 2.18555832 * x - 0.20219683
    elif t <= 4000.0:
        y = -0.9549476 * x**3 - 1.37418593 * x**2 + 2.09137015 * x - 0.16748867
    else:
        y = 3.0817580 * x**3 - 5.87338670 * x**2 + 3.75112997 * x - 0.37001483
    xyz = np.array([x / y, 1.0, (1.0 - x - y) / y])
    rgb = np.clip(_RGB_FROM_XYZ @ xyz, 0.0, None)
    rgb /= rgb.max()
    return (float(rgb[0]), float(rgb[1]), float(rgb[2]))
