"""The dataset on disk, read and written (no GL, no pybullet).

- :mod:`~synthscene.io.layout`: every file and folder name of a dataset, once.
- :mod:`~synthscene.io.fileio`: atomic writes.
- :mod:`~synthscene.io.coco`: the COCO annotation file (records, merge, write).
- :mod:`~synthscene.io.maps`: depth, normal, flow and other per-pixel maps.
- :mod:`~synthscene.io.reader` and :mod:`~synthscene.io.json_stream`: reading a COCO dataset back,
  bounded; :mod:`~synthscene.io.coco_schema` its schema checks, :mod:`~synthscene.io.rle` its
  segmentations as compressed RLE.
"""
