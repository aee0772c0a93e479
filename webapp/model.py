"""The build graph as frozen values: what the analysis returns and every renderer reads.

Lines are 1-based and inclusive, as an editor shows them: an instruction that starts on line 4
and continues over two more lines has ``line=4, end_line=6``.
"""

from __future__ import annotations

from dataclasses import MISSING, dataclass, field, fields
from enum import StrEnum


def _quick_init(cls):
    """Give a frozen, slotted dataclass a constructor that fills its slots with plain assignments.

    The ``__init__`` that ``dataclass`` writes calls ``object.__setattr__`` per field, since
    assignment is what ``frozen`` forbids. This ``__new__`` instead fills an object of a twin
    class (the same ``__slots__``, so the same memory layout, and no frozen ``__setattr__``),
    then gives it its class (CPython refuses the change unless the layouts match): two to three
    times faster than ``__init__``, and the analysis makes hundreds of these values per file.
    Same parameters, defaults and result; assigning to an attribute afterwards still raises
    ``FrozenInstanceError``; ``copy``, ``pickle`` and ``dataclasses.replace`` rebuild through
    ``__new__`` (``__getnewargs__`` gives them the fields).
    """
    names = [f.name for f in fields(cls)]
    twin = type(f"_{cls.__name__}Slots", (), {"__slots__": cls.__slots__})
    namespace: dict = {"_new": object.__new__, "_twin": twin}
    params = []
    for f in fields(cls):
        if f.default is not MISSING:
            namespace[f"_default_{f.name}"] = f.default
            params.append(f"{f.name}=_default_{f.name}")
        elif f.default_factory is not MISSING:  # pragma: no cover - none of the model's has one
            raise TypeError(f"{cls.__name__}.{f.name}: a default factory is not supported")
        else:
            params.append(f.name)
    lines = [f"def __new__(cls, {', '.join(params)}):", "    self = _new(_twin)"]
    lines += [f"    self.{n} = {n}" for n in names]
    lines += ["    self.__class__ = cls", "    return self"]
    source = "\n".join(lines) + "\n"
    exec(source, namespace)  # noqa: S102
    new = namespace["__new__"]
    new.__qualname__ = f"{cls.__qualname__}.__new__"
    new.__doc__ = cls.__init__.__doc__
    cls.__new__ = staticmethod(new)
    del cls.__init__  # object's: it accepts the arguments __new__ took
    cls.__getnewargs__ = lambda self: tuple(getattr(self, n) for n in names)
    return cls


class Severity(StrEnum):
    """How bad a diagnostic is: errors make BuildKit fail, warnings are likely mistakes."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class BaseKind(StrEnum):
    """What a stage's FROM names once expanded."""

    IMAGE = "image"
    STAGE = "stage"
    SCRATCH = "scratch"
    INVALID = "invalid"
    CONTEXT = "context"
    """A named build context that is a local directory (``--build-context name=./dir``)."""
    GIT = "git"
    """A named build context that is a git repository."""
    URL = "url"
    """A named build context that is an HTTP URL."""


class SourceKind(StrEnum):
    """Where something an instruction takes in comes from."""

    STAGE = "stage"
    IMAGE = "image"
    CONTEXT = "context"
    SCRATCH = "scratch"
    URL = "url"
    GIT = "git"
    INVALID = "invalid"


class EdgeKind(StrEnum):
    """The instruction that makes an edge."""

    FROM = "from"
    COPY = "copy"
    ADD = "add"
    MOUNT = "mount"


@_quick_init
@dataclass(frozen=True, slots=True)
class Heredoc:
    """One here-document attached to an instruction."""

    name: str
    """The delimiter word without quotes, e.g. ``EOF``."""
    body: str
    """The raw body text (tabs already stripped for ``<<-``)."""
    expand: bool
    """False when the delimiter was quoted, so the body is not expanded."""
    chomp: bool
    """True for ``<<-``."""


@_quick_init
@dataclass(frozen=True, slots=True)
class Instruction:
    """One Dockerfile instruction as the lexer read it."""

    keyword: str
    """Upper-case keyword as written (unknown keywords are kept)."""
    line: int
    """First physical line."""
    end_line: int
    """Last physical line, including continuation and heredoc body lines."""
    rest: str
    """The logical line after the keyword (continuations joined), flags included."""
    flags: tuple[tuple[str, str | None], ...] = ()
    """Leading ``--name[=value]`` flags in order; value None for a bare flag."""
    args: tuple[str, ...] = ()
    """Arguments after the flags, split as BuildKit splits this keyword."""
    json: bool = False
    """True when the arguments were written as a JSON array."""
    heredocs: tuple[Heredoc, ...] = ()
    """Here-documents, in order."""
    sub: Instruction | None = None
    """For ONBUILD: the trigger instruction."""
    source: str = ""
    """The original text of every physical line of the instruction, for display."""

    @property
    def label(self) -> str:
        """The keyword as shown: ``ONBUILD COPY`` for a trigger, else the keyword."""
        if self.keyword == "ONBUILD" and self.sub is not None:
            return f"ONBUILD {self.sub.keyword}"
        return self.keyword

    @property
    def layer(self) -> bool:
        """True when the instruction adds a filesystem layer (RUN, COPY, ADD)."""
        return self.keyword in LAYER_KEYWORDS

    def flag(self, name: str) -> str | None:
        """The value of the last flag called ``name`` (None if absent, '' if bare)."""
        found = None
        for key, value in self.flags:
            if key == name:
                found = "" if value is None else value
        return found

    def flag_values(self, name: str) -> tuple[str, ...]:
        """Every value of a list flag such as ``--mount``."""
        if not self.flags:
            return ()
        return tuple("" if v is None else v for k, v in self.flags if k == name)


