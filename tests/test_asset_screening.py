"""Broken assets decided before the first frame: every asset is loaded and checked once, a broken
one of a folder or glob is left out (the dataset is the one a library without it gives, for any
worker count and after a resume), a broken single file stops the run with one line."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import trimesh

import synthscene
from synthscene.assets import screening
from synthscene.assets.library import AssetLibrary, AssetSource
from synthscene.config.loading import scenario_from_dict


def write_box(path: Path, extents) -> None:
    """An OBJ box of ``extents`` metres, written by trimesh (an independent writer)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(trimesh.exchange.obj.export_obj(trimesh.creation.box(extents=extents)))


def write_nan(path: Path) -> None:
    path.write_text("v 0 0 0\nv 1 0 0\nv nan 1 0\nv 0 0 1\nf 1 2 3\nf 1 2 4\nf 1 3 4\n"
                    "f 2 3 4\n")


def make_library(root: Path) -> dict[str, Path]:
    """``root/{cube,ball}/*.obj``: three good boxes, one with NaN vertices, one of garbage."""
    files = {"cube_a": root / "cube" / "a.obj", "cube_b": root / "cube" / "b.obj",
             "ball_c": root / "ball" / "c.obj", "nan": root / "cube" / "nan.obj",
             "garbage": root / "ball" / "garbage.obj"}
    write_box(files["cube_a"], (0.2, 0.1, 0.05))
    write_box(files["cube_b"], (0.1, 0.1, 0.1))
    write_box(files["ball_c"], (0.3, 0.3, 0.3))
    write_nan(files["nan"])
    files["garbage"].write_bytes(b"\x00\x01 this is not a mesh \xff" * 10)
    return files


def test_screening_reports_each_asset_in_key_order(tmp_path, monkeypatch):
    files = make_library(tmp_path / "lib")
    library = AssetLibrary([AssetSource(f"dir:{tmp_path / 'lib'}", where="s.yaml: assets[0]")])
    one = screening.screen_entries(library.entries, workers=1)
    monkeypatch.setattr(screening, "MIN_PARALLEL", 1)  # so that 5 assets go to 2 processes
    two = screening.screen_entries(library.entries, workers=2)
    assert one == two
    assert [c.key for c in one] == list(library.keys)
    by_file = {Path(c.file): c for c in one}
    a = by_file[files["cube_a"]]
    assert a.ok and a.reason == "" and a.category == "cube" and a.on_error == "skip"
    assert a.triangles == 12 and a.watertight and a.hulls == 1 and a.collision == "hulls"
    np.testing.assert_allclose(a.extent_m, (0.2, 0.1, 0.05), rtol=1e-6)
    np.testing.assert_allclose(by_file[files["ball_c"]].extent_m, (0.3, 0.3, 0.3), rtol=1e-6)
    nan, garbage = by_file[files["nan"]], by_file[files["garbage"]]
    assert not nan.ok and "non-finite" in nan.reason and "\n" not in nan.reason
    assert not garbage.ok and "binary data" in garbage.reason
    assert str(tmp_path) not in nan.reason  # the file is in .file, not repeated
    assert json.loads(json.dumps(nan.to_dict()))["reason"] == nan.reason


@pytest.mark.parametrize(("source", "expected"), [
    ("dir:lib", "skip"), ("file:lib/cube/a.obj", "fail"), ("lib/cube/a.obj", "fail"),
    ("primitive:box", "fail"), ("pybullet_data:random_urdfs/00*/*.urdf", "skip"),
    ("pybullet_data:duck_vhacd.urdf", "fail"),
])
def test_on_error_default_is_skip_for_folders_and_globs_fail_for_one_file(
        tmp_path, source, expected):
    make_library(tmp_path / "lib")
    entries = AssetLibrary([AssetSource(source, base_dir=tmp_path)]).entries
    assert {e.on_error for e in entries} == {expected}
    other = "fail" if expected == "skip" else "skip"
    entries = AssetLibrary([AssetSource(source, base_dir=tmp_path, on_error=other)]).entries
    assert {e.on_error for e in entries} == {other}


def scene(root: Path, **asset) -> dict:
    return {"name": "screened", "image": {"width": 96, "height": 72},
            "assets": [{"source": f"dir:{root}", **asset}],
            "objects": {"count": {"randint": [2, 3]}, "size_m": {"uniform": [0.1, 0.15]},
                        "drop_region": {"x_m": [-0.1, 0.1], "y_m": [-0.1, 0.1],
                                        "z_m": [0.05, 0.1]}},
            "camera": {"distance_m": {"uniform": [0.6, 0.8]}},
            "physics": {"max_steps": 120}}


def dataset_bytes(out: Path) -> dict[str, bytes]:
    """Every file of the dataset (the run's own state folder left out)."""
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and ".synthscene" not in p.parts}


