"""The local cluster, for real: nginx in front of two app instances, PostgreSQL, Redis.

One cluster for the module, started by the same script as ``make cluster-up`` (scripts/cluster.py)
in a temporary folder on free ports. Clients get distinct addresses the way real ones do: each
request leaves from its own loopback source address (127.x.y.z), which nginx passes on and the
app trusts (one hop), so the share rate limit (20 a minute here) counts per test client.
Needs Debian's postgresql, redis-server and nginx: skipped locally without them, never in CI.
"""

from __future__ import annotations

import http.client
import itertools
import json
import multiprocessing
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from browser_util import free_port
from conftest import ROOT, STRICT

from scripts.cluster import Cluster
from scripts.cluster_pg import available as pg_available

RATE_SHARES = 20
_addresses = itertools.count(1)


def _need_packages() -> None:
    found = {
        "postgresql": pg_available(),
        "redis-server": shutil.which("redis-server"),
        "nginx": shutil.which("nginx") or Path("/usr/sbin/nginx").exists(),
    }
    missing = [name for name, ok in found.items() if not ok]
    if missing:
        if STRICT:
            pytest.fail(f"the cluster tests need Debian's {', '.join(missing)} in CI")
        pytest.skip(f"not installed: {', '.join(missing)}")


@pytest.fixture(scope="module")
def cluster():
    _need_packages()
    folder = tempfile.mkdtemp(prefix="webapp-cluster-")
    command = [sys.executable, "-m", "scripts.cluster"]
    where = ["--dir", folder]
    up = subprocess.run(
        [*command, "up", *where, "--port", str(free_port()), "--workers", "2",
         "--env", f"WEBAPP_RATE_SHARES={RATE_SHARES}", "--env", "WEBAPP_RATE_RENDERS=100000"],
        cwd=ROOT, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    c = Cluster(folder)
    try:
        assert up.returncode == 0, up.stdout + up.stderr + _logs(folder)
        yield c
    finally:
        subprocess.run([*command, "down", *where], cwd=ROOT, timeout=120)
        shutil.rmtree(folder, ignore_errors=True)


def _logs(folder: str) -> str:
    return "".join(
        f"\n--- {p} ---\n" + p.read_text(errors="replace")[-3000:]
        for p in sorted(Path(folder).rglob("*.log"))
    )


def new_client() -> str:
    """A loopback address no other test client uses."""
    n = next(_addresses)
    return f"127.{100 + n // 65536}.{(n // 256) % 256}.{n % 256}"


def request(
    url: str,
    method: str = "GET",
    path: str = "/",
    body: dict | None = None,
    client: str | None = None,
    headers: dict | None = None,
    timeout: float = 30,
) -> tuple[int, dict, bytes]:
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(
        host, int(port), timeout=timeout, source_address=(client or new_client(), 0)
    )
    try:
        data = json.dumps(body).encode() if body is not None else None
        head = {"Content-Type": "application/json"} if data else {}
        conn.request(method, path, body=data, headers={**head, **(headers or {})})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def create(url: str, text: str, client: str | None = None) -> tuple[int, dict]:
    status, headers, body = request(url, "POST", "/api/share", {"dockerfile": text}, client)
    return status, (json.loads(body) if status == 201 else {"headers": headers, "body": body})


def read_text(url: str, share_id: str) -> tuple[int, str]:
    """A stored link's text; a 503 (busy or storage briefly unavailable, with Retry-After) is
    asked again a few times, as a client told to retry would: it is not a lost link."""
    for _ in range(4):
        status, _, body = request(url, "GET", f"/s/{share_id}.txt")
        if status != 503:
            break
        time.sleep(1)
    return status, body.decode("utf-8", "replace")


def dockerfile(tag: str) -> str:
    return f"FROM alpine:3.20 AS s\nRUN echo {tag}\nFROM s\n"


# --- the tests ---------------------------------------------------------------------------------


def test_a_link_made_on_one_instance_is_served_by_the_other(cluster):
    text = dockerfile("one-two")
    status, made = create(cluster.app_url(0), text)
    assert status == 201, made
    assert read_text(cluster.app_url(1), made["id"]) == (200, text)
    assert read_text(cluster.url, made["id"]) == (200, text)
    status, _, body = request(cluster.url, path="/healthz")
    assert status == 200 and json.loads(body)["checks"]["storage"] == {
        "backend": "postgresql",
        "ok": True,
        "error": None,
    }


@pytest.mark.dot
def test_a_render_drawn_by_one_instance_is_kept_for_all(cluster):
    import redis

    text = dockerfile("render-once")
    status, made = create(cluster.url, text)
    assert status == 201
    status, headers, svg = request(cluster.app_url(0), path=made["url"] + ".svg")
    assert status == 200 and svg.lstrip().startswith((b"<svg", b"<?xml"))
    etag = headers["ETag"].strip('"')
    assert redis.Redis.from_url(cluster.redis.url).exists("webapp:render:" + etag)
    status, headers, again = request(cluster.app_url(1), path=made["url"] + ".svg")
    assert status == 200 and again == svg and headers["ETag"].strip('"') == etag


def test_rate_limits_hold_across_instances(cluster):
    """RATE_SHARES + 1 creates from one client, alternating between the instances: the last is 429."""
    client = new_client()
    statuses = []
    for i in range(RATE_SHARES + 1):
        url = cluster.app_url(i % 2)
        status, _, _ = request(
            url, "POST", "/api/share", {"dockerfile": dockerfile(f"rl{i}")},
            client="127.0.0.1", headers={"X-Forwarded-For": client},
        )  # fmt: skip
        statuses.append(status)
    assert statuses[:RATE_SHARES] == [201] * RATE_SHARES
    assert statuses[RATE_SHARES] == 429


def test_slow_clients_do_not_stop_healthz(cluster):
    """64 clients trickling a request body one byte a second: nginx holds them, /healthz stays fast."""
    host, port = "127.0.0.1", cluster.state["port"]
    slow = []
    for _ in range(64):
        s = socket.create_connection((host, port), timeout=5, source_address=(new_client(), 0))
        s.sendall(b"POST /api/share HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"Content-Length: 100000\r\n\r\n{")  # fmt: skip
        slow.append(s)
    try:
        timings = []
        for _ in range(4):
            for s in slow:
                s.sendall(b" ")
            for _ in range(5):
                started = time.monotonic()
                status, _, _ = request(cluster.url, path="/healthz", timeout=10)
                timings.append(time.monotonic() - started)
                assert status == 200
            time.sleep(0.5)
    finally:
        for s in slow:
            s.close()
    assert statistics.median(timings) < 0.1, timings
    assert max(timings) < 2, timings


def _create_many(url: str, worker: int, count: int, queue) -> None:
    """One of the 8 processes: ``count`` creates from 8 threads, each from its own address."""
    base = 200 + worker

    def one(i: int):
        text = dockerfile(f"p{worker}-{i}")
        client = f"127.{base}.{i // 250}.{i % 250 + 1}"
        status, made = create(url, text, client)
        return status, made.get("id"), text

    with ThreadPoolExecutor(max_workers=8) as pool:
        queue.put(list(pool.map(one, range(count))))


def test_eight_processes_times_fifty_concurrent_creates_are_all_readable(cluster):
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_create_many, args=(cluster.url, w, 50, queue)) for w in range(8)]
    for p in procs:
        p.start()
    results = [item for _ in procs for item in queue.get(timeout=240)]
    for p in procs:
        p.join(timeout=30)
    assert [s for s, _, _ in results if s != 201] == []
    assert len({share_id for _, share_id, _ in results}) == 400
    with ThreadPoolExecutor(max_workers=16) as pool:
        reads = list(pool.map(lambda r: read_text(cluster.url, r[1]), results))
    assert reads == [(200, text) for _, _, text in results]


class Load:
    """Creates in a loop from a few threads, each from fresh client addresses, until stopped."""

    def __init__(self, url: str, threads: int = 4):
        self.url = url
        self.stop = threading.Event()
        self.results: list[tuple[float, int, str | None, str, dict, float]] = []
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, args=(t,)) for t in range(threads)]

    def _run(self, t: int) -> None:
        for i in itertools.count():
            if self.stop.is_set():
                return
            text = dockerfile(f"load{t}-{i}-{time.monotonic_ns()}")
            started = time.monotonic()
            try:
                status, made = create(self.url, text)
            except (OSError, http.client.HTTPException):  # the connection or the answer cut short
                status, made = -1, {}
            with self._lock:
                self.results.append(
                    (time.monotonic(), status, made.get("id"), text, made.get("headers", {}), started)
                )

    def __enter__(self):
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self._threads:
            t.join(timeout=60)


