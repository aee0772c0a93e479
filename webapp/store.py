"""Stored share links behind one interface; SQLite (a file) or PostgreSQL (a server).

A backend implements :class:`ShareStore`: ``save`` answers only once the share is durably
committed, ``load`` answers None for unknown and deleted ids alike, ``delete`` needs the token
returned once by ``save`` (only its SHA-256 is kept). ``load_render``/``save_render`` keep the
drawn SVG/PNG of stored texts, so any instance serves them without running ``dot``. ``health``
says whether the storage can be read and written, for ``/healthz``.

Every storage fault (``OSError``, ``sqlite3.Error``, psycopg's errors, an unreachable server, a
full or read-only disk) leaves a backend as :class:`StorageUnavailable` and nothing else, which
the views answer with 503 "sharing is unavailable" and ``Retry-After``. Reads fall back to a
read-only connection, so existing links keep being served from a disk that cannot be written.

The schema is created and migrated by the app: ``schema_version`` holds the highest migration
applied, each backend lists its migrations by number (the same numbers on both), and a newer app
applies the missing ones at start, under a lock, so several instances can start at once.
Migrations only ever add, so an older app keeps working on a newer schema.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import sqlite3
import threading
import time
from abc import ABC, abstractmethod
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from .errors import Refusal
from .options import OPTIONS_OF_KIND, Options, ProjectOptions

RETRY_AFTER = 30
"""Seconds a client is asked to wait after a storage fault."""

SCHEMA_VERSION = 2
"""The newest migration this app knows (see ``_SQLITE_MIGRATIONS`` and store_postgres)."""


class StoreError(Refusal, RuntimeError):
    """The share database cannot be used (misconfigured, unsupported URL): 503 with Retry-After.

    ``str()`` (for logs and ``/healthz``) says what failed; ``message`` (for clients) does not.
    """

    status = 503
    retry_after = RETRY_AFTER
    cacheable = False

    def __init__(self, detail: str):
        super().__init__("sharing is unavailable right now")
        self.detail = detail

    def __str__(self) -> str:
        return self.detail


class StorageUnavailable(StoreError):
    """Any storage fault: the disk, the database file or the database server said no."""


class ShareStore(ABC):
    """Where stored shares live."""

    backend = "?"

    @abstractmethod
    def save(self, text: str, options: Options | ProjectOptions) -> tuple[str, str]:
        """Store a share and return ``(id, delete_token)`` after it is durably written.

        ``text`` is a Dockerfile (:class:`Options`) or a project's files as one text
        (:class:`ProjectOptions`, see :func:`webapp.links.project_text`)."""

    @abstractmethod
    def load(self, share_id: str) -> tuple[str, Options | ProjectOptions] | None:
        """The share's text and options (of its kind), or None when the id is unknown or deleted."""

    @abstractmethod
    def delete(self, share_id: str, token: str) -> bool:
        """Delete the share when ``token`` is its delete token; False otherwise (or unknown id)."""

    @abstractmethod
    def load_render(self, key: str) -> tuple[bytes, str] | None:
        """A kept render ``(body, mimetype)`` by its render key, or None."""

    @abstractmethod
    def save_render(self, text: str, key: str, body: bytes, mimetype: str) -> None:
        """Keep the render of a stored ``text`` (dropped with the text's last share)."""

    @abstractmethod
    def count(self) -> tuple[int, int]:
        """``(shares, distinct texts)``, for tests and operators."""

    @abstractmethod
    def schema_version(self) -> int:
        """The highest migration applied to the database."""

    @abstractmethod
    def probe(self) -> None:
        """Raise :class:`StorageUnavailable` unless the storage answers and accepts writes."""

    def health(self) -> dict:
        """``{"backend", "ok", "error"}`` for ``/healthz``: a read and a write check, kept fast."""
        try:
            self.probe()
        except StoreError as exc:
            return {"backend": self.backend, "ok": False, "error": str(exc)}
        return {"backend": self.backend, "ok": True, "error": None}

    def close(self) -> None:  # noqa: B027 - optional
        """Release connections."""


def new_id() -> str:
    """A share id: 128 random bits as URL-safe text (22 characters)."""
    return secrets.token_urlsafe(16)


