"""Word expansion rules (BuildKit ``frontend/dockerfile/shell/lex.go``), one test per rule.

The cases are our own; they restate the rules BuildKit's ``envVarTest`` table and ``lex_test.go``
check: every ``${...}`` form, set-but-empty versus unset, quotes, escapes, errors, and the
matched/unmatched name sets used for the ``UndefinedArgInFrom`` check.
"""

from __future__ import annotations

import re
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from webapp import analyze, shell
from webapp.errors import ExpansionTooDeep, ExpansionTooLarge
from webapp.shell import (
    MAX_DEPTH,
    MAX_VALUE_CHARS,
    MAX_WORK,
    ExpansionError,
    expand,
    expand_text,
    expansion_budget,
)

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


# --- BuildKit's replace-all is Go's Regexp.ReplaceAllString ---------------------------------------


@pytest.mark.parametrize(
    ("word", "value", "expected"),
    [
        # each case checked with BuildKit itself (the oracle): $0 in a replace-all replacement is the
        # match (Go's Regexp.Expand), in a single replace it is text
        ("${V//b/'<$0>'}", "abcabc", "a<b>ca<b>c"),
        ("${V/b/'<$0>'}", "abcabc", "a<$0>cabc"),
        ("${V//b/'$$${0}$x${1}$'}", "abcabc", "a$b$ca$b$c"),
        # an empty match right after a match is not replaced: * takes the whole value once
        ("${V//*/'<$0>'}", "abcabc", "<abcabc>"),
        ("${V///<>}", "abc", "<>a<>b<>c<>"),
        ("${V//*/x}", "a\nb", "x\nx"),  # * stops at a newline, like Go's .
        ("${V//?/x}", "é한", "xx"),  # ? is one character, not one byte
    ],
)
def test_replace_all_follows_go(word, value, expected):
    assert ex(word, {"V": value}) == expected


# --- the same answers as a backtracking matcher, in linear time ---------------------------------


def reference_regex(pattern: str, greedy: bool) -> str:
    """The pattern as BuildKit converts it, for Python's backtracking re (same leftmost-first rules)."""
    out, i = [], 0
    while i < len(pattern):
        ch = pattern[i]
        i += 1
        if ch == "*":
            out.append(".*" if greedy else ".*?")
        elif ch == "?":
            out.append(".")
        elif ch == "\\":
            out.append(re.escape(pattern[i]))
            i += 1
        else:
            out.append(re.escape(ch))
    return "".join(out)


PATTERN = st.lists(st.sampled_from(["a", "b", "*", "?", ".", "\\*", "é"]), max_size=7).map("".join)
VALUE = st.text(alphabet="ab.é\n", max_size=12)
SMALL = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SMALL
@given(value=VALUE, pattern=PATTERN, greedy=st.booleans())
def test_trims_agree_with_a_backtracking_matcher(value, pattern, greedy):
    env = {"V": value, "P": pattern}
    mark = "#" * (2 if greedy else 1)
    match = re.match(reference_regex(pattern, greedy), value)
    assert ex("${V" + mark + "$P}", env) == (value[match.end() :] if match else value)
    # a suffix: reverse the value and the pattern (escapes stay before what they escape)
    tokens = re.findall(r"\\.|.", pattern, re.S)
    reversed_regex = reference_regex("".join(reversed(tokens)), greedy)
    match = re.match(reversed_regex, value[::-1])
    expected = value[::-1][match.end() :][::-1] if match else value
    assert ex("${V" + mark.replace("#", "%") + "$P}", env) == expected


@SMALL
@given(value=VALUE, pattern=PATTERN, replacement=st.sampled_from(["", "x", "[$0]"]))
def test_replacement_agrees_with_a_backtracking_matcher(value, pattern, replacement):
    env = {"V": value, "P": pattern, "R": replacement}
    regex = re.compile(reference_regex(pattern, True))
    match = regex.search(value)
    first = value[: match.start()] + replacement + value[match.end() :] if match else value
    assert ex("${V/$P/$R}", env) == first
    if pattern.strip("*"):  # a pattern that cannot match empty: every match is replaced
        expected = regex.sub(lambda m: replacement.replace("$0", m.group()), value)
        assert ex("${V//$P/$R}", env) == expected


