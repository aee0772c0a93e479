"""Blueprint: share links, stored (``/s/<id>``) and stateless (``/d/1/<payload>``).

Views only: each reads the request, calls the app's :class:`~webapp.shares.ShareService`
(``app.extensions["share"]``: storage, links, drawing) and shapes the answer (status, headers,
ETags, the page). Both kinds serve the same page and the same formats after the same path
(``.svg .png .json .dot .mmd .txt``). See docs/sharing.md.
"""

from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, Response, current_app, jsonify, render_template, request
from markupsafe import Markup

from .. import links
from ..options import ProjectOptions
from ..shares import (
    EXTENSIONS,
    PROJECT_EXTENSIONS,
    QUERY_OPTIONS,
    TEXT_MIME,
    Shared,
    ShareNotFound,
    ShareService,
    UnknownFormat,
    WrongToken,
    check_extension,
    scan_project_secrets,
    scan_secrets,
    split_name,
    storage_health,
    stored_codec,
    with_query,
)
from ..store import StoreError
from .inputs import read_render_request
from .project import is_project_request, read_project_request
from .ratelimit import costs, rate_limits

__all__ = ["EXTENSIONS", "QUERY_OPTIONS", "ShareNotFound", "UnknownFormat", "WrongToken", "bp", "open_shared"]

bp = Blueprint("share", __name__)

FORMAT_LABELS = {
    "svg": "SVG",
    "png": "PNG",
    "json": "JSON",
    "dot": "DOT",
    "mmd": "Mermaid",
    "txt": "Dockerfile",
}
"""The share page's download buttons, by extension."""

STATELESS_CACHE = "public, max-age=604800, immutable"
"""A stateless URL fixes its input, so its answers never change."""

STORED_CACHE = "public, max-age=300, must-revalidate"
"""A stored link can be deleted: cache briefly, then revalidate (a 304 costs nothing)."""


@bp.record_once
def _setup(state) -> None:
    app = state.app
    app.extensions["share"] = ShareService(
        app.config["SETTINGS"],
        lambda: app.instance_path,
        lambda: app.extensions["renders"],
        runner_of=lambda: app.extensions["dot_runner"],
    )
    # optional for readiness: a storage fault is shared by every instance (200 "degraded")
    app.extensions.setdefault("health", []).append(("storage", lambda: storage_health(app), False))


def service() -> ShareService:
    """The current app's share service."""
    return current_app.extensions["share"]


def _settings() -> dict:
    return current_app.config["SETTINGS"]


# --- errors -------------------------------------------------------------------------------------
# Refusals (unknown share, bad link, bad option, rate limits, render failures) are answered by the
# app's one handler (``web/__init__.error_response``): JSON under /api/, text for raw formats.


def _error(status: int, message: str, line: int | None = None, headers: dict | None = None) -> Response:
    from . import error_response

    return error_response(status, message, line, headers)


@bp.app_errorhandler(StoreError)
def _store_error(exc: StoreError):
    """Any storage fault, on any route: logged with its cause, answered 503 without it."""
    current_app.logger.error("share store unavailable: %s", exc)
    return _error(exc.status, exc.message, headers={"Retry-After": str(exc.retry_after)})


# --- creating and deleting ------------------------------------------------------------------------


def _public_base() -> str:
    """Origin used for absolute image links in embeds and previews: EMBED_ORIGIN or the page's."""
    from . import absolute_base

    return _settings()["EMBED_ORIGIN"].rstrip("/") or absolute_base()


def _image_url(path: str) -> str:
    """An image URL as the API returns it: absolute on EMBED_ORIGIN when set, else a path."""
    origin = _settings()["EMBED_ORIGIN"].rstrip("/")
    return origin + path if origin else path


def _read_shared() -> tuple[str | bytes | dict[str, str], Shared]:
    """What a share request posts: a Dockerfile and its options (the body of /api/render), or a
    project's files and its options (the body of /api/project: ``files``, ``project_target``,
    ``build_contexts``), within the app's body limit."""
    if is_project_request():
        files, options = read_project_request(limit=current_app.config["MAX_CONTENT_LENGTH"])
        return files, ProjectOptions.from_mapping(options, allow=("format",))
    req = read_render_request()
    return req.source, req.options


@bp.post("/api/share")
@costs("shares")
def create_share():
    """Store the posted Dockerfile (same body as /api/render) or project (same body as
    /api/project); 201 with its links and delete token."""
    source, options = _read_shared()
    made = service().create(source, options)
    payload = made.stateless_payload
    body = {
        "id": made.id,
        "url": f"/s/{made.id}",
        "stateless_url": f"/d/{links.version_of(options)}/{payload}" if payload else None,
        "svg_url": _image_url(f"/s/{made.id}.svg"),
        "png_url": _image_url(f"/s/{made.id}.png"),
        "delete_url": f"/api/share/{made.id}",
        "delete_token": made.token,
    }
    response = jsonify(body)
    response.status_code = 201
    response.headers["Location"] = body["url"]
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/api/share/stateless")
@costs("renders")
def create_stateless():
    """The stateless link of the posted Dockerfile or project, without storing anything (200, or
    414 if too long)."""
    source, options = _read_shared()
    path = service().stateless_path(source, options)
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
    service().delete(share_id, token.strip())
    return Response(status=204)


@bp.get("/api/share/<share_id>")
def share_source(share_id: str):
    """For the editor's "Open in editor": the stored Dockerfile and its options as JSON."""
    text, options = service().load(share_id)
    return _source_response(text, options, STORED_CACHE)


