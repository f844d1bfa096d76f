"""The run manifest: what a run makes, and which files it writes.

``OUT/.synthscene/manifest.json`` is written before a run's first frame
(:mod:`synthscene.run.run_folder`). Two runs with equal manifests make byte-identical datasets, so
``--resume`` compares the manifest on disk with its own; and since the manifest names the run's
files (name templates, frame count), ``--overwrite`` removes exactly those
(:class:`~synthscene.run.run_files.RunFiles`). A manifest is read with every field checked: one
that names files outside a run's folders is not trusted.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel

from synthscene.config.loading import Scenario
from synthscene.errors import OutputError
from synthscene.io.fileio import FileProblem, read_regular_file
from synthscene.io.layout import IMAGES_DIR, MAP_FOLDERS
from synthscene.registry.randomizers import Randomizer
from synthscene.run.run_files import RunFiles
from synthscene.version import __version__

__all__ = ["DATASET_FOLDERS", "MANIFEST_FORMAT", "RunManifest", "scenario_sha256"]

MANIFEST_FORMAT = 4
"""4: the manifest names the run's files (``files``, ``frames_per_scene``); 3: annotations say
``scene_instance_id`` (was ``instance_id``). ``skipped_assets`` came within format 4: a manifest
without it reads as a run that skipped none."""
MAX_MANIFEST_BYTES = 16 << 20
"""Largest manifest read (a few hundred bytes, plus about 200 a skipped asset)."""
OPTIONAL_FIELDS = {"skipped_assets": ()}
"""Fields a format-4 manifest may lack (it was written before they existed), with their value."""
DATASET_FOLDERS = (IMAGES_DIR, *sorted(set(MAP_FOLDERS.values())))
"""Every folder a run may write per-frame files into (relative to the dataset folder)."""
_TEMPLATE_NAME = re.compile(r"\{frame\}\.(?:png|jpg|npy|flo)|\{sequence\}(?:-left|-right)?\.npz")
"""File names a manifest's ``files`` templates may have."""


def scenario_sha256(scenario: Scenario, asset_keys: Sequence[str],
                    categories: Sequence[str]) -> str:
    """A hash of what a scenario makes: its validated fields and its resolved asset index.

    Parameters
    ----------
    scenario : Scenario
    asset_keys, categories : sequence of str
        The asset library's keys and sorted categories.

    Returns
    -------
    str
        Hex SHA-256 of the canonical JSON (sorted keys) of ``scenario.spec`` (after validation,
        so comments, key order and formatting of the YAML file do not count) and of the assets.
        ``limits`` is left out: it refuses scenarios but never changes what a run makes.
    """
    spec = _canonical(scenario.spec)
    spec.pop("limits", None)  # limits only refuse scenarios; they never change what is made
    payload = {"spec": spec, "assets": list(asset_keys),
               "categories": list(categories)}
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _canonical(value: Any) -> Any:
    """A JSON-able form of a validated scenario value that names every type, so that e.g.
    ``{uniform: [1, 2]}`` and ``{loguniform: [1, 2]}`` differ; functions and classes (inside
    configured randomizers) become their qualified names, other objects their ``repr``.

    A registered randomizer counts by its registry name and, for a plug-in's, its module (whose
    code the manifest's ``plugins`` hash): where a built-in's function lives, its summary and
    example do not change what a run makes, so moving one does not stop a ``--resume``."""
    if isinstance(value, Randomizer):
        module = "synthscene" if value.module.split(".")[0] == "synthscene" else value.module
        return {"__type__": "Randomizer", "name": value.name, "module": module}
    if isinstance(value, BaseModel):
        return {"__type__": type(value).__name__,
                **{field.alias or name: _canonical(getattr(value, name))
                   for name, field in type(value).model_fields.items()}}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {"__type__": type(value).__name__,
                **{f.name: _canonical(getattr(value, f.name)) for f in dataclasses.fields(value)}}
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, type) or callable(value):
        return f"{getattr(value, '__module__', '')}.{getattr(value, '__qualname__', '?')}"
    return repr(value)


