"""Lexer rules (BuildKit ``frontend/dockerfile/parser``), one test per rule.

Section 1 of ``docs/buildkit-semantics.md``. Cases are written for this project; where
they restate a rule that BuildKit's own parser tests check, the test name says which rule.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from webapp.lexer import extract_flags, heredocs_from_line, lex, parse_line, parse_words, split_lines
from webapp.model import Severity


def spans(text: str) -> list[tuple[str, int, int]]:
    return [(i.keyword, i.line, i.end_line) for i in lex(text).instructions]


def errors(text: str) -> list[tuple[str, int | None]]:
    return [(d.message, d.line) for d in lex(text).diagnostics if d.severity is Severity.ERROR]


def warnings(text: str) -> list[tuple[str, int | None]]:
    return [(d.code, d.line) for d in lex(text).diagnostics if d.severity is Severity.WARNING]


def only(text: str, keyword: str):
    found = [i for i in lex(text).instructions if i.keyword == keyword]
    assert len(found) == 1, found
    return found[0]


# --- 1.1 lines, BOM, CRLF -------------------------------------------------------------------------


def test_split_lines_on_lf_only_and_trims_cr():
    assert split_lines("a\r\nb\rc\nd") == ["a", "b\rc", "d"]


def test_crlf_file_has_same_spans_and_args_as_lf():
    lf = "FROM alpine\nRUN a \\\n  b\nCMD x\n"
    crlf = lf.replace("\n", "\r\n")
    assert spans(crlf) == spans(lf) == [("FROM", 1, 1), ("RUN", 2, 3), ("CMD", 4, 4)]
    assert only(crlf, "RUN").args == only(lf, "RUN").args == ("a   b",)


def test_bom_is_stripped_from_first_line():
    lexed = lex("\ufeffFROM alpine\n")
    assert [i.keyword for i in lexed.instructions] == ["FROM"]


def test_bom_before_directive_still_allows_the_directive():
    lexed = lex("\ufeff# escape=`\nFROM alpine\n")
    assert lexed.escape == "`"


def test_bom_on_a_later_line_is_not_stripped():
    # Only the first line loses its BOM; on line 2 it stays part of the keyword (unknown).
    keywords = [i.keyword for i in lex("FROM a\n\ufeffRUN x\n").instructions]
    assert keywords == ["FROM", "\ufeffRUN"]


# --- 1.2 directives -------------------------------------------------------------------------------


def test_directives_are_read_with_case_insensitive_keys_and_trimmed_values():
    lexed = lex("# syntax=docker/dockerfile:1\n#ESCAPE = `  \n# Check=skip=all\nFROM a\n")
    assert lexed.directives == (
        ("syntax", "docker/dockerfile:1", 1),
        ("escape", "`", 2),
        ("check", "skip=all", 3),
    )
    assert lexed.escape == "`"


def test_escape_directive_changes_the_continuation_token():
    text = "# escape=`\nFROM a\nRUN dir c:\\ `\n  && echo\n"
    assert spans(text)[1] == ("RUN", 3, 4)
    assert only(text, "RUN").args == ("dir c:\\   && echo",)


def test_trailing_backslash_is_literal_under_backtick_escape():
    text = "# escape=`\nFROM a\nWORKDIR C:\\\nRUN x\n"
    assert spans(text) == [("FROM", 2, 2), ("WORKDIR", 3, 3), ("RUN", 4, 4)]
    assert only(text, "WORKDIR").args == ("C:\\",)


def test_check_directive_before_escape_does_not_hide_escape():
    # dockerfile >= 1.8 knows `check`, so the escape directive after it still counts.
    assert lex("# check=skip=all\n# escape=`\nFROM a\n").escape == "`"


@pytest.mark.parametrize(
    "first",
    ["", "   ", "# a plain comment", "# unknown=1", "FROM a"],
    ids=["blank", "whitespace", "comment", "unknown-key", "instruction"],
)
def test_directive_after_non_directive_line_is_a_comment(first):
    lexed = lex(first + "\n# escape=`\nFROM b\n")
    assert lexed.escape == "\\"
    assert lexed.directives == ()


def test_duplicate_directive_is_an_error_at_the_line_before_it():
    # BuildKit (checked with the oracle) reports the repeated directive one line early.
    message = "only one escape parser directive can be used"
    assert errors("# escape=\\\n# escape=`\nFROM a\n") == [(message, 1)]
    assert errors("# syntax=a\n# SYNTAX=b\nFROM a\n") == [("only one syntax parser directive can be used", 1)]
    text = "# syntax=a\n# escape=`\n# syntax=b\nFROM a\n"
    assert errors(text) == [("only one syntax parser directive can be used", 2)]


def test_invalid_escape_value_is_an_error_and_keeps_backslash():
    lexed = lex("# escape=x\nFROM a\n")
    assert lexed.escape == "\\"
    # BuildKit places it on the line before the directive: 0 for the first line.
    assert [d.line for d in lexed.diagnostics if d.severity is Severity.ERROR] == [0]
    message = "invalid escape token 'x' does not match ` or \\"
    assert errors("# syntax=a\n# escape=x\nFROM a\n") == [(message, 1)]


def test_indented_directive_is_still_a_directive():
    assert lex("   # escape=`\nFROM a\n").escape == "`"


# --- 1.3 comments ---------------------------------------------------------------------------------


def test_comment_lines_and_blank_lines_are_not_instructions():
    assert spans("# c\n\n   # indented\nFROM a\n\n# end\n") == [("FROM", 4, 4)]


def test_no_trailing_comments():
    assert only("FROM a\nRUN echo hi # not a comment\n", "RUN").args == ("echo hi # not a comment",)


def test_file_with_only_comments_is_an_error():
    assert errors("# nothing\n\n# here\n") == [("file with no instructions", 3)]
    assert errors("\n") == [("file with no instructions", 1)]
    assert errors("") == [("the Dockerfile cannot be empty", None)]


# --- 1.4 continuation -----------------------------------------------------------------------------


def test_continuation_joins_lines_verbatim_after_the_first():
    # The first physical line is left-trimmed, continuation lines keep their indentation.
    ins = only("FROM a\n   RUN a \\\n    b \\\n\tc\n", "RUN")
    assert (ins.line, ins.end_line) == (2, 4)
    assert ins.rest == "a     b \tc"


def test_comment_lines_inside_continuation_are_skipped():
    ins = only("FROM a\nRUN a \\\n# gone\n  # gone too\n  b\n", "RUN")
    assert ins.args == ("a   b",)
    assert (ins.line, ins.end_line) == (2, 5)


def test_blank_lines_inside_continuation_are_skipped_with_warning():
    text = "FROM a\nRUN a \\\n\n   \n b\nCMD c\n"
    assert spans(text) == [("FROM", 1, 1), ("RUN", 2, 5), ("CMD", 6, 6)]
    assert only(text, "RUN").args == ("a  b",)
    # BuildKit warns once per instruction, at the line its continuation ends (webapp/checks.py
    # reports it; the lexer records where).
    assert lex(text).empty_continuations == (5,)
    assert warnings(text) == []


def test_comment_line_inside_continuation_gives_no_empty_continuation_warning():
    assert warnings("FROM a\nRUN a \\\n# c\n b\n") == []


def test_double_backslash_at_end_is_not_a_continuation():
    assert spans("FROM a\nRUN foo \\\\\nRUN bar\n") == [("FROM", 1, 1), ("RUN", 2, 2), ("RUN", 3, 3)]


def test_spaces_after_escape_token_still_continue():
    assert spans("FROM a\nRUN a \\ \t\n b\n")[1] == ("RUN", 2, 3)


def test_line_that_is_only_the_escape_token_continues():
    assert spans("FROM a\nRUN a \\\n\\\n b\n")[1] == ("RUN", 2, 4)


def test_file_ending_inside_continuation_keeps_the_instruction():
    assert spans("FROM a\nRUN foo \\") == [("FROM", 1, 1), ("RUN", 2, 2)]
    assert spans("FROM a\nRUN foo \\\n  bar \\\n") == [("FROM", 1, 1), ("RUN", 2, 3)]
    assert only("FROM a\nRUN foo \\\n  bar \\\n", "RUN").args == ("foo   bar",)


def test_span_includes_trailing_skipped_comment_lines_before_the_last_part():
    text = "FROM a\nRUN a \\\n# c1\n\n# c2\n  b\nRUN z\n"
    assert spans(text) == [("FROM", 1, 1), ("RUN", 2, 6), ("RUN", 7, 7)]


# --- 1.5 instruction split ------------------------------------------------------------------------


def test_keyword_is_case_insensitive_and_upper_cased():
    assert [i.keyword for i in lex("from a\nRun x\ncOpY a b\n").instructions] == ["FROM", "RUN", "COPY"]


def test_unknown_keywords_are_kept():
    assert spans("FROM a\nFORM b\n") == [("FROM", 1, 1), ("FORM", 2, 2)]


def test_split_on_tab_and_other_blanks():
    assert parse_line("RUN\tx", "\\").args == ("x",)
    assert parse_line("FROM\x0balpine", "\\").args == ("alpine",)


@pytest.mark.parametrize("blank", ["\xa0", "\x1c", "\u2003"])
def test_only_buildkit_blanks_split_words_in_a_file(blank):
    # lex splits with str.split only when the text holds no other blank: these stay in the word
    ins = lex(f"FROM a{blank}b c\nCOPY d{blank}e f\nFROM\tg\n").instructions
    assert [i.args for i in ins] == [(f"a{blank}b", "c"), (f"d{blank}e", "f"), ("g",)]
    assert lex(f"RUN{blank}x\n").instructions[0].keyword == f"RUN{blank}X"


# --- 1.6 flags ------------------------------------------------------------------------------------


def test_flag_quotes_are_removed():
    ins = parse_line("COPY --from=\"my stage\" --chown='a b' src dst", "\\")
    assert ins.flags == (("from", "my stage"), ("chown", "a b"))
    assert ins.args == ("src", "dst")


def test_escape_token_escapes_inside_flags():
    assert parse_line("COPY --chown=a\\ b src dst", "\\").flags == (("chown", "a b"),)
    assert parse_line("COPY --chown=a` b src dst", "`").flags == (("chown", "a b"),)
    # With backtick escape a backslash in a flag is literal (HEAD uses the directive's token).
    assert parse_line("COPY --chown=a\\b src dst", "`").flags == (("chown", "a\\b"),)


def test_double_dash_ends_flags_and_is_dropped():
    ins = parse_line("COPY --link -- --not-a-flag dst", "\\")
    assert ins.flags == (("link", None),)
    assert ins.args == ("--not-a-flag", "dst")


def test_first_word_without_double_dash_ends_flags():
    ins = parse_line("COPY --link src --from=x dst", "\\")
    assert ins.flags == (("link", None),)
    assert ins.args == ("src", "--from=x", "dst")


@pytest.mark.parametrize("keyword", ["USER", "WORKDIR", "ENV", "EXPOSE", "CMD", "LABEL", "ARG", "VOLUME"])
def test_flags_are_extracted_for_every_instruction(keyword):
    ins = parse_line(f"{keyword} --x=1 --y value=1", "\\")
    assert ins.flags == (("x", "1"), ("y", None))
    assert "--x" not in ins.rest


def test_empty_quoted_flag_value_is_kept():
    assert extract_flags('--from="" a b', "\\") == ("a b", ["--from="])


def test_flags_only_line():
    assert extract_flags("--link --from=x", "\\") == ("", ["--link", "--from=x"])


# --- 1.7 argument parsing -------------------------------------------------------------------------


def test_json_form_for_run_cmd_entrypoint_shell():
    for keyword in ("RUN", "CMD", "ENTRYPOINT", "SHELL"):
        ins = parse_line(f'{keyword} ["a", "b c"]', "\\")
        assert ins.json and ins.args == ("a", "b c"), keyword


def test_json_with_non_string_item_is_an_error():
    assert errors('FROM a\nCMD ["a", 1]\n') == [
        ("when using JSON array syntax, arrays must be comprised of strings only", 2)
    ]


def test_json_with_trailing_text_is_shell_form_with_a_warning():
    text = 'FROM a\nCMD ["a"] b\n'
    ins = only(text, "CMD")
    assert not ins.json and ins.args == ('["a"] b',)
    assert warnings(text) == [("json-with-tail", 2)]


@pytest.mark.parametrize("rest", ["['a']", '["a"', '["a]', "[not json]", '{"a": 1}'])
def test_invalid_json_is_shell_form(rest):
    ins = parse_line("CMD " + rest, "\\")
    assert not ins.json and ins.args == (rest,)
    assert errors(f"FROM a\nCMD {rest}\n") == []


def test_copy_whitespace_split_keeps_quotes():
    assert parse_line('COPY "a b" /x', "\\").args == ('"a', 'b"', "/x")


def test_copy_json_form():
    ins = parse_line('COPY ["a b", "/x"]', "\\")
    assert ins.json and ins.args == ("a b", "/x")


def test_whole_string_instructions():
    assert parse_line("USER  bob  smith", "\\").args == ("bob  smith",)
    assert parse_line("WORKDIR /a b", "\\").args == ("/a b",)


def test_env_name_value_form_keeps_quotes_and_adds_separator():
    assert parse_line('ENV A=1 B="x y"', "\\").args == ("A", "1", "=", "B", '"x y"', "=")


def test_env_legacy_form_takes_the_rest_of_the_line():
    assert parse_line("ENV A b  c", "\\").args == ("A", "b  c", "")


def test_env_mixed_forms_are_an_error():
    assert errors("FROM a\nENV A=1 B\n") == [
        ('Syntax error - can\'t find = in "B". Must be of the form: name=value', 2)
    ]


def test_env_legacy_without_value_is_an_error():
    assert errors("FROM a\nENV A\n") == [("ENV must have two arguments", 2)]
    assert errors("FROM a\nLABEL A\n") == [("LABEL must have two arguments", 2)]


def test_arg_words_keep_quotes():
    assert parse_line('ARG a="b c" d', "\\").args == ('a="b c"', "d")


def test_parse_words_keeps_escapes_and_quotes():
    assert parse_words('a\\ b \'c d\' "e\\" f"', "\\") == ["a\\ b", "'c d'", '"e\\" f"']


@pytest.mark.parametrize(
    ("rest", "escape", "words"),
    [
        ('a="x y" b', "\\", ['a="x y"', "b"]),
        ('"" x', "\\", ['""', "x"]),  # an empty quoted word is a word
        ('a="b\\" c" d', "\\", ['a="b\\" c"', "d"]),
        ('a="b\\', "\\", ['a="b']),  # an escape that ends the text is dropped, in quotes too
        ("a='b\\' c", "\\", ["a='b\\'", "c"]),  # no escape in single quotes
        ('a="unterminated x', "\\", ['a="unterminated x']),
        ("x\\", "\\", ["x"]),
        ('a="b`" c"', "`", ['a="b`" c"']),
        ("a=\\ b", "`", ["a=\\", "b"]),
        ('k="v""w" z', "\\", ['k="v""w"', "z"]),
    ],
)
def test_parse_words_quotes_and_escapes_at_the_edges(rest, escape, words):
    # BuildKit's parseWords, read a run of plain characters at a time
    assert parse_words(rest, escape) == words


def test_healthcheck_type_then_command():
    ins = parse_line('HEALTHCHECK --interval=5s CMD ["curl", "x"]', "\\")
    assert ins.flags == (("interval", "5s"),)
    assert ins.args == ("CMD", "curl", "x") and ins.json


def test_onbuild_sub_instruction_has_its_own_flags():
    ins = only("FROM a\nONBUILD COPY --from=build /a /b\n", "ONBUILD")
    assert ins.flags == ()
    assert ins.sub is not None
    assert (ins.sub.keyword, ins.sub.flags, ins.sub.args) == ("COPY", (("from", "build"),), ("/a", "/b"))
    assert ins.label == "ONBUILD COPY"


# --- 1.8 heredocs ---------------------------------------------------------------------------------


def test_heredoc_body_is_part_of_the_instruction_span():
    text = "FROM a\nRUN <<EOF\nFROM not-an-instruction\nEOF\nCMD x\n"
    assert spans(text) == [("FROM", 1, 1), ("RUN", 2, 4), ("CMD", 5, 5)]
    doc = only(text, "RUN").heredocs[0]
    assert (doc.name, doc.body, doc.expand, doc.chomp) == ("EOF", "FROM not-an-instruction\n", True, False)


def test_heredoc_body_lines_are_raw():
    # No comments, no continuation, no directives inside a body.
    text = "FROM a\nRUN <<EOF\n# escape=`\nline \\\n\nEOF\n"
    assert only(text, "RUN").heredocs[0].body == "# escape=`\nline \\\n\n"
    assert spans(text) == [("FROM", 1, 1), ("RUN", 2, 6)]


def test_chomp_heredoc_strips_leading_tabs_and_matches_indented_terminator():
    doc = only("FROM a\nRUN <<-EOF\n\t\tx\n\ty\n\tEOF\n", "RUN").heredocs[0]
    assert doc.chomp and doc.body == "x\ny\n"


def test_plain_heredoc_does_not_match_an_indented_terminator():
    text = "FROM a\nRUN <<EOF\n\tEOF\nEOF\n"
    assert spans(text)[1] == ("RUN", 2, 4)


@pytest.mark.parametrize("name", ["'EOF'", '"EOF"', "E'O'F", '"E"OF'])
def test_quoted_heredoc_name_disables_expansion(name):
    doc = only(f"FROM a\nRUN <<{name}\n$x\nEOF\n", "RUN").heredocs[0]
    assert doc.name == "EOF" and doc.expand is False


def test_several_heredocs_on_one_line_read_in_order():
    text = "FROM a\nCOPY <<one <<two /dst/\n1\none\n2\ntwo\nRUN x\n"
    ins = only(text, "COPY")
    assert [(h.name, h.body) for h in ins.heredocs] == [("one", "1\n"), ("two", "2\n")]
    assert (ins.line, ins.end_line) == (2, 6)


def test_heredoc_with_fd_number():
    assert heredocs_from_line("RUN 3<<EOF cat") == [("EOF", False, True)]


def test_heredoc_with_space_after_operator_head():
    # dockerfile >= 1.16 accepts `<< EOF`.
    text = "FROM a\nRUN << EOF\nFROM x\nEOF\n"
    assert spans(text) == [("FROM", 1, 1), ("RUN", 2, 4)]


def test_heredoc_inside_quotes_is_not_a_heredoc():
    assert spans('FROM a\nRUN "<<EOF"\nRUN x\n') == [("FROM", 1, 1), ("RUN", 2, 2), ("RUN", 3, 3)]
    assert spans("FROM a\nRUN echo '<<EOF'\nRUN x\n")[1:] == [("RUN", 2, 2), ("RUN", 3, 3)]


def test_unterminated_heredoc_is_an_error():
    assert errors("FROM a\nRUN <<EOF\nnever ends\n") == [("unterminated heredoc", 2)]


@pytest.mark.parametrize("keyword", ["USER", "CMD", "ENV", "LABEL", "WORKDIR", "ENTRYPOINT"])
def test_heredocs_only_for_run_copy_add(keyword):
    expected = [(keyword, 2, 2), ("RUN", 3, 3), ("EOF", 4, 4)]
    assert spans(f"FROM a\n{keyword} <<EOF\nRUN x\nEOF\n")[1:] == expected


def test_heredoc_never_in_json_form():
    assert spans('FROM a\nRUN ["<<EOF"]\nRUN x\nEOF\n')[1:3] == [("RUN", 2, 2), ("RUN", 3, 3)]


def test_onbuild_run_heredoc_is_read():
    text = "FROM a\nONBUILD RUN <<EOF\nFROM x\nEOF\nCMD y\n"
    assert spans(text) == [("FROM", 1, 1), ("ONBUILD", 2, 4), ("CMD", 5, 5)]
    assert only(text, "ONBUILD").sub.heredocs[0].body == "FROM x\n"


def test_onbuild_of_a_non_heredoc_instruction_reads_no_body():
    assert spans("FROM a\nONBUILD USER <<EOF\nRUN x\n")[1:] == [("ONBUILD", 2, 2), ("RUN", 3, 3)]


def test_heredoc_after_continuation():
    text = "FROM a\nRUN cat \\\n  <<EOF\nbody\nEOF\nCMD z\n"
    assert spans(text) == [("FROM", 1, 1), ("RUN", 2, 5), ("CMD", 6, 6)]


def test_heredoc_terminator_in_crlf_file():
    text = "FROM a\r\nRUN <<EOF\r\nx\r\nEOF\r\nCMD y\r\n"
    assert spans(text) == [("FROM", 1, 1), ("RUN", 2, 4), ("CMD", 5, 5)]


# --- source text ----------------------------------------------------------------------------------


def test_source_holds_every_physical_line():
    ins = only("FROM a\nRUN a \\\n# c\n  b\n", "RUN")
    assert ins.source == "RUN a \\\n# c\n  b"


def test_line_count():
    assert lex("FROM a\n\n# x\n").line_count == 3


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(
                ["--a", "--b=1", "--", "-x", "x", "--link", "--from=a\u00a0b", "--c=\u2003", "y"]
            ),
            st.sampled_from([" ", "  ", "\t", "\u2003", "\x1c", "\n"]),
        ),
        max_size=6,
    )
)
def test_extract_flags_fast_paths_match_the_state_machine(parts):
    """Flags without quotes or escapes are read a word at a time; the answer is the state machine's."""
    from webapp.lexer import _extract_flags_slow, extract_flags

    line = "".join(word + space for word, space in parts)
    assert extract_flags(line, "\\") == _extract_flags_slow(line, "\\")
