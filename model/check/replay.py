"""Counterexamples as replayable programs: JSON traces, pytest files, and ``copyimage replay``.

A path found by the explorer becomes a list of steps in the API's own terms
(``{"call": "CopyImage", "params": {...}}`` or ``{"event": "Complete",
"ImageId": ...}``) with the answer code each step gave. Replaying runs them
through a fresh ``Cloud`` of the same scenario (ids are deterministic, so
they match) and checks every answer and the final verdict. Like Hypothesis,
a failure is also printed as a short Python program.
"""

from __future__ import annotations

import json
import pprint
from pathlib import Path as FsPath
from typing import Any, Mapping

from ..cloud import Cloud
from ..scenario import ScenarioError, load_scenario
from ..semantics.events import Complete, Fail, Start
from ..semantics.invariants import ALWAYS, INVARIANTS, copy_pending
from .ecs import CopyImageModel, RequestAction
from .path import Path

__all__ = ["trace_steps", "trace_document", "to_program", "to_pytest", "replay", "load_trace", "ReplayResult"]


def trace_steps(model: CopyImageModel, path: Path) -> list[dict[str, Any]]:
    """The path's steps in the API's terms, each with the answer code it gave."""
    out: list[dict[str, Any]] = []
    for step in path.steps:
        action = step.action
        outcome = step.outcome
        code = outcome[1] if isinstance(outcome, tuple) and len(outcome) == 2 else None
        if type(action) is RequestAction:
            spec = model.spec.requests[action.index]
            entry: dict[str, Any] = {"call": spec.call, "params": action.params_dict(), "expect": code}
            if spec.caller is not None:
                entry["as"] = spec.caller
        elif type(action) in (Complete, Fail, Start):
            entry = {"event": type(action).__name__, "ImageId": action.image_id}
        else:  # a fault: the service answered InternalError and nothing changed
            entry = {"fault": True, "expect": "InternalError"}
        out.append(entry)
    return out


def trace_document(model: CopyImageModel, path: Path, prop: str | None) -> dict[str, Any]:
    """A self-contained replayable trace: the scenario, the steps, what it demonstrates."""
    return {
        "copyimage_trace": 1,
        "source": model.scenario.source,
        "scenario": _plain(model.scenario.raw),
        "property": prop,
        "loop_start": path.loop_start,
        "steps": trace_steps(model, path),
    }


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def load_trace(path: str | FsPath) -> dict[str, Any]:
    """Read a trace document; ScenarioError (file, line, fix) when it is not one."""
    p = FsPath(path)
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ScenarioError(str(p), None, f"cannot read the trace ({exc})", "check the path") from None
    except json.JSONDecodeError as exc:
        raise ScenarioError(str(p), exc.lineno, f"not valid JSON: {exc.msg}",
                            "pass a trace written by `copyimage check --export`") from None
    if not isinstance(doc, dict) or doc.get("copyimage_trace") != 1 or not isinstance(doc.get("steps"), list):
        raise ScenarioError(str(p), 1, "not a copyimage trace (no `copyimage_trace: 1` and `steps`)",
                            "pass a trace written by `copyimage check --export`")
    return doc


class ReplayResult:
    """What replaying a trace showed: every answer as recorded, and the property's verdict."""

    def __init__(self) -> None:
        self.mismatches: list[str] = []
        self.reproduced: bool | None = None
        self.cloud: Cloud | None = None
        self.lines: list[str] = []

    @property
    def ok(self) -> bool:
        return not self.mismatches and self.reproduced is not False


def replay(doc: Mapping[str, Any]) -> ReplayResult:
    """Run a trace document through a fresh Cloud of its scenario."""
    out = ReplayResult()
    cloud = Cloud.from_scenario(load_scenario(doc["scenario"]))
    cloud.auto_start = False  # the trace says when queued copies start (where starting is an event)
    out.cloud = cloud
    for n, step in enumerate(doc["steps"], 1):
        if "call" in step:
            answer = cloud.call(step["call"], step.get("params") or {}, caller=step.get("as"))
            got = answer.get("Code", "OK")
            out.lines.append(f"{n}. {step['call']}({_params_text(step.get('params') or {})}) -> {got}")
            if step.get("expect") is not None and got != step["expect"]:
                out.mismatches.append(f"step {n}: {step['call']} answered {got}, the trace recorded {step['expect']}")
        elif "event" in step:
            happened = cloud.apply_event(step["event"], step["ImageId"])
            out.lines.append(f"{n}. service: {step['event']}({step['ImageId']})")
            if not happened:
                out.mismatches.append(f"step {n}: {step['event']}({step['ImageId']}) was not enabled")
        else:
            cloud.inject_fault()
            out.lines.append(f"{n}. (fault injected)")
    prop = doc.get("property")
    if prop in ALWAYS:
        out.reproduced = prop in cloud.violations((prop,))
    elif prop == "L1":
        out.reproduced = copy_pending(cloud.world)
    return out


def _params_text(params: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in params.items())


def to_program(doc: Mapping[str, Any], *, indent: str = "", scenario_expr: str | None = None) -> str:
    """The trace as Python statements against ``Cloud`` (how Hypothesis prints a failing example)."""
    lines = [f"{indent}cloud = Cloud.from_scenario({scenario_expr or repr(doc.get('source'))})"]
    lines.append(f"{indent}cloud.auto_start = False  # the trace says when queued copies start")
    for step in doc["steps"]:
        if "call" in step:
            caller = f", caller={step['as']!r}" if step.get("as") else ""
            lines.append(f"{indent}answer = cloud.call({step['call']!r}, {step.get('params') or {}!r}{caller})")
            if step.get("expect") is not None:
                lines.append(f"{indent}assert answer.get('Code', 'OK') == {step['expect']!r}, answer")
        elif "event" in step:
            lines.append(f"{indent}assert cloud.apply_event({step['event']!r}, {step['ImageId']!r})")
        else:
            lines.append(f"{indent}cloud.inject_fault()")
    return "\n".join(lines)


def to_pytest(doc: Mapping[str, Any], name: str | None = None) -> str:
    """A pytest regression test that replays the trace and asserts the property's verdict."""
    prop = doc.get("property") or "trace"
    test = name or f"test_replay_{prop}_{FsPath(str(doc.get('source'))).stem}".replace("-", "_")
    body = to_program(doc, indent="    ", scenario_expr="SCENARIO")
    if prop in INVARIANTS:
        verdict = f"    assert {prop!r} in cloud.violations(), cloud.violations()"
    elif prop in ALWAYS:  # a reading's invariant (A4) is checked when named
        verdict = f"    assert {prop!r} in cloud.violations(({prop!r},)), cloud.violations(({prop!r},))"
    elif prop == "L1":
        verdict = "    assert copy_pending(cloud.world)  # L1: a copy that can wait forever"
    else:
        verdict = "    assert not cloud.violations(), cloud.violations()"
    return (
        f'"""Generated by copyimage from {doc.get("source")}: {prop}, {len(doc["steps"])} steps."""\n\n'
        "from model import Cloud\n"
        "from model.semantics.invariants import copy_pending  # noqa: F401\n\n"
        f"SCENARIO = {pprint.pformat(doc['scenario'], sort_dicts=False)}\n\n\n"
        f"def {test}() -> None:\n{body}\n{verdict}\n"
    )
