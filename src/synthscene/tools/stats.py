"""``synthscene stats``: plots and a summary of what a dataset holds.

:func:`compute_stats` gathers the figures (pure, JSON-ready); :func:`write_stats` writes them as
``stats.json`` and ``stats.md`` and draws the plots with matplotlib's object-oriented API on the
Agg canvas (no pyplot, no global backend switch, no display needed):

========================= =====================================================================
file                      what
========================= =====================================================================
objects_per_class.png     annotations per category (horizontal bars)
objects_per_image.png     histogram of annotations per image
box_size.png              histogram of box size ``sqrt(w * h)`` in pixels (log-spaced bins)
box_aspect.png            histogram of box aspect ``w / h`` (log-spaced bins)
visibility.png            histogram of ``visib_fract``, only if annotations carry it
box_centres.png           heatmap of box centres, normalised by the image size
========================= =====================================================================

Every figure is computed from the annotation file alone; no image is read. The annotations are
read once, a block at a time, into arrays of the numbers the figures need (about 80 bytes an
annotation), not kept as parsed.
"""

from __future__ import annotations

import json
import logging
from array import array
from pathlib import Path
from typing import Any

import numpy as np

from synthscene.errors import OutputError, SynthsceneError
from synthscene.io.reader import CocoDataset, load_dataset

__all__ = ["HEATMAP_BINS", "compute_stats", "write_stats"]

logger = logging.getLogger(__name__)

HEATMAP_BINS = 32
"""Cells per side of the box-centre heatmap."""


def _summary(values: np.ndarray) -> dict[str, float] | None:
    """min / max / mean / median / p5 / p95 of ``values``, or None if there are none."""
    if values.size == 0:
        return None
    return {"min": float(values.min()), "p5": float(np.percentile(values, 5)),
            "median": float(np.median(values)), "mean": float(values.mean()),
            "p95": float(np.percentile(values, 95)), "max": float(values.max())}


class _Columns:
    """The per-annotation numbers the figures need, read in one pass over the annotations
    (decoded a block at a time), kept as arrays: about 80 bytes an annotation.

    Attributes
    ----------
    boxes : (n, 4) float64
        ``bbox`` of each annotation.
    sizes : (n, 2) float64
        ``width``, ``height`` of its image.
    categories : (n,) int64
    areas : (n,) float64
    visib : (m,) float64
        ``visib_fract`` of the annotations that carry it.
    """

    def __init__(self, dataset: CocoDataset) -> None:
        boxes, sizes, areas, visib = array("d"), array("d"), array("d"), array("d")
        categories = array("q")
        images = dataset.image_by_id
        for ann in dataset.annotations:
            boxes.extend(float(v) for v in ann["bbox"])
            image = images[ann["image_id"]]
            sizes.extend((image["width"], image["height"]))
            categories.append(ann["category_id"])
            areas.append(ann["area"])
            if "visib_fract" in ann:
                visib.append(ann["visib_fract"])
        self.boxes = np.frombuffer(boxes, dtype=np.float64).reshape(-1, 4) if boxes \
            else np.zeros((0, 4))
        self.sizes = np.frombuffer(sizes, dtype=np.float64).reshape(-1, 2) if sizes \
            else np.zeros((0, 2))
        self.categories = np.frombuffer(categories, dtype=np.int64) if categories \
            else np.zeros(0, np.int64)
        self.areas = np.frombuffer(areas, dtype=np.float64) if areas else np.zeros(0)
        self.visib = np.frombuffer(visib, dtype=np.float64) if visib else np.zeros(0)


def compute_stats(dataset: CocoDataset) -> dict[str, Any]:
    """Figures of a dataset.

    Parameters
    ----------
    dataset : CocoDataset

    Returns
    -------
    dict
        JSON-ready: ``images``, ``annotations``, ``categories`` (counts);
        ``objects_per_class`` ({name: count}, every category, by id);
        ``objects_per_image`` (summary plus ``images_without_objects``);
        ``box_size_px`` (``sqrt(w * h)``), ``box_width_px``, ``box_height_px``, ``box_aspect``
        (``w / h``, boxes with h > 0), ``area_px`` (summaries: min, p5, median, mean, p95,
        max; None if there are no annotations); ``visib_fract`` (summary of the annotations
        that carry it, with ``annotations_with_field``; None if none do);
        ``box_centres`` (``HEATMAP_BINS x HEATMAP_BINS`` counts of box centres divided by the
        image size, rows = y); ``notes`` (list of str).
    """
    return _compute(dataset, _Columns(dataset))


