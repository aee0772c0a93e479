"""Bake files (HCL or JSON) -> builds, groups and their links, as buildx reads them.

buildx reads several bake files as one definition (``docker buildx bake -f a.hcl -f b.hcl``, or
its default set ``docker-bake.json``, ``docker-bake.hcl``, ``docker-bake.override.json``,
``docker-bake.override.hcl``), and so does :func:`read_bake_set`: the bake files of one folder
are one set, the default names first in buildx's order, then the others by name (or the files
the user names, in the user's order). Within a set, as in buildx:

- ``variable`` blocks are shared by every file; a later definition of a name replaces an
  earlier one. A variable's value is the user's (``--var NAME=VALUE`` here; buildx's ``--var``
  or an environment variable of that name), else its ``default``, else an empty string (``null``
  when the block has a ``type``). A ``null`` value leaves an argument out. Each variable the user
  did not give is noted as such (it can come from the environment when buildx runs).
- Blocks of one target name merge in file order: later attributes win, ``args``, ``contexts``
  and ``labels`` merge key by key (a ``null`` never replaces a value), ``inherits`` lists add up.
  Then ``inherits`` applies the parents in order before the target's own attributes, by the same
  rules, whichever file defines the parent. A group defined again replaces the earlier one.
- A target's ``context`` defaults to ``.`` and its ``dockerfile`` to ``Dockerfile`` *inside the
  context*; with no target named the ``default`` group (or target) is built.

Paths are read relative to the set's folder (bake runs there in the usual layout). Function
calls, conditionals and any other expression are left unresolved and reported, never guessed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from .guard import MAX_NESTING, too_deep
from .hclexpr import Unknown, evaluate
from .model import Build, Definitions, ProjectDiagnostic, Selector
from .paths import folder_of, inside, join

MAX_BAKE_BYTES = 64 * 1024
"""Largest bake file parsed: python-hcl2 takes about a second per 20 KiB on a loaded machine
(real bake files are a few KiB)."""
MAX_INHERIT_DEPTH = 32
MAX_VALUE = 4096
"""Longest value a variable may take after substitution (longer is left unresolved)."""
BUILTIN_VARIABLES = {"BAKE_LOCAL_PLATFORM": "linux/amd64", "BAKE_CMD_CONTEXT": "cwd://"}
"""buildx's built-in variables (the platform is our default build platform)."""
DEFAULT_FILES = (
    "docker-bake.json",
    "docker-bake.hcl",
    "docker-bake.override.json",
    "docker-bake.override.hcl",
)
"""buildx's default bake files, in the order it reads them."""
_VAR = re.compile(r"\$\{\s*([A-Za-z_][A-Za-z0-9_-]*)\s*\}")
_BARE = re.compile(r"\$\{\s*([A-Za-z_][A-Za-z0-9_-]*)\s*\}\Z")
_ANY_EXPR = re.compile(r"\$\{")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_MAP_FIELDS = ("args", "contexts", "labels")
_TOP_BLOCK = re.compile(r'^([A-Za-z_][\w-]*)(?:[ \t]+(?:"[^"\n]*"|[A-Za-z_][\w-]*))*[ \t]*\{', re.M)
_BAKE_BLOCKS = frozenset({"target", "group", "variable", "function"})


def looks_like_bake(text: str) -> bool:
    """True for HCL whose top-level blocks are all bake's (``target``, ``group``, ``variable``,
    ``function``): Terraform, Packer or Nomad files have blocks of their own."""
    kinds = {m.group(1) for m in _TOP_BLOCK.finditer(text)}
    return bool(kinds) and kinds <= _BAKE_BLOCKS


def set_order(path: str) -> tuple:
    """Sort key of a bake file within its folder's set: buildx's default names first, in order."""
    name = path.rsplit("/", 1)[-1]
    lower = name.lower()
    return (DEFAULT_FILES.index(lower) if lower in DEFAULT_FILES else len(DEFAULT_FILES), name)


