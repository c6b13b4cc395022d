"""``Cloud``: the newcomer's default world, ids, determinism, the trace, and service time."""

from __future__ import annotations

import json

import pytest

from model import Cloud

from .worlds import DST, ID_RE, SRC, UUID_RE, assert_error, assert_ok, copied, describe, images, make_cloud, scenario


def test_default_cloud_for_a_newcomer():
    """P11/Q1: Cloud() lists Available images in cn-hangzhou, and one can be copied to cn-shanghai."""
    cloud = Cloud()
    body = cloud.call("DescribeImages", {"RegionId": "cn-hangzhou"})
    assert_ok(body)
    listed = body["Images"]["Image"]
    assert body["TotalCount"] == len(listed) >= 1
    assert all(r["Status"] == "Available" for r in listed)
    assert all(ID_RE.match(r["ImageId"]) for r in listed)
    source = listed[0]["ImageId"]
    new = cloud.call("CopyImage", {"RegionId": "cn-hangzhou", "ImageId": source,
                                   "DestinationRegionId": "cn-shanghai"})
    assert_ok(new)
    assert cloud.status(new["ImageId"]) == "Creating"
    assert [r["RegionId"] for r in cloud.call("DescribeRegions")["Regions"]["Region"]] == ["cn-hangzhou", "cn-shanghai"]
    cloud.run_until_idle()
    assert cloud.status(new["ImageId"]) == "Available"
    assert cloud.violations() == {}


def test_ids_look_like_the_service():
    cloud = make_cloud(images=images("a", "b"))
    ids = [copied(cloud, "$a"), copied(cloud, "$b")]
    cloud.run_until_idle()
    ids.append(copied(cloud, "$a", SRC))
    ids += list(cloud.refs().values())
    for image_id in ids:
        assert ID_RE.match(image_id), image_id
    assert len(set(ids)) == len(ids)


def _session(seed: int) -> tuple[list[str], list[str], list]:
    cloud = make_cloud(seed=seed, images=images("a", "b"), options={"copy_limit": 1})
    answers = [
        cloud.call("DescribeImages", {"RegionId": SRC}),
        cloud.call("CopyImage", {"RegionId": SRC, "ImageId": cloud.refs()["a"], "DestinationRegionId": DST}),
        cloud.call("CopyImage", {"RegionId": SRC, "ImageId": cloud.refs()["b"], "DestinationRegionId": DST}),
        cloud.call("CopyImage", {"RegionId": "nowhere", "ImageId": "m-x"}),
    ]
    cloud.run_until_idle()
    answers.append(cloud.call("DescribeImages", {"RegionId": DST}))
    return ([a["RequestId"] for a in answers], [a.get("ImageId") for a in answers[1:3]], cloud.trace)


def test_request_ids_are_uuid_shaped_and_deterministic():
    """Same scenario, seed and calls: the same RequestIds, image ids and trace; another seed differs."""
    rids, new_ids, trace = _session(7)
    assert all(UUID_RE.match(r) for r in rids)
    assert len(set(rids)) == len(rids)
    rids2, new_ids2, trace2 = _session(7)
    assert (rids, new_ids, trace) == (rids2, new_ids2, trace2)
    rids3, new_ids3, _ = _session(8)
    assert set(rids).isdisjoint(rids3)
    assert set(new_ids).isdisjoint(new_ids3)


def test_reset_restarts_ids_and_time():
    cloud = make_cloud()
    first = cloud.call("DescribeRegions")["RequestId"]
    new = copied(cloud)
    cloud.advance(10)
    cloud.reset()
    assert cloud.now == 0 and cloud.trace == [] and cloud.status(new) is None
    assert cloud.call("DescribeRegions")["RequestId"] == first


def test_trace_is_json_and_in_order():
    cloud = make_cloud(options={"copy_limit": 1}, images=images("a", "b"))
    a = copied(cloud, "$a")
    b = copied(cloud, "$b")
    cloud.call("CopyImage", {"RegionId": SRC})  # refused
    cloud.run_until_idle()
    text = cloud.trace_json()
    assert json.loads(text) == cloud.trace
    kinds = [(e["kind"], e.get("action") or e.get("event"), e.get("ImageId") or e.get("response", {}).get("ImageId"))
             for e in cloud.trace]
    assert kinds == [
        ("call", "CopyImage", a), ("call", "CopyImage", b), ("call", "CopyImage", None),
        ("event", "Complete", a), ("event", "Complete", b),
    ]
    times = [e["t"] for e in cloud.trace]
    assert times == sorted(times) == [0, 0, 0, 600, 1200]
    refused = cloud.trace[2]
    assert refused["status"] == 400 and refused["response"]["Code"] == "MissingParameter"
    assert cloud.trace[0]["status"] == 200 and cloud.trace[0]["params"]["DestinationRegionId"] == DST


def test_trace_survives_odd_parameters():
    """The trace stays plain JSON whatever a caller passes."""
    cloud = make_cloud()
    cloud.call("CopyImage", {"RegionId": object(), "Tag": [{"Key": {1, 2}}], 3: b"bytes", "ImageId": (1, 2)})
    cloud.call(42, None, caller=["me"])  # type: ignore[arg-type]
    cloud.call("DescribeImages", {"RegionId": SRC, "PageSize": 10 ** 5000})
    json.loads(cloud.trace_json())
    assert cloud.trace[1]["action"] == "42"


