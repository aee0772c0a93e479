"""Dockerfile visualizer: Dockerfile text -> BuildKit build graph -> DOT, SVG, PNG, Mermaid.

The small public API: :func:`analyze` (text to :class:`~webapp.model.Graph`) here, and
``webapp.render.render`` (graph to bytes in one format) in the renderer package. Nothing heavy
is imported here.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__", "analyze"]


def analyze(text, **options):
    """Analyse Dockerfile text (str or bytes); see :func:`webapp.analysis.analyze`."""
    from .analysis import analyze as _analyze

    return _analyze(text, **options)
