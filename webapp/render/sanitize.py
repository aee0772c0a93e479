"""SVG sanitiser: Graphviz's SVG in, an allowlisted SVG fragment safe to inline in HTML out.

Graphviz is not a safe renderer for untrusted input (it keeps ``javascript:`` links and copies
some attributes raw), so every SVG we serve passes through :func:`sanitize_svg`. It parses with
lxml hardened as defusedxml would be (no DTD loaded, no entity expanded, no network; any
doctype left after Graphviz's own public one is refused), keeps only allowlisted elements (links
are unwrapped, their content kept) and allowlisted attributes with safe values, and writes the
tree back without XML declaration, doctype, comments or processing instructions.

Three ways lead there, the cheapest that applies first; all give the same bytes, and each
answer is proved by :data:`PLAIN`, a grammar of the markup lxml writes (every ``<`` opens a tag,
values are quoted and escaped) restricted to allowlisted tags, allowlisted attribute names and
values without ``:``, ``(``, ``@`` or ``&`` (``transform`` may hold only its numeric functions):
text that matches holds nothing the per-element judgement could remove.

1. Graphviz's own drawing (its prolog, one group per node, edge and cluster) is made safe as
   text while dot writes it (:class:`_GraphvizText`): each piece that ends a group gets its
   comments dropped, the character references Graphviz uses written as characters, its boxes
   rounded, and must match the grammar; no tree is built. Every corpus drawing goes this way.
2. Anything else, or anything the first way is unsure of, is parsed by lxml, links unwrapped,
   written back and matched against the grammar (:func:`_tree_text`).
3. What does not match (a link's attributes, a namespaced attribute, a colon in a value) is
   parsed again and every element and attribute judged in Python (:func:`_judged_tree`), lxml's
   strip functions removing what fails.

No repetition in these grammars is ambiguous (a run of text must end at a ``<``), so text that
does not match fails in linear time. (They use no possessive quantifiers: Python 3.11.2, Debian
bookworm's, gets ``(?:-[^-]++)*+`` wrong.)
"""

from __future__ import annotations

import re
from copy import deepcopy
from functools import lru_cache

from lxml import etree

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


_SVG = "{" + SVG_NS + "}"
_KEPT_TAGS = frozenset(_SVG + t for t in ALLOWED_ELEMENTS | UNWRAP_ELEMENTS)
_UNWRAP_TAGS = tuple(_SVG + t for t in UNWRAP_ELEMENTS)


def _scan(root) -> tuple[set[str], set[str], list]:
    """(every element tag, every attribute name not allowlisted, the ``(element, name)`` pairs of
    allowlisted attributes whose value may not stay) of a parsed document: one tight pass."""
    tags: set[str] = set()
    names: set[str] = set()
    unsafe: list = []
    _scan_elements(root.iter(etree.Element), tags, names, unsafe)
    return tags, names, unsafe


def _scan_elements(elements, tags: set[str], names: set[str], unsafe: list) -> None:
    """Add to ``tags``, ``names`` and ``unsafe`` (see :func:`_scan`) what ``elements`` hold."""
    allowed, name_attributes, name_value = ALLOWED_ATTRIBUTES, _NAME_ATTRIBUTES, _NAME_VALUE.match
    for el in elements:
        tags.add(el.tag)
        for key, value in el.items():
            if key not in allowed:
                names.add(key)
            elif ":" in value or "(" in value or "@" in value:  # see _safe_value
                if not _safe_value(value) or (key in name_attributes and not name_value(value)):
                    unsafe.append((el, key))
            elif key in name_attributes and not name_value(value):
                unsafe.append((el, key))


def _safe_value(value: str) -> bool:
    if ":" not in value and "(" not in value and "@" not in value:
        return True  # nothing a scheme, url() or @import could be made of
    return not _BAD_VALUE.search(_STRIP_FOR_CHECK.sub("", value))


_PARSER_OPTIONS = {
    "resolve_entities": False,
    "load_dtd": False,
    "no_network": True,
    "remove_comments": True,
    "remove_pis": True,
    "huge_tree": False,
    "collect_ids": False,
}
"""lxml hardened as defusedxml would be: no DTD loaded, no entity expanded, nothing fetched."""


