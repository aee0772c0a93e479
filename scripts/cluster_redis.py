"""A throw-away Redis server from Debian's ``redis-server``, for tests and the local cluster."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path


def available() -> bool:
    return shutil.which("redis-server") is not None


class RedisServer:
    """``redis-server`` on 127.0.0.1:``port``, state (pid file, log) in ``folder``; nothing persisted."""

    def __init__(self, folder: str | os.PathLike, port: int, *, maxmemory: str = "256mb"):
        self.folder = Path(folder)
        self.port = port
        self.maxmemory = maxmemory
        self.pid_file = self.folder / "redis.pid"
        self.log = self.folder / "redis.log"
        self.url = f"redis://127.0.0.1:{port}/0"

    def start(self, timeout: float = 20) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                shutil.which("redis-server") or "redis-server",
                "--bind", "127.0.0.1", "--port", str(self.port), "--dir", str(self.folder),
                "--save", "", "--appendonly", "no", "--protected-mode", "yes",
                "--maxmemory", self.maxmemory, "--maxmemory-policy", "allkeys-lru",
                "--daemonize", "yes", "--pidfile", str(self.pid_file), "--logfile", str(self.log),
            ],
            check=True,
            timeout=timeout,
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while not self.answering():
            if time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start:\n{self.log.read_text(errors='replace')}")
            time.sleep(0.05)

    def answering(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def pid(self) -> int | None:
        try:
            pid = int(self.pid_file.read_text().strip())
            os.kill(pid, 0)
        except (OSError, ValueError):
            return None
        return pid

    def stop(self, timeout: float = 10) -> None:
        pid = self.pid()
        if pid is None:
            return
        os.kill(pid, 15)
        deadline = time.monotonic() + timeout
        while self.pid() is not None and time.monotonic() < deadline:
            time.sleep(0.05)