@bp.get("/api/link/<version>/<payload>")
def link_source(version: str, payload: str):
    """For the editor's "Open in editor": a stateless link's Dockerfile and options as JSON."""
    text, options = service().decode(version, payload)
    return _source_response(text, options, STATELESS_CACHE)


def _source_response(text: str, options: Shared, cache_control: str) -> Response:
    if options.kind == ProjectOptions.kind:
        response = jsonify({"files": links.project_files(text), "options": options.to_mapping()})
    else:
        response = jsonify({"dockerfile": text, "options": options.to_mapping()})
    response.headers["Cache-Control"] = cache_control
    return response


@bp.post("/api/secrets", endpoint="scan_secrets")
@costs("renders")
def secrets_view():
    """Likely secrets in the posted Dockerfile, and the text with them redacted; for a project
    (``files``), in each of its files."""
    if is_project_request():
        files, _ = read_project_request(limit=current_app.config["MAX_CONTENT_LENGTH"])
        return jsonify(scan_project_secrets(files))
    req = read_render_request(require_source=False)
    return jsonify(scan_secrets(req.source))


# --- serving ------------------------------------------------------------------------------------------


def open_shared(args) -> tuple[str, Shared] | None:
    """The Dockerfile and options of the editor's ``?s=<id>`` or ``?d=<version>/<payload>``, if any."""
    return service().open_shared(args.get("s"), args.get("d"))


def _render(text: str, options: Shared, fmt: str, key: str, codec: str) -> tuple[bytes, str]:
    # a cached answer (or refusal) is free; anything else charges the client's render budget
    charge = lambda: rate_limits().check("renders")  # noqa: E731
    return service().render(text, options, fmt, key, codec=codec, on_miss=charge)


def _serve(text: str, options: Shared, *, codec: str, ext: str | None, cache_control: str, ctx: dict):
    check_extension(ext, options)
    options = with_query(options, request.args.to_dict(flat=False))
    if ext is None:
        return _page(text, options, codec=codec, cache_control=cache_control, ctx=ctx)
    fmt = EXTENSIONS[ext]
    key = service().render_key(text, options, codec, fmt)
    etag = f'"{key}"'
    headers = {"ETag": etag, "Cache-Control": cache_control}
    if request.if_none_match.contains_weak(key):
        return Response(status=304, headers=headers)
    if fmt == "txt":
        body, mimetype = text.encode("utf-8"), TEXT_MIME
    else:
        body, mimetype = _render(text, options, fmt, key, codec)
    response = Response(body, headers=headers, content_type=mimetype)
    if fmt == "svg":
        response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    response.headers["X-Content-Type-Options"] = "nosniff"
    if fmt in ("txt", "dot", "mermaid", "json"):
        stem = (
            "Dockerfile"
            if fmt == "txt"
            else f"{'project' if options.kind == ProjectOptions.kind else 'diagram'}.{ext}"
        )
        response.headers["Content-Disposition"] = f'inline; filename="{stem}"'
    return response


def _page(text: str, options: Shared, *, codec: str, cache_control: str, ctx: dict):
    key = service().render_key(text, options, codec, "svg")
    svg, _ = _render(text, options, "svg", key, codec)
    base = ctx["path"]
    query = f"?{request.query_string.decode('ascii', 'replace')}" if request.query_string else ""
    from . import absolute_base, page_cache_control

    origin = _public_base()
    page_url = absolute_base() + base + query
    svg_abs = origin + base + ".svg" + query
    png_abs = origin + base + ".png" + query
    project = options.kind == ProjectOptions.kind
    alt = "Project build graph" if project else "Dockerfile build graph"
    markdown = f"[![{alt}]({svg_abs})]({page_url})"
    html = f'<a href="{page_url}"><img src="{svg_abs}" alt="{alt}"></a>'
    files = sorted(links.project_files(text).items()) if project else None
    body = render_template(
        "share.html",
        svg=Markup(svg.decode("utf-8")),  # the renderer's sanitised SVG (allowlisted elements only)
        text=text,
        files=files,
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
        formats=[(ext, FORMAT_LABELS[ext]) for ext in EXTENSIONS if not project or ext in PROJECT_EXTENSIONS],
        line_count=len(text.splitlines()),
    )
    response = Response(body, mimetype="text/html")
    response.headers["Cache-Control"] = page_cache_control(cache_control)  # absolute links inside
    return response


@bp.get("/s/<name>")
def stored(name: str):
    """A stored share: the page, or ``.svg .png .json .dot .mmd .txt``."""
    share_id, ext = split_name(name)
    text, options = service().load(share_id)
    ctx = {"kind": "stored", "id": share_id, "path": f"/s/{share_id}", "editor": f"/?s={share_id}"}
    return _serve(text, options, codec=stored_codec(options), ext=ext, cache_control=STORED_CACHE, ctx=ctx)


@bp.get("/d/<version>/<name>")
def stateless(version: str, name: str):
    """A stateless link: the page, or ``.svg .png .json .dot .mmd .txt``."""
    payload, ext = split_name(name)
    text, options = service().decode(version, payload)
    path = f"/d/{version}/{payload}"
    ctx = {"kind": "stateless", "path": path, "editor": "/?d=" + quote(f"{version}/{payload}", safe="/")}
    return _serve(text, options, codec=f"d{version}", ext=ext, cache_control=STATELESS_CACHE, ctx=ctx)
