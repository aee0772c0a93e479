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


# --- words BuildKit expands while building a stage ----------------------------------------------------


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            'COPY "a b /x',
            'failed to process "\\"a": unexpected end of statement while looking for matching double-quote',
        ),
        (
            "ADD 'a /x",
            'failed to process "\'a": unexpected end of statement while looking for matching single-quote',
        ),
        (
            'ENV A="x',
            'failed to process "\\"x": unexpected end of statement while looking for matching double-quote',
        ),
        (
            'ENV A "x',
            'failed to process "\\"x": unexpected end of statement while looking for matching double-quote',
        ),
        (
            'LABEL a="x',
            'failed to process "\\"x": unexpected end of statement while looking for matching double-quote',
        ),
        (
            "WORKDIR 'x",
            'failed to process "\'x": unexpected end of statement while looking for matching single-quote',
        ),
        (
            'USER "me',
            'failed to process "\\"me": unexpected end of statement while looking for matching double-quote',
        ),
        (
            'VOLUME "x',
            'failed to process "\\"x": unexpected end of statement while looking for matching double-quote',
        ),
        (
            'STOPSIGNAL "x',
            'failed to process "\\"x": unexpected end of statement while looking for matching double-quote',
        ),
        (
            'EXPOSE "80',
            'failed to process "\\"80": unexpected end of statement while looking for matching double-quote',
        ),
        (
            'ARG A="x',
            'failed to process "\\"x": unexpected end of statement while looking for matching double-quote',
        ),
    ],
    ids=[
        "copy",
        "add",
        "env",
        "env-legacy",
        "label",
        "workdir",
        "user",
        "volume",
        "stopsignal",
        "expose",
        "arg",
    ],
)
def test_unbalanced_quote_in_a_word_buildkit_expands(line, message):
    assert dispatch_error(line) == [(message, 2)]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("WORKDIR ${NOPE:?need a dir}", 'failed to process "${NOPE:?need a dir}": NOPE: need a dir'),
        ("USER ${NOPE:?}", 'failed to process "${NOPE:?}": NOPE: is not allowed to be unset'),
        ("ENV A=${NOPE:?bad}", 'failed to process "${NOPE:?bad}": NOPE: bad'),
        ("COPY ${NOPE:?no src} /x", "failed to process \"${NOPE:?no\": syntax error: missing '}'"),
        ("RUN --mount=type=${T:?notype} true", 'failed to process "${T:?notype}": T: notype'),
    ],
    ids=["workdir", "user", "env", "copy-split-word", "run-mount"],
)
def test_required_variable_that_is_unset(line, message):
    assert dispatch_error(line) == [(message, 2)]


def test_run_and_cmd_words_are_not_expanded_by_buildkit():
    assert errs(analyze(in_stage_a('RUN echo "x\nCMD echo "y'), target="a")) == []


def test_expansion_sees_the_stage_variables_and_build_args():
    assert errs(analyze("FROM alpine\nARG D=/srv\nWORKDIR ${D:?}\n")) == []
    assert errs(analyze("FROM alpine\nENV D=/srv\nFROM 0\nWORKDIR ${D:?}\n")) == [
        ('failed to process "${D:?}": D: is not allowed to be unset', 4)
    ]
    assert errs(analyze("FROM alpine AS a\nENV D=/srv\nFROM a\nWORKDIR ${D:?}\n")) == []
    # BuildKit always defines PATH
    assert errs(analyze("FROM scratch\nUSER ${PATH:?}\n")) == []
    # a build arg replaces an ARG default before it is expanded
    assert errs(analyze('FROM alpine\nARG A="x\n', build_args={"A": "v"})) == []


def test_env_pairs_are_expanded_with_the_values_from_before_the_instruction():
    g = analyze("FROM alpine\nENV a=old\nENV a=new b=$a\nCOPY $b /x\n")
    assert [e.source.text for e in g.edges if e.kind is EdgeKind.COPY] == [None]
    text = "FROM alpine\nENV a=1 b=${a:?}\n"
    assert errs(analyze(text)) == [('failed to process "${a:?}": a: is not allowed to be unset', 2)]


