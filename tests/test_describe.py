"""DescribeImages (Q1-Q3) and DescribeRegions: filters, paging, the shape of each image, progress."""

from __future__ import annotations

import re

import pytest

from .worlds import DST, SRC, UUID_RE, assert_error, assert_ok, call, copied, describe, images, make_cloud, ref, row

ALL = "Creating,Waiting,Available,UnAvailable,CreateFailed,Deprecated"
ROW_KEYS = {"ImageId", "ImageName", "Description", "Status", "Progress", "Size", "ResourceGroupId", "Tags",
            "IsCopied", "ImageOwnerAlias"}


def _mixed():
    """cn-hangzhou holds one image in each status; cn-shanghai one Available image."""
    statuses = ["Available", "UnAvailable", "CreateFailed", "Deprecated", "Creating", "Waiting"]
    imgs = [{"name": f"img-{s.lower()}", "status": s} for s in statuses]
    imgs.append({"name": "other-region", "region": DST})
    return make_cloud(images=imgs)


def _ids(body):
    return [r["ImageId"] for r in body["Images"]["Image"]]


def test_Q1_default_status_is_available_only():
    """Q1: without Status only Available images of the region are listed."""
    cloud = _mixed()
    body = describe(cloud, SRC)
    assert_ok(body)
    assert _ids(body) == [ref(cloud, "img-available")]
    assert body["TotalCount"] == 1


def test_Q1_comma_separated_status():
    cloud = _mixed()
    body = describe(cloud, SRC, Status="Creating, Waiting")
    assert sorted(_ids(body)) == sorted([ref(cloud, "img-creating"), ref(cloud, "img-waiting")])
    assert {r["Status"] for r in body["Images"]["Image"]} == {"Creating", "Waiting"}
    body = describe(cloud, SRC, Status=ALL, PageSize=100)
    assert body["TotalCount"] == 6


def test_Q1_unknown_status_is_invalid():
    cloud = _mixed()
    assert_error(describe(cloud, SRC, Status="Available,Broken"), "InvalidParameter", 400,
                 'The specified parameter "Status" is not valid.')


def test_Q1_comma_separated_image_ids():
    cloud = make_cloud(images=images("a", "b", "c"))
    a, b, c = ref(cloud, "a"), ref(cloud, "b"), ref(cloud, "c")
    body = describe(cloud, SRC, ImageId=f"{a},{c}")
    assert sorted(_ids(body)) == sorted([a, c])
    body = describe(cloud, SRC, ImageId=f" {b} ,m-nope")
    assert _ids(body) == [b]
    # An id of another region is not listed here.
    assert describe(cloud, DST, ImageId=a)["TotalCount"] == 0


def test_Q1_image_name():
    cloud = make_cloud(images=images("web", "db", "web2"))
    body = describe(cloud, SRC, ImageName="web")
    assert _ids(body) == [ref(cloud, "web")]
    assert describe(cloud, SRC, ImageName="nope")["TotalCount"] == 0


def test_Q1_image_owner_alias():
    cloud = make_cloud(images=[{"name": "mine"}, {"name": "theirs", "owner": "others"},
                               {"name": "shop", "owner": "marketplace"}])
    assert _ids(describe(cloud, SRC, ImageOwnerAlias="self")) == [ref(cloud, "mine")]
    assert _ids(describe(cloud, SRC, ImageOwnerAlias="others")) == [ref(cloud, "theirs")]
    assert _ids(describe(cloud, SRC, ImageOwnerAlias="marketplace")) == [ref(cloud, "shop")]
    assert describe(cloud, SRC)["TotalCount"] == 3
    assert_error(describe(cloud, SRC, ImageOwnerAlias="friends"), "InvalidImageOwnerAlias.ValueNotSupported", 400)


