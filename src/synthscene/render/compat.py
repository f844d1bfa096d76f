"""Compatibility shims for third-party libraries, in one place.

pyrender 0.1.45 (the latest release, pinned in pyproject.toml) refers to ``np.infty``, an alias
that NumPy 2.0 removed (NumPy 2.0 release notes, "Python API cleanup", NEP 52). Without it
``pyrender.Mesh.bounds``, ``pyrender.Scene.bounds`` and directional-light shadows raise
``AttributeError``. :func:`patch_pyrender_numpy2` restores the alias as ``np.inf``, which is what it
always meant. It is applied by the modules of :mod:`synthscene.render` that import pyrender,
before pyrender is used, and tested in ``tests/test_render.py::test_numpy2_infty_shim``.
"""

from __future__ import annotations

import numpy as np


def patch_pyrender_numpy2() -> None:
    """Restore ``numpy.infty`` (= ``numpy.inf``) if this NumPy lacks it. Idempotent."""
    if "infty" not in np.__dict__:
        np.infty = np.inf  # type: ignore[attr-defined]
