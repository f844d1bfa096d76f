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

__all__ = ["MAX_DEPTH", "JsonLayout", "check_syntax", "iter_items", "read_value", "scan_layout"]

MAX_DEPTH = 64
"""Deepest nesting of arrays and objects accepted; a COCO instances file needs 5."""

CHUNK_BYTES = 1 << 20
"""Bytes read at a time by :func:`scan_layout`."""

_KEY_WINDOW = 4096
"""Bytes read to decode one top-level key and see what follows it."""

_EXACT_POSITION_BYTES = 1 << 24
"""Files up to this size get the line and column of a JSON error (from ``json``)."""

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
    """

    top: str
    keys: dict[str, str]
    duplicates: tuple[str, ...]
    size: int


_TYPE_OF_FIRST = {ord("{"): "object", ord("["): "array", ord('"'): "string",
                  ord("t"): "true", ord("f"): "false", ord("n"): "null"}


def _json_type(first: int) -> str:
    return _TYPE_OF_FIRST.get(first, "number")


def scan_layout(path: Path, progress: Progress | None = None) -> JsonLayout:
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
    return JsonLayout(top, keys, tuple(duplicates), size)


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
