"""DOT -> SVG/PNG with Graphviz's ``dot``, run as a contained subprocess.

``dot`` gets a minimal environment with ``SERVER_NAME`` set (Graphviz then refuses to read files
named by ``image``, ``shapefile`` and the like), an empty temporary working directory, its own
session (process group), ``RLIMIT_CPU`` and ``RLIMIT_AS`` limits and a wall-clock timeout after
which the whole group is killed. SVG output is passed through the sanitiser.
"""

from __future__ import annotations

import functools
import math
import os
import re
import resource
import select
import selectors
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from ..errors import RenderError, RenderTimeout, RenderUnavailable
from .sanitize import SvgSanitizer
from .style import DPI

FORMATS = ("svg", "png")
SAFE_PATH = "/usr/bin:/bin"
"""Where ``dot`` is looked for, and the only PATH it sees."""


def _dot_path() -> str | None:
    """Absolute path of Graphviz's ``dot``, or None (tests replace this to fake a slow ``dot``)."""
    return shutil.which("dot", path=SAFE_PATH) or shutil.which("dot")


def _env() -> dict[str, str]:
    return {
        "PATH": SAFE_PATH,
        "SERVER_NAME": "dockerfile-visualizer",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
    }


def _limits(cpu_seconds: int, memory_bytes: int):
    def apply() -> None:  # runs in the child between fork and exec: keep it minimal
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    return apply


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _first_line(stderr: bytes) -> str:
    for line in stderr.decode("utf-8", "replace").splitlines():
        line = line.strip()
        if line and not line.lower().startswith("warning"):
            return line[:200]
    return ""


PRLIMIT = shutil.which("prlimit", path=SAFE_PATH)
"""util-linux's prlimit: sets the limits before dot starts without a Python ``preexec_fn``, so
the fast spawn path is kept. Without it the limits are set in the child by ``preexec_fn``."""


@dataclass(slots=True)
class _Job:
    """A started ``dot`` waiting for its input, with the empty directory it runs in."""

    proc: subprocess.Popen
    workdir: str

    def discard(self) -> None:
        """Kill its process group, reap it, and remove its directory."""
        _kill_group(self.proc)
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if stream is not None and not stream.closed:
                try:
                    stream.close()
                except OSError:
                    pass
        try:
            self.proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            pass
        shutil.rmtree(self.workdir, ignore_errors=True)


def _start(command: tuple[str, ...], cpu: int, memory_bytes: int) -> _Job:
    workdir = tempfile.mkdtemp(prefix="render-")
    argv = list(command)
    preexec = None
    if PRLIMIT:
        argv = [PRLIMIT, f"--cpu={cpu}", f"--as={memory_bytes}", "--core=0", "--", *argv]
    else:
        preexec = _limits(cpu, memory_bytes)
    try:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=workdir,
            env=_env(),
            start_new_session=True,
            close_fds=True,
            preexec_fn=preexec,
        )
    except OSError as exc:
        shutil.rmtree(workdir, ignore_errors=True)
        raise RenderUnavailable(f"Graphviz 'dot' could not be started: {exc.strerror}") from None
    return _Job(proc, workdir)


# One warm ``dot`` per command line: started ahead, it has loaded its libraries and plugins by the
# time the next render writes its input, which saves dot's start-up (about 4 ms) on every render.
_SPARES: dict[tuple, _Job] = {}
_SPARES_LOCK = threading.Lock()
_SPARES_MAX = 4


def _take_spare(key: tuple) -> _Job | None:
    with _SPARES_LOCK:
        job = _SPARES.pop(key, None)
    if job is not None and job.proc.poll() is not None:
        job.discard()  # it died while waiting (killed, out of memory): start a fresh one
        return None
    return job


def _prepare_spare(key: tuple, command: tuple[str, ...], cpu: int, memory_bytes: int) -> None:
    with _SPARES_LOCK:
        if key in _SPARES:
            return
    try:
        job = _start(command, cpu, memory_bytes)
    except RenderError:
        return
    with _SPARES_LOCK:
        if key in _SPARES or len(_SPARES) >= _SPARES_MAX:
            extra = job
        else:
            _SPARES[key] = job
            extra = None
    if extra is not None:
        extra.discard()


