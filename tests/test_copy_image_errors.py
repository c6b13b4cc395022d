"""Every row E1..E50 of the CopyImage error table, produced by a world and a request.

Each case builds the smallest world in which the row's condition holds, sends
the request, and checks Code, the (formatted) Message and HttpStatus against
the page's own table (tests/data/copyimage_error_table.tsv), and that the
refused request changed nothing. ``test_base_request_succeeds`` shows the
request each case starts from is accepted in the unchanged world, so every
refusal below is caused by what its case changes. Also: DryRunOperation (P9),
IdempotentParameterMismatch (P10) and the shape answers of A9.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pytest

from model import Cloud

from .worlds import DST, SRC, assert_error, assert_ok, copy, copy_params, copied, make_cloud, resolve

DATA = Path(__file__).parent / "data" / "copyimage_error_table.tsv"
PAGE = [line.split("\t") for line in DATA.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")]
PAGE_ROWS = {f"E{i}": (int(status), code, message) for i, (status, code, message) in enumerate(PAGE, 1)}

KEY_SH = {"id": "key-sh", "region": DST}


@dataclass
class Case:
    rule: str
    why: str
    changes: dict[str, Any] = field(default_factory=dict)  # scenario changes
    params: dict[str, Any] = field(default_factory=dict)  # request parameter changes (None removes)
    setup: Callable[[Cloud], dict[str, str] | None] | None = None  # may name more image refs for params
    caller: str | None = None
    message_args: tuple = ()


def _copy_web(cloud: Cloud) -> None:
    copied(cloud)


def _copy_web_then_name_its_copy(cloud: Cloud) -> dict[str, str]:
    # The copy (Creating in cn-shanghai) becomes the source of the next request, as `$copy`.
    return {"copy": copied(cloud)}


def _fault(cloud: Cloud) -> None:
    cloud.inject_fault("CopyImage")


def _img(**kw: Any) -> list[dict[str, Any]]:
    return [{"name": "web", "region": SRC, "size": 40, **kw}]


CASES = [
    Case("E1", "description starts with http://", params={"DestinationDescription": "http://example.com/desc"}),
    Case("E2", "unknown source region", params={"RegionId": "cn-nowhere"}),
    Case("E3", "unknown destination region", params={"DestinationRegionId": "cn-nowhere"}),
    Case("E4", "source image UnAvailable", changes={"images": _img(status="UnAvailable")}),
    Case("E5", "a snapshot of the image is gone", changes={"images": _img(snapshots=[{"exists": False}])}),
    Case("E6", "the name is taken in the destination",
         changes={"images": _img() + [{"name": "taken", "region": DST}]}, params={"DestinationImageName": "taken"}),
    Case("E7", "KMSKeyId with Encrypted=false", changes={"kms_keys": [KEY_SH]},
         params={"KMSKeyId": "key-sh", "Encrypted": False}),
    Case("E8", "EncryptAlgorithm without Encrypted", params={"EncryptAlgorithm": "AES256"}),
    Case("E9", "unknown EncryptAlgorithm", params={"Encrypted": True, "EncryptAlgorithm": "ROT13"}),
    Case("E10", "KMSKeyId without Encrypted", changes={"kms_keys": [KEY_SH]}, params={"KMSKeyId": "key-sh"}),
    Case("E11", "community image", changes={"images": _img(owner="community")}),
    Case("E12", "name starts with a digit", params={"DestinationImageName": "1web"}),
    Case("E13", "KMS not enabled", changes={"account": {"kms_enabled": False}}, params={"Encrypted": True}),
    Case("E14", "the same image is already being copied", setup=_copy_web),
    Case("E15", "account in arrears", changes={"account": {"arrearage": True}}),
    Case("E16", "two tags with one key",
         params={"Tag": [{"Key": "team", "Value": "a"}, {"Key": "team", "Value": "b"}]}),
    Case("E17", "no aliUid", changes={"account": {"ali_uid": None}}),
    Case("E18", "injected service fault", setup=_fault),
    Case("E19", "RAM user without ecs:CopyImage",
         changes={"users": [{"name": "bob", "actions": ["DescribeImages"]}]}, caller="bob"),
    Case("E20", "source region does not let data out",
         changes={"regions": [{"id": SRC, "copy_out": False}, DST]}),
    Case("E21", "destination takes copies only from some regions",
         changes={"regions": [SRC, {"id": DST, "copy_in_from": ["cn-qingdao", "cn-beijing"]}, "cn-beijing",
                              "cn-qingdao"]},
         message_args=("cn-beijing,cn-qingdao",)),
    Case("E22", "image quota reached in the destination",
         changes={"account": {"image_quota": 2},
                  "images": _img() + [{"name": "a", "region": DST}, {"name": "b", "region": DST}]},
         message_args=(2,)),
    Case("E23", "snapshot quota", changes={"account": {"snapshot_quota": 2}, "images": _img(snapshots=3)}),
    Case("E24", "the source is itself a copy in progress", setup=_copy_web_then_name_its_copy,
         params={"RegionId": DST, "ImageId": "$copy", "DestinationRegionId": SRC}),
    Case("E25", "region does not support copies", changes={"regions": [SRC, {"id": DST, "copy_supported": False}]}),
    Case("E26", "snapshot older than 2013-07-15", changes={"images": _img(snapshots=[{"created": "2013-07-14"}])}),
    Case("E27", "snapshot not allowed to make images", changes={"images": _img(snapshots=[{"image_allowed": False}])}),
    Case("E28", "the KMS key lives in another region than the destination",
         changes={"kms_keys": [{"id": "key-hz", "region": SRC}]}, params={"Encrypted": True, "KMSKeyId": "key-hz"}),
    Case("E29", "another account's encrypted image",
         changes={"images": _img(owner="others", encrypted=True)}, params={"DestinationRegionId": SRC}),
    Case("E30", "shared image to another region", changes={"images": _img(owner="others")}),
    Case("E31", "marketplace image not published in the destination",
         changes={"images": _img(owner="marketplace", published_regions=[SRC])}),
    Case("E32", "marketplace image not authorized",
         changes={"images": _img(owner="marketplace", marketplace_authorized=False)}),
    Case("E33", "unencrypted image encrypted across regions into a region that refuses it",
         changes={"regions": [SRC, {"id": DST, "encrypted_copy_in": False}]}, params={"Encrypted": True}),
    Case("E34", "ECS may not access the account's KMS",
         changes={"account": {"ecs_kms_access": False}, "kms_keys": [KEY_SH]},
         params={"Encrypted": True, "KMSKeyId": "key-sh"}),
    Case("E35", "BYOK key into a region without BYOK",
         changes={"regions": [SRC, {"id": DST, "byok": False}], "kms_keys": [{**KEY_SH, "origin": "external"}]},
         params={"Encrypted": True, "KMSKeyId": "key-sh"}),
    Case("E36", "BYOK key, account not whitelisted",
         changes={"account": {"byok_whitelisted": False}, "kms_keys": [{**KEY_SH, "origin": "external"}]},
         params={"Encrypted": True, "KMSKeyId": "key-sh"}),
    Case("E37", "destination does not support EncryptAlgorithm",
         params={"Encrypted": True, "EncryptAlgorithm": "AES256"}),
    Case("E38", "account has not authorized KMS", changes={"account": {"kms_service_authorized": False}},
         params={"Encrypted": True}),
    Case("E39", "non-compliant destination",
         changes={"regions": [{"id": SRC, "noncompliant_destinations": [DST]}, DST]}),
    Case("E40", "Encrypted=false against default encryption",
         changes={"account": {"default_encryption": True}}, params={"Encrypted": False}),
    Case("E41", "KMS cannot make a data key",
         changes={"kms_keys": [{**KEY_SH, "data_key_ok": False}]}, params={"Encrypted": True, "KMSKeyId": "key-sh"}),
    Case("E42", "image larger than the account maximum", changes={"images": _img(size=501)}),
    Case("E43", "KMS key disabled", changes={"kms_keys": [{**KEY_SH, "enabled": False}]},
         params={"Encrypted": True, "KMSKeyId": "key-sh"}),
    Case("E44", "KMS key not authorized", changes={"kms_keys": [{**KEY_SH, "authorized": False}]},
         params={"Encrypted": True, "KMSKeyId": "key-sh"}),
    Case("E45", "vhd image", changes={"images": _img(format="vhd")}),
    Case("E46", "CloudBox image", changes={"images": _img(owner="cloudbox")}),
    Case("E47", "no such image", params={"ImageId": "m-doesnotexist0000000"}),
    Case("E48", "no such KMS key", params={"Encrypted": True, "KMSKeyId": "key-nope"}),
    Case("E49", "no such resource group", params={"ResourceGroupId": "rg-nope"}),
    Case("E50", "the image is being exported", changes={"images": _img(exporting=True)}),
]
assert [c.rule for c in CASES] == [f"E{i}" for i in range(1, 51)]


def _request(cloud: Cloud, case: Case, extra: dict[str, str]) -> dict[str, Any]:
    params = copy_params()
    for key, value in case.params.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = value
    params = {k: (extra[v[1:]] if isinstance(v, str) and v[1:] in extra else v) for k, v in params.items()}
    return resolve(cloud, params)


def test_base_request_succeeds():
    """The request every case starts from is accepted in the base world (P11)."""
    cloud = make_cloud()
    body = copy(cloud)
    assert_ok(body)
    assert set(body) == {"ImageId", "RequestId"}


@pytest.mark.parametrize("case", CASES, ids=[f"{c.rule}-{PAGE_ROWS[c.rule][1]}" for c in CASES])
def test_error_row(case: Case):
    status, code, message = PAGE_ROWS[case.rule]
    cloud = make_cloud(**case.changes)
    extra = (case.setup(cloud) if case.setup is not None else None) or {}
    before = cloud.world
    tasks_before = len(before.tasks)
    body = cloud.call("CopyImage", _request(cloud, case, extra), caller=case.caller)
    expected_message = message % case.message_args if case.message_args else message
    assert_error(body, code, status, expected_message)
    assert "%s" not in body["Message"]
    assert cloud.world is before, f"{case.rule}: a refused request changed the world"
    assert len(cloud.world.tasks) == tasks_before
    assert cloud.violations() == {}
    # The trace records the refusal with its status.
    assert cloud.trace[-1]["status"] == status and cloud.trace[-1]["response"] == body


def test_E18_fault_is_one_shot_and_action_specific():
    """E18: an injected fault answers InternalError once; other actions and the next call are unaffected."""
    cloud = make_cloud()
    cloud.inject_fault("CopyImage")
    assert_ok(cloud.call("DescribeImages", {"RegionId": SRC}))
    assert_error(copy(cloud), "InternalError", 500)
    assert cloud.world.tasks == ()
    assert_ok(copy(cloud))
    cloud.inject_fault(times=2)  # any action
    assert_error(cloud.call("DescribeImages", {"RegionId": SRC}), "InternalError", 500)
    assert_error(cloud.call("DeleteImage", {"RegionId": SRC, "ImageId": "m-x"}), "InternalError", 500)
    assert_ok(cloud.call("DescribeImages", {"RegionId": SRC}))


def test_E21_lists_the_allowed_regions_sorted():
    """E21's %s is the regions allowed to copy in, sorted and comma-separated."""
    cloud = make_cloud(regions=[SRC, {"id": DST, "copy_in_from": ["cn-wuhan"]}, "cn-wuhan"])
    body = copy(cloud)
    assert body["Message"] == "Only Some Regions cn-wuhan can copy data to this region."
    # From an allowed region the copy goes through.
    cloud = make_cloud(regions=[SRC, {"id": DST, "copy_in_from": [SRC]}])
    assert_ok(copy(cloud))


