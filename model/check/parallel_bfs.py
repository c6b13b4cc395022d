"""Breadth-first search on several processes, the store sharded by fingerprint.

Each worker process (forked, so it shares the model and the string-hash seed)
owns the states whose fingerprint is its number modulo the number of
workers. It keeps their fingerprints and parents, and it keeps its frontier
packed. This process keeps only counts: when the search ends (or is
interrupted), it asks the workers for the parent pointers on the way back
from each state that decided something, which is all a trace needs. Level
by level, every worker:

* checks the undecided properties on its frontier;
* expands the frontier;
* keeps the successors it owns;
* sends every other successor to its owner, through this process, which
  only routes and counts.

A successor travels as the blob ``Model.pack`` made in the sender's id
space, with the table entries the receiver has not had yet
(``Model.packed_values`` / ``adopt_values``). A model without ``pack``
travels pickled.

Levels are the BFS levels, and properties are checked on each level's
states before the level is expanded (or, at a bound, only checked). So a
violation is found at the depth where its state was first reached, and
counterexamples are shortest. They are rebuilt from the merged parent
pointers, as the compact store does; when a state is reached from two
parents in one level, the parent kept may differ from a one-process run's.
Bounds and "every property decided" are looked at between levels.
States are known by ``Model.fingerprint``, which must agree between
processes: ``hash`` for states that hash by value (``ImageSpec`` hashes by
value for this reason), a sum of per-slot terms for the ECS model's flat
states (check/flat.py). Forking is POSIX-only.
"""

from __future__ import annotations

import multiprocessing
import pickle
import signal
import sys
import time
import traceback
from typing import Any, Callable

from .search import Search, overrides, quiet_test
from .store import keys_nbytes

__all__ = ["run"]


def run(search: Search, workers: int) -> None:
    model = search.model
    ctx = multiprocessing.get_context("fork")
    props = {p.name: p for p in search.pending_safety}
    pool: list[tuple[Any, Any]] = []
    owed = [0] * workers  # replies each worker still owes (a Ctrl-C may come between a job and its reply)
    store = search.store
    seen = store.seen  # type: ignore[union-attr]  # here: the initial states, then the traces' pointers
    fingerprint = model.fingerprint  # the store keys by it too (CompactStore.expander), and traces replay by it
    try:
        for me in range(workers):
            here, there = ctx.Pipe()
            proc = ctx.Process(target=_serve, args=(there, _Worker(search, props, me, workers)), daemon=True)
            proc.start()
            there.close()
            pool.append((here, proc))

        inits = list(model.init_states())
        if not inits:
            raise ValueError("model.init_states() returned no states; a model needs at least one initial state")
        search.inits = inits
        for state in inits:
            h = fingerprint(state)
            if h not in seen:
                seen[h] = h
                search.init_keys.append(h)
        new = len(search.init_keys)
        store.counted = new  # type: ignore[union-attr]
        search.count_depth(0, new)

        depth = 0
        while new:
            search.depth = depth
            if search.stop:  # every property decided
                search.halted_with_work = True
                break
            expand = _may_expand(search, depth)
            pending = [p.name for p in search.pending_safety]
            deadline = None if search.seconds is None else search._deadline
            replies = _ask(pool, [("level", pending, expand, deadline)] * workers, owed)
            halted = _merge(search, replies)
            if not expand:
                break
            # Route each worker's successors to their owners, senders in order.
            mail = [[(r["me"], r["out"][q]) for r in replies if q in r["out"]] for q in range(workers)]
            new = sum(answer["new"] for answer in _ask(pool, [("receive", m) for m in mail], owed))
            store.counted += new  # type: ignore[union-attr]
            search.count_depth(depth + 1, new)
            depth += 1
            if search.progress is not None:
                search.progress(search.snapshot())
            if halted:
                search.hit("seconds")
                search.halted_with_work = True
                _merge(search, _ask(pool, [("level", [p.name for p in search.pending_safety], False, None)] * workers,
                                    owed))
                break
        _fetch_traces(search, pool, owed)
        store.bytes_elsewhere = sum(a["nbytes"] for a in _ask(pool, [("nbytes",)] * workers, owed))  # type: ignore[union-attr]
    except KeyboardInterrupt:
        _fetch_traces(search, pool, owed)  # the workers ignore Ctrl-C: what they found can still be shown
        raise
    finally:
        for conn, _proc in pool:
            try:
                conn.send(None)
            except OSError:
                pass
            conn.close()
        for _conn, proc in pool:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.terminate()


