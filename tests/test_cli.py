"""The command line: every exit code, every format, and one-line errors without tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import ROOT

from webapp.cli import main

CLEAN = "FROM alpine:3.20 AS build\nRUN make\nFROM scratch\nCOPY --from=build /out /out\n"
WITH_ERROR = "FROM alpine:3.20\nCOPY --from=7 /x /y\n"


@pytest.fixture
def dockerfile(tmp_path):
    def write(text: str | bytes, name: str = "Dockerfile"):
        path = tmp_path / name
        path.write_bytes(text.encode() if isinstance(text, str) else text)
        return str(path)

    return write


def test_clean_file_exits_0_with_graph_json(dockerfile, capsys):
    assert main(["render", dockerfile(CLEAN)]) == 0
    graph = json.loads(capsys.readouterr().out)
    assert [s["name"] for s in graph["stages"]] == ["build", None]
    assert graph["target"] == 1
    copy = [e for e in graph["edges"] if e["kind"] == "copy"]
    assert copy == [
        {
            "kind": "copy",
            "onbuild": False,
            "target": 1,
            "line": 4,
            "source": {"kind": "stage", "stage": 0, "ref": None, "text": "build"},
            "mount_type": None,
            "mount_target": None,
        }
    ]


def test_file_with_errors_exits_1_and_still_writes(dockerfile, capsys):
    assert main(["render", dockerfile(WITH_ERROR)]) == 1
    graph = json.loads(capsys.readouterr().out)
    errors = [d for d in graph["diagnostics"] if d["severity"] == "error"]
    assert errors[0]["message"] == "invalid stage index 7"
    assert errors[0]["line"] == 2


def test_missing_file_exits_2_with_one_line(tmp_path, capsys):
    assert main(["render", str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: cannot read") and err.count("\n") == 1


def test_bad_utf8_names_the_line(dockerfile, capsys):
    assert main(["render", dockerfile(b"FROM alpine\nRUN echo \xff\n")]) == 2
    assert capsys.readouterr().err == "error: Dockerfile is not valid UTF-8 text (line 2)\n"


def test_nul_byte_refused(dockerfile, capsys):
    assert main(["render", dockerfile(b"FROM alpine\n\nRUN a\0b\n")]) == 2
    assert capsys.readouterr().err == "error: Dockerfile contains a NUL byte (line 3)\n"


def test_too_large_names_the_limit(dockerfile, capsys, monkeypatch):
    monkeypatch.setenv("WEBAPP_MAX_INPUT_BYTES", "100")
    assert main(["render", dockerfile("FROM alpine\n" + "RUN true\n" * 20)]) == 2
    assert "limit of 100 bytes" in capsys.readouterr().err


def test_bad_option_exits_2(dockerfile, capsys):
    assert main(["render", dockerfile(CLEAN), "--platform", "not a platform"]) == 2
    assert "platform must look like" in capsys.readouterr().err


def test_unknown_format_is_a_usage_error(dockerfile, capsys):
    assert main(["render", dockerfile(CLEAN), "--format", "gif"]) == 2
    assert "invalid choice" in capsys.readouterr().err


def test_target_build_arg_and_platform_change_the_graph(dockerfile, capsys):
    text = (
        "ARG VARIANT=cpu\n"
        "FROM alpine AS base-cpu\nFROM alpine AS base-gpu\n"
        "FROM base-${VARIANT} AS app\n"
        "FROM --platform=$BUILDPLATFORM alpine AS tools\nRUN echo $TARGETARCH\n"
    )
    path = dockerfile(text)
    assert main(["render", path, "--target", "APP", "--build-arg", "VARIANT=gpu"]) == 0
    graph = json.loads(capsys.readouterr().out)
    assert graph["target"] == 2
    assert graph["stages"][2]["base"] == {
        "kind": "stage",
        "text": "base-${VARIANT}",
        "resolved": "base-gpu",
        "stage": 1,
        "image": None,
    }
    assert [s["reachable"] for s in graph["stages"]] == [False, True, True, False]
    assert main(["render", path, "--platform", "linux/arm64"]) == 0
    graph = json.loads(capsys.readouterr().out)
    assert graph["platform"] == "linux/arm64"
    assert graph["stages"][3]["platform"] == "linux/amd64"


def test_stdin_and_output_file(tmp_path, monkeypatch):
    out = tmp_path / "graph.mmd"
    result = subprocess.run(
        [sys.executable, "-m", "webapp", "render", "-", "--format", "mermaid", "-o", str(out)],
        input=CLEAN.encode(),
        capture_output=True,
        cwd=ROOT,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == b""
    assert "\nflowchart LR\n" in out.read_text()


@pytest.mark.parametrize("fmt", ["dot", "mermaid", "json"])
def test_text_formats(dockerfile, capsys, fmt):
    assert main(["render", dockerfile(CLEAN), "--format", fmt]) == 0
    out = capsys.readouterr().out
    first = {"dot": "digraph", "mermaid": "flowchart LR", "json": "{"}[fmt]
    assert first in out.splitlines()[0] + out.splitlines()[1]


@pytest.mark.dot
@pytest.mark.parametrize(("fmt", "magic"), [("svg", b"<svg"), ("png", b"\x89PNG\r\n\x1a\n")])
def test_drawings(dockerfile, tmp_path, fmt, magic):
    out = tmp_path / f"graph.{fmt}"
    assert main(["render", dockerfile(CLEAN), "--format", fmt, "--view", "layers", "-o", str(out)]) == 0
    assert out.read_bytes().lstrip().startswith(magic)


def test_no_traceback_on_hostile_input(dockerfile, capsys):
    hostile = 'FROM "<script>alert(1)</script>"\nCOPY --from=\\N"&#106;avascript:" \x01 /\n'
    code = main(["render", dockerfile(hostile), "--format", "dot"])
    captured = capsys.readouterr()
    assert code == 1
    assert "Traceback" not in captured.err
    assert captured.out.startswith("digraph")


def test_lone_surrogate_in_text_is_unreadable():
    from webapp import analyze
    from webapp.errors import UnreadableInput

    with pytest.raises(UnreadableInput) as info:
        analyze("FROM alpine\nRUN echo \ud800\n")
    assert str(info.value) == "Dockerfile is not valid UTF-8 text (line 2)"
