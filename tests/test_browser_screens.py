"""The editor and share pages on phones, tablets and desktops, light and dark (issue 9).

One gunicorn (with a temporary share database) and one Chromium for the module. Each test gets a
fresh context whose console must stay free of errors. axe-core comes from node_modules (a pinned
devDependency installed by scripts/ensure-static) and is evaluated in the page by Playwright.
``WEBAPP_SCREENSHOTS=<dir>`` also saves a picture of each size and theme.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from browser_util import ROOT, SIZES, Server, big_dockerfile, by, open_editor, wait_js, watched_pages

pytestmark = [pytest.mark.browser, pytest.mark.dot]

sync_api = pytest.importorskip("playwright.sync_api")

TIMEOUT = 15_000
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
MOBY = ROOT / "tests" / "data" / "corpus" / "real" / "moby__moby__Dockerfile.Dockerfile"
SHOTS = os.environ.get("WEBAPP_SCREENSHOTS")

TYPO = """\
FROM golang:1.22 AS build
RUN go build -o /out/app .

FROM alpine:3.20
COPY --from=builder /out/app /app
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    database = tmp_path_factory.mktemp("shares") / "shares.sqlite3"
    with Server(workers=2, env={"WEBAPP_DATABASE": str(database)}) as srv:
        yield srv


@pytest.fixture
def pages(browser, server):
    with watched_pages(browser, server, TIMEOUT) as p:
        yield p


def load(page, text: str, name: str = "") -> None:
    page.evaluate(
        "([t, n]) => { window.__before = window.dfviz.graph; window.dfviz.load(t, {name: n}); }", [text, name]
    )
    wait_js(page, "window.dfviz.graph && window.dfviz.graph !== window.__before")
    assert page.evaluate("window.dfviz.getState().dockerfile") == text


def axe_violations(page) -> list[str]:
    """Serious and critical axe-core findings on the page as it is."""
    assert AXE.is_file(), "axe-core is missing: run `make setup` (scripts/ensure-static runs npm ci)"
    page.evaluate(AXE.read_text())
    result = page.evaluate(
        "() => axe.run(document, {resultTypes: ['violations']}).then(r => r.violations"
        ".filter(v => v.impact === 'serious' || v.impact === 'critical')"
        ".map(v => v.id + ': ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', ')))"
    )
    return result


def inside_viewport(page, selector: str) -> bool:
    return page.evaluate(
        """sel => { const r = document.querySelector(sel).getBoundingClientRect();
            return r.width > 0 && r.left >= 0 && r.right <= innerWidth + 0.5
                && r.top >= 0 && r.bottom <= innerHeight; }""",
        selector,
    )


def view_box(page) -> list[float]:
    return [float(x) for x in page.get_attribute("#diagram svg", "viewBox").split()]


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("size", list(SIZES))
def test_the_diagram_is_visible_and_usable_at_every_size(pages, server, size, scheme):
    page = pages.new(size, scheme)
    open_editor(page, server)
    width, _ = SIZES[size]
    assert page.evaluate("document.documentElement.scrollWidth") <= width, "page wider than the screen"
    box = page.locator("#diagram").bounding_box()
    assert box["height"] > 300 and box["width"] > 300, box
    for selector in ("#share-button", "[data-testid=download-button]", "#zoom-in", "#theme-toggle"):
        assert inside_viewport(page, selector), selector
    x, y, w, h = view_box(page)
    assert w > 0 and h > 0
    # the drawn stage is on screen and big enough to read
    stage = page.locator("#diagram svg #stage-1").bounding_box()
    assert stage["width"] > 80 and 0 <= stage["x"] and stage["x"] + stage["width"] <= width
    by(page, "zoom-in").click()
    assert view_box(page)[2] < w
    dark = page.evaluate("getComputedStyle(document.body).backgroundColor")
    channels = [int(c) for c in dark[dark.index("(") + 1 : -1].split(",")[:3]]
    assert (sum(channels) < 150) is (scheme == "dark"), dark
    if size == "phone":
        # the editor is a tab away; switching shows it and hides the diagram
        by(page, "tab-editor").click()
        assert page.locator(".cm-content").is_visible() and not page.locator("#diagram").is_visible()
        by(page, "tab-diagram").click()
        page.locator("#diagram svg #stage-1").wait_for()
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"editor-{size}-{scheme}.png"))
    assert axe_violations(page) == []


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_the_share_page_zooms_lists_problems_and_passes_axe(pages, server, size):
    page = pages.new(size, "dark" if size == "phone" else "light")
    open_editor(page, server)
    load(page, TYPO, "typo.Dockerfile")
    by(page, "share-button").click()
    url = by(page, "share-url")
    wait_js(page, "document.getElementById('share-url').value.includes('/s/')")
    link = url.input_value()
    viewer = pages.new(size)
    viewer.goto(link)
    viewer.wait_for_selector('[data-testid="diagram"] svg #stage-0')
    problems = by(viewer, "share-problems")
    sync_api.expect(problems).to_contain_text("did you mean the stage 'build'")
    before = viewer.get_attribute('[data-testid="diagram"] svg', "viewBox")
    by(viewer, "zoom-in").click()
    assert viewer.get_attribute('[data-testid="diagram"] svg', "viewBox") != before
    width = SIZES[size][0]
    assert viewer.evaluate("document.documentElement.scrollWidth") <= width
    assert viewer.locator('[data-testid="diagram"]').bounding_box()["height"] > 300
    if SHOTS:
        viewer.screenshot(path=str(Path(SHOTS) / f"share-{size}.png"))
    assert axe_violations(viewer) == []