ADVERSARIAL_PATTERN = st.lists(st.sampled_from(["a", "*", "?", "*a", "a*", "?*", "b", "\\*"]), max_size=40)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    unit=st.text(alphabet="ab*?\\n", min_size=1, max_size=4),
    size=st.integers(1, MAX_VALUE_CHARS),
    pattern=ADVERSARIAL_PATTERN.map("".join),
    op=st.sampled_from(["#", "##", "%", "%%", "/", "//"]),
    replacement=st.sampled_from(["", "xy", "$0$0"]),
)
def test_any_pattern_on_any_value_is_fast(unit, size, pattern, op, replacement):
    # values up to the size limit, patterns of the shapes that make backtracking explode
    value = (unit * (size // len(unit) + 1))[:size]
    word = "${V" + op + "$P" + ("/$R}" if "/" in op else "}")
    start = time.perf_counter()
    try:
        expand(word, {"V": value, "P": pattern, "R": replacement})
    except ExpansionTooLarge:
        pass  # a refusal is fine; taking long is not
    assert time.perf_counter() - start < 0.5


@pytest.mark.parametrize("op", ["#", "##", "%", "%%", "/", "//"])
def test_catastrophic_backtracking_patterns_are_linear(op):
    # The 105-byte Dockerfile that held a worker for 60 s with a backtracking regex.
    text = (
        "ARG v="
        + "a" * 60
        + "\nFROM alpine:${v"
        + op
        + "*a" * 12
        + "b"
        + ("/x}" if "/" in op else "}")
        + "\n"
    )
    start = time.perf_counter()
    graph = analyze(text)
    assert time.perf_counter() - start < 1
    assert graph.stages[0].base.resolved.startswith("alpine:")


# --- limits ----------------------------------------------------------------------------------------


def test_doubling_args_are_refused_naming_the_line_and_the_limit():
    lines = (
        ["ARG a0=0123456789abcdef"] + [f"ARG a{i + 1}=$a{i}$a{i}" for i in range(30)] + ["FROM alpine:$a30"]
    )
    with pytest.raises(ExpansionTooLarge) as info:
        analyze("\n".join(lines) + "\n")
    # 16 * 2**12 = 65536 fits; a13 = 131072 characters does not: line 14
    assert info.value.line == 14
    assert str(MAX_VALUE_CHARS) in info.value.message and info.value.status == 413


def test_doubling_inside_one_word_is_refused_too():
    with pytest.raises(ExpansionTooLarge):
        expand("$A" * 40, {"A": "x" * 2000})
    with pytest.raises(ExpansionTooLarge):
        expand("${V//?/$V}", {"V": "x" * 1000})  # 1000 matches times 1000 characters


def test_a_long_literal_word_is_not_a_bomb():
    word = '"' + "x" * (MAX_VALUE_CHARS * 2) + '"'
    assert len(expand(word, {}).result) == MAX_VALUE_CHARS * 2


def test_work_budget_is_shared_by_a_whole_dockerfile():
    value = "y" * 60_000
    with expansion_budget() as budget:
        for _ in range(MAX_WORK // len(value)):
            expand("$V", {"V": value})
        with pytest.raises(ExpansionTooLarge, match=str(MAX_WORK)):
            expand("$V", {"V": value})
        assert budget.left < 0
    # outside the block each call has a budget of its own again
    assert expand("$V", {"V": value}).result == value


def test_a_word_met_again_costs_the_same_and_follows_its_variables():
    # the budget's memo: the same word with the same values for the variables it reads gives the
    # same text and spends the same work; another value for one of them is expanded again
    word = "${A#x*}-${B:-none}-$C"
    with expansion_budget() as budget:
        costs, results = [], []
        for env in ({"A": "xay", "C": "c"}, {"A": "xay", "C": "c"}, {"A": "xby", "C": "c", "B": "b"}):
            left = budget.left
            found = expand(word, env)
            results.append((found.result, sorted(found.matched), sorted(found.unmatched)))
            costs.append(left - budget.left)
        assert list(budget.memo) == [(word, "\\")]  # one entry, the last expansion
    assert results == [("ay-none-c", ["A", "C"], ["B"])] * 2 + [("by-b-c", ["A", "B", "C"], [])]
    assert costs[0] == costs[1] > 0
    with expansion_budget() as fresh:
        expand(word, {"A": "xby", "C": "c", "B": "b"})
        assert fresh.limit - fresh.left == costs[2]


def test_many_lines_of_large_values_are_refused_by_the_budget():
    lines = ["ARG big=" + "x" * 60_000] + [f"ARG c{i}=${{big}}-{i}" for i in range(200)] + ["FROM alpine"]
    with pytest.raises(ExpansionTooLarge) as info:
        analyze("\n".join(lines) + "\n")
    assert info.value.line is not None and info.value.line > 2


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 1000, 5000])
def test_deep_nesting_is_refused_not_a_recursion_error(depth):
    text = "FROM alpine\nENV x=" + "${a:-" * depth + "w" + "}" * depth + "\n"
    with pytest.raises(ExpansionTooDeep) as info:
        analyze(text)
    assert info.value.line == 2 and str(MAX_DEPTH) in info.value.message and info.value.status == 422
    deep_quotes = '"${a:-' * depth + "w" + '}"' * depth
    with pytest.raises(ExpansionTooDeep):
        expand(deep_quotes, {})


def test_nesting_up_to_the_limit_is_fine():
    word = "${a:-" * MAX_DEPTH + "w" + "}" * MAX_DEPTH
    assert expand(word, {}).result == "w"


FLOODS = {
    # every case does only cheap steps, but many of them: each step is charged to the budget
    "same-pattern": "FROM alpine\nARG v=abc\n" + ("ENV x=" + "${v#a*}" * 8000 + "\n") * 8,
    "distinct-patterns": "FROM alpine\nARG v=abc\n"
    + "".join("ENV x=" + "".join(f"${{v#a{i}x{j}*}}" for j in range(4000)) + "\n" for i in range(8)),
    "unset-lookups": "FROM alpine\n" + ("ENV x=" + "$E" * 30000 + "\n") * 8,
    "onbuild-children": "FROM alpine AS base\nONBUILD COPY "
    + "$E" * 20000
    + " /x\n"
    + "".join(f"FROM base AS c{i}\n" for i in range(200)),
    "replace-all-matches": "FROM alpine\nARG v="
    + "ab" * 30000
    + "\n"
    + "".join(f"ARG c{i}=${{v//a/x}}\n" for i in range(500)),
}


@pytest.mark.parametrize("text", FLOODS.values(), ids=FLOODS.keys())
def test_floods_of_cheap_steps_are_refused_by_the_budget(text):
    start = time.perf_counter()
    with pytest.raises(ExpansionTooLarge) as info:
        analyze(text)
    assert time.perf_counter() - start < 1.5  # the lexer reads up to a megabyte first
    assert info.value.line is not None and str(MAX_WORK) in info.value.message


def test_real_dockerfiles_use_a_small_part_of_the_budget(corpus, monkeypatch):
    # every real Dockerfile still expands with a fiftieth of the budget: plenty of headroom
    monkeypatch.setattr(shell, "MAX_WORK", MAX_WORK // 50)
    for path in sorted((corpus / "real").glob("*.Dockerfile")):
        analyze(path.read_bytes())
    monkeypatch.setattr(shell, "MAX_WORK", 10_000)  # and the check does bite when it is small
    with pytest.raises(ExpansionTooLarge):
        analyze((corpus / "real" / "moby__moby__Dockerfile.Dockerfile").read_bytes())


def test_simple_references_expand_as_the_lexer_does():
    """Words of plain text and $name/${name} skip the lexer (shell._simple) with its text, its
    variables, its cost and its limits; anything else is left to the lexer."""
    from webapp import shell

    env = {"A": "one", "B_2": "", "é": "x", "LONG": "y" * 1000}
    words = [
        "$A",
        "${A}/x",
        "a$A$B_2${C}b",
        "$Aé",
        "${é}",
        "$1a",
        "$A$",
        "${A",
        "$A-${B_2}-$NOPE",
        "$LONG$LONG",
    ]
    used = 0
    for word in words:
        simple = shell._simple(word, env, None)
        used += simple is not None
        lexer = shell._Lexer(word, env, "\\", shell.Budget())
        try:
            text = lexer.until(None, raw_escapes=False)
        except shell.ExpansionError:
            assert simple is None
            continue
        if simple is None:
            assert not shell._REFERENCE.search(word) or "$" in shell._REFERENCE.sub("", word)
            continue
        cost = shell.MAX_WORK - lexer.budget.left
        assert simple == (text, lexer.looked, cost, lexer.matched, lexer.unmatched), word
    assert used == 7
    # a budget the references would overspend: the lexer raises, as before
    with shell.expansion_budget(limit=1500) as budget:
        shell.expand("$LONG", env)
        with pytest.raises(shell.ExpansionTooLarge):
            shell.expand("$LONG$A", env)
        assert budget.left < 0
    # a value over the size limit: the lexer's error
    big = {"V": "v" * (shell.MAX_VALUE_CHARS // 2 + 1)}
    with pytest.raises(shell.ExpansionTooLarge):
        shell.expand("$V$V", big)
