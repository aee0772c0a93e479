"""The stateless link codec: round trips, length on real files, and every refusal."""

from __future__ import annotations

import base64
import json
import zlib

import pytest

from webapp import links
from webapp.options import Options

LIMITS = {"max_chars": 8000, "max_source": 64 * 1024}
SAMPLE = (
    "FROM golang:1.22 AS build\nRUN go build -o /out/app .\nFROM scratch\nCOPY --from=build /out/app /app\n"
)


def _raw_payload(raw: bytes, zdict: bytes = links.ZDICT_V1) -> str:
    comp = zlib.compressobj(9, zlib.DEFLATED, -15, 9, zdict=zdict)
    return base64.urlsafe_b64encode(comp.compress(raw) + comp.flush()).rstrip(b"=").decode()


def _doc(text: str, options: dict | None = None) -> bytes:
    return json.dumps({"d": text, "o": options or {}}, sort_keys=True, separators=(",", ":")).encode()


@pytest.mark.parametrize(
    "options",
    [
        Options(),
        Options(target="build"),
        Options(build_args=(("GO_VERSION", "1.22"), ("X", "é ü 中")), platform="linux/arm64", view="layers"),
    ],
    ids=["defaults", "target", "everything"],
)
def test_round_trip(options):
    text = SAMPLE + '# unicode: ☃ and a tab\t and "quotes" and \\backslash\n'
    payload = links.encode(text, options)
    assert links.decode("1", payload, **LIMITS) == (text, options)


def test_payload_is_url_safe_and_deterministic():
    payload = links.encode(SAMPLE, Options(target="build"))
    assert payload == links.encode(SAMPLE, Options(target="build"))
    assert set(payload) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert links.stateless_path(SAMPLE) == "/d/1/" + links.encode(SAMPLE)


def test_one_kilobyte_real_dockerfile_gives_a_short_link(corpus):
    """The issue's figure: a typical 1 KB Dockerfile gives a link under 2,000 characters."""
    sizes = {}
    for path in sorted((corpus / "real").glob("*.Dockerfile")):
        text = path.read_text(encoding="utf-8")
        if 800 <= len(text.encode()) <= 1500:
            sizes[path.name] = len(links.stateless_path(text))
            assert links.decode("1", links.encode(text), **LIMITS)[0] == text
    assert len(sizes) >= 3, "expected several ~1 KB files in the corpus"
    assert max(sizes.values()) < 2000, sizes


def test_preset_dictionary_helps(corpus):
    text = (corpus / "real" / "hashicorp__consul-template__Dockerfile.Dockerfile").read_text()
    comp = zlib.compressobj(9, zlib.DEFLATED, -15, 9)
    plain = len(base64.urlsafe_b64encode(comp.compress(_doc(text)) + comp.flush()).rstrip(b"="))
    assert len(links.encode(text)) < plain * 0.9


def test_unknown_version_is_404():
    with pytest.raises(links.UnknownCodec) as info:
        links.decode("2", links.encode(SAMPLE), **LIMITS)
    assert info.value.status == 404


def test_too_long_is_414_before_decoding():
    with pytest.raises(links.LinkTooLong) as info:
        links.decode("1", "!" * 8001, **LIMITS)
    assert info.value.status == 414
    assert "8000" in info.value.message


def test_bomb_is_413_without_inflating_it():
    payload = _raw_payload(_doc("A" * 5_000_000))
    assert len(payload) < 8000
    with pytest.raises(links.LinkTooLarge) as info:
        links.decode("1", payload, **LIMITS)
    assert info.value.status == 413


