"""check(..., workers=N): a BFS over forked processes gives what one process gives.

The store is sharded by fingerprint (model/check/parallel_bfs.py). These tests
hold it to the one-process BFS over the compact store: the same states,
transitions, depth histogram, terminal states, coverage and verdicts, and
counterexamples of the same (shortest) length that replay.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from model.check import Model, Property, check
from model.check.bench import bench_scenario
from model.check.ecs import CopyImageModel, read_explore
from model.check.model import Expectation
from model.check.scenarios import check_scenario
from model.scenario import ScenarioError, load_scenario
from model.semantics.world import ImageSpec

BUGS = sorted((Path(__file__).parent.parent / "scenarios" / "bugs").glob("*.yaml"))


def _facts(result) -> tuple:  # type: ignore[no-untyped-def]
    s = result.stats
    return (s.states, s.transitions, s.max_depth, s.terminal_states, result.depth_histogram,
            dict(result.coverage), {n: p.verdict for n, p in result.properties.items()})


@pytest.mark.parametrize("flat", [True, False], ids=["flat", "worlds"])
@pytest.mark.parametrize("workers", [2, 3])
def test_bench_model_explores_the_same_on_several_processes(workers: int, flat: bool) -> None:
    # Flat states are numbered per process: they are known by Model.fingerprint and shipped as log entries.
    one = check(CopyImageModel(bench_scenario(4, 2)), store="compact")
    many = check(CopyImageModel(bench_scenario(4, 2), flat=flat), store="compact", workers=workers)
    assert _facts(many) == _facts(one)
    assert (many.stats.states, many.stats.transitions, many.stats.max_depth) == (14_732, 59_192, 16)
    assert many.exhaustive and not many.warnings[:-1]  # only the fingerprint note


@pytest.mark.parametrize("flat", [True, False], ids=["flat", "worlds"])
@pytest.mark.parametrize("path", BUGS, ids=lambda p: p.stem)
def test_seeded_bugs_are_found_with_a_shortest_counterexample(path: Path, flat: bool) -> None:
    scenario = load_scenario(path)
    one = check(CopyImageModel(scenario), store="compact")
    model = CopyImageModel(load_scenario(path), flat=flat)
    many = check(model, store="compact", workers=2)
    conditions = {p.name: p.condition for p in model.properties()}
    for name, p in one.properties.items():
        if p.expectation is Expectation.EVENTUALLY:
            continue  # liveness needs the full store's graph, in either mode
        q = many.properties[name]
        assert q.verdict == p.verdict, name
        if p.path is not None:
            # The same (shortest) length, rebuilt from the workers' parent pointers, ending where it should.
            assert len(q.path) == len(p.path), name
            last = q.path.steps[-1].state if q.path.steps else q.path.init
            holds_there = conditions[name](last)
            assert holds_there if p.expectation is Expectation.SOMETIMES else not holds_there


class Counter2(Model):
    """A model without pack(): its states travel between processes pickled."""

    def __init__(self, bad: tuple[int, int] = (9, 9)) -> None:
        self.bad = bad

    def init_states(self):  # type: ignore[no-untyped-def]
        return [(0, 0)]

    def successors(self, s):  # type: ignore[no-untyped-def]
        x, y = s
        yield "x", ((x + 1) % 7, y), "ok"
        yield "y", (x, min(y + 1, 5)), "ok" if y < 5 else "full"
        yield "swap", (y % 7, x % 6), "ok"

    def properties(self):  # type: ignore[no-untyped-def]
        return [Property.always("not-bad", lambda s: s != self.bad), Property.sometimes("three", lambda s: s == (3, 3))]


def test_a_model_without_pack_travels_pickled() -> None:
    one = check(Counter2(), store="compact")
    many = check(Counter2(), store="compact", workers=2)
    assert many.exhaustive and _facts(many) == _facts(one)
    assert many["not-bad"].holds and many["three"].holds


def test_every_property_decided_stops_after_the_level() -> None:
    # One process stops in the middle of a level, several at its end: the same verdicts and lengths.
    one = check(Counter2(bad=(6, 5)), store="compact")
    many = check(Counter2(bad=(6, 5)), store="compact", workers=2)
    assert one.stopped_early
    assert many["not-bad"].violated and len(many["not-bad"].path) == len(one["not-bad"].path)
    assert many["not-bad"].path.steps[-1].state == (6, 5)
    assert many.stats.states >= one.stats.states


def test_bounds_are_honoured_between_levels() -> None:
    deep = check(CopyImageModel(bench_scenario(4, 2)), store="compact", workers=2, max_depth=5)
    one = check(CopyImageModel(bench_scenario(4, 2)), store="compact", max_depth=5)
    assert deep.bounds_hit == ("max_depth",) and deep.depth_histogram == one.depth_histogram
    assert deep.properties["I2"].verdict == "unknown"
    few = check(CopyImageModel(bench_scenario(4, 2)), store="compact", workers=2, max_states=100)
    assert few.bounds_hit == ("max_states",) and 100 <= few.stats.states < 14_732


def test_the_workers_keep_the_parent_pointers_and_a_trace_still_comes_back_after_ctrl_c() -> None:
    # This process keeps only counts; the traces' pointers are fetched from the workers at the end,
    # also when the run is interrupted (here: Ctrl-C raised from the progress report after level 6).
    model = CopyImageModel(bench_scenario(4, 2))
    model.add_property(Property.always("one-running", lambda s: all(len(q.running) <= 1 for q in s.world.queues)))
    levels = []

    def progress(stats) -> None:  # type: ignore[no-untyped-def]
        levels.append(stats.depth)
        if len(levels) == 6:
            raise KeyboardInterrupt

    r = check(model, store="compact", workers=2, progress=progress)
    assert r.interrupted and not r.exhaustive and r.stats.states < 14_732
    assert r["one-running"].violated and len(r["one-running"].path) == 2  # rebuilt from the workers' pointers
    assert sum(len(q.running) for q in r["one-running"].path.last.world.queues) == 2
    assert r.depth_histogram == check(CopyImageModel(bench_scenario(4, 2)), store="compact",
                                      max_depth=6).depth_histogram
    # The store counts every state, and what the workers' shards take.
    done = check(CopyImageModel(bench_scenario(4, 2)), store="compact", workers=2)
    assert done.stats.states == 14_732 and done.stats.store_bytes > 14_732 * 32


def test_a_reply_left_unread_by_ctrl_c_is_dropped_before_the_next_job() -> None:
    from model.check.parallel_bfs import _ask

    class Conn:
        def __init__(self, replies: list) -> None:
            self.replies, self.sent = replies, []

        def send(self, job) -> None:  # type: ignore[no-untyped-def]
            self.sent.append(job)

        def recv(self):  # type: ignore[no-untyped-def]
            return self.replies.pop(0)

    a, b = Conn([{"new": 1}, {"parents": ["a"]}]), Conn([{"parents": ["b"]}])
    owed = [1, 0]  # a's answer to the last level was never read
    assert _ask([(a, None), (b, None)], [("parents", [1]), ("parents", [2])], owed) == [
        {"parents": ["a"]}, {"parents": ["b"]}]
    assert owed == [0, 0]


class Broken(Counter2):
    def successors(self, s):  # type: ignore[no-untyped-def]
        if s == (2, 0):
            raise ZeroDivisionError("the model broke on (2, 0)")
        return super().successors(s)


def test_a_worker_failure_is_reported_with_its_traceback() -> None:
    with pytest.raises(RuntimeError, match="(?s)worker of the parallel search failed.*the model broke on"):
        check(Broken(), store="compact", workers=2)


def test_workers_need_bfs_over_the_compact_store() -> None:
    with pytest.raises(ValueError, match="store='compact'"):
        check(Counter2(), workers=2)
    with pytest.raises(ValueError, match="strategy='bfs'"):
        check(Counter2(), store="compact", strategy="dfs", workers=2)
    with pytest.raises(ValueError, match="positive int"):
        check(Counter2(), store="compact", workers=0)


def test_scenario_workers_key_is_checked_with_its_line() -> None:
    raw = bench_scenario(3, 2)
    raw["explore"]["workers"] = 2  # a full store: not allowed
    with pytest.raises(ScenarioError, match="store: compact"):
        read_explore(load_scenario(raw))
    raw["explore"]["workers"] = "two"
    with pytest.raises(ScenarioError, match="positive integer"):
        read_explore(load_scenario(raw))


def test_check_scenario_runs_workers_only_where_they_apply() -> None:
    raw = bench_scenario(3, 2)
    full = check_scenario(load_scenario(raw), workers=2)  # a full-store scenario: one process, liveness kept
    assert full.ok and full.result.store == "full"
    raw["explore"]["store"] = "compact"
    raw["explore"]["workers"] = 2
    par = check_scenario(load_scenario(raw))
    assert par.ok and par.result.stats.states == 1_333
    assert not any("cannot fork" in w for w in par.result.warnings)


def test_a_scenario_asking_for_workers_runs_in_one_process_where_nothing_forks(monkeypatch) -> None:
    # ``workers`` says how to run, not what to check: on Windows the scenario still passes, and says why it was slow.
    import multiprocessing

    raw = bench_scenario(3, 2)
    raw["explore"]["store"] = "compact"
    raw["explore"]["workers"] = 2
    monkeypatch.setattr(multiprocessing, "get_all_start_methods", lambda: ["spawn"])
    got = check_scenario(load_scenario(raw))
    assert got.ok and got.result.stats.states == 1_333
    assert any("cannot fork" in w for w in got.result.warnings)
    with pytest.raises(ValueError, match="fork"):  # the Python API, asked directly, still says it cannot
        check(CopyImageModel(load_scenario(raw)), store="compact", workers=2)


def test_image_specs_hash_by_value_and_compare_by_identity() -> None:
    # Fingerprints must agree between processes, so a spec's hash may not come from its address.
    a, b = ImageSpec(name="web", size=20), ImageSpec(name="web", size=20)
    assert hash(a) == hash(b) and a != b and a == a
    assert hash(ImageSpec(name="web", size=21)) != hash(a)


class Numbered(Counter2):
    """States hashed by numbers this process gave: no fingerprint the processes would agree on."""

    fingerprints_portable = False


def test_a_model_whose_fingerprints_differ_between_processes_is_refused_with_the_fix() -> None:
    with pytest.raises(ValueError, match="fingerprint\\(state\\) that every process computes alike"):
        check(Numbered(), store="compact", workers=2)
    assert check(Numbered(), store="compact").exhaustive
