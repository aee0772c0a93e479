"""Attacks on the server side, against real gunicorn with the config `make run` uses.

Three module-scoped servers (one worker each, so per-worker counts are exact):

- ``busy``: one render slot and a slow drawing step (``tests/attack_app.py``): an overload of
  renders is answered with fast 503s while /healthz stays quick (security.md 6, 18);
- ``edge``: one trusted proxy hop and small rate limits: every CPU route answers 429, clients are
  told apart by X-Forwarded-For, permanent failures are 422 without Retry-After and served from
  the failure cache (security.md 8, 11, 17, 18, 22);
- ``public``: WEBAPP_PUBLIC_URL set and no trusted proxy: other Hosts are refused,
  X-Forwarded-For is ignored, and a ~7,900-character stateless link is served (security.md 20, 22).
"""

from __future__ import annotations

import hashlib
import http.client
import json
import socket
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from browser_util import Server

from webapp import links
from webapp.options import Options

pytestmark = pytest.mark.dot

SLOW = 1.5
"""Seconds each drawing takes on the busy server."""


def _server(tmp_path_factory, name: str, env: dict) -> Server:
    tmp = tmp_path_factory.mktemp(name)
    log = tmp / "renders.log"
    log.touch()
    base = {"WEBAPP_DATABASE": str(tmp / "shares.sqlite3"), "RENDER_LOG": str(log)}
    server = Server(workers=1, env={**base, **env}, app="tests.attack_app:create()")
    server.render_log = log
    try:
        server.wait_ready()
    except Exception:
        server.stop()
        raise
    return server


@pytest.fixture(scope="module")
def busy(tmp_path_factory):
    env = {"WEBAPP_MAX_RENDERS": "1", "WEBAPP_RATE_RENDERS": "0", "SLOW_RENDER_SECONDS": str(SLOW)}
    server = _server(tmp_path_factory, "busy", env)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def edge(tmp_path_factory):
    env = {"WEBAPP_TRUSTED_PROXIES": "1", "WEBAPP_RATE_RENDERS": "3", "WEBAPP_RATE_SHARES": "1"}
    server = _server(tmp_path_factory, "edge", env)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def public(tmp_path_factory):
    env = {"WEBAPP_PUBLIC_URL": "http://viz.test", "WEBAPP_RATE_RENDERS": "4"}
    server = _server(tmp_path_factory, "public", env)
    yield server
    server.stop()


class Answer:
    def __init__(self, status: int, headers, body: bytes, seconds: float):
        self.status, self.headers, self.body, self.seconds = status, headers, body, seconds

    def json(self):
        return json.loads(self.body)


def call(server: Server, method: str, path: str, *, body=None, headers=None, timeout: float = 30) -> Answer:
    headers = dict(headers or {})
    if isinstance(body, dict):
        body = json.dumps(body)
        headers.setdefault("Content-Type", "application/json")
    started = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
    finally:
        conn.close()
    return Answer(response.status, response.headers, data, time.monotonic() - started)


def renders_logged(server: Server) -> int:
    return len(server.render_log.read_text().splitlines())


# --- overload: fast 503s, a quick /healthz ----------------------------------------------------------


def test_render_overload_answers_fast_503s_while_healthz_stays_quick(busy):
    def render(i: int) -> Answer:
        body = {"dockerfile": f"FROM alpine:3.{i}\nRUN echo {i}\n", "format": "svg"}
        return call(busy, "POST", "/api/render", body=body)

    with ThreadPoolExecutor(16) as pool:
        storm = [pool.submit(render, i) for i in range(16)]
        time.sleep(0.3)  # the storm is under way: one drawing, one waiting, the rest refused
        probes = []
        for _ in range(7):
            probes.append(call(busy, "GET", "/healthz", timeout=5))
            time.sleep(0.05)
        answers = [f.result() for f in storm]

    statuses = sorted(a.status for a in answers)
    assert set(statuses) <= {200, 503}, statuses
    busy_answers = [a for a in answers if a.status == 503]
    assert len(busy_answers) >= 10, statuses  # one slot, one waiter: nearly all are shed
    assert 200 in statuses
    for a in busy_answers:
        assert int(a.headers["Retry-After"]) > 0
        assert a.seconds < 1.0, f"a 503 took {a.seconds:.2f} s: it queued instead of being shed"
        assert "try again" in a.json()["error"]["message"]
    assert all(p.status == 200 for p in probes), [p.body for p in probes]
    assert statistics.median(p.seconds for p in probes) < 0.1, [round(p.seconds, 3) for p in probes]


