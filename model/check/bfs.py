"""Breadth-first search: level by level, so the first path found to any state is a shortest one.

States are checked when first recorded and recorded in order of depth, so
the first violation of an ALWAYS property (and the first witness of a
SOMETIMES property, and the first rejected terminal state) is at minimal
depth: every counterexample BFS reports is shortest. Exhaustive unless a
bound stops it. Memory: the store plus two levels of the frontier (the one
being expanded and the next), packed when ``Search.pack`` is set (the compact
store and a model with ``pack``/``unpack``).
"""

from __future__ import annotations

from .search import Search

__all__ = ["run"]


def run(search: Search) -> None:
    level_s: list = []
    level_k: list = []
    search.add_inits(search.frontier_push(level_s.append), level_k.append)
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
        push_s, push_k = search.frontier_push(next_s.append), next_k.append
        try:
            for item, key in zip(level_s, level_k):
                if not expand(item if unpack is None else unpack(item), key, push_s, push_k):
                    return
        finally:
            # Also on a stop or an interrupt: the histogram counts what was recorded.
            search.count_depth(depth + 1, len(next_s))
        level_s, level_k = next_s, next_k
        depth += 1