def test_a_failing_new_file_never_shows_the_last_files_diagram(pages, server, tmp_path):
    pages.expected.append("the server responded with a status of ")  # refused on purpose
    page = pages.new()
    open_editor(page, server)
    assert "builder" in by(page, "ships").inner_text()
    text_before = page.evaluate("window.dfviz.getState().dockerfile")

    # not a Dockerfile (no FROM): the diagram and What ships are cleared, the message names the file
    nofrom = tmp_path / "notes.txt"
    nofrom.write_text("RUN echo hello\n")
    by(page, "file-input").set_input_files(str(nofrom))
    empty = by(page, "diagram-empty")
    empty.wait_for()
    assert "notes.txt" in empty.inner_text()
    assert page.locator("#diagram svg").count() == 0
    assert "builder" not in by(page, "ships").inner_text()
    assert by(page, "file-name").inner_text() == "notes.txt"

    # a PNG renamed: refused with a message, the editor keeps its text
    open_editor(page, server)
    png = tmp_path / "Dockerfile"
    png.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64))
    by(page, "file-input").set_input_files(str(png))
    sync_api.expect(by(page, "diagnostics")).to_contain_text("not a text file")
    assert page.evaluate("window.dfviz.getState().dockerfile") == text_before
    assert page.locator("#diagram svg #stage-1").count() == 1

    # too large: refused, the limit told in MB (the server's MAX_INPUT_BYTES, 1 MiB by default)
    big = tmp_path / "huge.Dockerfile"
    big.write_text("FROM alpine\n" + "RUN true\n" * 130_000)
    by(page, "file-input").set_input_files(str(big))
    sync_api.expect(by(page, "diagnostics")).to_contain_text("at most 1 MB")

    # the same file with an error: its last good diagram stays, marked as not the current text
    page.locator(".cm-content").click()
    page.keyboard.press("Control+End")
    page.keyboard.type("\nFORM alpine\n")
    by(page, "stale-banner").wait_for()
    assert "Not the current text" in by(page, "stale-banner").inner_text()
    assert "stale" in by(page, "ships").get_attribute("class")


def test_layers_view_clicking_a_stage_box_selects_its_lines(pages, server):
    page = pages.new()
    open_editor(page, server)
    by(page, "view-select").select_option("layers")
    page.wait_for_selector("#diagram svg #cluster-stage-0")
    graph = page.evaluate("window.dfviz.graph")
    builder = graph["stages"][0]
    page.locator("#diagram svg #cluster-stage-0 > text").first.click()
    lines = page.locator(".cm-linked-line")
    sync_api.expect(lines).to_have_count(builder["end_line"] - builder["line"] + 1)
    assert "is-selected" in page.get_attribute("#diagram svg #cluster-stage-0", "class")


