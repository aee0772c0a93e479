"""Graph rules (BuildKit ``instructions/parse.go`` and ``dockerfile2llb``), one test per rule.

Sections 2 and 3 of ``docs/buildkit-semantics.md``; file paths below are in
moby/buildkit: ``C/`` = ``frontend/dockerfile/dockerfile2llb/``, ``I/`` =
``frontend/dockerfile/instructions/``.
"""

from __future__ import annotations

import pytest

from webapp import config
from webapp.analysis import analyze, classify_source
from webapp.errors import DockerfileError, InputTooLarge, UnreadableInput
from webapp.instructions import parse_mount
from webapp.model import BaseKind, EdgeKind, Severity, SourceKind


def errs(graph) -> list[tuple[str, int | None]]:
    return [(d.message, d.line) for d in graph.diagnostics if d.severity is Severity.ERROR]


def codes(graph, severity=Severity.WARNING) -> list[tuple[str, int | None]]:
    return [(d.code, d.line) for d in graph.diagnostics if d.severity is severity]


def edges(graph, kind: EdgeKind | None = None) -> list[tuple]:
    """(kind, source kind, stage or ref, target, line, onbuild) of every edge (FROM edges optional)."""
    out = []
    for e in graph.edges:
        if kind is not None and e.kind is not kind:
            continue
        where = e.source.stage if e.source.kind is SourceKind.STAGE else e.source.ref
        out.append((e.kind.value, e.source.kind.value, where, e.target, e.line, e.onbuild))
    return out


def bases(graph) -> list[tuple]:
    return [
        (s.base.kind.value, s.base.stage if s.base.kind is BaseKind.STAGE else s.base.image)
        for s in graph.stages
    ]


# --- 2.1 stages and the preamble ------------------------------------------------------------------


def test_stages_in_from_order_with_lower_cased_names():
    g = analyze("FROM alpine AS Build\nRUN a\nFROM alpine as test\nFROM alpine\n")
    assert [(s.index, s.name, s.name_as_written, s.display_name) for s in g.stages] == [
        (0, "build", "Build", "build"),
        (1, "test", "test", "test"),
        (2, None, None, "stage-2"),
    ]
    assert ("StageNameCasing", 1) in codes(g)


def test_instruction_before_first_from_is_an_error():
    g = analyze("RUN x\nFROM alpine\n")
    assert errs(g) == [("no build stage in current context", 1)]


def test_meta_args_before_first_from_are_fine():
    g = analyze("ARG A=1\nARG B\nFROM alpine\n")
    assert errs(g) == []
    assert [(a.name, a.default, a.value, a.line) for a in g.global_args] == [
        ("A", "1", "1", 1),
        ("B", None, None, 2),
    ]


def test_file_without_from_has_no_stages_error():
    g = analyze("ARG A=1\n")
    assert errs(g) == [("dockerfile contains no stages to build", None)]
    assert g.target is None and g.stages == ()


def test_unknown_instruction_is_an_error_with_the_word_as_written():
    assert errs(analyze("FROM alpine\nfrom_ x\n")) == [("unknown instruction: from_", 2)]


@pytest.mark.parametrize("line", ["FROM", "FROM a b", "FROM a AS", "FROM a AS b c"])
def test_from_needs_one_or_three_arguments(line):
    assert ("FROM requires either one or three arguments", 1) in errs(analyze(line + "\n"))


@pytest.mark.parametrize("name", ["1st", "my/stage", "a:b", "-x"])
def test_invalid_stage_names(name):
    message = errs(analyze(f"FROM alpine AS {name}\n"))[0][0]
    assert (
        message
        == f'invalid name for build stage: "{name}", name can\'t start with a number or contain symbols'
    )


def test_from_as_keyword_in_any_case():
    g = analyze("FROM alpine aS x\n")
    assert g.stages[0].name == "x"


# --- 2.3 flags ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("COPY --nope a b", "unknown flag: --nope"),
        ("ADD --from=x a b", "unknown flag: --from"),  # ADD has no --from
        ("USER --x=1 bob", "unknown flag: --x"),
        ("COPY --from=a --from=b x y", "duplicate flag specified: --from"),
        ("COPY --link=maybe a b", "expecting boolean value for flag --link, not: maybe"),
        ("COPY --chown a b", "missing a value on flag: --chown"),
    ],
)
def test_flag_errors(line, message):
    assert errs(analyze(f"FROM alpine AS a\n{line}\n")) == [(message, 2)]


