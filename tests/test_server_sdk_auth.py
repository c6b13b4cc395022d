"""Authentication as the official SDKs see it: requests built and signed by the
SDK clients themselves, sent to the server on 127.0.0.1 (fake cloud behind it).

* alibabacloud-ecs20140526 (tea OpenAPI) default mode: V3 ACS3-HMAC-SHA256;
* the same with ``signature_algorithm='v2'``: RPC HMAC-SHA1 query signature;
* aliyun-python-sdk-core's ``CommonRequest``: RPC HMAC-SHA1.
"""

from __future__ import annotations

import json

import pytest

pytest.importorskip("alibabacloud_ecs20140526")
pytest.importorskip("aliyunsdkcore")

from alibabacloud_ecs20140526 import models as ecs_models  # noqa: E402
from alibabacloud_ecs20140526.client import Client as EcsSdkClient  # noqa: E402
from alibabacloud_tea_openapi import utils_models as open_api_models  # noqa: E402
from alibabacloud_tea_openapi.exceptions import ClientException  # noqa: E402
from aliyunsdkcore.acs_exception.exceptions import ServerException  # noqa: E402
from tests.sdk_clients import acs_client, common_request  # noqa: E402
from darabonba.runtime import ExtendsParameters, RuntimeOptions  # noqa: E402

from model.server import Server  # noqa: E402

KEY, SECRET = "AKSDK", "sdk-secret"
MODES = {"v3": None, "v2": "v2"}


class FakeCloud:
    def __init__(self):
        self.now = 0.0
        self.calls: list[tuple[str, dict, str | None]] = []
        self.trace: list = []
        self.world = {}

    def access_keys(self):
        return {KEY: (SECRET, None), "AKRAM": ("ram-secret", "dave")}

    def call(self, action, params, *, caller=None):
        self.calls.append((action, dict(params), caller))
        if action == "DeleteImage":
            return {"Code": "OperationDenied.ImageCopying", "Message": "The image is currently being copied.",
                    "HttpStatus": 403, "RequestId": "DEL-1"}
        if action == "CopyImage":
            return {"RequestId": "CP-1", "ImageId": "m-copy"}
        return {"RequestId": "D-1", "Images": {"Image": [{"ImageId": "m-1", "Status": "Available"}]},
                "TotalCount": 1, "PageNumber": 1, "PageSize": 10, "RegionId": params.get("RegionId")}

    def advance(self, seconds):
        self.now += seconds

    def run_until_idle(self):
        pass

    def reset(self):
        self.calls.clear()


@pytest.fixture
def cloud():
    return FakeCloud()


@pytest.fixture
def srv(cloud):
    with Server(cloud, port=0, clock="manual") as s:
        yield s


def sdk(srv, mode, key=KEY, secret=SECRET):
    return EcsSdkClient(open_api_models.Config(
        access_key_id=key, access_key_secret=secret, endpoint=srv.endpoint, protocol="http",
        region_id="cn-hangzhou", signature_algorithm=MODES[mode]))


def describe(client, runtime=None):
    request = ecs_models.DescribeImagesRequest(region_id="cn-hangzhou")
    return client.describe_images_with_options(request, runtime or RuntimeOptions())


def fixed_nonce_runtime(mode, nonce):
    if mode == "v3":
        return RuntimeOptions(extends_parameters=ExtendsParameters(headers={"x-acs-signature-nonce": nonce}))
    return RuntimeOptions(extends_parameters=ExtendsParameters(queries={"SignatureNonce": nonce}))


@pytest.mark.parametrize("mode", MODES)
def test_correct_request_passes(srv, cloud, mode):
    resp = sdk(srv, mode).copy_image(ecs_models.CopyImageRequest(
        region_id="cn-hangzhou", image_id="m-1", destination_region_id="cn-shanghai",
        destination_image_name="copy of m-1", dry_run=False,
        tag=[ecs_models.CopyImageRequestTag(key="team", value="a b")]))
    assert resp.status_code == 200 and resp.body.image_id == "m-copy"
    action, params, caller = cloud.calls[-1]
    assert (action, caller) == ("CopyImage", None)
    assert params == {"RegionId": "cn-hangzhou", "ImageId": "m-1", "DestinationRegionId": "cn-shanghai",
                      "DestinationImageName": "copy of m-1", "DryRun": "False",
                      "Tag.1.Key": "team", "Tag.1.Value": "a b"}
    resp = describe(sdk(srv, mode))
    assert resp.body.images.image[0].image_id == "m-1"


@pytest.mark.parametrize("mode", MODES)
def test_wrong_secret(srv, cloud, mode):
    with pytest.raises(ClientException) as info:
        describe(sdk(srv, mode, secret="not-the-secret"))
    assert (info.value.code, info.value.status_code) == ("SignatureDoesNotMatch", 400)
    assert cloud.calls == []


