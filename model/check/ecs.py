"""The ECS copy semantics as a checkable ``Model``: a scenario's ``explore:`` section.

    explore:
      requests:                  # the finite alphabet of client requests
        - {name: c1, call: CopyImage, params: {RegionId: cn-hangzhou, ImageId: $web, DestinationRegionId: cn-shanghai}}
        - {call: CancelCopyImage, params: {RegionId: cn-shanghai, ImageId: $c1}, times: 1}
      events: [complete, fail]   # service events in play: complete, fail, start, fault
      properties: [I1, I2, I3, I6, L1]      # default: I1-I9 and L1; A4 (source kept) when named
      sometimes: [queue-used]    # reachability witnesses, so a pass is not vacuous
      bounds: {max_depth: 30, max_states: 200000, seconds: 60}
      strategy: bfs              # bfs (default), dfs or random
      store: full                # full (default; liveness, graph) or compact (fingerprints only)
      workers: 1                 # with bfs and store: compact, >1 runs on that many processes
      expect: {holds: [I1], violated: {I3: 4}, reachable_errors: [OperationDenied.ImageCopying]}

An explored state is the world plus, per request, how often it has changed
the world (``times`` bounds that) and the ImageId a named request answered
(later requests refer to it as ``$name``). A request whose reference is not
bound yet is not enabled. A request that changes nothing (refused, or a
ClientToken replay) is a self-loop: its answer counts for coverage but it
does not use up its ``times``, so refusals never split states.

Every transition goes through ``model.semantics.step``: this module decides
nothing about the API. The model keeps each state flat (a ``FlatState``
of interned slots, check/flat.py) and learns each request's transitions from
step once per footprint; ``flat=False`` keeps ``ExploreState``s of worlds.
Both have ``.world``, ``.used`` and ``.bound``, and explore the same, in one
process or several (``workers``: processes know a state by ``fingerprint``,
which does not depend on any process's numbering).
"""

from __future__ import annotations

import difflib
from array import array
from dataclasses import dataclass, field
from functools import cached_property
from operator import itemgetter
from typing import Any, Callable, Hashable, Iterable, Mapping, NamedTuple, Sequence

from ..scenario import Scenario, ScenarioError, line_of, load_scenario, map_refs, ref_names
from ..semantics.errors import Refusal
from ..semantics.events import Complete, Fail, Fault, Start, enabled_events
from ..semantics.footprint import StepCache
from ..semantics.invariants import ALWAYS, INVARIANTS, READINGS, copy_pending
from ..semantics.lifecycle import IN_PROGRESS, CopyState
from ..semantics.requests import ACTIONS, BadRequest, Request, parse
from ..semantics.step import action_name, step
from ..semantics.world import Image, World
from .flat import Codec, FlatMemos, FlatSuccessors
from .model import Model, Property, built_state
from .state import ExploreState

__all__ = ["ExploreState", "RequestAction", "CopyImageModel", "ExploreSpec", "SOMETIMES", "read_explore"]


class RequestAction(NamedTuple):
    """The alphabet's request number ``index``, with its parameters as sent (references filled in)."""

    index: int
    request: Request | BadRequest
    params: tuple[tuple[str, Any], ...] = ()

    @property
    def call(self) -> str:
        return action_name(self.request)

    def params_dict(self) -> dict[str, Any]:
        return {k: _thaw(v) for k, v in self.params}


def _freeze(value: Any) -> Any:
    if isinstance(value, Mapping):
        return tuple((k, _freeze(v)) for k, v in value.items())
    if isinstance(value, list):
        return ("__list__",) + tuple(_freeze(v) for v in value)
    return value


def _thaw(value: Any) -> Any:
    if isinstance(value, tuple) and value[:1] == ("__list__",):
        return [_thaw(v) for v in value[1:]]
    if isinstance(value, tuple):
        return {k: _thaw(v) for k, v in value}
    return value


# Built-in reachability witnesses for ``sometimes:`` (SPEC-free names, so users can read them).
SOMETIMES: dict[str, Callable[[World], bool]] = {
    "queue-used": lambda w: any(q.waiting for q in w.queues),
    "region-full": lambda w: any(len(q.running) >= w.setting.limit(q.region) for q in w.queues),
    "copy-available": lambda w: any(t.state == CopyState.AVAILABLE for t in w.tasks),
    "copy-failed": lambda w: any(t.state == CopyState.CREATE_FAILED for t in w.tasks),
    "copy-cancelled": lambda w: any(t.state == CopyState.CANCELLED for t in w.tasks),
    "copy-deleted": lambda w: any(t.state == CopyState.DELETED for t in w.tasks),
    "all-copies-ended": lambda w: bool(w.tasks) and not any(t.state in IN_PROGRESS for t in w.tasks),
}
EVENT_KINDS = ("complete", "fail", "start", "fault")
PROPERTY_IDS = tuple(INVARIANTS) + ("L1",)  # the default: every SPEC property
ALWAYS_IDS = PROPERTY_IDS + tuple(READINGS)  # what ``properties:`` may name: a reading's invariant (A4) too
_EVENT_TYPES = {"complete": Complete, "fail": Fail, "start": Start}


