"""How each kind of node and edge looks: one table per output format.

A colour or shape change touches one table here (and the golden files). The keys are the scene's
node kinds, edge kinds and state classes (see :mod:`webapp.render.scene`); the DOT tables hold
only attributes from :data:`DOT_ALLOWED`, checked when the DOT text is written.
"""

from __future__ import annotations

from types import MappingProxyType

FONT = "Helvetica"
"""Every font in DOT output (a constant: Graphviz copies fontname into SVG unescaped)."""
DPI = "96"
"""Raster resolution for PNG, passed as ``-Gdpi`` (a constant: a large dpi can take gigabytes)."""

TEXT_WIDTHS = (
    318,
    401,
    460,
    838,
    636,
    950,
    780,
    275,
    390,
    390,
    500,
    838,
    318,
    361,
    318,
    337,
    636,
    636,
    636,
    636,
    636,
    636,
    636,
    636,
    636,
    636,
    337,
    337,
    838,
    838,
    838,
    531,
    1000,
    684,
    686,
    698,
    770,
    632,
    575,
    775,
    752,
    295,
    295,
    656,
    557,
    863,
    748,
    787,
    603,
    787,
    695,
    635,
    611,
    732,
    684,
    989,
    685,
    611,
    685,
    390,
    337,
    390,
    838,
    500,
    500,
    613,
    635,
    550,
    635,
    615,
    352,
    635,
    634,
    278,
    278,
    579,
    278,
    974,
    634,
    612,
    635,
    635,
    411,
    521,
    392,
    634,
    592,
    818,
    592,
    592,
    525,
    636,
    337,
    636,
    838,
)
"""Advance widths of the printable ASCII characters (space to ``~``) in thousandths of the font
size, in DejaVu Sans: what browsers on Linux draw for ``Helvetica`` when it is not installed, and
wider than Helvetica and Arial for nearly all of them. The DOT writer sizes each label
with them (``dot`` itself only knows Arial's narrower widths when it lays out without pango)."""
TEXT_WIDTH_OTHER = 1000
"""Width of any other character (a full em: wide enough for CJK and symbols)."""
TEXT_WIDTH_EXTRA = MappingProxyType({"\u00b7": 318, "\u2605": 896, "\u2026": 1000})
"""Widths of the non-ASCII characters our own labels use (middle dot, star, ellipsis)."""
TEXT_PAD = MappingProxyType({"box": 16.0 + 4.0, "legend": 11.52 + 4.0})
"""Points added to the widest label line: dot's own padding (16 pt, or twice a 0.08 in margin
for legend entries) plus 4 pt of slack for kerning and rounding differences between browsers."""
SHAPE_FACTOR = MappingProxyType({"octagon": 1.25, "cylinder": 1.05})
"""How much wider than a box a shape must be to hold the same label."""

# --- palette -------------------------------------------------------------------------------------
INK = "#1f2937"
MUTED = "#9ca3af"
MUTED_FILL = "#f3f4f6"
ERROR = "#dc2626"
WARNING = "#d97706"
FROM_COLOUR = "#374151"
COPY_COLOUR = "#2563eb"
ADD_COLOUR = "#059669"
MOUNT_COLOUR = "#9333ea"

DOT_ALLOWED = frozenset(
    {
        "arrowhead",
        "arrowsize",
        "bgcolor",
        "class",
        "color",
        "compound",
        "dpi",
        "fillcolor",
        "fontcolor",
        "fontname",
        "fontsize",
        "height",
        "id",
        "label",
        "labeljust",
        "labelloc",
        "margin",
        "newrank",
        "nodesep",
        "outputorder",
        "pad",
        "penwidth",
        "peripheries",
        "rank",
        "rankdir",
        "ranksep",
        "shape",
        "style",
        "width",
        "xlabel",
    }
)
"""The only DOT attributes we ever write. Never URL, href, tooltip, image, stylesheet."""


def _frozen(table: dict) -> MappingProxyType:
    return MappingProxyType({k: MappingProxyType(v) for k, v in table.items()})


