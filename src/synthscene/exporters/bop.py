"""BOP (Benchmark for 6D Object Pose estimation) scene-wise format.

Follows ``docs/bop_datasets_format.md`` and ``scripts/calc_gt_info.py`` of the BOP toolkit
(github.com/thodan/bop_toolkit). Layout::

    OUT/<split>/<scene_id:06d>/
        rgb/<im_id:06d>.png                  copies of the source images
        depth/<im_id:06d>.png                copies of the 16-bit depth PNGs, if the source has them
        mask/<im_id:06d>_<gt_id:06d>.png     amodal mask of each object (in the image), 0/255
        mask_visib/<im_id:06d>_<gt_id:06d>.png   visible mask, 0/255
        scene_camera.json   {im_id: {cam_K, depth_scale, cam_R_w2c, cam_t_w2c}}
        scene_gt.json       {im_id: [{obj_id, cam_R_m2c, cam_t_m2c}, ...]}
        scene_gt_info.json  {im_id: [{bbox_obj, bbox_visib, px_count_all, px_count_valid,
                                      px_count_visib, visib_fract}, ...]}
    OUT/models/models_info.json   {obj_id: {diameter, min_x, min_y, min_z, size_x, size_y,
                                           size_z}} (mm); written last

Without ``--split`` the one split is ``train``. Images are grouped into scenes of up to
``images_per_scene`` (1000, like BlenderProc's BOP writer) in id order; ``im_id`` is the COCO
image id, so each BOP image can be traced back. A dataset made with several views per settled
scene (images with ``scene_id`` and ``view_id``) keeps its scenes: ``scene_id`` names the scene
folder and ``view_id`` is ``im_id``; ``gt_id`` is the annotation's position in its
image (annotations sorted by id). ``obj_id`` is the ``obj_id`` of the category's entry in the
source's top-level ``models`` (the BOP object id of objects from a ``bop:`` models folder), else
the COCO ``category_id``; two categories with one ``obj_id`` are refused.

Stereo pairs (images with ``stereo_pair_id`` and ``eye``) stay in one scene folder as two
images, each with its own ``scene_camera`` entry (the right eye's ``cam_R_w2c``/``cam_t_w2c``
are the right camera's, its ``scene_gt`` poses relative to it): the left eye keeps its COCO
id as ``im_id``, the right one the next id; with several views per scene, eye ``e`` of view
``v`` is ``im_id = 2 v + e``. BOP has no field for the pairing; the eyes' ``cam_t_w2c`` differ
by the baseline along the camera's x axis.

Fields, from the source's optional synthscene fields (an export fails, naming the missing
field, when one is absent):

- ``cam_K`` = image ``K`` (row-major); ``cam_R_w2c``, ``cam_t_w2c`` (mm) = the inverse of
  ``world_from_camera`` (left out if the image has none); ``depth_scale`` = the image's
  ``depth_scale`` (mm per depth-PNG unit) or 1 (the PNG holds millimetres). A distorted
  camera's image (``distortion_model``, ``dist_coeffs``) keeps both fields beside ``cam_K``:
  ``cam_K`` is the camera matrix of OpenCV's model, the coefficients in OpenCV's order (BOP's
  own tools assume a pinhole: undistort the images first to use them).
- ``cam_R_m2c``, ``cam_t_m2c`` (mm) = the annotation's.
- ``bbox_obj`` = ``amodal_bbox`` (the whole silhouette, may reach outside the image);
  ``bbox_visib`` = ``bbox``; ``px_count_all`` = ``amodal_area`` (whole silhouette, outside
  pixels included, as ``calc_gt_info.py`` counts it); ``px_count_visib`` = ``area``;
  ``px_count_valid`` = pixels of the amodal mask in the image with depth > 0 (all of them when
  there is no depth image: a rendered object always has depth); ``visib_fract`` =
  ``px_count_visib / px_count_all``.
- ``mask/`` = ``amodal_segmentation``; ``mask_visib/`` = ``segmentation``.
- ``models_info.json`` = the source's top-level ``models`` (``diameter`` from ``diameter_mm``);
  without it, an empty entry per object id is written and a note says so.
- ``models/obj_NNNNNN.ply`` (and the texture its header names) = a copy of the model file of
  each object of a ``bop:`` source made at its native size (a ``models`` entry with
  ``obj_id``, ``model_frame: file`` and a ``bop:`` asset), whose frame the poses then use; a
  model file that is no longer there is left out with a note. Their ``models_info.json``
  entries also get the source's ``symmetries_discrete`` and ``symmetries_continuous``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from synthscene.assets.bop_models import MAX_MODELS_INFO_BYTES, MODELS_INFO, ply_texture_name
from synthscene.core.stereo import EYES
from synthscene.errors import AssetError
from synthscene.exporters._common import (
    DEFAULT_SPLIT,
    ExportSummary,
    copy_file,
    plan_splits,
    scene_ids,
    write_json,
    write_png,
)
from synthscene.exporters.output import ExportFolder, open_export
from synthscene.io.fileio import FileProblem, read_regular_file
from synthscene.io.reader import CocoDataset, load_dataset

__all__ = ["IMAGES_PER_SCENE", "export_bop"]

logger = logging.getLogger(__name__)

IMAGES_PER_SCENE = 1000
ANNOTATION_FIELDS = ("cam_R_m2c", "cam_t_m2c", "amodal_bbox", "amodal_area",
                     "amodal_segmentation")
MODEL_FIELDS = ("min_x", "min_y", "min_z", "size_x", "size_y", "size_z")


def export_bop(dataset_dir: str | Path, out_dir: str | Path, *,
               split: Mapping[str, float] | None = None, split_seed: int = 0,
               images_per_scene: int = IMAGES_PER_SCENE, overwrite: bool = False,
               image_dir: str | Path | None = None) -> ExportSummary:
    """Write a BOP dataset (see the module docstring).

    Parameters
    ----------
    dataset_dir : str or pathlib.Path
        Source dataset folder or COCO JSON file; it must carry the 6D-pose and amodal fields.
    out_dir : str or pathlib.Path
        Output folder.
    split : mapping of str to float, optional
        One split folder per name; None puts every image in ``train``.
    split_seed : int
        Seed of the split's shuffle.
    images_per_scene : int
        Largest number of images in one scene folder (>= 1).
    overwrite : bool
        Replace an earlier bop export in ``out_dir``: remove exactly the files it wrote
        (:mod:`synthscene.exporters.output`).
    image_dir : str or pathlib.Path, optional
        Source image folder, if not the default.

    Returns
    -------
    ExportSummary

    Raises
    ------
    ValueError
        If ``images_per_scene`` < 1.
    synthscene.errors.DatasetError
        If the source is malformed or lacks a needed field (image ``K``; annotation
        ``cam_R_m2c``, ``cam_t_m2c``, ``amodal_bbox``, ``amodal_area``,
        ``amodal_segmentation``), naming the first entry that lacks it.
    synthscene.errors.AssetError
        If a source image or depth PNG is missing.
    synthscene.errors.OutputError
        If ``out_dir`` holds a bop export (and not ``overwrite``), a file that export did not
        write in its split folders or ``models/``, or cannot be written.
    """
    if images_per_scene < 1:
        raise ValueError(f"images_per_scene must be >= 1, got {images_per_scene}")
    dataset = load_dataset(dataset_dir, image_dir=image_dir)
    dataset.require(dataset.images, ["K"], "the bop export (scene_camera.json cam_K)")
    dataset.require(dataset.annotations, ANNOTATION_FIELDS, "the bop export")
    plan = plan_splits(dataset, split, split_seed, default=DEFAULT_SPLIT)
    obj_ids = _obj_ids(dataset)
    models, notes = _models_info(dataset, obj_ids)
    written = 0
    counts: dict[str, int] = {}
    with open_export(out_dir, dataset, "bop", [name for name, _ in plan] + ["models"],
                     overwrite=overwrite) as out:
        for name, images in plan:
            for scene_id, members, im_ids in _scenes(images, images_per_scene):
                written += _write_scene(dataset, members, out, f"{name}/{scene_id:06d}",
                                        im_ids, obj_ids)
            counts[name] = len(images)
        notes += _copy_models(dataset, obj_ids, out, models)
        write_json(out.file("models/models_info.json"), models, durable=True)
        out.finish()
    logger.info("bop export to %s: %d object instances", out.path, written)
    return ExportSummary("bop", out.path, counts, written, notes)


def _scenes(images: list[dict], images_per_scene: int
            ) -> Iterator[tuple[int, list[dict], list[int]]]:
    """BOP scenes of a split: ``(scene_id, images, im_ids)``. Views of one settled scene
    (images with ``scene_id`` and ``view_id``) keep their scene and take their view as image
    id; other images fill scenes of ``images_per_scene`` in order, keeping their COCO ids."""
    if scene_ids(images) is not None and all(
            isinstance(image.get("view_id"), int) for image in images):
        by_scene: dict[int, list[dict]] = {}
        for image in images:
            by_scene.setdefault(int(image["scene_id"]), []).append(image)
        for scene_id, members in sorted(by_scene.items()):
            yield scene_id, members, [_view_im_id(image) for image in members]
        return
    for first in range(0, len(images), images_per_scene):
        members = images[first:first + images_per_scene]
        yield first // images_per_scene, members, [int(image["id"]) for image in members]


def _view_im_id(image: dict) -> int:
    """A view's BOP image id: its ``view_id``; ``2 view_id + e`` for eye ``e`` (0 left, 1
    right) of a stereo pair, so that the two eyes of a view are two images of the scene."""
    if image.get("eye") not in EYES:
        return int(image["view_id"])
    return 2 * int(image["view_id"]) + EYES.index(image["eye"])


def _write_scene(dataset: CocoDataset, images: list[dict], out: ExportFolder, scene: str,
                 im_ids: list[int], obj_ids: Mapping[int, int]) -> int:
    """Write one scene folder ``scene`` of ``out`` (``im_ids``: each image's BOP image id;
    ``obj_ids``: category id to BOP object id); return the number of object instances."""
    has_depth = any("depth_file" in image for image in images)
    if has_depth:
        dataset.require(images, ["depth_file"], "the bop export (some images have one)")
    scene_camera: dict[str, Any] = {}
    scene_gt: dict[str, list] = {}
    scene_gt_info: dict[str, list] = {}
    instances = 0
    for image, im_id in zip(images, im_ids):
        suffix = Path(image["file_name"]).suffix.lower() or ".png"
        copy_file(dataset.image_path(image), out.file(f"{scene}/rgb/{im_id:06d}{suffix}"))
        depth = None
        if has_depth:
            copy_file(dataset.extra_file(image, "depth_file"),
                      out.file(f"{scene}/depth/{im_id:06d}.png"))
            depth = dataset.read_extra_png(image, "depth_file")
        scene_camera[str(im_id)] = _camera(image)
        gts, infos = [], []
        for gt_id, ann in enumerate(dataset.annotations_of(image)):
            amodal = dataset.mask(ann, image, "amodal_segmentation")
            visible = dataset.mask(ann, image, "segmentation")
            write_png(out.file(f"{scene}/mask/{im_id:06d}_{gt_id:06d}.png"),
                      amodal.astype(np.uint8) * 255)
            write_png(out.file(f"{scene}/mask_visib/{im_id:06d}_{gt_id:06d}.png"),
                      visible.astype(np.uint8) * 255)
            gts.append({"cam_R_m2c": [float(v) for v in ann["cam_R_m2c"]],
                        "cam_t_m2c": [float(v) for v in ann["cam_t_m2c"]],
                        "obj_id": obj_ids.get(int(ann["category_id"]),
                                              int(ann["category_id"]))})
            infos.append(_gt_info(ann, amodal, visible, depth))
        scene_gt[str(im_id)] = gts
        scene_gt_info[str(im_id)] = infos
        instances += len(gts)
    write_json(out.file(f"{scene}/scene_camera.json"), scene_camera)
    write_json(out.file(f"{scene}/scene_gt.json"), scene_gt)
    write_json(out.file(f"{scene}/scene_gt_info.json"), scene_gt_info)
    return instances


def _camera(image: dict) -> dict[str, Any]:
    """``scene_camera.json`` entry of one image."""
    entry: dict[str, Any] = {
        "cam_K": [float(v) for row in image["K"] for v in row],
        "depth_scale": float(image.get("depth_scale", 1.0)),
    }
    if "world_from_camera" in image:
        world_from_camera = np.asarray(image["world_from_camera"], dtype=np.float64)
        rotation = world_from_camera[:3, :3].T
        translation_mm = -rotation @ world_from_camera[:3, 3] * 1000.0
        entry["cam_R_w2c"] = [float(v) for v in rotation.ravel()]
        entry["cam_t_w2c"] = [float(v) for v in translation_mm]
    if "dist_coeffs" in image:  # a distorted camera: K with OpenCV's coefficients beside it
        entry["distortion_model"] = str(image["distortion_model"])
        entry["dist_coeffs"] = [float(v) for v in image["dist_coeffs"]]
    return entry


def _gt_info(ann: dict, amodal: np.ndarray, visible: np.ndarray,
             depth: np.ndarray | None) -> dict[str, Any]:
    """``scene_gt_info.json`` entry of one object (definitions of ``calc_gt_info.py``)."""
    px_count_all = int(ann["amodal_area"])
    px_count_visib = int(ann["area"])
    px_count_valid = int(np.count_nonzero(amodal if depth is None else amodal & (depth > 0)))
    visible_any = bool(visible.any())
    return {
        "bbox_obj": [int(round(float(v))) for v in ann["amodal_bbox"]],
        "bbox_visib": [int(round(float(v))) for v in ann["bbox"]] if visible_any
        else [-1, -1, -1, -1],
        "px_count_all": px_count_all,
        "px_count_valid": px_count_valid,
        "px_count_visib": px_count_visib,
        "visib_fract": px_count_visib / px_count_all if px_count_all > 0 else 0.0,
    }


def _copy_models(dataset: CocoDataset, obj_id_of: Mapping[int, int], out: ExportFolder,
                 info: dict[str, dict]) -> tuple[str, ...]:
    """Copy the model file (and its ``TextureFile``) of each BOP object made at its native
    size into ``models/``, and its source ``models_info.json`` entry's symmetries into
    ``info``; return the notes on those left out."""
    models = dataset.data.get("models")
    notes: list[str] = []
    source_infos: dict[Path, dict] = {}
    for model in models if isinstance(models, list) else []:
        if not (isinstance(model, dict) and model.get("model_frame") == "file"
                and "obj_id" in model and str(model.get("asset", "")).startswith("bop:")):
            continue
        obj_id = obj_id_of.get(int(model["category_id"]), model["obj_id"])
        name = f"obj_{int(obj_id):06d}.ply"
        source = Path(str(model["asset"])[len("bop:"):])
        if source.name != name or not source.is_file():
            notes.append(f"model file {source} of obj_id {obj_id} is not there: models/ has "
                         f"no {name}")
            continue
        copy_file(source, out.file(f"models/{name}"))
        info.setdefault(str(obj_id), {}).update(
            _symmetries(source.parent / MODELS_INFO, int(model["obj_id"]), source_infos, notes))
        try:
            texture_name = ply_texture_name(source)
        except OSError as exc:
            raise AssetError(f"{source}: cannot be read ({exc.strerror or exc})") from None
        if texture_name is None:
            continue
        texture = source.parent / texture_name
        if Path(texture_name).name != texture_name or not texture.is_file():
            notes.append(f"texture {texture} of {name} is not a file beside it: not copied")
        else:
            copy_file(texture, out.file(f"models/{texture_name}"))
    return tuple(notes)


def _symmetries(path: Path, obj_id: int, cache: dict[Path, dict], notes: list[str]) -> dict:
    """The ``symmetries_*`` fields of object ``obj_id`` in a source ``models_info.json`` (what
    BOP's pose error functions MSSD and MSPD need), in its model's frame (millimetres)."""
    if path not in cache:
        try:
            data = json.loads(read_regular_file(path, max_bytes=MAX_MODELS_INFO_BYTES))
        except (FileProblem, UnicodeDecodeError, ValueError) as exc:
            notes.append(f"{path} cannot be read ({exc}): no symmetries copied from it")
            data = {}
        cache[path] = data if isinstance(data, dict) else {}
    entry = cache[path].get(str(obj_id))
    if not isinstance(entry, dict):
        return {}
    return {k: v for k, v in entry.items() if k.startswith("symmetries_")}


def _obj_ids(dataset: CocoDataset) -> dict[int, int]:
    """The BOP object id of each category id: its ``models`` entry's ``obj_id``, else itself.

    Raises
    ------
    synthscene.errors.DatasetError
        If an ``obj_id`` is not a positive integer, or two categories would share one.
    """
    category_ids = ({int(ann["category_id"]) for ann in dataset.annotations}
                    | {int(cat["id"]) for cat in dataset.categories})
    out = {i: i for i in category_ids}
    models = dataset.data.get("models")
    for index, model in enumerate(models if isinstance(models, list) else []):
        if isinstance(model, dict) and "obj_id" in model and "category_id" in model:
            for field in ("obj_id", "category_id"):
                value = model[field]
                if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                    raise dataset.error(None, f"models[{index}].{field}",
                                        f"must be an integer >= 0, got {value!r}")
            out[model["category_id"]] = model["obj_id"]
    seen: dict[int, int] = {}
    for category_id, obj_id in sorted(out.items()):
        if obj_id in seen:
            raise dataset.error(None, "models", f"categories {seen[obj_id]} and {category_id} "
                                f"would both be BOP obj_id {obj_id}")
        seen[obj_id] = category_id
    return out


def _models_info(dataset: CocoDataset, obj_id_of: Mapping[int, int]
                 ) -> tuple[dict[str, dict], tuple[str, ...]]:
    """``models_info.json`` content and notes, keyed by BOP object id."""
    obj_ids = sorted(obj_id_of.values())
    models = dataset.data.get("models")
    if not isinstance(models, list):
        logger.warning("%s has no 'models': models_info.json holds no diameters or extents",
                       dataset.annotations_path)
        return ({str(i): {} for i in obj_ids},
                ("the source has no 'models': models_info.json lists the object ids without "
                 "diameter or extent (BOP pose metrics need them)",))
    info: dict[str, dict] = {}
    notes = []
    for index, model in enumerate(models):
        where = f"models[{index}]"
        if not isinstance(model, dict) or "category_id" not in model:
            raise dataset.error(None, where, "must be an object with a category_id")
        category_id = int(model["category_id"])
        key = str(obj_id_of.get(category_id, category_id))
        if key in info:
            notes.append(f"several models share obj_id {key}; models_info.json keeps the first")
            continue
        entry: dict[str, float] = {}
        if "diameter_mm" in model:
            entry["diameter"] = float(model["diameter_mm"])
        for name in MODEL_FIELDS:
            if name in model:
                entry[name] = float(model[name])
        info[key] = entry
    bare = [str(i) for i in obj_ids if not info.setdefault(str(i), {})]
    if bare:
        notes.append(f"models_info.json has no diameter or extent for obj_id {', '.join(bare)} "
                     "(their sizes are drawn per instance, or a category holds several assets)")
    return dict(sorted(info.items(), key=lambda item: int(item[0]))), tuple(notes)
