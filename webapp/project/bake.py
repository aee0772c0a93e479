"""``docker-bake.hcl`` / ``docker-bake.json`` -> builds, groups and their links, as buildx reads them.

The rules followed (buildx's bake): a target's ``context`` defaults to ``.`` and its ``dockerfile``
to ``Dockerfile``, resolved *inside* the context; blocks of one name merge, later attributes
winning; ``inherits`` applies the parents in order before the target's own attributes, where maps
(``args``, ``contexts``, ``labels``) merge key by key and lists (``tags``, ``platforms``) and
scalars are replaced; with no target named, the ``default`` group (or target) is built.
Paths are read relative to the bake file's folder (bake runs from there in the usual layout).
Variables are substituted from their ``default``; a variable without one, a function call or any
other expression is left unresolved and reported, never guessed.
"""

from __future__ import annotations

import json
import re

from .guard import MAX_NESTING, too_deep
from .model import Build, Definitions, ProjectDiagnostic, Selector
from .paths import folder_of, join

MAX_BAKE_BYTES = 64 * 1024
"""Largest bake file parsed: python-hcl2 takes about a second per 20 KiB on a loaded machine
(real bake files are a few KiB)."""
MAX_INHERIT_DEPTH = 32
MAX_VALUE = 4096
"""Longest value a variable may take after substitution (longer is left unresolved)."""
_VAR = re.compile(r"\$\{\s*([A-Za-z_][A-Za-z0-9_-]*)\s*\}")
_ANY_EXPR = re.compile(r"\$\{")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_MAP_FIELDS = ("args", "contexts", "labels")
_FIELDS = ("context", "dockerfile", "target", "args", "contexts", "tags", "platforms", "labels")


class _Unresolved(Exception):
    pass


def read_bake(path: str, text: str, kind: str, out: Definitions) -> None:
    """Add the targets and groups of one bake file to ``out``."""
    if len(text.encode("utf-8")) > MAX_BAKE_BYTES:
        out.diagnostics.append(
            ProjectDiagnostic(
                "error", "bake-too-large", f"bake file larger than {MAX_BAKE_BYTES} bytes", path
            )
        )
        return
    deep = too_deep(text)
    if deep is not None:
        out.diagnostics.append(
            ProjectDiagnostic(
                "error", "bake-too-deep", f"nested deeper than {MAX_NESTING} levels", path, deep
            )
        )
        return
    try:
        raw = _parse_hcl(text) if kind == "bake-hcl" else _parse_json(text)
    except _ParseError as exc:
        out.diagnostics.append(ProjectDiagnostic("error", "bake-syntax", str(exc), path, exc.line))
        return
    variables, groups, targets = raw
    values = _variable_values(variables, path, out)
    resolved: dict[str, dict] = {}
    for name in targets:
        resolved[name] = _with_inherits(name, targets, path, out, [])
    folder = folder_of(path)
    lines = text.splitlines()
    for name, attrs in resolved.items():
        build = Build(name=name, kind="bake-target", source=path, line=targets[name]["__line__"])
        _fill(build, attrs, values, folder, path, out)
        for key, line in attrs.get("__lines__", {}).items():
            build.lines[key] = line
            if 0 < line <= len(lines):
                build.texts[key] = lines[line - 1].strip()
        base = next(
            (
                b
                for b in out.builds
                if b.kind == "bake-target" and b.name == name and folder_of(b.source) == folder
            ),
            None,
        )
        if base is not None:  # a second bake file (an override): its attributes win, maps merge
            _merge_override(base, build, set(attrs))
        else:
            out.builds.append(build)
            out.selectors.append(Selector(name, "bake-target", [name]))
        for parent in targets[name].get("inherits", ([], None))[0] or []:
            if isinstance(parent, str) and parent in targets:
                line = targets[name]["__lines__"].get("inherits")
                out.links.append(
                    {
                        "kind": "inherits",
                        "from": {"path": path, "target": parent},
                        "to": {"path": path, "target": name},
                        "line": line,
                        "via": {"path": path, "text": lines[line - 1].strip() if line else None},
                    }
                )
    for name in groups:
        out.selectors.append(Selector(name, "bake-group", _expand_group(name, groups, targets, [])))
    if "default" in groups or "default" in targets:
        out.default = out.default or "default"


def _merge_override(base: Build, other: Build, written: set[str]) -> None:
    """buildx's merge of a target defined again in a later file of the same folder."""
    if written & {"context", "dockerfile", "dockerfile-inline"}:
        base.context, base.dockerfile, base.inline = other.context, other.dockerfile, other.inline
    if "target" in written:
        base.target = other.target
    base.args.update(other.args)
    base.contexts.update(other.contexts)
    if "tags" in written:
        base.tags = other.tags
    if "platforms" in written:
        base.platforms = other.platforms
    base.unresolved.extend(f"{u} (in {other.source})" for u in other.unresolved)


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


def _with_inherits(name: str, targets: dict, path: str, out: Definitions, seen: list[str]) -> dict:
    """The target's attributes with its parents' applied first (buildx's merge rules)."""
    own = targets[name]
    if name in seen or len(seen) > MAX_INHERIT_DEPTH:
        out.diagnostics.append(
            ProjectDiagnostic(
                "error",
                "bake-inherits-cycle",
                f"target {name!r} inherits from itself ({' -> '.join(seen + [name])})",
                path,
                own["__line__"],
            )
        )
        return {}
    merged: dict = {"__lines__": {}}
    parents = own.get("inherits", ([], None))[0] or []
    for parent in parents if isinstance(parents, list) else []:
        if not isinstance(parent, str) or parent not in targets:
            out.diagnostics.append(
                ProjectDiagnostic(
                    "error",
                    "bake-unknown-target",
                    f"target {name!r} inherits from {parent!r}, which is not a target",
                    path,
                    own["__lines__"].get("inherits"),
                )
            )
            continue
        _merge(merged, _with_inherits(parent, targets, path, out, seen + [name]))
    _merge(merged, own)
    return merged


