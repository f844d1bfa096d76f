"""Tools a user runs on a COCO dataset on disk: validate, visualize, stats.

They read any COCO instances dataset (synthscene's own, or another generator's) through
:func:`~synthscene.io.reader.load_dataset`, and never import a rendering or physics backend.

- :func:`validate_dataset` (``synthscene validate``): schema, ids, files, masks, boxes, areas.
- :func:`visualize_dataset` (``synthscene visualize``): label overlays as PNG.
- :func:`write_stats` (``synthscene stats``): plots, ``stats.json``, ``stats.md``.
"""

from __future__ import annotations

from synthscene.io.reader import CocoDataset, load_dataset
from synthscene.tools.stats import compute_stats, write_stats
from synthscene.tools.validate import CHECKS, CheckResult, ValidationReport, validate_dataset
from synthscene.tools.visualize import visualize_dataset

__all__ = [
    "CHECKS", "CheckResult", "CocoDataset", "ValidationReport", "compute_stats", "load_dataset",
    "validate_dataset", "visualize_dataset", "write_stats",
]
