"""Graph -> scene: the nodes, edges and clusters every format draws, before any syntax.

The scene holds our ids, kinds, state classes and raw (unescaped) label lines; :mod:`.dot` and
:mod:`.mermaid` turn it into text. Ids are ours only:

* nodes: ``stage-<i>``, ``img-<k>``, ``context``, ``url-<k>``, ``git-<k>``, ``scratch``,
  ``invalid-<k>``; in the layers view ``ins-<stage>-from`` and ``ins-<stage>-<k>``;
* edges: ``edge-<n>`` where ``n`` is the index in ``graph.edges``; ``chain-<stage>-<k>`` for the
  order of instructions in the layers view;
* clusters: ``cluster_stage_<i>`` (layers view) and ``cluster_legend``, whose parts are
  ``legend-*``; in SVG a cluster's id has ``-`` for ``_`` (``cluster-stage-<i>``).

:data:`SVG_IDS` states the SVG ids the editor page finds things by; the page receives it from the
server (``data-svg-ids``), so the pattern is written in this one place.

``k`` numbers external sources in order of first use, so the same graph always gives the same ids.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass

from ..model import Edge, Graph, Instruction, Severity, SourceKind, Stage
from .escape import shorten

VIEWS = ("stages", "layers")
SVG_IDS = {
    "stage": "stage-{stage}",
    "stage_box": "cluster-stage-{stage}",
    "from": "ins-{stage}-from",
    "instruction": "ins-{stage}-{k}",
    "edge": "edge-{n}",
    "legend": "cluster-legend",
}
"""The SVG ids of a stage (stages view), its box (layers view), its FROM and k-th instruction
(layers view), graph edge n and the legend: the contract between this renderer and the page."""
LINE_WIDTH = 60
"""Longest single label line before it is cut (per line; the escape functions cap the total)."""
INSTRUCTION_WIDTH = 44
"""Longest instruction label in the layers view (the full text is in the JSON and the editor)."""


@dataclass(frozen=True, slots=True)
class Node:
    """One box in the drawing."""

    id: str
    """Our id (never user text)."""
    kind: str
    """A key of the style tables: stage, image, context, url, git, scratch, invalid, from, layer,
    meta, legend, legend-point."""
    lines: tuple[str, ...]
    """Label lines as plain text (user text included, not yet escaped)."""
    states: tuple[str, ...] = ()
    """State classes in style order: target, unreachable, warning, error."""
    cluster: str | None = None
    """Id of the cluster the node sits in, if any."""


@dataclass(frozen=True, slots=True)
class SceneEdge:
    """One arrow in the drawing."""

    id: str
    """``edge-<n>`` for graph edges, ``chain-*`` / ``legend-*`` for our own."""
    tail: str
    """Node id the arrow starts from."""
    head: str
    """Node id the arrow points to."""
    kind: str
    """from, copy, add, mount or chain."""
    states: tuple[str, ...] = ()
    """State classes in style order: onbuild, unreachable, warning, error."""
    label: str | None = None
    """Edge label as plain text (legend only)."""


@dataclass(frozen=True, slots=True)
class Cluster:
    """A box around nodes: a stage in the layers view, or the legend."""

    id: str
    """``cluster_stage_<i>`` or ``cluster_legend`` (Graphviz needs the ``cluster`` prefix)."""
    kind: str
    """stage or legend."""
    lines: tuple[str, ...]
    """Title lines as plain text."""
    states: tuple[str, ...] = ()
    """State classes: target, unreachable."""


@dataclass(frozen=True, slots=True)
class Scene:
    """Everything to draw, in drawing order."""

    view: str
    """stages or layers."""
    nodes: tuple[Node, ...]
    """Nodes, in a fixed order."""
    edges: tuple[SceneEdge, ...]
    """Edges, in a fixed order (graph edges by index, then our own)."""
    clusters: tuple[Cluster, ...]
    """Clusters, in a fixed order."""

    @property
    def size(self) -> int:
        """Nodes plus edges: what the render refusal cap counts."""
        return len(self.nodes) + len(self.edges)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def short_image(ref: str) -> str:
    """An image reference as people write it: ``docker.io/library/golang:1.22`` -> ``golang:1.22``."""
    for prefix in ("docker.io/library/", "docker.io/"):
        if ref.startswith(prefix) and len(ref) > len(prefix):
            return ref[len(prefix) :]
    return ref


def split_ref(ref: str) -> tuple[str, ...]:
    """A URL or git reference as label lines: ``https://`` dropped, query or fragment on a second line."""
    shown = ref[len("https://") :] if ref.startswith("https://") and len(ref) > len("https://") else ref
    for mark in ("?", "#"):
        head, sep, tail = shown.partition(mark)
        if sep and head:
            return (head, sep + tail)
    return (shown,)