@pytest.mark.parametrize(
    "line",
    [
        "ARG --anything=1 X",
        "STOPSIGNAL --what SIGTERM",
        "COPY --link=TRUE --exclude=a --exclude=b a b",
        "RUN --mount=type=cache,target=/c --mount=type=tmpfs,target=/t --network=none x",
        "HEALTHCHECK --interval=5s --retries=3 CMD true",
    ],
)
def test_accepted_or_ignored_flags(line):
    assert errs(analyze(f"FROM alpine\n{line}\n")) == []


# --- 3.1 meta args and builtin platform args ------------------------------------------------------


@pytest.mark.parametrize(
    ("platform", "expected"),
    [
        ("linux/amd64", "x-linux/amd64-linux-amd64-none"),
        ("linux/arm64", "x-linux/arm64-linux-arm64-none"),
        ("linux/arm/v7", "x-linux/arm/v7-linux-arm-v7"),
        ("windows/amd64", "x-windows/amd64-windows-amd64-none"),
        # containerd platforms.Normalize (vendor/github.com/containerd/platforms/database.go):
        ("linux/arm64/v8", "x-linux/arm64-linux-arm64-none"),
        ("linux/aarch64", "x-linux/arm64-linux-arm64-none"),
        ("linux/x86_64", "x-linux/amd64-linux-amd64-none"),
        ("linux/arm", "x-linux/arm/v7-linux-arm-v7"),
        ("linux/armel", "x-linux/arm/v6-linux-arm-v6"),
        ("linux/arm/7", "x-linux/arm/v7-linux-arm-v7"),
        ("linux/arm64/9.0", "x-linux/arm64/v9-linux-arm64-v9"),
    ],
)
def test_builtin_platform_args_follow_the_normalised_target_platform(platform, expected):
    text = "FROM x-$TARGETPLATFORM-$TARGETOS-$TARGETARCH-${TARGETVARIANT:-none}\n"
    assert analyze(text, platform=platform).stages[0].base.resolved == expected


def test_build_platform_args_are_defined():
    g = analyze("FROM img-$BUILDOS-$BUILDARCH\n", platform="linux/arm64")
    assert g.stages[0].base.resolved == "img-linux-amd64"
    assert codes(g) == []


def test_targetstage_is_the_target_as_written_else_the_last_stage_name_else_default():
    # Checked with BuildKit: no --target -> the last stage's (lower-cased) name, or "default"
    # when it is unnamed; --target -> the value as the user wrote it.
    text = "FROM alpine AS one\nFROM img-$TARGETSTAGE AS Two\n"
    assert analyze(text).stages[1].base.resolved == "img-two"
    assert analyze(text, target="TWO").stages[1].base.resolved == "img-TWO"
    unnamed = "FROM alpine AS one\nFROM img-$TARGETSTAGE\n"
    assert analyze(unnamed).stages[1].base.resolved == "img-default"


def test_meta_arg_default_used_when_no_build_arg():
    assert analyze("ARG V=3.20\nFROM alpine:$V\n").stages[0].base.image == "docker.io/library/alpine:3.20"


def test_build_arg_overrides_the_default():
    g = analyze("ARG V=3.20\nFROM alpine:$V\n", build_args={"V": "3.19"})
    assert g.stages[0].base.image == "docker.io/library/alpine:3.19"
    assert g.global_args[0].value == "3.19"


def test_build_arg_for_an_undeclared_name_does_not_reach_from():
    g = analyze("FROM alpine:${V:-1}\n", build_args={"V": "2"})
    assert g.stages[0].base.image == "docker.io/library/alpine:1"


def test_meta_arg_chains_expand_in_order():
    g = analyze("ARG V=1.22\nARG IMG=golang:${V}-alpine\nFROM $IMG\n")
    assert g.stages[0].base.image == "docker.io/library/golang:1.22-alpine"


def test_meta_arg_can_redefine_a_builtin():
    g = analyze("ARG TARGETOS=windows\nFROM img-$TARGETOS\n", platform="linux/arm64")
    assert g.stages[0].base.resolved == "img-windows"


def test_meta_arg_without_default_stays_unset():
    g = analyze("ARG V\nFROM alpine${V:+:$V}\n")
    assert g.stages[0].base.image == "docker.io/library/alpine:latest"
    assert codes(g) == []


def test_stage_args_never_reach_from():
    g = analyze("FROM alpine AS a\nARG V=3.20\nFROM alpine:${V:-edge}\n")
    assert g.stages[1].base.image == "docker.io/library/alpine:edge"


def test_undefined_arg_in_from_is_a_warning():
    g = analyze("FROM alpine$VERSION\n")
    assert ("UndefinedArgInFrom", 1) in codes(g)
    assert g.stages[0].base.image == "docker.io/library/alpine:latest"


