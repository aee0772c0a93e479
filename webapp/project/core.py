"""A project's files -> its builds, one graph per Dockerfile, and the links between files."""

from __future__ import annotations

import fnmatch
import posixpath
from collections.abc import Mapping
from dataclasses import dataclass, field

from ..analysis import analyze
from ..contexts import context_key
from ..errors import DockerfileError
from ..model import EdgeKind, Graph, SourceKind
from ..reference import ReferenceError, normalize
from .bake import looks_like_bake, read_bake_set, set_order
from .compose import read_compose
from .convert import builder_to_multistage
from .detect import FileKind, kind_of
from .inputs import ProjectInputError, ProjectTooLarge
from .model import Build, Definitions, ProjectDiagnostic
from .paths import inside
from .scripts import read_script

MAX_BUILDS = 200
"""Most builds analysed for one project (each is one Dockerfile analysis)."""
MAX_ANALYSED_CHARS = 16 * 1024 * 1024
"""Most Dockerfile text analysed for one project, summed over builds (a 1 MiB Dockerfile built
with 200 different arg sets would otherwise be analysed 200 times)."""
MAX_BAKE_TOTAL = 128 * 1024
"""Most characters of bake files parsed for one project (HCL parsing is the slowest step)."""
MAX_COMPOSE_TOTAL = 1024 * 1024
"""Most characters of compose files parsed for one project."""


@dataclass(slots=True)
class Project:
    """The analysed project."""

    files: dict[str, str]
    kinds: dict[str, FileKind | None]
    graphs: dict[str, Graph]
    """Dockerfile path -> its graph (with the options of the first build that uses it)."""
    built: dict[str, list[int]]
    """Dockerfile path -> indices of the stages the selected builds build."""
    definitions: Definitions
    links: list[dict]
    conversions: list[dict]
    selected: str | None
    diagnostics: list[ProjectDiagnostic] = field(default_factory=list)
    selected_builds: list[str] = field(default_factory=list)

    @property
    def has_errors(self) -> bool:
        """True when any Dockerfile graph or project file has an error."""
        return any(g.has_errors for g in self.graphs.values()) or any(
            d.severity == "error" for d in self.diagnostics
        )

    def to_dict(self) -> dict:
        """The project JSON (docs/json-format.md, "Projects")."""
        uses: dict[str, list[str]] = {}
        for build in self.definitions.builds:
            if build.dockerfile in self.graphs:
                uses.setdefault(build.dockerfile, []).append(build.name)
        files = []
        for path in self.files:
            kind = self.kinds.get(path)
            graph = self.graphs.get(path)
            files.append(
                {
                    "path": path,
                    "kind": kind.value if kind else None,
                    "graph": graph.to_dict() if graph is not None else None,
                    "builds": uses.get(path, []),
                    "built_stages": self.built.get(path, []) if graph is not None else [],
                }
            )
        return {
            "version": 1,
            "files": files,
            "builds": [b.to_dict() for b in self.definitions.builds],
            "targets": [s.to_dict() for s in self.definitions.selectors],
            "selected": self.selected,
            "selected_builds": list(self.selected_builds),
            "links": self.links,
            "variables": list(self.definitions.variables),
            "conversions": self.conversions,
            "diagnostics": [d.to_dict() for d in self.diagnostics],
        }


