"""Train a torchvision detector on synthscene frames, then score it with COCOeval.

Data: frames rendered on the fly (``--stream``, the default: synthscene.integrations.torch.
SyntheticStream in DataLoader workers) or a dataset folder written by ``synthscene generate``
(``--train DIR``). Evaluation: a held-out synthetic split, written by ``generate`` with another
seed (``--val DIR``, or made here into ``OUT/val``), scored by pycocotools' COCOeval (bbox).
Model: Faster R-CNN (MobileNetV3-Large FPN) or RetinaNet (ResNet-50 FPN), from scratch or from
a state dict you have (``--weights FILE``; nothing is downloaded).

Small settings that run on a CPU in a few minutes::

    pip install 'synthscene[torch]'
    python examples/train_torchvision.py --scene scenes/tabletop.yaml --out runs/tiny \\
        --width 160 --height 120 --frames 32 --epochs 1 --batch-size 4 --workers 2 --val-frames 8

Output: ``OUT/metrics.json`` (COCOeval's 12 bbox figures by name, the settings and the mean
training loss of each epoch) and ``OUT/model.pt`` (the state dict). From-scratch training on a
few dozen frames learns little: the point is the pipeline; scale ``--frames`` and ``--epochs``.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
from pathlib import Path

import torch
import yaml
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval
from torch.utils.data import DataLoader
from torchvision.models import detection
from torchvision.transforms import v2
from tqdm import tqdm

import synthscene
from synthscene.config.loading import load_scenario, scenario_from_dict
from synthscene.integrations.torch import CocoFolder, SyntheticStream, detection_collate

STATS = ["AP", "AP50", "AP75", "AP_small", "AP_medium", "AP_large",
         "AR_1", "AR_10", "AR_100", "AR_small", "AR_medium", "AR_large"]
"""Names of COCOeval.stats, in its order (pycocotools/cocoeval.py, ``summarize``)."""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scene", type=Path, help="scenario YAML (for --stream and --val)")
    parser.add_argument("--train", type=Path, help="train on this dataset folder, not a stream")
    parser.add_argument("--val", type=Path, help="held-out dataset folder [made with --seed+1]")
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument("--model", choices=["fasterrcnn", "retinanet"], default="fasterrcnn")
    parser.add_argument("--weights", type=Path, help="initial state dict (.pt) [from scratch]")
    parser.add_argument("--width", type=int, help="override the scene's image width (px)")
    parser.add_argument("--height", type=int, help="override the scene's image height (px)")
    parser.add_argument("--frames", type=int, default=64, help="stream frames per epoch")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2, help="DataLoader workers")
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--seed", type=int, default=0, help="stream seed (val: seed + 1)")
    parser.add_argument("--val-frames", type=int, default=16)
    return parser.parse_args(argv)


def scenario_of(args: argparse.Namespace):
    """The scene's scenario, with --width / --height in place of its image size if given."""
    if not (args.width or args.height):
        return load_scenario(args.scene)
    data = yaml.safe_load(args.scene.read_text())
    image = dict(data.get("image") or {})
    image.update({k: v for k, v in (("width", args.width), ("height", args.height)) if v})
    return scenario_from_dict({**data, "image": image}, source=str(args.scene),
                              base_dir=args.scene.parent)


def make_model(name: str, num_classes: int, size: tuple[int, int], weights: Path | None):
    height, width = size
    common = {"weights": None, "weights_backbone": None, "num_classes": num_classes,
              "min_size": min(height, width), "max_size": max(height, width)}
    if name == "fasterrcnn":
        model = detection.fasterrcnn_mobilenet_v3_large_fpn(**common)
    else:
        model = detection.retinanet_resnet50_fpn(**common)
    if weights is not None:
        model.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True))
    return model