def test_empty_tag_after_expansion_is_an_invalid_reference():
    g = analyze("FROM alpine:$VERSION\n")
    assert errs(g) == [('failed to parse stage name "alpine:": invalid reference format', 1)]


# --- 3.2 FROM expansion ---------------------------------------------------------------------------


def test_blank_base_is_an_error():
    g = analyze("ARG EMPTY=\nFROM ${EMPTY}\n")
    assert errs(g) == [("base name (${EMPTY}) should not be blank", 2)]
    assert g.stages[0].base.kind is BaseKind.INVALID


def test_bad_substitution_in_from_is_an_error():
    g = analyze("FROM ${}\n")
    assert errs(g) == [('failed to process "${}": syntax error: bad substitution', 1)]


def test_platform_flag_is_expanded():
    g = analyze("FROM --platform=$BUILDPLATFORM alpine\n")
    assert g.stages[0].platform == "linux/amd64"


# --- 3.3 is the base a stage? ---------------------------------------------------------------------


def test_from_earlier_stage_by_lower_case_name():
    g = analyze("FROM alpine AS Builder\nFROM builder\n")
    assert bases(g)[1] == ("stage", 0)


def test_from_with_upper_case_is_an_image_and_a_lowercase_error():
    # addState looks the expanded base up with an exact key; keys are lower-cased (moby/buildkit#2003).
    g = analyze("FROM alpine AS builder\nFROM Builder\n")
    assert g.stages[1].base.kind is BaseKind.IMAGE
    assert errs(g) == [
        (
            'failed to parse stage name "Builder": invalid reference format: repository name '
            "(library/Builder) must be lowercase",
            2,
        )
    ]


def test_from_a_later_stage_name_is_an_image_with_a_warning():
    g = analyze("FROM base\nFROM alpine AS base\n")
    assert bases(g)[0] == ("image", "docker.io/library/base:latest")
    assert ("stage-defined-later", 1) in codes(g)


def test_duplicate_names_from_takes_the_most_recent_earlier_stage():
    g = analyze("FROM alpine AS x\nFROM debian AS x\nFROM x\nFROM busybox AS x\n", target="x")
    assert bases(g)[2] == ("stage", 1)
    assert ("DuplicateStageName", 2) in codes(g)


def test_from_tagged_or_qualified_stage_name_is_an_image():
    g = analyze("FROM alpine AS b\nFROM b:latest\nFROM docker.io/library/b\n")
    assert [k for k, _ in bases(g)] == ["image", "image", "image"]


def test_from_arg_expanded_stage_name_depends_on_the_platform():
    text = "FROM alpine AS bin-linux\nFROM alpine AS bin-windows\nFROM bin-$TARGETOS\n"
    assert bases(analyze(text))[2] == ("stage", 0)
    assert bases(analyze(text, platform="windows/amd64"))[2] == ("stage", 1)


def test_scratch_is_special_only_in_lower_case():
    g = analyze("FROM scratch\nFROM SCRATCH\n")
    assert g.stages[0].base.kind is BaseKind.SCRATCH
    assert edges(g, EdgeKind.FROM)[0][1] == "scratch"
    assert errs(g) == [
        (
            'failed to parse stage name "SCRATCH": invalid reference format: repository name '
            "(library/SCRATCH) must be lowercase",
            2,
        )
    ]


def test_from_zero_is_the_image_0():
    assert bases(analyze("FROM alpine\nFROM 0\n"))[1] == ("image", "docker.io/library/0:latest")


def test_from_stage_named_scratch_warns_reserved():
    g = analyze("FROM alpine AS scratch\n")
    assert ("ReservedStageName", 1) in codes(g)


# --- 3.4 COPY --from ------------------------------------------------------------------------------

THREE = "FROM alpine AS zero\nFROM alpine AS one\nFROM alpine AS two\n"


@pytest.mark.parametrize(("value", "stage"), [("0", 0), ("+1", 1), ("000", 0), ("01", 1), ("+2", 2)])
def test_copy_from_index(value, stage):
    g = analyze(THREE + f"COPY --from={value} /a /b\n")
    assert edges(g, EdgeKind.COPY) == [("copy", "stage", stage, 2, 4, False)]


@pytest.mark.parametrize(("value", "index"), [("-1", -1), ("3", 3), ("007", 7)])
def test_copy_from_invalid_index(value, index):
    g = analyze(THREE + f"COPY --from={value} /a /b\n")
    assert errs(g) == [(f"invalid stage index {index}", 4)]


