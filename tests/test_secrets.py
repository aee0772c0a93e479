"""The likely-secret scan run before sharing, its redaction, and POST /api/secrets."""

from __future__ import annotations

import pytest

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
