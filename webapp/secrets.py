"""Likely secrets in a Dockerfile, found before it is shared, and a one-click redaction.

The rules are deliberately simple and err towards asking: a finding only makes the page ask the
user to confirm or redact, it never blocks anything. Each finding is a value span on one line;
:func:`redact` replaces exactly those spans with ``REDACTED``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

REDACTED = "REDACTED"

# Every rule runs in time linear in the line (a scan is asked for on user input): quantifiers are
# possessive where what follows cannot be matched by them, and a name, scheme or token starts only
# where a run of its characters starts (a look-behind), so no run is scanned once per position.
_SECRET_NAME = re.compile(r"(?i)(KEY|TOKEN|SECRET|PASSWORD|PASSWD)")
_ENV_ARG = re.compile(r"(?i)^\s*+(ENV|ARG)\s++")
# NAME=value, value quoted or bare (a bare value ends at unescaped whitespace). The name is the
# run of name characters before ``=`` from its first letter or ``_``.
_PAIR = re.compile(
    r"""(?<![A-Za-z0-9_.-])[0-9.-]*+([A-Za-z_][A-Za-z0-9_.-]*+)="""
    r"""("(?:[^"\\]++|\\.)*+"|'[^']*+'|(?:[^\s\\]++|\\.)*+)"""
)
# Legacy form ``ENV NAME value with spaces``: the head here, the value's end by hand (_legacy).
_LEGACY_HEAD = re.compile(r"(?i)\s*+ENV\s++([A-Za-z_][A-Za-z0-9_.-]*+)\s++")
_FIRST_WORD = re.compile(r"\S*+")
_ONLY_REFERENCE = re.compile(
    r"""^["']?+\$(\{[A-Za-z_][A-Za-z0-9_]*+(:?[-+][^}]*+)?\}|[A-Za-z_][A-Za-z0-9_]*+)["']?$"""
)

_TOKENS = (
    ("aws-access-key", re.compile(r"\b(AKIA[0-9A-Z]{16})\b"), "an AWS access key id"),
    ("github-token", re.compile(r"\b(gh[pousr]_[A-Za-z0-9]{20,255})"), "a GitHub token"),
    ("gitlab-token", re.compile(r"\b(glpat-[A-Za-z0-9_-]{20,}+)"), "a GitLab personal access token"),
    ("slack-token", re.compile(r"\b(xox[baprs]-[A-Za-z0-9-]{10,}+)"), "a Slack token"),
    (
        "url-password",
        re.compile(r"(?<![A-Za-z0-9+.-])[0-9+.-]*+[A-Za-z][A-Za-z0-9+.-]*+://[^/\s:@'\"]++:([^/\s@'\"]++)@"),
        "a password in a URL",
    ),
)
_KEY_BEGIN = re.compile(r"-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----")
_KEY_END = re.compile(r"-----END ([A-Z0-9 ]*)PRIVATE KEY-----")


@dataclass(frozen=True, slots=True)
class Finding:
    """One likely secret: where its value is and what it looks like."""

    rule: str
    """Stable rule name, e.g. ``env-secret`` or ``aws-access-key``."""
    message: str
    """Human text naming what was found (never the secret itself)."""
    line: int
    """1-based line of the value."""
    start: int
    """0-based column where the value starts."""
    end: int
    """0-based column just past the value."""

    def to_dict(self) -> dict:
        """The JSON form used by ``POST /api/secrets``."""
        return {
            "rule": self.rule,
            "message": self.message,
            "line": self.line,
            "start": self.start,
            "end": self.end,
        }


def _is_reference(value: str) -> bool:
    """True for values that hold no secret: empty, a ``$VAR`` reference, or already redacted."""
    bare = value.strip("\"'")
    return not bare or bare == REDACTED or bool(_ONLY_REFERENCE.match(value))


