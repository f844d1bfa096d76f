"""A placement plug-in: objects standing on the levels of a shelf.

Registers the placement ``shelf``. With ``shelf_placement.yaml`` (a shelf fixture from
``shelf_vhacd.obj`` at the origin, unturned)::

    synthscene generate examples/plugins/shelf_placement.yaml \\
        --plugin examples/plugins/shelf_placement.py --out out/shelf --frames 20

The objects (count, assets, sizes and materials drawn as the scenario's ``objects`` section
says) are dealt to the levels in turn; on each level they stand upright in equal slots along
the board, at a random depth and yaw, just above the board's top surface, and physics settles
them. Every draw comes from the ``rng`` given, so datasets stay reproducible.
"""

from __future__ import annotations

import numpy as np

from synthscene.plugins import Field, ObjectPool, Params, dist_field, register_placement


class ShelfParams(Params):
    """Where the shelf's levels are (metres, in the world frame; the shelf faces -y)."""

    levels: dist_field(low=1, high=20, integer=True) = Field(
        3, description="levels used, from the bottom")
    bottom_m: dist_field(low=0) = Field(
        0.02, description="height of the lowest board's top surface, m")
    spacing_m: dist_field(low=0, low_exclusive=True) = Field(
        0.30, description="height between the boards' top surfaces, m")
    width_m: dist_field(low=0, low_exclusive=True) = Field(
        0.76, description="usable width of a board (along x), m")
    depth_m: dist_field(low=0, low_exclusive=True) = Field(
        0.30, description="depth of a board (along y), m")


def shelf(objects: ObjectPool, *, rng: np.random.Generator, region, levels: int,
          bottom_m: float, spacing_m: float, width_m: float, depth_m: float) -> list:
    """Objects standing upright on the levels of a shelf centred on the world origin."""
    count = objects.sample_count(rng=rng)
    keys = objects.sample_assets(count, rng=rng)
    per_level = [keys[level::levels] for level in range(levels)]
    placed = []
    for level, on_level in enumerate(per_level):
        if not on_level:
            continue
        slot = width_m / len(on_level)
        top = bottom_m + level * spacing_m
        for k, key in enumerate(on_level):
            # Small enough that any yaw keeps it inside its slot and on the board.
            scale = min(objects.sample_size(key, rng=rng), 0.7 * slot, 0.7 * depth_m)
            yaw = rng.uniform(0.0, 2.0 * np.pi)
            free = max(depth_m - scale * np.sqrt(2.0), 0.0)
            y = rng.uniform(-free / 2, free / 2)
            pose = np.eye(4)
            c, s = np.cos(yaw), np.sin(yaw)
            pose[:2, :2] = [[c, -s], [s, c]]
            lowest = objects.bounds(key)[0, 2] * scale  # the mesh's bottom, below its centre
            pose[:3, 3] = (-width_m / 2 + (k + 0.5) * slot, y, top - lowest + 0.002)
            placed.append(objects.make(key, scale=scale, world_from_object=pose,
                                       material=objects.sample_material(rng=rng)))
    return placed


register_placement("shelf", shelf, params=ShelfParams, example={"levels": 3})