_COMMON_ATTRIBUTES = ("fill", "stroke", "x", "y", "text-anchor", "font-family", "font-size", "d", "points")
"""Graphviz's most frequent attribute names, tried first by :data:`PLAIN` (order is speed only)."""
_COMMON_ELEMENTS = ("text", "g", "title", "path", "polygon", "polyline", "ellipse")


def _alternatives(names, first) -> bytes:
    ordered = [n for n in first if n in names] + sorted(set(names) - set(first))
    return b"|".join(re.escape(n.encode()) for n in ordered)


_PLAIN_VALUE = rb'="[^"<>:(@&\x00-\x1f]*"'
_PLAIN_ATTRIBUTE = (
    rb"(?:(?:"
    + _alternatives(ALLOWED_ATTRIBUTES - _NAME_ATTRIBUTES - {"transform"}, _COMMON_ATTRIBUTES)
    + rb")"
    + _PLAIN_VALUE
    + rb'|(?:id|class)="[A-Za-z0-9_ .-]*"'
    + rb'|transform="(?:(?:scale|rotate|translate)\([-+0-9. e]*\) ?)*")'
)
_PLAIN_TAG = rb"(?:" + _alternatives(ALLOWED_ELEMENTS, _COMMON_ELEMENTS) + rb")"
_PLAIN_TEXT = rb"[^<>\x00-\x08\x0b\x0c\x0e-\x1f\r]+(?![^<])"
"""A whole run of text as lxml writes it: ``>`` is escaped, no control character but tab and
newline (XML has no others, and reads a carriage return as a newline)."""
PLAIN = re.compile(
    rb'<svg xmlns="http://www\.w3\.org/2000/svg"(?: ' + _PLAIN_ATTRIBUTE + rb")*>"
    rb"(?:"
    + _PLAIN_TEXT
    + rb"|</"
    + _PLAIN_TAG
    + rb">|<"
    + _PLAIN_TAG
    + rb"(?: "
    + _PLAIN_ATTRIBUTE
    + rb")*/?>)*"
)
"""lxml's serialisation of an SVG root holding only what the sanitiser keeps unchanged.

lxml writes every element as ``<name attr="value" ...>`` (or ``/>``) and ``</name>``, with one
space before each attribute, ``<`` and ``&`` escaped in text and ``<``, ``>``, ``&`` and ``"``
escaped in values, and no comment, processing instruction or CDATA once the parser removed
them. So every ``<`` opens a tag, and output that matches this whole has only allowlisted
elements in the SVG namespace (a prefix or an ``xmlns`` anywhere but the root does not match;
an element without namespace, which lxml writes like an SVG one, is looked for in the tree),
only allowlisted attributes without namespace, ``id`` and ``class`` values that are plain names,
and no value that holds ``:``, ``(``, ``@`` or an escape (``transform`` aside, which may hold
only ``scale``, ``rotate`` and ``translate`` of numbers): nothing the judgement of
:func:`_scan_elements` would remove. Anything else is not matched, and judged. A run of text
must end at a ``<`` (or the end): it cannot be cut in two, so a text that does not match fails
in linear time (a plain ``(?:[^<]+|...)*`` tries every way to cut a run of text before it gives
up: exponential in the run's length)."""


