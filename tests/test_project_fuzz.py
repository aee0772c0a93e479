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
        "compose.yaml": text_of("compose"),
        "build.sh": text_of("script"),
        "Dockerfile": text_of("dockerfile"),
        "b/Dockerfile.build": text_of("dockerfile"),
    }
)
contexts = st.dictionaries(st.sampled_from(["b", "x", "alpine", "Bad", ""]), st.text(max_size=12), max_size=3)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(projects, contexts)
def test_core_never_raises_anything_but_refusals(files, user_contexts):
    from webapp.options import OptionError
    from webapp.project import parse_build_contexts

    try:
        checked = parse_build_contexts(user_contexts)
    except OptionError:
        checked = {}
    try:
        project = analyze_project(files, build_contexts=checked)
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
