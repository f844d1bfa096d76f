"""``synthscene assets``: a table and a summary of every asset of a scenario or a source, a JSON
report, a paged contact sheet; exit 0 when all are usable, 1 when some are refused, 2 on bad
input (one line, no traceback)."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from typer.testing import CliRunner

from synthscene.cli import app
from synthscene.tools import asset_sheet
from test_asset_screening import make_library, write_box


def invoke(*args: str):
    return CliRunner().invoke(app, ["assets", *args])


def one_error_line(result) -> str:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.startswith("synthscene: error")]
    assert len(lines) == 1, result.output
    return lines[0]


def rows(output: str) -> dict[str, list[str]]:
    """The table's rows by their key cell (the first column), split on runs of spaces."""
    lines = output.splitlines()
    assert lines[0].split()[:2] == ["key", "category"], output
    table = {}
    for line in lines[1:]:
        if not line or line.startswith(("refused:", "warning:")) or " assets checked " in line:
            continue
        cells = line.split()
        table[cells[0]] = cells[1:]
    return table


def test_all_usable_exits_0_with_a_row_per_asset(tmp_path):
    lib = tmp_path / "lib"
    write_box(lib / "cube" / "a.obj", (0.2, 0.1, 0.05))
    write_box(lib / "ball" / "c.obj", (0.3, 0.3, 0.3))
    result = invoke(f"dir:{lib}", "--workers", "1")
    assert result.exit_code == 0, result.output
    table = rows(result.output)
    assert table["cube/a.obj"] == ["cube", "12", "0.2x0.1x0.05", "yes", "0/0", "1", "ok"]
    assert table["ball/c.obj"][:3] == ["ball", "12", "0.3x0.3x0.3"]
    assert "2 assets checked" in result.output and "2 ok, 0 refused" in result.output


def test_some_refused_exits_1_naming_each_with_its_reason(tmp_path):
    files = make_library(tmp_path / "lib")
    report = tmp_path / "report.json"
    result = invoke(str(tmp_path / "lib"), "--workers", "2", "--json", str(report))
    assert result.exit_code == 1, result.output
    table = rows(result.output)
    assert table["cube/nan.obj"][-2:] == ["refused", "(skip)"]
    assert table["ball/garbage.obj"][-2:] == ["refused", "(skip)"]
    assert table["cube/b.obj"][-1] == "ok"
    assert "5 assets checked" in result.output and "3 ok, 2 refused" in result.output
    refused = [line for line in result.output.splitlines() if line.startswith("refused:")]
    assert len(refused) == 2
    assert f"refused: {files['garbage']}: " in refused[0] and "binary data" in refused[0]
    assert f"refused: {files['nan']}: " in refused[1] and "non-finite" in refused[1]
    data = json.loads(report.read_text())
    assert (data["assets"], data["ok"], data["refused"]) == (5, 3, 2)
    by_file = {c["file"]: c for c in data["checks"]}
    assert by_file[str(files["cube_a"])]["extent_m"] == pytest.approx([0.2, 0.1, 0.05])
    assert by_file[str(files["nan"])]["ok"] is False
    assert {c["role"] for c in data["checks"]} == {"objects"}


def test_a_scenario_lists_objects_distractors_and_fixtures(tmp_path):
    make_library(tmp_path / "lib")
    write_box(tmp_path / "tote.obj", (0.4, 0.3, 0.2))
    (tmp_path / "scene.yaml").write_text(json.dumps({
        "assets": [{"source": "dir:lib"}],
        "distractors": {"count": 1, "assets": [{"source": "primitive:torus"}]},
        "fixtures": [{"source": "file:tote.obj"}]}))
    report = tmp_path / "r.json"
    result = invoke(str(tmp_path / "scene.yaml"), "-j", "1", "--json", str(report))
    assert result.exit_code == 1, result.output
    roles = {c["key"]: c["role"] for c in json.loads(report.read_text())["checks"]}
    assert roles.pop("primitive:torus") == "distractors"
    assert roles.pop(f"file:{tmp_path / 'tote.obj'}") == "fixtures"
    assert len(roles) == 5 and set(roles.values()) == {"objects"}