# --- values BuildKit validates while building a stage -----------------------------------------------


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("EXPOSE 80-abc", "invalid containerPort: 80-abc"),
        ("EXPOSE 80/xyz", 'invalid port: "80/xyz": invalid proto: xyz'),
        ("EXPOSE 90-80", "invalid containerPort: 90-80"),
        ("EXPOSE 70000", "invalid containerPort: 70000"),
        ("EXPOSE 1.2.3:80:80", "invalid IP address: 1.2.3"),
        ("EXPOSE 80-81:90-99", "invalid ranges specified for container and host Ports: 90-99 and 80-81"),
        ('VOLUME ""', "VOLUME specified can not be an empty string"),
        ("VOLUME /a $NOPE", "VOLUME specified can not be an empty string"),
        ("STOPSIGNAL FOO", "invalid signal: FOO"),
        ("STOPSIGNAL 0", "invalid signal: 0"),
        ("COPY --chmod=xyz a /x", "invalid syntax"),
        (
            "COPY --chmod=0999 a /x",
            "invalid chmod parameter: '0999'. it should be octal string and between 0 and 07777",
        ),
        (
            "ADD --chmod=17777 a /x",
            "invalid chmod parameter: '17777'. it should be octal string and between 0 and 07777",
        ),
        ("ADD --checksum=sha256:abc https://example.com/x /x", "invalid checksum digest length"),
        ("ADD --checksum=md5:abc https://example.com/x /x", "unsupported digest algorithm"),
        ("ADD --checksum=nope https://example.com/x /x", "invalid checksum digest format"),
        ("ADD --checksum=sha256:" + "0" * 64 + " a /x", "checksum requires HTTP(S) or Git sources"),
        (
            "ADD --checksum=sha256:" + "0" * 64 + " https://e.com/a https://e.com/b /x",
            "checksum can't be specified for multiple sources",
        ),
    ],
)
def test_values_checked_while_building(line, message):
    assert dispatch_error(line) == [(message, 2)]


@pytest.mark.parametrize(
    "line",
    [
        "EXPOSE 80 443/udp 8000-8010/tcp 53/SCTP",
        "STOPSIGNAL SIGKILL",
        "STOPSIGNAL rtmin+3",
        "STOPSIGNAL 9",
        "COPY --chmod=0755 a /x",
        "COPY --chmod=u+x,g-w a /x",
        "COPY --chmod=a=rwX a /x",
        "ADD --checksum=sha256:" + "0" * 64 + " https://example.com/x /x",
        "RUN --mount=type=cache,target=/c,sharing=locked,mode=0755,uid=1 true",
        "RUN --mount=type=secret,id=s,required true",
        "RUN --mount=type=tmpfs,target=/t,size=64m true",
    ],
)
def test_valid_values_build(line):
    assert errs(analyze(in_stage_a(line), target="a")) == []


@pytest.mark.parametrize(
    ("mount", "message"),
    [
        ("type=bogus,target=/x", 'unsupported mount type "bogus"'),
        ("type=bnd,target=/x", 'unsupported mount type "bnd" (did you mean bind?)'),
        ("type=cache,target=/x,bogus=1", "unexpected key 'bogus' in 'bogus=1'"),
        (
            "type=cache,target=/x,sharng=shared",
            "unexpected key 'sharng' in 'sharng=shared' (did you mean sharing?)",
        ),
        ("type=secret,from=x,target=/x", "secret mount should not have a from"),
        ("type=bind,target=/x,mode=0755", 'mode not allowed for "bind" type mounts'),
        ("type=cache,target=/x,sharing=all", 'unsupported sharing value "all"'),
        ("type=bind,target=/x,required", "unexpected key 'required' for mount type 'bind'"),
        ("type=cache,target=/x,foo", "invalid field 'foo' must be a key=value pair"),
    ],
)
def test_run_mount_is_checked_only_when_the_stage_is_built(mount, message):
    assert dispatch_error(f"RUN --mount={mount} true") == [(message, 2)]


