"""Distributions written the same way everywhere in scenario YAML.

A value is either a constant or a mapping with exactly one key naming the distribution:

============================  =================================================================
YAML                          meaning
============================  =================================================================
``0.5`` or ``[1, 0, 0]``      constant (scalar or vector)
``{uniform: [a, b]}``         uniform on [a, b); ``a`` and ``b`` may be equal-length vectors
``{normal: [mu, sigma]}``     Gaussian
``{truncnormal: [mu, sigma, a, b]}``  Gaussian restricted to [a, b] (by resampling)
``{loguniform: [a, b]}``      log-uniform on [a, b), 0 < a <= b
``{randint: [a, b]}``         integer uniform on {a, ..., b} (both inclusive)
``{choice: [x, y, ...]}``     one of the options, equally likely
``{choice: [...], weights: [...]}``  one of the options with the given weights
============================  =================================================================

Every ``sample`` takes the frame's ``numpy.random.Generator``; nothing here keeps state.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

KINDS = ("uniform", "normal", "truncnormal", "loguniform", "randint", "choice")
"""The distribution names a scenario may use."""


class Distribution:
    """Base class: a distribution over scalars or fixed-length vectors."""

    def sample(self, rng: np.random.Generator) -> Any:  # pragma: no cover - abstract
        """Draw one value with ``rng``."""
        raise NotImplementedError

    def support(self) -> tuple[float, float]:
        """Return ``(min, max)`` over all components (may be infinite)."""
        raise NotImplementedError  # pragma: no cover

    def scaled(self, factor: float) -> Distribution:
        """Return the distribution of ``factor * X`` (used to turn degrees into radians)."""
        raise NotImplementedError  # pragma: no cover


@dataclass(frozen=True)
class Constant(Distribution):
    """Always ``value`` (float or tuple of floats, or any option such as a string)."""

    value: Any

    def sample(self, rng: np.random.Generator) -> Any:
        return self.value

    def support(self) -> tuple[float, float]:
        v = np.asarray(self.value, dtype=float)
        return float(v.min()), float(v.max())

    def scaled(self, factor: float) -> Constant:
        v = np.asarray(self.value, dtype=float) * factor
        return Constant(float(v) if v.ndim == 0 else tuple(v.tolist()))


@dataclass(frozen=True)
class Uniform(Distribution):
    """Uniform on [low, high); vectors are sampled component-wise."""

    low: Any
    high: Any

    def sample(self, rng: np.random.Generator) -> Any:
        lo, hi = self.low, self.high
        if type(lo) is float and type(hi) is float:  # the common scalar case, no arrays made
            return float(rng.uniform(lo, hi))  # (numpy's scalar path either way: same draw)
        lo, hi = np.asarray(lo, float), np.asarray(hi, float)
        x = np.asarray(rng.uniform(lo, hi))
        return float(x) if x.ndim == 0 else tuple(x.tolist())

    def support(self) -> tuple[float, float]:
        return float(np.min(self.low)), float(np.max(self.high))

    def scaled(self, factor: float) -> Uniform:
        lo, hi = np.asarray(self.low, float) * factor, np.asarray(self.high, float) * factor
        lo, hi = np.minimum(lo, hi), np.maximum(lo, hi)
        conv = (lambda a: float(a)) if lo.ndim == 0 else (lambda a: tuple(a.tolist()))
        return Uniform(conv(lo), conv(hi))


@dataclass(frozen=True)
class Normal(Distribution):
    """Gaussian with mean ``mean`` and standard deviation ``std``."""

    mean: float
    std: float

    def sample(self, rng: np.random.Generator) -> float:
        return float(rng.normal(self.mean, self.std))

    def support(self) -> tuple[float, float]:
        return (-math.inf, math.inf) if self.std > 0 else (self.mean, self.mean)

    def scaled(self, factor: float) -> Normal:
        return Normal(self.mean * factor, abs(self.std * factor))


@dataclass(frozen=True)
class TruncNormal(Distribution):
    """Gaussian restricted to [low, high], sampled by rejection (at most 64 tries, then clipped)."""

    mean: float
    std: float
    low: float
    high: float

    def sample(self, rng: np.random.Generator) -> float:
        for _ in range(64):
            x = rng.normal(self.mean, self.std)
            if self.low <= x <= self.high:
                return float(x)
        return float(np.clip(x, self.low, self.high))

    def support(self) -> tuple[float, float]:
        return self.low, self.high

    def scaled(self, factor: float) -> TruncNormal:
        lo, hi = sorted((self.low * factor, self.high * factor))
        return TruncNormal(self.mean * factor, abs(self.std * factor), lo, hi)


@dataclass(frozen=True)
class LogUniform(Distribution):
    """Log-uniform on [low, high), 0 < low <= high."""

    low: float
    high: float

    def sample(self, rng: np.random.Generator) -> float:
        return float(np.exp(rng.uniform(np.log(self.low), np.log(self.high))))

    def support(self) -> tuple[float, float]:
        return self.low, self.high

    def scaled(self, factor: float) -> LogUniform:
        lo, hi = sorted((self.low * factor, self.high * factor))
        return LogUniform(lo, hi)


@dataclass(frozen=True)
class RandInt(Distribution):
    """Integer uniform on {low, ..., high}, both inclusive."""

    low: int
    high: int

    def sample(self, rng: np.random.Generator) -> int:
        return int(rng.integers(self.low, self.high, endpoint=True))

    def support(self) -> tuple[float, float]:
        return float(self.low), float(self.high)

    def scaled(self, factor: float) -> Distribution:
        raise TypeError("an integer distribution cannot be scaled")


@dataclass(frozen=True)
class Choice(Distribution):
    """One of ``options`` (any values), with optional ``weights`` (normalised here)."""

    options: tuple
    weights: tuple[float, ...] | None = None

    def sample(self, rng: np.random.Generator) -> Any:
        p = None
        if self.weights is not None:
            w = np.asarray(self.weights, float)
            p = w / w.sum()
        return self.options[int(rng.choice(len(self.options), p=p))]

    def support(self) -> tuple[float, float]:
        v = np.asarray(self.options, dtype=float)
        return float(v.min()), float(v.max())

    def scaled(self, factor: float) -> Choice:
        return Choice(tuple(Constant(o).scaled(factor).value for o in self.options), self.weights)


MAX_MAGNITUDE = 1e6
"""Largest magnitude of any number in a distribution (a constant, a bound, an option): a value
such as ``1e308`` is a mistake, and would overflow once scaled or squared."""


def _all_numbers(value: Any) -> bool:
    """True if ``value`` is a number or nested lists of numbers (bools and strings are not)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, (list, tuple)):
            stack.extend(item)
        elif isinstance(item, bool) or not isinstance(item, (int, float, np.integer, np.floating)):
            return False
    return True