class _Unresolved:
    """A value that cannot be known statically (a function call, an unknown variable, ...)."""

    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:
        return f"_Unresolved({self.text!r})"


_NO_DEFAULT = object()


@dataclass
class _File:
    path: str
    lines: list[str]
    variables: dict[str, dict]
    groups: dict[str, tuple[list, int | None]]
    targets: dict[str, dict]


@dataclass
class _Target:
    """One target after its blocks of every file merged: attribute -> (value, path, line)."""

    name: str
    source: str
    line: int | None
    attrs: dict[str, tuple] = field(default_factory=dict)
    inherits: list[tuple[str, str, int | None]] = field(default_factory=list)


def read_bake_set(
    files: list[tuple[str, str, str]],
    out: Definitions,
    variables: Mapping[str, str] | None = None,
    compose: list[Build] | None = None,
) -> set[str]:
    """Add the targets and groups of one set of bake files (``(path, text, kind)`` in order) to ``out``.

    ``variables`` are the user's values (buildx's ``--var``, or the environment), which win over
    a variable's default. ``compose`` are the services of the compose files bake reads with them
    (its default set holds ``compose.yaml`` and the like, read first): a bake target of a
    service's name is merged onto it, and a target may inherit from a service. Returns the names
    of the services merged so (their builds are bake's now).
    """
    parsed: list[_File] = []
    for path, text, kind in files:
        if len(text.encode("utf-8")) > MAX_BAKE_BYTES:
            message = f"bake file larger than {MAX_BAKE_BYTES} bytes"
            out.diagnostics.append(ProjectDiagnostic("error", "bake-too-large", message, path))
            continue
        deep = too_deep(text)
        if deep is not None:
            message = f"nested deeper than {MAX_NESTING} levels"
            out.diagnostics.append(ProjectDiagnostic("error", "bake-too-deep", message, path, deep))
            continue
        try:
            variables_, groups, targets = _parse_hcl(text) if kind == "bake-hcl" else _parse_json(text)
        except _ParseError as exc:
            out.diagnostics.append(ProjectDiagnostic("error", "bake-syntax", str(exc), path, exc.line))
            continue
        parsed.append(_File(path, text.splitlines(), variables_, groups, targets))
    if not parsed:
        return set()
    values = _variable_values(parsed, dict(variables or {}), out)
    texts = {f.path: f.lines for f in parsed}

    merged: dict[str, _Target] = {}
    folder = folder_of(parsed[0].path)
    from_compose: set[str] = set()
    for service in compose or []:
        if service.name not in merged:
            merged[service.name] = _Target(service.name, service.source, service.line)
            merged[service.name].attrs = _compose_attrs(service, folder)
            from_compose.add(service.name)
    for f in parsed:
        for name, raw in f.targets:
            target = merged.get(name)
            if target is None:
                target = merged[name] = _Target(name, f.path, raw["__line__"])
            elif name in from_compose:  # the first bake block of a service: the build is bake's now
                from_compose.discard(name)
                target.source, target.line = f.path, raw["__line__"]
            _merge_block(target, raw, f.path, values)
    groups: dict[str, tuple[list, str, int | None]] = {}
    for f in parsed:
        for name, (members, line) in f.groups.items():
            members = _evaluate(members, values)
            groups[name] = (members if isinstance(members, list) else [], f.path, line)

    resolved: dict[str, dict] = {}
    for name in merged:
        _resolve(name, merged, resolved, out, [])
    for name, target in merged.items():
        if name in from_compose:
            continue  # a service bake does not name again: compose's own build stands for it
        build = Build(name=name, kind="bake-target", source=target.source, line=target.line)
        _fill(build, resolved.get(name, {}), folder, texts)
        out.builds.append(build)
        out.selectors.append(Selector(name, "bake-target", [name]))
        for parent, path, line in target.inherits:
            if parent not in merged:
                continue
            out.links.append(
                {
                    "kind": "inherits",
                    "from": {"path": merged[parent].source, "target": parent},
                    "to": {"path": target.source, "target": name},
                    "line": line,
                    "via": {"path": path, "text": _line(texts, path, line)},
                }
            )
    for name in groups:
        out.selectors.append(Selector(name, "bake-group", _expand_group(name, groups, merged, [])))
    if "default" in groups or "default" in merged:
        out.default = out.default or "default"
    return {service.name for service in compose or []} - from_compose


