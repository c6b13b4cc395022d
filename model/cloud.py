"""``Cloud``: a simulated ECS account you call with the API's own names and answers.

A Cloud holds the current ``World`` and a service clock. ``call`` parses the
parameters, applies ``step`` and returns the API's JSON body (with a
deterministic RequestId); ``advance`` moves the clock and lets the service
start, finish or fail copies on time. Everything that happens is appended to
``trace`` (requests with their answers, and service events), which is plain
JSON.

    >>> cloud = Cloud()
    >>> src = cloud.call("DescribeImages", {"RegionId": "cn-hangzhou"})["Images"]["Image"][0]["ImageId"]
    >>> new = cloud.call("CopyImage", {"RegionId": "cn-hangzhou", "ImageId": src,
    ...                                "DestinationRegionId": "cn-shanghai"})["ImageId"]
    >>> cloud.status(new)
    'Creating'
"""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path
from typing import Any, Mapping

from .scenario import DEFAULT_SCENARIO, Scenario, load_scenario
from .semantics.errors import Refusal
from .semantics.events import Complete, Event, Fail, Fault, Start, enabled_events
from .semantics.invariants import violations
from .semantics.operations import copy_duration
from .semantics.requests import parse
from .semantics.step import action_name, render, step
from .semantics.world import World

__all__ = ["Cloud"]


def _jsonable(value: Any, depth: int = 0) -> Any:
    """A JSON-safe copy of request parameters (they may be anything a caller passed)."""
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            str(value)
        except ValueError:  # more digits than Python (and so json) will print
            return f"<int of {value.bit_length()} bits>"
        return value
    if isinstance(value, (str, float, bool)) or value is None:
        return value
    if depth > 20:
        return repr(value)
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v, depth + 1) for v in value]
    return repr(value)


