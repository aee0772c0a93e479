"""The layout budget: dense drawings are refused at once (422 with advice), real ones are drawn."""

from __future__ import annotations

import dataclasses
import math
import re
import subprocess
import time

import pytest

from webapp import analyze
from webapp.config import load
from webapp.errors import LayoutTooLarge
from webapp.render import budget, graphviz, render
from webapp.render.budget import MAX_LAYOUT_COST, LayoutSize, check_layout, layout_cost, layout_size
from webapp.render.dot import scene_to_dot
from webapp.render.scene import build_scene
from webapp.web import create_app


def fan_chain(n: int) -> str:
    """Each stage builds on the one before and copies from the first: long parallel edges."""
    lines = ["FROM alpine AS s0"] + [f"FROM s{i - 1} AS s{i}\nCOPY --from=s0 /a /a{i}" for i in range(1, n)]
    return "\n".join(lines) + "\n"


def diamond(n: int) -> str:
    """A base, n - 2 stages on it, and a last stage that copies from every one of them."""
    middle = [f"FROM base AS m{i}\nRUN make {i}" for i in range(n - 2)]
    last = ["FROM alpine AS final"] + [f"COPY --from=m{i} /out /m{i}" for i in range(n - 2)]
    return "\n".join(["FROM alpine AS base", *middle, *last]) + "\n"


def test_every_real_dockerfile_fits_the_budget_in_both_views(corpus):
    costs = {}
    for path in sorted((corpus / "real").glob("*.Dockerfile")):
        graph = analyze(path.read_bytes())
        for view in ("stages", "layers"):
            costs[(path.name, view)] = check_layout(build_scene(graph, view))
    assert len(costs) >= 70
    worst = max(costs.values())
    # the budget leaves room above the largest real drawing, and that drawing is a real cost
    assert 1000 < worst < MAX_LAYOUT_COST


@pytest.mark.parametrize(("make", "size"), [(diamond, 150), (fan_chain, 150), (fan_chain, 70)])
@pytest.mark.parametrize("view", ["stages", "layers"])
def test_dense_dockerfiles_are_refused_at_once(make, size, view, monkeypatch):
    graph = analyze(make(size))
    cost = layout_cost(build_scene(graph, view))
    if make is diamond and view == "stages":
        # all middle stages share two ranks: no long edges, and dot draws it in a blink
        assert cost < MAX_LAYOUT_COST
        return
    monkeypatch.setattr(graphviz, "_dot_path", lambda: pytest.fail("dot must not run"))
    start = time.perf_counter()
    with pytest.raises(LayoutTooLarge) as info:
        render(graph, "svg", view)
    assert time.perf_counter() - start < 1
    assert info.value.status == 422
    assert str(MAX_LAYOUT_COST) in info.value.message and "target" in info.value.message
    assert ("stages view" in info.value.message) == (view == "layers")
    render(graph, "dot", view)  # the text formats stay available


def test_the_budget_is_a_setting():
    graph = analyze(fan_chain(30))
    cost = layout_cost(build_scene(graph, "stages"))
    with pytest.raises(LayoutTooLarge):
        render(graph, "svg", settings=load({}, MAX_LAYOUT_COST=cost - 1))


def test_size_counts_hidden_nodes_and_segments_and_legend_labels_add_no_ranks():
    graph = analyze("FROM alpine AS a\nFROM a AS b\nFROM b AS c\nCOPY --from=a / /\n")
    bare = build_scene(graph, "stages", legend=False)
    # 3 stages + the image; edges image->a, a->b, b->c span 1, a->c spans 2: one hidden node;
    # 5 segments. Edges: 2 per segment, 1 per ranked node (4 + 1).
    assert layout_size(bare) == LayoutSize(nodes=4 + 1 + 5, edges=2 * 5 + 5)
    assert layout_cost(bare) == math.isqrt(10 * 15)
    # edge labels are written as xlabels, placed after layout: they leave rank distances alone
    # (a plain label would double them), so labelling every edge changes nothing
    labelled = dataclasses.replace(bare, edges=tuple(dataclasses.replace(e, label="x") for e in bare.edges))
    assert layout_size(labelled) == layout_size(bare)
    assert 'xlabel="x"' in scene_to_dot(labelled) and ' label="x"' not in scene_to_dot(labelled)


def test_clusters_that_share_ranks_cost_a_pair_each():
    side_by_side = "".join(f"FROM alpine AS s{i}\nRUN a\nRUN b\n" for i in range(100))
    layers = layout_size(build_scene(analyze(side_by_side), "layers", legend=False))
    stages = layout_size(build_scene(analyze(side_by_side), "stages", legend=False))
    assert layers.edges > 100 * 99 // 2 > stages.edges
    # 400 stages side by side took dot 6 CPU seconds as layers; as stages they take a blink
    wide = analyze("".join(f"FROM alpine AS s{i}\nRUN a\nRUN b\n" for i in range(400)))
    assert (
        layout_cost(build_scene(wide, "layers")) > MAX_LAYOUT_COST > layout_cost(build_scene(wide, "stages"))
    )


def test_cycles_are_costed_without_hanging():
    text = "FROM alpine AS a\nCOPY --from=b / /\nFROM alpine AS b\nCOPY --from=a / /\n"
    assert layout_cost(build_scene(analyze(text), "stages")) > 0


def test_cost_is_linear_in_the_scene():
    scene = build_scene(analyze(fan_chain(400)), "layers")
    start = time.perf_counter()
    layout_cost(scene)
    assert time.perf_counter() - start < 1


@pytest.mark.dot
@pytest.mark.parametrize(
    "name", ["moby__buildkit__Dockerfile.Dockerfile", "moby__moby__Dockerfile.Dockerfile"]
)
def test_estimate_tracks_the_graph_dot_positions(corpus, name):
    # dot -v reports the size of the network-simplex problem it solves to place nodes; the
    # estimate is that size, give or take a small factor
    scene = build_scene(analyze((corpus / "real" / name).read_bytes()), "layers")
    result = subprocess.run(["dot", "-v", "-Tsvg"], input=scene_to_dot(scene).encode(), capture_output=True)
    sizes = re.findall(rb"network simplex: +(\d+) nodes (\d+) edges", result.stderr)
    assert sizes, result.stderr[-500:]
    nodes, edges = max((int(n), int(e)) for n, e in sizes)
    estimate = layout_size(scene)
    assert 0.5 < estimate.nodes / nodes < 2 and 0.5 < estimate.edges / edges < 2


@pytest.mark.dot
def test_the_densest_real_dockerfile_still_renders(corpus):
    graph = analyze((corpus / "real" / "moby__buildkit__Dockerfile.Dockerfile").read_bytes())
    body, mimetype = render(graph, "svg", "layers")
    assert mimetype == "image/svg+xml" and body.startswith(b"<svg")


def test_api_answers_422_with_advice(tmp_path):
    client = create_app({"DATABASE": str(tmp_path / "s.db")}).test_client()
    start = time.perf_counter()
    response = client.post(
        "/api/render", json={"dockerfile": diamond(150), "format": "svg", "view": "layers"}
    )
    assert response.status_code == 422 and time.perf_counter() - start < 1
    assert "Retry-After" not in response.headers
    assert "stages view" in response.get_json()["error"]["message"]
    assert client.post("/api/render", json={"dockerfile": diamond(150), "format": "json"}).status_code == 200


def test_module_default_matches_the_setting():
    assert load({})["MAX_LAYOUT_COST"] == budget.MAX_LAYOUT_COST
