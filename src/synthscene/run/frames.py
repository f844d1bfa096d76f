"""Making one labelled frame: sample -> settle -> render -> annotate, for any frame index.

:class:`FrameMaker` owns one :class:`~synthscene.physics.simulator.PhysicsSimulator` (one
pybullet client) and one :class:`~synthscene.render.renderer.Renderer` (one GL context) and makes
frames in any order: frame ``i`` of a run with seed ``s`` draws from
``Generator(PCG64(SeedSequence([s, i])))`` (:func:`synthscene.seeding.frame_rng`) and nothing
else, so its bytes do not depend on which frames the same maker made before. That is what lets
:mod:`synthscene.run.pipeline` shard frames over processes and resume a run. One maker per
process; a process that holds one must not fork.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

import numpy as np

from synthscene.config.fields import NativeSize
from synthscene.config.loading import Scenario
from synthscene.core.state import FrameMotion, PointTracks, Sample, SceneState, SequenceFrame
from synthscene.errors import AssetError, PluginError
from synthscene.io.coco import track_id
from synthscene.labels.annotate import LabelFilter, annotate
from synthscene.labels.motion import FlowBuffers, FlowSource, point_tracks
from synthscene.physics.settings import PhysicsSettings
from synthscene.randomize.compose import BackgroundLoader, composite_background
from synthscene.randomize.scene import finish_scene, sample_scene, sample_view
from synthscene.randomize.scene_hooks import run_hooks
from synthscene.randomize.stable import places_at_rest, warm_up
from synthscene.randomize.trajectory import sample_trajectory
from synthscene.registry.effect_registry import apply_effects
from synthscene.render.settings import RenderSettings
from synthscene.run.sensors import Sensors
from synthscene.seeding import frame_rng, scene_rng

if TYPE_CHECKING:  # assets (trimesh) and the back ends load on first use, not on import
    from synthscene.assets.library import AssetLibrary, SceneLibraries
    from synthscene.physics.simulator import PhysicsSimulator
    from synthscene.render.renderer import Renderer

__all__ = ["STAGES", "FrameMaker", "build_library", "physics_settings",
           "render_settings"]

logger = logging.getLogger(__name__)

STAGES = ("sample", "physics", "render", "labels", "write")
"""Stages timed per frame, in pipeline order (``write`` is timed by whoever writes)."""


def build_library(scenario: Scenario, *, workers: int = 1,
                  cache_dir: str | Path | None = None) -> SceneLibraries:
    """Index and check the scenario's assets: labelled objects, distractors and fixtures
    (:func:`synthscene.run.scene_libraries.build_libraries`), through the on-disk asset cache
    ``cache_dir`` (a folder; None: ``SYNTHSCENE_CACHE_DIR`` or the platform's user cache
    folder; ``"none"``: no cache); broken ones that their source lets skip are left out and
    listed in ``skipped``.

    Parameters
    ----------
    scenario : Scenario
    workers : int
        Processes that check a large library (over ``PRELOAD_LIMIT`` assets).

    Raises
    ------
    AssetError
        Naming the scenario file and the field (``assets[i].source``, ...) of a bad source, of
        a broken asset with ``on_error: fail``, or of a category whose assets are all broken.
    """
    from synthscene.run.scene_libraries import build_libraries

    return build_libraries(scenario, workers=workers, cache_dir=cache_dir)


def physics_settings(scenario: Scenario) -> PhysicsSettings:
    """The :class:`PhysicsSettings` a scenario asks for (its defaults where the scenario is
    silent; ``settle`` False after a placement that puts objects at rest)."""
    p = scenario.spec.physics
    given = {"timestep": p.timestep_s, "max_steps": p.max_steps,
             "lateral_friction": p.lateral_friction, "restitution": p.restitution}
    settle = p.settle if p.settle is not None else not places_at_rest(
        scenario.spec.objects.placement)
    return PhysicsSettings(enabled=p.enabled, settle=settle,
                           steps_after_placement=p.steps_after_placement,
                           **{name: value for name, value in given.items() if value is not None})


def render_settings(scenario: Scenario) -> RenderSettings:
    """The :class:`RenderSettings` a scenario asks for."""
    r, outputs = scenario.spec.render, scenario.spec.outputs
    return RenderSettings(shading=r.shading, msaa_samples=r.msaa_samples,
                          shadow_lights=r.shadows.max_lights,
                          normals=outputs.normals, amodal=outputs.amodal,
                          max_loaded_assets=scenario.spec.limits.max_loaded_assets)


def label_filter(scenario: Scenario) -> LabelFilter:
    """The :class:`~synthscene.labels.annotate.LabelFilter` of a scenario's ``labels:`` section."""
    f = scenario.spec.labels
    return LabelFilter(min_visible_px=f.min_visible_px, min_visib_fract=f.min_visib_fract,
                       label_truncated=f.label_truncated)


