"""The randomizer registries: parsing, ranges, reproducibility, errors, and the generated docs."""

from __future__ import annotations

import math
import pickle
from pathlib import Path

import cv2
import numpy as np
import pytest
from pydantic import BaseModel, ValidationError

from synthscene.errors import ConfigError
from synthscene.registry.effect_registry import EFFECTS, EffectsField, apply_effects, parse_effects
from synthscene.registry.params import field_range
from synthscene.registry.texture_registry import TEXTURES, TextureField, parse_texture_spec
from synthscene.seeding import frame_rng
from synthscene.tools.reference_docs import example_config, registry_markdown

ROOT = Path(__file__).resolve().parents[1]
SRC = "scenes/x.yaml"

BRIEF_EFFECTS = [
    {"name": "gaussian_noise", "sigma": {"uniform": [0, 6]}, "probability": 0.5},
    {"name": "motion_blur", "length_px": {"randint": [3, 9]}, "angle_deg": {"uniform": [0, 180]},
     "probability": 0.2},
    {"name": "jpeg", "quality": {"randint": [40, 95]}},
]


@pytest.fixture
def card() -> np.ndarray:
    rng = frame_rng(9, 9)
    img = cv2.resize(rng.integers(0, 256, (6, 8, 3), dtype=np.uint8), (64, 48),
                     interpolation=cv2.INTER_LINEAR)
    img[10:20, 10:20] = 255
    return img


def _in_range(spec, value) -> bool:
    if spec.options is not None:
        return value in spec.options
    v = np.atleast_1d(np.asarray(value, float))
    lo_ok = (v > spec.low) if spec.low_exclusive else (v >= spec.low)
    return bool(lo_ok.all() and (v <= spec.high).all())


@pytest.mark.parametrize("registry", [TEXTURES, EFFECTS], ids=["textures", "effects"])
def test_default_draws_stay_within_every_fields_range(registry):
    for name, entry in registry.items():
        params = entry.params()
        rng = frame_rng(0, 0)
        for _ in range(200):
            drawn = params.draw(rng=rng)
            for field in entry.params.model_fields:
                spec = field_range(entry.params, field)
                if spec is None:
                    continue
                key = field[:-4] + "_rad" if field.endswith("_deg") else field
                value = drawn[key]
                if field.endswith("_deg"):
                    value = math.degrees(value)
                if spec.integer:
                    assert isinstance(value, int), (name, field)
                assert _in_range(spec, value), (name, field, value)


def test_configured_ranges_hold_over_many_draws():
    effects = parse_effects(BRIEF_EFFECTS, source=SRC, field="effects")
    rng = frame_rng(1, 0)
    draws = {e.name: [] for e in effects}
    for _ in range(2000):
        for e in effects:
            d = e.draw(rng=rng)
            if d is not None:
                draws[e.name].append(d)
    sigma = np.array([d["sigma"] for d in draws["gaussian_noise"]])
    assert 0 <= sigma.min() < 0.1 and 5.9 < sigma.max() < 6
    lengths = {d["length_px"] for d in draws["motion_blur"]}
    assert lengths == set(range(3, 10))
    angles = np.array([d["angle_rad"] for d in draws["motion_blur"]])      # degrees -> radians
    assert 0 <= angles.min() < 0.1 and 3.0 < angles.max() < math.pi
    quality = [d["quality"] for d in draws["jpeg"]]
    assert min(quality) == 40 and max(quality) == 95
    assert all(isinstance(q, int) for q in quality)
    # probability: the fraction of frames an effect is applied to.
    assert abs(len(draws["gaussian_noise"]) / 2000 - 0.5) < 0.05
    assert abs(len(draws["motion_blur"]) / 2000 - 0.2) < 0.04
    assert len(draws["jpeg"]) == 2000


