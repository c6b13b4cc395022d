"""CancelCopyImage (C1-C3) and DeleteImage (D1-D3), with N3 and the invariants they keep (I1, I5)."""

from __future__ import annotations

import pytest

from .worlds import DST, SRC, assert_error, assert_ok, call, copied, images, make_cloud, ref, rows, states


def cancel(cloud, image_id, region=DST, **kw):
    return call(cloud, "CancelCopyImage", {"RegionId": region, "ImageId": image_id, **kw})


def delete(cloud, image_id, region=DST, **kw):
    return call(cloud, "DeleteImage", {"RegionId": region, "ImageId": image_id, **kw})


def _three_queued():
    cloud = make_cloud(options={"copy_limit": 1}, images=images("a", "b", "c"))
    return cloud, [copied(cloud, f"${n}") for n in "abc"]


# --- C1, C2 ------------------------------------------------------------------------------------------------------


def test_C2_cancel_while_waiting():
    """C2/I5: a queued copy cancelled: its image is gone, the running one is untouched, the source unchanged."""
    cloud, (a, b, c) = _three_queued()
    source = cloud.world.image(ref(cloud, "b"))
    body = cancel(cloud, b)
    assert_ok(body)
    assert set(body) == {"RequestId"}
    assert states(cloud, a, b, c) == ["Creating", None, "Waiting"]
    assert cloud.world.task(b).state == "Cancelled"
    assert cloud.world.queue(DST).waiting == (c,)
    assert cloud.world.image(ref(cloud, "b")) == source
    assert b not in [r["ImageId"] for r in rows(cloud)]
    assert cloud.violations() == {}


def test_C2_cancel_while_creating_frees_the_slot():
    """C2/I3/I5: cancelling the running copy frees its slot; the head of the queue starts at once."""
    cloud, (a, b, c) = _three_queued()
    cloud.advance(100)
    source = cloud.world.image(ref(cloud, "a"))
    assert_ok(cancel(cloud, a))
    assert states(cloud, a, b, c) == [None, "Creating", "Waiting"]
    assert cloud.world.task(b).started_at == 100
    assert cloud.world.image(ref(cloud, "a")) == source
    assert cloud.violations() == {}
    # The freed slot's new copy takes its full time from when it started.
    cloud.advance(599)
    assert cloud.status(b) == "Creating"
    cloud.advance(1)
    assert states(cloud, b, c) == ["Available", "Creating"]


def test_C2_cancelled_source_can_be_copied_again():
    """C2/E14: after a cancel the source is no longer being copied."""
    cloud, (a, b, c) = _three_queued()
    assert_ok(cancel(cloud, a))
    again = copied(cloud, "$a")
    assert again != a  # a new copy, a new image
    assert cloud.status(again) == "Waiting"


def test_C1_region_is_the_destination():
    """C1: RegionId is the destination region (where the new image lives), not the source's."""
    cloud = make_cloud()
    new = copied(cloud)
    assert_error(cancel(cloud, new, region=SRC), "InvalidImageId.NotFound", 404)
    assert cloud.status(new) == "Creating"
    assert_ok(cancel(cloud, new, region=DST))


@pytest.mark.parametrize("params,name", [({"RegionId": None}, "RegionId"), ({"ImageId": None}, "ImageId")],
                         ids=["C1-no-region", "C1-no-image"])
def test_C1_required_parameters(params, name):
    cloud = make_cloud()
    new = copied(cloud)
    request = {k: v for k, v in {"RegionId": DST, "ImageId": new, **params}.items() if v is not None}
    assert_error(cloud.call("CancelCopyImage", request), "MissingParameter", 400)
    assert cloud.status(new) == "Creating"


# --- C3: the five errors -------------------------------------------------------------------------------------------

def _c3_region(cloud):
    return cancel(cloud, copied(cloud), region="cn-nowhere")


def _c3_unknown(cloud):
    copied(cloud)
    return cancel(cloud, "m-doesnotexist00000000")


def _c3_not_a_copy(cloud):
    return cancel(cloud, ref(cloud, "web"), region=SRC)


def _c3_finished(cloud):
    new = copied(cloud)
    cloud.run_until_idle()
    return cancel(cloud, new)


def _c3_failed(cloud):
    new = copied(cloud)
    cloud.fail_copy(new)
    return cancel(cloud, new)


def _c3_not_supported(cloud):
    return cancel(cloud, copied(cloud))


C3_CASES = [
    ("InvalidRegionId.NotFound", 404, "The specified RegionId does not exist.", {}, _c3_region),
    ("InvalidImageId.NotFound", 404, "The specified ImageId does not exist.", {}, _c3_unknown),
    ("ImageCreatedNotFromCopy", 400, "The specified image is not the target image of a copy action.", {},
     _c3_not_a_copy),
    ("IncorrectImageStatus", 400, "The image is copied finished.", {}, _c3_finished),
    ("IncorrectImageStatus", 400, "The image is copied finished.", {}, _c3_failed),
    ("CancelNotSupported", 400, "The specified image coping can not be cancelled.",
     {"options": {"cancel_while_creating": False}}, _c3_not_supported),
]


