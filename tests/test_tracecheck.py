"""The trace checker: traces the model recorded pass; traces with answers it cannot give fail at the right line.

Traces come from the HTTP server (``--trace`` JSON lines), from ``Cloud.trace``
(a JSON list), hand-edited copies of those, and hand-written "foreign" traces
(tests/data/traces/) whose ids are not the model's and which record no
service events, so the checker must search the events' timing.
"""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path
from typing import Any, Callable

import pytest

from model import Cloud, load_scenario
from model.server import EcsClient, Server
from model.tracecheck import add_check_trace_arguments, check_trace, parse_trace_text, read_trace, run_check_trace

DATA = Path(__file__).parent / "data" / "traces"
EIGHT = DATA / "eight-images.yaml"
LIMIT_ONE = DATA / "limit-one.yaml"
ALL_STATUSES = "Available,Creating,Waiting,CreateFailed"


def run_cli(*argv: object) -> tuple[int, str, str]:
    """``copyimage check-trace ARGS`` in-process: (exit status, stdout, stderr)."""
    parser = argparse.ArgumentParser(prog="copyimage check-trace")
    add_check_trace_arguments(parser)
    args = parser.parse_args([str(a) for a in argv])
    out, err = io.StringIO(), io.StringIO()
    code = run_check_trace(args, out, err)
    return code, out.getvalue(), err.getvalue()


def session(call: Callable[[str, dict], dict], advance: Callable[[float], Any],
            run_until_idle: Callable[[], Any]) -> list[str]:
    """Copy seven images (five run, two wait), retry one, cancel one, delete one, let time pass."""
    ids = []
    for i in range(1, 8):
        body = call("CopyImage", {"RegionId": "cn-hangzhou", "ImageId": f"m-src00{i}",
                                  "DestinationRegionId": "cn-shanghai", "ClientToken": f"t{i}"})
        ids.append(body["ImageId"])
    assert call("CopyImage", {"RegionId": "cn-hangzhou", "ImageId": "m-src001", "DestinationRegionId": "cn-shanghai",
                              "ClientToken": "t1"})["ImageId"] == ids[0]
    listed = call("DescribeImages", {"RegionId": "cn-shanghai", "Status": "Creating,Waiting"})
    assert sorted(i["Status"] for i in listed["Images"]["Image"]) == ["Creating"] * 5 + ["Waiting"] * 2
    assert "Code" not in call("CancelCopyImage", {"RegionId": "cn-shanghai", "ImageId": ids[6]})
    assert call("DeleteImage", {"RegionId": "cn-shanghai", "ImageId": ids[0]})["Code"] == "OperationDenied.ImageCopying"
    advance(400)  # the 20 GiB copy (300 s) is done, the others still run
    assert "Code" not in call("DeleteImage", {"RegionId": "cn-shanghai", "ImageId": ids[0]})
    call("DescribeImages", {"RegionId": "cn-shanghai", "Status": ALL_STATUSES})
    run_until_idle()
    call("DescribeImages", {"RegionId": "cn-shanghai"})
    return ids


def cloud_session(scenario: Any = EIGHT) -> tuple[Cloud, list[str]]:
    cloud = Cloud(load_scenario(scenario))
    ids = session(lambda a, p: cloud.call(a, p), cloud.advance, cloud.run_until_idle)
    return cloud, ids


def write_lines(path: Path, entries: list[dict]) -> Path:
    path.write_text("".join(json.dumps(e) + "\n" for e in entries))
    return path


def line_of(entries: list[dict], predicate: Callable[[dict], bool], nth: int = 0) -> int:
    """The 1-based line (JSON lines: one entry a line) of the nth entry matching ``predicate``."""
    hits = [i for i, e in enumerate(entries) if predicate(e)]
    return hits[nth] + 1


def is_call(action: str, **params: str) -> Callable[[dict], bool]:
    return lambda e: e["kind"] == "call" and e["action"] == action and all(
        e["params"].get(k) == v for k, v in params.items())


