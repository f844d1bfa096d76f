"""Distributions stay in range and are reproducible from the generator."""

from __future__ import annotations

import math

import numpy as np

from synthscene.registry.distributions import parse_distribution
from synthscene.seeding import frame_rng


def draws(spec, n=2000, seed=0, numeric=True):
    d = parse_distribution(spec, numeric=numeric)
    rng = frame_rng(seed, 0)
    return [d.sample(rng) for _ in range(n)]


def test_ranges():
    u = np.array(draws({"uniform": [0.2, 0.5]}))
    assert u.min() >= 0.2 and u.max() < 0.5 and abs(u.mean() - 0.35) < 0.01
    r = np.array(draws({"randint": [10, 30]}))
    assert r.min() == 10 and r.max() == 30 and set(np.unique(r)) == set(range(10, 31))
    t = np.array(draws({"truncnormal": [0, 1, -0.5, 0.5]}))
    assert t.min() >= -0.5 and t.max() <= 0.5
    lu = np.array(draws({"loguniform": [0.01, 1.0]}))
    assert lu.min() >= 0.01 and lu.max() < 1.0 and abs(np.median(np.log10(lu)) + 1) < 0.1
    c = draws({"choice": ["a", "b"], "weights": [1, 3]}, n=4000, numeric=False)
    assert abs(c.count("b") / 4000 - 0.75) < 0.03
    v = np.array(draws({"uniform": [[0, 0.5, 1], [0.1, 0.6, 1]]}))
    assert v.shape == (2000, 3) and np.all(v[:, 2] == 1)
    assert np.all((v[:, 1] >= 0.5) & (v[:, 1] < 0.6))


def test_reproducible_from_seed():
    assert draws({"normal": [0, 1]}, seed=3) == draws({"normal": [0, 1]}, seed=3)
    assert draws({"normal": [0, 1]}, seed=3) != draws({"normal": [0, 1]}, seed=4)


def _distribution_fields(model, seen=None):
    """``(model, field name, DistRange)`` of every distribution-valued field reachable from
    ``model`` through nested models."""
    import typing

    from pydantic import BaseModel

    from synthscene.registry.params import field_range

    seen = set() if seen is None else seen
    if model in seen:
        return
    seen.add(model)
    for name, info in model.model_fields.items():
        spec = field_range(model, name)
        if spec is not None:
            yield model, name, spec
        for arg in (info.annotation, *typing.get_args(info.annotation)):
            if isinstance(arg, type) and issubclass(arg, BaseModel):
                yield from _distribution_fields(arg, seen)


def test_an_angle_field_declares_its_unit_and_is_named_by_what_it_holds():
    """Degrees in YAML, radians in code: the unit is declared (dist_field(unit=...)), the
    field's name says radians (angle_rad) and its YAML key says degrees (angle_deg)."""
    from synthscene.config.schema import ScenarioSpec
    from synthscene.plugins import REGISTRIES
    from synthscene.registry.params import yaml_key

    models = [ScenarioSpec] + [e.params for r in REGISTRIES.values() for e in r.values()
                               if e.builtin]
    found = 0
    for root in models:
        for model, name, spec in _distribution_fields(root):
            radians = name.endswith(("_rad", "_rad_s"))
            assert radians == (spec.unit is not None), (model.__name__, name, spec.unit)
            if radians:
                found += 1
                key = yaml_key(model, name) if model.model_fields[name].alias else name
                assert "_deg" in key or model.model_config.get("alias_generator"), (name, key)
    assert found >= 10


def test_a_checkerboard_angle_is_given_in_degrees_and_held_in_radians():
    from synthscene.randomize.texture_kinds.checkerboard import CheckerboardParams
    from synthscene.registry.distributions import Constant

    params = CheckerboardParams.model_validate({"angle_deg": 90})
    assert params.angle_rad == Constant(math.pi / 2)
    assert params.model_dump(mode="json")["angle_deg"] == {"value": math.pi / 2}
    assert "angle_rad" in params.draw(rng=frame_rng(0, 0))
