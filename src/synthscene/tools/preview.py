"""``synthscene preview``: a contact sheet of random frames of a scenario, with their labels.

Nothing is written but the sheet: frames come from :func:`synthscene.run.pipeline.iter_samples`, so
a user sees in seconds what the scenario's randomization does.
"""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np
from pycocotools import mask as mask_utils

from synthscene.config.loading import Scenario
from synthscene.errors import OutputError
from synthscene.labels.annotate import KEYPOINT_SKELETON
from synthscene.tools.visualize import OverlayItem, draw_overlay

__all__ = ["parse_grid", "preview_sheet", "write_preview"]

logger = logging.getLogger(__name__)


def parse_grid(text: str) -> tuple[int, int]:
    """``"4x4"`` -> ``(columns, rows)``.

    Raises
    ------
    ValueError
        If ``text`` is not ``COLSxROWS`` with both between 1 and 16.
    """
    parts = text.lower().split("x")
    if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
        raise ValueError(f"--grid must look like 4x4 (columns x rows), got {text!r}")
    cols, rows = (int(p) for p in parts)
    if not (1 <= cols <= 16 and 1 <= rows <= 16):
        raise ValueError(f"--grid columns and rows must be between 1 and 16, got {text!r}")
    return cols, rows


def preview_sheet(scenario: Scenario, *, columns: int, rows: int, seed: int = 0,
                  tile_width: int = 320) -> np.ndarray:
    """Render ``columns * rows`` frames and tile their label overlays.

    Parameters
    ----------
    scenario : Scenario
    columns, rows : int
    seed : int
        Frames 0 .. N-1 of this run seed (the same frames ``generate`` makes with it).
    tile_width : int
        Width in pixels of each tile; the height keeps the image's aspect ratio.

    Returns
    -------
    (rows * tile_height, columns * tile_width, 3) uint8
        RGB contact sheet: masks, boxes, class names and, where present, keypoints.

    Raises
    ------
    SynthsceneError
        As :func:`synthscene.run.pipeline.iter_samples`.
    """
    from synthscene.run.pipeline import build_library, iter_samples

    spec = scenario.spec
    tile_height = max(1, round(tile_width * spec.image.height / spec.image.width))
    sheet = np.zeros((rows * tile_height, columns * tile_width, 3), dtype=np.uint8)
    library = build_library(scenario)  # broken assets are left out as generate does
    if library.skipped:
        logger.warning("%d asset%s skipped (broken), e.g. %s: %s; `synthscene assets` lists "
                       "them", len(library.skipped), "s" if len(library.skipped) > 1 else "",
                       library.skipped[0].key, library.skipped[0].reason)
    for n, sample in enumerate(iter_samples(scenario, frames=columns * rows, seed=seed,
                                            library=library)):
        items = [
            OverlayItem(mask=mask_utils.decode(label.segmentation).astype(bool),
                        bbox=tuple(label.bbox), name=label.category,
                        keypoints=getattr(label, "keypoints", None),
                        skeleton=[list(edge) for edge in KEYPOINT_SKELETON])
            for label in sample.labels
        ]
        overlay = draw_overlay(sample.render.rgb, items)
        tile = cv2.resize(overlay, (tile_width, tile_height), interpolation=cv2.INTER_AREA)
        r, c = divmod(n, columns)
        sheet[r * tile_height:(r + 1) * tile_height, c * tile_width:(c + 1) * tile_width] = tile
    return sheet


def write_preview(sheet: np.ndarray, out: str | Path) -> Path:
    """Write an RGB sheet as PNG (or any format OpenCV knows by the suffix).

    Raises
    ------
    OutputError
        If the file cannot be written.
    """
    out = Path(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        ok = cv2.imwrite(str(out), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR))
    except (OSError, cv2.error) as exc:
        raise OutputError(f"{out}: cannot write the preview ({exc})") from None
    if not ok:
        raise OutputError(f"{out}: cannot write the preview (unknown image suffix or "
                          "unwritable folder)")
    return out