def test_postgresql_restarted_mid_load_gives_clean_503s_then_recovers(cluster):
    pg = cluster.pg
    with Load(cluster.url) as load:
        time.sleep(1)
        pg.stop()
        down_at = time.monotonic()
        # longer than the store's wait for a connection (3 s): a create sent early in the window
        # must give up with a 503 before the server is back, not be served once it returns
        time.sleep(6)
        pg.start()
        up_at = time.monotonic()
        deadline = up_at + 30
        while time.monotonic() < deadline:
            recent = [r for r in load.results if r[0] > up_at + 0.5]
            if sum(1 for r in recent if r[1] == 201) >= 8:
                break
            time.sleep(0.2)
    statuses = {r[1] for r in load.results}
    timeline = [(round(r[0] - down_at, 2), r[1]) for r in load.results]
    assert statuses <= {201, 503}, f"only created or 'sharing is unavailable': {timeline}"
    # sent once the server was down and answered before it was back: "sharing is unavailable".
    # (On a loaded machine a few creates in that window were seen to succeed, as if the server
    # still took them while stopping; each of them is read back below, so none is lost.)
    during = [r for r in load.results if down_at < r[5] and r[0] < up_at]
    assert any(r[1] == 503 for r in during), timeline
    assert all(r[4].get("Retry-After") for r in load.results if r[1] == 503)
    assert sum(1 for r in load.results if r[0] > up_at and r[1] == 201) >= 8, "no recovery without a restart"
    acknowledged = [r for r in load.results if r[1] == 201]
    with ThreadPoolExecutor(max_workers=8) as pool:
        reads = list(pool.map(lambda r: read_text(cluster.url, r[2]), acknowledged))
    assert reads == [(200, r[3]) for r in acknowledged]


