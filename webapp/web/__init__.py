"""The Flask application factory: settings, blueprints, headers and error handlers."""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from .. import config
from ..errors import DockerfileError, RenderError
from ..options import OptionError

ROOT = Path(__file__).resolve().parent.parent.parent

PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
"""Content-Security-Policy of every HTML page: no inline script, style or handler, nothing remote."""

SVG_CSP = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
"""Content-Security-Policy of an SVG served on its own (it may be opened directly)."""

RETRY_AFTER = "2"
"""Seconds a client should wait after a 503 from a busy or timed-out renderer."""

log = logging.getLogger(__name__)


def create_app(settings: dict | None = None) -> Flask:
    """Build the app; ``settings`` override the defaults and ``WEBAPP_*`` variables."""
    app = Flask(
        "webapp",
        static_folder=str(ROOT / "static"),
        template_folder=str(ROOT / "templates"),
        instance_path=str(ROOT / "instance"),
    )
    app.config["SETTINGS"] = config.load(**(settings or {}))
    limit = app.config["SETTINGS"]["MAX_INPUT_BYTES"] + 64 * 1024
    app.config["MAX_CONTENT_LENGTH"] = limit
    # Werkzeug caps non-file multipart fields at 500 KB by default; a pasted Dockerfile is one.
    app.config["MAX_FORM_MEMORY_SIZE"] = limit
    app.json.sort_keys = False

    from . import api, pages, share

    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(share.bp)

    app.after_request(_security_headers)
    app.register_error_handler(DockerfileError, _dockerfile_error)
    app.register_error_handler(OptionError, _option_error)
    app.register_error_handler(RenderError, _render_error)
    app.register_error_handler(RequestEntityTooLarge, _too_large)
    app.register_error_handler(HTTPException, _http_error)
    return app


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


def wants_json() -> bool:
    """True for API requests: they are answered in JSON, pages in HTML."""
    return request.path.startswith("/api/")


def error_response(status: int, message: str, line: int | None = None, headers: dict | None = None):
    """The one shape of every error: JSON ``{"error": {"message", "line"}}`` or the error page."""
    if wants_json():
        response = jsonify({"error": {"message": message, "line": line}})
    else:
        response = app_error_page(status, message, line)
    response.status_code = status
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def app_error_page(status: int, message: str, line: int | None):
    """An HTML page for an error on a page route (the editor page when the form was posted)."""
    from flask import make_response

    from .pages import render_index

    if request.endpoint == "pages.index_post":
        return make_response(render_index(error={"message": message, "line": line}))
    return make_response(render_template("error.html", status=status, message=message, line=line))


def _dockerfile_error(exc: DockerfileError):
    return error_response(exc.status, exc.message, exc.line)


def _option_error(exc: OptionError):
    return error_response(exc.status, exc.message)


def _render_error(exc: RenderError):
    log.warning("render refused: %s", exc.message)
    return error_response(503, exc.message, headers={"Retry-After": RETRY_AFTER})


def _too_large(exc: RequestEntityTooLarge):
    from flask import current_app

    limit = current_app.config["SETTINGS"]["MAX_INPUT_BYTES"]
    return error_response(413, f"request too large: a Dockerfile may be at most {limit} bytes")


def _http_error(exc: HTTPException):
    return error_response(exc.code or 500, exc.description or exc.name, headers=dict(_retry(exc)))


def _retry(exc: HTTPException):
    response = exc.get_response()
    if "Retry-After" in response.headers:
        yield "Retry-After", response.headers["Retry-After"]
    if "Allow" in response.headers:
        yield "Allow", response.headers["Allow"]
