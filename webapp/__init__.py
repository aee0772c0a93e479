"""Dockerfile visualizer: Dockerfile text -> BuildKit build graph -> DOT, SVG, PNG, Mermaid.

The small public API is :func:`analyze` (text to :class:`~webapp.model.Graph`) and
:func:`render` (graph to bytes in one format). Nothing heavy is imported here.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__", "analyze", "render"]


def analyze(text, **options):
    """Analyse Dockerfile text (str or bytes); see :func:`webapp.analysis.analyze`."""
    from .analysis import analyze as _analyze

    return _analyze(text, **options)


def render(graph, fmt="svg", view="stages", **options):
    """Render a graph; see :func:`webapp.render.render`."""
    from .render import render as _render

    return _render(graph, fmt, view, **options)