# --- traces the model recorded pass --------------------------------------------------------

def test_server_trace_passes(tmp_path):
    cloud = Cloud(load_scenario(EIGHT))
    (key, (secret, _)), *_ = cloud.access_keys().items()
    trace = tmp_path / "server.jsonl"
    with Server(cloud, port=0, trace_file=trace) as srv:
        with EcsClient(srv.endpoint, key, secret) as client:
            ids = session(lambda a, p: client.call(a, p)[1], srv.advance, srv.run_until_idle)
            # a request the gateway refuses never reaches the model: it is left out, not replayed
            status, body = EcsClient(srv.endpoint, key, "wrong-secret").call("DescribeImages", {"RegionId": "cn-shanghai"})
            assert body["Code"] == "SignatureDoesNotMatch"
    code, out, err = run_cli(trace, "--scenario", EIGHT)
    assert (code, err) == (0, ""), out
    assert out.startswith(f"OK {trace}") and "14 calls" in out and "replayed" in out
    assert "refused by the gateway" in out
    # the same trace also passes when the timing of its events is searched instead
    code, out, _ = run_cli(trace, "--scenario", EIGHT, "--search-events", "--json")
    result = json.loads(out)
    assert code == 0 and result["ok"] and result["mode"] == "search" and result["ignored_events"] > 0
    assert result["renamed_ids"] == 0  # the server's ids are the model's
    assert len(ids) == 7


def test_cloud_trace_list_passes(tmp_path):
    cloud, _ = cloud_session()
    path = tmp_path / "cloud.json"
    path.write_text(cloud.trace_json())  # a JSON list, one entry over several lines
    trace = read_trace(path)
    assert trace.shape == "cloud-list"
    assert trace.records[1].line > 2  # lines are where each entry starts in the file
    report = check_trace(trace, load_scenario(EIGHT))
    assert report.ok and report.mode == "replay", report.text()
    assert report.events == sum(1 for e in cloud.trace if e["kind"] == "event") > 0


def test_reset_and_new_server_sessions_start_from_the_initial_world(tmp_path):
    trace = tmp_path / "sessions.jsonl"
    copy = {"RegionId": "cn-hangzhou", "ImageId": "m-src001", "DestinationRegionId": "cn-shanghai"}
    seen = []
    for _ in range(2):  # two servers appending to the same file: seq starts again at 1
        cloud = Cloud(load_scenario(EIGHT))
        (key, (secret, _)), *_ = cloud.access_keys().items()
        with Server(cloud, port=0, trace_file=trace) as srv:
            with EcsClient(srv.endpoint, key, secret) as client:
                seen.append(client.call("CopyImage", copy)[1]["ImageId"])
                srv.reset()
                seen.append(client.call("CopyImage", copy)[1]["ImageId"])
    assert len(set(seen)) == 1  # every session's first copy gets the same id
    code, out, _ = run_cli(trace, "--scenario", EIGHT, "--json")
    result = json.loads(out)
    assert code == 0 and result["resets"] == 3, out


# --- hand-edited traces with impossible answers fail at the right line ------------------------

@pytest.mark.parametrize("search", [False, True], ids=["replay", "search"])
def test_a_second_image_id_for_one_client_token_fails(tmp_path, search):
    cloud, ids = cloud_session()
    entries = cloud.trace
    retry = line_of(entries, is_call("CopyImage", ClientToken="t1"), nth=1)
    entries[retry - 1]["response"]["ImageId"] = "m-forged000000000001"
    if search:
        entries = [e for e in entries if e["kind"] == "call"]
        retry = line_of(entries, is_call("CopyImage", ClientToken="t1"), nth=1)
    code, out, _ = run_cli(write_lines(tmp_path / "t.jsonl", entries), "--scenario", EIGHT)
    assert code == 1
    assert f"line {retry} (record {retry})" in out
    assert "recorded: 200 ImageId m-forged000000000001" in out
    assert f"ImageId {ids[0]}" in out and "first answered at line 1" in out