def _may_expand(search: Search, depth: int) -> bool:
    """Whether this level is expanded, or only checked (a bound says stop)."""
    if search.max_depth is not None and depth >= search.max_depth:
        search.hit("max_depth")
    elif search.max_states is not None and search.size() >= search.max_states:
        search.hit("max_states")
    elif time.monotonic() >= search._deadline:
        search.hit("seconds")
        search.stop = True
    else:
        return True
    search.halted_with_work = True
    return False


def _ask(pool: list, jobs: list, owed: list[int]) -> list[dict[str, Any]]:
    """Send each worker its job, then collect the answers in worker order.

    ``owed`` counts the replies not yet read: after a Ctrl-C they are read
    (and dropped) first, so the next job's answer is not taken for an older one's.
    """
    for i, (conn, _proc) in enumerate(pool):
        while owed[i]:
            conn.recv()
            owed[i] -= 1
    for i, ((conn, _proc), job) in enumerate(zip(pool, jobs)):
        conn.send(job)
        owed[i] += 1
    answers = []
    for i, (conn, _proc) in enumerate(pool):
        answer = conn.recv()
        owed[i] -= 1
        if "error" in answer:
            raise RuntimeError(f"a worker of the parallel search failed:\n{answer['error']}")
        answers.append(answer)
    return answers


def _fetch_traces(search: Search, pool: list, owed: list[int]) -> None:
    """Copy into the store the parent pointers from each deciding state back to an initial one.

    The workers keep every state's parent; a trace (``CompactStore.path_to``)
    needs only those on its way back, one level per round of questions.
    """
    seen = search.store.seen  # type: ignore[union-attr]
    ends = [fp for fp in search.found.values() if isinstance(fp, int)]
    if search.deadlock is not None:
        ends.append(search.deadlock)
    todo = {fp for fp in ends if fp not in seen}
    workers = len(pool)
    while todo:
        asks: list[list[int]] = [[] for _ in range(workers)]
        for fp in todo:
            asks[fp % workers].append(fp)
        todo = set()
        for answer in _ask(pool, [("parents", a) for a in asks], owed):
            for fp, parent in answer["parents"]:
                seen[fp] = parent
                if parent not in seen:
                    todo.add(parent)


def _merge(search: Search, replies: list[dict[str, Any]]) -> bool:
    """Add the workers' counts and findings to ``search``; True when one stopped at the deadline."""
    props = {p.name: p for p in search.props}
    for reply in replies:
        for name, fp in reply["found"]:
            search.found_at([props[name]], fp)
        for fp in reply["deadlocks"]:
            search.deadlocked_at(fp)
        search.transitions += reply["transitions"]
        search.expanded += reply["expanded"]
        search.terminal += reply["terminal"]
        search.outside += reply["outside"]
        cov = search.coverage
        for label, n in reply["coverage"].items():
            cov[label] = cov.get(label, 0) + n
    return any(r["halted"] for r in replies)


