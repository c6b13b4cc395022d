"""The error catalog: every answer the model can refuse a request with.

The CopyImage rows E1..E50 are the error table of the CopyImage API page, in
the page's order, with its HTTP statuses, codes and messages (typos such as
``Forbbiden`` and ``OperationDeined`` are the service's own and are kept).
The other rows come from the neighbouring operations' pages and the service's
common conventions; each carries the SPEC id of the rule that produces it.

A message containing ``%s`` is completed by the rule that raises it (for
example the quota in ``QuotaExceed.Image``).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ErrorCode", "COPY_IMAGE_ERRORS", "CATALOG", "error"]


class ErrorCode:
    """One row of the catalog: the SPEC rule id, the code, the HTTP status, the message."""

    __slots__ = ("rule", "code", "status", "message", "_plain")

    def __init__(self, rule: str, code: str, status: int, message: str) -> None:
        self.rule, self.code, self.status, self.message = rule, code, status, message
        # The answer without message arguments is made once: refusals are the explorer's commonest outcome.
        self._plain = Refusal(self, message)

    def answer(self, *args: object) -> "Refusal":
        return Refusal(self, self.message % args) if args else self._plain

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ErrorCode) and (self.rule, self.code, self.status, self.message) == (
            other.rule, other.code, other.status, other.message)

    def __hash__(self) -> int:
        return hash((self.code, self.status, self.message))

    def __repr__(self) -> str:
        return f"ErrorCode({self.rule!r}, {self.code!r}, {self.status}, {self.message!r})"


@dataclass(frozen=True, slots=True)
class Refusal:
    """A request's error answer (before the RequestId is added)."""

    error: ErrorCode
    message: str

    @property
    def code(self) -> str:
        return self.error.code

    @property
    def status(self) -> int:
        return self.error.status


