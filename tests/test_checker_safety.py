"""Safety checking (ALWAYS/SOMETIMES), counts, strategies, bounds and deadlocks on toy models."""

from __future__ import annotations

import json

import networkx as nx
import pytest

from model.check import (
    Model,
    Property,
    assert_holds,
    assert_no_deadlock,
    assert_reachable,
    assert_sometimes,
    assert_violated,
    check,
)


class Grid(Model):
    """A counter pair (x, y): x wraps round a ring of n, y saturates at m-1, reset goes to (0, 0).

    States: n*m. Non-self-loop transitions: inc_x n*m (n > 1), inc_y n*(m-1),
    reset n*m - 1. Self-loops: inc_y at y == m-1 ("full"), reset at the origin ("noop").
    """

    def __init__(self, n: int = 5, m: int = 4, bad_sum: int | None = None, witness=None) -> None:
        self.n, self.m, self.bad_sum, self.witness = n, m, bad_sum, witness

    def init_states(self):
        return [(0, 0)]

    def successors(self, s):
        x, y = s
        yield "inc_x", ((x + 1) % self.n, y), "ok"
        yield "inc_y", (x, y + 1) if y < self.m - 1 else s, "ok" if y < self.m - 1 else "full"
        yield "reset", (0, 0), "noop" if s == (0, 0) else ("ok", "reset")

    def properties(self):
        props = [Property.always("in_range", lambda s: 0 <= s[0] < self.n and 0 <= s[1] < self.m)]
        if self.bad_sum is not None:
            props.append(Property.always("small_sum", lambda s: s[0] + s[1] < self.bad_sum, "x + y stays small"))
        if self.witness is not None:
            props.append(Property.sometimes("witness", lambda s: s == self.witness))
        return props

    def diff_states(self, before, after):
        return {k: f"{b} -> {a}" for k, b, a in zip("xy", before, after) if a != b}


def reference_graph(model: Model) -> nx.DiGraph:
    """The reachable graph computed naively with networkx, to compare the checker's counts against."""
    g = nx.DiGraph()
    todo = list(model.init_states())
    g.add_nodes_from(todo)
    seen = set(todo)
    while todo:
        s = todo.pop()
        for _, t, _ in model.successors(s):
            if t != s:
                g.add_edge(s, t)
                if t not in seen:
                    seen.add(t)
                    todo.append(t)
    return g


def test_exact_state_and_transition_counts_and_coverage():
    n, m = 5, 4
    r = check(Grid(n, m))
    assert r.stats.states == n * m
    assert r.stats.transitions == n * m + n * (m - 1) + n * m - 1
    assert r.stats.expanded == n * m
    assert r.coverage["full"] == n  # self-loops count for coverage
    assert r.coverage["noop"] == 1
    assert r.coverage[("ok", "reset")] == n * m - 1
    assert r.coverage["ok"] == n * m + n * (m - 1)
    assert sum(r.depth_histogram) == n * m
    assert r.stats.max_depth == len(r.depth_histogram) - 1
    assert r.exhaustive and not r.bounds_hit and not r.interrupted
    assert_holds(r, "in_range")


def test_depth_histogram_matches_bfs_distances():
    model = Grid(5, 4)
    r = check(model)
    dist = nx.single_source_shortest_path_length(reference_graph(model), (0, 0))
    expected = [0] * (max(dist.values()) + 1)
    for d in dist.values():
        expected[d] += 1
    assert r.depth_histogram == expected


def test_bfs_counterexample_is_shortest_and_replays():
    model = Grid(6, 5, bad_sum=5)
    r = check(model)
    assert_violated(r, "small_sum", steps=5)
    path = r["small_sum"].path
    states = path.states()
    assert states[0] == (0, 0) and sum(states[-1]) >= 5
    assert all(sum(s) < 5 for s in states[:-1])
    for before, step in zip(states, path.steps):  # every step is a real transition with its outcome
        assert (step.action, step.state, step.outcome) in list(model.successors(before))
    # Other properties are still decided although one was violated first.
    assert_holds(r, "in_range")


def test_dfs_and_random_also_find_the_violation():
    model = Grid(6, 5, bad_sum=5)
    shortest = len(check(model)["small_sum"].path)
    for kwargs in ({"strategy": "dfs"}, {"strategy": "random", "seed": 7, "walks": 200, "max_depth": 50}):
        r = check(model, **kwargs)
        assert_violated(r, "small_sum")
        path = r["small_sum"].path
        assert len(path) >= shortest
        assert sum(path.last) >= 5
        for before, step in zip(path.states(), path.steps):
            assert (step.action, step.state, step.outcome) in list(model.successors(before))


