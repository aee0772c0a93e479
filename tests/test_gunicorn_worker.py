"""The worker's costly process (webapp/gunicorn_worker.py), against real gunicorn.

Each gunicorn worker serves GET and HEAD itself and hands every other request's connection to a
child process of its own. What the tests observe is outside the app: the access log, written by
whichever process served the request, names that process (``%(p)s``, set through
``GUNICORN_CMD_ARGS`` like any deployment could), and ``/proc`` shows the processes, their
niceness and which of them holds a connection's socket.

Two servers: ``split`` (module-scoped, one worker) for what a running server does, and one of
its own for the lifecycle test, which kills processes and stops the server.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import statistics
import time
import types
import uuid
from pathlib import Path

import pytest
from browser_util import Server

from webapp import gunicorn_worker

pytestmark = pytest.mark.dot

LOG_FORMAT = "--access-logformat 'served %(p)s %({x-probe}i)s %(m)s %(s)s'"
"""Access log lines naming the serving process and the request's X-Probe header."""

KEEPALIVE = 2
"""gunicorn's keep-alive timeout on the ``split`` server, in seconds."""

RENDER = {"dockerfile": "FROM alpine:3.20 AS app\nRUN true\n", "format": "svg"}


def _server(tmp: Path, **env) -> Server:
    env = {"GUNICORN_CMD_ARGS": LOG_FORMAT, "TMPDIR": str(tmp), **env}
    return Server(workers=1, env=env)


@pytest.fixture(scope="module")
def split(tmp_path_factory):
    args = f"{LOG_FORMAT} --keep-alive {KEEPALIVE}"
    with _server(tmp_path_factory.mktemp("split"), WEBAPP_COSTLY_NICE="3", GUNICORN_CMD_ARGS=args) as server:
        yield server


# --- processes ------------------------------------------------------------------------------------


def _stat(pid: int) -> list[str]:
    """/proc/<pid>/stat's fields after the command name (fields[0] is the state)."""
    text = Path(f"/proc/{pid}/stat").read_text()
    return text[text.rindex(")") + 2 :].split()


def _running(pid: int) -> bool:
    try:
        return _stat(pid)[0] != "Z"
    except OSError:
        return False


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if int(_stat(int(entry))[1]) == pid:
                    found.append(int(entry))
            except (OSError, IndexError, ValueError):
                continue
    return sorted(found)


def _comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:  # gone meanwhile
        return ""


def _worker(server: Server) -> int:
    """The pid of the server's only worker (the arbiter's one child)."""
    workers = _children(server.proc.pid)
    assert len(workers) == 1, workers
    return workers[0]


def _costly(worker: int) -> int:
    """The pid of ``worker``'s costly process (waiting for a worker still starting to fork it)."""

    def found() -> list[int]:
        return [p for p in _children(worker) if _comm(p) == gunicorn_worker.COSTLY_NAME.decode()]

    _wait(lambda: found(), 5, f"a costly process among {[(p, _comm(p)) for p in _children(worker)]}")
    assert len(found()) == 1, [(p, _comm(p)) for p in _children(worker)]
    return found()[0]


