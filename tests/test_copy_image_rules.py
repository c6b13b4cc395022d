"""The CopyImage rules N1-N6 and P1-P11, and the ambiguity options A1-A10 that change answers.

Everything goes through the public API (``Cloud.call``) except the A10 queue
test, which drives service events with ``step`` to pick which waiting task
starts.
"""

from __future__ import annotations

import pytest

from model.semantics.events import Complete, Start, enabled_events
from model.semantics.invariants import violations
from model.semantics.step import step

from .worlds import (
    DST, ID_RE, SRC, assert_error, assert_ok, call, copied, copy, describe, images, make_cloud, ref, row, rows,
    states,
)

# --- N1: only Available images ------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["Creating", "Waiting", "UnAvailable", "CreateFailed", "Deprecated"])
def test_N1_only_available_images_are_copied(status):
    """N1: a source in any status but Available is refused with IncorrectImageStatus (no copy task behind it)."""
    cloud = make_cloud(images=[{"name": "web", "status": status}])
    before = cloud.world
    assert_error(copy(cloud), "IncorrectImageStatus", 400, "The image not available.")
    assert cloud.world is before


def test_N1_available_image_is_copied_and_stays_available():
    cloud = make_cloud()
    new = copied(cloud)
    assert cloud.status(ref(cloud, "web")) == "Available"
    assert cloud.status(new) == "Creating"


def test_N1_failed_copy_cannot_be_copied():
    """N1/Q3: a copy the service failed (CreateFailed) is not a source."""
    cloud = make_cloud()
    new = copied(cloud)
    assert cloud.fail_copy(new)
    assert_error(copy(cloud, new, SRC, region=DST), "IncorrectImageStatus", 400)


# --- N2: own images anywhere, shared ones only at home ------------------------------------------------------


def test_N2_own_image_to_another_region():
    cloud = make_cloud()
    new = copied(cloud)
    assert cloud.world.image(new).region == DST


@pytest.mark.parametrize("dest", [DST, "cn-beijing"])
def test_N2_shared_image_only_inside_its_region(dest):
    """N2/I8: another account's image may be copied in its region, never to another (E30)."""
    cloud = make_cloud(regions=[SRC, DST, "cn-beijing"], images=[{"name": "vendor", "owner": "others"}])
    assert_error(copy(cloud, "$vendor", dest), "OperationDenied.SameRegionOnly", 403)
    new = copied(cloud, "$vendor", SRC, DestinationImageName="my-vendor")
    assert cloud.world.image(new).spec.owner == "self"  # the copy is ours ...
    cloud.run_until_idle()
    assert_ok(copy(cloud, new, DST))  # ... and may travel
    assert "I8" not in cloud.violations()


def test_N2_copy_without_destination_stays_in_the_source_region():
    """N2/P4: without DestinationRegionId the copy is made in the source region (also for a shared image)."""
    cloud = make_cloud(images=[{"name": "vendor", "owner": "others"}])
    new = copied(cloud, "$vendor", dest=None)
    assert cloud.world.image(new).region == SRC


# --- N3: a copy in progress is cancelled, not deleted --------------------------------------------------------


@pytest.mark.parametrize("queued", [False, True], ids=["Creating", "Waiting"])
def test_N3_copy_in_progress_cannot_be_deleted_but_can_be_cancelled(queued):
    """N3/I1: DeleteImage refuses a Waiting or Creating copy; CancelCopyImage removes it."""
    cloud = make_cloud(options={"copy_limit": 1}, images=images("web", "db"))
    first = copied(cloud, "$web")
    second = copied(cloud, "$db")
    target = second if queued else first
    assert cloud.status(target) == ("Waiting" if queued else "Creating")
    before = cloud.world
    assert_error(call(cloud, "DeleteImage", {"RegionId": DST, "ImageId": target}), "OperationDenied.ImageCopying", 403)
    assert_error(call(cloud, "DeleteImage", {"RegionId": DST, "ImageId": target, "Force": True}),
                 "OperationDenied.ImageCopying", 403)
    assert cloud.world is before
    assert_ok(call(cloud, "CancelCopyImage", {"RegionId": DST, "ImageId": target}))
    assert cloud.status(target) is None
    assert cloud.violations() == {}


