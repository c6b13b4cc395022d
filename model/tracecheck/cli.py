"""``copyimage check-trace FILE``: the arguments and the command (wired into the CLI by model.cli).

Exit status: 0 when the model explains the trace and I1-I9 hold after every
step, 1 when it does not (or the timing search gave up), 2 on bad input (an
unreadable or malformed trace names the file, the line and the fix; a
malformed scenario gets the scenario loader's message).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import IO, Any

from ..scenario import DEFAULT_SCENARIO, ScenarioError, load_scenario
from .checker import DEFAULT_MAX_CANDIDATES, check_trace
from .records import TraceError, read_trace

__all__ = ["add_check_trace_arguments", "run_check_trace"]

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("give a number of at least 1")
    return value


def add_check_trace_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add ``check-trace``'s arguments to ``parser`` (an ``add_parser('check-trace')`` sub-parser)."""
    parser.add_argument("file", metavar="FILE",
                        help="the trace: the server's --trace JSON lines, a cloud.trace JSON list, "
                             "or JSON lines as docs/trace-format.md describes")
    parser.add_argument("--scenario", metavar="SCENARIO",
                        help="the scenario the trace starts from (default: the default world of Cloud())")
    parser.add_argument("--json", action="store_true", help="print the result as one JSON object")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--search-events", dest="search_events", action="store_const", const=True, default=None,
                      help="search every timing of service events even if the trace records events "
                           "(recorded events are then ignored)")
    mode.add_argument("--replay-events", dest="search_events", action="store_const", const=False,
                      help="replay only the recorded service events, even if the trace records none")
    parser.add_argument("--max-candidates", type=_positive, default=DEFAULT_MAX_CANDIDATES, metavar="N",
                        help=f"give up the timing search beyond N candidate worlds (default {DEFAULT_MAX_CANDIDATES:,})")
    parser.add_argument("--skip-action", action="append", default=[], metavar="ACTION",
                        help="leave out calls of ACTION (e.g. an action the model does not implement); repeatable")
    parser.add_argument("--no-faults", dest="allow_faults", action="store_false",
                        help="do not explain a recorded InternalError as a service fault")
    parser.set_defaults(func=run_check_trace)
    return parser


def _safe(text: str) -> str:
    """Text any terminal can print: a trace may hold lone surrogates (valid JSON escapes, invalid UTF-8)."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _bad_input(args: argparse.Namespace, err: Exception, out: IO[str], errors: IO[str]) -> int:
    print(_safe(f"copyimage check-trace: {err}"), file=errors)
    if getattr(args, "json", False):
        detail: dict[str, Any]
        if isinstance(err, ScenarioError):  # TraceError too
            detail = err.to_json()
        else:
            detail = {"what": str(err)}
        print(_safe(json.dumps({"ok": False, "error": detail}, ensure_ascii=False)), file=out)
    return EXIT_BAD_INPUT


def run_check_trace(args: argparse.Namespace, out: IO[str] | None = None, errors: IO[str] | None = None) -> int:
    """Run ``copyimage check-trace`` with parsed arguments; returns the exit status."""
    out = out if out is not None else sys.stdout
    errors = errors if errors is not None else sys.stderr
    try:
        scenario_path = getattr(args, "scenario", None)
        scenario = load_scenario(scenario_path if scenario_path else DEFAULT_SCENARIO)
        trace = read_trace(args.file)
    except (ScenarioError, TraceError) as err:
        return _bad_input(args, err, out, errors)
    report = check_trace(
        trace, scenario,
        search_events=getattr(args, "search_events", None),
        max_candidates=getattr(args, "max_candidates", DEFAULT_MAX_CANDIDATES),
        allow_faults=getattr(args, "allow_faults", True),
        skip_actions=getattr(args, "skip_action", None) or (),
    )
    if getattr(args, "json", False):
        print(_safe(json.dumps(report.to_json(), ensure_ascii=False, indent=1)), file=out)
    else:
        print(_safe(report.text()), file=out)
    return EXIT_OK if report.ok else EXIT_FAILED
