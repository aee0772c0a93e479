"""BuildKit's build checks (webapp/checks.py), each rule against BuildKit itself.

``tests/data/checks/<Rule>.Dockerfile`` asks one rule's questions (cases that warn and cases that
do not, side by side) and ``<Rule>-ok.Dockerfile`` holds only cases it must not warn on; the
``.json`` beside each is what BuildKit's own ``--check`` reported (the team's oracle, BuildKit
73ed6825). Every rule is compared line by line and word for word, in both directions. Other probe
files cover the settings (``check-*``), ONBUILD triggers, Windows, ``--target`` and where an error
stops the checks (``gate-*``, ``error-with-target``).
"""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest
from conftest import DATA, ROOT

from webapp import analyze
from webapp.checks import (
    BUILDKIT_RULE_NAMES,
    NOT_CHECKED,
    RULES,
    CheckOptionError,
    Settings,
    comment_settings,
    parse_settings,
    suggest,
)
from webapp.model import Severity

PROBES = DATA / "checks"
RULE_NAMES = [rule.name for rule in RULES]


def oracle(name: str) -> dict:
    return json.loads((PROBES / f"{name}.json").read_text(encoding="utf-8"))


def ours(name: str):
    out = oracle(name)
    return analyze(
        (PROBES / out["file"]).read_bytes(),
        target=out.get("target") or None,
        build_args=out.get("build_args") or {},
        platform=out.get("platform") or None,
    )


def their_warnings(name: str, rule: str | None = None) -> Counter:
    return Counter(
        (w["rule"], w["ranges"][0]["start"], w["detail"])
        for w in oracle(name)["lint"]
        if rule is None or w["rule"] == rule
    )


def our_warnings(name: str, rule: str | None = None) -> Counter:
    return Counter(
        (d.code, d.line, d.message)
        for d in ours(name).diagnostics
        if d.code in BUILDKIT_RULE_NAMES and (rule is None or d.code == rule)
    )


# -- one test per rule ------------------------------------------------------------------------------


@pytest.mark.parametrize("rule", RULE_NAMES)
def test_rule_warns_where_buildkit_warns(rule):
    """Positive: the rule's probe gives BuildKit's warnings of that rule, lines and words."""
    want = their_warnings(rule, rule)
    assert want, f"the probe for {rule} should make BuildKit warn"
    assert our_warnings(rule, rule) == want


@pytest.mark.parametrize("rule", RULE_NAMES)
def test_rule_is_silent_where_buildkit_is(rule):
    """Negative: near-miss cases BuildKit does not flag, and neither do we."""
    name = f"{rule}-ok"
    assert not their_warnings(name, rule)
    assert not our_warnings(name, rule)
    assert our_warnings(name) == their_warnings(name)


PROBE_NAMES = sorted(p.stem for p in PROBES.glob("*.json"))


@pytest.mark.parametrize("name", PROBE_NAMES)
def test_every_probe_matches_buildkit_as_a_whole(name):
    """All warnings of every rule in every probe, and whether the build fails."""
    assert our_warnings(name) == their_warnings(name)
    failed = bool(oracle(name)["build"]["error"])
    assert ours(name).has_errors == failed


def test_every_rule_has_both_probes():
    for rule in RULE_NAMES:
        assert (PROBES / f"{rule}.Dockerfile").is_file(), rule
        assert (PROBES / f"{rule}-ok.Dockerfile").is_file(), rule


# -- the data: names, links, and which codes are BuildKit's -----------------------------------------


def test_rule_urls_follow_buildkits_pattern():
    by_name = {rule.name: rule.url for rule in RULES}
    assert (
        by_name["JSONArgsRecommended"] == "https://docs.docker.com/go/dockerfile/rule/json-args-recommended/"
    )
    assert by_name["FromAsCasing"] == "https://docs.docker.com/go/dockerfile/rule/from-as-casing/"
    assert by_name["UndefinedVar"] == "https://docs.docker.com/go/dockerfile/rule/undefined-var/"
    for rule in RULES:
        assert re.fullmatch(r"https://docs\.docker\.com/go/dockerfile/rule/[a-z]+(-[a-z]+)*/", rule.url)