class Cloud:
    """A simulated account: ``call`` the API, ``advance`` the service clock, read ``world`` and ``trace``."""

    def __init__(self, scenario: Scenario | None = None) -> None:
        self.scenario = scenario if scenario is not None else load_scenario(DEFAULT_SCENARIO)
        self.reset()

    @classmethod
    def from_scenario(cls, source: str | Path | Mapping[str, Any] | Scenario) -> "Cloud":
        """A Cloud whose world is built from a scenario file (YAML) or the same structure as a dict."""
        return cls(source if isinstance(source, Scenario) else load_scenario(source))

    def reset(self) -> None:
        """Back to the scenario's initial world, clock 0, empty trace."""
        self.world: World = self.scenario.world
        self.now: float = 0.0
        self.trace: list[dict[str, Any]] = []
        self._requests = 0
        self._faults: list[str | None] = []
        self._rng = random.Random(self.scenario.setting.seed)
        # Where starting a queued copy is a service event of its own (start_as_event, queue_order=any),
        # the simulated service takes it at once; a replay of an explored trace turns this off and
        # applies the recorded Start events itself.
        self.auto_start = True

    # --- requests ------------------------------------------------------------------------

    @property
    def setting(self):  # type: ignore[no-untyped-def]
        return self.world.setting

    def refs(self) -> dict[str, str]:
        """The scenario's image refs (names) and their image ids."""
        return dict(self.scenario.refs)

    def access_keys(self) -> dict[str, tuple[str, str | None]]:
        """AccessKeyId -> (AccessKeySecret, caller) for the server; a default pair if the scenario has none."""
        return dict(self.scenario.access_keys)

    def next_request_id(self) -> str:
        """A RequestId like the service's: the same for the same seed and call sequence."""
        self._requests += 1
        hexed = hashlib.blake2b(f"{self.scenario.setting.seed}|request|{self._requests}".encode(),
                                digest_size=16).hexdigest().upper()
        return f"{hexed[:8]}-{hexed[8:12]}-{hexed[12:16]}-{hexed[16:20]}-{hexed[20:32]}"

    def inject_fault(self, action: str | None = None, times: int = 1) -> None:
        """The next ``times`` calls (of ``action``, or any) answer InternalError (E18) and change nothing."""
        self._faults.extend([action] * times)

    def call(self, action: str, params: Mapping[str, Any] | None = None, *, caller: str | None = None) -> dict:
        """Call an API action with the API's parameter names; returns its JSON body. Never raises."""
        if caller is not None and not isinstance(caller, str):
            caller = repr(caller)
        request = parse(action, {} if params is None else params, caller)
        name = action_name(request)
        if self._faults and self._faults[0] in (None, name):
            self._faults.pop(0)
            request = Fault(request)
        self._start_queued()
        self.world, answer = step(self.world, request, self.now)
        self._start_queued()
        body = render(answer, self.next_request_id())
        self.trace.append({
            "kind": "call", "t": self.now, "action": name if isinstance(action, str) else repr(action),
            "params": _jsonable(params), "caller": caller,
            "status": answer.status if isinstance(answer, Refusal) else 200, "response": _jsonable(body),
        })
        return body

    # --- service time --------------------------------------------------------------------

    def _record(self, event: Event) -> None:
        self.world, answer = step(self.world, event, self.now)
        if answer is not None:
            self.trace.append({"kind": "event", "t": self.now, "event": type(event).__name__,
                               "ImageId": event.image_id})  # type: ignore[union-attr]

    def _start_queued(self) -> None:
        """Where starting is a separate event, the simulated service takes it at once (FIFO head first)."""
        while self.auto_start:
            starts = [e for e in enabled_events(self.world) if type(e) is Start]
            if not starts:
                return
            self._record(starts[0])

    def _next_finish(self) -> tuple[float, str] | None:
        best: tuple[float, str] | None = None
        for q in self.world.queues:
            for image_id in q.running:
                task = self.world.task(image_id)
                image = self.world.image(image_id)
                if task is None:
                    continue
                size = image.spec.size if image is not None else 1
                at = task.started_at + copy_duration(self.world, size)
                if best is None or (at, image_id) < best:
                    best = (at, image_id)
        return best

    def advance(self, seconds: float) -> None:
        """Let ``seconds`` of service time pass: running copies finish (or fail) on time, queued ones start."""
        if not seconds >= 0:
            raise ValueError(f"advance() needs seconds >= 0, got {seconds!r}")
        target = self.now + seconds
        while True:
            self._start_queued()
            nxt = self._next_finish()
            if nxt is None or nxt[0] > target:
                break
            self.now = max(self.now, nxt[0])
            fails = self.scenario.failure_rate > 0 and self._rng.random() < self.scenario.failure_rate
            self._record(Fail(nxt[1]) if fails else Complete(nxt[1]))
        self.now = target

    def run_until_idle(self, max_seconds: float = 10 ** 9) -> float:
        """Advance until no copy is running or queued (or ``max_seconds`` pass); returns the time it took."""
        begin = self.now
        while self.now - begin < max_seconds:
            self._start_queued()
            nxt = self._next_finish()
            if nxt is None:
                break
            self.advance(min(nxt[0], begin + max_seconds) - self.now)
        return self.now - begin

    def apply_event(self, event: str, image_id: str) -> bool:
        """Apply a service event now: ``"Complete"``, ``"Fail"`` or ``"Start"`` of ``image_id``.

        For replaying explored traces, where events happen at chosen moments
        rather than on the clock. Returns False when the event is not enabled.
        """
        kinds = {"Complete": Complete, "Fail": Fail, "Start": Start}
        if event not in kinds:
            raise ValueError(f"unknown service event {event!r}; use one of {', '.join(kinds)}")
        before = self.world
        self._record(kinds[event](image_id))
        self._start_queued()
        return self.world is not before

    def fail_copy(self, image_id: str) -> bool:
        """The service fails a running copy now (CreateFailed). False if it is not running."""
        before = self.world
        self._record(Fail(image_id))
        failed = self.world is not before
        self._start_queued()  # the freed slot goes to the queue at once, also where starting is an event
        return failed

    # --- reading the world ---------------------------------------------------------------

    def status(self, image_id: str) -> str | None:
        """The status DescribeImages would show for ``image_id`` (None when it does not exist)."""
        image = self.world.image(image_id)
        return None if image is None else image.status

    def violations(self, ids: tuple[str, ...] | None = None) -> dict[str, str]:
        """The invariants I1-I9 the current world breaks (empty when all hold), or those of ``ids`` (A4 too)."""
        return violations(self.world, ids)

    def trace_json(self) -> str:
        return json.dumps(self.trace, indent=1)

    def _repr_html_(self) -> str:
        from .viz.display import cloud_html

        return cloud_html(self)

    def __repr__(self) -> str:
        return f"Cloud(scenario={self.scenario.name!r}, t={self.now:g}s, {self.world!r})"