def new_token() -> str:
    """A delete token: 256 random bits, returned once."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """The only form in which a delete token is kept."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def text_hash(text: str) -> str:
    """The content address of a stored text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def options_json(options: Options | ProjectOptions) -> str:
    """Options as stored: canonical JSON; a project's say so (``"kind": "project"``)."""
    mapping = options.to_mapping()
    if options.kind != Options.kind:
        mapping["kind"] = options.kind
    return json.dumps(mapping, sort_keys=True, separators=(",", ":"))


def options_from_json(text: str) -> Options | ProjectOptions:
    """Stored options back: :class:`Options` of a Dockerfile, or :class:`ProjectOptions` of a project."""
    mapping = json.loads(text)
    return OPTIONS_OF_KIND[mapping.pop("kind", Options.kind)].from_mapping(mapping)


def token_matches(stored_hash: str, token: str) -> bool:
    """Constant-time comparison of a presented token with the stored hash."""
    return hmac.compare_digest(stored_hash, token_hash(token))


class _Failures:
    """The last write failure, reported by ``health`` until a write succeeds or it is old."""

    def __init__(self, remember: float = 30.0):
        self.remember = remember
        self._error: str | None = None
        self._when = 0.0

    def failed(self, exc: BaseException) -> None:
        self._error, self._when = str(exc), time.monotonic()

    def ok(self) -> None:
        self._error = None

    @property
    def error(self) -> str | None:
        if self._error and time.monotonic() - self._when > self.remember:
            self._error = None
        return self._error


_SQLITE_MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: (
        "CREATE TABLE IF NOT EXISTS content (sha256 TEXT PRIMARY KEY, text TEXT NOT NULL)",
        """CREATE TABLE IF NOT EXISTS shares (
            id         TEXT PRIMARY KEY,
            sha256     TEXT NOT NULL REFERENCES content(sha256),
            options    TEXT NOT NULL,
            token_hash TEXT NOT NULL,
            created    REAL NOT NULL)""",
        "CREATE INDEX IF NOT EXISTS shares_sha256 ON shares(sha256)",
    ),
    2: (
        """CREATE TABLE IF NOT EXISTS renders (
            key      TEXT PRIMARY KEY,
            sha256   TEXT NOT NULL,
            mimetype TEXT NOT NULL,
            body     BLOB NOT NULL,
            created  REAL NOT NULL)""",
        "CREATE INDEX IF NOT EXISTS renders_sha256 ON renders(sha256)",
    ),
}

MIN_FREE_BYTES = 256 * 1024
"""Below this much free space on the database's disk, ``health`` reports the disk as full."""


