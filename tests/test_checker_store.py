"""Full versus compact store: same counts, same shortest counterexamples, traces rebuilt by replay."""

from __future__ import annotations

import sys

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model.check import Model, Property, assert_violated, check
from model.check.store import CompactStore, FullStore, keys_nbytes


class Lattice(Model):
    """(a, b, c) mod m with +1/+2 moves per coordinate and a self-loop; bad when a == b == c == bad."""

    def __init__(self, m: int = 7, bad: int | None = 4) -> None:
        self.m, self.bad = m, bad

    def init_states(self):
        return [(0, 0, 0)]

    def successors(self, s):
        m = self.m
        for i in range(3):
            for d in (1, 2):
                t = list(s)
                t[i] = (t[i] + d) % m
                yield ("add", i, d), tuple(t), "moved"
        yield "wait", s, "waited"

    def properties(self):
        if self.bad is None:  # nothing to find: the search must be exhaustive
            return [Property.always("in_range", lambda s: all(0 <= x < self.m for x in s))]
        return [
            Property.sometimes("corner", lambda s: s == (self.m - 1,) * 3),
            Property.always("not_bad", lambda s: s != (self.bad,) * 3),
        ]


def test_compact_store_same_counts_and_counterexample_length_as_full():
    full = check(Lattice(7, bad=4))
    compact = check(Lattice(7, bad=4), store="compact")
    assert compact.store == "compact"
    # not_bad is violated, corner is witnessed: both stop once every property is decided, at the same point.
    assert (compact.stats.states, compact.stats.transitions) == (full.stats.states, full.stats.transitions)
    assert compact.coverage == full.coverage
    assert len(compact["not_bad"].path) == len(full["not_bad"].path) == 6
    assert len(compact["corner"].path) == len(full["corner"].path)


def test_compact_store_rebuilds_the_same_trace_by_replay():
    model = Lattice(9, bad=5)
    full, compact = check(model), check(model, store="compact")
    for name in ("not_bad", "corner"):
        assert compact[name].path.states() == full[name].path.states()
        assert compact[name].path == full[name].path  # same actions and outcomes, recovered by replay
        for before, step in zip(compact[name].path.states(), compact[name].path.steps):
            assert (step.action, step.state, step.outcome) in list(model.successors(before))


def test_compact_exhaustive_counts_and_collision_warning():
    model = Lattice(6, bad=None)
    full, compact = check(model), check(model, store="compact")
    assert compact.stats.states == full.stats.states == 6**3
    assert compact.stats.transitions == full.stats.transitions == 6**3 * 6
    assert compact.exhaustive and compact["in_range"].verdict == "holds"
    warning = next(w for w in compact.warnings if "fingerprint" in w)
    assert "n^2/2^65" in warning and "216" in warning
    assert not any("fingerprint" in w for w in full.warnings)


def test_compact_store_with_dfs_and_random_walks():
    model = Lattice(7, bad=4)
    assert_violated(check(model, store="compact", strategy="dfs"), "not_bad")
    r = check(model, store="compact", strategy="random", seed=5, walks=300, max_depth=60)
    assert_violated(r, "not_bad")
    path = r["not_bad"].path
    assert path.last == (4, 4, 4)


def test_compact_store_uses_less_memory_than_full():
    model = Lattice(20, bad=None)  # 8,000 states
    full, compact = check(model), check(model, store="compact")
    per_state_full = full.stats.store_bytes / full.stats.states
    per_state_compact = compact.stats.store_bytes / compact.stats.states
    assert per_state_compact < per_state_full
    assert per_state_compact < 250


@given(st.sets(st.one_of(st.integers(), st.integers(min_value=0, max_value=2**64 - 1))))
def test_the_store_counts_its_keys_as_getsizeof_does(keys):
    # keys_nbytes takes int.__sizeof__ for speed: it must give the very figure getsizeof gives.
    assert keys_nbytes(keys) == sum(map(sys.getsizeof, keys))


def test_the_store_counts_keys_that_are_not_ints_too():
    keys = {("a", 1), "b", 3}
    assert keys_nbytes(keys) == sum(map(sys.getsizeof, keys))


def test_compact_graph_requests_are_refused_with_the_fix():
    r = check(Lattice(4, bad=None), store="compact")
    with pytest.raises(ValueError, match="store='full'"):
        r.graph


def test_compact_trace_walks_back_through_parent_fingerprints():
    store = CompactStore()
    a, _ = store.add_init("s0")
    b, new_b = store.insert("s1", a)
    c, _ = store.insert("s2", b)
    assert new_b and store.insert("s1", a) == (b, False)
    assert store.seen[a] is a  # an initial state maps to itself (no new int object)
    assert store.seen[c] is b  # the parent's key object is reused as the value

    class Line(Model):
        def successors(self, s):
            yield "go", {"s0": "s1", "s1": "s2"}.get(s, s), None

    path = store.path_to(c, Line(), ["s0"])
    assert path.states() == ["s0", "s1", "s2"]


def test_full_store_repair_after_an_interrupted_insert():
    store = FullStore()
    store.add_init("a")
    store.insert("b", 0, "go")
    # Simulate Ctrl-C between the index update and the list appends.
    store.index["c"] = 2
    store.states.append("c")
    store.repair()
    assert store.size() == 2 and "c" not in store.index and store.states == ["a", "b"]


# -- random graphs: every strategy and store against networkx -----------------------------


class Digraph(Model):
    def __init__(self, succ: dict[int, list[tuple[str, int]]], bad: frozenset) -> None:
        self.succ, self.bad = succ, bad

    def init_states(self):
        return [0]

    def successors(self, s):
        for a, t in self.succ.get(s, []):
            yield a, t, a

    def properties(self):
        return [Property.always("good", lambda s: s not in self.bad)]


@st.composite
def digraphs(draw):
    n = draw(st.integers(1, 12))
    succ = {}
    for u in range(n):
        targets = draw(st.lists(st.integers(0, n - 1), max_size=4))
        succ[u] = [(f"a{i}", t) for i, t in enumerate(targets)]
    bad = frozenset(draw(st.sets(st.integers(0, n - 1), max_size=3)))
    return Digraph(succ, bad)


@settings(max_examples=150, deadline=None)
@given(digraphs())
def test_counts_and_shortest_counterexamples_match_networkx(model):
    g = nx.DiGraph()
    g.add_node(0)
    for u, outs in model.succ.items():
        for _, t in outs:
            if t != u:
                g.add_edge(u, t)
    reach = nx.descendants(g, 0) | {0}
    transitions = sum(1 for u in reach for _, t in model.succ[u] if t != u)
    bad = reach & model.bad
    dist = nx.single_source_shortest_path_length(g, 0)
    for kwargs in ({}, {"store": "compact"}, {"strategy": "dfs"}, {"strategy": "dfs", "store": "compact"}):
        r = check(model, **kwargs)
        if not bad:
            assert r["good"].verdict == "holds", kwargs
            assert r.stats.states == len(reach), kwargs
            assert r.stats.transitions == transitions, kwargs
        else:
            assert r["good"].verdict == "violated", kwargs
            if kwargs.get("strategy", "bfs") == "bfs":
                assert len(r["good"].path) == min(dist[b] for b in bad), kwargs
            assert r["good"].path.last in bad
