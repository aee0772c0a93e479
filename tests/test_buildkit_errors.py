"""Errors and graph facts checked one rule at a time against BuildKit itself.

Each case here was first asked of BuildKit's own Dockerfile frontend (the oracle in
``../shared/tools/buildkit-oracle``, moby/buildkit 73ed6825c4b7) with and without ``--target``;
the expected message, line and "which stages count" are what it answered. Parse errors fail every
build; dispatch errors (raised while BuildKit builds a stage) fail only builds that need the stage.
"""

from __future__ import annotations

from webapp.analysis import analyze
from webapp.model import EdgeKind, Severity, SourceKind


def errs(graph) -> list[tuple[str, int | None]]:
    return [(d.message, d.line) for d in graph.diagnostics if d.severity is Severity.ERROR]


def in_stage_a(line: str) -> str:
    """``line`` in a stage ``a`` that the default target (the last stage) does not build."""
    return f"FROM alpine AS a\n{line}\nFROM alpine\nRUN true\n"


def dispatch_error(line: str) -> list[tuple[str, int | None]]:
    """The errors of ``line`` in stage ``a``, asserting they count only when ``a`` is built."""
    text = in_stage_a(line)
    assert errs(analyze(text)) == [], "a dispatch error must not count for a stage that is not built"
    return errs(analyze(text, target="a"))


# --- graph facts -----------------------------------------------------------------------------------


def test_copy_from_a_stage_of_only_heredocs_draws_no_edge_but_builds_the_stage():
    g = analyze("FROM alpine AS a\nRUN echo\nFROM alpine\nCOPY --from=a <<EOF /x\nhi\nEOF\n")
    assert [e for e in g.edges if e.kind is EdgeKind.COPY] == []
    assert [s.reachable for s in g.stages] == [True, True]


def test_copy_from_an_image_of_only_heredocs_pulls_nothing():
    g = analyze("FROM alpine\nCOPY --from=busybox <<EOF /x\nhi\nEOF\n")
    assert [e for e in g.edges if e.kind is EdgeKind.COPY] == []
    assert not [d for d in g.diagnostics if d.code == "unknown-stage"]


def test_copy_from_with_a_heredoc_and_a_file_reads_the_stage():
    g = analyze("FROM alpine AS a\nFROM alpine\nCOPY --from=a <<EOF f /x\nhi\nEOF\n")
    copies = [e for e in g.edges if e.kind is EdgeKind.COPY]
    assert [(e.source.kind, e.source.stage) for e in copies] == [(SourceKind.STAGE, 0)]


def test_copy_from_a_later_stage_of_only_heredocs_is_still_a_forward_reference():
    text = "FROM alpine AS first\nCOPY --from=b <<EOF /x\nhi\nEOF\nFROM alpine AS b\n"
    message = 'cannot copy from stage "b", it needs to be defined before current stage "first"'
    assert errs(analyze(text, target="first")) == [(message, 2)]
