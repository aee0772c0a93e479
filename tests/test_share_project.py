"""Sharing whole projects: stored links, stateless links while they fit, every export, refusals.

A project share goes through the same routes as a Dockerfile's (``POST /api/share`` with the body
of ``/api/project``), the same store, limits, rate limits, ETags and render cache; its stateless
links are codec ``p1`` (``/d/p1/<payload>``).
"""

from __future__ import annotations

import base64
import json
import zlib
from pathlib import Path

import pytest
import test_share

from webapp import links
from webapp.options import ProjectOptions

make_app, app, client = test_share.make_app, test_share.app, test_share.client
"""The app, its fixtures and settings of the Dockerfile share tests: one way to make a share app."""

PROJECTS = Path(__file__).resolve().parent / "data" / "projects"
EXPORTS = ("svg", "png", "json", "dot", "mmd")
LIMITS = {"max_chars": 8000, "max_source": 64 * 1024}


def project_files(name: str) -> dict[str, str]:
    root = PROJECTS / name
    return {p.relative_to(root).as_posix(): p.read_text() for p in sorted(root.rglob("*")) if p.is_file()}


BAKE = project_files("bake-contexts")
BUILDER = project_files("builder-pattern")


def share(client, files=BAKE, **options):
    response = client.post("/api/share", json={"files": files, **options})
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def p1_payload(doc: object, zdict: bytes = links.ZDICT_P1) -> str:
    raw = json.dumps(doc).encode() if not isinstance(doc, bytes) else doc
    comp = zlib.compressobj(9, zlib.DEFLATED, -15, 9, zdict=zdict)
    return base64.urlsafe_b64encode(comp.compress(raw) + comp.flush()).rstrip(b"=").decode()


# --- creating ----------------------------------------------------------------------------------------


def test_a_project_is_stored_like_a_dockerfile(app, client):
    response = client.post("/api/share", json={"files": BAKE, "project_target": "tools"})
    assert response.status_code == 201
    body = response.get_json()
    assert set(body) == {"id", "url", "stateless_url", "svg_url", "png_url", "delete_url", "delete_token"}
    assert body["url"] == f"/s/{body['id']}" == response.headers["Location"]
    assert body["stateless_url"].startswith("/d/p1/")
    assert response.headers["Cache-Control"] == "no-store"
    # the files and options come back as they were sent ("Open in editor")
    source = client.get(f"/api/share/{body['id']}").get_json()
    assert source == {"files": BAKE, "options": {"project_target": "tools"}}
    link = client.get("/api/link/" + body["stateless_url"].removeprefix("/d/")).get_json()
    assert link == source
    assert app.extensions["share"].store().count() == (1, 1)


def test_a_project_shared_twice_is_stored_once(app, client):
    a, b = share(client), share(client, project_target="tools")
    assert a["id"] != b["id"]
    assert app.extensions["share"].store().count() == (2, 1)


def test_a_multipart_upload_of_files_is_a_project(client):
    data = {"files": [(__import__("io").BytesIO(text.encode()), path) for path, text in BUILDER.items()]}
    response = client.post("/api/share", data=data, content_type="multipart/form-data")
    assert response.status_code == 201, response.get_data(as_text=True)
    assert client.get(f"/api/share/{response.get_json()['id']}").get_json()["files"] == BUILDER


# --- every export, stored and stateless ----------------------------------------------------------------


@pytest.mark.dot
@pytest.mark.parametrize("ext", EXPORTS)
def test_every_export_of_a_project_link(client, ext):
    body = share(client, build_contexts={"ci": "docker-image://alpine:3.20"})
    answers = []
    for path in (body["url"], body["stateless_url"]):
        response = client.get(f"{path}.{ext}")
        assert response.status_code == 200, response.get_data(as_text=True)
        answers.append(response.data)
        if ext == "svg":
            assert response.mimetype == "image/svg+xml"
            assert b'id="cluster-file-0"' in response.data and b"<script" not in response.data
            assert "sandbox" in response.headers["Content-Security-Policy"]
        elif ext == "png":
            assert response.data.startswith(b"\x89PNG\r\n\x1a\n")
        elif ext == "json":
            doc = response.get_json()
            assert sorted(f["path"] for f in doc["files"]) == sorted(BAKE)
            assert any(link["kind"] == "context-target" for link in doc["links"])
            assert doc["selected"] == "default"
        elif ext == "dot":
            assert response.data.startswith(b"digraph") and b"cluster_file_0" in response.data
        elif ext == "mmd":
            assert b"\nflowchart LR\n" in response.data
    assert answers[0] == answers[1], "a stored and a stateless link of one project draw the same"