# --- N4: five at once, the rest wait, FIFO --------------------------------------------------------------------


def test_N4_seven_copies_five_run_two_wait_fifo():
    """N4/A5/I4: 7 copies into one region: 5 Creating, 2 Waiting; the oldest waiting starts first."""
    names = ["quick", "i2", "i3", "i4", "i5", "i6", "i7"]
    cloud = make_cloud(images=[{"name": "quick", "size": 10}] + [{"name": n, "size": 40} for n in names[1:]])
    ids = [copied(cloud, f"${n}") for n in names]
    assert states(cloud, *ids) == ["Creating"] * 5 + ["Waiting"] * 2
    queue = cloud.world.queue(DST)
    assert len(queue.running) == 5 and queue.waiting == (ids[5], ids[6])
    waiting = describe(cloud, Status="Waiting")
    assert waiting["TotalCount"] == 2
    assert [r["ImageId"] for r in waiting["Images"]["Image"]] == ids[5:]
    cloud.advance(149)
    assert states(cloud, *ids) == ["Creating"] * 5 + ["Waiting"] * 2
    cloud.advance(1)  # quick (10 GiB * 15 s) ends at 150 s; the head of the queue takes its slot at once
    assert states(cloud, *ids) == ["Available"] + ["Creating"] * 5 + ["Waiting"]
    assert cloud.world.task(ids[5]).started_at == 150
    cloud.advance(450)  # i2..i5 end at 600 s; the last waiting copy starts then
    assert states(cloud, *ids) == ["Available"] * 5 + ["Creating"] * 2
    assert cloud.world.task(ids[6]).started_at == 600
    cloud.run_until_idle()
    assert states(cloud, *ids) == ["Available"] * 7
    assert cloud.now == 1200
    assert cloud.violations() == {}


def test_N4_limit_is_per_region_and_configurable():
    """N4: a region's own copy_limit overrides the default 5; other regions keep theirs."""
    cloud = make_cloud(regions=[SRC, {"id": DST, "copy_limit": 2}, "cn-beijing"],
                       images=images("a", "b", "c", "d", "e", "f"))
    to_dst = [copied(cloud, f"${n}", DST) for n in "abc"]
    to_bj = [copied(cloud, f"${n}", "cn-beijing") for n in "def"]
    assert states(cloud, *to_dst) == ["Creating", "Creating", "Waiting"]
    assert states(cloud, *to_bj) == ["Creating"] * 3


def test_N4_option_copy_limit():
    """N4: the limit is a parameter (options.copy_limit)."""
    cloud = make_cloud(options={"copy_limit": 1}, images=images("a", "b"))
    assert states(cloud, copied(cloud, "$a"), copied(cloud, "$b")) == ["Creating", "Waiting"]


def test_N4_queued_copy_starts_when_a_running_one_fails():
    """N4/I3: a failed copy frees its slot like a finished one."""
    cloud = make_cloud(options={"copy_limit": 1}, images=images("a", "b"))
    a, b = copied(cloud, "$a"), copied(cloud, "$b")
    assert cloud.fail_copy(a)
    assert states(cloud, a, b) == ["CreateFailed", "Creating"]


# --- N5 / P7: resource groups --------------------------------------------------------------------------------


def test_N5_P7_resource_group_of_the_new_image():
    """N5/P7: ResourceGroupId puts the copy in that group; otherwise the default group."""
    cloud = make_cloud(resource_groups=["rg-team"], images=images("web", "db"))
    grouped = copied(cloud, "$web", ResourceGroupId="rg-team")
    plain = copied(cloud, "$db")
    assert row(cloud, grouped)["ResourceGroupId"] == "rg-team"
    assert row(cloud, plain)["ResourceGroupId"] == "rg-default"