def test_source_just_over_the_limit_is_413():
    payload = links.encode("FROM a\n" + "#" * (64 * 1024))
    with pytest.raises(links.LinkTooLarge):
        links.decode("1", payload, max_chars=100_000, max_source=64 * 1024)


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param("abc$def", id="not-base64url"),
        pytest.param("abcde", id="impossible-length"),
        pytest.param("abc=", id="padding"),
        pytest.param(base64.urlsafe_b64encode(b"\xff\xfe\xfd\xfc").rstrip(b"=").decode(), id="not-deflate"),
        pytest.param(links.encode(SAMPLE)[:-6], id="cut-short"),
        pytest.param(_raw_payload(b"[1,2,3]"), id="json-not-object"),
        pytest.param(_raw_payload(b"{not json"), id="bad-json"),
        pytest.param(_raw_payload(b'{"d":"FROM a","o":{},"x":1}'), id="extra-key"),
        pytest.param(_raw_payload(b'{"d":1,"o":{}}'), id="text-not-string"),
        pytest.param(_raw_payload(b'{"d":"FROM a","o":{"dpi":"9999"}}'), id="unknown-option"),
        pytest.param(_raw_payload(b'{"d":"FROM a","o":{"view":"x"}}'), id="bad-option-value"),
        pytest.param(_raw_payload(b'{"d":"\\ud800","o":{}}'), id="lone-surrogate"),
        pytest.param(_raw_payload(b"\xff\xfe"), id="not-utf8"),
        pytest.param(_raw_payload(_doc(SAMPLE), zdict=_doc(SAMPLE) + b"x" * 30000), id="other-dictionary"),
    ],
)
def test_damaged_payloads_are_400(payload):
    with pytest.raises(links.InvalidLink) as info:
        links.decode("1", payload, **LIMITS)
    assert info.value.status == 400


def test_leftover_input_is_400():
    comp = zlib.compressobj(9, zlib.DEFLATED, -15, 9, zdict=links.ZDICT_V1)
    data = comp.compress(_doc(SAMPLE)) + comp.flush() + b"trailing"
    payload = base64.urlsafe_b64encode(data).rstrip(b"=").decode()
    with pytest.raises(links.InvalidLink, match="after the end"):
        links.decode("1", payload, **LIMITS)


def test_non_canonical_base64_tail_is_400():
    payload = links.encode(SAMPLE)
    # Flip the unused low bits of the last character (when there are any).
    if len(payload) % 4:
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        last = alphabet.index(payload[-1])
        tampered = payload[:-1] + alphabet[last ^ 1]
        with pytest.raises(links.InvalidLink):
            links.decode("1", tampered, **LIMITS)


def test_every_single_character_tamper_is_refused_or_changes_nothing_silently():
    """Changing any one character never crashes: it is refused (400) or decodes to other valid text."""
    payload = links.encode(SAMPLE, Options(target="build"))
    for i in range(0, len(payload), 3):
        tampered = payload[:i] + ("A" if payload[i] != "A" else "B") + payload[i + 1 :]
        try:
            text, options = links.decode("1", tampered, **LIMITS)
        except links.LinkError as exc:
            assert exc.status in (400, 413)
        else:
            assert isinstance(text, str) and isinstance(options, Options)


def test_decoders_registry_keeps_version_one():
    assert "1" in links.DECODERS
    assert links.CURRENT_VERSION in links.DECODERS


def test_dictionary_is_frozen():
    """Codec 1 is released: changing its dictionary would break every old link."""
    import hashlib

    assert hashlib.sha256(links.ZDICT_V1).hexdigest() == FROZEN_ZDICT_SHA256


FROZEN_ZDICT_SHA256 = "3f035bd0b5decf47d7b3b4f89a7259f1ef8d9b983058670e0396a844e7c114d6"


def test_a_link_made_today_decodes_forever():
    text, options = links.decode("1", GOLDEN_V1, **LIMITS)
    assert text == "FROM alpine AS a\nFROM scratch\nCOPY --from=a / /\n"
    assert options == Options(target="a")


GOLDEN_V1 = "q1ZKUbJSQqolQBYkotdWyAYlQprKSjpK-UpW1UqQ0ACakahUWwsA"
