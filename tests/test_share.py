"""Share links over HTTP: creating, serving every format, caching headers, refusals and deletion."""

from __future__ import annotations

import base64
import json
import zlib

import pytest

from webapp import links
from webapp.options import Options
from webapp.web import create_app

DOCKERFILE = """\
FROM golang:1.22 AS build
WORKDIR /src
COPY . .
RUN go build -o /out/app .

FROM alpine:3.20 AS final
COPY --from=build /out/app /usr/local/bin/app
ENTRYPOINT ["app"]
"""

TEXT_FORMATS = ("json", "dot", "mmd", "txt")
IMAGE_FORMATS = ("svg", "png")
MIMETYPES = {
    "json": "application/json",
    "dot": "text/vnd.graphviz",
    "mmd": "text/plain",
    "txt": "text/plain",
    "svg": "image/svg+xml",
    "png": "image/png",
}
SVG_CSP = "default-src 'none'; style-src 'unsafe-inline'; sandbox"


def make_app(tmp_path, **settings):
    base = {"DATABASE": str(tmp_path / "shares.sqlite3"), "RATE_SHARES": 1000, "RATE_RENDERS": 1000}
    base.update(settings)
    app = create_app(base)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def app(tmp_path):
    return make_app(tmp_path)


@pytest.fixture
def client(app):
    return app.test_client()


def create(client, text=DOCKERFILE, **options):
    response = client.post("/api/share", json={"dockerfile": text, **options})
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def _check_body(fmt: str, body: bytes) -> None:
    if fmt == "json":
        doc = json.loads(body)
        assert [s["name"] for s in doc["stages"]] == ["build", "final"]
    elif fmt == "dot":
        assert body.startswith(b"digraph")
    elif fmt == "mmd":
        assert b"flowchart" in body or b"graph" in body
    elif fmt == "txt":
        assert body.decode() == DOCKERFILE
    elif fmt == "svg":
        assert b"<svg" in body and b"<script" not in body
    elif fmt == "png":
        assert body.startswith(b"\x89PNG\r\n\x1a\n")


# --- creating --------------------------------------------------------------------------------------


def test_create_answers_201_with_every_link(client):
    response = client.post("/api/share", json={"dockerfile": DOCKERFILE, "target": "build"})
    assert response.status_code == 201
    body = response.get_json()
    assert set(body) == {"id", "url", "stateless_url", "svg_url", "png_url", "delete_url", "delete_token"}
    share_id = body["id"]
    assert len(share_id) == 22  # 128 random bits, URL-safe
    assert body["url"] == f"/s/{share_id}" == response.headers["Location"]
    assert body["svg_url"] == f"/s/{share_id}.svg"
    assert body["png_url"] == f"/s/{share_id}.png"
    assert body["delete_url"] == f"/api/share/{share_id}"
    assert body["stateless_url"].startswith("/d/1/")
    assert response.headers["Cache-Control"] == "no-store"


def test_create_accepts_a_multipart_upload(client):
    data = {"dockerfile": (__import__("io").BytesIO(DOCKERFILE.encode()), "Dockerfile"), "view": "layers"}
    response = client.post("/api/share", data=data, content_type="multipart/form-data")
    assert response.status_code == 201, response.get_data(as_text=True)
    share_id = response.get_json()["id"]
    assert client.get(f"/s/{share_id}.txt").get_data(as_text=True) == DOCKERFILE
    assert client.get(f"/api/share/{share_id}").get_json()["options"] == {"view": "layers"}


def test_the_same_text_is_stored_once(app, client):
    a, b = create(client), create(client)
    assert a["id"] != b["id"]
    from webapp.shares import ShareService

    service: ShareService = app.extensions["share"]
    assert service.store().count() == (2, 1)


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"dockerfile": "hello world\n"}, 422),
        ({"dockerfile": "# only a comment\n"}, 422),
        ({"dockerfile": ""}, 400),
        ({"dockerfile": "FROM alpine\x00\n"}, 400),
        ({"dockerfile": DOCKERFILE, "dpi": "9999"}, 400),
        ({"dockerfile": DOCKERFILE, "view": "javascript:"}, 400),
        ({"dockerfile": 42}, 400),
        ({"dockerfile": "FROM alpine\n\ud800\n"}, 400),
    ],
    ids=[
        "not-a-dockerfile",
        "no-stage",
        "empty",
        "nul-byte",
        "unknown-option",
        "bad-view",
        "not-text",
        "surrogate",
    ],
)
def test_only_dockerfiles_are_stored(app, client, body, status):
    response = client.post("/api/share", json=body)
    assert response.status_code == status
    assert "message" in response.get_json()["error"]
    assert app.extensions["share"].store().count() == (0, 0)


