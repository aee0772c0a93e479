"""Named build contexts in the editor (issue 12): the "Build contexts" menu, as buildx's
``--build-context name=value``, changes the diagram, is refused with the API's own message, and
travels in the page's state and in share links (stored and stateless, and "Open in editor").

One gunicorn (with a temporary share database) and one Chromium for the module.
``WEBAPP_SCREENSHOTS=<dir>`` also saves a picture of the open menu at each size.
"""

from __future__ import annotations

import json
import os
import shutil
import urllib.request
from pathlib import Path

import pytest
from browser_util import ROOT, SIZES, Server, by, open_editor, wait_js, watched_pages

pytestmark = [pytest.mark.browser, pytest.mark.dot]

sync_api = pytest.importorskip("playwright.sync_api")

TIMEOUT = 15_000
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = os.environ.get("WEBAPP_SCREENSHOTS")
PROJECTS = ROOT / "tests" / "data" / "projects"
TEXT = "FROM base AS app\nRUN echo hi\n"
ALPINE = "docker.io/library/alpine:3.20"
IS_ALPINE = f"window.dfviz.graph.stages[0].base.image === {json.dumps(ALPINE)}"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    database = tmp_path_factory.mktemp("shares") / "shares.sqlite3"
    with Server(workers=2, env={"WEBAPP_DATABASE": str(database)}) as srv:
        yield srv


@pytest.fixture
def pages(browser, server):
    with watched_pages(browser, server, TIMEOUT) as p:
        # refusals the tests ask for: a name the API refuses (400), a half-typed file (422)
        p.expected += ["status of 400", "status of 422"]
        yield p.new


def type_dockerfile(page, text: str) -> None:
    """Replace the editor's text by typing it, as a user would (on a phone, in the editor's tab)."""
    tabs = by(page, "tab-editor").is_visible()
    if tabs:
        by(page, "tab-editor").click()
    page.locator(".cm-content").click()
    page.keyboard.press("Control+a")
    page.keyboard.press("Delete")
    page.keyboard.type(text)
    wait_js(page, f"!!window.dfviz.graph && window.dfviz.getState().dockerfile === {json.dumps(text)}")
    wait_js(page, "window.dfviz.graph.stages[0].base.text === 'base'")
    if tabs:
        by(page, "tab-diagram").click()


def base_image(page) -> str | None:
    return page.evaluate("window.dfviz.graph.stages[0].base.image")


def image_label(page) -> str:
    return page.locator("#diagram svg #img-0").text_content()


def test_a_context_replaces_the_image_and_travels_in_share_links(pages, server):
    page = pages()
    open_editor(page, server)
    type_dockerfile(page, TEXT)
    # before: `base` is an image of that name (docker.io/library/base), as BuildKit without contexts
    assert base_image(page) == "docker.io/library/base:latest"
    assert "base" in image_label(page)
    # the menu lists the words a context could replace, by keyboard only
    summary = by(page, "build-contexts-button")
    summary.focus()
    page.keyboard.press("Enter")
    field = by(page, "build-context-base")
    sync_api.expect(field).to_be_visible()
    assert page.locator(f"label[for={field.get_attribute('id')}]").inner_text().startswith("base")
    assert "FROM, line 1" in page.locator("#build-contexts").inner_text()
    assert by(page, "build-context-app").count() == 1  # a stage name can be replaced too
    field.focus()
    page.keyboard.type("docker-image://alpine:3.20")
    page.keyboard.press("Enter")
    # after: FROM base is alpine:3.20, as buildx --build-context base=docker-image://alpine:3.20
    wait_js(page, IS_ALPINE)
    wait_js(page, "document.querySelector('#diagram svg #img-0').textContent.includes('alpine:3.20')")
    assert "alpine:3.20" in page.locator("#diagram svg #stage-0").text_content()
    sync_api.expect(by(page, "build-contexts-count")).to_have_text("1 set")
    state = page.evaluate("window.dfviz.getState()")
    assert state["build_contexts"] == {"base": "docker-image://alpine:3.20"}
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / "contexts-desktop.png"))

    # the page's own state: a reload keeps it
    wait_js(page, "location.hash.startsWith('#z=')")
    page.reload()
    wait_js(page, f"!!window.dfviz.graph && {IS_ALPINE}")

    # shared: the stored and the stateless link both keep the context
    page.keyboard.press("Escape")
    by(page, "share-button").click()
    wait_js(page, "document.getElementById('share-url').value.includes('/s/')")
    stored = by(page, "share-url").input_value()
    stateless = by(page, "share-stateless-url").input_value()
    assert "/d/1/" in stateless
    for link in (stored, stateless):
        with urllib.request.urlopen(link + ".json", timeout=10) as response:
            graph = json.load(response)
        assert graph["stages"][0]["base"]["image"] == ALPINE, link
    viewer = pages()
    viewer.goto(stateless)
    assert "alpine:3.20" in viewer.locator("svg #img-0").text_content()
    # "Open in editor" of the stored link: the editor opens with the context set
    share_id = stored.rsplit("/", 1)[1]
    opened = pages()
    opened.goto(f"{server.url}/?s={share_id}")
    wait_js(opened, f"!!window.dfviz.graph && {IS_ALPINE}")
    by(opened, "build-contexts-button").click()
    sync_api.expect(by(opened, "build-context-base")).to_have_value("docker-image://alpine:3.20")

    # removing it (emptying the field) brings the image named base back
    field = by(opened, "build-context-base")
    field.fill("")
    field.press("Enter")
    wait_js(opened, "window.dfviz.graph.stages[0].base.image === 'docker.io/library/base:latest'")
    assert "build_contexts" not in opened.evaluate("window.dfviz.getState()")


