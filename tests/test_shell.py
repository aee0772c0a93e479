"""Word expansion rules (BuildKit ``frontend/dockerfile/shell/lex.go``), one test per rule.

The cases are our own; they restate the rules BuildKit's ``envVarTest`` table and ``lex_test.go``
check: every ``${...}`` form, set-but-empty versus unset, quotes, escapes, errors, and the
matched/unmatched name sets used for the ``UndefinedArgInFrom`` check.
"""

from __future__ import annotations

import pytest

from webapp.shell import ExpansionError, expand, expand_text

ENV = {"NAME": "value", "EMPTY": "", "PATHV": "/usr/local/bin", "FILE": "archive.tar.gz"}


def ex(word: str, env: dict | None = None, escape: str = "\\") -> str:
    return expand(word, ENV if env is None else env, escape).result


# --- plain references -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("$NAME", "value"),
        ("${NAME}", "value"),
        ("x$NAME.y", "xvalue.y"),
        ("x${NAME}y", "xvaluey"),
        ("$NAMEx", ""),  # the name runs to the end of [A-Za-z0-9_]
        ("$UNSET", ""),
        ("a$", "a$"),
        ("$.", "$."),
        ("$-x", "x"),  # special parameters are never set
        ("$1x", "x"),  # positional parameters are never set
        ("$123x", "x"),
        ("${9}", ""),
    ],
)
def test_simple_references(word, expected):
    assert ex(word) == expected


# --- the modifiers, with set / empty / unset ------------------------------------------------------


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        # :- uses the word when unset OR empty; - only when unset
        ("${NAME:-w}", "value"),
        ("${EMPTY:-w}", "w"),
        ("${UNSET:-w}", "w"),
        ("${NAME-w}", "value"),
        ("${EMPTY-w}", ""),
        ("${UNSET-w}", "w"),
        # :+ gives the word when set and non-empty; + when set at all
        ("${NAME:+w}", "w"),
        ("${EMPTY:+w}", ""),
        ("${UNSET:+w}", ""),
        ("${NAME+w}", "w"),
        ("${EMPTY+w}", "w"),
        ("${UNSET+w}", ""),
        # ? passes a set value through
        ("${NAME:?msg}", "value"),
        ("${NAME?msg}", "value"),
        ("${EMPTY?msg}", ""),
        # nested expansion inside the word
        ("${UNSET:-$NAME}", "value"),
        ("${UNSET:-${ALSO:-deep}}", "deep"),
        ("${NAME:+[${NAME}]}", "[value]"),
        ("${UNSET:-a b}", "a b"),
        ("${UNSET:-}", ""),
        ("${UNSET:-x}}", "x}"),
    ],
)
def test_modifiers(word, expected):
    assert ex(word) == expected


@pytest.mark.parametrize(
    ("word", "message"),
    [
        ("${UNSET:?}", "UNSET: is not allowed to be unset"),
        ("${UNSET?}", "UNSET: is not allowed to be unset"),
        ("${EMPTY:?}", "EMPTY: is not allowed to be empty"),
        ("${UNSET:?need it}", "UNSET: need it"),
        ("${EMPTY:?need it}", "EMPTY: need it"),
    ],
)
def test_required_modifier_errors(word, message):
    with pytest.raises(ExpansionError) as info:
        ex(word)
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("${PATHV#*/}", "usr/local/bin"),
        ("${PATHV##*/}", "bin"),
        ("${FILE%.*}", "archive.tar"),
        ("${FILE%%.*}", "archive"),
        ("${FILE#archive.}", "tar.gz"),
        ("${FILE%.zip}", "archive.tar.gz"),  # no match: unchanged
        ("${FILE#}", "archive.tar.gz"),
        ("${FILE%%}", "archive.tar.gz"),
        ("${FILE#?r}", "chive.tar.gz"),
        ("${FILE#*}", "archive.tar.gz"),  # shortest prefix of * is empty
        ("${FILE##*}", ""),
        ("${UNSET#x}", ""),
        ("${FILE#$NOPE}", "archive.tar.gz"),
    ],
)
def test_prefix_and_suffix_trimming(word, expected):
    assert ex(word) == expected


def test_trim_pattern_can_come_from_a_variable():
    assert ex("${V#$P}", {"V": "v1.2.3", "P": "v"}) == "1.2.3"
    assert ex("${V%$P}", {"V": "1.2-rc", "P": "-*"}) == "1.2"


def test_escaped_glob_characters_in_trim_patterns_are_literal():
    assert ex("${V#\\*}", {"V": "**x"}) == "*x"
    assert ex("${V%%\\?*}", {"V": "a?b?c"}) == "a"


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("${FILE/a/A}", "Archive.tar.gz"),
        ("${FILE//a/A}", "Archive.tAr.gz"),
        ("${FILE/.*/}", "archive"),  # greedy star
        ("${FILE/x/y}", "archive.tar.gz"),
        ("${FILE//?/-}", "-" * len("archive.tar.gz")),
        ("${PATHV//\\//:}", ":usr:local:bin"),
        ("${UNSET/a/b}", ""),
    ],
)
def test_replacement(word, expected):
    assert ex(word) == expected


