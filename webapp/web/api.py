"""Blueprint: the JSON API (``POST /api/render``), the editor page's own endpoint and /healthz.

Views only read the request, call the core and answer; errors are raised as
:class:`~webapp.errors.Refusal` subclasses and answered by the one handler in ``web/__init__``.
Renders go through the app's :class:`~webapp.web.rendering.Renders`: a render slot, and the
cache of answers and refusals (an identical request is never drawn twice).
"""

from __future__ import annotations

import time

from flask import Blueprint, Response, current_app, jsonify

from ..contexts import context_names
from ..render import compact_json, graphviz_version, render
from .inputs import RenderRequest, analyze_request, read_render_request
from .ratelimit import costs
from .rendering import cache_key, renders

bp = Blueprint("api", __name__)


@bp.post("/api/render")
@costs("renders")
def render_api():
    """The graph JSON or the drawing (svg, png, dot, mermaid) of the posted Dockerfile."""
    req = read_render_request()

    def draw():
        graph = analyze_request(req)
        settings = current_app.config["SETTINGS"]
        return render(
            graph,
            req.format,
            req.options.view,
            settings=settings,
            runner=current_app.extensions["dot_runner"],
        )

    body, mimetype = renders().cached(_key(req, req.format), draw)
    return Response(body, mimetype=mimetype)


@bp.post("/api/diagram")
@costs("renders")
def diagram_api():
    """For the editor page: the graph JSON and its SVG in one answer (one analysis, one request)."""
    req = read_render_request()

    def draw():
        graph = analyze_request(req)
        settings = current_app.config["SETTINGS"]
        svg, _ = render(
            graph, "svg", req.options.view, settings=settings, runner=current_app.extensions["dot_runner"]
        )
        data = graph.to_dict()
        body = {
            "graph": data,
            "context_names": context_names(data, dict(req.options.build_contexts)),
            "svg": svg.decode("utf-8") if isinstance(svg, bytes) else svg,
            "view": req.options.view,
        }
        return compact_json(body), "application/json"

    body, mimetype = renders().cached(_key(req, "diagram"), draw)
    return Response(body, mimetype=mimetype)


def _key(req: RenderRequest, fmt: str) -> str:
    # the canonical options, named build contexts included (they change the graph)
    return cache_key(req.source, req.options.to_mapping(), fmt, codec="api")


# --- health ---------------------------------------------------------------------------------------


def dot_ready() -> dict:
    """Readiness of Graphviz: ``dot`` found and its version known."""
    version = graphviz_version()
    return {"ok": version not in ("none", "unknown"), "version": version}


@bp.get("/healthz")
def healthz():
    """Readiness from the checks in ``app.extensions["health"]``, as JSON.

    Each entry is ``(name, check, required)``; a check returns ``{"ok": bool, ...}`` (raising
    counts as not ok). A failing required check (``dot``) is 503 ``unavailable``: take this
    instance out of rotation. A failing optional one is 200 ``degraded`` (say, storage shared by
    every instance). Never takes a render slot, so it answers while renders are stuck.
    """
    started = time.perf_counter()
    checks, down, degraded = {}, False, False
    for name, check, required in current_app.extensions["health"]:
        try:
            checks[name] = check()
        except Exception as exc:  # noqa: BLE001 - a failing check is an answer, not a 500
            checks[name] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:200]}
        if not checks[name].get("ok"):
            down, degraded = down or required, degraded or not required
    body = {
        "status": "unavailable" if down else "degraded" if degraded else "ok",
        "checks": checks,
        "ms": round((time.perf_counter() - started) * 1000, 1),
    }
    response = jsonify(body)
    response.status_code = 503 if down else 200
    response.headers["Cache-Control"] = "no-store"
    return response
