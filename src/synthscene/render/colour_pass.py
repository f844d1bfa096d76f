"""The colour pass: pyrender's shaders and materials, drawn into a framebuffer we own.

:class:`ColourRenderer` subclasses ``pyrender.Renderer`` (pyrender is pinned to 0.1.45 in
``pyproject.toml``) and keeps its GLSL programs (PBR metallic-roughness ``mesh.frag``, or
``flat.frag``), its light model, its materials and its shadow maps. It changes how they are
driven:

* **Own framebuffer.** pyrender's offscreen path always renders with 4x MSAA, resolves by a
  blit, and reads back and linearises a depth image we do not use. Here the colour image goes to
  a framebuffer of ``samples`` samples (1: no resolve), and only the colour is read back, later
  (:meth:`ColourRenderer.read_colour`), so the driver rasterises while the caller goes on.
* **Lean forward pass** (:meth:`ColourRenderer.draw`). pyrender's ``Renderer.render`` wants a
  ``pyrender.Scene`` of nodes and, for every primitive, looks its program up again, sets the
  camera and every light's uniforms again, and queries each uniform's location from the driver.
  With 20 objects that is about 15 ms of Python a frame, on the thread that also runs physics.
  :meth:`ColourRenderer.draw` takes a flat list of :class:`ColourItem` and the frame's lights,
  picks each program once per kind of primitive, sets the camera and the lights once per program
  per frame, caches uniform locations, and skips GL state that does not change. The uniforms get
  the same values as pyrender gives them (the same float32 conversions), so pixels are the same
  but for the model matrix: pyrender rebuilds it from translation, quaternion and scale, we pass
  the exact one (which the label pass uses too).
* **Label images.** Single-sampled, the framebuffer also holds a ``GL_R32I`` instance-id and a
  ``GL_R32F`` camera-z depth image, which the lit and flat shaders (``LABEL_OUTPUTS``) write
  from the same fragments as the colour, with blending off for them: the separate label pass
  and its second rasterisation of every triangle are not needed (about 4 ms of CPU a frame
  on llvmpipe).
* **Front to back.** Opaque items are drawn nearest first, so that hidden fragments fail the
  depth test before they are shaded (pyrender draws back to front); backdrop items (ground,
  walls) after every object; transparent ones back to front at the end.
* **Edits of pyrender's lit shaders** (:class:`_ShaderCache`), patched into copies of its
  ``mesh.vert`` and ``mesh.frag`` at start-up:

  - the normal matrix is the model matrix itself, not ``transpose(inverse(M))`` per vertex,
    which is the same direction for the rotation-times-uniform-scale matrices synthscene draws;
  - Schlick's Fresnel term ``(1 - v.h)^5`` is multiplied out instead of a ``pow``;
  - the three light loops run to compile-time counts: the lean pass builds each lit program for
    the frame's (directional, point, spot) light counts (at most 34 variants of a program; a
    variant is compiled on first use, and Mesa keeps compiled shaders in its on-disk cache).
    pyrender's loops run to uniform counts and index the light arrays with a loop variable,
    which llvmpipe executes as masked work over the arrays for every fragment.

  On llvmpipe a lit 640x480 frame of 20 objects costs 60 ms of CPU with pyrender's shaders, 51
  with the first two edits, and 27 with all three (2-core AMD EPYC, colour and label passes);
  pixels move by at most a level or two.
* **Shadows** need pyrender's shadow-map passes, which work on a ``pyrender.Scene``: with shadows
  the caller renders a scene through ``pyrender.Renderer.render`` (the ``_configure_forward_pass
  _viewport``, ``_read_main_framebuffer`` and ``_sorted_mesh_nodes`` hooks below give it the same
  framebuffer and order).

Measured on llvmpipe (2-core AMD EPYC), 640x480, 20 objects, lit: pyrender's own offscreen render
59 ms a frame; own framebuffer, no MSAA, front to back 35 ms; lean pass: the Python part of
submitting a frame's colour pass from about 16 ms to about 4 ms.
"""

from __future__ import annotations

import ctypes
import shutil
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from synthscene.core.state import Light
from synthscene.errors import SynthsceneError
from synthscene.render.compat import patch_pyrender_numpy2
from synthscene.render.platform import ensure_gl_platform

ensure_gl_platform()
patch_pyrender_numpy2()

import pyrender  # noqa: E402  (the GL platform must be chosen first)
from OpenGL import GL  # noqa: E402
from pyrender.constants import MAX_N_LIGHTS, ProgramFlags, RenderFlags, TexFlags  # noqa: E402
from pyrender.shader_program import ShaderProgramCache  # noqa: E402

