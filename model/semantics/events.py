"""The service's own events: a queued copy starts, a running copy completes or fails, a fault.

Requests come from clients; these come from the service. ``enabled_events``
is the one place that says which events can happen in a world: the
simulator schedules them by time, the explorer interleaves them with
requests, and both apply them with the same ``step``.
"""

from __future__ import annotations

from typing import NamedTuple

from .errors import Refusal, error
from .lifecycle import CopyState, fire
from .queue import release, start, startable
from .requests import BadRequest, Request
from .world import World

__all__ = ["Start", "Complete", "Fail", "Fault", "Event", "enabled_events", "apply_event"]


class Start(NamedTuple):
    """A waiting copy takes a free slot (a separate event only with ``start_as_event``/``queue_order=any``)."""

    image_id: str
    kind: str = "Start"  # so Start(x), Complete(x) and Fail(x) never compare or hash equal


class Complete(NamedTuple):
    """A running copy finishes: the new image becomes Available (N6) and its slot frees (I3)."""

    image_id: str
    kind: str = "Complete"  # so Start(x), Complete(x) and Fail(x) never compare or hash equal


class Fail(NamedTuple):
    """The service fails a running copy: CreateFailed (Q3), and its slot frees."""

    image_id: str
    kind: str = "Fail"  # so Start(x), Complete(x) and Fail(x) never compare or hash equal


class Fault(NamedTuple):
    """Fault injection: the service answers ``request`` with InternalError (E18) and changes nothing."""

    request: Request | BadRequest


Event = Start | Complete | Fail | Fault


def enabled_events(world: World) -> list[Start | Complete | Fail]:
    """Every service event that can happen now, in a canonical order."""
    events: list[Start | Complete | Fail] = []
    setting = world.setting
    for queue in world.queues:
        for image_id in queue.running:
            events.append(Complete(image_id))
            events.append(Fail(image_id))
        if setting.options.start_as_event or setting.options.queue_order == "any":
            events.extend(Start(i) for i in startable(setting, queue))
    return events


def apply_event(world: World, event: Start | Complete | Fail | Fault, now: float) -> tuple[World, dict | Refusal | None]:
    """The world after ``event``; an event that is not enabled changes nothing and answers None."""
    if type(event) is Fault:
        action = type(event.request).__name__.removesuffix("Request")
        return world, error("InternalError", action).answer()
    task = world.task(event.image_id)
    if task is None:
        return world, None
    draft = world.draft()
    if type(event) is Start:
        if task.state != CopyState.WAITING or event.image_id not in startable(world.setting, world.queue(task.slot_region)):
            return world, None
        start(draft, task.slot_region, task.image_id, now)
        return draft.done(), {}
    if task.state != CopyState.CREATING:
        return world, None
    trigger = "complete" if type(event) is Complete else "fail"
    draft.set_state(task, fire(task.state, trigger, {}))
    opts = world.setting.options
    if not (trigger == "fail" and opts.bug_fail_loses_task):  # the seeded bug: the ended task keeps its slot
        release(draft, task, now, hand_over=not (trigger == "complete" and opts.bug_freed_slot_idle))
    return draft.done(), {}
