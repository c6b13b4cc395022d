"""Flat explored states: a world as a tuple of small ints, and transitions reused by footprint.

The explorer's ECS model (ecs.py) stores millions of states and computes
each one's successors. With worlds of records, hashing, comparing and
building a successor touches every record. Here a state is a ``FlatState``: a
plain tuple of small ints, one *slot* per thing that can change:

* first, how often each bounded request has changed the world (``used``), and
  the ImageId each named request answered (``bound``, interned; 0 for none);
* then one slot per record key of the world (an image id, a task's image id,
  a queue's region, a token, an instance id), holding the interned record
  (0: no such record). A slot is given to a key the first time it is met.

Slot numbers and record ids are this model's own, so a FlatState is equal to
another exactly when their worlds, ``used`` and ``bound`` are equal (trailing
zeros are dropped, so a slot given later does not change older states).

Successors are ``step``'s answers, reused by footprint as in
``semantics/footprint.py``, but over slots: for each request of the alphabet
(and for the service's events) a decision tree asks the slots the last run
read (the request's count and references, then every query ``step`` made:
a keyed query is one slot, a scan its own answer from the records its filter
takes, a whole-field read all of that field's slots), and its leaves hold the
transitions as slot writes. A miss turns the state back into a World, runs the model's own code
and ``step`` on a stand-in that logs their reads, and stores what they did.
Properties (invariants, witnesses, L1's pending) are reused the same way.
Nothing here decides anything about the API.
"""

from __future__ import annotations

from hashlib import blake2b
from itertools import chain
from operator import itemgetter
from typing import TYPE_CHECKING, Any, Callable, Iterable

from ..semantics.events import enabled_events
from ..semantics.footprint import FIELD_NAMES, Read, StepCache, observe, read_through
from ..semantics.world import World, _Lookups
from .state import ExploreState

if TYPE_CHECKING:
    from .ecs import CopyImageModel

__all__ = ["FlatState", "Codec", "FlatSuccessors", "FlatMemo", "FlatMemos"]

_new = tuple.__new__
_FIELD_NO = {name: n for n, name in enumerate(FIELD_NAMES)}
_KEY = itemgetter(0)


class FlatState(tuple):
    """An explored state as slots (see module docstring); ``world``, ``used`` and ``bound`` rebuild its parts.

    Equal and hashed as the tuple it is. Each model makes its own subclass,
    which knows the model's ``Codec``.
    """

    __slots__ = ()
    _codec: "Codec"

    @property
    def world(self) -> World:
        return self._codec.explore_state(self).world

    @property
    def used(self) -> tuple[int, ...]:
        return self._codec.explore_state(self).used

    @property
    def bound(self) -> tuple[str | None, ...]:
        return self._codec.explore_state(self).bound

    def __repr__(self) -> str:
        return f"FlatState{tuple(self)!r}"

    def __reduce__(self) -> tuple:
        # Slot numbers mean something only to this process's codec: a pickled
        # FlatState travels as the ExploreState it stands for.
        return ExploreState, tuple(self._codec.explore_state(self))


class _SlotsReader:
    """Reads a growing list of slots (``slots``) in one C-level call, rebuilt when the list grows."""

    __slots__ = ("slots", "_getter", "_for")

    def __init__(self, slots: list[int]) -> None:
        self.slots = slots
        self._getter: Callable[[tuple], Any] = _no_slots
        self._for = 0  # how many slots ``_getter`` reads

    def values(self, p: tuple) -> Any:
        # Walks of property trees run it on every state: one itemgetter call, not a loop over the slots.
        if self._for != len(self.slots):
            self._getter = _getter(self.slots)
            self._for = len(self.slots)
        return self._getter(p)


class _FieldSlots(_SlotsReader):
    """Selects every slot of a field: a rule that scans a whole field depends on all of it.

    ``slots`` is the codec's live list of the field's slots, so slots given later are read too.
    """

    __slots__ = ()

    key = _SlotsReader.values  # the key is the values themselves


class _ScanSlots(_SlotsReader):
    """Selects what a scan (world.py ``SCAN_QUERIES``) answers: its own answer, from the records its filter takes.

    Keyed by the answer itself, the coarsest key that is sound: an answer
    that counts images (``own_image_usage``) does not split states by which
    images they are. Only the slots that have ever held a record the filter
    takes are looked at: the codec tells each scan about every record it
    interns (``offer``), and a record is interned before any state can hold it.
    """

    __slots__ = ("codec", "records", "accept", "query", "field", "args", "accepted", "answers", "by_records")

    def __init__(self, codec: "Codec", field: str, accept: Callable[..., bool], query: Callable[..., Any],
                 args: tuple) -> None:
        super().__init__([])  # ``slots``: in the order they were first offered
        self.codec = codec
        self.records = codec.records[_FIELD_NO[field]]
        self.accept = accept
        self.query = query
        self.field = field
        self.args = args
        self.accepted: dict[int, bool] = {}  # record id -> whether the filter takes it
        # The values of ``slots`` -> the answer. A key made before ``slots`` grew reads fewer slots than any
        # made after (a shorter tuple, or one int for one slot), so it never answers for a state it did not see.
        self.answers: dict[Any, Any] = {}
        # The ids of the records the filter takes, in slot order (one slot per record key) -> the answer.
        self.by_records: dict[tuple[int, ...], Any] = {}

    def offer(self, slot: int, record_id: int, record: Any) -> None:
        ok = self.accepted[record_id] = bool(self.accept(record, *self.args))
        if ok and slot not in self.slots:
            self.slots.append(slot)
            self.codec.version += 1

    def key(self, p: tuple) -> Any:
        values = self.values(p)
        answer = self.answers.get(values, _UNSEEN)
        if answer is _UNSEEN:
            # Many values of the slots hold the same records the filter takes (the others differ): the
            # answer is asked once per such set of records.
            accepted = self.accepted
            taken = tuple([v for v in map(p.__getitem__, self.slots) if v and accepted[v]])
            answer = self.by_records.get(taken, _UNSEEN)
            if answer is _UNSEEN:
                records = self.records
                items = [records[v] for v in taken]
                if len(items) > 1:
                    items.sort(key=_KEY)  # the World's order, so the answer is the one the World gives
                answer = self.by_records[taken] = self.query(_Records(self.field, tuple(items)), *self.args)
            self.answers[values] = answer
        return answer


_UNSEEN = object()


class _Records(_Lookups):
    """One field's records, for a scan to answer from (the other fields are empty)."""

    __slots__ = ("images", "tasks", "queues", "tokens", "instances")

    def __init__(self, field: str, items: tuple) -> None:
        self.images = self.tasks = self.queues = self.tokens = self.instances = ()
        setattr(self, field, items)