def test_rules_and_not_checked_cover_buildkits_ruleset():
    # The 22 rules of frontend/dockerfile/linter/ruleset.go at BuildKit 73ed6825.
    assert len(BUILDKIT_RULE_NAMES) == 22
    assert not set(RULE_NAMES) & set(NOT_CHECKED)
    assert len(RULE_NAMES) == len(set(RULE_NAMES))


def test_diagnostics_of_buildkit_rules_carry_the_rule_link():
    graph = ours("LegacyKeyValueFormat")
    found = [d for d in graph.diagnostics if d.code == "LegacyKeyValueFormat"]
    assert found and all(d.url.endswith("/legacy-key-value-format/") for d in found)
    assert found[0].to_dict()["url"] == found[0].url


def _own_codes() -> set[str]:
    """Every diagnostic code our analysis gives on the corpus and the probes."""
    codes = set()
    for path in sorted((DATA / "corpus").rglob("*Dockerfile")) + sorted(PROBES.glob("*.Dockerfile")):
        try:
            graph = analyze(path.read_bytes())
        except Exception:  # noqa: BLE001 - unreadable inputs have no diagnostics to look at
            continue
        codes |= {(d.code, d.url is not None) for d in graph.diagnostics}
    return codes


def test_only_the_rules_use_buildkit_rule_names():
    """A BuildKit rule name as code always comes from webapp/checks.py (with its link)."""
    for code, has_url in _own_codes():
        if code in BUILDKIT_RULE_NAMES:
            assert has_url, code
    sources = [p for p in (ROOT / "webapp").rglob("*.py") if p.name != "checks.py"]
    for path in sources:
        text = path.read_text(encoding="utf-8")
        for name in BUILDKIT_RULE_NAMES:
            assert f'"{name}"' not in text, f"{path.name} emits {name}; BuildKit's rules live in checks.py"


# -- settings: the directive, the build arg, comments ----------------------------------------------


def test_parse_settings_reads_buildkits_syntax():
    s = parse_settings(" skip = JSONArgsRecommended, StageNameCasing ; error=true")
    assert s.skip == {"JSONArgsRecommended", "StageNameCasing"} and s.error
    assert parse_settings("skip=all").skip_all
    assert parse_settings("experimental=all").experimental_all
    assert parse_settings("error=0") == Settings()
    assert parse_settings("") == Settings()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("skip", 'invalid check option "skip"'),
        ("skip=a;bogus=1", 'invalid check option "bogus"'),
        ("error=maybe", 'failed to parse check option "error=maybe"'),
    ],
)
def test_parse_settings_refuses_what_buildkit_refuses(text, message):
    with pytest.raises(CheckOptionError, match=re.escape(message)):
        parse_settings(text)


def test_check_directive_error_true_fails_the_build():
    graph = ours("check-error")
    errors = [d for d in graph.diagnostics if d.severity is Severity.ERROR]
    assert len(errors) == 1
    assert errors[0].message.startswith("lint violation found for rules: ")
    assert set(errors[0].message.split(": ", 1)[1].split(", ")) == {
        "LegacyKeyValueFormat",
        "JSONArgsRecommended",
    }
    assert errors[0].code not in BUILDKIT_RULE_NAMES
    assert oracle("check-error")["build"]["error"]["message"].startswith("lint violation found for rules: ")
    assert not ours("check-error-clean").has_errors


def test_bad_check_directive_fails_the_build():
    for name in ("check-bad", "check-bad-error"):
        graph = ours(name)
        want = oracle(name)["build"]["error"]["message"]
        assert [d.message for d in graph.diagnostics if d.severity is Severity.ERROR] == [want]


BUILD_ARG_FILE = "# check=skip=JSONArgsRecommended\nFROM alpine AS Build\nCMD echo a\nENV A 1\n"


