"""Named tolerances for the tests' numeric comparisons, in one place (as trimesh's ``tol``).

A test compares against an independent truth (a closed form, an analytic projection, another
renderer); the tolerance says which kind of error separates the two, so it is chosen by name,
not typed as a literal at each comparison.

>>> from tolerances import tol
>>> np.testing.assert_allclose(R @ R.T, np.eye(3), atol=tol.exact)   # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Tolerances:
    """Absolute tolerances, each with its unit.

    Attributes
    ----------
    exact : float
        1e-12: identities that hold to float64 rounding of a few operations (``R @ R.T = I``, a
        pose copied through a writer).
    float64 : float
        1e-9: float64 geometry through a chain of operations (camera poses, projections, unit
        conversions) against its closed form.
    float32 : float
        1e-6: values kept as float32 (texture coordinates, depth and bbox in a file) against the
        float64 truth, for magnitudes about 1.
    normal : float
        1e-5: rendered unit normals and float32 depth (metres) from the GPU path against the
        analytic plane.
    depth_m : float
        1e-4 m: a rendered depth against the analytic distance, metres.
    flow_px : float
        1e-3 px: exact image motion (flow, projected keypoints) computed in float32 against the
        analytic motion, pixels.
    pixel : float
        1 px: a rasterised edge or a box against its analytic position (pixel centres decide).
    colour_level : float
        1 level of 8-bit colour: the mean of a flat region against the expected value (8-bit
        rounding of each pixel and of the sRGB encode).
    """

    exact: float = 1e-12
    float64: float = 1e-9
    float32: float = 1e-6
    normal: float = 1e-5
    depth_m: float = 1e-4
    flow_px: float = 1e-3
    pixel: float = 1.0
    colour_level: float = 1.0


tol = Tolerances()
"""The tolerances every test uses."""
