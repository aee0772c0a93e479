"""How deeply JSON text nests, found in one linear pass before a recursive parser sees it.

Python's ``json`` recurses once per ``[`` or ``{``: text nested past the interpreter's recursion
limit raises ``RecursionError`` (an answer of 500). Every door that parses JSON from a user (the
API body, exec-form instructions, link payloads) asks :func:`too_deep` first.
"""

from __future__ import annotations

import re

MAX_JSON_DEPTH = 64
"""Deepest nesting of arrays and objects accepted in JSON from a user."""

# A string, to its closing quote or to the end when it has none: possessive, and every string
# matches somewhere, so each character is looked at a bounded number of times.
_STRING_TEXT = re.compile(r'"(?:[^"\\]++|\\.)*+(?:"|\\?\Z)', re.S)
_STRING_BYTES = re.compile(rb'"(?:[^"\\]++|\\.)*+(?:"|\\?\Z)', re.S)
_NOT_BRACKET = re.compile(r"[^\[\]{}]++")
_PARENS = bytes.maketrans(b"[{]}", b"(())")
_OTHER_BYTES = bytes(b for b in range(256) if b not in b"[]{}")


def too_deep(text: str | bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when ``text`` opens more than ``limit`` arrays or objects inside one another.

    Strings are dropped, brackets become ``(`` and ``)``, and each pass of removing every ``()``
    lowers the depth of balanced text by exactly one: at most ``limit + 1`` passes, each a linear
    ``bytes.replace`` in C. Brackets left open at the end count one level each.
    """
    if isinstance(text, bytes):
        if text.count(b"[") + text.count(b"{") <= limit:
            return False
        brackets = _STRING_BYTES.sub(b"", text).translate(_PARENS, _OTHER_BYTES)
    else:
        if text.count("[") + text.count("{") <= limit:
            return False
        brackets = _NOT_BRACKET.sub("", _STRING_TEXT.sub("", text)).encode("ascii").translate(_PARENS)
    for passes in range(limit + 1):
        shorter = brackets.replace(b"()", b"")
        if len(shorter) == len(brackets):
            return passes + brackets.count(b"(") > limit
        brackets = shorter
    return True