def test_replacement_with_variables_in_pattern_and_replacement():
    env = {"U": "http://example.com", "OLD": "http://", "NEW": "https://"}
    assert ex("${U/$OLD/$NEW}", env) == "https://example.com"


def test_replacement_with_empty_pattern_inserts_at_start():
    # BuildKit compiles the empty pattern to an empty regexp, which matches at offset 0
    # (lex.go processDollar case '/' + convertShellPatternToRegex): ${V/$E/x} prefixes x.
    assert ex("${V/$E/ww}", {"V": "abc", "E": ""}) == "wwabc"


def test_replace_all_with_empty_pattern_inserts_between_every_character():
    # Go's Regexp.ReplaceAllString with an empty regexp inserts at every position.
    assert ex("${V//$E/-}", {"V": "abc", "E": ""}) == "-a-b-c-"


def test_brackets_in_patterns_are_literal_not_character_classes():
    # convertShellPatternToRegex escapes '[' and ']': BuildKit has no bracket expressions.
    assert ex("${V/[ab]/X}", {"V": "cab"}) == "cab"
    assert ex("${V#[ab]}", {"V": "[ab]x"}) == "x"


def test_unknown_escape_in_pattern_is_an_error():
    # Only \*, \?, \\ (and \} \/) may be escaped in a pattern; anything else is an invalid pattern.
    with pytest.raises(ExpansionError):
        ex("${V#\\a}", {"V": "abc"})


# --- quotes and escapes ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("'$NAME'", "$NAME"),
        ('"$NAME"', "value"),
        ("\"'$NAME'\"", "'value'"),
        ("'\"q\"'", '"q"'),
        ("a'b c'd", "ab cd"),
        ("\\$NAME", "$NAME"),
        ("\\\\$NAME", "\\value"),
        ('"\\$NAME"', "$NAME"),
        ('"a\\tb"', "a\\tb"),  # inside double quotes only " $ and the escape are escapable
        ("a\\tb", "atb"),  # outside quotes the escape always takes the next char
        ("'a\\tb'", "a\\tb"),  # nothing is special inside single quotes
        ("end\\", "end"),  # a trailing escape is dropped
        ("\\${x}", "${x}"),
        ("${UNSET:-\\$NAME}", "$NAME"),
        ("한'국'어$NAME", "한국어value"),
    ],
)
def test_quotes_and_escapes(word, expected):
    assert ex(word) == expected


def test_backtick_escape_token():
    assert ex("`$NAME", escape="`") == "$NAME"
    assert ex("C:\\$NAME", escape="`") == "C:\\value"
    assert ex('"a`"b"', escape="`") == 'a"b'


@pytest.mark.parametrize(
    ("word", "message"),
    [
        ("'open", "unexpected end of statement while looking for matching single-quote"),
        ('"open', "unexpected end of statement while looking for matching double-quote"),
        ('"open\\"', "unexpected end of statement while looking for matching double-quote"),
        ("${}", "syntax error: bad substitution"),
        ("${:}", "syntax error: bad substitution"),
        ("${{x}", "syntax error: bad substitution"),
        ("${:-x}", "syntax error: bad substitution"),
        ("${", "syntax error: missing '}'"),
        ("${x:-w", "syntax error: missing '}'"),
        ("${x:=w}", "unsupported modifier (:=) in substitution"),
        ("${x=w}", "unsupported modifier (=) in substitution"),
        ("${x:#p}", "unsupported modifier (:#) in substitution"),
        ("${x:%p}", "unsupported modifier (:%) in substitution"),
        ("${x:y}", "unsupported modifier (:y) in substitution"),
        ("${x//p}", "syntax error: missing '/' in ${}"),
        ("${.}", "unsupported modifier (.) in substitution"),
    ],
)
def test_bad_words_are_errors(word, message):
    with pytest.raises(ExpansionError) as info:
        ex(word)
    assert str(info.value) == message


def test_unclosed_brace_after_a_name_is_an_error():
    # BuildKit reads the name, then end-of-input is an unsupported modifier.
    with pytest.raises(ExpansionError, match="unsupported modifier"):
        ex("${x")


def test_expand_text_returns_the_word_on_error():
    assert expand_text("${", {}) == "${"
    assert expand_text("$NAME", ENV) == "value"


# --- matched / unmatched tracking -----------------------------------------------------------------


def test_matched_and_unmatched_names():
    result = expand("${A-x} ${B:-y} ${C:+z} $D", {"A": "1", "B": ""})
    assert result.result == "1 y  "
    assert result.matched == {"A", "B"}
    assert result.unmatched == {"C", "D"}


def test_names_inside_an_unused_default_are_still_looked_up():
    result = expand("${A:-$B}", {"A": "set"})
    assert result.result == "set"
    assert "A" in result.matched


def test_single_quoted_names_are_not_looked_up():
    result = expand("'$X'", {})
    assert result.matched == set() and result.unmatched == set()


def test_unset_name_in_required_error_is_unmatched_before_raising():
    with pytest.raises(ExpansionError):
        expand("${Q?}", {})
