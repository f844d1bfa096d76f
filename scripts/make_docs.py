"""Regenerate ``docs/randomizers.md`` from the randomizer registries (never edit it by hand).

Run from anywhere: ``python scripts/make_docs.py`` (``--check`` exits with status 1 if the file is
out of date instead of writing it). The text comes from
:func:`synthscene.randomize.registry.registry_markdown`, so names, parameters, defaults and
examples cannot drift from the code; ``tests/test_registry.py`` checks the file is current.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from synthscene.randomize.registry import registry_markdown

DOC = Path(__file__).resolve().parents[1] / "docs" / "randomizers.md"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check the file is current")
    args = parser.parse_args(argv)
    text = registry_markdown()
    if args.check:
        current = DOC.read_text(encoding="utf-8") if DOC.is_file() else ""
        if current != text:
            print(f"{DOC} is out of date; run python scripts/make_docs.py", file=sys.stderr)
            return 1
        return 0
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text(text, encoding="utf-8")
    print(f"wrote {DOC}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
