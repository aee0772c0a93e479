"""Hand-built graphs for the renderer tests (importable as ``test_render_graphs``), and scene tests.

The graphs are built from the model's dataclasses so the renderer can be tested on its own; the
golden tests (test_render_golden.py) cover graphs from the real analysis.
"""

from __future__ import annotations

from webapp.model import (
    Base,
    BaseKind,
    Diagnostic,
    Edge,
    EdgeKind,
    Graph,
    Instruction,
    Severity,
    Source,
    SourceKind,
    Stage,
)
from webapp.render.scene import build_scene, short_image


def ins(keyword: str, line: int, rest: str = "", end_line: int | None = None) -> Instruction:
    """An instruction on ``line`` (source text rebuilt from keyword and rest)."""
    return Instruction(
        keyword=keyword,
        line=line,
        end_line=end_line or line,
        rest=rest,
        source=f"{keyword} {rest}",
    )


def stage(
    index: int,
    name: str | None,
    line: int,
    base: Base,
    instructions: tuple[Instruction, ...] = (),
    *,
    reachable: bool = True,
    platform: str | None = None,
    onbuild_inherited: int = 0,
) -> Stage:
    """A stage whose FROM is on ``line`` and whose instructions follow."""
    end = max([line] + [i.end_line for i in instructions])
    rest = base.text + (f" AS {name}" if name else "")
    return Stage(
        index=index,
        name=name.lower() if name else None,
        name_as_written=name,
        line=line,
        end_line=end,
        base=base,
        platform=platform,
        reachable=reachable,
        instructions=instructions,
        from_instruction=ins("FROM", line, rest),
        onbuild_inherited=onbuild_inherited,
    )


def image_base(text: str, ref: str) -> Base:
    """A FROM of an image."""
    return Base(BaseKind.IMAGE, text, text, image=ref)


def stage_base(text: str, index: int) -> Base:
    """A FROM of an earlier stage."""
    return Base(BaseKind.STAGE, text, text, stage=index)


def sample_graph(label: str = "builder") -> Graph:
    """Four stages using every node kind, edge kind, state and a diagnostic.

    ``label`` is used as the first stage's name, so hostile text can be put in a label.
    """
    s0 = stage(
        0,
        label,
        1,
        image_base("golang:1.22", "docker.io/library/golang:1.22"),
        (ins("WORKDIR", 2, "/src"), ins("RUN", 3, "go build -o /out/app ./...")),
    )
    s1 = stage(
        1,
        "tools",
        5,
        image_base("alpine:3.20", "docker.io/library/alpine:3.20"),
        (ins("RUN", 6, "apk add git"), ins("ONBUILD", 7, "COPY . /src")),
        reachable=False,
    )
    s2 = stage(
        2,
        "base",
        9,
        image_base("docker.io/library/alpine:3.20", "docker.io/library/alpine:3.20"),
        (
            ins("COPY", 10, f"--from={label} /out/app /app"),
            ins("ADD", 11, "https://example.com/a.tgz /a.tgz"),
            ins("ADD", 12, "https://github.com/moby/buildkit.git#v0.10.1 /bk"),
            ins("RUN", 13, "--mount=type=bind,from=tools,target=/t ls /t"),
            ins("COPY", 14, "--from=$X /x /x"),
            ins("ENV", 15, "A=1"),
        ),
        platform="linux/arm64",
    )
    s3 = stage(3, None, 17, stage_base("base", 2), (ins("COPY", 18, ". /src"),), onbuild_inherited=1)
    s4 = stage(4, "empty", 20, Base(BaseKind.SCRATCH, "scratch", "scratch"), reachable=False)
    edges = (
        Edge(
            EdgeKind.FROM,
            Source(SourceKind.IMAGE, ref="docker.io/library/golang:1.22", text="golang:1.22"),
            0,
            1,
        ),
        Edge(
            EdgeKind.FROM,
            Source(SourceKind.IMAGE, ref="docker.io/library/alpine:3.20", text="alpine:3.20"),
            1,
            5,
        ),
        Edge(
            EdgeKind.FROM,
            Source(
                SourceKind.IMAGE, ref="docker.io/library/alpine:3.20", text="docker.io/library/alpine:3.20"
            ),
            2,
            9,
        ),
        Edge(EdgeKind.COPY, Source(SourceKind.STAGE, stage=0, text=label), 2, 10),
        Edge(EdgeKind.ADD, Source(SourceKind.URL, ref="https://example.com/a.tgz"), 2, 11),
        Edge(EdgeKind.ADD, Source(SourceKind.GIT, ref="https://github.com/moby/buildkit.git#v0.10.1"), 2, 12),
        Edge(
            EdgeKind.MOUNT,
            Source(SourceKind.STAGE, stage=1, text="tools"),
            2,
            13,
            mount_type="bind",
            mount_target="/t",
        ),
        Edge(EdgeKind.COPY, Source(SourceKind.INVALID, text="$X"), 2, 14),
        Edge(EdgeKind.FROM, Source(SourceKind.STAGE, stage=2, text="base"), 3, 17),
        Edge(EdgeKind.COPY, Source(SourceKind.CONTEXT), 3, 7, onbuild=True),
        Edge(EdgeKind.COPY, Source(SourceKind.CONTEXT), 3, 18),
        Edge(EdgeKind.FROM, Source(SourceKind.SCRATCH, text="scratch"), 4, 20),
    )
    diagnostics = (
        Diagnostic(
            Severity.ERROR, "invalid-from", "'from' doesn't support variable expansion", line=14, stage=2
        ),
        Diagnostic(Severity.WARNING, "StageNameCasing", "Stage name should be lowercase", line=20, stage=4),
    )
    return Graph(stages=(s0, s1, s2, s3, s4), edges=edges, target=3, diagnostics=diagnostics)


