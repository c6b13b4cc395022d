"""Explorer speed and memory on the benchmark model BM(k, L), against two baselines in this process.

    python benchmarks/explore.py                 # (3,2) (4,2) (5,3); naive baseline at (3,2); 3 rounds
    python benchmarks/explore.py --sizes 6,5 --runs 1 --no-explain   # the 1.8-million-state size
    python benchmarks/explore.py --sizes 7,5 --store compact --no-baseline --runs 1   # an attempt at BM(7,5)

For each size it prints the project's checker (the full ECS model through
``step``, as ``copyimage check`` runs it in one process: flat states,
check/flat.py) in both stores, the minimal hand-written tuple BFS of the
same model (the floor of plain Python, run under the collector setting the
checker's search uses, checking BM's four invariants on every new state as
the checker does; a row below it has the guards alone, the floor before the
checker checked all four), their ratio, and at (3, 2) the naive
``transitions`` approach (a Machine per copy, deepcopy per successor).
Five more rows explain the figures: the checker with a user's own property
(``add_property``, answered by footprint like the built-in ones), the
checker with its states kept as worlds of records (``flat=False``, as every
search kept them before), the same without the step cache
(semantics/footprint.py: every rule runs for every transition), the
checker's second run on the same model (everything
already learned: the first run's extra time is learning), and the checker
with every state's successors given (a first run records them), which is
what the search itself costs however fast the transitions were.
Memory is the growth of peak RSS over the run divided by the states stored;
each measured run happens in a fresh subprocess so peaks don't mix. Each
size is measured in ``--runs`` rounds (every row once per round, so the rows
a ratio compares ran side by side); the median round is printed, and each
ratio as its median over the rounds with the range.
Targets (from the issue): >= 15% of the minimal BFS's states/s, >= 1000x the
naive approach, <= 250 bytes per stored state.
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))


def _rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB


def _timed(what: str, model, store: str, rss: bool = False) -> dict:  # type: ignore[no-untyped-def]
    from model.check import check

    before = _rss_bytes()
    gc.collect()  # each timed run starts with the collector's generations empty (see measure_minimal)
    t0 = time.perf_counter()
    result = check(model, store=store)
    seconds = time.perf_counter() - t0
    s = result.stats
    return {"what": what, "states": s.states, "transitions": s.transitions, "depth": s.max_depth,
            "seconds": seconds, "rate": s.states / seconds,
            "bytes_per_state": (_rss_bytes() - before) / s.states if rss else None,
            "store_bytes_per_state": s.store_bytes / s.states}


def measure_checker(k: int, limit: int, store: str) -> dict:
    """The checker as ``copyimage check`` runs it in one process: flat states (check/flat.py)."""
    from model.check.bench import bench_scenario
    from model.check.ecs import CopyImageModel

    return _timed(f"copyimage ({store})", CopyImageModel(bench_scenario(k, limit)), store, rss=True)


def measure_worlds(k: int, limit: int, store: str) -> dict:
    """States kept as worlds of records (``flat=False``, as before flat states), step cache on."""
    from model.check.bench import bench_scenario
    from model.check.ecs import CopyImageModel

    return _timed("  as worlds (flat=False)", CopyImageModel(bench_scenario(k, limit), flat=False), store)


def measure_uncached(k: int, limit: int, store: str) -> dict:
    """Worlds, and ``step`` run for every transition: no rule's answer reused."""
    from model.check.bench import bench_scenario
    from model.check.ecs import CopyImageModel

    return _timed("  worlds, no step cache", CopyImageModel(bench_scenario(k, limit), step_cache=False), store)


def measure_user_property(k: int, limit: int, store: str) -> dict:
    """The checker with a user's own property (``add_property``) that holds, so it is asked of every state."""
    from model.check import Property
    from model.check.bench import bench_scenario
    from model.check.ecs import CopyImageModel

    model = CopyImageModel(bench_scenario(k, limit))
    model.add_property(Property.always("within the limit", lambda s: all(len(q.running) <= limit
                                                                         for q in s.world.queues)))
    return _timed("  with a user property", model, store)


