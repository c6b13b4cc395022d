"""StepCache: step's answers reused by footprint must be exactly step's answers.

The explorer runs every transition through ``StepCache`` (semantics/footprint.py).
These tests hold it to ``step``: every scenario explored with the cache in
verify mode (each hit is recomputed by ``step`` and compared) gives the same
states, transitions, verdicts, coverage and counterexamples as without the
cache, and the recorder refuses to cache what it cannot see.
"""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from model.check import check
from model.check.bench import bench_scenario
from model.check.ecs import CopyImageModel
from model.scenario import load_scenario
from model.semantics.events import Complete
from model.semantics.footprint import StepCache
from model.semantics.requests import parse
from model.semantics.step import step
from model.semantics.world import ClientToken, World

ROOT = Path(__file__).parent.parent / "scenarios"
EXPLORED = sorted(p for p in [*ROOT.glob("*.yaml"), *(ROOT / "bugs").glob("*.yaml")]
                  if "explore" in load_scenario(p).raw)


def _summary(model: CopyImageModel) -> tuple:
    result = check(model)
    paths = {name: [str(s) for s in p.path.steps] if p.path is not None else None
             for name, p in result.properties.items()}
    verdicts = {name: p.verdict for name, p in result.properties.items()}
    s = result.stats
    return (s.states, s.transitions, s.max_depth, verdicts, dict(result.coverage), paths)


@pytest.mark.parametrize("path", EXPLORED, ids=lambda p: p.stem)
def test_every_scenario_explores_the_same_with_and_without_the_cache(path: Path) -> None:
    scenario = load_scenario(path)
    cache = StepCache(verify=True)
    cached = _summary(CopyImageModel(scenario, step_cache=cache, flat=False))  # test_flat.py holds flat states to this
    plain = _summary(CopyImageModel(load_scenario(path), step_cache=False))
    assert cached == plain
    assert cache.hits > 0 or cached[1] <= 1, "a scenario with transitions should reuse some answers"


def test_bench_model_counts_with_verified_cache() -> None:
    cache = StepCache(verify=True)
    result = check(CopyImageModel(bench_scenario(4, 2), step_cache=cache, flat=False))
    assert (result.stats.states, result.stats.transitions, result.stats.max_depth) == (14_732, 59_192, 16)
    stats = cache.stats()
    # Nearly every call is a hit: the footprints are small next to the worlds.
    assert stats["hits"] > 50 * stats["misses"]


SCENARIO = {
    "regions": ["S", "D"],
    "options": {"copy_limit": 1},
    "images": [{"name": "a", "region": "S"}, {"name": "b", "region": "S"}],
}


def _cloud_world_and_ids() -> tuple[World, str, str]:
    from model.cloud import Cloud

    cloud = Cloud.from_scenario(SCENARIO)
    ids = [cloud.scenario.refs[n] for n in ("a", "b")]
    return cloud.world, ids[0], ids[1]


def test_a_hit_applies_the_same_writes_to_another_world() -> None:
    world, a, b = _cloud_world_and_ids()
    cache = StepCache()
    copy_a = parse("CopyImage", {"RegionId": "S", "ImageId": a, "DestinationRegionId": "D"})
    copy_b = parse("CopyImage", {"RegionId": "S", "ImageId": b, "DestinationRegionId": "D"})
    w1, ans1 = cache(world, copy_a)
    assert (w1, ans1) == step(world, copy_a) and cache.misses == 1
    # N4: the second copy waits. Then complete the first: the queue head starts (I3).
    w2, ans2 = cache(w1, copy_b)
    assert (w2, ans2) == step(w1, copy_b)
    done = Complete(ans1["ImageId"])
    w3, _ = cache(w2, done)
    assert w3 == step(w2, done)[0]
    # The same Complete on a world where b was never copied reads different values: a miss, not a wrong hit.
    misses = cache.misses
    w4, _ = cache(w1, done)
    assert w4 == step(w1, done)[0] and cache.misses == misses + 1
    # And once recorded, both are hits.
    hits = cache.hits
    assert cache(w2, done)[0] == w3 and cache(w1, done)[0] == w4 and cache.hits == hits + 2


def test_a_recorded_step_leaves_no_cycle_for_the_collector() -> None:
    # Each learned step made a draft that pointed back at its recording: a cycle only the collector
    # frees, and in a first run of BM(3,2) it was the collection that ended ``check`` (docs/performance.md).
    world, a, _ = _cloud_world_and_ids()
    copy_a = parse("CopyImage", {"RegionId": "S", "ImageId": a, "DestinationRegionId": "D"})
    cache = StepCache()
    gc.collect()
    gc.disable()
    try:
        nxt, answer, reads, writes = cache.footprint(world, copy_a)
        assert writes and reads  # N1: accepted, so the step wrote through a draft
        del nxt, answer, reads, writes
        assert gc.collect() == 0
    finally:
        gc.enable()


