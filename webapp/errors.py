"""One error system: every refusal is a :class:`Refusal` carrying its HTTP status, message, line
and, only for "busy right now", a ``Retry-After``.

The web app answers every :class:`Refusal` from one handler (JSON under ``/api/``, plain text for
raw link formats, HTML for pages); the CLI prints ``str(exc)``. Each family below sets its status.
"""

from __future__ import annotations


class Refusal(Exception):
    """A request refused with a clear answer; never a 500.

    ``status`` is the HTTP answer, ``line`` the 1-based Dockerfile line it is about (or None),
    ``retry_after`` the seconds to wait before trying again, set only when the service is busy
    (503): a refusal that would fail again the same way has none. ``cacheable`` says the same
    input always fails the same way, so the answer may be cached like a successful render, for
    ``cache_seconds`` (None: the cache's default).
    """

    status = 400
    retry_after: int | None = None
    cacheable = True
    cache_seconds: float | None = None

    def __init__(
        self,
        message: str,
        line: int | None = None,
        *,
        status: int | None = None,
        retry_after: int | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.line = line
        if status is not None:
            self.status = status
        if retry_after is not None:
            self.retry_after = retry_after

    def __str__(self) -> str:
        if self.line is None:
            return self.message
        return f"{self.message} (line {self.line})"

    def to_dict(self) -> dict:
        """The JSON form used by the API: ``{"message", "line"}``."""
        return {"message": self.message, "line": self.line}


class DockerfileError(Refusal):
    """The input cannot be read as a Dockerfile at all (encoding, NUL bytes, size, limits)."""

    status = 422

    def __init__(self, message: str, line: int | None = None, column: int | None = None):
        super().__init__(message, line)
        self.column = column


def require_stages(graph) -> None:
    """Refuse an analysed Dockerfile without a stage: a :class:`DockerfileError` (422) that names
    its first error and that error's line, if any."""
    if graph.stages:
        return
    first = next((d for d in graph.diagnostics if d.severity.value == "error"), None)
    message = "not a Dockerfile: it has no FROM instruction"
    if first is not None:
        message = f"{message} ({first.message})"
    raise DockerfileError(message, first.line if first else None)


class UnreadableInput(DockerfileError):
    """Bytes that are not text: bad UTF-8 or NUL bytes."""

    status = 400


class InputTooLarge(DockerfileError):
    """The input passes a configured limit (bytes, stages, instructions)."""

    status = 413


class RequestRefused(Refusal, ValueError):
    """A request refused as a whole (an option, a link, a host), not for a line of the Dockerfile.

    ``status`` is the HTTP answer; subclasses set their own.
    """

    status = 400

    def __init__(self, message: str):
        super().__init__(message)


class HostRefused(RequestRefused):
    """A ``Host`` header outside the configured public URL (``WEBAPP_PUBLIC_URL``)."""


class RateLimited(Refusal):
    """Too many requests from one client in a minute: 429 with ``Retry-After``."""

    status = 429
    cacheable = False

    def __init__(self, message: str, retry_after: int):
        super().__init__(message, retry_after=max(1, int(retry_after)))


class RenderError(Refusal):
    """Graphviz could not draw this graph (it failed, ran out of memory, or wrote bad SVG).

    The same graph would fail the same way: 422, no ``Retry-After``, cached like a render.
    """

    status = 422


class RenderTooLarge(RenderError):
    """The graph is too large or dense to draw; refused before Graphviz runs."""


class RenderTimeout(RenderError):
    """Graphviz ran past its time limit and was killed: too slow to draw, not worth retrying.

    Cached for a minute only: on a machine busy with other renders a graph may time out that
    would not on a quiet one."""

    cache_seconds = 60.0


class RenderUnavailable(RenderError):
    """Graphviz is not installed or could not be started: the service is not ready (503)."""

    status = 503
    cacheable = False


class RenderBusy(RenderError):
    """Every render slot of this worker is taken: busy right now, try again shortly (503)."""

    status = 503
    retry_after = 2
    cacheable = False


class ExpansionTooLarge(InputTooLarge):
    """Variable expansion passes a limit: a value's length or a Dockerfile's expansion work.

    ``word`` is the word being expanded, so the analysis can name its line.
    """

    status = 413
    word: str | None = None


class ExpansionTooDeep(DockerfileError):
    """``${...}`` nested inside ``${...}`` deeper than the limit."""

    status = 422
    word: str | None = None


class LayoutTooLarge(RenderTooLarge):
    """A drawing whose layout would cost ``dot`` too much (``render/budget.py``); refused before
    Graphviz runs. Permanent for this input: 422, the message says what to draw instead."""

    status = 422
