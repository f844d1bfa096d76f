"""Seeding: one explicit ``numpy.random.Generator`` per frame.

Frame ``i`` of a run with seed ``s`` draws every random number from
``Generator(PCG64(SeedSequence([s, i])))``, so any worker can make any frame and the dataset does
not depend on the number of workers (the pattern of Gymnasium's ``seeding.np_random`` and NumPy's
guide to parallel random number generation, numpy.org/doc/stable/reference/random/parallel.html).
"""

from __future__ import annotations

import numpy as np


def frame_rng(seed: int, frame_index: int) -> np.random.Generator:
    """Return the generator of frame ``frame_index`` of a run seeded with ``seed``.

    Parameters
    ----------
    seed : int
        The run's seed, >= 0.
    frame_index : int
        The frame's index in the run, >= 0.

    Returns
    -------
    numpy.random.Generator
        ``Generator(PCG64(SeedSequence([seed, frame_index])))``.

    Raises
    ------
    ValueError
        If ``seed`` or ``frame_index`` is negative.
    """
    if seed < 0 or frame_index < 0:
        raise ValueError(f"seed and frame_index must be >= 0, got {seed}, {frame_index}")
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, frame_index])))
