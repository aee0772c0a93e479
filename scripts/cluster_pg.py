"""A throw-away PostgreSQL server from Debian's binaries, for tests and the local cluster.

``initdb`` + ``pg_ctl`` on a folder of our own, listening on 127.0.0.1:<port> only (no Unix
socket). PostgreSQL refuses to run as root: as root the server runs as the ``postgres`` user
that Debian's package creates, and the folder is handed to it.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import time
from pathlib import Path


def pg_bin(program: str) -> str:
    """Path of a PostgreSQL server program (``initdb``, ``pg_ctl``): Debian keeps them off PATH."""
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{program}"), key=_version_key)
    if found:
        return found[-1]
    on_path = shutil.which(program)
    if on_path:
        return on_path
    raise FileNotFoundError(f"{program} not found: install Debian's postgresql package")


def _version_key(path: str) -> int:
    part = path.split("/")[4]
    return int(part) if part.isdigit() else 0


def available() -> bool:
    try:
        pg_bin("initdb")
    except FileNotFoundError:
        return False
    return True


class PgServer:
    """One PostgreSQL server in ``folder``, on 127.0.0.1:``port``; database ``postgres``."""

    def __init__(self, folder: str | os.PathLike, port: int, *, fast: bool = False):
        self.folder = Path(folder)
        self.data = self.folder / "data"
        self.log = self.folder / "postgres.log"
        self.port = port
        self.fast = fast  # fsync off: for throw-away test servers only
        self.url = f"postgresql://postgres@127.0.0.1:{port}/postgres"

    def _as_owner(self, *argv: str) -> list[str]:
        if os.geteuid() == 0:
            return ["runuser", "-u", "postgres", "--", *argv]
        return list(argv)

    def _run(self, *argv: str, timeout: float = 60) -> None:
        result = subprocess.run(
            self._as_owner(*argv), capture_output=True, text=True, timeout=timeout, cwd="/"
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"{' '.join(argv)} failed ({result.returncode}):\n{result.stderr}{result.stdout}"
            )

    def init(self) -> None:
        """Create the folder and the database cluster (once)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
            reach = subprocess.run(self._as_owner("test", "-w", str(self.folder)), capture_output=True)
            if reach.returncode != 0:
                raise RuntimeError(
                    f"the postgres user cannot reach {self.folder} (a parent folder is not "
                    "world-searchable): choose another folder (CLUSTER_DIR=/tmp/... for the cluster)"
                )
        if (self.data / "PG_VERSION").exists():
            return
        self._run(
            pg_bin("initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C",
            *(["--no-sync"] if self.fast else []),
        )

    def start(self) -> None:
        options = [
            f"-p {self.port}",
            "-c listen_addresses=127.0.0.1",
            "-c unix_socket_directories=''",
            "-c max_connections=200",
            "-c shared_buffers=32MB",
        ]
        if self.fast:
            options += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
        self._run(
            pg_bin("pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60",
            "-o", " ".join(options), "start",
        )  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        if self.running():
            self._run(pg_bin("pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def running(self) -> bool:
        pid_file = self.data / "postmaster.pid"
        if not pid_file.exists():
            return False
        try:
            pid = int(pid_file.read_text().split("\n", 1)[0])
            os.kill(pid, 0)
        except (ValueError, OSError):
            return False
        return True

    def wait_accepting(self, timeout: float = 30) -> None:
        import psycopg

        deadline = time.monotonic() + timeout
        while True:
            try:
                with psycopg.connect(self.url, connect_timeout=2):
                    return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def create_database(self, name: str) -> str:
        """A new empty database; its URL."""
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url.rsplit("/", 1)[0] + "/" + name

    def destroy(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.folder, ignore_errors=True)
