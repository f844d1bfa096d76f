"""Rendering of a :class:`~synthscene.core.state.SceneState` with pyrender, offscreen through EGL.

This module and :mod:`synthscene.render.colour_pass` are the only ones that touch pyrender and
OpenGL.
One :class:`Renderer` owns one ``pyrender.OffscreenRenderer`` (hence one GL context) and is a
context manager.

Passes per frame:

1. **Colour**: pyrender's shaders (PBR metallic-roughness shading), driven by the lean forward
   pass of :class:`~synthscene.render.colour_pass.ColourRenderer` (pyrender's own, with shadow maps,
   when ``RenderSettings.shadows`` is on), give the RGB image, drawn into a framebuffer it owns
   (single-sampled by default; ``RenderSettings.msaa_samples`` turns on MSAA), opaque meshes
   front to back so that hidden fragments are rejected before shading. ``shading="flat"`` uses
   pyrender's unlit mode (base colour only). Back faces are culled in both passes (closed
   meshes look the same; through an open mesh both passes see what lies behind it).
2. **Labels**: a ``GL_R32I`` instance-id image and a ``GL_R32F`` image of camera-z depth in
   metres, in a single-sampled framebuffer. Because it is integer and single-sampled, every
   pixel holds exactly the id of the nearest surface at the pixel centre (pyrender's
   ``RenderFlags.SEG`` blends ids at edges through its MSAA resolve), and ids are not limited to
   255. Depth and ids come from the same rasterisation, so depth > 0 wherever an id is. By
   default (the lean colour pass, single-sampled, no normals) the colour pass writes them
   itself, as two more outputs of the same fragments as the RGB image
   (:meth:`~synthscene.render.colour_pass.ColourRenderer.draw` with ``labels=True``): no second
   rasterisation of the scene. Otherwise (MSAA, shadows, more than 4 lights of a kind, normals)
   our own small GL pass draws every object into a framebuffer of its own; with
   ``RenderSettings.normals`` a third attachment (``GL_RGBA32F``) gets each fragment's
   camera-frame surface normal, the normal of the rasterised triangle's plane (exact per face,
   the same surface as the depth). Both give the same ids; depths agree to float32 rounding.
3. **Amodal** (with ``RenderSettings.amodal``): every labelled object drawn alone into its own
   cell of an atlas, with an off-axis projection that keeps the full image's pixel sample
   positions and reaches beyond the image's borders (:class:`_AmodalPass`).

:meth:`Renderer.submit` queues every pass and returns at once; the GL driver rasterises in its
own threads (llvmpipe) or on the GPU while the caller prepares the next frame (physics), and
:meth:`PendingFrame.result` waits for the pixels. On a 2-core CPU this hides most of the
rendering time behind physics.

GL resources are built once per asset and reused: each asset's mesh is uploaded once as a set of
"base" primitives; each object of a frame gets light-weight proxy primitives that share the base's
vertex arrays and buffers but carry the object's own material. Per frame only poses and materials
change, so GPU memory stays flat over long runs.

Camera convention: ``Camera.K`` and ``Camera.world_from_camera`` follow OpenCV (x right, y down,
z forward, pixel centres at integer coordinates); this module converts to OpenGL's (y up, looking
along -z, pixel u spanning [u, u + 1)): ``cx_gl = cx + 0.5``, ``cy_gl = cy + 0.5`` and
``world_from_camera_gl = world_from_camera @ diag(1, -1, -1, 1)``.
"""

from __future__ import annotations

import ctypes
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from synthscene.assets.appearance import (
    AssetMaterial,
    VisualPart,
    jitter_colors,
    jitter_image,
    linear_to_srgb,
    srgb_to_linear,
)
from synthscene.assets.uv import box_uv
from synthscene.core.state import AmodalMask, Camera, HsvJitter, Material, RenderOutput, SceneState
from synthscene.errors import SynthsceneError
from synthscene.render.compat import patch_pyrender_numpy2
from synthscene.render.platform import ensure_gl_platform, platform_hint
from synthscene.render.settings import RenderSettings

ensure_gl_platform()
patch_pyrender_numpy2()

import pyrender  # noqa: E402  (the GL platform must be chosen first)
import trimesh  # noqa: E402
from OpenGL import GL  # noqa: E402

from synthscene.render.colour_pass import (  # noqa: E402
    BACKDROP,
    ColourItem,
    ColourRenderer,
    OrderedScene,
    read_label_images,
)

if TYPE_CHECKING:
    from synthscene.assets.library import AssetLibrary

logger = logging.getLogger(__name__)

CV_FROM_GL = np.diag([1.0, -1.0, -1.0, 1.0])
"""(4, 4) float64: flips y and z between OpenCV's and OpenGL's camera frames (it is its own
inverse)."""

_ID_VERTEX_SHADER = """
#version 330 core
layout(location = 0) in vec3 position;
uniform mat4 camera_from_model;
uniform mat4 projection;
out vec3 camera_position;
void main() {
    vec4 p = camera_from_model * vec4(position, 1.0);
    camera_position = p.xyz;
    gl_Position = projection * p;
}
"""