class Codec:
    """This model's slots and interned values: ExploreState <-> FlatState."""

    def __init__(self, setting: Any, n_used: int, n_bound: int) -> None:
        self.setting = setting
        self.n_used = n_used
        self.n_bound = n_bound
        self.width = n_used + n_bound  # slots given so far
        self.version = 0  # changes whenever a field or a scan selects more slots (_Tree.index)
        self.zeros: tuple[int, ...] = (0,) * self.width
        self.slot_of: dict[tuple[int, str], int] = {}  # (field number, record key) -> slot
        self.field_slots: list[list[int]] = [[] for _ in FIELD_NAMES]
        self.records: list[list[Any]] = [[None] for _ in FIELD_NAMES]  # per field: id -> record (0: none)
        self.record_ids: list[dict[Any, int]] = [{} for _ in FIELD_NAMES]
        self.names: list[str | None] = [None]  # id -> an ImageId in ``bound`` (0: none yet)
        self.name_ids: dict[str, int] = {}
        self._selectors: dict[Any, Any] = {}
        self._scans: list[list[_ScanSlots]] = [[] for _ in FIELD_NAMES]  # per field: the scans over it
        self._last: tuple[Any, Any] = (None, None)  # the last state rebuilt, and its ExploreState
        self.state_type: type[FlatState] = type("FlatState", (FlatState,), {"__slots__": (), "_codec": self})
        # For a parallel search (see "processes" below): every slot, record and name given, in order, so
        # another process can map this one's numbers to its own (they are given in that order), the field
        # of each slot, and each slot's fingerprint terms.
        self.log: list[tuple] = []  # ("slot", field, key) | ("record", field, record) | ("name", name)
        self.slot_field: list[int] = [-1] * self.width  # slot -> its field number (-1: used, bound)
        self._field_terms = [_Terms(("record", f), self.records[f].__getitem__) for f in range(len(FIELD_NAMES))]
        self.terms: list[_Terms] = ([_Terms(("used", i), int) for i in range(n_used)]
                                    + [_Terms(("bound", i), self.names.__getitem__) for i in range(n_bound)])
        self._peers: dict[int, _Peer] = {}  # id of a peer's adopted table -> its translation (unship)

    # -- interning -----------------------------------------------------------------------------

    def slot(self, field_no: int, key: str) -> int:
        """The slot of the record of ``field_no`` keyed ``key``, giving it the next slot if new."""
        i = self.slot_of.get((field_no, key))
        if i is None:
            i = self.width
            self.log.append(("slot", field_no, key))
            self.slot_field.append(field_no)
            self.terms.append(self._field_terms[field_no])
            self.field_slots[field_no].append(i)
            self.slot_of[(field_no, key)] = i
            self.width += 1
            self.zeros = (0,) * self.width
            self.version += 1
        return i

    def record_id(self, field_no: int, record: Any) -> int:
        if record is None:
            return 0
        ids = self.record_ids[field_no]
        i = ids.get(record)
        if i is None:
            records = self.records[field_no]
            self.log.append(("record", field_no, record))
            i = ids[record] = len(records)
            records.append(record)
            if self._scans[field_no]:
                slot = self.slot(field_no, record[0])
                for scan in self._scans[field_no]:
                    scan.offer(slot, i, record)
        return i

    def name_id(self, name: str | None) -> int:
        if name is None:
            return 0
        i = self.name_ids.get(name)
        if i is None:
            self.log.append(("name", name))
            i = self.name_ids[name] = len(self.names)
            self.names.append(name)
        return i

    # -- states --------------------------------------------------------------------------------

    def make(self, slots: list[int]) -> FlatState:
        """The FlatState of a full list of slots (trailing zeros dropped, so it is canonical)."""
        while slots and not slots[-1]:
            slots.pop()
        return _new(self.state_type, slots)

    def pad(self, s: tuple) -> tuple:
        """``s`` with every slot given so far (a FlatState drops trailing zeros)."""
        n = len(s)
        return s if n >= self.width else s + self.zeros[n:]

    def flatten(self, state: ExploreState) -> FlatState:
        world, used, bound = state
        pairs = [(self.slot(f, r[0]), self.record_id(f, r))
                 for f, items in enumerate((world.images, world.tasks, world.queues, world.tokens, world.instances))
                 for r in items]
        slots = [*used, *map(self.name_id, bound)] + [0] * (self.width - self.n_used - self.n_bound)
        for i, v in pairs:
            slots[i] = v
        return self.make(slots)

    def field(self, f: int, p: tuple) -> tuple:
        """Field number ``f`` of padded state ``p``'s world: its records, in the World's order (by key)."""
        records = self.records[f]
        items = [records[v] for v in map(p.__getitem__, self.field_slots[f]) if v]
        if len(items) > 1:
            items.sort(key=_KEY)
        return tuple(items)

    def view(self, p: tuple) -> "_WorldView":
        """``p``'s world with each field built when first read (a predicate reads one or two of them)."""
        return _WorldView(self, self.pad(p))

    def explore_state(self, s: tuple) -> ExploreState:
        """The ExploreState ``s`` stands for: its World rebuilt in canonical order."""
        last, es = self._last
        if last is s:
            return es
        p = self.pad(s)
        u, b = self.n_used, self.n_used + self.n_bound
        fields = [self.field(f, p) for f in range(len(FIELD_NAMES))]
        names = self.names
        es = _new(ExploreState, (World(self.setting, *fields), p[:u], tuple([names[v] for v in p[u:b]])))
        self._last = (s, es)
        return es

    # -- processes: a parallel search ------------------------------------------------------------
    #
    # Slot numbers and ids are this process's own, in the order it met keys, records and names. A
    # parallel search (parallel_bfs.py) needs two things from them: a fingerprint every process gives
    # the same state, and a way to send a state to another process.

    def fingerprint(self, s: tuple) -> int:
        """A 64-bit fingerprint of ``s`` that every process computes alike, whatever its numbering.

        The sum of one term per non-empty slot, each a digest of what the slot
        means (its field and record, or which count or name and its value;
        ``_digest``), so the order slots were given in does not matter.
        """
        return sum(map(dict.__getitem__, self.terms, s)) & _MASK64

    def step_fingerprint(self, fp: int, p: tuple, writes: Iterable[tuple[int, int]]) -> int:
        """The fingerprint of padded ``p`` (whose own is ``fp``) with ``writes`` applied: only they change the sum."""
        terms = self.terms
        for i, v in writes:
            t = terms[i]
            fp += t[v] - t[p[i]]
        return fp & _MASK64

    def adopt(self, entries: list[tuple]) -> list[tuple]:
        """Another process's ``log`` entries, each with this process's number for it (see ``unship``)."""
        out: list[tuple] = []
        for entry in entries:
            kind = entry[0]
            if kind == "slot":
                out.append((kind, self.slot(entry[1], entry[2])))
            elif kind == "record":
                out.append((kind, entry[1], self.record_id(entry[1], entry[2])))
            else:
                out.append((kind, self.name_id(entry[1])))
        return out

    def unship(self, blob: Iterable[int], table: list[tuple]) -> FlatState:
        """A state another process packed (its slots, in its numbering), in this one's.

        ``table`` is that process's ``log`` so far, adopted (``adopt``); the
        translation built from it is kept, and extended as the table grows.
        """
        peer = self._peers.get(id(table))
        if peer is None or peer.table is not table:
            peer = self._peers[id(table)] = _Peer(self, table)
        if peer.taken != len(table) or peer.width != self.width:
            peer.take()
        if len(blob) > len(peer.values):  # a sender ships its new log entries with (after) its blobs
            raise AssertionError(f"a state uses slot {len(blob) - 1} of a process whose log says it has "
                                 f"{len(peer.values)} slots: its table entries did not come first")
        values = list(map(dict.__getitem__, peer.values, blob))  # each slot's value, in this numbering
        values += peer.zeros[len(values):]
        return self.make(list(peer.gather(values)))  # in this process's slot order

    # -- what a read depends on ------------------------------------------------------------------

    def selector(self, read: Read) -> Any:
        """The slot (an int) or slot selector a query of ``footprint`` depends on; None: not one we know."""
        query, args, _value = read
        if query is _slot_value:  # a count or a name, read by a user's property (_StateView)
            return args[0]
        name = query.__name__
        field = _Lookups.KEYED_QUERIES.get(name)
        if field is not None:
            return self.slot(_FIELD_NO[field], args[0])
        key = (name, args)
        sel = self._selectors.get(key)
        if sel is None:
            whole = getattr(query, "field", None)
            if whole is not None:
                sel = _FieldSlots(self.field_slots[_FIELD_NO[whole]])
            elif name in _Lookups.SCAN_QUERIES:
                field, accept = _Lookups.SCAN_QUERIES[name]
                f = _FIELD_NO[field]
                sel = _ScanSlots(self, field, accept, getattr(_Lookups, name), args)
                for i, record in enumerate(self.records[f][1:], 1):  # every record interned so far
                    sel.offer(self.slot(f, record[0]), i, record)
                self._scans[f].append(sel)
            else:
                return None
            self._selectors[key] = sel
        return sel


    def path(self, p: tuple, reads: list[Read] | None) -> list[tuple[Any, Any]] | None:
        """``reads`` (from ``footprint``) as ``(selector, value in p)`` pairs; None when one is not a slot read."""
        if reads is None:
            return None
        path = []
        for read in reads:
            sel = self.selector(read)
            if sel is None:
                return None
            p = self.pad(p)  # the read may have given a new slot
            path.append((sel, p[sel] if type(sel) is int else sel.key(p)))
        return path


