"""The copy lifecycle and a region's queue as diagrams, both drawn from the one ``transitions`` declaration.

``lifecycle_diagram`` reads the edges from the ``GraphMachine`` that
``model.semantics.lifecycle.build_machine(graph=True)`` builds (its markup:
source, dest, trigger, conditions, unless) and adds the SPEC ids the
declaration attaches to each edge. Nothing here lists a state or an edge.

``queue_diagram`` is derived, not drawn by hand: it explores a small
scenario (several copies into one region with limit L) with the checker,
groups the reachable worlds by how full that region is (idle, some slots
busy, full, full with a queue), and labels each arrow with the lifecycle
edges that fired on the way (found by matching each copy's state before and
after against the declaration). Options that break the queue (seeded bugs,
``start_as_event``) therefore show up as extra boxes such as "over the limit".
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Mapping

from ..semantics.lifecycle import ENDED, IN_PROGRESS, LIFECYCLE, TRIGGERS, CopyState, Edge, build_machine
from ..semantics.world import World
from .diagram import Arrow, Diagram, Node

__all__ = ["lifecycle_diagram", "queue_diagram", "guard_text", "QUEUE_CLASSES", "queue_class"]

# What a person reading the diagram should know about each state (wording only; the states come
# from the Machine, and a state without an entry here is drawn without a description).
_STATE_NOTES = {
    CopyState.REQUESTED: "CopyImage accepted, not yet placed",
    CopyState.WAITING: "queued, holds no slot; image Waiting",
    CopyState.CREATING: "holds a slot; image Creating",
    CopyState.AVAILABLE: "the new image is usable (N6)",
    CopyState.CREATE_FAILED: "the image shows CreateFailed",
    CopyState.CANCELLED: "the new image is gone (C2)",
    CopyState.DELETED: "the new image is gone",
}


def _style(state: str) -> str:
    if state == CopyState.REQUESTED:
        return "pseudo"
    if state in IN_PROGRESS:
        return "progress"
    if state == CopyState.AVAILABLE:
        return "done"
    if state == CopyState.CREATE_FAILED:
        return "failed"
    return "gone" if state in ENDED else "plain"


def guard_text(conditions: tuple[str, ...] | list[str], unless: tuple[str, ...] | list[str]) -> str:
    """``[slot_free]``, ``[unless slot_free]``, or both joined; empty without guards."""
    parts = [f"[{c}]" for c in conditions] + [f"[unless {u}]" for u in unless]
    return " ".join(parts)


def _declared(trigger: str, source: str, dest: str, conditions: tuple[str, ...], unless: tuple[str, ...]) -> Edge:
    for e in LIFECYCLE:
        if (e.trigger, e.source, e.dest, e.conditions, e.unless) == (trigger, source, dest, conditions, unless):
            return e
    raise LookupError(f"the Machine has {trigger}: {source} -> {dest} that LIFECYCLE does not declare")


def lifecycle_diagram() -> Diagram:
    """The copy task's states and transitions, with guards and SPEC ids on the arrows."""
    machine = build_machine(graph=True, graph_engine="mermaid")
    markup = machine.markup
    nodes = tuple(Node(s["name"], s["name"], _STATE_NOTES.get(s["name"], ""), _style(s["name"]))
                  for s in markup["states"])
    arrows = []
    for t in markup["transitions"]:
        conditions, unless = tuple(t.get("conditions", ())), tuple(t.get("unless", ()))
        edge = _declared(t["trigger"], t["source"], t["dest"], conditions, unless)
        label = " ".join(x for x in (t["trigger"], guard_text(conditions, unless)) if x)
        arrows.append(Arrow(t["source"], t["dest"], (label,), edge.rules))
    return Diagram(
        name="lifecycle",
        title="The lifecycle of an image copy",
        nodes=nodes,
        arrows=tuple(arrows),
        initial=markup["initial"],
        caption="drawn from model.semantics.lifecycle.LIFECYCLE; guards in brackets, SPEC ids below",
    )


# --- a region's queue ------------------------------------------------------------------------

# The classes a region's queue falls into, in the order they are drawn: id, title, description.
QUEUE_CLASSES: tuple[tuple[str, str, str, str], ...] = (
    ("idle", "idle", "no copy running or waiting", "pseudo"),
    ("busy", "some slots busy", "1 to L-1 copies run, none wait", "progress"),
    ("full", "full", "L copies run, none wait", "done"),
    ("queue", "full + queue", "L copies run, more wait (Waiting)", "failed"),
    ("stalled", "free slot, queue waits", "fewer than L run while copies wait: breaks I3", "gone"),
    ("over", "over the limit", "more than L copies run: breaks I2", "gone"),
)


def queue_class(running: int, waiting: int, limit: int) -> str:
    """Which of ``QUEUE_CLASSES`` a region with these counts is in."""
    if running > limit:
        return "over"
    if waiting:
        return "queue" if running >= limit else "stalled"
    if running == 0:
        return "idle"
    return "full" if running == limit else "busy"


def _fired(before: World, after: World) -> list[Edge]:
    """The lifecycle edges one step fired: each copy whose state changed, matched against the declaration."""
    old = {t.image_id: t.state for t in before.tasks}
    fired = []
    for t in after.tasks:
        src = old.get(t.image_id, CopyState.REQUESTED)
        if src == t.state:
            continue
        for e in LIFECYCLE:
            if e.source == src and e.dest == t.state:
                fired.append(e)
                break
    return fired


