"""From the API's parameters (as a dict) to a typed request, or the API's answer to a malformed one.

``parse(action, params, caller)`` never raises. It decides only the *shape*
of a request (A9): which parameters are required, that booleans are booleans,
that numbers are numbers, how many tags there are. What the values *mean*
(a name's format, a duplicate tag key, an unknown region) is decided by the
operation's rules in the order A7 fixes, so every rule stays in one place.

Tags arrive either as ``Tag=[{"Key": ..., "Value": ...}]`` or flattened as
``Tag.1.Key``/``Tag.1.Value`` (the wire form); booleans as bool or the strings
``true``/``false`` in any case (the official SDK sends ``True``/``False``).
Unknown parameters are ignored, as the service ignores them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping

from .errors import Refusal, error

__all__ = [
    "Request", "BadRequest", "CopyImageRequest", "CancelCopyImageRequest", "DeleteImageRequest",
    "DescribeImagesRequest", "DescribeRegionsRequest", "RunInstancesRequest", "ReplaceSystemDiskRequest",
    "ACTIONS", "parse", "MAX_TAGS",
]

MAX_TAGS = 20  # P8


@dataclass(frozen=True, slots=True)
class Request:
    """Common to every request: who calls (a RAM user name, or None for the account itself)."""

    caller: str | None


@dataclass(frozen=True, slots=True)
class BadRequest:
    """A request that failed A9 shape checks; ``step`` answers it with ``refusal`` and changes nothing."""

    action: str
    refusal: Refusal
    caller: str | None = None


@dataclass(frozen=True, slots=True)
class CopyImageRequest(Request):
    region_id: str
    image_id: str
    destination_region_id: str | None = None
    destination_image_name: str | None = None
    destination_description: str | None = None
    encrypted: bool | None = None  # None: not given (A6 tells the two absent readings apart)
    kms_key_id: str | None = None
    encrypt_algorithm: str | None = None
    resource_group_id: str | None = None
    tags: tuple[tuple[str, str], ...] = ()
    dry_run: bool = False
    client_token: str | None = None

    @property
    def key(self) -> tuple:
        """What a ClientToken retry must repeat to be the same request (P10)."""
        return (self.region_id, self.image_id, self.destination_region_id, self.destination_image_name,
                self.destination_description, self.encrypted, self.kms_key_id, self.encrypt_algorithm,
                self.resource_group_id, self.tags)


@dataclass(frozen=True, slots=True)
class CancelCopyImageRequest(Request):
    region_id: str
    image_id: str


@dataclass(frozen=True, slots=True)
class DeleteImageRequest(Request):
    region_id: str
    image_id: str
    force: bool = False
    dry_run: bool = False


@dataclass(frozen=True, slots=True)
class DescribeImagesRequest(Request):
    region_id: str
    image_ids: tuple[str, ...] | None = None
    image_name: str | None = None
    statuses: tuple[str, ...] | None = None  # None: Q1's default, Available only
    owner_alias: str | None = None
    page_number: int = 1
    page_size: int = 10
    dry_run: bool = False


@dataclass(frozen=True, slots=True)
class DescribeRegionsRequest(Request):
    pass


@dataclass(frozen=True, slots=True)
class RunInstancesRequest(Request):
    region_id: str
    image_id: str
    amount: int = 1
    instance_type: str = "ecs.g7.large"
    dry_run: bool = False


@dataclass(frozen=True, slots=True)
class ReplaceSystemDiskRequest(Request):
    instance_id: str
    image_id: str


class _Shape(Exception):
    def __init__(self, refusal: Refusal) -> None:
        self.refusal = refusal


_TAG_FLAT = re.compile(r"^Tag\.(\d+)\.(Key|Value)$")
_TRUE = {"true"}
_FALSE = {"false"}


def _text(value: Any) -> str | None:
    """A scalar parameter as the text the API sees, or None when it is not one (bool, list, None...)."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return None
    try:
        return str(value)
    except ValueError:  # an int with more digits than Python will print (sys.get_int_max_str_digits)
        return None


class _Params:
    """Typed reads from the raw parameters, raising _Shape with the API's answer."""

    def __init__(self, action: str, raw: Mapping[str, Any]) -> None:
        self.action = action
        self.raw = raw

    def _fail(self, code: str, *args: object) -> _Shape:
        return _Shape(error(code, self.action).answer(*args))

    def str(self, name: str, required: bool = False) -> str | None:
        value = self.raw.get(name)
        if value is None or value == "":
            if required:
                raise self._fail("MissingParameter", name)
            return None
        text = _text(value)
        if text is None:
            raise self._fail("InvalidParameter", name)
        return text

    def bool(self, name: str) -> bool | None:
        value = self.raw.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, bool):
            return value
        if isinstance(value, str):
            low = value.strip().lower()
            if low in _TRUE:
                return True
            if low in _FALSE:
                return False
        raise self._fail("InvalidParameter", name)

    def int(self, name: str, default: int, low: int, high: int) -> int:
        value = self.raw.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            raise self._fail("InvalidParameter", name)
        try:
            number = int(value) if not isinstance(value, float) or value.is_integer() else None
        except (TypeError, ValueError):
            number = None
        if number is None or not low <= number <= high:
            raise self._fail("InvalidParameter", name)
        return number

    def tags(self) -> tuple[tuple[str, str], ...]:
        """Tags from ``Tag`` (a list of {Key, Value}) and/or ``Tag.N.Key``/``Tag.N.Value``."""
        by_index: dict[int, dict[str, Any]] = {}
        listed = self.raw.get("Tag")
        if listed is not None:
            if isinstance(listed, Mapping):
                listed = [listed]
            if not isinstance(listed, (list, tuple)):
                raise self._fail("InvalidParameter", "Tag")
            for i, item in enumerate(listed, 1):
                if not isinstance(item, Mapping):
                    raise self._fail("InvalidParameter", f"Tag.{i}")
                by_index[i] = {"Key": item.get("Key"), "Value": item.get("Value")}
        for name, value in self.raw.items():
            m = _TAG_FLAT.match(name) if isinstance(name, str) else None
            if m:
                n = int(m.group(1))
                if n < 1:
                    raise self._fail("InvalidParameter", name)
                by_index.setdefault(n, {})[m.group(2)] = value
        if len(by_index) > MAX_TAGS or any(n > MAX_TAGS for n in by_index):
            raise self._fail("InvalidTagCount")
        tags = []
        for n in sorted(by_index):
            key, value = _text(by_index[n].get("Key")), by_index[n].get("Value")
            if key is None:
                raise self._fail("InvalidTagKey.Malformed")
            value = "" if value is None else _text(value)
            if value is None:
                raise self._fail("InvalidTagValue.Malformed")
            tags.append((key, value))
        return tuple(tags)


