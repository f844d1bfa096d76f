"""The assets a process holds in memory, at most ``limits.max_loaded_assets`` of them.

:class:`LoadedAssets` is the memory of :class:`~synthscene.assets.library.AssetLibrary`: each
loaded asset (and its look, once read) by key, least recently used first out once more than
``limit`` are held. An asset dropped is loaded again when next drawn (from the on-disk cache,
:mod:`synthscene.assets.cache`, when there is one), to the very same arrays, so the limit changes
memory and time, never the output. The libraries of one scenario share one.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

__all__ = ["LoadedAssets"]


class LoadedAssets:
    """A least-recently-used store of loaded assets and looks.

    Parameters
    ----------
    limit : int or None
        Most assets held (>= 1); None: no limit.

    Notes
    -----
    Thread-safe. Pickles as its limit only (a worker process starts empty); libraries pickled
    together keep sharing one store.
    """

    def __init__(self, limit: int | None = None) -> None:
        if limit is not None and int(limit) < 1:
            raise ValueError(f"limit must be >= 1 or None, got {limit!r}")
        self.limit = None if limit is None else int(limit)
        self._items: OrderedDict[tuple[object, str], dict[str, Any]] = OrderedDict()
        self._lock = threading.RLock()
        self.evicted = 0

    def __getstate__(self) -> dict:
        return {"limit": self.limit}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["limit"])

    def __len__(self) -> int:
        return len(self._items)

    @property
    def lock(self) -> threading.RLock:
        """The lock a library holds while it loads into this store."""
        return self._lock

    def get(self, owner: object, key: str, part: str) -> Any:
        """The held ``part`` (``"asset"``, ``"look"``) of ``key`` of library ``owner`` (a token
        the library holds), or
        None; a hit makes the asset the most recently used."""
        with self._lock:
            item = self._items.get((owner, key))
            if item is None:
                return None
            self._items.move_to_end((owner, key))
            return item.get(part)

    def put(self, owner: object, key: str, part: str, value: Any) -> None:
        """Hold ``value`` as ``part`` of ``key``, most recently used; then drop the least
        recently used assets beyond the limit."""
        with self._lock:
            item = self._items.setdefault((owner, key), {})
            item[part] = value
            self._items.move_to_end((owner, key))
            while self.limit is not None and len(self._items) > self.limit:
                self._items.popitem(last=False)
                self.evicted += 1
