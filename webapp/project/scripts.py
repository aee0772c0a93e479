"""Shell scripts and Makefile recipes -> the docker commands they run, split as a shell splits them.

Each logical line (backslash continuations joined, at most :data:`MAX_LINES` of them) is split
with :mod:`shlex` (POSIX rules, comments dropped, ``;``/``&&``/``|`` as separators) and each
command is read by its words: ``docker build`` / ``docker buildx build`` / ``docker image build``
(``-t``, ``-f``, ``--target``, ``--build-arg``, ``--build-context``, ``--platform``, the context),
``docker create`` / ``docker container create`` / ``docker run --name`` (container -> image),
``VAR=$(docker create IMAGE)``, ``docker cp`` / ``docker container cp`` (a path copied out of a
container), ``docker tag``. ``NAME=value`` assignments are remembered and ``$NAME`` /
``${NAME}`` substituted; anything else with a ``$`` is left unresolved. The working directory
starts at the script's folder and follows ``cd``, ``pushd``/``popd`` and subshells;
``$(dirname "$0")``, ``$(cd DIR && pwd)`` and ``$(pwd)`` are read as the folders they name.
"""

from __future__ import annotations

import re
import shlex

from .model import Build, Definitions, Selector
from .paths import folder_of, join

MAX_LINES = 5000
MAX_WORDS = 400
MAX_VALUE = 4096
"""Longest value a script variable may hold after substitution."""
_ASSIGN = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$")
_SUBST = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=[\"']?\$\((.*)\)[\"']?$")
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")
_SEPARATORS = frozenset({";", "&&", "||", "|", "&", ";;", "(", ")"})
_BUILD_VALUE = frozenset(
    {
        "-t", "--tag", "-f", "--file", "--target", "--build-arg", "--build-context", "--platform",
        "--label", "--cache-from", "--cache-to", "-o", "--output", "--secret", "--ssh", "--network",
        "--progress", "--iidfile", "--metadata-file", "--add-host", "--ulimit", "--shm-size",
        "--builder", "--allow", "--attest", "--annotation", "--call", "-m", "--memory",
        "--cgroup-parent", "--isolation", "--cpuset-cpus", "--cpu-shares", "--sbom", "--provenance",
    }
)  # fmt: skip
_CREATE_VALUE = frozenset(
    {
        "--name", "-e", "--env", "--env-file", "-v", "--volume", "--entrypoint", "-w", "--workdir",
        "--platform", "-u", "--user", "--network", "-p", "--publish", "-l", "--label", "--mount",
        "-h", "--hostname", "--restart", "--pull", "--cidfile", "--add-host", "-m", "--memory",
    }
)  # fmt: skip


def logical_lines(text: str):
    """(first line number, joined text) for each logical line, continuations joined."""
    number, parts, start = 0, [], 0
    for number, line in enumerate(text.splitlines()[:MAX_LINES], start=1):
        if not parts:
            start = number
        if line.endswith("\\") and not line.endswith("\\\\"):
            parts.append(line[:-1])
            continue
        parts.append(line)
        yield start, " ".join(parts)
        parts = []
    if parts:
        yield start, " ".join(parts)


_MAKE_ASSIGN = re.compile(
    r"^(?:export\s+|override\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*(?:\?|:|::|\+)?=\s*(.*?)\s*$"
)
_MAKE_REF = re.compile(r"\$[({]([A-Za-z_][A-Za-z0-9_.-]*)[)}]")


def _recipe_lines(text: str):
    """Makefile: only recipe lines (tab-indented), with ``@``/``-`` prefixes, simple variables
    (``NAME = value``, ``:=``, ``?=``) substituted, and ``$$`` undone. Each recipe line is its own
    shell, started in the Makefile's folder."""
    variables = {"CURDIR": "."}
    for number, line in logical_lines(text):
        if not line.startswith("\t"):
            assign = _MAKE_ASSIGN.match(line)
            if assign and "$" not in assign.group(2) and len(assign.group(2)) <= MAX_VALUE:
                variables.setdefault(assign.group(1), assign.group(2))  # the first (as ?= keeps it)
            continue
        recipe = line.lstrip("\t").lstrip("@-+")
        recipe = _MAKE_REF.sub(lambda m: variables.get(m.group(1), m.group(0)), recipe)
        yield number, recipe.replace("$$", "$")


