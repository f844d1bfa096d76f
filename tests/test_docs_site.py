"""The documentation: README's links and first training run, the site's pages and its API
reference (``mkdocs build --strict`` itself runs in ``.ci/run``)."""

from __future__ import annotations

import importlib
import inspect
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
    assert len(text.splitlines()) < 150


def test_readme_first_training_run_is_the_training_page_recipe():
    """One recipe, two places: the README's must be the page's, which the slow recipe test runs."""
    def python_blocks(text: str) -> list[str]:
        return re.findall(r"```python\n(.*?)```", text, flags=re.S)

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## First training run", 1)[1].split("\n## ", 1)[0]
    page = (DOCS / "training.md").read_text(encoding="utf-8")
    assert python_blocks(section) == python_blocks(page)[:1]


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


def _public_names(module: str) -> set[str]:
    """What mkdocstrings renders of a whole module: its ``__all__``, else the public classes and
    functions defined in it."""
    mod = importlib.import_module(module)
    if hasattr(mod, "__all__"):
        return set(mod.__all__)
    return {name for name, obj in vars(mod).items() if not name.startswith("_")
            and (inspect.isclass(obj) or inspect.isfunction(obj)) and obj.__module__ == module}


def test_the_api_reference_covers_the_public_api_and_each_has_a_docstring():
    documented = _documented_names()
    rendered = set().union(*documented.values())
    import synthscene

    missing = [name for name in synthscene.__all__ if name != "__version__"
               and name not in rendered]
    assert not missing, f"public names missing from docs/api.md: {missing}"
    for module, names in documented.items():
        mod = importlib.import_module(module)
        for name in names:
            obj = getattr(mod, name)
            if inspect.isfunction(obj) or inspect.isclass(obj):
                assert inspect.getdoc(obj), f"{module}.{name} has no docstring"
