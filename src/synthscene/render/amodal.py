"""The amodal pass: every labelled object drawn alone, for amodal masks.

Each labelled object gets the rectangle of image pixels its bounding box can cover
(:func:`amodal_rect`; it may extend beyond the image, which gives truncation), and that rectangle
its own cell in a ``GL_R8`` atlas (:func:`pack`; several pages, drawn one after another, if they
do not fit; tiles if a rectangle is larger than the atlas). The object alone is drawn into its
cell with glViewport/glScissor and an off-axis projection shifted by the rectangle's integer
origin (:func:`cell_projection`): the same pixel sample positions as the full image, the same
near/far clipping and back-face culling, no depth test (the union of its front faces).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synthscene.core.state import AmodalMask, Camera
from synthscene.render.platform import ensure_gl_platform

ensure_gl_platform()

from OpenGL import GL  # noqa: E402  (the GL platform must be chosen first)

from synthscene.render.gl import Framebuffer, Program, VertexArray  # noqa: E402

__all__ = ["AMODAL_ATLAS_SIZE", "AmodalItem", "AmodalPass", "amodal_rect", "cell_projection",
           "pack"]

AMODAL_ATLAS_SIZE = (2048, 4096)
"""(width, height) in pixels of the GL_R8 atlas that the amodal pass draws every labelled object
into, each in its own cell (capped by the GL implementation's limits)."""



@dataclass(frozen=True, eq=False)
class AmodalItem:
    """One labelled object for the amodal pass.

    Attributes
    ----------
    instance_id : int
    camera_from_model_gl : (4, 4) float64
        Model (scaled mesh) to OpenGL camera frame, as the id pass computes it.
    meshes : list of VertexArray
        The vertex arrays the label pass draws for the object.
    corners : (8, 3) float64
        The mesh's bounding-box corners in the OpenCV camera frame, metres.
    """

    instance_id: int
    camera_from_model_gl: np.ndarray
    meshes: list[VertexArray]
    corners: np.ndarray


@dataclass(frozen=True)
class _Cell:
    """A tile of one object's image rectangle, placed in the atlas.

    ``x0, y0`` (image column and row of the tile's top-left pixel, may be negative), ``w, h``
    (pixels), ``ax, ay`` (GL coordinates of the cell's bottom-left corner in the atlas)."""

    instance_id: int
    x0: int
    y0: int
    w: int
    h: int
    ax: int
    ay: int


def amodal_rect(corners: np.ndarray, K: np.ndarray, znear: float, width: int,
                 height: int) -> tuple[int, int, int, int] | None:
    """The image pixels an object can cover, from its bounding box, as ``(x0, y0, x1, y1)``
    (x1, y1 exclusive; may extend beyond the image), or None if it cannot be seen at all.

    The box's projection contains the projection of the mesh inside it. It is widened by a
    pixel each way and clamped to ``[-W, 2W) x [-H, 2H)``; a box that crosses the near plane
    (its projection is unbounded) gets that whole region.
    """
    z = corners[:, 2]
    if np.all(z <= znear):
        return None
    if np.any(z <= znear):
        x0, y0, x1, y1 = -width, -height, 2 * width, 2 * height
    else:
        uvw = corners @ np.asarray(K, dtype=np.float64).T
        u, v = uvw[:, 0] / z, uvw[:, 1] / z
        # Pixel (column c, row r) has its centre at (c, r) in K's convention.
        x0, x1 = int(np.floor(u.min())) - 1, int(np.ceil(u.max())) + 2
        y0, y1 = int(np.floor(v.min())) - 1, int(np.ceil(v.max())) + 2
        x0, x1 = max(x0, -width), min(x1, 2 * width)
        y0, y1 = max(y0, -height), min(y1, 2 * height)
    if x1 <= x0 or y1 <= y0:
        return None
    return x0, y0, x1, y1


def pack(rects: dict[int, tuple[int, int, int, int]], atlas_w: int,
          atlas_h: int) -> list[list[_Cell]]:
    """Shelf-pack the rectangles (cut into tiles of at most ``atlas_w`` x ``atlas_h``) into
    atlas pages: tallest first, left to right, shelves bottom to top. Deterministic."""
    tiles = []
    for instance_id, (x0, y0, x1, y1) in rects.items():
        for ty in range(y0, y1, atlas_h):
            for tx in range(x0, x1, atlas_w):
                tiles.append((instance_id, tx, ty, min(atlas_w, x1 - tx), min(atlas_h, y1 - ty)))
    tiles.sort(key=lambda t: (-t[4], -t[3], t[0], t[2], t[1]))
    pages: list[list[_Cell]] = [[]]
    cursor_x = shelf_y = shelf_h = 0
    for instance_id, x0, y0, w, h in tiles:
        if cursor_x + w > atlas_w:
            cursor_x, shelf_y, shelf_h = 0, shelf_y + shelf_h, 0
        if shelf_y + h > atlas_h:
            pages.append([])
            cursor_x = shelf_y = shelf_h = 0
        pages[-1].append(_Cell(instance_id, x0, y0, w, h, cursor_x, shelf_y))
        cursor_x += w
        shelf_h = max(shelf_h, h)
    return [page for page in pages if page]


def cell_projection(projection: np.ndarray, cell: _Cell, width: int, height: int) -> np.ndarray:
    """The off-axis projection that renders image pixels ``[x0, x0 + w) x [y0, y0 + h)`` of the
    full ``width`` x ``height`` image into a ``w`` x ``h`` viewport, at the same sample positions.

    A full-image window coordinate ``x_w = (ndc_x + 1) W / 2`` must land at ``x_w - x0`` in the
    cell: ``ndc'_x = (W / w) ndc_x + (W - 2 x0) / w - 1``, applied to clip coordinates (times
    ``w_clip``); likewise in y with the cell's bottom edge ``H - y0 - h`` (GL's y points up). Depth
    is unchanged, so near/far clipping is the full image's.
    """
    bottom = height - cell.y0 - cell.h
    A = np.eye(4)
    A[0, 0], A[0, 3] = width / cell.w, (width - 2.0 * cell.x0) / cell.w - 1.0
    A[1, 1], A[1, 3] = height / cell.h, (height - 2.0 * bottom) / cell.h - 1.0
    return A @ projection


class AmodalPass:
    """Solo renders of labelled objects into an atlas (see the module notes; a current GL
    context is needed). One readback per page; the first page is queued by :meth:`submit` with
    the frame's other passes and read by :meth:`result`.

    Parameters
    ----------
    width, height : int
        Image size in pixels.

    Raises
    ------
    synthscene.render.gl.GLError
        If the atlas framebuffer is incomplete.
    """

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = int(width), int(height)
        limit = int(GL.glGetIntegerv(GL.GL_MAX_RENDERBUFFER_SIZE))
        viewport = np.atleast_1d(GL.glGetIntegerv(GL.GL_MAX_VIEWPORT_DIMS))
        self.atlas_w = min(AMODAL_ATLAS_SIZE[0], limit, int(viewport[0]))
        self.atlas_h = min(AMODAL_ATLAS_SIZE[1], limit, int(viewport[-1]))
        self._program = Program("label.vert", "amodal.frag")
        try:
            self._atlas = Framebuffer(self.atlas_w, self.atlas_h,
                                      [(GL.GL_R8, GL.GL_COLOR_ATTACHMENT0)])
        except Exception:
            self._program.delete()
            raise
        self._frame: tuple | None = None  # (items by id, projection, pages, rects) of a frame

    def resize(self, width: int, height: int) -> None:
        """Lay out the next frames for a ``width`` x ``height`` image (the atlas keeps its
        size; the last frame must have been read)."""
        self.width, self.height = int(width), int(height)

    def delete(self) -> None:
        """Free the GL resources (the context must be current). Idempotent."""
        self._atlas.delete()
        self._program.delete()

    def submit(self, camera: Camera, projection: np.ndarray, items: list[AmodalItem]) -> None:
        """Lay the objects out and queue the first atlas page (``projection``: the image's
        OpenGL projection, (4, 4) float64)."""
        rects = {}
        for item in items:
            rect = amodal_rect(item.corners, camera.K, camera.znear, self.width, self.height)
            if rect is not None:
                rects[item.instance_id] = rect
        pages = pack(rects, self.atlas_w, self.atlas_h) if rects else []
        self._frame = ({item.instance_id: item for item in items}, projection, pages, rects)
        if pages:
            self._draw(pages[0])

    def result(self) -> dict[int, AmodalMask]:
        """Wait for the pages, draw and read any further ones, and return every submitted
        object's mask (an empty ``(0, 0)`` mask for one that cannot be seen at all)."""
        items, _, pages, rects = self._frame
        self._frame = (items, _, [], rects)
        masks = {}
        for instance_id, (x0, y0, x1, y1) in rects.items():
            masks[instance_id] = np.zeros((y1 - y0, x1 - x0), dtype=bool)
        for index, page in enumerate(pages):
            if index > 0:
                self._draw(page)
            atlas = self._read(page)
            rows = atlas.shape[0]
            for cell in page:
                x0, y0 = rects[cell.instance_id][:2]
                crop = atlas[rows - cell.ay - cell.h:rows - cell.ay, cell.ax:cell.ax + cell.w]
                masks[cell.instance_id][cell.y0 - y0:cell.y0 - y0 + cell.h,
                                        cell.x0 - x0:cell.x0 - x0 + cell.w] = crop > 0
        out = {}
        for instance_id in items:
            if instance_id in rects:
                x0, y0 = rects[instance_id][:2]
                out[instance_id] = AmodalMask(x0=x0, y0=y0, mask=masks[instance_id])
            else:
                out[instance_id] = AmodalMask(x0=0, y0=0, mask=np.zeros((0, 0), dtype=bool))
        self._frame = None
        return out

    def _draw(self, page: list[_Cell]) -> None:
        items, projection, _, _ = self._frame
        used_w = max(c.ax + c.w for c in page)
        used_h = max(c.ay + c.h for c in page)
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, self._atlas.id)
        GL.glDrawBuffers(1, [GL.GL_COLOR_ATTACHMENT0])
        GL.glDisable(GL.GL_BLEND)
        GL.glDisable(GL.GL_DEPTH_TEST)
        GL.glDepthMask(GL.GL_FALSE)
        GL.glEnable(GL.GL_CULL_FACE)  # as in the id pass
        GL.glCullFace(GL.GL_BACK)
        GL.glFrontFace(GL.GL_CCW)
        GL.glDisable(GL.GL_MULTISAMPLE)
        GL.glEnable(GL.GL_SCISSOR_TEST)
        GL.glScissor(0, 0, used_w, used_h)
        GL.glClearBufferfv(GL.GL_COLOR, 0, np.zeros(4, dtype=np.float32))
        program = self._program
        program.use()
        for cell in page:
            item = items[cell.instance_id]
            GL.glViewport(cell.ax, cell.ay, cell.w, cell.h)
            GL.glScissor(cell.ax, cell.ay, cell.w, cell.h)
            program.set_matrix("projection",
                               cell_projection(projection, cell, self.width, self.height))
            program.set_matrix("camera_from_model", item.camera_from_model_gl)
            for mesh in item.meshes:
                mesh.draw()
        GL.glBindVertexArray(0)
        GL.glUseProgram(0)
        GL.glDisable(GL.GL_SCISSOR_TEST)
        GL.glDepthMask(GL.GL_TRUE)
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, 0)
        GL.glFlush()

    def _read(self, page: list[_Cell]) -> np.ndarray:
        """The used part of the atlas, (rows, columns) uint8, top row first."""
        used_w = max(c.ax + c.w for c in page)
        used_h = max(c.ay + c.h for c in page)
        return self._atlas.read(GL.GL_COLOR_ATTACHMENT0, GL.GL_RED, GL.GL_UNSIGNED_BYTE,
                                np.uint8, 1, used_w, used_h)
