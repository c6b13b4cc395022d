"""A step's footprint: what it read and wrote, so the explorer can reuse its answer.

``step`` is a function of the records it reads. Run once on a world that logs
every query the rules make (``image``, ``task``, ``queue``, ``copies_of``, ...)
and every record the step writes, it tells what the answer depends on: on any
other world where each of those queries gives the same value, the step takes
the same branches, gives the same answer and writes the same records.
``StepCache`` keeps, per action, a decision tree over those values (the first
query is always the same; which one comes next depends on what the first
answered), with ``(answer, writes)`` at the leaves, and applies the writes to
the world it is asked about.

This is how the explorer runs ``step`` millions of times without running every
rule each time. It decides nothing about the API: a miss runs ``step`` itself.
Soundness rests on two things, both enforced here rather than assumed:

* every read goes through a logged query. A rule that scans a whole field
  (``world.tasks``) instead logs the whole field, which costs hits, never
  correctness; an attribute the recorder does not know makes the step
  uncacheable.
* every write goes through the recording Draft. A step whose result did not
  come from it, or whose draft does not equal its base plus the logged writes,
  is not cached.

``StepCache(verify=True)`` also runs ``step`` on every hit and compares; the
tests run every scenario that way.
"""

from __future__ import annotations

from typing import Any, Callable

from .events import Complete, Fail, Fault, Start
from .world import ClientToken, CopyTask, Draft, Image, RegionQueue, World, _Lookups

__all__ = ["StepCache", "observe", "read_through", "Read", "Writes", "FIELD_NAMES"]

# Field order of a World, and how a write names its field.
_IMAGES, _TASKS, _QUEUES, _TOKENS, _INSTANCES = range(5)
FIELD_NAMES = ("images", "tasks", "queues", "tokens", "instances")


def _field_reader(name: str) -> Callable[[World], tuple]:
    def read(world: World) -> tuple:
        return getattr(world, name)

    read.__name__ = f"all_{name}"
    read.field = name  # type: ignore[attr-defined]  # a whole-field read: check/flat.py keys it by the field
    return read


_FIELD_READERS = tuple(_field_reader(n) for n in FIELD_NAMES)

class _Recording:
    """One step being recorded: the reads in order, the drafts made, and whether it can be cached."""

    __slots__ = ("world", "reads", "drafts", "cacheable")

    def __init__(self, world: World) -> None:
        self.world = world
        self.reads: list[tuple[Callable[..., Any], tuple, Any]] = []
        self.drafts: list[_RecordingDraft] = []
        self.cacheable = True

    def read(self, query: Callable[..., Any], args: tuple) -> Any:
        value = query(self.world, *args)
        self.reads.append((query, args, value))
        return value

    def let_go(self) -> list["_RecordingDraft"]:
        """The drafts made, no longer held here: call it once the step is done.

        Each draft points back at this recording to log its reads. Held both
        ways, every recorded step would be a cycle only the cyclic collector
        frees (2,249 objects in a first run of BM(3,2), docs/performance.md).
        """
        drafts, self.drafts = self.drafts, []
        return drafts


def _recorded_query(query: Callable[..., Any]) -> Callable[..., Any]:
    def method(self: "_RecordingWorld", *args: Any) -> Any:
        return self._rec.read(query, args)

    method.__name__ = query.__name__
    return method


class _RecordingWorld:
    """Stands in for a World during one recorded step: every read is logged."""

    __slots__ = ("_rec", "setting")

    def __init__(self, rec: _Recording) -> None:
        self._rec = rec
        self.setting = rec.world.setting

    # The queries (image, task, ..., copies_of, ...) are added below from _Lookups' own list.

    # A rule that scans a field reads all of it.
    images = property(lambda self: self._rec.read(_FIELD_READERS[_IMAGES], ()))
    tasks = property(lambda self: self._rec.read(_FIELD_READERS[_TASKS], ()))
    queues = property(lambda self: self._rec.read(_FIELD_READERS[_QUEUES], ()))
    tokens = property(lambda self: self._rec.read(_FIELD_READERS[_TOKENS], ()))
    instances = property(lambda self: self._rec.read(_FIELD_READERS[_INSTANCES], ()))

    def draft(self) -> "_RecordingDraft":
        return _RecordingDraft(self._rec)

    def __getattr__(self, name: str) -> Any:
        # Anything else (evolve, ...) is answered by the real world,
        # but we cannot tell what it read or wrote: the step is not cached.
        self._rec.cacheable = False
        return getattr(self._rec.world, name)


class _RecordingDraft(Draft):
    """A Draft that logs its reads of the base world and the records it writes."""

    __slots__ = ("_rec", "writes")

    def __init__(self, rec: _Recording) -> None:
        super().__init__(rec.world)
        self._rec = rec
        self.writes: dict[tuple[int, str], Any] = {}  # (field, key) -> final record, or None when dropped
        rec.drafts.append(self)

    # The queries are added below from _Lookups' own list: a keyed one logs the base's answer and
    # answers from the draft (the record was read before this step wrote it, so the log adds no
    # condition in practice); a scan over records this step already changed is not cached.
    def _keyed(self, query: Callable[..., Any], args: tuple) -> Any:
        self._rec.read(query, args)
        return query(self, *args)

    def _scan(self, query: Callable[..., Any], args: tuple) -> Any:
        if self.writes:
            self._rec.cacheable = False
        self._rec.read(query, args)
        return query(self, *args)

    def put_task(self, task: CopyTask) -> None:
        super().put_task(task)
        self.writes[(_TASKS, task.image_id)] = task

    def put_image(self, image: Image) -> None:
        super().put_image(image)
        self.writes[(_IMAGES, image.image_id)] = image

    def drop_image(self, image_id: str) -> None:
        super().drop_image(image_id)
        self.writes[(_IMAGES, image_id)] = None

    def put_queue(self, queue: RegionQueue) -> None:
        super().put_queue(queue)
        self.writes[(_QUEUES, queue.region)] = queue if (queue.running or queue.waiting) else None

    def put_token(self, token: ClientToken) -> None:
        super().put_token(token)
        self.writes[(_TOKENS, token.token)] = token


def _draft_query(query: Callable[..., Any], keyed: bool) -> Callable[..., Any]:
    def method(self: _RecordingDraft, *args: Any) -> Any:
        return self._keyed(query, args) if keyed else self._scan(query, args)

    method.__name__ = query.__name__
    return method


for _name in (*_Lookups.KEYED_QUERIES, *_Lookups.SCAN_QUERIES):
    _query = getattr(_Lookups, _name)
    setattr(_RecordingWorld, _name, _recorded_query(_query))
    setattr(_RecordingDraft, _name, _draft_query(_query, _name in _Lookups.KEYED_QUERIES))
del _name, _query


def _apply(world: World, writes: tuple[tuple[int, str, Any], ...]) -> World:
    """``world`` with the recorded writes applied (in canonical order, as Draft keeps them)."""
    fields = [world.images, world.tasks, world.queues, world.tokens, world.instances]
    put, drop = World.put, World.drop
    for f, key, record in writes:
        fields[f] = put(fields[f], record) if record is not None else drop(fields[f], key)
    return World(world.setting, *fields)


def _same_records(a: World, b: World) -> bool:
    """``a == b`` without hashing either world: fields the step left alone are the very same tuples."""
    return (a.images == b.images and a.tasks == b.tasks and a.queues == b.queues
            and a.tokens == b.tokens and a.instances == b.instances and a.setting is b.setting)


class _Leaf:
    __slots__ = ("answer", "writes")

    def __init__(self, answer: Any, writes: tuple[tuple[int, str, Any], ...] | None) -> None:
        self.answer = answer
        self.writes = writes  # None: this path cannot be cached; run step


_EVENTS = (Start, Complete, Fail, Fault)

Read = tuple[Callable[..., Any], tuple, Any]  # (query, args, answer)
Writes = tuple[tuple[int, str, Any], ...]  # (field number, key, record or None when dropped)


def _hashable(reads: list[Read]) -> bool:
    try:
        for _query, _args, value in reads:
            hash(value)
    except TypeError:
        return False
    return True


def observe(world: World, fn: Callable[[Any], Any]) -> tuple[Any, list[Read] | None]:
    """``fn(world)`` run on a stand-in that logs its queries: ``(value, reads)``.

    ``reads`` is None when ``fn`` read around the log (an attribute the
    stand-in does not know) or a read gave an unhashable value: then its
    value cannot be reused on another world whose reads agree.
    """
    rec = _Recording(world)
    value = fn(_RecordingWorld(rec))
    if rec.let_go() or not rec.cacheable or not _hashable(rec.reads):
        return value, None
    return value, rec.reads


def read_through(stand_in: Any, query: Callable[..., Any], *args: Any) -> Any:
    """``query(world, *args)`` on the world ``stand_in`` (an ``observe`` stand-in) stands for, logged as its own.

    For what a state holds beside its world and is still read during an
    ``observe`` (check/flat.py: a user's property reading the counts and names
    of an explored state): the read joins the log in the order it was made.
    """
    return stand_in._rec.read(query, args)


class StepCache:
    """``step`` with its answers reused by footprint (see module docstring).

    Call it like ``step(world, action)``. Only service-clock time 0.0 is cached
    (the explorer's); answers are shared objects, so callers must not mutate
    them. Requests are keyed by identity (parsing makes each once) and kept
    alive here so an id is never reused.
    """

    def __init__(self, step: Callable[..., tuple[World, Any]] | None = None, *, verify: bool = False) -> None:
        if step is None:
            from .step import step as the_step

            step = the_step
        self._step = step
        self.verify = verify
        self._trees: dict[Any, Any] = {}
        self._pinned: dict[int, Any] = {}
        self.hits = 0
        self.misses = 0

    def __call__(self, world: World, action: Any, now: float = 0.0) -> tuple[World, Any]:
        if now != 0.0:
            return self._step(world, action, now)
        key = action if type(action) in _EVENTS else id(action)
        node = self._trees.get(key)
        while node is not None:
            if type(node) is _Leaf:
                writes = node.writes
                if writes is None:
                    return self._step(world, action)
                self.hits += 1
                result = (_apply(world, writes) if writes else world), node.answer
                if self.verify:
                    self._check(world, action, result)
                return result
            query, args, children = node
            node = children.get(query(world, *args))
        return self._record(world, action, key)

    def footprint(self, world: World, action: Any) -> tuple[World, Any, list[Read] | None, Writes | None]:
        """Run ``step`` on a stand-in for ``world``: ``(next world, answer, reads, writes)``.

        ``reads`` are the queries the rules asked, in order, with their answers
        (``(query, args, value)``); ``writes`` the records the step wrote as
        ``(field number, key, record or None when dropped)``, ``()`` when it
        changed nothing, or None when the step cannot be reused (it read or
        wrote around the log). ``reads`` is None when one of its answers is
        unhashable, so no tree can be keyed by it. Nothing is kept here: the
        caller decides (``__call__`` keeps it in this cache's trees,
        check/flat.py in its own).
        """
        rec = _Recording(world)
        proxy = _RecordingWorld(rec)
        nxt, answer = self._step(proxy, action)
        drafts = rec.let_go()
        writes: Writes | None = None
        if nxt is proxy or nxt is world:
            nxt = world  # nothing changed (a draft it may have started was not used)
            writes = ()
        elif len(drafts) == 1 and type(nxt) is World:
            writes = tuple((f, k, r) for (f, k), r in drafts[0].writes.items())
            if not _same_records(_apply(world, writes), nxt):
                writes = None  # the draft changed something it did not log
        if isinstance(nxt, _RecordingWorld):  # a path we did not foresee returned the stand-in
            nxt, answer = self._step(world, action)
            writes = None
        reads: list[Read] | None = rec.reads if _hashable(rec.reads) else None
        if not rec.cacheable or reads is None:
            writes = None
        return nxt, answer, reads, writes

    def _record(self, world: World, action: Any, key: Any) -> tuple[World, Any]:
        self.misses += 1
        nxt, answer, reads, writes = self.footprint(world, action)
        if key not in self._trees and type(action) not in _EVENTS:
            self._pinned[key] = action
        if reads is not None:  # an unhashable read: answer, but do not cache
            self._insert(key, reads, _Leaf(answer, writes))
        return nxt, answer

    def _insert(self, key: Any, reads: list[tuple[Callable[..., Any], tuple, Any]], leaf: _Leaf) -> None:
        parent, slot = self._trees, key
        for query, args, value in reads:
            node = parent.get(slot)
            if node is None:
                node = parent[slot] = (query, args, {})
            elif type(node) is _Leaf or node[0] is not query or node[1] != args:
                raise AssertionError(
                    f"step read {query.__name__}{args} where an earlier run of the same action read "
                    f"{'nothing more' if type(node) is _Leaf else node[0].__name__ + repr(node[1])}: "
                    "a step must depend only on the world and the action")
            parent, slot = node[2], value
        parent[slot] = leaf

    def _check(self, world: World, action: Any, result: tuple[World, Any]) -> None:
        expected = self._step(world, action)
        if expected[0] != result[0] or expected[1] != result[1]:
            raise AssertionError(f"StepCache answered {result[1]!r} for {action!r} where step answers "
                                 f"{expected[1]!r} (worlds equal: {expected[0] == result[0]})")

    def stats(self) -> dict[str, int]:
        """Hits, misses, and the decision-tree size (actions and nodes)."""
        nodes = 0
        stack = list(self._trees.values())
        while stack:
            node = stack.pop()
            nodes += 1
            if type(node) is not _Leaf:
                stack.extend(node[2].values())
        return {"hits": self.hits, "misses": self.misses, "actions": len(self._trees), "nodes": nodes}
