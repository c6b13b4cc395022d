"""The explored state graph: recorded cheaply during the search, turned into networkx afterwards.

During the search every transition of an expanded state is appended to two
flat lists (target id, action), and each finished expansion appends its
state id and the end offset of its edges. That costs two list slots per
transition and no per-edge objects; a state whose expansion was interrupted
has no end offset and is treated as not expanded. Self-loops are recorded
too (liveness must know which fair actions are enabled) but are not edges of
the exported graph.

Export is for looking at small graphs: ``export_graphml`` and
``export_json`` refuse graphs above ``max_nodes`` (default 5,000) rather than
write files no viewer can open.
"""

from __future__ import annotations

import json
import os
import sys
from typing import TYPE_CHECKING, Any, Iterator, Sequence

if TYPE_CHECKING:
    import networkx as nx

    from .model import Model
    from .result import CheckResult

__all__ = ["DEFAULT_MAX_NODES", "GraphRecorder", "build_digraph", "export_graphml", "export_json"]

DEFAULT_MAX_NODES = 5_000


class GraphRecorder:
    """Edges of expanded states, in flat lists (see the module docstring)."""

    __slots__ = ("dst", "act", "exp", "end")

    def __init__(self) -> None:
        self.dst: list[int] = []  # target id per recorded transition (== source for a self-loop)
        self.act: list[Any] = []  # action per recorded transition
        self.exp: list[int] = []  # id of each expanded state, in expansion order
        self.end: list[int] = []  # end offset into dst/act of that state's transitions

    def close(self, key: int) -> None:
        """Mark the transitions appended since the previous close as ``key``'s complete expansion."""
        self.exp.append(key)
        self.end.append(len(self.dst))

    def repair(self) -> None:
        """Drop the transitions of an expansion that was interrupted before ``close``."""
        cut = self.end[-1] if self.end else 0
        del self.dst[cut:], self.act[cut:]

    def ranges(self, n: int) -> tuple[bytearray, list[int], list[int]]:
        """(expanded flag, first edge, end edge) per state id."""
        expanded = bytearray(n)
        lo = [0] * n
        hi = [0] * n
        prev = 0
        for sid, end in zip(self.exp, self.end):
            expanded[sid] = 1
            lo[sid] = prev
            hi[sid] = end
            prev = end
        return expanded, lo, hi

    def transitions(self) -> Iterator[tuple[int, int, Any]]:
        """Every recorded (source, target, action), self-loops included."""
        dst, act = self.dst, self.act
        prev = 0
        for sid, end in zip(self.exp, self.end):
            for j in range(prev, end):
                yield sid, dst[j], act[j]
            prev = end

    def nbytes(self) -> int:
        return sum(sys.getsizeof(x) for x in (self.dst, self.act, self.exp, self.end)) + 28 * len(self.end)


def build_digraph(rec: GraphRecorder, states: Sequence[Any], init_ids: Sequence[int], model: "Model") -> "nx.DiGraph":
    """A networkx DiGraph of the recorded graph (see ``CheckResult.graph`` for the attributes)."""
    import networkx as nx

    expanded, _, _ = rec.ranges(len(states))
    inits = set(init_ids)
    g = nx.DiGraph()
    for i, state in enumerate(states):
        g.add_node(i, label=model.format_state(state), state=state, init=i in inits, expanded=bool(expanded[i]))
    edges: dict[tuple[int, int], list[Any]] = {}
    for u, v, a in rec.transitions():
        if u != v:
            edges.setdefault((u, v), []).append(a)
    for (u, v), actions in edges.items():
        g.add_edge(u, v, actions=actions, action=" | ".join(model.format_action(a) for a in actions))
    return g


def _checked_graph(result: "CheckResult", max_nodes: int) -> "nx.DiGraph":
    if not result.has_graph:
        # Let the result explain why (compact store, or keep_graph was off).
        result.graph  # noqa: B018 - raises ValueError with the fix
    n = result.stats.states
    if n > max_nodes:
        raise ValueError(
            f"the state graph has {n:,} states, more than max_nodes={max_nodes:,}; a graph that size "
            f"is unreadable in a viewer. Lower it with bounds (check(..., max_states={max_nodes}) or a "
            f"smaller max_depth), or raise the cap: max_nodes={n}"
        )
    return result.graph


def _plain(g: "nx.DiGraph") -> "nx.DiGraph":
    """A copy with only string/bool attributes, which GraphML and JSON can hold."""
    import networkx as nx

    out = nx.DiGraph()
    for i, d in g.nodes(data=True):
        out.add_node(i, label=d["label"], init=d["init"], expanded=d["expanded"])
    for u, v, d in g.edges(data=True):
        out.add_edge(u, v, action=d["action"])
    return out


def export_graphml(
    result: "CheckResult", path: str | os.PathLike[str], max_nodes: int = DEFAULT_MAX_NODES
) -> None:
    """Write the state graph as GraphML (node ``label``/``init``/``expanded``, edge ``action``).

    Raises ValueError above ``max_nodes`` states, or if the result has no graph.
    """
    import networkx as nx

    nx.write_graphml(_plain(_checked_graph(result, max_nodes)), os.fspath(path))


def export_json(
    result: "CheckResult", path: str | os.PathLike[str] | None = None, max_nodes: int = DEFAULT_MAX_NODES
) -> dict[str, Any]:
    """The state graph as ``{"nodes": [...], "edges": [...]}``; also written to ``path`` if given.

    Raises ValueError above ``max_nodes`` states, or if the result has no graph.
    """
    g = _plain(_checked_graph(result, max_nodes))
    data = {
        "directed": True,
        "nodes": [{"id": i, **d} for i, d in g.nodes(data=True)],
        "edges": [{"source": u, "target": v, "action": d["action"]} for u, v, d in g.edges(data=True)],
    }
    if path is not None:
        with open(path, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=1)
    return data
