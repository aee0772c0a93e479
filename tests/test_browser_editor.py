"""The editor page in a real browser (Debian's Chromium through Playwright), against gunicorn.

One server and one browser for the module; each test gets a fresh page whose console must stay
free of errors (a CSP violation is a console error too).
"""

from __future__ import annotations

import json

import pytest
from browser_util import Server, big_dockerfile, by, open_editor, wait_js, watched_pages

pytestmark = [pytest.mark.browser, pytest.mark.dot]

sync_api = pytest.importorskip("playwright.sync_api")

TIMEOUT = 15_000


@pytest.fixture(scope="module")
def server():
    with Server(workers=2) as srv:
        yield srv


@pytest.fixture
def page(browser, server):
    with watched_pages(browser, server, TIMEOUT) as pages:
        yield pages.new(accept_downloads=True)


def graph_of(page) -> dict:
    return page.evaluate("window.dfviz.graph")


def click_edge(page, n: int) -> None:
    """Click the middle of edge n's line (its bounding box centre may be off the line)."""
    point = page.evaluate(
        """id => {
            const p = document.querySelector(`#diagram svg [id="${id}"] path:not(.edge-hit)`);
            const pt = p.getPointAtLength(p.getTotalLength() / 2), m = p.getScreenCTM();
            return {x: pt.x * m.a + pt.y * m.c + m.e, y: pt.x * m.b + pt.y * m.d + m.f};
        }""",
        f"edge-{n}",
    )
    page.mouse.click(point["x"], point["y"])


def type_at_end(page, text: str) -> None:
    page.locator('[data-testid="editor"] .cm-content').click()
    page.keyboard.press("Control+End")
    page.keyboard.type(text)


def test_page_draws_the_example_and_links_text_and_picture(page, server):
    open_editor(page, server)
    graph = graph_of(page)
    assert [s["name"] for s in graph["stages"]] == ["builder", None]
    assert page.locator('[data-testid="diagnostics"]').is_visible()
    # the target selector lists the named stages, default the last stage
    options = by(page, "target-select").locator("option").all_inner_texts()
    assert options[0].startswith("last stage") and "builder" in options

    # click a stage: its lines are highlighted in the editor
    builder = graph["stages"][0]
    page.locator("#diagram svg #stage-0").click()
    highlighted = page.locator(".cm-linked-line")
    assert highlighted.count() == builder["end_line"] - builder["line"] + 1
    assert "FROM golang" in highlighted.first.inner_text()

    # click an edge: its instruction's line is highlighted
    edges = graph["edges"]
    n = next(i for i, e in enumerate(edges) if e["kind"] == "copy" and e["source"]["kind"] == "stage")
    click_edge(page, n)
    wait_js(page, "document.querySelectorAll('.cm-linked-line').length === 1")
    assert "COPY --from=builder" in page.locator(".cm-linked-line").inner_text()

    # moving the cursor highlights the stage under it
    page.locator(".cm-line", has_text="apk add").click()
    page.wait_for_selector("#diagram svg #stage-1.is-current")
    assert page.locator("#diagram svg #stage-0.is-current").count() == 0

    # hovering a node shows its instructions in full
    page.locator("#diagram svg #stage-0").hover()
    tooltip = page.locator("#tooltip")
    tooltip.wait_for(state="visible")
    assert "go mod download" in tooltip.inner_text() and "CGO_ENABLED=0" in tooltip.inner_text()


def test_typing_follows_and_errors_keep_the_last_good_diagram(page, server):
    open_editor(page, server)
    type_at_end(page, "\nFROM alpine:3.20 AS extra\nCOPY --from=builder /out/app /x\n")
    page.wait_for_selector("#diagram svg #stage-2")
    assert graph_of(page)["stages"][2]["name"] == "extra"

    # an error: the diagram stays (stale) and the diagnostics say where
    type_at_end(page, "FORM alpine\n")
    page.locator(".diag-error").first.wait_for()
    assert page.locator("#diagram svg #stage-2").count() == 1
    line = int(page.locator(".diag-error").first.get_attribute("data-line"))
    assert line > 15
    # clicking the diagnostic moves the cursor there
    page.locator(".diag-error").first.click()
    assert page.locator("#cursor-pos").inner_text().startswith(f"Ln {line},")


def test_switching_the_target_greys_the_right_stages(page, server):
    open_editor(page, server, "/?example=cache-mounts")
    names = [s["name"] for s in graph_of(page)["stages"]]
    assert names == ["base", "deps", "test", "final"]
    assert page.locator("#diagram svg .unreachable").count() >= 1  # test is not built for final
    by(page, "target-select").select_option("deps")
    wait_js(page, "window.dfviz.graph && window.dfviz.graph.target === 1")
    page.wait_for_selector("#diagram svg #stage-3.unreachable")
    for i, built in enumerate([True, True, False, False]):
        classes = page.locator(f"#diagram svg #stage-{i}").get_attribute("class")
        assert ("unreachable" in classes.split()) is (not built), (i, classes)

    by(page, "view-select").select_option("layers")
    page.wait_for_selector("#diagram svg #ins-1-0")


