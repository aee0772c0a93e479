"""Golden DOT and Mermaid files for corpus Dockerfiles, through the real analysis.

The expected files live in ``tests/data/golden/<case>.<view>.<dot|mmd>``; regenerate them only
with ``.venv/bin/python -m scripts.regen_golden`` and review the diff.
"""

from __future__ import annotations

import pytest

from scripts.regen_golden import CASES, GOLDEN, outputs, source_path
from webapp import analyze
from webapp.render import run_dot, to_dot


def _golden_files() -> list[str]:
    return sorted(p.name for p in GOLDEN.glob("*.dot")) + sorted(p.name for p in GOLDEN.glob("*.mmd"))


def _case_of(name: str) -> str:
    return name.rsplit(".", 2)[0]


def test_golden_folder_is_not_empty():
    names = _golden_files()
    assert names, f"no golden files in {GOLDEN}; run .venv/bin/python -m scripts.regen_golden"
    cases = {_case_of(n) for n in names}
    assert cases == set(CASES), "golden folder and scripts/regen_golden.CASES disagree"
    assert len(names) == len(CASES) * 4


@pytest.mark.parametrize("name", _golden_files(), ids=lambda n: n.replace(".Dockerfile", ""))
def test_output_matches_golden_file(name, corpus):
    expected = (GOLDEN / name).read_text(encoding="utf-8")
    actual = outputs(_case_of(name))[name]
    assert actual == expected, f"{name} changed; if intended run scripts.regen_golden and review the diff"


@pytest.mark.dot
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.replace(".Dockerfile", ""))
def test_golden_cases_render_to_svg(case, corpus):
    graph = analyze(source_path(case).read_text(encoding="utf-8"))
    svg = run_dot(to_dot(graph), "svg").decode()
    for n in range(len(graph.edges)):
        assert f'id="edge-{n}"' in svg
    for stage in graph.stages:
        assert f'id="stage-{stage.index}"' in svg
