"""Cheap checks run before a parser sees a bake or compose file.

The HCL, YAML and JSON parsers recurse on nested brackets (libyaml's composer in C, without a
limit: deep enough nesting overflows the C stack and kills the process). Real bake and compose
files nest a handful of levels, so anything deeper than :data:`MAX_NESTING` is refused first,
by one linear scan that counts brackets (inside strings too: a refusal, never a wrong parse).
"""

from __future__ import annotations

MAX_NESTING = 64
"""Deepest bracket nesting (``[``, ``{``, ``(``) accepted in a bake or compose file."""

_OPEN = frozenset("[{(")
_CLOSE = frozenset("]})")


def too_deep(text: str, limit: int = MAX_NESTING) -> int | None:
    """The 1-based line where nesting passes ``limit``, or None."""
    depth = 0
    line = 1
    for char in text:
        if char in _OPEN:
            depth += 1
            if depth > limit:
                return line
        elif char in _CLOSE:
            depth = max(depth - 1, 0)
        elif char == "\n":
            line += 1
    return None