def analyze_project(
    files: Mapping[str, str],
    *,
    build_contexts: Mapping[str, str] | None = None,
    project_target: str | None = None,
    variables: Mapping[str, str] | None = None,
    bake_files: list[str] | None = None,
    settings: dict | None = None,
) -> Project:
    """Analyse a project given as ``{relative path: text}`` (paths already checked, see :mod:`.inputs`).

    ``build_contexts`` apply to every build (the user's ``--build-context``, overriding a file's
    own); ``project_target`` picks a bake group or target, a compose service or a script
    (default: bake's ``default``, else everything); ``variables`` are the values bake variables
    and compose's ``${NAME}`` take (buildx's ``--var``, or the environment); ``bake_files`` names
    the bake files read together, in order (buildx's ``-f``, compose files included; default:
    the bake and compose files of each folder). Raises :class:`ProjectInputError` for an
    unknown ``project_target`` or bake file, or a project with no Dockerfile.
    """
    files = dict(files)
    user_contexts = dict(build_contexts or {})
    user_variables = dict(variables or {})
    kinds = {path: kind_of(path) for path in files}
    for path, text in files.items():  # other .hcl files are bake files when they read as such
        if kinds[path] is None and path.lower().endswith(".hcl") and looks_like_bake(text):
            kinds[path] = FileKind.BAKE_HCL
    named_compose: set[str] = set()
    for path in bake_files or []:
        if path not in files:
            raise ProjectInputError(f"bake file {path[:200]!r} is not in the project")
        if kinds[path] is FileKind.COMPOSE:  # bake -f compose.yaml: its services are targets
            named_compose.add(path)
            continue
        if not path.lower().endswith((".hcl", ".json")):
            raise ProjectInputError(f"bake file {path[:200]!r} must be .hcl, .json or a compose file")
        kinds[path] = FileKind.BAKE_JSON if path.lower().endswith(".json") else FileKind.BAKE_HCL
    defs = Definitions()
    budget = {
        FileKind.BAKE_HCL: MAX_BAKE_TOTAL,
        FileKind.BAKE_JSON: MAX_BAKE_TOTAL,
        FileKind.COMPOSE: MAX_COMPOSE_TOTAL,
    }
    sets: dict[str, list[tuple[str, str, str]]] = {}
    if bake_files:
        ordered = [p for p in dict.fromkeys(bake_files) if p not in named_compose]
        not_read = [p for p, k in kinds.items() if k in (FileKind.BAKE_HCL, FileKind.BAKE_JSON)]
        for path in sorted(set(not_read) - set(ordered)):
            defs.diagnostics.append(
                ProjectDiagnostic("info", "bake-not-read", "not among the bake files named; not read", path)
            )
    else:
        ordered = sorted(
            (p for p, k in kinds.items() if k in (FileKind.BAKE_HCL, FileKind.BAKE_JSON)),
            key=lambda p: (posixpath.dirname(p), set_order(p)),
        )
    for path in ordered:
        kind = kinds[path]
        budget[kind] -= len(files[path])
        if budget[kind] < 0:
            message = "skipped: the project's bake or compose files together pass their size budget"
            defs.diagnostics.append(ProjectDiagnostic("error", "too-many-definitions", message, path))
            continue
        folder = "" if bake_files else posixpath.dirname(path)
        sets.setdefault(folder, []).append((path, files[path], kind.value))
    composed = Definitions()  # read first: bake reads a folder's compose files before its bake files
    for path, text in sorted(files.items(), key=lambda item: _definition_order(item[0])):
        if kinds[path] is not FileKind.COMPOSE:
            continue
        budget[FileKind.COMPOSE] -= len(text)
        if budget[FileKind.COMPOSE] < 0:
            message = "skipped: the project's bake or compose files together pass their size budget"
            composed.diagnostics.append(ProjectDiagnostic("error", "too-many-definitions", message, path))
        else:
            read_compose(path, text, composed, user_variables)
    for folder, bake_set in sets.items():
        if bake_files:  # the compose files named (bake reads them first, whatever their place)
            services = [b for b in composed.builds if b.source in named_compose]
        else:
            services = [
                b for b in composed.builds if posixpath.dirname(b.source) == folder and _bake_reads(b.source)
            ]
        merged = read_bake_set(bake_set, defs, user_variables, services)
        # a service bake defines again is one build, bake's (its attributes say which file set each)
        gone = {id(b) for b in services if b.name in merged}
        composed.builds = [b for b in composed.builds if id(b) not in gone]
        names = {b.name for b in services if b.name in merged}
        composed.selectors = [
            s for s in composed.selectors if not (s.kind == "compose-service" and s.name in names)
        ]
    defs.builds += composed.builds
    defs.selectors += composed.selectors
    defs.links += composed.links
    defs.diagnostics += composed.diagnostics
    for path, text in files.items():
        if kinds[path] in (FileKind.SCRIPT, FileKind.MAKEFILE):
            read_script(path, text, defs, makefile=kinds[path] is FileKind.MAKEFILE)
    for build in defs.builds:  # inline Dockerfiles join the project under a virtual path
        if build.inline is not None and build.dockerfile not in files:
            files[build.dockerfile] = build.inline
            kinds[build.dockerfile] = FileKind.DOCKERFILE
    dockerfiles = [p for p, k in kinds.items() if k is FileKind.DOCKERFILE]
    if not dockerfiles:
        raise ProjectInputError(
            "no Dockerfile in the project (named Dockerfile, Dockerfile.* or *.Dockerfile)"
        )
    diagnostics = list(defs.diagnostics)
    for path, kind in kinds.items():
        if kind is None:
            diagnostics.append(ProjectDiagnostic("info", "ignored-file", "not a project file; ignored", path))
    if len(defs.builds) > MAX_BUILDS:
        raise ProjectTooLarge(f"too many builds: {len(defs.builds)}, more than the limit of {MAX_BUILDS}")
    for build in defs.builds:
        for what in build.unresolved:
            diagnostics.append(
                ProjectDiagnostic(
                    "warning", "unresolved", f"{build.name}: cannot resolve {what}", build.source, build.line
                )
            )
        for tag in build.tags:
            if _normal(tag) is None:
                path, line, _text = build.where("tags")
                message = f"{build.name}: tag {tag[:200]!r} is not a valid image name (the build would fail)"
                diagnostics.append(ProjectDiagnostic("warning", "invalid-tag", message, path, line))
        if build.dockerfile is not None and build.dockerfile not in files:
            path, line, _text = build.where("dockerfile")
            diagnostics.append(
                ProjectDiagnostic(
                    "warning",
                    "missing-dockerfile",
                    f"{build.name} builds {build.dockerfile}, which is not in the project",
                    path,
                    line,
                )
            )

    selected, chosen = _select(defs, project_target)
    by_name = {b.name: b for b in defs.builds}
    build_graphs: dict[str, Graph] = {}
    order = [by_name[n] for n in chosen] + [b for b in defs.builds if b.name not in chosen]
    done: dict[tuple, Graph] = {}
    budget = MAX_ANALYSED_CHARS
    for build in order:
        if build.dockerfile not in files:
            continue
        contexts = {**build.contexts, **user_contexts}
        # buildx's "local" is the machine that builds: our default platform
        platform = build.platforms[0] if build.platforms and build.platforms[0] != "local" else None
        key = (
            build.dockerfile,
            build.target,
            *sorted(build.args.items()),
            platform,
            *sorted(contexts.items()),
        )
        if key in done:  # builds that differ only in tags or names share one analysis
            build_graphs[build.name] = done[key]
            continue
        budget -= len(files[build.dockerfile])
        if budget < 0:
            message = f"{build.name}: not analysed, the project's analyses pass their budget"
            diagnostics.append(
                ProjectDiagnostic("warning", "analysis-budget", message, build.source, build.line)
            )
            continue
        try:
            done[key] = build_graphs[build.name] = analyze(
                files[build.dockerfile],
                target=build.target,
                build_args=build.args,
                platform=platform,
                contexts=contexts,
                settings=settings,
            )
        except DockerfileError as exc:
            diagnostics.append(
                ProjectDiagnostic("error", "unreadable-dockerfile", exc.message, build.dockerfile)
            )

    graphs: dict[str, Graph] = {}
    for build in order:
        if build.name in build_graphs and build.dockerfile not in graphs:
            graphs[build.dockerfile] = build_graphs[build.name]
    for path in dockerfiles:
        if path not in graphs:
            try:
                graphs[path] = analyze(files[path], contexts=user_contexts, settings=settings)
            except DockerfileError as exc:
                diagnostics.append(
                    ProjectDiagnostic("error", "unreadable-dockerfile", exc.message, path, exc.line)
                )

    built: dict[str, set[int]] = {path: set() for path in graphs}
    if selected is None:
        for path, graph in graphs.items():
            built[path].update(s.index for s in graph.stages if s.reachable)
    for name in chosen:
        graph = build_graphs.get(name)
        if graph is not None:
            built[by_name[name].dockerfile].update(s.index for s in graph.stages if s.reachable)

    links = list(defs.links)
    links += _build_links(defs.builds, build_graphs, files)
    links += _context_links(defs.builds, build_graphs, by_name, user_contexts, graphs, files)
    links += _image_links(defs.builds, build_graphs, graphs)
    copy_links = _copy_links(defs, build_graphs)
    links += copy_links
    conversions = []
    for link in copy_links:
        if link.get("exact"):
            converted = builder_to_multistage(link, files, build_graphs, by_name, settings, user_contexts)
            if converted is not None:
                conversions.append(converted)
    for link in links:
        link.pop("exact", None)
        link.pop("_copy", None)
    return Project(
        files=dict(sorted(files.items())),
        kinds=kinds,
        graphs=graphs,
        built={p: sorted(s) for p, s in built.items()},
        definitions=defs,
        links=links,
        conversions=conversions,
        selected=selected,
        diagnostics=diagnostics,
        selected_builds=chosen,
    )