def test_build_arg_replaces_the_directive():
    """``BUILDKIT_DOCKERFILE_CHECK`` replaces the directive's settings (dockerui reads it into the
    linter config, which then wins over the directive). The oracle does not apply build-arg
    settings, so this follows BuildKit's source (frontend/dockerui/config.go)."""

    def codes(**build_args):
        return {d.code for d in analyze(BUILD_ARG_FILE, build_args=build_args).diagnostics}

    assert "JSONArgsRecommended" not in codes()
    replaced = codes(BUILDKIT_DOCKERFILE_CHECK="skip=LegacyKeyValueFormat")
    assert "JSONArgsRecommended" in replaced and "LegacyKeyValueFormat" not in replaced
    failing = analyze(BUILD_ARG_FILE, build_args={"BUILDKIT_DOCKERFILE_CHECK": "error=true"})
    assert failing.has_errors
    bad = analyze(BUILD_ARG_FILE, build_args={"BUILDKIT_DOCKERFILE_CHECK": "nope"})
    assert [d.message for d in bad.diagnostics if d.severity is Severity.ERROR] == [
        'failed to parse build-arg:BUILDKIT_DOCKERFILE_CHECK: invalid check option "nope"'
    ]


def test_check_comment_above_an_instruction_skips_for_it_only():
    """A ``# check=skip=...`` comment right above an instruction applies to that instruction
    (BuildKit merges its PrevComment settings). The oracle cannot answer this one: BuildKit's
    ``--call=targets`` crashes on such comments, so this follows its source (linter.go)."""
    graph = analyze((PROBES / "check-comment.Dockerfile").read_bytes())
    found = {(d.code, d.line) for d in graph.diagnostics if d.code in BUILDKIT_RULE_NAMES}
    assert found == {("LegacyKeyValueFormat", 4)}


def test_comment_settings_take_the_first_check_comment_up_to_a_space():
    assert comment_settings(["words", "check=skip=A trailing words"]).skip == {"A"}
    assert comment_settings(["nothing here"]) is None
    assert comment_settings(["check=bogus"]) is None


def test_experimental_rules_run_only_when_asked():
    text = "# this comment describes nothing\nARG VERSION=1\nFROM alpine\n"
    assert not [d for d in analyze(text).diagnostics if d.code == "InvalidDefinitionDescription"]
    asked = "# check=experimental=all\n\n" + text
    assert [d.line for d in analyze(asked).diagnostics if d.code == "InvalidDefinitionDescription"] == [4]


def test_suggest_picks_the_closest_name_within_two_edits():
    assert suggest("VERSON", ["VERSION", "OTHER"]) == "VERSION"
    assert suggest("PAHT", ["PATH"]) == "PATH"
    assert suggest("COMPLETELY", ["PATH"]) == ""
    assert suggest("PATH", ["PATH", "PATHS"]) == ""


def test_undefined_var_below_an_image_is_a_note():
    """Without pulling the base image we cannot know its variables: below an image the finding is
    ``info`` (BuildKit's message kept); below scratch it is a warning."""
    text = "FROM alpine\nCOPY $GOPATH /x\nFROM scratch\nCOPY $GOPATH /x\n"
    found = {(d.line, d.severity) for d in analyze(text).diagnostics if d.code == "UndefinedVar"}
    assert found == {(2, Severity.INFO), (4, Severity.WARNING)}


def test_undefined_var_in_words_the_source_does_not_spell():
    """A JSON string can spell ``$`` as ``\\u0024`` and a flag value holds one after the keyword:
    both are expanded and reported (as BuildKit's check does), whatever shortcut skips words."""
    text = 'FROM alpine\nCOPY ["\\u0024FOO", "/x"]\nRUN --mount=type=bind,target=/m$BAR true\nRUN echo\n'
    found = [(d.line, d.message) for d in analyze(text).diagnostics if d.code == "UndefinedVar"]
    assert found == [(2, "Usage of undefined variable '$FOO'"), (3, "Usage of undefined variable '$BAR'")]


# -- the documentation lists the rules --------------------------------------------------------------


def test_docs_table_is_the_rule_table():
    from webapp.checks import markdown_table

    assert markdown_table() in (ROOT / "docs" / "checks.md").read_text(encoding="utf-8")


