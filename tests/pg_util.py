"""One throw-away PostgreSQL server for the whole test session (Debian's binaries, loopback port).

Started on first use and stopped at exit; each test asks for a fresh database with
:func:`fresh_database`. Without Debian's ``postgresql`` package the tests skip locally and fail
in CI (``conftest.STRICT``), like the ``dot`` and ``browser`` ones.
"""

from __future__ import annotations

import atexit
import itertools
import os
import tempfile
import threading

import pytest
from browser_util import free_port
from conftest import STRICT

from scripts.cluster_pg import PgServer, available

_server: PgServer | None = None
_lock = threading.Lock()
_names = itertools.count()


def server() -> PgServer:
    """The session's server, started on first call."""
    global _server
    if not available():
        if STRICT:
            pytest.fail("PostgreSQL (Debian's postgresql package) is required in CI but is not installed")
        pytest.skip("PostgreSQL is not installed")
    with _lock:
        if _server is None:
            folder = tempfile.mkdtemp(prefix="webapp-pg-")
            os.chmod(folder, 0o755)
            pg = PgServer(folder, free_port(), fast=True)
            pg.init()
            pg.start()
            atexit.register(pg.destroy)
            _server = pg
        return _server


def fresh_database() -> str:
    """The URL of a new, empty database on the session's server."""
    pg = server()
    return pg.create_database(f"t{os.getpid()}_{next(_names)}")