@dataclass(frozen=True)
class RunManifest:
    """What a run makes; two runs with equal manifests make byte-identical datasets.

    Attributes
    ----------
    scenario_sha256 : str
        :func:`scenario_sha256` of the scenario.
    seed : int
    frames : int
    synthscene_version : str
    format : int
        Version of this folder layout (:data:`MANIFEST_FORMAT`).
    plugins : tuple of dict
        The plug-ins the run depends on (:func:`synthscene.plugins.plugins_of`), each
        ``{"module", "version", "sha256"}`` (version and hash of its source file, or None),
        sorted by module; empty for a run without plug-ins (and for manifests older than
        plug-ins).
    files : tuple of str
        Name templates of the run's per-frame files
        (:func:`synthscene.io.layout.run_file_templates`): ``images/{frame}.png``,
        ``depth/{frame}.png``, ``tracks/{sequence}.npz``; the image's first.
    frames_per_scene : int
        Frames of one scene or sequence (``{sequence}`` files number
        ``ceil(frames / frames_per_scene)``).
    skipped_assets : tuple of dict
        The broken assets the run left out of its libraries (``on_error: skip``), each
        ``{"asset": KEY, "file": PATH, "reason": ONE_LINE}``, in key order. Not compared by
        ``--resume``: the same files give the same list, and other files another asset index
        (``scenario_sha256``).
    """

    scenario_sha256: str
    seed: int
    frames: int
    synthscene_version: str = __version__
    format: int = MANIFEST_FORMAT
    plugins: tuple[dict[str, Any], ...] = ()
    files: tuple[str, ...] = (f"{IMAGES_DIR}/{{frame}}.png",)
    frames_per_scene: int = 1
    skipped_assets: tuple[dict[str, str], ...] = ()

    def run_files(self) -> RunFiles:
        """The files this run writes (:class:`~synthscene.run.run_files.RunFiles`)."""
        return RunFiles(self.files, self.frames, self.frames_per_scene)

    def to_bytes(self) -> bytes:
        """The manifest as JSON (keys sorted, one line)."""
        return (json.dumps(asdict(self), sort_keys=True) + "\n").encode("utf-8")

    @classmethod
    def from_file(cls, path: Path) -> RunManifest:
        """Read a manifest, checking every field (``--overwrite`` trusts its ``files``).

        Raises
        ------
        synthscene.errors.OutputError
            If the file cannot be read, is not a manifest, or is of another
            :data:`MANIFEST_FORMAT` (an older synthscene's, which does not name its files).
        """
        try:
            data = json.loads(read_regular_file(path, max_bytes=MAX_MANIFEST_BYTES))
            if not isinstance(data, dict):
                raise TypeError("not a JSON object")
        except FileProblem as exc:
            raise OutputError(f"cannot read {path}: {exc}") from None
        except (ValueError, TypeError, RecursionError) as exc:
            raise OutputError(f"{path}: not a synthscene run manifest ({exc}); nothing here "
                              "says which files are synthscene's: choose another folder, or "
                              "remove this one yourself") from None
        if data.get("format") != MANIFEST_FORMAT:
            raise OutputError(
                f"{path}: a run manifest of format {data.get('format')!r} (synthscene "
                f"{data.get('synthscene_version')!r}), and this synthscene "
                f"{__version__} reads format {MANIFEST_FORMAT} only, which names the files a "
                "run wrote; finish or remove that dataset with the synthscene that made it, or "
                "choose another folder")
        try:
            return cls(**{name: _checked(name, data[name]) if name in data
                          else OPTIONAL_FIELDS[name] for name in cls.__dataclass_fields__})
        except (ValueError, TypeError, KeyError) as exc:
            raise OutputError(f"{path}: not a synthscene run manifest ({exc!r}); nothing here "
                              "says which files are synthscene's: choose another folder, or "
                              "remove this one yourself") from None

    def difference(self, other: RunManifest) -> str | None:
        """Describe the first field in which ``other`` differs, or None if they are equal."""
        names = {"scenario_sha256": "scenario (hash of its fields and assets)",
                 "synthscene_version": "synthscene version"}
        for name in ("format", "synthscene_version", "plugins", "scenario_sha256", "seed",
                     "frames", "files", "frames_per_scene"):
            if name == "plugins":  # other plug-in code usually changes the hash too: name it
                difference = _plugin_difference(self.plugins, other.plugins)
                if difference:
                    return difference
                continue
            mine, theirs = getattr(self, name), getattr(other, name)
            if mine != theirs:
                return f"{names.get(name, name)} {theirs!r}, not {mine!r}"
        return None


def _checked(name: str, value: Any) -> Any:
    """A manifest field read from JSON, checked (and lists made tuples).

    Raises
    ------
    ValueError, TypeError
        If it has the wrong type or value.
    """
    def integer(minimum: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ValueError(f"{name} must be an integer >= {minimum}, not {value!r}")
        return value

    if name in ("seed", "frames"):
        return integer(0)
    if name in ("format", "frames_per_scene"):
        return integer(1)
    if name in ("scenario_sha256", "synthscene_version"):
        if not isinstance(value, str):
            raise TypeError(f"{name} must be text, not {value!r}")
        return value
    if name == "plugins":
        if not isinstance(value, list) or not all(isinstance(p, dict) for p in value):
            raise TypeError(f"plugins must be a list of objects, not {value!r}")
        return tuple(dict(p) for p in value)
    if name == "skipped_assets":
        if not isinstance(value, list) or not all(
                isinstance(p, dict) and all(isinstance(v, str) for v in p.values())
                for p in value):
            raise TypeError(f"skipped_assets must be a list of objects of text, not {value!r}")
        return tuple(dict(p) for p in value)
    if name == "files":
        if not isinstance(value, list) or not value:
            raise TypeError(f"files must be a non-empty list, not {value!r}")
        for template in value:
            folder, _, file_name = str(template).partition("/")
            if not isinstance(template, str) or folder not in DATASET_FOLDERS or \
                    not _TEMPLATE_NAME.fullmatch(file_name):
                raise ValueError(f"{template!r} is not a file of a synthscene run")
        return tuple(value)
    raise KeyError(name)  # pragma: no cover - every field is listed above


def _plugin_difference(mine: Sequence[Mapping[str, Any]],
                       theirs: Sequence[Mapping[str, Any]]) -> str | None:
    """Describe the first plug-in whose code differs between two manifests, or None."""
    ours = {p["module"]: p for p in mine}
    other = {p["module"]: p for p in theirs}

    def code(plugin: Mapping[str, Any] | None) -> str:
        if plugin is None:
            return "no such plug-in"
        digest = plugin.get("sha256")
        return (f"version {plugin.get('version')}, source sha256 "
                f"{digest[:12] if digest else None}")

    for module in sorted(set(ours) | set(other)):
        a, b = ours.get(module), other.get(module)
        if a is None or b is None or (a.get("version"), a.get("sha256")) != (
                b.get("version"), b.get("sha256")):
            return f"plug-in '{module}' at {code(b)}, not {code(a)}"
    return None
