"""Scenarios: the YAML schema (:mod:`~synthscene.config.schema`) and reading a scenario from text,
a dict or a file (:mod:`~synthscene.config.loading`), validated in one place.
"""

from synthscene.config.loading import Scenario, load_scenario, scenario_from_dict
from synthscene.config.schema import ScenarioSpec

__all__ = ["Scenario", "ScenarioSpec", "load_scenario", "scenario_from_dict"]
