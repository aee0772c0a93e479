"""The options of a render, validated once for the CLI, the API and share links.

Every option is an enumerated value or matches a strict pattern; anything else is an
:class:`OptionError` (HTTP 400), never passed further.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar

from .contexts import context_key
from .errors import RequestRefused
from .platforms import PlatformError, normalize_platform, parse_platform

FORMATS = ("json", "svg", "png", "dot", "mermaid")
VIEWS = ("stages", "layers")
DEFAULT_PLATFORM = "linux/amd64"

_TARGET = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,127}$")
_ARG_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
_PLATFORM = re.compile(r"^[A-Za-z0-9_.()+%/-]{1,100}$")
MAX_BUILD_ARGS = 64
MAX_BUILD_ARG_VALUE = 1024
MAX_BUILD_CONTEXTS = 32
MAX_CONTEXT_VALUE = 1024
MAX_PROJECT_TARGET = 128
MAX_VARIABLES = 64
"""Most bake variables a user may give (``--var``)."""
MAX_BAKE_FILES = 64
_VARIABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,127}")


class OptionError(RequestRefused):
    """An option that is unknown or has a value outside its allowed set (HTTP 400)."""


@dataclass(frozen=True, slots=True)
class Options:
    """What to draw: the target stage, build args, platform, view and named build contexts."""

    kind: ClassVar[str] = "dockerfile"
    """What a share with these options holds (see :class:`ProjectOptions`)."""

    target: str | None = None
    """``--target`` stage name (case-insensitive), or None for the last stage."""
    build_args: tuple[tuple[str, str], ...] = ()
    """``--build-arg`` pairs, sorted by name."""
    platform: str | None = None
    """Target platform such as ``linux/arm64``; None means linux/amd64."""
    view: str = "stages"
    """``stages`` or ``layers``."""
    build_contexts: tuple[tuple[str, str], ...] = ()
    """``--build-context`` pairs (name, value), sorted by name; in a link's options only when given,
    so links and cache keys made before they existed are unchanged."""

    @classmethod
    def from_mapping(cls, data: dict, *, allow: tuple[str, ...] = ()) -> Options:
        """Validate a JSON-like mapping; keys in ``allow`` are accepted and ignored."""
        known = {"target", "build_args", "platform", "view", "build_contexts"}
        unknown = sorted(set(data) - known - set(allow))
        if unknown:
            raise OptionError(f"unknown option: {unknown[0]}")
        target = data.get("target") or None
        if target is not None and (not isinstance(target, str) or not _TARGET.match(target)):
            raise OptionError("target must be a stage name (letters, digits, '.', '_', '-')")
        platform = data.get("platform") or None
        if platform is not None:
            platform = _platform(platform)
        view = data.get("view") or "stages"
        if view not in VIEWS:
            raise OptionError(f"view must be one of: {', '.join(VIEWS)}")
        raw_args = _named_values(
            data.get("build_args") or {}, "build_args", "build_args entries must be KEY=VALUE", MAX_BUILD_ARGS
        )
        args = []
        for name, value in raw_args.items():
            if not isinstance(name, str) or not _ARG_NAME.match(name):
                raise OptionError(f"build arg name {str(name)[:40]!r} is not a valid ARG name")
            if not isinstance(value, str) or len(value) > MAX_BUILD_ARG_VALUE:
                raise OptionError(
                    f"build arg {name} must be a string of at most {MAX_BUILD_ARG_VALUE} characters"
                )
            args.append((name, value))
        contexts = parse_build_contexts(data.get("build_contexts") or None)
        return cls(
            target=target,
            build_args=tuple(sorted(args)),
            platform=platform,
            view=view,
            build_contexts=tuple(sorted(contexts.items())),
        )

    def to_mapping(self) -> dict:
        """Canonical JSON-like form (only non-default values), for links and cache keys."""
        out: dict = {}
        if self.target:
            out["target"] = self.target
        if self.build_args:
            out["build_args"] = dict(self.build_args)
        if self.platform and self.platform != DEFAULT_PLATFORM:
            out["platform"] = self.platform
        if self.view != "stages":
            out["view"] = self.view
        if self.build_contexts:
            out["build_contexts"] = dict(self.build_contexts)
        return out

    def analysis_kwargs(self) -> dict:
        """Keyword arguments for :func:`webapp.analyze`."""
        return {
            "target": self.target,
            "build_args": dict(self.build_args),
            "platform": self.platform or DEFAULT_PLATFORM,
            "contexts": dict(self.build_contexts),
        }


def _named_values(values, field: str, entry_error: str, most: int) -> dict:
    """``["NAME=value", …]`` or ``{NAME: value}`` as a mapping of at most ``most`` entries (names
    and values are checked by the caller)."""
    if isinstance(values, (list, tuple)):
        pairs = []
        for item in values:
            if not isinstance(item, str) or "=" not in item:
                raise OptionError(entry_error)
            pairs.append(tuple(item.split("=", 1)))
        values = dict(pairs)
    if not isinstance(values, dict):
        raise OptionError(f"{field} must be an object of names to values")
    if len(values) > most:
        raise OptionError(f"at most {most} {field.replace('_', ' ')}")
    return values


def parse_build_contexts(values) -> dict[str, str]:
    """``["name=value", …]`` or ``{name: value}`` -> a checked mapping (:class:`OptionError` if bad).

    Names must be valid image-reference names, as buildx requires of ``--build-context``.
    """
    if values is None:
        return {}
    values = _named_values(values, "build_contexts", "build contexts must be name=value", MAX_BUILD_CONTEXTS)
    out = {}
    for name, value in values.items():
        if not isinstance(name, str) or not name or len(name) > 255 or context_key(name) is None:
            raise OptionError(f"invalid context name {str(name)[:40]!r}: it must be a valid image name")
        if not isinstance(value, str) or not value or len(value) > MAX_CONTEXT_VALUE:
            raise OptionError(f"build context {name} must be a value of 1 to {MAX_CONTEXT_VALUE} characters")
        if any(ord(c) < 32 for c in value):
            raise OptionError(f"build context {name} has control characters")
        out[name] = value
    return out


def parse_variables(values) -> dict[str, str]:
    """``["NAME=VALUE", …]`` or ``{NAME: VALUE}`` -> a checked mapping (:class:`OptionError` if bad).

    Like buildx's ``--var``: the value a bake variable takes instead of its default (buildx also
    reads it from the environment); compose's ``${NAME}`` reads it too.
    """
    if values is None:
        return {}
    values = _named_values(values, "variables", "variables must be NAME=VALUE", MAX_VARIABLES)
    out = {}
    for name, value in values.items():
        if not isinstance(name, str) or not _VARIABLE_NAME.fullmatch(name):
            raise OptionError(f"invalid variable name {str(name)[:40]!r}")
        if not isinstance(value, str) or len(value) > MAX_CONTEXT_VALUE:
            raise OptionError(f"variable {name} must be text of at most {MAX_CONTEXT_VALUE} characters")
        if any(ord(c) < 32 for c in value):
            raise OptionError(f"variable {name} has control characters")
        out[name] = value
    return out


def _bake_files(values) -> tuple[str, ...]:
    """The bake files named (``-f``), as project paths in order (the core checks they exist)."""
    if not values:
        return ()
    if not isinstance(values, (list, tuple)) or not all(isinstance(v, str) and v for v in values):
        raise OptionError("bake_files must be a list of paths in the project")
    if len(values) > MAX_BAKE_FILES:
        raise OptionError(f"at most {MAX_BAKE_FILES} bake files")
    if any(len(v) > 512 or not v.isprintable() for v in values):
        raise OptionError("bake_files must be paths in the project")
    return tuple(dict.fromkeys(values))


@dataclass(frozen=True, slots=True)
class ProjectOptions:
    """What to draw of a whole project: the project target, the user's build contexts, bake
    variables and bake files.

    (A project is drawn in the stages view; ``view`` applies to one file drawn alone.)"""

    kind: ClassVar[str] = "project"
    """What a share with these options holds: a project's files."""

    project_target: str | None = None
    """A bake group or target, a compose service or a script; None: bake's default, else everything."""
    build_contexts: tuple[tuple[str, str], ...] = ()
    """``--build-context`` pairs for every build, sorted by name."""
    variables: tuple[tuple[str, str], ...] = ()
    """Bake variables' values (``--var``; compose's ``${NAME}`` too), sorted by name."""
    bake_files: tuple[str, ...] = ()
    """The bake files read together, in order (``-f``); empty: each folder's."""

    @classmethod
    def from_mapping(cls, data: dict, *, allow: tuple[str, ...] = ()) -> ProjectOptions:
        """Validate a JSON-like mapping; keys in ``allow`` are accepted and ignored."""
        known = {"project_target", "build_contexts", "variables", "bake_files"}
        unknown = sorted(set(data) - known - set(allow))
        if unknown:
            raise OptionError(f"unknown option: {unknown[0]}")
        target = data.get("project_target") or None
        if target is not None and (
            not isinstance(target, str) or len(target) > MAX_PROJECT_TARGET or not target.isprintable()
        ):
            raise OptionError("project_target must be a bake group or target, or a compose service")
        contexts = parse_build_contexts(data.get("build_contexts") or None)
        variables = parse_variables(data.get("variables") or None)
        return cls(
            project_target=target,
            build_contexts=tuple(sorted(contexts.items())),
            variables=tuple(sorted(variables.items())),
            bake_files=_bake_files(data.get("bake_files")),
        )

    def to_mapping(self) -> dict:
        """Canonical JSON-like form (only non-default values), for links and cache keys."""
        out: dict = {}
        if self.project_target:
            out["project_target"] = self.project_target
        if self.build_contexts:
            out["build_contexts"] = dict(self.build_contexts)
        if self.variables:
            out["variables"] = dict(self.variables)
        if self.bake_files:
            out["bake_files"] = list(self.bake_files)
        return out

    def analysis_kwargs(self) -> dict:
        """Keyword arguments for :func:`webapp.project.analyze_project`."""
        return {
            "project_target": self.project_target,
            "build_contexts": dict(self.build_contexts),
            "variables": dict(self.variables),
            "bake_files": list(self.bake_files) or None,
        }


OPTIONS_OF_KIND: dict[str, type[Options] | type[ProjectOptions]] = {
    Options.kind: Options,
    ProjectOptions.kind: ProjectOptions,
}
"""The options class of each kind of share (a Dockerfile, a project), by ``kind``."""


def check_format(fmt: str) -> str:
    """Return ``fmt`` if it is a known output format, else raise :class:`OptionError`."""
    if fmt not in FORMATS:
        raise OptionError(f"format must be one of: {', '.join(FORMATS)}")
    return fmt


def _platform(value: object) -> str:
    """A ``--platform`` value containerd accepts, normalised as BuildKit does (``arm64`` is linux/arm64)."""
    if isinstance(value, str) and _PLATFORM.fullmatch(value):
        try:
            parse_platform(value)
        except PlatformError:
            pass
        else:
            return normalize_platform(value)
    raise OptionError("platform must look like os/arch or os/arch/variant, e.g. linux/arm64")
