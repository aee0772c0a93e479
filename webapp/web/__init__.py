"""The Flask application factory: settings, blueprints, headers, trust, and the one error handler."""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask, current_app, jsonify, make_response, render_template, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.middleware.proxy_fix import ProxyFix

from .. import config
from ..errors import HostRefused, Refusal, RenderBusy
from ..render import DotRunner

ROOT = Path(__file__).resolve().parent.parent.parent

PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
"""Content-Security-Policy of every HTML page: no inline script, style or handler, nothing remote."""

SVG_CSP = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
"""Content-Security-Policy of an SVG served on its own (it may be opened directly)."""

RETRY_AFTER = str(RenderBusy.retry_after)
"""Seconds a client should wait after a 503 from a busy renderer."""

HOST_EXEMPT = ("api.healthz",)
"""Endpoints served whatever the Host header says (load balancers probe by address)."""

log = logging.getLogger(__name__)


def create_app(settings: dict | None = None) -> Flask:
    """Build the app; ``settings`` override the defaults and ``WEBAPP_*`` variables."""
    app = Flask(
        "webapp",
        static_folder=str(ROOT / "static"),
        template_folder=str(ROOT / "templates"),
        instance_path=str(ROOT / "instance"),
    )
    app.config["SETTINGS"] = values = config.load(**(settings or {}))
    limit = values["MAX_INPUT_BYTES"] + 64 * 1024
    app.config["MAX_CONTENT_LENGTH"] = limit
    # Werkzeug caps non-file multipart fields at 500 KB by default; a pasted Dockerfile is one.
    app.config["MAX_FORM_MEMORY_SIZE"] = limit
    app.json.sort_keys = False
    app.config["PUBLIC_ORIGIN"] = public_origin(values["PUBLIC_URL"])
    app.config["ALLOWED_HOSTS"] = _allowed_hosts(values)

    hops = int(values["TRUSTED_PROXIES"])
    if hops > 0:  # the client address (and scheme) come from that many X-Forwarded-* hops
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)

    from . import api, compress, pages, project, share
    from .ratelimit import RateLimits
    from .rendering import Renders

    app.extensions["renders"] = Renders(values)
    # Graphviz runs through this app's runner; it is closed (spares killed, temp folder removed)
    # when the app is garbage collected or the worker exits (a weakref finalizer, run at exit).
    app.extensions["dot_runner"] = DotRunner.from_settings(values)
    # readiness checks for /healthz: (name, check, required); storage appends its own here
    app.extensions["health"] = [("dot", api.dot_ready, True)]
    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(share.bp)
    app.register_blueprint(project.bp)
    app.before_request(_check_host)  # before any view: a refused Host costs nothing
    app.extensions["rate_limits"] = RateLimits(app)  # after the blueprints: it wraps their views
    app.after_request(_security_headers)
    compress.init_app(app)  # gzip for static JS, CSS and SVG (webapp/web/compress.py)
    app.register_error_handler(Refusal, _refusal)
    app.register_error_handler(RequestEntityTooLarge, _too_large)
    app.register_error_handler(HTTPException, _http_error)
    return app


# --- trust --------------------------------------------------------------------------------------


def public_origin(url: str) -> str:
    """``scheme://host[:port]`` of WEBAPP_PUBLIC_URL ('' when unset); ValueError when malformed."""
    if not url:
        return ""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path.strip("/") or parts.query:
        raise ValueError(f"WEBAPP_PUBLIC_URL must look like https://example.com[:port], got {url!r}")
    return f"{parts.scheme}://{parts.netloc.lower()}"


def _allowed_hosts(values: dict) -> frozenset[str]:
    """Host header values accepted when PUBLIC_URL is set: its host and EMBED_ORIGIN's."""
    if not values["PUBLIC_URL"]:
        return frozenset()
    hosts = set()
    for origin in (values["PUBLIC_URL"], values["EMBED_ORIGIN"]):
        if origin:
            parts = urlsplit(origin.strip())
            hosts.add(parts.netloc.lower())
            default = {"http": 80, "https": 443}.get(parts.scheme)
            if parts.port == default:  # "example.com:443" and "example.com" are one host
                hosts.add(parts.hostname.lower())
            elif parts.port is None and default:
                hosts.add(f"{parts.hostname.lower()}:{default}")
    return frozenset(hosts)


def _check_host() -> None:
    """With WEBAPP_PUBLIC_URL set, refuse requests for any other host (400)."""
    allowed = current_app.config["ALLOWED_HOSTS"]
    if not allowed or request.endpoint in HOST_EXEMPT:
        return
    host = request.host.lower()
    if host not in allowed:
        origin = current_app.config["PUBLIC_ORIGIN"]
        raise HostRefused(f"unknown host {host[:100]!r}: this service answers for {origin}")


