"""The editor page, its no-JavaScript form path, the examples and the templates."""

from __future__ import annotations

import io
import re
from html.parser import HTMLParser

import pytest
from markupsafe import escape

from webapp import analyze
from webapp.web import PAGE_CSP, create_app
from webapp.web.pages import EXAMPLES, example_text

TESTIDS = (
    "editor",
    "file-input",
    "diagram",
    "diagnostics",
    "target-select",
    "view-select",
    "share-button",
    "share-url",
)

TWO_STAGES = """\
FROM golang:1.22 AS build
RUN go build -o /out/app .

FROM alpine:3.20 AS final
COPY --from=build /out/app /app
"""


@pytest.fixture
def client():
    return create_app({"MAX_INPUT_BYTES": 64 * 1024}).test_client()


class Collect(HTMLParser):
    """Every start tag with its attributes."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def tags_of(html: bytes) -> list[tuple[str, dict]]:
    parser = Collect()
    parser.feed(html.decode())
    return parser.tags


def assert_csp_clean(html: bytes) -> None:
    """Nothing a `script-src 'self'; style-src 'self'` policy would block."""
    for tag, attrs in tags_of(html):
        assert tag != "style", "inline <style>"
        if tag == "script":
            assert attrs.get("src", "").startswith("/static/"), f"inline or remote script: {attrs}"
        assert "style" not in attrs or tag in ("svg", "g", "path", "text", "polygon"), f"style= on <{tag}>"
        assert not [a for a in attrs if a.startswith("on")], f"inline handler on <{tag}>"
        for key in ("src", "href"):
            value = attrs.get(key) or ""
            assert not re.match(r"^(https?:)?//", value), f"remote {key} on <{tag}>: {value}"


# --- GET / ----------------------------------------------------------------------------------------


def test_index_has_every_hook_and_the_first_example(client):
    response = client.get("/")
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.data.decode()
    for testid in TESTIDS:
        assert f'data-testid="{testid}"' in html, testid
    assert "FROM golang:1.22-alpine AS builder" in html  # the builder-pattern example
    assert "/static/vendor/codemirror.js" in html and "/static/app.js" in html and "/static/share.js" in html


def test_index_headers(client):
    response = client.get("/")
    assert response.headers["Content-Security-Policy"] == PAGE_CSP
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "DENY"
    for part in ("script-src 'self'", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"):
        assert part in PAGE_CSP


def test_index_is_csp_clean(client):
    assert_csp_clean(client.get("/").data)


@pytest.mark.parametrize("name", [name for name, _ in EXAMPLES])
def test_examples_open_in_the_page_and_as_files(client, name):
    text = example_text(name)
    page = client.get(f"/?example={name}")
    assert page.status_code == 200
    for line in text.splitlines():
        assert str(escape(line)) in page.data.decode()
    raw = client.get(f"/examples/{name}.Dockerfile")
    assert raw.status_code == 200 and raw.mimetype == "text/plain" and raw.data.decode() == text


def test_unknown_example_is_404_html(client):
    for url in ("/?example=nope", "/examples/nope.Dockerfile"):
        response = client.get(url)
        assert response.status_code == 404 and response.mimetype == "text/html"
        assert "nope" in response.data.decode()


def test_examples_cover_the_three_required_builds():
    builder = analyze(example_text("builder-pattern"))
    assert len(builder.stages) == 2 and not builder.has_errors
    assert [e.kind.value for e in builder.edges].count("copy") >= 1
    mounts = analyze(example_text("cache-mounts"))
    kinds = {e.mount_type for e in mounts.edges if e.kind.value == "mount"}
    assert {"cache", "bind"} <= kinds or "bind" in kinds, kinds
    assert "type=cache" in example_text("cache-mounts")
    cross = example_text("cross-platform")
    assert "--platform=$BUILDPLATFORM" in cross and "FROM base-${TARGETOS}" in cross
    linux = analyze(cross, platform="linux/arm64")
    windows = analyze(cross, platform="windows/amd64")
    final_base = [s.base.stage for s in (linux.stages[-1], windows.stages[-1])]
    assert final_base[0] != final_base[1] and None not in final_base
    for graph in (mounts, linux, windows):
        assert not graph.has_errors, graph.diagnostics


# --- POST / (no JavaScript) --------------------------------------------------------------------------


@pytest.mark.dot
def test_form_post_with_a_file_draws_the_diagram_server_side(client):
    data = {
        "dockerfile": (io.BytesIO(TWO_STAGES.encode()), "Dockerfile"),
        "target": "build",
        "view": "stages",
        "platform": "linux/amd64",
        "build_args": "",
    }
    response = client.post("/", data=data, content_type="multipart/form-data")
    assert response.status_code == 200
    html = response.data.decode()
    assert "<svg" in html and 'id="stage-0"' in html and 'id="stage-1"' in html
    assert '<option value="build" selected>' in html
    assert "What ships" in html
    assert "<script>" not in html
    assert_csp_clean(response.data)


@pytest.mark.dot
def test_form_post_with_text(client):
    response = client.post("/", data={"dockerfile": TWO_STAGES, "view": "layers"})
    assert response.status_code == 200
    assert 'id="ins-1-0"' in response.data.decode()


def test_form_post_error_keeps_the_text_and_shows_the_message(client):
    response = client.post("/", data={"dockerfile": "# nothing to build\n"})
    assert response.status_code == 422 and response.mimetype == "text/html"
    html = response.data.decode()
    assert "not a Dockerfile" in html and "# nothing to build" in html


def test_form_post_empty_is_400(client):
    response = client.post("/", data={"dockerfile": ""})
    assert response.status_code == 400 and "Choose a file" in response.data.decode()


def test_form_post_bad_option_is_400_html(client):
    response = client.post("/", data={"dockerfile": TWO_STAGES, "view": "3d"})
    assert response.status_code == 400 and response.mimetype == "text/html"
    assert "view must be one of" in response.data.decode()


def test_form_post_too_large_is_413_html(client):
    response = client.post("/", data={"dockerfile": "x" * (200 * 1024)})
    assert response.status_code == 413 and response.mimetype == "text/html"
    assert "65536 bytes" in response.data.decode()
    assert response.headers["Content-Security-Policy"] == PAGE_CSP


def test_form_post_when_the_renderer_is_busy_is_503(client, monkeypatch):
    from webapp.errors import RenderBusy

    def refuse(*args, **kwargs):
        raise RenderBusy("too many renders in flight")

    monkeypatch.setattr("webapp.web.pages.render", refuse)
    response = client.post("/", data={"dockerfile": TWO_STAGES})
    assert response.status_code == 503 and response.headers["Retry-After"]
    assert "too many renders" in response.data.decode()


# --- templates --------------------------------------------------------------------------------------


def test_dockerfile_text_is_escaped_in_the_page(client):
    hostile = 'FROM alpine\nRUN echo "</textarea><script>alert(1)</script><img src=x onerror=alert(2)>"\n'
    response = client.post("/", data={"dockerfile": hostile, "view": "stages"})
    html = response.data.decode()
    assert "<script>alert(1)" not in html and "<img src=x" not in html
    assert "&lt;/textarea&gt;&lt;script&gt;" in html


def test_error_page_template(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404 and response.mimetype == "text/html"
    assert 'data-testid="error-message"' in response.data.decode()
    assert_csp_clean(response.data)


def test_static_files_are_served_with_nosniff(client):
    for name in ("app.js", "app.css", "favicon.svg"):
        response = client.get(f"/static/{name}")
        assert response.status_code == 200, name
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        response.close()


def test_page_code_has_no_inline_style_or_eval():
    from webapp.web import ROOT

    scripts = [*(ROOT / "static").glob("*.js"), *(ROOT / "static" / "js").glob("*.js")]
    assert len(scripts) >= 5
    risky_calls = (".innerHTML", ".outerHTML", "insertAdjacentHTML", "eval(", "new Function")
    risky_calls += ('setAttribute("style"',)
    for path in scripts:
        js = path.read_text()
        for risky in risky_calls:
            assert risky not in js, (path.name, risky)


def test_page_weight_is_under_500_kb(client):
    """The page's own JavaScript and CSS, libraries included (static/vendor is built by `make setup`)."""
    from scripts.bench_web import page_assets
    from webapp.web import ROOT

    files = page_assets(client.get("/").get_data(as_text=True))
    assert "/static/vendor/codemirror.js" in files
    assert {"/static/js/panzoom.js", "/static/js/util.js", "/static/js/theme.js"} <= set(files)
    missing = [f for f in files if not (ROOT / f.lstrip("/")).is_file()]
    assert not missing, f"missing {missing}: run `make setup` (scripts/ensure-static) first"
    total = sum((ROOT / f.lstrip("/")).stat().st_size for f in files)
    assert total < 500 * 1024, f"{total} bytes"