_GRAPH_COMMON = {
    "newrank": "true",
    "outputorder": "edgesfirst",
    "pad": "0.2",
    "bgcolor": "white",
    "fontname": FONT,
    "fontsize": "12",
}
"""Graph attributes both views share."""

DOT_GRAPH = MappingProxyType(
    {
        "stages": MappingProxyType({**_GRAPH_COMMON, "rankdir": "LR", "ranksep": "0.6", "nodesep": "0.25"}),
        "layers": MappingProxyType({**_GRAPH_COMMON, "rankdir": "TB", "ranksep": "0.35", "nodesep": "0.3"}),
    }
)
"""Graph attributes per view."""

DOT_NODE_DEFAULT = MappingProxyType({"fontname": FONT, "fontsize": "11", "color": INK, "fontcolor": INK})
DOT_EDGE_DEFAULT = MappingProxyType({"fontname": FONT, "fontsize": "9", "arrowsize": "0.7"})

DOT_NODE = _frozen(
    {
        "stage": {"shape": "box", "style": "rounded,filled", "fillcolor": "#eef2ff", "color": "#4f46e5"},
        "image": {"shape": "cylinder", "style": "filled", "fillcolor": "#f1f5f9", "color": "#475569"},
        "context": {"shape": "folder", "style": "filled", "fillcolor": "#fef9c3", "color": "#a16207"},
        "url": {"shape": "note", "style": "filled", "fillcolor": "#ecfeff", "color": "#0e7490"},
        "git": {"shape": "tab", "style": "filled", "fillcolor": "#f0fdf4", "color": "#15803d"},
        "scratch": {"shape": "box", "style": "dashed", "color": "#6b7280", "fontcolor": "#6b7280"},
        "invalid": {"shape": "octagon", "style": "filled", "fillcolor": "#fee2e2", "color": ERROR},
        "from": {"shape": "box", "style": "rounded,filled,bold", "fillcolor": "#e0e7ff", "color": "#4f46e5"},
        "layer": {"shape": "box", "style": "filled", "fillcolor": "#dbeafe", "color": "#1d4ed8"},
        "meta": {
            "shape": "box",
            "style": "rounded,dashed",
            "color": "#9ca3af",
            "fontcolor": "#4b5563",
            "fontsize": "10",
        },
        "legend": {"shape": "box", "style": "filled", "fillcolor": "white", "fontsize": "9"},
        "legend-point": {"shape": "point", "width": "0.05", "height": "0.05", "color": MUTED},
    }
)
"""Node kind -> DOT attributes."""

DOT_NODE_STATE = _frozen(
    {
        "target": {"peripheries": "2", "penwidth": "1.6"},
        "unreachable": {"fillcolor": MUTED_FILL, "color": MUTED, "fontcolor": MUTED},
        "warning": {"color": WARNING, "penwidth": "2"},
        "error": {"color": ERROR, "penwidth": "2.4"},
    }
)
"""Node state -> DOT attributes laid over the kind's (in this order, so an error wins)."""

DOT_EDGE = _frozen(
    {
        "from": {"style": "bold", "color": FROM_COLOUR},
        "copy": {"style": "solid", "color": COPY_COLOUR},
        "add": {"style": "dashed", "color": ADD_COLOUR},
        "mount": {"style": "dotted", "color": MOUNT_COLOUR, "penwidth": "1.4"},
        "chain": {"style": "solid", "color": "#cbd5e1", "arrowhead": "none"},
        "invisible": {"style": "invis"},
    }
)
"""Edge kind -> DOT attributes (line pattern AND colour differ per kind)."""

DOT_EDGE_STATE = _frozen(
    {
        "onbuild": {"arrowhead": "empty", "penwidth": "1.6"},
        "unreachable": {"color": MUTED},
        "warning": {"color": WARNING},
        "error": {"color": ERROR},
    }
)
"""Edge state -> DOT attributes laid over the kind's, in this order."""

