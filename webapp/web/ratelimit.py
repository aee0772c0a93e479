"""Per-client rate limits on every route that costs CPU, counted by the ``limits`` library.

Two budgets per client and minute (moving window): ``renders`` (WEBAPP_RATE_RENDERS: the API's
renders, the editor's diagrams, the no-JS form, the secret scan, stateless link creation and
uncached share-link renders, all from one budget) and ``shares`` (WEBAPP_RATE_SHARES: stored links
created). A view says what it costs with :func:`costs`; :class:`RateLimits` (one per app) wraps
those views so that each call charges its budget through :meth:`RateLimits.check`, which code
calls too (a share link charges only when its render is not cached). 0 turns a budget off.
``limits`` (the engine of Flask-Limiter, used directly) holds the storage and the moving-window
counter. Nothing runs on every request: requests that cost nothing (cached links, pages,
``/healthz``) pay nothing for limits (Flask-Limiter's per-request hook cost a sixth of a cached
link's time).

Clients are keyed on ``request.remote_addr``, which is the peer address unless
WEBAPP_TRUSTED_PROXIES > 0, when werkzeug's ProxyFix takes it from that many X-Forwarded-For
hops (see ``create_app``). Counts live in WEBAPP_RATE_STORAGE_URI: ``memory://`` keeps them per
process, a gunicorn worker (uncached links) and its costly process (POSTs) apart
(``webapp.gunicorn_worker``), so a client may reach up to 2 x workers x the limit; a shared
store such as Redis gives an exact bound.
"""

from __future__ import annotations

import functools
import logging
import math
import time
from collections.abc import Callable

from flask import Flask, current_app, request
from limits import parse
from limits.errors import ConfigurationError
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from ..errors import RateLimited

BUDGETS = {
    "renders": ("RATE_RENDERS", "renders"),
    "shares": ("RATE_SHARES", "share links created"),
}
"""Budget -> (setting holding its per-minute limit, what the message calls it)."""

KEY_PREFIX = "webapp"

log = logging.getLogger(__name__)


def costs(budget: str) -> Callable:
    """Mark a view as charging ``budget`` once per request (wired by :class:`RateLimits`)."""
    if budget not in BUDGETS:
        raise ValueError(f"unknown rate-limit budget {budget!r}")

    def mark(view: Callable) -> Callable:
        view.rate_budget = budget  # type: ignore[attr-defined]
        return view

    return mark


def client_key() -> str:
    """The client a request counts against: its address (after ProxyFix, when configured)."""
    return request.remote_addr or "unknown"


class RateLimits:
    """The app's budgets, their counter and storage; one per app."""

    def __init__(self, app: Flask):
        settings = app.config["SETTINGS"]
        self.per_minute = {name: int(settings[setting]) for name, (setting, _) in BUDGETS.items()}
        uri = settings["RATE_STORAGE_URI"] or "memory://"
        try:
            self.counter = MovingWindowRateLimiter(storage_from_string(uri))
        except ConfigurationError as exc:
            raise ValueError(f"WEBAPP_RATE_STORAGE_URI={uri!r} cannot be used: {exc}") from None
        for endpoint, view in list(app.view_functions.items()):
            budget = getattr(view, "rate_budget", None)
            if budget and self.per_minute[budget] > 0:
                app.view_functions[endpoint] = self._charging(view, budget)

    def _charging(self, view: Callable, budget: str) -> Callable:
        @functools.wraps(view)
        def charged(*args, **kwargs):
            self.check(budget)
            return view(*args, **kwargs)

        return charged

    def check(self, budget: str) -> None:
        """Charge one request to the client's ``budget``, or raise :class:`RateLimited`."""
        if self.per_minute[budget] <= 0:
            return
        item = parse(self._limit_text(budget))
        args = (KEY_PREFIX, client_key(), budget)
        try:
            allowed = self.counter.hit(item, *args)
            reset = 0.0 if allowed else self.counter.get_window_stats(item, *args).reset_time
        except Exception:  # noqa: BLE001 - a store that is down lets requests through: never a 500
            log.exception("rate-limit storage failed; letting the request through")
            return
        if not allowed:
            raise self._refused(budget, _seconds_until(reset))

    def _limit_text(self, budget: str) -> str:
        return f"{self.per_minute[budget]}/minute"

    def _refused(self, budget: str, wait: int) -> RateLimited:
        what, most = BUDGETS[budget][1], self.per_minute[budget]
        return RateLimited(f"too many {what}: at most {most} per minute; try again in {wait} s", wait)


def _seconds_until(timestamp: float) -> int:
    """Whole seconds from now until ``timestamp``, within the one-minute window."""
    return min(60, max(1, math.ceil(timestamp - time.time())))


def rate_limits() -> RateLimits:
    """The current app's :class:`RateLimits`."""
    return current_app.extensions["rate_limits"]
