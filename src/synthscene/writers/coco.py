"""COCO "instances" dataset writer.

Layout of a finished dataset folder ``OUT``::

    OUT/images/000001.png      RGB PNG of frame 0 (image id 1), 000002.png of frame 1, ...
    OUT/annotations.json       written last, atomically, by ``close()``

COCO's ``file_name`` is relative to the image folder, so an image entry says
``"file_name": "000001.png"`` and a loader reads ``OUT/images/<file_name>``
(``pycocotools.coco.COCO("OUT/annotations.json")`` with ``image_dir = "OUT/images"``).

A folder with ``annotations.json`` is complete; a folder without one is unfinished (a crash or an
exception inside the ``with`` block leaves it so). The files hold no date or time, so the same
samples give byte-identical files.

The writer only formats: masks, boxes and areas come from :func:`synthscene.labels.annotate`.
It never imports a rendering or physics backend.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import Any

import cv2
import numpy as np

import synthscene
from synthscene.errors import OutputError
from synthscene.state import Sample

__all__ = ["CocoWriter"]

logger = logging.getLogger(__name__)

ANNOTATIONS_NAME = "annotations.json"
IMAGES_DIR = "images"
MAX_PENDING_IMAGES = 4
"""Frames whose PNG may wait for the encoder thread before :meth:`CocoWriter.write` blocks."""


class CocoWriter:
    """Context manager that writes a COCO instances dataset.

    Images go to ``out_dir/images/{frame_index + 1:06d}.png`` as they are written; the image
    entries and annotations are kept in memory and written to ``out_dir/annotations.json`` by
    :meth:`close` (called by ``__exit__`` when the block ends without an exception).

    Parameters
    ----------
    out_dir : pathlib.Path
        Dataset folder; created (with parents) on entry if missing.
    categories : sequence of str
        Category names, in the order that gives their ids: ``categories[i]`` gets id ``i + 1``.
        Pass them sorted so that ids are stable across runs. Must be unique.
    description : str, optional
        ``info.description`` of the annotation file.
    png_compression : int, optional
        zlib level 0-9 of the PNGs (OpenCV's ``IMWRITE_PNG_COMPRESSION``); 1 is fast.

    Raises
    ------
    ValueError
        If ``categories`` is empty or has duplicates, or ``png_compression`` is not in 0-9.

    Examples
    --------
    >>> with CocoWriter(Path("out"), ["bowl", "mug"]) as writer:  # doctest: +SKIP
    ...     for sample in samples:
    ...         writer.write(sample)
    """

    def __init__(
        self,
        out_dir: Path,
        categories: Sequence[str],
        *,
        description: str = "synthscene dataset",
        png_compression: int = 1,
    ) -> None:
        names = [str(name) for name in categories]
        if not names:
            raise ValueError("categories must not be empty")
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"categories must be unique, got duplicates {duplicates}")
        if not 0 <= int(png_compression) <= 9:
            raise ValueError(f"png_compression must be in 0-9, got {png_compression}")
        self.out_dir = Path(out_dir)
        self.images_dir = self.out_dir / IMAGES_DIR
        self.annotations_path = self.out_dir / ANNOTATIONS_NAME
        self._categories = names
        self._category_ids = {name: i + 1 for i, name in enumerate(names)}
        self._description = str(description)
        self._png_params = [cv2.IMWRITE_PNG_COMPRESSION, int(png_compression)]
        # image id -> (image entry, annotations without "id", sorted by instance_id)
        self._frames: dict[int, tuple[dict[str, Any], list[dict[str, Any]]]] = {}
        self._entered = False
        self._closed = False
        # PNG encoding runs on one background thread (OpenCV releases the GIL while encoding),
        # overlapping with the next frame's physics and rendering; at most MAX_PENDING_IMAGES
        # frames wait in memory.
        self._encoder: ThreadPoolExecutor | None = None
        self._pending: deque[Future] = deque()

    # ------------------------------------------------------------------ context manager
    def __enter__(self) -> CocoWriter:
        """Create ``out_dir/images`` and check that both folders can be written.

        An ``annotations.json`` left from an earlier run is removed, since the images it
        describes are about to be overwritten (callers that must not overwrite a dataset check
        before opening the writer).

        Raises
        ------
        synthscene.errors.OutputError
            If the folders cannot be created or written.
        """
        if self._entered:
            raise RuntimeError("a CocoWriter can be entered only once")
        try:
            self.images_dir.mkdir(parents=True, exist_ok=True)
            for folder in (self.out_dir, self.images_dir):
                _probe_writable(folder)
            if self.annotations_path.exists():
                logger.warning(
                    "removing stale %s before writing a new dataset", self.annotations_path
                )
                self.annotations_path.unlink()
        except OSError as exc:
            raise OutputError(
                f"cannot create or write the output folder {self.out_dir}: {exc.strerror or exc}"
            ) from exc
        self._entered = True
        self._encoder = ThreadPoolExecutor(max_workers=1, thread_name_prefix="synthscene-png")
        logger.debug("writing COCO dataset to %s", self.out_dir)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Write ``annotations.json`` on success; on an exception, leave the folder unfinished.

        The exception, if any, propagates.
        """
        if exc_type is None:
            self.close()
        else:
            self._shutdown_encoder(raise_errors=False)
            logger.warning(
                "not writing %s: the dataset was interrupted by %s",
                self.annotations_path,
                exc_type.__name__,
            )
            self._closed = True

    # ------------------------------------------------------------------ writing
    def write(self, sample: Sample) -> None:
        """Write a frame's PNG and keep its image entry and annotations for :meth:`close`.

        Frames may come in any order (e.g. from parallel workers); the annotation file does not
        depend on the order.

        Parameters
        ----------
        sample : Sample
            Its ``render.rgb : (H, W, 3) uint8`` is saved as
            ``images/{frame_index + 1:06d}.png``; its ``labels`` become annotations.

        Raises
        ------
        RuntimeError
            If the writer is not open (not entered, or closed).
        ValueError
            If the frame index is negative or was written already, the image is not
            ``(H, W, 3) uint8``, a label's category is not one of ``categories``, or a label's
            mask size is not ``[H, W]``.
        synthscene.errors.OutputError
            If the PNG cannot be written.
        """
        if not self._entered or self._closed:
            raise RuntimeError("CocoWriter.write() needs an open writer: use it in a with block")
        frame_index = int(sample.frame_index)
        if frame_index < 0:
            raise ValueError(f"frame_index must be >= 0, got {frame_index}")
        image_id = frame_index + 1
        if image_id in self._frames:
            raise ValueError(f"frame {frame_index} was written already")
        rgb = np.asarray(sample.render.rgb)
        if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
            raise ValueError(
                f"render.rgb must be (H, W, 3) uint8, got shape {rgb.shape} dtype {rgb.dtype}"
            )
        height, width = int(rgb.shape[0]), int(rgb.shape[1])

        annotations = []
        for label in sorted(sample.labels, key=lambda lab: lab.instance_id):
            category_id = self._category_ids.get(label.category)
            if category_id is None:
                raise ValueError(
                    f"frame {frame_index}: instance {label.instance_id} has category "
                    f"{label.category!r}, which is not one of {self._categories}"
                )
            size = [int(v) for v in label.segmentation["size"]]
            if size != [height, width]:
                raise ValueError(
                    f"frame {frame_index}: instance {label.instance_id} has a mask of size "
                    f"{size}, but the image is [H, W] = {[height, width]}"
                )
            counts = label.segmentation["counts"]
            if isinstance(counts, bytes):
                counts = counts.decode("ascii")
            annotations.append(
                {
                    "image_id": image_id,
                    "category_id": category_id,
                    "bbox": [float(v) for v in label.bbox],
                    "area": int(label.area),
                    "iscrowd": 0,
                    "segmentation": {"size": size, "counts": counts},
                    "instance_id": int(label.instance_id),
                }
            )

        file_name = f"{image_id:06d}.png"
        state = sample.state
        camera = state.camera
        entry = {
            "id": image_id,
            "file_name": file_name,
            "width": width,
            "height": height,
            "K": _nested_floats(camera.K, (3, 3), "camera.K"),
            "world_from_camera": _nested_floats(
                camera.world_from_camera, (4, 4), "camera.world_from_camera"
            ),
            "seed": [int(v) for v in state.seed],
            "physics_steps": int(state.physics_steps),
        }

        path = self.images_dir / file_name
        bgr = np.ascontiguousarray(rgb[:, :, ::-1])
        while len(self._pending) >= MAX_PENDING_IMAGES:
            self._pending.popleft().result()
        self._pending.append(self._encoder.submit(_write_png, path, bgr, self._png_params))
        self._frames[image_id] = (entry, annotations)

    def _shutdown_encoder(self, *, raise_errors: bool) -> None:
        """Wait for every pending PNG; re-raise the first failure if ``raise_errors``."""
        first_error = None
        while self._pending:
            try:
                self._pending.popleft().result()
            except OutputError as exc:
                first_error = first_error or exc
        if self._encoder is not None:
            self._encoder.shutdown(wait=True)
            self._encoder = None
        if first_error is not None and raise_errors:
            self._closed = True
            raise first_error

    def close(self) -> Path:
        """Write ``annotations.json`` atomically and return its path.

        Annotation ids are given here, 1, 2, ... in (image id, instance_id) order, so they do not
        depend on the order of :meth:`write` calls. The file is written to a temporary file in
        ``out_dir``, flushed and fsynced, then renamed over ``annotations.json``. Calling
        ``close`` again returns the path without writing.

        Returns
        -------
        pathlib.Path
            ``out_dir/annotations.json``.

        Raises
        ------
        RuntimeError
            If the writer was never entered, or an exception ended its ``with`` block.
        synthscene.errors.OutputError
            If the file cannot be written.
        """
        if not self._entered:
            raise RuntimeError("CocoWriter.close() needs an entered writer: use it in a with block")
        if self._closed:
            if not self.annotations_path.exists():
                raise RuntimeError(
                    f"this writer was closed without writing {self.annotations_path}"
                )
            return self.annotations_path
        self._shutdown_encoder(raise_errors=True)
        data = json.dumps(self._dataset(), separators=(",", ":"), allow_nan=False)
        _write_atomic(self.annotations_path, data.encode("utf-8"))
        self._closed = True
        logger.info("wrote %s (%d images)", self.annotations_path, len(self._frames))
        return self.annotations_path

    def _dataset(self) -> dict[str, Any]:
        """The COCO dataset as a JSON-ready dict (keys in the conventional order)."""
        images = []
        annotations = []
        for image_id in sorted(self._frames):
            entry, frame_annotations = self._frames[image_id]
            images.append(entry)
            for annotation in frame_annotations:
                annotations.append({"id": len(annotations) + 1, **annotation})
        return {
            "info": {
                "description": self._description,
                "version": str(getattr(synthscene, "__version__", "0.1.0")),
                "contributor": "synthscene",
            },
            "licenses": [],
            "images": images,
            "annotations": annotations,
            "categories": [
                {"id": self._category_ids[name], "name": name, "supercategory": "object"}
                for name in self._categories
            ],
        }


def _nested_floats(matrix: Any, shape: tuple[int, int], name: str) -> list[list[float]]:
    """Return ``matrix`` as nested lists of Python floats, checking its shape."""
    array = np.asarray(matrix, dtype=np.float64)
    if array.shape != shape:
        raise ValueError(f"{name} must have shape {shape}, got {array.shape}")
    return array.tolist()


def _write_png(path: Path, bgr: np.ndarray, params: list[int]) -> None:
    """Encode and write one PNG (runs on the encoder thread)."""
    try:
        ok = cv2.imwrite(str(path), bgr, params)
    except cv2.error as exc:
        raise OutputError(f"cannot write image {path}: {exc}") from None
    if not ok:
        raise OutputError(f"cannot write image {path}")


def _probe_writable(folder: Path) -> None:
    """Create and delete a file in ``folder``; raise ``OSError`` if that fails."""
    fd, probe = tempfile.mkstemp(prefix=".probe-", dir=folder)
    os.close(fd)
    os.unlink(probe)


def _write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a fsynced temporary file and ``os.replace``.

    Raises
    ------
    synthscene.errors.OutputError
        If the file cannot be written.
    """
    tmp_name = None
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
        tmp_name = None
        _fsync_dir(path.parent)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from exc
    finally:
        if tmp_name is not None:
            try:
                os.unlink(tmp_name)
            except OSError:
                pass


def _fsync_dir(folder: Path) -> None:
    """Best effort: make a rename in ``folder`` durable (not supported everywhere)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
