"""synthscene.integrations.torch against pycocotools, torchvision's own COCO reader, and a real
torchvision detection model."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image
from pycocotools.coco import COCO

import synthscene
from synthscene.config.loading import scenario_from_dict
from synthscene.errors import DatasetError, OptionError

torch = pytest.importorskip("torch")
torchvision = pytest.importorskip("torchvision")
from torch.utils.data import DataLoader  # noqa: E402
from torchvision import tv_tensors  # noqa: E402
from torchvision.transforms import v2  # noqa: E402

from synthscene.integrations.torch import (  # noqa: E402
    CocoFolder,
    SyntheticStream,
    detection_collate,
)

pytestmark = [pytest.mark.gl,
              pytest.mark.filterwarnings("ignore::DeprecationWarning:pycocotools")]

FRAMES, SEED = 4, 7
SCENARIO = {
    "name": "torch",
    "image": {"width": 160, "height": 120},
    "assets": [{"source": "primitive:box"}, {"source": "primitive:torus"},
               {"source": "pybullet_data:objects/mug.urdf"}],
    "objects": {"count": {"randint": [3, 6]}, "size_m": {"uniform": [0.1, 0.15]},
                "drop_region": {"x_m": [-0.15, 0.15], "y_m": [-0.15, 0.15],
                                "z_m": [0.05, 0.2]}},
    "camera": {"distance_m": {"uniform": [0.6, 0.8]}},
    "physics": {"max_steps": 300},
}


@pytest.fixture(scope="module")
def scenario():
    return scenario_from_dict(SCENARIO, source="<test>")


@pytest.fixture(scope="module")
def written(scenario, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("torch")
    synthscene.generate(scenario, out, frames=FRAMES, seed=SEED, workers=1)
    return out


def _coco_truth(coco: COCO, root: Path, image_id: int):
    """Image, XYXY boxes, labels and masks of one image, by pycocotools and PIL alone."""
    info = coco.loadImgs(image_id)[0]
    anns = sorted(coco.loadAnns(coco.getAnnIds(imgIds=image_id)), key=lambda a: a["id"])
    rgb = np.asarray(Image.open(root / "images" / info["file_name"]).convert("RGB"))
    boxes = np.array([[x, y, x + w, y + h] for x, y, w, h in (a["bbox"] for a in anns)],
                     dtype=np.float32).reshape(-1, 4)
    labels = np.array([a["category_id"] for a in anns], dtype=np.int64)
    masks = np.array([coco.annToMask(a) for a in anns], dtype=bool).reshape(
        -1, info["height"], info["width"])
    return rgb, boxes, labels, masks


def _check_pair(image, target, truth):
    rgb, boxes, labels, masks = truth
    assert isinstance(image, tv_tensors.Image) and image.dtype == torch.uint8
    np.testing.assert_array_equal(image.permute(1, 2, 0).numpy(), rgb)
    assert isinstance(target["boxes"], tv_tensors.BoundingBoxes)
    assert target["boxes"].format == tv_tensors.BoundingBoxFormat.XYXY
    assert tuple(target["boxes"].canvas_size) == rgb.shape[:2]
    np.testing.assert_array_equal(target["boxes"].numpy(), boxes)
    assert target["labels"].dtype == torch.int64
    np.testing.assert_array_equal(target["labels"].numpy(), labels)
    assert target["masks"].dtype == torch.bool
    np.testing.assert_array_equal(target["masks"].numpy(), masks)


def test_stream_in_two_workers_gives_the_pycocotools_targets(scenario, written):
    """A DataLoader with 2 workers yields, in frame order, what pycocotools reads from the
    dataset ``generate`` wrote with the same seed: same image bytes, boxes, labels, masks, id."""
    coco = COCO(str(written / "annotations.json"))
    stream = SyntheticStream(scenario, frames=FRAMES, seed=SEED)
    assert stream.categories == [{"id": c["id"], "name": c["name"]}
                                 for c in coco.dataset["categories"]]
    loader = DataLoader(stream, batch_size=1, num_workers=2, collate_fn=detection_collate,
                        multiprocessing_context="spawn")
    ids = []
    for images, targets in loader:
        (image,), (target,) = images, targets
        ids.append(target["image_id"])
        _check_pair(image, target, _coco_truth(coco, written, target["image_id"]))
    assert ids == list(range(1, FRAMES + 1))
    assert sum(len(coco.getAnnIds(imgIds=i)) for i in ids) == len(coco.dataset["annotations"])


def test_stream_epochs_and_chunks(scenario):
    stream = SyntheticStream(scenario, frames=5, seed=1, start=2, chunk=2)
    assert stream.frame_indices(0, 2) == [2, 3, 6] and stream.frame_indices(1, 2) == [4, 5]
    stream.set_epoch(3)
    assert sorted(stream.frame_indices(0, 3) + stream.frame_indices(1, 3)
                  + stream.frame_indices(2, 3)) == list(range(17, 22))
    for bad in ({"frames": 0}, {"frames": 2, "seed": -1}, {"frames": 2, "chunk": 0}):
        with pytest.raises(OptionError):
            SyntheticStream(scenario, **bad)


@pytest.mark.parametrize("name,value", [("frames", math.inf), ("frames", True),
                                        ("frames", 2.5), ("seed", -1), ("chunk", 0)])
def test_synthetic_stream_refuses_a_bad_argument(scenario, name, value):
    with pytest.raises(OptionError) as caught:
        SyntheticStream(scenario, **{"frames": 2, name: value})
    assert caught.value.source == name


def test_synthetic_stream_reads_a_path_and_survives_a_refused_loader(tmp_path):
    path = tmp_path / "scene.yaml"
    path.write_text(yaml.safe_dump(SCENARIO))
    stream = SyntheticStream(str(path), frames=4, chunk=2)
    assert stream.scenario.source == str(path)
    with pytest.raises(OptionError, match="scenario: must be a Scenario"):
        SyntheticStream(5, frames=4)
    for bad in ({"batch_size": 0}, {"batch_size": 2.5}, {"batch_size": True},
                {"num_workers": -1}):
        with pytest.raises(OptionError) as caught:
            stream.loader(**bad)
        assert caught.value.source == next(iter(bad))
    with pytest.raises(OptionError, match="epoch"):
        stream.set_epoch(math.inf)
    # the stream is as it was: the same frames, dealt the same way
    assert stream.chunk == 2 and stream.epoch == 0
    assert stream.frame_indices(0, 2) == [0, 1] and stream.frame_indices(1, 2) == [2, 3]


def test_coco_folder_matches_torchvision_coco_detection(written):
    """CocoFolder gives what torchvision's CocoDetection + wrap_dataset_for_transforms_v2 gives,
    and torchvision's v2 transforms act on it (a horizontal flip mirrors boxes and masks)."""
    folder = CocoFolder(written)
    reference = torchvision.datasets.wrap_dataset_for_transforms_v2(
        torchvision.datasets.CocoDetection(str(written / "images"),
                                           str(written / "annotations.json")),
        target_keys={"image_id", "boxes", "labels", "masks"})
    assert len(folder) == len(reference) == FRAMES
    flip = CocoFolder(written, transforms=v2.Compose([v2.RandomHorizontalFlip(p=1.0)]))
    for k in range(FRAMES):
        image, target = folder[k]
        ref_image, ref_target = reference[k]
        assert target["image_id"] == ref_target["image_id"]
        np.testing.assert_array_equal(image.permute(1, 2, 0).numpy(), np.asarray(ref_image))
        if "boxes" in ref_target:  # torchvision leaves the keys out of an image with no object
            for key in ("boxes", "labels", "masks"):
                np.testing.assert_array_equal(target[key].numpy(), ref_target[key].numpy())
        flipped, flipped_target = flip[k]
        width = image.shape[-1]
        np.testing.assert_array_equal(flipped.numpy(), image.flip(-1).numpy())
        boxes = target["boxes"].numpy()
        np.testing.assert_array_equal(flipped_target["boxes"].numpy(),
                                      np.stack([width - boxes[:, 2], boxes[:, 1],
                                                width - boxes[:, 0], boxes[:, 3]], axis=1))
        np.testing.assert_array_equal(flipped_target["masks"].numpy(),
                                      target["masks"].flip(-1).numpy())


