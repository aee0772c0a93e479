"""The gunicorn worker for `make run`: reads served in the worker, everything else in a child process.

gunicorn's ``gthread`` worker hands every readable connection to one thread pool, first come first
served. A second pool for reads (an earlier version of this worker) stopped cached links queueing
behind a render storm, but the two pools still shared one process: its GIL, and the scheduler's
view of it as one busy task. Beside 64 clients asking for renders (most of them answered 503 in
about 0.7 ms each, some hundreds a second) a cached link lost five sixths of its rate; served by a
separate process on the same machine it kept most of it.

So :class:`ReadFirstWorker` is two processes:

- **the worker** accepts connections, keeps them between requests, and peeks at the first bytes
  of each request (without consuming them). ``GET`` and ``HEAD`` requests (cached links, pages,
  static files, ``/healthz``) run in its own pool of :func:`webapp.config.read_threads` threads,
  which never wait for a render slot (:func:`webapp.web.admission.no_waiting`);
- **the costly process**, forked from the worker when it starts (the app already loaded), gets
  every other request's connection (its file descriptor, passed over a Unix socket pair with
  ``SCM_RIGHTS``) and serves it start to finish with gunicorn's own request handling: reading
  the body, the app, the render gate and its 503s, the response and the access log, in a pool of
  :func:`webapp.config.worker_threads` threads, at ``WEBAPP_COSTLY_NICE`` more niceness. A
  connection kept alive waits for its next request in the poller of the process that served the
  last one; a request of the other kind is passed over (peeked at, not consumed), so a client
  sending costly requests back to back costs the worker nothing after the first. A closed
  connection is reported so that the worker's count of its connections stays right.

Lifecycle: the costly process stops when the worker does (the worker half-closes the socket pair
when it starts its graceful stop, and the costly process finishes its requests within gunicorn's
``graceful_timeout``, closes the app's ``dot`` runner and exits) or dies (end of file on the pair;
``PR_SET_PDEATHSIG`` as a backstop). When the costly process dies, the worker sees end of file,
stops, and gunicorn's arbiter starts a new worker, which forks a new costly process. The costly
process never touches the worker's heartbeat file, ignores ``SIGINT`` (a terminal's Ctrl-C reaches
the arbiter, which stops the worker, which stops it), stops gracefully on ``SIGTERM`` and at once
on ``SIGQUIT`` (which the worker forwards when it is told to quit), and reopens log files on
``SIGUSR1`` (forwarded too). The worker reaps it; no zombie is left.

Passing a connection between processes works for plain HTTP/1.1 on TCP or Unix sockets; TLS and
the PROXY protocol keep per-connection state inside one process, so :meth:`check_config` refuses
them (terminate them at the reverse proxy).
"""

from __future__ import annotations

import array
import collections
import ctypes
import functools
import marshal
import os
import queue
import selectors
import signal
import socket
import sys
import threading
import time
from concurrent import futures

from gunicorn import http, util
from gunicorn.workers.gthread import STOP_KEEPALIVE_LINGER, TConn, ThreadWorker

from . import config
from .web.admission import no_waiting

READ_METHODS = (b"GET ", b"HEAD ")

COSTLY_NAME = b"webapp-costly"
"""The costly process's name (``/proc/<pid>/comm``, ``ps -o comm``)."""

_DONE, _BACK = 0, 1
"""Messages from the costly process: a connection closed, a connection handed back (with its fd)."""

_MESSAGE_BYTES = 1 << 16
"""Largest message on the socket pair: addresses and read-ahead bytes (gunicorn reads headers
8 KiB at a time and bodies no further than their end). A connection whose read-ahead would not
fit stays in the process that holds it for its next request."""

_PR_SET_PDEATHSIG = 1
_PR_SET_NAME = 15


def is_read(first_bytes: bytes) -> bool:
    """Whether a request starting with ``first_bytes`` is a GET or HEAD."""
    return first_bytes.startswith(READ_METHODS)


