"""Benchmarks with floors: ``make bench`` (``.venv/bin/python -m scripts.bench``) from the repo root.

Every time is printed as a ratio to one fixed reference measured in the same run: ``dot -Tsvg``
of ``tests/data/bench/reference.dot``, the DOT the renderer wrote for moby's Dockerfile
(``tests/data/corpus/real/moby__moby__Dockerfile.Dockerfile``) when the reference was frozen.
The machine is shared and its load changes from minute to minute; a ratio taken in one run
(each figure interleaved with runs of the reference, medians of both) stays comparable where
milliseconds do not, and it stays comparable as our own DOT changes, because the reference DOT
never does.

Each section is a function ``section(ctx) -> list[Result]`` listed in :data:`SECTIONS`; add your
own. Every figure is printed beside its floor with PASS or FAIL, and the exit status is 1 when
anything fails. ``python -m scripts.bench http svg`` runs only the sections named; ``--repeat 3``
judges each figure by its median over three runs.
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DATA = ROOT / "tests" / "data" / "bench"
MOBY = ROOT / "tests" / "data" / "corpus" / "real" / "moby__moby__Dockerfile.Dockerfile"
"""moby's 59-stage Dockerfile (the vendored corpus: moby/moby@b985e23, Apache-2.0)."""
REFERENCE_DOT = BENCH_DATA / "reference.dot"
"""The DOT the renderer wrote for :data:`MOBY` in the stages view when the reference was frozen.
Never regenerate it: it is the yardstick, not a golden file."""
SEED = ROOT / "webapp" / "examples" / "builder-pattern.Dockerfile"
"""The seed-sized two-stage file the editor page opens with."""


@dataclass(frozen=True, slots=True)
class Result:
    """One measured figure and the floor it must meet."""

    name: str
    """What was measured (with the absolute figure, for ratios)."""
    value: float
    """The measurement."""
    unit: str
    """x (ratio to the reference), MB, KB ..."""
    floor: float
    """The bound the value must stay at or under."""

    @property
    def passed(self) -> bool:
        """True when the value is within its floor."""
        return self.value <= self.floor


class Reference:
    """``dot -Tsvg`` of the frozen reference DOT, timed between the runs of whatever is compared to it."""

    def __init__(self) -> None:
        self.dot = shutil.which("dot")
        self.data = REFERENCE_DOT.read_bytes()
        self.times: list[float] = []
        """Every reference run of this bench, in ms."""

    def run_ms(self) -> float:
        if not self.dot:
            raise RuntimeError("Graphviz 'dot' is not installed")
        started = time.perf_counter()
        subprocess.run([self.dot, "-Tsvg"], input=self.data, capture_output=True, check=True)
        elapsed = (time.perf_counter() - started) * 1000
        self.times.append(elapsed)
        return elapsed

    @property
    def median_ms(self) -> float:
        """The median of every reference run so far."""
        return statistics.median(self.times)

    def compare(
        self, fn: Callable[[], object], runs: int, *, inner: int = 1, warmup: int = 2
    ) -> tuple[float, float]:
        """``(fn ms, reference ms)``: medians over ``runs`` rounds of one reference run and ``inner``
        calls of ``fn`` (per call), so both sides see the same load."""
        for _ in range(warmup):
            fn()
        ours, ref = [], []
        for _ in range(runs):
            ref.append(self.run_ms())
            started = time.perf_counter()
            for _ in range(inner):
                fn()
            ours.append((time.perf_counter() - started) * 1000 / inner)
        return statistics.median(ours), statistics.median(ref)

    def ratio(
        self, name: str, fn: Callable[[], object], runs: int, floor: float, *, inner: int = 1
    ) -> Result:
        """A :class:`Result` row: ``fn``'s median time over the reference's, in the same rounds."""
        ours, ref = self.compare(fn, runs, inner=inner)
        return Result(f"{name} ({ours:.2f} ms / {ref:.1f} ms)", ours / ref, "x", floor)


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
    return [ctx["ref"].ratio("tokenise+analyse moby", lambda: analyze(text), 15, 0.2, inner=3)]


def dot_section(ctx: dict) -> list[Result]:
    """Graph -> DOT for both views of moby."""
    from webapp.render import to_dot

    graph = ctx["graph"]
    ctx["dot"] = to_dot(graph)
    ref = ctx["ref"]
    return [
        ref.ratio("DOT generation, stages view", lambda: to_dot(graph), 15, 0.15, inner=3),
        ref.ratio("DOT generation, layers view", lambda: to_dot(graph, "layers"), 15, 0.3, inner=3),
    ]


