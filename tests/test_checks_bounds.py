"""The build checks are bounded too: per-instruction variable snapshots and "did you mean" hints."""

from __future__ import annotations

import time

import pytest

from webapp import analysis, analyze, checks
from webapp.errors import InputTooLarge


def test_many_variables_seen_by_many_instructions_are_refused_at_once():
    # 49 KB: 2000 ENV lines then 2000 instructions took 40 s and 180 MB in the checks, and
    # 5000 + 5000 (100 KB) 850 MB; now the snapshots they would copy are counted first
    text = "FROM alpine\n" + "".join(f"ENV v{i}=x\n" for i in range(2000)) + "WORKDIR /$zz\n" * 2000
    start = time.perf_counter()
    with pytest.raises(InputTooLarge) as info:
        analyze(text)
    assert time.perf_counter() - start < 2
    assert str(checks.MAX_SNAPSHOT_COPIES) in info.value.message and info.value.status == 413
    assert info.value.line is not None


def test_real_dockerfiles_copy_a_small_part_of_the_snapshot_limit(corpus, monkeypatch):
    monkeypatch.setattr(checks, "MAX_SNAPSHOT_COPIES", checks.MAX_SNAPSHOT_COPIES // 20)
    for path in sorted((corpus / "real").glob("*.Dockerfile")):
        analyze(path.read_bytes())


def test_hints_stop_when_their_comparisons_run_out(monkeypatch):
    monkeypatch.setattr(checks, "MAX_SUGGEST_COMPARISONS", 2000)
    text = "FROM scratch\n" + "".join(f"ENV v{i}=x\n" for i in range(100)) + "WORKDIR /$v1x\n" * 100
    findings = [d.message for d in analyze(text).diagnostics if d.code == "UndefinedVar"]
    assert len(findings) == 100
    hinted = [m for m in findings if "did you mean" in m]
    assert 0 < len(hinted) < 100 and findings[0] in hinted


def test_onbuild_triggers_times_children_are_bounded():
    # every child stage runs its base stage's triggers: 4000 triggers under 400 children were
    # 1.6 million runs (28 s in the analysis and the checks)
    text = "FROM alpine AS b\n" + "ONBUILD RUN x\n" * 4000 + "".join(f"FROM b AS c{i}\n" for i in range(400))
    analyze("FROM alpine")  # imports done before the clock starts
    start = time.perf_counter()
    with pytest.raises(InputTooLarge) as info:
        analyze(text)
    assert time.perf_counter() - start < 2
    assert str(analysis.MAX_INHERITED_TRIGGERS) in info.value.message
    assert info.value.line == 4002 + analysis.MAX_INHERITED_TRIGGERS // 4000  # the child that passes it
    few = "FROM alpine AS b\n" + "ONBUILD RUN x\n" * 100 + "".join(f"FROM b AS c{i}\n" for i in range(99))
    assert sum(s.onbuild_inherited for s in analyze(few).stages) == 99 * 100