class _Terms(dict):
    """One slot's fingerprint terms (Codec.fingerprint) by value, each made when first needed; 0 for none."""

    __slots__ = ("what", "meaning")

    def __init__(self, what: tuple, meaning: Callable[[int], Any]) -> None:
        super().__init__({0: 0})
        self.what = what  # which slot: ("used", i), ("bound", i), or ("record", field) for any slot of a field
        self.meaning = meaning  # value -> what it stands for (the count, the ImageId, the record)

    def __missing__(self, value: int) -> int:
        term = self[value] = _digest((self.what, self.meaning(value)))
        return term


_MASK64 = (1 << 64) - 1


def _digest(meaning: Any) -> int:
    """A 64-bit digest of ``repr(meaning)``: the same in every process, and with no structure a sum could exploit.

    Python's own ``hash`` would not do. Its tuple hash is nearly additive in a
    tuple's last items (the hash of a task Creating minus that of the same task
    Waiting is often the same for every task), so summed over slots two states
    that swap which task is Creating could share a fingerprint: 484 of
    BM(4,2)'s 14,732 states did in about one run in fifteen, and a parallel
    search lost them. ``hash(None)`` also changes from run to run before
    Python 3.12. A record's repr is its value (strings, numbers, ImageSpec's
    fields), and a term is made once per value met. This takes equal records
    to have equal reprs, as they do here: each field holds one type, so no
    record has ``1`` where an equal one has ``1.0``.
    """
    return int.from_bytes(blake2b(repr(meaning).encode(), digest_size=8).digest(), "little")


class _Counts(dict):
    """A ``used`` slot's values: counts, the same in every process (the small ones looked up in C)."""

    def __missing__(self, value: int) -> int:
        return value


_COUNTS = _Counts((v, v) for v in range(256))


class _Peer:
    """Another process's numbering, as far as its adopted log goes (Codec.unship): its slots and values -> ours."""

    def __init__(self, codec: Codec, table: list[tuple]) -> None:
        self.codec = codec
        self.table = table
        self.taken = 0  # table entries read so far
        fixed = codec.n_used + codec.n_bound
        self.slots = list(range(fixed))  # its slot -> ours (the counts and names are the same slots everywhere)
        self.names: dict[int, int] = {0: 0}  # its name id -> ours
        self.records: list[dict[int, int]] = [{0: 0} for _ in FIELD_NAMES]  # per field: its record id -> ours
        self.values: list[dict[int, int]] = [_COUNTS] * codec.n_used + [self.names] * codec.n_bound
        self.width = -1
        self.zeros: list[int] = []
        self.gather: Callable[[list[int]], Any] = _no_slots

    def take(self) -> None:
        """Read the table's new entries (the peer gives numbers in order), and rebuild ``gather``."""
        for entry in self.table[self.taken:]:
            kind = entry[0]
            if kind == "slot":
                slot = entry[1]
                self.slots.append(slot)
                self.values.append(self.records[self.codec.slot_field[slot]])
            elif kind == "record":
                records = self.records[entry[1]]
                records[len(records)] = entry[2]
            else:
                self.names[len(self.names)] = entry[1]
        self.taken = len(self.table)
        # Our slot k takes its slot ``source[k]``; a slot it has not got takes the 0 appended at the end.
        n = len(self.slots)
        width = self.width = self.codec.width
        source = [n] * width
        for theirs, ours in enumerate(self.slots):
            source[ours] = theirs
        self.zeros = [0] * (n + 1)
        self.gather = itemgetter(*source) if width > 1 else (lambda v, i=source[0]: (v[i],))

# A leaf that cannot be reused: the model's own code runs on the rebuilt state each time.
_SLOW = object()
_NO_GATE: dict = {}
# The leaf of a request that has no transition (e.g. its ``times`` used up): one object, so the hot loop's
# gate tells it by identity (see _gate).
_NO_TRANSITIONS: tuple = ()


def _field_view(f: int) -> property:
    def get(self: "_WorldView") -> tuple:
        value = self._fields[f]
        if value is None:
            value = self._fields[f] = self._codec.field(f, self._p)
        return value

    return property(get)


class _WorldView(_Lookups):
    """A World to read from (every query of ``_Lookups``, and ``setting``) whose fields are built on demand."""

    __slots__ = ("_codec", "_p", "_fields", "setting")

    def __init__(self, codec: Codec, p: tuple) -> None:
        self._codec = codec
        self._p = p
        self._fields: list[tuple | None] = [None] * len(FIELD_NAMES)
        self.setting = codec.setting

    images, tasks, queues, tokens, instances = (_field_view(f) for f in range(len(FIELD_NAMES)))

    def __getattr__(self, name: str) -> Any:
        # Anything but a query or a field (``evolve``, ``draft``, ...): the whole World answers.
        return getattr(self._codec.explore_state(self._p).world, name)


