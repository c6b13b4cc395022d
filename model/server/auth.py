"""Request authentication: the two signatures ECS's gateway accepts.

* V3, ``ACS3-HMAC-SHA256``: an ``Authorization`` header
  ``ACS3-HMAC-SHA256 Credential=<AccessKeyId>,SignedHeaders=<h1;h2...>,Signature=<hex>``.
  The signature is HMAC-SHA256(secret, "ACS3-HMAC-SHA256\\n" + hex(SHA256(canonical request)))
  where the canonical request is::

      METHOD \\n CanonicalURI \\n CanonicalQueryString \\n CanonicalHeaders \\n SignedHeaders \\n hex(SHA256(body))

  CanonicalQueryString: every query parameter, decoded, sorted by name, name and
  value re-encoded by RFC 3986 (space as ``%20``, ``~`` kept), ``name=value``
  joined with ``&``. CanonicalHeaders: for each signed header (lower-case, sorted),
  ``name:trimmed value\\n``. This is the default of alibabacloud-tea-openapi
  (``Utils.get_authorization``) and alibabacloud-ecs20140526.

* V2 ("RPC"), ``HMAC-SHA1``: a ``Signature`` query parameter, base64 of
  HMAC-SHA1(secret + "&", METHOD + "&%2F&" + percent-encode(CanonicalizedQueryString))
  where CanonicalizedQueryString is every parameter but ``Signature`` (query and
  form body), sorted by name and RFC 3986-encoded as above. This is what the
  tea SDK does with ``signature_algorithm='v2'`` and what aliyun-python-sdk-core
  does (``rpc_signature_composer``).

The verifier takes a :class:`SignedRequest` (decoded parameters, headers, body)
and either returns the :class:`Identity` of the caller or raises
:class:`~model.server.errors.GatewayError` with the service's code. Replayed
nonces are refused by :class:`NonceRegistry`, which only records the nonce of a
request whose signature verified.

The module also has the client half (:func:`sign_v3`, :func:`sign_rpc`), used
by the project's own small client (load tests, benchmark) and by the tests.
"""

from __future__ import annotations

import base64
import calendar
import hashlib
import hmac
import re
import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Callable, Iterable, Mapping, Sequence
from urllib.parse import quote

from .errors import GatewayError, missing

__all__ = [
    "Identity",
    "NonceRegistry",
    "SignedRequest",
    "TIMESTAMP_TOLERANCE",
    "V3_ALGORITHM",
    "authenticate",
    "canonical_query",
    "encode",
    "rpc_string_to_sign",
    "sign_rpc",
    "sign_v3",
    "v3_canonical_request",
]

V3_ALGORITHM = "ACS3-HMAC-SHA256"
RPC_SIGNATURE_METHOD = "HMAC-SHA1"
# The gateway refuses a Timestamp / x-acs-date more than 15 minutes from its own clock.
TIMESTAMP_TOLERANCE = 15 * 60

# Headers that must be covered by a V3 signature whenever the request carries them:
# without this a replay could swap the nonce, the date or the action.
_V3_MUST_SIGN = (
    "host",
    "x-acs-action",
    "x-acs-version",
    "x-acs-date",
    "x-acs-signature-nonce",
    "x-acs-content-sha256",
)

_HASHES: dict[str, Callable[[bytes], "hashlib._Hash"]] = {V3_ALGORITHM: hashlib.sha256}
if "sm3" in hashlib.algorithms_available:  # OpenSSL builds with SM3 support
    try:
        hashlib.new("sm3", b"")
        _HASHES["ACS3-HMAC-SM3"] = lambda data=b"": hashlib.new("sm3", data)
    except ValueError:  # pragma: no cover - listed but unusable
        pass


def encode(text: str) -> str:
    """RFC 3986 percent-encoding of UTF-8 text: only ``A-Za-z0-9-_.~`` stay literal."""
    return quote(text, safe="~", encoding="utf-8")


