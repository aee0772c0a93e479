"""Command line: ``python -m webapp render PATH|- [options]`` and ``python -m webapp serve``.

Exit codes: 0 clean, 1 written but the Dockerfile has errors (or, with ``--fail-on warning``,
warnings too, as ``docker build --check`` fails in CI), 2 the input could not be read or
tokenised (one line on stderr naming the problem and its line; never a traceback).
"""

from __future__ import annotations

import argparse
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
    render.add_argument("path", help="the Dockerfile, or - for standard input")
    render.add_argument("--format", "-f", default="json", choices=FORMATS + tuple(FORMAT_ALIASES))
    render.add_argument("--view", default="stages", choices=VIEWS)
    render.add_argument("--target", help="the stage to build (default: the last stage)")
    render.add_argument(
        "--build-arg", action="append", default=[], metavar="KEY=VALUE", help="a build argument (repeatable)"
    )
    render.add_argument("--platform", help="target platform, e.g. linux/arm64 (default linux/amd64)")
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
    return _render(args)


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
    return 1 if _fails(graph, args.fail_on) else 0


def _fails(graph, fail_on: str) -> bool:
    """True when a diagnostic is at least as severe as ``fail_on`` (infos never fail)."""
    if fail_on == "warning":
        return any(d.severity.value in ("error", "warning") for d in graph.diagnostics)
    return graph.has_errors
