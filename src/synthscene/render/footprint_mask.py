"""The footprint mask of a render: the pixels outside a camera's footprint
(:attr:`synthscene.core.state.Camera.footprint`) are set to the nearest depth before the colour
pass, so that every fragment there fails the depth test before it is shaded.

A distorted camera is drawn as a pinhole render that covers its frame
(:mod:`synthscene.labels.lens_warp`); the frame's outline through the lens is a curved polygon
inside that rectangle, and the warp never reads the pixels beyond it (a tenth of a barrel
lens's render, a sixth of a fisheye's). llvmpipe runs the fragment shader on 4x4 blocks and
skips a block once the early depth test has failed for all of its pixels.

The polygon is star-shaped about the camera's principal point (a radial lens maps the frame's
rectangle along rays from the axis, monotonically), so its outside is the union of one wedge per
edge: the edge and the same edge pushed out far along the rays from the centre. The wedges are
drawn in normalised device coordinates at depth 0, colour writes off, after the clear.
"""

from __future__ import annotations

import numpy as np

from synthscene.render.platform import ensure_gl_platform

ensure_gl_platform()

from OpenGL import GL  # noqa: E402  (the GL platform must be chosen first)

from synthscene.render.gl import Program  # noqa: E402

__all__ = ["FootprintMask", "outside_wedges"]

REACH = 64.0
"""How far, in multiples of its distance from the centre, each wedge reaches (beyond the
viewport: the rasteriser clips it)."""


def outside_wedges(polygon: np.ndarray, centre: np.ndarray, width: int,
                   height: int) -> np.ndarray:
    """Triangles covering the outside of a star-shaped polygon, in normalised device
    coordinates of a ``width`` x ``height`` image.

    Parameters
    ----------
    polygon : (n, 2) float
        Pixel positions (OpenCV: pixel centres at integers, y down), in order around the
        polygon, n >= 3.
    centre : (2,) float
        A pixel position about which the polygon is star-shaped.
    width, height : int
        The image's size in pixels.

    Returns
    -------
    (6 n, 2) float32
        Two triangles per edge: the edge and its copy pushed ``REACH`` times as far from the
        centre.
    """
    p = np.asarray(polygon, dtype=np.float64)
    c = np.asarray(centre, dtype=np.float64)
    q = np.roll(p, -1, axis=0)
    far_p, far_q = c + (p - c) * REACH, c + (q - c) * REACH
    triangles = np.stack([p, q, far_q, p, far_q, far_p], axis=1).reshape(-1, 2)
    ndc = np.empty_like(triangles)
    ndc[:, 0] = (triangles[:, 0] + 0.5) / width * 2.0 - 1.0
    ndc[:, 1] = 1.0 - (triangles[:, 1] + 0.5) / height * 2.0
    return ndc.astype(np.float32)


class FootprintMask:
    """Draws the outside of a footprint at depth 0 (a current GL context is needed for its whole
    life)."""

    def __init__(self) -> None:
        self._program = Program("footprint.vert", "footprint.frag")
        self._vertex_array = int(GL.glGenVertexArrays(1))
        self._buffer = int(GL.glGenBuffers(1))
        GL.glBindVertexArray(self._vertex_array)
        GL.glBindBuffer(GL.GL_ARRAY_BUFFER, self._buffer)
        GL.glEnableVertexAttribArray(0)
        GL.glVertexAttribPointer(0, 2, GL.GL_FLOAT, GL.GL_FALSE, 0, None)
        GL.glBindVertexArray(0)
        GL.glBindBuffer(GL.GL_ARRAY_BUFFER, 0)

    def draw(self, polygon: np.ndarray, centre: np.ndarray, width: int, height: int) -> None:
        """Set the depth of every pixel outside ``polygon`` to 0 in the bound framebuffer, whose
        viewport is ``width`` x ``height`` (colour and depth writes, depth function and face
        culling are left as the colour pass sets them: writes on, ``GL_LESS``)."""
        triangles = outside_wedges(polygon, centre, width, height)
        GL.glColorMask(GL.GL_FALSE, GL.GL_FALSE, GL.GL_FALSE, GL.GL_FALSE)
        GL.glDepthFunc(GL.GL_ALWAYS)
        GL.glDepthMask(GL.GL_TRUE)
        GL.glDisable(GL.GL_CULL_FACE)
        self._program.use()
        GL.glBindVertexArray(self._vertex_array)
        GL.glBindBuffer(GL.GL_ARRAY_BUFFER, self._buffer)
        GL.glBufferData(GL.GL_ARRAY_BUFFER, triangles.nbytes, triangles, GL.GL_STREAM_DRAW)
        GL.glDrawArrays(GL.GL_TRIANGLES, 0, len(triangles))
        GL.glBindBuffer(GL.GL_ARRAY_BUFFER, 0)
        GL.glBindVertexArray(0)
        GL.glUseProgram(0)
        GL.glColorMask(GL.GL_TRUE, GL.GL_TRUE, GL.GL_TRUE, GL.GL_TRUE)
        GL.glDepthFunc(GL.GL_LESS)

    def delete(self) -> None:
        """Free the GL objects (the context must be current). Idempotent."""
        if self._program is not None:
            self._program.delete()
            GL.glDeleteBuffers(1, [self._buffer])
            GL.glDeleteVertexArrays(1, [self._vertex_array])
            self._program = None