def _exchange(
    proc: subprocess.Popen,
    data: bytes,
    timeout: float,
    sink: Callable[[bytes], None],
    written: Callable[[], None] | None = None,
) -> bytes:
    """Write ``data`` to dot, hand its output to ``sink`` as it arrives, return its stderr.

    ``written`` is called once all of ``data`` is written.

    Raises ``subprocess.TimeoutExpired`` when dot runs past ``timeout`` seconds. If ``sink``
    raises, the rest of the output is drained and the first such error is raised at the end.
    """
    deadline = time.monotonic() + timeout
    err = bytearray()
    failure: BaseException | None = None
    view = memoryview(data)
    offset = 0
    with selectors.DefaultSelector() as selector:
        if data:
            selector.register(proc.stdin, selectors.EVENT_WRITE)
        else:
            proc.stdin.close()
            if written is not None:
                written()
        selector.register(proc.stdout, selectors.EVENT_READ)
        selector.register(proc.stderr, selectors.EVENT_READ)
        while selector.get_map():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise subprocess.TimeoutExpired(proc.args, timeout)
            for key, _ in selector.select(remaining):
                stream = key.fileobj
                if stream is proc.stdin:
                    try:
                        offset += os.write(key.fd, view[offset : offset + select.PIPE_BUF])
                    except BrokenPipeError:
                        offset = len(data)
                    if offset >= len(data):
                        selector.unregister(stream)
                        stream.close()
                        if written is not None:
                            written()
                    continue
                chunk = os.read(key.fd, 65536)
                if not chunk:
                    selector.unregister(stream)
                    stream.close()
                elif stream is proc.stderr:
                    if len(err) < 65536:
                        err += chunk
                elif failure is None:
                    try:
                        sink(chunk)
                    except Exception as exc:  # noqa: BLE001 - re-raised below, after dot ends
                        failure = exc
    proc.wait(timeout=max(0.0, deadline - time.monotonic()) or 0.01)
    if failure is not None and proc.returncode == 0:
        raise failure
    return bytes(err)


def _run(
    dot_text: str, fmt: str, *, timeout: float, memory_mb: int, warm: bool, sink: Callable[[bytes], None]
) -> None:
    if fmt not in FORMATS:
        raise ValueError(f"fmt must be one of: {', '.join(FORMATS)}")
    dot = _dot_path()
    if not dot:
        raise RenderUnavailable("Graphviz 'dot' is not installed")
    cpu = max(1, math.ceil(timeout) + 1)
    memory_bytes = memory_mb * 1024 * 1024
    command = (dot, f"-T{fmt}", *(["-Gdpi=" + DPI] if fmt == "png" else []))
    key = (command, cpu, memory_bytes)
    job = _take_spare(key) if warm else None
    if job is None:
        job = _start(command, cpu, memory_bytes)
    proc = job.proc
    written = None
    if warm:  # the next render's dot starts once this one has its input, off the critical path
        thread = threading.Thread(target=_prepare_spare, args=(key, command, cpu, memory_bytes), daemon=True)
        written = thread.start
    try:
        err = _exchange(proc, dot_text.encode("utf-8"), timeout, sink, written)
    except subprocess.TimeoutExpired:
        raise RenderTimeout(f"Graphviz took longer than {timeout:g} s and was stopped") from None
    finally:
        # dot may have left children in its group; none may outlive the render.
        job.discard()
    if proc.returncode in (-signal.SIGXCPU, -signal.SIGKILL):
        raise RenderTimeout(f"Graphviz used more than {cpu} s of CPU and was stopped")
    if proc.returncode != 0:
        detail = _first_line(err)
        if "memory" in detail.lower() or proc.returncode == -signal.SIGSEGV:
            raise RenderError("Graphviz ran out of memory on this graph")
        raise RenderError(
            f"Graphviz failed: {detail}" if detail else f"Graphviz failed (exit {proc.returncode})"
        )


def run_dot_raw(
    dot_text: str, fmt: str, *, timeout: float = 10.0, memory_mb: int = 1024, warm: bool = False
) -> bytes:
    """Graphviz's output for ``dot_text`` in ``fmt`` (svg or png), not sanitised.

    With ``warm``, a ``dot`` started ahead for the same command takes the input, and another is
    started in the background for the next render (for long-running servers; the CLI stays cold).
    """
    out = bytearray()
    _run(dot_text, fmt, timeout=timeout, memory_mb=memory_mb, warm=warm, sink=out.extend)
    return bytes(out)


def run_dot(
    dot_text: str, fmt: str, *, timeout: float = 10.0, memory_mb: int = 1024, warm: bool = False
) -> bytes:
    """Render ``dot_text`` to ``fmt`` ("svg" or "png") with ``dot``; SVG comes back sanitised.

    The SVG is sanitised while dot writes it. Raises :class:`RenderTimeout` after ``timeout``
    seconds (the whole process group is killed), :class:`RenderError` with a one-line message
    when ``dot`` fails or is not installed, or when its SVG does not parse.
    """
    if fmt != "svg":
        return run_dot_raw(dot_text, fmt, timeout=timeout, memory_mb=memory_mb, warm=warm)
    sanitizer = SvgSanitizer()
    _run(dot_text, fmt, timeout=timeout, memory_mb=memory_mb, warm=warm, sink=sanitizer.feed)
    return sanitizer.close()


_VERSION = re.compile(r"version\s+(\d+(?:\.\d+)+)")


@functools.lru_cache(maxsize=1)
def graphviz_version() -> str:
    """Graphviz's version, e.g. ``2.43.0``; ``none`` when ``dot`` is not installed (cached)."""
    dot = _dot_path()
    if not dot:
        return "none"
    try:
        proc = subprocess.run(  # its own session, like every dot run; a hung dot -V costs 5 s once
            [dot, "-V"],
            capture_output=True,
            timeout=5,
            env=_env(),
            stdin=subprocess.DEVNULL,
            cwd=tempfile.gettempdir(),
            start_new_session=True,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    match = _VERSION.search((proc.stderr + proc.stdout).decode("utf-8", "replace"))
    return match.group(1) if match else "unknown"
