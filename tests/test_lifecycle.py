"""The compiled lifecycle TABLE and ``fire`` agree with a real ``transitions`` Machine everywhere.

For every state, every trigger and every assignment of the guards, the
Machine built from ``LIFECYCLE`` (with condition methods answering the
assigned values) and ``fire`` must reach the same state, or both refuse: a
trigger not declared from the state is a MachineError for the Machine and
NO_TRANSITION for ``fire``; a declared trigger whose guards all fail leaves the
Machine in place (the trigger returns False) and is GUARD_FAILED for ``fire``
(``fire`` answers the sentinels NO_TRANSITION / GUARD_FAILED rather than raising).
"""

from __future__ import annotations

import itertools

import pytest
from transitions import MachineError

from model.semantics.lifecycle import (
    ENDED, GUARD_FAILED, GUARDS, IN_PROGRESS, LIFECYCLE, NO_TRANSITION, STATES, TABLE, TRIGGERS, CopyState,
    build_machine, fire,
)


class _Model:
    """A Machine model whose guards answer the values a test assigns."""

    def __init__(self, values: dict[str, bool]) -> None:
        self.values = values
        self.asked: list[str] = []
        for name in GUARDS:
            setattr(self, name, self._guard(name))

    def _guard(self, name):
        def check(*_args, **_kwargs):
            self.asked.append(name)
            return self.values[name]
        return check


def _machine_outcome(state: str, trigger: str, values: dict[str, bool]) -> str:
    model = _Model(values)
    machine = build_machine(model)
    machine.set_state(state, model=model)
    try:
        moved = getattr(model, trigger)()
    except MachineError:
        return "NoTransition"
    if not moved:
        assert model.state == state, "a refused trigger moved the Machine"
        return "GuardFailed"
    return model.state


def _fire_outcome(state: str, trigger: str, values: dict[str, bool]) -> str:
    out = fire(state, trigger, values)
    if out is NO_TRANSITION:
        return "NoTransition"
    if out is GUARD_FAILED:
        return "GuardFailed"
    assert out in STATES, out
    return out


ASSIGNMENTS = [dict(zip(GUARDS, bits)) for bits in itertools.product((False, True), repeat=len(GUARDS))]
CASES = [(s, t, a) for s in STATES for t in TRIGGERS for a in ASSIGNMENTS]


def _case_id(case):
    s, t, a = case
    return f"{s}-{t}-" + "".join("1" if a[g] else "0" for g in GUARDS)


@pytest.mark.parametrize("state,trigger,values", CASES, ids=[_case_id(c) for c in CASES])
def test_table_agrees_with_the_machine(state, trigger, values):
    assert _fire_outcome(state, trigger, values) == _machine_outcome(state, trigger, values)


def test_every_outcome_kind_is_exercised():
    """The sweep above covers moves, undeclared triggers and failed guards (it cannot pass vacuously)."""
    outcomes = {_fire_outcome(s, t, a) for s, t, a in CASES}
    assert {"NoTransition", "GuardFailed"} <= outcomes
    assert set(STATES) - {CopyState.REQUESTED} <= outcomes  # every state but the pseudo-state is reached
    assert len(CASES) == len(STATES) * len(TRIGGERS) * 2 ** len(GUARDS)


def test_table_is_the_declaration():
    """TABLE holds exactly the declared edges, in declaration order per (state, trigger)."""
    expected: dict[tuple[str, str], list] = {}
    for e in LIFECYCLE:
        guards = tuple((g, True) for g in e.conditions) + tuple((g, False) for g in e.unless)
        expected.setdefault((e.source, e.trigger), []).append((e.dest, guards))
    assert {k: list(v) for k, v in TABLE.items()} == expected


def test_missing_guard_counts_as_false():
    assert fire(CopyState.REQUESTED, "accept", {}) == CopyState.WAITING
    assert fire(CopyState.REQUESTED, "accept", {"slot_free": True}) == CopyState.CREATING
    assert fire(CopyState.CREATING, "cancel", {}) is GUARD_FAILED


def test_unknown_trigger_and_state():
    assert fire(CopyState.CREATING, "explode", {}) is NO_TRANSITION
    assert fire("Nowhere", "cancel", {"cancel_while_creating": True}) is NO_TRANSITION


@pytest.mark.parametrize("state,trigger,values,dest", [
    ("Requested", "accept", {"slot_free": True}, "Creating"),
    ("Requested", "accept", {"slot_free": False}, "Waiting"),
    ("Waiting", "start", {"slot_free": True}, "Creating"),
    ("Creating", "complete", {}, "Available"),
    ("Creating", "fail", {}, "CreateFailed"),
    ("Waiting", "cancel", {"cancel_while_creating": False}, "Cancelled"),
    ("Creating", "cancel", {"cancel_while_creating": True}, "Cancelled"),
    ("Available", "delete", {}, "Deleted"),
    ("CreateFailed", "delete", {"failed_copies_deletable": True}, "Deleted"),
], ids=["N4-accept-free", "N4-Q3-accept-full", "N4-I3-start", "N6-complete", "Q3-fail", "N3-C2-cancel-waiting",
        "N3-C2-cancel-creating", "D1-delete", "D1-delete-failed"])
def test_the_lifecycle_edges(state, trigger, values, dest):
    assert fire(state, trigger, values) == dest


@pytest.mark.parametrize("state,trigger,values,outcome", [
    ("Waiting", "start", {"slot_free": False}, GUARD_FAILED),
    ("Creating", "cancel", {"cancel_while_creating": False}, GUARD_FAILED),
    ("CreateFailed", "delete", {"failed_copies_deletable": False}, GUARD_FAILED),
    ("Waiting", "delete", {"failed_copies_deletable": True}, NO_TRANSITION),
    ("Creating", "delete", {"failed_copies_deletable": True}, NO_TRANSITION),
    ("Available", "cancel", {"cancel_while_creating": True}, NO_TRANSITION),
    ("Waiting", "complete", {}, NO_TRANSITION),
], ids=["I3-no-slot", "C3-CancelNotSupported", "D1-failed-not-deletable", "N3-I1-delete-waiting",
        "N3-I1-delete-creating", "C3-cancel-finished", "waiting-cannot-complete"])
def test_the_refusals(state, trigger, values, outcome):
    assert fire(state, trigger, values) is outcome


def test_sentinels_are_not_states():
    assert NO_TRANSITION not in STATES and GUARD_FAILED not in STATES and NO_TRANSITION != GUARD_FAILED


def test_state_sets():
    assert IN_PROGRESS == {CopyState.WAITING, CopyState.CREATING}
    assert IN_PROGRESS.isdisjoint(ENDED)
    assert IN_PROGRESS | ENDED | {CopyState.REQUESTED} == set(STATES)
    # Cancelled and Deleted are terminal: no trigger leaves them.
    for end in (CopyState.CANCELLED, CopyState.DELETED):
        assert not any(source == end for source, _ in TABLE)
    # Every edge cites at least one SPEC rule.
    assert all(e.rules for e in LIFECYCLE)