def _compose_attrs(service: Build, folder: str) -> dict:
    """A compose service's build as bake target attributes, paths relative to the set's folder."""
    where = service.source

    def line(key: str) -> int | None:  # compose notes few lines: else its build key's
        return service.lines.get(key) or service.lines.get("build") or service.line

    attrs: dict = {}
    context = inside(service.context, folder) if service.context is not None else None
    if context is not None:
        attrs["context"] = (context, where, line("context"))
        if service.inline is not None:
            attrs["dockerfile-inline"] = (service.inline, where, line("dockerfile"))
        elif service.dockerfile is not None:
            relative = inside(service.dockerfile, service.context)
            if relative is not None:
                attrs["dockerfile"] = (relative, where, line("dockerfile"))
    if service.target is not None:
        attrs["target"] = (service.target, where, line("target"))
    if service.args:
        entries = {k: (v, where, line("args")) for k, v in service.args.items()}
        attrs["args"] = (entries, where, line("args"))
    if service.contexts:
        entries = {}
        for key, value in service.contexts.items():
            local = "://" not in value and not value.startswith(("target:", "git@"))
            value = (inside(value, folder) or value) if local else value
            entries[key] = (value, where, service.lines.get(f"contexts.{key}", line("additional_contexts")))
        attrs["contexts"] = (entries, where, line("additional_contexts"))
    for key in ("tags", "platforms"):
        if getattr(service, key):
            attrs[key] = (list(getattr(service, key)), where, service.line)
    return attrs


def _line(texts: dict[str, list[str]], path: str, line: int | None) -> str | None:
    lines = texts.get(path, [])
    return lines[line - 1].strip() if line and 0 < line <= len(lines) else None


def _merge_block(target: _Target, raw: dict, path: str, values: dict) -> None:
    """Merge one block of the target (from file ``path``) into what earlier blocks gave."""
    lines = raw["__lines__"]
    for key, item in raw.items():
        if key.startswith("__"):
            continue
        value, line = item
        value = _evaluate(value, values)
        if key == "inherits":
            if isinstance(value, list):
                target.inherits += [(p, path, line) for p in value if isinstance(p, str)]
            else:
                target.attrs.setdefault("__bad__", []).append(("inherits", value, path, line))
            continue
        if key in _MAP_FIELDS and isinstance(value, dict):
            current = target.attrs.get(key)
            mapping = dict(current[0]) if current and isinstance(current[0], dict) else {}
            for name, entry in value.items():
                if entry is not None:  # buildx: a null never replaces a value
                    mapping[name] = (entry, path, lines.get(f"{key}.{name}", line))
            target.attrs[key] = (mapping, path, line)
        elif value is not None:
            target.attrs[key] = (value, path, line)


def _apply(into: dict, attrs: dict) -> None:
    """buildx's merge of a parent's (resolved) attributes with a child's."""
    for key, entry in attrs.items():
        if key == "__bad__":
            into.setdefault(key, []).extend(entry)
            continue
        value = entry[0]
        current = into.get(key)
        if key in _MAP_FIELDS and isinstance(value, dict) and current and isinstance(current[0], dict):
            into[key] = ({**current[0], **value}, entry[1], entry[2])
        else:
            into[key] = entry


