"""synthscene's own OpenGL objects: framebuffers, vertex arrays, textures and shader programs.

Every pass draws through these, with a current GL context (:class:`~synthscene.render.platform.
GLContext`). pyrender's public data classes (``pyrender.Primitive``, ``pyrender.Texture``) may
describe what to upload; their arrays and parameters are read through public attributes and
uploaded here as pyrender 0.1.45 uploads them (the same float32 arrays, attribute locations,
texture formats, mipmaps, filters and wraps), so that pyrender's shaders (our copies under
``render/shaders/``) see the same inputs. pyrender's own GL methods are never called.
"""

from __future__ import annotations

import ctypes
import re
from collections.abc import Iterable, Sequence
from importlib import resources

import numpy as np

from synthscene.errors import SynthsceneError
from synthscene.render.platform import ensure_gl_platform

ensure_gl_platform()

from OpenGL import GL  # noqa: E402  (the GL platform must be chosen first)
from OpenGL.GL import shaders as gl_shaders  # noqa: E402

__all__ = ["Framebuffer", "GLError", "Program", "TextureUploads", "VertexArray",
           "opaque_pass_state", "shader_source"]

_FLOAT_SIZE = 4


class GLError(SynthsceneError):
    """A framebuffer is incomplete."""


# -- shaders ---------------------------------------------------------------------------------
_IFDEF = re.compile("#ifdef\\s+([a-zA-Z_][a-zA-Z_0-9]*)\\s*$", re.MULTILINE)
_IFNDEF = re.compile("#ifndef\\s+([a-zA-Z_][a-zA-Z_0-9]*)\\s*$", re.MULTILINE)
_INCLUDE = re.compile('^#include "([a-z_]+\\.glsl)"$', re.MULTILINE)


def shader_source(name: str, defines: dict[str, int] | None = None) -> str:
    """The GLSL text of ``render/shaders/<name>.glsl`` with ``defines`` applied.

    A line ``#include "piece.glsl"`` is first replaced by that file's text (the pieces shared by
    ``mesh.frag`` and ``flat.frag``). The defines are then applied as pyrender 0.1.45's
    ``ShaderProgram`` applies them, so that a shader copied from pyrender compiles to the same
    program: ``#ifdef NAME`` becomes ``#if 1`` or ``#if 0`` (``#ifndef`` the opposite), then every
    occurrence of each define's name is replaced by its value, in the dict's order.

    Parameters
    ----------
    name : str
        File name without ``.glsl``, e.g. ``"mesh.frag"``.
    defines : dict of str to int, optional
        Names and values.

    Raises
    ------
    FileNotFoundError
        If there is no such shader file.
    """
    defines = defines or {}
    text = _INCLUDE.sub(lambda m: _shader_file(m.group(1)).removesuffix("\n"),
                        _shader_file(f"{name}.glsl"))
    text = _IFDEF.sub(lambda m: "#if 1" if m.group(1) in defines else "#if 0", text)
    text = _IFNDEF.sub(lambda m: "#if 0" if m.group(1) in defines else "#if 1", text)
    for define, value in defines.items():
        text = text.replace(define, str(value))
    return text


def _shader_file(file_name: str) -> str:
    """The text of ``render/shaders/<file_name>``."""
    return resources.files("synthscene.render").joinpath(f"shaders/{file_name}").read_text()


