"""Distributions stay in range and are reproducible from the generator."""

from __future__ import annotations

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
