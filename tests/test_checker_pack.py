"""A packed frontier: ``Model.pack``/``unpack`` round-trip, and the compact store finds exactly the same with them."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model.check import Model, Property, bfs, check
from model.check.bench import bench_scenario
from model.check.ecs import CopyImageModel, ExploreState
from model.scenario import load_scenario

from .test_checker_store import Digraph, digraphs
from .test_checker_store import Lattice as StoreLattice

SCENARIOS = Path(__file__).parent.parent / "scenarios"

# Tokens and an instance, so every field of the World is non-empty in some state.
TOKENS_AND_INSTANCES = {
    "name": "pack-every-field",
    "regions": ["cn-hangzhou", "cn-shanghai"],
    "options": {"copy_limit": 1},
    "images": [{"name": "web", "size": 40}, {"name": "db", "size": 40}],
    "instances": [{"image": "web"}],
    "explore": {
        "requests": [
            {"name": "r1", "call": "CopyImage", "times": 2, "params": {
                "RegionId": "cn-hangzhou", "ImageId": "$web", "DestinationRegionId": "cn-shanghai",
                "ClientToken": "tok-1"}},
            {"name": "r2", "call": "CopyImage", "params": {
                "RegionId": "cn-hangzhou", "ImageId": "$db", "DestinationRegionId": "cn-shanghai"}},
            {"call": "CancelCopyImage", "params": {"RegionId": "cn-shanghai", "ImageId": "$r1"}},
            {"call": "DeleteImage", "params": {"RegionId": "cn-hangzhou", "ImageId": "$web"}},
        ],
        "events": ["complete", "fail"],
    },
}


def reachable(model: Model) -> list:
    """Every reachable state, in BFS order (independent of the checker)."""
    order = list(model.init_states())
    seen = set(order)
    for state in order:
        for _, nxt, _ in model.successors(state):
            if nxt not in seen:
                seen.add(nxt)
                order.append(nxt)
    return order


class Counting(CopyImageModel):
    """Counts pack and unpack calls, to tell whether the checker packed at all."""

    packed = unpacked = 0

    def pack(self, state):
        self.packed += 1
        return super().pack(state)

    def unpack(self, blob):
        self.unpacked += 1
        return super().unpack(blob)


def same_run(a, b) -> None:
    """Two results that must not differ in anything but time and memory."""
    sa, sb = a.stats, b.stats
    assert (sa.states, sa.transitions, sa.max_depth, sa.expanded, sa.terminal_states) == (
        sb.states, sb.transitions, sb.max_depth, sb.expanded, sb.terminal_states)
    assert a.depth_histogram == b.depth_histogram
    assert a.coverage == b.coverage
    assert a.bounds_hit == b.bounds_hit and a.exhaustive == b.exhaustive
    assert {n: p.verdict for n, p in a.properties.items()} == {n: p.verdict for n, p in b.properties.items()}
    for name, p in a.properties.items():
        assert p.path == b.properties[name].path, name  # same initial state, actions, states and outcomes


# -- CopyImageModel.pack / unpack ------------------------------------------------------------


@pytest.mark.parametrize("scenario", [bench_scenario(3, 2), TOKENS_AND_INSTANCES], ids=["bm-3-2", "tokens-instances"])
def test_every_reachable_state_round_trips_equal_with_the_same_hash(scenario):
    model = CopyImageModel(scenario, flat=False)
    states = reachable(model)
    for state in states:
        blob = model.pack(state)
        assert type(blob) is bytes
        back = model.unpack(blob)
        assert type(back) is ExploreState and back == state and hash(back) == hash(state)
        assert back.world.setting is state.world.setting
        fields = ("images", "tasks", "queues", "tokens", "instances")
        for name in fields:
            assert [type(r) for r in getattr(back.world, name)] == [type(r) for r in getattr(state.world, name)]
        # Records are shared: unpacking again allocates no new record.
        again = model.unpack(blob)
        assert all(x is y for name in fields for x, y in zip(getattr(back.world, name), getattr(again.world, name)))
    if scenario is TOKENS_AND_INSTANCES:  # the round trips covered every field
        assert any(s.world.tokens for s in states) and any(s.world.instances for s in states)
        assert any(s.world.queues for s in states) and any(s.bound[0] is not None for s in states)


def test_a_benchmark_state_packs_to_one_byte_per_record_and_count():
    model = CopyImageModel(bench_scenario(3, 2), flat=False)
    for state in reachable(model):
        w = state.world
        records = len(w.images) + len(w.tasks) + len(w.queues) + len(w.tokens) + len(w.instances)
        # A width byte, five lengths, the record ids, the bound ids, the used counts.
        assert len(model.pack(state)) == 1 + 5 + records + len(state.bound) + len(state.used)


def test_ids_past_255_and_65535_widen_later_blobs_and_older_ones_still_unpack():
    model = CopyImageModel(bench_scenario(3, 2), flat=False)
    states = reachable(model)
    init, later = states[0], states[-1]  # the last state has records the first one lacks
    narrow = model.pack(init)
    assert narrow[0] == 1
    for i in range(300):  # fill the shared id space, so the next new records get ids past 255
        model._packing.intern(5, f"filler-{i}")
    middle = model.pack(states[len(states) // 2])
    assert middle[0] == 2
    for i in range(300, 70_000):
        model._packing.intern(5, f"filler-{i}")
    wide = model.pack(later)
    assert wide[0] == 4
    for blob, state in ((narrow, init), (middle, states[len(states) // 2]), (wide, later)):
        back = model.unpack(blob)
        assert back == state and hash(back) == hash(state)


def test_a_count_past_255_in_used_widens_the_blob():
    model = CopyImageModel(bench_scenario(3, 2), flat=False)
    state = model.init_states()[0]
    big = ExploreState(state.world, (300,) + state.used[1:], state.bound)
    blob = model.pack(big)
    assert blob[0] == 2 and model.unpack(blob) == big
    huge = ExploreState(state.world, (70_000,) + state.used[1:], state.bound)
    assert model.pack(huge)[0] == 4 and model.unpack(model.pack(huge)) == huge


# -- the checker with a packed frontier -----------------------------------------------------


@pytest.fixture
def pack_every_level(monkeypatch):
    """BFS packs a level only after one of ``bfs.PACK_FROM`` states; 0 packs every level after the first."""
    monkeypatch.setattr(bfs, "PACK_FROM", 0)


@pytest.mark.parametrize("source", [
    bench_scenario(3, 2),  # exhaustive, every property holds
    SCENARIOS / "bugs" / "lifo-queue.yaml",  # I4 violated after 4 steps
    SCENARIOS / "bugs" / "limit-off-by-one.yaml",  # I2 violated after 2 steps
    SCENARIOS / "client-token-retry.yaml",
    TOKENS_AND_INSTANCES,
], ids=["bm-3-2", "lifo-queue", "limit-off-by-one", "client-token-retry", "tokens-instances"])
@pytest.mark.parametrize("strategy", ["bfs", "dfs"])
def test_packed_compact_search_finds_exactly_what_the_unpacked_one_finds(source, strategy, pack_every_level):
    scenario = load_scenario(source)
    packed, plain = Counting(scenario), Counting(scenario)
    a = check(packed, store="compact", strategy=strategy)
    b = check(plain, store="compact", strategy=strategy, pack=False)
    same_run(a, b)
    # The frontier really was packed: every recorded state once, every expanded state unpacked once
    # (and, when the search stops early, the one it was about to expand). BFS's level 0, the initial
    # states, has no level before it and is never packed; DFS packs its whole stack.
    inits = len(packed.init_states()) if strategy == "bfs" else 0
    assert packed.packed == a.stats.states - inits
    unpacked = a.stats.expanded + a.stats.outside_boundary - inits
    assert 0 <= packed.unpacked - unpacked <= (0 if a.exhaustive else 1)
    assert plain.packed == plain.unpacked == 0
    if strategy == "bfs":  # and the counterexamples are the full store's shortest ones
        full = check(type(packed)(scenario))
        for name, p in a.properties.items():
            if p.path is not None and full.properties[name].path is not None:
                assert p.path == full.properties[name].path, name


def test_lifo_counterexample_is_the_same_shortest_one_when_packed(pack_every_level):
    scenario = load_scenario(SCENARIOS / "bugs" / "lifo-queue.yaml")  # one Setting: Worlds compare it by identity
    model = Counting(scenario)
    result = check(model, store="compact")
    assert result["I4"].verdict == "violated" and len(result["I4"].path) == 4
    assert model.packed > 0
    assert result["I4"].path == check(type(model)(scenario), store="compact", pack=False)["I4"].path


@pytest.mark.parametrize("bounds", [{"max_states": 500}, {"max_depth": 5}])
def test_packed_search_stops_at_the_same_bound(bounds, pack_every_level):
    packed, plain = Counting(bench_scenario(3, 2)), Counting(bench_scenario(3, 2))
    a = check(packed, store="compact", **bounds)
    b = check(plain, store="compact", pack=False, **bounds)
    same_run(a, b)
    assert a.bounds_hit and packed.packed > 0


def test_bfs_packs_only_the_levels_after_a_wide_one(monkeypatch):
    # Packing saves memory only where levels are wide, and costs a pack and an unpack per state: a
    # level is packed when the level expanded to make it had at least PACK_FROM states.
    small = Counting(bench_scenario(3, 2))
    result = check(small, store="compact")
    hist = result.depth_histogram
    assert max(hist) < bfs.PACK_FROM and small.packed == small.unpacked == 0  # BM(3,2) is narrow
    monkeypatch.setattr(bfs, "PACK_FROM", 50)
    wide = Counting(bench_scenario(3, 2))
    a = check(wide, store="compact")
    packed_levels = [d for d in range(1, len(hist)) if hist[d - 1] >= 50]
    assert packed_levels and len(packed_levels) < len(hist) - 1  # some levels packed, others not
    assert wide.packed == wide.unpacked == sum(hist[d] for d in packed_levels)
    same_run(a, result)


def test_full_store_and_random_walks_never_pack(pack_every_level):
    model = Counting(bench_scenario(3, 2))
    check(model)
    check(model, store="compact", strategy="random", seed=3, walks=5)
    assert model.packed == model.unpacked == 0


# -- the generic hook ------------------------------------------------------------------------


class Lattice(StoreLattice):
    """test_checker_store's lattice plus an equal-but-new self-loop; bad at (bad, bad, bad)."""

    def successors(self, s):
        yield from super().successors(s)
        yield "copy", tuple(list(s)), "copied"  # equal to s, not s: still a self-loop

    def properties(self):
        return [
            Property.sometimes("corner", lambda s: s == (self.m - 1,) * 3),
            Property.always("not_bad", lambda s: s != (self.bad,) * 3),
        ]


