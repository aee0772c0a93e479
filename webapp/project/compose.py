"""``compose.yaml`` -> one build per service with a ``build`` section, as Compose reads them.

Read as a YAML node tree (``yaml.compose`` with the safe loader: no objects are constructed, and
aliases are shared nodes, so a "billion laughs" document costs nothing here), which keeps each
value's line. Rules followed (the Compose specification's ``build`` section): ``build: DIR`` is
the context; ``context`` defaults to ``.`` and is relative to the compose file's folder;
``dockerfile`` (default ``Dockerfile``) is relative to the context; ``args`` and
``additional_contexts`` are a mapping or a list of ``KEY=VALUE``; ``service:NAME`` in
``additional_contexts`` is another service's image (like bake's ``target:``); ``image`` names the
image the build produces; ``<<`` merge keys are applied. ``${VAR:-default}`` and ``${VAR-default}``
take their default; ``${VAR}`` without one is unresolved and reported.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from .guard import MAX_NESTING, too_deep
from .model import Build, Definitions, ProjectDiagnostic, Selector
from .paths import folder_of, join

MAX_COMPOSE_BYTES = 256 * 1024
_INTERP = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*)|(\$))")


class _Unresolved(Exception):
    pass


def _interpolate(value: str, env: Mapping[str, str] | None = None) -> str:
    """Compose's ``${VAR}`` forms: a variable the user gave (``env``) takes its value, as the
    environment would; otherwise defaults are used and bare variables are unresolved."""
    env = env or {}

    def one(match: re.Match) -> str:
        if match.group(5):
            return "$"
        name = match.group(1) or match.group(4)
        op = match.group(2)
        if name in env:
            value = env[name]
            empty = value == ""
            if op in (":-", ":?") and empty or op == ":+" and empty:
                if op == ":?":
                    raise _Unresolved(f"${{{name}}}")
                return "" if op == ":+" else (match.group(3) or "")
            if op in (":+", "+"):
                return match.group(3) or ""
            return value
        if op in (":-", "-"):
            return match.group(3) or ""
        if op in (":+", "+"):
            return ""  # unset variable: the alternative is not used
        raise _Unresolved(f"${{{name}}}")

    return _INTERP.sub(one, value)


def read_compose(path: str, text: str, out: Definitions, env: Mapping[str, str] | None = None) -> None:
    """Add the builds of one compose file to ``out`` (``env``: the variables the user gave)."""
    import yaml

    def interpolate(value: str) -> str:
        return _interpolate(value, env)

    if len(text.encode("utf-8")) > MAX_COMPOSE_BYTES:
        out.diagnostics.append(
            ProjectDiagnostic(
                "error", "compose-too-large", f"compose file larger than {MAX_COMPOSE_BYTES} bytes", path
            )
        )
        return
    deep = too_deep(text)
    if deep is not None:
        out.diagnostics.append(
            ProjectDiagnostic(
                "error", "compose-too-deep", f"nested deeper than {MAX_NESTING} levels", path, deep
            )
        )
        return
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        root = yaml.compose(text, Loader=loader)
    except (yaml.YAMLError, RecursionError) as exc:
        mark = getattr(exc, "problem_mark", None)
        message = str(getattr(exc, "problem", None) or exc).splitlines()[0][:200]
        out.diagnostics.append(
            ProjectDiagnostic(
                "error", "compose-syntax", f"not valid YAML: {message}", path, mark.line + 1 if mark else None
            )
        )
        return
    services = _get(root, "services")
    if not isinstance(services, yaml.MappingNode):
        return
    lines = text.splitlines()
    folder = folder_of(path)
    for key_node, service in _items(services):
        name = key_node.value
        build_key, build_node = next(((k, v) for k, v in _items(service) if k.value == "build"), (None, None))
        base = next(
            (
                b
                for b in out.builds
                if b.kind == "compose-service" and b.name == name and folder_of(b.source) == folder
            ),
            None,
        )
        if build_node is None:
            image_node = _get(service, "image")
            if base is not None and isinstance(image_node, yaml.ScalarNode):  # an override's image
                try:
                    base.tags.insert(0, interpolate(image_node.value))
                except _Unresolved:
                    base.unresolved.append(f"image: {image_node.value} (in {path})")
            continue
        build = Build(name=name, kind="compose-service", source=path, line=key_node.start_mark.line + 1)

        def note(field: str, node, build=build) -> None:
            line = node.start_mark.line + 1
            build.lines[field] = line
            if 0 < line <= len(lines):
                build.texts[field] = lines[line - 1].strip()

        def text_of(field: str, node, build=build) -> str | None:
            if not isinstance(node, yaml.ScalarNode):
                build.unresolved.append(f"{field}: not a string")
                return None
            try:
                return interpolate(node.value)
            except _Unresolved as exc:
                build.unresolved.append(f"{field}: {node.value} ({exc} has no default)")
                return None

        note("build", build_key)
        if isinstance(build_node, yaml.ScalarNode):
            context, dockerfile = text_of("context", build_node), "Dockerfile"
        else:
            context_node = _get(build_node, "context")
            context = text_of("context", context_node) if context_node is not None else "."
            file_node = _get(build_node, "dockerfile")
            dockerfile = text_of("dockerfile", file_node) if file_node is not None else "Dockerfile"
            inline_node = _get(build_node, "dockerfile_inline")
            if inline_node is not None:
                build.inline = text_of("dockerfile_inline", inline_node)
            target_node = _get(build_node, "target")
            if target_node is not None:
                build.target = text_of("target", target_node)
            for field in ("args", "additional_contexts"):
                node = _get(build_node, field)
                if node is None:
                    continue
                note(field, node)
                for key, value, line_node in _pairs(node):
                    if value is None:
                        continue
                    try:
                        resolved = interpolate(value)
                    except _Unresolved as exc:
                        build.unresolved.append(f"{field}.{key}: {value} ({exc} has no default)")
                        continue
                    entry = "args" if field == "args" else "contexts"
                    if entry == "contexts":
                        note(f"contexts.{key}", line_node)
                        if resolved.startswith("service:"):
                            resolved = "target:" + resolved[len("service:") :]
                        elif "://" not in resolved and not resolved.startswith("git@"):
                            resolved = join(folder, resolved) or resolved
                    getattr(build, entry)[key] = resolved
            for field, attr in (("tags", "tags"), ("platforms", "platforms")):
                node = _get(build_node, field)
                if isinstance(node, yaml.SequenceNode):
                    for item in node.value:
                        value = text_of(field, item)
                        if value:
                            getattr(build, attr).append(value)
        build.context = join(folder, context) if context is not None else None
        if context is not None and build.context is None:
            build.unresolved.append(f"context: {context} (outside the project or remote)")
        if build.inline is not None:
            build.dockerfile = f"{path}#{name}"
        elif build.context is not None and dockerfile is not None:
            build.dockerfile = join(build.context, dockerfile)
            if build.dockerfile is None:
                build.unresolved.append(f"dockerfile: {dockerfile} (outside the project)")
        image_node = _get(service, "image")
        if image_node is not None:
            image = text_of("image", image_node)
            if image:
                build.tags.insert(0, image)
        if base is not None:  # an override file: its explicit fields win, maps merge
            explicit = (
                {"context"}
                if isinstance(build_node, yaml.ScalarNode)
                else {k.value for k, _ in _items(build_node)}
            )
            _merge_override(base, build, explicit, _get(service, "image") is not None)
            continue
        out.builds.append(build)
        out.selectors.append(Selector(name, "compose-service", [name]))


def _merge_override(base: Build, other: Build, explicit: set[str], image: bool) -> None:
    """Compose's merge of an override file's service into the base one (maps merge, scalars win)."""
    if explicit & {"context", "dockerfile", "dockerfile_inline"}:
        base.context, base.dockerfile, base.inline = other.context, other.dockerfile, other.inline
    if "target" in explicit:
        base.target = other.target
    base.args.update(other.args)
    base.contexts.update(other.contexts)
    if image and other.tags:
        base.tags.insert(0, other.tags[0])
    base.tags.extend(t for t in other.tags[1 if image else 0 :] if t not in base.tags)
    if "platforms" in explicit:
        base.platforms = other.platforms
    base.unresolved.extend(f"{u} (in {other.source})" for u in other.unresolved)


def _items(node):
    """Key/value node pairs of a mapping, ``<<`` merge keys applied (own keys win)."""
    import yaml

    if not isinstance(node, yaml.MappingNode):
        return []
    own = [(k, v) for k, v in node.value if not (isinstance(k, yaml.ScalarNode) and k.value == "<<")]
    names = {k.value for k, _ in own if isinstance(k, yaml.ScalarNode)}
    merged = []
    for key, value in node.value:
        if isinstance(key, yaml.ScalarNode) and key.value == "<<":
            sources = value.value if isinstance(value, yaml.SequenceNode) else [value]
            for source in sources:
                if isinstance(source, yaml.MappingNode):
                    for k, v in source.value:
                        if isinstance(k, yaml.ScalarNode) and k.value not in names and k.value != "<<":
                            names.add(k.value)
                            merged.append((k, v))
    return [(k, v) for k, v in own + merged if isinstance(k, yaml.ScalarNode)]


def _get(node, name: str):
    for key, value in _items(node):
        if key.value == name:
            return value
    return None


def _pairs(node):
    """``KEY: VALUE`` mapping or ``- KEY=VALUE`` list -> (key, value or None, node) triples."""
    import yaml

    if isinstance(node, yaml.MappingNode):
        for key, value in _items(node):
            text = (
                value.value
                if isinstance(value, yaml.ScalarNode) and value.tag != "tag:yaml.org,2002:null"
                else None
            )
            yield key.value, text, key
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            if isinstance(item, yaml.ScalarNode):
                key, sep, value = item.value.partition("=")
                yield key, value if sep else None, item


interpolate = _interpolate

__all__ = ["interpolate", "read_compose"]
