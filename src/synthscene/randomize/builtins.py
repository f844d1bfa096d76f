"""synthscene's own randomizers, registered from one table (:data:`BUILTINS`).

This module is synthscene's own entry point of the group ``synthscene.plugins`` (see
``pyproject.toml``): the built-ins load exactly like an installed plug-in, through the same
``register_*`` functions. The registries import it
(:func:`synthscene.registry.entry_points.load_builtins`) the first time any of them is read, so
it loads the same way in an editable tree whose entry points are not installed. Each row names the
register function, the name a scenario uses, the function and its parameter model, summary and
documentation example; the order of the rows is the order of the reference
(``docs/randomizers.md``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from synthscene.randomize import effects as fx
from synthscene.randomize import textures as tx
from synthscene.randomize.camera import fixed, shell, top_down
from synthscene.randomize.params import (
    BlobsParams,
    BrightnessParams,
    CheckerboardParams,
    ContrastParams,
    DefocusBlurParams,
    GammaParams,
    GaussianBlurParams,
    GaussianNoiseParams,
    GradientParams,
    HueParams,
    ImageParams,
    JpegParams,
    MotionBlurParams,
    PerlinParams,
    SaturationParams,
    StripesParams,
    UniformParams,
    VignettingParams,
)
from synthscene.randomize.scene import drop
from synthscene.randomize.stable import StableParams, stable
from synthscene.registry.effect_registry import register_effect
from synthscene.registry.randomizers import Randomizer
from synthscene.registry.scene_registries import register_camera_sampler, register_placement
from synthscene.registry.texture_registry import register_texture
from synthscene.resources import bundled_dir

__all__ = ["BUILTINS", "Builtin", "register_builtins"]


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


@dataclass(frozen=True)
class Builtin:
    """One row of :data:`BUILTINS`: ``register(name, fn, **options)`` registers it."""

    register: Callable[..., Randomizer]
    name: str
    fn: Callable[..., Any]
    options: Mapping[str, Any]


def _entry(register: Callable[..., Randomizer], name: str, fn: Callable[..., Any],
           **options: Any) -> Builtin:
    return Builtin(register, name, fn, options)


BUILTINS: tuple[Builtin, ...] = (
    _entry(register_texture, "perlin", _run_perlin, params=PerlinParams,
        summary="fractal Perlin (gradient) noise between two colours, tileable",
        example={"scale_px": {"uniform": [16, 64]}, "octaves": 4}),
    _entry(register_texture, "checkerboard", _run_checkerboard, params=CheckerboardParams,
        summary="checkerboard of two colours, random phase",
        example={"cell_px": {"choice": [8, 16, 32]}, "angle_deg": {"uniform": [0, 90]}}),
    _entry(register_texture, "stripes", _run_stripes, params=StripesParams,
        summary="parallel stripes of two colours at a random angle and phase",
        example={"period_px": {"uniform": [10, 40]}, "duty": 0.5}),
    _entry(register_texture, "gradient", _run_gradient, params=GradientParams,
        summary="linear or radial gradient between two colours",
        example={"mode": "radial", "color_a": [1, 1, 1]}),
    _entry(register_texture, "blobs", _run_blobs, params=BlobsParams,
        summary="random blobs of one colour on another (thresholded noise)",
        example={"coverage": {"uniform": [0.2, 0.5]}, "softness": 0}),
    _entry(register_texture, "uniform", _run_uniform, params=UniformParams,
        summary="one random colour",
        example={"color": {"uniform": [[0.2, 0.2, 0.2], [0.8, 0.8, 0.8]]}}),
    _entry(register_texture, "image", _run_image, params=ImageParams,
        summary="random crop of a random image from a folder, resized",
        example={"folder": "assets:textures", "crop_fraction": 1.0},
        prepare=_prepare_image),
    _entry(register_effect, "gaussian_noise", _effect(fx.gaussian_noise, uses_rng=True),
        params=GaussianNoiseParams,
        summary="additive Gaussian noise per pixel and channel",
        example={"name": "gaussian_noise", "sigma": {"uniform": [0, 6]},
        "probability": 0.5}),
    _entry(register_effect, "gaussian_blur", _effect(fx.gaussian_blur), params=GaussianBlurParams,
        summary="isotropic Gaussian blur",
        example={"name": "gaussian_blur", "sigma_px": {"uniform": [0.5, 1.5]},
        "probability": 0.3}),
    _entry(register_effect, "motion_blur", _effect(fx.motion_blur), params=MotionBlurParams,
        summary="linear motion blur (centred line kernel)",
        example={"name": "motion_blur", "length_px": {"randint": [3, 9]},
        "angle_deg": {"uniform": [0, 180]}, "probability": 0.2}),
    _entry(register_effect, "defocus_blur", _effect(fx.defocus_blur), params=DefocusBlurParams,
        summary="out-of-focus blur (disc kernel)",
        example={"name": "defocus_blur", "radius_px": {"uniform": [1, 2.5]},
        "probability": 0.2}),
    _entry(register_effect, "jpeg", _effect(fx.jpeg), params=JpegParams,
        summary="JPEG compression artefacts (encode and decode)",
        example={"name": "jpeg", "quality": {"randint": [40, 95]}}),
    _entry(register_effect, "brightness", _effect(fx.brightness), params=BrightnessParams,
        summary="brightness jitter (multiplicative)",
        example={"name": "brightness", "factor": {"uniform": [0.8, 1.2]}}),
    _entry(register_effect, "contrast", _effect(fx.contrast), params=ContrastParams,
        summary="contrast jitter about the mean grey",
        example={"name": "contrast", "factor": {"uniform": [0.8, 1.2]}}),
    _entry(register_effect, "gamma", _effect(fx.gamma), params=GammaParams,
        summary="gamma curve",
        example={"name": "gamma", "gamma": {"loguniform": [0.7, 1.4]}}),
    _entry(register_effect, "hue", _effect(fx.hue), params=HueParams,
        summary="hue rotation (HSV)",
        example={"name": "hue", "shift_deg": {"uniform": [-15, 15]}, "probability": 0.5}),
    _entry(register_effect, "saturation", _effect(fx.saturation), params=SaturationParams,
        summary="saturation jitter (HSV)",
        example={"name": "saturation", "factor": {"uniform": [0.6, 1.4]}}),
    _entry(register_effect, "vignetting", _effect(fx.vignetting), params=VignettingParams,
        summary="darker corners (radial quadratic falloff)",
        example={"name": "vignetting", "strength": {"uniform": [0.1, 0.4]},
        "probability": 0.5}),
    _entry(register_placement, "drop", drop,
        summary="objects at random poses in objects.drop_region, clear of each "
                "other, dropped and settled by physics"),
    _entry(register_placement, "stable", stable, params=StableParams,
        summary="objects at rest in their stable poses on support surfaces (the "
                "ground, a fixture's top, a shelf's boards), clear of each other; no "
                "simulation",
        example={"surfaces": ["ground"], "pose_sampling": "probability"}),
    _entry(register_camera_sampler, "shell", shell, summary="on a spherical shell around a "
        "random look-at point, looking at it (look_at, elevation_deg, azimuth_deg, distance_m)"),
    _entry(register_camera_sampler, "top_down", top_down, summary="height_m above a random "
        "look-at point, looking straight down, turned by azimuth_deg"),
    _entry(register_camera_sampler, "fixed", fixed,
        summary="one of the camera section's poses, uniformly"),
)
"""Every built-in randomizer: texture kinds, sensor effects, placements, camera samplers."""


def register_builtins() -> None:
    """Register every row of :data:`BUILTINS` (called once, when this module is imported)."""
    for row in BUILTINS:
        row.register(row.name, row.fn, **row.options)


register_builtins()