def test_copy_from_index_past_stages_hits_an_implicit_image_state():
    # Every COPY --from=<image> appends a state after the stages (C/convert.go toCommand), so
    # index 2 in a two-stage file is that image.
    text = "FROM alpine AS a\nCOPY --from=nginx /x /x\nFROM alpine\nCOPY --from=2 /y /y\n"
    g = analyze(text)
    assert errs(g) == []
    assert edges(g, EdgeKind.COPY)[1] == ("copy", "image", "docker.io/library/nginx:latest", 1, 4, False)


def test_copy_from_mount_without_from_appends_a_scratch_state():
    text = "FROM alpine AS a\nRUN --mount=type=cache,target=/c x\nFROM alpine\nCOPY --from=2 /y /y\n"
    g = analyze(text)
    assert errs(g) == []
    assert edges(g, EdgeKind.COPY)[0][1] == "scratch"


def test_copy_from_name_is_case_insensitive():
    g = analyze("FROM alpine AS Build\nFROM alpine\nCOPY --from=BUILD /a /b\nCOPY --from=build /a /b\n")
    assert [e[2] for e in edges(g, EdgeKind.COPY)] == [0, 0]


def test_copy_from_duplicate_name_takes_the_last_stage():
    g = analyze("FROM alpine AS x\nFROM alpine AS x\nFROM alpine\nCOPY --from=x /a /b\n")
    assert edges(g, EdgeKind.COPY)[0][2] == 1


def test_copy_from_image_with_closest_stage_suggestion():
    g = analyze("FROM golang AS build\nFROM alpine\nCOPY --from=builder /a /b\n")
    assert edges(g, EdgeKind.COPY) == [("copy", "image", "docker.io/library/builder:latest", 1, 3, False)]
    messages = [d.message for d in g.diagnostics if d.code == "unknown-stage"]
    assert len(messages) == 1
    assert "is not a stage name" in messages[0] and "'build'" in messages[0]
    assert errs(g) == []


def test_copy_from_scratch_is_empty_without_warning():
    g = analyze("FROM alpine\nCOPY --from=scratch /a /b\n")
    assert edges(g, EdgeKind.COPY)[0][1] == "scratch"
    assert codes(g) == []


def test_copy_from_tagged_image():
    g = analyze("FROM alpine\nCOPY --from=nginx:1.27 /a /b\n")
    assert edges(g, EdgeKind.COPY)[0][:3] == ("copy", "image", "docker.io/library/nginx:1.27")


@pytest.mark.parametrize("value", ["$X", "${X}", "stage-${V:-a}", "'$X'"])
def test_copy_from_variable_is_an_error(value):
    g = analyze(f"ARG X=a\nFROM alpine AS a\nFROM alpine\nCOPY --from={value} /a /b\n")
    assert errs(g) == [
        (
            "variable expansion is not supported for --from, define a new stage with FROM using ARG "
            "from global scope as a workaround",
            4,
        )
    ]


def test_copy_from_quotes_are_stripped_in_the_lexer_so_the_name_resolves():
    g = analyze('FROM alpine AS a\nFROM alpine\nCOPY --from="a" /a /b\n')
    assert edges(g, EdgeKind.COPY)[0][:3] == ("copy", "stage", 0)


def test_copy_from_upper_case_image_is_an_error_even_when_unreachable():
    # The implicit image state is resolved for every stage (resolveReachableStages/resolveBaseImage
    # parse the name before checking reachability).
    g = analyze("FROM alpine AS a\nCOPY --from=Nope /a /b\nFROM alpine\n")
    assert [m for m, _ in errs(g)] == [
        'failed to parse stage name "Nope": invalid reference format: repository name (library/Nope) '
        "must be lowercase"
    ]


def test_forward_copy_reference_errors_only_when_reachable():
    text = "FROM alpine AS a\nCOPY --from=b /x /x\nFROM alpine AS b\nFROM alpine AS c\n"
    assert errs(analyze(text)) == []
    assert errs(analyze(text, target="a")) == [
        ('cannot copy from stage "b", it needs to be defined before current stage "a"', 2)
    ]


def test_self_copy_is_a_cycle():
    g = analyze("FROM alpine AS a\nCOPY --from=a /x /x\nFROM alpine\n")
    assert ("circular dependency detected on stage: a", 2) in errs(g)


def test_cycle_is_an_error_for_every_stage_even_unreachable():
    text = "FROM alpine AS x\nCOPY --from=y a b\nFROM alpine AS y\nCOPY --from=x a b\nFROM alpine\n"
    assert any(m == "circular dependency detected on stage: x" for m, _ in errs(analyze(text)))


# --- 3.5 RUN --mount ------------------------------------------------------------------------------