class FrameMaker:
    """Context manager that makes labelled frames of one scenario and seed, in any order.

    Parameters
    ----------
    scenario : Scenario
    library : SceneLibraries or AssetLibrary
        The scenario's assets (:func:`build_library`); a plain library of ``scenario.assets``
        gets the scenario's distractor and fixture libraries added. Meshes are uploaded to GL and
        their collision shapes built once, on first use, and reused for every frame.
    seed : int
        Run seed, >= 0.

    Raises
    ------
    ValueError
        If ``seed`` is negative.
    AssetError, ConfigError
        If ``library`` is a plain library and the scenario's other assets or background images
        cannot be indexed.

    Examples
    --------
    >>> with FrameMaker(scenario, build_library(scenario), seed=0) as maker:  # doctest: +SKIP
    ...     sample = maker.make(41)   # the same bytes as frame 41 of any other run with seed 0
    """

    def __init__(self, scenario: Scenario, library: AssetLibrary | SceneLibraries, *,
                 seed: int) -> None:
        if seed < 0:
            raise ValueError(f"seed must be >= 0, got {seed}")
        self.scenario = scenario
        from synthscene.run.scene_libraries import scene_libraries

        self.library = scene_libraries(scenario, library)
        self.seed = int(seed)
        self._physics: PhysicsSimulator | None = None
        self._renderer: Renderer | None = None
        self._backgrounds = BackgroundLoader()
        self._label_filter = label_filter(scenario)
        self._model_bounds: dict[str, object] = {}  # asset key -> (2, 3) mesh bounds
        self._flow_buffers = FlowBuffers()  # optical flow work arrays, reused frame to frame
        self._scene: tuple[int, SceneState] | None = None  # the last settled scene (K > 1)
        self._sensors = Sensors(scenario, seed=self.seed)  # lens, depth sensor, stereo pair
        self._pair: tuple[int, SceneState, np.random.Generator] | None = None  # the last pair

    def __enter__(self) -> FrameMaker:
        """Open the pybullet client and the GL context.

        Raises
        ------
        synthscene.errors.RenderError
            If no GL context can be made.
        """
        # The back ends load here, on first use, not when synthscene is imported.
        from synthscene.physics.simulator import PhysicsSimulator
        from synthscene.render.renderer import Renderer

        physics = PhysicsSimulator(self.library, physics_settings(self.scenario))
        size = self._sensors.render_size or self._sensors.image_size  # a lens's: per frame
        renderer = Renderer(self.library, *size, render_settings(self.scenario))
        physics.__enter__()
        try:
            renderer.__enter__()
        except BaseException:
            physics.close()
            raise
        self._physics, self._renderer = physics, renderer
        spec = self.scenario.spec
        if places_at_rest(spec.objects.placement):
            warm_up(spec, self.library)  # every asset's stable poses, before the first frame
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Release the GL context and the pybullet client; idempotent."""
        renderer, self._renderer = self._renderer, None
        physics, self._physics = self._physics, None
        try:
            if renderer is not None:
                renderer.close()
        finally:
            if physics is not None:
                physics.close()

    def make(self, frame_index: int) -> Sample:
        """Make frame ``frame_index`` (``next(self.frames([frame_index]))``).

        Parameters
        ----------
        frame_index : int
            >= 0.

        Returns
        -------
        Sample
            As yielded by :meth:`frames`.

        Raises
        ------
        RuntimeError, ValueError, SynthsceneError
            As :meth:`frames`.
        """
        return next(self.frames([frame_index]))

    def frames(self, indices: Iterable[int]) -> Iterator[Sample]:
        """Make the frames ``indices``, in that order, overlapping rendering with physics.

        Software pipeline (one frame deep): frame ``i``'s GL work is submitted, then frame
        ``i + 1`` is sampled and settled on this thread while the GL driver rasterises frame ``i``
        in its own threads (llvmpipe) or on the GPU; then frame ``i``'s pixels are collected and
        labelled. ``indices`` is read lazily, one index ahead of the frame yielded, so it may be
        fed from a queue. The frames are the same bytes as made one by one.

        Parameters
        ----------
        indices : iterable of int
            Frame indices, each >= 0, in any order.

        Yields
        ------
        Sample
            ``render.rgb`` (H, W, 3) uint8, ``render.depth`` (H, W) float32 metres,
            ``render.instance_ids`` (H, W) int32, ``labels`` (COCO-ready per-instance labels),
            ``state`` (the settled scene) and ``timings``: seconds spent in ``sample``,
            ``physics``, ``render`` (submitting plus waiting for the pixels) and ``labels``.

        Raises
        ------
        RuntimeError
            If the maker is not open.
        ValueError
            If an index is negative.
        SynthsceneError
            For an asset that cannot be loaded, an impossible placement, a failed render.
        PluginError
            If a plug-in fails: one line naming the plug-in, the frame and the error.
        """
        if self._physics is None or self._renderer is None:
            raise RuntimeError("FrameMaker needs to be open: use it in a with block")
        if self.scenario.spec.sequence is not None:
            yield from self._sequence_frames(indices)
            return
        pending = None
        for index in indices:
            index = int(index)
            if index < 0:
                raise ValueError(f"frame_index must be >= 0, got {index}")
            try:
                state, timings, rng = self._settled(index)
            except PluginError as exc:
                raise _on_frame(exc, index) from None
            state = self._sensors.with_lens(state, index)
            if pending is not None:
                yield self._collect(*pending)
            t0 = time.perf_counter()
            frame = self._renderer.submit(self._sensors.to_render(state))
            timings["render"] = time.perf_counter() - t0
            pending = (index, state, timings, frame, rng)
        if pending is not None:
            yield self._collect(*pending)

    def _settled(self, index: int):
        """Sample and settle frame ``index``; return the state, timings and the frame's
        generator (its later draws make the sensor effects).

        With ``camera.stereo``, frame ``index`` is eye ``index % 2`` of pair ``index // 2``: the
        pair is made as frame ``index // 2`` of a single camera would be (kept for its other
        eye), and each eye gets a copy of the pair's generator, so both draw the same sensor
        effects (:meth:`Sensors.eye`).
        """
        if self._sensors.stereo is None:
            return self._settled_frame(index)
        pair = index // 2
        timings = {"sample": 0.0, "physics": 0.0}
        if self._pair is None or self._pair[0] != pair:
            state, timings, rng = self._settled_frame(pair)
            self._pair = (pair, state, rng)
        _, state, rng = self._pair
        return self._sensors.eye(state, index), timings, copy.deepcopy(rng)

    def _settled_frame(self, index: int):
        """:meth:`_settled` for a single camera.

        With ``camera.views_per_scene`` K > 1, frame ``index`` is view ``index % K`` of scene
        ``index // K``: the scene is sampled and settled once (kept for the next frame of the
        same scene) and each view drawn from it (:func:`sample_view`); the effects draw from
        the view's generator if ``redraw_per_view`` lists ``effects``, else from the scene's
        shared child stream (the same draws for every view).
        """
        views = self.scenario.spec.camera.views_per_scene
        if views > 1:
            return self._view(*divmod(index, views), views)
        rng = frame_rng(self.seed, index)
        t0 = time.perf_counter()
        state = sample_scene(self.scenario, self.library, rng=rng, seed=(self.seed, index))
        t1 = time.perf_counter()
        state = self._physics.settle(state)
        state = finish_scene(self.scenario, self.library, state, rng=rng)
        t2 = time.perf_counter()
        return state, {"sample": t1 - t0, "physics": t2 - t1}, rng

    def _view(self, scene: int, view: int, views: int):
        """The state, timings and effects generator of view ``view`` of scene ``scene``."""
        t0 = time.perf_counter()
        timings = {"sample": 0.0, "physics": 0.0}
        if self._scene is None or self._scene[0] != scene:
            state = sample_scene(self.scenario, self.library, rng=scene_rng(self.seed, scene),
                                 seed=(self.seed, scene))
            t1 = time.perf_counter()
            self._scene = (scene, self._physics.settle(state))
            timings = {"sample": t1 - t0, "physics": time.perf_counter() - t1}
        t2 = time.perf_counter()
        rng = scene_rng(self.seed, scene, child=view)
        state = sample_view(self.scenario, self.library, self._scene[1], rng=rng,
                            view=(scene, view))
        timings["sample"] += time.perf_counter() - t2
        if "effects" not in self.scenario.spec.camera.redraw_per_view:
            rng = scene_rng(self.seed, scene, child=views)
        return state, timings, rng

    def _bounds_of(self, state: SceneState) -> dict[str, object]:
        """Bounds of the normalised mesh of every labelled object's asset (cached)."""
        for obj in state.objects:
            if obj.labelled and obj.asset_key not in self._model_bounds:
                self._model_bounds[obj.asset_key] = self.library.get(obj.asset_key).mesh.bounds
        return self._model_bounds

    def _origins_of(self, state: SceneState) -> dict[str, object] | None:
        """With ``objects.size_m: native``, each labelled object's model is its asset's file:
        the file origin of every labelled object's asset (:attr:`Asset.file_origin`)."""
        if not isinstance(self.scenario.spec.objects.size_m, NativeSize):
            return None
        return {obj.asset_key: self.library.get(obj.asset_key).file_origin
                for obj in state.objects if obj.labelled}

    def _sequence_frames(self, indices: Iterable[int]) -> Iterator[Sample]:
        """:meth:`frames` for a scenario with ``sequence:``: the frames of one sequence
        (consecutive indices) are made together (see :meth:`_sequence`)."""
        per_sequence = self.scenario.spec.sequence.length * self._eyes
        group: list[int] = []
        for index in indices:
            index = int(index)
            if index < 0:
                raise ValueError(f"frame_index must be >= 0, got {index}")
            if group and group[-1] // per_sequence != index // per_sequence:
                yield from self._sequence_named(group)
                group = []
            group.append(index)
        if group:
            yield from self._sequence_named(group)

    @property
    def _eyes(self) -> int:
        """Images per instant: 2 with ``camera.stereo``, else 1."""
        return 1 if self._sensors.stereo is None else 2

    def _sequence_named(self, indices: list[int]) -> Iterator[Sample]:
        """:meth:`_sequence`, a plug-in's failure while the sequence is made naming its first
        frame."""
        try:
            yield from self._sequence(indices)
        except PluginError as exc:
            raise _on_frame(exc, indices[0]) from None

    def _sequence(self, indices: list[int]) -> Iterator[Sample]:
        """Make frames ``indices`` of one sequence.

        Sequence ``s`` (frames ``s * T .. s * T + T - 1``) is sampled from
        ``scene_rng(seed, s)`` (with the objects' initial velocities), simulated once through
        every frame time ``t / fps`` (and the motion-blur sub-frame times), and seen along a
        camera path drawn from its child stream 0; floating distractors are placed in front of
        the first camera (child 1) and stay; frame ``t``'s sensor effects draw from child
        ``2 + t``, the point tracks from child ``2 + T``; the ``after_physics`` hooks run on
        every frame, each time with a new generator of child ``3 + T``. Every frame of the
        sequence is rendered when flow or point tracks are on (they need the other frames'
        depth), else only those asked for; a frame's flow is computed while the GL driver draws
        the frame after its next one.

        With ``camera.stereo`` each step ``t`` has two frames, ``2 (s T + t)`` (left eye) and
        ``2 (s T + t) + 1`` (right eye, the left camera moved by the sequence's baseline along
        its x axis), both seeing the same simulated state; both eyes' effects draw from child
        ``2 + t`` (each eye its own pixel noise). Flow and point tracks follow each eye through
        time (left ``t`` to left ``t + 1``); the point tracks of both eyes are the same points,
        drawn on the left eye's first frame.
        """
        spec = self.scenario.spec
        sequence = spec.sequence
        length, eyes = sequence.length, self._eyes
        scene = indices[0] // (length * eyes)
        times = [t / sequence.fps for t in range(length)]
        blur = spec.render.motion_blur
        sub_times = [[max(0.0, time_s + blur.shutter_s * (k / (blur.samples - 1) - 0.5))
                      for k in range(blur.samples)] for time_s in times] if blur else []
        t0 = time.perf_counter()
        state = sample_scene(self.scenario, self.library, rng=scene_rng(self.seed, scene),
                             seed=(self.seed, scene))
        path = sample_trajectory(sequence.trajectory, spec.camera, spec.image.width,
                                 spec.image.height, times[-1],
                                 rng=scene_rng(self.seed, scene, child=0))
        t1 = time.perf_counter()
        every = sorted(set(times).union(*sub_times))
        at = dict(zip(every, self._physics.simulate(state, every)))
        t2 = time.perf_counter()
        first = finish_scene(self.scenario, self.library,
                             dataclasses.replace(at[0.0], camera=path.at(0.0)),
                             rng=scene_rng(self.seed, scene, child=1), hooks=False)
        floating = first.objects[len(at[0.0].objects):]
        hooked = any(hook.stage == "after_physics" for hook in spec.hooks)

        def state_at(time_s: float, t: int, eye: int) -> SceneState:
            simulated = at[time_s]
            state = dataclasses.replace(simulated, camera=path.at(time_s),
                                        objects=simulated.objects + floating, pending_floating=0,
                                        sequence=SequenceFrame(scene, t, float(sequence.fps)))
            if hooked:
                # Every frame (and motion-blur sub-frame) gets the hooks with the same draws,
                # from a fresh copy of the sequence's hook stream: what a hook draws holds for
                # the whole sequence; a hook that animates reads ``state.sequence.frame_index``.
                state = run_hooks(spec.hooks, state, "after_physics",
                                  rng=scene_rng(self.seed, scene, child=3 + length))
            state = self._sensors.with_lens(state, scene)  # one lens for the whole sequence
            return self._sensors.eye(state, (scene * length + t) * eyes + eye, rig=scene)

        states = [[state_at(time_s, t, eye) for t, time_s in enumerate(times)]
                  for eye in range(eyes)]
        wanted = [divmod(index % (length * eyes), eyes) for index in indices]  # (t, eye)
        outs = spec.outputs
        every_frame = bool(outs.flow or outs.point_tracks)
        drawn = ([(t, eye) for t in range(length) for eye in range(eyes)] if every_frame
                 else sorted(set(wanted)))
        outputs: list[dict] = [{} for _ in range(eyes)]
        seconds, motions = {}, {}
        flow_of = [key for key in wanted if outs.flow]

        def flow_ready(last: int) -> None:
            """Flow of the wanted frames whose neighbours are rendered up to step ``last``."""
            while flow_of and flow_of[0][0] + 1 <= last:
                t, eye = flow_of.pop(0)
                motions[t, eye] = self._motion(states[eye], outputs[eye], t, self._flow_buffers)

        for t, eye in drawn:
            r0 = time.perf_counter()
            frame = self._renderer.submit(self._sensors.to_render(states[eye][t]))
            seconds[t, eye] = time.perf_counter() - r0
            flow_ready(t - 1)  # on this thread while the GL driver draws frame t
            r0 = time.perf_counter()
            outputs[eye][t] = self._sensors.through_lens(states[eye][t], frame.result())
            if blur and (t, eye) in wanted:
                outputs[eye][t] = dataclasses.replace(outputs[eye][t], rgb=self._blurred(
                    [state_at(time_s, t, eye) for time_s in sub_times[t]]))
            seconds[t, eye] += time.perf_counter() - r0
        flow_ready(length)
        tracks = self._point_tracks(states, outputs, scene) if outs.point_tracks else None
        shared = {"sample": t1 - t0, "physics": t2 - t1}
        for index, (t, eye) in zip(indices, wanted):
            timings = {**shared, "render": seconds[t, eye]}
            shared = {"sample": 0.0, "physics": 0.0}  # the sequence's cost, on its first frame
            yield self._label(index, states[eye][t], timings, outputs[eye][t],
                              scene_rng(self.seed, scene, child=2 + t),
                              motions.pop((t, eye), None), tracks and tracks[eye])

    def _blurred(self, states: list[SceneState]) -> np.ndarray:
        """The mean of the RGB images of ``states`` (a shutter's sub-frames), rounded:
        (H, W, 3) uint8. With a lens, each sub-frame is rendered as a pinhole and warped
        through the lens before the mean."""
        total = None
        for state in states:
            if state.camera.lens is None:
                rgb = self._renderer.render(state).rgb.astype(np.float32)
            else:
                rgb = self._sensors.through_lens(
                    state, self._renderer.render(self._sensors.to_render(state))
                ).rgb.astype(np.float32)
            total = rgb if total is None else total + rgb
        return np.round(total / len(states)).astype(np.uint8)

    def _point_tracks(self, states: list[list[SceneState]], outputs: list[dict], scene: int
                      ) -> list[PointTracks]:
        """The sequence's point tracks, one per eye
        (:func:`synthscene.labels.motion.point_tracks`): the points drawn on the first frame of
        the first (left) eye, followed through each eye's frames."""
        length = len(states[0])

        def poses(state: SceneState) -> dict[int, object]:
            return {o.instance_id: o.world_from_object for o in state.objects}

        first, start = outputs[0][0], states[0][0]
        labelled = {o.instance_id for o in start.objects if o.labelled}
        tracks = []
        for eye, eye_states in enumerate(states):
            target, occluded, ids = point_tracks(
                first.depth, first.instance_ids, start.camera, poses(start), labelled,
                self.scenario.spec.outputs.point_tracks,
                [(s.camera, poses(s), outputs[eye][t].depth, outputs[eye][t].instance_ids)
                 for t, s in enumerate(eye_states)],
                rng=scene_rng(self.seed, scene, child=2 + length))
            # Where each track is queried: the first frame the eye sees it in (frame 0 for
            # the points drawn there; frame 0 for a point the eye never sees).
            frame = np.argmax(~occluded, axis=1) if eye else np.zeros(len(ids), np.intp)
            rows = np.arange(len(ids))
            query = np.zeros((len(ids), 3), dtype=np.float32)
            query[:, 0] = frame
            query[:, 1], query[:, 2] = target[rows, frame, 1], target[rows, frame, 0]
            tracks.append(PointTracks(
                sequence_id=scene, target_points=target, occluded=occluded, query_points=query,
                track_ids=np.array([track_id(scene, i) for i in ids], np.int64),
                eye=eye_states[0].stereo.eye if eye_states[0].stereo is not None else None))
        return tracks

    @staticmethod
    def _motion(states: list[SceneState], outputs: dict, t: int,
                buffers: FlowBuffers) -> FrameMotion:
        """Forward and backward flow of frame ``t`` of a sequence (:func:`rigid_flow`, from
        one :class:`FlowSource` of frame ``t``, with the maker's work arrays)."""
        output = outputs[t]
        height, width = output.depth.shape

        def poses(state: SceneState) -> dict[int, object]:
            return {o.instance_id: o.world_from_object for o in state.objects
                    if o.physics == "dynamic"}

        source = FlowSource(output.depth, output.instance_ids, states[t].camera,
                            poses(states[t]), buffers=buffers)

        def towards(n: int) -> tuple:
            if n not in outputs:
                return np.zeros((height, width, 2), np.float32), np.zeros((height, width), bool)
            return source.flow_to(states[n].camera, poses(states[n]), outputs[n].depth,
                                  outputs[n].instance_ids)

        forward, forward_valid = towards(t + 1)
        backward, backward_valid = towards(t - 1)
        return FrameMotion(forward=forward, forward_valid=forward_valid, backward=backward,
                           backward_valid=backward_valid)

    def _collect(self, index: int, state: SceneState, timings: dict[str, float], frame,
                 rng) -> Sample:
        """Wait for a submitted frame and label it (:meth:`_label`)."""
        t0 = time.perf_counter()
        output = self._sensors.through_lens(state, frame.result())
        timings["render"] += time.perf_counter() - t0
        return self._label(index, state, timings, output, rng)

    def _label(self, index: int, state: SceneState, timings: dict[str, float], output,
               rng, motion: FrameMotion | None = None,
               tracks: PointTracks | None = None) -> Sample:
        """Label a rendered frame, then composite its background and apply the sensor effects
        to its RGB (neither moves a labelled pixel); a plug-in's failure names the frame."""
        try:
            return self._label_frame(index, state, timings, output, rng, motion, tracks)
        except PluginError as exc:
            raise _on_frame(exc, index) from None

    def _label_frame(self, index: int, state: SceneState, timings: dict[str, float], output,
                     rng, motion: FrameMotion | None, tracks: PointTracks | None) -> Sample:
        t1 = time.perf_counter()
        outputs = self.scenario.spec.outputs
        labels = annotate(state, output, pose=outputs.pose, keypoints=outputs.keypoints,
                          model_bounds=self._bounds_of(state) if outputs.keypoints else None,
                          filters=self._label_filter,
                          model_origins=self._origins_of(state) if outputs.pose else None)
        rgb = output.rgb
        if state.background_image is not None:
            try:
                background = self._backgrounds.frame(state.background_image, rgb.shape[1],
                                                     rgb.shape[0])
            except AssetError as exc:  # name the field that brought the image in
                raise AssetError(f"{self.scenario.source}: background.images: {exc}") from None
            rgb = composite_background(rgb, output.depth, background)
        if self.scenario.spec.effects:
            rgb = apply_effects(self.scenario.spec.effects, rgb, rng=rng,
                                pixel_rng=self._sensors.pixel_rng(state, index))
        if rgb is not output.rgb:
            output = dataclasses.replace(output, rgb=rgb)
        output = self._sensors.with_depth_reading(output, state.camera, index, state.stereo)
        output = self._sensors.with_disparity(output, state)
        timings["labels"] = time.perf_counter() - t1
        return Sample(frame_index=index, state=state, render=output, labels=labels,
                      timings=timings, motion=motion, point_tracks=tracks)


def _on_frame(exc: PluginError, index: int) -> PluginError:
    """``exc`` with the frame it happened in (once)."""
    text = str(exc)
    return exc if text.startswith("frame ") else PluginError(f"frame {index}: {text}")
