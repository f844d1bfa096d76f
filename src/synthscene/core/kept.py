"""Values made on first use and kept while they are among the last few used: the one
least-recently-used keeper behind the caches of decoded images, lens maps, pixel rays,
prepared environment maps and their GL textures."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from typing import Generic, TypeVar

__all__ = ["LeastRecentlyUsed"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class LeastRecentlyUsed(Generic[K, V]):
    """Values by key, each made on first use (:meth:`get`); the last ``capacity`` used are kept
    and the least recently used is dropped first, handed to ``on_drop``.

    Parameters
    ----------
    capacity : int
        Values kept, >= 0 (0: none; every :meth:`get` makes its value anew).
    on_drop : callable, optional
        Called with each value dropped to stay within ``capacity`` (e.g. to delete its GL
        objects), never with the value just made.

    Raises
    ------
    ValueError
        If ``capacity`` is negative.
    """

    def __init__(self, capacity: int, on_drop: Callable[[V], None] | None = None) -> None:
        if int(capacity) < 0:
            raise ValueError(f"capacity must be >= 0, got {capacity}")
        self.capacity = int(capacity)
        self._on_drop = on_drop
        self._values: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K, make: Callable[[], V]) -> V:
        """The value of ``key``: the one kept (now the most recently used), else ``make()``,
        kept unless ``capacity`` is 0. What ``make`` raises propagates and nothing is kept."""
        if key in self._values:
            self._values.move_to_end(key)
            return self._values[key]
        value = make()
        if self.capacity:
            self._values[key] = value
            while len(self._values) > self.capacity:
                dropped = self._values.popitem(last=False)[1]
                if self._on_drop is not None:
                    self._on_drop(dropped)
        return value

    def __len__(self) -> int:
        return len(self._values)

    def values(self) -> Iterator[V]:
        """The kept values, least recently used first."""
        return iter(list(self._values.values()))

    def clear(self) -> None:
        """Forget every value (``on_drop`` is not called)."""
        self._values.clear()
