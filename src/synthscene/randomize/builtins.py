"""synthscene's own randomizers, registered from one table (:data:`BUILTINS`).

This module is synthscene's own entry point of the group ``synthscene.plugins`` (see
``pyproject.toml``): the built-ins load exactly like an installed plug-in, through the same
``register_*`` functions. The registries import it
(:func:`synthscene.registry.entry_points.load_builtins`) the first time any of them is read, so
it loads the same way in an editable tree whose entry points are not installed. Each row names the
register function, the name a scenario uses, the function and its parameter model, summary and
documentation example; a texture kind's and a sensor effect's row is in its own module, with its
parameters and function (:mod:`synthscene.randomize.texture_kinds`,
:mod:`synthscene.randomize.effect_kinds`). The order of the rows is the order of the reference
(``docs/randomizers.md``).
"""

from __future__ import annotations

from synthscene.randomize.builtin_row import Builtin, builtin
from synthscene.randomize.camera import fixed, shell, top_down
from synthscene.randomize.effect_kinds import (
    brightness,
    contrast,
    defocus_blur,
    gamma,
    gaussian_blur,
    gaussian_noise,
    hue,
    jpeg,
    motion_blur,
    saturation,
    vignetting,
)
from synthscene.randomize.scene import drop
from synthscene.randomize.stable import StableParams, stable
from synthscene.randomize.texture_kinds import (
    blobs,
    checkerboard,
    gradient,
    image,
    perlin,
    stripes,
    uniform,
)
from synthscene.registry.scene_registries import register_camera_sampler, register_placement

__all__ = ["BUILTINS", "register_builtins"]

BUILTINS: tuple[Builtin, ...] = (
    perlin.ROW,
    checkerboard.ROW,
    stripes.ROW,
    gradient.ROW,
    blobs.ROW,
    uniform.ROW,
    image.ROW,
    gaussian_noise.ROW,
    gaussian_blur.ROW,
    motion_blur.ROW,
    defocus_blur.ROW,
    jpeg.ROW,
    brightness.ROW,
    contrast.ROW,
    gamma.ROW,
    hue.ROW,
    saturation.ROW,
    vignetting.ROW,
    builtin(register_placement, "drop", drop,
        summary="objects at random poses in objects.drop_region, clear of each "
                "other, dropped and settled by physics"),
    builtin(register_placement, "stable", stable, params=StableParams,
        summary="objects at rest in their stable poses on support surfaces (the "
                "ground, a fixture's top, a shelf's boards), clear of each other; no "
                "simulation",
        example={"surfaces": ["ground"], "pose_sampling": "probability"}),
    builtin(register_camera_sampler, "shell", shell, summary="on a spherical shell around a "
        "random look-at point, looking at it (look_at, elevation_deg, azimuth_deg, distance_m)"),
    builtin(register_camera_sampler, "top_down", top_down, summary="height_m above a random "
        "look-at point, looking straight down, turned by azimuth_deg"),
    builtin(register_camera_sampler, "fixed", fixed,
        summary="one of the camera section's poses, uniformly"),
)
"""Every built-in randomizer: texture kinds, sensor effects, placements, camera samplers."""


def register_builtins() -> None:
    """Register every row of :data:`BUILTINS` (called once, when this module is imported)."""
    for row in BUILTINS:
        row.add()


register_builtins()
