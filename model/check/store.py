"""Visited-state stores: how the search remembers what it has seen, and the hot loop that fills them.

``FullStore`` keeps every state, an id per state (discovery order, so ids
are ``0..n-1``) and a parent pointer ``id -> (parent id, action)``. Traces,
graph export and liveness all work.

``CompactStore`` keeps, as TLC does, only a 64-bit fingerprint per state
mapped to its parent's fingerprint (``dict[int, int]``; the value is the very
int object that is the parent's key, so a state costs one dict slot and one
int). The states themselves live only in the search frontier, packed when
the model defines ``pack``/``unpack`` and the frontier is wide (see
``Search.frontier_push`` and bfs.py). A trace is rebuilt by walking
fingerprints back to an initial state and replaying the model forward. A
fingerprint is ``Model.fingerprint`` (``hash(state)`` by default); a model
may work a successor's out from what its transition changed (the ECS
model's flat states do), and then a successor is built only when its
fingerprint is new. Limitations, stated plainly: two states
with the same fingerprint are taken to be the same state (the second is
silently not explored, and a successor with its parent's fingerprint is
taken for a self-loop; probability about n^2 / 2^65 for n states if the
fingerprint were a uniform 64-bit hash; Python's hash of small ints is the
identity, which is fine for this purpose but not uniform), and there is no
state graph, so no liveness and no graph export.

Each store builds an *expander*: a closure that enumerates one state's
successors, counts outcomes, records new states and pushes them onto the
frontier. It runs once per transition (millions of times), so it is written
for speed: everything is a closure variable, membership is tested with
``in`` (the full store: one hash of the state for the common case of an
already seen successor; a new state is hashed a second time on insertion,
which measured faster than ``dict.setdefault`` because it avoids a method
call per transition; the compact store: a lookup of an int), and anything
that is not needed per transition (bounds, clock, progress) is done per
state by the caller.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, Callable, Hashable, Iterable

from .path import Path, replay_fingerprints, replay_states

if TYPE_CHECKING:
    from .search import Search

__all__ = ["CompactStore", "FullStore", "make_store"]

Push = Callable[[Any], None]
Expander = Callable[[Any, Any, Push, Push], int]


class FullStore:
    """Every state, its id, and its parent pointer. Supports everything."""

    kind = "full"

    def __init__(self) -> None:
        self.index: dict[Hashable, int] = {}  # state -> id
        self.states: list[Any] = []  # id -> state
        self.parent: list[int] = []  # id -> parent id (-1 for an initial state)
        self.via: list[Any] = []  # id -> action that discovered it

    def size(self) -> int:
        return len(self.states)

    def add_init(self, state: Any) -> tuple[int, bool]:
        return self.insert(state, -1, None)

    def insert(self, state: Any, parent_key: int, action: Any) -> tuple[int, bool]:
        """Record ``state`` if new (the slow path, for initial states and random walks)."""
        i = self.index.get(state)
        if i is not None:
            return i, False
        i = len(self.states)
        self.index[state] = i
        self.states.append(state)
        self.parent.append(parent_key)
        self.via.append(action)
        return i, True

    def path_to(self, key: int, model: Any, inits: Iterable[Any] = ()) -> Path:
        ids = []
        while key != -1:
            ids.append(key)
            key = self.parent[key]
        ids.reverse()
        states = [self.states[i] for i in ids]
        actions = [self.via[i] for i in ids[1:]]
        return Path(states[0], replay_states(model, states, actions), model=model)

    def repair(self) -> None:
        """Make the containers agree again after an interruption mid-insert."""
        m = min(len(self.states), len(self.parent), len(self.via))
        del self.states[m:], self.parent[m:], self.via[m:]
        if len(self.index) != m:
            for state in [s for s, i in self.index.items() if i >= m]:
                del self.index[state]

    def nbytes(self) -> int:
        n = len(self.states)
        # Ids 0..256 are cached small ints; every larger id is its own int object, all the same size.
        return (
            sys.getsizeof(self.index)
            + sys.getsizeof(self.states)
            + sys.getsizeof(self.parent)
            + sys.getsizeof(self.via)
            + max(0, n - 257) * sys.getsizeof(n)
        )

    def expander(self, search: "Search") -> Expander:
        succ = search.model.successors
        index = self.index
        get = index.get
        states = self.states
        states_append = states.append
        parent_append = self.parent.append
        via_append = self.via.append
        cov = search.coverage
        cov_get = cov.get
        on_new = search.on_new
        graph = search.graph
        # Two variants rather than an ``if graph`` per transition: without a
        # graph we never need the id of an already seen successor, so ``in``
        # suffices; with one we need it for the edge, so ``get``.
        if graph is None:

            def expand(state: Any, key: int, push_s: Push, push_k: Push) -> int:
                moved = 0
                for action, nxt, outcome in succ(state):
                    cov[outcome] = cov_get(outcome, 0) + 1
                    if nxt is state or nxt == state:
                        continue
                    moved += 1
                    if nxt in index:
                        continue
                    i = len(states)
                    index[nxt] = i
                    states_append(nxt)
                    parent_append(key)
                    via_append(action)
                    push_s(nxt)
                    push_k(i)
                    if search.checks:
                        on_new(nxt, i)
                return moved

            return expand

        dst_append = graph.dst.append
        act_append = graph.act.append

        def expand_g(state: Any, key: int, push_s: Push, push_k: Push) -> int:
            moved = 0
            for action, nxt, outcome in succ(state):
                cov[outcome] = cov_get(outcome, 0) + 1
                if nxt is state or nxt == state:
                    # Not a graph edge, but liveness needs to know a fair action is enabled here.
                    dst_append(key)
                    act_append(action)
                    continue
                moved += 1
                i = get(nxt)
                if i is None:
                    i = len(states)
                    index[nxt] = i
                    states_append(nxt)
                    parent_append(key)
                    via_append(action)
                    push_s(nxt)
                    push_k(i)
                    if search.checks:
                        on_new(nxt, i)
                dst_append(i)
                act_append(action)
            return moved

        return expand_g


class CompactStore:
    """Fingerprint -> parent fingerprint only; traces are rebuilt by replay. No graph."""

    kind = "compact"

    def __init__(self) -> None:
        self.seen: dict[int, int] = {}  # fingerprint -> parent fingerprint; an initial state maps to itself
        # What the fingerprints are: ``hash`` in one process; a parallel search's are ``Model.fingerprint``.
        self.fingerprint: Callable[[Any], int] = hash
        # A parallel search's workers keep the pointers; ``seen`` then holds only the traces' (parallel_bfs.py),
        # and this counts the states.
        self.counted: int | None = None
        self.bytes_elsewhere = 0  # and what their shards take

    def size(self) -> int:
        return len(self.seen) if self.counted is None else self.counted

    def add_init(self, state: Any) -> tuple[int, bool]:
        h = self.fingerprint(state)
        if h in self.seen:
            return h, False
        self.seen[h] = h
        return h, True

    def insert(self, state: Any, parent_key: int, action: Any = None) -> tuple[int, bool]:
        h = self.fingerprint(state)
        if h in self.seen:
            return h, False
        self.seen[h] = parent_key
        return h, True

    def path_to(self, key: int, model: Any, inits: Iterable[Any] = ()) -> Path:
        seen = self.seen
        fps = [key]
        for _ in range(len(seen)):  # bounded: a corrupt chain must not loop forever
            parent = seen[key]
            if parent == key:
                break
            fps.append(parent)
            key = parent
        fps.reverse()
        return replay_fingerprints(model, inits, fps, self.fingerprint)

    def repair(self) -> None:
        """Nothing to do: an entry is a single dict store."""

    def nbytes(self) -> int:
        # Values are the same int objects as keys, so count each key once.
        return sys.getsizeof(self.seen) + keys_nbytes(self.seen) + self.bytes_elsewhere

    def expander(self, search: "Search") -> Expander:
        """Per transition: count its outcome, skip a self-loop or a known state, build and record a new one.

        States are known by ``Model.fingerprint`` (``hash`` by default), and
        their moves come with the fingerprints (``Model.fingerprinted_moves``),
        so a model that works them out without building the state (the ECS
        model's flat states) builds only the new ones: most are not new (a
        state has several parents), and building one costs more than all the
        rest of a transition.
        """
        model = search.model
        self.fingerprint = model.fingerprint  # traces are replayed by it
        moves_of = model.fingerprinted_moves
        seen = self.seen
        cov = search.coverage
        cov_get = cov.get
        on_new = search.on_new

        def expand(state: Any, fp: int, push_s: Push, push_k: Push) -> int:
            moved = 0
            moves, make = moves_of(state, fp)
            for _action, h, outcome, recipe in moves:
                cov[outcome] = cov_get(outcome, 0) + 1
                if h == fp:  # a self-loop
                    continue
                moved += 1
                if h in seen:
                    continue
                # ``fp`` is the parent's key object itself: the value costs no new int.
                seen[h] = fp
                nxt = make(recipe)
                push_s(nxt)
                push_k(h)
                if search.checks:
                    on_new(nxt, h)
            return moved

        return expand


def keys_nbytes(keys: Iterable[Any]) -> int:
    """``sum(map(sys.getsizeof, keys))``, for fingerprints about seven times faster.

    An int is not tracked by the collector, so ``getsizeof`` adds nothing to
    its ``__sizeof__``; called directly, ``int.__sizeof__`` skips the lookup
    that ``getsizeof`` makes per object (0.4 ms of a 60 ms run at BM(3,2),
    half a second at BM(6,5)).
    """
    try:
        return sum(map(int.__sizeof__, keys))
    except TypeError:  # a model whose fingerprints are not ints
        return sum(map(sys.getsizeof, keys))


def make_store(kind: str) -> FullStore | CompactStore:
    if kind == "full":
        return FullStore()
    if kind == "compact":
        return CompactStore()
    raise ValueError(f"store={kind!r} is not a store; use store='full' (default) or store='compact'")
