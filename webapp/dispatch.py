"""What BuildKit checks while it *builds* a stage, instruction by instruction.

BuildKit's dispatcher (``dockerfile2llb/convert.go`` ``dispatch`` and the ``dispatch*`` functions
beside it) first expands the words of an instruction with the stage's ARG and ENV values, then
validates what it needs to build: ports, signals, ``--chmod``, ``--checksum``, ``RUN --mount``
values. Those errors fail a build only when the target needs the stage, so the analysis reports
what :func:`dispatch_problem` finds through :meth:`webapp.report.Report.build_error`. Our own code
for BuildKit's rules; the messages are BuildKit's.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Mapping
from functools import lru_cache

from .instructions import Problem, check_mount
from .lexer import parse_heredoc
from .model import Instruction, SourceKind
from .shell import ExpansionError, expand, expand_word
from .sources import classify_source
from .wording import failed_to_process, go_quote

# moby/sys/signal's names on Linux (SIG prefix optional, any case).
SIGNALS = frozenset(
    "ABRT ALRM BUS CHLD CLD CONT FPE HUP ILL INT IO IOT KILL PIPE POLL PROF PWR QUIT SEGV STKFLT STOP "
    "SYS TERM TRAP TSTP TTIN TTOU URG USR1 USR2 VTALRM WINCH XCPU XFSZ RTMIN RTMAX".split()
    + [f"RTMIN+{n}" for n in range(1, 16)]
    + [f"RTMAX-{n}" for n in range(1, 15)]
)
_DIGEST_ALGORITHMS = {"sha256": 64, "sha384": 96, "sha512": 128}
_DIGEST = re.compile(r"[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+")
_HEX = re.compile(r"[a-f0-9]+")
_GO_INT = re.compile(r"[+-]?[0-9]+")


class Expander:
    """One word -> its expansion with a stage's variables; a word BuildKit refuses is a Problem."""

    __slots__ = ("env", "escape", "workdir")

    def __init__(self, env: Mapping[str, str], escape: str):
        self.env = env
        self.escape = escape
        self.workdir = "/"

    def __call__(self, word: str) -> str:
        if "$" not in word and "'" not in word and '"' not in word and self.escape not in word:
            return word  # nothing to expand or unquote (expand_word's own first test)
        try:
            return expand_word(word, self.env, self.escape)
        except ExpansionError as exc:
            raise Problem("expansion", failed_to_process(word, exc)) from None

    def raw(self, text: str) -> None:
        """Expand a heredoc body as BuildKit does (backslash escape, quotes taken literally)."""
        try:
            expand(text.replace("'", "\x00").replace('"', "\x01"), self.env, "\\")
        except ExpansionError as exc:
            raise Problem("expansion", failed_to_process(text, exc)) from None


def dispatch_problem(
    ins: Instruction, env: Mapping[str, str], escape: str, build_args: Mapping[str, str], workdir: str = "/"
) -> Problem | None:
    """The first error BuildKit raises building ``ins`` in a stage whose variables are ``env``
    and whose working directory is ``workdir``."""
    check = DISPATCH_CHECKS.get(ins.keyword)
    if check is None:
        return None
    x = Expander(env, escape)
    x.workdir = workdir
    try:
        check(ins, x, build_args)
    except Problem as problem:
        return problem
    return None


def next_workdir(ins: Instruction, env: Mapping[str, str], escape: str, workdir: str) -> str:
    """The working directory after ``ins`` (a WORKDIR, relative to the one before)."""
    if ins.keyword != "WORKDIR" or not ins.args:
        return workdir
    try:
        path = expand_word(ins.args[0], env, escape)
    except ExpansionError:
        return workdir
    return posixpath.normpath(posixpath.join(workdir, path)).replace("//", "/")


def _key_values(ins: Instruction, x: Expander, _args) -> None:
    """ENV and LABEL: every name and value is expanded."""
    args = ins.args
    for i in range(0, len(args) - 1, 3):
        x(args[i])
        x(args[i + 1])


def _arg(ins: Instruction, x: Expander, build_args) -> None:
    """ARG: a default is expanded unless a build arg gives the value."""
    for word in ins.args:
        name, sep, default = word.partition("=")
        if sep and name not in build_args:
            x(default)


