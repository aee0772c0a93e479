"""Blueprint: the editor page (``/``), its no-JavaScript form post, and the example files."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, abort, current_app, render_template, request

from .. import analyze, links
from ..errors import Refusal
from ..options import DEFAULT_PLATFORM, ProjectOptions
from ..render import render
from ..render.scene import SVG_IDS
from ..shares import stored_codec
from . import refusal_headers, share
from .inputs import RenderRequest, analyze_request, read_render_request
from .ratelimit import costs, rate_limits
from .rendering import cache_key, renders

bp = Blueprint("pages", __name__)

EXAMPLES_DIR = Path(__file__).resolve().parent.parent / "examples"

EXAMPLES = (
    ("builder-pattern", "Builder pattern as a two-stage build"),
    ("cache-mounts", "Cache and bind mounts"),
    ("cross-platform", "Cross-platform build with ARG-selected stages"),
)
"""(file stem in webapp/examples, menu title), in menu order; the first one opens the page."""

PLATFORMS = (
    "linux/amd64",
    "linux/arm64",
    "linux/arm/v7",
    "linux/arm/v6",
    "linux/386",
    "linux/ppc64le",
    "linux/s390x",
    "linux/riscv64",
    "windows/amd64",
    "darwin/arm64",
)
"""The platform menu; any os/arch value is accepted by the API."""


def example_text(name: str) -> str | None:
    """The text of a bundled example, or None for an unknown name."""
    if name not in dict(EXAMPLES):
        return None
    return (EXAMPLES_DIR / f"{name}.Dockerfile").read_text(encoding="utf-8")


def render_index(
    *,
    text: str | None = None,
    req: RenderRequest | None = None,
    svg=None,
    graph=None,
    error=None,
    file_name: str = "",
    options=None,
    shared: bool = False,
    project: dict | None = None,
):
    """The editor page; with ``svg`` and ``graph`` when the server drew the diagram (no-JS path)."""
    if text is None:
        text = example_text(EXAMPLES[0][0])
        file_name = f"{EXAMPLES[0][0]}.Dockerfile"
    if req is not None:
        options = req.options
    graph_json = graph.to_dict() if graph is not None else None  # once: the page and its problems
    return render_template(
        "index.html",
        text=text,
        examples=EXAMPLES,
        platforms=PLATFORMS,
        options=options,
        platform=(options.platform if options and options.platform else DEFAULT_PLATFORM),
        svg=svg,
        graph=graph_json,
        error=error,
        file_name=file_name,
        shared=shared,
        project=project,
        page_config=page_config(),
        problems=problem_list(graph_json["diagnostics"] if graph_json is not None else [], error),
    )


RANK = {"error": 0, "warning": 1, "info": 2}
FOLD_NOTES = 3
"""More notes than this fold away under "N notes" (moby has dozens of unbuilt stages)."""


def problem_list(diagnostics: list[dict], error: dict | None) -> dict:
    """The Problems panel as static/app.js draws it: errors, warnings, then notes, by line; many
    notes folded; the count line. The template and the script must agree (a browser test checks)."""
    items = [{"severity": "error", "code": "", **error}] if error else []
    items += diagnostics
    items.sort(key=lambda d: (RANK.get(d["severity"], 3), d.get("line") or 0))
    notes = [d for d in items if d["severity"] == "info"]
    folded = notes if len(notes) > FOLD_NOTES else []
    folded_ids = {id(d) for d in folded}  # ``d not in folded`` compared every pair of notes
    shown = [d for d in items if id(d) not in folded_ids]
    errors = sum(d["severity"] == "error" for d in items)
    warnings = sum(d["severity"] == "warning" for d in items)
    count = ", ".join(
        part
        for part in (
            errors and f"{errors} error{'s' if errors > 1 else ''}",
            warnings and f"{warnings} warning{'s' if warnings > 1 else ''}",
        )
        if part
    )
    return {"shown": shown, "folded": folded, "count": count, "clean": not errors and not warnings}


def page_config() -> dict:
    """What the page's script must agree on with the server: limits and the SVG id contract."""
    settings = current_app.config["SETTINGS"]
    return {
        "maxInputBytes": settings["MAX_INPUT_BYTES"],
        "linkMaxChars": settings["LINK_MAX_CHARS"],
        "svgIds": SVG_IDS,
    }


