"""A project's files, read within bounds: from a mapping, an archive in memory, or a directory.

Every reader returns ``{relative path: text}`` holding only the files a project is made of
(see :func:`webapp.project.detect.kind_of`); everything else is counted and skipped unread.
Nothing is ever extracted to disk, no symlink is followed, and each limit is checked before the
work it bounds: entry counts from the archive's own directory before any member is read,
declared sizes before inflating, and actual inflated bytes while reading.
"""

from __future__ import annotations

import gzip
import io
import os
import stat
import struct
import tarfile
import zipfile
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from ..errors import RequestRefused
from .detect import kind_of, may_be_bake

MAX_FILES = 200
"""Most project files (Dockerfiles, bake, compose, scripts) kept from one input."""
MAX_ENTRIES = 20000
"""Most entries an archive or directory may hold (kept or not): more is refused before reading."""
MAX_FILE_BYTES = 1024 * 1024
"""Largest single project file."""
MAX_TOTAL_BYTES = 8 * 1024 * 1024
"""Most bytes of project files, all together."""
MAX_ARCHIVE_BYTES = 32 * 1024 * 1024
"""Largest archive accepted, compressed."""
MAX_INFLATED_BYTES = 128 * 1024 * 1024
"""Most bytes a compressed tar stream may inflate to (members skipped unread count too)."""
MAX_PATH_CHARS = 512
"""Longest relative path."""


class ProjectInputError(RequestRefused):
    """A project input refused as a whole: a bad path, a symlink, an archive that is not one."""

    status = 400


class ProjectTooLarge(ProjectInputError):
    """A project input past one of the limits above (HTTP 413); the message names the limit."""

    status = 413


@dataclass(frozen=True, slots=True)
class Limits:
    """The bounds one read works within (defaults: the module constants)."""

    files: int = MAX_FILES
    entries: int = MAX_ENTRIES
    file_bytes: int = MAX_FILE_BYTES
    total_bytes: int = MAX_TOTAL_BYTES
    archive_bytes: int = MAX_ARCHIVE_BYTES
    inflated_bytes: int = MAX_INFLATED_BYTES


def check_path(name: str) -> str:
    """A safe relative path with ``/`` separators (``./`` dropped), else :class:`ProjectInputError`.

    Refused: empty, absolute (``/x``, ``C:x``, ``\\\\x``), ``..`` anywhere, backslashes, NUL and
    other control characters, and paths longer than :data:`MAX_PATH_CHARS`.
    """
    shown = name[:80].encode("unicode_escape").decode("ascii")
    if not name or len(name) > MAX_PATH_CHARS:
        raise ProjectInputError(f"refused path {shown!r}: empty or longer than {MAX_PATH_CHARS} characters")
    if any(ord(c) < 32 or ord(c) == 127 or 0xD800 <= ord(c) <= 0xDFFF for c in name) or "\\" in name:
        raise ProjectInputError(f"refused path {shown!r}: control characters, lone surrogates or backslashes")
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        raise ProjectInputError(f"refused path {shown!r}: absolute paths are not allowed")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise ProjectInputError(f"refused path {shown!r}: '..' is not allowed")
    if not parts:
        raise ProjectInputError(f"refused path {shown!r}: it names no file")
    return "/".join(parts)


