"""What a frame draws, as pyrender's plain data classes: the primitives of assets, of their own
visual parts (:func:`~synthscene.assets.appearance`'s looks) and of the ground and walls, and the
materials of each drawn object.

``pyrender.Primitive``, ``pyrender.MetallicRoughnessMaterial`` and ``pyrender.Texture`` are used
here as data holders only (their constructors make the float32 arrays and values that pyrender's
shaders expect); :mod:`synthscene.render.gl` uploads them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synthscene.assets.appearance import (
    AssetMaterial,
    VisualPart,
    jitter_colors,
    linear_to_srgb,
    srgb_to_linear,
)
from synthscene.assets.uv import box_uv
from synthscene.core.state import HsvJitter, Material
from synthscene.render.compat import patch_pyrender_numpy2
from synthscene.render.platform import ensure_gl_platform

ensure_gl_platform()
patch_pyrender_numpy2()

import pyrender  # noqa: E402  (the GL platform must be chosen first)
import trimesh  # noqa: E402

from synthscene.render.gl import VertexArray  # noqa: E402

__all__ = ["LookPart", "jittered_factor", "look_material", "look_primitive", "mesh_primitives",
           "object_materials", "make_texture", "rectangle_mesh", "with_texture_coordinates"]


def mesh_primitives(mesh: trimesh.Trimesh) -> list[pyrender.Primitive]:
    """A mesh's flat-shaded primitives (``pyrender.Mesh.from_trimesh(..., smooth=False)``)."""
    return list(pyrender.Mesh.from_trimesh(mesh, smooth=False).primitives)


def object_materials(material: Material,
                     bases: list[VertexArray]) -> list[pyrender.MetallicRoughnessMaterial]:
    """The single-sided pyrender material of a drawn (``randomize``)
    :class:`~synthscene.core.state.Material` for each base primitive of one object.

    ``material.texture`` on a base with texture coordinates gives that texture (uploaded while
    drawn), with a white base-colour factor. Otherwise the plain base colour. The textured and
    the plain material are each made once per object, so a texture is uploaded once whatever
    the number of primitives.
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

    return [plain_or_textured(material.texture is not None
                              and base.has_texcoords) for base in bases]


@dataclass
class LookPart:
    """One :class:`~synthscene.assets.appearance.VisualPart` uploaded: its vertex array, its
    declared material, its texture (uploaded while drawn) and the part itself."""

    mesh: VertexArray
    material: pyrender.MetallicRoughnessMaterial
    texture: pyrender.Texture | None
    part: VisualPart


def make_texture(image: np.ndarray) -> pyrender.Texture:
    """pyrender's texture (plain data) of an (h, w, 3 or 4) uint8 sRGB image."""
    return pyrender.Texture(source=np.ascontiguousarray(image),
                            source_channels="RGBA" if image.shape[2] == 4 else "RGB")


def look_material(declared: AssetMaterial, texture: pyrender.Texture | None, *, flat: bool,
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


def look_primitive(part: VisualPart, material: pyrender.Material,
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


def jittered_factor(declared: AssetMaterial, jitter: HsvJitter) -> tuple[float, ...]:
    """The linear factor with ``jitter`` applied to its display (sRGB) colour."""
    shown = linear_to_srgb(np.asarray(declared.base_color_factor[:3]))
    rgb = srgb_to_linear(jitter_colors(shown, jitter))
    return (*(float(c) for c in rgb), float(declared.base_color_factor[3]))


def with_texture_coordinates(mesh: trimesh.Trimesh) -> trimesh.Trimesh:
    """``mesh`` itself if it has texture coordinates, else a box-projected copy (un-merged
    vertices; :func:`synthscene.assets.uv.box_uv`, one texture repeat per normalised unit)."""
    uv = getattr(mesh.visual, "uv", None)
    if isinstance(mesh.visual, trimesh.visual.TextureVisuals) and uv is not None \
            and len(uv) == len(mesh.vertices):
        return mesh
    projected = box_uv(mesh.vertices, mesh.faces, scale=1.0)
    return trimesh.Trimesh(vertices=projected.vertices, faces=projected.faces, process=False,
                           visual=trimesh.visual.TextureVisuals(uv=projected.uv))


def rectangle_mesh(width: float, height: float) -> trimesh.Trimesh:
    """A ``width`` x ``height`` metre rectangle centred in the z = 0 plane, normal +z, two
    triangles; a texture repeats every metre (texture coordinates in metres)."""
    w, h = width / 2.0, height / 2.0
    vertices = np.array([[-w, -h, 0.0], [w, -h, 0.0], [w, h, 0.0], [-w, h, 0.0]])
    faces = np.array([[0, 1, 2], [0, 2, 3]])
    uv = np.array([[0.0, height], [width, height], [width, 0.0], [0.0, 0.0]])
    return trimesh.Trimesh(vertices=vertices, faces=faces, process=False,
                           visual=trimesh.visual.TextureVisuals(uv=uv))