def absolute_base() -> str:
    """Origin for absolute links in pages: WEBAPP_PUBLIC_URL, or (unset) this request's own host.

    Pages built from the request's host must not be stored by shared caches; see
    :func:`page_cache_control`.
    """
    return current_app.config["PUBLIC_ORIGIN"] or request.host_url.rstrip("/")


def page_cache_control(public: str) -> str:
    """``public`` as is when absolute links come from WEBAPP_PUBLIC_URL; else made ``private``.

    Without a configured public URL a page's og:url, canonical link and embed snippets name the
    Host the client sent; a shared cache must then never hand that page to someone else.
    """
    if current_app.config["PUBLIC_ORIGIN"]:
        return public
    return public.replace("public", "private")


# --- headers ------------------------------------------------------------------------------------


def _security_headers(response):
    """Headers every answer carries; HTML pages get the page CSP, served SVGs a sandbox."""
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if response.mimetype == "text/html":
        response.headers.setdefault("Content-Security-Policy", PAGE_CSP)
        response.headers.setdefault("X-Frame-Options", "DENY")
    elif response.mimetype == "image/svg+xml":
        response.headers.setdefault("Content-Security-Policy", SVG_CSP)
    return response


# --- errors -------------------------------------------------------------------------------------


def wants_json() -> bool:
    """True for API requests: they are answered in JSON."""
    return request.path.startswith("/api/")


RAW_PREFIXES = ("/s/", "/d/")
"""Link routes whose ``.svg .png .json .dot .mmd .txt`` files are answered in plain text on error."""


def wants_text() -> bool:
    """True for a link's raw file (``/s/<id>.svg``, ``/d/1/<payload>.png``): errors in plain text."""
    from .share import EXTENSIONS

    stem, dot, ext = request.path.rpartition("/")[2].rpartition(".")
    return request.path.startswith(RAW_PREFIXES) and bool(stem and dot) and ext in EXTENSIONS


def error_response(status: int, message: str, line: int | None = None, headers: dict | None = None):
    """The one shape of every error, by route: JSON ``{"error": {"message", "line"}}`` under
    ``/api/``, one line of plain text for raw link formats, else an HTML page."""
    if wants_json():
        response = jsonify({"error": {"message": message, "line": line}})
    elif wants_text():
        text = f"{status}: {message}" + (f" (line {line})" if line else "") + "\n"
        response = make_response(text)
        response.mimetype = "text/plain"
    else:
        response = _error_page(status, message, line)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def refusal_headers(exc: Refusal) -> dict:
    """``Retry-After`` for a busy answer; nothing for a refusal that would fail again."""
    return {"Retry-After": str(exc.retry_after)} if exc.retry_after else {}


def _error_page(status: int, message: str, line: int | None):
    """An HTML page for an error on a page route (the editor page when the form was posted)."""
    from .pages import render_index

    if request.endpoint == "pages.index_post":  # the editor again, with the posted text when readable
        text = None
        if status != 413:
            try:
                text = request.form.get("dockerfile") or None
            except Exception:  # noqa: BLE001 - an unreadable body: the page without it
                text = None
        return make_response(render_index(text=text, error={"message": message, "line": line}))
    link_text = "Open the editor" if request.blueprint == "share" else None
    return make_response(
        render_template("error.html", status=status, message=message, line=line, link_text=link_text)
    )


def _refusal(exc: Refusal):
    if exc.status >= 500 and not exc.retry_after:  # not ready (dot missing); busy is not news
        log.warning("refused with %s: %s", exc.status, exc.message)
    return error_response(exc.status, exc.message, exc.line, refusal_headers(exc))


def _too_large(exc: RequestEntityTooLarge):
    settings = current_app.config["SETTINGS"]
    if request.endpoint == "share.create_share":
        what, limit = "a shared Dockerfile or project", settings["SHARE_MAX_BYTES"]
    else:
        what, limit = "a Dockerfile", settings["MAX_INPUT_BYTES"]
    return error_response(413, f"request too large: {what} may be at most {limit} bytes")


def _http_error(exc: HTTPException):
    return error_response(exc.code or 500, exc.description or exc.name, headers=dict(_passed_headers(exc)))


def _passed_headers(exc: HTTPException):
    response = exc.get_response()
    if "Allow" in response.headers:
        yield "Allow", response.headers["Allow"]


__all__ = ["PAGE_CSP", "SVG_CSP", "create_app", "error_response", "refusal_headers"]