def test_mount_from_stage_by_name():
    g = analyze("FROM alpine AS Tools\nFROM alpine\nRUN --mount=type=bind,from=tools,target=/t ls\n")
    e = [x for x in g.edges if x.kind is EdgeKind.MOUNT][0]
    assert (e.source.kind, e.source.stage, e.mount_type, e.mount_target) == (
        SourceKind.STAGE,
        0,
        "bind",
        "/t",
    )


def test_mount_from_has_no_index_support():
    g = analyze("FROM alpine\nFROM alpine\nRUN --mount=from=0,target=/t ls\n")
    assert edges(g, EdgeKind.MOUNT) == [("mount", "image", "docker.io/library/0:latest", 1, 3, False)]
    assert ("mount-index", 3) in codes(g)


def test_bind_mount_without_from_is_the_build_context():
    g = analyze("FROM alpine\nRUN --mount=target=/src make\n")
    assert edges(g, EdgeKind.MOUNT) == [("mount", "context", None, 0, 2, False)]


@pytest.mark.parametrize(
    "mount", ["type=cache,target=/c", "type=secret,id=s", "type=ssh", "type=tmpfs,target=/t"]
)
def test_mounts_without_a_source(mount):
    assert edges(analyze(f"FROM alpine\nRUN --mount={mount} x\n"), EdgeKind.MOUNT) == []


def test_cache_mount_from_a_stage_seeds_it():
    g = analyze("FROM alpine AS seed\nFROM alpine\nRUN --mount=type=cache,from=seed,target=/c x\n")
    assert edges(g, EdgeKind.MOUNT)[0][:3] == ("mount", "stage", 0)


@pytest.mark.parametrize("value", ["$X", "${X}", "a$X"])
def test_mount_from_variable_is_an_error(value):
    g = analyze(f"FROM alpine\nRUN --mount=from={value},target=/t x\n")
    assert errs(g) == [("'from' doesn't support variable expansion, define alias stage instead", 2)]


def test_mount_from_ending_in_dollar_is_not_a_variable():
    # Only a `$` before the last character is refused; `img$` then fails as an image reference.
    g = analyze("FROM alpine\nRUN --mount=from=img$,target=/t x\n")
    assert errs(g) == [('failed to parse stage name "img$": invalid reference format', 2)]


def test_secret_mount_with_from_is_an_error():
    assert errs(analyze("FROM alpine\nRUN --mount=type=secret,from=x,id=s x\n")) == [
        ("secret mount should not have a from", 2)
    ]


def test_mount_forward_reference_errors_only_when_reachable():
    text = "FROM alpine AS a\nRUN --mount=from=b,target=/t x\nFROM alpine AS b\nFROM alpine\n"
    assert errs(analyze(text)) == []
    assert errs(analyze(text, target="a")) == [
        ('cannot mount from stage "b" to "/t", stage needs to be defined before current command', 2)
    ]


def test_parse_mount_keys_case_insensitive_and_quoted_csv():
    mount = parse_mount('Type=bind,FROM=x,"target=/a,b"')
    assert (mount.type, mount.source_from, mount.target) == ("bind", "x", "/a,b")


# --- 3.6 ADD / COPY sources -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("word", "kind"),
    [
        ("https://example.com/a.tgz", SourceKind.URL),
        ("http://example.com/a", SourceKind.URL),
        ("git@github.com:o/r.git", SourceKind.GIT),
        ("git://host/r", SourceKind.GIT),
        ("ssh://git@host/r", SourceKind.GIT),
        ("https://github.com/o/r.git", SourceKind.GIT),
        ("https://github.com/o/r.git#v1:dir", SourceKind.GIT),
        ("github.com/o/r", SourceKind.CONTEXT),
        ("./src", SourceKind.CONTEXT),
        ("src/*.go", SourceKind.CONTEXT),
        (".", SourceKind.CONTEXT),
    ],
)
def test_classify_source(word, kind):
    assert classify_source(word) is kind


def test_add_url_and_git_edges():
    g = analyze("FROM alpine\nADD https://e.com/a.tgz /\nADD git@github.com:o/r.git /r\nADD src /s\n")
    assert edges(g, EdgeKind.ADD) == [
        ("add", "url", "https://e.com/a.tgz", 0, 2, False),
        ("add", "git", "git@github.com:o/r.git", 0, 3, False),
        ("add", "context", None, 0, 4, False),
    ]
    assert errs(g) == []


def test_copy_of_a_url_is_an_error_only_when_reachable():
    text = "FROM alpine AS a\nCOPY https://e.com/x /x\nFROM alpine\n"
    assert errs(analyze(text)) == []
    assert errs(analyze(text, target="a")) == [("source can't be a URL for COPY", 2)]


def test_copy_of_a_git_ref_is_an_error_when_reachable():
    assert errs(analyze("FROM alpine\nCOPY git@github.com:o/r.git /x\n")) == [
        ("source can't be a git ref for COPY", 2)
    ]


