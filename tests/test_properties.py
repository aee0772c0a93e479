"""Properties of the core on arbitrary text (hypothesis).

Whatever the input, ``lex()`` returns, ``analyze()`` raises nothing but ``DockerfileError``
subclasses, instruction spans are ordered, disjoint and inside the file, and analysis is
deterministic.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from webapp.analysis import analyze
from webapp.errors import DockerfileError
from webapp.lexer import lex

PIECES = [
    "FROM ",
    "from ",
    "RUN ",
    "COPY ",
    "ADD ",
    "ARG ",
    "ENV ",
    "ONBUILD ",
    "LABEL ",
    "USER ",
    "CMD ",
    "HEALTHCHECK ",
    "SHELL ",
    "EXPOSE ",
    "WORKDIR ",
    "VOLUME ",
    "AS ",
    " as ",
    "scratch",
    "alpine",
    "--from=",
    "--mount=",
    "type=cache,",
    "from=",
    "target=/t",
    "--platform=",
    "--",
    "--link",
    "\\",
    "\\\\",
    "`",
    "'",
    '"',
    "<<",
    "<<-",
    "EOF",
    "${",
    "}",
    "$",
    ":-",
    ":+",
    "#",
    "/",
    "//",
    "[",
    "]",
    '["a"]',
    "=",
    " ",
    "\t",
    "\n",
    "\r\n",
    "\ufeff",
    "# escape=`\n",
    "# syntax=x\n",
    "# check=skip=all\n",
    "0",
    "1",
    "+1",
    "-1",
    "é",
    "☃",
    "\u2028",
    "https://e.com/a",
    "git@h:o/r.git",
]

CONFIG = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

dockerfile_like = st.lists(st.sampled_from(PIECES), max_size=60).map("".join)
any_text = st.text(max_size=400)
mixed = st.one_of(dockerfile_like, any_text, st.tuples(dockerfile_like, any_text).map("".join))


def check_spans(text: str) -> None:
    lexed = lex(text)
    previous_end = 0
    for ins in lexed.instructions:
        assert 1 <= ins.line <= ins.end_line <= max(lexed.line_count, 1)
        assert ins.line > previous_end
        previous_end = ins.end_line


@CONFIG
@given(mixed)
def test_lex_never_crashes_and_spans_are_ordered_disjoint_and_inside(text):
    check_spans(text)


@CONFIG
@given(mixed)
def test_analyze_raises_only_dockerfile_errors(text):
    try:
        graph = analyze(text)
    except DockerfileError:
        return
    for stage in graph.stages:
        for ins in stage.instructions:
            assert stage.line < ins.line
        assert stage.line <= stage.end_line
    for edge in graph.edges:
        assert 0 <= edge.target < len(graph.stages)
        if edge.source.stage is not None:
            assert 0 <= edge.source.stage < len(graph.stages)


@CONFIG
@given(st.binary(max_size=300))
def test_analyze_bytes_raises_only_dockerfile_errors(data):
    try:
        analyze(data)
    except DockerfileError:
        pass


@CONFIG
@given(dockerfile_like, st.sampled_from([None, "linux/arm64", "windows/amd64"]))
def test_analyze_is_deterministic(text, platform):
    try:
        first = analyze(text, platform=platform)
    except DockerfileError:
        return
    second = analyze(text, platform=platform)
    assert first.to_dict() == second.to_dict()