class _OutsideKey(BaseException):
    """A predicate read a field ``FlatMemos``' key does not cover (BaseException: no ``except Exception`` eats it)."""


def _covered_field_view(f: int) -> property:
    build = _field_view(f).fget

    def get(self: "_CoveredView") -> tuple:
        if not self._covered[f]:
            raise _OutsideKey(FIELD_NAMES[f])
        return build(self)  # type: ignore[misc]

    return property(get)


class _CoveredView(_WorldView):
    """A ``_WorldView`` that lets a predicate read only the fields whose every slot is in a key (FlatMemos._ask)."""

    __slots__ = ("_covered",)

    def __init__(self, codec: Codec, p: tuple, covered: list[bool]) -> None:
        super().__init__(codec, p)
        self._covered = covered

    images, tasks, queues, tokens, instances = (_covered_field_view(f) for f in range(len(FIELD_NAMES)))

    def __getattr__(self, name: str) -> Any:
        raise _OutsideKey(name)


# How many states' lookups a tree remembers by their slot values (``_Tree.fast``).
FAST_ENTRIES = 1 << 16


def _no_slots(p: tuple) -> tuple:
    return ()


def _getter(selectors: Iterable[Any]) -> Callable[[tuple], Any]:
    """One C-level call that reads every slot the selectors select now (a slot, or a selector's ``slots``)."""
    slots: set[int] = set()
    for sel in selectors:
        if type(sel) is int:
            slots.add(sel)
        else:
            slots.update(sel.slots)
    return itemgetter(*sorted(slots)) if slots else _no_slots


class _Tree:
    """A decision tree over slots: inner nodes are ``[selector, {value: child}]``, leaves anything else.

    ``fast`` remembers walks: it maps the values of every slot any path of the
    tree reads (``getter(p)``) to the leaf. A leaf depends on the values of the
    slots its own path read, a subset of those, so this is sound; it costs one
    C-level ``itemgetter`` and one dict lookup instead of a walk node by node.
    """

    __slots__ = ("root", "sels", "getter", "fast", "version", "plain")

    def __init__(self) -> None:
        self.root: Any = None
        self.sels: dict[Any, None] = {}  # every selector on some path, in the order first met
        self.getter: Callable[[tuple], Any] = _no_slots
        self.fast: dict[Any, Any] = {}
        self.version = -1  # the codec version ``getter`` was built for (-1: rebuild)
        self.plain = True  # every selector is a slot number, and ``getter`` reads exactly those

    def index(self, codec: "Codec") -> None:
        """Rebuild ``getter`` for the slots the selectors select now, and forget ``fast``.

        A tree that reads only single slots keeps both when the codec moves on
        for another reason (a slot given to another key, a scan that takes
        more): its getter would read the same slots, so ``fast`` stays right.
        """
        if not (self.plain and self.version >= 0):
            self.getter = _getter(self.sels)
            self.fast = {}
            self.plain = all(type(sel) is int for sel in self.sels)
        self.version = codec.version

    def find(self, p: tuple, codec: "Codec") -> Any:
        """The leaf for padded state ``p``, or None when no path matches yet."""
        if self.version != codec.version:
            self.index(codec)
        key = self.getter(p)
        node = self.fast.get(key)
        if node is None:
            node = _walk(self.root, p)
            if node is not None and len(self.fast) < FAST_ENTRIES:
                self.fast[key] = node
        return node

    def insert(self, path: list[tuple[Any, Any]], leaf: Any) -> None:
        """Store ``leaf`` at the end of ``path`` (``(selector, value)`` pairs, in the order they were read).

        ``fast`` stays valid: it holds only walks that found a leaf, and a new
        leaf goes where a walk found none. A new selector changes ``getter``.
        """
        if not path:
            self.version = -1  # the root itself is replaced
        children: dict | None = None  # where the current node hangs, under ``value``
        value: Any = None
        node = self.root
        for sel, v in path:
            if sel not in self.sels:
                self.sels[sel] = None
                self.version = -1
            if node is None:
                node = [sel, {}]
                if children is None:
                    self.root = node
                else:
                    children[value] = node
            elif type(node) is not list or (node[0] is not sel and node[0] != sel):
                raise AssertionError(
                    f"a transition read {sel!r} where an earlier run of the same request read "
                    f"{node[0] if type(node) is list else 'nothing more'!r}: it must depend only on the state")
            children, value = node[1], v
            node = children.get(v)
        if children is None:
            self.root = leaf
        else:
            children[value] = leaf


def _gate(tree: _Tree) -> tuple[int, dict]:
    """The slot a tree reads first and the children under it (the live dict), or -1 when it reads none yet.

    A child that is the empty leaf (``_NO_TRANSITIONS``) means no transition
    whatever the rest of the state: ``successors`` skips the lookup for it.
    """
    root = tree.root
    if type(root) is list and type(root[0]) is int:
        return root[0], root[1]
    return -1, {}


def _walk(node: Any, p: tuple) -> Any:
    while type(node) is list:
        sel = node[0]
        node = node[1].get(p[sel] if type(sel) is int else sel.key(p))
    return node


class _Logged(tuple):
    """``used`` or ``bound`` while a request's transitions are learned: each item read is logged as its slot."""

    # No __slots__: each instance carries its log, the slot of its first item, and the padded state.
    def __getitem__(self, i: Any) -> Any:
        value = tuple.__getitem__(self, i)
        if type(i) is int:
            slot = self.base + i  # type: ignore[attr-defined]
            self.log.append((slot, self.p[slot]))  # type: ignore[attr-defined]
        return value


def _logged(values: tuple, log: list, base: int, p: tuple) -> tuple:
    out = _Logged(values)
    out.log, out.base, out.p = log, base, p  # type: ignore[attr-defined]
    return out