LAYER_KEYWORDS = frozenset({"RUN", "COPY", "ADD"})


@_quick_init
@dataclass(frozen=True, slots=True)
class Diagnostic:
    """An error or warning about the Dockerfile, with the line it is about."""

    severity: Severity
    """error, warning or info."""
    code: str
    """Stable identifier, e.g. ``unknown-stage`` or BuildKit's rule name ``StageNameCasing``."""
    message: str
    """Human text; BuildKit's wording where BuildKit has one."""
    line: int | None = None
    """1-based line, or None for a whole-file problem; 0 only where BuildKit puts an error before
    the first line (a bad parser directive on line 1: BuildKit reports directives one line early)."""
    stage: int | None = None
    """Index of the stage the problem belongs to, when there is one."""
    url: str | None = None
    """Documentation of the rule, for BuildKit's build checks (``webapp/checks.py``)."""
    end_line: int | None = None
    """Last line the problem spans, when it is more than ``line``."""

    def to_dict(self) -> dict:
        """The JSON form (enum members' ``_value_`` here and below: ``.value`` without its
        descriptor call)."""
        out = {
            "severity": self.severity._value_,
            "code": self.code,
            "message": self.message,
            "line": self.line,
            "stage": self.stage,
        }
        if self.url:
            out["url"] = self.url
        if self.end_line is not None:
            out["end_line"] = self.end_line
        return out


@_quick_init
@dataclass(frozen=True, slots=True)
class Base:
    """What a stage starts from."""

    kind: BaseKind
    """image, stage, scratch or invalid."""
    text: str
    """The base as written, e.g. ``${GO_IMAGE}``."""
    resolved: str | None
    """The base after ARG expansion, e.g. ``golang:1.22``."""
    stage: int | None = None
    """Index of the base stage when kind is stage."""
    image: str | None = None
    """Normalised image reference when kind is image, e.g. ``docker.io/library/golang:1.22``."""

    def to_dict(self) -> dict:
        """The JSON form."""
        return {
            "kind": self.kind._value_,
            "text": self.text,
            "resolved": self.resolved,
            "stage": self.stage,
            "image": self.image,
        }


@_quick_init
@dataclass(frozen=True, slots=True)
class Stage:
    """One build stage: a FROM and the instructions after it."""

    index: int
    """0-based position among the FROMs."""
    name: str | None
    """Lower-cased ``AS`` name, or None."""
    name_as_written: str | None
    """The ``AS`` name as written."""
    line: int
    """Line of the FROM."""
    end_line: int
    """Last line of the stage's last instruction."""
    base: Base
    """What the stage starts from."""
    platform: str | None
    """Expanded ``--platform`` value, or None when the FROM has none."""
    reachable: bool
    """True when building the target builds this stage."""
    instructions: tuple[Instruction, ...]
    """Instructions after the FROM."""
    from_instruction: Instruction
    """The FROM itself."""
    onbuild_inherited: int = 0
    """How many ONBUILD triggers this stage inherits from its base stage."""

    @property
    def display_name(self) -> str:
        """The name, or ``stage-N`` as BuildKit calls unnamed stages."""
        return self.name or f"stage-{self.index}"

    @property
    def layer_count(self) -> int:
        """How many of the stage's own instructions add a filesystem layer."""
        return sum(1 for i in self.instructions if i.keyword in LAYER_KEYWORDS)

    def to_dict(self) -> dict:
        """The JSON form."""
        instructions = []
        layers = 0  # layer_count, in the same pass
        for i in self.instructions:
            keyword = i.keyword
            layer = keyword in LAYER_KEYWORDS
            layers += layer
            instructions.append(
                {
                    "keyword": i.label if keyword == "ONBUILD" else keyword,
                    "line": i.line,
                    "end_line": i.end_line,
                    "layer": layer,
                    "text": i.source,
                }
            )
        return {
            "index": self.index,
            "name": self.name,
            "display_name": self.display_name,
            "line": self.line,
            "end_line": self.end_line,
            "base": self.base.to_dict(),
            "platform": self.platform,
            "reachable": self.reachable,
            "layers": layers,
            "onbuild_inherited": self.onbuild_inherited,
            "instructions": instructions,
        }


