"""Stored shares on PostgreSQL (``WEBAPP_DATABASE=postgresql://…``): psycopg 3 with a pool.

One pool per process (a forked gunicorn worker makes its own), connections checked before use so
a restarted server is reconnected to without restarting the app. Every psycopg or pool error,
including "server unreachable" and "no connection within ``timeout``", leaves as
:class:`~webapp.store.StorageUnavailable`. The schema is migrated at first use under an advisory
lock, so instances starting together apply each migration once.
"""

from __future__ import annotations

import os
import threading
import time
from contextlib import contextmanager

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from .options import Options, ProjectOptions
from .store import (
    ShareStore,
    StorageUnavailable,
    _Failures,
    new_id,
    new_token,
    options_from_json,
    options_json,
    text_hash,
    token_hash,
    token_matches,
)

MIGRATION_LOCK = 0x64667669  # "dfvi": pg_advisory_xact_lock key held while migrating

_MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: (
        "CREATE TABLE IF NOT EXISTS content (sha256 text PRIMARY KEY, text text NOT NULL)",
        """CREATE TABLE IF NOT EXISTS shares (
            id         text PRIMARY KEY,
            sha256     text NOT NULL REFERENCES content(sha256),
            options    text NOT NULL,
            token_hash text NOT NULL,
            created    double precision NOT NULL)""",
        "CREATE INDEX IF NOT EXISTS shares_sha256 ON shares(sha256)",
    ),
    2: (
        """CREATE TABLE IF NOT EXISTS renders (
            key      text PRIMARY KEY,
            sha256   text NOT NULL,
            mimetype text NOT NULL,
            body     bytea NOT NULL,
            created  double precision NOT NULL)""",
        "CREATE INDEX IF NOT EXISTS renders_sha256 ON renders(sha256)",
    ),
}