def test_N5_ram_user_without_default_group_must_name_one():
    """N5/E19: a RAM user who may not use the default group is Forbbiden unless it names its group."""
    cloud = make_cloud(resource_groups=["rg-team", "rg-other"], images=images("web", "db"), users=[
        {"name": "alice", "actions": ["CopyImage", "DescribeImages"], "resource_groups": ["rg-team"]},
        {"name": "root-like", "actions": ["*"]},
    ])
    before = cloud.world
    assert_error(copy(cloud, caller="alice"), "Forbbiden", 403,
                 "User not authorized to operate on the specified resource.")
    assert_error(copy(cloud, caller="alice", ResourceGroupId="rg-other"), "Forbbiden", 403)
    assert cloud.world is before
    new = copied(cloud, caller="alice", ResourceGroupId="rg-team")
    assert row(cloud, new)["ResourceGroupId"] == "rg-team"
    assert_ok(copy(cloud, "$db", caller="root-like"))
    assert_error(copy(cloud, "$db", dest=SRC, caller="nobody"), "Forbbiden", 403)


# --- N6: usable once Available -------------------------------------------------------------------------------


def test_N6_run_instances_only_once_available():
    """N6: RunInstances with a copy in progress is refused; once Available it works, in its region only."""
    cloud = make_cloud()
    new = copied(cloud)
    before = cloud.world
    assert_error(call(cloud, "RunInstances", {"RegionId": DST, "ImageId": new}), "IncorrectImageStatus", 400)
    assert cloud.world is before
    cloud.run_until_idle()
    body = call(cloud, "RunInstances", {"RegionId": DST, "ImageId": new, "Amount": 2})
    assert_ok(body)
    made = body["InstanceIdSets"]["InstanceIdSet"]
    assert len(made) == 2 and len(set(made)) == 2
    assert_error(call(cloud, "RunInstances", {"RegionId": SRC, "ImageId": new}), "InvalidImageId.NotFound", 404)


def test_N6_replace_system_disk_only_once_available():
    """N6: ReplaceSystemDisk needs an Available image in the instance's region."""
    cloud = make_cloud(instances=[{"image": "web", "id": "i-web"}])
    local = copied(cloud, dest=SRC, DestinationImageName="web-copy")
    remote_src = "$web"
    assert_error(call(cloud, "ReplaceSystemDisk", {"InstanceId": "i-web", "ImageId": local}),
                 "OperationDenied.ImageNotValid", 403, "The specified image is not available.")
    cloud.run_until_idle()
    body = call(cloud, "ReplaceSystemDisk", {"InstanceId": "i-web", "ImageId": local})
    assert_ok(body)
    assert body["DiskId"].startswith("d-")
    assert next(i for i in cloud.world.instances if i.instance_id == "i-web").image_id == local
    # A copy in another region cannot serve this instance.
    remote = copied(cloud, remote_src, DST)
    cloud.run_until_idle()
    assert_error(call(cloud, "ReplaceSystemDisk", {"InstanceId": "i-web", "ImageId": remote}),
                 "InvalidImageId.NotFound", 404)
    assert_error(call(cloud, "ReplaceSystemDisk", {"InstanceId": "i-nope", "ImageId": local}),
                 "InvalidInstanceId.NotFound", 404)


# --- P1, P4 ----------------------------------------------------------------------------------------------------


def test_P1_image_must_be_in_the_given_region():
    """P1: RegionId is the source region; the image must live there."""
    cloud = make_cloud()
    assert_error(copy(cloud, region=DST), "InvalidImageId.NotFound", 404)


def test_P4_destination_region_receives_the_copy():
    """P4: the new image is listed in DestinationRegionId, not in the source region."""
    cloud = make_cloud()
    new = copied(cloud)
    assert [r["ImageId"] for r in rows(cloud, DST)] == [new]
    assert new not in [r["ImageId"] for r in rows(cloud, SRC)]


# --- P2: DestinationImageName ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", [
    "ab", "a" * 128, "Web", "web.server:v1_2-3", "w-1", "my-aliyun-image", "webacs:x", "中文镜像",
], ids=["P2-2-chars", "P2-128-chars", "P2-capital", "P2-punctuation", "P2-digits-after", "P2-aliyun-inside",
        "P2-acs-inside", "P2-chinese"])
