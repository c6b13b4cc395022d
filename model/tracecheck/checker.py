"""Replaying a trace through the model, or searching the timings of service events that explain it.

The checker keeps a set of *candidates*: (world, id map) pairs the trace so far
could have led to. Everything happens through ``step``:

* **replay** (the trace records service events, as the server and ``Cloud`` do):
  each call and each event is applied in order; there is one candidate.
* **search** (a trace recorded elsewhere, which cannot know when the service
  started, completed or failed a copy): before each call every candidate is
  extended by any sequence of enabled service events (a breadth-first closure
  over ``enabled_events``/``step``, deduplicated; events only move copies
  forward, so it is finite), then the call is applied and the candidates whose
  answer matches the recorded one survive.

A recorded ``InternalError`` may also be explained as a service fault (the
model's ``Fault`` event: E18, nothing changes). After every step the
invariants I1-I9 are checked; in search mode a violation is reported when
every surviving candidate breaks it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from ..scenario import DEFAULT_SCENARIO, Scenario, load_scenario
from ..semantics.events import Complete, Fail, Fault, Start, enabled_events
from ..semantics.invariants import violations
from ..semantics.requests import ACTIONS, parse
from ..semantics.step import step
from ..semantics.world import World
from .answers import IdMap, answer_key, compare, distance, model_summary, recorded_summary, request_summary, translate_params
from .records import Call, EventRecord, Reset, Trace

__all__ = ["check_trace", "records_events", "TraceReport", "Mismatch", "Violation", "DEFAULT_MAX_CANDIDATES"]

DEFAULT_MAX_CANDIDATES = 100_000
_EVENTS = {"Start": Start, "Complete": Complete, "Fail": Fail}
_MAX_ALTERNATIVES = 5


@dataclass
class Mismatch:
    """The first record the model cannot explain."""

    line: int
    step: int  # the record's number among the trace's records (1-based)
    kind: str  # "answer" | "event" | "limit"
    what: str  # one sentence
    request: str  # the request (or event) as one line
    recorded: str  # the recorded answer as one line ("" for an event)
    expected: list[dict[str, Any]] = field(default_factory=list)  # {"answer", "why", "worlds"}
    candidates: int = 0  # how many candidate worlds were tried

    def to_json(self) -> dict[str, Any]:
        return {"line": self.line, "step": self.step, "kind": self.kind, "what": self.what, "request": self.request,
                "recorded": self.recorded, "expected": self.expected, "candidates": self.candidates}


@dataclass
class Violation:
    """An invariant broken after a step (in search mode: broken in every explanation)."""

    line: int
    step: int
    rule: str
    message: str
    steps: int = 1  # after how many steps it was found broken

    def to_json(self) -> dict[str, Any]:
        return {"line": self.line, "step": self.step, "rule": self.rule, "message": self.message, "steps": self.steps}


@dataclass
class TraceReport:
    """What ``check_trace`` found. ``ok``: every answer explained and every invariant held."""

    source: str
    shape: str
    mode: str  # "replay" | "search"
    scenario: str
    records: int = 0
    calls: int = 0
    events: int = 0
    faults: int = 0
    resets: int = 0
    ignored_events: int = 0
    skipped: list[tuple[int, str]] = field(default_factory=list)
    peak_candidates: int = 0
    final_candidates: int = 0
    renamed_ids: int = 0
    mismatch: Mismatch | None = None
    violations: list[Violation] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.mismatch is None and not self.violations

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok, "file": self.source, "shape": self.shape, "mode": self.mode, "scenario": self.scenario,
            "records": self.records, "calls": self.calls, "events": self.events, "faults": self.faults,
            "resets": self.resets, "ignored_events": self.ignored_events,
            "skipped": [{"line": line, "why": why} for line, why in self.skipped],
            "peak_candidates": self.peak_candidates, "final_candidates": self.final_candidates,
            "renamed_ids": self.renamed_ids,
            "mismatch": None if self.mismatch is None else self.mismatch.to_json(),
            "violations": [v.to_json() for v in self.violations],
        }

    def text(self) -> str:
        how = ("replayed with its recorded service events" if self.mode == "replay"
               else "service-event timings searched")
        counts = f"{_plural(self.calls, 'call')}, {_plural(self.events, 'event')}"
        if self.faults:
            counts += f", {self.faults} InternalError answer{'s' if self.faults != 1 else ''} explained as service faults"
        if self.mode == "search":
            counts += f"; at most {_plural(self.peak_candidates, 'candidate world')}"
            if self.ok:
                counts += f", {self.final_candidates} at the end"
        lines: list[str] = []
        if self.ok:
            lines.append(f"OK {self.source}: the model explains the trace ({counts}; {how}; "
                         f"scenario {self.scenario}); invariants I1-I9 hold after every step")
        else:
            lines.append(f"FAIL {self.source} ({how}; scenario {self.scenario})")
            m = self.mismatch
            if m is not None:
                lines.append(f"  line {m.line} (record {m.step}): {m.what}")
                lines.append(f"    request:  {m.request}")
                if m.recorded:
                    lines.append(f"    recorded: {m.recorded}")
                if len(m.expected) == 1 and self.mode == "replay":
                    e = m.expected[0]
                    lines.append(f"    model:    {e['answer']}")
                    if e.get("why"):
                        lines.append(f"    why:      {e['why']}")
                elif m.expected:
                    lines.append(f"    the model could answer (over {_plural(m.candidates, 'candidate world')}):")
                    for e in m.expected:
                        lines.append(f"      - {e['answer']}   [{_plural(e['worlds'], 'world')}]")
                        if e.get("why"):
                            lines.append(f"        why not: {e['why']}")
                lines.append(f"  explained before it: {counts}")
            for v in self.violations:
                extra = f" (broken for {v.steps} steps)" if v.steps > 1 else ""
                lines.append(f"  line {v.line} (record {v.step}): invariant {v.rule} broken: {v.message}{extra}")
        if self.ignored_events:
            lines.append(f"  note: {self.ignored_events} recorded events ignored (--search-events)")
        if self.skipped:
            shown = "; ".join(f"line {line}: {why}" for line, why in self.skipped[:3])
            more = f"; and {len(self.skipped) - 3} more" if len(self.skipped) > 3 else ""
            lines.append(f"  note: {len(self.skipped)} records not replayed ({shown}{more})")
        return "\n".join(lines)


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


class _TooMany(Exception):
    def __init__(self, count: int) -> None:
        self.count = count


class _Checker:
    def __init__(self, trace: Trace, scenario: Scenario, *, search: bool, max_candidates: int,
                 allow_faults: bool, skip_actions: frozenset[str]) -> None:
        self.trace = trace
        self.scenario = scenario
        self.search = search
        self.max = max_candidates
        self.allow_faults = allow_faults
        self.skip_actions = skip_actions
        world = scenario.world
        self.initial = (world, IdMap.identity([im.image_id for im in world.images]
                                              + [i.instance_id for i in world.instances]))
        self.first_line: dict[str, int] = {}  # a trace ImageId -> the line whose CopyImage answered it first
        self._succ: dict[World, tuple[World, ...]] = {}
        self._viol: dict[World, dict[str, str]] = {}
        self.open: dict[str, Violation] = {}
        self.report = TraceReport(trace.source, trace.shape, "search" if search else "replay", scenario.name,
                                  skipped=list(trace.skipped))

    # --- service events -------------------------------------------------------------------

    def successors(self, world: World) -> tuple[World, ...]:
        out = self._succ.get(world)
        if out is None:
            nxt = []
            for event in enabled_events(world):  # the one place that says what can happen: no re-check
                nxt.append(step(world, event, 0.0)[0])
            out = tuple(nxt)
            if len(self._succ) > 4 * self.max:
                self._succ.clear()
            self._succ[world] = out
        return out

    def closure(self, cands: dict[tuple[World, IdMap], None]) -> dict[tuple[World, IdMap], None]:
        out = dict(cands)
        frontier = list(cands)
        while frontier:
            nxt = []
            for world, ids in frontier:
                for after in self.successors(world):
                    key = (after, ids)
                    if key not in out:
                        out[key] = None
                        nxt.append(key)
                        if len(out) > self.max:
                            raise _TooMany(len(out))
            frontier = nxt
        return out

    # --- invariants -----------------------------------------------------------------------

    def broken(self, world: World) -> dict[str, str]:
        v = self._viol.get(world)
        if v is None:
            if len(self._viol) > 4 * self.max:
                self._viol.clear()
            v = self._viol[world] = violations(world)
        return v

    def check_invariants(self, cands: Iterable[tuple[World, IdMap]], line: int, number: int) -> None:
        common: dict[str, str] | None = None
        fewest: dict[str, str] | None = None
        for world, _ in cands:
            v = self.broken(world)
            if not v:
                common = {}
                fewest = {}
                break
            common = dict(v) if common is None else {k: m for k, m in common.items() if k in v}
            if fewest is None or len(v) < len(fewest):
                fewest = v
        forced = common or fewest or {}
        for rule in list(self.open):
            if rule not in forced:
                del self.open[rule]
        for rule, message in sorted(forced.items()):
            if rule in self.open:
                self.open[rule].steps += 1
                continue
            if not common and self.search:
                message += " (every explanation breaks some invariant; this is one of them)"
            v = Violation(line, number, rule, message)
            self.open[rule] = v
            self.report.violations.append(v)

    # --- the run ----------------------------------------------------------------------------

    def run(self) -> TraceReport:
        report = self.report
        cands: dict[tuple[World, IdMap], None] = {self.initial: None}
        for number, rec in enumerate(self.trace.records, 1):
            if isinstance(rec, Reset):
                cands = {self.initial: None}
                report.resets += 1
                self.open.clear()
                self.first_line.clear()
                continue
            if isinstance(rec, EventRecord):
                if self.search:
                    report.ignored_events += 1
                    continue
                nxt = self.apply_event(rec, number, cands)
            else:
                if rec.action in self.skip_actions:
                    report.skipped.append((rec.line, f"{rec.action}: skipped (--skip-action)"))
                    continue
                nxt = self.apply_call(rec, number, cands)
            if nxt is None:
                break
            cands = nxt
            report.records += 1
            report.peak_candidates = max(report.peak_candidates, len(cands))
            self.check_invariants(cands, rec.line, number)
        if report.mismatch is None:
            report.final_candidates = len(cands)
            report.renamed_ids = min((len(ids.renamed()) for _, ids in cands), default=0)
        return report

    def apply_event(self, rec: EventRecord, number: int, cands: dict) -> dict | None:
        now = rec.t if rec.t is not None else 0.0
        out: dict[tuple[World, IdMap], None] = {}
        cls = _EVENTS[rec.event]
        states = []
        for world, ids in cands:
            mid = ids.to_model(rec.image_id)
            after, answer = step(world, cls(mid), now)
            if answer is not None:
                out[(after, ids)] = None
            else:
                task = world.task(mid)
                states.append("no such copy" if task is None else f"the copy is {task.state}")
        if out:
            self.report.events += 1
            return out
        why = "; ".join(sorted(set(states)))
        self.report.mismatch = Mismatch(
            rec.line, number, "event", f"the service event {rec.event} of {rec.image_id} cannot happen here",
            f"{rec.event} {rec.image_id}", "", [{"answer": "(not enabled)", "why": why, "worlds": len(cands)}],
            len(cands))
        return None

    def apply_call(self, rec: Call, number: int, cands: dict) -> dict | None:
        if self.search:
            try:
                cands = self.closure(cands)
            except _TooMany as too_many:
                self.report.mismatch = Mismatch(
                    rec.line, number, "limit",
                    f"gave up: the timings of service events before this call make more than {self.max} candidate "
                    f"worlds; raise --max-candidates, or record DescribeImages answers more often (each one "
                    f"pins the copies' statuses and prunes the timings)",
                    request_summary(rec), recorded_summary(rec), [], too_many.count)
                self.report.peak_candidates = max(self.report.peak_candidates, too_many.count)
                return None
            self.report.peak_candidates = max(self.report.peak_candidates, len(cands))
        now = 0.0 if self.search or rec.t is None else rec.t
        # Any recorded error may be a fault; compare() keeps only what the model's Fault answers (E18).
        fault = self.allow_faults and rec.is_error
        out: dict[tuple[World, IdMap], None] = {}
        faulted = False
        for ids, worlds in _by_ids(cands).items():
            request = parse(rec.action, translate_params(rec.action, rec.params, ids), rec.caller)
            actions = (request, Fault(request)) if fault else (request,)
            for world in worlds:
                for action in actions:
                    after, answer = step(world, action, now)
                    bound, _ = compare(rec.action, request, answer, rec, ids, world=world, now=now,
                                       exact_pages=not self.search, first_line=self.first_line, explain=False)
                    if bound is not None:
                        out[(after, bound)] = None
                        faulted = faulted or action is not request
        if out:
            self.report.calls += 1
            if faulted:
                self.report.faults += 1
            if rec.action == "CopyImage" and not rec.is_error:
                rid = rec.response.get("ImageId")
                if isinstance(rid, str):
                    self.first_line.setdefault(rid, rec.line)
            return out
        self.report.mismatch = self.explain(rec, number, cands, now)
        return None

    def explain(self, rec: Call, number: int, cands: dict, now: float) -> Mismatch:
        """The answers the model could have given instead (grouped), for the message."""
        groups: dict[Any, dict[str, Any]] = {}
        counts: Counter = Counter()
        for ids, worlds in _by_ids(cands).items():
            request = parse(rec.action, translate_params(rec.action, rec.params, ids), rec.caller)
            for world in worlds:
                _, answer = step(world, request, now)
                key = (answer_key(rec.action, answer), ids)
                counts[key] += 1
                if key not in groups:
                    _, why = compare(rec.action, request, answer, rec, ids, world=world, now=now,
                                     exact_pages=not self.search, first_line=self.first_line)
                    groups[key] = {"answer": model_summary(rec.action, answer, ids), "why": why,
                                   "distance": distance(rec.action, answer, rec, ids)}
        merged: dict[str, dict[str, Any]] = {}
        for key, info in groups.items():
            m = merged.setdefault(info["answer"], {"answer": info["answer"], "why": info["why"], "worlds": 0,
                                                   "distance": info["distance"]})
            m["worlds"] += counts[key]
        # The answers closest to the recorded one first: they say best what the trace gets wrong.
        expected = sorted(merged.values(), key=lambda e: (e.pop("distance"), -e["worlds"], e["answer"]))
        if len(expected) > _MAX_ALTERNATIVES:
            rest = sum(e["worlds"] for e in expected[_MAX_ALTERNATIVES:])
            expected = expected[:_MAX_ALTERNATIVES] + [
                {"answer": f"... {len(expected) - _MAX_ALTERNATIVES} other answers", "why": "", "worlds": rest}]
        if self.search:
            what = "no timing of service events explains this answer"
        else:
            what = "the model would not give this answer"
        if rec.action not in ACTIONS:
            what += f" (the model does not implement {rec.action}; --skip-action {rec.action} leaves it out)"
        elif not self.search and not any(isinstance(r, EventRecord) for r in self.trace.records):
            what += " (replayed with no service event at all: if the trace does not record the service's events, " \
                    "--search-events tries every timing)"
        return Mismatch(rec.line, number, "answer", what, request_summary(rec), recorded_summary(rec), expected,
                        len(cands))


def records_events(trace: Trace) -> bool:
    """Whether the trace says when the service's events happened (so it is replayed, not searched)."""
    return trace.shape in ("server", "cloud-list") or any(isinstance(r, EventRecord) for r in trace.records)


def _by_ids(cands: Iterable[tuple[World, IdMap]]) -> dict[IdMap, list[World]]:
    out: dict[IdMap, list[World]] = {}
    for world, ids in cands:
        out.setdefault(ids, []).append(world)
    return out


def check_trace(trace: Trace, scenario: Scenario | None = None, *, search_events: bool | None = None,
                max_candidates: int = DEFAULT_MAX_CANDIDATES, allow_faults: bool = True,
                skip_actions: Sequence[str] = ()) -> TraceReport:
    """Check ``trace`` against the model started from ``scenario`` (default: ``Cloud()``'s default world).

    ``search_events``: None picks the mode: replay when the trace records
    service events (it comes from the server or is a ``cloud.trace`` list,
    which record every event, or it holds event records), else search. True
    forces the search (recorded events are ignored); False forces replay (no
    service event happened but those recorded).
    """
    if scenario is None:
        scenario = load_scenario(DEFAULT_SCENARIO)
    if search_events is None:
        search_events = not records_events(trace)
    checker = _Checker(trace, scenario, search=bool(search_events), max_candidates=max_candidates,
                       allow_faults=allow_faults, skip_actions=frozenset(skip_actions))
    return checker.run()