# The queue's own guard; other guards (options such as cancel_while_creating) are on the lifecycle diagram.
_SLOT_GUARDS = ("slot_free",)


def _edge_words(e: Edge) -> str:
    """``accept [unless slot_free]``, ``cancel (Waiting)``: the trigger, the slot guard, the source if ambiguous."""
    words = e.trigger
    if sum(1 for d in LIFECYCLE if d.trigger == e.trigger and d.dest == e.dest) > 1:
        words += f" ({e.source})"
    guard = guard_text([c for c in e.conditions if c in _SLOT_GUARDS], [u for u in e.unless if u in _SLOT_GUARDS])
    return f"{words} {guard}" if guard else words


def _describe(fired: list[Edge]) -> tuple[str, str]:
    """(what the request or event did, what followed at once): ``("complete", "then start [slot_free]")``."""
    heads = [e for e in fired if e.trigger != "start"] or fired[:1]
    tails = [e for e in fired if e not in heads]
    return _edge_words(heads[0]), ("then " + _edge_words(tails[0])) if tails else ""


def _queue_scenario(limit: int, copies: int, options: Mapping[str, Any]) -> dict[str, Any]:
    requests: list[dict[str, Any]] = []
    for i in range(1, copies + 1):
        requests.append({"name": f"c{i}", "call": "CopyImage",
                         "params": {"RegionId": "src", "ImageId": f"$s{i}", "DestinationRegionId": "dst"}})
    # Two cancellable copies are enough: the checker tries every request order, so either of them can be
    # the running or the waiting one (and both can wait at once); more only multiplies states.
    for i in range(1, min(copies, 2) + 1):
        requests.append({"call": "CancelCopyImage", "params": {"RegionId": "dst", "ImageId": f"$c{i}"}})
    return {
        "name": "queue-diagram",
        "regions": ["src", "dst"],
        "options": {**dict(options), "copy_limit": limit},
        "images": [{"name": f"s{i}", "region": "src", "size": 10} for i in range(1, copies + 1)],
        "explore": {"requests": requests, "events": ["complete", "fail", "start"], "properties": []},
    }


@lru_cache(maxsize=16)
def _queue_edges(limit: int, copies: int, options: tuple[tuple[str, Any], ...]) -> tuple[
        tuple[str, ...], tuple[tuple[str, str, tuple[str, ...]], ...]]:
    """(the queue classes reached, (from, to, label lines) per arrow), explored once per set of arguments."""
    from ..check import check
    from ..check.ecs import CopyImageModel

    model = CopyImageModel(_queue_scenario(limit, copies, dict(options)))
    result = check(model, keep_graph=True)
    graph = result.graph

    def cls(node: int) -> str:
        q = graph.nodes[node]["state"].world.queue("dst")
        return queue_class(len(q.running), len(q.waiting), limit)

    seen: set[str] = set()
    found: dict[tuple[str, str], set[tuple[str, str]]] = {}
    for u in graph.nodes:
        seen.add(cls(u))
    for u, v in graph.edges:
        before, after = graph.nodes[u]["state"].world, graph.nodes[v]["state"].world
        if before.queue("dst") == after.queue("dst"):
            continue  # the step did not touch the region's slots (e.g. DeleteImage of an Available copy)
        fired = _fired(before, after)
        if fired:
            found.setdefault((cls(u), cls(v)), set()).add(_describe(fired))
    order = {name: i for i, name in enumerate(TRIGGERS)}

    def lines(descs: set[tuple[str, str]]) -> tuple[str, ...]:
        by_tail: dict[str, list[str]] = {}
        for head, tail in descs:
            by_tail.setdefault(tail, []).append(head)
        out = []
        for tail in sorted(by_tail):
            heads = sorted(by_tail[tail], key=lambda h: (order.get(h.split()[0], 99), h))
            out.append(" | ".join(heads) + (f"\n{tail}" if tail else ""))
        return tuple(out)

    classes = tuple(c[0] for c in QUEUE_CLASSES if c[0] in seen)
    rank = {c[0]: i for i, c in enumerate(QUEUE_CLASSES)}
    edges = tuple(sorted(((a, b, lines(d)) for (a, b), d in found.items()), key=lambda e: (rank[e[0]], rank[e[1]])))
    return classes, edges


def queue_diagram(options: Mapping[str, Any] | None = None, *, limit: int = 3, copies: int | None = None) -> Diagram:
    """A region's slots as a state diagram, derived by exploring ``copies`` copies into a region of ``limit``.

    ``options`` are scenario options (``Options`` field names), e.g.
    ``{"bug_limit_off_by_one": True}`` to see what a seeded bug does to the queue.
    """
    if limit < 1:
        raise ValueError(f"limit={limit} must be at least 1")
    copies = limit + 2 if copies is None else copies
    classes, edges = _queue_edges(limit, copies, tuple(sorted((options or {}).items())))
    info = {c[0]: c for c in QUEUE_CLASSES}
    nodes = tuple(Node(c, info[c][1], info[c][2], info[c][3]) for c in classes)
    arrows = tuple(Arrow(a, b, lines) for a, b, lines in edges)
    extra = ", ".join(f"{k}={v}" for k, v in sorted((options or {}).items()))
    return Diagram(
        name="queue",
        title="A region's copy slots (limit L, N4)",
        nodes=nodes,
        arrows=arrows,
        initial="idle" if "idle" in classes else None,
        caption=(f"derived by exploring {copies} copies into one region with L = {limit}"
                 + (f" and {extra}" if extra else " (default options)")
                 + "; arrows name the lifecycle edges that fired"),
    )
