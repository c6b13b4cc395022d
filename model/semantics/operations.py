"""The operations beside CopyImage: CancelCopyImage (C), DeleteImage (D), DescribeImages (Q),
DescribeRegions, and RunInstances / ReplaceSystemDisk as far as N6 needs them.

Each function takes the world, the typed request and the service clock, and
returns the next world with the answer (a dict body, or a Refusal). Rules
about a copy's state go through the lifecycle table, never around it.
"""

from __future__ import annotations

from .copy_image import check_caller
from .errors import Refusal, error
from .lifecycle import GUARD_FAILED, IN_PROGRESS, NO_TRANSITION, fire
from .queue import release
from .requests import (
    CancelCopyImageRequest, DeleteImageRequest, DescribeImagesRequest, DescribeRegionsRequest,
    ReplaceSystemDiskRequest, RunInstancesRequest,
)
from .world import ImageStatus, Instance, Owner, World, digest_id

__all__ = [
    "cancel_copy_image", "delete_image", "describe_images", "describe_regions", "run_instances",
    "replace_system_disk", "progress_percent",
]


def _admit(world: World, caller: str | None, region_id: str, act: str) -> Refusal | None:
    """E17, E19, E15, then the region: what every regional operation checks first, in this order."""
    refusal = check_caller(world, caller, act)
    if refusal is None and region_id not in world.setting.regions:
        refusal = error("InvalidRegionId.NotFound", act).answer()
    return refusal


def cancel_copy_image(world: World, req: CancelCopyImageRequest, now: float) -> tuple[World, dict | Refusal]:
    """C1-C3, N3: cancel a queued or running copy; the new image goes, the slot frees (C2)."""
    act = "CancelCopyImage"
    refusal = _admit(world, req.caller, req.region_id, act)
    if refusal is not None:
        return world, refusal
    image = world.image(req.image_id, req.region_id)
    if image is None:
        return world, error("InvalidImageId.NotFound", act).answer()
    task = world.task(image.image_id)
    if task is None:
        return world, error("ImageCreatedNotFromCopy", act).answer()
    opts = world.setting.options
    state = fire(task.state, "cancel", {"cancel_while_creating": opts.cancel_while_creating})
    if state is NO_TRANSITION:
        return world, error("IncorrectImageStatus", act).answer()
    if state is GUARD_FAILED:
        return world, error("CancelNotSupported", act).answer()
    draft = world.draft()
    draft.put_task(task.with_state(state))
    if not opts.bug_cancel_keeps_image:
        draft.drop_image(image.image_id)
    release(draft, task, now)
    return draft.done(), {}


def delete_image(world: World, req: DeleteImageRequest, now: float) -> tuple[World, dict | Refusal]:
    """D1-D3, N3, A4: delete an image; a copy in progress cannot be deleted (I1)."""
    act = "DeleteImage"
    refusal = _admit(world, req.caller, req.region_id, act)
    if refusal is not None:
        return world, refusal
    image_id = req.image_id
    image = world.image(image_id, req.region_id)
    if image is None or image.spec.owner != Owner.SELF:
        # D2: deleting an image that is not (ours) is ignored: a success, so a DryRun says it would pass (P9).
        return world, (error("DryRunOperation", act).answer() if req.dry_run else {})
    opts = world.setting.options
    task = world.task(image_id)  # the image's own copy task, if it is a copy
    if not opts.delete_source_while_copying:
        for t in world.copies_of(image_id):
            if t.state in IN_PROGRESS:
                return world, _E_COPYING  # A4: the source of a running copy is kept
    new_state = None
    if task is not None:
        new_state = fire(task.state, "delete", {"failed_copies_deletable": opts.failed_copies_deletable})
        if new_state is NO_TRANSITION:
            if not (opts.bug_delete_in_progress and task.state in IN_PROGRESS):
                return world, _E_COPYING
            new_state = None  # the seeded bug deletes the image and forgets the task, still queued or running
        elif new_state is GUARD_FAILED:
            return world, error("IncorrectImageStatus", act).answer()
    if not req.force and world.instance_using(image_id) is not None:
        return world, error("ImageUsingByInstance", act).answer()
    spec = image.spec
    if spec.shared:
        return world, error("ImageUseShared", act).answer()
    if spec.importing:
        return world, error("ImageIsImporting", act).answer()
    if spec.exporting:
        return world, error("ImageIsExporting", act).answer()
    if req.dry_run:
        return world, error("DryRunOperation", act).answer()
    draft = world.draft()
    draft.drop_image(image_id)
    if task is not None and new_state is not None:
        draft.put_task(task.with_state(new_state))
    return draft.done(), {}


_E_COPYING = error("OperationDenied.ImageCopying", "DeleteImage").answer()


