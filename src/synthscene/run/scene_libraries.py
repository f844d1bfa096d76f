"""Building the asset libraries of a scenario (labelled objects, distractors, fixtures) for a run.

Only the objects' library gives COCO categories; distractor and fixture meshes are rendered (and
collide) but are never labelled. :class:`~synthscene.assets.library.SceneLibraries` looks like an
:class:`~synthscene.assets.library.AssetLibrary` of the objects (``keys``, ``categories``,
``category_of``) to the code that labels, and serves every mesh through ``get`` to the code that
renders and simulates.
"""

from __future__ import annotations

from pathlib import Path

from synthscene.assets.environment_files import ENVIRONMENT_SUFFIXES, read_environment
from synthscene.assets.image_files import check_image_file
from synthscene.assets.library import (
    AssetLibrary,
    AssetSource,
    SceneLibraries,
    bundled_assets_dir,
)
from synthscene.config.lighting import SKY_SOURCE
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


def build_libraries(scenario: Scenario, *, objects: AssetLibrary | None = None
                    ) -> SceneLibraries:
    """Index (and, for small libraries, load) the scenario's assets and background images.

    Parameters
    ----------
    scenario : Scenario
    objects : AssetLibrary, optional
        An already built library of ``scenario.assets`` to reuse.

    Raises
    ------
    AssetError
        Naming the scenario file and the field (``assets[i].source``,
        ``distractors.assets[i].source``, ``fixtures[i].source``) of a bad source.
    ConfigError
        If ``background.images`` is not a folder of images.
    """
    spec = scenario.spec

    def sources(entries, field: str) -> list[AssetSource]:
        return [AssetSource(source=e.source, category=getattr(e, "category", None),
                            base_dir=scenario.base_dir,
                            where=f"{scenario.source}: {field}[{i}].source")
                for i, e in enumerate(entries)]

    def library(entries, field: str) -> AssetLibrary:
        return AssetLibrary(sources(entries, field),
                            max_triangles=spec.limits.max_mesh_triangles)

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
                                max_triangles=spec.limits.max_mesh_triangles)
        for i, source in enumerate(sources(spec.fixtures, "fixtures")):
            matching = AssetLibrary([source]).keys  # indexing only: the keys of this source
            if len(matching) != 1:
                raise AssetError(f"{source.where}: must name exactly one mesh file, got "
                                 f"{source.source!r}")
            keys.append(matching[0])
    libs = SceneLibraries(objects=objects, distractors=distractors, fixtures=fixtures,
                          fixture_keys=tuple(keys), backgrounds=background_images(scenario),
                          environments=environment_files(scenario))
    libs.preload()
    return libs


def scene_libraries(scenario: Scenario,
                    library: AssetLibrary | SceneLibraries | None = None) -> SceneLibraries:
    """``library`` itself if it is a :class:`SceneLibraries`; else the scenario's libraries
    built around it (its objects' library, when given).

    Raises
    ------
    AssetError, ConfigError
        As :func:`build_libraries`.
    """
    if isinstance(library, SceneLibraries):
        return library
    return build_libraries(scenario, objects=library)
