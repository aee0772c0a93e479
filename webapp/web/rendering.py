"""The app's renders: admission, and one cache of results and refusals for every door.

:class:`Renders` is created once per app (``app.extensions["renders"]``). The API, the editor's
form and share links all draw through :meth:`Renders.cached`: a cached answer (or a cached
refusal: too large, too slow, Graphviz failing) costs a lookup; otherwise the work runs once per
key at a time, under a slot of the :class:`~webapp.web.admission.RenderGate`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from flask import current_app

from .. import config
from ..cache import open_cache, render_key
from ..errors import Refusal
from .admission import RenderGate

Drawn = tuple[bytes, str]
"""``(body, mimetype)``."""


class Renders:
    """Render admission (slots per worker), the byte-bounded render cache, one render per key."""

    def __init__(self, settings: dict):
        slots = config.render_slots(settings)
        self.gate = RenderGate(
            slots,
            waiting=config.worker_threads(settings) - slots - config.SPARE_THREADS,
            wait=float(settings["RENDER_WAIT"]),
        )
        self.cache = open_cache(settings)  # per-process LRU, in front of Redis with REDIS_URL
        self._lock = threading.Lock()
        self._inflight: dict[str, threading.Lock] = {}

    def cached(
        self,
        key: str,
        draw: Callable[[], Drawn],
        *,
        on_miss: Callable[[], None] | None = None,
        gated: bool = True,
    ) -> Drawn:
        """The answer for ``key``: from the cache, or ``draw()`` run once and remembered.

        A refusal ``draw`` raises is remembered too (when the same input would meet it again) and
        raised for later requests without drawing. ``on_miss`` runs before any work (the rate
        limit of uncached renders); ``gated`` takes a render slot around ``draw`` (callers that
        already hold one pass False). Concurrent misses for one key wait for the first, briefly.
        """
        hit = self.cache.get(key)
        if hit is not None:
            return hit
        if on_miss is not None:
            on_miss()
        lock = self._key_lock(key)
        self.gate.acquire(lock)  # another request drawing this key: wait for it like for a slot
        try:
            hit = self.cache.get(key)
            if hit is not None:
                return hit
            try:
                if gated:
                    with self.gate.slot():
                        body, mimetype = draw()
                else:
                    body, mimetype = draw()
            except Refusal as exc:
                self.cache.put_failure(key, exc)
                raise
            self.cache.put(key, body, mimetype)
            return body, mimetype
        finally:
            lock.release()
            with self._lock:
                self._inflight.pop(key, None)

    def _key_lock(self, key: str) -> threading.Lock:
        with self._lock:
            return self._inflight.setdefault(key, threading.Lock())


def renders() -> Renders:
    """The current app's :class:`Renders`."""
    return current_app.extensions["renders"]


def cache_key(text: str | bytes, options: dict, fmt: str, *, codec: str) -> str:
    """The cache key (and ETag) of one render: renderer and Graphviz versions, input, options, format."""
    from ..render import RENDERER_VERSION, graphviz_version

    if isinstance(text, bytes):  # an upload: any bytes, kept distinct
        text = text.decode("utf-8", "surrogateescape")
    versions = {"renderer": RENDERER_VERSION, "graphviz": graphviz_version()}
    return render_key(**versions, codec=codec, text=text, options=options, fmt=fmt)
