"""The offscreen OpenGL platform: its choice, made once before OpenGL is imported, and the GL
context (:class:`GLContext`).

PyOpenGL binds its platform (EGL, OSMesa, GLX) when ``OpenGL`` is first imported, from the
``PYOPENGL_PLATFORM`` environment variable (PyOpenGL docs, "Platform selection"). synthscene
renders headless through EGL: Mesa's llvmpipe on a machine without a GPU, NVIDIA's EGL on a GPU
machine; both need no display. A user who must use OSMesa (no libEGL) sets
``PYOPENGL_PLATFORM=osmesa`` before starting Python; that choice is respected. This module is the
only place that reads or sets that variable.

It also gives Mesa's llvmpipe its number of rasteriser threads, ``LP_NUM_THREADS`` (Mesa docs,
"Environment variables"; read once, when the first GL context of the process is made), unless the
user set it: one less than the cores this process may run on, at least 1. Mesa's own default is
one per core; but synthscene's frame loop keeps one core busy with physics while the driver
rasterises the previous frame, and a rasteriser thread per core then takes time from it
(measured in ``docs/performance.md``). NVIDIA's driver ignores the variable.
"""

from __future__ import annotations

import os
import sys

DEFAULT_PLATFORM = "egl"


def default_raster_threads() -> int:
    """llvmpipe rasteriser threads synthscene asks for: usable cores - 1, at least 1."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        cores = os.cpu_count() or 1
    return max(1, cores - 1)


def ensure_gl_platform() -> str:
    """Select EGL unless the user chose a platform, and llvmpipe's thread count unless the user
    chose one (:func:`default_raster_threads`); return the platform in effect.

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
    os.environ.setdefault("LP_NUM_THREADS", str(default_raster_threads()))
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


class GLContext:
    """An offscreen GL context of the platform in effect, through pyrender's public platform
    classes (``pyrender.platforms.egl.EGLPlatform``, ``pyrender.platforms.osmesa.OSMesaPlatform``).

    A context manager: entering creates the context and makes it current, leaving destroys it.
    EGL takes the device ``EGL_DEVICE_ID`` (default 0), as pyrender's ``OffscreenRenderer`` does.

    Parameters
    ----------
    width, height : int
        Size in pixels of the platform's default surface (OSMesa draws into it; synthscene
        renders into framebuffers of its own).

    Raises
    ------
    RuntimeError, ValueError, ImportError, AssertionError
        On ``__enter__``, whatever the platform raises when no context can be made (a
        ``ValueError`` for an unsupported ``PYOPENGL_PLATFORM``).
    """

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = int(width), int(height)
        self._platform = None

    def __enter__(self) -> GLContext:
        platform = ensure_gl_platform()
        if platform == "egl":
            from pyrender.platforms import egl

            device = egl.get_device_by_index(int(os.environ.get("EGL_DEVICE_ID", "0")))
            made = egl.EGLPlatform(self.width, self.height, device=device)
        elif platform == "osmesa":
            from pyrender.platforms.osmesa import OSMesaPlatform

            made = OSMesaPlatform(self.width, self.height)
        else:
            raise ValueError(f"unsupported PYOPENGL_PLATFORM {platform!r} (egl or osmesa)")
        made.init_context()
        made.make_current()
        self._platform = made
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    @property
    def is_open(self) -> bool:
        return self._platform is not None

    def make_current(self) -> None:
        """Make the context current on this thread."""
        self._platform.make_current()

    def close(self) -> None:
        """Destroy the context. Idempotent."""
        if self._platform is not None:
            self._platform.delete_context()
            self._platform = None


def gl_strings() -> tuple[str, str, str]:
    """The vendor, renderer and version strings of the GL this platform gives.

    Opens a small :class:`GLContext`, reads ``GL_VENDOR``, ``GL_RENDERER`` and ``GL_VERSION``
    and closes it: which driver renders (``"llvmpipe (LLVM 15.0.7, 256 bits)"`` on a CPU,
    ``"NVIDIA H200/PCIe/SSE2"`` on an NVIDIA GPU).

    Returns
    -------
    (vendor, renderer, version) : tuple of str

    Raises
    ------
    RuntimeError, ValueError, ImportError, AssertionError
        As :class:`GLContext` when no context can be made.
    """
    with GLContext(8, 8):
        from OpenGL import GL

        return tuple(GL.glGetString(name).decode()  # type: ignore[return-value]
                     for name in (GL.GL_VENDOR, GL.GL_RENDERER, GL.GL_VERSION))
