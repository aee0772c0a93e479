"""Stateless share links: a Dockerfile and its options packed into a URL, with versioned codecs.

Codec 1 (``/d/1/<payload>``)::

    payload = base64url_unpadded(raw_deflate(json, level=9, zdict=ZDICT_V1))
    json    = {"d": <dockerfile text>, "o": <canonical options mapping>}   (compact, sorted keys, UTF-8)

Links live in READMEs for years, so a codec is never changed once released: a new format gets a new
version number and a new entry in :data:`DECODERS`, and every old decoder stays. Decoding treats
the payload as hostile: its length is checked before anything else, it is inflated with an explicit
output limit (a deflate bomb is refused, not expanded), and input left over after the stream, a
stream that does not end, bad base64, bad JSON and unknown options are all refused.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import zlib
from collections.abc import Callable

from .errors import RequestRefused
from .nesting import too_deep
from .options import OptionError, Options

CURRENT_VERSION = "1"

# Vocabulary of Dockerfiles as they appear inside the JSON string (newlines are the two characters
# backslash-n, quotes are escaped). Written for this project. zlib prefers the END of a preset
# dictionary (shorter distances), so the most frequent words come last.
_VOCAB_V1 = (
    r" --chown=root:root --chmod=755 --link --parents "
    r"--exclude=--keep-git-dir=true --checksum=sha256: "
    r" --network=none --network=host --security=insecure --mount=type=secret,id= --mount=type=ssh "
    r" --mount=type=tmpfs,target=/tmp --interval=30s --timeout=5s --start-period=5s --retries=3 "
    r"HEALTHCHECK CMD curl -f http://localhost/ || exit 1"
    r"\nSTOPSIGNAL SIGTERM\nSHELL [\"/bin/bash\", \"-c\"] "
    r"\nONBUILD \nMAINTAINER \nVOLUME [\"/data\"]\nVOLUME /var/lib/\n# syntax=docker/dockerfile:1\n "
    r"# escape=`\n# check=skip=\nLABEL org.opencontainers.image.source=\"https://github.com/ "
    r"org.opencontainers.image.description= org.opencontainers.image.licenses=\"MIT\" maintainer=\" "
    r"FROM --platform=$BUILDPLATFORM tonistiigi/xx AS xx\nCOPY --from=xx / /\nARG TARGETPLATFORM "
    r"ARG TARGETOS TARGETARCH TARGETVARIANT\nARG BUILDPLATF"
    r"ORM\nARG BUILDOS BUILDARCH\n${TARGETOS}/${TARGETARCH} "
    r"GOOS=$TARGETOS GOARCH=$TARGETARCH CGO_ENABLED=0 go build -ldflags \"-s -w\" -trimpath -o /out/ "
    r"go mod download\n--mount=type=cache,target=/go/pkg/"
    r"mod --mount=type=cache,target=/root/.cache/go-build "
    r"golang:1.22-alpine golang:1.23 AS builder\nWORKDIR"
    r" /go/src/github.com/ GOPATH=/go GOFLAGS=-mod=vendor "
    r"FROM rust:1 AS builder\ncargo build --release --locke"
    r"d --mount=type=cache,target=/usr/local/cargo/registry "
    r"FROM node:20-alpine AS build\nnpm ci --omit=dev\nnpm r"
    r"un build\nyarn install --frozen-lockfile\npnpm install "
    r"COPY package.json package-lock.json ./\nENV NODE_ENV=production\nEXPOSE 3000\nCMD [\"node\", \" "
    r"FROM python:3.12-slim\npip install --no-cache-di"
    r"r -r requirements.txt\nCOPY requirements.txt .\n "
    r"ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1"
    r"\nENV PATH=\"/opt/venv/bin:$PATH\"\npython -m venv "
    r"FROM nginx:alpine\nCOPY --from=build /app/dist /usr/"
    r"share/nginx/html\nEXPOSE 80\nEXPOSE 443\nEXPOSE 8080 "
    r"FROM gcr.io/distroless/static-debian12:nonroot\nFROM gc"
    r"r.io/distroless/base\nFROM scratch\nUSER nonroot:nonroot "
    r"FROM ubuntu:24.04\nFROM ubuntu:22.04\nFROM debian:"
    r"bookworm-slim\nFROM alpine:3.20\nFROM alpine:latest "
    r"FROM busybox\nFROM mcr.microsoft.com/windows/servercore FROM docker.io/library/ "
    r"DEBIAN_FRONTEND=noninteractive apt-get update && a"
    r"pt-get install -y --no-install-recommends \\\n     "
    r"ca-certificates curl wget git make gcc g++ build-essent"
    r"ial libc6-dev pkg-config openssl unzip tar gzip xz-utils "
    r" && rm -rf /var/lib/apt/lists/*\n --mount=type=cache,target=/var/cache/apt,sharing=locked "
    r" --mount=type=cache,target=/var/lib/apt,sharing=loc"
    r"ked\napk add --no-cache \napk update && apk upgrade "
    r"adduser -D -u 1000 -G groupadd useradd -r -m -s /bin/sh chown -R chmod +x /usr/local/bin/ "
    r" 2>&1 >/dev/null; then else fi; done; for in do if [ -z \"$ \" ]; \\\n    set -eux; \\\n     "
    r" && \\\n    tar -xzf -C /usr/local --strip-componen"
    r"ts=1 && rm -f curl -fsSL -o sha256sum -c - https:// "
    r"/usr/local/bin/ /usr/bin/ /bin/sh -c /etc/ /var/ /tm"
    r"p/ /opt/ /home/ /root/ /src/ /build/ /out/ /usr/src/ "
    r"version=$VERSION\nARG VERSION\nARG GO_VERSION=\nARG A"
    r"LPINE_VERSION=\nARG NODE_VERSION=\nARG DEBIAN_VERSION= "
    r"\n\n# \nENTRYPOINT [\"/usr/local/bin/\nENTRYPOINT ["
    r"\"/\"]\nCMD [\"\", \"\"]\nWORKDIR /app\nWORKDIR /src "
    r"\nCOPY --from=builder /app/\nCOPY --from=build /o"
    r"ut/\nCOPY . .\nCOPY go.mod go.sum ./\nCOPY --link  "
    r"\nADD --chmod=755 https://github.com/\nADD \nARG"
    r" \nENV \nLABEL \nEXPOSE \nUSER \nVOLUME \nSHELL  "
    r"\nRUN --mount=type=bind,target=. \nRUN --mount=type=cache,target=\nRUN set -ex; \nRUN \\\n     "
    r"FROM ${BASE_IMAGE} AS base\nFROM base AS build\nFR"
    r"OM build AS test\nFROM base AS final\n AS builder\n "
    r"\nWORKDIR \nCMD \nENTRYPOINT \nCOPY --from=\nCOPY \nRUN \nFROM \n "
)


ZDICT_V1 = "".join(_VOCAB_V1).encode("utf-8")

_B64URL = re.compile(r"^[A-Za-z0-9_-]*$")


class LinkError(RequestRefused):
    """A stateless link that cannot be served; ``status`` is the HTTP answer."""


class InvalidLink(LinkError):
    """Bad base64, bad deflate, leftover input, unfinished stream, bad JSON: a damaged link."""

    status = 400


class LinkTooLong(LinkError):
    """The payload is longer than the configured limit (before any decoding)."""

    status = 414


class LinkTooLarge(LinkError):
    """The payload inflates past the configured source limit (deflate bomb or huge file)."""

    status = 413


class UnknownCodec(LinkError):
    """The codec version in the path is not one this server knows."""

    status = 404


def _canonical_json(text: str, options: Options) -> bytes:
    doc = {"d": text, "o": options.to_mapping()}
    return json.dumps(doc, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(payload: str) -> bytes:
    if not _B64URL.match(payload) or len(payload) % 4 == 1:
        raise InvalidLink("link payload is not base64url text")
    try:
        data = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    except (binascii.Error, ValueError) as exc:
        raise InvalidLink("link payload is not base64url text") from exc
    # Unused trailing bits must be zero: one link, one spelling.
    if _b64encode(data) != payload:
        raise InvalidLink("link payload is not canonical base64url (altered characters at the end)")
    return data


def encode(text: str, options: Options | None = None) -> str:
    """The codec-1 payload for ``text`` and ``options`` (the part after ``/d/1/``)."""
    options = options or Options()
    comp = zlib.compressobj(level=9, method=zlib.DEFLATED, wbits=-15, memLevel=9, zdict=ZDICT_V1)
    data = comp.compress(_canonical_json(text, options)) + comp.flush()
    return _b64encode(data)


def stateless_path(text: str, options: Options | None = None) -> str:
    """The path of the stateless link, e.g. ``/d/1/<payload>``."""
    return f"/d/{CURRENT_VERSION}/{encode(text, options)}"


def _inflate_limit(max_source: int) -> int:
    # JSON escaping can at most double ordinary text (quotes, backslashes, tabs); options add a
    # bounded amount (64 build args of 1 KiB). The decoded source is checked exactly afterwards.
    return 2 * max_source + 96 * 1024


def _decode_v1(payload: str, *, max_source: int) -> tuple[str, Options]:
    data = _b64decode(payload)
    inflater = zlib.decompressobj(wbits=-15, zdict=ZDICT_V1)
    limit = _inflate_limit(max_source)
    try:
        raw = inflater.decompress(data, limit)
    except zlib.error as exc:
        raise InvalidLink("link payload is not valid compressed data") from exc
    if inflater.unconsumed_tail or (len(raw) >= limit and not inflater.eof):
        raise LinkTooLarge(f"link payload inflates past the limit of {max_source} bytes")
    if not inflater.eof:
        raise InvalidLink("link payload is cut short (the compressed stream does not end)")
    if inflater.unused_data:
        raise InvalidLink("link payload has data after the end of the compressed stream")
    if too_deep(raw):
        raise InvalidLink("link payload does not hold a valid document")
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidLink("link payload does not hold a valid document") from exc
    if not isinstance(doc, dict) or set(doc) != {"d", "o"}:
        raise InvalidLink("link payload does not hold a valid document")
    text, opts = doc["d"], doc["o"]
    if not isinstance(text, str) or not isinstance(opts, dict):
        raise InvalidLink("link payload does not hold a valid document")
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError as exc:
        raise InvalidLink("link payload holds text that is not valid Unicode") from exc
    if size > max_source:
        raise LinkTooLarge(f"link payload inflates past the limit of {max_source} bytes")
    try:
        options = Options.from_mapping(opts)
    except OptionError as exc:
        raise InvalidLink(f"link payload has a bad option: {exc.message}") from exc
    return text, options


Decoder = Callable[..., tuple[str, Options]]

DECODERS: dict[str, Decoder] = {"1": _decode_v1}
"""Every codec ever released, by version. Never remove one: old links live in READMEs."""


def decode(version: str, payload: str, *, max_chars: int, max_source: int) -> tuple[str, Options]:
    """Decode a link payload; raises a :class:`LinkError` subclass with the HTTP status to answer."""
    decoder = DECODERS.get(version)
    if decoder is None:
        raise UnknownCodec(f"unknown link version {version[:20]!r}")
    if len(payload) > max_chars:
        raise LinkTooLong(f"link payload is longer than the limit of {max_chars} characters")
    return decoder(payload, max_source=max_source)
