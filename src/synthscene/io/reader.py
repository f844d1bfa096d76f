"""Read a COCO instances dataset from disk: locate it, check it, index it, decode its masks.

The tools (:mod:`~synthscene.tools.visualize`, :mod:`~synthscene.tools.stats`) and the
exporters (:mod:`synthscene.exporters`) read a dataset through :func:`load_dataset`, which reads
the file entry by entry (:mod:`synthscene.io.json_stream`), with its nesting bounded, and runs
the schema checks of :mod:`synthscene.io.coco_schema` on each entry (the same checks
:mod:`~synthscene.tools.validate` runs while it streams). Masks are decoded through
:func:`synthscene.io.rle.to_rle`.

Annotations are not kept as parsed: a file of 10^6 of them would take gigabytes of Python
objects. :class:`CocoDataset` keeps, per annotation, its ``id``, ``image_id`` and where its text
lies in the file (:class:`~synthscene.io.json_stream.ItemSpans`), 40 bytes, and decodes the
annotations of an image when they are asked for (:meth:`CocoDataset.annotations_of`); the
images and categories are kept as parsed. A dataset is given either as

- a folder holding ``annotations.json`` and ``images/`` (what ``synthscene generate`` writes), or
- a COCO JSON file; its images are looked up in ``<its folder>/images/`` if that folder exists,
  else next to the file. ``image_dir`` overrides both (e.g. COCO's own ``val2017/``).
"""

from __future__ import annotations

import heapq
from array import array
from collections.abc import Iterable, Iterator, Mapping, Sequence
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

__all__ = ["AnnotationList", "CocoDataset", "category_names", "load_dataset", "locate_dataset"]


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