# WITH_NORMALS (defined when RenderSettings.normals is on) adds a third output: the normal of the
# rasterised triangle's plane, whose screen-space derivatives dFdx, dFdy of the (perspective-
# correctly interpolated) camera-space position both lie in; so it is exact per face and belongs
# to the same surface as the depth. It is turned to the side facing the camera, then to OpenCV's
# camera axes (y and z flipped).
_ID_FRAGMENT_SHADER = """
#version 330 core
uniform int instance_id;
in vec3 camera_position;
layout(location = 0) out int out_id;
layout(location = 1) out float out_depth;
#ifdef WITH_NORMALS
layout(location = 2) out vec4 out_normal;
#endif
void main() {
    out_id = instance_id;
    out_depth = -camera_position.z;
#ifdef WITH_NORMALS
    vec3 n = normalize(cross(dFdx(camera_position), dFdy(camera_position)));
    if (dot(n, camera_position) > 0.0) n = -n;
    out_normal = vec4(n.x, -n.y, -n.z, 0.0);
#endif
}
"""

_AMODAL_FRAGMENT_SHADER = """
#version 330 core
layout(location = 0) out float out_mask;
void main() {
    out_mask = 1.0;
}
"""

AMODAL_ATLAS_SIZE = (2048, 4096)
"""(width, height) in pixels of the GL_R8 atlas that the amodal pass draws every labelled object
into, each in its own cell (capped by the GL implementation's limits)."""


class RenderError(SynthsceneError):
    """The GL context cannot be created, or a frame cannot be rendered."""


class _SharedPrimitive(pyrender.Primitive):
    """A pyrender primitive that draws another primitive's GL buffers with its own material.

    pyrender uploads a primitive's vertex data the first time a scene containing it is rendered
    and deletes it once the primitive leaves the scene. Proxies make both no-ops, so the base
    primitive (owned by :class:`Renderer`) is uploaded once per asset and freed only on close.
    """

    def __init__(self, base: pyrender.Primitive, material: pyrender.Material) -> None:
        # Share every array (no copy) and the GL handles; then replace the material.
        self.__dict__.update(base.__dict__)
        self._buffers = base._buffers
        self.material = material
        self._is_transparent = None
        self._buf_flags = None

    def _add_to_context(self) -> None:  # the base is uploaded already
        pass

    def _remove_from_context(self) -> None:  # the base owns the buffers
        pass

    def delete(self) -> None:
        pass


def _pyrender_materials(material: Material,
                        bases: list[pyrender.Primitive]) -> list[pyrender.Material]:
    """The single-sided pyrender material of a drawn (``randomize``)
    :class:`~synthscene.core.state.Material` for each base primitive of one object.

    ``material.texture`` on a base with texture coordinates gives that
    texture (uploaded by pyrender for this frame only, freed when it leaves the scene), with a
    white base-colour factor. Otherwise the plain base colour. The textured and the plain
    material are each made once per object, so a texture is uploaded once whatever the number
    of primitives.
    """
    made: dict[bool, pyrender.MetallicRoughnessMaterial] = {}

    def plain_or_textured(textured: bool) -> pyrender.MetallicRoughnessMaterial:
        if textured not in made:
            color = np.asarray(material.base_color, dtype=np.float64)
            texture = None
            if textured:
                texture = pyrender.Texture(source=np.ascontiguousarray(material.texture),
                                           source_channels="RGB")
                color = np.array([1.0, 1.0, 1.0, color[3]])
            made[textured] = pyrender.MetallicRoughnessMaterial(
                baseColorFactor=color, baseColorTexture=texture,
                metallicFactor=float(material.metallic),
                roughnessFactor=float(material.roughness),
            )
        return made[textured]

    return [plain_or_textured(material.texture is not None and base.texcoord_0 is not None)
            for base in bases]


@dataclass
class _LookPart:
    """One :class:`~synthscene.assets.appearance.VisualPart` uploaded: its base primitive (with the
    declared material), its texture (uploaded while drawn) and the part itself."""

    base: pyrender.Primitive
    texture: pyrender.Texture | None
    part: VisualPart


def _texture(image: np.ndarray) -> pyrender.Texture:
    return pyrender.Texture(source=np.ascontiguousarray(image),
                            source_channels="RGBA" if image.shape[2] == 4 else "RGB")


def _look_material(declared: AssetMaterial, texture: pyrender.Texture | None, *, flat: bool,
                   factor: tuple[float, ...] | None = None, metallic: float | None = None,
                   roughness: float | None = None) -> pyrender.MetallicRoughnessMaterial:
    """pyrender's single-sided material of a declared material, with optional overrides.

    ``factor`` is linear RGBA. pyrender's lit shader takes the base colour factor as linear
    and encodes its result to sRGB; its flat shader writes factor x texel x vertex colour as
    they are, so for ``flat`` the factor is given sRGB-encoded (the texel is sRGB already):
    either way a declared colour renders as itself.
    """
    rgba = np.asarray(factor or declared.base_color_factor, dtype=np.float64)
    if flat:
        rgba = np.concatenate([linear_to_srgb(rgba[:3]), rgba[3:]])
    return pyrender.MetallicRoughnessMaterial(
        baseColorFactor=rgba,
        baseColorTexture=texture,
        metallicFactor=float(declared.metallic if metallic is None else metallic),
        roughnessFactor=float(declared.roughness if roughness is None else roughness),
        alphaMode=declared.alpha_mode,
        alphaCutoff=float(declared.alpha_cutoff),
    )


