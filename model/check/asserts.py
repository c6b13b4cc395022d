"""pytest helpers: assertions on a CheckResult whose failure message is the relevant part of the report.

Each helper raises ``AssertionError`` saying what was expected, what the
checker concluded and why (its reason and warnings), with the counterexample
or witness as numbered steps, so a failing test explains itself.
"""

from __future__ import annotations

from typing import Hashable

from .model import Expectation
from .path import steps_text
from .result import CheckResult, PropertyResult

__all__ = ["assert_holds", "assert_no_deadlock", "assert_reachable", "assert_sometimes", "assert_violated"]


def _prop(result: CheckResult, name: str) -> PropertyResult:
    try:
        return result[name]
    except KeyError as e:
        raise AssertionError(e.args[0]) from None


def _explain(result: CheckResult, prop: PropertyResult, expected: str) -> str:
    lines = [f"expected property {prop.name!r} ({prop.expectation.value}) to {expected}, but it is {prop.verdict}:"]
    lines.append(prop.format())
    if result.warnings:
        lines.append("warnings:")
        lines += [f"  - {w}" for w in result.warnings]
    s = result.stats
    lines.append(
        f"({result.strategy} search, {s.states:,} states, {s.transitions:,} transitions, "
        f"{'exhaustive' if result.exhaustive else 'not exhaustive'})"
    )
    return "\n".join(lines)


def assert_holds(result: CheckResult, name: str) -> None:
    """The property was proved: verdict ``holds`` (an exhaustive search, or a SOMETIMES witness)."""
    prop = _prop(result, name)
    if prop.verdict != "holds":
        raise AssertionError(_explain(result, prop, "hold"))


def assert_violated(
    result: CheckResult, name: str, max_steps: int | None = None, steps: int | None = None
) -> None:
    """The property is violated; optionally with a counterexample of at most ``max_steps`` / exactly ``steps``."""
    prop = _prop(result, name)
    if prop.verdict != "violated":
        raise AssertionError(_explain(result, prop, "be violated"))
    if prop.path is None:
        return  # a SOMETIMES never witnessed: there is no path to measure
    n = len(prop.path)
    if steps is not None and n != steps:
        raise AssertionError(_explain(result, prop, f"be violated in exactly {steps_text(steps)} (got {n})"))
    if max_steps is not None and n > max_steps:
        raise AssertionError(_explain(result, prop, f"be violated in at most {steps_text(max_steps)} (got {n})"))


def assert_sometimes(result: CheckResult, name: str) -> None:
    """A SOMETIMES property was witnessed (some reachable state satisfies it)."""
    prop = _prop(result, name)
    if prop.expectation is not Expectation.SOMETIMES:
        raise AssertionError(
            f"property {name!r} is {prop.expectation.value}, not sometimes; use assert_holds or assert_violated"
        )
    if prop.verdict != "holds":
        raise AssertionError(_explain(result, prop, "be witnessed"))


def assert_no_deadlock(result: CheckResult) -> None:
    """No reachable terminal state was rejected by ``model.allows_termination``."""
    if result.deadlocks is not None:
        raise AssertionError(
            f"{result.deadlock_count} reachable terminal state(s) rejected by allows_termination(); "
            f"shortest path, {steps_text(len(result.deadlocks))}:\n{result.deadlocks.format()}"
        )


def _matches(wanted: Hashable, counted: Hashable) -> bool:
    if wanted == counted:
        return True
    # A transition may carry several labels as a tuple; any one of them counts as reached.
    return isinstance(counted, tuple) and wanted in counted


def assert_reachable(result: CheckResult, outcome: Hashable) -> None:
    """Some explored transition (self-loops included) had this outcome label, or a tuple outcome containing it."""
    if any(_matches(outcome, o) for o in result.coverage):
        return
    seen = ", ".join(sorted((repr(o) for o in result.coverage), key=str)) or "none"
    hint = ""
    if not result.exhaustive:
        hint = "\nthe search was not exhaustive, so the outcome may be reachable further out:\n" + "\n".join(
            f"  - {w}" for w in result.warnings
        )
    raise AssertionError(
        f"outcome {outcome!r} was never produced by an explored transition "
        f"({result.stats.transitions:,} transitions, {result.stats.states:,} states).\n"
        f"outcomes produced: {seen}{hint}"
    )
