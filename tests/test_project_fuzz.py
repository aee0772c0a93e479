"""No project, however hostile, gets a 500 or an exception out of the core: random files and archives."""

from __future__ import annotations

import io
import warnings
import zipfile

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from webapp.project import ProjectInputError, analyze_project
from webapp.web import create_app

APP = create_app({"RATE_RENDERS": 0, "WARM_DOT": False})
WORDS = {
    "bake": [
        'target "',
        'group "',
        'variable "',
        '" {',
        "}",
        "\n",
        " = ",
        '"',
        "[",
        "]",
        "{",
        "inherits",
        "contexts",
        "target:",
        "docker-image://",
        "${",
        "default",
        "dockerfile",
        "context",
        "args",
        "tags",
        "x",
        "..",
        "/",
        "$${",
        "<<EOT\n",
        "\nEOT\n",
        "matrix",
        "null",
        "1",
        "#",
        " ? ",
        " : ",
        " == ",
        " != ",
        " && ",
        " || ",
        "!",
        "(",
        ")",
        ",",
        "x.y",
        "f(",
        "true",
        "type = string\n",
    ],
    "compose": [
        "services:",
        "\n",
        "  ",
        "build:",
        "context:",
        "dockerfile:",
        "additional_contexts:",
        "service:",
        "args:",
        "- ",
        "image:",
        "${X:-y}",
        "${X}",
        "&a",
        "*a",
        "<<:",
        "x",
        "..",
        "/",
        ":",
        "[",
        "]",
        "{",
        "}",
        '"',
        "'",
        "target:",
        "dockerfile_inline: |",
    ],
    "script": [
        "docker",
        " build",
        " create",
        " cp",
        " -t",
        " -f",
        " --name",
        " x",
        " .",
        " ..",
        ":",
        "/",
        "\n",
        "cd",
        " $(dirname $0)",
        "&&",
        ";",
        "(",
        ")",
        '"',
        "'",
        "\\\n",
        "A=$A$A",
        "$A",
        "id=$(docker create x)",
        " $id:/a",
        " ./a",
        "#",
        " --build-context",
        " b=docker-image://x",
        "pushd",
        "popd",
    ],
    "dockerfile": [
        "FROM",
        " x",
        " AS",
        " b",
        "\n",
        "COPY",
        " a",
        " ./",
        " --from=",
        "b",
        "RUN",
        " --mount=from=",
        "x",
        "ARG",
        " A=1",
        "${A}",
        "scratch",
        " .",
        "/",
    ],
}


def text_of(kind: str):
    return st.lists(st.sampled_from(WORDS[kind]) | st.text(max_size=4), max_size=60).map("".join)


projects = st.fixed_dictionaries(
    {
        "docker-bake.hcl": text_of("bake"),
        "docker-bake.override.hcl": text_of("bake"),
        "ci/vars.hcl": st.just('variable "x" {\n  default = "1"\n}\n') | text_of("bake"),
        "compose.yaml": text_of("compose"),
        "build.sh": text_of("script"),
        "Dockerfile": text_of("dockerfile"),
        "b/Dockerfile.build": text_of("dockerfile"),
    }
)
contexts = st.dictionaries(st.sampled_from(["b", "x", "alpine", "Bad", ""]), st.text(max_size=12), max_size=3)


variables = st.dictionaries(st.sampled_from(["x", "X", "MODE", "1x"]), st.text(max_size=8), max_size=3)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(projects, contexts, variables)
def test_core_never_raises_anything_but_refusals(files, user_contexts, user_variables):
    from webapp.options import OptionError
    from webapp.project import parse_build_contexts, parse_variables

    try:
        checked = parse_build_contexts(user_contexts)
    except OptionError:
        checked = {}
    try:
        given_variables = parse_variables(user_variables)
    except OptionError:
        given_variables = {}
    try:
        project = analyze_project(files, build_contexts=checked, variables=given_variables)
    except ProjectInputError:
        return
    data = project.to_dict()
    assert {f["path"] for f in data["files"]} >= set(files)
    from webapp.render.project import project_to_dot

    assert project_to_dot(project).startswith("digraph project {")


def zip_with(names_and_data) -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buffer, "w") as archive:
        warnings.simplefilter("ignore")  # duplicate names are part of the test
        for name, data in names_and_data:
            try:
                archive.writestr(name, data)
            except (ValueError, IndexError):  # names zipfile itself cannot write (NUL-cut to empty)
                pass
    return buffer.getvalue()


bodies = st.binary(max_size=300) | st.lists(
    st.tuples(st.text(min_size=1, max_size=12), st.binary(max_size=40)), max_size=5
).map(zip_with)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bodies, st.sampled_from(["application/zip", "application/gzip", "application/x-tar"]))
def test_api_archive_bodies_answer_200_or_4xx(body, content_type):
    answer = APP.test_client().post("/api/project", data=body, content_type=content_type)
    assert answer.status_code == 200 or 400 <= answer.status_code < 500, answer.get_data(as_text=True)[:300]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.dictionaries(st.text(max_size=20), st.text(max_size=40), max_size=5), st.sampled_from(["json", "dot"])
)
def test_api_json_files_answer_200_or_4xx(files, fmt):
    answer = APP.test_client().post("/api/project", json={"files": files, "format": fmt})
    assert answer.status_code == 200 or 400 <= answer.status_code < 500, answer.get_data(as_text=True)[:300]


expression_words = st.sampled_from(
    [
        "V",
        "W",
        '"a"',
        '"${V}"',
        '"\\q"',
        '"\x01"',
        "null",
        "true",
        "1",
        "-2",
        "==",
        "!=",
        "&&",
        "||",
        "!",
        "?",
        ":",
        "(",
        ")",
    ]
    + ["[", "]", "{", "}", ",", "=", "f", ".", "+", " "]
)


@settings(max_examples=200, deadline=None)
@given(st.lists(expression_words | st.text(max_size=3), max_size=30).map(" ".join))
def test_expressions_evaluate_or_are_unknown(text):
    from webapp.project.hclexpr import Unknown, evaluate

    def variable(name):
        if name == "W":
            raise Unknown(name)
        return {"V": "v"}.get(name)

    try:
        value = evaluate(text, variable, lambda s: s)
    except Unknown:
        return
    assert value is None or isinstance(value, (str, bool, list, dict))
