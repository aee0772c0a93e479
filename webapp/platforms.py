"""Platform strings as containerd reads them: ``Linux/x86_64`` is ``linux/amd64``.

BuildKit parses every platform it is given (``--platform``, ``FROM --platform``) with
containerd's ``platforms.Parse`` and normalises the build's target platform with
``platforms.Normalize``; this is our own code for those rules, with containerd's error wording,
and the builtin ``BUILD*``/``TARGET*`` ARGs derived from a platform. A platform naming only an OS
takes the builder's architecture and one naming only an architecture the builder's OS; the
builder is linux/amd64, as BuildKit's reference worker.
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass
from functools import lru_cache

from .wording import go_quote

DEFAULT_PLATFORM = "linux/amd64"
BUILDER_OS, BUILDER_ARCH = "linux", "amd64"

_OS_PATTERN = r"^([A-Za-z0-9_-]+)(?:\(([A-Za-z0-9_.%-]*)((?:\+[A-Za-z0-9_.%-]+)*)\))?$"
_SPECIFIER_PATTERN = r"^[A-Za-z0-9_.-]+$"
_OS = re.compile(_OS_PATTERN.replace("$", r"\Z"))
_SPECIFIER = re.compile(_SPECIFIER_PATTERN.replace("$", r"\Z"))
_KNOWN_OS = frozenset(
    "aix android darwin dragonfly freebsd hurd illumos ios js linux nacl netbsd openbsd plan9 solaris "
    "windows zos".split()
)
_KNOWN_ARCH = frozenset(
    "386 amd64 amd64p32 arm armbe arm64 arm64be ppc64 ppc64le loong64 mips mipsle mips64 mips64le "
    "mips64p32 mips64p32le ppc riscv riscv64 s390 s390x sparc sparc64 wasm".split()
)


class PlatformError(ValueError):
    """A platform string containerd refuses, with its wording."""


@dataclass(frozen=True, slots=True)
class Platform:
    """A parsed platform."""

    os: str
    arch: str
    variant: str = ""
    os_version: str = ""
    os_features: tuple[str, ...] = ()

    def __str__(self) -> str:
        """``os[(version[+features])]/arch[/variant]``, as containerd's ``FormatAll``."""
        os_part = self.os
        features = "+".join(self.os_features)
        if self.os_version or features:
            os_part += "(" + self.os_version + ("+" + features if features else "") + ")"
        return "/".join(p for p in (os_part, self.arch, self.variant) if p)

    def normalized(self) -> Platform:
        """containerd's ``Normalize``: canonical OS, architecture and variant names."""
        arch, variant = _normalize_arch(self.arch, self.variant)
        features = tuple(sorted(set(self.os_features)))
        return Platform(_normalize_os(self.os), arch, variant, self.os_version, features)


def _invalid(message: str) -> PlatformError:
    return PlatformError(message + ": invalid argument")


def _normalize_os(name: str) -> str:
    name = name.lower() or BUILDER_OS
    return "darwin" if name == "macos" else name


def _normalize_arch(arch: str, variant: str) -> tuple[str, str]:
    arch, variant = arch.lower(), variant.lower()
    if arch == "i386":
        return "386", ""
    if arch in ("x86_64", "x86-64", "amd64"):
        return "amd64", ("" if variant == "v1" else variant)
    if arch in ("aarch64", "arm64"):
        if variant in ("8", "v8", "v8.0"):
            variant = ""
        elif variant in ("9", "9.0", "v9.0"):
            variant = "v9"
        return "arm64", variant
    if arch == "armhf":
        return "arm", "v7"
    if arch == "armel":
        return "arm", "v6"
    if arch == "arm":
        if variant in ("", "7"):
            variant = "v7"
        elif variant in ("5", "6", "8"):
            variant = "v" + variant
    return arch, variant


def _decode(value: str, spec: str) -> str:
    if "%" not in value:
        return value
    try:
        return urllib.parse.unquote(value, errors="strict")
    except UnicodeDecodeError:
        raise PlatformError(f"{go_quote(spec)} has an invalid OS version {go_quote(value)}") from None