def chain_graph(n: int) -> Graph:
    """``n`` stages, each FROM the previous one with one COPY from the build context."""
    stages = []
    edges = []
    for i in range(n):
        line = 3 * i + 1
        if i == 0:
            base = image_base("alpine:3.20", "docker.io/library/alpine:3.20")
            edges.append(
                Edge(EdgeKind.FROM, Source(SourceKind.IMAGE, ref=base.image, text=base.text), 0, line)
            )
        else:
            base = stage_base(f"s{i - 1}", i - 1)
            edges.append(
                Edge(EdgeKind.FROM, Source(SourceKind.STAGE, stage=i - 1, text=f"s{i - 1}"), i, line)
            )
        stages.append(stage(i, f"s{i}", line, base, (ins("COPY", line + 1, f"f{i} /f{i}"),)))
        edges.append(Edge(EdgeKind.COPY, Source(SourceKind.CONTEXT), i, line + 1))
    return Graph(stages=tuple(stages), edges=tuple(edges), target=n - 1, diagnostics=())


# --- scene tests -------------------------------------------------------------------------------


def test_stages_view_has_one_node_per_stage_and_per_normalised_image():
    scene = build_scene(sample_graph(), "stages", legend=False)
    ids = [n.id for n in scene.nodes]
    assert ids == [
        "stage-0",
        "stage-1",
        "stage-2",
        "stage-3",
        "stage-4",
        "img-0",
        "img-1",
        "url-0",
        "git-0",
        "invalid-0",
        "context",
        "scratch",
    ]
    # alpine:3.20 and docker.io/library/alpine:3.20 are one node
    assert [e.tail for e in scene.edges if e.head in ("stage-1", "stage-2") and e.kind == "from"] == [
        "img-1",
        "img-1",
    ]


def test_edge_ids_are_indexes_into_graph_edges():
    graph = sample_graph()
    for view in ("stages", "layers"):
        scene = build_scene(graph, view)
        graph_edge_ids = [e.id for e in scene.edges if e.id.startswith("edge-")]
        assert graph_edge_ids == [f"edge-{n}" for n in range(len(graph.edges))]


def test_states_target_unreachable_and_diagnostics():
    scene = build_scene(sample_graph(), "stages", legend=False)
    nodes = {n.id: n for n in scene.nodes}
    edges = {e.id: e for e in scene.edges}
    assert nodes["stage-3"].states == ("target",)
    assert "target" in nodes["stage-3"].lines[-1]
    assert nodes["stage-1"].states == ("unreachable",)
    assert nodes["stage-2"].states == ("error",)
    assert nodes["stage-4"].states == ("unreachable", "warning")
    assert edges["edge-7"].states == ("error",)  # COPY --from=$X on line 14
    assert edges["edge-9"].states == ("onbuild",)
    assert edges["edge-6"].states == ()
    # scratch is used only by an unreachable stage, so it is greyed too
    assert nodes["scratch"].states == ("unreachable",)
    assert nodes["img-1"].states == ()


def test_stage_label_has_name_base_counts_and_platform():
    scene = build_scene(sample_graph(), "stages", legend=False)
    nodes = {n.id: n for n in scene.nodes}
    assert nodes["stage-2"].lines == (
        "base",
        "FROM docker.io/library/alpine:3.20",
        "6 instructions \u00b7 5 layers",
        "platform linux/arm64",
    )
    assert nodes["stage-3"].lines[:3] == (
        "stage-3",
        "FROM base",
        "1 instruction \u00b7 1 layer \u00b7 +1 ONBUILD",
    )
    assert nodes["img-0"].lines == ("golang:1.22",)


def test_layers_view_lands_copy_from_on_its_instruction():
    scene = build_scene(sample_graph(), "layers", legend=False)
    edges = {e.id: e for e in scene.edges}
    nodes = {n.id: n for n in scene.nodes}
    assert (edges["edge-3"].tail, edges["edge-3"].head) == ("ins-0-1", "ins-2-0")  # COPY --from=builder
    assert (edges["edge-6"].tail, edges["edge-6"].head) == ("ins-1-1", "ins-2-3")  # mount from tools
    assert edges["edge-8"].head == "ins-3-from"  # FROM base
    assert edges["edge-9"].head == "ins-3-from"  # inherited ONBUILD runs right after FROM
    assert nodes["ins-0-1"].kind == "layer" and nodes["ins-0-0"].kind == "meta"
    assert nodes["ins-2-4"].states == ("error",)
    chain = [(e.tail, e.head) for e in scene.edges if e.id.startswith("chain-0-")]
    assert chain == [("ins-0-from", "ins-0-0"), ("ins-0-0", "ins-0-1")]
    assert [c.id for c in scene.clusters] == [f"cluster_stage_{i}" for i in range(5)]


def test_short_image_only_strips_docker_hub_prefixes():
    assert short_image("docker.io/library/golang:1.22") == "golang:1.22"
    assert short_image("docker.io/moby/buildkit:latest") == "moby/buildkit:latest"
    assert short_image("ghcr.io/x/y:1") == "ghcr.io/x/y:1"
