"""Runs as frames, sequence diagrams and timelines: replayed through the model, refused when they diverge."""

from __future__ import annotations

import json

import pytest

from model.cloud import Cloud
from model.scenario import load_scenario
from model.viz.statespace import explore
from model.viz.trace import (
    Names, TraceError, frames_from_cloud, frames_from_path, frames_from_trace, load_trace, queue_series,
    sequence_mermaid, task_spans, timeline_figure,
)

SEVEN = {
    "name": "seven",
    "regions": ["cn-hangzhou", "cn-shanghai"],
    "options": {"copy_limit": 5, "copy_seconds_per_gib": 15},
    "images": [{"name": "quick", "size": 10}] + [{"name": n, "size": 40} for n in ("a", "b", "c", "d", "e", "f")],
}


def _copy_all(cloud: Cloud) -> dict[str, str]:
    out = {}
    for name, image_id in cloud.refs().items():
        out[name] = cloud.call("CopyImage", {"RegionId": "cn-hangzhou", "ImageId": image_id,
                                             "DestinationRegionId": "cn-shanghai"})["ImageId"]
    return out


@pytest.fixture
def seven() -> tuple[Cloud, dict[str, str]]:
    cloud = Cloud.from_scenario(SEVEN)
    copies = _copy_all(cloud)
    cloud.call("DescribeImages", {"RegionId": "cn-shanghai", "Status": "Creating,Waiting"})
    cloud.run_until_idle()
    return cloud, copies


def test_replay_reaches_the_clouds_world(seven):
    cloud, _ = seven
    frames = frames_from_cloud(cloud)
    assert len(frames) == len(cloud.trace)
    assert frames[-1].after == cloud.world
    assert [f.kind for f in frames[:8]] == ["call"] * 8 and frames[-1].kind == "event"


def test_spans_and_queue_series(seven):
    cloud, copies = seven
    frames = frames_from_cloud(cloud)
    spans = {s.image_id: s for s in task_spans(frames)}
    assert spans[copies["e"]].waited == 150 and spans[copies["f"]].waited == 600
    assert spans[copies["quick"]].waited == 0 and spans[copies["quick"]].ended == 150
    assert all(s.state == "Available" for s in spans.values())
    assert [s.name for s in task_spans(frames)][:2] == ["copy of quick", "copy of a"]  # request order
    series = queue_series(frames)["cn-shanghai"]
    assert max(w for _, _, w in series) == 2 and max(r for _, r, _ in series) == 5
    assert series[-1] == (1200.0, 0, 0)


def test_sequence_diagram_of_a_cloud_run(seven):
    cloud, _ = seven
    text = sequence_mermaid(cloud, title="seven: copies")
    lines = text.splitlines()
    assert lines[:3] == ["---", 'title: "seven: copies"', "---"]
    assert "    participant Q_cn_shanghai as cn-shanghai queue (limit 5)" in lines
    assert sum("accepted: Waiting" in line for line in lines) == 2
    assert sum("accepted: Creating" in line for line in lines) == 5
    assert "    Client->>API: CopyImage quick to cn-shanghai" in lines
    assert "    API-->>Client: 2 images: 2 Waiting" not in lines  # five Creating were listed too
    assert any(line.endswith("2 Waiting") and "7 images" in line for line in lines)
    at_150 = lines.index("    Note over Client,Q_cn_shanghai: t = 150 s")
    # The copy that frees the slot is told before the one that takes it.
    assert "copy of quick completes: Available" in lines[at_150 + 1]
    assert "copy of e starts (running 5/5, waiting 1)" in lines[at_150 + 2]
    for line in lines[4:]:
        assert ";" not in line and "#" not in line


def test_a_trace_replayed_against_another_world_is_refused(seven):
    cloud, _ = seven
    other = load_scenario({"regions": ["cn-hangzhou", "cn-shanghai"], "images": [{"name": "quick", "size": 10}]})
    with pytest.raises(TraceError, match=r"(?s)entry 2 \(CopyImage\): the trace recorded m-.*--scenario"):
        frames_from_trace(cloud.trace, other.world, source="t.json")


def test_injected_faults_change_nothing_and_show(seven):
    cloud = Cloud.from_scenario(SEVEN)
    cloud.inject_fault("CopyImage")
    web = cloud.refs()["a"]
    cloud.call("CopyImage", {"RegionId": "cn-hangzhou", "ImageId": web, "DestinationRegionId": "cn-shanghai"})
    frames = frames_from_cloud(cloud)
    assert frames[0].kind == "fault" and frames[0].after is frames[0].before
    assert "    API--xClient: 500 InternalError (injected fault)" in sequence_mermaid(cloud).splitlines()


def test_load_trace_json_list_and_lines(tmp_path, seven):
    cloud, _ = seven
    as_list = tmp_path / "trace.json"
    as_list.write_text(cloud.trace_json())
    assert load_trace(as_list) == json.loads(cloud.trace_json())
    as_lines = tmp_path / "trace.jsonl"
    as_lines.write_text("\n".join(json.dumps(e) for e in cloud.trace) + "\n")
    assert load_trace(as_lines) == load_trace(as_list)