@pytest.mark.parametrize("code,status,message,changes,act", C3_CASES,
                         ids=["C3-InvalidRegionId.NotFound", "C3-InvalidImageId.NotFound", "C3-ImageCreatedNotFromCopy",
                              "C3-IncorrectImageStatus-Available", "C3-IncorrectImageStatus-CreateFailed",
                              "C3-CancelNotSupported"])
def test_C3_cancel_errors(code, status, message, changes, act):
    cloud = make_cloud(**changes)
    world_before = []
    original_call = cloud.call

    def spy(action, params=None, *, caller=None):
        if action == "CancelCopyImage":
            world_before.append(cloud.world)
        return original_call(action, params, caller=caller)

    cloud.call = spy  # type: ignore[method-assign]
    body = act(cloud)
    assert_error(body, code, status, message)
    assert cloud.world is world_before[-1], "a refused cancel changed the world"
    assert cloud.violations() == {}


def test_C3_cancel_not_supported_only_while_creating():
    """C3/C2: with cancel_while_creating off, a Waiting copy can still be cancelled, a Creating one not."""
    cloud = make_cloud(options={"copy_limit": 1, "cancel_while_creating": False}, images=images("a", "b"))
    a, b = copied(cloud, "$a"), copied(cloud, "$b")
    assert_error(cancel(cloud, a), "CancelNotSupported", 400)
    assert_ok(cancel(cloud, b))
    assert states(cloud, a, b) == ["Creating", None]


def test_C3_cancelled_copy_cannot_be_cancelled_again():
    """C3: the cancelled copy's image no longer exists."""
    cloud = make_cloud()
    new = copied(cloud)
    assert_ok(cancel(cloud, new))
    assert_error(cancel(cloud, new), "InvalidImageId.NotFound", 404)


def test_C3_caller_checks_come_first():
    """C3/E19: a RAM user without ecs:CancelCopyImage is Forbbiden."""
    cloud = make_cloud(users=[{"name": "bob", "actions": ["CopyImage"]}])
    new = copied(cloud, caller="bob")
    assert_error(call(cloud, "CancelCopyImage", {"RegionId": DST, "ImageId": new}, caller="bob"), "Forbbiden", 403)
    assert cloud.status(new) == "Creating"


# --- D1, D2 ----------------------------------------------------------------------------------------------------


def test_D1_delete_an_available_copy():
    """D1: a finished copy is deleted; DescribeImages no longer lists it."""
    cloud = make_cloud()
    new = copied(cloud)
    cloud.run_until_idle()
    body = delete(cloud, new)
    assert_ok(body)
    assert set(body) == {"RequestId"}
    assert cloud.status(new) is None
    assert cloud.world.task(new).state == "Deleted"
    assert rows(cloud) == []
    assert cloud.status(ref(cloud, "web")) == "Available"


def test_D1_delete_a_source_image():
    cloud = make_cloud()
    assert_ok(delete(cloud, ref(cloud, "web"), region=SRC))
    assert cloud.status(ref(cloud, "web")) is None


@pytest.mark.parametrize("value", [True, "true", "TRUE"])
def test_D1_dry_run(value):
    """D1/P9: DryRun on a deletable image answers DryRunOperation and keeps it."""
    cloud = make_cloud()
    before = cloud.world
    assert_error(delete(cloud, ref(cloud, "web"), region=SRC, DryRun=value), "DryRunOperation", 400)
    assert cloud.world is before


def test_D1_dry_run_of_a_refused_delete_answers_the_refusal():
    cloud = make_cloud()
    new = copied(cloud)
    assert_error(delete(cloud, new, DryRun=True), "OperationDenied.ImageCopying", 403)


def test_D1_failed_copy_is_deletable_unless_the_option_says_otherwise():
    """D1: a CreateFailed copy can be deleted (option failed_copies_deletable, default true)."""
    cloud = make_cloud()
    new = copied(cloud)
    cloud.fail_copy(new)
    assert_ok(delete(cloud, new))
    assert cloud.status(new) is None
    cloud = make_cloud(options={"failed_copies_deletable": False})
    new = copied(cloud)
    cloud.fail_copy(new)
    before = cloud.world
    assert_error(delete(cloud, new), "IncorrectImageStatus", 400)
    assert cloud.world is before


@pytest.mark.parametrize("image_id,region", [("m-doesnotexist00000000", DST), ("$web", DST)],
                         ids=["D2-unknown-id", "D2-other-region"])
