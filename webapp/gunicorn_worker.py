"""The gunicorn worker for `make run`: gthread with a second, separate pool for cheap reads.

gunicorn's ``gthread`` worker hands every readable connection to one thread pool, first come first
served. Under a storm of render requests that queue is always full of them (most answered 503 by
the render gate, but each still waits its turn), so a cached link or ``/healthz`` waits behind
dozens of renders. :class:`ReadFirstWorker` looks at the first bytes a connection has sent
(without consuming them) and sends ``GET``/``HEAD`` requests to a pool of their own
(:func:`webapp.config.read_threads` threads). Such threads never wait for a render slot
(:func:`webapp.web.admission.no_waiting`): an uncached link that finds every slot taken is answered
503 at once, so the read pool stays free for answers that cost a cache lookup.
"""

from __future__ import annotations

import functools
import selectors
import socket
import time
from concurrent import futures

from gunicorn.workers.gthread import ThreadWorker

from . import config
from .web.admission import no_waiting

READ_METHODS = (b"GET ", b"HEAD ")


def is_read(first_bytes: bytes) -> bool:
    """Whether a request starting with ``first_bytes`` is a GET or HEAD."""
    return first_bytes.startswith(READ_METHODS)


def peek(conn) -> bytes | None:
    """The first bytes waiting on ``conn`` (from the parser's buffer or the socket), unconsumed:
    None when nothing has arrived yet, empty when the client has closed its side."""
    parser = getattr(conn, "parser", None)
    buffered = getattr(getattr(parser, "unreader", None), "buf", None)
    if buffered is not None:
        data = buffered.getvalue()
        if data:
            return data[:8]
    try:
        return conn.sock.recv(8, socket.MSG_PEEK | socket.MSG_DONTWAIT)
    except (BlockingIOError, InterruptedError):
        return None
    except OSError:
        return b""  # reset: let a thread find out and close it


class ReadFirstWorker(ThreadWorker):
    """gthread, with GET/HEAD requests served by their own threads (see the module's text)."""

    def init_process(self):
        settings = config.load()
        self.read_pool = futures.ThreadPoolExecutor(
            max_workers=config.read_threads(settings), initializer=no_waiting
        )
        super().init_process()

    def enqueue_req(self, conn):
        first = peek(conn)
        if first is None:  # a new connection, nothing sent yet: wait in the poller, not in a pool
            self._wait_for_data(conn)
            return
        pool = self.read_pool if is_read(first) or not first else self.tpool
        done = pool.submit(self.handle, conn)
        done.add_done_callback(lambda fut: self.method_queue.defer(self.finish_request, conn, fut))

    def _wait_for_data(self, conn):
        """Park ``conn`` in the poller until it is readable (or closed at the keep-alive timeout),
        as gthread parks a connection whose thread waited for data in vain."""
        conn.sock.setblocking(False)
        conn.timeout = time.monotonic() + self.cfg.keepalive
        self.pending_conns.append(conn)
        self.poller.register(
            conn.sock, selectors.EVENT_READ, functools.partial(self.on_pending_socket_readable, conn)
        )

    def handle_quit(self, sig, frame):
        self.read_pool.shutdown(wait=False)
        super().handle_quit(sig, frame)

    def run(self):
        try:
            super().run()
        finally:
            self.read_pool.shutdown(wait=False)
