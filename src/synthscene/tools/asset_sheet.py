"""The contact sheet of ``synthscene assets --sheet``: every usable asset rendered alone.

Each cell shows one asset in its own look (``asset_appearance: keep``: the materials and
textures its files declare), rendered with synthscene's renderer: longest edge 0.5 m, seen from
above and to the side by a 40 degree camera, one white directional light from the camera's side
plus ambient light, on a neutral grey background (:data:`BACKGROUND`), its name under it.

Pages hold :data:`PER_PAGE` cells (:data:`COLUMNS` a row). A library that fits one page is
written to the file asked for; a larger one to numbered pages beside it: ``sheet.png`` becomes
``sheet-001.png``, ``sheet-002.png``, ... (:func:`page_paths`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path

import cv2
import numpy as np

from synthscene.assets.library import SceneLibraries
from synthscene.core.state import Camera, Light, Material, SceneObject, SceneState
from synthscene.errors import OutputError
from synthscene.io.fileio import probe_writable, write_atomic
from synthscene.randomize.geometry import aim_negative_z, look_at_opencv

__all__ = ["BACKGROUND", "CELL", "COLUMNS", "LABEL_HEIGHT", "PER_PAGE", "check_sheet_path",
           "page_paths", "sheet_pages", "write_sheets"]

CELL = 160
"""Width and height of an asset's image in a cell, pixels."""
LABEL_HEIGHT = 20
"""Height of the name band under each image, pixels."""
COLUMNS = 10
"""Cells a row."""
PER_PAGE = 100
"""Cells a page."""
BACKGROUND = (224, 224, 224)
"""The sheet's neutral grey (sRGB), behind every asset and between cells."""
_EYE_DIRECTION = np.array([0.6, 0.4, 1.0]) / np.linalg.norm([0.6, 0.4, 1.0])
_SCALE_M = 0.5
_HALF_FOV_RAD = math.radians(20.0)
_KEEP = Material(base_color=(1.0, 1.0, 1.0, 1.0), metallic=None, roughness=None,
                 appearance="keep")


def page_paths(path: str | Path, pages: int) -> list[Path]:
    """The files of a sheet of ``pages`` pages: ``path`` itself for one page, else
    ``STEM-001.png``, ``STEM-002.png``, ... beside it."""
    path = Path(path)
    if pages <= 1:
        return [path]
    digits = max(3, len(str(pages)))
    return [path.with_name(f"{path.stem}-{i:0{digits}d}{path.suffix}")
            for i in range(1, pages + 1)]


def check_sheet_path(path: str | Path) -> Path:
    """Check, before any work, that a sheet can be written at ``path``.

    Raises
    ------
    OutputError
        If it does not end in ``.png``, its folder does not exist or cannot be written, or it
        is a folder.
    """
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise OutputError(f"{path}: the contact sheet is a PNG file: give a name ending in .png")
    if path.is_dir():
        raise OutputError(f"{path}: is a folder; give the sheet's file name")
    if not path.parent.is_dir():
        raise OutputError(f"{path}: cannot write the contact sheet: no folder {path.parent}")
    try:
        probe_writable(path.parent)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write the contact sheet in {path.parent} "
                          f"({exc.strerror or exc})") from None
    return path


def _state(key: str) -> SceneState:
    """The asset ``key`` alone, longest edge 0.5 m, framed whole by the camera."""
    f = CELL / (2 * math.tan(_HALF_FOV_RAD))
    K = np.array([[f, 0, (CELL - 1) / 2], [0, f, (CELL - 1) / 2], [0, 0, 1.0]])
    # The bounding sphere of a box of longest edge s has radius <= s * sqrt(3) / 2, which a
    # 40 degree view from 1.5 * s * sqrt(3) away holds whole (sin 20 deg * 1.5 > 1 / 2).
    eye = 1.5 * math.sqrt(3) * _SCALE_M * _EYE_DIRECTION
    camera = Camera(K=K, width=CELL, height=CELL,
                    world_from_camera=look_at_opencv(eye, np.zeros(3)))
    light = Light(kind="directional", world_from_light=aim_negative_z(eye, np.zeros(3)),
                  color=(1.0, 1.0, 1.0), intensity=3.0)
    obj = SceneObject(instance_id=1, asset_key=key, category="asset", scale=_SCALE_M,
                      world_from_object=np.eye(4), material=_KEEP)
    return SceneState(objects=(obj,), lights=(light,), camera=camera, ground=None,
                      ambient_light=(0.3, 0.3, 0.3),
                      background_color=tuple(c / 255 for c in BACKGROUND))  # type: ignore


