"""The benchmark model BM(k, L): its scenarios reproduce the reference state counts exactly."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from model.check import check
from model.check.bench import BENCH_COUNTS, BENCH_SIZES, bench_scenario, bench_yaml
from model.check.ecs import CopyImageModel

ROOT = Path(__file__).parent.parent


def _baselines():
    spec = importlib.util.spec_from_file_location("baselines", ROOT / "benchmarks" / "baselines.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("k,limit", BENCH_SIZES, ids=lambda v: str(v))
def test_bench_yaml_files_match_the_generator(k: int, limit: int) -> None:
    assert (ROOT / "scenarios" / "bench" / f"bm-{k}-{limit}.yaml").read_text() == bench_yaml(k, limit)


@pytest.mark.parametrize("k,limit", [(3, 2), (4, 2)])
@pytest.mark.parametrize("store", ["full", "compact"])
def test_bench_counts_match_the_independent_tuple_bfs(k: int, limit: int, store: str) -> None:
    result = check(CopyImageModel(bench_scenario(k, limit)), store=store)
    got = (result.stats.states, result.stats.transitions, result.stats.max_depth)
    assert got == BENCH_COUNTS[(k, limit)]
    assert got == _baselines().minimal_bfs(k, limit)
    assert all(p.verdict == "holds" for p in result.properties.values())


# BM(2, 1) states (sources, tasks, queue); task codes as in baselines.py: 0 None, 1 Waiting, 2 Copying, 3 Available.
@pytest.mark.parametrize("state,broken", [
    (((True, True), (2, 2), ()), "slots"),  # two running
    (((True, True), (1, 0), (0,)), "slots"),  # one waits while no slot is taken
    (((True, True), (2, 1), ()), "queue"),  # a Waiting copy that is not queued
    (((False, True), (2, 0), ()), "source"),  # a copy running from a deleted source
    (((True, False), (2, 1), (1,)), "queue or source"),  # a copy waiting for a deleted source
    (((True, True), (2, 3), ()), None),
])
def test_the_floors_check_of_BM_invariants_can_fail(state, broken) -> None:
    """The minimal BFS checks BM's four invariants (I2, I3, I6, A4 in the checker), so each must be able to fail."""
    assert _baselines().bm_broken(2, 1, state) == broken


def test_the_naive_baseline_explores_BM_as_the_floor_does() -> None:
    b = _baselines()
    assert b.naive_transitions_bfs(2, 1) == b.minimal_bfs(2, 1)[:2] == b.minimal_bfs(2, 1, invariants=False)[:2]


def test_bench_state_does_not_depend_on_request_order() -> None:
    """Copy ids are digests of (source, destination, ordinal): two orders reach one state."""
    model = CopyImageModel(bench_scenario(3, 2))
    init = model.init_states()[0]

    def copy(state, name):
        for action, nxt, _ in model.successors(state):
            if getattr(action, "index", None) == model._names[name]:
                return nxt
        raise AssertionError(name)

    assert copy(copy(init, "t1"), "t2") == copy(copy(init, "t2"), "t1")
