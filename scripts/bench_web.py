"""Bench: the web app's figures (issue 3) for `make bench`.

- server time of ``POST /api/render`` (svg) for moby's 59-stage Dockerfile against bare ``dot -Tsvg``
  on the same DOT (floor 1.2x), measured in-process with the production settings (warm dot);
- the page's own JavaScript and CSS, libraries included (floor 500 KB);
- the page usable on localhost: from navigation until the first diagram is drawn, in Chromium
  against the app served by gunicorn as `make run` does (floor 1 s).
"""

from __future__ import annotations

import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _interleaved(a, b, runs: int) -> tuple[float, float]:
    a()
    b()
    ta, tb = [], []
    for _ in range(runs):
        start = time.perf_counter()
        a()
        ta.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        b()
        tb.append((time.perf_counter() - start) * 1000)
    return statistics.median(ta), statistics.median(tb)


def server_vs_dot(moby: str, runs: int = 21) -> tuple[float, float]:
    """(server ms, bare dot ms) for moby's Dockerfile as SVG."""
    from webapp import analyze
    from webapp.render import to_dot
    from webapp.web import create_app

    client = create_app({"RATE_RENDERS": 0}).test_client()
    data = to_dot(analyze(moby)).encode()
    dot = shutil.which("dot")

    def server():
        response = client.post("/api/render", json={"dockerfile": moby, "format": "svg"})
        assert response.status_code == 200, response.data[:200]

    def bare():
        subprocess.run([dot, "-Tsvg"], input=data, capture_output=True, check=True)

    return _interleaved(server, bare, runs)


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
    from browser_util import Server, launch_chromium
    from playwright.sync_api import sync_playwright

    server = Server()
    try:
        server.wait_ready()
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
    finally:
        server.stop()
