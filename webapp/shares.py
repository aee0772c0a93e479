"""The share service: stored and stateless links, apart from Flask's request and response objects.

:class:`ShareService` (one per app, ``app.extensions["share"]``) owns the store (opened on first
use, tried again after a failure), checks and stores posted Dockerfiles, deletes with tokens,
decodes stateless links, parses share URLs, and draws shared diagrams through the app's
:class:`~webapp.web.rendering.Renders` (cache, admission, one render per key). Stored texts keep
their SVG/PNG in the store once drawn, so every instance serves them without ``dot``, and a
render cache shared through Redis (``REDIS_URL``) spares even the database read.

The blueprint in ``web/share.py`` only reads requests, calls this and shapes answers. Errors are
:class:`~webapp.errors.Refusal` subclasses; storage faults are
:class:`~webapp.store.StorageUnavailable` (503 "sharing is unavailable").
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from . import analyze, links
from . import secrets as secret_scan
from .cache import render_key
from .errors import DockerfileError, InputTooLarge, Refusal, UnreadableInput, require_stages
from .options import OptionError, Options, ProjectOptions
from .project import ProjectInputError, analyze_project
from .store import ShareStore, StoreError, open_store

log = logging.getLogger(__name__)

EXTENSIONS = {"svg": "svg", "png": "png", "json": "json", "dot": "dot", "mmd": "mermaid", "txt": "txt"}
"""File extension after a share path -> output format (``txt`` is the Dockerfile itself)."""

QUERY_OPTIONS = ("view", "target")
"""The only query parameters a share URL accepts; each is validated like any other option.
On a project link ``target`` is the project target (a bake group or target, a compose service)
and there is no ``view`` (a project is drawn in the stages view)."""

_QUERY_FIELDS = {
    Options.kind: {"view": "view", "target": "target"},
    ProjectOptions.kind: {"target": "project_target"},
}

STORED_CODEC = "s1"
"""The codec part of the cache key for stored shares (the text and options are the same for any id)."""
STORED_PROJECT_CODEC = "sp1"
"""The same for stored projects (a project's text never collides with a Dockerfile's key)."""

PROJECT_EXTENSIONS = ("svg", "png", "json", "dot", "mmd")
"""What a project link serves after its path (``.txt`` is one Dockerfile's text: a project has several)."""

KEPT_FORMATS = ("svg", "png")
"""Renders of stored texts kept in the store, so any instance serves them without ``dot``."""

TEXT_MIME = "text/plain; charset=utf-8"

_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")

Drawn = tuple[bytes, str]
"""``(body, mimetype)``."""

Shared = Options | ProjectOptions
"""The options of a share; their ``kind`` says what its text is (a Dockerfile, or a project's files
as one text: :func:`webapp.links.project_text`)."""


class ShareNotFound(Refusal, LookupError):
    """An unknown or deleted share id: both answer the same 404."""

    status = 404

    def __init__(self, message: str = "no such share (it never existed or was deleted)"):
        super().__init__(message)


class UnknownFormat(Refusal, LookupError):
    """A share path with an extension that is not one of :data:`EXTENSIONS`."""

    status = 404

    def __init__(self, message: str):
        super().__init__(message)


class WrongToken(Refusal, PermissionError):
    """A delete with a token that is not the share's."""

    status = 403

    def __init__(self, message: str = "wrong delete token for this share"):
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class Created:
    """A stored share, as answered once to its creator."""

    id: str
    token: str
    stateless_payload: str | None
    """The stateless link's payload when it is within the link limits, else None."""


def share_text(source: str | bytes) -> str:
    """The posted Dockerfile as text that can be stored and encoded: strict UTF-8, no BOM."""
    if isinstance(source, bytes):
        try:
            text = source.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = source[: exc.start].count(b"\n") + 1
            raise UnreadableInput("the Dockerfile is not valid UTF-8 text", line) from exc
    else:
        text = source
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:  # a lone surrogate from a JSON \ud800 escape
            line = text[: exc.start].count("\n") + 1
            raise UnreadableInput("the Dockerfile is not valid Unicode text", line) from exc
    return text[1:] if text.startswith("\ufeff") else text


def stored_codec(options: Shared) -> str:
    """The codec part of a stored share's cache key, by its kind."""
    return STORED_PROJECT_CODEC if options.kind == ProjectOptions.kind else STORED_CODEC


def check_extension(ext: str | None, options: Shared) -> None:
    """A project link has no ``.txt`` (a 404 like any unknown format)."""
    if ext is not None and options.kind == ProjectOptions.kind and ext not in PROJECT_EXTENSIONS:
        shown = ", ".join("." + e for e in PROJECT_EXTENSIONS)
        raise UnknownFormat(f"no such format .{ext} for a project (formats: {shown})")


def split_name(name: str) -> tuple[str, str | None]:
    """``"<id or payload>.<ext>"`` -> ``(stem, ext)``; no extension is the page (ext None)."""
    stem, dot, ext = name.rpartition(".")
    if not dot:
        return name, None
    if ext not in EXTENSIONS:
        raise UnknownFormat(f"no such format .{ext[:10]} (formats: {', '.join('.' + e for e in EXTENSIONS)})")
    return stem, ext


def with_query(options: Shared, args: Mapping[str, Sequence[str]]) -> Shared:
    """Apply the enumerated query options (``view``, ``target``; each at most once); others are 400."""
    if not args:
        return options
    fields = _QUERY_FIELDS[options.kind]
    unknown = sorted(set(args) - set(fields))
    if unknown:
        raise OptionError(f"unknown query option: {unknown[0][:40]} (allowed: {', '.join(fields)})")
    mapping = options.to_mapping()
    for key, field in fields.items():
        values = list(args.get(key, ()))
        if len(values) > 1:
            raise OptionError(f"query option {key} given more than once")
        if values:
            mapping[field] = values[0]
    return type(options).from_mapping(mapping)


def scan_secrets(source: str | bytes) -> dict:
    """``{"findings": [...], "redacted": text}`` for the likely-secret check before sharing."""
    text = share_text(source)
    findings = secret_scan.scan(text)
    return {
        "findings": [f.to_dict() for f in findings],
        "redacted": secret_scan.redact(text, findings) if findings else text,
    }


def scan_project_secrets(files: Mapping[str, str]) -> dict:
    """The same check over every file of a project: ``{"findings": [{"path", ...}], "redacted":
    {path: text}}``, the findings in path order."""
    findings: list[dict] = []
    redacted: dict[str, str] = {}
    for path, text in sorted(files.items()):
        found = scan_secrets(text)
        findings.extend({"path": path, **finding} for finding in found["findings"])
        redacted[path] = found["redacted"]
    return {"findings": findings, "redacted": redacted}


class ShareService:
    """Shares for one app: ``settings`` (the app's), its instance folder (a path, or a function
    giving it when the store is first opened), and a function giving the app's renders."""

    def __init__(
        self,
        settings: dict,
        instance_path: str | Callable[[], str],
        renders_of: Callable[[], object],
        runner_of: Callable[[], object] | None = None,
    ):
        self.settings = settings
        self.instance_path = instance_path
        self._renders_of = renders_of
        self._runner_of = runner_of  # the app's DotRunner (None: a one-off runner per drawing)
        self._store: ShareStore | None = None
        self._lock = threading.Lock()

    # --- the store ------------------------------------------------------------------------------

    def store(self) -> ShareStore:
        """The store, opened on first use (a failed open is tried again on the next call)."""
        with self._lock:
            if self._store is None:
                folder = self.instance_path() if callable(self.instance_path) else self.instance_path
                self._store = open_store(self.settings["DATABASE"], folder)
            return self._store

    def health(self) -> dict:
        """``{"backend", "ok", "error"}`` of the store, for ``/healthz``; never raises."""
        try:
            store = self.store()
        except StoreError as exc:
            return {"backend": None, "ok": False, "error": str(exc)}
        return store.health()

    @property
    def cache(self):
        """The app's render cache."""
        return self._renders_of().cache

    # --- stored links ---------------------------------------------------------------------------

    def check_size(self, source: str | bytes) -> None:
        """A posted Dockerfile (or project text) over ``SHARE_MAX_BYTES`` is a 413, before anything else."""
        size = len(source) if isinstance(source, bytes) else len(source.encode("utf-8", "surrogatepass"))
        limit = self.settings["SHARE_MAX_BYTES"]
        if size > limit:
            raise InputTooLarge(f"too large to share: {size} bytes (limit {limit} bytes)")

    def create(self, source: str | bytes | Mapping[str, str], options: Shared) -> Created:
        """Store a Dockerfile (it must be UTF-8 and analyse to at least one stage), or a project's
        files (checked paths; at least one Dockerfile with a stage); answered after commit."""
        text = self.checked_text(source, options)
        share_id, token = self.store().save(text, options)
        return Created(share_id, token, self.stateless_payload(text, options))

    def checked_text(self, source: str | bytes | Mapping[str, str], options: Shared) -> str:
        """The text to store of a Dockerfile or a project: within ``SHARE_MAX_BYTES`` (413), then
        analysed (a project's files as one text, :func:`webapp.links.project_text`)."""
        if options.kind == ProjectOptions.kind:
            text = links.project_text(source)
            self.check_size(text)
            self.require_project(source, options)
            return text
        self.check_size(source)
        text = share_text(source)
        self.require_stages(text, options)
        return text

    def require_project(self, files: Mapping[str, str], options: ProjectOptions) -> None:
        """A project must analyse (its target known) and have a Dockerfile with a stage (422).

        Parsing bake and compose files can take a good part of a second: the analysis holds a
        render slot, as drawing does (a busy worker answers 503 at once)."""
        with self._renders_of().gate.slot():
            project = analyze_project(files, settings=self.settings, **options.analysis_kwargs())
        if not any(graph.stages for graph in project.graphs.values()):
            raise DockerfileError("not a project to share: none of its Dockerfiles has a FROM instruction")

    def require_stages(self, text: str, options: Options) -> None:
        require_stages(analyze(text, settings=self.settings, **options.analysis_kwargs()))

    def load(self, share_id: str) -> tuple[str, Shared]:
        """A stored share's text and options; :class:`ShareNotFound` for unknown, deleted or malformed ids."""
        found = self.store().load(share_id) if _ID.match(share_id) else None
        if found is None:
            raise ShareNotFound()
        return found

    def delete(self, share_id: str, token: str) -> None:
        """Delete with the share's token: :class:`ShareNotFound` or :class:`WrongToken` otherwise."""
        self.load(share_id)
        if not self.store().delete(share_id, token):
            raise WrongToken()

    # --- stateless links ------------------------------------------------------------------------

    def stateless_payload(self, text: str, options: Shared) -> str | None:
        """The codec payload for ``text`` (a Dockerfile or a project's), or None when it is past the
        configured limits."""
        if len(text.encode("utf-8")) > self.settings["LINK_MAX_SOURCE"]:
            return None
        payload = links.encode(text, options)
        return payload if len(payload) <= self.settings["LINK_MAX_CHARS"] else None

    def stateless_path(self, source: str | bytes | Mapping[str, str], options: Shared) -> str:
        """``/d/<version>/<payload>`` of a Dockerfile or a project; 413 or 414 past the link limits."""
        text = links.project_text(source) if options.kind == ProjectOptions.kind else share_text(source)
        max_source, max_chars = self.settings["LINK_MAX_SOURCE"], self.settings["LINK_MAX_CHARS"]
        if len(text.encode("utf-8", "surrogatepass")) > max_source:
            raise links.LinkTooLarge(f"too large for a stateless link (limit {max_source} bytes)")
        payload = links.encode(text, options)
        if len(payload) > max_chars:
            raise links.LinkTooLong(f"the link would be longer than {max_chars} characters")
        return f"/d/{links.version_of(options)}/{payload}"

    def decode(self, version: str, payload: str) -> tuple[str, Shared]:
        """A stateless link's text and options (refusals as in docs/sharing.md)."""
        return links.decode(
            version,
            payload,
            max_chars=self.settings["LINK_MAX_CHARS"],
            max_source=self.settings["LINK_MAX_SOURCE"],
        )

    def open_shared(self, s: str | None, d: str | None) -> tuple[str, Shared] | None:
        """The editor's ``?s=<id>`` or ``?d=<version>/<payload>``, or None when absent or unusable
        (including storage faults: the editor then opens empty rather than failing)."""
        try:
            if s:
                return self.load(s)
            if d:
                version, _, payload = d.partition("/")
                return self.decode(version, payload)
        except (ShareNotFound, links.LinkError, OptionError, DockerfileError, ProjectInputError):
            return None
        except StoreError as exc:
            log.warning("opening ?s=%s in the editor: %s", s, exc)
            return None
        return None

    # --- drawing --------------------------------------------------------------------------------

    def render_key(self, text: str, options: Shared, codec: str, fmt: str) -> str:
        """The render cache key, also the strong ETag."""
        from .render import RENDERER_VERSION, graphviz_version

        return render_key(
            renderer=RENDERER_VERSION,
            graphviz=graphviz_version(),
            codec=codec,
            text=text,
            options=options.to_mapping(),
            fmt=fmt,
        )

    def render(
        self, text: str, options: Shared, fmt: str, key: str, *, codec: str, on_miss: Callable[[], None]
    ) -> Drawn:
        """The drawing of a shared text (a Dockerfile or a project): from the render cache, from the
        store's kept renders (stored links), or drawn once. ``on_miss`` (the rate limit of uncached
        renders) runs only before real work."""
        renders = self._renders_of()
        keep = codec in (STORED_CODEC, STORED_PROJECT_CODEC) and fmt in KEPT_FORMATS
        if keep:
            hit = renders.cache.get(key)
            if hit is not None:
                return hit
            kept = self._kept(key)
            if kept is not None:
                renders.cache.put(key, *kept)
                return kept

        def draw() -> Drawn:
            runner = self._runner_of() if self._runner_of is not None else None
            if options.kind == ProjectOptions.kind:
                from .render.project import render_project

                project = analyze_project(
                    links.project_files(text), settings=self.settings, **options.analysis_kwargs()
                )
                drawn = render_project(project, fmt, settings=self.settings, runner=runner)
            else:
                from .render import render

                graph = analyze(text, settings=self.settings, **options.analysis_kwargs())
                require_stages(graph)
                drawn = render(graph, fmt, options.view, settings=self.settings, runner=runner)
            if keep:
                self._keep(text, key, drawn)
            return drawn

        return renders.cached(key, draw, on_miss=on_miss)

    def _kept(self, key: str) -> Drawn | None:
        try:
            return self.store().load_render(key)
        except StoreError as exc:  # a kept render is an optimisation: draw instead
            log.warning("kept render unavailable: %s", exc)
            return None

    def _keep(self, text: str, key: str, drawn: Drawn) -> None:
        try:
            self.store().save_render(text, key, drawn[0], drawn[1])
        except StoreError as exc:
            log.warning("render not kept: %s", exc)


def storage_health(app) -> dict:
    """``{"backend", "ok", "error"}`` of the app's share store, for ``/healthz``; never raises."""
    service = app.extensions.get("share")
    if service is None:
        return {"backend": None, "ok": True, "error": None}
    return service.health()
