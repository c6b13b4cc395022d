"""Bad input to ``check-trace``: exit 2 with the file, the line and the fix; junk never crashes it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from model.tracecheck import TraceError, parse_trace_text, read_trace

from .test_tracecheck import run_cli

DATA = Path(__file__).parent / "data" / "traces"
EIGHT = DATA / "eight-images.yaml"
GOOD = json.dumps({"kind": "call", "action": "DescribeImages", "params": {"RegionId": "cn-shanghai"}, "caller": None,
                   "status": 200, "response": {"TotalCount": 0, "Images": {"Image": []}}})


def trace_file(tmp_path: Path, text: str | bytes, name: str = "t.jsonl") -> Path:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


def test_a_missing_file_is_bad_input(tmp_path):
    missing = tmp_path / "nope.jsonl"
    code, out, err = run_cli(missing)
    assert code == 2 and out == ""
    assert f"{missing}: cannot read the file" in err and "fix: check the path" in err


def test_bad_json_names_the_file_the_line_and_the_fix(tmp_path):
    path = trace_file(tmp_path, GOOD + "\n\n" + '{"kind": "call", "action": "CopyImage",\n' + GOOD + "\n")
    code, out, err = run_cli(path, "--scenario", EIGHT)
    assert code == 2
    assert f"{path}:3: not valid JSON" in err
    assert "fix: each line must be one complete JSON object" in err


def test_bad_json_in_a_list_names_its_line(tmp_path):
    path = trace_file(tmp_path, "[\n" + GOOD + ",\n" + GOOD + "\n  {oops}\n]\n", "t.json")
    code, _, err = run_cli(path)
    assert code == 2 and f"{path}:4:" in err and "`,` between items" in err


def test_bad_input_with_json_output_is_a_json_error(tmp_path):
    path = trace_file(tmp_path, GOOD + "\n42\n")
    code, out, err = run_cli(path, "--json")
    assert code == 2
    assert json.loads(out) == {"ok": False, "error": {
        "file": str(path), "line": 2, "what": "a trace record must be a JSON object, not a number",
        "fix": 'write one JSON object per line: {"kind": "call", "action": ..., "params": {...}, "caller": null, '
               '"status": 200, "response": {...}} or {"kind": "event", "event": "Complete", "ImageId": ...} '
               '(see docs/trace-format.md)'}}
    assert f"{path}:2:" in err


@pytest.mark.parametrize("line, what", [
    ('{"kind": "call", "params": {}, "response": {}}', "a call needs its `action`"),
    ('{"kind": "call", "action": "CopyImage", "params": {}}', "a call needs its answer as a JSON object in `response`"),
    ('{"kind": "call", "action": "CopyImage", "status": "200", "response": {}}', "`status` must be an HTTP status"),
    ('{"kind": "call", "action": "CopyImage", "caller": 7, "response": {}}', "`caller` must be a RAM user name or null"),
    ('{"kind": "event", "event": "Explode", "ImageId": "m-1"}', "unknown service event 'Explode'"),
    ('{"kind": "event", "event": "Complete"}', "the Complete event needs the copy's `ImageId`"),
    ('{"kind": "note"}', "unknown record kind 'note'"),
    ('{"hello": "world"}', "not a trace record"),
    ('{"seq": 1, "type": "response", "status": 200, "body": {}}', "a response (seq 1) without its request"),
    ('{"seq": 1, "type": "gossip"}', "unknown server record type 'gossip'"),
    ('[1, 2]', "a trace record must be a JSON object, not a list"),
    ('{"kind": "call", "action": "CopyImage", "response": {}, "x": 1' + "9" * 5000 + "}", "not usable JSON"),
])
def test_malformed_records_are_bad_input_at_their_line(tmp_path, line, what):
    path = trace_file(tmp_path, GOOD + "\n" + line + "\n")
    code, _, err = run_cli(path)
    assert code == 2, err
    assert f"{path}:2: {what}" in err and "fix:" in err


def test_an_empty_file_and_a_non_utf8_file_are_bad_input(tmp_path):
    code, _, err = run_cli(trace_file(tmp_path, "\n  \n"))
    assert code == 2 and "holds no calls or events" in err
    code, _, err = run_cli(trace_file(tmp_path, GOOD.encode() + b"\n\xff\xfe\n", "bin.jsonl"))
    assert code == 2 and "bin.jsonl:2: not UTF-8" in err


def test_a_malformed_scenario_gets_the_loaders_message(tmp_path):
    scenario = tmp_path / "bad.yaml"
    scenario.write_text("name: bad\nregions: [cn-hangzhou]\nimages:\n  - {name: a, region: mars}\n")
    code, _, err = run_cli(DATA / "foreign-ok.jsonl", "--scenario", scenario)
    assert code == 2
    assert f"{scenario}:4: image `a` is in unknown region mars" in err and "fix:" in err


# Junk, and the exit status it must get: replaying events as recorded, and searching their timing.
# 1: a well-formed record the model would not answer so; 0: the gateway's own refusal, or (search) an
# event record left out; 2: not a usable record at all.
@pytest.mark.parametrize("junk, replayed, searched", [
    ('{"kind": "call", "action": "CopyImage", "params": "not a mapping", "response": {"ImageId": 5}}', 1, 1),
    ('{"kind": "call", "action": "CopyImage", "params": {"ImageId": ["m-1"], "RegionId": {}}, "response": {}}', 1, 1),
    ('{"kind": "call", "action": "DescribeImages", "params": {"RegionId": "cn-shanghai"}, "response": {"Images": 5}}',
     1, 1),
    ('{"kind": "call", "action": "DescribeImages", "params": {"RegionId": "cn-shanghai"}, '
     '"response": {"TotalCount": [], "Images": {"Image": [{"ImageId": null}]}}}', 1, 1),
    ('{"kind": "call", "action": "DescribeRegions", "response": {"Regions": {"Region": [{"RegionId": [1]}]}}}', 1, 1),
    ('{"kind": "call", "action": "RunInstances", "params": {"RegionId": "cn-hangzhou", "ImageId": "m-src001"}, '
     '"response": {"InstanceIdSets": {"InstanceIdSet": [1]}}}', 1, 1),
    ('{"kind": "call", "action": "\\ud800", "params": {"\\ud800": NaN}, "response": {"Code": "\\udfff"}}', 1, 1),
    ('{"kind": "call", "action": "Nope", "response": {"Code": "InvalidAction.NotFound"}, "status": 404}', 0, 0),
    ('{"seq": [1], "type": "request", "action": "CopyImage"}', 2, 2),
    ('{"kind": "event", "event": "complete", "ImageId": "m-unknown"}', 1, 0),
    ("[" * 100000 + "]" * 100000, 2, 2),
])
def test_junk_never_crashes(tmp_path, junk, replayed, searched):
    path = trace_file(tmp_path, GOOD + "\n" + junk + "\n")
    for extra, expected in (((), replayed), (("--json",), replayed), (("--search-events",), searched)):
        code, out, err = run_cli(path, "--scenario", EIGHT, *extra)
        assert code == expected, (extra, code, out, err)
        assert "Traceback" not in out + err
        if code == 2:
            assert f"{path}:2:" in err


def test_read_trace_raises_only_trace_errors(tmp_path):
    with pytest.raises(TraceError) as info:
        parse_trace_text('{"kind": "call", "action": "CopyImage", "response": {}}\n{', "x.jsonl")
    assert (info.value.source, info.value.line) == ("x.jsonl", 2)
    trace = read_trace(trace_file(tmp_path, "\ufeff" + GOOD + "\n"))  # a UTF-8 BOM is fine
    assert len(trace.calls) == 1
