"""Read a COCO instances dataset from disk: locate it, check it, index it, decode its masks.

The tools (:mod:`~synthscene.tools.visualize`, :mod:`~synthscene.tools.stats`) and the
exporters (:mod:`synthscene.exporters`) read a dataset through :func:`load_dataset`, which reads
the file entry by entry (:mod:`synthscene.io.json_stream`), with its nesting bounded, and runs
the schema checks of :mod:`synthscene.io.coco_schema` on each entry (the same checks
:mod:`~synthscene.tools.validate` runs while it streams). Masks are decoded through
:func:`synthscene.io.rle.to_rle`. A dataset is given either as

- a folder holding ``annotations.json`` and ``images/`` (what ``synthscene generate`` writes), or
- a COCO JSON file; its images are looked up in ``<its folder>/images/`` if that folder exists,
  else next to the file. ``image_dir`` overrides both (e.g. COCO's own ``val2017/``).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image
from pycocotools import mask as mask_utils

from synthscene.errors import AssetError, DatasetError
from synthscene.io import json_stream
from synthscene.io.coco_schema import (
    Problem,
    drop_null_optional,
    entry_name,
    entry_problems,
    path_problem,
    resolve_inside,
    top_level_problems,
)
from synthscene.io.layout import ANNOTATIONS_NAME, IMAGES_DIR
from synthscene.io.rle import to_rle

__all__ = ["CocoDataset", "category_names", "load_dataset", "locate_dataset"]


# ---------------------------------------------------------------------------- locating files
def locate_dataset(dataset: str | Path, image_dir: str | Path | None = None) -> tuple[Path, Path]:
    """Find a dataset's annotation file and image folder.

    Parameters
    ----------
    dataset : str or pathlib.Path
        A dataset folder holding ``annotations.json``, or a COCO JSON file.
    image_dir : str or pathlib.Path, optional
        Folder that COCO ``file_name`` entries are relative to. By default ``images/`` next to
        the annotation file if that folder exists, else the annotation file's folder.

    Returns
    -------
    annotations_path, image_dir : pathlib.Path

    Raises
    ------
    synthscene.errors.DatasetError
        If ``dataset`` does not exist, or is a folder without ``annotations.json``.
    """
    path = Path(dataset)
    if path.is_dir():
        annotations_path = path / ANNOTATIONS_NAME
        if annotations_path.exists() and not annotations_path.is_file():
            raise DatasetError(str(annotations_path), "", "is not a regular file")
        if not annotations_path.is_file():
            raise DatasetError(str(path), "", f"no {ANNOTATIONS_NAME} in this folder (a dataset "
                              f"folder holds {ANNOTATIONS_NAME} and {IMAGES_DIR}/; an unfinished "
                              "run has no annotation file)")
    elif path.is_file():
        annotations_path = path
    elif path.exists():
        raise DatasetError(str(path), "", "is not a regular file or folder (a device, FIFO or "
                           "socket cannot be a dataset)")
    else:
        raise DatasetError(str(path), "", "no such dataset folder or annotation file")
    if image_dir is None:
        default = annotations_path.parent / IMAGES_DIR
        images = default if default.is_dir() else annotations_path.parent
    else:
        images = Path(image_dir)
        if not images.is_dir():
            raise DatasetError(str(images), "", "the image folder does not exist")
    return annotations_path, images



# ---------------------------------------------------------------------------- the dataset
class CocoDataset:
    """A COCO instances dataset read from disk, with its entries indexed.

    Build it with :func:`load_dataset`, which checks the schema first. The JSON is kept as
    parsed (``data``), so fields that synthscene does not know survive an export.

    Attributes
    ----------
    annotations_path : pathlib.Path
        The COCO JSON file.
    image_dir : pathlib.Path
        Folder that image ``file_name`` entries are relative to.
    root : pathlib.Path
        Folder of the annotation file; ``depth_file``, ``instance_mask_file`` and
        ``semantic_file`` are relative to it.
    data : dict
        The parsed JSON.
    images : list of dict
        Image entries sorted by ``id``.
    categories : list of dict
        Category entries sorted by ``id``.
    image_by_id, category_by_id : dict
        Entries by ``id``.

    Parameters
    ----------
    annotations_path, image_dir : pathlib.Path
    data : dict
        The parsed JSON, or the part of it that was kept (see :func:`load_dataset`'s
        ``limit``).
    positions : dict, optional
        ``{"images": [k, ...], "annotations": [k, ...]}``: the index in the file of each entry
        of ``data["images"]`` and ``data["annotations"]``, when ``data`` holds only some of
        them (default: their positions in ``data``).
    """

    def __init__(self, annotations_path: Path, image_dir: Path, data: dict,
                 positions: Mapping[str, Sequence[int]] | None = None) -> None:
        self.annotations_path = Path(annotations_path)
        self.image_dir = Path(image_dir)
        self.root = self.annotations_path.parent
        self.data = data
        self.images = sorted(data["images"], key=lambda image: image["id"])
        self.categories = sorted(data["categories"], key=lambda cat: cat["id"])
        self._by_image: dict[int, list[dict]] = {image["id"]: [] for image in self.images}
        positions = positions or {}
        self._index = {id(ann): k for ann, k in zip(
            data["annotations"], positions.get("annotations", range(len(data["annotations"]))))}
        self._image_index = {id(image): k for image, k in zip(
            data["images"], positions.get("images", range(len(data["images"]))))}
        for ann in sorted(data["annotations"], key=lambda a: a["id"]):
            self._by_image.setdefault(ann["image_id"], []).append(ann)
        self.category_by_id = {cat["id"]: cat for cat in self.categories}
        self.image_by_id = {image["id"]: image for image in self.images}

    @property
    def annotations(self) -> list[dict]:
        """All annotation entries, in file order."""
        return self.data["annotations"]

    def annotations_of(self, image: dict) -> list[dict]:
        """The annotations of ``image`` sorted by ``id`` (empty list if none)."""
        return self._by_image.get(image["id"], [])

    def where(self, entry: dict) -> str:
        """Name an image or annotation entry as problems do: ``"annotations[4] (id 5)"``."""
        if id(entry) in self._index:
            return entry_name("annotations", self._index[id(entry)], entry)
        return entry_name("images", self._image_index.get(id(entry), -1), entry)

    def error(self, entry: dict | None, field: str, message: str) -> DatasetError:
        """A :class:`~synthscene.errors.DatasetError` naming this file and ``entry.field``."""
        where = f"{self.where(entry)}.{field}" if entry is not None else field
        return DatasetError(str(self.annotations_path), where, message)

    def image_path(self, image: dict) -> Path:
        """Path of the image file of ``image`` (``image_dir / file_name``).

        Raises
        ------
        synthscene.errors.DatasetError
            If the path leads outside ``image_dir`` (through a symbolic link; ``..`` and
            absolute paths are refused by the schema already).
        """
        return self._inside(self.image_dir, image, "file_name")

    def _inside(self, folder: Path, image: dict, field: str) -> Path:
        why = path_problem(image[field])
        path = resolve_inside(folder, image[field]) if why is None else None
        if path is None:
            raise self.error(image, field, why or f"{image[field]!r} leads outside {folder} "
                             "(through a symbolic link)")
        return path

    def read_rgb(self, image: dict) -> np.ndarray:
        """Read the image of ``image``.

        Returns
        -------
        (H, W, 3) uint8
            RGB (grey images are expanded to 3 channels, alpha is dropped).

        Raises
        ------
        synthscene.errors.AssetError
            If the file is missing, unreadable, or not ``width x height``.
        """
        path = self.image_path(image)
        try:
            with Image.open(path) as handle:
                size = handle.size  # the header only: refuse a wrong size before decoding
        except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
            size = None
        if size is not None and size != (image["width"], image["height"]):
            raise AssetError(f"{path}: is {size[0]}x{size[1]} (width x height), but "
                             f"{self.where(image)} says {image['width']}x{image['height']}")
        bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if bgr is None:
            what = "is missing" if not path.exists() else "cannot be read as an image"
            raise AssetError(f"{path}: {what} ({self.where(image)}.file_name)")
        if bgr.shape[:2] != (image["height"], image["width"]):
            raise AssetError(f"{path}: is {bgr.shape[1]}x{bgr.shape[0]} (width x height), but "
                             f"{self.where(image)} says {image['width']}x{image['height']}")
        return np.ascontiguousarray(bgr[:, :, ::-1])

    def image_of(self, ann: dict) -> dict:
        """The image entry that ``ann`` belongs to."""
        image = self.image_by_id.get(ann["image_id"])
        if image is None:
            raise self.error(ann, "image_id", f"no image has id {ann['image_id']}")
        return image

    def rle(self, ann: dict, image: dict, field: str = "segmentation") -> dict[str, Any]:
        """Compressed RLE of the mask ``ann[field]`` (see :func:`to_rle`).

        Raises
        ------
        synthscene.errors.DatasetError
            If the field is missing or malformed, naming the annotation and field.
        """
        if field not in ann:
            raise self.error(ann, field, "missing")
        try:
            return to_rle(ann[field], image["height"], image["width"])
        except ValueError as exc:
            raise self.error(ann, field, str(exc)) from None

    def mask(self, ann: dict, image: dict, field: str = "segmentation") -> np.ndarray:
        """Decode ``ann[field]``.

        Returns
        -------
        (H, W) bool
            The mask of ``ann`` in its image.

        Raises
        ------
        synthscene.errors.DatasetError
            If the field is missing or malformed.
        """
        return mask_utils.decode(self.rle(ann, image, field)).astype(bool)

    def extra_file(self, image: dict, field: str) -> Path:
        """Path of an image's extra file (``depth_file``, ``semantic_file``, ...).

        Raises
        ------
        synthscene.errors.DatasetError
            If the entry has no such field.
        synthscene.errors.AssetError
            If the file does not exist.
        """
        if field not in image:
            raise self.error(image, field, "missing")
        path = self._inside(self.root, image, field)
        if not path.is_file():
            raise AssetError(f"{path}: is missing ({self.where(image)}.{field})")
        return path

    def read_extra_png(self, image: dict, field: str) -> np.ndarray:
        """Read an image's extra single-channel PNG (depth, instance or semantic) unchanged.

        Returns
        -------
        (H, W) uint16 or uint8
            The stored values (depth in mm, instance ids, category ids).

        Raises
        ------
        synthscene.errors.DatasetError, synthscene.errors.AssetError
            If the field is missing, or the file is missing, unreadable, not single-channel or
            not ``height x width``.
        """
        path = self.extra_file(image, field)
        array = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        if array is None or array.ndim != 2:
            raise AssetError(f"{path}: not a single-channel PNG ({self.where(image)}.{field})")
        if array.shape != (image["height"], image["width"]):
            raise AssetError(f"{path}: is {array.shape[1]}x{array.shape[0]} (width x height), "
                             f"but {self.where(image)} says {image['width']}x{image['height']}")
        return array

    def require(self, entries: Sequence[dict], fields: Sequence[str], purpose: str) -> None:
        """Check that every entry holds every field.

        Raises
        ------
        synthscene.errors.DatasetError
            Naming the first entry and field that is missing and what needs it.
        """
        for entry in entries:
            for field in fields:
                if field not in entry:
                    missing = sum(1 for e in entries if field not in e)
                    raise self.error(entry, field, f"missing ({purpose} needs it; {missing} of "
                                     f"{len(entries)} entries lack it)")


def load_dataset(dataset: str | Path, *, image_dir: str | Path | None = None,
                 limit: int | None = None, progress: json_stream.Progress | None = None
                 ) -> CocoDataset:
    """Read a dataset and check its schema and ids, streaming its entries.

    The file is read entry by entry (:mod:`synthscene.io.json_stream`); every entry is
    schema-checked, but with ``limit`` only the first ``limit`` images by id and their
    annotations are kept, so memory grows with what is kept, not with the file.

    Parameters
    ----------
    dataset : str or pathlib.Path
        A dataset folder holding ``annotations.json``, or a COCO JSON file.
    image_dir : str or pathlib.Path, optional
        See :func:`locate_dataset`.
    limit : int, optional
        Keep only this many images (the smallest ids) and their annotations.
    progress : callable, optional
        ``progress(bytes_read, total_bytes)`` while each pass reads the file.

    Returns
    -------
    CocoDataset

    Raises
    ------
    synthscene.errors.DatasetError
        If the dataset cannot be found or parsed, breaks the schema (see
        :func:`~synthscene.io.coco_schema.schema_problems`), or has duplicate image or category
        ids, or an annotation whose ``image_id`` or ``category_id`` is unknown. The message names
        the file and the first bad entry; ``synthscene validate`` lists them all.
    """
    annotations_path, images_path = locate_dataset(dataset, image_dir)
    source = str(annotations_path)
    layout = json_stream.scan_layout(annotations_path, progress)
    problems, _ = top_level_problems(layout.top, layout.keys)
    if layout.duplicates:
        problems.insert(0, Problem("schema", layout.duplicates[0], "this top-level key appears "
                                   "more than once"))
    if problems:
        json_stream.check_syntax(annotations_path, progress)
        raise DatasetError(source, problems[0].where, problems[0].message)

    def entries(kind: str) -> Iterable[tuple[int, dict]]:
        for index, entry in enumerate(json_stream.iter_items(annotations_path, f"{kind}.item",
                                                             progress)):
            drop_null_optional(kind, entry)
            bad = entry_problems(kind, index, entry)
            if bad:
                raise DatasetError(source, bad[0].where, bad[0].message)
            yield index, entry

    data: dict[str, Any] = {}
    for key in layout.keys:
        if key not in ("images", "annotations", "categories"):
            data[key] = json_stream.read_value(annotations_path, key)
    if isinstance(data.get("stuff_categories"), list):
        for index, entry in enumerate(data["stuff_categories"]):
            bad = entry_problems("stuff_categories", index, entry)
            if bad:
                raise DatasetError(source, bad[0].where, bad[0].message)
    data["categories"] = [entry for _, entry in entries("categories")]
    category_ids = _unique_ids(source, "categories", enumerate(data["categories"]))
    kept: list[tuple[int, int, dict]] = []  # (id, file index, entry)
    image_ids: set[int] = set()
    for index, image in entries("images"):
        if image["id"] in image_ids:
            raise DatasetError(source, entry_name("images", index, image),
                               f"duplicate image id {image['id']}")
        image_ids.add(image["id"])
        kept.append((image["id"], index, image))
        if limit is not None and len(kept) > 2 * limit + 64:
            kept = heapq.nsmallest(limit, kept, key=lambda item: item[0])
    kept = sorted(kept, key=lambda item: item[0])[:limit]
    keep_ids = {image_id for image_id, _, _ in kept}
    data["images"] = [image for _, _, image in kept]
    annotations: list[dict] = []
    annotation_positions: list[int] = []
    for index, ann in entries("annotations"):
        for key, known in (("image_id", image_ids), ("category_id", category_ids)):
            if ann[key] not in known:
                raise DatasetError(source, f"{entry_name('annotations', index, ann)}.{key}",
                                   f"no {key[:-3]} has id {ann[key]}")
        if limit is None or ann["image_id"] in keep_ids:
            annotations.append(ann)
            annotation_positions.append(index)
    data["annotations"] = annotations
    return CocoDataset(annotations_path, images_path, data, positions={
        "images": [index for _, index, _ in kept], "annotations": annotation_positions})


def _unique_ids(source: str, kind: str, entries: Iterable[tuple[int, dict]]) -> set[int]:
    seen: set[int] = set()
    for index, entry in entries:
        if entry["id"] in seen:
            raise DatasetError(source, entry_name(kind, index, entry),
                               f"duplicate {kind[:-1]} id {entry['id']}")
        seen.add(entry["id"])
    return seen


def category_names(categories: Iterable[Mapping[str, Any]]) -> dict[int, str]:
    """Map category id to name."""
    return {int(cat["id"]): str(cat["name"]) for cat in categories}
