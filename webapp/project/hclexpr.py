"""The HCL expressions bake files write over variables, evaluated when every part is known.

Bake files choose values with conditionals on variables (``platforms = MULTI != "" ? [...] : []``,
``args = { FLAGS = COVERAGE == "1" ? "-cover" : null }``). This evaluates the small part of HCL
they use: string, number, ``true``/``false``/``null`` literals, variables, ``==``, ``!=``, ``&&``,
``||``, ``!``, ``cond ? a : b``, parentheses, tuples ``[a, b]`` and objects ``{ k = v }``.
Anything else (function calls, attribute access, arithmetic, ``for`` expressions, a variable
whose value is not known) raises :class:`Unknown`: the caller leaves the attribute unresolved.
Values are Python ``str`` (numbers too, as bake passes them on as text), ``bool``, ``None``,
``list`` and ``dict``; string literals go back to the caller for their ``${...}`` templates.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

MAX_TOKENS = 4096
"""Longest expression evaluated (real bake expressions are a few dozen tokens)."""
MAX_DEPTH = 32

_TOKEN = re.compile(
    r'\s*(?:(?P<num>-?\d+(?:\.\d+)?)(?![\w.])|(?P<str>"(?:[^"\\]|\\.)*")|(?P<id>[A-Za-z_][\w-]*)'
    r"|(?P<op>==|!=|&&|\|\||[!?:()\[\]{},=]))"
)


class Unknown(Exception):
    """The expression uses something this evaluator does not know, or an unknown value."""


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    position = 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise Unknown(text)
        kind = match.lastgroup or ""
        out.append((kind, match.group(kind)))
        position = match.end()
        if len(out) > MAX_TOKENS:
            raise Unknown(text)
    return out


def evaluate(text: str, variable: Callable[[str], object], template: Callable[[str], object]) -> object:
    """The value of expression ``text``; ``variable(name)`` gives a variable's value (raising
    :class:`Unknown` when it has none known), ``template(s)`` a string literal's value."""
    parser = _Parser(_tokens(text), variable, template)
    value = parser.conditional(0)
    if parser.position != len(parser.tokens):
        raise Unknown(text)
    return value


class _Parser:
    def __init__(self, tokens, variable, template):
        self.tokens = tokens
        self.position = 0
        self.variable = variable
        self.template = template
        self.skipping = 0
        """Inside the branch a conditional does not take: parsed, not evaluated (as HCL reports
        only the chosen branch's errors)."""

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.position] if self.position < len(self.tokens) else ("end", "")

    def take(self, value: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token[0] == "end" or (value is not None and token[1] != value):
            raise Unknown(value or "end")
        self.position += 1
        return token

    def conditional(self, depth: int):
        if depth > MAX_DEPTH:
            raise Unknown("too deep")
        condition = self.logical_or(depth)
        if self.peek()[1] != "?":
            return condition
        self.take("?")
        chosen = True if self.skipping else _truth(condition)
        self.skipping += not chosen
        yes = self.conditional(depth + 1)
        self.skipping -= not chosen
        self.take(":")
        self.skipping += bool(chosen)
        no = self.conditional(depth + 1)
        self.skipping -= bool(chosen)
        return yes if chosen else no

    def logical_or(self, depth: int):
        value = self.logical_and(depth)
        while self.peek()[1] == "||":
            self.take()
            other = self.logical_and(depth)
            value = _truth(value, self.skipping) or _truth(other, self.skipping)
        return value

    def logical_and(self, depth: int):
        value = self.equality(depth)
        while self.peek()[1] == "&&":
            self.take()
            other = self.equality(depth)
            value = _truth(value, self.skipping) and _truth(other, self.skipping)
        return value

    def equality(self, depth: int):
        value = self.unary(depth)
        while self.peek()[1] in ("==", "!="):
            op = self.take()[1]
            other = self.unary(depth)
            value = (value == other) if op == "==" else (value != other)
        return value

    def unary(self, depth: int):
        if self.peek()[1] == "!":
            self.take()
            return not _truth(self.unary(depth + 1), self.skipping)
        return self.primary(depth)

    def primary(self, depth: int):
        if depth > MAX_DEPTH:
            raise Unknown("too deep")
        kind, value = self.take()
        if kind == "num":
            return value
        if kind == "str":
            return None if self.skipping else self.template(_string(value))
        if kind == "id":
            if self.peek()[1] in ("(", "["):
                raise Unknown(value)  # a function call or an index: not evaluated
            if value in ("true", "false"):
                return value == "true"
            if value == "null":
                return None
            return None if self.skipping else self.variable(value)
        if value == "(":
            inner = self.conditional(depth + 1)
            self.take(")")
            return inner
        if value == "[":
            items = []
            while self.peek()[1] != "]":
                items.append(self.conditional(depth + 1))
                if self.peek()[1] == ",":
                    self.take()
            self.take("]")
            return items
        if value == "{":
            entries = {}
            while self.peek()[1] != "}":
                key_kind, key = self.take()
                if key_kind == "str":
                    key = _string(key)
                elif key_kind != "id":
                    raise Unknown(key)
                if self.peek()[1] not in ("=", ":"):
                    raise Unknown(key)
                self.take()
                entries[key] = self.conditional(depth + 1)
                if self.peek()[1] == ",":
                    self.take()
            self.take("}")
            return entries
        raise Unknown(value)


def _string(literal: str) -> str:
    """A quoted literal's text (HCL's escapes are JSON's, bar a few this leaves unknown)."""
    try:
        return json.loads(literal)
    except ValueError:
        raise Unknown(literal) from None


def _truth(value, skipping: int = 0) -> bool:
    """HCL's conversion to bool: a bool, or the strings ``true``/``false``; anything else is unknown."""
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return value == "true"
    if skipping:
        return False
    raise Unknown(str(value))


__all__ = ["Unknown", "evaluate"]
