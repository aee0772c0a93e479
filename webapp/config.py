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
    Setting("WARM_DOT", True, "Keep one Graphviz process started ahead per worker, saving its start-up."),
    Setting("MAX_RENDERS", 4, "Renders in flight per worker before answering 503."),
    Setting("WORKERS", 0, "gunicorn workers for `make run`; 0 means 2 x cores + 1."),
    Setting("DATABASE", "", "Share database path; empty means shares.sqlite3 in the instance folder."),
    Setting("SHARE_MAX_BYTES", 256 * 1024, "Largest Dockerfile that can be stored as a share."),
    Setting("LINK_MAX_CHARS", 8000, "Longest stateless link payload accepted."),
    Setting("LINK_MAX_SOURCE", 64 * 1024, "Largest Dockerfile a stateless link may inflate to."),
    Setting("CACHE_BYTES", 64 * 1024 * 1024, "Render cache size per worker, in bytes."),
    Setting("RATE_SHARES", 30, "Share links one client may create per minute."),
    Setting("RATE_RENDERS", 120, "Uncached renders one client may ask for per minute."),
    Setting("EMBED_ORIGIN", "", "Origin (scheme://host) for embedded images; empty means this app."),
)

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