def measure_learned(k: int, limit: int, store: str) -> dict:
    """The checker's second run on one model: every transition and property already learned (check/flat.py)."""
    from model.check import check
    from model.check.bench import bench_scenario
    from model.check.ecs import CopyImageModel

    model = CopyImageModel(bench_scenario(k, limit))
    props = model.properties()
    model.properties = lambda: props  # type: ignore[method-assign]  # the same memos both runs
    check(model, store=store)
    return _timed("  second run, learned", model, store)


def measure_search_only(k: int, limit: int, store: str) -> dict:
    """The checker with every state's successors given (a first run records them): the search's own cost.

    The full store, whatever ``store`` says: it keeps the very objects the
    first run made, so a self-loop is still told by identity, as in a real run.
    """
    from model.check import check
    from model.check.bench import bench_scenario
    from model.check.ecs import CopyImageModel

    model = CopyImageModel(bench_scenario(k, limit))
    props = model.properties()
    model.properties = lambda: props  # type: ignore[method-assign]  # keep what they learned, too
    engine = model._flat
    real, given = engine.successors, {}

    def record(state):  # type: ignore[no-untyped-def]
        out = given[state] = real(state)
        return out

    engine.successors = record  # type: ignore[method-assign]
    check(model, store="full")
    engine.successors = given.__getitem__  # type: ignore[method-assign]
    return _timed("  successors given", model, "full")


def measure_minimal(k: int, limit: int, invariants: bool = True) -> dict:
    """The minimal BFS under the collector setting the checker's search runs under (checker.GC_THRESHOLD).

    The checker raises Python's collection threshold while it searches; the
    floor it is compared with gets the same, so that is not counted as a gain.
    It checks BM's four invariants on every new state, as the checker's BM
    scenarios do (I2, I3, I6, A4); ``invariants=False`` is the guards alone.
    """
    from baselines import minimal_bfs

    from model.check.checker import fewer_collections

    before = _rss_bytes()
    # Both sides are timed alike. The collector starts empty (what the imports left would otherwise be
    # collected inside one timed run and not another: a 1.2 ms collection, at (3,2) an eighth of this
    # run), and the time runs on past the setting's restore, as it does in ``check()``: the collection
    # the raised threshold put off comes as the setting ends (0.2 ms at (3,2)).
    gc.collect()
    t0 = time.perf_counter()
    with fewer_collections():
        states, transitions, depth = minimal_bfs(k, limit, invariants)
    seconds = time.perf_counter() - t0
    return {"what": "minimal tuple BFS" if invariants else "  its guards alone", "states": states,
            "transitions": transitions, "depth": depth, "seconds": seconds, "rate": states / seconds,
            "bytes_per_state": (_rss_bytes() - before) / states}


def measure_naive(k: int, limit: int) -> dict:
    from baselines import naive_transitions_bfs

    gc.collect()
    t0 = time.perf_counter()
    states, transitions = naive_transitions_bfs(k, limit)
    seconds = time.perf_counter() - t0
    return {"what": "naive transitions", "states": states, "transitions": transitions, "depth": None,
            "seconds": seconds, "rate": states / seconds, "bytes_per_state": None}


