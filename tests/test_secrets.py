"""The likely-secret scan run before sharing, its redaction, and POST /api/secrets."""

from __future__ import annotations

import re
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from webapp import secrets
from webapp.secrets import REDACTED, redact, scan
from webapp.web import create_app


def rules(text: str) -> list[str]:
    return [f.rule for f in scan(text)]


@pytest.mark.parametrize(
    ("line", "rule"),
    [
        ("ENV API_KEY=abc123", "env-secret"),
        ("ENV db_password=hunter2", "env-secret"),
        ("ARG GITHUB_TOKEN=abc", "env-secret"),
        ("ARG CLIENT_SECRET='s3cr3t value'", "env-secret"),
        ('ENV A=1 SECRET_KEY="x y z"', "env-secret"),
        ("ENV DB_PASSWORD hunter 2", "env-secret"),
        ("RUN aws configure set aws_access_key_id AKIAIOSFODNN7EXAMPLE", "aws-access-key"),
        ("RUN git clone https://ghp_abcdefghijklmnopqrstuvwxyz0123456789@github.com/o/r", "github-token"),
        ("ENV X=glpat-abcdefghijklmnopqrst", "gitlab-token"),
        ("RUN curl -d token=xoxb-1234567890-abcdef https://slack.com/api", "slack-token"),
        ("RUN pip install --index-url https://bob:pa55w0rd@pypi.example.com/simple x", "url-password"),
        ("-----BEGIN OPENSSH PRIVATE KEY-----", "private-key"),
    ],
)
def test_finds(line, rule):
    assert rule in rules(f"FROM alpine\n{line}\n")


@pytest.mark.parametrize(
    "line",
    [
        "ARG GITHUB_TOKEN",
        "ARG NPM_TOKEN=$NPM_TOKEN",
        "ENV API_KEY=${API_KEY}",
        'ENV API_KEY=""',
        "ENV PATH=/usr/local/bin:$PATH",
        "RUN --mount=type=secret,id=npm_token npm ci",
        "RUN curl https://example.com/keys.txt",
        "COPY --from=build /keyring /etc/apt/keyrings",
        "RUN echo AKIA-not-a-key",
    ],
)
def test_leaves_alone(line):
    assert rules(f"FROM alpine\n{line}\n") == []


def test_continued_env_lines():
    text = "FROM alpine\nENV A=1 \\\n    API_TOKEN=abc \\\n    B=2\nRUN echo API_TOKEN=not-env\n"
    found = scan(text)
    assert [(f.rule, f.line) for f in found] == [("env-secret", 3)]


def test_private_key_block_is_found_and_redacted():
    text = (
        "FROM alpine\nRUN cat > /k <<EOF\n-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\nabcdef\n"
        "-----END RSA PRIVATE KEY-----\nEOF\n"
    )
    out = redact(text)
    assert "MIIEowIBAAKCAQEA" not in out and "abcdef" not in out
    assert "-----END RSA PRIVATE KEY-----" in out


def test_redaction_replaces_only_values():
    text = (
        'FROM alpine\nENV API_KEY=abc123 OTHER=1\nENV DB_PASSWORD="hunter 2"\n'
        "RUN git clone https://bob:pw123@example.com/x.git\n"
    )
    out = redact(text)
    assert out == (
        f'FROM alpine\nENV API_KEY={REDACTED} OTHER=1\nENV DB_PASSWORD="{REDACTED}"\n'
        f"RUN git clone https://bob:{REDACTED}@example.com/x.git\n"
    )
    assert scan(out) == [], "a redacted file scans clean, so sharing it does not ask again"


def test_messages_never_repeat_the_secret():
    for f in scan("FROM a\nENV API_KEY=supersecretvalue\nRUN echo AKIAIOSFODNN7EXAMPLE\n"):
        assert "supersecretvalue" not in f.message and "AKIA" not in f.message