def test_P2_name_accepted(name):
    cloud = make_cloud()
    new = copied(cloud, DestinationImageName=name)
    assert row(cloud, new)["ImageName"] == name


@pytest.mark.parametrize("name", [
    "a", "a" * 129, "1web", "-web", "_web", ".web", "aliyun-web", "aliyun", "acs:web", "webhttp://x",
    "web https://x", "web name", "web/x", "web@x", "web#1",
], ids=["P2-1-char", "P2-129-chars", "P2-digit-first", "P2-dash-first", "P2-underscore-first", "P2-dot-first",
        "P2-aliyun-prefix", "P2-aliyun", "P2-acs-prefix", "P2-http-inside", "P2-https-inside", "P2-space",
        "P2-slash", "P2-at", "P2-hash"])
def test_P2_name_refused(name):
    """P2/E12: a malformed DestinationImageName changes nothing."""
    cloud = make_cloud()
    before = cloud.world
    assert_error(copy(cloud, DestinationImageName=name), "InvalidImageName.Malformed", 400)
    assert cloud.world is before


# --- P3: DestinationDescription --------------------------------------------------------------------------------


@pytest.mark.parametrize("description,ok", [
    ("ab", True), ("d" * 256, True), ("see http://example.com", True), ("描述", True),
    ("a", False), ("d" * 257, False), ("http://example.com", False), ("https://example.com", False),
    ("HTTPS://example.com", False),
], ids=["P3-2", "P3-256", "P3-url-inside", "P3-chinese", "P3-1", "P3-257", "P3-http", "P3-https", "P3-HTTPS"])
def test_P3_description(description, ok):
    cloud = make_cloud()
    body = copy(cloud, DestinationDescription=description)
    if ok:
        assert_ok(body)
        assert row(cloud, body["ImageId"])["Description"] == description
    else:
        assert_error(body, "InvalidDescription.Malformed", 400)
        assert cloud.world.tasks == ()


# --- P5, P6: encryption ------------------------------------------------------------------------------------------


def test_P5_encrypted_defaults_to_false():
    cloud = make_cloud()
    new = copied(cloud)
    assert cloud.world.image(new).spec.encrypted is False


@pytest.mark.parametrize("value,expected", [(True, True), ("true", True), ("TRUE", True), ("True", True),
                                            (False, False), ("false", False), ("FALSE", False)],
                         ids=["P5-True", "P5-true", "P5-TRUE", "P5-True-str", "P5-False", "P5-false", "P5-FALSE"])
def test_P5_encrypted_booleans(value, expected):
    """P5/A9: Encrypted as a bool or as true/false in any case."""
    cloud = make_cloud()
    new = copied(cloud, Encrypted=value)
    assert cloud.world.image(new).spec.encrypted is expected


def test_P5_kms_key_needs_encrypted_and_is_kept():
    """P5: a KMSKeyId with Encrypted=true makes an encrypted copy with that key; without it: E10/E7."""
    cloud = make_cloud(kms_keys=[{"id": "key-sh", "region": DST}], images=images("web", "db"))
    assert_error(copy(cloud, KMSKeyId="key-sh"), "InvalidEncrypted.NotMatchKmsKeyId", 400)
    assert_error(copy(cloud, KMSKeyId="key-sh", Encrypted="false"), "InvalidParameter.EncryptedIllegal", 400)
    new = copied(cloud, KMSKeyId="key-sh", Encrypted=True)
    spec = cloud.world.image(new).spec
    assert spec.encrypted and spec.kms_key_id == "key-sh"
    assert all(s.encrypted for s in spec.snapshots)


def test_P5_copy_of_an_encrypted_image_stays_encrypted():
    cloud = make_cloud(images=[{"name": "web", "encrypted": True}])
    new = copied(cloud)
    assert cloud.world.image(new).spec.encrypted is True


