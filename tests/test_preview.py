"""`synthscene preview`: a contact sheet of labelled frames."""

from __future__ import annotations

import subprocess
import sys

import cv2
import numpy as np
import pytest
import yaml

from synthscene.tools.preview import parse_grid

pytestmark = pytest.mark.gl


def test_parse_grid():
    assert parse_grid("4x3") == (4, 3)
    for bad in ("4", "0x2", "ax2", "17x1"):
        with pytest.raises(ValueError, match="--grid"):
            parse_grid(bad)


def test_preview_writes_a_sheet_of_the_asked_grid(tmp_path):
    scene = tmp_path / "s.yaml"
    scene.write_text(yaml.safe_dump({
        "assets": [{"source": "primitive:box"}], "image": {"width": 160, "height": 120},
        "objects": {"count": 3}, "physics": {"enabled": False},
    }))
    out = tmp_path / "sheet.png"
    result = subprocess.run([sys.executable, "-m", "synthscene.cli", "preview", str(scene),
                             "--out", str(out), "--grid", "3x2", "--tile-width", "80"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    sheet = cv2.imread(str(out))
    assert sheet.shape == (2 * 60, 3 * 80, 3)
    tiles = [sheet[r * 60:(r + 1) * 60, c * 80:(c + 1) * 80] for r in range(2) for c in range(3)]
    assert all(tile.std() > 5 for tile in tiles)            # every tile holds a frame
    assert not np.array_equal(tiles[0], tiles[1])           # different random frames


def test_preview_of_a_missing_scene_is_one_clear_error(tmp_path):
    result = subprocess.run([sys.executable, "-m", "synthscene.cli", "preview",
                             str(tmp_path / "nope.yaml"), "--out", str(tmp_path / "p.png")],
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.strip().startswith("synthscene: error:") and "nope.yaml" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
