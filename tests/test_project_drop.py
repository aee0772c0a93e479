"""Dropping a project on the editor page (Chromium through Playwright, against gunicorn): several
files in one drop, and a folder; then the Build menu, the cross-file links in the drawing, and the
converted multi-stage file.

Several files are dropped for real: a ``DataTransfer`` holding ``File`` objects, dispatched as
``dragenter``/``dragover``/``drop`` on the editor, the page's own handlers reading it. A folder
cannot be: Chromium gives a script-made ``DataTransfer`` no file-system entries
(``webkitGetAsEntry()`` is null for its items, which the first test checks), so the folder test
hands the page's drop handler a stand-in whose items answer ``webkitGetAsEntry()`` with
directory and file entries (``createReader().readEntries``, ``file()``) over the real files of a
vendored project: the code that walks a dropped folder runs unchanged.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from browser_util import Server, by, open_editor, wait_js, watched_pages

pytestmark = [pytest.mark.browser, pytest.mark.dot]

sync_api = pytest.importorskip("playwright.sync_api")

PROJECTS = Path(__file__).resolve().parent / "data" / "projects"
TIMEOUT = 20_000

DROP_FILES = """
async (files) => {
  const dt = new DataTransfer();
  for (const [name, text] of files) dt.items.add(new File([text], name, { type: "text/plain" }));
  const entries = Array.from(dt.items).map((i) => i.webkitGetAsEntry());
  const target = document.getElementById("editor");
  for (const type of ["dragenter", "dragover", "drop"]) {
    target.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: dt }));
  }
  return entries.map((e) => e === null);
}
"""

# A folder as the File System API's entries give it (in a stand-in DataTransfer): readEntries
# answers in batches and then an empty batch, as Chromium's reader does.
DROP_FOLDER = """
(tree) => {
  const fileEntry = (name, text) => ({
    isFile: true, isDirectory: false, name,
    file: (ok) => setTimeout(() => ok(new File([text], name, { type: "text/plain" }))),
  });
  const dirEntry = (name, children) => ({
    isFile: false, isDirectory: true, name,
    createReader() {
      let batches = [children.slice(0, 3), children.slice(3)].filter((b) => b.length);
      return { readEntries: (ok) => setTimeout(() => ok(batches.shift() || [])) };
    },
  });
  const build = (name, node) => typeof node === "string" ? fileEntry(name, node)
    : dirEntry(name, Object.entries(node).map(([n, child]) => build(n, child)));
  const [rootName, root] = Object.entries(tree)[0];
  const rootEntry = build(rootName, root);
  const item = { kind: "file", type: "", webkitGetAsEntry: () => rootEntry, getAsFile: () => null };
  const dataTransfer = { types: ["Files"], items: [item], files: [] };
  const target = document.getElementById("editor");
  for (const type of ["dragenter", "dragover", "drop"]) {
    const event = new Event(type, { bubbles: true, cancelable: true });
    Object.defineProperty(event, "dataTransfer", { value: dataTransfer });
    target.dispatchEvent(event);
  }
}
"""


def tree_of(folder: Path) -> dict:
    """{name: text or {child: ...}} of a folder."""
    return {p.name: tree_of(p) if p.is_dir() else p.read_text() for p in sorted(folder.iterdir())}


@pytest.fixture(scope="module")
def server():
    with Server(workers=1) as srv:
        yield srv


@pytest.fixture
def page(browser, server):
    with watched_pages(browser, server, TIMEOUT) as pages:
        yield open_editor(pages.new(), server)


def test_drop_three_files_then_open_the_multistage_file(page):
    folder = PROJECTS / "builder-pattern"
    files = [[name, (folder / name).read_text()] for name in ("Dockerfile.build", "Dockerfile", "build.sh")]
    no_entries = page.evaluate(DROP_FILES, files)
    assert no_entries == [True, True, True]  # why a folder cannot be dropped from a script
    page.wait_for_selector("#diagram[data-project] svg g.edge.link.link-copy-out")
    assert by(page, "project-name").inner_text() == "project"
    # each Dockerfile a cluster, the script's builds and the docker cp between them drawn as links
    assert page.locator("#diagram svg g.cluster.file").count() == 2
    assert page.locator("#diagram svg g.edge.link.link-build").count() == 2
    assert "2 Dockerfiles" in by(page, "project-status").inner_text()
    by(page, "project-multistage").click()
    wait_js(page, "!!(window.dfviz.graph && window.dfviz.graph.stages[0].name === 'build')")
    text = page.evaluate("window.dfviz.getState().dockerfile")
    assert "COPY --from=build /go/src/app/app ./" in text
    assert by(page, "project-bar").is_hidden()


def test_drop_a_folder_pick_a_bake_target_see_the_links_across_files(page):
    page.evaluate(DROP_FOLDER, {"datalens-backend": tree_of(PROJECTS / "datalens-backend")})
    page.wait_for_selector('#diagram[data-project] svg [id="cluster-file-0"]')
    assert by(page, "project-name").inner_text() == "datalens-backend"
    options = by(page, "project-target").locator("option").all_inner_texts()
    # seven bake files read as one: targets of every file in one menu
    assert "dl_control_api (bake target)" in options and "base_noble (bake target)" in options
    by(page, "project-target").select_option("dl_control_api")
    # the target: contexts of the three files it builds from are drawn in colour (base_noble_db and
    # base_run into the app, base_noble into base_noble_db); the others' grey
    built = "#diagram svg g.edge.link.link-context-target:not(.unreachable)"
    wait_js(page, f"document.querySelectorAll('{built}').length === 3")
    assert page.locator("#diagram svg g.edge.link.link-context-target.unreachable").count() > 0
    # the app's Dockerfile is built; dl_data_api's is not (grey)
    clusters = page.locator("#diagram svg g.cluster.file")
    classes = {
        clusters.nth(n).text_content().strip().split()[0]: clusters.nth(n).get_attribute("class")
        for n in range(clusters.count())
    }
    assert "unreachable" not in classes["app/dl_control_api/Dockerfile"]
    assert "unreachable" in classes["app/dl_data_api/Dockerfile"]
    assert "unreachable" not in classes["docker_build/target_base_noble/Dockerfile"]  # via base_noble_db
    labels = page.locator(f"{built} text").all_text_contents()
    assert any("bake_ctx_base_img" in label for label in labels)
    # Variables: BASE_LINUX's default (from _bake_vars_functions.hcl) shown, a value given redraws
    by(page, "project-variables").locator("summary").click()
    field = by(page, "project-var-BASE_LINUX")
    assert field.get_attribute("placeholder") == "ubuntu:24.04" and field.input_value() == ""
    assert "debian:12" not in page.locator("#diagram svg").text_content()
    field.fill("debian:12")
    by(page, "project-vars-apply").click()
    # target_dl_base_linux_w_db_bin_dependencies/Dockerfile's FROM $BASE_IMG now pulls debian:12
    wait_js(page, "document.querySelector('#diagram svg').textContent.includes('debian:12')")
    assert by(page, "project-target").input_value() == "dl_control_api"  # the pick is kept
