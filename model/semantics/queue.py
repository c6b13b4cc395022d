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
from .world import CopyTask, RegionQueue, Setting, World

__all__ = ["slot_free", "place", "release", "promote", "start", "startable"]


def slot_free(setting: Setting, queue: RegionQueue) -> bool:
    """Whether a task may start now in this region (the lifecycle's ``slot_free`` guard)."""
    opts = setting.options
    limit = setting.limit(queue.region) + (1 if opts.bug_limit_off_by_one else 0)
    used = len(queue.running) + (len(queue.waiting) if opts.bug_limit_counts_queued else 0)
    return used < limit


def _set_queue(queues: tuple[RegionQueue, ...], queue: RegionQueue) -> tuple[RegionQueue, ...]:
    if not queue.running and not queue.waiting:
        return World.drop(queues, queue.region)
    return World.put(queues, queue)


def place(world: World, task: CopyTask) -> tuple[CopyTask, tuple[RegionQueue, ...]]:
    """Where an accepted task goes: Creating in a free slot, else Waiting at the queue's end (N4)."""
    queue = world.queue(task.slot_region)
    # A newcomer never overtakes tasks already waiting (FIFO, I4).
    free = not queue.waiting and slot_free(world.setting, queue)
    state = fire(CopyState.REQUESTED, "accept", {"slot_free": free})
    task = task.with_state(state)
    if state == CopyState.CREATING:
        queue = RegionQueue(queue.region, tuple(sorted(queue.running + (task.image_id,))), queue.waiting)
    else:
        queue = RegionQueue(queue.region, queue.running, queue.waiting + (task.image_id,))
    return task, _set_queue(world.queues, queue)


def release(world: World, task: CopyTask, now: float, *, hand_over: bool = True) -> World:
    """Take ``task`` out of its region's queue (running or waiting); hand a freed slot to the queue (I3)."""
    queue = world.queue(task.slot_region)
    iid = task.image_id
    was_running = iid in queue.running
    queue = RegionQueue(queue.region, tuple([r for r in queue.running if r != iid]),
                        tuple([w for w in queue.waiting if w != iid]))
    world = world.evolve(queues=_set_queue(world.queues, queue))
    if was_running and hand_over:
        return promote(world, task.slot_region, now)
    return world


def startable(setting: Setting, queue: RegionQueue) -> tuple[str, ...]:
    """The waiting tasks the service may start now: none without a free slot; else the head (FIFO) or any."""
    if not queue.waiting or not slot_free(setting, queue):
        return ()
    opts = setting.options
    if opts.queue_order == "any":
        return queue.waiting
    return (queue.waiting[-1],) if opts.bug_lifo_queue else (queue.waiting[0],)


def start(world: World, region: str, image_id: str, now: float) -> World:
    """Move one waiting task into a running slot (the lifecycle's ``start``); its image shows Creating."""
    queue = world.queue(region)
    position = queue.waiting.index(image_id)
    state = fire(CopyState.WAITING, "start", {"slot_free": slot_free(world.setting, queue)})
    tasks = world.tasks
    for ahead in queue.waiting[:position]:  # history variable for I4: they were overtaken
        t = world.task(ahead)
        if t is not None and not t.overtaken:
            tasks = World.put(tasks, t.with_state(t.state, overtaken=True))
    task = world.task(image_id)
    assert task is not None, f"queued id {image_id} has no task"
    tasks = World.put(tasks, task.with_state(state, started_at=now))
    queue = RegionQueue(region, tuple(sorted(queue.running + (image_id,))),
                        queue.waiting[:position] + queue.waiting[position + 1:])
    images = world.images
    image = world.image(image_id)
    if image is not None:  # absent only when a seeded bug removed it
        images = World.put(images, image.with_status(state))
    return world.evolve(tasks=tasks, queues=World.put(world.queues, queue), images=images)


def promote(world: World, region: str, now: float) -> World:
    """Fill the region's free slots from its queue at once (I3), unless starting is a service event."""
    opts = world.setting.options
    if opts.start_as_event or opts.queue_order == "any":
        return world
    while True:
        chosen = startable(world.setting, world.queue(region))
        if not chosen:
            return world
        world = start(world, region, chosen[0], now)
