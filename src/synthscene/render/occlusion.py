"""Screen-space ambient occlusion: :class:`OcclusionPass`.

Design (``docs/light.md``, "Ambient occlusion"): before the colour pass of a frame with
:class:`~synthscene.core.state.AmbientOcclusion`, two small passes at a quarter of the image's
resolution along each axis (:data:`DOWNSAMPLE`, rounded up) run on the GL driver, queued like
the colour pass:

1. **Pre-pass** (``label.vert`` + ``ao_prepass.frag``): every opaque item's camera-frame face
   normal and camera-z depth, into an ``RGBA32F`` texture;
2. **Occlusion** (``fullscreen.vert`` + ``ao.frag``): per pixel, 8 taps (a spiral of 4 and
   the same turned by 45 degrees) of the
   frame's radius projected at the pixel's depth, the quad's 4 pixels a quarter turn apart
   from an angle drawn per quad (a fixed function of its position); each occluding tap darkens
   by its cosine to the normal with a falloff to 0 at the radius, times the frame's strength:
   the visibility of the ambient light, in ``[0, 1]``, into an 8-bit ``GL_R8`` image; then the
   depth-aware mean over the quad (exchanged through fine derivatives, no pass of its own),
   which turns the pattern of turns into fine noise.

The colour pass then binds the result to :data:`TEXTURE_UNIT` and its lit shader multiplies
the ambient term (only that: direct light is not occluded; an environment term would be
multiplied too) by the visibility read at each fragment with bilinear filtering
(``shaders/occlusion.glsl``). Labels never change: the colour pass writes its ids and depth from
the same fragments as before.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Sequence

import numpy as np

from synthscene.core.state import AmbientOcclusion
from synthscene.render.platform import ensure_gl_platform

ensure_gl_platform()

from OpenGL import GL  # noqa: E402  (the GL platform must be chosen first)

from synthscene.render.coarse_meshes import CoarseMeshes  # noqa: E402
from synthscene.render.gl import GLError, Program, VertexArray, opaque_pass_state  # noqa: E402

__all__ = ["DEFINE", "DOWNSAMPLE", "KEPT_SIZES", "TEXTURE_UNIT", "OcclusionPass"]

TEXTURE_UNIT = 11
"""Texture unit of the occlusion image in the lit programs (material textures use 0-6; the
environment and the shadow maps take units above it)."""

COARSE_CELLS = 8
"""The pre-pass draws meshes of at least :data:`COARSE_MIN_TRIANGLES` triangles as their
stand-ins with this many grid cells along the longest edge
(:mod:`~synthscene.render.coarse_meshes`): within about 1/8 of an object's size, against an
occlusion radius of about its size, at a quarter of the resolution."""
COARSE_MIN_TRIANGLES = 256

DOWNSAMPLE = 4
"""The passes run at ``ceil(width / DOWNSAMPLE)`` x ``ceil(height / DOWNSAMPLE)`` pixels: an
occlusion radius of 8 to 15 cm seen from about a metre spans 30 to 60 pixels of a 640 x 480
image, and the estimate is smooth across it; at 4 the two passes cost about a quarter of what
they cost at 2 (``docs/light.md``, "Cost")."""

KEPT_SIZES = 8
"""Image sizes whose low-resolution targets an :class:`OcclusionPass` keeps
(:meth:`OcclusionPass.resize`: a lens's render changes size from frame to frame among a few
sizes)."""

DEFINE = "AMBIENT_OCCLUSION"
"""The define that builds a lit program with ``ambient_visibility()`` reading the image."""


class _Target:
    """A framebuffer whose colour attachment 0 is a texture (sampled by the next pass), with an
    optional depth renderbuffer."""

    def __init__(self, width: int, height: int, internal_format: int, fmt: int,
                 depth: bool, linear: bool = False) -> None:
        self.width, self.height = width, height
        self.texture = int(GL.glGenTextures(1))
        GL.glBindTexture(GL.GL_TEXTURE_2D, self.texture)
        GL.glTexImage2D(GL.GL_TEXTURE_2D, 0, internal_format, width, height, 0, fmt,
                        GL.GL_FLOAT, None)
        flt = GL.GL_LINEAR if linear else GL.GL_NEAREST
        for parameter, value in ((GL.GL_TEXTURE_MIN_FILTER, flt),
                                 (GL.GL_TEXTURE_MAG_FILTER, flt),
                                 (GL.GL_TEXTURE_WRAP_S, GL.GL_CLAMP_TO_EDGE),
                                 (GL.GL_TEXTURE_WRAP_T, GL.GL_CLAMP_TO_EDGE)):
            GL.glTexParameteri(GL.GL_TEXTURE_2D, parameter, value)
        GL.glBindTexture(GL.GL_TEXTURE_2D, 0)
        self.id = int(GL.glGenFramebuffers(1))
        self._renderbuffer = None
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, self.id)
        GL.glFramebufferTexture2D(GL.GL_FRAMEBUFFER, GL.GL_COLOR_ATTACHMENT0, GL.GL_TEXTURE_2D,
                                  self.texture, 0)
        if depth:
            self._renderbuffer = int(GL.glGenRenderbuffers(1))
            GL.glBindRenderbuffer(GL.GL_RENDERBUFFER, self._renderbuffer)
            GL.glRenderbufferStorage(GL.GL_RENDERBUFFER, GL.GL_DEPTH_COMPONENT24, width, height)
            GL.glFramebufferRenderbuffer(GL.GL_FRAMEBUFFER, GL.GL_DEPTH_ATTACHMENT,
                                         GL.GL_RENDERBUFFER, self._renderbuffer)
        status = GL.glCheckFramebufferStatus(GL.GL_FRAMEBUFFER)
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, 0)
        if status != GL.GL_FRAMEBUFFER_COMPLETE:
            self.delete()
            raise GLError(f"an occlusion framebuffer is incomplete (GL status {status:#x})")

    def bind(self) -> None:
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, self.id)
        GL.glDrawBuffers(1, [GL.GL_COLOR_ATTACHMENT0])
        GL.glViewport(0, 0, self.width, self.height)

    def delete(self) -> None:
        if self.id is not None:
            GL.glDeleteFramebuffers(1, [self.id])
            GL.glDeleteTextures([self.texture])
            if self._renderbuffer is not None:
                GL.glDeleteRenderbuffers(1, [self._renderbuffer])
            self.id = None


def _low_resolution_targets(width: int, height: int) -> tuple[_Target, _Target]:
    """The pre-pass's normals and depth, and the visibility image, for a ``width`` x
    ``height`` image (at :data:`DOWNSAMPLE` times fewer pixels along each axis, rounded up)."""
    w, h = -(-width // DOWNSAMPLE), -(-height // DOWNSAMPLE)
    geometry = _Target(w, h, GL.GL_RGBA32F, GL.GL_RGBA, depth=True)
    try:
        # 8 bits: the lit shader's bilinear lookup gathers one byte per texel.
        return geometry, _Target(w, h, GL.GL_R8, GL.GL_RED, depth=False, linear=True)
    except Exception:
        geometry.delete()
        raise


class OcclusionPass:
    """The ambient-occlusion image of a frame, at low resolution (a current GL context is
    needed for its whole life).

    Parameters
    ----------
    width, height : int
        The colour image's size in pixels; the passes run at :data:`DOWNSAMPLE` times fewer
        pixels along each axis (rounded up).

    Raises
    ------
    synthscene.render.gl.GLError
        If a framebuffer is incomplete.
    """

    def __init__(self, width: int, height: int) -> None:
        self._sizes: OrderedDict[tuple[int, int], tuple[_Target, _Target]] = OrderedDict()
        self._programs: list[Program] = []
        try:
            self._prepass = Program("label.vert", "ao_prepass.frag")
            self._programs.append(self._prepass)
            self._occlusion = Program("fullscreen.vert", "ao.frag")
            self._programs.append(self._occlusion)
            self.resize(width, height)
        except Exception:
            self.delete()
            raise
        self._coarse = CoarseMeshes(COARSE_CELLS, COARSE_MIN_TRIANGLES)
        self._empty = int(GL.glGenVertexArrays(1))  # full-screen passes read no attributes
        self._projection = np.eye(4)

    def resize(self, width: int, height: int) -> None:
        """Draw the next frames for a ``width`` x ``height`` image: the low-resolution targets
        of that size, made on its first use (those of the last :data:`KEPT_SIZES` sizes are
        kept; the programs and the coarse stand-ins serve every size).

        Raises
        ------
        synthscene.render.gl.GLError
            If a framebuffer is incomplete.
        """
        size = (int(width), int(height))
        targets = self._sizes.pop(size, None)
        if targets is None:
            targets = _low_resolution_targets(*size)
        self._sizes[size] = targets
        while len(self._sizes) > KEPT_SIZES:
            for target in self._sizes.popitem(last=False)[1]:
                target.delete()
        self.width, self.height = size
        self._geometry, self._visibility = targets

    def draw(self, draws: Iterable[tuple[np.ndarray, Sequence[VertexArray]]],
             camera_from_world: np.ndarray, projection: np.ndarray,
             occlusion: AmbientOcclusion) -> None:
        """Queue the two passes of one frame, then bind the result to :data:`TEXTURE_UNIT`
        (the framebuffer binding, viewport, blending and depth test are left changed).

        Parameters
        ----------
        draws : iterable of ((4, 4) float64, sequence of VertexArray)
            ``world_from_model`` and the vertex arrays of every opaque item.
        camera_from_world : (4, 4) float64
            View matrix, OpenGL camera frame.
        projection : (4, 4) float64
            The colour pass's OpenGL projection.
        occlusion : AmbientOcclusion
            The frame's strength and radius (metres).
        """
        self._projection = np.asarray(projection, dtype=np.float64)
        # 1. normals and depth
        self._geometry.bind()
        opaque_pass_state()
        GL.glClearBufferfv(GL.GL_COLOR, 0, np.zeros(4, dtype=np.float32))
        GL.glClearBufferfv(GL.GL_DEPTH, 0, np.ones(1, dtype=np.float32))
        program = self._prepass
        program.use()
        program.set_matrix("projection", projection)
        self._coarse.forget_deleted()
        for world_from_model, meshes in draws:
            program.set_matrix("camera_from_model", camera_from_world @ world_from_model)
            for mesh in meshes:
                self._coarse.get(mesh).draw()
        # 2. occlusion
        GL.glDisable(GL.GL_DEPTH_TEST)
        GL.glDisable(GL.GL_CULL_FACE)
        GL.glBindVertexArray(self._empty)
        GL.glActiveTexture(GL.GL_TEXTURE0)
        self._visibility.bind()
        program = self._occlusion
        program.use()
        GL.glBindTexture(GL.GL_TEXTURE_2D, self._geometry.texture)
        GL.glUniform1i(program.location("normal_depth"), 0)
        p = self._projection
        GL.glUniform4f(program.location("proj_info"), p[0, 0], p[1, 1], p[0, 2], p[1, 2])
        GL.glUniform1f(program.location("radius"), float(occlusion.radius))
        GL.glUniform1f(program.location("strength"), float(occlusion.strength))
        GL.glDrawArrays(GL.GL_TRIANGLES, 0, 3)
        GL.glBindTexture(GL.GL_TEXTURE_2D, 0)
        GL.glBindVertexArray(0)
        GL.glUseProgram(0)
        GL.glActiveTexture(GL.GL_TEXTURE0 + TEXTURE_UNIT)
        GL.glBindTexture(GL.GL_TEXTURE_2D, self._visibility.texture)
        GL.glActiveTexture(GL.GL_TEXTURE0)
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, 0)

    def set_uniforms(self, program: Program) -> None:
        """Set the occlusion uniforms of a bound lit program built with :data:`DEFINE`, for the
        last :meth:`draw`."""
        GL.glUniform1i(program.location("ao_map"), TEXTURE_UNIT)
        GL.glUniform2f(program.location("ao_scale"), 1.0 / self.width, 1.0 / self.height)

    def read(self) -> np.ndarray:
        """Wait for the last :meth:`draw` and return its visibility image, (h, w) float32 in
        [0, 1] at :data:`DOWNSAMPLE` times fewer pixels along each axis, top row first (1 where
        nothing is), for inspection."""
        out = np.empty((self._visibility.height, self._visibility.width), dtype=np.float32)
        GL.glBindFramebuffer(GL.GL_READ_FRAMEBUFFER, self._visibility.id)
        GL.glReadBuffer(GL.GL_COLOR_ATTACHMENT0)
        GL.glPixelStorei(GL.GL_PACK_ALIGNMENT, 1)
        GL.glReadPixels(0, 0, self._visibility.width, self._visibility.height, GL.GL_RED,
                        GL.GL_FLOAT, out)
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, 0)
        return np.ascontiguousarray(out[::-1])

    def delete(self) -> None:
        """Free every GL resource (the context must be current). Idempotent."""
        for targets in self._sizes.values():
            for target in targets:
                target.delete()
        for program in self._programs:
            program.delete()
        self._sizes.clear()
        self._programs = []
        if getattr(self, "_coarse", None) is not None:
            self._coarse.delete()
        if getattr(self, "_empty", None) is not None:
            GL.glDeleteVertexArrays(1, [self._empty])
            self._empty = None