# ---------------------------------------------------------------------------- annotations
class AnnotationList(Sequence):
    """The annotations of a dataset, in file order, read from the file when asked for.

    A read-only sequence of dicts (``len``, iteration, indexing): each access decodes the
    entry again from the file (a new dict each time), so memory holds the index (about 40
    bytes an annotation), not the entries. Built by :func:`load_dataset`.

    Attributes
    ----------
    ids, image_ids : (n,) int64
        Each annotation's ``id`` and ``image_id``.
    positions : (n,) int64
        Each annotation's index in the file's ``annotations`` list.
    """

    def __init__(self, path: Path, ids: np.ndarray, image_ids: np.ndarray,
                 positions: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> None:
        self.path = Path(path)
        self.ids, self.image_ids, self.positions = ids, image_ids, positions
        self._starts, self._ends = starts, ends

    def __len__(self) -> int:
        return int(self.ids.size)

    def __getitem__(self, k):  # type: ignore[override]
        if isinstance(k, slice):
            return self.decode(range(len(self))[k])
        return self.decode([range(len(self))[k]])[0]

    def __eq__(self, other: object) -> bool:
        """Equal to a list (or another such sequence) of equal entries, as a list would be."""
        if not isinstance(other, (list, tuple, AnnotationList)):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<AnnotationList of {len(self)} annotations of {self.path}>"

    def __iter__(self) -> Iterator[dict]:
        for first in range(0, len(self), 4096):
            yield from self.decode(range(first, min(first + 4096, len(self))))

    def decode(self, indices: Iterable[int]) -> list[dict]:
        """The annotations at ``indices`` (positions in this list), decoded, in that order.

        Raises
        ------
        synthscene.errors.DatasetError
            If the file cannot be read or no longer holds the entry that was indexed.
        """
        chosen = np.fromiter((int(k) for k in indices), dtype=np.int64)
        out: list[dict] = [{}] * chosen.size
        if not chosen.size:
            return out
        slots = np.argsort(self._starts[chosen], kind="stable")
        starts, ends = self._starts[chosen[slots]], self._ends[chosen[slots]]
        # runs of items that follow each other in the file: one read each (up to 8 MiB)
        breaks = np.flatnonzero((starts[1:] != ends[:-1])
                                | (ends[1:] - starts[0] > _READ_BYTES)) + 1
        try:
            handle = open(self.path, "rb")
        except OSError as exc:
            raise DatasetError(str(self.path), "", f"cannot read: {exc.strerror or exc}") \
                from None
        with handle:
            for run in np.split(np.arange(chosen.size), breaks):
                first = int(starts[run[0]])
                block = json_stream.read_bytes(self.path, handle, first, int(ends[run[-1]]))
                for j in run.tolist():
                    k = int(chosen[slots[j]])
                    entry = json_stream.decode_item(
                        self.path, block[int(starts[j]) - first:int(ends[j]) - first],
                        int(starts[j]))
                    if not isinstance(entry, dict) or entry.get("id") != int(self.ids[k]):
                        raise DatasetError(str(self.path), f"annotations[{self.positions[k]}]",
                                           "no longer holds the entry read there (was the "
                                           "file changed while it was read?)")
                    drop_null_optional("annotations", entry)
                    out[int(slots[j])] = entry
        return out


_READ_BYTES = 8 << 20
"""Most bytes :meth:`AnnotationList.decode` reads at once (a run of consecutive entries)."""


class _KeptAnnotations(AnnotationList):
    """An :class:`AnnotationList` over entries already in memory (``CocoDataset`` built
    from a parsed ``data`` dict)."""

    def __init__(self, entries: Sequence[dict], positions: Sequence[int]) -> None:
        self._entries = list(entries)
        super().__init__(Path(), np.array([a["id"] for a in self._entries], dtype=np.int64),
                         np.array([a["image_id"] for a in self._entries], dtype=np.int64),
                         np.asarray(positions, dtype=np.int64).reshape(-1),
                         np.zeros(0, np.int64), np.zeros(0, np.int64))

    def decode(self, indices: Iterable[int]) -> list[dict]:
        return [self._entries[int(k)] for k in indices]


# ---------------------------------------------------------------------------- the dataset
class CocoDataset:
    """A COCO instances dataset read from disk, with its entries indexed.

    Build it with :func:`load_dataset`, which checks the schema first. The JSON's other
    top-level values are kept as parsed (``data``), so fields that synthscene does not know
    survive an export; the annotations are read from the file again when asked for (see the
    module docstring), so two reads of one annotation give equal but distinct dicts.

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
        The parsed JSON, except ``data["annotations"]``: the :class:`AnnotationList`.
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
        ``limit``); ``data["annotations"]`` a list of dicts or an :class:`AnnotationList`.
    positions : dict, optional
        ``{"images": [k, ...], "annotations": [k, ...]}``: the index in the file of each entry
        of ``data["images"]`` and ``data["annotations"]`` (a list), when ``data`` holds only
        some of them (default: their positions in ``data``).
    """

    _RECENT = 4096
    """Decoded annotations remembered (by identity) to name them in errors exactly."""

    def __init__(self, annotations_path: Path, image_dir: Path, data: dict,
                 positions: Mapping[str, Sequence[int]] | None = None) -> None:
        self.annotations_path = Path(annotations_path)
        self.image_dir = Path(image_dir)
        self.root = self.annotations_path.parent
        positions = positions or {}
        store = data["annotations"]
        if not isinstance(store, AnnotationList):
            store = _KeptAnnotations(store, positions.get("annotations", range(len(store))))
        self.data = {**data, "annotations": store}
        self._store = store
        self.images = sorted(data["images"], key=lambda image: image["id"])
        self.categories = sorted(data["categories"], key=lambda cat: cat["id"])
        self._image_index = {id(image): k for image, k in zip(
            data["images"], positions.get("images", range(len(data["images"]))))}
        # annotations by image, then id, then file position: image i's are a slice
        self._order = np.lexsort((store.positions, store.ids, store.image_ids))
        self._sorted_image_ids = store.image_ids[self._order]
        by_id = np.lexsort((store.positions, store.ids))
        self._id_order, self._sorted_ids = by_id, store.ids[by_id]
        self._recent: dict[int, tuple[dict, int]] = {}
        self.category_by_id = {cat["id"]: cat for cat in self.categories}
        self.image_by_id = {image["id"]: image for image in self.images}

    @property
    def annotations(self) -> AnnotationList:
        """All annotation entries, in file order (decoded as they are read)."""
        return self._store

    def _slice_of(self, image: dict) -> tuple[int, int]:
        key = image["id"]
        return (int(np.searchsorted(self._sorted_image_ids, key, side="left")),
                int(np.searchsorted(self._sorted_image_ids, key, side="right")))

    def annotation_count(self, image: dict) -> int:
        """How many annotations ``image`` has (none decoded)."""
        low, high = self._slice_of(image)
        return high - low

    def annotations_of(self, image: dict, *, limit: int | None = None) -> list[dict]:
        """The annotations of ``image`` sorted by ``id`` (empty list if none), decoded.

        Parameters
        ----------
        image : dict
            An image entry.
        limit : int, optional
            Decode only the first ``limit`` of them (by ``id``).
        """
        low, high = self._slice_of(image)
        if limit is not None:
            high = min(high, low + max(0, int(limit)))
        chosen = self._order[low:high]
        entries = self._store.decode(chosen)
        for entry, k in zip(entries, chosen):
            self._remember(entry, int(self._store.positions[k]))
        return entries

    def _remember(self, entry: dict, position: int) -> None:
        if len(self._recent) >= self._RECENT:
            self._recent.clear()
        self._recent[id(entry)] = (entry, position)  # holds entry: its id() stays unique

    def where(self, entry: dict) -> str:
        """Name an image or annotation entry as problems do: ``"annotations[4] (id 5)"``."""
        if id(entry) in self._image_index:
            return entry_name("images", self._image_index[id(entry)], entry)
        recent = self._recent.get(id(entry))
        if recent is not None and recent[0] is entry:
            return entry_name("annotations", recent[1], entry)
        value = entry.get("id") if isinstance(entry, dict) else None
        if isinstance(value, int) and "image_id" in entry:
            k = int(np.searchsorted(self._sorted_ids, value))
            if k < self._sorted_ids.size and self._sorted_ids[k] == value:
                position = int(self._store.positions[self._id_order[k]])
                return entry_name("annotations", position, entry)
        return entry_name("images", -1, entry)

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
    layout = json_stream.scan_layout(annotations_path, progress, index="annotations")
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
    spans = layout.spans
    columns = {name: array("q") for name in ("id", "image_id", "position", "span")}
    kept_entries: list[dict] = []  # only when the file could not be indexed
    total = 0
    for index, ann in entries("annotations"):
        total = index + 1
        for key, known in (("image_id", image_ids), ("category_id", category_ids)):
            if ann[key] not in known:
                raise DatasetError(source, f"{entry_name('annotations', index, ann)}.{key}",
                                   f"no {key[:-3]} has id {ann[key]}")
        if limit is None or ann["image_id"] in keep_ids:
            for name, value in (("id", ann["id"]), ("image_id", ann["image_id"]),
                                ("position", index), ("span", index)):
                columns[name].append(value)
            if spans is None:
                kept_entries.append(ann)
    if spans is not None and spans.starts.size != total:
        raise DatasetError(source, "annotations", f"{total} entries read but "
                           f"{spans.starts.size} found when the file was scanned (was the "
                           "file changed while it was read?)")
    arrays = {name: np.frombuffer(column, dtype=np.int64) if column else np.zeros(0, np.int64)
              for name, column in columns.items()}
    positions: dict[str, Sequence[int]] = {"images": [index for _, index, _ in kept]}
    if spans is None:
        store: Any = kept_entries
        positions["annotations"] = arrays["position"]
    else:
        chosen = arrays["span"]
        store = AnnotationList(annotations_path, arrays["id"], arrays["image_id"],
                               arrays["position"], spans.starts[chosen], spans.ends()[chosen])
    data["annotations"] = store
    return CocoDataset(annotations_path, images_path, data, positions=positions)


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
