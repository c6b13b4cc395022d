"""Running a scenario's ``steps`` through a ``Cloud``: calls, time, and expectations.

After every step the invariants I1-I9 are checked on the world; a step's
``expect`` compares fields of its answer, ``expect_status`` the status of
images by ref. The result is a transcript a person can read and a list of
failures a test can assert on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from .cloud import Cloud
from .scenario import Scenario, line_of, map_refs

__all__ = ["SimulationResult", "simulate", "resolve"]


@dataclass
class SimulationResult:
    scenario: str
    cloud: Cloud
    transcript: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    steps: int = 0

    @property
    def ok(self) -> bool:
        return not self.failures


def _lookup(answer: Any, path: list[str]) -> Any:
    for part in path:
        if isinstance(answer, Mapping) and part in answer:
            answer = answer[part]
        elif isinstance(answer, list) and part.isdigit() and int(part) < len(answer):
            answer = answer[int(part)]
        else:
            raise KeyError(part)
    return answer


def resolve(value: Any, scenario: Scenario, answers: Mapping[str, Mapping[str, Any]], where: tuple) -> Any:
    """Replace ``$ref`` / ``$step.Field.Path`` strings by ids or answer fields (``scenario.map_refs``)."""

    def lookup(name: str, path: list[str], parent: Any, key: Any) -> Any:
        at = (parent, key) if parent is not None else where
        text = "$" + ".".join([name, *path])
        if name in answers:
            try:
                return _lookup(answers[name], path or ["ImageId"])
            except KeyError:
                raise scenario.error(*at, f"{text}: the answer of step `{name}` has no field "
                                          f"{'.'.join(path) or 'ImageId'}",
                                     f"the answer was {dict(answers[name])}") from None
        if name in scenario.refs and not path:
            return scenario.refs[name]
        known = sorted(set(scenario.refs) | set(answers))
        raise scenario.error(*at, f"unknown reference {text}",
                             f"refer to an image ref or an earlier named step: {', '.join(known) or '(none yet)'}")

    return map_refs(value, lookup, *where)


def simulate(scenario: Scenario) -> SimulationResult:
    """Run the scenario's steps; raises ScenarioError for a reference that does not resolve."""
    cloud = Cloud(scenario)
    result = SimulationResult(scenario.name, cloud)
    answers: dict[str, Mapping[str, Any]] = {}
    say = result.transcript.append
    for index, step in enumerate(scenario.steps, 1):
        result.steps += 1
        at = f"step {index} (line {line_of(step)})" if line_of(step) else f"step {index}"
        if "call" in step:
            params = resolve(step.get("params") or {}, scenario, answers, (step, "params"))
            answer = cloud.call(step["call"], params, caller=step.get("as"))
            if "name" in step:
                answers[str(step["name"])] = answer
            shown = answer.get("Code") or ("ImageId=" + answer["ImageId"] if "ImageId" in answer else "OK")
            say(f"t={cloud.now:>7g}s  {step['call']}({_short(params)}) -> {shown}")
            for key, want in (step.get("expect") or {}).items():
                got = answer.get("Code") is None if key == "ok" else answer.get(key)
                if got != want:
                    result.failures.append(f"{at}: expected {key}={want!r}, got {got!r} in {answer}")
        elif "advance" in step:
            cloud.advance(float(step["advance"]))
            say(f"t={cloud.now:>7g}s  (advanced {step['advance']}s)")
        elif "run_until_idle" in step:
            took = cloud.run_until_idle()
            say(f"t={cloud.now:>7g}s  (idle after {took:g}s)")
        elif "fail" in step:
            image_id = resolve(step["fail"], scenario, answers, (step, "fail"))
            failed = cloud.fail_copy(image_id)
            say(f"t={cloud.now:>7g}s  service fails {image_id}: {'CreateFailed' if failed else 'not running'}")
        elif "expect_status" in step:
            for ref, want in step["expect_status"].items():
                image_id = resolve(f"${ref}", scenario, answers, (step["expect_status"], ref))
                got = cloud.status(image_id)
                if (got or "absent") != want:
                    result.failures.append(f"{at}: expected {ref} to be {want}, it is {got or 'absent'}")
        elif "expect_invariants" in step:
            pass  # checked after every step below
        broken = cloud.violations()
        if broken:
            result.failures.extend(f"{at}: {rule} broken: {why}" for rule, why in broken.items())
    return result


def _short(params: Mapping[str, Any]) -> str:
    text = ", ".join(f"{k}={v}" for k, v in params.items() if k not in ("RegionId",))
    return text if len(text) < 90 else text[:87] + "..."

