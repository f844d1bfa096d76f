"""core.kept.LeastRecentlyUsed: values made once, the least recently used dropped first."""

from __future__ import annotations

import pickle

import pytest

from synthscene.core.kept import LeastRecentlyUsed


def test_each_value_is_made_once_while_kept_and_the_least_recently_used_goes_first():
    made: list[str] = []
    dropped: list[str] = []

    def make(key: str):
        return lambda: made.append(key) or key.upper()

    kept = LeastRecentlyUsed(2, on_drop=dropped.append)
    assert kept.get("a", make("a")) == "A" and kept.get("a", make("a")) == "A"
    kept.get("b", make("b"))
    kept.get("a", make("a"))  # a is now the most recent: b goes first
    kept.get("c", make("c"))
    assert made == ["a", "b", "c"] and dropped == ["B"] and len(kept) == 2
    assert list(kept.values()) == ["A", "C"]
    kept.get("b", make("b"))
    assert made == ["a", "b", "c", "b"] and dropped == ["B", "A"]


def test_capacity_zero_keeps_nothing_and_drops_nothing():
    made, dropped = [], []
    kept = LeastRecentlyUsed(0, on_drop=dropped.append)
    assert kept.get(1, lambda: made.append(1) or "x") == "x"
    assert kept.get(1, lambda: made.append(1) or "x") == "x"
    assert made == [1, 1] and dropped == [] and len(kept) == 0


def test_a_failed_make_keeps_nothing_and_a_negative_capacity_is_refused():
    kept = LeastRecentlyUsed(2)

    def broken():
        raise OSError("unreadable")

    with pytest.raises(OSError):
        kept.get("a", broken)
    assert len(kept) == 0 and kept.get("a", lambda: 5) == 5
    with pytest.raises(ValueError, match="capacity"):
        LeastRecentlyUsed(-1)


def test_it_pickles_with_its_values_and_clear_forgets_them():
    kept = LeastRecentlyUsed(3)
    kept.get("a", lambda: [1, 2])
    copy = pickle.loads(pickle.dumps(kept))
    assert copy.get("a", lambda: pytest.fail("made again")) == [1, 2]
    kept.clear()
    assert len(kept) == 0
