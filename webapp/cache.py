"""An in-process render cache bounded in bytes, and the key that is also the ETag.

The key is a hash of everything that decides the bytes of a render: the renderer's version, the
Graphviz version, the link codec, the canonical Dockerfile text, the canonical options and the
format. Same key, same bytes; anything that changes the output changes the key, so a cached entry
can never be stale and a strong ETag can be derived from it.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict


def render_key(*, renderer: str, graphviz: str, codec: str, text: str, options: dict, fmt: str) -> str:
    """The cache key and ETag value (hex SHA-256) of one render."""
    parts = [renderer, graphviz, codec, text, json.dumps(options, sort_keys=True, separators=(",", ":")), fmt]
    h = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8", "surrogatepass")
        h.update(len(data).to_bytes(8, "big"))
        h.update(data)
    return h.hexdigest()


class RenderCache:
    """Least-recently-used ``key -> (body, mimetype)``, at most ``max_bytes`` of bodies; thread-safe."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max(0, int(max_bytes))
        self._items: OrderedDict[str, tuple[bytes, str]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: str) -> tuple[bytes, str] | None:
        """The cached ``(body, mimetype)``, or None."""
        with self._lock:
            item = self._items.get(key)
            if item is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return item

    def put(self, key: str, body: bytes, mimetype: str) -> None:
        """Remember a render; entries larger than the whole cache are not kept."""
        size = len(body)
        if size > self.max_bytes:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= len(old[0])
            self._items[key] = (body, mimetype)
            self._bytes += size
            while self._bytes > self.max_bytes:
                _, (evicted, _) = self._items.popitem(last=False)
                self._bytes -= len(evicted)

    @property
    def size(self) -> int:
        """Bytes of bodies held."""
        return self._bytes

    def __len__(self) -> int:
        return len(self._items)