def _wait(condition, timeout: float = 10.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out: {what}")
        time.sleep(0.05)


def _served_by(server: Server, probe: str, count: int = 1) -> list[tuple[int, str]]:
    """(pid, method) of the access-log lines of requests sent with ``X-Probe: probe``."""
    pattern = re.compile(rf"served <(\d+)> {re.escape(probe)} (\w+) \d+")

    def lines():
        return [(int(m[1]), m[2]) for m in pattern.finditer(Path(server._log.name).read_text())]

    _wait(lambda: len(lines()) >= count, 5, f"{count} log lines for {probe}")
    return lines()


def _request(conn: http.client.HTTPConnection, method: str, path: str, probe: str, body=None):
    headers = {"X-Probe": probe}
    if body is not None:
        body = json.dumps(body)
        headers["Content-Type"] = "application/json"
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    return response.status, response.read()


# --- a running server ------------------------------------------------------------------------------


def test_reads_are_served_by_the_worker_and_the_rest_by_its_costly_process(split):
    """On one kept-alive connection, POST, GET, POST, HEAD: each answered, the connection never
    reopened, the reads logged by the worker and the POSTs by its costly process, a child of
    the worker named webapp-costly."""
    worker = _worker(split)
    costly = _costly(worker)
    probe = uuid.uuid4().hex
    conn = http.client.HTTPConnection("127.0.0.1", split.port, timeout=20)
    try:
        answers = []
        ports = set()
        for method, path, body in [
            ("POST", "/api/render", RENDER),
            ("GET", "/healthz", None),
            ("POST", "/api/secrets", {"dockerfile": "FROM alpine\n"}),
            ("HEAD", "/", None),
            ("GET", "/healthz", None),
        ]:
            answers.append(_request(conn, method, path, probe, body)[0])
            ports.add(conn.sock.getsockname()[1])
    finally:
        conn.close()
    assert answers == [200] * 5
    assert len(ports) == 1, "the connection was reopened"
    served = _served_by(split, probe, 5)
    assert [m for _, m in served] == ["POST", "GET", "POST", "HEAD", "GET"]
    assert {pid for pid, m in served if m == "POST"} == {costly}
    assert {pid for pid, m in served if m != "POST"} == {worker}


def test_a_pipelined_read_behind_a_post_goes_back_to_the_worker(split):
    """A client that sends a POST and a GET in one write: the costly process reads ahead into
    the GET; it hands the connection back with those bytes and the worker serves the GET."""
    worker = _worker(split)
    probe = uuid.uuid4().hex
    body = json.dumps(RENDER).encode()
    post = (
        f"POST /api/render HTTP/1.1\r\nHost: x\r\nX-Probe: {probe}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    get = f"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Probe: {probe}\r\nConnection: close\r\n\r\n".encode()
    with socket.create_connection(("127.0.0.1", split.port), timeout=20) as sock:
        sock.sendall(post + get)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    assert received.count(b"HTTP/1.1 200 OK") == 2, received[:300]
    served = _served_by(split, probe, 2)
    assert [m for _, m in served] == ["POST", "GET"]
    assert served[0][0] == _costly(worker) and served[1][0] == worker


def test_the_costly_process_runs_niced_and_dot_as_before(split):
    """WEBAPP_COSTLY_NICE (3 here) is added to the worker's niceness in its costly process; the
    ``dot`` it starts (its warm spare) stays WEBAPP_DOT_NICE (10) above the worker, not above
    the costly process."""
    worker = _worker(split)
    costly = _costly(worker)
    nice = int(_stat(worker)[16])
    assert int(_stat(costly)[16]) == min(19, nice + 3)
    conn = http.client.HTTPConnection("127.0.0.1", split.port, timeout=20)
    try:
        assert _request(conn, "POST", "/api/render", "nice", RENDER)[0] == 200
    finally:
        conn.close()
    spares = lambda: [p for p in _children(costly) if _comm(p) == "dot"]  # noqa: E731
    _wait(spares, 5, "a warm dot spare of the costly process")
    assert {int(_stat(p)[16]) for p in spares()} == {min(19, nice + 10)}


def _socket_inodes(port: int, client_ports: set[int]) -> set[str]:
    """Inodes of the server's ends of the connections from ``client_ports`` to ``port``."""
    inodes = set()
    for row in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = row.split()
        local, remote, inode = fields[1], fields[2], fields[9]
        if int(local.split(":")[1], 16) == port and int(remote.split(":")[1], 16) in client_ports:
            inodes.add(inode)
    return inodes


def _holds(pid: int, inodes: set[str]) -> set[str]:
    """Which of the socket ``inodes`` process ``pid`` has open."""
    held = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            held.add(target[8:-1])
    return held & inodes


def test_slow_post_bodies_are_held_by_the_costly_process_not_the_worker(split):
    """Clients that send a POST's headers and trickle its body: their connections are open in
    the costly process (its threads read the bodies) and not in the worker, whose threads and
    poller stay free: /healthz answers at once."""
    worker = _worker(split)
    costly = _costly(worker)
    head = b"POST /api/render HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    slow = []
    try:
        for _ in range(8):  # more than the costly process's threads: some wait in its queue
            sock = socket.create_connection(("127.0.0.1", split.port))
            sock.sendall(head + b"Content-Length: 100\r\n\r\n{")
            slow.append(sock)
        inodes_of = lambda: _socket_inodes(split.port, {s.getsockname()[1] for s in slow})  # noqa: E731
        _wait(lambda: len(inodes_of()) == len(slow), 5, "the server's ends of the slow connections")
        inodes = inodes_of()
        _wait(lambda: _holds(costly, inodes) == inodes, 5, "the costly process holding every slow body")
        assert _holds(worker, inodes) == set()
        probes = []
        for _ in range(5):
            conn = http.client.HTTPConnection("127.0.0.1", split.port, timeout=5)
            started = time.monotonic()
            status, _ = _request(conn, "GET", "/healthz", "slow-bodies")
            probes.append((status, time.monotonic() - started))
            conn.close()
    finally:
        for sock in slow:
            sock.close()
    assert [status for status, _ in probes] == [200] * 5
    assert statistics.median(took for _, took in probes) < 0.1, probes


def test_a_connection_waits_in_the_process_that_served_its_last_request(split):
    """Between requests a kept-alive connection stays where its last request was served: after
    a POST in the costly process (back-to-back costly requests cost the worker nothing), after
    a GET in the worker; parked in the costly process, it is closed at the keep-alive timeout."""
    worker = _worker(split)
    costly = _costly(worker)
    conn = http.client.HTTPConnection("127.0.0.1", split.port, timeout=20)
    try:
        assert _request(conn, "POST", "/api/render", "parked", RENDER)[0] == 200
        inodes = _socket_inodes(split.port, {conn.sock.getsockname()[1]})
        assert len(inodes) == 1
        _wait(lambda: _holds(costly, inodes) == inodes, 5, "the connection parked in the costly process")
        assert _holds(worker, inodes) == set()
        assert _request(conn, "POST", "/api/render", "parked", RENDER)[0] == 200
        assert _request(conn, "GET", "/healthz", "parked")[0] == 200
        _wait(lambda: _holds(worker, inodes) == inodes, 5, "the connection back in the worker")
        assert _holds(costly, inodes) == set()
        assert _request(conn, "POST", "/api/render", "parked", RENDER)[0] == 200
        started = time.monotonic()
        conn.sock.settimeout(KEEPALIVE + 5)
        assert conn.sock.recv(1) == b"", "the server should close an idle connection"
        assert KEEPALIVE - 0.5 < time.monotonic() - started < KEEPALIVE + 3
    finally:
        conn.close()
    served = _served_by(split, "parked", 4)
    assert [m for _, m in served] == ["POST", "POST", "GET", "POST"]
    assert [pid for pid, _ in served] == [costly, costly, worker, costly]


def test_tls_and_the_proxy_protocol_are_refused_at_start():
    """A connection's TLS or PROXY-protocol state cannot move between processes: the worker
    refuses such a configuration instead of serving it wrongly."""
    base = {"worker_connections": 1000, "threads": 6, "keepalive": 5, "is_ssl": False}
    log = types.SimpleNamespace(warning=lambda *a: None)
    gunicorn_worker.ReadFirstWorker.check_config(types.SimpleNamespace(**base, proxy_protocol="off"), log)
    for bad in ({"is_ssl": True, "proxy_protocol": "off"}, {"proxy_protocol": "v1"}):
        cfg = types.SimpleNamespace(**{**base, **bad})
        with pytest.raises(RuntimeError, match="TLS or the PROXY protocol"):
            gunicorn_worker.ReadFirstWorker.check_config(cfg, log)


# --- lifecycle -----------------------------------------------------------------------------------------


def _post(server: Server) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=20)
    try:
        return _request(conn, "POST", "/api/render", "life", RENDER)[0]
    finally:
        conn.close()


def _get(server: Server) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=20)
    try:
        return _request(conn, "GET", "/healthz", "life")[0]
    finally:
        conn.close()