def _resolve(name: str, merged: dict, done: dict, out: Definitions, seen: list[str]) -> dict:
    """The target's attributes with its parents' applied first, whichever file defines them."""
    if name in done:
        return done[name]
    target = merged[name]
    if name in seen or len(seen) > MAX_INHERIT_DEPTH:
        message = f"target {name!r} inherits from itself ({' -> '.join(seen + [name])})"
        out.diagnostics.append(
            ProjectDiagnostic("error", "bake-inherits-cycle", message, target.source, target.line)
        )
        return {}
    result: dict = {}
    for parent, path, line in target.inherits:
        if parent not in merged:
            message = f"target {name!r} inherits from {parent!r}, which is not a target"
            out.diagnostics.append(ProjectDiagnostic("error", "bake-unknown-target", message, path, line))
            continue
        _apply(result, _resolve(parent, merged, done, out, seen + [name]))
    _apply(result, target.attrs)
    done[name] = result
    return result


def _expand_group(name: str, groups: dict, targets: dict, seen: list[str]) -> list[str]:
    if name in seen or len(seen) > MAX_INHERIT_DEPTH:
        return []
    found: list[str] = []
    for member in groups[name][0]:
        if not isinstance(member, str):
            continue
        if member in groups and member not in targets:
            items = _expand_group(member, groups, targets, seen + [name])
        else:
            items = [member]
        found.extend(i for i in items if i not in found)
    return found


# -- variables and values --------------------------------------------------------------------------


def _variable_values(files: list[_File], user: dict[str, str], out: Definitions) -> dict:
    """Variable -> its value: a string, None (null) or :class:`_Unresolved`; noted in ``out``."""
    declared: dict[str, tuple[dict, str]] = {}
    for f in files:
        for name, info in f.variables.items():
            if name not in BUILTIN_VARIABLES:
                declared[name] = (info, f.path)  # a later definition replaces an earlier one
    values: dict = dict(BUILTIN_VARIABLES)
    pending: dict[str, object] = {}
    for name, (info, _path) in declared.items():
        if name in user and not info.get("attribute"):
            values[name] = user[name]
        elif info["default"] is _NO_DEFAULT:
            values[name] = None if info["typed"] else ""
        else:
            pending[name] = info["default"]

    def resolve(name: str, depth: int) -> None:
        if name in values or name not in pending or depth > MAX_INHERIT_DEPTH:
            return
        default = pending.pop(name)
        for ref in _references(default):
            resolve(ref, depth + 1)
        values[name] = _evaluate(default, values)

    for name in list(pending):
        resolve(name, 0)
    for name, (info, path) in declared.items():
        value = values.get(name)
        if name in user and not info.get("attribute"):
            source, note = "user", None
        elif info.get("attribute"):
            source, note = "default", None  # a global attribute: the environment cannot change it
        elif isinstance(value, _Unresolved):
            source, note = "unresolved", f"its default {_show(value)} cannot be resolved statically"
        elif info["default"] is _NO_DEFAULT:
            source = "null" if value is None else "empty"
            note = "no default: " + ("null, arguments set from it are left out" if value is None else "empty")
        elif value is None:
            source, note = "null", "default null: arguments set from it are left out"
        else:
            source, note = "default", f"default {json.dumps(value)}"
        out.variables.append(
            {
                "name": name,
                "path": path,
                "line": info.get("line"),
                "value": value if isinstance(value, str) else None,
                "from": source,
            }
        )
        if note is not None:
            out.diagnostics.append(
                ProjectDiagnostic(
                    "info",
                    "bake-variable",
                    f"variable {name}: {note}; buildx takes ${name} from the environment first"
                    f" (give a value with --var {name}=VALUE)",
                    path,
                    info.get("line"),
                )
            )
    return values


def _references(value) -> list[str]:
    if isinstance(value, str):
        return _VAR.findall(value)
    if isinstance(value, list):
        return [r for v in value for r in _references(v)]
    if isinstance(value, dict):
        return [r for v in value.values() for r in _references(v)]
    return []


class _Stop(Exception):
    pass


