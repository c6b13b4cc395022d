"""EVENTUALLY properties under weak fairness, decided on the recorded state graph.

``Property.eventually(name, pending)`` is violated iff some fair infinite
run keeps ``pending`` true forever. An action ``a`` is *fair* when
``model.is_fair(a)``; weak fairness means a run that keeps ``a`` enabled from
some point on must eventually take it. Actions are labels compared by
equality. A violating run exists iff

(a) a reachable, expanded state where ``pending`` holds has no fair
    transition to another state (self-loops do not count): a run may rest
    there, since no fair action obliges it to leave; or

(b) the subgraph of pending states has a nontrivial strongly connected
    component C (networkx) in which every fair action enabled in *all* states
    of C labels some transition inside C (self-loops included). A run that
    cycles through every transition of C forever is then fair: each fair
    action it does not take is disabled somewhere on the cycle.

Checking only the maximal components is complete for weak fairness: removing
states from C can only add to the actions enabled everywhere and remove
transitions, so a component that fails the test has no fair sub-cycle.

Soundness on a partial graph: only expanded states are considered, and each
expanded state has all its transitions recorded, so a violation found is a
real lasso even when a bound cut the search short. ``holds`` needs the whole
graph; the caller decides that.
"""

from __future__ import annotations

import functools
from collections import deque
from typing import Any, Sequence

from .graph import GraphRecorder
from .model import Model, Property
from .path import Path, replay_states

__all__ = ["check_eventually"]


def check_eventually(
    model: Model, props: Sequence[Property], states: Sequence[Any], rec: GraphRecorder, init_ids: Sequence[int]
) -> dict[str, Path | None]:
    """For each EVENTUALLY property, a lasso counterexample or None (no violation in this graph)."""
    import networkx as nx

    n = len(states)
    expanded, lo, hi = rec.ranges(n)
    dst, act = rec.dst, rec.act

    fair_cache: dict[Any, bool] = {}

    def fair(a: Any) -> bool:
        f = fair_cache.get(a)
        if f is None:
            f = fair_cache[a] = bool(model.is_fair(a))
        return f

    has_fair_exit = bytearray(n)
    for u in range(n):
        if expanded[u]:
            for j in range(lo[u], hi[u]):
                if dst[j] != u and fair(act[j]):
                    has_fair_exit[u] = 1
                    break

    tree: list[tuple[list[int], list[int], list[Any]]] = []  # BFS tree from the initial states, on demand

    def shortest() -> tuple[list[int], list[int], list[Any]]:
        if not tree:
            tree.append(_bfs_tree(n, init_ids, expanded, lo, hi, dst, act))
        return tree[0]

    results: dict[str, Path | None] = {}
    for prop in props:
        pend = bytearray(n)
        cond = prop.condition
        for i, s in enumerate(states):
            try:
                if cond(s):
                    pend[i] = 1
            except Exception as e:
                e.add_note(f"while evaluating pending of {prop.name!r} on state {model.format_state(s)}")
                raise
        nodes = [u for u in range(n) if pend[u] and expanded[u]]
        resting = [u for u in nodes if not has_fair_exit[u]]

        core = _peel_sources(nodes, pend, expanded, lo, hi, dst)
        g = _bare_digraph()()
        g.add_nodes_from(core)
        g.add_edges_from((u, dst[j]) for u in core for j in range(lo[u], hi[u]) if dst[j] != u and dst[j] in core)
        fair_sccs = []
        for comp in nx.strongly_connected_components(g):
            if len(comp) < 2:
                continue
            required: set[Any] | None = None
            inside: set[Any] = set()
            enabled: dict[int, set[Any]] = {}
            # Fair actions in order of first appearance, so the lasso is the same from run to run.
            fair_labels: dict[Any, None] = {}
            for u in sorted(comp):
                here = set()
                for j in range(lo[u], hi[u]):
                    a = act[j]
                    if fair(a):
                        here.add(a)
                        fair_labels.setdefault(a, None)
                    if dst[j] in comp:
                        inside.add(a)
                enabled[u] = here
                required = here if required is None else required & here
            if required is not None and required <= inside:
                fair_sccs.append((comp, list(fair_labels), required, enabled))

        if not resting and not fair_sccs:
            results[prop.name] = None
            continue

        dist = shortest()[0]
        best: tuple[int, int, Any] | None = None  # (distance, kind, payload)
        for u in resting:
            if best is None or dist[u] < best[0]:
                best = (dist[u], 0, u)
        for scc in fair_sccs:
            entry = min(scc[0], key=lambda u: (dist[u], u))
            if best is None or dist[entry] < best[0]:
                best = (dist[entry], 1, (scc, entry))
        assert best is not None
        if best[1] == 0:
            results[prop.name] = _lasso(model, states, shortest(), best[2], [])
        else:
            (comp, labels, required, enabled), entry = best[2]
            cycle = _fair_cycle(comp, labels, required, enabled, entry, lo, hi, dst, act)
            results[prop.name] = _lasso(model, states, shortest(), entry, cycle)
    return results


