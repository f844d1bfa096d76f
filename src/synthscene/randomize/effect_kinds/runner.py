"""How a built-in effect of :mod:`synthscene.randomize.effects` is called with drawn parameters."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["EffectRunner"]


@dataclass(frozen=True)
class EffectRunner:
    """Calls an effect of :mod:`synthscene.randomize.effects` with drawn parameters (a picklable
    callable, so configured effects can be sent to worker processes)."""

    fn: Callable[..., np.ndarray]
    uses_rng: bool = False

    def __call__(self, rgb: np.ndarray, *, rng: np.random.Generator, **drawn: Any) -> np.ndarray:
        if self.uses_rng:
            return self.fn(rgb, rng=rng, **drawn)
        return self.fn(rgb, **drawn)