def _name_band(text: str) -> np.ndarray:
    """A :data:`LABEL_HEIGHT` x :data:`CELL` band with ``text`` (cut at the left to fit)."""
    band = np.full((LABEL_HEIGHT, CELL, 3), BACKGROUND, dtype=np.uint8)
    text = "".join(c if 32 <= ord(c) < 127 else "?" for c in text)
    font, scale = cv2.FONT_HERSHEY_SIMPLEX, 0.33
    shown = text
    while shown and cv2.getTextSize(shown, font, scale, 1)[0][0] > CELL - 4:
        shown = shown[1:]
    if shown != text:
        shown = "..." + shown[3:]
    cv2.putText(band, shown, (2, LABEL_HEIGHT - 6), font, scale, (0, 0, 0), 1, cv2.LINE_AA)
    return band


def sheet_pages(libraries: SceneLibraries, keys: Sequence[str], names: Sequence[str], *,
                per_page: int = PER_PAGE, on_cell: Callable[[str], None] | None = None):
    """Render the assets ``keys`` and yield the pages of their contact sheet.

    Parameters
    ----------
    libraries : SceneLibraries
        Serves each key's mesh and look.
    keys : sequence of str
        The assets, in the order of the cells (row by row).
    names : sequence of str
        The name under each cell.
    per_page : int
        Cells a page (rows of :data:`COLUMNS`).
    on_cell : callable, optional
        Called with each key once its cell is drawn (a progress bar).

    Yields
    ------
    (rows * (CELL + LABEL_HEIGHT), columns * CELL, 3) uint8
        RGB page, cells row by row, :data:`COLUMNS` a row (fewer if there are fewer assets);
        every page as large as the first, its unused cells background.

    Raises
    ------
    RenderError
        If no GL context can be made.
    AssetError
        If an asset cannot be loaded.
    """
    from synthscene.render.renderer import Renderer

    on_page = min(per_page, len(keys))  # a sheet of one page is as large as its assets need
    rows, columns = math.ceil(on_page / COLUMNS), min(COLUMNS, on_page)
    with Renderer(libraries, CELL, CELL) as renderer:
        for first in range(0, len(keys), per_page):
            page = np.full((rows * (CELL + LABEL_HEIGHT), columns * CELL, 3), BACKGROUND,
                           dtype=np.uint8)
            for n, (key, name) in enumerate(zip(keys[first:first + per_page],
                                                names[first:first + per_page])):
                out = renderer.render(_state(key))
                image = out.rgb.copy()
                image[out.instance_ids == 0] = BACKGROUND
                r, c = divmod(n, COLUMNS)
                top, left = r * (CELL + LABEL_HEIGHT), c * CELL
                page[top:top + CELL, left:left + CELL] = image
                page[top + CELL:top + CELL + LABEL_HEIGHT, left:left + CELL] = _name_band(name)
                if on_cell is not None:
                    on_cell(key)
            yield page


def write_sheets(libraries: SceneLibraries, keys: Sequence[str], names: Sequence[str],
                 path: str | Path, *, per_page: int = PER_PAGE,
                 on_cell: Callable[[str], None] | None = None) -> list[Path]:
    """Render the contact sheet of ``keys`` (:func:`sheet_pages`) and write its pages.

    Returns
    -------
    list of Path
        The pages written (:func:`page_paths`); none for no keys.

    Raises
    ------
    OutputError
        If a page cannot be written (:func:`check_sheet_path`).
    RenderError, AssetError
        As :func:`sheet_pages`.
    """
    path = check_sheet_path(path)
    paths = page_paths(path, math.ceil(len(keys) / per_page))
    written = []
    for target, page in zip(paths, sheet_pages(libraries, keys, names, per_page=per_page,
                                               on_cell=on_cell)):
        ok, encoded = cv2.imencode(".png", np.ascontiguousarray(page[..., ::-1]),
                                   [cv2.IMWRITE_PNG_COMPRESSION, 6])
        if not ok:  # pragma: no cover - a uint8 image always encodes
            raise OutputError(f"{target}: cannot encode the contact sheet")
        write_atomic(target, encoded.tobytes())
        written.append(target)
    return written if keys else []