def test_P6_encrypt_algorithm():
    """P6: EncryptAlgorithm needs Encrypted=true (E8), a known value (E9), and a region that supports it (E37)."""
    cloud = make_cloud(regions=[SRC, {"id": DST, "encrypt_algorithm": True}, "cn-beijing"])
    assert_error(copy(cloud, EncryptAlgorithm="SM4"), "InvalidEncrypted.NotMatchEncryptAlgorithm", 400)
    assert_error(copy(cloud, EncryptAlgorithm="SM4", Encrypted=False), "InvalidEncrypted.NotMatchEncryptAlgorithm")
    assert_error(copy(cloud, EncryptAlgorithm="DES", Encrypted=True), "InvalidEncryptAlgorithm", 400)
    assert_error(copy(cloud, "$web", "cn-beijing", EncryptAlgorithm="SM4", Encrypted=True),
                 "InvalidRegionId.NotSupportEncryptAlgorithm", 403)
    assert_ok(copy(cloud, EncryptAlgorithm="SM4", Encrypted=True))


# --- P8: tags -----------------------------------------------------------------------------------------------------


def _tags_list(n, value="v"):
    return {"Tag": [{"Key": f"key{i}", "Value": value} for i in range(1, n + 1)]}


def _tags_flat(n, value="v"):
    out = {}
    for i in range(1, n + 1):
        out[f"Tag.{i}.Key"] = f"key{i}"
        out[f"Tag.{i}.Value"] = value
    return out


@pytest.mark.parametrize("form", [_tags_list, _tags_flat], ids=["P8-list", "P8-flat"])
def test_P8_twenty_tags_ok_twenty_one_refused(form):
    cloud = make_cloud(images=images("web", "db"))
    new = copied(cloud, **form(20))
    tags = row(cloud, new)["Tags"]["Tag"]
    assert tags == [{"TagKey": f"key{i}", "TagValue": "v"} for i in range(1, 21)]
    before = cloud.world
    assert_error(copy(cloud, "$db", **form(21)), "InvalidTagCount", 400)
    assert cloud.world is before


@pytest.mark.parametrize("tag,code", [
    ({"Key": "team", "Value": ""}, None),
    ({"Key": "team"}, None),
    ({"Key": "k" * 128, "Value": "v" * 128}, None),
    ({"Key": "team", "Value": "aliyun"}, None),
    ({"Key": "k" * 129, "Value": "v"}, "InvalidTagKey.Malformed"),
    ({"Key": "", "Value": "v"}, "InvalidTagKey.Malformed"),
    ({"Value": "v"}, "InvalidTagKey.Malformed"),
    ({"Key": "aliyun-team", "Value": "v"}, "InvalidTagKey.Malformed"),
    ({"Key": "acs:team", "Value": "v"}, "InvalidTagKey.Malformed"),
    ({"Key": "see-http://x", "Value": "v"}, "InvalidTagKey.Malformed"),
    ({"Key": "team", "Value": "v" * 129}, "InvalidTagValue.Malformed"),
    ({"Key": "team", "Value": "https://x"}, "InvalidTagValue.Malformed"),
    ({"Key": "team", "Value": ["a"]}, "InvalidTagValue.Malformed"),
], ids=["P8-empty-value", "P8-no-value", "P8-128-128", "P8-aliyun-value", "P8-key-129", "P8-empty-key",
        "P8-no-key", "P8-aliyun-key", "P8-acs-key", "P8-url-key", "P8-value-129", "P8-url-value", "P8-list-value"])
def test_P8_tag_key_and_value(tag, code):
    cloud = make_cloud()
    body = copy(cloud, Tag=[tag])
    if code is None:
        assert_ok(body)
        shown = row(cloud, body["ImageId"])["Tags"]["Tag"]
        assert shown == [{"TagKey": tag["Key"], "TagValue": tag.get("Value", "")}]
    else:
        assert_error(body, code, 400)
        assert cloud.world.tasks == ()


@pytest.mark.parametrize("params", [
    {"Tag": [{"Key": "team", "Value": "a"}, {"Key": "team", "Value": "b"}]},
    {"Tag.1.Key": "team", "Tag.1.Value": "a", "Tag.2.Key": "team"},
    {"Tag": [{"Key": "team", "Value": "a"}], "Tag.2.Key": "team"},
], ids=["P8-E16-list", "P8-E16-flat", "P8-E16-mixed"])
def test_P8_duplicate_keys(params):
    """P8/E16: tag keys must be distinct, in either form or both together."""
    cloud = make_cloud()
    assert_error(copy(cloud, **params), "Duplicate.TagKey", 400, "The Tag.N.Key contain duplicate key.")


