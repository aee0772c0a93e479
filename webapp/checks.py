"""BuildKit's build checks (``docker build --check``), as data: one :class:`Rule` per check.

Each rule has BuildKit's name (the diagnostic ``code``), its description, its documentation link
and a check function that yields :class:`Finding` objects from a :class:`Context` (the analysed
graph plus what the lexer read). :data:`RULES` is the one list; :func:`apply` runs it, honours the
``# check=skip=...;error=true`` directive, per-instruction ``# check=`` comments and the
``BUILDKIT_DOCKERFILE_CHECK`` build arg, and drops what BuildKit would never reach because the
build fails first. The rules are restated in ``docs/buildkit-semantics.md`` section 4 and listed
in ``docs/checks.md`` (a test keeps that table and this list equal).

To add a rule: write ``def _my_rule(ctx: Context) -> Iterator[Finding]`` and add a
``Rule("MyRule", "description", _my_rule, PHASE)`` line to :data:`RULES`, with one positive and
one negative test in ``tests/test_checks.py`` taken from what BuildKit itself reports.
"""

from __future__ import annotations

import csv
import ipaddress
import re
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, replace
from enum import Enum
from functools import cached_property, lru_cache

from .errors import InputTooLarge
from .instructions import check_instruction, edit_distance
from .lexer import Lexed, split_lines
from .model import (
    BaseKind,
    Diagnostic,
    Edge,
    EdgeKind,
    Graph,
    Instruction,
    Severity,
    SourceKind,
    Stage,
    _quick_init,
)
from .reference import ReferenceError, normalize
from .shell import ExpansionError, expand, expand_word

_STAGE, _IMAGE = BaseKind.STAGE, BaseKind.IMAGE
"""Enum members read through their class cost a look-up each (about 80 ns in Python 3.11): the
per-stage and per-instruction loops below compare with these."""

URL = "https://docs.docker.com/go/dockerfile/rule/{}/"
"""BuildKit's link pattern for a rule's documentation (the kebab-case rule name)."""

CHECK_ARG = "BUILDKIT_DOCKERFILE_CHECK"
"""The build arg that replaces the ``# check=`` directive."""


class Phase(Enum):
    """When BuildKit runs a rule; an error in an earlier phase means the rule never runs."""

    LEX = 1
    """Right after the parser (only the parser's own errors stop it)."""
    PARSE = 2
    """While each instruction is parsed (stops at the first instruction BuildKit refuses)."""
    FILE = 3
    """Over the whole parsed file (stage names, casing, default ARGs)."""
    FROM = 4
    """While each FROM is resolved, for every stage (stops at a FROM that fails)."""
    DISPATCH = 5
    """While each instruction of a built stage runs: every stage without --target, else the ones
    the target builds (stops at the first instruction that fails)."""


@_quick_init  # slots filled directly (see model._quick_init)
@dataclass(frozen=True, slots=True)
class Finding:
    """One warning of a rule."""

    line: int | None
    message: str
    stage: int | None = None
    comments_of: int | None = None
    """Line of the instruction whose ``# check=`` comments apply, None for the file's settings."""
    end_line: int | None = None
    severity: Severity = Severity.WARNING
    after_base: bool = False
    """For a FROM check: BuildKit runs it only once the base name has been resolved."""


@dataclass(frozen=True, slots=True)
class Rule:
    """One BuildKit check: its name (the diagnostic code), what it means, and how to find it."""

    name: str
    """BuildKit's rule name, used as the diagnostic code."""
    description: str
    """What the rule warns about, in our words (the messages are BuildKit's)."""
    check: Callable[[Context], Iterable[Finding]]
    phase: Phase
    experimental: bool = False
    """Runs only when ``# check=experimental=<name>`` (or ``all``) asks for it."""

    @property
    def url(self) -> str:
        """The rule's documentation page."""
        return _rule_url(self.name)


@lru_cache(maxsize=64)
def _rule_url(name: str) -> str:
    return URL.format(re.sub(r"(?<!^)(?=[A-Z][a-z])|(?<=[a-z])(?=[A-Z])", "-", name).lower())


# -- settings: the check directive, comments and build arg ----------------------------------------


class CheckOptionError(ValueError):
    """A ``check`` value BuildKit refuses, in its words."""


@dataclass(frozen=True, slots=True)
class Settings:
    """Which rules run, and whether warnings fail the build (BuildKit's lint options)."""

    skip_all: bool = False
    skip: frozenset[str] = frozenset()
    experimental_all: bool = False
    experimental: frozenset[str] = frozenset()
    error: bool = False

    def merged(self, other: Settings) -> Settings:
        """These settings with another's skips and experiments added (``error`` is kept)."""
        return replace(
            self,
            skip_all=self.skip_all or other.skip_all,
            skip=self.skip | other.skip,
            experimental_all=self.experimental_all or other.experimental_all,
            experimental=self.experimental | other.experimental,
        )

    def runs(self, rule: Rule) -> bool:
        """True when the rule is reported under these settings."""
        if rule.experimental:
            return self.experimental_all or rule.name in self.experimental
        return not (self.skip_all or rule.name in self.skip)


_BOOLS = {"1": True, "t": True, "T": True, "TRUE": True, "true": True, "True": True}
_BOOLS.update({"0": False, "f": False, "F": False, "FALSE": False, "false": False, "False": False})


def parse_settings(text: str) -> Settings:
    """``skip=A,B;experimental=all;error=true`` -> :class:`Settings`, as BuildKit reads it."""
    text = text.strip()
    if not text:
        return Settings()
    values: dict = {}
    for part in text.split(";", 2):
        key, sep, value = part.partition("=")
        if not sep:
            raise CheckOptionError(f"invalid check option {_go_quote(part)}")
        key = key.strip()
        if key in ("skip", "experimental"):
            value = value.strip()
            if value == "all":
                values[f"{key}_all"] = True
            else:
                values[key] = frozenset(v.strip() for v in value.split(","))
        elif key == "error":
            flag = _BOOLS.get(value.strip())
            if flag is None:
                raise CheckOptionError(
                    f"failed to parse check option {_go_quote(part)}: strconv.ParseBool: "
                    f"parsing {_go_quote(value.strip())}: invalid syntax"
                )
            values["error"] = flag
        else:
            raise CheckOptionError(f"invalid check option {_go_quote(key)}")
    return Settings(**values)


_COMMENT_DIRECTIVE = re.compile(r"^([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$")


def comment_settings(comments: list[str]) -> Settings | None:
    """The first ``check=...`` among an instruction's comments (up to a space), if it parses."""
    for comment in comments:
        if "=" not in comment:
            continue  # no directive
        match = _COMMENT_DIRECTIVE.match(comment.lstrip())
        if not match or match.group(1).lower() != "check":
            continue
        try:
            return parse_settings(match.group(2).split(" ", 1)[0])
        except CheckOptionError:
            return None
    return None


