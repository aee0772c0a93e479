"""Blueprint: share links, stored (``/s/<id>``) and stateless (``/d/1/<payload>``).

Both kinds serve the same page and the same formats after the same path (``.svg .png .json .dot
.mmd .txt``). Renders go through a byte-bounded cache whose key is also the strong ETag, so a
popular link costs one render per worker and a revalidation costs none. See docs/sharing.md.
"""

from __future__ import annotations

import re
import threading
from urllib.parse import quote

from flask import Blueprint, Response, current_app, jsonify, render_template, request
from markupsafe import Markup

from .. import analyze, links
from .. import secrets as secret_scan
from ..errors import DockerfileError, InputTooLarge, Refusal, UnreadableInput
from ..options import OptionError, Options
from ..shares import storage_health
from ..store import ShareStore, StoreError, open_store
from .inputs import analyze_request, read_render_request
from .ratelimit import costs, rate_limits
from .rendering import cache_key, renders

bp = Blueprint("share", __name__)

EXTENSIONS = {"svg": "svg", "png": "png", "json": "json", "dot": "dot", "mmd": "mermaid", "txt": "txt"}
"""File extension after a share path -> output format (``txt`` is the Dockerfile itself)."""

QUERY_OPTIONS = ("view", "target")
"""The only query parameters a share URL accepts; each is validated like any other option."""

STATELESS_CACHE = "public, max-age=604800, immutable"
"""A stateless URL fixes its input, so its answers never change."""

STORED_CACHE = "public, max-age=300, must-revalidate"
"""A stored link can be deleted: cache briefly, then revalidate (a 304 costs nothing)."""

STORED_CODEC = "s1"
"""The codec part of the cache key for stored shares (the text and options are the same for any id)."""

_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_TEXT_MIME = "text/plain; charset=utf-8"


class ShareNotFound(Refusal, LookupError):
    """An unknown or deleted share id: both answer the same 404."""

    status = 404

    def __init__(self, message: str = "no such share (it never existed or was deleted)"):
        super().__init__(message)


class UnknownFormat(Refusal, LookupError):
    """A share path with an extension that is not one of :data:`EXTENSIONS`."""

    status = 404

    def __init__(self, message: str):
        super().__init__(message)


class _State:
    """Per-app objects: the store (opened on first use). Renders and their cache: ``rendering``."""

    def __init__(self, app):
        settings = app.config["SETTINGS"]
        self._database = settings["DATABASE"]
        self._app = app
        self._store: ShareStore | None = None
        self._lock = threading.Lock()

    def store(self) -> ShareStore:
        with self._lock:
            if self._store is None:
                self._store = open_store(self._database, self._app.instance_path)
            return self._store

    @property
    def cache(self):
        """The app's render cache (kept here for callers that look for it on the share state)."""
        return self._app.extensions["renders"].cache


@bp.record_once
def _setup(state) -> None:
    app = state.app
    app.extensions["share"] = _State(app)
    app.extensions.setdefault("health", []).append(("storage", lambda: storage_health(app)))


def _state() -> _State:
    return current_app.extensions["share"]


def _settings() -> dict:
    return current_app.config["SETTINGS"]


# --- errors -------------------------------------------------------------------------------------
# Refusals (unknown share, bad link, bad option, rate limits, render failures) are answered by the
# app's one handler (``web/__init__.error_response``): JSON under /api/, text for raw formats.


def _error(status: int, message: str, line: int | None = None, headers: dict | None = None) -> Response:
    from . import error_response

    return error_response(status, message, line, headers)


@bp.errorhandler(StoreError)
def _store_error(exc: StoreError):
    current_app.logger.error("share store unavailable: %s", exc)
    return _error(503, "sharing is unavailable right now", headers={"Retry-After": "30"})


# --- creating and deleting ------------------------------------------------------------------------


