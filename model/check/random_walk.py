"""Random walks: many seeded runs from an initial state, each picking a random successor at every step.

Useful when the state space is too big to exhaust: a walk reaches depth
``walk_length`` at once, where BFS would first have to store every shallower
state. The first time a walk reaches a state, that state is expanded like in
BFS (all successors recorded and checked, coverage counted); later visits only
pick a move. A run is repeatable: the same ``seed`` and model give the same
walks (provided ``successors`` yields transitions in a stable order).

Limitations: never exhaustive, so no property is ever concluded to hold from
a random run (ALWAYS and EVENTUALLY stay ``unknown`` unless violated; a
SOMETIMES witness is a real witness). A counterexample is the walk that first
reached the bad state, not a shortest one; re-run with BFS to shorten it.
Self-loops are counted for coverage but never chosen as a move.
"""

from __future__ import annotations

import random
from typing import Any

from .path import Path, Step
from .search import Search

__all__ = ["DEFAULT_WALKS", "DEFAULT_WALK_LENGTH", "run"]

DEFAULT_WALKS = 100
DEFAULT_WALK_LENGTH = 100


def run(search: Search, *, seed: int, walks: int | None, walk_length: int) -> None:
    """Walk until ``walks`` walks are done (None: until a bound stops the search)."""
    model = search.model
    store = search.store
    succ = model.successors
    cov = search.coverage
    graph = search.graph
    boundary = search.boundary
    rng = random.Random(seed)

    init_s: list = []
    init_k: list = []
    search.add_inits(init_s.append, init_k.append)
    expanded: set = set()
    outside: set = set()

    w = 0
    while walks is None or w < walks:
        if not search.may_expand():  # also here: a walk of length 0 never reaches the inner check
            return
        w += 1
        j = rng.randrange(len(init_s))
        init, state, key = init_s[j], init_s[j], init_k[j]
        steps: list[Step] = []
        while len(steps) < walk_length:
            if not search.may_expand():
                return
            search.depth = len(steps)
            if key in outside:
                break
            if key not in expanded:
                if boundary is not None and not boundary(state):
                    outside.add(key)
                    search.outside += 1
                    break
                moves = _first_expansion(search, init, state, key, steps, succ, cov, graph, store)
                expanded.add(key)
            else:
                moves = [(a, s, o) for a, s, o in succ(state) if not (s is state or s == state)]
            if not moves:
                break
            action, nxt, outcome = moves[rng.randrange(len(moves))]
            steps.append(Step(action, nxt, outcome))
            key, _ = store.insert(nxt, key, action)  # already recorded: just the key
            state = nxt


def _first_expansion(
    search: Search, init: Any, state: Any, key: Any, steps: list[Step], succ, cov, graph, store
) -> list[tuple[Any, Any, Any]]:
    """Expand ``state`` as BFS would: record and check every successor. Returns the non-self-loop moves."""
    model = search.model
    search.current = state
    moves = []
    depth = len(steps) + 1
    for action, nxt, outcome in succ(state):
        cov[outcome] = cov.get(outcome, 0) + 1
        if nxt is state or nxt == state:
            if graph is not None:
                graph.dst.append(key)
                graph.act.append(action)
            continue
        moves.append((action, nxt, outcome))
        k, new = store.insert(nxt, key, action)
        if new:
            search.count_depth(depth, 1)
            if search.checks:
                # on_new calls path() at once, only if the state decides a property.
                step = Step(action, nxt, outcome)

                def path(step: Step = step) -> Path:
                    return Path(init, steps + [step], model=model)

                search.on_new(nxt, k, path=path)
        if graph is not None:
            graph.dst.append(k)
            graph.act.append(action)
    search.transitions += len(moves)
    search.expanded += 1
    if graph is not None:
        graph.close(key)
    if not moves:
        search.on_terminal(state, key, path=lambda: Path(init, list(steps), model=model))
    search.current = None
    return moves
