"""Regenerate the environment maps that synthscene ships in ``assets/environments/`` (no
downloads).

Run from anywhere: ``python scripts/make_environments.py`` (or ``--out DIR`` to write
elsewhere). Each map is a 256 x 128 equirectangular Radiance ``.hdr`` file of linear radiance in
synthscene's layout (z up, the centre column looking along +x; see
``synthscene.assets.environment_files``), computed in closed form, so the bytes are the same on
every run. Each is scaled so that a horizontal surface facing up receives the irradiance pi, as
under a uniform sky of radiance 1 (the procedural sky's normalisation too): at
``intensity: 1`` every map lights a scene about as brightly. The project generates them and
dedicates them to the public domain (CC0-1.0, see ``assets/LICENSE``).

* ``studio.hdr``: a dark grey room with three soft boxes (key, fill, top light).
* ``overcast.hdr``: the CIE standard overcast sky, ``L(theta) = L_z (1 + 2 cos theta) / 3``
  (Moon and Spencer 1942), over a grey-brown ground.
* ``sunset.hdr``: the Preetham sky (``synthscene.assets.sky``) with the sun 3 degrees above
  the horizon, turbidity 4, and the sun's disc (0.5 degrees wide, spread over one texel) added,
  which gives about as much irradiance on a surface facing it as the sky gives upwards.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from synthscene.assets.environment_files import equirect_directions
from synthscene.assets.sky import sky_image

WIDTH, HEIGHT = 256, 128
ROOT = Path(__file__).resolve().parents[1]


def _normalised(image: np.ndarray) -> np.ndarray:
    """``image`` scaled so that the irradiance on an upward surface is pi."""
    d, solid = equirect_directions(HEIGHT, WIDTH)
    luminance = image @ np.array([0.2126, 0.7152, 0.0722])
    irradiance = (luminance * np.clip(d[..., 2], 0, None) * solid).sum()
    return (image * (np.pi / irradiance)).astype(np.float32)


def _direction(elevation_deg: float, azimuth_deg: float) -> np.ndarray:
    e, a = np.radians(elevation_deg), np.radians(azimuth_deg)
    return np.array([np.cos(e) * np.cos(a), np.cos(e) * np.sin(a), np.sin(e)])


def studio() -> np.ndarray:
    d, _ = equirect_directions(HEIGHT, WIDTH)
    image = np.full((HEIGHT, WIDTH, 3), 0.04)
    image[d[..., 2] < 0] = 0.08  # floor
    for elevation, azimuth, half_width_deg, radiance in ((35, 40, 14, 9.0),   # key
                                                         (20, -70, 18, 3.0),  # fill
                                                         (80, 180, 12, 6.0)):  # top
        centre = _direction(elevation, azimuth)
        # A square-ish soft box: within half_width of its centre in both tangent directions.
        east = np.cross([0.0, 0.0, 1.0], centre)
        east /= np.linalg.norm(east)
        north = np.cross(centre, east)
        facing = d @ centre > 0
        u = np.degrees(np.arctan2(d @ east, d @ centre))
        v = np.degrees(np.arctan2(d @ north, d @ centre))
        inside = facing & (np.abs(u) < half_width_deg) & (np.abs(v) < half_width_deg * 0.7)
        image[inside] = radiance * np.array([1.0, 0.98, 0.95])
    return _normalised(image)


def overcast() -> np.ndarray:
    d, _ = equirect_directions(HEIGHT, WIDTH)
    cos_theta = d[..., 2]
    sky = (1.0 + 2.0 * np.clip(cos_theta, 0, None)) / 3.0
    image = sky[..., None] * np.array([0.95, 0.97, 1.0])
    image[cos_theta < 0] = np.array([0.30, 0.27, 0.24]) * 0.35
    return _normalised(image)


def sunset() -> np.ndarray:
    elevation = 3.0
    image = sky_image(np.radians(elevation), 4.0, width=WIDTH, height=HEIGHT).astype(np.float64)
    d, solid = equirect_directions(HEIGHT, WIDTH)
    sun = _direction(elevation, 0.0)
    row, col = np.unravel_index(np.argmax(d @ sun), d.shape[:2])
    # Irradiance pi on a surface facing the sun, from one texel, warm (2500 K-ish).
    image[row, col] += np.pi / solid[row, 0] * np.array([1.0, 0.55, 0.25]) / 0.62
    return _normalised(image)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "assets" / "environments")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, make in (("studio", studio), ("overcast", overcast), ("sunset", sunset)):
        path = args.out / f"{name}.hdr"
        if not cv2.imwrite(str(path), cv2.cvtColor(make(), cv2.COLOR_RGB2BGR)):
            raise SystemExit(f"cannot write {path}")
        print(f"wrote {path} ({path.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