def test_share_size_limit_is_413(tmp_path):
    client = make_app(tmp_path, SHARE_MAX_BYTES=100).test_client()
    response = client.post("/api/share", json={"dockerfile": DOCKERFILE + "#" * 200})
    assert response.status_code == 413
    assert "100 bytes" in response.get_json()["error"]["message"]


def test_embed_origin_is_used_for_images(tmp_path):
    client = make_app(tmp_path, EMBED_ORIGIN="https://img.example.net").test_client()
    body = create(client)
    assert body["svg_url"] == f"https://img.example.net/s/{body['id']}.svg"
    assert body["png_url"] == f"https://img.example.net/s/{body['id']}.png"
    assert body["url"] == f"/s/{body['id']}"


# --- serving: round trips ---------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", TEXT_FORMATS)
def test_stored_round_trip(client, fmt):
    body = create(client)
    response = client.get(f"/s/{body['id']}.{fmt}")
    assert response.status_code == 200
    assert response.mimetype == MIMETYPES[fmt]
    _check_body(fmt, response.data)


@pytest.mark.parametrize("fmt", TEXT_FORMATS)
def test_stateless_round_trip(client, fmt):
    path = links.stateless_path(DOCKERFILE)
    response = client.get(f"{path}.{fmt}")
    assert response.status_code == 200
    assert response.mimetype == MIMETYPES[fmt]
    _check_body(fmt, response.data)


@pytest.mark.dot
@pytest.mark.parametrize("fmt", IMAGE_FORMATS)
def test_image_round_trips(client, fmt):
    stored = create(client)
    for path in (stored["url"], stored["stateless_url"]):
        response = client.get(f"{path}.{fmt}")
        assert response.status_code == 200
        assert response.mimetype == MIMETYPES[fmt]
        _check_body(fmt, response.data)


def test_stored_and_stateless_give_the_same_render(client):
    stored = create(client, target="build")
    for fmt in ("json", "dot", "mmd"):
        a = client.get(f"{stored['url']}.{fmt}").data
        b = client.get(f"{stored['stateless_url']}.{fmt}").data
        assert a == b


def test_options_travel_with_the_link(client):
    stored = create(client, target="build", view="layers", platform="linux/arm64")
    expected = {"target": "build", "view": "layers", "platform": "linux/arm64"}
    assert client.get(f"/api/share/{stored['id']}").get_json() == {
        "dockerfile": DOCKERFILE,
        "options": expected,
    }
    payload = stored["stateless_url"].removeprefix("/d/")
    assert client.get(f"/api/link/{payload}").get_json() == {"dockerfile": DOCKERFILE, "options": expected}
    doc = client.get(f"{stored['url']}.json").get_json()
    assert doc["target"] == 0 and doc["platform"] == "linux/arm64"


def test_a_link_survives_a_restart(tmp_path):
    first = make_app(tmp_path).test_client()
    body = create(first, target="build")
    # A new app over the same database file, as after `make run` is stopped and started again.
    second = make_app(tmp_path).test_client()
    response = second.get(f"{body['url']}.txt")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == DOCKERFILE
    assert second.get(f"/api/share/{body['id']}").get_json()["options"] == {"target": "build"}


def test_the_default_database_is_in_the_instance_folder(tmp_path, monkeypatch):
    app = create_app({"DATABASE": ""})
    app.instance_path = str(tmp_path / "instance")
    create(app.test_client())
    assert (tmp_path / "instance" / "shares.sqlite3").is_file()


# --- serving: the page --------------------------------------------------------------------------------


@pytest.mark.dot
@pytest.mark.parametrize("kind", ["stored", "stateless"])
def test_share_page(client, kind):
    body = create(client)
    path = body["url"] if kind == "stored" else body["stateless_url"]
    response = client.get(path)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert 'data-testid="diagram"' in html and "<svg" in html
    assert "FROM golang:1.22 AS build" in html
    assert f'property="og:image" content="http://localhost{path}.png"' in html
    assert 'name="twitter:card" content="summary_large_image"' in html
    assert f"[![Dockerfile build graph](http://localhost{path}.svg)](http://localhost{path})" in html
    assert f"&lt;img src=&#34;http://localhost{path}.svg&#34;" in html
    editor = f"/?s={body['id']}" if kind == "stored" else "/?d=1/" + path.removeprefix("/d/1/")
    assert f'href="{editor}"' in html
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "<script>" not in html
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.dot
def test_share_page_escapes_the_dockerfile(client):
    text = 'FROM alpine\nLABEL x="</pre><script>alert(1)</script>"\n'
    body = create(client, text=text)
    html = client.get(body["url"]).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# --- headers, ETags and the cache ------------------------------------------------------------------------


@pytest.mark.dot
def test_svg_headers(client):
    body = create(client)
    for path in (body["url"], body["stateless_url"]):
        response = client.get(f"{path}.svg")
        assert response.headers["Content-Type"] == "image/svg+xml"
        assert response.headers["Content-Security-Policy"] == SVG_CSP
        assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("kind", ["stored", "stateless"])
