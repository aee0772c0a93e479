"""Per-client sliding-window rate limits, kept in process memory.

Each gunicorn worker keeps its own windows, so with N workers a client can reach up to N times the
limit in the worst case; a shared limiter (Redis, the database) is the upgrade for deployments that
need an exact bound. The window is one minute.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque


class RateLimited(Exception):
    """Too many requests from one client; answer 429 with ``Retry-After``."""

    status = 429

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after

    def to_dict(self) -> dict:
        """The JSON form used by the API."""
        return {"message": self.message, "line": None}


class SlidingWindow:
    """At most ``limit`` events per ``window`` seconds per key; ``limit <= 0`` means no limit."""

    def __init__(self, limit: int, window: float = 60.0, *, clock=time.monotonic, max_keys: int = 100_000):
        self.limit = int(limit)
        self.window = float(window)
        self.clock = clock
        self.max_keys = max_keys
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> float:
        """Record an event for ``key``; return 0 when allowed, else the seconds until it would be."""
        if self.limit <= 0:
            return 0.0
        now = self.clock()
        with self._lock:
            events = self._events.get(key)
            if events is None:
                if len(self._events) >= self.max_keys:
                    self._prune(now)
                events = self._events[key] = deque()
            while events and events[0] <= now - self.window:
                events.popleft()
            if len(events) >= self.limit:
                return max(events[0] + self.window - now, 0.001)
            events.append(now)
            return 0.0

    def check(self, key: str, what: str) -> None:
        """Record an event or raise :class:`RateLimited` naming ``what`` and the limit."""
        wait = self.hit(key)
        if wait:
            raise RateLimited(
                f"too many {what}: at most {self.limit} per minute; try again in {math.ceil(wait)} s",
                math.ceil(wait),
            )

    def _prune(self, now: float) -> None:
        for key in [k for k, ev in self._events.items() if not ev or ev[-1] <= now - self.window]:
            del self._events[key]
