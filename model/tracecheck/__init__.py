"""The trace checker: does the model explain a recorded trace of API calls?

    from model.tracecheck import read_trace, check_trace
    report = check_trace(read_trace("trace.jsonl"), load_scenario("s.yaml"))
    print(report.text())            # OK ... / FAIL ... line N: ...

A trace recorded by the server (``copyimage serve --trace``) or by ``Cloud``
records the service's events and is replayed through ``step`` as it is; a
trace recorded elsewhere (the real cloud) is checked by searching every timing
of service events and a bijection between its ImageIds and the model's. The
shapes accepted and what is compared: docs/trace-format.md.

Public API: :func:`read_trace`, :func:`parse_trace_text`, :func:`check_trace`,
:class:`TraceReport`, :class:`TraceError`, and the command's
:func:`add_check_trace_arguments` / :func:`run_check_trace`.
"""

from .answers import IdMap
from .checker import DEFAULT_MAX_CANDIDATES, Mismatch, TraceReport, Violation, check_trace
from .cli import add_check_trace_arguments, run_check_trace
from .records import Call, EventRecord, Reset, Trace, TraceError, parse_trace_text, read_trace

__all__ = [
    "DEFAULT_MAX_CANDIDATES",
    "Call",
    "EventRecord",
    "IdMap",
    "Mismatch",
    "Reset",
    "Trace",
    "TraceError",
    "TraceReport",
    "Violation",
    "add_check_trace_arguments",
    "check_trace",
    "parse_trace_text",
    "read_trace",
    "run_check_trace",
]