def test_quick_fix_and_the_explained_image(pages, server):
    page = pages.new()
    open_editor(page, server)
    load(page, TYPO)
    # hovering the image the typo pulls explains it
    image = page.locator("#diagram svg g.node", has_text="builder").first
    image.hover()
    tooltip = page.locator("#tooltip")
    sync_api.expect(tooltip).to_contain_text("not a stage name")
    sync_api.expect(tooltip).to_contain_text("Use stage build")
    fix = by(page, "quick-fix")
    sync_api.expect(fix).to_have_text("Use stage build")
    fix.click()
    wait_js(page, "window.dfviz.getState().dockerfile.includes('COPY --from=build /out')")
    wait_js(page, "window.dfviz.graph.diagnostics.every(d => d.code !== 'unknown-stage')")
    sync_api.expect(fix).to_have_count(0)
    # the stage edge now exists: the warning colour is gone, selection is not amber
    colour = page.evaluate("getComputedStyle(document.documentElement).getPropertyValue('--select').trim()")
    assert colour.lower() not in ("#f59e0b", "#eab308", "#d97706")


def test_share_shows_the_delete_token_once_and_deletes(pages, server):
    page = pages.new()
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    open_editor(page, server)
    by(page, "share-button").click()
    wait_js(page, "document.getElementById('share-url').value.includes('/s/')")
    link = by(page, "share-url").input_value()
    assert by(page, "share-dialog").is_visible()
    assert page.locator("label[for=share-url]").inner_text().startswith("Link")
    token = by(page, "share-token").input_value()
    assert len(token) >= 16
    by(page, "copy-share-token").click()
    sync_api.expect(by(page, "share-copied")).to_contain_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == token
    assert by(page, "share-stateless-url").input_value().startswith(server.url + "/d/1/")
    with urllib.request.urlopen(link, timeout=10) as response:
        assert response.status == 200
    by(page, "share-delete").click()
    sync_api.expect(by(page, "share-copied")).to_contain_text("Deleted")
    with pytest.raises(urllib.error.HTTPError) as gone:
        urllib.request.urlopen(link, timeout=10)
    assert gone.value.code == 404

    # stateless links are offered up to the server's LINK_MAX_CHARS, not a page-side 2,000
    by(page, "share-close").click()
    load(page, MOBY.read_text(), "moby.Dockerfile")
    by(page, "share-button").click()
    field = "document.getElementById('share-url').value"
    wait_js(page, f"{field}.includes('/s/') && {field} !== {json.dumps(link)}")
    stateless = by(page, "share-stateless-url").input_value()
    assert 2000 < len(stateless.removeprefix(server.url)) <= 8000 + len("/d/1/")


def test_the_last_file_and_options_survive_a_reload_and_travel_in_the_url(pages, server):
    page = pages.new()
    open_editor(page, server)
    text = "FROM alpine:3.20 AS one\nFROM busybox AS two\nCOPY --from=one / /\n"
    load(page, text, "mine.Dockerfile")
    by(page, "view-select").select_option("layers")
    page.wait_for_selector("#diagram svg #cluster-stage-1")
    wait_js(page, "location.hash.startsWith('#z=')")
    url = page.url
    page.goto(server.url + "/")
    page.wait_for_selector("#diagram svg #cluster-stage-1")
    assert page.evaluate("window.dfviz.getState()")["dockerfile"] == text
    assert by(page, "view-select").input_value() == "layers"
    assert by(page, "file-name").inner_text() == "mine.Dockerfile"
    # a fresh browser (no storage) opening the address gets the same state from its #z= part
    other = pages.new()
    other.goto(url)
    other.wait_for_selector("#diagram svg #cluster-stage-1")
    assert other.evaluate("window.dfviz.getState()")["dockerfile"] == text


