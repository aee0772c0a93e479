"""The share store contract, run against every backend: SQLite (a file) and PostgreSQL (a server).

Each test gets an empty store of each kind: a fresh SQLite file, or a fresh database on the
session's PostgreSQL server (tests/pg_util.py).
"""

from __future__ import annotations

import multiprocessing
import threading

import pg_util
import pytest

from webapp.options import Options, ProjectOptions
from webapp.store import SCHEMA_VERSION, ShareStore, open_store

TEXT = "FROM alpine AS base\nRUN echo hi\nFROM base\n"


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path) -> str:
    """A DATABASE setting naming an empty store."""
    if request.param == "sqlite":
        return str(tmp_path / "shares.sqlite3")
    return pg_util.fresh_database()


@pytest.fixture
def store(database, tmp_path):
    s = open_store(database, tmp_path)
    yield s
    s.close()


def test_backend_follows_the_setting(store, database):
    assert store.backend == ("postgresql" if database.startswith("postgresql://") else "sqlite")


def test_save_and_load(store):
    options = Options(target="base", build_args=(("A", "1"),), platform="linux/arm64", view="layers")
    share_id, token = store.save(TEXT, options)
    assert len(share_id) == 22 and len(token) >= 40
    assert store.load(share_id) == (TEXT, options)


def test_a_project_share_keeps_its_kind(store):
    """A project is stored as one text (its files) with :class:`ProjectOptions`; the same text
    shared as a Dockerfile is still a Dockerfile."""
    text = '{"Dockerfile":"FROM alpine\\n","docker-bake.hcl":"target \\"app\\" {}\\n"}'
    options = ProjectOptions(project_target="app", build_contexts=(("base", "docker-image://alpine:3.20"),))
    project_id, token = store.save(text, options)
    plain_id, _ = store.save(text, Options(view="layers"))
    assert store.load(project_id) == (text, options)
    assert store.load(plain_id) == (text, Options(view="layers"))
    assert store.count() == (2, 1)
    assert store.load(store.save(text, ProjectOptions())[0]) == (text, ProjectOptions())
    assert store.delete(project_id, token) and store.load(project_id) is None


def test_unicode_text_round_trips(store):
    text = "FROM alpine\n# caf\u00e9 \u2603 \U0001f433\nRUN echo '\\n'\n"
    share_id, _ = store.save(text, Options())
    assert store.load(share_id) == (text, Options())


def test_ids_are_random_and_texts_stored_once(store):
    a, _ = store.save(TEXT, Options())
    b, _ = store.save(TEXT, Options())
    assert a != b
    assert store.count() == (2, 1)


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


def test_a_new_store_on_the_same_database_sees_everything(store, database, tmp_path):
    share_id, _ = store.save(TEXT, Options(target="base"))
    store.close()
    again = open_store(database, tmp_path)
    try:
        assert again.load(share_id) == (TEXT, Options(target="base"))
    finally:
        again.close()


def test_renders_are_kept_for_stored_texts_only(store):
    share_id, token = store.save(TEXT, Options())
    store.save_render(TEXT, "k-svg", b"<svg/>", "image/svg+xml")
    store.save_render(TEXT, "k-svg", b"<other/>", "image/svg+xml")  # first one wins
    store.save_render("FROM never-stored\n", "k-other", b"x", "image/png")
    assert store.load_render("k-svg") == (b"<svg/>", "image/svg+xml")
    assert store.load_render("k-other") is None
    assert store.load_render("missing") is None
    assert store.delete(share_id, token)
    assert store.load_render("k-svg") is None, "renders go with the text's last share"


def test_binary_renders_round_trip(store):
    store.save(TEXT, Options())
    body = bytes(range(256)) * 40
    store.save_render(TEXT, "k-png", body, "image/png")
    assert store.load_render("k-png") == (body, "image/png")


def test_schema_is_versioned(store):
    assert store.schema_version() == SCHEMA_VERSION


def test_stores_opened_at_once_migrate_once(database, tmp_path):
    stores: list[ShareStore] = []
    errors: list[BaseException] = []

    def open_and_save():
        try:
            s = open_store(database, tmp_path)
            stores.append(s)
            s.save(TEXT, Options())
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_and_save) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert stores[0].count() == (6, 1)
    assert stores[0].schema_version() == SCHEMA_VERSION
    for s in stores:
        s.close()


def test_health_is_ok(store):
    health = store.health()
    assert health["ok"] is True and health["error"] is None
    assert health["backend"] == store.backend


def test_threads_saving_and_deleting_one_text_lose_nothing(store):
    """Saves of a text race with deletes of its last share: every acknowledged save stays readable."""
    kept: list[str] = []
    errors: list[BaseException] = []

    def churn():
        try:
            for _ in range(20):
                share_id, token = store.save(TEXT, Options())
                assert store.delete(share_id, token)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    def keep():
        try:
            for _ in range(20):
                kept.append(store.save(TEXT, Options(view="layers"))[0])
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=churn), threading.Thread(target=keep), threading.Thread(target=churn)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert all(store.load(share_id) == (TEXT, Options(view="layers")) for share_id in kept)
    assert store.count() == (20, 1)


def _writer(database: str, folder: str, worker: int, count: int, queue) -> None:
    store = open_store(database, folder)
    made = []
    for i in range(count):
        text = f"FROM alpine\nRUN echo {worker}-{i % 5}\n"
        share_id, token = store.save(text, Options(target=None if i % 2 else "x"))
        made.append((share_id, token, text))
    store.close()
    queue.put(made)


def test_many_processes_writing_at_once_lose_nothing(store, database, tmp_path):
    """Separate processes (like gunicorn workers) x 25 shares each, all readable afterwards: 8 on
    SQLite (one file, one write lock); 4 on PostgreSQL (tests/test_cluster.py runs 8 x 50 there)."""
    workers = 8 if store.backend == "sqlite" else 4
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    procs = [
        ctx.Process(target=_writer, args=(database, str(tmp_path), w, 25, queue)) for w in range(workers)
    ]
    for p in procs:
        p.start()
    results = [queue.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    made = [item for batch in results for item in batch]
    assert len({share_id for share_id, _, _ in made}) == workers * 25
    for share_id, _, text in made:
        loaded = store.load(share_id)
        assert loaded is not None and loaded[0] == text
    assert store.count() == (workers * 25, workers * 5)
