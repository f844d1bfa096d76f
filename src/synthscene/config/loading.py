"""Reading a scenario: YAML text (bounded), a dict, or a file, into a validated :class:`Scenario`.

Any error (YAML syntax, unknown key, wrong type, value out of range, a limit exceeded) raises
:class:`~synthscene.errors.ConfigError` naming the file, the dotted field and what is allowed.
The schema itself is :mod:`synthscene.config.schema`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import UnionType
from typing import Any, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError

from synthscene.config.fields import field_named
from synthscene.config.limits import apply_limits, check_limits, limit_ceiling
from synthscene.config.schema import ScenarioSpec
from synthscene.errors import ConfigError
from synthscene.io.fileio import FileProblem, read_regular_file
from synthscene.registry.texture_registry import TextureSpec
from synthscene.registry.validation_errors import error_message, join_field


@dataclass(frozen=True)
class Scenario:
    """A validated scenario and where it came from.

    Attributes
    ----------
    spec : ScenarioSpec
    source : str
        The file it was read from, or ``"<dict>"``.
    base_dir : Path
        Folder that relative asset paths resolve against (the file's folder).
    """

    spec: ScenarioSpec
    source: str
    base_dir: Path


def _field_path(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _model_at(loc: tuple) -> type[BaseModel] | None:
    """The model class that owns the field at ``loc`` (for listing its allowed keys)."""
    model: Any = ScenarioSpec
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return None
        name = field_named(model, part)
        if name is None:
            return None
        ann = model.model_fields[name].annotation
        if get_origin(ann) is list:
            ann = get_args(ann)[0]
        if get_origin(ann) in (Union, UnionType):  # an optional section: `SequenceSpec | None`
            ann = next((a for a in get_args(ann) if a is not type(None)), ann)
        model = ann
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _format_error(err: dict) -> tuple[str, str]:
    loc = tuple(err["loc"])
    field = _field_path(loc)
    if err["type"] == "extra_forbidden":
        model = _model_at(loc)
        allowed = ", ".join(f.alias or n for n, f in model.model_fields.items()) if model else "?"
        return field, f"unknown field '{loc[-1]}'; allowed fields here: {allowed}"
    if err["type"] == "missing":
        return field, "this field is required"
    sub, msg = error_message(err)  # a registry's field adapter names the field inside its value
    return join_field(field, sub), msg


def scenario_from_dict(data: Any, *, source: str = "<dict>", base_dir: str | Path | None = None,
                       limits: Mapping[str, int] | None = None) -> Scenario:
    """Validate a scenario given as a Python mapping.

    Parameters
    ----------
    data : mapping
        The scenario, as it would be read from YAML.
    source : str
        Named in error messages.
    base_dir : Path, optional
        Folder for relative asset paths; the current folder if omitted.
    limits : mapping of str to int, optional
        Limits in place of their defaults (:data:`synthscene.config.limits.LIMIT_DEFAULTS`),
        e.g. ``{"max_objects": 5000}``: the most the scenario's own ``limits:`` section may set
        (a scenario may only lower a limit; see :mod:`synthscene.config.limits`).

    Returns
    -------
    Scenario
        Its ``spec.limits`` holds the limits that apply.

    Raises
    ------
    ConfigError
        Naming ``source``, the dotted field and what is allowed (a count over its limit, a limit
        the scenario raises above ``limits``).
    OptionError
        If ``limits`` names an unknown limit or gives a value that is not an integer >= 1.
    """
    ceiling = limit_ceiling(limits)
    if not isinstance(data, dict):
        raise ConfigError(source, "", f"a scenario must be a mapping of fields, got "
                                      f"{type(data).__name__}")
    try:
        spec = ScenarioSpec.model_validate(
            data, context={"base_dir": Path(base_dir or Path.cwd()).resolve()})
    except ValidationError as exc:
        errors = exc.errors()
        field, msg = _format_error(errors[0])
        if len(errors) > 1:
            msg += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
        raise ConfigError(source, field, msg) from None
    except RecursionError:
        raise ConfigError(source, "", f"lists and mappings nested more than {MAX_NESTING} "
                                      "deep") from None
    spec = apply_limits(spec, ceiling, source)
    check_limits(spec, source)
    _check_across(spec, source)
    _name_image_folders(spec, source)
    return Scenario(spec=spec, source=source, base_dir=Path(base_dir or Path.cwd()).resolve())


def _name_image_folders(spec: ScenarioSpec, source: str) -> None:
    """Tell each image-texture folder the scenario field that names it
    (``"FILE: objects.material.texture.image.folder"``), so an image that fails to decode while
    frames are made is reported with its field."""
    stack: list[tuple[BaseModel, str]] = [(spec, "")]
    while stack:
        model, path = stack.pop()
        for name, info in type(model).model_fields.items():
            key = info.alias or name
            value, field = getattr(model, name), f"{path}.{key}" if path else key
            items = list(enumerate(value)) if isinstance(value, (list, tuple)) else [(None, value)]
            for i, item in items:
                where = field if i is None else f"{field}[{i}]"
                if isinstance(item, BaseModel):
                    stack.append((item, where))
                elif isinstance(item, TextureSpec):
                    item.name_resources(f"{source}: {where}")


def _check_across(spec: ScenarioSpec, source: str) -> None:
    """Checks across sections beyond the limits: the camera's visibility demand against the
    most objects a frame can have, and the point tracks against the pixels of an image.

    Raises
    ------
    ConfigError
        Naming the field and the largest value allowed.
    """
    objects = int(spec.objects.count.support()[1])
    if spec.camera.min_visible_objects > objects:
        raise ConfigError(source, "camera.min_visible_objects",
                          f"{spec.camera.min_visible_objects} is more than the most objects a "
                          f"frame can have (objects.count draws at most {objects})")
    pixels = spec.image.width * spec.image.height
    if spec.outputs.point_tracks > pixels:
        raise ConfigError(source, "outputs.point_tracks",
                          f"{spec.outputs.point_tracks} is more than the pixels of an image "
                          f"({spec.image.width} x {spec.image.height} = {pixels}), the most "
                          f"points that can be tracked (one per visible object pixel of a "
                          f"sequence's first frame)")


MAX_SCENARIO_BYTES = 1 << 20
"""Largest scenario file read, bytes (1 MiB; the bundled scenes are a few kB)."""
MAX_NESTING = 64
"""Deepest nesting of lists and mappings in a scenario file (the schema needs about 8)."""
MAX_YAML_NODES = 100_000
"""Most values (scalars, lists and mappings) a scenario file may hold once its aliases are
expanded: a file of a few lines cannot expand into billions of values ("billion laughs")."""

_PLAIN_TAGS = frozenset(f"tag:yaml.org,2002:{name}" for name in (
    "str", "int", "float", "bool", "null", "seq", "map"))
_MERGE_TAG = "tag:yaml.org,2002:merge"


def _yaml_loader() -> type:
    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when installed


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _check_nesting(text: str, source: str) -> None:
    """Refuse lists and mappings nested deeper than ``MAX_NESTING``, from the parser's event
    stream (no recursion, so a 20,000-deep file cannot exhaust the stack)."""
    depth = 0
    for event in yaml.parse(text, Loader=_yaml_loader()):
        if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            depth += 1
            if depth > MAX_NESTING:
                raise ConfigError(source, "", f"lists and mappings nested more than "
                                              f"{MAX_NESTING} deep (line "
                                              f"{event.start_mark.line + 1})")
        elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            depth -= 1


def _check_nodes(root: yaml.Node, source: str) -> None:
    """Refuse what YAML allows but a scenario must not hold, naming the field: a key given
    twice in one mapping, a tag other than plain scalars, lists and mappings (``!!binary``,
    ``!!python/...``, ``!!set``, dates), an alias that contains itself, and more than
    ``MAX_YAML_NODES`` values once aliases are expanded."""
    sizes: dict[int, int] = {}  # id(node) -> values under it, aliases expanded
    heights: dict[int, int] = {}  # id(node) -> levels under it, aliases expanded
    on_path: set[int] = set()

    def visit(node: yaml.Node, field: str, depth: int) -> int:
        key = id(node)
        if key in sizes:
            if depth + heights[key] > MAX_NESTING:
                raise ConfigError(source, field, f"lists and mappings nested more than "
                                                 f"{MAX_NESTING} deep through aliases")
            return sizes[key]
        if key in on_path:
            raise ConfigError(source, field, "an alias refers to a list or mapping that "
                                             "contains it (a recursive YAML anchor)")
        if node.tag not in _PLAIN_TAGS:
            tag = node.tag.replace("tag:yaml.org,2002:", "!!")
            raise ConfigError(source, field, f"YAML tag {tag} is not allowed: a scenario holds "
                                             "numbers, strings, booleans, lists and mappings "
                                             "(quote a value meant as a string)")
        if depth > MAX_NESTING:
            raise ConfigError(source, field, f"lists and mappings nested more than "
                                             f"{MAX_NESTING} deep through aliases")
        on_path.add(key)
        size, height = 1, 0
        children: list[tuple[yaml.Node, str]] = []
        if isinstance(node, yaml.SequenceNode):
            children = [(item, f"{field}[{i}]") for i, item in enumerate(node.value)]
        elif isinstance(node, yaml.MappingNode):
            seen: dict[str, int] = {}
            for key_node, value_node in node.value:
                if key_node.tag == _MERGE_TAG:
                    children.append((value_node, field))
                    continue
                name = str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else "?"
                child = f"{field}.{name}" if field else name
                line = key_node.start_mark.line + 1
                if isinstance(key_node, yaml.ScalarNode) and name in seen:
                    raise ConfigError(source, child, f"key given twice in one mapping (lines "
                                                     f"{seen[name]} and {line}); keep one")
                seen[name] = line
                children += [(key_node, child), (value_node, child)]
        for child_node, child_field in children:
            size += visit(child_node, child_field, depth + 1)
            height = max(height, 1 + heights[id(child_node)])
        on_path.discard(key)
        if size > MAX_YAML_NODES:
            raise ConfigError(source, field, f"holds more than {MAX_YAML_NODES} values once its "
                                             "aliases are expanded")
        sizes[key], heights[key] = size, height
        return size

    visit(root, "", 0)


def parse_scenario_text(text: str, *, source: str = "<text>") -> Any:
    """Parse the YAML (or JSON) text of a scenario into plain Python values, safely.

    Only YAML's plain types are built (safe loading); on top of that the text may not nest
    lists and mappings more than :data:`MAX_NESTING` deep, give a key twice in one mapping,
    use tags such as ``!!binary`` or ``!!python/object``, hold a recursive alias, or expand
    (through aliases) to more than :data:`MAX_YAML_NODES` values.

    Parameters
    ----------
    text : str
    source : str
        Named in error messages.

    Returns
    -------
    Any
        Usually a dict; :func:`scenario_from_dict` checks that.

    Raises
    ------
    ConfigError
        One line naming ``source``, the field where one is known, and the problem.
    """
    at = text.find("\x00")
    if at >= 0:
        raise ConfigError(source, "", f"a NUL byte at line {text.count(chr(10), 0, at) + 1}: "
                                      "not a text file")
    loader = None
    try:
        _check_nesting(text, source)
        loader = _yaml_loader()(text)
        node = loader.get_single_node()
        if node is None:
            return None
        _check_nodes(node, source)
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or getattr(exc, "reason", None) or str(exc)
        raise ConfigError(source, "", f"not valid YAML: {where}{_one_line(problem)}") from None
    finally:
        if loader is not None:
            loader.dispose()


def load_scenario(path: str | Path, *, limits: Mapping[str, int] | None = None) -> Scenario:
    """Read and validate a scenario YAML file.

    The file is read only if it is a regular file (not a FIFO or a device such as
    ``/dev/zero``) of at most :data:`MAX_SCENARIO_BYTES`, then parsed with
    :func:`parse_scenario_text`.

    Parameters
    ----------
    path : str or Path
    limits : mapping of str to int, optional
        Limits in place of their defaults, as for :func:`scenario_from_dict` (the file may only
        lower them).

    Returns
    -------
    Scenario

    Raises
    ------
    ConfigError
        If the file is missing, not a regular file, too large, unreadable, not UTF-8 text, not
        YAML, or fails validation.
    OptionError
        As :func:`scenario_from_dict` for a bad ``limits``.
    """
    limit_ceiling(limits)  # a bad argument is refused before the file is read
    path = Path(path)
    try:
        raw = read_regular_file(path, max_bytes=MAX_SCENARIO_BYTES)
    except FileProblem as exc:
        what = "scenario file not found" if str(exc) == "not found" else \
            f"cannot read the scenario file: {exc}"
        raise ConfigError(str(path), "", what) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(str(path), "", f"cannot read the scenario file: not UTF-8 text "
                                         f"(byte {exc.start})") from None
    data = parse_scenario_text(text, source=str(path))
    return scenario_from_dict(data, source=str(path), base_dir=path.parent, limits=limits)