# E1..E50: the CopyImage page's table, row for row.
COPY_IMAGE_ERRORS: tuple[ErrorCode, ...] = (
    ErrorCode("E1", "InvalidDescription.Malformed", 400, 'The specified destination description is wrongly formed.'),
    ErrorCode("E2", "SourceRegion.NotFound", 400, 'The source region not found.'),
    ErrorCode("E3", "DestinationRegion.NotFound", 400, 'The destination region not found.'),
    ErrorCode("E4", "IncorrectImageStatus", 400, 'The image not available.'),
    ErrorCode("E5", "InvalidSnapshotId.NotFound", 400, 'The specified SnapshotId does not exist.'),
    ErrorCode("E6", "InvalidImageName.Duplicated", 400, 'The specified image name is already in use in the target region. Please try a different one.'),
    ErrorCode("E7", "InvalidParameter.EncryptedIllegal", 400, 'The specified parameter Encrypted must be true when kmsKeyId is not empty.'),
    ErrorCode("E8", "InvalidEncrypted.NotMatchEncryptAlgorithm", 400, 'The specified parameter Encrypted must be true when EncryptAlgorithm is not empty.'),
    ErrorCode("E9", "InvalidEncryptAlgorithm", 400, 'The specified parameter EncryptAlgorithm is not valid.'),
    ErrorCode("E10", "InvalidEncrypted.NotMatchKmsKeyId", 400, 'The specified parameter Encrypted must be true when KmsKeyId is not empty.'),
    ErrorCode("E11", "OperationDenied.CommunityImage", 400, 'Community image does not support copy.'),
    ErrorCode("E12", "InvalidImageName.Malformed", 400, 'The specified destination image name is wrongly formed.'),
    ErrorCode("E13", "InvalidParameter.KmsNotEnabled", 400, 'The specified operation need enable KMS.'),
    ErrorCode("E14", "OperationDenied.ImageCopyConflict", 400, 'The same image cannot be copied concurrently. Please wait until the last copy is completed before performing the next operation.'),
    ErrorCode("E15", "Account.Arrearage", 400, 'Your account has an outstanding payment.'),
    ErrorCode("E16", "Duplicate.TagKey", 400, 'The Tag.N.Key contain duplicate key.'),
    ErrorCode("E17", "InvalidAliUid.IsNull", 401, 'The aliUid must not be null.'),
    ErrorCode("E18", "InternalError", 500, 'The request processing has failed due to some unknown error, exception or failure.'),
    ErrorCode("E19", "Forbbiden", 403, 'User not authorized to operate on the specified resource.'),
    ErrorCode("E20", "InvalidOperation.CopyingDataFromThisRegionUnsupported", 403, 'Data transfer from the current region to other regions is not supported.'),
    ErrorCode("E21", "InvalidOperation.CopyingDataToThisRegionUnsupported", 403, 'Only Some Regions %s can copy data to this region.'),
    ErrorCode("E22", "QuotaExceed.Image", 403, 'The number of images exceeds the limit (%s).'),
    ErrorCode("E23", "QuotaExceed.Snapshot", 403, 'The snapshot quota exceeds.'),
    ErrorCode("E24", "OperationDenied.ImageCopying", 403, 'The image is currently being copied. Please try again later.'),
    ErrorCode("E25", "RegionNotSupportCopy", 403, 'The region not support copy.'),
    ErrorCode("E26", "InvalidSnapshot.TooOld", 403, 'This operation is denied because the specified snapshot is created before 2013-07-15.'),
    ErrorCode("E27", "OperationDenied", 403, 'The specified snapshot is not allowed to create image.'),
    ErrorCode("E28", "IncorrectDestinationRegion", 403, 'The destination region is not equal the target region.'),
    ErrorCode("E29", "OperationDeined.EncryptedSnapshot", 403, 'The image contains encrypted snapshots, which do not support copying.'),
    ErrorCode("E30", "OperationDenied.SameRegionOnly", 403, 'The image shared from others can not be copied to another region directly.'),
    ErrorCode("E31", "OperationDenied.NotPublished", 403, 'The operation is denied because corresponding marketplace image is not published in destination region.'),
    ErrorCode("E32", "OperationDenied.NotAuthorized", 403, 'The operation is denied because corresponding marketplace image is not authorized to current user.'),
    ErrorCode("E33", "OperationDenied.EncryptSnapshotAcrossRegion", 403, 'The image do not contain encrypted snapshots, which do not support copying to encrypted ones.'),
    ErrorCode("E34", "InvalidParameter.KMSKeyId.KMSUnauthorized", 403, 'ECS service have no right to access your KMS.'),
    ErrorCode("E35", "InvalidRegion.NotSupport", 403, 'The specified region does not support byok.'),
    ErrorCode("E36", "UserNotInTheWhiteList", 403, 'The user is not in byok white list.'),
    ErrorCode("E37", "InvalidRegionId.NotSupportEncryptAlgorithm", 403, 'The current region does not support creating encrypted disks with EncryptAlgorithm.'),
    ErrorCode("E38", "OperationDenied.KmsServiceUnauthorized", 403, 'The account is not authorized to kms service, please authorize it.'),
    ErrorCode("E39", "OperationDenied.NonCompliantDestinationRegion", 403, 'The copy operation to the destination region is not in compliance with regulations.'),
    ErrorCode("E40", "InvalidEncrypted.NotMatchDiskDefaultEncryption", 403, 'The specified parameter Encrypted not match for your account default encryption settings.'),
    ErrorCode("E41", "InvalidParameter.DataEncryptedKeyCreateFailed", 403, 'Create kms data encrypted key fail. If you need further assistance, you can contact the KMS Technical Support.'),
    ErrorCode("E42", "SizeExceed.Image", 403, 'The image exceeds the maximum size. You can use the CopySnapshot API to copy your snapshots of the image and then create a new image from them.'),
    ErrorCode("E43", "InvalidParameter.KMSKeyId.CMKNotEnabled", 403, 'The CMK (Customer Master Key) must be in an active state.'),
    ErrorCode("E44", "InvalidParameter.KMSKeyId.CMKUnauthorized", 403, 'The CMK(Customer Master Key) lacks authorization to add tags to the ECS service.'),
    ErrorCode("E45", "InvalidOperation.VhdImageUnsupported", 403, 'The specified vhd image is not supported for this operation. Please switch to a raw image and retry.'),
    ErrorCode("E46", "InvalidOperation.CloudBoxImageCopyUnsupported", 403, 'Copying CloudBox images is not supported.'),
    ErrorCode("E47", "InvalidImageId.NotFound", 404, 'The specified ImageId does not exist.'),
    ErrorCode("E48", "InvalidParameter.KMSKeyId.NotFound", 404, 'The specified KMSKeyId does not exist.'),
    ErrorCode("E49", "InvalidResourceGroup.NotFound", 404, 'The ResourceGroup provided does not exist in our records.'),
    ErrorCode("E50", "InvalidOperation.Conflict", 409, 'Request was denied due to conflict with a previous request, please try again later.'),
)