class Program:
    """A linked GL program from our shader files, with its uniform locations cached.

    Parameters
    ----------
    vertex, fragment : str
        Shader file names without ``.glsl`` (see :func:`shader_source`).
    defines : dict of str to int, optional

    Raises
    ------
    RuntimeError
        PyOpenGL's ``ShaderCompilationError`` or ``RuntimeError`` if a shader does not compile
        or link.
    """

    def __init__(self, vertex: str, fragment: str, defines: dict[str, int] | None = None) -> None:
        # Linked without PyOpenGL's compileProgram, which also validates the program against
        # the current GL state: samplers of different types (a material's sampler2D, the
        # shadow maps' sampler2DArrayShadow) all start on unit 0 until their uniforms are set.
        shaders = [gl_shaders.compileShader(shader_source(vertex, defines), GL.GL_VERTEX_SHADER),
                   gl_shaders.compileShader(shader_source(fragment, defines),
                                            GL.GL_FRAGMENT_SHADER)]
        program = gl_shaders.ShaderProgram(GL.glCreateProgram())
        for shader in shaders:
            GL.glAttachShader(program, shader)
        GL.glLinkProgram(program)
        program.check_linked()
        for shader in shaders:
            GL.glDeleteShader(shader)
        self.id = program
        self._locations: dict[str, int] = {}

    def location(self, name: str) -> int:
        """The location of uniform ``name``; -1 if the program has none."""
        location = self._locations.get(name)
        if location is None:
            location = int(GL.glGetUniformLocation(self.id, name))
            self._locations[name] = location
        return location

    def use(self) -> None:
        GL.glUseProgram(self.id)

    def set_matrix(self, name: str, matrix: np.ndarray) -> None:
        """Set a ``mat4`` uniform of the bound program from a (4, 4) row-major matrix (cast to
        float32)."""
        GL.glUniformMatrix4fv(self.location(name), 1, GL.GL_TRUE,
                              np.asarray(matrix).astype(np.float32))

    def delete(self) -> None:
        """Free the program. Idempotent."""
        if self.id is not None:
            GL.glDeleteProgram(self.id)
            self.id = None


# -- framebuffers ----------------------------------------------------------------------------
GL_PACK_INVERT_MESA = 0x8758
"""``glPixelStorei`` parameter of Mesa's ``GL_MESA_pack_invert``: ``glReadPixels`` returns the
top row first."""


def opaque_pass_state(cull_face: int = GL.GL_BACK) -> None:
    """Set the GL state every opaque, depth-tested pass draws with (the context must be current).

    Blending and multisampling off; faces culled with counter-clockwise front faces (as the
    colour pass culls, so labels and light see the faces the image shows); the depth test on
    with ``GL_LESS`` and depth writes on.

    Parameters
    ----------
    cull_face : GLenum
        The faces culled: ``GL_BACK`` (what the camera sees) or ``GL_FRONT`` (a shadow map's
        back faces, against acne).
    """
    GL.glDisable(GL.GL_BLEND)
    GL.glDisable(GL.GL_MULTISAMPLE)
    GL.glEnable(GL.GL_CULL_FACE)
    GL.glCullFace(cull_face)
    GL.glFrontFace(GL.GL_CCW)
    GL.glEnable(GL.GL_DEPTH_TEST)
    GL.glDepthMask(GL.GL_TRUE)
    GL.glDepthFunc(GL.GL_LESS)


def _has_extension(name: str) -> bool:
    """Whether the current GL context has the extension ``name``."""
    count = int(GL.glGetIntegerv(GL.GL_NUM_EXTENSIONS))
    return any(GL.glGetStringi(GL.GL_EXTENSIONS, i).decode() == name for i in range(count))


