"""Clients of the older official SDK (aliyun-python-sdk-core) pointed at a test Server.

Shared by the SDK test files; import it only after ``pytest.importorskip("aliyunsdkcore")``.
"""

from __future__ import annotations

from aliyunsdkcore.client import AcsClient
from aliyunsdkcore.request import CommonRequest


def common_request(srv, action: str = "DescribeImages", **params: str) -> CommonRequest:
    """A CommonRequest for ``action`` on the server's endpoint, parameters in the query (as the SDK sends them)."""
    host, _ = srv.endpoint.rsplit(":", 1)
    req = CommonRequest()
    req.set_domain(host)
    req.set_version("2014-05-26")
    req.set_action_name(action)
    req.set_protocol_type("http")
    req.set_method("POST")
    for k, v in params.items():
        req.add_query_param(k, v)
    return req


def acs_client(srv, key: str, secret: str, region: str = "cn-hangzhou") -> AcsClient:
    """An AcsClient signing with ``key``/``secret`` and talking to the server's port, no retries."""
    return AcsClient(key, secret, region, port=int(srv.endpoint.rsplit(":", 1)[1]), auto_retry=False)
