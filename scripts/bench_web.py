"""Bench: the web app's figures for `make bench`, over HTTP against gunicorn as `make run` serves it.

- ``http_figures``: uncached ``POST /api/render`` (each request made unique by a comment line, so
  no render cache answers it) of moby's Dockerfile as SVG and as JSON, of the
  seed-sized two-stage example as SVG, and a cached share SVG (``GET /s/<id>.svg``), each as a
  ratio to the bench's reference (issue 10's floors: 0.6, 0.25, 0.2 and 0.05);
- the page's own JavaScript and CSS, libraries included (floor 500 KB);
- the page usable on localhost: from navigation until the first diagram is drawn, in Chromium
  (floor 1 s).
"""

from __future__ import annotations

import http.client
import json
import re
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def served(workers: int = 2):
    """gunicorn with the production config on a free loopback port, rate limits off, a private
    database; yields the server (``tests/browser_util.Server``)."""
    sys.path.insert(0, str(ROOT / "tests"))
    from browser_util import Server

    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        env = {"WEBAPP_RATE_RENDERS": "0", "WEBAPP_RATE_SHARES": "0", "WEBAPP_DATABASE": f"{tmp}/shares.db"}
        server = Server(workers=workers, env=env)
        try:
            server.wait_ready()
            yield server
        finally:
            server.stop()


class Client:
    """One kept-alive HTTP connection to the bench server."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def request(self, method: str, path: str, body: dict | None = None) -> bytes:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        data = json.dumps(body).encode() if body is not None else None
        self.conn.request(method, path, body=data, headers=headers)
        response = self.conn.getresponse()
        payload = response.read()
        if not 200 <= response.status < 300:
            raise RuntimeError(f"{method} {path}: {response.status} {payload[:200]!r}")
        return payload

    def close(self) -> None:
        self.conn.close()


def http_figures(ref, moby: str, seed: str, runs: int = 21) -> list:
    """Rows of server figures over HTTP, as ratios to ``ref`` (a :class:`scripts.bench.Reference`)."""
    from scripts.bench_share import cached_share_path

    with served() as server:
        client = Client(server.port)
        try:
            counter = iter(range(1, 10**9))

            def post(text: str, fmt: str):
                # a comment line of its own per request: a new cache key, the same drawing
                return lambda: client.request(
                    "POST", "/api/render", {"dockerfile": f"{text}\n# bench {next(counter)}\n", "format": fmt}
                )

            rows = [
                ref.ratio("POST /api/render svg, moby (uncached)", post(moby, "svg"), runs, 0.6),
                ref.ratio("POST /api/render svg, two-stage seed (uncached)", post(seed, "svg"), runs, 0.25),
                ref.ratio("POST /api/render json, moby (uncached)", post(moby, "json"), runs, 0.2),
            ]
            path = cached_share_path(client, moby)
            rows.append(
                ref.ratio(
                    "GET cached share SVG, moby", lambda: client.request("GET", path), runs, 0.05, inner=10
                )
            )
        finally:
            client.close()
    return rows


IMPORT_RE = re.compile(r'^\s*import\s[^;]*?from\s+"(\./[^"]+)"', re.M)


def page_assets(html: str) -> list[str]:
    """The /static/ JavaScript and CSS a page loads, with the ES modules its scripts import."""
    files = re.findall(r'(?:src|href)="(/static/[^"]+\.(?:js|css))"', html)
    seen: list[str] = []
    while files:
        f = files.pop()
        if f in seen:
            continue
        seen.append(f)
        path = ROOT / f.lstrip("/")
        if f.endswith(".js") and "/vendor/" not in f and path.is_file():
            base = f.rsplit("/", 1)[0]
            for rel in IMPORT_RE.findall(path.read_text()):
                files.append(f"{base}/{rel[2:]}")
    return seen


def page_weight_kb() -> float:
    """Size of the JavaScript and CSS the editor page loads (modules included), in KB."""
    from webapp.web import create_app

    html = create_app().test_client().get("/").get_data(as_text=True)
    return sum((ROOT / f.lstrip("/")).stat().st_size for f in page_assets(html)) / 1024


def page_weight_gzip_kb() -> float:
    """The same files as the server sends them to a browser (gzip, webapp/web/compress.py), in KB."""
    from webapp.web import create_app

    client = create_app().test_client()
    html = client.get("/").get_data(as_text=True)
    total = 0
    for f in page_assets(html):
        response = client.get(f, headers={"Accept-Encoding": "gzip"})
        total += len(response.get_data())
        response.close()
    return total / 1024


def page_usable_ms(runs: int = 3) -> float:
    """Median time from navigation until the editor page shows its first diagram, in ms."""
    sys.path.insert(0, str(ROOT / "tests"))
    from browser_util import launch_chromium
    from playwright.sync_api import sync_playwright

    with served() as server:
        times = []
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            for _ in range(runs + 1):
                page = browser.new_page()
                start = time.perf_counter()
                # until the diagram is in the page (not the load event: the server draws the
                # first example into the HTML, so the picture comes before the scripts)
                page.goto(server.url + "/", wait_until="commit")
                page.wait_for_selector("#diagram svg [id^=stage-]", timeout=10_000)
                times.append((time.perf_counter() - start) * 1000)
                page.close()
            browser.close()
        return statistics.median(times[1:])  # the first load warms the server's caches
