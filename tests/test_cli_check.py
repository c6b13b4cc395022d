"""``copyimage check`` and ``copyimage replay`` as a user runs them: exit codes, output, exports."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from model.cli import main

ROOT = Path(__file__).parent.parent
SCEN = ROOT / "scenarios"


def run(*args: str, capsys) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_check_exit_0_and_one_line_per_scenario(capsys) -> None:
    code, out, _ = run("check", str(SCEN / "cancel-copy.yaml"), str(SCEN / "bugs" / "lifo-queue.yaml"), capsys=capsys)
    assert code == 0
    lines = out.strip().splitlines()
    assert len(lines) == 2 and all(line.startswith("PASS") for line in lines)
    assert "states" in lines[0] and "s" in lines[0].split()[-1]


def test_check_exit_1_when_an_expectation_fails(tmp_path: Path, capsys) -> None:
    text = (SCEN / "bugs" / "lifo-queue.yaml").read_text().replace("bug_lifo_queue: true", "bug_lifo_queue: false")
    f = tmp_path / "fixed.yaml"
    f.write_text(text)
    code, out, _ = run("check", str(f), capsys=capsys)
    assert code == 1
    assert "I4 should be violated but is holds" in out


def test_check_exit_2_on_a_malformed_scenario_naming_file_line_and_fix(tmp_path: Path, capsys) -> None:
    f = tmp_path / "bad.yaml"
    f.write_text("name: bad\nexplore:\n  requests:\n    - {call: CopyImag, params: {RegionId: cn-hangzhou}}\n")
    code, out, err = run("check", str(f), capsys=capsys)
    assert code == 2 and out == ""
    assert f"{f}:4" in err and "CopyImage" in err and "fix:" in err


def test_check_json_and_bounds_make_verdicts_unknown_with_a_warning(capsys) -> None:
    code, out, _ = run("check", str(SCEN / "queue-overflow.yaml"), "--max-states", "50", "--json", capsys=capsys)
    data = json.loads(out)
    assert data[0]["check"]["bounds_hit"]
    verdicts = {p["name"]: p["verdict"] for p in data[0]["check"]["properties"]}
    assert verdicts["I2"] == "unknown"
    assert any("max_states" in w or "bound" in w for w in data[0]["check"]["warnings"])
    assert code == 1  # the scenario expects I2 to hold; unknown is not holds


def test_export_replay_and_generated_pytest(tmp_path: Path, capsys) -> None:
    code, _, _ = run("check", str(SCEN / "bugs" / "delete-in-progress.yaml"), "--export", str(tmp_path), capsys=capsys)
    assert code == 0
    trace = tmp_path / "bug-delete-in-progress-I1.json"
    doc = json.loads(trace.read_text())
    assert [s.get("call") or s.get("event") for s in doc["steps"]] == ["CopyImage", "DeleteImage"]
    code, out, _ = run("replay", str(trace), capsys=capsys)
    assert code == 0 and "I1: reproduced after 2 steps" in out
    generated = tmp_path / "test_bug_delete_in_progress_I1.py"
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(generated)],
                          capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert not list(tmp_path.glob("*.tmp"))  # nothing half-written


def test_A4_counterexample_exports_replays_and_its_generated_pytest_checks_A4(tmp_path: Path, capsys) -> None:
    """A4 is not among I1-I9 (``Cloud.violations()`` leaves it out), so the replay and the test name it."""
    code, _, _ = run("check", str(SCEN / "delete-source-a4.yaml"), "--export", str(tmp_path), capsys=capsys)
    assert code == 0
    trace = tmp_path / "delete-source-a4-A4.json"
    code, out, _ = run("replay", str(trace), capsys=capsys)
    assert code == 0 and "A4: reproduced after 2 steps" in out
    generated = tmp_path / "test_delete_source_a4_A4.py"
    assert "cloud.violations(('A4',))" in generated.read_text()
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(generated)],
                          capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_replay_detects_a_trace_the_model_would_not_produce(tmp_path: Path, capsys) -> None:
    run("check", str(SCEN / "bugs" / "delete-in-progress.yaml"), "--export", str(tmp_path), capsys=capsys)
    doc = json.loads((tmp_path / "bug-delete-in-progress-I1.json").read_text())
    doc["scenario"]["options"]["bug_delete_in_progress"] = False  # the correct model refuses the delete
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(doc))
    code, out, _ = run("replay", str(edited), capsys=capsys)
    assert code == 1
    assert "answered OperationDenied.ImageCopying, the trace recorded OK" in out


def test_graph_export_graphml(tmp_path: Path, capsys) -> None:
    target = tmp_path / "g.graphml"
    code, _, _ = run("check", str(SCEN / "cancel-copy.yaml"), "--graph", str(target), capsys=capsys)
    assert code == 0
    import networkx as nx

    g = nx.read_graphml(target)
    assert g.number_of_nodes() == 26


def test_replay_bad_file_exits_2(tmp_path: Path, capsys) -> None:
    f = tmp_path / "junk.json"
    f.write_text("{not json")
    code, _, err = run("replay", str(f), capsys=capsys)
    assert code == 2 and str(f) in err
