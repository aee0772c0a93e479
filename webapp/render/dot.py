"""Graph -> DOT text: deterministic, with our ids, allowlisted attributes and escaped labels.

Each statement is ``"<id>" [<style>, class="…", id="…", label="…", width="…"]``: the style part
(kind and states from :mod:`.style`) is checked and formatted once per combination and reused;
only ids, classes, labels and widths are written per node.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from functools import lru_cache

from ..model import Graph
from . import style
from .escape import escape
from .scene import Cluster, Node, Scene, SceneEdge, build_scene

_SAFE_VALUE = re.compile(r"^[A-Za-z0-9 #.,:_/-]*$")
_NEWLINE = "\\n"  # DOT's centred line break, written by us between escaped lines
_LEFT = "\\l"  # DOT's left-justified line break
_LABELS = ("label", "xlabel")


class DotLabel(str):
    """A label already escaped by :func:`~webapp.render.escape.escape`; the only str a label takes."""


_escape_line = lru_cache(maxsize=8192)(escape)
""":func:`escape` of one label line, remembered: a file edited in the editor is drawn again and
again with most of its lines unchanged."""


def dot_label(lines: tuple[str, ...] | list[str], *, left: bool = False) -> DotLabel:
    """Label lines (plain user text) as one escaped DOT label, centred or left-justified."""
    if left:
        return DotLabel("".join(_escape_line(line) + _LEFT for line in lines))
    return DotLabel(_NEWLINE.join(map(_escape_line, lines)))


@lru_cache(maxsize=4096)
def _attr(key: str, value: str) -> str:
    """``key="value"`` for an allowlisted key and a safe value (style values repeat: cached)."""
    if key not in style.DOT_ALLOWED:
        raise ValueError(f"DOT attribute {key!r} is not allowlisted")
    if not _SAFE_VALUE.match(value):
        raise ValueError(f"unsafe DOT attribute value for {key}: {value!r}")
    return f'{key}="{value}"'


def _attrs(values: Mapping[str, str]) -> str:
    """``[a="1", b="2"]`` from allowlisted keys, sorted; labels must be :class:`DotLabel`."""
    return "[" + _attr_list(values) + "]"


def _attr_list(values: Mapping[str, str]) -> str:
    parts = []
    for key in sorted(values):
        value = values[key]
        if key in _LABELS:
            if not isinstance(value, DotLabel):
                raise TypeError("DOT labels must come from dot_label()")
            parts.append(f'{key}="{value}"')
        else:
            parts.append(_attr(key, str(value)))
    return ", ".join(parts)


def _safe(value: str) -> str:
    """``value`` when it may be written inside quotes as it is (ids and classes are ours)."""
    if not _SAFE_VALUE.match(value):
        raise ValueError(f"unsafe DOT attribute value: {value!r}")
    return value


_ASCII_WIDTHS = tuple(
    [style.TEXT_WIDTH_OTHER] * 32 + list(style.TEXT_WIDTHS) + [style.TEXT_WIDTH_OTHER]
)  # by byte value: controls and DEL count a full em (they are drawn as symbols)


_NON_ASCII = re.compile(r"[^\x00-\x7f]")


@lru_cache(maxsize=8192)  # lines repeat from one render of a file to the next
def _line_width(line: str) -> int:
    # one C-level pass over the ASCII bytes; the rare other characters are found by a regex
    total = sum(map(_ASCII_WIDTHS.__getitem__, line.encode("ascii", "ignore")))
    if not line.isascii():
        extra, other = style.TEXT_WIDTH_EXTRA, style.TEXT_WIDTH_OTHER
        total += sum(extra.get(c, other) for c in _NON_ASCII.findall(line))
    return total


def text_width(lines: tuple[str, ...] | list[str], fontsize: float) -> float:
    """Width in points of the widest line in ``fontsize``, from :data:`style.TEXT_WIDTHS`."""
    return max(map(_line_width, lines), default=0) * fontsize / 1000


@lru_cache(maxsize=256)
def _classes(kind: str, states: tuple[str, ...], legend: bool) -> str:
    """Our classes; Graphviz puts ``node``/``edge``/``cluster`` in front of them in SVG."""
    names = ["legend", kind] if legend else [kind]
    if kind == "stage" and not legend and "unreachable" not in states:
        names.append("reachable")
    names.extend(states)
    return _safe(" ".join(names))


def _square(values: dict[str, str]) -> None:
    """Drop ``rounded`` from ``values["style"]``: the SVG's corners are rounded afterwards
    (:func:`rounded_ids`, :func:`webapp.render.sanitize.round_boxes`), which costs dot less."""
    kept = [word for word in values["style"].split(",") if word != "rounded"]
    values["style"] = ",".join(kept) or "solid"


def _is_rounded(values: Mapping[str, str]) -> bool:
    return "rounded" in values.get("style", "").split(",")


@lru_cache(maxsize=256)
def _node_style(
    kind: str, states: tuple[str, ...], legend: bool, square: bool = False
) -> tuple[str, float, float, float]:
    """(checked style attributes, font size, padding in points, shape factor) of a node kind in
    these states; with ``square``, rounded corners are left to the SVG (see :func:`_square`)."""
    values: dict[str, str] = dict(style.DOT_NODE[kind])
    for state in states:
        values.update(style.DOT_NODE_STATE[state])
    if square and _is_rounded(values):
        _square(values)
    pad = style.TEXT_PAD["box"]
    if legend and kind != "legend-point":
        values["fontsize"] = "9"
        values["margin"] = "0.08,0.03"
        pad = style.TEXT_PAD["legend"]
    fontsize = float(values.get("fontsize", style.DOT_NODE_DEFAULT["fontsize"]))
    factor = style.SHAPE_FACTOR.get(values.get("shape", "box"), 1.0)
    return _attr_list(values), fontsize, pad, factor


def _node_line(node: Node, indent: str, min_text: float = 0.0, square: bool = False) -> str:
    legend = node.cluster == "cluster_legend"
    attrs, fontsize, pad, factor = _node_style(node.kind, node.states, legend, square)
    node_id = _safe(node.id)
    head = f'{indent}"{node_id}" [{attrs}, class="{_classes(node.kind, node.states, legend)}", id="{node_id}"'
    if node.kind == "legend-point":
        return head + ', label=""];'
    # Every label gets a width that holds it in the widest usual browser font (dot only widens).
    width = (max(text_width(node.lines, fontsize), min_text) + pad) * factor / 72
    return f'{head}, label="{dot_label(node.lines)}", width="{math.ceil(width * 100) / 100:g}"];'


@lru_cache(maxsize=256)
def _edge_style(kind: str, states: tuple[str, ...]) -> str:
    values: dict[str, str] = dict(style.DOT_EDGE[kind])
    for state in states:
        values.update(style.DOT_EDGE_STATE[state])
    return _attr_list(values)


def _edge_line(edge: SceneEdge, indent: str, node_ids: frozenset[str]) -> str:
    legend = edge.id.startswith("legend-")
    edge_id = _safe(edge.id)
    if edge.tail not in node_ids or edge.head not in node_ids:  # node ids were checked when written
        raise ValueError(f"edge {edge_id} joins a node the scene does not have")
    line = (
        f'{indent}"{edge.tail}" -> "{edge.head}" [{_edge_style(edge.kind, edge.states)}, '
        f'class="{_classes(edge.kind, edge.states, legend)}", id="{edge_id}"'
    )
    if edge.label is not None:
        # an xlabel is placed after layout: a plain edge label would make dot double every rank
        return f'{line}, xlabel="{dot_label((edge.label,))}"];'
    return line + "];"


def _cluster_lines(cluster: Cluster, nodes: list[Node], square: bool = False) -> list[str]:
    values: dict[str, str] = dict(style.DOT_CLUSTER[cluster.kind])
    for state in cluster.states:
        values.update(style.DOT_CLUSTER_STATE.get(state, {}))
    if square and _is_rounded(values):
        _square(values)
    values["label"] = dot_label(cluster.lines, left=True)
    values["id"] = cluster.id.replace("_", "-")
    values["class"] = " ".join((cluster.kind, *cluster.states))
    out = [f'  subgraph "{_safe(cluster.id)}" {{', f"    graph {_attrs(values)};"]
    # dot sizes the cluster's title with its narrow built-in metrics; the first node is made wide
    # enough to hold it, so the cluster around it is too
    fontsize = float(values.get("fontsize", style.DOT_GRAPH["layers"]["fontsize"]))
    title = text_width(cluster.lines, fontsize)
    for i, node in enumerate(nodes):
        out.append(_node_line(node, "    ", title if i == 0 and cluster.kind == "stage" else 0.0, square))
    out.append("  }")
    return out


def scene_to_dot(scene: Scene, *, square: bool = False) -> str:
    """DOT text for a scene.

    With ``square``, shapes styled ``rounded`` are drawn square by dot (whose rounded corners
    are long Bezier paths: about a tenth of its time on moby) and the caller rounds them in the
    SVG: the ids to round are :func:`rounded_ids`. The DOT format and PNG keep dot's own."""
    lines = [
        "digraph build {",
        f"  graph {_attrs(style.DOT_GRAPH[scene.view])};",
        f"  node {_attrs(style.DOT_NODE_DEFAULT)};",
        f"  edge {_attrs(style.DOT_EDGE_DEFAULT)};",
    ]
    by_cluster: dict[str | None, list[Node]] = {}
    for node in scene.nodes:
        by_cluster.setdefault(node.cluster, []).append(node)
    lines.extend(_node_line(n, "  ", 0.0, square) for n in by_cluster.get(None, []))
    for cluster in scene.clusters:
        lines.extend(_cluster_lines(cluster, by_cluster.get(cluster.id, []), square))
    node_ids = frozenset(n.id for n in scene.nodes)
    lines.extend(_edge_line(e, "  ", node_ids) for e in scene.edges)
    lines.append("}")
    return "\n".join(lines) + "\n"


def rounded_ids(scene: Scene) -> frozenset[str]:
    """The SVG ids of the nodes and clusters of ``scene`` whose style is ``rounded``: the shapes
    :func:`scene_to_dot` leaves square when asked to."""
    ids = {
        n.id
        for n in scene.nodes
        if _is_rounded({**style.DOT_NODE[n.kind], **_state_values(style.DOT_NODE_STATE, n.states)})
    }
    ids.update(
        c.id.replace("_", "-")
        for c in scene.clusters
        if _is_rounded({**style.DOT_CLUSTER[c.kind], **_state_values(style.DOT_CLUSTER_STATE, c.states)})
    )
    return frozenset(ids)


def _state_values(table: Mapping[str, Mapping[str, str]], states: tuple[str, ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    for state in states:
        out.update(table.get(state, {}))
    return out


def to_dot(graph: Graph, view: str = "stages") -> str:
    """Deterministic DOT text for ``graph`` in ``view`` (``stages`` or ``layers``)."""
    return scene_to_dot(build_scene(graph, view))
