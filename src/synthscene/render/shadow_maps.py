"""Shadow maps: a depth-only pass per shadowed light (per face of a point light), drawn with our
own GL objects, and the uniforms with which the lit shader (``shaders/shadows.glsl``) looks them
up.

:class:`ShadowMaps` owns two depth textures of layers (``GL_TEXTURE_2D_ARRAY``,
``GL_DEPTH_COMPONENT24``, compared in hardware, nearest texel: the shader's taps filter, two
of four a pixel):

* ``shadow_maps``: one :data:`MAP_PX` square layer per shadowed directional light, then one
  per shadowed spot light, in the order of the frame's lights of that kind;
* ``shadow_faces``: six :data:`FACE_PX` square layers per shadowed point light.

Where each map looks is fitted per frame (:mod:`synthscene.render.shadow_fit`). The objects
cast shadows; the backdrop (ground, walls) only receives them: a room's walls would otherwise
shut out every light outside the room. Large casters are drawn as coarse stand-ins
(:data:`COARSE_CELLS`). Casters are drawn back faces only (front faces culled,
as the colour pass culls back faces: lit faces never compare against themselves), with a
polygon offset (the constant and slope-scaled depth bias); the lit shader adds a normal offset.
Layers grow as a frame needs more and are reused frame to frame, so memory is flat over a run.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from synthscene.core.state import Light
from synthscene.render.platform import ensure_gl_platform
from synthscene.render.shadow_fit import (
    LightView,
    box_corners,
    directional_view,
    frustum_corners,
    point_views,
    spot_view,
)

ensure_gl_platform()

from OpenGL import GL  # noqa: E402  (the GL platform must be chosen first)

from synthscene.render.coarse_meshes import CoarseMeshes  # noqa: E402
from synthscene.render.gl import Program, VertexArray, opaque_pass_state  # noqa: E402

__all__ = ["FACE_PX", "MAP_PX", "SHADOWED_KINDS", "ShadowFrame", "ShadowMaps",
           "in_map_order"]

MAP_PX = 512
"""Side of a directional or spot light's map, texels."""
FACE_PX = 256
"""Side of each of a point light's six maps, texels."""
POLYGON_OFFSET = (1.5, 2.0)
"""``glPolygonOffset(factor, units)`` of the casters: slope-scaled and constant depth bias."""

COARSE_CELLS = 16
"""Casters of at least :data:`COARSE_MIN_TRIANGLES` triangles are drawn into the maps as their
stand-ins with this many grid cells along the longest edge
(:mod:`~synthscene.render.coarse_meshes`): on a smooth surface within a fraction of a
millimetre of the mesh; the thin-walled bundled meshes (the mug) have fewer triangles and are
drawn as they are."""
COARSE_MIN_TRIANGLES = 1024

SHADOWED_KINDS = ("directional", "spot", "point")
"""The order of a frame's shadowed lights: the order of their maps (directional then spot
lights a layer each of ``shadow_maps``, then point lights six each of ``shadow_faces``), which
the colour pass's light list follows (:func:`in_map_order`)."""

SHADOW_UNITS = (14, 15)
"""Texture units of ``shadow_maps`` and ``shadow_faces`` in the colour pass (above those of
the material textures)."""