def test_a_project_link_has_no_txt(client):
    body = share(client)
    for path in (body["url"], body["stateless_url"]):
        response = client.get(f"{path}.txt")
        assert response.status_code == 404
        assert "for a project" in response.get_data(as_text=True)


def test_the_project_json_is_the_one_of_api_project(client):
    body = share(client, project_target="tools")
    shared = client.get(f"{body['url']}.json").get_json()
    direct = client.post("/api/project", json={"files": BAKE, "project_target": "tools"}).get_json()
    assert shared == direct


@pytest.mark.dot
@pytest.mark.parametrize("kind", ["stored", "stateless"])
def test_the_page_of_a_project_link(client, kind):
    body = share(client)
    path = body["url"] if kind == "stored" else body["stateless_url"]
    response = client.get(path)
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert 'id="cluster-file-0"' in html  # the project's picture
    assert html.count('data-testid="share-file"') == len(BAKE)
    for name in BAKE:
        assert f">{name}</summary>" in html
    assert 'data-testid="format-txt"' not in html
    for ext in EXPORTS:
        assert f'href="{path}.{ext}"' in html
    assert '<meta property="og:title" content="Project build graph">' in html
    editor = f"/?s={body['id']}" if kind == "stored" else "/?d=p1/" + path.removeprefix("/d/p1/")
    assert f'href="{editor}"' in html
    assert "<script>" not in html and "script-src 'self'" in response.headers["Content-Security-Policy"]


def test_the_editor_opens_a_shared_project(client):
    body = share(client)
    html = client.get(f"/?s={body['id']}").get_data(as_text=True)
    assert 'data-shared="1"' in html
    assert '"docker-bake.hcl"' not in html, "the project's text is not put into the Dockerfile editor"


# --- options, query, ETags and the cache ----------------------------------------------------------------


def test_the_query_target_is_the_project_target(client):
    body = share(client)
    default = client.get(f"{body['url']}.json").get_json()
    tools = client.get(f"{body['url']}.json?target=tools").get_json()
    assert default["selected"] == "default" and tools["selected"] == "tools"
    for query in ("view=layers", "target=nope", "target=a&target=b", "dpi=9999"):
        response = client.get(f"{body['url']}.json?{query}")
        assert response.status_code == 400, query
        assert response.mimetype == "text/plain"


@pytest.mark.parametrize("kind", ["stored", "stateless"])
def test_etag_and_304(client, kind):
    body = share(client)
    path = body["url"] if kind == "stored" else body["stateless_url"]
    first = client.get(f"{path}.dot")
    etag = first.headers["ETag"]
    expected = (
        "public, max-age=300, must-revalidate" if kind == "stored" else "public, max-age=604800, immutable"
    )
    assert first.headers["Cache-Control"] == expected
    again = client.get(f"{path}.dot", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert client.get(f"{path}.dot?target=tools").headers["ETag"] != etag


def test_a_project_and_a_dockerfile_of_the_same_text_never_share_a_cache_key(app):
    service = app.extensions["share"]
    text = links.project_text({"Dockerfile": "FROM alpine\n"})
    from webapp.options import Options
    from webapp.shares import stored_codec

    with app.app_context():
        dockerfile = service.render_key(text, Options(), stored_codec(Options()), "dot")
        project = service.render_key(text, ProjectOptions(), stored_codec(ProjectOptions()), "dot")
    assert dockerfile != project


@pytest.mark.dot
def test_a_popular_project_link_costs_one_render_and_keeps_its_picture(app, client, monkeypatch):
    import webapp.render.project as drawing

    calls = []
    real = drawing.render_project

    def counting(project, fmt, **kwargs):
        calls.append(fmt)
        return real(project, fmt, **kwargs)

    monkeypatch.setattr(drawing, "render_project", counting)
    body = share(client)
    for _ in range(4):
        assert client.get(f"{body['url']}.svg").status_code == 200
        assert client.get(f"{body['stateless_url']}.dot").status_code == 200
    assert calls == ["svg", "dot"]
    # the stored project's SVG is kept in the store: another instance serves it without dot
    other = make_app(Path(app.config["SETTINGS"]["DATABASE"]).parent).test_client()
    assert other.get(f"{body['url']}.svg").status_code == 200
    assert calls == ["svg", "dot"]


# --- refusals -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"files": {"../Dockerfile": "FROM alpine\n"}}, 400, "'..' is not allowed"),
        ({"files": {"/etc/Dockerfile": "FROM alpine\n"}}, 400, "absolute paths"),
        ({"files": {"a\\Dockerfile": "FROM alpine\n"}}, 400, "backslashes"),
        ({"files": {"Dockerfile": 42}}, 400, "paths to texts"),
        ({"files": {"Dockerfile": "FROM a\n\ud800"}}, 400, "not valid Unicode"),
        ({"files": {"Docker\ud800file": "FROM a\n"}}, 400, "lone surrogates"),
        ({"files": ["Dockerfile"]}, 400, "paths to texts"),
        ({"files": {}}, 400, "no Dockerfile"),
        ({"files": {"docker-bake.hcl": 'target "a" {}\n'}}, 400, "no Dockerfile"),
        ({"files": {"Dockerfile": "hello world\n"}}, 422, "FROM"),
        ({"files": BAKE, "project_target": "nope"}, 400, "unknown project target"),
        ({"files": BAKE, "build_contexts": {"bad name!": "x"}}, 400, "invalid context name"),
        ({"files": BAKE, "file": "Dockerfile"}, 400, "unknown option: file"),
        ({"files": BAKE, "dpi": 9999}, 400, "unknown option: dpi"),
        ({"files": {f"d{i}/Dockerfile": "FROM alpine\n" for i in range(201)}}, 413, "too many project files"),
    ],
    ids=[
        "dot-dot",
        "absolute",
        "backslash",
        "not-text",
        "surrogate-text",
        "surrogate-path",
        "not-a-mapping",
        "empty",
        "no-dockerfile",
        "no-stage",
        "unknown-target",
        "bad-context",
        "not-a-share-option",
        "unknown-option",
        "too-many-files",
    ],
)
def test_hostile_projects_are_refused_and_nothing_is_stored(app, client, body, status, words):
    for url in ("/api/share", "/api/share/stateless"):
        response = client.post(url, json=body)
        if url.endswith("stateless") and (
            "Dockerfile" in words or words in ("FROM", "unknown project target")
        ):
            continue  # a stateless link is not analysed when made (as for one Dockerfile): refused when drawn
        assert response.status_code == status, (url, response.get_data(as_text=True))
        assert words in response.get_json()["error"]["message"]
    assert app.extensions["share"].store().count() == (0, 0)


