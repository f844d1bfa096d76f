"""How frames are rendered: :class:`RenderSettings` (plain data; imports no GL)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Shading = Literal["lit", "flat"]
"""``"lit"``: PBR shading with the scene's lights; ``"flat"``: base colour only."""


@dataclass(frozen=True)
class RenderSettings:
    """How frames are rendered.

    Attributes
    ----------
    shading : {"lit", "flat"}
        ``"lit"``: pyrender's PBR shading with the scene's lights. ``"flat"``: base colour only.
    msaa_samples : {1, 2, 4, 8}
        Multisample anti-aliasing of the colour image (1: none). Labels are never anti-aliased.
        Costly on llvmpipe (see ``docs/performance.md``).
    normals : bool
        Also render camera-frame surface normals (``RenderOutput.normals``) in the id pass.
    amodal : bool
        Also render every labelled object alone (``RenderOutput.amodal``), for amodal masks,
        ``visib_fract`` and ``truncation``.
    max_loaded_assets : int or None
        Most assets whose GL uploads (vertex arrays) the renderer keeps, least recently drawn
        first out, never one drawn in the current or the previous frame (``limits.
        max_loaded_assets``); None: no limit. The uploads of an asset the library no longer
        holds are freed too (its bytes count in ``limits.max_loaded_mib``). An asset dropped
        is uploaded again when next drawn: the images are the same whatever the limit.

    shadow_lights : int
        In a frame with shadows (``SceneState.shadow_softness_m``, drawn per frame), how many
        of its lights cast them: the strongest at the scene's centre
        (:func:`synthscene.render.shadow_fit.strongest`); the others light unshadowed. Each
        costs a depth pass (six for a point light) and a lookup per pixel.

    Raises
    ------
    ValueError
        If ``msaa_samples`` is not 1, 2, 4 or 8, or ``shadow_lights`` is negative.
    """

    shading: Shading = "lit"
    msaa_samples: int = 1
    normals: bool = False
    amodal: bool = False
    shadow_lights: int = 1
    max_loaded_assets: int | None = None

    def __post_init__(self) -> None:
        if self.msaa_samples not in (1, 2, 4, 8):
            raise ValueError(f"msaa_samples must be 1, 2, 4 or 8, got {self.msaa_samples!r}")
        if self.shadow_lights < 0:
            raise ValueError(f"shadow_lights must be >= 0, got {self.shadow_lights!r}")
