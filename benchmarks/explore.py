"""Explorer speed and memory on the benchmark model BM(k, L), against two baselines in this process.

    python benchmarks/explore.py                 # (3,2) (4,2) (5,3); naive baseline at (3,2)
    python benchmarks/explore.py --sizes 6,5     # the 1.8-million-state size
    python benchmarks/explore.py --sizes 7,5 --store compact --no-baseline   # an attempt at BM(7,5)

For each size it prints the project's checker (the full ECS model through
``step``) in both stores, the minimal hand-written tuple BFS of the same
model (the floor of plain Python), their ratio, and at (3, 2) the naive
``transitions`` approach (a Machine per copy, deepcopy per successor).
Two more rows explain the gap: the checker without its step cache
(semantics/footprint.py), and the checker with every step answer
precomputed (each call returns the answer recorded by a first run), which
is what the search itself costs however fast the rules were.
Memory is the growth of peak RSS over the run divided by the states stored;
each measured run happens in a fresh subprocess so peaks don't mix.
Targets (from the issue): >= 15% of the minimal BFS's states/s, >= 1000x the
naive approach, <= 250 bytes per stored state.
"""

from __future__ import annotations

import argparse
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


def measure_checker(k: int, limit: int, store: str) -> dict:
    from model.check import check
    from model.check.bench import bench_scenario
    from model.check.ecs import CopyImageModel

    model = CopyImageModel(bench_scenario(k, limit))
    before = _rss_bytes()
    t0 = time.perf_counter()
    result = check(model, store=store)
    seconds = time.perf_counter() - t0
    s = result.stats
    return {"what": f"copyimage ({store})", "states": s.states, "transitions": s.transitions,
            "depth": s.max_depth, "seconds": seconds, "rate": s.states / seconds,
            "bytes_per_state": (_rss_bytes() - before) / s.states,
            "store_bytes_per_state": s.store_bytes / s.states}


def measure_uncached(k: int, limit: int, store: str) -> dict:
    from model.check import check
    from model.check.bench import bench_scenario
    from model.check.ecs import CopyImageModel

    model = CopyImageModel(bench_scenario(k, limit), step_cache=False)
    t0 = time.perf_counter()
    s = check(model, store=store).stats
    seconds = time.perf_counter() - t0
    return {"what": "  without step cache", "states": s.states, "transitions": s.transitions,
            "depth": s.max_depth, "seconds": seconds, "rate": s.states / seconds, "bytes_per_state": None}


def measure_search_only(k: int, limit: int, store: str) -> dict:
    """The checker with step's answers replayed from a first run: the cost of everything but the rules."""
    from model.check import check
    from model.check.bench import bench_scenario
    from model.check.ecs import CopyImageModel
    from model.semantics.step import step

    answers: list = []

    def record(world, action):  # type: ignore[no-untyped-def]
        nxt, answer = step(world, action)
        answers.append((nxt is world, nxt, answer))  # "unchanged" must stay the very same world
        return nxt, answer

    model = CopyImageModel(bench_scenario(k, limit), step_cache=False)
    model._step = record  # type: ignore[method-assign]
    check(model, store=store)
    given = iter(answers).__next__

    def replay(world, action):  # type: ignore[no-untyped-def]
        same, nxt, answer = given()
        return (world if same else nxt), answer

    model = CopyImageModel(bench_scenario(k, limit), step_cache=False)
    model._step = replay  # type: ignore[method-assign]
    t0 = time.perf_counter()
    s = check(model, store=store).stats
    seconds = time.perf_counter() - t0
    return {"what": "  step answers given", "states": s.states, "transitions": s.transitions,
            "depth": s.max_depth, "seconds": seconds, "rate": s.states / seconds, "bytes_per_state": None}


def measure_minimal(k: int, limit: int) -> dict:
    from baselines import minimal_bfs

    before = _rss_bytes()
    t0 = time.perf_counter()
    states, transitions, depth = minimal_bfs(k, limit)
    seconds = time.perf_counter() - t0
    return {"what": "minimal tuple BFS", "states": states, "transitions": transitions, "depth": depth,
            "seconds": seconds, "rate": states / seconds, "bytes_per_state": (_rss_bytes() - before) / states}


def measure_naive(k: int, limit: int) -> dict:
    from baselines import naive_transitions_bfs

    t0 = time.perf_counter()
    states, transitions = naive_transitions_bfs(k, limit)
    seconds = time.perf_counter() - t0
    return {"what": "naive transitions", "states": states, "transitions": transitions, "depth": None,
            "seconds": seconds, "rate": states / seconds, "bytes_per_state": None}


def _in_subprocess(kind: str, k: int, limit: int, store: str) -> dict:
    proc = subprocess.run([sys.executable, __file__, "--one", kind, f"{k},{limit}", "--store", store],
                          capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="3,2 4,2 5,3", help="space-separated k,L pairs")
    parser.add_argument("--store", choices=("full", "compact", "both"), default="both")
    parser.add_argument("--no-baseline", action="store_true", help="skip the minimal BFS (e.g. for BM(7,5))")
    parser.add_argument("--no-explain", action="store_true",
                        help="skip the rows without the step cache and with step answers given")
    parser.add_argument("--one", nargs=2, metavar=("KIND", "K,L"), help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.one:  # a single measurement, in a fresh process
        kind, size = args.one
        k, limit = map(int, size.split(","))
        run = {"checker": lambda: measure_checker(k, limit, args.store), "minimal": lambda: measure_minimal(k, limit),
               "naive": lambda: measure_naive(k, limit), "uncached": lambda: measure_uncached(k, limit, args.store),
               "search": lambda: measure_search_only(k, limit, args.store)}[kind]
        print(json.dumps(run()))
        return 0

    stores = ("full", "compact") if args.store == "both" else (args.store,)
    print(f"{'size':<8} {'explorer':<22} {'states':>11} {'transitions':>12} {'depth':>5} {'seconds':>8} "
          f"{'states/s':>10} {'B/state':>8}  ratio")
    for size in args.sizes.split():
        k, limit = map(int, size.split(","))
        base = None if args.no_baseline else _in_subprocess("minimal", k, limit, "full")
        rows = [base] if base else []
        naive = _in_subprocess("naive", k, limit, "full") if (k, limit) == (3, 2) and not args.no_baseline else None
        if naive:
            rows.append(naive)
        for store in stores:
            row = _in_subprocess("checker", k, limit, store)
            notes = []
            if base:
                notes.append(f"{row['rate'] / base['rate']:.1%} of minimal")
                if (row["states"], row["transitions"], row["depth"]) != (base["states"], base["transitions"], base["depth"]):
                    notes.append("COUNTS DIFFER FROM THE MINIMAL BFS")
            if naive:
                notes.append(f"{row['rate'] / naive['rate']:,.0f}x naive")
            row["ratio"] = ", ".join(notes)
            rows.append(row)
            if not args.no_explain and store == stores[-1]:
                for kind in ("uncached", "search"):
                    extra = _in_subprocess(kind, k, limit, store)
                    extra["ratio"] = f"{extra['rate'] / base['rate']:.1%} of minimal" if base else ""
                    rows.append(extra)
        for row in rows:
            bps = "" if row.get("bytes_per_state") is None else f"{row['bytes_per_state']:.0f}"
            print(f"({k},{limit})  {row['what']:<22} {row['states']:>11,} {row['transitions']:>12,} "
                  f"{row['depth'] if row['depth'] is not None else '':>5} {row['seconds']:>8.2f} {row['rate']:>10,.0f} "
                  f"{bps:>8}  {row.get('ratio', '')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
