"""What the two-colour texture kinds share: their random colours (``color_a``, ``color_b``)."""

# No ``from __future__ import annotations`` here: field annotations call dist_field().

from pydantic import Field

from synthscene.registry.params import RandomizerParams, dist_field

__all__ = ["ANY_COLOR", "COLOR_DOC", "TwoColors"]

ANY_COLOR = {"uniform": [[0, 0, 0], [1, 1, 1]]}
COLOR_DOC = "sRGB colour in [0, 1] (a single number gives a grey)"


class TwoColors(RandomizerParams):
    """Two random colours, shared by the two-colour texture kinds."""

    color_a: dist_field(low=0, high=1, length=3) = Field(ANY_COLOR, description=COLOR_DOC)
    color_b: dist_field(low=0, high=1, length=3) = Field(ANY_COLOR, description=COLOR_DOC)