def _look_primitive(part: VisualPart, material: pyrender.Material,
                    vertex_colors: np.ndarray | None, *, flat: bool) -> pyrender.Primitive:
    """A flat-shaded primitive of a part: un-merged vertices, each triangle's own normal (as
    ``pyrender.Mesh.from_trimesh(..., smooth=False)`` builds them). ``vertex_colors`` ((n, 4)
    uint8, sRGB) become linear ``COLOR_0`` for the lit shader (which multiplies them into its
    linear result) and stay sRGB for the flat one."""
    corners = part.vertices[part.faces]  # (m, 3, 3)
    normals = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])
    length = np.linalg.norm(normals, axis=1, keepdims=True)
    normals = np.divide(normals, length, out=np.zeros_like(normals), where=length > 0)
    return pyrender.Primitive(
        positions=corners.reshape(-1, 3).astype(np.float32),
        normals=np.repeat(normals, 3, axis=0).astype(np.float32),
        texcoord_0=None if part.uv is None
        else part.uv[part.faces].reshape(-1, 2).astype(np.float32),
        color_0=None if vertex_colors is None else _color_0(vertex_colors[part.faces], flat),
        material=material,
        mode=pyrender.constants.GLTF.TRIANGLES,
    )


def _color_0(colors: np.ndarray, flat: bool) -> np.ndarray:
    """(..., 4) uint8 sRGB vertex colours as pyrender's (k, 4) float32 ``COLOR_0``."""
    values = colors.reshape(-1, 4).astype(np.float64) / 255.0
    if not flat:
        values[:, :3] = srgb_to_linear(values[:, :3])
    return values.astype(np.float32)


def _jittered_factor(declared: AssetMaterial, jitter: HsvJitter) -> tuple[float, ...]:
    """The linear factor with ``jitter`` applied to its display (sRGB) colour."""
    shown = linear_to_srgb(np.asarray(declared.base_color_factor[:3]))
    rgb = srgb_to_linear(jitter_colors(shown, jitter))
    return (*(float(c) for c in rgb), float(declared.base_color_factor[3]))


def _with_texture_coordinates(mesh: trimesh.Trimesh) -> trimesh.Trimesh:
    """``mesh`` itself if it has texture coordinates, else a box-projected copy (un-merged
    vertices; :func:`synthscene.assets.uv.box_uv`, one texture repeat per normalised unit)."""
    uv = getattr(mesh.visual, "uv", None)
    if isinstance(mesh.visual, trimesh.visual.TextureVisuals) and uv is not None \
            and len(uv) == len(mesh.vertices):
        return mesh
    projected = box_uv(mesh.vertices, mesh.faces, scale=1.0)
    return trimesh.Trimesh(vertices=projected.vertices, faces=projected.faces, process=False,
                           visual=trimesh.visual.TextureVisuals(uv=projected.uv))


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


def _rectangle_mesh(width: float, height: float) -> trimesh.Trimesh:
    """A ``width`` x ``height`` metre rectangle centred in the z = 0 plane, normal +z, two
    triangles; a texture repeats every metre (texture coordinates in metres)."""
    w, h = width / 2.0, height / 2.0
    vertices = np.array([[-w, -h, 0.0], [w, -h, 0.0], [w, h, 0.0], [-w, h, 0.0]])
    faces = np.array([[0, 1, 2], [0, 2, 3]])
    uv = np.array([[0.0, height], [width, height], [width, 0.0], [0.0, 0.0]])
    return trimesh.Trimesh(vertices=vertices, faces=faces, process=False,
                           visual=trimesh.visual.TextureVisuals(uv=uv))


