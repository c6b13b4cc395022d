"""A run as frames (what was asked, what was answered, the world before and after), and two pictures of it.

A run comes either from a ``Cloud`` (its ``trace``: calls and service events
with their times) or from the checker (a counterexample ``Path``: actions
and explored states, with the step number as time). ``frames_from_trace``
replays a Cloud trace through ``model.semantics.step`` from the initial
world, because the trace alone does not say which copy ran and which
waited; every recorded answer is compared with the replayed one, so a trace
replayed against the wrong scenario is refused rather than drawn wrong.

From frames: ``sequence_mermaid`` (a mermaid sequenceDiagram between the
client, the ECS API and each region's queue), ``timeline_figure`` (copies
waiting and running per region over time), and the numbers behind them
(``task_spans``, ``queue_series``) for your own plots.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path as FsPath
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence

from ..scenario import ScenarioError
from ..semantics.events import Complete, Fail, Fault, Start
from ..semantics.lifecycle import ENDED, CopyState
from ..semantics.requests import BadRequest, parse
from ..semantics.step import action_name, body_of, step
from ..semantics.world import World

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ..check.path import Path
    from ..cloud import Cloud

__all__ = [
    "Frame", "TaskSpan", "TraceError", "Names", "frames_from_trace", "frames_from_cloud", "frames_from_path",
    "frames_of", "load_trace", "describe_call", "request_params", "sequence_mermaid", "timeline_figure",
    "task_spans", "queue_series",
]

_EVENTS = {"Start": Start, "Complete": Complete, "Fail": Fail}


class TraceError(ScenarioError):
    """A trace that cannot be read or does not replay: where, what is wrong, and how to fix it."""


@dataclass(frozen=True)
class Frame:
    """One step of a run: the request or event, its answer, and the world before and after it.

    ``t`` is the service time in seconds (a Cloud trace) or the step number (a
    checker path). ``kind`` is ``call``, ``event`` or ``fault`` (a call the
    service answered with an injected InternalError). ``params`` are the API
    parameters of a call (``RegionId``, ``ImageId``, ...); ``answer`` the body
    the API returned (``Code``/``HttpStatus`` for an error), None for an event.
    """

    index: int
    t: float
    kind: str
    action: str
    params: Mapping[str, Any]
    answer: Mapping[str, Any] | None
    before: World
    after: World
    subject: str | None = None  # the copy an event acts on

    @property
    def ok(self) -> bool:
        return self.answer is None or "Code" not in self.answer


@dataclass(frozen=True)
class TaskSpan:
    """One copy over a run: when it was accepted, started and ended (None: not yet)."""

    image_id: str
    name: str
    region: str
    accepted: float
    started: float | None
    ended: float | None
    state: str  # the last state seen

    @property
    def waited(self) -> float | None:
        """Time spent queued before starting (None if it never started)."""
        return None if self.started is None else self.started - self.accepted


# --- reading traces ---------------------------------------------------------------------------

def load_trace(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """A Cloud trace from a file: ``json.dump(cloud.trace)`` (a JSON list), or JSON lines.

    A running ``copyimage serve`` gives the same list at ``GET /_copyimage/trace``.
    Raises TraceError.
    """
    name = os.fspath(path)
    try:
        text = FsPath(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TraceError(name, None, f"cannot read the trace ({exc.__class__.__name__}: {exc})",
                         "check the path; a trace is the JSON that Cloud.trace_json() returns") from None
    stripped = text.strip()
    if not stripped:
        raise TraceError(name, None, "the trace file is empty",
                         "write a trace with `open(f, 'w').write(cloud.trace_json())`")
    if stripped.startswith("["):
        try:
            data = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise TraceError(name, exc.lineno, f"not valid JSON: {exc.msg}",
                             "a trace is the JSON list that Cloud.trace_json() returns") from None
        records = list(data)
    else:
        records = []
        for lineno, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise TraceError(name, lineno, f"not valid JSON: {exc.msg}",
                                 "each line of a JSON-lines trace is one JSON object") from None
    return _normalise(records, name)


def _normalise(records: Sequence[Any], source: str) -> list[dict[str, Any]]:
    """Check that every record is a Cloud trace entry (a call or a service event)."""
    out: list[dict[str, Any]] = []
    for i, rec in enumerate(records, 1):
        if not isinstance(rec, Mapping):
            raise TraceError(source, None, f"entry {i} is {type(rec).__name__}, not an object",
                             "a trace is a list of objects with `kind: call` or `kind: event`")
        if rec.get("kind") in ("call", "event"):
            out.append(dict(rec))
        elif "type" in rec and "seq" in rec or rec.get("type") == "event":
            # The server's own log also holds requests the gateway refused before the model saw them,
            # which would not replay; the server hands out the model's trace itself.
            raise TraceError(source, None, f"entry {i} is a `copyimage serve --trace` record, not a Cloud trace entry",
                             "save the model's trace from the running server instead: "
                             "GET /_copyimage/trace > trace.json")
        else:
            raise TraceError(source, None, f"entry {i} is neither a call nor an event: {dict(rec)!r:.120}",
                             "a trace entry has `kind: call` (action, params, response) or `kind: event`")
    return out


def _camel(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.split("_"))


def frames_from_trace(trace: Sequence[Mapping[str, Any]], world: World, *, source: str = "<trace>") -> list[Frame]:
    """Replay a Cloud trace from ``world`` (the scenario's initial world); raises TraceError if it diverges."""
    frames: list[Frame] = []
    for i, entry in enumerate(trace, 1):
        t = entry.get("t", 0.0) or 0.0
        params = entry.get("params") or {}
        if isinstance(t, bool) or not isinstance(t, (int, float)) or not isinstance(params, Mapping):
            raise TraceError(source, None, f"entry {i}: `t` must be seconds and `params` a mapping",
                             "a trace is the JSON that Cloud.trace_json() returns; do not edit its entries")
        t = float(t)
        if entry.get("kind") == "event":
            name = entry.get("event")
            if name not in _EVENTS or not isinstance(entry.get("ImageId"), str):
                raise TraceError(source, None, f"entry {i}: unknown service event {name!r}",
                                 "events are Start, Complete or Fail with an ImageId")
            after, answer = step(world, _EVENTS[name](entry["ImageId"]), t)
            if answer is None:
                raise TraceError(source, None, f"entry {i}: {name} of {entry['ImageId']} cannot happen in the "
                                 "replayed world", _REPLAY_FIX)
            frames.append(Frame(i, t, "event", name, {}, None, world, after, entry["ImageId"]))
            world = after
            continue
        if entry.get("kind") != "call":
            raise TraceError(source, None, f"entry {i} has kind {entry.get('kind')!r}", "use `call` or `event`")
        action = entry.get("action")
        response = entry.get("response") or {}
        if not isinstance(action, str) or not isinstance(response, Mapping):
            raise TraceError(source, None, f"entry {i}: a call needs an `action` name and a `response` object",
                             "a trace is the JSON that Cloud.trace_json() returns; do not edit its entries")
        if response.get("Code") == "InternalError":  # an injected fault (E18): the service changed nothing
            frames.append(Frame(i, t, "fault", str(action), dict(params), _strip(response), world, world))
            continue
        request = parse(action, params, entry.get("caller"))
        after, answer = step(world, request, t)
        body = body_of(answer) or {}
        if body.get("Code") != response.get("Code") or body.get("ImageId") != response.get("ImageId"):
            got = body.get("Code") or body.get("ImageId") or "OK"
            want = response.get("Code") or response.get("ImageId") or "OK"
            raise TraceError(source, None, f"entry {i} ({action}): the trace recorded {want}, "
                             f"replaying it gives {got}", _REPLAY_FIX)
        frames.append(Frame(i, t, "call", action_name(request), dict(params), _strip(response) or body, world, after))
        world = after
    return frames


_REPLAY_FIX = ("replay the trace against the scenario it was recorded with "
               "(`copyimage diagram trace TRACE.json --scenario FILE`)")


def _strip(response: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in response.items() if k != "RequestId"}


def frames_from_cloud(cloud: "Cloud") -> list[Frame]:
    """The frames of everything ``cloud`` did since it was made (or reset)."""
    return frames_from_trace(cloud.trace, cloud.scenario.world, source=f"Cloud({cloud.scenario.name})")


def frames_from_path(path: "Path") -> list[Frame]:
    """The frames of a checker path (an ``ExploreState`` path from ``CopyImageModel``); time is the step number."""
    from ..check.ecs import RequestAction

    frames: list[Frame] = []
    before = path.init.world
    for i, st in enumerate(path.steps, 1):
        after = st.state.world
        action = st.action
        if type(action) is RequestAction:
            request = action.request
            _, answer = step(before, request)
            frames.append(Frame(i, float(i), "call", action_name(request), request_params(request), body_of(answer),
                                before, after))
        elif type(action) is Fault:
            frames.append(Frame(i, float(i), "fault", action_name(action.request), request_params(action.request),
                                {"Code": "InternalError", "HttpStatus": 500}, before, after))
        else:
            frames.append(Frame(i, float(i), "event", type(action).__name__, {}, None, before, after,
                                getattr(action, "image_id", None)))
        before = after
    return frames


def request_params(request: object) -> dict[str, Any]:
    """A typed request's parameters under the API's names (``region_id`` -> ``RegionId``), only those given."""
    if isinstance(request, BadRequest):
        return {}
    out = {}
    for name in getattr(request, "__dataclass_fields__", {}):
        value = getattr(request, name)
        if name != "caller" and value not in (None, (), False):
            out[_camel(name)] = value
    return out


def frames_of(source: Any) -> list[Frame]:
    """Frames from a Cloud, a checker Path, a SimulationResult, or a list of frames (returned as is)."""
    if isinstance(source, list) and all(isinstance(f, Frame) for f in source):
        return source
    if hasattr(source, "trace") and hasattr(source, "scenario"):
        return frames_from_cloud(source)
    if hasattr(source, "cloud") and hasattr(source, "transcript"):
        return frames_from_cloud(source.cloud)
    if hasattr(source, "steps") and hasattr(source, "init"):
        return frames_from_path(source)
    raise TypeError(f"cannot draw {type(source).__name__}: pass a Cloud, a checker Path or a list of Frames")


# --- names --------------------------------------------------------------------------------------

class Names:
    """Short, stable names for image ids: the scenario's refs, image names, then ``copy of <source>``.

    Built from the worlds of a run (in order), so the same run always gets the same names.
    """

    def __init__(self, worlds: Iterable[World], refs: Mapping[str, str] | None = None) -> None:
        self._names: dict[str, str] = {}
        self._taken: set[str] = set()
        for ref, image_id in (refs or {}).items():
            self._names[image_id] = ref
            self._taken.add(ref)
        for w in worlds:
            self.add_world(w)

    @classmethod
    def of_frames(cls, frames: Sequence[Frame], refs: Mapping[str, str] | None = None) -> "Names":
        return cls(([frames[0].before] if frames else []) + [f.after for f in frames], refs)

    def add_world(self, world: World) -> None:
        """Name the images and copies of ``world`` that have no name yet."""
        for im in world.images:
            if im.image_id not in self._names and im.spec.name and im.spec.copied_from is None:
                self._add(im.image_id, im.spec.name)
        for t in world.tasks:
            if t.image_id in self._names:
                continue
            im = world.image(t.image_id)
            self._add(t.image_id, im.spec.name if im is not None and im.spec.name else f"copy of {self(t.source_id)}")

    def copy(self) -> "Names":
        """An independent copy: name the images of a world that may never happen without claiming names."""
        other = Names(())
        other._names, other._taken = dict(self._names), set(self._taken)
        return other

    def _add(self, image_id: str, name: str) -> None:
        candidate, n = name, 1
        while candidate in self._taken:
            n += 1
            candidate = f"{name} ({n})"
        self._taken.add(candidate)
        self._names[image_id] = candidate

    def __call__(self, image_id: str | None) -> str:
        if image_id is None:
            return "?"
        return self._names.get(image_id, image_id[:10])

    def replace_ids(self, text: str) -> str:
        """``text`` with every known image id replaced by its name."""
        for image_id, name in self._names.items():
            text = text.replace(image_id, name)
        return text


# --- numbers ------------------------------------------------------------------------------------

def task_spans(frames: Sequence[Frame], names: Names | None = None) -> list[TaskSpan]:
    """Every copy seen in the run, with when it was accepted, started and ended."""
    names = names or Names.of_frames(frames)
    seen: dict[str, dict[str, Any]] = {}
    if frames:
        for t in frames[0].before.tasks:  # copies already under way when the run began
            started = frames[0].t if t.state != CopyState.WAITING else None
            seen[t.image_id] = {"accepted": frames[0].t, "started": started, "ended": None, "state": t.state,
                                "region": t.slot_region}
    for f in frames:
        for t in f.after.tasks:
            rec = seen.get(t.image_id)
            if rec is None:
                rec = seen[t.image_id] = {"accepted": f.t, "started": None, "ended": None, "state": t.state,
                                          "region": t.slot_region}
            if t.state == CopyState.CREATING and rec["started"] is None:
                rec["started"] = f.t
            if t.state in ENDED and rec["ended"] is None:
                rec["ended"] = f.t
                if rec["started"] is None and t.state != CopyState.CANCELLED:
                    rec["started"] = f.t
            rec["state"] = t.state
    spans = [TaskSpan(i, names(i), r["region"], r["accepted"], r["started"], r["ended"], r["state"])
             for i, r in seen.items()]
    order = {image_id: k for k, image_id in enumerate(seen)}  # first seen first: the order requests came in
    return sorted(spans, key=lambda s: (s.accepted, order[s.image_id]))


def queue_series(frames: Sequence[Frame]) -> dict[str, list[tuple[float, int, int]]]:
    """Per region, (time, running, waiting) at the start and after every frame that changed its queue."""
    if not frames:
        return {}
    regions: list[str] = []
    for w in [frames[0].before] + [f.after for f in frames]:
        for q in w.queues:
            if q.region not in regions:
                regions.append(q.region)
    out: dict[str, list[tuple[float, int, int]]] = {}
    start = frames[0].before
    t0 = min(0.0, frames[0].t)  # the world before the first frame held since time 0 (step 0 for a path)
    for r in regions:
        q = start.queue(r)
        out[r] = [(t0, len(q.running), len(q.waiting))]
    for f in frames:
        for r in regions:
            q = f.after.queue(r)
            point = (f.t, len(q.running), len(q.waiting))
            if out[r][-1][1:] != point[1:]:
                out[r].append(point)
    return out


# --- the sequence diagram --------------------------------------------------------------------------

def _safe(text: str) -> str:
    return text.replace(";", ",").replace("#", "no.").replace("<", "(").replace(">", ")").replace("\n", " ")


def _pid(region: str) -> str:
    return "Q_" + "".join(ch if ch.isalnum() else "_" for ch in region)


def _summary(frame: Frame, names: Names) -> str:
    return describe_call(frame.action, frame.params, names)


def describe_call(action: str, params: Mapping[str, Any], names: Names) -> str:
    """``CopyImage web to cn-shanghai``, ``CancelCopyImage copy of web``: a request in a few words."""
    p = params
    image = p.get("ImageId")
    if action == "CopyImage":
        dest = p.get("DestinationRegionId") or p.get("RegionId")
        text = f"CopyImage {names(image) if isinstance(image, str) else image} to {dest}"
    elif action in ("CancelCopyImage", "DeleteImage", "RunInstances", "ReplaceSystemDisk"):
        text = f"{action} {names(image) if isinstance(image, str) else image}"
        if p.get("Force"):
            text += " (Force)"
    elif action == "DescribeImages":
        status = p.get("Status") or p.get("Statuses")
        if isinstance(status, (list, tuple)):
            status = ",".join(status)
        text = f"DescribeImages {p.get('RegionId')}" + (f" Status={status}" if status else "")
    else:
        text = action
    return text


def _reply(frame: Frame, names: Names) -> str:
    a = frame.answer or {}
    if "Code" in a:
        return f"{a.get('HttpStatus', '')} {a['Code']}".strip()
    if frame.action == "CopyImage" and "ImageId" in a:
        return f"ImageId {a['ImageId']} ({names(a['ImageId'])})"
    if frame.action == "DescribeImages":
        rows = (a.get("Images") or {}).get("Image") or []
        counts: dict[str, int] = {}
        for row in rows:
            counts[row.get("Status", "?")] = counts.get(row.get("Status", "?"), 0) + 1
        shown = ", ".join(f"{n} {s}" for s, n in counts.items()) or "none"
        return f"{a.get('TotalCount', len(rows))} images: {shown}"
    return "OK"


def _queue_effects(frame: Frame, names: Names) -> list[tuple[str, str]]:
    """(region, what happened there) for every copy whose state or place changed in this frame."""
    before = {t.image_id: t for t in frame.before.tasks}
    out: list[tuple[bool, str, str]] = []
    for t in frame.after.tasks:
        old = before.get(t.image_id)
        if old is not None and old.state == t.state:
            continue
        q = frame.after.queue(t.slot_region)
        limit = frame.after.setting.limit(t.slot_region)
        counts = f"running {len(q.running)}/{limit}, waiting {len(q.waiting)}"
        name = names(t.image_id)
        if old is None:
            what = f"{name} accepted: {t.state} ({counts})"
        elif t.state == CopyState.CREATING:
            what = f"{name} starts ({counts})"
        elif t.state == CopyState.AVAILABLE:
            what = f"{name} completes: Available ({counts})"
        elif t.state == CopyState.CREATE_FAILED:
            what = f"{name} fails: CreateFailed ({counts})"
        else:
            what = f"{name} {old.state} to {t.state} ({counts})"
        # A copy that starts because another one freed its slot is told after the one that freed it.
        promoted = old is not None and old.state == CopyState.WAITING and t.state == CopyState.CREATING
        out.append((promoted, t.slot_region, what))
    for t in frame.after.tasks:  # an image removed under a copy that goes on (only a seeded bug does this)
        old = before.get(t.image_id)
        if (old is not None and old.state == t.state and frame.before.image(t.image_id) is not None
                and frame.after.image(t.image_id) is None):
            out.append((False, t.slot_region, f"image of {names(t.image_id)} removed while the copy is {t.state}"))
    out.sort(key=lambda e: e[0])  # stable: otherwise the world's order
    return [(region, what) for _, region, what in out]


def sequence_mermaid(source: Any, *, title: str | None = None, refs: Mapping[str, str] | None = None,
                     note: str | None = None, loop_start: int | None = None, numbered: bool | None = None) -> str:
    """A mermaid ``sequenceDiagram`` of a run: Client, ECS API, and one participant per region queue.

    ``source``: a Cloud, a checker Path or frames. ``note`` is added at the end
    (e.g. the invariant a counterexample breaks); ``numbered`` prefixes each
    request and event with its step number (default: for checker paths).
    """
    frames = frames_of(source)
    if loop_start is None:
        loop_start = getattr(source, "loop_start", None)
    if numbered is None:
        numbered = hasattr(source, "steps") and hasattr(source, "init")
    if refs is None:
        scenario = getattr(source, "scenario", None)
        refs = getattr(scenario, "refs", None)
    names = Names.of_frames(frames, refs)
    regions: list[str] = []
    for f in frames:
        for w in (f.before, f.after):
            for t in w.tasks:
                if t.slot_region not in regions:
                    regions.append(t.slot_region)
    lines = ["sequenceDiagram"]
    if title:
        lines.insert(0, f"---\ntitle: {json.dumps(_safe(title))}\n---")
    lines += ["    actor Client", "    participant API as ECS API"]
    setting = frames[0].before.setting if frames else None
    for r in regions:
        limit = setting.limit(r) if setting is not None else "?"
        lines.append(f"    participant {_pid(r)} as {_safe(r)} queue (limit {limit})")
    last = _pid(regions[-1]) if regions else "API"
    timed = not numbered
    now: float | None = None
    for f in frames:
        if loop_start is not None and f.index - 1 == loop_start:
            lines.append(f"    Note over Client,{last}: from here the run repeats forever")
        if timed and f.t != now:
            now = f.t
            lines.append(f"    Note over Client,{last}: t = {f.t:g} s")
        prefix = f"{f.index}. " if numbered else ""
        effects = _queue_effects(f, names)
        if f.kind in ("call", "fault"):
            lines.append(f"    Client->>API: {_safe(prefix + _summary(f, names))}")
            if f.kind == "fault":
                lines.append("    API--xClient: 500 InternalError (injected fault)")
                continue
            for region, what in effects:
                lines.append(f"    API->>{_pid(region)}: {_safe(what)}")
            lines.append(f"    API-->>Client: {_safe(_reply(f, names))}")
        else:
            if not effects and regions:
                lines.append(f"    Note over {last}: {_safe(prefix + f.action)} {_safe(names(f.subject))}")
            for k, (region, what) in enumerate(effects):
                lines.append(f"    {_pid(region)}->>{_pid(region)}: {_safe((prefix if k == 0 else '') + what)}")
    if loop_start is not None and loop_start == len(frames):
        lines.append(f"    Note over Client,{last}: the run can stay here forever")
    if note:
        lines.append(f"    Note over Client,{last}: {_safe(names.replace_ids(note))}")
    return "\n".join(lines) + "\n"


# --- the timeline ----------------------------------------------------------------------------------

_STATE_COLOURS = {
    CopyState.CREATING: "#4c78a8",
    CopyState.AVAILABLE: "#2e7d32",
    CopyState.CREATE_FAILED: "#c62828",
    CopyState.CANCELLED: "#888888",
    CopyState.DELETED: "#2e7d32",
}
_WAITING = "#f2b134"
MAX_ROWS = 60  # above this many copies the per-copy bars are left out (the counts still show)


def timeline_figure(source: Any, *, title: str | None = None, refs: Mapping[str, str] | None = None) -> "Figure":
    """Copies waiting and running per region over time: one bar per copy, and the counts against the limit.

    ``source``: a Cloud, a checker Path or frames. Time is service seconds for a
    Cloud, the step number for a checker path.
    """
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    frames = frames_of(source)
    is_path = hasattr(source, "steps") and hasattr(source, "init")
    if refs is None:
        refs = getattr(getattr(source, "scenario", None), "refs", None)
    names = Names.of_frames(frames, refs)
    spans = task_spans(frames, names)
    series = queue_series(frames)
    regions = [r for r in series] or ["(no copies)"]
    show_bars = 0 < len(spans) <= MAX_ROWS
    bar_h = 0.28 * len(spans) + 0.9 if show_bars else 0.0
    height = bar_h + 1.7 * len(regions) + 0.9
    fig = Figure(figsize=(9.0, height))
    ratios = ([bar_h] if show_bars else []) + [1.7] * len(regions)
    axes = fig.subplots(len(ratios), 1, sharex=True, gridspec_kw={"height_ratios": ratios}, squeeze=False)[:, 0]
    t_end = max([f.t for f in frames] + [0.0])
    if is_path:  # the state after the last step holds for one more step, so the last step's change shows
        t_end += 1.0
    t_start = min([s[0][0] for s in series.values()] + [frames[0].t if frames else 0.0])
    pad = (t_end - t_start) * 0.09 or 1.0  # room after the last end for its state's name
    xlabel = "step" if is_path else "service time (s)"
    fig.suptitle(title or ("Copies over the run" if not is_path else "Copies along the counterexample"),
                 fontsize=12, weight="bold")

    k = 0
    if show_bars:
        ax = axes[0]
        k = 1
        for row, s in enumerate(spans):
            y = len(spans) - 1 - row
            wait_end = s.started if s.started is not None else (s.ended if s.ended is not None else t_end)
            if wait_end > s.accepted:
                ax.barh(y, wait_end - s.accepted, left=s.accepted, height=0.6, color=_WAITING, hatch="//",
                        edgecolor="#a06f00", linewidth=0.5)
            if s.started is not None:
                run_end = s.ended if s.ended is not None else t_end
                ax.barh(y, max(run_end - s.started, 0.0), left=s.started, height=0.6,
                        color=_STATE_COLOURS[CopyState.CREATING])
            if s.ended is not None:
                ax.text(s.ended + pad * 0.15, y, s.state, va="center", fontsize=7,
                        color=_STATE_COLOURS.get(s.state, "#333333"))
        several = len({s.region for s in spans}) > 1
        ax.set_yticks(range(len(spans)))
        ax.set_yticklabels([f"{s.name} \u2192 {s.region}" if several else s.name for s in reversed(spans)],
                           fontsize=8)
        ax.set_ylim(-0.7, len(spans) - 0.3)
        ax.legend(handles=[Patch(facecolor=_WAITING, hatch="//", edgecolor="#a06f00", label="Waiting"),
                           Patch(facecolor=_STATE_COLOURS[CopyState.CREATING], label="Creating")],
                  fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
        ax.grid(axis="x", color="#dddddd", linewidth=0.6)
        ax.set_axisbelow(True)
    setting = frames[0].before.setting if frames else None
    for region, ax in zip(regions, axes[k:]):
        points = series.get(region, [(t_start, 0, 0)])
        xs = [p[0] for p in points] + [t_end + pad]
        running = [p[1] for p in points] + [points[-1][1]]
        queued = [p[1] + p[2] for p in points] + [points[-1][1] + points[-1][2]]
        ax.fill_between(xs, 0, running, step="post", color=_STATE_COLOURS[CopyState.CREATING], alpha=0.85,
                        label="running")
        ax.fill_between(xs, running, queued, step="post", color=_WAITING, alpha=0.9, hatch="//",
                        edgecolor="#a06f00", linewidth=0, label="waiting")
        if setting is not None and region in setting.regions:
            limit = setting.limit(region)
            ax.axhline(limit, color="#c62828", linestyle="--", linewidth=1.0, label=f"limit {limit}")
            top = max(max(queued), limit)
        else:
            top = max(queued)
        ax.set_ylim(0, top + 1)
        ax.set_ylabel(region, fontsize=9)
        ax.yaxis.get_major_locator().set_params(integer=True)
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
        ax.grid(axis="x", color="#dddddd", linewidth=0.6)
        ax.set_axisbelow(True)
    axes[-1].set_xlim(t_start - pad * 0.25, t_end + pad)
    axes[-1].set_xlabel(xlabel)
    if is_path:
        axes[-1].xaxis.get_major_locator().set_params(integer=True)
    fig.subplots_adjust(left=0.22 if show_bars else 0.12, right=0.8, top=1 - 0.55 / height, bottom=0.5 / height + 0.02,
                        hspace=0.25)
    return fig