class FlatSuccessors:
    """``CopyImageModel.successors`` over FlatStates: the model's transitions, learned once per footprint."""

    def __init__(self, model: "CopyImageModel", cache: StepCache, codec: Codec, verify: bool = False) -> None:
        self.model = model
        self.cache = cache
        self.codec = codec
        self.verify = verify
        self.entries = [(_Tree(), item) for item in model._plan]
        self.events = _Tree()  # which events are enabled
        self.event_trees: dict[Any, _Tree] = {}
        self.learned = 0  # leaves learned (misses)
        self._table: list[tuple[Any, Any, _Tree, tuple, int, dict]] = []
        self._table_version = -1
        # id of a leaf of ``events`` -> its rows (see _transitions). By id: hashing the leaf would hash
        # every event in it, and a leaf lives as long as the tree, so its id stays its own.
        self._event_rows: dict[int, list[tuple]] = {}
        # Self-loops ``moves`` counts rather than lists (take_self_loops): a leaf's self-loop keeps, where
        # other transitions keep their fingerprint change, the index of its outcome's count here.
        self.loop_outcomes: list[Any] = []
        self.loop_counts: list[int] = []  # never rebound: _transitions holds it while leaves are learned
        self._loop_index: dict[Any, int] = {}

    def successors(self, s: FlatState) -> list[tuple[Any, FlatState, Any]]:
        """``(action, next state, outcome)`` per transition of ``s`` (``s`` itself for a self-loop)."""
        out, _p = self._transitions(s, None)
        return out

    def moves(self, s: FlatState, fp: int) -> tuple[list[tuple[Any, int, Any, Any]], Callable[[Any], FlatState]]:
        """``Model.fingerprinted_moves`` over FlatStates: ``s``'s transitions with their fingerprints, unbuilt.

        Each is ``(action, fingerprint, outcome, writes)``, the fingerprint
        worked out from ``fp`` (``s``'s own) and the slots written, so a
        search that keeps fingerprints builds only the states it has not met
        (``make(writes)``): most successors were met before. A learned
        self-loop is not listed but counted, for ``take_self_loops``: at
        BM(3,2) more than half the moves are self-loops (refused requests),
        and a count costs less than a move the search then skips.
        """
        out, p = self._transitions(s, fp)
        cls = self.codec.state_type

        def make(writes: Iterable[tuple[int, int]]) -> FlatState:
            slots = list(p)
            for i, v in writes:
                slots[i] = v
            while not slots[-1]:  # codec.make, inlined
                slots.pop()
            return _new(cls, slots)

        return out, make

    def _transitions(self, s: FlatState, fp: int | None) -> tuple[list[tuple], tuple]:
        # The explorer's hot loop (see _Tree.find for what a lookup is): per request of the alphabet and
        # per enabled event, one itemgetter and one dict lookup, then the successor built from the parent's
        # slots (``fp`` None, ``successors``) or its fingerprint worked out (``moves``). A row is (getter,
        # fast.get, tree, item, gate, gated): ``item`` is a request's plan (a plain tuple) or an event (a
        # NamedTuple), and the gate skips a request its tree's first read rules out. Also returns ``s``
        # padded to every slot given so far, which ``moves``' writes apply to.
        codec = self.codec
        n = len(s)
        p = s if n >= codec.width else s + codec.zeros[n:]
        if self._table_version != codec.version:
            self._index()
        fresh = True  # nothing learned yet in this call, so every getter still selects every slot it must
        events = self.events.find(p, codec)
        if events is None:
            events = self._learn_events(p)
            p = codec.pad(p)
            fresh = False
        rows = self._event_rows.get(id(events)) if events is not _SLOW else None
        if rows is None:
            rows = self._rows_of(events, p, cache=fresh)
        new, cls, slow, verify = _new, codec.state_type, _SLOW, self.verify
        step_fingerprint = codec.step_fingerprint
        loops = self.loop_counts
        out: list[tuple] = []
        append = out.append
        for getter, get, tree, item, gate, gated in chain(self._table, rows):
            if gate >= 0 and gated.get(p[gate]) is _NO_TRANSITIONS:
                continue  # the tree's first read alone says: no transition (e.g. its ``times`` used up)
            key = getter(p)
            node = get(key)
            if node is None:
                node = _walk(tree.root, p)
                if node is None:
                    node = self._learn(tree, item, p)
                    p = codec.pad(p)
                    fresh = False
                elif fresh and len(tree.fast) < FAST_ENTRIES:
                    tree.fast[key] = node
            if verify:
                self._verify(item, p, node)
            if node is slow:
                self._slow(s, p, item, append, fp)
                p = codec.pad(p)
            elif fp is None:
                for action, writes, outcome, _change in node:
                    if writes is None:
                        append((action, s, outcome))
                    else:
                        slots = list(p)
                        for i, v in writes:
                            slots[i] = v
                        while not slots[-1]:  # codec.make, inlined
                            slots.pop()
                        append((action, new(cls, slots), outcome))
            else:
                for action, writes, outcome, change in node:
                    if writes is None:
                        loops[change] += 1  # a self-loop: counted, not listed (take_self_loops)
                    elif change is not None:
                        append((action, (fp + change) & _MASK64, outcome, writes))
                    else:
                        append((action, step_fingerprint(fp, p, writes), outcome, writes))
        if not fresh:
            self._table_version = -1
        return out, p

    def _index(self) -> None:
        """Rebuild the lookups of the trees that met new selectors, or all when the codec gave new slots.

        Only then: a tree that just grew new leaves keeps its getter and ``fast``.
        """
        codec = self.codec
        stale = [tree for tree in (*(t for t, _item in self.entries), *self.event_trees.values())
                 if tree.version != codec.version]
        if stale or not self._table:
            for tree in stale:
                tree.index(codec)
            self._table = [(tree.getter, tree.fast.get, tree, item, *_gate(tree)) for tree, item in self.entries]
            self._event_rows = {}
        self._table_version = codec.version

    def _rows_of(self, events: Any, p: tuple, cache: bool) -> list[tuple]:
        """The rows of the enabled events (``events``: a leaf of the events tree, or _SLOW: ask the model)."""
        if events is _SLOW:  # a list made for this state alone: not kept
            events = self._event_list(enabled_events(self.codec.explore_state(p).world))
            cache = False
        rows = []
        for event, tree in events:
            if tree.version != self.codec.version:
                tree.index(self.codec)
            rows.append((tree.getter, tree.fast.get, tree, event, -1, _NO_GATE))
        if cache:
            self._event_rows[id(events)] = rows
        return rows

    def _event_list(self, events: list[Any]) -> tuple[tuple[Any, _Tree], ...]:
        """Each event with its tree (made the first time the event is met)."""
        trees = self.event_trees
        out = []
        for event in events:
            tree = trees.get(event)
            if tree is None:
                tree = trees[event] = _Tree()
            out.append((event, tree))
        return tuple(out)

    # -- learning --------------------------------------------------------------------------------

    def _recording_step(self, p: tuple, log: list, wrote: list) -> Callable[..., Any]:
        codec = self.codec

        def step(world: World, action: Any) -> tuple[World, Any]:
            nxt, answer, reads, writes = self.cache.footprint(world, action)
            path = codec.path(p, reads)
            if path is None:
                writes = None
            else:
                log.extend(path)
            wrote.append(writes)
            return nxt, answer

        return step

    def _leaf(self, p: tuple, es: ExploreState, got: list, wrote: list, path: list, item: tuple | None = None,
              used: tuple = (), bound: tuple = ()) -> Any:
        """The transitions ``got`` (from the model's own code on ``es``) as slot writes, or _SLOW.

        Each is ``(action, writes, outcome, change)``: ``writes`` the ``(slot,
        value)`` pairs (None: the state itself), and ``change`` what they add to
        a state's fingerprint (Codec.fingerprint) when ``path`` fixes every
        written slot's old value, else None (worked out per state then). For
        a self-loop (``writes`` None), ``change`` is where its outcome is
        counted in ``loop_counts`` instead.
        """
        if any(w is None for w in wrote):
            return _SLOW
        codec = self.codec
        fixed = {sel: v for sel, v in path if type(sel) is int}  # the slots every state at this leaf agrees on
        leaf = []
        for action, nxt, outcome in got:
            if nxt.world is es.world:  # changed nothing (an event's transition is a new ExploreState even so)
                leaf.append((action, None, outcome, self._loop_slot(outcome)))
                continue
            writes: dict[int, int] = {}
            for writes_of_step in wrote:
                for f, key, record in writes_of_step:
                    writes[codec.slot(f, key)] = codec.record_id(f, record)
            if item is not None:
                k, b = item[1], item[3]
                # ``_entry`` hands back the very tuples it was given when it leaves them alone.
                if nxt.used is not used:
                    writes[k] = nxt.used[k]
                if nxt.bound is not bound:
                    writes[codec.n_used + b] = codec.name_id(nxt.bound[b])
            # Each step's writes were checked against its result by ``footprint``; verify mode (the
            # tests) also checks the slots they give, which costs a flatten per learned transition.
            if self.verify and codec.make(_written(codec.pad(p), writes.items())) != codec.flatten(nxt):
                raise AssertionError(f"the learned writes of {action!r} do not give the state the model gives")
            change: int | None = None
            if fixed.keys() >= writes.keys():
                terms = codec.terms
                change = sum(terms[i][v] - terms[i][fixed[i]] for i, v in writes.items()) & _MASK64
            leaf.append((action, tuple(writes.items()), outcome, change))
        return tuple(leaf) if leaf else _NO_TRANSITIONS

    def _loop_slot(self, outcome: Any) -> int:
        """The index of ``outcome``'s self-loop count in ``loop_counts``, made the first time it is met."""
        i = self._loop_index.get(outcome)
        if i is None:
            i = self._loop_index[outcome] = len(self.loop_outcomes)
            self.loop_outcomes.append(outcome)
            self.loop_counts.append(0)
        return i

    def take_self_loops(self) -> dict[Any, int]:
        """How many self-loops of each outcome ``moves`` counted rather than listed since the last call."""
        counts = self.loop_counts
        out = {o: n for o, n in zip(self.loop_outcomes, counts) if n}
        counts[:] = [0] * len(counts)  # in place: a search under way holds this list
        return out

    def _learn(self, tree: _Tree, item: Any, p: tuple) -> Any:
        """Learn what ``item`` (a request's plan, or an event) does in state ``p``, by the model's own code."""
        self.learned += 1
        codec = self.codec
        es = codec.explore_state(p)
        log: list = []
        wrote: list = []
        got: list = []
        step = self._recording_step(p, log, wrote)
        if type(item) is tuple:  # a request of the alphabet: its count and references are slots read too
            used = _logged(es.used, log, 0, p)
            bound = _logged(es.bound, log, codec.n_used, p)
            self.model._entry(es, es.world, used, bound, item, step, got.append)
            leaf = self._leaf(p, es, got, wrote, log, item, used, bound)
        else:
            self.model._event_transitions(es, es.world, es.used, es.bound, (item,), step, got.append)
            leaf = self._leaf(p, es, got, wrote, log)
        tree.insert(log, leaf)
        return leaf

    def _learn_events(self, p: tuple) -> Any:
        self.learned += 1
        codec = self.codec
        events, reads = observe(codec.explore_state(p).world, enabled_events)
        path = codec.path(p, reads)
        if path is None:
            return _SLOW  # read around the log: asked again next time
        leaf = self._event_list(events)
        self.events.insert(path, leaf)
        return leaf

    # -- the model's own code, on the rebuilt state ----------------------------------------------------

    def _slow(self, s: FlatState, p: tuple, item: Any, append: Callable[[tuple], None], fp: int | None = None) -> None:
        """Append what ``item`` (a request's plan, or an event) does in ``s``, by the model's own code.

        As ``successors`` gives them, or, given ``fp``, as ``moves`` does: the
        writes being the slots where the state differs from padded ``p``.
        """
        codec = self.codec
        es = codec.explore_state(p)
        got: list = []
        if type(item) is tuple:
            self.model._entry(es, es.world, es.used, es.bound, item, self.cache, got.append)
        else:
            self.model._event_transitions(es, es.world, es.used, es.bound, (item,), self.cache, got.append)
        for a, nxt, o in got:
            if nxt.world is es.world:
                append((a, s, o) if fp is None else (a, fp, o, None))
                continue
            flat = codec.flatten(nxt)
            if fp is None:
                append((a, flat, o))
            else:
                before = codec.pad(p)  # flattening may have given new slots
                writes = tuple((i, v) for i, v in enumerate(codec.pad(flat)) if v != before[i])
                append((a, codec.fingerprint(flat), o, writes))

    def _verify(self, item: Any, p: tuple, leaf: Any) -> None:
        if leaf is _SLOW:
            return
        s = self.codec.make(list(p))
        expected: list = []
        self._slow(s, p, item, expected.append)
        got = [(a, s if w is None else self.codec.make(_written(p, w)), o) for a, w, o, _c in leaf]
        if got != expected:
            raise AssertionError(f"a learned transition differs from the model's own: {got!r} != {expected!r}")
        fp = self.codec.fingerprint(p)
        for (_a, w, _o, change), (_a2, nxt, _o2) in zip(leaf, got):
            if w is not None and change is not None and (fp + change) & _MASK64 != self.codec.fingerprint(nxt):
                raise AssertionError(f"a learned fingerprint change is wrong: {leaf!r}")