class SvgSanitizer:
    """The sanitiser fed in pieces while dot is writing.

    ``feed(chunk)`` as bytes arrive; ``close()`` then returns the sanitised SVG, the same bytes
    as :func:`sanitize_svg` on the whole document. ``rounded`` names the groups whose box
    outlines :func:`round_boxes` rounds; ``legend`` is a drawing to put above (see :meth:`close`).

    Graphviz's own SVG takes the short way (:class:`_GraphvizText`): each piece is made safe as
    text as soon as it holds whole groups, so little is left when dot exits. Anything else, or
    anything the short way is not sure of, is parsed by lxml at the end: the tree written back
    and proved plain (:data:`PLAIN`), or else judged element by element (:meth:`close_tree`).

    With ``early``, a piece that ends the way Graphviz ends its SVG (``</svg>`` and a newline)
    finishes the work at once (legend placed above), while dot is still exiting; :meth:`close`
    then returns that result. Should anything arrive after it, or the early finish fail,
    :meth:`close` does all of the work again over every piece fed, so the result and the errors
    are those of a sanitiser without ``early``.
    """

    _END = b"</svg>\n"

    def __init__(self, legend=None, *, early: bool = False, rounded: frozenset[str] = frozenset()) -> None:
        self._legend = legend
        self._rounded = rounded  # ids of groups whose boxes get round corners (round_boxes)
        self._early = early
        self._pieces: list[bytes] = []  # everything fed
        self._text: _GraphvizText | None = _GraphvizText(legend, rounded)  # None once given up
        self._finished = False  # an early finish was tried
        self._result: bytes | None = None  # its result, while nothing came after it

    def feed(self, chunk: bytes) -> None:
        """Take the next piece of Graphviz's output."""
        chunk = bytes(chunk)
        self._pieces.append(chunk)
        if self._finished:  # more after the end: close() starts over
            self._result = None
            return
        if self._text is not None and not self._text.feed(chunk):
            self._text = None
        if self._early and chunk.endswith(self._END):
            self._finished = True
            try:
                self._result = self._write(self._legend)
            except Exception:  # noqa: BLE001 - close() does it again and raises it there
                self._result = None

    def _write(self, legend) -> bytes:
        if self._text is not None and legend is self._legend:
            out = self._text.close()
            if out is not None:
                return out
        return _tree_text(self._pieces, legend, self._rounded)

    def close(self, legend=None) -> bytes:
        """The sanitised SVG; :class:`RenderError` if the output was not a whole SVG document.

        ``legend`` (by default the one given when made) is the root of another sanitised drawing
        (see :func:`parse_sanitized`) to put above this one, in the same canvas (:func:`place_above`).
        """
        legend = self._legend if legend is None else legend
        if self._finished:
            if self._result is not None and legend is self._legend:
                return self._result
            return _tree_text(self._pieces, legend, self._rounded)  # the ordinary way, over everything fed
        return self._write(legend)

    def close_tree(self, legend=None):
        """The sanitised drawing as an lxml root element, every element judged in Python."""
        return _judged_tree(self._pieces, legend, self._rounded)


_HEAD_LIMIT = 64 * 1024
"""Bytes read before the root element at most, while looking for it and for Graphviz's doctype."""


def _parse(pieces: list[bytes], rounded: frozenset[str]):
    """The root of the document made of ``pieces`` (boxes in ``rounded`` groups rounded as their
    polygons are read); :class:`RenderError` unless it is a whole SVG document."""
    if rounded:  # events for the polygons only: Python never touches the other elements
        parser = etree.XMLPullParser(events=("start",), tag=_SVG + "polygon", **_PARSER_OPTIONS)
    else:
        parser = etree.XMLParser(**_PARSER_OPTIONS)
    head: bytearray | None = bytearray()  # bytes before Graphviz's doctype is dealt with

    def feed(data: bytes) -> None:
        try:
            parser.feed(data)
        except etree.XMLSyntaxError as exc:
            raise RenderError(f"Graphviz wrote SVG that could not be read: {type(exc).__name__}") from None
        if rounded:
            round_boxes([el for _, el in parser.read_events()], rounded)

    for piece in pieces:
        if head is None:
            feed(piece)
            continue
        # Graphviz writes a public SVG 1.1 doctype without an internal subset before the root:
        # drop exactly that once the root has started (any other doctype is refused).
        head += piece
        if b"<svg" in head or len(head) > _HEAD_LIMIT:
            feed(_DOCTYPE.sub(b"", bytes(head), count=1))
            head = None
    if head is not None:
        feed(_DOCTYPE.sub(b"", bytes(head), count=1))
    try:
        root = parser.close()
    except etree.XMLSyntaxError as exc:
        raise RenderError(f"Graphviz wrote SVG that could not be read: {type(exc).__name__}") from None
    tree = root.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise RenderError("Graphviz wrote SVG with a DTD or entity declaration")
    if root.tag != _SVG + "svg":
        raise RenderError("Graphviz wrote a document that is not SVG")
    if rounded:
        round_boxes([el for _, el in parser.read_events()], rounded)  # any read by close()
    return root


def _tree_text(pieces: list[bytes], legend, rounded: frozenset[str]) -> bytes:
    """The sanitised SVG of ``pieces`` through lxml: the tree written back and proved plain, or
    else judged element by element."""
    root = _parse(pieces, rounded)
    etree.strip_tags(root, *_UNWRAP_TAGS)
    etree.cleanup_namespaces(root)
    if legend is not None:
        place_above(root, legend)
    out = etree.tostring(root, encoding="utf-8", xml_declaration=False)
    # lxml writes an element without namespace inside the SVG one as if it were SVG (the
    # xmlns="" is gone once namespaces are cleaned up): the one thing its text does not show
    if PLAIN.fullmatch(out) and next(root.iter("{}*"), None) is None:
        return out + b"\n"
    # not plainly safe: judge every element, over a fresh parse of what dot wrote
    return _serialise(_judged_tree(pieces, legend, rounded))


