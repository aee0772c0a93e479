"""Instructions -> build graph, following BuildKit's instruction and graph rules.

Sections 2 and 3 of ``docs/buildkit-semantics.md``: stages and their names, meta
ARGs and builtin platform ARGs, FROM expansion, whether a base is a stage, an image or scratch,
``COPY --from`` by index or name, ``RUN --mount`` sources, ADD URLs and git refs, inherited
ONBUILD triggers, the target and the stages it builds, layers, and the diagnostics a user needs.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

from . import checks, config
from .contexts import NEVER_NAMED, context_base, context_key, context_source
from .dispatch import DISPATCH_CHECKS, Expander, dispatch_problem, next_workdir
from .errors import ExpansionTooDeep, ExpansionTooLarge, InputTooLarge
from .instructions import Mount, Problem, check, parse_mount, suggest
from .lexer import decode, lex, parse_heredoc
from .model import (
    Base,
    BaseKind,
    Edge,
    EdgeKind,
    GlobalArg,
    Graph,
    Instruction,
    Severity,
    Source,
    SourceKind,
    Stage,
)
from .platforms import DEFAULT_PLATFORM, PlatformError, format_platform, normalize_platform, platform_args
from .reference import ReferenceError, normalize
from .report import Report, Scope
from .shell import ExpansionError, expand_text, expand_word, expansion_budget, locate
from .sources import classify_source
from .wording import failed_to_process

_DEFAULTS = {s.name: s.default for s in config.SETTINGS}
MAX_INHERITED_TRIGGERS = 10_000
"""ONBUILD triggers run by child stages, in all (each child runs its base stage's triggers)."""
MAX_SUGGEST_COMPARISONS = checks.MAX_SUGGEST_COMPARISONS
"""Stage names compared for the "did you mean" hints of one Dockerfile's unknown-stage warnings
(the same bound as the checks' UndefinedVar hints)."""
_INDEX = re.compile(r"^[+-]?[0-9]+$")
_FROM_SOURCE = {
    BaseKind.STAGE: SourceKind.STAGE,
    BaseKind.SCRATCH: SourceKind.SCRATCH,
    BaseKind.IMAGE: SourceKind.IMAGE,
    BaseKind.INVALID: SourceKind.INVALID,
}
"""A FROM edge's source kind by its base kind (named contexts have their own, see add_from_edge)."""
# Enum members the per-stage and per-edge code reads: through their class each read costs a
# look-up (EnumType.__getattr__, about 80 ns in Python 3.11).
_STAGE_BASE, _IMAGE_BASE, _STAGE_SOURCE = BaseKind.STAGE, BaseKind.IMAGE, SourceKind.STAGE
# BuildKit's PATH for a stage whose image sets none (util/system DefaultPathEnv on Linux).
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@dataclass(slots=True)
class _Work:
    """A stage while it is being analysed."""

    index: int
    name: str | None
    name_as_written: str | None
    from_ins: Instruction
    instructions: list[Instruction] = field(default_factory=list)
    base: Base | None = None
    platform: str | None = None
    deps: dict[int, list[int]] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    start_env: dict[str, str] = field(default_factory=dict)
    workdir: str = "/"
    start_workdir: str = "/"
    onbuild_inherited: int = 0

    @property
    def display(self) -> str:
        return self.name or f"stage-{self.index}"


def analyze(
    text: str | bytes,
    *,
    target: str | None = None,
    build_args: dict[str, str] | None = None,
    platform: str | None = None,
    settings: dict | None = None,
    contexts: dict[str, str] | None = None,
) -> Graph:
    """Analyse a Dockerfile into its build graph.

    ``contexts`` are named build contexts (``--build-context name=value``, see
    :mod:`webapp.contexts`): applied by :meth:`_Analyzer.named_context`.

    Raises :class:`~webapp.errors.DockerfileError` subclasses only for input that cannot be read
    at all (encoding, NUL bytes, size and count limits); every problem BuildKit reports is a
    diagnostic on the returned graph.
    """
    limits = settings or _DEFAULTS
    source = decode(text, limits["MAX_INPUT_BYTES"])
    lexed = lex(source)
    _check_counts(lexed.instructions, limits)
    platform = normalize_platform(platform or DEFAULT_PLATFORM)
    with expansion_budget():  # one expansion budget for the whole file
        try:
            analyzer = _Analyzer(lexed, target, build_args or {}, platform)
            analyzer.contexts = {context_key(k): v for k, v in (contexts or {}).items()}
            graph = analyzer.run()
            # with no lexer error, the analysis checked every instruction as BuildKit's parser does
            refused = None if analyzer.lexer_failed else analyzer.refused
            return checks.apply(graph, lexed, source, build_args or {}, target, refused)
        except (ExpansionTooLarge, ExpansionTooDeep) as exc:
            raise locate(exc, lexed.instructions) from None


def _check_counts(instructions: tuple[Instruction, ...], limits: dict) -> None:
    most = limits["MAX_INSTRUCTIONS"]
    if len(instructions) > most:
        raise InputTooLarge(f"Dockerfile has {len(instructions)} instructions, more than the limit of {most}")
    stages = sum(1 for i in instructions if i.keyword == "FROM")
    if stages > limits["MAX_STAGES"]:
        raise InputTooLarge(f"Dockerfile has {stages} stages, more than the limit of {limits['MAX_STAGES']}")


class _Analyzer:
    def __init__(self, lexed, target: str | None, build_args: dict[str, str], platform: str):
        self.lexed = lexed
        self.target_option = target
        self.build_args = build_args
        self.platform = platform
        self.escape = lexed.escape
        self.report = Report(lexed.diagnostics)
        self.error, self.warn, self.info = self.report.error, self.report.warn, self.report.info
        self.work: list[_Work] = []
        self.preamble: list[Instruction] = []
        self.meta_args: list[tuple[str, str | None, int]] = []
        self.edges: list[Edge] = []
        # BuildKit's list of states: stages, then implicit image sources appended as found.
        self.states: list[tuple[str, object]] = []
        self.by_name: dict[str, int] = {}
        self.lexer_failed = any(d.severity is Severity.ERROR for d in lexed.diagnostics)
        self.parse_failed = self.lexer_failed
        self.declared_meta: set[str] = set()
        self.names_seen: set[str] = set()
        self.refused: set[int] = set()  # id() of instructions that fail parsing
        # Named build contexts (key as context_key gives it -> value); stages they replace.
        self.contexts: dict[str, str] = {}
        self.replaced: set[int] = set()
        self.stage_positions: dict[str, list[int]] = {}
        self.hint_comparisons = MAX_SUGGEST_COMPARISONS

    # -- the pipeline --------------------------------------------------------------------------

    def run(self) -> Graph:
        self.split_stages()
        global_env, global_args = self.meta_arg_values()
        self.resolve_bases(global_env)
        # COPY --from and mount from= see every stage by lower-cased name; the last one wins.
        self.by_name = {w.name: w.index for w in self.work if w.name}
        for work in self.work:
            self.add_commands(work, global_env)
        self.inherit_onbuild(global_env)
        self.check_cycles()
        target = self.resolve_target()
        reachable = self.reachable_from(target)
        unbuilt_errors = self.report.settle(reachable)
        stages = tuple(self.freeze(w, w.index in reachable) for w in self.work)
        if target is not None:
            target_name = self.work[target].display
            for work in self.work:
                if work.index not in reachable:
                    self.info(
                        "unused-stage",
                        f"stage '{work.display}' is not built for target '{target_name}'",
                        work.from_ins.line,
                        work.index,
                    )
        return Graph(
            stages=stages,
            edges=tuple(self.edges),
            target=target,
            diagnostics=self.report.sorted(),
            directives=tuple((k, v) for k, v, _ in self.lexed.directives),
            global_args=global_args,
            platform=self.platform,
            preamble=tuple(self.preamble),
            unbuilt_errors=unbuilt_errors,
        )

    def split_stages(self) -> None:
        """Group instructions into stages; check each instruction as BuildKit's parser does."""
        current: _Work | None = None
        lexer_errors = {d.line for d in self.lexed.diagnostics if d.severity is Severity.ERROR}
        said_no_stage = False
        for ins in self.lexed.instructions:
            # An instruction the lexer already refused is not checked again.
            problem = None
            if ins.line in lexer_errors:
                self.refused.add(id(ins))  # BuildKit stops before building it
            else:
                try:
                    check(ins)  # check_instruction without the call
                except Problem as found:
                    problem = found
                    self.refused.add(id(ins))
                    self.error(problem.code, problem.message, ins.line, current.index if current else None)
                    self.parse_failed = True
            if ins.keyword == "FROM":
                current = self.new_stage(ins, problem is None)
                continue
            if current is None:
                self.preamble.append(ins)
                if ins.keyword == "ARG":
                    if problem is None:
                        for word in ins.args:
                            name, sep, default = word.partition("=")
                            self.meta_args.append((name, default if sep else None, ins.line))
                elif problem is None and ins.line not in lexer_errors and not said_no_stage:
                    self.error("no-stage", "no build stage in current context", ins.line)
                    self.parse_failed = said_no_stage = True
                continue
            current.instructions.append(ins)
        if not self.work and not self.parse_failed:
            self.error("no-stages", "dockerfile contains no stages to build", None)

    def new_stage(self, ins: Instruction, valid: bool) -> _Work:
        index = len(self.work)
        args = ins.args
        name = written = None
        if len(args) == 3 and args[1].lower() == "as":
            written = args[2]
            if valid:
                name = written.lower()
        if name:
            self.names_seen.add(name)
        work = _Work(index, name, written, ins)
        self.work.append(work)
        return work

    # -- instruction checks (parse and instruction phases) ---------------------------------------

    # -- global args and FROM ----------------------------------------------------------------

    def meta_arg_values(self) -> tuple[dict[str, str], tuple[GlobalArg, ...]]:
        env = platform_args(DEFAULT_PLATFORM, "BUILD")
        env.update(platform_args(self.platform, "TARGET"))
        # --target as written, else the last stage's name ("default" when it has none).
        last = self.work[-1].name if self.work else None
        env["TARGETSTAGE"] = self.target_option or last or "default"
        for name in list(env):  # --build-arg overrides the builtin values too
            if name in self.build_args:
                env[name] = self.build_args[name]
        out = []
        for name, default, line in self.meta_args:
            if name in self.build_args:
                env[name] = self.build_args[name]
            elif default is not None:
                try:
                    env[name] = expand_word(default, env, self.escape)
                except ExpansionError as exc:
                    self.error("arg-expansion", failed_to_process(default, exc), line)
                    env[name] = default
            out.append(GlobalArg(name, default, env.get(name), line))
        self.declared_meta = {name for name, _, _ in self.meta_args}
        return env, tuple(out)

    def resolve_bases(self, env: dict[str, str]) -> None:
        names_so_far: dict[str, int] = {}
        self.stage_positions = {}  # name -> indexes of the stages of that name, in order
        for work in self.work:
            if work.name:
                self.stage_positions.setdefault(work.name, []).append(work.index)
        for work in self.work:
            ins = work.from_ins
            text = ins.args[0] if ins.args else ""
            base = self.named_context(work.name, work, ins.line, stage=True) if work.name else None
            base = base or self.resolve_base(work, text, env, names_so_far)
            work.base = base
            platform_text = ins.flag("platform") if ins.flags else None
            if platform_text and len(ins.args) in (1, 3):
                work.platform = self.expand_platform(work, platform_text, env)
            if work.name:
                names_so_far[work.name] = work.index
            self.states.append(("stage", work.index))
            self.add_from_edge(work)

    def resolve_base(self, work: _Work, text: str, env: dict[str, str], earlier: dict[str, int]) -> Base:
        line = work.from_ins.line
        if not text or (len(work.from_ins.args) not in (1, 3)):
            return Base(BaseKind.INVALID, text, None)
        try:
            value = expand_word(text, env, self.escape)
        except ExpansionError as exc:
            self.error("from-expansion", failed_to_process(text, exc), line, work.index)
            return Base(BaseKind.INVALID, text, None)
        if value == "":
            self.error("blank-base", f"base name ({text}) should not be blank", line, work.index)
            return Base(BaseKind.INVALID, text, value)
        if value in earlier:
            return Base(_STAGE_BASE, text, value, earlier[value])
        named = self.named_context(value, work, line)
        if named is not None:
            return named
        lowered = value.lower()
        if lowered in earlier:
            self.warn(
                "stage-name-case",
                f'FROM {value}: stage names are looked up case-sensitively here; "{value}" is not the '
                f'earlier stage "{lowered}" (use the lower-case name)',
                line,
                work.index,
            )
        later = None  # the first stage of that name after this one
        for i in self.stage_positions.get(lowered, ()):
            if i > work.index:
                later = [self.work[i]]
                break
        if later:
            self.warn(
                "stage-defined-later",
                f"FROM {value} refers to a stage defined later (line {later[0].from_ins.line}); FROM only "
                f"sees earlier stages, so BuildKit pulls the image {value!r} instead",
                line,
                work.index,
            )
        if value == "scratch":
            return Base(BaseKind.SCRATCH, text, value)
        try:
            image = normalize(value)
        except ReferenceError as exc:
            self.error("invalid-reference", f'failed to parse stage name "{value}": {exc}', line, work.index)
            return Base(BaseKind.IMAGE, text, value, image=None)
        return Base(_IMAGE_BASE, text, value, None, image)

    def expand_platform(self, work: _Work, text: str, env: dict[str, str]) -> str | None:
        line = work.from_ins.line
        try:
            value = expand_word(text, env, self.escape)
        except ExpansionError as exc:
            # BuildKit names the (empty) result of the failed expansion, then the word.
            message = f"failed to process arguments for platform : {failed_to_process(text, exc)}"
            self.error("platform-expansion", message, line)
            return None
        if not value:
            self.error("platform-empty", f"empty platform value from expression {text}", line, work.index)
            return None
        try:
            return format_platform(value)
        except PlatformError as exc:
            self.error("platform-invalid", f"failed to parse platform {text}: {exc}", line)
        return value

    def add_from_edge(self, work: _Work) -> None:
        base = work.base
        kind = _FROM_SOURCE.get(base.kind)
        if kind is None:  # a named context: a directory, a git repository or a URL
            source = context_source(base)
        else:
            ref = base.image or base.resolved if base.kind is _IMAGE_BASE else None
            source = Source(kind, base.stage, ref, base.text)
        self.edges.append(Edge(EdgeKind.FROM, source, work.index, work.from_ins.line))

    # -- commands ------------------------------------------------------------------------------

    def add_commands(self, work: _Work, global_env: dict[str, str]) -> None:
        if work.base is not None and work.base.kind is _STAGE_BASE:
            work.env = dict(self.work[work.base.stage].env)
        else:  # BuildKit always sets PATH (the image's, else its default)
            work.env = {"PATH": DEFAULT_PATH}
        work.start_env = dict(work.env)
        if work.base is not None and work.base.kind is _STAGE_BASE:
            work.workdir = self.work[work.base.stage].workdir
        work.start_workdir = work.workdir
        if work.index in self.replaced:  # BuildKit never runs a stage a named context replaces
            return
        scope = Scope(work.index, work.from_ins.line)
        # self.dispatch inlined: one expander for the stage (its env is the stage's, updated in place)
        env, escape, build_args, refused = work.env, self.escape, self.build_args, self.refused
        expander = Expander(env, escape)
        for ins in work.instructions:
            kw = ins.keyword
            if id(ins) not in refused:
                check = DISPATCH_CHECKS.get(kw)
                if check is not None:
                    expander.workdir = work.workdir
                    try:
                        check(ins, expander, build_args)
                    except Problem as problem:
                        self.report.build_error(scope, problem.code, problem.message, ins.line)
                if kw == "WORKDIR":  # next_workdir changes nothing else
                    work.workdir = next_workdir(ins, env, escape, work.workdir)
            if kw == "ARG" or kw == "ENV":  # the only ones apply_env and command_sources read
                apply_env(env, ins, global_env, build_args, escape)
            elif kw == "COPY" or kw == "ADD" or (kw == "RUN" and ins.flags):  # a RUN reads only mounts
                self.command_sources(scope, work, ins)

    def dispatch(self, scope: Scope, ins: Instruction, env: dict[str, str], workdir: str) -> str:
        """What BuildKit checks while building the stage (counts only when the stage is built);
        returns the working directory after ``ins``."""
        if id(ins) in self.refused:
            return workdir
        problem = dispatch_problem(ins, env, self.escape, self.build_args, workdir)
        if problem is not None:
            self.report.build_error(scope, problem.code, problem.message, ins.line)
        return next_workdir(ins, env, self.escape, workdir)

    def command_sources(self, scope: Scope, work: _Work, ins: Instruction) -> None:
        """Edges for one instruction read in ``scope`` (drawn at the instruction's line)."""
        kw = ins.keyword
        if kw == "COPY" and len(ins.args) >= 2:
            source_from = ins.flag("from")
            if source_from:
                self.copy_from(scope, work, ins, source_from)
                return
        if kw in ("COPY", "ADD") and len(ins.args) >= 2:
            self.context_sources(scope, work, ins)
        elif kw == "RUN":
            for value in ins.flag_values("mount"):
                try:
                    mount = parse_mount(value)
                except Problem:
                    continue
                self.mount_source(scope, work, ins, mount)

    def copy_from(self, scope: Scope, work: _Work, ins: Instruction, value: str) -> None:
        kind = EdgeKind.COPY
        line, onbuild = ins.line, scope.inherited
        # Heredoc sources are inline content: with nothing else, nothing is read from --from.
        reads = ins.json
        if not reads:
            for word in ins.args[:-1]:
                if "<<" not in word or parse_heredoc(word) is None:  # (a word without one is no heredoc)
                    reads = True
                    break
        escape = self.escape
        if "$" not in value and "'" not in value and '"' not in value and escape not in value:
            unchanged = True  # expand_word's own first test: nothing to expand or unquote
        else:
            try:
                unchanged = expand_word(value, {}, escape) == value
            except ExpansionError:
                unchanged = False
        if not unchanged:
            self.report.parse_error(
                scope,
                "from-variable",
                "variable expansion is not supported for --from, define a new stage with FROM using ARG "
                "from global scope as a workaround",
                ins.line,
            )
            self.edges.append(Edge(kind, Source(SourceKind.INVALID, text=value), work.index, line, onbuild))
            return
        if _INDEX.match(value) and abs(int(value)) < 2**63:
            index = int(value)
            if index < 0 or index >= len(self.states):
                self.report.parse_error(
                    scope, "invalid-stage-index", f"invalid stage index {index}", ins.line
                )
                self.edges.append(
                    Edge(kind, Source(SourceKind.INVALID, text=value), work.index, line, onbuild)
                )
                return
            state_kind, payload = self.states[index]
            if state_kind == "stage":
                self.copy_stage(scope, work, ins, payload, value, reads)
                return
            if not reads:
                return
            source = self.image_source(scope, payload, ins.line, report=False)
            self.warn(
                "index-implicit-image",
                f"COPY --from={value}: index points past the stages at an implicit image source ({payload})",
                ins.line,
                work.index,
            )
            self.edges.append(Edge(kind, source, work.index, line, onbuild))
            return
        found = self.by_name.get(value.lower())
        if found is not None:
            self.copy_stage(scope, work, ins, found, value, reads)
            return
        self.states.append(("image", value))
        named = self.named_context(value, work, ins.line)
        if named is not None:
            if reads:
                self.edges.append(Edge(kind, context_source(named), work.index, line, onbuild))
            return
        source = self.image_source(scope, value, ins.line)
        if not reads:
            return  # only heredocs: BuildKit neither pulls the image nor reads from it
        if source.kind is not SourceKind.SCRATCH:
            self.warn_not_stage(f"COPY --from={value}", value, ins.line, work)
        self.edges.append(Edge(kind, source, work.index, line, onbuild))

    def copy_stage(
        self, scope: Scope, work: _Work, ins: Instruction, source: int, text: str, reads: bool
    ) -> None:
        """``COPY --from=<stage>``: the source stage is built first; an edge only if files are read."""
        if reads:
            self.add_stage_edge(work, EdgeKind.COPY, source, text, ins.line, scope.inherited)
        else:  # only heredocs: the stage is still a dependency (built, and must come earlier)
            work.deps.setdefault(source, []).append(ins.line)
        if source > work.index:
            name = work.display if len(self.work) > 1 else ""
            self.report.build_error(
                scope,
                "copy-forward",
                f'cannot copy from stage "{text}", it needs to be defined before current stage "{name}"',
                ins.line,
            )

    def warn_not_stage(self, what: str, value: str, line: int, work: _Work) -> None:
        names = list(self.by_name)
        # past MAX_SUGGEST_COMPARISONS names compared, warnings come without a "did you mean"
        # (each hint compares the word with every stage name: 9000 warnings under 450 stages
        # took ten seconds)
        hint = _suggest(value.lower(), names) if self.hint_comparisons > 0 else None
        self.hint_comparisons -= len(names)
        message = f"{what} is not a stage name; BuildKit uses it as an image (or a named build context)"
        if hint:
            message += f"; did you mean the stage '{hint}'?"
        self.warn("unknown-stage", message, line, work.index)

    def image_source(self, scope: Scope, value: str, line: int, report: bool = True) -> Source:
        if value == "scratch":
            return Source(SourceKind.SCRATCH, text=value)
        try:
            return Source(SourceKind.IMAGE, ref=normalize(value), text=value)
        except ReferenceError as exc:
            if report:
                self.report.parse_error(
                    scope, "invalid-reference", f'failed to parse stage name "{value}": {exc}', line
                )
            return Source(SourceKind.IMAGE, ref=value, text=value)

    def add_stage_edge(
        self,
        work: _Work,
        kind: EdgeKind,
        source: int,
        text: str,
        line: int,
        onbuild: bool,
        mount: Mount | None = None,
    ) -> None:
        work.deps.setdefault(source, []).append(line)
        self.edges.append(
            Edge(
                kind,
                Source(_STAGE_SOURCE, source, None, text),  # (kind, stage, ref, text)
                work.index,
                line,
                onbuild,
                mount.type if mount else None,
                mount.target if mount else None,
            )
        )

    def context_sources(self, scope: Scope, work: _Work, ins: Instruction) -> None:
        kind = EdgeKind.COPY if ins.keyword == "COPY" else EdgeKind.ADD
        line, onbuild = ins.line, scope.inherited
        sources = ins.args[:-1]
        local = False
        remote: dict[tuple[SourceKind, str], None] = {}  # in order, each once (a list grew quadratic)
        for word in sources:
            if not ins.json and parse_heredoc(word) is not None:
                continue
            try:
                value = expand_word(word, work.env, self.escape)
            except ExpansionError:
                value = word
            source_kind = classify_source(value)
            if source_kind is SourceKind.CONTEXT:
                local = True
            else:
                remote[(source_kind, value)] = None
        if local:
            self.edges.append(Edge(kind, Source(SourceKind.CONTEXT), work.index, line, onbuild))
        for source_kind, value in remote:
            self.edges.append(
                Edge(kind, Source(source_kind, ref=value, text=value), work.index, line, onbuild)
            )
            if kind is EdgeKind.COPY:
                what = "a git ref" if source_kind is SourceKind.GIT else "a URL"
                self.report.build_error(scope, "copy-remote", f"source can't be {what} for COPY", ins.line)

    def mount_source(self, scope: Scope, work: _Work, ins: Instruction, mount: Mount) -> None:
        line, onbuild = ins.line, scope.inherited
        lookup = mount.source_from or "scratch"
        found = self.by_name.get(lookup.lower())
        if found is None:
            self.states.append(("image", lookup))
        # Any mount with from= makes its source a dependency (BuildKit reads the type only while
        # building); only bind and cache mounts read from it, so only they draw an edge.
        reads = mount.type in ("bind", "cache")
        if mount.source_from is not None and not reads:
            if found is not None:
                work.deps.setdefault(found, []).append(line)
                self.forward_mount(scope, work, ins, found, mount)
            else:
                self.image_source(scope, mount.source_from, ins.line)
            return
        if not reads:
            return
        if mount.source_from is None:
            if mount.type == "bind":
                self.edges.append(
                    Edge(
                        EdgeKind.MOUNT,
                        Source(SourceKind.CONTEXT),
                        work.index,
                        line,
                        onbuild,
                        mount.type,
                        mount.target,
                    )
                )
            return
        value = mount.source_from
        if found is not None:
            self.add_stage_edge(work, EdgeKind.MOUNT, found, value, line, onbuild, mount)
            self.forward_mount(scope, work, ins, found, mount)
            return
        named = self.named_context(value, work, ins.line)
        if named is not None:
            source = context_source(named)
            self.edges.append(
                Edge(EdgeKind.MOUNT, source, work.index, line, onbuild, mount.type, mount.target)
            )
            return
        source = self.image_source(scope, value, ins.line)
        if _INDEX.match(value):
            self.warn(
                "mount-index",
                f"RUN --mount from={value}: RUN --mount from= does not accept stage indexes; this is the "
                f"image {source.ref}",
                ins.line,
                work.index,
            )
        elif source.kind is not SourceKind.SCRATCH:
            self.warn_not_stage(f"RUN --mount from={value}", value, ins.line, work)
        self.edges.append(Edge(EdgeKind.MOUNT, source, work.index, line, onbuild, mount.type, mount.target))

    def forward_mount(self, scope: Scope, work: _Work, ins: Instruction, source: int, mount: Mount) -> None:
        if source >= work.index:
            self.report.build_error(
                scope,
                "mount-forward",
                f'cannot mount from stage "{mount.source_from}" to "{mount.target}", stage needs to be '
                "defined before current command",
                ins.line,
            )

    def named_context(self, word: str, work: _Work, line: int, stage: bool = False) -> Base | None:
        """The base a named build context gives ``word`` (a stage name, FROM or --from word), or None.

        As BuildKit's frontend: a stage whose name has a context is replaced by it (its
        instructions never run); a FROM, ``COPY --from`` or mount ``from=`` word that names no
        stage is looked up by its familiar reference name before it is pulled.
        """
        if not self.contexts or word.lower() in NEVER_NAMED:
            return None
        key = context_key(word)
        value = self.contexts.get(key) if key else None
        if value is None:
            return None
        base = context_base(word, value)
        what = f"stage '{work.name}' is replaced by" if stage else f"'{word}' is"
        self.info("named-context", f"{what} the named build context {key}={value}", line, work.index)
        if stage:
            self.replaced.add(work.index)
        return base

    def inherit_onbuild(self, global_env: dict[str, str]) -> None:
        """A stage FROM another stage runs that stage's own ONBUILD triggers first (one level)."""
        runs = 0
        of_stage: dict[int, list[Instruction]] = {}  # a stage's own triggers, found once
        for work in self.work:
            if work.base is None or work.base.kind is not _STAGE_BASE:
                continue
            parent = self.work[work.base.stage]
            if parent.index in self.replaced:
                continue
            triggers = of_stage.get(parent.index)
            if triggers is None:
                triggers = [i for i in parent.instructions if i.keyword == "ONBUILD" and i.sub is not None]
                of_stage[parent.index] = triggers
            work.onbuild_inherited = len(triggers)
            if not triggers:
                continue
            runs += len(triggers)
            if runs > MAX_INHERITED_TRIGGERS:  # triggers times children: bounded, not multiplied
                raise InputTooLarge(
                    f"Dockerfile has more than {MAX_INHERITED_TRIGGERS} ONBUILD triggers run by the "
                    "stages built on them",
                    work.from_ins.line,
                )
            scope = Scope(work.index, work.from_ins.line, inherited=True)
            env = dict(work.start_env)  # triggers run first, on the base stage's variables
            workdir = work.start_workdir
            for trigger in triggers:
                try:
                    check(trigger.sub)
                except Problem as problem:
                    self.report.parse_error(scope, problem.code, problem.message, trigger.line)
                    continue
                workdir = self.dispatch(scope, trigger.sub, env, workdir)
                apply_env(env, trigger.sub, global_env, self.build_args, self.escape)
                self.command_sources(scope, work, trigger.sub)

    # -- whole-graph checks ----------------------------------------------------------------------

    def check_cycles(self) -> None:
        visited: set[int] = set()
        path: set[int] = set()

        def visit(index: int, lines: list[int]) -> list[int] | None:
            if index in visited:
                return None
            visited.add(index)
            path.add(index)
            for dep, dep_lines in self.work[index].deps.items():
                trail = lines + dep_lines
                if dep in path:
                    return trail
                found = visit(dep, trail)
                if found is not None:
                    return found
            path.discard(index)
            return None

        for work in self.work:
            trail = visit(work.index, [])
            if trail is not None:
                for line in sorted(set(trail)):
                    message = f"circular dependency detected on stage: {work.display}"
                    self.error("circular-dependency", message, line)
                return

    def resolve_target(self) -> int | None:
        if not self.work:
            return None
        if self.target_option:
            found = self.by_name.get(self.target_option.lower())
            if found is None:
                names = [w.name for w in self.work if w.name]
                message = f'target stage "{self.target_option}" could not be found'
                self.error("unknown-target", suggest(message, self.target_option, names), None)
                return len(self.work) - 1
            return found
        return len(self.work) - 1

    def reachable_from(self, target: int | None) -> set[int]:
        seen: set[int] = set()
        stack = [] if target is None else [target]
        while stack:
            index = stack.pop()
            if index in seen:
                continue
            seen.add(index)
            work = self.work[index]
            if work.base is not None and work.base.kind is _STAGE_BASE:
                stack.append(work.base.stage)
            stack.extend(work.deps)
        return seen

    def freeze(self, work: _Work, reachable: bool) -> Stage:
        last = work.instructions[-1].end_line if work.instructions else work.from_ins.end_line
        # the fields in their order, positional (keyword arguments cost half as much again)
        return Stage(
            work.index,
            work.name,
            work.name_as_written,
            work.from_ins.line,
            last,
            work.base,
            work.platform,
            reachable,
            tuple(work.instructions),
            work.from_ins,
            work.onbuild_inherited,
        )


def apply_env(
    env: dict[str, str], ins: Instruction, global_env: dict[str, str], build_args: dict[str, str], escape: str
) -> None:
    """A stage's variables after ``ins`` (ARG and ENV), for expanding later words as BuildKit does."""
    if ins.keyword == "ARG":
        for word in ins.args:
            name, sep, default = word.partition("=")
            if name in build_args:
                env[name] = build_args[name]
            elif sep:
                env[name] = expand_text(default, env, escape)
            elif name in global_env:
                env[name] = global_env[name]
    elif ins.keyword == "ENV":
        # Every pair is expanded with the variables from before the instruction:
        # `ENV a=1 b=$a` gives b the old value of a.
        before = dict(env)
        args = ins.args
        for i in range(0, len(args) - 2, 3):
            env[expand_text(args[i], before, escape)] = expand_text(args[i + 1], before, escape)


def _casing(word: str) -> str:
    if word == word.lower():
        return "lower"
    if word == word.upper():
        return "upper"
    return "mixed"


def _suggest(word: str, candidates: list[str]) -> str | None:
    close = difflib.get_close_matches(word, [c for c in candidates if c], n=1, cutoff=0.6)
    if close:
        return close[0]
    for candidate in candidates:
        if candidate and (word in candidate or candidate in word) and len(word) >= 3:
            return candidate
    return None


__all__ = ["analyze", "classify_source", "normalize_platform", "platform_args"]
