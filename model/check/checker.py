"""The single entry point: ``check(model, ...)`` runs one search strategy and returns a ``CheckResult``.

This module validates the arguments, picks the store and the strategy, turns
Ctrl-C into an honest partial result, decides liveness on the recorded graph
and then assigns every property a verdict, adding a warning wherever a
verdict could be misread (a bound, a random run, a vacuous SOMETIMES, a
fingerprint store).
"""

from __future__ import annotations

import gc
import multiprocessing
import random
import resource
import sys
import threading
import time
from collections import Counter
from contextlib import contextmanager
from typing import Any, Callable, Iterator

from . import bfs, dfs, parallel_bfs, random_walk
from .graph import GraphRecorder, build_digraph
from .liveness import check_eventually
from .model import Expectation, Model, Property
from .path import Path, steps_text
from .progress import ProgressStats
from .result import CheckResult, PropertyResult, Stats
from .search import Search, overrides
from .store import FullStore, make_store

__all__ = ["STRATEGIES", "check"]

STRATEGIES = ("bfs", "dfs", "random")

# How many allocations the cyclic collector waits for while a search runs (Python's default is 700). A
# search allocates a few short-lived tuples per transition (its moves) and keeps states and lookups
# that hold no cycles, so a collection every 700 allocations frees little and walks what the search
# keeps: 2-3% of a run (docs/performance.md). Cyclic garbage is still collected, in larger batches.
GC_THRESHOLD = 20_000