@functools.cache
def _bare_digraph() -> type:
    """A networkx DiGraph whose nodes and edges share one empty attribute dict.

    The pending subgraph carries no attributes, and a dict per edge is about
    a third of networkx's memory per edge (measured: 215 -> 145 bytes). Safe
    because nothing ever writes an attribute to this private graph.
    """
    import networkx as nx

    shared: dict = {}

    class BareDiGraph(nx.DiGraph):
        node_attr_dict_factory = staticmethod(lambda: shared)
        edge_attr_dict_factory = staticmethod(lambda: shared)

    return BareDiGraph


def _peel_sources(
    nodes: list[int], pend: bytearray, expanded: bytearray, lo: list[int], hi: list[int], dst: list[int]
) -> dict[int, bool]:
    """The pending states that are not upstream-only: repeatedly drop states no pending state enters.

    A state with no incoming edge inside the pending subgraph lies on no
    cycle, so it cannot be in a nontrivial component. Peeling them (Kahn's
    algorithm) removes every acyclic stretch ahead of a cycle, and the whole
    subgraph when it is acyclic, before networkx builds its much heavier
    graph (some hundred bytes per edge). Returns the survivors as a dict for
    O(1) membership.
    """
    indeg: dict[int, int] = dict.fromkeys(nodes, 0)
    for u in nodes:
        for j in range(lo[u], hi[u]):
            v = dst[j]
            if v != u and pend[v] and expanded[v]:
                indeg[v] += 1
    queue = [u for u in nodes if not indeg[u]]
    while queue:
        u = queue.pop()
        del indeg[u]
        for j in range(lo[u], hi[u]):
            v = dst[j]
            if v != u and v in indeg:
                indeg[v] -= 1
                if not indeg[v]:
                    queue.append(v)
    return dict.fromkeys(indeg, True)


def _bfs_tree(
    n: int, init_ids: Sequence[int], expanded: bytearray, lo: list[int], hi: list[int], dst: list[int], act: list[Any]
) -> tuple[list[int], list[int], list[Any]]:
    """Distance from the initial states, and the predecessor and action that first reached each state."""
    dist = [-1] * n
    pred = [-1] * n
    pred_act: list[Any] = [None] * n
    queue: deque[int] = deque()
    for i in init_ids:
        if dist[i] < 0:
            dist[i] = 0
            queue.append(i)
    while queue:
        u = queue.popleft()
        if not expanded[u]:
            continue
        for j in range(lo[u], hi[u]):
            v = dst[j]
            if dist[v] < 0:
                dist[v] = dist[u] + 1
                pred[v] = u
                pred_act[v] = act[j]
                queue.append(v)
    # Every recorded state was reached through a recorded edge, so none is left at -1.
    return dist, pred, pred_act