@bp.get("/")
def index():
    """The editor, opened on an example (``?example=<name>``, default the first)."""
    shared = share.open_shared(request.args)
    if shared is not None:  # "Open in editor" from a share link: the file and its options
        text, options = shared
        if options.kind == ProjectOptions.kind:  # a project: share.js opens it in the page
            shown = _shared_project(text, options)
            return render_index(text="", file_name="shared project", shared=True, **shown)
        return render_index(text=text, options=options, file_name="shared.Dockerfile", shared=True)
    name = request.args.get("example") or EXAMPLES[0][0]
    text = example_text(name)
    if text is None:
        abort(404, description=f"no example called {name[:60]!r}")
    graph, svg = _example_drawing(name)
    return render_index(text=text, graph=graph, svg=svg, file_name=f"{name}.Dockerfile")


def _shared_project(text: str, options: ProjectOptions) -> dict:
    """A shared project in the editor, for a browser without JavaScript (which cannot open one
    there): the drawing of its share page (the same key, so usually cached) and its files
    read-only, with a link to that page. With JavaScript, share.js opens the project instead."""
    s, d = request.args.get("s"), request.args.get("d")
    if s:
        url, codec = f"/s/{s}", stored_codec(options)
    else:
        url, codec = f"/d/{d}", "d" + (d or "").partition("/")[0]
    service = share.service()
    svg = None
    try:  # a cached drawing is free; anything else charges the render budget, like the share page
        body, _ = service.render(
            text,
            options,
            "svg",
            service.render_key(text, options, codec, "svg"),
            codec=codec,
            on_miss=lambda: rate_limits().check("renders"),
        )
        svg = body.decode("utf-8")
    except Refusal:  # busy or refused: the files and the link still show
        pass
    return {"project": {"files": sorted(links.project_files(text).items()), "url": url}, "svg": svg}


def _example_drawing(name: str):
    """An example's graph and SVG, drawn once per process: the page shows its diagram at once,
    before any script runs (and without JavaScript); the script redraws it as usual."""
    cache = current_app.extensions.setdefault("dfviz-examples", {})
    if name not in cache:
        settings = current_app.config["SETTINGS"]
        text = example_text(name)
        graph = analyze(text, settings=settings)
        service = renders()
        try:  # through the app's render admission, like every drawing
            with service.gate.slot():
                key = cache_key(text, {}, "svg", codec="api")
                runner = current_app.extensions["dot_runner"]
                draw = lambda: render(graph, "svg", "stages", settings=settings, runner=runner)  # noqa: E731
                svg, _ = service.cached(key, draw, gated=False)
        except Refusal:  # busy: the page comes without a picture, the script draws it
            return graph, None
        cache[name] = (graph, svg.decode("utf-8") if isinstance(svg, bytes) else svg)
    return cache[name]


@bp.post("/")
@costs("renders")
def index_post():
    """The no-JavaScript path: the form's file or text, drawn by the server into the page."""
    req = read_render_request(require_source=False)
    if not req.text.strip():
        error = {"message": "Choose a file or type a Dockerfile.", "line": None}
        return render_index(text="", req=req, error=error), 400
    service = renders()
    try:
        with service.gate.slot():
            graph = analyze_request(req)
            key = cache_key(req.source, req.options.to_mapping(), "svg", codec="api")
            svg, _ = service.cached(
                key,
                lambda: render(
                    graph,
                    "svg",
                    req.options.view,
                    settings=current_app.config["SETTINGS"],
                    runner=current_app.extensions["dot_runner"],
                ),
                gated=False,
            )
    except Refusal as exc:  # shown in the page, the text kept for fixing
        return render_index(text=req.text, req=req, error=exc.to_dict()), exc.status, refusal_headers(exc)
    # The renderer's own sanitised SVG (allowlisted elements and attributes only); the template
    # inserts it with |safe for that reason alone.
    svg_text = svg.decode("utf-8") if isinstance(svg, bytes) else svg
    return render_index(text=req.text, req=req, svg=svg_text, graph=graph, file_name=_upload_name())


def _upload_name() -> str:
    upload = request.files.get("dockerfile")
    return upload.filename if upload is not None and upload.filename else ""


@bp.get("/examples/<name>.Dockerfile")
def example(name: str):
    """One example's text, for the Examples menu."""
    text = example_text(name)
    if text is None:
        abort(404, description=f"no example called {name[:60]!r}")
    return Response(text, mimetype="text/plain")
