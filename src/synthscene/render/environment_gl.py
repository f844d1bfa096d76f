"""The environment light on the GL side: its textures, its uniforms in the lit programs, and
the environment drawn behind the scene (``background.environment``).

:class:`EnvironmentPass` uploads an environment's prepared maps
(:class:`~synthscene.render.environment.EnvironmentMaps`: the prefiltered chain as the mip levels
of one float texture, the background copy) once per map and keeps the last
:data:`TEXTURES_KEPT`; the BRDF table is uploaded once. The textures sit on texture units
:data:`SPECULAR_UNIT` and :data:`LUT_UNIT` (above the material textures' units) for the whole
frame. The background is one triangle covering the viewport on the far plane, drawn after the
scene where the depth buffer is still clear, into the colour attachment only: the label images
never see it. (As with background images, a see-through object blends with the clear colour,
not with the environment behind it.)
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
from OpenGL import GL

from synthscene.assets.environment_files import read_environment
from synthscene.assets.sky import sky_image
from synthscene.core.kept import LeastRecentlyUsed
from synthscene.core.state import SKY, Environment
from synthscene.errors import AssetError
from synthscene.render.environment import EnvironmentMapCache, EnvironmentMaps, brdf_lut
from synthscene.render.gl import Program

__all__ = ["EnvironmentDraw", "EnvironmentPass", "LUT_UNIT", "SPECULAR_UNIT", "TEXTURES_KEPT",
           "PreparedMaps"]

SPECULAR_UNIT = 12
"""Texture unit of the prefiltered chain (material textures use units 0 to 6)."""
LUT_UNIT = 13
"""Texture unit of the BRDF table."""
BACKGROUND_UNIT = 14
"""Texture unit of the background copy."""
TEXTURES_KEPT = 8
"""Environments whose textures stay uploaded."""


class PreparedMaps:
    """The prepared maps of the environments one renderer draws (each prepared once and kept,
    :class:`~synthscene.render.environment.EnvironmentMapCache`), by file content or by the
    sky's parameters."""

    def __init__(self) -> None:
        self._cache = EnvironmentMapCache()
        self._content_keys: dict[tuple, str] = {}  # (path, mtime, size) -> content hash

    def of(self, environment: Environment) -> EnvironmentMaps:
        """The prepared maps of a frame's environment.

        Raises
        ------
        AssetError
            If the environment's file cannot be read (:func:`read_environment`).
        """
        if environment.source == SKY:
            key = f"sky:{environment.sun_elevation_rad:.9f}:{environment.turbidity:.6f}"
            return self._cache.get(key, lambda: sky_image(environment.sun_elevation_rad,
                                                          environment.turbidity))
        try:
            stat = os.stat(environment.source)
        except OSError as exc:
            raise AssetError(f"{environment.source}: cannot read this environment map: "
                             f"{exc.strerror or exc}") from None
        file_key = (environment.source, stat.st_mtime_ns, stat.st_size)
        key = self._content_keys.get(file_key)
        if key is None:
            image = read_environment(environment.source)
            self._content_keys[file_key] = image.key
            return self._cache.get(image.key, lambda: image.radiance)
        return self._cache.get(key, lambda: read_environment(environment.source).radiance)


@dataclass(frozen=True, eq=False)
class EnvironmentDraw:
    """What the colour pass needs of a frame's environment.

    Attributes
    ----------
    maps : EnvironmentMaps
    intensity : float
    rotation_rad : float
        Turn of the map about +z (see :class:`~synthscene.core.state.Environment`).
    visible : bool
        Draw it behind the scene.
    """

    maps: EnvironmentMaps
    intensity: float
    rotation_rad: float
    visible: bool

    @classmethod
    def of(cls, environment: Environment, prepared: PreparedMaps) -> EnvironmentDraw:
        """The draw of a frame's ``environment``, its maps from ``prepared`` (the renderer's).

        Raises
        ------
        AssetError
            As :meth:`PreparedMaps.of`.
        """
        return cls(prepared.of(environment), float(environment.intensity),
                   float(environment.rotation_rad), bool(environment.visible))


LUT_SCALE = (1.0, 4.0, 32.0)
"""The BRDF table's channels (A, B, C) are stored multiplied by these (each then spans most of
[0, 1]: A up to 1, B up to 0.15, C up to 0.03) in 10 bits; ``environment.glsl`` divides."""


def _float_texture(levels: list[np.ndarray], internal_format: int = GL.GL_RGB9_E5,
                   wrap_s: int = GL.GL_REPEAT) -> int:
    """Upload ``levels`` (each (h, w, 3) float32 >= 0, halving) as the mip chain of one RGB
    texture, wrapped in u as ``wrap_s`` says, clamped in v; row 0 at t = 0.

    The default format, ``GL_RGB9_E5`` (three 9-bit mantissas sharing an exponent: 0.2 % of
    the texel's largest channel, the range of float16), holds a texel in 32 bits: llvmpipe
    gathers each texel of a filtered lookup once instead of once per channel, which makes the
    lit shader's trilinear lookup of the prefiltered chain about three times cheaper than from
    ``GL_RGB32F``."""
    name = GL.glGenTextures(1)
    GL.glBindTexture(GL.GL_TEXTURE_2D, name)
    GL.glPixelStorei(GL.GL_UNPACK_ALIGNMENT, 1)
    for level, image in enumerate(levels):
        data = np.ascontiguousarray(image, dtype=np.float32)
        GL.glTexImage2D(GL.GL_TEXTURE_2D, level, internal_format, data.shape[1], data.shape[0],
                        0, GL.GL_RGB, GL.GL_FLOAT, data)
    GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_BASE_LEVEL, 0)
    GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_MAX_LEVEL, len(levels) - 1)
    # The chain's level nearest the roughness, bilinear within it: one level's texels
    # gathered, not two (the levels are 0.25 of roughness apart).
    GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_MIN_FILTER,
                       GL.GL_LINEAR_MIPMAP_NEAREST if len(levels) > 1 else GL.GL_LINEAR)
    GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_MAG_FILTER, GL.GL_LINEAR)
    GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_WRAP_S, wrap_s)
    GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_WRAP_T, GL.GL_CLAMP_TO_EDGE)
    GL.glBindTexture(GL.GL_TEXTURE_2D, 0)
    return name


