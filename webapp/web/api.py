"""Blueprint: the JSON API (``POST /api/render``), the editor page's own endpoint and /healthz.

Views only read the request, call the core and answer; errors are raised as the core's exception
classes and turned into ``{"error": {"message", "line"}}`` by the handlers in ``web/__init__``.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify

from ..render import render
from .inputs import analyze_request, read_render_request

bp = Blueprint("api", __name__)


@bp.post("/api/render")
def render_api():
    """The graph JSON or the drawing (svg, png, dot, mermaid) of the posted Dockerfile."""
    req = read_render_request()
    graph = analyze_request(req)
    body, mimetype = render(graph, req.format, req.options.view, settings=current_app.config["SETTINGS"])
    return Response(body, mimetype=mimetype)


@bp.post("/api/diagram")
def diagram_api():
    """For the editor page: the graph JSON and its SVG in one answer (one analysis, one request)."""
    req = read_render_request()
    graph = analyze_request(req)
    svg, _ = render(graph, "svg", req.options.view, settings=current_app.config["SETTINGS"])
    return jsonify(
        {
            "graph": graph.to_dict(),
            "svg": svg.decode("utf-8") if isinstance(svg, bytes) else svg,
            "view": req.options.view,
        }
    )


@bp.get("/healthz")
def healthz():
    """Readiness check for process managers and the browser tests."""
    return Response("ok", mimetype="text/plain")
