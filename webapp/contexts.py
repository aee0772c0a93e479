"""Named build contexts (``--build-context name=value``) as BuildKit's Dockerfile frontend reads them.

A context is looked up by the familiar form of a reference name (``alpine``,
``docker.io/library/alpine`` and ``alpine:latest`` are one key: dockerui's ``NamedContext``), and
its value says what it stands for: ``docker-image://REF`` an image (``scratch`` is scratch),
``target:NAME`` another bake target's result, ``oci-layout://`` an image from a layout, git and
HTTP URLs those sources, anything else a local directory (buildx sends it as a local context).
:mod:`webapp.analysis` applies them; this module only reads names and values.
"""

from __future__ import annotations

from .model import Base, BaseKind, Source, SourceKind
from .reference import ReferenceError, familiar, normalize

IMAGE_PREFIX = "docker-image://"
TARGET_PREFIX = "target:"
NEVER_NAMED = frozenset({"scratch", "context"})
"""Words BuildKit never looks up as named contexts."""


def context_key(name: str) -> str | None:
    """The lookup key of a context name: the familiar reference without ``:latest``; None if invalid."""
    try:
        ref = familiar(normalize(name))
    except ReferenceError:
        return None
    return ref[: -len(":latest")] if ref.endswith(":latest") else ref


def _remote_kind(value: str) -> BaseKind | None:
    if value.startswith(("git@", "git://", "ssh://")):
        return BaseKind.GIT
    if value.startswith(("http://", "https://")):
        path = value.split("://", 1)[1].split("#", 1)[0].split("?", 1)[0]
        return BaseKind.GIT if path.endswith(".git") else BaseKind.URL
    return BaseKind.URL if "://" in value else None


def context_base(text: str, value: str) -> Base:
    """What the context ``value`` stands for, as the base of a stage (``text`` is the word written)."""
    if value.startswith(IMAGE_PREFIX):
        ref = value[len(IMAGE_PREFIX) :]
        if ref == "scratch":
            return Base(BaseKind.SCRATCH, text, ref)
        try:
            return Base(BaseKind.IMAGE, text, ref, image=normalize(ref))
        except ReferenceError:
            return Base(BaseKind.IMAGE, text, ref, image=None)
    if value.startswith((TARGET_PREFIX, "oci-layout://")):
        return Base(BaseKind.IMAGE, text, value, image=None)
    return Base(_remote_kind(value) or BaseKind.CONTEXT, text, value)


def context_source(base: Base) -> Source:
    """The edge source of a context (``base`` from :func:`context_base`)."""
    kind = SourceKind(base.kind.value)
    ref = base.image or base.resolved if kind is not SourceKind.SCRATCH else None
    return Source(kind, ref=ref, text=base.text)


__all__ = ["NEVER_NAMED", "context_base", "context_key", "context_source"]
