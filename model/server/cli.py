"""``copyimage serve``: the arguments and the command (wired into the CLI by model.cli)."""

from __future__ import annotations

import argparse
import math
import sys
from typing import Any

from .app import serve
from .clock import ManualClock, WallClock

__all__ = ["add_serve_arguments", "run_serve"]


def _speed(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError("the speed must be a positive number")
    return value


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError("the port must be between 0 and 65535")
    return value


def add_serve_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add ``serve``'s options to ``parser`` (an ``add_parser('serve')`` sub-parser)."""
    parser.add_argument("--scenario", metavar="FILE", help="scenario to load (default: the default world)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument("--port", type=_port, default=0, metavar="N", help="port to listen on (default: 0, any free port)")
    clock = parser.add_mutually_exclusive_group()
    clock.add_argument(
        "--speed",
        type=_speed,
        default=1.0,
        metavar="X",
        help="service seconds per wall-clock second (default: 1, real time)",
    )
    clock.add_argument(
        "--manual-clock",
        action="store_true",
        help="service time moves only through POST /_copyimage/advance",
    )
    parser.add_argument("--trace", metavar="FILE", help="append every request, answer and service event to FILE (JSON lines)")
    parser.add_argument(
        "--no-timestamp-check",
        dest="check_timestamps",
        action="store_false",
        help="accept request timestamps more than 15 minutes off the wall clock",
    )
    parser.add_argument(
        "--allow-remote-admin",
        action="store_true",
        help="answer /_copyimage/ admin requests from non-loopback clients too",
    )
    parser.set_defaults(func=run_serve)
    return parser


def _load_cloud(scenario: str | None) -> Any:
    from model import Cloud  # the model package; imported late so the server has no import-time dependency on it

    return Cloud.from_scenario(scenario) if scenario else Cloud()


def run_serve(args: argparse.Namespace) -> int:
    """Run ``copyimage serve`` with parsed arguments; returns the exit status."""
    try:
        cloud = _load_cloud(getattr(args, "scenario", None))
    except Exception as exc:  # noqa: BLE001 - any scenario problem ends the command
        print(f"copyimage serve: cannot load the scenario: {exc}", file=sys.stderr)
        return 2
    clock = ManualClock() if getattr(args, "manual_clock", False) else WallClock(getattr(args, "speed", 1.0) or 1.0)
    try:
        return serve(
            cloud,
            host=getattr(args, "host", "127.0.0.1"),
            port=getattr(args, "port", 0),
            clock=clock,
            trace_file=getattr(args, "trace", None),
            check_timestamps=getattr(args, "check_timestamps", True),
            allow_remote_admin=getattr(args, "allow_remote_admin", False),
        )
    except OSError as exc:  # port in use, address not available...
        print(f"copyimage serve: {exc}", file=sys.stderr)
        return 1
