"""Building the asset libraries of a scenario (labelled objects, distractors, fixtures) for a run.

Only the objects' library gives COCO categories; distractor and fixture meshes are rendered (and
collide) but are never labelled. :class:`~synthscene.assets.library.SceneLibraries` looks like an
:class:`~synthscene.assets.library.AssetLibrary` of the objects (``keys``, ``categories``,
``category_of``) to the code that labels, and serves every mesh through ``get`` to the code that
renders and simulates.
"""

from __future__ import annotations

import logging
from pathlib import Path

from synthscene.assets.cache import open_cache
from synthscene.assets.environment_files import ENVIRONMENT_SUFFIXES, read_environment
from synthscene.assets.image_files import check_image_file
from synthscene.assets.library import (
    PRELOAD_LIMIT,
    AssetLibrary,
    AssetSource,
    SceneLibraries,
    bundled_assets_dir,
)
from synthscene.assets.loaded import LoadedAssets
from synthscene.assets.screening import screen_scene
from synthscene.config.fields import LENGTH_LIMIT_M, NativeSize
from synthscene.config.lighting import SKY_SOURCE
from synthscene.config.loading import Scenario
from synthscene.errors import AssetError, ConfigError

logger = logging.getLogger(__name__)

NATIVE_SIZE_HINT_M = (0.001, 10.0)
"""Native object sizes outside this range (metres) are warned about: a file's ``unit`` is
probably wrong (a part in millimetres read as metres is 1000 times too large)."""

_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")


def background_images(scenario: Scenario) -> tuple[str, ...]:
    """Sorted image files of ``background.images`` (empty if not set): a folder relative to
    the scenario file, or ``"assets:NAME"`` inside the bundled ``assets/``.

    Raises
    ------
    ConfigError
        If the folder does not exist, holds no image, or holds one that is too large or not a
        regular file (:func:`synthscene.assets.image_files.check_image_file`).
    """
    folder = scenario.spec.background.images
    if folder is None:
        return ()
    if folder.startswith("assets:"):
        path = bundled_assets_dir() / folder[len("assets:"):]
    else:
        path = Path(folder).expanduser()
        if not path.is_absolute():
            path = scenario.base_dir / path
    if not path.is_dir():
        raise ConfigError(scenario.source, "background.images", f"no such folder: {path}")
    files = sorted(str(f) for f in path.rglob("*") if f.suffix.lower() in _IMAGE_SUFFIXES)
    if not files:
        raise ConfigError(scenario.source, "background.images",
                          f"{path} holds no image ({', '.join(_IMAGE_SUFFIXES)})")
    for file in files:
        try:
            check_image_file(file, what="background image")
        except AssetError as exc:
            raise ConfigError(scenario.source, "background.images", str(exc)) from None
    return tuple(files)


def _scenario_path(scenario: Scenario, name: str) -> Path:
    """A path a scenario names: relative to the scenario file, or ``"assets:NAME"`` inside the
    bundled ``assets/``."""
    if name.startswith("assets:"):
        return bundled_assets_dir() / name[len("assets:"):]
    path = Path(name).expanduser()
    return path if path.is_absolute() else scenario.base_dir / path