# -- the context the rules read -------------------------------------------------------------------


MAX_SNAPSHOT_COPIES = 500_000
"""Variables (ENV/ARG values and declared names) copied into the per-instruction snapshots of one
Dockerfile; past it the file is refused (413). Real Dockerfiles copy a few tens of thousands; a
file of thousands of ENV lines followed by thousands of instructions would copy hundreds of
millions (gigabytes)."""

MAX_SUGGEST_COMPARISONS = 50_000
"""Names compared for the "did you mean" hints of one Dockerfile's UndefinedVar findings."""


@dataclass(slots=True)
class Step:
    """One instruction of a dispatched stage, with the stage's state just before it."""

    stage: Stage
    ins: Instruction
    env: dict[str, str]
    """Variables the instruction's words see (BuildKit's state env, in insertion order)."""
    shell_set: bool
    """A SHELL ran earlier in the stage or its base stages."""
    workdir_set: bool
    """A WORKDIR ran earlier in the stage or its base stages."""
    os: str
    """The stage's platform OS."""
    undefined: list[str] | tuple[()] = ()
    """Variables the instruction's expanded words use that nothing defines."""


class Context:
    """What the rules read: the graph, the lexed file and the options, with shared derived facts."""

    def __init__(
        self,
        graph: Graph,
        lexed: Lexed,
        text: str,
        build_args: dict[str, str],
        target: str | None,
        refused: Collection[int] | None = None,
    ):
        self.graph = graph
        self.lexed = lexed
        self.text = text
        # the lexer's own lines when it read this text (it always has, in the analysis)
        self.lines = lexed.lines if lexed.lines and text else split_lines(text) if text else []
        self.build_args = build_args
        self.target = target
        self.escape = lexed.escape
        self.refused = refused
        """``id()`` of the instructions BuildKit's instruction parser refuses, when the analysis
        already checked every one (else :meth:`parse_failure` checks them itself)."""
        self._chain_end: dict[int, Stage] = {}

    @cached_property
    def instructions(self) -> tuple[Instruction, ...]:
        return self.lexed.instructions

    @cached_property
    def comments(self) -> dict[int, list[str]]:
        """Instruction line -> the comments right above it (BuildKit's ``PrevComment``)."""
        directive_lines = {line for _, _, line in self.lexed.directives}
        out: dict[int, list[str]] = {}
        lines = self.lines
        previous_end = 0
        for ins in self.instructions:
            found: list[str] = []
            for number in range(previous_end + 1, min(ins.line, len(lines) + 1)):
                raw = lines[number - 1]
                if "#" not in raw or number in directive_lines:  # no comment here
                    continue
                raw = raw.lstrip()
                if raw.startswith("#"):
                    text = raw[1:].strip()
                    found = found + [text] if text else []
            out[ins.line] = found
            previous_end = ins.end_line
        return out

    @cached_property
    def global_env(self) -> dict[str, str]:
        """What FROM lines see: the builtin platform ARGs, then meta ARGs that have a value."""
        env = builtin_args(self.graph.platform, self.target or self._last_stage_name())
        for name in list(env):
            if name in self.build_args:
                env[name] = self.build_args[name]
        for arg in self.graph.global_args:
            if arg.value is not None:
                env[arg.name] = arg.value
        return env

    def _last_stage_name(self) -> str:
        stages = self.graph.stages
        return (stages[-1].name if stages and stages[-1].name else None) or "default"

    @cached_property
    def dispatched(self) -> list[Stage]:
        """Stages BuildKit's check dispatches: all without --target, else the ones it builds."""
        if self.target is None:
            return list(self.graph.stages)
        return [s for s in self.graph.stages if s.reachable]

    def _root(self, stage: Stage) -> Stage:
        """The last stage of ``stage``'s chain of base stages (itself when it has none)."""
        found = self._chain_end.get(stage.index)
        if found is None:
            first, seen = stage, set()
            while stage.base.kind is _STAGE and stage.base.stage is not None and stage.index not in seen:
                seen.add(stage.index)
                stage = self.graph.stages[stage.base.stage]
            found = self._chain_end[first.index] = stage
        return found

    def stage_os(self, stage: Stage) -> str:
        stage = self._root(stage)
        platform = stage.platform if stage.base.kind is _IMAGE and stage.platform else self.graph.platform
        return platform.split("/")[0].lower()

    def image_rooted(self, stage: Stage) -> bool:
        """True when the stage's base chain ends in an image, whose env is not known without it."""
        return self._root(stage).base.kind is _IMAGE

    @cached_property
    def steps(self) -> list[Step]:
        """The instructions of the dispatched stages a rule reads, with the state each sees (see
        :class:`Step`): those of :data:`_STEP_KEYWORDS` and those that use undefined variables."""
        states: dict[int, tuple[dict[str, str], set[str], bool, bool]] = {}
        out: list[Step] = []
        wanted = {s.index for s in self.dispatched}
        copies = 0  # variables copied into snapshots: bounded, as each step keeps its own
        append = out.append
        for stage in self.graph.stages:
            base = stage.base
            os_name = self.stage_os(stage)
            if base.kind is _STAGE and base.stage in states:
                env, declared, shell_set, workdir_set = states[base.stage]
                env, declared = dict(env), set(declared)
            else:
                env, declared, shell_set, workdir_set = {}, set(), False, False
                if os_name != "windows":
                    env["PATH"] = _DEFAULT_PATH
            keep = stage.index in wanted
            # Steps between two ARG/ENV share one snapshot of the variables (no rule changes
            # them), made only for a step that is kept; the bound counts a copy of the variables
            # and declared names for every instruction, so it refuses the same files it always did.
            snapshot: dict[str, str] | None = None
            for ins in self._commands(stage):
                copies += len(env) + len(declared) + 1
                if copies > MAX_SNAPSHOT_COPIES:
                    raise InputTooLarge(
                        "Dockerfile too large for its build checks: its instructions see more than "
                        f"{MAX_SNAPSHOT_COPIES} variables in all",
                        ins.line,
                    )
                kw = ins.keyword
                if keep:
                    # else nothing to report (see _undefined): no "$", no word expanded, or a RUN
                    # without flags (only its mount values are expanded)
                    if (
                        (ins.json or "$" in ins.source)
                        and kw in _WORDS_EXPANDED
                        and (kw != "RUN" or ins.flags)
                    ):
                        undefined = self._undefined(ins, env, declared)
                    else:
                        undefined = ()
                    if undefined or kw in _STEP_KEYWORDS:  # else no rule reads the step
                        if snapshot is None:
                            snapshot = dict(env)
                        append(Step(stage, ins, snapshot, shell_set, workdir_set, os_name, undefined))
                if kw == "ARG":
                    self._apply_arg(ins, env, declared)
                    snapshot = None
                elif kw == "ENV":
                    snapshot = None
                    pairs = [(ins.args[i], ins.args[i + 1]) for i in range(0, len(ins.args) - 2, 3)]
                    expanded = [(self._expand(k, env), self._expand(v, env)) for k, v in pairs]
                    for key, value in expanded:
                        env[key] = value
                elif kw == "SHELL":
                    shell_set = True
                elif kw == "WORKDIR":
                    workdir_set = True
            states[stage.index] = (env, declared, shell_set, workdir_set)
        return out

    @cached_property
    def steps_of(self) -> dict[str, list[Step]]:
        """:meth:`steps` by keyword, each list in order."""
        out: dict[str, list[Step]] = {}
        for step in self.steps:
            out.setdefault(step.ins.keyword, []).append(step)
        return out

    def _commands(self, stage: Stage) -> list[Instruction]:
        """The stage's instructions, after the ONBUILD triggers of its base stage (one level).

        BuildKit runs an inherited trigger as the child's first commands and reports it at the
        child's FROM line, so a trigger here carries that line.
        """
        base = stage.base
        triggers: list[Instruction] = []
        if base.kind is _STAGE and base.stage is not None:
            for ins in self.graph.stages[base.stage].instructions:
                if ins.keyword == "ONBUILD" and ins.sub is not None:
                    triggers.append(replace(ins.sub, line=stage.line, end_line=stage.line))
        if not triggers:
            return stage.instructions  # read only: no list of its own needed
        return triggers + list(stage.instructions)

    def _expand(self, word: str, env: dict[str, str]) -> str:
        try:
            return expand_word(word, env, self.escape)
        except ExpansionError:
            return word

    def _apply_arg(self, ins: Instruction, env: dict[str, str], declared: set[str]) -> None:
        for word in ins.args:
            name, sep, default = word.partition("=")
            declared.add(name)
            if name in self.build_args:
                value = self.build_args[name]
            elif sep:
                value = self._expand(default, env)
            elif name in self.global_env:
                value = self.global_env[name]
            else:
                continue
            if name not in _NON_ENV_ARGS:
                env[name] = value

    def _undefined(self, ins: Instruction, env: dict[str, str], declared: set[str]) -> list[str]:
        """Variables BuildKit reports as undefined when it expands this instruction's words."""
        if not ins.json and "$" not in ins.source:
            # every word expanded (flags, arguments, heredoc bodies) is cut from the source text;
            # only a JSON string can spell a "$" that the source does not hold
            return []
        words, raw = _expanded_words(ins)
        missing: list[str] = []
        for word in words:
            missing += self._unmatched(word, env, self.escape)
        for word in raw:
            missing += self._unmatched(word, env, "\\", raw=True)
        if ins.keyword == "ARG":
            local = dict(env)
            for word in ins.args:
                name, sep, default = word.partition("=")
                if sep and name not in self.build_args:
                    missing += self._unmatched(default, local, self.escape)
                    local[name] = self._expand(default, local)
        out = []
        for name in missing:
            if name not in declared and name not in _NON_ENV_ARGS and name not in out:
                out.append(name)
        return out

    @staticmethod
    def _unmatched(word: str, env: dict[str, str], escape: str, raw: bool = False) -> list[str]:
        if "$" not in word:
            return []
        try:
            if raw:
                # Heredoc bodies are expanded with quotes kept: only the variables matter here.
                word = word.replace("'", "").replace('"', "")
            return sorted(expand(word, env, escape).unmatched)
        except ExpansionError:
            return []

    # -- where the build stops ----------------------------------------------------------------

    @cached_property
    def lexer_failed(self) -> bool:
        return any(d.severity is Severity.ERROR for d in self.lexed.diagnostics)

    @cached_property
    def parse_failure(self) -> int | None:
        """Line of the first instruction BuildKit's instruction parser refuses, else None."""
        seen_from = False
        refused = self.refused
        for ins in self.instructions:
            if (id(ins) in refused) if refused is not None else (check_instruction(ins) is not None):
                return ins.line
            if ins.keyword == "FROM":
                seen_from = True
            elif not seen_from and ins.keyword != "ARG":
                return ins.line
        return None

    @cached_property
    def failure(self) -> tuple[Phase, int | None, int | None] | None:
        """Where the first error after parsing stops BuildKit, as (phase, stage, detail):

        - ``(FROM, None, None)``: the meta ARGs fail, so no FROM is resolved;
        - ``(FROM, stage, part)``: that stage's FROM fails on its base (part 0) or platform (1);
        - ``(DISPATCH, None, None)``: a check before any stage is built fails (a stage reference,
          a cycle, an invalid image name);
        - ``(DISPATCH, stage, line)``: building that stage fails at that line.
        """
        errors = [d for d in self.graph.diagnostics if d.severity is Severity.ERROR]
        if not errors:
            return None
        if any(d.code in _META_ARG_ERRORS for d in errors):
            return (Phase.FROM, None, None)
        from_errors = [d for d in errors if d.code in _BASE_ERRORS or d.code in _PLATFORM_ERRORS]
        if from_errors:
            first = min(
                from_errors, key=lambda d: (d.stage is None, d.stage or 0, d.code in _PLATFORM_ERRORS)
            )
            return (Phase.FROM, first.stage or 0, int(first.code in _PLATFORM_ERRORS))
        if any(d.code in _BEFORE_DISPATCH_ERRORS or d.stage is None for d in errors):
            return (Phase.DISPATCH, None, None)
        first = min(errors, key=lambda d: (d.stage, d.line or 0))
        return (Phase.DISPATCH, first.stage, first.line)

    @cached_property
    def forward_reference(self) -> tuple[int, int] | None:
        """(stage, line) of the first instruction that fails while its stage is built (a stage
        not built yet, a COPY of a URL), among the stages the check dispatches: BuildKit's check
        stops there even in a stage the target skips."""
        wanted = {s.index for s in self.dispatched}
        found = [(e.target, e.line) for e in self.graph.edges if e.target in wanted and _fails_at_dispatch(e)]
        found += [(d.stage, d.line or 0) for d in self._unbuilt_errors if d.stage in wanted]
        return min(found) if found else None

    def reached(self, rule: Rule, finding: Finding) -> bool:
        """False when BuildKit fails before it would run this rule at this place."""
        if self.lexer_failed:
            return False
        if rule.phase is Phase.LEX:
            return True
        if self.parse_failure is not None:
            return rule.phase is Phase.PARSE and (finding.line or 0) <= self.parse_failure
        failure = self.failure
        forward = self.forward_reference
        if forward is not None and (
            failure is None or (failure[0] is Phase.DISPATCH and failure[1] is not None)
        ):
            failure = (Phase.DISPATCH, *min(forward, failure[1:] if failure else forward))
        if failure is None or rule.phase in (Phase.PARSE, Phase.FILE):
            return True
        phase, stage, detail = failure
        if rule.phase is Phase.FROM:
            if phase is Phase.DISPATCH:
                return True
            if stage is None:
                return False
            if (finding.stage or 0) != stage:
                return (finding.stage or 0) < stage
            return detail == 1 or not finding.after_base
        if phase is Phase.FROM or stage is None or finding.stage is None:
            return False
        order = self._dispatch_order
        if finding.stage not in order or stage not in order:
            return finding.stage in order and stage not in order
        if order[finding.stage] != order[stage]:
            return order[finding.stage] < order[stage]
        if finding.line == detail and rule.name in _BEFORE_VALIDATION:
            # BuildKit expands the words (reporting undefined ones) and checks EXPOSE ports one by
            # one before it refuses a value; the rules stop themselves at a refused port.
            return self._fails_validating(stage, detail)
        return (finding.line or 0) < (detail or 0)

    @cached_property
    def _dispatch_order(self) -> dict[int, int]:
        """Stage index -> its position among the dispatched stages (first one kept)."""
        order: dict[int, int] = {}
        for position, stage in enumerate(self.dispatched):
            order.setdefault(stage.index, position)
        return order

    def _fails_validating(self, stage: int, line: int) -> bool:
        """True when the instruction at (stage, line) fails after its words were expanded."""
        errors = [*self.graph.diagnostics, *self._unbuilt_errors]
        codes = {
            d.code for d in errors if d.severity is Severity.ERROR and (d.stage, d.line) == (stage, line)
        }
        return bool(codes) and "expansion" not in codes

    @cached_property
    def _unbuilt_errors(self) -> tuple[Diagnostic, ...]:
        """Errors of building stages the target skips (``Graph.unbuilt_errors``), which stop
        BuildKit's check when it goes through every stage (no --target)."""
        if self.target is not None:
            return ()
        return tuple(d for d in self.graph.unbuilt_errors if d.stage is not None)


