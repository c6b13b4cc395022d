"""Notebook HTML: worlds, clouds, traces and check results as tables, every value escaped."""

from __future__ import annotations

import re

from model.check import check
from model.check.ecs import CopyImageModel
from model.cloud import Cloud
from model.viz.display import Mermaid, check_result_html, cloud_html, path_html, trace_html, world_html


def _cloud(**options) -> Cloud:
    return Cloud.from_scenario({
        "regions": ["cn-hangzhou", "cn-shanghai"], "options": {"copy_limit": 1, **options},
        "images": [{"name": "web<script>", "size": 40}, {"name": "db", "size": 40}],
    })


def _copy(cloud: Cloud, ref: str) -> str:
    return cloud.call("CopyImage", {"RegionId": "cn-hangzhou", "ImageId": cloud.refs()[ref],
                                    "DestinationRegionId": "cn-shanghai"})["ImageId"]


def test_world_html_shows_queue_statuses_and_progress_escaped():
    cloud = _cloud()
    running, waiting = _copy(cloud, "web<script>"), _copy(cloud, "db")
    cloud.advance(300)  # half of a 40 GiB copy at the default 15 s/GiB
    text = world_html(cloud.world, cloud.now)
    assert "<script>" not in text and "web&lt;script&gt;" in text
    row = re.search(r"<tr><td[^>]*>cn-shanghai</td>(.*?)</tr>", text).group(1)
    cells = re.findall(r">([^<]*)</td>", row)
    assert cells == ["1", "1", running, "1", waiting]  # limit, running, ids, waiting, queue order
    image_row = re.search(rf"<tr><td[^>]*>{running}</td>(.*?)</tr>", text).group(1)
    assert "Creating" in image_row and ">50%<" in image_row and "copy of web&lt;script&gt;" in image_row


def test_cloud_html_reports_broken_invariants():
    cloud = _cloud(bug_delete_in_progress=True)
    copy = _copy(cloud, "db")
    assert "all hold" in cloud_html(cloud)
    cloud.call("DeleteImage", {"RegionId": "cn-shanghai", "ImageId": copy})
    text = cloud_html(cloud)
    assert "broken: I1" in text and "copy task without an image" in text


def test_trace_html_keeps_the_last_entries():
    cloud = _cloud()
    for _ in range(5):
        cloud.call("DescribeImages", {"RegionId": "cn-hangzhou"})
    cloud.call("CopyImage", {"RegionId": "cn-hangzhou", "ImageId": "m-missing", "DestinationRegionId": "cn-shanghai"})
    text = trace_html(cloud.trace, last=2)
    assert "4 earlier entries not shown" in text
    assert text.count("<tr>") == 3  # header + 2
    assert "InvalidImageId.NotFound" in text and "2 images" in text


def test_check_result_html_lists_verdicts_and_the_counterexample():
    scenario = {
        "regions": ["S", "D"], "options": {"bug_delete_in_progress": True},
        "images": [{"name": "web", "region": "S"}],
        "explore": {"requests": [
            {"name": "c1", "call": "CopyImage",
             "params": {"RegionId": "S", "ImageId": "$web", "DestinationRegionId": "D"}},
            {"call": "DeleteImage", "params": {"RegionId": "D", "ImageId": "$c1"}},
        ], "events": ["complete"], "properties": ["I1", "I2"]},
    }
    result = check(CopyImageModel(scenario))
    text = check_result_html(result)
    assert re.search(r">I1<.*?color:#c62828;font-weight:bold\">violated<", text, re.S)
    assert re.search(r">I2<.*?>holds<", text, re.S)
    assert "I1</b> counterexample (2 steps)" in text
    steps = path_html(result["I1"].path)
    assert steps.count("<tr>") == 3 and "DeleteImage" in steps and "Creating -&gt; absent" in steps


def test_mermaid_object_bundle():
    m = Mermaid("sequenceDiagram\n    A->>B: hi\n")
    bundle = m._repr_mimebundle_()
    assert bundle["text/vnd.mermaid"] == m.text
    assert bundle["text/markdown"] == "```mermaid\nsequenceDiagram\n    A->>B: hi\n```\n"
    assert list(m._repr_mimebundle_(exclude=["text/markdown", "text/vnd.mermaid"])) == ["text/plain"]