def environment_files(scenario: Scenario) -> tuple[str, ...]:
    """Sorted environment map files of ``lights.environment.images`` (empty if it is not set or
    is the procedural sky): a file, or a folder searched recursively, relative to the scenario
    file or ``"assets:NAME"`` inside the bundled ``assets/``. Every file is decoded and checked
    once here, so that a bad one stops the run before any frame.

    Raises
    ------
    ConfigError
        Naming the file and ``lights.environment.images``: no such file or folder, a folder
        without environment maps, or a file that is not a valid environment map
        (:func:`synthscene.assets.environment_files.read_environment`).
    """
    spec = scenario.spec.lights.environment
    if spec is None or spec.images == SKY_SOURCE:
        return ()
    field = "lights.environment.images"
    path = _scenario_path(scenario, spec.images)
    if path.is_dir():
        files = sorted(str(f) for f in path.rglob("*")
                       if f.suffix.lower() in ENVIRONMENT_SUFFIXES)
        if not files:
            raise ConfigError(scenario.source, field, f"{path} holds no environment map "
                              f"({', '.join(ENVIRONMENT_SUFFIXES)})")
    elif path.exists():
        files = [str(path)]
    else:
        raise ConfigError(scenario.source, field, f"no such file or folder: {path} (or give "
                          f"{SKY_SOURCE})")
    for file in files:
        try:
            read_environment(file)
        except AssetError as exc:
            raise ConfigError(scenario.source, field, str(exc)) from None
    return tuple(files)


def build_libraries(scenario: Scenario, *, objects: AssetLibrary | None = None,
                    workers: int = 1, cache_dir: str | Path | None = None) -> SceneLibraries:
    """Index the scenario's assets and background images, check every asset and leave out the
    broken ones its sources allow to skip (:func:`synthscene.assets.screening.screen_scene`).

    The libraries load through the on-disk asset cache ``cache_dir`` and share one store of
    loaded assets, bounded by ``limits.max_loaded_mib`` and ``limits.max_loaded_assets``.

    Parameters
    ----------
    scenario : Scenario
    objects : AssetLibrary, optional
        An already built library of ``scenario.assets`` to reuse (with its own cache and store).
    workers : int
        Processes that check a library of more than ``PRELOAD_LIMIT`` assets (smaller ones are
        checked, and kept loaded, in this process).
    cache_dir : str, Path or None
        As :func:`synthscene.assets.cache.open_cache`: a folder, None for the default
        (``SYNTHSCENE_CACHE_DIR`` or the platform's user cache folder), ``"none"`` for no cache.

    Returns
    -------
    SceneLibraries
        With ``skipped`` listing the assets left out.

    Raises
    ------
    AssetError
        Naming the scenario file and the field (``assets[i].source``,
        ``distractors.assets[i].source``, ``fixtures[i].source``) of a bad source, of a broken
        asset whose source says ``on_error: fail``, or of a category all of whose assets are
        broken.
    ConfigError
        If ``background.images`` is not a folder of images.
    """
    # The collision hulls merged while checking, as the run's simulator will merge them
    # (fixtures are its static bodies), so that workers read them from the cache; a run without
    # physics never merges them.
    from synthscene.run.frames import physics_settings  # (frames imports this module)

    physics = physics_settings(scenario)
    budgets = None if not physics.enabled else {
        "objects": physics.hull_budget(False), "distractors": physics.hull_budget(False),
        "fixtures": physics.hull_budget(True)}
    libs = screen_scene(index_libraries(scenario, objects=objects, cache_dir=cache_dir),
                        workers=workers, max_hulls=budgets)
    if (isinstance(scenario.spec.objects.size_m, NativeSize)
            and len(libs.objects) <= PRELOAD_LIMIT):
        check_native_sizes(libs.objects, f"{scenario.source}: objects.size_m")
    return libs