def test_E22_quota_counts_only_own_images_of_the_destination():
    """E22: the quota is per region; an image in another region or another account's does not count."""
    cloud = make_cloud(account={"image_quota": 1},
                       images=[{"name": "web", "region": SRC}, {"name": "vendor", "region": DST, "owner": "others"}])
    # cn-hangzhou already holds one own image (web): its quota does not stop a copy to cn-shanghai,
    # where only another account's image lives.
    assert_ok(copy(cloud))
    cloud.run_until_idle()
    before = cloud.world
    assert_error(copy(cloud, DestinationImageName="again"), "QuotaExceed.Image", 403,
                 "The number of images exceeds the limit (1).")
    assert cloud.world is before


def test_E24_copy_of_a_copy_in_progress_then_available():
    """E24 (A3): a copy of a copy still in progress is refused; once Available it may be copied (N1)."""
    cloud = make_cloud()
    new = copied(cloud)
    assert_error(copy(cloud, new, SRC, region=DST), "OperationDenied.ImageCopying", 403)
    cloud.run_until_idle()
    assert_ok(copy(cloud, new, SRC, region=DST))


def test_E14_conflict_ends_when_the_copy_ends():
    """E14: a second copy of the same source while the first runs; allowed after it completes."""
    cloud = make_cloud()
    copied(cloud)
    assert_error(copy(cloud, dest=SRC), "OperationDenied.ImageCopyConflict", 400)
    cloud.run_until_idle()
    assert_ok(copy(cloud, dest=SRC))