class _Diagnostics:
    """Diagnostics looked up by line and by stage: each look-up is a few binary searches (a
    scan of every diagnostic per stage and per edge grew as their product)."""

    def __init__(self, graph: Graph):
        items = [d for d in graph.diagnostics if d.severity in (Severity.ERROR, Severity.WARNING)]
        self.lines = {
            severity: sorted(d.line for d in items if d.severity is severity and d.line is not None)
            for severity in (Severity.WARNING, Severity.ERROR)
        }
        self.stages: dict[int, set[Severity]] = {}
        for d in items:
            if d.stage is not None:
                self.stages.setdefault(d.stage, set()).add(d.severity)

    def _between(self, severity: Severity, first: int, last: int) -> bool:
        lines = self.lines[severity]
        return bool(lines) and bisect_left(lines, first) < bisect_right(lines, last)

    def _states(self, first: int, last: int, extra: set[Severity] = frozenset()) -> tuple[str, ...]:
        out = []  # a warning first, then an error
        for severity, name in ((Severity.WARNING, "warning"), (Severity.ERROR, "error")):
            if severity in extra or self._between(severity, first, last):
                out.append(name)
        return tuple(out)

    def for_stage(self, stage: Stage) -> tuple[str, ...]:
        """States of the diagnostics of ``stage``, or on a line of it."""
        return self._states(stage.line, stage.end_line, self.stages.get(stage.index, frozenset()))

    def for_lines(self, first: int, last: int) -> tuple[str, ...]:
        """States of the diagnostics on lines ``first`` to ``last``."""
        return self._states(first, last)


class _Sources:
    """External source nodes (images, context, URLs, git, scratch, invalid), numbered by first use."""

    def __init__(self) -> None:
        self.ids: dict[tuple[str, str], str] = {}
        self.nodes: dict[str, list] = {}
        self.counts = {"img": 0, "url": 0, "git": 0, "invalid": 0}

    def node_id(self, edge: Edge) -> str:
        """The node id for an edge's non-stage source, created on first use."""
        src = edge.source
        kind = src.kind
        if kind is SourceKind.CONTEXT:
            key, prefix, lines, style = ("context", ""), "context", ("build context",), "context"
        elif kind is SourceKind.SCRATCH:
            key, prefix, lines, style = ("scratch", ""), "scratch", ("scratch",), "scratch"
        elif kind is SourceKind.IMAGE:
            ref = src.ref or src.text or "?"
            key, prefix, lines, style = ("img", ref), "img", (short_image(ref),), "image"
        elif kind is SourceKind.URL:
            ref = src.ref or src.text or "?"
            key, prefix, lines, style = ("url", ref), "url", split_ref(ref), "url"
        elif kind is SourceKind.GIT:
            ref = src.ref or src.text or "?"
            key, prefix, lines, style = ("git", ref), "git", split_ref(ref), "git"
        else:
            text = src.text if src.text is not None else "?"
            key, prefix, lines, style = ("invalid", text), "invalid", ("invalid source", text), "invalid"
        if key not in self.ids:
            if prefix in self.counts:
                node_id = f"{prefix}-{self.counts[prefix]}"
                self.counts[prefix] += 1
            else:
                node_id = prefix
            self.ids[key] = node_id
            self.nodes[node_id] = [style, tuple(shorten(x, LINE_WIDTH) for x in lines), False]
        node_id = self.ids[key]
        return node_id

    def mark_used_by_reachable(self, node_id: str) -> None:
        self.nodes[node_id][2] = True

    def build(self) -> list[Node]:
        return [
            Node(node_id, style, lines, () if used else ("unreachable",))
            for node_id, (style, lines, used) in self.nodes.items()
        ]


def _stage_lines(stage: Stage, is_target: bool) -> tuple[str, ...]:
    base = stage.base
    base_text = base.resolved if base.resolved else base.text
    counts = f"{_plural(len(stage.instructions), 'instruction')} \u00b7 {_plural(stage.layer_count, 'layer')}"
    if stage.onbuild_inherited:
        counts += f" \u00b7 +{stage.onbuild_inherited} ONBUILD"
    lines = [stage.display_name, f"FROM {base_text}", counts]
    if stage.platform:
        lines.append(f"platform {stage.platform}")
    if is_target:
        lines.append("\u2605 target")
    return tuple(shorten(x, LINE_WIDTH) for x in lines)