@dataclass(frozen=True, eq=False)
class ShadowFrame:
    """A frame's shadow maps, drawn, and what the colour pass needs to look them up.

    Attributes
    ----------
    counts : (3,) tuple of int
        Shadowed (directional, point, spot) lights: the first directional lights of the colour
        pass's light list, and its first positional ones, spot then point lights. Directional
        then spot lights have a layer each of ``shadow_maps``; point lights six layers each of
        ``shadow_faces``.
    uniforms : tuple of (str, value)
        Uniform names of ``shaders/shadows.glsl`` and their values (float32 matrices, floats,
        sampler units).
    textures : (2,) tuple of int
        GL names of the ``shadow_maps`` and ``shadow_faces`` textures, bound to
        :data:`SHADOW_UNITS`.
    """

    counts: tuple[int, int, int]
    uniforms: tuple
    textures: tuple[int, int]

    def defines(self) -> dict[str, int]:
        """The defines of a lit program built for this frame's shadows."""
        directional, point, spot = self.counts
        out = {"SHADOW_MAPS": 1, "SHADOW_LAYER_COUNT": max(1, directional + spot),
               "SHADOWED_DIRECTIONAL": directional, "SHADOWED_SPOT": spot,
               "SHADOWED_POINT": point}
        if point:
            out.update(POINT_SHADOWS=1, SHADOW_FACE_COUNT=6 * point)
        return out

    def bind(self) -> None:
        """Bind the two textures to :data:`SHADOW_UNITS` (leaves unit 0 active)."""
        for unit, texture in zip(SHADOW_UNITS, self.textures):
            GL.glActiveTexture(GL.GL_TEXTURE0 + unit)
            GL.glBindTexture(GL.GL_TEXTURE_2D_ARRAY, texture)
        GL.glActiveTexture(GL.GL_TEXTURE0)


class _LayeredDepth:
    """A ``GL_TEXTURE_2D_ARRAY`` of depth layers that grows (in powers of two) on demand."""

    def __init__(self, size: int) -> None:
        self.size, self.layers, self.id = int(size), 0, None

    def ensure(self, layers: int) -> None:
        if layers <= self.layers:
            return
        self.delete()
        self.layers = 1 << max(0, int(layers) - 1).bit_length()
        self.id = int(GL.glGenTextures(1))
        GL.glBindTexture(GL.GL_TEXTURE_2D_ARRAY, self.id)
        GL.glTexImage3D(GL.GL_TEXTURE_2D_ARRAY, 0, GL.GL_DEPTH_COMPONENT24, self.size, self.size,
                        self.layers, 0, GL.GL_DEPTH_COMPONENT, GL.GL_FLOAT, None)
        for name, value in ((GL.GL_TEXTURE_MIN_FILTER, GL.GL_NEAREST),
                            (GL.GL_TEXTURE_MAG_FILTER, GL.GL_NEAREST),
                            (GL.GL_TEXTURE_WRAP_S, GL.GL_CLAMP_TO_EDGE),
                            (GL.GL_TEXTURE_WRAP_T, GL.GL_CLAMP_TO_EDGE),
                            (GL.GL_TEXTURE_COMPARE_MODE, GL.GL_COMPARE_REF_TO_TEXTURE),
                            (GL.GL_TEXTURE_COMPARE_FUNC, GL.GL_LEQUAL)):
            GL.glTexParameteri(GL.GL_TEXTURE_2D_ARRAY, name, value)
        GL.glBindTexture(GL.GL_TEXTURE_2D_ARRAY, 0)

    def delete(self) -> None:
        if self.id is not None:
            GL.glDeleteTextures([self.id])
        self.id, self.layers = None, 0


