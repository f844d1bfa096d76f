"""Scripting one frame by hand: a :class:`~synthscene.core.state.SceneState` you build, rendered
and labelled (for notebooks and one-off scenes).

>>> import numpy as np, synthscene
>>> from synthscene.core.state import Camera, Ground, Light, Material, SceneObject, SceneState
>>> from synthscene.randomize.camera import top_down_pose
>>> from synthscene.randomize.geometry import intrinsics_from_fov
>>> pose = np.eye(4)
>>> pose[:3, 3] = (0.0, 0.0, 0.02)      # primitive:box (1 x 0.6 x 0.4) x 0.1, on the ground
>>> cube = SceneObject(instance_id=1, asset_key="primitive:box", category="box", scale=0.1,
...                    world_from_object=pose, material=Material(base_color=(0.8, 0.2, 0.2, 1)))
>>> camera = Camera(K=intrinsics_from_fov(np.radians(50), 320, 240), width=320, height=240,
...                 world_from_camera=top_down_pose(np.zeros(3), 1.0, 0.0))
>>> sun = Light("directional", world_from_light=np.eye(4), color=(1.0, 1.0, 1.0), intensity=2.0)
>>> state = SceneState(objects=(cube,), lights=(sun,), camera=camera,
...                    ground=Ground(size=2.0, material=Material(base_color=(0.5, 0.5, 0.5, 1))))
>>> sample = synthscene.render_scene(state, ["primitive:box"], settle=True)  # doctest: +SKIP
>>> sample.labels[0].bbox, sample.render.rgb.shape                          # doctest: +SKIP

Everything in the state is plain data (:mod:`synthscene.core.state`): poses are ``world_from_*``
(4, 4) float64 matrices in metres, the camera frame is OpenCV's, the world is z-up with the
ground at z = 0. Each call opens (and closes) a GL context, and a pybullet client with
``settle=True``; to make many frames, write a scenario (with plug-ins for what YAML cannot say)
and use :func:`synthscene.iter_samples`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from synthscene.core.state import Sample, SceneState
from synthscene.labels.annotate import LabelFilter, annotate

if TYPE_CHECKING:
    from synthscene.assets.library import AssetLibrary

__all__ = ["render_scene"]


def render_scene(state: SceneState, library: AssetLibrary | Sequence[str], *,
                 settle: bool = False, shading: str = "lit", amodal: bool = True,
                 normals: bool = False, pose: bool = True, keypoints: bool = True,
                 filters: LabelFilter | None = None) -> Sample:
    """Render ``state`` and label it, as a frame of a run is.

    Parameters
    ----------
    state : SceneState
        The frame: objects (``asset_key`` must be a key of ``library``), lights, camera,
        ground. Its camera's ``width`` and ``height`` give the image size.
    library : AssetLibrary or sequence of str
        The assets, or asset source strings (``"primitive:box"``, ``"pybullet_data:..."``,
        a mesh path, ...) to index; keys are as
        :class:`~synthscene.assets.library.AssetLibrary` makes them (``"primitive:box"``).
    settle : bool
        Drop the ``physics="dynamic"`` objects with pybullet (default settings) first.
    shading : {"lit", "flat"}
    amodal, normals : bool
        Also render the amodal masks (for ``amodal_*``, ``visib_fract``, ``truncation``) and
        the camera-frame normals.
    pose, keypoints : bool
        Fill the 6D-pose and keypoint fields of the labels.
    filters : LabelFilter, optional
        Which visible objects get a label (default: every one with a visible pixel).

    Returns
    -------
    Sample
        ``render.rgb`` (H, W, 3) uint8, ``render.depth`` (H, W) float32 metres (0: no hit),
        ``render.instance_ids`` (H, W) int32 (0: background), ``labels`` (COCO ``bbox``,
        ``area``, RLE ``segmentation``, ...), ``state`` (settled if asked), ``frame_index``
        ``state.seed[1]``.

    Raises
    ------
    AssetError
        If an asset cannot be loaded (or a source string is bad).
    synthscene.errors.RenderError
        If no GL context can be made.
    ValueError
        If ``shading`` is unknown.
    """
    from synthscene.assets.library import AssetLibrary, AssetSource
    from synthscene.physics.settings import PhysicsSettings
    from synthscene.physics.simulator import PhysicsSimulator
    from synthscene.render.renderer import Renderer
    from synthscene.render.settings import RenderSettings

    if not isinstance(library, AssetLibrary):
        library = AssetLibrary([AssetSource(source=str(s), where=f"render_scene: library[{i}]")
                                for i, s in enumerate(library)])
    if shading not in ("lit", "flat"):
        raise ValueError(f"shading must be 'lit' or 'flat', got {shading!r}")
    if settle:
        with PhysicsSimulator(library, PhysicsSettings()) as simulator:
            state = simulator.settle(state)
    settings = RenderSettings(shading=shading, normals=normals, amodal=amodal)  # type: ignore
    with Renderer(library, state.camera.width, state.camera.height, settings) as renderer:
        output = renderer.render(state)
    bounds = {o.asset_key: library.get(o.asset_key).mesh.bounds
              for o in state.objects if o.labelled} if keypoints else None
    labels = annotate(state, output, pose=pose, keypoints=keypoints, model_bounds=bounds,
                      filters=filters)
    return Sample(frame_index=int(state.seed[1]), state=state, render=output, labels=labels)
