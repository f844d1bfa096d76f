"""Drawing a frame's environment light (``lights.environment``) and, for the procedural sky,
its sun (pure: no backend).

The draws come after every other draw of a frame (:func:`with_environment`), so a scenario
without ``lights.environment`` draws exactly what it drew before.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from synthscene.config.lighting import SKY_SOURCE, EnvironmentSpec
from synthscene.core.state import SKY, Environment, Light, SceneState
from synthscene.randomize.color import kelvin_to_rgb
from synthscene.randomize.geometry import aim_negative_z, spherical_offset

__all__ = ["SUN_DISTANCE_M", "sample_environment", "sun_color", "with_environment"]

SUN_DISTANCE_M = 10.0
"""Where the sun's directional light is placed (its position does not light anything)."""
_ELEVATION_STEP_RAD = math.radians(0.5)
_TURBIDITY_STEP = 0.1


def sun_color(elevation_rad: float) -> tuple[float, float, float]:
    """The sun's colour (linear RGB, max 1) at an elevation: a black body of 2500 K at the
    horizon warming up linearly to 5800 K at 40 degrees and above (an approximation of the
    reddening by the longer path through the air, not Preetham's spectral transmittance)."""
    fraction = min(1.0, max(0.0, elevation_rad) / math.radians(40.0))
    return kelvin_to_rgb(2500.0 + 3300.0 * fraction)


def sample_environment(spec: EnvironmentSpec, files: tuple[str, ...], *, visible: bool,
                       rng: np.random.Generator) -> tuple[Environment | None, Light | None]:
    """Draw a frame's environment and the procedural sky's sun.

    Draw order: on or off (``probability``); then a file (of ``files``, unless the sky),
    ``intensity``, ``rotation_deg``; for the sky ``sun_elevation_deg`` (rounded to 0.5 degree,
    so that skies repeat and their prepared maps are reused), ``sun_azimuth_deg``,
    ``turbidity`` (rounded to 0.1) and ``sun_intensity``.

    Parameters
    ----------
    spec : EnvironmentSpec
    files : tuple of str
        The environment map files (empty for the sky).
    visible : bool
        ``background.environment``: the environment is seen behind the scene.
    rng : numpy.random.Generator

    Returns
    -------
    environment : Environment or None
        None when the frame draws none.
    sun : Light or None
        The sun's directional light (sky with ``sun_intensity`` > 0 only), shining from the
        direction of the sun in the sky: elevation ``sun_elevation``, azimuth
        ``sun_azimuth + rotation``.
    """
    if not rng.uniform() < spec.probability:
        return None, None
    source = SKY if spec.images == SKY_SOURCE else files[int(rng.integers(0, len(files)))]
    intensity = float(spec.intensity.sample(rng))
    rotation = float(spec.rotation_rad.sample(rng))
    if source != SKY:
        return Environment(source=source, intensity=intensity, rotation_rad=rotation,
                           visible=visible), None
    sky = spec.sky
    elevation = round(float(sky.sun_elevation_rad.sample(rng)) / _ELEVATION_STEP_RAD)
    elevation = min(elevation * _ELEVATION_STEP_RAD, math.pi / 2)
    rotation += float(sky.sun_azimuth_rad.sample(rng))
    turbidity = round(float(sky.turbidity.sample(rng)) / _TURBIDITY_STEP) * _TURBIDITY_STEP
    turbidity = float(np.clip(turbidity, 1.7, 10.0))
    sun_intensity = float(sky.sun_intensity.sample(rng))
    environment = Environment(source=SKY, intensity=intensity, rotation_rad=rotation,
                              sun_elevation_rad=elevation, turbidity=turbidity,
                              visible=visible)
    if sun_intensity <= 0:
        return environment, None
    position = spherical_offset(elevation, rotation, SUN_DISTANCE_M)
    sun = Light(kind="directional", world_from_light=aim_negative_z(position, np.zeros(3)),
                color=sun_color(elevation), intensity=sun_intensity)
    return environment, sun


def with_environment(state: SceneState, spec: EnvironmentSpec | None, files: tuple[str, ...],
                     *, visible: bool, rng: np.random.Generator) -> SceneState:
    """``state`` with a newly drawn environment (:func:`sample_environment`): its sun appended
    to the lights, and, when the environment is ``visible``, no background image (the
    environment shows instead). Unchanged when ``spec`` is None."""
    if spec is None:
        return state
    environment, sun = sample_environment(spec, files, visible=visible, rng=rng)
    changes: dict = {"environment": environment}
    if sun is not None:
        changes["lights"] = state.lights + (sun,)
    if environment is not None and visible:
        changes["background_image"] = None
    return dataclasses.replace(state, **changes)
