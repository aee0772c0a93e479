"""Reading a render request: the Dockerfile and its options, from JSON or a (multipart) form.

Shared by the API, the no-JavaScript form of the editor page and the share views, so that every
door reads the same body the same way and validates it through :class:`~webapp.options.Options`.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, request

from .. import analyze
from ..errors import UnreadableInput, require_stages
from ..model import Graph
from ..nesting import MAX_JSON_DEPTH, too_deep
from ..options import OptionError, Options, check_format

FIELDS = ("dockerfile", "format")
"""Keys of a render request besides the options themselves."""


@dataclass(frozen=True, slots=True)
class RenderRequest:
    """What a client asked to render."""

    source: str | bytes
    """The Dockerfile: text from JSON or a form field, bytes from an uploaded file."""
    options: Options
    """Validated target, build args, platform, view and named build contexts."""
    format: str
    """One of :data:`webapp.options.FORMATS`."""

    @property
    def text(self) -> str:
        """The Dockerfile as text, for showing it back in the editor (invalid bytes replaced)."""
        if isinstance(self.source, bytes):
            return self.source.decode("utf-8", errors="replace")
        return self.source


def read_render_request(default_format: str = "json", *, require_source: bool = True) -> RenderRequest:
    """Read the current request's body; raise OptionError or UnreadableInput for a bad one."""
    if request.is_json:
        if too_deep(request.get_data(cache=True)):  # before json's recursion can overflow
            raise OptionError(f"the JSON body is nested more than {MAX_JSON_DEPTH} levels deep")
        data = request.get_json(silent=True)
        if not isinstance(data, dict):
            raise OptionError("the body must be a JSON object")
        source = data.get("dockerfile", "")
        if not isinstance(source, str):
            raise OptionError("dockerfile must be a string")
        mapping = {k: v for k, v in data.items() if k not in FIELDS}
        fmt = data.get("format") or default_format
    elif request.mimetype in ("multipart/form-data", "application/x-www-form-urlencoded"):
        source = _form_source()
        mapping = _form_options()
        fmt = request.form.get("format") or default_format
    else:
        raise OptionError("send JSON (application/json) or a form (multipart/form-data)")
    if not isinstance(fmt, str):
        raise OptionError("format must be a string")
    options = Options.from_mapping(mapping)
    if require_source and not (source.strip() if isinstance(source, str) else source.strip()):
        raise UnreadableInput("no Dockerfile given: send its text in the dockerfile field")
    return RenderRequest(source=source, options=options, format=check_format(fmt))


def _form_source() -> str | bytes:
    upload = request.files.get("dockerfile") or request.files.get("file")
    if upload is not None and upload.filename:
        return upload.read()
    return request.form.get("dockerfile", "")


def _form_options() -> dict:
    """Form fields as an options mapping; empty fields mean the default."""
    known = ("target", "platform", "view")
    lists = {"build_args": ("build_args", "build_arg"), "build_contexts": ("build_contexts", "build_context")}
    listed = {field for fields in lists.values() for field in fields}
    extra = sorted(set(request.form) - set(known) - listed - set(FIELDS) - {"example"})
    if extra:
        raise OptionError(f"unknown option: {extra[0]}")
    mapping: dict = {k: request.form[k].strip() for k in known if request.form.get(k, "").strip()}
    for option, fields in lists.items():  # one NAME=value a line (or a field each)
        pairs = []
        for field in fields:
            for value in request.form.getlist(field):
                pairs.extend(line.strip() for line in value.splitlines() if line.strip())
        if pairs:
            mapping[option] = pairs
    return mapping


def analyze_request(req: RenderRequest) -> Graph:
    """Analyse the request's Dockerfile with the app's settings; a file with no stage is a 422."""
    graph = analyze(
        req.source,
        settings=current_app.config["SETTINGS"],
        **req.options.analysis_kwargs(),
    )
    require_stages(graph)
    return graph
