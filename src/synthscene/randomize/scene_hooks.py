"""Applying a scenario's scene hooks (``hooks:``) to a frame's scene."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from synthscene.core.state import SceneState
from synthscene.errors import PluginError
from synthscene.registry.scene_registries import Configured

__all__ = ["run_hooks"]


def run_hooks(hooks: Sequence[Configured], state: SceneState, stage: str, *,
              rng: np.random.Generator) -> SceneState:
    """Apply the hooks of ``stage`` in order, each drawing from ``rng``.

    Parameters
    ----------
    hooks : sequence of Configured
    state : SceneState
    stage : str
        One of :data:`HOOK_STAGES`.
    rng : numpy.random.Generator

    Returns
    -------
    SceneState

    Raises
    ------
    PluginError
        If a hook raises or returns something else than a SceneState.
    """
    for hook in hooks:
        if hook.stage != stage:
            continue
        new = hook(state, rng=rng)
        if not isinstance(new, SceneState):
            raise PluginError(f"{hook.randomizer.describe()} returned a {type(new).__name__}; "
                              "a scene hook returns a SceneState")
        ids = [o.instance_id for o in new.objects]
        if len(set(ids)) != len(ids) or any(i < 1 for i in ids):
            raise PluginError(f"{hook.randomizer.describe()} returned objects whose instance "
                              "ids are not unique integers >= 1")
        state = new
    return state
