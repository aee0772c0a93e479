"""DOT text: our ids only, allowlisted attributes, styles per kind, states, both views."""

from __future__ import annotations

import re

import pytest
from test_render_graphs import chain_graph, sample_graph

from webapp.model import Graph
from webapp.render import style, to_dot
from webapp.render.dot import DotLabel, _attrs, dot_label

ATTR = re.compile(r'(?:\[|, )(\w+)="((?:[^"\\]|\\.)*)"')
STATEMENT = re.compile(r'^\s*"([^"]+)"(?: -> "([^"]+)")? \[(.*)\];$')


def _statements(dot: str) -> dict[str, dict[str, str]]:
    """Node and edge statements by their ``id`` attribute, with ``_tail``/``_head`` for edges."""
    out = {}
    for line in dot.splitlines():
        match = STATEMENT.match(line)
        if not match:
            continue
        attrs = dict(ATTR.findall("[" + match.group(3)))
        if match.group(2):
            attrs["_tail"], attrs["_head"] = match.group(1), match.group(2)
        out[attrs["id"]] = attrs
    return out


@pytest.mark.parametrize("view", ["stages", "layers"])
def test_only_allowlisted_attributes_and_never_links(view):
    dot = to_dot(sample_graph('x" URL="javascript:alert(1)'), view)
    names = {name for name, _ in ATTR.findall(dot)}
    assert names <= style.DOT_ALLOWED
    assert len(names) > 15
    for forbidden in ("URL", "href", "tooltip", "image", "stylesheet", "shapefile", "imagepath"):
        assert forbidden.lower() not in {n.lower() for n in names}, forbidden
    assert 'x\\" url=\\"javascript:alert(1)' in dot  # the text is inside the label, escaped


def test_attribute_writer_refuses_unknown_keys_raw_labels_and_odd_values():
    with pytest.raises(ValueError):
        _attrs({"URL": "javascript:alert(1)"})
    with pytest.raises(TypeError):
        _attrs({"label": 'raw "text'})
    with pytest.raises(ValueError):
        _attrs({"color": 'red" URL="x'})
    assert _attrs({"label": dot_label(["a", 'b"']), "color": "#fff"}) == '[color="#fff", label="a\\nb\\""]'
    assert isinstance(dot_label(["x"]), DotLabel)


def test_node_ids_are_ours_and_edges_map_to_graph_edges():
    graph = sample_graph("Evil Name")
    statements = _statements(to_dot(graph))
    node_ids = sorted(k for k, v in statements.items() if "_tail" not in v and not k.startswith("legend-"))
    assert node_ids == sorted(
        ["context", "git-0", "img-0", "img-1", "invalid-0", "scratch", "url-0"]
        + [f"stage-{i}" for i in range(5)]
    )
    for n, edge in enumerate(graph.edges):
        attrs = statements[f"edge-{n}"]
        assert attrs["_head"] == f"stage-{edge.target}"
        assert attrs["class"].split()[0] == edge.kind.value


def test_edge_kinds_differ_in_line_pattern_and_colour():
    statements = _statements(to_dot(sample_graph()))
    looks = {}
    for n, kind in ((0, "from"), (3, "copy"), (4, "add"), (6, "mount")):
        looks[kind] = (statements[f"edge-{n}"]["style"], statements[f"edge-{n}"]["color"])
    assert len({s for s, _ in looks.values()}) == 4
    assert len({c for _, c in looks.values()}) == 4
    onbuild, plain = statements["edge-9"], statements["edge-10"]
    assert onbuild["arrowhead"] == "empty" and "arrowhead" not in plain
    assert onbuild["class"] == "copy onbuild"


def test_target_unreachable_and_diagnostics_are_marked():
    statements = _statements(to_dot(sample_graph()))
    target = statements["stage-3"]
    assert target["peripheries"] == "2" and target["class"] == "stage reachable target"
    assert target["label"].endswith("\\n\u2605 target")
    unreachable = statements["stage-1"]
    assert unreachable["fillcolor"] == style.MUTED_FILL and unreachable["class"] == "stage unreachable"
    assert statements["stage-2"]["color"] == style.ERROR and "error" in statements["stage-2"]["class"]
    assert statements["stage-4"]["color"] == style.WARNING
    assert statements["edge-7"]["color"] == style.ERROR  # COPY --from=$X carries the error
    assert statements["edge-1"]["color"] == style.MUTED  # into an unreachable stage
    assert statements["stage-0"]["class"] == "stage reachable"


def test_legend_is_a_cluster_with_legend_ids():
    dot = to_dot(sample_graph())
    assert 'subgraph "cluster_legend" {' in dot
    statements = _statements(dot)
    legend = [k for k in statements if k.startswith("legend-")]
    assert (
        "legend-node-target" in legend and "legend-edge-onbuild" in legend and "legend-edge-mount" in legend
    )
    assert "legend-node-url" in legend
    assert "legend-node-from" not in legend  # only what the drawing uses