def test_P8_keys_are_case_sensitive_and_forms_combine_in_index_order():
    """P8: Team and team are distinct keys; Tag=[...] and Tag.N.* combine by index."""
    cloud = make_cloud()
    new = copied(cloud, **{"Tag": [{"Key": "Team", "Value": "1"}], "Tag.2.Key": "team", "Tag.2.Value": "2",
                           "Tag.3.Key": "x"})
    assert row(cloud, new)["Tags"]["Tag"] == [
        {"TagKey": "Team", "TagValue": "1"}, {"TagKey": "team", "TagValue": "2"}, {"TagKey": "x", "TagValue": ""}]


# --- P9: DryRun ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [True, "true", "TRUE", "True"])
def test_P9_dry_run_booleans(value):
    cloud = make_cloud()
    assert_error(copy(cloud, DryRun=value), "DryRunOperation", 400)
    assert cloud.world.tasks == ()


@pytest.mark.parametrize("value", [False, "false", "False", ""])
def test_P9_dry_run_false_copies(value):
    cloud = make_cloud()
    assert_ok(copy(cloud, DryRun=value))
    assert len(cloud.world.tasks) == 1


# --- P10: ClientToken --------------------------------------------------------------------------------------------------


def test_P10_retry_answers_the_first_image_and_starts_one_task():
    """P10/I7: the same token and parameters answer the same ImageId; only one task exists, even later."""
    cloud = make_cloud()
    first = copied(cloud, ClientToken="t" * 64)
    world = cloud.world
    again = copy(cloud, ClientToken="t" * 64)
    assert_ok(again)
    assert again["ImageId"] == first
    assert cloud.world is world
    assert len(cloud.world.tasks) == 1
    cloud.run_until_idle()
    assert copy(cloud, ClientToken="t" * 64)["ImageId"] == first
    assert len(cloud.world.tasks) == 1
    assert cloud.violations() == {}


def test_P10_token_length_and_ascii():
    """P10: a token of 64 ASCII characters is fine; 65 or non-ASCII is an InvalidParameter."""
    cloud = make_cloud()
    assert_ok(copy(cloud, ClientToken="a" * 64))
    assert_error(copy(cloud, ClientToken="a" * 65), "InvalidParameter", 400,
                 'The specified parameter "ClientToken" is not valid.')
    assert_error(copy(cloud, ClientToken="é"), "InvalidParameter", 400)
    assert_error(copy(cloud, ClientToken="令牌"), "InvalidParameter", 400)


def test_P10_other_parameters_mismatch_and_without_token_no_replay():
    """P10: the same token with another destination is a mismatch; without a token nothing is replayed."""
    cloud = make_cloud(regions=[SRC, DST, "cn-beijing"])
    copied(cloud, ClientToken="tok")
    assert_error(copy(cloud, "$web", "cn-beijing", ClientToken="tok"), "IdempotentParameterMismatch", 400)
    assert_error(copy(cloud), "OperationDenied.ImageCopyConflict")  # no token: a new request, E14


def test_P10_a_refused_request_does_not_use_the_token():
    """P10: only an accepted copy binds its token; a refused first try can be retried freely."""
    cloud = make_cloud(images=images("web", "db"))
    assert_error(copy(cloud, ClientToken="tok", DestinationImageName="1bad"), "InvalidImageName.Malformed")
    assert_ok(copy(cloud, "$db", ClientToken="tok"))


def test_P10_retry_still_checks_the_caller():
    """P10/E19: a replay is still an authorised call: a caller who may not copy gets Forbbiden."""
    cloud = make_cloud(users=[{"name": "bob", "actions": ["DescribeImages"]}])
    copied(cloud, ClientToken="tok")
    assert_error(copy(cloud, ClientToken="tok", caller="bob"), "Forbbiden", 403)