class _Collector:
    """Keeps project files within the limits, in a stable (sorted) order."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.files: dict[str, str] = {}
        self.total = 0
        self.entries = 0
        self.skipped: list[str] = []

    def count_entry(self) -> None:
        self.entries += 1
        if self.entries > self.limits.entries:
            raise ProjectTooLarge(f"too many entries: more than {self.limits.entries} files and folders")

    def wanted(self, path: str) -> bool:
        # any .hcl may be a bake file given with -f (read for bake blocks: detect.may_be_bake)
        return kind_of(path) is not None or may_be_bake(path)

    def check_size(self, path: str, size: int) -> None:
        if size > self.limits.file_bytes:
            raise ProjectTooLarge(f"{path} is {size} bytes, more than the limit of {self.limits.file_bytes}")
        if self.total + size > self.limits.total_bytes:
            raise ProjectTooLarge(f"project files are more than the limit of {self.limits.total_bytes} bytes")

    def add(self, path: str, data: bytes | str) -> None:
        if path in self.files:
            raise ProjectInputError(f"{path} is given twice")
        if len(self.files) >= self.limits.files:
            raise ProjectTooLarge(f"too many project files: more than {self.limits.files}")
        try:
            raw = data.encode("utf-8") if isinstance(data, str) else data
        except UnicodeEncodeError:  # a lone surrogate, from a JSON \ud800 escape
            raise ProjectInputError(f"{path} is not valid Unicode text") from None
        self.check_size(path, len(raw))
        self.total += len(raw)
        if isinstance(data, str):
            self.files[path] = data
            return
        try:
            self.files[path] = data.decode("utf-8")
        except UnicodeDecodeError:
            self.skipped.append(path)  # not text: reported, never guessed at

    def result(self) -> dict[str, str]:
        return dict(sorted(self.files.items()))


def from_mapping(files: Mapping[str, object], limits: Limits = Limits()) -> dict[str, str]:
    """Check a ``{path: text}`` mapping (e.g. the API's JSON): paths, types, counts and sizes.

    Unlike archives, every file given is kept (a user who names a file means it).
    """
    if not isinstance(files, Mapping):
        raise ProjectInputError("files must be an object of paths to texts")
    out = _Collector(limits)
    for name, text in files.items():
        out.count_entry()
        if not isinstance(name, str) or not isinstance(text, str):
            raise ProjectInputError("files must be an object of paths to texts")
        out.add(check_path(name), text)
    return out.result()


def from_archive(data: bytes, limits: Limits = Limits()) -> dict[str, str]:
    """The project files of a ``.zip``, ``.tar``, ``.tar.gz`` or ``.tgz`` held in memory.

    Refused with :class:`ProjectInputError` (400) or :class:`ProjectTooLarge` (413): not an
    archive, a bad member path, a symlink or hard link to a project file, too many entries, a
    member whose declared or actual inflated size passes the limits (zip bombs), a tar stream
    that inflates past :data:`MAX_INFLATED_BYTES`.
    """
    if len(data) > limits.archive_bytes:
        raise ProjectTooLarge(f"archive is more than the limit of {limits.archive_bytes} bytes")
    if data[:4] == b"PK\x03\x04" or data[:4] == b"PK\x05\x06":
        return _from_zip(data, limits)
    if data[:2] == b"\x1f\x8b":
        return _from_tar(
            _BoundedReader(gzip.GzipFile(fileobj=io.BytesIO(data)), limits.inflated_bytes), limits
        )
    if len(data) >= 262 and data[257:262] == b"ustar":
        return _from_tar(io.BytesIO(data), limits)
    raise ProjectInputError("not an archive: send a .zip, .tar or .tar.gz")


def _zip_entry_count(data: bytes) -> int:
    """Entries the zip's end-of-central-directory record declares (read before zipfile parses)."""
    tail = data[-(65535 + 22) :]
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < 22:
        raise ProjectInputError("not a zip archive: no end of central directory")
    (total,) = struct.unpack("<H", tail[at + 10 : at + 12])
    return total


def _from_zip(data: bytes, limits: Limits) -> dict[str, str]:
    declared = _zip_entry_count(data)
    if declared == 0xFFFF or declared > limits.entries:
        raise ProjectTooLarge(f"too many entries: more than {limits.entries} files and folders")
    out = _Collector(limits)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, NotImplementedError) as exc:
        raise ProjectInputError(f"not a readable zip archive: {exc}") from None
    with archive:
        infos = archive.infolist()
        if len(infos) > limits.entries:
            raise ProjectTooLarge(f"too many entries: more than {limits.entries} files and folders")
        for info in infos:
            out.count_entry()
            if info.is_dir():
                if info.filename not in ("./", "."):
                    check_path(info.filename)
                continue
            path = check_path(info.filename)
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                out.skipped.append(path)  # symlinks are never followed
                continue
            if not out.wanted(path):
                continue
            out.check_size(path, info.file_size)
            out.add(path, _read_zip_member(archive, info, path, limits))
    return _finish(out)


def _read_zip_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, path: str, limits: Limits) -> bytes:
    """Inflate one member, stopping as soon as it passes its declared size or the file limit."""
    cap = min(info.file_size, limits.file_bytes)
    chunks = []
    got = 0
    try:
        with archive.open(info) as member:
            while True:
                chunk = member.read(64 * 1024)
                if not chunk:
                    break
                got += len(chunk)
                if got > cap:
                    raise ProjectTooLarge(
                        f"{path} inflates past its declared size or the limit of {cap} bytes"
                    )
                chunks.append(chunk)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as exc:
        raise ProjectInputError(f"cannot read {path} from the zip archive: {exc}") from None
    return b"".join(chunks)


class _BoundedReader(io.RawIOBase):
    """A read-only stream that fails once more than ``limit`` bytes came out of ``inner``."""

    def __init__(self, inner, limit: int):
        self.inner = inner
        self.limit = limit
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        try:
            data = self.inner.read(len(buffer))
        except (OSError, EOFError, zlib.error) as exc:
            raise ProjectInputError(f"not a readable compressed archive: {exc}") from None
        self.count += len(data)
        if self.count > self.limit:
            raise ProjectTooLarge(f"archive inflates to more than the limit of {self.limit} bytes")
        buffer[: len(data)] = data
        return len(data)


