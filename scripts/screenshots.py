"""Pictures of the editor page for a person to look at (not a test).

usage: .venv/bin/python -m scripts.screenshots OUT_DIR [DOCKERFILE]
Starts the app like `make run` on a free port, opens it in Debian's Chromium at phone (390x844),
tablet (820x1180) and desktop (1400x900) sizes, light and dark, and saves for each
``<size>-<theme>-example.png`` (the first example), ``<size>-<theme>-file.png`` (the given
Dockerfile, default moby's, vendored in tests/data) and, on the desktop, ``-file-layers.png``;
then ``readme.png``, the README's picture (docs/editor.png).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from browser_util import Server, launch_chromium  # noqa: E402

DEFAULT = ROOT / "tests" / "data" / "corpus" / "real" / "moby__moby__Dockerfile.Dockerfile"
SIZES = {"phone": (390, 844), "tablet": (820, 1180), "desktop": (1400, 900)}


def _drawn(page, timeout: int = 30_000) -> None:
    page.wait_for_selector("#diagram svg g[id]", timeout=timeout)
    page.wait_for_timeout(400)


TYPO = """\
# syntax=docker/dockerfile:1
FROM golang:1.22-alpine AS build
WORKDIR /src
COPY . .
RUN go build -o /out/app ./cmd/app

FROM alpine:3.20
RUN apk add --no-cache ca-certificates
COPY --from=builder /out/app /usr/local/bin/app
ENTRYPOINT ["/usr/local/bin/app"]
"""


def readme_picture(browser, server, path: Path) -> None:
    """The README's picture (docs/editor.png): the typo BuildKit does not report, explained."""
    context = browser.new_context(viewport={"width": 1280, "height": 760}, color_scheme="light")
    page = context.new_page()
    page.goto(server.url + "/")
    _drawn(page)
    page.evaluate("t => window.dfviz.load(t, {name: 'Dockerfile'})", TYPO)
    page.wait_for_selector("[data-testid=quick-fix]", timeout=30_000)
    page.locator("#diagram svg g.node", has_text="builder").first.hover()
    page.wait_for_timeout(300)
    page.screenshot(path=str(path))
    context.close()


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
            for size, (width, height) in SIZES.items():
                for theme in ("light", "dark"):
                    viewport = {"width": width, "height": height}
                    context = browser.new_context(viewport=viewport, color_scheme=theme)
                    page = context.new_page()
                    page.goto(server.url + "/")
                    _drawn(page)
                    page.screenshot(path=str(out / f"{size}-{theme}-example.png"))
                    page.get_by_test_id("file-input").set_input_files(str(dockerfile))
                    page.wait_for_timeout(1500)
                    _drawn(page)
                    page.screenshot(path=str(out / f"{size}-{theme}-file.png"))
                    if size == "desktop":
                        page.get_by_test_id("view-select").select_option("layers")
                        page.wait_for_timeout(2000)
                        _drawn(page)
                        page.screenshot(path=str(out / f"{size}-{theme}-file-layers.png"))
                    context.close()
            readme_picture(browser, server, out / "readme.png")
            browser.close()
    finally:
        server.stop()
    print(f"screenshots in {out}/")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