def _judged_tree(pieces: list[bytes], legend, rounded: frozenset[str]):
    root = _parse(pieces, rounded)
    tags, names, unsafe = _scan(root)
    for el, key in unsafe:  # allowlisted attributes whose value may not stay go first
        del el.attrib[key]
    # Attributes not allowlisted go (namespaced names never are); then elements not allowlisted
    # go with their content, and links are unwrapped (their content stays).
    if names:
        etree.strip_attributes(root, *sorted(names))
    dropped = [tag for tag in tags if tag not in _KEPT_TAGS]
    if dropped:
        etree.strip_elements(root, *sorted(dropped), with_tail=False)
    etree.strip_tags(root, *_UNWRAP_TAGS)
    etree.cleanup_namespaces(root)
    if legend is not None:
        place_above(root, legend)
    return root


def _serialise(root) -> bytes:
    return etree.tostring(root, encoding="utf-8", xml_declaration=False) + b"\n"


_GRAPHVIZ_HEAD = re.compile(
    rb'<\?xml version="1\.0" encoding="UTF-8" standalone="no"\?>\n'
    rb'<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1\.1//EN"\n "http://www\.w3\.org/Graphics/SVG/1\.1/DTD/svg11\.dtd">\n'
    rb"(?:<!--[^-]*(?:-[^-]+)*-->\n)*"
    rb'<svg width="([0-9.]+pt)" height="([0-9.]+pt)"\n viewBox="([0-9. ]+)" '
    rb'xmlns="http://www\.w3\.org/2000/svg" xmlns:xlink="http://www\.w3\.org/1999/xlink">\n'
    rb'<g id="graph0" class="graph" transform="([^"<>&]*)">\n'
    rb"<title>([^<&]*)</title>\n"
    rb'<polygon fill="white" stroke="transparent" points="([^"<>&]*)"/>\n'
)
"""How Graphviz 2.x starts its SVG, up to the graph's background: the short way's way in."""
_GRAPHVIZ_HEAD_LIMIT = 16 * 1024
"""Bytes read at most while looking for :data:`_GRAPHVIZ_HEAD` (Graphviz's is under 1 KiB)."""
_COMMENT = re.compile(rb"<!--[^-]*(?:-[^-]+)*-->")
_REFERENCES = ((b"&#45;", b"-"), (b"&quot;", b'"'), (b"&#39;", b"'"))
"""The character references Graphviz writes that lxml writes back as the character itself."""
_OTHER_REFERENCE = re.compile(rb"&(?!amp;|lt;|gt;)")
_GROUP_START = re.compile(rb'<g id="([^"]*)"')
_BOX_START = re.compile(rb'(?: class="[^"<>]*")?>\n<title>[^<]*</title>\n')
"""What Graphviz writes between a group's id and its outline: the rest of the start tag, the title."""
_POLYGON = re.compile(
    rb'<polygon ((?:(?!points=)[a-z-]+="[^"]*" )*)points="([^"]*)"((?: [a-z-]+="[^"]*")*)/>'
)
_PLAIN_CONTENT = re.compile(PLAIN.pattern[PLAIN.pattern.index(rb"(?:" + _PLAIN_TEXT) :])
""":data:`PLAIN` without the root's start tag: any run of its text and tags."""


@lru_cache(maxsize=32)
def _legend_text(legend) -> bytes | None:
    """The legend's group as :func:`place_above` puts it in a drawing, as lxml writes it there;
    None if that is not plain."""
    holder = etree.Element(_SVG + "svg", nsmap={None: SVG_NS})
    copy = _legend_copy(legend)
    if copy is None:
        return None
    holder.append(copy)
    text = etree.tostring(holder, encoding="utf-8")
    start = text.index(b">") + 1
    body = text[start : -len(b"</svg>")]
    return body if _PLAIN_CONTENT.fullmatch(body) else None


