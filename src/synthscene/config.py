"""Scenario files: the YAML schema, validated in one place.

A scenario says what assets to use and how every quantity of a frame is randomized. Every random
quantity is a distribution written as in :mod:`synthscene.randomize.distributions`
(``{uniform: [a, b]}``, ``{randint: [a, b]}``, ``{choice: [...]}``, ...). Units are SI; the only
exception is fields ending in ``_deg``, which are degrees in YAML and radians once parsed.

Any error (YAML syntax, unknown key, wrong type, value out of range) raises
:class:`~synthscene.errors.ConfigError` naming the file, the dotted field and what is allowed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, get_args, get_origin

import yaml
from pydantic import BaseModel, ConfigDict, Field, PlainValidator, ValidationError, model_validator

from synthscene.errors import ConfigError
from synthscene.randomize.distributions import (
    Choice,
    Constant,
    Distribution,
    RandInt,
    Uniform,
    parse_distribution,
)
from synthscene.randomize.extensions import (
    CAMERA_SAMPLERS,
    PLACEMENTS,
    CameraSamplerField,
    HooksField,
    PlacementField,
    default,
)
from synthscene.randomize.registry import EffectsField, TextureField

LIGHT_KINDS = ("directional", "point", "spot")
ASSET_APPEARANCES = ("randomize", "keep", "jitter")


def _dist(value: Any) -> Distribution:
    return parse_distribution(value)


def _positive(value: Any) -> Distribution:
    d = parse_distribution(value)
    if not d.support()[0] > 0:
        raise ValueError(f"must be > 0 for every draw, got {value!r} (use uniform or truncnormal "
                         "with a positive lower bound)")
    return d


def _non_negative(value: Any) -> Distribution:
    d = parse_distribution(value)
    if not d.support()[0] >= 0:
        raise ValueError(f"must be >= 0 for every draw, got {value!r}")
    return d


def _unit(value: Any) -> Distribution:
    d = parse_distribution(value)
    lo, hi = d.support()
    if not (0 <= lo and hi <= 1):
        raise ValueError(f"must lie in [0, 1] for every draw, got {value!r}")
    return d


def _count(value: Any) -> Distribution:
    d = parse_distribution(value)
    if isinstance(d, Constant):
        v = d.value
        if isinstance(v, float) and v.is_integer():
            d = Constant(int(v))
        else:
            raise ValueError(f"a count must be an integer, got {value!r}")
    elif not isinstance(d, (RandInt, Choice)):
        raise ValueError(f"a count must be an integer, {{randint: [a, b]}} or {{choice: [...]}}, "
                         f"got {value!r}")
    if d.support()[0] < 0:
        raise ValueError(f"a count must be >= 0, got {value!r}")
    return d


def _degrees(value: Any) -> Distribution:
    return parse_distribution(value).scaled(math.pi / 180.0)


def _kelvin(value: Any) -> Distribution:
    d = parse_distribution(value)
    lo, hi = d.support()
    if not (1667 <= lo and hi <= 25000):
        raise ValueError(f"colour temperatures must lie in [1667, 25000] K, got {value!r}")
    return d


def _one_of(allowed: tuple[str, ...], what: str):
    """A validator of a constant or ``{choice: [...]}`` over the names ``allowed``."""

    def validate(value: Any) -> Distribution:
        d = parse_distribution(value, numeric=False)
        options = d.options if isinstance(d, Choice) else (getattr(d, "value", None),)
        bad = [o for o in options if o not in allowed]
        if bad or not isinstance(d, (Choice, Constant)):
            raise ValueError(f"{what} must be among {', '.join(allowed)}, got {value!r}")
        return d

    return validate


Dist = Annotated[Distribution, PlainValidator(_dist)]
PositiveDist = Annotated[Distribution, PlainValidator(_positive)]
NonNegativeDist = Annotated[Distribution, PlainValidator(_non_negative)]
UnitDist = Annotated[Distribution, PlainValidator(_unit)]
CountDist = Annotated[Distribution, PlainValidator(_count)]
AngleDist = Annotated[Distribution, PlainValidator(_degrees)]
KelvinDist = Annotated[Distribution, PlainValidator(_kelvin)]
LightKindDist = Annotated[Distribution, PlainValidator(_one_of(LIGHT_KINDS, "light kinds"))]
AppearanceDist = Annotated[
    Distribution, PlainValidator(_one_of(ASSET_APPEARANCES, "asset_appearance"))
]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)


class ImageSpec(_Spec):
    """Image size in pixels."""

    width: int = Field(640, gt=0, le=16384)
    height: int = Field(480, gt=0, le=16384)


class AssetEntry(_Spec):
    """One asset source (see :class:`synthscene.assets.AssetSource` for the syntax)."""

    source: str = Field(min_length=1)
    category: str | None = None


class Box3(_Spec):
    """An axis-aligned box, in metres: ``x_m: [min, max]`` and so on."""

    x_m: tuple[float, float]
    y_m: tuple[float, float]
    z_m: tuple[float, float]

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

    hue_deg: AngleDist = Uniform(-15.0, 15.0).scaled(math.pi / 180)
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

    base_color: UnitDist = Uniform((0.05, 0.05, 0.05), (0.95, 0.95, 0.95))
    metallic: UnitDist = Uniform(0.0, 0.2)
    roughness: UnitDist = Uniform(0.3, 0.9)
    texture: TextureField = None
    asset_appearance: AppearanceDist = Constant("randomize")
    jitter: JitterSpec = JitterSpec()

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


class ObjectsSpec(_Spec):
    """How many objects, which assets, how big, and where they are dropped.

    ``placement`` (``{name: NAME, PARAM: value, ...}``) chooses the objects and their poses
    before physics: the built-in ``drop`` or a plug-in's placement (``docs/randomizers.md``).
    """

    count: CountDist = RandInt(10, 30)
    size_m: PositiveDist = Uniform(0.06, 0.16)
    asset_sampling: Literal["category", "asset"] = "category"
    drop_region: Box3 = Box3(x_m=(-0.35, 0.35), y_m=(-0.35, 0.35), z_m=(0.05, 0.4))
    material: MaterialSpec = MaterialSpec()
    placement: PlacementField = Field(default_factory=default(PLACEMENTS, "drop"))


class GroundSpec(_Spec):
    """A square ground plane at z = 0; objects resting outside it are removed."""

    enabled: bool = True
    size_m: float = Field(3.0, gt=0)
    material: MaterialSpec = MaterialSpec(
        base_color=Uniform((0.2, 0.2, 0.2), (0.8, 0.8, 0.8)),
        metallic=Constant(0.0), roughness=Uniform(0.6, 1.0),
    )

    @model_validator(mode="after")
    def _backdrop(self) -> GroundSpec:
        _no_asset_appearance(self.material, "the ground")
        return self


class LightsSpec(_Spec):
    """1 to N lights on a shell around the scene, aimed at the origin, plus ambient light."""

    count: CountDist = RandInt(1, 4)
    kind: LightKindDist = Choice(LIGHT_KINDS)
    elevation_deg: AngleDist = Uniform(30.0, 85.0).scaled(math.pi / 180)
    azimuth_deg: AngleDist = Uniform(0.0, 360.0).scaled(math.pi / 180)
    distance_m: PositiveDist = Uniform(1.5, 3.0)
    directional_intensity: NonNegativeDist = Uniform(1.0, 2.5)
    point_intensity: NonNegativeDist = Uniform(2.0, 8.0)
    spot_intensity: NonNegativeDist = Uniform(4.0, 12.0)
    spot_outer_cone_deg: AngleDist = Uniform(25.0, 45.0).scaled(math.pi / 180)
    color: UnitDist = Uniform((0.85, 0.85, 0.85), (1.0, 1.0, 1.0))
    color_temperature_k: KelvinDist | None = None
    """Black-body colour temperature in kelvin (1667-25000); replaces ``color`` when given."""
    ambient: UnitDist = Uniform((0.08, 0.08, 0.08), (0.25, 0.25, 0.25))

    @model_validator(mode="after")
    def _one_colour(self) -> LightsSpec:
        if self.color_temperature_k is not None and "color" in self.model_fields_set:
            raise ValueError("give either color or color_temperature_k, not both")
        return self


class CameraPose(_Spec):
    """A fixed camera pose: where the camera is and the point it looks at, in metres."""

    position_m: tuple[float, float, float]
    look_at_m: tuple[float, float, float]


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
    elevation_deg: AngleDist = Uniform(25.0, 75.0).scaled(math.pi / 180)
    azimuth_deg: AngleDist = Uniform(0.0, 360.0).scaled(math.pi / 180)
    distance_m: PositiveDist = Uniform(0.9, 1.5)
    height_m: PositiveDist = Uniform(0.8, 1.2)
    poses: list[CameraPose] = Field(default_factory=list)
    roll_deg: AngleDist = Constant(0.0)
    fov_deg: AngleDist = Uniform(45.0, 60.0).scaled(math.pi / 180)
    focal_jitter: PositiveDist = Constant(1.0)
    principal_point_jitter_px: Dist = Constant(0.0)
    znear_m: float = Field(0.01, gt=0)
    zfar_m: float = Field(100.0, gt=0)
    min_visible_objects: int = Field(0, ge=0)
    max_tries: int = Field(20, ge=1, le=1000)
    views_per_scene: int = Field(1, ge=1, le=1000)
    """K: each scene is sampled and settled once and seen from K cameras drawn from the sampler
    (frame ``i`` is view ``i % K`` of scene ``i // K``)."""
    redraw_per_view: list[Literal["lights", "background", "effects"]] = Field(
        default_factory=list)
    """What each view draws anew (default: every view of a scene shares its lights, background
    and sensor-effect draws); objects, materials and poses always stay."""

    @model_validator(mode="after")
    def _consistent(self) -> CameraSpec:
        lo, hi = self.fov_deg.support()
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
    material: MaterialSpec = MaterialSpec()


class FixtureSpec(_Spec):
    """A static scene element (tote, tray, shelf): rendered, collides, never labelled.

    ``size_m`` is its longest bounding-box edge; it stands on the ground (bounding box bottom at
    z = 0) at ``position_m`` (x, y), turned by ``yaw_deg`` about the vertical.
    """

    source: str = Field(min_length=1)
    size_m: PositiveDist = Constant(0.6)
    position_m: tuple[float, float] = (0.0, 0.0)
    yaw_deg: AngleDist = Constant(0.0)
    material: MaterialSpec = MaterialSpec()


class RoomSpec(_Spec):
    """Four walls around the ground's square, facing inwards (rendering only)."""

    enabled: bool = False
    height_m: float = Field(1.5, gt=0)
    material: MaterialSpec = MaterialSpec(
        base_color=Uniform((0.3, 0.3, 0.3), (0.9, 0.9, 0.9)),
        metallic=Constant(0.0), roughness=Uniform(0.6, 1.0),
    )

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

    color: UnitDist = Constant(0.0)
    images: str | None = None
    image_probability: float = Field(1.0, ge=0, le=1)


class PhysicsSpec(_Spec):
    """pybullet settling. A field left out keeps the default of
    :class:`synthscene.physics.PhysicsSettings`, the one place those defaults live."""

    enabled: bool = True
    timestep_s: float | None = Field(None, gt=0, le=0.05)
    max_steps: int | None = Field(None, gt=0)
    lateral_friction: float | None = Field(None, ge=0)
    restitution: float | None = Field(None, ge=0, le=1)


class RenderSpec(_Spec):
    """Shading and output encoding."""

    shading: Literal["lit", "flat"] = "lit"
    shadows: bool = False
    msaa_samples: Literal[1, 2, 4, 8] = 1
    """Multisample anti-aliasing of the colour image (1: none); labels are never blended."""
    png_compression: int = Field(1, ge=0, le=9)
    image_format: Literal["png", "jpg"] = "png"
    """Encoding of the RGB images; labels never depend on it (effects are applied before)."""
    jpeg_quality: int = Field(95, ge=1, le=100)
    """libjpeg quality of ``jpg`` images."""


class OutputsSpec(_Spec):
    """Which labels are made beyond RGB, COCO masks and boxes.

    Per image (files in folders beside ``images/``, named like the image; encodings and
    folders in :mod:`synthscene.writers.maps`):
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
    normals: bool = False
    semantic_mask: bool = False
    instance_mask: bool = False
    amodal: bool = True
    pose: bool = True
    keypoints: bool = True


class LabelsSpec(_Spec):
    """Which visible objects get an annotation; the others get none (and are void, 0, in the
    semantic and instance masks)."""

    min_visible_px: int = Field(1, ge=1)
    """Minimum visible pixel count (COCO ``area``)."""
    min_visib_fract: float = Field(0.0, ge=0.0, le=1.0)
    """Minimum visible fraction (visible / amodal pixels, BOP's ``visib_fract``)."""
    label_truncated: bool = True
    """False: objects partly outside the image (``truncation > 0``) get no annotation."""


class ScenarioSpec(_Spec):
    """A whole scenario: the root of a scenario YAML file."""

    name: str = "scenario"
    description: str = ""
    image: ImageSpec = ImageSpec()
    assets: list[AssetEntry] = Field(min_length=1)
    objects: ObjectsSpec = ObjectsSpec()
    ground: GroundSpec = GroundSpec()
    lights: LightsSpec = LightsSpec()
    camera: CameraSpec = CameraSpec()
    distractors: DistractorsSpec = DistractorsSpec()
    fixtures: list[FixtureSpec] = Field(default_factory=list)
    room: RoomSpec = RoomSpec()
    background: BackgroundSpec = BackgroundSpec()
    physics: PhysicsSpec = PhysicsSpec()
    render: RenderSpec = RenderSpec()
    effects: EffectsField = Field(default_factory=list)
    """Sensor effects applied to the RGB after labelling (see ``docs/randomizers.md``)."""
    hooks: HooksField = Field(default_factory=list)
    """Scene hooks (plug-ins) applied to each frame's scene, in order (``docs/randomizers.md``)."""
    outputs: OutputsSpec = OutputsSpec()
    labels: LabelsSpec = LabelsSpec()

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


@dataclass(frozen=True)
class Scenario:
    """A validated scenario and where it came from.

    Attributes
    ----------
    spec : ScenarioSpec
    source : str
        The file it was read from, or ``"<dict>"``.
    base_dir : Path
        Folder that relative asset paths resolve against (the file's folder).
    """

    spec: ScenarioSpec
    source: str
    base_dir: Path


def _field_path(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _model_at(loc: tuple) -> type[BaseModel] | None:
    """The model class that owns the field at ``loc`` (for listing its allowed keys)."""
    model: Any = ScenarioSpec
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return None
        field = model.model_fields.get(part)
        if field is None:
            return None
        ann = field.annotation
        if get_origin(ann) is list:
            ann = get_args(ann)[0]
        model = ann
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _format_error(err: dict) -> tuple[str, str]:
    loc = tuple(err["loc"])
    field = _field_path(loc)
    if err["type"] == "extra_forbidden":
        model = _model_at(loc)
        allowed = ", ".join(model.model_fields) if model else "?"
        return field, f"unknown field '{loc[-1]}'; allowed fields here: {allowed}"
    msg = err["msg"]
    for prefix in ("Value error, ", "Assertion failed, "):
        if msg.startswith(prefix):
            msg = msg[len(prefix):]
    if err["type"] == "missing":
        msg = "this field is required"
    if loc and loc[-1] in ("texture", "effects", "placement", "sampler", "hooks") \
            and ": " in msg:
        # The randomizer registries report "SUBFIELD: message"; join it to the dotted path.
        sub, rest = msg.split(": ", 1)
        if sub and " " not in sub:
            field, msg = field + ("" if sub.startswith("[") else ".") + sub, rest
    return field, msg


def scenario_from_dict(data: Any, *, source: str = "<dict>",
                       base_dir: Path | None = None) -> Scenario:
    """Validate a scenario given as a Python mapping.

    Parameters
    ----------
    data : mapping
        The scenario, as it would be read from YAML.
    source : str
        Named in error messages.
    base_dir : Path, optional
        Folder for relative asset paths; the current folder if omitted.

    Returns
    -------
    Scenario

    Raises
    ------
    ConfigError
        Naming ``source``, the dotted field and what is allowed.
    """
    if not isinstance(data, dict):
        raise ConfigError(source, "", f"a scenario must be a mapping of fields, got "
                                      f"{type(data).__name__}")
    try:
        spec = ScenarioSpec.model_validate(
            data, context={"base_dir": (base_dir or Path.cwd()).resolve()})
    except ValidationError as exc:
        errors = exc.errors()
        field, msg = _format_error(errors[0])
        if len(errors) > 1:
            msg += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
        raise ConfigError(source, field, msg) from None
    return Scenario(spec=spec, source=source, base_dir=(base_dir or Path.cwd()).resolve())


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario YAML file.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    Scenario

    Raises
    ------
    ConfigError
        If the file is missing, unreadable, not YAML, or fails validation.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(str(path), "", "scenario file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(str(path), "", f"cannot read the scenario file ({exc})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(str(path), "", f"not valid YAML: {where}{problem}") from None
    return scenario_from_dict(data, source=str(path), base_dir=path.parent)
