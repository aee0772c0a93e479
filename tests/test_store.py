"""SQLite-only storage details (the contract every backend keeps is tests/test_store_contract.py)."""

from __future__ import annotations

import sqlite3

import pytest

from webapp.options import Options
from webapp.store import SCHEMA_VERSION, SQLiteStore, StorageUnavailable, StoreError, open_store, token_hash

TEXT = "FROM alpine AS base\nRUN echo hi\nFROM base\n"


@pytest.fixture
def store(tmp_path):
    s = SQLiteStore(tmp_path / "shares.sqlite3")
    yield s
    s.close()


def test_only_the_token_hash_is_stored(store, tmp_path):
    share_id, token = store.save(TEXT, Options())
    raw = (tmp_path / "shares.sqlite3").read_bytes() + (tmp_path / "shares.sqlite3-wal").read_bytes()
    assert token.encode() not in raw
    conn = sqlite3.connect(tmp_path / "shares.sqlite3")
    (stored,) = conn.execute("SELECT token_hash FROM shares WHERE id = ?", (share_id,)).fetchone()
    assert stored == token_hash(token)


def test_survives_a_restart(tmp_path):
    path = tmp_path / "db" / "shares.sqlite3"
    first = SQLiteStore(path)
    share_id, _ = first.save(TEXT, Options(target="base"))
    first.close()
    second = SQLiteStore(path)
    assert second.load(share_id) == (TEXT, Options(target="base"))


def test_wal_and_full_sync(store):
    conn = store._conn()
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] > 0


def test_open_store_settings(tmp_path):
    assert open_store("", tmp_path).path == tmp_path / "shares.sqlite3"
    assert str(open_store(f"sqlite:///{tmp_path}/x.db", tmp_path).path) == f"{tmp_path}/x.db"
    assert str(open_store(str(tmp_path / "y.db"), tmp_path).path) == str(tmp_path / "y.db")
    assert open_store("postgresql://u@db.invalid/shares", tmp_path).backend == "postgresql"
    with pytest.raises(StoreError, match="postgresql"):
        open_store("mysql://db/shares", tmp_path)


LEGACY_SCHEMA = """
CREATE TABLE content (sha256 TEXT PRIMARY KEY, text TEXT NOT NULL);
CREATE TABLE shares (id TEXT PRIMARY KEY, sha256 TEXT NOT NULL REFERENCES content(sha256),
    options TEXT NOT NULL, token_hash TEXT NOT NULL, created REAL NOT NULL);
INSERT INTO content VALUES ('abc', 'FROM old
');
INSERT INTO shares VALUES ('OLDOLDOLDOLDOLDOLDOLD0', 'abc', '{}', 'x', 0);
"""


def test_a_database_from_before_versioning_is_migrated_in_place(tmp_path):
    path = tmp_path / "shares.sqlite3"
    conn = sqlite3.connect(path)
    conn.executescript(LEGACY_SCHEMA)
    conn.close()
    store = SQLiteStore(path)
    assert store.schema_version() == SCHEMA_VERSION
    assert store.load("OLDOLDOLDOLDOLDOLDOLD0") == ("FROM old\n", Options())
    store.save(TEXT, Options())
    versions = sqlite3.connect(path).execute("SELECT version FROM schema_version ORDER BY 1").fetchall()
    assert versions == [(v,) for v in range(1, SCHEMA_VERSION + 1)]


def test_a_failed_commit_reports_its_own_error_not_cannot_rollback(store, monkeypatch):
    """A statement that fails after SQLite rolled back by itself keeps its own error as the cause."""
    store.save(TEXT, Options())
    conn = store._conn()
    real_execute = conn.execute

    class Wrapped:
        in_transaction = property(lambda self: conn.in_transaction)

        def execute(self, sql, *args):
            if sql.startswith("INSERT INTO shares"):
                real_execute("ROLLBACK")  # what SQLite does on SQLITE_FULL
                raise sqlite3.OperationalError("database or disk is full")
            return real_execute(sql, *args)

    monkeypatch.setattr(store, "_conn", lambda: Wrapped())
    with pytest.raises(StorageUnavailable, match="disk is full") as caught:
        store.save(TEXT, Options())
    assert "cannot rollback" not in str(caught.value)
    assert store.health()["ok"] is False and "disk is full" in store.health()["error"]


def test_memory_database_is_shared_by_threads_and_writes_no_file(tmp_path, monkeypatch):
    import threading

    monkeypatch.chdir(tmp_path)
    store = open_store(":memory:", tmp_path)
    share_id, _ = store.save(TEXT, Options())
    seen = []
    thread = threading.Thread(target=lambda: seen.append(store.load(share_id)))
    thread.start()
    thread.join()
    assert seen == [(TEXT, Options())]
    assert store.health()["ok"] is True
    assert list(tmp_path.iterdir()) == []


def test_the_default_app_needs_neither_postgresql_nor_redis(tmp_path):
    """`make run` alone: with psycopg and redis made unimportable, sharing and /healthz work."""
    import subprocess
    import sys

    from conftest import ROOT

    code = f"""
import sys
for name in ("psycopg", "psycopg_pool", "redis"):
    sys.modules[name] = None  # import fails, as when not installed
from webapp.web import create_app
client = create_app({{"DATABASE": {str(tmp_path / "s.db")!r}}}).test_client()
made = client.post("/api/share", json={{"dockerfile": "FROM alpine\\n"}})
assert made.status_code == 201, made.data
assert client.get(made.get_json()["url"] + ".txt").data == b"FROM alpine\\n"
assert client.get("/healthz").get_json()["checks"]["storage"]["ok"] is True
print("ok")
"""
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr
