"""Shell-style word expansion as BuildKit applies it to FROM, ARG, ENV and ADD/COPY words.

Supports ``$x ${x} ${x:-w} ${x-w} ${x:+w} ${x+w} ${x:?w} ${x?w} ${x#p} ${x##p} ${x%p} ${x%%p}
${x/p/r} ${x//p/r}``, single and double quotes, and the escape token. Patterns use ``*``, ``?``
and ``[...]``. Our own implementation of the rules in BuildKit's ``shell/lex.go``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache


class ExpansionError(ValueError):
    """A word that BuildKit's shell lexer refuses (bad substitution, missing quote)."""


@dataclass(slots=True)
class Expansion:
    """The result of expanding one word."""

    result: str
    """The expanded text, quotes removed."""
    matched: set[str] = field(default_factory=set)
    """Variable names that were looked up and set."""
    unmatched: set[str] = field(default_factory=set)
    """Variable names that were looked up and unset."""


def expand(word: str, env: Mapping[str, str], escape: str = "\\") -> Expansion:
    """Expand ``word`` with ``env``; raise :class:`ExpansionError` where BuildKit would."""
    if "$" not in word and "'" not in word and '"' not in word and escape not in word:
        return Expansion(word)  # nothing to expand or unquote
    lexer = _Lexer(word, env, escape)
    text = lexer.until(None, raw_escapes=False)
    return Expansion(text, lexer.matched, lexer.unmatched)


def expand_text(word: str, env: Mapping[str, str], escape: str = "\\") -> str:
    """Like :func:`expand` but returns the word unchanged when it cannot be expanded."""
    try:
        return expand(word, env, escape).result
    except ExpansionError:
        return word


_NAME = re.compile(r"[0-9]+|[@*#?\-$!]|[^\W]+")
"""What follows ``$``: a number, a special parameter, or a name of letters, digits and ``_``."""


@lru_cache(maxsize=16)
def _special_chars(escape: str, stop: str | None) -> re.Pattern:
    """The characters ``_Lexer.until`` must stop at: ``$``, quotes, the escape and ``stop``."""
    chars = {"$", "'", '"', escape} | ({stop} if stop else set())
    return re.compile("[" + "".join(re.escape(c) for c in sorted(chars)) + "]")


