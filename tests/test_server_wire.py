"""The HTTP server over a fake cloud: wire format, admin endpoints, clocks,
trace file, atomicity. No SDK needed (the project's own client signs)."""

from __future__ import annotations

import http.client
import io
import json
import threading
import urllib.error
import urllib.request

import pytest

from model.server import EcsClient, ManualClock, Server, WallClock
from model.server.app import _is_loopback
from model.server.auth import sign_v3
from model.server.clock import make_clock

KEY, SECRET = "AKTEST", "secret"


class FakeCloud:
    """Just enough of the model contract: records calls, answers from a script."""

    def __init__(self):
        self.now = 0.0
        self.calls: list[tuple[str, dict, str | None]] = []
        self.trace: list[dict] = []
        self.world = {"images": ("m-1", "m-2"), "regions": frozenset({"cn-hangzhou"})}
        self.resets = 0
        self.counter = 0
        self.in_call = False

    def access_keys(self):
        return {KEY: (SECRET, None), "AKRAM": ("ram-secret", "bob")}

    def call(self, action, params, *, caller=None):
        assert not self.in_call, "two requests applied at once"
        self.in_call = True
        try:
            self.calls.append((action, dict(params), caller))
            self.trace.append({"kind": "request", "action": action})
            self.counter += 1
            n = self.counter
            if action == "DeleteImage":
                answer = {"Code": "OperationDenied.ImageCopying", "Message": "busy", "HttpStatus": 403, "RequestId": f"R{n}"}
            elif action == "Boom":
                raise RuntimeError("model bug")
            elif action == "Unknown":
                answer = {"Code": "InvalidAction.NotFound", "Message": "no", "HttpStatus": 404, "RequestId": f"R{n}"}
            else:
                answer = {"RequestId": f"R{n}", "Counter": n, "Now": self.now}
            self.trace.append({"kind": "response", "action": action})
            return answer
        finally:
            self.in_call = False

    def advance(self, seconds):
        self.now += seconds
        self.trace.append({"kind": "event", "what": "tick", "time": self.now})

    def run_until_idle(self):
        self.now += 1000
        self.trace.append({"kind": "event", "what": "idle", "time": self.now})

    def reset(self):
        self.now = 0.0
        self.trace = []
        self.calls = []
        self.resets += 1


@pytest.fixture
def cloud():
    return FakeCloud()


@pytest.fixture
def srv(cloud):
    with Server(cloud, port=0, clock="manual") as s:
        yield s


def admin(srv, method, name, **query):
    url = f"{srv.url}/_copyimage/{name}"
    if query:
        url += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    req = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def raw(srv, method, target, headers=None, body=b""):
    conn = http.client.HTTPConnection(srv.endpoint, timeout=10)
    try:
        conn.request(method, target, body=body, headers=headers or {})
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, dict(resp.getheaders()), (json.loads(data) if data else None)
    finally:
        conn.close()


def assert_error_shape(body, code):
    assert body["Code"] == code
    for field in ("RequestId", "HostId", "Message", "Recommend"):
        assert body[field], field
    assert "HttpStatus" not in body


# ----------------------------------------------------------------- API -------


@pytest.mark.parametrize("signature", ["v3", "rpc"])
@pytest.mark.parametrize("method", ["POST", "GET"])
def test_signed_call_reaches_the_model(srv, cloud, signature, method):
    with EcsClient(srv.endpoint, KEY, SECRET, signature=signature, method=method) as c:
        status, body = c.call("DescribeImages", {"RegionId": "cn-hangzhou", "Tag": [{"Key": "k", "Value": "v w"}], "DryRun": False})
    assert status == 200 and body["Counter"] == 1
    action, params, caller = cloud.calls[0]
    assert action == "DescribeImages" and caller is None
    # protocol parameters are stripped, RegionId stays, lists and booleans as on the wire
    assert params == {"RegionId": "cn-hangzhou", "Tag.1.Key": "k", "Tag.1.Value": "v w", "DryRun": "False"}


def test_ram_key_passes_its_caller(srv, cloud):
    with EcsClient(srv.endpoint, "AKRAM", "ram-secret") as c:
        assert c.call("DescribeRegions")[0] == 200
    assert cloud.calls[-1][2] == "bob"


def test_model_error_status_and_body(srv):
    with EcsClient(srv.endpoint, KEY, SECRET) as c:
        status, body = c.call("DeleteImage", {"RegionId": "cn-hangzhou", "ImageId": "m-1"})
    assert status == 403
    assert_error_shape(body, "OperationDenied.ImageCopying")
    assert body["RequestId"] == "R1" and body["Message"] == "busy"


def test_content_type_and_request_id_header(srv):
    target_q, headers = sign_v3("POST", srv.endpoint, "DescribeRegions", "2014-05-26", {}, KEY, SECRET)
    status, resp_headers, body = raw(srv, "POST", "/", headers)
    assert status == 200
    assert resp_headers["Content-Type"].startswith("application/json")
    assert resp_headers["x-acs-request-id"] == body["RequestId"]


