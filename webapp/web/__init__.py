"""The Flask application factory: settings, blueprints, headers and error handlers."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from .. import config

ROOT = Path(__file__).resolve().parent.parent.parent


def create_app(settings: dict | None = None) -> Flask:
    """Build the app; ``settings`` override the defaults and ``WEBAPP_*`` variables."""
    app = Flask(
        "webapp",
        static_folder=str(ROOT / "static"),
        template_folder=str(ROOT / "templates"),
        instance_path=str(ROOT / "instance"),
    )
    app.config["SETTINGS"] = config.load(**(settings or {}))
    app.config["MAX_CONTENT_LENGTH"] = app.config["SETTINGS"]["MAX_INPUT_BYTES"] + 64 * 1024

    from . import api, pages, share

    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(share.bp)
    return app
