"""Every file and folder name of a synthscene dataset, written once and imported everywhere.

::

    OUT/annotations.json            COCO instances (ANNOTATIONS_NAME), written last
    OUT/images/000001.png           frame 0's image (IMAGES_DIR, frame_stem, IMAGE_FORMATS)
    OUT/depth/000001.png ...        per-image outputs, one folder each (MAP_FOLDERS; a depth
                                    sensor's reading in depth_sensor/, a stereo pair's
                                    disparity in disparity/)
    OUT/tracks/seq-000000.npz       a sequence's point tracks (point_tracks_stem; per eye of a
                                    stereo sequence, seq-000000-left.npz, -right.npz)
    OUT/.synthscene/                the run's manifest and frame records (STATE_DIR)

The writer (:mod:`synthscene.io.coco`, :mod:`synthscene.io.maps`), the run folder
(:mod:`synthscene.run.run_folder`), the reader (:mod:`synthscene.io.reader`) and through it the
exporters and tools take these names from here.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "ANNOTATIONS_NAME", "IMAGES_DIR", "IMAGE_FORMATS", "MAP_FOLDERS", "STATE_DIR", "frame_stem",
    "image_file_name", "point_tracks_stem", "run_file_templates", "sequence_stem",
]

ANNOTATIONS_NAME = "annotations.json"
"""The COCO instances file, in the dataset folder."""

IMAGES_DIR = "images"
"""The folder of the RGB images; COCO ``file_name`` is relative to it."""

STATE_DIR = ".synthscene"
"""The run's own folder (manifest, frame records) while it is unfinished or resumable."""

IMAGE_FORMATS = ("png", "jpg")
"""Encodings of the RGB images (``render.image_format``); the file name's suffix is the name."""

MAP_FOLDERS = {
    "depth_png": "depth",
    "depth_npy": "depth",
    "normals": "normals",
    "semantic_mask": "semantic",
    "instance_mask": "instance_masks",
    "flow": "flow",
    "flow_backward": "flow_backward",
    "flow_valid": "flow_valid",
    "point_tracks": "tracks",
    "depth_sensor": "depth_sensor",
    "disparity": "disparity",
}
"""Folder (relative to the dataset folder) of each per-image output's files."""


def frame_stem(frame_index: int) -> str:
    """``"000001"`` for frame 0: the stem of every per-frame file (image, maps, record)."""
    return f"{int(frame_index) + 1:06d}"


def image_file_name(frame_index: int, image_format: str = "png") -> str:
    """``"000001.png"`` for frame 0 (``"000001.jpg"`` for JPEG): the image's COCO
    ``file_name`` (relative to :data:`IMAGES_DIR`).

    Raises
    ------
    ValueError
        If ``image_format`` is not in :data:`IMAGE_FORMATS`.
    """
    if image_format not in IMAGE_FORMATS:
        raise ValueError(f"image_format must be one of {IMAGE_FORMATS}, got {image_format!r}")
    return f"{frame_stem(frame_index)}.{image_format}"


def sequence_stem(sequence_id: int) -> str:
    """``"seq-000000"`` for sequence 0: the stem of a sequence's files (point tracks)."""
    return f"seq-{int(sequence_id):06d}"


def point_tracks_stem(sequence_id: int, eye: str | None = None) -> str:
    """``"seq-000000"`` for sequence 0's point tracks; ``"seq-000000-left"`` (``-right``) for
    those of an eye of a stereo sequence."""
    return sequence_stem(sequence_id) + ("" if eye is None else f"-{eye}")


def run_file_templates(outputs: Any, image_format: str = "png", *,
                       stereo: bool = False) -> tuple[str, ...]:
    """Every per-frame (and per-sequence) file a run writes, as name templates.

    The templates are paths relative to the dataset folder in which ``{frame}`` stands for
    :func:`frame_stem` of a frame and ``{sequence}`` for :func:`sequence_stem` of a sequence:
    ``images/{frame}.png``, ``depth/{frame}.png``, ``tracks/{sequence}.npz``. They are the names
    :func:`synthscene.io.maps.encode_frame_maps` gives each output's files (a test holds the two
    together); the run manifest records them, so ``--overwrite`` removes exactly these files.

    Parameters
    ----------
    outputs : OutputsSpec
        The scenario's ``outputs:`` (attributes ``depth_png``, ``depth_npy``, ``normals``,
        ``semantic_mask``, ``instance_mask``, ``flow``, ``flow_format``, ``point_tracks``,
        ``depth_sensor``).
    image_format : {"png", "jpg"}
    stereo : bool
        The run makes stereo pairs (``camera.stereo``): each frame has a disparity map,
        ``disparity/{frame}.png``; point tracks are per eye, ``tracks/{sequence}-left.npz``
        and ``tracks/{sequence}-right.npz``.

    Returns
    -------
    tuple of str
        Sorted, the image's template first.

    Raises
    ------
    ValueError
        If ``image_format`` is not in :data:`IMAGE_FORMATS`.
    """
    maps = []
    for output, suffix in (("depth_png", ".png"), ("depth_npy", ".npy"), ("normals", ".png"),
                           ("semantic_mask", ".png"), ("instance_mask", ".png")):
        if getattr(outputs, output):
            maps.append(f"{MAP_FOLDERS[output]}/{{frame}}{suffix}")
    if outputs.flow:
        flow = ".flo" if outputs.flow_format == "flo" else ".npy"
        maps += [f"{MAP_FOLDERS['flow']}/{{frame}}{flow}",
                 f"{MAP_FOLDERS['flow_backward']}/{{frame}}{flow}",
                 f"{MAP_FOLDERS['flow_valid']}/{{frame}}.png"]
    if outputs.point_tracks:
        # The eyes of synthscene.core.stereo.EYES, in frame order (this module is a leaf).
        for eye in ("left", "right") if stereo else (None,):
            stem = point_tracks_stem(0, eye).replace(sequence_stem(0), "{sequence}")
            maps.append(f"{MAP_FOLDERS['point_tracks']}/{stem}.npz")
    if getattr(outputs, "depth_sensor", None) is not None:
        maps.append(f"{MAP_FOLDERS['depth_sensor']}/{{frame}}.png")
    if stereo:
        maps.append(f"{MAP_FOLDERS['disparity']}/{{frame}}.png")
    image = f"{IMAGES_DIR}/{image_file_name(0, image_format).replace(frame_stem(0), '{frame}')}"
    return (image, *sorted(maps))