def test_effects_are_reproducible_and_leave_the_input(card):
    before = card.copy()
    for name in EFFECTS:
        (effect,) = parse_effects([name], source=SRC, field="effects")
        a = effect.apply(card, rng=frame_rng(3, 0))
        b = effect.apply(card, rng=frame_rng(3, 0))
        np.testing.assert_array_equal(a, b)
        outputs = [effect.apply(card, rng=frame_rng(3, i)).tobytes() for i in range(1, 6)]
        assert len(set(outputs)) > 1, name              # the drawn parameters vary with the seed
        assert a.shape == card.shape and a.dtype == np.uint8
        assert not np.array_equal(a, card), name
    np.testing.assert_array_equal(card, before)
    chain = parse_effects(BRIEF_EFFECTS, source=SRC, field="effects")
    out = apply_effects(chain, card, rng=frame_rng(4, 0))
    np.testing.assert_array_equal(out, apply_effects(chain, card, rng=frame_rng(4, 0)))
    np.testing.assert_array_equal(card, before)
    skipped = parse_effects([{"name": "jpeg", "probability": 0}], source=SRC, field="effects")
    out = apply_effects(skipped, card, rng=frame_rng(4, 0))
    np.testing.assert_array_equal(out, card)
    assert out is not card


def test_textures_are_reproducible_and_noise_is_not_constant():
    for kind in TEXTURES:
        spec = parse_texture_spec({"kinds": kind}, source=SRC, field="texture", base_dir=ROOT)
        a = spec.sample(rng=frame_rng(5, 0), size=(32, 48))
        b = spec.sample(rng=frame_rng(5, 0), size=(32, 48))
        assert a.shape == (32, 48, 3) and a.dtype == np.uint8
        np.testing.assert_array_equal(a, b)
        draws = {spec.sample(rng=frame_rng(5, i), size=(32, 48)).tobytes() for i in range(6)}
        assert len(draws) == 6, kind                    # a different seed, a different texture
        if kind in ("perlin", "blobs"):
            assert a.astype(float).std() > 1.0, kind


def test_texture_colours_stay_within_configured_ranges():
    raw = {"kinds": {"choice": ["uniform", "perlin"]},
           "uniform": {"color": {"uniform": [[0.2, 0.4, 0.6], [0.3, 0.5, 0.7]]}},
           "perlin": {"color_a": {"uniform": [[0.2, 0.4, 0.6], [0.3, 0.5, 0.7]]},
                      "color_b": [0.25, 0.45, 0.65], "scale_px": 8}}
    spec = parse_texture_spec(raw, source=SRC, field="texture")
    rng = frame_rng(6, 0)
    lo = np.floor(255 * np.array([0.2, 0.4, 0.6]))
    hi = np.ceil(255 * np.array([0.3, 0.5, 0.7]))
    for _ in range(100):
        tex = spec.sample(rng=rng, size=16).reshape(-1, 3)
        assert (tex >= lo).all() and (tex <= hi).all()


def test_texture_probability_and_kind_weights():
    never = parse_texture_spec({"probability": 0}, source=SRC, field="texture")
    assert all(never.sample(rng=frame_rng(0, i), size=8) is None for i in range(20))
    spec = parse_texture_spec({"probability": 0.8,
                               "kinds": {"choice": ["perlin", "uniform"], "weights": [0, 1]}},
                              source=SRC, field="texture")
    results = [spec.sample(rng=frame_rng(0, i), size=8) for i in range(500)]
    textured = [r for r in results if r is not None]
    assert abs(len(textured) / 500 - 0.8) < 0.06
    assert all(np.ptp(r.reshape(-1, 3), axis=0).max() == 0 for r in textured)   # all uniform


def test_texture_degrees_become_radians():
    spec = parse_texture_spec({"kinds": "stripes", "stripes": {"angle_deg": 90}},
                              source=SRC, field="texture")
    drawn = spec.configured["stripes"].params.draw(rng=frame_rng(0, 0))
    assert drawn["angle_rad"] == pytest.approx(math.pi / 2) and "angle_deg" not in drawn
    tex = spec.sample(rng=frame_rng(0, 0), size=32)
    assert (tex == tex[:, :1]).all()                                          # horizontal stripes


