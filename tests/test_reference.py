"""Image reference normalisation (distribution/reference ``ParseNormalizedNamed`` + ``TagNameOnly``).

Rules from ``vendor/github.com/distribution/reference`` (normalize.go, reference.go, regexp.go)
and ``vendor/github.com/opencontainers/go-digest`` in BuildKit; error texts are Docker's.
"""

from __future__ import annotations

import pytest

from webapp.reference import ReferenceError, familiar, normalize

HEX64 = "0123456789abcdef" * 4


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("alpine", "docker.io/library/alpine:latest"),
        ("alpine:3.20", "docker.io/library/alpine:3.20"),
        ("library/alpine", "docker.io/library/alpine:latest"),
        ("docker.io/alpine", "docker.io/library/alpine:latest"),
        ("index.docker.io/alpine:edge", "docker.io/library/alpine:edge"),
        ("docker.io/library/alpine", "docker.io/library/alpine:latest"),
        ("user/app", "docker.io/user/app:latest"),
        ("user/app:v1", "docker.io/user/app:v1"),
        ("org/team/app", "docker.io/org/team/app:latest"),
        ("ghcr.io/o/r:1", "ghcr.io/o/r:1"),
        ("gcr.io/distroless/static", "gcr.io/distroless/static:latest"),
        ("registry:5000/app", "registry:5000/app:latest"),
        ("127.0.0.1:5000/a/b:t", "127.0.0.1:5000/a/b:t"),
        ("[::1]:5000/app", "[::1]:5000/app:latest"),
        ("localhost/app", "localhost/app:latest"),
        ("localhost:5000/app", "localhost:5000/app:latest"),
        ("example.com/app", "example.com/app:latest"),  # a registry without a namespace
        ("Registry/app", "Registry/app:latest"),  # upper-case first part is a domain
        ("a__b/c--d.e_f", "docker.io/a__b/c--d.e_f:latest"),
        ("alpine:Latest_1.x-y", "docker.io/library/alpine:Latest_1.x-y"),
        ("0", "docker.io/library/0:latest"),
        ("a" * 200, "docker.io/library/" + "a" * 200 + ":latest"),
    ],
)
def test_normalize(text, expected):
    assert normalize(text) == expected


def test_digest_without_tag_gets_no_latest():
    assert normalize(f"alpine@sha256:{HEX64}") == f"docker.io/library/alpine@sha256:{HEX64}"


def test_tag_and_digest_are_both_kept():
    assert normalize(f"alpine:3.20@sha256:{HEX64}") == f"docker.io/library/alpine:3.20@sha256:{HEX64}"


def test_registry_with_port_and_digest():
    assert normalize(f"reg:5000/a@sha256:{HEX64}") == f"reg:5000/a@sha256:{HEX64}"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Alpine", "invalid reference format: repository name (library/Alpine) must be lowercase"),
        ("Builder:1", "invalid reference format: repository name (library/Builder) must be lowercase"),
        ("user/App", "invalid reference format: repository name (user/App) must be lowercase"),
        ("example.com/Foo/bar", "invalid reference format: repository name (Foo/bar) must be lowercase"),
        ("SCRATCH", "invalid reference format: repository name (library/SCRATCH) must be lowercase"),
        (HEX64, f"invalid repository name ({HEX64}), cannot specify 64-byte hexadecimal strings"),
        ("a:b:c", "invalid reference format"),
        ("alpine:", "invalid reference format"),
        (":tag", "invalid reference format"),
        ("a b", "invalid reference format"),
        ("-alpine", "invalid reference format"),
        ("alpine:-tag", "invalid reference format"),
        ("my_stage/", "invalid reference format"),
        ("alpine@sha256:xyz", "invalid reference format"),
    ],
)
def test_invalid_references_use_dockers_wording(text, message):
    with pytest.raises(ReferenceError) as info:
        normalize(text)
    assert str(info.value) == message


def test_63_or_65_hex_characters_are_a_name():
    assert normalize(HEX64[:63]) == f"docker.io/library/{HEX64[:63]}:latest"
    assert normalize(HEX64 + "a") == f"docker.io/library/{HEX64}a:latest"


def test_tag_longer_than_128_characters_is_invalid():
    assert normalize("a:" + "t" * 128).endswith(":" + "t" * 128)
    with pytest.raises(ReferenceError):
        normalize("a:" + "t" * 129)


def test_name_length_limit_counts_the_path_not_the_domain():
    # reference.go Parse: len(repo.path) > 255 is ErrNameTooLong; the domain is not counted.
    # "docker.io/library/" + 240 chars has a 248-character path: valid.
    assert normalize("a" * 240) == "docker.io/library/" + "a" * 240 + ":latest"
    with pytest.raises(ReferenceError, match="must not be more than 255 characters"):
        normalize("u/" + "a" * 254)


def test_sha256_digest_must_have_64_hex_characters():
    # go-digest Validate: sha256 needs exactly 64 lower-case hex chars ("invalid checksum digest
    # length"), although the reference grammar alone accepts 32 or more.
    with pytest.raises(ReferenceError):
        normalize("alpine@sha256:" + "a" * 32)


def test_unknown_digest_algorithm_is_invalid():
    # go-digest: an algorithm that is not registered is "unsupported digest algorithm".
    with pytest.raises(ReferenceError):
        normalize("alpine@md5:" + "a" * 32)


@pytest.mark.parametrize(
    ("ref", "short"),
    [
        ("docker.io/library/alpine:3.20", "alpine:3.20"),
        ("docker.io/user/app:latest", "user/app:latest"),
        ("ghcr.io/o/r:1", "ghcr.io/o/r:1"),
    ],
)
def test_familiar(ref, short):
    assert familiar(ref) == short
