"""Which files a project is made of, by name alone."""

from __future__ import annotations

from enum import StrEnum


class FileKind(StrEnum):
    """What a project file is."""

    DOCKERFILE = "dockerfile"
    BAKE_HCL = "bake-hcl"
    BAKE_JSON = "bake-json"
    COMPOSE = "compose"
    SCRIPT = "script"
    MAKEFILE = "makefile"


_COMPOSE = frozenset({"compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml"})


def kind_of(path: str) -> FileKind | None:
    """The kind of the file at ``path`` (a relative ``/`` path), or None when it is not one of ours.

    Dockerfiles: ``Dockerfile``, ``Dockerfile.<x>``, ``<x>.Dockerfile`` (any case of the word
    ``dockerfile``, as editors and buildx users write them); bake: ``docker-bake*.hcl`` and
    ``docker-bake*.json``; compose: ``compose.y(a)ml`` and ``docker-compose.y(a)ml`` and their
    ``*.override.*``/``-<x>`` variants; scripts: ``*.sh``, ``*.bash``; ``Makefile``.
    """
    name = path.rsplit("/", 1)[-1]
    lower = name.lower()
    if lower == "dockerfile" or lower.startswith("dockerfile.") or lower.endswith(".dockerfile"):
        return FileKind.DOCKERFILE
    if lower.startswith("docker-bake"):
        if lower.endswith(".hcl"):
            return FileKind.BAKE_HCL
        if lower.endswith(".json"):
            return FileKind.BAKE_JSON
    if lower in _COMPOSE or (
        lower.startswith(("compose.", "compose-", "docker-compose.", "docker-compose-"))
        and lower.endswith((".yaml", ".yml"))
    ):
        return FileKind.COMPOSE
    if lower.endswith((".sh", ".bash")):
        return FileKind.SCRIPT
    if lower in ("makefile", "gnumakefile"):
        return FileKind.MAKEFILE
    return None


def may_be_bake(path: str) -> bool:
    """True for an ``.hcl`` file not named ``docker-bake*``: a bake file when its text has bake's
    blocks (buildx reads any file given with ``-f``; the core decides from the text)."""
    return path.lower().endswith(".hcl")