def test_add_source_expanded_with_stage_args():
    g = analyze("FROM alpine\nARG URL=https://e.com/a.tgz\nADD $URL /\n")
    assert edges(g, EdgeKind.ADD) == [("add", "url", "https://e.com/a.tgz", 0, 3, False)]


def test_heredoc_sources_are_inline_with_no_context_edge():
    g = analyze("FROM alpine\nCOPY <<EOF /x\nhello\nEOF\nRUN true\n")
    assert edges(g, EdgeKind.COPY) == []
    assert g.stages[0].instructions[0].end_line == 4


def test_heredoc_and_local_source_gives_one_context_edge():
    g = analyze("FROM alpine\nCOPY <<EOF a.txt /x/\nhi\nEOF\n")
    assert edges(g, EdgeKind.COPY) == [("copy", "context", None, 0, 2, False)]


def test_heredoc_as_destination_is_an_error():
    assert errs(analyze("FROM alpine\nCOPY a <<EOF\nx\nEOF\n")) == [
        ("COPY cannot accept a heredoc as a destination", 2)
    ]


def test_copy_needs_two_arguments():
    assert errs(analyze("FROM alpine\nCOPY onlyone\n")) == [
        (
            "COPY requires at least two arguments, but only one was provided. "
            "Destination could not be determined",
            2,
        )
    ]


# --- 3.9 ONBUILD ----------------------------------------------------------------------------------

ONBUILD = (
    "FROM alpine AS assets\n"  # 1
    "FROM alpine AS base\n"  # 2
    "ONBUILD COPY --from=assets /a /a\n"  # 3
    "ONBUILD RUN --mount=from=assets,target=/m ls\n"  # 4
    "FROM base AS app\n"  # 5
    "FROM app\n"  # 6
)


def test_onbuild_triggers_are_inherited_one_level_with_edges_at_the_onbuild_line():
    g = analyze(ONBUILD)
    assert [s.onbuild_inherited for s in g.stages] == [0, 0, 2, 0]
    onbuild = [e for e in edges(g) if e[5]]
    assert onbuild == [("copy", "stage", 0, 2, 3, True), ("mount", "stage", 0, 2, 4, True)]


def test_onbuild_sources_make_the_source_stage_reachable():
    g = analyze(ONBUILD)
    assert [s.reachable for s in g.stages] == [True, True, True, True]


def test_onbuild_trigger_on_a_base_image_stage_makes_no_edge_in_that_stage():
    g = analyze("FROM alpine AS a\nFROM alpine\nONBUILD COPY --from=a /x /x\n")
    assert edges(g, EdgeKind.COPY) == []
    assert [s.reachable for s in g.stages] == [False, True]


@pytest.mark.parametrize(
    ("trigger", "message"),
    [
        ("ONBUILD ONBUILD RUN x", "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed"),
        ("ONBUILD FROM alpine", "FROM isn't allowed as an ONBUILD trigger"),
        ("ONBUILD MAINTAINER me", "MAINTAINER isn't allowed as an ONBUILD trigger"),
        ("ONBUILD", "ONBUILD requires at least one argument"),
    ],
)
def test_onbuild_trigger_keyword_errors(trigger, message):
    assert errs(analyze(f"FROM alpine\n{trigger}\n")) == [(message, 2)]


def test_onbuild_trigger_body_is_not_validated_on_the_declaring_stage():
    # I/parse.go parseOnBuild only checks the trigger keyword; the trigger text is parsed when a
    # reachable child stage inherits it (C/convert.go resolveStages -> initOnBuildTriggers).
    assert errs(analyze("FROM alpine\nONBUILD COPY onlyone\n")) == []
    assert errs(analyze("FROM alpine\nONBUILD FOOBAR x\n")) == []


def test_onbuild_trigger_errors_only_for_a_reachable_child():
    # initOnBuildTriggers runs for reachable stages only, so `invalid stage index` from an inherited
    # trigger is not raised when the child is not built.
    text = "FROM alpine AS a\nONBUILD COPY --from=9 x y\nFROM a AS b\nFROM alpine AS c\n"
    assert errs(analyze(text)) == []
    assert [m for m, _ in errs(analyze(text, target="b"))] == ["invalid stage index 9"]


def test_inherited_trigger_build_errors_are_located_at_the_child_from():
    # Checked with BuildKit (oracle): a COPY of a URL in an inherited trigger fails the child's
    # build at the child's FROM line, and only when the child is built.
    text = "FROM alpine AS a\nONBUILD COPY https://example.com/x /y\nFROM a AS b\nFROM alpine\n"
    assert errs(analyze(text)) == []
    assert errs(analyze(text, target="b")) == [("source can't be a URL for COPY", 3)]