class ShadowMaps:
    """The shadow maps of the colour pass (a current GL context is needed for its whole life)."""

    def __init__(self) -> None:
        self._program = Program("label.vert", "shadow_depth.frag")
        self._framebuffer = int(GL.glGenFramebuffers(1))
        self._maps = _LayeredDepth(MAP_PX)
        self._faces = _LayeredDepth(FACE_PX)
        self._bounds: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._coarse = CoarseMeshes(COARSE_CELLS, COARSE_MIN_TRIANGLES)

    def _mesh_corners(self, mesh: VertexArray) -> np.ndarray:
        """(8, 3) float64: the bounding-box corners of a vertex array's positions (cached)."""
        corners = self._bounds.get(mesh)
        if corners is None:
            positions = np.asarray(mesh.positions, dtype=np.float64)
            corners = box_corners(positions.min(axis=0), positions.max(axis=0))
            self._bounds[mesh] = corners
        return corners

    def _corners(self, draws: Sequence[tuple[np.ndarray, Sequence[VertexArray]]]
                 ) -> np.ndarray | None:
        """(n, 3) float64: the world bounding-box corners of every vertex array drawn (None if
        there is none)."""
        corners = [self._mesh_corners(mesh) @ world_from_model[:3, :3].T
                   + world_from_model[:3, 3] for world_from_model, meshes in draws
                   for mesh in meshes]
        return np.concatenate(corners) if corners else None

    def draw(self, casters: Sequence[tuple[np.ndarray, Sequence[VertexArray]]],
             backdrop: Sequence[tuple[np.ndarray, Sequence[VertexArray]]],
             lights: Sequence[Light], *, world_from_camera_gl: np.ndarray,
             projection: np.ndarray, softness_m: float) -> ShadowFrame:
        """Queue the depth passes of one frame and return what the colour pass needs.

        Parameters
        ----------
        casters : sequence of ((4, 4) float64, sequence of VertexArray)
            ``world_from_model`` and the vertex arrays of everything that casts a shadow.
        backdrop : sequence of ((4, 4) float64, sequence of VertexArray)
            The same of what only receives shadows (ground, walls).
        lights : sequence of Light
            The lights that cast shadows: the first lights of the colour pass's list, in the
            order of their maps (:func:`in_map_order`).
        world_from_camera_gl, projection : (4, 4) float64
            The camera (OpenGL conventions), to fit directional maps to what it sees.
        softness_m : float
            Filter radius on the receiving surface, metres (>= 0).

        Returns
        -------
        ShadowFrame
        """
        boxes = [self._corners([caster]) for caster in casters]  # (8k, 3) per caster
        caster_points = np.concatenate(boxes) if boxes else None
        behind = self._corners(backdrop)
        known = [points for points in (caster_points, behind) if points is not None]
        everything = np.concatenate(known) if known else None
        camera = world_from_camera_gl[:3, 3]
        far_m = (1.0 if everything is None
                 else float(np.linalg.norm(everything - camera, axis=1).max()))
        visible = frustum_corners(world_from_camera_gl, projection, max(far_m, 1e-3))
        pad_m = 2.0 * float(softness_m) + 1e-3
        ordered = in_map_order(lights)
        planar = [light for light in ordered if light.kind != "point"]
        points = [light for light in ordered if light.kind == "point"]
        views_2d: list[LightView | None] = []
        for light in planar:
            pose = np.asarray(light.world_from_light, dtype=np.float64)
            if caster_points is None:
                views_2d.append(None)
            elif light.kind == "directional":
                views_2d.append(directional_view(-pose[:3, 2], caster_points, visible, pad_m))
            else:
                views_2d.append(spot_view(pose[:3, 3], -pose[:3, 2], light.outer_cone_angle,
                                          caster_points))
        views_faces: list[LightView | None] = []
        for light in points:
            position = np.asarray(light.world_from_light, dtype=np.float64)[:3, 3]
            views_faces += (point_views(position, caster_points) if caster_points is not None
                            else [None] * 6)
        self._maps.ensure(max(1, len(views_2d)))
        self._faces.ensure(max(1, len(views_faces)))
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, self._framebuffer)
        GL.glDrawBuffer(GL.GL_NONE)
        GL.glReadBuffer(GL.GL_NONE)
        opaque_pass_state(GL.GL_FRONT)
        GL.glEnable(GL.GL_DEPTH_CLAMP)
        GL.glEnable(GL.GL_POLYGON_OFFSET_FILL)
        GL.glPolygonOffset(*POLYGON_OFFSET)
        self._program.use()
        self._program.set_matrix("projection", np.eye(4))
        self._coarse.forget_deleted()
        starts = np.cumsum([0] + [len(box) for box in boxes[:-1]])
        for texture, views in ((self._maps, views_2d), (self._faces, views_faces)):
            GL.glViewport(0, 0, texture.size, texture.size)
            for layer, view in enumerate(views):
                self._draw_layer(texture, layer, view, casters, caster_points, starts)
        GL.glDisable(GL.GL_POLYGON_OFFSET_FILL)
        GL.glDisable(GL.GL_DEPTH_CLAMP)
        GL.glBindVertexArray(0)
        GL.glUseProgram(0)
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, 0)
        uniforms: list[tuple] = [("shadow_maps", SHADOW_UNITS[0]),
                                 ("shadow_faces", SHADOW_UNITS[1]),
                                 ("shadow_softness_m", float(softness_m))]
        for layer, view in enumerate(views_2d):
            uniforms += _layer_uniforms("shadow_matrices", "shadow_uv_per_m", layer, view)
        for layer, view in enumerate(views_faces):
            uniforms += _layer_uniforms("shadow_face_matrices", None, layer, view)
        face = next((view for view in views_faces if view is not None), None)
        uniforms.append(("shadow_face_uv_per_m", face.uv_per_m if face is not None else 1.0))
        counts = tuple(sum(light.kind == kind for light in lights)
                       for kind in ("directional", "point", "spot"))
        return ShadowFrame(counts, tuple(uniforms), (self._maps.id, self._faces.id))

    def _draw_layer(self, texture: _LayeredDepth, layer: int, view: LightView | None,
                    casters: Sequence[tuple[np.ndarray, Sequence[VertexArray]]],
                    corners: np.ndarray | None, starts: np.ndarray) -> None:
        """Clear one layer and draw into it the casters whose bounding boxes reach into its view
        (none if ``view`` is None): a point light's face draws only what lies in that face.
        ``corners``: every caster's box corners, concatenated; ``starts``: each caster's first
        row in them."""
        GL.glFramebufferTextureLayer(GL.GL_FRAMEBUFFER, GL.GL_DEPTH_ATTACHMENT, texture.id, 0,
                                     layer)
        GL.glClearBufferfv(GL.GL_DEPTH, 0, np.ones(1, dtype=np.float32))
        if view is None or corners is None:
            return
        seen = _in_view(view.clip_from_world, corners, starts)
        for (world_from_model, meshes), drawn in zip(casters, seen):
            if not drawn:
                continue
            self._program.set_matrix("camera_from_model", view.clip_from_world @ world_from_model)
            for mesh in meshes:
                self._coarse.get(mesh).draw()

    def delete(self) -> None:
        """Free every GL resource (the context must be current). Idempotent."""
        self._maps.delete()
        self._faces.delete()
        self._program.delete()
        self._coarse.delete()
        if self._framebuffer is not None:
            GL.glDeleteFramebuffers(1, [self._framebuffer])
            self._framebuffer = None


