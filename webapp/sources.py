"""Where an ADD or COPY source word points: the build context, a URL or a git repository.

BuildKit's rules (``dfgitutil.ParseGitRef`` and the URL test of its copy dispatcher), our own code:
``git@host:path``, ``git://``, ``ssh://`` and ``http(s)://…/x.git`` are git; other
``http(s)://`` words are URLs; everything else, ``github.com/x/y`` included, is a local path.
"""

from __future__ import annotations

import re

from .model import SourceKind

_SCP_GIT = re.compile(r"^([a-zA-Z0-9-_]+)@([a-zA-Z0-9-.]+):(.*?)(?:\?(.*?))?(?:#(.*))?$")
_PROTO = re.compile(r"^([a-zA-Z0-9]+)://")
_CONTEXT = SourceKind.CONTEXT  # the usual answer, read once (through the enum class: a look-up)


def classify_source(value: str) -> SourceKind:
    """An ADD/COPY source word -> context, url or git (BuildKit's git-ref and URL rules)."""
    if value.startswith(("./", "../", "github.com/")) or ("://" not in value and "@" not in value):
        return _CONTEXT  # (every git and URL form below holds a "://" or an "@")
    proto = _PROTO.match(value)
    if proto:
        scheme = proto.group(1).lower()
        if scheme in ("ssh", "git"):
            return SourceKind.GIT
        if scheme in ("http", "https"):
            path = value[proto.end() :].split("#", 1)[0].split("?", 1)[0]
            slash = path.find("/")
            if slash >= 0 and path[slash:].endswith(".git"):
                return SourceKind.GIT
    elif _SCP_GIT.match(value):
        return SourceKind.GIT
    if value.startswith(("http://", "https://")):
        return SourceKind.URL
    return SourceKind.CONTEXT
