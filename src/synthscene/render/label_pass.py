"""The separate label pass: instance ids, camera-z depth and (optionally) surface normals.

Used when the colour pass cannot write the label images itself (MSAA, normals asked). Every
drawn thing is rasterised once more into a single-sampled framebuffer of its own: a ``GL_R32I``
instance-id image (every pixel exactly the id of the nearest surface at the pixel centre, never
blended, not limited to 255), a ``GL_R32F`` image of camera-z depth in metres, and with normals
a ``GL_RGBA32F`` image of each fragment's camera-frame surface normal
(``render/shaders/label.frag.glsl``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from synthscene.render.platform import ensure_gl_platform

ensure_gl_platform()

from OpenGL import GL  # noqa: E402  (the GL platform must be chosen first)

from synthscene.render.gl import (  # noqa: E402
    Framebuffer,
    Program,
    VertexArray,
    opaque_pass_state,
    read_labels,
)

__all__ = ["LabelPass"]


class LabelPass:
    """The id/depth(/normals) framebuffer and program (a current GL context is needed).

    Parameters
    ----------
    width, height : int
        Image size in pixels.
    normals : bool
        Also render camera-frame surface normals.

    Raises
    ------
    synthscene.render.gl.GLError
        If the framebuffer is incomplete.
    """

    def __init__(self, width: int, height: int, normals: bool) -> None:
        self.width, self.height, self.normals = int(width), int(height), bool(normals)
        self._program = Program("label.vert", "label.frag",
                                {"WITH_NORMALS": 1} if self.normals else None)
        try:
            self._framebuffer = self._make_framebuffer()
        except Exception:
            self._program.delete()
            raise

    def _make_framebuffer(self) -> Framebuffer:
        attachments = [(GL.GL_R32I, GL.GL_COLOR_ATTACHMENT0),
                       (GL.GL_R32F, GL.GL_COLOR_ATTACHMENT1),
                       (GL.GL_DEPTH_COMPONENT24, GL.GL_DEPTH_ATTACHMENT)]
        if self.normals:
            attachments.append((GL.GL_RGBA32F, GL.GL_COLOR_ATTACHMENT2))
        return Framebuffer(self.width, self.height, attachments)

    def resize(self, width: int, height: int) -> None:
        """Draw the next passes at ``width`` x ``height`` pixels, into the lower-left corner of
        the framebuffer, which grows (a new one) only for a larger size (the same program; the
        last pass must have been read).

        Raises
        ------
        synthscene.render.gl.GLError
            If the framebuffer is incomplete.
        """
        width, height = int(width), int(height)
        if width > self._framebuffer.width or height > self._framebuffer.height:
            self._framebuffer.delete()
            self.width = max(width, self._framebuffer.width)
            self.height = max(height, self._framebuffer.height)
            self._framebuffer = self._make_framebuffer()
        self.width, self.height = width, height

    def draw(self, camera_from_world: np.ndarray, projection: np.ndarray,
             draws: Sequence[tuple[int, np.ndarray, Sequence[VertexArray]]]) -> None:
        """Queue the pass of one frame (the GL driver starts it on glFlush).

        Parameters
        ----------
        camera_from_world : (4, 4) float64
            View matrix, OpenGL camera frame.
        projection : (4, 4) float64
            OpenGL projection.
        draws : sequence of (int, (4, 4) float64, sequence of VertexArray)
            Instance id (0: backdrop), world_from_model and the vertex arrays of each thing.
        """
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, self._framebuffer.id)
        attachments = [GL.GL_COLOR_ATTACHMENT0, GL.GL_COLOR_ATTACHMENT1]
        if self.normals:
            attachments.append(GL.GL_COLOR_ATTACHMENT2)
        GL.glDrawBuffers(len(attachments), attachments)
        GL.glViewport(0, 0, self.width, self.height)
        # Cull back faces exactly as the colour pass does (counter-clockwise front faces), so a
        # pixel that shows the background through an open mesh is background in the labels.
        opaque_pass_state()
        GL.glClearBufferiv(GL.GL_COLOR, 0, np.zeros(4, dtype=np.int32))
        GL.glClearBufferfv(GL.GL_COLOR, 1, np.zeros(4, dtype=np.float32))
        if self.normals:
            GL.glClearBufferfv(GL.GL_COLOR, 2, np.zeros(4, dtype=np.float32))
        GL.glClearBufferfv(GL.GL_DEPTH, 0, np.ones(1, dtype=np.float32))
        program = self._program
        program.use()
        program.set_matrix("projection", projection)
        for instance_id, world_from_model, meshes in draws:
            program.set_matrix("camera_from_model", camera_from_world @ world_from_model)
            GL.glUniform1i(program.location("instance_id"), int(instance_id))
            for mesh in meshes:
                mesh.draw()
        GL.glBindVertexArray(0)
        GL.glUseProgram(0)
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, 0)
        GL.glFlush()

    def read(self) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Wait for the pass; return ids (H, W) int32, depth (H, W) float32 metres (0 where
        nothing was hit) and normals (H, W, 3) float32 (None unless ``normals``), top row
        first."""
        ids, depth = read_labels(self._framebuffer, GL.GL_COLOR_ATTACHMENT0, self.width,
                                 self.height)
        normals = None
        if self.normals:
            rgba = self._framebuffer.read(GL.GL_COLOR_ATTACHMENT2, GL.GL_RGBA, GL.GL_FLOAT,
                                          np.float32, 4, self.width, self.height)
            normals = np.ascontiguousarray(rgba[:, :, :3])
        return ids, depth, normals

    def delete(self) -> None:
        """Free the GL resources (the context must be current). Idempotent."""
        self._framebuffer.delete()
        self._program.delete()
