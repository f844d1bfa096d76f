"""The assets a process holds in memory: at most ``limits.max_loaded_mib`` of them by their
bytes, and at most ``limits.max_loaded_assets`` of them.

:class:`LoadedAssets` is the memory of :class:`~synthscene.assets.library.AssetLibrary`: each
loaded asset (and its look, once read) by key, with the bytes it takes
(:mod:`synthscene.assets.footprint`: its arrays and an estimate of its GL uploads), least recently
used first out once more bytes or more assets than the limits are held. A library of small
assets stays loaded whole; large ones are bounded by their bytes. An asset dropped is loaded
again when next drawn (from the on-disk cache, :mod:`synthscene.assets.cache`, when there is
one), to the very same arrays, so the limits change memory and time, never the output. The
libraries of one scenario share one store; the renderer frees the uploads of the assets it
drops (:meth:`LoadedAssets.holds`).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

__all__ = ["LoadedAssets"]


class LoadedAssets:
    """A least-recently-used store of loaded assets and looks, bounded by count and bytes.

    Parameters
    ----------
    limit : int or None
        Most assets held (>= 1); None: no count limit.
    max_bytes : int or None
        Most bytes held (>= 1), the sum of what each part was put with; None: no byte limit.
        The most recently used asset is held whatever its size.

    Raises
    ------
    ValueError
        If ``limit`` or ``max_bytes`` is below 1.

    Notes
    -----
    Thread-safe. Pickles as its limits only (a worker process starts empty); libraries pickled
    together keep sharing one store.
    """

    def __init__(self, limit: int | None = None, max_bytes: int | None = None) -> None:
        for name, value in (("limit", limit), ("max_bytes", max_bytes)):
            if value is not None and int(value) < 1:
                raise ValueError(f"{name} must be >= 1 or None, got {value!r}")
        self.limit = None if limit is None else int(limit)
        self.max_bytes = None if max_bytes is None else int(max_bytes)
        self._items: OrderedDict[tuple[object, str], dict[str, Any]] = OrderedDict()
        self._sizes: dict[tuple[object, str], dict[str, int]] = {}
        self._lock = threading.RLock()
        self.nbytes = 0
        """Bytes held now (the sum of what the held parts were put with)."""
        self.evicted = 0
        """Assets dropped so far."""

    def __getstate__(self) -> dict:
        return {"limit": self.limit, "max_bytes": self.max_bytes}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["limit"], state.get("max_bytes"))

    def __len__(self) -> int:
        return len(self._items)

    @property
    def lock(self) -> threading.RLock:
        """The lock a library holds while it loads into this store."""
        return self._lock

    def get(self, owner: object, key: str, part: str) -> Any:
        """The held ``part`` (``"asset"``, ``"look"``) of ``key`` of library ``owner`` (a token
        the library holds), or None; a hit makes the asset the most recently used."""
        with self._lock:
            item = self._items.get((owner, key))
            if item is None:
                return None
            self._items.move_to_end((owner, key))
            return item.get(part)

    def holds(self, owner: object, key: str) -> bool:
        """Whether asset ``key`` of library ``owner`` is held (without making it recent)."""
        return (owner, key) in self._items

    def put(self, owner: object, key: str, part: str, value: Any, nbytes: int = 0) -> None:
        """Hold ``value`` as ``part`` of ``key``, taking ``nbytes`` bytes, most recently used;
        then drop the least recently used assets (every part) beyond the limits."""
        with self._lock:
            item = self._items.setdefault((owner, key), {})
            sizes = self._sizes.setdefault((owner, key), {})
            item[part] = value
            self.nbytes += int(nbytes) - sizes.get(part, 0)
            sizes[part] = int(nbytes)
            self._items.move_to_end((owner, key))
            while len(self._items) > 1 and self._over():
                dropped, _ = self._items.popitem(last=False)
                self.nbytes -= sum(self._sizes.pop(dropped).values())
                self.evicted += 1

    def _over(self) -> bool:
        return ((self.limit is not None and len(self._items) > self.limit)
                or (self.max_bytes is not None and self.nbytes > self.max_bytes))