def _path_in(comp: set[int], a: int, b: int, lo, hi, dst, act) -> list[tuple[Any, int]]:
    """Shortest (action, state) steps from a to b inside comp, self-loops excluded; [] when a == b."""
    if a == b:
        return []
    prev: dict[int, tuple[int, Any]] = {a: (-1, None)}
    queue = deque([a])
    while queue:
        u = queue.popleft()
        for j in range(lo[u], hi[u]):
            v = dst[j]
            if v in comp and v not in prev:
                prev[v] = (u, act[j])
                if v == b:
                    steps = []
                    while v != a:
                        u, action = prev[v]
                        steps.append((action, v))
                        v = u
                    steps.reverse()
                    return steps
                queue.append(v)
    raise AssertionError("states of one strongly connected component must reach each other")


def _nearest(comp: set[int], start: int, wanted, lo, hi, dst) -> int:
    """The state of comp nearest to ``start`` (itself included) for which ``wanted(state)`` is true."""
    seen = {start}
    queue = deque([start])
    while queue:
        u = queue.popleft()
        if wanted(u):
            return u
        for j in range(lo[u], hi[u]):
            v = dst[j]
            if v in comp and v not in seen:
                seen.add(v)
                queue.append(v)
    raise AssertionError("the fairness test guarantees such a state exists in the component")


def _fair_cycle(
    comp: set[int],
    fair_labels: list[Any],
    required: set[Any],
    enabled: dict[int, set[Any]],
    entry: int,
    lo,
    hi,
    dst,
    act,
) -> list[tuple[Any, int]]:
    """A cycle from ``entry`` back to it inside comp along which every fair action is taken or disabled somewhere.

    Actions in ``required`` (enabled in every state of comp) must be taken;
    any other fair action only needs the cycle to pass through a state where
    it is disabled. Visiting just a part of comp is not enough by itself: an
    action enabled in every *visited* state would have to be taken.
    """
    cycle: list[tuple[Any, int]] = []
    visited = {entry}
    cur = entry

    def walk_to(u: int) -> None:
        nonlocal cur
        steps = _path_in(comp, cur, u, lo, hi, dst, act)
        cycle.extend(steps)
        visited.update(v for _, v in steps)
        cur = u

    for label in fair_labels:
        if label in required:
            def has_label(u: int, label: Any = label) -> bool:
                return any(act[j] == label and dst[j] in comp for j in range(lo[u], hi[u]))

            u = _nearest(comp, cur, has_label, lo, hi, dst)
            walk_to(u)
            j = next(j for j in range(lo[u], hi[u]) if act[j] == label and dst[j] in comp)
            cycle.append((label, dst[j]))
            cur = dst[j]
            visited.add(cur)
    for label in fair_labels:
        if label not in required and all(label in enabled[v] for v in visited):
            walk_to(_nearest(comp, cur, lambda u, label=label: label not in enabled[u], lo, hi, dst))
    walk_to(entry)
    if all(v == entry for _, v in cycle):
        # Only self-loops at entry (or nothing): the lasso must still go round the component.
        j = next(j for j in range(lo[entry], hi[entry]) if dst[j] in comp and dst[j] != entry)
        cycle.append((act[j], dst[j]))
        cur = dst[j]
        walk_to(entry)
    return cycle


def _lasso(model: Model, states: Sequence[Any], tree, entry: int, cycle: list[tuple[Any, int]]) -> Path:
    """Shortest prefix to ``entry`` (BFS tree), then ``cycle``; an empty cycle means resting at entry."""
    _, pred, pred_act = tree
    nodes = [entry]
    actions: list[Any] = []
    v = entry
    while pred[v] != -1:
        actions.append(pred_act[v])
        v = pred[v]
        nodes.append(v)
    nodes.reverse()
    actions.reverse()
    loop_start = len(actions)
    for a, w in cycle:
        actions.append(a)
        nodes.append(w)
    seq = [states[i] for i in nodes]
    return Path(seq[0], replay_states(model, seq, actions), loop_start=loop_start, model=model)
