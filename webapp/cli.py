"""Command line: ``python -m webapp render PATH|- [options]`` and ``python -m webapp serve``.

``render DIR|FILE…|ARCHIVE`` reads a whole project (see docs/projects.md).

Exit codes: 0 clean, 1 written but the Dockerfile has errors (or, with ``--fail-on warning``,
warnings too, as ``docker build --check`` fails in CI), 2 the input could not be read or
tokenised (one line on stderr naming the problem and its line; never a traceback).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import config
from .errors import DockerfileError, RenderError
from .options import FORMATS, VIEWS, OptionError, Options

FORMAT_ALIASES = {"mmd": "mermaid"}
FAIL_ON = ("error", "warning")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse's own errors: one line, exit 2
        self.print_usage(sys.stderr)
        raise _UsageError(message)


class _UsageError(Exception):
    pass


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m webapp", description="Draw the build graph of a Dockerfile.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    render = commands.add_parser(
        "render", help="analyse a Dockerfile and write JSON, DOT, SVG, PNG or Mermaid"
    )
    render.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help="the Dockerfile, or - for standard input; or a project: a folder, files, a .zip or .tar(.gz)",
    )
    render.add_argument(
        "--format", "-f", default="json", choices=FORMATS + tuple(FORMAT_ALIASES) + ("multistage",)
    )
    render.add_argument("--view", default="stages", choices=VIEWS)
    render.add_argument("--target", help="the stage to build (default: the last stage)")
    render.add_argument(
        "--build-arg", action="append", default=[], metavar="KEY=VALUE", help="a build argument (repeatable)"
    )
    render.add_argument("--platform", help="target platform, e.g. linux/arm64 (default linux/amd64)")
    render.add_argument(
        "--build-context", action="append", default=[], metavar="NAME=VALUE",
        help="a named build context, as buildx: docker-image://REF, target:NAME or a path (repeatable)",
    )  # fmt: skip
    render.add_argument(
        "--project-target", help="for a project: the bake group or target, or compose service"
    )
    render.add_argument("--file", dest="project_file", help="for a project: draw only this file of it")
    render.add_argument(
        "--var", action="append", default=[], metavar="NAME=VALUE",
        help="for a project: a bake variable's value, as buildx --var or the environment (repeatable)",
    )  # fmt: skip
    render.add_argument(
        "--bake-file", action="append", default=[], metavar="PATH",
        help="for a project: the bake files read together, in order, as buildx -f (repeatable)",
    )  # fmt: skip
    render.add_argument("-o", "--output", help="write here instead of standard output")
    render.add_argument(
        "--fail-on",
        choices=FAIL_ON,
        default="error",
        help="exit 1 when the Dockerfile has a diagnostic this severe: error (default) or warning",
    )
    serve = commands.add_parser("serve", help="run the web app (development server)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=5000)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit code."""
    try:
        args = build_parser().parse_args(argv)
    except _UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.command == "serve":
        from .web import create_app

        create_app().run(host=args.host, port=args.port)
        return 0
    if _is_project(args.paths):
        return _render_project(args)
    if args.project_target or args.project_file or args.var or args.bake_file or args.format == "multistage":
        return _fail(
            "--project-target, --file, --var, --bake-file and --format multistage are for projects"
            " (a folder or several files)"
        )
    args.path = args.paths[0]
    return _render(args)


def _is_project(paths: list[str]) -> bool:
    from .project.inputs import ARCHIVE_SUFFIXES

    return len(paths) > 1 or paths[0].endswith(ARCHIVE_SUFFIXES) or Path(paths[0]).is_dir()


def _fail(problem) -> int:
    """One line on stderr naming the problem (and its line), and exit code 2."""
    print(f"error: {problem}", file=sys.stderr)
    return 2


def _render(args) -> int:
    settings = config.load()
    fmt = FORMAT_ALIASES.get(args.format, args.format)
    try:
        options = Options.from_mapping(
            {
                "target": args.target,
                "build_args": list(args.build_arg),
                "platform": args.platform,
                "view": args.view,
                "build_contexts": list(args.build_context),
            }
        )
        data = sys.stdin.buffer.read() if args.path == "-" else Path(args.path).read_bytes()
    except OptionError as exc:
        return _fail(exc)
    except OSError as exc:
        return _fail(f"cannot read {args.path}: {exc.strerror or exc}")
    from .analysis import analyze
    from .render import DotRunner, render

    # one render, then the process ends: nothing to keep warm
    with DotRunner.from_settings(settings, warm=False) as runner:
        try:
            graph = analyze(data, settings=settings, **options.analysis_kwargs())
            body, _ = render(graph, fmt, options.view, settings=settings, runner=runner, pretty=True)
        except (DockerfileError, RenderError) as exc:
            return _fail(exc)
    return _write(args, fmt, body, _fails(graph, args.fail_on))


