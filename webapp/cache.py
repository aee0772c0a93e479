"""An in-process render cache bounded in bytes, and the key that is also the ETag.

The key is a hash of everything that decides the bytes of a render: the renderer's version, the
Graphviz version, the link codec, the canonical Dockerfile text, the canonical options and the
format. Same key, same bytes; anything that changes the output changes the key, so a cached entry
can never be stale and a strong ETag can be derived from it.

Refusals that the same input would meet again (graph too large, too slow to draw, Graphviz
failing) are cached under the same key, so a repeated hostile request costs a lookup, not another
``dot`` run. They expire after the refusal's ``cache_seconds`` (:data:`FAILURE_TTL` unless the
class says otherwise: a timeout, which a loaded machine may cause and a quiet one not, a minute).
"""

from __future__ import annotations

import copy
import hashlib
import json
import threading
import time
from collections import OrderedDict

from .errors import Refusal

FAILURE_TTL = 600.0
"""Seconds a cached refusal is served before the render is tried again."""

_FAILURE_COST = 256
"""Bytes a cached refusal counts for (its message and bookkeeping)."""


def render_key(*, renderer: str, graphviz: str, codec: str, text: str, options: dict, fmt: str) -> str:
    """The cache key and ETag value (hex SHA-256) of one render."""
    parts = [renderer, graphviz, codec, text, json.dumps(options, sort_keys=True, separators=(",", ":")), fmt]
    h = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8", "surrogatepass")
        h.update(len(data).to_bytes(8, "big"))
        h.update(data)
    return h.hexdigest()


class _Failure:
    """A cached refusal, and when it expires."""

    __slots__ = ("refusal", "expires")

    def __init__(self, refusal: Refusal, expires: float):
        self.refusal = copy.copy(refusal).with_traceback(None)
        self.expires = expires

    def exception(self) -> Refusal:
        """A fresh copy to raise (each request gets its own traceback)."""
        return copy.copy(self.refusal)


class RenderCache:
    """Least-recently-used ``key -> (body, mimetype)`` or a refusal, at most ``max_bytes``; thread-safe."""

    def __init__(self, max_bytes: int, *, clock=time.monotonic):
        self.max_bytes = max(0, int(max_bytes))
        self._items: OrderedDict[str, tuple[bytes, str] | _Failure] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self._clock = clock
        self.hits = 0
        self.misses = 0

    def get(self, key: str) -> tuple[bytes, str] | None:
        """The cached ``(body, mimetype)``, or None; a cached refusal is raised again."""
        with self._lock:
            item = self._items.get(key)
            if isinstance(item, _Failure) and item.expires <= self._clock():
                self._drop(key)
                item = None
            if item is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
        if isinstance(item, _Failure):
            raise item.exception()
        return item

    def put_failure(self, key: str, exc: Refusal) -> None:
        """Remember that rendering ``key`` is refused with ``exc`` (for its ``cache_seconds``)."""
        if not exc.cacheable or _FAILURE_COST > self.max_bytes:
            return
        with self._lock:
            self._drop(key)
            ttl = exc.cache_seconds if exc.cache_seconds is not None else FAILURE_TTL
            self._items[key] = _Failure(exc, self._clock() + ttl)
            self._bytes += _FAILURE_COST
            self._evict()

    def put(self, key: str, body: bytes, mimetype: str) -> None:
        """Remember a render; entries larger than the whole cache are not kept."""
        size = len(body)
        if size > self.max_bytes:
            return
        with self._lock:
            self._drop(key)
            self._items[key] = (body, mimetype)
            self._bytes += size
            self._evict()

    def _drop(self, key: str) -> None:
        old = self._items.pop(key, None)
        if old is not None:
            self._bytes -= _cost(old)

    def _evict(self) -> None:
        while self._bytes > self.max_bytes:
            _, evicted = self._items.popitem(last=False)
            self._bytes -= _cost(evicted)

    @property
    def size(self) -> int:
        """Bytes held (bodies, and a fixed cost per refusal)."""
        return self._bytes

    def __len__(self) -> int:
        return len(self._items)


def _cost(item: tuple[bytes, str] | _Failure) -> int:
    return _FAILURE_COST if isinstance(item, _Failure) else len(item[0])