class Renderer:
    """Render frames offscreen with pyrender (colour) and an exact id/depth pass.

    Parameters
    ----------
    library : AssetLibrary
        Where object meshes come from (``library.get(key).mesh``, normalised to a longest edge
        of 1; ``SceneObject.scale`` makes it metres).
    width, height : int
        Image size in pixels; every rendered state's camera must have this size.
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
        self._renderer: pyrender.OffscreenRenderer | None = None
        self._base_primitives: dict[str, list[pyrender.Primitive]] = {}
        self._looks: dict[str, list[_LookPart]] = {}
        self._frame_primitives: list[pyrender.Primitive] = []
        # Jittered textures by (asset, part, jitter), kept while drawn in consecutive frames
        # (the frames of a sequence), so that each is made and uploaded once.
        self._jittered: dict[tuple, pyrender.Texture] = {}
        self._jittered_before: dict[tuple, pyrender.Texture] = {}
        self._ground_sizes: dict[tuple[float, float], list[pyrender.Primitive]] = {}
        self._program = None
        self._uniforms: dict[str, int] = {}
        self._fbo = None
        self._renderbuffers: list[int] = []
        self._amodal_pass: _AmodalPass | None = None
        self._pending: PendingFrame | None = None

    # -- context management ------------------------------------------------------------------
    def __enter__(self) -> Renderer:
        try:
            self._renderer = pyrender.OffscreenRenderer(self.width, self.height)
        except Exception as exc:  # EGL/OSMesa raise many different types
            raise RenderError(
                f"cannot create an offscreen OpenGL context ({type(exc).__name__}: {exc}). "
                + platform_hint()
            ) from None
        self._make_current()
        try:
            colour = ColourRenderer(self.width, self.height, self.settings.msaa_samples)
        except Exception:
            self._renderer.delete()
            self._renderer = None
            raise
        self._renderer._renderer.delete()
        self._renderer._renderer = colour  # OffscreenRenderer.delete() frees it
        if self.settings.amodal:
            self._amodal_pass = _AmodalPass(self.width, self.height)
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        """Free every GL resource and the context. Idempotent."""
        if self._renderer is None:
            return
        self._pending = None
        self._make_current()
        looks = [[look.base for look in parts] for parts in self._looks.values()]
        for prims in [*self._base_primitives.values(), *self._ground_sizes.values(), *looks,
                      self._frame_primitives]:
            for prim in prims:
                pyrender.Primitive.delete(prim)
        self._base_primitives.clear()
        self._looks.clear()
        self._frame_primitives = []
        self._ground_sizes.clear()
        if self._fbo is not None:
            GL.glDeleteFramebuffers(1, [self._fbo])
            GL.glDeleteRenderbuffers(len(self._renderbuffers), self._renderbuffers)
            self._fbo = None
            self._renderbuffers = []
        if self._program is not None:
            GL.glDeleteProgram(self._program)
            self._program = None
        if self._amodal_pass is not None:
            self._amodal_pass.delete()
            self._amodal_pass = None
        self._renderer.delete()
        self._renderer = None

    def _make_current(self) -> None:
        self._renderer._platform.make_current()

    # -- GL resources ------------------------------------------------------------------------
    def _build_id_pass(self) -> None:
        """Build the separate label pass's id/depth(/normals) framebuffer and program (on its
        first use: by default the colour pass writes the label images itself)."""
        fragment = _ID_FRAGMENT_SHADER
        if self.settings.normals:
            fragment = fragment.replace("#version 330 core\n", "#version 330 core\n"
                                        "#define WITH_NORMALS\n", 1)
        self._program = _compile_program(_ID_VERTEX_SHADER, fragment)
        for name in ("camera_from_model", "projection", "instance_id"):
            self._uniforms[name] = GL.glGetUniformLocation(self._program, name)
        self._fbo = GL.glGenFramebuffers(1)
        formats = [(GL.GL_R32I, GL.GL_COLOR_ATTACHMENT0), (GL.GL_R32F, GL.GL_COLOR_ATTACHMENT1),
                   (GL.GL_DEPTH_COMPONENT24, GL.GL_DEPTH_ATTACHMENT)]
        if self.settings.normals:
            formats.append((GL.GL_RGBA32F, GL.GL_COLOR_ATTACHMENT2))
        self._renderbuffers = [int(rb) for rb in np.atleast_1d(GL.glGenRenderbuffers(len(formats)))]
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, self._fbo)
        for rb, (fmt, attachment) in zip(self._renderbuffers, formats):
            GL.glBindRenderbuffer(GL.GL_RENDERBUFFER, rb)
            GL.glRenderbufferStorage(GL.GL_RENDERBUFFER, fmt, self.width, self.height)
            GL.glFramebufferRenderbuffer(GL.GL_FRAMEBUFFER, attachment, GL.GL_RENDERBUFFER, rb)
        status = GL.glCheckFramebufferStatus(GL.GL_FRAMEBUFFER)
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, 0)
        if status != GL.GL_FRAMEBUFFER_COMPLETE:
            raise RenderError(f"the id framebuffer is incomplete (GL status {status:#x})")

    def _upload(self, trimesh_mesh: trimesh.Trimesh) -> list[pyrender.Primitive]:
        mesh = pyrender.Mesh.from_trimesh(trimesh_mesh, smooth=False)
        for prim in mesh.primitives:
            prim._add_to_context()
        return list(mesh.primitives)

    def _asset_primitives(self, key: str) -> list[pyrender.Primitive]:
        prims = self._base_primitives.get(key)
        if prims is None:
            prims = self._upload(_with_texture_coordinates(self._library.get(key).mesh))
            self._base_primitives[key] = prims
        return prims

    def _asset_look(self, key: str) -> list[_LookPart]:
        """The asset's visual parts uploaded with their declared materials (once per asset)."""
        look = self._looks.get(key)
        if look is None:
            look, flat = [], self.settings.shading == "flat"
            for part in self._library.look(key):
                image = part.material.base_color_texture
                texture = None if image is None else _texture(image)
                base = _look_primitive(part, _look_material(part.material, texture, flat=flat),
                                       part.vertex_colors, flat=flat)
                base._add_to_context()
                look.append(_LookPart(base, texture, part))
            self._looks[key] = look
        return look

    def _look_primitives(self, key: str, material: Material) -> list[pyrender.Primitive]:
        """The primitives that draw an object in its asset's own look (``keep``) or in a
        jittered copy of it (``jitter``): the declared materials (shared), or per-object
        materials with the drawn metallic/roughness, jittered colour factor and texture; parts
        with vertex colours get a per-frame primitive with jittered colours (freed at the next
        frame)."""
        out: list[pyrender.Primitive] = []
        jitter = material.appearance == "jitter"
        flat = self.settings.shading == "flat"
        for index, look in enumerate(self._asset_look(key)):
            declared = look.part.material
            if not jitter and material.metallic is None and material.roughness is None:
                out.append(_SharedPrimitive(look.base, look.base.material))
                continue
            texture, factor = look.texture, None
            if jitter:
                factor = _jittered_factor(declared, material.jitter)
                if declared.base_color_texture is not None:
                    texture = self._jittered_texture((key, index, material.jitter),
                                                     declared.base_color_texture)
            made = _look_material(declared, texture, flat=flat, factor=factor,
                                  metallic=material.metallic, roughness=material.roughness)
            if jitter and look.part.vertex_colors is not None:
                colors = look.part.vertex_colors.copy()
                colors[:, :3] = np.round(jitter_colors(colors[:, :3] / 255.0,
                                                       material.jitter) * 255.0)
                prim = _look_primitive(look.part, made, colors, flat=flat)
                prim._add_to_context()
                self._frame_primitives.append(prim)
                out.append(prim)
            else:
                out.append(_SharedPrimitive(look.base, made))
        return out

    def _jittered_texture(self, cache_key: tuple, image: np.ndarray) -> pyrender.Texture:
        """The jittered copy of an asset texture (``cache_key``: asset, part, HsvJitter), made
        once while it is drawn in consecutive frames."""
        texture = self._jittered.get(cache_key) or self._jittered_before.pop(cache_key, None)
        if texture is None:
            texture = _texture(jitter_image(image, cache_key[2]))
        self._jittered[cache_key] = texture
        return texture

    def _rectangle_primitives(self, width: float, height: float) -> list[pyrender.Primitive]:
        prims = self._ground_sizes.get((width, height))
        if prims is None:
            prims = self._upload(_rectangle_mesh(width, height))
            self._ground_sizes[(width, height)] = prims
        return prims

    # -- per frame ---------------------------------------------------------------------------
    def _colour_items(self, state: SceneState) -> tuple[list[ColourItem], list]:
        """Return the colour pass items and the id pass draw list of (id, pose, primitives)."""
        items, draws = [], []
        if state.ground is not None:
            size = float(state.ground.size)
            bases = self._rectangle_primitives(size, size)
            items.append(self._item(BACKDROP, np.eye(4), bases, state.ground.material))
            draws.append((0, np.eye(4), bases))
        for wall in state.walls:
            bases = self._rectangle_primitives(float(wall.width), float(wall.height))
            items.append(self._item(BACKDROP, wall.world_from_wall, bases, wall.material))
            draws.append((0, wall.world_from_wall, bases))
        for obj in state.objects:
            world_from_model = obj.world_from_object @ np.diag([obj.scale] * 3 + [1.0])
            name = f"object-{obj.instance_id:06d}"
            if obj.material.appearance == "randomize":
                bases = self._asset_primitives(obj.asset_key)
                items.append(self._item(name, world_from_model, bases, obj.material,
                                        obj.instance_id))
            else:
                bases = [look.base for look in self._asset_look(obj.asset_key)]
                items.append(ColourItem(name, np.asarray(world_from_model, dtype=np.float64),
                                        self._look_primitives(obj.asset_key, obj.material),
                                        int(obj.instance_id)))
            draws.append((obj.instance_id, world_from_model, bases))
        return items, draws

    @staticmethod
    def _item(name: str, world_from_model: np.ndarray, bases: list[pyrender.Primitive],
              material: Material, instance_id: int = 0) -> ColourItem:
        materials = _pyrender_materials(material, bases)
        return ColourItem(name, np.asarray(world_from_model, dtype=np.float64),
                          [_SharedPrimitive(b, m) for b, m in zip(bases, materials)],
                          int(instance_id))

    def _lean_colour_pass(self, state: SceneState) -> bool:
        """Whether the frame's colour pass is the lean one: no shadows, at most 4 lights of a
        kind (else pyrender's own pass)."""
        return not self.settings.shadows and self._renderer._renderer.takes(state.lights)

    def _labels_in_colour_pass(self, state: SceneState) -> bool:
        """Whether this frame's ids and depth come from the colour pass itself: the lean pass,
        single-sampled, no normals asked."""
        return (self._lean_colour_pass(state) and self._renderer._renderer.carries_labels
                and not self.settings.normals)

    def _draw_colour_pass(self, state: SceneState, items: list[ColourItem],
                          view: _GLView, labels: bool) -> None:
        """Queue the colour pass (with the label images if ``labels``): the lean pass, or
        pyrender's own with shadow maps or with more lights of a kind than its shader takes (it
        then uses each object's nearest ones)."""
        if self._lean_colour_pass(state):
            self._renderer._renderer.draw(
                items, state.lights,
                ambient_light=np.asarray(state.ambient_light, dtype=np.float64),
                bg_color=np.array([*state.background_color, 1.0]),
                world_from_camera_gl=view.world_from_camera, projection=view.projection,
                flat=self.settings.shading == "flat", labels=labels)
            return
        self._renderer.render(self._pyrender_scene(state, items, view), flags=self._flags())

    @staticmethod
    def _pyrender_scene(state: SceneState, items: list[ColourItem],
                        view: _GLView) -> OrderedScene:
        """The frame as a pyrender scene, for pyrender's own forward pass (shadow maps)."""
        scene = OrderedScene(
            ambient_light=np.asarray(state.ambient_light, dtype=np.float64),
            bg_color=np.array([*state.background_color, 1.0]),
        )
        for item in items:
            scene.add(pyrender.Mesh(primitives=list(item.primitives)),
                      pose=item.world_from_model, name=item.name)
        for index, light in enumerate(state.lights):
            color = np.asarray(light.color, dtype=np.float64)
            if light.kind == "directional":
                pl = pyrender.DirectionalLight(color=color, intensity=light.intensity)
            elif light.kind == "point":
                pl = pyrender.PointLight(color=color, intensity=light.intensity)
            else:
                pl = pyrender.SpotLight(
                    color=color, intensity=light.intensity,
                    innerConeAngle=light.inner_cone_angle, outerConeAngle=light.outer_cone_angle,
                )
            scene.add(pl, pose=light.world_from_light, name=f"light-{index:03d}")
        scene.add(_gl_camera(state.camera), pose=view.world_from_camera)
        return scene

    def _flags(self) -> int:
        flags = pyrender.RenderFlags.NONE  # back faces culled, as in the id pass
        if self.settings.shading == "flat":
            flags |= pyrender.RenderFlags.FLAT
        if self.settings.shadows:
            flags |= pyrender.RenderFlags.SHADOWS_DIRECTIONAL | pyrender.RenderFlags.SHADOWS_SPOT
        return flags

    def _draw_id_pass(self, view: _GLView, draws: list) -> None:
        """Queue the id/depth pass of one frame (the GL driver starts it on glFlush)."""
        if self._fbo is None:
            self._build_id_pass()
        w, h = self.width, self.height
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, self._fbo)
        attachments = [GL.GL_COLOR_ATTACHMENT0, GL.GL_COLOR_ATTACHMENT1]
        if self.settings.normals:
            attachments.append(GL.GL_COLOR_ATTACHMENT2)
        GL.glDrawBuffers(len(attachments), attachments)
        GL.glViewport(0, 0, w, h)
        GL.glDisable(GL.GL_BLEND)
        # Cull back faces exactly as pyrender's colour pass does (counter-clockwise front faces),
        # so a pixel that shows the background through an open mesh is background in the labels.
        GL.glEnable(GL.GL_CULL_FACE)
        GL.glCullFace(GL.GL_BACK)
        GL.glFrontFace(GL.GL_CCW)
        GL.glDisable(GL.GL_MULTISAMPLE)
        GL.glEnable(GL.GL_DEPTH_TEST)
        GL.glDepthMask(GL.GL_TRUE)
        GL.glDepthFunc(GL.GL_LESS)
        GL.glClearBufferiv(GL.GL_COLOR, 0, np.zeros(4, dtype=np.int32))
        GL.glClearBufferfv(GL.GL_COLOR, 1, np.zeros(4, dtype=np.float32))
        if self.settings.normals:
            GL.glClearBufferfv(GL.GL_COLOR, 2, np.zeros(4, dtype=np.float32))
        GL.glClearBufferfv(GL.GL_DEPTH, 0, np.ones(1, dtype=np.float32))
        GL.glUseProgram(self._program)
        GL.glUniformMatrix4fv(self._uniforms["projection"], 1, GL.GL_TRUE,
                              view.projection.astype(np.float32))
        for instance_id, world_from_model, prims in draws:
            camera_from_model = (view.camera_from_world @ world_from_model).astype(np.float32)
            GL.glUniformMatrix4fv(self._uniforms["camera_from_model"], 1, GL.GL_TRUE,
                                  camera_from_model)
            GL.glUniform1i(self._uniforms["instance_id"], int(instance_id))
            _draw_primitives(prims)
        GL.glBindVertexArray(0)
        GL.glUseProgram(0)
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, 0)
        GL.glFlush()

    def _read_id_pass(self) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Wait for the id/depth pass; return ids (H, W) int32, depth (H, W) float32 and
        normals (H, W, 3) float32 (None unless ``settings.normals``), top row first."""
        w, h = self.width, self.height
        ids, depth = read_label_images(self._fbo, GL.GL_COLOR_ATTACHMENT0, w, h)
        normals = None
        if self.settings.normals:
            GL.glBindFramebuffer(GL.GL_READ_FRAMEBUFFER, self._fbo)
            GL.glReadBuffer(GL.GL_COLOR_ATTACHMENT2)
            rgba = GL.glReadPixels(0, 0, w, h, GL.GL_RGBA, GL.GL_FLOAT)
            GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, 0)
            normals = np.ascontiguousarray(
                np.frombuffer(rgba, dtype=np.float32).reshape(h, w, 4)[::-1, :, :3])
        return ids, depth, normals

    def _draw_amodal_pass(self, state: SceneState, view: _GLView, draws: list) -> None:
        """Queue the solo render of every labelled object (see :class:`_AmodalPass`)."""
        drawn = {instance_id: (pose, bases) for instance_id, pose, bases in draws}
        items = []
        for obj in state.objects:
            if not obj.labelled:
                continue
            # The id pass's primitives and float64 product, so both passes rasterise the same
            # vertices (an object in its own look draws its look's primitives in both).
            world_from_model, bases = drawn[obj.instance_id]
            camera_from_model_gl = view.camera_from_world @ world_from_model
            camera_from_model = CV_FROM_GL @ camera_from_model_gl  # OpenCV camera frame
            bounds = np.asarray(self._library.get(obj.asset_key).mesh.bounds, dtype=np.float64)
            corners = np.array([[x, y, z] for x in bounds[:, 0] for y in bounds[:, 1]
                                for z in bounds[:, 2]])
            corners = corners @ camera_from_model[:3, :3].T + camera_from_model[:3, 3]
            items.append(_AmodalItem(int(obj.instance_id), camera_from_model_gl, bases, corners))
        self._amodal_pass.submit(state.camera, view.projection, items)

    def render(self, state: SceneState) -> RenderOutput:
        """Render one frame and wait for it: ``submit(state).result()``.

        Parameters
        ----------
        state : SceneState
            The (settled) scene. ``state.camera`` must be ``width`` x ``height``.

        Returns
        -------
        RenderOutput
            ``rgb`` (H, W, 3) uint8; ``depth`` (H, W) float32 metres along the optical axis, 0
            where nothing was hit; ``instance_ids`` (H, W) int32, 0 for background and ground.

        Raises
        ------
        RenderError
            If the renderer is not open, or the camera size differs from the renderer's.
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
            If the renderer is not open, or the camera size differs from the renderer's.
        """
        if self._renderer is None:
            raise RenderError("Renderer is not open: use it as a context manager")
        cam = state.camera
        if (cam.width, cam.height) != (self.width, self.height):
            raise RenderError(
                f"camera is {cam.width}x{cam.height} but the renderer is {self.width}x{self.height}"
            )
        if self._pending is not None:
            self._pending.result()
        self._make_current()
        for prim in self._frame_primitives:  # the previous frame's, drawn and read by now
            pyrender.Primitive.delete(prim)
        self._frame_primitives = []
        self._jittered_before, self._jittered = self._jittered, {}  # the colour pass frees
        # the textures of the frame before that are not drawn again
        view = _GLView.of(cam)
        items, draws = self._colour_items(state)
        labels = self._labels_in_colour_pass(state)
        self._draw_colour_pass(state, items, view, labels)
        self._make_current()
        if not labels:
            self._draw_id_pass(view, draws)
        if self._amodal_pass is not None:
            self._draw_amodal_pass(state, view, draws)
        self._pending = PendingFrame(self, labels_in_colour=labels)
        return self._pending

    def _finish(self, labels_in_colour: bool) -> RenderOutput:
        self._make_current()
        colour = self._renderer._renderer
        rgb = colour.read_colour()
        if labels_in_colour:
            (ids, depth), normals = colour.read_labels(), None
        else:
            ids, depth, normals = self._read_id_pass()
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
            if renderer is None or renderer._renderer is None:
                raise RenderError("the Renderer was closed before this frame was collected")
            self._output = renderer._finish(self._labels_in_colour)
            self._renderer = None
        return self._output


# -- label passes: helpers ---------------------------------------------------------------------
def _compile_program(vertex: str, fragment: str) -> int:
    """Compile and link a GL program from GLSL sources."""
    from OpenGL.GL import shaders

    return shaders.compileProgram(
        shaders.compileShader(vertex, GL.GL_VERTEX_SHADER),
        shaders.compileShader(fragment, GL.GL_FRAGMENT_SHADER),
        validate=False,
    )


def _draw_primitives(prims: list[pyrender.Primitive]) -> None:
    """Draw base primitives' vertex arrays with the bound program (positions at location 0)."""
    for prim in prims:
        GL.glBindVertexArray(prim._vaid)
        if prim.indices is not None:
            GL.glDrawElements(prim.mode, prim.indices.size, GL.GL_UNSIGNED_INT,
                              ctypes.c_void_p(0))
        else:
            GL.glDrawArrays(prim.mode, 0, len(prim.positions))


