"""Lens distortion models: OpenCV's radial-tangential (Brown-Conrady) and fisheye
(Kannala-Brandt) models, pure numpy.

The formulas are OpenCV's (docs.opencv.org, "Camera Calibration and 3D Reconstruction" for
``cv2.projectPoints`` and the ``cv::fisheye`` module for ``cv2.fisheye.projectPoints``), so a
camera-frame point projected here lands where OpenCV puts it. In normalised image coordinates
``(a, b) = (X / Z, Y / Z)`` with ``r^2 = a^2 + b^2``:

``brown_conrady`` (``dist_coeffs = (k1, k2, p1, p2, k3)``, OpenCV's order)::

    radial = 1 + k1 r^2 + k2 r^4 + k3 r^6
    x = a radial + 2 p1 a b + p2 (r^2 + 2 a^2)
    y = b radial + p1 (r^2 + 2 b^2) + 2 p2 a b

``kannala_brandt`` (``dist_coeffs = (k1, k2, k3, k4)``)::

    theta = atan2(sqrt(X^2 + Y^2), Z)            (OpenCV: atan(r), the same for Z > 0)
    theta_d = theta (1 + k1 theta^2 + k2 theta^4 + k3 theta^6 + k4 theta^8)
    (x, y) = (theta_d / r) (a, b)

then pixels ``u = fx x + cx``, ``v = fy y + cy`` (``K``, pixel centres at integers).

Both radial functions fold back (stop growing) beyond some radius for some coefficients: points
beyond the fold are not seen by the lens (:meth:`Lens.max_undistorted_radius`); a frame must
lie inside the fold's image (:meth:`Lens.max_distorted_radius`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["LENS_MODELS", "MAX_FISHEYE_ANGLE_RAD", "Lens"]

LENS_MODELS = ("brown_conrady", "kannala_brandt")
"""Names of the distortion models, as written in ``distortion_model`` of an image entry."""

MAX_FISHEYE_ANGLE_RAD = math.radians(80.0)
"""Largest angle between the optical axis and a ray seen by any pixel of a frame (80 degrees:
a field of view up to 160 degrees across the frame's diagonal). Frames are drawn as one pinhole
render warped through the lens; a pinhole image cannot reach 90 degrees and its size grows as
``tan(angle)`` towards it."""

_NEWTON_STEPS = 30
_NEWTON_TOLERANCE = 1e-14


def _newton(x: np.ndarray, step, steps: int | None = None) -> np.ndarray:
    """Newton's method on each row of ``x`` ((n,) or (n, k) float64) on its own: ``step(x[idx],
    idx)`` gives the update of the rows ``idx`` still moving (``idx`` a slice while all are);
    a row stops once its update is below 1e-14 (or after ``steps``, default 30, steps), so its
    result does not depend on the other rows."""
    idx: slice | np.ndarray = slice(None)
    for _ in range(_NEWTON_STEPS if steps is None else steps):
        delta = step(x[idx], idx)
        x[idx] += delta
        moving = np.abs(delta) > _NEWTON_TOLERANCE
        if moving.ndim > 1:
            moving = moving.any(axis=1)
        if moving.all():
            continue
        if not moving.any():
            break
        rows = np.arange(x.shape[0])[idx]
        idx = rows[moving]
    return x


@dataclass(frozen=True)
class Lens:
    """A lens distortion model and its coefficients.

    Attributes
    ----------
    model : {"brown_conrady", "kannala_brandt"}
    coeffs : tuple of float
        OpenCV's order: ``(k1, k2, p1, p2, k3)`` for ``brown_conrady`` (``distCoeffs`` of
        ``cv2.projectPoints``), ``(k1, k2, k3, k4)`` for ``kannala_brandt`` (``D`` of
        ``cv2.fisheye.projectPoints``).

    Raises
    ------
    ValueError
        If the model is unknown, the coefficient count is wrong or a coefficient is not finite.
    """

    model: str
    coeffs: tuple[float, ...]

    def __post_init__(self) -> None:
        if self.model not in LENS_MODELS:
            raise ValueError(f"lens model must be one of {LENS_MODELS}, got {self.model!r}")
        count = 5 if self.model == "brown_conrady" else 4
        coeffs = tuple(float(c) for c in self.coeffs)
        if len(coeffs) != count or not all(math.isfinite(c) for c in coeffs):
            raise ValueError(f"{self.model} takes {count} finite coefficients, got {coeffs}")
        object.__setattr__(self, "coeffs", coeffs)
        roots = np.roots(self._radial_poly())
        real = [float(r.real) for r in roots if abs(r.imag) < 1e-12 and r.real > 0]
        limit = math.sqrt(min(real)) if real else math.inf
        limit = min(limit, math.pi) if self.model == "kannala_brandt" else limit
        object.__setattr__(self, "_fold", limit)  # not a field: equality is the coefficients'

    # -- the radial functions ------------------------------------------------------------------
    def _radial_poly(self) -> np.ndarray:
        """Coefficients (highest power first, in ``s = r^2`` or ``theta^2``) of the derivative
        of the radial function, whose first positive root is the fold."""
        if self.model == "brown_conrady":
            k1, k2, _, _, k3 = self.coeffs
            return np.array([7 * k3, 5 * k2, 3 * k1, 1.0])
        k1, k2, k3, k4 = self.coeffs
        return np.array([9 * k4, 7 * k3, 5 * k2, 3 * k1, 1.0])

    def max_undistorted_radius(self) -> float:
        """Where the radial function stops growing: ``r`` (``brown_conrady``, normalised
        undistorted radius) or ``theta`` (``kannala_brandt``, radians, at most pi); ``inf``
        for ``brown_conrady`` without a fold. Points beyond it are not seen."""
        return self._fold

    def max_distorted_radius(self) -> float:
        """The distorted normalised radius at :meth:`max_undistorted_radius` (``inf`` if
        none): the frame's pixels must lie inside it."""
        limit = self.max_undistorted_radius()
        return float(self._radial(np.array([limit]))[0]) if math.isfinite(limit) else math.inf

    def _radial(self, r: np.ndarray) -> np.ndarray:
        """The distorted radius of undistorted ``r`` (``brown_conrady``, without the
        tangential terms) or ``theta`` (``kannala_brandt``)."""
        s = r * r
        if self.model == "brown_conrady":
            k1, k2, _, _, k3 = self.coeffs
            return r * (1 + s * (k1 + s * (k2 + s * k3)))
        k1, k2, k3, k4 = self.coeffs
        return r * (1 + s * (k1 + s * (k2 + s * (k3 + s * k4))))

    def _radial_derivative(self, r: np.ndarray) -> np.ndarray:
        s = r * r
        if self.model == "brown_conrady":
            k1, k2, _, _, k3 = self.coeffs
            return 1 + s * (3 * k1 + s * (5 * k2 + s * 7 * k3))
        k1, k2, k3, k4 = self.coeffs
        return 1 + s * (3 * k1 + s * (5 * k2 + s * (7 * k3 + s * 9 * k4)))

    # -- camera frame <-> normalised distorted coordinates -------------------------------------
    def distort(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Camera-frame points to normalised distorted image coordinates.

        Parameters
        ----------
        points : (..., 3) float
            OpenCV camera frame (x right, y down, z forward), any unit.

        Returns
        -------
        xy : (..., 2) float64
            Normalised distorted coordinates (``K`` maps them to pixels); 0 where not ``seen``.
        seen : (...,) bool
            In front of the camera (``z > 0``) and inside the lens's fold
            (:meth:`max_undistorted_radius`; for ``kannala_brandt`` also within
            :data:`MAX_FISHEYE_ANGLE_RAD` of the axis).
        """
        p = np.asarray(points, dtype=np.float64)
        X, Y, Z = p[..., 0], p[..., 1], p[..., 2]
        limit = self.max_undistorted_radius()
        out = np.zeros(p.shape[:-1] + (2,))
        if self.model == "brown_conrady":
            seen = Z > 0
            safe = np.where(seen, Z, 1.0)
            a, b = X / safe, Y / safe
            s = a * a + b * b
            seen &= s < limit * limit
            k1, k2, p1, p2, k3 = self.coeffs
            radial = 1 + s * (k1 + s * (k2 + s * k3))
            out[..., 0] = a * radial + 2 * p1 * a * b + p2 * (s + 2 * a * a)
            out[..., 1] = b * radial + p1 * (s + 2 * b * b) + 2 * p2 * a * b
        else:
            rho = np.hypot(X, Y)
            theta = np.arctan2(rho, Z)
            seen = (Z > 0) & (theta < min(limit, MAX_FISHEYE_ANGLE_RAD))
            theta_d = self._radial(theta)
            # (theta_d / r) (X / Z) with r = rho / Z is theta_d X / rho; on the axis, X / Z
            on_axis = rho == 0
            scale = theta_d / np.where(on_axis, 1.0, rho)
            safe = np.where(seen, Z, 1.0)
            out[..., 0] = np.where(on_axis, X / safe, X * scale)
            out[..., 1] = np.where(on_axis, Y / safe, Y * scale)
        out[~seen] = 0.0
        return out, seen

    def undistort(self, xy: np.ndarray, start: np.ndarray | None = None,
                  steps: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Normalised distorted coordinates to the undistorted ones ``(X / Z, Y / Z)`` (the
        inverse of :meth:`distort`, by Newton's method; what ``cv2.undistortPoints`` and
        ``cv2.fisheye.undistortPoints`` approximate with fewer steps).

        Parameters
        ----------
        xy : (..., 2) float
        start : (..., 2) float, optional
            A first guess of the result (e.g. interpolated from a coarser grid): fewer steps.
        steps : int, optional
            Newton steps at most (default 30; each point stops once its step is below 1e-14).
            Fewer give an approximation: one step from a start ``e`` off is about ``e**2``
            off (a point whose residual stays above 1e-9 is not ``valid``).

        Returns
        -------
        ab : (..., 2) float64
            Undistorted normalised coordinates; 0 where not ``valid``.
        valid : (...,) bool
            The point is the image of a ray the lens sees: inside the fold's image
            (:meth:`max_distorted_radius`), for ``kannala_brandt`` within
            :data:`MAX_FISHEYE_ANGLE_RAD` of the axis, and Newton's method converged.
        """
        d = np.asarray(xy, dtype=np.float64)
        xd, yd = d[..., 0], d[..., 1]
        out = np.zeros(d.shape)
        if self.model == "kannala_brandt":
            theta_d = np.hypot(xd, yd)
            limit = min(self.max_undistorted_radius(), MAX_FISHEYE_ANGLE_RAD)
            valid = theta_d < float(self._radial(np.array([limit]))[0])
            target = np.where(valid, theta_d, 0.0).ravel()

            def theta_step(theta: np.ndarray, idx: np.ndarray) -> np.ndarray:
                slope = self._radial_derivative(theta)
                step = (self._radial(theta) - target[idx]) / np.where(slope > 1e-12, slope,
                                                                      1e-12)
                return np.clip(theta - step, 0.0, limit) - theta

            guess = target.copy() if start is None else np.clip(np.arctan(np.hypot(
                start[..., 0], start[..., 1])).ravel(), 0.0, limit)
            theta = _newton(guess, theta_step, steps).reshape(theta_d.shape)
            target = target.reshape(theta_d.shape)
            valid &= np.abs(self._radial(theta) - target) < 1e-9
            valid &= theta < limit
            scale = np.where(theta_d > 0, np.tan(theta) / np.where(theta_d > 0, theta_d, 1.0), 1.0)
            out[..., 0], out[..., 1] = xd * scale, yd * scale
        else:
            k1, k2, p1, p2, k3 = self.coeffs
            valid = np.isfinite(xd) & np.isfinite(yd)
            xd_flat, yd_flat = xd.ravel(), yd.ravel()

            def ab_step(ab: np.ndarray, idx: np.ndarray) -> np.ndarray:
                a, b = ab[:, 0], ab[:, 1]
                s = a * a + b * b
                radial = 1 + s * (k1 + s * (k2 + s * k3))
                dradial = k1 + s * (2 * k2 + s * 3 * k3)  # d radial / d s
                fx = a * radial + 2 * p1 * a * b + p2 * (s + 2 * a * a) - xd_flat[idx]
                fy = b * radial + p1 * (s + 2 * b * b) + 2 * p2 * a * b - yd_flat[idx]
                j11 = radial + 2 * a * a * dradial + 2 * p1 * b + 6 * p2 * a
                j12 = 2 * a * b * dradial + 2 * p1 * a + 2 * p2 * b
                j22 = radial + 2 * b * b * dradial + 6 * p1 * b + 2 * p2 * a
                det = j11 * j22 - j12 * j12
                det = np.where(np.abs(det) > 1e-12, det, 1e-12)
                return -np.stack([(j22 * fx - j12 * fy) / det, (j11 * fy - j12 * fx) / det], 1)

            if start is None:  # one fixed-point step
                sd = xd_flat * xd_flat + yd_flat * yd_flat
                shrink = 1 / (1 + sd * (k1 + sd * (k2 + sd * k3)))
                shrink = np.where(np.isfinite(shrink) & (shrink > 0), shrink, 1.0)
                guess = np.stack([xd_flat * shrink, yd_flat * shrink], 1)
            else:
                guess = np.asarray(start, np.float64).reshape(-1, 2).copy()
            ab = _newton(guess, ab_step, steps)
            a, b = ab[:, 0].reshape(xd.shape), ab[:, 1].reshape(xd.shape)
            s = a * a + b * b
            radial = 1 + s * (k1 + s * (k2 + s * k3))
            err = np.hypot(a * radial + 2 * p1 * a * b + p2 * (s + 2 * a * a) - xd,
                           b * radial + p1 * (s + 2 * b * b) + 2 * p2 * a * b - yd)
            limit = self.max_undistorted_radius()
            valid &= np.isfinite(err) & (err < 1e-9) & (s < limit * limit)
            out[..., 0], out[..., 1] = a, b
        out[~valid] = 0.0
        return out, valid

    # -- pixels --------------------------------------------------------------------------------
    def project(self, points: np.ndarray, K: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Camera-frame points to distorted pixels (``cv2.projectPoints`` /
        ``cv2.fisheye.projectPoints`` with zero rotation and translation, for seen points).

        Parameters
        ----------
        points : (..., 3) float
            OpenCV camera frame.
        K : (3, 3) float
            Intrinsics in pixels (pixel centres at integers; skew ignored).

        Returns
        -------
        uv : (..., 2) float64
            Pixel coordinates; 0 where not ``seen``.
        seen : (...,) bool
            As :meth:`distort`.
        """
        xy, seen = self.distort(points)
        K = np.asarray(K, dtype=np.float64)
        uv = np.empty_like(xy)
        uv[..., 0] = K[0, 0] * xy[..., 0] + K[0, 2]
        uv[..., 1] = K[1, 1] * xy[..., 1] + K[1, 2]
        uv[~seen] = 0.0
        return uv, seen

    def unproject(self, uv: np.ndarray, K: np.ndarray, start: np.ndarray | None = None,
                  steps: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Distorted pixels to undistorted normalised coordinates ``(X / Z, Y / Z)``.

        Parameters
        ----------
        uv : (..., 2) float
            Pixel coordinates (pixel centres at integers).
        K : (3, 3) float
        start : (..., 2) float, optional
            A first guess of ``ab`` (:meth:`undistort`).
        steps : int, optional
            Newton steps at most (:meth:`undistort`).

        Returns
        -------
        ab : (..., 2) float64
        valid : (...,) bool
            As :meth:`undistort`.
        """
        K = np.asarray(K, dtype=np.float64)
        q = np.asarray(uv, dtype=np.float64)
        xy = np.empty(q.shape)
        xy[..., 0] = (q[..., 0] - K[0, 2]) / K[0, 0]
        xy[..., 1] = (q[..., 1] - K[1, 2]) / K[1, 1]
        return self.undistort(xy, start, steps)
