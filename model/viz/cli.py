"""The ``diagram`` and ``docs`` subcommands of ``copyimage``.

    copyimage diagram lifecycle|queue|statespace|trace [SCENARIO or TRACE.json] [--format F] [-o FILE]
    copyimage docs [FOLDER]

Exit status 0 on success, 2 on bad input (the message names the file and the
fix); a file is written through a temporary file and a rename, so a failed
run leaves nothing half-written. ``docs --check`` exits 1 when the committed
docs differ from what the code draws.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import yaml

from ..scenario import ScenarioError, load_scenario
from .output import figure_png, figure_svg, write_atomic

__all__ = ["add_diagram_arguments", "run_diagram", "add_docs_arguments", "run_docs", "FORMATS", "KINDS"]

EXIT_OK, EXIT_STALE, EXIT_BAD_INPUT = 0, 1, 2
KINDS = ("lifecycle", "queue", "statespace", "trace")
FORMATS = ("mermaid", "dot", "svg", "png")
_SUFFIXES = {".mmd": "mermaid", ".mermaid": "mermaid", ".md": "mermaid", ".dot": "dot", ".gv": "dot",
             ".svg": "svg", ".png": "png"}


class BadInput(Exception):
    """Bad command-line input: what is wrong and how to fix it."""

    def __init__(self, what: str, fix: str) -> None:
        super().__init__(f"{what}\n  fix: {fix}")


def add_diagram_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add ``diagram``'s arguments to ``parser`` (an ``add_parser('diagram')`` sub-parser)."""
    parser.add_argument("kind", choices=KINDS, help="what to draw")
    parser.add_argument("source", nargs="?", metavar="SCENARIO|TRACE.json",
                        help="statespace: a scenario with an explore section; trace: a scenario with steps "
                             "(simulated), or a JSON trace (Cloud.trace_json())")
    parser.add_argument("-f", "--format", choices=FORMATS,
                        help="output format (default: from the -o suffix, else mermaid)")
    parser.add_argument("-o", "--output", metavar="FILE", help="write here (default: standard output; png needs -o)")
    parser.add_argument("--engine", choices=("auto", "matplotlib", "dot"), default="auto",
                        help="how svg/png of lifecycle and queue are laid out: Graphviz's dot when installed "
                             "(auto), or matplotlib (no system package)")
    parser.add_argument("--scenario", metavar="FILE",
                        help="trace: the scenario a JSON trace was recorded with (default: the default world)")
    parser.add_argument("--path", metavar="PROPERTY",
                        help="statespace: highlight this property's counterexample or witness (default: the first "
                             "violated); trace: draw it as the run")
    parser.add_argument("--max-nodes", type=int, default=300, metavar="N",
                        help="statespace: draw states one by one up to N (default 300), else a summary")
    parser.add_argument("--limit", type=int, default=3, metavar="L",
                        help="queue: the limit to explore with (default 3)")
    parser.add_argument("--option", action="append", default=[], metavar="NAME=VALUE",
                        help="queue: a semantics option, e.g. --option bug_limit_off_by_one=true (repeatable)")
    parser.set_defaults(func=run_diagram)
    return parser


def add_docs_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add ``docs``'s arguments to ``parser`` (an ``add_parser('docs')`` sub-parser)."""
    parser.add_argument("folder", nargs="?", default="docs", help="the docs folder (default: docs)")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if a generated file is missing or out of date")
    parser.set_defaults(func=run_docs)
    return parser


def _fail(message: str) -> int:
    print(f"copyimage: {message}", file=sys.stderr)
    return EXIT_BAD_INPUT


def run_diagram(args: argparse.Namespace) -> int:
    """Draw one diagram; 0 on success, 2 on bad input (nothing written)."""
    try:
        fmt = _format(args)
        if fmt == "png" and args.output is None:
            raise BadInput("png is binary: give a file", "add -o FILE.png")
        data = _render(args, fmt)
    except (ScenarioError, BadInput) as exc:
        return _fail(str(exc))
    except ValueError as exc:  # e.g. a state graph too large for a text format
        return _fail(str(exc))
    except RuntimeError as exc:  # Graphviz failed
        return _fail(str(exc))
    if args.output is None:
        sys.stdout.write(data if isinstance(data, str) else data.decode("utf-8"))
        return EXIT_OK
    try:
        write_atomic(args.output, data)
    except OSError as exc:
        return _fail(f"{args.output}: cannot write ({exc.strerror or exc})\n  fix: check the folder exists "
                     "and is writable")
    print(f"copyimage: wrote {args.output}", file=sys.stderr)
    return EXIT_OK


