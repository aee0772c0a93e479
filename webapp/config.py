"""Every setting as data: name, default, help. Read from the environment as ``WEBAPP_<NAME>``."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Setting:
    """One configurable value."""

    name: str
    """Upper-case name; the environment variable is ``WEBAPP_`` + name."""
    default: Any
    """Default value; its type is the setting's type."""
    help: str
    """One line for the README."""


SETTINGS: tuple[Setting, ...] = (
    Setting("MAX_INPUT_BYTES", 1024 * 1024, "Largest Dockerfile accepted, in bytes."),
    Setting("MAX_STAGES", 500, "Most stages a Dockerfile may have."),
    Setting("MAX_INSTRUCTIONS", 10000, "Most instructions a Dockerfile may have."),
    Setting("DOT_TIMEOUT", 10.0, "Seconds Graphviz may run before it is killed."),
    Setting("DOT_MEMORY_MB", 1024, "Address-space limit for Graphviz, in MiB."),
    Setting(
        "DOT_NICE",
        10,
        "Niceness (0-19) of Graphviz processes above the gunicorn worker's: drawings yield the CPU"
        " to cheap requests such as cached links.",
    ),
    Setting(
        "COSTLY_NICE",
        5,
        "Niceness (0-19) added to each worker's costly process (every request but GET and HEAD), so"
        " cached links and pages get the CPU first; Graphviz stays DOT_NICE above the worker.",
    ),
    Setting("WARM_DOT", True, "Keep one Graphviz process started ahead per worker, saving its start-up."),
    Setting(
        "MAX_RENDERS",
        2,
        "Costly requests (analysis, drawing) in flight per process: in each worker's costly process"
        " (every request but GET and HEAD; 2 x this + 2 threads) and in the worker itself (uncached"
        " links; this + 2 threads for GET and HEAD).",
    ),
    Setting("RENDER_WAIT", 0.3, "Seconds a costly request waits for a free slot before a 503."),
    Setting("WORKERS", 0, "gunicorn workers for `make run`; 0 means 2 x cores + 1."),
    Setting(
        "DATABASE",
        "",
        "Share database: a SQLite path (empty means shares.sqlite3 in the instance folder) "
        "or a postgresql:// URL.",
    ),
    Setting(
        "SHARE_MAX_BYTES", 256 * 1024, "Largest Dockerfile (or project text) that can be stored as a share."
    ),
    Setting("LINK_MAX_CHARS", 8000, "Longest stateless link payload accepted."),
    Setting(
        "LINK_MAX_SOURCE", 64 * 1024, "Largest Dockerfile (or project text) a stateless link may inflate to."
    ),
    Setting(
        "CACHE_BYTES",
        64 * 1024 * 1024,
        "Render cache size per process (a worker and its costly process keep one each), in bytes.",
    ),
    Setting("RATE_SHARES", 30, "Share links one client may create per minute."),
    Setting(
        "RATE_RENDERS",
        120,
        "Uncached renders (API, editor, no-JS form, secret scan, uncached links) one client may ask"
        " for per minute; 0 means no limit.",
    ),
    Setting(
        "RATE_STORAGE_URI",
        "memory://",
        "Storage of rate-limit counts (a `limits` storage URI); memory:// counts per process (a"
        " worker and its costly process apart), redis://host:6379 shares.",
    ),
    Setting(
        "TRUSTED_PROXIES",
        0,
        "Reverse proxies in front of the app whose X-Forwarded-For and -Proto are believed; 0 trusts none.",
    ),
    Setting(
        "PUBLIC_URL",
        "",
        "Public base URL (scheme://host[:port]) for absolute links; when set, other Host values get 400.",
    ),
    Setting("REDIS_URL", "", "redis:// URL of a render cache shared by all instances; empty means none."),
    Setting("EMBED_ORIGIN", "", "Origin (scheme://host) for embedded images; empty means this app."),
    Setting(
        "MAX_LAYOUT_COST",
        5500,
        "Largest layout cost (estimated size of Graphviz's node-placement problem) drawn; denser is a 422.",
    ),
)

