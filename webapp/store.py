"""Stored share links behind a small interface; SQLite is the default backend.

A backend implements three calls (:class:`ShareStore`): ``save`` answers only once the share is
durably committed, ``load`` answers None for unknown and deleted ids alike, ``delete`` needs the
token returned once by ``save`` (only its SHA-256 is kept). Views use nothing else, so another
backend (PostgreSQL for several app instances) is a new class and a line in :func:`open_store`.
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
from pathlib import Path

from .options import Options


class StoreError(RuntimeError):
    """The share database cannot be used (misconfigured, unsupported URL)."""


class ShareStore(ABC):
    """Where stored shares live."""

    @abstractmethod
    def save(self, text: str, options: Options) -> tuple[str, str]:
        """Store a share and return ``(id, delete_token)`` after it is durably written."""

    @abstractmethod
    def load(self, share_id: str) -> tuple[str, Options] | None:
        """The share's text and options, or None when the id is unknown or deleted."""

    @abstractmethod
    def delete(self, share_id: str, token: str) -> bool:
        """Delete the share when ``token`` is its delete token; False otherwise (or unknown id)."""


def new_id() -> str:
    """A share id: 128 random bits as URL-safe text (22 characters)."""
    return secrets.token_urlsafe(16)


def token_hash(token: str) -> str:
    """The only form in which a delete token is kept."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _options_json(options: Options) -> str:
    return json.dumps(options.to_mapping(), sort_keys=True, separators=(",", ":"))


_SCHEMA = """
CREATE TABLE IF NOT EXISTS content (
    sha256 TEXT PRIMARY KEY,
    text   TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS shares (
    id         TEXT PRIMARY KEY,
    sha256     TEXT NOT NULL REFERENCES content(sha256),
    options    TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    created    REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS shares_sha256 ON shares(sha256);
"""


class SQLiteStore(ShareStore):
    """Shares in one SQLite file: WAL journal, ``synchronous=FULL``, safe across worker processes.

    Each thread of each process keeps its own connection (a forked worker opens a fresh one).
    Writes take the write lock up front (``BEGIN IMMEDIATE``) and wait for it up to
    ``busy_timeout``, so concurrent writers queue instead of failing.
    """

    def __init__(self, path: str | os.PathLike, *, busy_timeout: float = 30.0):
        self.path = Path(path)
        self.busy_timeout = busy_timeout
        self._local = threading.local()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._init_schema()

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=self.busy_timeout, isolation_level=None)
        conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
        return conn

    def _conn(self) -> sqlite3.Connection:
        local = self._local
        if getattr(local, "pid", None) != os.getpid():
            local.conn = self._connect()
            local.pid = os.getpid()
        return local.conn

    def _init_schema(self) -> None:
        deadline = time.monotonic() + self.busy_timeout
        while True:
            try:
                conn = self._conn()
                mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                if mode.lower() != "wal":
                    raise StoreError(f"could not switch {self.path} to WAL (journal mode {mode})")
                conn.execute("BEGIN IMMEDIATE")
                try:
                    for statement in _SCHEMA.split(";"):
                        if statement.strip():
                            conn.execute(statement)
                    conn.execute("COMMIT")
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def save(self, text: str, options: Options) -> tuple[str, str]:
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        share_id, token = new_id(), secrets.token_urlsafe(32)
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute("INSERT OR IGNORE INTO content (sha256, text) VALUES (?, ?)", (digest, text))
            conn.execute(
                "INSERT INTO shares (id, sha256, options, token_hash, created) VALUES (?, ?, ?, ?, ?)",
                (share_id, digest, _options_json(options), token_hash(token), time.time()),
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return share_id, token

    def load(self, share_id: str) -> tuple[str, Options] | None:
        query = "SELECT c.text, s.options FROM shares s JOIN content c USING (sha256) WHERE s.id = ?"
        row = self._conn().execute(query, (share_id,)).fetchone()
        if row is None:
            return None
        return row[0], Options.from_mapping(json.loads(row[1]))

    def delete(self, share_id: str, token: str) -> bool:
        conn = self._conn()
        conn.execute("BEGIN IMMEDIATE")
        try:
            row = conn.execute("SELECT sha256, token_hash FROM shares WHERE id = ?", (share_id,)).fetchone()
            if row is None or not hmac.compare_digest(row[1], token_hash(token)):
                conn.execute("ROLLBACK")
                return False
            conn.execute("DELETE FROM shares WHERE id = ?", (share_id,))
            conn.execute(
                "DELETE FROM content WHERE sha256 = ? AND NOT EXISTS (SELECT 1 FROM shares WHERE sha256 = ?)",
                (row[0], row[0]),
            )
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        return True

    def count(self) -> tuple[int, int]:
        """``(shares, distinct texts)``, for tests and operators."""
        conn = self._conn()
        shares = conn.execute("SELECT COUNT(*) FROM shares").fetchone()[0]
        texts = conn.execute("SELECT COUNT(*) FROM content").fetchone()[0]
        return shares, texts

    def close(self) -> None:
        """Close this thread's connection."""
        conn = getattr(self._local, "conn", None)
        if conn is not None and self._local.pid == os.getpid():
            conn.close()
        self._local.__dict__.clear()


def open_store(setting: str, instance_path: str | os.PathLike) -> ShareStore:
    """The store a ``DATABASE`` setting names: empty (``shares.sqlite3`` in the instance folder),
    a file path, or a ``sqlite:///path`` URL."""
    if not setting:
        return SQLiteStore(Path(instance_path) / "shares.sqlite3")
    if setting.startswith("sqlite:///"):
        return SQLiteStore(setting[len("sqlite:///") :])
    if "://" in setting:
        scheme = setting.split("://", 1)[0]
        raise StoreError(f"unsupported share database {scheme}:// (supported: a file path or sqlite:///path)")
    return SQLiteStore(setting)