class _Worker:
    """One shard: its fingerprints with their parents, its frontier, and the tables of the others."""

    def __init__(self, search: Search, props: dict, me: int, workers: int) -> None:
        self.model = search.model
        self.props = props
        self.track_deadlocks = search.track_deadlocks
        self.boundary = search.boundary
        self.me = me
        self.workers = workers
        # Packed blobs travel only if the model can ship its table (packed_values, adopt_values).
        self.packs = overrides(self.model, "pack") and hasattr(self.model, "packed_values")
        # Called once per state kept or sent: the model's own ``pack`` itself, or pickle.
        self._pack: Callable[[Any], bytes] = self.model.pack if self.packs else _pickled
        self.fingerprint = self.model.fingerprint
        self.seen: dict[int, int] = {}
        self.frontier: list[tuple[int, int, bytes]] = []  # (fingerprint, whose id space, blob)
        self.sent = [0] * workers  # table values shipped to each peer
        self.tables: list[list[Any]] = [[] for _ in range(workers)]  # each peer's values, as our objects

    def start(self) -> None:
        self.model.take_self_loops()  # counted by the parent before the fork: the parent reports them
        for state in self.model.init_states():
            h = self.fingerprint(state)
            if h % self.workers == self.me and h not in self.seen:
                self.seen[h] = h
                self.frontier.append((h, -1, self._pack(state)))

    def _unpack(self, source: int, blob: bytes) -> Any:
        if not self.packs:
            return pickle.loads(blob)
        return self.model.unpack(blob) if source < 0 else self.model.unpack(blob, self.tables[source])

    def level(self, pending_names: list[str], expand: bool, deadline: float | None) -> dict[str, Any]:
        model, me, workers = self.model, self.me, self.workers
        moves_of = model.fingerprinted_moves
        pending = [self.props[n] for n in pending_names]
        quiet = quiet_test(pending)
        found: list[tuple[str, int]] = []
        coverage: dict[Any, int] = {}
        cov_get = coverage.get
        pack = self._pack
        seen = self.seen
        keep: list[tuple[int, int, bytes]] = []
        out: list[dict[int, tuple[int, bytes]]] = [{} for _ in range(workers)]
        transitions = expanded = terminal = outside = 0
        deadlocks: list[int] = []
        halted = False
        frontier, self.frontier = self.frontier, []
        for i, (fp, source, blob) in enumerate(frontier):
            state = self._unpack(source, blob)
            if pending and (quiet is None or not quiet(state)):
                decided = [p for p in pending if p.decided_by(state)]
                if decided:
                    found.extend((p.name, fp) for p in decided)
                    pending = [p for p in pending if p not in decided]
                    quiet = quiet_test(pending)
            if not expand:
                continue
            if deadline is not None and i % 64 == 0 and time.monotonic() >= deadline:
                halted = True
                expand = False  # the rest is still checked, not expanded
                continue
            if self.boundary is not None and not self.boundary(state):
                outside += 1
                continue
            moved = 0
            moves, make = moves_of(state, fp)  # a state is built only when it is kept or sent
            for _action, h, outcome, recipe in moves:
                coverage[outcome] = cov_get(outcome, 0) + 1
                if h == fp:  # a self-loop
                    continue
                moved += 1
                owner = h % workers
                if owner == me:
                    if h not in seen:
                        seen[h] = fp
                        keep.append((h, -1, pack(make(recipe))))
                elif h not in out[owner]:
                    out[owner][h] = (fp, pack(make(recipe)))
            transitions += moved
            expanded += 1
            if not moved:
                terminal += 1
                if self.track_deadlocks and not model.allows_termination(state):
                    deadlocks.append(fp)
        self.frontier = keep
        for outcome, n in model.take_self_loops().items():  # counted, not listed, by fingerprinted_moves
            coverage[outcome] = cov_get(outcome, 0) + n
        mail = {}
        for peer, items in enumerate(out):
            if items:
                news: list[Any] = []
                if self.packs:  # after packing: the blobs may use values the peer has not had
                    news = model.packed_values(self.sent[peer])
                    self.sent[peer] += len(news)
                # Pickled here, once: the parent forwards the bytes without reading them.
                mail[peer] = pickle.dumps((news, [(h, parent, blob) for h, (parent, blob) in items.items()]),
                                          pickle.HIGHEST_PROTOCOL)
        return {"me": me, "out": mail, "found": found, "coverage": coverage, "transitions": transitions,
                "expanded": expanded, "terminal": terminal, "outside": outside, "deadlocks": deadlocks,
                "halted": halted}

    def receive(self, mail: list) -> dict[str, Any]:
        """Keep the states others found that this one owns; answer how many new states it has in all."""
        seen, frontier = self.seen, self.frontier
        for sender, letter in mail:
            values, items = pickle.loads(letter)
            if values:
                self.tables[sender].extend(self.model.adopt_values(values))
            for h, parent, blob in items:
                if h not in seen:
                    seen[h] = parent
                    frontier.append((h, sender, blob))
        return {"new": len(frontier)}

    def parents(self, fingerprints: list[int]) -> dict[str, Any]:
        return {"parents": [(h, self.seen[h]) for h in fingerprints]}

    def nbytes(self) -> dict[str, Any]:
        """What this shard of the store takes (as ``CompactStore.nbytes`` counts it)."""
        return {"nbytes": sys.getsizeof(self.seen) + keys_nbytes(self.seen)}


def _serve(conn: Any, worker: _Worker) -> None:
    """A worker's loop: answer each job until it is sent None."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    try:
        worker.start()
    except Exception:
        conn.recv()
        conn.send({"error": traceback.format_exc()})
        return
    while True:
        try:
            job = conn.recv()
        except EOFError:
            return
        if job is None:
            return
        try:
            kind = job[0]
            if kind == "level":
                answer = worker.level(*job[1:])
            elif kind == "receive":
                answer = worker.receive(job[1])
            elif kind == "parents":
                answer = worker.parents(job[1])
            else:
                answer = worker.nbytes()
            conn.send(answer)
        except Exception:
            conn.send({"error": traceback.format_exc()})


def _pickled(state: Any) -> bytes:
    """A state of a model without ``pack``, as it travels between processes."""
    return pickle.dumps(state, pickle.HIGHEST_PROTOCOL)