def _split(line: str) -> list[list[str]]:
    """A line's commands as word lists; [] when the shell would not parse it."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|()")
    lexer.whitespace_split = True
    lexer.commenters = "#"
    words: list[str] = []
    try:
        for word in lexer:
            words.append(word)
            if len(words) > MAX_WORDS:
                break
    except ValueError:  # unbalanced quotes
        return []
    commands, current = [], []
    for word in words:
        if word in _SEPARATORS:
            if current:
                commands.append(current)
            current = []
            if word in ("(", ")"):
                commands.append([word])  # a subshell: cd inside it does not last
        else:
            current.append(word)
    if current:
        commands.append(current)
    return commands


ROOT = "@ROOT@"
"""Marks a path as project-absolute once ``$(dirname "$0")`` or ``$(pwd)`` is substituted."""
_SCRIPT_DIR = re.compile(
    r'\$\(\s*dirname\s+"?\$(?:0|\{0\}|\{BASH_SOURCE(?:\[0\])?\}|BASH_SOURCE)"?\s*\)|\$\{0%/\*\}'
)
_PWD = re.compile(r"\$\(\s*pwd\s*\)|\$\{PWD\}|\$PWD\b")
_CD_PWD = re.compile(r"\$\(\s*cd\s+(\S+?)\s*&&\s*pwd(?:\s+-P)?\s*\)")


class _Script:
    def __init__(self, path: str, text: str, out: Definitions, makefile: bool):
        self.path = path
        self.home = folder_of(path)
        self.folder: str | None = self.home
        """The working directory (project-relative), None once a ``cd`` cannot be followed."""
        self.stack: list[str | None] = []
        self.makefile = makefile
        self.out = out
        self.vars: dict[str, str] = {}
        self.containers: dict[str, str] = {}
        self.lines = _recipe_lines(text) if makefile else logical_lines(text)
        self.builds: list[str] = []

    def expand(self, word: str) -> tuple[str, bool]:
        """``word`` with known variables substituted; False when a ``$`` is left."""

        def one(match: re.Match) -> str:
            name = match.group(1) or match.group(2)
            return self.vars.get(name, match.group(0))

        value = _VAR.sub(one, word)
        return value, "$" not in value

    def place(self, word: str) -> str | None:
        """A path word seen from the working directory, project-relative; None if unknown."""
        if word.startswith(ROOT):
            return join(".", word[len(ROOT) :].lstrip("/") or ".")
        if self.folder is None:
            return None
        return join(self.folder, word)

    def run(self) -> None:
        for number, line in self.lines:
            if self.makefile:
                self.folder, self.stack = self.home, []
            here = f"{ROOT}/{self.folder}" if self.folder is not None else "$PWD"
            line = _SCRIPT_DIR.sub(f"{ROOT}/{self.home}", line)
            line = _PWD.sub(here, line)
            line = _CD_PWD.sub(lambda m: m.group(1).strip('"'), line)
            stripped = line.strip()
            substitution = _SUBST.match(stripped)
            if substitution:  # id=$(docker create app:build)
                for words in _split(substitution.group(2)):
                    image = self.create(words)
                    if image:
                        self.containers["$" + substitution.group(1)] = image
                continue
            for words in _split(stripped):
                self.command(words, number, stripped)

    def command(self, words: list[str], number: int, text: str) -> None:
        if words == ["("]:
            self.stack.append(self.folder)
            return
        if words == [")"]:
            self.folder = self.stack.pop() if self.stack else self.folder
            return
        if words and words[0] in ("cd", "pushd", "popd"):
            if words[0] == "popd":
                self.folder = self.stack.pop() if self.stack else None
                return
            if words[0] == "pushd":
                self.stack.append(self.folder)
            target = [w for w in words[1:] if not w.startswith("-")]
            value, ok = self.expand(target[0]) if target else ("", False)
            self.folder = self.place(value) if ok else None
            return
        while words and _ASSIGN.match(words[0]) and len(words) == 1:
            name, value = _ASSIGN.match(words[0]).groups()
            expanded, ok = self.expand(value)
            if ok and len(expanded) <= MAX_VALUE:  # A=$A$A doubles: long values are dropped
                self.vars[name] = expanded
            else:
                self.vars.pop(name, None)
            return
        while words and words[0] in ("sudo", "exec", "time", "command"):
            words = words[1:]
        if len(words) < 2 or words[0].rsplit("/", 1)[-1] not in ("docker", "podman"):
            return
        rest = words[1:]
        if rest[0] == "buildx" and len(rest) > 1 and rest[1] in ("build", "b"):
            self.build(rest[2:], number, text)
        elif rest[0] == "build" or (rest[0] in ("image", "builder") and len(rest) > 1 and rest[1] == "build"):
            self.build(rest[1:] if rest[0] == "build" else rest[2:], number, text)
        elif rest[0] in ("create", "run") or (
            rest[0] == "container" and len(rest) > 1 and rest[1] in ("create", "run")
        ):
            args = rest[1:] if rest[0] in ("create", "run") else rest[2:]
            self.create(["docker", "create", *args])
        elif rest[0] == "cp" or (rest[0] == "container" and len(rest) > 1 and rest[1] == "cp"):
            self.copy(rest[1:] if rest[0] == "cp" else rest[2:], number, text)
        elif rest[0] == "tag" or (rest[0] == "image" and len(rest) > 1 and rest[1] == "tag"):
            args = [w for w in (rest[1:] if rest[0] == "tag" else rest[2:]) if not w.startswith("-")]
            if len(args) == 2:
                for build in self.out.builds:
                    if build.source == self.path and args[0] in build.tags:
                        build.tags.append(args[1])

    def build(self, args: list[str], number: int, text: str) -> None:
        build = Build(name=f"{self.path}:{number}", kind="script", source=self.path, line=number)
        build.lines["build"] = number
        build.texts["build"] = text
        positional: list[str] = []
        dockerfile = None
        i = 0
        while i < len(args):
            word = args[i]
            name, sep, inline = word.partition("=") if word.startswith("--") else (word, "", "")
            if (
                word.startswith("-")
                and len(word) > 2
                and not word.startswith("--")
                and word[:2] in ("-t", "-f")
            ):
                name, sep, inline = word[:2], "=", word[2:]  # -tapp:build
            if name in _BUILD_VALUE:
                if sep:
                    value = inline
                else:
                    i += 1
                    value = args[i] if i < len(args) else ""
                value, ok = self.expand(value)
                if not ok:
                    build.unresolved.append(f"{name} {value}")
                elif name in ("-t", "--tag"):
                    build.tags.append(value)
                elif name in ("-f", "--file"):
                    dockerfile = value
                elif name == "--target":
                    build.target = value
                elif name == "--platform":
                    build.platforms.extend(p for p in value.split(",") if p)
                elif name in ("--build-arg", "--build-context"):
                    key, eq, val = value.partition("=")
                    if eq:
                        if name == "--build-context":
                            if "://" not in val and not val.startswith(("git@", "target:")):
                                val = self.place(val) or val
                            build.contexts[key] = val
                            build.lines[f"contexts.{key}"] = number
                            build.texts[f"contexts.{key}"] = text
                        else:
                            build.args[key] = val
            elif not word.startswith("-") or word == "-":
                positional.append(word)
            i += 1
        context_word = positional[0] if positional else "."
        context, ok = self.expand(context_word)
        if not ok or context == "-":
            build.unresolved.append(f"context: {context_word}")
            build.context = None
        elif self.folder is None and not context.startswith(ROOT):
            build.unresolved.append(f"context: {context} (the working directory is not known after cd)")
            build.context = None
        else:
            build.context = self.place(context)
            if build.context is None:
                build.unresolved.append(f"context: {context} (outside the project or remote)")
        if build.context is not None:
            if dockerfile is None:
                build.dockerfile = join(build.context, "Dockerfile")
            elif dockerfile != "-":
                # docker build reads -f from the working directory, not from the context
                build.dockerfile = self.place(dockerfile)
                if build.dockerfile is None:
                    build.unresolved.append(f"-f {dockerfile}")
        self.out.builds.append(build)
        self.builds.append(build.name)

    def create(self, words: list[str]) -> str | None:
        """``docker create [opts] IMAGE``: remember ``--name`` -> image; return the image."""
        if len(words) < 3 or words[1] not in ("create", "run"):
            if len(words) >= 4 and words[1] == "container" and words[2] in ("create", "run"):
                words = ["docker", "create", *words[3:]]
            else:
                return None
        name = None
        i = 2
        image = None
        while i < len(words):
            word = words[i]
            key, sep, inline = word.partition("=") if word.startswith("--") else (word, "", "")
            if key in _CREATE_VALUE:
                value = inline if sep else (words[i + 1] if i + 1 < len(words) else "")
                i += 1 if sep else 2
                if key == "--name":
                    name = self.expand(value)[0]
                continue
            if word.startswith("-"):
                i += 1
                continue
            image = self.expand(word)[0]
            break
        if image and name:
            self.containers[name] = image
        return image

    def copy(self, args: list[str], number: int, text: str) -> None:
        words = [w for w in args if not w.startswith("-")]
        if len(words) != 2:
            return
        source, dest = (self.expand(w)[0] for w in words)
        container, sep, inner = source.partition(":")
        if not sep or dest == "-":
            return
        ref = re.fullmatch(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?", container)
        image = self.containers.get("$" + ref.group(1) if ref else container)
        if image is None:
            return
        target = self.place(dest)
        if target is None:
            return
        self.out.copies.append(
            {"script": self.path, "line": number, "text": text, "image": image, "src": inner, "dest": target}
        )


def read_script(path: str, text: str, out: Definitions, makefile: bool = False) -> None:
    """Add the builds and copies of one shell script (or Makefile) to ``out``."""
    script = _Script(path, text, out, makefile)
    script.run()
    if script.builds:
        out.selectors.append(Selector(path, "script", list(script.builds)))


__all__ = ["logical_lines", "read_script"]