@dataclass(frozen=True, eq=False)
class _AmodalItem:
    """One labelled object for the amodal pass.

    Attributes
    ----------
    instance_id : int
    camera_from_model_gl : (4, 4) float64
        Model (scaled mesh) to OpenGL camera frame, as the id pass computes it.
    prims : list of pyrender.Primitive
        The asset's uploaded base primitives.
    corners : (8, 3) float64
        The mesh's bounding-box corners in the OpenCV camera frame, metres.
    """

    instance_id: int
    camera_from_model_gl: np.ndarray
    prims: list
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


def _amodal_rect(corners: np.ndarray, K: np.ndarray, znear: float, width: int,
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


def _pack(rects: dict[int, tuple[int, int, int, int]], atlas_w: int,
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


def _cell_projection(projection: np.ndarray, cell: _Cell, width: int, height: int) -> np.ndarray:
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


class _AmodalPass:
    """Solo renders of labelled objects, for amodal masks: one GL pass into an atlas.

    Each labelled object gets the rectangle of image pixels its bounding box can cover
    (:func:`_amodal_rect`; it may extend beyond the image, which gives truncation), and that
    rectangle its own cell in a ``GL_R8`` atlas (:func:`_pack`; several pages, drawn one after
    another, if they do not fit; tiles if a rectangle is larger than the atlas). The object
    alone is drawn into its cell with glViewport/glScissor and an off-axis projection shifted by
    the rectangle's integer origin (:func:`_cell_projection`): the same pixel sample positions as
    the full image, the same near/far clipping and back-face culling, no depth test (the union
    of its front faces). One readback per page; the first page is queued by :meth:`submit` with
    the frame's other passes and read by :meth:`result`.
    """

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = int(width), int(height)
        self._program = _compile_program(_ID_VERTEX_SHADER, _AMODAL_FRAGMENT_SHADER)
        self._uniforms = {name: GL.glGetUniformLocation(self._program, name)
                          for name in ("camera_from_model", "projection")}
        limit = int(GL.glGetIntegerv(GL.GL_MAX_RENDERBUFFER_SIZE))
        viewport = np.atleast_1d(GL.glGetIntegerv(GL.GL_MAX_VIEWPORT_DIMS))
        self.atlas_w = min(AMODAL_ATLAS_SIZE[0], limit, int(viewport[0]))
        self.atlas_h = min(AMODAL_ATLAS_SIZE[1], limit, int(viewport[-1]))
        self._fbo = GL.glGenFramebuffers(1)
        self._rb = GL.glGenRenderbuffers(1)
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, self._fbo)
        GL.glBindRenderbuffer(GL.GL_RENDERBUFFER, self._rb)
        GL.glRenderbufferStorage(GL.GL_RENDERBUFFER, GL.GL_R8, self.atlas_w, self.atlas_h)
        GL.glFramebufferRenderbuffer(GL.GL_FRAMEBUFFER, GL.GL_COLOR_ATTACHMENT0,
                                     GL.GL_RENDERBUFFER, self._rb)
        status = GL.glCheckFramebufferStatus(GL.GL_FRAMEBUFFER)
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, 0)
        if status != GL.GL_FRAMEBUFFER_COMPLETE:
            self.delete()
            raise RenderError(f"the amodal framebuffer is incomplete (GL status {status:#x})")
        self._frame: tuple | None = None  # (items by id, projection, pages, rects) of a frame

    def delete(self) -> None:
        """Free the GL resources (the context must be current). Idempotent."""
        if self._fbo is not None:
            GL.glDeleteFramebuffers(1, [self._fbo])
            GL.glDeleteRenderbuffers(1, [self._rb])
            GL.glDeleteProgram(self._program)
            self._fbo = self._rb = self._program = None

    def submit(self, camera: Camera, projection: np.ndarray, items: list[_AmodalItem]) -> None:
        """Lay the objects out and queue the first atlas page (``projection``: the image's
        OpenGL projection, (4, 4) float64)."""
        rects = {}
        for item in items:
            rect = _amodal_rect(item.corners, camera.K, camera.znear, self.width, self.height)
            if rect is not None:
                rects[item.instance_id] = rect
        pages = _pack(rects, self.atlas_w, self.atlas_h) if rects else []
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
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, self._fbo)
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
        GL.glUseProgram(self._program)
        for cell in page:
            item = items[cell.instance_id]
            GL.glViewport(cell.ax, cell.ay, cell.w, cell.h)
            GL.glScissor(cell.ax, cell.ay, cell.w, cell.h)
            cell_projection = _cell_projection(projection, cell, self.width, self.height)
            GL.glUniformMatrix4fv(self._uniforms["projection"], 1, GL.GL_TRUE,
                                  cell_projection.astype(np.float32))
            GL.glUniformMatrix4fv(self._uniforms["camera_from_model"], 1, GL.GL_TRUE,
                                  item.camera_from_model_gl.astype(np.float32))
            _draw_primitives(item.prims)
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
        GL.glBindFramebuffer(GL.GL_READ_FRAMEBUFFER, self._fbo)
        GL.glReadBuffer(GL.GL_COLOR_ATTACHMENT0)
        GL.glPixelStorei(GL.GL_PACK_ALIGNMENT, 1)
        buf = GL.glReadPixels(0, 0, used_w, used_h, GL.GL_RED, GL.GL_UNSIGNED_BYTE)
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, 0)
        return np.frombuffer(buf, dtype=np.uint8).reshape(used_h, used_w)[::-1]
