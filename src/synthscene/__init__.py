"""synthscene: labelled vision datasets from 3D assets by domain randomization.

>>> import synthscene
>>> scenario = synthscene.load_scenario("scenes/tabletop.yaml")          # doctest: +SKIP
>>> synthscene.generate(scenario, "out", frames=100, seed=0)             # doctest: +SKIP
>>> for sample in synthscene.iter_samples(scenario, frames=4, seed=0):   # doctest: +SKIP
...     sample.render.rgb, sample.render.instance_ids, sample.labels

``generate`` and ``iter_samples`` import the rendering and physics back ends on first use.
"""

from __future__ import annotations

from typing import Any

from synthscene.config import Scenario, load_scenario, scenario_from_dict
from synthscene.errors import (
    AssetError,
    ConfigError,
    DatasetError,
    OutputError,
    PluginError,
    SynthsceneError,
)
from synthscene.plugins import load_plugins

__version__ = "0.1.0"

__all__ = [
    "AssetError", "ConfigError", "DatasetError", "OutputError", "PluginError",
    "Scenario", "SynthsceneError", "__version__", "generate", "iter_samples", "load_plugins",
    "load_scenario", "render_scene", "scenario_from_dict",
]


def __getattr__(name: str) -> Any:
    if name in ("generate", "iter_samples"):
        from synthscene import pipeline

        return getattr(pipeline, name)
    if name == "render_scene":
        from synthscene import scripting

        return scripting.render_scene
    raise AttributeError(f"module 'synthscene' has no attribute {name!r}")
