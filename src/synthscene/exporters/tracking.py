"""Tracking and video-segmentation exports of a dataset of sequences.

Both read a synthscene dataset made with a ``sequence:`` section (images with ``sequence_id``,
``frame_index`` and ``fps``; annotations with ``track_id``) and keep whole sequences in one split.
Each eye of a stereo sequence (images with ``eye``, made with ``camera.stereo``) is a video of
its own, ``seq-000000-left`` and ``seq-000000-right`` (both in the sequence's split); an object
keeps its ``track_id`` in both eyes' videos.

``mot`` (MOTChallenge, motchallenge.net/instructions; the ground-truth layout of MOT16/17)::

    OUT/<split>/seq-000000/seqinfo.ini       [Sequence] name, imDir, frameRate, seqLength,
                                             imWidth, imHeight, imExt
    OUT/<split>/seq-000000/img1/000001.png   the frames in frame_index order, from 1
    OUT/<split>/seq-000000/gt/gt.txt         frame, id, bb_left, bb_top, bb_width, bb_height,
                                             conf, class, visibility

``id`` is the annotation's ``track_id``, the box its ``bbox`` (pixels; ``bb_left`` and ``bb_top``
+ 1: MOTChallenge counts pixels from 1, and its readers, motmetrics among them, subtract 1 when
they load), ``conf`` 1 (every
object is to be tracked), ``class`` its COCO ``category_id``, ``visibility`` its ``visib_fract``
(1 when the dataset has no amodal masks). ``seqLength`` is the number of frames in ``img1/``
(MOTChallenge's meaning: frames ``1 .. seqLength``, every one present); frames with no object
count, and a sequence that misses some ``frame_index`` values (a subset of a dataset) is written
with its frames numbered consecutively, in ``frame_index`` order (the summary notes it). A
``track_id`` appears at most once per frame (one box per id and frame, as MOTChallenge
requires): a source with two annotations of one track in one image is refused, naming the entry.

``youtube-vis`` (YouTube-VIS 2019/2021, youtube-vos.org; OVIS uses the same JSON)::

    OUT/<split>/JPEGImages/seq-000000/00000.png   each frame, named by its frame_index
    OUT/<split>/instances.json                    videos, categories, annotations

A video lists ``file_names`` (relative to ``JPEGImages/``; the frames present, in
``frame_index`` order), ``width``, ``height`` and ``length`` (the number of ``file_names``); an
annotation is one track: ``video_id``, ``category_id``, ``iscrowd`` 0, and per listed frame
``segmentations`` (compressed RLE, ``counts`` a str), ``bboxes`` and ``areas``, None where the
object is not visible. As in YouTube-VIS itself (whose videos list every fifth frame,
``00000.jpg``, ``00005.jpg``, ...), the per-frame lists follow ``file_names``, not the frame
numbers: a sequence with missing ``frame_index`` values lists only the frames it has, so work and
memory are proportional to the frames present, however large the ``frame_index`` values.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

from synthscene.core.stereo import EYES
from synthscene.errors import DatasetError
from synthscene.exporters._common import (
    ExportSummary,
    copy_file,
    plan_splits,
    write_json,
)
from synthscene.exporters.output import ExportFolder, open_export
from synthscene.io.fileio import write_atomic
from synthscene.io.reader import CocoDataset, load_dataset

__all__ = ["export_mot", "export_youtube_vis"]

logger = logging.getLogger(__name__)

DEFAULT_SPLIT = "train"


def _stream_name(sequence_id: int, eye: str | None) -> str:
    """``seq-000000`` for sequence 0; ``seq-000000-left`` for the left eye of a stereo one."""
    return f"seq-{sequence_id:06d}" + ("" if eye is None else f"-{eye}")


def _sequences(dataset: CocoDataset, images: list[dict]
               ) -> dict[tuple[int, str | None], list[dict]]:
    """The images of each video, by ``(sequence_id, eye)`` (``eye`` None for a single camera;
    each eye of a stereo sequence is a video of its own), in ``frame_index`` order.

    Raises
    ------
    synthscene.errors.DatasetError
        If an image lacks the sequence fields, an annotation its ``track_id``, a sequence (an
        eye of one) has a ``frame_index`` twice, or a ``track_id`` appears twice in one image
        (a track is one object: MOTChallenge allows one box per id and frame, YouTube-VIS one
        mask).
    """
    dataset.require(images, ["sequence_id", "frame_index"], "a tracking export (a dataset "
                    "made with a sequence: section)")
    dataset.require(dataset.annotations, ["track_id"], "a tracking export")
    by_sequence: dict[tuple[int, str | None], list[dict]] = {}
    for image in images:
        eye = image["eye"] if image.get("eye") in EYES else None
        by_sequence.setdefault((int(image["sequence_id"]), eye), []).append(image)
    for (sequence_id, eye), members in by_sequence.items():
        members.sort(key=lambda image: int(image["frame_index"]))
        seen = [int(image["frame_index"]) for image in members]
        if len(set(seen)) != len(seen):
            side = "" if eye is None else f" ({eye} eye)"
            raise dataset.error(members[0], "frame_index",
                                f"sequence {sequence_id}{side} has a frame twice")
    for image in images:
        seen_tracks: dict[int, dict] = {}
        for ann in dataset.annotations_of(image):
            earlier = seen_tracks.setdefault(int(ann["track_id"]), ann)
            if earlier is not ann:
                raise dataset.error(ann, "track_id", f"track {ann['track_id']} appears twice "
                                    f"in image id {image['id']} (also annotation id "
                                    f"{earlier['id']}); a track is one object, at most once "
                                    "per frame")
    return dict(sorted(by_sequence.items(), key=lambda item: (item[0][0], item[0][1] or "")))


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
        Replace an earlier mot export in ``out_dir``: remove exactly the files it wrote
        (:mod:`synthscene.exporters.output`).
    image_dir : str or pathlib.Path, optional

    Returns
    -------
    ExportSummary

    Raises
    ------
    synthscene.errors.DatasetError
        If the dataset has no sequences (no ``sequence_id``/``frame_index``/``track_id``), a
        sequence has a ``frame_index`` twice, or a ``track_id`` appears twice in one image.
    synthscene.errors.AssetError, synthscene.errors.OutputError
        For a missing image, an unwritable ``out_dir``, an export there (without
        ``overwrite``), or a file in its split folders that the export did not write.
    """
    dataset = load_dataset(dataset_dir, image_dir=image_dir)
    _sequences(dataset, dataset.images)  # refuse a dataset of single frames before writing
    plan = _plan(dataset, split, split_seed)
    counts, written, gaps = {}, 0, 0
    with open_export(out_dir, dataset, "mot", [name for name, _ in plan],
                     overwrite=overwrite) as out:
        for name, images in plan:
            for (sequence_id, eye), frames in _sequences(dataset, images).items():
                stream = _stream_name(sequence_id, eye)
                folder = f"{name}/{stream}"
                suffix = Path(frames[0]["file_name"]).suffix.lower() or ".png"
                lines = []
                for number, image in enumerate(frames, start=1):
                    copy_file(dataset.image_path(image),
                              out.file(f"{folder}/img1/{number:06d}{suffix}"))
                    for ann in sorted(dataset.annotations_of(image),
                                      key=lambda a: a["track_id"]):
                        x, y, w, h = (float(v) for v in ann["bbox"])
                        visibility = float(ann.get("visib_fract", 1.0))
                        lines.append(f"{number},{int(ann['track_id'])},{x + 1:.2f},"
                                     f"{y + 1:.2f},{w:.2f},{h:.2f},1,"
                                     f"{int(ann['category_id'])},{visibility:.6f}")
                        written += 1
                span = int(frames[-1]["frame_index"]) - int(frames[0]["frame_index"]) + 1
                gaps += span != len(frames)
                fps = float(frames[0].get("fps", 0)) or 1.0
                info = (f"[Sequence]\nname={stream}\nimDir=img1\n"
                        f"frameRate={fps:g}\nseqLength={len(frames)}\n"
                        f"imWidth={frames[0]['width']}\n"
                        f"imHeight={frames[0]['height']}\nimExt={suffix}\n")
                write_atomic(out.file(f"{folder}/seqinfo.ini"), info.encode("utf-8"))
                write_atomic(out.file(f"{folder}/gt/gt.txt"),
                             ("\n".join(lines) + "\n").encode("utf-8") if lines else b"")
            counts[name] = len(images)
        out.finish()
    notes = (f"{gaps} sequence{'s' if gaps != 1 else ''} miss some frame_index values: their "
             "frames are numbered 1..N in frame_index order (MOT frames are consecutive)",
             ) if gaps else ()
    logger.info("mot export to %s: %d boxes", out.path, written)
    return ExportSummary("mot", out.path, counts, written, notes)


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
    categories = [{"id": int(c["id"]), "name": str(c["name"]),
                   "supercategory": str(c.get("supercategory", ""))}
                  for c in dataset.categories]
    counts, tracks_written = {}, 0
    with open_export(out_dir, dataset, "youtube-vis", [name for name, _ in plan],
                     overwrite=overwrite) as out:
        for name, images in plan:
            videos, annotations = [], []
            for video_id, ((sequence_id, eye), frames) in enumerate(
                    _sequences(dataset, images).items(), start=1):
                video, tracks = _video(dataset, out, name, video_id, (sequence_id, eye),
                                       frames)
                videos.append(video)
                for track_id, track in sorted(tracks.items()):
                    annotations.append({"id": len(annotations) + 1, "video_id": video_id,
                                        "iscrowd": 0, "width": video["width"],
                                        "height": video["height"], "track_id": track_id,
                                        **track})
            write_json(out.file(f"{name}/instances.json"),
                       {"info": {"description": "synthscene sequences"}, "videos": videos,
                        "categories": categories, "annotations": annotations}, durable=True)
            counts[name] = len(images)
            tracks_written += len(annotations)
        out.finish()
    if not counts:
        raise DatasetError(str(dataset_dir), "images", "the dataset has no image")
    logger.info("youtube-vis export to %s: %d tracks", out.path, tracks_written)
    return ExportSummary("youtube-vis", out.path, counts, tracks_written)


