"""SVG sanitiser: Graphviz's SVG in, an allowlisted SVG fragment safe to inline in HTML out.

Graphviz is not a safe renderer for untrusted input (it keeps ``javascript:`` links and copies
some attributes raw), so every SVG we serve passes through :func:`sanitize_svg`: it streams the
document through expat with the protections defusedxml applies (no DTD, no entity declarations,
no external entities), keeps only allowlisted elements and attributes, and writes them back
itself (no XML declaration, doctype, comments or processing instructions). Streaming instead of
building a tree keeps the sanitiser to a couple of milliseconds for moby's 59-stage drawing.
"""

from __future__ import annotations

import re
from xml.parsers import expat

from ..errors import RenderError

SVG_NS = "http://www.w3.org/2000/svg"

ALLOWED_ELEMENTS = frozenset(
    {
        "svg",
        "g",
        "title",
        "path",
        "polygon",
        "polyline",
        "ellipse",
        "circle",
        "rect",
        "line",
        "text",
        "tspan",
    }
)
"""Elements kept (with their allowlisted attributes)."""

UNWRAP_ELEMENTS = frozenset({"a"})
"""Elements dropped but whose children are kept: Graphviz wraps linked shapes in ``<a>``."""

ALLOWED_ATTRIBUTES = frozenset(
    {
        "id",
        "class",
        "transform",
        "viewBox",
        "width",
        "height",
        "x",
        "y",
        "x1",
        "y1",
        "x2",
        "y2",
        "cx",
        "cy",
        "rx",
        "ry",
        "r",
        "points",
        "d",
        "fill",
        "stroke",
        "stroke-width",
        "stroke-dasharray",
        "stroke-linecap",
        "stroke-linejoin",
        "font-family",
        "font-size",
        "font-weight",
        "font-style",
        "text-anchor",
        "opacity",
        "fill-opacity",
        "stroke-opacity",
        "preserveAspectRatio",
    }
)
"""Attributes kept (no namespace); everything else, including ``on*``, ``href`` and ``style``, goes.
``id`` and ``class`` are kept only when they hold plain names (ours and Graphviz's always do)."""

# Values that could run or fetch something once browsers normalise them (whitespace and controls
# inside "java\tscript:" are ignored by URL parsers, so they are removed before the check).
_BAD_VALUE = re.compile(r"javascript:|vbscript:|data:|url\(|expression\(|@import", re.IGNORECASE)
_STRIP_FOR_CHECK = re.compile(r"[\x00-\x20\x7f]+")
_NAME_VALUE = re.compile(r"^[A-Za-z0-9_ .:-]*$")
_NAME_ATTRIBUTES = frozenset({"id", "class"})
_DOCTYPE = re.compile(rb"<!DOCTYPE[^\[>]*>", re.IGNORECASE)


_NEEDS_QUOTING = re.compile(r'[&<>"\n\r\t]')


def _quote_attr(value: str) -> str:
    if not _NEEDS_QUOTING.search(value):
        return value
    return (
        value.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("\n", "&#10;")
        .replace("\r", "&#13;")
        .replace("\t", "&#9;")
    )


def _quote_text(value: str) -> str:
    if "&" not in value and "<" not in value and ">" not in value:
        return value
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _safe_value(value: str) -> bool:
    if ":" not in value and "(" not in value and "@" not in value:
        return True  # nothing a scheme, url() or @import could be made of
    return not _BAD_VALUE.search(_STRIP_FOR_CHECK.sub("", value))


_SVG_PREFIX = "{" + SVG_NS + "}"


_STYLE_ATTRIBUTES = frozenset(
    {
        "fill",
        "stroke",
        "stroke-width",
        "stroke-dasharray",
        "font-family",
        "font-size",
        "font-weight",
        "font-style",
        "text-anchor",
        "class",
        "opacity",
        "fill-opacity",
        "stroke-opacity",
    }
)
"""Attributes whose values repeat across a drawing: their checked form is cached."""
_STYLE_CACHE: dict[tuple[str, str], str | None] = {}
_STYLE_CACHE_MAX = 4096


def _attribute(key: str, value: str) -> str | None:
    """``key="value"`` quoted, or None when the attribute is not allowed or its value is unsafe."""
    cacheable = key in _STYLE_ATTRIBUTES
    if cacheable:
        cached = _STYLE_CACHE.get((key, value), _MISSING)
        if cached is not _MISSING:
            return cached
    piece = None
    if key in ALLOWED_ATTRIBUTES and _safe_value(value):
        if key not in _NAME_ATTRIBUTES or _NAME_VALUE.match(value):
            piece = f'{key}="{_quote_attr(value)}"'
    if cacheable and len(_STYLE_CACHE) < _STYLE_CACHE_MAX:
        _STYLE_CACHE[(key, value)] = piece
    return piece


_MISSING = object()
_PLAIN_ATTRIBUTES = ALLOWED_ATTRIBUTES - _NAME_ATTRIBUTES
_NEEDS_CHECK = re.compile(r'[&<>"\n\r\t:(@]')
"""Characters that send a value through the full check and quoting (:func:`_attribute`)."""