def test_costly_process_lifecycle(tmp_path):
    """Killing the costly process stops its worker (reaped, no zombie) and gunicorn starts a new
    pair that serves; killing a worker takes its costly process with it; stopping the server
    answers a POST still arriving, then leaves no costly process, no ``dot`` and no ``render-*``
    folder (the costly process closes the app's runner, whose warm spares its renders started)."""
    server = _server(tmp_path, WEBAPP_WARM_DOT="1")
    costly_pids = []
    try:
        server.wait_ready()
        worker = _worker(server)
        costly = _costly(worker)
        assert _post(server) == 200
        os.kill(costly, signal.SIGKILL)
        _wait(lambda: not Path(f"/proc/{worker}").exists(), 10, "the worker to exit (and reap it)")
        assert not Path(f"/proc/{costly}").exists(), "the killed costly process was left a zombie"
        server.wait_ready()
        _wait(lambda: len(_children(server.proc.pid)) == 1, 10, "a new worker")
        worker = _worker(server)
        costly = _costly(worker)
        assert (_post(server), _get(server)) == (200, 200)

        os.kill(worker, signal.SIGKILL)
        _wait(lambda: not _running(costly), 10, "the costly process of a killed worker to exit")
        leaked = _render_folders(tmp_path)  # the first costly process's: SIGKILL allows no cleanup
        server.wait_ready()
        _wait(lambda: len(_children(server.proc.pid)) == 1, 10, "a new worker")
        worker = _worker(server)
        costly_pids.append(_costly(worker))
        for _ in range(2):  # a warm spare waits in the costly process
            assert _post(server) == 200
        spares = lambda: [p for p in _children(costly_pids[-1]) if _comm(p) == "dot"]  # noqa: E731
        _wait(spares, 5, "a warm dot spare of the costly process")

        # a POST whose body is still arriving when the server is told to stop is answered
        body = json.dumps(RENDER).encode()
        with socket.create_connection(("127.0.0.1", server.port), timeout=20) as sock:
            head = f"POST /api/render HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n"
            sock.sendall(head.encode() + b"Content-Type: application/json\r\n\r\n" + body[:5])
            time.sleep(0.3)
            server.proc.terminate()  # graceful stop: the costly process finishes what it holds
            time.sleep(0.5)
            sock.sendall(body[5:])
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 200 ") and b"<svg" in answer, answer[:300]
    finally:
        server.stop()
    for pid in costly_pids:
        assert not Path(f"/proc/{pid}").exists(), "the costly process outlived the server"
    _wait(lambda: _render_folders(tmp_path) <= leaked, 5, "render folders to be removed")
    _wait(lambda: not _processes_under(tmp_path), 5, "no process working in the test's temp folder")


