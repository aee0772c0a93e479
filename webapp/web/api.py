"""Blueprint: api (placeholder until its issue lands)."""

from flask import Blueprint

bp = Blueprint("api", __name__)
