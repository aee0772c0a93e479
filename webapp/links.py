"""Stateless share links: a Dockerfile and its options packed into a URL, with versioned codecs.

Codec 1 (``/d/1/<payload>``)::

    payload = base64url_unpadded(raw_deflate(json, level=9, zdict=ZDICT_V1))
    json    = {"d": <dockerfile text>, "o": <canonical options mapping>}   (compact, sorted keys, UTF-8)

The options mapping only holds what differs from the defaults, so an option added later
(``build_contexts``) leaves every older link, and its canonical payload, exactly as it was.

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
from collections.abc import Callable, Mapping

from .errors import RequestRefused
from .nesting import too_deep
from .options import OptionError, Options, ProjectOptions

CURRENT_VERSION = "1"
"""The codec of a Dockerfile's links."""
PROJECT_VERSION = "p1"
"""The codec of a project's links."""

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

# What projects add, as it appears inside the JSON strings of codec p1: bake HCL (quotes escaped),
# compose YAML and build scripts. Written for this project. It comes first in ZDICT_P1, the
# Dockerfile vocabulary after it (the most frequent words last).
_VOCAB_P1 = (
    r"#!/bin/sh\nset -e\n#!/usr/bin/env bash\nset -euo pipefail\ncd \"$(dirname \"$0\")\"\n"
    r"docker build -t  -f Dockerfile.build .\ndocker container create --name extract \n"
    r"docker container cp extract:/go/src/app/app ./app\ndocker container rm -f extract\n"
    r"docker create --name docker cp docker rm docker buildx build --build-context --target "
    r"--build-arg --platform linux/amd64,linux/arm64 --push --load -t app:latest app:build "
    r"services:\n  app:\n    build:\n      context: .\n      dockerfile: Dockerfile\n"
    r"      target: \n      args:\n      additional_contexts:\n        - \n      tags:\n"
    r"    image: \n    ports:\n      - \"8080:8080\"\n    environment:\n    depends_on:\n"
    r"    volumes:\n  web:\n  db:\n    image: postgres:16\n  worker:\n  api:\nversion: \"3.8\"\n"
    r"variable \"TAG\" {\n  default = \"latest\"\n}\n"
    r"group \"default\" {\n  targets = [\"app\"]\n}\n"
    r"target \"_common\" {\n  args = {\n  }\n}\n"
    r"target \"app\" {\n  inherits = [\"_common\"]\n  context = \".\"\n"
    r"  dockerfile = \"Dockerfile\"\n  target = \"\"\n  contexts = {\n    base = \"target:base\"\n"
    r"  }\n  tags = [\"${REGISTRY}/app:${TAG}\"]\n  platforms = [\"linux/amd64\", \"linux/arm64\"]\n"
    r"  output = [\"type=\n  cache-from = [\"type=gha\"]\n  cache-to = [\"type=gha,mode=max\"]\n"
    r'docker-image://target:","docker-bake.hcl":"","compose.yaml":"","docker-compose.yml":"'
    r'","build.sh":"","Makefile":"","Dockerfile.build":"{"f":{"Dockerfile":"'
)

ZDICT_P1 = "".join(_VOCAB_P1).encode("utf-8") + ZDICT_V1
"""The preset dictionary of codec p1 (projects); never changed once released."""

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