class PackedLattice(Lattice):
    def pack(self, state):
        return bytes(state)

    def unpack(self, blob):
        return tuple(blob)


def test_any_model_with_pack_and_unpack_gets_the_same_results(pack_every_level):
    for m, bad in ((7, 4), (9, 5), (6, 99)):
        same_run(check(PackedLattice(m, bad), store="compact"), check(Lattice(m, bad), store="compact"))
        same_run(check(PackedLattice(m, bad), store="compact"), check(Lattice(m, bad)))  # and the full store's
    exhaustive = check(PackedLattice(6, 99), store="compact")
    assert exhaustive.stats.transitions == 6**3 * 6  # both self-loops excluded


def test_pack_without_unpack_is_refused_with_the_fix():
    class OnlyPack(Lattice):
        def pack(self, state):
            return bytes(state)

    with pytest.raises(TypeError, match=r"defines pack\(\) but not unpack\(\); define both"):
        check(OnlyPack(), store="compact")
    with pytest.raises(ValueError, match="pack='no' must be True"):
        check(Lattice(), pack="no")


class PackedDigraph(Digraph):
    def pack(self, state):
        return state.to_bytes(2, "little")

    def unpack(self, blob):
        return int.from_bytes(blob, "little")


@settings(max_examples=100, deadline=None)
@given(digraphs(), st.sampled_from(["bfs", "dfs"]), st.sampled_from([None, 3]))
def test_random_graphs_packed_and_not_agree(graph, strategy, max_depth):
    with pytest.MonkeyPatch.context() as mp:  # not a fixture: Hypothesis runs many examples per test call
        mp.setattr(bfs, "PACK_FROM", 0)
        same_run(check(PackedDigraph(graph.succ, graph.bad), store="compact", strategy=strategy, max_depth=max_depth),
                 check(graph, store="compact", strategy=strategy, max_depth=max_depth))
