"""The JSON API through Flask's test client: every format, every error answer, the headers."""

from __future__ import annotations

import io
import json

import pytest

from webapp.errors import RenderBusy, RenderTimeout
from webapp.web import PAGE_CSP, SVG_CSP, create_app

TWO_STAGES = b"""\
# syntax=docker/dockerfile:1
FROM golang:1.22 AS build
WORKDIR /src
COPY . .
RUN go build -o /out/app .

FROM alpine:3.20 AS final
COPY --from=build /out/app /app
ENTRYPOINT ["/app"]
"""

dot = pytest.mark.dot


@pytest.fixture
def app():
    return create_app({"MAX_INPUT_BYTES": 64 * 1024})


@pytest.fixture
def client(app):
    return app.test_client()


def post_json(client, **body):
    body.setdefault("dockerfile", TWO_STAGES.decode())
    return client.post("/api/render", json=body)


def error_of(response) -> dict:
    assert response.mimetype == "application/json", response.data[:200]
    body = response.get_json()
    assert set(body) == {"error"} and set(body["error"]) == {"message", "line"}
    assert "Traceback" not in body["error"]["message"]
    return body["error"]


# --- formats ---------------------------------------------------------------------------------------


def test_json_is_the_graph(client):
    response = post_json(client, format="json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    graph = response.get_json()
    assert [s["name"] for s in graph["stages"]] == ["build", "final"]
    assert graph["target"] == 1
    assert graph["ships"]["build_only"] == [0]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_json_is_the_default_format(client):
    response = client.post("/api/render", json={"dockerfile": TWO_STAGES.decode()})
    assert response.status_code == 200 and response.get_json()["version"] == 1


def test_target_and_build_args_reach_the_analysis(client):
    text = "ARG BASE=alpine:3.20\nFROM ${BASE} AS one\nRUN true\nFROM one AS two\nRUN true\n"
    graph = post_json(client, dockerfile=text, target="one", build_args={"BASE": "debian:12"}).get_json()
    assert graph["target"] == 0
    assert [s["reachable"] for s in graph["stages"]] == [True, False]
    assert graph["stages"][0]["base"]["resolved"] == "debian:12"


@dot
def test_svg(client):
    response = post_json(client, format="svg")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    assert b"<svg" in response.data and b'id="stage-0"' in response.data
    assert b"<script" not in response.data
    # an SVG answered on its own may be opened directly: it gets the sandbox policy
    assert response.headers["Content-Security-Policy"] == SVG_CSP
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@dot
def test_svg_layers_view(client):
    response = post_json(client, format="svg", view="layers")
    assert response.status_code == 200
    assert b'id="ins-1-0"' in response.data


@dot
def test_png(client):
    response = post_json(client, format="png")
    assert response.status_code == 200
    assert response.mimetype == "image/png"
    assert response.data.startswith(b"\x89PNG\r\n\x1a\n")


def test_dot(client):
    response = post_json(client, format="dot")
    assert response.status_code == 200
    assert response.mimetype == "text/vnd.graphviz"
    assert response.data.lstrip().startswith(b"digraph")
    assert b"stage-1" in response.data


def test_mermaid(client):
    response = post_json(client, format="mermaid")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert b"flowchart" in response.data[:300] or b"graph " in response.data[:300]


def test_multipart_upload_with_form_options(client):
    data = {
        "dockerfile": (io.BytesIO(TWO_STAGES), "Dockerfile"),
        "format": "json",
        "target": "build",
        "view": "layers",
        "platform": "linux/arm64",
        "build_args": "A=1\nB=2",
    }
    response = client.post("/api/render", data=data, content_type="multipart/form-data")
    assert response.status_code == 200, response.data
    graph = response.get_json()
    assert graph["target"] == 0 and graph["platform"] == "linux/arm64"


def test_form_text_field(client):
    response = client.post("/api/render", data={"dockerfile": TWO_STAGES.decode(), "format": "dot"})
    assert response.status_code == 200 and b"digraph" in response.data


@dot
def test_diagram_endpoint_answers_graph_and_svg(client):
    response = client.post("/api/diagram", json={"dockerfile": TWO_STAGES.decode(), "view": "stages"})
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"graph", "svg", "view"}
    assert body["svg"].lstrip().startswith(("<svg", "<?xml"))
    assert len(body["graph"]["stages"]) == 2


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.data == b"ok" and response.mimetype == "text/plain"