# Rows of the other operations and of the service's conventions, by SPEC id.
# Sources: the ECS API reference pages of CancelCopyImage, DeleteImage,
# DescribeImages, RunInstances, ReplaceSystemDisk and the common error table.
OTHER_ERRORS: tuple[ErrorCode, ...] = (
    # P9: a DryRun request that would have succeeded.
    ErrorCode("P9", "DryRunOperation", 400, "Request validation has been passed with DryRun flag set."),
    # P10: the same ClientToken with different parameters.
    ErrorCode("P10", "IdempotentParameterMismatch", 400,
              "Request uses a client token in a previous request but is not identical to that request."),
    # A9: the shape of a request (decided in docs/semantics.md).
    ErrorCode("A9", "MissingParameter", 400,
              'The input parameter "%s" that is mandatory for processing this request is not supplied.'),
    ErrorCode("A9", "InvalidParameter", 400, 'The specified parameter "%s" is not valid.'),
    ErrorCode("A9", "InvalidTagCount", 400, "The specified tags are beyond the permitted range."),
    ErrorCode("A9", "InvalidAction.NotFound", 404, "Specified api is not found, please check your url and method."),
    # P8: tag keys and values that break the key/value rules.
    ErrorCode("P8", "InvalidTagKey.Malformed", 400, "The specified Tag.n.Key is not valid."),
    ErrorCode("P8", "InvalidTagValue.Malformed", 400, "The specified Tag.n.Value is not valid."),
    # C3: CancelCopyImage.
    ErrorCode("C3", "InvalidRegionId.NotFound", 404, "The specified RegionId does not exist."),
    ErrorCode("C3", "ImageCreatedNotFromCopy", 400, "The specified image is not the target image of a copy action."),
    ErrorCode("C3", "CancelNotSupported", 400, "The specified image coping can not be cancelled."),
    # D3: DeleteImage.
    ErrorCode("D3", "ImageUsingByInstance", 403,
              "The specified image has been used to create instances. You can use the DescribeInstances API "
              "to query these instances, or you can use the force parameter to proceed."),
    ErrorCode("D3", "ImageUseShared", 403,
              "The specified image has been shared to others. You can use the DescribeImageSharePermission API "
              "to query the users who have been shared."),
    ErrorCode("D3", "ImageIsImporting", 403, "The specified Image is importing."),
    ErrorCode("D3", "ImageIsExporting", 403, "The specified Image is exporting. Please cancel task first."),
    # Q1: DescribeImages.
    ErrorCode("Q1", "InvalidImageOwnerAlias.ValueNotSupported", 400,
              "The specified ImageOwnerAlias value is not supported."),
    # N6: RunInstances / ReplaceSystemDisk with an image that is not (yet) usable.
    ErrorCode("N6", "InvalidInstanceId.NotFound", 404, "The specified InstanceId does not exist."),
    ErrorCode("N6", "OperationDenied.ImageNotValid", 403, "%s"),
)

# Per operation, a code may carry another status or message than CopyImage's row.
_BY_ACTION: dict[tuple[str, str], ErrorCode] = {}
CATALOG: dict[str, ErrorCode] = {}
for _row in COPY_IMAGE_ERRORS:
    CATALOG.setdefault(_row.code, _row)
    _BY_ACTION[("CopyImage", _row.code)] = _row
for _row in OTHER_ERRORS:
    CATALOG.setdefault(_row.code, _row)

# The same code as another operation's page words it.
for _row in (
    ErrorCode("C3", "IncorrectImageStatus", 400, "The image is copied finished."),
    ErrorCode("C3", "InvalidImageId.NotFound", 404, "The specified ImageId does not exist."),
):
    _BY_ACTION[("CancelCopyImage", _row.code)] = _row
# D3: the copy-in-progress answer points the caller to CancelCopyImage (SPEC D3).
_BY_ACTION[("DeleteImage", "OperationDenied.ImageCopying")] = ErrorCode(
    "D3", "OperationDenied.ImageCopying", 403,
    "The image is being copied. Call CancelCopyImage to cancel the copy task, then delete the image.")
_BY_ACTION[("DeleteImage", "InvalidRegionId.NotFound")] = CATALOG["InvalidRegionId.NotFound"]
_BY_ACTION[("RunInstances", "IncorrectImageStatus")] = ErrorCode(
    "N6", "IncorrectImageStatus", 400, "The specified Image is not available.")


def error(code: str, action: str = "CopyImage") -> ErrorCode:
    """The catalog row for ``code`` as ``action`` answers it.

    Raises KeyError for a code the catalog does not have: a rule that names
    an unknown code is a bug in the model, caught the first time it runs.
    """
    row = _BY_ACTION.get((action, code))
    if row is not None:
        return row
    return CATALOG[code]