def test_D2_unknown_image_is_ignored(image_id, region):
    """D2: deleting an image id that does not exist (in that region) answers success and changes nothing."""
    cloud = make_cloud()
    before = cloud.world
    body = delete(cloud, image_id, region=region)
    assert_ok(body)
    assert set(body) == {"RequestId"}
    assert cloud.world is before


def test_D2_deleting_twice():
    cloud = make_cloud()
    web = ref(cloud, "web")
    assert_ok(delete(cloud, web, region=SRC))
    after = cloud.world
    assert_ok(delete(cloud, web, region=SRC))
    assert cloud.world is after


def test_D1_unknown_region():
    cloud = make_cloud()
    assert_error(delete(cloud, ref(cloud, "web"), region="cn-nowhere"), "InvalidRegionId.NotFound", 404)


# --- D3: the five errors ----------------------------------------------------------------------------------------------

D3_CASES = [
    ("OperationDenied.ImageCopying", 403,
     "The image is being copied. Call CancelCopyImage to cancel the copy task, then delete the image.",
     {}, "copy", {}),
    ("ImageUsingByInstance", 403,
     "The specified image has been used to create instances. You can use the DescribeInstances API to query "
     "these instances, or you can use the force parameter to proceed.",
     {"instances": [{"image": "web"}]}, "web", {}),
    ("ImageUseShared", 403,
     "The specified image has been shared to others. You can use the DescribeImageSharePermission API to query "
     "the users who have been shared.",
     {"images": [{"name": "web", "shared": True}]}, "web", {}),
    ("ImageUseShared", 403, None, {"images": [{"name": "web", "shared": True}]}, "web", {"Force": True}),
    ("ImageIsImporting", 403, "The specified Image is importing.",
     {"images": [{"name": "web", "importing": True}]}, "web", {}),
    ("ImageIsExporting", 403, "The specified Image is exporting. Please cancel task first.",
     {"images": [{"name": "web", "exporting": True}]}, "web", {"Force": True}),
]


@pytest.mark.parametrize("code,status,message,changes,target,extra", D3_CASES,
                         ids=["D3-N3-ImageCopying", "D3-ImageUsingByInstance", "D3-ImageUseShared",
                              "D3-ImageUseShared-Force", "D3-ImageIsImporting", "D3-ImageIsExporting-Force"])
def test_D3_delete_errors(code, status, message, changes, target, extra):
    cloud = make_cloud(**changes)
    if target == "copy":
        image_id, region = copied(cloud), DST
    else:
        image_id, region = ref(cloud, target), SRC
    before = cloud.world
    assert_error(delete(cloud, image_id, region=region, **extra), code, status, message)
    assert cloud.world is before
    assert cloud.status(image_id) is not None


def test_D3_force_deletes_an_image_used_by_instances():
    """D1/D3: Force=true deletes an image instances were made from."""
    cloud = make_cloud(instances=[{"image": "web", "id": "i-1"}])
    web = ref(cloud, "web")
    assert_error(delete(cloud, web, region=SRC, Force="false"), "ImageUsingByInstance", 403)
    assert_ok(delete(cloud, web, region=SRC, Force="true"))
    assert cloud.status(web) is None


def test_D3_instance_made_from_a_copy_blocks_its_deletion():
    """D3/N6: an instance started from a finished copy makes the copy ImageUsingByInstance."""
    cloud = make_cloud()
    new = copied(cloud)
    cloud.run_until_idle()
    assert_ok(call(cloud, "RunInstances", {"RegionId": DST, "ImageId": new}))
    assert_error(delete(cloud, new), "ImageUsingByInstance", 403)


def test_D3_waiting_copy_cannot_be_deleted():
    """D3/N3/I1: a Waiting copy too."""
    cloud, (a, b, c) = _three_queued()
    before = cloud.world
    assert_error(delete(cloud, c), "OperationDenied.ImageCopying", 403)
    assert cloud.world is before


def test_D2_image_of_another_account_is_not_deleted():
    """D2: DeleteImage of an image shared with us by another account does not remove it."""
    cloud = make_cloud(images=[{"name": "vendor", "owner": "others"}])
    vendor = ref(cloud, "vendor")
    assert_ok(delete(cloud, vendor, region=SRC))
    assert cloud.status(vendor) == "Available"


def test_P9_D2_dry_run_of_deleting_an_absent_image_says_it_would_pass() -> None:
    """D2 makes deleting an unknown id a success, so DryRun (P9) answers DryRunOperation for it."""
    from model import Cloud

    cloud = Cloud()
    answer = cloud.call("DeleteImage", {"RegionId": "cn-hangzhou", "ImageId": "m-doesnotexist0000000", "DryRun": True})
    assert answer["Code"] == "DryRunOperation" and answer["HttpStatus"] == 400
