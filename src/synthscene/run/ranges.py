"""A run's pending frames as ranges: memory in proportion to the gaps, not to the frame count.

``--frames 100000000`` must not build a list of 10^8 frame numbers before the first frame (over
3 GiB): the frames a run still has to make are the gaps between the frames an earlier run
finished, and :class:`FrameRanges` holds them as ``range`` objects. Executors iterate it lazily.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator

__all__ = ["FrameRanges", "pending_frames"]


class FrameRanges(Collection[int]):
    """Frame indices held as ascending, disjoint ``range`` objects of step 1.

    Parameters
    ----------
    ranges : iterable of range
        Ascending and disjoint, step 1; empty ranges are dropped.

    Raises
    ------
    ValueError
        If a range has another step, or the ranges are not ascending and disjoint.
    """

    def __init__(self, ranges: Iterable[range] = ()) -> None:
        kept: list[range] = []
        for r in ranges:
            if r.step != 1:
                raise ValueError(f"frame ranges have step 1, not {r.step}")
            if not r:
                continue
            if kept and r.start < kept[-1].stop:
                raise ValueError(f"frame ranges must be ascending and disjoint: {kept[-1]}, {r}")
            kept.append(r)
        self._ranges = tuple(kept)
        self._len = sum(len(r) for r in kept)

    @property
    def ranges(self) -> tuple[range, ...]:
        """The ranges, ascending."""
        return self._ranges

    def __len__(self) -> int:
        return self._len

    def __iter__(self) -> Iterator[int]:
        for r in self._ranges:
            yield from r

    def __contains__(self, index: object) -> bool:
        return any(index in r for r in self._ranges)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FrameRanges):
            return NotImplemented
        return self._ranges == other._ranges

    def __hash__(self) -> int:
        return hash(self._ranges)

    def __repr__(self) -> str:
        return f"FrameRanges({list(self._ranges)!r})"


def pending_frames(frames: int, finished: Collection[int]) -> FrameRanges:
    """The frames of ``range(frames)`` not in ``finished``, as ranges.

    Parameters
    ----------
    frames : int
        >= 0.
    finished : collection of int
        Frames already made (indices outside ``range(frames)`` are ignored).

    Returns
    -------
    FrameRanges
        At most ``len(finished) + 1`` ranges, whatever ``frames`` is.
    """
    gaps = []
    start = 0
    for index in sorted(i for i in finished if 0 <= i < frames):
        gaps.append(range(start, index))
        start = index + 1
    gaps.append(range(start, frames))
    return FrameRanges(gaps)