_BASE_FILES = ("compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml", "docker-bake.hcl")


def _bake_reads(path: str) -> bool:
    """True for a compose file in bake's default set (bake reads it with the folder's bake files)."""
    return path.rpartition("/")[2] in _BAKE_COMPOSE


_BAKE_COMPOSE = ("compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml")


def _definition_order(path: str) -> tuple:
    """Per folder, the base compose or bake file before its overrides (as Compose and buildx read them)."""
    folder, _, name = path.rpartition("/")
    return (folder, name.lower() not in _BASE_FILES, "override" in name.lower(), name)


def _select(defs: Definitions, name: str | None) -> tuple[str | None, list[str]]:
    """The selector used and the builds it builds (``target:`` contexts followed)."""
    selectors: dict[str, list[str]] = {}
    for selector in defs.selectors:
        selectors.setdefault(selector.name, selector.builds)
    if name is not None and name not in selectors:
        known = ", ".join(sorted(selectors)[:20]) or "none"
        raise ProjectInputError(f"unknown project target {name!r}; known: {known}")
    name = name or (defs.default if defs.default in selectors else None)
    if name is None:
        return None, [b.name for b in defs.builds]
    by_name = {b.name: b for b in defs.builds}
    chosen: list[str] = []
    stack = list(reversed(selectors[name]))
    while stack:
        current = stack.pop()
        if current in chosen or current not in by_name:
            continue
        chosen.append(current)
        for value in by_name[current].contexts.values():
            if value.startswith("target:"):
                stack.append(value[len("target:") :])
    return name, chosen