def test_killing_an_instance_loses_no_acknowledged_link(cluster):
    try:
        with Load(cluster.url) as load:
            time.sleep(1.5)
            cluster.stop_app(0, signal.SIGKILL)
            killed_at = time.monotonic()
            time.sleep(3)
        acknowledged = [r for r in load.results if r[1] == 201]
        after = [r for r in load.results if r[0] > killed_at + 1]
        timeline = [(round(r[0] - killed_at, 2), r[1]) for r in load.results]
        # The other instance takes the whole load: it serves it, and where it is briefly too busy
        # it says so with a 503 and Retry-After (a client asks again; nothing acknowledged is lost).
        # Seen once in CI, a single 503 among ~900 creates just after a kill.
        busy = [r for r in after if r[1] == 503]
        assert after and all(r[1] in (201, 503) for r in after), (
            f"the proxy keeps serving on the other instance: {timeline}"
        )
        assert len(busy) <= max(1, len(after) // 50), f"the other instance is rarely too busy: {timeline}"
        assert all(r[4].get("Retry-After") for r in busy), "a busy answer says when to ask again"
        # and it keeps creating to the end (the rare busy answer may be the very last one)
        assert any(r[1] == 201 for r in after[-5:]), timeline
        statuses = {r[1] for r in load.results}
        assert statuses <= {201, 502, 503, -1}, "only requests caught in the killed instance fail"
        # an answer cut short (its headers sent, then the instance killed) was sent before the kill
        assert all(r[5] < killed_at for r in load.results if r[1] == -1), timeline
        with ThreadPoolExecutor(max_workers=8) as pool:
            reads = list(pool.map(lambda r: read_text(cluster.url, r[2]), acknowledged))
        assert reads == [(200, r[3]) for r in acknowledged]
    finally:
        cluster.start_app(0)
    assert read_text(cluster.app_url(0), acknowledged[-1][2])[0] == 200


def test_the_deployment_nginx_config_is_valid(tmp_path):
    """deploy/nginx.conf (compose) with its shared rules passes `nginx -t` (names made local)."""
    _need_packages()
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    for old, new in (
        ("/tmp/", str(tmp_path) + "/"),
        ("server app:5000", "server 127.0.0.1:5000"),
        ("/etc/nginx/webapp-proxy.conf", str(ROOT / "deploy" / "nginx-proxy.conf")),
        ("/var/cache/nginx/webapp", str(tmp_path / "cache")),
    ):
        assert old in conf
        conf = conf.replace(old, new)
    (tmp_path / "nginx.conf").write_text(conf)
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    user = ["-g", "user root;"] if os.geteuid() == 0 else []
    result = subprocess.run(
        [
            nginx,
            "-t",
            "-p",
            str(tmp_path),
            "-e",
            str(tmp_path / "error.log"),
            "-c",
            str(tmp_path / "nginx.conf"),
            *user,
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
