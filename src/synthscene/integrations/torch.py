"""PyTorch datasets of synthscene frames in torchvision's detection conventions.

Two datasets give the same ``(image, target)`` pairs:

- :class:`CocoFolder` (map-style) reads a dataset on disk: one that ``synthscene generate``
  wrote, or any COCO instances folder or JSON file;
- :class:`SyntheticStream` (iterable) renders the frames on the fly inside the DataLoader's
  workers, each worker with its own GL context and pybullet client, made in the worker. The workers
  must be *spawned* (``DataLoader(..., multiprocessing_context="spawn")``, which
  :meth:`SyntheticStream.loader` sets), as synthscene's own workers are
  (:mod:`synthscene.run.executors.local`): a worker forked from a process that has held a GL context
  hangs when it makes its own.

The pair follows torchvision's v2 conventions (what ``torchvision.datasets.
wrap_dataset_for_transforms_v2`` makes of a ``CocoDetection``), so torchvision's v2 transforms
apply to it as it is and its detection models train on it:

- ``image``: ``tv_tensors.Image`` (3, H, W) uint8, RGB;
- ``target["image_id"]``: int, the COCO image id (frame index + 1 in a generated dataset);
- ``target["boxes"]``: ``tv_tensors.BoundingBoxes`` (N, 4) float32, format XYXY, pixels,
  ``canvas_size`` (H, W): the COCO ``bbox`` ``[x, y, w, h]`` as ``[x, y, x + w, y + h]``;
- ``target["labels"]``: (N,) int64, COCO ``category_id`` (ids start at 1, so 0 is free for the
  background class of torchvision's detection models: ``num_classes = max id + 1``);
- ``target["masks"]``: ``tv_tensors.Mask`` (N, H, W) bool, the decoded ``segmentation``;
- ``target["area"]``: (N,) float32 and ``target["iscrowd"]``: (N,) int64, as in the annotation;

annotations in ``id`` order (N may be 0). A ``transforms`` callable, if given, is applied to the
pair: ``image, target = transforms(image, target)``.

Needs the ``torch`` extra (``pip install 'synthscene[torch]'``); ``import synthscene`` never
imports this module.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from pycocotools import mask as mask_utils

from synthscene.config.arguments import as_scenario, whole_number
from synthscene.config.loading import Scenario
from synthscene.errors import OptionError
from synthscene.io.coco import category_ids, frame_record
from synthscene.io.reader import load_dataset
from synthscene.io.rle import to_rle

try:
    import torch
    from torch.utils.data import Dataset, IterableDataset, get_worker_info
    from torchvision import tv_tensors
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "synthscene.integrations.torch needs torch and torchvision: "
        "pip install 'synthscene[torch]'") from exc

__all__ = ["CocoFolder", "SyntheticStream", "coco_target", "detection_collate"]

logger = logging.getLogger(__name__)

Transforms = Callable[[Any, dict[str, Any]], tuple[Any, dict[str, Any]]]


def coco_target(image_id: int, annotations: Sequence[Mapping[str, Any]], masks: np.ndarray,
                height: int, width: int) -> dict[str, Any]:
    """The torchvision target of one image's COCO annotations (see the module docstring).

    Parameters
    ----------
    image_id : int
        COCO image id.
    annotations : sequence of mapping
        The image's COCO annotations (``bbox`` ``[x, y, w, h]`` pixels, ``category_id``,
        ``area``, ``iscrowd``), in the order the target lists them.
    masks : (N, H, W) bool
        Their decoded ``segmentation``, in the same order.
    height, width : int
        Image size in pixels.

    Returns
    -------
    dict
        ``image_id`` int, ``boxes`` BoundingBoxes (N, 4) float32 XYXY, ``labels`` (N,) int64,
        ``masks`` Mask (N, H, W) bool, ``area`` (N,) float32, ``iscrowd`` (N,) int64.

    Raises
    ------
    ValueError
        If ``masks`` is not ``(len(annotations), height, width)``.
    """
    masks = np.asarray(masks, dtype=bool)
    if masks.shape != (len(annotations), height, width):
        raise ValueError(f"masks must be ({len(annotations)}, {height}, {width}), "
                         f"got {masks.shape}")
    xywh = torch.tensor([[float(v) for v in ann["bbox"]] for ann in annotations],
                        dtype=torch.float32).reshape(-1, 4)
    xyxy = torch.cat([xywh[:, :2], xywh[:, :2] + xywh[:, 2:]], dim=1)
    return {
        "image_id": int(image_id),
        "boxes": tv_tensors.BoundingBoxes(xyxy, format=tv_tensors.BoundingBoxFormat.XYXY,
                                          canvas_size=(int(height), int(width))),
        "labels": torch.tensor([int(ann["category_id"]) for ann in annotations],
                               dtype=torch.int64),
        "masks": tv_tensors.Mask(torch.from_numpy(masks)),
        "area": torch.tensor([float(ann.get("area", 0)) for ann in annotations],
                             dtype=torch.float32),
        "iscrowd": torch.tensor([int(ann.get("iscrowd", 0)) for ann in annotations],
                                dtype=torch.int64),
    }


def _image(rgb: np.ndarray) -> tv_tensors.Image:
    """``tv_tensors.Image`` (3, H, W) uint8 of an ``(H, W, 3) uint8`` RGB array."""
    return tv_tensors.Image(torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1)
                            .contiguous())


def _apply(transforms: Transforms | None, image: Any, target: dict[str, Any]):
    return (image, target) if transforms is None else transforms(image, target)


def detection_collate(batch: Sequence[tuple[Any, dict[str, Any]]]) -> tuple[list, list]:
    """DataLoader ``collate_fn`` for detection: ``(images, targets)`` as two lists.

    Images of one batch may differ in size and targets in N, so they are not stacked
    (torchvision's detection models take lists; as in torchvision's detection references).
    """
    images, targets = zip(*batch) if batch else ((), ())
    return list(images), list(targets)


MAX_TARGET_MASK_BYTES = 1 << 31
"""Largest ``target["masks"]`` :class:`CocoFolder` decodes, bytes (``N x H x W``, one byte a
pixel): 2 GiB, e.g. 1,035 instances of a 1920 x 1080 image. An image whose annotations would
decode to more is refused with a :class:`~synthscene.errors.DatasetError` before anything is
allocated."""


class CocoFolder(Dataset):
    """Map-style dataset over a COCO instances dataset on disk.

    Parameters
    ----------
    root : str or pathlib.Path
        A dataset folder holding ``annotations.json`` (``images/`` beside it), or a COCO JSON
        file (see :func:`synthscene.io.reader.locate_dataset`).
    image_dir : str or pathlib.Path, optional
        Folder the images' ``file_name`` are relative to, if not the default.
    transforms : callable, optional
        ``(image, target) -> (image, target)``, e.g. a ``torchvision.transforms.v2.Compose``.

    Attributes
    ----------
    categories : list of dict
        The COCO categories (``id``, ``name``, ...) sorted by id.

    Raises
    ------
    synthscene.errors.DatasetError
        If the annotation file is missing or breaks the COCO schema (file and field named).

    Notes
    -----
    ``dataset[i]`` is the image with the i-th smallest id. Reading an image raises
    :class:`synthscene.errors.AssetError` if its file is missing or not the size its entry says,
    and a malformed segmentation :class:`synthscene.errors.DatasetError`, as does an image whose
    masks would take more than :data:`MAX_TARGET_MASK_BYTES` (checked before decoding).
    """

    def __init__(self, root: str | Path, *, image_dir: str | Path | None = None,
                 transforms: Transforms | None = None) -> None:
        self.dataset = load_dataset(root, image_dir=image_dir)
        self.transforms = transforms
        self.categories = [dict(cat) for cat in self.dataset.categories]

    def __len__(self) -> int:
        return len(self.dataset.images)

    def __getitem__(self, index: int) -> tuple[Any, dict[str, Any]]:
        image = self.dataset.images[index]
        height, width = int(image["height"]), int(image["width"])
        count = self.dataset.annotation_count(image)
        if count * height * width > MAX_TARGET_MASK_BYTES:
            raise self.dataset.error(image, "id", f"its {count} annotations of {width}x{height} "
                                     f"pixels would decode to {count * height * width / 2**30:.1f}"
                                     f" GiB of masks, more than CocoFolder decodes "
                                     f"({MAX_TARGET_MASK_BYTES / 2**30:.0f} GiB, "
                                     "MAX_TARGET_MASK_BYTES)")
        annotations = self.dataset.annotations_of(image)
        masks = np.zeros((len(annotations), height, width), dtype=bool)
        for k, ann in enumerate(annotations):
            masks[k] = self.dataset.mask(ann, image)
        target = coco_target(image["id"], annotations, masks, height, width)
        return _apply(self.transforms, _image(self.dataset.read_rgb(image)), target)


class SyntheticStream(IterableDataset):
    """Iterable dataset that renders frames of a scenario inside the DataLoader's workers.

    Frame ``i`` is frame ``i`` of ``synthscene.generate(scenario, out, frames=..., seed=seed)``:
    the same image bytes and labels, and ``target["image_id"] = i + 1``, its id there (with the
    targets :class:`CocoFolder` gives for that dataset). Each worker opens its own pybullet client
    and GL context in the worker process, when iteration starts, and closes them when its share
    is done; the parent process opens neither.

    Parameters
    ----------
    scenario : Scenario or path
        As for :func:`synthscene.iter_samples` (a path is read with ``load_scenario``).
    frames : int
        Frames in one epoch, >= 1.
    seed : int
        Run seed, >= 0.
    start : int
        Index of the first frame of epoch 0, >= 0.
    epoch : int
        Epoch, >= 0: epoch ``e`` is frames ``start + e * frames`` to ``start + (e + 1) * frames
        - 1``, so each epoch is fresh data and every epoch of a seed is reproducible. Change it
        between epochs with :meth:`set_epoch` (the DataLoader's workers read it when they start:
        not with ``persistent_workers=True``).
    chunk : int
        Frames dealt to a worker at a time, >= 1: worker ``w`` of ``n`` makes the frames whose
        position ``k`` in the epoch has ``(k // chunk) % n == w``. With ``chunk`` equal to the
        DataLoader's ``batch_size``, the DataLoader (which takes batches from its workers in
        turn) yields the frames in index order whatever the number of workers; each frame's
        content never depends on it.
    transforms : callable, optional
        ``(image, target) -> (image, target)``, applied in the worker.

    Attributes
    ----------
    categories : list of dict
        ``{"id", "name"}`` of each category, as ``generate`` writes them.

    Raises
    ------
    synthscene.errors.OptionError
        Naming the argument, if ``frames``, ``seed``, ``start``, ``epoch`` or ``chunk`` is not
        an integer in range, or ``scenario`` neither a Scenario nor a path.
    synthscene.errors.SynthsceneError
        If the scenario's assets cannot be indexed (here), or, in the workers, an asset cannot be
        loaded or no GL context can be made.

    Notes
    -----
    A DataLoader over it needs ``multiprocessing_context="spawn"`` when ``num_workers > 0``
    (see the module docstring); :meth:`loader` makes one. Spawned workers import the main
    script again, so a script runs its training loop under ``if __name__ == "__main__":``.

    Examples
    --------
    >>> stream = SyntheticStream(scenario, frames=1000, seed=0)           # doctest: +SKIP
    >>> loader = stream.loader(batch_size=8, num_workers=2)               # doctest: +SKIP
    >>> for epoch in range(3):                                            # doctest: +SKIP
    ...     stream.set_epoch(epoch)
    ...     for images, targets in loader: ...
    """

    def __init__(self, scenario: Scenario | str | Path, *, frames: int, seed: int = 0,
                 start: int = 0, epoch: int = 0, chunk: int = 1,
                 transforms: Transforms | None = None) -> None:
        from synthscene.run.frames import build_library

        checked = [whole_number(name, value, low=low) for name, value, low in (
            ("frames", frames, 1), ("seed", seed, 0), ("start", start, 0), ("epoch", epoch, 0),
            ("chunk", chunk, 1))]
        if transforms is not None and not callable(transforms):
            raise OptionError("transforms", "", f"must be callable, got "
                                                f"{type(transforms).__name__}")
        self.scenario = scenario = as_scenario(scenario)
        self.frames, self.seed, self.start, self.epoch, self.chunk = checked
        self.transforms = transforms
        self.library = build_library(scenario)  # pickles as its index; workers load meshes
        self._category_ids = category_ids(self.library.categories)
        self.categories = [{"id": i, "name": name} for name, i in self._category_ids.items()]

    def set_epoch(self, epoch: int) -> None:
        """Make the next iteration epoch ``epoch`` (>= 0).

        Raises
        ------
        synthscene.errors.OptionError
            If ``epoch`` is not an integer >= 0 (the epoch stays as it was).
        """
        self.epoch = whole_number("epoch", epoch)

    def __len__(self) -> int:
        return self.frames

    def loader(self, *, batch_size: int = 1, num_workers: int = 0,
               **kwargs: Any) -> torch.utils.data.DataLoader:
        """A DataLoader over this stream with what it needs: spawned workers
        (``multiprocessing_context="spawn"`` when ``num_workers > 0``), ``detection_collate``,
        and ``chunk`` set to ``batch_size`` (frames in index order whatever ``num_workers``).

        Parameters
        ----------
        batch_size : int
            Frames per batch, >= 1.
        num_workers : int
            Worker processes, >= 0 (0: frames are made in this process).
        **kwargs
            Other ``torch.utils.data.DataLoader`` arguments (``pin_memory``,
            ``prefetch_factor``, ...).

        Returns
        -------
        torch.utils.data.DataLoader
            Batches ``(images, targets)``: two lists of ``batch_size`` (the last may be shorter).

        Raises
        ------
        synthscene.errors.OptionError
            If ``batch_size`` is not an integer >= 1 or ``num_workers`` not one >= 0; the
            stream is left as it was (also when the DataLoader refuses another argument).
        """
        batch_size = whole_number("batch_size", batch_size, low=1)
        num_workers = whole_number("num_workers", num_workers)
        if num_workers > 0:
            kwargs.setdefault("multiprocessing_context", "spawn")
        kwargs.setdefault("collate_fn", detection_collate)
        loader = torch.utils.data.DataLoader(self, batch_size=batch_size,
                                             num_workers=num_workers, **kwargs)
        self.chunk = batch_size
        return loader

    def frame_indices(self, worker: int = 0, workers: int = 1) -> list[int]:
        """Frame indices that worker ``worker`` of ``workers`` makes this epoch, in order."""
        first = self.start + self.epoch * self.frames
        return [first + k for k in range(self.frames) if (k // self.chunk) % workers == worker]

    def __iter__(self) -> Iterator[tuple[Any, dict[str, Any]]]:
        from synthscene.run.frames import FrameMaker

        info = get_worker_info()
        worker, workers = (0, 1) if info is None else (info.id, info.num_workers)
        indices = self.frame_indices(worker, workers)
        logger.debug("worker %d of %d: %d frames", worker, workers, len(indices))
        if not indices:
            return
        with FrameMaker(self.scenario, self.library, seed=self.seed) as maker:
            for sample in maker.frames(indices):
                yield self.pair(sample)

    def pair(self, sample) -> tuple[Any, dict[str, Any]]:
        """The ``(image, target)`` of a :class:`synthscene.core.state.Sample` of this scenario.

        Its annotations are those ``generate`` writes (:func:`synthscene.io.coco.
        frame_record`), in the same order; ``transforms`` is applied.
        """
        record = frame_record(sample, self._category_ids)
        entry, annotations = record["image"], record["annotations"]
        height, width = int(entry["height"]), int(entry["width"])
        masks = np.zeros((len(annotations), height, width), dtype=bool)
        for k, ann in enumerate(annotations):
            masks[k] = mask_utils.decode(to_rle(ann["segmentation"], height, width))
        target = coco_target(entry["id"], annotations, masks, height, width)
        return _apply(self.transforms, _image(sample.render.rgb), target)