# --- P9, P10, A9 -------------------------------------------------------------------------------------------


def test_P9_dry_run_of_a_good_request():
    """P9: DryRun of a request that would succeed answers DryRunOperation and changes nothing."""
    cloud = make_cloud()
    before = cloud.world
    body = copy(cloud, DryRun=True)
    assert_error(body, "DryRunOperation", 400, "Request validation has been passed with DryRun flag set.")
    assert cloud.world is before
    assert_ok(copy(cloud, DryRun=False))


@pytest.mark.parametrize("dry_run", [True, "true", "TRUE", "True"])
def test_P9_dry_run_of_a_bad_request_answers_its_error(dry_run):
    """P9 (A7): DryRun is the last check; a request that would fail answers its own error."""
    cloud = make_cloud()
    assert_error(copy(cloud, DryRun=dry_run, DestinationImageName="1bad"), "InvalidImageName.Malformed", 400)
    assert_error(copy(cloud, DryRun=dry_run, DestinationRegionId="cn-nowhere"), "DestinationRegion.NotFound")
    assert cloud.world.tasks == ()


def test_P10_idempotent_parameter_mismatch():
    """P10: the same ClientToken with other parameters is refused and changes nothing."""
    cloud = make_cloud(images=[{"name": "web"}, {"name": "db"}])
    first = copied(cloud, ClientToken="tok-1")
    before = cloud.world
    body = copy(cloud, "$db", ClientToken="tok-1")
    assert_error(body, "IdempotentParameterMismatch", 400,
                 "Request uses a client token in a previous request but is not identical to that request.")
    assert cloud.world is before
    # Another name is another request too.
    assert_error(copy(cloud, ClientToken="tok-1", DestinationImageName="other"), "IdempotentParameterMismatch")
    assert cloud.status(first) == "Creating"