def _public_base() -> str:
    """Origin used for absolute image links in embeds and previews: EMBED_ORIGIN or the page's."""
    from . import absolute_base

    return _settings()["EMBED_ORIGIN"].rstrip("/") or absolute_base()


def _image_url(path: str) -> str:
    """An image URL as the API returns it: absolute on EMBED_ORIGIN when set, else a path."""
    origin = _settings()["EMBED_ORIGIN"].rstrip("/")
    return origin + path if origin else path


def stateless_payload(text: str, options: Options) -> str | None:
    """The codec payload for ``text``, or None when it is past the configured limits."""
    settings = _settings()
    if len(text.encode("utf-8")) > settings["LINK_MAX_SOURCE"]:
        return None
    payload = links.encode(text, options)
    return payload if len(payload) <= settings["LINK_MAX_CHARS"] else None


def _share_text(source: str | bytes) -> str:
    """The posted Dockerfile as text that can be stored and encoded: strict UTF-8, no BOM."""
    if isinstance(source, bytes):
        try:
            text = source.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = source[: exc.start].count(b"\n") + 1
            raise UnreadableInput("the Dockerfile is not valid UTF-8 text", line) from exc
    else:
        text = source
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:  # a lone surrogate from a JSON \ud800 escape
            line = text[: exc.start].count("\n") + 1
            raise UnreadableInput("the Dockerfile is not valid Unicode text", line) from exc
    return text[1:] if text.startswith("\ufeff") else text


@bp.post("/api/share")
@costs("shares")
def create_share():
    """Store the posted Dockerfile (same body as /api/render); 201 with its links and delete token."""
    state = _state()
    req = read_render_request()
    size = (
        len(req.source) if isinstance(req.source, bytes) else len(req.source.encode("utf-8", "surrogatepass"))
    )
    limit = _settings()["SHARE_MAX_BYTES"]
    if size > limit:
        raise InputTooLarge(f"too large to share: {size} bytes (limit {limit} bytes)")
    text = _share_text(req.source)
    analyze_request(req)  # only Dockerfiles with at least one stage are stored
    share_id, token = state.store().save(text, req.options)
    payload = stateless_payload(text, req.options)
    body = {
        "id": share_id,
        "url": f"/s/{share_id}",
        "stateless_url": f"/d/{links.CURRENT_VERSION}/{payload}" if payload else None,
        "svg_url": _image_url(f"/s/{share_id}.svg"),
        "png_url": _image_url(f"/s/{share_id}.png"),
        "delete_url": f"/api/share/{share_id}",
        "delete_token": token,
    }
    response = jsonify(body)
    response.status_code = 201
    response.headers["Location"] = body["url"]
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/api/share/stateless")
@costs("renders")
def create_stateless():
    """The stateless link of the posted Dockerfile, without storing anything (200, or 414 if too long)."""
    req = read_render_request()
    text = _share_text(req.source)
    settings = _settings()
    if len(text.encode("utf-8", "surrogatepass")) > settings["LINK_MAX_SOURCE"]:
        raise links.LinkTooLarge(
            f"too large for a stateless link (limit {settings['LINK_MAX_SOURCE']} bytes)"
        )
    payload = links.encode(text, req.options)
    if len(payload) > settings["LINK_MAX_CHARS"]:
        raise links.LinkTooLong(f"the link would be longer than {settings['LINK_MAX_CHARS']} characters")
    path = f"/d/{links.CURRENT_VERSION}/{payload}"
    return jsonify({"stateless_url": path, "svg_url": _image_url(path + ".svg"), "length": len(path)})


@bp.delete("/api/share/<share_id>")
def delete_share(share_id: str):
    """Delete a stored share: ``Authorization: Bearer <delete_token>``; 204, 401, 403 or 404."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return _error(
            401,
            "send the share's delete token as Authorization: Bearer <token>",
            headers={"WWW-Authenticate": 'Bearer realm="shares"'},
        )
    store = _state().store()
    if not _ID.match(share_id) or store.load(share_id) is None:
        raise ShareNotFound()
    if not store.delete(share_id, token.strip()):
        return _error(403, "wrong delete token for this share")
    return Response(status=204)


@bp.get("/api/share/<share_id>")
def share_source(share_id: str):
    """For the editor's "Open in editor": the stored Dockerfile and its options as JSON."""
    text, options = _load(share_id)
    return _source_response(text, options, STORED_CACHE)


