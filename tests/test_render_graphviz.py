"""run_dot's sandbox (timeout, process group, errors), render() formats, limits and determinism."""

from __future__ import annotations

import json
import os
import shutil
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from test_render_graphs import chain_graph, sample_graph

import webapp.render as render_pkg
from webapp.errors import RenderError, RenderTimeout
from webapp.render import MAX_ELEMENTS, MIMETYPES, graphviz_version, render, run_dot, to_dot
from webapp.render import graphviz as gv

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _gone(pid: int, within: float = 3.0) -> bool:
    """True once ``pid`` no longer exists (or is a zombie nobody has reaped yet)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        status = Path(f"/proc/{pid}/status")
        try:
            state = next(line for line in status.read_text().splitlines() if line.startswith("State:"))
        except (FileNotFoundError, ProcessLookupError):
            return True
        if "Z" in state.split()[1]:
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def fake_dot(tmp_path, monkeypatch):
    """Replace dot by a shell script; returns a function that writes the script body."""

    def install(body: str) -> Path:
        script = tmp_path / "dot"
        script.write_text("#!/bin/sh\n" + body)
        script.chmod(0o755)
        monkeypatch.setattr(gv, "_dot_path", lambda: str(script))
        return script

    return install


def test_timeout_kills_the_whole_process_group(fake_dot, tmp_path):
    pids = tmp_path / "pids"
    fake_dot(f"sleep 30 &\necho $! > {pids}\necho $$ >> {pids}\nwait\n")
    started = time.monotonic()
    with pytest.raises(RenderTimeout, match="longer than 0.5 s"):
        run_dot("digraph g { a; }", "svg", timeout=0.5)
    assert time.monotonic() - started < 2.5
    child, shell = (int(x) for x in pids.read_text().split())
    assert _gone(shell) and _gone(child), "dot or its child survived the timeout"


def test_environment_cwd_and_limits_are_minimal(fake_dot, tmp_path):
    report = tmp_path / "report"
    fake_dot(
        f'{{ env | sort; pwd; ls -A; ulimit -t; ulimit -v; ps -o sid= -p $$; }} > {report}\necho "<svg/>"\n'
    )
    with pytest.raises(RenderError):  # "<svg/>" without a namespace is not SVG
        run_dot("digraph g { a; }", "svg", timeout=3, memory_mb=256)
    lines = report.read_text().splitlines()
    env = dict(line.split("=", 1) for line in lines if "=" in line)
    assert env["SERVER_NAME"]
    assert "HOME" not in env and "PYTHONPATH" not in env and "VIRTUAL_ENV" not in env
    assert set(env) <= {"PATH", "SERVER_NAME", "LANG", "LC_ALL", "PWD", "SHLVL", "_", "GVBINDIR"}
    cwd = next(line for line in lines if line.startswith("/"))
    home = Path(cwd).parent
    assert home.name.startswith("render-") and Path(env["GVBINDIR"]).parent == home
    assert not home.exists()  # the one-off runner removed its folder (cwd was empty: no ls output)
    listed = [x for x in lines if "=" not in x and not x.startswith("/") and not x.strip().isdigit()]
    assert listed == []  # ls -A printed nothing: dot's working directory is empty
    numbers = [line.strip() for line in lines if line.strip().isdigit()]
    assert numbers[:2] == ["4", str(256 * 1024)]  # RLIMIT_CPU = timeout + 1, RLIMIT_AS in KiB
    assert int(numbers[2]) != os.getsid(0)  # its own session


def test_a_nice_runner_lowers_dots_priority(fake_dot, tmp_path):
    report = tmp_path / "report"
    fake_dot(f"cat > /dev/null\nps -o ni= -p $$ > {report}\n")
    with gv.DotRunner(nice=7) as runner, pytest.raises(RenderError):  # empty output is no SVG
        runner.run("digraph g { a; }", "svg")
    assert int(report.read_text()) == os.getpriority(os.PRIO_PROCESS, 0) + 7
    with gv.DotRunner() as runner, pytest.raises(RenderError):
        runner.run("digraph g { a; }", "svg")
    assert int(report.read_text()) == os.getpriority(os.PRIO_PROCESS, 0)


def test_the_dot_path_is_remembered_but_looked_for_again_once_gone(tmp_path, monkeypatch):
    fake = tmp_path / "dot"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    monkeypatch.setattr(gv, "_found", {"dot": str(fake)})
    assert gv._dot_path() == str(fake)  # remembered: PATH is not searched again
    fake.unlink()
    assert gv._dot_path() == shutil.which("dot", path=gv.SAFE_PATH)


def test_nonzero_exit_is_a_one_line_render_error(fake_dot):
    fake_dot("echo \"Error: <stdin>: syntax error in line 1 near 'x'\" >&2\necho more >&2\nexit 1\n")
    with pytest.raises(RenderError) as info:
        run_dot("digraph g { a; }", "svg")
    assert not isinstance(info.value, RenderTimeout)
    assert info.value.message == "Graphviz failed: Error: <stdin>: syntax error in line 1 near 'x'"
    assert "\n" not in info.value.message


def test_missing_dot_is_a_render_error(monkeypatch):
    monkeypatch.setattr(gv, "_dot_path", lambda: None)
    with pytest.raises(RenderError, match="^Graphviz 'dot' is not installed$"):
        run_dot("digraph g { a; }", "png")


def test_unknown_format_is_refused():
    with pytest.raises(ValueError):
        run_dot("digraph g { a; }", "pdf")


@pytest.mark.dot
def test_a_slow_real_graph_times_out_in_time():
    edges = " ".join(f"n{i} -> n{j};" for i in range(120) for j in range(i + 1, 120, 2))
    started = time.monotonic()
    with pytest.raises(RenderTimeout):
        run_dot(f"digraph g {{ {edges} }}", "svg", timeout=0.5)
    assert time.monotonic() - started < 2.5


@pytest.mark.dot
def test_bad_dot_from_graphviz_is_a_render_error():
    with pytest.raises(RenderError, match="^Graphviz failed: .*syntax error"):
        run_dot("digraph g { a -> ; }", "svg")


@pytest.mark.dot
def test_png_starts_with_the_png_signature():
    body, mimetype = render(sample_graph(), "png")
    assert body.startswith(PNG_SIGNATURE)
    assert mimetype == "image/png"


@pytest.mark.dot
def test_svg_keeps_our_ids_and_classes_for_click_mapping():
    graph = sample_graph()
    body, mimetype = render(graph, "svg")
    assert mimetype == "image/svg+xml"
    text = body.decode()
    assert text.startswith('<svg xmlns="http://www.w3.org/2000/svg"')
    for n in range(len(graph.edges)):
        assert f'id="edge-{n}"' in text
    classes = {el.get("id"): el.get("class") for el in ET.fromstring(body).iter() if el.get("id")}
    assert classes["stage-3"] == "node stage reachable target"
    assert classes["edge-9"] == "edge copy onbuild"
    assert classes["stage-1"] == "node stage unreachable"
    assert "cluster-legend" in classes


@pytest.mark.dot
@pytest.mark.parametrize("fmt", ["json", "dot", "svg", "png", "mermaid"])
@pytest.mark.parametrize("view", ["stages", "layers"])
def test_render_is_deterministic(fmt, view):
    first = render(sample_graph(), fmt, view)
    second = render(sample_graph(), fmt, view)
    assert first == second
    assert first[1] == MIMETYPES[fmt]


def test_text_formats_and_mimetypes():
    graph = sample_graph()
    body, mimetype = render(graph, "json")
    assert mimetype == "application/json"
    assert body == json.dumps(graph.to_dict(), sort_keys=True, separators=(",", ":")).encode() + b"\n"
    pretty, _ = render(graph, "json", pretty=True)  # the command line's readable form
    assert pretty == json.dumps(graph.to_dict(), sort_keys=True, indent=2).encode() + b"\n"
    body, mimetype = render(graph, "dot", "layers")
    assert (body.decode(), mimetype) == (to_dot(graph, "layers"), "text/vnd.graphviz; charset=utf-8")
    body, mimetype = render(graph, "mermaid")
    assert body.startswith(b"%%") and b"flowchart LR" in body and mimetype == "text/plain; charset=utf-8"
    with pytest.raises(ValueError):
        render(graph, "pdf")


def test_dense_graph_is_refused_before_dot_runs(monkeypatch):
    monkeypatch.setattr(gv, "_dot_path", lambda: pytest.fail("dot must not run"))
    graph = chain_graph(MAX_ELEMENTS // 3 + 10)  # stages + context + 2 edges each
    started = time.monotonic()
    with pytest.raises(RenderError, match="too large to draw") as info:
        render(graph, "svg")
    assert not isinstance(info.value, RenderTimeout)
    assert time.monotonic() - started < 5
    render(graph, "dot")  # text formats are still available


@pytest.mark.dot
def test_graphviz_version_is_cached_and_looks_like_a_version():
    gv._known_version.cache_clear()
    version = graphviz_version()
    assert version.count(".") >= 1 and version.split(".")[0].isdigit()
    assert graphviz_version() is version


def test_graphviz_version_without_dot(monkeypatch):
    monkeypatch.setattr(gv, "_dot_path", lambda: None)
    assert graphviz_version() == "none"


def test_a_hanging_dot_version_is_stopped_with_its_group(fake_dot, tmp_path):
    pids = tmp_path / "pids"
    script = fake_dot(f"sleep 30 &\necho $! > {pids}\necho $$ >> {pids}\nwait\n")
    started = time.monotonic()
    assert gv.dot_version(str(script), timeout=0.5) is None
    assert time.monotonic() - started < 2.5
    child, shell = (int(x) for x in pids.read_text().split())
    assert _gone(shell) and _gone(child), "dot -V or its child survived its timeout"


def test_renderer_version_is_a_string():
    assert isinstance(render_pkg.RENDERER_VERSION, str) and render_pkg.RENDERER_VERSION


@pytest.mark.dot
@pytest.mark.parametrize("view", ["stages", "layers"])
def test_svg_legend_is_drawn_apart_and_placed_above(view):
    from webapp.render.sanitize import parse_sanitized

    graph = sample_graph()
    with gv.DotRunner() as runner:
        body, _ = render(graph, "svg", view, runner=runner)
        again, _ = render(graph, "svg", view, runner=runner)
        assert again == body and len(runner._state.legends) == 1  # drawn once, then kept
    root = parse_sanitized(body)
    ns = "{http://www.w3.org/2000/svg}"
    main, legend = root.findall(ns + "g")
    assert main.get("id") == "graph0" and legend.get("id") == "legend-graph"
    assert main.find(f".//{ns}g[@id='cluster-legend']") is None  # dot laid out the graph alone
    assert legend.find(f".//{ns}g[@id='cluster-legend']") is not None
    assert "legend-edge-copy" in {g.get("id") for g in legend.iter(ns + "g")}
    # the canvas holds both: the graph moved down by the legend's height, its background grew
    height = float(root.get("viewBox").split()[3])
    ty = float(main.get("transform").split("translate(")[1].split()[1].rstrip(")"))
    ly = float(legend.get("transform").split("translate(")[1].split()[1].rstrip(")"))
    assert ly < ty < height
    points = main.find(ns + "polygon").get("points").split()
    assert float(points[1].split(",")[1]) == pytest.approx(-ty)
    # PNG and the DOT format keep the legend inside the graph
    assert 'subgraph "cluster_legend"' in render(graph, "dot", view)[0].decode()


def test_compact_json_is_the_standard_encoders_output_with_sorted_keys():
    value = {"b": ["é", 1, None, True], "a": {"z": "</script>", "y": 2.5}}
    expected = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n"
    assert render_pkg.compact_json(value) == expected.encode("utf-8")


def test_compact_json_escapes_text_that_is_not_unicode():
    body = render_pkg.compact_json({"text": "RUN echo \udcff"})  # an undecodable byte kept
    assert body == b'{"text":"RUN echo \\udcff"}\n'
    assert json.loads(body) == {"text": "RUN echo \udcff"}


@pytest.mark.dot
@pytest.mark.parametrize("view", ["stages", "layers"])
def test_svg_rounds_the_boxes_dot_drew_square(view):
    from webapp.render.dot import rounded_ids, scene_to_dot
    from webapp.render.sanitize import parse_sanitized
    from webapp.render.scene import build_scene

    graph = sample_graph()
    scene = build_scene(graph, view, legend=False)
    ids = rounded_ids(scene)
    # stages in the stages view; FROM and metadata nodes and the stage clusters in the layers view
    boxes = {n.id for n in scene.nodes if n.kind in ("stage", "from", "meta")}
    boxes |= {c.id.replace("_", "-") for c in scene.clusters if c.kind == "stage"}
    assert boxes and ids == boxes
    assert not ids & {n.id for n in scene.nodes if n.kind == "image"}  # cylinders stay dot's
    assert "rounded" not in scene_to_dot(scene, square=True)
    assert "rounded" in scene_to_dot(scene)  # the DOT format and PNG keep dot's own corners
    body, _ = render(graph, "svg", view)
    ns = "{http://www.w3.org/2000/svg}"
    groups = {g.get("id"): g for g in parse_sanitized(body).iter(ns + "g")}
    for name in ids:
        outline = list(groups[name])[1]  # after the <title>
        assert outline.tag == ns + "path" and outline.get("points") is None
        d = outline.get("d")
        assert d.startswith("M") and d.count("c") == 4 and d.endswith("z")  # four round corners
        assert outline.get("fill") and outline.get("stroke")  # dot's colours kept


def test_round_boxes_rounds_rectangles_only():
    from lxml import etree

    from webapp.render.sanitize import round_boxes

    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg"><g id="a">'
        '<polygon fill="red" points="0,0 30,0 30,-90 0,-90 0,0"/><polygon points="0,0 10,5 0,10 0,0"/></g>'
        '<g id="b"><polygon points="0,0 30,0 30,30 0,30 0,0"/></g></svg>'
    )
    root = etree.fromstring(svg)
    round_boxes(root.iter(), frozenset({"a"}))
    ns = "{http://www.w3.org/2000/svg}"
    box, triangle = list(root.find(ns + "g"))
    # a third of the shorter side (30) when that is under Graphviz's 12
    assert box.tag == ns + "path" and box.get("fill") == "red"
    # Graphviz's corners (a cubic per corner, control points half way) in relative moves
    assert box.get("d") == (
        "M10.00,-90.00h10.00c5.00,0 10.00,5.00 10.00,10.00v70.00c0,5.00 -5.00,10.00 -10.00,10.00"
        "h-10.00c-5.00,0 -10.00,-5.00 -10.00,-10.00v-70.00c0,-5.00 5.00,-10.00 10.00,-10.00z"
    )
    assert triangle.tag == ns + "polygon"  # not a rectangle: left as it is
    assert root.find(f"{ns}g[@id='b']/{ns}polygon") is not None  # not named: left as it is
