"""Sensor effect ``jpeg``: its parameters, its function (from
:mod:`synthscene.randomize.effects`) and its row of the built-in table
(:data:`synthscene.randomize.builtins.BUILTINS`)."""

# No ``from __future__ import annotations`` here: field annotations call dist_field().

from pydantic import Field

from synthscene.randomize import effects as fx
from synthscene.randomize.builtin_row import builtin
from synthscene.randomize.effect_kinds.runner import EffectRunner
from synthscene.registry.effect_registry import register_effect
from synthscene.registry.params import EffectParams, dist_field

__all__ = ["ROW", "JpegParams"]


class JpegParams(EffectParams):
    """Parameters of the ``jpeg`` effect."""

    quality: dist_field(low=0, high=100, integer=True) = Field(
        {"randint": [40, 95]}, description="libjpeg quality (100 is best)")


ROW = builtin(
    register_effect, "jpeg", EffectRunner(fx.jpeg), params=JpegParams,
    summary="JPEG compression artefacts (encode and decode)",
    example={"name": "jpeg", "quality": {"randint": [40, 95]}})
"""Its row of :data:`synthscene.randomize.builtins.BUILTINS`."""
