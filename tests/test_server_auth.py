"""Unit tests of the signature verifiers (model.server.auth), no HTTP.

Requests signed by the project's own signer, and, where the SDKs are installed,
by the SDKs' own signing functions, must verify; every tampering must not.
"""

from __future__ import annotations

import time
from urllib.parse import urlencode

import pytest

from model.server.auth import (
    NonceRegistry,
    SignedRequest,
    authenticate,
    canonical_query,
    encode,
    parse_timestamp,
    rpc_string_to_sign,
    sign_rpc,
    sign_v3,
)
from model.server.errors import GatewayError
from model.server.wire import decode_pairs

KEYS = {"AK1": ("secret-1", None), "AKRAM": ("secret-2", "alice")}
HOST = "127.0.0.1:8080"
PARAMS = {
    "RegionId": "cn-hangzhou",
    "ImageId": "m-123",
    "DestinationRegionId": "cn-shanghai",
    "DestinationImageName": "a b/c*~é+",
    "DryRun": "True",
    "Tag.1.Key": "k",
    "Tag.1.Value": "v 1",
}


def _headers(d: dict[str, str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for k, v in d.items():
        out.setdefault(k.lower(), []).append(v)
    return out


def v3_request(params=PARAMS, key="AK1", secret="secret-1", *, nonce=None, date=None, method="POST", mutate=None):
    query, headers = sign_v3(method, HOST, "CopyImage", "2014-05-26", params, key, secret, nonce=nonce, date=date)
    if mutate:
        mutate(headers)
    return SignedRequest(method, "/", decode_pairs(query), _headers(headers), b"")


def rpc_request(params=PARAMS, key="AK1", secret="secret-1", *, nonce=None, timestamp=None, method="POST"):
    query = sign_rpc(method, "CopyImage", "2014-05-26", params, key, secret, nonce=nonce, timestamp=timestamp)
    return SignedRequest(method, "/", decode_pairs(query), {"host": [HOST]}, b"")


def check(req, nonces=None, **kw):
    return authenticate(req, KEYS, nonces if nonces is not None else NonceRegistry(), **kw)


def code_of(req, nonces=None, **kw) -> tuple[str, int]:
    with pytest.raises(GatewayError) as info:
        check(req, nonces, **kw)
    return info.value.code, info.value.status


# ----------------------------------------------------------------- encoding --


def test_encode_is_rfc3986():
    assert encode("a b*~/+é") == "a%20b%2A~%2F%2B%C3%A9"
    assert encode("AZaz09-_.~") == "AZaz09-_.~"


def test_canonical_query_sorts_by_name():
    assert canonical_query([("b", "2"), ("a", "x y"), ("Tag.1.Key", "k")]) == "Tag.1.Key=k&a=x%20y&b=2"


def test_timestamp_parse():
    assert parse_timestamp("1970-01-01T00:00:10Z") == 10
    assert parse_timestamp("2024-02-29T12:00:00.5Z") == pytest.approx(1709208000.5)
    for bad in ("2024-13-01T00:00:00Z", "2024-02-30T00:00:00Z", "yesterday", "2024-01-01 00:00:00", ""):
        with pytest.raises(GatewayError) as info:
            parse_timestamp(bad)
        assert info.value.code == "InvalidTimeStamp.Format"


# ----------------------------------------------------------------- V3 --------


def test_v3_valid_request_gives_identity():
    ident = check(v3_request())
    assert (ident.scheme, ident.access_key_id, ident.caller) == ("ACS3-HMAC-SHA256", "AK1", None)
    assert check(v3_request(key="AKRAM", secret="secret-2")).caller == "alice"


def test_v3_wrong_secret():
    assert code_of(v3_request(secret="wrong")) == ("SignatureDoesNotMatch", 400)


def test_v3_unknown_key():
    assert code_of(v3_request(key="NOPE")) == ("InvalidAccessKeyId.NotFound", 404)


def test_v3_replayed_nonce():
    nonces = NonceRegistry()
    check(v3_request(nonce="n-1"), nonces)
    assert code_of(v3_request(nonce="n-1"), nonces) == ("SignatureNonceUsed", 400)
    # the same nonce under another key is another nonce
    check(v3_request(key="AKRAM", secret="secret-2", nonce="n-1"), nonces)


def test_v3_bad_signature_does_not_burn_the_nonce():
    nonces = NonceRegistry()
    assert code_of(v3_request(secret="wrong", nonce="n-2"), nonces)[0] == "SignatureDoesNotMatch"
    check(v3_request(nonce="n-2"), nonces)


def test_v3_tampered_parameter():
    req = v3_request()
    query = [(k, "m-999" if k == "ImageId" else v) for k, v in req.query]
    tampered = SignedRequest(req.method, req.path, query, req.headers, req.body)
    assert code_of(tampered)[0] == "SignatureDoesNotMatch"


def test_v3_tampered_body():
    req = v3_request()
    tampered = SignedRequest(req.method, req.path, req.query, req.headers, b"ImageId=m-999")
    assert code_of(tampered)[0] == "SignatureDoesNotMatch"


def test_v3_method_is_signed():
    req = v3_request(method="POST")
    assert code_of(SignedRequest("GET", "/", req.query, req.headers))[0] == "SignatureDoesNotMatch"


def test_v3_malformed_authorization():
    def cut(h):
        h["Authorization"] = h["Authorization"].split(",Signature=")[0]

    assert code_of(v3_request(mutate=cut)) == ("IncompleteSignature", 400)

    def garbage(h):
        h["Authorization"] = "nonsense"

    assert code_of(v3_request(mutate=garbage)) == ("IncompleteSignature", 400)


def test_v3_unknown_algorithm():
    def rsa(h):
        h["Authorization"] = h["Authorization"].replace("ACS3-HMAC-SHA256", "ACS3-RSA-SHA256")

    assert code_of(v3_request(mutate=rsa)) == ("InvalidSignatureMethod", 400)


def test_v3_nonce_must_be_signed():
    def unsign_nonce(h):
        h["Authorization"] = h["Authorization"].replace("x-acs-signature-nonce;", "")

    assert code_of(v3_request(mutate=unsign_nonce)) == ("IncompleteSignature", 400)


def test_v3_stale_date():
    old = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 3600))
    assert code_of(v3_request(date=old)) == ("InvalidTimeStamp.Expired", 400)
    assert check(v3_request(date=old), wall_clock=None).access_key_id == "AK1"
    assert code_of(v3_request(date="soon")) == ("InvalidTimeStamp.Format", 400)


