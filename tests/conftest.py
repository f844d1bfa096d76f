"""Shared fixtures: small hand-made scenes with analytically known geometry."""

from __future__ import annotations

import os
import types

import numpy as np
import pytest
import trimesh

from synthscene.core.state import Camera, Ground, Light, Material, SceneObject, SceneState
from synthscene.render.platform import ensure_gl_platform

# Choose EGL before any test module imports pyrender or OpenGL (PyOpenGL binds its platform at
# first import).
ensure_gl_platform()

@pytest.fixture(autouse=True, scope="session")
def _asset_cache_in_a_temporary_folder(tmp_path_factory):
    """Every test (and every process a test starts) caches assets in a temporary folder of this
    session, never in the user's cache folder."""
    before = os.environ.get("SYNTHSCENE_CACHE_DIR")
    os.environ["SYNTHSCENE_CACHE_DIR"] = str(tmp_path_factory.mktemp("asset-cache"))
    yield
    if before is None:
        os.environ.pop("SYNTHSCENE_CACHE_DIR", None)
    else:
        os.environ["SYNTHSCENE_CACHE_DIR"] = before


GREY = Material(base_color=(0.6, 0.6, 0.6, 1.0))


class OneAssetLibrary:
    """Stands in for AssetLibrary: one asset ``key`` of ``category``, ``mesh`` normalised (its
    collision hull: the mesh's vertices)."""

    def __init__(self, key: str, category: str, mesh: trimesh.Trimesh) -> None:
        self.keys, self.categories = (key,), (category,)
        self._asset = types.SimpleNamespace(key=key, category=category, mesh=mesh,
                                            collision_hulls=(mesh.vertices.copy(),),
                                            source_path=None)

    def get(self, key: str):
        return self._asset

    def category_of(self, key: str) -> str:
        return self.categories[0]

    def __len__(self) -> int:
        return 1


class UnitCubeLibrary(OneAssetLibrary):
    """One asset 'cube', a unit cube centred on its origin."""

    def __init__(self) -> None:
        super().__init__("cube", "cube", trimesh.creation.box((1.0, 1.0, 1.0)))


class UnitSphereLibrary(OneAssetLibrary):
    """One asset 'sphere' of ``category``: a unit-diameter icosphere (radial normals)."""

    def __init__(self, category: str = "sphere") -> None:
        super().__init__("sphere", category, trimesh.creation.icosphere(subdivisions=4,
                                                                        radius=0.5))


def top_down_camera(width: int, height: int, f: float = 300.0, z: float = 1.0) -> Camera:
    """A camera at (0, 0, z) looking straight down; image x = world x, image y = world -y."""
    K = np.array([[f, 0.0, (width - 1) / 2], [0.0, f, (height - 1) / 2], [0.0, 0.0, 1.0]])
    pose = np.eye(4)
    pose[:3, :3] = np.diag([1.0, -1.0, -1.0])
    pose[2, 3] = z
    return Camera(K=K, width=width, height=height, world_from_camera=pose)


def pose(xyz, rotation=None) -> np.ndarray:
    T = np.eye(4)
    if rotation is not None:
        T[:3, :3] = rotation
    T[:3, 3] = xyz
    return T


def cube(instance_id: int, xyz, edge: float, rotation=None, labelled: bool = True) -> SceneObject:
    return SceneObject(instance_id=instance_id, asset_key="cube", category="cube", scale=edge,
                       world_from_object=pose(xyz, rotation), material=GREY, labelled=labelled)


def scene(objects, camera: Camera, ground: bool = True) -> SceneState:
    light = Light(kind="directional", world_from_light=np.eye(4), color=(1.0, 1.0, 1.0),
                  intensity=3.0)
    return SceneState(objects=tuple(objects), lights=(light,), camera=camera,
                      ground=Ground(2.0, GREY) if ground else None,
                      drop_region=((-1.0, -1.0), (1.0, 1.0)))


@pytest.fixture
def cube_library() -> UnitCubeLibrary:
    return UnitCubeLibrary()