def _stage_states(stage: Stage, graph: Graph, diags: _Diagnostics) -> tuple[str, ...]:
    states = []
    if stage.index == graph.target:
        states.append("target")
    if not stage.reachable:
        states.append("unreachable")
    return (*states, *diags.for_stage(stage))


def _edge_states(edge: Edge, graph: Graph, diags: _Diagnostics) -> tuple[str, ...]:
    states = []
    if edge.onbuild:
        states.append("onbuild")
    if 0 <= edge.target < len(graph.stages) and not graph.stages[edge.target].reachable:
        states.append("unreachable")
    return (*states, *diags.for_lines(edge.line, edge.line))


def _instruction_text(ins: Instruction) -> str:
    text = f"{ins.keyword} {' '.join(ins.rest.split())}".rstrip()
    return f"{ins.line}: {text}"


def _stage_of(edge: Edge, graph: Graph) -> int | None:
    src = edge.source
    if src.kind is SourceKind.STAGE and src.stage is not None and 0 <= src.stage < len(graph.stages):
        return src.stage
    return None


LEGEND_NODES_PER_ROW = 4
LEGEND_EDGES_PER_ROW = 2


def _legend(nodes: list[Node], edges: list[SceneEdge]) -> tuple[list[Node], list[SceneEdge], Cluster]:
    """Legend entries for the node kinds, states and edge kinds present in the drawing.

    Entries are laid out in short rows held together by invisible ``legend-row-*`` edges, so the
    legend stays a compact block whatever the direction of the drawing.
    """
    legend_nodes: list[Node] = []
    legend_edges: list[SceneEdge] = []
    kinds = {n.kind for n in nodes}
    states = {s for n in nodes for s in n.states}
    node_entries = [
        ("stage", "stage", (), "stage"),
        ("target", "stage", ("target",), "target stage"),
        ("unreachable", "stage", ("unreachable",), "not built for this target"),
        ("from", "from", (), "FROM"),
        ("layer", "layer", (), "RUN / COPY / ADD (layer)"),
        ("meta", "meta", (), "metadata instruction"),
        ("image", "image", (), "image"),
        ("context", "context", (), "build context"),
        ("url", "url", (), "URL"),
        ("git", "git", (), "git repository"),
        ("scratch", "scratch", (), "scratch"),
        ("invalid", "invalid", (), "invalid source"),
        ("error", "stage", ("error",), "has an error"),
        ("warning", "stage", ("warning",), "has a warning"),
    ]
    rows: list[list[tuple[str, str]]] = []  # (first node, last node) of each entry, per row
    for key, kind, node_states, text in node_entries:
        if (key in states) if node_states else (key in kinds):
            node_id = f"legend-node-{key}"
            legend_nodes.append(Node(node_id, kind, (text,), node_states, "cluster_legend"))
            if not rows or len(rows[-1]) == LEGEND_NODES_PER_ROW:
                rows.append([])
            rows[-1].append((node_id, node_id))
    edge_kinds = {e.kind for e in edges}
    edge_entries = [
        ("from", "from", (), "FROM"),
        ("copy", "copy", (), "COPY"),
        ("add", "add", (), "ADD"),
        ("mount", "mount", (), "RUN --mount"),
        ("onbuild", "copy", ("onbuild",), "ONBUILD trigger"),
    ]
    onbuild = any("onbuild" in e.states for e in edges)
    edge_rows: list[list[tuple[str, str]]] = []
    for key, kind, edge_states, text in edge_entries:
        if onbuild if key == "onbuild" else kind in edge_kinds:
            tail, head = f"legend-edge-{key}-a", f"legend-edge-{key}-b"
            legend_nodes.append(Node(tail, "legend-point", (), (), "cluster_legend"))
            legend_nodes.append(Node(head, "legend-point", (), (), "cluster_legend"))
            legend_edges.append(SceneEdge(f"legend-edge-{key}", tail, head, kind, edge_states, text))
            if not edge_rows or len(edge_rows[-1]) == LEGEND_EDGES_PER_ROW:
                edge_rows.append([])
            edge_rows[-1].append((tail, head))
    for r, row in enumerate(rows + edge_rows):
        for c in range(1, len(row)):
            legend_edges.append(SceneEdge(f"legend-row-{r}-{c}", row[c - 1][1], row[c][0], "invisible"))
    return legend_nodes, legend_edges, Cluster("cluster_legend", "legend", ("Legend",))


