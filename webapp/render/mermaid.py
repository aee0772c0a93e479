"""Graph -> Mermaid ``flowchart`` text that GitHub renders; same nodes and edges as the DOT.

Mermaid ids cannot safely hold ``-``, so our ids are written with ``_`` (``stage-3`` ->
``stage_3``). Edges are numbered in the order written, which is the order of ``linkStyle``.
"""

from __future__ import annotations

from ..model import Graph
from . import style
from .escape import escape_mermaid
from .scene import Node, Scene, build_scene

_DIRECTION = {"stages": "LR", "layers": "TB"}


def mermaid_id(node_id: str) -> str:
    """Our id as a Mermaid id."""
    return node_id.replace("-", "_")


def _label(lines: tuple[str, ...]) -> str:
    return "<br>".join(escape_mermaid(line) for line in lines)


def _node(node: Node, indent: str) -> str:
    opening, closing = style.MERMAID_SHAPE[node.kind]
    return f"{indent}{mermaid_id(node.id)}{opening}{_label(node.lines)}{closing}"


def scene_to_mermaid(scene: Scene) -> str:
    """Mermaid text for a scene (the legend is left out: Mermaid styles speak for themselves)."""
    nodes = [n for n in scene.nodes if n.cluster != "cluster_legend"]
    edges = [e for e in scene.edges if not e.id.startswith("legend-")]
    out = [
        "%% Dockerfile build graph (generated; user text is entity-escaped)",
        f"flowchart {_DIRECTION[scene.view]}",
    ]
    by_cluster: dict[str | None, list[Node]] = {}
    for node in nodes:
        by_cluster.setdefault(node.cluster, []).append(node)
    out.extend(_node(n, "  ") for n in by_cluster.get(None, []))
    for cluster in scene.clusters:
        if cluster.kind != "stage":
            continue
        out.append(f'  subgraph {cluster.id}["{_label(cluster.lines)}"]')
        out.extend(_node(n, "    ") for n in by_cluster.get(cluster.id, []))
        out.append("  end")
    link_styles: dict[str, list[int]] = {}
    for index, edge in enumerate(edges):
        arrow = style.MERMAID_ARROW[(edge.kind, "onbuild" in edge.states)]
        out.append(f"  {mermaid_id(edge.tail)} {arrow} {mermaid_id(edge.head)}")
        props = dict(style.MERMAID_LINK[edge.kind])
        for state in edge.states:
            props.update(style.MERMAID_LINK_STATE.get(state, {}))
        body = ",".join(f"{k}:{v}" for k, v in props.items())
        link_styles.setdefault(body, []).append(index)
    for name, body in style.MERMAID_CLASS.items():
        out.append(f"  classDef {name} {body}")
    for name in style.MERMAID_CLASS:
        members = [mermaid_id(n.id) for n in nodes if n.kind == name or name in n.states]
        if members:
            out.append(f"  class {','.join(members)} {name}")
    for body, indexes in sorted(link_styles.items(), key=lambda item: item[1][0]):
        out.append(f"  linkStyle {','.join(str(i) for i in indexes)} {body}")
    return "\n".join(out) + "\n"


def to_mermaid(graph: Graph, view: str = "stages") -> str:
    """Deterministic Mermaid ``flowchart`` text for ``graph`` in ``view``."""
    return scene_to_mermaid(build_scene(graph, view, legend=False))
