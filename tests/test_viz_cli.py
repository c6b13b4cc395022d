"""``copyimage diagram`` and ``copyimage docs``: formats, files, and bad input that writes nothing."""

from __future__ import annotations

import os

import pytest
import yaml

from model.cloud import Cloud
from model.viz import cli, output
from model.cli import main  # the real entry point: `copyimage diagram ...`, `copyimage docs ...`

EXPLORE = {
    "name": "tiny",
    "regions": ["S", "D"],
    "options": {"copy_limit": 1, "bug_delete_in_progress": True},
    "images": [{"name": "web", "region": "S"}],
    "explore": {"requests": [
        {"name": "c1", "call": "CopyImage", "params": {"RegionId": "S", "ImageId": "$web", "DestinationRegionId": "D"}},
        {"call": "DeleteImage", "params": {"RegionId": "D", "ImageId": "$c1"}},
    ], "events": ["complete"], "properties": ["I1"]},
}
STEPS = {
    "name": "two-copies",
    "regions": ["S", "D"],
    "options": {"copy_limit": 1},
    "images": [{"name": "web", "region": "S", "size": 10}, {"name": "db", "region": "S", "size": 10}],
    "steps": [
        {"call": "CopyImage", "params": {"RegionId": "S", "ImageId": "$web", "DestinationRegionId": "D"}},
        {"call": "CopyImage", "params": {"RegionId": "S", "ImageId": "$db", "DestinationRegionId": "D"}},
        {"run_until_idle": True},
    ],
}


def _yaml(tmp_path, name: str, data: dict) -> str:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return str(path)


def test_lifecycle_mermaid_to_stdout(capsys):
    assert main(["diagram", "lifecycle"]) == 0
    out = capsys.readouterr().out
    assert "stateDiagram-v2" in out and "Requested --> Waiting : accept [unless slot_free]" in out


def test_format_from_the_output_suffix(tmp_path, capsys):
    target = tmp_path / "life.svg"
    assert main(["diagram", "lifecycle", "--engine", "matplotlib", "-o", str(target)]) == 0
    assert target.read_text().startswith("<?xml") and ">Waiting<" in target.read_text()
    assert f"wrote {target}" in capsys.readouterr().err
    assert main(["diagram", "queue", "-o", str(tmp_path / "q.dot")]) == 0
    assert (tmp_path / "q.dot").read_text().startswith("digraph queue {")
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_queue_options(tmp_path, capsys):
    assert main(["diagram", "queue", "--option", "bug_limit_off_by_one=true", "--limit", "2"]) == 0
    assert 'state "over the limit" as over' in capsys.readouterr().out
    assert main(["diagram", "queue", "--option", "no_such_option=1"]) == 2
    assert "known option" in capsys.readouterr().err
    assert main(["diagram", "queue", "--limit", "0"]) == 2


def test_statespace_and_its_counterexample_as_a_trace(tmp_path, capsys):
    scenario = _yaml(tmp_path, "tiny.yaml", EXPLORE)
    assert main(["diagram", "statespace", scenario, "-f", "mermaid"]) == 0
    assert "linkStyle" in capsys.readouterr().out
    assert main(["diagram", "statespace", scenario, "-o", str(tmp_path / "s.png")]) == 0
    assert (tmp_path / "s.png").read_bytes()[:4] == b"\x89PNG"
    assert main(["diagram", "trace", scenario, "-f", "mermaid"]) == 0
    out = capsys.readouterr().out
    assert 'title: "tiny: I1 counterexample"' in out and "Note over Client,Q_D: I1 broken" in out


def test_statespace_above_the_cap(tmp_path, capsys):
    scenario = _yaml(tmp_path, "tiny.yaml", EXPLORE)
    assert main(["diagram", "statespace", scenario, "-f", "dot", "--max-nodes", "2"]) == 2
    assert "more than 2 to draw" in capsys.readouterr().err
    assert main(["diagram", "statespace", scenario, "-o", str(tmp_path / "s.svg"), "--max-nodes", "2"]) == 0
    assert "drawing a summary" in capsys.readouterr().err
    assert "more than 2 to draw one by one, so a summary" in (tmp_path / "s.svg").read_text()


