"""The exact set of files one run writes, from what its manifest records.

A run manifest (:class:`~synthscene.run.run_folder.RunManifest`) records the run's frame count,
frames per scene and the name templates of its per-frame files
(:func:`synthscene.io.layout.run_file_templates`: ``images/{frame}.png``, ``depth/{frame}.png``,
``tracks/{sequence}.npz``). :class:`RunFiles` answers, for any name found on disk, whether that
run wrote it; ``--overwrite`` removes exactly those files and ``--resume`` refuses a folder holding
anything else. The answer costs no memory per frame: a name is parsed, never looked up in a list.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Sequence

from synthscene.io.fileio import temporary_target
from synthscene.io.layout import frame_stem, sequence_stem

__all__ = ["RunFiles", "TEMPLATE_FIELDS"]

TEMPLATE_FIELDS = {"frame": (frame_stem, r"\d{6,}", 1),
                   "sequence": (sequence_stem, r"seq-\d{6,}", 0)}
"""For each template field: the function that names a number, a pattern of such names and the
number of the first one (frame 0 is named ``000001``, sequence 0 ``seq-000000``)."""
_TEMPLATE = re.compile(r"([^{}/]*)\{(frame|sequence)\}([^{}/]*)")


class _Pattern:
    """One file-name template of a folder, e.g. ``{frame}.png``, and how many it names."""

    def __init__(self, template: str, count: int) -> None:
        match = _TEMPLATE.fullmatch(template)
        if match is None:
            raise ValueError(f"not a run file template: {template!r}")
        self.prefix, self.field, self.suffix = match.groups()
        self.count = count
        name, pattern, self._first = TEMPLATE_FIELDS[self.field]
        self._name = name
        self._regex = re.compile(re.escape(self.prefix) + f"({pattern})" + re.escape(self.suffix))

    def number(self, name: str) -> int | None:
        """The index (frame or sequence, from 0) that ``name`` is the file of, or None."""
        match = self._regex.fullmatch(name)
        if match is None:
            return None
        digits = re.sub(r"\D", "", match.group(1))
        index = int(digits) - self._first
        if not 0 <= index < self.count or self.name(index) != name:
            return None  # out of the run's range, or not written so (0000001.png)
        return index

    def name(self, index: int) -> str:
        """The file name of index ``index``."""
        return f"{self.prefix}{self._name(index)}{self.suffix}"


class RunFiles:
    """Which files of a dataset folder a run wrote.

    Parameters
    ----------
    templates : sequence of str
        Name templates relative to the dataset folder (``images/{frame}.png``,
        ``tracks/{sequence}.npz``), one folder deep.
    frames : int
        Frames of the run.
    frames_per_scene : int
        Frames of one sequence (``{sequence}`` names ``ceil(frames / frames_per_scene)`` files).

    Raises
    ------
    ValueError
        If a template is not a folder and a name with one ``{frame}`` or ``{sequence}``.
    """

    def __init__(self, templates: Sequence[str], frames: int, frames_per_scene: int = 1) -> None:
        sequences = -(-int(frames) // max(1, int(frames_per_scene)))
        self._folders: dict[str, list[_Pattern]] = {}
        for template in templates:
            folder, name = posixpath.split(template)
            if not folder or "/" in folder or folder in (".", ".."):
                raise ValueError(f"not a run file template: {template!r}")
            pattern = _Pattern(name, int(frames) if "{frame}" in name else sequences)
            self._folders.setdefault(folder, []).append(pattern)

    @property
    def folders(self) -> tuple[str, ...]:
        """The folders (relative to the dataset folder) the run writes files into, sorted."""
        return tuple(sorted(self._folders))

    def owns(self, folder: str, name: str) -> bool:
        """Whether ``folder/name`` is a file of the run, or the temporary file of one.

        Parameters
        ----------
        folder : str
            Relative to the dataset folder (``"images"``).
        name : str
            A file name in it.
        """
        target = temporary_target(name)
        name = target if target is not None else name
        return any(p.number(name) is not None for p in self._folders.get(folder, ()))

    def name(self, folder: str, index: int) -> str:
        """The file name of frame (or sequence) ``index`` in ``folder`` (its first template).

        Raises
        ------
        KeyError
            If the run writes no file into ``folder``.
        """
        return self._folders[folder][0].name(index)