def test_deeply_nested_json_is_a_400_not_a_crash(client):
    deep = b'{"files": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    for url in ("/api/share", "/api/share/stateless", "/api/secrets", "/api/project"):
        response = client.post(url, data=deep, content_type="application/json")
        assert response.status_code == 400, url
        assert "nested more than 64 levels" in response.get_json()["error"]["message"]


def test_a_project_past_the_share_size_is_413(tmp_path):
    client = make_app(tmp_path, SHARE_MAX_BYTES=1000).test_client()
    response = client.post("/api/share", json={"files": BAKE})
    assert response.status_code == 413
    assert "1000 bytes" in response.get_json()["error"]["message"]


def test_a_project_body_past_the_request_limit_is_413(tmp_path):
    client = make_app(tmp_path, MAX_INPUT_BYTES=1000).test_client()
    files = {**BUILDER, "Dockerfile": BUILDER["Dockerfile"] + "#" * (80 * 1024)}
    response = client.post("/api/share", json={"files": files})
    assert response.status_code == 413
    assert "a shared Dockerfile or project" in response.get_json()["error"]["message"]


def test_a_project_too_long_for_a_link_gets_a_stored_one_and_a_clear_414(client):
    import random

    noise = random.Random(7)
    comment = "".join(noise.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(9000))
    files = {**BUILDER, "Dockerfile": BUILDER["Dockerfile"] + f"# {comment}\n"}
    body = share(client, files=files)
    assert body["stateless_url"] is None
    assert client.get(f"{body['url']}.json").status_code == 200
    response = client.post("/api/share/stateless", json={"files": files})
    assert response.status_code == 414
    assert "8000 characters" in response.get_json()["error"]["message"]


def test_the_stateless_endpoint_makes_project_links(client):
    response = client.post("/api/share/stateless", json={"files": BUILDER, "project_target": "build.sh"})
    assert response.status_code == 200
    body = response.get_json()
    expected = links.stateless_path(links.project_text(BUILDER), ProjectOptions(project_target="build.sh"))
    assert body["stateless_url"] == expected and body["length"] == len(expected)


def test_deleting_a_project_link(client):
    body = share(client)
    url = body["delete_url"]
    assert client.delete(url, headers={"Authorization": "Bearer wrong"}).status_code == 403
    assert client.delete(url, headers={"Authorization": f"Bearer {body['delete_token']}"}).status_code == 204
    for suffix in ("", ".svg", ".json"):
        assert client.get(f"{body['url']}{suffix}").status_code == 404