def test_dfs_exhaustive_counts_equal_bfs_and_may_conclude_holds():
    bfs, dfs = check(Grid(7, 3)), check(Grid(7, 3), strategy="dfs")
    assert (dfs.stats.states, dfs.stats.transitions) == (bfs.stats.states, bfs.stats.transitions)
    assert dfs.coverage == bfs.coverage
    assert_holds(dfs, "in_range")


def test_random_walk_same_seed_same_path_and_seed_recorded():
    model = Grid(9, 9, bad_sum=9)
    a = check(model, strategy="random", seed=1234, walks=50, max_depth=30)
    b = check(model, strategy="random", seed=1234, walks=50, max_depth=30)
    assert a.seed == b.seed == 1234
    assert a["small_sum"].path == b["small_sum"].path
    assert a.stats.states == b.stats.states and a.coverage == b.coverage

    c = check(model, strategy="random", walks=50, max_depth=30)  # no seed: one is picked and recorded
    assert isinstance(c.seed, int)
    d = check(model, strategy="random", seed=c.seed, walks=50, max_depth=30)
    assert c["small_sum"].path == d["small_sum"].path
    assert f"seed={c.seed}" in c.report()


def test_random_walk_never_claims_holds():
    r = check(Grid(4, 3, witness=(3, 2)), strategy="random", seed=3, walks=100, max_depth=40)
    assert r["in_range"].verdict == "unknown"
    assert_sometimes(r, "witness")  # a witness found by a walk is real
    assert not r.exhaustive
    assert any("not exhaustive" in w for w in r.warnings)


def test_sometimes_witness_is_shortest():
    r = check(Grid(6, 5, witness=(2, 3)))
    assert_sometimes(r, "witness")
    assert len(r["witness"].path) == 5
    assert r["witness"].path.last == (2, 3)


def test_vacuous_sometimes_is_violated_with_a_warning():
    r = check(Grid(4, 3, witness=(9, 9)))
    assert r["witness"].verdict == "violated"
    assert r["witness"].path is None
    assert any("'witness' was never witnessed" in w and "vacuously" in w for w in r.warnings)
    with pytest.raises(AssertionError, match="be witnessed"):
        assert_sometimes(r, "witness")


def test_vacuous_sometimes_under_a_bound_is_unknown():
    r = check(Grid(10, 10, witness=(9, 9)), max_states=20)
    assert r["witness"].verdict == "unknown"
    assert any("never witnessed" in w for w in r.warnings)


@pytest.mark.parametrize(
    "bounds, hit",
    [({"max_states": 10}, "max_states"), ({"max_depth": 3}, "max_depth")],
)
def test_bounds_make_holds_unknown_with_a_warning(bounds, hit):
    r = check(Grid(10, 10), **bounds)
    assert r.bounds_hit == (hit,)
    assert r["in_range"].verdict == "unknown"
    assert not r.exhaustive
    assert any(hit in w and "unknown" in w for w in r.warnings)
    with pytest.raises(AssertionError, match="unknown"):
        assert_holds(r, "in_range")


def test_max_states_caps_the_store_within_one_expansion():
    r = check(Grid(10, 10), max_states=10)
    # The bound is checked before each expansion, so it may overshoot by one state's successors (3 here).
    assert 10 <= r.stats.states < 10 + 3


def test_max_depth_bound_records_states_at_the_limit():
    r = check(Grid(10, 10), max_depth=2)
    assert len(r.depth_histogram) == 3  # depths 0, 1, 2
    assert r.stats.states == sum(r.depth_histogram)


def test_a_violation_found_within_a_bound_stays_violated():
    r = check(Grid(10, 10, bad_sum=3), max_depth=4)
    assert_violated(r, "small_sum", steps=3)
    assert r["in_range"].verdict == "unknown"


def test_a_bound_larger_than_the_model_is_not_hit():
    r = check(Grid(4, 3), max_states=1000, max_depth=1000)
    assert r.bounds_hit == () and r.exhaustive
    assert_holds(r, "in_range")


def test_seconds_bound():
    import time

    class Slow(Grid):
        def successors(self, s):
            time.sleep(0.002)
            yield from super().successors(s)

    r = check(Slow(100, 100), seconds=0.2)
    assert r.bounds_hit == ("seconds",)
    assert r["in_range"].verdict == "unknown"
    assert r.stats.seconds < 2


