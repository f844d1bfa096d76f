"""Top-level ``models`` (BOP models_info) from fixed-size objects."""

from __future__ import annotations

import json

import numpy as np
import pytest

import synthscene
from synthscene.config.loading import scenario_from_dict
from synthscene.labels.models_info import model_entries
from synthscene.run.scene_libraries import build_libraries


def test_a_fixed_size_box_gives_its_analytic_diameter_and_extent():
    sc = scenario_from_dict({"assets": [{"source": "primitive:box"},
                                        {"source": "primitive:sphere"}],
                             "objects": {"size_m": 0.1}})
    library = build_libraries(sc)
    entries = model_entries(sc, library)
    box = next(e for e in entries if e["asset"] == "primitive:box")
    # The normalised box has edges (1, e_y, e_z) around its centre; at 0.1 m they are in mm
    # 100 * edges, and its diameter is the length of its space diagonal.
    edges = np.ptp(np.asarray(library.get("primitive:box").mesh.bounds), axis=0) * 100.0
    assert edges[0] == pytest.approx(100.0)
    assert box["diameter_mm"] == pytest.approx(np.linalg.norm(edges), rel=1e-6)
    assert [box[k] for k in ("size_x", "size_y", "size_z")] == pytest.approx(edges)
    assert [box[k] for k in ("min_x", "min_y", "min_z")] == pytest.approx(-edges / 2)
    sphere = next(e for e in entries if e["asset"] == "primitive:sphere")
    assert sphere["diameter_mm"] == pytest.approx(100.0, rel=1e-3)
    assert [e["category_id"] for e in entries] == [1, 2]  # box, sphere: sorted names


def test_sizes_drawn_per_instance_give_no_models():
    sc = scenario_from_dict({"assets": [{"source": "primitive:box"}],
                             "objects": {"size_m": {"uniform": [0.05, 0.1]}}})
    assert model_entries(sc, build_libraries(sc)) == []


@pytest.mark.gl
def test_bop_export_of_a_fixed_size_dataset_has_diameters(tmp_path):
    from synthscene.exporters import export_dataset

    sc = scenario_from_dict({"assets": [{"source": "primitive:box"}],
                             "image": {"width": 96, "height": 72},
                             "objects": {"count": 2, "size_m": 0.1},
                             "physics": {"enabled": False}})
    synthscene.generate(sc, tmp_path / "ds", frames=1, seed=0)
    export_dataset(tmp_path / "ds", tmp_path / "bop", to="bop")
    info = json.loads((tmp_path / "bop" / "models" / "models_info.json").read_text())
    expected = model_entries(sc, build_libraries(sc))[0]
    assert info["1"]["diameter"] == pytest.approx(expected["diameter_mm"])
    assert info["1"]["size_x"] == pytest.approx(100.0)
