""" "Open in editor": /?s=<id> and /?d=1/<payload> open the editor on the shared file itself."""

from __future__ import annotations

import pytest
from markupsafe import escape

from webapp import links
from webapp.options import Options
from webapp.web import create_app

TEXT = 'FROM alpine:3.20 AS build\nRUN echo "<b>hi</b>"\nFROM scratch\nCOPY --from=build / /\n'


@pytest.fixture
def client(tmp_path):
    return create_app({"DATABASE": str(tmp_path / "s.db"), "RATE_SHARES": 0}).test_client()


def test_stored_share_prefills_the_editor_and_its_options(client):
    made = client.post(
        "/api/share", json={"dockerfile": TEXT, "view": "layers", "target": "build"}
    ).get_json()
    page = client.get(f"/?s={made['id']}").get_data(as_text=True)
    assert str(escape(TEXT)) in page
    assert 'data-shared="1"' in page
    assert '<option value="layers" selected>' in page


def test_stateless_link_prefills_the_editor(client):
    path = links.stateless_path(TEXT, Options(platform="linux/arm64"))
    page = client.get("/?d=" + path.removeprefix("/d/")).get_data(as_text=True)
    assert str(escape(TEXT)) in page
    assert 'data-shared="1"' in page


@pytest.mark.parametrize("query", ["s=AAAAAAAAAAAAAAAAAAAAAA", "d=1/not-a-payload!", "d=9/abc"])
def test_unknown_or_broken_links_fall_back_to_the_example(client, query):
    response = client.get(f"/?{query}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'data-shared="1"' not in page
    assert "FROM golang" in page  # the first example


PROJECT = {
    "Dockerfile": "FROM base AS build\nRUN make\nFROM alpine:3.20\nCOPY --from=build /out /out\n",
    "docker-bake.hcl": 'target "default" {\n  contexts = { base = "docker-image://golang:1.22" }\n}\n',
}


@pytest.mark.parametrize("kind", ["stored", "stateless"])
def test_a_shared_project_without_javascript_shows_its_drawing_and_files(client, kind):
    made = client.post("/api/share", json={"files": PROJECT}).get_json()
    link = made["url"] if kind == "stored" else made["stateless_url"]
    query = f"s={made['id']}" if kind == "stored" else "d=" + link.removeprefix("/d/")
    response = client.get(f"/?{query}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'data-shared="1"' in page  # with JavaScript, share.js opens the project in the page
    # without it: the share page's drawing, the files read-only, and a link to the project's page
    assert 'id="cluster-file-0"' in page
    assert page.count('data-testid="shared-project-file"') == 2
    for path, text in PROJECT.items():
        assert f">{path}</summary>" in page
        assert f"<code>{escape(text)}</code>" in page
    assert f'href="{link}" data-testid="shared-project-page"' in page
    # the Dockerfile editor itself stays empty: a project is not one Dockerfile
    assert '<textarea id="source" name="dockerfile"' in page
    assert 'aria-label="Dockerfile text" data-shared="1"></textarea>' in page
