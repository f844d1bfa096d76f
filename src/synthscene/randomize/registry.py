"""Randomizers by name: procedural and image textures, and sensor effects.

Two registries map the names a scenario uses to randomizers:

- :data:`TEXTURES`, the texture kinds (``perlin``, ``checkerboard``, ``stripes``, ``gradient``,
  ``blobs``, ``uniform``, ``image``), configured by :func:`parse_texture_spec` from a mapping
  such as::

      texture:
        probability: 0.8                       # else the plain base colour
        kinds: {choice: [perlin, stripes, image], weights: [2, 1, 1]}
        perlin: {scale_px: {uniform: [16, 64]}, octaves: {randint: [3, 6]}}
        image: {folder: "assets:textures"}

- :data:`EFFECTS`, the sensor effects applied to the RGB after labelling, configured by
  :func:`parse_effects` from a list such as::

      effects:
        - {name: gaussian_noise, sigma: {uniform: [0, 6]}, probability: 0.5}
        - {name: jpeg, quality: {randint: [40, 95]}}

Each :class:`Randomizer` has a name, a one-line summary, a pydantic parameter model
(:mod:`synthscene.randomize.params`), a YAML example and the function that applies drawn
parameters. An unknown name or parameter raises :class:`~synthscene.errors.ConfigError` listing
the valid ones. :func:`registry_markdown` renders the reference table in ``docs/randomizers.md``
from the registries themselves, so the documentation cannot drift from the code.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import numpy as np
from pydantic import (
    BaseModel,
    PlainSerializer,
    PlainValidator,
    ValidationError,
    ValidationInfo,
)

from synthscene.errors import AssetError, ConfigError, PluginError, SynthsceneError
from synthscene.randomize import effects as fx
from synthscene.randomize import textures as tx
from synthscene.randomize.distributions import Choice, Constant, Distribution, parse_distribution
from synthscene.randomize.params import (
    BlobsParams,
    BrightnessParams,
    CheckerboardParams,
    ContrastParams,
    DefocusBlurParams,
    EffectParams,
    GammaParams,
    GaussianBlurParams,
    GaussianNoiseParams,
    GradientParams,
    HueParams,
    ImageParams,
    JpegParams,
    MotionBlurParams,
    PerlinParams,
    RandomizerParams,
    SaturationParams,
    StripesParams,
    UniformParams,
    VignettingParams,
    field_range,
)
from synthscene.resources import bundled_dir

# --------------------------------------------------------------------------------------------
# Registry machinery
# --------------------------------------------------------------------------------------------


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
            If a plug-in's ``run`` raises anything but a :class:`SynthsceneError`.
        """
        if self.builtin:
            return self.run(*args, **kwargs)
        try:
            return self.run(*args, **kwargs)
        except SynthsceneError as exc:
            if isinstance(exc, PluginError):
                raise
            raise PluginError(f"{self.describe()} failed: {_one_line(exc)}") from None
        except Exception as exc:  # noqa: BLE001 - any failure of user code, reported as input
            raise PluginError(f"{self.describe()} failed: {type(exc).__name__}: "
                              f"{_one_line(exc)}") from None

    def describe(self) -> str:
        """``"plug-in 'rain' (module mymod)"``, for messages."""
        return f"plug-in '{self.name}' (module {self.module})"


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text[:500] + ("..." if len(text) > 500 else "")


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

    Entries are added with :meth:`add`, which is what :func:`register_effect`,
    :func:`register_texture` and the ``register_*`` functions of :mod:`synthscene.plugins` call
    for built-ins and plug-ins alike.
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
        return self._entries[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def lookup(self, name: Any, *, source: str, field: str) -> Randomizer:
        """Return the randomizer called ``name``.

        Raises
        ------
        ConfigError
            If there is none; the message lists the valid names.
        """
        if isinstance(name, str) and name in self._entries:
            return self._entries[name]
        if isinstance(name, str) and _load_entry_points():
            if name in self._entries:  # an installed package's plug-in, loaded just now
                return self._entries[name]
        raise ConfigError(source, field, f"unknown {self.what} {name!r}; valid {self.what}s: "
                                         f"{', '.join(self._entries)}; {_plugins_hint()}")

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
                msg = (f"unknown parameter '{loc}' for {self.what} '{name}'; valid parameters: "
                       f"{', '.join(parameter_names(entry.params))}")
            else:
                msg = err["msg"]
                for prefix in ("Value error, ", "Assertion failed, "):
                    msg = msg.removeprefix(prefix)
            raise ConfigError(source, where, msg) from None


def _qualname(fn: Any) -> str:
    return f"{_defining_module(fn)}.{getattr(fn, '__qualname__', type(fn).__qualname__)}"


def _load_entry_points() -> bool:
    """Load the installed packages' plug-ins if not done yet; True if that added any."""
    from synthscene import plugins  # the loader sits above the registries

    return plugins.load_entry_points()


def _plugins_hint() -> str:
    from synthscene import plugins

    return plugins.loaded_hint()


def parameter_names(model: type[BaseModel]) -> list[str]:
    """The parameters of a model in documentation order: the model's own, then inherited ones
    (e.g. colours), then ``probability``."""
    inherited = {n for base in model.__bases__ if issubclass(base, BaseModel)
                 for n in base.model_fields}
    own = [n for n in model.model_fields if n not in inherited]
    names = [n for n in model.model_fields if n in own and n != "probability"]
    names += [n for n in model.model_fields if n not in own and n != "probability"]
    return names + (["probability"] if "probability" in model.model_fields else [])


# --------------------------------------------------------------------------------------------
# Textures
# --------------------------------------------------------------------------------------------


def _resolve_folder(folder: str, base_dir: Path) -> Path:
    if folder.startswith("assets:"):
        return bundled_dir("assets") / folder[len("assets:"):]
    path = Path(folder).expanduser()
    return path if path.is_absolute() else base_dir / path


def _prepare_image(params: ImageParams, base_dir: Path) -> tx.ImageTextureFolder:
    return tx.ImageTextureFolder(_resolve_folder(params.folder, base_dir))


def _run_perlin(*, rng: np.random.Generator, size, **d) -> np.ndarray:
    return tx.perlin_texture(size, rng=rng, **d)


def _run_checkerboard(*, rng: np.random.Generator, size, **d) -> np.ndarray:
    return tx.checkerboard_texture(size, rng=rng, **d)


def _run_stripes(*, rng: np.random.Generator, size, **d) -> np.ndarray:
    return tx.stripes_texture(size, rng=rng, **d)


def _run_gradient(*, rng: np.random.Generator, size, **d) -> np.ndarray:
    return tx.gradient_texture(size, **d)


def _run_blobs(*, rng: np.random.Generator, size, **d) -> np.ndarray:
    return tx.blobs_texture(size, rng=rng, **d)


def _run_uniform(*, rng: np.random.Generator, size, **d) -> np.ndarray:
    return tx.uniform_texture(size, **d)


def _run_image(*, rng: np.random.Generator, size, resource: tx.ImageTextureFolder,
               crop_fraction: float, folder: str) -> np.ndarray:
    return resource.sample(rng=rng, size=size, crop_fraction=crop_fraction)


TEXTURES = Registry("texture kind")
"""Texture kinds by name."""


def register_texture(name: str, fn: Callable[..., np.ndarray], *,
                     params: type[RandomizerParams] | None = None, summary: str = "",
                     example: Mapping[str, Any] | None = None,
                     prepare: Callable[[Any, Path], Any] | None = None) -> Randomizer:
    """Register a texture kind, usable in any ``texture:`` mapping of a scenario.

    Parameters
    ----------
    name : str
        The kind's name in YAML (``kinds: [NAME]``, parameters under ``NAME:``).
    fn : callable
        ``fn(*, rng, size, **params) -> (h, w, 3) uint8`` sRGB, ``size`` being ``(h, w)`` or
        one int (both sides); ``params`` are the drawn values of ``params``' fields. It must
        draw only from ``rng``.
    params : type[RandomizerParams], optional
        Its parameter model (fields made with :func:`~synthscene.randomize.params.dist_field`
        take the distribution syntax); none if omitted.
    summary : str, optional
        One line for ``docs/randomizers.md`` (default: the first line of ``fn``'s docstring).
    example : mapping, optional
        Example parameters for the documentation.
    prepare : callable, optional
        ``prepare(params, base_dir)`` builds a resource when the scenario is read, passed to
        ``fn`` as ``resource=``.

    Returns
    -------
    Randomizer

    Raises
    ------
    ValueError
        If the name is taken or not an identifier, or ``params`` is not a
        :class:`RandomizerParams`.
    """
    return TEXTURES.register(name, fn, params=params, summary=summary, example=example,
                             prepare=prepare)


def _summary(fn: Any) -> str:
    doc = (getattr(fn, "__doc__", None) or "").strip()
    return doc.splitlines()[0].rstrip(".") if doc else ""


register_texture("perlin", _run_perlin, params=PerlinParams,
                 summary="fractal Perlin (gradient) noise between two colours, tileable",
                 example={"scale_px": {"uniform": [16, 64]}, "octaves": 4})
register_texture("checkerboard", _run_checkerboard, params=CheckerboardParams,
                 summary="checkerboard of two colours, random phase",
                 example={"cell_px": {"choice": [8, 16, 32]}, "angle_deg": {"uniform": [0, 90]}})
register_texture("stripes", _run_stripes, params=StripesParams,
                 summary="parallel stripes of two colours at a random angle and phase",
                 example={"period_px": {"uniform": [10, 40]}, "duty": 0.5})
register_texture("gradient", _run_gradient, params=GradientParams,
                 summary="linear or radial gradient between two colours",
                 example={"mode": "radial", "color_a": [1, 1, 1]})
register_texture("blobs", _run_blobs, params=BlobsParams,
                 summary="random blobs of one colour on another (thresholded noise)",
                 example={"coverage": {"uniform": [0.2, 0.5]}, "softness": 0})
register_texture("uniform", _run_uniform, params=UniformParams, summary="one random colour",
                 example={"color": {"uniform": [[0.2, 0.2, 0.2], [0.8, 0.8, 0.8]]}})
register_texture("image", _run_image, params=ImageParams,
                 summary="random crop of a random image from a folder, resized",
                 example={"folder": "assets:textures", "crop_fraction": 1.0},
                 prepare=_prepare_image)

PROCEDURAL_KINDS = ("perlin", "checkerboard", "stripes", "gradient", "blobs", "uniform")
"""The texture kinds drawn when a texture spec names no ``kinds``."""


@dataclass(frozen=True)
class ConfiguredTexture:
    """A texture kind with validated parameters (and its prepared resource, if any)."""

    randomizer: Randomizer
    params: RandomizerParams
    resource: Any = None

    def sample(self, *, rng: np.random.Generator, size: int | tuple[int, int]) -> np.ndarray:
        """Draw the parameters, then the texture: ``(H, W, 3) uint8`` sRGB, ``size`` being
        ``(height, width)`` or one int."""
        drawn = self.params.draw(rng=rng)
        if self.randomizer.prepare is not None:
            drawn["resource"] = self.resource
        texture = self.randomizer.call(rng=rng, size=size, **drawn)
        if not self.randomizer.builtin:
            texture = _checked_texture(self.randomizer, texture, size)
        return texture


def _checked_texture(entry: Randomizer, texture: Any, size: int | tuple[int, int]) -> np.ndarray:
    """A plug-in's texture, checked: ``(h, w, 3) uint8``.

    Raises
    ------
    PluginError
        Naming the plug-in and what it returned.
    """
    h, w = (size, size) if np.isscalar(size) else size
    if not (isinstance(texture, np.ndarray) and texture.dtype == np.uint8
            and texture.ndim == 3 and texture.shape[2] == 3 and texture.shape[0] >= 1
            and texture.shape[1] >= 1):
        got = (f"{texture.dtype} array of shape {texture.shape}"
               if isinstance(texture, np.ndarray) else type(texture).__name__)
        raise PluginError(f"{entry.describe()} returned a {got}; a texture is an (h, w, 3) "
                          f"uint8 array (asked for {h} x {w})")
    return texture


@dataclass(frozen=True)
class TextureSpec:
    """A configured texture randomizer (from :func:`parse_texture_spec`).

    Attributes
    ----------
    probability : float
        Chance that a draw gives a texture at all.
    kinds : Distribution
        Over kind names (a ``Constant`` or ``Choice``).
    configured : mapping of str to ConfiguredTexture
        Every kind ``kinds`` can draw.
    """

    probability: float
    kinds: Distribution
    configured: Mapping[str, ConfiguredTexture] = field(default_factory=dict)

    def sample(self, *, rng: np.random.Generator,
               size: int | tuple[int, int]) -> np.ndarray | None:
        """Draw a texture, or None (no texture: use the plain base colour).

        Draws, in order: whether to texture (only if ``probability < 1``), the kind, the kind's
        parameters, then the texture itself.

        Parameters
        ----------
        rng : numpy.random.Generator
        size : int or (int, int)
            ``(height, width)`` of the texture in pixels.

        Returns
        -------
        (H, W, 3) uint8 or None
            sRGB texture; None with probability ``1 - probability``.

        Raises
        ------
        AssetError
            If an image texture's file cannot be read or decoded (naming the file).
        """
        if self.probability < 1.0 and not rng.random() < self.probability:
            return None
        kind = self.kinds.sample(rng)
        return self.configured[kind].sample(rng=rng, size=size)


_SPEC_KEYS = ("probability", "kinds")


def _parse_kinds(raw: Any, *, source: str, field: str) -> Distribution:
    where = f"{field}.kinds" if field else "kinds"
    try:
        if isinstance(raw, str):
            dist: Distribution = Constant(raw)
        elif isinstance(raw, (list, tuple)):
            if not raw:
                raise ValueError("must name at least one kind")
            dist = Choice(tuple(raw))
        elif isinstance(raw, Mapping):
            dist = parse_distribution(dict(raw), numeric=False)
        else:
            raise ValueError(f"must be a kind name, a list of kinds or {{choice: [...], "
                             f"weights: [...]}}, got {raw!r}")
        if not isinstance(dist, (Choice, Constant)):
            raise ValueError(f"must be a kind name, a list or a {{choice: [...]}}, got {raw!r}")
    except ValueError as exc:
        raise ConfigError(source, where, str(exc)) from None
    for option in dist.options if isinstance(dist, Choice) else (dist.value,):
        TEXTURES.lookup(option, source=source, field=where)
    return dist


def parse_texture_spec(raw: Any, *, source: str, field: str,
                       base_dir: str | Path | None = None) -> TextureSpec:
    """Validate a texture mapping from a scenario (e.g. ``objects.material.texture``).

    Parameters
    ----------
    raw : mapping
        ``probability`` (number in [0, 1], default 1), ``kinds`` (a kind name, a list of kinds
        drawn equally often, or ``{choice: [...], weights: [...]}``; default all procedural
        kinds, :data:`PROCEDURAL_KINDS`), and optionally one mapping of parameters per kind, named
        after the kind (see ``docs/randomizers.md``).
    source : str
        The scenario file, for messages.
    field : str
        Dotted path of ``raw`` in the scenario, for messages.
    base_dir : str or Path, optional
        Folder that relative image folders resolve against (the scenario's folder); the current
        folder if omitted.

    Returns
    -------
    TextureSpec

    Raises
    ------
    ConfigError
        For an unknown key, kind or parameter (listing the valid ones), a value out of range, or
        an image folder that is missing or holds no image.
    """
    if not isinstance(raw, Mapping):
        raise ConfigError(source, field, f"a texture is a mapping with keys "
                                         f"{', '.join(_SPEC_KEYS + tuple(TEXTURES))}, got {raw!r}")
    prefix = f"{field}." if field else ""
    valid = ", ".join(_SPEC_KEYS + tuple(TEXTURES))
    for key in raw:
        if key not in _SPEC_KEYS and key not in TEXTURES:
            raise ConfigError(source, f"{prefix}{key}", f"unknown key '{key}'; valid keys: {valid}")
    probability = raw.get("probability", 1.0)
    if isinstance(probability, bool) or not isinstance(probability, (int, float)) \
            or not 0 <= probability <= 1:
        raise ConfigError(source, f"{prefix}probability",
                          f"must be a number in [0, 1], got {probability!r}")
    kinds = _parse_kinds(raw.get("kinds", list(PROCEDURAL_KINDS)), source=source, field=field)
    used = kinds.options if isinstance(kinds, Choice) else (kinds.value,)
    base = Path(base_dir) if base_dir is not None else Path.cwd()
    configured: dict[str, ConfiguredTexture] = {}
    for name in TEXTURES:
        if name not in used and name not in raw:
            continue
        params = TEXTURES.configure(name, raw.get(name), source=source, field=f"{prefix}{name}")
        if name not in used:
            continue  # validated (to catch mistakes) but never drawn
        entry = TEXTURES[name]
        resource = None
        if entry.prepare is not None:
            try:
                resource = entry.prepare(params, base)
            except AssetError as exc:
                raise ConfigError(source, f"{prefix}{name}.folder", str(exc)) from None
        configured[name] = ConfiguredTexture(entry, params, resource)
    return TextureSpec(float(probability), kinds, configured)


# --------------------------------------------------------------------------------------------
# Effects
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _EffectRunner:
    """Calls an effect of :mod:`synthscene.randomize.effects` with drawn parameters (a picklable
    callable, so configured effects can be sent to worker processes)."""

    fn: Callable[..., np.ndarray]
    uses_rng: bool = False

    def __call__(self, rgb: np.ndarray, *, rng: np.random.Generator, **drawn: Any) -> np.ndarray:
        if self.uses_rng:
            return self.fn(rgb, rng=rng, **drawn)
        return self.fn(rgb, **drawn)


def _effect(fn: Callable[..., np.ndarray], *, uses_rng: bool = False) -> _EffectRunner:
    return _EffectRunner(fn, uses_rng)


EFFECTS = Registry("effect", EffectParams)
"""Sensor effects by name."""


def register_effect(name: str, fn: Callable[..., np.ndarray], *,
                    params: type[EffectParams] | None = None, summary: str = "",
                    example: Mapping[str, Any] | None = None) -> Randomizer:
    """Register a sensor effect, usable in a scenario's ``effects:`` list.

    Parameters
    ----------
    name : str
        The effect's name in YAML (``effects: [{name: NAME, ...}]``).
    fn : callable
        ``fn(rgb, *, rng, **params) -> rgb``: ``rgb`` is ``(H, W, 3) uint8`` (do not modify
        it); return a new ``(H, W, 3) uint8`` image of the same size. Pixels only: an effect
        must not move content, since the labels stay as they are. It must draw only from
        ``rng``.
    params : type[EffectParams], optional
        Its parameter model (with ``probability``); none but ``probability`` if omitted.
    summary : str, optional
        One line for ``docs/randomizers.md`` (default: the first line of ``fn``'s docstring).
    example : mapping, optional
        A whole list item for the documentation, e.g. ``{"name": "rain", "drops": 200}``.

    Returns
    -------
    Randomizer

    Raises
    ------
    ValueError
        If the name is taken or not an identifier, or ``params`` is not an
        :class:`EffectParams`.
    """
    return EFFECTS.register(name, fn, params=params, summary=summary,
                            example=example or {"name": name})


register_effect("gaussian_noise", _effect(fx.gaussian_noise, uses_rng=True),
                params=GaussianNoiseParams,
                summary="additive Gaussian noise per pixel and channel",
                example={"name": "gaussian_noise", "sigma": {"uniform": [0, 6]},
                         "probability": 0.5})
register_effect("gaussian_blur", _effect(fx.gaussian_blur), params=GaussianBlurParams,
                summary="isotropic Gaussian blur",
                example={"name": "gaussian_blur", "sigma_px": {"uniform": [0.5, 1.5]},
                         "probability": 0.3})
register_effect("motion_blur", _effect(fx.motion_blur), params=MotionBlurParams,
                summary="linear motion blur (centred line kernel)",
                example={"name": "motion_blur", "length_px": {"randint": [3, 9]},
                         "angle_deg": {"uniform": [0, 180]}, "probability": 0.2})
register_effect("defocus_blur", _effect(fx.defocus_blur), params=DefocusBlurParams,
                summary="out-of-focus blur (disc kernel)",
                example={"name": "defocus_blur", "radius_px": {"uniform": [1, 2.5]},
                         "probability": 0.2})
register_effect("jpeg", _effect(fx.jpeg), params=JpegParams,
                summary="JPEG compression artefacts (encode and decode)",
                example={"name": "jpeg", "quality": {"randint": [40, 95]}})
register_effect("brightness", _effect(fx.brightness), params=BrightnessParams,
                summary="brightness jitter (multiplicative)",
                example={"name": "brightness", "factor": {"uniform": [0.8, 1.2]}})
register_effect("contrast", _effect(fx.contrast), params=ContrastParams,
                summary="contrast jitter about the mean grey",
                example={"name": "contrast", "factor": {"uniform": [0.8, 1.2]}})
register_effect("gamma", _effect(fx.gamma), params=GammaParams,
                summary="gamma curve",
                example={"name": "gamma", "gamma": {"loguniform": [0.7, 1.4]}})
register_effect("hue", _effect(fx.hue), params=HueParams,
                summary="hue rotation (HSV)",
                example={"name": "hue", "shift_deg": {"uniform": [-15, 15]}, "probability": 0.5})
register_effect("saturation", _effect(fx.saturation), params=SaturationParams,
                summary="saturation jitter (HSV)",
                example={"name": "saturation", "factor": {"uniform": [0.6, 1.4]}})
register_effect("vignetting", _effect(fx.vignetting), params=VignettingParams,
                summary="darker corners (radial quadratic falloff)",
                example={"name": "vignetting", "strength": {"uniform": [0.1, 0.4]},
                         "probability": 0.5})



@dataclass(frozen=True)
class ConfiguredEffect:
    """A sensor effect with validated parameters (from :func:`parse_effects`)."""

    randomizer: Randomizer
    params: EffectParams

    @property
    def name(self) -> str:
        """The effect's registry name."""
        return self.randomizer.name

    def draw(self, *, rng: np.random.Generator) -> dict[str, Any] | None:
        """Draw whether the effect applies (only if ``probability < 1``) and its parameters.

        Returns
        -------
        dict or None
            The drawn parameters (``_deg`` fields as ``_rad``), or None if not applied.
        """
        p = self.params.probability
        if p < 1.0 and not rng.random() < p:
            return None
        return self.params.draw(rng=rng)

    def apply(self, rgb: np.ndarray, *, rng: np.random.Generator) -> np.ndarray:
        """Apply the effect to ``rgb``, drawing as :meth:`draw` does.

        Parameters
        ----------
        rgb : (H, W, 3) uint8
            Not modified.
        rng : numpy.random.Generator

        Returns
        -------
        (H, W, 3) uint8
            A new array (a copy of ``rgb`` when the effect is not applied).
        """
        drawn = self.draw(rng=rng)
        if drawn is None:
            return rgb.copy()
        out = self.randomizer.call(rgb, rng=rng, **drawn)
        if not self.randomizer.builtin and not (
                isinstance(out, np.ndarray) and out.dtype == np.uint8 and out.shape == rgb.shape):
            got = (f"{out.dtype} array of shape {out.shape}" if isinstance(out, np.ndarray)
                   else type(out).__name__)
            raise PluginError(f"{self.randomizer.describe()} returned a {got}; an effect returns "
                              f"a uint8 image of the input's shape {rgb.shape}")
        return out


def parse_effects(raw: Any, *, source: str, field: str) -> list[ConfiguredEffect]:
    """Validate a list of sensor effects from a scenario.

    Parameters
    ----------
    raw : list or None
        Each item is ``{name: EFFECT, PARAM: value, ..., probability: p}`` or just the effect's
        name (all defaults). None is an empty list.
    source : str
        The scenario file, for messages.
    field : str
        Dotted path of the list in the scenario (e.g. ``"effects"``), for messages.

    Returns
    -------
    list of ConfiguredEffect
        In the order given, which is the order they are applied in.

    Raises
    ------
    ConfigError
        For an unknown effect or parameter (listing the valid ones) or a value out of range,
        naming ``source`` and the item's field, e.g. ``effects[1].sigma``.
    """
    if raw is None:
        return []
    if not isinstance(raw, (list, tuple)):
        raise ConfigError(source, field, f"effects must be a list of {{name: EFFECT, ...}}, "
                                         f"got {raw!r}")
    out = []
    for i, item in enumerate(raw):
        where = f"{field}[{i}]"
        if isinstance(item, str):
            item = {"name": item}
        if not isinstance(item, Mapping) or "name" not in item:
            raise ConfigError(source, where, f"an effect is {{name: EFFECT, ...}} with EFFECT "
                                             f"one of {', '.join(EFFECTS)}, got {item!r}")
        name = item["name"]
        entry = EFFECTS.lookup(name, source=source, field=f"{where}.name")
        params = {k: v for k, v in item.items() if k != "name"}
        out.append(ConfiguredEffect(entry, EFFECTS.configure(name, params, source=source,
                                                             field=where)))
    return out


def apply_effects(effects: list[ConfiguredEffect], rgb: np.ndarray, *,
                  rng: np.random.Generator) -> np.ndarray:
    """Apply ``effects`` in order.

    Parameters
    ----------
    effects : list of ConfiguredEffect
    rgb : (H, W, 3) uint8
        Not modified.
    rng : numpy.random.Generator

    Returns
    -------
    (H, W, 3) uint8
        A new array.
    """
    out = rgb.copy() if not effects else rgb
    for effect in effects:
        out = effect.apply(out, rng=rng)
    return out


# --------------------------------------------------------------------------------------------
# pydantic field types, for scenario models
# --------------------------------------------------------------------------------------------


def _pydantic_error(exc: ConfigError) -> ValueError:
    return ValueError(f"{exc.field}: {exc.message}" if exc.field else exc.message)


def _effects_validator(value: Any) -> list[ConfiguredEffect]:
    if isinstance(value, list) and all(isinstance(v, ConfiguredEffect) for v in value):
        return value
    try:
        return parse_effects(value, source="", field="")
    except ConfigError as exc:
        raise _pydantic_error(exc) from None


def _texture_validator(value: Any, info: ValidationInfo) -> TextureSpec | None:
    if value is None or isinstance(value, TextureSpec):
        return value
    base_dir = (info.context or {}).get("base_dir")
    try:
        return parse_texture_spec(value, source="", field="", base_dir=base_dir)
    except ConfigError as exc:
        raise _pydantic_error(exc) from None


def _effects_json(effects: list[ConfiguredEffect]) -> list[dict[str, Any]]:
    """JSON form of configured effects (``model_dump(mode="json")`` of a scenario, run hashes)."""
    return [{"name": e.randomizer.name, **e.params.model_dump(mode="json")} for e in effects]


def _texture_json(spec: TextureSpec | None) -> dict[str, Any] | None:
    """JSON form of a configured texture spec (see :func:`_effects_json`)."""
    if spec is None:
        return None
    return {"probability": spec.probability, "kinds": repr(spec.kinds),
            **{name: c.params.model_dump(mode="json") for name, c in spec.configured.items()}}


EffectsField = Annotated[list[ConfiguredEffect], PlainValidator(_effects_validator),
                         PlainSerializer(_effects_json)]
"""Annotation for a pydantic field holding a list of effects (parsed by :func:`parse_effects`;
errors name the item, e.g. ``[1].sigma: ...``)."""

TextureField = Annotated[TextureSpec | None, PlainValidator(_texture_validator),
                         PlainSerializer(_texture_json)]
"""Annotation for a pydantic field holding an optional texture spec (parsed by
:func:`parse_texture_spec`); relative image folders resolve against the validation context's
``base_dir`` (``Model.model_validate(data, context={"base_dir": folder})``), else the current
folder."""


# --------------------------------------------------------------------------------------------
# Documentation
# --------------------------------------------------------------------------------------------


_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_./-]*")