class _Stop(Exception):
    pass


@pytest.mark.gl
def test_broken_assets_are_left_out_as_if_never_there(tmp_path, monkeypatch, caplog):
    files = make_library(tmp_path / "lib")
    scenario = scenario_from_dict(scene(tmp_path / "lib"), source="scene.yaml")
    frames, seed = 4, 3
    with caplog.at_level(logging.WARNING, logger="synthscene"):
        one = synthscene.generate(scenario, tmp_path / "one", frames=frames, seed=seed,
                                  workers=1)
    said = [r.getMessage() for r in caplog.records if "skipped" in r.getMessage()]
    assert said == [f"2 assets skipped (broken); list in "
                    f"{tmp_path / 'one' / '.synthscene' / 'manifest.json'}"]
    assert set(one.skipped_assets) == {f"dir:{files['nan']}", f"dir:{files['garbage']}"}
    manifest = json.loads((tmp_path / "one" / ".synthscene" / "manifest.json").read_text())
    listed = {Path(s["file"]): s["reason"] for s in manifest["skipped_assets"]}
    assert set(listed) == {files["nan"], files["garbage"]}
    assert "non-finite" in listed[files["nan"]] and "binary" in listed[files["garbage"]]
    reference = dataset_bytes(tmp_path / "one")
    assert len([n for n in reference if n.startswith("images/")]) == frames

    synthscene.generate(scenario, tmp_path / "two", frames=frames, seed=seed, workers=2)
    assert dataset_bytes(tmp_path / "two") == reference
    with monkeypatch.context() as patch:  # checked as a large library is: in 2 processes
        patch.setattr(screening, "PRELOAD_LIMIT", 2)
        patch.setattr(screening, "MIN_PARALLEL", 1)
        large = synthscene.generate(scenario, tmp_path / "large", frames=frames, seed=seed,
                                    workers=2)
    assert large.skipped_assets == one.skipped_assets
    assert dataset_bytes(tmp_path / "large") == reference

    def stop_after_two(done) -> None:  # a run killed after its first frames
        if done.frame_index == 1:
            raise _Stop
    with pytest.raises(_Stop):
        synthscene.generate(scenario, tmp_path / "resumed", frames=frames, seed=seed,
                            on_frame=stop_after_two)
    assert not (tmp_path / "resumed" / "annotations.json").exists()
    resumed = synthscene.generate(scenario, tmp_path / "resumed", frames=frames, seed=seed,
                                  resume=True, workers=2)
    assert 0 < resumed.made < frames
    assert dataset_bytes(tmp_path / "resumed") == reference

    files["nan"].unlink()
    files["garbage"].unlink()
    clean = synthscene.generate(scenario, tmp_path / "clean", frames=frames, seed=seed)
    assert clean.skipped_assets == ()
    assert dataset_bytes(tmp_path / "clean") == reference
    coco = json.loads((tmp_path / "clean" / "annotations.json").read_text())
    assert [c["name"] for c in coco["categories"]] == ["ball", "cube"]


def test_a_category_with_only_broken_assets_is_an_error_naming_it(tmp_path):
    files = make_library(tmp_path / "lib")
    files["ball_c"].unlink()  # ball/ holds garbage.obj only
    scenario = scenario_from_dict(scene(tmp_path / "lib"), source="scene.yaml")
    with pytest.raises(synthscene.AssetError,
                       match=r"scene.yaml: assets\[0\].source: every asset of category 'ball'"
                             r".*garbage.obj"):
        synthscene.generate(scenario, tmp_path / "out", frames=2)
    assert not (tmp_path / "out").exists()


def test_on_error_fail_stops_before_any_frame_with_one_line(tmp_path):
    files = make_library(tmp_path / "lib")
    (tmp_path / "scene.yaml").write_text(json.dumps(scene(tmp_path / "lib", on_error="fail")))
    result = subprocess.run([sys.executable, "-m", "synthscene.cli", "generate", "scene.yaml",
                             "--out", "out", "--frames", "2", "--quiet"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    first_broken = min((files["nan"], files["garbage"]), key=str)  # key order
    assert str(first_broken) in lines[0] and "scene.yaml: assets[0].source" in lines[0]
    assert "on_error: fail" in lines[0]
    assert not (tmp_path / "out").exists()


def test_a_manifest_without_skipped_assets_still_reads(tmp_path):
    from synthscene.run.manifest import RunManifest

    manifest = RunManifest("ab" * 32, seed=1, frames=2)
    data = json.loads(manifest.to_bytes())
    assert data["skipped_assets"] == []
    del data["skipped_assets"]  # as a run of the previous release wrote it
    (tmp_path / "manifest.json").write_text(json.dumps(data))
    assert RunManifest.from_file(tmp_path / "manifest.json") == manifest
