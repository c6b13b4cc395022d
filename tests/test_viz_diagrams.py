"""The lifecycle and queue diagrams say what the declaration and the semantics say, in every format."""

from __future__ import annotations

import os
import re
import stat
from itertools import combinations

import pytest

from model.semantics.lifecycle import LIFECYCLE, STATES, build_machine
from model.viz import lifecycle as viz_lifecycle
from model.viz.diagram import Arrow, Diagram, Node, _box_size, render_dot
from model.viz.lifecycle import QUEUE_CLASSES, lifecycle_diagram, queue_class, queue_diagram


def _guard(edge) -> str:
    return " ".join([f"[{c}]" for c in edge.conditions] + [f"[unless {u}]" for u in edge.unless])


def test_lifecycle_arrows_are_the_declared_edges_with_guards_and_spec_ids():
    d = lifecycle_diagram()
    assert [n.id for n in d.nodes] == list(STATES)
    assert d.initial == "Requested"
    got = [(a.source, a.dest, a.lines[0], a.rules) for a in d.arrows]
    want = [(e.source, e.dest, f"{e.trigger} {_guard(e)}".strip(), e.rules) for e in LIFECYCLE]
    assert got == want


def test_lifecycle_agrees_with_the_transitions_library_own_rendering():
    """The arrows match the edges transitions' GraphMachine itself draws (so they come from the Machine)."""
    text = build_machine(graph=True, graph_engine="mermaid").get_graph().draw(None)
    theirs = set(re.findall(r"^\s*(\w+) --> (\w+): (\w+)", text, re.M))
    ours = {(a.source, a.dest, a.lines[0].split()[0]) for a in lifecycle_diagram().arrows}
    assert theirs == ours and len(ours) == len(LIFECYCLE)


def test_an_edge_the_declaration_does_not_have_is_refused(monkeypatch):
    """The SPEC ids are looked up in LIFECYCLE; a Machine edge missing there is an error, not a silent arrow."""
    monkeypatch.setattr(viz_lifecycle, "LIFECYCLE", LIFECYCLE[1:])
    with pytest.raises(LookupError, match="accept: Requested -> Creating"):
        lifecycle_diagram()


def test_lifecycle_mermaid_text():
    text = lifecycle_diagram().mermaid()
    assert "stateDiagram-v2" in text and "    [*] --> Requested" in text.splitlines()
    assert "    Requested --> Creating : accept [slot_free] (N4)" in text.splitlines()
    assert "    Requested --> Waiting : accept [unless slot_free] (N4, Q3)" in text.splitlines()
    assert "    Creating --> Cancelled : cancel [cancel_while_creating] (N3, C2, C3)" in text.splitlines()
    transitions = [line for line in text.splitlines() if "-->" in line]
    assert len(transitions) == len(LIFECYCLE) + 1
    for line in transitions:  # characters mermaid reads as syntax inside a label
        label = line.split(" : ", 1)[1] if " : " in line else ""
        assert not set(label) & set(";#<>"), line
    assert re.search(r"^\s*class Waiting, Creating progress$", text, re.M)


def test_lifecycle_dot_text():
    text = lifecycle_diagram().dot()
    assert text.startswith("digraph lifecycle {") and text.rstrip().endswith("}")
    assert text.count("{") == text.count("}")
    for e in LIFECYCLE:
        assert re.search(rf"^  {e.source} -> {e.dest} \[label=\"{re.escape(e.trigger)}", text, re.M), e
    assert '"accept [unless slot_free]\\nN4, Q3"' in text
    assert "__start -> Requested;" in text


def test_svg_is_deterministic_and_keeps_labels_as_text():
    d = lifecycle_diagram()
    first, second = d.svg(), lifecycle_diagram().svg()
    assert first == second
    assert first.startswith("<?xml") and "<svg" in first
    assert "<metadata>" not in first and "dc:date" not in first.lower() and "Matplotlib v" not in first
    for state in STATES:
        assert f">{state}<" in first
    assert "[unless slot_free]" in first and "N4, Q3" in first


def test_png_is_a_png():
    assert lifecycle_diagram().png()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("make", [lifecycle_diagram, queue_diagram], ids=["lifecycle", "queue"])
def test_boxes_do_not_overlap(make):
    d = make()
    pos = d.layout()
    for a, b in combinations(d.nodes, 2):
        (xa, ya), (wa, ha) = pos[a.id], _box_size(a)
        (xb, yb), (wb, hb) = pos[b.id], _box_size(b)
        apart = abs(xa - xb) >= (wa + wb) / 2 or abs(ya - yb) >= (ha + hb) / 2
        assert apart, (a.id, b.id)