def test_api_secrets(tmp_path):
    client = create_app({"DATABASE": str(tmp_path / "s.db")}).test_client()
    response = client.post("/api/secrets", json={"dockerfile": "FROM alpine\nENV API_KEY=abc\n"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["findings"] == [
        {"rule": "env-secret", "message": "API_KEY looks like a secret", "line": 2, "start": 12, "end": 15}
    ]
    assert body["redacted"] == f"FROM alpine\nENV API_KEY={REDACTED}\n"
    clean = client.post("/api/secrets", json={"dockerfile": "FROM alpine\n"}).get_json()
    assert clean == {"findings": [], "redacted": "FROM alpine\n"}


# --- every rule is linear in the line ---------------------------------------------------------------

# The rules as first written, with backtracking that grows with the square or cube of a line's
# length. On short lines they are the reference: the linear rules must find exactly the same.
OLD_PAIR = re.compile(r"""([A-Za-z_][A-Za-z0-9_.-]*)=("(?:[^"\\]|\\.)*"|'[^']*'|(?:[^\s\\]|\\.)*)""")
OLD_LEGACY = re.compile(r"(?i)^\s*ENV\s+([A-Za-z_][A-Za-z0-9_.-]*)\s+(?!\S*=)(\S.*?)\s*\\?\s*$")
OLD_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@'\"]+:([^/\s@'\"]+)@")


def old_spans(line: str) -> list[tuple[str, int, int]]:
    out = []
    legacy = OLD_LEGACY.match(line)
    if legacy:
        out.append(("legacy", legacy.start(2), legacy.end(2)))
    head = re.match(r"(?i)^\s*(ENV|ARG)\s+", line)
    for match in OLD_PAIR.finditer(line, head.end() if head else 0):
        out.append(("pair", match.start(2), match.end(2)))
    out += [("url", m.start(1), m.end(1)) for m in OLD_URL.finditer(line)]
    return out


def new_spans(line: str) -> list[tuple[str, int, int]]:
    out = []
    legacy = secrets._legacy(line)
    if legacy:
        out.append(("legacy", legacy[1], legacy[2]))
    head = secrets._ENV_ARG.match(line)
    for match in secrets._PAIR.finditer(line, head.end() if head else 0):
        out.append(("pair", match.start(2), match.end(2)))
    url = secrets._TOKENS[-1][1]
    out += [("url", m.start(1), m.end(1)) for m in url.finditer(line)]
    return out


PIECES = [
    "ENV ",
    "ARG ",
    " ",
    "  ",
    "\\",
    "=",
    '"',
    "'",
    "a",
    "K_",
    "1",
    ".",
    "-",
    ":",
    "@",
    "/",
    "://",
    "x:y@",
    "\t",
]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(PIECES), max_size=14).map("".join))
def test_linear_rules_find_what_the_backtracking_ones_found(line):
    assert new_spans(line) == old_spans(line)


ATTACK_LINES = {
    "legacy value of blanks": "ENV API_KEY x" + " " * 4000 + "y",
    "continuation blanks": "ENV API_KEY a" + " \\" * 2000 + "!",
    "one long name": "ENV " + "a" * 4000,
    "dotted name": "ENV " + "a." * 2000,
    "open quotes": "ENV " + 'a="' * 1300,
    "escapes": "ENV a=" + "\\" * 4000,
    "scheme run": "x" * 4000 + "://",
    "long user and password": "a://" + "b" * 2000 + ":" + "c" * 2000,
    "many urls": "a://b:" * 700,
    "token prefixes": "glpat-" * 700,
    "key words": "-----BEGIN " + "A " * 2000,
    "access key run": "AKIA" * 1000,
    "many findings": "AKIAIOSFODNN7EXAMPLE " * 200,
    "reference": 'ENV A_KEY="${A:-' + "-" * 4000,
}


@pytest.mark.parametrize("line", ATTACK_LINES.values(), ids=ATTACK_LINES.keys())
@pytest.mark.parametrize("scale", [1, 16])
def test_long_hostile_lines_scan_fast(line, scale):
    # 4 KB lines held a worker for over a minute; 64 KB (the lexer's longest line) stay well
    # under a second, and scanning 16 times more costs about 16 times as much, not 256 or 4096.
    text = "FROM alpine\n" + line * scale + "\n"
    start = time.perf_counter()
    redact(text)
    assert time.perf_counter() - start < 1


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    unit=st.lists(st.sampled_from(PIECES + ["AKIA", "ghp_", "xoxb-", "KEY"]), min_size=1, max_size=6).map(
        "".join
    )
)
def test_any_repeated_unit_scans_fast(unit):
    line = (unit * (16_000 // len(unit) + 1))[:16_000]
    start = time.perf_counter()
    redact("FROM alpine\n" + line + "\n")
    assert time.perf_counter() - start < 0.5


def test_api_secrets_answers_a_hostile_line_fast(tmp_path):
    client = create_app({"DATABASE": str(tmp_path / "s.db")}).test_client()
    start = time.perf_counter()
    response = client.post("/api/secrets", json={"dockerfile": "FROM a\nENV API_KEY x" + " " * 4000 + "y\n"})
    assert response.status_code == 200 and time.perf_counter() - start < 1
    assert [f["rule"] for f in response.get_json()["findings"]] == ["env-secret"]
