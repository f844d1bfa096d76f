"""Plug-ins: your own randomizers, named in a scenario exactly like the built-in ones.

One registry per extension point; synthscene's own randomizers are registered with these same
functions (``synthscene/randomize/texture_registry.py``, ``effect_registry.py``,
``extensions.py``):

- :func:`register_effect`: ``fn(rgb, *, rng, **params) -> rgb``, used as
  ``effects: [{name: rain, drops: 200}]``;
- :func:`register_texture`: ``fn(*, rng, size, **params) -> (h, w, 3) uint8``, used as
  ``texture: {kinds: [NAME], NAME: {...}}``;
- :func:`register_placement`: ``fn(objects, *, rng, region, **params) -> [SceneObject]``, used
  as ``objects: {placement: {name: shelf, levels: 3}}``;
- :func:`register_camera_sampler`: ``fn(camera, *, rng, frame, **params) -> (4, 4) pose``, used
  as ``camera: {sampler: {name: orbit}}``;
- :func:`register_scene_hook`: ``fn(state, *, rng, **params) -> SceneState``, used as
  ``hooks: [{name: belt, stage: after_sampling}]``.

``params`` is a pydantic model deriving from :class:`Params` (:class:`EffectParams` for effects)
whose fields use :func:`dist_field`, so every parameter takes the distribution syntax and is
checked when the scenario is read, with the same one-line errors as the built-ins'. Each frame,
the parameters are drawn and passed to ``fn`` as keywords (``_deg`` fields as ``_rad``).

A function must draw only from the ``rng`` it is given: frame ``i`` of seed ``s`` then stays a
function of ``(s, i)``, and a dataset is byte-identical whatever the number of workers and
after ``--resume``. An exception raised by a plug-in stops the run with one line naming the
plug-in, the frame and the error.

**Loading.** A scenario file never imports code. Plug-ins are modules (or ``.py`` files) named
by the person running the command: ``synthscene generate scene.yaml --plugin mypkg.randomizers``
(repeatable), :func:`load_plugins` (or ``synthscene.generate(..., plugins=[...])``), or
installed packages that declare the entry-point group ``synthscene.plugins``
(:data:`ENTRY_POINT_GROUP`), loaded the first time a scenario names something that is not
built in (not before: a broken installed plug-in stops only the runs that need one).
Every worker process (local or Ray) loads the same plug-ins before its first frame. A run's
manifest records each plug-in's module, version and source hash; ``--resume`` with different
plug-in code is refused, naming the plug-in.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import importlib.metadata
import importlib.util
import logging
import re
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from synthscene.core.state import Camera, Light, Material, SceneObject, SceneState
from synthscene.errors import PluginError
from synthscene.randomize.effect_registry import EFFECTS, register_effect
from synthscene.randomize.extensions import (
    CAMERA_SAMPLERS,
    HOOK_STAGES,
    PLACEMENTS,
    SCENE_HOOKS,
    ObjectPool,
    register_camera_sampler,
    register_placement,
    register_scene_hook,
)
from synthscene.randomize.params import EffectParams, dist_field
from synthscene.randomize.params import RandomizerParams as Params
from synthscene.randomize.registry import Randomizer, Registry, failure
from synthscene.randomize.texture_registry import TEXTURES, register_texture

__all__ = ["CAMERA_SAMPLERS", "EFFECTS", "ENTRY_POINT_GROUP", "HOOK_STAGES", "PLACEMENTS",
           "REGISTRIES", "SCENE_HOOKS", "TEXTURES", "Camera", "EffectParams", "Field", "Light",
           "Material", "ObjectPool", "Params", "PluginInfo", "SceneObject", "SceneState",
           "dist_field", "load_entry_points", "load_plugins", "loaded_plugins",
           "plugins_of", "register_camera_sampler", "register_effect", "register_placement",
           "register_scene_hook", "register_texture", "unload_plugin"]

logger = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "synthscene.plugins"
"""Entry-point group of installed plug-ins: each entry is a module (imported) or a function
(called with no argument) that registers randomizers."""

REGISTRIES: Mapping[str, Registry] = {
    "effect": EFFECTS, "texture": TEXTURES, "placement": PLACEMENTS,
    "camera_sampler": CAMERA_SAMPLERS, "scene_hook": SCENE_HOOKS,
}
"""Every extension point's registry, by kind."""

_MODULE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")


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


_LOADED = _State()


def _file_module_name(path: Path) -> str:
    """The import name of a plug-in file, from its name only (not its folder), so that the same
    file gives the same scenario hash and manifest wherever it lies."""
    return "synthscene_plugin_" + re.sub(r"\W", "_", path.stem)


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


def loaded_plugins() -> tuple[PluginInfo, ...]:
    """The plug-ins loaded in this process (by :func:`load_plugins` or as entry points)."""
    return tuple(_LOADED.by_source.values())


def loaded_hint() -> str:
    """A phrase for "unknown name" errors: which plug-ins are loaded and how to load one."""
    names = ", ".join(sorted({p.source for p in loaded_plugins()})) or "none"
    return (f"plug-ins loaded: {names} (load one with --plugin MODULE_OR_FILE.py, or "
            "synthscene.load_plugins([...]) before reading the scenario)")


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