def test_a_cached_link_is_not_queued_behind_renders(busy):
    path = links.stateless_path("FROM alpine:3.20 AS cached\nRUN true\n")
    assert call(busy, "GET", path + ".svg").status == 200  # drawn once (uncached links are not slowed)

    def render(i: int) -> Answer:
        return call(busy, "POST", "/api/render", body={"dockerfile": f"FROM busybox:{i}\n", "format": "svg"})

    with ThreadPoolExecutor(8) as pool:
        storm = [pool.submit(render, i) for i in range(8)]
        time.sleep(0.2)
        hits = [call(busy, "GET", path + ".svg", timeout=5) for _ in range(5)]
        [f.result() for f in storm]
    assert all(h.status == 200 for h in hits)
    assert statistics.median(h.seconds for h in hits) < 0.2, [round(h.seconds, 3) for h in hits]


def test_slow_request_bodies_do_not_hold_the_threads_of_reads(busy):
    """Clients that send a POST's headers and then trickle (or never send) its body hold a thread
    each while the app reads it; GET requests have threads of their own, so /healthz and cached
    links still answer at once (webapp/gunicorn_worker.py)."""
    path = links.stateless_path("FROM alpine:3.20 AS trickled\nRUN true\n")
    assert call(busy, "GET", path + ".svg").status == 200
    head = b"POST /api/render HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    slow = []
    try:
        for _ in range(12):  # more than the worker's threads for everything but reads
            sock = socket.create_connection(("127.0.0.1", busy.port))
            sock.sendall(head + b"Content-Length: 100\r\n\r\n{")
            slow.append(sock)
        time.sleep(0.3)
        probes = [call(busy, "GET", p, timeout=5) for p in ("/healthz", path + ".svg") * 3]
    finally:
        for sock in slow:
            sock.close()
    assert [p.status for p in probes] == [200] * 6
    assert statistics.median(p.seconds for p in probes) < 0.1, [round(p.seconds, 3) for p in probes]


def test_idle_connections_hold_no_thread(busy):
    """Connections that send nothing wait in the worker's poller until their first byte (or are
    closed at the keep-alive timeout): no thread is held, so every kind of request still runs."""
    idle = [socket.create_connection(("127.0.0.1", busy.port)) for _ in range(16)]
    try:
        time.sleep(0.2)
        probes = [
            call(busy, "GET", "/healthz", timeout=5),
            call(busy, "POST", "/api/share/stateless", body={"dockerfile": "FROM alpine\n"}, timeout=5),
            call(busy, "POST", "/api/secrets", body={"dockerfile": "FROM alpine\n"}, timeout=5),
        ]
    finally:
        for sock in idle:
            sock.close()
    assert [p.status for p in probes] == [200] * 3, [p.body[:200] for p in probes]
    assert max(p.seconds for p in probes) < 1.0, [round(p.seconds, 3) for p in probes]


# --- rate limits and trusted hops -------------------------------------------------------------------------

CPU_ROUTES = [
    ("POST", "/api/render", {"dockerfile": "FROM alpine\n", "format": "json"}),
    ("POST", "/api/diagram", {"dockerfile": "FROM alpine\n"}),
    ("POST", "/api/secrets", {"dockerfile": "FROM alpine\n"}),
    ("POST", "/api/share/stateless", {"dockerfile": "FROM alpine\n"}),
    ("POST", "/", "dockerfile=FROM+alpine%0A"),
]


@pytest.mark.parametrize("method, path, body", CPU_ROUTES, ids=[p for _, p, _ in CPU_ROUTES])
def test_every_cpu_route_answers_429_past_its_budget(edge, method, path, body):
    index = CPU_ROUTES.index((method, path, body))
    client = {"X-Forwarded-For": f"198.51.100.{10 + index}"}
    if isinstance(body, str):
        client["Content-Type"] = "application/x-www-form-urlencoded"
    answers = [call(edge, method, path, body=body, headers=client) for _ in range(4)]
    assert [a.status == 429 for a in answers] == [False, False, False, True], [a.status for a in answers]
    assert 1 <= int(answers[-1].headers["Retry-After"]) <= 60
    assert "at most 3 per minute" in answers[-1].body.decode()
    other = call(
        edge, method, path, body=body, headers={**client, "X-Forwarded-For": f"198.51.100.{100 + index}"}
    )
    assert other.status != 429  # behind one trusted proxy, X-Forwarded-For names the client


def test_share_creation_and_uncached_link_renders_are_limited(edge):
    client = {"X-Forwarded-For": "192.0.2.10"}
    created = call(edge, "POST", "/api/share", body={"dockerfile": "FROM alpine\n"}, headers=client)
    assert created.status == 201
    again = call(edge, "POST", "/api/share", body={"dockerfile": "FROM alpine\n"}, headers=client)
    assert again.status == 429 and int(again.headers["Retry-After"]) >= 1

    client = {"X-Forwarded-For": "192.0.2.11"}
    paths = [links.stateless_path(f"FROM alpine:3.{i}\n") + ".svg" for i in range(4)]
    answers = [call(edge, "GET", p, headers=client) for p in paths]
    assert [a.status for a in answers] == [200, 200, 200, 429]
    assert answers[-1].headers["Content-Type"].startswith("text/plain")  # a raw file answers text
    assert call(edge, "GET", paths[0], headers=client).status == 200  # cached: free