def test_big_graph_find_only_the_target_and_build_args(pages, server):
    page = pages.new()
    open_editor(page, server)
    load(page, big_dockerfile(), "big.Dockerfile")
    search = by(page, "stage-search")
    search.fill("tool-40")
    search.press("Enter")
    page.wait_for_selector("#diagram svg #stage-41.is-selected")
    sync_api.expect(page.locator(".cm-linked-line").first).to_contain_text("AS tool-40")
    # the found stage is on screen and readable
    box = page.locator("#diagram svg #stage-41").bounding_box()
    area = page.locator("#diagram").bounding_box()
    assert area["x"] <= box["x"] and box["x"] + box["width"] <= area["x"] + area["width"] + 1
    assert box["height"] > 30

    def on_screen(stage_id: str) -> bool:
        b = page.locator(f"#diagram svg #{stage_id}").bounding_box()
        return area["x"] <= b["x"] and b["x"] + b["width"] <= area["x"] + area["width"] + 1

    # the diagram follows the cursor: a click in stage tool-3's lines pans to it
    assert not on_screen("stage-4")
    page.locator(".cm-content").click()  # the user is in the editor, then moves the cursor
    page.evaluate(
        "(v => v.dispatch({selection: {anchor:"
        " v.state.doc.line(window.dfviz.graph.stages[4].line + 1).from}}))(window.dfviz.editor)"
    )
    page.wait_for_selector("#diagram svg #stage-4.is-current")
    wait_js(
        page,
        "(() => { const b = document.querySelector('#diagram svg #stage-4').getBoundingClientRect(),"
        " a = document.querySelector('#diagram').getBoundingClientRect();"
        " return b.left >= a.left && b.right <= a.right + 1; })()",
    )
    # the overview shows where the view is; a click there moves the view
    minimap = by(page, "minimap")
    assert minimap.is_visible()
    before = view_box(page)
    corner = minimap.bounding_box()
    page.mouse.click(corner["x"] + corner["width"] - 8, corner["y"] + corner["height"] - 8)
    assert view_box(page)[:2] != before[:2] and view_box(page)[2:] == before[2:]
    # only what the target builds: the stages binary does not need fade out
    by(page, "target-select").select_option("binary")
    wait_js(page, "window.dfviz.graph.target === 57")
    by(page, "only-target").check()
    opacity = page.evaluate("getComputedStyle(document.querySelector('#diagram svg #stage-30')).opacity")
    assert float(opacity) < 0.3
    assert page.evaluate("getComputedStyle(document.querySelector('#diagram svg #stage-57')).opacity") == "1"
    # build args: one row per name, unique ids, defaults without quotes, wide enough inputs
    by(page, "build-args-button").click()
    assert by(page, "build-arg-DELVE_SUPPORTED").count() == 1
    ids = page.evaluate("[...document.querySelectorAll('#build-args input')].map(i => i.id)")
    assert len(ids) == len(set(ids)) == 3
    go = by(page, "build-arg-GO_VERSION")
    assert go.get_attribute("placeholder") == "1.22"
    assert go.bounding_box()["width"] > 120
    go.fill("1.23")
    sync_api.expect(by(page, "build-args-count")).to_have_text("1 set")


def test_keyboard_esc_leaves_the_editor_and_stages_are_operable(pages, server):
    page = pages.new()
    open_editor(page, server)
    assert "Esc leaves the editor" in page.locator("#esc-hint").inner_text()
    page.locator(".cm-content").click()
    page.keyboard.press("Escape")
    assert page.evaluate("document.activeElement.id") == "diagram"
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.id")
    assert focused.startswith("stage-"), focused
    page.keyboard.press("Enter")
    sync_api.expect(page.locator(".cm-linked-line").first).to_be_visible()
    assert "is-selected" in page.get_attribute(f"#diagram svg #{focused}", "class")
    # the theme toggle cycles as the system -> light -> dark
    by(page, "theme-toggle").click()
    assert page.evaluate("document.documentElement.dataset.theme") == "light"
    by(page, "theme-toggle").click()
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"


def test_the_no_js_page_and_the_js_page_draw_the_same_panels(pages, server):
    """Problems and What ships: the template (no JavaScript) and app.js must not drift."""
    text = big_dockerfile() + "\nFROM scratch AS extra\nCOPY --from=nosuchstage / /\n"
    panels = """() => {
        const words = (e) => e.textContent.split(/\\s+/).join(' ').trim();
        return [words(document.querySelector('#diag-count')),
                ...[...document.querySelectorAll('#diag-list li.diag, #diag-list summary')]
                    .map(li => li.children.length ? [...li.children].map(words).join(' | ') : words(li)),
                ...[...document.querySelectorAll('#ships-body .ships-item')].map(words)];
    }"""
    plain = pages.new(java_script_enabled=False)
    plain.goto(server.url + "/")
    plain.fill("#source", text)
    by(plain, "render-button").click()
    plain.wait_for_selector("#diagram svg #stage-59")
    page = pages.new()
    open_editor(page, server)
    load(page, text)
    drawn, served = page.evaluate(panels), plain.evaluate(panels)
    assert "nosuchstage" in served[1] and any(line.endswith(" notes") for line in served)
    assert drawn == served