@bp.get("/api/link/<version>/<payload>")
def link_source(version: str, payload: str):
    """For the editor's "Open in editor": a stateless link's Dockerfile and options as JSON."""
    text, options = _decode(version, payload)
    return _source_response(text, options, STATELESS_CACHE)


def _source_response(text: str, options: Options, cache_control: str) -> Response:
    response = jsonify({"dockerfile": text, "options": options.to_mapping()})
    response.headers["Cache-Control"] = cache_control
    return response


@bp.post("/api/secrets")
@costs("renders")
def scan_secrets():
    """Likely secrets in the posted Dockerfile, and the text with them redacted."""
    req = read_render_request(require_source=False)
    text = _share_text(req.source)
    findings = secret_scan.scan(text)
    return jsonify(
        {
            "findings": [f.to_dict() for f in findings],
            "redacted": secret_scan.redact(text, findings) if findings else text,
        }
    )


# --- serving ------------------------------------------------------------------------------------------


def open_shared(args) -> tuple[str, Options] | None:
    """The Dockerfile and options of the editor's ``?s=<id>`` or ``?d=<version>/<payload>``, if any."""
    try:
        if args.get("s"):
            return _load(args["s"])
        if args.get("d"):
            version, _, payload = args["d"].partition("/")
            return _decode(version, payload)
    except (ShareNotFound, links.LinkError, OptionError, DockerfileError):
        return None
    return None


def _load(share_id: str) -> tuple[str, Options]:
    found = _state().store().load(share_id) if _ID.match(share_id) else None
    if found is None:
        raise ShareNotFound()
    return found


def _decode(version: str, payload: str) -> tuple[str, Options]:
    settings = _settings()
    return links.decode(
        version, payload, max_chars=settings["LINK_MAX_CHARS"], max_source=settings["LINK_MAX_SOURCE"]
    )


def _split(name: str) -> tuple[str, str | None]:
    stem, dot, ext = name.rpartition(".")
    if not dot:
        return name, None
    if ext not in EXTENSIONS:
        raise UnknownFormat(f"no such format .{ext[:10]} (formats: {', '.join('.' + e for e in EXTENSIONS)})")
    return stem, ext


def _with_query(options: Options) -> Options:
    """Apply the enumerated query options (``view``, ``target``); anything else is a 400."""
    if not request.args:
        return options
    unknown = sorted(set(request.args) - set(QUERY_OPTIONS))
    if unknown:
        raise OptionError(f"unknown query option: {unknown[0][:40]} (allowed: {', '.join(QUERY_OPTIONS)})")
    mapping = options.to_mapping()
    for key in QUERY_OPTIONS:
        values = request.args.getlist(key)
        if len(values) > 1:
            raise OptionError(f"query option {key} given more than once")
        if values:
            mapping[key] = values[0]
    return Options.from_mapping(mapping)


def _key(text: str, options: Options, codec: str, fmt: str) -> str:
    return cache_key(text, options.to_mapping(), fmt, codec=codec)


def cached_render(text: str, options: Options, fmt: str, key: str) -> tuple[bytes, str]:
    """The render of ``text`` in ``fmt``, from the cache or drawn once (uncached renders are rate limited)."""

    def draw() -> tuple[bytes, str]:
        from ..render import render

        settings = _settings()
        graph = analyze(text, settings=settings, **options.analysis_kwargs())
        if not graph.stages:
            raise DockerfileError("not a Dockerfile: it has no FROM instruction")
        return render(graph, fmt, options.view, settings=settings)

    # a cached answer (or refusal) is free; anything else charges the client's render budget
    return renders().cached(key, draw, on_miss=lambda: rate_limits().check("renders"))


