"""The invariants I1-I9 and the liveness condition L1, as predicates on a world.

Each invariant returns None when it holds, or a sentence saying what breaks
it (so a counterexample explains itself). ``INVARIANTS`` maps SPEC ids to
them; the explorer, the trace checker and the property-based tests all use
this one table.

I1 and I5 are about what an operation did; they are checked on the state it
leaves behind: a copy still in progress whose image is gone (I1), a cancelled
copy whose image is still there (I5). I4 reads the ``overtaken`` history
variable that starting a task out of turn sets.

``READINGS`` holds the invariants of an ambiguity's default reading that
SPEC.md does not number (A4: a copy in progress keeps its source). They hold
under the default options, and the other reading breaks them on purpose, so
they are checked only where asked for by id (``properties: [A4]``); the
benchmark model checks A4 as the fourth of its invariants.
"""

from __future__ import annotations

from collections import Counter
from typing import Callable

from .lifecycle import IN_PROGRESS, CopyState
from .world import Owner, World

__all__ = ["INVARIANTS", "READINGS", "ALWAYS", "violations", "copy_pending", "Invariant"]

Invariant = Callable[[World], "str | None"]


def i1_in_progress_copy_not_deleted(world: World) -> str | None:
    """I1: a copy in progress (Waiting or Creating) is never removed by DeleteImage."""
    for t in world.tasks:
        if t.state in IN_PROGRESS and world.image(t.image_id) is None:
            return f"copy {t.image_id} is {t.state} but its image was removed"
    return None


def i2_limit(world: World) -> str | None:
    """I2: no region runs more copy tasks than its limit."""
    for q in world.queues:
        limit = world.setting.limit(q.region)
        if len(q.running) > limit:
            return f"{q.region} runs {len(q.running)} copy tasks, limit {limit}"
    return None


def i3_work_conserving(world: World) -> str | None:
    """I3: no slot stays idle while a task of that region waits."""
    for q in world.queues:
        limit = world.setting.limit(q.region)
        if q.waiting and len(q.running) < limit:
            return f"{q.region} runs {len(q.running)} of {limit} while {len(q.waiting)} wait"
    return None


def i4_fifo(world: World) -> str | None:
    """I4: queued tasks start in the order they were accepted (A10 FIFO)."""
    for t in world.tasks:
        if t.overtaken:
            return f"copy {t.image_id} was overtaken by a task accepted after it"
    return None


def i5_cancel_removes_image(world: World) -> str | None:
    """I5: cancelling removes the new image and leaves the source image unchanged."""
    for t in world.tasks:
        if t.state == CopyState.CANCELLED:
            if world.image(t.image_id) is not None:
                return f"copy {t.image_id} was cancelled but its image is still there"
    return None


def i6_one_place(world: World) -> str | None:
    """I6: every accepted copy is in exactly one place: queued, running, or ended."""
    running: dict[str, int] = {}
    waiting: dict[str, int] = {}
    for q in world.queues:
        for r in q.running:
            running[r] = running.get(r, 0) + 1
        for w in q.waiting:
            waiting[w] = waiting.get(w, 0) + 1
    for t in world.tasks:
        r = running.pop(t.image_id, 0)
        w = waiting.pop(t.image_id, 0)
        state = t.state
        expected = (1, 0) if state == CopyState.CREATING else (0, 1) if state == CopyState.WAITING else (0, 0)
        if (r, w) != expected:
            return f"copy {t.image_id} is {state} but is running {r} and waiting {w} times"
    if running or waiting:
        return f"queued ids without a copy task: {sorted(set(running) | set(waiting))}"
    return None


def i7_one_task_per_token(world: World) -> str | None:
    """I7: a ClientToken never yields two tasks."""
    seen: dict[str, str] = {}
    for t in world.tasks:
        if t.client_token is not None:
            if t.client_token in seen:
                return f"ClientToken {t.client_token!r} made {seen[t.client_token]} and {t.image_id}"
            seen[t.client_token] = t.image_id
    return None


def i8_shared_stays_home(world: World) -> str | None:
    """I8: an image shared by another account is never copied to another region."""
    owners = {im.image_id: im.spec.owner for im in world.images}
    for t in world.tasks:
        if owners.get(t.source_id) == Owner.OTHERS and t.dest_region != t.source_region:
            return f"shared image {t.source_id} copied from {t.source_region} to {t.dest_region}"
    return None


def i9_names_and_quotas(world: World) -> str | None:
    """I9: image names are unique per region; quotas are never exceeded."""
    names: set[tuple[str, str]] = set()
    counts: Counter[str] = Counter()
    account = world.setting.account
    for im in world.images:
        if im.spec.owner == Owner.SELF:
            counts[im.region] += 1
        if im.spec.name is not None:
            key = (im.region, im.spec.name)
            if key in names:
                return f"two images named {im.spec.name!r} in {im.region}"
            names.add(key)
    for region, n in counts.items():
        if n > account.image_quota:
            return f"{region} holds {n} images, quota {account.image_quota}"
    return None


def a4_source_kept(world: World) -> str | None:
    """A4 (the default reading): a copy in progress keeps its source; the source is not deleted while it runs."""
    # By the sources alone (a scan's small answer): the checker keys A4 by which sources have copies in
    # progress, not by every task's state (check/flat.py).
    for source_id in world.sources_in_progress():
        if world.image(source_id) is None:
            t = next(t for t in world.copies_of(source_id) if t.state in IN_PROGRESS)
            return f"copy {t.image_id} is {t.state} but its source {source_id} was deleted"
    return None


INVARIANTS: dict[str, Invariant] = {
    "I1": i1_in_progress_copy_not_deleted,
    "I2": i2_limit,
    "I3": i3_work_conserving,
    "I4": i4_fifo,
    "I5": i5_cancel_removes_image,
    "I6": i6_one_place,
    "I7": i7_one_task_per_token,
    "I8": i8_shared_stays_home,
    "I9": i9_names_and_quotas,
}
READINGS: dict[str, Invariant] = {"A4": a4_source_kept}
ALWAYS: dict[str, Invariant] = {**INVARIANTS, **READINGS}  # every invariant a property id can name


def violations(world: World, ids: tuple[str, ...] | None = None) -> dict[str, str]:
    """The invariants (by SPEC id) that ``world`` breaks, with what breaks them.

    All of I1-I9 when ``ids`` is None; else those named, a reading's (A4) too.
    """
    out = {}
    for rule_id, check in (INVARIANTS if ids is None else ALWAYS).items():
        if ids is None or rule_id in ids:
            why = check(world)
            if why is not None:
                out[rule_id] = why
    return out


def copy_pending(world: World) -> bool:
    """L1's pending condition: some accepted copy has not ended yet."""
    return any(q.running or q.waiting for q in world.queues) or any(t.state in IN_PROGRESS for t in world.tasks)