DOT_CLUSTER = MappingProxyType(
    {
        "stage": MappingProxyType(
            {"style": "rounded,filled", "fillcolor": "#f8fafc", "color": "#94a3b8", "labeljust": "l"}
        ),
        "legend": MappingProxyType(
            {"style": "rounded", "color": "#cbd5e1", "fontsize": "10", "labeljust": "l", "margin": "8"}
        ),
    }
)
"""Cluster kind -> DOT attributes."""

DOT_CLUSTER_STATE = _frozen(
    {
        "target": {"penwidth": "2.4", "color": "#4f46e5"},
        "unreachable": {"fillcolor": MUTED_FILL, "fontcolor": MUTED},
    }
)
"""Cluster state -> DOT attributes."""

# --- Mermaid --------------------------------------------------------------------------------------

MERMAID_SHAPE = MappingProxyType(
    {
        "stage": ('("', '")'),
        "image": ('[("', '")]'),
        "context": ('[/"', '"/]'),
        "url": ('>"', '"]'),
        "git": ('{{"', '"}}'),
        "scratch": ('["', '"]'),
        "invalid": ('{"', '"}'),
        "from": ('(["', '"])'),
        "layer": ('["', '"]'),
        "meta": ('("', '")'),
    }
)
"""Node kind -> Mermaid opening and closing brackets around the quoted label."""

MERMAID_CLASS = MappingProxyType(
    {
        "stage": "fill:#eef2ff,stroke:#4f46e5,color:#1f2937",
        "image": "fill:#f1f5f9,stroke:#475569,color:#1f2937",
        "context": "fill:#fef9c3,stroke:#a16207,color:#1f2937",
        "url": "fill:#ecfeff,stroke:#0e7490,color:#1f2937",
        "git": "fill:#f0fdf4,stroke:#15803d,color:#1f2937",
        "scratch": "fill:#ffffff,stroke:#6b7280,stroke-dasharray:4 3,color:#6b7280",
        "invalid": "fill:#fee2e2,stroke:#dc2626,color:#1f2937",
        "from": "fill:#e0e7ff,stroke:#4f46e5,stroke-width:2px,color:#1f2937",
        "layer": "fill:#dbeafe,stroke:#1d4ed8,color:#1f2937",
        "meta": "fill:#ffffff,stroke:#9ca3af,stroke-dasharray:4 3,color:#4b5563",
        "target": "stroke-width:4px",
        "unreachable": "fill:#f3f4f6,stroke:#9ca3af,color:#9ca3af",
        "warning": "stroke:#d97706,stroke-width:3px",
        "error": "stroke:#dc2626,stroke-width:3px",
    }
)
"""Node kind or state -> Mermaid classDef body; states are applied after kinds."""

MERMAID_ARROW = MappingProxyType(
    {
        ("from", False): "==>",
        ("copy", False): "-->",
        ("add", False): "-.->",
        ("mount", False): "-.->",
        ("chain", False): "---",
        ("from", True): "==o",
        ("copy", True): "--o",
        ("add", True): "-.-o",
        ("mount", True): "-.-o",
    }
)
"""(edge kind, onbuild) -> Mermaid link; onbuild edges end in a circle."""

MERMAID_LINK = _frozen(
    {
        "from": {"stroke": FROM_COLOUR, "stroke-width": "2.5px"},
        "copy": {"stroke": COPY_COLOUR, "stroke-width": "1.5px"},
        "add": {"stroke": ADD_COLOUR, "stroke-width": "1.5px", "stroke-dasharray": "6 4"},
        "mount": {"stroke": MOUNT_COLOUR, "stroke-width": "1.5px", "stroke-dasharray": "2 3"},
        "chain": {"stroke": "#cbd5e1", "stroke-width": "1px"},
    }
)
"""Edge kind -> Mermaid linkStyle properties."""

MERMAID_LINK_STATE = _frozen(
    {
        "unreachable": {"stroke": MUTED},
        "warning": {"stroke": WARNING},
        "error": {"stroke": ERROR},
    }
)
"""Edge state -> Mermaid linkStyle properties laid over the kind's, in this order."""
