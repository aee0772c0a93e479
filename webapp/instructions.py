"""The instruction layer: what BuildKit's instruction parser accepts, instruction by instruction.

Section 2 of ``docs/buildkit-semantics.md``: argument counts, stage names, the flags each
instruction accepts, ``RUN --mount`` values and ONBUILD triggers. :func:`check` raises
:class:`Problem` with BuildKit's wording; the analysis turns it into an error diagnostic.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache

from .lexer import parse_heredoc
from .model import Instruction
from .wording import go_quote

STAGE_NAME = re.compile(r"^[a-z][a-z0-9-_.]*$")

STRING, BOOL, LIST = "string", "bool", "list"
# Flags each instruction accepts (BuildKit's BFlags definitions at HEAD).
FLAGS: dict[str, dict[str, str]] = {
    "FROM": {"platform": STRING},
    "COPY": {
        "from": STRING,
        "chown": STRING,
        "chmod": STRING,
        "link": BOOL,
        "exclude": LIST,
        "parents": BOOL,
    },
    "ADD": {
        "chown": STRING,
        "chmod": STRING,
        "link": BOOL,
        "keep-git-dir": BOOL,
        "checksum": STRING,
        "unpack": BOOL,
        "exclude": LIST,
    },
    "RUN": {"mount": LIST, "network": STRING, "security": STRING, "device": LIST},
    "HEALTHCHECK": {
        "interval": STRING,
        "timeout": STRING,
        "start-period": STRING,
        "start-interval": STRING,
        "retries": STRING,
    },
}
# Instructions whose flags BuildKit never parses (so any flag is accepted silently).
_FLAGS_IGNORED = frozenset({"ARG", "STOPSIGNAL"})
KNOWN = frozenset(
    "ADD ARG CMD COPY ENTRYPOINT ENV EXPOSE FROM HEALTHCHECK LABEL MAINTAINER ONBUILD RUN SHELL "
    "STOPSIGNAL USER VOLUME WORKDIR".split()
)
MOUNT_TYPES = ("bind", "cache", "tmpfs", "secret", "ssh")


class Problem(Exception):
    """An instruction-level error with BuildKit's wording."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class Mount:
    """What the graph needs of one ``RUN --mount``."""

    type: str
    """bind, cache, tmpfs, secret or ssh."""
    source_from: str | None
    """The ``from=`` value, or None."""
    target: str | None
    """The mount's target path."""


def check_instruction(ins: Instruction) -> Problem | None:
    """The :class:`Problem` BuildKit's instruction parser finds in ``ins``, or None."""
    try:
        check(ins)
    except Problem as problem:
        return problem
    return None


