"""Bench: a cached stored link through the local cluster's nginx, two app instances against one;
and a cached link image beside a render storm, through the same proxy.

``python -m scripts.bench_cluster [--seconds 4] [--concurrency 16]`` (also the ``cluster``
section of ``make bench``). Starts a cluster with scripts/cluster.py in a temporary folder (free
ports, loopback only), stores one Dockerfile, draws its page once, then for a fixed time keeps
``concurrency`` keep-alive clients (spread over 4 processes) asking for the share page
``/s/<id>`` — answered from the app's render cache, which nginx does not cache, so every request
reaches an instance. Once with nginx spreading over both instances, once with one (nginx
reloaded with a single upstream, the other instance stopped). Prints requests per second, p50,
p99 and errors for each, and the ratio.

Then, with both instances, the production answer to render overload: a stateless link's image
(``/d/…/….svg``, which nginx caches, deploy/nginx-proxy.conf) read by 8 clients alone, then
beside 64 clients asking for SVG renders through the same proxy (scripts/bench_load.py's storm,
shed by the instances with fast 503s). Bounded: a few seconds per phase, loopback only.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import shutil
import signal
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEXT = (
    "FROM golang:1.22 AS build\nWORKDIR /src\nCOPY . .\nRUN go build -o /out/app .\n"
    'FROM alpine:3.20 AS final\nCOPY --from=build /out/app /usr/local/bin/app\nENTRYPOINT ["app"]\n'
)


def _client(port: int, path: str, until: float, threads: int, queue) -> None:
    """One load process: ``threads`` keep-alive clients until ``until``; puts (latencies, errors)."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()

    def run():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        mine, bad = [], 0
        while time.time() < until:
            started = time.perf_counter()
            try:
                conn.request("GET", path)
                response = conn.getresponse()
                response.read()
                ok = response.status == 200
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                ok = False
            if ok:
                mine.append(time.perf_counter() - started)
            else:
                bad += 1
        conn.close()
        with lock:
            latencies.extend(mine)
            errors[0] += bad

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    queue.put((latencies, errors[0]))


def load(port: int, path: str, seconds: float, concurrency: int, processes: int = 4) -> dict:
    """``{"rps", "p50_ms", "p99_ms", "errors", "requests"}`` of ``concurrency`` clients for ``seconds``."""
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    until = time.time() + seconds
    per = [concurrency // processes + (1 if i < concurrency % processes else 0) for i in range(processes)]
    procs = [ctx.Process(target=_client, args=(port, path, until, n, queue)) for n in per if n]
    for p in procs:
        p.start()
    latencies: list[float] = []
    errors = 0
    for _ in procs:
        got, bad = queue.get(timeout=seconds + 60)
        latencies.extend(got)
        errors += bad
    for p in procs:
        p.join(timeout=30)
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] if latencies else float("nan")
    return {
        "requests": len(latencies),
        "rps": len(latencies) / seconds,
        "p50_ms": statistics.median(latencies) * 1000 if latencies else float("nan"),
        "p99_ms": p99 * 1000,
        "errors": errors,
    }


def bench_cluster(seconds: float = 4.0, concurrency: int = 16) -> dict:
    """Start a cluster, measure two instances then one; ``{"two": {...}, "one": {...}}``."""
    from scripts.cluster import Cluster, free_port, wait_http

    folder = tempfile.mkdtemp(prefix="webapp-bench-cluster-")
    cluster = Cluster(folder)
    cluster.configure(
        port=free_port(), instances=2, workers=2, env={"WEBAPP_RATE_SHARES": "0", "WEBAPP_RATE_RENDERS": "0"}
    )
    try:
        cluster.up()
        conn = http.client.HTTPConnection("127.0.0.1", cluster.state["port"], timeout=30)
        conn.request(
            "POST", "/api/share", json.dumps({"dockerfile": TEXT}), {"Content-Type": "application/json"}
        )
        made = json.loads(conn.getresponse().read())
        path = made["url"]
        for index in range(2):  # each instance draws it once (or finds it in Redis)
            wait_http(cluster.app_url(index) + path, 30)
        port = cluster.state["port"]
        results = {"two": load(port, path, seconds, concurrency)}
        results.update(_overload(cluster, port))
        ports = cluster.state["apps"]
        cluster.state["apps"] = ports[:1]
        cluster.start_nginx()  # reload with one upstream
        cluster.state["apps"] = ports
        cluster.stop_app(1, signal.SIGQUIT)
        results["one"] = load(port, path, seconds, concurrency)
        return results
    finally:
        cluster.down()
        shutil.rmtree(folder, ignore_errors=True)


def _overload(cluster, port: int) -> dict:
    """A cached link image alone, then beside a 64-client render storm, all through nginx."""
    from scripts.bench_load import collect, drive_apart
    from scripts.cluster import wait_http
    from webapp import links

    image = links.stateless_path(TEXT) + ".svg"
    wait_http(f"http://127.0.0.1:{port}{image}", 30)  # drawn once, now in nginx's cache
    alone = load(port, image, 2.0, 8)
    storm = drive_apart(port, "SVG render", 64, 4.0, image)
    time.sleep(0.3)  # the storm is under way
    beside = load(port, image, 3.4, 8)
    renders = collect(storm, 4.0)
    return {"image alone": alone, "image beside": beside, "storm": renders}


def cluster_section(ctx: dict) -> list:
    """``make bench``'s ``cluster`` section: the figures of :func:`bench_cluster` with floors."""
    from scripts.bench import Result

    results = bench_cluster()
    two, one = results["two"], results["one"]
    rows = []
    for name, r in (("two", two), ("one", one)):
        label = f"cached link x16, {name} instance(s): {r['rps']:.0f} req/s, p50 {r['p50_ms']:.0f} ms; p99"
        rows.append(Result(label, r["p99_ms"], "ms", 2000.0))
    rows.append(Result("cluster: failed requests, both phases", two["errors"] + one["errors"], "", 0))
    rows.append(
        Result(
            f"cluster: req/s with one instance / with two ({one['rps']:.0f} / {two['rps']:.0f})",
            one["rps"] / max(two["rps"], 1e-9),
            "x",
            1.5,  # a second instance must never make the service slower (on 2 shared cores, ~1x)
        )
    )
    alone, beside, storm = results["image alone"], results["image beside"], results["storm"]
    rows.append(
        Result(
            f"proxy: 64 SVG clients ({storm.ok} drawn, {storm.busy} fast 503), p99 of all answers",
            storm.pct(0.99),
            "ms",
            2000.0,
        )
    )
    rows.append(
        Result(
            f"proxy: cached link image x8 alone ({alone['rps']:.0f}/s) / beside it ({beside['rps']:.0f}/s)",
            alone["rps"] / max(beside["rps"], 1e-9),
            "x",
            3.0,
        )
    )
    rows.append(Result("proxy: cached link image failures beside the storm", beside["errors"], "", 0))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.bench_cluster")
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args(argv)
    results = bench_cluster(args.seconds, args.concurrency)
    for name in ("two", "one"):
        r = results[name]
        print(
            f"{name} instance(s): {r['rps']:8.1f} req/s  p50 {r['p50_ms']:6.1f} ms  "
            f"p99 {r['p99_ms']:6.1f} ms  errors {r['errors']}  ({r['requests']} requests)"
        )
    print(f"two / one: {results['two']['rps'] / max(results['one']['rps'], 1e-9):.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
