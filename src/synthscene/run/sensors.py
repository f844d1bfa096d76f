"""A frame's camera sensor models: the lens (distortion), the depth sensor and the stereo pair.

:class:`Sensors` is the glue between :class:`~synthscene.run.frames.FrameMaker` and the pure
modules that do the work: :mod:`synthscene.core.lens` (the models), :mod:`synthscene.core.stereo`
(the right camera, the disparity),
:mod:`synthscene.labels.lens_warp` (the pinhole render and the warp) and
:mod:`synthscene.randomize.depth_sensor` (the noise). Each draws from its own sub-stream of the
frame (:func:`synthscene.seeding.sensor_rng`), so switching one on changes no other draw.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from synthscene.config.loading import Scenario
from synthscene.config.sensors import MAX_RENDER_SCALE
from synthscene.core.state import Camera, RenderOutput, SceneState, StereoEye
from synthscene.core.stereo import EYES, disparity_from_depth, right_camera
from synthscene.errors import ConfigError
from synthscene.labels.lens_warp import (
    LensWarp,
    LensWarps,
    frame_extent,
    lens_pinhole,
    pinhole_size,
    warp_output,
)
from synthscene.randomize.camera import sample_intrinsics, sample_lens
from synthscene.randomize.depth_sensor import depth_reading
from synthscene.registry.distributions import Constant
from synthscene.seeding import sensor_rng

__all__ = ["LENS_CHECK_DRAWS", "Sensors"]

LENS_CHECK_DRAWS = 64
"""Lenses and intrinsics drawn (from a fixed generator) to check, before the first frame, that
the lens sees the whole frame."""


class Sensors:
    """The lens, depth sensor and stereo pair of one scenario and seed.

    Parameters
    ----------
    scenario : Scenario
    seed : int
        The run's seed, >= 0.

    Raises
    ------
    ConfigError
        Naming ``camera.distortion`` if the lens, with some of its draws, does not see the
        whole frame (the fold of its radial function, or a fisheye beyond 80 degrees).
    """

    def __init__(self, scenario: Scenario, *, seed: int) -> None:
        self.scenario = scenario
        self.seed = int(seed)
        spec = scenario.spec
        self.image_size = (spec.image.width, spec.image.height)
        self.distortion = spec.camera.distortion
        self.depth_sensor = spec.outputs.depth_sensor
        self.stereo = spec.camera.stereo
        self._warps = LensWarps()
        self.render_size: tuple[int, int] | None = self.image_size
        """The render's size: the image's without a lens; with one, ``render_scale`` times it,
        or None: each frame's own
        (:func:`synthscene.labels.lens_warp.canvas_size`)."""
        if self.distortion is not None:
            scale = self.distortion.render_scale
            if scale is None:
                self._check_draws()
                self.render_size = None
            else:
                self.render_size = pinhole_size(*self.image_size, scale)

    def _error(self, exc: Exception) -> ConfigError:
        return ConfigError(str(self.scenario.source), "camera.distortion", str(exc))

    def _check_draws(self) -> None:
        """Refuse a lens that does not see the whole frame for one of 64 draws (from a fixed
        generator) of its coefficients and the intrinsics, before the first frame."""
        rng = np.random.Generator(np.random.PCG64(0))
        camera = self.scenario.spec.camera
        width, height = self.image_size
        try:
            for _ in range(LENS_CHECK_DRAWS):
                frame_extent(Camera(K=sample_intrinsics(camera, width, height, rng=rng),
                                    width=width, height=height, world_from_camera=np.eye(4),
                                    lens=sample_lens(self.distortion, rng=rng)))
        except ValueError as exc:
            raise self._error(exc) from None

    def _warp(self, camera: Camera) -> LensWarp:
        return self._warps.get(camera, self.render_size, MAX_RENDER_SCALE)

    def with_lens(self, state: SceneState, index: int) -> SceneState:
        """``state`` with its camera's lens drawn (frame or sequence ``index``); unchanged
        without ``camera.distortion``.

        Raises
        ------
        ConfigError
            If the drawn lens does not see the whole frame.
        """
        if self.distortion is None:
            return state
        if state.stereo is not None:  # both eyes of a pair have the same lens
            index = state.stereo.pair_id
        lens = sample_lens(self.distortion, rng=sensor_rng(self.seed, index, "lens"))
        camera = dataclasses.replace(state.camera, lens=lens)
        try:
            self._warp(camera)
        except ValueError as exc:
            raise self._error(exc) from None
        return dataclasses.replace(state, camera=camera)

    def to_render(self, state: SceneState) -> SceneState:
        """The state the renderer draws: with the pinhole that covers a distorted camera."""
        if state.camera.lens is None:
            return state
        camera = lens_pinhole(state.camera, warp=self._warp(state.camera))
        return dataclasses.replace(state, camera=camera)

    def through_lens(self, state: SceneState, output: RenderOutput) -> RenderOutput:
        """The distorted camera's output from the pinhole render (:func:`warp_output`);
        ``output`` itself without a lens."""
        if state.camera.lens is None:
            return output
        return warp_output(output, state.camera, self._warp(state.camera))

    def with_depth_reading(self, output: RenderOutput, camera: Camera, index: int,
                           stereo: StereoEye | None = None) -> RenderOutput:
        """``output`` with the depth sensor's reading of frame ``index``
        (:func:`depth_reading`); unchanged without ``outputs.depth_sensor``.

        A ``stereo`` depth sensor of an eye of a stereo pair (``stereo`` given) whose scenario
        gives no ``baseline_m`` takes the pair's baseline: the pair is the sensor.
        """
        if self.depth_sensor is None:
            return output
        spec = self.depth_sensor
        if (stereo is not None and spec.model == "stereo"
                and "baseline_m" not in spec.model_fields_set):
            spec = spec.model_copy(update={"baseline_m": Constant(stereo.baseline_m)})
        reading = depth_reading(output.depth, camera, spec,
                                rng=sensor_rng(self.seed, index, "depth_sensor"))
        return dataclasses.replace(output, depth_sensor=reading)

    def eye(self, state: SceneState, frame_index: int, *, rig: int | None = None
            ) -> SceneState:
        """The state of eye ``frame_index % 2`` of stereo pair ``frame_index // 2``, from the
        pair's state ``state`` (seen by the left camera); ``state`` itself without
        ``camera.stereo``.

        The baseline is drawn per rig (``sensor_rng(seed, rig, "stereo")``): ``rig`` is the
        pair by default, the sequence for the pairs of a sequence (one baseline for all its
        steps). The right eye's camera is :func:`~synthscene.core.stereo.right_camera` of the
        left one (lens included).
        """
        if self.stereo is None:
            return state
        pair, side = divmod(int(frame_index), 2)
        rig = pair if rig is None else int(rig)
        baseline = float(self.stereo.baseline_m.sample(sensor_rng(self.seed, rig, "stereo")))
        camera = state.camera if side == 0 else right_camera(state.camera, baseline)
        return dataclasses.replace(state, camera=camera,
                                   stereo=StereoEye(pair, EYES[side], baseline))

    def pixel_rng(self, state: SceneState, frame_index: int) -> np.random.Generator | None:
        """The generator of the per-pixel noise of the sensor effects of a stereo pair's eye
        (frame ``frame_index``): each eye has its own noise, as two real sensors do, while both
        get the same effect parameters. None for a single camera (the effects draw everything
        from the frame's generator)."""
        if state.stereo is None:
            return None
        return sensor_rng(self.seed, int(frame_index), "eye_noise")

    def with_disparity(self, output: RenderOutput, state: SceneState) -> RenderOutput:
        """``output`` with the disparity of a stereo pair's eye
        (:func:`~synthscene.core.stereo.disparity_from_depth` of its exact depth); unchanged for
        a single camera."""
        if state.stereo is None:
            return output
        disparity = disparity_from_depth(output.depth, float(state.camera.K[0, 0]),
                                         state.stereo.baseline_m)
        return dataclasses.replace(output, disparity=disparity)