def canonical_query(pairs: Iterable[tuple[str, str]]) -> str:
    """Sorted ``name=value`` pairs, both encoded, joined with ``&``."""
    items = sorted(pairs, key=lambda kv: (kv[0], kv[1]))
    return "&".join(f"{encode(k)}={encode(v)}" for k, v in items)


@dataclass(frozen=True)
class SignedRequest:
    """What the verifier needs of an HTTP request, already decoded.

    ``query`` are the decoded query-string pairs in order, ``form`` the decoded
    pairs of an ``application/x-www-form-urlencoded`` body (empty otherwise),
    ``headers`` maps a lower-case header name to its values.
    """

    method: str
    path: str
    query: Sequence[tuple[str, str]]
    headers: Mapping[str, Sequence[str]]
    body: bytes = b""
    form: Sequence[tuple[str, str]] = ()

    def header(self, name: str) -> str | None:
        values = self.headers.get(name.lower())
        return values[0] if values else None

    def query_value(self, name: str) -> str | None:
        for k, v in self.query:
            if k == name:
                return v
        return None

    def rpc_params(self) -> dict[str, str]:
        """Query and form parameters as one mapping (first occurrence wins)."""
        out: dict[str, str] = {}
        for k, v in list(self.query) + list(self.form):
            out.setdefault(k, v)
        return out


@dataclass(frozen=True)
class Identity:
    """Who signed a request."""

    scheme: str  # "ACS3-HMAC-SHA256" or "HMAC-SHA1"
    access_key_id: str
    caller: str | None
    nonce: str
    timestamp: float = field(default=0.0, compare=False)


KeyLookup = Callable[[str], "tuple[str, str | None] | None"]


class NonceRegistry:
    """Nonces already used, per AccessKeyId. Thread-safe.

    A nonce is kept for twice the timestamp tolerance after it was seen: an older
    replay is refused by its expired timestamp anyway. With ``retention=None``
    nonces are kept for the life of the registry.
    """

    def __init__(self, retention: float | None = 2 * TIMESTAMP_TOLERANCE, clock: Callable[[], float] = time.time):
        self._seen: "OrderedDict[tuple[str, str], float]" = OrderedDict()
        self._retention = retention
        self._clock = clock
        self._lock = threading.Lock()

    def use(self, access_key_id: str, nonce: str) -> bool:
        """Record the nonce; False if it was already used with this key."""
        now = self._clock()
        with self._lock:
            self._prune(now)
            key = (access_key_id, nonce)
            if key in self._seen:
                return False
            self._seen[key] = now
            return True

    def clear(self) -> None:
        with self._lock:
            self._seen.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._seen)

    def _prune(self, now: float) -> None:
        if self._retention is None:
            return
        horizon = now - self._retention
        while self._seen:
            key, seen_at = next(iter(self._seen.items()))
            if seen_at >= horizon:
                break
            self._seen.popitem(last=False)


_TS = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?Z$")


def parse_timestamp(text: str) -> float:
    """Seconds since the epoch of an ISO 8601 UTC time ``YYYY-MM-DDThh:mm:ss[.fff]Z``."""
    m = _TS.match(text.strip())
    if not m:
        raise GatewayError("InvalidTimeStamp.Format")
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    try:
        t = time.struct_time((year, month, day, hour, minute, second, 0, 0, 0))
        seconds = calendar.timegm(t)
        # timegm accepts out-of-range fields (month 13): round-trip to reject them
        if time.gmtime(seconds)[:6] != (year, month, day, hour, minute, second):
            raise ValueError
    except (ValueError, OverflowError):
        raise GatewayError("InvalidTimeStamp.Format") from None
    return seconds + (float(m.group(7)) if m.group(7) else 0.0)


def _check_timestamp(text: str | None, name: str, wall: float | None) -> float:
    if text is None or text == "":
        raise GatewayError("MissingTimestamp", f"{name} is mandatory for this action.", 400)
    seconds = parse_timestamp(text)
    if wall is not None and abs(seconds - wall) > TIMESTAMP_TOLERANCE:
        raise GatewayError("InvalidTimeStamp.Expired")
    return seconds