def _written(p: tuple, writes: Iterable[tuple[int, int]]) -> list[int]:
    """``p``'s slots with ``writes`` (``(slot, value)`` pairs) applied."""
    slots = list(p)
    for i, v in writes:
        slots[i] = v
    return slots


class FlatMemo:
    """A predicate (an invariant, a witness, L1's pending, a user's property) on FlatStates, reused by footprint.

    The built-in ones are predicates on worlds; a user's own (``on_state``)
    is one on ExploreStates, and is asked of a ``_StateView``.
    """

    __slots__ = ("codec", "predicate", "on_state", "tree", "__name__")

    def __init__(self, codec: Codec, predicate: Callable[[Any], Any], on_state: bool = False) -> None:
        self.codec = codec
        self.predicate = predicate
        self.on_state = on_state
        self.tree = _Tree()
        self.__name__ = getattr(predicate, "__name__", "predicate")

    def ask(self, world: Any, p: tuple, touch: Callable[[], None]) -> Any:
        """The predicate on ``world`` (a view of padded ``p``), or on ``p``'s state with that world."""
        if not self.on_state:
            return self.predicate(world)
        return self.predicate(_StateView(world, p, self.codec, touch))

    def answer(self, p: tuple, node: Any, view: list) -> tuple[Any, bool]:
        """The value at ``node`` (the walk of padded ``p``), learning it when there is none yet.

        Also whether the value may be reused for states that agree on the
        slots the tree reads (False when the predicate read around the log).
        ``view`` holds the ``_WorldView`` of ``p`` (or None), shared by the
        memos asked of one state, so each field is built once for all of them.
        """
        if type(node) is _Value:
            return node.value, True
        codec = self.codec
        if node is _SLOW:
            es = codec.explore_state(p)
            return self.predicate(es if self.on_state else es.world), False
        if view[0] is None or len(view[0]._p) != codec.width:  # another memo's path may have given a slot
            view[0] = codec.view(p)
        if self.on_state:
            def run(stand_in: Any) -> Any:
                touched: list[bool] = []

                def touch() -> None:  # ``used`` or ``bound`` read: the path reads every one of their slots, once
                    if not touched:
                        touched.append(True)
                        for slot in range(codec.n_used + codec.n_bound):
                            read_through(stand_in, _slot_value, slot)

                return self.predicate(_StateView(stand_in, p, codec, touch))

            value, reads = observe(view[0], run)  # type: ignore[arg-type]
        else:
            value, reads = observe(view[0], self.predicate)  # type: ignore[arg-type]
        path = codec.path(p, reads)
        self.tree.insert(path or [], _SLOW if path is None else _Value(value))
        return value, path is not None


