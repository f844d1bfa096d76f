"""The collision margin and hull budget shared by the simulation and the placements that
predict it (plain numbers, no mesh library).

Bullet inflates every convex hull by its collision margin; :mod:`synthscene.physics.simulator`
shrinks each hull by the margin beforehand (for scales on a geometric grid, so that shapes are
reused), and :mod:`synthscene.randomize.stable_poses` predicts the resting poses of that shape.
"""

from __future__ import annotations

import numpy as np

__all__ = ["COLLISION_MARGIN_M", "DEFAULT_MAX_HULLS", "SCALE_BUCKET_RATIO", "margin_shrink"]

#: Bullet's collision margin of convex hulls (metres); hulls are shrunk by it beforehand.
COLLISION_MARGIN_M = 1e-3
#: Hulls are shrunk for scales on a geometric grid of this ratio, so that their shapes are
#: reused; the shrink is then within 12% of the margin (0.1 mm).
SCALE_BUCKET_RATIO = 1.25
#: Most convex hulls of a simulated object (``PhysicsSettings.max_hulls``' default).
DEFAULT_MAX_HULLS = 6


def margin_shrink(scale: float) -> tuple[int, float]:
    """The scale bucket of an object of ``scale`` metres per normalised unit, and how far
    (normalised units) its hulls are shrunk for the collision margin: an integer ``b`` with
    ``scale`` about ``SCALE_BUCKET_RATIO ** b``, and ``COLLISION_MARGIN_M`` at that scale."""
    bucket = int(round(np.log(scale) / np.log(SCALE_BUCKET_RATIO)))  # as the simulator had it
    return bucket, COLLISION_MARGIN_M / SCALE_BUCKET_RATIO**bucket
