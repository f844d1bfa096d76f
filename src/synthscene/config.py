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

LIGHT_KINDS = ("directional", "point", "spot")


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


def _light_kind(value: Any) -> Distribution:
    d = parse_distribution(value, numeric=False)
    options = d.options if isinstance(d, Choice) else (d.value,)
    bad = [o for o in options if o not in LIGHT_KINDS]
    if bad or not isinstance(d, (Choice, Constant)):
        raise ValueError(f"light kinds must be among {', '.join(LIGHT_KINDS)}, got {value!r}")
    return d


Dist = Annotated[Distribution, PlainValidator(_dist)]
PositiveDist = Annotated[Distribution, PlainValidator(_positive)]
NonNegativeDist = Annotated[Distribution, PlainValidator(_non_negative)]
UnitDist = Annotated[Distribution, PlainValidator(_unit)]
CountDist = Annotated[Distribution, PlainValidator(_count)]
AngleDist = Annotated[Distribution, PlainValidator(_degrees)]
LightKindDist = Annotated[Distribution, PlainValidator(_light_kind)]


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


class MaterialSpec(_Spec):
    """PBR metallic-roughness parameters, drawn per object (linear RGB in [0, 1])."""

    base_color: UnitDist = Uniform((0.05, 0.05, 0.05), (0.95, 0.95, 0.95))
    metallic: UnitDist = Uniform(0.0, 0.2)
    roughness: UnitDist = Uniform(0.3, 0.9)


class ObjectsSpec(_Spec):
    """How many objects, which assets, how big, and where they are dropped."""

    count: CountDist = RandInt(10, 30)
    size_m: PositiveDist = Uniform(0.06, 0.16)
    asset_sampling: Literal["category", "asset"] = "category"
    drop_region: Box3 = Box3(x_m=(-0.35, 0.35), y_m=(-0.35, 0.35), z_m=(0.05, 0.4))
    material: MaterialSpec = MaterialSpec()


class GroundSpec(_Spec):
    """A square ground plane at z = 0; objects resting outside it are removed."""

    enabled: bool = True
    size_m: float = Field(3.0, gt=0)
    material: MaterialSpec = MaterialSpec(
        base_color=Uniform((0.2, 0.2, 0.2), (0.8, 0.8, 0.8)),
        metallic=Constant(0.0), roughness=Uniform(0.6, 1.0),
    )


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
    ambient: UnitDist = Uniform((0.08, 0.08, 0.08), (0.25, 0.25, 0.25))


class CameraSpec(_Spec):
    """A camera on a spherical shell around a random look-at point, looking at it."""

    look_at: Box3 = Box3(x_m=(-0.1, 0.1), y_m=(-0.1, 0.1), z_m=(0.0, 0.05))
    elevation_deg: AngleDist = Uniform(25.0, 75.0).scaled(math.pi / 180)
    azimuth_deg: AngleDist = Uniform(0.0, 360.0).scaled(math.pi / 180)
    distance_m: PositiveDist = Uniform(0.9, 1.5)
    fov_deg: AngleDist = Uniform(45.0, 60.0).scaled(math.pi / 180)
    znear_m: float = Field(0.01, gt=0)
    zfar_m: float = Field(100.0, gt=0)

    @model_validator(mode="after")
    def _fov_in_range(self) -> CameraSpec:
        lo, hi = self.fov_deg.support()
        if not (0 < lo and hi < math.pi):
            raise ValueError("fov_deg must lie in (0, 180) degrees")
        if self.znear_m >= self.zfar_m:
            raise ValueError("znear_m must be smaller than zfar_m")
        return self


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
    physics: PhysicsSpec = PhysicsSpec()
    render: RenderSpec = RenderSpec()


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
        spec = ScenarioSpec.model_validate(data)
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