def _format(args: argparse.Namespace) -> str:
    if args.format:
        return args.format
    if args.output:
        suffix = Path(args.output).suffix.lower()
        if suffix not in _SUFFIXES:
            raise BadInput(f"{args.output}: cannot tell the format from the suffix {suffix or '(none)'}",
                           "name the format: --format mermaid|dot|svg|png")
        return _SUFFIXES[suffix]
    return "mermaid"


def _parse_options(items: list[str]) -> dict[str, Any]:
    from ..semantics.world import Options

    known = Options.__dataclass_fields__
    out: dict[str, Any] = {}
    for item in items:
        name, sep, raw = item.partition("=")
        if not sep or name not in known:
            raise BadInput(f"--option {item!r}: not NAME=VALUE with a known option",
                           f"use one of: {', '.join(known)} (e.g. --option bug_limit_off_by_one=true)")
        out[name] = yaml.safe_load(raw)
    return out


def _figure_bytes(fig: Any, fmt: str) -> str | bytes:
    if fmt == "svg":
        return figure_svg(fig)
    if fmt == "png":
        return figure_png(fig)
    raise AssertionError(fmt)


def _render(args: argparse.Namespace, fmt: str) -> str | bytes:
    kind = args.kind
    if kind in ("lifecycle", "queue"):
        if args.source:
            raise BadInput(f"`diagram {kind}` takes no file (got {args.source})",
                           f"drop it: `copyimage diagram {kind} --format {fmt}`")
        from .lifecycle import lifecycle_diagram, queue_diagram

        if kind == "lifecycle":
            diagram = lifecycle_diagram()
        else:
            if args.limit < 1:
                raise BadInput(f"--limit {args.limit}: a region runs at least one copy", "give --limit 1 or more")
            diagram = queue_diagram(_parse_options(args.option), limit=args.limit)
        if fmt == "mermaid":
            return diagram.mermaid()
        if fmt == "dot":
            return diagram.dot()
        from .diagram import dot_available

        engine = args.engine
        if engine == "auto":
            engine = "dot" if dot_available() else "matplotlib"
        elif engine == "dot" and not dot_available():
            raise BadInput("--engine dot: Graphviz's `dot` is not installed",
                           "install Graphviz (apt-get install graphviz) or use --engine matplotlib")
        return diagram.svg(engine) if fmt == "svg" else diagram.png(engine)
    if not args.source:
        what = "a scenario with an explore section" if kind == "statespace" else "a scenario with steps or a JSON trace"
        raise BadInput(f"`diagram {kind}` needs {what}",
                       f"e.g. `copyimage diagram {kind} scenarios/queue-overflow.yaml`")
    if kind == "statespace":
        return _statespace(args, fmt)
    return _trace(args, fmt)


def _statespace(args: argparse.Namespace, fmt: str) -> str | bytes:
    from .statespace import explore, statespace_dot, statespace_figure, statespace_mermaid

    scenario = load_scenario(args.source)
    if scenario.explore is None:
        raise BadInput(f"{args.source}: the scenario has no `explore:` section, so there is no state space to draw",
                       "add `explore: {requests: [...]}` listing the requests to interleave "
                       "(or draw its run: `copyimage diagram trace " + str(args.source) + "`)")
    result = explore(scenario)
    path: Any = args.path or "auto"
    if args.path and args.path not in result.properties:
        raise BadInput(f"{args.source}: no property named {args.path!r}",
                       f"use one of: {', '.join(result.properties) or '(none)'}")
    if fmt == "mermaid":
        return statespace_mermaid(result, path=path, max_nodes=args.max_nodes)
    if fmt == "dot":
        return statespace_dot(result, path=path, max_nodes=args.max_nodes)
    if args.engine == "dot":
        from .diagram import render_dot

        out = render_dot(statespace_dot(result, path=path, max_nodes=args.max_nodes), fmt)
        return out.decode("utf-8") if fmt == "svg" else out
    if result.stats.states > args.max_nodes:
        print(f"copyimage: {result.stats.states:,} states are more than --max-nodes {args.max_nodes}: "
              "drawing a summary (states per depth, actions by kind) instead", file=sys.stderr)
    return _figure_bytes(statespace_figure(result, path=path, max_nodes=args.max_nodes), fmt)


