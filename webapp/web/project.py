"""Blueprint: ``POST /api/project``, a whole project (several files, or an archive) in one answer.

The body is JSON ``{"files": {path: text}, "build_contexts", "project_target", "variables",
"bake_files", "file", "view", "format"}``, a multipart form with several ``files`` uploads (each
file name is its relative path) or one ``archive`` upload (.zip, .tar, .tar.gz) and the same
options as fields (``build_context``, ``var`` and ``bake_file`` repeatable), or the archive
itself as the body (``application/zip``, ``application/x-tar``, ``application/gzip``) with the
options in the query string. The view reads, calls the core and answers; the limits live in
:mod:`webapp.project.inputs` and refusals are 400 or 413 JSON errors naming the problem.
"""

from __future__ import annotations

import json

from flask import Blueprint, Response, current_app, request
from werkzeug.exceptions import RequestEntityTooLarge

from ..nesting import MAX_JSON_DEPTH, too_deep
from ..options import OptionError, Options, ProjectOptions
from ..project import analyze_project, from_archive, from_mapping
from ..project.inputs import MAX_ARCHIVE_BYTES, MAX_FILE_BYTES, MAX_TOTAL_BYTES, ProjectInputError
from ..render import render
from ..render.project import render_project
from .ratelimit import costs
from .rendering import cache_key, renders

bp = Blueprint("project", __name__)

FORMATS = ("json", "dot", "svg", "png", "mermaid", "multistage")
"""What ``/api/project`` answers: the project JSON, its drawing, or the converted Dockerfile."""
BODY_LIMIT = MAX_ARCHIVE_BYTES + 1024 * 1024
"""Largest request body: an archive at its limit plus the form around it."""
ARCHIVE_TYPES = ("application/zip", "application/x-tar", "application/gzip", "application/octet-stream")
"""Content types of a request whose body is the archive itself."""
JSON_LIMIT = 2 * MAX_TOTAL_BYTES + 64 * 1024
"""Largest JSON body: the project files' limit, with room for JSON's escapes."""
MULTISTAGE_TYPE = "text/plain; charset=utf-8"
"""Mimetype of the converted Dockerfile (sent as an attachment named Dockerfile.multistage)."""
_OPTIONS = (
    "build_contexts", "build_context", "project_target", "file", "view", "format",
    "variables", "var", "bake_files", "bake_file",
)  # fmt: skip


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(exc):
    from . import error_response

    limit = request.max_content_length or BODY_LIMIT
    return error_response(413, f"request too large: a project upload may be at most {limit} bytes")


def _json_body() -> dict:
    """The request's JSON object, its nesting checked before Python's recursive parser sees it."""
    if too_deep(request.get_data(cache=True)):
        raise OptionError(f"the JSON body is nested more than {MAX_JSON_DEPTH} levels deep")
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise OptionError("the body must be a JSON object")
    return data


def is_project_request() -> bool:
    """True when the body is a project: JSON with ``files``, a form with ``files`` or ``archive``
    uploads, or an archive (the other share and render bodies hold one ``dockerfile``)."""
    if request.is_json:
        return "files" in _json_body()
    if request.mimetype == "multipart/form-data":
        return "files" in request.files or "archive" in request.files
    return request.mimetype in ARCHIVE_TYPES