# --- errors ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body, words",
    [
        ({"format": "gif"}, "format must be one of"),
        ({"view": "sideways"}, "view must be one of"),
        ({"platform": "../../etc"}, "platform must look like"),
        ({"target": "$(rm -rf)"}, "target must be"),
        ({"build_args": {"1BAD": "x"}}, "not a valid ARG name"),
        ({"colour": "red"}, "unknown option: colour"),
        ({"dockerfile": 42}, "dockerfile must be a string"),
        ({"dockerfile": ""}, "no Dockerfile given"),
    ],
    ids=["format", "view", "platform", "target", "build-arg", "unknown", "not-string", "empty"],
)
def test_bad_options_are_400(client, body, words):
    response = post_json(client, **body)
    assert response.status_code == 400
    assert words in error_of(response)["message"]


def test_malformed_json_is_400(client):
    response = client.post("/api/render", data=b"{not json", content_type="application/json")
    assert response.status_code == 400
    assert "JSON object" in error_of(response)["message"]


def test_json_array_is_400(client):
    response = client.post("/api/render", data=b"[1, 2]", content_type="application/json")
    assert response.status_code == 400


def test_other_content_type_is_400(client):
    response = client.post("/api/render", data=TWO_STAGES, content_type="text/plain")
    assert response.status_code == 400
    assert "multipart/form-data" in error_of(response)["message"]


def test_invalid_utf8_is_400_with_line(client):
    data = {"dockerfile": (io.BytesIO(b"FROM alpine\nRUN echo \xff\xfe\n"), "Dockerfile")}
    response = client.post("/api/render", data=data, content_type="multipart/form-data")
    assert response.status_code == 400
    assert error_of(response)["line"] == 2


def test_nul_byte_is_400(client):
    response = post_json(client, dockerfile="FROM alpine\nRUN a\x00b\n")
    assert response.status_code == 400


def test_no_stage_is_422(client):
    response = post_json(client, dockerfile="# only a comment\n")
    assert response.status_code == 422
    assert "not a Dockerfile" in error_of(response)["message"]


def test_input_over_the_limit_is_413_naming_it(client):
    text = "FROM alpine\n" + "RUN true\n" * 8000  # ~72 KB, over the 64 KiB setting
    response = post_json(client, dockerfile=text)
    assert response.status_code == 413
    assert "65536" in error_of(response)["message"]


def test_body_over_the_request_limit_is_413_json(client):
    body = json.dumps({"dockerfile": "x" * (200 * 1024)})
    response = client.post("/api/render", data=body, content_type="application/json")
    assert response.status_code == 413
    assert "65536 bytes" in error_of(response)["message"]


@pytest.mark.parametrize("exc", [RenderBusy("too many renders in flight"), RenderTimeout("dot timed out")])
def test_renderer_busy_or_timed_out_is_503_with_retry_after(client, monkeypatch, exc):
    def refuse(*args, **kwargs):
        raise exc

    monkeypatch.setattr("webapp.web.api.render", refuse)
    for url in ("/api/render", "/api/diagram"):
        response = client.post(url, json={"dockerfile": TWO_STAGES.decode(), "format": "svg"})
        assert response.status_code == 503
        assert int(response.headers["Retry-After"]) > 0
        assert error_of(response)["message"] == exc.message


def test_unknown_api_route_is_json_404(client):
    response = client.get("/api/nothing-here")
    assert response.status_code == 404
    error_of(response)


def test_wrong_method_is_json_405(client):
    response = client.get("/api/render")
    assert response.status_code == 405
    error_of(response)
    assert "POST" in response.headers["Allow"]


def test_api_answers_carry_no_page_csp(client):
    response = post_json(client)
    assert response.headers.get("Content-Security-Policy") != PAGE_CSP