def test_v3_missing_nonce():
    def drop(h):
        h["x-acs-signature-nonce"] = ""

    assert code_of(v3_request(mutate=drop))[0] == "MissingSignatureNonce"


# ----------------------------------------------------------------- RPC -------


def test_rpc_valid_request():
    ident = check(rpc_request())
    assert (ident.scheme, ident.access_key_id, ident.caller) == ("HMAC-SHA1", "AK1", None)


def test_rpc_wrong_secret_message_carries_string_to_sign():
    with pytest.raises(GatewayError) as info:
        check(rpc_request(secret="wrong"))
    err = info.value
    assert (err.code, err.status) == ("SignatureDoesNotMatch", 400)
    # aliyun-python-sdk-core compares the text after the first ':' with its own string to sign
    assert err.message.split(":")[1].startswith("POST&%2F&AccessKeyId%3DAK1")


def test_rpc_unknown_key():
    assert code_of(rpc_request(key="NOPE")) == ("InvalidAccessKeyId.NotFound", 404)


def test_rpc_replayed_nonce():
    nonces = NonceRegistry()
    check(rpc_request(nonce="same"), nonces)
    assert code_of(rpc_request(nonce="same"), nonces) == ("SignatureNonceUsed", 400)


def test_rpc_missing_signature():
    req = rpc_request()
    unsigned = SignedRequest(req.method, "/", [(k, v) for k, v in req.query if k != "Signature"], req.headers)
    assert code_of(unsigned) == ("MissingSignature", 400)


def test_rpc_missing_fields():
    req = rpc_request()
    for field, code in (("AccessKeyId", "MissingAccessKeyId"), ("Timestamp", "MissingTimestamp"),
                        ("SignatureNonce", "MissingSignatureNonce")):
        q = [(k, v) for k, v in req.query if k != field]
        assert code_of(SignedRequest("POST", "/", q, req.headers))[0] == code


