"""A scene-hook plug-in: parts in a row on a moving conveyor belt.

Registers the scene hook ``conveyor``. With ``conveyor_hook.yaml`` (a belt fixture from
``belt.obj`` along x, a top-down camera)::

    synthscene generate examples/plugins/conveyor_hook.yaml \\
        --plugin examples/plugins/conveyor_hook.py --out out/conveyor --frames 20

Runs after sampling (``stage: after_sampling``): the labelled objects drawn by the scenario are
put in a row along the belt, one every ``pitch_m``, each at a random offset across the belt and
a random yaw, held just above the belt so that physics sets them down on it. The belt moves
``speed_m`` per frame: frame ``i`` shows the row shifted by ``i * speed_m`` (modulo the pitch),
so consecutive frames look like a video of the line. Every draw comes from the ``rng`` given.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from synthscene.plugins import Field, Params, SceneState, dist_field, register_scene_hook

HALF_DIAGONAL = np.sqrt(3.0) / 2.0  # bounding-sphere radius of an object of size 1


class ConveyorParams(Params):
    """Where the belt is and how it moves (metres)."""

    length_m: dist_field(low=0, low_exclusive=True) = Field(1.6, description="belt length (x)")
    width_m: dist_field(low=0, low_exclusive=True) = Field(0.3, description="belt width (y)")
    top_m: dist_field(low=0) = Field(0.04, description="height of the belt's surface")
    pitch_m: dist_field(low=0, low_exclusive=True) = Field(0.2, description="part spacing")
    speed_m: dist_field() = Field(0.03, description="belt travel per frame (+x)")


def conveyor(state: SceneState, *, rng: np.random.Generator, length_m: float, width_m: float,
             top_m: float, pitch_m: float, speed_m: float) -> SceneState:
    """Put the labelled objects in a row along a belt on the x axis, moved by the frame index."""
    frame = state.seed[1] if state.view is None else state.view[0]
    phase = (frame * speed_m) % pitch_m
    slots = int(length_m // pitch_m)
    objects = []
    row = 0
    for obj in state.objects:
        if not obj.labelled:
            objects.append(obj)
            continue
        if row >= slots:  # no room left on the belt: the part is left out
            continue
        radius = HALF_DIAGONAL * obj.scale
        x = -length_m / 2 + pitch_m / 2 + row * pitch_m + phase
        if x > length_m / 2:
            x -= slots * pitch_m
        free = max(width_m - 2 * radius, 0.0)
        yaw = rng.uniform(0.0, 2.0 * np.pi)
        pose = np.eye(4)
        pose[:2, :2] = [[np.cos(yaw), -np.sin(yaw)], [np.sin(yaw), np.cos(yaw)]]
        pose[:3, 3] = (x, rng.uniform(-free / 2, free / 2), top_m + radius + 0.002)
        objects.append(dataclasses.replace(obj, world_from_object=pose))
        row += 1
    return dataclasses.replace(state, objects=tuple(objects))


register_scene_hook("conveyor", conveyor, params=ConveyorParams,
                    example={"stage": "after_sampling", "pitch_m": 0.2, "speed_m": 0.03})