def svg_section(ctx: dict) -> list[Result]:
    """``render()`` of moby as SVG in-process with a warm runner (as a server worker draws it), a
    one-off cold ``run_dot`` of today's DOT, and bare ``dot`` on the same DOT, against the reference."""
    from webapp.render import DotRunner, render, run_dot

    ref: Reference = ctx["ref"]
    graph, dot_text = ctx["graph"], ctx["dot"]
    data = dot_text.encode()

    def bare() -> bytes:
        return subprocess.run([ref.dot, "-Tsvg"], input=data, capture_output=True, check=True).stdout

    with DotRunner(warm=True) as runner:
        rows = [
            ref.ratio(
                "render() SVG of moby, warm runner", lambda: render(graph, "svg", runner=runner), 15, 0.6
            )
        ]
    rows.append(
        ref.ratio(
            "run_dot SVG of today's moby DOT (cold, legend inside)", lambda: run_dot(dot_text, "svg"), 15, 1.2
        )
    )
    rows.append(ref.ratio("bare dot -Tsvg of today's moby DOT", bare, 15, 1.2))
    return rows


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
    ref_ms = ctx["ref"].run_ms()
    return [
        Result(f"{label}: peak RSS", info["rss"] / 2**20, "MB", 200.0),
        Result(f"{label}: peak traced Python", info["peak"] / 2**20, "MB", 200.0),
        Result(
            f"400-stage probe wall time, interpreter start included ({elapsed:.0f} ms)",
            elapsed / ref_ms,
            "x",
            250.0,
        ),
    ]


def http_section(ctx: dict) -> list[Result]:
    """The app served by gunicorn as ``make run`` does, over HTTP on loopback (issue 10's figures)."""
    from scripts.bench_web import http_figures

    return http_figures(ctx["ref"], ctx["moby"], SEED.read_text(encoding="utf-8"))


def web_section(ctx: dict) -> list[Result]:
    """The editor page: its weight and the time until it is usable (issue 3)."""
    from scripts.bench_web import page_usable_ms, page_weight_gzip_kb, page_weight_kb

    rows = [
        Result("editor page JavaScript + CSS, libraries included", page_weight_kb(), "KB", 500.0),
        Result("the same as served (gzip)", page_weight_gzip_kb(), "KB", 160.0),
    ]
    if shutil.which("chromium") or Path("/usr/bin/chromium").exists():
        usable = page_usable_ms()
        ref_ms = ctx["ref"].median_ms
        # issue 3's floor is one second, printed as a ratio like every other time
        rows.append(
            Result(
                f"editor page usable, first diagram drawn ({usable:.0f} ms; floor 1 s)",
                usable / ref_ms,
                "x",
                1000.0 / ref_ms,
            )
        )
    else:
        rows.append(Result("editor page usable: Chromium not installed", float("inf"), "x", 0.0))
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
    ("http", http_section),
    ("web", web_section),
    ("load", load_section),
    ("cluster", cluster_section),
]
"""(name, function) pairs run in order; later sections may read what earlier ones put in ctx."""


def _run_sections(ctx: dict, wanted: set[str]) -> list[tuple[str, Result]]:
    results: list[tuple[str, Result]] = []
    for name, section in SECTIONS:
        if wanted and name not in wanted and name not in ("analysis", "dot"):
            continue
        try:
            rows = section(ctx)
        except Exception as exc:  # a broken section is a FAIL row, not a crash of the whole bench
            rows = [Result(f"{name} failed: {type(exc).__name__}: {exc}"[:100], float("inf"), "", 0.0)]
        results.extend((name, row) for row in rows)
    return results


def _median_of_runs(runs: list[list[tuple[str, Result]]]) -> list[tuple[str, Result]]:
    """Each figure's median over repeated runs (rows matched by position; names from the last run)."""
    if len({len(run) for run in runs}) != 1:
        return runs[-1]  # a section failed in one run: show the last run as it was
    out = []
    for rows in zip(*runs, strict=True):
        name, last = rows[-1]
        value = statistics.median(r.value for _, r in rows)
        label = last.name if len(rows) == 1 else f"{last.name} [median of {len(rows)} runs]"
        out.append((name, Result(label, value, last.unit, last.floor)))
    return out


def main(argv: list[str] | None = None) -> int:
    """Run every section (or those named in argv) and print the table; 1 if any figure fails.

    ``--repeat N`` runs the sections N times and judges each figure by its median over the runs
    (the machine is shared: one run can land on a burst of load).
    """
    sys.path.insert(0, str(ROOT))
    args = list(argv if argv is not None else sys.argv[1:])
    repeat = 1
    if "--repeat" in args:
        at = args.index("--repeat")
        repeat = max(1, int(args[at + 1]))
        del args[at : at + 2]
    wanted = set(args)
    ref = Reference()
    for _ in range(3):
        ref.run_ms()
    ctx: dict = {"moby": MOBY.read_text(encoding="utf-8"), "ref": ref}
    results = _median_of_runs([_run_sections(ctx, wanted) for _ in range(repeat)])
    print(
        f"reference: dot -Tsvg of {REFERENCE_DOT.relative_to(ROOT)}, median {ref.median_ms:.1f} ms "
        f"over {len(ref.times)} runs in this bench; 'x' figures are medians over the reference's "
        "medians taken in the same rounds"
    )
    width = max(len(r.name) for _, r in results)
    print(f"{'section':<9} {'measurement':<{width}} {'value':>10}   {'floor':>10}   result")
    for name, r in results:
        value = f"{r.value:.3f} {r.unit}".strip() if r.unit == "x" else f"{r.value:.2f} {r.unit}".strip()
        floor = f"<= {r.floor:.3g} {r.unit}".strip()
        print(f"{name:<9} {r.name:<{width}} {value:>10}   {floor:>10}   {'PASS' if r.passed else 'FAIL'}")
    return 0 if all(r.passed for _, r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