class _GraphvizText:
    """Graphviz's own SVG made safe as text, a piece at a time, without a tree.

    Graphviz writes a fixed prolog, root and background (:data:`_GRAPHVIZ_HEAD`), then one group
    per node, edge and cluster, and closes the graph and the root. Each piece that ends a group
    is made what lxml would write for it: comments dropped, the character references Graphviz
    uses written as characters, boxes of ``rounded`` groups rounded (:func:`_rounded_rect`), and
    is kept only if :data:`PLAIN` takes it (root and legend too). Any piece that is otherwise,
    or any doubt (another character reference, a polygon written otherwise in a rounded group,
    a background the legend cannot be placed over), gives up: the caller then uses lxml.
    The pieces are proved one by one: runs of plain text and tags joined are such a run too.
    """

    def __init__(self, legend, rounded: frozenset[str]) -> None:
        self._legend = legend
        self._rounded = frozenset(i.encode("utf-8") for i in rounded)
        self._buffer = bytearray()  # what has arrived and is not yet made safe
        self._out: list[bytes] | None = None  # safe pieces, once the head has been read
        self._unclosed = 2  # elements open after the head: the root and the graph's group

    def feed(self, chunk: bytes) -> bool:
        """Take a piece; False when this is not a drawing this way can make safe."""
        buffer = self._buffer
        seen = max(0, len(buffer) - 4)  # no group ends before this: only the new bytes are searched
        buffer += chunk
        if self._out is None:
            match = _GRAPHVIZ_HEAD.match(buffer)
            if match is None:  # not all there yet, or not Graphviz's
                return len(buffer) < _GRAPHVIZ_HEAD_LIMIT
            head = self._head(*match.groups())
            if head is None:
                return False
            self._out = [head]
            del buffer[: match.end()]
            seen = 0
        cut = buffer.rfind(b"</g>\n", seen) + 5
        if cut > 4:
            piece = self._content(bytes(buffer[:cut]))
            if piece is None:
                return False
            self._out.append(piece)
            del buffer[:cut]
        return True

    def close(self) -> bytes | None:
        """The safe SVG, or None when the drawing did not end as Graphviz ends it."""
        if self._out is None or not self._buffer.endswith(b"</svg>\n"):
            return None
        rest = self._content(bytes(self._buffer[: -len(b"</svg>\n")]))
        if rest is None:
            return None
        legend = b""
        if self._legend is not None:
            legend = _legend_text(self._legend)
            if legend is None:
                return None
        # each piece was read as a run of tags and text; that they nest is the parser's business
        # in the tree way: here, at least that every element closes (see _content)
        if self._unclosed != 1:  # the root's start tag is in the head, its end tag added here
            return None
        return b"".join((*self._out, rest, legend, b"</svg>\n"))

    def _head(self, width, height, viewbox, transform, title, points) -> bytes | None:
        if self._legend is not None:
            try:
                placed = _placement(viewbox.decode("ascii"), transform.decode("ascii"), self._legend)
            except UnicodeDecodeError:
                return None
            if placed is None:
                return None
            width, height, viewbox, transform, points = (v.encode() for v in placed)
        head = (
            b'<svg xmlns="http://www.w3.org/2000/svg" width="%s" height="%s" viewBox="%s">\n'
            b'<g id="graph0" class="graph" transform="%s">\n<title>%s</title>\n'
            b'<polygon fill="white" stroke="transparent" points="%s"/>\n'
        ) % (width, height, viewbox, transform, title, points)
        if not title.isascii():
            try:
                title.decode("utf-8")
            except UnicodeDecodeError:
                return None
        return head if PLAIN.fullmatch(head) else None

    def _content(self, piece: bytes) -> bytes | None:
        if not piece.isascii():
            try:
                piece.decode("utf-8")
            except UnicodeDecodeError:  # lxml refuses the document: so does the tree way
                return None
        if b"<!--" in piece:
            piece = _COMMENT.sub(b"", piece)
        for reference, character in _REFERENCES:
            if reference in piece:
                piece = piece.replace(reference, character)
        if b"&" in piece and _OTHER_REFERENCE.search(piece):
            return None
        if self._rounded:
            piece = self._round(piece)
            if piece is None:
                return None
        if not _PLAIN_CONTENT.fullmatch(piece):
            return None
        # elements opened and not closed: n written <x/> and m written <x>...</x> hold n + 2m "<"
        # (every "<" of a plain text opens a tag), n "/>" and m "</"
        self._unclosed += piece.count(b"<") - piece.count(b"/>") - 2 * piece.count(b"</")
        return piece

    def _round(self, piece: bytes) -> bytes | None:
        """``piece`` with the boxes of each rounded group rounded, as :func:`round_boxes` does it
        in a tree (every rectangle polygon of the group: a target's box has two); None when a
        polygon there is not written as Graphviz writes one or may not be the group's own child,
        or a group's id holds a reference."""
        out: list[bytes] = []
        at = 0
        for group in _GROUP_START.finditer(piece):
            if group.group(1) not in self._rounded:
                if b"&" in group.group(1):  # an id written with a reference: the tree compares it read
                    return None
                continue
            end = piece.find(b"</g>", group.end())
            if end < 0:
                return None
            first = piece.find(b"<polygon ", group.end(), end)
            # the group's own outline only where Graphviz puts it: right after the group's title,
            # then each further outline on the next line (a target's box has two)
            if first >= 0 and not _BOX_START.fullmatch(piece, group.end(), first):
                return None
            while first >= 0:
                polygon = _POLYGON.match(piece, first)
                if polygon is None:
                    return None
                d = _rounded_rect(polygon.group(2).decode("ascii", "replace"))
                if d is not None:
                    before, after = polygon.group(1).rstrip(b" "), polygon.group(3)
                    attributes = (b" " + before if before else b"") + after
                    out += (piece[at:first], b"<path", attributes, b' d="', d.encode(), b'"/>')
                    at = polygon.end()
                first = piece.find(b"<polygon ", polygon.end(), end)
                if first >= 0 and first != polygon.end() + 1:
                    return None
        if not out:
            return piece
        out.append(piece[at:])
        return b"".join(out)