def test_busy_server_is_retried_a_few_times_and_a_4xx_never(pages, server):
    pages.expected.append("the server responded with a status of ")  # refused on purpose
    page = pages.new()
    open_editor(page, server)
    toolbar = page.locator(".diagram-toolbar").bounding_box()
    calls = []

    def busy(route):
        calls.append(route.request.url)
        body = json.dumps({"error": {"message": "renderer busy", "line": None}})
        route.fulfill(status=503, headers={"Retry-After": "1"}, content_type="application/json", body=body)

    page.route("**/api/diagram", busy)
    page.locator(".cm-content").click()
    page.keyboard.press("Control+End")
    page.keyboard.type("# a comment")
    sync_api.expect(by(page, "diagnostics")).to_contain_text("Gave up", timeout=12_000)
    assert len(calls) == 4  # the first try and three more
    page.wait_for_timeout(1500)
    assert len(calls) == 4
    # the status floats over the diagram: typing and failing never moved the toolbar
    assert page.locator(".diagram-toolbar").bounding_box() == toolbar

    page.unroute("**/api/diagram")
    refused = []

    def bad(route):
        refused.append(route.request.url)
        body = json.dumps({"error": {"message": "bad request", "line": None}})
        route.fulfill(status=400, content_type="application/json", body=body)

    page.route("**/api/diagram", bad)
    page.keyboard.type("!")
    sync_api.expect(by(page, "diagnostics")).to_contain_text("bad request")
    page.wait_for_timeout(2500)
    assert len(refused) == 1


def test_png_is_twice_the_size_and_only_what_i_see_cuts_the_svg(pages, server, tmp_path):
    import struct

    page = pages.new()
    page.context.set_default_timeout(TIMEOUT)
    open_editor(page, server)
    # SVG of the whole drawing, then of the view on screen
    by(page, "download-button").click()
    with page.expect_download() as whole:
        by(page, "download-svg").click()
    by(page, "zoom-in").click()
    by(page, "zoom-in").click()
    view = view_box(page)
    by(page, "download-button").click()
    by(page, "export-visible").check()
    by(page, "export-legend").uncheck()
    with page.expect_download() as seen:
        by(page, "download-svg").click()
    whole_svg = Path(whole.value.path()).read_text()
    seen_svg = Path(seen.value.path()).read_text()
    assert 'id="cluster-legend"' in whole_svg and 'id="cluster-legend"' not in seen_svg
    got = [float(x) for x in seen_svg.split('viewBox="', 1)[1].split('"', 1)[0].split()]
    assert got == pytest.approx(view, rel=1e-3)
    assert whole.value.suggested_filename == "builder-pattern.svg"
    # PNG: twice the view's size in CSS pixels (1 pt = 4/3 px)
    by(page, "download-button").click()
    with page.expect_download() as png:
        by(page, "download-png").click()
    data = Path(png.value.path()).read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", data[16:24])
    assert width == round(view[2] * 4 / 3 * 2) and height == round(view[3] * 4 / 3 * 2)


def test_two_finger_pinch_zooms_the_diagram_on_a_phone(pages, server):
    page = pages.new("phone", has_touch=True, is_mobile=True)
    open_editor(page, server)
    before = view_box(page)
    box = page.locator("#diagram").bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    cdp = page.context.new_cdp_session(page)

    def touch(kind: str, spread: float) -> None:
        points = [{"x": cx - spread, "y": cy, "id": 0}, {"x": cx + spread, "y": cy, "id": 1}]
        cdp.send(
            "Input.dispatchTouchEvent", {"type": kind, "touchPoints": [] if kind == "touchEnd" else points}
        )

    touch("touchStart", 40)
    for spread in (60, 80, 100, 120):
        touch("touchMove", spread)
    touch("touchEnd", 0)
    after = view_box(page)
    assert after[2] < before[2] * 0.6, (before, after)  # fingers 3x apart: the view is much smaller
    # the page itself did not zoom or scroll sideways
    assert page.evaluate("document.documentElement.scrollWidth") <= SIZES["phone"][0]