def test_notebook_display_bundle():
    d = lifecycle_diagram()
    bundle = d._repr_mimebundle_()
    assert bundle["image/svg+xml"] == d.svg()
    assert bundle["text/markdown"].startswith("```mermaid\n") and d.mermaid() in bundle["text/markdown"]
    assert set(d._repr_mimebundle_(include=["text/markdown"])) == {"text/markdown"}


@pytest.mark.parametrize(
    "running,waiting,limit,expected",
    [(0, 0, 3, "idle"), (1, 0, 3, "busy"), (2, 0, 3, "busy"), (3, 0, 3, "full"), (3, 2, 3, "queue"),
     (1, 1, 3, "stalled"), (4, 0, 3, "over"), (1, 0, 1, "full")],
)
def test_queue_class(running, waiting, limit, expected):
    assert queue_class(running, waiting, limit) == expected


def _arrows(d: Diagram) -> dict[tuple[str, str], tuple[str, ...]]:
    return {(a.source, a.dest): a.lines for a in d.arrows}


def test_queue_diagram_default_options():
    d = queue_diagram()
    assert [n.id for n in d.nodes] == ["idle", "busy", "full", "queue"]
    arrows = _arrows(d)
    assert arrows[("idle", "busy")] == ("accept [slot_free]",)
    assert arrows[("full", "queue")] == ("accept [unless slot_free]",)
    assert arrows[("busy", "idle")] == ("complete | fail | cancel (Creating)",)
    # Leaving the queue: a waiting copy is cancelled, or a running one ends and the head starts at once.
    assert arrows[("queue", "full")] == ("cancel (Waiting)",
                                         "complete | fail | cancel (Creating)\nthen start [slot_free]")
    assert ("idle", "full") not in arrows and ("queue", "busy") not in arrows  # one step moves one slot
    assert "copies into one region with L = 3 (default options)" in d.caption


def test_queue_diagram_shows_what_a_seeded_bug_breaks():
    over = queue_diagram({"bug_limit_off_by_one": True})
    assert "over" in [n.id for n in over.nodes] and ("full", "over") in _arrows(over)
    idle_slot = queue_diagram({"bug_freed_slot_idle": True})
    assert "stalled" in [n.id for n in idle_slot.nodes]
    assert _arrows(idle_slot)[("queue", "stalled")] == ("complete",)
    assert "bug_freed_slot_idle=True" in idle_slot.caption


def test_queue_diagram_limit_one_goes_straight_to_full():
    arrows = _arrows(queue_diagram(limit=1))
    assert ("idle", "full") in arrows and "busy" not in {a for pair in arrows for a in pair}


def test_queue_classes_cover_every_count():
    ids = {c[0] for c in QUEUE_CLASSES}
    for running in range(6):
        for waiting in range(3):
            assert queue_class(running, waiting, 3) in ids


def _fake_dot(tmp_path, script: str) -> str:
    exe = tmp_path / "dot"
    exe.write_text("#!/bin/sh\n" + script)
    exe.chmod(exe.stat().st_mode | stat.S_IEXEC)
    return str(tmp_path)


def test_graphviz_path_feeds_dot_the_dot_text(tmp_path, monkeypatch):
    """With a `dot` on the PATH the picture is what dot prints for our DOT text (a stand-in dot records it)."""
    got = tmp_path / "input.dot"
    monkeypatch.setenv("PATH", _fake_dot(tmp_path, f"cat > {got}\necho '<svg>laid out by dot</svg>'\n")
                       + os.pathsep + os.environ["PATH"])
    d = lifecycle_diagram()
    assert d.svg(engine="dot") == "<svg>laid out by dot</svg>\n"
    assert got.read_text() == d.dot()


def test_graphviz_failure_is_reported(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", _fake_dot(tmp_path, "echo 'syntax error in line 3' >&2\nexit 1\n"))
    with pytest.raises(RuntimeError, match="syntax error in line 3"):
        render_dot("digraph {}", "svg")


def test_graphviz_missing_names_the_fix(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty folder: no dot
    with pytest.raises(RuntimeError, match="apt-get install graphviz"):
        lifecycle_diagram().png(engine="dot")


def test_self_loops_and_unreachable_boxes_are_drawn():
    d = Diagram("t", "toy", (Node("a", "a"), Node("b", "b", "note"), Node("lonely", "lonely")),
                (Arrow("a", "b", ("go",)), Arrow("b", "b", ("stay",), ("X1",))), initial="a")
    svg = d.svg()
    assert ">stay<" in svg and ">X1<" in svg and ">lonely<" in svg
    assert d.layout()["lonely"][0] > d.layout()["b"][0]  # placed after the reachable boxes
    assert "    b --> b : stay (X1)" in d.mermaid().splitlines()
