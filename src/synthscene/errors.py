"""Errors that synthscene raises for bad input.

Every error a user can cause (a bad scenario file, a missing or broken asset, an impossible
placement, an unwritable output folder) is a :class:`SynthsceneError`. The CLI prints its message
on one line and exits with status 2, without a traceback; Python callers can catch it.
"""

from __future__ import annotations


class SynthsceneError(Exception):
    """Base class of every error caused by the user's input or environment."""


class FieldError(SynthsceneError):
    """A value at a named place of an input is wrong: the base of :class:`ConfigError`,
    :class:`DatasetError` and :class:`OptionError`.

    Parameters
    ----------
    source : str
        The file the value came from (``"<dict>"`` for a Python dict), or the option's name.
    field : str
        Dotted path of the offending field, e.g. ``"camera.fov_deg"``; empty for an option.
    message : str
        What is wrong, including the allowed values where there is a fixed set.
    """

    def __init__(self, source: str, field: str, message: str) -> None:
        self.source = source
        self.field = field
        self.message = message
        where = f"{source}: {field}" if field else source
        super().__init__(f"{where}: {message}")

    def __reduce__(self) -> tuple:
        # Rebuilt from its three parts when unpickled, so a worker's error keeps its class.
        return type(self), (self.source, self.field, self.message)


class ConfigError(FieldError):
    """A scenario is malformed: unknown key, wrong type, value out of range, a limit exceeded
    (``source`` is the scenario file, ``field`` the dotted YAML field)."""


class AssetError(SynthsceneError):
    """An asset cannot be found, read or used (missing file, unreadable mesh, empty mesh)."""


class OutputError(SynthsceneError):
    """The output folder cannot be created or written, or holds a dataset already."""


class DatasetError(FieldError):
    """A dataset on disk cannot be read or used: not found, not valid JSON, nested too deep,
    a field of the wrong type, a ``file_name`` that leaves the image folder, labels that
    contradict their image (``source`` is the annotation file, ``field`` the entry)."""


class OptionError(FieldError):
    """An option of a command or function is wrong: an unknown export format or task, a
    malformed ``--split``, a shard size below 1, an extra that is not installed (``source`` is
    the option, e.g. ``"--split"``)."""


class RenderError(SynthsceneError):
    """The GL context cannot be created, or a frame cannot be rendered."""


class PluginError(SynthsceneError):
    """A plug-in cannot be loaded, or one of its randomizers failed or returned the wrong thing.

    The message names the plug-in (its registry name and module) and, once the frame is known,
    the frame; it is one line.
    """
