"""Depth-first search: a stack instead of a queue; same store, same checks, paths not shortest.

DFS reaches deep states sooner and keeps a frontier proportional to depth
times branching rather than to the width of a level. It explores the most
recently discovered successor first. Limitations: a counterexample is the
discovery path, usually longer than the shortest one (re-run with BFS to
shorten it); with ``max_depth`` the search is incomplete even within the
bound, because a state first reached by a long path is not expanded again
when a shorter path reaches it later. Without bounds DFS is exhaustive, so
it may conclude ``holds``. The stack is packed like the BFS frontier when
``Search.pack`` is set.
"""

from __future__ import annotations

from .search import Search

__all__ = ["run"]


def run(search: Search) -> None:
    stack_s: list = []
    stack_k: list = []
    push_s, push_k = search.frontier_push(stack_s.append), stack_k.append
    search.add_inits(push_s, push_k)
    # Popped from the end: reverse so the first initial state goes first.
    stack_s.reverse()
    stack_k.reverse()
    stack_d = [0] * len(stack_s)
    expand = search.expand
    unpack = search.unpack
    max_depth = search.max_depth
    while stack_s:
        state = stack_s.pop()
        key = stack_k.pop()
        depth = stack_d.pop()
        if max_depth is not None and depth >= max_depth:
            search.hit("max_depth")
            continue
        if unpack is not None:
            state = unpack(state)
        search.depth = depth
        before = len(stack_s)
        if not expand(state, key, push_s, push_k):
            return
        new = len(stack_s) - before
        if new:
            stack_d.extend([depth + 1] * new)
            search.count_depth(depth + 1, new)
