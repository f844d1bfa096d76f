"""The registry machinery: named randomizers, their parameter models, and lookups by name.

A :class:`Registry` maps the names a scenario uses to :class:`Randomizer` entries. The five
registries are in this package: the texture kinds in
:mod:`synthscene.registry.texture_registry`, the sensor effects in
:mod:`synthscene.registry.effect_registry`, placements, camera samplers and scene hooks in
:mod:`synthscene.registry.scene_registries`. A registry registers synthscene's built-ins
(:func:`~synthscene.registry.entry_points.load_builtins`) before it is first read or added to.
:mod:`synthscene.tools.reference_docs` renders ``docs/randomizers.md`` from them all. An unknown
name or parameter raises :class:`~synthscene.errors.ConfigError` listing the valid ones.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from synthscene.errors import ConfigError, PluginError, SynthsceneError
from synthscene.registry.entry_points import (
    failure,
    load_builtins,
    load_entry_points,
    loaded_hint,
    one_line,
)
from synthscene.registry.params import RandomizerParams, yaml_key
from synthscene.registry.validation_errors import error_message, join_field


@dataclass(frozen=True)
class Randomizer:
    """One named randomizer.

    Attributes
    ----------
    name : str
        The name a scenario uses.
    summary : str
        One line for the documentation.
    params : type[RandomizerParams]
        Its parameter model (unknown keys are errors).
    run : callable
        Applies drawn parameters (:meth:`RandomizerParams.draw`'s dict, as keywords). Textures:
        ``run(*, rng, size, **drawn)`` returning ``(H, W, 3) uint8`` (plus ``resource=`` for a
        kind with ``prepare``); effects: ``run(rgb, *, rng, **drawn)`` returning
        ``(H, W, 3) uint8``; placements, camera samplers and scene hooks: see
        :mod:`synthscene.plugins`.
    example : dict
        A YAML example of its parameters (an effect's whole list item; a texture kind's
        section), shown in the documentation through :func:`example_config`.
    prepare : callable or None
        ``prepare(params, base_dir)`` builds a resource once, when the scenario is read (the
        image folder's index); its result is passed to ``run`` as ``resource``.
    module : str
        The module that defines ``run`` (a plug-in's module; ``synthscene...`` for built-ins).
    """

    name: str
    summary: str
    params: type[RandomizerParams]
    run: Callable[..., Any]
    example: dict[str, Any]
    prepare: Callable[[Any, Path], Any] | None = None
    module: str = "synthscene"

    @property
    def builtin(self) -> bool:
        """True for synthscene's own randomizers, False for a plug-in's."""
        return self.module == "synthscene" or self.module.startswith("synthscene.")

    def call(self, *args: Any, **kwargs: Any) -> Any:
        """``run(*args, **kwargs)``; a plug-in's exception becomes one
        :class:`~synthscene.errors.PluginError` naming it (a built-in's propagates as it is).

        Raises
        ------
        PluginError
            If a plug-in's ``run`` raises anything but a :class:`SynthsceneError` or
            ``KeyboardInterrupt`` (``SystemExit`` included: a plug-in cannot end the run).
        """
        return self.guarded(self.run, *args, **kwargs)

    def guarded(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``fn(*args, **kwargs)`` for this randomizer's code (``run``, ``prepare``), with a
        plug-in's failure reported as in :meth:`call`."""
        if self.builtin:
            return fn(*args, **kwargs)
        try:
            return fn(*args, **kwargs)
        except SynthsceneError as exc:
            if isinstance(exc, PluginError):
                raise
            raise PluginError(f"{self.describe()} failed: {one_line(exc)}") from None
        except (Exception, SystemExit) as exc:  # noqa: BLE001 - any failure of user code
            raise PluginError(f"{self.describe()} failed: {failure(exc)}") from None

    def describe(self) -> str:
        """``"plug-in 'rain' (module mymod)"``, for messages."""
        return f"plug-in '{self.name}' (module {self.module})"


def _defining_module(fn: Any) -> str:
    """The module that defines ``fn`` (a function, or an instance of a callable class)."""
    module = getattr(fn, "__module__", None)
    return module if isinstance(module, str) else type(fn).__module__


class Registry(Mapping[str, Randomizer]):
    """Randomizers by name (a read-only mapping, in documentation order).

    Parameters
    ----------
    what : str
        What an entry is, for messages (``"effect"``, ``"texture kind"``).
    base : type[RandomizerParams]
        The class every entry's parameter model derives from.

    Entries are added with :meth:`add`, which is what
    :func:`~synthscene.registry.effect_registry.register_effect`,
    :func:`~synthscene.registry.texture_registry.register_texture` and the ``register_*``
    functions of :mod:`synthscene.plugins` call for built-ins and plug-ins alike. Reading or
    adding to any registry first registers the built-ins
    (:func:`~synthscene.registry.entry_points.load_builtins`).
    """

    def __init__(self, what: str, base: type[RandomizerParams] = RandomizerParams) -> None:
        self.what = what
        self.base = base
        self._entries: dict[str, Randomizer] = {}

    def add(self, entry: Randomizer) -> Randomizer:
        """Register ``entry`` under its name and return it.

        Registering the same function again under the same name (a module imported twice, e.g.
        as ``__main__`` and by a worker) replaces the entry.

        Raises
        ------
        ValueError
            If the name is not a plain identifier, another function has it already, or the
            parameter model does not derive from :attr:`base`.
        TypeError
            If ``entry.run`` is not callable.
        """
        load_builtins()
        if not (isinstance(entry.name, str) and entry.name.isidentifier()):
            raise ValueError(f"a {self.what} name must be a Python identifier (letters, digits, "
                             f"_), got {entry.name!r}")
        if not callable(entry.run):
            raise TypeError(f"{self.what} '{entry.name}': the function is not callable")
        if not (isinstance(entry.params, type) and issubclass(entry.params, self.base)):
            public = {"RandomizerParams": "Params"}.get(self.base.__name__, self.base.__name__)
            raise ValueError(f"{self.what} '{entry.name}': params must be a subclass of "
                             f"synthscene.plugins.{public}, got {entry.params!r}")
        old = self._entries.get(entry.name)
        if old is not None and (old.builtin or _qualname(old.run) != _qualname(entry.run)):
            raise ValueError(f"{self.what} '{entry.name}' is registered already (by "
                             f"{old.module}); choose another name")
        self._entries[entry.name] = entry
        return entry

    def register(self, name: str, fn: Callable[..., Any], *,
                 params: type[RandomizerParams] | None = None, summary: str = "",
                 example: Mapping[str, Any] | None = None,
                 prepare: Callable[..., Any] | None = None) -> Randomizer:
        """Make the :class:`Randomizer` of ``fn`` and :meth:`add` it: ``params`` defaults to
        :attr:`base`, ``summary`` to the first line of ``fn``'s docstring; the entry records the
        module that defines ``fn``.

        Raises
        ------
        ValueError, TypeError
            As :meth:`add`.
        """
        return self.add(Randomizer(name, summary or _summary(fn), params or self.base, fn,
                                   dict(example or {}), prepare, _defining_module(fn)))

    def remove_module(self, module: str) -> list[str]:
        """Unregister every plug-in entry whose function ``module`` defines; return their names.

        Raises
        ------
        ValueError
            If ``module`` is one of synthscene's (built-ins stay).
        """
        if module == "synthscene" or module.startswith("synthscene."):
            raise ValueError(f"the built-in {self.what}s of {module} cannot be removed")
        names = [name for name, e in self._entries.items() if e.module == module]
        for name in names:
            del self._entries[name]
        return names

    def __getitem__(self, name: str) -> Randomizer:
        load_builtins()
        return self._entries[name]

    def __iter__(self) -> Iterator[str]:
        load_builtins()
        return iter(self._entries)

    def __len__(self) -> int:
        load_builtins()
        return len(self._entries)

    def lookup(self, name: Any, *, source: str, field: str) -> Randomizer:
        """Return the randomizer called ``name``.

        Raises
        ------
        ConfigError
            If there is none; the message lists the valid names.
        """
        load_builtins()
        if isinstance(name, str) and name in self._entries:
            return self._entries[name]
        if isinstance(name, str) and load_entry_points():
            if name in self._entries:  # an installed package's plug-in, loaded just now
                return self._entries[name]
        raise ConfigError(source, field, f"unknown {self.what} {name!r}; valid {self.what}s: "
                                         f"{', '.join(self._entries)}; {loaded_hint()}")

    def configure(self, name: str, raw: Any, *, source: str, field: str) -> RandomizerParams:
        """Validate the parameters ``raw`` (a mapping) of randomizer ``name``.

        Raises
        ------
        ConfigError
            Naming ``source`` and the dotted field; an unknown parameter lists the valid ones.
        """
        entry = self.lookup(name, source=source, field=field)
        if raw is None:
            raw = {}
        if not isinstance(raw, Mapping):
            raise ConfigError(source, field, f"the parameters of {self.what} '{name}' must be a "
                                             f"mapping, got {raw!r}")
        try:
            return entry.params.model_validate(dict(raw))
        except ValidationError as exc:
            err = exc.errors()[0]
            loc = ".".join(str(p) for p in err["loc"])
            where = f"{field}.{loc}" if field and loc else (field or loc)
            if err["type"] == "extra_forbidden":
                keys = [yaml_key(entry.params, n) for n in parameter_names(entry.params)]
                msg = (f"unknown parameter '{loc}' for {self.what} '{name}'; valid parameters: "
                       f"{', '.join(keys)}")
            else:
                sub, msg = error_message(err)
                where = join_field(where, sub)
            raise ConfigError(source, where, msg) from None


def _qualname(fn: Any) -> str:
    return f"{_defining_module(fn)}.{getattr(fn, '__qualname__', type(fn).__qualname__)}"


def parameter_names(model: type[BaseModel]) -> list[str]:
    """The parameters of a model in documentation order: the model's own, then inherited ones
    (e.g. colours), then ``probability``."""
    inherited = {n for base in model.__bases__ if issubclass(base, BaseModel)
                 for n in base.model_fields}
    own = [n for n in model.model_fields if n not in inherited]
    names = [n for n in model.model_fields if n in own and n != "probability"]
    names += [n for n in model.model_fields if n not in own and n != "probability"]
    return names + (["probability"] if "probability" in model.model_fields else [])




def _summary(fn: Any) -> str:
    doc = (getattr(fn, "__doc__", None) or "").strip()
    return doc.splitlines()[0].rstrip(".") if doc else ""



