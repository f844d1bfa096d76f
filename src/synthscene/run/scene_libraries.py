"""Building the asset libraries of a scenario (labelled objects, distractors, fixtures) for a run.

Only the objects' library gives COCO categories; distractor and fixture meshes are rendered (and
collide) but are never labelled. :class:`~synthscene.assets.library.SceneLibraries` looks like an
:class:`~synthscene.assets.library.AssetLibrary` of the objects (``keys``, ``categories``,
``category_of``) to the code that labels, and serves every mesh through ``get`` to the code that
renders and simulates.
"""

from __future__ import annotations

from pathlib import Path

from synthscene.assets.cache import open_cache
from synthscene.assets.image_files import check_image_file
from synthscene.assets.library import (
    AssetLibrary,
    AssetSource,
    SceneLibraries,
    bundled_assets_dir,
)
from synthscene.assets.loaded import LoadedAssets
from synthscene.config.loading import Scenario
from synthscene.errors import AssetError, ConfigError

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


def build_libraries(scenario: Scenario, *, objects: AssetLibrary | None = None,
                    cache_dir: str | Path | None = None) -> SceneLibraries:
    """Index (and, for small libraries, load) the scenario's assets and background images.

    The libraries load through the on-disk asset cache ``cache_dir`` and share one store of
    loaded assets, bounded by ``limits.max_loaded_assets``.

    Parameters
    ----------
    scenario : Scenario
    objects : AssetLibrary, optional
        An already built library of ``scenario.assets`` to reuse (with its own cache and store).
    cache_dir : str, Path or None
        As :func:`synthscene.assets.cache.open_cache`: a folder, None for the default
        (``SYNTHSCENE_CACHE_DIR`` or the platform's user cache folder), ``"none"`` for no cache.

    Raises
    ------
    AssetError
        Naming the scenario file and the field (``assets[i].source``,
        ``distractors.assets[i].source``, ``fixtures[i].source``) of a bad source.
    ConfigError
        If ``background.images`` is not a folder of images.
    """
    spec = scenario.spec
    cache = open_cache(cache_dir)
    loaded = LoadedAssets(spec.limits.max_loaded_assets)

    def sources(entries, field: str) -> list[AssetSource]:
        return [AssetSource(source=e.source, category=getattr(e, "category", None),
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
    libs = SceneLibraries(objects=objects, distractors=distractors, fixtures=fixtures,
                          fixture_keys=tuple(keys), backgrounds=background_images(scenario))
    libs.preload()
    return libs


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
