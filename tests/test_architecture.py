"""The shape of the package (issue 14; ``docs/architecture.md``): a package per stage, few
modules at the top, no oversized file, each back end imported by its own package only, no
third-party private attribute used, a facade that imports no back end, and a wheel that carries
every package."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import synthscene

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "synthscene"
STAGES = ("core", "config", "assets", "randomize", "physics", "render", "labels", "io", "run",
          "exporters", "integrations", "tools")
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