# --- P11: the answer ------------------------------------------------------------------------------------------------


def test_P11_answer_shape():
    """P11: success answers exactly {ImageId, RequestId}; the id names the new image in the destination."""
    cloud = make_cloud()
    body = copy(cloud)
    assert set(body) == {"ImageId", "RequestId"}
    assert ID_RE.match(body["ImageId"])
    assert body["ImageId"] != ref(cloud, "web")
    assert row(cloud, body["ImageId"])["IsCopied"] is True


# --- The ambiguities: each option changes an answer ------------------------------------------------------------------


def test_A1_limit_region_destination_vs_source():
    """A1/N4: the 5-task limit is counted at the destination (default) or at the source."""
    def run(limit_region):
        cloud = make_cloud(regions=[SRC, DST, "cn-beijing"], images=images("a", "b"),
                           options={"copy_limit": 1, "limit_region": limit_region})
        return states(cloud, copied(cloud, "$a", DST), copied(cloud, "$b", "cn-beijing"))

    assert run("destination") == ["Creating", "Creating"]
    assert run("source") == ["Creating", "Waiting"]


def test_A2_conflict_scope():
    """A2/E14: the same source to another region conflicts only with conflict_scope=any."""
    def second(scope, dest):
        cloud = make_cloud(regions=[SRC, DST, "cn-beijing"], options={"conflict_scope": scope})
        copied(cloud, "$web", DST)
        return copy(cloud, "$web", dest).get("Code")

    assert second("any", "cn-beijing") == "OperationDenied.ImageCopyConflict"
    assert second("same_destination", "cn-beijing") is None
    assert second("same_destination", DST) == "OperationDenied.ImageCopyConflict"


def test_A3_copying_source_error():
    """A3/E24/E4: copying a copy in progress answers ImageCopying (default) or IncorrectImageStatus."""
    for option, code, status in [("OperationDenied.ImageCopying", "OperationDenied.ImageCopying", 403),
                                 ("IncorrectImageStatus", "IncorrectImageStatus", 400)]:
        cloud = make_cloud(options={"copying_source_error": option})
        new = copied(cloud)
        assert_error(copy(cloud, new, SRC, region=DST), code, status)


def test_A4_delete_source_while_copying():
    """A4: by default the source of a running copy cannot be deleted; the option allows it."""
    cloud = make_cloud()
    new = copied(cloud)
    source = ref(cloud, "web")
    assert_error(call(cloud, "DeleteImage", {"RegionId": SRC, "ImageId": source}), "OperationDenied.ImageCopying", 403)
    assert cloud.violations(("A4",)) == {}
    cloud = make_cloud(options={"delete_source_while_copying": True})
    new = copied(cloud)
    assert_ok(call(cloud, "DeleteImage", {"RegionId": SRC, "ImageId": source}))
    assert cloud.status(source) is None
    # The invariant of the default reading breaks, on purpose; it is checked only when named.
    assert cloud.violations(("A4",)) == {"A4": f"copy {new} is Creating but its source {source} was deleted"}
    assert "A4" not in cloud.violations()
    cloud.run_until_idle()
    assert cloud.violations(("A4",)) == {}  # the copy ended: nothing in progress lost its source
    assert cloud.status(new) == "Available"


@pytest.mark.parametrize("reading,absent,false", [
    ("by_presence", "InvalidEncrypted.NotMatchKmsKeyId", "InvalidParameter.EncryptedIllegal"),
    ("EncryptedIllegal", "InvalidParameter.EncryptedIllegal", "InvalidParameter.EncryptedIllegal"),
    ("NotMatchKmsKeyId", "InvalidEncrypted.NotMatchKmsKeyId", "InvalidEncrypted.NotMatchKmsKeyId"),
], ids=["A6-by-presence", "A6-E7", "A6-E10"])
def test_A6_kms_without_encrypted(reading, absent, false):
    """A6/E7/E10: which code answers a KMSKeyId without Encrypted=true."""
    cloud = make_cloud(kms_keys=[{"id": "key-sh", "region": DST}], options={"kms_without_encrypted": reading})
    assert_error(copy(cloud, KMSKeyId="key-sh"), absent, 400)
    assert_error(copy(cloud, KMSKeyId="key-sh", Encrypted=False), false, 400)


