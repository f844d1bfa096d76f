"""The shape of the package (``docs/architecture.md``): a package per stage, few modules at the
top, imports that only run down the layers, leaf modules that import on their own, no oversized
file, each back end imported by its own package only, no third-party private attribute used, a
facade that imports no back end, and a wheel that carries every package."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import synthscene

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "synthscene"
STAGES = ("core", "registry", "config", "assets", "randomize", "physics", "render", "labels",
          "io", "run", "exporters", "integrations", "tools")

#: The layers, bottom first (``docs/architecture.md``, "Layers"): a module may import its own
#: layer and those below, never one above. ``__init__`` is the facade.
LAYERS = (
    ("errors", "version"),
    ("core", "registry", "seeding", "resources"),
    ("io",),
    ("config",),
    ("assets",),
    ("randomize",),
    ("physics", "render", "labels"),
    ("run",),
    ("exporters", "tools", "integrations"),
    ("plugins", "cli", "__init__"),
)
RANK = {unit: i for i, layer in enumerate(LAYERS) for unit in layer}

#: What the extension machinery may import: nothing of ours but errors (and itself).
REGISTRY_IMPORTS = {"errors", "registry"}
REGISTRY_THIRD_PARTY = {"numpy", "pydantic"}

#: Leaf modules and the most synthscene modules each may load (itself, the packages on its path
#: and what it imports), the facade left out (see _closure).
LEAF_BOUNDS = {
    "synthscene.errors": 1,
    "synthscene.io.layout": 2,
    "synthscene.randomize.geometry": 2,
    "synthscene.registry.distributions": 2,
    "synthscene.registry.params": 3,
    "synthscene.registry.randomizers": 7,
    "synthscene.registry.plugin_loader": 11,
    "synthscene.config.schema": 19,
}
MAX_TOP_LEVEL_MODULES = 9
MAX_LINES = 700

#: back end -> the packages that may import it.
BACKENDS = {
    "pybullet": ("physics", "assets"),  # assets: pybullet_data's files and VHACD
    "pybullet_data": ("physics", "assets"),
    "pyrender": ("render",),
    "OpenGL": ("render",),
    "torch": ("integrations",),
    "torchvision": ("integrations",),
}

#: pyrender's private names the renderer once used: its GL state belongs to us now.
PYRENDER_PRIVATE = ("_add_to_context", "_remove_from_context", "_vaid", "_program_id", "_bind",
                    "_unbind", "_renderer", "_platform", "_buffers", "_in_context",
                    "_configure_forward_pass_viewport", "_read_main_framebuffer",
                    "_sorted_mesh_nodes", "_bind_lighting")


def _modules() -> list[Path]:
    return sorted(SRC.rglob("*.py"))


def _package(path: Path) -> str:
    parts = path.relative_to(SRC).parts
    return parts[0] if len(parts) > 1 else ""


def _imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def _unit(path: Path) -> str:
    """The layer unit of a source file: its package, or its module name at the top."""
    parts = path.relative_to(SRC).with_suffix("").parts
    return parts[0]


def _synthscene_imports(path: Path) -> list[tuple[int, str]]:
    """``(line, unit)`` of every import of a synthscene module in ``path``: module level,
    inside functions and ``TYPE_CHECKING`` blocks alike."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = ([f"synthscene.{alias.name}" for alias in node.names]
                     if node.module == "synthscene" else [node.module])
        for name in names:
            parts = name.split(".")
            if parts[0] == "synthscene":
                found.append((node.lineno, parts[1] if len(parts) > 1 else "__init__"))
    return found


def test_every_package_and_top_level_module_has_a_layer():
    units = {_unit(p) for p in _modules()}
    assert units <= set(RANK), sorted(units - set(RANK))


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_imports_only_run_down_the_layers(path):
    me = _unit(path)
    up = [f"line {line}: {unit}" for line, unit in _synthscene_imports(path)
          if unit != me and RANK[unit] > RANK[me]]
    assert not up, f"{path.relative_to(SRC)} (layer of {me}) imports from above: {up}"


@pytest.mark.parametrize("path", sorted((SRC / "registry").glob("*.py")),
                         ids=lambda p: p.name)
def test_the_registry_imports_nothing_of_ours_but_errors(path):
    ours = {unit for _, unit in _synthscene_imports(path)}
    assert ours <= REGISTRY_IMPORTS, f"{path.name} imports {sorted(ours - REGISTRY_IMPORTS)}"
    third_party = _imported_roots(path) - set(sys.stdlib_module_names) - {"synthscene"}
    assert third_party <= REGISTRY_THIRD_PARTY, f"{path.name} imports {sorted(third_party)}"


def _closure(module: str) -> list[str]:
    """The synthscene modules a fresh interpreter loads to import ``module``, the facade
    (``synthscene/__init__.py``, which imports every stage on purpose) replaced by a bare
    package so the count is the module's own."""
    code = ("import importlib, sys, types; "
            "pkg = types.ModuleType('synthscene'); pkg.__path__ = [sys.argv[1]]; "
            "sys.modules['synthscene'] = pkg; importlib.import_module(sys.argv[2]); "
            "print(' '.join(sorted(m for m in sys.modules if m.startswith('synthscene.'))))")
    out = subprocess.run([sys.executable, "-c", code, str(SRC), module], capture_output=True,
                         text=True, check=True).stdout.split()
    return out


