"""Errors that synthscene raises for bad input.

Every error a user can cause (a bad scenario file, a missing or broken asset, an impossible
placement, an unwritable output folder) is a :class:`SynthsceneError`. The CLI prints its message
on one line and exits with status 2, without a traceback; Python callers can catch it.
"""

from __future__ import annotations


class SynthsceneError(Exception):
    """Base class of every error caused by the user's input or environment."""


class ConfigError(SynthsceneError):
    """A scenario file is malformed: unknown key, wrong type, value out of range.

    Parameters
    ----------
    source : str
        The file (or ``"<dict>"`` for a Python dict) the scenario came from.
    field : str
        Dotted path of the offending field, e.g. ``"camera.fov_deg"``.
    message : str
        What is wrong, including the allowed values where there is a fixed set.
    """

    def __init__(self, source: str, field: str, message: str) -> None:
        self.source = source
        self.field = field
        self.message = message
        where = f"{source}: {field}" if field else source
        super().__init__(f"{where}: {message}")


class AssetError(SynthsceneError):
    """An asset cannot be found, read or used (missing file, unreadable mesh, empty mesh)."""


class OutputError(SynthsceneError):
    """The output folder cannot be created or written, or holds a dataset already."""


class DatasetError(ConfigError):
    """A dataset on disk cannot be read or used: not found, not valid JSON, nested too deep,
    a field of the wrong type, a ``file_name`` that leaves the image folder, labels that
    contradict their image.

    A :class:`ConfigError` (same ``source``, ``field``, ``message``), so code that caught
    ``ConfigError`` from the dataset tools keeps working; catch ``DatasetError`` to tell a bad
    dataset from a bad scenario.
    """


class PluginError(SynthsceneError):
    """A plug-in cannot be loaded, or one of its randomizers failed or returned the wrong thing.

    The message names the plug-in (its registry name and module) and, once the frame is known,
    the frame; it is one line.
    """
