"""docs/training.md's recipes run as written, with their sizes made small; README's first
training run is the page's first recipe."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# slow: the recipes load the bundled tabletop scene (14 assets); the same code paths are tested
# on small scenes in test_integrations_torch.py, test_exporters.py and test_export_shards.py.
pytestmark = [pytest.mark.gl, pytest.mark.slow,
              pytest.mark.filterwarnings("ignore::DeprecationWarning:pycocotools")]

SMALL = {"frames=10_000": "frames=2", "range(10)": "range(1)", "num_workers=4": "num_workers=0",
         "--frames 200": "--frames 10"}
"""Size substitutions (each must occur in the section, so the recipes cannot drift away)."""


def _blocks(language: str) -> list[str]:
    section = (ROOT / "docs" / "training.md").read_text(encoding="utf-8")
    for old in SMALL:
        assert old in section, old
    for old, new in SMALL.items():
        section = section.replace(old, new)
    return re.findall(rf"```{language}\n(.*?)```", section, flags=re.S)


def _run_cli(block: str, cwd: Path) -> None:
    for line in block.splitlines():
        if not line.startswith("synthscene "):
            continue
        args = [arg.replace("scenes/", f"{ROOT}/scenes/") for arg in shlex.split(line)[1:]]
        result = subprocess.run([sys.executable, "-m", "synthscene.cli", *args, "--quiet"]
                                if args[0] == "generate" else
                                [sys.executable, "-m", "synthscene.cli", *args],
                                cwd=cwd, capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr


def test_torch_recipe(monkeypatch):
    pytest.importorskip("torch")
    from torchvision import tv_tensors

    monkeypatch.chdir(ROOT)
    namespace: dict = {"__name__": "__main__"}
    exec(_blocks("python")[0], namespace)  # noqa: S102 - the page's own code
    assert isinstance(namespace["boxes"], tv_tensors.BoundingBoxes)
    assert len(namespace["labels"]) == len(namespace["boxes"])
    assert namespace["stream"].epoch == 0


def test_ultralytics_and_hf_recipes(tmp_path, monkeypatch):
    """The YOLO export (Ultralytics' ``yolo`` itself is not a test dependency) and the
    Hugging Face export opened by ``datasets.load_dataset``."""
    yolo, hf = _blocks("bash")
    _run_cli(yolo, tmp_path)
    assert (tmp_path / "out" / "yolo" / "data.yaml").is_file()
    assert list((tmp_path / "out" / "yolo" / "labels" / "train").glob("*.txt"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "cache"))
    pytest.importorskip("datasets")
    _run_cli(hf, tmp_path)
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(_blocks("python")[1], namespace)  # noqa: S102 - the page's own code
    assert set(namespace["splits"]) == {"train", "val"}
    assert namespace["boxes"] == namespace["row"]["objects"]["bbox"] and namespace["boxes"]
