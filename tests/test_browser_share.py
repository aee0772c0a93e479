"""Share links in a real browser: share from the editor, open the link in a fresh page, same diagram.

gunicorn with two workers serves the app from a temporary share database; the last test stops it
and starts another over the same file, as a user restarting `make run` would.
"""

from __future__ import annotations

import re
import urllib.request

import pytest
from browser_util import Server, by, open_editor, watched_pages

pytestmark = [pytest.mark.browser, pytest.mark.dot]

sync_api = pytest.importorskip("playwright.sync_api")

TIMEOUT = 15_000
SHARE_RE = re.compile(r"/s/[A-Za-z0-9_-]{22}$")

SECRET_FILE = """\
FROM golang:1.22 AS build
ENV API_TOKEN=abc123def456
RUN go build -o /out/app .
FROM alpine:3.20
COPY --from=build /out/app /app
"""


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    return str(tmp_path_factory.mktemp("shares") / "shares.sqlite3")


def start(database: str) -> Server:
    srv = Server(workers=2, env={"WEBAPP_DATABASE": database})
    try:
        srv.wait_ready()
    except BaseException:
        srv.stop()
        raise
    return srv


@pytest.fixture(scope="module")
def server(database):
    srv = start(database)
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def pages(browser, server):
    with watched_pages(browser, server, TIMEOUT) as p:
        yield p


SIGNATURE_JS = """() => [...document.querySelectorAll(
    '[data-testid="diagram"] svg g.node, [data-testid="diagram"] svg g.edge')]
    .filter(g => !g.id.startsWith('legend-'))
    .map(g => g.id + ':' + [...g.querySelectorAll('text')].map(t => t.textContent.trim()).join('|')).sort()"""


def diagram_signature(page) -> list[str]:
    """The drawing's node and edge ids with their text: equal signatures, same diagram.

    The legend is left out: the editor page shows its own and removes the drawn one."""
    return page.evaluate(SIGNATURE_JS)


def share(page) -> str:
    by(page, "share-button").click()
    field = by(page, "share-url")
    sync_api.expect(field).to_have_value(SHARE_RE)
    return field.input_value()


def test_share_then_open_in_a_fresh_page_shows_the_same_diagram(pages, server):
    editor = pages.new(permissions=["clipboard-read", "clipboard-write"])
    open_editor(editor, server)
    before = diagram_signature(editor)
    assert before, "the editor drew nothing"
    text = editor.evaluate("window.dfviz.getState().dockerfile")

    url = share(editor)
    assert url.startswith(server.url + "/s/")
    stateless = by(editor, "share-stateless-url")
    sync_api.expect(stateless).to_be_visible()
    stateless_url = stateless.input_value()
    assert stateless_url.startswith(server.url + "/d/1/") and len(stateless_url) <= 2000

    for link in (url, stateless_url):
        viewer = pages.new(permissions=["clipboard-read", "clipboard-write"])
        viewer.goto(link)
        viewer.wait_for_selector('[data-testid="diagram"] svg #stage-0')
        assert diagram_signature(viewer) == before, link
        assert by(viewer, "share-source").inner_text().strip() == text.strip()
        markdown = by(viewer, "embed-markdown").input_value()
        assert markdown.startswith("[![Dockerfile build graph](") and ".svg)" in markdown
        # The .svg works as an image, as a Markdown preview embeds it.
        width = viewer.evaluate(
            """src => new Promise((ok, fail) => { const img = new Image();
                img.onload = () => ok(img.naturalWidth); img.onerror = () => fail(new Error('no image'));
                img.src = src; })""",
            link + ".svg",
        )
        assert width > 100
        by(viewer, "copy-markdown").click()
        sync_api.expect(viewer.locator("#share-toast")).to_have_text("Copied.")

        # "Open in editor" loads the same text and draws the same diagram.
        by(viewer, "open-in-editor").click()
        viewer.wait_for_url(re.compile(r"/\?(s|d)="))
        viewer.wait_for_function(
            "text => window.dfviz && window.dfviz.getState().dockerfile === text", arg=text
        )
        same = f"want => JSON.stringify(({SIGNATURE_JS})()) === JSON.stringify(want)"
        viewer.wait_for_function(same, arg=before)


def test_a_likely_secret_is_redacted_before_sharing(pages, server):
    editor = pages.new(permissions=["clipboard-read", "clipboard-write"])
    open_editor(editor, server)
    editor.evaluate("text => window.dfviz.load(text, {})", SECRET_FILE)
    editor.wait_for_function("() => window.dfviz.getState().dockerfile.includes('API_TOKEN')")
    by(editor, "share-button").click()
    dialog = by(editor, "secrets-dialog")
    sync_api.expect(dialog).to_be_visible()
    assert "line 2: API_TOKEN looks like a secret" in dialog.inner_text()
    by(editor, "secrets-redact").click()
    field = by(editor, "share-url")
    sync_api.expect(field).to_have_value(SHARE_RE)
    with urllib.request.urlopen(field.input_value() + ".txt", timeout=10) as response:
        shared = response.read().decode()
    assert "abc123def456" not in shared
    assert "ENV API_TOKEN=REDACTED" in shared
    assert "abc123def456" not in editor.evaluate("window.dfviz.getState().dockerfile")


def test_cancelling_the_secret_warning_shares_nothing(pages, server):
    editor = pages.new(permissions=["clipboard-read", "clipboard-write"])
    open_editor(editor, server)
    editor.evaluate("text => window.dfviz.load(text, {})", SECRET_FILE)
    editor.wait_for_function("() => window.dfviz.getState().dockerfile.includes('API_TOKEN')")
    by(editor, "share-button").click()
    by(editor, "secrets-cancel").click()
    sync_api.expect(by(editor, "secrets-dialog")).to_have_count(0)
    assert by(editor, "share-url").input_value() == ""


def test_a_link_still_works_after_the_server_restarts(pages, server, database):
    editor = pages.new(permissions=["clipboard-read", "clipboard-write"])
    open_editor(editor, server)
    before = diagram_signature(editor)
    url = share(editor)
    path = url.removeprefix(server.url)
    second = start(database)  # a second server over the same database file (the first keeps running)
    try:
        viewer = pages.new(permissions=["clipboard-read", "clipboard-write"])
        viewer.goto(second.url + path)
        viewer.wait_for_selector('[data-testid="diagram"] svg #stage-0')
        assert diagram_signature(viewer) == before
        with urllib.request.urlopen(second.url + path + ".svg", timeout=10) as response:
            assert response.headers["Content-Type"] == "image/svg+xml"
            assert b"<svg" in response.read()
    finally:
        print("---- second server log ----\n" + second.log())
        second.stop()