def _numbers(value: Any, what: str) -> np.ndarray:
    if not _all_numbers(value):
        hint = ""
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                float(value)
                hint = " (YAML reads a number such as 1e9 without a dot as text: write 1.0e9)"
        raise ValueError(f"{what} must be numbers (not true/false or text), got {value!r}{hint}")
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"{what} must be numbers, got {value!r}") from None
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{what} must be finite, got {value!r}")
    if arr.size and float(np.abs(arr).max()) > MAX_MAGNITUDE:
        raise ValueError(f"{what} must lie within [-{MAX_MAGNITUDE:g}, {MAX_MAGNITUDE:g}], "
                         f"got {value!r}")
    return arr


def _plain(arr: np.ndarray) -> Any:
    return float(arr) if arr.ndim == 0 else tuple(arr.tolist())


def parse_distribution(value: Any, *, numeric: bool = True) -> Distribution:
    """Parse a YAML value into a :class:`Distribution`.

    Parameters
    ----------
    value : Any
        A constant, or a one-key mapping ``{kind: params}`` (plus ``weights`` for ``choice``).
    numeric : bool
        If False, constants and ``choice`` options may be any value (e.g. light kinds).

    Returns
    -------
    Distribution

    Raises
    ------
    ValueError
        With a message naming the allowed distribution kinds and the expected parameters; also
        for a bool or a string where a number is expected, and for a number that is not finite
        or larger in magnitude than :data:`MAX_MAGNITUDE`.
    """
    if isinstance(value, Distribution):
        return value
    if not isinstance(value, dict):
        if numeric:
            return Constant(_plain(_numbers(value, "a constant")))
        return Constant(value)
    keys = set(value) - {"weights"}
    if len(keys) != 1 or not keys <= set(KINDS) or ("weights" in value and keys != {"choice"}):
        raise ValueError(
            f"a distribution is one of {{{', '.join(k + ': [...]' for k in KINDS)}}}, "
            f"got {value!r}"
        )
    kind = keys.pop()
    params = value[kind]
    if not isinstance(params, (list, tuple)):
        raise ValueError(f"{kind} takes a list of parameters, got {params!r}")
    if kind == "choice":
        if not params:
            raise ValueError("choice needs at least one option")
        if not numeric:
            options = tuple(params)
        elif all(isinstance(o, (int, float)) for o in params):  # scalars: one array, fast
            options = tuple(_numbers(params, "choice options").tolist())
        else:
            options = tuple(_plain(_numbers(o, "choice options")) for o in params)
        weights = value.get("weights")
        if weights is not None:
            w = _numbers(weights, "choice weights")
            if w.shape != (len(options),) or np.any(w < 0) or w.sum() <= 0:
                raise ValueError(
                    f"choice weights must be {len(options)} non-negative numbers with a positive "
                    f"sum, got {weights!r}"
                )
            weights = tuple(w.tolist())
        return Choice(options, weights)
    expected = {"uniform": 2, "normal": 2, "truncnormal": 4, "loguniform": 2, "randint": 2}[kind]
    if len(params) != expected:
        names = {"uniform": "[low, high]", "normal": "[mean, std]",
                 "truncnormal": "[mean, std, low, high]", "loguniform": "[low, high]",
                 "randint": "[low, high]"}[kind]
        raise ValueError(f"{kind} takes {names}, got {params!r}")
    if kind == "uniform":
        lo, hi = (_numbers(p, "uniform bounds") for p in params)
        if lo.shape != hi.shape or np.any(lo > hi):
            raise ValueError(f"uniform needs low <= high (same shape), got {params!r}")
        return Uniform(_plain(lo), _plain(hi))
    nums = _numbers(params, f"{kind} parameters")
    if nums.ndim != 1:
        raise ValueError(f"{kind} parameters must be scalars, got {params!r}")
    if kind == "normal":
        if nums[1] < 0:
            raise ValueError(f"normal needs std >= 0, got {params!r}")
        return Normal(float(nums[0]), float(nums[1]))
    if kind == "truncnormal":
        if nums[1] < 0 or nums[2] > nums[3]:
            raise ValueError(f"truncnormal needs std >= 0 and low <= high, got {params!r}")
        return TruncNormal(*(float(x) for x in nums))
    if kind == "loguniform":
        if not 0 < nums[0] <= nums[1]:
            raise ValueError(f"loguniform needs 0 < low <= high, got {params!r}")
        return LogUniform(float(nums[0]), float(nums[1]))
    if not np.all(nums == np.round(nums)) or nums[0] > nums[1]:
        raise ValueError(f"randint needs integers low <= high, got {params!r}")
    return RandInt(int(nums[0]), int(nums[1]))