def _compute(dataset: CocoDataset, columns: _Columns) -> dict[str, Any]:
    count = int(columns.categories.size)
    per_class = {cat["id"]: 0 for cat in dataset.categories}
    found, counts = np.unique(columns.categories, return_counts=True)
    for category_id, n in zip(found.tolist(), counts.tolist()):
        per_class[category_id] = per_class.get(category_id, 0) + n
    all_names = [cat["name"] for cat in dataset.categories]
    names = {cat["id"]: cat["name"] if all_names.count(cat["name"]) == 1
             else f"{cat['name']} (id {cat['id']})" for cat in dataset.categories}
    per_image = np.array([dataset.annotation_count(image) for image in dataset.images],
                         dtype=np.float64)
    boxes, sizes = columns.boxes, columns.sizes
    widths, heights = boxes[:, 2], boxes[:, 3]
    centres = np.zeros((HEATMAP_BINS, HEATMAP_BINS), dtype=np.int64)
    if count:
        cx = (boxes[:, 0] + widths / 2) / sizes[:, 0]
        cy = (boxes[:, 1] + heights / 2) / sizes[:, 1]
        centres, _, _ = np.histogram2d(cy, cx, bins=HEATMAP_BINS, range=[[0, 1], [0, 1]])
        centres = centres.astype(np.int64)
    visib = columns.visib
    notes = []
    visibility = None
    if visib.size:
        visibility = {**_summary(visib), "annotations_with_field": int(visib.size)}
        if visib.size < count:
            notes.append(f"only {visib.size} of {count} annotations carry "
                         "visib_fract")
    else:
        notes.append("no annotation carries visib_fract: no visibility histogram")
    positive = heights > 0
    return {
        "images": len(dataset.images),
        "annotations": count,
        "categories": len(dataset.categories),
        "objects_per_class": {names.get(i, str(i)): n for i, n in sorted(per_class.items())},
        "objects_per_image": {**(_summary(per_image) or {}),
                              "images_without_objects": int((per_image == 0).sum())},
        "box_size_px": _summary(np.sqrt(widths * heights)),
        "box_width_px": _summary(widths),
        "box_height_px": _summary(heights),
        "box_aspect": _summary(widths[positive] / heights[positive]),
        "area_px": _summary(columns.areas),
        "visib_fract": visibility,
        "box_centres": centres.tolist(),
        "notes": notes,
    }


def write_stats(dataset_dir: str | Path, out_dir: str | Path, *,
                image_dir: str | Path | None = None) -> dict[str, Any]:
    """Compute a dataset's figures and write plots, ``stats.json`` and ``stats.md``.

    Parameters
    ----------
    dataset_dir : str or pathlib.Path
        Dataset folder or COCO JSON file.
    out_dir : str or pathlib.Path
        Folder for the files (created).
    image_dir : str or pathlib.Path, optional
        Not read (stats need no image), accepted for symmetry with the other tools.

    Returns
    -------
    dict
        What :func:`compute_stats` returns, plus ``plots``: the PNG file names written.

    Raises
    ------
    synthscene.errors.SynthsceneError
        If matplotlib is not installed (``pip install 'synthscene[tools]'``).
    synthscene.errors.DatasetError
        If the dataset is malformed.
    synthscene.errors.OutputError
        If ``out_dir`` cannot be written.
    """
    _require_matplotlib()
    dataset = load_dataset(dataset_dir, image_dir=image_dir)
    columns = _Columns(dataset)
    stats = _compute(dataset, columns)
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{out}: cannot create the folder ({exc.strerror or exc})") from None
    stats["plots"] = _plots(dataset, columns, stats, out)
    _write_text(out / "stats.json", json.dumps(stats, indent=2, allow_nan=False) + "\n")
    _write_text(out / "stats.md", _markdown(dataset, stats))
    logger.info("wrote stats of %s to %s", dataset.annotations_path, out)
    return stats