def test_inherited_trigger_is_dispatched_in_the_child_at_its_from():
    text = "FROM alpine AS a\nONBUILD WORKDIR ${W:?}\nFROM a AS b\nFROM alpine\n"
    assert errs(analyze(text)) == []
    assert errs(analyze(text, target="b")) == [
        ('failed to process "${W:?}": W: is not allowed to be unset', 3)
    ]


# --- errors of BuildKit's instruction parser: every stage counts -------------------------------------


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("RUN --network=bogus true", 'invalid network mode "bogus"'),
        ("RUN --security=bogus true", 'security "bogus" is not valid'),
    ],
)
def test_run_flags_buildkit_parses(line, message):
    assert errs(analyze(in_stage_a(line))) == [(message, 2)]


def test_valid_network_and_security_values():
    text = in_stage_a("RUN --network=none --security=insecure true\nRUN --network=host true")
    assert errs(analyze(text, target="a")) == []


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("HEALTHCHECK --interval=abc CMD true", 'time: invalid duration "abc"'),
        ("HEALTHCHECK --interval=1 CMD true", 'time: missing unit in duration "1"'),
        ("HEALTHCHECK --interval=1x CMD true", 'time: unknown unit "x" in duration "1x"'),
        ("HEALTHCHECK --timeout=999us CMD true", 'Interval "timeout" cannot be less than 1ms'),
        ("HEALTHCHECK --timeout=-1s CMD true", 'Interval "timeout" cannot be less than 1ms'),
        ("HEALTHCHECK --retries=-1 CMD true", "--retries cannot be negative (-1)"),
        ("HEALTHCHECK --retries=abc CMD true", 'strconv.ParseInt: parsing "abc": invalid syntax'),
        ("RUN --device=foo,bar true", "invalid field 'bar' must be a key=value pair"),
        ("RUN --device=name=a,name=b true", "device name already set to a"),
        ("RUN --device=a,nme=1 true", "unexpected key 'nme' in 'nme=1' (did you mean name?)"),
    ],
)
def test_instruction_flags_buildkit_parses(line, message):
    assert errs(analyze(in_stage_a(line))) == [(message, 2)]


def test_valid_healthcheck_flags():
    line = "HEALTHCHECK --interval=1.5s --timeout=.5s --start-period=1h2m3s --retries=+3 CMD true"
    assert errs(analyze(in_stage_a(line), target="a")) == []


def test_run_device_is_refused_when_built_by_the_mainline_frontend():
    message = "device feature is only supported in Dockerfile frontend 1.14.0-labs or later"
    assert dispatch_error("RUN --device=/dev/fuse true") == [(message, 2)]


def test_heredoc_sources_are_expanded_with_quotes_taken_literally():
    text = 'FROM alpine AS a\nCOPY <<EOF /x\n"${NOPE:?in quotes}"\nEOF\nFROM alpine\n'
    assert errs(analyze(text)) == []
    assert errs(analyze(text, target="a")) == [
        ('failed to process "\\"${NOPE:?in quotes}\\"\\n": NOPE: in quotes', 2)
    ]
    # a quoted delimiter turns expansion off, and the shell (not BuildKit) expands RUN heredocs
    quoted = "FROM alpine\nCOPY <<'EOF' /x\n${NOPE:?x}\nEOF\nRUN <<EOF\n${NOPE:?y}\nEOF\n"
    assert errs(analyze(quoted)) == []
    assert errs(analyze("FROM alpine\nADD <<EOF /x\nit's ${A:-'x}\nEOF\n")) == []


