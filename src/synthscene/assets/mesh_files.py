"""Checks on a mesh file before it is parsed: what it is, how many triangles it declares, and
whether its vertices are finite.

trimesh reads a mesh file whole and then repairs it: a vertex with a NaN or infinite coordinate
is dropped with every face that uses it, without a word. A file that would take gigabytes to load
or that is silently repaired is refused here instead, from what can be learnt cheaply: the triangle
count a binary STL, PLY or OFF header declares; for OBJ and ASCII STL the face lines, counted in
one streaming pass that also looks for ``nan`` and ``inf`` in vertex lines; the float32 vertices
of a binary STL. Formats whose counts sit deeper (glTF, GLB) are checked after loading by the
caller, with the same budget.
"""

from __future__ import annotations

import re
import struct
from pathlib import Path

import numpy as np

from synthscene.io.fileio import regular_file_problem

__all__ = ["mesh_file_problem", "triangle_budget_problem"]

_CHUNK = 1 << 24
_OBJ_FACE = re.compile(rb"(?m)^[ \t]*f[ \t]")
_WORD = rb"(?<![a-z])(?:nan|inf|infinity)(?![a-z])"
_OBJ_NON_FINITE = re.compile(rb"(?im)^[ \t]*v[ \t][^\n#]*?" + _WORD)
_STL_NON_FINITE = re.compile(rb"(?im)^[ \t]*vertex[ \t][^\n]*?" + _WORD)
_ANY_NON_FINITE = re.compile(rb"(?i)" + _WORD)
_STL_TRIANGLE = np.dtype([("normal", "<f4", 3), ("vertices", "<f4", (3, 3)),
                          ("attribute", "<u2")])


def triangle_budget_problem(triangles: int, max_triangles: int) -> str | None:
    """The message for a mesh over its triangle budget, or None within it."""
    if triangles <= max_triangles:
        return None
    return (f"mesh has {triangles} triangles, more than limits.max_mesh_triangles "
            f"({max_triangles}); decimate it (e.g. trimesh's simplify_quadric_decimation or "
            "Blender's Decimate) or raise the limit (--limit max_mesh_triangles=N)")


def _stream_text(path: Path, faces: re.Pattern, non_finite: re.Pattern) -> tuple[int, bool]:
    """Face lines and whether a vertex line holds nan/inf, in one pass of whole lines."""
    count, bad, rest = 0, False, b""
    with open(path, "rb") as handle:
        while True:
            chunk = handle.read(_CHUNK)
            block = rest + chunk
            if chunk:
                cut = block.rfind(b"\n") + 1
                block, rest = block[:cut], block[cut:]
            count += len(faces.findall(block))
            bad = bad or non_finite.search(block) is not None
            if not chunk:
                return count, bad


def _binary_stl(path: Path, size: int, max_triangles: int) -> tuple[int, bool] | None:
    """Triangles and non-finite vertices of a binary STL, or None if it is ASCII (vertices are
    not read when the header's count is over ``max_triangles``)."""
    with open(path, "rb") as handle:
        header = handle.read(84)
        if len(header) < 84:
            return None
        (n,) = struct.unpack("<I", header[80:84])
        if size != 84 + 50 * n:
            return None  # ASCII (or damaged): trimesh decides
        if n > max_triangles:
            return n, False
        bad = False
        for start in range(0, n, 1 << 20):
            block = np.frombuffer(handle.read(50 * min(1 << 20, n - start)), dtype=_STL_TRIANGLE)
            bad = bad or not bool(np.isfinite(block["vertices"]).all())
        return n, bad


def _ply_faces(path: Path) -> int | None:
    """The face count a PLY header declares."""
    with open(path, "rb") as handle:
        header = handle.read(1 << 16)
    end = header.find(b"end_header")
    match = re.search(rb"(?m)^element[ \t]+face[ \t]+(\d+)", header[:end if end >= 0 else None])
    return int(match.group(1)) if match else None


def _off_faces(path: Path) -> tuple[int | None, bool]:
    """The face count an OFF header declares, and whether the file holds nan/inf."""
    with open(path, "rb") as handle:
        head = handle.read(1 << 16)
    words = re.sub(rb"#[^\n]*", b"", head).split()
    if words and words[0].upper().endswith(b"OFF"):
        words = words[1:]
    faces = int(words[1]) if len(words) > 1 and words[1].isdigit() else None
    bad = _stream_text(path, re.compile(rb"(?!)"), _ANY_NON_FINITE)[1]
    return faces, bad


def mesh_file_problem(path: Path, *, max_triangles: int) -> str | None:
    """What makes ``path`` unfit to load as a mesh, or None if nothing was found.

    Parameters
    ----------
    path : Path
        A mesh file (``.obj``, ``.stl``, ``.ply``, ``.off``, ``.glb``, ``.gltf``).
    max_triangles : int
        Triangle budget.

    Returns
    -------
    str or None
        ``"mesh file not found"``, ``"mesh file is a FIFO (named pipe), not a regular
        file"``, ``"mesh file is a symbolic link loop (...)"``, a triangle-budget message
        (:func:`triangle_budget_problem`), ``"mesh has non-finite (NaN or infinite) vertex
        coordinates"``, or None.

    Raises
    ------
    OSError
        If the file cannot be read.
    """
    problem = regular_file_problem(path)
    if problem is not None:
        return f"mesh file {problem}" if problem == "not found" else f"mesh file is {problem}"
    suffix = path.suffix.lower()
    triangles, bad = None, False
    if suffix == ".stl":
        found = _binary_stl(path, path.stat().st_size, max_triangles)
        if found is None:
            triangles, bad = _stream_text(path, re.compile(rb"endfacet"), _STL_NON_FINITE)
        else:
            triangles, bad = found
    elif suffix == ".obj":
        triangles, bad = _stream_text(path, _OBJ_FACE, _OBJ_NON_FINITE)
    elif suffix == ".ply":
        triangles = _ply_faces(path)
    elif suffix == ".off":
        triangles, bad = _off_faces(path)
    if triangles is not None:
        over = triangle_budget_problem(triangles, max_triangles)
        if over is not None:
            return over
    if bad:
        return ("mesh has non-finite (NaN or infinite) vertex coordinates; trimesh would drop "
                "them and their faces silently")
    return None