def _stage_name(graph: Graph | None, index: int | None) -> str | None:
    if graph is None or index is None or not 0 <= index < len(graph.stages):
        return None
    return graph.stages[index].display_name


def _owner_key(build: Build) -> str:
    return {"bake-target": "target", "compose-service": "service"}.get(build.kind, "build")


def _line_text(files: Mapping[str, str], path: str, line: int | None) -> str | None:
    """The text of one line of a project file, stripped (None when there is no such line)."""
    if not line or path not in files:
        return None
    lines = files[path].splitlines()
    return lines[line - 1].strip() if line <= len(lines) else None


def _build_links(builds: list[Build], graphs: dict[str, Graph], files: Mapping[str, str]) -> list[dict]:
    out = []
    for build in builds:
        graph = graphs.get(build.name)
        if graph is None:
            continue
        key = "dockerfile" if "dockerfile" in build.lines else "build"
        path, line, _text = build.where(key)
        out.append(
            {
                "kind": "build",
                "from": {"path": build.source, _owner_key(build): build.name},
                "to": {"path": build.dockerfile, "stage": _stage_name(graph, graph.target)},
                "line": line,
                "via": {"path": path, "text": _line_text(files, path, line)},
            }
        )
    return out


def _uses(graph: Graph, name: str) -> list[tuple[str, int]]:
    """(stage, line) of every FROM, COPY --from and mount from= that names context ``name``."""
    key = context_key(name)
    found = []
    for edge in graph.edges:
        src = edge.source
        if src.kind is SourceKind.STAGE or not src.text or context_key(src.text) != key:
            continue
        if edge.kind is EdgeKind.FROM or edge.kind in (EdgeKind.COPY, EdgeKind.MOUNT):
            found.append((graph.stages[edge.target].display_name, edge.line))
    return found


def _context_from(value: str, by_name: dict[str, Build], graphs: dict[str, Graph]) -> tuple[str, dict]:
    if value.startswith("target:"):
        other = by_name.get(value[len("target:") :])
        graph = graphs.get(other.name) if other else None
        ref = {
            "path": other.dockerfile if other else None,
            "stage": _stage_name(graph, graph.target if graph else None),
        }
        ref["target"] = value[len("target:") :]
        return "context-target", ref
    if value.startswith(("docker-image://", "oci-layout://")):
        return "context-image", {"image": value.split("://", 1)[1]}
    if "://" in value or value.startswith("git@"):
        return "context-url", {"context": value}
    return "context-path", {"context": value}


def _context_links(builds, build_graphs, by_name, user_contexts, graphs, files) -> list[dict]:
    out = []
    for build in builds:
        graph = build_graphs.get(build.name)
        if graph is None:
            continue
        for name, value in build.contexts.items():
            if name in user_contexts:
                continue
            kind, source = _context_from(value, by_name, build_graphs)
            uses = _uses(graph, name) or [(None, None)]
            path, line, text = build.where(f"contexts.{name}")
            text = text or _line_text(files, path, line)  # an entry from the set's compose file
            for stage, _line in uses:
                out.append(
                    {
                        "kind": kind,
                        "name": name,
                        "from": source,
                        "to": {"path": build.dockerfile, "stage": stage},
                        "line": line if f"contexts.{name}" in build.lines else None,
                        "via": {"path": path, "text": text},
                    }
                )
    for path, graph in graphs.items():
        for name, value in user_contexts.items():
            _kind, source = _context_from(value, by_name, build_graphs)
            for stage, line in _uses(graph, name):
                out.append(
                    {
                        "kind": "build-context",
                        "name": name,
                        "from": source,
                        "to": {"path": path, "stage": stage},
                        "line": line,
                        "via": None,
                    }
                )
    return out