def _lookup(keys: KeyLookup, access_key_id: str) -> tuple[str, str | None]:
    found = keys(access_key_id)
    if found is None:
        raise GatewayError("InvalidAccessKeyId.NotFound")
    return found


# ---------------------------------------------------------------- V3 ----------


def _parse_authorization(value: str) -> tuple[str, str, list[str], str]:
    algorithm, _, rest = value.strip().partition(" ")
    fields: dict[str, str] = {}
    for part in rest.split(","):
        name, sep, val = part.strip().partition("=")
        if sep:
            fields[name.strip()] = val.strip()
    credential = fields.get("Credential", "")
    signed = fields.get("SignedHeaders", "")
    signature = fields.get("Signature", "")
    if not algorithm or not credential or not signed or not signature:
        raise GatewayError("IncompleteSignature")
    headers = [h.strip().lower() for h in signed.split(";") if h.strip()]
    return algorithm, credential, headers, signature


def v3_canonical_request(req: SignedRequest, signed_headers: Sequence[str], payload_hash: str) -> str:
    canonical_headers = ""
    for name in signed_headers:
        values = sorted(v.strip() for v in req.headers.get(name, ()))
        canonical_headers += f"{name}:{','.join(values)}\n"
    return "\n".join(
        [
            req.method.upper(),
            req.path or "/",
            canonical_query(req.query),
            canonical_headers,
            ";".join(signed_headers),
            payload_hash,
        ]
    )


def _v3_string_to_sign(algorithm: str, canonical_request: str) -> str:
    digest = _HASHES[algorithm](canonical_request.encode("utf-8")).hexdigest()
    return f"{algorithm}\n{digest}"


def _v3_signature(algorithm: str, secret: str, string_to_sign: str) -> str:
    digestmod = hashlib.sha256 if algorithm == V3_ALGORITHM else (lambda d=b"": hashlib.new("sm3", d))
    return hmac.new(secret.encode("utf-8"), string_to_sign.encode("utf-8"), digestmod).hexdigest()


def _verify_v3(req: SignedRequest, authorization: str, keys: KeyLookup, wall: float | None) -> Identity:
    algorithm, access_key_id, signed_headers, signature = _parse_authorization(authorization)
    if algorithm not in _HASHES:
        raise GatewayError("InvalidSignatureMethod")
    for name in _V3_MUST_SIGN:
        if name in req.headers and name not in signed_headers:
            raise GatewayError("IncompleteSignature")
    secret, caller = _lookup(keys, access_key_id)
    stamp = _check_timestamp(req.header("x-acs-date"), "x-acs-date", wall)
    nonce = req.header("x-acs-signature-nonce")
    if not nonce:
        raise missing("SignatureNonce")
    payload_hash = _HASHES[algorithm](req.body).hexdigest()
    string_to_sign = _v3_string_to_sign(algorithm, v3_canonical_request(req, signed_headers, payload_hash))
    expected = _v3_signature(algorithm, secret, string_to_sign)
    if not hmac.compare_digest(expected, signature.lower()):
        raise GatewayError(
            "SignatureDoesNotMatch",
            f"Specified signature does not match our calculation. server StringToSign is [{string_to_sign}]",
        )
    return Identity(algorithm, access_key_id, caller, nonce, stamp)


# ---------------------------------------------------------------- RPC ---------


def rpc_string_to_sign(method: str, params: Mapping[str, str]) -> str:
    pairs = [(k, v) for k, v in params.items() if k != "Signature"]
    return f"{method.upper()}&%2F&{encode(canonical_query(pairs))}"