def _evaluate(value, values: dict):
    """A parsed bake value with variables substituted: a string, None (null), a list, a dict, or
    :class:`_Unresolved` for what cannot be known statically."""
    if value is None or isinstance(value, _Unresolved):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, list):
        return [_evaluate(v, values) for v in value]
    if isinstance(value, dict):
        return {k: _evaluate(v, values) for k, v in value.items()}
    if not isinstance(value, str):
        return _Unresolved(str(value))
    bare = _BARE.match(value)
    if bare:  # "${X}" alone is X itself, null included (HCL unwraps a lone interpolation)
        return values[bare.group(1)] if bare.group(1) in values else _Unresolved(value)

    def substitute(match: re.Match) -> str:
        found = values.get(match.group(1))
        if not isinstance(found, str):
            raise _Stop
        return found

    try:
        text = _VAR.sub(substitute, value.replace("$${", "\x00"))
    except _Stop:
        return _expression(value, values)
    if _ANY_EXPR.search(text):
        return _expression(value, values)
    if len(text) > MAX_VALUE:  # "${A}${A}" chains double
        return _Unresolved(value)
    return text.replace("\x00", "${")


def _expression(value: str, values: dict):
    """``${expression}`` evaluated when all it uses is known (:mod:`.hclexpr`), else unresolved."""
    if not (value.startswith("${") and value.endswith("}")):
        return _Unresolved(value)

    def variable(name: str):
        if name not in values or isinstance(values[name], _Unresolved):
            raise Unknown(name)
        return values[name]

    def template(text: str):
        result = _evaluate(text, values)
        if isinstance(result, _Unresolved):
            raise Unknown(text)
        return result

    try:
        result = evaluate(value[2:-1], variable, template)
    except Unknown:
        return _Unresolved(value)
    return _as_text(result)