class _Writer:
    """expat handlers that write the allowlisted form of the document as it is read (no tree)."""

    def __init__(self) -> None:
        self.out: list[str] = []
        self.stack: list[str | None] = []  # per open element: its tag when written, else None
        self.skip = 0  # depth inside an element that is dropped with its whole subtree
        self.root_seen = False

    def start(self, name: str, attributes: list[str]) -> None:
        if self.skip:
            self.skip += 1
            return
        ns, _, tag = name.rpartition(" ")
        if not self.root_seen:
            self.root_seen = True
            if ns != SVG_NS or tag != "svg":
                raise RenderError("Graphviz wrote a document that is not SVG")
        if ns != SVG_NS:
            self.skip = 1  # other namespaces (XHTML in foreignObject, ...) and no namespace at all
            return
        if tag in UNWRAP_ELEMENTS:
            self.stack.append(None)
            return
        if tag not in ALLOWED_ELEMENTS:
            self.skip = 1
            return
        # Namespaced attribute names look like "ns name" and are never in the allowlist.
        kept = []
        for i in range(0, len(attributes), 2):
            key = attributes[i]
            value = attributes[i + 1]
            if key in _PLAIN_ATTRIBUTES and not _NEEDS_CHECK.search(value):
                kept.append((key, f'{key}="{value}"'))  # a number, a path or a colour
                continue
            piece = _attribute(key, value)
            if piece is not None:
                kept.append((key, piece))
        kept.sort()
        attrs = [f'xmlns="{SVG_NS}"'] if not self.stack else []
        attrs += [piece for _, piece in kept]
        self.out.append(f"<{tag} {' '.join(attrs)}>" if attrs else f"<{tag}>")
        self.stack.append(tag)

    def end(self, name: str) -> None:
        if self.skip:
            self.skip -= 1
            return
        tag = self.stack.pop()
        if tag is not None:
            self.out.append(f"</{tag}>")

    def text(self, data: str) -> None:
        if not self.skip and self.stack:
            self.out.append(_quote_text(data))


def _refuse(*_args) -> None:
    raise RenderError("Graphviz wrote SVG with a DTD or entity declaration")


class SvgSanitizer:
    """The sanitiser fed in pieces, so it can read Graphviz's output while dot is still writing.

    ``feed(chunk)`` as bytes arrive, then ``close()`` for the sanitised SVG. Same result as
    :func:`sanitize_svg` on the whole document.
    """

    _HEAD_LIMIT = 64 * 1024

    def __init__(self) -> None:
        self._writer = _Writer()
        self._head: bytearray | None = bytearray()  # bytes before the doctype is dealt with
        parser = expat.ParserCreate(namespace_separator=" ")
        parser.ordered_attributes = True
        parser.buffer_text = True
        parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        parser.StartElementHandler = self._writer.start
        parser.EndElementHandler = self._writer.end
        parser.CharacterDataHandler = self._writer.text
        parser.StartDoctypeDeclHandler = _refuse
        parser.EntityDeclHandler = _refuse
        parser.UnparsedEntityDeclHandler = _refuse
        parser.ExternalEntityRefHandler = _refuse
        self._parser = parser

    def _parse(self, data: bytes, final: bool) -> None:
        try:
            self._parser.Parse(data, final)
        except expat.ExpatError as exc:
            raise RenderError(f"Graphviz wrote SVG that could not be read: {type(exc).__name__}") from None

    def feed(self, chunk: bytes) -> None:
        """Read the next piece of Graphviz's output."""
        if self._head is None:
            self._parse(chunk, False)
            return
        # Graphviz writes a public SVG 1.1 doctype without an internal subset before the root: drop
        # exactly that once the root has started (any other DTD is refused by the parser).
        self._head += chunk
        if b"<svg" in self._head or len(self._head) > self._HEAD_LIMIT:
            head, self._head = bytes(self._head), None
            self._parse(_DOCTYPE.sub(b"", head, count=1), False)

    def close(self) -> bytes:
        """The sanitised SVG; :class:`RenderError` if the output was not a whole SVG document."""
        if self._head is not None:
            head, self._head = bytes(self._head), None
            self._parse(_DOCTYPE.sub(b"", head, count=1), False)
        self._parse(b"", True)
        if not self._writer.root_seen:
            raise RenderError("Graphviz wrote a document that is not SVG")
        return ("".join(self._writer.out) + "\n").encode("utf-8")


def sanitize_svg(svg: bytes) -> bytes:
    """Allowlisted SVG from Graphviz's ``svg`` bytes; :class:`RenderError` if it does not parse.

    The result starts with ``<svg xmlns=...>`` (no XML declaration), has no comments, doctype,
    scripts, styles, links, images, foreign objects, event handlers or ``href`` attributes, and is
    the same bytes for the same input. The document is streamed through expat with DTDs, entity
    declarations and external entities refused, so no tree is built.
    """
    sanitizer = SvgSanitizer()
    sanitizer.feed(svg)
    return sanitizer.close()
