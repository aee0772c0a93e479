"""A whole project as one drawing: each Dockerfile a cluster of its stages, cross-file links between.

Built on the one-file scene (:func:`~webapp.render.scene.build_scene`, stages view, no legend):
its nodes and edges are copied into a cluster per Dockerfile with ids prefixed ``f<k>-``, so a
file looks as it does alone. The bake, compose and script files are clusters of their builds
(``build-<n>``); images and directories named by contexts are project nodes (``pimg-<n>``,
``pctx-<n>``). Links are drawn in one colour of their own, bold, with a short label saying what
makes them. What the selected project target does not build is grey (``unreachable``).

Ids and attribute values are ours; every label goes through :func:`~webapp.render.dot.dot_label`.
"""

from __future__ import annotations

from types import MappingProxyType

from ..contexts import context_key
from ..errors import RenderTooLarge
from ..model import SourceKind
from . import style
from .dot import DotLabel, _attrs, _edge_line, _node_line, dot_label
from .escape import escape_mermaid, shorten
from .scene import LINE_WIDTH, Node, Scene, SceneEdge, build_scene, short_image

LINK_COLOUR = "#db2777"
"""The colour of every cross-file link (no edge inside a file uses it)."""

PROJECT_GRAPH = MappingProxyType(
    {**style.DOT_GRAPH["stages"], "compound": "true", "ranksep": "0.8", "nodesep": "0.3"}
)
FILE_CLUSTER = MappingProxyType(
    {"style": "rounded", "color": "#475569", "penwidth": "1.4", "labeljust": "l", "fontsize": "12"}
)
SOURCE_CLUSTER = MappingProxyType(
    {"style": "rounded,dashed", "color": "#a16207", "labeljust": "l", "fontsize": "12"}
)
UNBUILT_CLUSTER = MappingProxyType(
    {"style": "rounded,filled", "fillcolor": style.MUTED_FILL, "fontcolor": style.MUTED}
)
BUILD_NODE = MappingProxyType(
    {"shape": "component", "style": "filled", "fillcolor": "#fff7ed", "color": "#c2410c"}
)
LINK_EDGE = MappingProxyType(
    {
        "build": {"style": "solid", "penwidth": "1.6"},
        "inherits": {"style": "dashed", "penwidth": "1.6", "arrowhead": "empty"},
        "context-target": {"style": "bold", "penwidth": "2.4"},
        "context-image": {"style": "bold", "penwidth": "2.4"},
        "context-path": {"style": "bold", "penwidth": "2.4"},
        "context-url": {"style": "bold", "penwidth": "2.4"},
        "build-context": {"style": "bold", "penwidth": "2.4"},
        "image": {"style": "bold", "penwidth": "2.4"},
        "copy-out": {"style": "bold,dashed", "penwidth": "2.4"},
    }
)
"""Link kind -> DOT attributes (all in :data:`LINK_COLOUR`)."""


def _cluster(cluster_id: str, attrs: dict, title: str, classes: str, body: list[str]) -> list[str]:
    values = dict(attrs)
    values["label"] = dot_label((shorten(title, LINE_WIDTH),), left=True)
    values["id"] = cluster_id.replace("_", "-")
    values["class"] = classes
    return [f'  subgraph "{cluster_id}" {{', f"    graph {_attrs(values)};", *body, "  }"]


def _file_scene(project, path: str, graph) -> Scene:
    """One file's stages-view scene, less what the project's links draw instead.

    An edge from a named context that a link shows (a bake ``contexts`` entry, a compose
    ``additional_contexts`` entry, a ``--build-context``) is left to the link, and a source node
    no edge uses any more goes with it.
    """
    scene = build_scene(graph, "stages", legend=False)
    named = {context_key(x["name"]) for x in project.links if "name" in x and x["to"].get("path") == path}
    skipped = {
        f"edge-{n}"
        for n, e in enumerate(graph.edges)
        if e.source.kind is not SourceKind.STAGE and e.source.text and context_key(e.source.text) in named
    }
    edges = tuple(e for e in scene.edges if e.id not in skipped)
    used = {e.tail for e in edges} | {e.head for e in edges}
    nodes = tuple(n for n in scene.nodes if n.id.startswith("stage-") or n.id in used)
    return Scene(scene.view, nodes, edges, scene.clusters)