def _render_project(args) -> int:
    """A folder, several files or an archive: the project JSON, DOT, SVG, PNG, or one file of it."""
    from .project import analyze_project, from_archive, from_paths, parse_build_contexts, parse_variables
    from .project.inputs import MAX_ARCHIVE_BYTES, ProjectInputError
    from .render import DotRunner, render
    from .render.project import draw_project, project_to_dot, project_to_mermaid

    settings = config.load()
    fmt = FORMAT_ALIASES.get(args.format, args.format)
    try:
        if args.target or args.build_arg or args.platform:
            raise OptionError("--target, --build-arg and --platform come from the project's files here")
        contexts = parse_build_contexts(args.build_context)
        variables = parse_variables(args.var)
        if len(args.paths) == 1 and not Path(args.paths[0]).is_dir():
            with open(args.paths[0], "rb") as handle:
                files = from_archive(handle.read(MAX_ARCHIVE_BYTES + 1))
        else:
            files = from_paths(args.paths)
        project = analyze_project(
            files,
            build_contexts=contexts,
            project_target=args.project_target,
            variables=variables,
            bake_files=args.bake_file or None,
            settings=settings,
        )
        if args.project_file:
            graph = project.graphs.get(args.project_file)
            if graph is None:
                raise OptionError(f"--file {args.project_file}: no such Dockerfile in the project")
            with DotRunner.from_settings(settings, warm=False) as runner:
                body, _ = render(
                    graph, fmt if fmt != "multistage" else "json", args.view, settings=settings, runner=runner
                )
            return _write(args, fmt, body, _fails(graph, args.fail_on))
        if fmt == "json":
            body = (json.dumps(project.to_dict(), sort_keys=True, indent=2) + "\n").encode("utf-8")
        elif fmt == "dot":
            body = project_to_dot(project).encode("utf-8")
        elif fmt == "mermaid":
            body = project_to_mermaid(project).encode("utf-8")
        elif fmt in ("svg", "png"):
            with DotRunner.from_settings(settings, warm=False) as runner:
                body = draw_project(project, fmt, settings=settings, runner=runner)
        elif fmt == "multistage":
            if not project.conversions:
                raise OptionError(
                    "no builder pattern to convert: no script copies a file out of one build into another"
                )
            body = project.conversions[0]["dockerfile"].encode("utf-8")
        else:
            raise OptionError(
                f"--format {fmt} is not available for projects (json, dot, svg, png, mermaid, multistage)"
            )
    except (OptionError, ProjectInputError, DockerfileError, RenderError) as exc:
        return _fail(exc)
    except OSError as exc:
        return _fail(f"cannot read {args.paths[0]}: {exc.strerror or exc}")
    return _write(args, fmt, body, _project_fails(project, args.fail_on))


def _write(args, fmt: str, body: bytes, failed: bool) -> int:
    if args.output:
        try:
            Path(args.output).write_bytes(body)
        except OSError as exc:
            return _fail(f"cannot write {args.output}: {exc.strerror or exc}")
    else:
        sys.stdout.buffer.write(body)
        if fmt in ("json", "dot", "mermaid") and not body.endswith(b"\n"):
            sys.stdout.buffer.write(b"\n")
        sys.stdout.flush()
    return 1 if failed else 0


def _fails(graph, fail_on: str) -> bool:
    """True when a diagnostic is at least as severe as ``fail_on`` (infos never fail)."""
    if fail_on == "warning":
        return any(d.severity.value in ("error", "warning") for d in graph.diagnostics)
    return graph.has_errors


def _project_fails(project, fail_on: str) -> bool:
    """:func:`_fails` for every Dockerfile of a project, and its own diagnostics."""
    if any(_fails(graph, fail_on) for graph in project.graphs.values()):
        return True
    severities = ("error", "warning") if fail_on == "warning" else ("error",)
    return any(d.severity in severities for d in project.diagnostics)