def test_a_refusal_returns_the_very_same_world() -> None:
    world, a, _ = _cloud_world_and_ids()
    cache = StepCache()
    cancel = parse("CancelCopyImage", {"RegionId": "S", "ImageId": a})
    for _ in range(2):
        nxt, answer = cache(world, cancel)
        assert nxt is world and answer == step(world, cancel)[1]


def test_a_rule_that_scans_a_field_depends_on_all_of_it() -> None:
    # A step written against the raw field: the recorder logs the whole field, so worlds
    # that differ anywhere in it never share an answer.
    def count_tasks(world, action, now=0.0):  # type: ignore[no-untyped-def]
        return world, {"n": len(world.tasks)}

    world, a, b = _cloud_world_and_ids()
    w1, _ = step(world, parse("CopyImage", {"RegionId": "S", "ImageId": a, "DestinationRegionId": "D"}))
    cache = StepCache(count_tasks)
    marker = object()
    assert cache(world, marker)[1] == {"n": 0}
    assert cache(w1, marker)[1] == {"n": 1}
    assert cache.misses == 2


def test_a_world_changed_outside_the_draft_is_not_cached() -> None:
    # evolve() bypasses the recording Draft: the answer is right and never reused.
    def add_nothing(world, action, now=0.0):  # type: ignore[no-untyped-def]
        return world.evolve(tokens=()), {}

    world, _, _ = _cloud_world_and_ids()
    cache = StepCache(add_nothing)
    marker = object()
    for _ in range(3):
        nxt, _answer = cache(world, marker)
        assert type(nxt) is World and nxt == world
    assert cache.hits == 0


def test_a_draft_changed_behind_its_back_is_not_cached() -> None:
    def sneaky(world, action, now=0.0):  # type: ignore[no-untyped-def]
        draft = world.draft()
        draft.tasks = ()  # assigned, not put: the recorder cannot log it
        draft.put_token(ClientToken("t", (), "m-x"))
        return draft.done(), {}

    world, a, _ = _cloud_world_and_ids()
    w1, _ = step(world, parse("CopyImage", {"RegionId": "S", "ImageId": a, "DestinationRegionId": "D"}))
    cache = StepCache(sneaky)
    marker = object()
    for _ in range(2):
        nxt, _answer = cache(w1, marker)
        assert nxt.tasks == () and nxt.token("t") is not None
    assert cache.hits == 0


def test_a_step_that_is_not_a_function_of_the_world_is_reported() -> None:
    calls = []

    def flaky(world, action, now=0.0):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 1:
            world.token("t")
        else:
            world.task("m-x")  # a second run reads something else first, on its own whim
        return world, {}

    world, _, _ = _cloud_world_and_ids()
    with_token = world.evolve(tokens=(ClientToken("t", (), "m-x"),))
    cache = StepCache(flaky)
    marker = object()
    cache(world, marker)
    with pytest.raises(AssertionError, match="depend only on the world and the action"):
        cache(with_token, marker)


def test_other_clock_times_are_not_cached() -> None:
    world, a, _ = _cloud_world_and_ids()
    cache = StepCache()
    copy_a = parse("CopyImage", {"RegionId": "S", "ImageId": a, "DestinationRegionId": "D"})
    assert cache(world, copy_a, 12.5) == step(world, copy_a, 12.5)
    assert cache.misses == 0 and cache.hits == 0


def test_verify_mode_catches_a_wrong_answer() -> None:
    world, a, _ = _cloud_world_and_ids()
    cache = StepCache(verify=True)
    copy_a = parse("CopyImage", {"RegionId": "S", "ImageId": a, "DestinationRegionId": "D"})
    cache(world, copy_a)
    leaf_holder = cache._trees[id(copy_a)]
    # Corrupt the recorded answer: verify mode must notice on the next hit.
    stack = [leaf_holder]
    while stack:
        node = stack.pop()
        if type(node).__name__ == "_Leaf":
            node.answer = {"ImageId": "m-wrong"}
        else:
            stack.extend(node[2].values())
    with pytest.raises(AssertionError, match="StepCache answered"):
        cache(world, copy_a)


def test_every_query_of_a_world_is_one_the_recorder_logs() -> None:
    # A query missing from _Lookups' lists would read a recording Draft's fields unlogged,
    # so a cached answer could depend on records the cache never compared.
    from model.semantics.footprint import _RecordingDraft, _RecordingWorld
    from model.semantics.world import _Lookups

    declared = {*_Lookups.KEYED_QUERIES, *_Lookups.SCAN_QUERIES}
    defined = {n for n, v in vars(_Lookups).items() if callable(v) and not n.startswith("_")}
    assert defined == declared
    for name in declared:
        assert name in vars(_RecordingWorld) and name in vars(_RecordingDraft), name