def _link_label(link: dict) -> str:
    kind = link["kind"]
    if kind.startswith("context-") or kind == "build-context":
        return f"context {link.get('name', '')}".strip()
    if kind == "image":
        return link.get("image") or "image"
    if kind == "copy-out":
        return f"docker cp {link['to'].get('file', '')}".strip()
    return kind


def project_to_dot(project) -> str:
    """Deterministic DOT text for a :class:`~webapp.project.Project`."""
    data_files = [p for p in project.files if p in project.graphs]
    index = {path: k for k, path in enumerate(data_files)}
    stage_ids: dict[tuple[str, str], str] = {}
    lines = [
        "digraph project {",
        f"  graph {_attrs(PROJECT_GRAPH)};",
        f"  node {_attrs(style.DOT_NODE_DEFAULT)};",
        f"  edge {_attrs(style.DOT_EDGE_DEFAULT)};",
    ]
    inner_edges: list[str] = []
    for path in data_files:
        k = index[path]
        graph = project.graphs[path]
        built = set(project.built.get(path, []))
        scene = _file_scene(project, path, graph)
        body = []
        for node in scene.nodes:
            states = tuple(s for s in node.states if s != "unreachable")
            if node.id.startswith("stage-"):
                stage = graph.stages[int(node.id[len("stage-") :])]
                stage_ids[(path, stage.display_name)] = f"f{k}-{node.id}"
                if stage.index not in built:
                    states = (
                        (*states[:1], "unreachable", *states[1:])
                        if "target" in states
                        else ("unreachable", *states)
                    )
            elif "unreachable" in node.states:
                states = ("unreachable", *states)
            prefixed = Node(f"f{k}-{node.id}", node.kind, node.lines, states, f"cluster_file_{k}")
            body.append(_node_line(prefixed, "    "))
        node_ids = frozenset(f"f{k}-{node.id}" for node in scene.nodes)
        for edge in scene.edges:
            inner_edges.append(
                _edge_line(
                    SceneEdge(
                        f"f{k}-{edge.id}", f"f{k}-{edge.tail}", f"f{k}-{edge.head}", edge.kind, edge.states
                    ),
                    "  ",
                    node_ids,
                )
            )
        attrs = dict(FILE_CLUSTER)
        classes = "file"
        if not built:
            attrs.update(UNBUILT_CLUSTER)
            classes = "file unreachable"
        lines.extend(_cluster(f"cluster_file_{k}", attrs, path, classes, body))

    selected = set(project.selected_builds)
    build_ids: dict[tuple[str, str], str] = {}
    by_source: dict[str, list[str]] = {}
    for n, build in enumerate(project.definitions.builds):
        node_id = f"build-{n}"
        build_ids[(build.source, build.name)] = node_id
        values = dict(BUILD_NODE)
        states = ["build"]
        if build.name not in selected:
            values.update(style.DOT_NODE_STATE["unreachable"])
            states.append("unreachable")
        name = build.name if build.kind != "script" else f"line {build.line}"
        what = {"bake-target": "target", "compose-service": "service", "script": "docker build"}[build.kind]
        values["label"] = dot_label((shorten(f"{what} {name}", LINE_WIDTH),))
        values["id"] = node_id
        values["class"] = " ".join(states)
        by_source.setdefault(build.source, []).append(f'    "{node_id}" {_attrs(values)};')
    extra_nodes: list[str] = []
    mixins = 0
    for link in project.links:
        if link["kind"] == "inherits":
            for end in (link["from"], link["to"]):
                key = (end["path"], end["target"])
                if key not in build_ids:
                    build_ids[key] = f"mixin-{mixins}"
                    mixins += 1
                    values = dict(BUILD_NODE)
                    values.update({"style": "dashed", "fillcolor": "white"})
                    values["label"] = dot_label((shorten(f"target {end['target']}", LINE_WIDTH),))
                    values["id"] = build_ids[key]
                    values["class"] = "build mixin"
                    by_source.setdefault(end["path"], []).append(f'    "{build_ids[key]}" {_attrs(values)};')
    for s, source in enumerate(sorted(by_source)):
        lines.extend(_cluster(f"cluster_src_{s}", SOURCE_CLUSTER, source, "source", by_source[source]))

    project_nodes: dict[tuple[str, str], str] = {}

    def project_node(kind: str, value: str) -> str:
        key = (kind, value)
        if key not in project_nodes:
            node_id = f"{'pimg' if kind == 'image' else 'pctx'}-{len(project_nodes)}"
            project_nodes[key] = node_id
            label = short_image(value) if kind == "image" else value
            extra_nodes.append(_node_line(Node(node_id, kind, (shorten(label, LINE_WIDTH),)), "  "))
        return project_nodes[key]

    unbuilt = {
        node_id
        for (path, name), node_id in stage_ids.items()
        if next(s.index for s in project.graphs[path].stages if s.display_name == name)
        not in set(project.built.get(path, []))
    }
    unbuilt |= {build_ids[(b.source, b.name)] for b in project.definitions.builds if b.name not in selected}
    link_lines = []
    for n, link in enumerate(project.links):
        kind = link["kind"]
        src, dst = link["from"], link["to"]
        if kind == "inherits":
            tail, head = (
                build_ids.get((src["path"], src["target"])),
                build_ids.get((dst["path"], dst["target"])),
            )
        elif kind == "build":
            name = src.get("target") or src.get("service") or src.get("build")
            tail, head = build_ids.get((src["path"], name)), stage_ids.get((dst["path"], dst["stage"]))
        else:
            if "image" in src:
                tail = project_node("image", src["image"])
            elif "context" in src:
                tail = project_node("context", src["context"])
            else:
                tail = stage_ids.get((src.get("path"), src.get("stage")))
            head = stage_ids.get((dst.get("path"), dst.get("stage")))
        if tail is None or head is None:
            continue
        values = {"color": LINK_COLOUR, "fontcolor": LINK_COLOUR, **LINK_EDGE.get(kind, {})}
        values["label"] = dot_label((shorten(_link_label(link), 40),))
        values["id"] = f"link-{n}"
        values["class"] = f"link link-{kind}"
        if head in unbuilt or (kind == "build" and tail in unbuilt):  # not built for this selection
            values.update({"color": style.MUTED, "fontcolor": style.MUTED})
            values["class"] += " unreachable"
        link_lines.append(f'  "{tail}" -> "{head}" {_attrs(values)};')
    lines.extend(extra_nodes)
    lines.extend(_legend({link["kind"] for link in project.links}))
    lines.extend(inner_edges)
    lines.extend(link_lines)
    lines.append("}")
    return "\n".join(lines) + "\n"