def test_trace_of_a_scenario_and_of_a_json_file(tmp_path, capsys):
    scenario = _yaml(tmp_path, "two.yaml", STEPS)
    assert main(["diagram", "trace", scenario, "-o", str(tmp_path / "t.mmd")]) == 0
    assert "accepted: Waiting" in (tmp_path / "t.mmd").read_text()
    cloud = Cloud.from_scenario(tmp_path / "two.yaml")
    web = cloud.refs()["web"]
    cloud.call("CopyImage", {"RegionId": "S", "ImageId": web, "DestinationRegionId": "D"})
    cloud.run_until_idle()
    trace = tmp_path / "run.json"
    trace.write_text(cloud.trace_json())
    assert main(["diagram", "trace", str(trace), "--scenario", scenario, "-o", str(tmp_path / "t.svg")]) == 0
    assert "copy of web" in (tmp_path / "t.svg").read_text()
    # Without --scenario the default world has no such image: the replay refuses, naming the fix.
    assert main(["diagram", "trace", str(trace), "-f", "mermaid"]) == 2
    err = capsys.readouterr().err
    assert f"{trace}: entry 1 (CopyImage)" in err and "--scenario FILE" in err


@pytest.mark.parametrize("argv,message", [
    (["diagram", "lifecycle", "-o", "x.txt"], "cannot tell the format from the suffix .txt"),
    (["diagram", "lifecycle", "-f", "png"], "add -o FILE.png"),
    (["diagram", "lifecycle", "extra.yaml"], "takes no file"),
    (["diagram", "statespace"], "needs a scenario with an explore section"),
    (["diagram", "trace", "{two}", "-f", "dot"], "not as DOT"),
    (["diagram", "statespace", "{two}"], "has no `explore:` section"),
    (["diagram", "statespace", "{tiny}", "--path", "I9"], "no property named 'I9'"),
    (["diagram", "trace", "{broken}"], "broken.yaml:3: not valid YAML"),
    (["diagram", "trace", "{missing}"], "missing.json: cannot read the trace"),
])
def test_bad_input_exits_2_names_the_fix_and_writes_nothing(tmp_path, capsys, argv, message):
    files = {"two": _yaml(tmp_path, "two.yaml", STEPS), "tiny": _yaml(tmp_path, "tiny.yaml", EXPLORE),
             "broken": str(tmp_path / "broken.yaml"), "missing": str(tmp_path / "missing.json")}
    (tmp_path / "broken.yaml").write_text("name: x\nregions: [a, b\n")
    out = tmp_path / "out.svg"
    out.write_text("old content")
    argv = [a.format(**files) for a in argv]
    if "-o" not in argv and "-f" not in argv and argv[1] not in ("lifecycle",):
        argv += ["-o", str(out)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert out.read_text() == "old content"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_engine_dot_without_graphviz(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert main(["diagram", "lifecycle", "--engine", "dot", "-o", str(tmp_path / "l.svg")]) == 2
    assert "apt-get install graphviz" in capsys.readouterr().err
    assert not (tmp_path / "l.svg").exists()


def test_write_atomic_leaves_the_old_file_when_the_rename_fails(tmp_path, monkeypatch):
    target = tmp_path / "d.svg"
    target.write_text("old")
    os.chmod(target, 0o640)

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(output.os, "replace", broken_replace)
    with pytest.raises(OSError):
        output.write_atomic(target, "new")
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["d.svg"]
    monkeypatch.undo()
    output.write_atomic(target, "new")
    assert target.read_text() == "new" and (target.stat().st_mode & 0o777) == 0o640  # keeps the mode


def test_docs_check_then_build(tmp_path, capsys):
    folder = tmp_path / "docs"
    assert main(["docs", str(folder), "--check"]) == 1
    assert "lifecycle.md is out of date" in capsys.readouterr().err
    assert main(["docs", str(folder)]) == 0
    assert main(["docs", str(folder), "--check"]) == 0
    (folder / "diagrams" / "queue.mmd").write_text("stale")
    assert main(["docs", str(folder), "--check"]) == 1
    assert "queue.mmd is out of date" in capsys.readouterr().err
    assert main(["docs", str(tmp_path / "docs" / "lifecycle.md")]) == 2  # a file, not a folder


def test_subcommand_hooks_are_functions():
    import argparse

    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command")
    cli.add_diagram_arguments(sub.add_parser("diagram"))
    cli.add_docs_arguments(sub.add_parser("docs"))
    args = parser.parse_args(["diagram", "trace", "x.json", "--scenario", "s.yaml"])
    assert args.func is cli.run_diagram and args.scenario == "s.yaml"
    assert parser.parse_args(["docs"]).folder == "docs"
    assert list(cli.FORMATS) == ["mermaid", "dot", "svg", "png"]