def test_stops_early_once_every_property_is_decided():
    class Big(Model):
        def init_states(self):
            return [0]

        def successors(self, x):
            yield "inc", x + 1, None
            yield "dbl", 2 * x + 2, None

        def properties(self):
            return [Property.always("below_10", lambda x: x < 10), Property.sometimes("five", lambda x: x == 5)]

    r = check(Big(), max_states=100_000)  # unbounded model: only "everything decided" can stop it early
    assert r.stopped_early and not r.bounds_hit
    assert r.stats.states < 100
    assert_violated(r, "below_10")
    assert_sometimes(r, "five")
    assert any("stopped early" in w for w in r.warnings)


class Chain(Model):
    """0 -> 1 -> ... -> n-1 (terminal); a branch 0 -> 100 (terminal)."""

    def __init__(self, n: int = 5, reject: tuple = ()) -> None:
        self.n, self.reject = n, reject

    def init_states(self):
        return [0]

    def successors(self, x):
        if x < self.n - 1:
            yield "next", x + 1, None
        if x == 0:
            yield "jump", 100, None
        yield "stay", x, "stayed"  # a self-loop does not rescue a terminal state

    def allows_termination(self, x):
        return x not in self.reject


def test_terminal_states_are_allowed_by_default():
    class Plain(Chain):
        allows_termination = Model.allows_termination

    r = check(Plain(5))
    assert r.stats.terminal_states == 2
    assert r.deadlocks is None
    assert_no_deadlock(r)


def test_deadlock_reported_with_a_shortest_path():
    r = check(Chain(5, reject=(4, 100)))
    assert r.deadlock_count == 2
    assert len(r.deadlocks) == 1 and r.deadlocks.last == 100
    with pytest.raises(AssertionError, match="2 reachable terminal state"):
        assert_no_deadlock(r)
    assert "Deadlocks: 2 terminal state(s)" in r.report()


def test_deadlock_only_in_rejected_terminal_states():
    r = check(Chain(5, reject=(4,)))
    assert r.deadlock_count == 1 and r.deadlocks.last == 4 and len(r.deadlocks) == 4


def test_within_boundary_records_but_does_not_expand():
    class Bounded(Grid):
        def within_boundary(self, s):
            return s[0] < 2

    r = check(Bounded(5, 3))
    # x in {0, 1} expanded; x == 2 states are recorded (reached by inc_x) but not expanded.
    assert r.stats.expanded == 2 * 3
    assert r.stats.outside_boundary == 3
    assert r.stats.states == 3 * 3
    assert r.exhaustive  # the boundary is part of the model, not a bound
    assert_holds(r, "in_range")


def test_assert_reachable_accepts_labels_inside_tuple_outcomes():
    r = check(Grid(3, 3))
    assert_reachable(r, "full")
    assert_reachable(r, "reset")  # only ever appears inside ("ok", "reset")
    assert_reachable(r, ("ok", "reset"))
    with pytest.raises(AssertionError, match="(?s)'nope' was never produced.*outcomes produced: .*'full'"):
        assert_reachable(r, "nope")


def test_assert_messages_carry_the_counterexample():
    r = check(Grid(6, 5, bad_sum=5))
    with pytest.raises(AssertionError) as e:
        assert_holds(r, "small_sum")
    msg = str(e.value)
    assert "'small_sum'" in msg and "violated" in msg and "counterexample, 5 steps" in msg
    assert "x: 0 -> 1" in msg or "y: 0 -> 1" in msg  # diff_states in the steps
    with pytest.raises(AssertionError, match="exactly 4 steps"):
        assert_violated(r, "small_sum", steps=4)
    with pytest.raises(AssertionError, match="at most 3 steps"):
        assert_violated(r, "small_sum", max_steps=3)
    assert_violated(r, "small_sum", max_steps=5)
    with pytest.raises(AssertionError, match="(?s)no property named 'typo'.*'in_range', 'small_sum'"):
        assert_holds(r, "typo")


