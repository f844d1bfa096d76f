"""Where the files synthscene ships live: the bundled ``scenes/`` and ``assets/`` folders.

In a source checkout (and an editable install) they are the repository's top-level ``scenes/``
and ``assets/``; in a wheel they are packaged as ``synthscene/_bundled/scenes`` and
``synthscene/_bundled/assets`` (see ``[tool.setuptools]`` in pyproject.toml).
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent

DEFAULT_SCENE = "tabletop.yaml"


def bundled_dir(name: str) -> Path:
    """Return the bundled folder ``name`` (``"scenes"`` or ``"assets"``).

    Raises
    ------
    FileNotFoundError
        If the installation lacks it.
    """
    for candidate in (_PACKAGE_DIR / "_bundled" / name, _PACKAGE_DIR.parents[1] / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"synthscene's bundled '{name}' folder is missing from this install")


def default_scene_path() -> Path:
    """The bundled default scenario, ``scenes/tabletop.yaml``."""
    return bundled_dir("scenes") / DEFAULT_SCENE
