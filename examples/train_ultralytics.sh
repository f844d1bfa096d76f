#!/usr/bin/env bash
# Generate a synthscene dataset, export it as YOLO segmentation labels with a train/val split,
# and train an Ultralytics YOLO segmentation model on it, from scratch (a model YAML: nothing is
# downloaded). Small settings that run on a CPU in minutes; scale FRAMES, IMGSZ and EPOCHS.
#
#   pip install synthscene ultralytics
#   bash examples/train_ultralytics.sh [SCENE] [OUT]
#
# The YOLO polygons run through the centres of each mask's boundary pixels, the convention in
# which Ultralytics rasterizes them (ultralytics.data.utils.polygon2mask), so the masks it trains
# on are synthscene's masks (see synthscene/exporters/yolo.py).
set -euo pipefail

SCENE=${1:-scenes/tabletop.yaml}
OUT=${2:-runs/ultralytics}
FRAMES=${FRAMES:-40}
EPOCHS=${EPOCHS:-1}
IMGSZ=${IMGSZ:-160}
TASK=${TASK:-segment}          # or detect
MODEL=${MODEL:-yolov8n-seg.yaml}  # yolov8n.yaml for TASK=detect; a .pt file to fine-tune

synthscene generate "$SCENE" --out "$OUT/coco" --frames "$FRAMES" --seed 0 --overwrite
synthscene export "$OUT/coco" --to yolo --task "$TASK" --split train=0.8,val=0.2 \
    --out "$OUT/yolo" --overwrite
yolo "$TASK" train data="$OUT/yolo/data.yaml" model="$MODEL" epochs="$EPOCHS" imgsz="$IMGSZ" \
    batch=8 workers=2 device=cpu pretrained=False amp=False plots=False \
    project="$OUT" name=train exist_ok=True