def test_advance_completes_copies_by_size():
    """copy_seconds_per_gib x size: a 10 GiB copy at 15 s/GiB takes 150 s, a 40 GiB one 600 s."""
    cloud = make_cloud(images=[{"name": "small", "size": 10}, {"name": "big", "size": 40}])
    small, big = copied(cloud, "$small"), copied(cloud, "$big")
    cloud.advance(149.5)
    assert (cloud.status(small), cloud.status(big)) == ("Creating", "Creating")
    cloud.advance(0.5)
    assert (cloud.status(small), cloud.status(big)) == ("Available", "Creating")
    assert cloud.now == 150
    cloud.advance(450)
    assert cloud.status(big) == "Available"
    cloud = make_cloud(options={"copy_seconds_per_gib": 1.5}, images=[{"name": "small", "size": 10}])
    small = copied(cloud, "$small")
    cloud.advance(14.9)
    assert cloud.status(small) == "Creating"
    cloud.advance(0.1)
    assert cloud.status(small) == "Available"


@pytest.mark.parametrize("seconds", [-1, float("nan")])
def test_advance_refuses_negative_time(seconds):
    cloud = make_cloud()
    with pytest.raises(ValueError):
        cloud.advance(seconds)
    assert cloud.now == 0


def test_run_until_idle():
    cloud = make_cloud(options={"copy_limit": 2}, images=images("a", "b", "c"))
    ids = [copied(cloud, f"${n}") for n in "abc"]
    took = cloud.run_until_idle()
    assert took == 1200  # two run together (600 s), then the third (600 s)
    assert [cloud.status(i) for i in ids] == ["Available"] * 3
    assert cloud.world.queues == ()
    assert cloud.run_until_idle() == 0  # nothing left


def test_run_until_idle_with_a_limit():
    cloud = make_cloud()
    new = copied(cloud)
    assert cloud.run_until_idle(max_seconds=100) == 100
    assert cloud.status(new) == "Creating"


def _outcomes(rate: float, seed: int) -> list[str]:
    names = [f"img{i}" for i in range(20)]
    cloud = Cloud.from_scenario(scenario(seed=seed, failure_rate=rate, images=images(*names),
                                         options={"copy_limit": 20}))
    ids = [copied(cloud, f"${n}") for n in names]
    cloud.run_until_idle()
    assert cloud.violations() == {}
    return [cloud.status(i) for i in ids]


def test_failure_rate_with_a_seed():
    """A failure_rate fails that share of copies (CreateFailed), reproducibly for a seed."""
    assert set(_outcomes(0.0, 1)) == {"Available"}
    assert set(_outcomes(1.0, 1)) == {"CreateFailed"}
    half = _outcomes(0.5, 1)
    assert set(half) == {"Available", "CreateFailed"}
    assert half == _outcomes(0.5, 1)
    assert any(_outcomes(0.5, s) != half for s in (2, 3, 4))


def test_new_image_id_does_not_depend_on_request_order():
    """Copy A then B, or B then A: the same ids (the worlds compare equal)."""
    one = make_cloud(images=images("a", "b"))
    a1, b1 = copied(one, "$a"), copied(one, "$b")
    two = Cloud(one.scenario)
    b2, a2 = copied(two, "$b"), copied(two, "$a")
    assert (a1, b1) == (a2, b2)
    assert one.world == two.world and hash(one.world) == hash(two.world)


def test_repeat_copies_get_new_ids():
    """The n-th copy of a source into a region gets a new id, also after a cancel."""
    cloud = make_cloud()
    first = copied(cloud)
    cloud.call("CancelCopyImage", {"RegionId": DST, "ImageId": first})
    second = copied(cloud)
    cloud.run_until_idle()
    third = copied(cloud)
    assert len({first, second, third}) == 3


def test_fail_copy_only_running():
    cloud = make_cloud(options={"copy_limit": 1}, images=images("a", "b"))
    a, b = copied(cloud, "$a"), copied(cloud, "$b")
    assert cloud.fail_copy(b) is False  # waiting: not running
    assert cloud.fail_copy("m-nope") is False
    assert cloud.fail_copy(a) is True
    assert (cloud.status(a), cloud.status(b)) == ("CreateFailed", "Creating")
    assert [e["event"] for e in cloud.trace if e["kind"] == "event"] == ["Fail"]


def test_call_never_mutates_its_params():
    cloud = make_cloud()
    params = {"RegionId": SRC, "ImageId": cloud.refs()["web"], "DestinationRegionId": DST,
              "Tag": [{"Key": "a", "Value": "b"}]}
    snapshot = json.dumps(params, sort_keys=True)
    cloud.call("CopyImage", params)
    assert json.dumps(params, sort_keys=True) == snapshot


def test_unknown_caller_is_forbidden():
    cloud = make_cloud()
    assert_error(describe(cloud, SRC, caller="ghost"), "Forbbiden", 403)
    assert_ok(describe(cloud, SRC))


def test_fail_copy_hands_the_slot_over_when_starting_is_an_event():
    """I3/N4: with start_as_event the Cloud takes a Start at once, also right after fail_copy."""
    cloud = make_cloud(options={"copy_limit": 1, "start_as_event": True}, images=images("a", "b"))
    a, b = copied(cloud, "$a"), copied(cloud, "$b")
    assert cloud.fail_copy(a) is True
    assert (cloud.status(a), cloud.status(b)) == ("CreateFailed", "Creating")
    assert cloud.violations() == {}
    assert [e["event"] for e in cloud.trace if e["kind"] == "event"] == ["Fail", "Start"]
