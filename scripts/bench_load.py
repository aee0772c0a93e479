"""Bench: the server under load (issue 7), for `make bench`.

Starts gunicorn on loopback exactly as `make run` does (``webapp/gunicorn_conf.py``; two workers,
rate limits off so one client address can load it), then drives it with client threads on
keep-alive connections for a fixed time per step:

- a cached stateless link (``.svg``), JSON renders and SVG renders (each body unique, so nothing
  is cached) at concurrency 1, 8 and 64: requests per second, p50, p99, 503s and other errors;
- render overload: 64 clients asking for SVG renders while 8 others fetch the cached link. Excess
  renders must get a fast 503 (p99 under 2 s), and the cached link must keep most of its rate:
  each worker serves it in its own process while its costly process (``webapp.gunicorn_worker``)
  takes the renders and their 503s.

Every step's clients run in a process of their own at niceness :data:`CLIENT_NICE`: on a machine
of two cores the load generators would otherwise take the CPU the server needs, which clients on
other machines never do. The server keeps the niceness it was started with (``dot`` runs below
it, ``WEBAPP_DOT_NICE``), and each ratio compares steps measured the same way.

Bounded: about 40 s in all, loopback only, every loop stops at its deadline.
"""

from __future__ import annotations

import dataclasses
import http.client
import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

STEP_SECONDS = 2.0
"""How long each (kind, concurrency) step runs."""

CONCURRENCY = (1, 8, 64)

CLIENT_NICE = 5
"""Niceness of the client processes (see the module's text)."""


@dataclass
class Sample:
    """What one step measured."""

    seconds: float
    latencies: list[float] = field(default_factory=list)
    ok: int = 0
    busy: int = 0
    errors: int = 0

    @property
    def rps(self) -> float:
        return (self.ok + self.busy + self.errors) / self.seconds

    @property
    def ok_rps(self) -> float:
        return self.ok / self.seconds

    def pct(self, q: float) -> float:
        """The ``q`` quantile of latency in ms (0 when nothing answered)."""
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


class Kind:
    """One kind of request: ``request(n)`` gives (method, path, body, headers) for the n-th."""

    def __init__(self, name: str, request):
        self.name = name
        self.request = request


def _kinds(cached_path: str) -> dict[str, Kind]:
    def render(fmt: str):
        def make(n: int):
            body = json.dumps({"dockerfile": f"# request {n}\n{_DOCKERFILE}", "format": fmt})
            return "POST", "/api/render", body, {"Content-Type": "application/json"}

        return make

    return {
        "cached link": Kind("cached link", lambda n: ("GET", cached_path, None, {})),
        "JSON render": Kind("JSON render", render("json")),
        "SVG render": Kind("SVG render", render("svg")),
    }


_DOCKERFILE = """\
FROM golang:1.22 AS build
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/root/.cache/go-build go build -o /out/app ./cmd/app
FROM build AS test
RUN go test ./...
FROM alpine:3.20 AS final
COPY --from=build /out/app /usr/local/bin/app
ENTRYPOINT ["app"]
"""

_counter = iter(range(10**9))
_counter_lock = threading.Lock()


def _next() -> int:
    with _counter_lock:
        return next(_counter)


def drive(port: int, kind: Kind, clients: int, seconds: float) -> Sample:
    """``clients`` threads send ``kind`` requests back to back for ``seconds``."""
    sample = Sample(seconds)
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while time.monotonic() < deadline:
            method, path, body, headers = kind.request(_next())
            started = time.monotonic()
            try:
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                status = response.status
                if response.will_close:
                    conn.close()
            except (OSError, http.client.HTTPException):
                conn.close()
                status = 0
            took = time.monotonic() - started
            with lock:
                sample.latencies.append(took)
                if 200 <= status < 300:
                    sample.ok += 1
                elif status == 503:
                    sample.busy += 1
                else:
                    sample.errors += 1
        conn.close()

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + 35)
    return sample


def _line(label: str, s: Sample) -> str:
    return (
        f"  {label:<34} {s.rps:8.1f} req/s  p50 {s.pct(0.5):7.1f} ms  p99 {s.pct(0.99):7.1f} ms"
        f"  ok {s.ok:5d}  503 {s.busy:4d}  errors {s.errors:3d}"
    )


def drive_apart(port: int, kind: str, clients: int, seconds: float, cached: str) -> subprocess.Popen:
    """:func:`drive` in a client process at :data:`CLIENT_NICE`; :func:`collect` reads its sample."""
    argv = [sys.executable, "-m", "scripts.bench_load", "--drive", str(port), kind, str(clients)]
    return subprocess.Popen(
        [*argv, str(seconds), cached],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: os.nice(CLIENT_NICE),  # noqa: PLW1509 - a client process, no threads yet
    )


def collect(proc: subprocess.Popen, seconds: float) -> Sample:
    out, _ = proc.communicate(timeout=seconds + 40)
    return Sample(**json.loads(out))


def bench_load(print_table=print) -> dict:
    """Run every step against a fresh gunicorn; returns the samples by (kind, clients)."""
    sys.path.insert(0, str(ROOT / "tests"))
    from browser_util import Server

    from webapp import links

    env = {"WEBAPP_RATE_RENDERS": "0", "WEBAPP_RATE_SHARES": "0"}
    server = Server(workers=2, env=env)
    results: dict = {}
    try:
        server.wait_ready()
        cached = links.stateless_path(_DOCKERFILE) + ".svg"
        for _ in range(4):  # each worker draws it once
            drive(server.port, Kind("warm", lambda n: ("GET", cached, None, {})), 2, 0.2)
        for kind in _kinds(cached):
            for clients in CONCURRENCY:
                sample = collect(drive_apart(server.port, kind, clients, STEP_SECONDS, cached), STEP_SECONDS)
                results[(kind, clients)] = sample
                print_table(_line(f"{kind} x{clients}", sample))
        seconds = STEP_SECONDS * 2
        storm = drive_apart(server.port, "SVG render", 64, seconds, cached)
        time.sleep(0.3)  # let the storm build up before the readers start
        readers = collect(drive_apart(server.port, "cached link", 8, seconds - 0.6, cached), seconds)
        renders = collect(storm, seconds)
        results[("overload renders", 64)] = renders
        results[("overload cached", 8)] = readers
        print_table(_line("overload: SVG renders x64", renders))
        print_table(_line("overload: cached link x8 alongside", readers))
    finally:
        server.stop()
    return results


def _drive_main(port: int, kind: str, clients: int, seconds: float, cached: str) -> None:
    """``--drive PORT KIND CLIENTS SECONDS CACHED_PATH``: one step; its sample as JSON on stdout."""
    sample = drive(port, _kinds(cached)[kind], clients, seconds)
    print(json.dumps(dataclasses.asdict(sample)))


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    if sys.argv[1:2] == ["--drive"]:
        port, kind, clients, seconds, cached = sys.argv[2:7]
        _drive_main(int(port), kind, int(clients), float(seconds), cached)
    else:
        bench_load()
