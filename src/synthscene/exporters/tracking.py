"""Tracking and video-segmentation exports of a dataset of sequences.

Both read a synthscene dataset made with a ``sequence:`` section (images with ``sequence_id``,
``frame_index`` and ``fps``; annotations with ``track_id``) and keep whole sequences in one split.

``mot`` (MOTChallenge, motchallenge.net/instructions; the ground-truth layout of MOT16/17)::

    OUT/<split>/seq-000000/seqinfo.ini       [Sequence] name, imDir, frameRate, seqLength,
                                             imWidth, imHeight, imExt
    OUT/<split>/seq-000000/img1/000001.png   frame f of the sequence is 00000f (from 1)
    OUT/<split>/seq-000000/gt/gt.txt         frame, id, bb_left, bb_top, bb_width, bb_height,
                                             conf, class, visibility

``id`` is the annotation's ``track_id``, the box its ``bbox`` (pixels; ``bb_left`` and ``bb_top``
+ 1: MOTChallenge counts pixels from 1, and its readers, motmetrics among them, subtract 1 when
they load), ``conf`` 1 (every
object is to be tracked), ``class`` its COCO ``category_id``, ``visibility`` its ``visib_fract``
(1 when the dataset has no amodal masks). Frames with no object still count in ``seqLength``.

``youtube-vis`` (YouTube-VIS 2019/2021, youtube-vos.org; OVIS uses the same JSON)::

    OUT/<split>/JPEGImages/seq-000000/00000.png   the frames, numbered from 0
    OUT/<split>/instances.json                    videos, categories, annotations

A video lists ``file_names`` (relative to ``JPEGImages/``), ``width``, ``height`` and
``length``; an annotation is one track: ``video_id``, ``category_id``, ``iscrowd`` 0, and per
frame ``segmentations`` (compressed RLE, ``counts`` a str), ``bboxes`` and ``areas``, None where
the object is not visible.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

from synthscene.errors import DatasetError
from synthscene.exporters._common import (
    ExportSummary,
    copy_file,
    make_dirs,
    plan_splits,
    prepare_out_dir,
    write_json,
)
from synthscene.io.fileio import write_atomic
from synthscene.io.reader import CocoDataset, load_dataset

__all__ = ["export_mot", "export_youtube_vis"]

logger = logging.getLogger(__name__)

DEFAULT_SPLIT = "train"


def _sequences(dataset: CocoDataset, images: list[dict]) -> dict[int, list[dict]]:
    """The images of each sequence, by ``sequence_id``, in ``frame_index`` order.

    Raises
    ------
    synthscene.errors.DatasetError
        If an image lacks the sequence fields, or an annotation its ``track_id``.
    """
    dataset.require(images, ["sequence_id", "frame_index"], "a tracking export (a dataset "
                    "made with a sequence: section)")
    dataset.require(dataset.annotations, ["track_id"], "a tracking export")
    by_sequence: dict[int, list[dict]] = {}
    for image in images:
        by_sequence.setdefault(int(image["sequence_id"]), []).append(image)
    for members in by_sequence.values():
        members.sort(key=lambda image: int(image["frame_index"]))
        seen = [int(image["frame_index"]) for image in members]
        if len(set(seen)) != len(seen):
            raise dataset.error(members[0], "frame_index",
                                f"sequence {members[0]['sequence_id']} has a frame twice")
    return dict(sorted(by_sequence.items()))


def _plan(dataset: CocoDataset, split: Mapping[str, float] | None, split_seed: int):
    return plan_splits(dataset, split, split_seed, default=DEFAULT_SPLIT)


def export_mot(dataset_dir: str | Path, out_dir: str | Path, *,
               split: Mapping[str, float] | None = None, split_seed: int = 0,
               overwrite: bool = False, image_dir: str | Path | None = None) -> ExportSummary:
    """Write a MOTChallenge ground-truth folder per sequence (see the module docstring).

    Parameters
    ----------
    dataset_dir : str or pathlib.Path
        Source dataset folder or COCO JSON file, made with a ``sequence:`` section.
    out_dir : str or pathlib.Path
    split : mapping of str to float, optional
        Split fractions by name; whole sequences are assigned. None puts all in ``train``.
    split_seed : int
    overwrite : bool
        Replace an earlier export in ``out_dir`` (its split folders).
    image_dir : str or pathlib.Path, optional

    Returns
    -------
    ExportSummary

    Raises
    ------
    synthscene.errors.DatasetError
        If the dataset has no sequences (no ``sequence_id``/``frame_index``/``track_id``).
    synthscene.errors.AssetError, synthscene.errors.OutputError
        For a missing image or an unwritable ``out_dir``.
    """
    dataset = load_dataset(dataset_dir, image_dir=image_dir)
    _sequences(dataset, dataset.images)  # refuse a dataset of single frames before writing
    plan = _plan(dataset, split, split_seed)
    out = prepare_out_dir(out_dir, dataset, [name for name, _ in plan], overwrite=overwrite)
    counts, written = {}, 0
    for name, images in plan:
        for sequence_id, frames in _sequences(dataset, images).items():
            folder = out / name / f"seq-{sequence_id:06d}"
            make_dirs(folder / "img1", folder / "gt")
            suffix = Path(frames[0]["file_name"]).suffix.lower() or ".png"
            lines = []
            for image in frames:
                number = int(image["frame_index"]) + 1
                copy_file(dataset.image_path(image), folder / "img1" / f"{number:06d}{suffix}")
                for ann in sorted(dataset.annotations_of(image), key=lambda a: a["track_id"]):
                    x, y, w, h = (float(v) for v in ann["bbox"])
                    visibility = float(ann.get("visib_fract", 1.0))
                    lines.append(f"{number},{int(ann['track_id'])},{x + 1:.2f},{y + 1:.2f},{w:.2f},"
                                 f"{h:.2f},1,{int(ann['category_id'])},{visibility:.6f}")
                    written += 1
            length = int(frames[-1]["frame_index"]) + 1
            fps = float(frames[0].get("fps", 0)) or 1.0
            info = (f"[Sequence]\nname=seq-{sequence_id:06d}\nimDir=img1\n"
                    f"frameRate={fps:g}\nseqLength={length}\nimWidth={frames[0]['width']}\n"
                    f"imHeight={frames[0]['height']}\nimExt={suffix}\n")
            write_atomic(folder / "seqinfo.ini", info.encode("utf-8"))
            write_atomic(folder / "gt" / "gt.txt", ("\n".join(lines) + "\n").encode("utf-8")
                         if lines else b"")
        counts[name] = len(images)
    logger.info("mot export to %s: %d boxes", out, written)
    return ExportSummary("mot", out, counts, written)


def export_youtube_vis(dataset_dir: str | Path, out_dir: str | Path, *,
                       split: Mapping[str, float] | None = None, split_seed: int = 0,
                       overwrite: bool = False,
                       image_dir: str | Path | None = None) -> ExportSummary:
    """Write YouTube-VIS-style JSON and frame folders (see the module docstring).

    Parameters and errors as :func:`export_mot`.

    Returns
    -------
    ExportSummary
        ``annotations`` counts tracks.
    """
    dataset = load_dataset(dataset_dir, image_dir=image_dir)
    _sequences(dataset, dataset.images)
    plan = _plan(dataset, split, split_seed)
    out = prepare_out_dir(out_dir, dataset, [name for name, _ in plan], overwrite=overwrite)
    categories = [{"id": int(c["id"]), "name": str(c["name"]),
                   "supercategory": str(c.get("supercategory", ""))}
                  for c in dataset.categories]
    counts, tracks_written = {}, 0
    for name, images in plan:
        videos, annotations = [], []
        for video_id, (sequence_id, frames) in enumerate(
                _sequences(dataset, images).items(), start=1):
            length = int(frames[-1]["frame_index"]) + 1
            folder = f"seq-{sequence_id:06d}"
            suffix = Path(frames[0]["file_name"]).suffix.lower() or ".png"
            file_names = [f"{folder}/{t:05d}{suffix}" for t in range(length)]
            make_dirs(out / name / "JPEGImages" / folder)
            tracks: dict[int, dict] = {}
            for image in frames:
                t = int(image["frame_index"])
                copy_file(dataset.image_path(image), out / name / "JPEGImages" / file_names[t])
                for ann in dataset.annotations_of(image):
                    track = tracks.setdefault(int(ann["track_id"]), {
                        "category_id": int(ann["category_id"]),
                        "segmentations": [None] * length, "bboxes": [None] * length,
                        "areas": [None] * length})
                    if track["category_id"] != int(ann["category_id"]):
                        raise dataset.error(ann, "track_id", f"track {ann['track_id']} has "
                                            "two categories")
                    rle = dataset.rle(ann, image)
                    counts_text = rle["counts"]
                    if isinstance(counts_text, bytes):
                        counts_text = counts_text.decode("ascii")
                    track["segmentations"][t] = {"size": [int(v) for v in rle["size"]],
                                                 "counts": counts_text}
                    track["bboxes"][t] = [float(v) for v in ann["bbox"]]
                    track["areas"][t] = int(ann["area"])
            videos.append({"id": video_id, "width": int(frames[0]["width"]),
                           "height": int(frames[0]["height"]), "length": length,
                           "file_names": file_names, "sequence_id": sequence_id})
            for track_id, track in sorted(tracks.items()):
                annotations.append({"id": len(annotations) + 1, "video_id": video_id,
                                    "iscrowd": 0, "width": int(frames[0]["width"]),
                                    "height": int(frames[0]["height"]),
                                    "track_id": track_id, **track})
        write_json(out / name / "instances.json",
                   {"info": {"description": "synthscene sequences"}, "videos": videos,
                    "categories": categories, "annotations": annotations}, durable=True)
        counts[name] = len(images)
        tracks_written += len(annotations)
    if not counts:
        raise DatasetError(str(dataset_dir), "images", "the dataset has no image")
    logger.info("youtube-vis export to %s: %d tracks", out, tracks_written)
    return ExportSummary("youtube-vis", out, counts, tracks_written)
