"""synthscene: labelled vision datasets from 3D assets by domain randomization.

>>> import synthscene
>>> scenario = synthscene.load_scenario("scenes/tabletop.yaml")          # doctest: +SKIP
>>> synthscene.generate(scenario, "out", frames=100, seed=0)             # doctest: +SKIP
>>> for sample in synthscene.iter_samples(scenario, frames=4, seed=0):   # doctest: +SKIP
...     sample.render.rgb, sample.render.instance_ids, sample.labels

The facade of every stage (``docs/architecture.md``): reading scenarios (:mod:`synthscene.config`),
making datasets and frames (:mod:`synthscene.run`), the data they hand back
(:mod:`synthscene.core.state`), checking and converting datasets on disk (:mod:`synthscene.tools`,
:mod:`synthscene.exporters`). ``generate``, ``iter_samples`` and ``render_scene`` import the
rendering and physics back ends (pyrender, OpenGL, pybullet) on first use, not here.
"""

from __future__ import annotations

from synthscene.config import Scenario, load_scenario, scenario_from_dict
from synthscene.core.state import InstanceLabel, RenderOutput, Sample, SceneState
from synthscene.errors import (
    AssetError,
    ConfigError,
    DatasetError,
    FieldError,
    OptionError,
    OutputError,
    PluginError,
    RenderError,
    SynthsceneError,
)
from synthscene.exporters import export_dataset
from synthscene.plugins import load_plugins
from synthscene.run.pipeline import GenerateSummary, generate, iter_samples
from synthscene.run.single_scene import render_scene
from synthscene.tools.validate import validate_dataset
from synthscene.version import __version__

__all__ = [
    "AssetError", "ConfigError", "DatasetError", "FieldError", "GenerateSummary", "InstanceLabel",
    "OptionError", "OutputError", "PluginError", "RenderError", "RenderOutput", "Sample",
    "Scenario", "SceneState", "SynthsceneError", "__version__", "export_dataset", "generate",
    "iter_samples", "load_plugins", "load_scenario", "render_scene", "scenario_from_dict",
    "validate_dataset",
]
