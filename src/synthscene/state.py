"""Plain, frozen data that flows between the pipeline's stages.

``sample_scene`` fills a :class:`SceneState`; ``PhysicsSimulator.settle`` returns a new one with
settled poses; ``Renderer.render`` turns it into a :class:`RenderOutput`; ``annotate`` turns both
into a :class:`Sample`. None of these types touches a backend (no GL, no pybullet).

Conventions (see DESIGN.md): SI units (metres, radians); poses are 4x4 float64 homogeneous
matrices named ``a_from_b``; the camera frame is OpenCV's (x right, y down, z forward); the world
frame is z-up with the ground plane at z = 0.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

LightKind = Literal["directional", "point", "spot"]


@dataclass(frozen=True)
class Material:
    """A PBR metallic-roughness material (glTF 2.0 conventions).

    Attributes
    ----------
    base_color : (4,) tuple of float
        Linear RGBA in [0, 1].
    metallic : float
        In [0, 1].
    roughness : float
        In [0, 1].
    """

    base_color: tuple[float, float, float, float]
    metallic: float = 0.0
    roughness: float = 0.6


@dataclass(frozen=True, eq=False)
class SceneObject:
    """One object instance in a frame.

    Attributes
    ----------
    instance_id : int
        >= 1, unique within the frame; the value this object takes in ``instance_ids``.
    asset_key : str
        Key of the asset in the :class:`~synthscene.assets.AssetLibrary`.
    category : str
        Category name (the COCO category).
    scale : float
        Uniform scale applied to the asset's normalised mesh, whose longest bounding-box edge is
        1; so ``scale`` is the object's longest bounding-box edge in metres.
    world_from_object : (4, 4) float64
        Rigid pose of the object's frame (the centre of its bounding box) in the world, metres.
    material : Material
        The object's material for this frame.
    labelled : bool
        False for distractors, which are rendered but never labelled.
    """

    instance_id: int
    asset_key: str
    category: str
    scale: float
    world_from_object: np.ndarray
    material: Material
    labelled: bool = True


@dataclass(frozen=True, eq=False)
class Light:
    """A light, in pyrender's conventions (it shines along the -z axis of its frame).

    Attributes
    ----------
    kind : {"directional", "point", "spot"}
    world_from_light : (4, 4) float64
        Pose of the light; the light shines along its local -z axis.
    color : (3,) tuple of float
        Linear RGB in [0, 1].
    intensity : float
        W/m^2 for directional lights, candela for point and spot lights (pyrender's units).
    inner_cone_angle, outer_cone_angle : float
        Spot lights only, radians, 0 <= inner < outer <= pi/2.
    """

    kind: LightKind
    world_from_light: np.ndarray
    color: tuple[float, float, float]
    intensity: float
    inner_cone_angle: float = 0.0
    outer_cone_angle: float = np.pi / 4


@dataclass(frozen=True, eq=False)
class Camera:
    """A pinhole camera.

    Attributes
    ----------
    K : (3, 3) float64
        Intrinsics in pixels, ``[[fx, 0, cx], [0, fy, cy], [0, 0, 1]]``, in OpenCV's convention: the
        centre of pixel (column u, row v) is at image coordinates (u, v), so ``cv2.projectPoints``
        with this K gives pixel positions. (COCO boxes use pixel edges: pixel u spans [u, u + 1).)
    width, height : int
        Image size in pixels.
    world_from_camera : (4, 4) float64
        Pose of the camera in OpenCV's frame convention (x right, y down, z forward).
    znear, zfar : float
        Clipping distances in metres.
    """

    K: np.ndarray
    width: int
    height: int
    world_from_camera: np.ndarray
    znear: float = 0.01
    zfar: float = 100.0


@dataclass(frozen=True)
class Ground:
    """A square ground plane at z = 0, centred on the world origin.

    Attributes
    ----------
    size : float
        Side length in metres.
    material : Material
    """

    size: float
    material: Material


@dataclass(frozen=True, eq=False)
class SceneState:
    """Everything that defines one frame, as plain data.

    Attributes
    ----------
    objects : tuple of SceneObject
    lights : tuple of Light
    camera : Camera
    ground : Ground or None
    ambient_light : (3,) tuple of float
        Linear RGB ambient term.
    seed : (2,) tuple of int
        ``(run_seed, frame_index)``: the frame's generator is
        ``Generator(PCG64(SeedSequence([run_seed, frame_index])))``.
    drop_region : (2, 2) tuple of float or None
        ``((x_min, y_min), (x_max, y_max))`` in metres: objects that come to rest outside it are
        removed by physics.
    physics_steps : int
        Simulation steps physics took to settle the frame (0 before physics).
    """

    objects: tuple[SceneObject, ...]
    lights: tuple[Light, ...]
    camera: Camera
    ground: Ground | None
    ambient_light: tuple[float, float, float] = (0.1, 0.1, 0.1)
    seed: tuple[int, int] = (0, 0)
    drop_region: tuple[tuple[float, float], tuple[float, float]] | None = None
    physics_steps: int = 0


@dataclass(frozen=True, eq=False)
class RenderOutput:
    """What the renderer gives for one frame.

    Attributes
    ----------
    rgb : (H, W, 3) uint8
    depth : (H, W) float32
        Metres along the optical axis (camera z), 0 where nothing was hit.
    instance_ids : (H, W) int32
        ``SceneObject.instance_id`` of the nearest surface at each pixel centre, 0 for background
        and ground. Exact: no blended edge pixels.
    """

    rgb: np.ndarray
    depth: np.ndarray
    instance_ids: np.ndarray


@dataclass(frozen=True)
class InstanceLabel:
    """Labels of one visible, labelled object instance.

    Attributes
    ----------
    instance_id : int
        The object's ``instance_id`` in the frame.
    category : str
    bbox : (4,) tuple of float
        COCO ``[x, y, width, height]`` in pixels, tight to the visible mask
        (equal to ``pycocotools.mask.toBbox`` of ``segmentation``).
    area : int
        Number of visible pixels.
    segmentation : dict
        Compressed COCO RLE ``{"size": [H, W], "counts": str}``.
    """

    instance_id: int
    category: str
    bbox: tuple[float, float, float, float]
    area: int
    segmentation: dict


@dataclass(frozen=True, eq=False)
class Sample:
    """One labelled frame.

    Attributes
    ----------
    frame_index : int
    state : SceneState
        The settled scene.
    render : RenderOutput
    labels : tuple of InstanceLabel
        One per labelled object with at least one visible pixel, in ``instance_id`` order.
    timings : dict of str to float
        Seconds spent per stage (``sample``, ``physics``, ``render``, ``labels``).
    """

    frame_index: int
    state: SceneState
    render: RenderOutput
    labels: tuple[InstanceLabel, ...]
    timings: dict[str, float] = field(default_factory=dict)