@dataclass
class RequestSpec:
    """One entry of the alphabet."""

    index: int
    call: str
    params: Mapping[str, Any]
    name: str | None = None
    times: int | None = 1  # None: unlimited
    caller: str | None = None
    refs: tuple[str, ...] = ()  # the named requests its parameters refer to


@dataclass
class ExploreSpec:
    """The explore section of a scenario, checked."""

    requests: list[RequestSpec]
    events: tuple[str, ...] = ("complete", "fail")
    properties: tuple[str, ...] = PROPERTY_IDS
    sometimes: tuple[str, ...] = ()
    bounds: dict[str, Any] = field(default_factory=dict)
    expect: dict[str, Any] = field(default_factory=dict)
    strategy: str = "bfs"
    store: str = "full"
    workers: int = 1  # >1: a parallel BFS (compact store only)


def _ref_paths(value: Any) -> list[str]:
    """The references that carry a field path (``$c1.Field``)."""
    found: list[str] = []
    map_refs(value, lambda name, path, parent, key: found.append(".".join([name, *path]) if path else ""))
    return found


def read_explore(scenario: Scenario) -> ExploreSpec | None:
    """The scenario's explore section, checked against the scenario (file, line and fix on error)."""
    raw = scenario.explore
    if raw is None:
        return None
    err = scenario.error
    allowed = ("requests", "events", "properties", "sometimes", "bounds", "expect", "strategy", "store", "workers")
    for key in raw:
        if key not in allowed:
            close = difflib.get_close_matches(str(key), allowed, n=1)
            raise err(raw, key, f"unknown key `{key}` in explore",
                      f"did you mean `{close[0]}`?" if close else f"use: {', '.join(allowed)}")
    items = raw.get("requests") or []
    if not isinstance(items, list) or not items:
        raise err(raw, "requests", "explore needs a non-empty list of `requests`",
                  "list the client requests the checker may interleave, e.g. `- {call: CopyImage, params: {...}}`")
    names: dict[str, int] = {}
    requests: list[RequestSpec] = []
    for i, item in enumerate(items):
        if not isinstance(item, Mapping):
            raise err(items, i, "a request must be a mapping", "write `- {call: CopyImage, params: {...}}`")
        for key in item:
            if key not in ("call", "params", "name", "times", "as"):
                raise err(item, key, f"unknown key `{key}` in a request", "use: call, params, name, times, as")
        call = item.get("call")
        if call not in ACTIONS:
            close = difflib.get_close_matches(str(call), ACTIONS, n=1)
            raise err(item, "call", f"unknown action `{call}`",
                      f"did you mean `{close[0]}`?" if close else f"use one of: {', '.join(ACTIONS)}")
        params = item.get("params") or {}
        if not isinstance(params, Mapping):
            raise err(item, "params", "params must be a mapping", "write `params: {RegionId: ..., ImageId: ...}`")
        times = item.get("times", 1)
        if times in ("unlimited", None):
            times = None
        elif isinstance(times, bool) or not isinstance(times, int) or times < 1:
            raise err(item, "times", f"times must be a positive whole number or `unlimited`, not {times!r}",
                      "write e.g. `times: 2`")
        refs = ref_names(params)
        paths = [p for p in _ref_paths(params) if p]
        if paths:
            raise err(item, "params", f"`${paths[0]}`: an explored request can refer only to an ImageId",
                      "write `$name` (the ImageId a named request answered, or an image ref)")
        for ref in sorted(refs):
            if ref not in names and ref not in scenario.refs:
                known = sorted(set(names) | set(scenario.refs))
                raise err(item, "params", f"unknown reference ${ref}",
                          f"refer to an image ref or an earlier named request: {', '.join(known) or '(none)'}")
        name = item.get("name")
        if name is not None:
            name = str(name)
            if name in names or name in scenario.refs:
                raise err(item, "name", f"the name `{name}` is already used", "give each request a distinct name")
            names[name] = i
        caller = item.get("as")
        requests.append(RequestSpec(i, call, params, name, times, None if caller is None else str(caller),
                                    tuple(sorted(r for r in refs if r in names))))

    def str_list(key: str, choices: Sequence[str], default: tuple[str, ...]) -> tuple[str, ...]:
        value = raw.get(key)
        if value is None:
            return default
        if not isinstance(value, list):
            raise err(raw, key, f"`{key}` must be a list", f"write `{key}: [{', '.join(choices[:3])}]`")
        out = []
        for j, v in enumerate(value):
            if v not in choices:
                close = difflib.get_close_matches(str(v), choices, n=1)
                raise err(value, j, f"unknown {key[:-1] if key.endswith('s') else key} `{v}`",
                          f"did you mean `{close[0]}`?" if close else f"use: {', '.join(choices)}")
            out.append(str(v))
        return tuple(out)

    events = str_list("events", EVENT_KINDS, ("complete", "fail"))
    properties = str_list("properties", ALWAYS_IDS, PROPERTY_IDS)
    sometimes = str_list("sometimes", tuple(SOMETIMES), ())
    bounds = dict(raw.get("bounds") or {})
    for key, value in bounds.items():
        if key not in ("max_depth", "max_states", "seconds"):
            raise err(raw["bounds"], key, f"unknown bound `{key}`", "use: max_depth, max_states, seconds")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise err(raw["bounds"], key, f"bound `{key}` must be a positive number", f"write e.g. `{key}: 100`")
    expect = dict(raw.get("expect") or {})
    for key in expect:
        if key not in ("holds", "violated", "reachable_errors", "unreachable_errors", "states", "transitions",
                       "max_depth"):
            raise err(raw["expect"], key, f"unknown expectation `{key}`",
                      "use: holds, violated, reachable_errors, unreachable_errors, states, transitions, max_depth")
    violated = expect.get("violated") or {}
    if not isinstance(violated, Mapping):
        raise err(raw["expect"], "violated", "`violated` maps property ids to counterexample lengths",
                  "write `violated: {I1: 4}` (or `{I1: any}`)")
    for pid in list(expect.get("holds") or []) + list(violated):
        if pid not in ALWAYS_IDS and pid not in SOMETIMES:
            raise err(raw["expect"], "holds" if pid not in violated else "violated", f"unknown property `{pid}`",
                      f"use one of: {', '.join(ALWAYS_IDS + tuple(SOMETIMES))}")
    strategy = str(raw.get("strategy", "bfs"))
    store = str(raw.get("store", "full"))
    if strategy not in ("bfs", "dfs", "random"):
        raise err(raw, "strategy", f"unknown strategy `{strategy}`", "use bfs, dfs or random")
    if store not in ("full", "compact"):
        raise err(raw, "store", f"unknown store `{store}`", "use full or compact")
    workers = raw.get("workers", 1)
    if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
        raise err(raw, "workers", f"`workers: {workers}` is not a number of processes", "write a positive integer, e.g. `workers: 2`")
    if workers > 1 and (strategy != "bfs" or store != "compact"):
        raise err(raw, "workers", "a parallel search needs `strategy: bfs` and `store: compact`",
                  "add `store: compact`, or drop `workers`")
    return ExploreSpec(requests, events, properties, sometimes, bounds, expect, strategy, store, workers)


