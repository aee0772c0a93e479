"""Cross-check of instruction spans against an independent parser, dockerfile-parse 2.0.1.

For every corpus Dockerfile where dockerfile-parse follows BuildKit's line rules, the top-level
instructions (FROM included) must have the same keywords and 1-based start/end lines as ours.

dockerfile-parse is known to differ from BuildKit on some inputs, so a file is compared only when
its content has none of them (decided from the text, not from the outcome):

- heredocs (``<<``): dockerfile-parse reads heredoc bodies as instructions;
- a ``# check=`` directive: it ends directive parsing there, so a later ``# escape=`` is lost;
- a UTF-8 BOM: it keeps the BOM as part of the first line;
- a blank, whitespace-only or comment line right after a continued line: BuildKit skips blank
  lines inside a continuation, dockerfile-parse ends the instruction there;
- a line ending in two escape tokens (``foo \\\\``): BuildKit does not continue, it does;
- a file that ends inside a continuation: BuildKit keeps the instruction, it drops it.

With the corpus of 109 files this compares 71 files; 38 are excluded: 18 for blank/comment lines
in a continuation, 15 for heredocs, 2 for ``check``, 1 each for a BOM, a double backslash and EOF
inside a continuation (checked by ``test_comparable_set_is_large``).
"""

from __future__ import annotations

import io
import json
import re

import pytest
from conftest import BUILDKIT, CORPUS
from dockerfile_parse import DockerfileParser

from webapp.lexer import decode, lex

_DIRECTIVE = re.compile(r"^\s*#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$")


def corpus_files() -> list[str]:
    return sorted({json.loads(p.read_text())["file"] for p in BUILDKIT.glob("*.json")})


def escape_of(lines: list[str]) -> str:
    for line in lines:
        match = _DIRECTIVE.match(line)
        if not match or match.group(1).lower() not in ("syntax", "escape", "check"):
            break
        if match.group(1).lower() == "escape" and match.group(2) in ("\\", "`"):
            return match.group(2)
    return "\\"


def exclusion(text: str) -> str | None:
    """Why dockerfile-parse cannot be trusted on this text, or None when it can."""
    if "<<" in text:
        return "heredoc"
    if text.startswith("\ufeff"):
        return "bom"
    lines = [line.rstrip("\r") for line in text.split("\n")]
    if any(re.match(r"^\s*#\s*check\s*=", line, re.I) for line in lines):
        return "check directive"
    escape = escape_of(lines)
    continued = False
    for line in lines:
        stripped = line.rstrip(" \t")
        if stripped.endswith(escape * 2):
            return "double escape at end of line"
        if continued and (not line.strip() or line.lstrip().startswith("#")):
            return "blank or comment line in continuation"
        if line.lstrip().startswith("#") and not continued:
            continue
        continued = stripped.endswith(escape)
    if continued:
        return "ends inside a continuation"
    return None


def ours(text: str) -> list[tuple[str, int, int]]:
    return [(i.keyword, i.line, i.end_line) for i in lex(text).instructions]


def theirs(data: bytes) -> list[tuple[str, int, int]]:
    structure = DockerfileParser(fileobj=io.BytesIO(data)).structure
    return [
        (s["instruction"], s["startline"] + 1, s["endline"] + 1)
        for s in structure
        if s["instruction"] != "COMMENT"
    ]


def comparable() -> list[str]:
    chosen = []
    for name in corpus_files():
        text = decode((CORPUS / name).read_bytes())
        if exclusion(text) is None:
            chosen.append(name)
    return chosen


COMPARABLE = comparable()


def test_comparable_set_is_large():
    assert len(corpus_files()) >= 100
    assert len(COMPARABLE) >= 40, COMPARABLE
    # Every instruction kind the graph relies on is covered by the compared files.
    keywords = {k for name in COMPARABLE for k, _, _ in ours(decode((CORPUS / name).read_bytes()))}
    assert {"FROM", "RUN", "COPY", "ADD", "ARG", "ENV", "ONBUILD"} <= keywords


@pytest.mark.parametrize("name", COMPARABLE)
def test_spans_match_dockerfile_parse(name):
    data = (CORPUS / name).read_bytes()
    assert ours(decode(data)) == theirs(data)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("FROM a\nRUN <<EOF\nx\nEOF\n", "heredoc"),
        ("\ufeffFROM a\n", "bom"),
        ("# check=skip=all\nFROM a\n", "check directive"),
        ("FROM a\nRUN a \\\n\n b\n", "blank or comment line in continuation"),
        ("FROM a\nRUN a \\\n# c\n b\n", "blank or comment line in continuation"),
        ("FROM a\nRUN a \\\\\n", "double escape at end of line"),
        ("FROM a\nRUN a \\", "ends inside a continuation"),
        ("# escape=`\nFROM a\nRUN a `\n\n b\n", "blank or comment line in continuation"),
        ("FROM a\nRUN a \\\n b\n", None),
    ],
)
def test_exclusion_rules(text, reason):
    assert exclusion(text) == reason