def test_unknown_action_is_the_models_answer(srv, cloud):
    with EcsClient(srv.endpoint, KEY, SECRET) as c:
        status, body = c.call("Unknown")
    assert status == 404 and body["Code"] == "InvalidAction.NotFound"


def test_model_exception_is_internal_error(srv):
    with EcsClient(srv.endpoint, KEY, SECRET) as c:
        status, body = c.call("Boom")
    assert status == 500
    assert_error_shape(body, "InternalError")


def test_wrong_version(srv, cloud):
    _, headers = sign_v3("POST", srv.endpoint, "DescribeRegions", "2016-01-01", {}, KEY, SECRET)
    status, _, body = raw(srv, "POST", "/", headers)
    assert status == 400
    assert_error_shape(body, "InvalidVersion")
    assert cloud.calls == []


def test_missing_action_and_version(srv, cloud):
    status, _, body = raw(srv, "POST", "/?Version=2014-05-26")
    assert (status, body["Code"]) == (400, "MissingAction")
    status, _, body = raw(srv, "POST", "/?Action=DescribeRegions")
    assert (status, body["Code"]) == (400, "MissingVersion")
    assert cloud.calls == []


@pytest.mark.parametrize("signature", ["v3", "rpc"])
def test_auth_failures_change_nothing(srv, cloud, signature):
    with EcsClient(srv.endpoint, KEY, "wrong", signature=signature) as c:
        status, body = c.call("CopyImage", {"RegionId": "cn-hangzhou", "ImageId": "m-1"})
    assert status == 400
    assert_error_shape(body, "SignatureDoesNotMatch")
    with EcsClient(srv.endpoint, "AKNONE", "x", signature=signature) as c:
        status, body = c.call("CopyImage", {"RegionId": "cn-hangzhou", "ImageId": "m-1"})
    assert status == 404
    assert_error_shape(body, "InvalidAccessKeyId.NotFound")
    with EcsClient(srv.endpoint, KEY, SECRET, signature=signature) as c:
        assert c.call("DescribeRegions", nonce="once")[0] == 200
        status, body = c.call("CopyImage", {"ImageId": "m-1"}, nonce="once")
    assert status == 400
    assert_error_shape(body, "SignatureNonceUsed")
    assert [c[0] for c in cloud.calls] == ["DescribeRegions"]


def test_unsigned_request_is_missing_signature(srv, cloud):
    status, _, body = raw(srv, "POST", "/?Action=DescribeRegions&Version=2014-05-26&RegionId=cn-hangzhou")
    assert status == 400
    assert_error_shape(body, "MissingSignature")
    assert cloud.calls == []


def test_other_paths_and_methods(srv):
    status, _, body = raw(srv, "POST", "/somewhere")
    assert status == 404
    assert_error_shape(body, "InvalidApi.NotFound")
    status, _, body = raw(srv, "PUT", "/")
    assert status == 403
    assert_error_shape(body, "UnsupportedHTTPMethod")


def test_malformed_http_gets_json(srv):
    conn = http.client.HTTPConnection(srv.endpoint, timeout=10)
    conn.putrequest("POST", "/")
    conn.putheader("Content-Length", "abc")
    conn.endheaders()
    resp = conn.getresponse()
    body = json.loads(resp.read())
    conn.close()
    assert resp.status == 400 and body["Code"] == "BadRequest"


def test_keep_alive_many_requests_one_connection(srv, cloud):
    with EcsClient(srv.endpoint, KEY, SECRET) as c:
        for _ in range(20):
            assert c.call("DescribeRegions")[0] == 200
        conn = c._conn
    assert conn is not None and len(cloud.calls) == 20


# ----------------------------------------------------------------- admin -----


def test_admin_endpoints(srv, cloud):
    assert admin(srv, "GET", "health")[1]["status"] == "ok"
    status, body = admin(srv, "POST", "advance", seconds="12.5")
    assert status == 200 and body["now"] == 12.5 and cloud.now == 12.5
    assert admin(srv, "POST", "run-until-idle")[1]["now"] == 1012.5
    status, trace = admin(srv, "GET", "trace")
    assert status == 200 and [e["what"] for e in trace] == ["tick", "idle"]
    assert admin(srv, "GET", "trace", since=1)[1] == [trace[1]]
    world = admin(srv, "GET", "world")[1]
    assert world["now"] == 1012.5
    assert world["world"] == {"images": ["m-1", "m-2"], "regions": ["cn-hangzhou"]}
    assert admin(srv, "POST", "reset")[1]["now"] == 0.0 and cloud.resets == 1


def test_admin_errors(srv):
    assert admin(srv, "GET", "advance", seconds="1")[0] == 405
    assert admin(srv, "POST", "advance")[1]["Code"] == "MissingSeconds"
    for bad in ("-1", "nan", "inf", "x"):
        status, body = admin(srv, "POST", "advance", seconds=bad)
        assert status == 400 and body["Code"] == "InvalidSeconds"
    assert admin(srv, "GET", "nothing")[0] == 404