def _slot_value(view: "_WorldView", slot: int) -> int:
    """Slot ``slot`` of the state ``view`` shows: a read of a count or a name, logged by ``observe`` as a query."""
    return view._p[slot]


class _StateView(ExploreState):
    """The ExploreState a user's property is asked of on flat states: ``world`` is a view of the slots.

    Reading ``used`` or ``bound`` in any way (an attribute, an index,
    unpacking, comparing) first calls ``touch``, which either logs a read of
    every count and name slot (learning) or refuses when they are not all in
    ``FlatMemos``' key (asking directly). So nothing the property reads is
    left out of what its answer is kept under.
    """

    # No __slots__ (a tuple subclass cannot have them): each instance carries its ``touch``.
    def __new__(cls, world: Any, p: tuple, codec: Codec, touch: Callable[[], None]) -> "_StateView":
        u, b = codec.n_used, codec.n_used + codec.n_bound
        names = codec.names
        self = tuple.__new__(cls, (world, p[:u], tuple([names[v] for v in p[u:b]])))
        self._touch = touch  # type: ignore[attr-defined]
        return self

    @property
    def world(self) -> Any:  # type: ignore[override]
        return tuple.__getitem__(self, 0)

    @property
    def used(self) -> tuple[int, ...]:  # type: ignore[override]
        self._touch()  # type: ignore[attr-defined]
        return tuple.__getitem__(self, 1)

    @property
    def bound(self) -> tuple[str | None, ...]:  # type: ignore[override]
        self._touch()  # type: ignore[attr-defined]
        return tuple.__getitem__(self, 2)

    def __getitem__(self, i: Any) -> Any:
        if i != 0 and i != -3:
            self._touch()  # type: ignore[attr-defined]
        return tuple.__getitem__(self, i)

    def __radd__(self, other: Any) -> Any:
        # ``(x,) + state``: without this, tuple's own concatenation would read the items unseen.
        self._touch()  # type: ignore[attr-defined]
        return other + tuple(tuple.__iter__(self))


def _touching(name: str) -> Callable[..., Any]:
    method = getattr(tuple, name)

    def touching(self: _StateView, *args: Any) -> Any:
        self._touch()  # type: ignore[attr-defined]
        return method(self, *args)

    touching.__name__ = name
    return touching


# Whatever reads every item (unpacking and ``_asdict`` iterate) reads the counts and names too.
for _name in ("__iter__", "__contains__", "__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__", "__hash__",
              "__add__", "__mul__", "__rmul__", "__repr__", "count", "index", "__reduce__", "__getnewargs__"):
    setattr(_StateView, _name, _touching(_name))
del _name


