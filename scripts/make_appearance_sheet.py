#!/usr/bin/env python
"""Contact sheet of assets' own look: synthscene's ``keep`` and ``jitter`` beside pybullet.

Each row is one asset rendered alone, lit by one white directional light from the camera's side
plus ambient light: pybullet's own ``getCameraImage`` (TinyRenderer, a second, independent
renderer that shows what the file's author intended), synthscene with
``asset_appearance: keep``, and three ``jitter`` draws (the default ``jitter`` ranges).

    python scripts/make_appearance_sheet.py --out docs/images/appearance.png
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
import pybullet
import pybullet_data
import trimesh

from synthscene.assets.library import AssetLibrary, AssetSource
from synthscene.config.schema import MaterialSpec
from synthscene.core.state import Camera, Light, Material, SceneObject, SceneState
from synthscene.randomize.object_pool import sample_material
from synthscene.seeding import frame_rng

ASSETS = ["duck_vhacd.urdf", "teddy_vhacd.urdf", "objects/mug.urdf", "soccerball.urdf",
          "lego/lego.urdf", "bunny.obj", "jenga/jenga.urdf", "domino/domino.urdf",
          "tray/traybox.urdf", "sphere2red.urdf", "cube_small.urdf"]
SIZE = 160
EYE_DIRECTION = np.array([0.6, 0.4, 1.0]) / np.linalg.norm([0.6, 0.4, 1.0])


def look_at(eye: np.ndarray, target: np.ndarray) -> np.ndarray:
    """world_from_camera (OpenCV axes: x right, y down, z forward) looking from eye at target."""
    z = (target - eye) / np.linalg.norm(target - eye)
    x = np.cross(z, [0.0, 0.0, 1.0])
    x /= np.linalg.norm(x)
    y = np.cross(z, x)
    pose = np.eye(4)
    pose[:3, :3] = np.stack([x, y, z], axis=1)
    pose[:3, 3] = eye
    return pose


def pybullet_image(path: Path) -> np.ndarray:
    client = pybullet.connect(pybullet.DIRECT)
    try:
        body = pybullet.loadURDF(str(path), physicsClientId=client) if path.suffix == ".urdf" \
            else pybullet.createMultiBody(baseVisualShapeIndex=pybullet.createVisualShape(
                pybullet.GEOM_MESH, fileName=str(path), physicsClientId=client),
                physicsClientId=client)
        # A body with only a visual shape has no collision box: take a mesh's own bounds.
        lo, hi = pybullet.getAABB(body, physicsClientId=client) if path.suffix == ".urdf" \
            else trimesh.load_mesh(path).bounds
        centre = (np.add(lo, hi) / 2)
        distance = 1.6 * float(np.linalg.norm(np.subtract(hi, lo)))
        eye = centre + distance * EYE_DIRECTION
        view = pybullet.computeViewMatrix(eye.tolist(), centre.tolist(), [0, 0, 1])
        projection = pybullet.computeProjectionMatrixFOV(40, 1.0, 0.01, 100)
        _, _, rgba, _, _ = pybullet.getCameraImage(
            SIZE, SIZE, view, projection, lightDirection=eye.tolist(),
            renderer=pybullet.ER_TINY_RENDERER, physicsClientId=client)
    finally:
        pybullet.disconnect(client)
    return np.reshape(rgba, (SIZE, SIZE, 4))[..., :3].astype(np.uint8)


def ours(renderer, key: str, material: Material) -> np.ndarray:
    f = SIZE / (2 * np.tan(np.radians(20)))
    K = np.array([[f, 0, (SIZE - 1) / 2], [0, f, (SIZE - 1) / 2], [0, 0, 1.0]])
    eye = 1.6 * np.sqrt(3) * 0.5 * EYE_DIRECTION  # the same framing as pybullet's
    camera = Camera(K=K, width=SIZE, height=SIZE, world_from_camera=look_at(eye, np.zeros(3)))
    light = Light(kind="directional", world_from_light=look_at(eye, np.zeros(3))
                  @ np.diag([1.0, -1.0, -1.0, 1.0]), color=(1.0, 1.0, 1.0), intensity=3.0)
    obj = SceneObject(instance_id=1, asset_key=key, category="x", scale=0.5,
                      world_from_object=np.eye(4), material=material)
    state = SceneState(objects=(obj,), lights=(light,), camera=camera, ground=None,
                       ambient_light=(0.3, 0.3, 0.3), background_color=(1.0, 1.0, 1.0))
    out = renderer.render(state)
    rgb = out.rgb.copy()
    rgb[out.instance_ids == 0] = 255
    return rgb


def label(image: np.ndarray, text: str) -> np.ndarray:
    image = np.ascontiguousarray(image)
    cv2.putText(image, text, (4, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1, cv2.LINE_AA)
    return image


def main() -> None:
    from synthscene.render.renderer import Renderer

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/images/appearance.png"))
    args = parser.parse_args()
    data = Path(pybullet_data.getDataPath())
    library = AssetLibrary([AssetSource(source=f"pybullet_data:{a}") for a in ASSETS])
    keep = Material(base_color=(1, 1, 1, 1), metallic=None, roughness=None, appearance="keep")
    jitter_spec = MaterialSpec(asset_appearance="jitter")
    rows = []
    with Renderer(library, SIZE, SIZE) as renderer:
        for i, asset in enumerate(ASSETS):
            cells = [label(pybullet_image(data / asset), f"pybullet: {asset}"),
                     label(ours(renderer, f"pybullet_data:{asset}", keep), "keep")]
            for j in range(3):
                material = sample_material(jitter_spec, rng=frame_rng(i, j))
                cells.append(label(ours(renderer, f"pybullet_data:{asset}", material), "jitter"))
            rows.append(np.hstack(cells))
    sheet = np.vstack(rows)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(args.out), sheet[..., ::-1], [cv2.IMWRITE_PNG_COMPRESSION, 9])
    print(f"wrote {args.out} ({sheet.shape[1]}x{sheet.shape[0]})")


if __name__ == "__main__":
    main()