def progress_percent(world: World, image_id: str, status: str, now: float) -> int:
    """Q3: how far a copy has got, from its start time, size and the simulated copy speed."""
    if status == ImageStatus.AVAILABLE:
        return 100
    if status != ImageStatus.CREATING:
        return 0
    task = world.task(image_id)
    image = world.image(image_id)
    if task is None or image is None:
        return 0
    duration = copy_duration(world, image.spec.size)
    return max(0, min(99, int((now - task.started_at) * 100 // duration)))


def copy_duration(world: World, size_gib: int) -> float:
    """Seconds a copy of ``size_gib`` takes once it runs (the scenario sets the speed)."""
    return max(1.0, size_gib * world.setting.options.copy_seconds_per_gib)


_IMAGE_OWNER_ALIASES = ("system", "self", "others", "marketplace")


def describe_images(world: World, req: DescribeImagesRequest, now: float) -> tuple[World, dict | Refusal]:
    """Q1-Q3: list a region's images; by default only Available ones; queued copies show Waiting."""
    act = "DescribeImages"
    refusal = _admit(world, req.caller, req.region_id, act)
    if refusal is not None:
        return world, refusal
    statuses = req.statuses or (ImageStatus.AVAILABLE,)
    for s in statuses:
        if s not in ImageStatus.ALL:
            return world, error("InvalidParameter", act).answer("Status")
    if req.owner_alias is not None and req.owner_alias not in _IMAGE_OWNER_ALIASES:
        return world, error("InvalidImageOwnerAlias.ValueNotSupported", act).answer()
    if req.dry_run:
        return world, error("DryRunOperation", act).answer()
    wanted_ids = set(req.image_ids) if req.image_ids else None
    rows = []
    for im in world.images:
        if im.region != req.region_id or im.status not in statuses:
            continue
        if wanted_ids is not None and im.image_id not in wanted_ids:
            continue
        if req.image_name is not None and im.spec.name != req.image_name:
            continue
        alias = Owner.ALIAS[im.spec.owner]
        if req.owner_alias is not None and alias != req.owner_alias:
            continue
        rows.append(_image_row(world, im, alias, now))
    start = (req.page_number - 1) * req.page_size
    return world, {
        "Images": {"Image": rows[start:start + req.page_size]},
        "TotalCount": len(rows),
        "PageNumber": req.page_number,
        "PageSize": req.page_size,
        "RegionId": req.region_id,
    }


def _image_row(world: World, im, alias: str, now: float) -> dict:  # type: ignore[no-untyped-def]
    spec = im.spec
    return {
        "ImageId": im.image_id,
        "ImageName": spec.name or "",
        "Description": spec.description or "",
        "Status": im.status,
        "Progress": f"{progress_percent(world, im.image_id, im.status, now)}%",
        "Size": spec.size,
        "ResourceGroupId": spec.resource_group,
        "Tags": {"Tag": [{"TagKey": k, "TagValue": v} for k, v in spec.tags]},
        "IsCopied": spec.copied_from is not None,
        "ImageOwnerAlias": alias,
        "Platform": spec.platform,
        "OSName": spec.os_name,
        "Usage": "instance" if any(i.image_id == im.image_id for i in world.instances) else "none",
        "IsSelfShared": "True" if spec.shared else "False",
        "DiskDeviceMappings": {"DiskDeviceMapping": [
            {"SnapshotId": s.snapshot_id, "Size": str(spec.size), "Format": spec.format} for s in spec.snapshots
        ]},
    }


def describe_regions(world: World, req: DescribeRegionsRequest, now: float) -> tuple[World, dict | Refusal]:
    refusal = check_caller(world, req.caller, "DescribeRegions")
    if refusal is not None:
        return world, refusal
    return world, {"Regions": {"Region": [
        {"RegionId": r.region_id, "LocalName": r.local_name or r.region_id,
         "RegionEndpoint": f"ecs.{r.region_id}.aliyuncs.com", "Status": "available"}
        for r in world.setting.regions.values()
    ]}}


def run_instances(world: World, req: RunInstancesRequest, now: float) -> tuple[World, dict | Refusal]:
    """N6: only an Available image in the region can start instances."""
    act = "RunInstances"
    refusal = _admit(world, req.caller, req.region_id, act)
    if refusal is not None:
        return world, refusal
    image = world.image(req.image_id, req.region_id)
    if image is None:
        return world, error("InvalidImageId.NotFound", act).answer()
    if image.status != ImageStatus.AVAILABLE:
        return world, error("IncorrectImageStatus", act).answer()
    if req.dry_run:
        return world, error("DryRunOperation", act).answer()
    instances = world.instances
    made = []
    for _ in range(req.amount):
        iid = digest_id("i-", world.setting.seed, req.region_id, image.image_id, len(instances))
        made.append(iid)
        instances = World.put(instances, Instance(iid, req.region_id, image.image_id))
    return world.evolve(instances=instances), {"InstanceIdSets": {"InstanceIdSet": made}, "TradePrice": 0.0}


def replace_system_disk(world: World, req: ReplaceSystemDiskRequest, now: float) -> tuple[World, dict | Refusal]:
    """N6: a system disk can be replaced only with an Available image of the instance's region."""
    act = "ReplaceSystemDisk"
    refusal = check_caller(world, req.caller, act)
    if refusal is not None:
        return world, refusal
    instance = next((i for i in world.instances if i.instance_id == req.instance_id), None)
    if instance is None:
        return world, error("InvalidInstanceId.NotFound", act).answer()
    image = world.image(req.image_id, instance.region)
    if image is None:
        return world, error("InvalidImageId.NotFound", act).answer()
    if image.status != ImageStatus.AVAILABLE:
        return world, error("OperationDenied.ImageNotValid", act).answer("The specified image is not available.")
    instances = World.put(world.instances, instance._replace(image_id=image.image_id))
    disk = digest_id("d-", world.setting.seed, instance.instance_id, image.image_id)
    return world.evolve(instances=instances), {"DiskId": disk}