def test_reset_forgets_nonces(srv, cloud):
    with EcsClient(srv.endpoint, KEY, SECRET) as c:
        assert c.call("DescribeRegions", nonce="n")[0] == 200
        admin(srv, "POST", "reset")
        assert c.call("DescribeRegions", nonce="n")[0] == 200


def test_admin_is_loopback_only(cloud):
    assert _is_loopback("127.0.0.1") and _is_loopback("::1") and _is_loopback("::ffff:127.0.0.1")
    assert not _is_loopback("10.0.0.1") and not _is_loopback("bogus")


# ----------------------------------------------------------------- clocks ----


def test_manual_clock_never_moves(srv, cloud):
    with EcsClient(srv.endpoint, KEY, SECRET) as c:
        c.call("DescribeRegions")
        c.call("DescribeRegions")
    assert cloud.now == 0.0


def test_wall_clock_advances_before_each_request(cloud):
    t = [100.0]
    clock = WallClock(speed=60, source=lambda: t[0])
    with Server(cloud, clock=clock) as s, EcsClient(s.endpoint, KEY, SECRET) as c:
        t[0] += 2  # two wall seconds = 120 service seconds
        status, body = c.call("DescribeRegions")
        assert status == 200 and body["Now"] == 120.0
        t[0] += 0.5
        assert c.call("DescribeRegions")[1]["Now"] == 150.0


def test_make_clock():
    assert isinstance(make_clock("manual"), ManualClock)
    assert make_clock(None).speed == 1.0
    assert make_clock(10).speed == 10.0
    assert make_clock("2.5").speed == 2.5
    for bad in ("fast", 0, -1, True):
        with pytest.raises((ValueError, TypeError)):
            make_clock(bad)


# ----------------------------------------------------------------- trace -----


def test_trace_file_records_in_applied_order(cloud, tmp_path):
    path = tmp_path / "trace.jsonl"
    with Server(cloud, clock="manual", trace_file=path) as s:
        with EcsClient(s.endpoint, KEY, SECRET) as c:
            c.call("CopyImage", {"RegionId": "cn-hangzhou", "ImageId": "m-1"})
            c.call("DeleteImage", {"RegionId": "cn-hangzhou", "ImageId": "m-1"})
        with EcsClient(s.endpoint, KEY, "bad") as c:
            c.call("CopyImage", {"ImageId": "m-2"})
        admin(s, "POST", "advance", seconds="5")
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    kinds = [(r["type"], r.get("action") or r.get("op") or r.get("status")) for r in lines]
    assert kinds == [
        ("request", "CopyImage"), ("response", 200),
        ("request", "DeleteImage"), ("response", 403),
        ("request", "CopyImage"), ("response", 400),
        ("admin", "advance"), ("event", None),
    ]
    req = lines[0]
    assert req["params"] == {"RegionId": "cn-hangzhou", "ImageId": "m-1"} and req["caller"] is None
    assert req["auth"] == "ACS3-HMAC-SHA256" and req["seq"] == 1
    assert lines[5]["body"]["Code"] == "SignatureDoesNotMatch" and lines[4]["auth"] is None
    assert lines[7]["event"] == {"kind": "event", "what": "tick", "time": 5.0}
    text = path.read_text()
    assert SECRET not in text and "Signature=" not in text


def test_trace_to_a_text_stream(cloud):
    out = io.StringIO()
    with Server(cloud, trace_file=out) as s, EcsClient(s.endpoint, KEY, SECRET) as c:
        c.call("DescribeRegions")
    assert [json.loads(x)["type"] for x in out.getvalue().splitlines()] == ["request", "response"]


# ----------------------------------------------------------------- atomicity -


def test_concurrent_requests_are_serialised(srv, cloud):
    errors: list[BaseException] = []
    statuses: list[int] = []
    lock = threading.Lock()

    def worker(i):
        try:
            with EcsClient(srv.endpoint, KEY, SECRET, signature="v3" if i % 2 else "rpc") as c:
                for _ in range(25):
                    status, _ = c.call("DescribeRegions")
                    with lock:
                        statuses.append(status)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert statuses == [200] * 200 and len(cloud.calls) == 200
    status, health = admin(srv, "GET", "health")
    assert health["requests"] == 200


def test_stop_closes_keep_alive_connections(cloud):
    s = Server(cloud).start()
    c = EcsClient(s.endpoint, KEY, SECRET)
    assert c.call("DescribeRegions")[0] == 200
    s.stop()
    with pytest.raises(OSError):
        c.call("DescribeRegions")
    c.close()


def test_extra_access_keys(cloud):
    with Server(cloud, access_keys={"AKX": ("sx", "carol")}) as s, EcsClient(s.endpoint, "AKX", "sx") as c:
        assert c.call("DescribeRegions")[0] == 200
    assert cloud.calls[-1][2] == "carol"