def _video(dataset: CocoDataset, out: ExportFolder, split: str, video_id: int,
           stream: tuple[int, str | None], frames: list[dict]) -> tuple[dict, dict[int, dict]]:
    """Copy the frames of one sequence (``stream``: its id and eye); return its ``videos``
    entry and its tracks by id (the per-frame lists hold one item per frame present, so work
    and memory follow the frames written, whatever their ``frame_index`` values)."""
    sequence_id, eye = stream
    folder = _stream_name(sequence_id, eye)
    suffix = Path(frames[0]["file_name"]).suffix.lower() or ".png"
    length = len(frames)
    file_names = [f"{folder}/{int(image['frame_index']):05d}{suffix}" for image in frames]
    tracks: dict[int, dict] = {}
    for t, image in enumerate(frames):
        copy_file(dataset.image_path(image), out.file(f"{split}/JPEGImages/{file_names[t]}"))
        for ann in dataset.annotations_of(image):
            track = tracks.setdefault(int(ann["track_id"]), {
                "category_id": int(ann["category_id"]),
                "segmentations": [None] * length, "bboxes": [None] * length,
                "areas": [None] * length})
            if track["category_id"] != int(ann["category_id"]):
                raise dataset.error(ann, "track_id", f"track {ann['track_id']} has two "
                                    "categories")
            rle = dataset.rle(ann, image)
            counts_text = rle["counts"]
            if isinstance(counts_text, bytes):
                counts_text = counts_text.decode("ascii")
            track["segmentations"][t] = {"size": [int(v) for v in rle["size"]],
                                         "counts": counts_text}
            track["bboxes"][t] = [float(v) for v in ann["bbox"]]
            track["areas"][t] = int(ann["area"])
    video = {"id": video_id, "width": int(frames[0]["width"]),
             "height": int(frames[0]["height"]), "length": length, "file_names": file_names,
             "sequence_id": sequence_id, **({} if eye is None else {"eye": eye})}
    return video, tracks