def test_permanent_failures_are_422_without_retry_and_not_drawn_twice(edge):
    text = "FROM alpine\n" + "".join(f"RUN echo {i}\n" for i in range(2600))
    body = {"dockerfile": text, "format": "svg", "view": "layers"}
    client = {"X-Forwarded-For": "192.0.2.20"}
    before = renders_logged(edge)
    first = call(edge, "POST", "/api/render", body=body, headers=client)
    assert first.status in (413, 422), first.body[:300]
    assert "Retry-After" not in first.headers
    assert "too large" in first.json()["error"]["message"]
    second = call(edge, "POST", "/api/render", body=body, headers=client)
    assert (second.status, second.json()) == (first.status, first.json())
    assert "Retry-After" not in second.headers
    assert renders_logged(edge) - before == 1  # the repeat came from the failure cache


# --- public URL, proxies at 0 hops, long links --------------------------------------------------------


def long_dockerfile(chars: int = 7900) -> str:
    """A Dockerfile whose stateless link payload is just over ``chars`` characters."""
    lines = ["FROM alpine:3.20 AS base"]
    i = 0
    while len(links.encode("\n".join(lines) + "\n", Options())) < chars:
        lines.append("RUN echo " + hashlib.sha256(str(i).encode()).hexdigest()[:40])
        i += 1
    return "\n".join(lines) + "\n"


def test_a_long_stateless_link_is_served_through_gunicorn(public):
    text = long_dockerfile()
    path = links.stateless_path(text)
    payload = path.rsplit("/", 1)[1]
    assert 7900 <= len(payload) <= 8000
    host = {"Host": "viz.test"}
    raw = call(public, "GET", path + ".txt", headers=host)
    assert raw.status == 200 and raw.body.decode() == text
    assert call(public, "GET", f"/api/link/1/{payload}", headers=host).json()["dockerfile"] == text
    assert call(public, "GET", f"/?d=1/{payload}", headers=host).status == 200
    query = "?view=layers&target=" + "b" * 120
    referer = {**host, "Referer": f"http://viz.test{path}{query}"}  # a browser's Referer holds the link
    assert call(public, "GET", path + ".json" + query, headers=referer).status in (200, 400)
    page = call(public, "GET", path, headers=referer)
    assert page.status == 200, page.body[:300]
    html = page.body.decode()
    assert f'<link rel="canonical" href="http://viz.test{path}">' in html
    assert page.headers["Cache-Control"].startswith("public")


def test_a_host_outside_the_public_url_is_refused(public):
    evil = call(public, "GET", "/", headers={"Host": "evil.example"})
    assert evil.status == 400 and "evil.example" in evil.body.decode()
    path = links.stateless_path("FROM alpine\n")
    assert call(public, "GET", path + ".txt", headers={"Host": "evil.example"}).status == 400
    assert call(public, "GET", "/", headers={"Host": "viz.test"}).status == 200
    assert call(public, "GET", "/healthz", headers={"Host": "10.0.0.7:8000"}).status == 200


def test_hostile_link_options_are_refused_in_the_files_own_format(public):
    path = links.stateless_path("FROM alpine\n")
    host = {"Host": "viz.test"}
    raw = call(public, "GET", path + ".svg?dpi=9000", headers=host)
    assert raw.status == 400 and raw.headers["Content-Type"].startswith("text/plain")
    assert "unknown query option: dpi" in raw.body.decode() and raw.headers["Cache-Control"] == "no-store"
    page = call(public, "GET", path + "?view=huge", headers=host)
    assert page.status == 400 and page.headers["Content-Type"].startswith("text/html")
    api = call(public, "POST", "/api/render", body={"dockerfile": "FROM a\n", "dpi": 9000}, headers=host)
    assert api.status in (400, 429) and "error" in api.json()


def test_forwarded_for_is_ignored_without_trusted_proxies(public):
    statuses = []
    for i in range(6):
        headers = {"Host": "viz.test", "X-Forwarded-For": f"203.0.113.{i}"}
        answer = call(public, "POST", "/api/render", body={"dockerfile": "FROM alpine\n"}, headers=headers)
        statuses.append(answer.status)
        if answer.status == 429:
            break
    assert statuses[-1] == 429, statuses  # a new X-Forwarded-For is not a new client


def test_gunicorn_limits_come_from_the_settings(public):
    from webapp import config

    line = config.request_line_limit(config.load({}))
    log = Path(public._log.name).read_text(errors="replace")
    assert "Traceback" not in log
    too_long = "/d/1/" + "A" * line
    assert call(public, "GET", too_long, headers={"Host": "viz.test"}).status in (400, 414)