def peek(conn) -> bytes | None:
    """The first bytes waiting on ``conn`` (from the parser's buffer or the socket), unconsumed:
    None when nothing has arrived yet, empty when the client has closed its side."""
    buffered = _buffered(conn)
    if buffered:
        return buffered[:8]
    try:
        return conn.sock.recv(8, socket.MSG_PEEK | socket.MSG_DONTWAIT)
    except (BlockingIOError, InterruptedError):
        return None
    except OSError:
        return b""  # reset: let a thread find out and close it


def _buffered(conn) -> bytes:
    """Bytes of ``conn`` its parser has read ahead (the start of a pipelined request)."""
    buf = getattr(getattr(getattr(conn, "parser", None), "unreader", None), "buf", None)
    return buf.getvalue() if buf is not None else b""


def _receive_message(sock: socket.socket, flags: int = 0) -> tuple[bytes, list[int]]:
    """One message from the socket pair and the descriptors it carries (``socket.recv_fds``
    ignores its ``flags`` in the Pythons this runs on, CPython gh-107898, and the costly process
    needs MSG_DONTWAIT)."""
    message, ancillary, _flags, _addr = sock.recvmsg(_MESSAGE_BYTES, socket.CMSG_LEN(4), flags)
    fds = array.array("i")
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(data[: len(data) - len(data) % fds.itemsize])
    return message, list(fds)


def _adopt(cfg, fd: int, client, server, buffered: bytes) -> TConn:
    """A connection received from the other process, with the bytes its parser had read ahead."""
    conn = TConn(cfg, socket.socket(fileno=fd), client, server)
    if buffered:
        conn.parser = http.get_parser(cfg, conn.sock, client)
        conn.parser.unreader.unread(buffered)
        conn.data_ready = True  # the next request is in the buffer, maybe not on the socket
    return conn