def test_readme_lists_every_rule():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in RULE_NAMES:
        assert f"`{name}`" in readme, name


# -- where people look: the JSON and the command line ------------------------------------------------

WARNS = "FROM alpine\nCMD echo hi\n"
NOTE_ONLY = 'FROM alpine AS unused\nFROM alpine\nCMD ["true"]\n'


def test_json_carries_code_line_message_and_url(tmp_path, capsys):
    from webapp.cli import main

    path = tmp_path / "Dockerfile"
    path.write_text(WARNS)
    assert main(["render", str(path)]) == 0
    found = [
        d for d in json.loads(capsys.readouterr().out)["diagnostics"] if d["code"] == "JSONArgsRecommended"
    ]
    assert found == [
        {
            "severity": "warning",
            "code": "JSONArgsRecommended",
            "message": "JSON arguments recommended for CMD to prevent unintended behavior related to OS "
            "signals",
            "line": 2,
            "stage": 0,
            "url": "https://docs.docker.com/go/dockerfile/rule/json-args-recommended/",
        }
    ]


@pytest.mark.parametrize(
    ("text", "fail_on", "status"),
    [
        (WARNS, None, 0),
        (WARNS, "error", 0),
        (WARNS, "warning", 1),
        (NOTE_ONLY, "warning", 0),
        ("FROM alpine\nCOPY --from=7 /x /y\n", "error", 1),
    ],
)
def test_fail_on_warning_fails_like_docker_build_check(tmp_path, capsys, text, fail_on, status):
    from webapp.cli import main

    path = tmp_path / "Dockerfile"
    path.write_text(text)
    argv = ["render", str(path)] + (["--fail-on", fail_on] if fail_on else [])
    assert main(argv) == status
    assert json.loads(capsys.readouterr().out)["stages"]


def test_fail_on_refuses_other_levels(tmp_path, capsys):
    from webapp.cli import main

    path = tmp_path / "Dockerfile"
    path.write_text(WARNS)
    assert main(["render", str(path), "--fail-on", "info"]) == 2
    assert "--fail-on" in capsys.readouterr().err


def test_a_check_warning_marks_its_stage_and_edge_in_the_drawing():
    from webapp.render import to_dot

    text = "FROM alpine AS src\nFROM scratch\nCOPY --from=src $UNSET /y\n"
    graph = analyze(text)
    found = [(d.code, d.line, d.severity) for d in graph.diagnostics if d.code == "UndefinedVar"]
    assert found == [("UndefinedVar", 3, Severity.WARNING)]
    dot = to_dot(graph)
    stage = next(line for line in dot.splitlines() if line.strip().startswith('"stage-1"'))
    edge = next(line for line in dot.splitlines() if line.strip().startswith('"stage-0" -> "stage-1"'))
    assert "warning" in stage and "warning" in edge
    clean = to_dot(analyze("FROM alpine AS src\nFROM scratch\nCOPY --from=src /x /y\n"))
    assert "warning" not in next(line for line in clean.splitlines() if line.strip().startswith('"stage-1"'))


def test_the_page_without_javascript_links_the_rule():
    from webapp.web import create_app

    client = create_app({"MAX_INPUT_BYTES": 64 * 1024}).test_client()
    html = client.post("/", data={"dockerfile": "FROM alpine\nENV A 1\n"}).get_data(as_text=True)
    assert (
        '<a class="diag-code" href="https://docs.docker.com/go/dockerfile/rule/legacy-key-value-format/" '
        'target="_blank" rel="noopener noreferrer">LegacyKeyValueFormat</a>'
    ) in html


def test_rules_read_only_the_steps_that_are_kept():
    from webapp.checks import _STEP_KEYWORDS, _dispatch

    # steps of other keywords are not made (unless they use an undefined variable): a rule that
    # asked for them would find none, so it is refused instead
    assert "RUN" not in _STEP_KEYWORDS
    with pytest.raises(ValueError, match="_STEP_KEYWORDS"):
        _dispatch(None, "RUN")
