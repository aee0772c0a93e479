"""Benchmarks with floors: ``make bench`` (``.venv/bin/python -m scripts.bench``) from the repo root.

Each section is a function ``section(ctx) -> list[Result]`` listed in :data:`SECTIONS`; add your
own (the web and share code can time their paths the same way). Every figure is printed beside
its floor with PASS or FAIL, and the exit status is 1 when anything fails.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "data" / "corpus"
MOBY = CORPUS / "real" / "moby__moby__Dockerfile.Dockerfile"


@dataclass(frozen=True, slots=True)
class Result:
    """One measured figure and the floor it must meet."""

    name: str
    """What was measured."""
    value: float
    """The measurement."""
    unit: str
    """ms, x, MB ..."""
    floor: float
    """The bound the value must stay at or under."""

    @property
    def passed(self) -> bool:
        """True when the value is within its floor."""
        return self.value <= self.floor


def median_ms(fn: Callable[[], object], runs: int, warmup: int = 2) -> float:
    """Median wall time of ``fn()`` in milliseconds over ``runs`` runs after ``warmup`` runs."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def generated_dockerfile(stages: int) -> str:
    """A Dockerfile of ``stages`` stages wired with FROM, COPY --from, RUN --mount and ADD."""
    lines = ["# syntax=docker/dockerfile:1", "ARG BASE=alpine:3.20", "FROM ${BASE} AS s0", "RUN echo 0 > /f0"]
    for i in range(1, stages):
        base = f"s{i - 1}" if i % 3 else "${BASE}"
        lines.append(f"FROM {base} AS s{i}")
        lines.append(f"COPY --from=s{i // 2} /f{i // 2} /g{i}")
        lines.append(f"RUN --mount=type=bind,from=s{max(i - 2, 0)},target=/m echo {i} > /f{i}")
        if i % 10 == 0:
            lines.append(f"ADD https://example.com/{i}.tar.gz /a{i}")
        lines.append(f"ENV STEP={i}")
    return "\n".join(lines) + "\n"


# --- sections ------------------------------------------------------------------------------------


def analysis_section(ctx: dict) -> list[Result]:
    """Tokenise + analyse moby's 59-stage Dockerfile."""
    from webapp import analyze

    text = ctx["moby"]
    ctx["graph"] = analyze(text)
    return [Result("tokenise+analyse moby (median)", median_ms(lambda: analyze(text), 30), "ms", 5.0)]


def dot_section(ctx: dict) -> list[Result]:
    """Graph -> DOT for both views of moby."""
    from webapp.render import to_dot

    graph = ctx["graph"]
    ctx["dot"] = to_dot(graph)
    return [
        Result("DOT generation, stages view (median)", median_ms(lambda: to_dot(graph), 30), "ms", 5.0),
        Result(
            "DOT generation, layers view (median)", median_ms(lambda: to_dot(graph, "layers"), 30), "ms", 10.0
        ),
    ]


def svg_section(ctx: dict) -> list[Result]:
    """Our contained run_dot (limits, fresh cwd, sanitiser) against a bare ``dot -Tsvg``."""
    from webapp.render import run_dot

    dot_text = ctx["dot"]
    data = dot_text.encode()
    dot = shutil.which("dot")
    if not dot:
        return [Result("Graphviz 'dot' not installed", float("inf"), "", 0.0)]

    def bare() -> bytes:
        return subprocess.run([dot, "-Tsvg"], input=data, capture_output=True, check=True).stdout

    # interleaved, so a busy machine slows both sides alike
    run_dot(dot_text, "svg")
    bare()
    ours, plain = [], []
    for _ in range(15):
        started = time.perf_counter()
        run_dot(dot_text, "svg")
        ours.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        bare()
        plain.append((time.perf_counter() - started) * 1000)
    ours_ms, bare_ms = statistics.median(ours), statistics.median(plain)
    ctx["svg_ms"] = ours_ms
    return [
        Result(
            f"SVG render via run_dot ({ours_ms:.0f} ms) / bare dot ({bare_ms:.0f} ms)",
            ours_ms / bare_ms,
            "x",
            1.2,
        )
    ]


_MEMORY_PROBE = """
import json, resource, sys, tracemalloc
from webapp import analyze
from webapp.render import to_dot
text = sys.stdin.read()
tracemalloc.start()
graph = analyze(text)
dot = to_dot(graph)
peak = tracemalloc.get_traced_memory()[1]
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"stages": len(graph.stages), "edges": len(graph.edges), "peak": peak, "rss": rss}))
"""


def memory_section(ctx: dict) -> list[Result]:
    """Peak memory of analyse + DOT for a generated 400-stage Dockerfile, in a fresh interpreter."""
    text = generated_dockerfile(400)
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", _MEMORY_PROBE],
        input=text,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    elapsed = (time.perf_counter() - started) * 1000
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        print(f"  memory probe failed: {last}")
        return [Result("400-stage analyse+DOT (probe failed)", float("inf"), "MB", 200.0)]
    info = json.loads(proc.stdout)
    label = f"400-stage analyse+DOT ({info['stages']} stages, {info['edges']} edges)"
    return [
        Result(f"{label}: peak RSS", info["rss"] / 2**20, "MB", 200.0),
        Result(f"{label}: peak traced Python", info["peak"] / 2**20, "MB", 200.0),
        Result("400-stage probe wall time (incl. interpreter start)", elapsed, "ms", 10_000.0),
    ]


