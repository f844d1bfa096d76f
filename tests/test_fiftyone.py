"""Generated datasets load into FiftyOne with its COCO importer's defaults.

FiftyOne's ``COCODetectionDatasetImporter`` (``extra_attrs=True`` by default) sets every
annotation key it does not consume as an attribute of the ``Detection`` / ``Keypoint`` it makes; a
key that names one of their attributes (``instance_id`` is a read-only property) makes the import
fail on every dataset. The names below are checked always; the importer itself runs where
fiftyone is installed (it is not a test dependency: it pins an older OpenCV).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO

import synthscene
from synthscene.config.loading import scenario_from_dict

pytestmark = pytest.mark.gl

FIFTYONE_LABEL_ATTRIBUTES = frozenset({
    # ``sorted(n for c in (Detection, Keypoint) for n in dir(c) if not n.startswith("_"))`` in
    # fiftyone 1.22.1 (fiftyone/core/labels.py and its mongoengine bases): fields, properties
    # and methods, none of which an imported attribute may shadow.
    "STRICT", "apply_confidence_threshold", "attributes", "bounding_box", "clean", "clear_field",
    "confidence", "copy", "delete_attribute", "export_mask", "fancy_repr", "field_names",
    "field_to_mongo", "field_to_python", "from_dict", "from_json", "from_mask",
    "get_attribute_value", "get_field", "get_mask", "get_text_score", "has_attribute",
    "has_field", "has_mask", "id", "import_mask", "index", "instance_id", "iter_attributes",
    "iter_fields", "label", "mask", "mask_path", "merge", "my_metaclass", "points",
    "set_attribute_value", "set_field", "tags", "to_dict", "to_json", "to_mongo", "to_polyline",
    "to_segmentation", "to_shapely", "validate",
    # fiftyone/core/labels.py: ``_HasInstance.instance`` (the label instance document) and
    # fiftyone/utils/coco.py: ``COCOObject.to_keypoints`` pops an attribute named ``visible``.
    "instance", "visible",
})
"""Attribute names of FiftyOne's ``Detection`` and ``Keypoint``: no annotation key may be one."""

COCO_IMPORTER_KEYS = frozenset({
    # fiftyone/utils/coco.py, ``COCOObject.from_anno_dict`` / ``__init__``: the keys it consumes
    # itself; every other key becomes an attribute.
    "id", "image_id", "category_id", "bbox", "segmentation", "keypoints", "score", "area",
    "iscrowd",
})

SCENARIO = {
    "name": "fiftyone",
    "image": {"width": 160, "height": 120},
    "assets": [{"source": "primitive:box"}, {"source": "primitive:torus"},
               {"source": "pybullet_data:objects/mug.urdf"}],
    "objects": {"count": {"randint": [4, 6]}, "size_m": {"uniform": [0.1, 0.15]},
                "drop_region": {"x_m": [-0.15, 0.15], "y_m": [-0.15, 0.15],
                                "z_m": [0.05, 0.2]}},
    "camera": {"distance_m": {"uniform": [0.6, 0.8]}},
    "physics": {"max_steps": 300},
}


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("fo")
    synthscene.generate(scenario_from_dict(SCENARIO, source="<test>"), out, frames=3, seed=2)
    return out


def test_annotation_keys_are_no_fiftyone_label_attribute(dataset):
    coco = COCO(str(dataset / "annotations.json"))
    keys = {key for ann in coco.dataset["annotations"] for key in ann}
    assert {"scene_instance_id", "amodal_segmentation", "num_keypoints"} <= keys  # all outputs
    extra = keys - COCO_IMPORTER_KEYS
    assert not extra & FIFTYONE_LABEL_ATTRIBUTES, sorted(extra & FIFTYONE_LABEL_ATTRIBUTES)
    assert all(key.isidentifier() for key in extra)


def test_fiftyone_importer_with_its_defaults(dataset):
    """FiftyOne's own importer (no database needed) gives one detection with its mask and one
    keypoint set per annotation, the masks equal to pycocotools' decoding."""
    fouc = pytest.importorskip("fiftyone.utils.coco")
    coco = COCO(str(dataset / "annotations.json"))
    importer = fouc.COCODetectionDatasetImporter(
        dataset_dir=str(dataset), data_path="images", labels_path="annotations.json",
        label_types=["detections", "segmentations", "keypoints"])
    importer.setup()
    names = {cat["id"]: cat["name"] for cat in coco.dataset["categories"]}
    seen = 0
    with importer:
        for image_path, metadata, labels in importer:
            image = next(img for img in coco.dataset["images"]
                         if img["file_name"] == Path(image_path).name)
            anns = coco.loadAnns(coco.getAnnIds(imgIds=image["id"]))
            detections = labels["segmentations"].detections
            keypoints = labels["keypoints"].keypoints
            assert len(detections) == len(keypoints) == len(anns)
            for ann, det, kp in zip(anns, detections, keypoints):
                assert det.label == names[ann["category_id"]]
                assert det.scene_instance_id == ann["scene_instance_id"]
                np.testing.assert_allclose(
                    det.bounding_box, np.divide(ann["bbox"], [image["width"], image["height"]] * 2))
                full = mask_utils.decode(ann["segmentation"]).astype(bool)
                assert int(det.mask.sum()) == ann["area"] == int(full.sum())
                assert len(kp.points) == len(ann["keypoints"]) // 3
                seen += 1
    assert seen == len(coco.dataset["annotations"]) > 0
