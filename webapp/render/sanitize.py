"""SVG sanitiser: Graphviz's SVG in, an allowlisted SVG fragment safe to inline in HTML out.

Graphviz is not a safe renderer for untrusted input (it keeps ``javascript:`` links and copies
some attributes raw), so every SVG we serve passes through :func:`sanitize_svg`. It parses with
lxml hardened as defusedxml would be (no DTD loaded, no entity expanded, no network; any
doctype left after Graphviz's own public one is refused), keeps only allowlisted elements (links
are unwrapped, their content kept) and allowlisted attributes with safe values, and writes the
tree back without XML declaration, doctype, comments or processing instructions.

lxml parses in C while dot is still writing. What it writes back is then read once more, in C,
by :data:`PLAIN`: a grammar of the markup lxml writes (every ``<`` opens a tag, values are
quoted and escaped) restricted to allowlisted tags, allowlisted attribute names and values
without ``:``, ``(``, ``@`` or ``&`` (``transform`` may hold only its numeric functions). Output
that matches holds nothing the per-element judgement could remove, so it is the answer. Output
that does not match (anything unusual: a link, a namespaced attribute, a colon in a value) is
sanitised again from the bytes dot wrote, judging every element and attribute in Python
(:meth:`SvgSanitizer.close_tree`) and stripping what fails with lxml's strip functions. Both
ways give the same bytes for the same input; the grammar only decides how much work it takes.
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


_PLAIN_VALUE = rb'="[^"<>:(@&]*"'
_PLAIN_ATTRIBUTE = (
    rb"(?:(?:"
    + _alternatives(ALLOWED_ATTRIBUTES - _NAME_ATTRIBUTES - {"transform"}, _COMMON_ATTRIBUTES)
    + rb")"
    + _PLAIN_VALUE
    + rb'|(?:id|class)="[A-Za-z0-9_ .-]*"'
    + rb'|transform="(?:(?:scale|rotate|translate)\([-+0-9. e]*\) ?)*")'
)
_PLAIN_TAG = rb"(?:" + _alternatives(ALLOWED_ELEMENTS, _COMMON_ELEMENTS) + rb")"
PLAIN = re.compile(
    rb'<svg xmlns="http://www\.w3\.org/2000/svg"(?: ' + _PLAIN_ATTRIBUTE + rb")*>"
    rb"(?:[^<]+|</" + _PLAIN_TAG + rb">|<" + _PLAIN_TAG + rb"(?: " + _PLAIN_ATTRIBUTE + rb")*/?>)*"
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
:func:`_scan_elements` would remove. Anything else is not matched, and judged."""