@_quick_init
@dataclass(frozen=True, slots=True)
class Source:
    """Where an edge comes from."""

    kind: SourceKind
    """stage, image, context, scratch, url, git or invalid."""
    stage: int | None = None
    """Source stage index when kind is stage."""
    ref: str | None = None
    """Normalised image, URL or git reference; None for stage, context and scratch."""
    text: str | None = None
    """The word as written (``--from=`` value, mount ``from=``, FROM base, ADD source)."""

    def to_dict(self) -> dict:
        """The JSON form."""
        return {"kind": self.kind._value_, "stage": self.stage, "ref": self.ref, "text": self.text}


@_quick_init
@dataclass(frozen=True, slots=True)
class Edge:
    """Something an instruction of stage ``target`` takes in from ``source``."""

    kind: EdgeKind
    """from, copy, add or mount."""
    source: Source
    """Where it comes from."""
    target: int
    """Index of the stage that takes it in."""
    line: int
    """First line of the instruction (for inherited ONBUILD triggers: the ONBUILD's line)."""
    onbuild: bool = False
    """True when an inherited ONBUILD trigger makes this edge."""
    mount_type: str | None = None
    """For mounts: bind or cache."""
    mount_target: str | None = None
    """For mounts: the target path."""

    def to_dict(self) -> dict:
        """The JSON form."""
        return {
            "kind": self.kind._value_,
            "onbuild": self.onbuild,
            "target": self.target,
            "line": self.line,
            "source": self.source.to_dict(),
            "mount_type": self.mount_type,
            "mount_target": self.mount_target,
        }


@_quick_init
@dataclass(frozen=True, slots=True)
class GlobalArg:
    """A meta ARG (declared before the first FROM)."""

    name: str
    """The ARG name."""
    default: str | None
    """The default as written, or None."""
    value: str | None
    """The value FROM lines see (build-arg, else the expanded default), or None if unset."""
    line: int
    """Line of the ARG."""


@_quick_init
@dataclass(frozen=True, slots=True)
class Graph:
    """The whole analysed build."""

    stages: tuple[Stage, ...]
    """Every stage in FROM order."""
    edges: tuple[Edge, ...]
    """Every edge: FROM bases, COPY/ADD sources and mounts."""
    target: int | None
    """Index of the stage that is built, or None when there is no stage."""
    diagnostics: tuple[Diagnostic, ...]
    """Errors and warnings, sorted by line."""
    directives: tuple[tuple[str, str], ...] = ()
    """Parser directives (lower-cased name, value) in order."""
    global_args: tuple[GlobalArg, ...] = ()
    """Meta ARGs before the first FROM."""
    platform: str = "linux/amd64"
    """The target platform the graph was computed for."""
    preamble: tuple[Instruction, ...] = field(default=())
    """Instructions before the first FROM (meta ARGs, and any invalid ones)."""
    unbuilt_errors: tuple[Diagnostic, ...] = field(default=())
    """Errors BuildKit would raise while building stages the target does not build: they do not
    fail this build (so they are not in ``diagnostics`` nor in the JSON), but ``docker build
    --check``, which goes through every stage, stops at them."""

    @property
    def has_errors(self) -> bool:
        """True when any diagnostic is an error."""
        return any(d.severity is Severity.ERROR for d in self.diagnostics)

    def ships(self) -> dict:
        """What the target image ships: its base chain, its layers, and the build-only stages."""
        if self.target is None:
            return {"target": None, "base_chain": [], "image": None, "layers": 0, "build_only": []}
        chain = []
        layers = 0
        image = None
        seen = set()
        index = self.target
        while index is not None and index not in seen:
            seen.add(index)
            stage = self.stages[index]
            chain.append(index)
            layers += stage.layer_count
            base = stage.base
            if base.kind is BaseKind.STAGE:
                index = base.stage
            else:
                image = base.image if base.kind is BaseKind.IMAGE else base.kind.value
                index = None
        build_only = [s.index for s in self.stages if s.reachable and s.index not in seen]
        return {
            "target": self.target,
            "base_chain": chain,
            "image": image,
            "layers": layers,
            "build_only": build_only,
        }

    def to_dict(self) -> dict:
        """The JSON document of ``render --format json`` (documented in docs/json-format.md)."""
        return {
            "version": 1,
            "target": self.target,
            "platform": self.platform,
            "directives": [{"name": k, "value": v} for k, v in self.directives],
            "global_args": [
                {"name": a.name, "default": a.default, "value": a.value, "line": a.line}
                for a in self.global_args
            ],
            "stages": [s.to_dict() for s in self.stages],
            "edges": [e.to_dict() for e in self.edges],
            "ships": self.ships(),
            "diagnostics": [d.to_dict() for d in self.diagnostics],
        }