def test_image_kind_resolves_folders(tmp_path):
    folder = tmp_path / "tex"
    folder.mkdir()
    cv2.imwrite(str(folder / "green.png"), np.full((8, 8, 3), (0, 200, 0), np.uint8))
    spec = parse_texture_spec({"kinds": "image", "image": {"folder": "tex"}}, source=SRC,
                              field="texture", base_dir=tmp_path)
    assert (spec.sample(rng=frame_rng(0, 0), size=4) == [0, 200, 0]).all()
    bundled = parse_texture_spec({"kinds": ["image"]}, source=SRC, field="texture")
    assert bundled.sample(rng=frame_rng(0, 0), size=64).shape == (64, 64, 3)
    with pytest.raises(ConfigError) as info:
        parse_texture_spec({"kinds": "image", "image": {"folder": "missing"}}, source=SRC,
                           field="ground.material.texture", base_dir=tmp_path)
    assert str(info.value).startswith(f"{SRC}: ground.material.texture.image.folder: ")
    assert "not found" in str(info.value)


@pytest.mark.parametrize(("raw", "field", "fragments"), [
    ([{"name": "gausian_noise"}], "effects[0].name",
     ["unknown effect 'gausian_noise'", "valid effects: gaussian_noise, gaussian_blur"]),
    ([{"name": "jpeg"}, {"name": "jpeg", "qualty": 50}], "effects[1].qualty",
     ["unknown parameter 'qualty'", "valid parameters: quality, probability"]),
    ([{"name": "gaussian_noise", "sigma": {"normal": [0, 2]}}], "effects[0].sigma",
     [">= 0", "truncnormal"]),
    ([{"name": "jpeg", "quality": 101}], "effects[0].quality", ["integer in [0, 100]"]),
    ([{"name": "motion_blur", "length_px": 2.5}], "effects[0].length_px", ["integer"]),
    ([{"name": "hue", "probability": 2}], "effects[0].probability", ["less than or equal"]),
    ([{"sigma": 1}], "effects[0]", ["{name: EFFECT, ...}", "gaussian_noise"]),
    ({"name": "jpeg"}, "effects", ["must be a list"]),
])
def test_effect_errors_name_the_field_and_list_valid_values(raw, field, fragments):
    with pytest.raises(ConfigError) as info:
        parse_effects(raw, source=SRC, field="effects")
    message = str(info.value)
    assert message.startswith(f"{SRC}: {field}: "), message
    for fragment in fragments:
        assert fragment in message, message


@pytest.mark.parametrize(("raw", "field", "fragments"), [
    ({"kinds": ["perlin", "voronoi"]}, "t.kinds",
     ["unknown texture kind 'voronoi'", "perlin, checkerboard, stripes"]),
    ({"perlin": {"scale": 3}}, "t.perlin.scale",
     ["unknown parameter 'scale'", "valid parameters: scale_px, octaves"]),
    ({"colour": 1}, "t.colour", ["unknown key 'colour'", "probability, kinds, perlin"]),
    ({"probability": 1.5}, "t.probability", ["[0, 1]"]),
    ({"perlin": {"color_a": [1, 0]}}, "t.perlin.color_a", ["3 numbers"]),
    ({"perlin": {"color_a": [2, 0, 0]}}, "t.perlin.color_a", ["each in [0, 1]"]),
    ({"gradient": {"mode": "spiral"}}, "t.gradient.mode", ["one of linear, radial"]),
    ({"kinds": {"uniform": [0, 1]}}, "t.kinds", ["kind name"]),
    ("perlin", "t", ["mapping"]),
])
def test_texture_errors_name_the_field_and_list_valid_values(raw, field, fragments):
    with pytest.raises(ConfigError) as info:
        parse_texture_spec(raw, source=SRC, field="t")
    message = str(info.value)
    assert message.startswith(f"{SRC}: {field}: "), message
    for fragment in fragments:
        assert fragment in message, message


