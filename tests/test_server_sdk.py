"""The real model behind the server, driven by unchanged official-SDK code.

Clocks are manual: service time moves only through POST /_copyimage/advance,
so nothing here depends on wall time. Skipped only when the SDK packages are
not installed.
"""

from __future__ import annotations

import json
import urllib.request

import pytest

pytest.importorskip("alibabacloud_ecs20140526")
pytest.importorskip("aliyunsdkcore")

from alibabacloud_ecs20140526 import models as ecs  # noqa: E402
from alibabacloud_ecs20140526.client import Client as EcsSdkClient  # noqa: E402
from alibabacloud_tea_openapi import utils_models as open_api_models  # noqa: E402
from alibabacloud_tea_openapi.exceptions import ClientException  # noqa: E402
from aliyunsdkcore.acs_exception.exceptions import ServerException  # noqa: E402
from tests.sdk_clients import acs_client, common_request  # noqa: E402

from model import Cloud  # noqa: E402
from model.server import Server  # noqa: E402

SRC, DST = "cn-hangzhou", "cn-shanghai"
ROOT_KEY, ROOT_SECRET = "LTAI-root-key", "root-secret"
RAM_KEY, RAM_SECRET = "LTAI-ram-key", "ram-secret"

SCENARIO = {
    "regions": [SRC, DST],
    "images": [{"name": f"img{i}", "region": SRC, "size": 40} for i in range(1, 8)],
    "options": {"copy_limit": 5},
    "users": [{"name": "reader", "actions": ["DescribeImages"]}],
    "access_keys": [
        {"id": ROOT_KEY, "secret": ROOT_SECRET},
        {"id": RAM_KEY, "secret": RAM_SECRET, "user": "reader"},
    ],
}
ALL_STATUSES = "Creating,Waiting,Available,UnAvailable,CreateFailed"


@pytest.fixture
def srv():
    with Server(Cloud.from_scenario(SCENARIO), port=0, clock="manual") as s:
        yield s


def client(srv, mode=None, key=ROOT_KEY, secret=ROOT_SECRET):
    return EcsSdkClient(open_api_models.Config(
        access_key_id=key, access_key_secret=secret, endpoint=srv.endpoint, protocol="http",
        region_id=SRC, signature_algorithm=mode))


def advance(srv, seconds):
    req = urllib.request.Request(f"{srv.url}/_copyimage/advance?seconds={seconds}", data=b"", method="POST")
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())["now"]


def source_ids(c):
    body = c.describe_images(ecs.DescribeImagesRequest(region_id=SRC, page_size=100)).body
    return sorted(im.image_id for im in body.images.image)


def statuses(c, ids):
    body = c.describe_images(ecs.DescribeImagesRequest(region_id=DST, status=ALL_STATUSES, page_size=100)).body
    seen = {im.image_id: im.status for im in body.images.image}
    return {i: seen.get(i) for i in ids}


def copy(c, image_id, **kw):
    return c.copy_image(ecs.CopyImageRequest(region_id=SRC, image_id=image_id, destination_region_id=DST, **kw))


def copy_all(c):
    return [copy(c, i, destination_image_name=f"copy-{n}").body.image_id for n, i in enumerate(source_ids(c))]


def poll(srv, c, ids, done, step=30, limit=400):
    """Describe, and advance service time by ``step`` until ``done(statuses)``."""
    for _ in range(limit):
        st = statuses(c, ids)
        if done(st):
            return st
        advance(srv, step)
    raise AssertionError(f"never reached the expected state: {statuses(c, ids)}")


def count(st, status):
    return sum(1 for s in st.values() if s == status)


@pytest.mark.parametrize("mode", [None, "v2"], ids=["v3", "rpc"])
def test_seven_copies_five_run_two_wait_then_all_available(srv, mode):
    c = client(srv, mode)
    assert len(source_ids(c)) == 7
    ids = copy_all(c)
    assert len(set(ids)) == 7
    st = poll(srv, c, ids, lambda st: count(st, "Creating") == 5 and count(st, "Waiting") == 2, step=1)
    assert count(st, "Creating") == 5 and count(st, "Waiting") == 2
    st = poll(srv, c, ids, lambda st: count(st, "Available") == 7, step=60)
    assert set(st.values()) == {"Available"}


def test_cancel_a_waiting_and_a_creating_copy(srv):
    c = client(srv)
    ids = copy_all(c)
    st = poll(srv, c, ids, lambda st: count(st, "Creating") == 5 and count(st, "Waiting") == 2, step=1)
    waiting = next(i for i, s in st.items() if s == "Waiting")
    creating = next(i for i, s in st.items() if s == "Creating")
    for image_id in (waiting, creating):
        resp = c.cancel_copy_image(ecs.CancelCopyImageRequest(region_id=DST, image_id=image_id))
        assert resp.status_code == 200 and resp.body.request_id
    rest = [i for i in ids if i not in (waiting, creating)]
    st = poll(srv, c, rest, lambda st: count(st, "Available") == 5, step=60)
    after = statuses(c, [waiting, creating])
    assert "Available" not in after.values() and "Creating" not in after.values() and "Waiting" not in after.values()