SPARE_THREADS = 2
"""Threads of each pool kept for cheap requests beyond renders (``/healthz`` and cached links in
a worker's read pool, cheap POSTs in its costly process)."""

MAX_REQUEST_LINE = 8190
"""gunicorn's ceiling for ``limit_request_line``; larger values are silently clamped to it."""

LINK_LINE_OVERHEAD = sum(
    map(len, ("GET ", "/api/link/999/", ".json", "?view=layers&target=", "t" * 128, " HTTP/1.1"))
)
"""Request-line characters around a link payload: the longest route prefix the app issues
(``/api/link/<version>/``), the longest extension, both query options at their longest (a target
is at most 128 characters) and the method and protocol."""


def worker_threads(settings: dict[str, Any]) -> int:
    """Threads of a worker's costly process (every request but GET and HEAD,
    ``webapp.gunicorn_worker``): MAX_RENDERS drawing, as many waiting for a slot, and spares.

    The render gate (``webapp.web.admission``) lets at most MAX_RENDERS run and MAX_RENDERS wait;
    anything more is a 503 at once, so :data:`SPARE_THREADS` threads always remain for cheap
    requests. This is the one place that ties threads to render slots.
    """
    return 2 * render_slots(settings) + SPARE_THREADS


def read_threads(settings: dict[str, Any]) -> int:
    """Threads of a gunicorn worker itself, which serves GET and HEAD requests
    (``webapp.gunicorn_worker``); they never wait for a render slot, so MAX_RENDERS of them may
    draw uncached links and the spares stay free for cached answers."""
    return render_slots(settings) + SPARE_THREADS


def costly_nice(settings: dict[str, Any]) -> int:
    """Niceness added to each worker's costly process (0-19)."""
    return min(19, max(0, int(settings["COSTLY_NICE"])))


def render_slots(settings: dict[str, Any]) -> int:
    """Costly requests in flight per worker (at least one)."""
    return max(1, int(settings["MAX_RENDERS"]))


def request_line_limit(settings: dict[str, Any]) -> int:
    """The longest HTTP request line the app must accept: every link it issues fits.

    Raises ValueError when LINK_MAX_CHARS is too long for gunicorn's ceiling, so the limits can
    never disagree silently.
    """
    limit = int(settings["LINK_MAX_CHARS"]) + LINK_LINE_OVERHEAD
    if limit > MAX_REQUEST_LINE:
        most = MAX_REQUEST_LINE - LINK_LINE_OVERHEAD
        raise ValueError(
            f"WEBAPP_LINK_MAX_CHARS={settings['LINK_MAX_CHARS']} makes links longer than gunicorn accepts"
            f" ({MAX_REQUEST_LINE} characters per request line); use at most {most}"
        )
    return limit


_BY_NAME = {s.name: s for s in SETTINGS}


def _convert(setting: Setting, raw: str) -> Any:
    kind = type(setting.default)
    if kind is bool:
        return raw.strip().lower() in ("1", "true", "yes", "on")
    if kind in (int, float):
        try:
            return kind(raw)
        except ValueError as exc:
            raise ValueError(f"WEBAPP_{setting.name} must be a number, got {raw!r}") from exc
    return raw


def load(environ: dict[str, str] | None = None, **overrides: Any) -> dict[str, Any]:
    """Defaults, then ``WEBAPP_*`` variables from ``environ``, then ``overrides``."""
    environ = os.environ if environ is None else environ
    values = {s.name: s.default for s in SETTINGS}
    for s in SETTINGS:
        raw = environ.get("WEBAPP_" + s.name)
        if raw is not None:
            values[s.name] = _convert(s, raw)
    for name, value in overrides.items():
        if name not in _BY_NAME:
            raise KeyError(f"unknown setting {name}")
        values[name] = value
    return values