def check(ins: Instruction) -> None:
    """Raise :class:`Problem` when BuildKit's instruction parser refuses ``ins``."""
    kw = ins.keyword
    args = ins.args
    if kw not in KNOWN:
        raise Problem("unknown-instruction", f"unknown instruction: {keyword_as_written(ins)}")
    if kw == "RUN":  # the most frequent first (the branches exclude each other)
        if not ins.flags:
            return
        check_flags(ins)
        devices: list[str] = []
        mounts: list[str] = []
        network = security = None
        for name, value in ins.flags:  # flag_values and flag in one pass (the last value wins)
            if name == "mount":
                mounts.append("" if value is None else value)
            elif name == "device":
                devices.append("" if value is None else value)
            elif name == "network":
                network = "" if value is None else value
            elif name == "security":
                security = "" if value is None else value
        for value in devices:
            check_device(value)
        for value in mounts:
            parse_mount(value)
        if network is not None and network not in ("default", "none", "host"):
            raise Problem("run-network", f"invalid network mode {go_quote(network)}")
        if security is not None and security not in ("sandbox", "insecure"):
            raise Problem("run-security", f"security {go_quote(security)} is not valid")
        return
    if kw == "ARG":
        if not args:
            raise Problem("missing-argument", "ARG requires at least one argument")
        for a in args:
            if a[:1] == "=":
                raise Problem("blank-name", "ARG names can not be blank")
        return
    if kw == "FROM":
        if len(args) == 3 and args[1].lower() == "as":
            if not STAGE_NAME.match(args[2].lower()):
                raise Problem(
                    "invalid-stage-name",
                    f'invalid name for build stage: "{args[2]}", name can\'t start with a number or '
                    "contain symbols",
                )
        elif len(args) != 1:
            raise Problem("from-arguments", "FROM requires either one or three arguments")
        check_flags(ins)
        return
    if kw in ("COPY", "ADD"):
        if len(args) < 2:
            raise Problem(
                "missing-destination",
                f"{kw} requires at least two arguments, but only one was provided. "
                "Destination could not be determined",
            )
        check_flags(ins)
        if not ins.json and "<<" in args[-1] and parse_heredoc(args[-1]) is not None:
            raise Problem("heredoc-destination", f"{kw} cannot accept a heredoc as a destination")
        return
    if kw in ("WORKDIR", "USER", "MAINTAINER", "STOPSIGNAL"):
        if len(args) != 1:
            raise Problem("one-argument", f"{kw} requires exactly one argument")
        if kw != "STOPSIGNAL":
            check_flags(ins)
        return
    if kw in ("ENV", "LABEL"):
        check_flags(ins)
        if not args:
            raise Problem("missing-argument", f"{kw} requires at least one argument")
        if any(args[i] == "" for i in range(0, len(args), 3)):
            raise Problem("blank-name", f"{kw} names can not be blank")
        return
    if kw == "EXPOSE" or kw == "VOLUME":
        if not args:
            raise Problem("missing-argument", f"{kw} requires at least one argument")
        check_flags(ins)
        if kw == "VOLUME" and any(not a.strip() for a in args):
            raise Problem("empty-volume", "VOLUME specified can not be an empty string")
        return
    if kw == "SHELL":
        check_flags(ins)
        if not args:
            raise Problem("missing-argument", "SHELL requires at least one argument")
        if not ins.json:
            raise Problem("shell-json", "SHELL requires the arguments to be in JSON form")
        return
    if kw == "HEALTHCHECK":
        if not args:
            raise Problem("missing-argument", "HEALTHCHECK requires at least one argument")
        kind = args[0].upper()
        if kind == "NONE":
            if len(args) > 1:
                raise Problem("healthcheck", "HEALTHCHECK NONE takes no arguments")
            return
        check_flags(ins)
        if kind != "CMD":
            raise Problem("healthcheck", f'Unknown type "{kind}" in HEALTHCHECK (try CMD)')
        if len(args) < 2:
            raise Problem("healthcheck", "Missing command after HEALTHCHECK CMD")
        for name in ("interval", "timeout", "start-period", "start-interval"):
            value = ins.flag(name)
            if value:
                nanoseconds = go_duration(value)
                if 0 < abs(nanoseconds) < 1_000_000 or nanoseconds < 0:
                    raise Problem("healthcheck", f'Interval "{name}" cannot be less than 1ms')
        retries = ins.flag("retries")
        if retries:
            if not re.fullmatch(r"[+-]?[0-9]+", retries):
                raise Problem("healthcheck", f"strconv.ParseInt: parsing {go_quote(retries)}: invalid syntax")
            if not -(2**31) <= int(retries) < 2**31:
                raise Problem(
                    "healthcheck", f"strconv.ParseInt: parsing {go_quote(retries)}: value out of range"
                )
            if int(retries) < 0:
                raise Problem("healthcheck", f"--retries cannot be negative ({int(retries)})")
        return
    if kw == "ONBUILD":
        if ins.sub is None:
            raise Problem("missing-argument", "ONBUILD requires at least one argument")
        check_flags(ins)
        trigger = ins.sub.keyword
        if trigger == "ONBUILD":
            raise Problem("onbuild", "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed")
        if trigger in ("MAINTAINER", "FROM"):
            raise Problem("onbuild", f"{trigger} isn't allowed as an ONBUILD trigger")
        # The trigger itself is parsed only when a child stage inherits it (inherit_onbuild).
        return
    # CMD, ENTRYPOINT
    check_flags(ins)


def check_flags(ins: Instruction) -> None:
    """Raise :class:`Problem` for a flag ``ins`` does not accept, as BuildKit's BFlags.Parse."""
    if not ins.flags or ins.keyword in _FLAGS_IGNORED:
        return
    allowed = FLAGS.get(ins.keyword, {})
    used: set[str] = set()
    for name, value in ins.flags:
        if name == "":
            return
        kind = allowed.get(name)
        if kind is None:
            raise Problem("unknown-flag", f"unknown flag: --{name}")
        if name in used and kind != LIST:
            raise Problem("duplicate-flag", f"duplicate flag specified: --{name}")
        used.add(name)
        if kind == BOOL:
            if value == "":
                raise Problem("flag-value", f"missing a value on flag: --{name}")
            if value is not None and value.lower() not in ("true", "false"):
                raise Problem("flag-value", f"expecting boolean value for flag --{name}, not: {value}")
        elif value is None:
            raise Problem("flag-value", f"missing a value on flag: --{name}")