def _single(ins: Instruction, x: Expander, _args) -> None:
    """WORKDIR, USER: the one argument is expanded."""
    if ins.args:
        x(ins.args[0])


def _volume(ins: Instruction, x: Expander, _args) -> None:
    """VOLUME: every path is expanded; one that expands to nothing is refused."""
    paths = [x(word) for word in ins.args]
    if "" in paths:
        raise Problem("empty-volume", "VOLUME specified can not be an empty string")


def _stopsignal(ins: Instruction, x: Expander, _args) -> None:
    if not ins.args:
        return
    signal = x(ins.args[0])
    if _GO_INT.fullmatch(signal) and abs(int(signal)) < 2**63:
        if int(signal) != 0:
            return
    elif signal.upper().removeprefix("SIG") in SIGNALS:
        return
    raise Problem("stopsignal", f"invalid signal: {signal}")


def _expose(ins: Instruction, x: Expander, _args) -> None:
    ports: list[str] = []
    for word in sorted(ins.args):  # BuildKit sorts the ports before it reads them
        ports += x(word).split()
    for port in ports:
        check_port(port)


def check_port(raw: str) -> None:
    """One EXPOSE port spec, ``[ip:][hostport:]port[-end][/proto]``, as BuildKit validates it."""
    parts = raw.split(":")
    if len(parts) == 1:
        ip, host, container = "", "", parts[0]
    elif len(parts) == 2:
        ip, host, container = "", parts[0], parts[1]
    else:
        ip, host, container = ":".join(parts[:-2]), parts[-2], parts[-1]
    port, _, proto = container.partition("/")
    if not port:
        raise Problem("expose", f"invalid port: {go_quote(raw)}: no port specified")
    if proto.lower() not in ("", "tcp", "udp", "sctp"):
        raise Problem("expose", f"invalid port: {go_quote(raw)}: invalid proto: {proto}")
    if ip and not _is_ip(ip):
        raise Problem("expose", f"invalid IP address: {ip}")
    start, end = _port_range(port)
    if start is None:
        raise Problem("expose", f"invalid containerPort: {port}")
    if host:
        host_start, host_end = _port_range(host)
        if host_start is None:
            raise Problem("expose", f"invalid hostPort: {host}")
        if end - start != host_end - host_start and end != start:
            raise Problem(
                "expose", f"invalid ranges specified for container and host Ports: {port} and {host}"
            )


def _port_range(text: str) -> tuple[int, int] | tuple[None, None]:
    start, dash, end = text.partition("-")
    first = _port_number(start)
    if first is None:
        return None, None
    if not dash or start == end:
        return first, first
    last = _port_number(end)
    if last is None or last < first:
        return None, None
    return first, last


def _port_number(text: str) -> int | None:
    if not _GO_INT.fullmatch(text):
        return None
    number = int(text)
    return number if 0 <= number <= 65535 else None


def _is_ip(text: str) -> bool:
    import ipaddress

    if text.startswith("["):
        text = text[1:].split("]", 1)[0]
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _copy(ins: Instruction, x: Expander, _args) -> None:
    """ADD and COPY: flags, sources and destination expanded, then --chmod and --checksum checked."""
    chmod = checksum = ""
    if ins.flags:  # an empty word expands to itself
        x(ins.flag("chown") or "")
        chmod = x(ins.flag("chmod") or "")
        checksum = x(ins.flag("checksum") or "") if ins.keyword == "ADD" else ""
    if ins.json:
        sources = [x(w) for w in ins.args[:-1]]
    else:  # a word without "<<" is no heredoc (parse_heredoc's own first test)
        sources = [x(w) for w in ins.args[:-1] if "<<" not in w or parse_heredoc(w) is None]
    if ins.args:
        x(ins.args[-1])
    for doc in ins.heredocs:  # inline files: expanded with quotes taken literally
        if doc.expand:
            x.raw(doc.body)
    if chmod:
        check_chmod(chmod)
    if checksum:
        if len(sources) != 1:
            raise Problem("checksum", "checksum can't be specified for multiple sources")
        kind = classify_source(sources[0])
        if kind is SourceKind.CONTEXT:
            raise Problem("checksum", "checksum requires HTTP(S) or Git sources")
        if kind is SourceKind.URL:
            check_digest(checksum)