class EnvironmentPass:
    """The environment's GL objects; needs a current GL context for its whole life."""

    def __init__(self) -> None:
        self._textures: LeastRecentlyUsed[str, tuple[int, int]] = LeastRecentlyUsed(
            TEXTURES_KEPT, on_drop=lambda names: GL.glDeleteTextures(list(names)))
        lut = np.clip(brdf_lut() * np.asarray(LUT_SCALE, dtype=np.float32), 0.0, 1.0)
        self._lut = _float_texture([lut], GL.GL_RGB10_A2)
        GL.glBindTexture(GL.GL_TEXTURE_2D, self._lut)
        GL.glTexParameteri(GL.GL_TEXTURE_2D, GL.GL_TEXTURE_WRAP_S, GL.GL_CLAMP_TO_EDGE)
        GL.glBindTexture(GL.GL_TEXTURE_2D, 0)
        self._background: Program | None = None
        self._vao = GL.glGenVertexArrays(1)
        self._draw: EnvironmentDraw | None = None

    def bind(self, draw: EnvironmentDraw) -> None:
        """Upload (once) and bind a frame's environment textures to their units."""
        names = self._textures.get(draw.maps.key, lambda: (
            _float_texture(draw.maps.specular, wrap_s=GL.GL_CLAMP_TO_EDGE),
            _float_texture([draw.maps.background], GL.GL_RGB32F)))
        for unit, name in ((SPECULAR_UNIT, names[0]), (LUT_UNIT, self._lut),
                           (BACKGROUND_UNIT, names[1])):
            GL.glActiveTexture(GL.GL_TEXTURE0 + unit)
            GL.glBindTexture(GL.GL_TEXTURE_2D, name)
        GL.glActiveTexture(GL.GL_TEXTURE0)
        self._draw = draw

    def set_uniforms(self, program: Program) -> None:
        """Set the environment uniforms of a bound program (those it lacks are skipped)."""
        draw = self._draw
        location = program.location("env_sh[0]")
        if location != -1:
            GL.glUniform3fv(location, 9, np.ascontiguousarray(draw.maps.sh9, dtype=np.float32))
        for name, value in (("env_intensity", draw.intensity),
                            ("env_max_lod", float(len(draw.maps.specular) - 1))):
            location = program.location(name)
            if location != -1:
                GL.glUniform1f(location, value)
        location = program.location("env_rotation")
        if location != -1:
            GL.glUniform2f(location, float(np.cos(draw.rotation_rad)),
                           float(np.sin(draw.rotation_rad)))
        for name, unit in (("env_specular", SPECULAR_UNIT), ("env_brdf_lut", LUT_UNIT),
                           ("env_background", BACKGROUND_UNIT)):
            location = program.location(name)
            if location != -1:
                GL.glUniform1i(location, unit)

    def draw_background(self, world_from_clip: np.ndarray, camera_position: np.ndarray) -> None:
        """Draw the bound environment on the far plane where the depth buffer is still clear
        (after the scene, so that only those pixels are shaded; no depth written), into the draw
        buffers set by the caller."""
        if self._background is None:
            self._background = Program("environment.vert", "environment.frag",
                                       {"USE_ENVIRONMENT": 1})
        program = self._background
        program.use()
        self.set_uniforms(program)
        program.set_matrix("world_from_clip", world_from_clip)
        GL.glUniform3fv(program.location("cam_pos"), 1,
                        np.asarray(camera_position, dtype=np.float32))
        GL.glEnable(GL.GL_DEPTH_TEST)
        GL.glDepthFunc(GL.GL_LEQUAL)
        GL.glDepthMask(GL.GL_FALSE)
        GL.glDisable(GL.GL_BLEND)
        GL.glDisable(GL.GL_CULL_FACE)
        GL.glBindVertexArray(self._vao)
        GL.glDrawArrays(GL.GL_TRIANGLES, 0, 3)
        GL.glBindVertexArray(0)
        GL.glUseProgram(0)
        GL.glDepthFunc(GL.GL_LESS)
        GL.glDepthMask(GL.GL_TRUE)
        GL.glEnable(GL.GL_BLEND)

    def delete(self) -> None:
        """Free every GL object (the context must be current). Idempotent."""
        for names in self._textures.values():
            GL.glDeleteTextures(list(names))
        self._textures.clear()
        if self._lut is not None:
            GL.glDeleteTextures([self._lut])
            self._lut = None
        if self._background is not None:
            self._background.delete()
            self._background = None
        if self._vao is not None:
            GL.glDeleteVertexArrays(1, [self._vao])
            self._vao = None
