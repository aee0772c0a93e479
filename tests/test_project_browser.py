"""A project in the editor page (Chromium through Playwright, against gunicorn): pick a folder,
see the files and the links between them, pick a bake target, open the converted multi-stage file.
"""

from __future__ import annotations

import json
import re
import shutil
import urllib.request
from pathlib import Path

import pytest
from browser_util import Server, by, open_editor, wait_js, watched_pages

pytestmark = [pytest.mark.browser, pytest.mark.dot]

sync_api = pytest.importorskip("playwright.sync_api")

PROJECTS = Path(__file__).resolve().parent / "data" / "projects"
TIMEOUT = 20_000


@pytest.fixture(scope="module")
def server():
    with Server(workers=1) as srv:
        yield srv


@pytest.fixture
def page(browser, server):
    with watched_pages(browser, server, TIMEOUT) as pages:
        yield open_editor(pages.new(), server)


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


def _svg_summary(page, selector: str) -> dict:
    """What a project drawing shows: its file clusters (by title) and its cross-file links (by class)."""
    return page.evaluate(
        """sel => {
            const svg = document.querySelector(sel);
            const clusters = [...svg.querySelectorAll('g.cluster.file')]
                .map(g => g.querySelector('text').textContent.trim()).sort();
            const links = [...svg.querySelectorAll('g.edge.link')].map(g => g.getAttribute('class')).sort();
            return {clusters, links};
        }""",
        selector,
    )


def test_share_a_project_and_open_the_link_in_a_fresh_page(page, browser, server, tmp_path):
    folder = tmp_path / "bake-contexts"
    shutil.copytree(PROJECTS / "bake-contexts", folder)
    by(page, "project-input").set_input_files(folder)
    page.wait_for_selector('#diagram[data-project] svg [id="cluster-file-0"]')
    by(page, "project-target").select_option("tools")
    wait_js(
        page,
        """!document.querySelector('#diagram svg [id="cluster-file-2"]').classList.contains('unreachable')""",
    )
    before = _svg_summary(page, "#diagram svg")
    assert len(before["clusters"]) == 3 and any("link-context-target" in c for c in before["links"])
    # the Download menu exports the project, not the one file behind it
    by(page, "download-button").click()
    with page.expect_download() as download:
        by(page, "download-dot").click()
    assert download.value.suggested_filename == "bake-contexts.dot"
    dot = Path(download.value.path()).read_text()
    assert dot.startswith("digraph") and "cluster_file_2" in dot and "tools.Dockerfile" in dot

    by(page, "share-button").click()
    field = by(page, "share-url")
    sync_api.expect(field).to_have_value(re.compile(r"/s/[A-Za-z0-9_-]{22}$"))
    assert by(page, "share-dialog").locator("h2").text_content() == "Share this project"
    url = field.input_value()
    stateless = by(page, "share-stateless-url")
    sync_api.expect(stateless).to_be_visible()  # a small project fits in a link
    stateless_url = stateless.input_value()
    assert stateless_url.startswith(server.url + "/d/p1/")
    # the dialog's exports of the link: every format but the Dockerfile text
    exports = by(page, "share-formats").locator("a")
    assert exports.all_inner_texts() == ["SVG", "PNG", "JSON", "DOT", "Mermaid"]
    for anchor in exports.all():
        with urllib.request.urlopen(server.url + anchor.get_attribute("href"), timeout=20) as response:
            assert response.status == 200 and response.read()

    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        viewer = context.new_page()
        viewer.set_default_timeout(TIMEOUT)
        for link in (url, stateless_url):
            viewer.goto(link)
            viewer.wait_for_selector('[data-testid="diagram"] svg [id="cluster-file-0"]')
            assert _svg_summary(viewer, '[data-testid="diagram"] svg') == before, link
            assert by(viewer, "share-kind").inner_text() in ("Shared project", "Project link")
            # the problems of the project's files and of each Dockerfile, with the file they are in
            problems = by(viewer, "share-problems")
            sync_api.expect(problems).to_contain_text("cannot resolve tags")
            sync_api.expect(problems.locator("li", has_text="COPY --from=src")).to_contain_text("Dockerfile")
            assert sorted(by(viewer, "share-file").all_inner_texts()) == sorted(
                p.relative_to(folder).as_posix()
                for p in folder.rglob("*")
                if p.is_file() and p.suffix != ".go"
            )
        # "Open in editor" opens the project again, with its target
        by(viewer, "open-in-editor").click()
        viewer.wait_for_selector('#diagram[data-project] svg [id="cluster-file-0"]')
        wait_js(viewer, "document.querySelector('[data-testid=\"project-target\"]').value === 'tools'")
        assert _svg_summary(viewer, "#diagram svg") == before
    finally:
        context.close()


def test_secrets_in_any_file_of_a_project_are_redacted_before_sharing(page, tmp_path):
    folder = tmp_path / "builder-pattern"
    shutil.copytree(PROJECTS / "builder-pattern", folder)
    script = folder / "build.sh"
    script.write_text(script.read_text() + "export GITHUB_TOKEN=ghp_" + "a1B2" * 9 + "\n")
    by(page, "project-input").set_input_files(folder)
    page.wait_for_selector("#diagram[data-project] svg g.edge.link.link-copy-out")
    by(page, "share-button").click()
    dialog = by(page, "secrets-dialog")
    sync_api.expect(dialog).to_be_visible()
    assert "This project may contain secrets" in dialog.text_content()
    assert "build.sh, line" in dialog.inner_text()
    by(page, "secrets-redact").click()
    field = by(page, "share-url")
    sync_api.expect(field).to_have_value(re.compile(r"/s/[A-Za-z0-9_-]{22}$"))
    share_id = field.input_value().rsplit("/", 1)[1]
    base = field.input_value().split("/s/")[0]
    with urllib.request.urlopen(f"{base}/api/share/{share_id}", timeout=10) as response:
        shared = json.load(response)["files"]
    assert "ghp_" not in shared["build.sh"] and "REDACTED" in shared["build.sh"]
    assert shared["Dockerfile"] == (folder / "Dockerfile").read_text()


def test_a_project_too_long_for_a_link_gets_the_stored_one_and_says_so(page, tmp_path):
    import random

    folder = tmp_path / "builder-pattern"
    shutil.copytree(PROJECTS / "builder-pattern", folder)
    noise = random.Random(3)
    comment = "".join(noise.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(12_000))
    dockerfile = folder / "Dockerfile"
    dockerfile.write_text(dockerfile.read_text() + f"# {comment}\n")
    by(page, "project-input").set_input_files(folder)
    page.wait_for_selector("#diagram[data-project] svg g.edge.link.link-copy-out")
    by(page, "share-button").click()
    sync_api.expect(by(page, "share-url")).to_have_value(re.compile(r"/s/[A-Za-z0-9_-]{22}$"))
    assert by(page, "share-stateless-url").is_hidden()
    note = by(page, "share-stateless-note")
    sync_api.expect(note).to_have_text(
        "No link with the project inside: it would be too long for a link. Use the stored link."
    )