def test_creating_project_links_is_rate_limited(tmp_path):
    client = make_app(tmp_path, RATE_SHARES=1).test_client()
    share(client)
    response = client.post("/api/share", json={"files": BAKE})
    assert response.status_code == 429 and response.headers["Retry-After"]


def test_checking_a_project_before_storing_it_takes_a_render_slot(tmp_path):
    app = make_app(tmp_path, MAX_RENDERS=1, RENDER_WAIT=0)
    client = app.test_client()
    with app.extensions["renders"].gate.slot():  # every slot of the worker is drawing
        busy = client.post("/api/share", json={"files": BAKE})
        assert busy.status_code == 503 and busy.headers["Retry-After"]
    assert client.post("/api/share", json={"files": BAKE}).status_code == 201
    assert app.extensions["share"].store().count() == (1, 1)


def test_a_storage_fault_is_a_503_for_projects_too(tmp_path):
    (tmp_path / "a-file").write_text("not a folder")
    client = make_app(tmp_path, DATABASE=str(tmp_path / "a-file" / "db" / "shares.sqlite3")).test_client()
    response = client.post("/api/share", json={"files": BAKE})
    assert response.status_code == 503 and response.headers["Retry-After"]
    assert "sharing is unavailable" in response.get_json()["error"]["message"]
    stateless = links.stateless_path(links.project_text(BUILDER), ProjectOptions())
    assert client.get(stateless + ".json").status_code == 200, "stateless project links need no store"


# --- the secret scan ------------------------------------------------------------------------------------


def test_secrets_are_looked_for_in_every_file(client):
    files = {
        **BUILDER,
        "Dockerfile": BUILDER["Dockerfile"] + "ENV API_TOKEN=abc123\n",
        "build.sh": BUILDER["build.sh"] + "curl https://bob:hunter2@example.com/x\n",
    }
    scan = client.post("/api/secrets", json={"files": files}).get_json()
    assert sorted({f["path"] for f in scan["findings"]}) == ["Dockerfile", "build.sh"]
    assert all({"path", "rule", "message", "line"} <= set(f) for f in scan["findings"])
    assert set(scan["redacted"]) == set(files)
    assert "abc123" not in scan["redacted"]["Dockerfile"] and "hunter2" not in scan["redacted"]["build.sh"]
    assert scan["redacted"]["Dockerfile.build"] == files["Dockerfile.build"]
    assert client.post("/api/secrets", json={"files": scan["redacted"]}).get_json()["findings"] == []


# --- the codec p1 ----------------------------------------------------------------------------------------


def test_codec_p1_round_trip_and_dictionary():
    options = ProjectOptions(project_target="app", build_contexts=(("ci", "docker-image://alpine:3.20"),))
    text = links.project_text(BAKE)
    payload = links.encode(text, options)
    assert links.decode("p1", payload, **LIMITS) == (text, options)
    plain = zlib.compressobj(9, zlib.DEFLATED, -15, 9)
    raw = json.dumps({"f": BAKE, "o": options.to_mapping()}, sort_keys=True, separators=(",", ":")).encode()
    assert len(payload) < 0.8 * len(base64.urlsafe_b64encode(plain.compress(raw) + plain.flush()))


def test_codec_p1_is_frozen():
    """Released: changing its dictionary would break every old project link."""
    import hashlib

    assert hashlib.sha256(links.ZDICT_P1).hexdigest() == FROZEN_ZDICT_P1_SHA256
    text, options = links.decode("p1", GOLDEN_P1, **LIMITS)
    assert links.project_files(text) == {"Dockerfile": "FROM alpine AS a\nFROM scratch\nCOPY --from=a / /\n"}
    assert options == ProjectOptions(project_target="a")


FROZEN_ZDICT_P1_SHA256 = "6d949db5ca459f10a79ba833b8582d204217a017adff176a156dca2214749208"
GOLDEN_P1 = "w9a9Q6ozQNYlotddyMYmQhrOSrU6Svkgg4BNkazU5JJ4SCABDUtUqq0FAA"


