"""Rendering of a :class:`~synthscene.core.state.SceneState`, offscreen through EGL.

The package ``synthscene.render`` is the only one that touches pyrender and OpenGL, through
their public APIs: the GL context comes from pyrender's platform classes
(:class:`~synthscene.render.platform.GLContext`), every framebuffer, vertex array, texture and
program is our own (:mod:`synthscene.render.gl`), and pyrender's shaders are our copies under
``render/shaders/``. One :class:`Renderer` owns one GL context and is a context manager.

Passes per frame:

0. **Shadow maps** (:mod:`~synthscene.render.shadow_maps`), in a frame with shadows
   (``SceneState.shadow_softness_m``): a depth-only pass per shadowed light (the
   ``RenderSettings.shadow_lights`` strongest; six for a point light), objects only.
1. **Colour** (:mod:`~synthscene.render.color_pass`): pyrender's shaders (PBR
   metallic-roughness shading; our copies, with shadow lookups and any number of lights),
   driven by the lean forward pass of
   :class:`~synthscene.render.color_pass.ColourRenderer`, give the RGB image, drawn into a
   framebuffer it owns (single-sampled by default; ``RenderSettings.msaa_samples`` turns on
   MSAA, resolved into a single-sampled one), opaque meshes front to back so that hidden
   fragments are rejected before shading. Every frame takes this pass; pyrender's
   ``Renderer.render`` is never called.
   ``shading="flat"`` uses pyrender's unlit shader (base colour only). A frame's
   ``SceneState.environment`` lights the lean pass and may be drawn behind the scene
   (:mod:`~synthscene.render.environment_gl`; ``docs/light.md``). Back faces are culled in
   every pass (closed meshes look the same; through an open mesh every pass sees what lies
   behind it).
2. **Labels**: a ``GL_R32I`` instance-id image and a ``GL_R32F`` image of camera-z depth in
   metres, in a single-sampled framebuffer. Because it is integer and single-sampled, every
   pixel holds exactly the id of the nearest surface at the pixel centre (pyrender's
   ``RenderFlags.SEG`` blends ids at edges through its MSAA resolve), and ids are not limited to
   255. Depth and ids come from the same rasterisation, so depth > 0 wherever an id is. By
   default (the lean colour pass, single-sampled, no normals) the colour pass writes them
   itself, as two more outputs of the same fragments as the RGB image
   (:meth:`~synthscene.render.color_pass.ColourRenderer.draw` with ``labels=True``): no second
   rasterisation of the scene. Otherwise (MSAA, normals)
   :class:`~synthscene.render.label_pass.LabelPass` draws every object into a framebuffer of
   its own; with ``RenderSettings.normals`` a third attachment gets each fragment's camera-frame
   surface normal. Both give the same ids; depths agree to float32 rounding.
3. **Amodal** (with ``RenderSettings.amodal``): every labelled object drawn alone into its own
   cell of an atlas (:class:`~synthscene.render.amodal.AmodalPass`).

:meth:`Renderer.submit` queues every pass and returns at once; the GL driver rasterises in its
own threads (llvmpipe) or on the GPU while the caller prepares the next frame (physics), and
:meth:`PendingFrame.result` waits for the pixels.

GL resources are built once per asset and reused: each asset's mesh is uploaded once as a set of
vertex arrays; each object of a frame draws them with its own material
(:class:`~synthscene.render.color_pass.Part`). Per frame only poses and materials change, so GPU
memory stays flat over long runs. The uploads of an asset the library no longer holds (its
store of loaded assets, bounded by ``limits.max_loaded_mib``, dropped it) are freed, and with
``RenderSettings.max_loaded_assets`` those beyond that many assets, the least recently drawn
first (never those of the current or the previous frame), for libraries of thousands of assets.

Camera convention: ``Camera.K`` and ``Camera.world_from_camera`` follow OpenCV (x right, y down,
z forward, pixel centres at integer coordinates); this module converts to OpenGL's (y up, looking
along -z, pixel u spanning [u, u + 1)): ``cx_gl = cx + 0.5``, ``cy_gl = cy + 0.5`` and
``world_from_camera_gl = world_from_camera @ diag(1, -1, -1, 1)``.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from synthscene.assets.appearance import jitter_colors, jitter_image
from synthscene.core.state import Camera, Material, RenderOutput, SceneState
from synthscene.errors import RenderError
from synthscene.render.compat import patch_pyrender_numpy2
from synthscene.render.platform import GLContext, ensure_gl_platform, platform_hint
from synthscene.render.settings import RenderSettings

ensure_gl_platform()
patch_pyrender_numpy2()

import pyrender  # noqa: E402  (the GL platform must be chosen first)
import trimesh  # noqa: E402

from synthscene.render.amodal import AmodalItem, AmodalPass  # noqa: E402
from synthscene.render.color_pass import (  # noqa: E402
    BACKDROP,
    ColourItem,
    ColourRenderer,
    Part,
)
from synthscene.render.environment_gl import EnvironmentDraw, PreparedMaps  # noqa: E402
from synthscene.render.gl import VertexArray  # noqa: E402
from synthscene.render.label_pass import LabelPass  # noqa: E402
from synthscene.render.looks import (  # noqa: E402
    LookPart,
    jittered_factor,
    look_material,
    look_primitive,
    make_texture,
    mesh_primitives,
    object_materials,
    rectangle_mesh,
    with_texture_coordinates,
)
from synthscene.render.recent import RecentFrames  # noqa: E402
from synthscene.render.shadow_fit import strongest  # noqa: E402
from synthscene.render.shadow_maps import (  # noqa: E402
    ShadowFrame,
    ShadowMaps,
    in_map_order,
)

if TYPE_CHECKING:
    from synthscene.assets.library import AssetLibrary

logger = logging.getLogger(__name__)

CV_FROM_GL = np.diag([1.0, -1.0, -1.0, 1.0])
"""(4, 4) float64: flips y and z between OpenCV's and OpenGL's camera frames (it is its own
inverse)."""


def _delete_owned(entry: tuple[list, list[VertexArray]]) -> None:
    """Free the vertex arrays a released :class:`RecentFrames` entry (parts, owned) made."""
    for mesh in entry[1]:
        mesh.delete()


def _gl_camera(camera: Camera) -> pyrender.IntrinsicsCamera:
    K = np.asarray(camera.K, dtype=np.float64)
    return pyrender.IntrinsicsCamera(
        fx=K[0, 0], fy=K[1, 1], cx=K[0, 2] + 0.5, cy=K[1, 2] + 0.5,
        znear=camera.znear, zfar=camera.zfar,
    )


@dataclass(frozen=True, eq=False)
class _GLView:
    """A frame's camera in OpenGL's conventions, computed once per frame and shared by every
    pass, so that they all rasterise from the same float64 matrices.

    Attributes
    ----------
    world_from_camera : (4, 4) float64
        ``Camera.world_from_camera @ CV_FROM_GL``.
    camera_from_world : (4, 4) float64
        Its inverse.
    projection : (4, 4) float64
        OpenGL projection of the image (:func:`_gl_camera`).
    """

    world_from_camera: np.ndarray
    camera_from_world: np.ndarray
    projection: np.ndarray

    @classmethod
    def of(cls, camera: Camera) -> _GLView:
        world_from_camera = camera.world_from_camera @ CV_FROM_GL
        return cls(world_from_camera, np.linalg.inv(world_from_camera),
                   _gl_camera(camera).get_projection_matrix(camera.width, camera.height))



class Renderer:
    """Render frames offscreen: colour with pyrender's shaders, exact ids and depth.

    Parameters
    ----------
    library : AssetLibrary
        Where object meshes come from (``library.get(key).mesh``, normalised to a longest edge
        of 1; ``SceneObject.scale`` makes it metres).
    width, height : int
        Image size in pixels of the first frames; a frame whose camera has another size
        resizes every pass's framebuffers to it before it is drawn (the uploads, programs and
        shadow maps stay: a lens's pinhole render changes size from frame to frame).
    settings : RenderSettings

    Raises
    ------
    RenderError
        On ``__enter__`` if no GL context can be created (no EGL library or device).

    Examples
    --------
    >>> with Renderer(library, 640, 480, RenderSettings()) as renderer:   # doctest: +SKIP
    ...     out = renderer.render(state)
    """

    def __init__(self, library: AssetLibrary, width: int, height: int,
                 settings: RenderSettings | None = None) -> None:
        if width <= 0 or height <= 0:
            raise ValueError(f"image size must be positive, got {width}x{height}")
        self._library = library
        self.width = int(width)
        self.height = int(height)
        self.settings = settings or RenderSettings()
        self._context: GLContext | None = None
        self._colour: ColourRenderer | None = None
        self._base_meshes: dict[str, list[VertexArray]] = {}
        self._looks: dict[str, list[LookPart]] = {}
        # The parts (materials, textures, jittered vertex arrays) that each Material of a frame
        # draws, kept while consecutive frames draw the same Material objects (the frames of a
        # sequence, the views of a scene), so that each is made and uploaded once.
        self._parts = RecentFrames(free=_delete_owned)
        self._ground_sizes: dict[tuple[float, float], list[VertexArray]] = {}
        self._corners: dict[str, np.ndarray] = {}  # asset key -> (8, 3) bounding-box corners
        # Asset keys with uploads, least recently drawn first, and those of this frame and the
        # frame before (never freed: the RecentFrames parts may still draw them).
        self._drawn: OrderedDict[str, None] = OrderedDict()
        self._frame_keys: set[str] = set()
        self._previous_keys: set[str] = set()
        self._evictions_seen: int | None = None  # the library's evictions at the last check
        self._label_pass: LabelPass | None = None
        self._amodal_pass: AmodalPass | None = None
        self._shadow_maps: ShadowMaps | None = None
        self._environments = PreparedMaps()  # each environment map prepared once
        self._pending: PendingFrame | None = None

    # -- context management ------------------------------------------------------------------
    def __enter__(self) -> Renderer:
        context = GLContext(self.width, self.height)
        try:
            context.__enter__()
        except Exception as exc:  # EGL/OSMesa raise many different types
            context.close()
            raise RenderError(
                f"cannot create an offscreen OpenGL context ({type(exc).__name__}: {exc}). "
                + platform_hint()
            ) from None
        self._context = context
        try:
            self._colour = ColourRenderer(self.width, self.height, self.settings.msaa_samples)
            if self.settings.amodal:
                self._amodal_pass = AmodalPass(self.width, self.height)
        except Exception:
            self.close()
            raise
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    @property
    def is_open(self) -> bool:
        """Whether the renderer holds its GL context (between ``__enter__`` and ``close``)."""
        return self._context is not None

    def close(self) -> None:
        """Free every GL resource and the context. Idempotent."""
        if self._context is None:
            return
        self._pending = None
        self._context.make_current()
        looks = [[look.mesh for look in parts] for parts in self._looks.values()]
        self._parts.clear()
        for meshes in [*self._base_meshes.values(), *self._ground_sizes.values(), *looks]:
            for mesh in meshes:
                mesh.delete()
        self._base_meshes.clear()
        self._looks.clear()
        self._drawn.clear()
        self._ground_sizes.clear()
        for gl_pass in (self._label_pass, self._amodal_pass, self._shadow_maps, self._colour):
            if gl_pass is not None:
                gl_pass.delete()
        self._label_pass = self._amodal_pass = self._shadow_maps = self._colour = None
        self._context.close()
        self._context = None

    # -- GL resources ------------------------------------------------------------------------
    @staticmethod
    def _upload(trimesh_mesh: trimesh.Trimesh) -> list[VertexArray]:
        return [VertexArray(p) for p in mesh_primitives(trimesh_mesh)]

    def _used(self, key: str) -> None:
        """Mark asset ``key``'s uploads as drawn in this frame."""
        self._drawn[key] = None
        self._drawn.move_to_end(key)
        self._frame_keys.add(key)

    def _free_unused_uploads(self) -> None:
        """Free the uploads of the assets the library no longer holds (its store of loaded
        assets dropped them: ``limits.max_loaded_mib``, ``max_loaded_assets``) and of the least
        recently drawn beyond ``settings.max_loaded_assets``; never those drawn in this frame or
        the one before."""
        limit = self.settings.max_loaded_assets
        excess = 0 if limit is None else len(self._drawn) - limit
        evictions = getattr(self._library, "evictions", None)
        dropped = evictions is not None and evictions != self._evictions_seen
        if excess <= 0 and not dropped:
            return
        keep = self._frame_keys | self._previous_keys
        freed, kept_dropped = [], False
        for key in self._drawn:  # least recently drawn first
            held = not dropped or self._library.holds(key)
            if key in keep:
                kept_dropped = kept_dropped or not held
            elif excess > 0 or not held:
                freed.append(key)
                excess -= 1
        # Dropped uploads still drawn recently are freed at a later frame: look again then.
        self._evictions_seen = None if kept_dropped else evictions
        for key in freed:
            del self._drawn[key]
            for mesh in self._base_meshes.pop(key, []):
                mesh.delete()
            for look in self._looks.pop(key, []):
                look.mesh.delete()

    def _asset_meshes(self, key: str) -> list[VertexArray]:
        self._used(key)
        meshes = self._base_meshes.get(key)
        if meshes is None:
            meshes = self._upload(with_texture_coordinates(self._library.get(key).mesh))
            self._base_meshes[key] = meshes
        return meshes

    def _asset_look(self, key: str) -> list[LookPart]:
        """The asset's visual parts uploaded with their declared materials (once per asset)."""
        self._used(key)
        look = self._looks.get(key)
        if look is None:
            look, flat = [], self.settings.shading == "flat"
            for part in self._library.look(key):
                image = part.material.base_color_texture
                texture = None if image is None else make_texture(image)
                material = look_material(part.material, texture, flat=flat)
                mesh = VertexArray(look_primitive(part, material, part.vertex_colors, flat=flat))
                look.append(LookPart(mesh, material, texture, part))
            self._looks[key] = look
        return look

    def _look_parts(self, key: str, material: Material) -> list[Part]:
        """The parts that draw an object in its asset's own look (``keep``) or in a jittered
        copy of it (``jitter``): the declared materials (shared), or per-object materials with
        the drawn metallic/roughness, jittered colour factor and texture; parts with vertex
        colours get a vertex array with jittered colours. Made once while consecutive frames
        draw ``material``."""
        return self._parts.get(("look", key, material),
                               lambda: self._make_look_parts(key, material))[0]

    def _make_look_parts(self, key: str, material: Material
                         ) -> tuple[list[Part], list[VertexArray]]:
        """:meth:`_look_parts`, made: the parts and the vertex arrays they own."""
        out: list[Part] = []
        owned: list[VertexArray] = []
        jitter = material.appearance == "jitter"
        flat = self.settings.shading == "flat"
        for look in self._asset_look(key):
            declared = look.part.material
            if not jitter and material.metallic is None and material.roughness is None:
                out.append(Part(look.mesh, look.material))
                continue
            texture, factor = look.texture, None
            if jitter:
                factor = jittered_factor(declared, material.jitter)
                if declared.base_color_texture is not None:
                    texture = make_texture(jitter_image(declared.base_color_texture,
                                                        material.jitter))
            made = look_material(declared, texture, flat=flat, factor=factor,
                                 metallic=material.metallic, roughness=material.roughness)
            if jitter and look.part.vertex_colors is not None:
                colors = look.part.vertex_colors.copy()
                colors[:, :3] = np.round(jitter_colors(colors[:, :3] / 255.0,
                                                       material.jitter) * 255.0)
                mesh = VertexArray(look_primitive(look.part, made, colors, flat=flat))
                owned.append(mesh)
                out.append(Part(mesh, made))
            else:
                out.append(Part(look.mesh, made))
        return out, owned

    def _rectangle_meshes(self, width: float, height: float) -> list[VertexArray]:
        meshes = self._ground_sizes.get((width, height))
        if meshes is None:
            meshes = self._upload(rectangle_mesh(width, height))
            self._ground_sizes[(width, height)] = meshes
        return meshes

    # -- per frame ---------------------------------------------------------------------------
    def _colour_items(self, state: SceneState) -> tuple[list[ColourItem], list]:
        """Return the colour pass items and the label pass draw list of (id, pose, meshes)."""
        items, draws = [], []
        if state.ground is not None:
            size = float(state.ground.size)
            bases = self._rectangle_meshes(size, size)
            items.append(self._item(BACKDROP, np.eye(4), bases, state.ground.material))
            draws.append((0, np.eye(4), bases))
        for wall in state.walls:
            bases = self._rectangle_meshes(float(wall.width), float(wall.height))
            items.append(self._item(BACKDROP, wall.world_from_wall, bases, wall.material))
            draws.append((0, wall.world_from_wall, bases))
        for obj in state.objects:
            world_from_model = obj.world_from_object @ np.diag([obj.scale] * 3 + [1.0])
            name = f"object-{obj.instance_id:06d}"
            if obj.material.appearance == "randomize":
                bases = self._asset_meshes(obj.asset_key)
                items.append(self._item(name, world_from_model, bases, obj.material,
                                        obj.instance_id))
            else:
                bases = [look.mesh for look in self._asset_look(obj.asset_key)]
                items.append(ColourItem(name, np.asarray(world_from_model, dtype=np.float64),
                                        self._look_parts(obj.asset_key, obj.material),
                                        int(obj.instance_id)))
            draws.append((obj.instance_id, world_from_model, bases))
        return items, draws

    def _item(self, name: str, world_from_model: np.ndarray, bases: list[VertexArray],
              material: Material, instance_id: int = 0) -> ColourItem:
        # ``bases`` lists live as long as the renderer (one per asset, one per rectangle size).
        materials = self._parts.get(("randomize", id(bases), material),
                                    lambda: (object_materials(material, bases), []))[0]
        return ColourItem(name, np.asarray(world_from_model, dtype=np.float64),
                          [Part(b, m) for b, m in zip(bases, materials)], int(instance_id))

    def _labels_in_colour_pass(self) -> bool:
        """Whether ids and depth come from the colour pass itself: single-sampled, no normals
        asked."""
        return self._colour.carries_labels and not self.settings.normals

    def _draw_colour_pass(self, state: SceneState, items: list[ColourItem],
                          view: _GLView, labels: bool) -> None:
        """Queue the colour pass (with the label images if ``labels``), after the shadow maps
        if the frame has shadows."""
        flat = self.settings.shading == "flat"
        lights, shadows = list(state.lights), None
        if not flat and state.shadow_softness_m is not None and self.settings.shadow_lights:
            # The shadowed lights first, in the order of their maps (directional, spot, then
            # point lights), each kind strongest first.
            picked = strongest(lights, self.settings.shadow_lights)
            lights = (in_map_order([lights[i] for i in picked])
                      + [light for i, light in enumerate(lights) if i not in picked])
            shadows = self._draw_shadow_maps(state, items, view, lights[:len(picked)])
        self._colour.draw(
            items, lights,
            ambient_light=np.asarray(state.ambient_light, dtype=np.float64),
            bg_color=np.array([*state.background_color, 1.0]),
            world_from_camera_gl=view.world_from_camera, projection=view.projection,
            flat=flat, labels=labels, shadows=shadows,
            ambient_occlusion=state.ambient_occlusion,
            environment=(None if state.environment is None
                         else EnvironmentDraw.of(state.environment, self._environments)),
            footprint=(None if state.camera.footprint is None
                       else (state.camera.footprint, np.asarray(state.camera.K)[:2, 2])))

    def _draw_shadow_maps(self, state: SceneState, items: list[ColourItem], view: _GLView,
                          lights: list) -> ShadowFrame | None:
        """Queue the shadow-map passes of ``lights`` (None if there is none): objects cast,
        the backdrop receives."""
        if not lights:
            return None
        if self._shadow_maps is None:
            self._shadow_maps = ShadowMaps()
        casters = [(item.world_from_model, [part.mesh for part in item.parts])
                   for item in items if item.name != BACKDROP]
        backdrop = [(item.world_from_model, [part.mesh for part in item.parts])
                    for item in items if item.name == BACKDROP]
        return self._shadow_maps.draw(
            casters, backdrop, lights, world_from_camera_gl=view.world_from_camera,
            projection=view.projection, softness_m=float(state.shadow_softness_m))

    def _draw_label_pass(self, view: _GLView, draws: list) -> None:
        """Queue the separate label pass of one frame (built on first use)."""
        if self._label_pass is None:
            self._label_pass = LabelPass(self.width, self.height, self.settings.normals)
        self._label_pass.draw(view.camera_from_world, view.projection, draws)

    def _draw_amodal_pass(self, state: SceneState, view: _GLView, draws: list) -> None:
        """Queue the solo render of every labelled object (see :class:`AmodalPass`)."""
        drawn = {instance_id: (pose, bases) for instance_id, pose, bases in draws}
        items = []
        for obj in state.objects:
            if not obj.labelled:
                continue
            # The label pass's vertex arrays and float64 product, so both passes rasterise the
            # same vertices (an object in its own look draws its look's arrays in both).
            world_from_model, bases = drawn[obj.instance_id]
            camera_from_model_gl = view.camera_from_world @ world_from_model
            camera_from_model = CV_FROM_GL @ camera_from_model_gl  # OpenCV camera frame
            corners = (self._box_corners(obj.asset_key) @ camera_from_model[:3, :3].T
                       + camera_from_model[:3, 3])
            items.append(AmodalItem(int(obj.instance_id), camera_from_model_gl, bases, corners))
        self._amodal_pass.submit(state.camera, view.projection, items)

    def _box_corners(self, key: str) -> np.ndarray:
        """(8, 3) float64: the corners of an asset's normalised mesh's bounding box (once per
        asset)."""
        corners = self._corners.get(key)
        if corners is None:
            bounds = np.asarray(self._library.get(key).mesh.bounds, dtype=np.float64)
            corners = np.array([[x, y, z] for x in bounds[:, 0] for y in bounds[:, 1]
                                for z in bounds[:, 2]])
            self._corners[key] = corners
        return corners

    def render(self, state: SceneState) -> RenderOutput:
        """Render one frame and wait for it: ``submit(state).result()``.

        Parameters
        ----------
        state : SceneState
            The (settled) scene; its camera's size is the image's.

        Returns
        -------
        RenderOutput
            ``rgb`` (H, W, 3) uint8; ``depth`` (H, W) float32 metres along the optical axis, 0
            where nothing was hit; ``instance_ids`` (H, W) int32, 0 for background and ground.

        Raises
        ------
        RenderError
            If the renderer is not open.
        """
        return self.submit(state).result()

    def submit(self, state: SceneState) -> PendingFrame:
        """Queue one frame's GL work and return at once; ``.result()`` waits for the pixels.

        The GL driver rasterises in its own threads (llvmpipe) or on the GPU while the caller
        goes on, e.g. with the next frame's physics. One frame may be pending at a time: a new
        ``submit`` first finishes the pending one (its ``result()`` stays valid).

        Raises
        ------
        RenderError
            If the renderer is not open.
        """
        if self._context is None:
            raise RenderError("Renderer is not open: use it as a context manager")
        cam = state.camera
        if self._pending is not None:
            self._pending.result()
        self._context.make_current()
        if (cam.width, cam.height) != (self.width, self.height):
            self._resize(cam.width, cam.height)
        self._parts.next_frame()  # frees what the frame before the last drew alone (drawn and
        # read by now); the colour pass frees the textures no longer drawn
        view = _GLView.of(cam)
        self._previous_keys, self._frame_keys = self._frame_keys, set()
        items, draws = self._colour_items(state)
        self._free_unused_uploads()
        labels = self._labels_in_colour_pass()
        self._draw_colour_pass(state, items, view, labels)
        self._context.make_current()
        if not labels:
            self._draw_label_pass(view, draws)
        if self._amodal_pass is not None:
            self._draw_amodal_pass(state, view, draws)
        self._pending = PendingFrame(self, labels_in_colour=labels)
        return self._pending

    def _resize(self, width: int, height: int) -> None:
        """Draw from now on at ``width`` x ``height``: new framebuffers for every pass (the
        uploads, programs and shadow maps are kept; no frame may be pending)."""
        self.width, self.height = int(width), int(height)
        for gl_pass in (self._colour, self._label_pass, self._amodal_pass):
            if gl_pass is not None:
                gl_pass.resize(self.width, self.height)

    def _finish(self, labels_in_colour: bool) -> RenderOutput:
        self._context.make_current()
        colour = self._colour
        rgb = colour.read_colour()
        if labels_in_colour:
            (ids, depth), normals = colour.read_labels(), None
        else:
            ids, depth, normals = self._label_pass.read()
        amodal = self._amodal_pass.result() if self._amodal_pass is not None else None
        self._pending = None
        return RenderOutput(rgb=rgb, depth=depth, instance_ids=ids, normals=normals,
                            amodal=amodal)


class PendingFrame:
    """A frame submitted to a :class:`Renderer` whose pixels may not be ready yet."""

    def __init__(self, renderer: Renderer, *, labels_in_colour: bool) -> None:
        self._renderer: Renderer | None = renderer
        self._labels_in_colour = labels_in_colour
        self._output: RenderOutput | None = None

    def result(self) -> RenderOutput:
        """Wait for the frame and return its :class:`~synthscene.core.state.RenderOutput`.

        Raises
        ------
        RenderError
            If the renderer was closed before the frame was collected.
        """
        if self._output is None:
            renderer = self._renderer
            if renderer is None or not renderer.is_open:
                raise RenderError("the Renderer was closed before this frame was collected")
            self._output = renderer._finish(self._labels_in_colour)
            self._renderer = None
        return self._output