def test_a_delete_that_succeeded_on_a_creating_copy_fails(tmp_path):
    cloud, ids = cloud_session()
    entries = cloud.trace
    line = line_of(entries, is_call("DeleteImage", ImageId=ids[0]), nth=0)
    entries[line - 1].update(status=200, response={"RequestId": "forged"})
    code, out, _ = run_cli(write_lines(tmp_path / "t.jsonl", entries), "--scenario", EIGHT)
    assert code == 1
    assert f"line {line} (record {line}): the model would not give this answer" in out
    assert "recorded: 200 (success)" in out
    assert "model:    403 OperationDenied.ImageCopying" in out
    assert "the model refuses this request" in out


@pytest.mark.parametrize("search", [False, True], ids=["replay", "search"])
def test_six_creating_copies_in_one_region_fail(tmp_path, search):
    cloud, ids = cloud_session()
    entries = [e for e in cloud.trace if not search or e["kind"] == "call"]
    line = line_of(entries, is_call("DescribeImages", Status="Creating,Waiting"))
    rows = entries[line - 1]["response"]["Images"]["Image"]
    sixth = next(r for r in rows if r["Status"] == "Waiting" and r["ImageId"] == ids[5])
    sixth["Status"] = "Creating"
    code, out, _ = run_cli(write_lines(tmp_path / "t.jsonl", entries), "--scenario", EIGHT, "--json")
    result = json.loads(out)
    assert code == 1 and not result["ok"]
    assert result["mode"] == ("search" if search else "replay")
    mismatch = result["mismatch"]
    assert mismatch["line"] == line and mismatch["kind"] == "answer"
    assert f"{ids[5]} is Waiting in the model, Creating in the trace" in mismatch["expected"][0]["why"]


def test_an_event_the_service_cannot_take_fails(tmp_path):
    cloud, ids = cloud_session()
    entries = cloud.trace
    line = line_of(entries, lambda e: e["kind"] == "event" and e["event"] == "Complete")
    entries[line - 1]["ImageId"] = ids[5]  # still Waiting then: it cannot complete
    code, out, _ = run_cli(write_lines(tmp_path / "t.jsonl", entries), "--scenario", EIGHT)
    assert code == 1
    assert f"line {line} (record {line}): the service event Complete of {ids[5]} cannot happen here" in out
    assert "the copy is Waiting" in out


# --- traces recorded elsewhere: ids differ, no events ---------------------------------------------

def test_a_foreign_trace_with_renamed_ids_and_no_events_passes_by_search(tmp_path):
    cloud, ids = cloud_session()
    text = "".join(json.dumps(e) + "\n" for e in cloud.trace if e["kind"] == "call")
    for n, image_id in enumerate(ids, 1):
        text = text.replace(image_id, f"m-bp1foreign{n:08d}")
    report = check_trace(parse_trace_text(text, "foreign"), load_scenario(EIGHT))
    assert report.ok and report.mode == "search", report.text()
    assert report.renamed_ids == 7 and report.peak_candidates > 1


def test_hand_written_foreign_trace_passes():
    code, out, _ = run_cli(DATA / "foreign-ok.jsonl", "--scenario", EIGHT)
    assert code == 0, out
    assert "14 calls" in out and "timings searched" in out


def test_a_cancelled_copy_shown_available_fails():
    code, out, _ = run_cli(DATA / "foreign-cancelled-available.jsonl", "--scenario", EIGHT)
    assert code == 1
    assert "line 3 (record 3): no timing of service events explains this answer" in out
    assert "the trace lists m-uf6cancel0000000001 Available, the model does not (there the copy is Cancelled)" in out


