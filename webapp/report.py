"""The analysis's diagnostics, and the one rule that decides when a BuildKit error counts.

BuildKit raises some errors while *parsing* (they fail every build of the file) and others while
*building a stage* (they fail a build only when the target needs that stage). :class:`Report`
keeps the two apart: :meth:`Report.error` counts at once, :meth:`Report.when_built` waits for
:meth:`Report.settle` to learn which stages the target builds. :class:`Scope` says whose commands
are being read, so an error found while replaying an inherited ONBUILD trigger is a build-time
error of the inheriting stage, located at its FROM, as BuildKit reports it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .model import Diagnostic, Severity, _quick_init


@_quick_init  # one per stage: slots filled directly (see model._quick_init)
@dataclass(frozen=True, slots=True)
class Scope:
    """Whose commands are being read: a stage's own, or the ONBUILD triggers it inherits."""

    stage: int
    """Index of the stage the commands run in."""
    from_line: int
    """Line of that stage's FROM."""
    inherited: bool = False
    """True while replaying the base stage's ONBUILD triggers in this stage."""

    def locate(self, line: int) -> int:
        """Where BuildKit reports a problem of a command at ``line``: inherited ones at the FROM."""
        return self.from_line if self.inherited else line


class Report:
    """Diagnostics as they are found; errors of unbuilt stages are dropped by :meth:`settle`."""

    __slots__ = ("diagnostics", "_pending")

    def __init__(self, initial: Iterable[Diagnostic] = ()):
        self.diagnostics: list[Diagnostic] = list(initial)
        self._pending: list[tuple[int, Diagnostic]] = []

    def error(self, code: str, message: str, line: int | None, stage: int | None = None) -> None:
        """An error that fails every build of the file (parsing, instruction checks, cycles)."""
        self.diagnostics.append(Diagnostic(Severity.ERROR, code, message, line, stage))

    def warn(self, code: str, message: str, line: int | None, stage: int | None = None) -> None:
        self.diagnostics.append(Diagnostic(Severity.WARNING, code, message, line, stage))

    def info(self, code: str, message: str, line: int | None, stage: int | None = None) -> None:
        self.diagnostics.append(Diagnostic(Severity.INFO, code, message, line, stage))

    def when_built(self, stage: int, code: str, message: str, line: int | None) -> None:
        """An error BuildKit raises only while building ``stage``."""
        self._pending.append((stage, Diagnostic(Severity.ERROR, code, message, line, stage)))

    def parse_error(self, scope: Scope, code: str, message: str, line: int) -> None:
        """A parse-time error of a command read in ``scope``.

        A stage's own commands are parsed for every build; an inherited ONBUILD trigger is parsed
        only when its child stage is built, and BuildKit reports it at the child's FROM.
        """
        if scope.inherited:
            self.when_built(scope.stage, code, message, scope.from_line)
        else:
            self.error(code, message, line, scope.stage)

    def build_error(self, scope: Scope, code: str, message: str, line: int) -> None:
        """A build-time error of a command read in ``scope``."""
        self.when_built(scope.stage, code, message, scope.locate(line))

    def settle(self, built: set[int]) -> tuple[Diagnostic, ...]:
        """Keep the build-time errors of the stages in ``built``; return the others, by line."""
        self.diagnostics.extend(d for stage, d in self._pending if stage in built)
        skipped = sorted((d for stage, d in self._pending if stage not in built), key=lambda d: d.line or 0)
        self._pending.clear()
        return tuple(skipped)

    def sorted(self) -> tuple[Diagnostic, ...]:
        """Every diagnostic once, by line (whole-file ones first)."""
        seen = set()
        out = []
        for d in sorted(self.diagnostics, key=lambda d: (d.line is not None, d.line or 0)):
            key = (d.severity, d.code, d.message, d.line)
            if key not in seen:
                seen.add(key)
                out.append(d)
        return tuple(out)