@pytest.mark.parametrize(
    ("text", "name"),
    [("FROM alpine AS a\nCOPY --from=a /x /x\n", "a"), ("FROM alpine\nCOPY --from=0 /x /x\n", "stage-0")],
)
def test_a_single_stage_copying_from_itself_is_a_cycle_named_as_buildkit_names_it(text, name):
    assert errs(analyze(text)) == [(f"circular dependency detected on stage: {name}", 2)]


def test_errors_of_stages_the_target_skips_are_kept_apart_for_the_build_check():
    # `docker build --check` goes through every stage and stops at such an error (checked with
    # BuildKit: its lint fails with "invalid containerPort: 80-abc" while the build succeeds).
    g = analyze(in_stage_a("EXPOSE 80-abc"))
    assert errs(g) == []
    assert [(d.message, d.line, d.stage) for d in g.unbuilt_errors] == [
        ("invalid containerPort: 80-abc", 2, 0)
    ]
    assert "unbuilt_errors" not in g.to_dict()
    assert analyze(in_stage_a("EXPOSE 80-abc"), target="a").unbuilt_errors == ()


@pytest.mark.parametrize("mount", ["type=ssh,from=x", "type=tmpfs,from=x,target=/t"])
def test_a_mount_that_reads_nothing_still_builds_its_from_stage(mount):
    g = analyze(f"FROM alpine AS x\nFROM alpine AS y\nFROM alpine\nRUN --mount={mount} true\n")
    assert [s.reachable for s in g.stages] == [True, False, True]
    assert [e for e in g.edges if e.kind is EdgeKind.MOUNT] == []


def test_a_mount_of_an_image_that_reads_nothing_pulls_nothing():
    g = analyze("FROM alpine\nRUN --mount=type=ssh,from=busybox true\n")
    assert [e for e in g.edges if e.kind is EdgeKind.MOUNT] == []


@pytest.mark.parametrize(
    "lines",
    [
        "RUN --mount=type=cache,target=/ true",
        "RUN --mount=type=cache true",
        "RUN --mount=type=bind true",
        "WORKDIR /\nRUN --mount=type=cache,target=. true",
    ],
)
def test_a_mount_onto_the_root_fails_the_build(lines):
    last = 2 + lines.count("\n")
    assert dispatch_error(lines) == [('invalid mount target "/"', last)]


@pytest.mark.parametrize(
    "lines",
    ["WORKDIR /src\nRUN --mount=type=cache true", "RUN --mount=type=secret,id=s,target=/ true"],
)
def test_a_mount_below_the_working_directory_or_a_secret_is_fine(lines):
    assert errs(analyze(in_stage_a(lines), target="a")) == []


def test_static_mount_answers_as_check_mount_does():
    """A --mount value nothing expands is checked once per text (cached) with check_mount's answer,
    its errors included; a value with a variable is still expanded in its stage."""
    from webapp.dispatch import _static_mount
    from webapp.instructions import Problem, check_mount

    for value in (
        "type=cache,target=/root/.cache",
        "type=tmpfs,size=10,target=/x",
        "type=cache,target=/a,sharing=nope",
        "type=bind,uid=1,target=/a",
        "bogus,target=/a",
        "type=secret,id=a,required",
    ):
        try:
            expected = check_mount(value, lambda word: word)
        except Problem as problem:
            expected = (problem.code, problem.message)
        for _ in range(2):  # the second answer comes from the cache
            try:
                got = _static_mount(value)
            except Problem as problem:
                got = (problem.code, problem.message)
            assert got == expected
    graph = analyze("FROM alpine\nARG T=/\nRUN --mount=type=cache,target=$T true\n")
    assert any("invalid mount target" in d.message for d in graph.diagnostics)
    graph = analyze("FROM alpine\nARG T=/x\nRUN --mount=type=cache,target=$T true\n")
    assert not any("invalid mount target" in d.message for d in graph.diagnostics)