def test_the_triangle_budget_is_the_one_a_run_would_have(tmp_path):
    write_box(tmp_path / "a.obj", (0.1, 0.1, 0.1))  # 12 triangles
    (tmp_path / "scene.yaml").write_text(json.dumps({
        "assets": [{"source": "file:a.obj"}], "limits": {"max_mesh_triangles": 10}}))
    for args in ([str(tmp_path / "scene.yaml")],
                 [f"file:{tmp_path / 'a.obj'}", "--limit", "max_mesh_triangles=10"]):
        result = invoke(*args, "-j", "1")
        assert result.exit_code == 1, result.output
        assert "refused (fail)" in result.output
        assert "more than limits.max_mesh_triangles (10)" in result.output
    assert invoke(f"file:{tmp_path / 'a.obj'}", "-j", "1").exit_code == 0


@pytest.mark.parametrize(("args", "fragment"), [
    (["nosuch:thing"], "unknown asset source prefix 'nosuch'"),
    (["file:missing/cup.obj"], "cup.obj: file not found"),
    (["missing.yaml"], "missing.yaml"),
    (["primitive:box", "--sheet", "nofolder/sheet.png"], "no folder"),
    (["primitive:box", "--sheet", "sheet.jpg"], "ending in .png"),
    (["primitive:box", "--json", "nofolder/r.json"], "no folder"),
    (["primitive:box", "--limit", "nonsense=3"], "unknown limit 'nonsense'"),
])
def test_bad_input_exits_2_with_one_line(tmp_path, monkeypatch, args, fragment):
    monkeypatch.chdir(tmp_path)
    line = one_error_line(invoke(*args))
    assert fragment in line, line
    assert list(tmp_path.iterdir()) == []  # nothing written


@pytest.mark.gl
def test_the_contact_sheet_has_one_drawn_cell_per_usable_asset_on_numbered_pages(tmp_path):
    lib = tmp_path / "lib"
    for i, extents in enumerate([(0.2, 0.1, 0.05), (0.1, 0.1, 0.1), (0.3, 0.2, 0.1),
                                 (0.05, 0.05, 0.2), (0.1, 0.3, 0.1)]):
        write_box(lib / "cube" / f"box{i}.obj", extents)
    (lib / "cube" / "nan.obj").write_text("v 0 0 0\nv 1 0 0\nv nan 1 0\nf 1 2 3\n")
    result = invoke(f"dir:{lib}", "-j", "1", "--sheet", str(tmp_path / "sheet.png"),
                    "--per-page", "2")
    assert result.exit_code == 1, result.output  # nan.obj refused, and left off the sheet
    pages = sorted(p.name for p in tmp_path.glob("sheet*.png"))
    assert pages == ["sheet-001.png", "sheet-002.png", "sheet-003.png"]
    cell, band = asset_sheet.CELL, asset_sheet.LABEL_HEIGHT
    background = np.array(asset_sheet.BACKGROUND[::-1])  # BGR as OpenCV reads it
    drawn = []
    for name in pages:
        image = cv2.imread(str(tmp_path / name))
        assert image.shape == (cell + band, 2 * cell, 3)  # one row of two cells
        for c in range(2):
            pixels = image[:cell, c * cell:(c + 1) * cell]
            drawn.append(float(np.mean(np.any(pixels != background, axis=2))))
            label = image[cell:, c * cell:(c + 1) * cell]
            if drawn[-1] > 0:
                assert np.any(label != background)  # the asset's name
    assert all(0.02 < d < 0.9 for d in drawn[:5]), drawn  # an object in each of 5 cells
    assert drawn[5] == 0.0  # the last page's second cell is empty


def test_page_names():
    assert asset_sheet.page_paths(Path("out/s.png"), 1) == [Path("out/s.png")]
    assert asset_sheet.page_paths(Path("s.png"), 2) == [Path("s-001.png"), Path("s-002.png")]
    assert asset_sheet.page_paths(Path("s.png"), 1200)[-1] == Path("s-1200.png")
