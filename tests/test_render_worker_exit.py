"""No ``dot`` process and no ``render-*`` folder outlives a gunicorn worker (issue 7).

gunicorn serves the app with TMPDIR pointing at a folder of this test's own, so every folder the
workers' runners make, and every ``dot`` they start (its working directory is inside one), can
be told apart from other processes on the machine.
"""

from __future__ import annotations

import json
import os
import time
import urllib.request
from pathlib import Path

import pytest
from browser_util import Server

pytestmark = pytest.mark.dot

DOCKERFILE = (
    "FROM golang:1.22 AS build\nRUN go build -o /app .\nFROM alpine:3.20\nCOPY --from=build /app /app\n"
)


def _dots_under(folder: Path) -> list[int]:
    """Processes whose working directory is inside ``folder``."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cwd = os.readlink(f"/proc/{entry}/cwd")
            state = next(
                x for x in Path(f"/proc/{entry}/status").read_text().splitlines() if x.startswith("State")
            )
        except (OSError, StopIteration):
            continue
        if cwd.startswith(str(folder) + "/") and "Z" not in state.split()[1]:
            found.append(int(entry))
    return found


def _post(url: str, fmt: str) -> bytes:
    body = json.dumps({"dockerfile": DOCKERFILE, "format": fmt}).encode()
    request = urllib.request.Request(url + "/api/render", body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=20) as response:
        assert response.status == 200
        return response.read()


def test_workers_leave_no_dot_and_no_folder(tmp_path):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    server = Server(workers=2, env={"TMPDIR": str(tmp), "WEBAPP_RATE_RENDERS": "0"})
    try:
        server.wait_ready()
        for _ in range(4):  # both workers, both formats: each leaves a warm spare per format
            assert b"<svg" in _post(server.url, "svg")
            assert _post(server.url, "png").startswith(b"\x89PNG")
        deadline = time.monotonic() + 5
        while not _dots_under(tmp) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _dots_under(tmp), "the warm spares should be waiting while the server runs"
        assert [p.name for p in tmp.iterdir() if p.name.startswith("render-")]
    finally:
        log = server.log()
        server.stop()
    deadline = time.monotonic() + 5
    while _dots_under(tmp) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _dots_under(tmp) == [], "a dot outlived its worker"
    assert [p.name for p in tmp.iterdir() if p.name.startswith("render-")] == [], log