_BEFORE_VALIDATION = frozenset({"UndefinedVar", "ExposeProtoCasing", "ExposeInvalidFormat"})
_DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_NON_ENV_ARGS = frozenset({"BUILDKIT_SBOM_SCAN_CONTEXT", "BUILDKIT_SBOM_SCAN_STAGE"})

# Error codes of webapp.analysis by the phase BuildKit raises them in.
_META_ARG_ERRORS = frozenset({"arg-expansion"})
_BASE_ERRORS = frozenset({"from-expansion", "blank-base"})
_PLATFORM_ERRORS = frozenset({"platform-expansion", "platform-empty", "platform-invalid"})
_BEFORE_DISPATCH_ERRORS = frozenset(
    {
        "invalid-stage-index",
        "from-variable",
        "mount-from-variable",
        "circular-dependency",
        "invalid-reference",
    }
)


def _fails_at_dispatch(edge: Edge) -> bool:
    """A COPY/mount of a stage not built yet, or a COPY of a URL or git repository: BuildKit
    refuses these while building the stage."""
    source = edge.source
    if edge.kind is EdgeKind.FROM:
        return False
    if source.kind is SourceKind.STAGE:
        return source.stage is not None and source.stage >= edge.target
    return edge.kind is EdgeKind.COPY and source.kind in (SourceKind.URL, SourceKind.GIT)


