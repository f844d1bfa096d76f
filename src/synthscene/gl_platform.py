"""Choice of the OpenGL platform for offscreen rendering, made once, before OpenGL is imported.

PyOpenGL binds its platform (EGL, OSMesa, GLX) when ``OpenGL`` is first imported, from the
``PYOPENGL_PLATFORM`` environment variable (PyOpenGL docs, "Platform selection"). synthscene
renders headless through EGL: Mesa's llvmpipe on a machine without a GPU, NVIDIA's EGL on a GPU
machine; both need no display. A user who must use OSMesa (no libEGL) sets
``PYOPENGL_PLATFORM=osmesa`` before starting Python; that choice is respected. This module is the
only place that reads or sets that variable.
"""

from __future__ import annotations

import os
import sys

DEFAULT_PLATFORM = "egl"


def ensure_gl_platform() -> str:
    """Select EGL unless the user chose a platform; return the platform in effect.

    Returns
    -------
    str
        The value of ``PYOPENGL_PLATFORM`` in effect (``"egl"`` unless the user set it).

    Notes
    -----
    If ``OpenGL`` was already imported with another platform, this cannot change it; the value the
    process started with is returned.
    """
    if "OpenGL" not in sys.modules:
        os.environ.setdefault("PYOPENGL_PLATFORM", DEFAULT_PLATFORM)
    return os.environ.get("PYOPENGL_PLATFORM", "")


def platform_hint() -> str:
    """A sentence for error messages when no GL context could be made."""
    if not os.environ.get("PYOPENGL_PLATFORM"):
        return ("OpenGL (or pyrender) was imported before synthscene with no PYOPENGL_PLATFORM "
                "set, so it is bound to a windowing platform: import synthscene first, or set "
                "PYOPENGL_PLATFORM=egl before starting Python.")
    return ("synthscene needs libEGL (Mesa's llvmpipe on a CPU, NVIDIA's driver on a GPU); on "
            "Debian/Ubuntu: apt-get install libegl1 libgl1-mesa-dri. Without EGL, set "
            "PYOPENGL_PLATFORM=osmesa (needs libosmesa6).")
