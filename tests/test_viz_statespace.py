"""The state-space pictures show the checker's graph: the start, the dead ends, the path, and a cap."""

from __future__ import annotations

import re

import pytest

from model.check import check
from model.check.bench import bench_scenario
from model.check.ecs import CopyImageModel
from model.viz.statespace import (
    TooManyStates, explore, highlight_path, short_action, statespace_dot, statespace_figure, statespace_mermaid,
    summary_figure,
)

BUGGY = {
    "name": "delete-race",
    "regions": ["S", "D"],
    "options": {"copy_limit": 1, "bug_delete_in_progress": True},
    "images": [{"name": "web", "region": "S"}, {"name": "db", "region": "S"}],
    "explore": {
        "requests": [
            {"name": "c1", "call": "CopyImage",
             "params": {"RegionId": "S", "ImageId": "$web", "DestinationRegionId": "D"}},
            {"name": "c2", "call": "CopyImage",
             "params": {"RegionId": "S", "ImageId": "$db", "DestinationRegionId": "D"}},
            {"call": "DeleteImage", "params": {"RegionId": "D", "ImageId": "$c1"}},
        ],
        "events": ["complete"],
        "properties": ["I1", "I2"],
        "sometimes": ["queue-used"],
    },
}


@pytest.fixture(scope="module")
def buggy():
    return explore(BUGGY)


def test_explore_keeps_the_graph_and_finds_the_counterexample(buggy):
    assert buggy.has_graph and buggy["I1"].violated
    assert highlight_path(buggy) is buggy["I1"].path
    assert highlight_path(buggy, "queue-used") is buggy["queue-used"].path
    assert highlight_path(buggy, None) is None
    with pytest.raises(ValueError, match="I2"):
        highlight_path(buggy, "I2")  # holds: nothing to draw
    with pytest.raises(KeyError, match="no property named"):
        highlight_path(buggy, "nope")


def test_mermaid_marks_start_dead_ends_and_the_counterexample(buggy):
    text = statespace_mermaid(buggy)
    graph = buggy.graph
    assert text.startswith("flowchart LR\n")
    assert len(re.findall(r"^    s\d+\[", text, re.M)) == graph.number_of_nodes()
    edge_lines = re.findall(r"^    s(\d+) -->\|\"([^\"]*)\"\| s(\d+)$", text, re.M)
    assert len(edge_lines) == graph.number_of_edges()
    assert "    class s0 init" in text.splitlines()
    # The red links are exactly the counterexample's steps, in the order the edges are listed.
    index = {d["state"]: n for n, d in graph.nodes(data=True)}
    ids = [index[s] for s in buggy["I1"].path.states()]
    want = {(str(a), str(b)) for a, b in zip(ids, ids[1:])}
    styled = re.search(r"^    linkStyle ([\d,]+) ", text, re.M).group(1).split(",")
    assert {(edge_lines[int(k)][0], edge_lines[int(k)][2]) for k in styled} == want
    terminal = [n for n in graph.nodes if graph.out_degree(n) == 0]
    assert terminal and re.search(rf"class [s\d,]*\bs{terminal[0]}\b[s\d,]* terminal", text)


def test_dot_colours_the_path(buggy):
    text = statespace_dot(buggy, path="I1")
    assert text.count('color="#d32f2f", penwidth=2.5') == len(buggy["I1"].path)
    assert statespace_dot(buggy, path=None).count("penwidth=2.5") == 0


def test_figure_draws_small_spaces_and_summarises_big_ones(buggy):
    fig = statespace_figure(buggy)
    ax = fig.axes[0]
    assert ax.get_title().startswith(f"Reachable states: {buggy.stats.states} states")
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "I1 counterexample (2 steps)" in labels and "initial state" in labels
    small = statespace_figure(buggy, max_nodes=5)
    assert f"{buggy.stats.states} states: more than 5 to draw one by one" in small._suptitle.get_text()
    assert len(small.axes) == 2  # states per depth, actions by kind


def test_text_forms_refuse_above_the_cap(buggy):
    with pytest.raises(TooManyStates, match=r"more than 5 .*max_states"):
        statespace_mermaid(buggy, max_nodes=5)
    with pytest.raises(TooManyStates):
        statespace_dot(buggy, max_nodes=5)


def test_summary_without_a_graph_says_what_is_missing():
    result = check(CopyImageModel(bench_scenario(2, 1)), keep_graph=False)
    fig = summary_figure(result)
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert any("keep_graph=True" in t for t in texts)
    left = fig.axes[0]
    assert [round(p.get_height()) for p in left.patches] == result.depth_histogram
    with pytest.raises(ValueError, match="keep_graph"):
        statespace_figure(result)


def test_short_action():
    assert short_action("[t1] CopyImage(RegionId=S, ImageId=m-1)") == "[t1] CopyImage"
    assert short_action("Complete(m-1) | Fail(m-1)") == "Complete | Fail"
    assert short_action("Complete(m-1) | Complete(m-2)") == "Complete"