def test_pydantic_fields_for_scenario_models(tmp_path):
    class Spec(BaseModel):
        effects: EffectsField = []
        texture: TextureField = None

    spec = Spec.model_validate({"effects": BRIEF_EFFECTS, "texture": {"kinds": "uniform"}})
    assert [e.name for e in spec.effects] == ["gaussian_noise", "motion_blur", "jpeg"]
    assert spec.texture.sample(rng=frame_rng(0, 0), size=4).shape == (4, 4, 3)
    assert Spec().texture is None and Spec().effects == []
    with pytest.raises(ValidationError, match=r"\[1\]\.length_px: .*integer"):
        Spec.model_validate({"effects": [{"name": "jpeg"}, {"name": "motion_blur",
                                                            "length_px": 0.5}]})
    (tmp_path / "t").mkdir()
    cv2.imwrite(str(tmp_path / "t" / "a.png"), np.zeros((4, 4, 3), np.uint8))
    raw = {"texture": {"kinds": "image", "image": {"folder": "t"}}}
    ok = Spec.model_validate(raw, context={"base_dir": tmp_path})
    assert ok.texture.sample(rng=frame_rng(0, 0), size=2).shape == (2, 2, 3)


def test_documented_examples_parse_and_docs_are_current():
    for name in EFFECTS:
        parse_effects([example_config(EFFECTS, name)], source="docs", field="effects")
    for name in TEXTURES:
        example = example_config(TEXTURES, name)["texture"]
        spec = parse_texture_spec(example, source="docs", field="texture")
        assert spec.sample(rng=frame_rng(0, 0), size=8).shape == (8, 8, 3)
    text = registry_markdown()
    for name in list(TEXTURES) + list(EFFECTS):
        assert f"| `{name}` |" in text
    # the page holds the reference between its markers, below its hand-written table
    body = "\n".join(line for line in text.splitlines()
                     if not line.startswith("# ") and "Generated by" not in line).strip()
    doc = ROOT / "docs" / "randomizers.md"
    assert body in doc.read_text(encoding="utf-8"), \
        "docs/randomizers.md is out of date: run python scripts/make_docs.py"


def test_configured_randomizers_pickle_for_worker_processes():
    effects = parse_effects(BRIEF_EFFECTS, source=SRC, field="effects")
    texture = parse_texture_spec({"kinds": ["perlin", "image"]}, source=SRC, field="t")
    effects2, texture2 = pickle.loads(pickle.dumps((effects, texture)))
    card = np.full((16, 16, 3), 100, np.uint8)
    np.testing.assert_array_equal(apply_effects(effects, card, rng=frame_rng(0, 1)),
                                  apply_effects(effects2, card, rng=frame_rng(0, 1)))
    np.testing.assert_array_equal(texture.sample(rng=frame_rng(0, 2), size=8),
                                  texture2.sample(rng=frame_rng(0, 2), size=8))


def test_a_registry_and_the_scenario_loader_read_a_validation_error_the_same_way():
    """One reader of pydantic errors: the prefix stripped and a huge message cut to the same
    length, whether a registry validates the parameters or the loader reads the scenario."""
    from pydantic import field_validator

    from synthscene.config.loading import scenario_from_dict
    from synthscene.registry.params import RandomizerParams
    from synthscene.registry.randomizers import Registry
    from synthscene.registry.validation_errors import MAX_MESSAGE_CHARS

    class Loud(RandomizerParams):
        level: int = 0

        @field_validator("level")
        @classmethod
        def _quiet(cls, value: int) -> int:
            if value > 1:
                raise ValueError("too loud " + "x" * 2000)
            return value

    registry = Registry("noise")
    registry.register("loud", lambda **_: None, params=Loud)
    with pytest.raises(ConfigError) as direct:
        registry.configure("loud", {"level": 5}, source="s.yaml", field="noise")
    assert direct.value.field == "noise.level"
    assert direct.value.message.startswith("too loud x")
    assert len(direct.value.message) == MAX_MESSAGE_CHARS
    with pytest.raises(ConfigError) as loaded:
        scenario_from_dict({"assets": [{"source": "primitive:box"}],
                            "effects": [{"name": "gaussian_noise", "sigma": "x" * 2000}]})
    assert loaded.value.field == "effects[0].sigma"
    assert len(loaded.value.message) <= MAX_MESSAGE_CHARS