def parse_platform(spec: str) -> Platform:
    """containerd's ``platforms.Parse``; raises :class:`PlatformError` with its message."""
    quoted = go_quote(spec)
    if "*" in spec:
        raise _invalid(f"{quoted}: wildcards not yet supported")
    parts = spec.split("/", 3)
    match = _OS.match(parts[0])
    if match is None:
        raise _invalid(
            f"{go_quote(parts[0])} is an invalid OS component of {quoted}: OSAndVersion specifier "
            f"component must match {go_quote(_OS_PATTERN)}"
        )
    for part in parts[1:]:
        if not _SPECIFIER.match(part):
            raise _invalid(
                f"{go_quote(part)} is an invalid component of {quoted}: platform specifier component "
                f"must match {go_quote(_SPECIFIER_PATTERN)}"
            )
    os_name = _normalize_os(match.group(1))
    os_version = _decode(match.group(2) or "", spec)
    features: tuple[str, ...] = ()
    if match.group(3):
        raw_features = [f.strip() for f in match.group(3)[1:].split("+")]
        if any(not f for f in raw_features):
            raise PlatformError(f"{quoted} has invalid OS features: empty os feature: invalid argument")
        features = tuple(f for f in (_decode(f, spec) for f in raw_features) if f)
    if len(parts) == 1:
        if os_name in _KNOWN_OS:
            return Platform(os_name, BUILDER_ARCH, "", os_version, features)
        arch, variant = _normalize_arch(parts[0], "")
        if arch == "arm" and variant == "v7":
            variant = ""
        if arch in _KNOWN_ARCH:
            return Platform(BUILDER_OS, arch, variant)
        raise _invalid(f"{quoted}: unknown operating system or architecture")
    if len(parts) == 2:
        arch, variant = _normalize_arch(parts[1], "")
        if arch == "arm" and variant == "v7":
            variant = ""
        return Platform(os_name, arch, variant, os_version, features)
    if len(parts) == 3:
        arch, variant = _normalize_arch(parts[1], parts[2])
        if arch == "arm64" and variant == "":
            variant = "v8"
        return Platform(os_name, arch, variant, os_version, features)
    raise _invalid(f"{quoted}: cannot parse platform specifier")


_CACHED_CHARS = 256
"""Longest platform string the caches below remember (at most 256 each): hostile strings stay
out of them."""


def format_platform(spec: str) -> str:
    """``str(parse_platform(spec))``, remembered per string (a Dockerfile's FROM lines name the
    same few platforms); raises :class:`PlatformError` with :func:`parse_platform`'s message."""
    text, error = _format_platform(spec) if len(spec) <= _CACHED_CHARS else _format_platform.__wrapped__(spec)
    if error is not None:
        raise PlatformError(error)
    return text


@lru_cache(maxsize=256)
def _format_platform(spec: str) -> tuple[str, None] | tuple[None, str]:
    try:
        return str(parse_platform(spec)), None
    except PlatformError as exc:
        return None, str(exc)


def normalize_platform(platform: str) -> str:
    """The platform a build targets, as BuildKit normalises ``--platform``.

    ``Linux/x86_64`` -> ``linux/amd64``, ``linux/arm64/v8`` -> ``linux/arm64``, ``darwin`` ->
    ``darwin/amd64``, ``arm64`` -> ``linux/arm64``. A string containerd refuses is returned
    lower-cased (callers validate first with :func:`parse_platform`).
    """
    if len(platform) > _CACHED_CHARS:
        return _normalize_platform.__wrapped__(platform)
    return _normalize_platform(platform)


@lru_cache(maxsize=256)
def _normalize_platform(platform: str) -> str:
    try:
        return str(parse_platform(platform).normalized())
    except PlatformError:
        return platform.lower()


def platform_args(platform: str, prefix: str) -> dict[str, str]:
    """The builtin ``<prefix>PLATFORM/OS/ARCH/VARIANT/OSVERSION`` args for a platform string."""
    if len(platform) > _CACHED_CHARS:
        return dict(_platform_args.__wrapped__(platform, prefix))
    return dict(_platform_args(platform, prefix))  # a dict of the caller's own


@lru_cache(maxsize=256)
def _platform_args(platform: str, prefix: str) -> tuple[tuple[str, str], ...]:
    """:func:`platform_args`' items, computed once per platform and prefix (every analysis asks
    for the same few)."""
    try:
        parsed = parse_platform(platform).normalized()
    except PlatformError:
        parsed = Platform(platform.lower(), "")
    return (
        (f"{prefix}PLATFORM", str(Platform(parsed.os, parsed.arch, parsed.variant))),
        (f"{prefix}OS", parsed.os),
        (f"{prefix}OSVERSION", parsed.os_version),
        (f"{prefix}ARCH", parsed.arch),
        (f"{prefix}VARIANT", parsed.variant),
    )
