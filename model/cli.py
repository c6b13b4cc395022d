"""The ``copyimage`` command: simulate and check scenarios, draw diagrams, serve the API.

Exit status: 0 when every expectation holds, 1 when one does not, 2 on bad
input (a malformed scenario names the file, the line and the fix).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Callable, Sequence

from .scenario import Scenario, ScenarioError, load_scenario
from .simulate import simulate

__all__ = ["main", "scenario_files"]

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


def scenario_files(paths: Sequence[str]) -> list[Path]:
    """The scenario files named by ``paths`` (folders are searched for *.yaml / *.yml, sorted)."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(sorted(f for f in p.rglob("*") if f.suffix in (".yaml", ".yml") and f.is_file()))
        elif p.exists():
            out.append(p)
        else:
            raise ScenarioError(str(p), None, "no such file or folder", "check the path")
    if not out:
        raise ScenarioError(", ".join(paths), None, "no scenario files (*.yaml, *.yml) found",
                            "name a scenario file or a folder that contains some")
    return out


def _load_all(paths: Sequence[str]) -> list[Scenario]:
    # Load every file first: a bad one stops the run before anything is done or written.
    return [load_scenario(f) for f in scenario_files(paths)]


def cmd_simulate(args: argparse.Namespace) -> int:
    status = EXIT_OK
    for scenario in _load_all(args.paths):
        result = simulate(scenario)
        print(f"== {scenario.name} ({scenario.source}): {result.steps} steps, "
              f"{'ok' if result.ok else f'{len(result.failures)} failed'}")
        if args.verbose or not result.ok:
            for line in result.transcript:
                print("   " + line)
        for failure in result.failures:
            print("   FAIL " + failure)
        if not result.ok:
            status = EXIT_FAILED
    return status


def cmd_check(args: argparse.Namespace) -> int:
    import json

    from .check.progress import ProgressLine
    from .check.replay import to_pytest
    from .check.scenarios import check_scenario

    scenarios = _load_all(args.paths)
    if args.export:
        Path(args.export).mkdir(parents=True, exist_ok=True)
    status = EXIT_OK
    outputs = []
    for scenario in scenarios:
        progress = ProgressLine() if sys.stderr.isatty() and not args.json else None
        try:
            outcome = check_scenario(
                scenario, strategy=args.strategy, max_states=args.max_states, max_depth=args.max_depth,
                seconds=args.seconds, seed=args.seed, store=args.store, workers=args.workers, progress=progress,
                keep_graph=True if args.graph else None,
            )
        except KeyboardInterrupt:
            print(f"copyimage: interrupted while checking {scenario.name}", file=sys.stderr)
            return 130
        if args.json:
            outputs.append(outcome.to_dict())
        elif args.report or not outcome.ok:
            print(outcome.report())
        else:
            print(outcome.line())
        if args.export:
            for prop, doc in outcome.documents().items():
                stem = f"{scenario.name}-{prop}"
                _write_atomic(Path(args.export) / f"{stem}.json", json.dumps(doc, indent=1))
                _write_atomic(Path(args.export) / f"test_{stem}.py".replace("-", "_"), to_pytest(doc))
        if args.graph and outcome.result is not None:
            from .check.graph import export_graphml, export_json

            target = Path(args.graph if len(scenarios) == 1 else f"{Path(args.graph).stem}-{scenario.name}{Path(args.graph).suffix}")
            try:
                (export_json if target.suffix == ".json" else export_graphml)(outcome.result, target)
            except ValueError as exc:
                print(f"copyimage: {exc}", file=sys.stderr)
                status = max(status, EXIT_FAILED)
        if outcome.result is not None and outcome.result.interrupted:
            status = max(status, EXIT_FAILED)
        if not outcome.ok:
            status = EXIT_FAILED
    if args.json:
        print(json.dumps(outputs, indent=1))
    return status


def _write_atomic(path: Path, text: str) -> None:
    """Write via a temporary file and a rename, so nothing half-written is left behind."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def cmd_replay(args: argparse.Namespace) -> int:
    from .check.replay import load_trace, replay

    doc = load_trace(args.trace)
    result = replay(doc)
    for line in result.lines:
        print("  " + line)
    for mismatch in result.mismatches:
        print("  MISMATCH " + mismatch)
    prop = doc.get("property")
    if result.reproduced is not None:
        print(f"{prop}: {'reproduced' if result.reproduced else 'NOT reproduced'} after {len(doc['steps'])} steps")
    return EXIT_OK if result.ok else EXIT_FAILED


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError("must be more than 0")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="copyimage", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("simulate", help="run scenarios' steps through the simulator and print a transcript")
    p.add_argument("paths", nargs="+", help="scenario files or folders")
    p.add_argument("-v", "--verbose", action="store_true", help="print every step's transcript")
    p.set_defaults(func=cmd_simulate)

    p = sub.add_parser("check", help="check scenarios: simulate their steps and explore their interleavings")
    p.add_argument("paths", nargs="+", help="scenario files or folders")
    p.add_argument("--strategy", choices=("bfs", "dfs", "random"), help="search strategy (default: the scenario's, else bfs)")
    p.add_argument("--max-states", type=_positive_int, metavar="N", help="stop after N distinct states")
    p.add_argument("--max-depth", type=_positive_int, metavar="N", help="explore at most N steps deep")
    p.add_argument("--seconds", type=_positive_float, metavar="S", help="stop after S seconds")
    p.add_argument("--seed", type=int, help="seed of random walks (printed with the result so a run can be repeated)")
    p.add_argument("--store", choices=("full", "compact"),
                   help="full: states and parents; compact: fingerprints only (less memory, no liveness)")
    p.add_argument("--workers", type=_positive_int, metavar="N",
                   help="run BFS over the compact store on N processes (default: the scenario's, else 1)")
    p.add_argument("--json", action="store_true", help="print results as JSON")
    p.add_argument("--report", action="store_true", help="print the full report (counterexamples, coverage) for every scenario")
    p.add_argument("--export", metavar="DIR", help="write each counterexample and witness as TRACE.json and a pytest file")
    p.add_argument("--graph", metavar="FILE", help="write the state graph as GraphML (or JSON for *.json)")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("replay", help="replay a trace written by `check --export` through the simulator")
    p.add_argument("trace", help="a TRACE.json file")
    p.set_defaults(func=cmd_replay)

    from .server import add_serve_arguments  # the server's own options live beside it

    p = sub.add_parser("serve", help="serve the ECS API (CopyImage, CancelCopyImage, ...) to the official SDK")
    add_serve_arguments(p)

    from .viz.cli import add_diagram_arguments, add_docs_arguments  # drawing lives in model/viz

    add_diagram_arguments(sub.add_parser("diagram", help="draw the copy lifecycle, a region's queue, a state space or a run"))
    add_docs_arguments(sub.add_parser("docs", help="regenerate docs/diagrams/ and docs/lifecycle.md from the code"))

    from .tracecheck import add_check_trace_arguments

    p = sub.add_parser("check-trace",
                       help="check a recorded trace (server --trace file, cloud.trace, JSON lines) against the model")
    add_check_trace_arguments(p)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except ScenarioError as exc:
        print(f"copyimage: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("copyimage: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