def _resolve(value: Any, refs: Mapping[str, str], bound: Mapping[str, str]) -> Any:
    """Fill in references: an earlier request's ImageId, else an image ref (checked by read_explore)."""
    return map_refs(value, lambda name, path, parent, key: bound[name] if name in bound else refs[name])


_new_tuple = tuple.__new__


class _Interned:
    """The ids ``CopyImageModel.pack`` gives values: one id space, a value -> id index per field of a state.

    Fields are the World's five tuples, then ``bound`` (``used`` holds small
    counts, packed as they are). An index per field, so a value never meets
    one of another field: a record can't be taken for one of another type that
    compares equal. One id space, so ``unpack`` fetches every value in one
    call. It lives as long as the model and holds each distinct value once,
    far fewer than states (BM(5,3): 126 values for 161,220 states).
    """

    def __init__(self, setting: Any, n_bound: int) -> None:
        self.setting = setting  # the same object in every state of the model
        self.n_bound = n_bound  # the length of ``bound``, the same in every state
        self.values: list[Any] = []  # id -> value
        self.indexes: list[dict[Any, int]] = [{} for _ in range(6)]  # per field: value -> id
        self.getters = [index.__getitem__ for index in self.indexes]

    def intern(self, field_no: int, value: Any) -> int:
        """The id of ``value`` in field ``field_no``, giving it the next id if new."""
        index = self.indexes[field_no]
        i = index.get(value)
        if i is None:
            # Append before indexing: an interrupt in between leaves an unused value, never a wrong id.
            i = len(self.values)
            self.values.append(value)
            index[value] = i
        return i