__all__ = ["BACKDROP", "ColourItem", "ColourRenderer", "OrderedScene", "read_label_images"]

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


_LIGHT_KINDS = ("directional", "point", "spot")
"""Light kinds in the order ``mesh.frag`` sums them."""

#: With LABEL_OUTPUTS defined, a fragment shader also writes the instance id and the camera-z
#: depth in metres (OpenGL's camera looks along -z) to colour attachments 1 and 2.
_LABEL_OUTPUT_EDITS = (
    ("out vec4 frag_color;",
     "layout(location = 0) out vec4 frag_color;\n"
     "#ifdef LABEL_OUTPUTS\n"
     "uniform int instance_id;\n"
     "uniform mat4 V;\n"
     "layout(location = 1) out int out_id;\n"
     "layout(location = 2) out float out_depth;\n"
     "#endif"),
    ("void main()\n{",
     "void shade();\n"
     "void main()\n{\n"
     "    shade();\n"
     "#ifdef LABEL_OUTPUTS\n"
     "    out_id = instance_id;\n"
     "    out_depth = -(V * vec4(frag_position, 1.0)).z;\n"
     "#endif\n"
     "}\n"
     "void shade()\n{"),
)

#: Edits of pyrender 0.1.45's shaders: file -> (its text, ours) pairs (see the module notes).
_SHADER_EDITS = {
    "mesh.vert": (("mat4 N = transpose(inverse(M * inst_m));", "mat4 N = M * inst_m;"),),
    "mesh.frag": (
        (
            "vec3 res = info.f0 + (1.0 - info.f0) * pow(clamp(1.0 - info.vh, 0.0, 1.0), 5.0);",
            "float x = clamp(1.0 - info.vh, 0.0, 1.0);\n"
            "     float x2 = x * x;\n"
            "     vec3 res = info.f0 + (1.0 - info.f0) * (x2 * x2 * x);",
        ),
        # Light loops bounded by compile-time counts when the program is built for them
        # (N_*_LIGHTS defined), else by the uniforms as in pyrender's shader.
        (
            "uniform vec3 cam_pos;",
            "".join(f"#ifndef N_{k.upper()}_LIGHTS\n#define N_{k.upper()}_LIGHTS n_{k}_lights\n"
                    "#endif\n" for k in _LIGHT_KINDS) + "uniform vec3 cam_pos;",
        ),
        *((f"for (int i = 0; i < n_{k}_lights; i++) {{",
           f"for (int i = 0; i < N_{k.upper()}_LIGHTS; i++) {{") for k in _LIGHT_KINDS),
        *_LABEL_OUTPUT_EDITS,
    ),
    "flat.frag": _LABEL_OUTPUT_EDITS,
}


class ColourPassError(SynthsceneError):
    """The colour framebuffer cannot be made, or pyrender's shaders are not the pinned ones."""


