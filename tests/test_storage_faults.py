"""Storage faults never answer 500: an unwritable path, a read-only folder, a full disk, PostgreSQL down.

Each one answers 503 "sharing is unavailable" with Retry-After on what needs the store, keeps
serving existing links where the data can still be read, keeps stateless links working, says
what is wrong in ``/healthz``, and recovers without restarting the app once the fault is gone.
The read-only folder and the full disk are real mounts (a read-only bind mount, a tiny tmpfs)
when the tests run as root, as in CI; elsewhere the read-only case uses file modes.
"""

from __future__ import annotations

import errno
import os
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

import pg_util
import pytest
from conftest import STRICT

from webapp import links
from webapp.options import Options
from webapp.web import create_app

TEXT = "FROM alpine:3.20 AS base\nRUN echo hello\nFROM base\n"
ROOT_ONLY = os.geteuid() == 0


def make_app(database: str):
    app = create_app({"DATABASE": database, "RATE_SHARES": 0, "RATE_RENDERS": 0})
    app.config["TESTING"] = True
    return app


def create(client, text=TEXT):
    return client.post("/api/share", json={"dockerfile": text})


def assert_unavailable(response):
    assert response.status_code == 503, response.get_data(as_text=True)
    assert response.headers.get("Retry-After"), "a 503 says when to come back"
    assert "sharing is unavailable" in response.get_data(as_text=True)


def health(client) -> dict:
    """``{"status", "storage"}`` of /healthz: a storage fault is 200 "degraded", not 503."""
    response = client.get("/healthz")
    body = response.get_json()
    assert response.status_code == 200, body
    return {"status": body["status"], "storage": body["checks"]["storage"]}


def stateless_txt(text=TEXT) -> str:
    return f"/d/{links.CURRENT_VERSION}/{links.encode(text, Options())}.txt"


def _mount(*argv: str) -> None:
    result = subprocess.run(["mount", *argv], capture_output=True, text=True)
    if result.returncode != 0:
        message = f"mount {' '.join(argv)} failed: {result.stderr.strip()}"
        if STRICT:
            pytest.fail(message)
        pytest.skip(message)


@contextmanager
def read_only(folder: Path):
    """Make ``folder`` read-only for this process: a read-only bind mount as root, modes otherwise."""
    if ROOT_ONLY:
        _mount("--bind", str(folder), str(folder))
        try:
            _mount("-o", "remount,bind,ro", str(folder))
            yield
        finally:
            subprocess.run(["umount", str(folder)], check=True)
    else:
        modes = {p: p.stat().st_mode for p in [folder, *folder.iterdir()]}
        for p in modes:
            p.chmod(0o555 if p.is_dir() else 0o444)
        try:
            yield
        finally:
            for p, mode in modes.items():
                p.chmod(mode)


def test_an_unwritable_path_answers_503_and_stateless_links_still_work(tmp_path):
    (tmp_path / "a-file").write_text("not a folder")
    app = make_app(str(tmp_path / "a-file" / "db" / "shares.sqlite3"))
    client = app.test_client()
    assert_unavailable(create(client))
    assert_unavailable(client.get("/s/" + "A" * 22 + ".txt"))
    assert_unavailable(client.get("/api/share/" + "A" * 22))
    assert_unavailable(client.delete("/api/share/" + "A" * 22, headers={"Authorization": "Bearer x"}))
    response = client.get(stateless_txt())
    assert response.status_code == 200 and response.get_data(as_text=True) == TEXT
    body = health(client)
    assert body["status"] == "degraded"
    assert body["storage"]["ok"] is False and "a-file" in body["storage"]["error"]


def test_a_read_only_folder_keeps_links_readable(tmp_path):
    folder = tmp_path / "db"
    database = str(folder / "shares.sqlite3")
    before_app = make_app(database)
    before = before_app.test_client()
    made = create(before).get_json()
    # A bind mount only stops new opens: the running app's next connection is the one refused.
    before_app.extensions["share"].store().close()
    with read_only(folder):
        after = make_app(database).test_client()  # opened on the read-only folder
        for client in (before, after):
            response = client.get(made["url"] + ".txt")
            assert response.status_code == 200 and response.get_data(as_text=True) == TEXT
            assert client.get(made["url"] + "x.txt").status_code == 404
            assert_unavailable(create(client, TEXT + "RUN echo 2\n"))
            body = health(client)
            assert body["storage"]["ok"] is False and "read-only" in body["storage"]["error"]
        token = {"Authorization": "Bearer " + made["delete_token"]}
        assert_unavailable(after.delete(made["delete_url"], headers=token))
    # writable again: the same app recovers by itself
    assert create(after).status_code == 201
    assert after.delete(made["delete_url"], headers=token).status_code == 204
    assert health(after)["storage"]["ok"] is True


@pytest.mark.skipif(not ROOT_ONLY and not STRICT, reason="a tmpfs needs root (CI runs as root)")
def test_a_full_disk_answers_503_keeps_reads_and_recovers(tmp_path):
    folder = tmp_path / "tiny"
    folder.mkdir()
    _mount("-t", "tmpfs", "-o", "size=512k", "tmpfs", str(folder))
    try:
        client = make_app(str(folder / "shares.sqlite3")).test_client()
        made = create(client).get_json()
        filler = folder / "filler"
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
        try:
            while True:
                os.write(fd, b"\0" * 4096)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
        finally:
            os.close(fd)
        big = TEXT + "".join(f"RUN echo {i} {'x' * 60}\n" for i in range(200))
        response = create(client, big)
        assert_unavailable(response)
        response = client.get(made["url"] + ".txt")
        assert response.status_code == 200 and response.get_data(as_text=True) == TEXT
        body = health(client)
        assert body["storage"]["ok"] is False and "full" in body["storage"]["error"]
        assert "cannot rollback" not in body["storage"]["error"]
        filler.unlink()
        assert create(client, big).status_code == 201
        assert health(client)["storage"]["ok"] is True
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=True)


def test_postgresql_down_answers_503_fast_then_recovers_without_a_restart():
    server = pg_util.server()
    client = make_app(pg_util.fresh_database()).test_client()
    made = create(client).get_json()
    assert client.get(made["url"] + ".txt").status_code == 200
    server.stop()
    try:
        started = time.monotonic()
        assert_unavailable(create(client))
        assert_unavailable(client.get(made["url"] + ".txt"))
        assert time.monotonic() - started < 15, "no connection within the pool's timeout, not forever"
        assert client.get(stateless_txt()).status_code == 200
        started = time.monotonic()
        body = health(client)
        assert time.monotonic() - started < 5
        assert body["status"] == "degraded" and body["storage"]["backend"] == "postgresql"
        assert body["storage"]["ok"] is False
    finally:
        server.start()
    deadline = time.monotonic() + 30
    while create(client).status_code != 201:
        assert time.monotonic() < deadline, "the app did not reconnect to PostgreSQL"
        time.sleep(0.2)
    response = client.get(made["url"] + ".txt")
    assert response.status_code == 200 and response.get_data(as_text=True) == TEXT
    assert health(client)["storage"]["ok"] is True


def test_the_editor_opens_empty_when_a_shared_link_cannot_be_read(tmp_path):
    (tmp_path / "a-file").write_text("not a folder")
    client = make_app(str(tmp_path / "a-file" / "shares.sqlite3")).test_client()
    response = client.get("/?s=" + "A" * 22)
    assert response.status_code == 200 and response.mimetype == "text/html"
