"""WebDataset tar shards: image + JSON labels per sample, for streaming training at scale.

Layout::

    OUT/<split>-000000.tar, <split>-000001.tar, ...   samples in id order (how many shards:
                                                      :mod:`synthscene.exporters.sharding`)
    OUT/categories.json                               the COCO categories (``id``, ``name``, ...)

``webdataset.WebDataset("OUT/train-{000000..000003}.tar")`` reads them with no custom code.
A sample's files share its key, the image id as 9 digits (``"000000042"``; WebDataset groups
the files of a sample by the part of the name before the first dot):

- ``<key>.<ext>``: the image file's bytes, ``ext`` its ``file_name`` extension in lower case
  (``png``, ``jpg``), so ``.decode("pil")`` or ``.decode("rgb8")`` decode it;
- ``<key>.json``: ``{"image": <the COCO image entry>, "annotations": [<its COCO annotations,
  id order, every field kept>]}`` (boxes ``[x, y, w, h]`` in pixels, RLE or polygon masks as in
  the source).

Tar members are written in order with fixed metadata (mtime 0, uid/gid 0, mode 0644), so the
same dataset gives the same bytes; each shard is written as a stream to a temporary file and
renamed, so memory holds one sample at a time.
"""

from __future__ import annotations

import io
import json
import logging
import re
import tarfile
from collections.abc import Mapping
from pathlib import Path

from synthscene.errors import OutputError
from synthscene.exporters._common import (
    ExportSummary,
    read_image_bytes,
    sharded_plan,
    write_json,
    write_shards,
)
from synthscene.exporters.output import open_export
from synthscene.exporters.sharding import shard_counts, shard_notes
from synthscene.io.reader import load_dataset

__all__ = ["export_webdataset", "sample_key"]

logger = logging.getLogger(__name__)

CATEGORIES_NAME = "categories.json"
_SHARD = re.compile(r"[A-Za-z][A-Za-z0-9_]*-\d{6}\.tar")
_EXTENSION = re.compile(r"[a-z0-9_-]+")


def sample_key(image_id: int) -> str:
    """The WebDataset key of an image: its id as 9 digits (``"000000042"``)."""
    return f"{int(image_id):09d}"


def export_webdataset(dataset_dir: str | Path, out_dir: str | Path, *,
                      split: Mapping[str, float] | None = None, split_seed: int = 0,
                      overwrite: bool = False, image_dir: str | Path | None = None,
                      shard_size: int | None = None,
                      num_shards: int | None = None) -> ExportSummary:
    """Write WebDataset tar shards (see the module docstring).

    Parameters
    ----------
    dataset_dir : str or pathlib.Path
        Source dataset folder or COCO JSON file.
    out_dir : str or pathlib.Path
        Output folder.
    split : mapping of str to float, optional
        Split fractions by name; None writes every image to ``train`` shards.
    split_seed : int
        Seed of the split's shuffle.
    overwrite : bool
        Replace an earlier webdataset export in ``out_dir``: remove exactly the files it wrote
        (:mod:`synthscene.exporters.output`).
    image_dir : str or pathlib.Path, optional
        Source image folder, if not the default.
    shard_size : int, optional
        Most samples per shard, >= 1.
    num_shards : int, optional
        Shards per split, >= 1; excludes ``shard_size``. Neither: the default of
        :mod:`synthscene.exporters.sharding`.

    Returns
    -------
    ExportSummary

    Raises
    ------
    synthscene.errors.OptionError
        If ``shard_size`` or ``num_shards`` is < 1, both are given, or a split name is not a
        word.
    synthscene.errors.DatasetError
        If the source is malformed, or an image's extension cannot name a tar member.
    synthscene.errors.AssetError
        If a source image is missing or unreadable.
    synthscene.errors.OutputError
        If ``out_dir`` holds a webdataset export (and not ``overwrite``), a shard of an
        exported split (``<split>-NNNNNN.tar``) or ``categories.json`` that export did not
        write, or cannot be written.
    """
    shard_counts((), shard_size=shard_size, num_shards=num_shards)  # check the options first
    dataset = load_dataset(dataset_dir, image_dir=image_dir)
    plan = sharded_plan(dataset, split, split_seed, "webdataset")
    for _, images in plan:
        for image in images:
            _member_name(dataset, image)  # refuse a name tar cannot hold before writing
    shards = shard_counts([(name, len(images)) for name, images in plan],
                          shard_size=shard_size, num_shards=num_shards)
    shard_files = {f"{name}-{k:06d}.tar" for name, count in shards.items() for k in range(count)}
    folder = Path(out_dir)
    splits = {name for name, _ in plan}
    # shards of these splits already there are part of the export's place: a stale or foreign
    # "train-000007.tar" beside the new shards would be read with them
    try:
        present = ({p.name for p in folder.iterdir() if _SHARD.fullmatch(p.name)
                    and p.name.rsplit("-", 1)[0] in splits} if folder.is_dir() else set())
    except OSError as exc:
        raise OutputError(f"{folder}: cannot be listed ({exc.strerror or exc})") from None

    def fill(handle, part: list[dict]) -> None:
        with tarfile.open(fileobj=handle, mode="w", format=tarfile.USTAR_FORMAT) as tar:
            for image in part:
                _add_sample(tar, dataset, image)

    with open_export(out_dir, dataset, "webdataset", {CATEGORIES_NAME} | shard_files | present,
                     overwrite=overwrite) as out:
        counts, written = write_shards(dataset, plan, shards,
                                       lambda name, k, n: out.file(f"{name}-{k:06d}.tar"), fill)
        write_json(out.file(CATEGORIES_NAME), dataset.categories, durable=True)
        out.finish()
    logger.info("webdataset export to %s: %d samples", out.path, sum(counts.values()))
    return ExportSummary("webdataset", out.path, counts, written,
                         shard_notes(counts, shards, num_shards))


MAX_MEMBER_NAME = 100
"""Longest member name (bytes) of a USTAR tar without a folder part."""


def _member_name(dataset, image: dict) -> str:
    """``<key>.<ext>``: the tar member of an image's bytes.

    Raises
    ------
    synthscene.errors.DatasetError
        If the name is longer than :data:`MAX_MEMBER_NAME` bytes (a very long extension), or
        the extension holds a character other than letters, digits, ``_`` and ``-``.
    """
    extension = Path(image["file_name"]).suffix.lower().lstrip(".") or "png"
    name = f"{sample_key(image['id'])}.{extension}"
    if len(name.encode("utf-8")) > MAX_MEMBER_NAME or not _EXTENSION.fullmatch(extension):
        raise dataset.error(image, "file_name", f"its extension {extension[:40]!r}"
                            f"{'...' if len(extension) > 40 else ''} cannot name a WebDataset "
                            f"member (letters, digits, _ and -, and the member name "
                            f"{MAX_MEMBER_NAME} bytes at most)")
    return name


def _add_sample(tar: tarfile.TarFile, dataset, image: dict) -> None:
    key = sample_key(image["id"])
    member = _member_name(dataset, image)
    data = read_image_bytes(dataset, image)
    labels = {"image": image, "annotations": dataset.annotations_of(image)}
    text = json.dumps(labels, separators=(",", ":"), allow_nan=False).encode("utf-8")
    for member, payload in ((member, data), (f"{key}.json", text)):
        info = tarfile.TarInfo(member)
        info.size, info.mtime, info.mode = len(payload), 0, 0o644
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        tar.addfile(info, io.BytesIO(payload))
