"""Blueprint: share (placeholder until its issue lands)."""

from flask import Blueprint

bp = Blueprint("share", __name__)
