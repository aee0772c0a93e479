"""Mermaid text: same nodes and edges as the DOT, our ids, styles, deterministic."""

from __future__ import annotations

import re

from test_render_graphs import sample_graph

from webapp.render import to_mermaid
from webapp.render.mermaid import mermaid_id
from webapp.render.scene import build_scene


def test_header_direction_and_determinism():
    text = to_mermaid(sample_graph())
    assert text.splitlines()[1] == "flowchart LR"
    assert to_mermaid(sample_graph(), "layers").splitlines()[1] == "flowchart TB"
    assert to_mermaid(sample_graph()) == text


def test_same_nodes_and_edges_as_the_scene():
    graph = sample_graph()
    for view in ("stages", "layers"):
        text = to_mermaid(graph, view)
        scene = build_scene(graph, view, legend=False)
        links = re.findall(r"^\s+(\S+) (==>|-->|-\.->|---|==o|--o|-\.-o) (\S+)$", text, re.M)
        assert [(t, h) for t, _, h in links] == [
            (mermaid_id(e.tail), mermaid_id(e.head)) for e in scene.edges
        ]
        for node in scene.nodes:
            assert re.search(rf"^\s+{mermaid_id(node.id)}[\[\(\{{>]", text, re.M), node.id
        assert "legend" not in text


def test_edge_styles_and_onbuild_arrows():
    text = to_mermaid(sample_graph())
    assert "  img_0 ==> stage_0" in text  # FROM: thick
    assert "  stage_0 --> stage_2" in text  # COPY
    assert "  url_0 -.-> stage_2" in text  # ADD
    assert "  context --o stage_3" in text  # inherited ONBUILD trigger
    assert re.search(r"^  linkStyle 7 stroke:#dc2626", text, re.M)  # edge 7 carries an error
    assert re.search(r"^  linkStyle [\d,]*\b6\b[\d,]* stroke:#9333ea.*stroke-dasharray", text, re.M)


def test_class_assignments_for_kinds_and_states():
    text = to_mermaid(sample_graph())
    assert "  class stage_3 target" in text
    assert "  class stage_1,stage_4,scratch unreachable" in text
    assert "  class stage_2 error" in text
    assert "  classDef target " in text


def test_layers_view_uses_subgraphs_per_stage():
    text = to_mermaid(sample_graph(), "layers")
    assert '  subgraph cluster_stage_0["builder"]' in text
    assert text.count("\n  end\n") == 5
    assert '    ins_0_from(["1: FROM golang:1.22 AS builder"])' in text
