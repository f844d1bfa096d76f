"""The material an asset's files declare, normalised to one PBR description.

Every asset source ends as a tuple of :class:`VisualPart`: triangles with optional texture
coordinates and vertex colours, and one :class:`AssetMaterial` (glTF 2.0's metallic-roughness
model: base colour factor and texture, metallic, roughness, alpha mode). This is what
``asset_appearance: keep`` renders and ``jitter`` varies.

What each file format gives (the one table of it; docs/scenarios.md repeats it for users):

=====================  =========================================================================
OBJ + MTL              ``Kd`` (sRGB) -> base colour factor (when the material has no ``map_Kd``);
                       ``map_Kd`` -> base colour texture (factor white, as pybullet and
                       Blender's importer ignore ``Kd`` beside a texture); ``d`` (or
                       ``1 - Tr``) -> alpha, ``BLEND`` when below 1; ``Ns`` and ``Ks`` ->
                       roughness = (2 / (Ns + 2)) ** 0.25 when ``Ks`` is not black, else 1
                       (Blinn-Phong exponent to Beckmann slope, Walter et al. 2007, eq. 33's
                       relation alpha = sqrt(2 / (n + 2)); glTF roughness = sqrt(alpha), Karis
                       2013); metallic 0 (MTL has no metalness).
glTF / GLB             ``baseColorFactor``, ``baseColorTexture``, ``metallicFactor``,
                       ``roughnessFactor``, ``alphaMode`` and ``alphaCutoff`` as declared
                       (glTF defaults where absent); a ``metallicRoughnessTexture`` counts by
                       its mean (blue: metalness, green: roughness) times the factors. Each
                       primitive is one part, placed by its node's scene-graph transform.
PLY ``TextureFile``    the image a PLY header names (``comment TextureFile NAME``, BOP's textured
                       models) -> base colour texture (factor white), with the file's
                       ``texture_u``/``texture_v`` (or ``s``/``t``) coordinates.
PLY / OBJ / GLB        per-vertex (or per-face) colours (taken as sRGB, as PLY and OBJ files
colours                mean them) -> vertex colours, multiplied with the base colour as glTF's
                       ``COLOR_0``.
URDF ``<material>``    ``<color rgba>`` (sRGB) replaces the mesh's base colour factor and multiplies
                       its texture; ``<texture filename>`` replaces the mesh's texture. This is
                       pybullet's precedence (its ``getCameraImage`` draws texture x URDF
                       colour and ignores the MTL's ``Kd``), except that a mesh ``Kd`` is kept
                       when the URDF gives no colour (pybullet draws white there).
nothing declared       neutral grey (:data:`NEUTRAL_GREY`); white under vertex colours.
=====================  =========================================================================

Colour spaces: ``AssetMaterial.base_color_factor`` is linear, as in glTF; the colours of MTL,
URDF and vertex colours are display (sRGB) colours, as their authors see them in pybullet and
in modelling tools, and are converted with IEC 61966-2-1's transfer function
(:func:`srgb_to_linear`), so that a red declared as ``1 0.2 0.2`` renders as that red.

A referenced MTL or texture file that is missing (or unreadable) logs one warning naming it, and
the next source in that order is used: never black, never an error.
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import cv2
import numpy as np
import trimesh
from PIL import Image

from synthscene.assets.bop_models import ply_texture_name
from synthscene.core.state import HsvJitter

logger = logging.getLogger(__name__)

AlphaMode = Literal["OPAQUE", "MASK", "BLEND"]

MAX_TEXTURE_PIXELS = 4096 * 4096
"""Largest asset texture read (pixels); a larger one is treated as unreadable (a warning)."""

__all__ = [
    "NEUTRAL_GREY",
    "AssetMaterial",
    "VisualPart",
    "jitter_colors",
    "linear_to_srgb",
    "srgb_to_linear",
    "jitter_image",
    "mtl_roughness",
    "visual_parts",
    "with_urdf_material",
]


@dataclass(frozen=True, eq=False)
class AssetMaterial:
    """A part's declared material, glTF 2.0 metallic-roughness conventions.

    Attributes
    ----------
    base_color_factor : (4,) tuple of float
        Linear RGBA in [0, 1] (glTF's ``baseColorFactor``).
    base_color_texture : (h, w, 3) or (h, w, 4) uint8 or None
        sRGB base-colour texture (rows top to bottom), multiplied by the factor.
    metallic : float
        In [0, 1].
    roughness : float
        In [0, 1].
    alpha_mode : {"OPAQUE", "MASK", "BLEND"}
    alpha_cutoff : float
        Alpha below which a ``MASK`` fragment is discarded.
    declared_by : str
        What gave it, for logs and tests, e.g. ``"mug.mtl: Kd"``, ``"URDF <color>"``,
        ``"default"``.
    """

    base_color_factor: tuple[float, float, float, float] = (1.0, 1.0, 1.0, 1.0)
    base_color_texture: np.ndarray | None = None
    metallic: float = 0.0
    roughness: float = 1.0
    alpha_mode: AlphaMode = "OPAQUE"
    alpha_cutoff: float = 0.5
    declared_by: str = "default"


@dataclass(frozen=True, eq=False)
class VisualPart:
    """Triangles drawn with one material.

    Attributes
    ----------
    vertices : (n, 3) float64
        In the asset's frame (normalised once the asset is: see :meth:`transformed`).
    faces : (m, 3) int64
        Indices into ``vertices``, counter-clockwise seen from outside.
    uv : (n, 2) float64 or None
        Texture coordinates (glTF/OpenGL convention: v up), None when the file has none.
    vertex_colors : (n, 4) uint8 or None
        Per-vertex RGBA, sRGB, None when the file has none.
    material : AssetMaterial
    """

    vertices: np.ndarray
    faces: np.ndarray
    uv: np.ndarray | None
    vertex_colors: np.ndarray | None
    material: AssetMaterial

    def transformed(self, matrix: np.ndarray) -> VisualPart:
        """The part with ``matrix`` ((4, 4) float64, a similarity transform) applied."""
        vertices = self.vertices @ matrix[:3, :3].T + matrix[:3, 3]
        faces = self.faces
        if np.linalg.det(matrix[:3, :3]) < 0:  # a mirror turns the winding around
            faces = faces[:, ::-1]
        return replace(self, vertices=vertices, faces=faces)


def srgb_to_linear(values: np.ndarray) -> np.ndarray:
    """sRGB-encoded values in [0, 1] to linear (IEC 61966-2-1; the formula of pyrender's
    ``srgb_to_linear`` shader function).

    Parameters
    ----------
    values : array_like of float in [0, 1]

    Returns
    -------
    ndarray of float64, the same shape
    """
    v = np.clip(np.asarray(values, dtype=np.float64), 0.0, 1.0)
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(values: np.ndarray) -> np.ndarray:
    """Linear values in [0, 1] to sRGB encoding (IEC 61966-2-1), the inverse of
    :func:`srgb_to_linear`.

    Parameters
    ----------
    values : array_like of float in [0, 1]

    Returns
    -------
    ndarray of float64, the same shape
    """
    v = np.clip(np.asarray(values, dtype=np.float64), 0.0, 1.0)
    return np.where(v <= 0.0031308, v * 12.92, 1.055 * v ** (1.0 / 2.4) - 0.055)


def _linear_rgba(rgba) -> tuple[float, float, float, float]:
    """A display (sRGB) RGBA colour as a linear base colour factor (alpha unchanged)."""
    rgb = srgb_to_linear(np.asarray(rgba[:3], dtype=np.float64))
    return (float(rgb[0]), float(rgb[1]), float(rgb[2]), float(rgba[3]))


NEUTRAL_GREY = AssetMaterial(base_color_factor=_linear_rgba((0.5, 0.5, 0.5, 1.0)), roughness=0.6)
"""The material of a part whose files declare none (and of primitives): display mid-grey."""

VERTEX_COLOURED = AssetMaterial(roughness=0.6, declared_by="vertex colours")
"""The material of a part whose only declaration is its vertex colours (white factor)."""


def jitter_colors(rgb: np.ndarray, jitter: HsvJitter) -> np.ndarray:
    """Apply ``jitter`` to colours.

    Parameters
    ----------
    rgb : (..., 3) float in [0, 1]
    jitter : HsvJitter

    Returns
    -------
    (..., 3) float32 in [0, 1]
        Hue rotated by ``hue_shift_rad``, saturation and value scaled and clipped (OpenCV's
        ``COLOR_RGB2HSV`` on float32: H in degrees, S and V in [0, 1]).
    """
    rgb = np.asarray(rgb, dtype=np.float32)
    flat = np.ascontiguousarray(rgb.reshape(-1, 1, 3))
    hsv = cv2.cvtColor(flat, cv2.COLOR_RGB2HSV)
    hsv[..., 0] = np.mod(hsv[..., 0] + math.degrees(jitter.hue_shift_rad), 360.0)
    hsv[..., 1] = np.clip(hsv[..., 1] * jitter.saturation_scale, 0.0, 1.0)
    hsv[..., 2] = np.clip(hsv[..., 2] * jitter.value_scale, 0.0, 1.0)
    out = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)
    return np.clip(out, 0.0, 1.0).reshape(rgb.shape)


def jitter_image(image: np.ndarray, jitter: HsvJitter) -> np.ndarray:
    """Apply ``jitter`` to a uint8 RGB or RGBA image (alpha kept).

    Parameters
    ----------
    image : (h, w, 3) or (h, w, 4) uint8
    jitter : HsvJitter

    Returns
    -------
    (h, w, 3) or (h, w, 4) uint8
        A new array; the colour of each texel changed as by :func:`jitter_colors`.
    """
    rgb = jitter_colors(image[..., :3].astype(np.float32) / 255.0, jitter)
    out = image.copy()
    out[..., :3] = np.round(rgb * 255.0).astype(np.uint8)
    return out


def mtl_roughness(ns: float, ks: tuple[float, float, float]) -> float:
    """glTF roughness of an MTL material's specular exponent ``Ns`` and colour ``Ks``.

    Parameters
    ----------
    ns : float
        Blinn-Phong exponent (>= 0; negative values count as 0).
    ks : (3,) tuple of float
        Specular colour; black means no highlight: roughness 1.

    Returns
    -------
    float
        ``(2 / (ns + 2)) ** 0.25`` in (0, 1] (Beckmann slope alpha = sqrt(2 / (n + 2)), Walter
        et al. 2007, "Microfacet Models for Refraction", sec. 5.2; roughness = sqrt(alpha),
        Karis 2013, "Real Shading in Unreal Engine 4").
    """
    if max(ks) <= 0.0:
        return 1.0
    return float((2.0 / (max(float(ns), 0.0) + 2.0)) ** 0.25)


# --------------------------------------------------------------------------------------------
# MTL files


@dataclass
class _MtlEntry:
    kd: tuple[float, float, float] | None = None
    ks: tuple[float, float, float] = (0.0, 0.0, 0.0)
    ns: float = 0.0
    alpha: float = 1.0
    map_kd: str | None = None


def _mtl_floats(tokens: list[str]) -> tuple[float, ...] | None:
    try:
        values = tuple(float(t) for t in tokens)
    except ValueError:
        return None
    return values if values and all(math.isfinite(v) for v in values) else None


def _map_file(tokens: list[str]) -> str | None:
    """The file name of a ``map_Kd [-opt args...] file`` line (options skipped)."""
    option_args = {"-blendu": 1, "-blendv": 1, "-bm": 1, "-boost": 1, "-cc": 1, "-clamp": 1,
                   "-imfchan": 1, "-mm": 2, "-o": 3, "-s": 3, "-t": 3, "-texres": 1}
    i = 0
    while i < len(tokens) and tokens[i].startswith("-"):
        count = option_args.get(tokens[i].lower(), 0)
        i += 1
        # -o/-s/-t take one to three numbers
        taken = 0
        while taken < count and i < len(tokens) and _mtl_floats([tokens[i]]) is not None:
            i += 1
            taken += 1
        if count == 1 and taken == 0 and i < len(tokens) - 1:
            i += 1  # a word argument (-clamp on, -imfchan r)
    name = " ".join(tokens[i:]).strip()
    return name or None


def _parse_mtl(path: Path) -> dict[str, _MtlEntry]:
    """Materials of an MTL file by name (``Kd``, ``Ks``, ``Ns``, ``d``/``Tr``, ``map_Kd``)."""
    entries: dict[str, _MtlEntry] = {}
    current: _MtlEntry | None = None
    text = path.read_text(encoding="utf-8", errors="replace")
    for raw in text.splitlines():
        tokens = raw.split("#", 1)[0].split()
        if not tokens:
            continue
        key, args = tokens[0], tokens[1:]
        if key == "newmtl":
            current = entries.setdefault(" ".join(args), _MtlEntry())
            continue
        if current is None:
            continue
        values = _mtl_floats(args[:3])
        if key == "Kd" and values:
            current.kd = tuple(float(np.clip(v, 0.0, 1.0)) for v in (values * 3)[:3])
        elif key == "Ks" and values:
            current.ks = tuple(float(np.clip(v, 0.0, 1.0)) for v in (values * 3)[:3])
        elif key == "Ns" and values:
            current.ns = values[0]
        elif key == "d" and values:
            current.alpha = float(np.clip(values[-1], 0.0, 1.0))
        elif key == "Tr" and values:
            current.alpha = float(np.clip(1.0 - values[0], 0.0, 1.0))
        elif key.lower() == "map_kd":
            current.map_kd = _map_file(args)
    return entries


_MTLLIB = re.compile(rb"^[ \t]*mtllib[ \t]+([^\r\n#]+)", re.MULTILINE)


def _obj_mtl_files(path: Path) -> list[Path]:
    """The MTL files an OBJ names in its ``mtllib`` lines, resolved beside it."""
    with open(path, "rb") as handle:
        data = handle.read()
    names: list[Path] = []
    for match in _MTLLIB.finditer(data):
        text = match.group(1).decode("utf-8", errors="replace").strip()
        candidate = path.parent / text
        # One file name with spaces, or several names separated by spaces.
        names += [candidate] if candidate.is_file() else [path.parent / t for t in text.split()]
    return names


def _read_texture(path: Path, what: str) -> np.ndarray | None:
    """A texture file as (h, w, 3|4) uint8, or None (with one warning) if it cannot be read."""
    try:
        with Image.open(path) as image:
            if image.width * image.height > MAX_TEXTURE_PIXELS:
                logger.warning("%s: texture %s is %dx%d, over %d pixels: ignored", what, path,
                            image.width, image.height, MAX_TEXTURE_PIXELS)
                return None
            return _image_array(image)
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        logger.warning("%s: texture %s cannot be read (%s): ignored", what, path,
                    " ".join(str(exc).split()) or type(exc).__name__)
        return None


def _image_array(image: Image.Image) -> np.ndarray:
    mode = "RGBA" if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info \
        else "RGB"
    return np.ascontiguousarray(np.asarray(image.convert(mode), dtype=np.uint8))


class _ObjMaterials:
    """The MTL materials an OBJ declares, read once per file."""

    def __init__(self, path: Path, where: str) -> None:
        self.path, self.where = path, where
        self.entries: dict[str, _MtlEntry] = {}
        self.files: dict[str, Path] = {}
        for mtl in _obj_mtl_files(path):
            if not mtl.is_file():
                logger.warning("%s: %s names material file %s, which is missing: its colours "
                            "come from the next source (URDF colour, else grey)",
                            where or path, path.name, mtl)
                continue
            try:
                entries = _parse_mtl(mtl)
            except OSError as exc:
                logger.warning("%s: material file %s cannot be read (%s)", where or path, mtl, exc)
                continue
            for name, entry in entries.items():
                self.entries.setdefault(name, entry)
                self.files.setdefault(name, mtl)
        self._textures: dict[Path, np.ndarray | None] = {}

    def material(self, name: str | None) -> AssetMaterial | None:
        """The declared material ``name`` (or the only one), None if nothing is declared."""
        entry = self.entries.get(name) if name is not None else None
        if entry is None and len(self.entries) == 1:
            name, entry = next(iter(self.entries.items()))
        if entry is None:
            return None
        mtl = self.files[name]
        texture = None
        if entry.map_kd is not None:
            texture_path = mtl.parent / entry.map_kd.replace("\\", "/")
            if texture_path not in self._textures:
                if texture_path.is_file():
                    self._textures[texture_path] = _read_texture(texture_path, f"{mtl}")
                else:
                    logger.warning("%s: %s names texture %s, which is missing: using its Kd",
                                self.where or self.path, mtl.name, texture_path)
                    self._textures[texture_path] = None
            texture = self._textures[texture_path]
        if texture is not None:
            factor = (1.0, 1.0, 1.0, entry.alpha)
            declared = f"{mtl.name}: map_Kd"
        elif entry.kd is not None:
            factor = _linear_rgba((*entry.kd, entry.alpha))
            declared = f"{mtl.name}: Kd"
        else:
            factor = (*NEUTRAL_GREY.base_color_factor[:3], entry.alpha)
            declared = f"{mtl.name}: no Kd"
        return AssetMaterial(
            base_color_factor=factor, base_color_texture=texture, metallic=0.0,
            roughness=mtl_roughness(entry.ns, entry.ks),
            alpha_mode="BLEND" if entry.alpha < 1.0 else "OPAQUE", declared_by=declared,
        )


# --------------------------------------------------------------------------------------------
# trimesh geometry -> parts


def _unit(values, default: float) -> float:
    if values is None:
        return default
    value = float(values)
    return float(np.clip(value, 0.0, 1.0)) if math.isfinite(value) else default


def _mean_metallic_roughness(image: Image.Image | None) -> tuple[float, float] | None:
    """The mean metalness (blue channel) and roughness (green channel) of a glTF
    ``metallicRoughnessTexture``, in [0, 1]; None without one (or if it cannot be read).

    A part is drawn with one metallic and one roughness value, so a texture of them counts by
    its mean: without it, glTF's default factors (1, 1) would draw every such part as bare
    metal."""
    if image is None:
        return None
    try:
        if image.width * image.height > MAX_TEXTURE_PIXELS:
            logger.warning("metallicRoughnessTexture of %dx%d pixels is over %d pixels: "
                           "ignored", image.width, image.height, MAX_TEXTURE_PIXELS)
            return None
        values = np.asarray(image.convert("RGB"), dtype=np.float64) / 255.0
    except (OSError, ValueError) as exc:
        logger.warning("metallicRoughnessTexture cannot be read (%s): ignored",
                       " ".join(str(exc).split()))
        return None
    return float(values[..., 2].mean()), float(values[..., 1].mean())


def _gltf_material(material: trimesh.visual.material.PBRMaterial) -> AssetMaterial:
    factor = material.baseColorFactor
    if factor is None:
        rgba = (1.0, 1.0, 1.0, 1.0)
    else:
        values = np.asarray(factor, dtype=np.float64)
        if values.dtype.kind in "ui" or values.max() > 1.0:  # trimesh keeps uint8 factors
            values = values / 255.0
        rgba = tuple(float(np.clip(v, 0.0, 1.0)) for v in (list(values) + [1.0] * 4)[:4])
    texture = material.baseColorTexture
    alpha_mode = str(material.alphaMode or "OPAQUE").upper()
    metallic = _unit(material.metallicFactor, 1.0)
    roughness = _unit(material.roughnessFactor, 1.0)
    packed = _mean_metallic_roughness(material.metallicRoughnessTexture)
    if packed is not None:  # the factors scale the texture's values (glTF 2.0, 3.9.2)
        metallic, roughness = metallic * packed[0], roughness * packed[1]
    return AssetMaterial(
        base_color_factor=rgba,  # type: ignore[arg-type]
        base_color_texture=None if texture is None else _image_array(texture),
        metallic=metallic,
        roughness=roughness,
        alpha_mode=alpha_mode if alpha_mode in ("OPAQUE", "MASK", "BLEND") else "OPAQUE",
        alpha_cutoff=_unit(material.alphaCutoff, 0.5),
        declared_by="glTF material",
    )


def _ply_texture(path: Path, where: str) -> np.ndarray | None:
    """The texture a PLY header names (``comment TextureFile``, BOP's textured models), read
    as :func:`_read_texture` (trimesh is told to skip it: its loader logs a traceback for a
    missing image and reads any size); a missing file is one warning."""
    try:
        name = ply_texture_name(path)
    except OSError:
        return None  # the mesh itself is read (and refused) by the caller
    if name is None:
        return None
    texture_path = path.parent / name
    if not texture_path.is_file():
        logger.warning("%s: %s names texture %s, which is missing: drawn with its vertex "
                       "colours, else grey", where or path, path.name, texture_path)
        return None
    return _read_texture(texture_path, where or str(path))


def _vertex_colors(mesh: trimesh.Trimesh) -> np.ndarray | None:
    visual = mesh.visual
    if isinstance(visual, trimesh.visual.ColorVisuals) and visual.kind in ("vertex", "face"):
        colors = np.asarray(visual.vertex_colors, dtype=np.uint8)
        return colors if len(colors) == len(mesh.vertices) else None
    if isinstance(visual, trimesh.visual.TextureVisuals):
        colors = visual.vertex_attributes.get("color")
        if colors is not None and len(colors) == len(mesh.vertices):
            colors = np.asarray(colors)
            if colors.dtype.kind == "f":
                colors = np.round(np.clip(colors, 0.0, 1.0) * 255.0)
            colors = colors.astype(np.uint8)
            if colors.shape[1] == 3:
                colors = np.concatenate([colors, np.full((len(colors), 1), 255, np.uint8)], 1)
            return colors
    return None


def _part(mesh: trimesh.Trimesh, obj: _ObjMaterials | None,
          ply_texture: np.ndarray | None = None) -> VisualPart:
    visual = mesh.visual
    uv = None
    material = None
    if isinstance(visual, trimesh.visual.TextureVisuals):
        if visual.uv is not None and len(visual.uv) == len(mesh.vertices):
            uv = np.asarray(visual.uv, dtype=np.float64)
        own = visual.material
        if isinstance(own, trimesh.visual.material.PBRMaterial):
            material = _gltf_material(own)
        elif obj is not None:  # an OBJ: what its MTL says, not trimesh's placeholder
            material = obj.material(getattr(own, "name", None))
        elif ply_texture is not None:  # a PLY's ``comment TextureFile``
            material = AssetMaterial(base_color_texture=ply_texture,
                                     roughness=NEUTRAL_GREY.roughness,
                                     declared_by="PLY TextureFile")
    elif obj is not None and obj.entries:
        material = obj.material(None)
    colors = _vertex_colors(mesh)
    if material is None:
        material = NEUTRAL_GREY if colors is None else VERTEX_COLOURED
    if material.base_color_texture is not None and uv is None:
        material = replace(material, base_color_texture=None)
    return VisualPart(
        vertices=np.asarray(mesh.vertices, dtype=np.float64),
        faces=np.asarray(mesh.faces, dtype=np.int64),
        uv=uv,
        vertex_colors=colors,
        material=material,
    )


def visual_parts(meshes: list[trimesh.Trimesh], path: Path | None,
                 where: str = "") -> tuple[VisualPart, ...]:
    """The parts of a mesh file's triangle meshes with the materials the files declare.

    Parameters
    ----------
    meshes : list of trimesh.Trimesh
        The file's meshes as trimesh loaded them, scene-graph transforms applied (the
        geometry the asset's visual mesh is made of).
    path : Path or None
        The file (an OBJ's MTL files are read beside it); None for generated meshes.
    where : str
        Scenario location for warnings.

    Returns
    -------
    tuple of VisualPart
        One a mesh, in order.
    """
    obj = None
    if path is not None and path.suffix.lower() == ".obj":
        obj = _ObjMaterials(path, where)
    ply_texture = None
    if path is not None and path.suffix.lower() == ".ply":
        ply_texture = _ply_texture(path, where)
    return tuple(_part(mesh, obj, ply_texture) for mesh in meshes)


def with_urdf_material(parts: tuple[VisualPart, ...],
                       rgba: tuple[float, float, float, float] | None,
                       texture_path: Path | None, where: str = "") -> tuple[VisualPart, ...]:
    """Apply a URDF ``<visual>``'s ``<material>`` to the parts of its geometry.

    Parameters
    ----------
    parts : tuple of VisualPart
    rgba : (4,) tuple of float or None
        ``<color rgba>``, sRGB: replaces each part's base colour factor (pybullet's rule).
    texture_path : Path or None
        ``<texture filename>``: replaces each part's texture where the part has texture
        coordinates; a missing file logs a warning and keeps the mesh's own.
    where : str
        Scenario location for warnings.

    Returns
    -------
    tuple of VisualPart
    """
    texture = None
    if texture_path is not None:
        if texture_path.is_file():
            texture = _read_texture(texture_path, where or str(texture_path))
        else:
            logger.warning("%s: URDF texture %s is missing: the mesh's own look is used",
                        where or texture_path, texture_path)
    if rgba is None and texture is None:
        return parts
    out = []
    for part in parts:
        material = part.material
        if texture is not None and part.uv is not None:
            material = replace(material, base_color_texture=texture,
                               declared_by="URDF <texture>")
        if rgba is not None:
            material = replace(material, base_color_factor=_linear_rgba(rgba),
                               alpha_mode="BLEND" if rgba[3] < 1.0 else material.alpha_mode,
                               declared_by="URDF <color>")
        out.append(replace(part, material=material))
    return tuple(out)
