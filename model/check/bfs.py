"""Breadth-first search: level by level, so the first path found to any state is a shortest one.

States are checked when first recorded and recorded in order of depth, so
the first violation of an ALWAYS property (and the first witness of a
SOMETIMES property, and the first rejected terminal state) is at minimal
depth: every counterexample BFS reports is shortest. Exhaustive unless a
bound stops it. Memory: the store plus two levels of the frontier (the one
being expanded and the next). A level is packed when ``Search.pack`` is set
(the compact store and a model with ``pack``/``unpack``) and the level before
it had at least ``PACK_FROM`` states: packing saves memory only where levels
are wide, and costs a pack and an unpack per state everywhere.
"""

from __future__ import annotations

from .search import Search

__all__ = ["run", "PACK_FROM"]

# A level is packed when the one expanded to make it had this many states. Below that, the level held as
# states is at most PACK_FROM times a state's new successors: under a few thousand states, about 1 MB for
# the benchmark models, while packing and unpacking cost about 2 us a state (docs/performance.md).
PACK_FROM = 1024


def run(search: Search) -> None:
    level_s: list = []
    level_k: list = []
    search.add_inits(level_s.append, level_k.append)
    packed = False  # whether level_s holds packed states
    max_depth = search.max_depth
    expand = search.expand
    unpack = search.unpack
    depth = 0
    while level_s:
        if max_depth is not None and depth >= max_depth:
            # States at max_depth are recorded and checked, but not expanded.
            search.hit("max_depth")
            search.halted_with_work = True
            return
        search.depth = depth
        next_s: list = []
        next_k: list = []
        pack_next = unpack is not None and len(level_s) >= PACK_FROM
        push_s = search.frontier_push(next_s.append) if pack_next else next_s.append
        push_k = next_k.append
        try:
            for state, key in zip(map(unpack, level_s) if packed else level_s, level_k):  # type: ignore[arg-type]
                if not expand(state, key, push_s, push_k):
                    return
        finally:
            # Also on a stop or an interrupt: the histogram counts what was recorded.
            search.count_depth(depth + 1, len(next_s))
        level_s, level_k, packed = next_s, next_k, pack_next
        depth += 1
