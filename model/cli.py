"""The ``copyimage`` command: simulate and check scenarios, draw diagrams, serve the API.

Exit status: 0 when every expectation holds, 1 when one does not, 2 on bad
input (a malformed scenario names the file, the line and the fix).
"""

from __future__ import annotations

import argparse
import sys
import time
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
    scenarios = _load_all(args.paths)
    status = EXIT_OK
    for scenario in scenarios:
        begin = time.perf_counter()
        sim = simulate(scenario) if scenario.steps else None
        ok = sim is None or sim.ok
        took = time.perf_counter() - begin
        print(f"{'PASS' if ok else 'FAIL'}  {scenario.name:<32} simulated {len(scenario.steps)} steps  {took:.2f}s")
        if sim is not None:
            for failure in sim.failures:
                print("      " + failure)
        if not ok:
            status = EXIT_FAILED
    return status


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="copyimage", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("simulate", help="run scenarios' steps through the simulator and print a transcript")
    p.add_argument("paths", nargs="+", help="scenario files or folders")
    p.add_argument("-v", "--verbose", action="store_true", help="print every step's transcript")
    p.set_defaults(func=cmd_simulate)

    p = sub.add_parser("check", help="check scenarios: simulate their steps and explore their interleavings")
    p.add_argument("paths", nargs="+", help="scenario files or folders")
    p.set_defaults(func=cmd_check)

    from .server import add_serve_arguments  # the server's own options live beside it

    p = sub.add_parser("serve", help="serve the ECS API (CopyImage, CancelCopyImage, ...) to the official SDK")
    add_serve_arguments(p)
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
