"""The lifecycle of an image copy, declared once.

``LIFECYCLE`` below is the only statement of which copy states exist and
which trigger moves a copy from one to another under which guard. It is fed
to a ``transitions.Machine`` (``build_machine``), and the diagrams are drawn
from that machine. The hot path (``step``, millions of calls in the explorer)
does not run a Machine: it uses ``TABLE``, compiled once from the Machine's
own transitions at import time, and a test walks both on every
(state, trigger, guard outcome) to show they agree.

The states are the task's: ``Waiting`` and ``Creating`` are also what
DescribeImages shows for the new image (Q3); ``Cancelled`` and ``Deleted``
are ends in which the new image no longer exists.
"""

from __future__ import annotations

from typing import Mapping, NamedTuple

from transitions import Machine

__all__ = [
    "CopyState", "Edge", "LIFECYCLE", "GUARDS", "GUARD_MEANINGS", "TRIGGERS", "STATES", "IN_PROGRESS", "ENDED",
    "TABLE", "NO_TRANSITION", "GUARD_FAILED", "fire", "build_machine",
]


class CopyState:
    """The copy task's states (plain strings: cheap to hash in explored states)."""

    REQUESTED = "Requested"  # pseudo-state: CopyImage accepted, not yet placed
    WAITING = "Waiting"
    CREATING = "Creating"
    AVAILABLE = "Available"
    CREATE_FAILED = "CreateFailed"
    CANCELLED = "Cancelled"
    DELETED = "Deleted"


class Edge(NamedTuple):
    """One declared transition: trigger, source, destination, guards, and the SPEC rules it realises."""

    trigger: str
    source: str
    dest: str
    conditions: tuple[str, ...] = ()
    unless: tuple[str, ...] = ()
    rules: tuple[str, ...] = ()


S = CopyState
# The declaration. Guards are named (their meanings are GUARD_MEANINGS below); ``step`` supplies their values.
LIFECYCLE: tuple[Edge, ...] = (
    Edge("accept", S.REQUESTED, S.CREATING, conditions=("slot_free",), rules=("N4",)),
    Edge("accept", S.REQUESTED, S.WAITING, unless=("slot_free",), rules=("N4", "Q3")),
    Edge("start", S.WAITING, S.CREATING, conditions=("slot_free",), rules=("N4", "I3", "I4")),
    Edge("complete", S.CREATING, S.AVAILABLE, rules=("N6",)),
    Edge("fail", S.CREATING, S.CREATE_FAILED, rules=("Q3",)),
    Edge("cancel", S.WAITING, S.CANCELLED, rules=("N3", "C2")),
    Edge("cancel", S.CREATING, S.CANCELLED, conditions=("cancel_while_creating",), rules=("N3", "C2", "C3")),
    Edge("delete", S.AVAILABLE, S.DELETED, rules=("D1",)),
    Edge("delete", S.CREATE_FAILED, S.DELETED, conditions=("failed_copies_deletable",), rules=("D1",)),
)
del S

STATES: tuple[str, ...] = (
    CopyState.REQUESTED, CopyState.WAITING, CopyState.CREATING, CopyState.AVAILABLE,
    CopyState.CREATE_FAILED, CopyState.CANCELLED, CopyState.DELETED,
)
TRIGGERS: tuple[str, ...] = tuple(dict.fromkeys(e.trigger for e in LIFECYCLE))
GUARDS: tuple[str, ...] = tuple(dict.fromkeys(g for e in LIFECYCLE for g in e.conditions + e.unless))
# What each guard means: the docs page and its readers take it from here. A guard named like an
# ``Options`` field is that option; the page adds its default.
GUARD_MEANINGS: dict[str, str] = {
    "slot_free": "the region whose limit the copy counts against runs fewer copies than its limit "
                 "(N4; which region: A1; queued copies do not count: A5)",
    "cancel_while_creating": "a running copy may be cancelled (C2); when false CancelCopyImage answers "
                             "CancelNotSupported (C3)",
    "failed_copies_deletable": "DeleteImage removes a CreateFailed copy (D1)",
}
IN_PROGRESS = frozenset({CopyState.WAITING, CopyState.CREATING})
ENDED = frozenset({CopyState.AVAILABLE, CopyState.CREATE_FAILED, CopyState.CANCELLED, CopyState.DELETED})


def build_machine(model: object = None, *, graph: bool = False, **kwargs: object) -> Machine:
    """A ``transitions`` Machine of the lifecycle (a ``GraphMachine`` when ``graph``)."""
    cls: type[Machine] = Machine
    if graph:
        from transitions.extensions.diagrams import GraphMachine

        cls = GraphMachine
    return cls(
        model=model if model is not None else "self",
        states=list(STATES),
        transitions=[
            {"trigger": e.trigger, "source": e.source, "dest": e.dest,
             "conditions": list(e.conditions), "unless": list(e.unless)}
            for e in LIFECYCLE
        ],
        initial=CopyState.REQUESTED,
        auto_transitions=False,
        **kwargs,
    )


# What ``fire`` answers when no transition applies (sentinels, not exceptions:
# the explorer meets them millions of times and raising costs more than the rule).
NO_TRANSITION = "<no transition>"  # the trigger is not declared from that state at all
GUARD_FAILED = "<guard failed>"  # declared from that state, but no candidate's guards pass


# (state, trigger) -> the candidate transitions in declaration order, each as
# (dest, ((guard, required value), ...)). Compiled from the Machine itself so
# the table can never drift from the declaration the diagrams are drawn from.
def _compile(machine: Machine) -> dict[tuple[str, str], tuple[tuple[str, tuple[tuple[str, bool], ...]], ...]]:
    table: dict[tuple[str, str], list[tuple[str, tuple[tuple[str, bool], ...]]]] = {}
    for trigger, event in machine.events.items():
        for source, transitions in event.transitions.items():
            for t in transitions:
                guards = tuple((c.func, bool(c.target)) for c in t.conditions)
                table.setdefault((source, trigger), []).append((t.dest, guards))
    return {k: tuple(v) for k, v in table.items()}


TABLE = _compile(build_machine())


def fire(state: str, trigger: str, guards: Mapping[str, bool]) -> str:
    """The state that ``trigger`` leads to from ``state`` under the given guard values.

    Answers NO_TRANSITION when the trigger is not declared from ``state``, and
    GUARD_FAILED when it is but every candidate's guards fail. A guard the
    caller did not supply counts as False.
    """
    candidates = TABLE.get((state, trigger))
    if candidates is None:
        return NO_TRANSITION
    for dest, required in candidates:
        for name, value in required:
            if guards.get(name, False) is not value:
                break
        else:
            return dest
    return GUARD_FAILED