LEGEND = (
    ("build", "builds (bake target, service, script line)"),
    ("inherits", "bake inherits"),
    ("context-target", "named context: another target"),
    ("context-image", "named context: an image"),
    ("context-path", "named context: a directory"),
    ("context-url", "named context: a URL"),
    ("build-context", "--build-context"),
    ("image", "image built by another build"),
    ("copy-out", "file copied out (docker cp)"),
)
"""Link kind -> legend text, in legend order."""


def _legend(kinds: set[str]) -> list[str]:
    """A legend cluster with one sample arrow per link kind present."""
    body = []
    for n, (kind, text) in enumerate(k for k in LEGEND if k[0] in kinds):
        tail, head = f"legend-link-{n}-a", f"legend-link-{n}-b"
        point = {**style.DOT_NODE["legend-point"], "label": DotLabel(""), "class": "legend legend-point"}
        body.append(f'    "{tail}" {_attrs({**point, "id": tail})};')
        body.append(f'    "{head}" {_attrs({**point, "id": head})};')
        values = {"color": LINK_COLOUR, "fontcolor": LINK_COLOUR, **LINK_EDGE[kind]}
        values.update({"label": dot_label((text,)), "id": f"legend-link-{n}", "class": f"legend link-{kind}"})
        body.append(f'    "{tail}" -> "{head}" {_attrs(values)};')
    if not body:
        return []
    attrs = dict(style.DOT_CLUSTER["legend"])
    return _cluster("cluster_legend", attrs, "Links between files", "legend", body)