def _processes_under(folder: Path) -> list[int]:
    """Running processes whose working directory is inside ``folder`` (``dot`` works in its
    runner's folder)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                inside = os.readlink(f"/proc/{entry}/cwd").startswith(str(folder) + "/")
            except OSError:
                continue
            if inside and _running(int(entry)):
                found.append(int(entry))
    return found


def _render_folders(tmp: Path) -> set[str]:
    return {p.name for p in tmp.iterdir() if p.name.startswith("render-")}


def test_ctrl_c_leaves_no_process_behind(tmp_path):
    """Ctrl-C in a terminal signals the whole process group: the arbiter, the worker and its
    costly process. The costly process ignores SIGINT and is stopped by its worker, which reaps
    it even though the arbiter's SIGQUIT reaches the worker a second time: no zombie, no ``dot``,
    no folder."""
    server = _server(tmp_path)
    try:
        server.wait_ready()
        assert _post(server) == 200
        worker = _worker(server)
        costly = _costly(worker)
        os.killpg(server.proc.pid, signal.SIGINT)
        deadline = time.monotonic() + 5
        while _running(worker) and time.monotonic() < deadline:  # more quits, as the arbiter sends
            try:
                os.kill(worker, signal.SIGQUIT)
            except ProcessLookupError:
                break
            time.sleep(0.005)
        server.proc.wait(timeout=15)
        _wait(lambda: not Path(f"/proc/{worker}").exists(), 5, "the worker to be reaped")
        assert not Path(f"/proc/{costly}").exists(), "the costly process is left (as a zombie?)"
        _wait(lambda: not _processes_under(tmp_path), 5, "no process working in the test's temp folder")
        assert not _render_folders(tmp_path)
    finally:
        server.stop()