def _merge(into: dict, other: dict) -> None:
    for key, value in other.items():
        if key == "__lines__":
            into["__lines__"].update(value)
        elif key.startswith("__") or key == "inherits":
            continue
        elif (
            key in _MAP_FIELDS
            and key in into
            and isinstance(into[key][0], dict)
            and isinstance(value[0], dict)
        ):
            into[key] = ({**into[key][0], **value[0]}, value[1])
        else:
            into[key] = value


def _variable_values(variables: dict, path: str, out: Definitions) -> dict[str, str | None]:
    """Variable -> its default (substituted), or None when it has none or it cannot be resolved."""
    values: dict[str, str | None] = {}
    for _ in range(MAX_INHERIT_DEPTH):  # defaults may use other variables: a few passes
        changed = False
        for name, default in variables.items():
            if name in values and values[name] is not None:
                continue
            try:
                value = _string(default, values) if default is not None else None
            except _Unresolved:
                value = None
            if value is not None and len(value) > MAX_VALUE:  # "${A}${A}" chains double
                value = None
            if values.get(name, "<unset>") != value:
                values[name] = value
                changed = True
        if not changed:
            break
    return values


def _string(value, variables: dict[str, str | None]) -> str:
    """A bake value as text with ``${VAR}`` substituted; :class:`_Unresolved` for anything else."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if not isinstance(value, str):
        raise _Unresolved(str(value))

    def substitute(match: re.Match) -> str:
        name = match.group(1)
        if variables.get(name) is None:
            raise _Unresolved(match.group(0))
        return variables[name]

    text = _VAR.sub(substitute, value.replace("$${", "\x00"))
    if _ANY_EXPR.search(text):
        raise _Unresolved(value)
    return text.replace("\x00", "${")


def _fill(build: Build, attrs: dict, variables: dict, folder: str, path: str, out: Definitions) -> None:
    def text(key: str, value) -> str | None:
        try:
            return _string(value, variables)
        except _Unresolved:
            build.unresolved.append(f"{key}: {value}")
            return None

    context = text("context", attrs["context"][0]) if "context" in attrs else "."
    dockerfile = text("dockerfile", attrs["dockerfile"][0]) if "dockerfile" in attrs else "Dockerfile"
    build.context = join(folder, context) if context is not None else None
    if context is not None and build.context is None:
        build.unresolved.append(f"context: {context} (outside the project or remote)")
    if build.context is not None and dockerfile is not None:
        build.dockerfile = join(build.context, dockerfile)
        if build.dockerfile is None:
            build.unresolved.append(f"dockerfile: {dockerfile} (outside the project)")
    if "target" in attrs:
        build.target = text("target", attrs["target"][0])
    if "matrix" in attrs:
        build.unresolved.append("matrix: the target expands to several (not expanded here)")
    if "dockerfile-inline" in attrs:
        build.inline = text("dockerfile-inline", attrs["dockerfile-inline"][0])
        build.dockerfile = f"{path}#{build.name}" if build.inline is not None else None
        build.lines["dockerfile"] = attrs["dockerfile-inline"][1] or build.line
    for key in ("args", "contexts"):
        mapping = attrs.get(key, ({}, None))[0]
        if not isinstance(mapping, dict):
            build.unresolved.append(f"{key}: {mapping}")
            continue
        for name, value in mapping.items():
            if value is None:
                continue  # buildx: a null arg is left to the environment
            resolved = text(f"{key}.{name}", value)
            if resolved is None:
                continue
            if key == "contexts" and not resolved.startswith(("target:", "docker-image://", "oci-layout://")):
                if "://" not in resolved and not resolved.startswith("git@"):
                    resolved = join(folder, resolved) or resolved
            getattr(build, key)[name] = resolved
    for key in ("tags", "platforms"):
        items = attrs.get(key, ([], None))[0]
        if not isinstance(items, list):
            build.unresolved.append(f"{key}: {items}")
            continue
        for item in items:
            resolved = text(key, item)
            if resolved is not None:
                getattr(build, key).append(resolved)


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
    variables: dict[str, object] = {}
    groups: dict[str, tuple[list, int | None]] = {}
    targets: dict[str, dict] = {}
    for block_type, items in data.items():
        if block_type not in ("variable", "group", "target") or not isinstance(items, list):
            continue
        for item in items:
            for label, body in item.items():
                name = _key(label)
                body = body if isinstance(body, dict) else {}
                info = lines.get((block_type, name), {})
                if block_type == "variable":
                    variables[name] = _unquote(body.get("default")) if "default" in body else None
                elif block_type == "group":
                    members = _unquote(body.get("targets", []))
                    groups[name] = (members if isinstance(members, list) else [], info.get(""))
                else:
                    target = targets.setdefault(name, {"__line__": info.get(""), "__lines__": {}})
                    for key, value in body.items():
                        if key.startswith("__"):
                            continue
                        target[key] = (_unquote(value), info.get(key))
                    target["__lines__"].update({k: v for k, v in info.items() if k})
    return variables, groups, targets


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
        variables[name] = body.get("default") if isinstance(body, dict) else None
    groups = {}
    for name, body in (data.get("group") or {}).items():
        members = body.get("targets", []) if isinstance(body, dict) else []
        groups[name] = (members if isinstance(members, list) else [], line_of(name))
    targets: dict[str, dict] = {}
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
        targets[name] = target
    return variables, groups, targets


__all__ = ["read_bake"]
