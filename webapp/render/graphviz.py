"""DOT -> SVG/PNG with Graphviz's ``dot``, run as a contained subprocess by a :class:`DotRunner`.

``dot`` gets a minimal environment with ``SERVER_NAME`` set (Graphviz then refuses to read files
named by ``image``, ``shapefile`` and the like), an empty working directory, its own session
(process group), ``RLIMIT_CPU`` and ``RLIMIT_AS`` limits and a wall-clock timeout after which the
whole group is killed. SVG output is passed through the sanitiser while dot writes it.

A :class:`DotRunner` belongs to whoever renders (the web app, the command line): it holds the
limits, a private temporary folder (dot's empty working directory and, for SVG, a plugin folder
without pango's text measurement) and, when ``warm``, one ``dot`` started ahead per format. Its
:meth:`DotRunner.close` (also run when it is garbage collected or the interpreter exits) kills
the spares and removes the folder. Nothing is kept at module level.
"""

from __future__ import annotations

import _thread
import functools
import glob
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
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import RenderError, RenderTimeout, RenderUnavailable
from .sanitize import SvgSanitizer
from .style import DPI

FORMATS = ("svg", "png")
SAFE_PATH = "/usr/bin:/bin"
"""Where ``dot`` is looked for, and the only PATH it sees."""
SPARES_KEPT = 4
"""Spare ``dot`` processes a warm runner keeps at most (one per command line and limits)."""
LEGENDS_KEPT = 32
"""Legend drawings a runner keeps (by their DOT text)."""
VERSION_TIMEOUT = 5.0
"""Seconds ``dot -V`` may take before its process group is killed."""
PLUGIN_DIRS = (
    "/usr/lib/*/graphviz",
    "/usr/lib64/graphviz",
    "/usr/lib/graphviz",
    "/usr/local/lib/graphviz",
    "/opt/homebrew/lib/graphviz",
)
"""Where Graphviz's plugins and their ``config*`` file are looked for (first match wins)."""
SVG_PLUGINS = ("libgvplugin_core.", "libgvplugin_dot_layout.")
"""The plugins an SVG render needs: the core renderers (svg) and the dot layout. Without the
pango (cairo) plugin dot sizes text from its built-in font metrics instead of asking pango, which
saves its font set-up and measuring (most of dot's time on small graphs); our DOT writer gives
every label a width that fits the widest usual browser font (see ``style.TEXT_WIDTHS``)."""


_found: dict[str, str] = {}


def _dot_path() -> str | None:
    """Absolute path of Graphviz's ``dot``, or None (tests replace this to fake a slow ``dot``).

    The path found is remembered and re-checked with one ``access()`` per call (searching PATH
    on every render showed in profiles); a ``dot`` removed since is looked for again."""
    known = _found.get("dot")
    if known and os.access(known, os.X_OK):
        return known
    path = shutil.which("dot", path=SAFE_PATH) or shutil.which("dot")
    if path:
        _found["dot"] = path
    return path


def _env(plugins: str | None = None) -> dict[str, str]:
    env = {
        "PATH": SAFE_PATH,
        "SERVER_NAME": "dockerfile-visualizer",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
    }
    if plugins:
        env["GVBINDIR"] = plugins
    return env


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


def write_svg_plugin_config(folder: str | Path) -> bool:
    """Write into ``folder`` a Graphviz plugin config naming only :data:`SVG_PLUGINS`.

    The entries are copied from the system's own config (written by ``dot -c`` when Graphviz was
    installed) and the two libraries linked beside it (Graphviz 2.43 crashes on absolute library
    paths in its config). Returns False when no system config with both plugins is found (dot
    then keeps its defaults).
    """
    for pattern in PLUGIN_DIRS:
        for plugin_dir in sorted(glob.glob(pattern)):
            configs = sorted(glob.glob(os.path.join(plugin_dir, "config*")))
            if not configs:
                continue
            try:
                text = Path(configs[-1]).read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
            kept, libraries = [], []
            for block in re.split(r"\n(?=[^\s}#])", text):
                first = block.split(None, 1)[0] if block.strip() else ""
                if first.startswith(SVG_PLUGINS) and "{" in block and "/" not in first:
                    kept.append(block)
                    libraries.append(first)
            if len(kept) != len(SVG_PLUGINS):
                continue
            # Graphviz resolves the library names against this folder: link them in
            for name in libraries:
                os.symlink(os.path.join(plugin_dir, name), os.path.join(folder, name))
            target = Path(folder) / os.path.basename(configs[-1])
            target.write_text("\n".join(kept).rstrip() + "\n", encoding="utf-8")
            return True
    return False


