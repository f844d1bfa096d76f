#!/usr/bin/env python
"""Our light beside a path tracer's: the fixed scenes of ``tests/test_light_reference.py``
rendered by synthscene and by Mitsuba 3 (``scalar_rgb``), the measures the tests check, and a
side-by-side sheet.

    pip install 'synthscene[reference]'
    python scripts/reference_render.py --out docs/images/light_reference.png

Rows: the white sphere and red cube on a grey ground under one sun (and a dim uniform sky);
the same under a uniform white sky alone (ambient occlusion at the contacts); the same under
the procedural sky alone; a frame of
``scenes/tabletop.yaml``. Columns: ours, the path tracer (both encoded as our shader encodes,
exact sRGB). Prints, per scene, the mean luminance of both and the measures of
``docs/light.md`` ("Checked against a path tracer").
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import mitsuba_reference as mr  # noqa: E402
from synthscene.core.state import AmbientOcclusion  # noqa: E402

OCCLUSION = AmbientOcclusion(strength=1.0, radius=0.2)


def _label(image: np.ndarray, text: str) -> np.ndarray:
    image = image.copy()
    cv2.putText(image, text, (5, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255), 1,
                cv2.LINE_AA)
    return image


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/images/light_reference.png"))
    parser.add_argument("--width", type=int, default=320)
    parser.add_argument("--height", type=int, default=240)
    parser.add_argument("--spp", type=int, default=256, help="path tracer samples per pixel")
    args = parser.parse_args()
    w, h = args.width, args.height
    fixed = mr.FixedLibrary()
    sun, sun_settings = mr.with_shadows(mr.sun_scene(w, h, occlusion=OCCLUSION))
    scenes = [("sun + dim sky", sun, fixed, sun_settings),
              ("uniform sky (contacts)", mr.contact_scene(w, h, occlusion=OCCLUSION), fixed,
               None)]
    try:
        scenes.append(("procedural sky", mr.sky_scene(w, h, occlusion=OCCLUSION), fixed, None))
    except ImportError:
        print("procedural sky: skipped (no environment light in this synthscene)")
    state, library, settings = mr.bundled_frame("tabletop", 0, width=w, height=h)
    scenes.append(("tabletop frame 0", state, library, settings))
    rows = []
    for name, state, library, settings in scenes:
        output = mr.ours(state, library, settings)
        t0 = time.perf_counter()
        ref = mr.reference(state, library, spp=args.spp)
        seconds = time.perf_counter() - t0
        ours = mr.linear_from_ours(output.rgb)
        lum_ours, lum_ref = mr.luminance(ours), mr.luminance(ref)
        line = (f"{name}: mean luminance ours {lum_ours.mean():.4f}, path tracer "
                f"{lum_ref.mean():.4f} ({lum_ours.mean() / lum_ref.mean() - 1:+.1%}; "
                f"{seconds:.0f} s of path tracing)")
        if library is fixed:
            regions = mr.ground_regions(state, output)
            if state.lights:
                iou, ours_ratio, ref_ratio = mr.shadow_measures(lum_ours, lum_ref, regions)
                line += (f"; shadow IoU {iou:.2f}, shadow/lit ours {ours_ratio:.3f}, path "
                         f"tracer {ref_ratio:.3f} ({ours_ratio / ref_ratio - 1:+.1%})")
            else:
                for where in ("sphere", "cube"):
                    line += (f"; contact at the {where} ours "
                             f"{mr.contact_ratio(lum_ours, regions, where):.3f}, path tracer "
                             f"{mr.contact_ratio(lum_ref, regions, where):.3f}")
            if getattr(state, "environment", None) is not None:
                top = mr.sphere_top(state, output)
                line += (f"; sphere top hue ours {mr.hue_deg(ours[top].mean(axis=0)):.0f} deg, "
                         f"path tracer {mr.hue_deg(ref[top].mean(axis=0)):.0f} deg")
        print(line)
        rows.append(np.hstack([_label(output.rgb, f"synthscene: {name}"),
                               _label(mr.srgb_display(ref), "Mitsuba 3 path tracer")]))
    sheet = np.vstack(rows)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(args.out), sheet[..., ::-1], [cv2.IMWRITE_PNG_COMPRESSION, 9])
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