@pytest.mark.dot
def test_the_page_is_given_the_svg_ids_the_renderer_writes(client):
    """One contract (webapp.render.scene.SVG_IDS): the page reads it from data-config, and the
    ids it names are the ones in the drawn SVG, in both views."""
    import json

    from webapp.render.scene import SVG_IDS

    body = [a for t, a in tags_of(client.get("/").data) if t == "body"][0]
    config = json.loads(body["data-config"])
    assert config["svgIds"] == SVG_IDS
    assert config["maxInputBytes"] == 64 * 1024 and config["linkMaxChars"] > 2000
    views = (("stages", ("stage", "edge")), ("layers", ("stage_box", "from", "instruction", "edge")))
    for view, kinds in views:
        svg = client.post("/api/diagram", json={"dockerfile": TWO_STAGES, "view": view}).get_json()["svg"]
        ids = set(re.findall(r'\bid="([^"]+)"', svg))
        for kind in kinds:
            wanted = SVG_IDS[kind].format(stage=1, k=0, n=0)
            assert wanted in ids, (view, kind, wanted)
        assert SVG_IDS["legend"] in ids


def test_static_text_files_are_served_gzipped_to_clients_that_accept_it(client):
    import gzip

    from webapp.web import ROOT

    for name in ("app.js", "app.css", "js/panzoom.js"):
        raw = client.get(f"/static/{name}")
        assert "Content-Encoding" not in raw.headers and raw.headers["Vary"] == "Accept-Encoding"
        packed = client.get(f"/static/{name}", headers={"Accept-Encoding": "gzip, br"})
        assert packed.headers["Content-Encoding"] == "gzip", name
        assert gzip.decompress(packed.data) == (ROOT / "static" / name).read_bytes()
        assert len(packed.data) < len(raw.data) / 2
        assert packed.headers["ETag"] != raw.headers["ETag"]
        again = client.get(
            f"/static/{name}", headers={"Accept-Encoding": "gzip", "If-None-Match": packed.headers["ETag"]}
        )
        assert again.status_code == 304 and again.data == b""
        again.close()
        raw.close()
        packed.close()


@pytest.mark.dot
def test_get_shows_the_examples_diagram_and_panels_without_javascript(client):
    html = client.get("/?example=cache-mounts").get_data(as_text=True)
    assert "<svg" in html and 'id="stage-3"' in html
    assert "What ships" in html and "final</b> from" in html


def test_problem_list_folds_thousands_of_notes_in_linear_time():
    # every shown item was checked against the list of folded notes: 9000 notes took ~3.5 s
    import time

    from webapp.web.pages import FOLD_NOTES, problem_list

    notes = [{"severity": "info", "code": "UndefinedVar", "message": f"m{i}", "line": i} for i in range(9000)]
    warning = {"severity": "warning", "code": "W", "message": "w", "line": 5}
    start = time.perf_counter()
    panel = problem_list([*notes, warning], None)
    assert time.perf_counter() - start < 1
    assert panel["shown"] == [warning] and panel["folded"] == notes and panel["count"] == "1 warning"
    few = problem_list(notes[:FOLD_NOTES] + [warning], None)
    assert few["shown"] == [warning, *notes[:FOLD_NOTES]] and few["folded"] == []
