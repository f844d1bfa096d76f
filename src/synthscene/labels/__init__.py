"""Labels from rendered frames (pure numpy and pycocotools: no GL, no pybullet).

- :mod:`~synthscene.labels.annotate`: per-instance masks (COCO RLE), boxes, areas, amodal masks,
  keypoints and 6D poses.
- :mod:`~synthscene.labels.motion`: optical flow and point tracks of rigid scenes.
"""