def _canonical_json(doc: dict) -> bytes:
    return json.dumps(doc, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def project_text(files: Mapping[str, str]) -> str:
    """A project's files as one text (canonical JSON ``{path: text}``): what is stored, keyed and linked."""
    return json.dumps(dict(files), ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def project_files(text: str) -> dict[str, str]:
    """The files of a :func:`project_text`, checked again like any posted project (paths, counts, sizes)."""
    from .project.inputs import from_mapping

    if too_deep(text):
        raise InvalidLink("the project does not hold a valid document")
    try:
        files = json.loads(text)
    except ValueError as exc:
        raise InvalidLink("the project does not hold a valid document") from exc
    return from_mapping(files)


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


def version_of(options: Options | ProjectOptions) -> str:
    """The codec version that encodes a share with these options (a Dockerfile or a project)."""
    return PROJECT_VERSION if options.kind == "project" else CURRENT_VERSION


def encode(text: str, options: Options | ProjectOptions | None = None) -> str:
    """The payload for ``text`` and ``options`` (the part after ``/d/<version>/``).

    A Dockerfile (:class:`Options`) is codec 1; a project (:class:`ProjectOptions`, ``text`` its
    :func:`project_text`) is codec ``p1``.
    """
    options = options or Options()
    if options.kind == "project":
        doc, zdict = {"f": json.loads(text), "o": options.to_mapping()}, ZDICT_P1
    else:
        doc, zdict = {"d": text, "o": options.to_mapping()}, ZDICT_V1
    comp = zlib.compressobj(level=9, method=zlib.DEFLATED, wbits=-15, memLevel=9, zdict=zdict)
    data = comp.compress(_canonical_json(doc)) + comp.flush()
    return _b64encode(data)


def stateless_path(text: str, options: Options | ProjectOptions | None = None) -> str:
    """The path of the stateless link, e.g. ``/d/1/<payload>`` (``/d/p1/<payload>`` for a project)."""
    options = options or Options()
    return f"/d/{version_of(options)}/{encode(text, options)}"


def _inflate_limit(max_source: int) -> int:
    # JSON escaping can at most double ordinary text (quotes, backslashes, tabs); options add a
    # bounded amount (64 build args and 32 build contexts of about 1 KiB each, JSON-escaped). The
    # decoded source is checked exactly afterwards.
    return 2 * max_source + 256 * 1024


def _inflate_document(payload: str, *, max_source: int, zdict: bytes, keys: set[str]) -> dict:
    """A payload's JSON object with exactly ``keys``: base64url, inflated within the limit, nesting
    checked before the parser; every failure a :class:`LinkError`."""
    data = _b64decode(payload)
    inflater = zlib.decompressobj(wbits=-15, zdict=zdict)
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
    if not isinstance(doc, dict) or set(doc) != keys or not isinstance(doc["o"], dict):
        raise InvalidLink("link payload does not hold a valid document")
    return doc


def _checked_size(text: str, max_source: int) -> None:
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError as exc:
        raise InvalidLink("link payload holds text that is not valid Unicode") from exc
    if size > max_source:
        raise LinkTooLarge(f"link payload inflates past the limit of {max_source} bytes")


def _options(kind: type[Options] | type[ProjectOptions], mapping: dict):
    try:
        return kind.from_mapping(mapping)
    except OptionError as exc:
        raise InvalidLink(f"link payload has a bad option: {exc.message}") from exc


def _decode_v1(payload: str, *, max_source: int) -> tuple[str, Options]:
    doc = _inflate_document(payload, max_source=max_source, zdict=ZDICT_V1, keys={"d", "o"})
    text = doc["d"]
    if not isinstance(text, str):
        raise InvalidLink("link payload does not hold a valid document")
    _checked_size(text, max_source)
    return text, _options(Options, doc["o"])


def _decode_p1(payload: str, *, max_source: int) -> tuple[str, ProjectOptions]:
    """A project: ``{"f": {path: text}, "o": {project options}}`` -> ``(project_text, options)``."""
    from .project.inputs import from_mapping

    doc = _inflate_document(payload, max_source=max_source, zdict=ZDICT_P1, keys={"f", "o"})
    if not isinstance(doc["f"], dict) or not doc["f"]:
        raise InvalidLink("link payload does not hold a valid document")
    files = from_mapping(doc["f"])  # paths (no '..', nothing absolute), types, counts, as for any project
    text = project_text(files)
    _checked_size(text, max_source)
    return text, _options(ProjectOptions, doc["o"])


Decoder = Callable[..., tuple[str, Options | ProjectOptions]]

DECODERS: dict[str, Decoder] = {"1": _decode_v1, "p1": _decode_p1}
"""Every codec ever released, by version. Never remove one: old links live in READMEs."""


def decode(
    version: str, payload: str, *, max_chars: int, max_source: int
) -> tuple[str, Options | ProjectOptions]:
    """Decode a link payload; raises a :class:`LinkError` subclass with the HTTP status to answer."""
    decoder = DECODERS.get(version)
    if decoder is None:
        raise UnknownCodec(f"unknown link version {version[:20]!r}")
    if len(payload) > max_chars:
        raise LinkTooLong(f"link payload is longer than the limit of {max_chars} characters")
    return decoder(payload, max_source=max_source)