def builtin_args(platform: str, target_stage: str) -> dict[str, str]:
    """BUILD* (always linux/amd64 here), TARGET* from the target platform, and TARGETSTAGE."""
    env: dict[str, str] = {}
    for prefix, value in (("BUILD", "linux/amd64"), ("TARGET", platform)):
        parts = value.split("/")
        env[f"{prefix}PLATFORM"] = value
        env[f"{prefix}OS"] = parts[0]
        env[f"{prefix}OSVERSION"] = ""
        env[f"{prefix}ARCH"] = parts[1] if len(parts) > 1 else ""
        env[f"{prefix}VARIANT"] = parts[2] if len(parts) > 2 else ""
    env["TARGETSTAGE"] = target_stage
    return env


_WORDS_EXPANDED = frozenset(
    ("ENV", "LABEL", "COPY", "ADD", "WORKDIR", "USER", "VOLUME", "STOPSIGNAL", "RUN", "ARG")
)
"""The keywords whose words :meth:`Context._undefined` reads (:func:`_expanded_words`, ARG
defaults): for any other it reports nothing."""


def _expanded_words(ins: Instruction) -> tuple[list[str], list[str]]:
    """(words BuildKit expands with the stage env, heredoc bodies it expands raw) for one
    instruction; ARG defaults and EXPOSE ports are expanded without this report."""
    kw = ins.keyword
    args = list(ins.args)
    if kw in ("ENV", "LABEL"):
        words = []
        for i in range(0, len(args) - 2, 3):
            words += [args[i], args[i + 1]]
        return words, []
    if kw in ("COPY", "ADD"):
        words = []  # the flags BuildKit expands (none: nothing to add)
        if ins.flags:
            words = [ins.flag("chown") or "", ins.flag("chmod") or ""]
            if kw == "ADD":
                words.append(ins.flag("checksum") or "")
        if not ins.heredocs:  # no word is a heredoc
            return words + args, []
        names = {h.name for h in ins.heredocs}
        sources = [a for a in args[:-1] if not _is_heredoc_word(a, names)]
        raw = [
            h.body for h in ins.heredocs if h.expand and any(_is_heredoc_word(a, {h.name}) for a in args[:-1])
        ]
        return words + sources + args[-1:], raw
    if kw in ("WORKDIR", "USER", "VOLUME", "STOPSIGNAL"):
        return args, []
    if kw == "RUN":
        words = []
        for value in ins.flag_values("mount"):
            plain = '"' not in value and "\r" not in value and "\n" not in value
            if value and plain and len(value) < 100_000:
                fields = value.split(",")  # the CSV reader's answer without quotes or line ends
            else:  # (or past its field size limit, where it raises)
                try:
                    fields = next(csv.reader([value]))
                except (csv.Error, StopIteration):
                    continue
            for item in fields:
                _, sep, val = item.partition("=")
                if sep:
                    words.append(val)
        return words, []
    return [], []


_HEREDOC_WORD = re.compile(r"^\d*<<-?\s*(.*)$")


def _is_heredoc_word(word: str, names: set[str]) -> bool:
    if "<<" not in word:
        return False
    match = _HEREDOC_WORD.match(word)
    return bool(match) and match.group(1).strip("'\"") in names


# -- small helpers that restate Go's formatting ---------------------------------------------------