def sanitize_svg(svg: bytes) -> bytes:
    """Allowlisted SVG from Graphviz's ``svg`` bytes; :class:`RenderError` if it does not parse.

    The result starts with ``<svg xmlns=...>`` (no XML declaration), has no comments, doctype,
    scripts, styles, links, images, foreign objects, event handlers or ``href`` attributes, and is
    the same bytes for the same input.
    """
    sanitizer = SvgSanitizer()
    sanitizer.feed(svg)
    return sanitizer.close()


def parse_sanitized(svg: bytes):
    """The root element of SVG this module already sanitised (our own output: parsed as safely)."""
    return etree.fromstring(svg, etree.XMLParser(**_PARSER_OPTIONS))


CORNER_RADIUS = 12.0
"""Graphviz's radius for ``rounded`` corners, in points (a third of the shorter side when that
is less)."""


def _rounded_rect(points: str) -> str | None:
    """The path of ``points`` (an axis-aligned rectangle as Graphviz writes a box's polygon) with
    rounded corners drawn as Graphviz draws them (a cubic curve per corner, its control points
    half way along the corner); None for any other polygon."""
    corners = points.split()
    if len(corners) != 5 or corners[0] != corners[4]:
        return None
    (ax, _, ay), (bx, _, by), (cx, _, cy), (dx, _, dy) = (c.partition(",") for c in corners[:4])
    # a rectangle's corners in turn: each side is vertical or horizontal, the sides alternate
    if not (
        (ax == bx and by == cy and cx == dx and dy == ay) or (ay == by and bx == cx and cy == dy and dx == ax)
    ):
        return None
    try:
        x0, x1 = sorted((float(ax), float(cx)))
        y0, y1 = sorted((float(ay), float(cy)))
    except ValueError:
        return None
    if x0 == x1 or y0 == y1:
        return None
    r = min(CORNER_RADIUS, (x1 - x0) / 3, (y1 - y0) / 3)
    # relative moves: four numbers per box; the corners are one string per radius (most are 12)
    top_right, bottom_right, bottom_left, top_left = _corners(r)
    width, height = f"{x1 - x0 - 2 * r:.2f}", f"{y1 - y0 - 2 * r:.2f}"
    return (
        f"M{x0 + r:.2f},{y0:.2f}h{width}{top_right}v{height}{bottom_right}"
        f"h-{width}{bottom_left}v-{height}{top_left}z"
    )