def share_section(ctx: dict) -> list[Result]:
    """A cached share SVG against a fresh render of the same diagram (issue 4: under a tenth)."""
    from scripts.bench_share import bench_share

    rows = []
    for name, fresh, cached in bench_share():
        short = name.removesuffix(".Dockerfile")
        rows.append(Result(f"share {short}: fresh render (cache bypassed)", fresh, "ms", 10_000.0))
        rows.append(Result(f"share {short}: cached share SVG", cached, "ms", fresh / 10))
    return rows


def web_section(ctx: dict) -> list[Result]:
    """The web app: server render time against bare dot, page weight, page usable (issue 3)."""
    from scripts.bench_web import page_usable_ms, page_weight_gzip_kb, page_weight_kb, server_vs_dot

    server_ms, bare_ms = server_vs_dot(ctx["moby"])
    rows = [
        Result(
            f"POST /api/render svg, moby ({server_ms:.0f} ms) / bare dot ({bare_ms:.0f} ms)",
            server_ms / bare_ms,
            "x",
            1.2,
        ),
        Result("editor page JavaScript + CSS, libraries included", page_weight_kb(), "KB", 500.0),
        Result("the same as served (gzip)", page_weight_gzip_kb(), "KB", 160.0),
    ]
    if shutil.which(os.environ.get("CHROMIUM", "/usr/bin/chromium")):
        rows.append(
            Result("editor page usable on localhost (first diagram drawn)", page_usable_ms(), "ms", 1000.0)
        )
    else:
        rows.append(Result("editor page usable: Chromium not installed", float("inf"), "ms", 1000.0))
    return rows


def cluster_section(ctx: dict) -> list[Result]:
    """Cached link rps through the local cluster's nginx, two instances against one (issue 11)."""
    from scripts.bench_cluster import cluster_section as section

    return section(ctx)


def load_section(ctx: dict) -> list[Result]:
    """The server under load through real gunicorn (issue 7): see scripts/bench_load.py."""
    from scripts.bench_load import bench_load

    samples = bench_load(print_table=lambda line: None)
    rows = []
    for (kind, clients), s in samples.items():
        if kind.startswith("overload"):
            continue
        label = (
            f"{kind} x{clients}: {s.rps:.0f} req/s ({s.ok} ok, {s.busy} 503), p50 {s.pct(0.5):.0f} ms; p99"
        )
        rows.append(Result(label, s.pct(0.99), "ms", float("inf")))
    errors = sum(s.errors for s in samples.values())
    rows.append(Result("load: answers neither 2xx nor 503, all steps", errors, "", 0))
    storm, readers = samples[("overload renders", 64)], samples[("overload cached", 8)]
    alone = samples[("cached link", 8)]
    rows.append(
        Result(
            f"overload: 64 SVG clients ({storm.ok} drawn, {storm.busy} fast 503), p99 of all answers",
            storm.pct(0.99),
            "ms",
            2000.0,
        )
    )
    rows.append(
        Result(
            f"overload: cached link x8 alone ({alone.ok_rps:.0f}/s) / beside it ({readers.ok_rps:.0f}/s)",
            alone.ok_rps / max(readers.ok_rps, 0.001),
            "x",
            3.0,
        )
    )
    rows.append(Result("overload: cached link p50 beside the render storm", readers.pct(0.5), "ms", 50.0))
    return rows


SECTIONS: list[tuple[str, Callable[[dict], list[Result]]]] = [
    ("analysis", analysis_section),
    ("dot", dot_section),
    ("svg", svg_section),
    ("memory", memory_section),
    ("share", share_section),
    ("web", web_section),
    ("load", load_section),
    ("cluster", cluster_section),
]
"""(name, function) pairs run in order; later sections may read what earlier ones put in ctx."""


def main(argv: list[str] | None = None) -> int:
    """Run every section (or those named in argv) and print the table; 1 if any figure fails."""
    sys.path.insert(0, str(ROOT))
    wanted = set(argv if argv is not None else sys.argv[1:])
    ctx: dict = {"moby": MOBY.read_text(encoding="utf-8")}
    results: list[tuple[str, Result]] = []
    for name, section in SECTIONS:
        if wanted and name not in wanted and name not in ("analysis", "dot"):
            continue
        try:
            rows = section(ctx)
        except Exception as exc:  # a broken section is a FAIL row, not a crash of the whole bench
            rows = [Result(f"{name} failed: {type(exc).__name__}: {exc}"[:80], float("inf"), "", 0.0)]
        results.extend((name, row) for row in rows)
    width = max(len(r.name) for _, r in results)
    print(f"{'section':<9} {'measurement':<{width}} {'value':>10}   {'floor':>10}   result")
    for name, r in results:
        value = f"{r.value:.2f} {r.unit}".strip()
        floor = f"<= {r.floor:g} {r.unit}".strip()
        print(f"{name:<9} {r.name:<{width}} {value:>10}   {floor:>10}   {'PASS' if r.passed else 'FAIL'}")
    return 0 if all(r.passed for _, r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
