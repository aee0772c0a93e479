"""JSON nested past Python's recursion limit: refused with a clear 400 at every door, never a 500."""

from __future__ import annotations

import time
import zlib

import pytest

from webapp import analyze, links
from webapp.errors import UnreadableInput
from webapp.nesting import MAX_JSON_DEPTH, too_deep
from webapp.web import create_app


@pytest.mark.parametrize("kind", [str, bytes])
def test_depth_is_counted_outside_strings(kind):
    def k(text):
        return text if kind is str else text.encode()

    assert not too_deep(k("[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH))
    assert too_deep(k("[" * (MAX_JSON_DEPTH + 1)))
    assert too_deep(k('{"a":' * (MAX_JSON_DEPTH + 1) + "1" + "}" * (MAX_JSON_DEPTH + 1)))
    assert not too_deep(k('["' + "[" * 500 + '"]'))  # brackets inside a string do not nest
    assert not too_deep(k('["\\"' + "[" * 500 + '"]'))  # nor after an escaped quote in it
    assert not too_deep(k("[[]]" * 500))  # many shallow arrays
    assert too_deep(k('"open' + '"' + "[" * 100))  # a closed string, then real nesting
    assert too_deep(k("[" * MAX_JSON_DEPTH + "[]" * 1000 + "]" * MAX_JSON_DEPTH))
    assert not too_deep(k("[" * (MAX_JSON_DEPTH - 1) + "[]" * 1000 + "]" * (MAX_JSON_DEPTH - 1)))


def test_depth_check_is_linear():
    # a quarter of the largest JSON body the API takes (1 MiB), in the shapes that cost most; a
    # quadratic check would take minutes here
    for text in ("[" * 250_000, '"' + '\\"' * 125_000, '["' * 40_000, "[]" * 125_000 + "["):
        start = time.perf_counter()
        too_deep(text)
        assert time.perf_counter() - start < 0.5


@pytest.mark.parametrize(
    "line",
    [
        "RUN " + "[" * 5000 + "]" * 5000,
        "CMD " + "[" * 60_000,
        "ONBUILD ENTRYPOINT " + "[" * 5000,
        "HEALTHCHECK CMD " + "[" * 5000,
    ],
)
def test_deep_exec_form_is_refused_naming_the_line(line):
    with pytest.raises(UnreadableInput) as info:
        analyze("FROM alpine\n" + line + "\n")
    assert info.value.line == 2 and info.value.status == 400 and str(MAX_JSON_DEPTH) in info.value.message


def test_shallow_nested_arrays_keep_buildkits_error():
    graph = analyze('FROM alpine\nRUN [["a"]]\n')
    assert [d.code for d in graph.diagnostics if d.severity.value == "error"] == ["json-not-strings"]


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    return create_app({"DATABASE": str(tmp_path_factory.mktemp("db") / "s.db")}).test_client()


@pytest.mark.parametrize("path", ["/api/render", "/api/diagram", "/api/secrets", "/api/share"])
def test_deep_json_body_is_a_400(client, path):
    body = '{"dockerfile": "FROM alpine", "build_args": ' + "[" * 100_000 + "]" * 100_000 + "}"
    response = client.post(path, data=body, content_type="application/json")
    assert response.status_code == 400
    assert str(MAX_JSON_DEPTH) in response.get_json()["error"]["message"]


def test_deep_link_payload_is_a_400(client):
    comp = zlib.compressobj(level=9, method=zlib.DEFLATED, wbits=-15, memLevel=9, zdict=links.ZDICT_V1)
    raw = ('{"d":' + "[" * 30_000 + "]" * 30_000 + ',"o":{}}').encode()
    payload = links._b64encode(comp.compress(raw) + comp.flush())
    assert client.get("/d/1/" + payload).status_code == 400
    assert client.get("/d/1/" + payload + ".json").status_code == 400


def test_long_onbuild_chains_are_an_error_not_a_recursion_error(client):
    # ONBUILD takes an instruction, which may be ONBUILD again: BuildKit refuses any chain, and
    # the lexer splits at most a few levels of it, so a 64 KB line of them cannot overflow Python
    text = "FROM alpine AS base\n" + "ONBUILD " * 8000 + "RUN x\nFROM base\n"
    graph = analyze(text)
    assert [(d.code, d.line) for d in graph.diagnostics if d.severity.value == "error"] == [
        ("onbuild", 2),
        ("onbuild", 3),
    ]
    for fmt in ("json", "dot", "mermaid"):
        assert (
            client.post("/api/render", json={"dockerfile": text, "format": fmt, "view": "layers"}).status_code
            == 200
        )
