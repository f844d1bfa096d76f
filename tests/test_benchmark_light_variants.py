"""``scripts/benchmark.py --light SWITCH``: the variant measured has that switch on, with the
scenario's own values, and the others off, as in the ``none`` variant."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

import benchmark  # noqa: E402

SCENE = {"render": {"shading": "lit", "shadows": True,
                    "ambient_occlusion": {"strength": 0.9, "radius_m": 0.1}},
         "lights": {"count": 2, "environment": {"images": "assets:environments"}}}


def test_shadows_alone_are_on_and_the_other_switches_off():
    variants = benchmark.light_variants(SCENE, "shadows")
    assert variants["none"]["render"] == {"shading": "lit", "shadows": False}
    assert variants["shadows"]["render"] == {"shading": "lit", "shadows": True}
    assert variants["shadows"]["lights"] == {"count": 2}


def test_ambient_occlusion_alone_keeps_the_scenarios_values():
    on = benchmark.light_variants(SCENE, "ambient_occlusion")["ambient_occlusion"]
    assert on["render"] == {"shading": "lit", "shadows": False,
                            "ambient_occlusion": {"strength": 0.9, "radius_m": 0.1}}
    assert on["lights"] == {"count": 2}