def project_to_mermaid(project) -> str:
    """Mermaid ``flowchart`` text for a project: a subgraph per file, links labelled and pink.

    The same nodes and links as :func:`project_to_dot` (ids with ``_`` for ``-``), so a project
    can be pasted into GitHub Markdown like one file.
    """
    from .mermaid import _node as mermaid_node
    from .mermaid import mermaid_id

    data_files = [p for p in project.files if p in project.graphs]
    out = ["%% Dockerfile project build graph (generated; user text is entity-escaped)", "flowchart LR"]
    stage_ids: dict[tuple[str, str], str] = {}
    edges: list[tuple[str, str, str, str | None]] = []  # tail, head, kind, label
    kinds: dict[str, list[str]] = {}
    for k, path in enumerate(data_files):
        graph = project.graphs[path]
        built = set(project.built.get(path, []))
        scene = _file_scene(project, path, graph)
        out.append(f'  subgraph file_{k}["{escape_mermaid(path)}"]')
        for node in scene.nodes:
            node_id = f"f{k}-{node.id}"
            if node.id.startswith("stage-"):
                stage = graph.stages[int(node.id[len("stage-") :])]
                stage_ids[(path, stage.display_name)] = node_id
                kinds.setdefault("unreachable" if stage.index not in built else "stage", []).append(node_id)
            else:
                kinds.setdefault(node.kind, []).append(node_id)
            out.append(mermaid_node(Node(node_id, node.kind, node.lines), "    "))
        out.append("  end")
        edges.extend((f"f{k}-{e.tail}", f"f{k}-{e.head}", e.kind, None) for e in scene.edges)
    build_ids: dict[tuple[str, str], str] = {}
    by_source: dict[str, list[str]] = {}
    for n, build in enumerate(project.definitions.builds):
        build_ids[(build.source, build.name)] = f"build-{n}"
        name = build.name if build.kind != "script" else f"line {build.line}"
        what = {"bake-target": "target", "compose-service": "service", "script": "docker build"}[build.kind]
        label = escape_mermaid(shorten(f"{what} {name}", LINE_WIDTH))
        by_source.setdefault(build.source, []).append(f'    {mermaid_id(f"build-{n}")}[["{label}"]]')
        selected = build.name in project.selected_builds
        kinds.setdefault("build" if selected else "unreachable", []).append(f"build-{n}")
    for s, source in enumerate(sorted(by_source)):
        out.append(f'  subgraph src_{s}["{escape_mermaid(source)}"]')
        out.extend(by_source[source])
        out.append("  end")
    extra: dict[tuple[str, str], str] = {}
    for link in project.links:
        src, dst = link["from"], link["to"]
        if link["kind"] == "inherits":
            tail, head = (
                build_ids.get((src["path"], src["target"])),
                build_ids.get((dst["path"], dst["target"])),
            )
        elif link["kind"] == "build":
            name = src.get("target") or src.get("service") or src.get("build")
            tail, head = build_ids.get((src["path"], name)), stage_ids.get((dst["path"], dst["stage"]))
        else:
            if "image" in src or "context" in src:
                kind = "image" if "image" in src else "context"
                key = (kind, src[kind])
                if key not in extra:
                    extra[key] = f"{'pimg' if kind == 'image' else 'pctx'}-{len(extra)}"
                    label = short_image(src[kind]) if kind == "image" else src[kind]
                    out.append(mermaid_node(Node(extra[key], kind, (shorten(label, LINE_WIDTH),)), "  "))
                    kinds.setdefault(kind, []).append(extra[key])
                tail = extra[key]
            else:
                tail = stage_ids.get((src.get("path"), src.get("stage")))
            head = stage_ids.get((dst.get("path"), dst.get("stage")))
        if tail is not None and head is not None:
            edges.append((tail, head, "link", shorten(_link_label(link), 40)))
    link_indexes = []
    for index, (tail, head, kind, label) in enumerate(edges):
        if kind == "link":
            out.append(f'  {mermaid_id(tail)} -->|"{escape_mermaid(label)}"| {mermaid_id(head)}')
            link_indexes.append(index)
        else:
            out.append(f"  {mermaid_id(tail)} {style.MERMAID_ARROW[(kind, False)]} {mermaid_id(head)}")
    classes = {**style.MERMAID_CLASS, "build": "fill:#fff7ed,stroke:#c2410c,color:#1f2937"}
    for name, members in sorted(kinds.items()):
        if name in classes:
            out.append(f"  classDef {name} {classes[name]}")
            out.append(f"  class {','.join(mermaid_id(m) for m in members)} {name}")
    if link_indexes:
        out.append(f"  linkStyle {','.join(map(str, link_indexes))} stroke:{LINK_COLOUR},stroke-width:2.5px")
    return "\n".join(out) + "\n"