def _redact(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        info = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.Error:
        return "postgresql"
    host = info.get("host") or "localhost"
    return f"postgresql {info.get('user', '')}@{host}:{info.get('port', 5432)}/{info.get('dbname', '')}"


class PostgresStore(ShareStore):
    """Shares in PostgreSQL; same tables and semantics as the SQLite store."""

    backend = "postgresql"

    def __init__(self, url: str, *, max_size: int = 4, timeout: float = 3.0, connect_timeout: int = 2):
        self.url = url
        self.max_size = max_size
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self._name = _redact(url)
        self._lock = threading.Lock()
        self._pool: ConnectionPool | None = None
        self._pid: int | None = None
        self._ready = False
        self._failures = _Failures()

    # --- connections and errors -----------------------------------------------------------------

    def _get_pool(self) -> ConnectionPool:
        with self._lock:
            if self._pool is None or self._pid != os.getpid():
                self._pool = ConnectionPool(
                    self.url,
                    min_size=1,
                    max_size=self.max_size,
                    timeout=self.timeout,
                    open=True,
                    check=ConnectionPool.check_connection,
                    reconnect_timeout=24 * 3600,  # never give up: keep trying until the server is back
                    kwargs={"connect_timeout": self.connect_timeout, "application_name": "webapp"},
                    name=f"shares-{os.getpid()}",
                )
                self._pid = os.getpid()
            return self._pool

    @contextmanager
    def _conn(self, what: str, *, timeout: float | None = None):
        try:
            with self._get_pool().connection(timeout=timeout) as conn:
                if not self._ready:
                    self._migrate(conn)
                yield conn
        except StorageUnavailable:
            raise
        except PoolTimeout as exc:
            raise StorageUnavailable(f"{self._name}: {what} failed: no connection ({exc})") from exc
        except (psycopg.Error, OSError) as exc:
            raise StorageUnavailable(f"{self._name}: {what} failed: {exc}") from exc

    @contextmanager
    def _write(self, what: str):
        try:
            with self._conn(what) as conn, conn.transaction():
                yield conn
        except StorageUnavailable as exc:
            self._failures.failed(exc)
            raise
        self._failures.ok()

    def _migrate(self, conn: psycopg.Connection) -> None:
        with self._lock:
            if self._ready:
                return
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
                conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)")
                current = conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()[0]
                for version in sorted(_MIGRATIONS):
                    if version > current:
                        for statement in _MIGRATIONS[version]:
                            conn.execute(statement)
                        conn.execute("INSERT INTO schema_version (version) VALUES (%s)", (version,))
            self._ready = True

    # --- the interface --------------------------------------------------------------------------

    def schema_version(self) -> int:
        with self._conn("reading the schema version") as conn:
            return conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()[0]

    def save(self, text: str, options: Options | ProjectOptions) -> tuple[str, str]:
        digest = text_hash(text)
        share_id, token = new_id(), new_token()
        for attempt in range(3):
            try:
                with self._write("saving a share") as conn:
                    conn.execute(
                        "INSERT INTO content (sha256, text) VALUES (%s, %s) ON CONFLICT DO NOTHING",
                        (digest, text),
                    )
                    conn.execute(
                        "INSERT INTO shares (id, sha256, options, token_hash, created) "
                        "VALUES (%s, %s, %s, %s, %s)",
                        (share_id, digest, options_json(options), token_hash(token), time.time()),
                    )
                return share_id, token
            except StorageUnavailable as exc:
                # The text's last share was deleted between our two inserts: insert it again.
                if not isinstance(exc.__cause__, psycopg.errors.ForeignKeyViolation) or attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def load(self, share_id: str) -> tuple[str, Options | ProjectOptions] | None:
        with self._conn("reading a share") as conn:
            row = conn.execute(
                "SELECT c.text, s.options FROM shares s JOIN content c USING (sha256) WHERE s.id = %s",
                (share_id,),
            ).fetchone()
        if row is None:
            return None
        return row[0], options_from_json(row[1])

    def delete(self, share_id: str, token: str) -> bool:
        with self._write("deleting a share") as conn:
            row = conn.execute(
                "SELECT sha256, token_hash FROM shares WHERE id = %s FOR UPDATE", (share_id,)
            ).fetchone()
            if row is None or not token_matches(row[1], token):
                return False
            conn.execute("DELETE FROM shares WHERE id = %s", (share_id,))
            # Lock the text row, then drop it (and its renders) if no share uses it any more.
            conn.execute("SELECT 1 FROM content WHERE sha256 = %s FOR UPDATE", (row[0],))
            orphan = conn.execute("SELECT NOT EXISTS (SELECT 1 FROM shares WHERE sha256 = %s)", (row[0],))
            if orphan.fetchone()[0]:
                conn.execute("DELETE FROM renders WHERE sha256 = %s", (row[0],))
                conn.execute("DELETE FROM content WHERE sha256 = %s", (row[0],))
        return True

    def load_render(self, key: str) -> tuple[bytes, str] | None:
        with self._conn("reading a render") as conn:
            row = conn.execute("SELECT body, mimetype FROM renders WHERE key = %s", (key,)).fetchone()
        return (bytes(row[0]), row[1]) if row else None

    def save_render(self, text: str, key: str, body: bytes, mimetype: str) -> None:
        with self._write("keeping a render") as conn:
            conn.execute(
                "INSERT INTO renders (key, sha256, mimetype, body, created) "
                "SELECT %s, sha256, %s, %s, %s FROM content WHERE sha256 = %s ON CONFLICT DO NOTHING",
                (key, mimetype, body, time.time(), text_hash(text)),
            )

    def count(self) -> tuple[int, int]:
        with self._conn("counting shares") as conn:
            shares = conn.execute("SELECT COUNT(*) FROM shares").fetchone()[0]
            texts = conn.execute("SELECT COUNT(*) FROM content").fetchone()[0]
        return shares, texts

    def probe(self) -> None:
        with self._conn("checking the server", timeout=1.0) as conn:
            row = conn.execute("SELECT pg_is_in_recovery()").fetchone()
        if row[0]:
            raise StorageUnavailable(f"{self._name}: the server is a read-only standby")
        if self._failures.error:
            raise StorageUnavailable(f"{self._name}: the last write failed: {self._failures.error}")

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None and self._pid == os.getpid():
            pool.close()
