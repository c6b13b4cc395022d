"""Seeded bugs: each named option breaks one invariant; the checker must find it, and only then.

For every scenario in scenarios/bugs/, the checker reports the stated
property violated with a shortest counterexample of the stated length, the
counterexample replays through Cloud, and the same scenario with the bug
option off satisfies the property.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from model.check.replay import replay, trace_document
from model.check.scenarios import check_scenario
from model.scenario import load_scenario

BUGS = sorted((Path(__file__).parent.parent / "scenarios" / "bugs").glob("*.yaml"))
# The invariant each seeded bug must break (SPEC ids), so a scenario edit cannot quietly change it.
BROKEN = {
    "cancel-keeps-image": "I5", "delete-in-progress": "I1", "fail-loses-task": "I6", "freed-slot-idle": "I3",
    "ignore-client-token": "I7", "lifo-queue": "I4", "limit-counts-queued": "L1", "limit-off-by-one": "I2",
    "shared-cross-region": "I8", "skip-name-check": "I9",
}


def test_at_least_eight_seeded_bugs_each_named_and_off_by_default() -> None:
    from model.semantics.world import Options

    assert len(BUGS) >= 8
    assert {p.stem for p in BUGS} == set(BROKEN)
    defaults = Options()
    for path in BUGS:
        options = load_scenario(path).raw["options"]
        bugs = [k for k in options if k.startswith("bug_")]
        assert len(bugs) == 1, f"{path.name} must switch on exactly one seeded bug"
        assert getattr(defaults, bugs[0]) is False, f"{bugs[0]} must be off by default"


@pytest.mark.parametrize("path", BUGS, ids=lambda p: f"{BROKEN[p.stem]}-{p.stem}")
def test_checker_finds_seeded_bug_with_stated_length(path: Path) -> None:
    scenario = load_scenario(path)
    prop = BROKEN[path.stem]
    stated = scenario.explore["expect"]["violated"][prop]
    outcome = check_scenario(scenario)
    assert outcome.ok, outcome.report()
    found = outcome.result.properties[prop]
    assert found.verdict == "violated"
    assert isinstance(stated, int) and len(found.path) == stated
    doc = trace_document(outcome.model, found.path, prop)
    assert replay(doc).reproduced, f"the {prop} counterexample does not replay through Cloud"


@pytest.mark.parametrize("path", BUGS, ids=lambda p: f"{BROKEN[p.stem]}-{p.stem}")
def test_same_scenario_passes_with_the_bug_off(path: Path) -> None:
    raw = load_scenario(path).raw
    fixed = {**raw, "options": {k: (False if k.startswith("bug_") else v) for k, v in raw["options"].items()}}
    prop = BROKEN[path.stem]
    outcome = check_scenario(load_scenario(fixed))
    assert outcome.result.properties[prop].verdict == "holds", outcome.report()
