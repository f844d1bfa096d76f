"""One reading of pydantic's validation errors, for the scenario loader and the registries.

pydantic prefixes a validator's message (``"Value error, "``) and quotes values in full; a
registry's field adapter knows the field inside the value it validated (``[1].sigma``).
:func:`error_message` strips the prefix, bounds the length and hands back that inner field, so
every "FILE: FIELD: message" line reads the same whoever validated it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from synthscene.errors import ConfigError

__all__ = ["MAX_MESSAGE_CHARS", "FieldValueError", "as_value_error", "error_message",
           "join_field"]

MAX_MESSAGE_CHARS = 300
"""Longest message kept from a validation error (a huge value quoted in full would bury it)."""

_PREFIXES = ("Value error, ", "Assertion failed, ")


class FieldValueError(ValueError):
    """A field adapter's error that knows the field inside the value it validated.

    Parameters
    ----------
    field : str
        Dotted path inside the value (``"[1].sigma"``, ``"image.folder"``); empty for the value
        itself.
    message : str
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.message = message


def as_value_error(exc: ConfigError) -> FieldValueError:
    """``exc`` as the :class:`FieldValueError` a pydantic validator raises."""
    return FieldValueError(exc.field, exc.message)


def join_field(field: str, sub: str) -> str:
    """``field`` followed by the inner path ``sub`` (``effects`` + ``[1].sigma``)."""
    if not sub:
        return field
    if not field:
        return sub
    return field + ("" if sub.startswith("[") else ".") + sub


def error_message(err: Mapping[str, Any]) -> tuple[str, str]:
    """The inner field and the message of one pydantic error (an item of
    ``ValidationError.errors()``).

    Returns
    -------
    str, str
        The field a :class:`FieldValueError` named inside the validated value (empty
        otherwise), and the message without pydantic's prefix, at most
        :data:`MAX_MESSAGE_CHARS` characters.
    """
    error = (err.get("ctx") or {}).get("error")
    if isinstance(error, FieldValueError):
        sub, msg = error.field, error.message
    else:
        sub, msg = "", str(err["msg"])
        for prefix in _PREFIXES:
            msg = msg.removeprefix(prefix)
    if len(msg) > MAX_MESSAGE_CHARS:
        msg = msg[:MAX_MESSAGE_CHARS - 3] + "..."
    return sub, msg
