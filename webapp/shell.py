"""Shell-style word expansion as BuildKit applies it to FROM, ARG, ENV and ADD/COPY words.

Supports ``$x ${x} ${x:-w} ${x-w} ${x:+w} ${x+w} ${x:?w} ${x?w} ${x#p} ${x##p} ${x%p} ${x%%p}
${x/p/r} ${x//p/r}``, single and double quotes, and the escape token. Patterns use ``*`` and
``?``. Our own implementation of the rules in BuildKit's ``shell/lex.go``.

Every step is bounded by construction, whatever the input:

* patterns are matched by RE2 (the ``google-re2`` wheel), which runs in time linear in the text,
  with the same leftmost-first semantics as the Go ``regexp`` package BuildKit uses;
* one word may expand to at most :data:`MAX_VALUE_CHARS` characters (or its own length, when
  longer), ``${...}`` may nest at most :data:`MAX_DEPTH` deep, and every expansion of one
  Dockerfile shares a budget of :data:`MAX_WORK` (characters substituted plus pattern-matching
  steps, see :func:`expansion_budget`). Passing a limit raises
  :class:`~webapp.errors.ExpansionTooLarge` (413) or :class:`~webapp.errors.ExpansionTooDeep`
  (422), which name the limit; :func:`locate` adds the line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from collections.abc import Set as AbstractSet
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache

import re2
from re2 import _re2

from .errors import DockerfileError, ExpansionTooDeep, ExpansionTooLarge

MAX_VALUE_CHARS = 64 * 1024
"""Longest value one word may expand to, in characters (a longer word may keep its own length)."""

MAX_DEPTH = 64
"""Deepest nesting of ``${...}`` inside the word of another ``${...}``."""

MAX_WORK = 1024 * 1024
"""Expansion work one Dockerfile may cost, in units of about 0.1 microseconds: per variable
looked up (:data:`LOOKUP_COST`), one per character substituted, and for each pattern
(``${x#p}``, ``${x/p/r}``...) :data:`PATTERN_OP_COST`, :data:`PATTERN_CHAR_COST` per pattern
character, the value's length times the pattern's, and :data:`MATCH_COST` per match replaced.
The most expensive real Dockerfile we know (moby's) spends about 15,000; the whole budget takes
well under a second."""


class ExpansionError(ValueError):
    """A word that BuildKit's shell lexer refuses (bad substitution, missing quote)."""


_NONE: frozenset[str] = frozenset()


@dataclass(slots=True)
class Expansion:
    """The result of expanding one word."""

    result: str
    """The expanded text, quotes removed."""
    matched: AbstractSet[str] = _NONE
    """Variable names that were looked up and set."""
    unmatched: AbstractSet[str] = _NONE
    """Variable names that were looked up and unset."""


class Budget:
    """The expansion work a Dockerfile may still spend; every word of it draws on one budget.

    ``memo`` remembers, per (word, escape), the last expansion that succeeded: its text, the
    variables it looked up with the values it found (in order), and the work it cost. The same
    word met again with the same values for those variables (the analysis and the checks expand
    most words several times) gives the same text and spends the same work, without lexing it
    again: no limit or error changes. Its size follows the Dockerfile's (one entry per word).
    """

    __slots__ = ("limit", "left", "memo")

    def __init__(self, limit: int | None = None):
        self.limit = MAX_WORK if limit is None else limit
        self.left = self.limit
        self.memo: dict[tuple[str, str], tuple] = {}

    def spend(self, amount: int) -> None:
        """Take ``amount`` from the budget; raise :class:`ExpansionTooLarge` when it runs out."""
        self.left -= amount
        if self.left < 0:
            raise ExpansionTooLarge(
                f"variable expansion needs too much work: more than the limit of {self.limit} "
                "characters substituted or matched in one Dockerfile"
            )


_BUDGET: ContextVar[Budget | None] = ContextVar("webapp_expansion_budget", default=None)


@contextmanager
def expansion_budget(limit: int | None = None) -> Iterator[Budget]:
    """Make every :func:`expand` inside the block share one :class:`Budget` (one per Dockerfile).

    ``limit`` defaults to :data:`MAX_WORK`. Outside such a block each call gets a budget of its own.
    """
    token = _BUDGET.set(Budget(MAX_WORK if limit is None else limit))
    try:
        yield _BUDGET.get()
    finally:
        _BUDGET.reset(token)


def expand(word: str, env: Mapping[str, str], escape: str = "\\") -> Expansion:
    """Expand ``word`` with ``env``; raise :class:`ExpansionError` where BuildKit would.

    Raises :class:`~webapp.errors.ExpansionTooLarge` or
    :class:`~webapp.errors.ExpansionTooDeep` (with ``word`` set) when a limit is passed.
    """
    if "$" not in word and "'" not in word and '"' not in word and escape not in word:
        return Expansion(word)  # nothing to expand or unquote
    return Expansion(*_expanded(word, env, escape))


def _expanded(
    word: str, env: Mapping[str, str], escape: str
) -> tuple[str, AbstractSet[str], AbstractSet[str]]:
    """:func:`expand`'s (text, matched, unmatched), without the :class:`Expansion` (for
    :func:`expand_word`, which needs the text alone)."""
    budget = _BUDGET.get()
    memo = None if budget is None else budget.memo
    key = (word, escape)
    if memo is not None and key in memo:
        text, looked, cost, matched, unmatched = memo[key]
        for name, value in looked:
            if env.get(name, _UNSET) != value:
                break
        else:
            try:
                budget.spend(cost)
            except ExpansionTooLarge as exc:
                exc.word = word
                raise
            return text, matched, unmatched
    if "'" not in word and '"' not in word and escape not in word:
        simple = _simple(word, env, budget)
        if simple is not None:
            text, looked, cost, matched, unmatched = simple
            if memo is not None:
                memo[key] = (text, tuple(looked), cost, frozenset(matched), frozenset(unmatched))
            return text, matched, unmatched
    lexer = _Lexer(word, env, escape, budget or Budget())
    left = lexer.budget.left
    try:
        text = lexer.until(None, raw_escapes=False)
    except (ExpansionTooLarge, ExpansionTooDeep) as exc:
        exc.word = word
        raise
    if memo is not None:
        cost = left - lexer.budget.left
        memo[key] = (text, tuple(lexer.looked), cost, frozenset(lexer.matched), frozenset(lexer.unmatched))
    return text, lexer.matched, lexer.unmatched


_UNSET = object()
"""What :func:`expand`'s memo records for a variable that was looked up and not set."""

_REFERENCE = re.compile(r"\$(?:([^\W\d]\w*)|\{([^\W\d]\w*)\})")
"""``$name`` or ``${name}`` with a name that starts with a letter or ``_``: what ``_Lexer``'s
``dollar`` reads as one plain look-up (its name pattern is as greedy as this one)."""


def _simple(word: str, env: Mapping[str, str], budget: Budget | None):
    """A word of plain text and ``$name``/``${name}`` references only (no quote or escape: the
    caller checked) expanded without the lexer: (text, looked, cost, matched, unmatched), each as
    ``_Lexer`` would find it, after spending the same work. None when the word holds anything
    else (another use of ``$``) or when a limit would be passed: the lexer then decides, with
    its own errors, so no limit moves."""
    out: list[str] = []
    looked: list[tuple[str, object]] = []
    matched: set[str] = set()
    unmatched: set[str] = set()
    cost = size = pos = 0
    for match in _REFERENCE.finditer(word):
        start = match.start()
        if start > pos:
            plain = word[pos:start]
            if "$" in plain:
                return None
            out.append(plain)
        name = match.group(1) or match.group(2)
        if name in env:
            value = env[name]
            matched.add(name)
            looked.append((name, value))
            cost += LOOKUP_COST + len(value)
            size += len(value)
            out.append(value)
        else:
            unmatched.add(name)
            looked.append((name, _UNSET))
            cost += LOOKUP_COST
        pos = match.end()
    if not looked or "$" in word[pos:]:
        return None
    out.append(word[pos:])
    # the lexer checks the value's size after each piece and spends per look-up; both only grow,
    # so the totals within bounds mean no step on the way passed one
    left = MAX_WORK if budget is None else budget.left  # expand's own Budget() when there is none
    if size > max(MAX_VALUE_CHARS, len(word)) or left - cost < 0:
        return None
    if budget is not None:
        budget.spend(cost)
    return "".join(out), looked, cost, matched, unmatched


def expand_word(word: str, env: Mapping[str, str], escape: str = "\\") -> str:
    """:func:`expand`'s text only (the same errors): for callers that need no variable names."""
    if "$" not in word and "'" not in word and '"' not in word and escape not in word:
        return word  # nothing to expand or unquote
    return _expanded(word, env, escape)[0]


def expand_text(word: str, env: Mapping[str, str], escape: str = "\\") -> str:
    """Like :func:`expand` but returns the word unchanged when it cannot be expanded."""
    if "$" not in word and "'" not in word and '"' not in word and escape not in word:
        return word  # nothing to expand or unquote
    try:
        return _expanded(word, env, escape)[0]
    except ExpansionError:
        return word


def locate(error: DockerfileError, instructions: Iterable) -> DockerfileError:
    """``error`` with its line set to the first instruction whose text holds the word it names."""
    word = getattr(error, "word", None)
    if error.line is None and word:
        for ins in instructions:
            if word in ins.rest:
                error.line = ins.line
                break
    return error


_NAME = re.compile(r"[0-9]+|[@*#?\-$!]|[^\W]+")
"""What follows ``$``: a number, a special parameter, or a name of letters, digits and ``_``."""


@lru_cache(maxsize=16)
def _special_chars(escape: str, stop: str | None) -> re.Pattern:
    """The characters ``_Lexer.until`` must stop at: ``$``, quotes, the escape and ``stop``."""
    chars = {"$", "'", '"', escape} | ({stop} if stop else set())
    return re.compile("[" + "".join(re.escape(c) for c in sorted(chars)) + "]")


class _Lexer:
    __slots__ = ("text", "pos", "env", "escape", "matched", "unmatched", "looked", "budget", "depth", "limit")

    def __init__(self, text: str, env: Mapping[str, str], escape: str, budget: Budget):
        self.text = text
        self.pos = 0
        self.env = env
        self.escape = escape
        self.matched: set[str] = set()
        self.unmatched: set[str] = set()
        self.looked: list[tuple[str, object]] = []  # (name, value or _UNSET) in lookup order
        self.budget = budget
        self.depth = 0
        self.limit = max(MAX_VALUE_CHARS, len(text))

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
            value = self.env[name]
            self.looked.append((name, value))
            self.budget.spend(LOOKUP_COST + len(value))
            return value, True
        self.unmatched.add(name)
        self.looked.append((name, _UNSET))
        self.budget.spend(LOOKUP_COST)
        return "", False

    def grown(self, size: int) -> None:
        """Refuse once the text built so far passes the value limit."""
        if size > self.limit:
            raise _too_large()

    def until(self, stop: str | None, raw_escapes: bool) -> str:
        out: list[str] = []
        size = 0
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
                piece = self.dollar()
            elif ch == "'":
                piece = self.single_quote()
            elif ch == '"':
                piece = self.double_quote()
            else:  # the escape token
                self.pos += 1
                if raw_escapes:
                    out.append(ch)
                piece = self.next()
                if not piece:
                    break
            out.append(piece)
            size += len(piece)
            self.grown(size)
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
        size = 0
        while True:
            ch = self.peek()
            if not ch:
                raise ExpansionError("unexpected end of statement while looking for matching double-quote")
            if ch == '"':
                self.pos += 1
                return "".join(out)
            if ch == "$":
                piece = self.dollar()
                out.append(piece)
                size += len(piece)
                self.grown(size)
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
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExpansionTooDeep(
                f"variable expansion nested too deeply: more than the limit of {MAX_DEPTH} levels of ${{...}}"
            )
        value = self.braced()
        self.depth -= 1
        return value

    def braced(self) -> str:
        """The rest of ``${...}`` after the ``{``."""
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
            self.budget.spend(_pattern_cost(value, word))
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
            self.budget.spend(_pattern_cost(value, pattern))
            regex = _glob(pattern, greedy=True, anchored=False)
            if replace_all:
                return _replace_all(regex, value, replacement, self.limit, self.budget)
            data = _utf8(value)
            span = regex.search(data, 0)
            if span is None:
                return value
            return _text(data[: span[0]]) + replacement + _text(data[span[1] :])
        raise ExpansionError(f"unsupported modifier ({modifier}) in substitution")


# --- patterns -------------------------------------------------------------------------------------

_ASCII_WORD = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")

_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False
_RE2_OPTIONS.max_mem = 1 << 20
"""Memory one compiled pattern may use (program and DFA cache); past it RE2 falls back to its
NFA, still linear in the text. At most 16 compiled patterns are kept (``_glob``)."""


def _utf8(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def _text(data: bytes) -> str:
    return data.decode("utf-8", "surrogatepass")


def _pattern_regex(pattern: str, *, greedy: bool, anchored: bool) -> str:
    """A ``${x#p}``/``${x/p/r}`` pattern as RE2 syntax, as BuildKit converts it for Go's regexp.

    ``*`` is any run of characters but a newline (shortest first unless ``greedy``), ``?`` any one
    character but a newline; ``\\`` escapes ``*``, ``?`` or itself (before ``}`` and ``/`` it is
    dropped) and any other escape is an error. There are no bracket expressions: every other
    character is literal (written as ``\\x{...}`` unless it is an ASCII letter, digit or ``_``).
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
        elif ch in _ASCII_WORD:
            out.append(ch)
        else:
            out.append(f"\\x{{{ord(ch):x}}}")
    return "".join(out)


class _Glob:
    """One compiled pattern: RE2, leftmost-first like Go, over UTF-8 bytes."""

    __slots__ = ("regex",)

    def __init__(self, pattern: str, *, greedy: bool, anchored: bool):
        source = _pattern_regex(pattern, greedy=greedy, anchored=anchored)
        self.regex = _re2.RE2(_utf8(source), _RE2_OPTIONS)
        if not self.regex.ok():
            detail = self.regex.error()
            detail = detail.decode("utf-8", "replace") if isinstance(detail, bytes) else str(detail)
            raise ExpansionError(f"invalid pattern ({pattern}) in substitution: {detail}")

    def search(self, data: bytes, pos: int) -> tuple[int, int] | None:
        """The leftmost-first match at or after byte ``pos``, as byte offsets, or None."""
        span = self.regex.Match(_UNANCHORED, data, pos, len(data))[0]
        return None if span[0] < 0 else span


_UNANCHORED = _re2.RE2.Anchor.UNANCHORED


@lru_cache(maxsize=16)
def _glob(pattern: str, *, greedy: bool, anchored: bool) -> _Glob:
    """A compiled pattern; the few last ones are kept, as a Dockerfile repeats its patterns."""
    return _Glob(pattern, greedy=greedy, anchored=anchored)


LOOKUP_COST = 32
"""Budget units of looking up one variable, before the characters it brings."""
PATTERN_OP_COST = 1000
"""Budget units one ``${x#p}``/``${x/p/r}`` costs before its sizes: a compile and a search."""
PATTERN_CHAR_COST = 16
"""Budget units per pattern character, for compiling it."""
MATCH_COST = 64
"""Budget units of each match a ``${x//p/r}`` finds (plus 4 per piece of its replacement)."""


def _pattern_cost(value: str, pattern: str) -> int:
    """Budget units of one pattern operation: fixed, compile, and the worst case of matching
    (RE2 falls back from its DFA to an NFA whose steps are the value's length times the pattern's)."""
    return PATTERN_OP_COST + PATTERN_CHAR_COST * len(pattern) + (len(value) + 1) * (len(pattern) + 1)


def _trim_prefix(pattern: str, value: str, greedy: bool) -> str:
    data = _utf8(value)
    span = _glob(pattern, greedy=greedy, anchored=True).search(data, 0)
    return _text(data[span[1] :]) if span else value


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


def _char_width(lead: int) -> int:
    """Bytes in the UTF-8 sequence that starts with byte ``lead``."""
    if lead < 0xC0:
        return 1
    if lead < 0xE0:
        return 2
    if lead < 0xF0:
        return 3
    return 4


def _template(replacement: str) -> list[str | None]:
    """Go's ``Regexp.Expand`` template as pieces: text, or None for the match (``$0``, ``${0}``).

    ``ReplaceAllString`` expands ``$`` in its replacement: ``$$`` is ``$``, ``$name`` and
    ``${name}`` name a group (a glob has only group 0, so any other name is empty), and a ``$``
    that starts no name is itself.
    """
    pieces: list[str | None] = []
    rest = replacement
    while True:
        before, dollar, after = rest.partition("$")
        pieces.append(before)
        if not dollar:
            return pieces
        if after.startswith("$"):
            pieces.append("$")
            rest = after[1:]
            continue
        brace = after.startswith("{")
        body = after[1:] if brace else after
        i = 0
        while i < len(body) and (body[i].isalpha() or body[i].isdecimal() or body[i] == "_"):
            i += 1
        if i == 0 or (brace and (i >= len(body) or body[i] != "}")):
            pieces.append("$")  # malformed: the $ is text
            rest = after
            continue
        name = body[:i]
        if name == "0":
            pieces.append(None)
        rest = body[i + 1 :] if brace else body[i:]


def _replace_all(regex: _Glob, value: str, replacement: str, limit: int, budget: Budget) -> str:
    """Go's ``Regexp.ReplaceAllString``: every match, but an empty one right after another."""
    data = _utf8(value)
    pieces = [None if p is None else _utf8(p) for p in _template(replacement)]
    cost = MATCH_COST + 4 * len(pieces)
    out = bytearray()
    end = len(data)
    last = 0
    search = 0
    while search <= end:
        span = regex.search(data, search)
        if span is None:
            break
        start, stop = span
        budget.spend(cost)
        out += data[last:start]
        if stop > last or start == 0:
            for piece in pieces:
                out += data[start:stop] if piece is None else piece
            if len(out) > 4 * limit:  # UTF-8 takes at most 4 bytes a character
                raise _too_large()
        last = stop
        width = _char_width(data[search]) if search < end else 0
        if search + width > stop:
            search += width
        elif search + 1 > stop:
            search += 1
        else:
            search = stop
    out += data[last:]
    result = _text(bytes(out))
    if len(result) > limit:
        raise _too_large()
    return result


def _too_large() -> ExpansionTooLarge:
    return ExpansionTooLarge(
        "variable expansion too large: a value would be longer than the limit of "
        f"{MAX_VALUE_CHARS} characters"
    )