def in_map_order(lights: Sequence[Light]) -> list[Light]:
    """``lights`` in the order of their maps (:data:`SHADOWED_KINDS`), each kind in its given
    order (a stable sort)."""
    return sorted(lights, key=lambda light: SHADOWED_KINDS.index(light.kind))


def _in_view(clip_from_world: np.ndarray, corners: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Per caster, whether the convex hull of its corners may reach into a map's view: False
    only if every corner is beyond one and the same side plane of the view, or behind the light
    (depth is clamped, so nothing is culled by the near or far plane).

    ``corners``: (n, 3) float64, the casters' corners one caster after another; ``starts``:
    (k,) int, each caster's first row (k casters, each with at least one corner). Returns (k,)
    bool."""
    clip = corners @ clip_from_world[:3, :3].T + clip_from_world[:3, 3]
    w = corners @ clip_from_world[3, :3] + clip_from_world[3, 3]
    # Each side plane (x = w, x = -w, y = w, y = -w) is a plane in world space: a box wholly
    # beyond one is wholly out of the view.
    beyond = np.stack([clip[:, 0] > w, clip[:, 0] < -w, clip[:, 1] > w, clip[:, 1] < -w,
                       w <= 0.0], axis=1)
    return ~np.logical_and.reduceat(beyond, starts, axis=0).any(axis=1)


def _layer_uniforms(matrices: str, scales: str | None, layer: int,
                    view: LightView | None) -> list[tuple]:
    """The uniforms of one map layer; a layer without a view gets a matrix that puts every
    point outside the map (lit)."""
    if view is None:
        matrix, uv_per_m = np.diag([0.0, 0.0, 0.0, 1.0]), 1.0
        matrix[0, 3] = 10.0  # x = 10: outside
    else:
        matrix, uv_per_m = view.clip_from_world, view.uv_per_m
    out: list[tuple] = [(f"{matrices}[{layer}]", matrix.astype(np.float32))]
    if scales is not None:
        out.append((f"{scales}[{layer}]", float(uv_per_m)))
    return out
