"""The colour pass: pyrender's shaders and materials, drawn by a loop of our own into our own
framebuffer.

:class:`ColourRenderer` draws with our copies of pyrender 0.1.45's GLSL programs
(``render/shaders/``: ``mesh.vert`` for both, ``mesh.frag``: PBR metallic-roughness,
``flat.frag``: unlit; the pieces they share are ``#include`` files), pyrender's light model and
pyrender's material classes (as plain data: ``pyrender.MetallicRoughnessMaterial``,
``pyrender.Texture``), through the GL objects of :mod:`synthscene.render.gl`:

* **Own framebuffer.** The colour image goes to a framebuffer of ``samples`` samples (1: no
  resolve), and only the colour is read back, later (:meth:`ColourRenderer.read_colour`), so the
  driver rasterises while the caller goes on.
* **Lean forward pass** (:meth:`ColourRenderer.draw`). It takes a flat list of
  :class:`ColourItem` and the frame's lights (no ``pyrender.Scene``), picks each program once per
  kind of primitive, sets the camera and the lights once per program per frame, caches uniform
  locations, and skips GL state that does not change. The uniforms get the values pyrender's
  ``Renderer`` gives them (the same float32 conversions) but for the model matrix: pyrender
  rebuilds it from translation, quaternion and scale; we pass the exact one (which the label pass
  uses too).
* **Label images.** Single-sampled, the framebuffer also holds a ``GL_R32I`` instance-id and a
  ``GL_R32F`` camera-z depth image, which the lit and flat shaders (``LABEL_OUTPUTS``) write
  from the same fragments as the colour, with blending off for them: no second rasterisation of
  every triangle.
* **Front to back.** Opaque items are drawn nearest first, so that hidden fragments fail the
  depth test before they are shaded (pyrender draws back to front); backdrop items (ground,
  walls) after every object; transparent ones back to front at the end.
* **Edits of pyrender's lit shaders**, baked into our copies (each file says what changed):

  - the normal matrix is the model matrix itself, not ``transpose(inverse(M))`` per vertex,
    which is the same direction for the rotation-times-uniform-scale matrices synthscene draws;
  - Schlick's Fresnel term ``(1 - v.h)^5`` is multiplied out instead of a ``pow``;
  - point and spot lights share one array and one loop (a point light is a spot light whose
    cone factor is 1: pyrender's point term exactly), and the two light loops run to
    compile-time counts: the lean pass builds each lit program for the frame's (directional,
    positional) light counts, shadows on or off (a variant is compiled on first use, and Mesa
    keeps compiled shaders in its on-disk cache). pyrender's loops run to uniform counts and
    index the light arrays with a loop variable, which llvmpipe executes as masked work over
    the arrays for every fragment. Programs per count of three kinds were up to 34 variants of
    1 to 4 lights (more again per kind of shadowed light), each a few MiB of compiled code in
    llvmpipe: a long run's memory grew as rare ones turned up; two kinds make 14;
  - with a frame's environment (``USE_ENVIRONMENT``), the environment light of
    ``environment.glsl`` (its diffuse and specular terms, named) added after the ambient term,
    and the environment drawn where nothing else was (:mod:`synthscene.render.environment_gl`).

  Without an environment, pixels move by at most a level or two against pyrender's own
  shaders. The light arrays are sized to the frame's counts too, so a frame may have any
  number of lights of a kind.
* **Shadows** (:mod:`synthscene.render.shadow_maps`): given a
  :class:`~synthscene.render.shadow_maps.ShadowFrame`, lit programs are built with the
  shadow-map define and multiply the term of each shadowed light (the first directional
  lights; the first positional ones, spot then point lights) by its shadow lookup
  (``shaders/shadows.glsl``); the depth passes are drawn before the colour pass, with our own
  GL objects. Every frame is drawn by this pass: pyrender's ``Renderer`` is never used.

What each of these saves is measured in ``docs/performance.md`` ("Rendering: what makes a frame
cheap").
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from synthscene.core.state import AmbientOcclusion, Light
from synthscene.errors import SynthsceneError
from synthscene.render.compat import patch_pyrender_numpy2
from synthscene.render.platform import ensure_gl_platform

ensure_gl_platform()
patch_pyrender_numpy2()

import pyrender  # noqa: E402  (the GL platform must be chosen first)
from OpenGL import GL  # noqa: E402
from pyrender.constants import MAX_N_LIGHTS, BufFlags, TexFlags  # noqa: E402

from synthscene.render.environment_gl import EnvironmentDraw, EnvironmentPass  # noqa: E402
from synthscene.render.footprint_mask import FootprintMask  # noqa: E402
from synthscene.render.gl import (  # noqa: E402
    Framebuffer,
    GLError,
    Program,
    TextureUploads,
    VertexArray,
    read_labels,
)
from synthscene.render.occlusion import DEFINE as OCCLUSION_DEFINE  # noqa: E402
from synthscene.render.occlusion import OcclusionPass  # noqa: E402
from synthscene.render.shadow_maps import ShadowFrame  # noqa: E402

__all__ = ["BACKDROP", "ColourItem", "ColourRenderer", "Part"]

BACKDROP = "synthscene-backdrop"
"""Name of items (and pyrender nodes) behind the objects (ground, walls): drawn after them."""

#: (texture flag, material attribute, sampler uniform), in pyrender's binding order.
_TEXTURE_SLOTS = (
    (TexFlags.NORMAL, "normalTexture", "material.normal_texture"),
    (TexFlags.OCCLUSION, "occlusionTexture", "material.occlusion_texture"),
    (TexFlags.EMISSIVE, "emissiveTexture", "material.emissive_texture"),
    (TexFlags.BASE_COLOR, "baseColorTexture", "material.base_color_texture"),
    (TexFlags.METALLIC_ROUGHNESS, "metallicRoughnessTexture",
     "material.metallic_roughness_texture"),
    (TexFlags.DIFFUSE, "diffuseTexture", "material.diffuse_texture"),
    (TexFlags.SPECULAR_GLOSSINESS, "specularGlossinessTexture",
     "material.specular_glossiness_texture"),
)

#: (buffer flag, define of its attribute location), in pyrender's layout order.
_BUFFER_LOCATIONS = (
    (BufFlags.NORMAL, "NORMAL_LOC"), (BufFlags.TANGENT, "TANGENT_LOC"),
    (BufFlags.TEXCOORD_0, "TEXCOORD_0_LOC"), (BufFlags.TEXCOORD_1, "TEXCOORD_1_LOC"),
    (BufFlags.COLOR_0, "COLOR_0_LOC"), (BufFlags.JOINTS_0, "JOINTS_0_LOC"),
    (BufFlags.WEIGHTS_0, "WEIGHTS_0_LOC"),
)

#: (texture flag, define), in pyrender's order.
_TEXTURE_DEFINES = (
    (TexFlags.NORMAL, "HAS_NORMAL_TEX"), (TexFlags.OCCLUSION, "HAS_OCCLUSION_TEX"),
    (TexFlags.EMISSIVE, "HAS_EMISSIVE_TEX"), (TexFlags.BASE_COLOR, "HAS_BASE_COLOR_TEX"),
    (TexFlags.METALLIC_ROUGHNESS, "HAS_METALLIC_ROUGHNESS_TEX"),
    (TexFlags.DIFFUSE, "HAS_DIFFUSE_TEX"),
    (TexFlags.SPECULAR_GLOSSINESS, "HAS_SPECULAR_GLOSSINESS_TEX"),
)

_LIGHT_LOOPS = ("directional", "positional")
"""The light loops of ``mesh.frag``, in the order it sums them (point and spot lights are
positional)."""


def _loop(light: Light) -> str:
    """The loop of ``mesh.frag`` that sums ``light``."""
    return "directional" if light.kind == "directional" else "positional"


class ColourPassError(SynthsceneError):
    """The colour framebuffer cannot be made, or label images are asked of a multisampled one."""


@dataclass(frozen=True, eq=False)
class Part:
    """One primitive of an item: uploaded vertex data drawn with a material.

    Attributes
    ----------
    mesh : VertexArray
        The uploaded vertex data (shared by every item that draws the same asset part).
    material : pyrender.Material
        pyrender's material (plain data), usually a ``pyrender.MetallicRoughnessMaterial``.
    """

    mesh: VertexArray
    material: Any

    @property
    def transparent(self) -> bool:
        """Whether the part is (partly) transparent (pyrender's rule: its material is, or a
        vertex colour's alpha is below 1)."""
        return bool(self.material.is_transparent) or self.mesh.translucent_colours


@dataclass(frozen=True, eq=False)
class ColourItem:
    """One thing to draw in the colour pass.

    Attributes
    ----------
    name : str
        Sort tie-breaker (``object-000001``); :data:`BACKDROP` for surfaces behind the objects.
    world_from_model : (4, 4) float64
        Model matrix, metres: a rotation times a uniform scale, plus a translation (normals
        are transformed by it, see the module notes).
    parts : sequence of Part
        The item's uploaded primitives, each with the item's own material.
    instance_id : int
        Written to the instance-id image where the item is the nearest surface (0: backdrop).
    """

    name: str
    world_from_model: np.ndarray
    parts: Sequence[Part]
    instance_id: int = 0

    @property
    def transparent(self) -> bool:
        """Whether any part is (partly) transparent."""
        return any(p.transparent for p in self.parts)


class ColourRenderer:
    """The colour pass: our framebuffer, our copies of pyrender's shaders, a lean forward pass.

    Needs a current GL context for its whole life.

    Parameters
    ----------
    width, height : int
        Viewport in pixels.
    samples : int
        MSAA samples of the colour framebuffer; 1 renders single-sampled (no resolve blit), and
        then the framebuffer also holds an instance-id and a depth image that :meth:`draw`
        fills on request (:attr:`carries_labels`).

    Raises
    ------
    ColourPassError
        If the framebuffer is incomplete.
    """

    def __init__(self, width: int, height: int, samples: int) -> None:
        self.width, self.height = int(width), int(height)
        self._samples = int(samples)
        self._programs: dict[tuple, Program] = {}
        self._textures = TextureUploads()
        self._environment: EnvironmentPass | None = None  # made on the first environment
        self._occlusion: OcclusionPass | None = None  # made on the first occlusion
        self._footprint_mask: FootprintMask | None = None  # made on the first footprint
        self._resolved = self._draw_target = None
        self._make_framebuffers()

    def _make_framebuffers(self) -> None:
        colour = [(GL.GL_RGBA8, GL.GL_COLOR_ATTACHMENT0),
                  (GL.GL_DEPTH_COMPONENT24, GL.GL_DEPTH_ATTACHMENT)]
        labels = [(GL.GL_R32I, GL.GL_COLOR_ATTACHMENT1),  # instance ids
                  (GL.GL_R32F, GL.GL_COLOR_ATTACHMENT2)]  # camera-z depth, metres
        width, height = self._capacity = (self.width, self.height)
        try:
            if self.carries_labels:
                self._resolved = self._draw_target = Framebuffer(width, height, colour + labels)
            else:
                self._resolved = Framebuffer(width, height, colour)
                self._draw_target = Framebuffer(width, height, colour, self._samples)
        except GLError as exc:
            self.delete()
            raise ColourPassError(f"the colour framebuffer: {exc}") from None

    def resize(self, width: int, height: int) -> None:
        """Draw the next passes at ``width`` x ``height`` pixels, the same programs and
        textures (the last pass must have been read): into the lower-left corner of the
        framebuffers, which grow (new ones) only for a larger size; the occlusion pass
        switches to its targets of that size (:meth:`OcclusionPass.resize`).

        Raises
        ------
        ColourPassError
            If a framebuffer is incomplete.
        synthscene.render.gl.GLError
            If an occlusion framebuffer is incomplete.
        """
        size = (int(width), int(height))
        if size == (self.width, self.height):
            return
        if self._occlusion is not None:
            self._occlusion.resize(*size)
        if size[0] > self._capacity[0] or size[1] > self._capacity[1]:
            for framebuffer in (self._draw_target, self._resolved):
                framebuffer.delete()  # idempotent: the two may be one
            self.width = max(size[0], self._capacity[0])
            self.height = max(size[1], self._capacity[1])
            self._make_framebuffers()
        self.width, self.height = size

    @property
    def carries_labels(self) -> bool:
        """Whether the framebuffer holds the label images (single-sampled)."""
        return self._samples == 1

    def read_colour(self) -> np.ndarray:
        """Wait for the last pass and return its colour image, (H, W, 3) uint8, top row first."""
        return self._resolved.read(GL.GL_COLOR_ATTACHMENT0, GL.GL_RGB, GL.GL_UNSIGNED_BYTE,
                                   np.uint8, 3, self.width, self.height)

    def read_labels(self) -> tuple[np.ndarray, np.ndarray]:
        """Wait for the last :meth:`draw` with ``labels=True``; return its instance-id image
        (H, W) int32 (0 where no item is) and camera-z depth (H, W) float32 in metres (0 where
        no item is), top row first.

        Raises
        ------
        ColourPassError
            If the framebuffer holds no label images (``samples`` > 1).
        """
        if not self.carries_labels:
            raise ColourPassError("a multisampled colour pass carries no label images")
        return read_labels(self._resolved, GL.GL_COLOR_ATTACHMENT1, self.width, self.height)

    # -- the lean forward pass ---------------------------------------------------------------
    def draw(self, items: Sequence[ColourItem], lights: Sequence[Light], *,
             ambient_light: np.ndarray, bg_color: np.ndarray, world_from_camera_gl: np.ndarray,
             projection: np.ndarray, flat: bool, labels: bool = False,
             environment: EnvironmentDraw | None = None,
             shadows: ShadowFrame | None = None,
             ambient_occlusion: AmbientOcclusion | None = None,
             footprint: tuple[np.ndarray, np.ndarray] | None = None) -> None:
        """Queue the colour pass of one frame; :meth:`read_colour` waits for it.

        Parameters
        ----------
        items : sequence of ColourItem
            Everything to draw.
        lights : sequence of Light
            The frame's lights, in the order the shader sums them (any number of each kind).
        ambient_light : (3,) float
            Ambient light, linear RGB in [0, 1].
        bg_color : (4,) float
            Clear colour, RGBA in [0, 1].
        world_from_camera_gl : (4, 4) float64
            Camera pose in OpenGL's convention (looking along -z, y up).
        projection : (4, 4) float64
            OpenGL projection matrix.
        flat : bool
            Unlit base colour (pyrender's ``RenderFlags.FLAT``) instead of PBR shading.
        labels : bool
            Also write each pixel's nearest item's ``instance_id`` and its camera-z depth, from
            the same fragments as the colour (:meth:`read_labels`): exact ids at pixel centres,
            never blended, as the framebuffer is single-sampled and blending is off for them.
        environment : EnvironmentDraw, optional
            The frame's environment light (lit programs get its terms), drawn behind the scene
            too when it is ``visible`` (into the colour image only).
        shadows : ShadowFrame, optional
            The frame's shadow maps, already drawn for ``lights``
            (:meth:`synthscene.render.shadow_maps.ShadowMaps.draw`); lit shading only.
        ambient_occlusion : AmbientOcclusion or None
            Screen-space ambient occlusion of the ambient and environment terms
            (:mod:`~synthscene.render.occlusion`), lit shading only; None: none.

        footprint : ((n, 2) float64, (2,) float64), optional
            A polygon of pixel positions and a point about which it is star-shaped
            (:attr:`~synthscene.core.state.Camera.footprint` and the principal point): the
            pixels outside it are not drawn (:class:`FootprintMask`: they fail the depth test
            before they are shaded) and keep the clear values.

        Raises
        ------
        ValueError
            If ``labels`` is asked of a framebuffer that does not carry them.
        """
        if labels and not self.carries_labels:
            raise ValueError("a multisampled colour pass carries no label images")
        counts = None if flat else tuple(sum(_loop(light) == loop for light in lights)
                                         for loop in _LIGHT_LOOPS)
        self._textures.sync(t for item in items for part in item.parts
                            for t in part.material.textures)
        # -- ambient occlusion (render/occlusion.py): its passes run first, at a quarter resolution
        occlusion = None if flat else ambient_occlusion
        if occlusion is not None:
            if self._occlusion is None:
                self._occlusion = OcclusionPass(self.width, self.height)
            self._occlusion.draw(
                [(item.world_from_model, [part.mesh for part in item.parts])
                 for item in items if not item.transparent],
                np.linalg.inv(world_from_camera_gl), projection, occlusion)
        # --
        GL.glBindFramebuffer(GL.GL_DRAW_FRAMEBUFFER, self._draw_target.id)
        GL.glDrawBuffers(1, [GL.GL_COLOR_ATTACHMENT0])
        GL.glViewport(0, 0, self.width, self.height)
        GL.glEnable(GL.GL_DEPTH_TEST)
        GL.glDepthMask(GL.GL_TRUE)
        GL.glDepthFunc(GL.GL_LESS)
        GL.glDepthRange(0.0, 1.0)
        GL.glClearColor(*(float(c) for c in bg_color))
        GL.glClear(GL.GL_COLOR_BUFFER_BIT | GL.GL_DEPTH_BUFFER_BIT)
        GL.glEnable(GL.GL_MULTISAMPLE)
        GL.glEnable(GL.GL_BLEND)
        if labels:
            GL.glDrawBuffers(3, [GL.GL_COLOR_ATTACHMENT0, GL.GL_COLOR_ATTACHMENT1,
                                 GL.GL_COLOR_ATTACHMENT2])
            GL.glClearBufferiv(GL.GL_COLOR, 1, np.zeros(4, dtype=np.int32))
            GL.glClearBufferfv(GL.GL_COLOR, 2, np.zeros(4, dtype=np.float32))
            # Depth is written, never blended (the alpha of a one-channel output is undefined;
            # integer ids are never blended).
            GL.glDisablei(GL.GL_BLEND, 2)
        GL.glPolygonMode(GL.GL_FRONT_AND_BACK, GL.GL_FILL)
        GL.glDisable(GL.GL_PROGRAM_POINT_SIZE)
        if footprint is not None:
            if self._footprint_mask is None:
                self._footprint_mask = FootprintMask()
            self._footprint_mask.draw(*footprint, self.width, self.height)
        view = np.linalg.inv(world_from_camera_gl)
        if environment is not None:  # synthscene's environment light
            if self._environment is None:
                self._environment = EnvironmentPass()
            self._environment.bind(environment)
        camera = _Camera(view.astype(np.float32), projection.astype(np.float32),
                         world_from_camera_gl[:3, 3].astype(np.float32))
        bound_lights = _LightUniforms.of(lights, ambient_light) if not flat else None
        shadows = None if flat else shadows
        if shadows is not None:
            shadows.bind()
        ready: set[int] = set()  # programs whose per-frame uniforms are set
        current = None
        state = None  # (blend, double-sided) last set
        for item in _draw_order(items, world_from_camera_gl[:3, 3],
                                lambda i: (i.name, i.world_from_model, i.transparent)):
            model = item.world_from_model.astype(np.float32)
            for part in item.parts:
                program = self._program(part, flat, counts, labels, shadows,
                                        environment is not None, occlusion is not None)
                if program is not current:
                    program.use()
                    current = program
                    if id(program) not in ready:
                        self._set_frame_uniforms(program, camera, bound_lights, shadows)
                        if occlusion is not None:
                            self._occlusion.set_uniforms(program)
                        if environment is not None and not flat:
                            self._environment.set_uniforms(program)
                        ready.add(id(program))
                if labels:
                    _uniform(program, "instance_id", int(item.instance_id))
                state = self._draw_part(program, part, model, state)
        if current is not None:
            GL.glUseProgram(0)
        GL.glBindVertexArray(0)
        if environment is not None and environment.visible:  # where nothing was drawn
            GL.glDrawBuffers(1, [GL.GL_COLOR_ATTACHMENT0])
            self._environment.draw_background(np.linalg.inv(projection @ view),
                                              world_from_camera_gl[:3, 3])
        # Resolve MSAA and start the rasteriser (glFlush), but do not wait for it:
        # read_colour() collects the pixels.
        if self._draw_target is not self._resolved:
            self._draw_target.blit_colour_to(self._resolved, self.width, self.height)
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, 0)
        GL.glFlush()

    def _program(self, part: Part, flat: bool, light_counts: tuple[int, int] | None,
                 labels: bool, shadows: ShadowFrame | None,
                 environment: bool = False, occlusion: bool = False) -> Program:
        """The program of a part, by its vertex buffers and material kind (the defines that
        pyrender's ``Renderer`` gives a primitive's program, without pyrender's shadows): lit
        programs built for the frame's (directional, positional) light counts, with the label
        outputs if ``labels``, with our shadow lookups if ``shadows``, with the environment
        light if ``environment``, reading the ambient-occlusion image if ``occlusion``."""
        material = part.material
        buf_flags, tex_flags = part.mesh.buf_flags, material.tex_flags
        environment = environment and not flat
        shadow_defines = None if shadows is None else shadows.defines()
        key = (buf_flags, tex_flags, type(material), flat, light_counts, labels,
               None if shadow_defines is None else tuple(shadow_defines.items()), environment,
               occlusion)
        program = self._programs.get(key)
        if program is None:
            defines: dict[str, int] = {}
            location = 1
            for flag, name in _BUFFER_LOCATIONS:
                if buf_flags & flag:
                    defines[name] = location
                    location += 1
            defines["INST_M_LOC"] = location
            # The light arrays: sized to the frame's counts (at least 1: GLSL has no empty
            # arrays) in lit programs, to pyrender's 4 in flat ones (which read no light).
            sizes = light_counts or (MAX_N_LIGHTS,) * 2
            defines.update((f"MAX_{loop.upper()}_LIGHTS", max(1, size))
                           for loop, size in zip(_LIGHT_LOOPS, sizes))
            defines.update((name, 1) for flag, name in _TEXTURE_DEFINES if tex_flags & flag)
            if isinstance(material, pyrender.MetallicRoughnessMaterial):
                defines["USE_METALLIC_MATERIAL"] = 1
            elif isinstance(material, pyrender.SpecularGlossinessMaterial):
                defines["USE_GLOSSY_MATERIAL"] = 1
            if light_counts is not None:
                defines.update((f"N_{loop.upper()}_LIGHTS", count)
                               for loop, count in zip(_LIGHT_LOOPS, light_counts))
            if labels:
                defines["LABEL_OUTPUTS"] = 1
            if environment:
                defines["USE_ENVIRONMENT"] = 1
                if "NORMAL_LOC" in defines and "HAS_NORMAL_TEX" not in defines:
                    defines["ENV_VERTEX_IRRADIANCE"] = 1  # environment_sh.glsl
            if shadow_defines is not None:
                defines.update(shadow_defines)
                if "NORMAL_LOC" in defines and "HAS_NORMAL_TEX" not in defines:
                    defines["SHADOW_VERTEX_CLIP"] = 1  # shadows.glsl
            if occlusion:
                defines[OCCLUSION_DEFINE] = 1
            if flat:  # pyrender's flat.vert: mesh.vert with its own normal matrix
                defines["INVERSE_NORMAL_MATRIX"] = 1
            program = Program("mesh.vert", "flat.frag" if flat else "mesh.frag", defines)
            self._programs[key] = program
        return program

    def _set_frame_uniforms(self, program: Program, camera: _Camera,
                            lights: _LightUniforms | None, shadows: ShadowFrame | None) -> None:
        """Camera, light and shadow uniforms of a bound program (pyrender's values and types
        for the camera and the lights)."""
        _uniform(program, "V", camera.view)
        _uniform(program, "P", camera.projection)
        _uniform(program, "cam_pos", camera.position)
        if lights is not None:
            for name, value in lights.values:
                _uniform(program, name, value)
        if shadows is not None:
            for name, value in shadows.uniforms:
                _uniform(program, name, value)

    def _draw_part(self, program: Program, part: Part, model: np.ndarray,
                   state: tuple | None) -> tuple:
        """Set the model matrix, material and GL state of one part and draw it; return the
        (blend, double-sided) state now set."""
        _uniform(program, "M", model)
        material = part.material
        unit = 0
        for flag, attribute, sampler in _TEXTURE_SLOTS:
            if material.tex_flags & flag:
                GL.glActiveTexture(GL.GL_TEXTURE0 + unit)
                self._textures.bind(getattr(material, attribute))
                _uniform(program, sampler, unit)
                unit += 1
        _uniform(program, "material.emissive_factor", _f32(material.emissiveFactor))
        if isinstance(material, pyrender.MetallicRoughnessMaterial):
            _uniform(program, "material.base_color_factor", _f32(material.baseColorFactor))
            _uniform(program, "material.metallic_factor", float(material.metallicFactor))
            _uniform(program, "material.roughness_factor", float(material.roughnessFactor))
        else:
            _uniform(program, "material.diffuse_factor", _f32(material.diffuseFactor))
            _uniform(program, "material.specular_factor", _f32(material.specularFactor))
            _uniform(program, "material.glossiness_factor", float(material.glossinessFactor))
        wanted = (material.alphaMode == "BLEND", bool(material.doubleSided))
        if wanted != state:
            if wanted[0]:
                GL.glBlendFunc(GL.GL_SRC_ALPHA, GL.GL_ONE_MINUS_SRC_ALPHA)
            else:
                GL.glBlendFunc(GL.GL_ONE, GL.GL_ZERO)
            if wanted[1]:
                GL.glDisable(GL.GL_CULL_FACE)
            else:
                GL.glEnable(GL.GL_CULL_FACE)
                GL.glCullFace(GL.GL_BACK)
        part.mesh.draw_instanced()
        return wanted

    def delete(self) -> None:
        """Free every GL resource (the context must be current). Idempotent."""
        self._textures.delete()
        for program in self._programs.values():
            program.delete()
        self._programs = {}
        for framebuffer in (self._draw_target, self._resolved):
            if framebuffer is not None:
                framebuffer.delete()  # idempotent: the two may be one
        if self._environment is not None:
            self._environment.delete()
            self._environment = None
        if self._occlusion is not None:
            self._occlusion.delete()
            self._occlusion = None
        if self._footprint_mask is not None:
            self._footprint_mask.delete()
            self._footprint_mask = None