@lru_cache(maxsize=64)
def _corners(r: float) -> tuple[str, str, str, str]:
    """The corner curves of a box of corner radius ``r``, each relative to where it starts, in the
    order a path going round the box clockwise (on screen) meets them."""
    h, s = f"{r / 2:.2f}", f"{r:.2f}"
    return (
        f"c{h},0 {s},{h} {s},{s}",  # top right: along the top, then down
        f"c0,{h} -{h},{s} -{s},{s}",  # bottom right: down, then left along the bottom
        f"c-{h},0 -{s},-{h} -{s},-{s}",  # bottom left: left, then up
        f"c0,-{h} {h},-{s} {s},-{s}",  # top left: up, then right along the top
    )


def round_boxes(elements, ids: frozenset[str]) -> None:
    """Round the corners of the box outlines among ``elements``: each ``<polygon>`` drawing a
    rectangle in a group whose id is in ``ids`` becomes a ``<path>`` with the same attributes, as
    Graphviz draws ``rounded`` shapes (see :func:`webapp.render.dot.scene_to_dot`'s ``square``)."""
    polygon, path = _SVG + "polygon", _SVG + "path"
    for shape in elements:
        if shape.tag != polygon:
            continue
        group = shape.getparent()
        if group is None or group.get("id") not in ids:
            continue
        d = _rounded_rect(shape.get("points", ""))
        if d is not None:
            shape.tag = path
            del shape.attrib["points"]
            shape.set("d", d)


_TRANSLATE = re.compile(r"translate\(([-0-9.]+)[ ,]([-0-9.]+)\)")


def _canvas(viewbox: str) -> tuple[float, float]:
    _, _, width, height = (float(v) for v in viewbox.replace(",", " ").split())
    return width, height


def _placement(viewbox: str, transform: str, legend) -> tuple[str, str, str, str, str] | None:
    """Where a drawing (its root's ``viewBox``, its graph group's ``transform``) goes below the
    drawing of ``legend``: the new ``width``, ``height``, ``viewBox``, graph ``transform`` and
    background ``points``; None when the legend cannot be placed (nothing then changes)."""
    if legend.find(_SVG + "g") is None:
        return None
    match = _TRANSLATE.search(transform)
    if match is None:
        return None
    try:
        main_w, main_h = _canvas(viewbox)
        legend_w, legend_h = _canvas(legend.get("viewBox", "0 0 0 0"))
        tx, ty = float(match.group(1)), float(match.group(2)) + legend_h
    except ValueError:  # not four numbers, or a translation that is not two
        return None
    width, height = max(main_w, legend_w), main_h + legend_h
    # the canvas in the graph group's coordinates (y grows upwards)
    x0, x1, top, bottom = -tx, width - tx, -ty, height - ty
    return (
        f"{round(width)}pt",
        f"{round(height)}pt",
        f"0.00 0.00 {width:.2f} {height:.2f}",
        f"scale(1 1) rotate(0) translate({tx:g} {ty:g})",
        f"{x0:g},{bottom:g} {x0:g},{top:g} {x1:g},{top:g} {x1:g},{bottom:g} {x0:g},{bottom:g}",
    )


def _legend_copy(legend):
    """The legend's graph group as it goes into another drawing: id ``legend-graph``, class
    ``legend``, without Graphviz's title and background; None if it has no graph group."""
    legend_graph = legend.find(_SVG + "g")
    if legend_graph is None:
        return None
    copy = deepcopy(legend_graph)
    copy.set("id", "legend-graph")
    copy.set("class", "legend")
    for child in list(copy)[:2]:  # Graphviz's <title> and background polygon come first
        if child.tag in (_SVG + "title", _SVG + "polygon"):
            copy.remove(child)
    copy.tail = "\n"
    return copy


def place_above(root, legend) -> None:
    """Put the drawing of ``legend`` (an SVG root made by Graphviz, sanitised) above ``root``'s.

    The canvas grows to hold both; ``root``'s graph group moves down by the legend's height and
    its white background grows to the whole canvas; the legend's graph group is copied in with
    the id ``legend-graph`` and the class ``legend`` (its title and background left out).
    """
    graph = root.find(_SVG + "g")
    if graph is None:
        return
    placed = _placement(root.get("viewBox", "0 0 0 0"), graph.get("transform", ""), legend)
    if placed is None:
        return
    width, height, viewbox, transform, points = placed
    graph.set("transform", transform)
    background = graph.find(_SVG + "polygon")
    if background is not None:
        background.set("points", points)
    root.append(_legend_copy(legend))
    root.set("width", width)
    root.set("height", height)
    root.set("viewBox", viewbox)