def test_upload_a_big_file_and_download_every_format(page, server, tmp_path):
    open_editor(page, server)
    big = tmp_path / "moby.Dockerfile"
    big.write_text(big_dockerfile())
    by(page, "file-input").set_input_files(str(big))
    page.wait_for_selector("#diagram svg #stage-58", timeout=30_000)
    assert len(graph_of(page)["stages"]) == 59
    assert page.locator("#file-name").inner_text().endswith(".Dockerfile")

    checks = {
        "svg": lambda b: b"<svg" in b[:400] and b'id="stage-58"' in b,
        "png": lambda b: b.startswith(b"\x89PNG\r\n\x1a\n"),
        "dot": lambda b: b.lstrip().startswith(b"digraph"),
        "json": lambda b: len(json.loads(b)["stages"]) == 59,
    }
    for fmt, ok in checks.items():
        by(page, "download-button").click()
        with page.expect_download() as info:
            by(page, f"download-{fmt}").click()
        path = tmp_path / info.value.suggested_filename
        info.value.save_as(path)
        assert path.suffix == f".{fmt}"
        assert ok(path.read_bytes()), fmt


def test_dropping_a_file_anywhere_loads_and_draws_it(page, server):
    open_editor(page, server)
    text = "FROM alpine:3.20 AS one\nFROM alpine:3.20 AS two\nFROM busybox\n"
    text += "COPY --from=one / /a\nCOPY --from=two / /b\n"
    transfer = page.evaluate_handle(
        """text => {
            const dt = new DataTransfer();
            dt.items.add(new File([text], "dropped.Dockerfile", {type: "text/plain"}));
            return dt;
        }""",
        text,
    )
    page.dispatch_event("body", "dragenter", {"dataTransfer": transfer})
    assert page.locator("#drop-overlay").is_visible()
    page.dispatch_event("body", "drop", {"dataTransfer": transfer})
    wait_js(page, "window.dfviz.graph && window.dfviz.graph.stages.length === 3")
    assert [s["name"] for s in graph_of(page)["stages"]] == ["one", "two", None]
    assert by(page, "file-name").inner_text() == "dropped.Dockerfile"
    assert page.locator("#drop-overlay").is_hidden()


def test_copy_as_mermaid_puts_a_fenced_flowchart_on_the_clipboard(page, server):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    open_editor(page, server)
    by(page, "download-button").click()
    by(page, "copy-mermaid").click()
    wait_js(page, "document.body.innerText.includes('Mermaid copied')")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith("```mermaid\n") and copied.endswith("```\n")
    assert "\nflowchart LR\n" in copied and "stage_0" in copied


def test_problems_put_errors_first_and_fold_many_notes(page, server):
    open_editor(page, server)
    text = big_dockerfile() + "\nFROM scratch AS extra\nCOPY --from=nosuchstage / /\n"
    page.evaluate("t => window.dfviz.load(t, {})", text)
    wait_js(page, "window.dfviz.graph && window.dfviz.graph.stages.length === 60")
    items = page.locator('[data-testid="diagnostics"] li.diag')
    first = items.first
    assert "diag-warning" in first.get_attribute("class")
    assert "nosuchstage" in first.inner_text()
    notes = by(page, "diagnostics-notes")
    infos = [d for d in graph_of(page)["diagnostics"] if d["severity"] == "info"]
    assert len(infos) > 3
    assert notes.locator("summary").inner_text() == f"{len(infos)} notes"
    assert not notes.locator("li.diag").first.is_visible()  # folded
    notes.locator("summary").click()
    note = notes.locator("li.diag").first
    note.click()
    line = int(note.get_attribute("data-line"))
    cursor_line = "(s => s.doc.lineAt(s.selection.main.head).number)(window.dfviz.editor.state)"
    wait_js(page, f"{cursor_line} === {line}")


def test_problems_link_build_checks_to_their_rule(page, server):
    open_editor(page, server)
    page.evaluate("t => window.dfviz.load(t, {})", "FROM alpine\nENV A 1\nCMD echo hi\n")
    wait_js(page, "window.dfviz.graph && window.dfviz.graph.diagnostics.length === 2")
    link = page.locator('[data-testid="diagnostics"] a.diag-code', has_text="LegacyKeyValueFormat")
    assert link.get_attribute("href") == "https://docs.docker.com/go/dockerfile/rule/legacy-key-value-format/"
    assert link.get_attribute("rel") == "noopener noreferrer"
    assert page.locator('[data-testid="diagnostics"] a.diag-code').count() == 2