class CopyImageModel(Model[ExploreState, Hashable]):
    """A scenario's explore section as a ``Model`` for ``model.check.check``."""

    def __init__(
        self,
        scenario: Scenario | str | Mapping[str, Any],
        *,
        extra_properties: Iterable[Property[ExploreState]] = (),
        spec: ExploreSpec | None = None,
        step_cache: bool | StepCache = True,
        flat: bool | None = None,
    ) -> None:
        self.scenario = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)  # type: ignore[arg-type]
        spec = spec if spec is not None else read_explore(self.scenario)
        if spec is None:
            raise ScenarioError(self.scenario.source, line_of(self.scenario.raw), "the scenario has no `explore:` section",
                                "add `explore: {requests: [...]}` listing the requests to interleave")
        self.spec = spec
        self._requests = spec.requests
        self._names = {r.name: r.index for r in spec.requests if r.name is not None}
        self._bounded = [r.index for r in spec.requests if r.times is not None]
        self._slot = {idx: k for k, idx in enumerate(self._bounded)}  # request index -> position in `used`
        self._named = list(self._names.values())
        self._bind_slot = {idx: k for k, idx in enumerate(self._named)}
        self._events = frozenset(_EVENT_TYPES[e] for e in spec.events if e in _EVENT_TYPES)
        self._faults = "fault" in spec.events
        self._parsed: dict[tuple, RequestAction] = {}
        self._extra = list(extra_properties)
        for image in self.scenario.world.images:  # specs made when the scenario was loaded: one a peer sends takes them
            self.scenario.world.setting.adopt_spec(image.spec)
        # Every transition is ``step``; the cache only reuses step's own answers by footprint
        # (semantics/footprint.py), so turning it off changes speed, never results.
        if step_cache is True:
            step_cache = StepCache()
        self.step_cache: StepCache | None = step_cache or None
        self._step = self.step_cache if self.step_cache is not None else step
        # Per request, precomputed once: (spec, slot in `used` or -1, times, slot in `bound` or -1,
        # the `bound` slots of its references, the action itself when it has no references, the
        # `bound` slot of its only reference or -1, that reference's value -> action, and its
        # outcome labels: "OK" and one per refusal met, keyed by id of the ErrorCode).
        self._plan = []
        for r in spec.requests:
            ref_slots = tuple(self._bind_slot[self._names[n]] for n in r.refs)
            fixed = self._action(r, ()) if not r.refs else None
            single = ref_slots[0] if len(ref_slots) == 1 else -1
            self._plan.append((r, self._slot.get(r.index, -1), r.times or 0, self._bind_slot.get(r.index, -1),
                               ref_slots, fixed, single, {}, {None: (r.call, "OK")}))
        # Interned event labels, so a transition allocates no more than its successor state.
        self._labels: dict = {name: (name, "OK") for name in ACTIONS + ("Start", "Complete", "Fail")}
        # Flat states (check/flat.py): the same transitions, learned from step's footprints over slots of
        # small ints. They need the step cache's recorder. Their numbering is this process's own, so a
        # parallel search knows them by ``fingerprint`` and translates what other processes send (unpack).
        if flat is None:
            flat = self.step_cache is not None
        if flat and self.step_cache is None:
            raise ValueError("flat=True learns transitions through the step cache; drop step_cache=False, or flat")
        self._codec: Codec | None = None
        self._flat: FlatSuccessors | None = None
        if flat:
            self._codec = Codec(self.scenario.world.setting, len(self._bounded), len(self._named))
            self._flat = FlatSuccessors(self, self.step_cache, self._codec,  # type: ignore[arg-type]
                                        verify=self.step_cache.verify)  # type: ignore[union-attr]

    @property
    def flat(self) -> bool:
        """Whether states are FlatStates (check/flat.py) rather than ExploreStates of worlds."""
        return self._flat is not None

    # --- Model interface ------------------------------------------------------------------

    def init_states(self) -> list[ExploreState]:
        return [self.state(self.scenario.world)]

    def state(self, world: World, used: Sequence[int] | None = None,
              bound: Sequence[str | None] | None = None) -> ExploreState:
        """The explored state of ``world`` (with no request used or bound, unless given), as this model keeps it:
        an ``ExploreState``, or a ``FlatState`` when ``flat``. Both have ``.world``, ``.used`` and ``.bound``."""
        state = ExploreState(world, tuple(used) if used is not None else (0,) * len(self._bounded),
                             tuple(bound) if bound is not None else (None,) * len(self._named))
        return state if self._codec is None else self._codec.flatten(state)  # type: ignore[return-value]

    def _action(self, spec: RequestSpec, values: tuple[str, ...]) -> RequestAction:
        """The request with its references filled in, parsed once per distinct set of values."""
        key = (spec.index, values)
        action = self._parsed.get(key)
        if action is None:
            params = _resolve(spec.params, self.scenario.refs, dict(zip(spec.refs, values)))
            action = self._parsed[key] = RequestAction(spec.index, parse(spec.call, params, spec.caller),
                                                       _freeze(dict(params)))
        return action

    def successors(self, state: ExploreState) -> list[tuple[Hashable, ExploreState, Hashable]]:
        if self._flat is not None:
            return self._flat.successors(state)  # type: ignore[arg-type]
        world, used, bound = state
        out: list[tuple[Hashable, ExploreState, Hashable]] = []
        append = out.append
        step = self._step
        entry = self._entry
        for item in self._plan:
            entry(state, world, used, bound, item, step, append)
        self._event_transitions(state, world, used, bound, enabled_events(world), step, append)
        return out

    def _entry(self, state: Any, world: World, used: tuple, bound: tuple, item: tuple, step: Callable,
               append: Callable[[tuple], None]) -> None:
        """Append the transitions of one request of the alphabet (none when it is not enabled).

        The explorer's hot loop: everything per request is precomputed in
        ``_plan``, and outcome labels are interned so a transition allocates
        no more than its successor state. check/flat.py runs this same code to
        learn a request's transitions, with ``used``/``bound`` logging reads.
        """
        spec, k, times, b, ref_slots, fixed, single, by_value, outcomes = item
        if k >= 0 and used[k] >= times:
            return
        if fixed is not None:
            action = fixed
        elif single >= 0:
            v = bound[single]
            if v is None:
                return  # refers to a request that has not answered an ImageId yet
            action = by_value.get(v)
            if action is None:
                action = by_value[v] = self._action(spec, (v,))
        else:
            values = tuple([bound[r] for r in ref_slots])
            if None in values:
                return
            action = self._action(spec, values)  # type: ignore[arg-type]
        nxt, answer = step(world, action.request)
        if type(answer) is Refusal:
            error = answer.error
            outcome = outcomes.get(id(error))
            if outcome is None:
                outcome = outcomes[id(error)] = (spec.call, error.code)
        else:
            outcome = outcomes[None]
        if nxt is world:
            append((action, state, outcome))
        else:
            new_used = used if k < 0 else used[:k] + (used[k] + 1,) + used[k + 1:]
            new_bound = bound
            if b >= 0 and type(answer) is dict and "ImageId" in answer:
                new_bound = bound[:b] + (answer["ImageId"],) + bound[b + 1:]
            append((action, ExploreState(nxt, new_used, new_bound), outcome))
        if self._faults:
            append((Fault(action.request), state, (spec.call, "InternalError")))

    def _event_transitions(self, state: Any, world: World, used: tuple, bound: tuple, events: Iterable[Any],
                           step: Callable, append: Callable[[tuple], None]) -> None:
        """Append a transition for each of ``events`` (from ``enabled_events``) this scenario puts in play."""
        in_play = self._events
        labels = self._labels
        for event in events:
            if type(event) in in_play:
                nxt, _ = step(world, event)
                append((event, ExploreState(nxt, used, bound), labels[type(event).__name__]))

    def properties(self) -> list[Property[ExploreState]]:
        # (kind, name, predicate of the world, description); then each predicate as one of the state.
        claims: list[tuple[Callable[..., Property], str, Callable[[World], bool], str]] = []
        for pid in self.spec.properties:
            if pid == "L1":
                claims.append((Property.eventually, "L1", copy_pending, "every accepted copy eventually ends (fair service)"))
            else:
                check = ALWAYS[pid]
                claims.append((Property.always, pid, lambda w, check=check: check(w) is None,
                               (check.__doc__ or pid).strip()))
        for name in self.spec.sometimes:
            claims.append((Property.sometimes, name, SOMETIMES[name], f"some state has {name}"))
        conditions: list[Callable[[Any], bool]]
        if self._codec is None:
            conditions = [lambda s, pred=pred: pred(s.world) for _k, _n, pred, _d in claims]
            props = [kind(name, cond, desc) for (kind, name, _p, desc), cond in zip(claims, conditions)]
            return props + self._extra
        # On flat states: reused by footprint, and all asked at once (check/flat.py), a user's own too.
        memos = FlatMemos(self._codec, [pred for _k, _n, pred, _d in claims] + [p.condition for p in self._extra],
                          on_state=[False] * len(claims) + [True] * len(self._extra))
        props = [kind(name, memos.condition(i), desc) for i, (kind, name, _p, desc) in enumerate(claims)]
        return props + [Property(p.expectation, p.name, memos.condition(len(claims) + i), p.description)
                        for i, p in enumerate(self._extra)]

    def add_property(self, prop: Property[ExploreState]) -> None:
        """Add a user's own property: a plain predicate on ``ExploreState`` (``state.world`` answers as the World).

        On flat states (the default) it is reused by footprint like the
        built-in properties (docs/performance.md), so it is asked once per
        distinct footprint, not once per state: it must depend on the state
        alone. ``flat=False`` asks it of every state's rebuilt World.
        """
        self._extra.append(prop)

    def is_fair(self, action: Hashable) -> bool:
        return type(action) in (Complete, Fail, Start)

    def action_kind(self, action: Hashable) -> str:
        if type(action) is RequestAction:
            return action_name(action.request)  # type: ignore[union-attr]
        if type(action) is Fault:
            return "Fault"
        return type(action).__name__

    # --- packing the compact store's frontier -----------------------------------------------

    @cached_property
    def _packing(self) -> _Interned:
        return _Interned(self.scenario.world.setting, len(self._named))

    def pack(self, state: ExploreState) -> bytes:
        """A FlatState: its slots as bytes (an ``array`` once an id passes 255). A world's state, below:

        ``state`` as small ints: a width, the World's five tuple lengths, an id per record, an id per entry of
        ``bound``, then the counts in ``used`` themselves (the lengths of ``bound`` and ``used`` are fixed).

        One byte an int while they all fit (the benchmark models), else 2,
        else 4: chosen per state, so a table that outgrows a width never
        breaks blobs packed before.
        """
        if self._codec is not None:
            try:
                return bytes(state)  # a FlatState is small ints already
            except ValueError:  # an int past 255: an array, which unpack takes as it is
                return array("I", state)  # type: ignore[return-value]
        world, used, bound = state
        images, tasks, queues, tokens, instances = world.images, world.tasks, world.queues, world.tokens, world.instances
        ids = [1, len(images), len(tasks), len(queues), len(tokens), len(instances)]
        # C-level lookups, one per field, unrolled: a Python loop here would cost more than the lookups.
        im, ta, qu, to, ins, bo = self._packing.getters
        try:
            ids += map(im, images)
            ids += map(ta, tasks)
            ids += map(qu, queues)
            if tokens:  # most explored worlds have no tokens or instances: skip the calls
                ids += map(to, tokens)
            if instances:
                ids += map(ins, instances)
            ids += map(bo, bound)
        except KeyError:  # a value never seen before
            intern = self._packing.intern
            fields = (images, tasks, queues, tokens, instances, bound)
            ids[6:] = [intern(n, v) for n, items in enumerate(fields) for v in items]
        ids += used
        try:
            return bytes(ids)
        except ValueError:  # an int past 255
            try:
                return b"\x02" + array("H", ids[1:]).tobytes()
            except OverflowError:  # an int past 65535
                return b"\x04" + array("I", ids[1:]).tobytes()

    # --- a parallel search (parallel_bfs.py) -------------------------------------------------

    def fingerprint(self, state: ExploreState) -> int:
        """The same in every process: a world's hash (by value), or a FlatState's sum of slot terms (flat.py)."""
        return hash(state) if self._codec is None else self._codec.fingerprint(state)

    def fingerprinted_moves(self, state: ExploreState, fingerprint: int) -> tuple[Sequence[tuple[Any, int, Any, Any]],
                                                                                Callable[[Any], ExploreState]]:
        """``successors`` by fingerprint; flat, unbuilt until ``make`` (flat.py ``FlatSuccessors.moves``)."""
        if self._flat is None:  # worlds hash by value, so ``hash`` is their fingerprint: called directly
            return [(a, fingerprint if nxt is state else hash(nxt), o, nxt)
                    for a, nxt, o in self.successors(state)], built_state
        return self._flat.moves(state, fingerprint)  # type: ignore[arg-type, return-value]

    def take_self_loops(self) -> dict[Any, int]:
        """The self-loops flat ``fingerprinted_moves`` counted rather than listed (flat.py ``take_self_loops``)."""
        return {} if self._flat is None else self._flat.take_self_loops()

    def packed_values(self, start: int = 0) -> list[Any]:
        """This process's table from entry ``start`` on, which blobs it ships use (a parallel search sends them).

        Over worlds: the packing table's values. Flat: the codec's ``log`` of
        slots, records and names in the order they were given.
        """
        if self._codec is not None:
            return self._codec.log[start:]
        return self._packing.values[start:]

    def adopt_values(self, values: list[Any]) -> list[Any]:
        """Another process's table entries (``packed_values``) as this process's: its own ImageSpec for each spec.

        Specs compare by identity, so an image arriving with a fresh copy of a
        spec takes the one this process already has for that value (or keeps
        the new one as that value's own, which a copy this process makes later
        then takes too: ``Setting.adopt_spec``): equal records stay equal here.
        Flat, each entry then becomes this process's slot, record id or name id.
        """
        if self._codec is not None:
            return self._codec.adopt([(e[0], e[1], self._adopt(e[2])) if e[0] == "record" else e for e in values])
        return [self._adopt(v) for v in values]

    def _adopt(self, value: Any) -> Any:
        if type(value) is not Image:
            return value
        spec = self.scenario.world.setting.adopt_spec(value.spec)
        return value if spec is value.spec else Image(value.image_id, value.region, value.status, spec)

    def unpack(self, blob: bytes, values: list[Any] | None = None) -> ExploreState:
        """The state ``pack`` made ``blob`` from: equal, same hash, built from the shared interned records.

        ``values``: the table of the process that packed it (``adopt_values``), when not this one's.
        """
        if self._codec is not None:
            if values is not None:  # packed by another process, in its numbering
                return self._codec.unship(blob, values)  # type: ignore[arg-type, return-value]
            return _new_tuple(self._codec.state_type, blob)  # type: ignore[return-value]
        packing = self._packing
        width = blob[0]
        ids: Sequence[int] = blob
        if width != 1:
            ids = [width, *memoryview(blob)[1:].cast("H" if width == 2 else "I")]
        a = ids[1]
        b = a + ids[2]
        c = b + ids[3]
        d = c + ids[4]
        e = d + ids[5]
        end = 6 + e + packing.n_bound
        # One C call fetches every value; itemgetter of a single index would return it bare, not in a tuple.
        table = packing.values if values is None else values
        got = itemgetter(*ids[6:end])(table) if end > 7 else tuple([table[i] for i in ids[6:end]])
        world = World(packing.setting, got[:a], got[a:b], got[b:c], got[c:d], got[d:e])
        # ExploreState(...) without its Python-level __new__.
        return _new_tuple(ExploreState, (world, tuple(ids[end:]), got[e:]))

    # --- display --------------------------------------------------------------------------

    def format_action(self, action: Hashable) -> str:
        if type(action) is RequestAction:
            spec = self._requests[action.index]  # type: ignore[union-attr]
            label = f"[{spec.name}] " if spec.name else ""
            caller = f" as {spec.caller}" if spec.caller else ""
            params = ", ".join(f"{k}={v}" for k, v in action.params_dict().items())  # type: ignore[union-attr]
            return f"{label}{spec.call}({params}){caller}"
        if type(action) is Fault:
            return f"Fault({describe_request(action.request)})"  # type: ignore[union-attr]
        return f"{type(action).__name__}({action.image_id})"  # type: ignore[union-attr]

    def format_state(self, state: ExploreState) -> str:
        return summarize_world(state.world)

    def diff_states(self, before: ExploreState, after: ExploreState) -> dict[str, object]:
        return world_diff(before.world, after.world)