def test_layers_view_clusters_instructions_and_lands_edges_on_them():
    dot = to_dot(sample_graph(), "layers")
    for i in range(5):
        assert f'subgraph "cluster_stage_{i}" {{' in dot
    statements = _statements(dot)
    assert statements["ins-0-from"]["class"] == "from"
    assert statements["ins-0-1"]["class"] == "layer"  # RUN
    assert statements["ins-0-0"]["class"] == "meta"  # WORKDIR
    assert statements["ins-0-1"]["fillcolor"] != statements["ins-0-0"].get("fillcolor")
    assert (statements["edge-3"]["_tail"], statements["edge-3"]["_head"]) == ("ins-0-1", "ins-2-0")
    assert statements["chain-2-0"]["_tail"] == "ins-2-from"
    assert statements["ins-2-4"]["color"] == style.ERROR
    assert "10: COPY --from=builder /out/app /app" in statements["ins-2-0"]["label"]


def test_dot_is_deterministic_and_has_constant_fonts():
    first = to_dot(sample_graph())
    assert to_dot(sample_graph()) == first
    assert set(re.findall(r'fontname="([^"]*)"', first)) == {style.FONT}
    names = {name for name, _ in ATTR.findall(first)}
    assert "dpi" not in names and "size" not in names


def test_empty_graph_and_unknown_view():
    empty = Graph(stages=(), edges=(), target=None, diagnostics=())
    assert to_dot(empty).startswith("digraph build {") and "cluster_legend" not in to_dot(empty)
    with pytest.raises(ValueError):
        to_dot(sample_graph(), "everything")


def test_large_graph_dot_is_linear_and_fast():
    import time

    started = time.perf_counter()
    dot = to_dot(chain_graph(400))
    assert time.perf_counter() - started < 2
    assert len(re.findall(r'id="edge-\d+"', dot)) == 800


@pytest.mark.parametrize("view", ["stages", "layers"])
def test_legend_edges_carry_xlabels_so_no_edge_label_doubles_the_ranks(view):
    statements = _statements(to_dot(sample_graph(), view))
    edges = {k: v for k, v in statements.items() if "_tail" in v}
    assert not [k for k, v in edges.items() if "label" in v]  # any edge label doubles dot's ranks
    assert edges["legend-edge-copy"]["xlabel"] == "COPY"


def test_every_label_gets_a_width_for_the_widest_usual_browser_font():
    from webapp.render.dot import text_width

    wide, narrow = sample_graph("W" * 40), sample_graph("i" * 40)
    for view in ("stages", "layers"):
        for node_id, attrs in _statements(to_dot(wide, view)).items():
            if "_tail" not in attrs and attrs.get("shape") != "point":
                lines = attrs["label"].replace("\\l", "\\n").split("\\n")
                size = float(attrs.get("fontsize", style.DOT_NODE_DEFAULT["fontsize"]))
                assert float(attrs["width"]) * 72 >= text_width(lines, size) + 11.5, node_id
    assert float(_statements(to_dot(wide))["stage-0"]["width"]) > float(
        _statements(to_dot(narrow))["stage-0"]["width"]
    )
    # DejaVu Sans widths: W is 989/1000 of the font size, i 278; anything unknown a full em
    assert text_width(["Wi"], 10) == pytest.approx(12.67)
    assert text_width(["中", "ab"], 10) == pytest.approx(12.48)


def test_a_stage_cluster_title_fits_its_first_node():
    from webapp.render.dot import text_width

    dot = to_dot(sample_graph("W" * 55), "layers")
    assert 'label="' + "w" * 55 + '\\l"' in dot  # stage names are lower case
    statements = _statements(dot)
    title = text_width(["w" * 55], 12)
    assert float(statements["ins-0-from"]["width"]) * 72 >= title


def test_an_edge_to_a_node_outside_the_scene_is_refused():
    from webapp.render.dot import scene_to_dot
    from webapp.render.scene import SceneEdge, build_scene

    scene = build_scene(sample_graph(), "stages", legend=False)
    bad = type(scene)(scene.view, scene.nodes, (SceneEdge("edge-0", "stage-0", 'x" URL="y', "copy"),), ())
    with pytest.raises(ValueError):
        scene_to_dot(bad)


def test_thousands_of_warnings_are_drawn_in_linear_time():
    # each stage, edge and layer looked through every warning of the file: 9000 took seconds
    import time

    from webapp import analyze

    text = "FROM scratch\n" + "".join(f"COPY a /$U{i}\n" for i in range(9000))
    graph = analyze(text)
    assert sum(d.code == "UndefinedVar" for d in graph.diagnostics) == 9000
    start = time.perf_counter()
    stages, layers = to_dot(graph, "stages"), to_dot(graph, "layers")
    assert time.perf_counter() - start < 1.5
    assert 'class="stage reachable target warning"' in stages
    assert layers.count('class="layer warning"') == 9000
