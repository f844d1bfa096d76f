"""A procedural daylight sky: the analytic model of Preetham, Shirley and Smits (1999).

A. J. Preetham, P. Shirley, B. Smits, "A Practical Analytic Model for Daylight", SIGGRAPH 1999:
the luminance Y and chromaticity (x, y) of the clear sky in a direction at zenith angle
``theta`` and angle ``gamma`` from the sun are Perez et al.'s function
``F(theta, gamma) = (1 + A exp(B / cos theta)) (1 + C exp(D gamma) + E cos^2 gamma)``
relative to the zenith, ``Y = Y_z F(theta, gamma) / F(0, theta_s)``, with coefficients linear in
the turbidity ``T`` (the paper's appendix A.2) and zenith values from its equations for
``Y_z`` and ``x_z``, ``y_z``. The model holds for turbidities of about 2 to 10.

:func:`sky_image` renders it into a small equirectangular image (the layout of
:mod:`synthscene.assets.environment_files`) with the sun at azimuth 0 (towards +x): CIE xyY is
converted to linear sRGB (IEC 61966-2-1's matrix), and the image is scaled so that the sky
gives a horizontal surface facing up the irradiance pi (the irradiance of a uniform sky of
radiance 1): an environment intensity then means the same for a sky as for an image. Below the
horizon the image holds a grey ground of radiance :data:`GROUND_RADIANCE` (a ground of albedo
0.3 lit by that sky). The sun's disc is not in the image: the randomizer adds the sun as a
directional light (shadows, a sharp highlight; ``docs/light.md``).
"""

from __future__ import annotations

import numpy as np

from synthscene.assets.environment_files import equirect_directions

__all__ = ["GROUND_RADIANCE", "TURBIDITY_RANGE", "sky_image"]

TURBIDITY_RANGE = (1.7, 10.0)
"""Turbidities the model holds for (Preetham et al. fit 2 to 10; 1.7 is a very clear sky)."""
GROUND_RADIANCE = 0.3
"""Radiance below the horizon, relative to the normalised sky (albedo 0.3 under irradiance pi)."""

# Perez coefficients (A, B, C, D, E) = slope * T + offset, Preetham et al. appendix A.2.
_PEREZ_Y = np.array([[0.1787, -1.4630], [-0.3554, 0.4275], [-0.0227, 5.3251],
                     [0.1206, -2.5771], [-0.0670, 0.3703]])
_PEREZ_X = np.array([[-0.0193, -0.2592], [-0.0665, 0.0008], [-0.0004, 0.2125],
                     [-0.0641, -0.8989], [-0.0033, 0.0452]])
_PEREZ_YC = np.array([[-0.0167, -0.2608], [-0.0950, 0.0092], [-0.0079, 0.2102],
                      [-0.0441, -1.6537], [-0.0109, 0.0529]])
# Zenith chromaticity: [T^2, T, 1] @ M @ [theta_s^3, theta_s^2, theta_s, 1].
_ZENITH_X = np.array([[0.00166, -0.00375, 0.00209, 0.0],
                      [-0.02903, 0.06377, -0.03202, 0.00394],
                      [0.11693, -0.21196, 0.06052, 0.25886]])
_ZENITH_Y = np.array([[0.00275, -0.00610, 0.00317, 0.0],
                      [-0.04214, 0.08970, -0.04153, 0.00516],
                      [0.15346, -0.26756, 0.06670, 0.26688]])
_XYZ_TO_LINEAR_SRGB = np.array([[3.2406, -1.5372, -0.4986],
                                [-0.9689, 1.8758, 0.0415],
                                [0.0557, -0.2040, 1.0570]])


def _perez(coefficients: np.ndarray, turbidity: float, cos_theta: np.ndarray,
           gamma: np.ndarray) -> np.ndarray:
    a, b, c, d, e = coefficients[:, 0] * turbidity + coefficients[:, 1]
    return ((1.0 + a * np.exp(b / cos_theta))
            * (1.0 + c * np.exp(d * gamma) + e * np.cos(gamma) ** 2))


def sky_image(sun_elevation_rad: float, turbidity: float, *, width: int = 128,
              height: int = 64) -> np.ndarray:
    """Render the Preetham sky, sun at azimuth 0, into an equirectangular image.

    Parameters
    ----------
    sun_elevation_rad : float
        Sun elevation above the horizon, radians, in [0, pi/2].
    turbidity : float
        Atmospheric turbidity in :data:`TURBIDITY_RANGE` (2: clear, 10: hazy).
    width, height : int
        Image size in pixels.

    Returns
    -------
    (height, width, 3) float32
        Linear sRGB radiance, normalised as the module notes say.

    Raises
    ------
    ValueError
        If the elevation or the turbidity is out of range.
    """
    if not 0.0 <= sun_elevation_rad <= np.pi / 2 + 1e-9:
        raise ValueError(f"sun elevation must be in [0, pi/2] radians, got {sun_elevation_rad}")
    if not TURBIDITY_RANGE[0] <= turbidity <= TURBIDITY_RANGE[1]:
        raise ValueError(f"turbidity must be in {list(TURBIDITY_RANGE)}, got {turbidity}")
    t = float(turbidity)
    theta_s = np.pi / 2 - float(sun_elevation_rad)
    chi = (4.0 / 9.0 - t / 120.0) * (np.pi - 2.0 * theta_s)
    zenith_luminance = (4.0453 * t - 4.9710) * np.tan(chi) - 0.2155 * t + 2.4192
    powers_t = np.array([t * t, t, 1.0])
    powers_s = np.array([theta_s ** 3, theta_s ** 2, theta_s, 1.0])
    zenith = (zenith_luminance, powers_t @ _ZENITH_X @ powers_s,
              powers_t @ _ZENITH_Y @ powers_s)

    directions, solid = equirect_directions(height, width)
    cos_theta = np.clip(directions[..., 2], 0.01, 1.0)  # the horizon row stays finite
    sun = np.array([np.sin(theta_s), 0.0, np.cos(theta_s)])
    gamma = np.arccos(np.clip(directions @ sun, -1.0, 1.0))
    values = []
    for coefficients, at_zenith in zip((_PEREZ_Y, _PEREZ_X, _PEREZ_YC), zenith):
        reference = _perez(coefficients, t, np.array(1.0), np.array(theta_s))
        values.append(at_zenith * _perez(coefficients, t, cos_theta, gamma) / reference)
    luminance, x, y = values
    xyz = np.stack([x * luminance / y, luminance, (1.0 - x - y) * luminance / y], axis=-1)
    rgb = np.clip(xyz @ _XYZ_TO_LINEAR_SRGB.T, 0.0, None)
    above = directions[..., 2] > 0
    # Irradiance on an upward surface: sum of L cos(theta) dOmega over the upper hemisphere.
    irradiance = (rgb @ np.array([0.2126, 0.7152, 0.0722]) * directions[..., 2]
                  * solid * above).sum()
    rgb = rgb * (np.pi / irradiance)
    rgb[~above] = GROUND_RADIANCE
    return rgb.astype(np.float32)