# --- 3.8 target and reachability ------------------------------------------------------------------


def test_default_target_is_the_last_stage():
    g = analyze("FROM alpine AS a\nFROM alpine AS b\n")
    assert g.target == 1
    assert [s.reachable for s in g.stages] == [False, True]


def test_target_is_case_insensitive():
    assert analyze("FROM alpine AS Build\nFROM alpine\n", target="BUILD").target == 0


def test_unknown_target_is_an_error_with_suggestion():
    g = analyze("FROM alpine AS build\nFROM alpine\n", target="biuld")
    assert [m for m, _ in errs(g)] == ['target stage "biuld" could not be found (did you mean build?)']


def test_reachability_follows_from_copy_and_mount_recursively():
    text = (
        "FROM alpine AS a\n"
        "FROM a AS b\n"
        "FROM alpine AS c\n"
        "COPY --from=b /x /x\n"
        "FROM alpine AS d\n"
        "RUN --mount=from=c,target=/c x\n"
        "FROM alpine AS unused\n"
    )
    g = analyze(text, target="d")
    assert [s.reachable for s in g.stages] == [True, True, True, True, False]
    assert ("unused-stage", 7) in codes(g, Severity.INFO)


# --- layers and ships() ---------------------------------------------------------------------------


def test_layers_count_run_copy_add():
    g = analyze("FROM alpine\nRUN a\nCOPY a b\nADD c d\nENV X=1\nWORKDIR /w\nCMD x\n")
    assert g.stages[0].layer_count == 3
    assert [i.layer for i in g.stages[0].instructions] == [True, True, True, False, False, False]


def test_ships_follows_the_base_chain_and_lists_build_only_stages():
    text = (
        "FROM golang AS build\nRUN go build\n"
        "FROM alpine AS base\nRUN apk add x\n"
        "FROM base AS final\nCOPY --from=build /app /app\nRUN chmod +x /app\n"
        "FROM alpine AS other\n"
    )
    ships = analyze(text, target="final").ships()
    assert ships == {
        "target": 2,
        "base_chain": [2, 1],
        "image": "docker.io/library/alpine:latest",
        "layers": 3,
        "build_only": [0],
    }


def test_ships_from_scratch():
    assert analyze("FROM scratch\nCOPY a /a\n").ships()["image"] == "scratch"


# --- input limits ---------------------------------------------------------------------------------


def limits(**overrides):
    values = {s.name: s.default for s in config.SETTINGS}
    values.update(overrides)
    return values


def test_too_many_bytes():
    with pytest.raises(InputTooLarge):
        analyze(b"FROM alpine\n" + b"#" * 200, settings=limits(MAX_INPUT_BYTES=100))
    with pytest.raises(InputTooLarge):
        analyze("FROM alpine\n" + "é" * 60, settings=limits(MAX_INPUT_BYTES=100))


def test_too_many_stages():
    with pytest.raises(InputTooLarge):
        analyze("FROM a\n" * 4, settings=limits(MAX_STAGES=3))
    assert len(analyze("FROM a\n" * 3, settings=limits(MAX_STAGES=3)).stages) == 3


def test_too_many_instructions():
    with pytest.raises(InputTooLarge):
        analyze("FROM a\n" + "RUN x\n" * 10, settings=limits(MAX_INSTRUCTIONS=10))


def test_bad_utf8_reports_its_line():
    with pytest.raises(UnreadableInput) as info:
        analyze(b"FROM alpine\nRUN echo \xff\n")
    assert info.value.line == 2


def test_nul_byte_is_refused_with_its_line():
    with pytest.raises(UnreadableInput) as info:
        analyze("FROM alpine\n\nRUN a\0b\n")
    assert info.value.line == 3


def test_errors_are_dockerfile_errors():
    assert issubclass(UnreadableInput, DockerfileError) and issubclass(InputTooLarge, DockerfileError)


# --- Windows files --------------------------------------------------------------------------------


WINDOWS = (
    "# escape=`\n"
    "ARG BASE=mcr.microsoft.com/windows/nanoserver:ltsc2022\n"
    "FROM $BASE AS build\n"
    "WORKDIR C:\\src\n"
    "RUN mkdir C:\\out `\n"
    "    && echo done\n"
    "FROM $BASE\n"
    "COPY --from=build C:\\out C:\\app\n"
)