def project_size(dot_text: str) -> int:
    """Nodes plus edges of a project drawing (each is one line with an ``id``)."""
    return sum(
        1 for line in dot_text.splitlines() if " [" in line and 'id="' in line and "graph [" not in line
    )


def draw_project(project, fmt: str, *, settings: dict | None = None, runner=None) -> bytes:
    """SVG or PNG of a project through the same contained ``dot`` as one file.

    ``runner`` is the caller's :class:`~webapp.render.DotRunner` (a one-off cold one when None).
    Like :func:`webapp.render.render`, how many drawings run at once is the caller's business
    (the web app's render gate); a drawing past :data:`~webapp.render.MAX_ELEMENTS` nodes and
    edges is refused before Graphviz runs (:class:`RenderTooLarge`).
    """
    from ..config import load
    from . import MAX_ELEMENTS, run_dot

    settings = load() if settings is None else {**load({}), **settings}
    dot_text = project_to_dot(project)
    size = project_size(dot_text)
    if size > MAX_ELEMENTS:
        raise RenderTooLarge(
            f"project too large to draw: {size} nodes and edges (limit {MAX_ELEMENTS}); "
            "pick a project target or use the json format"
        )
    if runner is not None:
        return runner.run(dot_text, fmt)
    return run_dot(
        dot_text, fmt, timeout=float(settings["DOT_TIMEOUT"]), memory_mb=int(settings["DOT_MEMORY_MB"])
    )


def render_project(project, fmt: str, *, settings: dict | None = None, runner=None) -> tuple[bytes, str]:
    """A project as ``(body, mimetype)`` in ``fmt``: ``json`` (docs/json-format.md), ``dot``,
    ``mermaid``, ``svg`` or ``png`` (the last two through :func:`draw_project`)."""
    from . import MIMETYPES, compact_json

    if fmt == "json":
        body = compact_json(project.to_dict())
    elif fmt == "dot":
        body = project_to_dot(project).encode("utf-8")
    elif fmt == "mermaid":
        body = project_to_mermaid(project).encode("utf-8")
    else:
        body = draw_project(project, fmt, settings=settings, runner=runner)
    return body, MIMETYPES[fmt]


__all__ = [
    "LINK_COLOUR",
    "DotLabel",
    "draw_project",
    "project_to_dot",
    "project_to_mermaid",
    "render_project",
]
