"""Loading randomizers from modules: synthscene's built-ins and installed packages' plug-ins.

synthscene's own randomizers are declared like any installed plug-in, as the entry point
``builtins = synthscene.randomize.builtins`` of the group :data:`ENTRY_POINT_GROUP`; the
registries load that module (:data:`BUILTINS_MODULE`) the first time one of them is used, the
same way whether or not the package's entry points are installed (an editable or source tree),
so the built-ins are always registered first. Installed packages' plug-ins are loaded the first
time a scenario names something that is not built in (:func:`load_entry_points`). This module
holds what this process has loaded; :mod:`synthscene.registry.plugin_loader` loads the plug-ins
a user names.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import importlib.metadata
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from synthscene.errors import PluginError

__all__ = ["BUILTINS_MODULE", "ENTRY_POINT_GROUP", "PluginInfo", "failure", "load_builtins",
           "load_entry_points", "loaded_hint", "loaded_plugins", "module_info", "one_line"]

ENTRY_POINT_GROUP = "synthscene.plugins"
"""Entry-point group of installed plug-ins: each entry is a module (imported) or a function
(called with no argument) that registers randomizers."""

BUILTINS_MODULE = "synthscene.randomize.builtins"
"""The module that registers synthscene's own randomizers (our own entry point of
:data:`ENTRY_POINT_GROUP`)."""


def one_line(exc: BaseException) -> str:
    """What ``exc`` says, on one line of at most 500 characters."""
    text = " ".join(str(exc).split())
    return text[:500] + ("..." if len(text) > 500 else "")


def failure(exc: BaseException) -> str:
    """What a plug-in's exception says, on one line: ``"ValueError: message"``, or for
    ``SystemExit`` ``"it called sys.exit(7)"``."""
    if isinstance(exc, SystemExit):
        return f"it called sys.exit({exc.code!r}) (a plug-in cannot end the run)"
    return f"{type(exc).__name__}: {one_line(exc)}"


@dataclass(frozen=True)
class PluginInfo:
    """A loaded plug-in module, as a run's manifest records it.

    Attributes
    ----------
    module : str
        The module's import name (for a file, a name made from its path).
    source : str
        What was asked for: the module name, the ``.py`` file's absolute path, or
        ``entry-point:NAME``; passed to :func:`load_plugins` in worker processes.
    version : str or None
        The module's ``__version__``, else its distribution's version, else None.
    sha256 : str or None
        Hex SHA-256 of the module's source file (``__file__``), None if it has none.
    """

    module: str
    source: str
    version: str | None = None
    sha256: str | None = None

    def record(self) -> dict[str, Any]:
        """The manifest's entry: ``{"module", "version", "sha256"}``."""
        return {"module": self.module, "version": self.version, "sha256": self.sha256}


@dataclass
class _State:
    """What this process has loaded (one instance, :data:`_LOADED`)."""

    by_source: dict[str, PluginInfo] = dataclasses.field(default_factory=dict)
    entry_points_done: bool = False
    builtins: str = "no"
    """``no``, ``loading`` or ``done``: :func:`load_builtins`' progress."""


_LOADED = _State()


def load_builtins() -> None:
    """Register synthscene's own randomizers (import :data:`BUILTINS_MODULE`), once per
    process: every registry calls this before it is read or added to, so the built-ins come
    first and keep their names."""
    if _LOADED.builtins != "no":
        return  # done, or under way (the built-ins' own registrations)
    _LOADED.builtins = "loading"
    try:
        importlib.import_module(BUILTINS_MODULE)
    except BaseException:
        _LOADED.builtins = "no"
        raise
    _LOADED.builtins = "done"


def module_info(module_name: str, source: str | None = None) -> PluginInfo:
    """Version and source hash of the imported module ``module_name``.

    Raises
    ------
    KeyError
        If it is not imported.
    """
    module = sys.modules[module_name]
    version = getattr(module, "__version__", None)
    if not isinstance(version, str):
        version = None
        top = module_name.split(".")[0]
        dists = importlib.metadata.packages_distributions().get(top, [])
        if dists:
            try:
                version = importlib.metadata.version(dists[0])
            except importlib.metadata.PackageNotFoundError:
                version = None
    digest = None
    path = getattr(module, "__file__", None)
    if path:
        try:
            digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
        except OSError:
            digest = None
    return PluginInfo(module=module_name, source=source or module_name, version=version,
                      sha256=digest)


def load_entry_points() -> bool:
    """Load every installed plug-in of :data:`ENTRY_POINT_GROUP`, once per process: called by
    a registry's lookup of a name that is not built in, and by ``synthscene docs``.

    Returns
    -------
    bool
        True if this call loaded any.

    Raises
    ------
    PluginError
        If one cannot be loaded.
    """
    if _LOADED.entry_points_done:
        return False
    _LOADED.entry_points_done = True
    found = False
    for entry in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        if entry.module == BUILTINS_MODULE:
            continue  # synthscene's own: loaded by load_builtins
        try:
            target = entry.load()
            if callable(target) and not isinstance(target, type(sys)):
                target()
        except (Exception, SystemExit) as exc:  # noqa: BLE001 - any failure of user code
            raise PluginError(f"cannot load the installed plug-in {entry.name!r} ({entry.value}): "
                              f"{failure(exc)}") from None
        source = f"entry-point:{entry.name}"
        _LOADED.by_source[source] = dataclasses.replace(module_info(entry.module), source=source)
        found = True
    return found


def loaded_plugins() -> tuple[PluginInfo, ...]:
    """The plug-ins loaded in this process (by :func:`load_plugins` or as entry points)."""
    return tuple(_LOADED.by_source.values())


def loaded_hint() -> str:
    """A phrase for "unknown name" errors: which plug-ins are loaded and how to load one."""
    names = ", ".join(sorted({p.source for p in loaded_plugins()})) or "none"
    return (f"plug-ins loaded: {names} (load one with --plugin MODULE_OR_FILE.py, or "
            "synthscene.load_plugins([...]) before reading the scenario)")
