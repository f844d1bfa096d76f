"""What a placement draws from (:class:`ObjectPool`, :func:`choose_assets`,
:func:`sample_material`) and the check of what it returns.

A placement (:func:`synthscene.plugins.register_placement`) gets an :class:`ObjectPool`: the
scenario's ``objects`` section and its asset library, with helpers that draw the count, assets,
sizes and materials as the section says; :func:`checked_objects` numbers and checks the objects it
returns.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from synthscene.config.fields import NativeSize
from synthscene.config.schema import MaterialSpec, ObjectsSpec
from synthscene.core.state import HsvJitter, Material, SceneObject
from synthscene.errors import PluginError
from synthscene.registry.distributions import Distribution
from synthscene.registry.randomizers import Randomizer

if TYPE_CHECKING:  # annotations only: the asset modules load trimesh
    from synthscene.assets.library import AssetLibrary

__all__ = ["OBJECT_TEXTURE_PX", "ObjectPool", "checked_objects", "choose_assets",
           "object_size", "sample_material"]

OBJECT_TEXTURE_PX = 64
"""Side in pixels of the textures drawn for objects and distractors."""



@dataclass(frozen=True)
class ObjectPool:
    """The labelled objects a placement may use: the scenario's ``objects`` section and assets.

    Attributes
    ----------
    spec : ObjectsSpec
        ``count``, ``size_m``, ``asset_sampling``, ``drop_region``, ``material``.
    library : AssetLibrary
        The labelled assets (keys, categories, meshes); in a scenario's frames also the
        fixtures' and distractors' (``get``).
    fixtures : tuple of SceneObject
        The frame's fixtures at their poses, for a placement whose parameters have
        ``surfaces`` (drawn before it); empty otherwise.
    fixture_names : tuple of str or None
        Each fixture's ``name``.
    left_out : list of int
        A placement may append how many objects it drew but found no place for.
    """

    spec: ObjectsSpec
    library: AssetLibrary
    fixtures: tuple[SceneObject, ...] = ()
    fixture_names: tuple[str | None, ...] = ()
    left_out: list[int] = field(default_factory=list)

    def sample_count(self, *, rng: np.random.Generator) -> int:
        """Draw the number of objects (``objects.count``)."""
        return int(self.spec.count.sample(rng))

    def sample_assets(self, count: int, *, rng: np.random.Generator) -> list[str]:
        """Draw ``count`` asset keys as ``objects.asset_sampling`` says: each category equally
        likely (then an asset of it), or each asset equally likely."""
        return choose_assets(self.spec, self.library, count, rng)

    def sample_size(self, key: str | None = None, *, rng: np.random.Generator) -> float:
        """Draw an object's size: its longest bounding-box edge in metres (``objects.size_m``);
        with ``size_m: native``, asset ``key``'s own size (nothing drawn).

        Raises
        ------
        TypeError
            If ``size_m`` is ``native`` and no ``key`` is given.
        """
        return object_size(self.spec.size_m, key, self.library, rng=rng)

    def sample_material(self, *, rng: np.random.Generator) -> Material:
        """Draw a material as ``objects.material`` says."""
        return sample_material(self.spec.material, rng=rng)

    def category_of(self, key: str) -> str:
        """The category of asset ``key``."""
        return self.library.category_of(key)

    def bounds(self, key: str) -> np.ndarray:
        """``(2, 3) float64``: min and max corners of asset ``key``'s normalised mesh (longest
        edge 1; multiply by the object's size for metres), in the object's frame."""
        return np.asarray(self.library.get(key).mesh.bounds, dtype=np.float64)

    def make(self, key: str, *, scale: float, world_from_object: np.ndarray,
             material: Material) -> SceneObject:
        """A labelled, dynamic object of asset ``key`` (its instance id is set later).

        Parameters
        ----------
        key : str
        scale : float
            Longest bounding-box edge, metres.
        world_from_object : (4, 4) float64
            Pose of the centre of its bounding box, metres.
        material : Material
        """
        return SceneObject(instance_id=0, asset_key=key, category=self.category_of(key),
                           scale=float(scale),
                           world_from_object=np.asarray(world_from_object, dtype=np.float64),
                           material=material)


def object_size(size_m: Distribution, key: str | None, library: Any, *,
                rng: np.random.Generator) -> float:
    """An object's size in metres: a draw of ``size_m``, or with ``size_m: native``
    (:class:`~synthscene.config.fields.NativeSize`) the asset's ``native_size_m`` (no draw).

    Parameters
    ----------
    size_m : Distribution
    key : str or None
        The object's asset key (needed for a native size).
    library : AssetLibrary or SceneLibraries
    rng : numpy.random.Generator

    Raises
    ------
    TypeError
        If ``size_m`` is native and ``key`` is None.
    """
    if isinstance(size_m, NativeSize):
        if key is None:
            raise TypeError("size_m: native needs the object's asset key")
        return float(library.get(key).native_size_m)
    return float(size_m.sample(rng))


def checked_objects(entry: Randomizer, objects: Any) -> tuple[SceneObject, ...]:
    """A placement's result with instance ids 1..N, checked.

    Raises
    ------
    PluginError
        If it is not a sequence of :class:`SceneObject` with (4, 4) finite poses and positive
        scales.
    """
    if not isinstance(objects, (list, tuple)):
        raise PluginError(f"{entry.describe()} returned a {type(objects).__name__}; a placement "
                          "returns a list of SceneObject")
    out = []
    for i, obj in enumerate(objects):
        pose = getattr(obj, "world_from_object", None)
        if not (isinstance(obj, SceneObject) and np.shape(pose) == (4, 4)
                and np.all(np.isfinite(pose)) and obj.scale > 0):
            raise PluginError(f"{entry.describe()} returned item {i} that is not a SceneObject "
                              "with a finite (4, 4) pose and a positive scale")
        out.append(dataclasses.replace(obj, instance_id=i + 1))
    return tuple(out)


def sample_material(spec: MaterialSpec, *, rng: np.random.Generator,
                    texture_size: int = OBJECT_TEXTURE_PX) -> Material:
    """Draw a material; ``base_color`` may be an RGB or RGBA draw (alpha defaults to 1).

    Draw order: the appearance mode (no draw when it is a constant); for ``randomize``, base
    colour, metallic, roughness, then the texture (``texture_size`` pixels square) if
    ``spec.texture`` is set; for ``keep`` and ``jitter``, metallic and roughness only where the
    scenario gives them (else the asset's own values are rendered), then for ``jitter`` the hue
    shift, saturation scale and value scale.
    """
    appearance = str(spec.asset_appearance.sample(rng))
    if appearance != "randomize":
        given = spec.model_fields_set
        metallic = float(spec.metallic.sample(rng)) if "metallic" in given else None
        roughness = float(spec.roughness.sample(rng)) if "roughness" in given else None
        jitter = HsvJitter()
        if appearance == "jitter":
            jitter = HsvJitter(hue_shift_rad=float(spec.jitter.hue_rad.sample(rng)),
                               saturation_scale=float(spec.jitter.saturation.sample(rng)),
                               value_scale=float(spec.jitter.value.sample(rng)))
        return Material(base_color=(1.0, 1.0, 1.0, 1.0), metallic=metallic, roughness=roughness,
                        appearance=appearance, jitter=jitter)  # type: ignore[arg-type]
    color = np.atleast_1d(np.asarray(spec.base_color.sample(rng), dtype=float))
    if color.size == 1:
        color = np.repeat(color, 3)
    rgba = tuple(float(c) for c in color[:3]) + (float(color[3]) if color.size > 3 else 1.0,)
    metallic = float(spec.metallic.sample(rng))
    roughness = float(spec.roughness.sample(rng))
    texture = None
    if spec.texture is not None:
        texture = spec.texture.sample(rng=rng, size=texture_size)
    return Material(base_color=rgba, metallic=metallic, roughness=roughness, texture=texture)


def choose_assets(spec: ObjectsSpec, library: AssetLibrary, count: int,
                  rng: np.random.Generator) -> list[str]:
    """Draw ``count`` asset keys as ``spec.asset_sampling`` says (see
    :meth:`~synthscene.randomize.object_pool.ObjectPool.sample_assets`)."""
    keys = list(library.keys)
    if spec.asset_sampling == "asset":
        return [keys[i] for i in rng.integers(0, len(keys), size=count)]
    by_category: dict[str, list[str]] = {}
    for key in keys:
        by_category.setdefault(library.category_of(key), []).append(key)
    cats = sorted(by_category)
    out = []
    for c in rng.integers(0, len(cats), size=count):
        members = by_category[cats[c]]
        out.append(members[int(rng.integers(0, len(members)))])
    return out
