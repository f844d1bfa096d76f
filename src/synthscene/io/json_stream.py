"""Read a large JSON annotation file entry by entry, with bounded memory and nesting.

A COCO file of 10^6 annotations is about 160 MB of JSON, and ``json.load`` turns it into
gigabytes of Python objects. The dataset tools read it instead with ijson (a streaming parser
over the yajl C library): :func:`iter_items` yields the entries of one top-level list one at a
time. Before any entry is built, :func:`scan_layout` reads the file once in chunks with numpy to
find how deep it nests and which keys its top-level object holds: a file nested deeper than
:data:`MAX_DEPTH` is refused there, because building (or even walking) such a value costs time
and memory that grow with the square of the depth in ijson and overflow the stack in ``json``.

Every failure is a :class:`~synthscene.errors.DatasetError` naming the file and, where it can,
the field (``annotations[5].area``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import ijson
import numpy as np

from synthscene.errors import DatasetError

__all__ = ["MAX_DEPTH", "MIN_ITEM_BYTES", "ItemSpans", "JsonLayout", "check_syntax",
           "decode_item", "iter_items", "read_bytes", "read_item", "read_value", "scan_layout"]

MAX_DEPTH = 64
"""Deepest nesting of arrays and objects accepted; a COCO instances file needs 5."""

CHUNK_BYTES = 1 << 20
"""Bytes read at a time by :func:`scan_layout`."""

_KEY_WINDOW = 4096
"""Bytes read to decode one top-level key and see what follows it."""

_EXACT_POSITION_BYTES = 1 << 24
"""Files up to this size get the line and column of a JSON error (from ``json``)."""

MIN_ITEM_BYTES = 64
"""Bytes an item of a list that :func:`scan_layout` indexes takes on average at least (a COCO
annotation needs about 115): more items than ``size / MIN_ITEM_BYTES`` cannot all be valid, and
the index stops there, so that its memory (8 bytes an item) stays below an eighth of the file's
size whatever the file holds."""

Progress = Callable[[int, int], None]
"""``progress(bytes_read, total_bytes)``, called as a file is read."""


@dataclass(frozen=True)
class JsonLayout:
    """What :func:`scan_layout` found.

    Attributes
    ----------
    top : str
        JSON type of the top-level value: ``"object"``, ``"array"``, ``"string"``,
        ``"number"``, ``"true"``, ``"false"``, ``"null"``, or ``"empty"``.
    keys : dict of str to str
        For a top-level object, each key and the JSON type of its value, in file order.
    duplicates : tuple of str
        Top-level keys that occur more than once.
    size : int
        File size in bytes.
    spans : ItemSpans or None
        Where the items of the list asked for (``scan_layout``'s ``index``) lie in the file;
        None if not asked for, not a list, or indexing stopped (see :data:`MIN_ITEM_BYTES`).
    """

    top: str
    keys: dict[str, str]
    duplicates: tuple[str, ...]
    size: int
    spans: ItemSpans | None = None


@dataclass(frozen=True, eq=False)
class ItemSpans:
    """Byte ranges of the items of one top-level list (objects or arrays), in file order.

    Item ``k`` is the text from ``starts[k]`` (its opening bracket) up to ``starts[k + 1]``
    (the last one: up to ``end``, the list's closing bracket), less the comma and white space
    after it; :func:`read_item` decodes it.

    Attributes
    ----------
    key : str
        The top-level key of the list.
    starts : (n,) int64
        Byte offset of each item's opening bracket.
    end : int
        Byte offset of the list's closing bracket.
    """

    key: str
    starts: np.ndarray
    end: int

    def ends(self) -> np.ndarray:
        """``(n,) int64``: the byte offset just after each item's text (with what follows it
        up to the next item: :func:`read_item` strips that)."""
        return np.append(self.starts[1:], self.end).astype(np.int64)


_TYPE_OF_FIRST = {ord("{"): "object", ord("["): "array", ord('"'): "string",
                  ord("t"): "true", ord("f"): "false", ord("n"): "null"}


def _json_type(first: int) -> str:
    return _TYPE_OF_FIRST.get(first, "number")


def scan_layout(path: Path, progress: Progress | None = None, *,
                index: str | None = None) -> JsonLayout:
    """Measure a JSON file's nesting depth and list its top-level keys, in chunks.

    Brackets inside strings are skipped: a quote preceded by an odd number of backslashes is
    escaped (RFC 8259 §7). The file is not checked for being valid JSON here; ijson does that
    when the entries are read.

    Parameters
    ----------
    path : pathlib.Path
        The JSON file.
    progress : callable, optional
        Called with ``(bytes_read, total_bytes)`` after each chunk.
    index : str, optional
        A top-level key whose list's items to locate (:attr:`JsonLayout.spans`), so that they
        can be read again one at a time (:func:`read_item`) instead of being kept.

    Returns
    -------
    JsonLayout

    Raises
    ------
    synthscene.errors.DatasetError
        If the file cannot be read, or nests arrays and objects deeper than :data:`MAX_DEPTH`.
    """
    try:
        handle = open(path, "rb")
    except OSError as exc:
        raise DatasetError(str(path), "", f"cannot read: {exc.strerror or exc}") from None
    depth = 0            # nesting depth before the chunk
    in_string = 0        # 1 if the chunk starts inside a string
    backslashes = 0      # backslashes that end the previous chunk
    offset = 0
    first: int | None = None
    key_offsets: list[int] = []
    spans = _SpanRecorder(index) if index is not None else None
    with handle:
        size = _size(handle)
        _skip_bom(handle)
        offset = handle.tell()
        while True:
            try:
                chunk = handle.read(CHUNK_BYTES)
            except OSError as exc:
                raise DatasetError(str(path), "", f"cannot read: {exc.strerror or exc}") from None
            if not chunk:
                break
            c = np.frombuffer(chunk, dtype=np.uint8)
            if first is None:
                text = np.flatnonzero(~np.isin(c, (32, 9, 10, 13)))
                if text.size:
                    first = int(c[text[0]])
            index = np.arange(c.size)
            is_bs = c == 92
            # for each position, the start of the run of backslashes ending just before it
            last_other = np.maximum.accumulate(np.where(~is_bs, index, -1 - backslashes))
            run_before = np.empty(c.size, dtype=np.int64)
            run_before[0] = backslashes
            run_before[1:] = index[:-1] - last_other[:-1]
            quote = (c == 34) & (run_before % 2 == 0)
            inside = (in_string + np.cumsum(quote)) % 2 == 1  # after any quote at the position
            outside = ~inside & ~quote
            step = np.zeros(c.size, dtype=np.int64)
            step[outside & ((c == 123) | (c == 91))] = 1
            step[outside & ((c == 125) | (c == 93))] = -1
            level = depth + np.cumsum(step)
            deepest = int(level.max())
            if deepest > MAX_DEPTH:
                where = offset + int(np.argmax(level > MAX_DEPTH))
                raise DatasetError(str(path), "", f"nests arrays and objects more than "
                                   f"{MAX_DEPTH} deep (at byte {where}); a COCO file needs 5")
            # opening quotes at depth 1: the top-level object's keys and string values
            opening = quote & inside & (level == 1)
            if len(key_offsets) < 10_000:
                key_offsets.extend(int(k) + offset for k in np.flatnonzero(opening)[:10_000])
            if spans is not None and spans.active:
                brackets = outside & ((c == 123) | (c == 91) | (c == 125) | (c == 93))
                spans.feed(handle, offset, c, level, brackets, opening, size)
            depth = int(level[-1])
            in_string = int(inside[-1])
            backslashes = int(c.size - 1 - last_other[-1]) if is_bs[-1] else 0
            offset += c.size
            if progress is not None:
                progress(offset, size)
        top = "empty" if first is None else _json_type(first)
        keys: dict[str, str] = {}
        duplicates: list[str] = []
        if top == "object":
            for start in key_offsets:
                found = _key_at(handle, start)
                if found is None:
                    continue
                key, kind = found
                if key in keys and key not in duplicates:
                    duplicates.append(key)
                keys.setdefault(key, kind)
    found = spans.result() if spans is not None and top == "object" else None
    return JsonLayout(top, keys, tuple(duplicates), size, found)


class _SpanRecorder:
    """Collects, chunk by chunk, the offsets of the items of top-level list ``key``: the
    brackets that open at depth 3 while inside that list's value."""

    def __init__(self, key: str) -> None:
        self.key = key
        self.lookups = 0          # top-level keys decoded (at most 10,000, as scan_layout)
        self.active = True        # False once the list is closed or indexing gave up
        self.inside = False       # within the list's value
        self.seen = False         # the list was found (and closed)
        self.last_quote = -1      # offset of the last opening quote at depth 1
        self.starts: list[np.ndarray] = []
        self.count = 0
        self.end = -1

    def feed(self, handle: BinaryIO, offset: int, c: np.ndarray, level: np.ndarray,
             brackets: np.ndarray, quotes: np.ndarray, size: int) -> None:
        opens = brackets & ((c == 123) | (c == 91))
        # containers opening or closing at the top level: where the list begins and ends
        events = np.flatnonzero(brackets & np.where(opens, level == 2, level == 1))
        begin = 0
        for at in events.tolist():
            if opens[at]:
                before = np.flatnonzero(quotes[:at])
                quote = offset + int(before[-1]) if before.size else self.last_quote
                if quote >= 0 and not self.seen and self._key(handle, quote) == self.key:
                    self.inside, begin = True, at
            elif self.inside:
                self._record(offset, level[begin:at], opens[begin:at], begin, size)
                self.inside, self.seen, self.end = False, True, offset + at
                self.active = False
                return
        if self.inside:
            self._record(offset, level[begin:], opens[begin:], begin, size)
        after = np.flatnonzero(quotes)
        if after.size:
            self.last_quote = offset + int(after[-1])

    def _record(self, offset: int, level: np.ndarray, opens: np.ndarray, begin: int,
                size: int) -> None:
        starts = np.flatnonzero(opens & (level == 3)) + (offset + begin)
        self.count += starts.size
        if self.count * MIN_ITEM_BYTES > size:  # these cannot all be valid entries
            self.active = self.inside = False
            self.starts = []
            return
        if starts.size:
            self.starts.append(starts.astype(np.int64))

    def _key(self, handle: BinaryIO, quote: int) -> str | None:
        self.lookups += 1
        if self.lookups > 10_000:
            self.active = False
            return None
        back = handle.tell()
        try:
            found = _key_at(handle, quote)
        finally:
            handle.seek(back)
        return found[0] if found is not None else None

    def result(self) -> ItemSpans | None:
        if not self.seen:
            return None
        starts = np.concatenate(self.starts) if self.starts else np.zeros(0, np.int64)
        return ItemSpans(self.key, starts, self.end)


def _size(handle: BinaryIO) -> int:
    handle.seek(0, 2)
    size = handle.tell()
    handle.seek(0)
    return size


def _key_at(handle: BinaryIO, start: int) -> tuple[str, str] | None:
    """The key whose opening quote is at byte ``start`` and the JSON type of its value, or None
    if that string is a value (not followed by ``:``) or cannot be decoded in a short window."""
    handle.seek(start)
    window = handle.read(_KEY_WINDOW).decode("utf-8", errors="replace")
    try:
        key, end = json.JSONDecoder().raw_decode(window)
    except ValueError:
        return None
    rest = window[end:].lstrip()
    if not rest.startswith(":"):
        return None
    value = rest[1:].lstrip()
    if not value or not isinstance(key, str):
        return None
    return key, _json_type(ord(value[0]))


_BOM = b"\xef\xbb\xbf"


def _skip_bom(handle: BinaryIO) -> None:
    """Step over a UTF-8 byte-order mark, which RFC 8259 §8.1 lets a parser ignore."""
    if handle.read(len(_BOM)) != _BOM:
        handle.seek(0)


class _Counted:
    """A binary file whose ``read`` reports progress."""

    def __init__(self, handle: BinaryIO, total: int, progress: Progress | None) -> None:
        self.handle = handle
        self.total = total
        self.progress = progress
        self.done = 0

    def read(self, size: int = -1) -> bytes:
        data = self.handle.read(size)
        self.done += len(data)
        if self.progress is not None:
            self.progress(self.done, self.total)
        return data


def iter_items(path: Path, prefix: str, progress: Progress | None = None) -> Iterator[Any]:
    """Yield each value at ijson ``prefix`` (``"annotations.item"``: each annotation).

    Numbers come as ``int`` or ``float``. Call :func:`scan_layout` first: it bounds the depth.

    Raises
    ------
    synthscene.errors.DatasetError
        If the file cannot be read or is not valid JSON (naming the field where it breaks).
    """
    try:
        handle = open(path, "rb")
    except OSError as exc:
        raise DatasetError(str(path), "", f"cannot read: {exc.strerror or exc}") from None
    with handle:
        source = _Counted(handle, _size(handle), progress)
        _skip_bom(handle)
        try:
            yield from ijson.items(source, prefix, use_float=True)
        except ijson.JSONError as exc:
            raise _syntax_error(path, exc) from None
        except OSError as exc:
            raise DatasetError(str(path), "", f"cannot read: {exc.strerror or exc}") from None


def check_syntax(path: Path, progress: Progress | None = None) -> None:
    """Parse the whole file, building nothing, to find JSON syntax errors.

    Raises
    ------
    synthscene.errors.DatasetError
        As :func:`iter_items`.
    """
    for _ in iter_items(path, "\x00", progress):
        pass  # the prefix matches no value: ijson parses in C and yields nothing


def read_bytes(path: Path, handle: BinaryIO, start: int, end: int) -> bytes:
    """Bytes ``[start, end)`` of an open file.

    Raises
    ------
    synthscene.errors.DatasetError
        If they cannot be read (all of them).
    """
    try:
        handle.seek(start)
        data = handle.read(end - start)
    except OSError as exc:
        raise DatasetError(str(path), "", f"cannot read: {exc.strerror or exc}") from None
    if len(data) != end - start:
        raise DatasetError(str(path), "", f"ends before byte {end} (was the file changed "
                           "while it was read?)")
    return data


def decode_item(path: Path, text: bytes, start: int = 0) -> Any:
    """Decode one item's text (a span of :class:`ItemSpans`, from byte ``start``; the comma
    and white space after the item are stripped).

    Raises
    ------
    synthscene.errors.DatasetError
        If the bytes are not one JSON value (the file changed since it was indexed).
    """
    try:
        return _DECODER.decode(text.rstrip(b" \t\r\n,").decode("utf-8"))
    except (ValueError, RecursionError):
        raise DatasetError(str(path), "", f"bytes from {start} no longer hold the entry "
                           "read there (was the file changed while it was read?)") from None


def read_item(path: Path, handle: BinaryIO, start: int, end: int) -> Any:
    """Decode the item whose text lies in bytes ``[start, end)`` of an open file (a span of
    :class:`ItemSpans`).

    Raises
    ------
    synthscene.errors.DatasetError
        If the bytes cannot be read or are not one JSON value.
    """
    return decode_item(path, read_bytes(path, handle, start, end), start)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


_DECODER = json.JSONDecoder(parse_constant=_no_constant)


def read_value(path: Path, key: str) -> Any:
    """The value of top-level ``key`` (one value; read whole, so for small values only).

    Raises
    ------
    synthscene.errors.DatasetError
        As :func:`iter_items`.
    """
    for value in iter_items(path, key):
        return value
    return None


def _syntax_error(path: Path, exc: Exception) -> DatasetError:
    """Name where the JSON breaks: the field path (ijson events) and line and column."""
    text = exc.args[0] if exc.args else ""
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    lines = str(text).strip().splitlines()
    reason = lines[0].strip() if lines else type(exc).__name__
    context = lines[1] if len(lines) > 1 else ""
    hints = [what for words, what in (
        (("NaN", "Infinity"), "NaN and Infinity are not JSON"),
        (("//", "/*"), "comments are not JSON"),
        (("'",), "strings take double quotes")) if any(w in context for w in words)]
    if "invalid char" in reason and hints:
        reason += f" ({'; '.join(hints)})"
    if "integer overflow" in reason:
        reason += " (an integer beyond 64 bits)"
    field = _last_field(path)
    if path.stat().st_size <= _EXACT_POSITION_BYTES:
        try:
            with open(path, "rb") as handle:
                json.loads(handle.read())
        except json.JSONDecodeError as error:
            reason = f"line {error.lineno} column {error.colno}: {reason}"
        except (ValueError, RecursionError):
            pass
    return DatasetError(str(path), field, f"not valid JSON: {reason}")


def _last_field(path: Path) -> str:
    """The path (``annotations[5].area``) where ijson stops: the key being read, or the array
    element after the last one read."""
    stack: list[Any] = []   # per open container: its current key (object) or index (array)
    try:
        with open(path, "rb") as handle:
            _skip_bom(handle)
            for event, value in ijson.basic_parse(handle, use_float=True):
                if event == "map_key":
                    stack[-1] = value
                elif event in ("end_map", "end_array"):
                    stack.pop()
                else:
                    if stack and isinstance(stack[-1], int):  # a value in an array
                        stack[-1] += 1
                    if event == "start_map":
                        stack.append("")
                    elif event == "start_array":
                        stack.append(-1)
    except (ijson.JSONError, OSError):
        if stack and isinstance(stack[-1], int):
            stack[-1] += 1  # the element that did not parse
        return _format_path(stack)
    return ""


def _format_path(stack: list[Any]) -> str:
    text = ""
    for part in stack:
        if isinstance(part, int):
            text += f"[{max(part, 0)}]"
        else:
            text += f".{part}" if text else str(part)
    return text[:120]
