"""The JSON API through Flask's test client: every format, every error answer, the headers."""

from __future__ import annotations

import io
import json

import pytest

from webapp.errors import RenderBusy, RenderError, RenderTimeout, RenderTooLarge, RenderUnavailable
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
    assert set(body) == {"graph", "svg", "view", "context_names"}
    # what a named build context could replace: stage names and FROM images (docs/json-format.md)
    names = [(n["name"], n["use"]) for n in body["context_names"]]
    assert names == [("build", "stage"), ("golang:1.22", "FROM"), ("final", "stage"), ("alpine:3.20", "FROM")]
    assert body["svg"].lstrip().startswith(("<svg", "<?xml"))
    assert len(body["graph"]["stages"]) == 2


@dot
def test_healthz_reports_dot_ready(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.mimetype == "application/json"
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["checks"]["dot"]["ok"] is True and body["checks"]["dot"]["version"][0].isdigit()
    assert response.headers["Cache-Control"] == "no-store"


def test_healthz_is_503_when_a_required_check_fails_and_degraded_for_an_optional_one(app):
    app.extensions["health"] = [("dot", lambda: {"ok": True}, True), ("store", _broken, False)]
    degraded = app.test_client().get("/healthz")
    assert degraded.status_code == 200 and degraded.get_json()["status"] == "degraded"
    store = degraded.get_json()["checks"]["store"]
    assert store["ok"] is False and "disk gone" in store["error"]
    app.extensions["health"][0] = ("dot", lambda: {"ok": False, "version": "none"}, True)
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unavailable"
    assert body["checks"]["dot"] == {"ok": False, "version": "none"}


def test_healthz_says_dot_is_missing(monkeypatch):
    from webapp.web import api

    monkeypatch.setattr(api, "graphviz_version", lambda: "none")
    response = create_app().test_client().get("/healthz")
    assert response.status_code == 503 and response.get_json()["checks"]["dot"] == {
        "ok": False,
        "version": "none",
    }


def _broken():
    raise OSError("disk gone")


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


def test_renderer_busy_is_503_with_retry_after_and_not_cached(client, monkeypatch):
    calls = []

    def refuse(*args, **kwargs):
        calls.append(1)
        raise RenderBusy("too many renders in flight")

    monkeypatch.setattr("webapp.web.api.render", refuse)
    for url in ("/api/render", "/api/diagram", "/api/render"):
        response = client.post(url, json={"dockerfile": TWO_STAGES.decode(), "format": "svg"})
        assert response.status_code == 503
        assert int(response.headers["Retry-After"]) > 0
        assert error_of(response)["message"] == "too many renders in flight"
    assert len(calls) == 3  # busy is never remembered


@pytest.mark.parametrize(
    "exc",
    [
        RenderTimeout("Graphviz took longer than 10 s"),
        RenderTooLarge("graph too large to draw"),
        RenderError("bad"),
    ],
)
def test_permanent_render_failures_are_422_without_retry_and_cached(client, monkeypatch, exc):
    calls = []

    def refuse(*args, **kwargs):
        calls.append(1)
        raise exc

    monkeypatch.setattr("webapp.web.api.render", refuse)
    for url in ("/api/render", "/api/diagram"):
        for _ in range(2):
            response = client.post(url, json={"dockerfile": TWO_STAGES.decode(), "format": "svg"})
            assert response.status_code == 422
            assert "Retry-After" not in response.headers
            assert error_of(response)["message"] == exc.message
    assert len(calls) == 2  # once per route: the repeat is answered from the cache


def test_dot_missing_is_503_without_retry_after(client, monkeypatch):
    def missing(*args, **kwargs):
        raise RenderUnavailable("Graphviz 'dot' is not installed")

    monkeypatch.setattr("webapp.web.api.render", missing)
    response = client.post("/api/render", json={"dockerfile": TWO_STAGES.decode(), "format": "svg"})
    assert response.status_code == 503 and "Retry-After" not in response.headers


def test_every_refusal_family_shares_one_base():
    from webapp.errors import DockerfileError, Refusal, RequestRefused
    from webapp.links import LinkError
    from webapp.options import OptionError
    from webapp.web.share import ShareNotFound

    for family in (DockerfileError, RequestRefused, OptionError, LinkError, RenderError, ShareNotFound):
        assert issubclass(family, Refusal)
    assert RenderBusy.retry_after and RenderBusy.status == 503
    assert all(k.retry_after is None for k in (RenderError, RenderTimeout, RenderTooLarge, RenderUnavailable))


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


# --- render admission -----------------------------------------------------------------------------


def test_render_gate_admits_its_slots_lets_a_few_wait_and_refuses_the_rest_at_once():
    import threading
    import time

    from webapp.web.admission import RenderGate

    gate = RenderGate(2, waiting=1, wait=0.5)
    release = threading.Event()
    entered = threading.Barrier(3)
    outcomes: list[str] = []

    def hold():
        with gate.slot():
            entered.wait()
            release.wait(5)

    def wait_then_fail():
        try:
            with gate.slot():
                outcomes.append("admitted")
        except RenderBusy:
            outcomes.append("busy")

    holders = [threading.Thread(target=hold) for _ in range(2)]
    for t in holders:
        t.start()
    entered.wait()
    assert gate.in_flight == 2
    waiter = threading.Thread(target=wait_then_fail)
    waiter.start()
    time.sleep(0.1)  # the waiter now waits for a slot
    started = time.monotonic()
    with pytest.raises(RenderBusy) as refused:
        with gate.slot():
            pass
    assert time.monotonic() - started < 0.2  # the queue is full: no wait at all
    assert refused.value.status == 503 and refused.value.retry_after
    waiter.join(2)
    assert outcomes == ["busy"]  # waited its 0.5 s, then refused
    release.set()
    for t in holders:
        t.join(2)
    with gate.slot():  # slots were given back
        assert gate.in_flight == 1
    assert gate.refused == 2


def test_identical_requests_share_one_drawing_and_excess_waiters_are_refused_at_once():
    import threading
    import time

    from webapp import config
    from webapp.web.rendering import Renders

    renders = Renders(config.load({}, MAX_RENDERS=1, RENDER_WAIT=2.0))  # one slot, one waiter
    drawing = threading.Event()
    calls, answers = [], []

    def draw():
        calls.append(1)
        drawing.set()
        time.sleep(0.5)
        return b"drawn", "text/plain"

    first = threading.Thread(target=lambda: answers.append(renders.cached("k", draw)))
    first.start()
    drawing.wait(2)
    second = threading.Thread(target=lambda: answers.append(renders.cached("k", draw)))
    second.start()
    time.sleep(0.1)  # the second waits for the first's drawing
    started = time.monotonic()
    with pytest.raises(RenderBusy):
        renders.cached("k", draw)
    assert time.monotonic() - started < 0.2  # no room to wait: refused at once
    first.join(3)
    second.join(3)
    assert answers == [(b"drawn", "text/plain")] * 2 and len(calls) == 1


def test_render_slots_and_gunicorn_threads_come_from_one_setting():
    from webapp import config
    from webapp.web.rendering import Renders

    for slots in (1, 2, 5):
        settings = config.load({}, MAX_RENDERS=slots)
        gate = Renders(settings).gate
        threads = config.worker_threads(settings)
        assert gate.slots == slots
        assert threads - gate.slots - gate.waiting == config.SPARE_THREADS >= 1


def test_request_line_limit_fits_every_link_and_refuses_what_gunicorn_cannot_take():
    from webapp import config

    settings = config.load({})
    longest = (
        f"GET /api/link/1/{'A' * settings['LINK_MAX_CHARS']}.json?view=layers&target={'t' * 128} HTTP/1.1"
    )
    assert len(longest) <= config.request_line_limit(settings) <= config.MAX_REQUEST_LINE
    with pytest.raises(ValueError, match="WEBAPP_LINK_MAX_CHARS"):
        config.request_line_limit(config.load({}, LINK_MAX_CHARS=8100))


# --- rate limits, trusted hops, public URL (Flask client; the real server: test_attacks_web.py) ---


@pytest.mark.parametrize("url", ["/api/render", "/api/diagram", "/api/secrets", "/api/share/stateless", "/"])
def test_every_cpu_route_is_rate_limited(url):
    client = create_app({"RATE_RENDERS": 2}).test_client()
    body = {"dockerfile": "FROM alpine\n", "format": "json"}

    def send(addr="10.1.1.1"):
        if url == "/":
            return client.post(url, data={"dockerfile": "FROM alpine\n"}, environ_base={"REMOTE_ADDR": addr})
        return client.post(url, json=body, environ_base={"REMOTE_ADDR": addr})

    assert send().status_code != 429 and send().status_code != 429
    refused = send()
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert "at most 2 per minute" in refused.get_data(as_text=True)
    if url == "/":  # the no-JS page keeps the posted text for the next try
        assert "FROM alpine" in refused.get_data(as_text=True)
    assert send("10.1.1.2").status_code != 429  # another client has its own budget


def test_a_zero_rate_means_no_limit():
    client = create_app({"RATE_RENDERS": 0}).test_client()
    for _ in range(5):
        assert client.post("/api/render", json={"dockerfile": "FROM alpine\n"}).status_code == 200


@pytest.mark.parametrize("hops, expect_split", [(0, False), (1, True)])
def test_forwarded_for_counts_only_behind_trusted_proxies(hops, expect_split):
    client = create_app({"RATE_RENDERS": 1, "TRUSTED_PROXIES": hops}).test_client()

    def send(forwarded):
        headers = {"X-Forwarded-For": forwarded}
        return client.post("/api/render", json={"dockerfile": "FROM alpine\n"}, headers=headers)

    assert send("203.0.113.1").status_code == 200
    # a new X-Forwarded-For is a new client only when a proxy we trust wrote it
    assert (send("203.0.113.2").status_code == 200) is expect_split


def test_host_outside_the_public_url_is_refused():
    app = create_app({"PUBLIC_URL": "https://viz.example.com", "EMBED_ORIGIN": "https://img.example.net"})
    client = app.test_client()
    assert client.get("/", base_url="https://viz.example.com").status_code == 200
    assert client.get("/", base_url="https://viz.example.com:443").status_code == 200
    assert (
        client.get("/examples/cache-mounts.Dockerfile", base_url="https://img.example.net").status_code == 200
    )
    evil = client.get("/", base_url="https://evil.example.org")
    assert evil.status_code == 400 and "evil.example.org" in evil.get_data(as_text=True)
    api = client.post("/api/render", json={"dockerfile": "FROM a\n"}, base_url="http://evil.example.org")
    assert api.status_code == 400 and "unknown host" in error_of(api)["message"]
    assert client.get("/healthz", base_url="http://10.0.0.5:8000").status_code in (200, 503)  # probes


def test_a_malformed_public_url_stops_start_up():
    with pytest.raises(ValueError, match="WEBAPP_PUBLIC_URL"):
        create_app({"PUBLIC_URL": "viz.example.com/path"})


@dot
def test_without_a_public_url_pages_naming_the_host_are_never_publicly_cached():
    from webapp import links

    path = links.stateless_path("FROM alpine\n")
    unset = create_app({"RATE_RENDERS": 0}).test_client().get(path, base_url="http://attacker.example")
    assert unset.status_code == 200
    assert "http://attacker.example" in unset.get_data(as_text=True)  # the requester's own host…
    assert unset.headers["Cache-Control"].startswith("private")  # …shown to that requester only
    assert create_app().test_client().get(path + ".svg").headers["Cache-Control"].startswith("public")
    pinned = create_app({"PUBLIC_URL": "https://viz.example.com", "RATE_RENDERS": 0}).test_client()
    page = pinned.get(path, base_url="https://viz.example.com")
    assert page.headers["Cache-Control"].startswith("public")
    assert f'href="https://viz.example.com{path}"' in page.get_data(as_text=True)


@dot
def test_a_failing_rate_limit_store_lets_requests_through(monkeypatch):
    from webapp import links

    app = create_app({"RATE_RENDERS": 1})
    store = app.extensions["rate_limits"].counter

    def down(*args, **kwargs):
        raise ConnectionError("limit store down")

    monkeypatch.setattr(store, "hit", down)
    client = app.test_client()
    for i in range(3):
        assert client.get(links.stateless_path(f"FROM alpine:{i}\n") + ".svg").status_code == 200
        assert client.post("/api/render", json={"dockerfile": f"FROM a{i}\n"}).status_code == 200


def test_cached_refusals_expire_timeouts_sooner():
    from webapp.cache import FAILURE_TTL, RenderCache

    now = [0.0]
    cache = RenderCache(10_000, clock=lambda: now[0])
    cache.put_failure("slow", RenderTimeout("Graphviz took longer than 10 s"))
    cache.put_failure("big", RenderTooLarge("graph too large to draw"))
    cache.put_failure("busy", RenderBusy("busy"))  # never remembered
    assert cache.get("busy") is None
    for key, kind in (("slow", RenderTimeout), ("big", RenderTooLarge)):
        with pytest.raises(kind):
            cache.get(key)
    now[0] = 61.0
    assert cache.get("slow") is None  # tried again after a minute
    with pytest.raises(RenderTooLarge):
        cache.get("big")
    now[0] = FAILURE_TTL + 1
    assert cache.get("big") is None
    assert cache.size == 0


def test_an_unusable_rate_limit_storage_stops_start_up():
    with pytest.raises(ValueError, match="WEBAPP_RATE_STORAGE_URI"):
        create_app({"RATE_STORAGE_URI": "bogus://nowhere"})


def test_busy_answers_are_not_logged_a_missing_dot_is(client, monkeypatch, caplog):
    refusal = [RenderBusy("too many renders in flight")]

    def refuse(*args, **kwargs):
        raise refusal[0]

    monkeypatch.setattr("webapp.web.api.render", refuse)
    body = {"dockerfile": TWO_STAGES.decode(), "format": "svg"}
    with caplog.at_level("WARNING", logger="webapp.web"):
        assert client.post("/api/render", json=body).status_code == 503
        assert not caplog.records  # a storm of 503s must not become a storm of log lines
        refusal[0] = RenderUnavailable("Graphviz 'dot' is not installed")
        assert client.post("/api/render", json=body).status_code == 503
        assert "not installed" in caplog.text