def _yaml_inline(value: Any) -> str:
    """``value`` in YAML flow style, e.g. ``{uniform: [0, 6]}``."""
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {_yaml_inline(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_yaml_inline(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        plain = _PLAIN.fullmatch(value) and value not in ("true", "false", "null", "yes", "no")
        return value if plain else json.dumps(value)
    return repr(value)


def _param_cell(model: type[BaseModel]) -> str:
    lines = []
    for name in parameter_names(model):
        info = model.model_fields[name]
        spec = field_range(model, name)
        allowed = spec.describe() if spec is not None else "text"
        if name == "probability":
            lines.append(f"`probability` = `{_yaml_inline(info.default)}`")
            continue
        lines.append(f"`{name}` = `{_yaml_inline(info.default)}` ({allowed}): "
                     f"{info.description or ''}")
    return "<br>".join(lines)


def example_config(registry: Registry, name: str) -> Any:
    """The documented YAML example of randomizer ``name``: an effect's list item, or a whole
    ``texture`` mapping drawing only that kind."""
    from synthscene.randomize import extensions as ext

    entry = registry[name]
    if registry is TEXTURES:
        return {"texture": {"kinds": [name], name: entry.example}}
    if registry is ext.PLACEMENTS:
        return {"objects": {"placement": {"name": name, **entry.example}}}
    if registry is ext.CAMERA_SAMPLERS:
        return {"camera": {"sampler": {"name": name, **entry.example} if entry.example
                           else name}}
    if registry is ext.SCENE_HOOKS:
        return {"hooks": [{"name": name, **entry.example}]}
    return entry.example


def _table(registry: Registry, plugins: bool = False) -> list[str]:
    rows = ["| name | parameters (default; allowed values): meaning | YAML example |",
            "|---|---|---|"]
    for name, entry in registry.items():
        if not (entry.builtin or plugins):
            continue
        example = example_config(registry, name)
        origin = "" if entry.builtin else f" (plug-in, module `{entry.module}`)"
        cell = _param_cell(entry.params)
        rows.append(f"| `{name}` | {entry.summary}{origin}.{'<br>' + cell if cell else ''} | "
                    f"`{_yaml_inline(example)}` |")
    if len(rows) == 2:
        rows = [f"No {registry.what} is registered."]
    return rows


def registry_markdown(*, plugins: bool = False) -> str:
    """Render the reference of every randomizer, with defaults and examples.

    Parameters
    ----------
    plugins : bool
        Also list the plug-ins' randomizers loaded in this process (``synthscene docs
        --plugin MODULE``); by default only synthscene's own, as ``docs/randomizers.md`` has.

    Returns
    -------
    str
        Markdown (the content of ``docs/randomizers.md``), generated from the registries
        (:data:`TEXTURES`, :data:`EFFECTS` and those of
        :mod:`synthscene.randomize.extensions`) and their parameter models, ending in a
        newline.
    """
    from synthscene.randomize import extensions as ext

    kinds = ", ".join(PROCEDURAL_KINDS)
    lines = [
        "# Randomizers",
        "",
        "<!-- Generated by synthscene.randomize.registry.registry_markdown(); "
        "regenerate with `python scripts/make_docs.py`. Do not edit by hand. -->",
        "",
        "Every numeric parameter takes the distribution syntax used throughout a scenario: a "
        "constant, `{uniform: [a, b]}`, `{normal: [mean, std]}`, "
        "`{truncnormal: [mean, std, a, b]}`, `{loguniform: [a, b]}`, `{randint: [a, b]}` or "
        "`{choice: [...], weights: [...]}`. A distribution whose draws could leave a "
        "parameter's allowed range is refused when the scenario is read. Parameters ending in "
        "`_deg` are in degrees; `_px` ones in pixels (of the texture for textures, of the image "
        "for effects). Colours are sRGB in [0, 1]. An unknown name or parameter is an error "
        "that lists the valid ones.",
        "",
        "## Textures",
        "",
        "A `texture` mapping draws, for each surface and frame: whether to texture it "
        "(`probability`, default 1; otherwise the plain base colour is used), which kind "
        f"(`kinds`: a name, a list drawn equally often, or `{{choice: [...], weights: [...]}}`; "
        f"default: {kinds}), then the kind's parameters, set under a key named after the kind:",
        "",
        "```yaml",
        "texture:",
        "  probability: 0.8",
        "  kinds: {choice: [perlin, stripes, image], weights: [2, 1, 1]}",
        "  perlin: {scale_px: {uniform: [16, 64]}, octaves: {randint: [3, 6]}}",
        "  image: {folder: \"assets:textures\"}",
        "```",
        "",
        *_table(TEXTURES, plugins),
        "",
        "## Sensor effects",
        "",
        "`effects` is a list applied in order to the RGB image after labelling; no effect moves "
        "a pixel, so the labels stay exact. Each item names an effect and sets its parameters; "
        "`probability` (default 1) is the chance it is applied to a frame.",
        "",
        "```yaml",
        "effects:",
        "  - {name: gaussian_noise, sigma: {uniform: [0, 6]}, probability: 0.5}",
        "  - {name: motion_blur, length_px: {randint: [3, 9]}, angle_deg: {uniform: [0, 180]}, "
        "probability: 0.2}",
        "  - {name: jpeg, quality: {randint: [40, 95]}}",
        "```",
        "",
        *_table(EFFECTS, plugins),
        "",
        "## Object placements",
        "",
        "`objects.placement` chooses the labelled objects (count, assets, sizes, materials, as "
        "the `objects` section says) and their poses before physics. The default is "
        "`{name: drop}`.",
        "",
        *_table(ext.PLACEMENTS, plugins),
        "",
        "## Camera samplers",
        "",
        "`camera.sampler` draws the camera's pose: a name, or `{name: NAME, PARAM: value}` for "
        "a sampler with parameters. The built-in ones take their parameters from the `camera` "
        "section (`look_at`, `elevation_deg`, `azimuth_deg`, `distance_m`, `height_m`, "
        "`poses`); `roll_deg` and the intrinsics are drawn afterwards whichever sampler is "
        "used.",
        "",
        *_table(ext.CAMERA_SAMPLERS, plugins),
        "",
        "## Scene hooks",
        "",
        "`hooks` is a list of functions that turn each frame's scene into a new one, in order: "
        f"`stage: {ext.HOOK_STAGES[0]}` (the default) on the sampled scene before physics, "
        f"`stage: {ext.HOOK_STAGES[1]}` on the finished scene just before rendering.",
        "",
        *_table(ext.SCENE_HOOKS, plugins),
        "",
        "## Plug-ins",
        "",
        "Each table also lists the plug-ins' randomizers when made with "
        "`synthscene docs --plugin MODULE`. A plug-in registers its own with "
        "`synthscene.plugins.register_effect`, `register_texture`, `register_placement`, "
        "`register_camera_sampler` or `register_scene_hook` (the functions the built-ins are "
        "registered with) and is loaded by whoever runs the command: `--plugin MODULE` "
        "(or a `.py` file), `synthscene.load_plugins([...])`, or an installed package's entry "
        "point in the group `synthscene.plugins`. A scenario file never imports code.",
        "",
    ]
    return "\n".join(lines)
