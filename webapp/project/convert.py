"""Builder pattern -> one multi-stage Dockerfile.

Where a script builds image A from ``Dockerfile.build``, copies a file out of a container of A
into the context, and builds image B from a Dockerfile whose ``COPY`` reads that file, the same
result comes from one Dockerfile: A's Dockerfile as a named stage, then B's, its ``COPY`` taking
the file straight from the stage with ``COPY --from=<stage> <path in A> <dest>``.

The text is assembled from the original lines (comments and layout kept): parser directives and
meta ARGs of both files first (meta ARGs must come before the first FROM to reach FROM lines),
then A's stages with its built stage named, then B's stages with the COPY rewritten. Nothing is
converted when it cannot be done faithfully (different escape characters, clashing stage names,
a COPY in a heredoc), and the result is analysed like any Dockerfile.
"""

from __future__ import annotations

import json
import posixpath
import re

from ..analysis import analyze
from ..errors import DockerfileError
from ..model import Graph, Instruction

_DIRECTIVE = re.compile(r"^\s*#\s*([A-Za-z]+)\s*=\s*(\S.*?)\s*$")
CONVERTED_NAME = "Dockerfile.multistage"
"""Suggested file name of a converted Dockerfile."""


def _split(text: str, graph: Graph) -> tuple[list[str], list[str], list[str]]:
    """(directive lines, other preamble lines, lines from the first FROM on)."""
    lines = text.splitlines()
    first = graph.stages[0].line - 1 if graph.stages else len(lines)
    directives, preamble = [], []
    in_directives = True
    for line in lines[:first]:
        if in_directives and _DIRECTIVE.match(line):
            directives.append(line)
            continue
        in_directives = False
        preamble.append(line)
    return directives, preamble, lines[first:]


def _escape_of(graph: Graph) -> str:
    return dict(graph.directives).get("escape", "\\")


def _stage_name(taken: set[str]) -> str:
    for candidate in ("build", "builder", *(f"build-{n}" for n in range(2, 100))):
        if candidate not in taken:
            return candidate
    return "build-stage"


def _quote(word: str) -> str:
    return word if re.fullmatch(r"[A-Za-z0-9_./:@%+=,-]+", word) else json.dumps(word)


def _rewrite_copy(ins: Instruction, relative: str, src: str, stage: str) -> list[str] | None:
    """The COPY as one or two instructions reading ``relative`` from ``stage`` at ``src``."""
    if ins.heredocs:
        return None
    words, dest = list(ins.args[:-1]), ins.args[-1]
    keep = [w for w in words if posixpath.normpath(w.lstrip("/")) != relative]
    if len(keep) == len(words):
        return None
    flags = [f"--{k}" if v is None else f"--{k}={v}" for k, v in ins.flags]
    target = dest
    if dest.endswith("/") and posixpath.basename(relative) != posixpath.basename(src.rstrip("/")):
        target = dest + posixpath.basename(relative)
    keyword = ins.source.lstrip().split(None, 1)[0]

    def line(sources: list[str], extra: list[str], to: str) -> str:
        if ins.json:
            return " ".join([keyword, *extra, json.dumps([*sources, to])])
        return " ".join([keyword, *extra, *(_quote(s) for s in sources), _quote(to)])

    out = []
    if keep:
        out.append(line(keep, flags, dest))
    out.append(line([src], [f"--from={stage}", *flags], target))
    return out


def builder_to_multistage(
    link: dict,
    files: dict,
    graphs: dict,
    builds: dict,
    settings: dict | None,
    user_contexts: dict | None = None,
) -> dict | None:
    """The converted Dockerfile for a ``copy-out`` link, or None when it cannot be done faithfully."""
    producer = builds[link["from"]["build"]]
    consumer = builds[link["to"]["build"]]
    pgraph, cgraph = graphs[producer.name], graphs[consumer.name]
    if not pgraph.stages or not cgraph.stages or _escape_of(pgraph) != _escape_of(cgraph):
        return None
    consumer_names = {s.name for s in cgraph.stages if s.name}
    producer_names = {s.name for s in pgraph.stages if s.name}
    if consumer_names & producer_names:
        return None
    built = pgraph.stages[pgraph.target]
    copy = link["_copy"]
    stage = built.name or _stage_name(consumer_names | producer_names)
    rewritten = _rewrite_copy(copy["instruction"], copy["relative"], link["from"]["file"], stage)
    if rewritten is None:
        return None
    pdirs, ppre, pbody = _split(files[producer.dockerfile], pgraph)
    cdirs, cpre, cbody = _split(files[consumer.dockerfile], cgraph)
    if not built.name:  # name the stage on the last physical line of its FROM
        at = built.from_instruction.end_line - pgraph.stages[0].line
        pbody[at] = pbody[at].rstrip() + f" AS {stage}"
    ins = copy["instruction"]
    first = cgraph.stages[0].line
    start, end = ins.line - first, ins.end_line - first
    indent = cbody[start][: len(cbody[start]) - len(cbody[start].lstrip())]
    cbody[start : end + 1] = [indent + text for text in rewritten]
    names = {m.group(1).lower() for m in map(_DIRECTIVE.match, pdirs) if m}
    directives = pdirs + [d for d in cdirs if _DIRECTIVE.match(d).group(1).lower() not in names]
    header = [
        f"# Generated from {link['via']['path']} (line {link['line']}): {producer.dockerfile} as stage "
        f"'{stage}', then {consumer.dockerfile} copying {link['from']['file']} from it.",
    ]
    parts = directives + header + [line for line in ppre + cpre if line.strip()]
    text = "\n".join(parts + [""] + pbody + [""] + cbody) + "\n"
    contexts = {**producer.contexts, **consumer.contexts, **(user_contexts or {})}
    try:
        graph = analyze(
            text,
            target=consumer.target,
            build_args={**producer.args, **consumer.args},
            contexts=contexts,
            settings=settings,
        )
    except DockerfileError:
        return None
    return {
        "path": CONVERTED_NAME,
        "from": [producer.dockerfile, consumer.dockerfile],
        "stage": stage,
        "script": link["via"]["path"],
        "line": link["line"],
        "dockerfile": text,
        "build_contexts": dict(sorted(contexts.items())),
        "graph": graph.to_dict(),
    }
