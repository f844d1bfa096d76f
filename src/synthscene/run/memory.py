"""Memory a worker needs for a frame, checked against what this machine has before a run starts.

A 16384 x 16384 image takes over 8 GiB per worker: a run with several workers (or one, on a
small machine) would be killed by the out-of-memory killer after minutes of start-up, or push the
machine into swap. :func:`fit_workers` refuses such a run at once, with one line, or lowers the
number of workers so they fit.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from synthscene.config.loading import Scenario
from synthscene.errors import ConfigError

__all__ = ["available_memory_bytes", "fit_workers", "frame_memory_bytes"]

logger = logging.getLogger(__name__)

GIB = float(1 << 30)


def frame_memory_bytes(scenario: Scenario) -> int:
    """Estimate of the memory one worker holds while it makes a frame of ``scenario``.

    ``W x H x (gl + held x frame)`` bytes, where, per pixel:

    * ``gl = 8 x msaa_samples + 16``: the colour framebuffer (RGBA8 colour and 24-bit depth,
      per MSAA sample) and the label framebuffer (``R32I`` instance ids, ``R32F`` depth);
      ``+ 16`` with ``outputs.normals`` (an ``RGBA32F`` attachment); ``+ 6`` with
      ``render.ambient_occlusion`` (at half resolution: ``RGBA32F`` normals and depth, a 24-bit
      depth buffer and the ``RG32F`` result, 24 bytes per half-resolution pixel);
    * ``frame = 11``: the frame read back (RGB 3, float32 depth 4, int32 instance ids 4);
      ``+ 12`` with ``outputs.normals`` (float32 x 3); ``+ 18`` with ``outputs.flow``
      (forward and backward flow, float32 x 2 each, and their validity); ``+ 15`` with
      ``render.motion_blur`` (the float32 sum of the sub-frames' RGB and one sub-frame);
    * ``held``: ``sequence.length`` for a scenario of sequences (a sequence's frames are all
      rendered before they are written), else 1.

    It leaves out what does not grow with the image (the interpreter, meshes, the physics
    client: some hundred MiB) and frames waiting for the writer thread, so it is a lower
    bound for large images (about 8.8 GiB for 16384 x 16384, where 8.4 GiB was measured) and
    negligible for ordinary ones (10 MiB at 640 x 480).

    Parameters
    ----------
    scenario : Scenario

    Returns
    -------
    int
        Bytes.
    """
    spec = scenario.spec
    outputs = spec.outputs
    gl = 8 * spec.render.msaa_samples + 16 + (16 if outputs.normals else 0) \
        + (6 if spec.render.ambient_occlusion is not None else 0)
    frame = 11 + (12 if outputs.normals else 0) + (18 if outputs.flow else 0) \
        + (15 if spec.render.motion_blur is not None else 0)
    held = spec.sequence.length if spec.sequence is not None else 1
    return spec.image.width * spec.image.height * (gl + held * frame)


def available_memory_bytes() -> int | None:
    """Memory this machine can give a new process without swapping, in bytes, or None.

    ``MemAvailable`` of ``/proc/meminfo`` (Linux, proc(5)); elsewhere the free physical pages
    (``os.sysconf("SC_AVPHYS_PAGES")`` x page size); None where neither is known.
    """
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            name, _, value = line.partition(":")
            if name == "MemAvailable":
                number, _, unit = value.strip().partition(" ")
                return int(number) * (1024 if unit.strip().lower() == "kb" else 1)
    except (OSError, ValueError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, OSError, ValueError):
        return None


def fit_workers(scenario: Scenario, workers: int, available: int | None = None) -> int:
    """The number of workers (at most ``workers``) whose frames fit in the available memory.

    Parameters
    ----------
    scenario : Scenario
    workers : int
        Workers asked for, >= 1.
    available : int, optional
        Bytes available; default :func:`available_memory_bytes` (no check where unknown).

    Returns
    -------
    int
        ``workers``, or fewer (a warning is logged) when ``workers x``
        :func:`frame_memory_bytes` exceeds ``available``.

    Raises
    ------
    synthscene.errors.ConfigError
        Naming the scenario file and ``image``, if one worker's frame does not fit.
    """
    if available is None:
        available = available_memory_bytes()
    if available is None:
        return workers
    need = frame_memory_bytes(scenario)
    if need > available:
        spec = scenario.spec
        what = f"a frame of {spec.image.width} x {spec.image.height} pixels"
        if spec.sequence is not None:
            what = f"a sequence of {spec.sequence.length} frames of {spec.image.width} x " \
                   f"{spec.image.height} pixels"
        raise ConfigError(scenario.source, "image",
                          f"{what} needs about {need / GIB:.1f} GiB of memory per worker, and "
                          f"this machine has {available / GIB:.1f} GiB available; make the "
                          "image smaller")
    fit = max(1, min(workers, available // max(need, 1)))
    if fit < workers:
        logger.warning("using %d workers, not %d: each needs about %.1f GiB for its frames and "
                       "this machine has %.1f GiB available", fit, workers, need / GIB,
                       available / GIB)
    return fit
