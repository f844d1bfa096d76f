"""Rendering of a :class:`~synthscene.state.SceneState` with pyrender, offscreen through EGL.

This is the only module that touches pyrender and OpenGL. One :class:`Renderer` owns one
``pyrender.OffscreenRenderer`` (hence one GL context) and is a context manager.

Two passes per frame:

1. **Colour**: pyrender's own forward renderer (PBR metallic-roughness shading, 4x MSAA) gives the
   RGB image. ``shading="flat"`` uses pyrender's unlit mode (base colour only).
   Back faces are culled in both passes (closed meshes look the same; through an open mesh both
   passes see what lies behind it).
2. **Labels**: our own small GL pass draws every object into a non-multisampled framebuffer with
   two colour attachments: a ``GL_R32I`` instance-id image and a ``GL_R32F`` image of camera-z
   depth in metres. Because it is integer and single-sampled, every pixel holds exactly the id of
   the nearest surface at the pixel centre (pyrender's ``RenderFlags.SEG`` blends ids at edges
   through its MSAA resolve), and ids are not limited to 255. Depth and ids come from the same
   rasterisation, so depth > 0 wherever an id is.

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
from typing import TYPE_CHECKING, Literal

import numpy as np

from synthscene._compat import patch_pyrender_numpy2
from synthscene.errors import SynthsceneError
from synthscene.gl_platform import ensure_gl_platform, platform_hint
from synthscene.state import Camera, Material, RenderOutput, SceneState

ensure_gl_platform()
patch_pyrender_numpy2()

import pyrender  # noqa: E402  (the GL platform must be chosen first)
import trimesh  # noqa: E402
from OpenGL import GL  # noqa: E402

if TYPE_CHECKING:
    from synthscene.assets import AssetLibrary

logger = logging.getLogger(__name__)

Shading = Literal["lit", "flat"]

CV_FROM_GL = np.diag([1.0, -1.0, -1.0, 1.0])
"""(4, 4) float64: flips y and z between OpenCV's and OpenGL's camera frames (it is its own
inverse)."""

_ID_VERTEX_SHADER = """
#version 330 core
layout(location = 0) in vec3 position;
uniform mat4 camera_from_model;
uniform mat4 projection;
out float camera_depth;
void main() {
    vec4 p = camera_from_model * vec4(position, 1.0);
    camera_depth = -p.z;
    gl_Position = projection * p;
}
"""

_ID_FRAGMENT_SHADER = """
#version 330 core
uniform int instance_id;
in float camera_depth;
layout(location = 0) out int out_id;
layout(location = 1) out float out_depth;
void main() {
    out_id = instance_id;
    out_depth = camera_depth;
}
"""


class RenderError(SynthsceneError):
    """The GL context cannot be created, or a frame cannot be rendered."""


@dataclass(frozen=True)
class RenderSettings:
    """How frames are rendered.

    Attributes
    ----------
    shading : {"lit", "flat"}
        ``"lit"``: pyrender's PBR shading with the scene's lights. ``"flat"``: base colour only.
    shadows : bool
        Directional and spot-light shadow maps (pyrender has no point-light shadows).
    background_color : (3,) tuple of float
        Linear RGB in [0, 1] where nothing is hit.
    """

    shading: Shading = "lit"
    shadows: bool = False
    background_color: tuple[float, float, float] = (0.0, 0.0, 0.0)


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


def _pyrender_material(material: Material) -> pyrender.MetallicRoughnessMaterial:
    """Convert a :class:`~synthscene.state.Material` to a single-sided pyrender material."""
    return pyrender.MetallicRoughnessMaterial(
        baseColorFactor=np.asarray(material.base_color, dtype=np.float64),
        metallicFactor=float(material.metallic),
        roughnessFactor=float(material.roughness),
    )


def _gl_camera(camera: Camera) -> pyrender.IntrinsicsCamera:
    K = np.asarray(camera.K, dtype=np.float64)
    return pyrender.IntrinsicsCamera(
        fx=K[0, 0], fy=K[1, 1], cx=K[0, 2] + 0.5, cy=K[1, 2] + 0.5,
        znear=camera.znear, zfar=camera.zfar,
    )


def _ground_mesh(size: float) -> trimesh.Trimesh:
    """A square of side ``size`` metres in the z = 0 plane, normal +z, two triangles."""
    h = size / 2.0
    vertices = np.array([[-h, -h, 0.0], [h, -h, 0.0], [h, h, 0.0], [-h, h, 0.0]])
    faces = np.array([[0, 1, 2], [0, 2, 3]])
    return trimesh.Trimesh(vertices=vertices, faces=faces, process=False)


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
        self._ground_sizes: dict[float, list[pyrender.Primitive]] = {}
        self._program = None
        self._uniforms: dict[str, int] = {}
        self._fbo = None
        self._renderbuffers: list[int] = []

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
        self._build_id_pass()
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        """Free every GL resource and the context. Idempotent."""
        if self._renderer is None:
            return
        self._make_current()
        for prims in list(self._base_primitives.values()) + list(self._ground_sizes.values()):
            for prim in prims:
                pyrender.Primitive.delete(prim)
        self._base_primitives.clear()
        self._ground_sizes.clear()
        if self._fbo is not None:
            GL.glDeleteFramebuffers(1, [self._fbo])
            GL.glDeleteRenderbuffers(len(self._renderbuffers), self._renderbuffers)
            self._fbo = None
            self._renderbuffers = []
        if self._program is not None:
            GL.glDeleteProgram(self._program)
            self._program = None
        self._renderer.delete()
        self._renderer = None

    def _make_current(self) -> None:
        self._renderer._platform.make_current()

    # -- GL resources ------------------------------------------------------------------------
    def _build_id_pass(self) -> None:
        from OpenGL.GL import shaders

        self._program = shaders.compileProgram(
            shaders.compileShader(_ID_VERTEX_SHADER, GL.GL_VERTEX_SHADER),
            shaders.compileShader(_ID_FRAGMENT_SHADER, GL.GL_FRAGMENT_SHADER),
            validate=False,
        )
        for name in ("camera_from_model", "projection", "instance_id"):
            self._uniforms[name] = GL.glGetUniformLocation(self._program, name)
        self._fbo = GL.glGenFramebuffers(1)
        ids_rb, depth_rb, zbuffer_rb = GL.glGenRenderbuffers(3)
        self._renderbuffers = [ids_rb, depth_rb, zbuffer_rb]
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, self._fbo)
        for rb, fmt, attachment in (
            (ids_rb, GL.GL_R32I, GL.GL_COLOR_ATTACHMENT0),
            (depth_rb, GL.GL_R32F, GL.GL_COLOR_ATTACHMENT1),
            (zbuffer_rb, GL.GL_DEPTH_COMPONENT24, GL.GL_DEPTH_ATTACHMENT),
        ):
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
            prims = self._upload(self._library.get(key).mesh)
            self._base_primitives[key] = prims
        return prims

    def _ground_primitives(self, size: float) -> list[pyrender.Primitive]:
        prims = self._ground_sizes.get(size)
        if prims is None:
            prims = self._upload(_ground_mesh(size))
            self._ground_sizes[size] = prims
        return prims

    # -- per frame ---------------------------------------------------------------------------
    def _proxy_mesh(self, bases: list[pyrender.Primitive], material: Material) -> pyrender.Mesh:
        prims = [
            _SharedPrimitive(b, _pyrender_material(material)) for b in bases
        ]
        return pyrender.Mesh(primitives=prims)

    def _build_scene(self, state: SceneState) -> tuple[pyrender.Scene, list]:
        """Return the pyrender scene and the id pass draw list of (id, pose, primitives)."""
        scene = pyrender.Scene(
            ambient_light=np.asarray(state.ambient_light, dtype=np.float64),
            bg_color=np.array([*self.settings.background_color, 1.0]),
        )
        draws = []
        if state.ground is not None:
            bases = self._ground_primitives(float(state.ground.size))
            scene.add(self._proxy_mesh(bases, state.ground.material), pose=np.eye(4))
            draws.append((0, np.eye(4), bases))
        for obj in state.objects:
            bases = self._asset_primitives(obj.asset_key)
            world_from_model = obj.world_from_object @ np.diag([obj.scale] * 3 + [1.0])
            scene.add(self._proxy_mesh(bases, obj.material), pose=world_from_model)
            draws.append((obj.instance_id, world_from_model, bases))
        for light in state.lights:
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
            scene.add(pl, pose=light.world_from_light)
        scene.add(_gl_camera(state.camera), pose=state.camera.world_from_camera @ CV_FROM_GL)
        return scene, draws

    def _flags(self) -> int:
        flags = pyrender.RenderFlags.NONE  # back faces culled, as in the id pass
        if self.settings.shading == "flat":
            flags |= pyrender.RenderFlags.FLAT
        if self.settings.shadows:
            flags |= pyrender.RenderFlags.SHADOWS_DIRECTIONAL | pyrender.RenderFlags.SHADOWS_SPOT
        return flags

    def _id_pass(self, camera: Camera, draws: list) -> tuple[np.ndarray, np.ndarray]:
        w, h = self.width, self.height
        camera_from_world = np.linalg.inv(camera.world_from_camera @ CV_FROM_GL)
        projection = _gl_camera(camera).get_projection_matrix(w, h)
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, self._fbo)
        GL.glDrawBuffers(2, [GL.GL_COLOR_ATTACHMENT0, GL.GL_COLOR_ATTACHMENT1])
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
        GL.glClearBufferfv(GL.GL_DEPTH, 0, np.ones(1, dtype=np.float32))
        GL.glUseProgram(self._program)
        GL.glUniformMatrix4fv(self._uniforms["projection"], 1, GL.GL_TRUE,
                              projection.astype(np.float32))
        for instance_id, world_from_model, prims in draws:
            camera_from_model = (camera_from_world @ world_from_model).astype(np.float32)
            GL.glUniformMatrix4fv(self._uniforms["camera_from_model"], 1, GL.GL_TRUE,
                                  camera_from_model)
            GL.glUniform1i(self._uniforms["instance_id"], int(instance_id))
            for prim in prims:
                GL.glBindVertexArray(prim._vaid)
                if prim.indices is not None:
                    GL.glDrawElements(prim.mode, prim.indices.size, GL.GL_UNSIGNED_INT,
                                      ctypes.c_void_p(0))
                else:
                    GL.glDrawArrays(prim.mode, 0, len(prim.positions))
        GL.glBindVertexArray(0)
        GL.glUseProgram(0)
        GL.glReadBuffer(GL.GL_COLOR_ATTACHMENT0)
        ids = GL.glReadPixels(0, 0, w, h, GL.GL_RED_INTEGER, GL.GL_INT)
        GL.glReadBuffer(GL.GL_COLOR_ATTACHMENT1)
        depth = GL.glReadPixels(0, 0, w, h, GL.GL_RED, GL.GL_FLOAT)
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, 0)
        ids = np.frombuffer(ids, dtype=np.int32).reshape(h, w)[::-1]
        depth = np.frombuffer(depth, dtype=np.float32).reshape(h, w)[::-1]
        return np.ascontiguousarray(ids), np.ascontiguousarray(depth)

    def render(self, state: SceneState) -> RenderOutput:
        """Render one frame.

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
        if self._renderer is None:
            raise RenderError("Renderer is not open: use it as a context manager")
        cam = state.camera
        if (cam.width, cam.height) != (self.width, self.height):
            raise RenderError(
                f"camera is {cam.width}x{cam.height} but the renderer is {self.width}x{self.height}"
            )
        self._make_current()
        scene, draws = self._build_scene(state)
        rgb, _ = self._renderer.render(scene, flags=self._flags())
        ids, depth = self._id_pass(cam, draws)
        return RenderOutput(rgb=np.ascontiguousarray(rgb[..., :3]), depth=depth, instance_ids=ids)