class Framebuffer:
    """A framebuffer of renderbuffers, one per attachment (the one framebuffer builder).

    Parameters
    ----------
    width, height : int
        Size in pixels.
    attachments : sequence of (int, int)
        (internal format, attachment point) pairs, e.g. ``(GL_RGBA8, GL_COLOR_ATTACHMENT0)``.
    samples : int
        Samples per pixel; 1 makes single-sampled renderbuffers.

    Attributes
    ----------
    pack_invert : bool
        Whether :meth:`read` has the driver return the top row first (Mesa's
        ``GL_MESA_pack_invert``, when the context has it) instead of flipping a copy.

    Raises
    ------
    GLError
        If the framebuffer is incomplete (its GL objects are freed first).
    """

    def __init__(self, width: int, height: int, attachments: Sequence[tuple[int, int]],
                 samples: int = 1) -> None:
        self.width, self.height = int(width), int(height)
        # Mesa's GL_MESA_pack_invert reads rows top first: no flipped copy after each read.
        self.pack_invert = _has_extension("GL_MESA_pack_invert")
        self.id = GL.glGenFramebuffers(1)
        self._renderbuffers = [int(rb) for rb in
                               np.atleast_1d(GL.glGenRenderbuffers(len(attachments)))]
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, self.id)
        for rb, (fmt, attachment) in zip(self._renderbuffers, attachments):
            GL.glBindRenderbuffer(GL.GL_RENDERBUFFER, rb)
            if samples > 1:
                GL.glRenderbufferStorageMultisample(GL.GL_RENDERBUFFER, samples, fmt,
                                                    self.width, self.height)
            else:
                GL.glRenderbufferStorage(GL.GL_RENDERBUFFER, fmt, self.width, self.height)
            GL.glFramebufferRenderbuffer(GL.GL_FRAMEBUFFER, attachment, GL.GL_RENDERBUFFER, rb)
        status = GL.glCheckFramebufferStatus(GL.GL_FRAMEBUFFER)
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, 0)
        if status != GL.GL_FRAMEBUFFER_COMPLETE:
            self.delete()
            raise GLError(f"a framebuffer is incomplete (GL status {status:#x})")

    def blit_colour_to(self, target: Framebuffer, width: int | None = None,
                       height: int | None = None) -> None:
        """Resolve (or copy) colour attachment 0's lower-left ``width`` x ``height`` pixels
        (the whole framebuffer by default) into ``target``'s, with linear filtering."""
        w = self.width if width is None else int(width)
        h = self.height if height is None else int(height)
        GL.glBindFramebuffer(GL.GL_READ_FRAMEBUFFER, self.id)
        GL.glBindFramebuffer(GL.GL_DRAW_FRAMEBUFFER, target.id)
        GL.glBlitFramebuffer(0, 0, w, h, 0, 0, w, h, GL.GL_COLOR_BUFFER_BIT, GL.GL_LINEAR)

    def read(self, attachment: int, fmt: int, gl_type: int, dtype: type, channels: int = 1,
             width: int | None = None, height: int | None = None) -> np.ndarray:
        """Wait for the framebuffer and read one attachment's lower-left ``width`` x ``height``
        pixels (the whole framebuffer by default).

        Parameters
        ----------
        attachment : int
            ``GL_COLOR_ATTACHMENTi``.
        fmt, gl_type : int
            ``glReadPixels`` format and type, e.g. ``GL_RED_INTEGER``, ``GL_INT``.
        dtype : numpy dtype
            Matching ``gl_type`` (uint8, int32, float32).
        channels : int
            Components per pixel of ``fmt``.

        Returns
        -------
        (height, width) or (height, width, channels) array of ``dtype``
            Top row first, C-contiguous.
        """
        w = self.width if width is None else int(width)
        h = self.height if height is None else int(height)
        shape = (h, w) if channels == 1 else (h, w, channels)
        GL.glBindFramebuffer(GL.GL_READ_FRAMEBUFFER, self.id)
        GL.glReadBuffer(attachment)
        GL.glPixelStorei(GL.GL_PACK_ALIGNMENT, 1)
        if self.pack_invert:
            out = np.empty(shape, dtype=dtype)
            GL.glPixelStorei(GL_PACK_INVERT_MESA, 1)
            GL.glReadPixels(0, 0, w, h, fmt, gl_type, out)
            GL.glPixelStorei(GL_PACK_INVERT_MESA, 0)
        else:
            data = GL.glReadPixels(0, 0, w, h, fmt, gl_type)
            out = np.ascontiguousarray(np.frombuffer(data, dtype=dtype).reshape(shape)[::-1])
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, 0)
        return out

    def delete(self) -> None:
        """Free the framebuffer and its renderbuffers. Idempotent."""
        if self.id is not None:
            GL.glDeleteFramebuffers(1, [self.id])
            GL.glDeleteRenderbuffers(len(self._renderbuffers), self._renderbuffers)
            self.id, self._renderbuffers = None, []