@lru_cache(maxsize=1024)
def parse_mount(value: str) -> Mount:
    """One ``--mount`` value (CSV of key=value) -> its type, ``from`` and target, as the graph needs.

    Only what BuildKit checks while *parsing* raises :class:`Problem` here (a variable in
    ``from``); every other value is checked by :func:`check_mount` when the stage is built.
    """
    mount_type = "bind"
    source_from = None
    target = None
    for item in _csv_fields(value):
        key, sep, val = item.partition("=")
        key = key.lower()
        if not sep:
            continue
        if key == "type":
            mount_type = val.lower()
        elif key == "from":
            dollar = val.find("$")
            if dollar != -1 and dollar != len(val) - 1:
                raise Problem(
                    "mount-from-variable",
                    "'from' doesn't support variable expansion, define alias stage instead",
                )
            source_from = val
        elif key in ("target", "dst", "destination"):
            target = val
    return Mount(mount_type, source_from or None, target)


def _csv_fields(value: str) -> list[str]:
    if value and '"' not in value and "\r" not in value and "\n" not in value:
        return value.split(",")  # what the CSV reader gives without quotes or line ends
    try:
        return next(csv.reader([value]), [])
    except csv.Error:
        return value.split(",")


_MOUNT_KEYS = (
    "type from source target readonly id sharing required size mode uid gid src dst destination ro rw "
    "readwrite env"
).split()
_SHARING = ("shared", "private", "locked")
_GO_TRUE = ("1", "t", "T", "TRUE", "true", "True")
_GO_FALSE = ("0", "f", "F", "FALSE", "false", "False")
_RAM = re.compile(r"^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?\Z")


def _go_bool(value: str) -> bool | None:
    return True if value in _GO_TRUE else False if value in _GO_FALSE else None


def _go_uint(value: str, base: int, bits: int = 32) -> int | None:
    """Go's ``strconv.ParseUint(value, base, bits)``: digits only, no sign, no prefix."""
    digits = "01234567" if base == 8 else "0123456789"
    if not value or any(c not in digits for c in value):
        return None
    number = int(value, base)
    return number if number < 2**bits else None


def check_mount(value: str, expand) -> tuple[str, str]:
    """Raise :class:`Problem` for a ``--mount`` BuildKit refuses while building the stage.

    ``expand`` expands one value with the stage's ARG and ENV values (it raises :class:`Problem`
    itself when BuildKit's shell lexer refuses the word). Messages are BuildKit's. Returns the
    mount's type and its (expanded) target.
    """
    mount_type = "bind"
    target = ""
    has_from = has_source = has_target = has_id = has_sharing = False
    file_info: list[str] = []
    for item in _csv_fields(value):
        key, sep, val = item.partition("=")
        key = key.lower()
        if not sep:
            if key in ("readonly", "ro", "readwrite", "rw"):
                continue
            if key == "required":
                if mount_type in ("secret", "ssh"):
                    continue
                raise Problem("mount-field", f"unexpected key '{key}' for mount type '{mount_type}'")
            raise Problem("mount-field", f"invalid field '{item}' must be a key=value pair")
        val = expand(val)
        if key == "type":
            if val.lower() not in MOUNT_TYPES:
                raise Problem("mount-type", suggest(f'unsupported mount type "{val}"', val, MOUNT_TYPES))
            mount_type = val.lower()
        elif key == "from":
            has_from = bool(val)
        elif key in ("source", "src"):
            has_source = bool(val)
        elif key in ("target", "dst", "destination"):
            has_target = bool(val)
            target = val
        elif key in ("readonly", "ro", "readwrite", "rw"):
            if _go_bool(val) is None:
                raise Problem("mount-field", f"invalid value for {key}: {val}")
        elif key == "required":
            if mount_type not in ("secret", "ssh"):
                raise Problem("mount-field", f"unexpected key '{key}' for mount type '{mount_type}'")
            if _go_bool(val) is None:
                raise Problem("mount-field", f"invalid value for {key}: {val}")
        elif key == "size":
            if mount_type != "tmpfs":
                raise Problem("mount-field", f"unexpected key '{key}' for mount type '{mount_type}'")
            if not _RAM.match(val):
                raise Problem("mount-field", f"invalid value for {key}: {val}")
        elif key == "id":
            has_id = bool(val)
        elif key == "sharing":
            if val.lower() not in _SHARING:
                raise Problem("mount-field", suggest(f'unsupported sharing value "{val}"', val, _SHARING))
            has_sharing = bool(val)
        elif key in ("mode", "uid", "gid"):
            if _go_uint(val, 8 if key == "mode" else 10) is None:
                raise Problem("mount-field", f"invalid value {val} for {key}")
            file_info.append(key)
        elif key != "env":
            raise Problem("mount-field", suggest(f"unexpected key '{key}' in '{item}'", key, _MOUNT_KEYS))
    if mount_type not in ("secret", "ssh", "cache") and file_info:
        raise Problem("mount-field", f'{file_info[0]} not allowed for "{mount_type}" type mounts')
    if mount_type == "secret":
        if has_from:
            raise Problem("mount-secret-from", "secret mount should not have a from")
        if has_sharing:
            raise Problem("mount-field", "secret mount should not define sharing")
        if not (has_source or has_target or has_id):
            raise Problem("mount-field", "invalid secret mount. one of source, target required")
        if has_source and has_id:
            raise Problem("mount-field", "both source and id can't be set")
    if has_sharing and mount_type != "cache":
        raise Problem("mount-field", f"invalid cache sharing set for {mount_type} mount")
    return mount_type, target


