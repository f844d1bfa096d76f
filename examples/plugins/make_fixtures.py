"""Write the example fixtures' meshes: ``shelf_vhacd.obj`` and ``belt.obj`` (metres).

``shelf_vhacd.obj``: two side panels and four boards, each an ``o`` part (so each part is one
convex collision hull: "vhacd" in the file name tells synthscene the file is already split into
convex parts). 0.80 m wide (x), 0.30 m deep (y), 0.92 m high (z); the boards' top surfaces are
at z = 0.02, 0.32, 0.62 (the three levels) and 0.92 (the top). ``belt.obj``: a 1.60 x 0.30 x
0.04 m slab. Run once: ``python examples/plugins/make_fixtures.py``.
"""

from __future__ import annotations

from pathlib import Path

import trimesh

HERE = Path(__file__).resolve().parent


def box(lo: tuple[float, float, float], hi: tuple[float, float, float]) -> trimesh.Trimesh:
    """An axis-aligned box from corner ``lo`` to corner ``hi`` (metres)."""
    extents = [h - low for low, h in zip(lo, hi)]
    centre = [(h + low) / 2 for low, h in zip(lo, hi)]
    return trimesh.creation.box(extents=extents,
                                transform=trimesh.transformations.translation_matrix(centre))


def write_parts(path: Path, parts: list[trimesh.Trimesh]) -> None:
    """One OBJ file with each mesh as its own ``o`` object."""
    lines, offset = [], 1
    for i, mesh in enumerate(parts):
        lines.append(f"o part{i}")
        lines += [f"v {x:.4f} {y:.4f} {z:.4f}" for x, y, z in mesh.vertices]
        lines += [f"f {a + offset} {b + offset} {c + offset}" for a, b, c in mesh.faces]
        offset += len(mesh.vertices)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> None:
    w, d, t = 0.40, 0.15, 0.02
    shelf = [box((-w, -d, 0.0), (-w + t, d, 0.92)), box((w - t, -d, 0.0), (w, d, 0.92))]
    shelf += [box((-w + t, -d, top - t), (w - t, d, top)) for top in (0.02, 0.32, 0.62, 0.92)]
    write_parts(HERE / "shelf_vhacd.obj", shelf)
    write_parts(HERE / "belt.obj", [box((-0.8, -0.15, 0.0), (0.8, 0.15, 0.04))])


if __name__ == "__main__":
    main()
