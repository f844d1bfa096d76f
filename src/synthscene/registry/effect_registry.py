"""The sensor effects by name (:data:`EFFECTS`), applied to the RGB image after labelling.

:func:`parse_effects` configures them from a scenario's list such as::

    effects:
      - {name: gaussian_noise, sigma: {uniform: [0, 6]}, probability: 0.5}
      - {name: jpeg, quality: {randint: [40, 95]}}

Each effect is a :class:`~synthscene.registry.randomizers.Randomizer`; a built-in's parameter
model and row are in its module of :mod:`synthscene.randomize.effect_kinds`, its pixels come
from :mod:`synthscene.randomize.effects`, and :mod:`synthscene.randomize.builtins` registers
them. An unknown effect or parameter raises
:class:`~synthscene.errors.ConfigError` listing the valid ones.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any

import numpy as np
from pydantic import PlainSerializer, PlainValidator

from synthscene.errors import ConfigError, PluginError
from synthscene.registry.params import EffectParams
from synthscene.registry.randomizers import Randomizer, Registry
from synthscene.registry.validation_errors import as_value_error

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

    def apply(self, rgb: np.ndarray, *, rng: np.random.Generator,
              pixel_rng: np.random.Generator | None = None) -> np.ndarray:
        """Apply the effect to ``rgb``, drawing as :meth:`draw` does.

        Parameters
        ----------
        rgb : (H, W, 3) uint8
            Not modified.
        rng : numpy.random.Generator
            Draws the parameters (:meth:`draw`) and, without ``pixel_rng``, what the effect's
            function draws (per-pixel noise).
        pixel_rng : numpy.random.Generator, optional
            Given: what the effect's function draws comes from it instead, so two images
            given copies of one ``rng`` get the same parameters and their own noise (the two
            eyes of a stereo pair).

        Returns
        -------
        (H, W, 3) uint8
            A new array (a copy of ``rgb`` when the effect is not applied).
        """
        drawn = self.draw(rng=rng)
        if drawn is None:
            return rgb.copy()
        out = self.randomizer.call(rgb, rng=rng if pixel_rng is None else pixel_rng, **drawn)
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
                  rng: np.random.Generator,
                  pixel_rng: np.random.Generator | None = None) -> np.ndarray:
    """Apply ``effects`` in order.

    Parameters
    ----------
    effects : list of ConfiguredEffect
    rgb : (H, W, 3) uint8
        Not modified.
    rng : numpy.random.Generator
    pixel_rng : numpy.random.Generator, optional
        The effects' own draws (per-pixel noise), as :meth:`ConfiguredEffect.apply`.

    Returns
    -------
    (H, W, 3) uint8
        A new array.
    """
    out = rgb.copy() if not effects else rgb
    for effect in effects:
        out = effect.apply(out, rng=rng, pixel_rng=pixel_rng)
    return out


# --------------------------------------------------------------------------------------------
# pydantic field type, for scenario models
# --------------------------------------------------------------------------------------------


def _effects_validator(value: Any) -> list[ConfiguredEffect]:
    if isinstance(value, list) and all(isinstance(v, ConfiguredEffect) for v in value):
        return value
    try:
        return parse_effects(value, source="", field="")
    except ConfigError as exc:
        raise as_value_error(exc) from None


def _effects_json(effects: list[ConfiguredEffect]) -> list[dict[str, Any]]:
    """JSON form of configured effects (``model_dump(mode="json")`` of a scenario, run hashes)."""
    return [{"name": e.randomizer.name, **e.params.model_dump(mode="json")} for e in effects]


EffectsField = Annotated[list[ConfiguredEffect], PlainValidator(_effects_validator),
                         PlainSerializer(_effects_json)]
"""Annotation for a pydantic field holding a list of effects (parsed by :func:`parse_effects`;
errors name the item, e.g. ``[1].sigma: ...``)."""