def describe_request(request: Request | BadRequest) -> str:
    """``CopyImage(RegionId=..., ImageId=...)`` with only the parameters that were given."""
    if isinstance(request, BadRequest):
        return f"{request.action}(<{request.refusal.code}>)"
    fields = []
    for name in request.__dataclass_fields__:  # type: ignore[attr-defined]
        value = getattr(request, name)
        if name == "caller" and value is None or value in (None, (), False):
            continue
        fields.append(f"{name}={value!r}")
    return f"{action_name(request)}({', '.join(fields)})"


def summarize_world(world: World) -> str:
    parts = []
    for q in world.queues:
        parts.append(f"{q.region}: running {len(q.running)}, waiting {len(q.waiting)}")
    states: dict[str, int] = {}
    for t in world.tasks:
        states[t.state] = states.get(t.state, 0) + 1
    if states:
        parts.append("copies " + ", ".join(f"{n} {s}" for s, n in sorted(states.items())))
    return "; ".join(parts) or "no copies"


def world_diff(before: World, after: World) -> dict[str, object]:
    """Only what changed: image statuses, copy task states, queues, tokens, instances."""
    out: dict[str, object] = {}
    b_images = {im.image_id: im.status for im in before.images}
    a_images = {im.image_id: im.status for im in after.images}
    for iid in sorted(set(b_images) | set(a_images)):
        if b_images.get(iid) != a_images.get(iid):
            out[f"image {iid}"] = f"{b_images.get(iid, 'absent')} -> {a_images.get(iid, 'absent')}"
    b_tasks = {t.image_id: t for t in before.tasks}
    for t in after.tasks:
        old = b_tasks.get(t.image_id)
        if old is None or old.state != t.state:
            out[f"task {t.image_id}"] = f"{old.state if old else 'none'} -> {t.state}"
    b_queues = {q.region: q for q in before.queues}
    a_queues = {q.region: q for q in after.queues}
    for region in sorted(set(b_queues) | set(a_queues)):
        bq, aq = b_queues.get(region), a_queues.get(region)
        if bq != aq:
            out[f"queue {region}"] = (f"running {len(aq.running) if aq else 0}, "
                                      f"waiting {list(aq.waiting) if aq else []}")
    if before.tokens != after.tokens:
        out["client tokens"] = len(after.tokens)
    if before.instances != after.instances:
        out["instances"] = len(after.instances)
    return out


