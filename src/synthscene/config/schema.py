"""Scenario files: the YAML schema, validated in one place.

A scenario says what assets to use and how every quantity of a frame is randomized. Every random
quantity is a distribution written as in :mod:`synthscene.registry.distributions`
(``{uniform: [a, b]}``, ``{randint: [a, b]}``, ``{choice: [...]}``, ...). Units are SI; the only
exception is fields ending in ``_deg``, which are degrees in YAML and radians once parsed.

Any error (YAML syntax, unknown key, wrong type, value out of range) raises
:class:`~synthscene.errors.ConfigError` naming the file, the dotted field and what is allowed.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import (
    BeforeValidator,
    Field,
    model_validator,
)

from synthscene.config.fields import (
    LENGTH_LIMIT_M,
    LIGHT_KINDS,
    MAX_LIGHTS,
    MAX_LOADED_ASSETS,
    MAX_LOADED_MIB,
    MAX_MESH_TRIANGLES,
    MAX_OBJECTS,
    MAX_PHYSICS_STEPS,
    MAX_STEPS_BETWEEN_FRAMES,
    SHELF_BOARDS,
    AngleDist,
    AngularSpeedDist,
    AngularVelocityDist,
    AppearanceDist,
    ColorDist,
    CountDist,
    Dist,
    ElevationDist,
    FactorDist,
    IntensityDist,
    KelvinDist,
    LengthUnit,
    LightKindDist,
    NonNegativeDist,
    OnError,
    Pair,
    PositiveDist,
    SizeDist,
    TrajectoryKindDist,
    Triple,
    UnitDist,
    Vector3Dist,
    not_bool,
)
from synthscene.config.fields import ScenarioSection as _Spec
from synthscene.config.lighting import EnvironmentSpec
from synthscene.config.sensors import DepthSensorSpec, DistortionSpec, StereoSpec
from synthscene.registry.distributions import Choice, Constant, RandInt, Uniform
from synthscene.registry.effect_registry import EffectsField
from synthscene.registry.params import dist_field
from synthscene.registry.scene_registries import (
    CAMERA_SAMPLERS,
    PLACEMENTS,
    CameraSamplerField,
    HooksField,
    PlacementField,
    default,
)
from synthscene.registry.texture_registry import TextureField


class ImageSpec(_Spec):
    """Image size in pixels."""

    width: int = Field(640, gt=0, le=16384)
    height: int = Field(480, gt=0, le=16384)


class AssetEntry(_Spec):
    """One asset source (see :class:`synthscene.assets.library.AssetSource` for the syntax).

    ``unit`` is the length unit of the files' coordinates (``m``, ``cm`` or ``mm``; default
    ``m``, and ``mm`` for a ``bop:`` models folder); it matters with ``objects.size_m:
    native``. ``names`` (a ``bop:`` source only) maps BOP object ids to category names
    (``{1: mug, 5: bowl}``); the other objects keep ``obj_NNNNNN``.
    ``on_error`` says what a run does with an asset of the source that cannot be loaded, decided
    before the first frame: ``skip`` leaves it out of the library (listed in the run manifest),
    ``fail`` stops the run naming the file. Default: ``skip`` for a folder or a glob, ``fail``
    for a source that names one file.
    """

    source: str = Field(min_length=1)
    category: str | None = Field(None, min_length=1)
    unit: LengthUnit | None = None
    names: dict[Annotated[int, Field(ge=0)], Annotated[str, Field(min_length=1)]] | None = None
    on_error: OnError | None = None

    @model_validator(mode="after")
    def _names_of_bop_models(self) -> AssetEntry:
        if self.names is not None:
            if not self.source.strip().startswith("bop:"):
                raise ValueError("names is for a source: bop:PATH (a BOP models folder)")
            if self.category is not None:
                raise ValueError("give either category (every object) or names (per BOP "
                                 "object id), not both")
        return self


class Box3(_Spec):
    """An axis-aligned box, in metres: ``x_m: [min, max]`` and so on."""

    x_m: Pair
    y_m: Pair
    z_m: Pair

    @model_validator(mode="after")
    def _ordered(self) -> Box3:
        for name in ("x_m", "y_m", "z_m"):
            lo, hi = getattr(self, name)
            if lo > hi:
                raise ValueError(f"{name} must be [min, max] with min <= max, got [{lo}, {hi}]")
        return self


class JitterSpec(_Spec):
    """How ``asset_appearance: jitter`` changes an asset's own colours, drawn per object.

    ``hue_deg`` is added to the hue (degrees in YAML, radians once parsed); ``saturation`` and
    ``value`` multiply the HSV saturation and value (clipped to [0, 1]).
    """

    hue_rad: AngleDist = Uniform(-15.0, 15.0).scaled(math.pi / 180)
    saturation: PositiveDist = Uniform(0.8, 1.2)
    value: PositiveDist = Uniform(0.8, 1.2)


class MaterialSpec(_Spec):
    """PBR metallic-roughness parameters, drawn per object (linear RGB in [0, 1]).

    ``texture`` (see ``docs/randomizers.md``) draws a base-colour texture that replaces
    ``base_color`` when drawn. ``asset_appearance`` (objects, distractors and fixtures; a
    constant or ``{choice: [...]}`` drawn per object) says what an asset looks like:
    ``randomize`` (the default) draws ``base_color``, ``metallic``, ``roughness`` and
    ``texture``; ``keep`` renders the colours, textures and PBR values the asset's files declare
    (``metallic`` and ``roughness`` are drawn only when the scenario gives them); ``jitter``
    keeps the asset's own colours and textures with the hue, saturation and value changes of
    ``jitter``.
    """

    base_color: ColorDist = Uniform((0.05, 0.05, 0.05), (0.95, 0.95, 0.95))
    metallic: UnitDist = Uniform(0.0, 0.2)
    roughness: UnitDist = Uniform(0.3, 0.9)
    texture: TextureField = None
    asset_appearance: AppearanceDist = Constant("randomize")
    jitter: JitterSpec = Field(default_factory=JitterSpec)

    @model_validator(mode="before")
    @classmethod
    def _renamed(cls, data: Any) -> Any:
        if isinstance(data, dict) and "keep_asset_texture" in data:
            raise ValueError("keep_asset_texture was replaced by asset_appearance: keep "
                             "(or jitter, or randomize)")
        return data


def _no_asset_appearance(material: MaterialSpec, what: str) -> None:
    if {"asset_appearance", "jitter"} & material.model_fields_set:
        raise ValueError(f"{what} has no asset: asset_appearance and jitter apply to objects, "
                         "distractors and fixtures")


class InitialVelocitySpec(_Spec):
    """The velocity each labelled object starts a sequence with (``sequence:`` only), drawn per
    object: ``linear_m_s`` (x, y, z) of its centre of mass in metres per second, and
    ``angular_deg_s`` (x, y, z) about world axes, degrees per second (radians once parsed)."""

    linear_m_s: Vector3Dist = Constant((0.0, 0.0, 0.0))
    angular_rad_s: AngularVelocityDist = Constant((0.0, 0.0, 0.0))


class ObjectsSpec(_Spec):
    """How many objects, which assets, how big, and where they are dropped.

    ``size_m`` is an object's longest bounding-box edge in metres, drawn per object, or
    ``native``: each object keeps its asset's own size (after the asset's ``unit``).
    ``placement`` (``{name: NAME, PARAM: value, ...}``) chooses the objects and their poses
    before physics: the built-in ``drop``, ``stable`` (at rest on support surfaces, no
    simulation) or a plug-in's placement (``docs/randomizers.md``).
    """

    count: CountDist = RandInt(10, 30)
    size_m: SizeDist = Uniform(0.06, 0.16)
    asset_sampling: Literal["category", "asset"] = "category"
    drop_region: Box3 = Box3(x_m=(-0.35, 0.35), y_m=(-0.35, 0.35), z_m=(0.05, 0.4))
    material: MaterialSpec = Field(default_factory=MaterialSpec)
    initial_velocity: InitialVelocitySpec = Field(default_factory=InitialVelocitySpec)
    placement: PlacementField = Field(default_factory=default(PLACEMENTS, "drop"))


class GroundSpec(_Spec):
    """A square ground plane at z = 0; objects resting outside it are removed."""

    enabled: bool = True
    size_m: float = Field(3.0, gt=0, le=LENGTH_LIMIT_M)
    material: MaterialSpec = Field(default_factory=lambda: MaterialSpec(
        base_color=Uniform((0.2, 0.2, 0.2), (0.8, 0.8, 0.8)),
        metallic=Constant(0.0), roughness=Uniform(0.6, 1.0),
    ))

    @model_validator(mode="after")
    def _backdrop(self) -> GroundSpec:
        _no_asset_appearance(self.material, "the ground")
        return self


class LightsSpec(_Spec):
    """1 to N lights on a shell around the scene, aimed at the origin, plus ambient light."""

    count: CountDist = RandInt(1, 4)
    kind: LightKindDist = Choice(LIGHT_KINDS)
    elevation_rad: ElevationDist = Uniform(30.0, 85.0).scaled(math.pi / 180)
    azimuth_rad: AngleDist = Uniform(0.0, 360.0).scaled(math.pi / 180)
    distance_m: PositiveDist = Uniform(1.5, 3.0)
    directional_intensity: IntensityDist = Uniform(1.0, 2.5)
    point_intensity: IntensityDist = Uniform(2.0, 8.0)
    spot_intensity: IntensityDist = Uniform(4.0, 12.0)
    spot_outer_cone_rad: dist_field(low=0, high=90, low_exclusive=True, unit="deg") = Uniform(
        25.0, 45.0).scaled(math.pi / 180)
    color: ColorDist = Uniform((0.85, 0.85, 0.85), (1.0, 1.0, 1.0))
    color_temperature_k: KelvinDist | None = None
    """Black-body colour temperature in kelvin (1667-25000); replaces ``color`` when given."""
    ambient: ColorDist = Uniform((0.08, 0.08, 0.08), (0.25, 0.25, 0.25))
    environment: EnvironmentSpec | None = None
    """Image-based light from an environment map or the procedural sky (``docs/light.md``)."""

    @model_validator(mode="after")
    def _one_colour(self) -> LightsSpec:
        if self.color_temperature_k is not None and "color" in self.model_fields_set:
            raise ValueError("give either color or color_temperature_k, not both")
        return self


class CameraPose(_Spec):
    """A fixed camera pose: where the camera is and the point it looks at, in metres."""

    position_m: Triple
    look_at_m: Triple

    @model_validator(mode="after")
    def _apart(self) -> CameraPose:
        if math.dist(self.position_m, self.look_at_m) < 1e-6:
            raise ValueError("position_m and look_at_m must differ (the camera looks from its "
                             "position towards look_at_m)")
        return self


class CameraSpec(_Spec):
    """Where the camera is (a pose sampler), its intrinsics, and a visibility constraint.

    Samplers: ``shell`` (on a spherical shell around a random look-at point, looking at it),
    ``top_down`` (``height_m`` above a random look-at point, looking straight down) and
    ``fixed`` (one of ``poses``, uniformly). ``roll_deg`` then turns the camera about its optical
    axis. Intrinsics: a vertical ``fov_deg``, then ``focal_jitter`` (a factor, drawn separately for
    fx and fy) and ``principal_point_jitter_px`` (drawn separately for cx and cy).
    ``min_visible_objects``: the camera is redrawn (after physics, at most ``max_tries`` times)
    until at least that many labelled objects have their centre in the image.
    """

    sampler: CameraSamplerField = Field(default_factory=default(CAMERA_SAMPLERS, "shell"))
    """A camera sampler's name, or ``{name: NAME, PARAM: value, ...}`` for a plug-in's."""
    look_at: Box3 = Box3(x_m=(-0.1, 0.1), y_m=(-0.1, 0.1), z_m=(0.0, 0.05))
    elevation_rad: ElevationDist = Uniform(25.0, 75.0).scaled(math.pi / 180)
    azimuth_rad: AngleDist = Uniform(0.0, 360.0).scaled(math.pi / 180)
    distance_m: PositiveDist = Uniform(0.9, 1.5)
    height_m: PositiveDist = Uniform(0.8, 1.2)
    poses: list[CameraPose] = Field(default_factory=list)
    roll_rad: AngleDist = Constant(0.0)
    fov_rad: AngleDist = Uniform(45.0, 60.0).scaled(math.pi / 180)
    focal_jitter: FactorDist = Constant(1.0)
    principal_point_jitter_px: Dist = Constant(0.0)
    znear_m: float = Field(0.01, gt=0, le=LENGTH_LIMIT_M)
    zfar_m: float = Field(100.0, gt=0, le=1e6)
    min_visible_objects: int = Field(0, ge=0)
    max_tries: int = Field(20, ge=1, le=1000)
    views_per_scene: int = Field(1, ge=1, le=1000)
    """K: each scene is sampled and settled once and seen from K cameras drawn from the sampler
    (frame ``i`` is view ``i % K`` of scene ``i // K``)."""
    redraw_per_view: list[Literal["lights", "background", "effects"]] = Field(
        default_factory=list)
    """What each view draws anew (default: every view of a scene shares its lights, background
    and sensor-effect draws); objects, materials and poses always stay."""
    distortion: DistortionSpec | None = None
    """Lens distortion (:class:`DistortionSpec`); none: an ideal pinhole."""
    stereo: StereoSpec | None = None
    """A stereo pair (:class:`StereoSpec`): frames ``2p`` and ``2p + 1`` are the left and right
    images of pair ``p`` (with a ``sequence:``, pair ``p`` is step ``p % length`` of sequence
    ``p // length``); none: one camera."""

    @model_validator(mode="after")
    def _consistent(self) -> CameraSpec:
        lo, hi = self.fov_rad.support()
        if not (0 < lo and hi < math.pi):
            raise ValueError("fov_deg must lie in (0, 180) degrees")
        if self.znear_m >= self.zfar_m:
            raise ValueError("znear_m must be smaller than zfar_m")
        if self.sampler.name == "fixed" and not self.poses:
            raise ValueError("sampler 'fixed' needs a non-empty list of poses")
        if len(set(self.redraw_per_view)) != len(self.redraw_per_view):
            raise ValueError("redraw_per_view lists an item twice")
        return self


class DistractorsSpec(_Spec):
    """Objects that are rendered and occlude but are never labelled.

    A distractor is dropped with the objects (physics, in ``objects.drop_region``) or, with
    probability ``floating_probability``, floats in front of the camera: at a uniformly random
    pixel, at ``floating_depth`` times the distance from the camera to its look-at point.
    """

    count: CountDist = Constant(0)
    assets: list[AssetEntry] = Field(default_factory=lambda: [
        AssetEntry(source=f"primitive:{name}")
        for name in ("box", "sphere", "cylinder", "capsule", "cone", "torus")
    ])
    size_m: PositiveDist = Uniform(0.04, 0.15)
    floating_probability: float = Field(0.5, ge=0, le=1)
    floating_depth: UnitDist = Uniform(0.3, 0.8)
    material: MaterialSpec = Field(default_factory=MaterialSpec)


class FixtureSpec(_Spec):
    """A static scene element (tote, tray, shelf): rendered, collides, never labelled.

    ``size_m`` is its longest bounding-box edge; it stands on the ground (bounding box bottom at
    z = 0) at ``position_m`` (x, y), turned by ``yaw_deg`` about the vertical. ``name`` lets a
    placement stand objects on it (``surfaces: [fixture:NAME]``). ``boards`` (a
    ``primitive:shelf`` fixture only) draws the shelf's board count per frame.
    """

    source: str = Field(min_length=1)
    size_m: PositiveDist = Constant(0.6)
    position_m: Pair = (0.0, 0.0)
    yaw_rad: AngleDist = Constant(0.0)
    material: MaterialSpec = Field(default_factory=MaterialSpec)
    name: str | None = Field(None, pattern=r"^[A-Za-z_][A-Za-z0-9_-]*$")
    boards: dist_field(low=1, integer=True) | None = None

    @model_validator(mode="after")
    def _boards_of_a_shelf(self) -> FixtureSpec:
        if self.boards is None:
            return self
        if self.source.strip() != "primitive:shelf":
            raise ValueError("boards is for a source: primitive:shelf fixture (or give "
                             "primitive:shelf-N for N boards)")
        low, high = self.boards.support()
        if low < SHELF_BOARDS[0] or high > SHELF_BOARDS[1]:
            raise ValueError(f"boards must be an integer in [{SHELF_BOARDS[0]}, "
                             f"{SHELF_BOARDS[1]}] for every draw")
        return self


class RoomSpec(_Spec):
    """Four walls around the ground's square, facing inwards (rendering only)."""

    enabled: bool = False
    height_m: float = Field(1.5, gt=0, le=LENGTH_LIMIT_M)
    material: MaterialSpec = Field(default_factory=lambda: MaterialSpec(
        base_color=Uniform((0.3, 0.3, 0.3), (0.9, 0.9, 0.9)),
        metallic=Constant(0.0), roughness=Uniform(0.6, 1.0),
    ))

    @model_validator(mode="after")
    def _backdrop(self) -> RoomSpec:
        _no_asset_appearance(self.material, "the room")
        return self


class BackgroundSpec(_Spec):
    """What shows where nothing was rendered: a colour, or an image from a folder.

    ``images``: a folder (relative to the scenario file, or ``"assets:NAME"`` for one of the
    bundled ``assets/``) of PNG/JPEG files; with probability
    ``image_probability`` a random one, randomly cropped to the image's aspect and resized, is
    composited behind the rendered pixels (the labels do not change).
    """

    color: ColorDist = Constant(0.0)
    images: str | None = Field(None, min_length=1)
    image_probability: float = Field(1.0, ge=0, le=1)
    environment: bool = False
    """Show the frame's environment (``lights.environment``, turned as it lights the scene)
    where nothing was rendered, instead of the colour and images; a frame without one keeps
    them."""


class PhysicsSpec(_Spec):
    """pybullet settling. A field left out keeps the default of
    :class:`synthscene.physics.simulator.PhysicsSettings`, the one place those defaults live."""

    enabled: bool = True
    timestep_s: float | None = Field(None, gt=0, le=0.05)
    max_steps: int | None = Field(None, gt=0, le=MAX_PHYSICS_STEPS)
    lateral_friction: float | None = Field(None, ge=0, le=100)
    restitution: float | None = Field(None, ge=0, le=1)
    settle: bool | None = None
    """Simulate until the objects rest; default: yes, except after a placement that already
    puts them at rest (``stable``). Sequences simulate either way."""
    steps_after_placement: int = Field(0, ge=0, le=MAX_PHYSICS_STEPS)
    """With ``settle: false``: this many steps (``timestep_s`` each) after placement, a short
    settle for contact-accurate poses."""

    @model_validator(mode="after")
    def _steps_without_settle(self) -> PhysicsSpec:
        if self.steps_after_placement and self.settle is not False:
            raise ValueError("steps_after_placement needs settle: false (settle: true already "
                             "simulates until the objects rest)")
        return self


class MotionBlurSpec(_Spec):
    """Motion blur from the simulation: a frame's RGB is the mean of ``samples`` renders at
    times spread evenly over ``shutter_s`` seconds centred on the frame's time (clamped at the
    sequence's start); its labels, depth and flow are those of the central instant."""

    shutter_s: float = Field(gt=0, le=1.0)
    samples: int = Field(5, ge=2, le=64)


class ShadowsSpec(_Spec):
    """Shadows cast by the objects (onto each other, the ground and the walls), drawn per
    frame: with probability ``probability`` a frame has shadows, filtered over a radius of
    ``softness_m`` metres on the receiving surface (the penumbra's half-width), cast by its
    ``max_lights`` strongest lights. ``true`` is
    ``{}`` (always, the default softness), ``false`` is ``{probability: 0}``."""

    probability: float = Field(1.0, ge=0, le=1)
    softness_m: dist_field(low=0, high=1.0) = Uniform(0.002, 0.008)
    max_lights: int = Field(1, ge=0, le=1000)
    """How many of a frame's lights cast shadows: the strongest at the scene's centre (the
    others light unshadowed); each costs a depth pass (six for a point light) and a lookup per
    pixel."""


def _shadows_shortcut(value: Any) -> Any:
    """``render.shadows: true | false`` as the sections they stand for."""
    if value is True:
        return {}
    if value is False:
        return {"probability": 0.0}
    return value


class AmbientOcclusionSpec(_Spec):
    """Screen-space ambient occlusion (``docs/light.md``): contacts and creases get less ambient
    light. Drawn per frame (per scene with several views, per sequence), from the frame's own
    ``ambient_occlusion`` stream, so switching it on changes no other draw."""

    strength: dist_field(low=0, high=4) = Uniform(0.8, 1.0)
    """0: no darkening; 1: the estimated occlusion; more darkens more."""
    radius_m: dist_field(low=0, high=LENGTH_LIMIT_M, low_exclusive=True) = Uniform(0.08, 0.15)
    """How far from a point its occluders are looked for, metres."""
    probability: float = Field(1.0, ge=0, le=1)
    """Chance that a frame has ambient occlusion."""


class RenderSpec(_Spec):
    """Shading and output encoding."""

    shading: Literal["lit", "flat"] = "lit"
    shadows: Annotated[ShadowsSpec, BeforeValidator(_shadows_shortcut)] = Field(
        default_factory=ShadowsSpec)
    """Shadow maps (:class:`ShadowsSpec`); ``true`` or ``false`` for always or never."""
    ambient_occlusion: AmbientOcclusionSpec | None = None
    """Screen-space ambient occlusion (lit shading); None: off."""
    msaa_samples: Annotated[Literal[1, 2, 4, 8], BeforeValidator(not_bool)] = 1
    """Multisample anti-aliasing of the colour image (1: none); labels are never blended."""
    png_compression: int = Field(1, ge=0, le=9)
    image_format: Literal["png", "jpg"] = "png"
    """Encoding of the RGB images; labels never depend on it (effects are applied before)."""
    jpeg_quality: int = Field(95, ge=1, le=100)
    """libjpeg quality of ``jpg`` images."""
    motion_blur: MotionBlurSpec | None = None
    """Motion blur of a sequence's frames (``sequence:`` only)."""


class OutputsSpec(_Spec):
    """Which labels are made beyond RGB, COCO masks and boxes.

    Per image (files in folders beside ``images/``, named like the image; encodings and
    folders in :mod:`synthscene.io.maps`):
    ``depth_png`` (16-bit PNG, millimetres), ``depth_npy`` (float32 metres), ``normals``
    (camera-frame normals as an 8-bit RGB PNG), ``semantic_mask`` (16-bit PNG of category ids,
    with "ground" and "background" stuff ids), ``instance_mask`` (16-bit PNG of instance ids).
    Per instance: ``amodal`` (amodal box, area and RLE mask, ``visib_fract``, ``truncation``;
    one extra small GL pass), ``pose`` (``cam_R_m2c``, ``cam_t_m2c``, ``world_from_object``),
    ``keypoints`` (COCO keypoints of the 3D bounding box). The per-instance ones are cheap and on
    by default; the image files are off.
    """

    depth_png: bool = False
    depth_npy: bool = False
    flow: bool = False
    """Optical flow of a sequence's frames (``flow/``, ``flow_backward/``, ``flow_valid/``)."""
    flow_format: Literal["npy", "flo"] = "npy"
    """``npy``: (H, W, 2) float32 arrays; ``flo``: Middlebury ``.flo`` files (unknown flow, where
    not valid, as 1e10)."""
    point_tracks: int = Field(0, ge=0, le=100_000)
    """Points tracked through each sequence (``tracks/seq-000000.npz``; TAP-Vid's layout)."""
    normals: bool = False
    semantic_mask: bool = False
    instance_mask: bool = False
    amodal: bool = True
    pose: bool = True
    keypoints: bool = True
    depth_sensor: DepthSensorSpec | None = None
    """A simulated depth sensor's reading beside the exact depth (``depth_sensor/``,
    :class:`DepthSensorSpec`)."""


class LabelsSpec(_Spec):
    """Which visible objects get an annotation; the others get none (and are void, 0, in the
    semantic and instance masks)."""

    min_visible_px: int = Field(1, ge=1)
    """Minimum visible pixel count (COCO ``area``)."""
    min_visib_fract: float = Field(0.0, ge=0.0, le=1.0)
    """Minimum visible fraction (visible / amodal pixels, BOP's ``visib_fract``)."""
    label_truncated: bool = True
    """False: objects partly outside the image (``truncation > 0``) get no annotation."""


class TrajectorySpec(_Spec):
    """The camera's path over a sequence, drawn once per sequence.

    ``static``: one camera from the camera sampler. ``linear``: a start and an end camera from
    the sampler, the position moving at constant speed and the orientation turning at constant
    angular speed (spherical linear interpolation) between them. ``orbit``: the start camera
    turning about the vertical axis through the point its optical axis meets the ground
    (z = 0), at ``orbit_speed_deg_s``. ``handheld``: the ``handheld_base`` path (static or
    linear) with smooth shake: per axis, a sine of amplitude ``handheld_amplitude_m``
    (translation) and ``handheld_amplitude_deg`` (rotation about the camera's axes) at
    ``handheld_frequency_hz`` with a random phase.
    """

    kind: TrajectoryKindDist = Constant("static")
    """A name, or ``{choice: [...]}`` drawn per sequence."""
    orbit_speed_rad_s: AngularSpeedDist = Uniform(-30.0, 30.0).scaled(math.pi / 180)
    handheld_base: Literal["static", "linear"] = "static"
    handheld_amplitude_m: NonNegativeDist = Uniform(0.002, 0.01)
    handheld_amplitude_rad: AngleDist = Uniform(0.2, 1.0).scaled(math.pi / 180)
    handheld_frequency_hz: PositiveDist = Uniform(0.5, 2.0)


class SequenceSpec(_Spec):
    """Simulated video: each sequence is one scene simulated continuously for ``length``
    frames at ``fps`` (pybullet stepping at ``physics.timestep_s`` between frames), seen along a
    camera ``trajectory``. Frame ``i`` of a run is frame ``i % length`` of sequence
    ``i // length``; with ``camera.stereo``, frame ``i`` is eye ``i % 2`` (left, right) of step
    ``(i // 2) % length`` of sequence ``i // (2 length)``."""

    length: int = Field(24, ge=2, le=1000)
    fps: float = Field(12.0, gt=0, le=1000)
    trajectory: TrajectorySpec = Field(default_factory=TrajectorySpec)


class LimitsSpec(_Spec):
    """Upper bounds that keep a bad scenario from exhausting the machine. A scenario file may
    only lower them; whoever runs a scenario raises them (``--limit NAME=VALUE``, or
    ``limits=`` of :func:`~synthscene.config.loading.load_scenario`; see
    :mod:`synthscene.config.limits` and docs/scenarios.md, "Bad input and limits")."""

    max_objects: int = Field(MAX_OBJECTS, ge=1)
    """Most objects plus distractors a frame may have (``objects.count`` + ``distractors.count``
    at their largest)."""
    max_lights: int = Field(MAX_LIGHTS, ge=1)
    """Most lights a frame may have (``lights.count`` at its largest)."""
    max_mesh_triangles: int = Field(MAX_MESH_TRIANGLES, ge=1)
    """Most triangles of one asset's mesh; a larger mesh is refused (decimate it first)."""
    max_steps_between_frames: int = Field(MAX_STEPS_BETWEEN_FRAMES, ge=1)
    """Most physics steps from one frame of a sequence to the next."""
    max_loaded_assets: int = Field(MAX_LOADED_ASSETS, ge=1)
    """Most assets a worker holds in memory with their GL uploads, least recently used first
    out (an asset dropped is loaded again, from the asset cache, when next drawn; the output
    is the same whatever the limit). See docs/assets.md, "Memory"."""
    max_loaded_mib: int = Field(MAX_LOADED_MIB, ge=1)
    """Most memory, in MiB, that the assets a worker holds take with their GL uploads (their
    arrays, textures and an estimate of the uploads), least recently used first out; with
    ``max_loaded_assets``, whichever is reached first."""


class ScenarioSpec(_Spec):
    """A whole scenario: the root of a scenario YAML file."""

    name: str = "scenario"
    description: str = ""
    image: ImageSpec = Field(default_factory=ImageSpec)
    assets: list[AssetEntry] = Field(min_length=1)
    objects: ObjectsSpec = Field(default_factory=ObjectsSpec)
    ground: GroundSpec = Field(default_factory=GroundSpec)
    lights: LightsSpec = Field(default_factory=LightsSpec)
    camera: CameraSpec = Field(default_factory=CameraSpec)
    distractors: DistractorsSpec = Field(default_factory=DistractorsSpec)
    fixtures: list[FixtureSpec] = Field(default_factory=list)
    room: RoomSpec = Field(default_factory=RoomSpec)
    background: BackgroundSpec = Field(default_factory=BackgroundSpec)
    physics: PhysicsSpec = Field(default_factory=PhysicsSpec)
    render: RenderSpec = Field(default_factory=RenderSpec)
    effects: EffectsField = Field(default_factory=list)
    """Sensor effects applied to the RGB after labelling (see ``docs/randomizers.md``)."""
    hooks: HooksField = Field(default_factory=list)
    """Scene hooks (plug-ins) applied to each frame's scene, in order (``docs/randomizers.md``)."""
    outputs: OutputsSpec = Field(default_factory=OutputsSpec)
    labels: LabelsSpec = Field(default_factory=LabelsSpec)
    limits: LimitsSpec = Field(default_factory=LimitsSpec)
    sequence: SequenceSpec | None = None
    """Simulated video instead of independent frames (see :class:`SequenceSpec`)."""

    @model_validator(mode="after")
    def _sequence_fields(self) -> ScenarioSpec:
        if self.sequence is None:
            if "initial_velocity" in self.objects.model_fields_set:
                raise ValueError("objects.initial_velocity needs a sequence: section")
            if self.outputs.flow or self.outputs.point_tracks or self.render.motion_blur:
                raise ValueError("outputs.flow, outputs.point_tracks and render.motion_blur "
                                 "need a sequence: section")
            return self
        if self.camera.views_per_scene != 1:
            raise ValueError("camera.views_per_scene and sequence exclude each other")
        if self.camera.min_visible_objects:
            raise ValueError("camera.min_visible_objects is not used with a sequence (the "
                             "camera follows its trajectory): leave it 0")
        return self

    @model_validator(mode="after")
    def _surfaces_name_fixtures(self) -> ScenarioSpec:
        names = [f.name for f in self.fixtures if f.name is not None]
        if len(set(names)) != len(names):
            raise ValueError("fixtures: two fixtures have the same name")
        params = self.objects.placement.params
        for surface in getattr(params, "surfaces", ()):
            kind, _, name = surface.partition(":")
            if surface == "ground" and not self.ground.enabled:
                raise ValueError("objects.placement.surfaces: 'ground' needs ground.enabled: "
                                 "true (with no ground there is nothing to stand on); name a "
                                 "fixture (fixture:NAME) instead")
            if kind == "fixture" and name not in names:
                raise ValueError(f"objects.placement.surfaces: {surface!r} names no fixture; "
                                 f"fixture names: {', '.join(names) or 'none'}")
        return self

    @model_validator(mode="after")
    def _environment_background(self) -> ScenarioSpec:
        if self.background.environment and self.lights.environment is None:
            raise ValueError("background.environment needs lights.environment")
        return self

    @model_validator(mode="after")
    def _filters_have_amodal(self) -> ScenarioSpec:
        if not self.outputs.amodal:
            if self.labels.min_visib_fract > 0:
                raise ValueError("labels.min_visib_fract > 0 needs the amodal masks: set "
                                 "outputs.amodal: true")
            if not self.labels.label_truncated:
                raise ValueError("labels.label_truncated: false needs the amodal masks: set "
                                 "outputs.amodal: true")
        return self