def _uniform(program: Program, name: str, value) -> None:
    """Set a uniform of the bound program; one the program lacks is skipped (as pyrender
    does). ``value``: float32 array (3,), (4,) or (4, 4), Python float or int."""
    location = program.location(name)
    if location == -1:
        return
    if isinstance(value, np.ndarray):
        if value.ndim == 2:
            GL.glUniformMatrix4fv(location, 1, GL.GL_TRUE, value)
        elif value.shape[0] == 3:
            GL.glUniform3fv(location, 1, value)
        else:
            GL.glUniform4fv(location, 1, value)
    elif isinstance(value, float):
        GL.glUniform1f(location, value)
    else:
        GL.glUniform1i(location, int(value))


@dataclass(frozen=True)
class _Camera:
    view: np.ndarray  # (4, 4) float32 camera_from_world (OpenGL)
    projection: np.ndarray  # (4, 4) float32
    position: np.ndarray  # (3,) float32, world


@dataclass(frozen=True)
class _LightUniforms:
    """The light uniforms of ``mesh.frag``, as pyrender's ``Renderer`` sets them for
    shadowless lights, a point light as a spot light without a cone (``PositionalLight``):
    (name, value) pairs."""

    values: tuple

    @classmethod
    def of(cls, lights: Sequence[Light], ambient_light: np.ndarray) -> _LightUniforms:
        values = [("ambient_light", _f32(ambient_light))]
        counters = dict.fromkeys(_LIGHT_LOOPS, 0)
        for light in lights:
            pose = np.asarray(light.world_from_light, dtype=np.float64)
            position, direction = pose[:3, 3], -pose[:3, 2]
            loop = _loop(light)
            base = f"{loop}_lights[{counters[loop]}]."
            counters[loop] += 1
            if light.kind == "directional":
                values.append((base + "direction", _f32(direction)))
            else:
                axis, scale, offset = np.zeros(3), 0.0, 1.0  # a point light: no cone
                if light.kind == "spot":
                    scale = 1.0 / max(0.001, np.cos(light.inner_cone_angle)
                                      - np.cos(light.outer_cone_angle))
                    axis, offset = direction, -np.cos(light.outer_cone_angle) * scale
                values += [(base + "direction", _f32(axis)),
                           (base + "position", _f32(position)),
                           (base + "light_angle_scale", float(scale)),
                           (base + "light_angle_offset", float(offset))]
            values += [(base + "color", _f32(light.color)),
                       (base + "intensity", float(light.intensity))]
        values += [(f"n_{loop}_lights", count) for loop, count in counters.items()]
        return cls(tuple(values))


def _f32(value) -> np.ndarray:
    return np.asarray(value, dtype=np.float32)


def _draw_order(entries: Iterable, camera_position: np.ndarray,
                describe: Callable[[Any], tuple[str, np.ndarray, bool]]) -> list:
    """Opaque entries front to back, then transparent ones back to front (as pyrender orders
    them).

    ``describe(entry)`` gives (name, world_from_model (4, 4), transparent). An entry's distance
    is from ``camera_position`` (3,) to its model origin, in metres, plus 1e6 for
    :data:`BACKDROP` (drawn after every object); ties are broken by name.
    """
    solid, transparent = [], []
    for entry in entries:
        name, world_from_model, is_transparent = describe(entry)
        distance = float(np.linalg.norm(world_from_model[:3, 3] - camera_position))
        distance += 1e6 if name == BACKDROP else 0.0
        if is_transparent:
            transparent.append((-distance, name, entry))
        else:
            solid.append((distance, name, entry))
    solid.sort(key=lambda t: t[:2])
    transparent.sort(key=lambda t: t[:2])
    return [t[2] for t in solid + transparent]