def _normal(ref: str) -> str | None:
    try:
        return normalize(ref)
    except ReferenceError:
        return None


def _image_links(builds: list[Build], build_graphs: dict[str, Graph], graphs: dict[str, Graph]) -> list[dict]:
    """FROM / COPY --from / mount from= an image tag that another build of the project produces."""
    producers: dict[str, Build] = {}
    for build in builds:
        if build.name in build_graphs:
            for tag in build.tags:
                ref = _normal(tag)
                if ref:
                    producers.setdefault(ref, build)
    if not producers:
        return []
    consumers: list[tuple[str, str | None, Graph]] = [
        (b.dockerfile, b.name, build_graphs[b.name]) for b in builds if b.name in build_graphs
    ]
    analysed = {id(g) for g in build_graphs.values()}
    consumers += [(p, None, g) for p, g in graphs.items() if id(g) not in analysed]
    out, seen = [], set()
    for path, name, graph in consumers:
        for edge in graph.edges:
            if edge.source.kind is not SourceKind.IMAGE or edge.source.ref not in producers:
                continue
            producer = producers[edge.source.ref]
            if producer.name == name:
                continue
            pgraph = build_graphs[producer.name]
            key = (producer.name, path, edge.target, edge.line)
            if key in seen:
                continue
            seen.add(key)
            stage = graph.stages[edge.target]
            text = next(
                (i.source for i in (stage.from_instruction, *stage.instructions) if i.line == edge.line), None
            )
            out.append(
                {
                    "kind": "image",
                    "image": edge.source.text,
                    "from": {
                        "path": producer.dockerfile,
                        "stage": _stage_name(pgraph, pgraph.target),
                        "build": producer.name,
                    },
                    "to": {"path": path, "stage": stage.display_name},
                    "line": edge.line,
                    "via": {"path": path, "text": text.strip() if text else None},
                }
            )
    return out


def _copy_sources(graph: Graph):
    """(stage index, instruction, source words) for each COPY/ADD from the build context."""
    for stage in graph.stages:
        for ins in stage.instructions:
            if ins.keyword in ("COPY", "ADD") and ins.flag("from") is None and len(ins.args) >= 2:
                yield stage.index, ins, ins.args[:-1]


def _matches(relative: str, word: str) -> bool | None:
    """True: COPY source ``word`` names ``relative`` (or a folder of it); None: a wider match."""
    source = posixpath.normpath(word.lstrip("/")) if word.strip("/") else "."
    if source == relative:
        return True
    if source == "." or relative.startswith(source + "/") or fnmatch.fnmatchcase(relative, source):
        return None
    return False


def _copy_links(defs: Definitions, build_graphs: dict[str, Graph]) -> list[dict]:
    """Builder pattern: a file copied out of one build's image into another build's context."""
    out = []
    for copy in defs.copies:
        image = _normal(copy["image"]) if copy["image"] else None
        producer = None
        for build in defs.builds:
            if build.name in build_graphs and image and image in (_normal(t) for t in build.tags):
                producer = build
                if build.source == copy["script"] and (build.line or 0) < copy["line"]:
                    break
        if producer is None:
            continue
        for build in defs.builds:
            graph = build_graphs.get(build.name)
            if graph is None or build is producer or build.context is None:
                continue
            if build.source == copy["script"] and (build.line or 0) < copy["line"]:
                continue  # built before the file was copied out
            relative = inside(copy["dest"], build.context)
            if relative is None:
                continue
            for stage_index, ins, words in _copy_sources(graph):
                results = [_matches(relative, w) for w in words]
                if not any(r is not False for r in results):
                    continue
                pgraph = build_graphs[producer.name]
                out.append(
                    {
                        "kind": "copy-out",
                        "from": {
                            "path": producer.dockerfile,
                            "stage": _stage_name(pgraph, pgraph.target),
                            "build": producer.name,
                            "file": copy["src"],
                        },
                        "to": {
                            "path": build.dockerfile,
                            "stage": graph.stages[stage_index].display_name,
                            "build": build.name,
                            "file": relative,
                            "line": ins.line,
                        },
                        "line": copy["line"],
                        "via": {"path": copy["script"], "text": copy["text"]},
                        "exact": True in results,
                        "_copy": {"instruction": ins, "stage": stage_index, "relative": relative},
                    }
                )
    return out
