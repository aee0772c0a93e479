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
import shutil
import signal
import subprocess
import tempfile

from ..errors import RenderError, RenderTimeout
from .sanitize import sanitize_svg
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


def run_dot_raw(dot_text: str, fmt: str, *, timeout: float = 10.0, memory_mb: int = 1024) -> bytes:
    """Graphviz's output for ``dot_text`` in ``fmt`` (svg or png), not sanitised."""
    if fmt not in FORMATS:
        raise ValueError(f"fmt must be one of: {', '.join(FORMATS)}")
    dot = _dot_path()
    if not dot:
        raise RenderError("Graphviz 'dot' is not installed")
    cpu = max(1, math.ceil(timeout) + 1)
    with tempfile.TemporaryDirectory(prefix="render-") as workdir:
        try:
            proc = subprocess.Popen(
                [dot, f"-T{fmt}", *(["-Gdpi=" + DPI] if fmt == "png" else [])],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                cwd=workdir,
                env=_env(),
                start_new_session=True,
                close_fds=True,
                preexec_fn=_limits(cpu, memory_mb * 1024 * 1024),
            )
        except OSError as exc:
            raise RenderError(f"Graphviz 'dot' could not be started: {exc.strerror}") from None
        try:
            out, err = proc.communicate(dot_text.encode("utf-8"), timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            proc.communicate()
            raise RenderTimeout(f"Graphviz took longer than {timeout:g} s and was stopped") from None
        except BaseException:
            _kill_group(proc)
            proc.communicate()
            raise
        finally:
            # dot may have left children in its group; none may outlive the render.
            _kill_group(proc)
    if proc.returncode in (-signal.SIGXCPU, -signal.SIGKILL):
        raise RenderTimeout(f"Graphviz used more than {cpu} s of CPU and was stopped")
    if proc.returncode != 0:
        detail = _first_line(err)
        if "memory" in detail.lower() or proc.returncode == -signal.SIGSEGV:
            raise RenderError("Graphviz ran out of memory on this graph")
        raise RenderError(
            f"Graphviz failed: {detail}" if detail else f"Graphviz failed (exit {proc.returncode})"
        )
    return out


def run_dot(dot_text: str, fmt: str, *, timeout: float = 10.0, memory_mb: int = 1024) -> bytes:
    """Render ``dot_text`` to ``fmt`` ("svg" or "png") with ``dot``; SVG comes back sanitised.

    Raises :class:`RenderTimeout` after ``timeout`` seconds (the whole process group is killed),
    :class:`RenderError` with a one-line message when ``dot`` fails or is not installed.
    """
    out = run_dot_raw(dot_text, fmt, timeout=timeout, memory_mb=memory_mb)
    if fmt == "svg":
        return sanitize_svg(out)
    return out


_VERSION = re.compile(r"version\s+(\d+(?:\.\d+)+)")


@functools.lru_cache(maxsize=1)
def graphviz_version() -> str:
    """Graphviz's version, e.g. ``2.43.0``; ``none`` when ``dot`` is not installed (cached)."""
    dot = _dot_path()
    if not dot:
        return "none"
    try:
        proc = subprocess.run(
            [dot, "-V"], capture_output=True, timeout=10, env=_env(), stdin=subprocess.DEVNULL, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    match = _VERSION.search((proc.stderr + proc.stdout).decode("utf-8", "replace"))
    return match.group(1) if match else "unknown"
