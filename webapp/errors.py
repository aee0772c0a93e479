"""One error type per thing a user can get wrong; each carries the line it is about."""

from __future__ import annotations


class DockerfileError(Exception):
    """The input cannot be read as a Dockerfile at all (encoding, NUL bytes, size, limits)."""

    status = 422

    def __init__(self, message: str, line: int | None = None, column: int | None = None):
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column

    def __str__(self) -> str:
        if self.line is None:
            return self.message
        return f"{self.message} (line {self.line})"

    def to_dict(self) -> dict:
        """The JSON form used by the API: ``{"message", "line"}``."""
        return {"message": self.message, "line": self.line}


class UnreadableInput(DockerfileError):
    """Bytes that are not text: bad UTF-8 or NUL bytes."""

    status = 400


class InputTooLarge(DockerfileError):
    """The input passes a configured limit (bytes, stages, instructions)."""

    status = 413


class RequestRefused(ValueError):
    """A request refused as a whole (an option, a link), not for a line of the Dockerfile.

    ``status`` is the HTTP answer; subclasses set their own.
    """

    status = 400

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def to_dict(self) -> dict:
        """The JSON form used by the API: ``{"message", "line"}`` with no line."""
        return {"message": self.message, "line": None}


class RenderError(Exception):
    """Graphviz failed on DOT that we generated."""

    status = 503

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class RenderTimeout(RenderError):
    """Graphviz ran past its time limit and was killed."""


class RenderBusy(RenderError):
    """Too many renders are in flight."""
