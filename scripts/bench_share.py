"""Bench: a cached share SVG against a fresh render of the same diagram (issue 4's speed figure).

Run as ``python -m scripts.bench_share`` (the same measurement is meant to join ``make bench`` as a
section of scripts/bench.py once that exists). Prints median server-side times through the Flask
test client: a fresh render (analysis + dot + sanitiser, cache bypassed) and the cached answer of
the share URL, and their ratio; the issue asks for the cached answer to take under a tenth.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "data" / "corpus"
FILES = ("real/moby__moby__Dockerfile.simple.Dockerfile", "real/moby__moby__Dockerfile.Dockerfile")


def bench_share(runs: int = 15) -> list[tuple[str, float, float]]:
    """``(file, fresh ms, cached ms)`` for each bench file."""
    from scripts.bench import median_ms
    from webapp import links
    from webapp.web import create_app

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"DATABASE": str(Path(tmp) / "s.db"), "RATE_SHARES": 0, "RATE_RENDERS": 0})
        client = app.test_client()
        cache = app.extensions["share"].cache
        for name in FILES:
            text = (CORPUS / name).read_text(encoding="utf-8")
            url = links.stateless_path(text) + ".svg"
            stored = client.post("/api/share", json={"dockerfile": text}).get_json()["url"] + ".svg"

            def fresh(url=url):
                cache._items.clear()
                cache._bytes = 0
                assert client.get(url).status_code == 200

            def cached(url=stored):
                assert client.get(url).status_code == 200

            cached()  # warm
            rows.append((Path(name).name, median_ms(fresh, runs, 0), median_ms(cached, runs * 10, 0)))
    return rows


def main() -> int:
    print("share: cached share SVG vs fresh render (median, server side)")
    ok = True
    for name, fresh, cached in bench_share():
        ratio = cached / fresh
        ok &= ratio < 0.1
        print(f"  {name:<45} fresh {fresh:8.1f} ms   cached {cached:6.2f} ms   ratio {ratio:.3f}")
    print("  target: cached < 0.1 x fresh:", "met" if ok else "NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
