"""SVG sanitiser: Graphviz's SVG in, an allowlisted SVG fragment safe to inline in HTML out.

Graphviz is not a safe renderer for untrusted input (it keeps ``javascript:`` links and copies
some attributes raw), so every SVG we serve passes through :func:`sanitize_svg`: it parses with
defusedxml (no DTD, no entities), keeps only allowlisted elements and attributes, and writes the
tree back itself (no XML declaration, doctype, comments or processing instructions).
"""

from __future__ import annotations

import re
from xml.etree.ElementTree import Element

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring

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


def _local(name: str) -> tuple[str | None, str]:
    if name.startswith("{"):
        ns, _, local = name[1:].partition("}")
        return ns, local
    return None, name


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


def _write(element: Element, out: list[str], root: bool) -> None:
    """Append the allowlisted form of ``element`` (and its tail-less subtree) to ``out``."""
    tag = element.tag
    if not isinstance(tag, str) or not tag.startswith(_SVG_PREFIX):
        return  # other namespaces (XHTML in foreignObject, ...) and no namespace at all
    tag = tag[len(_SVG_PREFIX) :]
    if tag in UNWRAP_ELEMENTS:
        opened = None
    elif tag in ALLOWED_ELEMENTS:
        # namespaced attribute names look like "{ns}name" and are never in the allowlist
        attrs = [f'xmlns="{SVG_NS}"'] if root else []
        for name, value in sorted(element.attrib.items()):
            if name not in ALLOWED_ATTRIBUTES or not _safe_value(value):
                continue
            if name in _NAME_ATTRIBUTES and not _NAME_VALUE.match(value):
                continue
            attrs.append(f'{name}="{_quote_attr(value)}"')
        opened = tag
        out.append(f"<{tag} {' '.join(attrs)}>" if attrs else f"<{tag}>")
    else:
        return
    if element.text:
        out.append(_quote_text(element.text))
    for child in element:
        _write(child, out, False)
        if child.tail:
            out.append(_quote_text(child.tail))
    if opened:
        out.append(f"</{opened}>")


def sanitize_svg(svg: bytes) -> bytes:
    """Allowlisted SVG from Graphviz's ``svg`` bytes; :class:`RenderError` if it does not parse.

    The result starts with ``<svg xmlns=...>`` (no XML declaration), has no comments, doctype,
    scripts, styles, links, images, foreign objects, event handlers or ``href`` attributes, and is
    the same bytes for the same input.
    """
    # Graphviz writes a public SVG 1.1 doctype without an internal subset; drop exactly that, then
    # refuse any DTD or entity declaration that is left.
    body = _DOCTYPE.sub(b"", svg, count=1)
    try:
        root = fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (ParseError, DefusedXmlException, ValueError) as exc:
        raise RenderError(f"Graphviz wrote SVG that could not be read: {type(exc).__name__}") from None
    ns, tag = _local(root.tag)
    if ns != SVG_NS or tag != "svg":
        raise RenderError("Graphviz wrote a document that is not SVG")
    out: list[str] = []
    _write(root, out, True)
    return ("".join(out) + "\n").encode("utf-8")
