"""Checks of the arguments of the Python entry points (``generate``, ``iter_samples``,
``SyntheticStream``): one place for "an integer >= N" and "a scenario", so that a wrong argument
is refused at the call, with an :class:`~synthscene.errors.OptionError` naming it, before
anything is built or changed.
"""

from __future__ import annotations

import numbers
import os
from typing import Any

from synthscene.config.loading import Scenario, load_scenario
from synthscene.errors import OptionError

__all__ = ["as_scenario", "whole_number"]


def whole_number(name: str, value: Any, *, low: int = 0) -> int:
    """``value`` as an ``int``, if it is a whole number >= ``low``.

    Parameters
    ----------
    name : str
        The argument's name, for the message.
    value : Any
        An ``int`` (or a NumPy integer, or a float with a whole value such as ``2.0``).
    low : int
        Smallest value allowed.

    Returns
    -------
    int

    Raises
    ------
    OptionError
        Naming ``name``, for ``True``/``False``, a fraction, NaN, an infinity, a string or
        anything that is not a number, and a value below ``low``.
    """
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if ok:
        try:
            ok = float(value).is_integer() and int(value) >= low
        except (OverflowError, ValueError):
            ok = False
    if not ok:
        raise OptionError(name, "", f"must be an integer >= {low}, got {value!r}")
    return int(value)


def as_scenario(scenario: Any, *, name: str = "scenario") -> Scenario:
    """``scenario`` if it is a :class:`Scenario`; the scenario file it names if it is a path.

    Parameters
    ----------
    scenario : Scenario, str or os.PathLike
    name : str
        The argument's name, for the message.

    Returns
    -------
    Scenario

    Raises
    ------
    OptionError
        If it is neither a Scenario nor a path.
    ConfigError
        If the file it names cannot be read or is not a valid scenario.
    """
    if isinstance(scenario, Scenario):
        return scenario
    if isinstance(scenario, (str, os.PathLike)):
        return load_scenario(scenario)
    raise OptionError(name, "", f"must be a Scenario (synthscene.load_scenario(path)) or the "
                                f"path of a scenario file, got {type(scenario).__name__}")