def test_a_later_copy_done_while_an_earlier_one_waits_fails(tmp_path):
    # limit 1: the copies run one at a time, in the order they were accepted
    code, out, _ = run_cli(DATA / "foreign-fifo-violated.jsonl", "--scenario", LIMIT_ONE)
    assert code == 1
    assert "line 5 (record 5): no timing of service events explains this answer" in out
    assert "m-uf6fifo000000000002 is Creating in the model, Waiting in the trace" in out
    # the control: the same trace with the order the queue allows passes
    lines = (DATA / "foreign-fifo-violated.jsonl").read_text().splitlines()
    last = json.loads(lines[-1])
    last["response"]["Images"]["Image"][1]["Status"] = "Creating"
    last["response"]["Images"]["Image"][2]["Status"] = "Waiting"
    fixed = tmp_path / "fifo-ok.jsonl"
    fixed.write_text("\n".join(lines[:-1] + [json.dumps(last)]) + "\n")
    assert run_cli(fixed, "--scenario", LIMIT_ONE)[0] == 0


def test_one_recorded_id_for_two_copies_fails(tmp_path):
    copy = {"kind": "call", "action": "CopyImage", "caller": None, "status": 200, "response": {"ImageId": "m-same"}}
    entries = [dict(copy, params={"RegionId": "cn-hangzhou", "ImageId": f"m-src00{i}", "DestinationRegionId": "cn-shanghai"})
               for i in (1, 2)]
    code, out, _ = run_cli(write_lines(tmp_path / "t.jsonl", entries), "--scenario", EIGHT)
    assert code == 1
    assert "line 2 (record 2)" in out and "the trace's m-same is already another copy at line 1" in out


def test_search_pages_ignore_the_services_order(tmp_path):
    lines = (DATA / "foreign-ok.jsonl").read_text().splitlines()[:7]
    ids = [json.loads(line)["response"]["ImageId"] for line in lines]
    page = {"kind": "call", "action": "DescribeImages", "caller": None, "status": 200,
            "params": {"RegionId": "cn-shanghai", "Status": "Creating", "PageSize": 2, "PageNumber": 2},
            "response": {"TotalCount": 5, "Images": {"Image": [{"ImageId": ids[4], "Status": "Creating"},
                                                               {"ImageId": ids[0], "Status": "Creating"}]}}}
    path = tmp_path / "paged.jsonl"
    path.write_text("\n".join(lines + [json.dumps(page)]) + "\n")
    assert run_cli(path, "--scenario", EIGHT)[0] == 0
    page["response"]["Images"]["Image"][1]["ImageId"] = "m-src001"  # a source image: in cn-hangzhou, Available
    path.write_text("\n".join(lines + [json.dumps(page)]) + "\n")
    code, out, _ = run_cli(path, "--scenario", EIGHT)
    assert code == 1 and "line 8" in out and "the model matches none of: m-src001 Creating" in out


def test_the_search_gives_up_beyond_its_cap():
    code, out, _ = run_cli(DATA / "foreign-ok.jsonl", "--scenario", EIGHT, "--max-candidates", "20")
    assert code == 1
    assert "gave up" in out and "more than 20 candidate worlds" in out and "--max-candidates" in out


# --- invariants, faults ---------------------------------------------------------------------------