def _rpc_signature(secret: str, string_to_sign: str) -> str:
    digest = hmac.new((secret + "&").encode("utf-8"), string_to_sign.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def _verify_rpc(req: SignedRequest, keys: KeyLookup, wall: float | None) -> Identity:
    params = req.rpc_params()
    signature = params.get("Signature")
    if not signature:
        raise missing("Signature")
    access_key_id = params.get("AccessKeyId")
    if not access_key_id:
        raise missing("AccessKeyId")
    method = params.get("SignatureMethod") or RPC_SIGNATURE_METHOD
    if method != RPC_SIGNATURE_METHOD:
        raise GatewayError("InvalidSignatureMethod")
    stamp = _check_timestamp(params.get("Timestamp"), "Timestamp", wall)
    nonce = params.get("SignatureNonce")
    if not nonce:
        raise missing("SignatureNonce")
    secret, caller = _lookup(keys, access_key_id)
    string_to_sign = rpc_string_to_sign(req.method, params)
    if not hmac.compare_digest(_rpc_signature(secret, string_to_sign).encode(), signature.encode()):
        raise GatewayError(
            "SignatureDoesNotMatch",
            f"Specified signature is not matched with our calculation. server string to sign is:{string_to_sign}",
        )
    return Identity(RPC_SIGNATURE_METHOD, access_key_id, caller, nonce, stamp)


# ---------------------------------------------------------------- entry -------


def authenticate(
    req: SignedRequest,
    keys: KeyLookup | Mapping[str, "tuple[str, str | None]"],
    nonces: NonceRegistry,
    *,
    wall_clock: Callable[[], float] | None = time.time,
) -> Identity:
    """Verify the request's signature and nonce, or raise :class:`GatewayError`.

    ``keys`` maps an AccessKeyId to ``(AccessKeySecret, caller)``.
    ``wall_clock=None`` turns the timestamp freshness check off (the format is
    still checked). A request with an ``Authorization`` header is a V3 request;
    otherwise it must carry the RPC ``Signature`` parameter.
    """
    lookup: KeyLookup = keys.get if isinstance(keys, Mapping) else keys  # type: ignore[assignment]
    wall = wall_clock() if wall_clock is not None else None
    authorization = req.header("authorization")
    if authorization:
        identity = _verify_v3(req, authorization, lookup, wall)
    else:
        identity = _verify_rpc(req, lookup, wall)
    if not nonces.use(identity.access_key_id, identity.nonce):
        raise GatewayError("SignatureNonceUsed")
    return identity


# ---------------------------------------------------------------- client ------


def _utc_now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def sign_v3(
    method: str,
    host: str,
    action: str,
    version: str,
    params: Mapping[str, str],
    access_key_id: str,
    secret: str,
    *,
    nonce: str | None = None,
    date: str | None = None,
    body: bytes = b"",
) -> tuple[str, dict[str, str]]:
    """Sign an RPC-style call the V3 way; returns (query string, headers)."""
    headers = {
        "host": host,
        "x-acs-action": action,
        "x-acs-version": version,
        "x-acs-date": date or _utc_now(),
        "x-acs-signature-nonce": nonce or uuid.uuid4().hex,
        "x-acs-content-sha256": hashlib.sha256(body).hexdigest(),
    }
    signed = sorted(headers)
    req = SignedRequest(method, "/", list(params.items()), {k: [v] for k, v in headers.items()}, body)
    sts = _v3_string_to_sign(V3_ALGORITHM, v3_canonical_request(req, signed, headers["x-acs-content-sha256"]))
    signature = _v3_signature(V3_ALGORITHM, secret, sts)
    headers["Authorization"] = (
        f"{V3_ALGORITHM} Credential={access_key_id},SignedHeaders={';'.join(signed)},Signature={signature}"
    )
    return canonical_query(params.items()), headers


def sign_rpc(
    method: str,
    action: str,
    version: str,
    params: Mapping[str, str],
    access_key_id: str,
    secret: str,
    *,
    nonce: str | None = None,
    timestamp: str | None = None,
) -> str:
    """Sign a call the V2 (HMAC-SHA1) way; returns the full query string."""
    signed = dict(params)
    signed.update(
        {
            "Action": action,
            "Version": version,
            "Format": "JSON",
            "AccessKeyId": access_key_id,
            "SignatureMethod": RPC_SIGNATURE_METHOD,
            "SignatureVersion": "1.0",
            "SignatureNonce": nonce or uuid.uuid4().hex,
            "Timestamp": timestamp or _utc_now(),
        }
    )
    signed["Signature"] = _rpc_signature(secret, rpc_string_to_sign(method, signed))
    return canonical_query(signed.items())