class _ShaderCache(ShaderProgramCache):
    """pyrender's program cache, serving the edited ``mesh.vert`` and ``mesh.frag``
    (:data:`_SHADER_EDITS`) from a temporary folder it owns, and pyrender's other shaders as
    they are.

    While :attr:`light_counts` is set to (directional, point, spot) counts, ``mesh.frag``
    programs are built for exactly those counts (``N_*_LIGHTS`` defines: loops of fixed length,
    lights indexed by constants); while it is None, the loops run to the ``n_*_lights``
    uniforms, as in pyrender. While :attr:`label_outputs` is True, ``mesh.frag`` and
    ``flat.frag`` programs also write the ``instance_id`` uniform and the camera-z depth
    (``LABEL_OUTPUTS``).

    Raises
    ------
    ColourPassError
        If a shader does not contain the text to edit (another pyrender version).
    """

    def __init__(self) -> None:
        super().__init__()
        self._folder = Path(tempfile.mkdtemp(prefix="synthscene-shaders-"))
        self._edited = {}
        for name, edits in _SHADER_EDITS.items():
            text = (Path(self.shader_dir) / name).read_text()
            for old, new in edits:
                if text.count(old) != 1:
                    shutil.rmtree(self._folder, ignore_errors=True)
                    raise ColourPassError(f"pyrender's shader {name} is not the one synthscene "
                                          f"was written for (pin pyrender==0.1.45)")
                text = text.replace(old, new)
            (self._folder / name).write_text(text)
            self._edited[name] = str(self._folder / name)  # absolute: os.path.join keeps it
        self.light_counts: tuple[int, int, int] | None = None
        self.label_outputs = False

    def get_program(self, vertex_shader, fragment_shader, geometry_shader=None, defines=None):
        defines = dict(defines or {})
        if self.light_counts is not None and fragment_shader == "mesh.frag":
            defines.update((f"N_{kind.upper()}_LIGHTS", count)
                           for kind, count in zip(_LIGHT_KINDS, self.light_counts))
        if self.label_outputs and fragment_shader in ("mesh.frag", "flat.frag"):
            defines["LABEL_OUTPUTS"] = 1
        return super().get_program(self._edited.get(vertex_shader, vertex_shader),
                                   self._edited.get(fragment_shader, fragment_shader),
                                   geometry_shader, defines)

    def clear(self) -> None:
        super().clear()
        shutil.rmtree(self._folder, ignore_errors=True)


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
    primitives : sequence of pyrender.Primitive
        Uploaded primitives, each carrying the item's own pyrender material.
    instance_id : int
        Written to the instance-id image where the item is the nearest surface (0: backdrop).
    """

    name: str
    world_from_model: np.ndarray
    primitives: Sequence[pyrender.Primitive]
    instance_id: int = 0

    @property
    def transparent(self) -> bool:
        """Whether any primitive is (partly) transparent (pyrender's rule)."""
        return any(p.is_transparent for p in self.primitives)


class OrderedScene(pyrender.Scene):
    """A pyrender scene whose lights come out in a fixed order (for the shadow path).

    pyrender keeps light nodes in sets, whose order follows object addresses; the shader sums
    the lights in that order, so floating-point rounding (one level of 255 here and there) would
    change from run to run. Sorting by node name (``light-000``, ``light-001``, ...) makes the
    same scene give the same bytes.
    """

    @property
    def light_nodes(self):
        return sorted(super().light_nodes, key=lambda node: node.name)


class ColourRenderer(pyrender.Renderer):
    """pyrender's renderer with its own colour framebuffer and a lean forward pass.

    Needs a current GL context (pyrender's offscreen platform) for its whole life.

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
        super().__init__(width, height)
        self._samples = int(samples)
        self._fbos: list[int] = []
        self._rbs: list[int] = []
        self._draw_fbo, self._read_fbo = self._build_framebuffers(width, height)
        self._programs: dict[tuple, pyrender.shader_program.ShaderProgram] = {}
        self._locations: dict[tuple[int, str], int] = {}
        self._frame_textures: set = set()
        self._program_cache = _ShaderCache()

    @property
    def carries_labels(self) -> bool:
        """Whether the framebuffer holds the label images (single-sampled)."""
        return self._samples == 1

    # -- framebuffers ------------------------------------------------------------------------
    def _build_framebuffers(self, width: int, height: int) -> tuple[int, int]:
        """Create the colour framebuffer(s); return (draw target, resolved read source)."""

        def framebuffer(samples: int) -> int:
            fbo = GL.glGenFramebuffers(1)
            formats = [(GL.GL_RGBA8, GL.GL_COLOR_ATTACHMENT0),
                       (GL.GL_DEPTH_COMPONENT24, GL.GL_DEPTH_ATTACHMENT)]
            if self.carries_labels:  # single-sampled: one framebuffer
                formats += [(GL.GL_R32I, GL.GL_COLOR_ATTACHMENT1),  # instance ids
                            (GL.GL_R32F, GL.GL_COLOR_ATTACHMENT2)]  # camera-z depth, metres
            buffers = [int(rb) for rb in np.atleast_1d(GL.glGenRenderbuffers(len(formats)))]
            GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, fbo)
            for rb, (fmt, attachment) in zip(buffers, formats):
                GL.glBindRenderbuffer(GL.GL_RENDERBUFFER, rb)
                if samples > 1:
                    GL.glRenderbufferStorageMultisample(GL.GL_RENDERBUFFER, samples, fmt,
                                                        width, height)
                else:
                    GL.glRenderbufferStorage(GL.GL_RENDERBUFFER, fmt, width, height)
                GL.glFramebufferRenderbuffer(GL.GL_FRAMEBUFFER, attachment,
                                             GL.GL_RENDERBUFFER, rb)
            status = GL.glCheckFramebufferStatus(GL.GL_FRAMEBUFFER)
            GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, 0)
            self._fbos.append(fbo)
            self._rbs.extend(buffers)
            if status != GL.GL_FRAMEBUFFER_COMPLETE:
                raise ColourPassError(
                    f"the colour framebuffer is incomplete (GL status {status:#x})")
            return fbo

        resolved = framebuffer(1)
        return (framebuffer(self._samples) if self._samples > 1 else resolved), resolved

    def _configure_forward_pass_viewport(self, flags):  # noqa: ARG002 (pyrender's signature)
        GL.glBindFramebuffer(GL.GL_DRAW_FRAMEBUFFER, self._draw_fbo)
        GL.glDrawBuffers(1, [GL.GL_COLOR_ATTACHMENT0])
        GL.glViewport(0, 0, self.viewport_width, self.viewport_height)
        GL.glEnable(GL.GL_DEPTH_TEST)
        GL.glDepthMask(GL.GL_TRUE)
        GL.glDepthFunc(GL.GL_LESS)
        GL.glDepthRange(0.0, 1.0)

    def _read_main_framebuffer(self, scene, flags):  # noqa: ARG002 (pyrender's signature)
        # Called at the end of a forward pass: resolve MSAA and start the rasteriser (glFlush)
        # but do not wait for it; read_colour() collects the pixels.
        w, h = self.viewport_width, self.viewport_height
        if self._draw_fbo != self._read_fbo:
            GL.glBindFramebuffer(GL.GL_READ_FRAMEBUFFER, self._draw_fbo)
            GL.glBindFramebuffer(GL.GL_DRAW_FRAMEBUFFER, self._read_fbo)
            GL.glBlitFramebuffer(0, 0, w, h, 0, 0, w, h, GL.GL_COLOR_BUFFER_BIT, GL.GL_LINEAR)
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, 0)
        GL.glFlush()
        return None

    def read_colour(self) -> np.ndarray:
        """Wait for the last forward pass and return its colour image, (H, W, 3) uint8, top row
        first."""
        w, h = self.viewport_width, self.viewport_height
        GL.glBindFramebuffer(GL.GL_READ_FRAMEBUFFER, self._read_fbo)
        GL.glReadBuffer(GL.GL_COLOR_ATTACHMENT0)
        GL.glPixelStorei(GL.GL_PACK_ALIGNMENT, 1)
        buf = GL.glReadPixels(0, 0, w, h, GL.GL_RGB, GL.GL_UNSIGNED_BYTE)
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, 0)
        return np.ascontiguousarray(np.frombuffer(buf, dtype=np.uint8).reshape(h, w, 3)[::-1])

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
        return read_label_images(self._read_fbo, GL.GL_COLOR_ATTACHMENT1,
                                 self.viewport_width, self.viewport_height)

    def _sorted_mesh_nodes(self, scene):
        # pyrender's own pass (the shadow path): the order of :meth:`draw`.
        return _draw_order(scene.mesh_nodes, scene.get_pose(scene.main_camera_node)[:3, 3],
                           lambda n: (n.name, scene.get_pose(n), n.mesh.is_transparent))

    # -- the lean forward pass ---------------------------------------------------------------
    @staticmethod
    def takes(lights: Sequence[Light]) -> bool:
        """Whether :meth:`draw` takes these lights: at most ``MAX_N_LIGHTS`` (4) of each kind."""
        return all(sum(light.kind == kind for light in lights) <= MAX_N_LIGHTS
                   for kind in ("directional", "spot", "point"))

    def draw(self, items: Sequence[ColourItem], lights: Sequence[Light], *,
             ambient_light: np.ndarray, bg_color: np.ndarray, world_from_camera_gl: np.ndarray,
             projection: np.ndarray, flat: bool, labels: bool = False) -> None:
        """Queue the colour pass of one frame (no shadows); :meth:`read_colour` waits for it.

        Parameters
        ----------
        items : sequence of ColourItem
            Everything to draw.
        lights : sequence of Light
            The frame's lights, in the order the shader sums them; at most ``MAX_N_LIGHTS`` (4)
            of each kind.
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

        Raises
        ------
        ValueError
            If there are more than ``MAX_N_LIGHTS`` lights of one kind, or ``labels`` is asked
            of a framebuffer that does not carry them.
        """
        if not self.takes(lights):
            raise ValueError(f"at most {MAX_N_LIGHTS} lights of each kind, got "
                             f"{sorted(light.kind for light in lights)}")
        if labels and not self.carries_labels:
            raise ValueError("a multisampled colour pass carries no label images")
        flags = RenderFlags.FLAT if flat else RenderFlags.NONE
        counts = None if flat else tuple(sum(light.kind == kind for light in lights)
                                         for kind in _LIGHT_KINDS)
        self._update_textures(items)
        self._configure_forward_pass_viewport(flags)
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
        view = np.linalg.inv(world_from_camera_gl)
        camera = _Camera(view.astype(np.float32), projection.astype(np.float32),
                         world_from_camera_gl[:3, 3].astype(np.float32))
        bound_lights = _LightUniforms.of(lights, ambient_light) if not flat else None
        ready: set[int] = set()  # programs whose per-frame uniforms are set
        current = None
        state = None  # (blend, double-sided) last set
        for item in _draw_order(items, world_from_camera_gl[:3, 3],
                                lambda i: (i.name, i.world_from_model, i.transparent)):
            model = item.world_from_model.astype(np.float32)
            for primitive in item.primitives:
                program = self._program(primitive, flags, counts, labels)
                if program is not current:
                    program._bind()
                    current = program
                    if id(program) not in ready:
                        self._set_frame_uniforms(program, camera, bound_lights)
                        ready.add(id(program))
                if labels:
                    self._uniform(program, "instance_id", int(item.instance_id))
                state = self._draw_primitive(program, primitive, model, state)
        if current is not None:
            current._unbind()
        GL.glBindVertexArray(0)
        self._read_main_framebuffer(None, flags)

    def _update_textures(self, items: Sequence[ColourItem]) -> None:
        """Upload the frame's new material textures and free those no longer drawn (what
        pyrender's ``_update_context`` does for a scene's textures)."""
        textures = set()
        for item in items:
            for primitive in item.primitives:
                textures |= primitive.material.textures
        for texture in textures - self._frame_textures:
            texture._add_to_context()
        for texture in self._frame_textures - textures:
            texture.delete()
        self._frame_textures = textures

    def _program(self, primitive: pyrender.Primitive, flags: int,
                 light_counts: tuple[int, int, int] | None, labels: bool):
        """pyrender's program for a primitive (by its vertex buffers and material kind), lit
        programs built for the frame's (directional, point, spot) light counts, with the label
        outputs if ``labels``."""
        material = primitive.material
        key = (primitive.buf_flags, material.tex_flags, type(material), flags, light_counts,
               labels)
        program = self._programs.get(key)
        if program is None:
            cache = self._program_cache
            cache.light_counts, cache.label_outputs = light_counts, labels
            try:
                program = self._get_primitive_program(primitive, flags,
                                                      ProgramFlags.USE_MATERIAL)
            finally:
                cache.light_counts, cache.label_outputs = None, False
            self._programs[key] = program
        return program

    def _location(self, program, name: str) -> int:
        key = (program._program_id, name)
        location = self._locations.get(key)
        if location is None:
            location = int(GL.glGetUniformLocation(program._program_id, name))
            self._locations[key] = location
        return location

    def _set_frame_uniforms(self, program, camera: _Camera, lights: _LightUniforms | None) -> None:
        """Camera and light uniforms of a bound program (pyrender's values and types)."""
        self._uniform(program, "V", camera.view)
        self._uniform(program, "P", camera.projection)
        self._uniform(program, "cam_pos", camera.position)
        if lights is not None:
            for name, value in lights.values:
                self._uniform(program, name, value)

    def _uniform(self, program, name: str, value) -> None:
        """Set a uniform of the bound program; one the program lacks is skipped (as pyrender
        does). ``value``: float32 array (3,), (4,) or (4, 4), Python float or int."""
        location = self._location(program, name)
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

    def _draw_primitive(self, program, primitive: pyrender.Primitive, model: np.ndarray,
                        state: tuple | None) -> tuple:
        """Set the model matrix, material and GL state of one primitive and draw it; return the
        (blend, double-sided) state now set."""
        self._uniform(program, "M", model)
        material = primitive.material
        unit = 0
        for flag, attribute, sampler in _TEXTURE_SLOTS:
            if material.tex_flags & flag:
                GL.glActiveTexture(GL.GL_TEXTURE0 + unit)
                getattr(material, attribute)._bind()
                self._uniform(program, sampler, unit)
                unit += 1
        self._uniform(program, "material.emissive_factor", _f32(material.emissiveFactor))
        if isinstance(material, pyrender.MetallicRoughnessMaterial):
            self._uniform(program, "material.base_color_factor", _f32(material.baseColorFactor))
            self._uniform(program, "material.metallic_factor", float(material.metallicFactor))
            self._uniform(program, "material.roughness_factor", float(material.roughnessFactor))
        else:
            self._uniform(program, "material.diffuse_factor", _f32(material.diffuseFactor))
            self._uniform(program, "material.specular_factor", _f32(material.specularFactor))
            self._uniform(program, "material.glossiness_factor",
                          float(material.glossinessFactor))
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
        GL.glBindVertexArray(primitive._vaid)
        instances = 1 if primitive.poses is None else len(primitive.poses)
        if primitive.indices is not None:
            GL.glDrawElementsInstanced(primitive.mode, primitive.indices.size,
                                       GL.GL_UNSIGNED_INT, ctypes.c_void_p(0), instances)
        else:
            GL.glDrawArraysInstanced(primitive.mode, 0, len(primitive.positions), instances)
        return wanted

    def delete(self) -> None:
        for texture in self._frame_textures:
            texture.delete()
        self._frame_textures = set()
        if self._fbos:
            GL.glDeleteFramebuffers(len(self._fbos), self._fbos)
            GL.glDeleteRenderbuffers(len(self._rbs), self._rbs)
            self._fbos, self._rbs = [], []
        super().delete()


@dataclass(frozen=True)
class _Camera:
    view: np.ndarray  # (4, 4) float32 camera_from_world (OpenGL)
    projection: np.ndarray  # (4, 4) float32
    position: np.ndarray  # (3,) float32, world


@dataclass(frozen=True)
class _LightUniforms:
    """The light uniforms of ``mesh.frag``, as pyrender's ``Renderer._bind_lighting`` sets them
    for shadowless lights: (name, value) pairs."""

    values: tuple

    @classmethod
    def of(cls, lights: Sequence[Light], ambient_light: np.ndarray) -> _LightUniforms:
        values = [("ambient_light", _f32(ambient_light))]
        counters = {"directional": 0, "spot": 0, "point": 0}
        for light in lights:
            pose = np.asarray(light.world_from_light, dtype=np.float64)
            position, direction = pose[:3, 3], -pose[:3, 2]
            base = f"{light.kind}_lights[{counters[light.kind]}]."
            counters[light.kind] += 1
            if light.kind == "point":
                values.append((base + "position", _f32(position)))
            elif light.kind == "spot":
                scale = 1.0 / max(0.001, np.cos(light.inner_cone_angle)
                                  - np.cos(light.outer_cone_angle))
                values += [(base + "direction", _f32(direction)),
                           (base + "position", _f32(position)),
                           (base + "light_angle_scale", float(scale)),
                           (base + "light_angle_offset",
                            float(-np.cos(light.outer_cone_angle) * scale))]
            else:
                values.append((base + "direction", _f32(direction)))
            values += [(base + "color", _f32(light.color)),
                       (base + "intensity", float(light.intensity))]
        values += [(f"n_{kind}_lights", count) for kind, count in counters.items()]
        return cls(tuple(values))


def read_label_images(fbo: int, id_attachment: int, width: int,
                      height: int) -> tuple[np.ndarray, np.ndarray]:
    """Wait for a framebuffer's label images and read them: the ``GL_R32I`` instance ids at
    colour attachment ``id_attachment`` and the ``GL_R32F`` depth at the next one.

    Returns
    -------
    ids : (height, width) int32
    depth : (height, width) float32
        Both top row first.
    """
    GL.glBindFramebuffer(GL.GL_READ_FRAMEBUFFER, fbo)
    GL.glPixelStorei(GL.GL_PACK_ALIGNMENT, 4)
    GL.glReadBuffer(id_attachment)
    ids = GL.glReadPixels(0, 0, width, height, GL.GL_RED_INTEGER, GL.GL_INT)
    GL.glReadBuffer(id_attachment + 1)
    depth = GL.glReadPixels(0, 0, width, height, GL.GL_RED, GL.GL_FLOAT)
    GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, 0)
    ids = np.frombuffer(ids, dtype=np.int32).reshape(height, width)[::-1]
    depth = np.frombuffer(depth, dtype=np.float32).reshape(height, width)[::-1]
    return np.ascontiguousarray(ids), np.ascontiguousarray(depth)


def _f32(value) -> np.ndarray:
    return np.asarray(value, dtype=np.float32)


def _draw_order(entries: Iterable, camera_position: np.ndarray,
                describe: Callable[[Any], tuple[str, np.ndarray, bool]]) -> list:
    """Opaque entries front to back, then transparent ones back to front (as pyrender orders
    them), the same rule for :class:`ColourItem` and for pyrender's mesh nodes.

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
