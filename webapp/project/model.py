"""The values a project analysis is made of: builds, selectors, links and diagnostics."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class Build:
    """One image build a project file asks for: a bake target, a compose service, a script step."""

    name: str
    """Bake target or compose service name; ``<script>:<line>`` for a script step."""
    kind: str
    """``bake-target``, ``compose-service`` or ``script``."""
    source: str
    """Path of the file that defines it."""
    line: int | None
    """Line of the definition (target block, service, command)."""
    context: str | None = "."
    """Build context, project-relative; None when it cannot be resolved (variables, URLs, outside)."""
    dockerfile: str | None = None
    """Dockerfile path, project-relative; None when unresolved."""
    target: str | None = None
    """``--target`` stage."""
    args: dict[str, str] = field(default_factory=dict)
    """Build args with a static value."""
    contexts: dict[str, str] = field(default_factory=dict)
    """Named contexts, name -> value as written (paths made project-relative)."""
    tags: list[str] = field(default_factory=list)
    """Image tags it produces (bake ``tags``, compose ``image``, ``docker build -t``)."""
    platforms: list[str] = field(default_factory=list)
    """Target platforms."""
    unresolved: list[str] = field(default_factory=list)
    """What could not be resolved statically, e.g. ``tags: ${REPO}/app``."""
    lines: dict[str, int] = field(default_factory=dict)
    """Line of each attribute (``contexts.base`` for one context entry) in ``source``."""
    texts: dict[str, str] = field(default_factory=dict)
    """The source text of those lines, for ``via``."""
    paths: dict[str, str] = field(default_factory=dict)
    """For an attribute set in another file than ``source`` (a later bake file of the set, or a
    parent target's file), that file's path."""
    inline: str | None = None
    """An inline Dockerfile (bake ``dockerfile-inline``, compose ``dockerfile_inline``); then
    ``dockerfile`` is the virtual path ``<source>#<name>`` it is shown under."""

    def where(self, key: str) -> tuple[str, int | None, str | None]:
        """(path, line, text) of the attribute ``key``; the definition's own when it has none."""
        if key in self.lines:
            return self.paths.get(key, self.source), self.lines[key], self.texts.get(key)
        return self.source, self.line, None

    def to_dict(self) -> dict:
        """The JSON form."""
        return {
            "name": self.name,
            "kind": self.kind,
            "source": self.source,
            "line": self.line,
            "context": self.context,
            "dockerfile": self.dockerfile,
            "target": self.target,
            "args": dict(sorted(self.args.items())),
            "contexts": dict(sorted(self.contexts.items())),
            "tags": list(self.tags),
            "platforms": list(self.platforms),
            "unresolved": list(self.unresolved),
        }


@dataclass(slots=True)
class Selector:
    """A name a user can build: a bake group or target, a compose service, a script."""

    name: str
    kind: str
    """``bake-group``, ``bake-target``, ``compose-service``, ``script``."""
    builds: list[str]
    """Names of the builds it asks for directly (groups expanded)."""

    def to_dict(self) -> dict:
        """The JSON form."""
        return {"name": self.name, "kind": self.kind, "builds": list(self.builds)}


@dataclass(slots=True)
class ProjectDiagnostic:
    """A problem with a project file (not inside a Dockerfile: those stay in its graph)."""

    severity: str
    code: str
    message: str
    path: str | None = None
    line: int | None = None

    def to_dict(self) -> dict:
        """The JSON form."""
        return {
            "severity": self.severity,
            "code": self.code,
            "message": self.message,
            "path": self.path,
            "line": self.line,
        }


@dataclass(slots=True)
class Definitions:
    """What the bake, compose and script files of a project define."""

    builds: list[Build] = field(default_factory=list)
    selectors: list[Selector] = field(default_factory=list)
    links: list[dict] = field(default_factory=list)
    diagnostics: list[ProjectDiagnostic] = field(default_factory=list)
    copies: list[dict] = field(default_factory=list)
    """Builder-pattern copies out of an image: script, line, text, image, src, dest."""
    default: str | None = None
    """The selector built when none is named (bake's ``default``), if any."""
    variables: list[dict] = field(default_factory=list)
    """Bake variables: name, path, line, value (None when null or unresolved) and where the value
    comes from (``user``, ``default``, ``empty``, ``null``, ``unresolved``)."""