@pytest.mark.parametrize("mode", MODES)
def test_unknown_key(srv, cloud, mode):
    with pytest.raises(ClientException) as info:
        describe(sdk(srv, mode, key="LTAI-unknown"))
    assert (info.value.code, info.value.status_code) == ("InvalidAccessKeyId.NotFound", 404)
    assert cloud.calls == []


@pytest.mark.parametrize("mode", MODES)
def test_replayed_nonce(srv, cloud, mode):
    client = sdk(srv, mode)
    describe(client, fixed_nonce_runtime(mode, "nonce-42"))
    with pytest.raises(ClientException) as info:
        describe(client, fixed_nonce_runtime(mode, "nonce-42"))
    assert (info.value.code, info.value.status_code) == ("SignatureNonceUsed", 400)
    assert len(cloud.calls) == 1


@pytest.mark.parametrize("mode", MODES)
def test_missing_signature(srv, cloud, mode):
    """An anonymous call through the SDK's generic call_api carries no signature."""
    params = open_api_models.Params(
        action="DescribeImages", version="2014-05-26", protocol="HTTP", pathname="/", method="POST",
        auth_type="Anonymous", style="RPC", req_body_type="formData", body_type="json")
    request = open_api_models.OpenApiRequest(query={"RegionId": "cn-hangzhou"})
    with pytest.raises(ClientException) as info:
        sdk(srv, mode).call_api(params, request, RuntimeOptions())
    assert (info.value.code, info.value.status_code) == ("MissingSignature", 400)
    assert cloud.calls == []


@pytest.mark.parametrize("mode", MODES)
def test_model_error_reaches_the_sdk(srv, mode):
    with pytest.raises(ClientException) as info:
        sdk(srv, mode).delete_image(ecs_models.DeleteImageRequest(region_id="cn-hangzhou", image_id="m-1"))
    err = info.value
    assert (err.code, err.status_code) == ("OperationDenied.ImageCopying", 403)
    assert err.request_id == "DEL-1"
    assert err.data["HostId"] == srv.endpoint and "HttpStatus" not in err.data


def test_ram_user_key_passes_caller(srv, cloud):
    describe(sdk(srv, "v3", key="AKRAM", secret="ram-secret"))
    assert cloud.calls[-1][2] == "dave"


# ------------------------------------------------- aliyun-python-sdk-core -----


def acs(srv, key=KEY, secret=SECRET):
    return acs_client(srv, key, secret, "cn-hangzhou")


def test_common_request_passes(srv, cloud):
    body = json.loads(acs(srv).do_action_with_exception(common_request(srv, RegionId="cn-hangzhou", ImageName="x y*")))
    assert body["Images"]["Image"][0]["ImageId"] == "m-1"
    action, params, caller = cloud.calls[-1]
    assert action == "DescribeImages" and params == {"RegionId": "cn-hangzhou", "ImageName": "x y*"}


def test_common_request_form_body(srv, cloud):
    req = common_request(srv, "CopyImage", RegionId="cn-hangzhou")
    req.add_body_params("ImageId", "m-1")
    req.add_body_params("DestinationRegionId", "cn-shanghai")
    body = json.loads(acs(srv).do_action_with_exception(req))
    assert body["ImageId"] == "m-copy"
    assert cloud.calls[-1][1] == {"RegionId": "cn-hangzhou", "ImageId": "m-1", "DestinationRegionId": "cn-shanghai"}


@pytest.mark.parametrize(
    "key,secret,code,status",
    [(KEY, "wrong", "SignatureDoesNotMatch", 400), ("LTAI-unknown", "x", "InvalidAccessKeyId.NotFound", 404)],
)
def test_common_request_auth_errors(srv, cloud, key, secret, code, status):
    with pytest.raises(ServerException) as info:
        acs(srv, key, secret).do_action_with_exception(common_request(srv, RegionId="cn-hangzhou"))
    assert (info.value.get_error_code(), info.value.get_http_status()) == (code, status)
    assert cloud.calls == []


def test_common_request_replayed_nonce(srv, cloud, monkeypatch):
    from aliyunsdkcore.auth.composer import rpc_signature_composer

    monkeypatch.setattr(rpc_signature_composer.helper, "get_uuid", lambda: "fixed-nonce")
    client = acs(srv)
    client.do_action_with_exception(common_request(srv, RegionId="cn-hangzhou"))
    with pytest.raises(ServerException) as info:
        client.do_action_with_exception(common_request(srv, RegionId="cn-hangzhou"))
    assert (info.value.get_error_code(), info.value.get_http_status()) == ("SignatureNonceUsed", 400)
    assert len(cloud.calls) == 1