def read_labels(framebuffer: Framebuffer, id_attachment: int, width: int | None = None,
                height: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Wait for a framebuffer's label images and read their lower-left ``width`` x ``height``
    pixels (the whole framebuffer by default): the ``GL_R32I`` instance ids at colour
    attachment ``id_attachment`` and the ``GL_R32F`` depth at the next one.

    Returns
    -------
    ids : (height, width) int32
    depth : (height, width) float32
        Both top row first.
    """
    ids = framebuffer.read(id_attachment, GL.GL_RED_INTEGER, GL.GL_INT, np.int32, 1, width,
                           height)
    depth = framebuffer.read(id_attachment + 1, GL.GL_RED, GL.GL_FLOAT, np.float32, 1, width,
                             height)
    return ids, depth


# -- vertex data -----------------------------------------------------------------------------
class VertexArray:
    """One primitive's vertex data uploaded: a vertex array object and its buffers.

    The layout is pyrender 0.1.45's, which its shaders (and the ``*_LOC`` defines of
    :class:`~synthscene.render.color_pass.ColourRenderer`) expect: one interleaved float32
    buffer of position (location 0), then normal, tangent, texcoord_0, texcoord_1 and colour_0
    where present, in that order at the next locations; then four locations of per-instance model
    matrices (the identity unless the primitive has poses); indices as uint32.

    Of the data only what later passes read is kept (the GL driver holds its own copy of the
    rest): the positions and indices (bounds, coarse stand-ins), whether there are texture
    coordinates, and whether a vertex colour is translucent.

    Parameters
    ----------
    primitive : pyrender.Primitive
        The data (read through its public attributes, which hold float32 arrays); not kept.

    Attributes
    ----------
    positions : (n, 3) float32
        The vertex positions, model frame.
    indices : (m, 3) array or None
        Triangle vertex indices, if the primitive has them.
    has_texcoords : bool
        Whether the primitive has texture coordinates (``texcoord_0``).
    translucent_colours : bool
        Whether a vertex colour has alpha below 1 (pyrender then draws the primitive as
        transparent whatever its material).
    """

    def __init__(self, primitive) -> None:
        self.positions = np.asarray(primitive.positions)
        self.indices = None if primitive.indices is None else np.asarray(primitive.indices)
        self.has_texcoords = primitive.texcoord_0 is not None
        colours = primitive.color_0
        self.translucent_colours = colours is not None and bool(np.any(colours[:, 3] != 1.0))
        self.mode = int(primitive.mode)
        self.buf_flags = primitive.buf_flags
        self.instances = 1 if primitive.poses is None else len(primitive.poses)
        self.id = GL.glGenVertexArrays(1)
        GL.glBindVertexArray(self.id)
        self._buffers = []
        columns = [a for a in (primitive.positions, primitive.normals, primitive.tangents,
                               primitive.texcoord_0, primitive.texcoord_1, primitive.color_0)
                   if a is not None]
        vertex_data = np.ascontiguousarray(np.hstack(columns).flatten().astype(np.float32))
        self._buffer(GL.GL_ARRAY_BUFFER, vertex_data)
        sizes = [a.shape[1] for a in columns]
        offset = 0
        for location, size in enumerate(sizes):
            GL.glVertexAttribPointer(location, size, GL.GL_FLOAT, GL.GL_FALSE,
                                     _FLOAT_SIZE * sum(sizes),
                                     ctypes.c_void_p(_FLOAT_SIZE * offset))
            GL.glEnableVertexAttribArray(location)
            offset += size
        poses = np.eye(4) if primitive.poses is None else np.transpose(primitive.poses, [0, 2, 1])
        self._buffer(GL.GL_ARRAY_BUFFER, np.ascontiguousarray(poses.flatten().astype(np.float32)))
        for column in range(4):
            location = column + len(sizes)
            GL.glEnableVertexAttribArray(location)
            GL.glVertexAttribPointer(location, 4, GL.GL_FLOAT, GL.GL_FALSE, _FLOAT_SIZE * 16,
                                     ctypes.c_void_p(4 * _FLOAT_SIZE * column))
            GL.glVertexAttribDivisor(location, 1)
        if self.indexed:
            self._buffer(GL.GL_ELEMENT_ARRAY_BUFFER,
                         primitive.indices.flatten().astype(np.uint32))
        GL.glBindVertexArray(0)

    @property
    def indexed(self) -> bool:
        """Whether the primitive has indices (drawn with ``glDrawElements``)."""
        return self.indices is not None

    @property
    def count(self) -> int:
        """Indices (indexed) or vertices drawn."""
        return self.indices.size if self.indices is not None else len(self.positions)

    def _buffer(self, target: int, data: np.ndarray) -> None:
        buffer = GL.glGenBuffers(1)
        self._buffers.append(buffer)
        GL.glBindBuffer(target, buffer)
        GL.glBufferData(target, data.nbytes, data, GL.GL_STATIC_DRAW)

    def draw(self) -> None:
        """Draw once with the bound program (the label passes)."""
        GL.glBindVertexArray(self.id)
        if self.indexed:
            GL.glDrawElements(self.mode, self.count, GL.GL_UNSIGNED_INT, ctypes.c_void_p(0))
        else:
            GL.glDrawArrays(self.mode, 0, self.count)

    def draw_instanced(self) -> None:
        """Draw every instance with the bound program (the colour pass)."""
        GL.glBindVertexArray(self.id)
        if self.indexed:
            GL.glDrawElementsInstanced(self.mode, self.count, GL.GL_UNSIGNED_INT,
                                       ctypes.c_void_p(0), self.instances)
        else:
            GL.glDrawArraysInstanced(self.mode, 0, self.count, self.instances)

    def delete(self) -> None:
        """Free the vertex array and its buffers. Idempotent."""
        if self.id is not None:
            GL.glDeleteVertexArrays(1, [self.id])
            GL.glDeleteBuffers(len(self._buffers), self._buffers)
            self.id, self._buffers = None, []


# -- textures --------------------------------------------------------------------------------
_CHANNEL_FORMATS = {"R": GL.GL_RED, "RG": GL.GL_RG, "GB": GL.GL_RG, "RGB": GL.GL_RGB,
                    "RGBA": GL.GL_RGBA}


def _upload_texture(texture) -> int:
    """Upload a ``pyrender.Texture`` (with a source image) as pyrender 0.1.45 does; return the
    GL texture name."""
    fmt = _CHANNEL_FORMATS.get(texture.source_channels, GL.GL_DEPTH_COMPONENT)
    target = texture.tex_type
    name = GL.glGenTextures(1)
    GL.glBindTexture(target, name)
    source = texture.source
    data = np.ascontiguousarray(np.flip(source, axis=0).flatten())
    GL.glTexImage2D(target, 0, fmt, source.shape[1], source.shape[0], 0, fmt,
                    texture.data_format, data)
    GL.glGenerateMipmap(target)
    sampler = texture.sampler
    mag = GL.GL_LINEAR if sampler.magFilter is None else sampler.magFilter
    minify = GL.GL_LINEAR_MIPMAP_LINEAR if sampler.minFilter is None else sampler.minFilter
    GL.glTexParameteri(target, GL.GL_TEXTURE_MAG_FILTER, mag)
    GL.glTexParameteri(target, GL.GL_TEXTURE_MIN_FILTER, minify)
    GL.glTexParameteri(target, GL.GL_TEXTURE_WRAP_S, sampler.wrapS)
    GL.glTexParameteri(target, GL.GL_TEXTURE_WRAP_T, sampler.wrapT)
    border = (np.ones(4).astype(np.float32) if texture.data_format == GL.GL_FLOAT
              else 255 * np.ones(4).astype(np.uint8))
    GL.glTexParameterfv(target, GL.GL_TEXTURE_BORDER_COLOR, border)
    GL.glBindTexture(target, 0)
    return name


class TextureUploads:
    """The textures a pass draws, uploaded while they are drawn.

    :meth:`sync` uploads the textures of a frame that are not uploaded yet and frees those the
    frame no longer draws (textures are ``pyrender.Texture`` objects with a source image,
    identified by object).
    """

    def __init__(self) -> None:
        self._names: dict = {}

    def sync(self, textures: Iterable) -> None:
        wanted = set(textures)
        for texture in [t for t in self._names if t not in wanted]:
            GL.glDeleteTextures([self._names.pop(texture)])
        for texture in wanted:
            if texture not in self._names:
                self._names[texture] = _upload_texture(texture)

    def bind(self, texture) -> None:
        """Bind an uploaded texture to the active texture unit."""
        GL.glBindTexture(texture.tex_type, self._names[texture])

    def delete(self) -> None:
        """Free every texture. Idempotent."""
        for name in self._names.values():
            GL.glDeleteTextures([name])
        self._names = {}