def _serve(text: str, options: Options, *, codec: str, ext: str | None, cache_control: str, ctx: dict):
    options = _with_query(options)
    if ext is None:
        return _page(text, options, codec=codec, cache_control=cache_control, ctx=ctx)
    fmt = EXTENSIONS[ext]
    key = _key(text, options, codec, fmt)
    etag = f'"{key}"'
    headers = {"ETag": etag, "Cache-Control": cache_control}
    if request.if_none_match.contains_weak(key):
        return Response(status=304, headers=headers)
    if fmt == "txt":
        body, mimetype = text.encode("utf-8"), _TEXT_MIME
    else:
        body, mimetype = cached_render(text, options, fmt, key)
    response = Response(body, headers=headers, content_type=mimetype)
    if fmt == "svg":
        response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    response.headers["X-Content-Type-Options"] = "nosniff"
    if fmt in ("txt", "dot", "mermaid", "json"):
        stem = "Dockerfile" if fmt == "txt" else f"diagram.{ext}"
        response.headers["Content-Disposition"] = f'inline; filename="{stem}"'
    return response


def _page(text: str, options: Options, *, codec: str, cache_control: str, ctx: dict):
    key = _key(text, options, codec, "svg")
    svg, _ = cached_render(text, options, "svg", key)
    base = ctx["path"]
    query = f"?{request.query_string.decode('ascii', 'replace')}" if request.query_string else ""
    from . import absolute_base, page_cache_control

    origin = _public_base()
    page_url = absolute_base() + base + query
    svg_abs = origin + base + ".svg" + query
    png_abs = origin + base + ".png" + query
    markdown = f"[![Dockerfile build graph]({svg_abs})]({page_url})"
    html = f'<a href="{page_url}"><img src="{svg_abs}" alt="Dockerfile build graph"></a>'
    body = render_template(
        "share.html",
        svg=Markup(svg.decode("utf-8")),  # the renderer's sanitised SVG (allowlisted elements only)
        text=text,
        options=options.to_mapping(),
        kind=ctx["kind"],
        share_id=ctx.get("id"),
        base=base,
        query=query,
        page_url=page_url,
        svg_url=svg_abs,
        png_url=png_abs,
        editor_url=ctx["editor"],
        embed_markdown=markdown,
        embed_html=html,
        formats=[
            ("svg", "SVG"),
            ("png", "PNG"),
            ("json", "JSON"),
            ("dot", "DOT"),
            ("mmd", "Mermaid"),
            ("txt", "Dockerfile"),
        ],
        line_count=len(text.splitlines()),
    )
    response = Response(body, mimetype="text/html")
    response.headers["Cache-Control"] = page_cache_control(cache_control)  # absolute links inside
    return response


@bp.get("/s/<name>")
def stored(name: str):
    """A stored share: the page, or ``.svg .png .json .dot .mmd .txt``."""
    share_id, ext = _split(name)
    text, options = _load(share_id)
    ctx = {"kind": "stored", "id": share_id, "path": f"/s/{share_id}", "editor": f"/?s={share_id}"}
    return _serve(text, options, codec=STORED_CODEC, ext=ext, cache_control=STORED_CACHE, ctx=ctx)


@bp.get("/d/<version>/<name>")
def stateless(version: str, name: str):
    """A stateless link: the page, or ``.svg .png .json .dot .mmd .txt``."""
    payload, ext = _split(name)
    text, options = _decode(version, payload)
    path = f"/d/{version}/{payload}"
    ctx = {"kind": "stateless", "path": path, "editor": "/?d=" + quote(f"{version}/{payload}", safe="/")}
    return _serve(text, options, codec=f"d{version}", ext=ext, cache_control=STATELESS_CACHE, ctx=ctx)
