"""Text -> instructions, following BuildKit's Dockerfile parser rules.

Covers parser directives, BOM and CRLF, continuation lines (with comment and blank lines inside),
both escape characters, heredocs, builder flags, JSON and shell forms, and ONBUILD triggers.
The rules and their citations are in ``docs/buildkit-semantics.md`` section 1; the
code is our own.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from .errors import DockerfileError, InputTooLarge, UnreadableInput
from .model import Diagnostic, Heredoc, Instruction, Severity
from .nesting import MAX_JSON_DEPTH, too_deep

MAX_LINE = 64 * 1024 - 1
DIRECTIVES = ("syntax", "escape", "check")

_DIRECTIVE = re.compile(r"^#[ \t]*([a-zA-Z][a-zA-Z0-9]*)[ \t]*=[ \t]*(.+?)[ \t]*$")
_SPLIT_COMMAND = re.compile(r"[\t\v\f\r ]+")
_ODD_BLANKS = "\x1c\x1d\x1e\x1f"
"""The ASCII characters besides ``[\\t\\n\\v\\f\\r ]`` that ``str.isspace`` accepts."""
_HEREDOC = re.compile(r"^(\d*)<<(-?)\s*([^<]*)$", re.S)
_HEREDOC_KEYWORDS = frozenset({"RUN", "COPY", "ADD"})
_JSON_KEYWORDS = frozenset({"RUN", "CMD", "ENTRYPOINT", "SHELL"})
_LIST_KEYWORDS = frozenset({"ADD", "COPY", "VOLUME"})
_STRING_KEYWORDS = frozenset({"USER", "WORKDIR", "MAINTAINER", "STOPSIGNAL"})


class NotStringArray(Exception):
    """A JSON array with an element that is not a string."""


@dataclass(frozen=True, slots=True)
class Lexed:
    """What the lexer read: instructions in order, directives, and its own diagnostics."""

    instructions: tuple[Instruction, ...]
    """Top-level instructions in file order."""
    directives: tuple[tuple[str, str, int], ...]
    """(name, value, line) of each parser directive."""
    diagnostics: tuple[Diagnostic, ...]
    """Parse errors (BuildKit would refuse the file) and lexical warnings."""
    escape: str
    """The escape character in force: a backslash or a backtick."""
    line_count: int
    """Number of physical lines."""
    empty_continuations: tuple[int, ...] = ()
    """For each instruction with empty lines inside its continuation, the line where the
    continuation ends (BuildKit's NoEmptyContinuation line; reported by ``webapp/checks.py``)."""
    lines: tuple[str, ...] = ()
    """The physical lines (:func:`split_lines`), for the checks' reading of comments."""


def decode(data: bytes | str, max_bytes: int | None = None) -> str:
    """Bytes -> text: strict UTF-8 with the line of the first bad byte; NUL bytes refused."""
    too_large = f"Dockerfile is larger than the limit of {max_bytes} bytes"
    if isinstance(data, str):
        text = data
        try:
            size = len(text.encode("utf-8"))
        except UnicodeEncodeError as exc:  # a lone surrogate, e.g. "\ud800" in a JSON body
            line = text.count("\n", 0, exc.start) + 1
            raise UnreadableInput("Dockerfile is not valid UTF-8 text", line=line) from None
        if max_bytes is not None and size > max_bytes:
            raise InputTooLarge(too_large)
    else:
        raw = data
        if max_bytes is not None and len(raw) > max_bytes:
            raise InputTooLarge(too_large)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = raw.count(b"\n", 0, exc.start) + 1
            raise UnreadableInput("Dockerfile is not valid UTF-8 text", line=line) from None
    nul = text.find("\0")
    if nul >= 0:
        raise UnreadableInput("Dockerfile contains a NUL byte", line=text.count("\n", 0, nul) + 1)
    return text


def split_lines(text: str) -> list[str]:
    """Physical lines as BuildKit's scanner sees them: split on LF, trailing CR/LF removed."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if lines and lines[0].startswith("\ufeff"):
        lines[0] = lines[0][1:]
    if "\r" not in text:  # split on LF: only a CR can be left at a line's end
        return lines
    return [line.rstrip("\r\n") for line in lines]


def lex(text: str) -> Lexed:
    """Read Dockerfile text (already decoded) into instructions, never raising on bad syntax.

    Problems BuildKit would refuse the file for become error diagnostics; lexing goes on where
    BuildKit's own behaviour lets us tell what follows (it stops at an unterminated heredoc).
    """
    lines = split_lines(text)
    # str.split() breaks at every character str.isspace() accepts, BuildKit only at [\t\v\f\r ]
    # ("\n" never occurs in a logical line): on ASCII text without the others they agree, and
    # _parse_parts uses the C split (several times faster than the regular expression's)
    plain = text.isascii() and not any(c in text for c in _ODD_BLANKS)
    if len(text) > MAX_LINE:  # only then can a line be too long
        for number, line in enumerate(lines, 1):
            if len(line) > MAX_LINE:
                raise DockerfileError(
                    f"dockerfile line greater than max allowed size of {MAX_LINE}", line=number
                )
    diags: list[Diagnostic] = []
    directives: list[tuple[str, str, int]] = []
    seen: set[str] = set()
    directives_done = False
    escape = "\\"
    out: list[Instruction] = []
    append = out.append
    empty_continuations: list[int] = []
    count = len(lines)
    i = 0
    while i < count:
        raw = lines[i]
        stripped = raw.lstrip()
        i += 1
        number = i
        if not directives_done:
            match = _DIRECTIVE.match(stripped)
            key = match.group(1).lower() if match else None
            if key not in DIRECTIVES:
                directives_done = True
            elif key in seen:
                # BuildKit reports a bad directive at the line before it (0 for the first line).
                diags.append(
                    _error("duplicate-directive", f"only one {key} parser directive can be used", number - 1)
                )
                continue
            else:
                seen.add(key)
                value = match.group(2)
                directives.append((key, value, number))
                if key == "escape":
                    if value not in ("\\", "`"):
                        diags.append(
                            _error(
                                "invalid-escape",
                                f"invalid escape token '{value}' does not match ` or \\",
                                number - 1,
                            )
                        )
                    else:
                        escape = value
                continue
        if not stripped or stripped[0] == "#":
            continue  # blank, or a comment (which continues nothing, whatever it ends with)
        start = number
        # A line continues when it ends with the escape token (blanks after it allowed) and that
        # token is not itself escaped (the character before it is not another one).
        trimmed = stripped.rstrip(" \t")  # not empty: stripped starts with a non-blank
        if trimmed[-1] != escape or trimmed[-2:-1] == escape:
            logical = stripped  # one line
        else:
            parts = [trimmed[:-1]]
            empty_lines = []
            more = True
            while more and i < count:
                raw = lines[i]
                i += 1
                stripped = raw.lstrip()
                if not stripped:
                    empty_lines.append(i)
                    continue
                if stripped[0] == "#":
                    continue
                trimmed = raw.rstrip(" \t")  # the same rule for each continuation line
                if trimmed[-1:] != escape or trimmed[-2:-1] == escape:
                    parts.append(raw)
                    more = False
                else:
                    parts.append(trimmed[:-1])
            logical = "".join(parts)
            if empty_lines:
                empty_continuations.append(i)
        try:
            node = _parse_parts(logical, escape, plain)
            if (
                node[0] in _JSON_KEYWORDS
                and not node[4]
                and node[1].startswith("[")
                and _json_with_tail(node[1])
            ):
                diags.append(
                    Diagnostic(
                        Severity.WARNING,
                        "json-with-tail",
                        f"{node[0]}: a JSON array followed by more text is shell form, not exec form",
                        start,
                    )
                )
        except _LineError as exc:
            if exc.code == "json-too-deep":
                raise UnreadableInput(exc.message, line=start) from None
            diags.append(_error(exc.code, exc.message, start))
            node = (_keyword_of(logical), logical, (), (), False, None)
        heredocs: list[Heredoc] = []
        if "<<" in logical and _can_contain_heredoc(node):
            try:
                specs = heredocs_from_line(logical)
            except _LineError as exc:
                diags.append(_error(exc.code, exc.message, start))
                specs = []
            for name, chomp, expand in specs:
                body: list[str] = []
                terminated = False
                while i < count:
                    raw = lines[i]
                    i += 1
                    candidate = raw.lstrip("\t") if chomp else raw
                    if candidate == name:
                        terminated = True
                        break
                    body.append(raw + "\n")
                if not terminated:
                    diags.append(_error("unterminated-heredoc", "unterminated heredoc", start))
                    content_text = "".join(body)
                    heredocs.append(
                        Heredoc(name, _chomp(content_text) if chomp else content_text, expand, chomp)
                    )
                    break
                content_text = "".join(body)
                heredocs.append(Heredoc(name, _chomp(content_text) if chomp else content_text, expand, chomp))
        source = lines[start - 1] if i == start else "\n".join(lines[start - 1 : i])
        if node[5] is None:  # _build without the call
            keyword, rest, flags, args, is_json, _ = node
            docs = tuple(heredocs) if heredocs else ()
            append(Instruction(keyword, start, i, rest, flags, args, is_json, docs, None, source))
        else:
            out.append(_build(node, start, i, tuple(heredocs), source))
    if not out:
        if not text:  # BuildKit's front door refuses an empty file before parsing it
            diags.append(_error("empty", "the Dockerfile cannot be empty", None))
        else:
            diags.append(_error("no-instructions", "file with no instructions", count or None))
    return Lexed(
        tuple(out), tuple(directives), tuple(diags), escape, count, tuple(empty_continuations), tuple(lines)
    )


def _chomp(text: str) -> str:
    return re.sub(r"(?m)^\t+", "", text)


_Parts = tuple
"""An instruction's fields before its lines are known (built into an Instruction once):
(keyword, rest, flags, args, json, sub), sub the ONBUILD trigger's own _Parts or None. A plain
tuple: one per instruction, cheaper to build than an object."""


def _build(parts: _Parts, start: int, end: int, heredocs: tuple[Heredoc, ...], source: str) -> Instruction:
    keyword, rest, flags, args, is_json, sub_parts = parts
    sub = None
    if sub_parts is not None:
        sub = _build(sub_parts, start, end, heredocs, source)
        heredocs = ()
    return Instruction(keyword, start, end, rest, flags, args, is_json, heredocs, sub, source)


class _LineError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def _error(code: str, message: str, line: int | None) -> Diagnostic:
    return Diagnostic(Severity.ERROR, code, message, line)


def _keyword_of(logical: str) -> str:
    parts = _SPLIT_COMMAND.split(logical.strip(), maxsplit=1)
    return parts[0].upper()


def _can_contain_heredoc(node: _Parts) -> bool:
    if node[0] == "ONBUILD" and node[5] is not None:
        node = node[5]
    return node[0] in _HEREDOC_KEYWORDS and not node[4]


def parse_line(logical: str, escape: str = "\\") -> Instruction:
    """One logical line -> an Instruction (with line numbers 0: it is not placed in a file)."""
    return _build(_parse_parts(logical, escape), 0, 0, (), logical)


MAX_ONBUILD_DEPTH = 8
"""``ONBUILD ONBUILD ...`` deeper than this is not split further (it is an error at any depth
past one); without a bound a long enough chain would overflow Python's recursion."""


def _parse_parts(logical: str, escape: str, plain: bool = False, depth: int = 0) -> _Parts:
    """Split a logical line into keyword, flags and arguments as BuildKit's parser does.

    ``plain``: the line holds no blank but ``[\\t\\v\\f\\r ]`` (see :func:`lex`), so ``str.split``
    splits it as ``_SPLIT_COMMAND`` does (the rest is stripped and read without its leading blanks).
    """
    text = logical.strip()
    parts = text.split(None, 1) if plain and text else _SPLIT_COMMAND.split(text, maxsplit=1)
    word = parts[0]
    flags: tuple[tuple[str, str | None], ...] = ()
    rest = ""
    if len(parts) == 2:
        rest = parts[1].strip()
        if rest.startswith("--"):  # else no flag: extract_flags would give the same rest
            rest, raw_flags = extract_flags(parts[1], escape)
            rest = rest.strip()
            found = []
            for flag in raw_flags:
                name, sep, value = flag[2:].partition("=")
                found.append((name, value if sep else None))
            flags = tuple(found)
    keyword = word.upper()
    args: tuple[str, ...] = ()
    is_json = False
    sub = None
    if keyword in ("FROM", "EXPOSE"):
        args = (tuple(rest.split()) if plain else tuple(_SPLIT_COMMAND.split(rest))) if rest else ()
    elif keyword == "ARG":  # (the branches exclude each other: the frequent ones first)
        args = tuple(parse_words(rest, escape))
    elif keyword in _STRING_KEYWORDS:
        args = (rest,) if rest else ()
    elif keyword in _JSON_KEYWORDS:
        if rest:
            parsed = _maybe_json(rest) if rest[0] == "[" else None  # rest is stripped
            if parsed is None:
                args = (rest,)
            else:
                args, is_json = parsed, True
    elif keyword in _LIST_KEYWORDS:
        parsed = _maybe_json(rest) if rest[:1] == "[" else None  # rest is stripped
        if parsed is None:
            args = (tuple(rest.split()) if plain else tuple(_SPLIT_COMMAND.split(rest))) if rest else ()
        else:
            args, is_json = parsed, True
    elif keyword in ("ENV", "LABEL"):
        args = parse_name_val(rest, keyword, escape)
    elif keyword == "HEALTHCHECK":
        match = re.match(r"(\S+)(\s*)(.*)\Z", rest, re.S)
        if match:
            kind, tail = match.group(1), match.group(3)
            args = (kind,)
            if tail:
                parsed = _maybe_json(tail)
                if parsed is None:
                    args += (tail,)
                else:
                    args += parsed
                    is_json = True
    elif keyword == "ONBUILD":
        if rest and depth < MAX_ONBUILD_DEPTH:
            sub = _parse_parts(rest, escape, plain, depth + 1)
            args = (sub[0],)
    return keyword, rest, flags, args, is_json, sub


def _reject_constant(name: str):
    raise ValueError(name)


def _maybe_json(rest: str) -> tuple[str, ...] | None:
    """A JSON array of strings -> its items; not JSON -> None; non-string items -> error."""
    text = rest.lstrip()
    if not text.startswith("["):
        return None
    if too_deep(text):  # json.loads recurses per level: refuse before it can overflow
        raise _LineError("json-too-deep", f"JSON array nested more than {MAX_JSON_DEPTH} levels deep")
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except ValueError:
        return None
    if not isinstance(value, list):
        return None
    if not all(isinstance(item, str) for item in value):
        raise _LineError(
            "json-not-strings", "when using JSON array syntax, arrays must be comprised of strings only"
        )
    return tuple(value)


def _json_with_tail(rest: str) -> bool:
    """True for ``["a"] junk``: a JSON array of strings that more text follows."""
    try:
        value, end = json.JSONDecoder().raw_decode(rest)
    except ValueError:
        return False
    return isinstance(value, list) and bool(rest[end:].strip())


_TOKEN = re.compile(r"\S+")


def extract_flags(line: str, escape: str) -> tuple[str, list[str]]:
    """Leading ``--flag`` words -> (rest of line, flags); quotes removed, ``--`` ends flags."""
    # Fast path: flags without quotes or escapes (the common case), a word at a time with the C
    # split (its blanks are the regular expressions' \s); the loops below give the same answer
    # and handle everything else.
    rest = line.lstrip()
    flags: list[str] = []
    while rest.startswith("--"):
        parts = rest.split(None, 1)
        word = parts[0]
        if word == "--" or "'" in word or '"' in word or escape in word:
            return _extract_flags_tokens(line, escape)
        flags.append(word)
        rest = parts[1] if len(parts) == 2 else ""
    return rest, flags


def _extract_flags_tokens(line: str, escape: str) -> tuple[str, list[str]]:
    words: list[str] = []
    for match in _TOKEN.finditer(line):
        token = match.group()
        if not token.startswith("--"):
            return line[match.start() :], words
        if "'" in token or '"' in token or escape in token:
            return _extract_flags_slow(line, escape)
        if token == "--":
            return line[match.end() :], words
        words.append(token)
    return "", words


def _extract_flags_slow(line: str, escape: str) -> tuple[str, list[str]]:
    words: list[str] = []
    in_spaces, in_word, in_quote = 0, 1, 2
    phase = in_spaces
    word: list[str] = []
    quote = ""
    blank_ok = False
    n = len(line)
    pos = 0
    while pos <= n:
        ch = line[pos] if pos < n else ""
        if phase == in_spaces:
            if pos == n:
                break
            if ch.isspace():
                pos += 1
                continue
            if ch != "-" or pos + 1 == n or line[pos + 1] != "-":
                return line[pos:], words
            phase = in_word
        if pos == n:
            text = "".join(word)
            if text != "--" and (blank_ok or text):
                words.append(text)
            break
        if phase == in_word:
            if ch.isspace():
                phase = in_spaces
                text = "".join(word)
                if text == "--":
                    return line[pos:], words
                if blank_ok or text:
                    words.append(text)
                word = []
                blank_ok = False
                pos += 1
                continue
            if ch in ("'", '"'):
                quote = ch
                blank_ok = True
                phase = in_quote
                pos += 1
                continue
            if ch == escape:
                if pos + 1 == n:
                    pos += 1
                    continue
                pos += 1
                ch = line[pos]
            word.append(ch)
            pos += 1
            continue
        # in a quote
        if ch == quote:
            phase = in_word
            pos += 1
            continue
        if ch == escape:
            if pos + 1 == n:
                phase = in_word
                pos += 1
                continue
            pos += 1
            ch = line[pos]
        word.append(ch)
        pos += 1
    return "", words


def _runs(escape: str) -> tuple[re.Pattern, re.Pattern, re.Pattern]:
    """What :func:`parse_words` copies a run at a time: characters with no meaning outside quotes,
    in single quotes and in double quotes (where the escape still counts)."""
    e = re.escape(escape)
    return re.compile(rf"""[^\s'"{e}]+"""), re.compile(r"[^']+"), re.compile(rf'[^"{e}]+')


_RUNS = {escape: _runs(escape) for escape in ("\\", "`")}


def parse_words(rest: str, escape: str) -> list[str]:
    """Split on whitespace outside quotes, keeping quotes and escapes (BuildKit's parseWords).

    ``escape`` is a backslash or a backtick, the two a Dockerfile can choose."""
    if "'" not in rest and '"' not in rest and escape not in rest:
        return rest.split()
    # BuildKit's character loop, with the runs of characters that are only copied taken at once
    words: list[str] = []
    word: list[str] = []
    in_word = blank_ok = False
    outside, single, double = _RUNS[escape]
    n = len(rest)
    pos = 0
    while pos < n:
        ch = rest[pos]
        if ch.isspace():
            if in_word and (blank_ok or word):
                words.append("".join(word))
            word = []
            in_word = blank_ok = False
            pos += 1
            continue
        in_word = True
        if ch == escape:
            if pos + 1 < n:  # (an escape that ends the text is dropped)
                word += (ch, rest[pos + 1])
            pos += 2
            continue
        if ch == "'" or ch == '"':  # quoted, quotes kept: an escape counts in double quotes only
            blank_ok = True
            word.append(ch)
            pos += 1
            quoted = single if ch == "'" else double
            while pos < n:
                run = quoted.match(rest, pos)
                if run is not None:
                    word.append(run.group())
                    pos = run.end()
                    continue
                inner = rest[pos]
                if inner == ch:  # the closing quote
                    word.append(inner)
                    pos += 1
                    break
                if pos + 1 < n:  # the escape and the character after it
                    word += (inner, rest[pos + 1])
                pos += 2
            continue
        run = outside.match(rest, pos)
        word.append(run.group())
        pos = run.end()
    if in_word and (blank_ok or word):
        words.append("".join(word))
    return words


def parse_name_val(rest: str, keyword: str, escape: str) -> tuple[str, ...]:
    """ENV/LABEL arguments -> flat (key, value, separator) triples, as BuildKit's parseNameVal."""
    words = parse_words(rest, escape)
    if not words:
        return ()
    if "=" not in words[0]:
        parts = _SPLIT_COMMAND.split(rest, maxsplit=1)
        if len(parts) < 2:
            raise _LineError("missing-value", f"{keyword} must have two arguments")
        return (parts[0], parts[1], "")
    out: list[str] = []
    for word in words:
        if "=" not in word:
            raise _LineError(
                "missing-equals",
                f'Syntax error - can\'t find = in "{word}". Must be of the form: name=value',
            )
        key, _, value = word.partition("=")
        out += [key, value, "="]
    return tuple(out)


# --- heredocs ---------------------------------------------------------------------------------


_PLAIN = re.compile(r"[^'\"<\\\s]+")
"""Characters a shell word takes as they are (whitespace as ``str.isspace`` has it)."""
_PLAIN_QUOTED = re.compile(r'[^"\\]+')
"""Characters a double-quoted string takes as they are."""


def shell_words(line: str, *, raw_quotes: bool) -> list[str]:
    """Split a line into shell words with ``\\`` as escape, ``$`` left as written.

    With ``raw_quotes`` the quote characters stay in the words. ``<<`` followed by blanks is
    glued to the next word, as BuildKit's lexer does so ``<< EOF`` reads as one heredoc word.
    """
    words: list[str] = []
    word: list[str] = []
    in_word = False
    n = len(line)
    pos = 0
    while pos < n:
        ch = line[pos]
        if ch == "'":
            end = line.find("'", pos + 1)
            if end < 0:
                raise _LineError(
                    "unterminated-quote", "unexpected end of statement while looking for matching '"
                )
            word.append(line[pos : end + 1] if raw_quotes else line[pos + 1 : end])
            in_word = True
            pos = end + 1
            continue
        if ch == '"':
            pos += 1
            if raw_quotes:
                word.append('"')
            closed = False
            while pos < n:
                quoted = _PLAIN_QUOTED.match(line, pos)
                if quoted is not None:
                    word.append(quoted.group())
                    pos = quoted.end()
                    continue
                c = line[pos]
                if c == '"':
                    closed = True
                    pos += 1
                    break
                if c == "\\" and pos + 1 < n:
                    nxt = line[pos + 1]
                    if raw_quotes or nxt not in '"\\$`':
                        word.append(c)
                    word.append(nxt)
                    pos += 2
                    continue
                word.append(c)
                pos += 1
            if not closed:
                raise _LineError(
                    "unterminated-quote", 'unexpected end of statement while looking for matching "'
                )
            if raw_quotes:
                word.append('"')
            in_word = True
            continue
        if ch == "<" and line.startswith("<<", pos):
            pos += 2
            spaces = pos
            while pos < n and line[pos] in " \t":
                pos += 1
            word.append("<<" + line[spaces:pos])
            in_word = True
            continue
        if ch == "\\":
            if raw_quotes:
                word.append(ch)
            pos += 1
            if pos < n:
                word.append(line[pos])
                in_word = True
                pos += 1
            continue
        if ch.isspace():
            if in_word:
                words.append("".join(word))
                word = []
                in_word = False
            pos += 1
            continue
        plain = _PLAIN.match(line, pos)  # a run of characters without a meaning of their own
        if plain is None:  # a lone "<"
            word.append(ch)
            pos += 1
        else:
            word.append(plain.group())
            pos = plain.end()
        in_word = True
    if in_word:
        words.append("".join(word))
    return words


def parse_heredoc(word: str) -> tuple[str, bool, bool] | None:
    """A word such as ``<<-'EOF'`` -> (name, chomp, expand), or None when it is no heredoc."""
    if "<<" not in word:
        return None
    match = _HEREDOC.match(word)
    if not match:
        return None
    chomp = match.group(2) == "-"
    rest = match.group(3)
    if not rest:
        return None
    plain = shell_words(rest, raw_quotes=False)
    if len(plain) != 1:
        return None
    raw = shell_words(rest, raw_quotes=True)
    name = plain[0]
    quotes = name.count("'") + name.count('"')
    raw_quotes = raw[0].count("'") + raw[0].count('"') if raw else 0
    return name, chomp, quotes == raw_quotes


def heredocs_from_line(line: str) -> list[tuple[str, bool, bool]]:
    """Every heredoc named on an instruction line, in order: (name, chomp, expand)."""
    if "'" in line or '"' in line or "\\" in line or "<< " in line or "<<\t" in line:
        try:
            words = shell_words(line, raw_quotes=True)
        except _LineError:
            return []
    else:  # no quote, escape or "<<" before blanks: shell_words' words are the blank-separated ones
        words = [word for word in line.split() if "<<" in word]
    found = []
    for word in words:
        try:
            doc = parse_heredoc(word)
        except _LineError as exc:
            raise _LineError("bad-heredoc", exc.message) from None
        if doc is not None:
            found.append(doc)
    return found