class _Lexer:
    __slots__ = ("text", "pos", "env", "escape", "matched", "unmatched")

    def __init__(self, text: str, env: Mapping[str, str], escape: str):
        self.text = text
        self.pos = 0
        self.env = env
        self.escape = escape
        self.matched: set[str] = set()
        self.unmatched: set[str] = set()

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def next(self) -> str:
        ch = self.peek()
        if ch:
            self.pos += 1
        return ch

    def lookup(self, name: str) -> tuple[str, bool]:
        if name in self.env:
            self.matched.add(name)
            return self.env[name], True
        self.unmatched.add(name)
        return "", False

    def until(self, stop: str | None, raw_escapes: bool) -> str:
        out: list[str] = []
        text = self.text
        special = _special_chars(self.escape, stop)
        while self.pos < len(text):
            match = special.search(text, self.pos)
            if match is None:  # plain text up to the end
                out.append(text[self.pos :])
                self.pos = len(text)
                break
            if match.start() > self.pos:
                out.append(text[self.pos : match.start()])
                self.pos = match.start()
            ch = text[self.pos]
            if stop is not None and ch == stop:
                self.pos += 1
                return "".join(out)
            if ch == "$":
                out.append(self.dollar())
            elif ch == "'":
                out.append(self.single_quote())
            elif ch == '"':
                out.append(self.double_quote())
            else:  # the escape token
                self.pos += 1
                if raw_escapes:
                    out.append(ch)
                ch = self.next()
                if not ch:
                    break
                out.append(ch)
        if stop is not None:
            raise ExpansionError(f"unexpected end of statement while looking for matching {stop}")
        return "".join(out)

    def single_quote(self) -> str:
        self.pos += 1
        end = self.text.find("'", self.pos)
        if end < 0:
            raise ExpansionError("unexpected end of statement while looking for matching single-quote")
        value = self.text[self.pos : end]
        self.pos = end + 1
        return value

    def double_quote(self) -> str:
        self.pos += 1
        out: list[str] = []
        while True:
            ch = self.peek()
            if not ch:
                raise ExpansionError("unexpected end of statement while looking for matching double-quote")
            if ch == '"':
                self.pos += 1
                return "".join(out)
            if ch == "$":
                out.append(self.dollar())
                continue
            self.pos += 1
            if ch == self.escape:
                nxt = self.peek()
                if not nxt:
                    continue
                if nxt in ('"', "$", self.escape):
                    ch = self.next()
            out.append(ch)

    def name(self) -> str:
        """A variable name: digits, one special parameter character, or letters, digits and ``_``."""
        match = _NAME.match(self.text, self.pos)
        if match is None:
            return ""
        self.pos = match.end()
        return match.group()

    def dollar(self) -> str:
        self.pos += 1
        if self.peek() != "{":
            name = self.name()
            if not name:
                return "$"
            return self.lookup(name)[0]
        self.pos += 1
        ch = self.peek()
        if not ch:
            raise ExpansionError("syntax error: missing '}'")
        if ch in "{}:":
            raise ExpansionError("syntax error: bad substitution")
        name = self.name()
        ch = self.next()
        if ch == "}":
            return self.lookup(name)[0]
        modifier = ch
        null_is_unset = False
        if ch == ":":
            null_is_unset = True
            ch = self.next()
            modifier += ch
        if ch in ("+", "-", "?", "#", "%"):
            raw = ch in ("#", "%")
            if null_is_unset and raw:
                raise ExpansionError(f"unsupported modifier ({modifier}) in substitution")
            try:
                word = self.until("}", raw_escapes=raw)
            except ExpansionError:
                raise ExpansionError("syntax error: missing '}'") from None
            value, is_set = self.lookup(name)
            if ch == "-":
                return word if (not is_set or (null_is_unset and value == "")) else value
            if ch == "+":
                return "" if (not is_set or (null_is_unset and value == "")) else word
            if ch == "?":
                if not is_set:
                    raise ExpansionError(f"{name}: {word or 'is not allowed to be unset'}")
                if null_is_unset and value == "":
                    raise ExpansionError(f"{name}: {word or 'is not allowed to be empty'}")
                return value
            greedy = bool(word) and word[0] == ch
            if greedy:
                word = word[1:]
            if ch == "%":
                return _trim_suffix(word, value, greedy)
            return _trim_prefix(word, value, greedy)
        if ch == "/" and not null_is_unset:
            replace_all = self.peek() == "/"
            if replace_all:
                self.pos += 1
            try:
                pattern = self.until("/", raw_escapes=True)
            except ExpansionError:
                raise ExpansionError("syntax error: missing '/' in ${}") from None
            try:
                replacement = self.until("}", raw_escapes=True)
            except ExpansionError:
                raise ExpansionError("syntax error: missing '}'") from None
            value, _ = self.lookup(name)
            regex = _pattern_regex(pattern, greedy=True, anchored=False)
            if replace_all:
                return regex.sub(lambda _m: replacement, value)
            match = regex.search(value)
            if match:
                return value[: match.start()] + replacement + value[match.end() :]
            return value
        raise ExpansionError(f"unsupported modifier ({modifier}) in substitution")


_REGEX_SPECIAL = frozenset("[]{}.+()|^$")


def _pattern_regex(pattern: str, *, greedy: bool, anchored: bool) -> re.Pattern:
    """A ``${x#p}``/``${x/p/r}`` pattern as a regular expression, as BuildKit converts it.

    Only ``*`` and ``?`` are special; ``\\`` escapes ``*``, ``?`` or itself (before ``}`` and
    ``/`` it is dropped) and any other escape is an error. There are no bracket expressions.
    """
    out = ["^"] if anchored else []
    star = ".*" if greedy else ".*?"
    i = 0
    n = len(pattern)
    while i < n:
        ch = pattern[i]
        i += 1
        if ch == "*":
            out.append(star)
        elif ch == "?":
            out.append(".")
        elif ch == "\\":
            nxt = pattern[i] if i < n else ""
            if nxt in ("}", "/"):
                continue
            i += 1
            if nxt not in ("*", "?", "\\"):
                raise ExpansionError(f"invalid pattern ({pattern}) in substitution: invalid escape '\\{nxt}'")
            out.append("\\" + nxt)
        elif ch in _REGEX_SPECIAL:
            out.append("\\" + ch)
        else:
            out.append(re.escape(ch) if not ch.isalnum() else ch)
    return re.compile("".join(out))


def _trim_prefix(pattern: str, value: str, greedy: bool) -> str:
    match = _pattern_regex(pattern, greedy=greedy, anchored=True).search(value)
    return value[match.end() :] if match else value


def _reverse_pattern(pattern: str) -> str:
    """Reverse a pattern keeping each escape before the character it escapes."""
    tokens = []
    i = 0
    while i < len(pattern):
        if pattern[i] == "\\" and i + 1 < len(pattern):
            tokens.append(pattern[i : i + 2])
            i += 2
        else:
            tokens.append(pattern[i])
            i += 1
    return "".join(reversed(tokens))


def _trim_suffix(pattern: str, value: str, greedy: bool) -> str:
    # Shortest or longest match at the end: reverse both and match at the start.
    return _trim_prefix(_reverse_pattern(pattern), value[::-1], greedy)[::-1]