def test_A8_names_include_in_progress():
    """A8/E6: a name held by a copy in progress is in use by default; with the option off only once it is done."""
    def second(include):
        cloud = make_cloud(images=images("web", "db"), options={"names_include_in_progress": include})
        copied(cloud, "$web", DestinationImageName="shared-name")
        during = copy(cloud, "$db", DestinationImageName="shared-name", DryRun=True).get("Code")
        cloud.run_until_idle()
        after = copy(cloud, "$db", DestinationImageName="shared-name").get("Code")
        return during, after

    assert second(True) == ("InvalidImageName.Duplicated", "InvalidImageName.Duplicated")
    assert second(False) == ("DryRunOperation", "InvalidImageName.Duplicated")


def test_A10_queue_order_any_lets_any_waiting_task_start():
    """A10/I4: with queue_order=any the service may start any waiting copy (a Start event per copy)."""
    cloud = make_cloud(options={"copy_limit": 1, "queue_order": "any"}, images=images("a", "b", "c"))
    a, b, c = (copied(cloud, f"${n}") for n in "abc")
    world, _ = step(cloud.world, Complete(a))
    starts = [e for e in enabled_events(world) if type(e) is Start]
    assert starts == [Start(b), Start(c)]
    world, answer = step(world, Start(c))
    assert answer == {}
    assert world.task(c).state == "Creating" and world.task(b).state == "Waiting"
    assert set(violations(world)) == {"I4"}  # only FIFO is broken, by design of A10


def test_A10_fifo_starts_the_head_at_once():
    """A10/I3/I4: with the default FIFO queue the head starts when the slot frees, with no Start event."""
    cloud = make_cloud(options={"copy_limit": 1}, images=images("a", "b", "c"))
    a, b, c = (copied(cloud, f"${n}") for n in "abc")
    world, _ = step(cloud.world, Complete(a))
    assert [e for e in enabled_events(world) if type(e) is Start] == []
    assert world.task(b).state == "Creating" and world.task(c).state == "Waiting"
    assert violations(world) == {}


def test_A10_start_as_event_offers_only_the_head():
    """A10: start_as_event makes starting a service event, still FIFO: only the head may start."""
    cloud = make_cloud(options={"copy_limit": 1, "start_as_event": True}, images=images("a", "b", "c"))
    a, b, c = (copied(cloud, f"${n}") for n in "abc")
    world, _ = step(cloud.world, Complete(a))
    assert [e for e in enabled_events(world) if type(e) is Start] == [Start(b)]
    same, answer = step(world, Start(c))
    assert answer is None and same is world  # not enabled: nothing happens
    # The Cloud takes such events at once.
    cloud.advance(600)
    assert states(cloud, a, b, c) == ["Available", "Creating", "Waiting"]


def test_P9_P10_dry_run_of_a_client_token_retry_changes_nothing_and_says_dry_run() -> None:
    from model import Cloud

    cloud = Cloud()
    src = cloud.call("DescribeImages", {"RegionId": "cn-hangzhou"})["Images"]["Image"][0]["ImageId"]
    params = {"RegionId": "cn-hangzhou", "ImageId": src, "DestinationRegionId": "cn-shanghai", "ClientToken": "t-1"}
    first = cloud.call("CopyImage", params)["ImageId"]
    before = cloud.world
    dry = cloud.call("CopyImage", {**params, "DryRun": "true"})
    assert dry["Code"] == "DryRunOperation" and cloud.world is before
    assert cloud.call("CopyImage", params)["ImageId"] == first


def test_trace_does_not_alias_the_answers_given_to_the_caller() -> None:
    from model import Cloud

    cloud = Cloud()
    answer = cloud.call("DescribeRegions", {})
    answer["Regions"]["Region"].clear()
    assert cloud.trace[-1]["response"]["Regions"]["Region"], "editing an answer must not edit the trace"
