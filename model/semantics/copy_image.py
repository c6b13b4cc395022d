"""CopyImage: every rule of the CopyImage page, in the order the service checks them (A7).

``RULES`` is the ordered list of checks. Each check names the SPEC ids it
realises and returns the API's answer when the request must be refused, or
None. The first refusal wins: that order *is* the reading of A7 (which error
wins when several apply) written down in docs/semantics.md:

    shape (A9, in requests.py) -> who calls (E17, E19, E15) -> what the
    request says on its own (P2, P3, P8, P5, P6) -> ClientToken (P10) ->
    regions (E2, E3, E25, E20, E21, E39) -> resource group (E49, N5) ->
    the source image (E47, E11, E46, E31, E32, E30/N2, E45, N1, E50, E14) ->
    its snapshots (E5, E26, E27) -> encryption and KMS (E29, E40, E33, E13,
    E38, E48, E28, E43, E44, E34, E35, E36, E41, E37) -> size and quotas
    (E42, E22, E23) -> the name in the target region (E6) -> DryRun (P9).

A request that passes every check is accepted (N3, N4, N5, P11): the new
image appears in the destination region as Creating or Waiting.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

from .errors import Refusal, error
from .lifecycle import IN_PROGRESS, CopyState
from .queue import place
from .requests import CopyImageRequest
from .world import (
    DEFAULT_RESOURCE_GROUP, ClientToken, CopyTask, Image, ImageSpec, Owner, Snapshot, World, digest_id,
)

__all__ = ["RULES", "copy_image", "check_caller"]

_E = {row: error(row) for row in (
    "InvalidDescription.Malformed", "SourceRegion.NotFound", "DestinationRegion.NotFound", "IncorrectImageStatus",
    "InvalidSnapshotId.NotFound", "InvalidImageName.Duplicated", "InvalidParameter.EncryptedIllegal",
    "InvalidEncrypted.NotMatchEncryptAlgorithm", "InvalidEncryptAlgorithm", "InvalidEncrypted.NotMatchKmsKeyId",
    "OperationDenied.CommunityImage", "InvalidImageName.Malformed", "InvalidParameter.KmsNotEnabled",
    "OperationDenied.ImageCopyConflict", "Account.Arrearage", "Duplicate.TagKey", "InvalidAliUid.IsNull",
    "Forbbiden", "InvalidOperation.CopyingDataFromThisRegionUnsupported",
    "InvalidOperation.CopyingDataToThisRegionUnsupported", "QuotaExceed.Image", "QuotaExceed.Snapshot",
    "OperationDenied.ImageCopying", "RegionNotSupportCopy", "InvalidSnapshot.TooOld", "OperationDenied",
    "IncorrectDestinationRegion", "OperationDeined.EncryptedSnapshot", "OperationDenied.SameRegionOnly",
    "OperationDenied.NotPublished", "OperationDenied.NotAuthorized", "OperationDenied.EncryptSnapshotAcrossRegion",
    "InvalidParameter.KMSKeyId.KMSUnauthorized", "InvalidRegion.NotSupport", "UserNotInTheWhiteList",
    "InvalidRegionId.NotSupportEncryptAlgorithm", "OperationDenied.KmsServiceUnauthorized",
    "OperationDenied.NonCompliantDestinationRegion", "InvalidEncrypted.NotMatchDiskDefaultEncryption",
    "InvalidParameter.DataEncryptedKeyCreateFailed", "SizeExceed.Image", "InvalidParameter.KMSKeyId.CMKNotEnabled",
    "InvalidParameter.KMSKeyId.CMKUnauthorized", "InvalidOperation.VhdImageUnsupported",
    "InvalidOperation.CloudBoxImageCopyUnsupported", "InvalidImageId.NotFound", "InvalidParameter.KMSKeyId.NotFound",
    "InvalidResourceGroup.NotFound", "InvalidOperation.Conflict",
    "DryRunOperation", "IdempotentParameterMismatch", "InvalidTagKey.Malformed", "InvalidTagValue.Malformed",
)}
_OLDEST_SNAPSHOT = "2013-07-15"  # E26
_URLS = ("http://", "https://")


def _refuse(code: str, *args: object) -> Refusal:
    return _E[code].answer(*args)


class _Ctx:
    """What the checks look at; ``source`` and ``dest`` are filled in as the checks reach them."""

    __slots__ = ("world", "req", "dest", "source")

    def __init__(self, world: World, req: CopyImageRequest) -> None:
        self.world = world
        self.req = req
        self.dest = req.destination_region_id or req.region_id  # a copy without a destination stays home
        self.source: Image | None = None


class Rule(NamedTuple):
    rules: tuple[str, ...]
    check: Callable[[_Ctx], Refusal | None]


def check_caller(world: World, caller: str | None, action: str) -> Refusal | None:
    """E17, E19, E15: who may call at all. Shared by every operation."""
    setting = world.setting
    if setting.account.ali_uid is None:
        return error("InvalidAliUid.IsNull", action).answer()
    if caller is not None:
        user = setting.users.get(caller)
        if user is None or not user.may(action):
            return error("Forbbiden", action).answer()
    if setting.account.arrearage and action == "CopyImage":
        return _refuse("Account.Arrearage")
    return None


def _caller(c: _Ctx) -> Refusal | None:
    return check_caller(c.world, c.req.caller, "CopyImage")


def _name_malformed(name: str) -> bool:
    low = name.lower()
    return (
        not 2 <= len(name) <= 128
        or not name[0].isalpha()
        or low.startswith(("aliyun", "acs:"))
        or any(u in low for u in _URLS)
        or not all(ch.isalnum() or ch in ".:_-" for ch in name)
    )


def _name(c: _Ctx) -> Refusal | None:
    name = c.req.destination_image_name
    return _refuse("InvalidImageName.Malformed") if name is not None and _name_malformed(name) else None


def _description(c: _Ctx) -> Refusal | None:
    d = c.req.destination_description
    if d is not None and (not 2 <= len(d) <= 256 or d.lower().startswith(_URLS)):
        return _refuse("InvalidDescription.Malformed")
    return None


def _tags(c: _Ctx) -> Refusal | None:
    seen: set[str] = set()
    for key, value in c.req.tags:
        low = key.lower()
        if not 1 <= len(key) <= 128 or low.startswith(("aliyun", "acs:")) or any(u in low for u in _URLS):
            return _refuse("InvalidTagKey.Malformed")
        if len(value) > 128 or any(u in value.lower() for u in _URLS):
            return _refuse("InvalidTagValue.Malformed")
        if key in seen:
            return _refuse("Duplicate.TagKey")
        seen.add(key)
    return None


def _kms_needs_encrypted(c: _Ctx) -> Refusal | None:
    req = c.req
    if req.kms_key_id is None or req.encrypted is True:
        return None
    reading = c.world.setting.options.kms_without_encrypted  # A6
    if reading == "by_presence":
        code = "InvalidParameter.EncryptedIllegal" if req.encrypted is False else "InvalidEncrypted.NotMatchKmsKeyId"
    else:
        code = "InvalidParameter.EncryptedIllegal" if reading == "EncryptedIllegal" else "InvalidEncrypted.NotMatchKmsKeyId"
    return _refuse(code)


def _encrypt_algorithm(c: _Ctx) -> Refusal | None:
    algorithm = c.req.encrypt_algorithm
    if algorithm is None:
        return None
    if c.req.encrypted is not True:
        return _refuse("InvalidEncrypted.NotMatchEncryptAlgorithm")
    if algorithm not in c.world.setting.encrypt_algorithms:
        return _refuse("InvalidEncryptAlgorithm")
    return None


def _client_token(c: _Ctx) -> Refusal | None:
    """P10: a token seen before with other parameters. (The same parameters replay in copy_image.)"""
    token = c.req.client_token
    if token is None or c.world.setting.options.bug_ignore_client_token:
        return None
    used = c.world.token(token)
    if used is not None and used.request_key != c.req.key:
        return _refuse("IdempotentParameterMismatch")
    return None


def _regions(c: _Ctx) -> Refusal | None:
    regions = c.world.setting.regions
    source = regions.get(c.req.region_id)
    if source is None:
        return _refuse("SourceRegion.NotFound")
    dest = regions.get(c.dest)
    if dest is None:
        return _refuse("DestinationRegion.NotFound")
    if not source.copy_supported or not dest.copy_supported:
        return _refuse("RegionNotSupportCopy")
    if dest.region_id != source.region_id:
        if not source.copy_out:
            return _refuse("InvalidOperation.CopyingDataFromThisRegionUnsupported")
        if dest.copy_in_from is not None and source.region_id not in dest.copy_in_from:
            return _refuse("InvalidOperation.CopyingDataToThisRegionUnsupported",
                           ",".join(sorted(dest.copy_in_from)) or "(none)")
        if dest.region_id in source.noncompliant_destinations:
            return _refuse("OperationDenied.NonCompliantDestinationRegion")
    return None


def _resource_group(c: _Ctx) -> Refusal | None:
    setting = c.world.setting
    group = c.req.resource_group_id
    if group is not None and group not in setting.resource_groups:
        return _refuse("InvalidResourceGroup.NotFound")
    # N5: a RAM user who may not manage the default group must name a group it may use.
    if c.req.caller is not None and not setting.users[c.req.caller].may_use_group(group or DEFAULT_RESOURCE_GROUP):
        return _refuse("Forbbiden")
    return None


def _source_image(c: _Ctx) -> Refusal | None:
    source = c.world.image(c.req.image_id, c.req.region_id)
    if source is None:
        return _refuse("InvalidImageId.NotFound")
    c.source = source
    spec = source.spec
    owner = spec.owner
    if owner == Owner.COMMUNITY:
        return _refuse("OperationDenied.CommunityImage")
    if owner == Owner.CLOUDBOX:
        return _refuse("InvalidOperation.CloudBoxImageCopyUnsupported")
    if owner == Owner.MARKETPLACE:
        if spec.published_regions is not None and c.dest not in spec.published_regions:
            return _refuse("OperationDenied.NotPublished")
        if not spec.marketplace_authorized:
            return _refuse("OperationDenied.NotAuthorized")
    # N2: an image shared by another account is copied only inside its own region.
    if owner == Owner.OTHERS and c.dest != source.region and not c.world.setting.options.bug_shared_cross_region:
        return _refuse("OperationDenied.SameRegionOnly")
    if spec.format == "vhd":
        return _refuse("InvalidOperation.VhdImageUnsupported")
    return None


def _source_status(c: _Ctx) -> Refusal | None:
    """N1: only an Available image can be copied; A3: a copy still in progress answers ImageCopying."""
    source = c.source
    assert source is not None
    if source.status != "Available":
        if source.status in IN_PROGRESS and c.world.task(source.image_id) is not None:
            return _refuse(c.world.setting.options.copying_source_error)
        return _refuse("IncorrectImageStatus")
    if source.spec.exporting or source.spec.importing:
        return _refuse("InvalidOperation.Conflict")  # E50: another request still works on the image
    return None


def _copy_conflict(c: _Ctx) -> Refusal | None:
    """E14 (A2): the same image is not copied twice at once (to any region, or the same one)."""
    same_destination = c.world.setting.options.conflict_scope == "same_destination"
    image_id = c.req.image_id
    for t in c.world.copies_of(image_id):
        if t.state in IN_PROGRESS and (not same_destination or t.dest_region == c.dest):
            return _refuse("OperationDenied.ImageCopyConflict")
    return None


def _snapshots(c: _Ctx) -> Refusal | None:
    assert c.source is not None
    for snap in c.source.spec.snapshots:
        if not snap.exists:
            return _refuse("InvalidSnapshotId.NotFound")
        if snap.created < _OLDEST_SNAPSHOT:
            return _refuse("InvalidSnapshot.TooOld")
        if not snap.image_allowed:
            return _refuse("OperationDenied")
    return None


def _source_encrypted(c: _Ctx) -> bool:
    assert c.source is not None
    spec = c.source.spec
    return spec.encrypted or any(s.encrypted for s in spec.snapshots)


def _encryption(c: _Ctx) -> Refusal | None:
    req, setting = c.req, c.world.setting
    account = setting.account
    assert c.source is not None
    source_encrypted = _source_encrypted(c)
    if source_encrypted and c.source.spec.owner != Owner.SELF:
        return _refuse("OperationDeined.EncryptedSnapshot")  # E29: another account's encrypted image
    if account.default_encryption and req.encrypted is False:
        return _refuse("InvalidEncrypted.NotMatchDiskDefaultEncryption")
    if (req.encrypted and not source_encrypted and c.dest != c.req.region_id
            and not setting.regions[c.dest].encrypted_copy_in):
        return _refuse("OperationDenied.EncryptSnapshotAcrossRegion")
    if req.encrypted or req.kms_key_id is not None:
        if not account.kms_enabled:
            return _refuse("InvalidParameter.KmsNotEnabled")
        if not account.kms_service_authorized:
            return _refuse("OperationDenied.KmsServiceUnauthorized")
    if req.kms_key_id is not None:
        key = setting.kms_keys.get(req.kms_key_id)
        if key is None:
            return _refuse("InvalidParameter.KMSKeyId.NotFound")
        if key.region != c.dest:
            return _refuse("IncorrectDestinationRegion")  # E28: the key lives in another region
        if not key.enabled:
            return _refuse("InvalidParameter.KMSKeyId.CMKNotEnabled")
        if not key.authorized:
            return _refuse("InvalidParameter.KMSKeyId.CMKUnauthorized")
        if not account.ecs_kms_access:
            return _refuse("InvalidParameter.KMSKeyId.KMSUnauthorized")
        if key.origin == "external":
            if not setting.regions[c.dest].byok:
                return _refuse("InvalidRegion.NotSupport")
            if not account.byok_whitelisted:
                return _refuse("UserNotInTheWhiteList")
        if not key.data_key_ok:
            return _refuse("InvalidParameter.DataEncryptedKeyCreateFailed")
    if req.encrypt_algorithm is not None and not setting.regions[c.dest].encrypt_algorithm:
        return _refuse("InvalidRegionId.NotSupportEncryptAlgorithm")
    return None


def _size_and_quotas(c: _Ctx) -> Refusal | None:
    account = c.world.setting.account
    assert c.source is not None
    if c.source.spec.size > account.max_image_size:
        return _refuse("SizeExceed.Image")
    images, snapshots = c.world.own_image_usage(c.dest)
    if images >= account.image_quota:
        return _refuse("QuotaExceed.Image", account.image_quota)
    if snapshots + len(c.source.spec.snapshots) > account.snapshot_quota:
        return _refuse("QuotaExceed.Snapshot")
    return None


def _name_in_use(c: _Ctx) -> Refusal | None:
    """E6 (A8): a name already held in the target region, by default also by a copy in progress."""
    name = c.req.destination_image_name
    opts = c.world.setting.options
    if name is None or opts.bug_skip_name_check:
        return None
    for im in c.world.images_named(c.dest, name):
        if opts.names_include_in_progress or im.status not in IN_PROGRESS:
            return _refuse("InvalidImageName.Duplicated")
    return None


def _dry_run(c: _Ctx) -> Refusal | None:
    return _refuse("DryRunOperation") if c.req.dry_run else None


RULES: tuple[Rule, ...] = (
    Rule(("E17", "E19", "E15"), _caller),
    Rule(("P2", "E12"), _name),
    Rule(("P3", "E1"), _description),
    Rule(("P8", "E16"), _tags),
    Rule(("P5", "A6", "E7", "E10"), _kms_needs_encrypted),
    Rule(("P6", "E8", "E9"), _encrypt_algorithm),
    Rule(("P10",), _client_token),
    Rule(("P4", "E2", "E3", "E25", "E20", "E21", "E39"), _regions),
    Rule(("N5", "P7", "E49", "E19"), _resource_group),
    Rule(("P1", "E47", "E11", "E46", "E31", "E32", "N2", "E30", "E45"), _source_image),
    Rule(("N1", "A3", "E4", "E24", "E50"), _source_status),
    Rule(("A2", "E14"), _copy_conflict),
    Rule(("E5", "E26", "E27"), _snapshots),
    Rule(("P5", "P6", "E29", "E40", "E33", "E13", "E38", "E48", "E28", "E43", "E44", "E34", "E35", "E36", "E41",
          "E37"), _encryption),
    Rule(("E42", "E22", "E23", "I9"), _size_and_quotas),
    Rule(("A8", "E6", "I9"), _name_in_use),
    Rule(("P9",), _dry_run),
)
_CHECKS = tuple(r.check for r in RULES)


def copy_image(world: World, req: CopyImageRequest, now: float) -> tuple[World, dict | Refusal]:
    """Apply CopyImage: the first failing rule's answer, or the new copy (P11: ``{"ImageId": ...}``)."""
    c = _Ctx(world, req)
    # P10: a retry with the same token and parameters answers the first ImageId and starts nothing.
    if req.client_token is not None and not world.setting.options.bug_ignore_client_token:
        used = world.token(req.client_token)
        if used is not None and used.request_key == req.key and check_caller(world, req.caller, "CopyImage") is None:
            # A DryRun of a retry would succeed (it would replay), so it says so and changes nothing (P9).
            return world, (_refuse("DryRunOperation") if req.dry_run else {"ImageId": used.image_id})
    for check in _CHECKS:
        refusal = check(c)
        if refusal is not None:
            return world, refusal
    world, image_id = _accept(c, now)
    return world, {"ImageId": image_id}


