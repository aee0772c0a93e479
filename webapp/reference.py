"""Image references normalised as Docker does: ``alpine`` is ``docker.io/library/alpine:latest``.

Follows the grammar of the distribution reference package that BuildKit uses
(``ParseNormalizedNamed`` then ``TagNameOnly``); our own code and wording of its rules.
"""

from __future__ import annotations

import re
from functools import lru_cache

DEFAULT_DOMAIN = "docker.io"
LEGACY_DOMAIN = "index.docker.io"
OFFICIAL_PREFIX = "library/"
NAME_MAX = 255

_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|[-]+)"
_PATH_COMPONENT = rf"{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN_NAME = rf"{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*"
_IPV6 = r"\[(?:[a-fA-F0-9:]+)\]"
_DOMAIN = rf"(?:{_DOMAIN_NAME}|{_IPV6})(?::[0-9]+)?"
_NAME = rf"(?:{_DOMAIN}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
_REFERENCE = re.compile(rf"^({_NAME})(?::({_TAG}))?(?:@({_DIGEST}))?$")
_DIGEST_LENGTHS = {"sha256": 64, "sha384": 96, "sha512": 128}
_IDENTIFIER = re.compile(r"^[a-f0-9]{64}$")


class ReferenceError(ValueError):
    """A string that is not a valid image reference; the message is Docker's wording."""


def _split_domain(name: str) -> tuple[str, str]:
    slash = name.find("/")
    first = name[:slash] if slash >= 0 else ""
    if slash < 0 or (not any(c in first for c in ".:") and first != "localhost" and first.lower() == first):
        domain, rest = DEFAULT_DOMAIN, name
    else:
        domain, rest = first, name[slash + 1 :]
    if domain == LEGACY_DOMAIN:
        domain = DEFAULT_DOMAIN
    if domain == DEFAULT_DOMAIN and "/" not in rest:
        rest = OFFICIAL_PREFIX + rest
    return domain, rest


@lru_cache(maxsize=4096)
def normalize(text: str) -> str:
    """``alpine`` -> ``docker.io/library/alpine:latest``; raise :class:`ReferenceError` if invalid."""
    if _IDENTIFIER.match(text):
        raise ReferenceError(f"invalid repository name ({text}), cannot specify 64-byte hexadecimal strings")
    domain, rest = _split_domain(text)
    colon = rest.find(":")
    remote = rest[:colon] if colon >= 0 else rest
    if remote.lower() != remote:
        raise ReferenceError(f"invalid reference format: repository name ({remote}) must be lowercase")
    full = f"{domain}/{rest}"
    match = _REFERENCE.match(full)
    if not match:
        if not full:
            raise ReferenceError("repository name must have at least one component")
        if _REFERENCE.match(full.lower()):
            raise ReferenceError("invalid reference format: repository name must be lowercase")
        raise ReferenceError("invalid reference format")
    name, tag, digest = match.groups()
    if digest is not None:
        algorithm, _, hex_part = digest.partition(":")
        if algorithm not in _DIGEST_LENGTHS:
            raise ReferenceError("unsupported digest algorithm")
        if len(hex_part) != _DIGEST_LENGTHS[algorithm] or hex_part.lower() != hex_part:
            raise ReferenceError("invalid checksum digest length")
    if len(name) - len(domain) - 1 > NAME_MAX:
        raise ReferenceError(f"repository name must not be more than {NAME_MAX} characters")
    if tag is None and digest is None:
        tag = "latest"
    out = name
    if tag is not None:
        out += ":" + tag
    if digest is not None:
        out += "@" + digest
    return out


def familiar(ref: str) -> str:
    """A short display form: ``docker.io/library/alpine:3.20`` -> ``alpine:3.20``."""
    if ref.startswith(DEFAULT_DOMAIN + "/" + OFFICIAL_PREFIX):
        return ref[len(DEFAULT_DOMAIN) + 1 + len(OFFICIAL_PREFIX) :]
    if ref.startswith(DEFAULT_DOMAIN + "/"):
        return ref[len(DEFAULT_DOMAIN) + 1 :]
    return ref
