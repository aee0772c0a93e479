"""Named build contexts for one Dockerfile (issue 12) through every door but the page's script:
the options, the editor's /api/diagram (and its ``context_names``), share links stored and
stateless (old links unchanged), and the no-JavaScript form."""

from __future__ import annotations

import html
import re

import pytest

from webapp import analyze, links
from webapp.contexts import context_names
from webapp.options import OptionError, Options
from webapp.web import create_app

TEXT = "FROM base AS app\nRUN echo hi\n"
ALPINE = "docker.io/library/alpine:3.20"
CONTEXT = {"base": "docker-image://alpine:3.20"}

OLD_TEXT = "FROM alpine:3.20 AS app\nRUN echo $V\n"
OLD_OPTIONS = Options(target="app", build_args=(("V", "1"),), view="layers")
OLD_PAYLOAD = (
    "q1ZKUbJSQq83QLaA4x2kOBVYJCiohMXkKeko5StZVSuB7Y8HhkIxiBcG1G-oVKujBAkXIA-oE6i0LDO1HMjJSawEZgGl2loA"
)
"""Made by the server before build contexts existed (``links.encode(OLD_TEXT, OLD_OPTIONS)``)."""


@pytest.fixture
def client(tmp_path):
    settings = {"DATABASE": str(tmp_path / "shares.sqlite3"), "RATE_SHARES": 1000, "RATE_RENDERS": 1000}
    app = create_app(settings)
    app.config["TESTING"] = True
    return app.test_client()


def base_image(graph: dict) -> str | None:
    return graph["stages"][0]["base"]["image"]


def test_options_carry_contexts_only_when_given():
    options = Options.from_mapping({"build_contexts": ["base=docker-image://alpine:3.20", "a=./dir"]})
    assert options.build_contexts == (("a", "./dir"), ("base", "docker-image://alpine:3.20"))
    assert options.to_mapping() == {"build_contexts": {"a": "./dir", "base": "docker-image://alpine:3.20"}}
    assert options.analysis_kwargs()["contexts"] == {"a": "./dir", "base": "docker-image://alpine:3.20"}
    assert Options.from_mapping({"build_contexts": {}}).to_mapping() == {}
    with pytest.raises(OptionError, match="invalid context name 'Not A Name'"):
        Options.from_mapping({"build_contexts": {"Not A Name": "x"}})


def test_a_link_made_before_contexts_opens_and_encodes_the_same():
    text, options = links.decode("1", OLD_PAYLOAD, max_chars=8000, max_source=1 << 20)
    assert (text, options) == (OLD_TEXT, OLD_OPTIONS) and options.build_contexts == ()
    assert links.encode(text, options) == OLD_PAYLOAD
    # a new link with a context round-trips, and differs
    with_context = Options(build_contexts=tuple(CONTEXT.items()))
    payload = links.encode(TEXT, with_context)
    assert links.decode("1", payload, max_chars=8000, max_source=1 << 20) == (TEXT, with_context)


def test_context_names_lists_what_a_context_could_replace_before_and_after():
    text = (
        "ARG B=base\nFROM ${B} AS b\nCOPY . .\nADD https://example.com/x.tgz /x\n"
        "RUN --mount=type=bind,from=tools,target=/t true\nCOPY --from=helper:1 /x /y\n"
        "FROM scratch AS s\nFROM b AS final\nCOPY --from=s /a /b\n"
    )
    expected = [
        {"name": "b", "line": 2, "use": "stage"},
        {"name": "base", "line": 2, "use": "FROM"},
        {"name": "tools", "line": 5, "use": "RUN --mount from"},
        {"name": "helper:1", "line": 6, "use": "COPY --from"},
        {"name": "s", "line": 7, "use": "stage"},
        {"name": "final", "line": 8, "use": "stage"},
    ]
    assert context_names(analyze(text).to_dict()) == expected
    # the same names once contexts replace some of them (scratch and URLs are never names)
    contexts = {"base": "docker-image://alpine:3.20", "tools": "./dir", "s": "https://github.com/a/b.git"}
    assert context_names(analyze(text, contexts=contexts).to_dict(), contexts) == expected


def test_diagram_api_takes_contexts_and_lists_the_names(client):
    plain = client.post("/api/diagram", json={"dockerfile": TEXT}).get_json()
    assert base_image(plain["graph"]) == "docker.io/library/base:latest"
    assert [n["name"] for n in plain["context_names"]] == ["app", "base"]
    given = client.post("/api/diagram", json={"dockerfile": TEXT, "build_contexts": CONTEXT}).get_json()
    assert base_image(given["graph"]) == ALPINE and "alpine:3.20" in given["svg"]
    assert [n["name"] for n in given["context_names"]] == ["app", "base"]
    bad = client.post("/api/diagram", json={"dockerfile": TEXT, "build_contexts": {"Bad Name": "x"}})
    assert bad.status_code == 400
    assert "invalid context name 'Bad Name'" in bad.get_json()["error"]["message"]


def test_a_shared_dockerfile_keeps_its_contexts_stored_and_stateless(client):
    made = client.post("/api/share", json={"dockerfile": TEXT, "build_contexts": CONTEXT})
    assert made.status_code == 201, made.get_data(as_text=True)
    body = made.get_json()
    source = client.get(f"/api/share/{body['id']}").get_json()
    assert source == {"dockerfile": TEXT, "options": {"build_contexts": CONTEXT}}
    assert base_image(client.get(f"/s/{body['id']}.json").get_json()) == ALPINE
    # a query option keeps the contexts
    layers = client.get(f"/s/{body['id']}.json?view=layers").get_json()
    assert base_image(layers) == ALPINE
    stateless = body["stateless_url"]
    assert stateless.startswith("/d/1/")
    assert base_image(client.get(stateless + ".json").get_json()) == ALPINE
    version, payload = stateless.removeprefix("/d/").split("/")
    assert client.get(f"/api/link/{version}/{payload}").get_json()["options"] == {"build_contexts": CONTEXT}
    # the editor's "Open in editor" of the link: the context is in the no-JS form too
    page = client.get(f"/?d={version}/{payload}").get_data(as_text=True)
    assert "base=docker-image://alpine:3.20" in html.unescape(page)
    # without contexts, the share is the one it always was
    plain = client.post("/api/share", json={"dockerfile": TEXT}).get_json()
    assert base_image(client.get(f"/s/{plain['id']}.json").get_json()) == "docker.io/library/base:latest"


def test_the_no_js_form_takes_contexts_one_a_line(client):
    response = client.post(
        "/", data={"dockerfile": TEXT, "build_contexts": "base=docker-image://alpine:3.20\n"}
    )
    assert response.status_code == 200
    page = html.unescape(response.get_data(as_text=True))
    assert "FROM alpine:3.20" in page  # the server's drawing
    assert re.search(r'<textarea name="build_contexts"[^>]*>base=docker-image://alpine:3.20', page)
    assert re.search(r'data-testid="build-contexts-count">1 set<', page)
    bad = client.post("/", data={"dockerfile": TEXT, "build_contexts": "Bad Name=x"})
    assert bad.status_code == 400
    text = html.unescape(bad.get_data(as_text=True))
    error = re.search(r'data-testid="build-contexts-error" role="alert">([^<]*)<', text)
    assert error and "invalid context name 'Bad Name'" in error.group(1)