def _legacy(line: str) -> tuple[str, int, int] | None:
    """``ENV NAME value with spaces`` -> (name, value start, value end), or None.

    The value runs to the end of the line less trailing blanks and one trailing continuation
    backslash; a first word holding ``=`` makes it the ``NAME=value`` form instead.
    """
    head = _LEGACY_HEAD.match(line)
    if head is None or head.end() >= len(line) or "=" in _FIRST_WORD.match(line, head.end()).group():
        return None
    start = head.end()
    end = len(line.rstrip())
    if end and line[end - 1] == "\\":
        end = len(line[: end - 1].rstrip())
    return head.group(1), start, max(end, start + 1)


def _env_arg_findings(number: int, line: str, offset: int) -> list[Finding]:
    found = []
    legacy = _legacy(line) if offset else None
    if legacy:
        name, start, end = legacy
        if _SECRET_NAME.search(name) and not _is_reference(line[start:end]):
            return [Finding("env-secret", f"ENV {name} looks like a secret", number, start, end)]
    for match in _PAIR.finditer(line, offset):
        name, value = match.group(1), match.group(2)
        if _SECRET_NAME.search(name) and not _is_reference(value):
            message = f"{name} looks like a secret"
            found.append(Finding("env-secret", message, number, match.start(2), match.end(2)))
    return found


def scan(text: str) -> list[Finding]:
    """Every likely secret in ``text``, in line order."""
    findings: list[Finding] = []
    in_env = False  # inside a continued ENV/ARG instruction
    in_key = False  # inside a PEM private key block
    for number, line in enumerate(text.splitlines(), start=1):
        if in_key:
            end = _KEY_END.search(line)
            stop = end.start() if end else len(line)
            if stop:
                findings.append(Finding("private-key", "a private key", number, 0, stop))
            in_key = end is None
            continue
        begin = _KEY_BEGIN.search(line)
        if begin:
            end = _KEY_END.search(line, begin.end())
            stop = end.start() if end else len(line)
            if stop > begin.end():
                findings.append(Finding("private-key", "a private key", number, begin.end(), stop))
            else:
                findings.append(Finding("private-key", "a private key", number, begin.start(), begin.end()))
            in_key = end is None
        head = _ENV_ARG.match(line)
        if head or in_env:
            findings.extend(_env_arg_findings(number, line, head.end() if head else 0))
            in_env = line.rstrip().endswith("\\")
        for rule, pattern, message in _TOKENS:
            for match in pattern.finditer(line):
                if match.group(1) == REDACTED:
                    continue
                findings.append(Finding(rule, message, number, match.start(1), match.end(1)))
    return _merge(findings)


def _merge(findings: list[Finding]) -> list[Finding]:
    """Drop findings inside another finding's span on the same line (one value, one finding)."""
    ordered = sorted(findings, key=lambda f: (f.line, f.start, -f.end))
    out: list[Finding] = []
    for f in ordered:
        if out and out[-1].line == f.line and f.start >= out[-1].start and f.end <= out[-1].end:
            continue
        out.append(f)
    return out


def redact(text: str, findings: list[Finding] | None = None) -> str:
    """``text`` with every finding's value replaced by ``REDACTED`` (quotes kept)."""
    findings = scan(text) if findings is None else findings
    lines = text.splitlines(keepends=True)
    by_line: dict[int, list[Finding]] = {}
    for f in findings:
        by_line.setdefault(f.line, []).append(f)
    for number, items in by_line.items():
        line = lines[number - 1]
        pieces = []
        done = 0
        for f in sorted(items, key=lambda f: f.start):  # one pass, so many findings stay linear
            if f.start < done:
                continue
            value = line[f.start : f.end]
            quote = value[:1] if value[:1] in "\"'" and len(value) >= 2 and value[-1] == value[0] else ""
            pieces += [line[done : f.start], quote, REDACTED, quote]
            done = f.end
        pieces.append(line[done:])
        lines[number - 1] = "".join(pieces)
    return "".join(lines)
