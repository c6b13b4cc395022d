"""The state every strategy shares during one search: counters, findings, bounds and the clock.

A strategy (bfs, dfs, random_walk) only decides *which* state to expand
next. It hands each one to ``Search.expand``, which applies the bounds,
reads the clock, honours ``within_boundary``, runs the store's expander and
notices terminal states. Properties are checked in ``Search.on_new`` as soon
as a state is first recorded, which is what makes the first BFS violation a
shortest one. Everything here runs once per *state*; only the store's
expander runs once per transition.
"""

from __future__ import annotations

import time
from operator import itemgetter
from typing import Any, Callable, Sequence

from .graph import GraphRecorder
from .model import Expectation, Model, Property
from .path import Path
from .progress import PROGRESS_INTERVAL, ProgressStats
from .store import CompactStore, FullStore

__all__ = ["Search", "overrides", "quiet_test"]

_monotonic = time.monotonic
_INF = float("inf")


def overrides(model: Model, name: str) -> bool:
    """Whether ``model``'s class redefines ``Model.<name>`` (so the default can be skipped)."""
    return getattr(type(model), name, None) is not getattr(Model, name)


def quiet_test(pending: list[Property], keep: Sequence[Property] = ()) -> Callable[[Any], bool] | None:
    """A one-call test that a state decides none of ``pending``, when they are all answered together; else None.

    A condition with ``batch`` and ``index`` attributes is item ``index`` of
    ``batch(state)``, which answers several properties at once (the ECS
    model's, check/flat.py ``FlatMemos``). Then one call and one comparison
    tell that a state decides none of them (each ALWAYS answers True and each
    SOMETIMES False, as nearly every state does); any other answer must go
    through ``decided_by`` as usual, which takes the batch's answers from
    where it keeps them.

    A batch's conditions may also carry ``narrow``: it is told the indexes
    of ``pending`` and ``keep`` (properties asked later, liveness), so that
    a property once decided costs nothing more.
    """
    wanted: dict[Any, list[int]] = {}
    for p in [*pending, *keep]:
        narrow = getattr(p.condition, "narrow", None)
        if narrow is not None:
            wanted.setdefault(narrow, []).append(p.condition.index)  # type: ignore[attr-defined]
    for narrow, indexes in wanted.items():
        narrow(indexes)
    batch = getattr(pending[0].condition, "batch", None) if pending else None
    if batch is None or any(getattr(p.condition, "batch", None) is not batch for p in pending):
        return None
    indexes = [p.condition.index for p in pending]  # type: ignore[attr-defined]
    expected: list[bool | None] = [None] * (max(indexes) + 1)
    for p, i in zip(pending, indexes):
        expected[i] = p.expectation is Expectation.ALWAYS
    pick = itemgetter(*indexes)
    quiet = pick(expected)

    def is_quiet(state: Any) -> bool:
        return pick(batch(state)) == quiet

    return is_quiet