@pytest.mark.parametrize("mode", [None, "v2"], ids=["v3", "rpc"])
def test_delete_a_creating_copy_is_denied(srv, mode):
    c = client(srv, mode)
    new = copy(c, source_ids(c)[0]).body.image_id
    assert statuses(c, [new])[new] == "Creating"
    with pytest.raises(ClientException) as info:
        c.delete_image(ecs.DeleteImageRequest(region_id=DST, image_id=new))
    assert info.value.code == "OperationDenied.ImageCopying"
    assert info.value.status_code == 403
    assert statuses(c, [new])[new] == "Creating"


def test_client_token_retry_returns_the_same_image(srv):
    c = client(srv)
    src = source_ids(c)[0]
    first = copy(c, src, client_token="retry-token-1").body.image_id
    again = copy(c, src, client_token="retry-token-1").body.image_id
    assert first == again
    body = c.describe_images(ecs.DescribeImagesRequest(region_id=DST, status=ALL_STATUSES, page_size=100)).body
    assert [im.image_id for im in body.images.image] == [first]


def test_dry_run_answers_dry_run_operation(srv):
    c = client(srv)
    with pytest.raises(ClientException) as info:
        copy(c, source_ids(c)[0], dry_run=True)
    assert info.value.code == "DryRunOperation"
    body = c.describe_images(ecs.DescribeImagesRequest(region_id=DST, status=ALL_STATUSES)).body
    assert body.total_count == 0


@pytest.mark.parametrize("mode", [None, "v2"], ids=["v3", "rpc"])
def test_ram_user_without_permission_is_forbidden(srv, mode):
    root = client(srv)
    src = source_ids(root)[0]
    reader = client(srv, mode, RAM_KEY, RAM_SECRET)
    assert len(source_ids(reader)) == 7  # DescribeImages is allowed
    with pytest.raises(ClientException) as info:
        copy(reader, src)
    assert info.value.code == "Forbbiden"
    assert info.value.status_code == 403
    assert root.describe_images(ecs.DescribeImagesRequest(region_id=DST, status=ALL_STATUSES)).body.total_count == 0


def acs(srv, key=ROOT_KEY, secret=ROOT_SECRET):
    return acs_client(srv, key, secret, SRC)


def test_common_request_copy_and_describe(srv):
    a = acs(srv)
    images = json.loads(a.do_action_with_exception(common_request(srv, "DescribeImages", RegionId=SRC)))
    src = images["Images"]["Image"][0]["ImageId"]
    answer = json.loads(a.do_action_with_exception(common_request(
        srv, "CopyImage", RegionId=SRC, ImageId=src, DestinationRegionId=DST, ClientToken="ct-1",
        **{"Tag.1.Key": "team", "Tag.1.Value": "infra"})))
    new = answer["ImageId"]
    listed = json.loads(a.do_action_with_exception(common_request(
        srv, "DescribeImages", RegionId=DST, Status=ALL_STATUSES, ImageId=new)))
    assert [im["ImageId"] for im in listed["Images"]["Image"]] == [new]
    assert listed["Images"]["Image"][0]["Status"] == "Creating"
    with pytest.raises(ServerException) as info:
        a.do_action_with_exception(common_request(srv, "DeleteImage", RegionId=DST, ImageId=new))
    assert (info.value.get_error_code(), info.value.get_http_status()) == ("OperationDenied.ImageCopying", 403)


def test_common_request_ram_user_forbidden(srv):
    with pytest.raises(ServerException) as info:
        acs(srv, RAM_KEY, RAM_SECRET).do_action_with_exception(
            common_request(srv, "CancelCopyImage", RegionId=DST, ImageId="m-whatever"))
    assert (info.value.get_error_code(), info.value.get_http_status()) == ("Forbbiden", 403)


def test_default_cloud_default_key(tmp_path):
    """Cloud() with its default key pair, and the trace file of the session."""
    cloud = Cloud()
    (key, (secret, caller)), = cloud.access_keys().items()
    assert caller is None
    trace = tmp_path / "trace.jsonl"
    with Server(cloud, clock="manual", trace_file=trace) as s:
        c = client(s, key=key, secret=secret)
        src = source_ids(c)[0]
        new = copy(c, src).body.image_id
        advance(s, 100000)
        assert statuses(c, [new]) == {new: "Available"}
    lines = [json.loads(x) for x in trace.read_text().splitlines()]
    types = [x["type"] for x in lines]
    assert types.count("request") == types.count("response") == 3
    copy_req = next(x for x in lines if x["type"] == "request" and x["action"] == "CopyImage")
    assert copy_req["params"] == {"RegionId": SRC, "ImageId": src, "DestinationRegionId": DST}
    events = [x["event"] for x in lines if x["type"] == "event"]
    assert events and all(e["kind"] == "event" for e in events)
    assert any(e.get("ImageId") == new for e in events)
    assert secret not in trace.read_text()
