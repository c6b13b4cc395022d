"""EVENTUALLY under weak fairness: fair cycles, resting states, lassos, and a brute-force cross-check."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model.check import Model, Property, assert_holds, assert_violated, check


class Starvation(Model):
    """P0 toggles a bit forever; P1 requests, then waits to be served.

    State (waiting1, bit, noise). ``p0`` is always enabled; ``serve1`` is
    enabled while P1 waits. A scheduler that keeps running P0 starves P1
    unless ``serve1`` is fair. ``noise`` (an unfair counter up to ``noise``)
    only makes the state space bigger, for bounded runs.
    """

    def __init__(self, fair: set[str], noise: int = 0) -> None:
        self.fair, self.noise = fair, noise

    def init_states(self):
        return [(False, 0, 0)]

    def successors(self, s):
        waiting, bit, extra = s
        yield "p0", (waiting, 1 - bit, extra), None
        if waiting:
            yield "serve1", (False, bit, extra), "served"
        else:
            yield "request1", (True, bit, extra), "requested"
        if extra < self.noise:
            yield "noise", (waiting, bit, extra + 1), None

    def properties(self):
        return [Property.eventually("p1_served", lambda s: s[0], "a waiting P1 is eventually served")]

    def is_fair(self, action):
        return action in self.fair


def check_lasso(model: Model, path, pending) -> None:
    """The lasso is made of real transitions, stays pending from loop_start, and its cycle is closed and fair."""
    states = path.states()
    for before, step in zip(states, path.steps):
        assert (step.action, step.state, step.outcome) in list(model.successors(before))
    k = path.loop_start
    assert k is not None and 0 <= k <= len(path)
    loop = states[k:]
    assert all(pending(s) for s in loop)
    if k == len(path):  # resting: no fair transition leaves the last state
        last = states[-1]
        assert not any(model.is_fair(a) and t != last for a, t, _ in model.successors(last))
        return
    assert states[-1] == states[k]
    taken = {s.action for s in path.steps[k:]}
    cycle_states = set(loop)
    for a in {a for a, _, _ in model.successors(states[k]) if model.is_fair(a)}:
        if all(any(b == a for b, _, _ in model.successors(s)) for s in cycle_states):
            assert a in taken, f"fair action {a!r} enabled all along the cycle but never taken"


def test_unfair_scheduler_starves_p1_on_a_cycle():
    model = Starvation(fair={"p0"})
    r = check(model)
    assert_violated(r, "p1_served")
    path = r["p1_served"].path
    assert path.loop_start == 1 and len(path) == 3  # request1, then p0 p0 round the cycle
    assert [s.action for s in path.steps] == ["request1", "p0", "p0"]
    check_lasso(model, path, lambda s: s[0])
    assert "cycle" in r["p1_served"].reason
    text = r.report()
    assert "cycle starts here" in text and "repeats forever" in text


def test_fairness_of_the_schedulers_action_makes_it_hold():
    r = check(Starvation(fair={"p0", "serve1"}))
    assert_holds(r, "p1_served")
    assert r.exhaustive and not r.warnings


def test_with_no_fair_action_every_pending_state_is_a_resting_state():
    model = Starvation(fair=set())
    r = check(model)
    path = r["p1_served"].path
    assert path.loop_start == len(path) == 1  # request1, then rest forever
    check_lasso(model, path, lambda s: s[0])


class Job(Model):
    """idle -submit-> waiting -complete-> done; waiting -lose-> stuck -retry-> ``retry_to``.

    ``complete`` is fair. With ``retry_to="idle"`` and ``retry`` unfair a run
    can rest in ``stuck`` forever. With ``retry_to="waiting"`` a run can also
    cycle waiting <-> stuck, even when every action is fair: ``complete`` is
    not enabled in ``stuck``, so weak fairness never forces it.
    """

    def __init__(self, fair: set[str], retry_to: str = "idle") -> None:
        self.fair, self.retry_to = fair, retry_to

    def init_states(self):
        return ["idle"]

    def successors(self, s):
        if s == "idle":
            yield "submit", "waiting", None
        elif s == "waiting":
            yield "complete", "done", "ok"
            yield "lose", "stuck", "lost"
        elif s == "stuck":
            yield "retry", self.retry_to, None
        else:
            yield "noop", s, None

    def properties(self):
        return [Property.eventually("finishes", lambda s: s in ("waiting", "stuck"))]

    def is_fair(self, action):
        return action in self.fair


def test_resting_state_violation():
    model = Job(fair={"complete"})
    r = check(model)
    assert_violated(r, "finishes", steps=2)
    path = r["finishes"].path
    assert path.states() == ["idle", "waiting", "stuck"] and path.loop_start == 2
    assert "rest" in r["finishes"].reason
    assert "stay in this last state forever" in r.report()


def test_a_fair_exit_from_the_resting_state_makes_it_hold():
    assert_holds(check(Job(fair={"complete", "retry"})), "finishes")


def test_weak_fairness_does_not_force_an_intermittently_enabled_action():
    model = Job(fair={"complete", "retry", "lose"}, retry_to="waiting")
    r = check(model)
    path = r["finishes"].path
    assert path.loop_start == 1 and path.states() == ["idle", "waiting", "stuck", "waiting"]
    check_lasso(model, path, lambda s: s in ("waiting", "stuck"))


def test_a_terminal_pending_state_is_a_violation():
    class Dead(Job):
        def successors(self, s):
            if s == "stuck":
                return iter(())
            return super().successors(s)

    r = check(Dead(fair={"complete", "retry"}))
    assert r["finishes"].path.states() == ["idle", "waiting", "stuck"]


def test_fair_self_loops_let_a_run_stay_and_count_as_taken():
    class Spin(Model):
        # 0 <-> 1 with a fair self-loop "spin" enabled in both and an unfair exit to 2.
        def init_states(self):
            return [0]

        def successors(self, s):
            if s in (0, 1):
                yield "flip", 1 - s, None
                yield "spin", s, None
                yield "exit", 2, None

        def properties(self):
            return [Property.eventually("leaves", lambda s: s != 2)]

        def is_fair(self, a):
            return a in ("spin", "flip")

    model = Spin()
    r = check(model)
    path = r["leaves"].path
    check_lasso(model, path, lambda s: s != 2)
    assert "spin" in {s.action for s in path.steps[path.loop_start :]}  # fairness shown on the cycle


def test_liveness_on_a_bounded_graph_is_unknown_unless_violated():
    r = check(Starvation(fair={"p0", "serve1"}, noise=1000), max_states=50)
    assert r["p1_served"].verdict == "unknown" and r.bounds_hit == ("max_states",)
    assert any("partial state graph" in w for w in r.warnings)
    r = check(Starvation(fair={"p0"}, noise=1000), max_states=50)  # the starving cycle is explored
    assert_violated(r, "p1_served")
    assert r.bounds_hit == ("max_states",)
    assert len(r["p1_served"].path) == 3


def test_compact_store_cannot_check_liveness_and_says_so():
    r = check(Starvation(fair={"p0"}), store="compact")
    assert r["p1_served"].verdict == "unknown"
    assert "store='full'" in r["p1_served"].reason
    assert any("EVENTUALLY" in w and "store='full'" in w for w in r.warnings)


def test_keep_graph_false_leaves_liveness_unknown():
    r = check(Starvation(fair={"p0"}), keep_graph=False)
    assert r["p1_served"].verdict == "unknown"
    assert any("keep_graph=False" in w for w in r.warnings)


def test_dfs_finds_the_same_liveness_verdicts():
    assert check(Starvation(fair={"p0"}), strategy="dfs")["p1_served"].verdict == "violated"
    assert check(Starvation(fair={"p0", "serve1"}), strategy="dfs")["p1_served"].verdict == "holds"


# -- brute force cross-check ----------------------------------------------------------

LABELS = ("a", "b", "c")  # a and b fair, c unfair


class RandomGraph(Model):
    def __init__(self, edges: dict, pending: frozenset) -> None:
        self.edges, self.pending = edges, pending

    def init_states(self):
        return [0]

    def successors(self, s):
        for (u, label), v in sorted(self.edges.items()):
            if u == s:
                yield label, v, None

    def properties(self):
        return [Property.eventually("p", lambda s: s in self.pending)]

    def is_fair(self, a):
        return a in ("a", "b")


def reference_violated(model: RandomGraph, n: int) -> bool:
    """Is there a weakly fair run that keeps ``pending`` forever? Tries every set of states a run could
    end up cycling through, not just maximal components."""
    succ = {s: list(model.successors(s)) for s in range(n)}
    reach, todo = {0}, [0]
    while todo:
        for _, v, _ in succ[todo.pop()]:
            if v not in reach:
                reach.add(v)
                todo.append(v)
    cand = sorted(s for s in reach if s in model.pending)
    for size in range(1, len(cand) + 1):
        for subset in itertools.combinations(cand, size):
            s_set = set(subset)
            inner = [(u, a, v) for u in subset for a, v, _ in succ[u] if v in s_set]
            if size == 1:
                (u,) = subset
                # Rest at u: fine unless a fair action leaves it.
                if not any(model.is_fair(a) and v != u for a, v, _ in succ[u]):
                    return True
                continue
            # Strongly connected using inner transitions?
            ok = True
            for x in subset:
                seen, todo = {x}, [x]
                while todo:
                    y = todo.pop()
                    for u, _, v in inner:
                        if u == y and v not in seen:
                            seen.add(v)
                            todo.append(v)
                ok &= seen == s_set
            if not ok:
                continue
            taken = {a for _, a, _ in inner}
            everywhere = set.intersection(*({a for a, _, _ in succ[u] if model.is_fair(a)} for u in subset))
            if everywhere <= taken:
                return True
    return False


@st.composite
def random_graphs(draw):
    n = draw(st.integers(1, 5))
    edges = {}
    for u in range(n):
        for label in LABELS:
            if draw(st.booleans()):
                edges[(u, label)] = draw(st.integers(0, n - 1))
    pending = frozenset(draw(st.sets(st.integers(0, n - 1))))
    return n, RandomGraph(edges, pending)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_graphs())
def test_liveness_agrees_with_brute_force(case):
    n, model = case
    r = check(model)
    expected = reference_violated(model, n)
    assert r["p"].verdict == ("violated" if expected else "holds")
    if expected:
        check_lasso(model, r["p"].path, lambda s: s in model.pending)


@pytest.mark.parametrize("strategy", ["bfs", "dfs"])
def test_lasso_prefix_is_shortest(strategy):
    class Line(Model):
        # 0 -> 1 -> 2 -> 3 -> 4, and a shortcut 0 -> 3; the pending cycle is 3 <-> 4.
        def init_states(self):
            return [0]

        def successors(self, s):
            if s < 4:
                yield "step", s + 1, None
            if s == 0:
                yield "jump", 3, None
            if s == 4:
                yield "back", 3, None

        def properties(self):
            return [Property.eventually("p", lambda s: s >= 3)]

    r = check(Line(), strategy=strategy)
    path = r["p"].path
    assert path.loop_start == 1 and path.states()[:2] == [0, 3]