def _prctl(option: int, value) -> None:
    """Linux's prctl(2), where there is one (a best effort: other systems have EOF alone)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0)
    except (OSError, AttributeError):
        pass


class ReadFirstWorker(ThreadWorker):
    """gthread, with GET/HEAD requests served in the worker and every other one in a child
    process (see the module's text)."""

    @classmethod
    def check_config(cls, cfg, log):
        super().check_config(cfg, log)
        if cfg.is_ssl or str(cfg.proxy_protocol) != "off":
            raise RuntimeError(
                "webapp.gunicorn_worker.ReadFirstWorker passes connections between processes and"
                " cannot serve TLS or the PROXY protocol: terminate them at the reverse proxy"
            )

    def init_process(self):
        self.settings = config.load()
        self.costly_pid = 0
        self._channel: socket.socket | None = None
        self._handoffs: collections.deque = collections.deque()  # waiting for room on the channel
        self._in_costly = 0  # connections the costly process holds (counted in nr_conns)
        self._writing = False  # the poller also waits for room on the socket pair
        self._stop_started: float | None = None
        self._quitting = False
        super().init_process()

    def get_thread_pool(self):
        """The worker's own pool serves GET and HEAD requests; its threads never wait for a slot."""
        return futures.ThreadPoolExecutor(
            max_workers=config.read_threads(self.settings), initializer=no_waiting
        )

    # --- the worker's side ------------------------------------------------------------------------

    def run(self):
        self._start_costly()
        try:
            super().run()
        finally:
            self._end_costly()

    def enqueue_req(self, conn):
        first = peek(conn)
        if first is None:  # a new connection, nothing sent yet: wait in the poller, not in a pool
            self._wait_for_data(conn)
        elif first and not is_read(first) and self._channel is not None and self._stop_started is None:
            self._handoffs.append(conn)
            self._flush_handoffs()
        else:  # a read, a closed connection for a thread to find out about, or (the costly
            # process stopping or gone) a last request on a kept-alive connection
            super().enqueue_req(conn)

    def _wait_for_data(self, conn):
        """Park ``conn`` in the poller until it is readable (or closed at the keep-alive timeout),
        as gthread parks a connection whose thread waited for data in vain."""
        conn.sock.setblocking(False)
        conn.timeout = time.monotonic() + self.cfg.keepalive
        self.pending_conns.append(conn)
        self.poller.register(
            conn.sock, selectors.EVENT_READ, functools.partial(self.on_pending_socket_readable, conn)
        )

    def _park(self, conn):
        """Keep ``conn`` (back from the costly process) until its next request or the keep-alive
        timeout, as gthread keeps a connection after a response."""
        conn.sock.setblocking(False)
        conn.set_timeout()
        if not self.alive:
            conn.timeout = min(conn.timeout, time.monotonic() + STOP_KEEPALIVE_LINGER)
        self.keepalived_conns.append(conn)
        self.poller.register(
            conn.sock, selectors.EVENT_READ, functools.partial(self.on_client_socket_readable, conn)
        )

    def _start_costly(self):
        """Fork the costly process (before this process starts any thread: only the forking
        thread exists in a child) and listen to it."""
        self._await_lone_thread()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        pid = os.fork()
        if pid == 0:
            ours.close()
            _CostlyProcess(self, theirs).run()  # never returns
        theirs.close()
        ours.setblocking(False)
        self.costly_pid = pid
        self._channel = ours
        self.poller.register(ours, selectors.EVENT_READ, self._on_channel)
        self.log.info("Costly requests of worker %s go to process %s", self.pid, pid)

    def _await_lone_thread(self, timeout: float = 1.0):
        """Let threads the app started while loading end before the fork (the rate-limit store's
        first expiry timer, 10 ms): a thread that holds a lock when the process forks leaves
        that lock held forever in the child. One that outlives ``timeout`` is named in the log."""
        deadline = time.monotonic() + timeout
        for thread in threading.enumerate():
            if thread is not threading.current_thread():
                thread.join(max(0.0, deadline - time.monotonic()))
        others = [t.name for t in threading.enumerate() if t is not threading.current_thread()]
        if others:
            self.log.warning("Forking the costly process beside running threads: %s", ", ".join(others))

    def _flush_handoffs(self):
        """Pass waiting connections to the costly process while its socket has room; when it is
        stopping or gone, serve them here instead (their last request, answered "close")."""
        while self._handoffs:
            conn = self._handoffs[0]
            if self._channel is None or self._stop_started is not None:
                self._handoffs.popleft()
                super().enqueue_req(conn)
                continue
            message = marshal.dumps((conn.client, conn.server, _buffered(conn)))
            if len(message) > _MESSAGE_BYTES:  # too much read ahead to pass: served here
                self._handoffs.popleft()
                super().enqueue_req(conn)
                continue
            try:
                socket.send_fds(self._channel, [message], [conn.sock.fileno()])
            except (BlockingIOError, InterruptedError):
                self._want_write(True)
                return
            except OSError:
                self._costly_gone()
                continue
            self._handoffs.popleft()
            self._in_costly += 1
            util.close(conn.sock)  # this process's copy; the costly process has its own
        self._want_write(False)

    def _want_write(self, wanted: bool):
        """Listen for room on the socket pair (handoffs waiting) or not."""
        if wanted != self._writing and self._channel is not None:
            events = selectors.EVENT_READ | (selectors.EVENT_WRITE if wanted else 0)
            self.poller.modify(self._channel, events, self._on_channel)
            self._writing = wanted

    def _on_channel(self, channel):
        """The socket pair is readable (connections back or closed) or, with handoffs waiting,
        writable."""
        if self._handoffs:
            self._flush_handoffs()
        for _ in range(256):  # bounded: the poller has other sockets to serve
            if self._channel is None:
                return
            try:
                message, fds = _receive_message(channel)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                message, fds = b"", []
            if not message:
                self._costly_gone()
                return
            kind, *rest = marshal.loads(message)
            self._in_costly -= 1
            if kind == _BACK and fds:
                client, server, buffered, ready = rest
                conn = _adopt(self.cfg, fds[0], client, server, buffered)
                if ready:  # its next request (a read) has arrived: classify it now
                    conn.data_ready = True
                    self.enqueue_req(conn)
                else:
                    self._park(conn)
            else:
                for fd in fds:
                    os.close(fd)
                self.nr_conns -= 1

    def _costly_gone(self):
        """End of file from the costly process: its connections are lost; this worker stops and
        the arbiter starts a new one (with a new costly process)."""
        if self._channel is None:
            return
        if self.alive:
            self.log.error("Costly process %s of worker %s exited; stopping", self.costly_pid, self.pid)
            self.alive = False
        try:
            self.poller.unregister(self._channel)
        except (KeyError, ValueError, OSError):  # the poller is already closed
            pass
        self._channel.close()
        self._channel = None
        self.nr_conns -= self._in_costly
        self._in_costly = 0
        self._flush_handoffs()  # those still waiting are served here

    def set_accept_enabled(self, enabled):
        # gthread calls this with False when its graceful stop begins: the moment to tell the
        # costly process to finish its requests and exit (alongside this worker's own).
        super().set_accept_enabled(enabled)
        if not enabled and not self.alive:
            self._begin_costly_stop()

    def _begin_costly_stop(self):
        """Half-close the socket pair: the costly process finishes what it has and exits; this
        worker still hears about the connections it closes or hands back."""
        if self._stop_started is not None:
            return
        self._flush_handoffs()  # what the socket pair still takes goes to the costly process
        self._stop_started = time.monotonic()
        self._flush_handoffs()  # the rest is served here
        if self._channel is not None:
            try:
                self._channel.shutdown(socket.SHUT_WR)
            except OSError:
                pass

    def _end_costly(self):
        """After this worker's own graceful stop: close the pair, wait for the costly process
        (at most until gunicorn's graceful timeout is nearly over), kill it past that, reap it."""
        if not self.costly_pid:
            return
        try:  # usually done already; after a quit the pools may be shut: nothing may stop the reaping
            self._begin_costly_stop()
        except Exception:  # noqa: BLE001
            self.log.debug("Stopping the costly process", exc_info=True)
        if self._channel is not None:
            try:
                self.poller.unregister(self._channel)
            except (KeyError, ValueError, OSError):
                pass
            self._channel.close()
            self._channel = None
        for conn in self._handoffs:
            util.close(conn.sock)
        self._handoffs.clear()
        if self._quitting:
            _signal(self.costly_pid, signal.SIGQUIT)
            deadline = time.monotonic() + 2.0
        else:
            deadline = self._stop_started + max(1.0, self.cfg.graceful_timeout - 1.0)
        while time.monotonic() < deadline:
            self.notify()
            if _reaped(self.costly_pid):
                self.costly_pid = 0
                return
            time.sleep(0.05)
        self.log.warning("The costly process %s did not stop in time; killed", self.costly_pid)
        _signal(self.costly_pid, signal.SIGKILL)
        try:
            os.waitpid(self.costly_pid, 0)
        except ChildProcessError:
            pass
        self.costly_pid = 0

    def handle_quit(self, sig, frame):
        if self._quitting:  # a second quit (Ctrl-C reaches the worker and the arbiter forwards
            return  # SIGQUIT) must not cut short the reaping of the costly process
        self._quitting = True
        super().handle_quit(sig, frame)

    def handle_usr1(self, sig, frame):
        super().handle_usr1(sig, frame)
        if self.costly_pid:
            _signal(self.costly_pid, signal.SIGUSR1)


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _reaped(pid: int) -> bool:
    """Whether child ``pid`` has exited (and is now reaped)."""
    try:
        done, _status = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return done == pid


class _CostlyProcess:
    """The costly process: the forked worker object serves the connections it is handed."""

    def __init__(self, worker: ReadFirstWorker, channel: socket.socket):
        self.worker = worker
        self.channel = channel
        self.parent = os.getppid()
        self.stop: str | None = None  # "graceful" or "now"
        self._idle = threading.Condition()
        self._in_flight = 0
        self._to_park: queue.SimpleQueue = queue.SimpleQueue()  # from pool threads to the loop
        self._parked: dict = {}  # connections waiting here for their next request, oldest first

    def run(self):
        """Serve until told to stop; then exit this process (never returns)."""
        code = 1
        try:
            self._become_costly()
            code = self._serve()
        except BaseException:  # noqa: BLE001 - whatever happens, this process must not return
            try:
                self.worker.log.exception("The costly process failed")
            except Exception:  # noqa: BLE001
                pass
        finally:
            _exit(self.worker, code)

    def _become_costly(self):
        worker = self.worker
        signal.set_wakeup_fd(-1)
        for sig in worker.SIGNALS:
            signal.signal(sig, signal.SIG_DFL)
        _prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        _prctl(_PR_SET_NAME, ctypes.c_char_p(COSTLY_NAME))
        if os.getppid() != worker.pid:  # the worker died before the line above
            self.stop = "now"
        # The worker's descriptors: listening sockets (only the worker accepts), its poller and
        # its wake-up pipes. Its heartbeat file is left alone (never written here).
        for listener in worker.sockets:
            util.close(listener)
        worker.poller.close()
        worker.method_queue.close()
        for fd in worker.PIPE:
            os.close(fd)
        nice = config.costly_nice(worker.settings)
        if nice:
            os.nice(nice)
            # dot's niceness is relative to the process that starts it: keep it DOT_NICE above
            # the worker, as before, not DOT_NICE above this process (on a busy machine a dot at
            # 15 gets a third of the CPU one at 10 gets, and may meet its wall-clock timeout)
            runner = getattr(worker.wsgi, "extensions", {}).get("dot_runner")
            if runner is not None:
                runner.nice = max(0, runner.nice - nice)
        wake_r, self._wake_w = os.pipe()
        os.set_blocking(wake_r, False)
        os.set_blocking(self._wake_w, False)
        self._wake_r = wake_r
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, lambda *_: self._request_stop("graceful"))
        signal.signal(signal.SIGQUIT, lambda *_: self._request_stop("now"))
        signal.signal(signal.SIGUSR1, lambda *_: worker.log.reopen_files())
        signal.set_wakeup_fd(self._wake_w)
        worker.tpool = futures.ThreadPoolExecutor(
            max_workers=config.worker_threads(worker.settings), thread_name_prefix="costly"
        )

    def _request_stop(self, how: str) -> None:
        if self.stop != "now":
            self.stop = how

    def _serve(self) -> int:
        worker = self.worker
        self._selector = selector = selectors.DefaultSelector()
        selector.register(self.channel, selectors.EVENT_READ)
        selector.register(self._wake_r, selectors.EVENT_READ)
        while self.stop is None:
            timeout = 1.0
            if self._parked:
                timeout = min(timeout, max(0.0, next(iter(self._parked)).timeout - time.monotonic()))
            for key, _ in selector.select(timeout):
                if key.data is not None:
                    self._on_parked_readable(key.data)
                elif key.fileobj is self.channel:
                    self._receive()
                else:
                    _drain(self._wake_r)
            self._park_finished()
            self._expire_parked()
            if not worker.alive:  # max_requests reached: stop; the worker follows
                self._request_stop("graceful")
            if os.getppid() != self.parent:
                self._request_stop("graceful")
        worker.alive = False  # requests still running answer "Connection: close"
        if self.stop == "graceful":
            self._unpark_all()
            deadline = time.monotonic() + max(0.5, worker.cfg.graceful_timeout - 2.0)
            with self._idle:
                while self._in_flight and self.stop == "graceful":
                    self._idle.wait(min(0.2, max(0.0, deadline - time.monotonic())))
                    if time.monotonic() >= deadline:
                        break
                    _drain(self._wake_r)
            self._unpark_all()
        return 0

    def _receive(self):
        """Take every connection waiting on the socket pair into the pool."""
        worker = self.worker
        while self.stop is None:
            try:
                message, fds = _receive_message(self.channel, socket.MSG_DONTWAIT)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                message, fds = b"", []
            if not message:  # the worker stopped (or died): finish and exit
                self._request_stop("graceful")
                return
            if not fds:
                continue
            client, server, buffered = marshal.loads(message)
            conn = _adopt(worker.cfg, fds[0], client, server, buffered)
            self._submit(conn)

    def _submit(self, conn) -> None:
        conn.data_ready = True  # its first bytes have arrived
        with self._idle:
            self._in_flight += 1
        self.worker.tpool.submit(self._serve_one, conn)

    # --- connections kept alive here between costly requests ------------------------------------

    def _park_finished(self) -> None:
        """Wait in this process's poller for the next request on connections whose last one was
        costly (put on the queue by the pool threads): a client sending costly requests back to
        back costs the worker nothing after its first."""
        while True:
            try:
                conn = self._to_park.get_nowait()
            except queue.Empty:
                return
            conn.timeout = time.monotonic() + self.worker.cfg.keepalive
            self._parked[conn] = None
            self._selector.register(conn.sock, selectors.EVENT_READ, conn)

    def _unpark(self, conn) -> None:
        del self._parked[conn]
        try:
            self._selector.unregister(conn.sock)
        except (KeyError, ValueError, OSError):
            pass

    def _on_parked_readable(self, conn) -> None:
        """The next request (or the client's close) on a parked connection: costly requests are
        served here, reads go back to the worker, a closed connection is closed."""
        first = peek(conn)
        if first is None:  # nothing after all
            return
        self._unpark(conn)
        if not first:
            self._closed(conn, graceful=False)
        elif is_read(first):
            self._hand_back(conn, ready=True)
        else:
            self._submit(conn)

    def _expire_parked(self) -> None:
        """Close parked connections at the keep-alive timeout, as gthread does."""
        now = time.monotonic()
        while self._parked:
            conn = next(iter(self._parked))
            if conn.timeout > now:
                return
            self._unpark(conn)
            self._closed(conn, graceful=False)

    def _unpark_all(self) -> None:
        """Stopping: parked connections go back to the worker, which keeps them briefly for a
        last request (answered "close"), as gthread does when it stops."""
        self._park_finished()
        for conn in list(self._parked):
            self._unpark(conn)
            self._hand_back(conn, ready=False)

    # --- the end of a request ---------------------------------------------------------------------

    def _handle(self, conn) -> bool:
        """gunicorn's handling of the request on ``conn``: True when the connection stays open."""
        try:
            return bool(self.worker.handle(conn))
        except BaseException:  # noqa: BLE001 - handle() answers errors itself; this is a backstop
            return False

    def _serve_one(self, conn) -> None:
        """In a pool thread: serve the request on ``conn`` (gunicorn's own handling) and any
        costly request the client sent right behind it; then park the connection here, hand it
        back to the worker (a read read ahead, or stopping), or close it and say so."""
        try:
            keep = self._handle(conn)
            while keep:
                ahead = _buffered(conn)
                if not ahead and self.stop is None:
                    self._to_park.put(conn)
                    _wake(self._wake_w)
                elif len(ahead) > _MESSAGE_BYTES - 1024 or (
                    ahead and self.stop is None and not is_read(ahead)
                ):
                    keep = self._handle(conn)  # pipelined: costly, or too much to pass back
                    continue
                else:
                    self._hand_back(conn, ready=bool(ahead))
                return
            self._closed(conn, graceful=True)
        finally:
            with self._idle:
                self._in_flight -= 1
                self._idle.notify_all()

    def _hand_back(self, conn, *, ready: bool) -> None:
        """Pass ``conn`` back to the worker (``ready``: its next request has arrived)."""
        message = marshal.dumps((_BACK, conn.client, conn.server, _buffered(conn), ready))
        try:
            socket.send_fds(self.channel, [message], [conn.sock.fileno()])
        except OSError:  # the worker is gone
            conn.close()
        else:
            util.close(conn.sock)

    def _closed(self, conn, *, graceful: bool) -> None:
        """Close ``conn`` and tell the worker, which counts its connections."""
        try:
            self.channel.send(marshal.dumps((_DONE,)))
        except OSError:
            pass
        conn.close(graceful=graceful)


def _wake(fd: int) -> None:
    try:
        os.write(fd, b"\0")
    except OSError:  # the pipe is full: the loop wakes anyway
        pass


def _drain(fd: int) -> None:
    try:
        while os.read(fd, 512):
            pass
    except (BlockingIOError, InterruptedError, OSError):
        pass


def _exit(worker: ReadFirstWorker, code: int):
    """Leave the costly process without returning into gunicorn's code (which would act as the
    worker): close the app's ``dot`` runner (spares killed, temp folder removed), run the exit
    handlers a normal exit would run, flush the logs."""
    try:
        runner = getattr(worker.wsgi, "extensions", {}).get("dot_runner")
        if runner is not None:
            runner.close()
        import atexit

        atexit._run_exitfuncs()
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
    finally:
        os._exit(code)
