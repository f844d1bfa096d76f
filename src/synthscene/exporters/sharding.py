"""How many shards a sharded export (``hf``, ``webdataset``) writes per split.

A multi-worker loader hands whole shards to its workers: PyTorch's ``DataLoader`` over a
``webdataset.WebDataset`` gives a worker with no shard nothing (and WebDataset raises "No samples
found" by default), and a streamed ``datasets`` dataset stops the workers beyond its shard count.
So a small split is not written as one shard. Per split of ``n`` images:

- default: ``max(ceil(n / DEFAULT_SHARD_SIZE), min(n, MIN_SHARDS))`` shards: at least
  :data:`MIN_SHARDS` (one per image below that), at most :data:`DEFAULT_SHARD_SIZE` images each;
- ``shard_size=S`` (``--shard-size``): ``ceil(n / S)`` shards, so none holds more than ``S``;
- ``num_shards=N`` (``--num-shards``): ``N`` shards, or ``n`` (one image each) when ``n < N``.

The images are spread evenly, in id order: shard sizes differ by one at most. A split with no
image gets one empty shard. For ``G`` GPUs with ``W`` loader workers each, ask for
``--num-shards`` of ``G * W`` or a multiple of it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from synthscene.config.arguments import whole_number
from synthscene.errors import OptionError

__all__ = ["DEFAULT_SHARD_SIZE", "MIN_SHARDS", "shard_bounds", "shard_counts", "shard_notes"]

DEFAULT_SHARD_SIZE = 1000
"""Most images per shard when neither ``shard_size`` nor ``num_shards`` is given."""

MIN_SHARDS = 8
"""Fewest shards of a split (of at least as many images) by default: one per loader worker of
a common ``DataLoader(num_workers=8)``."""


def shard_counts(sizes: Sequence[tuple[str, int]], *, shard_size: int | None = None,
                 num_shards: int | None = None) -> dict[str, int]:
    """The number of shards of each split (see the module docstring).

    Parameters
    ----------
    sizes : sequence of (split name, image count)
    shard_size : int, optional
        Most images per shard, >= 1.
    num_shards : int, optional
        Shards per split, >= 1; excludes ``shard_size``.

    Returns
    -------
    dict of str to int
        Shards per split name, each >= 1.

    Raises
    ------
    synthscene.errors.OptionError
        If both are given, or one is not a whole number >= 1 (``2.5``, ``True``, NaN).
    """
    if shard_size is not None and num_shards is not None:
        raise OptionError("--num-shards", "", "--shard-size and --num-shards exclude each other")
    if shard_size is not None:
        shard_size = whole_number("--shard-size", shard_size, low=1)
    if num_shards is not None:
        num_shards = whole_number("--num-shards", num_shards, low=1)
    counts = {}
    for name, n in sizes:
        if shard_size is not None:
            count = -(-n // shard_size)
        elif num_shards is not None:
            count = min(num_shards, n)
        else:
            count = max(-(-n // DEFAULT_SHARD_SIZE), min(n, MIN_SHARDS))
        counts[name] = max(1, count)
    return counts


def shard_bounds(n: int, count: int) -> list[tuple[int, int]]:
    """``[start, stop)`` of each of ``count`` shards of ``n`` items, sizes differing by <= 1.

    Parameters
    ----------
    n : int
        Items, >= 0.
    count : int
        Shards, >= 1.

    Returns
    -------
    list of (int, int)
    """
    return [(k * n // count, (k + 1) * n // count) for k in range(count)]


def shard_notes(counts: Mapping[str, int], shards: Mapping[str, int],
                num_shards: int | None) -> tuple[str, ...]:
    """Notes for the splits written in fewer shards than ``num_shards`` asked (fewer images).

    Parameters
    ----------
    counts, shards : mapping of str to int
        Images and shards per split.
    num_shards : int or None
        What was asked.

    Returns
    -------
    tuple of str
    """
    if num_shards is None:
        return ()
    return tuple(f"split {name!r} has {n} images: {shards[name]} shards, not {num_shards}"
                 for name, n in counts.items() if shards[name] < num_shards)