class SQLiteStore(ShareStore):
    """Shares in one SQLite file: WAL journal, ``synchronous=FULL``, safe across worker processes.

    Each thread of each process keeps its own connection (a forked worker opens a fresh one).
    Writes take the write lock up front (``BEGIN IMMEDIATE``) and wait for it up to
    ``busy_timeout``, so concurrent writers queue instead of failing. Opening never fails on a
    storage fault: the schema is (re)tried on the next write, and reads fall back to a read-only
    connection, so links stay readable on a disk that went read-only or full.
    """

    backend = "sqlite"

    def __init__(self, path: str | os.PathLike, *, busy_timeout: float = 30.0):
        self.path = Path(path)
        self.busy_timeout = busy_timeout
        # ":memory:": one in-memory database shared by this process's threads (tests, trials),
        # kept alive by an anchor connection; nothing is written to disk.
        self._memory = str(path) == ":memory:"
        self._uri = f"file:webapp-shares-{id(self)}?mode=memory&cache=shared" if self._memory else None
        self._anchor = sqlite3.connect(self._uri, uri=True, check_same_thread=False) if self._memory else None
        self._local = threading.local()
        self._lock = threading.Lock()
        self._ready = False
        self._failures = _Failures()
        try:
            self._ensure_schema()
        except StorageUnavailable as exc:
            self._failures.failed(exc)

    # --- connections and errors -----------------------------------------------------------------

    @contextmanager
    def _faults(self, what: str):
        """Any OSError or sqlite3 error -> StorageUnavailable; the thread's connection is dropped."""
        try:
            yield
        except StorageUnavailable:
            raise
        except (OSError, sqlite3.Error) as exc:
            self._drop()
            raise StorageUnavailable(f"sqlite {self.path}: {what} failed: {exc}") from exc

    def _connect(self) -> sqlite3.Connection:
        if self._uri:
            conn = sqlite3.connect(self._uri, uri=True, timeout=self.busy_timeout, isolation_level=None)
        else:
            conn = sqlite3.connect(self.path, timeout=self.busy_timeout, isolation_level=None)
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute("PRAGMA foreign_keys = ON")
        except BaseException:
            conn.close()
            raise
        return conn

    def _conn(self) -> sqlite3.Connection:
        local = self._local
        if getattr(local, "pid", None) != os.getpid() or getattr(local, "conn", None) is None:
            local.conn = self._connect()
            local.pid = os.getpid()
        return local.conn

    def _drop(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None and getattr(self._local, "pid", None) == os.getpid():
            try:
                conn.close()
            except sqlite3.Error:
                pass
        self._local.__dict__.clear()

    def _read_only(self, query: str, params: tuple) -> list:
        """Rows of ``query`` on a read-only connection (for a read-only or full disk)."""
        if self._memory or not self.path.is_file():
            raise sqlite3.OperationalError(f"no database file at {self.path}")
        uri = "file:" + quote(str(self.path.resolve()))
        # A WAL database needs its -shm file: on a read-only disk without one, read the file as
        # it is (``immutable``: nothing can be writing to it there).
        last: sqlite3.Error | None = None
        for mode in ("?mode=ro", "?mode=ro&immutable=1"):
            try:
                conn = sqlite3.connect(uri + mode, uri=True, timeout=self.busy_timeout)
            except sqlite3.Error as exc:
                last = exc
                continue
            try:
                return conn.execute(query, params).fetchall()
            except sqlite3.Error as exc:
                last = exc
            finally:
                conn.close()
        assert last is not None
        raise last

    @contextmanager
    def _write(self, what: str):
        """A ``BEGIN IMMEDIATE`` transaction; a failed COMMIT or statement never hides its cause."""
        with self._faults(what):
            self._ensure_schema()
            conn = self._conn()
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException as exc:
                # SQLite may already have rolled back (SQLITE_FULL, I/O errors): ROLLBACK then
                # fails with "cannot rollback - no transaction is active" and would replace the
                # real error. Roll back only what is still open, and keep the first error.
                if conn.in_transaction:
                    try:
                        conn.execute("ROLLBACK")
                    except sqlite3.Error:
                        pass
                if isinstance(exc, (OSError, sqlite3.Error)):
                    self._failures.failed(exc)
                raise
        self._failures.ok()

    def _read(self, query: str, params: tuple = ()) -> list:
        """Rows of a query: on the normal connection, else on a read-only one."""
        try:
            with self._faults("read"):
                return self._conn().execute(query, params).fetchall()
        except StorageUnavailable as first:
            try:
                return self._read_only(query, params)
            except (OSError, sqlite3.Error):
                raise first from None

    # --- schema ---------------------------------------------------------------------------------

    def _ensure_schema(self) -> None:
        if self._ready:
            return
        with self._lock, self._faults("creating the schema"):
            if self._ready:
                return
            if not self._memory:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            deadline = time.monotonic() + self.busy_timeout
            while True:
                try:
                    self._migrate(self._conn())
                    break
                except sqlite3.OperationalError as exc:
                    if "locked" not in str(exc) or time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
            self._ready = True

    def _migrate(self, conn: sqlite3.Connection) -> None:
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode.lower() != "wal" and not self._memory:
            raise StorageUnavailable(f"could not switch {self.path} to WAL (journal mode {mode})")
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            current = conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()[0]
            for version in sorted(_SQLITE_MIGRATIONS):
                if version > current:
                    for statement in _SQLITE_MIGRATIONS[version]:
                        conn.execute(statement)
                    conn.execute("INSERT INTO schema_version (version) VALUES (?)", (version,))
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    def schema_version(self) -> int:
        return self._read("SELECT COALESCE(MAX(version), 0) FROM schema_version")[0][0]

    # --- the interface --------------------------------------------------------------------------

    def save(self, text: str, options: Options | ProjectOptions) -> tuple[str, str]:
        digest = text_hash(text)
        share_id, token = new_id(), new_token()
        with self._write("saving a share") as conn:
            conn.execute("INSERT OR IGNORE INTO content (sha256, text) VALUES (?, ?)", (digest, text))
            conn.execute(
                "INSERT INTO shares (id, sha256, options, token_hash, created) VALUES (?, ?, ?, ?, ?)",
                (share_id, digest, options_json(options), token_hash(token), time.time()),
            )
        return share_id, token

    def load(self, share_id: str) -> tuple[str, Options | ProjectOptions] | None:
        query = "SELECT c.text, s.options FROM shares s JOIN content c USING (sha256) WHERE s.id = ?"
        rows = self._read(query, (share_id,))
        if not rows:
            return None
        return rows[0][0], options_from_json(rows[0][1])

    def delete(self, share_id: str, token: str) -> bool:
        with self._write("deleting a share") as conn:
            row = conn.execute("SELECT sha256, token_hash FROM shares WHERE id = ?", (share_id,)).fetchone()
            if row is None or not token_matches(row[1], token):
                return False
            conn.execute("DELETE FROM shares WHERE id = ?", (share_id,))
            orphan = conn.execute("SELECT NOT EXISTS (SELECT 1 FROM shares WHERE sha256 = ?)", (row[0],))
            if orphan.fetchone()[0]:
                conn.execute("DELETE FROM renders WHERE sha256 = ?", (row[0],))
                conn.execute("DELETE FROM content WHERE sha256 = ?", (row[0],))
        return True

    def load_render(self, key: str) -> tuple[bytes, str] | None:
        rows = self._read("SELECT body, mimetype FROM renders WHERE key = ?", (key,))
        return (bytes(rows[0][0]), rows[0][1]) if rows else None

    def save_render(self, text: str, key: str, body: bytes, mimetype: str) -> None:
        with self._write("keeping a render") as conn:
            conn.execute(
                "INSERT OR IGNORE INTO renders (key, sha256, mimetype, body, created) "
                "SELECT ?, sha256, ?, ?, ? FROM content WHERE sha256 = ?",
                (key, mimetype, body, time.time(), text_hash(text)),
            )

    def count(self) -> tuple[int, int]:
        shares = self._read("SELECT COUNT(*) FROM shares")[0][0]
        texts = self._read("SELECT COUNT(*) FROM content")[0][0]
        return shares, texts

    def probe(self) -> None:
        self.schema_version()
        if self._memory:
            return
        with self._faults("checking the disk"):
            stat = os.statvfs(self.path.parent)
        if stat.f_flag & os.ST_RDONLY:
            raise StorageUnavailable(f"sqlite {self.path}: the disk is read-only")
        if stat.f_bavail * stat.f_frsize < MIN_FREE_BYTES:
            raise StorageUnavailable(f"sqlite {self.path}: the disk is full")
        if not self._ready:
            self._ensure_schema()
        if self._failures.error:
            raise StorageUnavailable(f"sqlite {self.path}: the last write failed: {self._failures.error}")

    def close(self) -> None:
        """Close this thread's connection."""
        self._drop()


def open_store(setting: str, instance_path: str | os.PathLike) -> ShareStore:
    """The store a ``DATABASE`` setting names: empty (``shares.sqlite3`` in the instance folder),
    a file path, a ``sqlite:///path`` URL, or a ``postgresql://`` URL."""
    if not setting:
        return SQLiteStore(Path(instance_path) / "shares.sqlite3")
    if setting.startswith("sqlite:///"):
        return SQLiteStore(setting[len("sqlite:///") :])
    if setting.startswith(("postgresql://", "postgres://")):
        from .store_postgres import PostgresStore

        return PostgresStore(setting)
    if "://" in setting:
        scheme = setting.split("://", 1)[0]
        raise StoreError(
            f"unsupported share database {scheme}:// (supported: a file path, sqlite:///path, postgresql://)"
        )
    return SQLiteStore(setting)