_collections_lock = threading.Lock()
_searching = 0  # searches running in this process (threads may run several)
_saved_threshold: tuple[int, ...] = ()


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Raise the collector's first threshold to ``GC_THRESHOLD`` for the search; restored however it ends.

    The setting is the process's: the first search to start saves it, the
    last to end restores it, so searches that overlap in threads leave it as
    it was before them.
    """
    global _searching, _saved_threshold
    with _collections_lock:
        if _searching == 0:
            _saved_threshold = gc.get_threshold()
            first = _saved_threshold[0]
            # 0 turns automatic collection off: a user's choice, kept like a higher threshold.
            gc.set_threshold(max(first, GC_THRESHOLD) if first else 0, *_saved_threshold[1:])
        _searching += 1
    try:
        yield
    finally:
        with _collections_lock:
            _searching -= 1
            if _searching == 0:
                gc.set_threshold(*_saved_threshold)


def check(
    model: Model,
    *,
    strategy: str = "bfs",
    max_states: int | None = None,
    max_depth: int | None = None,
    seconds: float | None = None,
    seed: int | None = None,
    walks: int | None = None,
    store: str = "full",
    keep_graph: bool | None = None,
    pack: bool = True,
    workers: int = 1,
    progress: Callable[[ProgressStats], Any] | None = None,
) -> CheckResult:
    """Explore ``model`` and decide its properties.

    strategy: ``"bfs"`` (default; every counterexample is shortest),
        ``"dfs"``, or ``"random"`` (seeded random walks, never exhaustive).
    max_states, max_depth, seconds: bounds. Hitting one makes undecided
        ALWAYS/EVENTUALLY verdicts ``unknown``; violations found stay
        violated. ``max_states`` is tested before each expansion, so the
        store may exceed it by one state's new successors; states at
        ``max_depth`` are recorded and checked but not expanded. For random
        walks ``max_depth`` is the length of each walk.
    seed, walks: random walks only. Without a seed one is drawn and recorded
        in ``result.seed``; ``walks`` defaults to 100, or to "until
        ``seconds`` run out" when ``seconds`` is given.
    store: ``"full"`` (states and parent pointers) or ``"compact"``
        (fingerprints only; no liveness, no graph).
    keep_graph: record the state graph (``result.graph``, export, action
        counts). Default: only when the model has EVENTUALLY properties.
    pack: with ``store="compact"``, keep the DFS stack and BFS's wide
        levels (after one of ``bfs.PACK_FROM`` states) packed by the model's
        ``pack``/``unpack`` when it defines them (less memory, same results);
        False keeps full states. The full store never packs.
    workers: more than 1 runs BFS on that many forked processes, the
        store sharded by fingerprint (``parallel_bfs.py``): the same
        counts, verdicts and counterexample lengths, with bounds looked at
        between levels and progress reported once a level. Needs
        strategy="bfs", store="compact" and fork (Linux, macOS); the
        processes know states by ``Model.fingerprint``, which must be alike
        in every process (``Model.fingerprints_portable``).
    progress: called with a ``ProgressStats`` about 4 times a second;
        ``model.check.progress.ProgressLine()`` prints a terminal line.

    Ctrl-C (KeyboardInterrupt) stops the search and returns the partial
    result with ``interrupted=True``.
    """
    props = _validate(model, strategy, max_states, max_depth, seconds, seed, walks, store, keep_graph, pack)
    _validate_workers(model, workers, strategy, store, keep_graph)
    has_liveness = any(p.expectation is Expectation.EVENTUALLY for p in props)
    if keep_graph is None:
        keep_graph = has_liveness and store == "full"
    if strategy == "random" and seed is None:
        seed = random.SystemRandom().randrange(2**32)

    the_store = make_store(store)
    graph = GraphRecorder() if keep_graph else None
    rss_before = _max_rss()
    search = Search(
        model,
        props,
        the_store,
        strategy=strategy,
        graph=graph,
        max_states=max_states,
        max_depth=max_depth if strategy != "random" else None,
        seconds=seconds,
        progress=progress,
        pack=pack,
    )
    model.take_self_loops()  # what an earlier search left counted is not this one's
    try:
        with fewer_collections():
            if strategy == "bfs" and workers > 1:
                parallel_bfs.run(search, workers)
            elif strategy == "bfs":
                bfs.run(search)
            elif strategy == "dfs":
                dfs.run(search)
            else:
                if walks is None and seconds is None:
                    walks = random_walk.DEFAULT_WALKS
                length = max_depth if max_depth is not None else random_walk.DEFAULT_WALK_LENGTH
                random_walk.run(search, seed=seed, walks=walks, walk_length=length)  # type: ignore[arg-type]
    except KeyboardInterrupt:
        search.interrupted = True
        the_store.repair()
        if graph is not None:
            graph.repair()
    except Exception as e:
        if search.current is not None:
            e.add_note(f"while the checker was expanding state {model.format_state(search.current)}")
        raise
    elapsed = time.monotonic() - search.t0
    cov = search.coverage
    for outcome, n in model.take_self_loops().items():  # counted, not listed, by fingerprinted_moves
        cov[outcome] = cov.get(outcome, 0) + n

    lassos: dict[str, Path | None] | None = None
    if has_liveness and graph is not None and isinstance(the_store, FullStore) and not search.interrupted:
        try:
            lassos = check_eventually(
                model,
                [p for p in props if p.expectation is Expectation.EVENTUALLY],
                the_store.states,
                graph,
                search.init_keys,
            )
        except KeyboardInterrupt:
            search.interrupted = True

    finish = getattr(progress, "finish", None)
    if callable(finish):
        finish(search.snapshot())
    return _result(search, lassos, elapsed, seed, rss_before)


# -- argument checking --------------------------------------------------------


def _validate(model, strategy, max_states, max_depth, seconds, seed, walks, store, keep_graph, pack) -> list[Property]:
    if not isinstance(model, Model):
        raise TypeError(
            f"check() needs a Model instance, got {type(model).__name__}; subclass model.check.Model "
            "and implement init_states(), successors() and properties()"
        )
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy={strategy!r} is not a strategy; use one of {', '.join(map(repr, STRATEGIES))}")
    for name, value in (("max_states", max_states), ("max_depth", max_depth), ("walks", walks)):
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
            raise ValueError(f"{name}={value!r} must be a non-negative int, or None for no bound")
    if seconds is not None and not (isinstance(seconds, (int, float)) and seconds > 0):
        raise ValueError(f"seconds={seconds!r} must be a positive number, or None for no time limit")
    if strategy != "random":
        for name, value in (("seed", seed), ("walks", walks)):
            if value is not None:
                raise ValueError(
                    f"{name}={value!r} only applies to strategy='random'; drop it or pass strategy='random'"
                )
    if store not in ("full", "compact"):
        raise ValueError(f"store={store!r} is not a store; use store='full' (default) or store='compact'")
    if store == "compact" and keep_graph:
        raise ValueError(
            "store='compact' keeps only fingerprints, so it cannot keep the state graph "
            "(keep_graph=True); use store='full' for graph export and liveness"
        )
    if not isinstance(pack, bool):
        raise ValueError(f"pack={pack!r} must be True (pack the compact store's frontier) or False")
    if overrides(model, "pack") != overrides(model, "unpack"):
        have, missing = ("pack", "unpack") if overrides(model, "pack") else ("unpack", "pack")
        raise TypeError(
            f"{type(model).__name__} defines {have}() but not {missing}(); define both "
            "(unpack(pack(s)) == s) or neither"
        )
    props = list(model.properties())
    seen: set[str] = set()
    for p in props:
        if not isinstance(p, Property):
            raise TypeError(
                f"model.properties() must return Property objects, got {p!r}; build them with "
                "Property.always(...), Property.sometimes(...) or Property.eventually(...)"
            )
        if p.name in seen:
            raise ValueError(f"two properties are named {p.name!r}; property names must be unique")
        seen.add(p.name)
    return props


def _validate_workers(model: Model, workers: Any, strategy: str, store: str, keep_graph: bool | None) -> None:
    if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
        raise ValueError(f"workers={workers!r} must be a positive int (1: search in this process)")
    if workers == 1:
        return
    if strategy != "bfs" or store != "compact" or keep_graph:
        raise ValueError(
            f"workers={workers} runs a parallel BFS over the compact store; pass strategy='bfs' and "
            "store='compact' (and no keep_graph), or workers=1"
        )
    if not model.fingerprints_portable:
        raise ValueError(
            f"workers={workers}: {type(model).__name__} numbers its states per process (fingerprints_portable "
            "is False), so the processes would not agree on them; use workers=1, or give the model a "
            "fingerprint(state) that every process computes alike and set fingerprints_portable = True")
    if "fork" not in multiprocessing.get_all_start_methods():
        raise ValueError(f"workers={workers} needs processes started by fork (Linux, macOS); use workers=1 here")


def _max_rss() -> int:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss if sys.platform == "darwin" else rss * 1024  # Linux reports KiB, macOS bytes


# -- verdicts and warnings ----------------------------------------------------


def _result(search: Search, lassos, elapsed: float, seed: int | None, rss_before: int) -> CheckResult:
    model, store, graph = search.model, search.store, search.graph
    strategy = search.strategy
    interrupted = search.interrupted
    stopped_early = search.all_decided and search.halted_with_work and not search.bounds_hit
    exhaustive = strategy != "random" and not search.bounds_hit and not interrupted and not stopped_early
    warnings: list[str] = []

    def path_of(where: Any) -> Path:
        return where if isinstance(where, Path) else store.path_to(where, model, search.inits)

    # Why an undecided property is unknown, in one phrase reused by reasons and warnings.
    if interrupted:
        cut = "the search was interrupted"
    elif search.bounds_hit:
        cut = "the search hit " + ", ".join(_bound_text(b, search) for b in search.bounds_hit)
    elif strategy == "random":
        cut = "random walks are not exhaustive"
    elif stopped_early:
        cut = "the search stopped early"
    else:
        cut = ""

    results: dict[str, PropertyResult] = {}
    for p in search.props:
        where = search.found.get(p.name)
        if p.expectation is Expectation.ALWAYS:
            if where is not None:
                path = path_of(where)
                verdict, reason = "violated", f"a reachable state breaks it ({steps_text(len(path))})"
                if strategy == "bfs":
                    reason += "; BFS: no shorter counterexample exists"
            else:
                path = None
                verdict, reason = ("holds", "true in every reachable state") if exhaustive else (
                    "unknown",
                    f"no violation found, but {cut}",
                )
        elif p.expectation is Expectation.SOMETIMES:
            if where is not None:
                path = path_of(where)
                verdict, reason = "holds", f"witnessed after {steps_text(len(path))}"
            else:
                path = None
                if exhaustive:
                    verdict, reason = "violated", "no reachable state satisfies it"
                else:
                    verdict, reason = "unknown", f"not witnessed, and {cut}"
                warnings.append(
                    f"SOMETIMES property {p.name!r} was never witnessed in {store.size():,} states: "
                    "the condition may be unreachable, and ALWAYS properties about those states would "
                    "then hold vacuously. Check the model, or the bounds if the search was cut short."
                )
        else:
            path = None
            lasso = None if lassos is None else lassos.get(p.name)
            if lasso is not None:
                path = lasso
                if lasso.loop_start == len(lasso):
                    verdict, reason = "violated", "a fair run can rest forever in a state where it is pending"
                else:
                    verdict, reason = "violated", "a fair run can cycle forever through states where it is pending"
            elif store.kind == "compact":
                verdict, reason = "unknown", "liveness needs the state graph; use store='full'"
            elif graph is None:
                verdict, reason = "unknown", "liveness needs the state graph, but keep_graph=False was passed"
            elif lassos is None:
                verdict, reason = "unknown", f"liveness not decided: {cut}"
            elif exhaustive:
                verdict, reason = "holds", "no fair run keeps it pending forever"
            else:
                verdict, reason = "unknown", f"no fair lasso in the explored graph, but {cut}"
        results[p.name] = PropertyResult(p.name, p.expectation, verdict, path, p.description, reason)

    # -- warnings about the run as a whole --
    if interrupted:
        warnings.append(
            "the search was interrupted (KeyboardInterrupt): properties not yet decided are unknown, "
            "statistics and coverage describe the explored part only"
        )
    for b in search.bounds_hit:
        warnings.append(
            f"the search hit {_bound_text(b, search)}: properties without a counterexample are unknown, "
            f"not holds; {_bound_fix(b)}"
        )
    if strategy == "random":
        warnings.append(
            f"random walks (seed={seed}) are not exhaustive: ALWAYS/EVENTUALLY properties without a "
            "counterexample are unknown, and counterexamples are not shortest; use strategy='bfs' to prove or shorten"
        )
    if strategy == "dfs" and "max_depth" in search.bounds_hit:
        warnings.append(
            "DFS with max_depth may miss states even within the depth bound (a state first reached by a "
            "long path is not expanded again); use strategy='bfs' for depth-bounded checks"
        )
    if stopped_early:
        warnings.append(
            "the search stopped early because every property was decided: state counts, coverage and "
            "deadlocks describe only the explored part"
        )
    eventually = [p.name for p in search.props if p.expectation is Expectation.EVENTUALLY]
    if eventually and store.kind == "compact":
        warnings.append(
            f"store='compact' keeps no state graph, so EVENTUALLY properties ({', '.join(eventually)}) "
            "were not checked; use store='full'"
        )
    elif eventually and graph is None:
        warnings.append(
            f"keep_graph=False: EVENTUALLY properties ({', '.join(eventually)}) were not checked"
        )
    elif eventually and lassos is not None and not exhaustive:
        warnings.append(
            f"liveness was checked on a partial state graph ({cut}): the lassos found are real, "
            "but no EVENTUALLY property can be concluded to hold"
        )
    if eventually and search.outside:
        warnings.append(
            f"{search.outside:,} states lie outside within_boundary() and were not expanded: "
            "liveness verdicts ignore runs that leave the boundary"
        )
    if store.kind == "compact":
        n = store.size()
        warnings.append(
            f"store='compact' identifies states by 64-bit fingerprints: the chance that two of the "
            f"{n:,} states collided (and one was silently skipped) is about n^2/2^65 = {n * n / 2**65:.1e}"
        )

    coverage = Counter(search.coverage)
    action_counts: Counter | None = None
    action_kinds: frozenset[str] | None = None
    if graph is not None:
        kinds: dict[Any, str] = {}
        action_counts = Counter()
        for a in graph.act:
            k = kinds.get(a)
            if k is None:
                k = kinds[a] = model.action_kind(a)
            action_counts[k] += 1
        action_kinds = frozenset(action_counts)

    hist = list(search.depth_hist)
    while len(hist) > 1 and hist[-1] == 0:
        hist.pop()
    n = store.size()
    stats = Stats(
        states=n,
        transitions=search.transitions,
        max_depth=len(hist) - 1,
        seconds=elapsed,
        states_per_second=n / elapsed if elapsed > 0 else 0.0,
        expanded=search.expanded,
        terminal_states=search.terminal,
        outside_boundary=search.outside,
        peak_rss_delta_bytes=max(0, _max_rss() - rss_before),
        store_bytes=store.nbytes(),
        graph_bytes=graph.nbytes() if graph is not None else 0,
    )

    builder = None
    missing = ""
    if graph is not None and isinstance(store, FullStore):
        states, inits = store.states, list(search.init_keys)

        def builder() -> Any:
            return build_digraph(graph, states, inits, model)

    elif store.kind == "compact":
        missing = "store='compact' keeps no state graph; run check(..., store='full', keep_graph=True)"
    else:
        missing = "the state graph was not kept; run check(..., keep_graph=True)"

    return CheckResult(
        properties=results,
        stats=stats,
        strategy=strategy,
        store=store.kind,
        seed=seed,
        deadlocks=None if search.deadlock is None else path_of(search.deadlock),
        deadlock_count=search.deadlock_count,
        coverage=coverage,
        action_counts=action_counts,
        action_kinds=action_kinds,
        depth_histogram=hist,
        bounds_hit=tuple(search.bounds_hit),
        interrupted=interrupted,
        stopped_early=stopped_early,
        exhaustive=exhaustive,
        warnings=warnings,
        _graph_builder=builder,
        _graph_missing=missing,
    )


def _bound_text(bound: str, search: Search) -> str:
    value = {"max_states": search.max_states, "max_depth": search.max_depth, "seconds": search.seconds}[bound]
    return f"{bound}={value}"


def _bound_fix(bound: str) -> str:
    return {
        "max_states": "raise max_states (or pass None) to explore further",
        "max_depth": "raise max_depth (or pass None) to explore further",
        "seconds": "allow more seconds (or pass None) to explore further",
    }[bound]
