"""BOP model folders: a BOP dataset's ``models/`` read as an asset source (``bop:PATH``).

A BOP dataset (Hodan et al., "BOP: Benchmark for 6D Object Pose Estimation", ECCV 2018; the
format of the BOP toolkit's ``docs/bop_datasets_format.md``) describes its objects in one
folder::

    models/
        models_info.json       {"1": {"diameter": ..., "min_x": ..., "size_x": ..., ...}, ...}
        obj_000001.ply         vertices in millimetres; vertex colours, or texture coordinates
        obj_000001.png         and a texture named in the header: ``comment TextureFile NAME``

:func:`bop_models` reads ``models_info.json`` (the list of object ids) and checks that every
listed model file is there; the PLY files themselves are read like any mesh file
(:mod:`synthscene.assets.loading`; trimesh reads the ``TextureFile`` comment and
:mod:`synthscene.assets.appearance` turns the image into the part's base-colour texture).
Lengths are millimetres (:data:`BOP_UNIT`). Each object keeps its BOP id: the category is
``obj_NNNNNN`` unless a ``names`` map names it, and ``export --to bop`` writes that id as
``obj_id``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from synthscene.errors import AssetError
from synthscene.io.fileio import FileProblem, read_regular_file, regular_file_problem

__all__ = ["BOP_UNIT", "MAX_MODELS_INFO_BYTES", "MODELS_INFO", "BopModel", "bop_category",
           "bop_model_file", "bop_models", "ply_texture_name"]

BOP_UNIT = "mm"
"""The length unit of a BOP model file."""
MODELS_INFO = "models_info.json"
"""The file of a BOP models folder that lists its objects."""
MAX_MODELS_INFO_BYTES = 64 * 1024 * 1024
"""Largest ``models_info.json`` read, bytes."""
_TEXTURE_FILE = re.compile(rb"(?m)^comment[ \t]+TextureFile[ \t]+([^\r\n]*?)[ \t]*\r?$")
_MAX_PLY_HEADER_BYTES = 1 << 16


def ply_texture_name(path: Path) -> str | None:
    """The texture file a PLY header names (``comment TextureFile NAME``, as BOP's textured
    models and MeshLab write it), relative to the PLY's folder; None if it names none.

    Raises
    ------
    OSError
        If the file cannot be read.
    """
    with open(path, "rb") as handle:
        header = handle.read(_MAX_PLY_HEADER_BYTES).split(b"end_header", 1)[0]
    match = _TEXTURE_FILE.search(header)
    if match is None or not match.group(1).strip():
        return None
    return match.group(1).decode("utf-8", errors="replace").strip()


@dataclass(frozen=True)
class BopModel:
    """One object of a BOP models folder.

    Attributes
    ----------
    obj_id : int
        The BOP object id (the key of ``models_info.json``).
    path : Path
        Its resolved ``obj_NNNNNN.ply``.
    category : str
        ``names[obj_id]``, else the source's category, else ``obj_NNNNNN``.
    """

    obj_id: int
    path: Path
    category: str


def bop_model_file(obj_id: int) -> str:
    """The file name of object ``obj_id`` in a BOP models folder: ``obj_000001.ply``."""
    return f"obj_{int(obj_id):06d}.ply"


def bop_category(obj_id: int) -> str:
    """The default category of BOP object ``obj_id``: ``obj_000001``."""
    return f"obj_{int(obj_id):06d}"


def _error(where: str, path: Path, message: str) -> AssetError:
    return AssetError(": ".join(p for p in (where, str(path), message) if p))


def _object_ids(path: Path, where: str) -> list[int]:
    """The object ids ``models_info.json`` lists, in increasing order."""
    try:
        data = json.loads(read_regular_file(path, max_bytes=MAX_MODELS_INFO_BYTES))
    except FileProblem as exc:
        reason = "file not found (a BOP models folder lists its objects in models_info.json)" \
            if str(exc) == "not found" else f"file is {exc}"
        raise _error(where, path, reason) from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise _error(where, path, f"not valid JSON ({' '.join(str(exc).split())})") from None
    if not isinstance(data, dict) or not data:
        raise _error(where, path, "must be a non-empty JSON object {obj_id: {diameter, min_x, "
                     "...}, ...}")
    ids = []
    for key, info in data.items():
        if not (isinstance(key, str) and key.isdigit()) or not isinstance(info, dict):
            raise _error(where, path, f"entry {key!r} must be an object id (a whole number) "
                         "mapped to an object {diameter, min_x, ...}")
        diameter = info.get("diameter")
        if diameter is not None and not (isinstance(diameter, (int, float))
                                         and math.isfinite(diameter) and diameter > 0):
            raise _error(where, path, f"object {key}: diameter must be a positive number, got "
                         f"{diameter!r}")
        ids.append(int(key))
    if len(set(ids)) != len(ids):
        raise _error(where, path, "lists an object id twice")
    return sorted(ids)


def bop_models(folder: Path, *, where: str = "", category: str | None = None,
               names: Mapping[int, str] | None = None) -> list[BopModel]:
    """The objects of a BOP models folder, checked to exist.

    Parameters
    ----------
    folder : Path
        The ``models/`` folder (``models_eval/`` and ``models_cad/`` work the same way).
    where : str
        Config location for error messages.
    category : str, optional
        One category for every object.
    names : mapping of int to str, optional
        Category names by BOP object id; objects not in it keep ``obj_NNNNNN``.

    Returns
    -------
    list of BopModel
        In increasing object id order.

    Raises
    ------
    AssetError
        If the folder, its ``models_info.json`` or a listed ``obj_NNNNNN.ply`` is missing or
        unreadable, ``models_info.json`` is malformed, or ``names`` names an id it does not
        list; the message names the file.
    """
    if not folder.is_dir():
        raise _error(where, folder, "is a file, not a BOP models folder" if folder.exists()
                     else "folder not found (expected a BOP models folder with "
                     "models_info.json and obj_NNNNNN.ply files)")
    folder = folder.resolve()
    if not (folder / MODELS_INFO).exists() and (folder / "models" / MODELS_INFO).is_file():
        raise _error(where, folder / MODELS_INFO, "file not found; this looks like a BOP "
                     f"dataset's root: give its models folder, bop:{folder / 'models'}")
    ids = _object_ids(folder / MODELS_INFO, where)
    unknown = sorted(set(names or {}) - set(ids))
    if unknown:
        raise _error(where, folder / MODELS_INFO, f"names gives object id(s) "
                     f"{', '.join(map(str, unknown))} that models_info.json does not list "
                     f"(it lists {', '.join(map(str, ids[:10]))}{' ...' if len(ids) > 10 else ''})")
    models = []
    for obj_id in ids:
        path = folder / bop_model_file(obj_id)
        problem = regular_file_problem(path)
        if problem is not None:
            raise _error(where, path, f"model of object {obj_id} listed in models_info.json: "
                         + ("file not found" if problem == "not found" else f"file is {problem}"))
        models.append(BopModel(obj_id=obj_id, path=path,
                               category=(names or {}).get(obj_id) or category
                               or bop_category(obj_id)))
    return models