def _trace(args: argparse.Namespace, fmt: str) -> str | bytes:
    from .trace import frames_from_trace, load_trace, sequence_mermaid, timeline_figure

    if fmt == "dot":
        raise BadInput("a trace is drawn as a sequence diagram (mermaid) or a timeline (svg, png), not as DOT",
                       "use --format mermaid, svg or png")
    source = Path(args.source)
    title, note = None, None
    if source.suffix.lower() in (".json", ".jsonl"):
        from ..scenario import DEFAULT_SCENARIO

        scenario = load_scenario(args.scenario) if args.scenario else load_scenario(DEFAULT_SCENARIO)
        entries = load_trace(source)
        frames = frames_from_trace(entries, scenario.world, source=str(source))
        run: Any = frames
        refs = scenario.refs
        title = f"Trace {source.name}"
    else:
        scenario = load_scenario(source)
        refs = scenario.refs
        if args.path or not scenario.steps:
            run, name, note = _counterexample(scenario, args)
            title = f"{scenario.name}: {name}"
        else:
            from ..simulate import simulate

            sim = simulate(scenario)
            run = sim.cloud
            title = f"{scenario.name}"
            if not sim.ok:
                print(f"copyimage: note: {len(sim.failures)} expectation(s) of {source} fail; drawing the run anyway",
                      file=sys.stderr)
    if fmt == "mermaid":
        return sequence_mermaid(run, title=title, refs=refs, note=note)
    return _figure_bytes(timeline_figure(run, title=title, refs=refs), fmt)


def _counterexample(scenario: Any, args: argparse.Namespace) -> tuple[Any, str, str]:
    """The path to draw as a run, its name (``I1 counterexample``) and a closing note (what it shows)."""
    from ..semantics.invariants import ALWAYS
    from .statespace import explore, highlight_path

    if scenario.explore is None:
        raise BadInput(f"{scenario.source}: the scenario has neither `steps:` to simulate nor an `explore:` section",
                       "add `steps:` (calls and `advance:`) or pass a JSON trace")
    result = explore(scenario)
    if args.path and args.path not in result.properties:
        raise BadInput(f"{scenario.source}: no property named {args.path!r}",
                       f"use one of: {', '.join(result.properties) or '(none)'}")
    path = highlight_path(result, args.path or "auto")
    if path is None:
        raise BadInput(f"{scenario.source}: no property is violated, so there is no counterexample to draw",
                       "name a property with a witness (--path NAME), or add `steps:` to draw a run")
    prop = next(p for p in result.properties.values() if p.path is path)
    kind = "counterexample" if prop.violated else "witness"
    why = ALWAYS[prop.name](path.last.world) if prop.name in ALWAYS and prop.violated else None
    note = f"{prop.name} {'broken' if prop.violated else 'witnessed'}: {why or prop.description}"
    return path, f"{prop.name} {kind}", note


def run_docs(args: argparse.Namespace) -> int:
    """Regenerate the docs folder (or with --check, only compare); 0 ok, 1 stale, 2 on error."""
    from .docs import build_docs, stale_docs

    folder = Path(args.folder)
    if folder.exists() and not folder.is_dir():
        return _fail(f"{folder}: not a folder\n  fix: name the docs folder, e.g. `copyimage docs docs/`")
    try:
        if getattr(args, "check", False):
            stale = stale_docs(folder)
            for rel in stale:
                print(f"copyimage: {folder / rel} is out of date", file=sys.stderr)
            if stale:
                print("copyimage: run `make docs` (copyimage docs docs/) and commit the result", file=sys.stderr)
                return EXIT_STALE
            return EXIT_OK
        written = build_docs(folder)
    except OSError as exc:
        return _fail(f"{folder}: cannot write ({exc.strerror or exc})\n  fix: check the folder is writable")
    except (RuntimeError, ScenarioError) as exc:  # the page's own run no longer works: nothing was written
        return _fail(f"cannot draw the docs: {exc}")
    for path in written:
        print(f"copyimage: wrote {path}", file=sys.stderr)
    return EXIT_OK
