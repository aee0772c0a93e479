"""Pictures of the editor page for a person to look at (not a test).

usage: .venv/bin/python -m scripts.screenshots OUT_DIR [DOCKERFILE]
Starts the app like `make run` on a free port, opens it in Debian's Chromium, and saves
example.png, then file.png and file-layers.png for the given Dockerfile (default: moby's).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from browser_util import Server, launch_chromium  # noqa: E402

DEFAULT = ROOT / "tests" / "data" / "corpus" / "real" / "moby__moby__Dockerfile.Dockerfile"


def main(argv: list[str]) -> int:
    from playwright.sync_api import sync_playwright

    out = Path(argv[0]) if argv else Path("out")
    dockerfile = Path(argv[1]) if len(argv) > 1 else DEFAULT
    out.mkdir(parents=True, exist_ok=True)
    server = Server()
    try:
        server.wait_ready()
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            page.goto(server.url + "/")
            page.wait_for_selector("#diagram svg", timeout=30_000)
            page.screenshot(path=str(out / "example.png"))
            page.get_by_test_id("file-input").set_input_files(str(dockerfile))
            page.wait_for_timeout(1500)
            page.wait_for_selector("#diagram svg", timeout=30_000)
            page.screenshot(path=str(out / "file.png"))
            page.get_by_test_id("view-select").select_option("layers")
            page.wait_for_timeout(1500)
            page.screenshot(path=str(out / "file-layers.png"))
            browser.close()
    finally:
        server.stop()
    print(f"screenshots in {out}/")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
