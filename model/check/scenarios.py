"""Checking a scenario: simulate its steps, explore its interleavings, judge its expectations.

A scenario's ``explore.expect`` says what the check must find, so every
scenario doubles as a regression test:

    expect:
      holds: [I1, I2, queue-used]        # holds (ALWAYS, L1) or witnessed (sometimes)
      violated: {I1: 4}                  # violated, with a shortest counterexample of 4 steps (or `any`)
      reachable_errors: [OperationDenied.ImageCopying]
      unreachable_errors: [Forbbiden]
      states: 1333                       # exact counts, for benchmark scenarios
      transitions: 4005

Without ``expect``, every property checked must hold and every ``sometimes``
must be witnessed.
"""

from __future__ import annotations

import multiprocessing
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from ..scenario import Scenario
from ..simulate import SimulationResult, simulate
from .checker import check
from .ecs import CopyImageModel, coverage, format_coverage, read_explore
from .model import Property
from .replay import to_program, trace_document
from .result import CheckResult

__all__ = ["ScenarioCheck", "check_scenario", "reachable_errors"]


@dataclass
class ScenarioCheck:
    """The outcome of checking one scenario."""

    scenario: Scenario
    simulation: SimulationResult | None = None
    model: CopyImageModel | None = None
    result: CheckResult | None = None
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failures

    def line(self) -> str:
        """One line: verdict, name, states, time."""
        verdict = "PASS" if self.ok else "FAIL"
        parts = [f"{verdict}  {self.scenario.name:<34}"]
        if self.result is not None:
            s = self.result.stats
            parts.append(f"{s.states:>9,} states {s.transitions:>10,} transitions depth {s.max_depth:>3}")
        if self.simulation is not None:
            parts.append(f"{self.simulation.steps} steps simulated")
        parts.append(f"{self.seconds:6.2f}s")
        return "  ".join(parts)

    def documents(self) -> dict[str, dict[str, Any]]:
        """A replayable trace document for each violated property and each witness."""
        out: dict[str, dict[str, Any]] = {}
        if self.result is None or self.model is None:
            return out
        for name, prop in self.result.properties.items():
            if prop.path is not None:
                out[name] = trace_document(self.model, prop.path, name)
        return out

    def report(self) -> str:
        lines = [self.line()]
        for failure in self.failures:
            lines.append(f"   expectation not met: {failure}")
        if self.simulation is not None and self.simulation.failures:
            lines.extend("   " + t for t in self.simulation.transcript)
        if self.result is not None:
            lines.append(self.result.report())
            if self.model is not None:
                lines.append(format_coverage(coverage(self.model, self.result)))
            for name, prop in self.result.properties.items():
                if prop.verdict == "violated" and self.model is not None and prop.path is not None:
                    doc = trace_document(self.model, prop.path, name)
                    lines.append(f"   {name} as a program:")
                    lines.append(to_program(doc, indent="      "))
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario.name,
            "source": self.scenario.source,
            "ok": self.ok,
            "failures": list(self.failures),
            "seconds": round(self.seconds, 3),
            "simulation": None if self.simulation is None else {
                "steps": self.simulation.steps, "failures": self.simulation.failures},
            "check": None if self.result is None else self.result.to_dict(),
            "coverage": None if self.result is None or self.model is None else coverage(self.model, self.result),
        }


def reachable_errors(result: CheckResult) -> set[str]:
    """The error codes some explored request answered (self-loops included)."""
    return {o[1] for o in result.coverage if isinstance(o, tuple) and len(o) == 2 and o[1] != "OK"}


def check_scenario(
    scenario: Scenario,
    *,
    strategy: str | None = None,
    max_states: int | None = None,
    max_depth: int | None = None,
    seconds: float | None = None,
    seed: int | None = None,
    store: str | None = None,
    workers: int | None = None,
    keep_graph: bool | None = None,
    progress: Callable[[Any], Any] | None = None,
    extra_properties: Iterable[Property] = (),
) -> ScenarioCheck:
    """Simulate the scenario's steps (if any), explore it (if it has ``explore:``), judge ``expect``."""
    begin = time.perf_counter()
    out = ScenarioCheck(scenario)
    if scenario.steps:
        out.simulation = simulate(scenario)
        out.failures.extend(f"simulation: {f}" for f in out.simulation.failures)
    spec = read_explore(scenario)
    if spec is not None:
        bounds = spec.bounds
        strategy = strategy or spec.strategy
        store = store or spec.store
        # Parallel only where it applies (BFS over the compact store); elsewhere one process.
        workers = (workers or spec.workers) if strategy == "bfs" and store == "compact" and not keep_graph else 1
        # ``workers`` says how to run, not what to check: where processes cannot be forked (Windows), one
        # process explores the same states, and the report says so.
        unforked = workers > 1 and "fork" not in multiprocessing.get_all_start_methods()
        if unforked:
            workers = 1
        model = CopyImageModel(scenario, spec=spec, extra_properties=extra_properties)
        result = check(
            model,
            strategy=strategy,
            max_states=max_states if max_states is not None else bounds.get("max_states"),
            max_depth=max_depth if max_depth is not None else bounds.get("max_depth"),
            seconds=seconds if seconds is not None else bounds.get("seconds"),
            seed=seed,
            store=store,
            workers=workers,
            keep_graph=keep_graph,
            progress=progress,
        )
        if unforked:
            result.warnings.append("this platform cannot fork processes, so the search ran in one process "
                                   "instead of the workers asked for: the same states, more slowly")
        out.model, out.result = model, result
        out.failures.extend(_judge(spec.expect, result, model))
    out.seconds = time.perf_counter() - begin
    return out


def _judge(expect: dict[str, Any], result: CheckResult, model: CopyImageModel) -> list[str]:
    failures: list[str] = []
    props = result.properties
    if result.interrupted:
        failures.append("the search was interrupted: verdicts are incomplete")
    holds = list(expect.get("holds") or [])
    violated = dict(expect.get("violated") or {})
    if not expect:  # the default expectation: everything checked holds
        holds = list(props)
    for name in holds:
        prop = props.get(name)
        if prop is None:
            failures.append(f"{name} was not checked (add it to explore.properties or explore.sometimes)")
        elif prop.verdict != "holds":
            why = f" ({prop.reason})" if prop.reason else ""
            failures.append(f"{name} should hold but is {prop.verdict}{why}")
    for name, steps in violated.items():
        prop = props.get(name)
        if prop is None:
            failures.append(f"{name} was not checked (add it to explore.properties)")
        elif prop.verdict != "violated":
            failures.append(f"{name} should be violated but is {prop.verdict}")
        elif steps not in ("any", None) and prop.path is not None and len(prop.path) != steps:
            failures.append(f"{name}: the shortest counterexample has {len(prop.path)} steps, expected {steps}")
    reached = reachable_errors(result)
    for code in expect.get("reachable_errors") or []:
        if code not in reached:
            failures.append(f"error {code} was never answered (reached: {', '.join(sorted(reached)) or 'none'})")
    for code in expect.get("unreachable_errors") or []:
        if code in reached:
            failures.append(f"error {code} was answered but should be unreachable")
    stats = result.stats
    for key, got in (("states", stats.states), ("transitions", stats.transitions), ("max_depth", stats.max_depth)):
        if key in expect and expect[key] != got:
            failures.append(f"{key}: expected {expect[key]}, explored {got}")
    return failures
