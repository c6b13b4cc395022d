"""The gateway's own error answers: the ones ECS's API gateway gives before a
request reaches the service (authentication, API resolution).

Each entry is (HTTP status, message). Sources, as quoted by Alibaba Cloud's
documentation and by answers of the real service recorded in public issues:

* ``InvalidAccessKeyId.NotFound`` 404, ``SignatureNonceUsed`` 400,
  ``SignatureDoesNotMatch`` 400, ``InvalidTimeStamp.Format`` 400,
  ``InvalidTimeStamp.Expired`` 400 (15 minutes), ``InvalidSignatureMethod`` 400,
  ``Missing{ParameterName}`` 400 ("{ParameterName} is mandatory for this
  action."), ``Invalid{ParameterName}`` 400: the POP gateway's table of common
  client errors ("管控OpenAPI的客户端公用错误码", developer.aliyun.com/ask/278265).
* ``MissingSignature`` 400 "Signature is mandatory for this action.": a real
  answer quoted in starsunyzl/ddns-scripts-alibabacloud#3.
* ``SignatureDoesNotMatch`` message with "server string to sign is:" (RPC) and
  "server StringToSign is [...]" (V3): real answers quoted in dromara/SMS4J#34,
  NewFuture/DDNS#57 and aliyun/alibabacloud-csharp-sdk#40. aliyun-python-sdk-core
  itself parses the text after the first ':' of this message
  (``AcsClient._get_server_exception``), so the format matters.
* ``IncompleteSignature`` 400 "The request signature does not conform to Aliyun
  standards.": help.aliyun.com/document_detail/51132 (client error codes) and a
  real ECS answer quoted in fog/fog-aliyun#32.
* ``InvalidVersion`` 400 "Specified parameter Version is not valid.": a real
  answer of ecs.aliyuncs.com quoted in aliyun/aliyun-openapi-java-sdk#23.
* ``UnsupportedHTTPMethod`` 403 "This http method not supported.":
  help.aliyun.com/document_detail/51132.
"""

from __future__ import annotations

import uuid

__all__ = ["GatewayError", "missing", "new_request_id", "recommend_url"]

_CATALOG: dict[str, tuple[int, str]] = {
    "InvalidAccessKeyId.NotFound": (404, "Specified access key is not found."),
    "SignatureDoesNotMatch": (400, "Specified signature is not matched with our calculation."),
    "SignatureNonceUsed": (400, "Specified signature nonce was used already."),
    "IncompleteSignature": (400, "The request signature does not conform to Aliyun standards."),
    "InvalidSignatureMethod": (400, "Specified signature method is not valid."),
    "InvalidTimeStamp.Format": (400, "Specified time stamp or date value is not well formatted."),
    "InvalidTimeStamp.Expired": (400, "Specified time stamp or date value is expired."),
    "InvalidVersion": (400, "Specified parameter Version is not valid."),
    "UnsupportedHTTPMethod": (403, "This http method not supported."),
}


class GatewayError(Exception):
    """An answer the gateway gives instead of calling the service."""

    def __init__(self, code: str, message: str | None = None, status: int | None = None):
        default_status, default_message = _CATALOG.get(code, (400, code))
        self.code = code
        self.message = message if message is not None else default_message
        self.status = status if status is not None else default_status
        super().__init__(f"{self.code}: {self.message}")


def missing(parameter: str) -> GatewayError:
    """The gateway's ``Missing{ParameterName}`` answer."""
    return GatewayError(f"Missing{parameter}", f"{parameter} is mandatory for this action.", 400)


def new_request_id() -> str:
    """A request id in the service's shape (an upper-case UUID)."""
    return str(uuid.uuid4()).upper()


def recommend_url(code: str, request_id: str) -> str:
    return f"https://api.aliyun.com/troubleshoot?q={code}&product=Ecs&requestId={request_id}"
