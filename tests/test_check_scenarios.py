"""Every scenario in scenarios/ is a regression test: its expectations hold (I1-I9, L1, error rows).

The two large benchmark scenarios are left to ``make check`` and
benchmarks/explore.py; everything else runs here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from model.check.scenarios import check_scenario, reachable_errors
from model.scenario import load_scenario

ROOT = Path(__file__).parent.parent / "scenarios"
LARGE = {"bm-5-3.yaml", "bm-6-5.yaml"}
SCENARIOS = sorted(p for p in ROOT.rglob("*.yaml") if p.name not in LARGE)


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: str(p.relative_to(ROOT)))
def test_scenario_expectations_hold(path: Path) -> None:
    outcome = check_scenario(load_scenario(path))
    assert outcome.ok, outcome.report()


def test_at_least_twelve_explored_scenarios_outside_bugs_and_bench() -> None:
    explored = [p for p in ROOT.glob("*.yaml") if load_scenario(p).explore is not None]
    assert len(explored) >= 12


def test_I1_delete_never_removes_a_copy_in_progress_in_any_interleaving() -> None:
    outcome = check_scenario(load_scenario(ROOT / "delete-while-copying.yaml"))
    assert outcome.result.properties["I1"].verdict == "holds"
    assert "OperationDenied.ImageCopying" in reachable_errors(outcome.result)


def test_A4_the_default_reading_keeps_the_source_of_a_copy_in_progress() -> None:
    """A4: delete-source-a4.yaml breaks A4 under the other reading; with the default options it holds."""
    raw = load_scenario(ROOT / "delete-source-a4.yaml").raw
    other = check_scenario(load_scenario(raw)).result
    assert other.properties["A4"].verdict == "violated" and len(other.properties["A4"].path.steps) == 2
    default = {**raw, "options": {}, "explore": {**raw["explore"], "expect": {}}}
    result = check_scenario(load_scenario(default)).result
    assert result.properties["A4"].verdict == "holds"
    assert "OperationDenied.ImageCopying" in reachable_errors(result)  # DeleteImage of the source, refused


def test_L1_every_copy_ends_under_fair_service_in_the_overflow_scenario() -> None:
    outcome = check_scenario(load_scenario(ROOT / "queue-overflow.yaml"))
    assert outcome.result.properties["L1"].verdict == "holds"
    assert outcome.result.properties["queue-used"].verdict == "holds"  # not vacuous: the queue was used


def test_expectations_can_fail_and_say_why() -> None:
    raw = load_scenario(ROOT / "duplicate-names.yaml").raw
    wrong = {**raw, "explore": {**raw["explore"], "expect": {"violated": {"I9": 2}, "states": 1,
                                                             "reachable_errors": ["Forbbiden"]}}}
    outcome = check_scenario(load_scenario(wrong))
    assert not outcome.ok
    text = "\n".join(outcome.failures)
    assert "I9 should be violated but is holds" in text
    assert "states: expected 1" in text
    assert "Forbbiden was never answered" in text


def test_user_invariant_from_python() -> None:
    """A user's own predicate on the world, checked like the built-in invariants."""
    from model.check import Property

    never_two_running = Property.always("at most one running",
                                        lambda s: all(len(q.running) <= 1 for q in s.world.queues))
    outcome = check_scenario(load_scenario(ROOT / "queue-overflow.yaml"), extra_properties=[never_two_running])
    prop = outcome.result.properties["at most one running"]
    assert prop.verdict == "violated" and len(prop.path) == 2


def test_coverage_names_what_was_reached_and_what_never_was() -> None:
    from model.check.ecs import coverage

    outcome = check_scenario(load_scenario(ROOT / "cancel-copy.yaml"))
    cov = coverage(outcome.model, outcome.result)
    assert "Waiting -cancel-> Cancelled" in cov["lifecycle_transitions"]
    assert "Available -delete-> Deleted" in cov["lifecycle_transitions_never"]  # the scenario never deletes
    assert cov["error_codes_answered"] == ["IncorrectImageStatus", "InvalidImageId.NotFound"]
    assert "OperationDenied.ImageCopying" in cov["error_codes_never_answered"]
    assert cov["requests_never_changed_the_world"] == []


def test_service_events_are_distinct_actions_for_fairness_and_counts() -> None:
    """Complete(x), Fail(x), Start(x) must differ: liveness (L1) treats each as its own fair action."""
    from model.semantics.events import Complete, Fail, Start

    assert len({Complete("m-x"), Fail("m-x"), Start("m-x")}) == 3
    outcome = check_scenario(load_scenario(ROOT / "failure-then-retry.yaml"))
    counts = outcome.result.action_counts
    assert counts["Complete"] > 0 and counts["Fail"] > 0


def test_explored_reference_with_a_field_path_is_refused_with_the_fix(tmp_path) -> None:
    """The explorer binds only ImageIds; `$c1.Field` must not silently become the ImageId."""
    from model.scenario import ScenarioError

    raw = load_scenario(ROOT / "cancel-copy.yaml").raw
    requests = [dict(r) for r in raw["explore"]["requests"]]
    requests[2] = {**requests[2], "params": {"RegionId": "cn-shanghai", "ImageId": "$x1.RequestId"}}
    bad = {**raw, "steps": [], "explore": {**raw["explore"], "requests": requests}}
    try:
        check_scenario(load_scenario(bad))
    except ScenarioError as exc:
        assert "$x1.RequestId" in str(exc) and "ImageId" in str(exc)
    else:
        raise AssertionError("a field path in an explored reference was accepted")