def check_device(value: str) -> None:
    """``RUN --device``: a CSV of a device name, ``name=`` and ``required[=bool]``."""
    name = ""
    for item in _csv_fields(value):
        key, sep, val = item.partition("=")
        key = key.lower()
        if not sep:
            if key == "required":
                continue
            if not name:
                name = item
                continue
            raise Problem("run-device", f"invalid field '{item}' must be a key=value pair")
        if key == "name":
            if name:
                raise Problem("run-device", f"device name already set to {name}")
            name = val
        elif key == "required":
            if _go_bool(val) is None:
                raise Problem("run-device", f"invalid value for {key}: {val}")
        elif not name:
            name = item
        else:
            message = f"unexpected key '{key}' in '{item}'"
            raise Problem("run-device", suggest(message, key, ("name", "required")))


_DURATION_UNITS = {"ns": 1, "us": 10**3, "µs": 10**3, "μs": 10**3, "ms": 10**6, "s": 10**9, "m": 60 * 10**9}
_DURATION_UNITS["h"] = 3600 * 10**9
_DURATION_PART = re.compile(r"([0-9]*)(?:\.([0-9]*))?([^0-9.]*)")


def go_duration(text: str) -> int:
    """Go's ``time.ParseDuration`` in nanoseconds; :class:`Problem` with Go's message when refused."""
    invalid = Problem("duration", f"time: invalid duration {go_quote(text)}")
    rest = text
    negative = rest[:1] == "-"
    if rest[:1] in ("-", "+"):
        rest = rest[1:]
    if rest == "0":
        return 0
    if not rest:
        raise invalid
    total = 0
    while rest:
        match = _DURATION_PART.match(rest)
        whole, fraction, unit = match.group(1), match.group(2), match.group(3)
        if not whole and not fraction:
            raise invalid
        if not unit:
            raise Problem("duration", f"time: missing unit in duration {go_quote(text)}")
        if unit not in _DURATION_UNITS:
            raise Problem("duration", f"time: unknown unit {go_quote(unit)} in duration {go_quote(text)}")
        scale = _DURATION_UNITS[unit]
        total += int(whole or "0") * scale
        if fraction:
            total += int(fraction) * scale // 10 ** len(fraction)
        rest = rest[match.end() :]
    if total >= 2**63:
        raise invalid
    return -total if negative else total


def suggest(message: str, value: str, options) -> str:
    """BuildKit's ``suggest.WrapError``: add ``(did you mean X?)`` for an option fewer than 3 edits away."""
    best, distance = None, 3
    for option in options:
        if value == option:
            return message
        d = edit_distance(value, option)
        if d < distance:
            best, distance = option, d
    return f"{message} (did you mean {best}?)" if best else message


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance between ``a`` and ``b`` (insertions, deletions, substitutions)."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def keyword_as_written(ins: Instruction) -> str:
    text = ins.source.lstrip()
    word = text.split(None, 1)[0] if text else ins.keyword
    return word if word.upper() == ins.keyword else ins.keyword
