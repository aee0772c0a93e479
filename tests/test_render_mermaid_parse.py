"""Mermaid's own parser (npm ``mermaid``, as GitHub renders it) accepts every Mermaid we write.

Corpus Dockerfiles in both views, and hostile text in every place user text can reach a label.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest
from conftest import ROOT, STRICT

from webapp import analyze
from webapp.render import to_mermaid

CHECK = ROOT / "scripts" / "check-mermaid.mjs"
HOSTILE = (
    'ARG IMG="al<b>pine"\n'
    'FROM ${IMG:-alpine} AS "q"\n'
    "FROM alpine AS build\n"
    'COPY --from=n%%{init}%%ope "a;b" /c\n'
    'RUN --mount=from=x:1-->y,target=/g echo "<script>&#106;`x` ;;; --> end click stage_0 call alert()"\n'
    "ADD https://example.com/a?b=c#d&e=<f> /x\n"
    "ADD git@github.com:o/r.git#ref:sub\\dir /y\n"
    'FROM build AS "]]}}\n'
    "COPY --from=build \\N\\G\\l /z\n"
)


def _node_ready() -> None:
    if shutil.which("node") and (ROOT / "node_modules" / "mermaid").is_dir():
        return
    message = "node and node_modules/mermaid are needed (make setup installs them)"
    if STRICT:
        pytest.fail(message)
    pytest.skip(message)


def test_mermaid_parser_accepts_our_output(tmp_path, corpus):
    _node_ready()
    sources = sorted((corpus / "real").glob("*.Dockerfile")) + sorted(
        (corpus / "synthetic").glob("*.Dockerfile")
    )
    assert len(sources) > 50
    files = []
    for source in sources:
        graph = analyze(source.read_bytes())
        for view in ("stages", "layers"):
            out = tmp_path / f"{source.stem}.{view}.mmd"
            out.write_text(to_mermaid(graph, view))
            files.append(str(out))
    hostile = analyze(HOSTILE)
    for view in ("stages", "layers"):
        out = tmp_path / f"hostile.{view}.mmd"
        out.write_text(to_mermaid(hostile, view))
        files.append(str(out))
    result = subprocess.run(
        ["node", str(CHECK), *files], capture_output=True, text=True, cwd=ROOT, timeout=300
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert result.stdout.strip().endswith(f"{len(files)}/{len(files)} parse")


def test_the_checker_rejects_broken_mermaid(tmp_path):
    _node_ready()
    bad = tmp_path / "bad.mmd"
    bad.write_text('flowchart LR\n  a("x) --> b\n')
    result = subprocess.run(
        ["node", str(CHECK), str(bad)], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert result.returncode == 1
    assert "FAIL" in result.stdout