def test_report_and_to_dict():
    r = check(Grid(6, 5, bad_sum=5, witness=(1, 1)))
    text = r.report()
    assert "VIOLATED" in text and "small_sum" in text and "x + y stays small" in text
    assert "Coverage" in text and "full: 6" in text
    d = json.loads(json.dumps(r.to_dict()))  # JSON-serialisable
    props = {p["name"]: p for p in d["properties"]}
    assert props["small_sum"]["verdict"] == "violated" and props["small_sum"]["path_steps"] == 5
    assert len(props["small_sum"]["path"]["steps"]) == 5
    assert props["witness"]["verdict"] == "holds"
    assert d["stats"]["states"] == 30
    assert {"outcome": ["ok", "reset"], "count": 29} in d["coverage"]


def test_path_to_json_uses_the_model_formatters():
    r = check(Grid(6, 5, bad_sum=2))
    data = r["small_sum"].path.to_json()
    assert data["init"] == "(0, 0)"
    assert data["steps"][0]["action"] in ("inc_x", "inc_y")
    assert data["steps"][0]["diff"] in ({"x": "0 -> 1"}, {"y": "0 -> 1"})


def test_argument_errors_say_how_to_fix_them():
    with pytest.raises(ValueError, match="use one of 'bfs', 'dfs', 'random'"):
        check(Grid(), strategy="bfss")
    with pytest.raises(ValueError, match="only applies to strategy='random'"):
        check(Grid(), seed=3)
    with pytest.raises(ValueError, match="store='full'"):
        check(Grid(), store="compact", keep_graph=True)
    with pytest.raises(ValueError, match="store='full' .default. or store='compact'"):
        check(Grid(), store="small")
    with pytest.raises(ValueError, match="max_states=-1 must be a non-negative int"):
        check(Grid(), max_states=-1)
    with pytest.raises(TypeError, match="needs a Model instance"):
        check(object())

    class Dup(Grid):
        def properties(self):
            return [Property.always("p", bool), Property.sometimes("p", bool)]

    with pytest.raises(ValueError, match="two properties are named 'p'"):
        check(Dup())

    class Empty(Grid):
        def init_states(self):
            return []

    with pytest.raises(ValueError, match="init_states.. returned no states"):
        check(Empty())


def test_model_errors_name_the_state_being_expanded():
    class Broken(Grid):
        def successors(self, s):
            if s == (2, 0):
                raise ZeroDivisionError("boom")
            yield from super().successors(s)

    with pytest.raises(ZeroDivisionError) as e:
        check(Broken())
    assert any("expanding state (2, 0)" in note for note in e.value.__notes__)


def test_nondeterministic_successors_are_reported_when_rebuilding_a_trace():
    class Flaky(Grid):
        calls = 0

        def successors(self, s):
            # After the search, replays get different transitions: the trace cannot be rebuilt.
            Flaky.calls += 1
            for a, t, o in super().successors(s):
                yield (a + "!" if Flaky.calls > 30 else a), t, o

    with pytest.raises(RuntimeError, match="must return the same transitions"):
        check(Flaky(6, 5, bad_sum=5))


def test_random_walks_of_length_zero_still_stop_at_the_time_bound():
    # Walks of length 0 never take a step, so only the outer loop can see the clock.
    import time

    t0 = time.monotonic()
    r = check(Grid(5, 4), strategy="random", seconds=0.3, max_depth=0, seed=1)
    assert time.monotonic() - t0 < 5
    assert r.bounds_hit == ("seconds",) and r["in_range"].verdict == "unknown"


class BatchedGrid(Grid):
    """Grid whose properties are answered together by one call (the protocol check/flat.py's memos use)."""

    def __init__(self, *args, answers=None, together=True, **kw) -> None:
        super().__init__(*args, **kw)
        self.together = together  # False: the same conditions without ``batch``, asked one by one
        self.asked = 0  # calls of the batch
        self.answers = answers or (lambda s: (s[0] + s[1] < self.bad_sum, s == self.witness))

    def properties(self):
        last: list = [None, None]  # the last state asked, and its answers

        def batch(s):
            self.asked += 1
            last[:] = [s, self.answers(s)]
            return last[1]

        def condition(i):
            def cond(s):
                return (last[1] if last[0] is s else batch(s))[i]

            if self.together:
                cond.batch, cond.index = batch, i
            return cond

        return [Property.always("small_sum", condition(0)), Property.sometimes("witness", condition(1))]


