"""Share storage: round trips, delete tokens, restart durability and concurrent writer processes."""

from __future__ import annotations

import multiprocessing
import sqlite3

import pytest

from webapp.options import Options
from webapp.store import SQLiteStore, StoreError, open_store, token_hash

TEXT = "FROM alpine AS base\nRUN echo hi\nFROM base\n"


@pytest.fixture
def store(tmp_path):
    s = SQLiteStore(tmp_path / "shares.sqlite3")
    yield s
    s.close()


def test_save_and_load(store):
    options = Options(target="base", build_args=(("A", "1"),), platform="linux/arm64", view="layers")
    share_id, token = store.save(TEXT, options)
    assert len(share_id) == 22 and len(token) >= 40
    assert store.load(share_id) == (TEXT, options)


def test_ids_are_random_not_content_hashes(store):
    a, _ = store.save(TEXT, Options())
    b, _ = store.save(TEXT, Options())
    assert a != b
    assert store.count() == (2, 1), "the same text is stored once"


def test_only_the_token_hash_is_stored(store, tmp_path):
    share_id, token = store.save(TEXT, Options())
    raw = (tmp_path / "shares.sqlite3").read_bytes() + (tmp_path / "shares.sqlite3-wal").read_bytes()
    assert token.encode() not in raw
    conn = sqlite3.connect(tmp_path / "shares.sqlite3")
    (stored,) = conn.execute("SELECT token_hash FROM shares WHERE id = ?", (share_id,)).fetchone()
    assert stored == token_hash(token)


def test_delete_needs_the_token(store):
    share_id, token = store.save(TEXT, Options())
    assert store.delete(share_id, "wrong") is False
    assert store.delete(share_id, "") is False
    assert store.load(share_id) is not None
    assert store.delete(share_id, token) is True
    assert store.load(share_id) is None
    assert store.delete(share_id, token) is False
    assert store.count() == (0, 0), "the text goes with its last share"


def test_deleting_one_share_keeps_the_shared_text(store):
    a, token_a = store.save(TEXT, Options())
    b, _ = store.save(TEXT, Options(view="layers"))
    assert store.delete(a, token_a)
    assert store.load(b) == (TEXT, Options(view="layers"))


def test_unknown_and_deleted_look_the_same(store):
    share_id, token = store.save(TEXT, Options())
    store.delete(share_id, token)
    assert store.load(share_id) is None
    assert store.load("A" * 22) is None


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
    with pytest.raises(StoreError, match="postgresql"):
        open_store("postgresql://db/shares", tmp_path)


def _writer(path: str, worker: int, count: int, queue) -> None:
    store = SQLiteStore(path)
    made = []
    for i in range(count):
        text = f"FROM alpine\nRUN echo {worker}-{i % 5}\n"
        share_id, token = store.save(text, Options(target=None if i % 2 else "x"))
        made.append((share_id, token, text))
    queue.put(made)


def test_many_processes_writing_at_once_lose_nothing(tmp_path):
    """8 separate processes (like gunicorn workers) x 25 shares each, all readable afterwards."""
    path = str(tmp_path / "shares.sqlite3")
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_writer, args=(path, w, 25, queue)) for w in range(8)]
    for p in procs:
        p.start()
    results = [queue.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    made = [item for batch in results for item in batch]
    assert len(made) == 200
    assert len({share_id for share_id, _, _ in made}) == 200
    reader = SQLiteStore(path)
    for share_id, _, text in made:
        loaded = reader.load(share_id)
        assert loaded is not None and loaded[0] == text
    assert reader.count() == (200, 8 * 5)
