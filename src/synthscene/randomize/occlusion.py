"""The per-frame draw of ``render.ambient_occlusion``: :func:`sample_ambient_occlusion`."""

from __future__ import annotations

import numpy as np

from synthscene.config.schema import AmbientOcclusionSpec
from synthscene.core.state import AmbientOcclusion

__all__ = ["sample_ambient_occlusion"]


def sample_ambient_occlusion(spec: AmbientOcclusionSpec | None, *,
                             rng: np.random.Generator) -> AmbientOcclusion | None:
    """Draw a frame's ambient occlusion.

    Draw order: one uniform number in [0, 1) (the frame has ambient occlusion if it is below
    ``spec.probability``), then ``strength``, then ``radius_m``; nothing is drawn without
    ``spec``.

    Parameters
    ----------
    spec : AmbientOcclusionSpec or None
        The scenario's ``render.ambient_occlusion``; None: off.
    rng : numpy.random.Generator
        The frame's ambient-occlusion stream
        (:func:`synthscene.seeding.sensor_rng` with ``"ambient_occlusion"``).

    Returns
    -------
    AmbientOcclusion or None
        None when off or not drawn for this frame.
    """
    if spec is None:
        return None
    if not rng.uniform() < spec.probability:
        return None
    strength = float(spec.strength.sample(rng))
    radius = float(spec.radius_m.sample(rng))
    return AmbientOcclusion(strength=strength, radius=radius)