def check_chmod(value: str) -> None:
    """``--chmod``: an octal mode up to 07777 or a symbolic mode such as ``u+x,g-w``."""
    octal_error = f"invalid chmod parameter: '{value}'. it should be octal string and between 0 and 07777"
    if value[0].isdigit():
        if any(c not in "01234567" for c in value) or int(value, 8) > 0o7777:
            raise Problem("chmod", octal_error)
        return
    if not _symbolic_mode(value):
        raise Problem("chmod", "invalid syntax")


def _symbolic_mode(text: str) -> bool:
    """chmod(1)'s symbolic modes: clauses ``[augo]*[+-=][rwxXstugo]*...`` separated by commas."""
    while True:
        text = text.lstrip("augo")
        if not text:
            return False
        while True:
            if text[0] not in "+-=":
                return False
            text = text[1:]
            i = 0
            while i < len(text) and text[i] in "rstwXxugo":
                i += 1
            text = text[i:]
            if not text:
                return True
            if text[0] == ",":
                text = text[1:]
                break


def check_digest(value: str) -> None:
    """``ADD --checksum`` of a URL: go-digest's ``Parse``."""
    algorithm, colon, encoded = value.partition(":")
    if not colon or not algorithm or not encoded:
        raise Problem("checksum", "invalid checksum digest format")
    length = _DIGEST_ALGORITHMS.get(algorithm)
    if length is None:
        if not _DIGEST.fullmatch(value):
            raise Problem("checksum", "invalid checksum digest format")
        raise Problem("checksum", "unsupported digest algorithm")
    if len(encoded) != length:
        raise Problem("checksum", "invalid checksum digest length")
    if not _HEX.fullmatch(encoded):
        raise Problem("checksum", "invalid checksum digest format")


def _run(ins: Instruction, x: Expander, _args) -> None:
    """RUN: each ``--mount`` is read again with its values expanded, and fully checked; ``--device``."""
    if not ins.flags:
        return
    escape = x.escape
    device = False
    for name, value in ins.flags:
        if name != "mount":
            device = device or name == "device"
            continue
        value = "" if value is None else value
        if "$" in value or "'" in value or '"' in value or escape in value or len(value) > _CACHED_CHARS:
            mount_type, target = check_mount(value, x)
        else:  # nothing to expand: the answer depends on the text alone (a short one is cached)
            mount_type, target = _static_mount(value)
        if mount_type in ("secret", "ssh"):
            continue
        # A relative target is joined to the working directory (an image is taken to set none).
        if target == "/" or (
            not target.startswith("/") and posixpath.normpath(posixpath.join("/", x.workdir, target)) == "/"
        ):
            raise Problem("mount-target", 'invalid mount target "/"')
    if device:  # (after every mount, as BuildKit checks them first)
        # BuildKit's mainline frontend refuses devices (only its -labs build has them).
        raise Problem(
            "run-device", "device feature is only supported in Dockerfile frontend 1.14.0-labs or later"
        )


_CACHED_CHARS = 512
"""Longest ``--mount`` value :func:`_static_mount` remembers: the cache holds at most 1024 such
texts, so hostile values cannot make it large."""


@lru_cache(maxsize=1024)
def _static_mount_result(value: str) -> tuple[str, str] | tuple[str, str, None]:
    try:
        return check_mount(value, _unchanged)
    except Problem as problem:
        return problem.code, problem.message, None


def _unchanged(word: str) -> str:
    return word


def _static_mount(value: str) -> tuple[str, str]:
    """:func:`check_mount` of a value no expansion changes (no ``$``, quote or escape), cached."""
    result = _static_mount_result(value)
    if len(result) == 3:
        raise Problem(result[0], result[1])
    return result


DISPATCH_CHECKS: dict[str, Callable[[Instruction, Expander, Mapping[str, str]], None]] = {
    "ENV": _key_values,
    "LABEL": _key_values,
    "ARG": _arg,
    "WORKDIR": _single,
    "USER": _single,
    "VOLUME": _volume,
    "STOPSIGNAL": _stopsignal,
    "EXPOSE": _expose,
    "ADD": _copy,
    "COPY": _copy,
    "RUN": _run,
}
"""keyword -> the check :func:`dispatch_problem` runs (raising :class:`Problem`); no entry, nothing
to check. The analysis calls these itself with one :class:`Expander` per stage."""
