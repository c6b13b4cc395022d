"""A region's copy slots and queue (N4): placing an accepted task, freeing a slot, promoting.

A region runs at most ``limit`` copy tasks (N4); the rest wait in one queue,
served first-in first-out (A10) the moment a slot frees (I3), unless the
options make starting a separate service event (``start_as_event``, or
``queue_order="any"`` where the service may pick any waiting task). Queued
tasks do not count toward the limit (A5).

All functions take and return the tuples of a World (tasks, queues) so that
operations and events compose them; none of them decides *whether* a request
is allowed, only where a task goes.
"""

from __future__ import annotations

from .lifecycle import CopyState, fire
from .world import CopyTask, Draft, RegionQueue, Setting

__all__ = ["slot_free", "place", "release", "promote", "start", "startable"]


def slot_free(setting: Setting, queue: RegionQueue) -> bool:
    """Whether a task may start now in this region (the lifecycle's ``slot_free`` guard)."""
    opts = setting.options
    limit = setting.limit(queue.region) + (1 if opts.bug_limit_off_by_one else 0)
    used = len(queue.running) + (len(queue.waiting) if opts.bug_limit_counts_queued else 0)
    return used < limit


def place(draft: Draft, task: CopyTask) -> CopyTask:
    """Put an accepted task in its region: Creating in a free slot, else Waiting at the queue's end (N4)."""
    queue = draft.queue(task.slot_region)
    # A newcomer never overtakes tasks already waiting (FIFO, I4).
    free = not queue.waiting and slot_free(draft.setting, queue)
    state = fire(CopyState.REQUESTED, "accept", {"slot_free": free})
    task = task.with_state(state)
    if state == CopyState.CREATING:
        draft.put_queue(RegionQueue(queue.region, tuple(sorted(queue.running + (task.image_id,))), queue.waiting))
    else:
        draft.put_queue(RegionQueue(queue.region, queue.running, queue.waiting + (task.image_id,)))
    draft.put_task(task)
    return task


def release(draft: Draft, task: CopyTask, now: float, *, hand_over: bool = True) -> None:
    """Take ``task`` out of its region's queue (running or waiting); hand a freed slot to the queue (I3)."""
    queue = draft.queue(task.slot_region)
    iid = task.image_id
    was_running = iid in queue.running
    draft.put_queue(RegionQueue(queue.region, tuple([r for r in queue.running if r != iid]),
                                tuple([w for w in queue.waiting if w != iid])))
    if was_running and hand_over:
        promote(draft, task.slot_region, now)


def startable(setting: Setting, queue: RegionQueue) -> tuple[str, ...]:
    """The waiting tasks the service may start now: none without a free slot; else the head (FIFO) or any."""
    if not queue.waiting or not slot_free(setting, queue):
        return ()
    opts = setting.options
    if opts.queue_order == "any":
        return queue.waiting
    return (queue.waiting[-1],) if opts.bug_lifo_queue else (queue.waiting[0],)


def start(draft: Draft, region: str, image_id: str, now: float) -> None:
    """Move one waiting task into a running slot (the lifecycle's ``start``); its image shows Creating."""
    queue = draft.queue(region)
    position = queue.waiting.index(image_id)
    state = fire(CopyState.WAITING, "start", {"slot_free": slot_free(draft.setting, queue)})
    for ahead in queue.waiting[:position]:  # history variable for I4: they were overtaken
        t = draft.task(ahead)
        if t is not None and not t.overtaken:
            draft.put_task(t.with_state(t.state, overtaken=True))
    task = draft.task(image_id)
    assert task is not None, f"queued id {image_id} has no task"
    draft.set_state(task, state, started_at=now)
    draft.put_queue(RegionQueue(region, tuple(sorted(queue.running + (image_id,))),
                                queue.waiting[:position] + queue.waiting[position + 1:]))


def promote(draft: Draft, region: str, now: float) -> None:
    """Fill the region's free slots from its queue at once (I3), unless starting is a service event."""
    opts = draft.setting.options
    if opts.start_as_event or opts.queue_order == "any":
        return
    while True:
        chosen = startable(draft.setting, draft.queue(region))
        if not chosen:
            return
        start(draft, region, chosen[0], now)
