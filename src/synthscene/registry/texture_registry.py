"""The texture kinds by name (:data:`TEXTURES`) and the texture specs a scenario configures.

The kinds are ``perlin``, ``checkerboard``, ``stripes``, ``gradient``, ``blobs``, ``uniform`` and
``image``; :func:`parse_texture_spec` configures them from a mapping such as::

    texture:
      probability: 0.8                       # else the plain base colour
      kinds: {choice: [perlin, stripes, image], weights: [2, 1, 1]}
      perlin: {scale_px: {uniform: [16, 64]}, octaves: {randint: [3, 6]}}
      image: {folder: "assets:textures"}

Each kind is a :class:`~synthscene.registry.randomizers.Randomizer`; a built-in's parameter
model, function and row are in its module of :mod:`synthscene.randomize.texture_kinds`, and
:mod:`synthscene.randomize.builtins` registers them. An unknown kind or parameter raises
:class:`~synthscene.errors.ConfigError` listing the valid ones.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import numpy as np
from pydantic import PlainSerializer, PlainValidator, ValidationInfo

from synthscene.errors import AssetError, ConfigError, PluginError
from synthscene.registry.distributions import Choice, Constant, Distribution, parse_distribution
from synthscene.registry.params import RandomizerParams
from synthscene.registry.randomizers import Randomizer, Registry
from synthscene.registry.validation_errors import as_value_error

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
        Its parameter model (fields made with :func:`~synthscene.registry.params.dist_field`
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


MAX_TEXTURE_PX = 4096
"""Longest side of a plug-in's texture, pixels (the textures asked for are far smaller; a GL
implementation may refuse larger ones, and each is held per object and frame)."""


def _checked_texture(entry: Randomizer, texture: Any, size: int | tuple[int, int]) -> np.ndarray:
    """A plug-in's texture, checked: ``(h, w, 3) uint8``, at most :data:`MAX_TEXTURE_PX` a side.

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
    if max(texture.shape[:2]) > MAX_TEXTURE_PX:
        raise PluginError(f"{entry.describe()} returned a {texture.shape[0]} x "
                          f"{texture.shape[1]} texture; a texture may have at most "
                          f"{MAX_TEXTURE_PX} pixels a side (asked for {h} x {w})")
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

    def name_resources(self, where: str) -> None:
        """Tell each kind's prepared resource that has a ``where`` attribute (an image folder's
        index) the scenario field naming it, ``"{where}.{kind}.folder"``, for its messages."""
        for kind, configured in self.configured.items():
            if hasattr(configured.resource, "where"):
                configured.resource.where = f"{where}.{kind}.folder"


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
                resource = entry.guarded(entry.prepare, params, base)
            except AssetError as exc:
                raise ConfigError(source, f"{prefix}{name}.folder", str(exc)) from None
        configured[name] = ConfiguredTexture(entry, params, resource)
    return TextureSpec(float(probability), kinds, configured)


# --------------------------------------------------------------------------------------------
# pydantic field type, for scenario models
# --------------------------------------------------------------------------------------------


def _texture_validator(value: Any, info: ValidationInfo) -> TextureSpec | None:
    if value is None or isinstance(value, TextureSpec):
        return value
    base_dir = (info.context or {}).get("base_dir")
    try:
        return parse_texture_spec(value, source="", field="", base_dir=base_dir)
    except ConfigError as exc:
        raise as_value_error(exc) from None


def _texture_json(spec: TextureSpec | None) -> dict[str, Any] | None:
    """JSON form of a configured texture spec (``model_dump(mode="json")`` of a scenario,
    run hashes)."""
    if spec is None:
        return None
    return {"probability": spec.probability, "kinds": repr(spec.kinds),
            **{name: c.params.model_dump(mode="json") for name, c in spec.configured.items()}}


TextureField = Annotated[TextureSpec | None, PlainValidator(_texture_validator),
                         PlainSerializer(_texture_json)]
"""Annotation for a pydantic field holding an optional texture spec (parsed by
:func:`parse_texture_spec`); relative image folders resolve against the validation context's
``base_dir`` (``Model.model_validate(data, context={"base_dir": folder})``), else the current
folder."""