@pytest.mark.parametrize("store", ["full", "compact"])
def test_properties_answered_together_give_the_verdicts_and_traces_of_separate_ones(store, monkeypatch):
    # search.quiet_test: one call per new state tells nothing is decided; the verdicts, the state that
    # decides each and its shortest trace are those of the same properties asked one by one.
    plain = BatchedGrid(6, 5, bad_sum=7, witness=(3, 2), together=False)
    batched = BatchedGrid(6, 5, bad_sum=7, witness=(3, 2))
    a, b = check(plain, store=store), check(batched, store=store)
    for name in ("small_sum", "witness"):
        assert a[name].verdict == b[name].verdict
        assert a[name].path == b[name].path
    assert b["small_sum"].verdict == "violated" and b["witness"].verdict == "holds"
    assert b.stats.states == a.stats.states
    # One batch call per recorded state, until both are decided (then nothing more is asked).
    assert batched.asked <= b.stats.states
    # ... and decided_by runs only on the states whose answers are not the quiet ones.
    asked_one_by_one = []
    real = Property.decided_by
    monkeypatch.setattr(Property, "decided_by", lambda p, s: asked_one_by_one.append(s) or real(p, s))
    check(BatchedGrid(6, 5, bad_sum=7, witness=(3, 2)), store=store)
    assert len(set(asked_one_by_one)) == 2  # the witness (3, 2) and the first state with x + y == 7


def test_answers_that_are_not_plain_booleans_still_decide_as_truth_values():
    # The quick test compares with True/False; anything else goes through decided_by as usual.
    batched = BatchedGrid(4, 4, bad_sum=100, witness=(2, 2),
                          answers=lambda s: ([1] if s[0] < 4 else [], "yes" if s == (2, 2) else None))
    r = check(batched)
    assert r["small_sum"].verdict == "holds" and r["witness"].verdict == "holds"
    assert len(r["witness"].path) == 4  # (0,0) to (2,2): four steps, shortest


def test_a_batch_that_raises_names_the_property_being_checked():
    def answers(s):
        if s == (1, 1):
            raise ZeroDivisionError("boom")
        return (True, False)

    with pytest.raises(ZeroDivisionError) as e:
        check(BatchedGrid(3, 3, bad_sum=100, witness=(9, 9), answers=answers))
    assert any("while checking property 'small_sum'" in note for note in e.value.__notes__)


@pytest.mark.parametrize("strategy", ["bfs", "dfs", "random"])
def test_the_collector_waits_longer_during_a_search_and_is_restored_after(strategy):
    # A search allocates a few short-lived tuples per transition and keeps no cycles, so the checker
    # raises the collector's first threshold while it runs (checker.GC_THRESHOLD); it must give the
    # user's setting back however the search ends.
    import gc

    from model.check.checker import GC_THRESHOLD

    seen = []

    class Watching(Grid):
        def successors(self, s):
            seen.append(gc.get_threshold())
            if s == (2, 3) and self.n == 99:
                raise RuntimeError("a model's own bug")
            yield from super().successors(s)

    seeded = {"seed": 1} if strategy == "random" else {}
    before = gc.get_threshold()
    try:
        gc.set_threshold(500, 7, 9)
        check(Watching(4, 4), strategy=strategy, **seeded)
        assert seen and all(t == (GC_THRESHOLD, 7, 9) for t in seen)
        assert gc.get_threshold() == (500, 7, 9)
        with pytest.raises(RuntimeError, match="a model's own bug"):
            check(Watching(99, 4), strategy="bfs")
        assert gc.get_threshold() == (500, 7, 9)
        for own in ((50_000, 10, 10), (0, 10, 10)):  # a higher threshold, or collection turned off: kept
            gc.set_threshold(*own)
            seen.clear()
            check(Watching(4, 4), strategy=strategy, **seeded)
            assert seen and all(t == own for t in seen)
            assert gc.get_threshold() == own
    finally:
        gc.set_threshold(*before)


def test_searches_that_overlap_in_threads_give_the_collector_setting_back_once_both_end():
    # Two checks in two threads may end in either order; the process's setting must come back as it
    # was before the first, not as the first found it raised by the second.
    import gc

    from model.check.checker import GC_THRESHOLD, fewer_collections

    before = gc.get_threshold()
    try:
        gc.set_threshold(600, 10, 10)
        first, second = fewer_collections(), fewer_collections()
        first.__enter__()
        second.__enter__()
        assert gc.get_threshold()[0] == GC_THRESHOLD
        first.__exit__(None, None, None)  # the first ends while the second still searches
        assert gc.get_threshold()[0] == GC_THRESHOLD
        second.__exit__(None, None, None)
        assert gc.get_threshold() == (600, 10, 10)
    finally:
        gc.set_threshold(*before)