@pytest.mark.parametrize("params,name", [
    ({"RegionId": None}, "RegionId"),
    ({"ImageId": None}, "ImageId"),
    ({"ImageId": ""}, "ImageId"),
    ({"RegionId": ""}, "RegionId"),
], ids=["A9-P1-no-RegionId", "A9-P1-no-ImageId", "A9-P1-empty-ImageId", "A9-P1-empty-RegionId"])
def test_missing_parameter(params, name):
    """A9/P1: a missing required parameter answers MissingParameter naming it."""
    cloud = make_cloud()
    request = {**copy_params(), **params}
    request = {k: v for k, v in request.items() if v is not None}
    body = cloud.call("CopyImage", resolve(cloud, request))
    assert_error(body, "MissingParameter", 400,
                 f'The input parameter "{name}" that is mandatory for processing this request is not supplied.')
    assert cloud.world.tasks == ()


@pytest.mark.parametrize("params,name", [
    ({"Encrypted": "yes"}, "Encrypted"),
    ({"Encrypted": 1}, "Encrypted"),
    ({"DryRun": "maybe"}, "DryRun"),
    ({"DestinationImageName": ["a", "b"]}, "DestinationImageName"),
    ({"ImageId": {"id": "x"}}, "ImageId"),
    ({"RegionId": True}, "RegionId"),
    ({"ClientToken": "x" * 65}, "ClientToken"),
    ({"ClientToken": "tökén"}, "ClientToken"),
    ({"Tag": "team=web"}, "Tag"),
    ({"Tag.0.Key": "team"}, "Tag.0.Key"),
    ({"RegionId": 10 ** 5000}, "RegionId"),
], ids=["A9-bool-word", "A9-bool-int", "A9-dryrun-word", "A9-list-name", "A9-dict-id", "A9-bool-region",
        "A9-P10-token-65", "A9-P10-token-non-ascii", "A9-tag-string", "A9-tag-index-0", "A9-int-too-long-to-print"])
def test_invalid_parameter(params, name):
    """A9: a value of the wrong type answers InvalidParameter naming the parameter."""
    cloud = make_cloud()
    body = cloud.call("CopyImage", resolve(cloud, {**copy_params(), **params}))
    assert_error(body, "InvalidParameter", 400, f'The specified parameter "{name}" is not valid.')
    assert cloud.world.tasks == ()