def read_project_request(*, limit: int | None = None) -> tuple[dict[str, str], dict]:
    """The project files (checked by :func:`~webapp.project.from_mapping` or the archive reader)
    and the options as sent, from JSON, a multipart form or an archive body; ``limit`` caps the
    body below the project's own limits (e.g. a share's)."""
    if limit is None:
        limit = JSON_LIMIT if request.is_json else BODY_LIMIT
    request.max_content_length = limit
    if request.is_json:
        data = _json_body()
        unknown = sorted(set(data) - {"files", *_OPTIONS})
        if unknown:
            raise OptionError(f"unknown option: {unknown[0]}")
        if "files" not in data:
            raise OptionError('no files given: send {"files": {path: text}}')
        options = {k: data[k] for k in _OPTIONS if k in data}
        return from_mapping(data["files"]), options
    if request.mimetype in ARCHIVE_TYPES:  # the archive as the body, options in the query string
        unknown = sorted(set(request.args) - set(_OPTIONS))
        if unknown:
            raise OptionError(f"unknown option: {unknown[0]}")
        options = {
            k: request.args[k] for k in ("project_target", "file", "view", "format") if request.args.get(k)
        }
        options["build_contexts"] = request.args.getlist("build_context")
        options["variables"] = request.args.getlist("var")
        options["bake_files"] = request.args.getlist("bake_file")
        return from_archive(request.get_data(cache=False)), options
    if request.mimetype != "multipart/form-data":
        raise OptionError("send JSON (application/json), a form (multipart/form-data) or an archive body")
    unknown = sorted(set(request.form) - set(_OPTIONS))
    if unknown:
        raise OptionError(f"unknown option: {unknown[0]}")
    options: dict = {
        k: request.form[k] for k in ("project_target", "file", "view", "format") if request.form.get(k)
    }
    contexts = [
        v
        for k in ("build_context", "build_contexts")
        for f in request.form.getlist(k)
        for v in f.splitlines()
    ]
    options["build_contexts"] = [c.strip() for c in contexts if c.strip()]
    options["variables"] = request.form.getlist("var")
    options["bake_files"] = request.form.getlist("bake_file")
    archives = request.files.getlist("archive")
    uploads = request.files.getlist("files")
    unknown = sorted(set(request.files) - {"archive", "files"})
    if unknown:
        raise OptionError(f"unknown upload field: {unknown[0]}")
    if archives and uploads or len(archives) > 1:
        raise OptionError("send one archive, or files, not both")
    if archives:
        return from_archive(archives[0].read(MAX_ARCHIVE_BYTES + 1)), options
    if not uploads:
        raise OptionError("no files given: upload them in the files field, or an archive in archive")
    files: dict[str, str] = {}
    for upload in uploads:
        name = upload.filename or ""
        if name in files:
            raise ProjectInputError(f"{name[:80]!r} is given twice")
        data = upload.read(MAX_FILE_BYTES + 1)
        try:
            files[name] = data.decode("utf-8")
        except UnicodeDecodeError:
            raise ProjectInputError(f"{name[:80]!r} is not UTF-8 text") from None
    return from_mapping(files), options


@bp.post("/api/project")
@costs("renders")
def project_api():
    """The project JSON, its drawing, one file's drawing, or the converted multi-stage Dockerfile.

    Drawn through the app's renders (a render slot, and the cache of answers and refusals keyed
    on the files and options), like ``/api/render``.
    """
    files, options = read_project_request()
    fmt = options.get("format") or "json"
    if fmt not in FORMATS:
        raise OptionError(f"format must be one of: {', '.join(FORMATS)}")
    view = Options.from_mapping({"view": options.get("view")}).view
    chosen = ProjectOptions.from_mapping(options, allow=("file", "view", "format"))
    one = options.get("file")
    if one is not None and not isinstance(one, str):
        raise OptionError("file must name a Dockerfile of the project")
    settings = current_app.config["SETTINGS"]
    runner = current_app.extensions["dot_runner"]

    def draw() -> tuple[bytes, str]:
        project = analyze_project(files, settings=settings, **chosen.analysis_kwargs())
        if one is not None:
            graph = project.graphs.get(one)
            if graph is None:
                raise OptionError("file must name a Dockerfile of the project")
            return render(
                graph, fmt if fmt != "multistage" else "json", view, settings=settings, runner=runner
            )
        if fmt == "multistage":
            if not project.conversions:
                raise OptionError(
                    "no builder pattern to convert: no script copies a file out of one build into another"
                )
            return project.conversions[0]["dockerfile"].encode("utf-8"), MULTISTAGE_TYPE
        return render_project(project, fmt, settings=settings, runner=runner)

    request_options = {**chosen.to_mapping(), "file": one, "view": view}
    key = cache_key(json.dumps(files, sort_keys=True), request_options, fmt, codec="project")
    body, mimetype = renders().cached(key, draw)
    response = Response(body, mimetype=mimetype)
    if fmt == "multistage" and one is None:
        response.headers["Content-Disposition"] = 'attachment; filename="Dockerfile.multistage"'
    return response
