"""The committed docs are what the code draws now: regenerate into a temporary folder and compare bytes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from model.semantics.lifecycle import LIFECYCLE
from model.viz.docs import DIAGRAM_FILES, build_docs, stale_docs

DOCS = Path(__file__).resolve().parent.parent / "docs"


@pytest.fixture(scope="module")
def fresh(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("docs")
    written = build_docs(folder)
    assert sorted(p.relative_to(folder).as_posix() for p in written) == sorted(
        [f"diagrams/{name}" for name in DIAGRAM_FILES] + ["lifecycle.md"])
    return folder


@pytest.mark.parametrize("rel", ["lifecycle.md"] + [f"diagrams/{name}" for name in DIAGRAM_FILES])
def test_committed_file_matches_what_the_code_draws(fresh, rel):
    committed = DOCS / rel
    assert committed.exists(), f"docs/{rel} is missing: run `make docs` and commit it"
    assert committed.read_bytes() == (fresh / rel).read_bytes(), (
        f"docs/{rel} no longer matches what the code draws: run `make docs` (copyimage docs docs/) and commit it")


def test_the_page_embeds_the_diagrams_and_cites_the_rules(fresh):
    page = (fresh / "lifecycle.md").read_text()
    for name in ("lifecycle.mmd", "queue.mmd", "seven-copies.sequence.mmd"):
        assert f"```mermaid\n{(fresh / 'diagrams' / name).read_text()}```" in page, name
    for svg in ("lifecycle.svg", "queue.svg", "seven-copies.timeline.svg"):
        assert f"](diagrams/{svg})" in page
    cited = set(re.findall(r"^\| ([A-Z]\d+) \| ", page, re.M))
    assert {r for e in LIFECYCLE for r in e.rules} <= cited
    for e in LIFECYCLE:  # one table row per declared transition
        assert f"| `{e.trigger}` | {e.source} | {e.dest} |" in page


def test_a_changed_diagram_is_noticed(fresh, tmp_path):
    """The comparison would fail if a drawing changed: a one-byte edit is not equal."""
    svg = (fresh / "diagrams" / "lifecycle.svg").read_bytes()
    assert svg.replace(b"Waiting", b"Wa1ting", 1) != svg
    again = tmp_path / "again"
    build_docs(again)
    assert (again / "diagrams" / "lifecycle.svg").read_bytes() == svg  # and redrawing is byte-identical
    assert stale_docs(again) == []
    (again / "diagrams" / "lifecycle.svg").write_bytes(svg.replace(b"Waiting", b"Wa1ting", 1))
    assert stale_docs(again) == ["diagrams/lifecycle.svg"]  # one changed byte is noticed