def test_Q1_paging():
    cloud = make_cloud(images=images(*[f"img{i:02d}" for i in range(25)]))
    all_ids = _ids(describe(cloud, SRC, PageSize=100))
    assert len(all_ids) == 25
    default = describe(cloud, SRC)
    assert default["PageSize"] == 10 and default["PageNumber"] == 1 and default["TotalCount"] == 25
    assert _ids(default) == all_ids[:10]
    page3 = describe(cloud, SRC, PageNumber=3, PageSize=10)
    assert _ids(page3) == all_ids[20:] and page3["PageNumber"] == 3
    assert _ids(describe(cloud, SRC, PageNumber="2", PageSize="7")) == all_ids[7:14]
    beyond = describe(cloud, SRC, PageNumber=4)
    assert _ids(beyond) == [] and beyond["TotalCount"] == 25
    one = describe(cloud, SRC, PageSize=1, PageNumber=25)
    assert _ids(one) == all_ids[24:]
    # Pages partition the listing.
    pages = [_ids(describe(cloud, SRC, PageSize=4, PageNumber=n)) for n in range(1, 8)]
    assert sum(pages, []) == all_ids


@pytest.mark.parametrize("params,name", [
    ({"PageSize": 0}, "PageSize"), ({"PageSize": 101}, "PageSize"), ({"PageSize": "ten"}, "PageSize"),
    ({"PageNumber": 0}, "PageNumber"), ({"PageNumber": -1}, "PageNumber"), ({"PageSize": 2.5}, "PageSize"),
    ({"PageSize": True}, "PageSize"),
], ids=["Q1-size-0", "Q1-size-101", "Q1-size-word", "Q1-page-0", "Q1-page-negative", "Q1-size-float",
        "Q1-size-bool"])
def test_Q1_paging_bounds(params, name):
    cloud = make_cloud()
    assert_error(describe(cloud, SRC, **params), "InvalidParameter", 400,
                 f'The specified parameter "{name}" is not valid.')


def test_Q1_region_required_and_known():
    cloud = make_cloud()
    assert_error(cloud.call("DescribeImages", {}), "MissingParameter", 400)
    assert_error(describe(cloud, "cn-nowhere"), "InvalidRegionId.NotFound", 404)


def test_Q1_dry_run():
    cloud = make_cloud()
    assert_error(describe(cloud, SRC, DryRun=True), "DryRunOperation", 400)


def test_Q2_response_shape():
    """Q2: {"Images": {"Image": [...]}, TotalCount, PageNumber, PageSize, RegionId, RequestId}."""
    cloud = make_cloud()
    body = describe(cloud, SRC)
    assert set(body) == {"Images", "TotalCount", "PageNumber", "PageSize", "RegionId", "RequestId"}
    assert set(body["Images"]) == {"Image"}
    assert body["RegionId"] == SRC
    assert UUID_RE.match(body["RequestId"])
    assert isinstance(body["TotalCount"], int)


def test_Q2_each_image_row():
    """Q2: every image shows ImageId, ImageName, Description, Status, Progress, Size, ResourceGroupId, Tags,
    IsCopied, ImageOwnerAlias."""
    cloud = make_cloud(resource_groups=["rg-x"], images=[
        {"name": "web", "size": 30, "description": "the web tier", "tags": {"team": "web", "env": ""}}])
    source = row(cloud, ref(cloud, "web"), SRC)
    assert ROW_KEYS <= set(source)
    assert source["ImageName"] == "web" and source["Description"] == "the web tier"
    assert source["Status"] == "Available" and source["Progress"] == "100%"
    assert source["Size"] == 30 and source["ResourceGroupId"] == "rg-default"
    assert source["Tags"] == {"Tag": [{"TagKey": "team", "TagValue": "web"}, {"TagKey": "env", "TagValue": ""}]}
    assert source["IsCopied"] is False and source["ImageOwnerAlias"] == "self"
    new = copied(cloud, DestinationImageName="web-sh", DestinationDescription="copied web",
                 ResourceGroupId="rg-x", Tag=[{"Key": "copy", "Value": "yes"}])
    copy_row = row(cloud, new)
    assert ROW_KEYS <= set(copy_row)
    assert copy_row["ImageName"] == "web-sh" and copy_row["Description"] == "copied web"
    assert copy_row["Status"] == "Creating" and copy_row["Progress"] == "0%"
    assert copy_row["Size"] == 30 and copy_row["ResourceGroupId"] == "rg-x"
    assert copy_row["Tags"] == {"Tag": [{"TagKey": "copy", "TagValue": "yes"}]}  # the source's tags stay behind
    assert copy_row["IsCopied"] is True and copy_row["ImageOwnerAlias"] == "self"


