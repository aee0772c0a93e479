"""Bench: a cached share SVG over HTTP (issue 4's and issue 10's figure).

``make bench`` (section ``http``) times ``GET /s/<id>.svg`` once the worker has it cached, as a
ratio to the bench's reference (floor 0.05). ``python -m scripts.bench_share`` prints the same
figure for the moby Dockerfiles of the bench data alone, beside a fresh render of the same link.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def cached_share_path(client, text: str, warm: int = 6) -> str:
    """Store ``text`` as a share and return its SVG path, fetched ``warm`` times on ``client``'s
    connection so the worker behind it has the drawing cached."""
    import json

    answer = json.loads(client.request("POST", "/api/share", {"dockerfile": text}))
    path = answer["url"] + ".svg"  # a path: /s/<id>
    for _ in range(warm):
        client.request("GET", path)
    return path


def main() -> int:
    sys.path.insert(0, str(ROOT))
    from scripts.bench import MOBY, Reference
    from scripts.bench_web import Client, served

    ref = Reference()
    text = MOBY.read_text(encoding="utf-8")
    with served(workers=1) as server:
        client = Client(server.port)
        path = cached_share_path(client, text)
        cached, ref_ms = ref.compare(lambda: client.request("GET", path), 15, inner=10)
        body = {"dockerfile": text, "format": "svg"}
        fresh_ms, _ = ref.compare(lambda: client.request("POST", "/api/render", body), 5)
        client.close()
    print(f"cached share SVG {cached:.2f} ms ({cached / ref_ms:.3f}x the reference {ref_ms:.1f} ms)")
    print(f"fresh render of the same diagram {fresh_ms:.1f} ms; cached / fresh = {cached / fresh_ms:.3f}")
    return 0 if cached / ref_ms <= 0.05 else 1


if __name__ == "__main__":
    sys.exit(main())
