"""Graph -> DOT text: deterministic, with our ids, allowlisted attributes and escaped labels."""

from __future__ import annotations

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


class DotLabel(str):
    """A label already escaped by :func:`~webapp.render.escape.escape`; the only str a label takes."""


def dot_label(lines: tuple[str, ...] | list[str], *, left: bool = False) -> DotLabel:
    """Label lines (plain user text) as one escaped DOT label, centred or left-justified."""
    if left:
        return DotLabel("".join(escape(line) + _LEFT for line in lines))
    return DotLabel(_NEWLINE.join(escape(line) for line in lines))


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
    parts = []
    for key in sorted(values):
        value = values[key]
        if key == "label":
            if not isinstance(value, DotLabel):
                raise TypeError("DOT labels must come from dot_label()")
            parts.append(f'label="{value}"')
        else:
            parts.append(_attr(key, str(value)))
    return "[" + ", ".join(parts) + "]"


def _classes(kind: str, states: tuple[str, ...], legend: bool) -> str:
    """Our classes; Graphviz puts ``node``/``edge``/``cluster`` in front of them in SVG."""
    names = ["legend", kind] if legend else [kind]
    if kind == "stage" and not legend and "unreachable" not in states:
        names.append("reachable")
    names.extend(states)
    return " ".join(names)


def _node_line(node: Node, indent: str) -> str:
    values: dict[str, str] = dict(style.DOT_NODE[node.kind])
    for state in node.states:
        values.update(style.DOT_NODE_STATE[state])
    legend = node.cluster == "cluster_legend"
    if legend and node.kind != "legend-point":
        values["fontsize"] = "9"
        values["margin"] = "0.08,0.03"
    if node.kind != "legend-point":
        values["label"] = dot_label(node.lines)
    else:
        values["label"] = DotLabel("")
    values["id"] = node.id
    values["class"] = _classes(node.kind, node.states, legend)
    return f'{indent}"{node.id}" {_attrs(values)};'


def _edge_line(edge: SceneEdge, indent: str) -> str:
    values: dict[str, str] = dict(style.DOT_EDGE[edge.kind])
    for state in edge.states:
        values.update(style.DOT_EDGE_STATE[state])
    legend = edge.id.startswith("legend-")
    if edge.label is not None:
        values["label"] = dot_label((edge.label,))
    values["id"] = edge.id
    values["class"] = _classes(edge.kind, edge.states, legend)
    return f'{indent}"{edge.tail}" -> "{edge.head}" {_attrs(values)};'


def _cluster_lines(cluster: Cluster, nodes: list[Node]) -> list[str]:
    values: dict[str, str] = dict(style.DOT_CLUSTER[cluster.kind])
    for state in cluster.states:
        values.update(style.DOT_CLUSTER_STATE.get(state, {}))
    values["label"] = dot_label(cluster.lines, left=True)
    values["id"] = cluster.id.replace("_", "-")
    values["class"] = " ".join((cluster.kind, *cluster.states))
    out = [f'  subgraph "{cluster.id}" {{', f"    graph {_attrs(values)};"]
    out.extend(_node_line(n, "    ") for n in nodes)
    out.append("  }")
    return out


def scene_to_dot(scene: Scene) -> str:
    """DOT text for a scene."""
    lines = [
        "digraph build {",
        f"  graph {_attrs(style.DOT_GRAPH[scene.view])};",
        f"  node {_attrs(style.DOT_NODE_DEFAULT)};",
        f"  edge {_attrs(style.DOT_EDGE_DEFAULT)};",
    ]
    by_cluster: dict[str | None, list[Node]] = {}
    for node in scene.nodes:
        by_cluster.setdefault(node.cluster, []).append(node)
    lines.extend(_node_line(n, "  ") for n in by_cluster.get(None, []))
    for cluster in scene.clusters:
        lines.extend(_cluster_lines(cluster, by_cluster.get(cluster.id, [])))
    lines.extend(_edge_line(e, "  ") for e in scene.edges)
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_dot(graph: Graph, view: str = "stages") -> str:
    """Deterministic DOT text for ``graph`` in ``view`` (``stages`` or ``layers``)."""
    return scene_to_dot(build_scene(graph, view))
