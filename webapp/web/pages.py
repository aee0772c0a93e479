"""Blueprint: pages (placeholder until its issue lands)."""

from flask import Blueprint

bp = Blueprint("pages", __name__)


@bp.get("/")
def index():
    """A plain page until the editor lands."""
    return "Dockerfile visualizer"