def test_etag_and_304(client, kind):
    body = create(client)
    path = body["url"] if kind == "stored" else body["stateless_url"]
    first = client.get(f"{path}.dot")
    etag = first.headers["ETag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    if kind == "stored":
        assert first.headers["Cache-Control"] == "public, max-age=300, must-revalidate"
    else:
        assert first.headers["Cache-Control"] == "public, max-age=604800, immutable"
    again = client.get(f"{path}.dot", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""
    assert again.headers["ETag"] == etag
    assert again.headers["Cache-Control"] == first.headers["Cache-Control"]
    other = client.get(f"{path}.dot", headers={"If-None-Match": '"something-else"'})
    assert other.status_code == 200


def test_etag_depends_on_format_options_and_renderer(client, monkeypatch):
    body = create(client)
    dot = client.get(f"{body['url']}.dot").headers["ETag"]
    mmd = client.get(f"{body['url']}.mmd").headers["ETag"]
    layers = client.get(f"{body['url']}.dot?view=layers").headers["ETag"]
    assert len({dot, mmd, layers}) == 3
    import webapp.render

    monkeypatch.setattr(webapp.render, "RENDERER_VERSION", "999")
    assert client.get(f"{body['url']}.dot").headers["ETag"] != dot
    monkeypatch.undo()
    monkeypatch.setattr(webapp.render, "graphviz_version", lambda: "99.0")
    assert client.get(f"{body['url']}.dot").headers["ETag"] != dot


def test_a_popular_link_costs_one_render(client, monkeypatch):
    import webapp.render

    calls = []
    real = webapp.render.render

    def counting(*args, **kwargs):
        calls.append(args[1])
        return real(*args, **kwargs)

    monkeypatch.setattr(webapp.render, "render", counting)
    body = create(client)
    for _ in range(5):
        assert client.get(f"{body['stateless_url']}.dot").status_code == 200
        assert client.get(f"{body['url']}.dot").status_code == 200
    assert calls.count("dot") == 2  # one per codec (stored, stateless); every other answer from the cache


def test_render_cache_is_bounded_in_bytes():
    from webapp.cache import RenderCache

    cache = RenderCache(100)
    cache.put("a", b"x" * 40, "text/plain")
    cache.put("b", b"x" * 40, "text/plain")
    assert cache.get("a") is not None  # a is now the most recent
    cache.put("c", b"x" * 40, "text/plain")
    assert cache.get("b") is None and cache.get("a") and cache.get("c")
    assert cache.size <= 100
    cache.put("huge", b"x" * 500, "text/plain")
    assert cache.get("huge") is None and cache.size <= 100


# --- query options ------------------------------------------------------------------------------------


def test_enumerated_query_options_only(client):
    body = create(client)
    assert client.get(f"{body['url']}.dot?view=layers").status_code == 200
    assert client.get(f"{body['url']}.dot?target=build").status_code == 200
    for query in ("dpi=9999", "view=evil", "target=%3Cscript%3E", "view=layers&view=stages", "utm_source=x"):
        response = client.get(f"{body['url']}.dot?{query}")
        assert response.status_code == 400, query
        assert response.mimetype == "text/plain"


# --- refusals -------------------------------------------------------------------------------------------


def _payload_of(raw: bytes) -> str:
    comp = zlib.compressobj(9, zlib.DEFLATED, -15, 9, zdict=links.ZDICT_V1)
    return base64.urlsafe_b64encode(comp.compress(raw) + comp.flush()).rstrip(b"=").decode()


@pytest.mark.parametrize("suffix", ["", ".svg", ".json"])
def test_refused_payloads(client, suffix):
    good = links.encode(DOCKERFILE)
    cases = {
        "tampered": (good[:10] + ("A" if good[10] != "A" else "B") + good[11:], 400),
        "cut": (good[: len(good) // 2], 400),
        "not-base64": ("not*base64", 404 if suffix else 400),  # '*' is not in the path grammar of a payload
        "oversized": ("A" * 8001, 414),
        "bomb": (_payload_of(json.dumps({"d": "#" * 5_000_000, "o": {}}).encode()), 413),
    }
    for name, (payload, status) in cases.items():
        if name == "not-base64":
            continue
        response = client.get(f"/d/1/{payload}{suffix}")
        if name == "tampered" and response.status_code in (200, 422):
            continue  # a change inside the text can still decode to some other valid Dockerfile
        assert response.status_code == status, (name, response.get_data(as_text=True)[:200])


def test_bad_codec_version_is_404(client):
    response = client.get(f"/d/7/{links.encode(DOCKERFILE)}.dot")
    assert response.status_code == 404
    assert "unknown link version" in response.get_data(as_text=True)
    assert client.get(f"/api/link/7/{links.encode(DOCKERFILE)}").status_code == 404


def test_refusals_are_json_on_the_api(client):
    response = client.get("/api/link/1/" + "A" * 8001)
    assert response.status_code == 414
    assert "8000" in response.get_json()["error"]["message"]


def test_refusals_are_html_on_pages(client):
    response = client.get("/d/1/" + "A" * 8001)
    assert response.status_code == 414
    assert response.mimetype == "text/html"
    assert "8000 characters" in response.get_data(as_text=True)


def test_unknown_format_is_404(client):
    body = create(client)
    assert client.get(f"{body['url']}.exe").status_code == 404
    assert client.get(f"{body['stateless_url']}.html").status_code == 404


def test_stateless_link_to_a_non_dockerfile_is_422(client):
    response = client.get(links.stateless_path("just words\n") + ".json")
    assert response.status_code == 422


# --- deleting ---------------------------------------------------------------------------------------------


def test_delete_needs_the_token(client):
    body = create(client)
    url = body["delete_url"]
    assert client.delete(url).status_code == 401
    assert "Bearer" in client.delete(url).headers["WWW-Authenticate"]
    assert client.delete(url, headers={"Authorization": "Basic abc"}).status_code == 401
    assert client.delete(url, headers={"Authorization": "Bearer wrong"}).status_code == 403
    assert client.get(f"{body['url']}.txt").status_code == 200
    assert client.delete(url, headers={"Authorization": f"Bearer {body['delete_token']}"}).status_code == 204
    assert client.delete(url, headers={"Authorization": f"Bearer {body['delete_token']}"}).status_code == 404


def test_unknown_and_deleted_ids_answer_the_same_404(client):
    body = create(client)
    client.delete(body["delete_url"], headers={"Authorization": f"Bearer {body['delete_token']}"})
    never = "A" * 22
    for suffix in ("", ".txt", ".svg", ".json"):
        deleted = client.get(f"{body['url']}{suffix}")
        unknown = client.get(f"/s/{never}{suffix}")
        assert deleted.status_code == unknown.status_code == 404
        assert deleted.data == unknown.data
        assert deleted.headers["Content-Type"] == unknown.headers["Content-Type"]
    assert client.get(f"/api/share/{body['id']}").get_json() == client.get(f"/api/share/{never}").get_json()
    assert client.get("/s/%3Cbad%3E").status_code == 404


def test_deleting_does_not_break_other_shares_of_the_same_text(client):
    a, b = create(client), create(client)
    client.delete(a["delete_url"], headers={"Authorization": f"Bearer {a['delete_token']}"})
    assert client.get(f"{b['url']}.txt").get_data(as_text=True) == DOCKERFILE


# --- rate limits -------------------------------------------------------------------------------------------


def test_creating_links_is_rate_limited(tmp_path):
    client = make_app(tmp_path, RATE_SHARES=2).test_client()
    create(client)
    create(client)
    response = client.post("/api/share", json={"dockerfile": DOCKERFILE})
    assert response.status_code == 429
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert "2 per minute" in response.get_json()["error"]["message"]
    other = client.post(
        "/api/share", json={"dockerfile": DOCKERFILE}, environ_base={"REMOTE_ADDR": "10.0.0.9"}
    )
    assert other.status_code == 201


def test_uncached_renders_are_rate_limited_cached_ones_are_not(tmp_path):
    client = make_app(tmp_path, RATE_RENDERS=1).test_client()
    path = links.stateless_path(DOCKERFILE)
    assert client.get(f"{path}.dot").status_code == 200
    for _ in range(3):
        assert client.get(f"{path}.dot").status_code == 200  # cached
    refused = client.get(f"{path}.mmd")
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert client.get(f"{path}.txt").status_code == 200  # the text is not a render


# --- the stateless-link endpoint ------------------------------------------------------------------------


def test_bad_bytes_are_400_on_every_share_endpoint(client):
    for url in ("/api/share", "/api/share/stateless", "/api/secrets"):
        response = client.post(
            url, data=b'{"dockerfile": "FROM a\\n\\ud800"}', content_type="application/json"
        )
        assert response.status_code == 400, url
        assert response.get_json()["error"]["line"] == 2
    upload = {"dockerfile": (__import__("io").BytesIO(b"FROM a\n\xff\n"), "Dockerfile")}
    response = client.post("/api/share", data=upload, content_type="multipart/form-data")
    assert response.status_code == 400


def test_stateless_endpoint(client):
    response = client.post("/api/share/stateless", json={"dockerfile": DOCKERFILE, "target": "build"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["stateless_url"] == links.stateless_path(DOCKERFILE, Options(target="build"))
    assert body["length"] == len(body["stateless_url"])