def _from_tar(stream, limits: Limits) -> dict[str, str]:
    out = _Collector(limits)
    try:
        archive = tarfile.open(fileobj=stream, mode="r|")
    except tarfile.TarError as exc:
        raise ProjectInputError(f"not a readable tar archive: {exc}") from None
    try:
        for member in archive:
            out.count_entry()
            name = member.name
            if member.isdir():
                if name not in (".", "./"):
                    check_path(name)
                continue
            path = check_path(name)
            if member.issym() or member.islnk():
                out.skipped.append(path)  # links are never followed
                continue
            if not member.isfile():
                continue  # devices, fifos: nothing to read
            if not out.wanted(path):
                continue
            out.check_size(path, member.size)
            handle = archive.extractfile(member)
            data = handle.read(min(member.size, limits.file_bytes) + 1) if handle else b""
            if len(data) > limits.file_bytes:
                raise ProjectTooLarge(f"{path} is more than the limit of {limits.file_bytes} bytes")
            out.add(path, data)
    except tarfile.TarError as exc:
        raise ProjectInputError(f"not a readable tar archive: {exc}") from None
    finally:
        archive.close()
    return _finish(out)


def _finish(out: _Collector) -> dict[str, str]:
    if not out.files:
        raise ProjectInputError("the archive holds no Dockerfile, bake, compose file or script")
    return out.result()


def from_directory(root: str | os.PathLike, limits: Limits = Limits()) -> dict[str, str]:
    """The project files under ``root`` (a door's helper: the CLI reads a folder with it).

    Symlinks (to files or folders) are skipped, never followed; hidden folders such as ``.git``
    and ``node_modules`` are not entered; the limits are those of an archive.
    """
    base = Path(root)
    out = _Collector(limits)
    for path in _walk(base, out):
        relative = path.relative_to(base).as_posix()
        if not out.wanted(relative):
            continue
        size = path.lstat().st_size
        out.check_size(relative, size)
        with open(path, "rb", opener=_no_follow) as handle:
            data = handle.read(limits.file_bytes + 1)
        out.add(check_path(relative), data)
    return out.result()


_SKIP_DIRS = frozenset({".git", ".hg", ".svn", "node_modules", "__pycache__", ".venv", "vendor"})


def _walk(base: Path, out: _Collector) -> Iterator[Path]:
    stack = [base]
    while stack:
        folder = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            raise ProjectInputError(f"cannot read {folder}: {exc.strerror or exc}") from None
        for entry in entries:
            out.count_entry()
            if entry.is_symlink():
                continue
            if entry.is_dir(follow_symlinks=False):
                if entry.name not in _SKIP_DIRS:
                    stack.append(Path(entry.path))
            elif entry.is_file(follow_symlinks=False):
                yield Path(entry.path)


def _no_follow(path: str, flags: int) -> int:
    return os.open(path, flags | getattr(os, "O_NOFOLLOW", 0))


ARCHIVE_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz")
"""File names read as archives by the doors."""


def from_paths(paths: list[str], limits: Limits = Limits()) -> dict[str, str]:
    """Several files and folders named on a command line, keyed relative to their common folder.

    A folder contributes its project files (as :func:`from_directory`); a file named explicitly is
    kept whatever its name. Symlinks are refused, never followed.
    """
    absolute = [Path(os.path.abspath(p)) for p in paths]
    bases = [p if p.is_dir() and not p.is_symlink() else p.parent for p in absolute]
    common = Path(os.path.commonpath([str(b) for b in bases]))
    out = _Collector(limits)
    for path in absolute:
        if path.is_symlink():
            raise ProjectInputError(f"{path.name} is a symlink; symlinks are not followed")
        if path.is_dir():
            prefix = path.relative_to(common).as_posix()
            for name, text in from_directory(path, limits).items():
                out.count_entry()
                out.add(check_path(name if prefix == "." else f"{prefix}/{name}"), text)
            continue
        out.count_entry()
        relative = check_path(path.relative_to(common).as_posix())
        try:
            with open(path, "rb", opener=_no_follow) as handle:
                data = handle.read(limits.file_bytes + 1)
        except OSError as exc:
            raise ProjectInputError(f"cannot read {relative}: {exc.strerror or exc}") from None
        out.add(relative, data)
    if out.skipped:
        raise ProjectInputError(f"{out.skipped[0]} is not UTF-8 text")
    return out.result()
