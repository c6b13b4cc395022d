"""The SPEC rule ids and what each one says, in a line.

Tests cite these ids (in their names or docstrings), ``python -m
tests.spec_coverage`` reports which ids have tests, and docs link code to
rules through them. To find a rule's code, grep its id under ``model/``:
every check names the ids it realises.
"""

from __future__ import annotations

from .errors import COPY_IMAGE_ERRORS

__all__ = ["RULES", "FAMILIES", "REQUIRED_FAMILIES"]

RULES: dict[str, str] = {
    "N1": "Only a custom image in status Available can be copied.",
    "N2": "An own image may be copied to another region; an image shared by another account only inside its region.",
    "N3": "A copy in progress cannot be deleted by DeleteImage, but CancelCopyImage can cancel it.",
    "N4": "A region runs at most 5 copy tasks at once (a parameter); further tasks queue and run when a slot frees.",
    "N5": "ResourceGroupId puts the new image in that resource group; otherwise the default group.",
    "N6": "Once the copy is Available, RunInstances and ReplaceSystemDisk can use it in its region; not before.",
    "P1": "RegionId (source region) and ImageId (source image) are required.",
    "P2": "DestinationImageName: 2-128 characters, starts with a letter, not aliyun/acs:, no http(s)://, letters digits . : _ -.",
    "P3": "DestinationDescription: 2-256 characters, not starting with http:// or https://.",
    "P4": "DestinationRegionId is the region that receives the copy.",
    "P5": "Encrypted (default false) and KMSKeyId: a key id requires Encrypted=true.",
    "P6": "EncryptAlgorithm: not available; without Encrypted=true or with an unknown value it is an error.",
    "P7": "ResourceGroupId: see N5.",
    "P8": "Tag: up to 20 tags; key 1-128 chars, not aliyun/acs:, no URLs; value 0-128 chars, no URLs; keys distinct.",
    "P9": "DryRun checks the request and changes nothing; a request that would succeed answers DryRunOperation.",
    "P10": "ClientToken (<= 64 ASCII): a retry with the same parameters answers the first ImageId; other parameters: IdempotentParameterMismatch.",
    "P11": "Success answers {ImageId, RequestId}.",
    "C1": "CancelCopyImage takes RegionId (destination) and ImageId (the new image).",
    "C2": "A cancelled task ends, the new image is removed, the source is unchanged, the slot frees.",
    "C3": "CancelCopyImage errors: InvalidRegionId.NotFound, InvalidImageId.NotFound, ImageCreatedNotFromCopy, IncorrectImageStatus, CancelNotSupported.",
    "D1": "DeleteImage takes RegionId, ImageId, Force (default false), DryRun.",
    "D2": "Deleting an image id that does not exist is ignored: success.",
    "D3": "DeleteImage errors: OperationDenied.ImageCopying, ImageUsingByInstance, ImageUseShared, ImageIsImporting, ImageIsExporting.",
    "Q1": "DescribeImages takes RegionId, ImageId, ImageName, Status (comma-separated; default Available only).",
    "Q2": "Each image shows ImageId, ImageName, Description, Status, Progress, Size, ResourceGroupId, Tags, IsCopied, ImageOwnerAlias.",
    "Q3": "A queued copy shows Waiting, a running one Creating with progress, a failed one CreateFailed; a cancelled one is gone.",
    "A1": "Where the 5-task limit is counted: destination, source or both.",
    "A2": "ImageCopyConflict: the same source to any region, or only to the same destination.",
    "A3": "When CopyImage answers OperationDenied.ImageCopying rather than ImageCopyConflict.",
    "A4": "Whether the source image may be deleted while a copy of it runs.",
    "A5": "Whether a queued task counts as concurrent.",
    "A6": "Which of two codes answers KMSKeyId without Encrypted.",
    "A7": "Which error wins when several apply (the order of checks).",
    "A8": "Whether a name held by a Waiting or Creating copy is in use.",
    "A9": "The answer to a missing required parameter, a bad boolean, too many tags.",
    "A10": "Whether the queue is strictly FIFO per region.",
    "I1": "A copy in progress is never removed by DeleteImage.",
    "I2": "No region runs more copy tasks than its limit.",
    "I3": "No slot stays idle while a task of that region waits.",
    "I4": "Queued tasks start in the order they were accepted (FIFO).",
    "I5": "Cancelling removes the new image and leaves the source image unchanged.",
    "I6": "Every accepted copy is in exactly one place: queued, running or ended.",
    "I7": "A ClientToken never yields two tasks.",
    "I8": "An image shared by another account is never copied to another region.",
    "I9": "Image names are unique per region; quotas are never exceeded.",
    "L1": "Under fair progress of the service, every accepted copy eventually ends.",
}
for _i, _row in enumerate(COPY_IMAGE_ERRORS, 1):
    RULES[f"E{_i}"] = f"CopyImage answers {_row.code} ({_row.status}): {_row.message}"

FAMILIES = ("N", "P", "E", "C", "D", "Q", "A", "I", "L")
REQUIRED_FAMILIES = ("N", "P", "E", "C", "D", "Q")  # every id of these must have a test