def _lifecycle_pairs() -> dict[tuple[str, str], str]:
    from ..semantics.lifecycle import LIFECYCLE

    return {(e.source, e.dest): e.trigger for e in LIFECYCLE}


def coverage(model: CopyImageModel, result: Any) -> dict[str, Any]:
    """What the exploration reached, and what it never did: requests, events, lifecycle transitions, errors.

    Lifecycle transitions and requests by alphabet entry come from the state
    graph (kept for liveness, or with ``keep_graph=True``); without it they
    are reported as unknown.
    """
    from ..semantics.errors import COPY_IMAGE_ERRORS, OTHER_ERRORS

    outcomes = [o for o in result.coverage if isinstance(o, tuple) and len(o) == 2]
    answered = sorted({o[1] for o in outcomes if o[1] != "OK"})
    calls = {o[0] for o in outcomes}
    events_seen = sorted(c for c in calls if c in ("Start", "Complete", "Fail"))
    possible_events = sorted(k.capitalize() for k in model.spec.events if k != "fault")
    every_code = sorted({e.code for e in COPY_IMAGE_ERRORS + OTHER_ERRORS})
    out: dict[str, Any] = {
        "error_codes_answered": answered,
        "error_codes_never_answered": [c for c in every_code if c not in answered],
        "service_events_taken": events_seen,
        "service_events_never_taken": [e for e in possible_events if e not in events_seen],
        "lifecycle_transitions": None,
        "lifecycle_transitions_never": None,
        "requests_never_changed_the_world": None,
    }
    if not getattr(result, "has_graph", False):
        return out
    pairs = _lifecycle_pairs()
    seen_pairs: set[tuple[str, str]] = set()
    taken: set[int] = set()
    graph = result.graph
    for u, v, data in graph.edges(data=True):
        before, after = graph.nodes[u]["state"].world, graph.nodes[v]["state"].world
        old = {t.image_id: t.state for t in before.tasks}
        for t in after.tasks:
            prev = old.get(t.image_id, CopyState.REQUESTED)
            if prev != t.state:
                seen_pairs.add((prev, t.state))
        for action in data.get("actions", ()):
            if type(action) is RequestAction:
                taken.add(action.index)
    label = {pair: f"{pair[0]} -{trigger}-> {pair[1]}" for pair, trigger in pairs.items()}
    out["lifecycle_transitions"] = sorted(label.get(p, f"{p[0]} -> {p[1]}") for p in seen_pairs)
    out["lifecycle_transitions_never"] = sorted(label[p] for p in pairs if p not in seen_pairs)
    out["requests_never_changed_the_world"] = [
        f"#{r.index + 1} {r.call}" + (f" [{r.name}]" if r.name else "") for r in model.spec.requests
        if r.index not in taken
    ]
    return out


def format_coverage(cov: dict[str, Any]) -> str:
    lines = ["Coverage:"]
    for key, value in cov.items():
        if value is None:
            continue
        title = key.replace("_", " ")
        lines.append(f"  {title}: {', '.join(value) if value else '(none)'}")
    return "\n".join(lines)