class FlatMemos:
    """Several FlatMemos asked of the same states (a model's properties): one lookup answers them all.

    ``condition(i)`` is the i-th predicate as a function of a state. The
    checker asks each property of each new state in turn; the first asks
    every memo and keeps the answers by the values of every slot any of them
    reads (as ``_Tree.fast`` does), the others take them from there. That
    lookup is the only memory of walks: a state it misses is walked down each
    memo's tree once, and the memos that must learn share one view of it.

    The search says which answers it still wants (``want``, search.py
    ``quiet_test``): a property once decided is left out of the lookup, so
    it costs nothing more and what it read no longer splits the key.

    A memo whose tree reads single slots (a keyed query: A4 and I1 look up a
    copy's image by id) stays out of the key too, and is walked down its own
    tree on every state: the key reads every slot any path reads, so in the
    benchmark model A4's source slots would split it into one entry per state,
    while each path of A4's tree reads only the sources of the copies in progress.
    Where a walked tree's first read is of slots the key reads (A4's scan of
    the tasks), the key's entry keeps the node that read leads to, so the walk
    per state starts there; where that node is the answer, the entry is the
    whole answer and nothing is walked (``_rest``).
    """

    def __init__(self, codec: Codec, predicates: list[Callable[[Any], Any]], on_state: Iterable[bool] = ()) -> None:
        self.codec = codec
        flags = list(on_state)
        flags += [False] * (len(predicates) - len(flags))
        self.memos = [FlatMemo(codec, p, flag) for p, flag in zip(predicates, flags)]
        self.getter: Callable[[tuple], Any] = _no_slots
        self.fast: dict[Any, tuple] = {}
        self.version: tuple[int, int] = (-1, -1)  # the codec version and selector count ``getter`` was built for
        self.last: tuple[Any, tuple] = ((), ())  # the last state asked, and its answers
        self.covered: list[bool] = []  # per field: whether ``getter`` reads every slot of it (see _ask)
        self.covered_counts = False  # whether it reads every count and name slot (a user's property may)
        self.wanted = list(enumerate(self.memos))  # (index, memo) of the answers the search still wants
        self.is_wanted = [True] * len(self.memos)
        self.keyed = self.wanted  # the wanted memos the key answers (``_index``)
        self.keyed_memos = [m for _i, m in self.keyed]
        self.spread: list[int] | None = None
        self.walked: list[tuple[int, FlatMemo]] = []  # the others: walked down their trees on every state
        self.in_key: set[int] = set()  # the slots ``getter`` reads
        self.batch = self.answers  # one bound method, shared by every condition (``is`` tells them apart)
        self.narrow = self.want  # likewise

    def want(self, indexes: Iterable[int]) -> None:
        """Only the answers of memos ``indexes`` are looked up from now on; the others are asked one by one."""
        wanted = sorted(set(indexes))
        if wanted != [i for i, _memo in self.wanted]:
            self.wanted = [(i, self.memos[i]) for i in wanted]
            self.is_wanted = [i in wanted for i in range(len(self.memos))]
            self.version = (-1, -1)  # a key of what the wanted memos read
            self.last = ((), ())

    def _index(self) -> None:
        walked = {i for i, m in self.wanted if any(type(sel) is int for sel in m.tree.sels)}
        self.walked = [(i, m) for i, m in self.wanted if i in walked]
        self.keyed = [(i, m) for i, m in self.wanted if i not in walked]
        self.keyed_memos = [m for _i, m in self.keyed]
        # Where ``_ask``'s answers go in the tuple of all (None for a memo not keyed): None when they are all.
        self.spread = None if len(self.keyed) == len(self.memos) else [i for i, _m in self.keyed]
        sels = [sel for _i, memo in self.keyed for sel in memo.tree.sels]
        self.getter = _getter(sels)
        self.fast = {}
        self.version = self._version()
        keyed = self.in_key = {i for sel in sels for i in ((sel,) if type(sel) is int else sel.slots)}
        self.covered = [keyed.issuperset(slots) for slots in self.codec.field_slots]
        self.covered_counts = keyed.issuperset(range(self.codec.n_used + self.codec.n_bound))

    def _version(self) -> tuple[int, int]:
        # A memo that learns a path of selectors it had already keeps the slots it depends on.
        n = 0
        for _i, m in self.wanted:  # asked on every miss: a loop costs less than sum() of a generator
            n += len(m.tree.sels)
        return self.codec.version, n

    def answers(self, s: Any) -> tuple:
        codec = self.codec
        n = len(s)
        p = s if n >= codec.width else s + codec.zeros[n:]
        if self.version[0] != codec.version:  # new slots: a field selector selects more now (or ``want``)
            self._index()
        key = self.getter(p)
        got = self.fast.get(key)
        if got is None:
            got = self._miss(p, key)
        elif type(got) is _Rest:
            got = self._finish(p, got)
        self.last = (s, got)
        return got

    def _miss(self, p: tuple, key: Any) -> tuple:
        """The answers for padded ``p``, which ``fast`` does not know: asked, walked, and kept under ``key``."""
        got, reusable = self._ask(p)
        # Kept only if no memo met a new selector just now (it may read slots ``getter`` misses), and
        # none read around the log.
        if self._version() != self.version:
            self._index()
            reusable = False
        if not self.walked:
            if reusable and len(self.fast) < FAST_ENTRIES:
                self.fast[key] = got
            return got
        version = self.codec.version
        full = self._walk_down(p, got)
        if reusable and self.codec.version == version and len(self.fast) < FAST_ENTRIES:
            self.fast[key] = self._rest(p, full)
        return full

    def _rest(self, p: tuple, full: tuple) -> tuple | _Rest:
        """What ``fast`` keeps for ``p``'s key: ``full`` when the key decides the walked memos too, else a _Rest.

        A walked memo whose tree first reads slots that are all in the key
        (A4's sources in progress: a scan of the tasks, which I6 keys by) is
        decided that far by the key alone, so the walk per state starts below
        that read; where it ends there, the answer is the key's alone.
        """
        starts = []
        for i, memo in self.walked:
            node = root = memo.tree.root
            if type(root) is list and self._in_key(root[0]):
                sel = root[0]
                node = root[1].get(p[sel] if type(sel) is int else sel.key(p), root)
            if type(node) is not _Value:
                starts.append((i, node))
        return _Rest(full, starts) if starts else full  # ``full`` holds the answers the key decides

    def _in_key(self, sel: Any) -> bool:
        slots = (sel,) if type(sel) is int else sel.slots
        return self.in_key.issuperset(slots)

    def _finish(self, p: tuple, rest: _Rest) -> tuple:
        """The answers for padded ``p`` from ``rest``: each walked memo walked down from where its key left it."""
        out = list(rest.got)
        for i, node in rest.starts:
            while type(node) is list:
                sel = node[0]
                node = node[1].get(p[sel] if type(sel) is int else sel.key(p))
            if type(node) is not _Value:  # a path not learned yet (or read around the log)
                return self._walk_down(p, rest.got)
            out[i] = node.value
        return tuple(out)

    def _walk_down(self, p: tuple, got: tuple) -> tuple:
        """``got`` with the answers of the walked memos for padded ``p``, each from its tree (learning if new)."""
        out = list(got)
        view: list = [None]
        p = self.codec.pad(p)  # the other memos may have learned new slots
        for i, memo in self.walked:
            node = _walk(memo.tree.root, p)
            if type(node) is _Value:
                out[i] = node.value
            else:
                out[i] = memo.answer(p, node, view)[0]
                p = self.codec.pad(p)  # its path may have given a slot
        return tuple(out)

    def _ask(self, p: tuple, memos: list[FlatMemo] | None = None) -> tuple[tuple, bool]:
        """Every memo's answer for padded ``p``, which ``fast`` does not know, and whether to keep them.

        A memo whose tree has no leaf for ``p`` is first asked directly on a
        view that lets it read only the fields whose slots are all in
        ``fast``'s key: if it reads nothing else, its answer depends on the key
        alone and may be kept under it, at the cost of one run of the
        predicate. Otherwise it learns by footprint, which widens the key.
        """
        codec = self.codec
        view: list = [None]  # one view of ``p``, shared by the memos that learn
        asked: Any = None  # one limited view of ``p``, shared by the memos asked directly
        out: list[Any] = []
        reusable = True
        for memo in self.keyed_memos if memos is None else memos:
            if len(p) < codec.width:
                p = codec.pad(p)  # another memo's path gave a slot
            node = _walk(memo.tree.root, p)
            if node is None:
                if asked is None or len(asked._p) != codec.width:
                    asked = _CoveredView(codec, p, self.covered)
                try:
                    out.append(memo.ask(asked, p, self._counts_covered))
                    continue
                except _OutsideKey:
                    pass
            value, ok = memo.answer(p, node, view)
            out.append(value)
            reusable = reusable and ok
        spread = self.spread
        if memos is None and spread is not None:  # answers by index: None for those not wanted
            full: list[Any] = [None] * len(self.memos)
            for i, value in zip(spread, out):
                full[i] = value
            out = full
        return tuple(out), reusable

    def _counts_covered(self) -> None:
        """A property asked directly read the counts or names: allowed when the key holds all their slots."""
        if not self.covered_counts:
            raise _OutsideKey("used/bound")

    def condition(self, i: int) -> Callable[[Any], Any]:
        memo = [self.memos[i]]

        def alone(s: Any) -> Any:
            (value,), _ = self._ask(self.codec.pad(s), memo)
            return value

        def condition(s: Any) -> Any:
            if not self.is_wanted[i]:  # decided, and asked again (a trace shown, another search)
                return alone(s)
            last, got = self.last
            if s is not last:
                try:
                    got = self.answers(s)
                except Exception:
                    return alone(s)  # maybe another memo's predicate raised: this one alone, so an error is its own
            return got[i]

        condition.__name__ = self.memos[i].__name__
        # All of them in one call: the search asks ``batch`` once per new state (search.py ``quiet_test``),
        # and says with ``narrow`` which answers it still wants.
        condition.batch = self.batch  # type: ignore[attr-defined]
        condition.narrow = self.narrow  # type: ignore[attr-defined]
        condition.index = i  # type: ignore[attr-defined]
        return condition


class _Rest:
    """A ``FlatMemos.fast`` entry that leaves walks to do: the answers the key decides, and where each walk starts."""

    __slots__ = ("got", "starts")

    def __init__(self, got: tuple, starts: list[tuple[int, Any]]) -> None:
        self.got = got
        self.starts = starts  # (memo index, node of its tree the key leads to)


class _Value:
    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value