def _as_text(value):
    """An expression's value as bake passes it on: booleans as ``true``/``false``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return [_as_text(v) for v in value]
    if isinstance(value, dict):
        return {k: _as_text(v) for k, v in value.items()}
    return value


def _show(value) -> str:
    if isinstance(value, _Unresolved):
        return value.text
    if isinstance(value, list):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_show(v)}" for k, v in value.items()) + "}"
    return "null" if value is None else str(value)


def _fill(build: Build, attrs: dict, folder: str, texts: dict[str, list[str]]) -> None:
    def note(key: str, path: str, line: int | None) -> None:
        if line is None:
            return
        build.lines[key] = line
        text = _line(texts, path, line)
        if text is not None:
            build.texts[key] = text
        if path != build.source:
            build.paths[key] = path

    def text(key: str) -> str | None:
        value, path, line = attrs[key]
        note(key, path, line)
        if isinstance(value, str):
            return value
        build.unresolved.append(f"{key}: {_show(value)}")
        return None

    for key, value, _path, _line_number in attrs.get("__bad__", []):
        build.unresolved.append(f"{key}: {_show(value)}")
    context = text("context") if "context" in attrs else "."
    dockerfile = text("dockerfile") if "dockerfile" in attrs else "Dockerfile"
    dockerfile = dockerfile or ("Dockerfile" if dockerfile == "" else None)
    build.context = join(folder, context) if context is not None else None
    if context is not None and build.context is None:
        build.unresolved.append(f"context: {context} (outside the project or remote)")
    if build.context is not None and dockerfile is not None:
        build.dockerfile = join(build.context, dockerfile)
        if build.dockerfile is None:
            build.unresolved.append(f"dockerfile: {dockerfile} (outside the project)")
    if "target" in attrs:
        build.target = text("target")
    if "matrix" in attrs:
        build.unresolved.append("matrix: the target expands to several (not expanded here)")
    if "dockerfile-inline" in attrs:
        build.inline = text("dockerfile-inline")
        build.dockerfile = f"{build.source}#{build.name}" if build.inline is not None else None
        if "dockerfile-inline" in build.lines:
            build.lines["dockerfile"] = build.lines["dockerfile-inline"]
            if "dockerfile-inline" in build.paths:
                build.paths["dockerfile"] = build.paths["dockerfile-inline"]
        else:
            build.lines["dockerfile"] = build.line
    for key in ("args", "contexts"):
        if key not in attrs:
            continue
        mapping, path, line = attrs[key]
        note(key, path, line)
        if not isinstance(mapping, dict):
            build.unresolved.append(f"{key}: {_show(mapping)}")
            continue
        for name, (value, entry_path, entry_line) in mapping.items():
            if not isinstance(value, str):
                build.unresolved.append(f"{key}.{name}: {_show(value)}")
                continue
            note(f"{key}.{name}", entry_path, entry_line)
            if key == "contexts":
                if not value:
                    continue  # buildx drops an empty context
                if not value.startswith(("target:", "docker-image://", "oci-layout://")):
                    if "://" not in value and not value.startswith("git@"):
                        value = join(folder, value) or value
            getattr(build, key)[name] = value
    for key in ("tags", "platforms"):
        if key not in attrs:
            continue
        items, path, line = attrs[key]
        note(key, path, line)
        if not isinstance(items, list):
            build.unresolved.append(f"{key}: {_show(items)}")
            continue
        for item in items:
            if isinstance(item, str):
                getattr(build, key).append(item)
            else:
                build.unresolved.append(f"{key}: {_show(item)}")


# -- parsing ---------------------------------------------------------------------------------------


class _ParseError(Exception):
    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.line = line


def _unquote(value):
    """python-hcl2 keeps string quotes: ``'"x"'`` -> ``x`` (escapes undone); expressions stay."""
    if isinstance(value, str):
        if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
            try:
                return json.loads(value)
            except ValueError:
                return value[1:-1]
        if value in ("true", "false"):
            return value
        if _IDENT.fullmatch(value):  # a bare variable reference: GO_VERSION
            return "${" + value + "}"
        return value if value.startswith("${") else "${" + value + "}"
    if isinstance(value, list):
        return [_unquote(v) for v in value]
    if isinstance(value, dict):
        return {_key(k): _unquote(v) for k, v in value.items() if not str(k).startswith("__")}
    return value


def _key(key) -> str:
    key = str(key)
    return key[1:-1] if len(key) >= 2 and key[0] == key[-1] == '"' else key


def _parse_hcl(text: str):
    import hcl2
    from lark.exceptions import LarkError

    options = hcl2.SerializationOptions(with_comments=False, preserve_heredocs=False)
    try:
        tree = hcl2.parses_to_tree(text)
        lines = _hcl_lines(tree)  # before transform, which reuses the tree
        data = hcl2.serialize(hcl2.transform(tree), serialization_options=options)
    except LarkError as exc:
        raise _ParseError(
            f"not valid HCL: {str(exc).splitlines()[0][:200]}", getattr(exc, "line", None)
        ) from None
    except (RecursionError, ValueError, TypeError) as exc:
        raise _ParseError(f"not valid HCL: {exc}") from None
    variables: dict[str, dict] = {}
    groups: dict[str, tuple[list, int | None]] = {}
    targets: list[tuple[str, dict]] = []
    for block_type, items in data.items():
        if block_type not in ("variable", "group", "target", "function"):
            if not _is_blocks(items):  # a global attribute: a variable the environment cannot set
                variables[block_type] = {"default": _unquote(items), "typed": False, "attribute": True}
            continue
        if not isinstance(items, list):
            continue
        for item in items:
            for label, body in item.items():
                name = _key(label)
                body = body if isinstance(body, dict) else {}
                info = lines.get((block_type, name), {})
                if block_type == "variable":
                    variables[name] = {
                        "default": _unquote(body["default"]) if "default" in body else _NO_DEFAULT,
                        "typed": "type" in body,
                        "line": info.get(""),
                    }
                elif block_type == "group":
                    members = _unquote(body.get("targets", []))
                    groups[name] = (members if isinstance(members, list) else [], info.get(""))
                elif block_type == "target":
                    target = {"__line__": info.get(""), "__lines__": {k: v for k, v in info.items() if k}}
                    for key, value in body.items():
                        if not key.startswith("__"):
                            target[key] = (_unquote(value), info.get(key))
                    targets.append((name, target))
    return variables, groups, targets


def _is_blocks(items) -> bool:
    return isinstance(items, list) and all(
        isinstance(i, dict) and all(isinstance(b, dict) and b.get("__is_block__") for b in i.values())
        for i in items
    )


def _hcl_lines(tree) -> dict[tuple[str, str], dict[str, int]]:
    """(block type, label) -> {"": block line, attribute: line, "attribute.key": line}."""
    from lark import Token, Tree

    def text_of(node) -> str:
        if isinstance(node, Token):
            return str(node)
        return "".join(str(t) for t in node.scan_values(lambda v: isinstance(v, Token)))

    out: dict[tuple[str, str], dict[str, int]] = {}
    top = tree.children[0] if tree.children and isinstance(tree.children[0], Tree) else tree
    for block in top.children:
        if not isinstance(block, Tree) or block.data != "block":
            continue
        parts = [c for c in block.children if isinstance(c, Tree)]
        if len(parts) < 2:
            continue
        kind = text_of(parts[0])
        label = text_of(parts[1]).strip('"') if parts[1].data == "string" else text_of(parts[1])
        info = out.setdefault((kind, label), {"": block.meta.line})
        body = next((c for c in parts if c.data == "body"), None)
        for attribute in body.children if body is not None else []:
            if not isinstance(attribute, Tree) or attribute.data != "attribute":
                continue
            name = text_of(attribute.children[0])
            info[name] = attribute.meta.line
            for elem in attribute.iter_subtrees_topdown():
                if elem.data == "object_elem":
                    key = text_of(elem.children[0]).strip().strip('"')
                    info[f"{name}.{key}"] = elem.meta.line
    return out


def _parse_json(text: str):
    try:
        data = json.loads(text)
    except RecursionError:
        raise _ParseError("not valid JSON: nested too deeply") from None
    except ValueError as exc:
        raise _ParseError(f"not valid JSON: {exc}", getattr(exc, "lineno", None)) from None
    if not isinstance(data, dict):
        raise _ParseError("a bake JSON file must be an object")
    lines = text.splitlines()

    def line_of(word: str, after: int = 0) -> int | None:
        needle = json.dumps(word)
        for number in range(after, len(lines)):
            if needle in lines[number]:
                return number + 1
        return None

    variables = {}
    for name, body in (data.get("variable") or {}).items():
        body = body if isinstance(body, dict) else {}
        variables[name] = {
            "default": body.get("default", _NO_DEFAULT),
            "typed": "type" in body,
            "line": line_of(name),
        }
    groups = {}
    for name, body in (data.get("group") or {}).items():
        members = body.get("targets", []) if isinstance(body, dict) else []
        groups[name] = (members if isinstance(members, list) else [], line_of(name))
    targets: list[tuple[str, dict]] = []
    start = line_of("target") or 1
    for name, body in (data.get("target") or {}).items():
        line = line_of(name, start - 1)
        target = {"__line__": line, "__lines__": {}}
        for key, value in (body if isinstance(body, dict) else {}).items():
            key_line = line_of(key, (line or 1) - 1)
            target[key] = (value, key_line)
            target["__lines__"][key] = key_line
            if isinstance(value, dict):
                for sub in value:
                    target["__lines__"][f"{key}.{sub}"] = line_of(sub, (key_line or 1) - 1)
        targets.append((name, target))
    return variables, groups, targets


__all__ = ["looks_like_bake", "read_bake_set", "set_order"]