@pytest.mark.parametrize("search", [False, True], ids=["replay", "search"])
def test_an_invariant_broken_by_the_scenario_is_reported_at_its_step(tmp_path, search):
    scenario = tmp_path / "off-by-one.yaml"
    scenario.write_text(EIGHT.read_text().replace("name: eight-images",
                                                  "name: off-by-one\noptions: {bug_limit_off_by_one: true}"))
    cloud = Cloud(load_scenario(scenario))
    for i in range(1, 7):
        cloud.call("CopyImage", {"RegionId": "cn-hangzhou", "ImageId": f"m-src00{i}", "DestinationRegionId": "cn-shanghai"})
    cloud.call("DescribeImages", {"RegionId": "cn-shanghai", "Status": "Creating"})  # six Creating
    cloud.run_until_idle()
    report = check_trace(parse_trace_text(cloud.trace_json(), "bug"), load_scenario(scenario),
                         search_events=search)
    assert report.mismatch is None  # the buggy model explains its own answers...
    assert not report.ok  # ...but they break I2
    broken = report.violations[0]
    # replay: right after the sixth copy (record 6; the JSON list spreads records over lines).
    # search: copies might have finished before the sixth one came, until DescribeImages shows six Creating.
    assert (broken.rule, broken.step) == ("I2", 7 if search else 6)
    assert "cn-shanghai runs 6 copy tasks, limit 5" in broken.message
    assert "invariant I2 broken" in report.text()


def test_internal_errors_are_explained_as_service_faults(tmp_path):
    cloud = Cloud(load_scenario(EIGHT))
    cloud.inject_fault("CopyImage")
    cloud.call("CopyImage", {"RegionId": "cn-hangzhou", "ImageId": "m-src001", "DestinationRegionId": "cn-shanghai"})
    cloud.call("CopyImage", {"RegionId": "cn-hangzhou", "ImageId": "m-src001", "DestinationRegionId": "cn-shanghai"})
    path = tmp_path / "fault.json"
    path.write_text(cloud.trace_json())
    code, out, _ = run_cli(path, "--scenario", EIGHT)
    assert code == 0 and "1 InternalError answer explained as service faults" in out
    code, out, _ = run_cli(path, "--scenario", EIGHT, "--no-faults")
    assert code == 1 and "the model accepts this request; the trace says InternalError 500" in out


def test_the_mode_follows_whether_the_trace_records_events(tmp_path):
    cloud = Cloud(load_scenario(EIGHT))
    new = cloud.call("CopyImage", {"RegionId": "cn-hangzhou", "ImageId": "m-src001",
                                   "DestinationRegionId": "cn-shanghai"})["ImageId"]
    cloud.call("DescribeImages", {"RegionId": "cn-shanghai"})  # nothing Available yet: no event happened
    cloud.trace[-1]["response"].update(TotalCount=1, Images={"Image": [{"ImageId": new, "Status": "Available"}]})
    as_list = tmp_path / "cloud.json"
    as_list.write_text(json.dumps(cloud.trace))
    as_lines = write_lines(tmp_path / "lines.jsonl", cloud.trace)
    # A cloud.trace list records every event: none happened, so the copy cannot be Available.
    code, out, _ = run_cli(as_list, "--scenario", EIGHT)
    assert code == 1 and "(record 2)" in out and "--search-events tries every timing" in out
    # JSON lines without events were recorded elsewhere: the copy may have completed meanwhile.
    assert run_cli(as_lines, "--scenario", EIGHT)[0] == 0
    assert run_cli(as_list, "--scenario", EIGHT, "--search-events")[0] == 0
    assert run_cli(as_lines, "--scenario", EIGHT, "--replay-events")[0] == 1


def test_actions_the_model_does_not_implement_can_be_left_out(tmp_path):
    other = {"kind": "call", "action": "DescribeInstances", "params": {"RegionId": "cn-hangzhou"}, "caller": None,
             "status": 200, "response": {"Instances": {"Instance": []}}}
    lines = (DATA / "foreign-ok.jsonl").read_text().splitlines()
    path = tmp_path / "t.jsonl"
    path.write_text("\n".join(lines[:3] + [json.dumps(other)] + lines[3:]) + "\n")
    code, out, _ = run_cli(path, "--scenario", EIGHT)
    assert code == 1 and "line 4" in out and "the model does not implement DescribeInstances" in out
    code, out, _ = run_cli(path, "--scenario", EIGHT, "--skip-action", "DescribeInstances")
    assert code == 0 and "line 4: DescribeInstances: skipped (--skip-action)" in out