@pytest.mark.parametrize("form", ["list", "flat", "high-index"])
def test_invalid_tag_count(form):
    """A9/P8: more than 20 tags (or a Tag.N index above 20) answers InvalidTagCount."""
    cloud = make_cloud()
    if form == "list":
        extra = {"Tag": [{"Key": f"k{i}", "Value": "v"} for i in range(21)]}
    elif form == "flat":
        extra = {f"Tag.{i}.Key": f"k{i}" for i in range(1, 22)}
    else:
        extra = {"Tag.21.Key": "k"}
    body = cloud.call("CopyImage", resolve(cloud, {**copy_params(), **extra}))
    assert_error(body, "InvalidTagCount", 400, "The specified tags are beyond the permitted range.")
    assert cloud.world.tasks == ()


@pytest.mark.parametrize("tag,code", [
    ({"Key": 10 ** 5000, "Value": "v"}, "InvalidTagKey.Malformed"),
    ({"Key": "k", "Value": 10 ** 5000}, "InvalidTagValue.Malformed"),
    ({"Key": 7, "Value": 1.5}, None),
], ids=["P8-A9-huge-int-key", "P8-A9-huge-int-value", "P8-A9-numbers-as-text"])
def test_tag_scalars(tag, code):
    """P8/A9: numbers are read as their text; one too long to print is malformed, never a crash."""
    cloud = make_cloud()
    body = cloud.call("CopyImage", resolve(cloud, {**copy_params(), "Tag": [tag]}))
    if code is None:
        assert_ok(body)
        assert cloud.world.image(body["ImageId"]).spec.tags == (("7", "1.5"),)
    else:
        assert_error(body, code, 400)


def test_A9_shape_comes_before_everything():
    """A7/A9: a shape error wins over a caller error and an unknown region."""
    cloud = make_cloud(account={"arrearage": True})
    assert_error(cloud.call("CopyImage", {"RegionId": "cn-nowhere"}), "MissingParameter")


def test_unknown_action_and_non_mapping_params():
    """A9: an unknown action is InvalidAction.NotFound (404); params that are not a mapping: InvalidParameter."""
    cloud = make_cloud()
    assert_error(cloud.call("CopyImages", {}), "InvalidAction.NotFound", 404)
    assert_error(cloud.call("CopyImage", ["RegionId"]), "InvalidParameter", 400,  # type: ignore[arg-type]
                 'The specified parameter "Parameters" is not valid.')
    assert_error(cloud.call("CopyImage"), "MissingParameter", 400)


# --- A7: the order of checks ---------------------------------------------------------------------------------


@pytest.mark.parametrize("changes,params,code", [
    ({"account": {"arrearage": True}}, {"DestinationImageName": "1bad"}, "Account.Arrearage"),
    ({}, {"DestinationImageName": "1bad", "DestinationDescription": "x"}, "InvalidImageName.Malformed"),
    ({}, {"DestinationDescription": "x", "Tag": [{"Key": "a"}, {"Key": "a"}]}, "InvalidDescription.Malformed"),
    ({}, {"DestinationRegionId": "cn-nowhere", "ImageId": "m-nope"}, "DestinationRegion.NotFound"),
    ({}, {"ResourceGroupId": "rg-nope", "ImageId": "m-nope"}, "InvalidResourceGroup.NotFound"),
    ({"images": _img(owner="others", status="UnAvailable")}, {}, "OperationDenied.SameRegionOnly"),
    ({"images": _img(status="UnAvailable", snapshots=[{"exists": False}])}, {}, "IncorrectImageStatus"),
    ({"images": _img(size=900, snapshots=[{"created": "2010-01-01"}])}, {}, "InvalidSnapshot.TooOld"),
    ({"account": {"image_quota": 0}}, {"Encrypted": True, "KMSKeyId": "key-nope"},
     "InvalidParameter.KMSKeyId.NotFound"),
    ({"images": _img(size=900)}, {"DryRun": True}, "SizeExceed.Image"),
], ids=["A7-E15-before-E12", "A7-E12-before-E1", "A7-E1-before-E16", "A7-E3-before-E47", "A7-E49-before-E47",
        "A7-E30-before-E4", "A7-E4-before-E5", "A7-E26-before-E42", "A7-E48-before-E22", "A7-E42-before-P9"])
def test_order_of_checks(changes, params, code):
    """A7: when several errors apply, the earlier check of copy_image's documented order wins."""
    cloud = make_cloud(**changes)
    assert_error(copy(cloud, **params), code)
