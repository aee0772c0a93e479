"""Stored links under gunicorn: several worker processes creating links at once lose nothing."""

from __future__ import annotations

import json
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from browser_util import Server


def _post(url: str, text: str) -> dict:
    body = json.dumps({"dockerfile": text}).encode()
    request = urllib.request.Request(
        url, data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 201
        return json.loads(response.read())


def test_four_workers_creating_links_at_once(tmp_path):
    database = tmp_path / "shares.sqlite3"
    server = Server(workers=4, env={"WEBAPP_DATABASE": str(database), "WEBAPP_RATE_SHARES": "0"})
    try:
        server.wait_ready()
        texts = [f"FROM alpine:3.20 AS s{i}\nRUN echo {i % 7}\n" for i in range(120)]
        with ThreadPoolExecutor(max_workers=24) as pool:
            made = list(pool.map(lambda t: (_post(server.url + "/api/share", t), t), texts))
        assert len({body["id"] for body, _ in made}) == 120
        for body, text in made:
            with urllib.request.urlopen(server.url + body["url"] + ".txt", timeout=10) as response:
                assert response.read().decode() == text
    except BaseException:
        print("---- server log ----\n" + server.log())
        raise
    finally:
        server.stop()