def test_faster_rcnn_trains_three_steps_on_a_stream(scenario):
    """3 optimisation steps of torchvision's Faster R-CNN (MobileNetV3, no weights) on streamed
    frames: the loss is finite at every step."""
    from torchvision.models.detection import fasterrcnn_mobilenet_v3_large_fpn

    torch.manual_seed(0)
    stream = SyntheticStream(scenario, frames=6, seed=11,
                             transforms=v2.Compose([v2.ToDtype(torch.float32, scale=True)]))
    model = fasterrcnn_mobilenet_v3_large_fpn(
        weights=None, weights_backbone=None, num_classes=len(stream.categories) + 1,
        min_size=120, max_size=160)
    model.train()
    optimiser = torch.optim.SGD(model.parameters(), lr=0.005, momentum=0.9)
    losses = []
    for images, targets in stream.loader(batch_size=2):  # frames made here
        assert [t["image_id"] for t in targets] == [2 * len(losses) + 1, 2 * len(losses) + 2]
        targets = [{key: target[key] for key in ("boxes", "labels")} for target in targets]
        loss = sum(model(images, targets).values())
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        losses.append(float(loss.detach()))
    assert len(losses) == 3
    assert all(math.isfinite(value) and value > 0 for value in losses), losses


def test_coco_folder_refuses_masks_too_large_to_decode(tmp_path):
    """An entry whose masks would decode to 250 GiB (2,000 annotations of an 11585 x 11585
    image) is refused, naming it, before anything is allocated."""
    side = 11585  # within the largest image the tools accept (2**27 pixels)
    empty = {"size": [side, side], "counts": [side * side]}
    (tmp_path / "annotations.json").write_text(json.dumps({
        "images": [{"id": 1, "file_name": "big.png", "width": side, "height": side}],
        "annotations": [{"id": k, "image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1],
                         "area": 1, "iscrowd": 0, "segmentation": empty}
                        for k in range(1, 2001)],
        "categories": [{"id": 1, "name": "a"}]}))
    folder = CocoFolder(tmp_path)
    with pytest.raises(DatasetError, match=r"images\[0\] \(id 1\).*2000 annotations"):
        folder[0]
