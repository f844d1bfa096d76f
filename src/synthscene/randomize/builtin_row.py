"""A row of the built-in table (:data:`synthscene.randomize.builtins.BUILTINS`): which register
function, under which name, with which function and options."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from synthscene.registry.randomizers import Randomizer

__all__ = ["Builtin", "builtin"]


@dataclass(frozen=True)
class Builtin:
    """One built-in randomizer: ``register(name, fn, **options)`` registers it.

    Attributes
    ----------
    register : callable
        A ``register_*`` function of :mod:`synthscene.plugins` (the plug-ins' own).
    name : str
    fn : callable
    options : mapping
        ``params``, ``summary``, ``example`` (and ``prepare`` for a texture kind).
    """

    register: Callable[..., Randomizer]
    name: str
    fn: Callable[..., Any]
    options: Mapping[str, Any]

    def add(self) -> Randomizer:
        """Register it."""
        return self.register(self.name, self.fn, **self.options)


def builtin(register: Callable[..., Randomizer], name: str, fn: Callable[..., Any],
            **options: Any) -> Builtin:
    """The :class:`Builtin` of ``register(name, fn, **options)``."""
    return Builtin(register, name, fn, options)
