"""The documentation: README's links and first training run, the site's pages and its API
reference (``mkdocs build --strict`` itself runs in ``.ci/run``)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def _nav_pages(nav: list) -> list[str]:
    pages = []
    for item in nav:
        value = next(iter(item.values())) if isinstance(item, dict) else item
        pages.extend(_nav_pages(value) if isinstance(value, list) else [value])
    return pages


def _mkdocs() -> dict:
    return yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))


def test_every_page_is_in_the_site_navigation():
    pages = set(_nav_pages(_mkdocs()["nav"]))
    on_disk = {p.relative_to(DOCS).as_posix() for p in DOCS.glob("*.md")}
    assert pages == on_disk


def test_relative_links_of_readme_and_docs_point_to_files_in_the_repository():
    for page in [ROOT / "README.md", *DOCS.glob("*.md")]:
        text = page.read_text(encoding="utf-8")
        for target in LINK.findall(text):
            if "://" in target or target.startswith("mailto:"):
                continue
            resolved = (page.parent / target).resolve()
            assert resolved.exists(), f"{page.name}: {target}"
            assert ROOT in resolved.parents, f"{page.name}: {target} leaves the repository"


def test_readme_is_one_screen_of_what_a_new_user_needs():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    headings = re.findall(r"^## (.+)$", text, flags=re.M)
    assert headings[:4] == ["Set-up", "First dataset", "First training run", "Documentation"]
    # After the documentation table: a short section with a picture for each capability a user
    # looks for first (real cameras, light, asset libraries), each pointing to its page.
    assert len(text.splitlines()) < 190


def test_readme_first_training_run_is_the_training_page_recipe():
    """One recipe, two places: the README's must be the page's, which the slow recipe test runs."""
    def python_blocks(text: str) -> list[str]:
        return re.findall(r"```python\n(.*?)```", text, flags=re.S)

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## First training run", 1)[1].split("\n## ", 1)[0]
    page = (DOCS / "training.md").read_text(encoding="utf-8")
    assert python_blocks(section) == python_blocks(page)[:1]


def _module_source(module: str) -> tuple[Path, ast.Module]:
    """The parsed source of a module of ``src/`` (parsed, not imported: importing torch after a
    GL frame in the same process crashes, and the test order is not ours to choose)."""
    path = ROOT / "src" / Path(*module.split("."))
    path = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
    return path, ast.parse(path.read_text(encoding="utf-8"))


def _definitions(tree: ast.Module) -> dict[str, ast.AST]:
    """Top-level classes, functions and imported names of a module, by name."""
    found: dict[str, ast.AST] = {}
    for node in tree.body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            found[node.name] = node
        elif isinstance(node, ast.ImportFrom):
            for alias in node.names:
                found[alias.asname or alias.name] = node
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name):
                    found[target.id] = node
    return found


def _public_names(module: str) -> set[str]:
    """What mkdocstrings renders of a whole module: its ``__all__``, else the public classes and
    functions defined in it."""
    _, tree = _module_source(module)
    definitions = _definitions(tree)
    if "__all__" in definitions:
        return set(ast.literal_eval(definitions["__all__"].value))
    return {name for name, node in definitions.items() if not name.startswith("_")
            and isinstance(node, (ast.ClassDef, ast.FunctionDef))}


def _documented_names() -> dict[str, set[str]]:
    """Module -> the member names docs/api.md renders (every public member when none listed)."""
    text = (DOCS / "api.md").read_text(encoding="utf-8")
    documented: dict[str, set[str]] = {}
    for block in re.split(r"^::: ", text, flags=re.M)[1:]:
        module, _, rest = block.partition("\n")
        options = rest.split("\n#", 1)[0]
        members = set(re.findall(r"^\s+- (\w+)$", options, flags=re.M))
        documented[module.strip()] = members or _public_names(module.strip())
    return documented


def _definition(module: str, name: str) -> ast.AST | None:
    """The class or function ``name`` as defined where ``module`` imports it from, or None for
    a constant."""
    _, tree = _module_source(module)
    node = _definitions(tree).get(name)
    if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("synthscene"):
        return _definition(node.module, name)
    return node if isinstance(node, (ast.ClassDef, ast.FunctionDef)) else None


def test_the_api_reference_covers_the_public_api_and_each_has_a_docstring():
    documented = _documented_names()
    rendered = set().union(*documented.values())
    facade = _public_names("synthscene")
    missing = sorted(name for name in facade if name != "__version__" and name not in rendered)
    assert not missing, f"public names missing from docs/api.md: {missing}"
    for module, names in documented.items():
        for name in sorted(names):
            node = _definition(module, name)
            if node is not None:
                assert ast.get_docstring(node), f"{module}.{name} has no docstring"