@dataclass(slots=True)
class _Job:
    """A started ``dot`` waiting for its input."""

    proc: subprocess.Popen

    def discard(self) -> None:
        """Kill its process group and reap it."""
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


@dataclass(slots=True)
class _State:
    """What a runner owns that must not outlive it: spares and the private folder."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    spares: dict = field(default_factory=dict)
    legends: dict = field(default_factory=dict)
    home: str | None = None
    plugins: str | None = None
    pid: int = 0
    closed: bool = False

    def release(self) -> None:
        """Kill every spare and remove the folder (idempotent; only in the process that made them)."""
        with self.lock:
            self.closed = True
            jobs = list(self.spares.values()) if self.pid == os.getpid() else []
            self.spares.clear()
            self.legends.clear()
            home = self.home if self.pid == os.getpid() else None
            self.home = self.plugins = None
        for job in jobs:
            job.discard()
        if home:
            shutil.rmtree(home, ignore_errors=True)


def _release(state: _State) -> None:
    state.release()


class DotRunner:
    """Runs ``dot`` for one owner, with its limits, an optional warm spare and a private folder.

    ``timeout`` (wall seconds; RLIMIT_CPU is one more, rounded up) and ``memory_mb`` (RLIMIT_AS)
    bound every render. With ``warm``, a ``dot`` for the same command is started as soon as a
    render has written its input, so the next render skips dot's start-up (for long-running
    servers; the command line stays cold). With ``measure_text`` (default False) SVG renders use
    Graphviz's default plugins, pango included; PNG always does. ``nice`` (0-19, added to the
    owner's niceness) lowers the CPU priority of every ``dot`` it starts, so that on a busy
    server drawings yield to cheap requests (cached links, health checks).
    """

    def __init__(
        self,
        *,
        timeout: float = 10.0,
        memory_mb: int = 1024,
        warm: bool = False,
        measure_text: bool = False,
        nice: int = 0,
    ) -> None:
        self.timeout = float(timeout)
        self.nice = min(19, max(0, int(nice)))
        self.memory_mb = int(memory_mb)
        self.warm = bool(warm)
        self.measure_text = bool(measure_text)
        self._state = _State(pid=os.getpid())
        self._finalizer = weakref.finalize(self, _release, self._state)

    @classmethod
    def from_settings(cls, settings: dict, *, warm: bool | None = None) -> DotRunner:
        """A runner with the limits of :func:`webapp.config.load`'s settings (DOT_TIMEOUT,
        DOT_MEMORY_MB, DOT_NICE, WARM_DOT unless ``warm`` is given)."""
        return cls(
            timeout=float(settings["DOT_TIMEOUT"]),
            memory_mb=int(settings["DOT_MEMORY_MB"]),
            nice=int(settings["DOT_NICE"]),
            warm=bool(settings["WARM_DOT"]) if warm is None else warm,
        )

    # --- lifecycle -------------------------------------------------------------------------------

    def close(self) -> None:
        """Kill the spares and remove the private folder; the runner can still render afterwards
        only by starting over (it is meant to be the last call)."""
        self._finalizer()

    def __enter__(self) -> DotRunner:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def closed(self) -> bool:
        """True once :meth:`close` ran."""
        return self._state.closed

    def _home(self) -> tuple[str, str | None]:
        """(dot's empty working directory, the SVG plugin folder or None), created on first use.

        A runner inherited through ``fork`` starts its own folder and spares in the child.
        """
        state = self._state
        with state.lock:
            if state.closed:
                raise RenderUnavailable("the Graphviz runner is closed")
            if state.pid != os.getpid():  # forked: the parent's spares and folder are not ours
                state.spares = {}
                state.home = state.plugins = None
                state.pid = os.getpid()
            if state.home is None:
                state.home, state.plugins = self._make_home()
            return os.path.join(state.home, "work"), state.plugins

    def _make_home(self) -> tuple[str, str | None]:
        try:
            home = tempfile.mkdtemp(prefix="render-")
        except OSError as exc:
            raise RenderUnavailable(f"Graphviz has no working folder: {exc.strerror}") from None
        try:
            os.mkdir(os.path.join(home, "work"), 0o500)
            plugins = None
            if not self.measure_text:
                plugins = os.path.join(home, "plugins")
                os.mkdir(plugins, 0o700)
                if not write_svg_plugin_config(plugins):
                    plugins = None
        except OSError as exc:
            shutil.rmtree(home, ignore_errors=True)
            raise RenderUnavailable(f"Graphviz has no working folder: {exc.strerror}") from None
        return home, plugins

    # --- processes -------------------------------------------------------------------------------

    def _start(self, command: tuple[str, ...], plugins: str | None, cpu: int, memory_bytes: int) -> _Job:
        workdir, _ = self._home()
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
                env=_env(plugins),
                start_new_session=True,
                close_fds=True,
                preexec_fn=preexec,
            )
        except OSError as exc:
            raise RenderUnavailable(f"Graphviz 'dot' could not be started: {exc.strerror}") from None
        if self.nice:
            try:  # dot waits for its input first, so lowering its priority after the start is in time
                own = os.getpriority(os.PRIO_PROCESS, 0)
                os.setpriority(os.PRIO_PROCESS, proc.pid, min(19, own + self.nice))
            except OSError:
                pass  # it has already exited: its exit status tells the rest
        return _Job(proc)

    def _take_spare(self, key: tuple) -> _Job | None:
        state = self._state
        with state.lock:
            job = state.spares.pop(key, None) if state.pid == os.getpid() else None
        if job is not None and job.proc.poll() is not None:
            job.discard()  # it died while waiting (killed, out of memory): start a fresh one
            return None
        return job

    def _prepare_spare(
        self, key: tuple, command: tuple[str, ...], plugins: str | None, cpu: int, mem: int
    ) -> None:
        state = self._state
        with state.lock:
            if key in state.spares or state.closed:
                return
        try:
            job = self._start(command, plugins, cpu, mem)
        except RenderError:
            return
        with state.lock:
            keep = (
                not state.closed
                and key not in state.spares
                and len(state.spares) < SPARES_KEPT
                and state.pid == os.getpid()
            )
            if keep:
                state.spares[key] = job
        if not keep:
            job.discard()

    def spare_pids(self) -> list[int]:
        """Process ids of the spares waiting for input (for tests and health checks)."""
        with self._state.lock:
            return [job.proc.pid for job in self._state.spares.values()]

    # --- rendering -------------------------------------------------------------------------------

    def _run(
        self,
        dot_text: str,
        fmt: str,
        sink: Callable[[bytes], None],
        timeout: float | None,
        memory_mb: int | None,
        spare: bool = True,
    ) -> None:
        if fmt not in FORMATS:
            raise ValueError(f"fmt must be one of: {', '.join(FORMATS)}")
        dot = _dot_path()
        if not dot:
            raise RenderUnavailable("Graphviz 'dot' is not installed")
        timeout = self.timeout if timeout is None else float(timeout)
        memory_mb = self.memory_mb if memory_mb is None else int(memory_mb)
        cpu = max(1, math.ceil(timeout) + 1)
        memory_bytes = memory_mb * 1024 * 1024
        command = (dot, f"-T{fmt}", *(["-Gdpi=" + DPI] if fmt == "png" else []))
        _, plugins = self._home()
        if fmt != "svg":
            plugins = None  # PNG draws text through pango: it keeps Graphviz's defaults
        key = (command, plugins, cpu, memory_bytes)
        warm = self.warm and spare
        job = self._take_spare(key) if warm else None
        if job is None:
            job = self._start(command, plugins, cpu, memory_bytes)
        proc = job.proc
        written = None
        if warm:  # the next render's dot starts once this one has its input, off the critical path
            args = (key, command, plugins, cpu, memory_bytes)

            def written() -> None:
                # a bare thread: threading.Thread.start() would wait until the thread is running,
                # milliseconds on a busy machine, all of them on this render's path
                _thread.start_new_thread(self._prepare_spare, args)

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

    def run_raw(
        self, dot_text: str, fmt: str, *, timeout: float | None = None, memory_mb: int | None = None
    ) -> bytes:
        """Graphviz's output for ``dot_text`` in ``fmt`` (svg or png), not sanitised."""
        out = bytearray()
        self._run(dot_text, fmt, out.extend, timeout, memory_mb)
        return bytes(out)

    def run(
        self,
        dot_text: str,
        fmt: str,
        *,
        timeout: float | None = None,
        memory_mb: int | None = None,
        legend: str | None = None,
        rounded: frozenset[str] = frozenset(),
        legend_rounded: frozenset[str] = frozenset(),
    ) -> bytes:
        """Render ``dot_text`` to ``fmt`` ("svg" or "png"); SVG comes back sanitised.

        The SVG is sanitised while dot writes it. ``legend`` (SVG only) is the DOT of a legend
        drawn apart and put above the drawing in the same SVG; its drawing is kept (a few per
        runner: legends differ only by the kinds a graph uses). ``rounded`` and ``legend_rounded``
        (SVG only) name the groups of each drawing whose boxes get rounded corners
        (``sanitize.round_boxes``). Raises :class:`RenderTimeout`
        after the timeout (the whole process group is killed), :class:`RenderError` with a
        one-line message when ``dot`` fails or is not installed, or when its SVG does not parse.
        """
        if fmt != "svg":
            return self.run_raw(dot_text, fmt, timeout=timeout, memory_mb=memory_mb)
        legend_root = self._legend(legend, timeout, memory_mb, legend_rounded) if legend else None
        # early: the SVG is finished (and the legend placed) while dot is still exiting
        sanitizer = SvgSanitizer(legend_root, early=True, rounded=rounded)
        self._run(dot_text, fmt, sanitizer.feed, timeout, memory_mb)
        return sanitizer.close()

    def _legend(self, legend_dot: str, timeout: float | None, memory_mb: int | None, rounded: frozenset[str]):
        state = self._state
        key = (legend_dot, rounded)
        with state.lock:
            root = state.legends.get(key)
        if root is None:
            sanitizer = SvgSanitizer(rounded=rounded)
            self._run(legend_dot, "svg", sanitizer.feed, timeout, memory_mb, spare=False)
            root = sanitizer.close_tree()
            with state.lock:
                while len(state.legends) >= LEGENDS_KEPT:
                    state.legends.pop(next(iter(state.legends)))
                state.legends[key] = root
        return root


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
            # non-blocking: each wake-up writes as much as the pipe takes (moby's DOT in one or
            # two writes rather than one PIPE_BUF piece per wake-up)
            os.set_blocking(proc.stdin.fileno(), False)
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
                        offset += os.write(key.fd, view[offset:])
                    except BlockingIOError:
                        continue  # full again since select said otherwise: wait for room
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
    _wait_exit(proc, deadline, timeout)
    if failure is not None and proc.returncode == 0:
        raise failure
    return bytes(err)


def _wait_exit(proc: subprocess.Popen, deadline: float, timeout: float) -> None:
    """Reap dot once it has closed its output; ``subprocess.TimeoutExpired`` past ``deadline``.

    ``Popen.wait(timeout)`` polls with sleeps of 1 ms and more, and dot usually exits a fraction
    of a millisecond after closing its output (a millisecond lost on most renders): where Linux
    offers a pidfd, its readiness says when dot has exited, with no polling."""
    remaining = max(0.0, deadline - time.monotonic()) or 0.01
    try:
        pidfd = os.pidfd_open(proc.pid)
    except (AttributeError, OSError):  # not Linux 5.3+: Popen's own polling
        proc.wait(timeout=remaining)
        return
    try:
        ready, _, _ = select.select([pidfd], [], [], remaining)
    finally:
        os.close(pidfd)
    if not ready:
        raise subprocess.TimeoutExpired(proc.args, timeout)
    proc.wait(timeout=remaining)  # it has exited: reaped at once


def run_dot_raw(dot_text: str, fmt: str, *, timeout: float = 10.0, memory_mb: int = 1024) -> bytes:
    """Graphviz's output for ``dot_text`` in ``fmt``, not sanitised, from a one-off cold runner."""
    with DotRunner(timeout=timeout, memory_mb=memory_mb) as runner:
        return runner.run_raw(dot_text, fmt)


def run_dot(dot_text: str, fmt: str, *, timeout: float = 10.0, memory_mb: int = 1024) -> bytes:
    """:meth:`DotRunner.run` with a one-off cold runner (closed before returning)."""
    with DotRunner(timeout=timeout, memory_mb=memory_mb) as runner:
        return runner.run(dot_text, fmt)


_VERSION = re.compile(r"version\s+(\d+(?:\.\d+)+)")


def dot_version(dot: str, timeout: float = VERSION_TIMEOUT) -> str | None:
    """``dot -V``'s version number, run in its own process group and killed after ``timeout``;
    None when it cannot be run or says nothing readable."""
    try:
        proc = subprocess.Popen(
            [dot, "-V"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=_env(),
            cwd="/",
            start_new_session=True,
            close_fds=True,
        )
    except OSError:
        return None
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        proc.communicate()
        return None
    finally:
        _kill_group(proc)  # anything it left in its group
    match = _VERSION.search((err + out).decode("utf-8", "replace"))
    return match.group(1) if match else None


@functools.lru_cache(maxsize=4)
def _known_version(dot: str) -> str:
    version = dot_version(dot)
    if version is None:
        raise LookupError(dot)  # not cached: the next call asks again
    return version


def graphviz_version() -> str:
    """Graphviz's version, e.g. ``2.43.0``; ``none`` when ``dot`` is not installed, ``unknown``
    when ``dot -V`` fails or hangs (a version once read is remembered per ``dot`` path)."""
    dot = _dot_path()
    if not dot:
        return "none"
    try:
        return _known_version(dot)
    except LookupError:
        return "unknown"