def _in_subprocess(kind: str, k: int, limit: int, store: str) -> dict:
    proc = subprocess.run([sys.executable, __file__, "--one", kind, f"{k},{limit}", "--store", store],
                          capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


EXPLAIN = ("user", "worlds", "uncached", "learned", "search")


def _round(k: int, limit: int, stores: tuple[str, ...], baseline: bool, explain: bool) -> dict[str, dict]:
    """One measurement of every row of a size, each in a fresh process, in the order they are printed."""
    rows: dict[str, dict] = {}
    if baseline:
        rows["minimal"] = _in_subprocess("minimal", k, limit, "full")
        rows["guards"] = _in_subprocess("guards", k, limit, "full")
        if (k, limit) == (3, 2):
            rows["naive"] = _in_subprocess("naive", k, limit, "full")
    for store in stores:
        rows[store] = _in_subprocess("checker", k, limit, store)
        if explain and store == stores[-1]:
            for kind in EXPLAIN:
                rows[kind] = _in_subprocess(kind, k, limit, store)
    return rows


def _median_run(runs: list[dict]) -> dict:
    return sorted(runs, key=lambda r: r["rate"])[len(runs) // 2]


def _spread(values: list[float], fmt: str) -> str:
    """The median, and the range when the rounds differ."""
    values = sorted(values)
    mid = fmt.format(values[len(values) // 2])
    return mid if len(values) == 1 else f"{mid} ({fmt.format(values[0])}-{fmt.format(values[-1])})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="3,2 4,2 5,3", help="space-separated k,L pairs")
    parser.add_argument("--store", choices=("full", "compact", "both"), default="both")
    parser.add_argument("--runs", type=int, default=3,
                        help="rounds per size (default 3): each row is measured once per round, the rows of a "
                             "round one after another, and the median round is printed with the range")
    parser.add_argument("--no-baseline", action="store_true", help="skip the minimal BFS (e.g. for BM(7,5))")
    parser.add_argument("--no-explain", action="store_true",
                        help="skip the rows as worlds, without the step cache, and with successors given")
    parser.add_argument("--one", nargs=2, metavar=("KIND", "K,L"), help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.one:  # a single measurement, in a fresh process
        kind, size = args.one
        k, limit = map(int, size.split(","))
        run = {"checker": lambda: measure_checker(k, limit, args.store), "minimal": lambda: measure_minimal(k, limit),
               "guards": lambda: measure_minimal(k, limit, invariants=False),
               "naive": lambda: measure_naive(k, limit), "uncached": lambda: measure_uncached(k, limit, args.store),
               "worlds": lambda: measure_worlds(k, limit, args.store),
               "learned": lambda: measure_learned(k, limit, args.store),
               "user": lambda: measure_user_property(k, limit, args.store),
               "search": lambda: measure_search_only(k, limit, args.store)}[kind]
        print(json.dumps(run()))
        return 0
    if args.runs < 1:
        parser.error("--runs must be at least 1")

    # The machine's speed drifts by 10-20% over minutes, and a run of BM(3,2) takes milliseconds: a ratio
    # is only worth its rows measured side by side. So each round measures every row once, and a ratio is
    # taken within a round; the median round is printed, with the range over the rounds.
    stores = ("full", "compact") if args.store == "both" else (args.store,)
    print(f"{'size':<8} {'explorer':<22} {'states':>11} {'transitions':>12} {'depth':>5} {'seconds':>8} "
          f"{'states/s':>10} {'B/state':>8}  ratio (median of {args.runs} rounds, range)")
    for size in args.sizes.split():
        k, limit = map(int, size.split(","))
        rounds = [_round(k, limit, stores, not args.no_baseline, not args.no_explain) for _ in range(args.runs)]
        for name in rounds[0]:
            runs = [r[name] for r in rounds]
            row = _median_run(runs)
            notes = []
            if name in stores or name in EXPLAIN:
                if not args.no_baseline:
                    notes.append(_spread([r[name]["rate"] / r["minimal"]["rate"] for r in rounds], "{:.1%}")
                                 + " of minimal")
                    if name in stores:
                        notes.append(_spread([r[name]["rate"] / r["guards"]["rate"] for r in rounds], "{:.1%}")
                                     + " of its guards alone")
                    if any((x["states"], x["transitions"], x["depth"]) != (r["minimal"]["states"],
                           r["minimal"]["transitions"], r["minimal"]["depth"]) for x, r in zip(runs, rounds)):
                        notes.append("COUNTS DIFFER FROM THE MINIMAL BFS")
                if name in stores and "naive" in rounds[0]:
                    notes.append(_spread([r[name]["rate"] / r["naive"]["rate"] for r in rounds], "{:,.0f}x") + " naive")
                if name == "user":
                    notes.append(_spread([r["user"]["seconds"] / r[stores[-1]]["seconds"] for r in rounds], "{:.2f}x")
                                 + " the checker's time")
            bps = "" if row.get("bytes_per_state") is None else f"{row['bytes_per_state']:.0f}"
            print(f"({k},{limit})  {row['what']:<22} {row['states']:>11,} {row['transitions']:>12,} "
                  f"{row['depth'] if row['depth'] is not None else '':>5} {row['seconds']:>8.3f} {row['rate']:>10,.0f} "
                  f"{bps:>8}  {'; '.join(notes)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
