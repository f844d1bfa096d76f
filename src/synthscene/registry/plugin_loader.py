"""Loading the plug-ins a user names: modules or ``.py`` files, in this process and in every
worker.

:func:`load_plugins` imports each (its top-level code registers its randomizers);
:func:`unload_plugin` forgets one; :func:`plugins_of` lists the plug-ins a run depends on, for its
manifest. Installed packages' plug-ins (entry points) and synthscene's own built-ins are loaded by
:mod:`synthscene.registry.entry_points`. The public names are re-exported by
:mod:`synthscene.plugins`.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import logging
import re
import sys
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from synthscene.errors import PluginError
from synthscene.registry.effect_registry import EFFECTS
from synthscene.registry.entry_points import (
    _LOADED,
    PluginInfo,
    failure,
    load_entry_points,
    loaded_plugins,
    module_info,
)
from synthscene.registry.randomizers import Randomizer, Registry
from synthscene.registry.scene_registries import CAMERA_SAMPLERS, PLACEMENTS, SCENE_HOOKS
from synthscene.registry.texture_registry import TEXTURES

__all__ = ["REGISTRIES", "load_plugin", "load_plugins", "plugins_of", "unload_plugin"]

logger = logging.getLogger(__name__)

REGISTRIES: Mapping[str, Registry] = {
    "effect": EFFECTS, "texture": TEXTURES, "placement": PLACEMENTS,
    "camera_sampler": CAMERA_SAMPLERS, "scene_hook": SCENE_HOOKS,
}
"""Every extension point's registry, by kind."""

_MODULE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")



def _file_module_name(path: Path) -> str:
    """The import name of a plug-in file, from its name only (not its folder), so that the same
    file gives the same scenario hash and manifest wherever it lies."""
    return "synthscene_plugin_" + re.sub(r"\W", "_", path.stem)


def load_plugin(source: str) -> PluginInfo:
    """Import one plug-in (idempotent): a module name (``mypkg.randomizers``) or the path of a
    ``.py`` file. Its top-level code registers its randomizers.

    Parameters
    ----------
    source : str

    Returns
    -------
    PluginInfo

    Raises
    ------
    PluginError
        If it cannot be found or raises while it is imported (one line naming it).
    """
    if source in _LOADED.by_source:
        return _LOADED.by_source[source]
    if source.startswith("entry-point:"):
        load_entry_points()
        return _LOADED.by_source.get(source) or PluginInfo(source, source)
    path = Path(source).expanduser()
    is_file = source.endswith(".py") or "/" in source or "\\" in source
    try:
        if is_file:
            path = path.resolve()
            if not path.is_file():
                raise PluginError(f"cannot load plug-in {source!r}: no such file")
            name = _file_module_name(path)
            loaded = sys.modules.get(name)
            if loaded is not None and Path(getattr(loaded, "__file__", "")).resolve() != path:
                raise PluginError(f"cannot load plug-in {source!r}: another plug-in file named "
                                  f"{path.name} is loaded already ({loaded.__file__}); rename "
                                  "one of them")
            if loaded is None:
                spec = importlib.util.spec_from_file_location(name, path)
                if spec is None or spec.loader is None:
                    raise PluginError(f"cannot load plug-in {source!r}: not a Python file")
                module = importlib.util.module_from_spec(spec)
                sys.modules[name] = module  # before running it, so its functions pickle
                try:
                    spec.loader.exec_module(module)
                except BaseException:
                    del sys.modules[name]
                    raise
            info = module_info(name, str(path))
        else:
            if not _MODULE_NAME.fullmatch(source):
                raise PluginError(f"cannot load plug-in {source!r}: give a module name "
                                  "(mypkg.randomizers) or the path of a .py file")
            importlib.import_module(source)
            info = module_info(source)
    except PluginError:
        raise
    except ModuleNotFoundError as exc:
        raise PluginError(f"cannot load plug-in {source!r}: {exc} (install its package, add its "
                          "folder to PYTHONPATH, or give the path of the .py file)") from None
    except (Exception, SystemExit) as exc:  # noqa: BLE001 - any failure of user code
        raise PluginError(f"cannot load plug-in {source!r}: {failure(exc)}") from None
    _LOADED.by_source[source] = info
    logger.info("loaded plug-in %s (module %s)", source, info.module)
    return info


def load_plugins(sources: Iterable[str] = ()) -> tuple[PluginInfo, ...]:
    """Load each of ``sources``.

    The installed packages' plug-ins (entry points) are not loaded here: they load the first
    time a scenario names something that is not built in (:func:`load_entry_points`), so a
    broken installed plug-in does not stop a run that does not use it.

    Parameters
    ----------
    sources : iterable of str
        Module names or ``.py`` paths (see :func:`load_plugin`).

    Returns
    -------
    tuple of PluginInfo
        Every plug-in loaded in this process so far.

    Raises
    ------
    PluginError
        As :func:`load_plugin`.
    """
    for source in sources:
        load_plugin(str(source))
    return loaded_plugins()


def unload_plugin(source: str) -> None:
    """Forget a plug-in loaded by :func:`load_plugin`: unregister its randomizers and drop its
    module from ``sys.modules``, so that loading it again runs its code again (e.g. after
    editing it in a notebook). Scenarios read before still hold its old functions.

    Parameters
    ----------
    source : str
        As given to :func:`load_plugin`; a source never loaded is ignored.
    """
    info = _LOADED.by_source.pop(source, None)
    if info is None:
        return
    for registry in REGISTRIES.values():
        registry.remove_module(info.module)
    sys.modules.pop(info.module, None)


def _randomizers(value: Any) -> Iterator[Randomizer]:
    """Every :class:`Randomizer` inside a validated scenario value."""
    if isinstance(value, Randomizer):
        yield value
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _randomizers(getattr(value, name))
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            yield from _randomizers(getattr(value, f.name))
    elif isinstance(value, Mapping):
        for v in value.values():
            yield from _randomizers(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _randomizers(v)


def plugins_of(spec: Any, sources: Iterable[str] = ()) -> tuple[PluginInfo, ...]:
    """The plug-ins a run depends on: the modules of the plug-in randomizers ``spec`` (a
    :class:`~synthscene.config.schema.ScenarioSpec`) uses, and the plug-ins ``sources`` asked for
    (loaded already), sorted by module. Plug-ins loaded but neither used nor asked for (an
    installed package's, another run's in the same process) are left out.

    Returns
    -------
    tuple of PluginInfo
    """
    found = {p.module: p for p in (load_plugin(str(s)) for s in sources)}
    for entry in _randomizers(spec):
        if not entry.builtin and entry.module not in found and entry.module in sys.modules:
            found[entry.module] = module_info(entry.module)
    return tuple(found[m] for m in sorted(found))
