"""The recorded state graph: networkx view, GraphML/JSON export round trips, the size cap, action counts."""

from __future__ import annotations

import json

import networkx as nx
import pytest

from model.check import Model, Property, check, export_graphml, export_json


class Clock(Model):
    """Hours 0..n-1 on a ring ("tick"), "reset" to 0 from even hours, and a "look" self-loop."""

    def __init__(self, n: int = 6) -> None:
        self.n = n

    def init_states(self):
        return [0]

    def successors(self, h):
        yield "tick", (h + 1) % self.n, "ticked"
        if h % 2 == 0:
            yield "reset", 0, "reset"
        yield "look", h, "looked"

    def properties(self):
        return [Property.always("valid", lambda h: 0 <= h < self.n)]

    def format_state(self, h):
        return f"{h}h"

    def action_kind(self, action):
        return action.upper()


def expected_edges(n: int) -> set[tuple[int, int]]:
    """Edges between hour values (ids equal hours: BFS discovers them in order)."""
    edges = {(h, (h + 1) % n) for h in range(n)}
    edges |= {(h, 0) for h in range(0, n, 2) if h != 0}
    return edges


def test_graph_nodes_edges_and_attributes():
    r = check(Clock(6), keep_graph=True)
    g = r.graph
    assert isinstance(g, nx.DiGraph)
    assert sorted(g.nodes) == list(range(6))
    assert [g.nodes[i]["label"] for i in range(6)] == [f"{h}h" for h in range(6)]
    assert g.nodes[0]["init"] and not g.nodes[1]["init"]
    assert all(g.nodes[i]["expanded"] for i in range(6))
    assert set(g.edges) == expected_edges(6)  # self-loops ("look", and reset at 0) are not edges
    assert g.edges[2, 0]["action"] == "reset" and g.edges[2, 0]["actions"] == ["reset"]
    assert g.edges[0, 1]["action"] == "tick"
    assert g.number_of_edges() == r.stats.transitions


def test_parallel_actions_share_one_edge():
    class Two(Model):
        def init_states(self):
            return ["a"]

        def successors(self, s):
            if s == "a":
                yield "x", "b", None
                yield "y", "b", None

    r = check(Two(), keep_graph=True)
    assert r.graph.edges[0, 1]["action"] == "x | y"
    assert r.stats.transitions == 2  # each enabled action counts once


def test_action_counts_by_kind_with_the_graph():
    r = check(Clock(6), keep_graph=True)
    assert r.action_counts == {"TICK": 6, "RESET": 3, "LOOK": 6}  # self-loops included
    assert r.action_kinds == {"TICK", "RESET", "LOOK"}
    assert "Actions by kind: TICK: 6" in r.report()
    plain = check(Clock(6))
    assert plain.action_counts is None and "keep_graph=True" in plain.report()


def test_graphml_round_trip(tmp_path):
    r = check(Clock(6), keep_graph=True)
    out = tmp_path / "clock.graphml"
    export_graphml(r, out)
    back = nx.read_graphml(out)
    assert {int(i) for i in back.nodes} == set(range(6))
    assert {int(i): d["label"] for i, d in back.nodes(data=True)} == {h: f"{h}h" for h in range(6)}
    assert {(int(u), int(v)) for u, v in back.edges} == expected_edges(6)
    assert back.edges["2", "0"]["action"] == "reset"
    assert back.nodes["0"]["init"] is True


def test_json_round_trip(tmp_path):
    r = check(Clock(6), keep_graph=True)
    out = tmp_path / "clock.json"
    data = export_json(r, out)
    assert json.loads(out.read_text()) == data
    assert [n["id"] for n in data["nodes"]] == list(range(6))
    assert {(e["source"], e["target"]) for e in data["edges"]} == expected_edges(6)
    assert {(e["source"], e["target"]): e["action"] for e in data["edges"]}[(4, 0)] == "reset"


def test_export_refuses_big_graphs_and_says_how_to_shrink():
    r = check(Clock(30), keep_graph=True)
    with pytest.raises(ValueError, match=r"30 states, more than max_nodes=10.*max_states=10.*max_nodes=30"):
        export_json(r, max_nodes=10)
    with pytest.raises(ValueError, match="max_nodes=10"):
        export_graphml(r, "/nonexistent/never-written.graphml", max_nodes=10)
    assert len(export_json(r, max_nodes=30)["nodes"]) == 30
    small = check(Clock(30), keep_graph=True, max_states=10)
    assert len(export_json(small, max_nodes=10)["nodes"]) == small.stats.states


def test_default_cap_is_5000_nodes():
    r = check(Clock(5001), keep_graph=True)
    with pytest.raises(ValueError, match="5,001 states, more than max_nodes=5,000"):
        export_json(r)


def test_no_graph_unless_kept():
    r = check(Clock(6))
    assert not r.has_graph
    with pytest.raises(ValueError, match="keep_graph=True"):
        r.graph
    with pytest.raises(ValueError, match="keep_graph=True"):
        export_json(r)


def test_bounded_graph_marks_unexpanded_states():
    r = check(Clock(10), keep_graph=True, max_depth=3)
    g = r.graph
    assert g.number_of_nodes() == r.stats.states == 4
    assert [g.nodes[i]["expanded"] for i in range(4)] == [True, True, True, False]


def test_graph_from_dfs_and_random_walks_is_the_same_graph():
    bfs = check(Clock(8), keep_graph=True).graph
    for kwargs in ({"strategy": "dfs"}, {"strategy": "random", "seed": 1, "walks": 50, "max_depth": 40}):
        g = check(Clock(8), keep_graph=True, **kwargs).graph
        labels = {i: d["label"] for i, d in g.nodes(data=True)}
        edges = {(labels[u], labels[v]) for u, v in g.edges}
        assert edges == {(bfs.nodes[u]["label"], bfs.nodes[v]["label"]) for u, v in bfs.edges}, kwargs
