"""An in-process render cache bounded in bytes, and the key that is also the ETag.

The key is a hash of everything that decides the bytes of a render: the renderer's version, the
Graphviz version, the link codec, the canonical Dockerfile text, the canonical options and the
format. Same key, same bytes; anything that changes the output changes the key, so a cached entry
can never be stale and a strong ETag can be derived from it.

Refusals that the same input would meet again (graph too large, too slow to draw, Graphviz
failing) are cached under the same key, so a repeated hostile request costs a lookup, not another
``dot`` run. They expire after the refusal's ``cache_seconds`` (:data:`FAILURE_TTL` unless the
class says otherwise: a timeout, which a loaded machine may cause and a quiet one not, a minute).

Every cache has ``get(key)``, ``put(key, body, mimetype)`` and ``put_failure(key, exc)``
(:class:`Cache`). :func:`open_cache` picks one from the settings: a per-process LRU
(:class:`RenderCache`), or, with ``REDIS_URL``, that LRU in front of Redis (:class:`SharedCache`),
so a render drawn by one instance is served by all. Refusals stay in the local LRU only. Redis is
a cache, never a dependency: when it cannot be reached, lookups miss and stores are skipped (and
logged once a minute), so the app keeps working on its local LRU.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import threading
import time
from abc import ABC, abstractmethod
from collections import OrderedDict

from .errors import Refusal

FAILURE_TTL = 600.0
"""Seconds a cached refusal is served before the render is tried again."""

_FAILURE_COST = 256
"""Bytes a cached refusal counts for (its message and bookkeeping)."""

log = logging.getLogger(__name__)


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


class Cache(ABC):
    """A render cache: ``key -> (body, mimetype)`` or a refusal; thread-safe."""

    @abstractmethod
    def get(self, key: str) -> tuple[bytes, str] | None:
        """The cached ``(body, mimetype)``, or None; a cached refusal is raised again."""

    @abstractmethod
    def put(self, key: str, body: bytes, mimetype: str) -> None:
        """Remember a render."""

    def put_failure(self, key: str, exc: Refusal) -> None:  # noqa: B027 - optional
        """Remember a refusal (caches that cannot hold one ignore it)."""


class RenderCache(Cache):
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


class RedisCache(Cache):
    """Renders in Redis under ``webapp:render:<key>``, each kept ``ttl`` seconds.

    Redis bounds its memory itself (``maxmemory`` with an LRU policy, see docs/deploy.md). Any
    Redis error is a miss or a skipped store: short socket timeouts keep a dead Redis from
    holding requests.
    """

    PREFIX = "webapp:render:"

    def __init__(self, url: str, *, ttl: int = 7 * 24 * 3600, timeout: float = 0.5, max_body: int = 8 << 20):
        import redis

        self.url = url
        self.ttl = ttl
        self.max_body = max_body
        self._errors = (redis.RedisError, OSError)
        self._client = redis.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout, health_check_interval=30
        )
        self._last_log = 0.0

    def _failed(self, what: str, exc: BaseException) -> None:
        now = time.monotonic()
        if now - self._last_log > 60:
            self._last_log = now
            log.warning("redis render cache: %s failed: %s", what, exc)

    def get(self, key: str) -> tuple[bytes, str] | None:
        try:
            raw = self._client.get(self.PREFIX + key)
        except self._errors as exc:
            self._failed("get", exc)
            return None
        if not raw:
            return None
        mimetype, sep, body = bytes(raw).partition(b"\n")
        return (body, mimetype.decode("ascii")) if sep else None

    def put(self, key: str, body: bytes, mimetype: str) -> None:
        if len(body) > self.max_body:
            return
        try:
            self._client.set(self.PREFIX + key, mimetype.encode("ascii") + b"\n" + body, ex=self.ttl)
        except self._errors as exc:
            self._failed("put", exc)

    def ping(self) -> bool:
        try:
            return bool(self._client.ping())
        except self._errors:
            return False


class SharedCache(Cache):
    """A per-process LRU in front of a shared cache: local hits cost nothing, misses ask the
    shared one (and keep what it had), new renders go to both."""

    def __init__(self, local: RenderCache, shared: Cache):
        self.local = local
        self.shared = shared

    def get(self, key: str) -> tuple[bytes, str] | None:
        hit = self.local.get(key)
        if hit is None:
            hit = self.shared.get(key)
            if hit is not None:
                self.local.put(key, *hit)
        return hit

    def put(self, key: str, body: bytes, mimetype: str) -> None:
        self.local.put(key, body, mimetype)
        self.shared.put(key, body, mimetype)

    def put_failure(self, key: str, exc: Refusal) -> None:
        self.local.put_failure(key, exc)

    @property
    def hits(self) -> int:
        return self.local.hits

    @property
    def size(self) -> int:
        return self.local.size

    def __len__(self) -> int:
        return len(self.local)


def open_cache(settings: dict) -> Cache:
    """The render cache the settings ask for: ``CACHE_BYTES`` locally, plus Redis at ``REDIS_URL``."""
    local = RenderCache(settings["CACHE_BYTES"])
    url = settings.get("REDIS_URL") or ""
    if not url:
        return local
    return SharedCache(local, RedisCache(url))