def _new_image_id(c: _Ctx) -> str:
    # Depends on the source, the destination and how many copies of that source went there
    # before: never on unrelated requests, so equal worlds get equal ids (see world.py).
    ordinal = sum(1 for t in c.world.copies_of(c.req.image_id) if t.dest_region == c.dest)
    return c.world.setting.copy_id(c.req.image_id, c.dest, ordinal)


def _accept(c: _Ctx, now: float) -> tuple[World, str]:
    world, req, source = c.world, c.req, c.source
    assert source is not None
    setting = world.setting
    image_id = _new_image_id(c)

    def make_spec() -> ImageSpec:
        src = source.spec
        return ImageSpec(
            name=req.destination_image_name,
            description=req.destination_description,
            size=src.size,
            owner=Owner.SELF,
            format=src.format,
            tags=req.tags,
            resource_group=req.resource_group_id or DEFAULT_RESOURCE_GROUP,  # N5
            encrypted=bool(req.encrypted) or _source_encrypted(c),
            kms_key_id=req.kms_key_id,
            snapshots=tuple(Snapshot(digest_id("s-", image_id, s.snapshot_id), encrypted=bool(req.encrypted) or s.encrypted)
                            for s in src.snapshots),
            copied_from=source.image_id,
            platform=src.platform,
            os_name=src.os_name,
        )

    spec = setting.copy_spec(source.spec, (req.key, image_id), make_spec)
    slot_region = c.dest if setting.options.limit_region == "destination" else source.region  # A1
    task = CopyTask(image_id, source.image_id, source.region, c.dest, slot_region, CopyState.REQUESTED,
                    req.client_token, now)
    draft = world.draft()
    task = place(draft, task)
    draft.put_image(Image(image_id, c.dest, task.state, spec))
    if req.client_token is not None:
        draft.put_token(ClientToken(req.client_token, req.key, image_id))
    return draft.done(), image_id
