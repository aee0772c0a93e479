"""A project in the editor page (Chromium through Playwright, against gunicorn): pick a folder,
see the files and the links between them, pick a bake target, open the converted multi-stage file.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from browser_util import Server, chromium

pytestmark = [pytest.mark.browser, pytest.mark.dot]

sync_api = pytest.importorskip("playwright.sync_api")

PROJECTS = Path(__file__).resolve().parent / "data" / "projects"
TIMEOUT = 20_000


@pytest.fixture(scope="module")
def server():
    with Server(workers=1) as srv:
        yield srv


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(TIMEOUT)
    problems: list[str] = []
    pg.on("console", lambda m: problems.append(f"console.{m.type}: {m.text}") if m.type == "error" else None)
    pg.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
    try:
        pg.goto(server.url + "/")
        pg.wait_for_selector('[data-testid="diagram"][data-drawn] svg #stage-0')
        yield pg
        assert not problems, "browser console:\n" + "\n".join(problems)
    finally:
        context.close()
        print("---- server log ----\n" + server.log())


def by(page, testid: str):
    return page.locator(f'[data-testid="{testid}"]')


def wait_js(page, expression: str, timeout: float = TIMEOUT / 1000) -> None:
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {expression}")
        time.sleep(0.05)


def test_open_a_bake_project_pick_a_target(page, tmp_path):
    folder = tmp_path / "bake-contexts"
    shutil.copytree(PROJECTS / "bake-contexts", folder)
    (folder / "src").mkdir()
    (folder / "src" / "main.go").write_text("package main\n")  # not a project file: not sent
    by(page, "project-input").set_input_files(folder)
    page.wait_for_selector('#diagram[data-project] svg [id="cluster-file-0"]')
    assert by(page, "project-name").inner_text() == "bake-contexts"
    # one cluster per Dockerfile, the links between files drawn as links
    assert page.locator("#diagram svg g.cluster.file").count() == 3
    assert page.locator("#diagram svg g.edge.link.link-context-target").count() == 1
    assert "link" in by(page, "project-status").inner_text()
    # the default group builds app and base: tools.Dockerfile is grey until tools is picked
    tools = '#diagram svg [id="cluster-file-2"]'
    assert page.locator(tools).text_content().strip().startswith("tools.Dockerfile")
    assert "unreachable" in page.locator(tools).get_attribute("class")
    options = by(page, "project-target").locator("option").all_inner_texts()
    assert options[0] == "default (default)" and "tools (bake target)" in options
    by(page, "project-target").select_option("tools")
    wait_js(
        page,
        """!document.querySelector('#diagram svg [id="cluster-file-2"]').classList.contains('unreachable')""",
    )
    assert "unreachable" not in page.locator(tools).get_attribute("class")
    assert by(page, "project-multistage").is_hidden()


def test_builder_pattern_opens_as_one_multistage_file(page, tmp_path):
    folder = tmp_path / "builder-pattern"
    shutil.copytree(PROJECTS / "builder-pattern", folder)
    by(page, "project-input").set_input_files(folder)
    page.wait_for_selector("#diagram[data-project] svg g.edge.link.link-copy-out")
    by(page, "project-multistage").click()
    # the converted file is in the editor and drawn as one Dockerfile again
    wait_js(page, "!!(window.dfviz.graph && window.dfviz.graph.stages[0].name === 'build')")
    text = page.evaluate("window.dfviz.getState().dockerfile")
    assert "COPY --from=build /go/src/app/app ./" in text
    assert by(page, "project-bar").is_hidden()
    assert page.evaluate("window.dfviz.graph.stages.length") == 2
    assert page.locator("#diagram svg #stage-0").count() == 1  # one file's diagram again
