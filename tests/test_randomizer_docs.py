"""docs/randomizers.md: the generated tables current, every YAML example of the hand-written
table a valid scenario fragment."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

from synthscene.config.loading import scenario_from_dict

ROOT = Path(__file__).resolve().parents[1]


def _section(text: str) -> str:
    """The page's hand-written randomizer table (before the generated texture/effect tables)."""
    start = text.index("# Randomizers")
    return text[start:text.index("<!-- BEGIN randomizer tables", start)]


def test_tables_are_generated_from_the_registries():
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "make_docs.py"), "--check"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_every_scene_randomizer_example_is_a_valid_scenario_fragment():
    section = _section((ROOT / "docs" / "randomizers.md").read_text(encoding="utf-8"))
    rows = [line for line in section.splitlines()
            if line.startswith("| ") and not line.startswith(("| randomizer", "|---"))]
    names = set()
    for row in rows:
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", row)[1:-1]]
        example = yaml.safe_load(cells[-1].strip("`"))
        scenario_from_dict({"assets": [{"source": "primitive:box"}], **example},
                           source="docs/randomizers.md", base_dir=ROOT)
        names.add(cells[0])
    assert {"objects", "material", "texture", "distractors", "lights", "camera pose",
            "camera intrinsics", "objects in view", "background", "sensor effects",
            "room", "fixtures"} <= names
