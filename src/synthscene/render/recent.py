"""Values kept while consecutive frames use them: what a frame's materials make (GL vertex
arrays, pyrender materials and textures), made once for the frames of a sequence or the views
of one scene, which draw the very same :class:`~synthscene.core.state.Material` objects."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

__all__ = ["RecentFrames"]


class RecentFrames:
    """A cache whose entries live while consecutive frames use them.

    An entry made or used while frame ``n`` is prepared is kept for frame ``n + 1``; one that
    frame ``n + 1`` does not use is released (``free(value)``) when frame ``n + 2`` starts, when
    the GL work of frame ``n`` has been drawn and read.

    Parameters
    ----------
    free : callable, optional
        Called with each released value (e.g. to delete its GL objects; the context must then
        be current).
    """

    def __init__(self, free: Callable[[Any], None] | None = None) -> None:
        self._free = free
        self._now: dict[Hashable, Any] = {}
        self._before: dict[Hashable, Any] = {}

    def get(self, key: Hashable, make: Callable[[], Any]) -> Any:
        """The value of ``key`` in this frame: the one kept from the frame before, else
        ``make()``."""
        if key in self._now:
            return self._now[key]
        value = self._before.pop(key) if key in self._before else make()
        self._now[key] = value
        return value

    def next_frame(self) -> None:
        """Start a frame: release what the frame before the last did not use."""
        self._release(self._before)
        self._before, self._now = self._now, {}

    def clear(self) -> None:
        """Release everything."""
        self._release(self._before)
        self._release(self._now)
        self._before, self._now = {}, {}

    def _release(self, entries: dict) -> None:
        if self._free is not None:
            for value in entries.values():
                self._free(value)
