"""How deeply JSON text nests, found in one linear pass before a recursive parser sees it.

Python's ``json`` recurses once per ``[`` or ``{``: text nested past the interpreter's recursion
limit raises ``RecursionError`` (an answer of 500). Every door that parses JSON from a user (the
API body, exec-form instructions, link payloads) asks :func:`too_deep` first.
"""

from __future__ import annotations

import itertools
import operator
import re

MAX_JSON_DEPTH = 64
"""Deepest nesting of arrays and objects accepted in JSON from a user."""

# A string, to its closing quote or to the end when it has none: possessive, and every string
# matches somewhere, so each character is looked at a bounded number of times.
_STRING_TEXT = re.compile(r'"(?:[^"\\]++|\\.)*+(?:"|\\?\Z)', re.S)
_STRING_BYTES = re.compile(rb'"(?:[^"\\]++|\\.)*+(?:"|\\?\Z)', re.S)
_NOT_BRACKET = re.compile(r"[^\[\]{}]++")
_STEPS = bytes.maketrans(b"[{]}", b"\x02\x02\x00\x00")
"""Brackets as steps: open 2, close 0, so that the running sum less the count is the depth."""
_OTHER_BYTES = bytes(b for b in range(256) if b not in b"[]{}")


def too_deep(text: str | bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when ``text`` opens more than ``limit`` arrays or objects inside one another.

    Strings are dropped and the depth after each bracket is a running sum; every step runs in C
    (regular expressions that cannot backtrack, ``bytes.translate``, ``itertools.accumulate``),
    once over the text, with no Python step per character.
    """
    if isinstance(text, bytes):
        if text.count(b"[") + text.count(b"{") <= limit:
            return False
        steps = _STRING_BYTES.sub(b"", text).translate(_STEPS, _OTHER_BYTES)
    else:
        if text.count("[") + text.count("{") <= limit:
            return False
        steps = _NOT_BRACKET.sub("", _STRING_TEXT.sub("", text)).encode("ascii").translate(_STEPS)
    if b"\x02" * (limit + 1) in steps:  # the usual attack, [[[[..., found without the sum
        return True
    depths = map(operator.sub, itertools.accumulate(steps), itertools.count(1))
    return max(depths, default=0) > limit
