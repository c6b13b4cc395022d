"""The ECS RPC wire format, independent of the HTTP server.

What the official SDKs send (checked against alibabacloud-tea-openapi 0.4.x,
alibabacloud-ecs20140526 7.x and aliyun-python-sdk-core 2.16):

* ``POST /`` (``GET /`` too) with every API parameter in the query string and an
  empty body; aliyun-python-sdk-core may put parameters in an
  ``application/x-www-form-urlencoded`` body, which is accepted as well.
* The action and version as headers ``x-acs-action`` / ``x-acs-version`` (V3
  signature, the default) or as ``Action`` / ``Version`` parameters (V2 / RPC
  signature; the tea SDK then sends both).
* Lists flattened as ``Tag.1.Key`` / ``Tag.1.Value``; booleans as ``True`` / ``False``.
* Answers are JSON. An error answer has ``RequestId``, ``HostId``, ``Code``,
  ``Message`` and ``Recommend``, with the HTTP status carrying the error class.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, is_dataclass
from enum import Enum
from typing import Any, Mapping
from urllib.parse import parse_qsl

from .errors import GatewayError, missing, new_request_id, recommend_url

__all__ = [
    "API_VERSION",
    "PROTOCOL_PARAMS",
    "decode_pairs",
    "dumps",
    "error_body",
    "jsonable",
    "model_answer",
    "resolve_action",
    "service_params",
]

API_VERSION = "2014-05-26"

# Parameters of the protocol (signature, format, routing), not of the API.
# RegionId is an API parameter and is passed on.
PROTOCOL_PARAMS = frozenset(
    {
        "Action",
        "Version",
        "Format",
        "AccessKeyId",
        "Signature",
        "SignatureMethod",
        "SignatureVersion",
        "SignatureNonce",
        "SignatureType",
        "Timestamp",
        "SecurityToken",
        "BearerToken",
    }
)


def decode_pairs(text: str) -> list[tuple[str, str]]:
    """Decode ``a=1&b=x%20y`` (``+`` is a space) into pairs, blank values kept."""
    if not text:
        return []
    return parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="replace")


def resolve_action(
    params: Mapping[str, str], header_action: str | None, header_version: str | None, *, prefer_headers: bool
) -> tuple[str, str]:
    """The (action, version) of a request, or the gateway's error.

    V3 requests carry them in headers (the signed ones win); RPC requests in
    parameters (the signed ones win there).
    """
    if prefer_headers:
        action = header_action or params.get("Action")
        version = header_version or params.get("Version")
    else:
        action = params.get("Action") or header_action
        version = params.get("Version") or header_version
    if not action:
        raise missing("Action")
    if not version:
        raise missing("Version")
    if version != API_VERSION:
        raise GatewayError("InvalidVersion")
    return action, version


def service_params(params: Mapping[str, str]) -> dict[str, str]:
    """The API's parameters: everything but the protocol's."""
    return {k: v for k, v in params.items() if k not in PROTOCOL_PARAMS}


def error_body(code: str, message: str, request_id: str | None, host_id: str) -> dict[str, Any]:
    rid = request_id or new_request_id()
    return {
        "RequestId": rid,
        "HostId": host_id,
        "Code": code,
        "Message": message,
        "Recommend": recommend_url(code, rid),
    }


def model_answer(answer: Mapping[str, Any], host_id: str) -> tuple[int, dict[str, Any]]:
    """HTTP status and body of the model's answer to ``Cloud.call``.

    The model says the status in ``HttpStatus`` (absent on success); it never
    appears in the body. Error bodies get the gateway's ``HostId`` and
    ``Recommend`` when the model did not give them.
    """
    body = dict(answer)
    status = body.pop("HttpStatus", None)
    try:
        status = int(status) if status is not None else 200
    except (TypeError, ValueError):
        status = 500
    if not 100 <= status <= 599:
        status = 500
    body.setdefault("RequestId", new_request_id())
    if status >= 400:
        ordered = error_body(str(body.get("Code", "InternalError")), str(body.get("Message", "")), body["RequestId"], host_id)
        for key in ("HostId", "Recommend"):
            if key in body:
                ordered[key] = body[key]
        for key, value in body.items():
            ordered.setdefault(key, value)
        body = ordered
    return status, body


def jsonable(value: Any, _depth: int = 0) -> Any:
    """A JSON-ready copy of a model value (dataclasses, enums, sets, mappings...)."""
    if _depth > 64:
        return repr(value)
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else repr(value)
    if isinstance(value, Enum):
        return jsonable(value.value, _depth + 1)
    if is_dataclass(value) and not isinstance(value, type):
        try:
            value = asdict(value)
        except TypeError:
            value = {f: getattr(value, f) for f in getattr(value, "__dataclass_fields__", {})}
    if isinstance(value, tuple) and hasattr(value, "_asdict"):  # a NamedTuple
        value = value._asdict()
    if isinstance(value, Mapping):
        return {str(jsonable(k, _depth + 1)): jsonable(v, _depth + 1) for k, v in value.items()}
    if isinstance(value, (set, frozenset)):
        items = [jsonable(v, _depth + 1) for v in value]
        try:
            return sorted(items)
        except TypeError:
            return items
    if isinstance(value, (list, tuple)):
        return [jsonable(v, _depth + 1) for v in value]
    for attr in ("to_dict", "as_dict"):
        fn = getattr(value, attr, None)
        if callable(fn):
            try:
                return jsonable(fn(), _depth + 1)
            except Exception:  # noqa: BLE001 - best effort for a summary
                break
    return repr(value)


def dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, default=jsonable).encode("utf-8")
