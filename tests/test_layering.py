"""The pipeline's imports point one way: the core never imports Flask, the web layer or storage."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "webapp"
CORE = ["lexer.py", "shell.py", "reference.py", "instructions.py", "analysis.py", "model.py", "errors.py"]
CORE += ["platforms.py", "report.py", "sources.py", "dispatch.py", "wording.py"]
CORE += ["options.py"]
CORE += ["checks.py"]
FORBIDDEN = ("flask", "werkzeug", "webapp.web", "webapp.store", "webapp.links", "sqlite3")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = "webapp." + base if base else "webapp"
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


@pytest.mark.parametrize(
    "name", CORE + [p.relative_to(PACKAGE).as_posix() for p in (PACKAGE / "render").glob("*.py")]
)
def test_core_does_not_import_upper_layers(name):
    modules = imported_modules(PACKAGE / name)
    bad = sorted(m for m in modules if m.startswith(FORBIDDEN) or m == "webapp.cli")
    assert not bad, f"{name} imports {bad}"


def test_package_import_is_light():
    import subprocess
    import sys

    code = "import sys, webapp; print(sorted(m for m in sys.modules if m.startswith(('flask', 'webapp.'))))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=PACKAGE.parent)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
