"""Whole projects: several Dockerfiles tied together by bake files, compose files and scripts.

The core takes text: :func:`analyze_project` reads a ``{relative path: text}`` mapping (the
readers in :mod:`.inputs` make one from an archive, a folder or a JSON body, within bounds) and
returns a :class:`Project`, whose :meth:`Project.to_dict` is the JSON documented in
docs/json-format.md. Imports point down the pipeline only (no Flask, no storage).
"""

from __future__ import annotations

from ..options import parse_build_contexts, parse_variables
from .core import Project, analyze_project
from .inputs import ProjectInputError, ProjectTooLarge, from_archive, from_directory, from_mapping, from_paths

__all__ = [
    "Project",
    "ProjectInputError",
    "ProjectTooLarge",
    "analyze_project",
    "from_archive",
    "from_directory",
    "from_mapping",
    "from_paths",
    "parse_build_contexts",
    "parse_variables",
]