class Search:
    def __init__(
        self,
        model: Model,
        props: list[Property],
        store: FullStore | CompactStore,
        *,
        strategy: str,
        graph: GraphRecorder | None,
        max_states: int | None,
        max_depth: int | None,
        seconds: float | None,
        progress: Callable[[ProgressStats], Any] | None,
        pack: bool = True,
    ) -> None:
        self.model = model
        self.props = props
        self.store = store
        self.strategy = strategy
        self.graph = graph
        self.max_states = max_states
        self.max_depth = max_depth
        self.seconds = seconds
        self.progress = progress

        self.pending_safety = [p for p in props if p.expectation in (Expectation.ALWAYS, Expectation.SOMETIMES)]
        self.has_liveness = any(p.expectation is Expectation.EVENTUALLY for p in props)
        # name -> store key of the state that decided it, or a ready Path (random walks)
        self.found: dict[str, Any] = {}
        self.checks = bool(self.pending_safety)  # read by the expander once per new state
        self._liveness = [p for p in props if p.expectation is Expectation.EVENTUALLY]
        self._quiet = quiet_test(self.pending_safety, self._liveness)  # one call tells a state decides none of them

        self.track_deadlocks = overrides(model, "allows_termination")
        self.deadlock: Any = None  # store key or Path of the first rejected terminal state
        self.deadlock_count = 0
        self.terminal = 0

        self.boundary = model.within_boundary if overrides(model, "within_boundary") else None
        self.coverage: dict[Any, int] = {}
        self.transitions = 0
        self.expanded = 0
        self.outside = 0
        self.depth = 0  # current depth, for progress
        self.depth_hist: list[int] = []
        self.init_keys: list[Any] = []
        self.inits: list[Any] = []

        self.bounds_hit: list[str] = []
        self.all_decided = False
        self.stop = False
        self.halted_with_work = False  # stopped while states were still waiting to be expanded
        self.interrupted = False
        self.current: Any = None  # the state being expanded, for error messages

        self.t0 = _monotonic()
        self._deadline = _INF if seconds is None else self.t0 + seconds
        self._next_progress = self.t0 + PROGRESS_INTERVAL if progress is not None else _INF
        self._next_poll = min(self._deadline, self._next_progress)

        self.size = store.size
        self._expand = store.expander(self)

        # The compact store keeps no states, so the frontier holds the only copy of each waiting one and
        # dominates peak memory; the full store keeps every state anyway, so packing would only cost time.
        # None: the frontier holds states as they are.
        self.pack: Callable[[Any], Any] | None = None
        self.unpack: Callable[[Any], Any] | None = None
        if pack and store.kind == "compact" and overrides(model, "pack"):
            self.pack, self.unpack = model.pack, model.unpack

    def frontier_push(self, append: Callable[[Any], None]) -> Callable[[Any], None]:
        """What to push a state onto a frontier with: ``append`` itself, or ``append`` of the packed state."""
        pack = self.pack
        if pack is None:
            return append

        def push(state: Any) -> None:
            append(pack(state))

        return push

    # -- findings ---------------------------------------------------------

    def add_inits(self, push_s: Callable[[Any], None], push_k: Callable[[Any], None]) -> int:
        """Record the initial states, check them, push the new ones. Returns how many were new."""
        inits = list(self.model.init_states())
        if not inits:
            raise ValueError("model.init_states() returned no states; a model needs at least one initial state")
        self.inits = inits
        new = 0
        for state in inits:
            key, is_new = self.store.add_init(state)
            if is_new:
                new += 1
                self.init_keys.append(key)
                push_s(state)
                push_k(key)
                if self.checks:
                    self.on_new(state, key)
        self.count_depth(0, new)
        return new

    def on_new(self, state: Any, key: Any, path: Callable[[], Path] | None = None) -> None:
        """Check the undecided ALWAYS/SOMETIMES properties on a newly recorded state."""
        quiet = self._quiet
        if quiet is not None:
            try:
                if quiet(state):
                    return
            except Exception:
                pass  # the loop below asks again, and says which property failed
        decided = []
        for prop in self.pending_safety:
            try:
                if prop.decided_by(state):
                    decided.append(prop)
            except Exception as e:
                e.add_note(f"while checking property {prop.name!r} on state {self.model.format_state(state)}")
                raise
        if decided:
            self.found_at(decided, path() if path is not None else key)

    def found_at(self, props: list[Property], where: Any) -> None:
        """``where`` (a store key, or a Path) decides ``props``: the first finding of each is kept."""
        for p in props:
            self.found.setdefault(p.name, where)
        self.pending_safety = [p for p in self.pending_safety if p.name not in self.found]
        self.checks = bool(self.pending_safety)
        self._quiet = quiet_test(self.pending_safety, self._liveness)
        self._maybe_done()

    def on_terminal(self, state: Any, key: Any, path: Callable[[], Path] | None = None) -> None:
        """``state`` was expanded and has no successor other than self-loops."""
        self.terminal += 1
        if self.track_deadlocks and not self.model.allows_termination(state):
            self.deadlocked_at(key if path is None or self.deadlock is not None else path())

    def deadlocked_at(self, where: Any) -> None:
        """A terminal state the model rejects: counted; the first one is kept for its trace."""
        self.deadlock_count += 1
        if self.deadlock is None:
            self.deadlock = where
            self._maybe_done()

    def _maybe_done(self) -> None:
        # Stop once every property is decided. Liveness is decided on the
        # whole graph afterwards, so its presence keeps the search going; a
        # model that rejects some terminal states keeps it going until one is
        # found. Without properties there is nothing to stop early for.
        if not self.props or self.pending_safety or self.has_liveness:
            return
        if self.track_deadlocks and self.deadlock is None:
            return
        self.all_decided = True
        self.stop = True

    # -- bounds, clock, progress ------------------------------------------

    def hit(self, bound: str) -> None:
        if bound not in self.bounds_hit:
            self.bounds_hit.append(bound)

    def count_depth(self, depth: int, n: int) -> None:
        hist = self.depth_hist
        while len(hist) <= depth:
            hist.append(0)
        hist[depth] += n

    def may_expand(self) -> bool:
        """Whether the search may go on (False: a bound, the clock or 'all decided' says stop)."""
        if self.stop:
            self.halted_with_work = True
            return False
        if self.max_states is not None and self.size() >= self.max_states:
            self.hit("max_states")
            self.halted_with_work = True
            return False
        now = _monotonic()
        if now >= self._next_poll and self._poll(now):
            self.halted_with_work = True
            return False
        return True

    def _poll(self, now: float) -> bool:
        if now >= self._deadline:
            self.hit("seconds")
            self.stop = True
            return True
        if now >= self._next_progress:
            self.progress(self.snapshot(now))  # type: ignore[misc]
            self._next_progress = now + PROGRESS_INTERVAL
        self._next_poll = min(self._deadline, self._next_progress)
        return False

    def snapshot(self, now: float | None = None) -> ProgressStats:
        elapsed = (now if now is not None else _monotonic()) - self.t0
        states = self.size()
        return ProgressStats(
            states=states,
            transitions=self.transitions,
            depth=self.depth,
            rate=states / elapsed if elapsed > 0 else 0.0,
            elapsed=elapsed,
        )

    # -- expansion --------------------------------------------------------

    def expand(self, state: Any, key: Any, push_s: Callable[[Any], None], push_k: Callable[[Any], None]) -> bool:
        """Expand one state: returns False (state left unexpanded) when the search must stop."""
        # may_expand, its common case inlined: nothing to stop for, no state bound, the clock not yet due.
        if (self.stop or self.max_states is not None or _monotonic() >= self._next_poll) and not self.may_expand():
            return False
        boundary = self.boundary
        if boundary is not None and not boundary(state):
            self.outside += 1
            return True
        self.current = state
        moved = self._expand(state, key, push_s, push_k)
        self.transitions += moved
        self.expanded += 1
        if self.graph is not None:
            self.graph.close(key)
        if not moved:
            self.on_terminal(state, key)
        self.current = None
        return True
