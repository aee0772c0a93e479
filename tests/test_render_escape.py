"""Hostile text stays text: in DOT (checked through real Graphviz), in SVG and in Mermaid."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from test_render_graphs import sample_graph

from webapp.render import display_text, escape, escape_mermaid, run_dot, to_dot, to_mermaid
from webapp.render.escape import LABEL_LIMIT
from webapp.render.graphviz import run_dot_raw
from webapp.render.scene import LINE_WIDTH

SVG = "{http://www.w3.org/2000/svg}"

HOSTILE = {
    "quote": 'a"b',
    "quote-breakout": '"]; evil [label="pwned"]; x [label="',
    "backslash": "C:\\path\\to",
    "trailing-backslash": "ends with \\",
    "escaped-quote": '\\"',
    "node-name": "\\N",
    "graph-name": "\\G",
    "left-justify": "a\\lb",
    "newline-escape": "a\\nb",
    "other-escapes": "\\E \\T \\H \\L \\r",
    "html-bold": "<b>x</b>",
    "html-label": "<<table><tr><td>x</td></tr></table>>",
    "numeric-entity": "&#106;avascript:alert(1)",
    "hex-entity": "&#x6A;avascript:",
    "named-entities": "&amp; &lt; &quot;",
    "bare-ampersand": "a & b &",
    "script": "<script>alert(1)</script>",
    "img-src": '<IMG SRC="/etc/passwd"/>',
    "image-tag": "image:tag",
    "control-chars": "a\x00b\x07c\x1bd\x7fe",
    "newlines": "line1\nline2\r\nline3",
    "tab-and-spaces": "a\tb  c",
    "bidi-override": "\u202eevil\u202c",
    "c1-control": "a\x85b\x9bc",
    "record-syntax": "{a|<port>b}",
    "braces-semicolons": "}; digraph x {",
    "mermaid-entities": "#quot; #35; #lt;",
    "mermaid-markdown": "`**bold**`",
    "mermaid-arrow": 'x"] --> evil["y',
    "unicode": "na\u00efve \u2713 \u65e5\u672c",
    "long-10000": "x" * 10_000,
    "long-unicode": "\u00e9" * 10_000,
}
IDS = list(HOSTILE)
TEXTS = [HOSTILE[k] for k in IDS]


def _svg_text(root: ET.Element, node_id: str) -> list[str]:
    """The text lines Graphviz drew inside the group with ``node_id`` (NBSP as space)."""
    for group in root.iter(f"{SVG}g"):
        if group.get("id") == node_id:
            return ["".join(t.itertext()).replace("\xa0", " ") for t in group.iter(f"{SVG}text")]
    raise AssertionError(f"no group {node_id} in SVG")


@pytest.mark.parametrize("text", TEXTS, ids=IDS)
def test_escape_output_is_one_closed_dot_string(text):
    out = escape(text)
    # every quote is backslash-escaped: strip escaped pairs, no quote or lone backslash remains
    rest = re.sub(r"\\[\\\"]", "", out)
    assert '"' not in rest
    assert "\\" not in rest
    # no raw control characters, no entity Graphviz could decode
    assert not re.search(r"[\x00-\x1f\x7f-\x9f]", out)
    assert not re.search(r"&(?!amp;)", out)
    assert len(display_text(text)) <= LABEL_LIMIT


def test_long_text_is_cut_with_an_ellipsis():
    assert display_text("x" * 10_000) == "x" * (LABEL_LIMIT - 1) + "\u2026"
    assert display_text("short") == "short"
    assert display_text("a\x07\n\tb\x7f") == "a\u2407\u240a b\u2421"


@pytest.mark.dot
@pytest.mark.parametrize("text", TEXTS, ids=IDS)
def test_graphviz_draws_escaped_label_literally(text):
    dot = f'digraph g {{ "n" [id="n", label="{escape(text)}"]; }}'
    root = ET.fromstring(run_dot_raw(dot, "svg"))
    assert _svg_text(root, "n") == [display_text(text).replace("\xa0", " ")]
    assert sum(1 for g in root.iter(f"{SVG}g") if g.get("class") == "node") == 1


@pytest.mark.dot
@pytest.mark.parametrize("text", TEXTS, ids=IDS)
def test_hostile_stage_name_through_the_whole_pipeline(text):
    benign = ET.fromstring(run_dot(to_dot(sample_graph("builder")), "svg"))
    graph = sample_graph(text)
    svg = run_dot(to_dot(graph), "svg")
    root = ET.fromstring(svg)
    lines = _svg_text(root, "stage-0")
    assert lines[0] == display_text(graph.stages[0].display_name, LINE_WIDTH).replace("\xa0", " ")
    assert lines[1:] == _svg_text(benign, "stage-0")[1:]
    # the same nodes and edges as with a benign name: nothing was injected
    assert [g.get("id") for g in root.iter(f"{SVG}g")] == [g.get("id") for g in benign.iter(f"{SVG}g")]
    lowered = svg.lower()
    assert b"<script" not in lowered and b"<a " not in lowered and b"<image" not in lowered


_MERMAID_CODE = re.compile(r"#(quot|amp|lt|gt|\d+);")
_NAMED = {"quot": '"', "amp": "&", "lt": "<", "gt": ">"}


def _decode_mermaid(text: str) -> str:
    return _MERMAID_CODE.sub(lambda m: _NAMED.get(m.group(1)) or chr(int(m.group(1))), text)


@pytest.mark.parametrize("text", TEXTS, ids=IDS)
def test_escape_mermaid_round_trips_and_has_no_markup(text):
    out = escape_mermaid(text)
    for bad in ('"', "<", ">", "`", "\n", "\r"):
        assert bad not in out
    assert "&" not in out
    # every '#' starts one of our entity codes, so Mermaid decodes exactly what we meant
    assert _MERMAID_CODE.sub("", out).count("#") == 0
    assert _decode_mermaid(out) == display_text(text)


@pytest.mark.parametrize("text", TEXTS, ids=IDS)
def test_hostile_stage_name_in_mermaid_changes_only_its_label(text):
    benign = to_mermaid(sample_graph("builder")).splitlines()
    hostile = to_mermaid(sample_graph(text)).splitlines()
    assert len(hostile) == len(benign)
    changed = [(a, b) for a, b in zip(benign, hostile, strict=True) if a != b]
    assert len(changed) == 1
    line = changed[0][1]
    assert line.startswith('  stage_0("') and line.endswith('")')
    assert line.count('"') == 2