def _go_quote(text: str) -> str:
    """Go's ``%q``: double quotes, backslash escapes for quotes, backslashes and control bytes."""
    out = ['"']
    for ch in text:
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\x{ord(ch):02x}")
        elif not ch.isprintable():
            out.append(f"\\u{ord(ch):04x}" if ord(ch) <= 0xFFFF else f"\\U{ord(ch):08x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def suggest(word: str, options: Iterable[str]) -> str:
    """The closest option within two edits (BuildKit's suggestion rule), or ''."""
    best, best_distance = "", 3
    for option in options:
        if option == word:
            return ""
        distance = edit_distance(word, option)
        if distance < best_distance:
            best, best_distance = option, distance
    return best


def _casing(word: str) -> str:
    if word == word.lower():
        return "lower"
    if word == word.upper():
        return "upper"
    return "mixed"


_FIRST_WORDS = re.compile(r"\s*(\S+)(?:\s+(\S+))?")


def _keyword_as_written(ins: Instruction) -> str:
    """The keyword with its case as written (for an ONBUILD trigger, the trigger's keyword)."""
    source, keyword = ins.source, ins.keyword
    head = source[: len(keyword)]
    if head.upper() == keyword and (len(source) == len(head) or source[len(head)].isspace()):
        return head  # the first word (the usual case, read without the regular expression)
    match = _FIRST_WORDS.match(source)
    if match is not None:
        for word in match.groups():
            if word is not None and word.upper() == ins.keyword:
                return word
    return ins.keyword


# -- the rules ------------------------------------------------------------------------------------


def _no_empty_continuation(ctx: Context) -> Iterator[Finding]:
    for line in ctx.lexed.empty_continuations:
        yield Finding(line, "Empty continuation line")


def _stage_of_line(ctx: Context, line: int) -> int | None:
    for stage in ctx.graph.stages:
        if stage.line <= line <= stage.end_line:
            return stage.index
    return None


def _froms(ctx: Context) -> Iterator[Instruction]:
    return (stage.from_instruction for stage in ctx.graph.stages)  # every FROM starts a stage


def _stage_name_casing(ctx: Context) -> Iterator[Finding]:
    for ins in _froms(ctx):
        if len(ins.args) == 3 and ins.args[2] != ins.args[2].lower():
            yield Finding(ins.line, f"Stage name '{ins.args[2]}' should be lowercase", comments_of=ins.line)


def _from_as_casing(ctx: Context) -> Iterator[Finding]:
    for ins in _froms(ctx):
        if len(ins.args) < 3:
            continue
        keyword, as_word = _keyword_as_written(ins), ins.args[1]
        casing = _casing(keyword)
        wanted = as_word.lower() if casing == "lower" else as_word.upper() if casing == "upper" else as_word
        if as_word != wanted:
            yield Finding(
                ins.line, f"'{as_word}' and '{keyword}' keywords' casing do not match", comments_of=ins.line
            )


def _maintainer_deprecated(ctx: Context) -> Iterator[Finding]:
    for ins in ctx.instructions:
        if ins.keyword == "MAINTAINER":
            yield Finding(
                ins.line, "Maintainer instruction is deprecated in favor of using label", comments_of=ins.line
            )


def _invalid_definition_description(ctx: Context) -> Iterator[Finding]:
    all_comments = ctx.comments
    for ins in ctx.instructions:
        kw = ins.keyword
        if kw != "FROM" and kw != "ARG":
            continue
        comments = all_comments.get(ins.line)
        if not comments:  # nothing to compare (the usual case): no keys needed
            continue
        if kw == "FROM" and len(ins.args) == 3:
            keys, what = [ins.args[2].lower()], "FROM"
        elif kw == "ARG":
            keys, what = [w.partition("=")[0] for w in ins.args], "ARG"
        else:
            continue
        if not keys or comments[-1].split(" ")[0] in keys:
            continue
        example = keys[0] if len(keys) == 1 else "<arg_key>"
        yield Finding(
            ins.line,
            f"Comment for {what} should follow the format: `# {example} <description>`",
            comments_of=ins.line,
        )


def _duplicate_stage_name(ctx: Context) -> Iterator[Finding]:
    seen: set[str] = set()
    for stage in ctx.graph.stages:
        if stage.name:
            if stage.name in seen:
                yield Finding(
                    stage.line,
                    f"Duplicate stage name {_go_quote(stage.name)}, stage names should be unique",
                    stage.index,
                )
            seen.add(stage.name)


def _reserved_stage_name(ctx: Context) -> Iterator[Finding]:
    for stage in ctx.graph.stages:
        if stage.name in ("scratch", "context"):
            yield Finding(
                stage.line,
                f"Stage name should not use the same name as reserved stage {_go_quote(stage.name)}",
                stage.index,
            )


def _consistent_instruction_casing(ctx: Context) -> Iterator[Finding]:
    # First the keywords as written, counted per distinct word (a file has a few); a second pass
    # over the instructions only when some word is not in the majority's case.
    counts: dict[str, int] = {}
    # the stages' instructions, FROMs included, are the file's after its preamble, in order
    for ins in ctx.instructions[len(ctx.graph.preamble) :]:
        # _keyword_as_written's usual case, inlined: the source starts with the keyword as is
        source, keyword = ins.source, ins.keyword
        size = len(keyword)
        if source.startswith(keyword) and (len(source) == size or source[size].isspace()):
            word = keyword
        else:
            word = _keyword_as_written(ins)
        counts[word] = counts.get(word, 0) + 1
    lower = sum(n for word, n in counts.items() if word == word.lower())
    upper = sum(n for word, n in counts.items() if word != word.lower() and word == word.upper())
    majority = "lowercase" if lower > upper else "uppercase"
    wrong = {w for w in counts if w != (w.lower() if majority == "lowercase" else w.upper())}
    if not wrong:
        return
    for stage in ctx.graph.stages:
        for ins in (stage.from_instruction, *stage.instructions):
            word = _keyword_as_written(ins)
            if word in wrong:
                yield Finding(
                    ins.line,
                    f"Command '{word}' should match the case of the command majority ({majority})",
                    stage.index,
                )


def _invalid_default_arg_in_from(ctx: Context) -> Iterator[Finding]:
    env = builtin_args(ctx.graph.platform, ctx.target or ctx._last_stage_name())
    for name in list(env):
        if name in ctx.build_args:
            env[name] = ctx.build_args[name]
    for arg in ctx.graph.global_args:
        if arg.default is None:
            continue
        try:
            env[arg.name] = expand_word(arg.default, env, ctx.escape)
        except ExpansionError:
            return
    for stage in ctx.graph.stages:
        ins = stage.from_instruction
        if not ins.args:
            continue
        try:
            value = expand_word(ins.args[0], env, ctx.escape)
        except ExpansionError:
            return
        try:
            if not value:
                raise ReferenceError("empty")
            normalize(value)
        except ReferenceError:
            yield Finding(
                stage.line,
                f"Default value for ARG {ins.args[0]} results in empty or invalid base image name",
                stage.index,
            )


def _from_words(ctx: Context, stage: Stage) -> list[tuple[str, str]]:
    ins = stage.from_instruction
    words = [("base", ins.args[0])] if ins.args else []
    platform = ins.flag("platform") if ins.flags else None  # (most FROMs have no flag at all)
    if platform:
        words.append(("platform", platform))
    return words


def _undefined_arg_in_from(ctx: Context) -> Iterator[Finding]:
    env = ctx.global_env
    known = list(dict.fromkeys([a.name for a in ctx.graph.global_args] + list(env)))
    for stage in ctx.graph.stages:
        for part, word in _from_words(ctx, stage):
            if "$" not in word:
                continue  # no variable (an unreadable word is skipped either way)
            try:
                unmatched = expand(word, env, ctx.escape).unmatched
            except ExpansionError:
                continue
            for name in sorted(unmatched):
                if name in known:
                    continue
                hint = suggest(name, known)
                yield Finding(
                    stage.line,
                    f"FROM argument '{name}' is not declared" + (f" (did you mean {hint}?)" if hint else ""),
                    stage.index,
                    comments_of=stage.line,
                    after_base=part == "platform",
                )


def _redundant_target_platform(ctx: Context) -> Iterator[Finding]:
    env = ctx.global_env
    for stage in ctx.graph.stages:
        ins = stage.from_instruction
        platform = ins.flag("platform") if ins.flags else None  # (most FROMs have no flag at all)
        if not platform:
            continue
        try:
            result = expand(platform, env, ctx.escape)
        except ExpansionError:
            continue
        if (
            result.matched == {"TARGETPLATFORM"}
            and not result.unmatched
            and result.result == env["TARGETPLATFORM"]
        ):
            yield Finding(
                stage.line,
                f"Setting platform to predefined {platform} in FROM is redundant as this is the default "
                "behavior",
                stage.index,
                comments_of=stage.line,
                after_base=True,
            )


_OSES = {"aix", "android", "darwin", "dragonfly", "freebsd", "illumos", "ios", "js", "linux", "netbsd"}
_OSES |= {"openbsd", "plan9", "solaris", "wasip1", "windows", "macos"}
_ARCHES = {
    "x86_64": "amd64",
    "x86-64": "amd64",
    "aarch64": "arm64",
    "armhf": "arm",
    "armel": "arm",
    "i386": "386",
}


def _os_arch(platform: str) -> tuple[str, str] | None:
    """containerd's reading of a platform string, (os, arch), or None when it cannot parse it."""
    parts = platform.lower().split("/")
    if not all(re.fullmatch(r"[a-z0-9_\-.]+", p) for p in parts) or len(parts) > 3:
        return None
    if len(parts) == 1:
        word = parts[0]
        if word in _OSES:
            return ("darwin" if word == "macos" else word, "amd64")
        return ("linux", _ARCHES.get(word, word))
    os_name = "darwin" if parts[0] == "macos" else parts[0]
    return (os_name, _ARCHES.get(parts[1], parts[1]))


def _from_platform_flag_const_disallowed(ctx: Context) -> Iterator[Finding]:
    for stage in ctx.graph.stages:
        ins = stage.from_instruction
        platform = ins.flag("platform") if ins.flags else None  # (most FROMs have no flag at all)
        if not platform:
            continue
        try:
            result = expand(platform, ctx.global_env, ctx.escape)
        except ExpansionError:
            continue
        if result.matched or result.unmatched:
            continue
        parsed = _os_arch(result.result)
        if parsed is None:
            continue
        name = stage.name or ""
        if parsed[0] in name or parsed[1] in name:
            continue
        yield Finding(
            stage.line,
            f"FROM --platform flag should not use constant value {_go_quote(result.result)}",
            stage.index,
            comments_of=stage.line,
            after_base=True,
        )


_STEP_KEYWORDS = frozenset(("ENV", "LABEL", "ARG", "CMD", "ENTRYPOINT", "HEALTHCHECK", "WORKDIR", "EXPOSE"))
"""The keywords whose steps the rules read through :func:`_dispatch` (a rule that reads another
adds it here; :func:`_dispatch` refuses any other). Other steps are kept only when they use an
undefined variable (:func:`_undefined_var`)."""


def _dispatch(ctx: Context, *keywords: str) -> Iterator[Step]:
    if not _STEP_KEYWORDS.issuperset(keywords):
        raise ValueError(f"no steps are kept for {keywords}: add them to _STEP_KEYWORDS")
    found = [steps for steps in map(ctx.steps_of.get, keywords) if steps]
    if len(found) <= 1:  # one keyword's list (usually): it is in order already
        return iter(found[0] if found else ())
    return (s for s in ctx.steps if s.ins.keyword in keywords)


def _legacy_key_value_format(ctx: Context) -> Iterator[Finding]:
    for step in _dispatch(ctx, "ENV", "LABEL"):
        args = step.ins.args
        for i in range(0, len(args) - 2, 3):
            if args[i + 2] == "":
                name = _keyword_as_written(step.ins)
                yield Finding(
                    step.ins.line,
                    f'"{name} key=value" should be used instead of legacy "{name} key value" format',
                    step.stage.index,
                    comments_of=step.ins.line,
                )


_SECRET = re.compile(
    r"(?i)(?:_|^)(?:apikey|auth|credential|credentials|key|password|pword|passwd|secret|token)(?:_|$)"
)
_NOT_SECRET = re.compile(r"(?i)(?:_|^)(?:public|file|version)(?:_|$)")


def _secrets_used_in_arg_or_env(ctx: Context) -> Iterator[Finding]:
    for step in _dispatch(ctx, "ENV", "ARG"):
        args = step.ins.args
        if step.ins.keyword == "ENV":
            keys = [args[i] for i in range(0, len(args) - 2, 3)]
        else:
            keys = [w.partition("=")[0] for w in args]
        for key in keys:
            if _SECRET.search(key) and not _NOT_SECRET.search(key):
                yield Finding(
                    step.ins.line,
                    "Do not use ARG or ENV instructions for sensitive data "
                    f"({step.ins.keyword} {_go_quote(key)})",
                    step.stage.index,
                    comments_of=step.ins.line,
                )


def _json_args_recommended(ctx: Context) -> Iterator[Finding]:
    for step in _dispatch(ctx, "CMD", "ENTRYPOINT"):
        if not step.ins.json and not step.shell_set:
            name = _keyword_as_written(step.ins)
            yield Finding(
                step.ins.line,
                f"JSON arguments recommended for {name} to prevent unintended behavior related to OS signals",
                step.stage.index,
                comments_of=step.ins.line,
            )


def _multiple_instructions_disallowed(ctx: Context) -> Iterator[Finding]:
    last: dict[tuple[int, str], Instruction] = {}
    for step in _dispatch(ctx, "CMD", "ENTRYPOINT", "HEALTHCHECK"):
        key = (step.stage.index, step.ins.keyword)
        if key in last:
            yield Finding(
                last[key].line,
                f"Multiple {_keyword_as_written(step.ins)} instructions should not be used in the same stage "
                "because only the last one will be used",
                step.stage.index,
                comments_of=step.ins.line,
            )
        last[key] = step.ins


def _is_abs(path: str, os_name: str) -> bool:
    if os_name == "windows":
        return bool(re.match(r"^([a-zA-Z]:)?[\\/]", path))
    return path.startswith("/")


def _workdir_relative_path(ctx: Context) -> Iterator[Finding]:
    for step in _dispatch(ctx, "WORKDIR"):
        if step.workdir_set or not step.ins.args:
            continue
        path = step.ins.args[0]
        try:
            path = expand_word(path, step.env, ctx.escape)
        except ExpansionError:
            continue
        if not _is_abs(path, step.os):
            yield Finding(
                step.ins.line,
                f"Relative workdir {_go_quote(path)} can have unexpected results if the base image changes",
                step.stage.index,
                comments_of=step.ins.line,
            )


def _undefined_var(ctx: Context) -> Iterator[Finding]:
    comparisons = MAX_SUGGEST_COMPARISONS  # past it, findings come without a "did you mean"
    for step in ctx.steps:
        for name in step.undefined:
            hint = suggest(name, step.env) if comparisons > 0 else ""
            comparisons -= len(step.env)
            # Without pulling the base image we cannot know the variables it defines: below an
            # image the finding is a note; below scratch it is certain.
            severity = Severity.INFO if ctx.image_rooted(step.stage) else Severity.WARNING
            yield Finding(
                step.ins.line,
                f"Usage of undefined variable '${name}'" + (f" (did you mean ${hint}?)" if hint else ""),
                step.stage.index,
                comments_of=step.ins.line,
                severity=severity,
            )


def _ports(ctx: Context, step: Step) -> list[str]:
    out = []
    for word in step.ins.args:
        try:
            value = expand_word(word, step.env, ctx.escape)
        except ExpansionError:
            return out
        out += value.split()
    return out


def _split_port(raw: str) -> tuple[str, str, str]:
    parts = raw.split(":")
    if len(parts) == 1:
        return "", "", parts[0]
    if len(parts) == 2:
        return "", parts[0], parts[1]
    return ":".join(parts[:-2]), parts[-2], parts[-1]


def _port_range(text: str) -> tuple[int, int] | None:
    """``80`` or ``8000-8010`` as BuildKit reads a port range, or None when it refuses it."""
    start, sep, end = text.partition("-")
    numbers = []
    for word in (start, end) if sep and start != end else (start,):
        if not re.fullmatch(r"[+-]?[0-9]+", word) or not 0 <= int(word) <= 65535:
            return None
        numbers.append(int(word))
    if len(numbers) == 2 and numbers[1] < numbers[0]:
        return None
    return (numbers[0], numbers[-1])


def _port_fails(ip: str, host: str, port: str) -> bool:
    """True when BuildKit refuses this EXPOSE port after checking it (bad IP, port or range)."""
    if ip:
        address = ip[1:].partition("]")[0] if ip.startswith("[") else ip
        try:
            ipaddress.ip_address(address)
        except ValueError:
            return True
    container = _port_range(port)
    if container is None:
        return True
    if host:
        mapped = _port_range(host)
        if mapped is None:
            return True
        if container[1] - container[0] != mapped[1] - mapped[0] and container[0] != container[1]:
            return True
    return False


def _expose_findings(ctx: Context, casing: bool) -> Iterator[Finding]:
    for step in _dispatch(ctx, "EXPOSE"):
        for raw in _ports(ctx, step):
            ip, host, container = _split_port(raw)
            port, _, proto = container.partition("/")
            if not port or proto.lower() not in ("", "tcp", "udp", "sctp"):
                break  # BuildKit fails on this port before its checks
            message = None
            if casing and proto != proto.lower():
                message = f"Defined protocol '{raw}' in EXPOSE instruction should be lowercase"
            elif not casing and (ip or host):
                message = (
                    f"EXPOSE instruction should not define an IP address or host-port mapping, found '{raw}'"
                )
            if message:
                yield Finding(step.ins.line, message, step.stage.index, comments_of=step.ins.line)
            if _port_fails(ip, host, port):
                break  # BuildKit fails on this port after its checks


def _expose_proto_casing(ctx: Context) -> Iterator[Finding]:
    return _expose_findings(ctx, casing=True)


def _expose_invalid_format(ctx: Context) -> Iterator[Finding]:
    return _expose_findings(ctx, casing=False)


RULES: tuple[Rule, ...] = (
    Rule(
        "StageNameCasing",
        "An `AS` stage name with capital letters (names are lower-cased).",
        _stage_name_casing,
        Phase.PARSE,
    ),
    Rule(
        "FromAsCasing",
        "`AS` cased differently from its `FROM` (`FROM x as y`).",
        _from_as_casing,
        Phase.PARSE,
    ),
    Rule(
        "NoEmptyContinuation",
        "A blank line inside a continued instruction (BuildKit plans to refuse these).",
        _no_empty_continuation,
        Phase.LEX,
    ),
    Rule(
        "ConsistentInstructionCasing",
        "A keyword whose case differs from most keywords of the file (`run` among `RUN`s).",
        _consistent_instruction_casing,
        Phase.FILE,
    ),
    Rule("DuplicateStageName", "Two stages with the same name.", _duplicate_stage_name, Phase.FILE),
    Rule("ReservedStageName", "A stage named `scratch` or `context`.", _reserved_stage_name, Phase.FILE),
    Rule(
        "JSONArgsRecommended",
        "`CMD` or `ENTRYPOINT` in shell form: the process does not receive stop signals.",
        _json_args_recommended,
        Phase.DISPATCH,
    ),
    Rule("MaintainerDeprecated", "`MAINTAINER`, replaced by a label.", _maintainer_deprecated, Phase.PARSE),
    Rule(
        "UndefinedArgInFrom",
        "A `FROM` that uses a variable no ARG before the first `FROM` declares.",
        _undefined_arg_in_from,
        Phase.FROM,
    ),
    Rule(
        "WorkdirRelativePath",
        "A relative `WORKDIR` before any absolute one: it depends on the base image's directory.",
        _workdir_relative_path,
        Phase.DISPATCH,
    ),
    Rule(
        "UndefinedVar",
        "A variable nothing defines (ARG, ENV, the base stage); below an image it is a note, since "
        "the image may define it.",
        _undefined_var,
        Phase.DISPATCH,
    ),
    Rule(
        "MultipleInstructionsDisallowed",
        "A second `CMD`, `ENTRYPOINT` or `HEALTHCHECK` in a stage: the earlier one has no effect.",
        _multiple_instructions_disallowed,
        Phase.DISPATCH,
    ),
    Rule(
        "LegacyKeyValueFormat",
        "`ENV key value` or `LABEL key value` instead of `key=value`.",
        _legacy_key_value_format,
        Phase.DISPATCH,
    ),
    Rule(
        "RedundantTargetPlatform",
        "`FROM --platform=$TARGETPLATFORM`, which is what FROM does anyway.",
        _redundant_target_platform,
        Phase.FROM,
    ),
    Rule(
        "SecretsUsedInArgOrEnv",
        "An ARG or ENV named like a secret (`..._TOKEN`, `PASSWORD`): its value stays in the image.",
        _secrets_used_in_arg_or_env,
        Phase.DISPATCH,
    ),
    Rule(
        "InvalidDefaultArgInFrom",
        "A `FROM` that is no valid image when the meta ARGs keep their defaults.",
        _invalid_default_arg_in_from,
        Phase.FILE,
    ),
    Rule(
        "FromPlatformFlagConstDisallowed",
        "`FROM --platform=` a constant, unless the stage name says which platform.",
        _from_platform_flag_const_disallowed,
        Phase.FROM,
    ),
    Rule(
        "InvalidDefinitionDescription",
        "A comment right above an ARG or named FROM that does not start with its name.",
        _invalid_definition_description,
        Phase.PARSE,
        experimental=True,
    ),
    Rule(
        "ExposeProtoCasing",
        "An `EXPOSE` protocol with capital letters (`80/TCP`).",
        _expose_proto_casing,
        Phase.DISPATCH,
    ),
    Rule(
        "ExposeInvalidFormat",
        "An `EXPOSE` with an IP address or a host port (`8080:80`), which EXPOSE cannot publish.",
        _expose_invalid_format,
        Phase.DISPATCH,
    ),
)
"""Every check this project reports, in BuildKit's order."""

NOT_CHECKED = {
    "InvalidBaseImagePlatform": "needs the base image's platform, known only after pulling it",
    "CopyIgnoredFile": "needs the build context's .dockerignore",
}
"""BuildKit checks that cannot be decided from the Dockerfile alone, and why."""

BY_NAME = {rule.name: rule for rule in RULES}
BUILDKIT_RULE_NAMES = frozenset(BY_NAME) | frozenset(NOT_CHECKED)
"""Every BuildKit check name: none of our own diagnostic codes may be one of these."""


_PHASE_WORDS = {
    Phase.LEX: "every stage",
    Phase.PARSE: "every stage",
    Phase.FILE: "every stage",
    Phase.FROM: "every stage",
    Phase.DISPATCH: "built stages (all of them without `--target`)",
}


def markdown_table() -> str:
    """The rules as the Markdown table of ``docs/checks.md`` (a test keeps the two equal)."""
    rows = ["| rule | what it warns about | where |", "|---|---|---|"]
    for rule in RULES:
        where = _PHASE_WORDS[rule.phase] + (" (experimental: only when asked)" if rule.experimental else "")
        description = rule.description.replace("|", "\\|")
        rows.append(f"| [`{rule.name}`]({rule.url}) | {description} | {where} |")
    return "\n".join(rows) + "\n"


# -- running the rules ----------------------------------------------------------------------------


def file_settings(lexed: Lexed, build_args: dict[str, str]) -> tuple[Settings, str | None]:
    """(settings, error message) from the build arg, else the ``check`` directive."""
    if CHECK_ARG in build_args:
        try:
            return parse_settings(build_args[CHECK_ARG]), None
        except CheckOptionError as exc:
            return Settings(), f"failed to parse build-arg:{CHECK_ARG}: {exc}"
    for name, value, _ in lexed.directives:
        if name == "check":
            try:
                return parse_settings(value), None
            except CheckOptionError as exc:
                return Settings(), f"failed to parse check options: {exc}"
    return Settings(), None


def run(ctx: Context) -> list[Diagnostic]:
    """Every check's diagnostics for an analysed file, with the settings applied."""
    settings, problem = file_settings(ctx.lexed, ctx.build_args)
    if problem:
        return [Diagnostic(Severity.ERROR, "check-options", problem, None)]
    out: list[Diagnostic] = []
    fired: list[str] = []
    ctx.steps  # noqa: B018 - the dispatch rules' bounded state, paid whichever rules run
    local_settings: bool | None = None  # whether any instruction has "# check=" comments
    for rule in RULES:
        if not settings.runs(rule):
            if local_settings is None:
                # a "# check=" comment needs an "=" and the word (any case) somewhere in the text
                local_settings = (
                    "=" in ctx.text
                    and "check" in ctx.text.lower()
                    and any(comment_settings(c) is not None for c in ctx.comments.values() if c)
                )
            if not local_settings:
                continue  # no finding of this rule could be reported: do not look for them
        for finding in rule.check(ctx):
            local = settings
            if finding.comments_of is not None:
                extra = comment_settings(ctx.comments.get(finding.comments_of) or [])
                if extra is not None:
                    local = settings.merged(extra)
            if not local.runs(rule) or not ctx.reached(rule, finding):
                continue
            stage = finding.stage if finding.stage is not None else _stage_of_line(ctx, finding.line or 0)
            out.append(
                Diagnostic(
                    finding.severity,
                    rule.name,
                    finding.message,
                    finding.line,
                    stage,
                    url=rule.url,
                    end_line=finding.end_line,
                )
            )
            if rule.name not in fired:
                fired.append(rule.name)
    if settings.error and fired:
        out.append(
            Diagnostic(
                Severity.ERROR, "check-failed", f"lint violation found for rules: {', '.join(fired)}", None
            )
        )
    return out


def apply(
    graph: Graph,
    lexed: Lexed,
    text: str,
    build_args: dict[str, str],
    target: str | None,
    refused: Collection[int] | None = None,
) -> Graph:
    """The graph with the checks' diagnostics added (sorted by line like the others).

    ``refused``: see :attr:`Context.refused` (the analysis passes what it found, so no
    instruction is checked twice)."""
    found = run(Context(graph, lexed, text, build_args, target, refused))
    if not found:
        return graph
    diags = sorted([*graph.diagnostics, *found], key=lambda d: (d.line is not None, d.line or 0))
    return replace(graph, diagnostics=tuple(diags))


__all__ = [
    "BUILDKIT_RULE_NAMES",
    "NOT_CHECKED",
    "RULES",
    "Context",
    "Finding",
    "Phase",
    "Rule",
    "apply",
    "run",
]