def build_scene(graph: Graph, view: str = "stages", *, legend: bool = True) -> Scene:
    """The scene for ``graph`` in ``view`` (``stages`` or ``layers``)."""
    if view not in VIEWS:
        raise ValueError(f"view must be one of: {', '.join(VIEWS)}")
    diags = _Diagnostics(graph)
    sources = _Sources()
    nodes: list[Node] = []
    edges: list[SceneEdge] = []
    clusters: list[Cluster] = []
    n_stages = len(graph.stages)

    if view == "stages":
        for stage in graph.stages:
            is_target = stage.index == graph.target
            nodes.append(
                Node(
                    f"stage-{stage.index}",
                    "stage",
                    _stage_lines(stage, is_target),
                    _stage_states(stage, graph, diags),
                )
            )
        for n, edge in enumerate(graph.edges):
            if not 0 <= edge.target < n_stages:
                continue
            src_stage = _stage_of(edge, graph)
            if src_stage is not None:
                tail = f"stage-{src_stage}"
            else:
                tail = sources.node_id(edge)
                if graph.stages[edge.target].reachable:
                    sources.mark_used_by_reachable(tail)
            edges.append(
                SceneEdge(
                    f"edge-{n}",
                    tail,
                    f"stage-{edge.target}",
                    edge.kind.value,
                    _edge_states(edge, graph, diags),
                )
            )
    else:
        last: dict[int, str] = {}
        by_line: dict[tuple[int, int], str] = {}
        for stage in graph.stages:
            i = stage.index
            cluster = f"cluster_stage_{i}"
            title = [stage.display_name]
            if stage.platform:
                title.append(f"platform {stage.platform}")
            if i == graph.target:
                title.append("\u2605 target")
            states = [s for s in _stage_states(stage, graph, diags) if s in ("target", "unreachable")]
            clusters.append(
                Cluster(cluster, "stage", tuple(shorten(x, LINE_WIDTH) for x in title), tuple(states))
            )
            muted = ("unreachable",) if not stage.reachable else ()
            fi = stage.from_instruction
            from_id = f"ins-{i}-from"
            nodes.append(
                Node(
                    from_id,
                    "from",
                    (shorten(_instruction_text(fi), INSTRUCTION_WIDTH),),
                    (*muted, *diags.for_lines(fi.line, fi.end_line)),
                    cluster,
                )
            )
            by_line[(i, fi.line)] = from_id
            previous = from_id
            for k, ins in enumerate(stage.instructions):
                node_id = f"ins-{i}-{k}"
                nodes.append(
                    Node(
                        node_id,
                        "layer" if ins.layer else "meta",
                        (shorten(_instruction_text(ins), INSTRUCTION_WIDTH),),
                        (*muted, *diags.for_lines(ins.line, ins.end_line)),
                        cluster,
                    )
                )
                by_line.setdefault((i, ins.line), node_id)
                edges.append(SceneEdge(f"chain-{i}-{k}", previous, node_id, "chain", muted))
                previous = node_id
            last[i] = previous
        graph_edges = []
        for n, edge in enumerate(graph.edges):
            if not 0 <= edge.target < n_stages:
                continue
            src_stage = _stage_of(edge, graph)
            if src_stage is not None:
                tail = last[src_stage]
            else:
                tail = sources.node_id(edge)
                if graph.stages[edge.target].reachable:
                    sources.mark_used_by_reachable(tail)
            from_id = f"ins-{edge.target}-from"
            head = from_id if edge.kind.value == "from" else by_line.get((edge.target, edge.line), from_id)
            graph_edges.append(
                SceneEdge(f"edge-{n}", tail, head, edge.kind.value, _edge_states(edge, graph, diags))
            )
        edges = graph_edges + edges

    nodes.extend(sources.build())
    if legend and (nodes or edges):
        legend_nodes, legend_edges, legend_cluster = _legend(nodes, edges)
        nodes.extend(legend_nodes)
        edges.extend(legend_edges)
        clusters.append(legend_cluster)
    return Scene(view, tuple(nodes), tuple(edges), tuple(clusters))


def legend_scene(scene: Scene) -> Scene | None:
    """The legend of a scene built without one, as a scene of its own (None for an empty drawing).

    SVG draws it apart from the graph and puts it above (see ``DotRunner.run``): inside the
    graph, ``dot`` would rank and order its entries with everything else, about a fifth of the
    layout time for moby's Dockerfile, and the graph would be placed around it.
    """
    if not scene.nodes and not scene.edges:
        return None
    nodes, edges, cluster = _legend(list(scene.nodes), list(scene.edges))
    return Scene("stages", tuple(nodes), tuple(edges), (cluster,))  # rows left to right in both views
