#!/usr/bin/env python
"""Figure of the environment light: the same spheres (matte white, glossy white, red plastic,
brushed metal, mirror) on a grey ground, lit by each bundled environment map and by the
procedural sky (with its sun), each shown behind the scene; no other light.

    python scripts/make_light_figure.py --out docs/images/environment_light.png
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from synthscene.assets.library import AssetLibrary, AssetSource, bundled_assets_dir
from synthscene.core.state import (
    SKY,
    Camera,
    Environment,
    Ground,
    Light,
    Material,
    SceneObject,
    SceneState,
)
from synthscene.randomize.environment import sun_color
from synthscene.randomize.geometry import aim_negative_z, look_at_opencv, spherical_offset

SPHERES = (  # (base colour, metallic, roughness)
    ((0.9, 0.9, 0.9, 1.0), 0.0, 1.0), ((0.9, 0.9, 0.9, 1.0), 0.0, 0.3),
    ((0.8, 0.1, 0.08, 1.0), 0.0, 0.5), ((0.9, 0.85, 0.8, 1.0), 1.0, 0.4),
    ((0.95, 0.95, 0.95, 1.0), 1.0, 0.05),
)


def scene(environment: Environment, width: int, height: int) -> SceneState:
    objects = []
    for i, (colour, metallic, roughness) in enumerate(SPHERES):
        pose = np.eye(4)
        pose[:3, 3] = (0.0, 0.24 * (i - 2), 0.1)
        objects.append(SceneObject(
            instance_id=i + 1, asset_key="primitive:sphere", category="sphere", scale=0.2,
            world_from_object=pose,
            material=Material(base_color=colour, metallic=metallic, roughness=roughness)))
    f = 0.5 * width / np.tan(np.radians(25))
    K = np.array([[f, 0, (width - 1) / 2], [0, f, (height - 1) / 2], [0, 0, 1]])
    camera = Camera(K=K, width=width, height=height,
                    world_from_camera=look_at_opencv(np.array([1.6, 0.0, 0.4]),
                                                     np.array([0.0, 0.0, 0.25])))
    lights = ()
    if environment.source == SKY:
        position = spherical_offset(environment.sun_elevation_rad, environment.rotation_rad, 10.0)
        lights = (Light("directional", aim_negative_z(position, np.zeros(3)),
                        sun_color(environment.sun_elevation_rad), 2.0),)
    ground = Ground(1.2, Material(base_color=(0.5, 0.5, 0.5, 1.0), roughness=0.8))
    return SceneState(objects=tuple(objects), lights=lights, camera=camera, ground=ground,
                      ambient_light=(0.0, 0.0, 0.0), environment=environment)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/images/environment_light.png"))
    parser.add_argument("--width", type=int, default=400, help="width of each cell in pixels")
    args = parser.parse_args()
    from synthscene.render.renderer import Renderer

    width, height = args.width, args.width * 9 // 16
    maps = bundled_assets_dir() / "environments"
    environments = [Environment(str(maps / f"{name}.hdr"), intensity=0.6, rotation_rad=2.6,
                                visible=True) for name in ("studio", "overcast", "sunset")]
    environments.append(Environment(SKY, intensity=0.5, rotation_rad=2.4,
                                    sun_elevation_rad=np.radians(35.0), turbidity=3.0,
                                    visible=True))
    library = AssetLibrary([AssetSource("primitive:sphere")])
    cells = []
    with Renderer(library, width, height) as renderer:
        for environment in environments:
            rgb = renderer.render(scene(environment, width, height)).rgb
            cells.append(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    sheet = np.vstack([np.hstack(cells[:2]), np.hstack(cells[2:])])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(args.out), sheet, [cv2.IMWRITE_PNG_COMPRESSION, 9])
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