def index_libraries(scenario: Scenario, *, objects: AssetLibrary | None = None,
                    cache_dir: str | Path | None = None) -> SceneLibraries:
    """Index the scenario's assets (objects, distractors when it draws any, fixtures) and
    background images, loading no asset (``synthscene assets`` checks them itself); the
    libraries load through the asset cache ``cache_dir`` (:func:`build_libraries`) and share
    one store of loaded assets, bounded by ``limits.max_loaded_mib`` and
    ``limits.max_loaded_assets``.

    Raises
    ------
    AssetError
        Naming the scenario file and the field of a bad source.
    ConfigError
        If ``background.images`` is not a folder of images.
    """
    spec = scenario.spec
    cache = open_cache(cache_dir)
    loaded = LoadedAssets(spec.limits.max_loaded_assets, spec.limits.max_loaded_mib * 2**20)

    def sources(entries, field: str) -> list[AssetSource]:
        return [AssetSource(source=e.source, category=getattr(e, "category", None),
                            unit=getattr(e, "unit", None), names=getattr(e, "names", None),
                            on_error=getattr(e, "on_error", None),
                            base_dir=scenario.base_dir,
                            where=f"{scenario.source}: {field}[{i}].source")
                for i, e in enumerate(entries)]

    def library(entries, field: str) -> AssetLibrary:
        return AssetLibrary(sources(entries, field),
                            max_triangles=spec.limits.max_mesh_triangles, cache=cache,
                            loaded=loaded)

    if objects is None:
        objects = library(spec.assets, "assets")
    distractors = None
    if spec.distractors.count.support()[1] > 0:
        distractors = library(spec.distractors.assets, "distractors.assets")
    fixtures = None
    keys: list[str] = []
    if spec.fixtures:
        shelves = [AssetSource(source=f"primitive:shelf-{n}", where=f"{scenario.source}: "
                               f"fixtures[{i}].boards")
                   for i, f in enumerate(spec.fixtures) if f.boards is not None
                   for n in range(int(f.boards.support()[0]), int(f.boards.support()[1]) + 1)]
        fixtures = AssetLibrary(sources(spec.fixtures, "fixtures") + shelves,
                                max_triangles=spec.limits.max_mesh_triangles, cache=cache,
                                loaded=loaded)
        for i, source in enumerate(sources(spec.fixtures, "fixtures")):
            matching = AssetLibrary([source]).keys  # indexing only: the keys of this source
            if len(matching) != 1:
                raise AssetError(f"{source.where}: must name exactly one mesh file, got "
                                 f"{source.source!r}")
            keys.append(matching[0])
    return SceneLibraries(objects=objects, distractors=distractors, fixtures=fixtures,
                          fixture_keys=tuple(keys), backgrounds=background_images(scenario),
                          environments=environment_files(scenario))


def check_native_sizes(library: AssetLibrary, where: str) -> None:
    """Refuse objects whose native size is absurd and warn about unlikely ones (``size_m:
    native``): each asset's ``native_size_m`` must be in ``(0, LENGTH_LIMIT_M]``; outside
    :data:`NATIVE_SIZE_HINT_M` one warning names the assets and suggests ``unit``.

    Raises
    ------
    AssetError
        Naming ``where``, the asset and its size.
    """
    unlikely = []
    for key in library.keys:
        size = library.get(key).native_size_m
        if not 0.0 < size <= LENGTH_LIMIT_M:
            raise AssetError(f"{where}: native: asset {key} is {size:g} m across, over "
                             f"{LENGTH_LIMIT_M:g} m; give its assets[i].unit (m, cm or mm)")
        if not NATIVE_SIZE_HINT_M[0] <= size <= NATIVE_SIZE_HINT_M[1]:
            unlikely.append(f"{key} ({size:g} m)")
    if unlikely:
        logger.warning("%s: native: %d asset(s) are unlikely sizes: %s; is assets[i].unit "
                       "right (m, cm or mm)?", where, len(unlikely), ", ".join(unlikely[:5])
                       + (", ..." if len(unlikely) > 5 else ""))


def scene_libraries(scenario: Scenario,
                    library: AssetLibrary | SceneLibraries | None = None, *,
                    cache_dir: str | Path | None = None) -> SceneLibraries:
    """``library`` itself if it is a :class:`SceneLibraries`; else the scenario's libraries
    built around it (its objects' library, when given), through the asset cache ``cache_dir``
    (:func:`build_libraries`).

    Raises
    ------
    AssetError, ConfigError
        As :func:`build_libraries`.
    """
    if isinstance(library, SceneLibraries):
        return library
    return build_libraries(scenario, objects=library, cache_dir=cache_dir)