def _require_matplotlib() -> None:
    """Raise a one-line error if matplotlib (the ``tools`` extra) is not installed."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise SynthsceneError("synthscene stats draws its plots with matplotlib, which is not "
                              "installed: pip install 'synthscene[tools]'") from None


def _write_text(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise OutputError(f"{path}: cannot be written ({exc.strerror or exc})") from None


def _plots(dataset: CocoDataset, columns: _Columns, stats: dict[str, Any],
           out: Path) -> list[str]:
    """Draw every plot; return the file names."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    def save(figure: Figure, name: str) -> None:
        FigureCanvasAgg(figure)
        figure.tight_layout()
        try:
            figure.savefig(out / name, dpi=100, metadata={"Software": None})
        except OSError as exc:
            raise OutputError(f"{out / name}: cannot be written ({exc.strerror or exc})") \
                from None
        written.append(name)

    written: list[str] = []
    boxes = columns.boxes

    per_class = stats["objects_per_class"]
    figure = Figure(figsize=(7, max(2.5, 0.28 * len(per_class) + 1)))
    axes = figure.add_subplot()
    axes.barh(list(per_class)[::-1], list(per_class.values())[::-1], color="#4c72b0")
    axes.set_xlabel("annotations")
    axes.set_title("Objects per class")
    save(figure, "objects_per_class.png")

    per_image = [dataset.annotation_count(image) for image in dataset.images]
    figure = Figure(figsize=(6, 4))
    axes = figure.add_subplot()
    top = max(per_image, default=0)
    axes.hist(per_image, bins=np.arange(-0.5, top + 1.5, max(1, (top + 1) // 40 or 1)),
              color="#4c72b0")
    axes.set_xlabel("annotations in the image")
    axes.set_ylabel("images")
    axes.set_title("Objects per image")
    save(figure, "objects_per_image.png")

    figure = Figure(figsize=(6, 4))
    axes = figure.add_subplot()
    size = np.sqrt(boxes[:, 2] * boxes[:, 3])
    size = size[size > 0]
    if size.size:
        axes.hist(size, bins=np.geomspace(size.min(), size.max() * 1.0001 + 1e-9, 40),
                  color="#55a868")
        axes.set_xscale("log")
    axes.set_xlabel("box size sqrt(w * h) [px]")
    axes.set_ylabel("annotations")
    axes.set_title("Box size")
    save(figure, "box_size.png")

    figure = Figure(figsize=(6, 4))
    axes = figure.add_subplot()
    ok = (boxes[:, 2] > 0) & (boxes[:, 3] > 0)
    aspect = boxes[ok, 2] / boxes[ok, 3]
    if aspect.size:
        low, high = min(aspect.min(), 0.5), max(aspect.max(), 2.0)
        axes.hist(aspect, bins=np.geomspace(low, high * 1.0001, 40), color="#c44e52")
        axes.set_xscale("log")
    axes.set_xlabel("box aspect w / h")
    axes.set_ylabel("annotations")
    axes.set_title("Box aspect")
    save(figure, "box_aspect.png")

    if stats["visib_fract"] is not None:
        figure = Figure(figsize=(6, 4))
        axes = figure.add_subplot()
        axes.hist(columns.visib, bins=np.linspace(0, 1, 21), color="#8172b2")
        axes.set_xlabel("visib_fract (visible / amodal pixels)")
        axes.set_ylabel("annotations")
        axes.set_title("Visibility")
        save(figure, "visibility.png")

    figure = Figure(figsize=(5.5, 4.5))
    axes = figure.add_subplot()
    heat = axes.imshow(np.asarray(stats["box_centres"]), extent=(0, 1, 1, 0), cmap="viridis",
                       interpolation="nearest", aspect="auto")
    figure.colorbar(heat, ax=axes, label="annotations")
    axes.set_xlabel("box centre x / image width")
    axes.set_ylabel("box centre y / image height")
    axes.set_title("Box centres")
    save(figure, "box_centres.png")
    return written


def _markdown(dataset: CocoDataset, stats: dict[str, Any]) -> str:
    """``stats.md``: the summary as Markdown tables, linking the plots."""
    lines = [
        f"# Dataset statistics: {dataset.annotations_path.name}",
        "",
        f"{stats['images']} images, {stats['annotations']} annotations, "
        f"{stats['categories']} categories.",
        "",
        "## Objects per class",
        "",
        "| category | annotations |",
        "|---|---:|",
        *(f"| {name} | {count} |" for name, count in stats["objects_per_class"].items()),
        "",
        "## Distributions",
        "",
        "| quantity | min | p5 | median | mean | p95 | max |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    rows = [("objects per image", "objects_per_image"), ("box size sqrt(w h) [px]",
                                                          "box_size_px"),
            ("box width [px]", "box_width_px"), ("box height [px]", "box_height_px"),
            ("box aspect w / h", "box_aspect"), ("area [px]", "area_px"),
            ("visib_fract", "visib_fract")]
    for label, key in rows:
        summary = stats.get(key)
        if summary and "min" in summary:
            lines.append(f"| {label} | " + " | ".join(
                f"{summary[k]:.3g}" for k in ("min", "p5", "median", "mean", "p95", "max"))
                + " |")
    lines += ["", f"Images without objects: "
              f"{stats['objects_per_image'].get('images_without_objects', 0)}.", ""]
    if stats["notes"]:
        lines += ["## Notes", "", *(f"- {note}" for note in stats["notes"]), ""]
    lines += ["## Plots", "", *(f"![{name}]({name})" for name in stats.get("plots", [])), ""]
    return "\n".join(lines)
