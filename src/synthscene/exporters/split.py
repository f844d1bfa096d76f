"""Deterministic train/val/test splits of a dataset's images.

A split is given as ``"train=0.8,val=0.1,test=0.1"`` (names and fractions of the images). The
images are shuffled by a generator seeded from the split seed, and cut into consecutive groups
whose sizes are the fractions of the image count rounded by the largest-remainder method (so they
always add up to the number of images). The same images, fractions and seed always give the same
split, whatever order the images are listed in.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence

import numpy as np

from synthscene.errors import OptionError

__all__ = ["assign_splits", "check_split", "parse_split", "split_rng"]

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
"""A split name: it names a folder or the start of a file name of the export, so it holds no
``/``, ``.`` or anything else that could lead out of the output folder."""


def check_split(split: object, source: str = "split") -> dict[str, float]:
    """Check split fractions given as a mapping (the Python API's ``split=``).

    Parameters
    ----------
    split : mapping of str to float
        ``{"train": 0.8, "val": 0.2}``: names of letters, digits, ``_`` and ``-`` (not first),
        fractions finite and >= 0 that add up to 1 (within 1e-6).
    source : str
        The option's name in error messages (``"split"``, ``"--split"``).

    Returns
    -------
    dict
        ``{name: float fraction}`` in the order given.

    Raises
    ------
    synthscene.errors.OptionError
        If ``split`` is not a non-empty mapping, a name is not a valid folder name, a fraction
        is not a finite number >= 0, or the fractions do not add up to 1.
    """
    if not isinstance(split, Mapping) or not split:
        raise OptionError(source, "", f"must be a non-empty mapping of split names to "
                          f"fractions, e.g. {{'train': 0.8, 'val': 0.2}}, got {split!r:.80}")
    fractions: dict[str, float] = {}
    for name, value in split.items():
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise OptionError(source, f"{name!r:.80}", "split names may hold only letters, "
                              "digits, _ and - (not first): they name folders of the export")
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer,
                                                              np.floating)):
            raise OptionError(source, name, f"fraction must be a number, got {value!r:.80}")
        fraction = float(value)
        if not math.isfinite(fraction) or fraction < 0:
            raise OptionError(source, name, f"fraction must be a number >= 0, got {value}")
        fractions[name] = fraction
    total = sum(fractions.values())
    if abs(total - 1.0) > 1e-6:
        raise OptionError(source, "", f"fractions must add up to 1, got {total:g}")
    return fractions


def parse_split(text: str, source: str = "--split") -> dict[str, float]:
    """Parse ``"train=0.8,val=0.1,test=0.1"``.

    Parameters
    ----------
    text : str
        Comma-separated ``name=fraction`` pairs. Names are letters, digits, ``_`` and ``-``
        (they become folder names); fractions are >= 0 and add up to 1 (within 1e-6).
    source : str
        Where the text came from, for error messages.

    Returns
    -------
    dict
        ``{name: fraction}`` in the order given.

    Raises
    ------
    synthscene.errors.OptionError
        If a pair is malformed, a name repeats or is not a valid folder name, a fraction is not
        a finite number >= 0, or the fractions do not add up to 1.
    """
    fractions: dict[str, float] = {}
    for part in text.split(","):
        name, sep, value = (s.strip() for s in part.partition("="))
        if not sep or not name:
            raise OptionError(source, "", f"{part.strip()!r} is not name=fraction (e.g. "
                              "train=0.8,val=0.1,test=0.1)")
        if name in fractions:
            raise OptionError(source, name, "this split is named twice")
        try:
            fraction = float(value)
        except ValueError:
            raise OptionError(source, name, f"{value!r} is not a number") from None
        fractions[name] = fraction
    return check_split(fractions, source)


def split_rng(seed: int) -> np.random.Generator:
    """The generator of a split: ``Generator(PCG64(SeedSequence(seed)))``.

    Raises
    ------
    ValueError
        If ``seed`` is negative.
    """
    if seed < 0:
        raise ValueError(f"split seed must be >= 0, got {seed}")
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(int(seed))))


def assign_splits(image_ids: Sequence[int], fractions: Mapping[str, float], *,
                  rng: np.random.Generator) -> dict[str, list[int]]:
    """Split image ids at random into groups of the given fractions.

    Parameters
    ----------
    image_ids : sequence of int
        Unique ids; their order does not matter (they are sorted first).
    fractions : mapping of str to float
        From :func:`parse_split`.
    rng : numpy.random.Generator
        Draws the permutation (e.g. :func:`split_rng`).

    Returns
    -------
    dict
        ``{name: sorted ids}`` for every name of ``fractions``, in that order. Group sizes are
        ``floor(f * n)`` plus one for the groups with the largest remainders ``f * n - floor(f
        * n)`` (ties to the earlier name) until they add up to ``n``.

    Raises
    ------
    ValueError
        If ``image_ids`` has duplicates.
    """
    ids = np.asarray(sorted(int(v) for v in image_ids), dtype=np.int64)
    if np.unique(ids).size != ids.size:
        raise ValueError("image ids must be unique")
    n = ids.size
    names = list(fractions)
    total = sum(fractions.values()) or 1.0
    exact = np.array([fractions[name] / total * n for name in names], dtype=np.float64)
    sizes = np.floor(exact).astype(np.int64)
    remainder = exact - sizes
    for k in np.argsort(-remainder, kind="stable")[: max(n - int(sizes.sum()), 0)]:
        sizes[k] += 1
    shuffled = rng.permutation(ids)
    bounds = np.concatenate([[0], np.cumsum(sizes)])
    return {name: sorted(int(v) for v in shuffled[bounds[k]:bounds[k + 1]])
            for k, name in enumerate(names)}