def test_any_name_can_be_added_and_a_bad_one_shows_the_api_message(pages, server):
    page = pages()
    open_editor(page, server)
    type_dockerfile(page, TEXT + "COPY --from=tools /bin/x /x\n")
    by(page, "build-contexts-button").click()
    assert "COPY --from, line 3" in page.locator("#build-contexts").inner_text()
    # a name the API refuses: its message, inline
    by(page, "context-new-name").fill("Not A Name")
    by(page, "context-new-value").fill("docker-image://alpine")
    by(page, "context-new-value").press("Enter")
    error = by(page, "build-contexts-error")
    sync_api.expect(error).to_be_visible()
    sync_api.expect(error).to_contain_text("invalid context name 'Not A Name'")
    # it can be removed with the keyboard, and a good one added: the error goes
    by(page, "build-contexts").get_by_role("button", name="Remove the context Not A Name").press("Enter")
    by(page, "context-new-name").fill("tools")
    by(page, "context-new-value").fill("./tools")
    by(page, "context-add").press("Enter")
    wait_js(page, "window.dfviz.graph.edges.some(e => e.source.ref === './tools')")
    sync_api.expect(error).to_be_hidden()
    assert page.evaluate("window.dfviz.getState().build_contexts") == {"tools": "./tools"}
    sync_api.expect(by(page, "build-context-tools")).to_have_value("./tools")


@pytest.mark.parametrize("size", ["phone", "tablet", "desktop"])
def test_the_menu_fits_small_screens_and_passes_axe(pages, server, size):
    page = pages(size)
    open_editor(page, server)
    type_dockerfile(page, TEXT)
    by(page, "build-contexts-button").click()
    by(page, "build-context-base").fill("docker-image://alpine:3.20")
    by(page, "build-context-base").press("Enter")
    wait_js(page, IS_ALPINE)
    width = SIZES[size][0]
    box = page.locator("#build-contexts-menu .menu-panel").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= width + 0.5, box
    for testid in ("build-context-base", "context-new-name", "context-new-value", "context-add"):
        b = by(page, testid).bounding_box()
        assert b["x"] >= 0 and b["x"] + b["width"] <= width + 0.5 and b["width"] > 30, (testid, b)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"contexts-{size}.png"))
    page.evaluate(AXE.read_text())
    violations = page.evaluate(
        "() => axe.run(document, {resultTypes: ['violations']}).then(r => r.violations"
        ".filter(v => v.impact === 'serious' || v.impact === 'critical')"
        ".map(v => v.id + ': ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', ')))"
    )
    assert violations == []


def test_an_open_project_takes_contexts_and_shares_them(pages, server, tmp_path):
    page = pages()
    open_editor(page, server)
    folder = tmp_path / "bake-contexts"
    shutil.copytree(PROJECTS / "bake-contexts", folder)
    by(page, "project-input").set_input_files(folder)
    page.wait_for_selector('#diagram[data-project] svg [id="cluster-file-0"]')
    user_links = "#diagram svg g.edge.link.link-build-context"
    assert page.locator(user_links).count() == 0
    by(page, "build-contexts-button").click()
    sync_api.expect(by(page, "build-contexts")).to_contain_text("No named context given")
    by(page, "context-new-name").fill("alpine")
    by(page, "context-new-value").fill("docker-image://alpine:3.21")
    by(page, "context-add").click()
    # the project is drawn again with the user's context tying it to the Dockerfile that uses it
    page.wait_for_selector(user_links)
    sync_api.expect(by(page, "build-context-alpine")).to_have_value("docker-image://alpine:3.21")
    sync_api.expect(by(page, "build-contexts-count")).to_have_text("1 set")
    page.keyboard.press("Escape")
    by(page, "share-button").click()
    wait_js(page, "document.getElementById('share-url').value.includes('/s/')")
    share_id = by(page, "share-url").input_value().rsplit("/", 1)[1]
    with urllib.request.urlopen(f"{server.url}/api/share/{share_id}", timeout=10) as response:
        shared = json.load(response)
    assert shared["options"]["build_contexts"] == {"alpine": "docker-image://alpine:3.21"}