class SvgSanitizer:
    """The sanitiser fed in pieces, so lxml parses Graphviz's output while dot is writing it.

    ``feed(chunk)`` as bytes arrive; ``close()`` then returns the sanitised SVG: the tree lxml
    built, with links unwrapped, written back and read by :data:`PLAIN`; only when that does not
    match is every element judged (see the module's notes). Same result as :func:`sanitize_svg`
    on the whole document. ``rounded`` names the groups whose box outlines :func:`round_boxes`
    rounds as their polygons are read (the parser hands Python those polygons and nothing else).

    With ``early``, a piece that ends the way Graphviz ends its SVG (``</svg>`` and a newline)
    finishes the work at once (checking, writing out, with ``legend`` placed above), while dot
    is still exiting; :meth:`close` then returns that result. Should anything arrive after it,
    or the early finish fail, :meth:`close` does all of the work again over every piece fed, so
    the result and the errors are those of a sanitiser without ``early``.
    """

    _HEAD_LIMIT = 64 * 1024
    _END = b"</svg>\n"

    def __init__(self, legend=None, *, early: bool = False, rounded: frozenset[str] = frozenset()) -> None:
        if rounded:  # events for the polygons only: Python never touches the other elements
            self._parser = etree.XMLPullParser(events=("start",), tag=_SVG + "polygon", **_PARSER_OPTIONS)
        else:
            self._parser = etree.XMLParser(**_PARSER_OPTIONS)
        self._head: bytearray | None = bytearray()  # bytes before Graphviz's doctype is dealt with
        self._legend = legend
        self._rounded = rounded  # ids of groups whose boxes get round corners (round_boxes)
        self._early = early
        self._pieces: list[bytes] = []  # everything fed, for judging again from the start
        self._finished = False  # an early finish was tried
        self._result: bytes | None = None  # its result, while nothing came after it
        self._closed = False  # the parser has been closed (the tree is ours to change)

    def _round_started(self) -> None:
        """Round the boxes among the polygons read since the last call (while dot still writes)."""
        if self._rounded:
            round_boxes([el for _, el in self._parser.read_events()], self._rounded)

    def _feed(self, data: bytes) -> None:
        try:
            self._parser.feed(data)
        except etree.XMLSyntaxError as exc:
            raise RenderError(f"Graphviz wrote SVG that could not be read: {type(exc).__name__}") from None
        self._round_started()

    def feed(self, chunk: bytes) -> None:
        """Read the next piece of Graphviz's output."""
        self._pieces.append(bytes(chunk))
        if self._finished:  # more after the end: close() starts over
            self._result = None
            return
        if self._head is None:
            self._feed(chunk)
        else:
            # Graphviz writes a public SVG 1.1 doctype without an internal subset before the root:
            # drop exactly that once the root has started (any other doctype is refused).
            self._head += chunk
            if b"<svg" in self._head or len(self._head) > self._HEAD_LIMIT:
                head, self._head = bytes(self._head), None
                self._feed(_DOCTYPE.sub(b"", head, count=1))
        if self._early and chunk.endswith(self._END):
            self._finished = True
            try:
                self._result = self._write(self._legend)
            except Exception:  # noqa: BLE001 - close() does it again and raises it there
                self._result = None

    def _root(self):
        """The parsed document's root, once: refused unless it is a whole SVG document."""
        if self._head is not None:
            head, self._head = bytes(self._head), None
            self._feed(_DOCTYPE.sub(b"", head, count=1))
        self._closed = True
        try:
            root = self._parser.close()
        except etree.XMLSyntaxError as exc:
            raise RenderError(f"Graphviz wrote SVG that could not be read: {type(exc).__name__}") from None
        tree = root.getroottree()
        if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
            raise RenderError("Graphviz wrote SVG with a DTD or entity declaration")
        if root.tag != _SVG + "svg":
            raise RenderError("Graphviz wrote a document that is not SVG")
        self._round_started()  # any polygons read by close()
        return root

    def _again(self) -> SvgSanitizer:
        """A sanitiser fed everything this one was fed, untouched by any finish."""
        again = SvgSanitizer(rounded=self._rounded)
        for piece in self._pieces:
            again.feed(piece)
        return again

    def _write(self, legend) -> bytes:
        root = self._root()
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
        return _serialise(self._again().close_tree(legend))

    def close(self, legend=None) -> bytes:
        """The sanitised SVG; :class:`RenderError` if the output was not a whole SVG document.

        ``legend`` (by default the one given when made) is the root of another sanitised drawing
        (see :func:`parse_sanitized`) to put above this one, in the same canvas (:func:`place_above`).
        """
        legend = self._legend if legend is None else legend
        if self._finished:
            if self._result is not None and legend is self._legend:
                return self._result
            return self._again().close(legend)  # the ordinary way, over everything fed
        return self._write(legend)

    def close_tree(self, legend=None):
        """The sanitised drawing as an lxml root element, every element judged in Python."""
        if self._closed:  # a finish already changed the tree: judge a fresh parse
            return self._again().close_tree(legend)
        root = self._root()
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


def _canvas(root) -> tuple[float, float]:
    _, _, width, height = (float(v) for v in root.get("viewBox", "0 0 0 0").replace(",", " ").split())
    return width, height


def place_above(root, legend) -> None:
    """Put the drawing of ``legend`` (an SVG root made by Graphviz, sanitised) above ``root``'s.

    The canvas grows to hold both; ``root``'s graph group moves down by the legend's height and
    its white background grows to the whole canvas; the legend's graph group is copied in with
    the id ``legend-graph`` and the class ``legend`` (its title and background left out).
    """
    graph = root.find(_SVG + "g")
    legend_graph = legend.find(_SVG + "g")
    if graph is None or legend_graph is None:
        return
    main_w, main_h = _canvas(root)
    legend_w, legend_h = _canvas(legend)
    width, height = max(main_w, legend_w), main_h + legend_h
    match = _TRANSLATE.search(graph.get("transform", ""))
    if match is None:
        return
    tx, ty = float(match.group(1)), float(match.group(2)) + legend_h
    graph.set("transform", f"scale(1 1) rotate(0) translate({tx:g} {ty:g})")
    background = graph.find(_SVG + "polygon")
    if background is not None:  # the canvas in the graph group's coordinates (y grows upwards)
        x0, x1, top, bottom = -tx, width - tx, -ty, height - ty
        background.set(
            "points", f"{x0:g},{bottom:g} {x0:g},{top:g} {x1:g},{top:g} {x1:g},{bottom:g} {x0:g},{bottom:g}"
        )
    copy = deepcopy(legend_graph)
    copy.set("id", "legend-graph")
    copy.set("class", "legend")
    for child in list(copy)[:2]:  # Graphviz's <title> and background polygon come first
        if child.tag in (_SVG + "title", _SVG + "polygon"):
            copy.remove(child)
    copy.tail = "\n"
    root.append(copy)
    root.set("width", f"{round(width)}pt")
    root.set("height", f"{round(height)}pt")
    root.set("viewBox", f"0.00 0.00 {width:.2f} {height:.2f}")