def _copy_image(p: _Params, caller: str | None) -> CopyImageRequest:
    region_id = p.str("RegionId", required=True)
    image_id = p.str("ImageId", required=True)
    token = p.str("ClientToken")
    if token is not None and (len(token) > 64 or not token.isascii()):
        raise p._fail("InvalidParameter", "ClientToken")  # P10: at most 64 ASCII characters
    return CopyImageRequest(
        caller=caller,
        region_id=region_id,  # type: ignore[arg-type]
        image_id=image_id,  # type: ignore[arg-type]
        destination_region_id=p.str("DestinationRegionId"),
        destination_image_name=p.str("DestinationImageName"),
        destination_description=p.str("DestinationDescription"),
        encrypted=p.bool("Encrypted"),
        kms_key_id=p.str("KMSKeyId"),
        encrypt_algorithm=p.str("EncryptAlgorithm"),
        resource_group_id=p.str("ResourceGroupId"),
        tags=p.tags(),
        dry_run=bool(p.bool("DryRun")),
        client_token=token,
    )


def _cancel(p: _Params, caller: str | None) -> CancelCopyImageRequest:
    return CancelCopyImageRequest(caller, p.str("RegionId", True), p.str("ImageId", True))  # type: ignore[arg-type]


def _delete(p: _Params, caller: str | None) -> DeleteImageRequest:
    return DeleteImageRequest(caller, p.str("RegionId", True), p.str("ImageId", True),  # type: ignore[arg-type]
                              bool(p.bool("Force")), bool(p.bool("DryRun")))


def _split(value: str | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    parts = tuple(v.strip() for v in value.split(",") if v.strip())
    return parts or None


def _describe_images(p: _Params, caller: str | None) -> DescribeImagesRequest:
    return DescribeImagesRequest(
        caller=caller,
        region_id=p.str("RegionId", True),  # type: ignore[arg-type]
        image_ids=_split(p.str("ImageId")),
        image_name=p.str("ImageName"),
        statuses=_split(p.str("Status")),
        owner_alias=p.str("ImageOwnerAlias"),
        page_number=p.int("PageNumber", 1, 1, 10**9),
        page_size=p.int("PageSize", 10, 1, 100),
        dry_run=bool(p.bool("DryRun")),
    )


def _describe_regions(p: _Params, caller: str | None) -> DescribeRegionsRequest:
    return DescribeRegionsRequest(caller)


def _run_instances(p: _Params, caller: str | None) -> RunInstancesRequest:
    return RunInstancesRequest(caller, p.str("RegionId", True), p.str("ImageId", True),  # type: ignore[arg-type]
                               p.int("Amount", 1, 1, 100), p.str("InstanceType") or "ecs.g7.large",
                               bool(p.bool("DryRun")))


def _replace_system_disk(p: _Params, caller: str | None) -> ReplaceSystemDiskRequest:
    return ReplaceSystemDiskRequest(caller, p.str("InstanceId", True), p.str("ImageId", True))  # type: ignore[arg-type]


_PARSERS = {
    "CopyImage": _copy_image,
    "CancelCopyImage": _cancel,
    "DeleteImage": _delete,
    "DescribeImages": _describe_images,
    "DescribeRegions": _describe_regions,
    "RunInstances": _run_instances,
    "ReplaceSystemDisk": _replace_system_disk,
}
ACTIONS: tuple[str, ...] = tuple(_PARSERS)


def parse(action: object, params: object, caller: str | None = None) -> Request | BadRequest:
    """The typed request for ``action`` with ``params``, or a BadRequest carrying the API's answer."""
    name = action if isinstance(action, str) else repr(action)
    parser = _PARSERS.get(name) if isinstance(action, str) else None
    if parser is None:
        return BadRequest(name, error("InvalidAction.NotFound").answer(), caller)
    if not isinstance(params, Mapping):
        return BadRequest(name, error("InvalidParameter", name).answer("Parameters"), caller)
    try:
        return parser(_Params(name, params), caller)
    except _Shape as shape:
        return BadRequest(name, shape.refusal, caller)