def evaluate(model, val_dir: Path, batch_size: int) -> dict[str, float]:
    """COCOeval (bbox) of the model's detections on a dataset folder."""
    to_float = v2.ToDtype(torch.float32, scale=True)
    folder = CocoFolder(val_dir)
    loader = DataLoader(folder, batch_size=batch_size, collate_fn=detection_collate)
    detections = []
    model.eval()
    with torch.no_grad():
        for images, targets in tqdm(loader, desc="eval", unit="batch"):
            outputs = model([to_float(image) for image in images])
            for target, output in zip(targets, outputs):
                for box, score, label in zip(output["boxes"].tolist(), output["scores"].tolist(),
                                             output["labels"].tolist()):
                    x0, y0, x1, y1 = box
                    detections.append({"image_id": target["image_id"], "category_id": label,
                                       "bbox": [x0, y0, x1 - x0, y1 - y0], "score": score})
    truth = COCO(str(val_dir / "annotations.json"))
    if not detections:
        return dict.fromkeys(STATS, 0.0)
    evaluation = COCOeval(truth, truth.loadRes(detections), "bbox")
    evaluation.evaluate()
    evaluation.accumulate()
    evaluation.summarize()
    return {name: float(value) for name, value in zip(STATS, evaluation.stats)}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    if args.train is None and args.scene is None:
        sys.exit("give --scene (stream) or --train DIR")
    args.out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(args.seed)
    to_float = v2.ToDtype(torch.float32, scale=True)
    if args.train is None:
        scenario = scenario_of(args)
        train = SyntheticStream(scenario, frames=args.frames, seed=args.seed,
                                transforms=v2.Compose([v2.RandomHorizontalFlip(), to_float]))
        loader = train.loader(batch_size=args.batch_size, num_workers=args.workers)
        size = (scenario.spec.image.height, scenario.spec.image.width)
    else:
        train = CocoFolder(args.train, transforms=v2.Compose([v2.RandomHorizontalFlip(),
                                                              to_float]))
        loader = DataLoader(train, batch_size=args.batch_size, shuffle=True,
                            num_workers=args.workers, collate_fn=detection_collate)
        first = train.dataset.images[0]
        size = (first["height"], first["width"])
    val_dir = args.val
    if val_dir is None:
        if args.scene is None:
            sys.exit("give --val DIR (or --scene to make a held-out split)")
        val_dir = args.out / "val"
        synthscene.generate(scenario_of(args), val_dir, frames=args.val_frames,
                            seed=args.seed + 1, overwrite=True, workers=args.workers or 1)
    num_classes = max(cat["id"] for cat in train.categories) + 1  # 0 is the background
    model = make_model(args.model, num_classes, size, args.weights)
    optimiser = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9,
                                weight_decay=1e-4)
    epoch_losses = []
    for epoch in range(args.epochs):
        if isinstance(train, SyntheticStream):
            train.set_epoch(epoch)  # fresh frames every epoch
        model.train()
        total, steps = 0.0, 0
        progress = tqdm(loader, desc=f"epoch {epoch + 1}/{args.epochs}", unit="batch")
        for images, targets in progress:
            targets = [{"boxes": t["boxes"], "labels": t["labels"]} for t in targets]
            loss = sum(model(images, targets).values())
            if not math.isfinite(float(loss.detach())):
                sys.exit(f"loss is {float(loss.detach())} at epoch {epoch + 1}: lower --lr")
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            total, steps = total + float(loss.detach()), steps + 1
            progress.set_postfix(loss=f"{total / steps:.3f}")
        epoch_losses.append(total / max(steps, 1))
    torch.save(model.state_dict(), args.out / "model.pt")
    metrics = {"bbox": evaluate(model, val_dir, args.batch_size), "train_loss": epoch_losses,
               "settings": {k: (str(v) if isinstance(v, Path) else v)
                            for k, v in vars(args).items()}}
    (args.out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    print(f"AP {metrics['bbox']['AP']:.3f}, AP50 {metrics['bbox']['AP50']:.3f}; "
          f"metrics in {args.out / 'metrics.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
