"""The interface every explorable system implements, in the spirit of Stateright's ``Model``.

A model is a finite transition system: initial states, the transitions enabled
in a state, and the properties to check. The checker knows nothing else about
the system; the ECS copy semantics is one model, the toy models in the tests
are others. States must be hashable and immutable.

``successors`` returns every enabled action together with the state it leads
to and an *outcome* label. A transition whose next state is the same state
(``next is state`` or ``next == state``) is a self-loop: a refused request, or
one that changes nothing. Self-loops are not edges of the state graph, but
their outcomes still count for coverage (that is how a checker learns that an
error code is reachable).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Callable, Generic, Hashable, Iterable, Sequence, TypeVar

S = TypeVar("S", bound=Hashable)
A = TypeVar("A", bound=Hashable)

__all__ = ["Expectation", "Model", "Property"]


class Expectation(str, Enum):
    """What a property claims about the reachable state graph."""

    ALWAYS = "always"  # the condition holds in every reachable state (safety)
    SOMETIMES = "sometimes"  # some reachable state satisfies it (a witness; guards against vacuity)
    EVENTUALLY = "eventually"  # liveness: no fair run stays forever in states where ``pending`` holds


@dataclass(frozen=True)
class Property(Generic[S]):
    """A named claim about a model.

    For ``ALWAYS`` and ``SOMETIMES`` the condition is evaluated on each state.
    For ``EVENTUALLY`` the condition is the *pending* predicate: the property
    is violated when some fair infinite run (a fair cycle of the state graph, or
    a state the run can rest in because no fair action is enabled there)
    keeps ``pending`` true forever.
    """

    expectation: Expectation
    name: str
    condition: Callable[[S], bool]
    description: str = ""

    @classmethod
    def always(cls, name: str, condition: Callable[[S], bool], description: str = "") -> "Property[S]":
        return cls(Expectation.ALWAYS, name, condition, description)

    @classmethod
    def sometimes(cls, name: str, condition: Callable[[S], bool], description: str = "") -> "Property[S]":
        return cls(Expectation.SOMETIMES, name, condition, description)

    @classmethod
    def eventually(cls, name: str, pending: Callable[[S], bool], description: str = "") -> "Property[S]":
        return cls(Expectation.EVENTUALLY, name, pending, description)

    def decided_by(self, state: S) -> bool:
        """Whether ``state`` settles an ALWAYS or SOMETIMES property: a violation, or a witness."""
        ok = self.condition(state)
        return ok if self.expectation is Expectation.SOMETIMES else not ok


class Model(Generic[S, A]):
    """Subclass and implement ``init_states``, ``successors`` and ``properties``."""

    # Whether every process computes the same ``fingerprint`` for the same state (a parallel search needs
    # it). A model whose states hash by numbers each process gives on its own, and that does not override
    # ``fingerprint``, sets it False.
    fingerprints_portable: bool = True

    def fingerprint(self, state: S) -> int:
        """The number the compact store and a parallel search (``workers > 1``) know ``state`` by.

        Equal states must get equal fingerprints, and in a parallel search
        in each of the forked processes. The default is ``hash(state)``,
        right for states that hash by value. The full store keys by the
        states themselves.
        """
        return hash(state)

    def fingerprinted_moves(self, state: S, fingerprint: int) -> tuple[Sequence[tuple[A, int, Hashable, object]],
                                                                        Callable[[object], S]]:
        """``successors(state)`` for a search that knows states by ``fingerprint``: ``(moves, make)``.

        Each move is ``(action, next state's fingerprint, outcome, recipe)``;
        ``make(recipe)`` builds that next state, so a search builds only the
        ones it has not met. A move whose fingerprint is ``fingerprint``
        (``state``'s own) is a self-loop. A model may leave its self-loops
        out and count their outcomes instead, for ``take_self_loops``. This
        default builds every state (the recipe is the state) and lists every
        move; a model may do better.
        """
        fp = hash if type(self).fingerprint is Model.fingerprint else self.fingerprint  # hash: no call in between
        moves = [(a, fingerprint if nxt is state else fp(nxt), o, nxt) for a, nxt, o in self.successors(state)]
        return moves, built_state

    def init_states(self) -> Sequence[S]:
        raise NotImplementedError("a Model must define init_states(self) -> list of states")

    def successors(self, state: S) -> Iterable[tuple[A, S, Hashable]]:
        """Yield ``(action, next_state, outcome)`` for every enabled action.

        ``outcome`` is any hashable label the model wants counted in the
        coverage report (for ECS: the response code), or ``None``.
        """
        raise NotImplementedError("a Model must define successors(self, state)")

    def properties(self) -> Sequence[Property[S]]:
        return ()

    def within_boundary(self, state: S) -> bool:
        """States outside the boundary are recorded but not expanded."""
        return True

    def is_fair(self, action: A) -> bool:
        """Whether ``action`` is under weak fairness (for ECS: the service's events)."""
        return False

    def allows_termination(self, state: S) -> bool:
        """Whether ``state`` may be terminal (no successor other than self-loops).

        The default accepts every terminal state. Return False for states
        where a stop is a bug; the checker then reports them under
        ``CheckResult.deadlocks`` with a shortest path.
        """
        return True

    def action_kind(self, action: A) -> str:
        """A coarse name for ``action``, used to count actions by kind in the result."""
        return type(action).__name__

    def pack(self, state: S) -> bytes:
        """``state`` as a compact ``bytes`` blob, for the compact store's search frontier (optional).

        With ``store="compact"`` the frontier holds the only copy of every
        state waiting to be expanded, and on wide models it dominates peak
        memory. A model that overrides ``pack`` and ``unpack`` has its DFS
        stack and the wide levels of its BFS frontier (those after a level of
        ``bfs.PACK_FROM`` states or more) kept packed: a state is packed when
        it is pushed and unpacked just before it is expanded. ``unpack(pack(s))``
        must equal ``s`` and have the same hash. Not overridden: states are
        kept as they are.
        """
        raise NotImplementedError("pack(state) is optional; define it together with unpack(blob), or neither")

    def unpack(self, blob: bytes) -> S:
        """The state ``pack`` turned into ``blob`` (equal to it, with the same hash)."""
        raise NotImplementedError("unpack(blob) is optional; define it together with pack(state), or neither")

    def format_action(self, action: A) -> str:
        return str(action)

    def format_state(self, state: S) -> str:
        return repr(state)

    def take_self_loops(self) -> dict[Hashable, int]:
        """The self-loops ``fingerprinted_moves`` counted instead of listing them since the last call, by outcome.

        A search adds them to its coverage, which counts self-loops too. The
        counts start again from zero after each call. The default lists
        every self-loop, so it has none to give.
        """
        return {}

    def diff_states(self, before: S, after: S) -> dict[str, object]:
        """The fields that changed from ``before`` to ``after``, for readable traces."""
        return {}


def built_state(state: S) -> S:
    """``make`` for moves whose recipe is the next state itself (``Model.fingerprinted_moves``)."""
    return state