def test_windows_backtick_file():
    g = analyze(WINDOWS)
    assert errs(g) == []
    assert [(i.keyword, i.line, i.end_line) for i in g.stages[0].instructions] == [
        ("WORKDIR", 4, 4),
        ("RUN", 5, 6),
    ]
    assert bases(g) == [
        ("image", "mcr.microsoft.com/windows/nanoserver:ltsc2022"),
        ("image", "mcr.microsoft.com/windows/nanoserver:ltsc2022"),
    ]
    assert edges(g, EdgeKind.COPY) == [("copy", "stage", 0, 1, 8, False)]


def test_backtick_escape_in_from_expansion():
    g = analyze("# escape=`\nARG V=1\nFROM alpine:`$V\n")
    assert g.stages[0].base.resolved == "alpine:$V"


def test_arg_parameterised_stage_with_conditional_expansion_and_build_args():
    text = (
        "ARG GPU\n"
        "FROM alpine AS app-cpu\n"
        "FROM alpine AS app-gpu-nvidia\n"
        "FROM app-${GPU:+gpu-}${GPU:-cpu} AS final\n"
    )
    assert bases(analyze(text))[2] == ("stage", 0)
    assert bases(analyze(text, build_args={"GPU": "nvidia"}))[2] == ("stage", 1)
    assert bases(analyze(text, build_args={"GPU": "amd"}))[2] == (
        "image",
        "docker.io/library/app-gpu-amd:latest",
    )


def test_platform_parameterised_target_chain_changes_what_ships():
    text = (
        "FROM --platform=$BUILDPLATFORM golang AS build\n"
        "FROM build AS bin-linux\nRUN make\n"
        "FROM build AS bin-windows\nRUN make.bat\nRUN sign\n"
        "FROM bin-${TARGETOS} AS release\n"
    )
    linux = analyze(text, platform="linux/arm64")
    windows = analyze(text, platform="windows/amd64")
    assert linux.ships()["base_chain"] == [3, 1, 0] and linux.ships()["layers"] == 1
    assert windows.ships()["base_chain"] == [3, 2, 0] and windows.ships()["layers"] == 2
    assert [s.reachable for s in linux.stages] == [True, True, False, True]
    assert linux.stages[0].platform == "linux/amd64"


def test_model_values_stay_frozen_with_their_defaults():
    # the model's classes fill their slots directly (webapp.model._quick_init): same values
    import dataclasses

    from webapp.model import Diagnostic, Instruction, Severity

    ins = Instruction("RUN", 3, 4, "echo hi")
    assert (ins.flags, ins.args, ins.json, ins.heredocs, ins.sub, ins.source) == ((), (), False, (), None, "")
    same = Instruction("RUN", 3, 4, "echo hi")
    assert ins == same and hash(ins) == hash(same)
    with pytest.raises(dataclasses.FrozenInstanceError):
        ins.line = 5
    assert dataclasses.replace(ins, line=5).line == 5 and ins.line == 3
    diag = Diagnostic(Severity.ERROR, "x", "message", line=2)
    assert (diag.stage, diag.url, diag.end_line) == (None, None, None)


def test_many_distinct_remote_sources_are_read_in_linear_time():
    # one ADD of 60,000 distinct URLs (under 1 MiB): each was compared with every earlier one,
    # about 45 s; now the sources are kept in a dict
    import time

    text = "FROM alpine\nADD \\\n" + "".join(f"http://h/{i} \\\n" for i in range(60000)) + " /d\n"
    assert len(text.encode()) < 1024 * 1024
    analyze("FROM alpine")  # imports done before the clock starts
    start = time.perf_counter()
    graph = analyze(text)
    assert time.perf_counter() - start < 5
    adds = [e for e in graph.edges if e.kind is EdgeKind.ADD]
    assert (
        len(adds) == 60000 and adds[0].source.ref == "http://h/0" and adds[-1].source.ref == "http://h/59999"
    )


def test_unknown_stage_hints_are_bounded():
    # each hint compares the word with every stage name: 9000 warnings under 450 stages took ~10 s;
    # past analysis.MAX_SUGGEST_COMPARISONS names compared, warnings come without one
    import time

    from webapp import analysis

    text = "".join(f"FROM alpine AS stage{i}\n" for i in range(450))
    text += "".join(f"COPY --from=stage{i}x /a /b\n" for i in range(9000))
    analyze("FROM alpine")
    start = time.perf_counter()
    warnings = [d.message for d in analyze(text).diagnostics if d.code == "unknown-stage"]
    assert time.perf_counter() - start < 5
    assert len(warnings) == 9000
    hinted = [m for m in warnings if "did you mean" in m]
    assert hinted and hinted == warnings[: len(hinted)]
    assert len(hinted) <= analysis.MAX_SUGGEST_COMPARISONS // 450 + 1 < 9000
