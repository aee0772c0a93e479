"""Errors and graph facts checked one rule at a time against BuildKit itself.

Each case here was first asked of BuildKit's own Dockerfile frontend (the oracle in
``../shared/tools/buildkit-oracle``, moby/buildkit 73ed6825c4b7) with and without ``--target``;
the expected message, line and "which stages count" are what it answered. Parse errors fail every
build; dispatch errors (raised while BuildKit builds a stage) fail only builds that need the stage.
"""

from __future__ import annotations

import pytest

from webapp.analysis import analyze
from webapp.model import EdgeKind, Severity, SourceKind
from webapp.options import OptionError, Options


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


# --- platforms (containerd's platforms.Parse / Normalize) -----------------------------------------


@pytest.mark.parametrize(
    ("written", "stage_platform"),
    [
        ("Linux/AMD64", "linux/amd64"),
        ("darwin", "darwin/amd64"),
        ("arm64", "linux/arm64"),
        ("macos/x86_64", "darwin/amd64"),
        ("linux/arm64/v8", "linux/arm64/v8"),
        ("linux/arm", "linux/arm"),
    ],
)
def test_from_platform_is_parsed_as_containerd_does(written, stage_platform):
    g = analyze(f"FROM --platform={written} alpine\n")
    assert errs(g) == []
    assert g.stages[0].platform == stage_platform


@pytest.mark.parametrize(
    ("written", "reason"),
    [
        ("linux/amd64/v2/x", '"linux/amd64/v2/x": cannot parse platform specifier: invalid argument'),
        ("foo", '"foo": unknown operating system or architecture: invalid argument'),
        ("linux/*", '"linux/*": wildcards not yet supported: invalid argument'),
        (
            "notaplatform!",
            '"notaplatform!" is an invalid OS component of "notaplatform!": OSAndVersion specifier '
            'component must match "^([A-Za-z0-9_-]+)(?:\\\\(([A-Za-z0-9_.%-]*)((?:\\\\+[A-Za-z0-9_.%-]+)*)'
            '\\\\))?$": invalid argument',
        ),
        (
            "linux/am:d64",
            '"am:d64" is an invalid component of "linux/am:d64": platform specifier component must '
            'match "^[A-Za-z0-9_.-]+$": invalid argument',
        ),
    ],
)
def test_unparseable_from_platform_fails_even_in_a_stage_that_is_not_built(written, reason):
    text = f"FROM --platform={written} alpine AS a\nRUN true\nFROM alpine\n"
    assert errs(analyze(text)) == [(f"failed to parse platform {written}: {reason}", 1)]


def test_failed_platform_expansion_names_the_empty_result_then_the_word():
    g = analyze("FROM --platform=linux/${P:?noplat} alpine AS a\nFROM alpine\n")
    message = 'failed to process arguments for platform : failed to process "linux/${P:?noplat}": P: noplat'
    assert errs(g) == [(message, 1)]


def test_failed_base_and_meta_arg_expansion_use_buildkit_wording():
    g = analyze("FROM ${B:?nobase} AS a\nFROM alpine\n")
    assert errs(g) == [('failed to process "${B:?nobase}": B: nobase', 1)]
    g = analyze("ARG A=${X:?bad}\nFROM alpine\n")
    assert errs(g) == [('failed to process "${X:?bad}": X: bad', 1)]
    assert errs(analyze("ARG A=${X:?bad}\nFROM alpine\n", build_args={"A": "given"})) == []


@pytest.mark.parametrize(
    ("given", "target", "arch"),
    [
        ("Linux/ARM64", "linux/arm64", "arm64"),
        ("arm64", "linux/arm64", "arm64"),
        ("darwin", "darwin/amd64", "amd64"),
    ],
)
def test_target_platform_given_by_the_user_is_normalised(given, target, arch):
    g = analyze("ARG TARGETARCH\nFROM img-$TARGETARCH\n", platform=given)
    assert g.platform == target
    assert g.stages[0].base.resolved == f"img-{arch}"
    assert Options.from_mapping({"platform": given}).platform == target


@pytest.mark.parametrize("bad", ["../../etc", "not a platform", "linux/amd64/v2/x", "foo", "linux/amd64\n"])
def test_platform_option_refuses_what_containerd_refuses(bad):
    with pytest.raises(OptionError):
        Options.from_mapping({"platform": bad})
