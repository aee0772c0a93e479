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


_USES = {"copy": "COPY --from", "mount": "RUN --mount from"}
"""Edges whose source word BuildKit looks up as a named context, and how the editor names them."""


def context_names(graph: dict, contexts: dict[str, str] | None = None) -> list[dict]:
    """The words of a graph (its JSON, ``Graph.to_dict()``) a named build context would replace.

    Stage names, the image words of ``FROM`` (after ARG expansion) and the words of
    ``COPY --from`` / ``RUN --mount from=`` that are not stages, as BuildKit's frontend looks them
    up; each once (by :func:`context_key`), in line order: ``[{"name", "line", "use"}]`` with
    ``use`` one of ``stage``, ``FROM``, ``COPY --from``, ``RUN --mount from``. ``contexts`` are
    those the graph was analysed with: a word they already replace is listed as written.
    """
    given = {context_key(k) for k in contexts or {}}
    found: list[tuple[int, str, str]] = []
    for stage in graph.get("stages", []):
        if stage.get("name"):
            found.append((stage["line"], stage["name"], "stage"))
        base = stage.get("base") or {}
        if base.get("kind") != "stage":
            text = base.get("text") or ""
            word = text if context_key(text) in given else base.get("resolved") or text
            found.append((stage["line"], word, "FROM"))
    for edge in graph.get("edges", []):
        source = edge.get("source") or {}
        if edge.get("kind") in _USES and source.get("kind") != "stage" and source.get("text"):
            found.append((edge["line"], source["text"], _USES[edge["kind"]]))
    out, seen = [], set()
    for line, word, use in sorted(found, key=lambda f: f[0]):
        key = context_key(word) if word.lower() not in NEVER_NAMED else None
        if key is None or key in seen:
            continue
        seen.add(key)
        out.append({"name": word, "line": line, "use": use})
    return out


__all__ = ["NEVER_NAMED", "context_base", "context_key", "context_names", "context_source"]