def test_load_trace_points_server_logs_to_the_models_trace(tmp_path):
    records = [
        {"seq": 1, "type": "request", "now": 0.0, "action": "DescribeImages", "params": {"RegionId": "cn-hangzhou"},
         "caller": None, "auth": "v1"},
        {"seq": 1, "type": "response", "now": 0.0, "status": 200, "body": {"TotalCount": 3, "RequestId": "X"}},
    ]
    path = tmp_path / "serve.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in records))
    with pytest.raises(TraceError, match="GET /_copyimage/trace"):
        load_trace(path)


@pytest.mark.parametrize("content,match", [
    ("", "empty"),
    ("[{\"kind\": \"call\",", r"not valid JSON"),
    ("{\"kind\": \"call\"}\nnot json\n", r"t\.jsonl:2: not valid JSON"),
    ("[1, 2]", "entry 1 is int"),
    ("[{\"what\": 1}]", "neither a call nor an event"),
    ("[{\"kind\": \"call\", \"t\": \"soon\", \"action\": \"CopyImage\"}]", "`t` must be seconds"),
    ("[{\"kind\": \"call\", \"t\": 1, \"response\": {}}]", "needs an `action` name"),
])
def test_load_trace_bad_input_names_file_and_fix(tmp_path, content, match):
    path = tmp_path / "t.jsonl"
    path.write_text(content)
    with pytest.raises(TraceError, match=match) as err:
        frames_from_trace(load_trace(path), load_scenario(SEVEN).world, source=str(path))
    assert "t.jsonl" in str(err.value) and "fix:" in str(err.value)


def test_unknown_event_in_a_trace_is_refused():
    world = load_scenario(SEVEN).world
    with pytest.raises(TraceError, match="Complete of m-nope cannot happen"):
        frames_from_trace([{"kind": "event", "t": 1.0, "event": "Complete", "ImageId": "m-nope"}], world)


def test_frames_of_a_counterexample():
    scenario = {
        "regions": ["S", "D"], "options": {"copy_limit": 1, "bug_delete_in_progress": True},
        "images": [{"name": "web", "region": "S"}],
        "explore": {"requests": [
            {"name": "c1", "call": "CopyImage",
             "params": {"RegionId": "S", "ImageId": "$web", "DestinationRegionId": "D"}},
            {"call": "DeleteImage", "params": {"RegionId": "D", "ImageId": "$c1"}},
        ], "events": ["complete"], "properties": ["I1"]},
    }
    path = explore(scenario)["I1"].path
    frames = frames_from_path(path)
    assert [(f.t, f.kind, f.action) for f in frames] == [(1.0, "call", "CopyImage"), (2.0, "call", "DeleteImage")]
    assert frames[0].answer["ImageId"] == path.steps[0].state.world.tasks[0].image_id
    text = sequence_mermaid(path, note=f"I1 broken: {frames[-1].after.tasks[0].image_id} lost its image")
    assert "    Client->>API: 1. CopyImage web to D" in text.splitlines()
    assert "image of copy of web removed while the copy is Creating" in text
    assert text.rstrip().endswith("I1 broken: copy of web lost its image")  # ids become names
    assert "t = " not in text  # step numbers, not service time
    fig = timeline_figure(path)
    assert fig.axes[-1].get_xlabel() == "step"


def test_names_are_unique_and_stable():
    cloud = Cloud.from_scenario({"regions": ["r1", "r2", "r3"], "images": [{"name": "web", "region": "r1"}]})
    web = cloud.refs()["web"]
    first = cloud.call("CopyImage", {"RegionId": "r1", "ImageId": web, "DestinationRegionId": "r2"})["ImageId"]
    cloud.run_until_idle()
    second = cloud.call("CopyImage", {"RegionId": "r1", "ImageId": web, "DestinationRegionId": "r3"})["ImageId"]
    names = Names.of_frames(frames_from_cloud(cloud), cloud.refs())
    assert (names(web), names(first), names(second)) == ("web", "copy of web", "copy of web (2)")
    assert names.replace_ids(f"{first} and {second}") == "copy of web and copy of web (2)"


def test_timeline_bars_and_counts(seven):
    cloud, _ = seven
    fig = timeline_figure(cloud, title="t")
    bars, counts = fig.axes
    labels = [t.get_text() for t in bars.get_yticklabels()]
    assert labels[-1] == "copy of quick" and len(labels) == 7  # the first request on top
    assert counts.get_ylabel() == "cn-shanghai"
    assert any(t.get_text() == "limit 5" for t in counts.get_legend().get_texts())


def test_a_witness_path_with_a_service_event():
    result = explore({**SEVEN, "explore": {"requests": [
        {"call": "CopyImage", "params": {"RegionId": "cn-hangzhou", "ImageId": "$quick",
                                         "DestinationRegionId": "cn-shanghai"}}], "properties": ["I2"],
        "sometimes": ["copy-available"]}})
    frames = frames_from_path(result["copy-available"].path)
    assert [f.action for f in frames] == ["CopyImage", "Complete"]
    assert frames[1].kind == "event" and frames[1].subject == frames[0].answer["ImageId"]
