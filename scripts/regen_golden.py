"""Regenerate the renderer's golden files from corpus Dockerfiles: the one reviewed way to update them.

Run from the repository root after a deliberate change to the drawing (and bump
``webapp.render.RENDERER_VERSION``), then review the diff before committing::

    .venv/bin/python -m scripts.regen_golden          # rewrite tests/data/golden/
    .venv/bin/python -m scripts.regen_golden --check  # exit 1 if any file would change

Each case ``<kind>__<file>`` is ``tests/data/corpus/<kind>/<file>`` (the vendored corpus); it
gives ``<case>.<view>.dot`` and ``<case>.<view>.mmd`` for both views.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "data" / "golden"
CASES = (
    "synthetic__onbuild.Dockerfile",
    "synthetic__mount-from.Dockerfile",
    "synthetic__flags-edge.Dockerfile",
    "real__docker__compose__Dockerfile.Dockerfile",
    "real__moby__moby__Dockerfile.Dockerfile",
)
VIEWS = ("stages", "layers")
FORMATS = (("dot", "dot"), ("mermaid", "mmd"))


def corpus_dir() -> Path:
    """The vendored corpus folder, ``tests/data/corpus``."""
    return ROOT / "tests" / "data" / "corpus"


def source_path(case: str) -> Path:
    """The corpus Dockerfile of a case name (the first ``__`` separates the corpus folder)."""
    kind, _, name = case.partition("__")
    return corpus_dir() / kind / name


def outputs(case: str) -> dict[str, str]:
    """Golden file name -> expected text for one case, from the current analysis and renderer."""
    from webapp import analyze
    from webapp.render import to_dot, to_mermaid

    graph = analyze(source_path(case).read_text(encoding="utf-8"))
    out = {}
    for view in VIEWS:
        out[f"{case}.{view}.dot"] = to_dot(graph, view)
        out[f"{case}.{view}.mmd"] = to_mermaid(graph, view)
    return out


def main(argv: list[str] | None = None) -> int:
    """Write (or with --check, compare) every golden file; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report files that would change")
    args = parser.parse_args(argv)
    GOLDEN.mkdir(parents=True, exist_ok=True)
    changed = []
    for case in CASES:
        for name, text in outputs(case).items():
            path = GOLDEN / name
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                changed.append(name)
                if not args.check:
                    path.write_text(text, encoding="utf-8")
    for name in changed:
        print(("would change " if args.check else "wrote ") + name)
    if not changed:
        print("golden files are up to date")
    return 1 if args.check and changed else 0


if __name__ == "__main__":
    sys.exit(main())