@pytest.mark.parametrize(
    ("payload", "status", "words"),
    [
        (p1_payload({"f": {"../x/Dockerfile": "FROM a\n"}, "o": {}}), 400, "is not allowed"),
        (p1_payload({"f": {"/Dockerfile": "FROM a\n"}, "o": {}}), 400, "absolute paths"),
        (p1_payload({"f": {}, "o": {}}), 400, "valid document"),
        (p1_payload({"f": {"Dockerfile": 1}, "o": {}}), 400, "paths to texts"),
        (p1_payload(b'{"f":{"Dockerfile":"FROM a\\n\\ud800"},"o":{}}'), 400, "not valid Unicode"),
        (p1_payload({"d": "FROM a\n", "o": {}}), 400, "valid document"),
        (p1_payload({"f": {"Dockerfile": "FROM a\n"}, "o": {"target": "x"}}), 400, "bad option"),
        (p1_payload({"f": {"Dockerfile": "FROM a\n"}, "o": {}, "x": 1}), 400, "valid document"),
        (p1_payload(b'{"f":' + b"[" * 5000 + b"]" * 5000 + b',"o":{}}'), 400, "valid document"),
        (p1_payload({"f": {"Dockerfile": "FROM a\n"}, "o": {}})[:-6], 400, "cut short"),
        (p1_payload({"f": {"Dockerfile": "#" * 5_000_000}, "o": {}}), 413, "inflates past"),
        (p1_payload({"f": {f"{i}/Dockerfile": "" for i in range(201)}, "o": {}}), 413, "too many"),
        ("A" * 8001, 414, "8000 characters"),
    ],
    ids=[
        "dot-dot",
        "absolute",
        "no-files",
        "not-text",
        "surrogate",
        "a-dockerfile-document",
        "dockerfile-option",
        "extra-key",
        "deep",
        "cut",
        "bomb",
        "too-many-files",
        "too-long",
    ],
)
def test_bad_project_payloads(client, payload, status, words):
    for suffix in ("", ".svg", ".json"):
        response = client.get(f"/d/p1/{payload}{suffix}")
        assert response.status_code == status, (suffix, response.get_data(as_text=True)[:300])
        assert words in response.get_data(as_text=True)
    response = client.get(f"/api/link/p1/{payload}")
    assert response.status_code == status and words in response.get_json()["error"]["message"]


def test_a_dockerfile_payload_under_the_project_codec_is_refused(client):
    payload = links.encode("FROM alpine\n")
    assert client.get(f"/d/p1/{payload}.json").status_code == 400


# --- through gunicorn ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from browser_util import Server

    database = tmp_path_factory.mktemp("projshare") / "shares.sqlite3"
    with Server(workers=1, env={"WEBAPP_DATABASE": str(database)}) as srv:
        yield srv


def call(server, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
    import urllib.error
    import urllib.request

    headers = {"Content-Type": "application/json"} if body is not None else {}
    request = urllib.request.Request(server.url + path, data=body, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def long_project(chars: int = 7900) -> dict[str, str]:
    """The builder-pattern project with a Dockerfile grown until its p1 payload passes ``chars``."""
    import hashlib

    lines = [BUILDER["Dockerfile"].rstrip("\n")]
    i = 0
    while True:
        files = {**BUILDER, "Dockerfile": "\n".join(lines) + "\n"}
        if len(links.encode(links.project_text(files), ProjectOptions())) >= chars:
            return files
        lines.append("RUN echo " + hashlib.sha256(str(i).encode()).hexdigest()[:40])
        i += 1


@pytest.mark.dot
def test_a_project_link_at_the_length_limit_is_served_through_gunicorn(server):
    files = long_project()
    status, body = call(server, "POST", "/api/share", json.dumps({"files": files}).encode())
    assert status == 201, body
    made = json.loads(body)
    payload = made["stateless_url"].removeprefix("/d/p1/")
    assert 7900 <= len(payload) <= 8000
    status, body = call(server, "GET", f"/api/link/p1/{payload}")
    assert status == 200 and json.loads(body)["files"] == files
    assert call(server, "GET", f"/?d=p1/{payload}")[0] == 200
    assert call(server, "GET", f"/d/p1/{payload}.json?target=build.sh")[0] == 200
    status, body = call(server, "GET", f"/d/p1/{payload}.json?target=" + "t" * 120)
    assert status == 400 and b"unknown project target" in body  # the app's answer, not gunicorn's
    for path in (made["url"], made["stateless_url"]):
        status, body = call(server, "GET", path + ".dot")
        assert status == 200 and body.startswith(b"digraph")


def test_hostile_project_requests_through_gunicorn(server):
    deep = b'{"files": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    assert call(server, "POST", "/api/share", deep)[0] == 400
    traversal = json.dumps({"files": {"../../etc/Dockerfile": "FROM alpine\n"}}).encode()
    status, body = call(server, "POST", "/api/share", traversal)
    assert status == 400 and b"is not allowed" in body
    bomb = p1_payload({"f": {"Dockerfile": "#" * 5_000_000}, "o": {}})
    assert call(server, "GET", f"/d/p1/{bomb}.svg")[0] == 413
    assert call(server, "GET", "/d/p1/" + "A" * 8001)[0] == 414
    assert call(server, "GET", "/healthz")[0] == 200
