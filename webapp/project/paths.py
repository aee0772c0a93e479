"""Paths inside a project: everything is relative to the project root, with ``/`` separators."""

from __future__ import annotations

import posixpath

_REMOTE = ("http://", "https://", "git://", "ssh://", "git@")


def is_remote(value: str) -> bool:
    """True for a URL or git reference (a remote context we cannot see)."""
    return value.startswith(_REMOTE) or "://" in value


def join(folder: str, relative: str) -> str | None:
    """``relative`` seen from ``folder`` (both project-relative); None when it leaves the project."""
    if relative.startswith("/") or is_remote(relative):
        return None
    joined = posixpath.normpath(posixpath.join(folder or ".", relative))
    if joined == ".." or joined.startswith("../"):
        return None
    return joined


def folder_of(path: str) -> str:
    """The folder of a project file (``.`` at the root)."""
    return posixpath.dirname(path) or "."


def inside(path: str, folder: str) -> str | None:
    """``path`` relative to ``folder`` when it lies inside it, else None."""
    if folder in (".", ""):
        return path
    if path == folder:
        return "."
    if path.startswith(folder + "/"):
        return path[len(folder) + 1 :]
    return None