@pytest.mark.parametrize("module", sorted(LEAF_BOUNDS))
def test_a_leaf_module_imports_on_its_own_and_loads_only_what_it_needs(module):
    subprocess.run([sys.executable, "-c", f"import {module}"], check=True)
    loaded = _closure(module)
    assert module in loaded
    assert len(loaded) <= LEAF_BOUNDS[module], loaded


def test_the_scenario_schema_loads_no_implementation():
    """Reading a scenario needs the registries, never a randomizer's code: the built-ins load
    when a name is first looked up."""
    loaded = _closure("synthscene.config.schema")
    assert not [m for m in loaded if m.split(".")[1] not in ("config", "registry", "io",
                                                             "errors")], loaded


def test_builtins_are_our_own_entry_point_and_load_on_first_lookup():
    text = (ROOT / "pyproject.toml").read_text()
    assert '[project.entry-points."synthscene.plugins"]\nbuiltins = ' \
           '"synthscene.randomize.builtins"' in text
    code = ("import sys, types; pkg = types.ModuleType('synthscene'); pkg.__path__ = "
            "[sys.argv[1]]; sys.modules['synthscene'] = pkg; "
            "from synthscene.registry.scene_registries import PLACEMENTS; "
            "before = 'synthscene.randomize.builtins' in sys.modules; "
            "print(before, PLACEMENTS.lookup('drop', source='', field='').module)")
    out = subprocess.run([sys.executable, "-c", code, str(SRC)], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["False", "synthscene.randomize.scene"]


def test_one_package_per_stage_and_few_top_level_modules():
    packages = {p.name for p in SRC.iterdir() if (p / "__init__.py").is_file()}
    assert set(STAGES) <= packages
    top = sorted(p.name for p in SRC.glob("*.py"))
    assert len(top) <= MAX_TOP_LEVEL_MODULES, top


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_no_source_file_over_700_lines(path):
    assert len(path.read_text().splitlines()) <= MAX_LINES


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_back_ends_are_imported_by_their_own_package_only(path):
    for backend in _imported_roots(path) & set(BACKENDS):
        assert _package(path) in BACKENDS[backend], f"{path.relative_to(SRC)} imports {backend}"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_no_private_attribute_of_pyrender(path):
    used = {node.attr for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.Attribute)  # our own objects' attributes are ours
            and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"))
            } & set(PYRENDER_PRIVATE)
    defined = {node.name for node in ast.walk(ast.parse(path.read_text()))
               if isinstance(node, ast.FunctionDef)} & set(PYRENDER_PRIVATE)
    assert not used | defined, f"{path.relative_to(SRC)}: {sorted(used | defined)}"


def test_the_facade_is_typed_and_loads_no_back_end():
    """Every command starts by importing synthscene: the back ends, the mesh library and scipy
    load when frames are made."""
    for name in synthscene.__all__:
        assert getattr(synthscene, name) is not None
    code = ("import sys, synthscene; "
            "print(sorted(m for m in ('pyrender', 'OpenGL', 'pybullet', 'torch', 'ray', "
            "'trimesh', 'scipy') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"
    tree = ast.parse((SRC / "__init__.py").read_text())
    assert not any(isinstance(node, ast.FunctionDef) and node.name == "__getattr__"
                   for node in tree.body)


def test_the_wheel_carries_every_package():
    # the packages list of pyproject.toml (tomllib is Python 3.11+; the project supports 3.10)
    text = (ROOT / "pyproject.toml").read_text()
    block = text.split("\npackages = [", 1)[1].split("]", 1)[0]
    listed = {line.strip().strip(",").strip('"') for line in block.splitlines() if line.strip()}
    on_disk = {"synthscene." + ".".join(p.parent.relative_to(SRC).parts) if p.parent != SRC
               else "synthscene" for p in SRC.rglob("__init__.py")}
    assert on_disk <= listed, sorted(on_disk - listed)


def test_architecture_page_names_every_package():
    text = (ROOT / "docs" / "architecture.md").read_text()
    for package in (p.name for p in SRC.iterdir() if (p / "__init__.py").is_file()):
        assert f"{package}/" in text, package
    for page in [ROOT / "README.md", *(ROOT / "docs").glob("*.md")]:
        assert "../shared" not in page.read_text(), page


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_a_module_logs_through_one_logger_named_after_it(path):
    """``logger = logging.getLogger(__name__)``, the one spelling, wherever a module logs."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) \
                and getattr(node.value.func, "attr", None) == "getLogger":
            assert [getattr(t, "id", None) for t in node.targets] == ["logger"], path
            assert [getattr(a, "id", None) for a in node.value.args] == ["__name__"], path


def test_no_tracker_numbers_in_the_repository_text():
    """Readers of the repository have no issue tracker: text names the behaviour it means."""
    import re

    pattern = re.compile(r"\bissue \d+", re.IGNORECASE)
    roots = [ROOT / d for d in ("src", "tests", "docs", "scripts", "examples")]
    hits = [f"{p.relative_to(ROOT)}:{n}" for root in roots for p in sorted(root.rglob("*"))
            if p.is_file() and p.suffix in (".py", ".md", ".sh", ".yaml")
            for n, line in enumerate(p.read_text(errors="replace").splitlines(), 1)
            if pattern.search(line)]
    assert not hits, hits