def test_rpc_signature_method():
    req = rpc_request()
    q = [(k, "SHA256withRSA" if k == "SignatureMethod" else v) for k, v in req.query]
    assert code_of(SignedRequest("POST", "/", q, req.headers)) == ("InvalidSignatureMethod", 400)


def test_rpc_form_body_parameters_are_signed():
    # aliyun-python-sdk-core may send parameters in a form body: they are part of the signature
    query = sign_rpc("POST", "CopyImage", "2014-05-26", PARAMS, "AK1", "secret-1")
    pairs = decode_pairs(query)
    body_keys = {"ImageId", "DestinationImageName"}
    form = [(k, v) for k, v in pairs if k in body_keys]
    q = [(k, v) for k, v in pairs if k not in body_keys]
    req = SignedRequest("POST", "/", q, {}, urlencode(form).encode(), form)
    assert check(req).access_key_id == "AK1"
    forged = [(k, "m-999" if k == "ImageId" else v) for k, v in form]
    assert code_of(SignedRequest("POST", "/", q, {}, b"", forged))[0] == "SignatureDoesNotMatch"


def test_rpc_stale_timestamp():
    assert code_of(rpc_request(timestamp="2001-01-01T00:00:00Z")) == ("InvalidTimeStamp.Expired", 400)


# ----------------------------------------------------------------- nonces ----


def test_nonce_registry_forgets_after_retention():
    now = [1000.0]
    reg = NonceRegistry(retention=60, clock=lambda: now[0])
    assert reg.use("AK", "a")
    assert not reg.use("AK", "a")
    now[0] += 61
    assert reg.use("AK", "b")  # prunes "a"
    assert len(reg) == 1
    assert reg.use("AK", "a")


# ------------------------------------------------ the SDKs' own signers -------


def test_v3_verifies_the_tea_sdk_signature():
    pytest.importorskip("alibabacloud_tea_openapi")
    from alibabacloud_tea_openapi.utils import Utils
    from darabonba.request import DaraRequest

    req = DaraRequest()
    req.method = "POST"
    req.pathname = "/"
    req.query = dict(PARAMS)
    req.headers = {
        "host": HOST,
        "x-acs-version": "2014-05-26",
        "x-acs-action": "CopyImage",
        "user-agent": "test",
        "x-acs-date": Utils.get_timestamp(),
        "x-acs-signature-nonce": Utils.get_nonce(),
        "accept": "application/json",
        "x-acs-content-sha256": Utils.hash(b"", "ACS3-HMAC-SHA256").hex(),
    }
    req.headers["Authorization"] = Utils.get_authorization(
        req, "ACS3-HMAC-SHA256", req.headers["x-acs-content-sha256"], "AK1", "secret-1"
    )
    wire_query = decode_pairs(urlencode(req.query))  # what goes on the wire, decoded again
    signed = SignedRequest("POST", "/", wire_query, _headers(req.headers), b"")
    assert check(signed).access_key_id == "AK1"


def test_rpc_verifies_the_tea_sdk_signature():
    pytest.importorskip("alibabacloud_tea_openapi")
    from alibabacloud_tea_openapi.utils import Utils

    params = dict(PARAMS, Action="CopyImage", Version="2014-05-26", Format="json",
                  Timestamp=Utils.get_timestamp(), SignatureNonce=Utils.get_nonce(),
                  SignatureMethod="HMAC-SHA1", SignatureVersion="1.0", AccessKeyId="AK1")
    params["Signature"] = Utils.get_rpcsignature(dict(params), "POST", "secret-1")
    req = SignedRequest("POST", "/", decode_pairs(urlencode(params)), {}, b"")
    assert check(req).scheme == "HMAC-SHA1"


def test_rpc_string_to_sign_equals_aliyunsdkcore():
    pytest.importorskip("aliyunsdkcore")
    from aliyunsdkcore.auth.composer import rpc_signature_composer as composer

    params = dict(PARAMS, Action="CopyImage", Version="2014-05-26")
    url, sdk_sts = composer.get_signed_url(dict(params), "AK1", "secret-1", "JSON", "POST", {})
    pairs = decode_pairs(url.split("?", 1)[1])
    assert rpc_string_to_sign("POST", dict(pairs)) == sdk_sts
    assert check(SignedRequest("POST", "/", pairs, {}, b"")).access_key_id == "AK1"
