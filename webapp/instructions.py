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
_MOUNT_BOOL_KEYS = ("readonly", "ro", "readwrite", "rw", "required")


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
        if not ins.json and parse_heredoc(args[-1]) is not None:
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
    if kw == "ARG":
        if not args:
            raise Problem("missing-argument", "ARG requires at least one argument")
        if any(a.startswith("=") for a in args):
            raise Problem("blank-name", "ARG names can not be blank")
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
    if kw == "RUN":
        check_flags(ins)
        for value in ins.flag_values("mount"):
            parse_mount(value)
        return
    # CMD, ENTRYPOINT
    check_flags(ins)


def check_flags(ins: Instruction) -> None:
    """Raise :class:`Problem` for a flag ``ins`` does not accept, as BuildKit's BFlags.Parse."""
    if ins.keyword in _FLAGS_IGNORED:
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
    """One ``--mount`` value (CSV of key=value) -> its type, ``from`` and target."""
    try:
        fields = next(csv.reader([value]), [])
    except csv.Error:
        fields = value.split(",")
    mount_type = "bind"
    source_from = None
    target = None
    for item in fields:
        key, sep, val = item.partition("=")
        key = key.strip().lower()
        if not sep:
            if key in _MOUNT_BOOL_KEYS:
                continue
            raise Problem("mount-field", f"invalid field '{item}' must be a key=value pair")
        if key == "type":
            mount_type = val.lower()
            if mount_type not in MOUNT_TYPES:
                raise Problem("mount-type", f'unsupported mount type "{val}"')
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
    if mount_type == "secret" and source_from:
        raise Problem("mount-secret-from", "secret mount should not have a from")
    return Mount(mount_type, source_from or None, target)


def keyword_as_written(ins: Instruction) -> str:
    text = ins.source.lstrip()
    word = text.split(None, 1)[0] if text else ins.keyword
    return word if word.upper() == ins.keyword else ins.keyword
