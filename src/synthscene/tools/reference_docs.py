"""The randomizer reference, ``docs/randomizers.md``, rendered from the registries themselves.

:func:`registry_markdown` lists every texture kind, sensor effect, placement, camera sampler and
scene hook with its parameters (defaults, allowed values, meaning) and a YAML example, so the
documentation cannot drift from the code. ``synthscene docs`` and ``scripts/make_docs.py`` print
or write it (between the markers of the hand-written page).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from synthscene.registry import scene_registries as ext
from synthscene.registry.effect_registry import EFFECTS
from synthscene.registry.params import field_range, yaml_key
from synthscene.registry.randomizers import Registry, parameter_names
from synthscene.registry.texture_registry import PROCEDURAL_KINDS, TEXTURES

_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_./-]*")


def _yaml_inline(value: Any) -> str:
    """``value`` in YAML flow style, e.g. ``{uniform: [0, 6]}``."""
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {_yaml_inline(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_yaml_inline(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        plain = _PLAIN.fullmatch(value) and value not in ("true", "false", "null", "yes", "no")
        return value if plain else json.dumps(value)
    return repr(value)


def _param_cell(model: type[BaseModel]) -> str:
    lines = []
    for name in parameter_names(model):
        info = model.model_fields[name]
        spec = field_range(model, name)
        allowed = spec.describe() if spec is not None else "text"
        if name == "probability":
            lines.append(f"`probability` = `{_yaml_inline(info.default)}`")
            continue
        lines.append(f"`{yaml_key(model, name)}` = `{_yaml_inline(info.default)}` ({allowed}): "
                     f"{info.description or ''}")
    return "<br>".join(lines)


def example_config(registry: Registry, name: str) -> Any:
    """The documented YAML example of randomizer ``name``: an effect's list item, or a whole
    ``texture`` mapping drawing only that kind."""
    entry = registry[name]
    if registry is TEXTURES:
        return {"texture": {"kinds": [name], name: entry.example}}
    if registry is ext.PLACEMENTS:
        return {"objects": {"placement": {"name": name, **entry.example}}}
    if registry is ext.CAMERA_SAMPLERS:
        return {"camera": {"sampler": {"name": name, **entry.example} if entry.example
                           else name}}
    if registry is ext.SCENE_HOOKS:
        return {"hooks": [{"name": name, **entry.example}]}
    return entry.example


def _table(registry: Registry, plugins: bool = False) -> list[str]:
    rows = ["| name | parameters (default; allowed values): meaning | YAML example |",
            "|---|---|---|"]
    for name, entry in registry.items():
        if not (entry.builtin or plugins):
            continue
        example = example_config(registry, name)
        origin = "" if entry.builtin else f" (plug-in, module `{entry.module}`)"
        cell = _param_cell(entry.params)
        rows.append(f"| `{name}` | {entry.summary}{origin}.{'<br>' + cell if cell else ''} | "
                    f"`{_yaml_inline(example)}` |")
    if len(rows) == 2:
        rows = [f"No {registry.what} is registered."]
    return rows


_STABLE_NOTES = [
    "**Objects at rest without simulation: `stable`.** Each object takes one of its asset's "
    "stable poses (the faces of its convex hull it can rest on, computed once per asset with "
    "`trimesh.poses.compute_stable_poses` and drawn by the chance of landing in each, or "
    "uniformly with `pose_sampling: uniform`), a random turn about the vertical, and a "
    "position on one of its `surfaces` where its footprint is clear of every other object "
    "and fixture by `gap_m`; after `max_tries` positions an object that fits nowhere is left "
    "out, and each image entry of `annotations.json` counts those left out "
    "(`objects_left_out`); `camera.min_visible_objects` still applies. Non-floating "
    "distractors are placed "
    "the same way, after the objects. Nothing is simulated: `physics.settle` defaults to "
    "false after `stable` (true after `drop`); `physics: {settle: false, "
    "steps_after_placement: N}` adds a short settle of N steps (`timestep_s` each) for "
    "contact-accurate poses, and a `sequence` simulates as usual from the resting poses "
    "(objects stay at rest until hit, or move with `objects.initial_velocity`).",
    "",
    "Surfaces: `ground` (positions in `objects.drop_region`'s x and y, on z = 0; refused "
    "with `ground.enabled: false`) and "
    "`fixture:NAME`, every upward face of the fixture whose `name` is NAME: a table's or a "
    "box's top, a belt, each board of a shelf. Two fixture primitives are meant for them: "
    "`primitive:belt` (a long flat box, 1 x 0.2 x 0.025 at `size_m: 1`) and `primitive:shelf` "
    "(two sides, a back and 4 boards; 0.8 wide, 0.3 deep and 0.92 high at `size_m: 0.92`, "
    "open towards -y; `primitive:shelf-N` has N boards, 2 to 12, and `boards: {randint: "
    "[3, 5]}` on a `primitive:shelf` fixture draws the count per frame):",
    "",
    "```yaml",
    "fixtures:",
    "  - {name: shelf, source: \"primitive:shelf\", size_m: 1.0, boards: {randint: [3, 5]}}",
    "objects:",
    "  placement: {name: stable, surfaces: [fixture:shelf]}",
    "```",
    "",
    "`scenes/shelf.yaml` (objects on a shelf's boards, camera in front) and "
    "`scenes/conveyor.yaml` (parts on a belt, top-down camera) are bundled examples.",
    "",
    "![stable placement on the boards of a shelf (scenes/shelf.yaml)](images/stable_shelf.png)",
    "",
    "![stable placement on the ground: scenes/tabletop.yaml with placement stable, 8 to 14 "
    "objects, the camera 1.1 to 1.3 m away](images/stable_tabletop.png)",
    "",
    "(`scripts/make_stable_images.py` makes both images.)",
]
"""The text after the placement table: the ``stable`` placement, its surfaces and fixtures."""


def registry_markdown(*, plugins: bool = False) -> str:
    """Render the reference of every randomizer, with defaults and examples.

    Parameters
    ----------
    plugins : bool
        Also list the plug-ins' randomizers loaded in this process (``synthscene docs
        --plugin MODULE``); by default only synthscene's own, as ``docs/randomizers.md`` has.

    Returns
    -------
    str
        Markdown (the content of ``docs/randomizers.md``), generated from the registries
        (:data:`TEXTURES`, :data:`EFFECTS` and those of
        :mod:`synthscene.registry.scene_registries`) and their parameter models, ending in a
        newline.
    """
    kinds = ", ".join(PROCEDURAL_KINDS)
    lines = [
        "# Randomizers",
        "",
        "<!-- Generated by synthscene.tools.reference_docs.registry_markdown(); "
        "regenerate with `python scripts/make_docs.py`. Do not edit by hand. -->",
        "",
        "Every numeric parameter takes the distribution syntax used throughout a scenario: a "
        "constant, `{uniform: [a, b]}`, `{normal: [mean, std]}`, "
        "`{truncnormal: [mean, std, a, b]}`, `{loguniform: [a, b]}`, `{randint: [a, b]}` or "
        "`{choice: [...], weights: [...]}`. A distribution whose draws could leave a "
        "parameter's allowed range is refused when the scenario is read. Parameters ending in "
        "`_deg` are in degrees; `_px` ones in pixels (of the texture for textures, of the image "
        "for effects). Colours are sRGB in [0, 1]. An unknown name or parameter is an error "
        "that lists the valid ones.",
        "",
        "## Textures",
        "",
        "A `texture` mapping draws, for each surface and frame: whether to texture it "
        "(`probability`, default 1; otherwise the plain base colour is used), which kind "
        f"(`kinds`: a name, a list drawn equally often, or `{{choice: [...], weights: [...]}}`; "
        f"default: {kinds}), then the kind's parameters, set under a key named after the kind:",
        "",
        "```yaml",
        "texture:",
        "  probability: 0.8",
        "  kinds: {choice: [perlin, stripes, image], weights: [2, 1, 1]}",
        "  perlin: {scale_px: {uniform: [16, 64]}, octaves: {randint: [3, 6]}}",
        "  image: {folder: \"assets:textures\"}",
        "```",
        "",
        *_table(TEXTURES, plugins),
        "",
        "## Sensor effects",
        "",
        "`effects` is a list applied in order to the RGB image after labelling; no effect moves "
        "a pixel, so the labels stay exact. Each item names an effect and sets its parameters; "
        "`probability` (default 1) is the chance it is applied to a frame.",
        "",
        "```yaml",
        "effects:",
        "  - {name: gaussian_noise, sigma: {uniform: [0, 6]}, probability: 0.5}",
        "  - {name: motion_blur, length_px: {randint: [3, 9]}, angle_deg: {uniform: [0, 180]}, "
        "probability: 0.2}",
        "  - {name: jpeg, quality: {randint: [40, 95]}}",
        "```",
        "",
        *_table(EFFECTS, plugins),
        "",
        "## Object placements",
        "",
        "`objects.placement` chooses the labelled objects (count, assets, sizes, materials, as "
        "the `objects` section says) and their poses before physics. The default is "
        "`{name: drop}`.",
        "",
        *_table(ext.PLACEMENTS, plugins),
        "",
        *_STABLE_NOTES,
        "",
        "## Camera samplers",
        "",
        "`camera.sampler` draws the camera's pose: a name, or `{name: NAME, PARAM: value}` for "
        "a sampler with parameters. The built-in ones take their parameters from the `camera` "
        "section (`look_at`, `elevation_deg`, `azimuth_deg`, `distance_m`, `height_m`, "
        "`poses`); `roll_deg` and the intrinsics are drawn afterwards whichever sampler is "
        "used.",
        "",
        *_table(ext.CAMERA_SAMPLERS, plugins),
        "",
        "## Scene hooks",
        "",
        "`hooks` is a list of functions that turn each frame's scene into a new one, in order: "
        f"`stage: {ext.HOOK_STAGES[0]}` (the default) on the sampled scene before physics, "
        f"`stage: {ext.HOOK_STAGES[1]}` on the finished scene just before rendering. In a "
        f"sequence, `{ext.HOOK_STAGES[0]}` hooks run once on the sampled scene and "
        f"`{ext.HOOK_STAGES[1]}` hooks on every frame, each time with the same draws (a "
        "generator of the sequence's own), so what a hook draws holds for the whole sequence; "
        "a hook that animates reads `state.sequence.frame_index`.",
        "",
        *_table(ext.SCENE_HOOKS, plugins),
        "",
        "## Plug-ins",
        "",
        "Each table also lists the plug-ins' randomizers when made with "
        "`synthscene docs --plugin MODULE`. A plug-in registers its own with "
        "`synthscene.plugins.register_effect`, `register_texture`, `register_placement`, "
        "`register_camera_sampler` or `register_scene_hook` (the functions the built-ins are "
        "registered with) and is loaded by whoever runs the command: `--plugin MODULE` "
        "(or a `.py` file), `synthscene.load_plugins([...])`, or an installed package's entry "
        "point in the group `synthscene.plugins`. A scenario file never imports code.",
        "",
    ]
    return "\n".join(lines)
