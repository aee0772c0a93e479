"""Render admission: how many costly requests a worker runs at once, and a fast 503 past that.

One :class:`RenderGate` per app and process (``app.extensions["renders"].gate``; a gunicorn
worker and its costly process each have their own, ``webapp.gunicorn_worker``). A costly request
(analysis, drawing) takes a slot; when none is free it waits at most ``wait`` seconds, and only
while fewer than ``waiting`` others already wait; otherwise it is refused at once with
:class:`~webapp.errors.RenderBusy` (503 + ``Retry-After``). So at most ``slots + waiting`` threads
of a costly process are ever held by costly requests, and it has more threads than that
(``webapp.config.worker_threads``): cheap requests always find one. The worker's own threads
serve GET and HEAD and never wait (:func:`no_waiting`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from ..errors import RenderBusy

BUSY_MESSAGE = "too many diagrams are being drawn right now; try again in a few seconds"

_thread = threading.local()


def no_waiting() -> None:
    """Mark the calling thread as one that never waits for a slot: when none is free it is refused
    at once. The read pool of :mod:`webapp.gunicorn_worker` runs its threads so, to stay free for
    cached answers."""
    _thread.no_waiting = True


class RenderGate:
    """At most ``slots`` holders at once; at most ``waiting`` more wait up to ``wait`` seconds."""

    def __init__(self, slots: int, *, waiting: int, wait: float):
        self.slots = max(1, int(slots))
        self.waiting = max(0, int(waiting))
        self.wait = max(0.0, float(wait))
        self._free = threading.BoundedSemaphore(self.slots)
        self._lock = threading.Lock()
        self._waiters = 0
        self._held = 0
        self.refused = 0
        """How many requests were answered busy (for tests and the bench)."""

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold a slot for the duration of the block, or raise :class:`RenderBusy`."""
        self.acquire(self._free)
        with self._lock:
            self._held += 1
        try:
            yield
        finally:
            with self._lock:
                self._held -= 1
            self._free.release()

    def acquire(self, lock) -> None:
        """Acquire ``lock`` (a slot, or another request's render of the same key), waiting as one
        of this gate's waiters: at most ``wait`` seconds, and only while the queue has room."""
        if lock.acquire(blocking=False):
            return
        if getattr(_thread, "no_waiting", False):
            self._refuse()
        with self._lock:
            queue_full = self._waiters >= self.waiting
            if not queue_full:
                self._waiters += 1
        if queue_full:
            self._refuse()
        try:
            admitted = lock.acquire(timeout=self.wait) if self.wait else False
        finally:
            with self._lock:
                self._waiters -= 1
        if not admitted:
            self._refuse()

    def _refuse(self) -> None:
        with self._lock:
            self.refused += 1
        raise RenderBusy(BUSY_MESSAGE)

    @property
    def in_flight(self) -> int:
        """Slots held right now."""
        return self._held