def test_Q2_copy_without_name_has_empty_name():
    cloud = make_cloud()
    new = copied(cloud)
    assert row(cloud, new)["ImageName"] == "" and row(cloud, new)["Description"] == ""


def test_Q3_progress_grows_with_time():
    """Q3: a running copy shows Creating with a progress like "37%" that grows with service time."""
    cloud = make_cloud(options={"copy_seconds_per_gib": 10})  # 40 GiB: 400 s
    new = copied(cloud)
    seen = []
    for step in range(4):
        if step:
            cloud.advance(100)
        r = row(cloud, new)
        assert re.fullmatch(r"\d{1,3}%", r["Progress"])
        seen.append((r["Status"], int(r["Progress"][:-1])))
    assert seen == [("Creating", 0), ("Creating", 25), ("Creating", 50), ("Creating", 75)]
    cloud.advance(48)
    assert row(cloud, new)["Progress"] == "87%"
    cloud.advance(52)
    assert (row(cloud, new)["Status"], row(cloud, new)["Progress"]) == ("Available", "100%")
    # Available images are listed by default now.
    assert [r["ImageId"] for r in describe(cloud)["Images"]["Image"]] == [new]


def test_Q3_waiting_copy_shows_waiting_with_no_progress():
    cloud = make_cloud(options={"copy_limit": 1}, images=images("a", "b"))
    a, b = copied(cloud, "$a"), copied(cloud, "$b")
    cloud.advance(300)
    assert (row(cloud, b)["Status"], row(cloud, b)["Progress"]) == ("Waiting", "0%")
    assert row(cloud, a)["Progress"] == "50%"
    assert describe(cloud)["TotalCount"] == 0  # neither is Available yet
    waiting = describe(cloud, Status="Waiting")
    assert _ids(waiting) == [b]


def test_Q3_cancelled_copy_is_gone():
    cloud = make_cloud()
    new = copied(cloud)
    assert_ok(call(cloud, "CancelCopyImage", {"RegionId": DST, "ImageId": new}))
    body = describe(cloud, Status=ALL, ImageId=new)
    assert body["TotalCount"] == 0


def test_Q3_failed_copy_shows_create_failed():
    cloud = make_cloud()
    new = copied(cloud)
    cloud.advance(100)
    assert cloud.fail_copy(new) is True
    r = row(cloud, new)
    assert r["Status"] == "CreateFailed"
    assert _ids(describe(cloud, Status="CreateFailed")) == [new]
    assert describe(cloud)["TotalCount"] == 0
    # It stays failed: time passing does not complete it, and it is not running any more.
    cloud.advance(10_000)
    assert cloud.status(new) == "CreateFailed"
    assert cloud.fail_copy(new) is False


def test_describe_changes_nothing():
    cloud = _mixed()
    before = cloud.world
    describe(cloud, SRC, Status=ALL)
    describe(cloud, DST)
    assert cloud.world is before


def test_describe_regions_shape():
    cloud = make_cloud(regions=[SRC, {"id": DST, "local_name": "China (Shanghai)"}])
    body = call(cloud, "DescribeRegions")
    assert set(body) == {"Regions", "RequestId"}
    regions = body["Regions"]["Region"]
    assert [r["RegionId"] for r in regions] == [SRC, DST]
    assert regions[1]["LocalName"] == "China (Shanghai)"
    assert all({"RegionId", "LocalName", "RegionEndpoint"} <= set(r) for r in regions)
    assert regions[0]["RegionEndpoint"] == "ecs.cn-hangzhou.aliyuncs.com"


def test_describe_forbidden_for_a_user_without_the_action():
    cloud = make_cloud(users=[{"name": "bob", "actions": ["CopyImage"]}, {"name": "eve", "actions": ["ecs:*"]}])
    assert_error(describe(cloud, SRC, caller="bob"), "Forbbiden", 403)
    assert_error(call(cloud, "DescribeRegions", caller="bob"), "Forbbiden", 403)
    assert_ok(describe(cloud, SRC, caller="eve"))
