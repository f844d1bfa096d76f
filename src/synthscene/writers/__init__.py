"""Dataset writers: they format :class:`~synthscene.state.Sample` objects onto disk.

Writers never import a rendering or physics backend; labels come ready-made from
:func:`synthscene.labels.annotate`.
"""

from synthscene.writers.coco import CocoWriter

__all__ = ["CocoWriter"]
