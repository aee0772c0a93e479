"""Helpers for the browser tests: a real server in a subprocess and Debian's Chromium.

The server is gunicorn with the same config as `make run`, on a free port; its output goes to a
file whose text is put into any failure. Chromium is launched once per module through Playwright
for Python (Playwright's own browser download does not work here, so ``executable_path`` points at
the system one).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIZES = {"phone": (390, 844), "tablet": (820, 1180), "desktop": (1400, 900)}
"""Viewports the pages are checked at (width, height in CSS pixels)."""
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """gunicorn serving the app on 127.0.0.1:<free port>; ``log()`` is everything it printed."""

    def __init__(self, workers: int = 2, env: dict | None = None, app: str = "webapp.web:create_app()"):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = tempfile.NamedTemporaryFile(prefix="webapp-server-", suffix=".log", delete=False)
        environ = dict(os.environ)
        environ.update(
            {
                "HOST": "127.0.0.1",
                "PORT": str(self.port),
                "WEBAPP_WORKERS": str(workers),
                # one test client is one address: rate limits off unless a test sets them
                "WEBAPP_RATE_RENDERS": "0",
                "WEBAPP_RATE_SHARES": "0",
                "PYTHONUNBUFFERED": "1",
                **(env or {}),
            }
        )
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--config",
                "webapp/gunicorn_conf.py",
                app,
            ],
            cwd=ROOT,
            env=environ,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def log(self) -> str:
        return Path(self._log.name).read_text(errors="replace")[-8000:]

    def wait_ready(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.log()}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=1) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"server not ready after {timeout}s:\n{self.log()}")

    def __enter__(self) -> Server:
        """``with Server(...) as srv``: ready on entry, stopped on exit (also after a failure)."""
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                # the server has its own session: a stuck arbiter goes with its workers
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self._log.close()
        os.unlink(self._log.name)


@contextmanager
def chromium():
    """Debian's Chromium through Playwright for Python, closed on exit."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        try:
            yield browser
        finally:
            browser.close()


def launch_chromium(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)


class Pages:
    """Fresh browser contexts for one test (no shared storage), every page watched: console
    errors and uncaught exceptions are collected in ``problems`` (also ``page.problems``). A
    test that provokes failing requests on purpose adds their console text to ``expected``."""

    def __init__(self, browser, timeout_ms: int):
        self.browser = browser
        self.timeout_ms = timeout_ms
        self.contexts: list = []
        self.problems: list[str] = []
        self.expected: list[str] = []

    def _console(self, message) -> None:
        if message.type == "error" and not any(text in message.text for text in self.expected):
            self.problems.append(f"console.{message.type}: {message.text}")

    def new(self, size: str = "desktop", scheme: str = "light", *, permissions=(), **context_options):
        """A page in a context of its own at one of :data:`SIZES`."""
        width, height = SIZES[size]
        context = self.browser.new_context(
            viewport={"width": width, "height": height}, color_scheme=scheme, **context_options
        )
        if permissions:
            context.grant_permissions(list(permissions))
        self.contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(self.timeout_ms)
        page.on("console", self._console)
        page.on("pageerror", lambda e: self.problems.append(f"pageerror: {e}"))
        page.problems = self.problems
        return page


@contextmanager
def watched_pages(browser, server: Server, timeout_ms: int):
    """:class:`Pages` for one test: fails it on any console problem, closes every context, and
    prints the server's log (pytest shows it only when the test failed)."""
    pages = Pages(browser, timeout_ms)
    try:
        yield pages
        assert not pages.problems, "browser console:\n" + "\n".join(pages.problems)
    finally:
        for context in pages.contexts:
            context.close()
        print("---- server log ----\n" + server.log())


def open_editor(page, server: Server, path: str = "/"):
    """Go to the editor (or another page of the app) and wait until its script has drawn the
    diagram ([data-drawn]: the server's first picture comes before it); returns the page."""
    page.goto(server.url + path)
    page.wait_for_selector(
        "#diagram[data-drawn] svg [id^='stage-'], #diagram[data-drawn] svg [id^='cluster-stage-']"
    )
    return page


def by(page, testid: str):
    """The element(s) with ``data-testid=testid``."""
    return page.locator(f'[data-testid="{testid}"]')


def wait_js(page, expression: str, timeout: float = 20.0) -> None:
    """Poll a JS expression from Python (wait_for_function evals a string, which the page CSP forbids)."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {expression}")
        time.sleep(0.05)


def big_dockerfile(tools: int = 56) -> str:
    """A generated Dockerfile shaped like moby's: 59 stages, a ``binary`` target that builds few of
    them, a meta ARG declared six times (as moby's DELVE_SUPPORTED), quoted defaults."""
    lines = ['ARG GO_VERSION="1.22"', "ARG BASE_DEBIAN_DISTRO=bookworm"]
    lines += ["ARG DELVE_SUPPORTED=yes"] + ["ARG DELVE_SUPPORTED"] * 5
    lines += ["", "FROM golang:${GO_VERSION}-${BASE_DEBIAN_DISTRO} AS base", "WORKDIR /go/src", ""]
    for i in range(tools):
        lines.append(f"FROM base AS tool-{i}")
        if i % 4:
            lines.append(f"COPY --from=tool-{i - 1} /out /in")
        lines += [f"RUN make tool-{i} && install tool-{i} /out/tool-{i}", ""]
    lines += ["FROM base AS binary", "COPY --from=tool-0 /out /usr/local/bin", "RUN make binary", ""]
    lines += ["FROM base AS dev"]
    lines += [f"COPY --from=tool-{i} /out /usr/local/bin" for i in range(0, tools, 3)]
    lines += ['CMD ["bash"]', ""]
    return "\n".join(lines)
