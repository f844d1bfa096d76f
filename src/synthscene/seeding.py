"""Seeding: one explicit ``numpy.random.Generator`` per frame.

Frame ``i`` of a run with seed ``s`` draws every random number from
``Generator(PCG64(SeedSequence([s, i])))``, so any worker can make any frame and the dataset does
not depend on the number of workers (the pattern of Gymnasium's ``seeding.np_random`` and NumPy's
guide to parallel random number generation, numpy.org/doc/stable/reference/random/parallel.html).

With several views per settled scene (``camera.views_per_scene: K`` > 1), scene ``c`` draws its
content from ``Generator(PCG64(SeedSequence([s, c])))`` and its view ``v`` from the ``v``-th child
of that sequence (what ``SeedSequence.spawn`` would give as its ``v``-th child, made directly so
that it does not depend on earlier spawns); the draws shared by every view of a scene (lights,
background, effects unless redrawn per view) come from the child ``K``.
"""

from __future__ import annotations

import numpy as np


def frame_rng(seed: int, frame_index: int) -> np.random.Generator:
    """Return the generator of frame ``frame_index`` of a run seeded with ``seed``.

    Parameters
    ----------
    seed : int
        The run's seed, >= 0.
    frame_index : int
        The frame's index in the run, >= 0.

    Returns
    -------
    numpy.random.Generator
        ``Generator(PCG64(SeedSequence([seed, frame_index])))``.

    Raises
    ------
    ValueError
        If ``seed`` or ``frame_index`` is negative.
    """
    if seed < 0 or frame_index < 0:
        raise ValueError(f"seed and frame_index must be >= 0, got {seed}, {frame_index}")
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, frame_index])))


def scene_rng(seed: int, scene_index: int, child: int | None = None) -> np.random.Generator:
    """Return the generator of scene ``scene_index`` (``child`` None) or of its child stream.

    Parameters
    ----------
    seed : int
        The run's seed, >= 0.
    scene_index : int
        The scene's index, >= 0 (frame ``i`` belongs to scene ``i // views_per_scene``).
    child : int or None
        None for the scene's own generator (``SeedSequence([seed, scene_index])``, the same as
        :func:`frame_rng` of that index); else the ``child``-th child of that sequence
        (``SeedSequence(entropy, spawn_key=(child,))``, what ``spawn`` numbers ``child``).

    Returns
    -------
    numpy.random.Generator

    Raises
    ------
    ValueError
        If an argument is negative.
    """
    if child is None:
        return frame_rng(seed, scene_index)
    if seed < 0 or scene_index < 0 or child < 0:
        raise ValueError(f"seed, scene_index and child must be >= 0, got {seed}, "
                         f"{scene_index}, {child}")
    sequence = np.random.SeedSequence([seed, scene_index], spawn_key=(int(child),))
    return np.random.Generator(np.random.PCG64(sequence))


SENSOR_STREAMS = ("lens", "depth_sensor", "stereo", "eye_noise")
"""The named sub-streams of a frame (or sequence): each sensor model draws from its own, so
switching one on shifts no other draw of the frame. ``stereo``: a stereo pair's baseline (index:
the pair; for a stereo sequence, the sequence); ``eye_noise``: the per-pixel noise of the sensor
effects of one eye of a pair (index: the eye's frame)."""

_SENSOR_KEY = 0x53454E53  # "SENS": far above any view or sequence child number


def sensor_rng(seed: int, index: int, stream: str) -> np.random.Generator:
    """Return the generator of a sensor model's draws for frame (or sequence) ``index``.

    Parameters
    ----------
    seed : int
        The run's seed, >= 0.
    index : int
        The frame's index, or the sequence's for draws shared by a sequence's frames, >= 0.
    stream : str
        One of :data:`SENSOR_STREAMS`.

    Returns
    -------
    numpy.random.Generator
        ``Generator(PCG64(SeedSequence([seed, index], spawn_key=(0x53454E53, n))))``, ``n``
        the stream's position in :data:`SENSOR_STREAMS`: independent of the frame's other
        streams.

    Raises
    ------
    ValueError
        If ``seed`` or ``index`` is negative or ``stream`` is unknown.
    """
    return _named_stream(seed, index, _SENSOR_KEY, SENSOR_STREAMS, stream)


def _named_stream(seed: int, index: int, key: int, streams: tuple[str, ...],
                  stream: str) -> np.random.Generator:
    """``Generator(PCG64(SeedSequence([seed, index], spawn_key=(key, n))))``, ``n`` the
    position of ``stream`` in ``streams`` (:func:`sensor_rng`, :func:`lighting_rng`).

    Raises
    ------
    ValueError
        If ``seed`` or ``index`` is negative or ``stream`` is not in ``streams``.
    """
    if seed < 0 or index < 0:
        raise ValueError(f"seed and index must be >= 0, got {seed}, {index}")
    if stream not in streams:
        raise ValueError(f"stream must be one of {streams}, got {stream!r}")
    sequence = np.random.SeedSequence([seed, index], spawn_key=(key, streams.index(stream)))
    return np.random.Generator(np.random.PCG64(sequence))


LIGHTING_STREAMS = ("shadows", "ambient_occlusion")
"""The named sub-streams of a frame's (or scene's) lighting draws that came after the frame's
other draws were fixed: each draws from its own stream, so adding one shifts no other draw."""

_LIGHTING_KEY = 0x4C495445  # "LITE": far above any view or sequence child number


def lighting_rng(seed: int, index: int, stream: str) -> np.random.Generator:
    """Return the generator of one lighting draw of frame (or scene) ``index``.

    Parameters
    ----------
    seed : int
        The run's seed, >= 0.
    index : int
        The frame's index, or the scene's (sequence's) for draws its frames share, >= 0.
    stream : str
        One of :data:`LIGHTING_STREAMS`.

    Returns
    -------
    numpy.random.Generator
        ``Generator(PCG64(SeedSequence([seed, index], spawn_key=(0x4C495445, n))))``, ``n``
        the stream's position in :data:`LIGHTING_STREAMS`.

    Raises
    ------
    ValueError
        If ``seed`` or ``index`` is negative or ``stream`` is unknown.
    """
    return _named_stream(seed, index, _LIGHTING_KEY, LIGHTING_STREAMS, stream)
