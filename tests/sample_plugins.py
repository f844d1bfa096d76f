"""Plug-ins used by tests/test_plugins.py, loaded as a file (``--plugin tests/sample_plugins.py``).

Not a test module: pytest does not import it, so its randomizers are registered only where a
test loads it.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from synthscene.plugins import (
    EffectParams,
    Field,
    Params,
    dist_field,
    register_camera_sampler,
    register_effect,
    register_placement,
    register_scene_hook,
    register_texture,
)


class SpeckleParams(EffectParams):
    """Parameters of ``speckle``."""

    count: dist_field(low=0, high=10000, integer=True) = Field(
        {"randint": [20, 60]}, description="white pixels set")


def speckle(rgb: np.ndarray, *, rng: np.random.Generator, count: int) -> np.ndarray:
    """White specks at random pixels."""
    out = rgb.copy()
    rows = rng.integers(0, rgb.shape[0], size=count)
    cols = rng.integers(0, rgb.shape[1], size=count)
    out[rows, cols] = 255
    return out


class GridParams(Params):
    """Parameters of ``grid``."""

    columns: dist_field(low=1, high=20, integer=True) = Field(3, description="objects a row")
    spacing_m: dist_field(low=0, low_exclusive=True) = Field(0.12, description="pitch, m")


def grid(objects, *, rng: np.random.Generator, region, columns: int,
         spacing_m: float) -> list:
    """Objects on a grid centred in the region, random yaw, just above the ground."""
    count = objects.sample_count(rng=rng)
    out = []
    for i, key in enumerate(objects.sample_assets(count, rng=rng)):
        scale = objects.sample_size(rng=rng)
        row, col = divmod(i, columns)
        yaw = rng.uniform(0, 2 * np.pi)
        pose = np.eye(4)
        pose[:2, :2] = [[np.cos(yaw), -np.sin(yaw)], [np.sin(yaw), np.cos(yaw)]]
        pose[:3, 3] = ((col - (columns - 1) / 2) * spacing_m, row * spacing_m, scale)
        out.append(objects.make(key, scale=scale, world_from_object=pose,
                                material=objects.sample_material(rng=rng)))
    return out


class DimParams(Params):
    """Parameters of ``dim_lights``."""

    factor: dist_field(low=0, high=1) = Field({"uniform": [0.5, 0.9]}, description="scale")


def dim_lights(state, *, rng: np.random.Generator, factor: float):
    """Scale every light's intensity (a scene hook)."""
    lights = tuple(dataclasses.replace(light, intensity=light.intensity * factor)
                   for light in state.lights)
    return dataclasses.replace(state, lights=lights)


def explode(rgb: np.ndarray, *, rng: np.random.Generator) -> np.ndarray:
    """An effect that fails."""
    raise ValueError("boom")


register_effect("speckle", speckle, params=SpeckleParams,
                example={"name": "speckle", "count": 40})
register_effect("explode", explode)
register_placement("grid", grid, params=GridParams, example={"columns": 4})
register_scene_hook("dim_lights", dim_lights, params=DimParams)


class CircleParams(Params):
    """Parameters of ``circle``."""

    radius_m: dist_field(low=0, low_exclusive=True) = Field(1.0, description="radius")
    height_m: dist_field(low=0, low_exclusive=True) = Field(0.5, description="height")
    step_deg: dist_field() = Field(10.0, description="turn per frame")


def circle(camera, *, rng: np.random.Generator, frame: int, radius_m: float, height_m: float,
           step_rad: float) -> np.ndarray:
    """A camera going round the origin, ``step_deg`` a frame, looking at it."""
    from synthscene.randomize.geometry import look_at_opencv

    angle = frame * step_rad
    eye = np.array([radius_m * np.cos(angle), radius_m * np.sin(angle), height_m])
    return look_at_opencv(eye, np.zeros(3))


class BandsParams(Params):
    """Parameters of ``bands``."""

    bands: dist_field(low=1, high=64, integer=True) = Field(4, description="bands")


def bands(*, rng: np.random.Generator, size, bands: int) -> np.ndarray:
    """Horizontal bands of random grey levels."""
    h, w = (size, size) if np.isscalar(size) else size
    levels = rng.integers(0, 256, size=bands).astype(np.uint8)
    rows = levels[(np.arange(h) * bands) // h]
    return np.repeat(rows[:, None, None], w, axis=1).repeat(3, axis=2)


def flat_texture(*, rng: np.random.Generator, size) -> np.ndarray:
    """A texture of the wrong shape."""
    return np.zeros((4, 4), np.uint8)


register_camera_sampler("circle", circle, params=CircleParams)
register_texture("bands", bands, params=BandsParams)
register_texture("flat_texture", flat_texture)
